//! Rekor v2 (rekor-tiles) endpoints: `POST /api/v2/log/entries`, and the
//! read API every tiles client uses, C2SP tlog-tiles: `/checkpoint`,
//! `/tile/<L>/<N>[.p/<W>]` and `/tile/entries/<N>[.p/<W>]`.

use super::http::{Answer, as_sent_or, canonical_proposed, log_stored, serve, serve_with};
use super::rekor_v1::advertised_tree;
use super::state::{Shared, State};
use crate::faults::{Endpoint, Fault};
use crate::rekor::{LogVersion, TILE_WIDTH, canonicalize_v2};
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State as AxState};
use axum::http::{StatusCode, header};
use serde_json::json;

/// `GET /checkpoint`: the log's signed checkpoint (after rollback, fork and
/// wrong-key faults), as a signed note.
pub(super) async fn checkpoint(AxState(st): AxState<Shared>) -> Answer {
    serve(&st, Endpoint::RekorV2, |s, f| {
        let (_, _, text) = advertised_tree(s, &s.keys.rekor_v2, f);
        Answer::bytes(
            StatusCode::OK,
            "text/plain; charset=utf-8",
            text.into_bytes(),
        )
    })
    .await
}

/// What a tile path names: a hash tile of a level, or an entry bundle.
#[derive(Debug, PartialEq, Eq)]
enum TilePath {
    Hashes { level: u32, index: u64, width: u64 },
    Entries { index: u64, width: u64 },
}

/// Parse the part of a tile URL after `/tile/`: `<L>/<N>[.p/<W>]` or
/// `entries/<N>[.p/<W>]`, where N is written in groups of three digits,
/// all but the last prefixed with `x` (`x001/x234/067`).
fn parse_tile_path(path: &str) -> Option<TilePath> {
    let (path, width) = match path.split_once(".p/") {
        Some((p, text)) => {
            // A width is written in decimal without leading zeros.
            let w: u64 = text.parse().ok()?;
            ((1..TILE_WIDTH).contains(&w) && w.to_string() == text).then_some((p, w))?
        }
        None => (path, TILE_WIDTH),
    };
    let (first, rest) = path.split_once('/')?;
    let groups: Vec<&str> = rest.split('/').collect();
    let mut index: u64 = 0;
    for (i, g) in groups.iter().enumerate() {
        let digits = if i + 1 < groups.len() {
            g.strip_prefix('x')?
        } else {
            g
        };
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        index = index.checked_mul(1000)?.checked_add(digits.parse().ok()?)?;
    }
    if first == "entries" {
        return Some(TilePath::Entries { index, width });
    }
    let level: u32 = first
        .parse()
        .ok()
        .filter(|l: &u32| *l < 8 && l.to_string() == first)?;
    Some(TilePath::Hashes {
        level,
        index,
        width,
    })
}

/// `GET /tile/...`: a hash tile or an entry bundle of the tree as it is now.
pub(super) async fn tile(AxState(st): AxState<Shared>, UrlPath(path): UrlPath<String>) -> Answer {
    serve(&st, Endpoint::RekorV2, |s, f| {
        let log = &s.keys.rekor_v2;
        let bytes = match parse_tile_path(&path) {
            Some(TilePath::Hashes {
                level,
                index,
                width,
            }) => log.tile(level, index, width, f.contains(&Fault::ForkedProof)),
            Some(TilePath::Entries { index, width }) => {
                log.entry_bundle(index, width, f.contains(&Fault::CorruptEntryBundle))
            }
            None => return Answer::error(404, format!("no such tile path {path:?}")),
        };
        match bytes {
            Some(b) => Answer::bytes(StatusCode::OK, "application/octet-stream", b),
            None => Answer::error(404, format!("tile {path} is beyond the tree")),
        }
    })
    .await
}

pub(super) async fn create(AxState(st): AxState<Shared>, body: Bytes) -> Answer {
    let answer = serve_with(
        &st,
        Endpoint::RekorV2,
        || Ok(canonical_proposed(canonicalize_v2, &body)),
        |s, f, c| {
            let c = match as_sent_or(f, &body, c) {
                Ok(c) => c,
                Err(a) => return a,
            };
            let (index, duplicate) = s.log_entry(LogVersion::V2, c, f);
            created(s, f, index, duplicate)
        },
    )
    .await;
    log_stored(&st, LogVersion::V2, answer).await
}

/// The answer to a create that logged (or found) the entry at `index`.
fn created(s: &State, faults: &[Fault], index: usize, duplicate: bool) -> Answer {
    if duplicate {
        // rekor-tiles: a gRPC AlreadyExists status.
        return Answer::json(
            StatusCode::CONFLICT,
            &json!({"code": 6, "message": "an equivalent entry already exists in the log", "details": []}),
        )
        .with_header(header::HeaderName::from_static("x-log-index"), index.to_string());
    }
    Answer::json(
        StatusCode::CREATED,
        &s.keys
            .rekor_v2
            .v2_entry_json(index, s.answer_faults(faults)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_paths_parse_as_tlog_tiles_writes_them() {
        let hashes = |level, index, width| {
            Some(TilePath::Hashes {
                level,
                index,
                width,
            })
        };
        assert_eq!(parse_tile_path("0/000"), hashes(0, 0, 256));
        assert_eq!(
            parse_tile_path("1/x001/x234/067"),
            hashes(1, 1_234_067, 256)
        );
        assert_eq!(parse_tile_path("0/005.p/17"), hashes(0, 5, 17));
        assert_eq!(
            parse_tile_path("entries/x001/002.p/255"),
            Some(TilePath::Entries {
                index: 1002,
                width: 255
            })
        );
        for bad in [
            "0/5",
            "0/0005",
            "0/x000",
            "0/001/002",
            "0/000.p/0",
            "0/000.p/256",
            "0/000.p/017",
            "00/000",
            "8/000",
            "entries",
            "x/000",
            "0/000.p/",
        ] {
            assert_eq!(parse_tile_path(bad), None, "{bad}");
        }
    }
}
