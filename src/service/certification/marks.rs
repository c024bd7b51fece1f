//! Certification marks (organic, green product, 蒙字标, CCC, …): a certification body records
//! a mark for a product and may suspend it. A certificate may claim only marks that are
//! recorded and valid on its issue date.

use serde::{Deserialize, Serialize};

use crate::crypto::random::new_id;
use crate::db::models::{now, MarkRecord, Organization, Product};
use crate::db::DbConn;
use crate::domain::payload::Mark;
use crate::domain::role::OrgKind;
use crate::domain::validate;
use crate::error::{AppError, AppResult};

use crate::service::{checked_id, Actor, AppState};

/// `GET /api/v1/marks/lookup?scheme=&cert_no=`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MarkQuery {
    #[param(value_type = crate::domain::request::Text50, inline, required = true)]
    pub scheme: Option<String>,
    #[param(value_type = crate::domain::request::Text64, inline, required = true)]
    pub cert_no: Option<String>,
}

/// `POST /api/v1/marks`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMark {
    pub product_id: String,
    /// e.g. `organic`, `green_product`, `蒙字标`, `CCC`.
    #[schema(value_type = crate::domain::request::Text50)]
    pub scheme: String,
    #[schema(value_type = crate::domain::request::Text64)]
    pub cert_no: String,
    /// `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub valid_from: String,
    /// `YYYY-MM-DD`, after `valid_from`.
    #[schema(format = Date)]
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

/// Checks a certificate number against its scheme's format where the scheme defines one:
/// CCC (China Compulsory Certification) certificates are numbered with 16 digits. Other
/// schemes' numbers are free text of up to 64 characters.
pub fn check_number(scheme: &str, cert_no: &str) -> AppResult<String> {
    let cert_no = validate::text("cert_no", cert_no, 64)?;
    if scheme == "CCC" && !(cert_no.len() == 16 && cert_no.bytes().all(|b| b.is_ascii_digit())) {
        return Err(AppError::invalid(
            "invalid_cert_no",
            "cert_no",
            "a CCC certificate number has 16 digits",
        ));
    }
    Ok(cert_no)
}

/// Certification bodies only: records a mark for a product.
pub fn record(state: &AppState, actor: &Actor, input: NewMark) -> AppResult<MarkView> {
    let body = actor.require_kind(&[OrgKind::CertificationBody])?;
    let (from, until) = validate::period(&input.valid_from, &input.valid_until)?;
    let scheme = validate::text("scheme", &input.scheme, 50)?;
    let cert_no = check_number(&scheme, &input.cert_no)?;
    let record = MarkRecord {
        id: new_id(),
        product_id: checked_id(input.product_id.trim(), "product")?.to_string(),
        body_id: body.id.clone(),
        scheme,
        cert_no,
        valid_from: from.format("%Y-%m-%d").to_string(),
        valid_until: until.format("%Y-%m-%d").to_string(),
        status: "valid".into(),
        created_at: now(),
        suspended_by: None,
    };
    state.write(|conn| {
        Product::find(conn, &record.product_id)?.ok_or_else(|| AppError::not_found("product"))?;
        record.insert(conn)?;
        crate::service::changes::everything(conn)
    })?;
    Ok(record.into())
}

/// The recording certification body, or a regulator of its region (supervising certification
/// bodies): sets a mark `valid` or `suspended`.
pub fn set_status(
    state: &AppState,
    actor: &Actor,
    id: &str,
    status: &'static str,
) -> AppResult<MarkView> {
    let org = actor.require_kind(&[OrgKind::CertificationBody, OrgKind::Regulator])?;
    state.write(|conn| {
        let mark = MarkRecord::find(conn, checked_id(id, "mark")?)?
            .ok_or_else(|| AppError::not_found("mark"))?;
        let body = Organization::find(conn, &mark.body_id)?
            .ok_or_else(|| AppError::not_found("certification body"))?;
        let allowed = match org.kind() {
            OrgKind::Regulator => crate::domain::region::within(&org.region_code, &body.region_code),
            _ => mark.body_id == org.id,
        };
        if !allowed {
            return Err(AppError::Forbidden(
                "only the certification body that recorded the mark, or a regulator of its region, may change it".into(),
            ));
        }
        // A regulator's suspension is the regulator's to lift.
        if status == "valid" && org.kind() != OrgKind::Regulator {
            if let Some(by) = mark.suspended_by.as_deref() {
                let by_regulator = Organization::find(conn, by)?
                    .is_some_and(|o| o.kind() == OrgKind::Regulator);
                if by_regulator {
                    return Err(AppError::Denied {
                        code: "suspended_by_regulator",
                        message: "a regulator suspended this mark: only a regulator of the body's region can reinstate it".into(),
                    });
                }
            }
        }
        if org.kind() == OrgKind::Regulator {
            crate::service::audit::record(
                conn,
                actor,
                &body.region_code,
                if status == "suspended" { "mark.suspend" } else { "mark.reinstate" },
                &format!("mark:{}", mark.id),
                serde_json::json!({"scheme": mark.scheme, "cert_no": mark.cert_no}),
            )?;
        }
        let by = (status == "suspended").then_some(org.id.as_str());
        MarkRecord::set_status(conn, &mark.id, status, by)?;
        crate::service::changes::everything(conn)?;
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

/// A mark as the public lookup shows it: who holds it, for what, and its status today.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MarkLookup {
    pub scheme: String,
    pub cert_no: String,
    /// `valid`, `suspended`, `expired` or `not_yet_valid` (today, UTC).
    pub status: String,
    pub valid_from: String,
    pub valid_until: String,
    /// The producer holding the certificate.
    pub holder: String,
    pub holder_credit_code: String,
    pub product: String,
    pub certification_body: String,
}

/// Public: the marks with this scheme and number (one per product it covers).
pub fn lookup(state: &AppState, scheme: &str, cert_no: &str) -> AppResult<Vec<MarkLookup>> {
    let scheme = validate::text("scheme", scheme, 50)?;
    let cert_no = validate::text("cert_no", cert_no, 64)?;
    let mut conn = state.db.reader()?;
    let today = chrono::Utc::now()
        .date_naive()
        .format("%Y-%m-%d")
        .to_string();
    let mut out = Vec::new();
    for mark in MarkRecord::by_number(&mut conn, &scheme, &cert_no)? {
        let Some(product) = Product::find(&mut conn, &mark.product_id)? else {
            continue;
        };
        let holder = Organization::find(&mut conn, &product.organization_id)?;
        let body = Organization::find(&mut conn, &mark.body_id)?;
        let status = match mark.status.as_str() {
            "valid" if mark.valid_until < today => "expired".to_string(),
            "valid" if mark.valid_from > today => "not_yet_valid".to_string(),
            other => other.to_string(),
        };
        out.push(MarkLookup {
            scheme: mark.scheme,
            cert_no: mark.cert_no,
            status,
            valid_from: mark.valid_from,
            valid_until: mark.valid_until,
            holder: holder.as_ref().map(|h| h.name.clone()).unwrap_or_default(),
            holder_credit_code: holder.map(|h| h.credit_code).unwrap_or_default(),
            product: format!("{} {}", product.name, product.model),
            certification_body: body.map(|b| b.name).unwrap_or_default(),
        });
    }
    if out.is_empty() {
        return Err(AppError::not_found("mark"));
    }
    Ok(out)
}
