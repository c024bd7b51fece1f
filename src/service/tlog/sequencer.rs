//! The sequencer: takes queued entries in the order they were made, appends them to the tree
//! (leaf index, stored hashes) and signs a checkpoint, all in one transaction. Every server
//! instance runs one; a transaction-scoped lock (a PostgreSQL advisory lock; SQLite's single
//! writer) lets only one sequence at a time, so the tree has one history.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;

use crate::db::models::now;
use crate::db::models::tlog::{self as logdb, CheckpointRow, LogEntry};
use crate::db::{Db, DbConn};
use crate::error::{AppError, AppResult};

use super::LogKey;
use crate::service::ops::log_head::{self, HeadFile};
use crate::service::tlog::tree::StoredHashes;

/// Entries appended per transaction at most (a bulk issuance is sequenced in several).
const BATCH: i64 = 20_000;

/// The same on SQLite, where a round holds the one write connection that every issuance,
/// intake and scan commit waits for: 20,000 entries held it ~0.35 s on a quiet machine
/// (benches/log.rs: 58,300 entries/s) and longer with the cores busy. A load run's issuance
/// scenarios met a 503 (a checkout that waited past `CERTRAIL_DB_WAIT_MS`) with such rounds,
/// and none in the runs with rounds of 2,000.
const BATCH_SQLITE: i64 = 2_000;

/// Entries per round on `db`'s backend.
pub fn batch(db: &Db) -> i64 {
    match db.backend {
        crate::db::Backend::Sqlite => BATCH_SQLITE,
        crate::db::Backend::Postgres => BATCH,
    }
}

/// Sequencer figures for `/metrics`.
#[derive(Clone)]
pub struct LogMetrics {
    pub sequenced: Counter,
    pub tree_size: Gauge,
    /// Seconds from an entry's write to its sequencing (the oldest of each batch).
    pub lag: Histogram,
    pub failures: Counter,
    /// Entries waiting to be sequenced, and the age of the oldest.
    pub pending: Gauge,
    pub pending_oldest_seconds: Gauge,
    /// Seconds since any witness last cosigned (0 while none is registered).
    pub cosignature_age_seconds: Gauge,
    /// 1 once the database's log no longer extends the checkpoint kept beside the data (the
    /// sequencer then stops).
    pub rollback_detected: Gauge,
}

impl Default for LogMetrics {
    fn default() -> Self {
        Self {
            sequenced: Counter::default(),
            tree_size: Gauge::default(),
            lag: Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
                0.05, 2.0, 10,
            )),
            failures: Counter::default(),
            pending: Gauge::default(),
            pending_oldest_seconds: Gauge::default(),
            cosignature_age_seconds: Gauge::default(),
            rollback_detected: Gauge::default(),
        }
    }
}

