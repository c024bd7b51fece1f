//! Legs of custody between the links of the chain: a holder ships to a named consignee (a
//! wholesaler, market operator or retailer); the consignee's intake or refusal closes the leg.
//! An intake nobody shipped to is a copy signal; a refusal shows on the sender's console.

use chrono::NaiveDateTime;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::crypto::random::new_id;
use crate::db::models::shipment::{LegRow, Shipment};
use crate::db::models::{Certificate, EventRow, Organization};
use crate::db::DbConn;
use crate::domain::role::OrgKind;
use crate::error::{AppError, AppResult};

use super::{checked_id, Actor, AppState};

/// A shipment's consignee and quantity, checked before the event is written.
#[derive(Debug, Clone)]
pub struct LegRequest {
    pub consignee: Organization,
    pub quantity: Option<i64>,
}

/// Checks the consignee and quantity a `shipped` event names; `None` when it names no
/// consignee (a leg nobody closes).
pub fn leg_request(
    state: &AppState,
    shipper: &Organization,
    cert: &Certificate,
    consignee: Option<&str>,
    quantity: Option<i64>,
) -> AppResult<Option<LegRequest>> {
    let batch = batch_quantity(cert);
    if let Some(q) = quantity {
        if q < 1 || q > batch {
            return Err(AppError::invalid(
                "out_of_range",
                "quantity",
                format!("quantity must be 1..={batch}"),
            ));
        }
    }
    let Some(id) = consignee.map(str::trim).filter(|c| !c.is_empty()) else {
        if quantity.is_some() {
            return Err(AppError::invalid(
                "required",
                "consignee",
                "a shipped quantity travels to a named consignee",
            ));
        }
        return Ok(None);
    };
    let id = checked_id(id, "consignee")?;
    let found = Organization::find(&mut *state.db.reader()?, id)?;
    let consignee = match found {
        Some(o) if o.deactivated_at.is_none() && OrgKind::RECEIVERS.contains(&o.kind()) => o,
        _ => {
            return Err(AppError::invalid(
                "unknown_consignee",
                "consignee",
                "consignee must name an active wholesaler, market operator or retailer",
            ))
        }
    };
    if consignee.id == shipper.id {
        return Err(AppError::invalid(
            "unknown_consignee",
            "consignee",
            "goods are shipped to another party",
        ));
    }
    Ok(Some(LegRequest {
        consignee,
        quantity,
    }))
}

/// The quantity of a certificate's batch, as signed (`batch.quantity`).
pub fn batch_quantity(cert: &Certificate) -> i64 {
    serde_json::from_str::<Value>(&cert.payload)
        .ok()
        .and_then(|p| p.pointer("/batch/quantity").and_then(Value::as_i64))
        .unwrap_or(0)
}

impl LegRequest {
    /// What the `shipped` event says of the leg (the trail is public: names, not contacts).
    pub fn describe(&self, details: &mut Map<String, Value>) {
        details.insert("consignee".into(), self.consignee.id.clone().into());
        details.insert("consignee_name".into(), self.consignee.name.clone().into());
        if let Some(q) = self.quantity {
            details.insert("quantity".into(), q.into());
        }
    }

    /// Opens the leg the `shipped` event `row` started.
    pub fn insert(
        &self,
        conn: &mut DbConn,
        certificate_id: &str,
        serial: Option<i64>,
        row: &EventRow,
    ) -> AppResult<()> {
        Shipment {
            id: new_id(),
            certificate_id: certificate_id.to_string(),
            serial,
            shipper_id: row.actor_id.clone(),
            consignee_id: self.consignee.id.clone(),
            quantity: self.quantity,
            shipped_seq: row.seq,
            shipped_at: row.at,
            status: "open".into(),
            closed_seq: None,
            closed_at: None,
            reason: None,
        }
        .insert(conn)?;
        Ok(())
    }
}

