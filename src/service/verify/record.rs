//! What verification needs to know of one certificate, read from the database once and then
//! kept in the verification cache: the stored payload and whether it still verifies, the
//! producer's key, the status, the trail (checked whole, the latest events pre-rendered), the
//! marks' records, the lab's accreditation and the custody facts copy detection uses.
//! Everything here changes only through a write that invalidates the cached record.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use ed25519_dalek::VerifyingKey;
use serde_json::value::RawValue;

use crate::crypto::{b64url, signing};
use crate::db::models::sanction::Sanction;
use crate::db::models::{Certificate, EventRow, MarkRecord, Organization, SigningKeyRow};
use crate::db::DbConn;
use crate::domain::payload::{recanonicalize, Payload};
use crate::domain::trail::EventType;
use crate::domain::verdict::{Findings, Verdict};
use crate::error::{AppError, AppResult};
use crate::service::tlog::inclusion::{self, Position};
use crate::service::trail;
use crate::service::{certification::labs, AppState};

use crate::crypto::verification::{self as rules, CertificateFacts, KeyState, Logged};
use crate::service::verify::lineage;

/// How soon a record whose log entry is still pending is read again.
const PENDING_FRESH: Duration = Duration::from_secs(2);
/// How soon a record no witness has confirmed yet is read again.
const UNWITNESSED_FRESH: Duration = Duration::from_secs(30);

/// Trail events a verification answer carries (the latest); the full trail is one link away.
pub const TRAIL_IN_ANSWER: usize = 20;

/// A certification body's record of a claimed mark, as read.
#[derive(Debug, Clone)]
pub struct MarkRow {
    pub scheme: String,
    pub cert_no: String,
    /// (record status, valid until `YYYY-MM-DD`), or `None` when no record exists.
    pub record: Option<(String, String)>,
}

/// Shared, pre-rendered JSON (serialized as is).
#[derive(Debug, Clone)]
pub struct RawJson(pub Arc<RawValue>);

