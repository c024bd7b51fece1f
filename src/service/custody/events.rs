//! Custody events: a holder ships to a named consignee; the consignee records intake (进货查验:
//! the scanned label is verified and the verdict it saw is recorded, even a failed one) or
//! refuses the goods; a seller records the sale. Legs themselves live in [`custody`], claims of
//! custody (intakes nobody shipped to) in [`claims`].
//!
//! Longer than 400 lines because recording an event is one use case whose steps (the label
//! scanned and checked, the room left, the holding a shipment comes from) sit beside it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::db::models::claim::ClaimRow;
use crate::db::models::shipment::Shipment;
use crate::db::models::{Certificate, EventRow};
use crate::domain::label;
use crate::domain::role::OrgKind;
use crate::domain::trail::EventType;
use crate::domain::validate;
use crate::domain::verdict::Verdict;
use crate::error::{AppError, AppResult};

use crate::service::certificate_with_producer;
use crate::service::custody::claims::{self, ClaimView};
use crate::service::custody::legs;
use crate::service::trail::{self, TrailEvent};
use crate::service::verify::{verify, Label, Source};
use crate::service::{Actor, AppState};

/// `POST /api/v1/certificates/{id}/events`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEvent {
    /// `shipped` (a holder: the producer, or anyone who took the goods in), `received` or
    /// `rejected` (the consignee: a wholesaler, market operator or retailer), `sold`
    /// (a receiver).
    #[serde(rename = "type")]
    #[schema(value_type = CustodyEventKind)]
    pub kind: String,
    /// The unit, for serialized certificates.
    #[serde(
        default,
        deserialize_with = "crate::domain::request::optional_whole_number"
    )]
    #[schema(minimum = 1)]
    pub serial: Option<i64>,
    /// The scanned QR content; verified and recorded with its verdict. Required for `received`.
    pub label_url: Option<String>,
    #[schema(value_type = Option<crate::domain::request::OptionalText500>)]
    pub note: Option<String>,
    /// `shipped`: the organization id of the consignee, whose intake closes this leg.
    pub consignee: Option<String>,
    /// `shipped`: how much of the batch travels on this leg (in the batch's unit; default: all
    /// the shipper holds). `received` with no shipment to the caller: how much it says it took in.
    #[serde(
        default,
        deserialize_with = "crate::domain::request::optional_whole_number"
    )]
    #[schema(minimum = 1, maximum = 1000000000)]
    pub quantity: Option<i64>,
    /// `received` with no shipment to the caller: the organization id of the party that handed
    /// the goods over (default: the issuer), which confirms or disputes the claim.
    pub from: Option<String>,
    /// `rejected`: why the goods were refused.
    #[schema(value_type = Option<crate::domain::request::Text500>)]
    pub reason: Option<String>,
}

/// The custody events a party records.
const CUSTODY_KINDS: [EventType; 4] = [
    EventType::Shipped,
    EventType::Received,
    EventType::Rejected,
    EventType::Sold,
];

crate::domain::request::named_schema!(
    /// The custody events a party records.
    CustodyEventKind = crate::domain::request::one_of(&CUSTODY_KINDS.map(EventType::as_str))
);

/// What a label check saw.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LabelCheck {
    pub verdict: Verdict,
    pub reasons: Vec<String>,
}

/// The recorded event (or, for an intake no shipment led to, the claim of custody waiting for
/// confirmation), with the label check if a label was scanned.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Recorded {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<TrailEvent>,
    /// An intake no shipment to the caller led to: kept off the public trail until the previous
    /// holder (or a regulator) confirms it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim: Option<ClaimView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<LabelCheck>,
    /// `false` when this intake was already on the trail and nothing new was written.
    pub created: bool,
}

/// Most batch-level events (no serial) one organization may add to one certificate's trail:
/// the trail is public and read by every verification, so no single party can grow it
/// without bound. Unit-level events are bounded by the units: each kind once per unit.
pub const MAX_EVENTS_PER_ORGANIZATION: usize = 50;

/// Checks `serial` names one of the certificate's units.
pub fn check_serial(cert: &Certificate, serial: Option<i64>) -> AppResult<()> {
    match (serial, cert.units) {
        (None, _) => Ok(()),
        (Some(_), None) => Err(AppError::invalid(
            "not_serialized",
            "serial",
            "this certificate has no unit serials",
        )),
        (Some(s), Some(units)) if (1..=units).contains(&s) => Ok(()),
        (Some(_), Some(units)) => Err(AppError::invalid(
            "out_of_range",
            "serial",
            format!("serial must be 1..={units}"),
        )),
    }
}

/// Most unit-level events one organization may add to one certificate's trail (each kind once
/// per unit besides): a seller takes a large run in by its batch label, not unit by unit.
pub const MAX_UNIT_EVENTS_PER_ORGANIZATION: usize = 1_000;

