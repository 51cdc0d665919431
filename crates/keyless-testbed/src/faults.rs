//! Fault injection: make one endpoint misbehave, from the command line
//! (`--fault`) or the admin endpoint (`POST /admin/faults`).

use serde::{Deserialize, Serialize};

/// Which service a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Endpoint {
    /// OIDC discovery and JWKS.
    Oidc,
    /// Fulcio (`signingCert`, `trustBundle`, `configuration`).
    Fulcio,
    /// Rekor v1 (every `/api/v1/log` and `/api/v1/index` route).
    RekorV1,
    /// Rekor v2 `POST /api/v2/log/entries`.
    RekorV2,
    /// The RFC 3161 TSA.
    Tsa,
    /// The TUF repository.
    Tuf,
    /// The PyPI stand-in (simple API, files, Integrity API, uploads).
    Pypi,
}

impl std::str::FromStr for Endpoint {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).map_err(|_| {
            format!("unknown endpoint {s:?} (oidc, fulcio, rekor-v1, rekor-v2, tsa, tuf, pypi)")
        })
    }
}

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "arg")]
pub enum Fault {
    /// Answer with this HTTP status (e.g. 500, 503) and a JSON error.
    Status(u16),
    /// Wait this many milliseconds before answering.
    Delay(u64),
    /// Cut the body in half.
    Truncate,
    /// Answer with a body that is not JSON.
    Malformed,
    /// Rekor: an inclusion or consistency proof that does not verify.
    WrongProof,
    /// Rekor: a checkpoint signed by a key the trust root does not know.
    WrongCheckpointKey,
    /// Rekor v1: a SET signed by a key the trust root does not know.
    WrongSetKey,
    /// Rekor: the tree appears rolled back (a smaller tree size).
    RolledBack,
    /// Rekor: the same tree size with a different root hash.
    ForkedRoot,
    /// Fulcio: an SCT from a CT log the trust root does not know.
    UntrustedSct,
    /// Fulcio: a certificate that expired before it was issued.
    ExpiredCert,
    /// Rekor: log the entry but answer 409 as if it already existed.
    Duplicate,
    /// Rekor v1: an entry fetched by index or UUID is answered with another
    /// genuine entry (the next one; the one before for the last).
    OtherEntry,
    /// Rekor v1: an entry fetched by index or UUID is answered with the
    /// entry before it filed under the index asked for (its SET signed for
    /// that index by the log's key; its proof still for its own leaf).
    MisnumberedEntry,
    /// Rekor: entries are proven in a fork of the log: a tree of the same
    /// size with another leaf in place of one that is not the entry's
    /// (leaf 0, or the last for entry 0), its checkpoint signed by the
    /// log's own key, so each proof verifies on its own. Rekor v1: the
    /// entries' inclusion proofs; Rekor v2: the hash tiles.
    ForkedProof,
    /// Rekor v1: entries' inclusion proofs are for the tree this many
    /// entries smaller (an entry that tree lacks is proven as usual); with
    /// `forked-proof`, for the fork of that tree.
    StaleProof(u64),
    /// Rekor v1: entries' checkpoints name another shard's tree (origin
    /// `<name> - 1`), signed by the log's own key, as a log whose shards
    /// share a key could answer with an entry of an older shard.
    OtherShard,
    /// Rekor v2: entry bundles with one byte of each entry changed (the
    /// lengths kept), which the hash tiles do not prove.
    CorruptEntryBundle,
    /// Rekor: a proposed entry is logged exactly as sent, unvalidated (what
    /// keyless cannot read, as an entry of a kind it does not know).
    LogAsSent,
}

/// A fault rule: `endpoint=fault[:arg][,after=N][,times=N]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultRule {
    /// Where.
    pub endpoint: Endpoint,
    /// What.
    pub fault: Fault,
    /// Let this many requests through first.
    #[serde(default)]
    pub after: u32,
    /// Apply this many times, then stop (default: forever).
    #[serde(default)]
    pub times: Option<u32>,
}

impl std::str::FromStr for FaultRule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (endpoint, rest) = s.split_once('=').ok_or_else(|| {
            format!("fault {s:?} is not ENDPOINT=FAULT[:ARG][,after=N][,times=N]")
        })?;
        let mut parts = rest.split(',');
        let spec = parts.next().unwrap_or_default();
        let (kind, arg) = match spec.split_once(':') {
            Some((k, a)) => (k, Some(a)),
            None => (spec, None),
        };
        let num = |a: Option<&str>, what: &str| -> Result<u64, String> {
            a.ok_or_else(|| format!("{what} needs a number, e.g. {what}:503"))?
                .parse()
                .map_err(|_| format!("{what}: not a number"))
        };
        let fault = match kind {
            "status" => Fault::Status(
                u16::try_from(num(arg, "status")?)
                    .ok()
                    .filter(|s| (400..600).contains(s))
                    .ok_or("status must be 400-599")?,
            ),
            "delay" => Fault::Delay(num(arg, "delay")?),
            "truncate" => Fault::Truncate,
            "malformed" => Fault::Malformed,
            "wrong-proof" => Fault::WrongProof,
            "wrong-checkpoint-key" => Fault::WrongCheckpointKey,
            "wrong-set-key" => Fault::WrongSetKey,
            "rolled-back" => Fault::RolledBack,
            "forked-root" => Fault::ForkedRoot,
            "untrusted-sct" => Fault::UntrustedSct,
            "expired-cert" => Fault::ExpiredCert,
            "duplicate" => Fault::Duplicate,
            "other-entry" => Fault::OtherEntry,
            "misnumbered-entry" => Fault::MisnumberedEntry,
            "forked-proof" => Fault::ForkedProof,
            "stale-proof" => Fault::StaleProof(num(arg, "stale-proof")?),
            "other-shard" => Fault::OtherShard,
            "corrupt-entry-bundle" => Fault::CorruptEntryBundle,
            "log-as-sent" => Fault::LogAsSent,
            other => return Err(format!("unknown fault {other:?}")),
        };
        let mut rule = FaultRule {
            endpoint: endpoint.parse()?,
            fault,
            after: 0,
            times: None,
        };
        rule.validate()?;
        for p in parts {
            match p.split_once('=') {
                Some(("after", n)) => rule.after = n.parse().map_err(|_| "after=N")?,
                Some(("times", n)) => rule.times = Some(n.parse().map_err(|_| "times=N")?),
                _ => return Err(format!("unknown fault option {p:?}")),
            }
        }
        Ok(rule)
    }
}

