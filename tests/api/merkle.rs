//! An independent RFC 6962 / RFC 9162 Merkle tree, written from the RFCs for the tests (the
//! server uses `tlog_tiles`): tree hashes, audit paths and consistency proofs by the recursive
//! definitions of RFC 6962 §2.1, and the proof verification algorithms of RFC 9162 §2.1.3.2
//! and §2.1.4.2. Checked against the RFC 6962 test vectors below.

use sha2::{Digest, Sha256};

pub type H = [u8; 32];

pub fn leaf_hash(entry: &[u8]) -> H {
    Sha256::new()
        .chain_update([0u8])
        .chain_update(entry)
        .finalize()
        .into()
}

pub fn node_hash(left: &H, right: &H) -> H {
    Sha256::new()
        .chain_update([1u8])
        .chain_update(left)
        .chain_update(right)
        .finalize()
        .into()
}

/// The largest power of two smaller than `n` (n > 1).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// MTH(D[n]) of leaf hashes.
pub fn root(leaves: &[H]) -> H {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// PATH(m, D[n]) (RFC 6962 §2.1.1).
pub fn path(m: usize, leaves: &[H]) -> Vec<H> {
    let n = leaves.len();
    if n <= 1 {
        return vec![];
    }
    let k = split(n);
    if m < k {
        let mut p = path(m, &leaves[..k]);
        p.push(root(&leaves[k..]));
        p
    } else {
        let mut p = path(m - k, &leaves[k..]);
        p.push(root(&leaves[..k]));
        p
    }
}

/// PROOF(m, D[n]) (RFC 6962 §2.1.2).
pub fn consistency(m: usize, leaves: &[H]) -> Vec<H> {
    fn subproof(m: usize, leaves: &[H], complete: bool) -> Vec<H> {
        let n = leaves.len();
        if m == n {
            return if complete { vec![] } else { vec![root(leaves)] };
        }
        let k = split(n);
        if m <= k {
            let mut p = subproof(m, &leaves[..k], complete);
            p.push(root(&leaves[k..]));
            p
        } else {
            let mut p = subproof(m - k, &leaves[k..], false);
            p.push(root(&leaves[..k]));
            p
        }
    }
    if m == 0 || m == leaves.len() {
        return vec![];
    }
    subproof(m, leaves, true)
}

/// RFC 9162 §2.1.3.2: does `proof` show leaf `hash` at `index` in the tree of `size` with
/// root `root`?
pub fn verify_inclusion(index: u64, size: u64, hash: &H, proof: &[H], root: &H) -> bool {
    if index >= size {
        return false;
    }
    let (mut f_n, mut s_n) = (index, size - 1);
    let mut r = *hash;
    for p in proof {
        if s_n == 0 {
            return false;
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    s_n == 0 && r == *root
}

/// RFC 9162 §2.1.4.2: does `proof` show the tree of `first` (root `first_root`) is a prefix
/// of the tree of `second` (root `second_root`)?
pub fn verify_consistency(
    first: u64,
    second: u64,
    first_root: &H,
    second_root: &H,
    proof: &[H],
) -> bool {
    if first == second {
        return proof.is_empty() && first_root == second_root;
    }
    if first == 0 || first > second || proof.is_empty() {
        return false;
    }
    let mut path: Vec<H> = proof.to_vec();
    if first.is_power_of_two() {
        path.insert(0, *first_root);
    }
    let (mut f_n, mut s_n) = (first - 1, second - 1);
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if s_n == 0 {
            return false;
        }
        if f_n & 1 == 1 || f_n == s_n {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    fr == *first_root && sr == *second_root && s_n == 0
}

fn hex(h: &H) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

/// The RFC 6962 test leaves (as in the CT and Go `sumdb/tlog` test suites).
fn vector_leaves() -> Vec<H> {
    let data: [&[u8]; 8] = [
        b"",
        b"\x00",
        b"\x10",
        b"\x20\x21",
        b"\x30\x31",
        b"\x40\x41\x42\x43",
        b"\x50\x51\x52\x53\x54\x55\x56\x57",
        b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
    ];
    data.iter().map(|d| leaf_hash(d)).collect()
}

#[test]
fn roots_match_the_rfc6962_test_vectors() {
    let expected = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];
    let leaves = vector_leaves();
    for (n, want) in expected.iter().enumerate() {
        assert_eq!(hex(&root(&leaves[..=n])), *want, "size {}", n + 1);
    }
}

#[test]
fn every_proof_of_the_vector_trees_verifies_and_no_altered_one_does() {
    let leaves = vector_leaves();
    for n in 1..=leaves.len() {
        let tree = &leaves[..n];
        let r = root(tree);
        for m in 0..n {
            let p = path(m, tree);
            assert!(
                verify_inclusion(m as u64, n as u64, &tree[m], &p, &r),
                "{m} in {n}"
            );
            let other = leaf_hash(b"not in the tree");
            assert!(!verify_inclusion(m as u64, n as u64, &other, &p, &r));
            if let Some(first) = p.first() {
                let mut bad = p.clone();
                bad[0] = node_hash(first, first);
                assert!(!verify_inclusion(m as u64, n as u64, &tree[m], &bad, &r));
            }
        }
        for m in 1..=n {
            let p = consistency(m, tree);
            let rm = root(&leaves[..m]);
            assert!(
                verify_consistency(m as u64, n as u64, &rm, &r, &p),
                "{m} to {n}"
            );
            if m < n {
                assert!(
                    !verify_consistency(m as u64, n as u64, &r, &r, &p),
                    "{m} to {n}"
                );
            }
        }
    }
}
