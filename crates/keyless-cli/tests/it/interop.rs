//! Interop with the reference clients: cosign 3.x, sigstore-go 1.x and
//! sigstore-python 4.5.1. For Rekor v1, and for Rekor v2 with a TSA, each
//! signs against the testbed exactly as its users would (signing config and
//! trusted root files) and keyless verifies the bundle; each verifies, offline
//! with the testbed's trust root, what keyless signed. PEP 740 attestations
//! both ways with pypi-attestations.
//!
//! `.ci/run` installs the peers (see [`crate::common::peers`]).

use crate::common::bed::{Bed, GITLAB, TAG_SAN, tag_v1_0};
use crate::common::peers::{
    go_peer, python_with_pypi_attestations, run_peer, sigstore_python, sigstore_python_verify,
};
use crate::common::{keyless, keyless_with_token, read_json, verify_identity};
use keyless_testbed::JwsAlg;
use std::path::{Path, PathBuf};
use std::process::Command;

/// An identity no test signs as.
pub(crate) const EVIL_SAN: &str = "https://gitlab.com/evil/x//.gitlab-ci.yml@refs/tags/v1.0";

/// The two deployments every peer is tried against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rekor {
    /// Rekor v1 (SETs, integrated times), like public-good production.
    V1,
    /// Rekor v2 (tlog-tiles checkpoints, no SET) with an RFC 3161 TSA.
    V2,
}

impl Rekor {
    pub(crate) fn version(self) -> &'static str {
        match self {
            Rekor::V1 => "1",
            Rekor::V2 => "2",
        }
    }

    pub(crate) fn trust_config(self) -> &'static str {
        match self {
            Rekor::V1 => "trust_config.json",
            Rekor::V2 => "trust_config_v2.json",
        }
    }

    pub(crate) fn signing_config(self) -> &'static str {
        match self {
            Rekor::V1 => "signing_config.json",
            Rekor::V2 => "signing_config_v2.json",
        }
    }
}

/// A client keyless must interoperate with.
#[derive(Debug, Clone, Copy)]
enum Peer {
    Cosign,
    SigstoreGo,
    SigstorePython,
}

/// A Go peer as a process, its state (`~/.sigstore`) kept in the test's folder.
pub(crate) fn go_command(bed: &Bed, name: &str) -> Command {
    let mut cmd = Command::new(go_peer(name));
    cmd.env("HOME", bed.path(""));
    cmd
}

impl Peer {
    /// Sign `artifact` as the peer's users do, as the holder of `token`;
    /// the bundle is `<artifact>.sigstore.json`.
    fn sign(self, bed: &Bed, rekor: Rekor, token: &str, artifact: &Path) -> PathBuf {
        let bundle = PathBuf::from(format!("{}.sigstore.json", artifact.display()));
        let signing_config = bed.state_file(rekor.signing_config());
        let trusted_root = bed.tb.trusted_root_path();
        let (ok, out) = match self {
            Peer::Cosign => run_peer(
                go_command(bed, "cosign")
                    .args(["sign-blob", "--yes", "--identity-token", token])
                    .arg("--signing-config")
                    .arg(&signing_config)
                    .arg("--trusted-root")
                    .arg(&trusted_root)
                    .arg("--bundle")
                    .arg(&bundle)
                    .arg(artifact),
            ),
            Peer::SigstoreGo => {
                let mut cmd = go_command(bed, "sigstore-go-signing");
                cmd.args(["-id-token", token, "-rekor"])
                    .arg("-signing-config")
                    .arg(&signing_config)
                    .arg("-trusted-root")
                    .arg(&trusted_root);
                if rekor == Rekor::V2 {
                    cmd.arg("-tsa");
                }
                let (ok, out) = run_peer(cmd.arg(artifact));
                // The example prints its key, then the bundle on one line.
                if ok {
                    let json = out.lines().rev().find(|l| l.starts_with('{'));
                    std::fs::write(&bundle, json.unwrap_or_else(|| panic!("no bundle:\n{out}")))
                        .unwrap();
                }
                (ok, out)
            }
            Peer::SigstorePython => run_peer(
                Command::new(sigstore_python())
                    .arg("--trust-config")
                    .arg(bed.state_file(rekor.trust_config()))
                    .args(["sign", "--rekor-version", rekor.version()])
                    .args(["--identity-token", token])
                    .arg(artifact),
            ),
        };
        assert!(
            ok,
            "{self:?} sign (Rekor v{}) failed:\n{out}",
            rekor.version()
        );
        assert!(bundle.is_file(), "{self:?} wrote no bundle:\n{out}");
        bundle
    }

