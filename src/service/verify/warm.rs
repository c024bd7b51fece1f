//! Filling the verification cache after a start, before `/readyz` reports ready: the records
//! of the newest certificates and their batch labels' scan counters (the goods on shelves now,
//! which consumers scan), so that a load
//! balancer sends a started instance no scan it must first read from the database. A record's
//! first load takes a dozen queries; a cold instance taking full traffic answers its first
//! seconds at the database's pace, not the cache's.
//!
//! `CERTRAIL_WARM_RECORDS` bounds how many (`0`: none, ready at once); the cache's size bounds
//! it too, and [`TIME_LIMIT`] bounds how long an instance stays out of the load balancer for
//! it. A database that fails meanwhile ends the warming: the instance is ready, and cold.

use std::time::{Duration, Instant};

use crate::db::models::scan::BATCH_LABEL;
use crate::db::models::tlog;
use crate::error::AppResult;
use crate::service::AppState;

/// Longest the warming keeps the instance unready.
pub const TIME_LIMIT: Duration = Duration::from_secs(60);

/// Loads that run at once (as many as cold scans may: two a core).
const THREADS: usize = 4;

/// Fills the cache with up to `limit` records, newest certificates first, in [`THREADS`]
/// threads, then lowers `state.warming`. Meant for a thread of its own.
pub fn run(state: &AppState, limit: usize) {
    let started = Instant::now();
    match fill(state, limit, started) {
        Ok(wanted) => log::info!(
            "verification cache filled: {} records of {wanted} wanted in {:.1} s",
            state.verify.held(),
            started.elapsed().as_secs_f64()
        ),
        Err(e) => log::warn!("verification cache not filled at start: {e}"),
    }
    state.warming.lower();
}

/// Reads certificate `id`'s record and its batch label's counters into the cache: all that a
/// scan of the batch label needs to be answered from memory. (A unit label's counters are read
/// at its first scan.)
fn preload(state: &AppState, id: &str) -> AppResult<()> {
    let mut conn = None;
    if let Some(record) = super::cached_or_load(state, &mut conn, id)? {
        super::signals(state, &mut conn, &record, BATCH_LABEL)?;
    }
    Ok(())
}

/// Loads the newest `limit` certificates' records; answers how many it meant to load.
fn fill(state: &AppState, limit: usize, started: Instant) -> AppResult<usize> {
    if limit == 0 {
        return Ok(0);
    }
    let ids = {
        let mut conn = state.db.reader()?;
        tlog::newest_certificates(&mut conn, i64::try_from(limit).unwrap_or(i64::MAX))?
    };
    let failed = std::sync::Mutex::new(None);
    std::thread::scope(|scope| {
        for share in 0..THREADS {
            let (ids, failed) = (&ids, &failed);
            scope.spawn(move || {
                for id in ids.iter().skip(share).step_by(THREADS) {
                    let stop = started.elapsed() > TIME_LIMIT
                        || state.verify.nearly_full()
                        || failed.lock().is_ok_and(|f| f.is_some());
                    if stop {
                        return;
                    }
                    if let Err(e) = preload(state, id) {
                        if let Ok(mut f) = failed.lock() {
                            f.get_or_insert(e);
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = failed.into_inner().ok().flatten() {
        return Err(e);
    }
    Ok(ids.len())
}
