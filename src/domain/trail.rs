//! The trail: an append-only, hash-chained list of signed events per certificate.
//!
//! Each event's body is a JSON object (canonical RFC 8785 form) holding `prev_hash`, the hash of
//! the event before it (64 zeros for the first). Its hash is lower-case hex SHA-256 of that
//! canonical body; the acting organization signs `"CERTRAIL-EVENT-V1\n" ‖ hash`.

use serde::{Deserialize, Serialize};

use super::hash::sha256_hex;
use super::payload::canonicalize;

/// `prev_hash` of a certificate's first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Domain-separation prefix of event signatures.
pub const EVENT_CONTEXT: &str = "CERTRAIL-EVENT-V1\n";

/// Kinds of trail event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    Issued,
    Shipped,
    Received,
    /// The consignee refused the goods at intake (the label failed, the goods don't match).
    Rejected,
    Sold,
    Inspected,
    Suspended,
    Reinstated,
    Revoked,
    Recalled,
    /// The producer asks a regulator to lift the regulator's suspension (with evidence).
    ReinstatementRequested,
    /// A regulator refused such a request (approval is a `reinstated` event).
    ReinstatementRefused,
    /// A step of a 先行赔付 (first compensation) case about this certificate.
    CaseUpdated,
}

impl EventType {
    pub const ALL: [EventType; 13] = [
        EventType::Issued,
        EventType::Shipped,
        EventType::Received,
        EventType::Rejected,
        EventType::Sold,
        EventType::Inspected,
        EventType::Suspended,
        EventType::Reinstated,
        EventType::Revoked,
        EventType::Recalled,
        EventType::ReinstatementRequested,
        EventType::ReinstatementRefused,
        EventType::CaseUpdated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Issued => "issued",
            EventType::Shipped => "shipped",
            EventType::Received => "received",
            EventType::Rejected => "rejected",
            EventType::Sold => "sold",
            EventType::Inspected => "inspected",
            EventType::Suspended => "suspended",
            EventType::Reinstated => "reinstated",
            EventType::Revoked => "revoked",
            EventType::Recalled => "recalled",
            EventType::ReinstatementRequested => "reinstatement_requested",
            EventType::ReinstatementRefused => "reinstatement_refused",
            EventType::CaseUpdated => "case_updated",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// GS1 CBV 2.0 business step and disposition of this event type (EPCIS 2.0). Status
    /// changes carry only a disposition; an inspection's disposition depends on its result.
    /// Requests and cases say nothing about the goods: `(None, None)`, and EPCIS leaves them out.
    pub fn epcis(self) -> (Option<&'static str>, Option<&'static str>) {
        match self {
            EventType::Issued => (Some("creating_class_instance"), Some("active")),
            EventType::Shipped => (Some("shipping"), Some("in_transit")),
            EventType::Received => (Some("receiving"), Some("sellable_accessible")),
            // The goods arrived and were not taken into stock.
            EventType::Rejected => (Some("arriving"), Some("non_sellable_other")),
            EventType::Sold => (Some("retail_selling"), Some("retail_sold")),
            EventType::Inspected => (Some("inspecting"), None),
            EventType::Suspended | EventType::Revoked => (None, Some("non_sellable_other")),
            EventType::Reinstated => (None, Some("sellable_accessible")),
            EventType::Recalled => (None, Some("recalled")),
            EventType::ReinstatementRequested
            | EventType::ReinstatementRefused
            | EventType::CaseUpdated => (None, None),
        }
    }
}

/// Who acted, as written into the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventActor {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub credit_code: String,
    pub region_code: String,
}

/// The hashed part of an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventBody {
    pub v: u8,
    pub certificate_id: String,
    pub seq: i64,
    #[serde(rename = "type")]
    pub kind: EventType,
    /// RFC 3339 UTC, seconds, `Z`.
    pub at: String,
    pub actor: EventActor,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<i64>,
    /// Event-specific facts (note, label verdict, inspection result, reason, …).
    #[schema(value_type = Object)]
    pub details: serde_json::Map<String, serde_json::Value>,
    pub prev_hash: String,
}

impl EventBody {
    /// Canonical JSON and its hash.
    pub fn seal(&self) -> (String, String) {
        let canonical = canonicalize(self);
        let hash = sha256_hex(canonical.as_bytes());
        (canonical, hash)
    }
}

