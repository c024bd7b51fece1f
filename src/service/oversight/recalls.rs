//! Recalls: a product, or one of its batches, is called back. Every affected certificate's
//! verdict becomes `recalled`; the recall names the retailers that took the goods in, and
//! each retailer can list the recalls that touch its stock.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::crypto::random::new_id;
use crate::db::models::recall::RecallAck;
use crate::db::models::webhook::Delivery;
use crate::db::models::{now, Certificate, EventRow, Organization, Product, Recall};
use crate::db::DbConn;
use crate::domain::payload::rfc3339_seconds;
use crate::domain::role::OrgKind;
use crate::domain::trail::EventType;
use crate::domain::validate;
use crate::error::{AppError, AppResult};

use crate::service::access::auth::require_owner_or_regulator;
use crate::service::{audit, checked_id, trail, webhooks, Actor, AppState};

/// `POST /api/v1/recalls`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRecall {
    pub product_id: String,
    /// Only this batch; all batches when absent.
    #[schema(value_type = Option<crate::domain::request::OptionalText64>)]
    pub batch_no: Option<String>,
    #[schema(value_type = crate::domain::request::Text500)]
    pub reason: String,
}

/// A retailer that recorded intake of recalled goods, and where it stands with the recall.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AffectedRetailer {
    pub id: String,
    pub name: String,
    pub region_code: String,
    /// `acknowledged`, `overdue` (no acknowledgement within the deadline), `delivered` (its
    /// webhook received the recall) or `pending` (not yet told by webhook: it sees the recall
    /// on its console and in `GET /api/v1/recalls`).
    pub state: &'static str,
    /// When its webhook endpoint accepted the recall message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acknowledged_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity_removed: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// `POST /api/v1/recalls/{id}/acknowledgements`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAcknowledgement {
    /// How many of the recalled goods were taken off sale (0 if none were left).
    #[serde(deserialize_with = "crate::domain::request::whole_number")]
    #[schema(minimum = 0, maximum = 1000000000)]
    pub quantity_removed: i64,
    #[schema(value_type = Option<crate::domain::request::OptionalText500>)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecallView {
    pub id: String,
    pub product_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_no: Option<String>,
    pub reason: String,
    pub created_at: String,
    /// Ids of the certificates the recall covers.
    pub certificates: Vec<String>,
    pub retailers: Vec<AffectedRetailer>,
    /// Acknowledgements are due by then (RFC 3339 UTC).
    pub acknowledge_by: String,
}

fn view(state: &AppState, conn: &mut DbConn, recall: Recall) -> AppResult<RecallView> {
    let certificates = recall.certificate_ids(conn)?;
    let receivers = EventRow::receivers(conn, &certificates)?;
    let acks = RecallAck::of(conn, &recall.id)?;
    let delivered = Delivery::delivered_about(conn, &recall.id)?;
    let deadline = recall.created_at + state.config.workflow.recall_ack_deadline;
    let overdue = now() > deadline;
    let mut retailers = Vec::new();
    for id in receivers {
        let Some(org) = Organization::find(conn, &id)? else {
            continue;
        };
        let ack = acks.iter().find(|a| a.retailer_id == org.id);
        let delivered_at = delivered
            .iter()
            .filter(|(o, _)| *o == org.id)
            .map(|(_, at)| *at)
            .min();
        let state = match (ack, overdue, delivered_at) {
            (Some(_), _, _) => "acknowledged",
            (None, true, _) => "overdue",
            (None, false, Some(_)) => "delivered",
            (None, false, None) => "pending",
        };
        retailers.push(AffectedRetailer {
            id: org.id,
            name: org.name,
            region_code: org.region_code,
            state,
            delivered_at: delivered_at.map(|t| rfc3339_seconds(t.and_utc())),
            acknowledged_at: ack.map(|a| rfc3339_seconds(a.created_at.and_utc())),
            quantity_removed: ack.map(|a| a.quantity_removed),
            note: ack.and_then(|a| a.note.clone()),
        });
    }
    Ok(RecallView {
        id: recall.id,
        product_id: recall.product_id,
        batch_no: recall.batch_no,
        reason: recall.reason,
        created_at: rfc3339_seconds(recall.created_at.and_utc()),
        acknowledge_by: rfc3339_seconds(deadline.and_utc()),
        certificates,
        retailers,
    })
}

