//! RFC 6962 inclusion and consistency proofs *built* from subtree hashes
//! (RFC 6962 §2.1.1 PATH and §2.1.2 SUBPROOF), for a log that serves hashes
//! instead of proofs (a Rekor v2 log's tiles) and for the testbed's logs.
//!
//! Building a proof decides nothing: `sigstore-merkle` verifies every proof
//! against signed roots, so a wrong hash here makes a proof that fails,
//! never a false accept.

use sigstore_types::Sha256Hash;

/// A Merkle tree that can tell the root of any range RFC 6962's proofs
/// need: MTH(D[start..end]).
pub trait Subtrees {
    /// Why a hash could not be had (a fetch that failed, say).
    type Error;

    /// MTH(D[start..end]) (`start < end`, `end` within the tree).
    fn range_root(&mut self, start: u64, end: u64) -> Result<Sha256Hash, Self::Error>;
}

/// The largest power of two smaller than `n` (`n > 1`): RFC 6962's split.
pub fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// PATH(index, D[0..size]): the inclusion proof of leaf `index` (`index <
/// size`), the sibling nearest the leaf first.
pub fn inclusion<S: Subtrees>(
    tree: &mut S,
    index: u64,
    size: u64,
) -> Result<Vec<Sha256Hash>, S::Error> {
    let mut out = Vec::new();
    let (mut start, mut end) = (0, size);
    // Top-down, then reversed.
    while end - start > 1 {
        let k = split(end - start);
        if index < start + k {
            out.push(tree.range_root(start + k, end)?);
            end = start + k;
        } else {
            out.push(tree.range_root(start, start + k)?);
            start += k;
        }
    }
    out.reverse();
    Ok(out)
}

/// The consistency proof from the tree of `old` leaves to that of `size`
/// (`old <= size`); empty when `old` is 0 or `size`.
pub fn consistency<S: Subtrees>(
    tree: &mut S,
    old: u64,
    size: u64,
) -> Result<Vec<Sha256Hash>, S::Error> {
    let mut out = Vec::new();
    if old > 0 && old < size {
        subproof(tree, old, 0, size, true, &mut out)?;
    }
    Ok(out)
}

/// SUBPROOF(m, D[start..end], complete).
fn subproof<S: Subtrees>(
    tree: &mut S,
    m: u64,
    start: u64,
    end: u64,
    complete: bool,
    out: &mut Vec<Sha256Hash>,
) -> Result<(), S::Error> {
    let n = end - start;
    if m == n {
        if !complete {
            out.push(tree.range_root(start, end)?);
        }
        return Ok(());
    }
    let k = split(n);
    if m <= k {
        subproof(tree, m, start, start + k, complete, out)?;
        out.push(tree.range_root(start + k, end)?);
    } else {
        subproof(tree, m - k, start + k, end, false, out)?;
        out.push(tree.range_root(start, start + k)?);
    }
    Ok(())
}
