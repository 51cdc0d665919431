//! In-toto attestations (DSSE bundles) between keyless and the reference
//! clients, on Rekor v1 and on Rekor v2 + TSA: each peer attests a file
//! (SLSA v1 predicate) against the testbed as its users do and keyless
//! verifies it with `--type slsaprovenance1`, refusing another type at the
//! predicate type step; keyless attests (`--predicate --type` and the GitLab
//! runner's statement with `--statement`) and each peer verifies, refusing
//! a file the statement does not name (sigstore-python 4.5.1 refuses the
//! runner's Statement v0.1 as malformed: it reads v1 only). Also the
//! sigstore-conformance
//! client protocol's `sign-bundle --in-toto` through
//! `scripts/keyless-conformance`, checked by sigstore-python.
//!
//! Peers: cosign 3 (`attest-blob`, `verify-blob-attestation`),
//! sigstore-python 4.5.1 (`attest`, `verify identity`), sigstore-go 1.x
//! (its signing example's `-in-toto`, its verification example); `.ci/run`
//! installs them (see [`crate::common::peers`]).

use crate::common::bed::{Bed, GITLAB, TAG_SAN, tag_v1_0};
use crate::common::peers::{run_peer, sigstore_python};
use crate::common::runner_provenance::sha256_hex;
use crate::common::{keyless_with_token, read_json, repo_root, unb64, verify_identity};
use crate::interop::{EVIL_SAN, Rekor, go_command};
use keyless_testbed::JwsAlg;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

const SLSA_V1: &str = "https://slsa.dev/provenance/v1";

/// A minimal SLSA v1 predicate.
const PREDICATE: &str = r#"{"buildDefinition":{"buildType":"https://example.com/build/v1","externalParameters":{"ref":"refs/tags/v1.0"}},"runDetails":{"builder":{"id":"https://example.com/builder"}}}"#;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Peer {
    Cosign,
    SigstoreGo,
    SigstorePython,
}

impl Peer {
    /// The peer attests `artifact` with [`PREDICATE`] (SLSA v1) as the
    /// holder of `token`; the bundle's path.
    fn attest(self, bed: &Bed, rekor: Rekor, token: &str, artifact: &Path) -> PathBuf {
        let bundle = PathBuf::from(format!("{}.peer.sigstore.json", artifact.display()));
        let predicate = bed.write("predicate.json", PREDICATE);
        let signing_config = bed.state_file(rekor.signing_config());
        let trusted_root = bed.tb.trusted_root_path();
        let (ok, out) = match self {
            Peer::Cosign => run_peer(
                go_command(bed, "cosign")
                    .args(["attest-blob", "--yes", "--identity-token", token])
                    .args(["--type", "slsaprovenance1", "--predicate"])
                    .arg(&predicate)
                    .arg("--signing-config")
                    .arg(&signing_config)
                    .arg("--trusted-root")
                    .arg(&trusted_root)
                    .arg("--bundle")
                    .arg(&bundle)
                    .arg(artifact),
            ),
            Peer::SigstorePython => run_peer(
                Command::new(sigstore_python())
                    .arg("--trust-config")
                    .arg(bed.state_file(rekor.trust_config()))
                    .args(["attest", "--rekor-version", rekor.version()])
                    .args(["--identity-token", token])
                    .args(["--predicate-type", SLSA_V1, "--predicate"])
                    .arg(&predicate)
                    .arg("--bundle")
                    .arg(&bundle)
                    .arg(artifact),
            ),
            Peer::SigstoreGo => {
                // Its example signs a whole statement.
                let name = artifact.file_name().unwrap().to_string_lossy();
                let statement = bed.write(
                    "go-statement.json",
                    format!(
                        r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"name":"{name}","digest":{{"sha256":"{}"}}}}],"predicateType":"{SLSA_V1}","predicate":{PREDICATE}}}"#,
                        sha256_hex(&std::fs::read(artifact).unwrap())
                    ),
                );
                let mut cmd = go_command(bed, "sigstore-go-signing");
                cmd.args(["-id-token", token, "-rekor", "-in-toto"])
                    .arg("-signing-config")
                    .arg(&signing_config)
                    .arg("-trusted-root")
                    .arg(&trusted_root);
                if rekor == Rekor::V2 {
                    cmd.arg("-tsa");
                }
                let (ok, out) = run_peer(cmd.arg(&statement));
                if ok {
                    let json = out.lines().rev().find(|l| l.starts_with('{'));
                    std::fs::write(&bundle, json.unwrap_or_else(|| panic!("no bundle:\n{out}")))
                        .unwrap();
                }
                (ok, out)
            }
        };
        assert!(
            ok,
            "{self:?} attest (Rekor v{}) failed:\n{out}",
            rekor.version()
        );
        let doc = read_json(&bundle);
        assert!(doc["dsseEnvelope"].is_object(), "{self:?}: {doc:#}");
        bundle
    }

    /// The peer verifies `artifact` against the DSSE `bundle` offline for
    /// `identity` (issued by GitLab.com), as an SLSA v1 attestation where
    /// the peer can say so: (accepted, output).
    fn verify(
        self,
        bed: &Bed,
        rekor: Rekor,
        artifact: &Path,
        bundle: &Path,
        identity: &str,
    ) -> (bool, String) {
        let trusted_root = bed.tb.trusted_root_path();
        match self {
            Peer::Cosign => run_peer(
                go_command(bed, "cosign")
                    .args(["verify-blob-attestation", "--type", "slsaprovenance1"])
                    .arg("--bundle")
                    .arg(bundle)
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
                    .arg(bundle),
            ),
            Peer::SigstorePython => run_peer(
                Command::new(sigstore_python())
                    .arg("--trust-config")
                    .arg(bed.state_file(rekor.trust_config()))
                    .args(["verify", "identity", "--offline", "--bundle"])
                    .arg(bundle)
                    .args(["--cert-identity", identity, "--cert-oidc-issuer", GITLAB])
                    .arg(artifact),
            ),
        }
    }
}