/// Owning producer or a regulator of its region: recalls a product or a batch.
pub fn create(state: &AppState, actor: &Actor, input: NewRecall) -> AppResult<RecallView> {
    let reason = validate::text("reason", &input.reason, 500)?;
    let batch_no = validate::optional_text("batch_no", input.batch_no.as_deref(), 64)?;
    let mut conn = state.db.reader()?;
    let product = Product::find(&mut conn, checked_id(input.product_id.trim(), "product")?)?
        .ok_or_else(|| AppError::not_found("product"))?;
    let producer = Organization::find(&mut conn, &product.organization_id)?
        .ok_or_else(|| AppError::internal("product without producer"))?;
    drop(conn);
    let org = require_owner_or_regulator(actor, &producer)?;
    let recall = Recall {
        id: new_id(),
        product_id: product.id.clone(),
        batch_no,
        reason: reason.clone(),
        actor_id: org.id.clone(),
        created_at: now(),
    };
    state.write(|conn| {
        // Lock the lots first, then list them again: a split holding a lot's lock commits
        // its child before this list is made, and a later one sees the lot recalled.
        for id in recall.certificate_ids(conn)? {
            Certificate::lock(conn, &id)?;
        }
        let ids = recall.certificate_ids(conn)?;
        if ids.is_empty() {
            return Err(AppError::invalid(
                "nothing_to_recall",
                "batch_no",
                "no certificate matches this product and batch",
            ));
        }
        recall.insert(conn)?;
        let mut recipients = EventRow::receivers(conn, &ids)?;
        recipients.push(producer.id.clone());
        webhooks::enqueue(
            conn,
            webhooks::RECALL_CREATED,
            &recipients,
            &recall.id,
            serde_json::json!({
                "recall_id": recall.id,
                "certificate_ids": ids,
                "reason": recall.reason,
                "product": {"id": product.id, "name": product.name, "model": product.model},
                "batch_no": recall.batch_no,
                "acknowledge_url": state.public_url(&format!("/api/v1/recalls/{}/acknowledgements", recall.id)),
            }),
        )?;
        if let Actor::Org(o) = actor {
            if o.kind() == OrgKind::Regulator {
                audit::record(
                    conn,
                    actor,
                    &producer.region_code,
                    "recall.create",
                    &format!("recall:{}", recall.id),
                    serde_json::json!({"reason": recall.reason, "certificates": ids.len()}),
                )?;
            }
        }
        for id in &ids {
            let Some(to) = Certificate::find(conn, id)?
                .and_then(|c| c.current_status().after(EventType::Recalled))
            else {
                continue;
            };
            Certificate::set_status(conn, id, to, &reason)?;
            crate::service::oversight::holds::close_on_certificate(conn, id, org, "recalled")?;
            let details = Map::from_iter([
                ("recall_id".to_string(), Value::String(recall.id.clone())),
                ("reason".to_string(), Value::String(reason.clone())),
            ]);
            trail::append(state, conn, id, org, EventType::Recalled, None, details)?;
        }
        Ok(())
    })?;
    view(state, &mut *state.db.reader()?, recall)
}

/// One recall, for those it concerns (see [`concerns`]).
pub fn get(state: &AppState, actor: &Actor, id: &str) -> AppResult<RecallView> {
    let mut conn = state.db.reader()?;
    let recall = Recall::find(&mut conn, checked_id(id, "recall")?)?
        .ok_or_else(|| AppError::not_found("recall"))?;
    if !concerns(&mut conn, actor, &recall)? {
        return Err(AppError::Forbidden(
            "this recall concerns neither your stock, your products nor your region".into(),
        ));
    }
    view(state, &mut conn, recall)
}

/// A retailer that took in recalled goods confirms they left its shelves (once).
pub fn acknowledge(
    state: &AppState,
    actor: &Actor,
    id: &str,
    input: NewAcknowledgement,
) -> AppResult<RecallView> {
    let org = actor.require_kind(&OrgKind::RECEIVERS)?;
    let quantity = validate::count("quantity_removed", input.quantity_removed, 0, 1_000_000_000)?;
    let note = validate::optional_text("note", input.note.as_deref(), 500)?;
    let id = checked_id(id, "recall")?;
    state.write(|conn| {
        let recall = Recall::find(conn, id)?.ok_or_else(|| AppError::not_found("recall"))?;
        let ids = recall.certificate_ids(conn)?;
        if !EventRow::receivers(conn, &ids)?.contains(&org.id) {
            return Err(AppError::Forbidden(
                "only a retailer that took in recalled goods acknowledges the recall".into(),
            ));
        }
        RecallAck {
            recall_id: recall.id.clone(),
            retailer_id: org.id.clone(),
            quantity_removed: quantity,
            note,
            created_at: now(),
        }
        .insert(conn)
        .map_err(|e| match AppError::from(e) {
            AppError::Conflict { .. } => AppError::Conflict {
                code: "already_acknowledged",
                message: "this retailer already acknowledged the recall".into(),
            },
            other => other,
        })
    })?;
    get(state, actor, id)
}

/// Whether a recall concerns the caller: a retailer that took the goods in, the producer, a
/// regulator of its region; the admin sees all.
fn concerns(conn: &mut DbConn, actor: &Actor, recall: &Recall) -> AppResult<bool> {
    let Actor::Org(org) = actor else {
        return Ok(true);
    };
    Ok(match org.kind() {
        OrgKind::Retailer | OrgKind::Wholesaler | OrgKind::MarketOperator => {
            let ids = recall.certificate_ids(conn)?;
            EventRow::receivers(conn, &ids)?.contains(&org.id)
        }
        OrgKind::Producer | OrgKind::Regulator => {
            let producer = match Product::find(conn, &recall.product_id)? {
                Some(p) => Organization::find(conn, &p.organization_id)?,
                None => None,
            };
            producer.is_some_and(|p| match org.kind() {
                OrgKind::Producer => p.id == org.id,
                _ => crate::domain::region::within(&org.region_code, &p.region_code),
            })
        }
        _ => false,
    })
}

/// The recalls that concern the caller: a retailer's stock, a producer's products, a
/// regulator's region; the admin sees all.
pub fn list(state: &AppState, actor: &Actor) -> AppResult<Vec<RecallView>> {
    let mut conn = state.db.reader()?;
    let mut out = Vec::new();
    for recall in Recall::all(&mut conn)? {
        if concerns(&mut conn, actor, &recall)? {
            out.push(view(state, &mut conn, recall)?);
        }
    }
    Ok(out)
}
