//! PyPI's legacy upload API (`POST /legacy/`), as `twine upload
//! --attestations` uses it: a `multipart/form-data` body with `:action`
//! `file_upload`, `protocol_version` 1, the metadata fields (`name`,
//! `version`, `filetype`, `sha256_digest`, ...), the file as `content`, and
//! `attestations`, a JSON array of PEP 740 attestation objects.
//!
//! The checks are PyPI's (warehouse `forklift/legacy.py`), each a 400 with
//! PyPI's kind of message: the file name must be a distribution of `name`
//! at `version`; `sha256_digest`, when sent, must be the file's; a file
//! name is accepted once (PyPI never lets a file be replaced, so a consumer
//! cannot be served other bytes under a name it pinned); each attestation
//! must be a publish statement with one subject naming this file and its
//! SHA-256, and all must name one publisher. PyPI also verifies their
//! signatures against the Trusted Publisher; the stand-in leaves that to
//! the consumer under test (it serves what a lax or compromised index
//! could serve).
//!
//! Credentials: HTTP basic auth with user `__token__` and a non-empty
//! password (an API token), as twine sends it. Any value: this stands in
//! for the API, not for its access control. The token is never logged or
//! echoed.

use super::Pypi;
use super::store::{parse_filename, sha256_hex};
use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;

/// One form field.
pub(super) struct Part {
    pub(super) name: String,
    pub(super) filename: Option<String>,
    pub(super) data: Vec<u8>,
}

/// At most this many fields (twine sends about 30).
const MAX_PARTS: usize = 256;

/// Split a `multipart/form-data` body into its fields.
pub(super) fn parse_multipart(content_type: &str, body: &[u8]) -> Result<Vec<Part>, String> {
    let (mime, params) = content_type.split_once(';').unwrap_or((content_type, ""));
    if !mime.trim().eq_ignore_ascii_case("multipart/form-data") {
        return Err(format!("content type is {mime:?}, not multipart/form-data"));
    }
    let boundary = params
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| k.eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v.trim_matches('"'))
        .filter(|b| !b.is_empty())
        .ok_or("multipart body without a boundary")?;
    let delimiter = format!("--{boundary}").into_bytes();
    let mut rest = body;
    // The preamble, up to the first delimiter.
    let start = find(rest, &delimiter).ok_or("no multipart delimiter")?;
    rest = &rest[start + delimiter.len()..];
    let next = [b"\r\n".as_slice(), &delimiter].concat();
    let mut parts = Vec::new();
    loop {
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        rest = rest
            .strip_prefix(b"\r\n")
            .ok_or("malformed multipart delimiter line")?;
        if parts.len() == MAX_PARTS {
            return Err(format!("more than {MAX_PARTS} fields"));
        }
        let head_end = find(rest, b"\r\n\r\n").ok_or("multipart part without headers")?;
        let head =
            std::str::from_utf8(&rest[..head_end]).map_err(|_| "part headers are not UTF-8")?;
        let body_start = head_end + 4;
        let len = find(&rest[body_start..], &next).ok_or("unterminated multipart part")?;
        parts.push(part(head, rest[body_start..body_start + len].to_vec())?);
        rest = &rest[body_start + len + next.len()..];
    }
}