/// What a call wrote: a trail event, or a claim of custody waiting for confirmation.
enum Written {
    Event(EventRow, bool),
    Claim(ClaimRow, bool),
}

/// Records a custody event on certificate `id`. An intake that no shipment to the caller led to
/// is not written to the trail: it becomes a claim of custody (see [`claims`]).
pub fn record(state: &AppState, actor: &Actor, id: &str, input: NewEvent) -> AppResult<Recorded> {
    let kind = validate::pick(
        "type",
        "invalid_event_type",
        &input.kind,
        &CUSTODY_KINDS,
        EventType::as_str,
    )?;
    let org = match kind {
        EventType::Shipped => actor.require_kind(&OrgKind::HOLDERS)?,
        _ => actor.require_kind(&OrgKind::RECEIVERS)?,
    };
    let (cert, _) = certificate_with_producer(&mut *state.db.reader()?, id)?;
    let note = validate::optional_text("note", input.note.as_deref(), 500)?;
    let mut leg = match kind {
        EventType::Shipped => legs::leg_request(
            state,
            org,
            &cert,
            input.consignee.as_deref(),
            input.quantity,
        )?,
        _ => None,
    };
    let reason = match kind {
        EventType::Rejected => Some(validate::text(
            "reason",
            input.reason.as_deref().unwrap_or(""),
            500,
        )?),
        _ => None,
    };
    let claim = match kind {
        EventType::Received => Some(claims::request(
            state,
            org,
            &cert,
            input.from.as_deref(),
            input.quantity,
        )?),
        _ => None,
    };
    let (scanned, serial) = scanned_label(kind, &cert, input.label_url.as_deref(), input.serial)?;
    check_serial(&cert, serial)?;
    let check = scanned
        .as_ref()
        .map(|s| check_label(state, s))
        .transpose()?;
    let mut details = details_of(note.as_deref(), reason.as_deref(), check.as_ref());
    let written = state.write(|conn| {
        Certificate::lock(conn, &cert.id)?;
        let mine = EventRow::by_actor(conn, &cert.id, &org.id)?;
        let legs = Shipment::for_certificate(conn, &cert.id)?;
        let open = legs::open_leg(&legs, &org.id, serial);
        // Scanning the same label in again is the same intake, and a unit is shipped or sold
        // by one party once: the earlier event is the answer, nothing is written twice.
        let repeated = |e: &&EventRow| {
            e.kind == kind.as_str()
                && e.serial == serial
                && (serial.is_some() || (kind == EventType::Received && open.is_none()))
        };
        if let Some(earlier) = mine.iter().find(repeated) {
            return Ok(Written::Event(earlier.clone(), false));
        }
        // An intake along no leg is a claim, unless the party already holds these goods (a
        // holder of the lot recording its units one by one).
        if kind == EventType::Received
            && open.is_none()
            && !legs::holds(&cert.organization_id, &org.id, &legs, serial)
        {
            let Some(claim) = claim.as_ref() else {
                return Err(AppError::internal("an intake without its claim request"));
            };
            let (row, created) = claims::open(
                conn,
                claim,
                &cert,
                &org.id,
                serial,
                check.as_ref().map_or("unknown", |c| c.verdict.as_str()),
                note.clone(),
            )?;
            return Ok(Written::Claim(row, created));
        }
        check_room(&mine, serial)?;
        let holds =
            |e: &EventRow| e.kind == "received" && (e.serial.is_none() || e.serial == serial);
        match kind {
            EventType::Sold if !mine.iter().any(holds) => {
                return Err(AppError::Conflict {
                    code: "not_received",
                    message: "record intake (received) before the sale".into(),
                });
            }
            EventType::Shipped => ship_within_holding(
                conn,
                &cert,
                &org.id,
                &legs,
                serial,
                leg.as_mut(),
                &mut details,
            )?,
            EventType::Rejected if open.is_none() => {
                return Err(AppError::Conflict {
                    code: "no_open_shipment",
                    message: "nothing was shipped to you for this certificate to refuse".into(),
                });
            }
            EventType::Received | EventType::Rejected => legs::describe_intake(&mut details, open),
            _ => {}
        }
        let row = trail::append(state, conn, &cert.id, org, kind, serial, details.clone())?;
        match (kind, open, &leg) {
            (EventType::Received, Some(l), _) => {
                Shipment::close(conn, &l.id, "received", row.seq, row.at, None)?
            }
            (EventType::Rejected, Some(l), _) => {
                Shipment::close(conn, &l.id, "rejected", row.seq, row.at, reason.as_deref())?
            }
            (EventType::Shipped, _, Some(leg)) => leg.insert(conn, &cert.id, serial, &row)?,
            _ => {}
        }
        Ok(Written::Event(row, true))
    })?;
    Ok(match written {
        Written::Event(row, created) => Recorded {
            event: Some(trail::present(std::slice::from_ref(&row)).remove(0)),
            claim: None,
            label: check,
            created,
        },
        Written::Claim(row, created) => Recorded {
            event: None,
            claim: Some(claims::view(state, row)?),
            label: check,
            created,
        },
    })
}

