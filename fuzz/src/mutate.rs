//! Mutations of JSON documents and of raw bytes.
//!
//! [`leaves`] and [`LeafMutation`] enumerate every single-field mutation of
//! a document (the mutation test walks all of them); [`Mutator`] picks them,
//! and byte-level changes, at random for the fuzzer.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;

/// One step of a path into a JSON document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// An object member.
    Key(String),
    /// An array element.
    Index(usize),
}

/// A path from a document's root to one of its values.
pub type Pointer = Vec<Seg>;

/// The path as a JSON pointer with array indexes written `*`
/// (`/verificationMaterial/tlogEntries/*/logIndex`): how allow-lists name
/// fields whatever their position.
pub fn pattern(path: &[Seg]) -> String {
    path.iter()
        .map(|s| match s {
            Seg::Key(k) => format!("/{k}"),
            Seg::Index(_) => "/*".into(),
        })
        .collect()
}

/// Every leaf of `doc`: strings, numbers, booleans, nulls, and empty
/// arrays and objects.
pub fn leaves(doc: &Value) -> Vec<Pointer> {
    fn walk(v: &Value, path: &mut Pointer, out: &mut Vec<Pointer>) {
        match v {
            Value::Object(m) if !m.is_empty() => {
                for (k, child) in m {
                    path.push(Seg::Key(k.clone()));
                    walk(child, path, out);
                    path.pop();
                }
            }
            Value::Array(a) if !a.is_empty() => {
                for (i, child) in a.iter().enumerate() {
                    path.push(Seg::Index(i));
                    walk(child, path, out);
                    path.pop();
                }
            }
            _ => out.push(path.clone()),
        }
    }
    let mut out = Vec::new();
    walk(doc, &mut Vec::new(), &mut out);
    out
}

/// The value at `path`.
pub fn get_mut<'a>(doc: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    path.iter().try_fold(doc, |v, seg| match seg {
        Seg::Key(k) => v.get_mut(k.as_str()),
        Seg::Index(i) => v.get_mut(*i),
    })
}

/// A change to one leaf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeafMutation {
    /// Flip one bit of the bytes a string stands for: of the decoded bytes
    /// of base64, of a hex digit, else of one character of the text.
    FlipByte,
    /// A number (or an integer spelled as a string, as protobuf JSON writes
    /// int64) plus one.
    Increment,
    /// A non-zero number (or integer string) set to zero.
    Zero,
    /// The member or element removed.
    Drop,
    /// A value of another JSON type (an array, or an object for arrays).
    SwapType,
}

impl LeafMutation {
    /// All kinds, in the order they are tried.
    pub const ALL: [LeafMutation; 5] = [
        LeafMutation::FlipByte,
        LeafMutation::Increment,
        LeafMutation::Zero,
        LeafMutation::Drop,
        LeafMutation::SwapType,
    ];

    /// `doc` with this mutation applied at `path`; `None` when it does not
    /// apply there (no number to increment, the root to drop, ...).
    pub fn apply(self, doc: &Value, path: &[Seg]) -> Option<Value> {
        let mut out = doc.clone();
        if self == LeafMutation::Drop {
            let (last, parent) = path.split_last()?;
            match (get_mut(&mut out, parent)?, last) {
                (Value::Object(m), Seg::Key(k)) => {
                    m.remove(k)?;
                }
                (Value::Array(a), Seg::Index(i)) if *i < a.len() => {
                    a.remove(*i);
                }
                _ => return None,
            }
            return Some(out);
        }
        let leaf = get_mut(&mut out, path)?;
        let new = match (self, &*leaf) {
            (LeafMutation::FlipByte, Value::String(s)) => Value::String(flip_text(s)?),
            (LeafMutation::Increment, v) => integer(v)?
                .checked_add(1)
                .map(|n| respell(v, n))
                .unwrap_or_else(|| respell(v, 0)),
            (LeafMutation::Zero, v) => match integer(v)? {
                0 => return None,
                _ => respell(v, 0),
            },
            (LeafMutation::SwapType, Value::Array(_)) => Value::Object(Default::default()),
            (LeafMutation::SwapType, _) => Value::Array(Vec::new()),
            _ => return None,
        };
        *leaf = new;
        Some(out)
    }
}

