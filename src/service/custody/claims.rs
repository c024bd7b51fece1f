//! Claims of custody: a hand-over nobody recorded. A wholesaler, market or stall that takes
//! goods in along no shipment to it (a farmer selling at a market, a supplier not on the
//! platform yet) records its intake all the same; that intake is a *claim*, not a trail event.
//! It stays off the public trail, changes no consumer's answer and makes nobody a holder until
//! the party it names as the previous holder (the issuer unless it names another) or a
//! regulator of the producer's region confirms it. Confirmation writes the intake to the trail
//! as a `received` event on a leg from that holder, taken from what that holder holds; a
//! dispute keeps the claim for the issuer and the regulator to see.
//!
//! Longer than 400 lines because a claim's life (asked, opened, confirmed onto the trail, disputed, listed) is one state machine; confirming is most of it.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map};

use crate::crypto::random::new_id;
use crate::db::models::claim::{ClaimListRow, ClaimRow, ClaimScope};
use crate::db::models::shipment::Shipment;
use crate::db::models::{now, Certificate, Organization};
use crate::db::DbConn;
use crate::domain::role::OrgKind;
use crate::domain::trail::EventType;
use crate::domain::{region, validate};
use crate::error::{AppError, AppResult};

use crate::service::certificate_with_producer;
use crate::service::custody::legs;
use crate::service::{audit, checked_id, trail, Actor, AppState};

/// Most claims one organization may have waiting at once: a stranger cannot fill a producer's
/// or a regulator's lists.
pub const MAX_PENDING_CLAIMS: i64 = 200;

/// Most claims a list shows.
pub const CLAIMS_SHOWN: i64 = 200;

/// A claim's states, as a list filters them.
pub const STATES: [&str; 3] = ["pending", "confirmed", "disputed"];

/// A claim's source and quantity, checked before the intake is written.
#[derive(Debug, Clone)]
pub struct ClaimRequest {
    pub source: Organization,
    pub quantity: Option<i64>,
}

/// Checks what an intake says of a hand-over nobody recorded: the party that handed the goods
/// over (`from`, default the issuer) and how much.
pub fn request(
    state: &AppState,
    claimant: &Organization,
    cert: &Certificate,
    from: Option<&str>,
    quantity: Option<i64>,
) -> AppResult<ClaimRequest> {
    legs::check_quantity(cert, quantity)?;
    let id = match from.map(str::trim).filter(|f| !f.is_empty()) {
        Some(f) => checked_id(f, "from")?,
        None => cert.organization_id.as_str(),
    };
    let source = Organization::find(&mut *state.db.reader()?, id)?
        .filter(|o| o.deactivated_at.is_none() && o.id != claimant.id)
        .filter(|o| OrgKind::HOLDERS.contains(&o.kind()))
        .ok_or_else(|| {
            AppError::invalid(
                "unknown_source",
                "from",
                "from must name the active producer, wholesaler, market or retailer that handed the goods over",
            )
        })?;
    Ok(ClaimRequest { source, quantity })
}

/// Opens the claim of an intake no leg led to (inside the intake's transaction); an earlier
/// pending claim of the same goods is the answer instead.
pub fn open(
    conn: &mut DbConn,
    req: &ClaimRequest,
    cert: &Certificate,
    claimant: &str,
    serial: Option<i64>,
    label_verdict: &str,
    note: Option<String>,
) -> AppResult<(ClaimRow, bool)> {
    if let Some(earlier) = ClaimRow::pending_of(conn, &cert.id, claimant, serial)? {
        return Ok((earlier, false));
    }
    if ClaimRow::pending_count(conn, claimant)? >= MAX_PENDING_CLAIMS {
        return Err(AppError::Conflict {
            code: "too_many_claims",
            message: format!(
                "an organization has at most {MAX_PENDING_CLAIMS} claims of custody waiting; ask their sources to confirm them"
            ),
        });
    }
    let row = ClaimRow {
        id: new_id(),
        certificate_id: cert.id.clone(),
        serial,
        claimant_id: claimant.to_string(),
        source_id: req.source.id.clone(),
        quantity: serial.is_none().then_some(req.quantity).flatten(),
        label_verdict: label_verdict.to_string(),
        note,
        status: "pending".into(),
        created_at: now(),
        decided_by: None,
        decided_at: None,
        reason: None,
        received_seq: None,
    };
    row.insert(conn)?;
    Ok((row, true))
}

/// A party to a claim, by name.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Party {
    pub id: String,
    pub name: String,
}

/// A claim of custody as the parties and regulators see it (never public).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClaimView {
    pub id: String,
    pub certificate_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<i64>,
    /// Who says it took the goods in.
    pub claimant: Party,
    /// Who it says handed them over: confirms or disputes.
    pub source: Party,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<i64>,
    /// The verdict of the label scanned at intake.
    pub label_verdict: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// `pending`, `confirmed` or `disputed`.
    pub status: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The trail's `received` event a confirmation wrote.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_seq: Option<i64>,
}

