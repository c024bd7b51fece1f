//! Recalls: a product, or one of its batches, is called back. Every affected certificate's
//! verdict becomes `recalled`; the recall names the retailers that took the goods in, and
//! each retailer can list the recalls that touch its stock.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::crypto::random::new_id;
use crate::db::models::{now, Certificate, EventRow, Organization, Product, Recall};
use crate::db::DbConn;
use crate::domain::payload::rfc3339_seconds;
use crate::domain::role::OrgKind;
use crate::domain::trail::EventType;
use crate::domain::validate;
use crate::error::{AppError, AppResult};

use super::auth::require_owner_or_regulator;
use super::{checked_id, trail, Actor, AppState};

/// `POST /api/v1/recalls`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRecall {
    pub product_id: String,
    /// Only this batch; all batches when absent.
    pub batch_no: Option<String>,
    pub reason: String,
}

/// A retailer that recorded intake of recalled goods.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AffectedRetailer {
    pub id: String,
    pub name: String,
    pub region_code: String,
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
}

fn view(conn: &mut DbConn, recall: Recall) -> AppResult<RecallView> {
    let certificates = recall.certificate_ids(conn)?;
    let mut retailer_ids: Vec<String> = Vec::new();
    for id in &certificates {
        for event in EventRow::trail(conn, id)? {
            if event.kind == "received" && !retailer_ids.contains(&event.actor_id) {
                retailer_ids.push(event.actor_id);
            }
        }
    }
    let mut retailers = Vec::new();
    for id in retailer_ids {
        if let Some(org) = Organization::find(conn, &id)? {
            retailers.push(AffectedRetailer {
                id: org.id,
                name: org.name,
                region_code: org.region_code,
            });
        }
    }
    Ok(RecallView {
        id: recall.id,
        product_id: recall.product_id,
        batch_no: recall.batch_no,
        reason: recall.reason,
        created_at: rfc3339_seconds(recall.created_at.and_utc()),
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
        .ok_or_else(|| AppError::Internal("product without producer".into()))?;
    drop(conn);
    let org = require_owner_or_regulator(actor, &producer)?;
    let recall = Recall {
        id: new_id(),
        product_id: product.id,
        batch_no,
        reason: reason.clone(),
        actor_id: org.id.clone(),
        created_at: now(),
    };
    state.write(|conn| {
        let ids = recall.certificate_ids(conn)?;
        if ids.is_empty() {
            return Err(AppError::invalid(
                "nothing_to_recall",
                "batch_no",
                "no certificate matches this product and batch",
            ));
        }
        recall.insert(conn)?;
        for id in &ids {
            let status = Certificate::find(conn, id)?
                .map(|c| c.status)
                .unwrap_or_default();
            if status == "revoked" || status == "recalled" {
                continue;
            }
            Certificate::set_status(conn, id, "recalled", &reason)?;
            let details = Map::from_iter([
                ("recall_id".to_string(), Value::String(recall.id.clone())),
                ("reason".to_string(), Value::String(reason.clone())),
            ]);
            trail::append(state, conn, id, org, EventType::Recalled, None, details)?;
        }
        Ok(())
    })?;
    view(&mut *state.db.reader()?, recall)
}

/// Public: one recall.
pub fn get(state: &AppState, id: &str) -> AppResult<RecallView> {
    let mut conn = state.db.reader()?;
    let recall = Recall::find(&mut conn, checked_id(id, "recall")?)?
        .ok_or_else(|| AppError::not_found("recall"))?;
    view(&mut conn, recall)
}

/// The recalls that concern the caller: a retailer's stock, a producer's products, a
/// regulator's region; the admin sees all.
pub fn list(state: &AppState, actor: &Actor) -> AppResult<Vec<RecallView>> {
    let mut conn = state.db.reader()?;
    let recalls = Recall::all(&mut conn)?;
    let mut out = Vec::new();
    for recall in recalls {
        let keep = match actor {
            Actor::Admin => true,
            Actor::Org(org) => match org.kind() {
                OrgKind::Retailer => {
                    let stock = EventRow::certificates_with(&mut conn, &org.id, "received")?;
                    recall
                        .certificate_ids(&mut conn)?
                        .iter()
                        .any(|c| stock.contains(c))
                }
                OrgKind::Producer | OrgKind::Regulator => {
                    let product = Product::find(&mut conn, &recall.product_id)?;
                    let producer = match product {
                        Some(p) => Organization::find(&mut conn, &p.organization_id)?,
                        None => None,
                    };
                    producer.is_some_and(|p| match org.kind() {
                        OrgKind::Producer => p.id == org.id,
                        _ => crate::domain::region::within(&org.region_code, &p.region_code),
                    })
                }
                _ => false,
            },
        };
        if keep {
            out.push(view(&mut conn, recall)?);
        }
    }
    Ok(out)
}
