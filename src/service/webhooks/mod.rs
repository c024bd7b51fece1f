//! Webhooks (contract §12): organizations register endpoints for event types; a change that
//! concerns them writes one outbox row per message and endpoint in its own transaction
//! ([`enqueue`]), and [`sender`] delivers them signed as the Standard Webhooks specification
//! says, retrying with growing delays for more than 24 hours.

pub mod address;
pub mod sender;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::crypto::random::new_id;
use crate::db::models::now;
use crate::db::models::webhook::{Delivery, Webhook};
use crate::db::DbConn;
use crate::domain::payload::rfc3339_seconds;
use crate::domain::validate;
use crate::error::{AppError, AppResult};

use super::{checked_id, Actor, AppState};

/// The event types an endpoint can subscribe to.
pub const EVENT_TYPES: [&str; 4] = [
    RECALL_CREATED,
    STATUS_CHANGED,
    COMPLAINT_CREATED,
    CASE_UPDATED,
];
pub const RECALL_CREATED: &str = "recall.created";
pub const STATUS_CHANGED: &str = "certificate.status_changed";
pub const COMPLAINT_CREATED: &str = "complaint.created";
pub const CASE_UPDATED: &str = "case.updated";

/// Endpoints one organization may register.
const MAX_ENDPOINTS: usize = 20;
/// Deliveries the log shows at most.
const LOG_LIMIT: i64 = 200;

/// `POST /api/v1/webhooks`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// `https://…` (or `http://`): where deliveries are POSTed.
    #[schema(value_type = crate::domain::request::Text2000)]
    pub url: String,
    /// Event types: `recall.created`, `certificate.status_changed`, `complaint.created`,
    /// `case.updated`.
    #[schema(value_type = Vec<WebhookEvent>, min_items = 1)]
    pub events: Vec<String>,
}

crate::domain::request::named_schema!(
    /// An event a webhook may subscribe to.
    WebhookEvent = crate::domain::request::one_of(&EVENT_TYPES)
);

/// An endpoint as listed (without its secret).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookView {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub created_at: String,
}

/// What registration answers, once: the signing secret is never shown again.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// `whsec_` + base64 of 32 random bytes.
    pub secret: String,
}

/// One delivery in the organization's log.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    /// The `webhook-id` header (the same on every attempt).
    pub id: String,
    pub webhook_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub created_at: String,
    pub attempts: i32,
    /// `delivered`, `pending` (a retry is scheduled) or `failed` (given up).
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_status: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

fn view(w: &Webhook) -> WebhookView {
    WebhookView {
        id: w.id.clone(),
        url: w.url.clone(),
        events: w.events.split(',').map(str::to_string).collect(),
        created_at: rfc3339_seconds(w.created_at.and_utc()),
    }
}

/// The sealing context of an endpoint's secret.
fn aad(id: &str) -> Vec<u8> {
    format!("certrail-webhook-secret:{id}").into_bytes()
}