impl serde::Serialize for RawJson {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl RawJson {
    pub fn of<T: serde::Serialize>(value: &T) -> AppResult<Self> {
        let text = serde_json::to_string(value)
            .map_err(|e| AppError::internal_from("rendering JSON", e))?;
        let raw = RawValue::from_string(text)
            .map_err(|e| AppError::internal_from("rendering JSON", e))?;
        Ok(Self(Arc::from(raw)))
    }
}

/// A trail event in brief, as pages list it.
#[derive(Debug, Clone)]
pub struct TrailLine {
    /// RFC 3339, seconds, `Z`.
    pub at: String,
    pub kind: EventType,
    /// The acting organization's name.
    pub actor: String,
    /// Where it acted: the organization's address, for the links of custody.
    pub place: Option<String>,
    /// The consignee a shipment names.
    pub to: Option<String>,
}

/// One certificate as verification sees it. Kept small (about 2 KB for a fresh certificate):
/// the payload and the latest events only as the JSON the answer sends.
#[derive(Clone)]
pub struct Record {
    pub id: Arc<str>,
    pub kid: String,
    pub units: Option<i64>,
    /// Units in the batch (`i64::MAX` when the payload cannot be read).
    pub quantity: i64,
    /// Raw 64-byte certificate signature.
    pub signature: Vec<u8>,
    /// base64url, no padding, 86 characters.
    pub signature_b64: String,
    pub key: Option<VerifyingKey>,
    /// Lowercase hex SHA-256 of the canonical payload, when the record is intact (unit label
    /// messages cover it).
    pub payload_sha256: Option<String>,
    /// Findings about the stored record itself: tampering, key and status.
    pub findings: Findings,
    /// Warning codes about the record (e.g. `signing_key_compromised_later`).
    pub warnings: Vec<&'static str>,
    /// Where the certificate stands in the transparency log.
    pub log: Position,
    /// Re-read after this long at the latest: soon while the log has not sequenced (or no
    /// witness has confirmed) what the answer shows.
    pub fresh_for: Duration,
    pub expiry: Option<NaiveDate>,
    pub status: String,
    pub status_reason: Option<String>,
    /// The stored payload as JSON (pages parse it when they need its fields).
    pub payload_json: RawJson,
    pub marks: Vec<MarkRow>,
    pub lab_not_accredited: bool,
    /// Inspection items outside the cited lab's accredited scope.
    pub lab_outside_scope: Vec<String>,
    /// Distinct retailers that took in each unit.
    pub unit_receivers: HashMap<i64, usize>,
    /// Shipment or intake recorded for the whole batch, or for these units.
    pub custody_batch: bool,
    pub custody_units: HashSet<i64>,
    /// Parents and children of a re-issued 承诺达标合格证 lot.
    pub lineage: Option<Arc<lineage::Lineage>>,
    /// The latest [`TRAIL_IN_ANSWER`] events, oldest first: as JSON, and in brief for pages.
    pub trail_json: RawJson,
    pub trail_lines: Vec<TrailLine>,
    /// Events in the whole trail.
    pub trail_total: usize,
    /// Why the whole trail's chain does not hold, if it does not (`trail_chain_broken`, …).
    pub trail_fault: Option<&'static str>,
    pub loaded: Instant,
    /// Copy warnings this process already handed to the scan writer: (serial, code).
    pub remembered: super::scan_counters::Remembered,
}

/// Warning: a regulator suspended the producer's right to issue (this certificate keeps its
/// verdict).
pub const PRODUCER_SANCTIONED: &str = "producer_issuance_suspended";

/// Warning: the record was read from a replica while the primary was away, so its status may
/// be older than the bound replicas are otherwise held to.
pub const STATUS_NOT_CURRENT: &str = "status_not_current";

impl Record {
    /// Reads certificate `id` and everything verification needs of it; `None` if unknown.
    pub fn load(state: &AppState, conn: &mut DbConn, id: &str) -> AppResult<Option<Self>> {
        let Some(cert) = Certificate::find(conn, id)? else {
            return Ok(None);
        };
        let key_row = SigningKeyRow::find(conn, &cert.kid)?;
        let key = key_row.as_ref().and_then(|row| {
            signing::verifying_key(&row.public_key)
                .filter(|k| signing::kid_of(k) == cert.kid)
                .map(|k| {
                    let state =
                        KeyState::from_parts(&row.status, row.valid_until, row.compromised_since);
                    (k, state)
                })
        });
        let stored = recanonicalize(&cert.payload);
        let (events, chain) = trail::load(state, conn, &cert)?;
        let log = inclusion::check(state, conn, &cert, &events)?;
        let logged = match &log.position {
            Position::Sequenced(p) => Logged::At(p.sequenced_at),
            Position::Pending => Logged::Pending,
            Position::Missing => Logged::Missing,
        };
        let judged = rules::judge_certificate(&CertificateFacts {
            id: &cert.id,
            kid: &cert.kid,
            canonical: stored.as_ref().map(|(_, c)| c.as_str()),
            signature: Some(&cert.signature),
            key,
            logged,
            status: cert.current_status(),
        });
        let mut findings = judged.findings;
        let mut warnings = judged.warnings;
        if Sanction::issuance_suspended(conn, &cert.organization_id)?.is_some() {
            warnings.push(PRODUCER_SANCTIONED);
        }
        for fault in &log.faults {
            findings.add(Verdict::Tampered, *fault);
        }
        let trail_fault = chain.as_ref().err().map(|f| f.code());
        if let Some(fault) = trail_fault {
            findings.add(Verdict::Tampered, fault);
        }
        let (lineage, tainted) = lineage::load(state, conn, &cert)?;
        if tainted {
            warnings.push(lineage::ANCESTOR_NOT_GENUINE);
        }
        let payload: Option<Payload> = stored
            .as_ref()
            .and_then(|(v, _)| serde_json::from_value(v.clone()).ok());
        let marks = marks_of(conn, &cert, payload.as_ref())?;
        let (lab_not_accredited, lab_outside_scope) = lab_findings(conn, &cert, payload.as_ref())?;
        let custody = |e: &&EventRow| e.kind == "shipped" || e.kind == "received";
        let latest = &events[events.len().saturating_sub(TRAIL_IN_ANSWER)..];
        let trail = trail::present(latest);
        let trail_lines = trail_lines(conn, &trail)?;
        let payload_json = match &stored {
            Some((value, _)) => RawJson::of(value)?,
            None => RawJson::of(&serde_json::Value::Null)?,
        };
        Ok(Some(Self {
            id: Arc::from(cert.id.as_str()),
            units: cert.units,
            quantity: stored
                .as_ref()
                .and_then(|(v, _)| v.pointer("/batch/quantity").and_then(|q| q.as_i64()))
                .unwrap_or(i64::MAX),
            lineage,
            signature_b64: b64url(&cert.signature),
            signature: cert.signature.clone(),
            key: key.map(|(k, _)| k),
            payload_sha256: judged.payload_sha256,
            findings,
            warnings,
            fresh_for: match (&log.position, log.events_pending) {
                (Position::Pending, _) | (_, true) => PENDING_FRESH,
                (Position::Sequenced(p), _) if p.confirmed.is_none() && log.witnessed_log => {
                    UNWITNESSED_FRESH
                }
                _ => Duration::MAX,
            },
            log: log.position,
            expiry: payload.as_ref().and_then(Payload::expiry_date),
            status: cert.status.clone(),
            status_reason: cert.status_reason.clone(),
            payload_json,
            marks,
            lab_not_accredited,
            lab_outside_scope,
            unit_receivers: unit_receivers(&events),
            custody_batch: events.iter().filter(custody).any(|e| e.serial.is_none()),
            custody_units: events
                .iter()
                .filter(custody)
                .filter_map(|e| e.serial)
                .collect(),
            trail_json: RawJson::of(&trail)?,
            trail_lines,
            trail_total: events.len(),
            trail_fault,
            kid: cert.kid,
            loaded: Instant::now(),
            remembered: Default::default(),
        }))
    }

    /// Whether the stored payload verified against its stored signature.
    pub fn intact(&self) -> bool {
        self.payload_sha256.is_some()
    }

