//! Storage: one connection type over SQLite (embedded default) and PostgreSQL (production),
//! connection pools, migrations, and the row models with their queries.
//!
//! Longer than 400 lines because it is the one connection layer both backends share: the URL, the pool with its failure accounting and the checkout with its wait keep one set of invariants.

pub mod models;
pub mod replicas;
pub mod schema;

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ManageConnection, Pool, PooledConnection};
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

/// A connection to whichever backend `DATABASE_URL` names.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

/// A multi-row INSERT of `rows` into `table`. Diesel's `MultiConnection` has no batch insert,
/// so this dispatches to the backend's own connection.
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite(c) => {
                diesel::insert_into($table).values($rows).execute(c)?
            }
            $crate::db::DbConn::Pg(c) => diesel::insert_into($table).values($rows).execute(c)?,
        }
    };
}
pub(crate) use insert_rows;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Per-connection SQLite settings: WAL for concurrent readers, enforced foreign keys, a wait
/// instead of an immediate "database is locked", and fsync at checkpoints only. (A memory map
/// for reads gained little under load and counted the whole file into the server's RSS.)
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
     PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;";

/// Seconds libpq waits for a PostgreSQL server before giving up (unless the URL says otherwise).
const PG_CONNECT_TIMEOUT_SECS: u32 = 5;

/// Which backend a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A parsed `DATABASE_URL`: `sqlite://PATH` or `postgres://…` / `postgresql://…`.
#[derive(Debug, Clone)]
pub struct DbUrl {
    pub backend: Backend,
    /// What the driver is given: a file path for SQLite, the URL for PostgreSQL.
    target: String,
}

impl DbUrl {
    /// Rejects anything but the two known schemes, so a typo never opens a new SQLite file.
    pub fn parse(url: &str) -> Result<Self, String> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(
                    "DATABASE_URL sqlite:// needs a file path, e.g. sqlite://./data/certrail.db"
                        .into(),
                );
            }
            return Ok(Self {
                backend: Backend::Sqlite,
                target: path.to_string(),
            });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let mut target = url.to_string();
            if !target.contains("connect_timeout=") {
                target.push(if target.contains('?') { '&' } else { '?' });
                target.push_str(&format!("connect_timeout={PG_CONNECT_TIMEOUT_SECS}"));
            }
            return Ok(Self {
                backend: Backend::Postgres,
                target,
            });
        }
        Err(format!(
            "DATABASE_URL must start with sqlite:// or postgres:// (got {})",
            crate::config::redact_url(url)
        ))
    }

    /// What the driver is given: the SQLite file's path, or the PostgreSQL URL.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Opens one connection, with the backend's per-connection settings applied.
    pub fn establish(&self) -> Result<DbConn, diesel::ConnectionError> {
        match self.backend {
            Backend::Sqlite => {
                create_private_file(&self.target)
                    .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
                let mut conn = SqliteConnection::establish(&self.target)?;
                conn.batch_execute(SQLITE_PRAGMAS)
                    .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
                Ok(DbConn::Sqlite(conn))
            }
            Backend::Postgres => PgConnection::establish(&self.target).map(DbConn::Pg),
        }
    }
}

/// Creates an empty SQLite file readable by its owner only (0600) if none exists yet: SQLite
/// would create it with the process's umask (often 0644), and its WAL and shared-memory files
/// take the database file's mode.
fn create_private_file(path: &str) -> std::io::Result<()> {
    if path == ":memory:" || std::path::Path::new(path).exists() {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        // Another connection created it first.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// r2d2 manager that opens connections of the backend the URL names.
#[derive(Debug, Clone)]
pub struct Manager(DbUrl);

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConn, Self::Error> {
        self.0
            .establish()
            .map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), Self::Error> {
        use diesel::r2d2::R2D2Connection;
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        use diesel::r2d2::R2D2Connection;
        // Called as the connection goes back to the pool, on the thread that held it.
        LOST.with(|l| l.replace(false)) || conn.is_broken()
    }
}

pub type DbPool = Pool<Manager>;

thread_local! {
    /// Whether this thread holds a pooled connection now.
    static HOLDING: Cell<bool> = const { Cell::new(false) };
    /// Whether the connection this thread holds was found dead (see [`connection_lost`]).
    static LOST: Cell<bool> = const { Cell::new(false) };
}

/// Where this thread's last [`Db::replica_reader`] or [`Db::fresh_reader`] read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFrom {
    Primary,
    /// A replica that had replayed what the primary had at the last poll.
    Replica,
    /// A replica that may lag beyond the bound (the primary was away).
    StaleReplica,
}