impl LogMetrics {
    /// Adds these figures to `/metrics`.
    pub fn register(&self, metrics: &mut crate::metrics::Metrics) {
        metrics.register(
            "log_entries_sequenced",
            "Entries the transparency log's sequencer appended",
            self.sequenced.clone(),
        );
        metrics.register(
            "log_tree_size",
            "Entries in the transparency log",
            self.tree_size.clone(),
        );
        metrics.register(
            "log_sequencing_lag_seconds",
            "Time from an entry's write to its sequencing (oldest of each batch)",
            self.lag.clone(),
        );
        metrics.register(
            "log_sequencer_failures",
            "Failed sequencer rounds (retried)",
            self.failures.clone(),
        );
        metrics.register(
            "log_pending_entries",
            "Entries written but not yet sequenced (read every few seconds)",
            self.pending.clone(),
        );
        metrics.register(
            "log_pending_oldest_seconds",
            "Age of the oldest entry not yet sequenced",
            self.pending_oldest_seconds.clone(),
        );
        metrics.register(
            "log_cosignature_age_seconds",
            "Seconds since a witness last cosigned a checkpoint (0 while no witness is registered)",
            self.cosignature_age_seconds.clone(),
        );
        metrics.register(
            "log_rollback_detected",
            "1 once the database's log no longer extends the checkpoint kept beside the data (sequencing stopped)",
            self.rollback_detected.clone(),
        );
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub sequenced: usize,
    pub tree_size: u64,
}

/// Sequences up to `max` queued entries; `None` when another instance holds the sequencer.
pub fn sequence_once(db: &Db, key: &LogKey, max: i64) -> AppResult<Option<(Round, i64)>> {
    sequence_from(db, key, max, 0)
}

/// Like [`sequence_once`], refusing to append to a log shorter than `floor` (the kept
/// checkpoint's size): its positions from there on were published with other contents.
fn sequence_from(db: &Db, key: &LogKey, max: i64, floor: u64) -> AppResult<Option<(Round, i64)>> {
    // Nothing queued: no write lock taken (SQLite's is the one every write waits for).
    if logdb::pending(&mut *db.reader()?, 1)?.is_empty() {
        return Ok(None);
    }
    let mut pooled = db.writer()?;
    let conn: &mut DbConn = &mut pooled;
    crate::db::write_transaction(conn, |conn| {
        if !super::lock::take(conn, false)? {
            return Ok(None);
        }
        let pending = logdb::pending(conn, max)?;
        let size = logdb::entry_count(conn)? as u64;
        if size < floor {
            return Err(AppError::internal(format!(
                "the log has {size} entries, fewer than the checkpoint of {floor} kept beside \
                 the data: the database went back in time; not sequencing"
            )));
        }
        if pending.is_empty() {
            return Ok(Some((
                Round {
                    sequenced: 0,
                    tree_size: size,
                },
                0,
            )));
        }
        let at = now();
        let ids: Vec<i64> = pending.iter().map(|p| p.id).collect();
        let oldest = logdb::oldest_of(conn, ids.iter().copied().min().unwrap_or(0))?;
        let (pending, leaves) = super::entry::leaves(conn, pending)?;
        if pending.is_empty() {
            logdb::dequeue(conn, &ids)?;
            let round = Round {
                sequenced: 0,
                tree_size: size,
            };
            return Ok(Some((round, 0)));
        }
        let new_size = size + pending.len() as u64;
        let (hashes, root) = {
            let tree = StoredHashes::new(conn);
            let hashes = tree.append(size, &leaves)?;
            let root = tree
                .root(new_size)?
                .map_err(|e| AppError::internal_from("log root", e))?;
            (hashes, root)
        };
        let entries: Vec<LogEntry> = pending
            .into_iter()
            .enumerate()
            .map(|(i, p)| LogEntry {
                idx: (size + i as u64) as i64,
                certificate_id: p.certificate_id,
                seq: p.seq,
                sequenced_at: at,
            })
            .collect();
        logdb::insert_entries(conn, &entries)?;
        logdb::insert_hashes(conn, &hashes)?;
        logdb::dequeue(conn, &ids)?;
        logdb::insert_checkpoint(
            conn,
            &CheckpointRow {
                tree_size: new_size as i64,
                root: root.0.to_vec(),
                note: key.sign_checkpoint(new_size, root),
                created_at: at,
            },
        )?;
        let lag_ms = oldest.map_or(0, |o| {
            (chrono::Utc::now().naive_utc() - o).num_milliseconds()
        });
        Ok(Some((
            Round {
                sequenced: entries.len(),
                tree_size: new_size,
            },
            lag_ms,
        )))
    })
}

/// The sequencer thread; stops when dropped.
pub struct Sequencer {
    stop: Arc<AtomicBool>,
}

impl Sequencer {
    /// Sequences every `every` (at once again while a round was full).
    #[expect(
        clippy::expect_used,
        reason = "runs once at start-up: a server that cannot start its worker thread cannot run"
    )]
    /// Each new checkpoint is also kept in `head`, outside the database.
    pub fn start(
        db: Db,
        key: Arc<LogKey>,
        every: Duration,
        metrics: LogMetrics,
        head: HeadFile,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::Builder::new()
            .name("log-sequencer".into())
            .spawn(move || run(&db, &key, every, &metrics, &head, &stopped))
            .expect("spawn the log sequencer thread");
        Self { stop }
    }
}