    /// Verify `artifact` and `<artifact>.sigstore.json` offline with the
    /// testbed's trust root for `identity` (issued by GitLab.com):
    /// (accepted, output).
    fn verify(self, bed: &Bed, rekor: Rekor, artifact: &Path, identity: &str) -> (bool, String) {
        let bundle = PathBuf::from(format!("{}.sigstore.json", artifact.display()));
        let trusted_root = bed.tb.trusted_root_path();
        match self {
            Peer::Cosign => run_peer(
                go_command(bed, "cosign")
                    .arg("verify-blob")
                    .arg("--bundle")
                    .arg(&bundle)
                    .arg("--trusted-root")
                    .arg(&trusted_root)
                    .args(["--certificate-identity", identity])
                    .args(["--certificate-oidc-issuer", GITLAB])
                    .arg(artifact),
            ),
            Peer::SigstoreGo => run_peer(
                go_command(bed, "sigstore-go-verification")
                    .arg("-trustedrootJSONpath")
                    .arg(&trusted_root)
                    .arg("-artifact")
                    .arg(artifact)
                    .args(["-expectedIssuer", GITLAB, "-expectedSAN", identity])
                    .arg(&bundle),
            ),
            Peer::SigstorePython => sigstore_python_verify(
                &bed.state_file(rekor.trust_config()),
                std::slice::from_ref(&artifact.to_path_buf()),
                identity,
                GITLAB,
            ),
        }
    }
}

/// The log index of a bundle's (first) entry; protobuf JSON leaves out a 0.
fn log_index(bundle: &Path) -> u64 {
    let b = read_json(bundle);
    let entry = &b["verificationMaterial"]["tlogEntries"][0];
    entry["logIndex"].as_str().map_or(0, |i| i.parse().unwrap())
}

/// `peer` against the testbed, both ways, for Rekor v1 and for Rekor v2 + TSA.
fn interoperate(peer: Peer) {
    let bed = Bed::start();
    let token = bed.tb.mint(&tag_v1_0(), JwsAlg::RS256);
    for rekor in [Rekor::V1, Rekor::V2] {
        let v = rekor.version();
        let trust = bed.state_file(rekor.trust_config());

        // The peer signs; the peer itself and keyless verify.
        let theirs = bed.write(&format!("theirs-rekor{v}.tar.gz"), format!("{peer:?} {v}"));
        let bundle = peer.sign(&bed, rekor, &token, &theirs);
        // Every testbed log starts with a genesis entry: no user sees index 0.
        assert!(log_index(&bundle) >= 1, "{}", bundle.display());
        let (ok, out) = peer.verify(&bed, rekor, &theirs, TAG_SAN);
        assert!(ok, "{peer:?} rejects its own Rekor v{v} bundle:\n{out}");
        let (code, report) = verify_identity(&[theirs.as_os_str()], Some(&trust), TAG_SAN, GITLAB);
        assert_eq!(
            code, 0,
            "keyless rejects {peer:?}'s Rekor v{v} bundle: {report:#}"
        );
        let r = &report["results"][0];
        assert_eq!(r["identity"], TAG_SAN);
        assert_eq!(r["integrated_time"].is_null(), rekor == Rekor::V2, "{r}");
        // Everything holds but the identity: refused at that step alone.
        let (code, report) = verify_identity(&[theirs.as_os_str()], Some(&trust), EVIL_SAN, GITLAB);
        assert_eq!(
            (code, &report["results"][0]["failed_step"]),
            (1, &serde_json::json!("identity")),
            "keyless on {peer:?}'s bundle for a wrong identity: {report:#}"
        );

        // keyless signs; the peer verifies.
        let ours = bed.write(&format!("ours-rekor{v}.tar.gz"), format!("keyless {v}"));
        bed.keyless_sign(
            &token,
            &trust,
            &[ours.as_os_str(), "--rekor-version".as_ref(), v.as_ref()],
        )
        .assert_code(0);
        let (ok, out) = peer.verify(&bed, rekor, &ours, TAG_SAN);
        assert!(ok, "{peer:?} rejects keyless's Rekor v{v} bundle:\n{out}");
        // ... and refuses it for another identity (the harness can fail),
        // for that reason: a harness broken some other way fails too.
        let (ok, out) = peer.verify(&bed, rekor, &ours, EVIL_SAN);
        let why = match peer {
            Peer::Cosign | Peer::SigstoreGo => format!("expected SAN value \"{EVIL_SAN}\""),
            Peer::SigstorePython => "Certificate's SANs do not match".to_string(),
        };
        assert!(
            !ok && out.contains(&why),
            "{peer:?} on a wrong identity:\n{out}"
        );
    }
}

#[test]
fn cosign_and_keyless_verify_each_other_on_rekor_v1_and_v2() {
    interoperate(Peer::Cosign);
}

#[test]
fn sigstore_go_and_keyless_verify_each_other_on_rekor_v1_and_v2() {
    interoperate(Peer::SigstoreGo);
}

#[test]
fn sigstore_python_and_keyless_verify_each_other_on_rekor_v1_and_v2() {
    interoperate(Peer::SigstorePython);
}

