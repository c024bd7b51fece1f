//! What a label's QR code holds. Batch labels are public; unit labels are derived on demand
//! for the owning producer only (anyone holding them could print genuine unit labels).

use std::collections::HashMap;
use std::ops::RangeInclusive;

use serde::Deserialize;

use crate::crypto::b64url;
use crate::crypto::signing::unit_message;
use crate::db::models::{Certificate, SigningKeyRow};
use crate::db::DbConn;
use crate::domain::payload::recanonicalize;
use crate::domain::role::OrgKind;
use crate::error::{AppError, AppResult};
use crate::print::PrintLabel;

use crate::service::{checked_id, Actor, AppState};

/// Most labels one export may hold.
pub const MAX_EXPORT: usize = 10_000;

/// The batch label URL of certificate `id`.
pub fn batch_label(state: &AppState, id: &str) -> AppResult<String> {
    let mut conn = state.db.reader()?;
    let cert = Certificate::find(&mut conn, checked_id(id, "certificate")?)?
        .ok_or_else(|| AppError::not_found("certificate"))?;
    Ok(state.batch_label_url(&cert.id, &b64url(&cert.signature)))
}

/// The offline batch label of certificate `id` (public, contract §10): the batch label URL
/// with the signed payload packed into `p`.
pub fn offline_batch_label(state: &AppState, id: &str) -> AppResult<String> {
    let mut conn = state.db.reader()?;
    let cert = Certificate::find(&mut conn, checked_id(id, "certificate")?)?
        .ok_or_else(|| AppError::not_found("certificate"))?;
    Ok(format!(
        "{}&p={}",
        state.batch_label_url(&cert.id, &b64url(&cert.signature)),
        crate::domain::label::pack_payload(&cert.payload)
    ))
}

/// The unit label URL of unit `serial` of certificate `id`; owning producer only.
pub fn unit_label(state: &AppState, actor: &Actor, id: &str, serial: i64) -> AppResult<String> {
    let org = actor.require_kind(&[OrgKind::Producer])?;
    let mut conn = state.db.reader()?;
    let cert = Certificate::find(&mut conn, checked_id(id, "certificate")?)?
        .ok_or_else(|| AppError::not_found("certificate"))?;
    if cert.organization_id != org.id {
        return Err(AppError::Forbidden(
            "unit labels are only for the issuing producer".into(),
        ));
    }
    let units = serial_range(&cert)?;
    if !units.contains(&serial) {
        return Err(AppError::NotFound(format!(
            "unit {serial} does not exist (units 1..={})",
            units.end()
        )));
    }
    Ok(unit_urls(state, &mut conn, &cert, serial..=serial)?.remove(0))
}

/// Serials 1..=units of a serialized certificate.
fn serial_range(cert: &Certificate) -> AppResult<RangeInclusive<i64>> {
    let units = cert.units.ok_or_else(|| {
        AppError::invalid(
            "not_serialized",
            "serial",
            "this certificate was issued without unit serials",
        )
    })?;
    Ok(1..=units)
}

/// Signs the unit labels `serials` of `cert` with its producer's active key.
fn unit_urls(
    state: &AppState,
    conn: &mut DbConn,
    cert: &Certificate,
    serials: RangeInclusive<i64>,
) -> AppResult<Vec<String>> {
    let (_, canonical) = recanonicalize(&cert.payload).ok_or_else(|| {
        AppError::internal(format!("certificate {} has an unreadable payload", cert.id))
    })?;
    let key = SigningKeyRow::find(conn, &cert.kid)?
        .ok_or_else(|| AppError::internal(format!("key {} is missing", cert.kid)))?;
    if key.status == "compromised" {
        return Err(AppError::Conflict {
            code: "key_compromised",
            message:
                "the certificate's key was declared compromised: its labels are no longer printed"
                    .into(),
        });
    }
    if !key.held_by_platform() {
        return Err(AppError::Conflict {
            code: "key_held_by_producer",
            message:
                "the producer holds this certificate's key: sign unit labels with `certrail sign`"
                    .into(),
        });
    }
    let signer = state.keys.unsealed(&key)?;
    Ok(serials
        .map(|serial| {
            let signature = signer.sign(&unit_message(&cert.id, serial, &canonical));
            state.unit_label_url(&cert.id, serial, &b64url(&signature))
        })
        .collect())
}

