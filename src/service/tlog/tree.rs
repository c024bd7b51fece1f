//! The tree as stored: the stored hashes of `golang.org/x/mod/sumdb/tlog` (about two per
//! entry) read through a [`HashReader`] over the database, from which `tlog_tiles` computes
//! roots, inclusion and consistency proofs and C2SP tiles.

use std::cell::RefCell;
use std::collections::HashMap;

use tlog_tiles::{
    prove_record, prove_tree, stored_hash_index, stored_hashes_for_record_hash, tree_hash, Hash,
    HashReader, Tile,
};

use crate::db::models::tlog as logdb;
use crate::db::DbConn;
use crate::error::{AppError, AppResult};

use super::TILE_HEIGHT;

/// Stored hashes read from the database, remembered, plus any computed but not yet stored.
pub struct StoredHashes<'c> {
    conn: RefCell<&'c mut DbConn>,
    known: RefCell<HashMap<u64, Hash>>,
    /// A database failure met while reading (reported instead of "not in tree").
    failure: RefCell<Option<diesel::result::Error>>,
}

impl<'c> StoredHashes<'c> {
    pub fn new(conn: &'c mut DbConn) -> Self {
        Self {
            conn: RefCell::new(conn),
            known: RefCell::default(),
            failure: RefCell::default(),
        }
    }

    /// The connection, for writes between reads.
    pub fn conn(&self) -> std::cell::RefMut<'_, &'c mut DbConn> {
        self.conn.borrow_mut()
    }

    /// `Err` for a database failure during a read, else what `result` says (a hash missing
    /// from the tree is `Ok(Err(_))`: the caller decides what that means).
    fn outcome<T>(&self, result: Result<T, tlog_tiles::Error>) -> AppResult<Result<T, String>> {
        if let Some(e) = self.failure.borrow_mut().take() {
            return Err(e.into());
        }
        Ok(result.map_err(|e| e.to_string()))
    }

    /// Appends leaves with hashes `leaves` after the first `start` entries: returns the new
    /// stored hashes (index, hash) to insert.
    pub fn append(&self, start: u64, leaves: &[Hash]) -> AppResult<Vec<(u64, [u8; 32])>> {
        let mut out = Vec::with_capacity(leaves.len() * 2 + 8);
        for (i, leaf) in leaves.iter().enumerate() {
            let n = start + i as u64;
            let hashes = match self.outcome(stored_hashes_for_record_hash(n, *leaf, self))? {
                Ok(h) => h,
                Err(e) => return Err(AppError::internal_from("log tree damaged", e)),
            };
            let first = stored_hash_index(0, n);
            let mut known = self.known.borrow_mut();
            for (k, h) in hashes.into_iter().enumerate() {
                known.insert(first + k as u64, h);
                out.push((first + k as u64, h.0));
            }
        }
        Ok(out)
    }

    /// The root of the tree of the first `size` entries.
    pub fn root(&self, size: u64) -> AppResult<Result<Hash, String>> {
        self.outcome(tree_hash(size, self))
    }

    /// Reads, in one query, every hash the inclusion proofs of `indexes` in the tree of `size`
    /// need (a record checks its certificate and every trail event).
    pub fn prefetch_inclusions(&self, indexes: &[u64], size: u64) -> AppResult<()> {
        let wanted = Recorder::default();
        for &index in indexes.iter().filter(|&&i| i < size) {
            let _ = prove_record(size, index, &wanted);
        }
        let all: Vec<u64> = wanted.0.into_inner();
        if !all.is_empty() {
            let _ = self.read_hashes(&all);
        }
        self.outcome(Ok(())).map(drop)
    }

    /// The RFC 6962 inclusion proof of leaf `index` in the tree of `size`.
    pub fn inclusion(&self, index: u64, size: u64) -> AppResult<Result<Vec<Hash>, String>> {
        self.outcome(prove_record(size, index, self))
    }

    /// The RFC 6962 consistency proof from the tree of `from` to the tree of `to`.
    pub fn consistency(&self, from: u64, to: u64) -> AppResult<Result<Vec<Hash>, String>> {
        if from == 0 || from == to {
            return Ok(Ok(vec![]));
        }
        self.outcome(prove_tree(to, from, self))
    }

    /// The hash tile at `level`, index `n`, `width` hashes wide (C2SP tlog-tiles).
    pub fn tile(&self, level: u8, n: u64, width: u32) -> AppResult<Result<Vec<u8>, String>> {
        let tile = Tile::new(TILE_HEIGHT, level, n, width, false);
        self.outcome(tile.read_data(self))
    }
}

