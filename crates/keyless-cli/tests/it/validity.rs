//! Validity windows of trusted keys in `keyless verify`: the testbed signs,
//! then its trust root retires a key (`validFor.end`), as Sigstore does for
//! a retired or compromised key. Material the key signed before its
//! retirement still verifies; material it signed after fails, at the step
//! that owns it. The time each window is compared with: an RFC 3161 token's
//! own time for its TSA, the integrated time for a SET's log key, the
//! signing time for a checkpoint's log key.

use crate::common::bed::{Bed, GITLAB, MAIN_SAN};
use crate::common::verify_identity;
use keyless_testbed::{JwsAlg, TrustedKey};
use serde_json::Value;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// Sign `name` (unique contents) with `keyless sign` under `trust`, with
/// Rekor v1 or v2 (and a TSA token either way); its path.
fn sign(bed: &Bed, trust: &Path, name: &str, v2: bool) -> PathBuf {
    let file = bed.write(name, format!("{name}: signed before any key was retired"));
    let token = bed.gitlab_token(JwsAlg::RS256);
    let version = if v2 { "2" } else { "1" };
    bed.keyless_sign(
        &token,
        trust,
        &[
            file.as_os_str(),
            "--rekor-version".as_ref(),
            version.as_ref(),
        ],
    )
    .assert_code(0);
    file
}

/// `keyless verify` of `file` with its bundle under `trust`: exit code and
/// the file's result.
fn verify(file: &Path, trust: &Path) -> (i32, Value) {
    let bundle = PathBuf::from(format!("{}.sigstore.json", file.display()));
    let args: [&OsStr; 3] = [file.as_os_str(), "--bundle".as_ref(), bundle.as_os_str()];
    let (code, report) = verify_identity(&args, Some(trust), MAIN_SAN, GITLAB);
    (code, report["results"][0].clone())
}

fn assert_fails_at(file: &Path, trust: &Path, step: &str, what: &str) -> Value {
    let (code, result) = verify(file, trust);
    assert_eq!(
        (code, result["failed_step"].as_str()),
        (1, Some(step)),
        "{what}: {result:#}"
    );
    result
}

fn assert_verifies(file: &Path, trust: &Path, what: &str) {
    let (code, result) = verify(file, trust);
    assert_eq!(code, 0, "{what}: {result:#}");
}

/// TOB-SIGSTORE-11: an authentic token that the TSA signed after the trust
/// root ended its window fails the whole bundle, even one that a SET
/// alone would let verify: a trusted TSA misbehaved (or its key leaked).
#[test]
fn a_timestamp_from_a_retired_tsa_fails_the_bundle() {
    let bed = Bed::start();
    let v1 = bed.tb.trust_config_path();
    let v2 = bed.tb.trust_config_v2_path();
    let with_set = sign(&bed, &v1, "with-set.tar.gz", false);
    let tsa_only = sign(&bed, &v2, "tsa-only.tar.gz", true);
    let bundle = crate::common::read_json(&bed.path("with-set.tar.gz.sigstore.json"));
    let material = &bundle["verificationMaterial"];
    assert!(
        material["tlogEntries"][0]["inclusionPromise"].is_object()
            && material["timestampVerificationData"]["rfc3161Timestamps"][0].is_object(),
        "a Rekor v1 bundle with a SET and a TSA token: {bundle:#}"
    );

    // Retired after the tokens were signed: they still count.
    bed.retire(&[TrustedKey::Tsa], jiff::Timestamp::now());
    assert_verifies(&with_set, &v1, "TSA retired after signing (SET)");
    assert_verifies(&tsa_only, &v2, "TSA retired after signing (TSA only)");

    // Retired before: the token is authentic but out of its TSA's window.
    bed.retire(&[TrustedKey::Tsa], bed.before_signing());
    let r = assert_fails_at(&with_set, &v1, "timestamp", "TSA retired, with a SET");
    assert!(
        r["reason"].as_str().unwrap().contains("outside"),
        "the reason names the window: {r:#}"
    );
    assert_fails_at(&tsa_only, &v2, "timestamp", "TSA retired, no SET");
}

/// A log key retired before the signature was made cannot vouch for its
/// entry: a Rekor v1 entry's SET (its key checked at the signed integrated
/// time), and a Rekor v2 entry's checkpoint (no SET: its key checked at the
/// signing time the TSA proves). A key retired after the entry was logged
/// still vouches for it (historical material).
#[test]
fn a_log_key_retired_before_the_signing_time_fails_the_bundle() {
    let bed = Bed::start();
    let v1 = bed.tb.trust_config_path();
    let v2 = bed.tb.trust_config_v2_path();
    let on_v1 = sign(&bed, &v1, "v1.tar.gz", false);
    let on_v2 = sign(&bed, &v2, "v2.tar.gz", true);

    bed.retire(
        &[TrustedKey::RekorV1, TrustedKey::RekorV2],
        jiff::Timestamp::now(),
    );
    assert_verifies(&on_v1, &v1, "Rekor v1 key retired after logging");
    assert_verifies(&on_v2, &v2, "Rekor v2 key retired after logging");

    bed.retire(&[TrustedKey::RekorV1], bed.before_signing());
    assert_fails_at(&on_v1, &v1, "SET", "Rekor v1 key retired before");
    assert_verifies(&on_v2, &v2, "only the Rekor v1 key is retired");

    bed.retire(&[TrustedKey::RekorV2], bed.before_signing());
    let r = assert_fails_at(&on_v2, &v2, "checkpoint", "Rekor v2 key retired before");
    assert!(r["reason"].as_str().unwrap().contains("retired"), "{r:#}");
    assert_verifies(&on_v1, &v1, "only the Rekor v2 key is retired");
}

/// The certificate's issuers: a Fulcio CA, or a CT log, retired before the
/// certificate was issued fails it (sigstore-verify's checks, pinned).
#[test]
fn a_certificate_from_a_retired_fulcio_or_ct_log_fails() {
    let bed = Bed::start();
    let v1 = bed.tb.trust_config_path();
    let file = sign(&bed, &v1, "pkg.tar.gz", false);

    bed.retire(
        &[TrustedKey::Fulcio, TrustedKey::CtLog],
        jiff::Timestamp::now(),
    );
    assert_verifies(&file, &v1, "Fulcio and CT log retired after issuance");
    bed.retire(&[TrustedKey::Fulcio], bed.before_signing());
    assert_fails_at(&file, &v1, "certificate", "Fulcio retired before");
    bed.retire(&[TrustedKey::CtLog], bed.before_signing());
    assert_fails_at(&file, &v1, "SCT", "CT log retired before");
}
