//! The crates crates.io gets: `keyless` (the library) and `keyless-cli` (the
//! command). .ci/run also runs `cargo publish --workspace --dry-run`, which
//! builds each from its package alone, but a missing description or
//! repository is only a warning there (crates.io refuses it at upload).

use super::*;

fn cargo(args: &[&str]) -> String {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(repo_root())
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_published_crates_have_their_metadata_sources_and_registry_dependencies() {
    let metadata: serde_json::Value = serde_json::from_str(&cargo(&[
        "metadata",
        "--no-deps",
        "--format-version",
        "1",
        "--offline",
        "--locked",
    ]))
    .unwrap();
    for name in ["keyless", "keyless-cli"] {
        let package = metadata["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap();
        // Publishable, with what crates.io shows and requires.
        assert!(package["publish"].is_null(), "{name}: publish = false");
        assert_eq!(package["license"], "Apache-2.0", "{name}");
        for field in ["description", "repository", "readme"] {
            let value = package[field].as_str().unwrap_or_default();
            assert!(!value.is_empty(), "{name}: no {field}");
        }
        assert_eq!(
            package["repository"], "https://gitlab.com/keyless/keyless",
            "{name}"
        );
        // Every dependency but the tests' can be found on crates.io: a
        // path dependency also names its version (the path is dropped on
        // publishing); a path-only one could not be published at all.
        for dep in package["dependencies"].as_array().unwrap() {
            if dep["kind"] != "dev" && !dep["path"].is_null() {
                assert_ne!(dep["req"], "*", "{name}: path-only dependency {dep}");
            }
        }

        // What the package holds: the sources and the README, none of the
        // repository's tests, vectors or the wheel's pyproject.toml.
        let files = cargo(&[
            "package",
            "--list",
            "--allow-dirty",
            "--offline",
            "--locked",
            "-p",
            name,
        ]);
        let files: Vec<&str> = files.lines().collect();
        for file in ["Cargo.toml", "README.md", "src/lib.rs"] {
            assert!(files.contains(&file), "{name}: no {file} in {files:?}");
        }
        for file in &files {
            let allowed = file.starts_with("src/")
                || file.starts_with("benches/")
                || [
                    "Cargo.toml",
                    "Cargo.toml.orig",
                    "Cargo.lock",
                    "README.md",
                    ".cargo_vcs_info.json",
                ]
                .contains(file);
            assert!(allowed, "{name}: {file} is packaged");
        }
    }
}