/// The open leg to `consignee` that an intake of `serial` closes: one for that unit first,
/// else one for the whole batch.
pub fn open_leg<'a>(
    legs: &'a [Shipment],
    consignee: &str,
    serial: Option<i64>,
) -> Option<&'a Shipment> {
    let open = |l: &&Shipment| l.status == "open" && l.consignee_id == consignee;
    legs.iter()
        .filter(open)
        .find(|l| serial.is_some() && l.serial == serial)
        .or_else(|| legs.iter().filter(open).find(|l| l.serial.is_none()))
}

/// What an intake or refusal says of the leg it closes. `unexpected`: goods were shipped
/// along named legs, none of them to this party (a copy signal).
pub fn describe_intake(details: &mut Map<String, Value>, leg: Option<&Shipment>, unexpected: bool) {
    if let Some(leg) = leg {
        details.insert("shipped_seq".into(), leg.shipped_seq.into());
    }
    if unexpected {
        details.insert("unexpected".into(), true.into());
    }
}

/// Whether `org` holds the goods of a certificate issued by `issuer` (for `serial`, or the
/// batch): it issued them, or took them in along a shipment to it, or recorded an intake
/// whose label verified genuine and that was not one nobody shipped to. An intake of a
/// guessed id with no label, or of a failed label, makes nobody a holder.
pub fn holds(
    issuer: &str,
    org: &str,
    mine: &[EventRow],
    legs: &[Shipment],
    serial: Option<i64>,
) -> bool {
    let covers = |s: Option<i64>| s.is_none() || s == serial;
    issuer == org
        || legs
            .iter()
            .any(|l| l.consignee_id == org && l.status == "received" && covers(l.serial))
        || mine.iter().any(|e| {
            e.kind == "received"
                && covers(e.serial)
                && serde_json::from_str::<crate::domain::trail::EventBody>(&e.body).is_ok_and(|b| {
                    !is_unexpected(&b.details)
                        && b.details.get("label_verdict").and_then(Value::as_str) == Some("genuine")
                })
        })
}

/// Whether an intake event was flagged as one nobody shipped to.
pub fn is_unexpected(body: &Map<String, Value>) -> bool {
    body.get("unexpected").and_then(Value::as_bool) == Some(true)
}

/// A leg as the consoles list it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Leg {
    pub certificate_id: String,
    pub batch_no: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<i64>,
    /// The other party: the shipper of goods coming in, the consignee of goods refused.
    pub party: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<i64>,
    pub shipped_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

fn minute(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
}

impl From<LegRow> for Leg {
    fn from(row: LegRow) -> Self {
        Leg {
            certificate_id: row.shipment.certificate_id,
            batch_no: row.batch_no,
            serial: row.shipment.serial,
            party: row.party,
            quantity: row.shipment.quantity,
            shipped_at: minute(row.shipment.shipped_at),
            closed_at: row.shipment.closed_at.map(minute),
            reason: row.shipment.reason,
        }
    }
}

/// Legs on a console: goods on their way to `org`, and goods `org` sent that were refused.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Legs {
    pub incoming: Vec<Leg>,
    pub rejected: Vec<Leg>,
}

/// Most legs of each list a console shows.
pub const LEGS_SHOWN: i64 = 50;

/// The legs of the acting organization (a holder of goods).
pub fn for_actor(state: &AppState, actor: &Actor) -> AppResult<Legs> {
    let org = actor.require_kind(&OrgKind::HOLDERS)?;
    legs(&mut *state.db.reader()?, &org.id)
}

/// The legs `org`'s console lists.
pub fn legs(conn: &mut DbConn, org: &str) -> AppResult<Legs> {
    Ok(Legs {
        incoming: Shipment::incoming(conn, org, LEGS_SHOWN)?
            .into_iter()
            .map(Leg::from)
            .collect(),
        rejected: Shipment::rejected_from(conn, org, LEGS_SHOWN)?
            .into_iter()
            .map(Leg::from)
            .collect(),
    })
}
