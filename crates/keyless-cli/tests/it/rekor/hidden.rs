//! `keyless rekor monitor --identity`: a certificate in a watched name is
//! found however a (compromised) log holds it in an entry that Go verifiers
//! (sigstore-go, cosign, Rekor's own DecodeEntry) would read: with a key
//! sigstore-crypto cannot use (P-521, which Fulcio issues on request), and
//! in every encoding of the same body they accept. Never a run that exits 0
//! without it.

use super::scan::raw_post;
use super::start;
use crate::common::read_json;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD};

const WATCHED: &str = "https://gitlab.com/keyless-demo/hidden//.gitlab-ci.yml@refs/heads/main";

/// A certificate for [`WATCHED`] with a key of `alg`, DER (self-signed: the
/// scan reads what the log holds, it does not validate a chain).
fn certificate(alg: &'static rcgen::SignatureAlgorithm) -> Vec<u8> {
    let key = rcgen::KeyPair::generate_for(alg).unwrap();
    let mut params = rcgen::CertificateParams::default();
    params.subject_alt_names = vec![rcgen::SanType::URI(WATCHED.try_into().unwrap())];
    params.self_signed(&key).unwrap().der().to_vec()
}

fn pem_of(der: &[u8]) -> String {
    let b64 = B64.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

/// A Rekor v1 hashedrekord body whose key is `content`.
fn v1_body(content: &str) -> Vec<u8> {
    serde_json::json!({"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
        "data": {"hash": {"algorithm": "sha256", "value": "00".repeat(32)}},
        "signature": {"content": "AAAA", "publicKey": {"content": content}}}})
    .to_string()
    .into_bytes()
}

/// Log `bodies` as sent on the Rekor `version` log, then run the monitor
/// watching [`WATCHED`] from a state made just before: which of `bodies`
/// (by name) were not matched, and the run.
fn missed(version: u8, bodies: &[(&str, Vec<u8>)]) -> (Vec<String>, super::Reply) {
    let log = start();
    let state = log.path("hidden.json");
    let v = version.to_string();
    let watch = ["--rekor-version", &v, "--identity", WATCHED];
    log.monitor(&state, &watch).assert_status(0, "initialized");
    let first = read_json(&state)["next_index"].as_u64().unwrap();
    log.fault(&format!("rekor-v{version}=log-as-sent"));
    for (_, body) in bodies {
        let path = format!("/api/v{version}/log/entries");
        assert_eq!(raw_post(log.tb.url(), &path, body), 201);
    }
    log.tb.clear_faults();
    let r = log.monitor(&state, &watch);
    let matched: Vec<u64> = r.json["scan"]["matches"]
        .as_array()
        .unwrap_or_else(|| panic!("no scan: {}", r.stdout))
        .iter()
        .map(|m| m["log_index"].as_u64().unwrap())
        .collect();
    let missed = (first..)
        .zip(bodies)
        .filter(|(i, _)| !matched.contains(i))
        .map(|(_, (name, _))| name.to_string())
        .collect();
    (missed, r)
}

/// A P-521 certificate for the watched identity is a MATCH: its SAN is read
/// straight from the X.509 structure, whatever the key (sigstore-crypto
/// refuses the whole certificate, and the entry was only "unreadable").
#[test]
fn a_watched_certificate_with_a_p521_key_is_a_match() {
    let cert = certificate(&rcgen::PKCS_ECDSA_P521_SHA512);
    assert!(
        sigstore_crypto::parse_certificate_info(&sigstore_types::DerCertificate::new(cert.clone()))
            .is_err(),
        "the test needs a key sigstore-crypto does not parse"
    );
    let (missed, r) = missed(1, &[("P-521", v1_body(&B64.encode(pem_of(&cert))))]);
    assert!(missed.is_empty(), "missed {missed:?}: {}", r.stdout);
    r.assert_status(0, "grew");
    assert_eq!(r.json["scan"]["unreadable"], serde_json::json!([]));
}