impl HashReader for StoredHashes<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        let missing: Vec<i64> = {
            let known = self.known.borrow();
            indexes
                .iter()
                .filter(|i| !known.contains_key(i))
                .map(|i| *i as i64)
                .collect()
        };
        if !missing.is_empty() {
            let read = logdb::read_hashes(&mut self.conn.borrow_mut(), &missing);
            match read {
                Ok(rows) => {
                    let mut known = self.known.borrow_mut();
                    for (idx, bytes) in rows {
                        if let Ok(h) = <[u8; 32]>::try_from(bytes.as_slice()) {
                            known.insert(idx as u64, Hash(h));
                        }
                    }
                }
                Err(e) => {
                    *self.failure.borrow_mut() = Some(e);
                    return Err(tlog_tiles::Error::IndexesNotInTree);
                }
            }
        }
        let known = self.known.borrow();
        indexes
            .iter()
            .map(|i| {
                known
                    .get(i)
                    .copied()
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

/// Notes which hashes a computation asks for (answering zeros), to read them all at once.
#[derive(Default)]
struct Recorder(RefCell<Vec<u64>>);

impl HashReader for Recorder {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        self.0.borrow_mut().extend_from_slice(indexes);
        Ok(vec![Hash([0; 32]); indexes.len()])
    }
}

/// A tile path under `/log/tile/` (C2SP tlog-tiles): `<L>/<N>[.p/<W>]` or
/// `entries/<N>[.p/<W>]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TilePath {
    /// `None` for an entry bundle.
    pub level: Option<u8>,
    pub n: u64,
    /// 256 for a full tile, 1..=255 for a partial one.
    pub width: u32,
}

impl TilePath {
    pub fn parse(path: &str) -> Option<Self> {
        let mut parts: Vec<&str> = path.split('/').collect();
        let first = parts.first()?;
        let level = match *first {
            "entries" => None,
            l if is_plain_number(l) => Some(l.parse::<u8>().ok().filter(|l| *l <= 63)?),
            _ => return None,
        };
        parts.remove(0);
        let mut width = 256;
        if parts.len() >= 2 && parts[parts.len() - 2].ends_with(".p") {
            let w = parts.pop()?;
            if !is_plain_number(w) {
                return None;
            }
            width = w.parse::<u32>().ok().filter(|w| (1..=255).contains(w))?;
            let last = parts.len() - 1;
            parts[last] = parts[last].strip_suffix(".p")?;
        }
        let (last, rest) = parts.split_last()?;
        let mut n: u64 = 0;
        for (i, part) in rest
            .iter()
            .map(|p| p.strip_prefix('x'))
            .chain([Some(*last)])
            .enumerate()
        {
            let part = part?;
            if part.len() != 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            // No leading zero elements: index 5 is `005`, never `x000/005`.
            if i == 0 && !rest.is_empty() && part == "000" {
                return None;
            }
            n = n
                .checked_mul(1000)?
                .checked_add(part.parse::<u64>().ok()?)?;
        }
        Some(Self { level, n, width })
    }
}

fn is_plain_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
}

/// Whether the hash tile (`level`, `n`, `width`) exists in a tree of `size` entries.
pub fn tile_exists(size: u64, level: u8, n: u64, width: u32) -> bool {
    let Some(span) = 256u64.checked_pow(u32::from(level)) else {
        return false;
    };
    n.checked_mul(256)
        .and_then(|first| first.checked_add(u64::from(width)))
        .and_then(|end| end.checked_mul(span))
        .is_some_and(|end| end <= size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_paths_parse_as_c2sp_spells_them() {
        let p = |s: &str| TilePath::parse(s);
        assert_eq!(
            p("0/x001/x234/067"),
            Some(TilePath {
                level: Some(0),
                n: 1_234_067,
                width: 256
            })
        );
        assert_eq!(
            p("entries/000.p/7"),
            Some(TilePath {
                level: None,
                n: 0,
                width: 7
            })
        );
        assert_eq!(
            p("2/001.p/255").map(|t| (t.level, t.width)),
            Some((Some(2), 255))
        );
        for bad in [
            "",
            "0",
            "0/1",
            "0/01",
            "00/000",
            "64/000",
            "0/000.p/0",
            "0/000.p/256",
            "0/000.p/07",
            "0/x000/005",
            "0/001/002",
            "x/000",
            "0/000.p",
            "entries/x1/000",
            "0/x999/x999/x999/x999/x999/x999/x999/999",
        ] {
            assert_eq!(p(bad), None, "{bad}");
        }
    }

    #[test]
    fn tiles_exist_only_inside_the_tree() {
        // A tree of 70,000 (the C2SP example): 273 full level-0 tiles and one of width 112,
        // one full level-1 tile and one of width 17, one level-2 tile of width 1.
        assert!(tile_exists(70_000, 0, 272, 256));
        assert!(!tile_exists(70_000, 0, 273, 256));
        assert!(tile_exists(70_000, 0, 273, 112));
        assert!(!tile_exists(70_000, 0, 273, 113));
        assert!(tile_exists(70_000, 1, 0, 256));
        assert!(tile_exists(70_000, 1, 1, 17));
        assert!(!tile_exists(70_000, 1, 1, 18));
        assert!(tile_exists(70_000, 2, 0, 1));
        assert!(!tile_exists(70_000, 2, 0, 2));
        assert!(!tile_exists(u64::MAX, 9, u64::MAX, 255));
    }
}