thread_local! {
    static READ_FROM: Cell<ReadFrom> = const { Cell::new(ReadFrom::Primary) };
}

/// Where this thread's last replica-capable read came from.
pub fn last_read() -> ReadFrom {
    READ_FROM.with(Cell::get)
}

/// When storage last failed, in milliseconds since [`EPOCH`] (0: never).
static LAST_FAILURE_MS: AtomicU64 = AtomicU64::new(0);
static EPOCH: OnceLock<Instant> = OnceLock::new();
/// For this long after a storage failure, a connection is pinged before it is handed out.
const SUSPICIOUS_FOR: Duration = Duration::from_secs(30);

fn since_epoch_ms() -> u64 {
    EPOCH.get_or_init(Instant::now).elapsed().as_millis() as u64 + 1
}

/// Marks the connection this thread holds as dead (the server closed it, or it broke inside a
/// transaction): when it goes back to the pool it is closed instead of kept. Diesel reports a
/// connection broken only when a transaction is left open, never a socket the server closed.
pub fn connection_lost() {
    LOST.with(|l| l.set(true));
    storage_failed();
}

/// Notes that storage failed (a lost connection, a refused connect, a background task's
/// error). For [`SUSPICIOUS_FOR`] afterwards every checkout pings its connection first and
/// replaces a dead one, so after a database restart the pool heals by itself, whichever
/// thread (a request or a background task) held the dead connections.
pub fn storage_failed() {
    LAST_FAILURE_MS.store(since_epoch_ms(), Ordering::Relaxed);
}

fn recently_failed() -> bool {
    let at = LAST_FAILURE_MS.load(Ordering::Relaxed);
    at != 0 && since_epoch_ms().saturating_sub(at) < SUSPICIOUS_FOR.as_millis() as u64
}

/// Why no connection was handed out.
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    /// No connection became free within the configured wait (overload): answered 503.
    #[error("{0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    /// The thread already holds a connection. Waiting for a second one while holding the
    /// first is how a pool deadlocks under load, so it is refused at once: a bug to fix by
    /// passing the held connection down.
    #[error("a second database connection was asked for while this thread holds one")]
    Nested,
}

/// A pooled connection; while it lives, its thread can check out no other (see
/// [`CheckoutError::Nested`]). This makes "one connection per request at a time" structural:
/// a use case that needs more work done passes this connection down.
pub struct PooledConn {
    conn: PooledConnection<Manager>,
    /// Not `Send`: the connection is released on the thread that holds it.
    _thread: std::marker::PhantomData<*const ()>,
}

impl std::ops::Deref for PooledConn {
    type Target = DbConn;
    fn deref(&self) -> &DbConn {
        &self.conn
    }
}

impl std::ops::DerefMut for PooledConn {
    fn deref_mut(&mut self) -> &mut DbConn {
        &mut self.conn
    }
}

impl Drop for PooledConn {
    fn drop(&mut self) {
        HOLDING.with(|h| h.set(false));
    }
}

/// Connection pool figures for `/metrics`.
#[derive(Clone)]
pub struct PoolMetrics {
    /// Seconds each checkout waited for a free connection.
    pub wait: prometheus_client::metrics::histogram::Histogram,
    /// Checkouts that found no free connection within the wait and were answered 503.
    pub timeouts: prometheus_client::metrics::counter::Counter,
}