/// `keyless verify --type TYPE --bundle B ARTIFACT` for [`TAG_SAN`]:
/// (exit code, JSON report).
fn keyless_verify_type(
    trust: &Path,
    artifact: &Path,
    bundle: &Path,
    type_: &str,
) -> (i32, serde_json::Value) {
    let args: [&OsStr; 5] = [
        "--type".as_ref(),
        type_.as_ref(),
        "--bundle".as_ref(),
        bundle.as_os_str(),
        artifact.as_os_str(),
    ];
    verify_identity(&args, Some(trust), TAG_SAN, GITLAB)
}

/// `peer` against the testbed, both ways, on Rekor v1 and on Rekor v2 + TSA.
fn interoperate(peer: Peer) {
    let bed = Bed::start();
    let token = bed.tb.mint(&tag_v1_0(), JwsAlg::RS256);
    for rekor in [Rekor::V1, Rekor::V2] {
        let v = rekor.version();
        let trust = bed.state_file(rekor.trust_config());

        // The peer attests; the peer itself and keyless verify.
        let theirs = bed.write(&format!("theirs-{v}.tar.gz"), format!("{peer:?} {v}"));
        let bundle = peer.attest(&bed, rekor, &token, &theirs);
        let (ok, out) = peer.verify(&bed, rekor, &theirs, &bundle, TAG_SAN);
        assert!(
            ok,
            "{peer:?} rejects its own Rekor v{v} attestation:\n{out}"
        );
        let (code, report) = keyless_verify_type(&trust, &theirs, &bundle, "slsaprovenance1");
        assert_eq!(
            code, 0,
            "keyless rejects {peer:?}'s Rekor v{v} attestation: {report:#}"
        );
        let r = &report["results"][0];
        assert_eq!(r["identity"], TAG_SAN, "{r}");
        assert_eq!(r["integrated_time"].is_null(), rekor == Rekor::V2, "{r}");
        // Everything holds but the predicate type: refused at that step.
        let (code, report) = keyless_verify_type(&trust, &theirs, &bundle, "spdxjson");
        assert_eq!(
            (code, &report["results"][0]["failed_step"]),
            (1, &serde_json::json!("predicate type")),
            "keyless on {peer:?}'s SLSA attestation asked for SPDX: {report:#}"
        );
        // A file the statement does not name.
        let other = bed.write(&format!("other-{v}.tar.gz"), "other");
        let (code, report) = keyless_verify_type(&trust, &other, &bundle, "slsaprovenance1");
        assert_eq!(
            (code, &report["results"][0]["failed_step"]),
            (1, &serde_json::json!("artifact")),
            "keyless on a file {peer:?}'s statement does not name: {report:#}"
        );

        // keyless attests (--predicate --type); the peer verifies.
        let ours = bed.write(&format!("ours-{v}.tar.gz"), format!("keyless {v}"));
        let predicate = bed.write("our-predicate.json", PREDICATE);
        let our_bundle = bed.path(&format!("ours-{v}.intoto.sigstore.json"));
        let r = crate::common::run(
            keyless_with_token(&token)
                .args(["attest", "--trust-config"])
                .arg(&trust)
                .args([
                    "--rekor-version",
                    v,
                    "--type",
                    "slsaprovenance1",
                    "--predicate",
                ])
                .arg(&predicate)
                .arg("--bundle")
                .arg(&our_bundle)
                .arg(&ours),
        );
        assert_eq!(r.code, 0, "keyless attest (Rekor v{v}): {}", r.stderr);
        let (ok, out) = peer.verify(&bed, rekor, &ours, &our_bundle, TAG_SAN);
        assert!(
            ok,
            "{peer:?} rejects keyless's Rekor v{v} attestation:\n{out}"
        );
        // ... and refuses it for a file the statement does not name (the
        // harness can fail).
        let (ok, out) = peer.verify(&bed, rekor, &other, &our_bundle, TAG_SAN);
        assert!(
            !ok,
            "{peer:?} accepts keyless's attestation for another file:\n{out}"
        );
        let (ok, out) = peer.verify(&bed, rekor, &ours, &our_bundle, EVIL_SAN);
        assert!(
            !ok,
            "{peer:?} accepts keyless's attestation for another identity:\n{out}"
        );

        // The GitLab runner's statement (Statement v0.1, SLSA v1), signed
        // byte for byte with --statement; the peer verifies the files.
        let (dist, statement) = runner_sample(&bed, &format!("runner-{v}"));
        let runner_bundle = dist.join("provenance.intoto.sigstore.json");
        let r = crate::common::run(
            keyless_with_token(&token)
                .args(["attest", "--trust-config"])
                .arg(&trust)
                .args(["--rekor-version", v, "--statement"])
                .arg(&statement)
                .arg("--bundle")
                .arg(&runner_bundle),
        );
        assert_eq!(
            r.code, 0,
            "keyless attest --statement (Rekor v{v}): {}",
            r.stderr
        );
        let doc = read_json(&runner_bundle);
        assert_eq!(
            unb64(doc["dsseEnvelope"]["payload"].as_str().unwrap()),
            std::fs::read(&statement).unwrap(),
            "the envelope's payload is not the statement's bytes"
        );
        for file in ["hello_py-1.0-py3-none-any.whl", "hello_py-1.0.tar.gz"] {
            let (ok, out) = peer.verify(
                &bed,
                rekor,
                &dist.join("dist").join(file),
                &runner_bundle,
                TAG_SAN,
            );
            if peer == Peer::SigstorePython {
                // sigstore-python 4.5.1 reads only Statement v1 (`_type`
                // https://in-toto.io/Statement/v1); the runner writes v0.1.
                // A known limit of that peer, pinned so a change shows.
                assert!(
                    !ok && out.contains("malformed in-toto statement"),
                    "sigstore-python on the runner's v0.1 statement (Rekor v{v}), {file}:\n{out}"
                );
            } else {
                assert!(
                    ok,
                    "{peer:?} rejects the runner's statement signed by keyless (Rekor v{v}), {file}:\n{out}"
                );
            }
        }
    }
}

