//! Verifying a scanned label (contract §4): is the label's signature the producer's, is the
//! stored record (payload and trail) intact, what is the certificate's status, and do the scans
//! look like a copied label.
//!
//! The path every consumer's phone takes, built to stay fast however popular a label is:
//! - the certificate's record (payload, its signature check, key, status, trail, marks) is read
//!   once into [`cache::VerifyCache`] and dropped when a write changes it;
//! - copy signals come from per-label counters ([`crate::service::verify::scan_counters`]), never from a
//!   label's scan history;
//! - a scan counts only once its label verified; a failed label is counted apart as an
//!   attempted fake of that certificate;
//! - the scan is handed to the group-commit writer, never waited for.
//!
//! [`verify_cached`] answers from memory alone (no connection, no waiting) and is tried first
//! on the async worker; [`verify`] is the same use case allowed to read the database.

pub mod bundle;
pub mod cache;
pub mod invalidation;
pub mod lineage;
pub mod offline;
pub mod record;
pub mod scan_counters;
pub mod scan_writer;
pub mod trail_page;
pub mod trust;

use std::sync::Arc;

use chrono::{Duration, NaiveDateTime, Timelike};
use serde::Serialize;

use crate::crypto::verification as rules;
use crate::db::models::now;
use crate::db::models::scan::{StoredSignals, ALL_LABELS, BATCH_LABEL};
use crate::db::PooledConn;
use crate::domain::copy::{self, LabelFacts};
use crate::domain::payload::Payload;
use crate::domain::text::Bilingual;
use crate::domain::validate::is_id;
use crate::domain::verdict::{Findings, Verdict};
use crate::error::AppResult;

use super::AppState;
use crate::service::tlog::inclusion::{self, Position, Proof};
use crate::service::verify::scan_counters::{LabelSignals, Snapshot};
use crate::service::verify::scan_writer::{Forged, Genuine};
use record::{RawJson, Record};

/// A risk signal that does not change the verdict.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Warning {
    pub code: String,
    /// Chinese, then English.
    pub message: String,
    /// The message in each language, for pages.
    #[serde(skip)]
    pub text: Bilingual,
}

impl Warning {
    fn new(code: &str, text: Bilingual) -> Self {
        Warning {
            code: code.into(),
            message: text.joined(),
            text,
        }
    }
}

/// The certificate as stored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CertificateView {
    /// The signed payload (contract §2).
    #[schema(value_type = Object)]
    pub payload: RawJson,
    /// base64url, no padding, 86 characters. Absent when the label's own signature (`s`) did
    /// not verify: the answer does not hand out what a copy would need.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    pub kid: String,
    pub status: String,
    /// Consumer scans of all the certificate's labels so far.
    pub scans: i64,
    /// Why the status was set, if it is not `active`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
}

/// The unit a unit label names, with its consumer scans so far (this one included).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UnitView {
    pub serial: i64,
    pub scans: i64,
}

/// A claimed certification mark and what the certification body's record says now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MarkStatus {
    pub scheme: String,
    pub cert_no: String,
    /// `valid`, `suspended`, `expired` or `unrecorded`.
    pub status: String,
}

/// The verification answer.
#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct Answer {
    pub verdict: Verdict,
    pub reasons: Vec<String>,
    pub warnings: Vec<Warning>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertificateView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<UnitView>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub marks: Vec<MarkStatus>,
    /// The latest events (at most 20), oldest first.
    #[schema(value_type = Vec<crate::service::trail::TrailEvent>)]
    pub trail: RawJson,
    /// Events in the whole trail.
    pub trail_total: usize,
    /// Where the whole trail is, for a known certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trail_url: Option<String>,
    /// The certificate's entry in the transparency log with its inclusion proof, or
    /// `{"pending": true}` until it is sequenced (contract §9).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<LogView>,
    /// A 承诺达标合格证 lot's parents (split or merged from, each with its verdict now) and
    /// children (re-issued from it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lineage: Option<lineage::Lineage>,
    /// The record the answer was made from (pages read the parsed payload and trail).
    #[serde(skip)]
    #[schema(ignore)]
    pub record: Option<Arc<Record>>,
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answer")
            .field("verdict", &self.verdict)
            .field("reasons", &self.reasons)
            .finish_non_exhaustive()
    }
}

impl Answer {
    /// The payload as typed fields, when it parses (for pages).
    pub fn payload(&self) -> Option<Payload> {
        self.record.as_ref()?.payload()
    }

    /// The latest trail events in brief (for pages).
    /// The 承诺达标合格证 payload, when the certificate is one (for pages).
    pub fn promise(&self) -> Option<crate::domain::promise::PromisePayload> {
        self.record.as_ref()?.promise()
    }

