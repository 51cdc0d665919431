//! securesystemslib ("OLPC") canonical JSON, the encoding TUF signatures
//! cover.

use serde_json::Value;

/// securesystemslib ("OLPC") canonical JSON, the bytes TUF signatures cover:
/// object keys sorted, no whitespace, only `"` and `\` escaped (everything
/// else, newlines included, is raw UTF-8), integers only.
pub(super) fn canonical_json(value: &Value) -> Result<Vec<u8>, String> {
    fn string(s: &str, out: &mut Vec<u8>) {
        out.push(b'"');
        for &b in s.as_bytes() {
            if b == b'"' || b == b'\\' {
                out.push(b'\\');
            }
            out.push(b);
        }
        out.push(b'"');
    }
    fn encode(value: &Value, out: &mut Vec<u8>) -> Result<(), String> {
        match value {
            Value::Null => out.extend_from_slice(b"null"),
            Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Number(n) if n.is_i64() || n.is_u64() => {
                out.extend_from_slice(n.to_string().as_bytes())
            }
            Value::Number(n) => return Err(format!("canonical JSON has no floats ({n})")),
            Value::String(s) => string(s, out),
            Value::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    encode(item, out)?;
                }
                out.push(b']');
            }
            Value::Object(map) => {
                // Byte order of UTF-8 equals code point order.
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                out.push(b'{');
                for (i, (key, item)) in entries.into_iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    string(key, out);
                    out.push(b':');
                    encode(item, out)?;
                }
                out.push(b'}');
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    encode(value, &mut out)?;
    Ok(out)
}