impl PoolMetrics {
    fn new() -> Self {
        use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
        Self {
            // 10 µs .. about 5 s.
            wait: Histogram::new(exponential_buckets(0.000_01, 2.5, 15)),
            timeouts: Default::default(),
        }
    }
}

/// Connection pools. SQLite allows one writer at a time, so writes there go through a pool
/// of one connection (queued in-process instead of failing with "database is locked");
/// PostgreSQL reads and writes share one pool.
#[derive(Clone)]
pub struct Db {
    pub backend: Backend,
    read: DbPool,
    write: DbPool,
    pub metrics: PoolMetrics,
    /// Streaming replicas for reads that may lag a little (none unless configured).
    pub replicas: std::sync::Arc<replicas::Replicas>,
}

impl Db {
    /// Applies pending migrations (see [`run_migrations`]).
    pub fn migrate(&self) -> Result<(), String> {
        let mut conn = self.writer().map_err(|e| e.to_string())?;
        run_migrations(&mut conn)
    }

    /// Connects without applying migrations (`certrail check`, backups).
    pub fn connect_as_is(url: &str, wait: Duration) -> Result<Self, String> {
        Self::connect_unmigrated(url, &[], 2, wait)
    }

    /// Connects and builds the pools, leaving the migrations to [`Self::migrate`] (an instance
    /// checks that it agrees with the database before it changes its schema). Fails fast with
    /// a clear message when the URL is malformed or the server cannot be reached. A checkout
    /// that finds no free connection within `wait` fails (503) instead of queueing on.
    /// `replica_urls` are PostgreSQL streaming replicas of it (their pools connect lazily: a
    /// replica that is away at start is used once it answers).
    pub fn connect_unmigrated(
        url: &str,
        replica_urls: &[String],
        pool_size: u32,
        wait: Duration,
    ) -> Result<Self, String> {
        let url = DbUrl::parse(url)?;
        // One connection first: a malformed URL or an unreachable server fails here, clearly.
        url.establish().map_err(|e| {
            format!(
                "cannot open database {}: {e}",
                crate::config::redact_url(&url.target)
            )
        })?;
        let manager = Manager(url.clone());
        let build = |size: u32| {
            Pool::builder()
                .max_size(size)
                // No eager background connects: a connect still running when a short-lived
                // CLI process exits races libpq/OpenSSL's exit handlers (seen as SIGSEGV).
                .min_idle(Some(0))
                // No `SELECT 1` before every checkout (a query's worth of time on each
                // request); a connection that broke is still dropped via `has_broken`.
                .test_on_check_out(false)
                .connection_timeout(wait)
                .build(manager.clone())
                .map_err(|e| format!("cannot build connection pool: {e}"))
        };
        let replicas = replica_urls
            .iter()
            .map(|u| {
                let url = DbUrl::parse(u)?;
                if url.backend != Backend::Postgres {
                    return Err("CERTRAIL_DATABASE_REPLICA_URLS must be postgres:// URLs".into());
                }
                Ok(Pool::builder()
                    .max_size(pool_size)
                    .min_idle(Some(0))
                    .test_on_check_out(false)
                    .connection_timeout(wait)
                    .build_unchecked(Manager(url)))
            })
            .collect::<Result<Vec<_>, String>>()?;
        if !replicas.is_empty() && url.backend != Backend::Postgres {
            return Err("read replicas need DATABASE_URL to be PostgreSQL".into());
        }
        let read = build(pool_size)?;
        let write = match url.backend {
            Backend::Sqlite => build(1)?,
            Backend::Postgres => read.clone(),
        };
        // The pool's first connection, waited for as long as a connect may take: on a busy
        // machine it can take longer than a request's `wait`, and the start-up's own queries
        // (identity, migrations) would fail on it. It stays in the pool, idle.
        write
            .get_timeout(Duration::from_secs(PG_CONNECT_TIMEOUT_SECS.into()))
            .map_err(|e| {
                format!(
                    "cannot open database {}: {e}",
                    crate::config::redact_url(&url.target)
                )
            })?;
        Ok(Self {
            backend: url.backend,
            read,
            write,
            metrics: PoolMetrics::new(),
            replicas: std::sync::Arc::new(replicas::Replicas::new(replicas)),
        })
    }

