//! Runtime configuration, read from the environment (flags may override).
//!
//! | variable               | default                                   |
//! |------------------------|-------------------------------------------|
//! | `CERTRAIL_BIND`        | `127.0.0.1:8080`                          |
//! | `CERTRAIL_PUBLIC_URL`  | `http://{CERTRAIL_BIND}`                  |
//! | `CERTRAIL_DATA_DIR`    | `./data`                                  |
//! | `DATABASE_URL`         | `sqlite://{CERTRAIL_DATA_DIR}/certrail.db` |
//! | `CERTRAIL_ADMIN_TOKEN` | unset (no environment admin token)        |
//! | `CERTRAIL_MASTER_KEY`  | generated into `{CERTRAIL_DATA_DIR}/master.key` |
//! | `CERTRAIL_DB_POOL`     | `8` (connections; SQLite writes always use one) |
//! | `CERTRAIL_COPY_WINDOW_HOURS` | `24` (unit scans in two provinces within it warn) |
//! | `CERTRAIL_MAX_UNIT_SCANS` | `20` (more scans of one unit label warn) |
//! | `CERTRAIL_DB_WAIT_MS`  | `1000` (longest wait for a pooled connection, then 503) |
//! | `CERTRAIL_VERIFY_CACHE_MB` | `64` (verification cache of certificate records) |
//! | `CERTRAIL_VERIFY_CACHE_TTL_SECS` | `300` (a cached record is re-read at least this often) |
//! | `CERTRAIL_WARM_RECORDS` | `20000` (newest certificates' records read into the cache after a start, before `/readyz` is ready; `0`: none) |
//! | `CERTRAIL_SCAN_QUEUE`  | `65536` (distinct labels waiting for the scan writer) |
//! | `CERTRAIL_CHANGE_POLL_MS` | `1000` (how often other instances' changes are read) |
//! | `CERTRAIL_LOG_INTERVAL_MS` | `250` (how often the transparency log sequences) |
//! | `CERTRAIL_HASH_MEMORY_MB` | `160` (memory for password hashes at once: 8 of 19 MB) |
//! | `CERTRAIL_BODY_TIMEOUT_SECS` | `30` (a request body must arrive within this, from its head) |
//! | `CERTRAIL_WEBHOOK_RETRY_SCALE` | `1` (multiplies the webhook retry delays; tests shorten them) |
//! | `CERTRAIL_WEBHOOK_ALLOW_PRIVATE` | `false` (deliver webhooks to loopback and private addresses) |
//! | `CERTRAIL_CASE_DAYS`   | `7` (days a named party has to answer a 先行赔付 case) |
//! | `CERTRAIL_RECALL_ACK_HOURS` | `48` (hours a retailer has to acknowledge a recall) |
//! | `CERTRAIL_DATABASE_REPLICA_URLS` | unset (PostgreSQL streaming replicas for reads, comma-separated) |
//! | `CERTRAIL_LOG_ORIGIN`  | `{host[:port] of CERTRAIL_PUBLIC_URL}/log` (keep a moved platform's log name) |
//! | `CERTRAIL_DRAIN_SECS`  | `5` (after SIGTERM, `/readyz` answers 503 this long before the listener closes) |
//! | `CERTRAIL_LOG_ROLLBACK_ACCEPTED` | unset (the checkpoint size of a rollback the operator accepts) |
//! | `RUST_LOG`             | `info`                                    |

use std::path::PathBuf;

/// Settings the service runs with.
#[derive(Clone)]
pub struct Config {
    pub bind: String,
    /// Base of every URL put in a QR code, without a trailing slash.
    pub public_url: String,
    pub data_dir: PathBuf,
    pub database_url: String,
    /// Accepted as the platform admin's bearer token, if set. Never logged.
    pub admin_token: Option<String>,
    /// `CERTRAIL_MASTER_KEY`, if set. Never logged.
    pub master_key: Option<String>,
    pub pool_size: u32,
    /// Reverse proxies whose `X-Forwarded-For` is believed (`CERTRAIL_TRUSTED_PROXIES`): the
    /// client address of every per-client limit is found through them, never past them.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// `CERTRAIL_LABEL_FONT`: the TrueType/TTC font of label sheet captions (else Debian's).
    pub label_font: Option<PathBuf>,
    /// Copied-label warning thresholds.
    pub copy: crate::domain::copy::Thresholds,
    /// Waits, caches and queues of the verification path.
    pub tuning: Tuning,
    /// Deadlines and deliveries of the regulatory workflows.
    pub workflow: Workflow,
    /// Replicas, shutdown and restores: running several instances.
    pub ops: Operations,
}

