//! The transparency log's stored hashes (`log_hash_runs`), 32 to a row: written as the
//! sequencer appends them, read by index for roots, proofs and tiles.

use diesel::prelude::*;

use crate::db::schema::log_hash_runs;
use crate::db::{insert_rows, DbConn};

/// Runs read per query at most.
const READ_CHUNK: usize = 4000;

/// Stored hashes to a row of `log_hash_runs`: run `r` holds storage indexes `r * RUN` to
/// `r * RUN + RUN - 1`, 32 bytes each, one after another (1 KB a row).
const RUN: u64 = 32;

#[derive(Insertable)]
#[diesel(table_name = log_hash_runs)]
struct HashRun {
    run: i64,
    hashes: Vec<u8>,
}

/// Stores hashes at their storage indexes, which follow the stored ones without a gap (as
/// an append makes them): the run the first falls in may already hold some.
pub fn insert_hashes(conn: &mut DbConn, hashes: &[(u64, [u8; 32])]) -> QueryResult<()> {
    let Some(&(first, _)) = hashes.first() else {
        return Ok(());
    };
    let mut run = first / RUN;
    let mut bytes = match first % RUN {
        0 => vec![],
        _ => run_bytes(conn, &[run as i64])?
            .pop()
            .map_or_else(Vec::new, |(_, b)| b),
    };
    let stored = run * RUN + (bytes.len() / 32) as u64;
    let mut rows = Vec::with_capacity(hashes.len() / RUN as usize + 2);
    for (next, (idx, hash)) in (stored..).zip(hashes) {
        if *idx != next {
            return Err(diesel::result::Error::QueryBuilderError(
                format!("log hash {idx} after {next} stored ones: not an append").into(),
            ));
        }
        if idx / RUN != run {
            rows.push(HashRun {
                run: run as i64,
                hashes: std::mem::take(&mut bytes),
            });
            run = idx / RUN;
        }
        bytes.extend_from_slice(hash);
    }
    rows.push(HashRun {
        run: run as i64,
        hashes: bytes,
    });
    // A run the append continues is written again whole.
    if first % RUN != 0 {
        diesel::delete(log_hash_runs::table.filter(log_hash_runs::run.eq((first / RUN) as i64)))
            .execute(conn)?;
    }
    for chunk in rows.chunks(super::INSERT_CHUNK) {
        insert_rows!(conn, log_hash_runs::table, chunk);
    }
    Ok(())
}

/// The runs among `runs` that exist, as (run, bytes).
fn run_bytes(conn: &mut DbConn, runs: &[i64]) -> QueryResult<Vec<(i64, Vec<u8>)>> {
    let mut out = Vec::with_capacity(runs.len());
    for chunk in runs.chunks(READ_CHUNK) {
        out.extend(
            log_hash_runs::table
                .filter(log_hash_runs::run.eq_any(chunk))
                .select((log_hash_runs::run, log_hash_runs::hashes))
                .load::<(i64, Vec<u8>)>(conn)?,
        );
    }
    Ok(out)
}

/// The stored hashes at `indexes` that exist, as (index, hash).
pub fn read_hashes(conn: &mut DbConn, indexes: &[i64]) -> QueryResult<Vec<(i64, Vec<u8>)>> {
    let run_of = |idx: i64| idx.div_euclid(RUN as i64);
    let runs: std::collections::BTreeSet<i64> = indexes.iter().map(|i| run_of(*i)).collect();
    let runs: Vec<i64> = runs.into_iter().collect();
    let found: std::collections::HashMap<i64, Vec<u8>> =
        run_bytes(conn, &runs)?.into_iter().collect();
    Ok(indexes
        .iter()
        .filter_map(|&idx| {
            let at = idx.rem_euclid(RUN as i64) as usize * 32;
            let hash = found.get(&run_of(idx))?.get(at..at + 32)?;
            Some((idx, hash.to_vec()))
        })
        .collect())
}
