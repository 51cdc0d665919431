//! `--jobs N`: a run's uploads go out N files at a time, never more, so
//! that many files under service latency take ceil(files / N) round trips,
//! not one each. Seen from the testbed: answers are held back long enough
//! for whatever the client sends at once to overlap there.

use super::setup;
use keyless_testbed::faults::Endpoint;
use std::ffi::OsStr;

#[test]
fn uploads_go_out_jobs_files_at_a_time_under_one_certificate() {
    let s = setup();
    let files: Vec<_> = (0..10).map(|i| s.add(&format!("pkg-{i}.tar.gz"))).collect();
    s.fault("rekor-v2=delay:300");
    s.fault("tsa=delay:300");
    let mut args: Vec<&OsStr> = files.iter().map(|f| f.as_os_str()).collect();
    args.extend([OsStr::new("--jobs"), OsStr::new("4")]);
    s.sign("trust_config_v2.json", &args).assert_code(0);
    // Each file's timestamp and log entry go out together, four files at
    // a time; the certificate check's timestamp came alone, before them.
    assert_eq!(s.tb.most_in_flight(Endpoint::RekorV2), 4);
    assert_eq!(s.tb.most_in_flight(Endpoint::Tsa), 4);
    assert_eq!(s.tb.requests(Endpoint::RekorV2), 10);
    assert_eq!(s.tb.requests(Endpoint::Tsa), 11);
    assert_eq!(s.tb.requests(Endpoint::Fulcio), 1);
    assert_eq!(s.tb.most_in_flight(Endpoint::Fulcio), 1);
}
