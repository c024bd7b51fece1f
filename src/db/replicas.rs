//! PostgreSQL streaming replicas for reads that need not see the newest write, with the
//! staleness bounded: a replica is used only while it has replayed everything the primary had
//! written when the change poller last looked (the poller reads the primary's WAL position,
//! then the changes, then each replica's replay position, and publishes which replicas are
//! fresh before it drops what the changes invalidate). A revoke committed on any instance is
//! thus never read back from a replica that lacks it once the poller has seen it, and this
//! instance's own writes make every replica stale until the next poll.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

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

/// The replicas and which of them are fresh.
pub struct Replicas {
    list: Vec<Replica>,
    next: AtomicUsize,
    pub metrics: ReplicaMetrics,
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

    /// A fresh replica's pool, taking turns among them.
    pub(super) fn fresh(&self) -> Option<&DbPool> {
        let n = self.list.len();
        if n == 0 {
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

    /// This instance wrote: no replica is known to have it until the next poll.
    pub fn written(&self) {
        for replica in &self.list {
            replica.fresh.store(false, Ordering::Release);
        }
    }

    pub(super) fn count_read(&self, target: &'static str) {
        self.metrics
            .reads
            .get_or_create(&TargetLabels { target })
            .inc();
    }

    /// Marks fresh each replica that has replayed up to `primary_lsn` (read from the primary
    /// before the changes this poll applies); with no primary position, none is.
    pub fn refresh(&self, primary_lsn: Option<&str>) {
        for replica in &self.list {
            let behind = primary_lsn.and_then(|lsn| replay_behind(&replica.pool, lsn).ok());
            let fresh = behind == Some(0);
            replica.fresh.store(fresh, Ordering::Release);
            self.metrics
                .fresh
                .get_or_create(&replica.label)
                .set(i64::from(fresh));
            if let Some(bytes) = behind {
                self.metrics
                    .lag_bytes
                    .get_or_create(&replica.label)
                    .set(bytes);
            }
        }
    }
}

/// The primary's current WAL position (`None` on SQLite).
pub fn primary_lsn(conn: &mut DbConn) -> diesel::QueryResult<Option<String>> {
    #[derive(diesel::QueryableByName)]
    struct Lsn {
        #[diesel(sql_type = Text)]
        lsn: String,
    }
    match conn {
        DbConn::Sqlite(_) => Ok(None),
        DbConn::Pg(c) => diesel::sql_query("SELECT pg_current_wal_lsn()::TEXT AS lsn")
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
    let got: Behind = diesel::sql_query(
        "SELECT pg_is_in_recovery() AS replica, \
         GREATEST(COALESCE(pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn()), 0), 0)::BIGINT \
         AS behind",
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
