//! An RFC 6962 / RFC 9162 Merkle tree that *produces* inclusion and
//! consistency proofs, for the testbed's transparency logs.
//!
//! Leaf and node hashing come from `sigstore-merkle`; so does every proof
//! check (the tests below verify each proof this module produces with
//! `sigstore-merkle`'s verifiers). Proof generation has no audited crate in
//! the Sigstore Rust stack: the proof shapes are keyless's
//! (`keyless::rekor::proofs`, which also builds proofs from a Rekor v2
//! log's tiles), over this tree's leaves. A wrong proof shows up as a
//! verification failure, never as a false accept.

use keyless::rekor::proofs::{self, Subtrees};
use sigstore_types::Sha256Hash;

/// The leaves of a log, by leaf hash, with the root of every complete
/// aligned subtree kept as the tree grows: `levels[h][i]` is the root of
/// the 2^h leaves from `i * 2^h` (`levels[0]` are the leaves). Roots and
/// proofs are then made of O(log n) stored nodes, not rehashed from every
/// leaf on each request; the recursion is still RFC 6962's MTH.
#[derive(Debug, Clone, Default)]
pub struct MerkleTree {
    levels: Vec<Vec<Sha256Hash>>,
}

/// A tree's leaves, as RFC 6962's proofs see them.
struct Leaves<'a>(&'a MerkleTree);

impl Subtrees for Leaves<'_> {
    type Error = std::convert::Infallible;

    fn range_root(&mut self, start: u64, end: u64) -> Result<Sha256Hash, Self::Error> {
        Ok(self.0.subtree_root(start as usize, end as usize))
    }
}