/// `POST /api/v1/labels.pdf` and `POST /api/v1/labels.zip`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    /// Ids of the calling producer's certificates (e.g. from a bulk issuance).
    #[schema(value_type = Vec<crate::domain::request::Id>, min_items = 1, max_items = 10000)]
    pub certificates: Vec<String>,
    /// Every unit label (1..=units) of each certificate instead of its batch label.
    #[serde(default)]
    pub units: bool,
}

/// The labels of a print run: the calling producer's own certificates only, at most
/// 10,000 labels, in the order asked.
pub fn export(state: &AppState, actor: &Actor, req: &ExportRequest) -> AppResult<Vec<PrintLabel>> {
    let org = actor.require_kind(&OrgKind::HOLDERS)?;
    if req.certificates.is_empty() || req.certificates.len() > MAX_EXPORT {
        return Err(AppError::invalid(
            "out_of_range",
            "certificates",
            format!("send 1 to {MAX_EXPORT} certificate ids"),
        ));
    }
    for (i, id) in req.certificates.iter().enumerate() {
        checked_id(id, "certificate").map_err(|_| {
            AppError::invalid(
                "invalid_id",
                &format!("certificates.{i}"),
                "not a certificate id",
            )
        })?;
    }
    let mut conn = state.db.reader()?;
    let found: HashMap<String, Certificate> = Certificate::find_many(&mut conn, &req.certificates)?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let mut certs = Vec::with_capacity(req.certificates.len());
    for id in &req.certificates {
        let cert = found
            .get(id)
            .ok_or_else(|| AppError::NotFound(format!("certificate {id} not found")))?;
        if cert.organization_id != org.id {
            return Err(AppError::Forbidden(format!(
                "certificate {id} belongs to another producer"
            )));
        }
        certs.push(cert);
    }
    let total: i64 = if req.units {
        certs
            .iter()
            .map(|c| serial_range(c).map(|r| *r.end()))
            .sum::<AppResult<i64>>()?
    } else {
        certs.len() as i64
    };
    if total > MAX_EXPORT as i64 {
        return Err(AppError::invalid(
            "too_many_labels",
            "certificates",
            format!("{total} labels asked; one export holds at most {MAX_EXPORT}"),
        ));
    }
    let mut labels = Vec::with_capacity(total as usize);
    for cert in certs {
        // The product name as signed, for the caption.
        let product = serde_json::from_str::<serde_json::Value>(&cert.payload)
            .ok()
            .and_then(|p| p["product"]["name"].as_str().map(str::to_string))
            .unwrap_or_default();
        // A 承诺达标合格证's label shows those words (MARA Order 2025 No. 4).
        let product = match cert.kind.as_str() {
            crate::domain::promise::PROMISE_TYPE => format!("承诺达标合格证 · {product}"),
            _ => product,
        };
        if req.units {
            let urls = unit_urls(state, &mut conn, cert, serial_range(cert)?)?;
            labels.extend(urls.into_iter().zip(1..).map(|(url, serial)| PrintLabel {
                url,
                caption: vec![
                    product.clone(),
                    format!("{} #{serial}", cert.id),
                    cert.batch_no.clone(),
                ],
                file_name: format!("{}-{serial:06}.png", cert.id),
            }));
        } else {
            labels.push(PrintLabel {
                url: state.batch_label_url(&cert.id, &b64url(&cert.signature)),
                caption: vec![product.clone(), cert.id.clone(), cert.batch_no.clone()],
                file_name: format!("{}.png", cert.id),
            });
        }
    }
    Ok(labels)
}
