//! The man pages under man/ are generated from the clap definitions; this
//! fails when they are stale. Regenerate with `KEYLESS_BLESS=1 cargo test man`.

#[test]
fn man_pages_are_up_to_date() {
    let dir = crate::common::repo_root().join("man");
    let pages = keyless_cli::cli::man_pages();
    assert!(pages.iter().any(|(n, _)| n == "keyless-verify.1"));
    if std::env::var_os("KEYLESS_BLESS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in &pages {
            std::fs::write(dir.join(name), text).unwrap();
        }
    }
    let mut stale = Vec::new();
    for (name, text) in &pages {
        match std::fs::read(dir.join(name)) {
            Ok(on_disk) if on_disk == *text => {}
            _ => stale.push(name.clone()),
        }
    }
    let mut extra: Vec<String> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !pages.iter().any(|(p, _)| p == n))
                .collect()
        })
        .unwrap_or_default();
    extra.sort();
    assert!(
        stale.is_empty() && extra.is_empty(),
        "man pages are stale {stale:?} or orphaned {extra:?}; run KEYLESS_BLESS=1 cargo test man"
    );
}
