//! Issuing 承诺达标合格证: a producer (farm, family farm, co-operative, agricultural company)
//! promises a lot of edible produce; a holder that splits a lot, or merges several, re-issues
//! child certificates naming their parents and the quantity taken from each (never more, in
//! total, than a parent holds). Children are signed by the holder that re-issues them.

use std::collections::{BTreeMap, HashMap};

use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::crypto::b64url;
use crate::crypto::signing::certificate_message;
use crate::db::models::lineage::{CertificateParent, MAX_CHILDREN};
use crate::db::models::{now, Certificate, EventRow, Organization, SigningKeyRow};
use crate::domain::promise::{ParentRef, PromisePayload, KEEP_MONTHS, PROMISE_TYPE};
use crate::domain::role::OrgKind;
use crate::domain::status::CertStatus;
use crate::domain::trail::EventType;
use crate::error::{AppError, AppResult};

use crate::service::{trail, Actor, AppState};

mod check;
use check::check;

/// Most certificates one request issues (children of a split, or lots of a CSV file).
pub const MAX_PROMISES: usize = 1_000;
/// Most parents one merged lot names.
pub const MAX_PARENTS: usize = 50;

/// `POST /api/v1/promises`: a new lot (from its producer), or a lot merged from `parents`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromiseRequest {
    /// A new lot: one of the producer's products. A re-issued lot takes its first parent's.
    pub product_id: Option<String>,
    /// 产品名称 (default: the product's, or the first parent's).
    pub product_name: Option<String>,
    #[schema(value_type = crate::domain::request::Text64)]
    pub batch_no: String,
    /// 数量.
    #[serde(deserialize_with = "crate::domain::request::whole_number")]
    #[schema(minimum = 1, maximum = 1000000000)]
    pub quantity: i64,
    /// Default for a re-issued lot: the first parent's unit.
    pub unit: Option<String>,
    /// 产地: GB/T 2260 code; a re-issued lot whose parents share one origin takes it.
    pub origin_region_code: Option<String>,
    /// 产地 in words.
    pub origin_place: Option<String>,
    /// farm, family_farm, cooperative or company (a new lot); a re-issuing holder defaults
    /// to its own kind (wholesaler, market_operator, retailer).
    pub issuer_kind: Option<String>,
    /// 联系方式.
    #[schema(value_type = crate::domain::request::Text100)]
    pub contact: String,
    /// The promise clause by clause (default: the order's model wording).
    pub promise: Option<Vec<String>>,
    /// 承诺依据: entrusted_test, self_test, internal_control, self_promise.
    pub basis: Option<Vec<String>>,
    /// Merging: the parent lots and the quantity taken from each.
    pub parents: Option<Vec<ParentRef>>,
}

/// `POST /api/v1/certificates/{id}/split`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitRequest {
    /// 联系方式 of the holder re-issuing.
    #[schema(value_type = crate::domain::request::Text100)]
    pub contact: String,
    /// The child lots: at most the parent's quantity in total.
    pub children: Vec<SplitChild>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitChild {
    #[schema(value_type = crate::domain::request::Text64)]
    pub batch_no: String,
    #[serde(deserialize_with = "crate::domain::request::whole_number")]
    #[schema(minimum = 1, maximum = 1000000000)]
    pub quantity: i64,
}

/// What issuing a promise answers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PromiseIssued {
    pub id: String,
    pub payload: PromisePayload,
    /// base64url, no padding, 86 characters.
    pub signature: String,
    pub kid: String,
    pub status: String,
    pub verify_url: String,
    pub qr_png_url: String,
    pub qr_svg_url: String,
}

/// A parent as checked before signing.
pub(crate) struct Parent {
    cert: Certificate,
    payload: PromisePayload,
}

/// A request that passed its checks, with the parents it names.
pub(crate) struct Checked {
    product_id: String,
    payload: PromisePayload,
}

/// Issues one promise certificate.
pub fn issue(state: &AppState, actor: &Actor, req: PromiseRequest) -> AppResult<PromiseIssued> {
    Ok(issue_many(state, actor, vec![req])?.remove(0))
}