    pub fn trail_lines(&self) -> &[record::TrailLine] {
        self.record
            .as_ref()
            .map_or(&[], |r| r.trail_lines.as_slice())
    }

    #[expect(clippy::expect_used, reason = "a constant that is valid JSON")]
    fn unknown() -> Self {
        Answer {
            verdict: Verdict::Unknown,
            reasons: vec!["unknown_certificate".into()],
            warnings: vec![],
            certificate: None,
            unit: None,
            marks: vec![],
            trail: RawJson(Arc::from(
                serde_json::value::RawValue::from_string("[]".into()).expect("[] is JSON"),
            )),
            trail_total: 0,
            trail_url: None,
            log: None,
            lineage: None,
            record: None,
        }
    }

    /// A certificate the log recorded but the platform no longer stores: `tampered`.
    fn deleted(proof: &Proof) -> AppResult<Self> {
        Ok(Answer {
            verdict: Verdict::Tampered,
            reasons: vec!["certificate_deleted".into()],
            log: Some(LogView::Included(Arc::new(proof.clone()).into())),
            ..Answer::unknown()
        })
    }
}

/// The `log` member of the answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum LogView {
    #[schema(value_type = Proof)]
    Included(SharedProof),
    Pending {
        /// Always `true`: the entry is written and waits for the sequencer (seconds).
        pending: bool,
    },
}

/// A cached record's proof, serialized as the proof.
#[derive(Debug, Clone)]
pub struct SharedProof(pub Arc<Proof>);

impl From<Arc<Proof>> for SharedProof {
    fn from(p: Arc<Proof>) -> Self {
        SharedProof(p)
    }
}

impl Serialize for SharedProof {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// What a label claims: certificate id, unit serial (unit labels) and the `s` parameter.
#[derive(Debug, Clone)]
pub struct Label<'a> {
    pub id: &'a str,
    pub serial: Option<i64>,
    pub signature: Option<&'a str>,
}

/// How the label reached us.
#[derive(Debug, Clone)]
pub enum Source<'a> {
    /// A consumer scan, recorded as an observation (hour and optional region code only).
    Consumer { region: Option<&'a str> },
    /// A seller's intake or another recorded check: not a consumer observation.
    Check,
}

/// The record of certificate `id` (the public lookup by number), from the verification cache
/// or read into it; `None` for an unknown id.
pub fn record(state: &AppState, id: &str) -> AppResult<Option<Arc<Record>>> {
    match is_id(id) {
        true => cached_or_load(state, &mut None, id),
        false => Ok(None),
    }
}

/// The cached record of `id`, or read into the cache on `conn` (checked out if needed).
fn cached_or_load(
    state: &AppState,
    conn: &mut Option<PooledConn>,
    id: &str,
) -> AppResult<Option<Arc<Record>>> {
    if let Some(record) = state.verify.record(id) {
        return Ok(Some(record));
    }
    let epoch = state.verify.epoch();
    let Some(loaded) = Record::load(state, connection(state, conn)?, id)? else {
        return Ok(None);
    };
    let record = Arc::new(loaded);
    state.verify.keep(epoch, record.clone());
    Ok(Some(record))
}

/// Each claimed mark of `record` with the status of its record today.
pub fn marks_today(record: &Record) -> Vec<MarkStatus> {
    mark_statuses(record, chrono::Utc::now().date_naive())
}

/// Verifies a label from memory alone: `None` when that needs the database (the record or
/// the label's signals are not cached) or a wait (the scan queue is full). Never blocks.
pub fn verify_cached(state: &AppState, label: &Label<'_>, source: &Source<'_>) -> Option<Answer> {
    if !is_id(label.id) {
        return Some(finish(state, Answer::unknown()));
    }
    let record = state.verify.record(label.id)?;
    let label_findings = check_label(&record, label);
    let serial = label.serial.unwrap_or(BATCH_LABEL);
    let observed = observation(&record, &label_findings, source);
    let consumer_scan = !matches!(observed, Observation::None);
    let snapshot = match observed {
        Observation::None => None,
        Observation::Forged(region) => {
            state.scans.record_forged(forged_scan(&record, region));
            None
        }
        Observation::Genuine(region) => {
            let signals = (
                state.verify.signals.get(&record.id, serial)?,
                state.verify.signals.get(&record.id, ALL_LABELS)?,
            );
            let (scan, snapshot) = count_scan(state, &record, serial, region, signals);
            if let Err(scan) = state.scans.try_record(scan) {
                scan.label.forget_one();
                scan.total.forget_one();
                return None;
            }
            Some(snapshot)
        }
    };
    Some(finish(
        state,
        answer(
            state,
            &record,
            label,
            label_findings,
            snapshot,
            consumer_scan,
        ),
    ))
}