impl Drop for Sequencer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Ticks between two copies of the newest checkpoint into the head file when this instance
/// sequenced nothing (another instance may have).
const HEAD_EVERY_TICKS: u32 = 20;

fn run(
    db: &Db,
    key: &LogKey,
    every: Duration,
    metrics: &LogMetrics,
    head: &HeadFile,
    stop: &AtomicBool,
) {
    let mut full = false;
    let mut ticks = 0u32;
    let mut kept = head.kept_size(key);
    let mut halted = false;
    let batch = batch(db);
    while !stop.load(Ordering::Relaxed) {
        if !full {
            std::thread::sleep(every);
        }
        full = false;
        ticks = ticks.wrapping_add(1);
        if halted {
            continue;
        }
        let round = sequence_from(db, key, batch, kept);
        let grown = matches!(&round, Ok(Some((r, _))) if r.tree_size > kept);
        if grown || ticks.is_multiple_of(HEAD_EVERY_TICKS) {
            match keep_head(db, key, head, metrics) {
                Ok(size) => kept = size,
                Err(e) => {
                    ::log::error!("{e}");
                    halted = e.starts_with(ROLLED_BACK);
                    if halted {
                        metrics.rollback_detected.set(1);
                        continue;
                    }
                }
            }
        }
        match round {
            Ok(Some((round, lag_ms))) => {
                metrics.tree_size.set(round.tree_size as i64);
                if round.sequenced > 0 {
                    metrics.sequenced.inc_by(round.sequenced as u64);
                    metrics.lag.observe(lag_ms.max(0) as f64 / 1000.0);
                    full = round.sequenced as i64 == batch;
                }
            }
            Ok(None) => {}
            Err(e) => {
                metrics.failures.inc();
                crate::db::storage_failed();
                ::log::warn!("log sequencer: {e} (retrying)");
                std::thread::sleep(every.max(Duration::from_millis(500)));
            }
        }
    }
}

/// How [`keep_head`]'s error begins when the database's log no longer extends the kept one.
const ROLLED_BACK: &str = "the transparency log went back in time";

/// Copies the newest checkpoint into `head` once the database's log is seen to extend the kept
/// one (else says so, and the sequencer stops), and updates the backlog and witness figures;
/// returns the kept checkpoint's size.
fn keep_head(db: &Db, key: &LogKey, head: &HeadFile, metrics: &LogMetrics) -> Result<u64, String> {
    match log_head::examine(db, head, key)? {
        log_head::Finding::Consistent => {}
        finding => {
            return Err(format!(
                "{ROLLED_BACK} while this instance ran ({finding:?}): sequencing stopped; \
                 restart the instance to see what was lost and decide"
            ))
        }
    }
    let mut conn = db.reader().map_err(|e| e.to_string())?;
    head.keep_latest(&mut conn, key)?;
    let at = now();
    let (pending, oldest) = logdb::backlog(&mut conn).map_err(|e| e.to_string())?;
    metrics.pending.set(pending);
    metrics
        .pending_oldest_seconds
        .set(oldest.map_or(0, |o| (at - o).num_seconds().max(0)));
    let cosigned = match logdb::has_witnesses(&mut conn).map_err(|e| e.to_string())? {
        false => None,
        true => Some(logdb::latest_cosigned_at(&mut conn).map_err(|e| e.to_string())?),
    };
    metrics.cosignature_age_seconds.set(match cosigned {
        None => 0,
        // Witnesses registered, none has cosigned yet: silent since the first was registered.
        Some(None) => logdb::first_witness_registered_at(&mut conn)
            .map_err(|e| e.to_string())?
            .map_or(0, |r| (at - r).num_seconds().max(0)),
        Some(Some(signed)) => (at - signed).num_seconds().max(0),
    });
    Ok(head.kept_size(key))
}
