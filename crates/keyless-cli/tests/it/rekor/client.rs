//! The keyless library's Rekor client against a log that misbehaves in ways
//! the testbed does not: an answer with two entries.

use super::{raw_entry, start};
use serde_json::Value;

/// sigstore-rekor 0.15.1 reads a Rekor `{uuid: entry}` answer by taking
/// whichever entry its HashMap yields first, so an answer holding two
/// entries gives one or the other at random instead of being refused.
/// keyless checks that the entry it got is the one it asked for.
#[test]
fn an_answer_with_two_entries_never_passes_for_the_one_asked_for() {
    use keyless::rekor::{Auditor, EntryRef, Rekor, Step};
    use keyless::trust::{TrustMaterial, TrustSource};
    let log = start();
    log.sign(&["a.tar.gz", "b.tar.gz"]);
    let mut both: serde_json::Map<String, Value> =
        serde_json::from_str(&raw_entry(&log, 0)).unwrap();
    both.extend(
        serde_json::from_str::<serde_json::Map<String, Value>>(&raw_entry(&log, 1)).unwrap(),
    );
    let answer = Value::Object(both).to_string();

    // A log that answers every request with both entries.
    let server = crate::common::serve::serve(axum::Router::new().fallback(move || {
        let body = answer.clone();
        async move {
            (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                body,
            )
        }
    }));
    let url = server.url.clone();

    let trust = TrustMaterial::load(&TrustSource::TrustConfigFile(log.trust())).unwrap();
    let auditor = Auditor::new(trust, std::sync::Arc::new(keyless::clock::SystemClock)).unwrap();
    let rekor = Rekor::new(&url, std::time::Duration::from_secs(10), false).unwrap();
    let (mut picked, mut refused) = (std::collections::BTreeSet::new(), 0);
    for _ in 0..40 {
        picked.insert(rekor.entry_by_index(0).unwrap().log_index.get());
        let (report, _) = auditor.get(&rekor, &EntryRef::Index(0)).unwrap();
        match report.verdict {
            Ok(_) => assert_eq!(report.log_index, 0),
            Err(f) => {
                assert_eq!(f.step, Step::LogEntry, "{f}");
                refused += 1;
            }
        }
    }
    drop(server);
    assert_eq!(
        picked.into_iter().collect::<Vec<_>>(),
        [0, 1],
        "sigstore-rekor answered with either entry"
    );
    assert!(refused > 0, "entry #1 was never passed off as #0");
}