fn rfc3339(at: NaiveDateTime) -> String {
    crate::domain::payload::rfc3339_seconds(at.and_utc())
}

fn party(conn: &mut DbConn, id: &str) -> AppResult<Party> {
    let name = Organization::find(conn, id)?
        .map(|o| o.name)
        .unwrap_or_default();
    Ok(Party {
        id: id.to_string(),
        name,
    })
}

fn present(conn: &mut DbConn, row: ClaimRow, batch_no: Option<String>) -> AppResult<ClaimView> {
    Ok(ClaimView {
        claimant: party(conn, &row.claimant_id)?,
        source: party(conn, &row.source_id)?,
        id: row.id,
        certificate_id: row.certificate_id,
        batch_no,
        serial: row.serial,
        quantity: row.quantity,
        label_verdict: row.label_verdict,
        note: row.note,
        status: row.status,
        created_at: rfc3339(row.created_at),
        decided_at: row.decided_at.map(rfc3339),
        reason: row.reason,
        received_seq: row.received_seq,
    })
}

/// One claim as its claimant sees it after the intake.
pub fn view(state: &AppState, row: ClaimRow) -> AppResult<ClaimView> {
    present(&mut *state.db.reader()?, row, None)
}

/// `POST /api/v1/claims/{id}/confirm` and `/dispute`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimDecision {
    /// Confirming a claim on a lot: how much was handed over (default: the claim's quantity;
    /// required when the claim named none: a confirmation never hands over "all").
    #[serde(
        default,
        deserialize_with = "crate::domain::request::optional_whole_number"
    )]
    #[schema(minimum = 1, maximum = 1000000000)]
    pub quantity: Option<i64>,
    /// Disputing: why (required).
    #[schema(value_type = Option<crate::domain::request::Text500>)]
    pub reason: Option<String>,
}

/// Who may decide a claim: the source it names, or a regulator of the producer's region.
fn decider<'a>(
    actor: &'a Actor,
    claim: &ClaimRow,
    producer: &Organization,
) -> AppResult<&'a Organization> {
    match actor {
        Actor::Org(org) if org.id == claim.source_id => Ok(org),
        Actor::Org(org)
            if org.kind() == OrgKind::Regulator
                && region::within(&org.region_code, &producer.region_code) =>
        {
            Ok(org)
        }
        _ => Err(AppError::Forbidden(
            "only the party named as the previous holder, or a regulator of the producer's region, decides this claim"
                .into(),
        )),
    }
}

fn load(state: &AppState, id: &str) -> AppResult<(ClaimRow, Certificate, Organization)> {
    let mut conn = state.db.reader()?;
    let claim = ClaimRow::find(&mut conn, checked_id(id, "claim")?)?
        .ok_or_else(|| AppError::not_found("claim"))?;
    let (cert, producer) = certificate_with_producer(&mut conn, &claim.certificate_id)?;
    Ok((claim, cert, producer))
}

fn decided() -> AppError {
    AppError::Conflict {
        code: "claim_decided",
        message: "this claim was already confirmed or disputed".into(),
    }
}

