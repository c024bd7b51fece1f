//! Deleting what has served its time: expired sessions, idempotency answers (a bulk of 10,000
//! keeps about 10 MB), and the change rows other instances have read. [`Sweeper`] runs it every
//! ten minutes on every instance (the deletes are idempotent).

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{idempotency_keys, sessions};
use crate::db::{Db, DbConn};

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

/// How often [`Sweeper`] purges.
const EVERY: std::time::Duration = std::time::Duration::from_secs(600);
/// Change rows older than this are deleted: every instance has read them long before.
const KEEP_CHANGES: Duration = Duration::hours(1);

/// Runs [`purge`] every ten minutes; stops when dropped.
pub struct Sweeper {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Sweeper {
    #[expect(
        clippy::expect_used,
        reason = "runs once at start-up: a server that cannot start its worker thread cannot run"
    )]
    pub fn start(db: Db) -> Self {
        use std::sync::atomic::Ordering;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::Builder::new()
            .name("housekeeping".into())
            .spawn(move || {
                let tick = std::time::Duration::from_secs(1);
                let mut waited = std::time::Duration::ZERO;
                while !stopped.load(Ordering::Relaxed) {
                    std::thread::sleep(tick);
                    waited += tick;
                    if waited < EVERY {
                        continue;
                    }
                    waited = std::time::Duration::ZERO;
                    let now = crate::db::models::now();
                    let purged = db.writer().map_err(|e| e.to_string()).and_then(|mut conn| {
                        purge(&mut conn, now, now - KEEP_CHANGES).map_err(|e| e.to_string())
                    });
                    match purged {
                        Ok(purged) => log::debug!("housekeeping: {purged:?}"),
                        Err(e) => {
                            crate::db::storage_failed();
                            log::warn!("housekeeping failed: {e}");
                        }
                    }
                }
            })
            .expect("spawn the housekeeping thread");
        Self { stop }
    }
}

impl Drop for Sweeper {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}