/// The label the event's party scanned, checked against the certificate and the unit named,
/// with the unit it names (an intake must scan one; a unit's intake scans the unit's own).
fn scanned_label(
    kind: EventType,
    cert: &Certificate,
    label_url: Option<&str>,
    serial: Option<i64>,
) -> AppResult<(Option<label::ScannedLabel>, Option<i64>)> {
    let mut serial = serial;
    let scanned = match label_url.map(str::trim).filter(|u| !u.is_empty()) {
        None if kind == EventType::Received => {
            return Err(AppError::invalid(
                "required",
                "label_url",
                "intake records the scanned label_url",
            ));
        }
        None => None,
        Some(text) => {
            let scanned = label::parse("label_url", text)?;
            if scanned.id != cert.id {
                return Err(AppError::invalid(
                    "label_mismatch",
                    "label_url",
                    "the label names another certificate",
                ));
            }
            if serial.is_some() && scanned.serial.is_some() && serial != scanned.serial {
                return Err(AppError::invalid(
                    "label_mismatch",
                    "serial",
                    "serial differs from the label's unit",
                ));
            }
            // A batch label is printed on every package of the batch: it says nothing about
            // which unit was taken in. A unit's intake scans that unit's own label.
            if kind == EventType::Received && serial.is_some() && scanned.serial.is_none() {
                return Err(AppError::invalid(
                    "unit_label_required",
                    "label_url",
                    "a unit's intake scans the unit's own label, not the batch label",
                ));
            }
            serial = serial.or(scanned.serial);
            Some(scanned)
        }
    };
    Ok((scanned, serial))
}

/// The verdict of the scanned label, as a seller's check at intake sees it.
fn check_label(state: &AppState, s: &label::ScannedLabel) -> AppResult<LabelCheck> {
    let label = Label {
        id: &s.id,
        serial: s.serial,
        signature: s.signature.as_deref(),
    };
    let answer = verify(state, &label, Source::Check)?;
    Ok(LabelCheck {
        verdict: answer.verdict,
        reasons: answer.reasons,
    })
}

/// The event's details: its note, a refusal's reason, the scanned label's verdict.
fn details_of(
    note: Option<&str>,
    reason: Option<&str>,
    check: Option<&LabelCheck>,
) -> Map<String, Value> {
    let mut details = Map::new();
    if let Some(note) = note {
        details.insert("note".into(), Value::String(note.to_string()));
    }
    if let Some(reason) = reason {
        details.insert("reason".into(), Value::String(reason.to_string()));
    }
    if let Some(check) = check {
        details.insert(
            "label_verdict".into(),
            Value::String(check.verdict.as_str().into()),
        );
        details.insert("label_reasons".into(), check.reasons.clone().into());
    }
    details
}

/// Refuses an event beyond what one party may add to one certificate (batch-level and
/// unit-level events counted apart).
fn check_room(mine: &[EventRow], serial: Option<i64>) -> AppResult<()> {
    let level = |e: &&EventRow| e.serial.is_some() == serial.is_some();
    let (count, limit) = match serial {
        None => (MAX_EVENTS_PER_ORGANIZATION, "batch-level"),
        Some(_) => (MAX_UNIT_EVENTS_PER_ORGANIZATION, "unit-level"),
    };
    if mine.iter().filter(level).count() >= count {
        return Err(AppError::Conflict {
            code: "too_many_events",
            message: format!(
                "an organization may add at most {count} {limit} events to one certificate"
            ),
        });
    }
    Ok(())
}

/// A shipment is made by a holder of the goods, and of no more than it holds: a unit it
/// still has, or a quantity within its share (all of it when none is stated).
fn ship_within_holding(
    conn: &mut crate::db::DbConn,
    cert: &Certificate,
    org_id: &str,
    legs: &[Shipment],
    serial: Option<i64>,
    leg: Option<&mut legs::LegRequest>,
    details: &mut Map<String, Value>,
) -> AppResult<()> {
    if !legs::holds(&cert.organization_id, org_id, legs, serial) {
        return Err(AppError::Forbidden(
            "only the issuer or a party the goods were shipped to ships them".into(),
        ));
    }
    if let Some(leg) = leg {
        let held = legs::holding_now(conn, cert, org_id)?;
        match serial {
            Some(s) if !legs::holds_unit(org_id, legs, s, held) => {
                return Err(AppError::Conflict {
                    code: "nothing_held",
                    message: format!(
                        "you do not hold unit {s}: it was shipped on, or your share of the lot is used up"
                    ),
                });
            }
            Some(_) => {}
            None => {
                let quantity = leg.quantity.unwrap_or(held);
                if held <= 0 || quantity > held {
                    return Err(legs::exceeds_holding(held));
                }
                leg.quantity = Some(quantity);
            }
        }
        leg.describe(details);
    }
    Ok(())
}