    /// A connection for queries that only read.
    pub fn reader(&self) -> Result<PooledConn, CheckoutError> {
        self.checkout(&self.read)
    }

    /// A connection for reads that need not see this request's own writes: a fresh replica's
    /// when there is one (see [`replicas`]), else the primary's.
    ///
    /// When the primary is away (the change poller has not reached it for three polls: it
    /// failed, and no standby is promoted yet), any replica that answers serves, and
    /// [`last_read`] tells the caller its data may be older than the bound, so that it says so
    /// and does not cache it. A primary that is only busy is waited for, never bypassed.
    pub fn replica_reader(&self) -> Result<PooledConn, CheckoutError> {
        self.read_for(true)
    }

    /// Like [`Self::replica_reader`], but never from a replica that may be stale: for what the
    /// platform signs and dates (the trust bundle, status lists, the trust list).
    pub fn fresh_reader(&self) -> Result<PooledConn, CheckoutError> {
        self.read_for(false)
    }

    fn read_for(&self, stale_allowed: bool) -> Result<PooledConn, CheckoutError> {
        READ_FROM.with(|r| r.set(ReadFrom::Primary));
        if let Some(pool) = self.replicas.fresh() {
            if let Ok(conn) = self.checkout(pool) {
                self.replicas.count_read("replica");
                READ_FROM.with(|r| r.set(ReadFrom::Replica));
                return Ok(conn);
            }
        }
        let primary = self.reader();
        if primary.is_ok() || !stale_allowed || !self.replicas.primary_away() {
            self.replicas.count_read("primary");
            return primary;
        }
        for pool in self.replicas.any() {
            if let Ok(conn) = self.checkout(pool) {
                self.replicas.count_read("stale_replica");
                READ_FROM.with(|r| r.set(ReadFrom::StaleReplica));
                return Ok(conn);
            }
        }
        primary
    }

    /// A connection for transactions that write.
    pub fn writer(&self) -> Result<PooledConn, CheckoutError> {
        self.checkout(&self.write)
    }

    fn checkout(&self, pool: &DbPool) -> Result<PooledConn, CheckoutError> {
        if HOLDING.with(|h| h.replace(true)) {
            log::error!("{}", CheckoutError::Nested);
            return Err(CheckoutError::Nested);
        }
        LOST.with(|l| l.set(false));
        let started = Instant::now();
        let got = Self::live(pool);
        self.metrics.wait.observe(started.elapsed().as_secs_f64());
        match got {
            Ok(conn) => Ok(PooledConn {
                conn,
                _thread: std::marker::PhantomData,
            }),
            Err(e) => {
                HOLDING.with(|h| h.set(false));
                self.metrics.timeouts.inc();
                // Fewer connections than the pool may hold: connecting failed (the database
                // is away), not a plain overload, which pinging would only add to.
                if pool.state().connections < pool.max_size() {
                    storage_failed();
                }
                Err(e.into())
            }
        }
    }

    /// A connection from `pool`; shortly after a storage failure, one that answers a ping
    /// (dead ones are closed, and the pool opens fresh ones).
    fn live(pool: &DbPool) -> Result<PooledConnection<Manager>, diesel::r2d2::PoolError> {
        use diesel::r2d2::R2D2Connection;
        let mut conn = pool.get()?;
        if !recently_failed() {
            return Ok(conn);
        }
        for _ in 0..pool.max_size() {
            if conn.ping().is_ok() {
                return Ok(conn);
            }
            LOST.with(|l| l.set(true));
            drop(conn);
            conn = pool.get()?;
        }
        Ok(conn)
    }
}