/// An integer as a number or a decimal string.
fn integer(v: &Value) -> Option<i128> {
    match v {
        Value::Number(n) => n.as_i64().map(i128::from).or(n.as_u64().map(i128::from)),
        Value::String(s) if !s.is_empty() && s.len() < 30 => s.parse().ok(),
        _ => None,
    }
}

/// `n` in the spelling `like` uses.
fn respell(like: &Value, n: i128) -> Value {
    match like {
        Value::String(_) => Value::String(n.to_string()),
        _ => serde_json::from_str(&n.to_string()).unwrap_or(Value::Null),
    }
}

/// `s` with one bit of what it encodes flipped: base64 (that re-encodes
/// to itself) in the middle of its bytes, hex in one digit, text in one
/// character. `None` for the empty string.
pub fn flip_text(s: &str) -> Option<String> {
    if s.is_empty() {
        return None;
    }
    let is_hex = s.len().is_multiple_of(2) && s.bytes().all(|b| b.is_ascii_hexdigit());
    if !is_hex
        && let Ok(mut raw) = B64.decode(s)
        && !raw.is_empty()
        && B64.encode(&raw) == s
    {
        let mid = raw.len() / 2;
        raw[mid] ^= 0x01;
        return Some(B64.encode(raw));
    }
    let mut chars: Vec<char> = s.chars().collect();
    let mid = chars.len() / 2;
    chars[mid] = match chars[mid] {
        '0' => '1',
        c if c.is_ascii_hexdigit() && is_hex => {
            let d = c.to_digit(16).unwrap_or(0) ^ 1;
            char::from_digit(d, 16).unwrap_or('0')
        }
        c if c.is_ascii_lowercase() => c.to_ascii_uppercase(),
        c if c.is_ascii_uppercase() => c.to_ascii_lowercase(),
        '_' => '-',
        _ => 'x',
    };
    Some(chars.into_iter().collect())
}

/// A small deterministic PRNG (SplitMix64): a run is reproduced by its seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// True once in `n` times.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
}

/// Values that hit edges: sizes, signs, empty and huge things, other types.
const INTERESTING: &[&str] = &[
    "0",
    "-1",
    "1",
    "18446744073709551615",
    "18446744073709551616",
    "9223372036854775807",
    "-9223372036854775808",
    "1e308",
    "0.5",
    "\"\"",
    "\"AA==\"",
    "\"=\"",
    "\"sha2_256\"",
    "\"SHA2_256\"",
    "\"hashedrekord\"",
    "\"0.0.2\"",
    "\"\\u0000\"",
    "\"\\u001b[2J\"",
    "null",
    "true",
    "[]",
    "{}",
    "[[[[[[[[]]]]]]]]",
];

/// Random mutations for the fuzzer: structural ones on JSON (also inside
/// base64 that holds JSON, as entry bodies and DSSE payloads do), and
/// byte-level ones on anything.
#[derive(Debug)]
pub struct Mutator {
    /// The random source.
    pub rng: Rng,
}

