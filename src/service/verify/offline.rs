//! Verification without network (contract §10): an offline label (which carries its signed
//! payload) judged against a trust bundle, by the same rules the server applies
//! ([`super::rules`]).

use chrono::{NaiveDate, NaiveDateTime};

use crate::crypto::signing::{self, b64url_decode};
use crate::domain::label::{unpack_payload, ScannedLabel};
use crate::domain::payload::{canonicalize, Payload};
use crate::domain::status::CertStatus;
use crate::domain::verdict::{Findings, Verdict};
use crate::service::verify::bundle::Bundle;

use crate::crypto::verification::{self as rules, CertificateFacts, KeyState, LabelFacts, Logged};

/// What an offline check concludes.
#[derive(Debug)]
pub struct OfflineAnswer {
    pub verdict: Verdict,
    pub reasons: Vec<String>,
    pub warnings: Vec<&'static str>,
    /// The payload the label carries, when it parses.
    pub payload: Option<Payload>,
    /// The certificate's status in the bundle's status list.
    pub status: String,
}

fn parse_time(text: &str) -> Option<NaiveDateTime> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.naive_utc())
}

/// Judges `label` with what `bundle` says, as of `today`.
pub fn verify(label: &ScannedLabel, bundle: &Bundle, today: NaiveDate) -> OfflineAnswer {
    let status = bundle
        .statuses
        .iter()
        .find(|s| s.id == label.id)
        .map_or("active", |s| s.status.as_str())
        .to_string();
    let mut findings = Findings::default();
    let Some(text) = label.payload.as_deref().and_then(unpack_payload) else {
        findings.add(Verdict::Unknown, "payload_not_on_label");
        return OfflineAnswer {
            verdict: findings.verdict(),
            reasons: findings.reasons(),
            warnings: vec![],
            payload: None,
            status,
        };
    };
    let value: Option<serde_json::Value> = serde_json::from_str(&text).ok();
    let canonical = value.as_ref().map(canonicalize);
    let payload: Option<Payload> = value.and_then(|v| serde_json::from_value(v).ok());
    let Some(payload) = payload else {
        findings.add(Verdict::Forged, "label_payload_unreadable");
        return OfflineAnswer {
            verdict: findings.verdict(),
            reasons: findings.reasons(),
            warnings: vec![],
            payload: None,
            status,
        };
    };
    let kid = payload.kid.as_str();
    let trusted = bundle.keys.iter().find(|k| k.kid == kid);
    let key = trusted.and_then(|k| {
        let public = b64url_decode(&k.public_key).and_then(|raw| signing::verifying_key(&raw))?;
        let until = k.valid_until.as_deref().and_then(parse_time);
        let since = k.compromised_since.as_deref().and_then(parse_time);
        Some((public, KeyState::from_parts(&k.status, until, since)))
    });
    if key.is_none() {
        findings.add(Verdict::Forged, "signing_key_unknown");
    }
    // A key signs only for its own organization: a producer holding its key cannot print
    // labels that name another producer.
    if trusted.is_some_and(|k| k.credit_code != payload.producer.credit_code) {
        findings.add(Verdict::Forged, "producer_mismatch");
    }
    let logged = bundle
        .logged_before_compromise
        .iter()
        .find(|l| l.id == label.id && l.kid == kid)
        .and_then(|l| parse_time(&l.sequenced_at))
        .map_or(Logged::Unknown, Logged::At);
    let judged = rules::judge_certificate(&CertificateFacts {
        id: &label.id,
        kid,
        canonical: canonical.as_deref(),
        signature: None,
        key,
        logged,
        status: CertStatus::from_stored(&status),
    });
    if key.is_some() {
        findings.extend(judged.findings);
    }
    findings.extend(rules::judge_label(
        LabelFacts {
            serial: label.serial,
            signature: label.signature.as_deref(),
        },
        &label.id,
        payload.units,
        key.as_ref().map(|(k, _)| k),
        canonical.as_deref(),
        judged.payload_sha256.as_deref(),
        None,
    ));
    rules::judge_expiry(&mut findings, payload.expiry_date(), today);
    OfflineAnswer {
        verdict: findings.verdict(),
        reasons: findings.reasons(),
        warnings: judged.warnings,
        payload: Some(payload),
        status,
    }
}