/// The watched certificate hidden in each encoding of a body Go verifiers
/// accept is still a MATCH, on Rekor v1 and v2.
#[test]
fn a_watched_certificate_is_found_in_every_encoding_go_verifiers_accept() {
    let cert = certificate(&rcgen::PKCS_ECDSA_P256_SHA256);
    let pem = pem_of(&cert);
    let b64 = B64.encode(&pem);
    let wrapped = |sep: &str| {
        b64.as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(sep)
    };
    // "??>" encodes as "Pz8+": URL-safe, "Pz8-".
    let url_safe = URL_SAFE_NO_PAD.encode(format!("??>{pem}"));
    assert!(url_safe.contains('-'), "{url_safe}");
    // A length that is no multiple of 3 is padded in standard base64.
    let odd = if pem.len().is_multiple_of(3) {
        format!("{pem}\n")
    } else {
        pem.clone()
    };
    let padded = B64.encode(&odd);
    let unpadded = padded.trim_end_matches('=');
    assert_ne!(unpadded, padded);
    let v1 = [
        ("line breaks", v1_body(&wrapped("\n"))),
        ("CRLF", v1_body(&wrapped("\r\n"))),
        (
            "text before",
            v1_body(&B64.encode(format!("chain:\n{pem}"))),
        ),
        ("URL-safe", v1_body(&url_safe)),
        ("unpadded", v1_body(unpadded)),
    ];
    let (missed_v1, r) = missed(1, &v1);
    assert!(
        missed_v1.is_empty(),
        "v1 missed {missed_v1:?}: {}",
        r.stdout
    );
    r.assert_status(0, "grew");

    let v2 = [(
        "protojson snake_case",
        serde_json::json!({"apiVersion": "0.0.2", "kind": "hashedrekord", "spec": {
            "hashed_rekord_v002": {"data": {"algorithm": "SHA2_256", "digest": B64.encode([0u8; 32])},
            "signature": {"content": "AAAA", "verifier": {
                "x509_certificate": {"raw_bytes": B64.encode(&cert)},
                "key_details": "PKIX_ECDSA_P256_SHA_256"}}}}})
        .to_string()
        .into_bytes(),
    )];
    let (missed_v2, r) = missed(2, &v2);
    assert!(
        missed_v2.is_empty(),
        "v2 missed {missed_v2:?}: {}",
        r.stdout
    );
    r.assert_status(0, "grew");
}

/// The log's strings on a MATCH (the body's kind and version, the digest's
/// algorithm and hex, the certificate's SAN and what matched) reach the
/// terminal escaped: a line break in them cannot start a line of the log's
/// choosing (a forged "OK" under the MATCH).
#[test]
fn a_match_shows_the_logs_strings_escaped() {
    let log = start();
    let state = log.path("escaped.json");
    let san = "https://gitlab.com/keyless-demo/hidden//x\nOK forged san";
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::default();
    params.subject_alt_names = vec![rcgen::SanType::URI(san.try_into().unwrap())];
    let cert = params.self_signed(&key).unwrap().der().to_vec();
    let body = serde_json::json!({"apiVersion": "1\nOK forged version", "kind": "x\nOK forged kind",
        "spec": {"data": {"hash": {"algorithm": "sha256\nOK forged algorithm", "value": "ab\nOK forged hex"}},
        "k": B64.encode(pem_of(&cert))}});
    let watch = ["--gitlab-project", "keyless-demo/hidden"];
    log.monitor(&state, &watch).assert_status(0, "initialized");
    log.fault("rekor-v1=log-as-sent");
    let posted = raw_post(
        log.tb.url(),
        "/api/v1/log/entries",
        body.to_string().as_bytes(),
    );
    assert_eq!(posted, 201);
    log.tb.clear_faults();
    let r = log.monitor_as(&state, &watch, false);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.contains("\nMATCH #"), "{}", r.stdout);
    // (The hex is shown lowercase.)
    let shown = r.stdout.to_ascii_lowercase();
    for forged in ["kind", "version", "algorithm", "hex", "san"] {
        assert!(
            shown.contains(&format!("\\nok forged {forged}")),
            "{forged} not shown escaped: {}",
            r.stdout
        );
    }
    assert!(!shown.contains("\nok forged"), "{}", r.stdout);
}

/// A certificate that names the watched identity in its second SAN (after
/// an email) is a MATCH: cosign accepts it for `--certificate-identity`
/// (any SAN), and sigstore-go reads the URI before any email.
#[test]
fn a_watched_identity_in_a_second_san_is_a_match() {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::default();
    params.subject_alt_names = vec![
        rcgen::SanType::Rfc822Name("someone@example.com".try_into().unwrap()),
        rcgen::SanType::URI(WATCHED.try_into().unwrap()),
    ];
    let cert = params.self_signed(&key).unwrap().der().to_vec();
    let (missed, r) = missed(1, &[("second SAN", v1_body(&B64.encode(pem_of(&cert))))]);
    assert!(missed.is_empty(), "missed {missed:?}: {}", r.stdout);
    let shown = &r.json["scan"]["matches"][0]["certificate"];
    assert_eq!(shown["identity"], "someone@example.com", "{shown}");
    assert_eq!(shown["other_identities"], serde_json::json!([WATCHED]));
}
