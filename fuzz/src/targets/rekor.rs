//! Rekor entries and answers as the auditor reads them.

use super::evidence::evidence_seeds;
use super::{Scratch, Seed, Target, clock, seed, testbed, the_trust_roots};
use keyless::rekor::Auditor;
use keyless::trust::{TrustMaterial, TrustSource};
use serde_json::Value;
use std::sync::Arc;

/// Rekor entries as the auditor reads them (`rekor verify-entry`, and the
/// answers of `rekor get`/`search`): a Rekor v1 answer or a bundle's
/// transparency log entry, described and proven offline.
pub struct EntryTarget {
    auditors: Vec<Auditor>,
    seeds: Vec<Seed>,
    scratch: Scratch,
}

impl EntryTarget {
    /// Its trust roots, the testbed's Rekor v1 answers and every entry of
    /// the bundle seeds.
    pub fn load() -> Self {
        let auditors = the_trust_roots()
            .iter()
            .map(|(s, _)| {
                Auditor::new(TrustMaterial::load_uncached(s).expect("trust"), clock())
                    .expect("an auditor")
            })
            .collect();
        let mut seeds = vec![
            seed(&testbed().join("rekor-v1-entry-hashedrekord.json"), 3),
            seed(&testbed().join("rekor-v1-entry-dsse.json"), 3),
        ];
        let (contexts, bundles) = evidence_seeds(&[".sigstore.json", ".sigstore"]);
        for b in &bundles {
            let Ok(doc) = serde_json::from_slice::<Value>(&b.data) else {
                continue;
            };
            let context = contexts[b.context].root;
            for e in doc["verificationMaterial"]["tlogEntries"]
                .as_array()
                .into_iter()
                .flatten()
            {
                seeds.push(Seed {
                    name: format!("entry of {}", b.name),
                    data: e.to_string().into_bytes(),
                    context,
                });
            }
        }
        Self {
            auditors,
            seeds,
            scratch: Scratch::new("entry.json"),
        }
    }
}

impl Target for EntryTarget {
    fn name(&self) -> &'static str {
        "rekor-entry"
    }
    fn seeds(&self) -> &[Seed] {
        &self.seeds
    }
    fn run(&self, context: usize, data: &[u8]) -> String {
        let path = self.scratch.write(data);
        let _ = keyless::rekor::entry::describe(data);
        match self.auditors[context].verify_entry_file(path) {
            Ok(report) => {
                let _ = format!("{report:?}");
                match report.verdict {
                    Ok(_) => "proven".into(),
                    Err(f) => format!("failed at {}", f.step),
                }
            }
            Err(_) => "refused".into(),
        }
    }
}

/// A Rekor v1 answering every request with the body it was last given:
/// 200, `application/json`, on a loopback port.
struct CannedRekor {
    url: String,
    body: Arc<std::sync::Mutex<Vec<u8>>>,
}

impl CannedRekor {
    fn start() -> Self {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("an address"));
        let body = Arc::new(std::sync::Mutex::new(Vec::new()));
        let answer = body.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                // The request: its headers (GET has no body), at most 64 KiB.
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 65536 {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let body = answer.lock().map(|b| b.clone()).unwrap_or_default();
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        Self { url, body }
    }
}

/// Rekor v1 answers as the auditor reads them over HTTP (`rekor log-info`,
/// `rekor get`): the log info and an entry, from a loopback Rekor that
/// answers with the input, each proven against the testbed's trust root.
pub struct RekorAnswerTarget {
    auditor: Auditor,
    rekor: keyless::rekor::Rekor,
    server: CannedRekor,
    seeds: Vec<Seed>,
}

impl RekorAnswerTarget {
    /// The testbed's trust root and its Rekor v1 answers.
    pub fn load() -> Self {
        let trust = TrustMaterial::load_uncached(&TrustSource::TrustConfigFile(
            testbed().join("trust_config.json"),
        ))
        .expect("the testbed's trust config");
        let server = CannedRekor::start();
        let rekor =
            keyless::rekor::Rekor::new(&server.url, std::time::Duration::from_secs(5), false)
                .expect("a Rekor client");
        Self {
            auditor: Auditor::new(trust, clock()).expect("an auditor"),
            rekor,
            server,
            seeds: [
                "rekor-v1-log-info.json",
                "rekor-v1-entry-hashedrekord.json",
                "rekor-v1-entry-dsse.json",
            ]
            .iter()
            .map(|name| seed(&testbed().join(name), 0))
            .collect(),
        }
    }
}

impl Target for RekorAnswerTarget {
    fn name(&self) -> &'static str {
        "rekor-answer"
    }
    fn seeds(&self) -> &[Seed] {
        &self.seeds
    }
    fn run(&self, _context: usize, data: &[u8]) -> String {
        if let Ok(mut body) = self.server.body.lock() {
            *body = data.to_vec();
        }
        // Ask for the entry the answer says it holds, so a well-formed
        // answer gets through to the proof.
        let index = serde_json::from_slice::<Value>(data)
            .ok()
            .and_then(|v| v.as_object()?.values().next()?.get("logIndex")?.as_u64())
            .unwrap_or(0);
        let entry = match self
            .auditor
            .get(&self.rekor, &keyless::rekor::EntryRef::Index(index))
        {
            Ok((report, _)) => match report.verdict {
                Ok(_) => "proven",
                Err(_) => "entry failed",
            },
            Err(_) => "entry refused",
        };
        let info = match self.auditor.log_info(&self.rekor) {
            Ok(report) => match report.verdict {
                Ok(_) => "log info verified",
                Err(_) => "log info failed",
            },
            Err(_) => "log info refused",
        };
        format!("{entry}, {info}")
    }
}
