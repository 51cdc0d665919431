//! GitLab-first identity: `keyless verify gitlab` on the real GitLab
//! attestation and on testbed certificates, generic Fulcio extension
//! requirements, and PEP 740 subject binding.

use crate::common::bed::{Bed, GITLAB};
use crate::common::{
    keyless, keyless_with_token, read_json, run, vectors, verify_identity, verify_json,
};
use keyless_testbed::{JwsAlg, TokenSpec};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

const GITLAB_PROJECT: &str = "facutuesca/gitlab-oidc-project";

/// `keyless verify gitlab --json <args>`: (exit code, the first result).
fn gitlab(args: &[&OsStr]) -> (i32, serde_json::Value) {
    let r = run(keyless().args(["verify", "gitlab", "--json"]).args(args));
    (r.code, r.json()["results"][0].clone())
}

fn real_sdist() -> PathBuf {
    vectors("pypi-attestations").join("gitlab_oidc_project-0.0.3.tar.gz")
}

#[test]
fn the_real_gitlab_attestation_verifies_for_its_project_and_branch() {
    let sdist = real_sdist();
    let (code, r) = gitlab(&[
        sdist.as_os_str(),
        "--project".as_ref(),
        GITLAB_PROJECT.as_ref(),
        "--branch".as_ref(),
        "main".as_ref(),
    ]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(
        r["identity"],
        "https://gitlab.com/facutuesca/gitlab-oidc-project//.gitlab-ci.yml@refs/heads/main"
    );
    assert!(
        r["bundle"]
            .as_str()
            .unwrap()
            .ends_with(".publish.attestation"),
        "found the attestation: {r}"
    );
    // Every claim pinned at once.
    let all: Vec<&OsStr> = [
        "--project",
        GITLAB_PROJECT,
        "--branch",
        "main",
        "--pipeline-source",
        "push",
        "--runner-environment",
        "gitlab-hosted",
        "--commit",
        "72f7c63b75eb55ea80864962f0e645c93414da34",
        "--project-id",
        "55235664",
    ]
    .iter()
    .map(OsStr::new)
    .collect();
    let mut args = vec![sdist.as_os_str()];
    args.extend(all);
    assert_eq!(gitlab(&args).0, 0);
    // Any ref of the project, asked for explicitly.
    assert_eq!(
        gitlab(&[
            sdist.as_os_str(),
            "--project".as_ref(),
            GITLAB_PROJECT.as_ref(),
            "--any-ref".as_ref(),
        ])
        .0,
        0
    );
}

#[test]
fn the_real_gitlab_attestation_fails_every_other_claim_naming_it() {
    let sdist = real_sdist();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--project", "facutuesca/other-project", "--branch", "main"],
            "certificate identity (SAN)",
        ),
        (
            &["--project", GITLAB_PROJECT, "--branch", "develop"],
            "refs/heads/develop",
        ),
        (
            &["--project", GITLAB_PROJECT, "--tag", "main"],
            "refs/tags/main",
        ),
        (
            &[
                "--project",
                GITLAB_PROJECT,
                "--branch",
                "main",
                "--runner-environment",
                "self-hosted",
            ],
            "Runner Environment",
        ),
        (
            &[
                "--project",
                GITLAB_PROJECT,
                "--branch",
                "main",
                "--instance",
                "https://gitlab.example.com",
            ],
            "OIDC issuer",
        ),
        (
            &[
                "--project",
                GITLAB_PROJECT,
                "--any-ref",
                "--pipeline-source",
                "schedule",
            ],
            "Build Trigger",
        ),
        (
            &[
                "--project",
                GITLAB_PROJECT,
                "--any-ref",
                "--project-id",
                "1",
            ],
            "Source Repository Identifier",
        ),
        (
            &[
                "--project",
                GITLAB_PROJECT,
                "--any-ref",
                "--commit",
                "0000000000000000000000000000000000000000",
            ],
            "Source Repository Digest",
        ),
    ];
    for (extra, claim) in cases {
        let mut args = vec![sdist.as_os_str()];
        args.extend(extra.iter().map(OsStr::new));
        let (code, r) = gitlab(&args);
        assert_eq!(code, 1, "{extra:?}: {r:#}");
        assert_eq!(r["failed_step"], "identity", "{extra:?}");
        let reason = r["reason"].as_str().unwrap();
        assert!(reason.contains(claim), "{extra:?}: {reason}");
        assert!(reason.contains("expected"), "{extra:?}: {reason}");
    }
}

