//! Reading a Rekor v2 log through its C2SP `tlog-tiles` read API: the
//! checkpoint at `/checkpoint`, hash tiles at `/tile/<L>/<N>[.p/<W>]`,
//! entry bundles at `/tile/entries/<N>[.p/<W>]`.
//!
//! A tiles log serves no proofs: a client builds the RFC 6962 consistency
//! and inclusion proofs it needs from the tiles' node hashes (by
//! [`super::proofs`]), and `sigstore-merkle` verifies them against signed
//! checkpoints. A tile that lies makes a proof that does not verify, never a
//! false accept: every hash read ends up under a root the log's key signed.

use super::proofs::{self, Subtrees, split};
use crate::net::answer::{self, Cap};
use sigstore_types::Sha256Hash;
use std::collections::HashMap;

/// Hashes per full tile, entries per full entry bundle.
pub(crate) const TILE_WIDTH: u64 = 256;

/// A fetch failed: the message, and the HTTP status if the log answered.
pub(crate) type FetchError = (String, Option<u16>);

/// `N` as tlog-tiles writes it in a path: groups of three digits, all but
/// the last prefixed with `x` (1234067 is `x001/x234/067`).
pub(crate) fn index_path(n: u64) -> String {
    let mut groups = vec![format!("{:03}", n % 1000)];
    let mut rest = n / 1000;
    while rest > 0 {
        groups.push(format!("x{:03}", rest % 1000));
        rest /= 1000;
    }
    groups.reverse();
    groups.join("/")
}

/// The path of tile `index` of `kind` (a level, or `entries`) `width` wide.
fn tile_path(kind: &str, index: u64, width: u64) -> String {
    let mut path = format!("/tile/{kind}/{}", index_path(index));
    if width < TILE_WIDTH {
        path.push_str(&format!(".p/{width}"));
    }
    path
}

/// Fetch `path` (read through `cap`). A partial tile the log no longer
/// serves (tlog-tiles lets it delete one once the full tile exists) is read
/// as the first bytes of the full tile.
fn fetch_tile(
    fetch: &mut impl FnMut(&str, Cap) -> Result<Vec<u8>, FetchError>,
    kind: &str,
    index: u64,
    width: u64,
    cap: Cap,
) -> Result<Vec<u8>, String> {
    let path = tile_path(kind, index, width);
    match fetch(&path, cap) {
        Ok(b) => Ok(b),
        Err((_, Some(404))) if width < TILE_WIDTH => {
            fetch(&tile_path(kind, index, TILE_WIDTH), cap).map_err(|(e, _)| e)
        }
        Err((e, _)) => Err(e),
    }
}

/// The tree of a tiles log at one size, read tile by tile as needed.
///
/// A scan over many entries (a monitor's) asks for proofs of consecutive
/// leaves: it is served by a few tiles per level at any time, so tiles
/// behind it are dropped and memory stays flat in the log's size, and each
/// tile's inner nodes are hashed once, not again for every proof (issue #19).
pub(crate) struct TileTree<F> {
    size: u64,
    fetch: F,
    /// Hash tiles held: (level, index) -> the tile's nodes.
    tiles: HashMap<(u32, u64), Tile>,
    /// The entry bundle last read: its index and bodies.
    bundle: Option<(u64, Vec<Vec<u8>>)>,
}

/// A hash tile and the nodes above its hashes: `nodes[b][j]` is the hash
/// of the complete subtree over its hashes `j * 2^b .. (j + 1) * 2^b`
/// (`nodes[0]` are the tile's own hashes; a partial tile has fewer).
struct Tile {
    nodes: Vec<Vec<Sha256Hash>>,
}

impl Tile {
    fn new(hashes: Vec<Sha256Hash>) -> Self {
        let mut nodes = vec![hashes];
        while let Some(last) = nodes.last().filter(|l| l.len() > 1) {
            let up = last
                .chunks_exact(2)
                .map(|p| sigstore_merkle::hash_children(&p[0], &p[1]))
                .collect();
            nodes.push(up);
        }
        Self { nodes }
    }
}

impl<F: FnMut(&str, Cap) -> Result<Vec<u8>, FetchError>> TileTree<F> {
    /// The tree of `size` leaves, its tiles fetched by `fetch(path, cap)`.
    pub(crate) fn new(size: u64, fetch: F) -> Self {
        Self {
            size,
            fetch,
            tiles: HashMap::new(),
            bundle: None,
        }
    }

