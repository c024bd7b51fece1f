//! Verifying a scanned label (contract §4): is the label's signature the producer's, is the
//! stored record (payload and trail) intact, what is the certificate's status, and do the scans
//! look like a copied label.

use chrono::Duration;
use ed25519_dalek::VerifyingKey;
use serde::Serialize;

use crate::crypto::random::new_id;
use crate::crypto::signing::{certificate_message, unit_message, verify_cached as verify_sig};
use crate::crypto::{b64url, b64url_decode};
use crate::db::models::{now, Certificate, EventRow, MarkRecord, Scan};
use crate::db::DbConn;
use crate::domain::copy::{self, LabelFacts};
use crate::domain::payload::{recanonicalize, Payload};
use crate::domain::text::Bilingual;
use crate::domain::validate::is_id;
use crate::domain::verdict::{Findings, Verdict};
use crate::error::AppResult;

use super::trail::{self, TrailEvent};
use super::{labs, AppState};

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
    pub payload: serde_json::Value,
    /// base64url, no padding, 86 characters.
    pub signature: String,
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
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
    pub trail: Vec<TrailEvent>,
}

impl Answer {
    /// The payload as typed fields, when it parses (for pages).
    pub fn payload(&self) -> Option<Payload> {
        let value = self.certificate.as_ref()?.payload.clone();
        serde_json::from_value(value).ok()
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

/// Verifies a label. Never fails for a bad label: the answer says what is wrong.
pub fn verify(state: &AppState, label: &Label<'_>, source: Source<'_>) -> AppResult<Answer> {
    let found = match is_id(label.id) {
        true => Certificate::find(&mut *state.db.reader()?, label.id)?,
        false => None,
    };
    let Some(cert) = found else {
        state.metrics.verified(Verdict::Unknown.as_str());
        return Ok(Answer {
            verdict: Verdict::Unknown,
            reasons: vec!["unknown_certificate".into()],
            warnings: vec![],
            certificate: None,
            unit: None,
            marks: vec![],
            trail: vec![],
        });
    };
    let consumer = matches!(source, Source::Consumer { .. });
    if let Source::Consumer { region } = source {
        record_scan(state, &cert, label.serial, region)?;
    }
    let mut conn = state.db.reader()?;
    let key = state.keys.verifying_key(&mut conn, &cert.kid)?;
    let mut findings = Findings::default();
    let stored = recanonicalize(&cert.payload);
    let canonical = stored.as_ref().map(|(_, c)| c.as_str());
    let record_intact = check_record(&mut findings, &cert, key.as_ref(), canonical);
    check_label(
        &mut findings,
        &cert,
        label,
        key.as_ref(),
        canonical,
        record_intact,
    );

    let (events, chain) = trail::load(state, &mut conn, &cert)?;
    if let Err(fault) = chain {
        findings.add(Verdict::Tampered, fault.code());
    }
    match cert.status.as_str() {
        "revoked" => findings.add(Verdict::Revoked, "certificate_revoked"),
        "recalled" => findings.add(Verdict::Recalled, "certificate_recalled"),
        "suspended" => findings.add(Verdict::Suspended, "certificate_suspended"),
        _ => {}
    }
    let payload: Option<Payload> = stored
        .as_ref()
        .and_then(|(v, _)| serde_json::from_value(v.clone()).ok());
    let today = chrono::Utc::now().date_naive();
    if payload
        .as_ref()
        .and_then(Payload::expiry_date)
        .is_some_and(|expiry| expiry < today)
    {
        findings.add(Verdict::Expired, "past_expiry_date");
    }

    let facts = label_facts(
        state,
        &mut conn,
        &cert,
        label.serial,
        payload.as_ref(),
        &events,
    )?;
    let marks = match &payload {
        Some(p) => mark_statuses(&mut conn, &cert.product_id, p, today)?,
        None => vec![],
    };
    let mut warnings: Vec<Warning> = copy::warnings(&facts, state.config.copy)
        .into_iter()
        .map(|(code, text)| Warning::new(code, text))
        .collect();
    if let (Some(lab), Some(p)) = (&cert.lab_id, &payload) {
        if !labs::accredited(&mut conn, lab, &p.inspection.date)? {
            warnings.push(Warning::new(
                "lab_not_accredited",
                Bilingual::new(
                    "出具检验报告的实验室在检验日期未同时具备CMA和CATL资质。",
                    "The cited lab did not hold both CMA and CATL accreditation on the inspection date.",
                ),
            ));
        }
    }
    if consumer {
        let codes: Vec<&str> = warnings.iter().map(|w| w.code.as_str()).collect();
        super::warnings::remember(state, &cert.id, label.serial, &codes)?;
    }
    let verdict = findings.verdict();
    state.metrics.verified(verdict.as_str());
    Ok(Answer {
        verdict,
        reasons: findings.reasons(),
        warnings,
        certificate: Some(CertificateView {
            payload: stored.map(|(v, _)| v).unwrap_or(serde_json::Value::Null),
            signature: b64url(&cert.signature),
            kid: cert.kid.clone(),
            status: cert.status.clone(),
            scans: Scan::count_all(&mut conn, &cert.id)?,
            status_reason: cert.status_reason.clone(),
        }),
        unit: label.serial.map(|serial| UnitView {
            serial,
            scans: facts.scans,
        }),
        marks,
        trail: trail::present(&events),
    })
}

/// Stores one consumer scan: the hour and a region code if the scanner supplied a valid one.
fn record_scan(
    state: &AppState,
    cert: &Certificate,
    serial: Option<i64>,
    region: Option<&str>,
) -> AppResult<()> {
    // A serial outside the certificate's units names no unit: it is not counted.
    if serial.is_some_and(|s| cert.units.is_none_or(|units| s < 1 || s > units)) {
        return Ok(());
    }
    let at = now();
    let scan = Scan {
        certificate_id: cert.id.clone(),
        id: new_id(),
        serial,
        hour: at
            .date()
            .and_hms_opt(chrono::Timelike::hour(&at), 0, 0)
            .unwrap_or(at),
        region_code: region.and_then(|r| crate::domain::region::parse("region", r).ok()),
    };
    state.scans.record(scan)
}

/// Is the stored record what the producer signed? Adds `tampered` findings; returns intactness.
fn check_record(
    findings: &mut Findings,
    cert: &Certificate,
    key: Option<&VerifyingKey>,
    canonical: Option<&str>,
) -> bool {
    let (Some(key), Some(canonical)) = (key, canonical) else {
        findings.add(
            Verdict::Tampered,
            if key.is_none() {
                "signing_key_unknown"
            } else {
                "payload_unreadable"
            },
        );
        return false;
    };
    let signed = verify_sig(key, &certificate_message(canonical), &cert.signature);
    let consistent = serde_json::from_str::<serde_json::Value>(canonical).is_ok_and(|v| {
        v["id"].as_str() == Some(cert.id.as_str()) && v["kid"].as_str() == Some(cert.kid.as_str())
    });
    if !(signed && consistent) {
        findings.add(Verdict::Tampered, "payload_signature_invalid");
    }
    signed && consistent
}

/// Is the label's signature the producer's? Adds `forged` findings.
fn check_label(
    findings: &mut Findings,
    cert: &Certificate,
    label: &Label<'_>,
    key: Option<&VerifyingKey>,
    canonical: Option<&str>,
    record_intact: bool,
) {
    let presented = label.signature.map(str::trim).filter(|s| !s.is_empty());
    let Some(presented) = presented else {
        return findings.add(Verdict::Forged, "signature_missing");
    };
    let Some(sig) = b64url_decode(presented) else {
        return findings.add(Verdict::Forged, "signature_malformed");
    };
    let checkable = key.zip(canonical).filter(|_| record_intact);
    match label.serial {
        None => {
            // The batch label carries the certificate signature itself.
            let verifies =
                checkable.is_some_and(|(k, c)| verify_sig(k, &certificate_message(c), &sig));
            if sig != cert.signature && !verifies {
                findings.add(Verdict::Forged, "label_signature_invalid");
            }
        }
        Some(serial) => match cert.units {
            None => findings.add(Verdict::Forged, "certificate_not_serialized"),
            Some(units) if serial < 1 || serial > units => {
                findings.add(Verdict::Forged, "serial_out_of_range")
            }
            // A unit signature covers the payload hash: with a damaged record it cannot be
            // checked, and `tampered` already says so.
            Some(_) => {
                if let Some((k, c)) = checkable {
                    if !verify_sig(k, &unit_message(&cert.id, serial, c), &sig) {
                        findings.add(Verdict::Forged, "label_signature_invalid");
                    }
                }
            }
        },
    }
}

/// Scans and custody facts for copy detection.
fn label_facts(
    state: &AppState,
    conn: &mut DbConn,
    cert: &Certificate,
    serial: Option<i64>,
    payload: Option<&Payload>,
    events: &[EventRow],
) -> AppResult<LabelFacts> {
    let window = Duration::hours(state.config.copy.window_hours);
    let scan_places = Scan::since(conn, &cert.id, now() - window)?
        .into_iter()
        .filter(|s| s.serial == serial)
        .map(|s| (s.hour, s.region_code))
        .collect();
    let concerns_label = |e: &&EventRow| e.serial.is_none() || e.serial == serial;
    let mut receivers: Vec<&str> = events
        .iter()
        .filter(|e| e.kind == "received" && serial.is_some() && e.serial == serial)
        .map(|e| e.actor_id.as_str())
        .collect();
    receivers.sort_unstable();
    receivers.dedup();
    Ok(LabelFacts {
        serial,
        quantity: payload.map_or(i64::MAX, |p| p.batch.quantity),
        scans: Scan::count(conn, &cert.id, serial)?,
        scan_places,
        unit_receivers: receivers.len(),
        custody_recorded: events
            .iter()
            .filter(concerns_label)
            .any(|e| e.kind == "shipped" || e.kind == "received"),
    })
}

/// Each claimed mark with the status of the matching record.
fn mark_statuses(
    conn: &mut DbConn,
    product_id: &str,
    payload: &Payload,
    today: chrono::NaiveDate,
) -> AppResult<Vec<MarkStatus>> {
    if payload.marks.is_empty() {
        return Ok(vec![]);
    }
    let records = MarkRecord::for_product(conn, product_id)?;
    Ok(payload
        .marks
        .iter()
        .map(|m| {
            let record = records
                .iter()
                .find(|r| r.scheme == m.scheme && r.cert_no == m.cert_no);
            let status = match record {
                None => "unrecorded",
                Some(r) if r.status != "valid" => "suspended",
                Some(r)
                    if r.valid_until.as_str() < today.format("%Y-%m-%d").to_string().as_str() =>
                {
                    "expired"
                }
                Some(_) => "valid",
            };
            MarkStatus {
                scheme: m.scheme.clone(),
                cert_no: m.cert_no.clone(),
                status: status.into(),
            }
        })
        .collect())
}
