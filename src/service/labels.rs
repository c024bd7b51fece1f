//! What a label's QR code holds. Batch labels are public; unit labels are derived on demand
//! for the owning producer only (anyone holding them could print genuine unit labels).

use crate::crypto::b64url;
use crate::crypto::signing::unit_message;
use crate::db::models::Certificate;
use crate::domain::payload::recanonicalize;
use crate::domain::role::OrgKind;
use crate::error::{AppError, AppResult};

use super::{checked_id, Actor, AppState};

/// The batch label URL of certificate `id`.
pub fn batch_label(state: &AppState, id: &str) -> AppResult<String> {
    let mut conn = state.db.reader()?;
    let cert = Certificate::find(&mut conn, checked_id(id, "certificate")?)?
        .ok_or_else(|| AppError::not_found("certificate"))?;
    Ok(state.batch_label_url(&cert.id, &b64url(&cert.signature)))
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
    let units = cert.units.ok_or_else(|| {
        AppError::invalid(
            "not_serialized",
            "serial",
            "this certificate was issued without unit serials",
        )
    })?;
    if !(1..=units).contains(&serial) {
        return Err(AppError::NotFound(format!(
            "unit {serial} does not exist (units 1..={units})"
        )));
    }
    let (_, canonical) = recanonicalize(&cert.payload)
        .ok_or_else(|| AppError::Internal(format!("certificate {id} has an unreadable payload")))?;
    let signer = state.keys.signer(&mut conn, &org.id)?;
    if signer.kid != cert.kid {
        return Err(AppError::Conflict {
            code: "key_rotated",
            message: "the certificate was signed with a key that is no longer active".into(),
        });
    }
    let signature = signer.sign(&unit_message(&cert.id, serial, &canonical));
    Ok(state.unit_label_url(&cert.id, serial, &b64url(&signature)))
}