/// Splits lot `parent_id` into child lots, all in one transaction.
pub fn split(
    state: &AppState,
    actor: &Actor,
    parent_id: &str,
    req: SplitRequest,
) -> AppResult<Vec<PromiseIssued>> {
    // The lot is the path's resource: an unknown one is 404, as any other unknown id.
    let id = crate::service::checked_id(parent_id, "certificate")?;
    let mut conn = state.db.reader()?;
    if Certificate::find(&mut conn, id)?.is_none() {
        return Err(AppError::not_found("certificate"));
    }
    drop(conn);
    if req.children.is_empty() {
        return Err(AppError::invalid(
            "required",
            "children",
            "a split names at least one child lot",
        ));
    }
    let reqs = req
        .children
        .into_iter()
        .map(|c| PromiseRequest {
            batch_no: c.batch_no,
            quantity: c.quantity,
            contact: req.contact.clone(),
            parents: Some(vec![ParentRef {
                id: parent_id.to_string(),
                quantity: c.quantity,
            }]),
            ..Default::default()
        })
        .collect();
    issue_many(state, actor, reqs)
}

/// Issues every request in one transaction, all or none. An error names the failing item's
/// field as `{index}.{field}` when there are several.
pub fn issue_many(
    state: &AppState,
    actor: &Actor,
    reqs: Vec<PromiseRequest>,
) -> AppResult<Vec<PromiseIssued>> {
    if reqs.is_empty() || reqs.len() > MAX_PROMISES {
        return Err(AppError::invalid(
            "out_of_range",
            "certificates",
            format!("send 1 to {MAX_PROMISES} certificates"),
        ));
    }
    let org = actor.require_kind(&OrgKind::HOLDERS)?.clone();
    let mut conn = state.db.reader()?;
    crate::service::oversight::holds::check_issuance(&mut conn, &org.id)?;
    let issuer_org = Organization::find(&mut conn, &org.id)?
        .ok_or_else(|| AppError::not_found("organization"))?;
    let active = SigningKeyRow::active_for(&mut conn, &org.id)?
        .ok_or_else(|| AppError::internal(format!("{} has no active key", org.id)))?;
    if !active.held_by_platform() {
        return Err(AppError::Conflict {
            code: "key_held_by_producer",
            message: "this organization signs its own certificates: 承诺达标合格证 are signed \
                      with a platform-held key"
                .into(),
        });
    }
    let signer = state.keys.unsealed(&active)?;
    let issued_at = Utc::now();
    let several = reqs.len() > 1;
    let mut parents: HashMap<String, Parent> = HashMap::new();
    let mut checked = Vec::with_capacity(reqs.len());
    for (index, req) in reqs.iter().enumerate() {
        let item = check(
            &mut conn,
            &issuer_org,
            req,
            &mut parents,
            &signer.kid,
            issued_at,
        )
        .map_err(|e| match (several, e) {
            (true, AppError::Invalid(mut v)) => {
                v.field = format!("certificates.{index}.{}", v.field);
                AppError::Invalid(v)
            }
            (_, e) => e,
        })?;
        checked.push(item);
    }
    drop(conn);
    // Sign, then store under the parents' locks with the quantities checked again.
    let built: Vec<(Certificate, EventRow, PromisePayload)> = checked
        .into_iter()
        .map(|c| {
            let canonical = c.payload.canonical();
            let signature = signer.sign(&certificate_message(&canonical)).to_vec();
            let details = serde_json::Map::from_iter([
                ("batch_no".to_string(), c.payload.batch.no.clone().into()),
                ("certificate_type".to_string(), PROMISE_TYPE.into()),
            ]);
            let first = trail::first_event(
                &signer,
                &c.payload.id,
                trail::NewEvent {
                    actor: &issuer_org,
                    kind: EventType::Issued,
                    serial: None,
                    details,
                },
            );
            let row = Certificate {
                id: c.payload.id.clone(),
                organization_id: issuer_org.id.clone(),
                product_id: c.product_id,
                batch_no: c.payload.batch.no.clone(),
                kid: c.payload.kid.clone(),
                payload: canonical,
                signature,
                status: CertStatus::Active.as_str().into(),
                status_reason: None,
                units: None,
                issued_at: now(),
                trail_seq: 1,
                trail_hash: first.hash.clone(),
                lab_id: None,
                kind: PROMISE_TYPE.into(),
            };
            (row, first, c.payload)
        })
        .collect();
    let mut taken: BTreeMap<&str, i64> = BTreeMap::new();
    let mut links = Vec::new();
    for (row, _, payload) in &built {
        for p in &payload.parents {
            *taken.entry(p.id.as_str()).or_default() += p.quantity;
            links.push(CertificateParent {
                child_id: row.id.clone(),
                parent_id: p.id.clone(),
                quantity: p.quantity,
            });
        }
    }
    state.write(|conn| {
        crate::service::oversight::holds::check_issuance(conn, &issuer_org.id)?;
        for (parent, quantity) in &taken {
            Certificate::lock(conn, parent)?;
            let now_parent = Certificate::find(conn, parent)?
                .ok_or_else(|| AppError::not_found("parent certificate"))?;
            if now_parent.current_status() != CertStatus::Active {
                return Err(parent_not_active(parent));
            }
            let holds = parents.get(*parent).map_or(0, |p| p.payload.batch.quantity);
            let allocated = CertificateParent::allocated(conn, parent)?;
            let new_children = links.iter().filter(|l| l.parent_id == *parent).count() as i64;
            if CertificateParent::count_children(conn, parent)? + new_children > MAX_CHILDREN {
                return Err(AppError::Conflict {
                    code: "too_many_children",
                    message: format!("a lot is split into at most {MAX_CHILDREN} lots"),
                });
            }
            // Only from what this holder holds now: never another party's share of the lot.
            let held = crate::service::custody::legs::holding_now(conn, &now_parent, &issuer_org.id)?;
            if *quantity > held {
                return Err(crate::service::custody::legs::exceeds_holding(held));
            }
            if allocated + quantity > holds {
                return Err(AppError::Conflict {
                    code: "exceeds_parent",
                    message: format!(
                        "lot {parent} holds {holds}; {allocated} was re-issued before, so at most {} more",
                        holds - allocated
                    ),
                });
            }
            // The parent's answer lists its children; its other descendants are unchanged.
            crate::service::changes::certificate_alone(conn, parent)?;
        }
        let (rows, firsts): (Vec<Certificate>, Vec<EventRow>) = built
            .iter()
            .map(|(row, first, _)| (row.clone(), first.clone()))
            .unzip();
        Certificate::insert_all(conn, &rows)?;
        EventRow::insert_all_first(conn, &firsts)?;
        CertificateParent::insert_all(conn, &links)?;
        crate::service::tlog::entry::queue_issued(conn, &rows, &firsts)?;
        Ok(())
    })?;
    Ok(built
        .into_iter()
        .map(|(row, _, payload)| {
            state.metrics.certificate_issued();
            let signature = b64url(&row.signature);
            PromiseIssued {
                verify_url: state.batch_label_url(&row.id, &signature),
                qr_png_url: state.public_url(&format!("/api/v1/certificates/{}/qr.png", row.id)),
                qr_svg_url: state.public_url(&format!("/api/v1/certificates/{}/qr.svg", row.id)),
                id: row.id,
                payload,
                signature,
                kid: row.kid,
                status: row.status,
            }
        })
        .collect())
}

