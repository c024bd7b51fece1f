//! Certification marks and lab accreditations.

use crate::error::AppResult;
use crate::error::ErrorEnvelope;
use crate::http::extract::blocking;
use crate::http::extract::Auth;
use crate::http::extract::ValidJson;
use crate::routes::State;
use crate::service::certification::labs;
use crate::service::certification::labs::AccreditationView;
use crate::service::certification::labs::NewAccreditation;
use crate::service::certification::marks;
use crate::service::certification::marks::MarkLookup;
use crate::service::certification::marks::MarkQuery;
use crate::service::certification::marks::MarkView;
use crate::service::certification::marks::NewMark;
use actix_web::web;
use actix_web::HttpResponse;

#[utoipa::path(post, path = "/api/v1/marks", tag = "marks", request_body = NewMark, security(("bearer" = [])),
    responses((status = 201, body = MarkView), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create_mark(
    state: State,
    Auth(actor): Auth,
    body: ValidJson<NewMark>,
) -> AppResult<HttpResponse> {
    let mark = blocking(&state, move |s| marks::record(s, &actor, body.0)).await?;
    Ok(HttpResponse::Created().json(mark))
}

#[utoipa::path(post, path = "/api/v1/marks/{id}/suspend", tag = "marks", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = MarkView), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn suspend_mark(
    state: State,
    Auth(actor): Auth,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let mark = blocking(&state, move |s| {
        marks::set_status(s, &actor, &id, "suspended")
    })
    .await?;
    Ok(HttpResponse::Ok().json(mark))
}

#[utoipa::path(post, path = "/api/v1/marks/{id}/reinstate", tag = "marks", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = MarkView), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn reinstate_mark(
    state: State,
    Auth(actor): Auth,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let mark = blocking(&state, move |s| marks::set_status(s, &actor, &id, "valid")).await?;
    Ok(HttpResponse::Ok().json(mark))
}

#[utoipa::path(get, path = "/api/v1/products/{id}/marks", tag = "marks", params(("id" = String, Path)),
    responses((status = 200, description = "`{\"marks\": [MarkView]}`")))]
pub async fn product_marks(state: State, id: web::Path<String>) -> AppResult<HttpResponse> {
    let list = blocking(&state, move |s| marks::for_product(s, &id)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "marks": list })))
}

#[utoipa::path(post, path = "/api/v1/labs/accreditations", tag = "marks", request_body = NewAccreditation, security(("bearer" = [])),
    responses((status = 201, body = AccreditationView), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn add_accreditation(
    state: State,
    Auth(actor): Auth,
    body: ValidJson<NewAccreditation>,
) -> AppResult<HttpResponse> {
    let row = blocking(&state, move |s| labs::add(s, &actor, body.0)).await?;
    Ok(HttpResponse::Created().json(row))
}

#[utoipa::path(get, path = "/api/v1/labs/{id}/accreditations", tag = "marks", params(("id" = String, Path)),
    responses((status = 200, description = "`{\"accreditations\": [AccreditationView]}`")))]
pub async fn lab_accreditations(state: State, id: web::Path<String>) -> AppResult<HttpResponse> {
    let list = blocking(&state, move |s| labs::list(s, &id)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "accreditations": list })))
}

#[utoipa::path(post, path = "/api/v1/accreditations/{id}/confirm", tag = "marks", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = AccreditationView, description = "Confirmed by a regulator of the lab's region: it counts from now on"),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn confirm_accreditation(
    state: State,
    Auth(actor): Auth,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let done = blocking(&state, move |s| labs::confirm(s, &actor, &id)).await?;
    Ok(HttpResponse::Ok().json(done))
}

#[utoipa::path(get, path = "/api/v1/accreditations/pending", tag = "marks", security(("bearer" = [])),
    responses((status = 200, body = Vec<AccreditationView>, description = "Claims of labs in the regulator's region awaiting confirmation"),
              (status = 403, body = ErrorEnvelope)))]
pub async fn pending_accreditations(state: State, Auth(actor): Auth) -> AppResult<HttpResponse> {
    let list = blocking(&state, move |s| labs::pending(s, &actor)).await?;
    Ok(HttpResponse::Ok().json(list))
}

#[utoipa::path(post, path = "/api/v1/labs/{id}/delist", tag = "marks", request_body = crate::routes::access::admin::Reason,
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "`{\"delisted\": n}`: every accreditation of the lab ended"),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn delist_lab(
    state: State,
    Auth(actor): Auth,
    id: web::Path<String>,
    body: ValidJson<crate::routes::access::admin::Reason>,
) -> AppResult<HttpResponse> {
    let n = blocking(&state, move |s| {
        labs::delist(s, &actor, &id, &body.0.reason)
    })
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "delisted": n })))
}

#[utoipa::path(get, path = "/api/v1/marks/lookup", tag = "marks", params(MarkQuery),
    responses((status = 200, body = Vec<MarkLookup>, description = "One row per product the certificate covers"),
              (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn lookup_mark(state: State, query: web::Query<MarkQuery>) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let (scheme, cert_no) = (q.scheme.unwrap_or_default(), q.cert_no.unwrap_or_default());
    let found = blocking(&state, move |s| marks::lookup(s, &scheme, &cert_no)).await?;
    Ok(HttpResponse::Ok().json(found))
}
