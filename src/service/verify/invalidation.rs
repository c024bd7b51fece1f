//! Dropping cached records when something they show changes: right after this process's own
//! commit ([`apply`], called by [`crate::service::AppState::write`]), and within one poll of
//! another instance's ([`Poller`], reading the `changes` table that
//! [`crate::service::changes`] writes).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::db::models::now;
use crate::db::replicas::primary_lsn;
use crate::db::Db;
use crate::service::changes;

use super::cache::VerifyCache;

/// Drops what this thread's committed transaction changed; until the next poll no replica is
/// known to hold it.
pub(crate) fn apply(db: &Db, cache: &VerifyCache) {
    db.replicas.written();
    for changed in changes::take() {
        cache.invalidate(&changed);
    }
}

/// Reads the changes other instances made and drops what they invalidate.
pub struct Poller {
    stop: Arc<AtomicBool>,
}

/// How far back each poll looks, beyond the previous poll: a transaction that committed late
/// (its `at` is taken inside it: a recall of many certificates may run for seconds) is still
/// seen; ids already applied are skipped.
const LOOKBACK: Duration = Duration::from_secs(120);

impl Poller {
    #[expect(
        clippy::expect_used,
        reason = "runs once at start-up: a server that cannot start its worker thread cannot run"
    )]
    pub fn start(db: Db, cache: Arc<VerifyCache>, every: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::Builder::new()
            .name("change-poller".into())
            .spawn(move || poll(&db, &cache, every, &stopped))
            .expect("spawn the change poller thread");
        Self { stop }
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn poll(db: &Db, cache: &VerifyCache, every: Duration, stop: &AtomicBool) {
    let lookback = chrono::Duration::from_std(LOOKBACK + every).unwrap_or_default();
    let mut seen: HashSet<i64> = HashSet::new();
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(every);
        // The primary's WAL position first: every change read next committed before it, so a
        // replica that replayed up to it holds them all.
        let polled = db.reader().map_err(|e| e.to_string()).and_then(|mut conn| {
            let lsn = match db.replicas.is_empty() {
                true => None,
                false => primary_lsn(&mut conn).map_err(|e| e.to_string())?,
            };
            let rows = changes::since(&mut conn, now() - lookback).map_err(|e| e.to_string())?;
            Ok((lsn, rows))
        });
        // Which replicas are fresh is published before the cache is told: a record read from
        // a replica that lacks a change is then either refused by the cache (read before the
        // invalidation) or not read from that replica at all.
        db.replicas
            .refresh(polled.as_ref().ok().and_then(|(lsn, _)| lsn.as_deref()));
        match polled.map(|(_, rows)| rows) {
            Ok(rows) => {
                let current: HashSet<i64> = rows.iter().map(|(id, _)| *id).collect();
                for (id, changed) in rows {
                    if !seen.contains(&id) {
                        cache.invalidate(&changed);
                    }
                }
                seen = current;
            }
            Err(e) => {
                crate::db::storage_failed();
                log::warn!("reading changes failed: {e}");
            }
        }
    }
}
