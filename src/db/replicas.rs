//! PostgreSQL streaming replicas for reads that need not see the newest write, with the
//! staleness bounded, and what the change poller last learnt about the databases (for
//! `/readyz`, without a connection per probe).
//!
//! A replica is used only while it has replayed everything the primary had written when the
//! change poller last looked: each poll reads the changes, then the primary's WAL insert
//! position (at or past every commit the changes query saw), then each replica's replay
//! position, and publishes which replicas are fresh before it drops what the changes
//! invalidate. A change that commits between the two reads is read, and dropped, by the next
//! poll, whose drop the verification cache's epoch check makes stick. This instance's own
//! writes bump a generation that makes every replica unusable for it until a poll that began
//! after them publishes again.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::time::Duration;

use diesel::sql_types::{BigInt, Bool, Text};
use diesel::RunQueryDsl;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;

use super::{DbConn, DbPool};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TargetLabels {
    /// `primary` or `replica`.
    pub target: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReplicaLabels {
    /// The replica's position in `CERTRAIL_DATABASE_REPLICA_URLS`, from 0.
    pub replica: String,
}

/// Replica figures for `/metrics`.
#[derive(Clone, Default)]
pub struct ReplicaMetrics {
    /// Reads that could have gone to a replica, by where they went.
    pub reads: Family<TargetLabels, Counter>,
    /// Bytes of WAL each replica had still to replay at the last poll.
    pub lag_bytes: Family<ReplicaLabels, Gauge>,
    /// 1 while a replica is used for reads.
    pub fresh: Family<ReplicaLabels, Gauge>,
}

struct Replica {
    pool: DbPool,
    fresh: AtomicBool,
    label: ReplicaLabels,
}

/// The replicas, which of them are fresh, and when the poller last reached the databases.
pub struct Replicas {
    list: Vec<Replica>,
    next: AtomicUsize,
    pub metrics: ReplicaMetrics,
    /// Bumped by each of this instance's writes.
    generation: AtomicU64,
    /// The generation the freshness flags were computed under.
    published: AtomicU64,
    /// When the poller last reached the primary, and any replica (ms since [`clock`]'s start).
    primary_seen: AtomicU64,
    replica_seen: AtomicU64,
    /// How long without reaching the primary before it counts as away.
    away_after_ms: AtomicU64,
    /// The schema as the poller last found it (see [`Schema`]).
    schema: AtomicU8,
}

/// The schema's state as the poller last read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    Current = 0,
    Behind = 1,
    Ahead = 2,
}

/// Milliseconds since the first call (monotonic).
fn clock() -> u64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_millis() as u64
        + 1
}