/// Runs `f` in one write transaction; any error rolls it back. On SQLite it begins
/// `IMMEDIATE`, taking the write lock first: a deferred transaction that read before writing
/// fails at its first write with "database is locked", at once and whatever `busy_timeout`
/// says, when another process (a second instance, a `certrail` tool) committed after its read,
/// since SQLite cannot move a read snapshot forward; an immediate one waits its turn instead.
pub fn write_transaction<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    type Manager = <DbConn as Connection>::TransactionManager;
    let DbConn::Sqlite(sqlite) = conn else {
        return conn.transaction(f);
    };
    AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
    match f(conn) {
        Ok(value) => match Manager::commit_transaction(conn) {
            Ok(()) => Ok(value),
            Err(e) => {
                let _ = Manager::rollback_transaction(conn);
                Err(e.into())
            }
        },
        Err(e) => {
            Manager::rollback_transaction(conn)?;
            Err(e)
        }
    }
}

/// Bytes the database's tables take on disk, indexes included: for SQLite the used pages of
/// the file after a WAL checkpoint, for PostgreSQL the total relation size of every table in
/// the current schema (heap, TOAST and indexes).
pub fn disk_bytes(conn: &mut DbConn) -> diesel::QueryResult<i64> {
    use diesel::sql_types::BigInt;
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Size {
        #[diesel(sql_type = BigInt)]
        bytes: i64,
    }
    let query = match conn {
        DbConn::Sqlite(c) => {
            c.batch_execute("PRAGMA wal_checkpoint(TRUNCATE);")?;
            "SELECT (page_count - freelist_count) * page_size AS bytes \
             FROM pragma_page_count(), pragma_freelist_count(), pragma_page_size()"
        }
        DbConn::Pg(_) => {
            "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::BIGINT AS bytes \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema() AND c.relkind = 'r'"
        }
    };
    diesel::sql_query(query)
        .get_result::<Size>(conn)
        .map(|s| s.bytes)
}

/// Refreshes the query planner's statistics, as one does after a bulk load (PostgreSQL's
/// autovacuum does it on its own schedule, if it is enabled; SQLite only on request).
pub fn analyze(conn: &mut DbConn) -> diesel::QueryResult<()> {
    match conn {
        DbConn::Sqlite(c) => c.batch_execute("ANALYZE"),
        DbConn::Pg(c) => c.batch_execute("ANALYZE"),
    }
}

/// A database's schema against the migrations this binary carries.
#[derive(Debug, PartialEq, Eq)]
pub enum SchemaState {
    Current,
    /// This many of the binary's migrations are not applied yet.
    Behind(usize),
    /// The database has these migrations the binary does not know (a newer certrail ran).
    Ahead(Vec<String>),
}

/// Compares the applied migrations with the binary's own.
pub fn schema_state(conn: &mut DbConn) -> Result<SchemaState, String> {
    use diesel::migration::MigrationSource;
    fn versions<B: diesel::backend::Backend>(
        source: &EmbeddedMigrations,
        applied: diesel::migration::Result<Vec<diesel::migration::MigrationVersion<'static>>>,
    ) -> diesel::migration::Result<(Vec<String>, Vec<String>)>
    where
        EmbeddedMigrations: MigrationSource<B>,
    {
        let known = MigrationSource::<B>::migrations(source)?
            .iter()
            .map(|m| m.name().version().to_string())
            .collect();
        let applied = applied?.iter().map(ToString::to_string).collect();
        Ok((known, applied))
    }
    let (known, applied) = match conn {
        DbConn::Sqlite(c) => versions::<diesel::sqlite::Sqlite>(
            &SQLITE_MIGRATIONS,
            MigrationHarness::applied_migrations(c),
        ),
        DbConn::Pg(c) => {
            versions::<diesel::pg::Pg>(&PG_MIGRATIONS, MigrationHarness::applied_migrations(c))
        }
    }
    .map_err(|e| format!("reading the applied migrations: {e}"))?;
    let ahead: Vec<String> = applied
        .iter()
        .filter(|v| !known.contains(v))
        .cloned()
        .collect();
    if !ahead.is_empty() {
        return Ok(SchemaState::Ahead(ahead));
    }
    match known.iter().filter(|v| !applied.contains(v)).count() {
        0 => Ok(SchemaState::Current),
        n => Ok(SchemaState::Behind(n)),
    }
}