    /// Tile `index` at `level` as the tree of `size` has it.
    fn tile(&mut self, level: u32, index: u64) -> Result<&Tile, String> {
        if !self.tiles.contains_key(&(level, index)) {
            // Complete subtrees of 256^level leaves in the tree.
            let nodes = self.size >> (8 * level);
            let width = nodes
                .checked_sub(index * TILE_WIDTH)
                .filter(|w| *w > 0)
                .ok_or_else(|| format!("tile {level}/{index} is beyond the tree"))?
                .min(TILE_WIDTH);
            let bytes = fetch_tile(
                &mut self.fetch,
                &level.to_string(),
                index,
                width,
                answer::REKOR_V2_TILE,
            )?;
            // A full tile stands in for a deleted partial one: its prefix.
            let want = 32 * width as usize;
            if bytes.len() < want || bytes.len() % 32 != 0 {
                return Err(format!(
                    "tile {level}/{index} has {} bytes, not {want}",
                    bytes.len()
                ));
            }
            let hashes = bytes[..want]
                .chunks_exact(32)
                .map(|c| Sha256Hash::try_from(c).map_err(|e| e.to_string()))
                .collect::<Result<Vec<_>, _>>()?;
            // Tiles of this level behind the one before are not asked for
            // again by a scan; the level's last tile (the tree's right
            // edge) is in every proof.
            let last = (nodes - 1) / TILE_WIDTH;
            self.tiles
                .retain(|&(l, i), _| l != level || i + 1 >= index || i == last);
            self.tiles.insert((level, index), Tile::new(hashes));
        }
        Ok(&self.tiles[&(level, index)])
    }

    /// The hash of the complete subtree of 2^height leaves at `index`.
    fn node(&mut self, height: u32, index: u64) -> Result<Sha256Hash, String> {
        let (level, below) = (height / 8, height % 8);
        // The node `below` levels above the tile's hashes.
        let first = index << below;
        let tile = self.tile(level, first / TILE_WIDTH)?;
        let offset = ((first % TILE_WIDTH) >> below) as usize;
        tile.nodes
            .get(below as usize)
            .and_then(|n| n.get(offset))
            .copied()
            .ok_or_else(|| format!("tile {level}/{} is short", first / TILE_WIDTH))
    }

    /// The root hash of the tree.
    pub(crate) fn root(&mut self) -> Result<Sha256Hash, String> {
        self.range_root(0, self.size)
    }

    /// The consistency proof from the tree of `old` leaves to this one.
    pub(crate) fn consistency(&mut self, old: u64) -> Result<Vec<Sha256Hash>, String> {
        let size = self.size;
        proofs::consistency(self, old, size)
    }

    /// The inclusion proof of leaf `index`.
    pub(crate) fn inclusion(&mut self, index: u64) -> Result<Vec<Sha256Hash>, String> {
        let size = self.size;
        if index >= size {
            return Err(format!("no leaf {index} in a tree of {size}"));
        }
        proofs::inclusion(self, index, size)
    }

    /// The entries `from..to` (within one tree of `self.size`), as logged:
    /// each entry bundle's length-prefixed bodies.
    pub(crate) fn entries(&mut self, from: u64, to: u64) -> Result<Vec<Vec<u8>>, String> {
        // Nothing new (a monitor run on an unchanged log): nothing fetched.
        (from..to).map(|index| self.entry(index)).collect()
    }

    /// Entry `index`, from its entry bundle (the last bundle read is kept:
    /// consecutive entries fetch each bundle once).
    pub(crate) fn entry(&mut self, index: u64) -> Result<Vec<u8>, String> {
        if index >= self.size {
            return Err(format!("no entry {index} in a tree of {}", self.size));
        }
        let bundle = index / TILE_WIDTH;
        if self.bundle.as_ref().is_none_or(|(b, _)| *b != bundle) {
            let width = (self.size - bundle * TILE_WIDTH).min(TILE_WIDTH);
            let bytes = fetch_tile(
                &mut self.fetch,
                "entries",
                bundle,
                width,
                answer::REKOR_V2_ENTRY_BUNDLE,
            )?;
            let mut bodies = split_bundle(&bytes)?;
            if (bodies.len() as u64) < width {
                return Err(format!(
                    "entry bundle {bundle} has {} entries, not {width}",
                    bodies.len()
                ));
            }
            bodies.truncate(width as usize);
            self.bundle = Some((bundle, bodies));
        }
        let (_, bodies) = self.bundle.as_ref().ok_or("no entry bundle")?;
        Ok(bodies[(index % TILE_WIDTH) as usize].clone())
    }
}