impl FaultRule {
    /// Refuse a rule that could never take effect: a status outside
    /// 400-599, or a fault the endpoint does not produce.
    pub fn validate(&self) -> Result<(), String> {
        use Endpoint as E;
        use Fault as F;
        let ok = match self.fault {
            F::Status(s) => (400..600).contains(&s),
            F::Delay(_) | F::Truncate | F::Malformed => true,
            // Rekor v2 rolls back or forks in its `/checkpoint`.
            F::WrongProof
            | F::WrongCheckpointKey
            | F::Duplicate
            | F::RolledBack
            | F::ForkedRoot => matches!(self.endpoint, E::RekorV1 | E::RekorV2),
            F::WrongSetKey => self.endpoint == E::RekorV1,
            F::ForkedProof | F::LogAsSent => matches!(self.endpoint, E::RekorV1 | E::RekorV2),
            F::OtherEntry | F::MisnumberedEntry | F::StaleProof(_) | F::OtherShard => {
                self.endpoint == E::RekorV1
            }
            F::CorruptEntryBundle => self.endpoint == E::RekorV2,
            F::UntrustedSct | F::ExpiredCert => self.endpoint == E::Fulcio,
        };
        if ok {
            Ok(())
        } else {
            Err(format!(
                "fault {:?} cannot apply to {:?}",
                self.fault, self.endpoint
            ))
        }
    }
}

/// The active rules and per-endpoint request counters.
#[derive(Debug, Default)]
pub struct FaultTable {
    /// Each rule with the endpoint's request count when it was added, and
    /// how often it has applied.
    rules: Vec<(FaultRule, u32, u32)>,
    seen: std::collections::HashMap<Endpoint, u32>,
}

impl FaultTable {
    /// Add a rule.
    pub fn add(&mut self, rule: FaultRule) {
        // `after` counts requests from now on, not since the start.
        let baseline = self.requests(rule.endpoint);
        self.rules.push((rule, baseline, 0));
    }

    /// Remove every rule (request counters keep counting).
    pub fn clear(&mut self) {
        self.rules.clear();
    }

    /// The rules.
    pub fn rules(&self) -> Vec<FaultRule> {
        self.rules.iter().map(|(r, _, _)| *r).collect()
    }

    /// How many requests `endpoint` has served.
    pub fn requests(&self, endpoint: Endpoint) -> u32 {
        self.seen.get(&endpoint).copied().unwrap_or(0)
    }

    /// Count a request to `endpoint` and return the faults that apply to it.
    pub fn on_request(&mut self, endpoint: Endpoint) -> Vec<Fault> {
        let seen = self.seen.entry(endpoint).or_default();
        *seen += 1;
        let n = *seen;
        let mut out = Vec::new();
        for (rule, baseline, applied) in &mut self.rules {
            if rule.endpoint == endpoint
                && n > *baseline + rule.after
                && rule.times.is_none_or(|t| *applied < t)
            {
                *applied += 1;
                out.push(rule.fault);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_and_apply_in_window() {
        let rule: FaultRule = "rekor-v1=status:503,after=2,times=1".parse().unwrap();
        assert_eq!(rule.fault, Fault::Status(503));
        let mut t = FaultTable::default();
        t.add(rule);
        let got: Vec<usize> = (0..5)
            .map(|_| t.on_request(Endpoint::RekorV1).len())
            .collect();
        assert_eq!(got, [0, 0, 1, 0, 0]);
        assert!(t.on_request(Endpoint::Fulcio).is_empty());
        // A rule added later counts from then on.
        t.add("rekor-v1=truncate,after=1,times=1".parse().unwrap());
        let got: Vec<usize> = (0..3)
            .map(|_| t.on_request(Endpoint::RekorV1).len())
            .collect();
        assert_eq!(got, [0, 1, 0]);
    }

    #[test]
    fn bad_rules_are_refused() {
        for s in [
            "",
            "rekor-v1",
            "nope=status:500",
            "fulcio=status",
            "fulcio=status:200",
            "tsa=truncate,when=3",
            "rekor-v1=stale-proof",
            "rekor-v2=other-entry",
            "rekor-v1=corrupt-entry-bundle",
        ] {
            assert!(s.parse::<FaultRule>().is_err(), "{s}");
        }
    }
}
