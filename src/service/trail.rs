//! Appending to and reading a certificate's trail. Every state change of a certificate goes
//! through [`append`], inside the same transaction as the change itself.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::crypto::b64url;
use crate::crypto::signing::verify_cached as verify_sig;
use crate::db::models::{now, Certificate, EventRow, Organization};
use crate::db::DbConn;
use crate::domain::payload::rfc3339_seconds;
use crate::domain::trail::GENESIS;
use crate::domain::trail::{
    check_chain_with, event_message, ChainFault, EventActor, EventBody, EventType, StoredEvent,
};
use crate::error::{AppError, AppResult};

use super::AppState;
use crate::service::keys::keyring::Signer;

/// An event as the API shows it: the hashed body plus its hash and signature.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TrailEvent {
    #[serde(flatten)]
    pub body: EventBody,
    /// Lower-case hex SHA-256 of the canonical (RFC 8785) body.
    pub hash: String,
    /// Key id of the acting organization's key.
    pub kid: String,
    /// Ed25519 over `"CERTRAIL-EVENT-V1\n" ‖ hash`, base64url, no padding.
    pub signature: String,
}

/// `GET /api/v1/certificates/{id}/trail`: one page of the trail, oldest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Trail {
    pub certificate_id: String,
    /// `true` when every hash, link and signature of the whole trail checks and the chain ends
    /// at the recorded head.
    pub intact: bool,
    /// Why not, if `intact` is false (`trail_event_altered`, `trail_chain_broken`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    /// Events in the whole trail.
    pub total: usize,
    pub events: Vec<TrailEvent>,
    /// More events follow: ask again with `after` set to this (the last `seq` of this page).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<i64>,
}

/// Events a page of the trail (or of its EPCIS document) holds by default, and at most.
pub const PAGE: i64 = 100;
pub const MAX_PAGE: i64 = 500;

/// A page of a trail: events after `after` (default 0, the start), at most `limit`.
#[derive(Debug, Clone, Copy, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The `next` of the page before (default: from the start).
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// Events on this page: 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

impl PageQuery {
    /// The checked `(after, limit)`.
    pub fn checked(self) -> AppResult<(i64, i64)> {
        let after = self.after.unwrap_or(0);
        if after < 0 {
            return Err(AppError::invalid(
                "out_of_range",
                "after",
                "after is a trail position, 0 or more",
            ));
        }
        let limit = self.limit.unwrap_or(PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(AppError::invalid(
                "out_of_range",
                "limit",
                format!("limit must be 1..={MAX_PAGE}"),
            ));
        }
        Ok((after, limit))
    }
}

/// A page of `id`'s trail rows, and the cursor of the next when more follow.
pub fn page_rows(
    conn: &mut DbConn,
    id: &str,
    (after, limit): (i64, i64),
) -> AppResult<(Vec<EventRow>, Option<i64>)> {
    let mut rows = EventRow::trail_page(conn, id, after, limit + 1)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = more.then(|| rows.last().map(|r| r.seq)).flatten();
    Ok((rows, next))
}

/// What an event says, before it is placed in a chain.
pub struct NewEvent<'a> {
    pub actor: &'a Organization,
    pub kind: EventType,
    pub serial: Option<i64>,
    pub details: Map<String, Value>,
}

/// Builds and signs the event at `seq` after `prev_hash`.
fn build(
    signer: &Signer,
    certificate_id: &str,
    seq: i64,
    prev_hash: String,
    event: NewEvent<'_>,
) -> EventRow {
    let at = now();
    let actor = event.actor;
    let body = EventBody {
        v: 1,
        certificate_id: certificate_id.to_string(),
        seq,
        kind: event.kind,
        at: rfc3339_seconds(at.and_utc()),
        actor: EventActor {
            id: actor.id.clone(),
            name: actor.name.clone(),
            kind: actor.kind.clone(),
            credit_code: actor.credit_code.clone(),
            region_code: actor.region_code.clone(),
        },
        serial: event.serial,
        details: event.details,
        prev_hash,
    };
    let (canonical, hash) = body.seal();
    EventRow {
        certificate_id: certificate_id.to_string(),
        seq,
        kind: event.kind.as_str().to_string(),
        actor_id: actor.id.clone(),
        serial: event.serial,
        at,
        signature: signer.sign(&event_message(&hash)).to_vec(),
        body: canonical,
        hash,
        kid: signer.kid.clone(),
    }
}