fn parent_not_active(id: &str) -> AppError {
    AppError::Conflict {
        code: "parent_not_active",
        message: format!("lot {id} is suspended, revoked or recalled: it cannot be re-issued"),
    }
}

/// A lot the buyer must keep the certificate of.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Kept {
    pub certificate_id: String,
    pub batch_no: String,
    pub issuer: String,
    /// When it was taken in (YYYY-MM-DD).
    pub received_on: String,
    /// Kept until then, at least (YYYY-MM-DD): six months after intake.
    pub keep_until: String,
}

/// Most lots the keeping list shows.
pub const KEPT_SHOWN: i64 = 500;

/// The 承诺达标合格证 a receiver took in within the keeping period (six months) and must keep.
pub fn keeping_list(state: &AppState, actor: &Actor) -> AppResult<Vec<Kept>> {
    let org = actor.require_kind(&OrgKind::RECEIVERS)?;
    let today = Utc::now().date_naive();
    let since = today
        .checked_sub_months(chrono::Months::new(KEEP_MONTHS))
        .unwrap_or(today)
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default();
    let rows =
        Certificate::promises_received(&mut *state.db.reader()?, &org.id, since, KEPT_SHOWN)?;
    Ok(rows
        .into_iter()
        .map(|(id, batch_no, at, issuer)| {
            let day = at.date();
            Kept {
                certificate_id: id,
                batch_no,
                issuer,
                received_on: day.format("%Y-%m-%d").to_string(),
                keep_until: day
                    .checked_add_months(chrono::Months::new(KEEP_MONTHS))
                    .unwrap_or(day)
                    .format("%Y-%m-%d")
                    .to_string(),
            }
        })
        .collect())
}
