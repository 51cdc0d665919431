//! RFC 3161 timestamp tokens as bundles carry them: their CMS SignedData,
//! and the certificates they embed.
//!
//! sigstore-tsa 0.15.1 verifies a token with the trusted TSA's own
//! certificates and ignores the ones the token embeds, so a token whose
//! embedded certificate was corrupted or swapped still verifies.
//! sigstore-go refuses such a token ("certificate embedded in the TSR does
//! not match the provided TSA certificate"), and so does sigstore-python:
//! keyless does not count it either.

use der::{Decode, Encode};

/// An RFC 3161 TimeStampResp, which bundles carry as often as the bare
/// token it wraps (sigstore-tsa reads both).
#[derive(der::Sequence)]
struct TimeStampResp {
    status: der::Any,
    token: Option<cms::content_info::ContentInfo>,
}

/// The CMS SignedData of a timestamp token, bare or in its TimeStampResp.
pub(super) fn signed_data(token: &[u8]) -> Option<cms::signed_data::SignedData> {
    use cms::content_info::ContentInfo;
    let info = ContentInfo::from_der(token)
        .ok()
        .or_else(|| TimeStampResp::from_der(token).ok()?.token)?;
    info.content.decode_as().ok()
}

/// Why the certificates `token` embeds are not all certificates of
/// `authority` (byte for byte), if they are not. A token that embeds none
/// is fine: the trusted TSA's certificates are used anyway.
pub(super) fn foreign_embedded_certificate(
    token: &[u8],
    authority: &sigstore_tsa::TsaAuthority,
) -> Option<String> {
    use cms::cert::CertificateChoices;
    let Some(signed) = signed_data(token) else {
        return Some("the timestamp's CMS SignedData does not parse".into());
    };
    let trusted: Vec<&[u8]> = std::iter::once(authority.leaf.as_bytes())
        .chain(authority.intermediates.iter().map(|c| c.as_bytes()))
        .chain(std::iter::once(authority.root.as_bytes()))
        .collect();
    for choice in signed.certificates.iter().flat_map(|set| set.0.iter()) {
        let CertificateChoices::Certificate(cert) = choice else {
            return Some("the timestamp embeds a certificate of another format".into());
        };
        let der = cert.to_der().ok()?;
        if !trusted.contains(&der.as_slice()) {
            return Some(
                "a certificate embedded in the timestamp is not one of the trusted TSA's (corrupted or swapped)"
                    .into(),
            );
        }
    }
    None
}

