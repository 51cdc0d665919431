//! `keyless trust update` output.

use keyless::trust::{TufRepository, UpdateSummary};

/// What was refreshed, from where, into where.
pub fn update_text(repo: &TufRepository, s: &UpdateSummary) -> String {
    let [cas, tlogs, ctlogs, tsas] = s.counts;
    format!(
        "updated trust material from {} into {}\n  {cas} certificate authorities, {tlogs} transparency logs, {ctlogs} CT logs, {tsas} timestamp authorities",
        repo.url,
        s.dir.display()
    )
}