fn part(head: &str, data: Vec<u8>) -> Result<Part, String> {
    let disposition = head
        .split("\r\n")
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-disposition"))
        .map(|(_, v)| v)
        .ok_or("part without Content-Disposition")?;
    let param = |key: &str| {
        disposition
            .split(';')
            .filter_map(|p| p.trim().split_once('='))
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.trim_matches('"').to_string())
    };
    Ok(Part {
        name: param("name").ok_or("part without a name")?,
        filename: param("filename"),
        data,
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Whether the request carries an API token the way twine sends one.
pub(super) fn has_token(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| B64.decode(b).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .is_some_and(|pair| {
            pair.split_once(':')
                .is_some_and(|(user, token)| user == "__token__" && !token.is_empty())
        })
}

/// An upload's outcome: the status and PyPI's kind of message.
pub(super) type Outcome = (StatusCode, String);

fn bad(message: impl Into<String>) -> Outcome {
    (StatusCode::BAD_REQUEST, message.into())
}

/// Check and store one upload.
pub(super) fn upload(pypi: &Pypi, parts: Vec<Part>) -> Outcome {
    let field = |name: &str| {
        parts
            .iter()
            .find(|p| p.name == name && p.filename.is_none())
            .map(|p| String::from_utf8_lossy(&p.data).into_owned())
    };
    if field(":action").as_deref() != Some("file_upload") {
        return bad("Invalid value for :action: only file_upload is supported");
    }
    if field("protocol_version").as_deref() != Some("1") {
        return bad("Unknown protocol version.");
    }
    let (Some(name), Some(version)) = (field("name"), field("version")) else {
        return bad("'name' and 'version' are required.");
    };
    let Some(content) = parts.iter().find(|p| p.name == "content") else {
        return bad("Upload payload does not have a file.");
    };
    let Some(filename) = content.filename.clone() else {
        return bad("Upload payload does not have a file name.");
    };
    match parse_filename(&filename) {
        Some((project, v)) if project == super::store::normalize(&name) && v == version => {}
        _ => {
            return bad(format!(
                "Invalid filename: start with the project name and version, and end in .whl or .tar.gz ({filename:?})"
            ));
        }
    }
    let sha256 = sha256_hex(&content.data);
    if let Some(claimed) = field("sha256_digest")
        && !claimed.eq_ignore_ascii_case(&sha256)
    {
        return bad(
            "The digest supplied does not match a digest calculated from the uploaded file.",
        );
    }
    if pypi.store.exists(&filename) {
        return bad(format!(
            "File already exists ({filename}). See https://pypi.org/help/#file-name-reuse"
        ));
    }
    let provenance = match field("attestations") {
        None => None,
        Some(text) => match attestations_provenance(&text, &filename, &sha256) {
            Ok(p) => Some(p),
            Err(e) => return bad(format!("Invalid attestations supplied during upload: {e}")),
        },
    };
    let stored = pypi.store.put(
        &filename,
        &content.data,
        provenance
            .as_ref()
            .map(|p| p.to_string().into_bytes())
            .as_deref(),
    );
    match stored {
        Ok(()) => (StatusCode::OK, "OK".into()),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

/// The provenance for `filename` from the `attestations` field: each a
/// publish attestation for exactly this file.
pub(crate) fn attestations_provenance(
    text: &str,
    filename: &str,
    sha256: &str,
) -> Result<Value, String> {
    let list: Vec<Value> =
        serde_json::from_str(text).map_err(|e| format!("not a JSON array: {e}"))?;
    if list.is_empty() {
        return Err("an empty list".into());
    }
    for a in &list {
        check_publish_attestation(a, filename, sha256)?;
    }
    super::publisher::provenance(&list)
}

/// A PEP 740 publish attestation for `filename` with this SHA-256: the
/// statement a DSSE envelope signs must bind the file, or the index would
/// hand out provenance for other bytes under this name.
pub(crate) fn check_publish_attestation(
    a: &Value,
    filename: &str,
    sha256: &str,
) -> Result<(), String> {
    if a["version"] != 1 {
        return Err("attestation version is not 1".into());
    }
    let statement = a["envelope"]["statement"]
        .as_str()
        .and_then(|s| B64.decode(s).ok())
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .ok_or("the envelope's statement is not base64 JSON")?;
    if statement["_type"] != keyless::attestation::STATEMENT_TYPE {
        return Err("not an in-toto Statement v1".into());
    }
    if statement["predicateType"] != keyless::attestation::PUBLISH_PREDICATE_TYPE {
        return Err("unknown predicate type".into());
    }
    let subjects = statement["subject"].as_array().map(Vec::as_slice);
    let Some([subject]) = subjects else {
        return Err("a statement must have exactly one subject".into());
    };
    if subject["name"] != filename {
        return Err("subject does not match distribution name".into());
    }
    if subject["digest"]["sha256"].as_str() != Some(sha256) {
        return Err("subject does not match distribution digest".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_fields_and_files() {
        let body = b"--B\r\nContent-Disposition: form-data; name=\":action\"\r\n\r\nfile_upload\r\n--B\r\nContent-Disposition: form-data; name=\"content\"; filename=\"a-1.tar.gz\"\r\nContent-Type: application/octet-stream\r\n\r\nx\r\n-B\r\ny\r\n--B--\r\n";
        let parts = parse_multipart("multipart/form-data; boundary=B", body).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, ":action");
        assert_eq!(parts[0].data, b"file_upload");
        assert_eq!(parts[1].filename.as_deref(), Some("a-1.tar.gz"));
        assert_eq!(parts[1].data, b"x\r\n-B\r\ny");
        assert!(parse_multipart("application/json", body).is_err());
        assert!(parse_multipart("multipart/form-data; boundary=B", b"--B\r\nno end").is_err());
    }

    /// PEP 740's binding, as PyPI checks it: one subject, this file's name
    /// and digest, the publish predicate. A second subject would let one
    /// attestation vouch for other files.
    #[test]
    fn a_publish_attestation_binds_one_file() {
        let sha = "ab".repeat(32);
        let att = |subjects: serde_json::Value, predicate: &str| {
            let statement = serde_json::json!({
                "_type": keyless::attestation::STATEMENT_TYPE,
                "subject": subjects,
                "predicateType": predicate,
                "predicate": null,
            });
            serde_json::json!({"version": 1, "envelope": {
                "statement": B64.encode(statement.to_string()), "signature": ""}})
        };
        let one = |name: &str, digest: &str| serde_json::json!({"name": name, "digest": {"sha256": digest}});
        let publish = keyless::attestation::PUBLISH_PREDICATE_TYPE;
        let check = |a| check_publish_attestation(&a, "a-1.tar.gz", &sha);
        assert_eq!(
            check(att(serde_json::json!([one("a-1.tar.gz", &sha)]), publish)),
            Ok(())
        );
        let two = serde_json::json!([one("a-1.tar.gz", &sha), one("b-1.tar.gz", &sha)]);
        assert_eq!(
            check(att(two, publish)),
            Err("a statement must have exactly one subject".into())
        );
        assert_eq!(
            check(att(
                serde_json::json!([one("a-1.tar.gz", &sha)]),
                "https://slsa.dev/provenance/v1"
            )),
            Err("unknown predicate type".into())
        );
    }

    #[test]
    fn only_a_token_as_twine_sends_it() {
        let with = |pair: &str| {
            let mut h = HeaderMap::new();
            let v = format!("Basic {}", B64.encode(pair));
            h.insert(header::AUTHORIZATION, v.parse().unwrap());
            h
        };
        assert!(has_token(&with("__token__:pypi-xyz")));
        assert!(!has_token(&with("__token__:")));
        assert!(!has_token(&with("someone:pw")));
        assert!(!has_token(&HeaderMap::new()));
    }
}
