//! Delivers the webhook outbox. Each attempt is a `POST` with the Standard Webhooks headers:
//! `webhook-id` (the same on every attempt of a message), `webhook-timestamp` (Unix seconds of
//! this attempt) and `webhook-signature` (`v1,` + base64 HMAC-SHA256 of `id.timestamp.body`
//! under the endpoint's secret). A 2xx answer ends it; anything else is retried after 5 s,
//! 5 min, 30 min, 2 h, 5 h, 10 h and 10 h (the specification's schedule, about 27 hours),
//! then given up.
//!
//! Every endpoint has its own lane: a thread that sends that endpoint's due messages one at a
//! time, the one due longest first, and nothing else. A dispatcher starts a lane for each
//! endpoint with due messages, up to [`LANES`] at once, the endpoints waiting longest first; a
//! lane hands its place back after [`TURN`] messages so a backlog takes turns with the others.
//! A slow or failing endpoint thus holds up only its own messages (each attempt ends within
//! [`TIMEOUT`]). A delivery is claimed before it is sent, so several server instances share
//! the outbox; an attempt that succeeds but is not recorded is sent again with the same id.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use prometheus_client::metrics::counter::Counter;
use sha2::Sha256;

use crate::config::Workflow;
use crate::crypto::seal::MasterKey;
use crate::db::models::now;
use crate::db::models::webhook::{Delivery, Webhook};
use crate::db::Db;
use crate::error::AppResult;
use crate::service::webhooks::address;

/// Delays before the 2nd, 3rd, … attempt, in seconds.
const RETRY_DELAYS: [u64; 7] = [5, 300, 1800, 7200, 18_000, 36_000, 36_000];
/// Endpoints sent to at once, each in its own lane.
pub const LANES: usize = 32;
/// Messages a lane sends before it hands its place back to the dispatcher.
pub const TURN: usize = 16;
/// How long a claimed delivery is left alone by other instances: longer than one attempt
/// (name resolution, then `TIMEOUT`) and its recording.
const LEASE: chrono::Duration = chrono::Duration::seconds(120);
/// Longest wait for an endpoint's answer, and for its connection.
pub const TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// The signature header value of `body` sent as message `id` at `timestamp`.
#[expect(clippy::expect_used, reason = "HMAC-SHA256 takes keys of any length")]
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

/// What the dispatcher and its lanes share.
struct Shared {
    db: Db,
    master: MasterKey,
    agent: ureq::Agent,
    workflow: Workflow,
    metrics: WebhookMetrics,
    stop: AtomicBool,
    /// Endpoints whose lane is running.
    busy: Mutex<HashSet<String>>,
}

/// The sender (a dispatcher thread and its lanes); stops when dropped.
pub struct Sender {
    shared: Arc<Shared>,
}

impl Sender {
    #[expect(
        clippy::expect_used,
        reason = "runs once at start-up: a server that cannot start its worker thread cannot run"
    )]
    pub fn start(
        db: Db,
        master: MasterKey,
        workflow: Workflow,
        every: Duration,
        metrics: WebhookMetrics,
    ) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(TIMEOUT))
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        let shared = Arc::new(Shared {
            db,
            master,
            agent,
            workflow,
            metrics,
            stop: AtomicBool::new(false),
            busy: Mutex::default(),
        });
        let dispatcher = shared.clone();
        std::thread::Builder::new()
            .name("webhook-sender".into())
            .spawn(move || {
                while !dispatcher.stop.load(Ordering::Relaxed) {
                    std::thread::sleep(every);
                    if let Err(e) = dispatch(&dispatcher) {
                        crate::db::storage_failed();
                        ::log::warn!("webhook sender: {e} (retrying)");
                    }
                }
            })
            .expect("spawn the webhook sender thread");
        Self { shared }
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
    }
}

fn busy(shared: &Shared) -> std::sync::MutexGuard<'_, HashSet<String>> {
    shared.busy.lock().unwrap_or_else(|e| e.into_inner())
}

