//! Issuing a certificate: validate the batch, build the payload, sign it with the producer's
//! cached key and store it — no image work on this path (labels are rendered on demand).
//! The API's bulk issuance and its `Idempotency-Key` are in `bulk`, the CLI's ERP files in
//! `file`; both check, sign and store through the functions here.
//!
//! Longer than 400 lines because checking and signing is one pipeline that single and bulk issuance share (`bulk.rs` and `file.rs` hold the rest).

use chrono::Utc;
use serde::Serialize;

use crate::crypto::b64url;
use crate::crypto::random::new_id;
use crate::crypto::signing::certificate_message;
use crate::domain::status::CertStatus;
use std::collections::HashMap;

use crate::db::models::{now, Certificate, EventRow, Organization, Product, SigningKeyRow};
use crate::db::DbConn;
use crate::domain::payload::{self, Payload, PAYLOAD_VERSION};
use crate::domain::role::OrgKind;
use crate::domain::trail::EventType;
use crate::error::{AppError, AppResult};

use crate::domain::batch::{check, iso, CheckedBatch};
pub use crate::domain::batch::{IssueRequest, MAX_QUANTITY, MAX_UNITS};

use crate::service::issuance::products::parse_marks;
use crate::service::keys::keyring::Signer;
use crate::service::{
    certification::labs, certification::marks, checked_id, trail, Actor, AppState,
};

mod bulk;
mod file;

pub use bulk::{issue_bulk_once, BulkIssued, BulkRequest};
pub use file::{issue_file, FileIssued};

/// What issuing answers (201).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Issued {
    pub id: String,
    pub payload: Payload,
    /// base64url, no padding, 86 characters.
    pub signature: String,
    pub kid: String,
    pub status: String,
    pub verify_url: String,
    pub qr_png_url: String,
    pub qr_svg_url: String,
}

/// One request's failure in a bulk issuance.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ItemError {
    /// Position in the request's `certificates` array.
    pub index: usize,
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// Why a bulk issuance issued nothing.
#[derive(Debug)]
pub enum BulkError {
    /// Some items break a rule; nothing was issued.
    Items(Vec<(usize, AppError)>),
    /// The whole request failed.
    Request(AppError),
}

impl From<AppError> for BulkError {
    fn from(e: AppError) -> Self {
        BulkError::Request(e)
    }
}

impl From<diesel::result::Error> for BulkError {
    fn from(e: diesel::result::Error) -> Self {
        BulkError::Request(e.into())
    }
}

/// Most certificates one bulk request may issue.
pub const MAX_BULK: usize = 10_000;

/// Producer only: issues a signed certificate for a batch of one of its own products.
pub fn issue(state: &AppState, actor: &Actor, req: IssueRequest) -> AppResult<Issued> {
    let mut issued = issue_bulk(state, actor, vec![req]).map_err(|e| match e {
        BulkError::Items(mut items) => items.remove(0).1,
        BulkError::Request(e) => e,
    })?;
    Ok(issued.remove(0))
}

/// Producer only: issues every request in one transaction, all or none. Checking and signing
/// happen before the write transaction, so the single SQLite writer only stores rows.
pub fn issue_bulk(
    state: &AppState,
    actor: &Actor,
    reqs: Vec<IssueRequest>,
) -> Result<Vec<Issued>, BulkError> {
    let signed = check_and_sign(state, actor, reqs)?;
    let mut pooled = state.db.writer().map_err(AppError::from)?;
    let conn: &mut DbConn = &mut pooled;
    crate::db::write_transaction(conn, |conn| store(state, conn, signed))
}

/// A request that passed every check, ready to sign.
pub(super) struct Ready {
    product: Product,
    marks: Vec<payload::Mark>,
    lab_id: Option<String>,
    checked: CheckedBatch,
}

/// What a certificate row records beside its payload.
#[derive(Debug, Clone)]
pub(super) struct RowFacts {
    pub(super) product_id: String,
    pub(super) units: Option<i64>,
    pub(super) lab_id: Option<String>,
}

impl Ready {
    pub(super) fn row_facts(&self) -> RowFacts {
        RowFacts {
            product_id: self.product.id.clone(),
            units: self.checked.units,
            lab_id: self.lab_id.clone(),
        }
    }
}

/// Checked requests with what signing them needs.
pub(super) struct Prepared {
    /// The producer's active key: the platform's (signs here) or its own (drafts).
    pub(super) key: ActiveKey,
    pub(super) producer: Organization,
    pub(super) issued_at: chrono::DateTime<Utc>,
    pub(super) ready: Vec<Ready>,
}

/// Who signs a producer's certificates.
pub(super) enum ActiveKey {
    Platform(std::sync::Arc<Signer>),
    /// The producer holds this key (its kid); the platform never sees the private half.
    Producer(String),
}