impl<F: FnMut(&str, Cap) -> Result<Vec<u8>, FetchError>> Subtrees for TileTree<F> {
    type Error = String;

    /// A complete subtree's hash from its tile, or RFC 6962's split.
    fn range_root(&mut self, start: u64, end: u64) -> Result<Sha256Hash, String> {
        let n = end - start;
        if n == 0 {
            return Ok(sigstore_crypto::sha256(b""));
        }
        if n.is_power_of_two() && start.is_multiple_of(n) {
            return self.node(n.trailing_zeros(), start / n);
        }
        let k = split(n);
        let left = self.range_root(start, start + k)?;
        let right = self.range_root(start + k, end)?;
        Ok(sigstore_merkle::hash_children(&left, &right))
    }
}

/// The bodies of an entry bundle: each a big-endian u16 length, then that
/// many bytes.
fn split_bundle(mut bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let [a, b, rest @ ..] = bytes else {
            return Err("an entry bundle ends inside a length".into());
        };
        let len = usize::from(u16::from_be_bytes([*a, *b]));
        let body = rest
            .get(..len)
            .ok_or("an entry bundle ends inside an entry")?;
        out.push(body.to_vec());
        bytes = &rest[len..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiles log in memory: the tiles of `leaves`, served as a log does.
    fn serve(leaves: &[Vec<u8>]) -> impl FnMut(&str, Cap) -> Result<Vec<u8>, FetchError> {
        let hashes: Vec<Sha256Hash> = leaves
            .iter()
            .map(|l| sigstore_merkle::hash_leaf(l))
            .collect();
        let leaves = leaves.to_vec();
        move |path: &str, _cap: Cap| {
            let (path, width) = match path.split_once(".p/") {
                Some((p, w)) => (p, w.parse::<usize>().unwrap()),
                None => (path, 256),
            };
            let rest = path.strip_prefix("/tile/").unwrap();
            let (kind, n) = rest.split_once('/').unwrap();
            let n: usize = n.replace(['x', '/'], "").parse().unwrap();
            if kind == "entries" {
                let mut out = Vec::new();
                for l in leaves.iter().skip(n * 256).take(width) {
                    out.extend((l.len() as u16).to_be_bytes());
                    out.extend(l);
                }
                return Ok(out);
            }
            let level: u32 = kind.parse().unwrap();
            let span = 1usize << (8 * level);
            let mut out = Vec::new();
            for i in n * 256..n * 256 + width {
                let chunk = hashes
                    .get(i * span..(i + 1) * span)
                    .ok_or(("beyond".to_string(), Some(404)))?;
                let mut level_hashes = chunk.to_vec();
                while level_hashes.len() > 1 {
                    level_hashes = level_hashes
                        .chunks_exact(2)
                        .map(|p| sigstore_merkle::hash_children(&p[0], &p[1]))
                        .collect();
                }
                out.extend(level_hashes[0].as_bytes());
            }
            Ok(out)
        }
    }

    fn leaves(n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|i| format!("entry {i}").into_bytes()).collect()
    }

    #[test]
    fn index_paths_are_written_in_groups_of_three() {
        assert_eq!(index_path(0), "000");
        assert_eq!(index_path(67), "067");
        assert_eq!(index_path(1_234_067), "x001/x234/067");
        assert_eq!(tile_path("0", 5, 17), "/tile/0/005.p/17");
        assert_eq!(tile_path("entries", 1000, 256), "/tile/entries/x001/000");
    }

    /// Proofs built from tiles verify with sigstore-merkle, across tile
    /// boundaries and levels (sizes past 256 use level-1 tiles).
    #[test]
    fn proofs_from_tiles_verify_with_sigstore_merkle() {
        let all = leaves(600);
        for size in [1u64, 2, 3, 255, 256, 257, 511, 513, 600] {
            let mut tree = TileTree::new(size, serve(&all[..size as usize]));
            let root = tree.root().unwrap();
            for old in [1u64, 2, 7, 255, 256, 300] {
                if old > size {
                    continue;
                }
                let proof = tree.consistency(old).unwrap();
                let old_root = TileTree::new(old, serve(&all[..old as usize]))
                    .root()
                    .unwrap();
                sigstore_merkle::verify_consistency_proof(old, size, &proof, &old_root, &root)
                    .unwrap_or_else(|e| panic!("{old} -> {size}: {e}"));
                // Another history does not verify.
                if old < size {
                    let forged = sigstore_crypto::sha256(b"fork");
                    assert!(
                        sigstore_merkle::verify_consistency_proof(
                            old, size, &proof, &forged, &root
                        )
                        .is_err()
                    );
                }
            }
            for index in [0, size / 2, size - 1] {
                let proof = tree.inclusion(index).unwrap();
                let leaf = sigstore_merkle::hash_leaf(&all[index as usize]);
                sigstore_merkle::verify_inclusion_proof(&leaf, index, size, &proof, &root)
                    .unwrap_or_else(|e| panic!("#{index} in {size}: {e}"));
            }
        }
    }

    /// tlog-tiles lets a log delete a partial tile once the full one
    /// exists: a client that asks for the partial one reads the full one's
    /// prefix, and the proofs still verify.
    #[test]
    fn a_deleted_partial_tile_is_read_from_the_full_one() {
        let all = leaves(600);
        let mut full = serve(&all);
        let mut asked = Vec::new();
        let fetch = |path: &str, cap: Cap| {
            asked.push(path.to_string());
            // Level 0's partial tiles are gone (its tile 1 is full now).
            if path.starts_with("/tile/0/") && path.contains(".p/") {
                return Err(("gone".to_string(), Some(404)));
            }
            full(path, cap)
        };
        // The tree when the log held 260 entries; tile 0/001 has grown since.
        let mut tree = TileTree::new(260, fetch);
        let root = tree.root().unwrap();
        let leaf = sigstore_merkle::hash_leaf(&all[259]);
        let proof = tree.inclusion(259).unwrap();
        drop(tree);
        let expected = TileTree::new(260, serve(&all[..260])).root().unwrap();
        assert_eq!(root, expected);
        sigstore_merkle::verify_inclusion_proof(&leaf, 259, 260, &proof, &root).unwrap();
        assert!(asked.iter().any(|p| p == "/tile/0/001.p/4"), "{asked:?}");
    }

    #[test]
    fn no_entries_asked_for_fetch_nothing() {
        let mut tree = TileTree::new(
            300,
            |path: &str, _cap: Cap| -> Result<Vec<u8>, FetchError> { panic!("fetched {path}") },
        );
        assert!(tree.entries(300, 300).unwrap().is_empty());
    }

    /// A scan proves consecutive entries: each entry bundle is read once,
    /// and the tiles held stay a few per level however long the log
    /// (issue #19: a monitor's memory is flat in the log's size).
    #[test]
    fn a_scan_reads_each_bundle_once_and_holds_a_few_tiles() {
        let all = leaves(3000);
        let mut served = serve(&all);
        let mut asked: Vec<String> = Vec::new();
        let fetch = |path: &str, cap: Cap| {
            asked.push(path.to_string());
            served(path, cap)
        };
        let mut tree = TileTree::new(3000, fetch);
        let root = tree.root().unwrap();
        let mut most = 0;
        for index in 0..3000 {
            let body = tree.entry(index).unwrap();
            assert_eq!(body, all[index as usize]);
            let proof = tree.inclusion(index).unwrap();
            let leaf = sigstore_merkle::hash_leaf(&body);
            sigstore_merkle::verify_inclusion_proof(&leaf, index, 3000, &proof, &root)
                .unwrap_or_else(|e| panic!("#{index}: {e}"));
            most = most.max(tree.tiles.len());
        }
        drop(tree);
        // 12 level-0 tiles and one level-1 tile in all; at most the one
        // before, the current and the last of level 0, and level 1's.
        assert!(most <= 4, "{most} tiles held at once");
        let bundles: Vec<&String> = asked.iter().filter(|p| p.contains("entries")).collect();
        assert_eq!(bundles.len(), 12, "{bundles:?}");
    }

    #[test]
    fn entries_come_from_the_bundles_in_order() {
        let all = leaves(300);
        let mut tree = TileTree::new(300, serve(&all));
        assert_eq!(tree.entries(250, 260).unwrap(), all[250..260].to_vec());
        assert_eq!(tree.entries(0, 1).unwrap(), all[..1].to_vec());
        assert!(split_bundle(&[0, 5, 1]).is_err());
    }
}
