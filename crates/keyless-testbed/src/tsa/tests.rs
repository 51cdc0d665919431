//! Tests of the TSA: its tokens verify with sigstore-tsa, and bad requests
//! are errors, never panics.

use super::*;
use aws_lc_rs::digest::digest;
use proptest::prelude::*;
use sigstore_types::{SignatureBytes, TimestampToken, TsaAuthority};

const SIGNATURE: &[u8] = b"the artifact signature bytes";

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn tsa() -> TimestampAuthority {
    TimestampAuthority::generate(ts("2024-01-01T00:00:00Z"))
}

/// The authority a verifier derives from a trusted root listing `tsa`,
/// going through the same JSON and splitting code as real roots.
fn authority_for(tsa: &TimestampAuthority) -> TsaAuthority {
    let certificates: Vec<_> = tsa
        .chain_der()
        .iter()
        .map(|der| serde_json::json!({ "rawBytes": B64.encode(der) }))
        .collect();
    let root = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "timestampAuthorities": [{
            "subject": { "organization": "keyless-testbed", "commonName": "keyless-testbed TSA" },
            "uri": "http://127.0.0.1/api/v1/timestamp",
            "certChain": { "certificates": certificates },
            "validFor": { "start": "2024-01-01T00:00:00Z" }
        }]
    });
    let root = sigstore_trust_root::TrustedRoot::from_json(&root.to_string()).unwrap();
    let mut authorities = root.tsa_authorities();
    assert_eq!(authorities.len(), 1);
    authorities.remove(0)
}

fn verify(
    response: &[u8],
    signature: &[u8],
    authority: &TsaAuthority,
) -> sigstore_tsa::Result<Timestamp> {
    sigstore_tsa::verify_timestamp_for_authority(
        &TimestampToken::new(response.to_vec()),
        &SignatureBytes::new(signature.to_vec()),
        authority,
    )
}

fn signed_data(response: &[u8]) -> SignedData {
    let token = ContentInfo::from_der(&token_from_response(response).unwrap()).unwrap();
    token.content.decode_as().unwrap()
}

fn tst_info(response: &[u8]) -> TstInfo {
    let econtent = signed_data(response).encap_content_info.econtent.unwrap();
    TstInfo::from_der(econtent.decode_as::<OctetString>().unwrap().as_bytes()).unwrap()
}

#[test]
fn token_verifies_with_sigstore_and_carries_now() {
    let tsa = tsa();
    let authority = authority_for(&tsa);
    let now = ts("2025-03-04T05:06:07Z");
    let request = build_request(SIGNATURE, Some(0x8000_0000_0000_0001), true);
    let response = tsa.respond(&request, now, 42).unwrap();

    // Both forms a bundle might hold: the whole response (what
    // Sigstore clients store) and the bare token.
    assert_eq!(verify(&response, SIGNATURE, &authority).unwrap(), now);
    let token = token_from_response(&response).unwrap();
    assert_eq!(verify(&token, SIGNATURE, &authority).unwrap(), now);

    let info = tst_info(&response);
    assert_eq!(info.policy, SIGSTORE_TSA_POLICY);
    assert_eq!(info.serial_number, uint(&42u128.to_be_bytes()));
    assert_eq!(
        info.nonce,
        Some(uint(&0x8000_0000_0000_0001u64.to_be_bytes()))
    );
    assert_eq!(signed_data(&response).certificates.unwrap().0.len(), 3);
}

#[test]
fn gen_time_drops_sub_seconds() {
    let tsa = tsa();
    let request = build_request(SIGNATURE, None, false);
    let response = tsa
        .respond(&request, ts("2025-03-04T05:06:07.999Z"), 1)
        .unwrap();
    let time = verify(&response, SIGNATURE, &authority_for(&tsa)).unwrap();
    assert_eq!(time, ts("2025-03-04T05:06:07Z"));
    assert_eq!(tst_info(&response).nonce, None);
}

#[test]
fn cert_req_false_embeds_no_certificates_and_still_verifies() {
    let tsa = tsa();
    let request = build_request(SIGNATURE, Some(7), false);
    let response = tsa
        .respond(&request, ts("2025-01-01T00:00:00Z"), 1)
        .unwrap();
    assert!(signed_data(&response).certificates.is_none());
    verify(&response, SIGNATURE, &authority_for(&tsa)).unwrap();
}

