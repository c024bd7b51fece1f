//! The verification answer (contract §4) and how it is made from a certificate's record, the
//! label's findings and its scan counters: the verdict with its reasons, the certificate, the
//! unit, marks as of today, the trail's latest events, warnings and the log's proof.

use super::record::{RawJson, Record};
use super::AppState;
use super::{lineage, record, remember, this_hour, Label};
use crate::crypto::verification as rules;
use crate::db::models::scan::{ALL_LABELS, BATCH_LABEL};
use crate::domain::copy::{self, LabelFacts};
use crate::domain::payload::Payload;
use crate::domain::text::Bilingual;
use crate::domain::verdict::{Findings, Verdict};
use crate::error::AppResult;
use crate::service::tlog::inclusion::{Position, Proof};
use crate::service::verify::scan_counters::Snapshot;
use chrono::Duration;
use serde::Serialize;
use std::sync::Arc;

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
    pub(super) fn unknown() -> Self {
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
    pub(super) fn deleted(proof: &Proof) -> AppResult<Self> {
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

/// Each claimed mark of `record` with the status of its record today.
pub fn marks_today(record: &Record) -> Vec<MarkStatus> {
    mark_statuses(record, chrono::Utc::now().date_naive())
}

/// The answer for `record` given the label's findings and, for a counted scan, its signals.
pub(super) fn answer(
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
        record::STATUS_NOT_CURRENT => Bilingual::new(
            "平台主数据库暂时无法访问：此结论读自只读副本，证书状态可能不是最新的。请稍后再扫一次。",
            "The platform's primary database cannot be reached: this answer was read from a replica, and the certificate's status may not be current. Scan again shortly.",
        ),
        _ => Bilingual::new("请注意。", "Take note."),
    }
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