/// PEP 740 both ways: pypi-attestations accepts what `keyless attest` writes
/// (its own conversion to a bundle and its own subject checks, against the
/// testbed root), and keyless verifies what pypi-attestations signs.
#[test]
fn pep740_attestations_interoperate_with_pypi_attestations() {
    let python = python_with_pypi_attestations();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/pep740.py");
    let bed = Bed::start();
    let token = bed.tb.mint(&tag_v1_0(), JwsAlg::RS256);
    let trust = bed.tb.trust_config_path();

    let ours = bed.write("hello_py-1.0-py3-none-any.whl", b"wheel");
    keyless_with_token(&token)
        .args(["attest", "--trust-config"])
        .arg(&trust)
        .arg(&ours)
        .assert()
        .success();
    let att = bed.path("hello_py-1.0-py3-none-any.whl.publish.attestation");
    let pypi_verify = |identity: &str| {
        run_peer(
            Command::new(&python)
                .arg(&script)
                .arg("verify")
                .arg(&trust)
                .arg(&ours)
                .arg(&att)
                .args([identity, GITLAB]),
        )
    };
    let (ok, out) = pypi_verify(TAG_SAN);
    assert!(
        ok && out.contains("OK https://docs.pypi.org/attestations/publish/v1"),
        "{out}"
    );
    // pypi-attestations refuses it for another identity (sanity of the harness).
    let (ok, out) = pypi_verify(EVIL_SAN);
    assert!(
        !ok && out.contains(&format!("Certificate's SANs do not match {EVIL_SAN}")),
        "pypi-attestations on a wrong identity:\n{out}"
    );

    let theirs = bed.write("other_pkg-2.0.tar.gz", b"sdist");
    let (ok, out) = run_peer(
        Command::new(&python)
            .arg(&script)
            .arg("sign")
            .arg(&trust)
            .arg(&theirs)
            .arg(bed.path("other_pkg-2.0.tar.gz.publish.attestation"))
            .env("SIGSTORE_ID_TOKEN", &token),
    );
    assert!(ok, "pypi-attestations sign failed:\n{out}");
    keyless()
        .args([
            "verify",
            "gitlab",
            "--project",
            "keyless-demo/hello-py",
            "--tag",
            "v1.0",
            "--trust-config",
        ])
        .arg(&trust)
        .arg(&theirs)
        .assert()
        .success();
}

/// Rekor v2 takes no `dsse` entries (rekor-tiles dropped them): sigstore-go
/// logs an in-toto statement's DSSE envelope as a hashedrekord 0.0.2 over
/// its PAE, and keyless verifies the artifact the statement names by it.
#[test]
fn keyless_verifies_sigstore_go_dsse_bundles_logged_on_rekor_v2() {
    let bed = Bed::start();
    let token = bed.tb.mint(&tag_v1_0(), JwsAlg::RS256);
    let artifact = bed.write("pkg-1.0.tar.gz", "sdist");
    let digest = sigstore_crypto::sha256(b"sdist").to_hex();
    let statement = bed.write(
        "statement.json",
        format!(
            r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"name":"pkg-1.0.tar.gz","digest":{{"sha256":"{digest}"}}}}],"predicateType":"https://example.com/provenance","predicate":{{}}}}"#
        ),
    );
    let (ok, out) = run_peer(
        go_command(&bed, "sigstore-go-signing")
            .args(["-id-token", &token, "-rekor", "-tsa", "-in-toto"])
            .arg("-signing-config")
            .arg(bed.state_file("signing_config_v2.json"))
            .arg("-trusted-root")
            .arg(bed.tb.trusted_root_path())
            .arg(&statement),
    );
    assert!(ok, "sigstore-go sign -in-toto failed:\n{out}");
    let json = out.lines().rev().find(|l| l.starts_with('{')).unwrap();
    let bundle = bed.write("pkg-1.0.tar.gz.sigstore.json", json);
    let doc = read_json(&bundle);
    assert!(doc["dsseEnvelope"].is_object(), "{doc:#}");
    assert_eq!(
        doc["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["kind"],
        "hashedrekord"
    );
    let trust = bed.state_file("trust_config_v2.json");
    let (code, report) = verify_identity(&[artifact.as_os_str()], Some(&trust), TAG_SAN, GITLAB);
    assert_eq!(code, 0, "{report:#}");
    // Another artifact is not what the statement names.
    let other = bed.write("other.tar.gz", "other");
    std::fs::copy(&bundle, bed.path("other.tar.gz.sigstore.json")).unwrap();
    let (code, report) = verify_identity(&[other.as_os_str()], Some(&trust), TAG_SAN, GITLAB);
    assert_eq!(
        (code, &report["results"][0]["failed_step"]),
        (1, &serde_json::json!("artifact")),
        "{report:#}"
    );
}