/// Verifies a label, reading the database for what is not cached. Never fails for a bad
/// label: the answer says what is wrong. Holds at most one connection, and none while it
/// hands the scan to the writer.
pub fn verify(state: &AppState, label: &Label<'_>, source: Source<'_>) -> AppResult<Answer> {
    if !is_id(label.id) {
        return Ok(finish(state, Answer::unknown()));
    }
    let mut conn: Option<PooledConn> = None;
    let Some(record) = cached_or_load(state, &mut conn, label.id)? else {
        let deleted = inclusion::deleted(state, connection(state, &mut conn)?, label.id)?;
        return Ok(finish(
            state,
            match deleted {
                Some(proof) => Answer::deleted(&proof)?,
                None => Answer::unknown(),
            },
        ));
    };
    let label_findings = check_label(&record, label);
    let serial = label.serial.unwrap_or(BATCH_LABEL);
    let observed = observation(&record, &label_findings, &source);
    let consumer_scan = !matches!(observed, Observation::None);
    // A counted scan needs the label's signals; so does a seller's check of an intact record
    // (it shows the counts and copy warnings too).
    let needs_signals = match observed {
        Observation::Genuine(_) => true,
        Observation::Forged(_) => false,
        Observation::None => record.intact() && label_findings.verdict() != Verdict::Forged,
    };
    let signals = match needs_signals {
        true => Some(signals(state, &mut conn, &record, serial)?),
        false => None,
    };
    drop(conn);
    let snapshot = match observed {
        Observation::None => None,
        Observation::Forged(region) => {
            state.scans.record_forged(forged_scan(&record, region));
            None
        }
        Observation::Genuine(region) => {
            let Some(signals) = signals else {
                return Err(crate::error::AppError::internal(
                    "a genuine scan without its label's signals",
                ));
            };
            let (scan, snapshot) = count_scan(state, &record, serial, region, signals);
            if let Err(dropped) = state.scans.record(scan) {
                dropped.label.forget_one();
                dropped.total.forget_one();
            }
            Some(snapshot)
        }
    };
    Ok(finish(
        state,
        answer(
            state,
            &record,
            label,
            label_findings,
            snapshot,
            consumer_scan,
        ),
    ))
}

fn connection<'c>(
    state: &AppState,
    conn: &'c mut Option<PooledConn>,
) -> AppResult<&'c mut crate::db::DbConn> {
    match conn {
        Some(conn) => Ok(conn),
        None => Ok(conn.insert(state.db.reader()?)),
    }
}

/// The label's and the certificate's signals, loading them (one read) when not cached.
fn signals(
    state: &AppState,
    conn: &mut Option<PooledConn>,
    record: &Record,
    serial: i64,
) -> AppResult<(Arc<LabelSignals>, Arc<LabelSignals>)> {
    let cached = &state.verify.signals;
    if let (Some(label), Some(total)) = (
        cached.get(&record.id, serial),
        cached.get(&record.id, ALL_LABELS),
    ) {
        return Ok((label, total));
    }
    let stored = StoredSignals::load(connection(state, conn)?, &record.id, &[serial])?;
    let label = cached.insert(
        &record.id,
        serial,
        LabelSignals::from_stored(&stored, serial),
    );
    let total = cached.insert(
        &record.id,
        ALL_LABELS,
        LabelSignals::from_stored(&stored, ALL_LABELS),
    );
    Ok((label, total))
}

/// What a scan of this label is, for the copy signals.
enum Observation {
    /// Not a consumer scan, or a record that cannot say whether the label is genuine.
    None,
    /// A consumer scan whose label did not verify: an attempted fake.
    Forged(Option<String>),
    /// A consumer scan of a label that verified.
    Genuine(Option<String>),
}

fn observation(record: &Record, label: &Findings, source: &Source<'_>) -> Observation {
    let Source::Consumer { region } = source else {
        return Observation::None;
    };
    // Only a known region code is kept, and only to the prefecture (`430700` for `430702`):
    // coarse enough to say nothing of a person, and a bounded set of keys per label and hour.
    let region = region.and_then(crate::domain::region::scan_region);
    if label.verdict() == Verdict::Forged {
        Observation::Forged(region)
    } else if record.intact() {
        Observation::Genuine(region)
    } else {
        Observation::None
    }
}

