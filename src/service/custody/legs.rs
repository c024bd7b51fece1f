//! Legs of custody between the links of the chain: a holder ships to a named consignee (a
//! wholesaler, market operator or retailer); the consignee's intake or refusal closes the leg.
//! An intake nobody shipped to is a claim of custody (see [`crate::service::custody::claims`]); a refusal shows on
//! the sender's console. What each party holds is counted from its legs: nobody ships or
//! re-issues goods it was not given, nor uses up another party's.

use chrono::NaiveDateTime;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::crypto::random::new_id;
use crate::db::models::lineage::CertificateParent;
use crate::db::models::shipment::{LegRow, Shipment};
use crate::db::models::{Certificate, EventRow, Organization};
use crate::db::DbConn;
use crate::domain::role::OrgKind;
use crate::error::{AppError, AppResult};

use crate::service::{checked_id, Actor, AppState};

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
    check_quantity(cert, quantity)?;
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

/// Checks a quantity of a certificate's goods: 1 to the batch's quantity.
pub fn check_quantity(cert: &Certificate, quantity: Option<i64>) -> AppResult<()> {
    match quantity {
        Some(q) => crate::domain::validate::count("quantity", q, 1, batch_quantity(cert))
            .map(drop)
            .map_err(AppError::from),
        None => Ok(()),
    }
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

/// What an intake or refusal says of the leg it closes.
pub fn describe_intake(details: &mut Map<String, Value>, leg: Option<&Shipment>) {
    if let Some(leg) = leg {
        details.insert("shipped_seq".into(), leg.shipped_seq.into());
    }
}

/// Legs that still count: open (in transit) or taken in; a refused leg returned the goods.
fn counts(leg: &Shipment) -> bool {
    leg.status != "rejected"
}

/// Whether `org` ever held the goods of a certificate issued by `issuer` (for `serial`, or
/// the batch): it issued them, or took them in along a leg shipped to it (a shipment it
/// closed by intake, or a claim of custody its previous holder or a regulator confirmed). An
/// intake no leg led to makes nobody a holder until it is confirmed.
pub fn holds(issuer: &str, org: &str, legs: &[Shipment], serial: Option<i64>) -> bool {
    let covers = |s: Option<i64>| s.is_none() || s == serial;
    issuer == org
        || legs
            .iter()
            .any(|l| l.consignee_id == org && l.status == "received" && covers(l.serial))
}

/// Whether `org` holds unit `serial` now, given what it holds of the lot (`held`, see
/// [`holding`]): it has not shipped that unit on, and either took that very unit in along a
/// unit leg, or still holds at least one of the lot (each unit it ships from its share counts
/// against it).
pub fn holds_unit(org: &str, legs: &[Shipment], serial: i64, held: i64) -> bool {
    let shipped_on = legs
        .iter()
        .any(|l| l.shipper_id == org && l.serial == Some(serial) && counts(l));
    !shipped_on && (received_unit(org, legs, serial) || held >= 1)
}

/// Whether `org` took unit `serial` in along a leg of that unit.
fn received_unit(org: &str, legs: &[Shipment], serial: i64) -> bool {
    legs.iter()
        .any(|l| l.consignee_id == org && l.serial == Some(serial) && l.status == "received")
}

/// How much of a lot of `batch` `org` holds now, in the batch's unit: what it took in (the
/// whole batch for its issuer, plus every lot leg to it it closed by intake) less what it
/// passed on (lot legs it shipped that were not refused, units it shipped from its share, and
/// what it re-issued from the lot as child lots, `reissued`). A unit it took in along a leg of
/// its own is that unit only: it adds nothing to the share, and shipping it on takes nothing
/// from it. A leg recorded without a quantity carried the whole batch.
pub fn holding(batch: i64, issuer: &str, org: &str, legs: &[Shipment], reissued: i64) -> i64 {
    let quantity = |l: &Shipment| l.quantity.unwrap_or(batch);
    let lot_legs = || legs.iter().filter(|l| l.serial.is_none());
    let took_in: i64 = if issuer == org { batch } else { 0 }
        + lot_legs()
            .filter(|l| l.consignee_id == org && l.status == "received")
            .map(quantity)
            .sum::<i64>();
    let units_from_share = legs
        .iter()
        .filter(|l| l.shipper_id == org && counts(l))
        .filter_map(|l| l.serial)
        .filter(|s| !received_unit(org, legs, *s))
        .count() as i64;
    let passed_on: i64 = lot_legs()
        .filter(|l| l.shipper_id == org && counts(l))
        .map(quantity)
        .sum::<i64>()
        + units_from_share
        + reissued;
    took_in - passed_on
}

/// What `org` holds of certificate `cert` now (see [`holding`]), read inside the caller's
/// transaction after the certificate's row is locked.
pub fn holding_now(conn: &mut DbConn, cert: &Certificate, org: &str) -> AppResult<i64> {
    let legs = Shipment::for_certificate(conn, &cert.id)?;
    let reissued = CertificateParent::reissued_by(conn, &cert.id, org)?;
    Ok(holding(
        batch_quantity(cert),
        &cert.organization_id,
        org,
        &legs,
        reissued,
    ))
}

/// The refusal of a quantity beyond what a party holds.
pub fn exceeds_holding(held: i64) -> AppError {
    match held {
        h if h <= 0 => AppError::Conflict {
            code: "nothing_held",
            message: "you hold none of this lot now: it was shipped on or re-issued".into(),
        },
        h => AppError::Conflict {
            code: "exceeds_holding",
            message: format!("you hold {h} of this lot now: ship or re-issue at most that"),
        },
    }
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