impl MerkleTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    fn leaves(&self) -> &[Sha256Hash] {
        self.levels.first().map_or(&[], Vec::as_slice)
    }

    /// MTH(D[start..end]) over the leaf hashes from `start` to `end`.
    fn subtree_root(&self, start: usize, end: usize) -> Sha256Hash {
        let n = end - start;
        if n == 0 {
            return sigstore_crypto::sha256(b"");
        }
        // A complete aligned subtree is stored.
        if n.is_power_of_two() && start.is_multiple_of(n) {
            let h = n.trailing_zeros() as usize;
            if let Some(node) = self.levels.get(h).and_then(|l| l.get(start >> h)) {
                return *node;
            }
        }
        let k = proofs::split(n as u64) as usize;
        sigstore_merkle::hash_children(
            &self.subtree_root(start, start + k),
            &self.subtree_root(start + k, end),
        )
    }

    /// Append the leaf for `entry` (hashed as an RFC 6962 leaf); returns its index.
    pub fn append(&mut self, entry: &[u8]) -> u64 {
        let mut node = sigstore_merkle::hash_leaf(entry);
        let mut h = 0;
        // The new leaf completes a subtree at each level where its
        // position is odd.
        loop {
            if self.levels.len() == h {
                self.levels.push(Vec::new());
            }
            let level = &mut self.levels[h];
            level.push(node);
            if level.len() % 2 == 1 {
                break;
            }
            node = sigstore_merkle::hash_children(&level[level.len() - 2], &level[level.len() - 1]);
            h += 1;
        }
        self.size() - 1
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.leaves().len() as u64
    }

    /// The root hash of the first `size` leaves (the tree as it was then).
    pub fn root_at(&self, size: u64) -> Option<Sha256Hash> {
        let size = usize::try_from(size).ok()?;
        (size <= self.leaves().len()).then(|| self.subtree_root(0, size))
    }

    /// The current root hash.
    pub fn root(&self) -> Sha256Hash {
        self.subtree_root(0, self.leaves().len())
    }

    /// The hash of the complete subtree of height `height` (2^height
    /// leaves) at position `index` among those of its height, if the tree
    /// holds all its leaves: what a C2SP tlog-tiles tile lists.
    pub fn node(&self, height: u32, index: u64) -> Option<Sha256Hash> {
        let width = 1usize.checked_shl(height)?;
        let start = usize::try_from(index).ok()?.checked_mul(width)?;
        let end = start.checked_add(width)?;
        (end <= self.leaves().len()).then(|| self.subtree_root(start, end))
    }

    /// The inclusion proof of leaf `index` in the tree of `size` leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Option<Vec<Sha256Hash>> {
        if index >= size || size > self.size() {
            return None;
        }
        let Ok(proof) = proofs::inclusion(&mut Leaves(self), index, size);
        Some(proof)
    }

    /// The consistency proof from the tree of `old` leaves to that of `new`.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Option<Vec<Sha256Hash>> {
        if old > new || new > self.size() {
            return None;
        }
        let Ok(proof) = proofs::consistency(&mut Leaves(self), old, new);
        Some(proof)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tree(n: usize) -> MerkleTree {
        let mut t = MerkleTree::new();
        for i in 0..n {
            t.append(format!("entry {i}").as_bytes());
        }
        t
    }

    #[test]
    fn known_answer_for_rfc6962_shapes() {
        // Two leaves: root = H(0x01 || H(0x00||a) || H(0x00||b)).
        let mut t = MerkleTree::new();
        t.append(b"a");
        t.append(b"b");
        let expected = sigstore_merkle::hash_children(
            &sigstore_merkle::hash_leaf(b"a"),
            &sigstore_merkle::hash_leaf(b"b"),
        );
        assert_eq!(t.root(), expected);
        assert_eq!(MerkleTree::new().root(), sigstore_crypto::sha256(b""));
    }

    /// MTH(D[n]) straight from RFC 6962, from every leaf.
    fn naive_root(leaves: &[Sha256Hash]) -> Sha256Hash {
        match leaves.len() {
            0 => sigstore_crypto::sha256(b""),
            1 => leaves[0],
            n => {
                let k = proofs::split(n as u64) as usize;
                sigstore_merkle::hash_children(&naive_root(&leaves[..k]), &naive_root(&leaves[k..]))
            }
        }
    }

    #[test]
    fn stored_subtrees_give_the_roots_of_every_leaf() {
        let t = tree(70);
        let leaves: Vec<Sha256Hash> = (0..70)
            .map(|i| sigstore_merkle::hash_leaf(format!("entry {i}").as_bytes()))
            .collect();
        for size in 0..=70 {
            assert_eq!(
                t.root_at(size as u64),
                Some(naive_root(&leaves[..size])),
                "{size}"
            );
        }
        for start in 0..70 {
            for end in start..=70 {
                assert_eq!(t.subtree_root(start, end), naive_root(&leaves[start..end]));
            }
        }
    }

    proptest! {
        #[test]
        fn every_inclusion_proof_verifies(n in 1usize..70, seed in any::<u64>()) {
            let t = tree(n);
            let index = (seed as usize) % n;
            let size = index + 1 + (seed as usize / 7) % (n - index);
            let proof = t.inclusion_proof(index as u64, size as u64).unwrap();
            let leaf = sigstore_merkle::hash_leaf(format!("entry {index}").as_bytes());
            prop_assert!(sigstore_merkle::verify_inclusion_proof(
                &leaf, index as u64, size as u64, &proof, &t.root_at(size as u64).unwrap()
            ).is_ok());
            // A proof for another leaf must not verify.
            let other = sigstore_merkle::hash_leaf(b"not in the log");
            prop_assert!(sigstore_merkle::verify_inclusion_proof(
                &other, index as u64, size as u64, &proof, &t.root_at(size as u64).unwrap()
            ).is_err());
        }

        #[test]
        fn every_consistency_proof_verifies(n in 1usize..70, seed in any::<u64>()) {
            let t = tree(n);
            let new = 1 + (seed as usize) % n;
            let old = 1 + (seed as usize / 13) % new;
            let proof = t.consistency_proof(old as u64, new as u64).unwrap();
            let (old_root, new_root) = (t.root_at(old as u64).unwrap(), t.root_at(new as u64).unwrap());
            prop_assert!(sigstore_merkle::verify_consistency_proof(
                old as u64, new as u64, &proof, &old_root, &new_root
            ).is_ok());
            if old < new {
                // A forked history (another old root) must not verify.
                let forged = sigstore_crypto::sha256(b"forged");
                prop_assert!(sigstore_merkle::verify_consistency_proof(
                    old as u64, new as u64, &proof, &forged, &new_root
                ).is_err());
            }
        }
    }

    #[test]
    fn out_of_range_requests_give_none() {
        let t = tree(5);
        assert!(t.inclusion_proof(5, 5).is_none());
        assert!(t.inclusion_proof(0, 6).is_none());
        assert!(t.consistency_proof(4, 3).is_none());
        assert!(t.consistency_proof(1, 9).is_none());
        assert!(t.root_at(6).is_none());
    }
}