/// Confirms a claim: the intake goes on the trail as a `received` event on a leg from the
/// source, and what was handed over leaves the source's holding. All in one transaction.
pub fn confirm(
    state: &AppState,
    actor: &Actor,
    id: &str,
    decision: ClaimDecision,
) -> AppResult<ClaimView> {
    let (claim, cert, producer) = load(state, id)?;
    let by = decider(actor, &claim, &producer)?.clone();
    if claim.status != "pending" {
        return Err(decided());
    }
    if claim.label_verdict != "genuine" {
        return Err(AppError::Conflict {
            code: "label_not_genuine",
            message: "the label scanned at this intake did not verify: such a claim is kept for the regulator, never confirmed".into(),
        });
    }
    let asked = decision.quantity.or(claim.quantity);
    legs::check_quantity(&cert, asked)?;
    if claim.serial.is_none() && asked.is_none() {
        return Err(AppError::invalid(
            "required",
            "quantity",
            "say how much was handed over: the claim named no quantity",
        ));
    }
    let claimant = Organization::find(&mut *state.db.reader()?, &claim.claimant_id)?
        .ok_or_else(|| AppError::internal(format!("claim {} has no claimant", claim.id)))?;
    let source_name = Organization::find(&mut *state.db.reader()?, &claim.source_id)?
        .map(|o| o.name)
        .unwrap_or_default();
    let row = state.write(|conn| {
        Certificate::lock(conn, &cert.id)?;
        let claim = ClaimRow::find(conn, &claim.id)?.ok_or_else(|| AppError::not_found("claim"))?;
        if claim.status != "pending" {
            return Err(decided());
        }
        let legs = Shipment::for_certificate(conn, &cert.id)?;
        let quantity = match claim.serial {
            Some(s) => {
                let held = legs::holding_now(conn, &cert, &claim.source_id)?;
                if !legs::holds_unit(&claim.source_id, &legs, s, held) {
                    return Err(AppError::Conflict {
                        code: "source_not_holding",
                        message: format!("{source_name} does not hold unit {s}"),
                    });
                }
                None
            }
            None => {
                let held = legs::holding_now(conn, &cert, &claim.source_id)?;
                let q = asked.unwrap_or(0);
                if held <= 0 || q > held {
                    return Err(AppError::Conflict {
                        code: "source_not_holding",
                        message: format!(
                            "{source_name} holds {} of this lot now: it cannot have handed over {q}",
                            held.max(0)
                        ),
                    });
                }
                Some(q)
            }
        };
        let mut details = Map::new();
        details.insert("label_verdict".into(), claim.label_verdict.clone().into());
        details.insert("from".into(), claim.source_id.clone().into());
        details.insert("from_name".into(), source_name.clone().into());
        if let Some(q) = quantity {
            details.insert("quantity".into(), q.into());
        }
        details.insert("claimed_at".into(), rfc3339(claim.created_at).into());
        details.insert("confirmed_by".into(), by.id.clone().into());
        details.insert("confirmed_by_name".into(), by.name.clone().into());
        let row = trail::append(
            state,
            conn,
            &cert.id,
            &claimant,
            EventType::Received,
            claim.serial,
            details,
        )?;
        Shipment {
            id: new_id(),
            certificate_id: cert.id.clone(),
            serial: claim.serial,
            shipper_id: claim.source_id.clone(),
            consignee_id: claim.claimant_id.clone(),
            quantity,
            shipped_seq: row.seq,
            shipped_at: claim.created_at,
            status: "received".into(),
            closed_seq: Some(row.seq),
            closed_at: Some(row.at),
            reason: None,
        }
        .insert(conn)?;
        if !ClaimRow::decide(conn, &claim.id, "confirmed", &by.id, row.at, None, Some(row.seq))? {
            return Err(decided());
        }
        audit::record(
            conn,
            actor,
            &producer.region_code,
            "claim.confirm",
            &claim.id,
            json!({"certificate_id": cert.id, "quantity": quantity, "serial": claim.serial}),
        )?;
        Ok(row)
    })?;
    let mut conn = state.db.reader()?;
    let claim =
        ClaimRow::find(&mut conn, &claim.id)?.ok_or_else(|| AppError::not_found("claim"))?;
    debug_assert_eq!(claim.received_seq, Some(row.seq));
    present(&mut conn, claim, Some(cert.batch_no))
}

/// Disputes a claim: the source (or a regulator) says the goods were not handed over. The
/// claim stays, disputed, for the issuer and the regulator.
pub fn dispute(
    state: &AppState,
    actor: &Actor,
    id: &str,
    decision: ClaimDecision,
) -> AppResult<ClaimView> {
    let (claim, cert, producer) = load(state, id)?;
    let by = decider(actor, &claim, &producer)?.clone();
    let reason = validate::text("reason", decision.reason.as_deref().unwrap_or(""), 500)?;
    state.write(|conn| {
        if !ClaimRow::decide(
            conn,
            &claim.id,
            "disputed",
            &by.id,
            now(),
            Some(&reason),
            None,
        )? {
            return Err(decided());
        }
        audit::record(
            conn,
            actor,
            &producer.region_code,
            "claim.dispute",
            &claim.id,
            json!({"certificate_id": cert.id, "reason": reason}),
        )
    })?;
    let mut conn = state.db.reader()?;
    let claim =
        ClaimRow::find(&mut conn, &claim.id)?.ok_or_else(|| AppError::not_found("claim"))?;
    present(&mut conn, claim, Some(cert.batch_no))
}

/// `GET /api/v1/claims?status=…`: for an organization, the claims it made, that name it as the
/// source, or that are about goods it issued; for a regulator, those about goods of its region.
pub fn list(state: &AppState, actor: &Actor, status: Option<&str>) -> AppResult<Vec<ClaimView>> {
    let status = match status.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(validate::one_of("status", "invalid_status", s, &STATES)?),
    };
    let org = match actor {
        Actor::Org(org) => org,
        Actor::Admin => {
            return Err(AppError::Forbidden(
                "claims are listed for organizations and regulators".into(),
            ))
        }
    };
    let scope = match org.kind() {
        OrgKind::Regulator => ClaimScope::Region(region::prefix(&org.region_code)),
        _ => ClaimScope::Party(&org.id),
    };
    let mut conn = state.db.reader()?;
    let rows = ClaimRow::list(&mut conn, scope, status, CLAIMS_SHOWN)?;
    rows.into_iter()
        .map(
            |ClaimListRow {
                 claim, batch_no, ..
             }| present(&mut conn, claim, Some(batch_no)),
        )
        .collect()
}
