//! Verifying a scanned label (contract §4): is the label's signature the producer's, is the
//! stored record intact, and what is the certificate's status.

use serde::Serialize;

use crate::crypto::signing::{certificate_message, unit_message, verify as verify_sig};
use crate::crypto::{b64url, b64url_decode};
use crate::db::models::Certificate;
use crate::domain::payload::{recanonicalize, Payload};
use crate::domain::validate::is_id;
use crate::domain::verdict::{Findings, Verdict};
use crate::error::AppResult;

use super::AppState;

/// A risk signal that does not change the verdict.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Warning {
    pub code: String,
    pub message: String,
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
}

/// The unit a unit label names.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UnitView {
    pub serial: i64,
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

/// Verifies a label. Never fails for a bad label: the answer says what is wrong.
pub fn verify(state: &AppState, label: &Label<'_>) -> AppResult<Answer> {
    let mut conn = state.db.reader()?;
    let found = match is_id(label.id) {
        true => Certificate::find(&mut conn, label.id)?,
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
        });
    };
    let key = state.keys.verifying_key(&mut conn, &cert.kid)?;
    drop(conn);

    let mut findings = Findings::default();
    let stored = recanonicalize(&cert.payload);
    let canonical = stored.as_ref().map(|(_, c)| c.as_str());

    // Is the stored record what the producer signed?
    let record_intact = match (&key, canonical) {
        (None, _) => {
            findings.add(Verdict::Tampered, "signing_key_unknown");
            false
        }
        (_, None) => {
            findings.add(Verdict::Tampered, "payload_unreadable");
            false
        }
        (Some(key), Some(canonical)) => {
            let signed = verify_sig(key, &certificate_message(canonical), &cert.signature);
            let consistent = stored.as_ref().is_some_and(|(v, _)| {
                v["id"].as_str() == Some(cert.id.as_str())
                    && v["kid"].as_str() == Some(cert.kid.as_str())
            });
            if !signed || !consistent {
                findings.add(Verdict::Tampered, "payload_signature_invalid");
            }
            signed && consistent
        }
    };

    // Is the label's signature the producer's?
    let presented = label.signature.map(str::trim).filter(|s| !s.is_empty());
    let presented_bytes = presented.and_then(b64url_decode);
    match (presented, &presented_bytes) {
        (None, _) => findings.add(Verdict::Forged, "signature_missing"),
        (Some(_), None) => findings.add(Verdict::Forged, "signature_malformed"),
        (Some(_), Some(sig)) => match label.serial {
            None => {
                // The batch label carries the certificate signature itself.
                let matches_stored = *sig == cert.signature;
                let verifies = record_intact
                    && key
                        .as_ref()
                        .zip(canonical)
                        .is_some_and(|(k, c)| verify_sig(k, &certificate_message(c), sig));
                if !matches_stored && !verifies {
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
                Some(_) if !record_intact => {}
                Some(_) => {
                    let ok = key.as_ref().zip(canonical).is_some_and(|(k, c)| {
                        verify_sig(k, &unit_message(&cert.id, serial, c), sig)
                    });
                    if !ok {
                        findings.add(Verdict::Forged, "label_signature_invalid");
                    }
                }
            },
        },
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
    if let Some(expiry) = payload.as_ref().and_then(Payload::expiry_date) {
        if expiry < chrono::Utc::now().date_naive() {
            findings.add(Verdict::Expired, "past_expiry_date");
        }
    }

    state.metrics.verified(findings.verdict().as_str());
    Ok(Answer {
        verdict: findings.verdict(),
        reasons: findings.reasons(),
        warnings: vec![],
        certificate: Some(CertificateView {
            payload: stored.map(|(v, _)| v).unwrap_or(serde_json::Value::Null),
            signature: b64url(&cert.signature),
            kid: cert.kid,
            status: cert.status,
        }),
        unit: label.serial.map(|serial| UnitView { serial }),
    })
}
