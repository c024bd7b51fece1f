//! Delivers the webhook outbox. Each attempt is a `POST` with the Standard Webhooks headers:
//! `webhook-id` (the same on every attempt of a message), `webhook-timestamp` (Unix seconds of
//! this attempt) and `webhook-signature` (`v1,` + base64 HMAC-SHA256 of `id.timestamp.body`
//! under the endpoint's secret). A 2xx answer ends it; anything else is retried after 5 s,
//! 5 min, 30 min, 2 h, 5 h, 10 h and 10 h (the specification's schedule, about 27 hours),
//! then given up. A delivery is claimed before it is sent, so several server instances share
//! the outbox; an attempt that succeeds but is not recorded is sent again with the same id.

use std::net::ToSocketAddrs;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use diesel::Connection;
use hmac::{Hmac, Mac};
use prometheus_client::metrics::counter::Counter;
use sha2::Sha256;

use crate::config::Workflow;
use crate::crypto::seal::MasterKey;
use crate::db::models::now;
use crate::db::models::webhook::{Delivery, Webhook};
use crate::db::{Db, DbConn};
use crate::error::AppResult;

/// Delays before the 2nd, 3rd, … attempt, in seconds.
const RETRY_DELAYS: [u64; 7] = [5, 300, 1800, 7200, 18_000, 36_000, 36_000];
/// Deliveries taken per round.
const ROUND: i64 = 32;
/// Endpoints sent to at once: one slow endpoint holds up only its own messages.
const PARALLEL: usize = 8;
/// How long a claimed delivery is left alone by other instances: longer than the slowest
/// round (each endpoint's messages one after another, `TIMEOUT` each, `PARALLEL` at once).
const LEASE: chrono::Duration = chrono::Duration::seconds(600);
/// Longest wait for an endpoint's answer, and for its connection.
const TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// The signature header value of `body` sent as message `id` at `timestamp`.
pub fn signature(secret: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

/// When the attempt after `attempts` failed ones is due, or `None` once the schedule is spent.
pub fn next_delay(attempts: i32, scale: f64) -> Option<chrono::Duration> {
    let index = usize::try_from(attempts).ok()?.checked_sub(1)?;
    let seconds = *RETRY_DELAYS.get(index)? as f64 * scale;
    Some(chrono::Duration::milliseconds((seconds * 1000.0) as i64))
}

/// Delivery figures for `/metrics`.
#[derive(Clone, Default)]
pub struct WebhookMetrics {
    pub delivered: Counter,
    pub failed_attempts: Counter,
}

impl WebhookMetrics {
    pub fn register(&self, metrics: &mut crate::metrics::Metrics) {
        metrics.register(
            "webhook_deliveries",
            "Webhook messages delivered (2xx)",
            self.delivered.clone(),
        );
        metrics.register(
            "webhook_failed_attempts",
            "Webhook delivery attempts that failed (retried on schedule)",
            self.failed_attempts.clone(),
        );
    }
}

/// The sender thread; stops when dropped.
pub struct Sender {
    stop: Arc<AtomicBool>,
}

impl Sender {
    pub fn start(
        db: Db,
        master: MasterKey,
        workflow: Workflow,
        every: Duration,
        metrics: WebhookMetrics,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(TIMEOUT))
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        std::thread::Builder::new()
            .name("webhook-sender".into())
            .spawn(move || {
                while !stopped.load(Ordering::Relaxed) {
                    std::thread::sleep(every);
                    if let Err(e) = round(&db, &master, &agent, &workflow, &metrics) {
                        crate::db::storage_failed();
                        ::log::warn!("webhook sender: {e} (retrying)");
                    }
                }
            })
            .expect("spawn the webhook sender thread");
        Self { stop }
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Sends what is due; returns how many attempts were made.
pub fn round(
    db: &Db,
    master: &MasterKey,
    agent: &ureq::Agent,
    workflow: &Workflow,
    metrics: &WebhookMetrics,
) -> AppResult<usize> {
    let at = now();
    let due = Delivery::due(&mut *db.reader()?, at, ROUND)?;
    if due.is_empty() {
        return Ok(0);
    }
    let claimed: Vec<Delivery> = {
        let mut pooled = db.writer()?;
        let conn: &mut DbConn = &mut pooled;
        conn.transaction(|conn| -> AppResult<Vec<Delivery>> {
            let mut claimed = Vec::new();
            for d in due {
                let Some(when) = d.next_attempt_at else {
                    continue;
                };
                if Delivery::claim(conn, &d.id, when, at + LEASE)? {
                    claimed.push(d);
                }
            }
            Ok(claimed)
        })?
    };
    let count = claimed.len();
    let lease_until = at + LEASE;
    // One queue per endpoint, several endpoints at once.
    let mut queues: Vec<Vec<Delivery>> = Vec::new();
    for d in claimed {
        match queues.iter_mut().find(|q| q[0].webhook_id == d.webhook_id) {
            Some(q) => q.push(d),
            None => queues.push(vec![d]),
        }
    }
    let results: Vec<AppResult<()>> = std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for chunk in queues.chunks(queues.len().div_ceil(PARALLEL).max(1)) {
            handles.push(scope.spawn(move || -> AppResult<()> {
                for queue in chunk {
                    for d in queue {
                        deliver(db, master, agent, workflow, metrics, d, lease_until)?;
                    }
                }
                Ok(())
            }));
        }
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(crate::error::AppError::internal(
                        "a webhook sender thread panicked",
                    ))
                })
            })
            .collect()
    });
    results.into_iter().collect::<AppResult<Vec<()>>>()?;
    Ok(count)
}