impl ActiveKey {
    /// The platform's signer; a producer holding its own key issues through drafts.
    fn platform(&self) -> Result<&Signer, AppError> {
        match self {
            ActiveKey::Platform(signer) => Ok(signer),
            ActiveKey::Producer(_) => Err(AppError::Conflict {
                code: "key_held_by_producer",
                message: "this producer signs its own certificates: create a draft \
                          (POST /api/v1/certificates/drafts) and submit its signature"
                    .into(),
            }),
        }
    }
}

/// Checks `reqs` (1 to 10,000, every failing item reported) on a read connection and signs
/// them on every core; nothing is stored yet.
fn check_and_sign(
    state: &AppState,
    actor: &Actor,
    reqs: Vec<IssueRequest>,
) -> Result<Vec<Built>, BulkError> {
    if reqs.is_empty() || reqs.len() > MAX_BULK {
        return Err(AppError::invalid(
            "out_of_range",
            "certificates",
            format!("send 1 to {MAX_BULK} certificates"),
        )
        .into());
    }
    let mut conn = state.db.reader().map_err(AppError::from)?;
    let mut prepared = prepare(state, &mut conn, actor, &reqs)?;
    let ready = std::mem::take(&mut prepared.ready);
    let signer = prepared.key.platform()?;
    Ok(sign_all(
        signer,
        &prepared.producer,
        ready,
        prepared.issued_at,
    ))
}

/// Checks every request, reporting each failing one by index.
pub(super) fn prepare(
    state: &AppState,
    conn: &mut DbConn,
    actor: &Actor,
    reqs: &[IssueRequest],
) -> Result<Prepared, BulkError> {
    let org = actor.require_kind(&[OrgKind::Producer])?;
    crate::service::oversight::holds::check_issuance(conn, &org.id)?;
    let held = crate::service::oversight::holds::suspended_batches(conn, &org.id)?;
    let issued_at = Utc::now();
    let today = iso(issued_at.date_naive());
    let active = SigningKeyRow::active_for(conn, &org.id)?
        .ok_or_else(|| AppError::internal(format!("producer {} has no active key", org.id)))?;
    let key = match active.held_by_platform() {
        true => ActiveKey::Platform(state.keys.unsealed(&active)?),
        false => ActiveKey::Producer(active.kid.clone()),
    };
    // Re-read the producer so payloads carry its registered name and address.
    let producer =
        Organization::find(conn, &org.id)?.ok_or_else(|| AppError::not_found("organization"))?;
    let mut products: HashMap<String, Result<(Product, Vec<payload::Mark>), AppError>> =
        HashMap::new();
    let mut labs_seen: HashMap<String, Result<String, AppError>> = HashMap::new();
    let mut ready = Vec::with_capacity(reqs.len());
    let mut errors = Vec::new();
    for (index, req) in reqs.iter().enumerate() {
        let product = products
            .entry(req.product_id.trim().to_string())
            .or_insert_with(|| load_product(conn, &org.id, req.product_id.trim(), &today));
        let lab = req
            .lab_id
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|lab| {
                labs_seen
                    .entry(lab.to_string())
                    .or_insert_with(|| labs::find_lab(conn, lab).map(|o| o.id))
                    .as_ref()
                    .map(Clone::clone)
                    .map_err(clone_error)
            });
        let item = check(req, issued_at.date_naive())
            .map_err(AppError::from)
            .and_then(|checked| {
                let (product, marks) = product.as_ref().map_err(clone_error)?.clone();
                if held.contains(&(product.id.clone(), checked.batch.no.clone())) {
                    return Err(AppError::Denied {
                        code: "batch_suspended",
                        message: "a regulator holds this batch's certificate suspended: it cannot \
                                  be issued again until the suspension is lifted"
                            .into(),
                    });
                }
                let lab_id = lab.transpose()?;
                Ok(Ready {
                    product,
                    marks,
                    lab_id,
                    checked,
                })
            });
        match item {
            Ok(r) => ready.push(r),
            Err(e) => errors.push((index, e)),
        }
    }
    if !errors.is_empty() {
        return Err(BulkError::Items(errors));
    }
    Ok(Prepared {
        key,
        producer,
        issued_at,
        ready,
    })
}

/// A signed certificate, its `issued` event and its payload, ready to store.
pub(super) type Built = (Certificate, EventRow, Payload);

