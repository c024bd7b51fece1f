//! Claims of custody on the consoles: a holder confirms or disputes the intakes that name it as
//! the previous holder and follows its own; a regulator sees its region's and decides them.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::error::AppResult;
use crate::http::extract::blocking;
use crate::service::custody::claims::{self, ClaimDecision, ClaimView};
use crate::service::{Actor, AppState};

use crate::web::page::{see_other, SignedForm};

/// A claim on a console, and whether the viewer may confirm or dispute it.
#[derive(Debug, Clone)]
pub struct ClaimLine {
    pub claim: ClaimView,
    pub decide: bool,
}

/// The claims a console lists for `actor`: pending and disputed ones first come from the list
/// itself (newest first).
pub fn for_console(state: &AppState, actor: &Actor) -> AppResult<Vec<ClaimLine>> {
    let Actor::Org(org) = actor else {
        return Ok(vec![]);
    };
    let regulator = org.kind == "regulator";
    Ok(claims::list(state, actor, None)?
        .into_iter()
        .map(|claim| ClaimLine {
            decide: claim.status == "pending" && (regulator || claim.source.id == org.id),
            claim,
        })
        .collect())
}

#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    /// Confirming: how much was handed over (blank: the claim's own quantity).
    #[serde(default)]
    quantity: String,
    #[serde(default)]
    reason: String,
}

/// `POST /console/claims/{id}/{confirm|dispute}`.
pub async fn decide(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    SignedForm(user, form): SignedForm<DecisionForm>,
) -> AppResult<HttpResponse> {
    let (id, action) = path.into_inner();
    let quantity = match form.quantity.trim() {
        "" => None,
        q => Some(q.parse::<i64>().map_err(|_| {
            crate::error::AppError::invalid(
                "not_a_number",
                "quantity",
                "quantity must be a whole number",
            )
        })?),
    };
    let actor = user.actor.clone();
    let back = match user.organization.kind.as_str() {
        "regulator" => "/console/oversight?done=1",
        _ => "/console?done=claim_decided",
    };
    blocking(&state, move |s| match action.as_str() {
        "confirm" => claims::confirm(
            s,
            &actor,
            &id,
            ClaimDecision {
                quantity,
                reason: None,
            },
        ),
        _ => claims::dispute(
            s,
            &actor,
            &id,
            ClaimDecision {
                quantity: None,
                reason: Some(form.reason),
            },
        ),
    })
    .await?;
    Ok(see_other(back))
}