/// Sends one claimed delivery and records what happened.
fn deliver(
    db: &Db,
    master: &MasterKey,
    agent: &ureq::Agent,
    workflow: &Workflow,
    metrics: &WebhookMetrics,
    d: &Delivery,
    lease_until: chrono::NaiveDateTime,
) -> AppResult<()> {
    let endpoint = Webhook::find(&mut *db.reader()?, &d.webhook_id)?;
    let active = crate::db::models::Organization::find(&mut *db.reader()?, &d.organization_id)?
        .is_some_and(|o| o.deactivated_at.is_none());
    let outcome = match (&endpoint, active) {
        (None, _) => return Ok(()),
        (Some(_), false) => Err("the organization is deactivated".to_string()),
        (Some(w), true) => attempt(master, agent, workflow, w, d),
    };
    let attempts = d.attempts.saturating_add(1);
    let mut pooled = db.writer()?;
    match outcome {
        Ok(status) if (200..300).contains(&status) => {
            metrics.delivered.inc();
            Delivery::record(
                &mut pooled,
                &d.id,
                lease_until,
                attempts,
                Some(status),
                None,
                Some(now()),
                None,
            )?;
        }
        result => {
            metrics.failed_attempts.inc();
            let (status, error) = match result {
                Ok(status) => (Some(status), format!("answered {status}")),
                Err(e) => (None, e),
            };
            let next = match active {
                true => next_delay(attempts, workflow.webhook_retry_scale).map(|d| now() + d),
                false => None,
            };
            Delivery::record(
                &mut pooled,
                &d.id,
                lease_until,
                attempts,
                status,
                Some(&error),
                None,
                next,
            )?;
        }
    }
    Ok(())
}