/// Whether some certificate `token` embeds is foreign to one of
/// `authorities` at least. Where several TSAs are trusted, a token that
/// embeds another TSA's certificate than its signer's is foreign to its
/// signer, and this cannot tell which TSA signed it: such tokens go to the
/// check that finds out (see `Verifier::without_unverifiable_timestamps`).
pub(super) fn foreign_to_some_authority(
    token: &[u8],
    authorities: &[sigstore_tsa::TsaAuthority],
) -> bool {
    authorities
        .iter()
        .any(|authority| foreign_embedded_certificate(token, authority).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sigstore_trust_root::SigstoreInstance;
    use sigstore_types::Bundle;

    /// The staging Rekor v2 vector's timestamp, and one whose embedded TSA
    /// certificate has one bit flipped in its signature.
    fn tokens() -> (Bundle, Vec<u8>, Vec<u8>) {
        let path = format!(
            "{}/../../testdata/vectors/sigstore-python/staging-rekor-v2.txt.sigstore.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let bundle = Bundle::from_json(&std::fs::read_to_string(path).unwrap()).unwrap();
        let token = bundle
            .verification_material
            .timestamp_verification_data
            .rfc3161_timestamps[0]
            .signed_timestamp
            .as_bytes()
            .to_vec();
        let signed = signed_data(&token).unwrap();
        let cms::cert::CertificateChoices::Certificate(cert) =
            &signed.certificates.as_ref().unwrap().0.as_slice()[0]
        else {
            panic!("no embedded certificate");
        };
        let der = cert.to_der().unwrap();
        let at = token
            .windows(der.len())
            .position(|w| w == der.as_slice())
            .unwrap();
        let mut corrupted = token.clone();
        corrupted[at + der.len() - 5] ^= 1;
        (bundle, token, corrupted)
    }

    #[test]
    fn a_token_embedding_a_corrupted_tsa_certificate_is_foreign() {
        let (_, token, corrupted) = tokens();
        let root = SigstoreInstance::Staging.embedded_trusted_root().unwrap();
        let authorities = root.tsa_authorities();
        // The genuine token embeds its TSA's certificate.
        assert!(
            authorities
                .iter()
                .any(|a| foreign_embedded_certificate(&token, a).is_none())
        );
        for a in &authorities {
            let reason = foreign_embedded_certificate(&corrupted, a).unwrap();
            assert!(reason.contains("not one of the trusted TSA's"), "{reason}");
        }
    }

    /// Staging trusts two TSAs. The genuine token with its embedded
    /// certificate swapped for the other TSA's still verifies for its
    /// signer (the signature covers only the signed attributes), and is
    /// foreign to its signer though not to the other TSA: it must not pass
    /// as embedding only trusted certificates.
    #[test]
    fn a_token_embedding_another_trusted_tsas_certificate_is_foreign_to_its_signer() {
        use cms::cert::CertificateChoices;
        let (bundle, token, _) = tokens();
        let root = SigstoreInstance::Staging.embedded_trusted_root().unwrap();
        let authorities = root.tsa_authorities();
        assert_eq!(authorities.len(), 2);
        let signature = match &bundle.content {
            sigstore_types::SignatureContent::MessageSignature(m) => m.signature.clone(),
            _ => panic!("a message signature bundle"),
        };
        let verifies = |token: &[u8], a: &sigstore_tsa::TsaAuthority| {
            let token = sigstore_types::TimestampToken::new(token.to_vec());
            sigstore_tsa::verify_timestamp_for_authority(&token, &signature, a).is_ok()
        };
        let signer = authorities
            .iter()
            .position(|a| verifies(&token, a))
            .unwrap();
        let other = &authorities[1 - signer];
        assert_ne!(other.leaf.as_bytes(), authorities[signer].leaf.as_bytes());

        let mut signed = signed_data(&token).unwrap();
        let swapped = x509_cert::Certificate::from_der(other.leaf.as_bytes()).unwrap();
        let set =
            der::asn1::SetOfVec::try_from(vec![CertificateChoices::Certificate(swapped)]).unwrap();
        signed.certificates = Some(cms::signed_data::CertificateSet(set));
        let swapped_token = cms::content_info::ContentInfo {
            content_type: signed_data_oid(&token),
            content: der::Any::encode_from(&signed).unwrap(),
        }
        .to_der()
        .unwrap();

        assert!(verifies(&swapped_token, &authorities[signer]));
        assert!(foreign_embedded_certificate(&swapped_token, &authorities[signer]).is_some());
        assert!(foreign_embedded_certificate(&swapped_token, other).is_none());
        assert!(foreign_to_some_authority(&swapped_token, &authorities));
        assert!(!foreign_to_some_authority(
            &token,
            &authorities[signer..=signer]
        ));
    }

    /// The content type of `token`'s ContentInfo (signedData).
    fn signed_data_oid(token: &[u8]) -> der::asn1::ObjectIdentifier {
        cms::content_info::ContentInfo::from_der(token)
            .map(|info| info.content_type)
            .or_else(|_| TimeStampResp::from_der(token).map(|r| r.token.unwrap().content_type))
            .unwrap()
    }

    /// The upstream defect this module works around: sigstore-tsa 0.15.1
    /// verifies the corrupted token, since it never looks at the
    /// certificates a token embeds.
    #[test]
    fn sigstore_tsa_accepts_a_corrupted_embedded_certificate() {
        let (bundle, _, corrupted) = tokens();
        let root = SigstoreInstance::Staging.embedded_trusted_root().unwrap();
        let signature = match &bundle.content {
            sigstore_types::SignatureContent::MessageSignature(m) => m.signature.clone(),
            _ => panic!("a message signature bundle"),
        };
        let token = sigstore_types::TimestampToken::new(corrupted);
        assert!(root.tsa_authorities().iter().any(|a| {
            sigstore_tsa::verify_timestamp_for_authority(&token, &signature, a).is_ok()
        }));
    }
}
