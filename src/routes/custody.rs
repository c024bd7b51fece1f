//! Custody over the API: events on the trail (ship, intake, sale), legs on their way, and
//! claims of custody.

use crate::error::AppResult;
use crate::error::ErrorEnvelope;
use crate::http::extract::blocking;
use crate::http::extract::Auth;
use crate::http::extract::ValidJson;
use crate::routes::State;
use crate::service::custody::claims;
use crate::service::custody::claims::ClaimDecision;
use crate::service::custody::claims::ClaimView;
use crate::service::custody::events;
use crate::service::custody::events::NewEvent;
use crate::service::custody::events::Recorded;
use crate::service::custody::legs;
use crate::service::custody::legs::Legs;
use actix_web::web;
use actix_web::HttpResponse;

#[utoipa::path(get, path = "/api/v1/shipments", tag = "trail", security(("bearer" = [])),
    responses((status = 200, body = Legs, description = "Legs of custody: goods on their way to this organization (open), and its shipments the consignee refused; at most 50 of each"),
              (status = 403, body = ErrorEnvelope)))]
pub async fn list_shipments(state: State, Auth(actor): Auth) -> AppResult<HttpResponse> {
    let legs = blocking(&state, move |s| legs::for_actor(s, &actor)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "private, no-store"))
        .json(legs))
}

#[utoipa::path(post, path = "/api/v1/certificates/{id}/events", tag = "trail", request_body = NewEvent,
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 201, body = Recorded), (status = 200, body = Recorded, description = "the same intake (or claim) again: the earlier one, nothing written"),
              (status = 202, body = Recorded, description = "an intake no shipment to the caller led to: a claim of custody, kept off the trail until its source or a regulator confirms it"),
              (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope, description = "not_received, no_open_shipment (a refusal needs goods shipped to you), nothing_held or exceeds_holding (a shipment beyond what the shipper holds), too_many_claims, or too_many_events (50 batch-level and 1,000 unit-level per organization and certificate)"), (status = 422, body = ErrorEnvelope)))]
pub async fn record_event(
    state: State,
    Auth(actor): Auth,
    id: web::Path<String>,
    body: ValidJson<NewEvent>,
) -> AppResult<HttpResponse> {
    let recorded = blocking(&state, move |s| events::record(s, &actor, &id, body.0)).await?;
    Ok(match (recorded.created, &recorded.claim) {
        (false, _) => HttpResponse::Ok().json(recorded),
        (true, Some(_)) => HttpResponse::Accepted().json(recorded),
        (true, None) => HttpResponse::Created().json(recorded),
    })
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClaimQuery {
    /// pending, confirmed or disputed (absent or empty: all).
    #[param(value_type = Option<ClaimState>, inline)]
    status: Option<String>,
}

crate::domain::request::named_schema!(
    /// A claim's state, or empty for all (as a filter form sends it).
    ClaimState = crate::domain::request::one_of(&[&[""][..], &claims::STATES].concat())
);

#[utoipa::path(get, path = "/api/v1/claims", tag = "trail", params(ClaimQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<ClaimView>, description = "Claims of custody: for an organization, those it made, that name it as the source, or about goods it issued; for a regulator, those about goods of its region; newest 200"),
              (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn list_claims(
    state: State,
    Auth(actor): Auth,
    query: web::Query<ClaimQuery>,
) -> AppResult<HttpResponse> {
    let status = query.into_inner().status;
    let list = blocking(&state, move |s| claims::list(s, &actor, status.as_deref())).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "private, no-store"))
        .json(list))
}

#[utoipa::path(post, path = "/api/v1/claims/{id}/confirm", tag = "trail", request_body = ClaimDecision,
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = ClaimView, description = "confirmed: the intake is on the trail, on a leg from the source"),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope, description = "claim_decided, label_not_genuine, or source_not_holding"), (status = 422, body = ErrorEnvelope)))]
pub async fn confirm_claim(
    state: State,
    Auth(actor): Auth,
    id: web::Path<String>,
    ValidJson(body): ValidJson<ClaimDecision>,
) -> AppResult<HttpResponse> {
    let done = blocking(&state, move |s| claims::confirm(s, &actor, &id, body)).await?;
    Ok(HttpResponse::Ok().json(done))
}

#[utoipa::path(post, path = "/api/v1/claims/{id}/dispute", tag = "trail", request_body = ClaimDecision,
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = ClaimView, description = "disputed, with the reason: kept for the issuer and the regulator"),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope, description = "claim_decided"), (status = 422, body = ErrorEnvelope)))]
pub async fn dispute_claim(
    state: State,
    Auth(actor): Auth,
    id: web::Path<String>,
    ValidJson(body): ValidJson<ClaimDecision>,
) -> AppResult<HttpResponse> {
    let done = blocking(&state, move |s| claims::dispute(s, &actor, &id, body)).await?;
    Ok(HttpResponse::Ok().json(done))
}