/// A new certificate's first event (seq 1 after the genesis hash). The caller stores the
/// certificate with this event as its head, then the event with `EventRow::insert_all_first`.
pub fn first_event(signer: &Signer, certificate_id: &str, event: NewEvent<'_>) -> EventRow {
    build(signer, certificate_id, 1, GENESIS.to_string(), event)
}

/// Appends an event signed by `actor` to `certificate_id`'s trail. Call inside a write
/// transaction: the sequence number is claimed there, so appends never interleave.
pub fn append(
    state: &AppState,
    conn: &mut DbConn,
    certificate_id: &str,
    actor: &Organization,
    kind: EventType,
    serial: Option<i64>,
    details: Map<String, Value>,
) -> AppResult<EventRow> {
    let signer = state.keys.signer(conn, &actor.id)?;
    let head = EventRow::claim_next(conn, certificate_id)?;
    let prev = if head.seq == 1 {
        GENESIS.to_string()
    } else {
        head.prev_hash
    };
    let row = build(
        &signer,
        certificate_id,
        head.seq,
        prev,
        NewEvent {
            actor,
            kind,
            serial,
            details,
        },
    );
    row.append(conn)?;
    crate::service::tlog::entry::queue_event(conn, &row)?;
    crate::service::changes::certificate(conn, certificate_id)?;
    Ok(row)
}

/// Loads the trail and checks it; `Err` names the first fault.
pub fn load(
    state: &AppState,
    conn: &mut DbConn,
    cert: &Certificate,
) -> AppResult<(Vec<EventRow>, Result<(), ChainFault>)> {
    let rows = EventRow::trail(conn, &cert.id)?;
    let mut signature_ok = Vec::with_capacity(rows.len());
    for row in &rows {
        let key = state.keys.verifying_key(conn, &row.kid)?;
        signature_ok
            .push(key.is_some_and(|k| verify_sig(&k, &event_message(&row.hash), &row.signature)));
    }
    let stored: Vec<StoredEvent<'_>> = rows
        .iter()
        .zip(&signature_ok)
        .map(|(r, ok)| StoredEvent {
            seq: r.seq,
            body: &r.body,
            hash: &r.hash,
            signature_ok: *ok,
        })
        .collect();
    let memo = checked_bodies();
    let check = check_chain_with(&stored, cert.trail_seq, &cert.trail_hash, |hash| {
        memo.get(hash)
    });
    if check.is_ok() {
        // Every body of a chain that holds parsed, was canonical and links to the one before.
        let mut prev = GENESIS;
        for row in &rows {
            if memo.get(&row.hash).is_none() {
                memo.insert(row.hash.clone(), (row.seq, prev.to_string()));
            }
            prev = &row.hash;
        }
    }
    Ok((rows, check))
}

/// Event bodies a chain check found to parse and to be canonical, by hash: their `seq` and
/// `prev_hash`, so the check after the next change of the certificate (which reads the whole
/// trail again) parses only the new events. Bounded (about 200 bytes an entry).
fn checked_bodies() -> &'static quick_cache::sync::Cache<String, (i64, String)> {
    static CHECKED: std::sync::OnceLock<quick_cache::sync::Cache<String, (i64, String)>> =
        std::sync::OnceLock::new();
    CHECKED.get_or_init(|| quick_cache::sync::Cache::new(CHECKED_BODIES))
}

/// Bodies [`checked_bodies`] remembers (about 10 MB).
const CHECKED_BODIES: usize = 50_000;

/// Presents stored events; a body that no longer parses is left out (the check reports it).
pub fn present(rows: &[EventRow]) -> Vec<TrailEvent> {
    rows.iter()
        .filter_map(|r| {
            Some(TrailEvent {
                body: serde_json::from_str(&r.body).ok()?,
                hash: r.hash.clone(),
                kid: r.kid.clone(),
                signature: b64url(&r.signature),
            })
        })
        .collect()
}