impl Replicas {
    pub(super) fn new(pools: Vec<DbPool>) -> Self {
        let replicas = Self {
            list: pools
                .into_iter()
                .enumerate()
                .map(|(i, pool)| Replica {
                    pool,
                    fresh: AtomicBool::new(false),
                    label: ReplicaLabels {
                        replica: i.to_string(),
                    },
                })
                .collect(),
            next: AtomicUsize::new(0),
            metrics: ReplicaMetrics::default(),
            generation: AtomicU64::new(0),
            published: AtomicU64::new(0),
            primary_seen: AtomicU64::new(clock()),
            replica_seen: AtomicU64::new(0),
            away_after_ms: AtomicU64::new(5_000),
            schema: AtomicU8::new(Schema::Current as u8),
        };
        // Each replica shows in /metrics from the start, as not yet used.
        for replica in &replicas.list {
            replicas.metrics.fresh.get_or_create(&replica.label).set(0);
            replicas
                .metrics
                .lag_bytes
                .get_or_create(&replica.label)
                .set(0);
        }
        replicas
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// A fresh replica's pool, taking turns among them; none while this instance has written
    /// since the flags were computed.
    pub(super) fn fresh(&self) -> Option<&DbPool> {
        let n = self.list.len();
        if n == 0
            || self.published.load(Ordering::Acquire) != self.generation.load(Ordering::Acquire)
        {
            return None;
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..n)
            .map(|k| &self.list[(start + k) % n])
            .find(|r| r.fresh.load(Ordering::Acquire))
            .map(|r| &r.pool)
    }

    /// Any replica's pool, fresh or not (the primary is away).
    pub(super) fn any(&self) -> impl Iterator<Item = &DbPool> {
        self.list.iter().map(|r| &r.pool)
    }

    /// This instance wrote: no replica is known to have it until a poll that began after.
    pub fn written(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The generation a poll begins under (read before it reads anything).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The poller's interval: the primary counts as away after three polls without it.
    pub fn set_poll_interval(&self, every: Duration) {
        let ms = (every.as_millis() as u64).saturating_mul(3) + 2_000;
        self.away_after_ms.store(ms, Ordering::Relaxed);
    }

    /// The poller reached the primary, and found its schema so.
    pub fn primary_answered(&self, schema: Option<Schema>) {
        self.primary_seen.store(clock(), Ordering::Release);
        if let Some(schema) = schema {
            self.schema.store(schema as u8, Ordering::Release);
        }
    }

    /// Whether the poller has failed to reach the primary for longer than three polls.
    pub fn primary_away(&self) -> bool {
        let away = self.away_after_ms.load(Ordering::Relaxed);
        clock().saturating_sub(self.primary_seen.load(Ordering::Acquire)) > away
    }

    /// Whether the poller reached a replica within the same bound.
    pub fn replica_answers(&self) -> bool {
        let away = self.away_after_ms.load(Ordering::Relaxed);
        let seen = self.replica_seen.load(Ordering::Acquire);
        seen != 0 && clock().saturating_sub(seen) <= away
    }

    /// The schema as the poller last found it.
    pub fn schema(&self) -> Schema {
        match self.schema.load(Ordering::Acquire) {
            1 => Schema::Behind,
            2 => Schema::Ahead,
            _ => Schema::Current,
        }
    }

    pub(super) fn count_read(&self, target: &'static str) {
        self.metrics
            .reads
            .get_or_create(&TargetLabels { target })
            .inc();
    }

    /// Marks fresh each replica that has replayed up to `primary_lsn` (read from the primary
    /// after the changes this poll applies), under `generation` (read before the poll began);
    /// with no primary position, none is.
    pub fn refresh(&self, primary_lsn: Option<&str>, generation: u64) {
        for replica in &self.list {
            let behind = match primary_lsn {
                Some(lsn) => replay_behind(&replica.pool, lsn).ok(),
                None => replay_behind(&replica.pool, "0/0").ok().map(|_| i64::MAX),
            };
            if behind.is_some() {
                self.replica_seen.store(clock(), Ordering::Release);
            }
            let fresh = behind == Some(0);
            replica.fresh.store(fresh, Ordering::Release);
            self.metrics
                .fresh
                .get_or_create(&replica.label)
                .set(i64::from(fresh));
            if let (Some(bytes), Some(_)) = (behind, primary_lsn) {
                self.metrics
                    .lag_bytes
                    .get_or_create(&replica.label)
                    .set(bytes);
            }
        }
        self.published.store(generation, Ordering::Release);
    }
}

/// The primary's WAL insert position (`None` on SQLite): at or past the commit record of
/// every transaction a query before it could see, even with `synchronous_commit` off.
pub fn primary_lsn(conn: &mut DbConn) -> diesel::QueryResult<Option<String>> {
    #[derive(diesel::QueryableByName)]
    struct Lsn {
        #[diesel(sql_type = Text)]
        lsn: String,
    }
    match conn {
        DbConn::Sqlite(_) => Ok(None),
        DbConn::Pg(c) => diesel::sql_query("SELECT pg_current_wal_insert_lsn()::TEXT AS lsn")
            .get_result::<Lsn>(c)
            .map(|l| Some(l.lsn)),
    }
}

/// Bytes of WAL up to `lsn` the replica has still to replay (0 once it has).
fn replay_behind(pool: &DbPool, lsn: &str) -> Result<i64, String> {
    #[derive(diesel::QueryableByName)]
    struct Behind {
        #[diesel(sql_type = Bool)]
        replica: bool,
        #[diesel(sql_type = BigInt)]
        behind: i64,
    }
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let DbConn::Pg(c) = &mut *conn else {
        return Err("a replica must be PostgreSQL".into());
    };
    // A replica that has replayed nothing yet (no position) is as far behind as can be.
    let got: Behind = diesel::sql_query(
        "SELECT pg_is_in_recovery() AS replica, \
         COALESCE(GREATEST(pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn()), 0), \
         9223372036854775807)::BIGINT AS behind",
    )
    .bind::<Text, _>(lsn)
    .get_result(c)
    .map_err(|e| e.to_string())?;
    // A promoted standby is a primary now: not a replica of this one.
    match got.replica {
        true => Ok(got.behind),
        false => Err("no longer a replica".into()),
    }
}