/// The runner provenance sample and its files copied to `<dir>/<name>`:
/// (the folder, the statement's path).
fn runner_sample(bed: &Bed, name: &str) -> (PathBuf, PathBuf) {
    let from = repo_root().join("testdata/runner-provenance");
    let to = bed.path(name);
    std::fs::create_dir_all(to.join("dist")).unwrap();
    for f in [
        "artifacts-metadata.json",
        "dist/hello_py-1.0-py3-none-any.whl",
        "dist/hello_py-1.0.tar.gz",
    ] {
        std::fs::copy(from.join(f), to.join(f)).unwrap();
    }
    let statement = to.join("artifacts-metadata.json");
    (to, statement)
}

#[test]
fn cosign_and_keyless_verify_each_others_attestations_on_rekor_v1_and_v2() {
    interoperate(Peer::Cosign);
}

#[test]
fn sigstore_go_and_keyless_verify_each_others_attestations_on_rekor_v1_and_v2() {
    interoperate(Peer::SigstoreGo);
}

#[test]
fn sigstore_python_and_keyless_verify_each_others_attestations_on_rekor_v1_and_v2() {
    interoperate(Peer::SigstorePython);
}

/// cosign `attest-blob --statement` (a whole statement, as the runner
/// writes one): keyless verifies it as SLSA v1 for each subject.
#[test]
fn keyless_verifies_a_runner_statement_cosign_signed_whole() {
    let bed = Bed::start();
    let token = bed.tb.mint(&tag_v1_0(), JwsAlg::RS256);
    for rekor in [Rekor::V1, Rekor::V2] {
        let v = rekor.version();
        let (dir, statement) = runner_sample(&bed, &format!("cosign-runner-{v}"));
        let bundle = dir.join("provenance.sigstore.json");
        let (ok, out) = run_peer(
            go_command(&bed, "cosign")
                .args(["attest-blob", "--yes", "--identity-token", &token])
                .arg("--statement")
                .arg(&statement)
                .arg("--signing-config")
                .arg(bed.state_file(rekor.signing_config()))
                .arg("--trusted-root")
                .arg(bed.tb.trusted_root_path())
                .arg("--bundle")
                .arg(&bundle),
        );
        assert!(
            ok,
            "cosign attest-blob --statement (Rekor v{v}) failed:\n{out}"
        );
        let trust = bed.state_file(rekor.trust_config());
        for file in ["hello_py-1.0-py3-none-any.whl", "hello_py-1.0.tar.gz"] {
            let artifact = dir.join("dist").join(file);
            let (code, report) = keyless_verify_type(&trust, &artifact, &bundle, "slsaprovenance1");
            assert_eq!(code, 0, "Rekor v{v}, {file}: {report:#}");
        }
    }
}

