//! Dropping cached records when something they show changes: right after this process's own
//! commit ([`apply`], called by [`crate::service::AppState::write`]), and within one poll of
//! another instance's ([`Poller`], reading the `changes` table that
//! [`crate::service::changes`] writes).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::db::models::now;
use crate::db::replicas::{primary_lsn, Schema};
use crate::db::Db;
use crate::db::SchemaState;
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
        db.replicas.set_poll_interval(every);
        std::thread::Builder::new()
            .name("change-poller".into())
            .spawn(move || poll(&db, &cache, every, &stopped))
            .expect("spawn the change poller thread");
        Self { stop }
    }
}

/// Polls between two reads of the schema's migrations (for `/readyz`).
const SCHEMA_EVERY: u32 = 10;

fn schema_of(conn: &mut crate::db::DbConn) -> Result<Schema, String> {
    Ok(match crate::db::schema_state(conn)? {
        SchemaState::Current => Schema::Current,
        SchemaState::Behind(_) => Schema::Behind,
        SchemaState::Ahead(_) => Schema::Ahead,
    })
}

impl Drop for Poller {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn poll(db: &Db, cache: &VerifyCache, every: Duration, stop: &AtomicBool) {
    let lookback = chrono::Duration::from_std(LOOKBACK + every).unwrap_or_default();
    let mut seen: HashSet<i64> = HashSet::new();
    let mut polls: u32 = 0;
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(every);
        // The changes first, then the primary's WAL insert position: every change read
        // committed before that position, so a replica that replayed up to it holds them all.
        // (One that commits between the two is read, and dropped, by the next poll.)
        let generation = db.replicas.generation();
        let schema_due = polls.is_multiple_of(SCHEMA_EVERY);
        polls = polls.wrapping_add(1);
        let polled = db.reader().map_err(|e| e.to_string()).and_then(|mut conn| {
            let rows = changes::since(&mut conn, now() - lookback).map_err(|e| e.to_string())?;
            let lsn = match db.replicas.is_empty() {
                true => None,
                false => primary_lsn(&mut conn).map_err(|e| e.to_string())?,
            };
            let schema = match schema_due {
                true => Some(schema_of(&mut conn)?),
                false => None,
            };
            Ok((lsn, rows, schema))
        });
        if let Ok((_, _, schema)) = &polled {
            db.replicas.primary_answered(*schema);
        }
        // Which replicas are fresh is published before the cache is told: a record read from
        // a replica that lacks a change is then either refused by the cache (read before the
        // invalidation) or not read from that replica at all.
        db.replicas.refresh(
            polled.as_ref().ok().and_then(|(lsn, _, _)| lsn.as_deref()),
            generation,
        );
        match polled.map(|(_, rows, _)| rows) {
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
