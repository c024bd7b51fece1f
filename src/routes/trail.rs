//! Trail handlers: custody events, inspections, status changes, recalls, the trail and its
//! EPCIS export.

use actix_web::{web, HttpResponse};

use crate::domain::trail::EventType;
use crate::error::AppResult;
use crate::service::claims::{ClaimDecision, ClaimView};
use crate::service::custody::Legs;
use crate::service::events::{NewEvent, Recorded};
use crate::service::recalls::{NewRecall, RecallView};
use crate::service::status::{NewInspection, StatusChange, StatusChanged};
use crate::service::trail::{PageQuery, Trail};
use crate::service::{claims, custody, epcis, events, recalls, status, trail, AppState};

use crate::http::extract::{blocking, Auth, ValidJson};
use crate::openapi::ErrorEnvelope;

type State = web::Data<AppState>;

#[utoipa::path(get, path = "/api/v1/shipments", tag = "trail", security(("bearer" = [])),
    responses((status = 200, body = Legs, description = "Legs of custody: goods on their way to this organization (open), and its shipments the consignee refused; at most 50 of each"),
              (status = 403, body = ErrorEnvelope)))]
pub async fn list_shipments(state: State, Auth(actor): Auth) -> AppResult<HttpResponse> {
    let legs = blocking(&state, move |s| custody::for_actor(s, &actor)).await?;
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
pub struct ClaimQuery {
    /// pending, confirmed or disputed (default: all).
    status: Option<String>,
}

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

#[utoipa::path(post, path = "/api/v1/certificates/{id}/inspections", tag = "trail", request_body = NewInspection,
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 201, body = StatusChanged), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn inspect(
    state: State,
    Auth(actor): Auth,
    id: web::Path<String>,
    body: ValidJson<NewInspection>,
) -> AppResult<HttpResponse> {
    let done = blocking(&state, move |s| status::inspect(s, &actor, &id, body.0)).await?;
    Ok(HttpResponse::Created().json(done))
}

async fn change(
    state: State,
    actor: crate::service::Actor,
    id: String,
    kind: EventType,
    body: StatusChange,
) -> AppResult<HttpResponse> {
    let done = blocking(&state, move |s| status::change(s, &actor, &id, kind, body)).await?;
    Ok(HttpResponse::Ok().json(done))
}

#[utoipa::path(post, path = "/api/v1/certificates/{id}/suspend", tag = "trail", request_body = StatusChange,
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = StatusChanged), (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn suspend(
    state: State,
    Auth(actor): Auth,
    id: web::Path<String>,
    body: ValidJson<StatusChange>,
) -> AppResult<HttpResponse> {
    change(state, actor, id.into_inner(), EventType::Suspended, body.0).await
}

#[utoipa::path(post, path = "/api/v1/certificates/{id}/reinstate", tag = "trail", request_body = StatusChange,
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = StatusChanged), (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn reinstate(
    state: State,
    Auth(actor): Auth,
    id: web::Path<String>,
    body: ValidJson<StatusChange>,
) -> AppResult<HttpResponse> {
    change(state, actor, id.into_inner(), EventType::Reinstated, body.0).await
}

#[utoipa::path(post, path = "/api/v1/certificates/{id}/revoke", tag = "trail", request_body = StatusChange,
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = StatusChanged), (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn revoke(
    state: State,
    Auth(actor): Auth,
    id: web::Path<String>,
    body: ValidJson<StatusChange>,
) -> AppResult<HttpResponse> {
    change(state, actor, id.into_inner(), EventType::Revoked, body.0).await
}

#[utoipa::path(get, path = "/api/v1/certificates/{id}/trail", tag = "trail", params(("id" = String, Path), PageQuery),
    responses((status = 200, body = Trail, description = "One page of the trail (100 events unless `limit` says otherwise, at most 500); `next` is the `after` of the following page"),
              (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn get_trail(
    state: State,
    id: web::Path<String>,
    page: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let query = page.into_inner();
    let trail = blocking(&state, move |s| trail::get(s, &id, query)).await?;
    Ok(HttpResponse::Ok().json(trail))
}

#[utoipa::path(get, path = "/api/v1/certificates/{id}/epcis", tag = "trail", params(("id" = String, Path), PageQuery),
    responses((status = 200, description = "EPCIS 2.0 JSON-LD document of one page of the trail (as `/trail` pages it; the first page also holds the commissioning and re-issue events); a `Link: <…>; rel=\"next\"` header names the following page", content_type = "application/ld+json"),
              (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn get_epcis(
    state: State,
    id: web::Path<String>,
    page: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let path_id = id.clone();
    let query = page.into_inner();
    let (doc, next) = blocking(&state, move |s| epcis::document(s, &id, query)).await?;
    let mut res = HttpResponse::Ok();
    res.content_type("application/ld+json");
    if let Some(after) = next {
        let limit = query
            .limit
            .map(|l| format!("&limit={l}"))
            .unwrap_or_default();
        res.insert_header((
            actix_web::http::header::LINK,
            format!(
                "<{}>; rel=\"next\"",
                state.public_url(&format!(
                    "/api/v1/certificates/{path_id}/epcis?after={after}{limit}"
                ))
            ),
        ));
    }
    Ok(res.body(doc.to_string()))
}

#[utoipa::path(post, path = "/api/v1/recalls", tag = "trail", request_body = NewRecall, security(("bearer" = [])),
    responses((status = 201, body = RecallView), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create_recall(
    state: State,
    Auth(actor): Auth,
    body: ValidJson<NewRecall>,
) -> AppResult<HttpResponse> {
    let recall = blocking(&state, move |s| recalls::create(s, &actor, body.0)).await?;
    Ok(HttpResponse::Created().json(recall))
}

#[utoipa::path(get, path = "/api/v1/recalls", tag = "trail", security(("bearer" = [])),
    responses((status = 200, description = "`{\"recalls\": [RecallView]}`: recalls touching the caller's stock, products or region")))]
pub async fn list_recalls(state: State, Auth(actor): Auth) -> AppResult<HttpResponse> {
    let list = blocking(&state, move |s| recalls::list(s, &actor)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "recalls": list })))
}

#[utoipa::path(get, path = "/api/v1/recalls/{id}", tag = "trail", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = RecallView, description = "For the producer, regulators of its region and retailers that took the goods in"),
              (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get_recall(
    state: State,
    Auth(actor): Auth,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let recall = blocking(&state, move |s| recalls::get(s, &actor, &id)).await?;
    Ok(HttpResponse::Ok().json(recall))
}