impl Mutator {
    /// A mutator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: Rng::new(seed),
        }
    }

    /// A mutant of `input`, with 1 to 4 stacked changes; `other` is
    /// another corpus entry to splice from.
    pub fn mutate(&mut self, input: &[u8], other: &[u8]) -> Vec<u8> {
        let mut data = input.to_vec();
        for _ in 0..1 + self.rng.below(4) {
            data = match serde_json::from_slice::<Value>(&data) {
                Ok(doc) if !self.rng.one_in(4) => {
                    let doc = self.mutate_json(doc, 0);
                    serde_json::to_vec(&doc).unwrap_or(data)
                }
                _ => self.mutate_bytes(data, other),
            };
        }
        data
    }

    fn mutate_json(&mut self, doc: Value, depth: usize) -> Value {
        let paths = leaves(&doc);
        if paths.is_empty() {
            return doc;
        }
        let path = &paths[self.rng.below(paths.len())];
        let mut out = doc.clone();
        let Some(leaf) = get_mut(&mut out, path) else {
            return doc;
        };
        match self.rng.below(8) {
            // base64 holding JSON: mutate inside and re-encode.
            0 if depth < 2 => {
                if let Some(inner) = leaf
                    .as_str()
                    .and_then(|s| B64.decode(s).ok())
                    .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                {
                    let inner = self.mutate_json(inner, depth + 1);
                    *leaf = Value::String(B64.encode(inner.to_string()));
                    return out;
                }
            }
            1 => {
                let v = INTERESTING[self.rng.below(INTERESTING.len())];
                *leaf = serde_json::from_str(v).unwrap_or(Value::Null);
                return out;
            }
            2 => {
                // An unknown member next to the leaf.
                if let Some((_, parent)) = path.split_last()
                    && let Some(Value::Object(m)) = get_mut(&mut out, parent)
                {
                    m.insert(format!("unknown{}", self.rng.below(3)), Value::Bool(true));
                    return out;
                }
            }
            3 => {
                // Duplicate an array element (repeated evidence).
                if let Some((_, parent)) = path.split_last()
                    && let Some(Value::Array(a)) = get_mut(&mut out, parent)
                    && !a.is_empty()
                {
                    let e = a[self.rng.below(a.len())].clone();
                    a.push(e);
                    return out;
                }
            }
            _ => {}
        }
        let kind = LeafMutation::ALL[self.rng.below(LeafMutation::ALL.len())];
        kind.apply(&doc, path).unwrap_or(doc)
    }

    fn mutate_bytes(&mut self, mut data: Vec<u8>, other: &[u8]) -> Vec<u8> {
        let len = data.len();
        match self.rng.below(6) {
            0 if len > 0 => {
                let i = self.rng.below(len);
                data[i] ^= 1 << self.rng.below(8);
            }
            1 if len > 0 => {
                let i = self.rng.below(len);
                data[i] = [0, 0xff, b'"', b'{', b'}', b'\\', b'=', b'\n'][self.rng.below(8)];
            }
            2 if len > 0 => {
                let start = self.rng.below(len);
                let end = (start + 1 + self.rng.below(16)).min(len);
                data.drain(start..end);
            }
            3 => {
                let at = self.rng.below(len + 1);
                let v = INTERESTING[self.rng.below(INTERESTING.len())];
                data.splice(at..at, v.bytes());
            }
            4 if !other.is_empty() => {
                // Splice: a prefix of this input, a suffix of the other.
                let at = self.rng.below(len + 1);
                let from = self.rng.below(other.len());
                data.truncate(at);
                data.extend_from_slice(&other[from..]);
            }
            _ => {
                let at = self.rng.below(len + 1);
                data.truncate(at);
            }
        }
        data
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_leaf_is_found_with_its_pattern() {
        let doc = json!({"a": {"b": ["x", "y"], "c": 1}, "d": [], "e": {}});
        let found: Vec<String> = leaves(&doc).iter().map(|p| pattern(p)).collect();
        assert_eq!(found, ["/a/b/*", "/a/b/*", "/a/c", "/d", "/e"]);
    }

    #[test]
    fn mutations_change_what_they_apply_to() {
        let doc = json!({"n": "41", "m": 7, "s": "AQID", "h": "0a0b", "t": "sha256"});
        let at = |k: &str| vec![Seg::Key(k.into())];
        let get = |v: Option<Value>, k: &str| v.unwrap()[k].clone();
        assert_eq!(
            get(LeafMutation::Increment.apply(&doc, &at("n")), "n"),
            "42"
        );
        assert_eq!(get(LeafMutation::Zero.apply(&doc, &at("m")), "m"), 0);
        assert_eq!(
            get(LeafMutation::FlipByte.apply(&doc, &at("s")), "s"),
            "AQMD"
        );
        assert_eq!(
            get(LeafMutation::FlipByte.apply(&doc, &at("h")), "h"),
            "0a1b"
        );
        assert_eq!(
            get(LeafMutation::FlipByte.apply(&doc, &at("t")), "t"),
            "shax56"
        );
        let dropped = LeafMutation::Drop.apply(&doc, &at("t")).unwrap();
        assert!(dropped.get("t").is_none());
        assert_eq!(LeafMutation::Increment.apply(&doc, &at("t")), None);
        assert_eq!(LeafMutation::Drop.apply(&doc, &[]), None);
        assert_eq!(
            get(LeafMutation::SwapType.apply(&doc, &at("m")), "m"),
            json!([])
        );
    }

    #[test]
    fn the_mutator_is_reproducible_from_its_seed() {
        let input = br#"{"a": ["AQID", 3], "b": "text"}"#;
        let run = |seed| {
            let mut m = Mutator::new(seed);
            (0..50).map(|_| m.mutate(input, b"{}")).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }
}