/// Settings for running several instances on one database.
#[derive(Debug, Clone)]
pub struct Operations {
    /// PostgreSQL streaming replicas that reads which need not see the newest write may use.
    /// Never logged as given (they may hold passwords).
    pub replica_urls: Vec<String>,
    /// The transparency log's name, when it is not the one `public_url` gives (a platform that
    /// moved to another address keeps its log's name).
    pub log_origin: Option<String>,
    /// After SIGTERM, how long `/readyz` answers 503 (so load balancers stop sending) before
    /// the listener closes and in-flight requests finish.
    pub drain: std::time::Duration,
    /// The size of the kept checkpoint whose loss the operator accepted after a restore.
    pub rollback_accepted: Option<u64>,
}

impl Default for Operations {
    fn default() -> Self {
        Self {
            replica_urls: Vec::new(),
            log_origin: None,
            drain: std::time::Duration::from_secs(5),
            rollback_accepted: None,
        }
    }
}

/// Deadlines of cases and recalls, and webhook delivery settings.
#[derive(Debug, Clone, Copy)]
pub struct Workflow {
    /// Multiplies every webhook retry delay (1 = the Standard Webhooks schedule, ~27 hours).
    pub webhook_retry_scale: f64,
    /// Deliver to loopback and private addresses (tests, closed networks); off by default so a
    /// registered URL cannot reach the platform's own network.
    pub webhook_allow_private: bool,
    /// Time a named producer or retailer has to answer a 先行赔付 case.
    pub case_deadline: chrono::Duration,
    /// Time a retailer has to acknowledge a recall before it shows as overdue.
    pub recall_ack_deadline: chrono::Duration,
}

impl Default for Workflow {
    fn default() -> Self {
        Self {
            webhook_retry_scale: 1.0,
            webhook_allow_private: false,
            case_deadline: chrono::Duration::days(7),
            recall_ack_deadline: chrono::Duration::hours(48),
        }
    }
}

/// Waits, caches, queues and bounds (see the module's table for the variables).
#[derive(Debug, Clone, Copy)]
pub struct Tuning {
    /// Longest wait for a pooled connection before answering 503.
    pub db_wait: std::time::Duration,
    /// Bytes the verification cache may hold.
    pub verify_cache_bytes: u64,
    /// A cached certificate record is re-read after this long even if nothing said it changed
    /// (an edit made behind the platform's back shows by then).
    pub verify_cache_ttl: std::time::Duration,
    /// Records read into the verification cache after a start, before ready (`verify::warm`).
    pub warm_records: usize,
    /// Distinct labels whose scans may wait for the scan writer; beyond it callers wait.
    pub scan_queue: usize,
    /// How often changes made by other server instances are read.
    pub change_poll: std::time::Duration,
    /// How often the transparency log's sequencer looks for new entries.
    pub log_interval: std::time::Duration,
    /// Memory password hashing may take at once (each argon2id hash takes 19 MB).
    pub hash_memory_bytes: u64,
    /// Time a request's body has to arrive, counted from its head; then 408 and the
    /// connection is closed.
    pub body_timeout: std::time::Duration,
}