/// Stores signed certificates with their first events; answers what issuing answers.
pub(super) fn store(
    state: &AppState,
    conn: &mut DbConn,
    built: Vec<Built>,
) -> Result<Vec<Issued>, BulkError> {
    let (rows, firsts): (Vec<Certificate>, Vec<EventRow>) = built
        .iter()
        .map(|(row, first, _)| (row.clone(), first.clone()))
        .unzip();
    // Checked again inside the writing transaction: a suspension imposed while the batch was
    // being signed still stops it.
    if let Some(first) = rows.first() {
        crate::service::oversight::holds::check_issuance(conn, &first.organization_id)?;
    }
    Certificate::insert_all(conn, &rows)?;
    EventRow::insert_all_first(conn, &firsts)?;
    crate::service::tlog::entry::queue_issued(conn, &rows, &firsts)?;
    let mut out = Vec::with_capacity(built.len());
    for (row, _, payload) in built {
        let signature = b64url(&row.signature);
        out.push(Issued {
            verify_url: state.batch_label_url(&row.id, &signature),
            qr_png_url: state.public_url(&format!("/api/v1/certificates/{}/qr.png", row.id)),
            qr_svg_url: state.public_url(&format!("/api/v1/certificates/{}/qr.svg", row.id)),
            id: row.id,
            payload,
            signature,
            kid: row.kid,
            status: row.status,
        });
        state.metrics.certificate_issued();
    }
    Ok(out)
}

/// Errors are reported per item; an `AppError` is rebuilt for each item sharing a cause.
fn clone_error(e: &AppError) -> AppError {
    match e {
        AppError::NotFound(m) => AppError::NotFound(m.clone()),
        AppError::Forbidden(m) => AppError::Forbidden(m.clone()),
        AppError::Invalid(v) => AppError::Invalid(v.clone()),
        AppError::Unavailable(m) => AppError::Unavailable(m.clone()),
        AppError::Internal(cause) => AppError::internal(cause.to_string()),
        other => AppError::internal(other.to_string()),
    }
}

/// The product if it exists, belongs to `org_id`, and its claimed marks are valid on `today`.
fn load_product(
    conn: &mut DbConn,
    org_id: &str,
    id: &str,
    today: &str,
) -> Result<(Product, Vec<payload::Mark>), AppError> {
    let product = Product::find(conn, checked_id(id, "product")?)?
        .ok_or_else(|| AppError::not_found("product"))?;
    if product.organization_id != org_id {
        return Err(AppError::Forbidden(
            "the product belongs to another producer".into(),
        ));
    }
    let marks = parse_marks(&product.marks);
    marks::check_claims(conn, &product.id, &marks, today)?;
    Ok((product, marks))
}

/// The payload of certificate `id` for a checked request, signed by key `kid`.
pub(super) fn payload_of(
    r: &Ready,
    id: String,
    kid: &str,
    producer: &Organization,
    issued_at: chrono::DateTime<Utc>,
) -> Payload {
    Payload {
        v: PAYLOAD_VERSION,
        id,
        kid: kid.to_string(),
        issued_at: payload::rfc3339_seconds(issued_at),
        producer: payload::Producer {
            name: producer.name.clone(),
            credit_code: producer.credit_code.clone(),
            address: producer.address.clone(),
        },
        product: payload::Product {
            name: r.product.name.clone(),
            model: r.product.model.clone(),
            standard: r.product.standard.clone(),
            gtin: r.product.gtin.clone(),
        },
        batch: r.checked.batch.clone(),
        inspection: r.checked.inspection.clone(),
        marks: r.marks.clone(),
        units: r.checked.units,
    }
}

/// The certificate row and its `issued` event (signed by `event_signer`, the platform-held
/// key of the producer) for a signed payload.
pub(super) fn stored(
    event_signer: &Signer,
    producer: &Organization,
    r: &RowFacts,
    payload: Payload,
    canonical: String,
    signature: Vec<u8>,
) -> Built {
    let details =
        serde_json::Map::from_iter([("batch_no".to_string(), payload.batch.no.clone().into())]);
    let first = trail::first_event(
        event_signer,
        &payload.id,
        trail::NewEvent {
            actor: producer,
            kind: EventType::Issued,
            serial: None,
            details,
        },
    );
    let row = Certificate {
        id: payload.id.clone(),
        organization_id: producer.id.clone(),
        product_id: r.product_id.clone(),
        batch_no: payload.batch.no.clone(),
        kid: payload.kid.clone(),
        payload: canonical,
        signature,
        status: CertStatus::Active.as_str().into(),
        status_reason: None,
        units: r.units,
        issued_at: now(),
        trail_seq: 1,
        trail_hash: first.hash.clone(),
        lab_id: r.lab_id.clone(),
        kind: "conformity".into(),
    };
    (row, first, payload)
}

/// Builds and signs every certificate and its `issued` event, spread over the CPU cores.
fn sign_all(
    signer: &Signer,
    producer: &Organization,
    ready: Vec<Ready>,
    issued_at: chrono::DateTime<Utc>,
) -> Vec<Built> {
    let build = |r: Ready| {
        let id = new_id();
        let payload = payload_of(&r, id, &signer.kid, producer, issued_at);
        let canonical = payload.canonical();
        let signature = signer.sign(&certificate_message(&canonical));
        stored(
            signer,
            producer,
            &r.row_facts(),
            payload,
            canonical,
            signature.to_vec(),
        )
    };
    use rayon::prelude::*;
    ready.into_par_iter().map(build).collect()
}