    /// The payload as typed fields, when it parses (pages).
    pub fn payload(&self) -> Option<Payload> {
        serde_json::from_str(self.payload_json.0.get()).ok()
    }

    /// The payload as a 承诺达标合格证, when it is one (pages).
    pub fn promise(&self) -> Option<crate::domain::promise::PromisePayload> {
        serde_json::from_str(self.payload_json.0.get()).ok()
    }

    /// The canonical payload, computed again (only a batch label whose signature differs from
    /// the stored one needs it).
    pub fn canonical(&self) -> Option<String> {
        recanonicalize(self.payload_json.0.get()).map(|(_, c)| c)
    }

    /// Approximate bytes this record holds, for the cache's bound: its JSON, the brief trail,
    /// and the fixed fields with allocator overhead.
    pub fn weight(&self) -> u64 {
        let json = self.payload_json.0.get().len()
            + self.trail_json.0.get().len()
            + self.lineage.as_ref().map_or(0, |l| l.weight())
            + self.log.proof().map_or(0, |p| p.weight());
        let lines: usize = self
            .trail_lines
            .iter()
            .map(|l| {
                l.at.len()
                    + l.actor.len()
                    + l.place.as_ref().map_or(0, String::len)
                    + l.to.as_ref().map_or(0, String::len)
                    + 96
            })
            .sum();
        (json + lines + 640) as u64
    }
}

/// The marks the payload claims, each with the mark's record if one exists.
fn marks_of(
    conn: &mut DbConn,
    cert: &Certificate,
    payload: Option<&Payload>,
) -> AppResult<Vec<MarkRow>> {
    Ok(match payload {
        Some(p) if !p.marks.is_empty() => {
            let records = MarkRecord::for_product(conn, &cert.product_id)?;
            p.marks
                .iter()
                .map(|m| MarkRow {
                    scheme: m.scheme.clone(),
                    cert_no: m.cert_no.clone(),
                    record: records
                        .iter()
                        .find(|r| r.scheme == m.scheme && r.cert_no == m.cert_no)
                        .map(|r| (r.status.clone(), r.valid_until.clone())),
                })
                .collect()
        }
        _ => vec![],
    })
}

/// Whether the certificate's lab was not accredited on the inspection date, and which of its
/// inspection items fall outside the lab's scope.
fn lab_findings(
    conn: &mut DbConn,
    cert: &Certificate,
    payload: Option<&Payload>,
) -> AppResult<(bool, Vec<String>)> {
    let (Some(lab), Some(p)) = (&cert.lab_id, payload) else {
        return Ok((false, vec![]));
    };
    let items: Vec<String> = p.inspection.items.iter().map(|i| i.name.clone()).collect();
    let (accredited, outside_scope) = labs::judged(conn, lab, &p.inspection.date, &items)?;
    Ok((!accredited, outside_scope))
}

/// How many parties took each unit in.
fn unit_receivers(events: &[EventRow]) -> HashMap<i64, usize> {
    let mut receivers: HashMap<i64, HashSet<&str>> = HashMap::new();
    // A unit counts as taken in by a party only with that unit's genuine label scanned at
    // intake (a failed label says nothing of where the real unit went). Intakes written
    // before claims of custody existed, by a party no leg led to, carry `unexpected`: a
    // stranger's word, which never counts towards a consumer's warnings.
    // Read from the canonical body as text (the chain check hashed it; in RFC 8785 form a
    // quote inside a string is escaped, so these can only be the details' own keys).
    let counts_as_intake = |e: &&EventRow| {
        e.body.contains("\"label_verdict\":\"genuine\"") && !e.body.contains("\"unexpected\":true")
    };
    for e in events
        .iter()
        .filter(|e| e.kind == "received" && e.serial.is_some())
        .filter(counts_as_intake)
    {
        if let Some(serial) = e.serial {
            receivers.entry(serial).or_default().insert(&e.actor_id);
        }
    }
    receivers.iter().map(|(s, r)| (*s, r.len())).collect()
}

/// The latest trail events in brief, with the place of each custody step's party.
fn trail_lines(
    conn: &mut DbConn,
    trail: &[crate::service::trail::TrailEvent],
) -> AppResult<Vec<TrailLine>> {
    let custody_kinds = [
        EventType::Issued,
        EventType::Shipped,
        EventType::Received,
        EventType::Rejected,
        EventType::Sold,
    ];
    let holders: Vec<&str> = trail
        .iter()
        .filter(|e| custody_kinds.contains(&e.body.kind))
        .map(|e| e.body.actor.id.as_str())
        .collect();
    let places = Organization::addresses(conn, &holders)?;
    Ok(trail
        .iter()
        .map(|e| TrailLine {
            at: e.body.at.clone(),
            kind: e.body.kind,
            actor: e.body.actor.name.clone(),
            place: custody_kinds
                .contains(&e.body.kind)
                .then(|| places.get(&e.body.actor.id).cloned())
                .flatten(),
            to: e
                .body
                .details
                .get("consignee_name")
                .and_then(|v| v.as_str())
                .map(String::from),
        })
        .collect())
}