/// The bytes an event signature covers.
pub fn event_message(hash: &str) -> Vec<u8> {
    format!("{EVENT_CONTEXT}{hash}").into_bytes()
}

/// Why a stored chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainFault {
    /// The body does not hash to the stored hash, or does not parse.
    BodyAltered(i64),
    /// `prev_hash` does not name the previous event, or `seq` skips.
    Broken(i64),
    /// The signature does not verify under the named key.
    BadSignature(i64),
    /// The chain is shorter or longer than the certificate's recorded head.
    HeadMismatch,
}

impl ChainFault {
    /// snake_case reason code.
    pub fn code(&self) -> &'static str {
        match self {
            ChainFault::BodyAltered(_) => "trail_event_altered",
            ChainFault::Broken(_) => "trail_chain_broken",
            ChainFault::BadSignature(_) => "trail_signature_invalid",
            ChainFault::HeadMismatch => "trail_head_mismatch",
        }
    }
}

/// One stored event as the chain check sees it.
pub struct StoredEvent<'a> {
    pub seq: i64,
    pub body: &'a str,
    pub hash: &'a str,
    pub signature_ok: bool,
}

/// Checks hashes, links, sequence and signatures, and that the last event is the recorded head.
pub fn check_chain(
    events: &[StoredEvent<'_>],
    head_seq: i64,
    head_hash: &str,
) -> Result<(), ChainFault> {
    check_chain_with(events, head_seq, head_hash, |_| None)
}

/// [`check_chain`], told by `known` the `(seq, prev_hash)` of bodies already found to parse
/// and to be canonical: a body whose hash it knows (the hash is still checked against the
/// body every time) is not parsed and re-canonicalized again.
pub fn check_chain_with(
    events: &[StoredEvent<'_>],
    head_seq: i64,
    head_hash: &str,
    known: impl Fn(&str) -> Option<(i64, String)>,
) -> Result<(), ChainFault> {
    let mut prev = GENESIS.to_string();
    for (i, event) in events.iter().enumerate() {
        let expected_seq = i as i64 + 1;
        if sha256_hex(event.body.as_bytes()) != event.hash {
            return Err(ChainFault::BodyAltered(event.seq));
        }
        let (body_seq, body_prev) = match known(event.hash) {
            Some(link) => link,
            None => {
                let body: EventBody = serde_json::from_str(event.body)
                    .map_err(|_| ChainFault::BodyAltered(event.seq))?;
                if canonicalize(&body) != event.body {
                    return Err(ChainFault::BodyAltered(event.seq));
                }
                (body.seq, body.prev_hash)
            }
        };
        if body_seq != expected_seq || event.seq != expected_seq || body_prev != prev {
            return Err(ChainFault::Broken(event.seq));
        }
        if !event.signature_ok {
            return Err(ChainFault::BadSignature(event.seq));
        }
        prev = event.hash.to_string();
    }
    if events.len() as i64 != head_seq || prev != head_hash {
        return Err(ChainFault::HeadMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(seq: i64, prev: &str) -> EventBody {
        EventBody {
            v: 1,
            certificate_id: "c".into(),
            seq,
            kind: if seq == 1 {
                EventType::Issued
            } else {
                EventType::Shipped
            },
            at: "2026-11-21T08:00:00Z".into(),
            actor: EventActor {
                id: "o".into(),
                name: "常德".into(),
                kind: "producer".into(),
                credit_code: "91350200776049653A".into(),
                region_code: "430702".into(),
            },
            serial: None,
            details: Default::default(),
            prev_hash: prev.into(),
        }
    }

    #[test]
    fn chain_checks() {
        let (b1, h1) = body(1, GENESIS).seal();
        let (b2, h2) = body(2, &h1).seal();
        let altered = b2.replace("shipped", "sold");
        fn ev<'a>(seq: i64, body: &'a str, hash: &'a str) -> StoredEvent<'a> {
            StoredEvent {
                seq,
                body,
                hash,
                signature_ok: true,
            }
        }
        assert_eq!(
            check_chain(&[ev(1, &b1, &h1), ev(2, &b2, &h2)], 2, &h2),
            Ok(())
        );
        assert_eq!(
            check_chain(&[ev(1, &b1, &h1)], 2, &h2),
            Err(ChainFault::HeadMismatch)
        );
        assert_eq!(
            check_chain(&[ev(1, &b1, &h1), ev(2, &b2, &h1)], 2, &h1),
            Err(ChainFault::BodyAltered(2))
        );
        assert_eq!(
            check_chain(&[ev(2, &b2, &h2)], 1, &h2),
            Err(ChainFault::Broken(2))
        );
        assert_eq!(
            check_chain(&[ev(1, &b1, &h1), ev(2, &altered, &h2)], 2, &h2),
            Err(ChainFault::BodyAltered(2))
        );
        let unsigned = StoredEvent {
            seq: 1,
            body: &b1,
            hash: &h1,
            signature_ok: false,
        };
        assert_eq!(
            check_chain(&[unsigned], 1, &h1),
            Err(ChainFault::BadSignature(1))
        );
        assert!(b1.contains(r#""type":"issued""#) && b1.contains(GENESIS));
    }

    #[test]
    fn known_bodies_are_not_parsed_again_but_their_hash_and_links_still_count() {
        // A body that is valid JSON but not canonical: refused unless its hash is known.
        let spaced = "{ \"not\": \"canonical\" }";
        let hash = sha256_hex(spaced.as_bytes());
        let ev = StoredEvent {
            seq: 1,
            body: spaced,
            hash: &hash,
            signature_ok: true,
        };
        let link = |h: &str| (h == hash).then(|| (1, GENESIS.to_string()));
        assert_eq!(
            check_chain(std::slice::from_ref(&ev), 1, &hash),
            Err(ChainFault::BodyAltered(1))
        );
        assert_eq!(
            check_chain_with(std::slice::from_ref(&ev), 1, &hash, link),
            Ok(())
        );
        // What is known must still link: a known seq or prev_hash that does not fit breaks.
        let wrong_prev = |_: &str| Some((1, "f".repeat(64)));
        assert_eq!(
            check_chain_with(std::slice::from_ref(&ev), 1, &hash, wrong_prev),
            Err(ChainFault::Broken(1))
        );
        let wrong_seq = |_: &str| Some((2, GENESIS.to_string()));
        assert_eq!(
            check_chain_with(std::slice::from_ref(&ev), 1, &hash, wrong_seq),
            Err(ChainFault::Broken(1))
        );
        // And the body is hashed every time: an edited body is caught whatever is known.
        let edited = StoredEvent { body: "{}", ..ev };
        assert_eq!(
            check_chain_with(&[edited], 1, &hash, link),
            Err(ChainFault::BodyAltered(1))
        );
    }

    #[test]
    fn each_event_type_maps_to_its_cbv_step_and_disposition() {
        use EventType::*;
        let table: Vec<_> = EventType::ALL.iter().map(|t| (*t, t.epcis())).collect();
        assert_eq!(
            table,
            [
                (Issued, (Some("creating_class_instance"), Some("active"))),
                (Shipped, (Some("shipping"), Some("in_transit"))),
                (Received, (Some("receiving"), Some("sellable_accessible"))),
                (Rejected, (Some("arriving"), Some("non_sellable_other"))),
                (Sold, (Some("retail_selling"), Some("retail_sold"))),
                (Inspected, (Some("inspecting"), None)),
                (Suspended, (None, Some("non_sellable_other"))),
                (Reinstated, (None, Some("sellable_accessible"))),
                (Revoked, (None, Some("non_sellable_other"))),
                (Recalled, (None, Some("recalled"))),
                (ReinstatementRequested, (None, None)),
                (ReinstatementRefused, (None, None)),
                (CaseUpdated, (None, None)),
            ]
        );
    }

    #[test]
    fn an_event_signature_covers_the_context_and_the_hash() {
        assert_eq!(event_message("ab12"), b"CERTRAIL-EVENT-V1\nab12".to_vec());
        let codes = [
            ChainFault::BodyAltered(1),
            ChainFault::Broken(2),
            ChainFault::BadSignature(3),
            ChainFault::HeadMismatch,
        ]
        .map(|f| f.code());
        assert_eq!(
            codes,
            [
                "trail_event_altered",
                "trail_chain_broken",
                "trail_signature_invalid",
                "trail_head_mismatch"
            ]
        );
    }
}