#[test]
fn requested_policy_is_honoured() {
    let policy = ObjectIdentifier::new_unwrap("1.2.3.4.5");
    let mut request = TimeStampReq::from_der(&build_request(SIGNATURE, None, true)).unwrap();
    request.req_policy = Some(policy);
    let response = tsa()
        .respond(&request.to_der().unwrap(), ts("2025-01-01T00:00:00Z"), 1)
        .unwrap();
    assert_eq!(tst_info(&response).policy, policy);
}

#[test]
fn token_fails_for_another_message_another_tsa_or_tampering() {
    let tsa = tsa();
    let request = build_request(SIGNATURE, Some(1), true);
    let response = tsa
        .respond(&request, ts("2025-01-01T00:00:00Z"), 1)
        .unwrap();
    let authority = authority_for(&tsa);
    verify(&response, SIGNATURE, &authority).unwrap();

    let err = verify(&response, b"another signature", &authority).unwrap_err();
    assert!(
        matches!(err, sigstore_tsa::Error::HashMismatch { .. }),
        "{err}"
    );

    // Same subject names, different keys: only the keys tell them apart.
    let other = TimestampAuthority::generate(ts("2024-01-01T00:00:00Z"));
    let err = verify(&response, SIGNATURE, &authority_for(&other)).unwrap_err();
    assert!(
        matches!(err, sigstore_tsa::Error::SignatureVerificationError(_)),
        "{err}"
    );

    // The response ends with the ECDSA signature's s value.
    let mut tampered = response.clone();
    *tampered.last_mut().unwrap() ^= 1;
    let err = verify(&tampered, SIGNATURE, &authority).unwrap_err();
    assert!(
        matches!(err, sigstore_tsa::Error::SignatureVerificationError(_)),
        "{err}"
    );
}

#[test]
fn signing_certificate_v2_names_the_leaf() {
    let tsa = tsa();
    let request = build_request(SIGNATURE, None, true);
    let response = tsa
        .respond(&request, ts("2025-01-01T00:00:00Z"), 1)
        .unwrap();
    let signer = signed_data(&response)
        .signer_infos
        .0
        .get(0)
        .unwrap()
        .clone();
    let attribute = signer
        .signed_attrs
        .unwrap()
        .iter()
        .find(|a| a.oid == rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2)
        .unwrap()
        .clone();
    let value: SigningCertificateV2 = attribute.values.get(0).unwrap().decode_as().unwrap();
    let leaf = &tsa.chain_der()[0];
    assert_eq!(value.certs[0].cert_hash.as_bytes(), sha256(leaf));
    let leaf = Certificate::from_der(leaf).unwrap();
    assert_eq!(
        value.certs[0].issuer_serial.serial_number,
        leaf.tbs_certificate.serial_number
    );
}

#[test]
fn leaf_has_only_a_critical_timestamping_eku() {
    let tsa = tsa();
    let leaf = Certificate::from_der(&tsa.chain_der()[0]).unwrap();
    let extensions = leaf.tbs_certificate.extensions.unwrap();
    let ekus: Vec<_> = extensions
        .iter()
        .filter(|e| e.extn_id == const_oid::db::rfc5912::ID_CE_EXT_KEY_USAGE)
        .collect();
    assert_eq!(ekus.len(), 1);
    assert!(ekus[0].critical);
    let eku =
        x509_cert::ext::pkix::ExtendedKeyUsage::from_der(ekus[0].extn_value.as_bytes()).unwrap();
    assert_eq!(eku.0, vec![rfc5280::ID_KP_TIME_STAMPING]);
    assert_eq!(tsa.chain_pem().matches("BEGIN CERTIFICATE").count(), 3);
}

