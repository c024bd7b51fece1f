//! Certification marks (organic, green product, 蒙字标, CCC, …): a certification body records
//! a mark for a product and may suspend it. A certificate may claim only marks that are
//! recorded and valid on its issue date.

use serde::{Deserialize, Serialize};

use crate::crypto::random::new_id;
use crate::db::models::{now, MarkRecord, Product};
use crate::db::DbConn;
use crate::domain::payload::Mark;
use crate::domain::role::OrgKind;
use crate::domain::validate;
use crate::error::{AppError, AppResult};

use super::{checked_id, Actor, AppState};

/// `POST /api/v1/marks`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMark {
    pub product_id: String,
    /// e.g. `organic`, `green_product`, `蒙字标`, `CCC`.
    pub scheme: String,
    pub cert_no: String,
    /// `YYYY-MM-DD`.
    pub valid_from: String,
    /// `YYYY-MM-DD`, after `valid_from`.
    pub valid_until: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MarkView {
    pub id: String,
    pub product_id: String,
    pub body_id: String,
    pub scheme: String,
    pub cert_no: String,
    pub valid_from: String,
    pub valid_until: String,
    /// `valid` or `suspended`.
    pub status: String,
}

impl From<MarkRecord> for MarkView {
    fn from(m: MarkRecord) -> Self {
        Self {
            id: m.id,
            product_id: m.product_id,
            body_id: m.body_id,
            scheme: m.scheme,
            cert_no: m.cert_no,
            valid_from: m.valid_from,
            valid_until: m.valid_until,
            status: m.status,
        }
    }
}

/// Certification bodies only: records a mark for a product.
pub fn record(state: &AppState, actor: &Actor, input: NewMark) -> AppResult<MarkView> {
    let body = actor.require_kind(&[OrgKind::CertificationBody])?;
    let (from, until) = validate::period(&input.valid_from, &input.valid_until)?;
    let record = MarkRecord {
        id: new_id(),
        product_id: checked_id(input.product_id.trim(), "product")?.to_string(),
        body_id: body.id.clone(),
        scheme: validate::text("scheme", &input.scheme, 50)?,
        cert_no: validate::text("cert_no", &input.cert_no, 64)?,
        valid_from: from.format("%Y-%m-%d").to_string(),
        valid_until: until.format("%Y-%m-%d").to_string(),
        status: "valid".into(),
        created_at: now(),
    };
    state.write(|conn| {
        Product::find(conn, &record.product_id)?.ok_or_else(|| AppError::not_found("product"))?;
        record.insert(conn)?;
        super::changes::everything(conn)
    })?;
    Ok(record.into())
}

/// The recording certification body only: sets a mark `valid` or `suspended`.
pub fn set_status(
    state: &AppState,
    actor: &Actor,
    id: &str,
    status: &'static str,
) -> AppResult<MarkView> {
    let body = actor.require_kind(&[OrgKind::CertificationBody])?;
    state.write(|conn| {
        let mark = MarkRecord::find(conn, checked_id(id, "mark")?)?
            .ok_or_else(|| AppError::not_found("mark"))?;
        if mark.body_id != body.id {
            return Err(AppError::Forbidden(
                "only the certification body that recorded the mark may change it".into(),
            ));
        }
        MarkRecord::set_status(conn, &mark.id, status)?;
        super::changes::everything(conn)?;
        Ok(MarkView {
            status: status.into(),
            ..mark.into()
        })
    })
}

/// Public: the marks recorded for a product.
pub fn for_product(state: &AppState, product_id: &str) -> AppResult<Vec<MarkView>> {
    let mut conn = state.db.reader()?;
    Ok(
        MarkRecord::for_product(&mut conn, checked_id(product_id, "product")?)?
            .into_iter()
            .map(Into::into)
            .collect(),
    )
}

/// Checks every claimed mark is recorded for the product and valid on `date` (`YYYY-MM-DD`).
pub fn check_claims(
    conn: &mut DbConn,
    product_id: &str,
    claims: &[Mark],
    date: &str,
) -> AppResult<()> {
    if claims.is_empty() {
        return Ok(());
    }
    let records = MarkRecord::for_product(conn, product_id)?;
    for (i, claim) in claims.iter().enumerate() {
        let valid = records.iter().any(|r| {
            r.scheme == claim.scheme
                && r.cert_no == claim.cert_no
                && r.status == "valid"
                && r.valid_from.as_str() <= date
                && date <= r.valid_until.as_str()
        });
        if !valid {
            return Err(AppError::invalid(
                "mark_not_valid",
                &format!("marks.{i}"),
                format!(
                    "mark {} {} is not recorded as valid for this product today",
                    claim.scheme, claim.cert_no
                ),
            ));
        }
    }
    Ok(())
}
