//! Use cases, each written once and called alike by the API, the HTML pages, the CLI and
//! the demo loader. Front ends parse and present; the rules live here and in `domain`.
//!
//! Every function here blocks (it talks to the database): async callers run it in
//! `web::block`.

pub mod access;
pub mod audit;
pub mod certification;
pub mod changes;
pub mod custody;
pub mod interop;
pub mod issuance;
pub mod keys;
pub mod ops;
pub mod oversight;
pub mod redress;
pub mod tlog;
pub mod trail;
pub mod verify;
pub mod webhooks;

use crate::config::Config;
use crate::db::Db;
use crate::domain::validate::is_id;
use crate::error::{AppError, AppResult};
use crate::metrics::Metrics;

pub use access::auth::Actor;
pub use keys::keyring::KeyRing;

/// Everything a use case needs: storage, keys and settings.
pub struct AppState {
    pub db: Db,
    pub keys: KeyRing,
    pub config: Config,
    pub metrics: Metrics,
    /// Group commit of consumer scans.
    pub scans: verify::scan_writer::ScanWriter,
    /// Certificate records and label signals for verification.
    pub verify: std::sync::Arc<verify::cache::VerifyCache>,
    /// Reads other instances' changes; stops when the state is dropped.
    _changes: verify::invalidation::Poller,
    /// Purges what has served its time; stops when the state is dropped.
    _housekeeping: ops::housekeeping::Sweeper,
    /// Set once a shutdown began (`/readyz` answers 503).
    pub draining: ops::readiness::Flag,
    /// Set while the verification cache is filled after a start (`/readyz` answers 503).
    pub warming: ops::readiness::Flag,
    /// Per-client limits on problem reports and sign-in attempts.
    pub limits: access::limits::Limits,
    /// Password hashes at once, within `CERTRAIL_HASH_MEMORY_MB`.
    pub hashing: access::passwords::HashGate,
    /// The transparency log's identity and key.
    pub log: std::sync::Arc<tlog::LogKey>,
    /// The trust bundle, rebuilt at most once a minute.
    pub bundle: verify::bundle::BundleCache,
    /// The log's checkpoints that proofs are made against, read at most once a second.
    pub log_heads: tlog::inclusion::HeadsCache,
    /// Sequences the log; stops when the state is dropped.
    _sequencer: tlog::sequencer::Sequencer,
    /// Delivers the webhook outbox; stops when the state is dropped.
    _webhooks: webhooks::sender::Sender,
}

impl AppState {
    /// Connects to the database (running migrations) and loads the master key, for a command
    /// or a test (see [`ops::identity::Use`]).
    pub fn open(config: Config) -> Result<Self, String> {
        Self::open_for(config, ops::identity::Use::Tool)
    }

    /// Like [`Self::open`], for `purpose`.
    pub fn open_for(config: Config, purpose: ops::identity::Use) -> Result<Self, String> {
        create_private_dir(&config.data_dir)?;
        crate::print::font::configure(config.label_font.clone());
        let tuning = config.tuning;
        let db = Db::connect_unmigrated(
            &config.database_url,
            &config.ops.replica_urls,
            config.pool_size,
            tuning.db_wait,
        )?;
        let master = match master_key(&config)? {
            Some(master) => master,
            None => {
                crate::crypto::seal::MasterKey::load_or_create(&config.data_dir.join("master.key"))?
            }
        };
        let origin = match &config.ops.log_origin {
            Some(origin) => origin.clone(),
            None => tlog::note::origin_of(&config.public_url)?,
        };
        // An instance that disagrees with the database refuses before it migrates anything.
        ops::identity::settle(&db, origin.clone(), master.log_seed(), purpose, false)?;
        db.migrate()?;
        let mut metrics = Metrics::default();
        let pool = db.metrics.clone();
        metrics.register(
            "db_pool_wait_seconds",
            "Time each database connection checkout waited",
            pool.wait,
        );
        metrics.register(
            "db_pool_timeouts",
            "Checkouts that found no free connection in time (answered 503)",
            pool.timeouts,
        );
        let replicas = db.replicas.metrics.clone();
        metrics.register(
            "db_reads",
            "Reads that may go to a replica, by where they went (primary, replica)",
            replicas.reads,
        );
        metrics.register(
            "db_replica_lag_bytes",
            "WAL bytes each replica had still to replay at the last poll",
            replicas.lag_bytes,
        );
        metrics.register(
            "db_replica_fresh",
            "1 while a replica has replayed what the primary had at the last poll (used for reads)",
            replicas.fresh,
        );
        let scan_metrics = verify::scan_writer::ScanMetrics::default();
        for (name, help, metric) in [
            (
                "scan_queue_waits",
                "Scans that waited for room in the scan queue",
                &scan_metrics.waits,
            ),
            (
                "scans_dropped",
                "Scans dropped because the scan queue stayed full",
                &scan_metrics.dropped,
            ),
            (
                "scans_stored",
                "Consumer scans committed",
                &scan_metrics.stored,
            ),
            (
                "scan_commits",
                "Transactions of the scan writer",
                &scan_metrics.commits,
            ),
            (
                "scan_commit_failures",
                "Failed scan writer transactions (retried)",
                &scan_metrics.failures,
            ),
        ] {
            metrics.register(name, help, metric.clone());
        }
        metrics.register(
            "scan_queue_keys",
            "Distinct labels, hours and regions waiting for the scan writer",
            scan_metrics.queued.clone(),
        );
        // The identity written by the first instance (or checked again: another may have
        // written it since).
        let log_key = std::sync::Arc::new(ops::identity::settle(
            &db,
            origin,
            master.log_seed(),
            purpose,
            true,
        )?);
        let head = ops::log_head::HeadFile::new(&config.data_dir);
        ops::log_head::check(&db, &head, &log_key, config.ops.rollback_accepted)?;
        let backfilled = tlog::entry::backfill(&db).map_err(|e| format!("log backfill: {e}"))?;
        if backfilled > 0 {
            log::info!(
                "queued {backfilled} certificates issued before the transparency log for it"
            );
        }
        let log_metrics = tlog::sequencer::LogMetrics::default();
        log_metrics.register(&mut metrics);
        let webhook_metrics = webhooks::sender::WebhookMetrics::default();
        webhook_metrics.register(&mut metrics);
        let verify = std::sync::Arc::new(verify::cache::VerifyCache::new(
            tuning.verify_cache_bytes,
            tuning.verify_cache_ttl,
        ));
        verify.metrics.register(&mut metrics);
        Ok(Self {
            scans: verify::scan_writer::ScanWriter::start(
                db.clone(),
                tuning.scan_queue,
                tuning.db_wait,
                scan_metrics,
            ),
            _changes: verify::invalidation::Poller::start(
                db.clone(),
                verify.clone(),
                tuning.change_poll,
            ),
            _housekeeping: ops::housekeeping::Sweeper::start(db.clone()),
            draining: Default::default(),
            warming: Default::default(),
            _sequencer: tlog::sequencer::Sequencer::start(
                db.clone(),
                log_key.clone(),
                tuning.log_interval,
                log_metrics,
                head,
            ),
            _webhooks: webhooks::sender::Sender::start(
                db.clone(),
                master.clone(),
                config.workflow,
                std::time::Duration::from_millis(250),
                webhook_metrics,
            ),
            log: log_key,
            bundle: Default::default(),
            log_heads: Default::default(),
            verify,
            limits: Default::default(),
            hashing: access::passwords::HashGate::new(tuning.hash_memory_bytes),
            db,
            keys: KeyRing::new(master),
            config,
            metrics,
        })
    }