/// The current hour, as scans are stored (never finer: an observation, not a tracking record).
fn this_hour() -> NaiveDateTime {
    let at = now();
    at.date().and_hms_opt(at.hour(), 0, 0).unwrap_or(at)
}

fn forged_scan(record: &Record, region: Option<String>) -> Forged {
    Forged {
        certificate_id: record.id.clone(),
        hour: this_hour(),
        region,
    }
}

/// Counts a genuine scan in memory; returns the scan for the writer and the label's signals.
fn count_scan(
    state: &AppState,
    record: &Record,
    serial: i64,
    region: Option<String>,
    (label, total): (Arc<LabelSignals>, Arc<LabelSignals>),
) -> (Genuine, Snapshot) {
    let hour = this_hour();
    let window_start = hour - Duration::hours(state.config.copy.window_hours);
    let snapshot = label.record(hour, region.as_deref(), window_start);
    let certificate_total = total.record(hour, None, window_start).scans;
    let scan = Genuine {
        certificate_id: record.id.clone(),
        serial,
        hour,
        region,
        label,
        total,
    };
    (
        scan,
        Snapshot {
            certificate_total,
            ..snapshot
        },
    )
}

fn finish(state: &AppState, answer: Answer) -> Answer {
    state.metrics.verified(answer.verdict);
    answer
}

/// The answer for `record` given the label's findings and, for a counted scan, its signals.
fn answer(
    state: &AppState,
    record: &Arc<Record>,
    label: &Label<'_>,
    label_findings: Findings,
    snapshot: Option<Snapshot>,
    consumer_scan: bool,
) -> Answer {
    let label_verified = label_findings.verdict() != Verdict::Forged;
    let mut findings = record.findings.clone();
    findings.extend(label_findings);
    let today = chrono::Utc::now().date_naive();
    rules::judge_expiry(&mut findings, record.expiry, today);
    let serial = label.serial.unwrap_or(BATCH_LABEL);
    let signals = snapshot.clone().unwrap_or_else(|| {
        let window_start = this_hour() - Duration::hours(state.config.copy.window_hours);
        let peek = |s: i64| {
            state
                .verify
                .signals
                .get(&record.id, s)
                .map(|l| l.peek(window_start))
                .unwrap_or_default()
        };
        Snapshot {
            certificate_total: peek(ALL_LABELS).scans,
            ..peek(serial)
        }
    });
    let facts = LabelFacts {
        serial: label.serial,
        quantity: record.quantity,
        scans: signals.scans,
        provinces_in_window: signals.provinces_in_window,
        unit_receivers: label
            .serial
            .and_then(|s| record.unit_receivers.get(&s).copied())
            .unwrap_or(0),
        custody_recorded: record.custody_batch
            || label
                .serial
                .is_some_and(|s| record.custody_units.contains(&s)),
    };
    let mut warnings: Vec<Warning> = copy::warnings(&facts, state.config.copy)
        .into_iter()
        .map(|(code, text)| Warning::new(code, text))
        .collect();
    for code in &record.warnings {
        warnings.push(Warning::new(code, record_warning_text(code)));
    }
    if record.lab_not_accredited {
        warnings.push(Warning::new(
            "lab_not_accredited",
            Bilingual::new(
                "出具检验报告的实验室在检验日期未同时具备经监管部门确认的CMA和CATL资质。",
                "The cited lab did not hold both CMA and CATL accreditation, confirmed by a regulator, on the inspection date.",
            ),
        ));
    }
    if !record.lab_outside_scope.is_empty() {
        let items = record.lab_outside_scope.join("、");
        warnings.push(Warning::new(
            "lab_scope_mismatch",
            Bilingual::new(
                format!("检验项目超出实验室的资质认定范围：{items}。"),
                format!("Inspection items outside the lab's accredited scope: {items}."),
            ),
        ));
    }
    let verdict = findings.verdict();
    if verdict == Verdict::Forged {
        warnings.push(Warning::new(
            copy::FORGED_LABEL_SCANNED,
            Bilingual::new(
                "这个标签的签名不是该生产者的：可能是仿冒标签，已记录以供监管部门核查。",
                "This label's signature is not the producer's: it may be a counterfeit, and the scan was recorded for the regulator.",
            ),
        ));
    }
    if consumer_scan {
        remember(state, record, serial, verdict, &warnings);
    }
    Answer {
        verdict,
        reasons: findings.reasons(),
        warnings,
        certificate: Some(CertificateView {
            payload: record.payload_json.clone(),
            signature: label_verified.then(|| record.signature_b64.clone()),
            kid: record.kid.clone(),
            status: record.status.clone(),
            scans: signals.certificate_total,
            status_reason: record.status_reason.clone(),
        }),
        unit: label.serial.map(|serial| UnitView {
            serial,
            scans: signals.scans,
        }),
        marks: mark_statuses(record, today),
        trail: record.trail_json.clone(),
        trail_total: record.trail_total,
        trail_url: Some(format!(
            "{}/api/v1/certificates/{}/trail",
            state.config.public_url, record.id
        )),
        log: match &record.log {
            Position::Sequenced(p) => Some(LogView::Included(p.clone().into())),
            Position::Pending => Some(LogView::Pending { pending: true }),
            Position::Missing => None,
        },
        lineage: record.lineage.as_deref().cloned(),
        record: Some(record.clone()),
    }
}

