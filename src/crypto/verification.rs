//! The rules that decide a verdict (contract §4, §9, §11), as pure functions of what is known
//! about a certificate and a label. The server (from its records) and `certrail verify` (from
//! a trust bundle and an offline label) both call these; there is no second copy of the rules.

use chrono::{NaiveDate, NaiveDateTime};
use ed25519_dalek::VerifyingKey;

use crate::crypto::signing::{
    certificate_message, unit_message_for_digest, verify_cached as verify_sig,
};
use crate::domain::hash::sha256_hex;
use crate::domain::status::CertStatus;
use crate::domain::verdict::{Findings, Verdict};

/// A signing key's lifecycle state (contract §5, §11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    Active,
    /// Replaced by a newer key at `valid_until`.
    Retired {
        valid_until: Option<NaiveDateTime>,
    },
    /// Not trustworthy from `since`.
    Compromised {
        since: NaiveDateTime,
    },
}

impl KeyState {
    /// From the trust list's `status` and dates; an unknown status is treated as compromised
    /// from the beginning of time (fail closed).
    pub fn from_parts(
        status: &str,
        valid_until: Option<NaiveDateTime>,
        compromised_since: Option<NaiveDateTime>,
    ) -> Self {
        match status {
            "active" => KeyState::Active,
            "retired" => KeyState::Retired { valid_until },
            _ => KeyState::Compromised {
                since: compromised_since.unwrap_or(NaiveDateTime::MIN),
            },
        }
    }
}

/// What the log says of a certificate's entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Logged {
    /// Sequenced at this time.
    At(NaiveDateTime),
    /// Written, not yet sequenced.
    Pending,
    /// Neither: never went through issuance, or removed.
    Missing,
    /// Not known here (an offline verifier without a proof for it).
    Unknown,
}

/// A certificate as a verifier knows it.
pub struct CertificateFacts<'a> {
    pub id: &'a str,
    pub kid: &'a str,
    /// The canonical signed payload, if it could be read.
    pub canonical: Option<&'a str>,
    /// The certificate signature to check the payload with; `None` offline, where the label
    /// carries the payload and [`judge_label`] checks the label's signature over it.
    pub signature: Option<&'a [u8]>,
    /// The producer's public key and its state, if the trust list has `kid`.
    pub key: Option<(VerifyingKey, KeyState)>,
    pub logged: Logged,
    pub status: CertStatus,
}

/// What the certificate rules conclude.
#[derive(Debug, Clone, Default)]
pub struct Judged {
    pub findings: Findings,
    /// Warning codes that do not change the verdict.
    pub warnings: Vec<&'static str>,
    /// Lowercase hex SHA-256 of the payload when it verified under the key (unit label
    /// messages cover it).
    pub payload_sha256: Option<String>,
}

/// Judges a certificate: its payload against its signature, the key's lifecycle against when
/// the log saw the certificate, and its status.
pub fn judge_certificate(c: &CertificateFacts<'_>) -> Judged {
    let mut judged = Judged::default();
    let findings = &mut judged.findings;
    match (&c.key, c.canonical) {
        (None, _) => findings.add(Verdict::Tampered, "signing_key_unknown"),
        (Some(_), None) => findings.add(Verdict::Tampered, "payload_unreadable"),
        (Some((key, _)), Some(canonical)) => {
            let signed = c
                .signature
                .is_none_or(|sig| verify_sig(key, &certificate_message(canonical), sig));
            let consistent = serde_json::from_str::<serde_json::Value>(canonical)
                .is_ok_and(|v| v["id"].as_str() == Some(c.id) && v["kid"].as_str() == Some(c.kid));
            if signed && consistent {
                judged.payload_sha256 = Some(sha256_hex(canonical.as_bytes()));
            } else {
                findings.add(Verdict::Tampered, "payload_signature_invalid");
            }
        }
    }
    if let Some((_, state)) = c.key {
        judge_key(state, c.logged, &mut judged);
    }
    if c.logged == Logged::Missing {
        judged.findings.add(Verdict::Tampered, "not_in_log");
    }
    match c.status {
        CertStatus::Revoked => judged.findings.add(Verdict::Revoked, "certificate_revoked"),
        CertStatus::Recalled => judged
            .findings
            .add(Verdict::Recalled, "certificate_recalled"),
        CertStatus::Suspended => judged
            .findings
            .add(Verdict::Suspended, "certificate_suspended"),
        CertStatus::Active => {}
    }
    judged
}

/// Contract §11: a compromised key's certificates logged before `since` stay genuine with a
/// warning; logged at or after it, or never, they are forged. Active and retired keys' stay
/// genuine (a retired key signs nothing new: issuance signs with the active key only).
fn judge_key(state: KeyState, logged: Logged, judged: &mut Judged) {
    match (state, logged) {
        (KeyState::Active | KeyState::Retired { .. }, _) => {}
        (KeyState::Compromised { since }, Logged::At(at)) if at < since => {
            judged.warnings.push("signing_key_compromised_later")
        }
        (KeyState::Compromised { .. }, _) => {
            judged.findings.add(Verdict::Forged, "key_compromised")
        }
    }
}

