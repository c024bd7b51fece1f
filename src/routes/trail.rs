//! Trail handlers: custody events, inspections, status changes, recalls, the trail and its
//! EPCIS export.

use actix_web::{web, HttpResponse};

use crate::domain::trail::EventType;
use crate::error::AppResult;
use crate::service::custody::Legs;
use crate::service::events::{NewEvent, Recorded};
use crate::service::recalls::{NewRecall, RecallView};
use crate::service::status::{NewInspection, StatusChange, StatusChanged};
use crate::service::trail::Trail;
use crate::service::{custody, epcis, events, recalls, status, trail, AppState};

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
    responses((status = 201, body = Recorded), (status = 200, body = Recorded, description = "the same intake again: the earlier event, nothing written"),
              (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope, description = "not_received, no_open_shipment (a refusal needs goods shipped to you), or too_many_events (50 per organization and certificate)"), (status = 422, body = ErrorEnvelope)))]
pub async fn record_event(
    state: State,
    Auth(actor): Auth,
    id: web::Path<String>,
    body: ValidJson<NewEvent>,
) -> AppResult<HttpResponse> {
    let recorded = blocking(&state, move |s| events::record(s, &actor, &id, body.0)).await?;
    Ok(match recorded.created {
        true => HttpResponse::Created().json(recorded),
        false => HttpResponse::Ok().json(recorded),
    })
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

#[utoipa::path(get, path = "/api/v1/certificates/{id}/trail", tag = "trail", params(("id" = String, Path)),
    responses((status = 200, body = Trail), (status = 404, body = ErrorEnvelope)))]
pub async fn get_trail(state: State, id: web::Path<String>) -> AppResult<HttpResponse> {
    let trail = blocking(&state, move |s| trail::get(s, &id)).await?;
    Ok(HttpResponse::Ok().json(trail))
}

#[utoipa::path(get, path = "/api/v1/certificates/{id}/epcis", tag = "trail", params(("id" = String, Path)),
    responses((status = 200, description = "EPCIS 2.0 JSON-LD document", content_type = "application/ld+json"), (status = 404, body = ErrorEnvelope)))]
pub async fn get_epcis(state: State, id: web::Path<String>) -> AppResult<HttpResponse> {
    let doc = blocking(&state, move |s| epcis::document(s, &id)).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/ld+json")
        .body(doc.to_string()))
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