#[test]
fn malformed_requests_are_errors() {
    let tsa = tsa();
    let now = ts("2025-01-01T00:00:00Z");
    let valid = build_request(SIGNATURE, Some(99), true);
    tsa.respond(&valid, now, 1).unwrap();

    for (name, bytes) in [
        ("empty", Vec::new()),
        ("garbage", b"not DER at all".to_vec()),
        ("truncated", valid[..valid.len() - 1].to_vec()),
        ("trailing data", [valid.as_slice(), &[0]].concat()),
    ] {
        let err = tsa.respond(&bytes, now, 1).unwrap_err();
        assert!(
            matches!(err, TsaError::MalformedRequest(_)),
            "{name}: {err}"
        );
    }

    let request = TimeStampReq::from_der(&valid).unwrap();

    let mut sha1 = request.clone();
    sha1.message_imprint.hash_algorithm.oid = rfc5912::ID_SHA_1;
    let err = tsa.respond(&sha1.to_der().unwrap(), now, 1).unwrap_err();
    assert!(
        matches!(err, TsaError::UnsupportedHashAlgorithm(_)),
        "{err}"
    );

    let mut short = request.clone();
    short.message_imprint.hashed_message = OctetString::new(vec![0; 31]).unwrap();
    let err = tsa.respond(&short.to_der().unwrap(), now, 1).unwrap_err();
    assert!(matches!(err, TsaError::DigestLength { .. }), "{err}");

    let mut v2 = request.clone();
    v2.version = 2;
    let err = tsa.respond(&v2.to_der().unwrap(), now, 1).unwrap_err();
    assert!(matches!(err, TsaError::UnsupportedVersion(2)), "{err}");

    let mut with_extension = request.clone();
    with_extension.extensions = Some(vec![x509_cert::ext::Extension {
        extn_id: ObjectIdentifier::new_unwrap("1.2.3.4"),
        critical: false,
        extn_value: OctetString::new(vec![5, 0]).unwrap(),
    }]);
    let err = tsa
        .respond(&with_extension.to_der().unwrap(), now, 1)
        .unwrap_err();
    assert!(matches!(err, TsaError::UnacceptedExtension(_)), "{err}");

    let err = tsa
        .respond(&valid, ts("1969-12-31T23:59:59Z"), 1)
        .unwrap_err();
    assert!(matches!(err, TsaError::TimeOutOfRange(..)), "{err}");

    assert!(matches!(
        token_from_response(b"garbage"),
        Err(TsaError::MalformedResponse(_))
    ));
}

#[test]
fn sha384_and_sha512_imprints_are_accepted() {
    let tsa = tsa();
    let authority = authority_for(&tsa);
    for (oid, alg) in [
        (rfc5912::ID_SHA_384, &aws_lc_rs::digest::SHA384),
        (rfc5912::ID_SHA_512, &aws_lc_rs::digest::SHA512),
    ] {
        let mut request = TimeStampReq::from_der(&build_request(SIGNATURE, None, true)).unwrap();
        request.message_imprint = MessageImprint {
            hash_algorithm: AlgorithmIdentifierOwned {
                oid,
                parameters: None,
            },
            hashed_message: OctetString::new(digest(alg, SIGNATURE).as_ref()).unwrap(),
        };
        let response = tsa
            .respond(&request.to_der().unwrap(), ts("2025-01-01T00:00:00Z"), 1)
            .unwrap();
        verify(&response, SIGNATURE, &authority).unwrap();
    }
}

#[test]
fn stored_form_keeps_chain_and_key() {
    let tsa = tsa();
    let json = serde_json::to_string(&tsa.to_stored()).unwrap();
    let again = TimestampAuthority::from_stored(&serde_json::from_str(&json).unwrap()).unwrap();
    assert_eq!(again.chain_der(), tsa.chain_der());
    assert_eq!(again.chain_pem(), tsa.chain_pem());

    // The restored key signs tokens the original's chain accepts.
    let request = build_request(SIGNATURE, None, true);
    let response = again
        .respond(&request, ts("2025-01-01T00:00:00Z"), 1)
        .unwrap();
    verify(&response, SIGNATURE, &authority_for(&tsa)).unwrap();

    // A key the leaf does not certify is refused, not silently used.
    let mut mismatched = tsa.to_stored();
    mismatched.key = TimestampAuthority::generate(Timestamp::UNIX_EPOCH)
        .to_stored()
        .key;
    let err = TimestampAuthority::from_stored(&mismatched).unwrap_err();
    assert!(err.contains("does not certify"), "{err}");
    let mut short = tsa.to_stored();
    short.chain.pop();
    TimestampAuthority::from_stored(&short).unwrap_err();
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let tsa = tsa_for_proptest();
        let _ = tsa.respond(&bytes, ts("2025-01-01T00:00:00Z"), 1);
        let _ = token_from_response(&bytes);
    }

    #[test]
    fn mutated_requests_never_panic(index in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<prop::sample::Index>()) {
        let tsa = tsa_for_proptest();
        let mut request = build_request(SIGNATURE, Some(3), true);
        let i = index.index(request.len());
        request[i] = byte;
        request.truncate(cut.index(request.len()) + 1);
        let _ = tsa.respond(&request, ts("2025-01-01T00:00:00Z"), 1);
    }
}

/// One authority for all proptest cases: generating three keys and
/// certificates per case would dominate the run time.
fn tsa_for_proptest() -> &'static TimestampAuthority {
    static TSA: std::sync::OnceLock<TimestampAuthority> = std::sync::OnceLock::new();
    TSA.get_or_init(tsa)
}
