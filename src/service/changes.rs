//! Telling caches what changed. A write transaction that changes what a verification shows
//! (a status, a trail event, a mark, a lab's accreditation, a key) calls [`certificate`] or
//! [`everything`] inside the transaction: the change is recorded in the `changes` table for
//! other server instances, and remembered for this thread so [`super::AppState::write`] drops
//! the cached records right after the commit. The very next verification in this process
//! therefore reads the new state; another instance reads it within one poll
//! (`CERTRAIL_CHANGE_POLL_MS`, default 1 s) from [`Poller`].

use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use crate::db::models::lineage::CertificateParent;
use crate::db::models::{change, now};
use crate::db::{Db, DbConn};
use crate::error::AppResult;

use super::verify::cache::VerifyCache;

/// What a change invalidates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changed {
    Certificate(String),
    /// Marks, labs or keys: anything cached may depend on them.
    Everything,
}

thread_local! {
    static PENDING: RefCell<Vec<Changed>> = const { RefCell::new(Vec::new()) };
}

/// Records that certificate `id` changed, and with it every lot re-issued from it (their
/// answers show its verdict). Call inside the write transaction.
pub fn certificate(conn: &mut DbConn, id: &str) -> AppResult<()> {
    let mut ids = vec![id.to_string()];
    ids.extend(CertificateParent::descendants(conn, &ids)?);
    for id in ids {
        change::record(conn, now(), "certificate", &id)?;
        PENDING.with(|p| p.borrow_mut().push(Changed::Certificate(id)));
    }
    Ok(())
}

/// Records that certificate `id` changed in a way its descendants do not show (a new child).
pub fn certificate_alone(conn: &mut DbConn, id: &str) -> AppResult<()> {
    change::record(conn, now(), "certificate", id)?;
    PENDING.with(|p| p.borrow_mut().push(Changed::Certificate(id.to_string())));
    Ok(())
}

/// Records a change every cached record may depend on. Call inside the write transaction.
pub fn everything(conn: &mut DbConn) -> AppResult<()> {
    change::record(conn, now(), "all", "")?;
    PENDING.with(|p| p.borrow_mut().push(Changed::Everything));
    Ok(())
}

/// Forgets what this thread recorded (before a transaction, or after a rollback).
pub(crate) fn discard() {
    PENDING.with(|p| p.borrow_mut().clear());
}

/// Applies what this thread recorded to the cache (after a commit).
pub(crate) fn apply(cache: &VerifyCache) {
    for changed in PENDING.with(|p| std::mem::take(&mut *p.borrow_mut())) {
        cache.invalidate(&changed);
    }
}

/// Reads changes other instances made and drops what they invalidate; every 600 polls runs
/// [`super::housekeeping`].
pub struct Poller {
    stop: Arc<std::sync::atomic::AtomicBool>,
}

/// How far back each poll looks, beyond the previous poll: a transaction that committed late
/// (its `at` is taken inside it: a recall of many certificates may run for seconds) is still
/// seen; ids already applied are skipped.
const LOOKBACK: Duration = Duration::from_secs(120);
/// Rows older than this are deleted.
const KEEP: Duration = Duration::from_secs(3600);

impl Poller {
    pub fn start(db: Db, cache: Arc<VerifyCache>, every: Duration) -> Self {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
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
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

fn poll(db: &Db, cache: &VerifyCache, every: Duration, stop: &std::sync::atomic::AtomicBool) {
    let lookback = chrono::Duration::from_std(LOOKBACK + every).unwrap_or_default();
    let keep = chrono::Duration::from_std(KEEP).unwrap_or_default();
    let mut seen: HashSet<i64> = HashSet::new();
    let mut polls: u64 = 0;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        std::thread::sleep(every);
        let from = now() - lookback;
        let rows = db
            .reader()
            .map_err(|e| e.to_string())
            .and_then(|mut conn| change::since(&mut conn, from).map_err(|e| e.to_string()));
        match rows {
            Ok(rows) => {
                let current: HashSet<i64> = rows.iter().map(|(id, _, _)| *id).collect();
                for (id, kind, key) in rows {
                    if !seen.contains(&id) {
                        cache.invalidate(&match kind.as_str() {
                            "certificate" => Changed::Certificate(key),
                            _ => Changed::Everything,
                        });
                    }
                }
                seen = current;
            }
            Err(e) => {
                crate::db::storage_failed();
                log::warn!("reading changes failed: {e}");
            }
        }
        polls += 1;
        if polls.is_multiple_of(600) {
            let purged = db.writer().map_err(|e| e.to_string()).and_then(|mut conn| {
                super::housekeeping::purge(&mut conn, now(), now() - keep)
                    .map_err(|e| e.to_string())
            });
            match purged {
                Ok(purged) => log::debug!("housekeeping: {purged:?}"),
                Err(e) => {
                    crate::db::storage_failed();
                    log::warn!("housekeeping failed: {e}");
                }
            }
        }
    }
}