impl Default for Tuning {
    fn default() -> Self {
        use std::time::Duration;
        Self {
            db_wait: Duration::from_millis(1000),
            verify_cache_bytes: 64 << 20,
            verify_cache_ttl: Duration::from_secs(300),
            warm_records: 20_000,
            scan_queue: 65_536,
            change_poll: Duration::from_millis(1000),
            log_interval: Duration::from_millis(250),
            hash_memory_bytes: 160 << 20,
            body_timeout: Duration::from_secs(30),
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("public_url", &self.public_url)
            .field("data_dir", &self.data_dir)
            .field("database_url", &redact_url(&self.database_url))
            .field("admin_token", &self.admin_token.as_ref().map(|_| "<set>"))
            .field("master_key", &self.master_key.as_ref().map(|_| "<set>"))
            .field("pool_size", &self.pool_size)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("label_font", &self.label_font)
            .field("copy", &self.copy)
            .field("tuning", &self.tuning)
            .field("workflow", &self.workflow)
            .field(
                "replica_urls",
                &self
                    .ops
                    .replica_urls
                    .iter()
                    .map(|u| redact_url(u))
                    .collect::<Vec<_>>(),
            )
            .field("log_origin", &self.ops.log_origin)
            .field("drain", &self.ops.drain)
            .field("rollback_accepted", &self.ops.rollback_accepted)
            .finish()
    }
}

/// Optional overrides, e.g. from command-line flags; `None` falls back to the environment.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub bind: Option<String>,
    pub public_url: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// A positive integer variable, or `default` when unset.
fn positive<T: std::str::FromStr + PartialOrd + Default>(
    name: &str,
    default: T,
) -> Result<T, String> {
    match env(name) {
        Some(v) => v
            .parse()
            .ok()
            .filter(|n| *n > T::default())
            .ok_or(format!("{name} must be a positive integer")),
        None => Ok(default),
    }
}

impl Config {
    /// Reads the environment, applying `overrides` first.
    pub fn from_env(overrides: Overrides) -> Result<Self, String> {
        let bind = overrides
            .bind
            .or_else(|| env("CERTRAIL_BIND"))
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let public_url = overrides
            .public_url
            .or_else(|| env("CERTRAIL_PUBLIC_URL"))
            .unwrap_or_else(|| format!("http://{bind}"));
        let data_dir = overrides
            .data_dir
            .or_else(|| env("CERTRAIL_DATA_DIR").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("./data"));
        let database_url = overrides
            .database_url
            .or_else(|| env("DATABASE_URL"))
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("certrail.db").display()));
        let pool_size = positive("CERTRAIL_DB_POOL", 8)?;
        let copy = crate::domain::copy::Thresholds {
            window_hours: positive("CERTRAIL_COPY_WINDOW_HOURS", 24)?,
            max_unit_scans: positive("CERTRAIL_MAX_UNIT_SCANS", 20)?,
        };
        let ms = |name, default: std::time::Duration| {
            positive(name, default.as_millis() as u64).map(std::time::Duration::from_millis)
        };
        let d = Tuning::default();
        let tuning = Tuning {
            db_wait: ms("CERTRAIL_DB_WAIT_MS", d.db_wait)?,
            verify_cache_bytes: positive("CERTRAIL_VERIFY_CACHE_MB", d.verify_cache_bytes >> 20)?
                << 20,
            verify_cache_ttl: std::time::Duration::from_secs(positive(
                "CERTRAIL_VERIFY_CACHE_TTL_SECS",
                d.verify_cache_ttl.as_secs(),
            )?),
            warm_records: match env("CERTRAIL_WARM_RECORDS") {
                Some(v) => v
                    .parse()
                    .map_err(|_| "CERTRAIL_WARM_RECORDS must be a whole number (0: none)")?,
                None => d.warm_records,
            },
            scan_queue: positive("CERTRAIL_SCAN_QUEUE", d.scan_queue)?,
            change_poll: ms("CERTRAIL_CHANGE_POLL_MS", d.change_poll)?,
            log_interval: ms("CERTRAIL_LOG_INTERVAL_MS", d.log_interval)?,
            hash_memory_bytes: positive("CERTRAIL_HASH_MEMORY_MB", d.hash_memory_bytes >> 20)?
                << 20,
            body_timeout: std::time::Duration::from_secs(positive(
                "CERTRAIL_BODY_TIMEOUT_SECS",
                d.body_timeout.as_secs(),
            )?),
        };
        let workflow = Workflow {
            webhook_retry_scale: match env("CERTRAIL_WEBHOOK_RETRY_SCALE") {
                Some(v) => v
                    .parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite() && *n > 0.0)
                    .ok_or("CERTRAIL_WEBHOOK_RETRY_SCALE must be a positive number")?,
                None => 1.0,
            },
            webhook_allow_private: match env("CERTRAIL_WEBHOOK_ALLOW_PRIVATE").as_deref() {
                None | Some("false") | Some("0") => false,
                Some("true") | Some("1") => true,
                Some(_) => {
                    return Err("CERTRAIL_WEBHOOK_ALLOW_PRIVATE must be true or false".into())
                }
            },
            case_deadline: chrono::Duration::days(positive("CERTRAIL_CASE_DAYS", 7)?),
            recall_ack_deadline: chrono::Duration::hours(positive(
                "CERTRAIL_RECALL_ACK_HOURS",
                48,
            )?),
        };
        let ops = Operations {
            replica_urls: env("CERTRAIL_DATABASE_REPLICA_URLS")
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(String::from)
                .collect(),
            log_origin: env("CERTRAIL_LOG_ORIGIN"),
            drain: match env("CERTRAIL_DRAIN_SECS") {
                Some(v) => std::time::Duration::from_secs(
                    v.parse()
                        .map_err(|_| "CERTRAIL_DRAIN_SECS must be a whole number of seconds")?,
                ),
                None => Operations::default().drain,
            },
            rollback_accepted: match env("CERTRAIL_LOG_ROLLBACK_ACCEPTED") {
                Some(v) => Some(v.parse().map_err(|_| {
                    "CERTRAIL_LOG_ROLLBACK_ACCEPTED must be the size of the checkpoint the \
                     start-up check named"
                })?),
                None => None,
            },
        };
        Ok(Self {
            ops,
            tuning,
            workflow,
            bind,
            public_url: public_url.trim_end_matches('/').to_string(),
            data_dir,
            database_url,
            admin_token: env("CERTRAIL_ADMIN_TOKEN"),
            master_key: env("CERTRAIL_MASTER_KEY"),
            pool_size,
            trusted_proxies: trusted_proxies(env("CERTRAIL_TRUSTED_PROXIES").as_deref())?,
            label_font: env("CERTRAIL_LABEL_FONT").map(PathBuf::from),
            copy,
        })
    }
}

