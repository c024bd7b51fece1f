//! Legs of custody on the consoles: ship goods on to a named consignee, refuse goods at
//! intake, and see what is on its way and what was refused.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::db::models::Organization;
use crate::domain::{credit_code, label};
use crate::error::{AppError, AppResult};
use crate::http::extract::blocking;
use crate::service::custody::events::{self, NewEvent};
use crate::service::AppState;

use crate::web::page::{see_other, SignedForm};

#[derive(Debug, Deserialize)]
pub struct ShipForm {
    /// The certificate's id or a scanned label.
    certificate: String,
    /// The consignee's unified social credit code.
    consignee: String,
    #[serde(default)]
    quantity: String,
}

/// The certificate id and unit a form names by id or by scanned label.
fn certificate_of(text: &str) -> AppResult<(String, Option<i64>)> {
    let text = text.trim();
    if text.contains('/') {
        let scanned = label::parse("certificate", text)?;
        return Ok((scanned.id, scanned.serial));
    }
    Ok((text.to_string(), None))
}

/// `POST /console/ship`: records a `shipped` event naming the consignee.
pub async fn ship(
    state: web::Data<AppState>,
    SignedForm(user, form): SignedForm<ShipForm>,
) -> AppResult<HttpResponse> {
    let (id, serial) = certificate_of(&form.certificate)?;
    let code = credit_code::parse("consignee", &form.consignee)?;
    let quantity = match form.quantity.trim() {
        "" => None,
        q => Some(q.parse::<i64>().map_err(|_| {
            AppError::invalid(
                "not_a_number",
                "quantity",
                "quantity must be a whole number",
            )
        })?),
    };
    let actor = user.actor.clone();
    blocking(&state, move |s| {
        let consignee = Organization::find_by_credit_code(&mut *s.db.reader()?, &code)?
            .ok_or_else(|| {
                AppError::invalid(
                    "unknown_consignee",
                    "consignee",
                    "no organization has this credit code",
                )
            })?;
        let event = NewEvent {
            kind: "shipped".into(),
            serial,
            consignee: Some(consignee.id),
            quantity,
            ..Default::default()
        };
        events::record(s, &actor, &id, event)
    })
    .await?;
    Ok(see_other("/console?done=shipped"))
}

#[derive(Debug, Deserialize)]
pub struct RejectForm {
    label_url: String,
    #[serde(default)]
    reason: String,
}

/// `POST /console/reject`: refuses goods shipped to this organization, with the reason.
pub async fn reject(
    state: web::Data<AppState>,
    SignedForm(user, form): SignedForm<RejectForm>,
) -> AppResult<HttpResponse> {
    let scanned = label::parse("label_url", &form.label_url)?;
    let actor = user.actor.clone();
    blocking(&state, move |s| {
        let event = NewEvent {
            kind: "rejected".into(),
            serial: scanned.serial,
            label_url: Some(form.label_url),
            reason: Some(form.reason),
            ..Default::default()
        };
        events::record(s, &actor, &scanned.id, event)
    })
    .await?;
    Ok(see_other("/console?done=rejected"))
}