/// The sigstore-conformance client protocol's `sign-bundle --in-toto`
/// through `scripts/keyless-conformance`: the envelope's payload is the
/// statement file's bytes, and the reference client (sigstore-python)
/// verifies the bundle for the file the statement names; `verify-bundle`
/// accepts it and refuses another identity.
#[test]
fn the_conformance_entry_point_signs_in_toto_statements_byte_for_byte() {
    let script = repo_root().join("scripts/keyless-conformance");
    let bed = Bed::start();
    let token = bed.tb.mint(&tag_v1_0(), JwsAlg::RS256);
    let keyless_dir = Path::new(env!("CARGO_BIN_EXE_keyless")).parent().unwrap();
    let path = std::env::join_paths(std::iter::once(keyless_dir.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    for rekor in [Rekor::V1, Rekor::V2] {
        let v = rekor.version();
        let artifact = bed.write(&format!("conf-{v}.tar.gz"), format!("conformance {v}"));
        // Whitespace and key order a re-serialiser would change.
        let statement = bed.write(
            &format!("conf-{v}.statement.json"),
            format!(
                "{{ \"predicateType\": \"{SLSA_V1}\",\n  \"_type\": \"https://in-toto.io/Statement/v1\",\n  \"subject\": [{{\"name\": \"conf-{v}.tar.gz\", \"digest\": {{\"sha256\": \"{}\"}}}}],\n  \"predicate\": {PREDICATE} }}\n",
                sha256_hex(format!("conformance {v}").as_bytes())
            ),
        );
        let bundle = bed.path(&format!("conf-{v}.sigstore.json"));
        let conformance = |args: &[&OsStr]| {
            run_peer(
                Command::new("sh")
                    .arg(&script)
                    .args(args)
                    .env("PATH", &path)
                    .env(
                        "KEYLESS_CACHE_DIR",
                        Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-trust-cache"),
                    ),
            )
        };
        let (ok, out) = conformance(&[
            "sign-bundle".as_ref(),
            "--identity-token".as_ref(),
            token.as_ref(),
            "--bundle".as_ref(),
            bundle.as_os_str(),
            "--trusted-root".as_ref(),
            bed.tb.trusted_root_path().as_os_str(),
            "--signing-config".as_ref(),
            bed.state_file(rekor.signing_config()).as_os_str(),
            "--in-toto".as_ref(),
            statement.as_os_str(),
        ]);
        assert!(ok, "sign-bundle --in-toto (Rekor v{v}):\n{out}");
        assert!(
            !out.contains(token.rsplit('.').next().unwrap()),
            "the token was printed"
        );
        let doc = read_json(&bundle);
        assert_eq!(
            doc["dsseEnvelope"]["payloadType"],
            "application/vnd.in-toto+json"
        );
        assert_eq!(
            unb64(doc["dsseEnvelope"]["payload"].as_str().unwrap()),
            std::fs::read(&statement).unwrap(),
            "the envelope's payload is not the statement file's bytes"
        );
        let (ok, out) = Peer::SigstorePython.verify(&bed, rekor, &artifact, &bundle, TAG_SAN);
        assert!(
            ok,
            "sigstore-python rejects sign-bundle --in-toto (Rekor v{v}):\n{out}"
        );
        let verify = |identity: &str| {
            conformance(&[
                "verify-bundle".as_ref(),
                "--bundle".as_ref(),
                bundle.as_os_str(),
                "--certificate-identity".as_ref(),
                identity.as_ref(),
                "--certificate-oidc-issuer".as_ref(),
                GITLAB.as_ref(),
                "--trusted-root".as_ref(),
                bed.tb.trusted_root_path().as_os_str(),
                artifact.as_os_str(),
            ])
        };
        let (ok, out) = verify(TAG_SAN);
        assert!(ok, "verify-bundle (Rekor v{v}):\n{out}");
        let (ok, out) = verify(EVIL_SAN);
        assert!(!ok, "verify-bundle accepted another identity:\n{out}");
    }
}