/// A comma-separated list of IP addresses (none when unset).
fn trusted_proxies(value: Option<&str>) -> Result<Vec<std::net::IpAddr>, String> {
    value
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.parse().map_err(|_| {
                format!("CERTRAIL_TRUSTED_PROXIES: {v} is not an IP address (list them, comma-separated)")
            })
        })
        .collect()
}

/// Hides the passwords in a database URL for logs: the user information's
/// (`postgres://user:***@host/db`) and a `password` query parameter (`?password=***`).
pub fn redact_url(raw: &str) -> String {
    let Ok(mut url) = url::Url::parse(raw) else {
        // libpq's multi-host form (`postgres://u:pw@h1:5432,h2:5432/db`) is no URL to the
        // `url` crate: take the password out by hand.
        return redact_by_hand(raw);
    };
    let in_query = url.query_pairs().any(|(k, _)| k == "password");
    if url.password().is_none() && !in_query {
        return raw.to_string();
    }
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    if in_query {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| match k.as_ref() {
                "password" => (k.into_owned(), "***".to_string()),
                _ => (k.into_owned(), v.into_owned()),
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

/// The password between `scheme://user:` and the `@` before the hosts, and every
/// `password=` value, replaced by `***`.
fn redact_by_hand(raw: &str) -> String {
    let mut out = raw.to_string();
    if let Some(start) = out.find("://").map(|i| i + 3) {
        let authority_end = out[start..]
            .find(['/', '?'])
            .map_or(out.len(), |i| start + i);
        if let Some(at) = out[start..authority_end].rfind('@').map(|i| start + i) {
            if let Some(colon) = out[start..at].find(':').map(|i| start + i) {
                out.replace_range(colon + 1..at, "***");
            }
        }
    }
    let mut from = 0;
    while let Some(i) = out[from..]
        .find("password=")
        .map(|i| from + i + "password=".len())
    {
        let end = out[i..].find('&').map_or(out.len(), |e| i + e);
        out.replace_range(i..end, "***");
        from = i + 3;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://./data/x.db"), "sqlite://./data/x.db");
        assert_eq!(
            redact_url("postgres://u@h:5432/db?sslmode=require&password=hunter2"),
            "postgres://u@h:5432/db?sslmode=require&password=***"
        );
        assert_eq!(
            redact_url("postgres://u:p%40ss@h/db?password=x&connect_timeout=5"),
            "postgres://u:***@h/db?password=***&connect_timeout=5"
        );
        assert_eq!(redact_url("not a url"), "not a url");
        // libpq's multi-host form, which the url crate does not parse.
        assert_eq!(
            redact_url("postgres://u:secret@db1:5432,db2:5432/x?target_session_attrs=read-write"),
            "postgres://u:***@db1:5432,db2:5432/x?target_session_attrs=read-write"
        );
        assert_eq!(
            redact_url("postgres://u@db1,db2/x?password=hunter2&sslmode=require"),
            "postgres://u@db1,db2/x?password=***&sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://db1:5432,db2:5432/x"),
            "postgres://db1:5432,db2:5432/x"
        );
    }

    #[test]
    fn trusted_proxies_are_a_list_of_addresses() {
        assert_eq!(
            trusted_proxies(None).unwrap(),
            Vec::<std::net::IpAddr>::new()
        );
        assert_eq!(
            trusted_proxies(Some(" 10.0.0.1, ::1 ,")).unwrap(),
            vec![
                "10.0.0.1".parse::<std::net::IpAddr>().unwrap(),
                "::1".parse().unwrap()
            ]
        );
        assert!(trusted_proxies(Some("10.0.0.0/8")).is_err());
        assert!(trusted_proxies(Some("proxy.local")).is_err());
    }
}