#[test]
fn the_github_attestation_fails_verify_gitlab_but_verifies_for_its_identity() {
    let dir = vectors("pypi-attestations");
    let sdist = dir.join("pypi_attestations-0.0.19.tar.gz");
    let (code, r) = gitlab(&[
        sdist.as_os_str(),
        "--project".as_ref(),
        "trailofbits/pypi-attestations".as_ref(),
        "--any-ref".as_ref(),
    ]);
    assert_eq!(
        (code, r["failed_step"].as_str()),
        (1, Some("identity")),
        "{r:#}"
    );
    let (code, report) = verify_identity(
        &[sdist.as_os_str()],
        None,
        "https://github.com/trailofbits/pypi-attestations/.github/workflows/release.yml@refs/tags/v0.0.19",
        "https://token.actions.githubusercontent.com",
    );
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn generic_certificate_extension_requirements() {
    let sdist = real_sdist();
    let base: Vec<&OsStr> = vec![
        sdist.as_os_str(),
        "--certificate-identity-regexp".as_ref(),
        "https://gitlab[.]com/facutuesca/.*".as_ref(),
        "--certificate-oidc-issuer".as_ref(),
        GITLAB.as_ref(),
    ];
    let run = |ext: &[&str]| {
        let mut args = base.clone();
        for e in ext {
            args.push("--certificate-extension".as_ref());
            args.push(OsStr::new(e));
        }
        verify_json(&args)
    };
    let (code, _) = run(&[
        "source-repository-ref=refs/heads/main",
        "1.3.6.1.4.1.57264.1.22=private",
    ]);
    assert_eq!(code, 0);
    let (code, report) = run(&["source-repository-ref=refs/heads/dev"]);
    assert_eq!(code, 1);
    assert!(
        report["results"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("Source Repository Ref (1.3.6.1.4.1.57264.1.14)")
    );
    let (code, report) = run(&["deployment-environment=production"]);
    assert_eq!(code, 1, "absent extension: {report:#}");
    keyless()
        .arg("verify")
        .args(&base)
        .args(["--certificate-extension", "no-such-claim=x"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("unknown Fulcio extension"));
}

#[test]
fn an_attestation_binds_the_file_name() {
    let sdist = real_sdist();
    let dir = tempfile::tempdir().unwrap();
    // Same bytes under another name: the digest matches, the name does not.
    let renamed = dir.path().join("gitlab_oidc_project-9.9.9.tar.gz");
    std::fs::copy(&sdist, &renamed).unwrap();
    let att = PathBuf::from(format!("{}.publish.attestation", sdist.display()));
    let (code, r) = gitlab(&[
        renamed.as_os_str(),
        "--attestation".as_ref(),
        att.as_os_str(),
        "--project".as_ref(),
        GITLAB_PROJECT.as_ref(),
        "--any-ref".as_ref(),
    ]);
    assert_eq!(
        (code, r["failed_step"].as_str()),
        (1, Some("artifact")),
        "{r:#}"
    );
    assert!(
        r["reason"]
            .as_str()
            .unwrap()
            .contains("gitlab_oidc_project-0.0.3.tar.gz"),
        "{r}"
    );
}

/// Sign `file` with `keyless sign` against `bed` using `spec`.
fn sign(bed: &Bed, spec: &TokenSpec, file: &Path) {
    let token = bed.tb.mint(spec, JwsAlg::RS256);
    bed.keyless_sign(
        &token,
        &bed.tb.trust_config_path(),
        &["--overwrite".as_ref(), file.as_os_str()],
    )
    .assert_code(0);
}

#[test]
fn testbed_certificates_for_tags_branches_sources_and_self_managed_instances() {
    let bed = Bed::start_trusting(&["https://gitlab.example.com"]);
    let file = bed.write("app-1.0.tar.gz", b"sdist");
    let trust = bed.tb.trust_config_path();
    let check = |extra: &[&str]| {
        let mut args: Vec<&OsStr> = vec![
            file.as_os_str(),
            "--trust-config".as_ref(),
            trust.as_os_str(),
        ];
        args.extend(extra.iter().map(OsStr::new));
        gitlab(&args)
    };

    for source in ["push", "web", "schedule", "merge_request_event"] {
        let mut spec = TokenSpec::gitlab(GITLAB);
        spec.project = "acme/tools/app".into();
        spec.tag = Some("v1.0".into());
        spec.pipeline_source = source.into();
        sign(&bed, &spec, &file);
        let (code, r) = check(&[
            "--project",
            "acme/tools/app",
            "--tag",
            "v1.0",
            "--pipeline-source",
            source,
        ]);
        assert_eq!(code, 0, "{source}: {r:#}");
        let other = if source == "push" { "web" } else { "push" };
        let (code, r) = check(&[
            "--project",
            "acme/tools/app",
            "--tag",
            "v1.0",
            "--pipeline-source",
            other,
        ]);
        assert_eq!(code, 1, "{source} vs {other}: {r:#}");
        assert!(r["reason"].as_str().unwrap().contains("Build Trigger"));
        // A tag is not a branch of the same name.
        assert_eq!(
            check(&["--project", "acme/tools/app", "--branch", "v1.0"]).0,
            1
        );
    }

    // A branch pipeline on a self-hosted runner.
    let mut spec = TokenSpec::gitlab(GITLAB);
    spec.project = "acme/app".into();
    spec.git_ref = "release".into();
    spec.runner_environment = "self-hosted".into();
    sign(&bed, &spec, &file);
    assert_eq!(
        check(&[
            "--project",
            "acme/app",
            "--branch",
            "release",
            "--runner-environment",
            "self-hosted"
        ])
        .0,
        0
    );
    let (code, r) = check(&[
        "--project",
        "acme/app",
        "--branch",
        "release",
        "--runner-environment",
        "gitlab-hosted",
    ]);
    assert_eq!(code, 1, "{r:#}");

    // A self-managed instance: the issuer and SAN carry its host, while
    // Fulcio writes gitlab.com into .12 and .21 (their paths still checked).
    let mut spec = TokenSpec::gitlab("https://gitlab.example.com");
    spec.project = "team/svc".into();
    spec.tag = Some("v2".into());
    sign(&bed, &spec, &file);
    let (code, r) = check(&[
        "--project",
        "team/svc",
        "--tag",
        "v2",
        "--instance",
        "https://gitlab.example.com",
    ]);
    assert_eq!(code, 0, "{r:#}");
    let (code, r) = check(&["--project", "team/svc", "--tag", "v2"]);
    assert_eq!(code, 1, "gitlab.com is not gitlab.example.com: {r:#}");
    assert!(r["reason"].as_str().unwrap().contains("OIDC issuer"));
}

/// A pipeline of `g/p-evil` running `g/p`'s `.gitlab-ci.yml` on a
/// self-managed instance gets a SAN naming `g/p`; its source repository
/// (.12) and run invocation (.21) still name `g/p-evil`, and `verify gitlab
/// --project g/p` must refuse it there as it does on gitlab.com.
#[test]
fn a_borrowed_ci_config_on_a_self_managed_instance_is_refused_naming_the_source_repository() {
    let instance = "https://gitlab.example.com";
    let bed = Bed::start_trusting(&[instance]);
    let file = bed.write("app-1.0.tar.gz", b"sdist");
    let trust = bed.tb.trust_config_path();
    let check = || {
        gitlab(&[
            file.as_os_str(),
            "--trust-config".as_ref(),
            trust.as_os_str(),
            "--project".as_ref(),
            "g/p".as_ref(),
            "--branch".as_ref(),
            "main".as_ref(),
            "--instance".as_ref(),
            instance.as_ref(),
        ])
    };

    let mut evil = TokenSpec::gitlab(instance);
    evil.project = "g/p-evil".into();
    evil.overrides.insert(
        "ci_config_ref_uri".into(),
        "gitlab.example.com/g/p//.gitlab-ci.yml@refs/heads/main".into(),
    );
    sign(&bed, &evil, &file);
    let (code, r) = check();
    assert_eq!(code, 1, "g/p-evil's pipeline is not g/p's: {r:#}");
    let reason = r["reason"].as_str().unwrap();
    assert!(
        reason.contains("Source Repository URI (1.3.6.1.4.1.57264.1.12)")
            && reason.contains("g/p-evil"),
        "{reason}"
    );
    // The text output says the same.
    let out = run(keyless()
        .args(["verify", "gitlab"])
        .arg(&file)
        .arg("--trust-config")
        .arg(&trust)
        .args([
            "--project",
            "g/p",
            "--branch",
            "main",
            "--instance",
            instance,
        ]));
    out.assert_code(1);
    assert!(out.stdout.contains("FAIL"), "{}", out.stdout);
    assert!(
        out.stdout.contains("1.3.6.1.4.1.57264.1.12"),
        "{}",
        out.stdout
    );

    // The honest pipeline of g/p (Fulcio's gitlab.com in .12 and .21) passes.
    let mut honest = TokenSpec::gitlab(instance);
    honest.project = "g/p".into();
    sign(&bed, &honest, &file);
    let (code, r) = check();
    assert_eq!(code, 0, "{r:#}");
}

#[test]
fn attest_writes_pep740_attestations_that_verify_gitlab_accepts() {
    let bed = Bed::start();
    let tb = &bed.tb;
    let dist = bed.path("dist");
    std::fs::create_dir(&dist).unwrap();
    for name in ["app-1.0.tar.gz", "app-1.0-py3-none-any.whl"] {
        std::fs::write(dist.join(name), name).unwrap();
    }
    let mut spec = TokenSpec::gitlab(GITLAB);
    spec.project = "acme/app".into();
    spec.tag = Some("v1.0".into());
    let token = tb.mint(&spec, JwsAlg::RS256);
    let attest = |extra: &[&str], trust: &Path| {
        keyless_with_token(&token)
            .arg("attest")
            .args(extra)
            .arg("--trust-config")
            .arg(trust)
            .arg(&dist)
            .assert()
    };
    attest(&[], &tb.trust_config_path()).success();
    let att = read_json(&dist.join("app-1.0.tar.gz.publish.attestation"));
    assert_eq!(att["version"], 1);
    assert_eq!(
        att["verification_material"]["transparency_entries"][0]["kindVersion"]["kind"],
        "dsse"
    );
    for name in ["app-1.0.tar.gz", "app-1.0-py3-none-any.whl"] {
        let file = dist.join(name);
        let (code, r) = gitlab(&[
            file.as_os_str(),
            "--trust-config".as_ref(),
            tb.trust_config_path().as_os_str(),
            "--project".as_ref(),
            "acme/app".as_ref(),
            "--tag".as_ref(),
            "v1.0".as_ref(),
        ]);
        assert_eq!(code, 0, "{name}: {r:#}");
        assert!(
            r["bundle"]
                .as_str()
                .unwrap()
                .ends_with(".publish.attestation")
        );
    }
    // Existing attestations are kept without --overwrite; Rekor v2 is refused.
    attest(&[], &tb.trust_config_path())
        .code(2)
        .stderr(predicates::str::contains("already exists"));
    attest(
        &["--overwrite", "--rekor-version", "2"],
        &tb.trust_config_v2_path(),
    )
    .code(2)
    .stderr(predicates::str::contains(
        "PEP 740 attestations need Rekor v1",
    ));
}

/// Without --branch, --tag or --ref, `verify gitlab` no longer accepts any
/// ref silently: it is a usage error (exit 2, nothing verified) with a hint
/// naming the choices, also under --json; --any-ref says so explicitly.
#[test]
fn verify_gitlab_without_a_ref_is_a_usage_error_unless_any_ref_is_given() {
    let sdist = real_sdist();
    let r = run(keyless()
        .args(["verify", "gitlab"])
        .arg(&sdist)
        .args(["--project", GITLAB_PROJECT]));
    r.assert_code(2);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(
        r.stderr
            .contains("keyless: error: verify gitlab needs the ref the pipeline ran for"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(
            "  hint: pass --branch NAME, --tag NAME or --ref refs/..., or --any-ref to accept any branch or tag of the project"
        ),
        "{}",
        r.stderr
    );
    let r = run(keyless()
        .args(["verify", "gitlab", "--json"])
        .arg(&sdist)
        .args(["--project", GITLAB_PROJECT]));
    r.assert_code(2);
    let doc = r.json();
    assert_eq!(doc["ok"], false);
    assert!(
        doc["hint"].as_str().unwrap().contains("--any-ref"),
        "{doc:#}"
    );

    // --any-ref accepts the real attestation's branch, and is exclusive
    // with a ref.
    let (code, r) = gitlab(&[
        sdist.as_os_str(),
        "--project".as_ref(),
        GITLAB_PROJECT.as_ref(),
        "--any-ref".as_ref(),
    ]);
    assert_eq!(code, 0, "{r:#}");
    let r = run(keyless().args(["verify", "gitlab"]).arg(&sdist).args([
        "--project",
        GITLAB_PROJECT,
        "--any-ref",
        "--branch",
        "main",
    ]));
    r.assert_code(2);
    assert!(r.stderr.contains("cannot be used with"), "{}", r.stderr);
}