/// The PostgreSQL advisory lock held while migrating ("migr" in ASCII; the second key is the
/// schema's hash, so databases in different schemas migrate side by side).
const MIGRATION_LOCK: &str = "1835624306, hashtext(current_schema())";

/// Applies the backend's embedded migrations; refuses a database a newer certrail migrated
/// (its code may rely on what this binary's does not know).
pub fn run_migrations(conn: &mut DbConn) -> Result<(), String> {
    if let SchemaState::Ahead(unknown) = schema_state(conn)? {
        return Err(format!(
            "the database has migrations this certrail does not know ({}): a newer version \
             migrated it; run that version",
            unknown.join(", ")
        ));
    }
    let applied = match conn {
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
        // Instances started together on a new database take turns (diesel's migrations take
        // no lock of their own): the second finds them applied.
        DbConn::Pg(c) => c
            .batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
            .map_err(Into::into)
            .and_then(|()| {
                let ran = c.run_pending_migrations(PG_MIGRATIONS).map(|v| v.len());
                let _ = c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"));
                ran
            }),
    }
    .map_err(|e| format!("migrations failed: {e}"))?;
    if applied > 0 {
        log::info!("applied {applied} database migration(s)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_schemes() {
        assert_eq!(
            DbUrl::parse("sqlite://./x.db").unwrap().backend,
            Backend::Sqlite
        );
        let pg = DbUrl::parse("postgres://u@127.0.0.1/db").unwrap();
        assert_eq!(pg.backend, Backend::Postgres);
        assert!(pg.target.ends_with("?connect_timeout=5"));
        assert!(DbUrl::parse("postgresql://h/db?connect_timeout=1")
            .unwrap()
            .target
            .ends_with("=1"));
        for bad in [
            "postgress://h/db",
            "./data/x.db",
            "sqlite:",
            "sqlite://",
            "mysql://h/db",
        ] {
            assert!(DbUrl::parse(bad).is_err(), "{bad}");
        }
    }

    /// Another process writes between a write transaction's read and its write: the
    /// transaction must wait for it and commit, not fail with "database is locked".
    #[test]
    fn a_sqlite_write_transaction_that_reads_first_waits_for_another_writer() {
        let dir = tempfile::tempdir().unwrap();
        let url = DbUrl::parse(&format!("sqlite://{}", dir.path().join("t.db").display())).unwrap();
        let mut a = url.establish().unwrap();
        a.batch_execute("CREATE TABLE t (n INTEGER NOT NULL)")
            .unwrap();
        let other = std::sync::Mutex::new(None);
        let ours: Result<(), diesel::result::Error> = write_transaction(&mut a, |a| {
            use diesel::RunQueryDsl;
            diesel::sql_query("SELECT n FROM t").execute(a)?;
            let url = url.clone();
            *other.lock().unwrap() = Some(std::thread::spawn(move || {
                let mut b = url.establish().unwrap();
                write_transaction(&mut b, |b| b.batch_execute("INSERT INTO t VALUES (2)"))
            }));
            std::thread::sleep(Duration::from_millis(300));
            a.batch_execute("INSERT INTO t VALUES (1)")
        });
        let theirs = other.into_inner().unwrap().unwrap().join().unwrap();
        assert_eq!((ours, theirs), (Ok(()), Ok(())));
    }

    /// Start-up's first queries find a connection already made (not one still connecting
    /// within a request's short wait).
    #[test]
    fn a_new_pool_holds_its_first_connection() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = Db::connect_unmigrated(&url, &[], 4, Duration::from_millis(1)).unwrap();
        assert_eq!(db.write.state().idle_connections, 1);
    }
}