    /// The public verify URL of a batch label (contract §3).
    pub fn batch_label_url(&self, id: &str, signature_b64: &str) -> String {
        format!("{}/v/{id}?s={signature_b64}", self.config.public_url)
    }

    /// The public verify URL of a unit label (contract §3).
    pub fn unit_label_url(&self, id: &str, serial: i64, signature_b64: &str) -> String {
        format!(
            "{}/v/{id}/{serial}?s={signature_b64}",
            self.config.public_url
        )
    }

    /// An absolute URL under the public base.
    pub fn public_url(&self, path: &str) -> String {
        format!("{}{path}", self.config.public_url)
    }

    /// Runs `f` in one write transaction; any error rolls everything back. What the
    /// transaction recorded through [`changes`] is dropped from the caches once it commits.
    pub fn write<T>(&self, f: impl FnOnce(&mut crate::db::DbConn) -> AppResult<T>) -> AppResult<T> {
        changes::discard();
        let result = {
            let mut pooled = self.db.writer()?;
            let conn: &mut crate::db::DbConn = &mut pooled;
            crate::db::write_transaction(conn, f)
        };
        match &result {
            Ok(_) => verify::invalidation::apply(&self.db, &self.verify),
            Err(_) => changes::discard(),
        }
        result
    }
}

/// Creates the data directory (and its parents) if missing; a new one is private (0700).
/// The systemd credential (`LoadCredential=master-key:…`) that holds the master key.
const MASTER_KEY_CREDENTIAL: &str = "master-key";

/// The master key from, in this order, `CERTRAIL_MASTER_KEY`, the systemd credential
/// `master-key` (`$CREDENTIALS_DIRECTORY/master-key`) or the data directory's `master.key`;
/// `None` when there is none yet (the first start creates the file).
pub fn master_key(config: &Config) -> Result<Option<crate::crypto::seal::MasterKey>, String> {
    use crate::crypto::seal::{read_secret_file, MasterKey};
    if let Some(text) = &config.master_key {
        return MasterKey::parse(text)
            .map(Some)
            .map_err(|e| format!("CERTRAIL_MASTER_KEY: {e}"));
    }
    let credential = std::env::var_os("CREDENTIALS_DIRECTORY")
        .map(|dir| std::path::PathBuf::from(dir).join(MASTER_KEY_CREDENTIAL));
    let file = credential
        .filter(|path| path.exists())
        .unwrap_or_else(|| config.data_dir.join("master.key"));
    if !file.exists() {
        return Ok(None);
    }
    let text = read_secret_file(&file)?;
    MasterKey::parse(&text)
        .map(Some)
        .map_err(|e| format!("{}: {e}", file.display()))
}

fn create_private_dir(dir: &std::path::Path) -> Result<(), String> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| format!("cannot create data dir {}: {e}", dir.display()))
}

/// Accepts `id` only if it has the shape of an id; anything else cannot exist (404).
pub fn checked_id<'a>(id: &'a str, what: &str) -> AppResult<&'a str> {
    if is_id(id) {
        Ok(id)
    } else {
        Err(AppError::not_found(what))
    }
}

/// Loads a certificate and the producer that issued it.
pub fn certificate_with_producer(
    conn: &mut crate::db::DbConn,
    id: &str,
) -> AppResult<(
    crate::db::models::Certificate,
    crate::db::models::Organization,
)> {
    let cert = crate::db::models::Certificate::find(conn, checked_id(id, "certificate")?)?
        .ok_or_else(|| AppError::not_found("certificate"))?;
    let producer = crate::db::models::Organization::find(conn, &cert.organization_id)?
        .ok_or_else(|| AppError::internal(format!("certificate {id} has no producer")))?;
    Ok((cert, producer))
}
