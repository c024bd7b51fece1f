//! Custody events: a holder ships to a named consignee; the consignee records intake (进货查验:
//! the scanned label is verified and the verdict it saw is recorded, even a failed one) or
//! refuses the goods; a seller records the sale. Legs themselves live in [`custody`].

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::db::models::shipment::Shipment;
use crate::db::models::{Certificate, EventRow, Organization};
use crate::db::DbConn;
use crate::domain::label;
use crate::domain::role::OrgKind;
use crate::domain::trail::EventType;
use crate::domain::validate;
use crate::domain::verdict::Verdict;
use crate::error::{AppError, AppResult};

use super::custody;
use super::trail::{self, TrailEvent};
use super::verify::{verify, Label, Source};
use super::{checked_id, Actor, AppState};

/// `POST /api/v1/certificates/{id}/events`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEvent {
    /// `shipped` (a holder: the producer, or anyone who took the goods in), `received` or
    /// `rejected` (the consignee: a wholesaler, market operator or retailer), `sold`
    /// (a receiver).
    #[serde(rename = "type")]
    pub kind: String,
    /// The unit, for serialized certificates.
    pub serial: Option<i64>,
    /// The scanned QR content; verified and recorded with its verdict. Required for `received`.
    pub label_url: Option<String>,
    pub note: Option<String>,
    /// `shipped`: the organization id of the consignee, whose intake closes this leg.
    pub consignee: Option<String>,
    /// `shipped`: how much of the batch travels on this leg (in the batch's unit).
    pub quantity: Option<i64>,
    /// `rejected`: why the goods were refused.
    pub reason: Option<String>,
}

/// What a label check saw.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LabelCheck {
    pub verdict: Verdict,
    pub reasons: Vec<String>,
}

/// The recorded event, with the label check if a label was scanned.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Recorded {
    pub event: TrailEvent,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<LabelCheck>,
    /// `false` when this intake was already on the trail and nothing new was written.
    pub created: bool,
}

/// Most batch-level events (no serial) one organization may add to one certificate's trail:
/// the trail is public and read by every verification, so no single party can grow it
/// without bound. Unit-level events are bounded by the units: each kind once per unit.
pub const MAX_EVENTS_PER_ORGANIZATION: usize = 50;

/// Loads a certificate and the producer that issued it.
pub fn certificate_with_producer(
    conn: &mut DbConn,
    id: &str,
) -> AppResult<(Certificate, Organization)> {
    let cert = Certificate::find(conn, checked_id(id, "certificate")?)?
        .ok_or_else(|| AppError::not_found("certificate"))?;
    let producer = Organization::find(conn, &cert.organization_id)?
        .ok_or_else(|| AppError::internal(format!("certificate {id} has no producer")))?;
    Ok((cert, producer))
}

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

/// Records a custody event on certificate `id`.
pub fn record(state: &AppState, actor: &Actor, id: &str, input: NewEvent) -> AppResult<Recorded> {
    let kind = match input.kind.trim() {
        "shipped" => EventType::Shipped,
        "received" => EventType::Received,
        "rejected" => EventType::Rejected,
        "sold" => EventType::Sold,
        _ => {
            return Err(AppError::invalid(
                "invalid_event_type",
                "type",
                "type must be shipped, received, rejected or sold",
            ))
        }
    };
    let org = match kind {
        EventType::Shipped => actor.require_kind(&OrgKind::HOLDERS)?,
        _ => actor.require_kind(&OrgKind::RECEIVERS)?,
    };
    let (cert, _) = certificate_with_producer(&mut *state.db.reader()?, id)?;
    let note = validate::optional_text("note", input.note.as_deref(), 500)?;
    let leg = match kind {
        EventType::Shipped => custody::leg_request(
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
    let mut serial = input.serial;
    let scanned = match input
        .label_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
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
            serial = serial.or(scanned.serial);
            Some(scanned)
        }
    };
    check_serial(&cert, serial)?;
    let check = match &scanned {
        None => None,
        Some(s) => {
            let label = Label {
                id: &s.id,
                serial: s.serial,
                signature: s.signature.as_deref(),
            };
            let answer = verify(state, &label, Source::Check)?;
            Some(LabelCheck {
                verdict: answer.verdict,
                reasons: answer.reasons,
            })
        }
    };
    let mut details = Map::new();
    if let Some(note) = note {
        details.insert("note".into(), Value::String(note));
    }
    if let Some(reason) = &reason {
        details.insert("reason".into(), Value::String(reason.clone()));
    }
    if let Some(check) = &check {
        details.insert(
            "label_verdict".into(),
            Value::String(check.verdict.as_str().into()),
        );
        details.insert("label_reasons".into(), check.reasons.clone().into());
    }
    if let Some(leg) = &leg {
        leg.describe(&mut details);
    }
    let (row, created) = state.write(|conn| {
        Certificate::lock(conn, &cert.id)?;
        let mine = EventRow::by_actor(conn, &cert.id, &org.id)?;
        let legs = Shipment::for_certificate(conn, &cert.id)?;
        let open = custody::open_leg(&legs, &org.id, serial);
        // Scanning the same label in again is the same intake, and a unit is shipped or sold
        // by one party once: the earlier event is the answer, nothing is written twice.
        let repeated = |e: &&EventRow| {
            e.kind == kind.as_str()
                && e.serial == serial
                && (serial.is_some() || (kind == EventType::Received && open.is_none()))
        };
        if let Some(earlier) = mine.iter().find(repeated) {
            return Ok((earlier.clone(), false));
        }
        let batch_level = mine.iter().filter(|e| e.serial.is_none()).count();
        if serial.is_none() && batch_level >= MAX_EVENTS_PER_ORGANIZATION {
            return Err(AppError::Conflict {
                code: "too_many_events",
                message: format!(
                    "an organization may add at most {MAX_EVENTS_PER_ORGANIZATION} batch-level events to one certificate"
                ),
            });
        }
        let holds = |e: &EventRow| {
            e.kind == "received" && (e.serial.is_none() || e.serial == serial)
        };
        match kind {
            EventType::Sold if !mine.iter().any(holds) => {
                return Err(AppError::Conflict {
                    code: "not_received",
                    message: "record intake (received) before the sale".into(),
                });
            }
            EventType::Shipped
                if !custody::holds(&cert.organization_id, &org.id, &mine, &legs, serial) =>
            {
                return Err(AppError::Forbidden(
                    "only the issuer or a party that took the goods in ships them".into(),
                ));
            }
            EventType::Rejected if open.is_none() => {
                return Err(AppError::Conflict {
                    code: "no_open_shipment",
                    message: "nothing was shipped to you for this certificate to refuse".into(),
                });
            }
            EventType::Received => {
                let unexpected = open.is_none() && legs.iter().any(|l| l.serial.is_none() || l.serial == serial);
                custody::describe_intake(&mut details, open, unexpected);
            }
            EventType::Rejected => custody::describe_intake(&mut details, open, false),
            _ => {}
        }
        let row = trail::append(state, conn, &cert.id, org, kind, serial, details)?;
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
        Ok((row, true))
    })?;
    Ok(Recorded {
        event: trail::present(std::slice::from_ref(&row)).remove(0),
        label: check,
        created,
    })
}