/// Checks a URL an organization registers: absolute http(s), a host, no credentials.
fn checked_url(url: &str) -> AppResult<String> {
    let text = validate::text("url", url, 2000)?;
    let parsed = url::Url::parse(&text)
        .map_err(|_| AppError::invalid("invalid_url", "url", "not an absolute URL"))?;
    if !matches!(parsed.scheme(), "https" | "http") || parsed.host_str().is_none() {
        return Err(AppError::invalid(
            "invalid_url",
            "url",
            "the URL must be http:// or https:// with a host",
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(AppError::invalid(
            "invalid_url",
            "url",
            "the URL must not carry credentials",
        ));
    }
    Ok(parsed.to_string())
}

/// Any organization, for itself: registers an endpoint and returns its secret once.
pub fn create(state: &AppState, actor: &Actor, input: NewWebhook) -> AppResult<CreatedWebhook> {
    let Actor::Org(org) = actor else {
        return Err(AppError::Forbidden(
            "webhooks belong to an organization".into(),
        ));
    };
    let url = checked_url(&input.url)?;
    let mut events: Vec<String> = Vec::new();
    for event in &input.events {
        let event = event.trim();
        if !EVENT_TYPES.contains(&event) {
            return Err(AppError::invalid(
                "invalid_event_type",
                "events",
                format!("unknown event type; choose from {}", EVENT_TYPES.join(", ")),
            ));
        }
        if !events.iter().any(|e| e == event) {
            events.push(event.to_string());
        }
    }
    if events.is_empty() {
        return Err(AppError::invalid(
            "required",
            "events",
            "name at least one event type",
        ));
    }
    let raw = crate::crypto::random::new_secret();
    let id = new_id();
    let row = Webhook {
        secret: state.keys.master().seal(&raw, &aad(&id)),
        id,
        organization_id: org.id.clone(),
        url,
        events: events.join(","),
        created_at: now(),
    };
    state.write(|conn| {
        if Webhook::of(conn, &org.id)?.len() >= MAX_ENDPOINTS {
            return Err(AppError::Conflict {
                code: "too_many_webhooks",
                message: format!("an organization may register at most {MAX_ENDPOINTS} endpoints"),
            });
        }
        row.insert(conn).map_err(AppError::from)
    })?;
    use base64::Engine;
    Ok(CreatedWebhook {
        webhook: view(&row),
        secret: format!(
            "whsec_{}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        ),
    })
}

/// The caller's own endpoints.
pub fn list(state: &AppState, actor: &Actor) -> AppResult<Vec<WebhookView>> {
    let Actor::Org(org) = actor else {
        return Ok(vec![]);
    };
    let rows = Webhook::of(&mut *state.db.reader()?, &org.id)?;
    Ok(rows.iter().map(view).collect())
}

/// Deletes one of the caller's endpoints (and its pending deliveries).
pub fn delete(state: &AppState, actor: &Actor, id: &str) -> AppResult<()> {
    let id = checked_id(id, "webhook")?;
    state.write(|conn| {
        let found = Webhook::find(conn, id)?.ok_or_else(|| AppError::not_found("webhook"))?;
        match actor {
            Actor::Org(org) if org.id == found.organization_id => {}
            _ => return Err(AppError::not_found("webhook")),
        }
        Webhook::delete(conn, id)?;
        Ok(())
    })
}

/// The caller's delivery log, newest first.
pub fn deliveries(state: &AppState, actor: &Actor) -> AppResult<Vec<DeliveryView>> {
    let Actor::Org(org) = actor else {
        return Ok(vec![]);
    };
    let rows = Delivery::of(&mut *state.db.reader()?, &org.id, LOG_LIMIT)?;
    Ok(rows
        .into_iter()
        .map(|d| DeliveryView {
            state: match (&d.delivered_at, &d.next_attempt_at) {
                (Some(_), _) => "delivered",
                (None, Some(_)) => "pending",
                (None, None) => "failed",
            },
            delivered_at: d.delivered_at.map(|t| rfc3339_seconds(t.and_utc())),
            next_attempt_at: d.next_attempt_at.map(|t| rfc3339_seconds(t.and_utc())),
            created_at: rfc3339_seconds(d.created_at.and_utc()),
            id: d.id,
            webhook_id: d.webhook_id,
            event_type: d.event_type,
            attempts: d.attempts,
            last_status: d.last_status,
            last_error: d.last_error,
        })
        .collect())
}

/// Queues a message of `event_type` about `subject_id` for every endpoint of `recipients`
/// that subscribed to it. Call inside the transaction of the change: the message exists if
/// and only if the change does.
pub fn enqueue(
    conn: &mut DbConn,
    event_type: &str,
    recipients: &[String],
    subject_id: &str,
    data: Value,
) -> AppResult<()> {
    let mut unique: Vec<String> = recipients.to_vec();
    unique.sort();
    unique.dedup();
    let endpoints = Webhook::of_any(conn, &unique)?;
    let at = now();
    let body = json!({
        "type": event_type,
        "timestamp": rfc3339_seconds(at.and_utc()),
        "data": data,
    })
    .to_string();
    let rows: Vec<Delivery> = endpoints
        .iter()
        .filter(|w| w.subscribes(event_type))
        .map(|w| Delivery {
            id: format!("msg_{}", new_id()),
            webhook_id: w.id.clone(),
            organization_id: w.organization_id.clone(),
            event_type: event_type.to_string(),
            subject_id: subject_id.to_string(),
            body: body.clone(),
            created_at: at,
            attempts: 0,
            next_attempt_at: Some(at),
            delivered_at: None,
            last_status: None,
            last_error: None,
        })
        .collect();
    Delivery::insert_all(conn, &rows)?;
    Ok(())
}

/// Opens an endpoint's sealed secret.
pub(crate) fn secret_of(
    master: &crate::crypto::seal::MasterKey,
    w: &Webhook,
) -> Option<zeroize::Zeroizing<Vec<u8>>> {
    master.open(&w.secret, &aad(&w.id))
}
