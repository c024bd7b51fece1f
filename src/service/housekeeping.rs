//! Deleting what has served its time: expired sessions, idempotency answers (a bulk of 10,000
//! keeps about 10 MB), and the change rows other instances have read. Run by the change
//! poller every ten minutes, on every instance (the deletes are idempotent).

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{idempotency_keys, sessions};
use crate::db::DbConn;

/// How long a retry with the same `Idempotency-Key` gets the first answer.
pub const IDEMPOTENCY_HOURS: i64 = 24;
/// How long `certrail issue --csv` and `promise --csv` remember a file they issued.
pub const FILE_DAYS: i64 = 90;

/// What one round deleted.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Purged {
    pub sessions: usize,
    pub idempotency: usize,
    pub changes: usize,
}

/// Deletes sessions expired by `now`, API idempotency answers older than
/// [`IDEMPOTENCY_HOURS`], file records older than [`FILE_DAYS`], and change rows recorded
/// before `changes_before`.
pub fn purge(
    conn: &mut DbConn,
    now: NaiveDateTime,
    changes_before: NaiveDateTime,
) -> QueryResult<Purged> {
    let sessions =
        diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(conn)?;
    let api = diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::key.not_like("file:%"))
            .filter(idempotency_keys::created_at.lt(now - Duration::hours(IDEMPOTENCY_HOURS))),
    )
    .execute(conn)?;
    let old_files = diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::key.like("file:%"))
            .filter(idempotency_keys::created_at.lt(now - Duration::days(FILE_DAYS))),
    )
    .execute(conn)?;
    let changes = crate::db::models::change::prune(conn, changes_before)?;
    Ok(Purged {
        sessions,
        idempotency: api + old_files,
        changes,
    })
}