/// The words of a warning about the record itself.
fn record_warning_text(code: &str) -> Bilingual {
    match code {
        lineage::ANCESTOR_NOT_GENUINE => Bilingual::new(
            "这批货由其他批次分装或合并后重新开具；其中有来源批次现在不是“真实有效”（已暂停、撤销、召回或无法核验）。",
            "This lot was re-issued from other lots, and one of them is no longer genuine (suspended, revoked, recalled or unverifiable).",
        ),
        "signing_key_compromised_later" => Bilingual::new(
            "生产者的签名密钥后来被声明泄露；本合格证在泄露之前已记录在公开日志中，仍然有效。",
            "The producer's signing key was later declared compromised; this certificate was in the public log before that and stays valid.",
        ),
        record::PRODUCER_SANCTIONED => Bilingual::new(
            "监管部门已暂停该生产者开具新合格证的资格；本合格证签发在先，其结论不受影响。",
            "A regulator suspended this producer's right to issue new certificates; this certificate was issued before and its verdict stands.",
        ),
        _ => Bilingual::new("请注意。", "Take note."),
    }
}

/// Hands the copy warnings a consumer's scan raised to the scan writer, once per label and
/// code in this process (the table keeps the first). Warnings that say nothing about copying
/// are not kept; a forged label keeps only that it was forged, and warnings about the whole
/// certificate are kept under its batch label, so a client-chosen serial adds nothing.
fn remember(
    state: &AppState,
    record: &Record,
    serial: i64,
    verdict: Verdict,
    warnings: &[Warning],
) {
    for warning in warnings {
        let Some(code) = copy::KEPT.iter().find(|c| **c == warning.code) else {
            continue;
        };
        let forged = *code == copy::FORGED_LABEL_SCANNED;
        if forged != (verdict == Verdict::Forged) {
            continue;
        }
        let per_label = matches!(
            *code,
            "scanned_far_apart" | "scanned_too_often" | "received_by_several_retailers"
        );
        let serial = if per_label { serial } else { BATCH_LABEL };
        let key = (serial, *code);
        let mut remembered = record.remembered.lock().unwrap_or_else(|e| e.into_inner());
        if !remembered.contains(&key) && state.scans.remember(record.id.clone(), serial, code) {
            remembered.insert(key);
        }
    }
}

/// Is the label's signature the producer's? Returns the `forged` findings.
fn check_label(record: &Record, label: &Label<'_>) -> Findings {
    let canonical = match label.serial {
        // Only a well-formed batch signature that differs from the stored one needs the
        // payload (a malformed one is judged without it: floods of those cost no JSON).
        None => label
            .signature
            .and_then(|s| crate::crypto::b64url_decode(s.trim()))
            .filter(|sig| sig.len() == 64 && sig.as_slice() != record.signature.as_slice())
            .and_then(|_| record.canonical()),
        Some(_) => None,
    };
    rules::judge_label(
        rules::LabelFacts {
            serial: label.serial,
            signature: label.signature,
        },
        &record.id,
        record.units,
        record.key.as_ref(),
        canonical.as_deref(),
        record.payload_sha256.as_deref(),
        Some(&record.signature),
    )
}

/// Each claimed mark with the status of its record today.
fn mark_statuses(record: &Record, today: chrono::NaiveDate) -> Vec<MarkStatus> {
    if record.marks.is_empty() {
        return vec![];
    }
    let today = today.format("%Y-%m-%d").to_string();
    record
        .marks
        .iter()
        .map(|m| {
            let status = match &m.record {
                None => "unrecorded",
                Some((status, _)) if status != "valid" => "suspended",
                Some((_, until)) if until.as_str() < today.as_str() => "expired",
                Some(_) => "valid",
            };
            MarkStatus {
                scheme: m.scheme.clone(),
                cert_no: m.cert_no.clone(),
                status: status.into(),
            }
        })
        .collect()
}
