//! Every string in an entry body, found by one iterative pass over its JSON
//! text: no recursion (a body nested 10,000 deep neither overflows the
//! stack nor is left unread) and no limit on its size or count of values
//! (the log's answer is already capped). serde_json's parser stops at 128
//! levels, and a body that could not be walked whole would be an entry
//! anyone could make "unreadable" for a monitor, so the walk is ours; each
//! string is still decoded by serde_json.

/// Where a string sits: the member name it is the value of (`None` in an
/// array), and the member name of the object or array holding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Place<'a> {
    pub key: Option<&'a str>,
    pub parent: Option<&'a str>,
}

/// What the walk expects next.
#[derive(Clone, Copy)]
enum Want {
    Value,
    /// Right after `[`.
    ValueOrEnd,
    /// Right after `{`.
    KeyOrEnd,
    Key,
    Colon,
    CommaOrEnd,
}

/// Call `visit` for every string value of the JSON document `body` (object
/// member names are not visited). `Err` says why it is not a JSON object.
pub(super) fn strings(body: &[u8], mut visit: impl FnMut(Place, &str)) -> Result<(), String> {
    // Per open object or array: whether it is an object, and the member
    // name it is the value of.
    let mut stack: Vec<(bool, Option<String>)> = Vec::new();
    let mut key: Option<String> = None;
    let mut want = Want::Value;
    let mut root_is_object = None;
    let mut i = 0;
    let not_json =
        |what: &str, at: usize| Err(format!("the body is not JSON: {what} at byte {at}"));
    loop {
        while i < body.len() && matches!(body[i], b' ' | b'\t' | b'\n' | b'\r') {
            i += 1;
        }
        let Some(&b) = body.get(i) else {
            if stack.is_empty() && matches!(want, Want::CommaOrEnd) {
                break;
            }
            return not_json("it ends early", i);
        };
        match want {
            Want::Value | Want::ValueOrEnd => {
                if matches!(want, Want::ValueOrEnd) && b == b']' {
                    stack.pop();
                    want = Want::CommaOrEnd;
                    i += 1;
                    continue;
                }
                root_is_object.get_or_insert(b == b'{');
                match b {
                    b'{' | b'[' => {
                        stack.push((b == b'{', key.take()));
                        want = if b == b'{' {
                            Want::KeyOrEnd
                        } else {
                            Want::ValueOrEnd
                        };
                        i += 1;
                        continue;
                    }
                    b'"' => {
                        let (s, next) = string(body, i)?;
                        let place = Place {
                            key: key.as_deref(),
                            parent: stack.last().and_then(|(_, k)| k.as_deref()),
                        };
                        visit(place, &s);
                        i = next;
                    }
                    _ => {
                        let end = body[i..]
                            .iter()
                            .position(|c| b",]} \t\r\n".contains(c))
                            .map_or(body.len(), |n| i + n);
                        if !scalar(&body[i..end]) {
                            return not_json("an unexpected value", i);
                        }
                        i = end;
                    }
                }
                key = None;
                want = Want::CommaOrEnd;
            }
            Want::KeyOrEnd | Want::Key => {
                if matches!(want, Want::KeyOrEnd) && b == b'}' {
                    stack.pop();
                    want = Want::CommaOrEnd;
                    i += 1;
                } else if b == b'"' {
                    let (s, next) = string(body, i)?;
                    key = Some(s);
                    want = Want::Colon;
                    i = next;
                } else {
                    return not_json("a member name expected", i);
                }
            }
            Want::Colon => {
                if b != b':' {
                    return not_json("':' expected", i);
                }
                want = Want::Value;
                i += 1;
            }
            Want::CommaOrEnd => {
                let Some(&(object, _)) = stack.last() else {
                    return not_json("trailing characters", i);
                };
                match (b, object) {
                    (b',', true) => want = Want::Key,
                    (b',', false) => want = Want::Value,
                    (b'}', true) | (b']', false) => {
                        stack.pop();
                    }
                    _ => return not_json("',' or the end of an object or array expected", i),
                }
                i += 1;
            }
        }
    }
    if root_is_object != Some(true) {
        return Err("the body is not a JSON object".into());
    }
    Ok(())
}