/// What a label presents.
#[derive(Debug, Clone, Copy)]
pub struct LabelFacts<'a> {
    pub serial: Option<i64>,
    /// The `s` parameter.
    pub signature: Option<&'a str>,
}

/// Is the label's signature the producer's? `units` is the certificate's serialized count;
/// `stored_signature` the certificate signature the record holds (a batch label equal to it
/// needs no signature check). Returns the `forged` findings.
pub fn judge_label(
    label: LabelFacts<'_>,
    id: &str,
    units: Option<i64>,
    key: Option<&VerifyingKey>,
    canonical: Option<&str>,
    payload_sha256: Option<&str>,
    stored_signature: Option<&[u8]>,
) -> Findings {
    let mut findings = Findings::default();
    let presented = label.signature.map(str::trim).filter(|s| !s.is_empty());
    let Some(presented) = presented else {
        findings.add(Verdict::Forged, "signature_missing");
        return findings;
    };
    let Some(sig) = crate::crypto::b64url_decode(presented).filter(|s| s.len() == 64) else {
        findings.add(Verdict::Forged, "signature_malformed");
        return findings;
    };
    // Without an intact record there is nothing to check against: `tampered` says so.
    let key = key.filter(|_| payload_sha256.is_some());
    match label.serial {
        None => {
            let verifies = stored_signature == Some(sig.as_slice())
                || key
                    .zip(canonical)
                    .is_some_and(|(k, c)| verify_sig(k, &certificate_message(c), &sig));
            if !verifies {
                findings.add(Verdict::Forged, "label_signature_invalid");
            }
        }
        Some(serial) => match units {
            None => findings.add(Verdict::Forged, "certificate_not_serialized"),
            Some(units) if serial < 1 || serial > units => {
                findings.add(Verdict::Forged, "serial_out_of_range")
            }
            Some(_) => {
                if let Some((k, digest)) = key.zip(payload_sha256) {
                    let message = unit_message_for_digest(id, serial, digest);
                    if !verify_sig(k, &message, &sig) {
                        findings.add(Verdict::Forged, "label_signature_invalid");
                    }
                }
            }
        },
    }
    findings
}

/// `expired` once the batch's expiry date has passed.
pub fn judge_expiry(findings: &mut Findings, expiry: Option<NaiveDate>, today: NaiveDate) {
    if expiry.is_some_and(|expiry| expiry < today) {
        findings.add(Verdict::Expired, "past_expiry_date");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    fn judge(state: KeyState, logged: Logged) -> Judged {
        let key = SigningKey::from_bytes(&[1u8; 32]);
        let canonical = r#"{"id":"c1","kid":"k1"}"#;
        let sig = crate::crypto::signing::sign(&key, &certificate_message(canonical));
        judge_certificate(&CertificateFacts {
            id: "c1",
            kid: "k1",
            canonical: Some(canonical),
            signature: Some(&sig),
            key: Some((key.verifying_key(), state)),
            logged,
            status: CertStatus::Active,
        })
    }

    #[test]
    fn a_compromised_key_spares_only_what_was_logged_before_since() {
        let since = at("2026-11-30 10:00:00");
        let state = KeyState::Compromised { since };
        let before = judge(state, Logged::At(at("2026-11-30 09:59:59")));
        assert_eq!(before.findings.verdict(), Verdict::Genuine);
        assert_eq!(before.warnings, vec!["signing_key_compromised_later"]);
        for logged in [
            Logged::At(since),
            Logged::Pending,
            Logged::Missing,
            Logged::Unknown,
        ] {
            let j = judge(state, logged);
            assert_eq!(j.findings.verdict(), Verdict::Forged, "{logged:?}");
            assert!(j
                .findings
                .reasons()
                .contains(&"key_compromised".to_string()));
        }
    }

    #[test]
    fn a_retired_key_keeps_what_it_signed() {
        let until = at("2026-11-30 10:00:00");
        let state = KeyState::Retired {
            valid_until: Some(until),
        };
        for logged in [
            Logged::At(until - chrono::Duration::days(30)),
            Logged::At(until + chrono::Duration::hours(1)),
            Logged::Pending,
            Logged::Unknown,
        ] {
            let j = judge(state, logged);
            assert_eq!(j.findings.verdict(), Verdict::Genuine, "{logged:?}");
            assert!(j.warnings.is_empty());
        }
    }

    #[test]
    fn missing_from_the_log_is_tampered_and_pending_is_not() {
        let missing = judge(KeyState::Active, Logged::Missing);
        assert_eq!(missing.findings.reasons(), vec!["not_in_log"]);
        assert_eq!(missing.findings.verdict(), Verdict::Tampered);
        assert!(judge(KeyState::Active, Logged::Pending).warnings.is_empty());
        assert_eq!(
            judge(KeyState::Active, Logged::Pending).findings.verdict(),
            Verdict::Genuine
        );
        assert_eq!(
            judge(KeyState::Active, Logged::Unknown).findings.verdict(),
            Verdict::Genuine
        );
    }

    #[test]
    fn unknown_key_states_fail_closed() {
        assert_eq!(
            KeyState::from_parts("lost", None, None),
            KeyState::Compromised {
                since: NaiveDateTime::MIN
            }
        );
    }
}