/// One attempt: the HTTP status, or why there was none.
fn attempt(
    master: &MasterKey,
    agent: &ureq::Agent,
    workflow: &Workflow,
    w: &Webhook,
    d: &Delivery,
) -> Result<i32, String> {
    let secret = super::secret_of(master, w).ok_or("the endpoint's secret cannot be opened")?;
    if !workflow.webhook_allow_private {
        public_only(&w.url)?;
    }
    let timestamp = chrono::Utc::now().timestamp();
    let response = agent
        .post(&w.url)
        .header("content-type", "application/json")
        .header("user-agent", "certrail-webhooks/1")
        .header("webhook-id", &d.id)
        .header("webhook-timestamp", &timestamp.to_string())
        .header(
            "webhook-signature",
            &signature(&secret, &d.id, timestamp, &d.body),
        )
        .send(d.body.as_str())
        .map_err(|e| e.to_string())?;
    Ok(i32::from(response.status().as_u16()))
}

/// Whether `ip` is an ordinary public address: not loopback, private, shared (100.64/10),
/// link-local, benchmarking (198.18/15), "this network" (0/8), multicast, broadcast or
/// unspecified, nor an IPv4-mapped or IPv6 unique-local or link-local form of those.
fn is_public(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (18..20).contains(&b)))
        }
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public(std::net::IpAddr::V4(v4)),
            None => {
                !(v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_multicast()
                    || (v6.segments()[0] & 0xfe00) == 0xfc00
                    || (v6.segments()[0] & 0xffc0) == 0xfe80)
            }
        },
    }
}

/// Refuses hosts that resolve to anything but public addresses ([`is_public`]). The name is
/// resolved again when connecting, so a name that changes its answer in between (DNS
/// rebinding) is not caught here.
fn public_only(url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| e.to_string())?;
    let host = parsed.host_str().ok_or("no host")?;
    let port = parsed.port_or_known_default().unwrap_or(443);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs = (host, port).to_socket_addrs().map_err(|e| e.to_string())?;
    for addr in addrs {
        let ip = addr.ip();
        if !is_public(ip) {
            return Err(format!("{ip} is not a public address"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_spans_more_than_a_day_then_ends() {
        assert_eq!(next_delay(0, 1.0), None);
        assert_eq!(next_delay(1, 1.0), Some(chrono::Duration::seconds(5)));
        assert_eq!(next_delay(2, 1.0), Some(chrono::Duration::seconds(300)));
        assert_eq!(next_delay(7, 1.0), Some(chrono::Duration::seconds(36_000)));
        assert_eq!(next_delay(8, 1.0), None);
        let total: u64 = RETRY_DELAYS.iter().sum();
        assert!(total > 24 * 3600, "{total}");
        assert_eq!(
            next_delay(1, 0.5),
            Some(chrono::Duration::milliseconds(2500))
        );
    }

    #[test]
    fn signatures_match_the_standard_webhooks_library() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let body = r#"{"type":"recall.created","data":{}}"#;
        let theirs = standardwebhooks::Webhook::from_bytes(secret.to_vec())
            .unwrap()
            .sign("msg_1", 1_614_265_330, body.as_bytes())
            .unwrap();
        assert_eq!(signature(secret, "msg_1", 1_614_265_330, body), theirs);
        assert_ne!(signature(secret, "msg_2", 1_614_265_330, body), theirs);
    }

    #[test]
    fn private_addresses_are_refused() {
        assert!(public_only("http://127.0.0.1:9/x").is_err());
        assert!(public_only("http://10.1.2.3/x").is_err());
        assert!(public_only("http://[::1]:8080/").is_err());
        assert!(public_only("http://169.254.169.254/latest").is_err());
        assert!(public_only("http://[::ffff:127.0.0.1]/").is_err());
        assert!(public_only("http://[::ffff:169.254.169.254]/").is_err());
        assert!(public_only("http://100.64.1.1/").is_err());
        assert!(public_only("http://198.18.0.1/").is_err());
        assert!(public_only("http://0.1.2.3/").is_err());
        assert!(public_only("http://[fd00::1]/").is_err());
        assert!(public_only("https://8.8.8.8/hook").is_ok());
        assert!(public_only("https://100.128.0.1/hook").is_ok());
        assert!(public_only("https://198.20.0.1/hook").is_ok());
    }
}