/// The JSON string starting at `body[at]` (a `"`), decoded by serde_json,
/// and the index after it.
fn string(body: &[u8], at: usize) -> Result<(String, usize), String> {
    let mut j = at + 1;
    while j < body.len() {
        match body[j] {
            b'"' => {
                let s = serde_json::from_slice::<String>(&body[at..=j])
                    .map_err(|e| format!("the body is not JSON: a string at byte {at}: {e}"))?;
                return Ok((s, j + 1));
            }
            b'\\' => j += 2,
            _ => j += 1,
        }
    }
    Err(format!(
        "the body is not JSON: a string at byte {at} does not end"
    ))
}

/// A JSON number, `true`, `false` or `null`.
fn scalar(token: &[u8]) -> bool {
    if matches!(token, b"true" | b"false" | b"null") {
        return true;
    }
    // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
    let digits = |t: &[u8]| t.iter().take_while(|c| c.is_ascii_digit()).count();
    let mut t = token.strip_prefix(b"-").unwrap_or(token);
    let n = digits(t);
    if n == 0 || (n > 1 && t[0] == b'0') {
        return false;
    }
    t = &t[n..];
    if let Some(rest) = t.strip_prefix(b".") {
        let n = digits(rest);
        if n == 0 {
            return false;
        }
        t = &rest[n..];
    }
    if let Some(rest) = t.strip_prefix(b"e").or_else(|| t.strip_prefix(b"E")) {
        let rest = rest
            .strip_prefix(b"+")
            .or_else(|| rest.strip_prefix(b"-"))
            .unwrap_or(rest);
        let n = digits(rest);
        if n == 0 {
            return false;
        }
        t = &rest[n..];
    }
    t.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A string found: its key, its parent's key, itself.
    type Seen = (Option<String>, Option<String>, String);

    fn all(body: &str) -> Result<Vec<Seen>, String> {
        let mut out = Vec::new();
        strings(body.as_bytes(), |p, s| {
            out.push((
                p.key.map(str::to_owned),
                p.parent.map(str::to_owned),
                s.to_owned(),
            ))
        })?;
        Ok(out)
    }

    #[test]
    fn every_string_is_found_with_its_place() {
        let found = all(r#"{"a": "x", "b": [1, -2.5e+3, true, null, "y\n"], "c": {"d": "z"}, "e": {}, "f": []}"#).unwrap();
        let s = |k: Option<&str>, p: Option<&str>, v: &str| {
            (k.map(str::to_owned), p.map(str::to_owned), v.to_owned())
        };
        assert_eq!(
            found,
            [
                s(Some("a"), None, "x"),
                s(None, Some("b"), "y\n"),
                s(Some("d"), Some("c"), "z"),
            ]
        );
    }

    /// What serde_json refuses is refused too (never read as something
    /// else); what it accepts is accepted.
    #[test]
    fn the_walk_agrees_with_serde_json() {
        for body in [
            "",
            "{",
            "{\"a\"}",
            "{\"a\" 1}",
            "{\"a\": 1,}",
            "[1,]",
            "{} {}",
            "{\"a\": 01}",
            "{\"a\": 1.}",
            "{\"a\": .5}",
            "{\"a\": tru}",
            "{\"a\": \"\\x\"}",
            "{\"a\": \"\u{1}\"}",
            "{\"a\": \"x",
            "{\"a\": [}",
            "{'a': 1}",
            "{\"a\": 1e}",
            "{\"a\": -}",
        ] {
            assert!(
                serde_json::from_str::<serde_json::Value>(body).is_err(),
                "{body:?}"
            );
            let e = all(body).unwrap_err();
            assert!(e.starts_with("the body is not JSON"), "{body:?}: {e}");
        }
        for body in [
            "{}",
            " {\"a\" : [ [ ] , { } , 0 , -0.0E-0 , \"\\u00e9\" ] } ",
        ] {
            assert!(
                serde_json::from_str::<serde_json::Value>(body).is_ok(),
                "{body:?}"
            );
            all(body).unwrap();
        }
        for body in ["[]", "\"x\"", "1", "null"] {
            assert_eq!(all(body).unwrap_err(), "the body is not a JSON object");
        }
    }
}