/// Starts a lane for each endpoint with due messages that has none, while fewer than
/// [`LANES`] run; returns how many it started.
fn dispatch(shared: &Arc<Shared>) -> AppResult<usize> {
    if busy(shared).len() >= LANES {
        return Ok(0);
    }
    // The LANES endpoints waiting longest hold every free place, running lanes or not.
    let endpoints = Delivery::due_endpoints(&mut *shared.db.reader()?, now(), LANES as i64)?;
    let mut started = 0;
    for webhook_id in endpoints {
        {
            let mut running = busy(shared);
            if running.len() >= LANES || !running.insert(webhook_id.clone()) {
                continue;
            }
        }
        let lane_shared = shared.clone();
        let id = webhook_id.clone();
        let spawned = std::thread::Builder::new()
            .name("webhook-lane".into())
            .spawn(move || lane(&lane_shared, &id));
        match spawned {
            Ok(_) => started += 1,
            Err(e) => {
                busy(shared).remove(&webhook_id);
                ::log::warn!("webhook sender: cannot start a lane: {e} (retrying)");
            }
        }
    }
    Ok(started)
}

/// Frees the endpoint's place when its lane ends, even by a panic.
struct LaneGuard<'a> {
    shared: &'a Shared,
    webhook_id: &'a str,
}

impl Drop for LaneGuard<'_> {
    fn drop(&mut self) {
        busy(self.shared).remove(self.webhook_id);
    }
}

/// One endpoint's lane: its due messages one after another, at most [`TURN`] of them.
fn lane(shared: &Shared, webhook_id: &str) {
    let _place = LaneGuard { shared, webhook_id };
    for _ in 0..TURN {
        if shared.stop.load(Ordering::Relaxed) {
            return;
        }
        match send_next(shared, webhook_id) {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                crate::db::storage_failed();
                ::log::warn!("webhook sender: {e} (retrying)");
                return;
            }
        }
    }
}

/// Claims and sends the endpoint's message due longest; `false` when none is due.
fn send_next(shared: &Shared, webhook_id: &str) -> AppResult<bool> {
    let at = now();
    let Some(d) = Delivery::next_due(&mut *shared.db.reader()?, webhook_id, at)? else {
        return Ok(false);
    };
    let Some(due) = d.next_attempt_at else {
        return Ok(true);
    };
    let lease_until = at + LEASE;
    // Another instance may have taken it first: then look for the next one.
    if Delivery::claim(&mut *shared.db.writer()?, &d.id, due, lease_until)? {
        deliver(shared, &d, lease_until)?;
    }
    Ok(true)
}

/// Sends one claimed delivery and records what happened.
fn deliver(shared: &Shared, d: &Delivery, lease_until: chrono::NaiveDateTime) -> AppResult<()> {
    let db = &shared.db;
    let endpoint = Webhook::find(&mut *db.reader()?, &d.webhook_id)?;
    let active = crate::db::models::Organization::find(&mut *db.reader()?, &d.organization_id)?
        .is_some_and(|o| o.deactivated_at.is_none());
    let outcome = match (&endpoint, active) {
        (None, _) => return Ok(()),
        (Some(_), false) => Err("the organization is deactivated".to_string()),
        (Some(w), true) => attempt(shared, w, d),
    };
    let attempts = d.attempts.saturating_add(1);
    let mut pooled = db.writer()?;
    match outcome {
        Ok(status) if (200..300).contains(&status) => {
            shared.metrics.delivered.inc();
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
            shared.metrics.failed_attempts.inc();
            let (status, error) = match result {
                Ok(status) => (Some(status), format!("answered {status}")),
                Err(e) => (None, e),
            };
            let next = match active {
                true => {
                    next_delay(attempts, shared.workflow.webhook_retry_scale).map(|d| now() + d)
                }
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
fn attempt(shared: &Shared, w: &Webhook, d: &Delivery) -> Result<i32, String> {
    let secret =
        super::secret_of(&shared.master, w).ok_or("the endpoint's secret cannot be opened")?;
    if !shared.workflow.webhook_allow_private {
        address::public_only(&w.url)?;
    }
    let timestamp = chrono::Utc::now().timestamp();
    let response = shared
        .agent
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
}
