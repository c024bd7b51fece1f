//! Telling caches what changed. A write transaction that changes what a verification shows
//! (a status, a trail event, a mark, a lab's accreditation, a key) calls [`certificate`] or
//! [`everything`] inside the transaction: the change is recorded in the `changes` table for
//! other server instances, and remembered for this thread so [`super::AppState::write`] drops
//! the cached records right after the commit. The very next verification in this process
//! therefore reads the new state; another instance reads it within one poll
//! (`CERTRAIL_CHANGE_POLL_MS`, default 1 s) from
//! [`crate::service::verify::invalidation::Poller`].

use std::cell::RefCell;

use crate::db::models::lineage::CertificateParent;
use crate::db::models::{change, now};
use crate::db::DbConn;
use crate::error::AppResult;

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

/// Takes what this thread recorded (after a commit), for the caches to drop.
pub(crate) fn take() -> Vec<Changed> {
    PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()))
}

/// The changes other instances recorded since `from`, oldest first, with their row ids.
pub fn since(conn: &mut DbConn, from: chrono::NaiveDateTime) -> AppResult<Vec<(i64, Changed)>> {
    Ok(change::since(conn, from)?
        .into_iter()
        .map(|(id, kind, key)| {
            let changed = match kind.as_str() {
                "certificate" => Changed::Certificate(key),
                _ => Changed::Everything,
            };
            (id, changed)
        })
        .collect())
}
