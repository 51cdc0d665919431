//! The testbed's bulk fill (`POST /admin/fill`, for issue #19's benchmark of
//! the monitor over large logs): its entries are ones `keyless rekor
//! monitor` really proves, on Rekor v1 and on Rekor v2 (tiles), and a scan
//! across fetch chunks, entry bundles and tiles finds each of the watched
//! identity's entries once, those at a chunk's or a bundle's edge included.

use super::{SAN, start};
use keyless_testbed::FillRequest;

#[test]
fn bulk_filled_entries_verify_and_the_scan_finds_every_watched_one() {
    let log = start();
    for (name, extra) in [("v1", &[][..]), ("v2", &["--rekor-version", "2"][..])] {
        let filled = log
            .tb
            .fill(&FillRequest {
                log: name.into(),
                count: 700,
                // Entries 0, 255 and 510 of the fill: log indexes 1 (the
                // first after genesis), 256 (the first of Rekor v2's second
                // entry bundle, the last of a 256-entry fetch from 1) and
                // 511 (the last of that bundle).
                watched_every: 255,
                per_certificate: 64,
            })
            .unwrap();
        assert_eq!((filled.from, filled.to), (1, 701), "{name}");
        assert_eq!(filled.watched, [1, 256, 511], "{name}");
        assert_eq!(filled.watched_identity, SAN);
        // Stored as uploads are: the genesis entry and the 700.
        let file = log.state_file(&format!("rekor-{name}.jsonl"));
        assert_eq!(std::fs::read_to_string(file).unwrap().lines().count(), 701);

        let state = log.path(&format!("{name}-state.json"));
        let mut args = vec!["--identity", SAN, "--since", "1", "--max-entries", "1000"];
        args.extend(extra);
        let r = log.monitor(&state, &args);
        r.assert_status(0, "initialized");
        let scan = &r.json["scan"];
        assert_eq!(
            (scan["from"].as_u64(), scan["to"].as_u64()),
            (Some(1), Some(701)),
            "{name}"
        );
        let found: Vec<u64> = scan["matches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["log_index"].as_u64().unwrap())
            .collect();
        assert_eq!(found, filled.watched, "{name}: {scan}");
        for m in scan["matches"].as_array().unwrap() {
            assert_eq!(m["certificate"]["identity"], SAN, "{m}");
        }
    }
    // Each entry of another identity is signed by a certificate of its own
    // project, not the watched one: a project watch finds the same three.
    let r = log.monitor(
        &log.path("project.json"),
        &[
            "--gitlab-project",
            "keyless-demo/hello-py",
            "--since",
            "1",
            "--max-entries",
            "1000",
        ],
    );
    r.assert_status(0, "initialized");
    assert_eq!(r.json["scan"]["matches"].as_array().unwrap().len(), 3);
}
