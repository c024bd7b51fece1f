//! Consumers' problem reports (complaints) and 先行赔付 compensation cases.

use crate::error::AppResult;
use crate::error::ErrorEnvelope;
use crate::http::extract::blocking;
use crate::http::extract::client_addr;
use crate::http::extract::Auth;
use crate::http::extract::ValidJson;
use crate::routes::State;
use crate::service::redress::cases;
use crate::service::redress::cases::CaseAnswer;
use crate::service::redress::cases::CaseView;
use crate::service::redress::cases::NewCase;
use crate::service::redress::cases::PartyCaseView;
use crate::service::redress::complaints;
use crate::service::redress::complaints::ComplaintView;
use crate::service::redress::complaints::NewComplaint;
use actix_web::http::header;
use actix_web::web;
use actix_web::HttpRequest;
use actix_web::HttpResponse;
use serde::Deserialize;

/// `POST /api/v1/certificates/{id}/complaints`: a consumer's report, no account.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplaintRequest {
    /// `suspected_fake`, `quality`, `label_damaged` or `other`.
    #[schema(value_type = crate::service::redress::complaints::ComplaintCategory)]
    pub category: String,
    #[schema(value_type = crate::domain::request::Text1000)]
    pub message: String,
    #[schema(value_type = Option<crate::domain::request::OptionalText100>)]
    pub contact: Option<String>,
    /// The unit label scanned, if it was one.
    #[serde(
        default,
        deserialize_with = "crate::domain::request::optional_whole_number"
    )]
    #[schema(minimum = 1)]
    pub serial: Option<i64>,
    /// Ask for 先行赔付 from the producer or a seller that took the goods in.
    pub case: Option<NewCase>,
}

#[utoipa::path(post, path = "/api/v1/certificates/{id}/complaints", tag = "cases", request_body = ComplaintRequest,
    params(("id" = String, Path)),
    responses((status = 201, description = "`{\"case\": CaseView}` when a case was asked for (its number is how the consumer follows it), else `{}`"),
              (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope), (status = 429, body = ErrorEnvelope)))]
pub async fn report(
    state: State,
    req: HttpRequest,
    id: web::Path<String>,
    ValidJson(body): ValidJson<ComplaintRequest>,
) -> AppResult<HttpResponse> {
    let client = client_addr(&req);
    let new = NewComplaint {
        category: body.category,
        message: body.message,
        contact: body.contact,
    };
    let (serial, case) = (body.serial, body.case);
    let opened = blocking(&state, move |s| {
        complaints::report(s, &client, &id, serial, new, case)
    })
    .await?;
    let body = match opened {
        Some(case) => serde_json::json!({ "case": case }),
        None => serde_json::json!({}),
    };
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body))
}

#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", security(("bearer" = [])),
    responses((status = 200, body = Vec<PartyCaseView>), (status = 401, body = ErrorEnvelope)))]
pub async fn list_cases(state: State, Auth(actor): Auth) -> AppResult<HttpResponse> {
    let list = blocking(&state, move |s| cases::list(s, &actor)).await?;
    Ok(HttpResponse::Ok().json(list))
}

#[utoipa::path(get, path = "/api/v1/cases/{number}", tag = "cases", params(("number" = String, Path)),
    responses((status = 200, body = CaseView), (status = 404, body = ErrorEnvelope)))]
pub async fn get_case(state: State, number: web::Path<String>) -> AppResult<HttpResponse> {
    let case = blocking(&state, move |s| cases::get(s, &number)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(case))
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/accept", tag = "cases", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = CaseView), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn accept_case(
    state: State,
    Auth(actor): Auth,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let case = blocking(&state, move |s| cases::accept(s, &actor, &id)).await?;
    Ok(HttpResponse::Ok().json(case))
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/answer", tag = "cases", request_body = CaseAnswer, params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = CaseView), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn answer_case(
    state: State,
    Auth(actor): Auth,
    id: web::Path<String>,
    ValidJson(body): ValidJson<CaseAnswer>,
) -> AppResult<HttpResponse> {
    let case = blocking(&state, move |s| cases::answer(s, &actor, &id, body)).await?;
    Ok(HttpResponse::Ok().json(case))
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/decision", tag = "cases", request_body = CaseAnswer, params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = CaseView), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope, description = "the case is not overdue"), (status = 422, body = ErrorEnvelope)))]
pub async fn decide_case(
    state: State,
    Auth(actor): Auth,
    id: web::Path<String>,
    ValidJson(body): ValidJson<CaseAnswer>,
) -> AppResult<HttpResponse> {
    let case = blocking(&state, move |s| cases::decide(s, &actor, &id, body)).await?;
    Ok(HttpResponse::Ok().json(case))
}

#[utoipa::path(post, path = "/api/v1/cases/{number}/confirm", tag = "cases", params(("number" = String, Path)),
    responses((status = 200, body = CaseView, description = "The consumer confirms the answer: the case is closed"),
              (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn confirm_case(state: State, number: web::Path<String>) -> AppResult<HttpResponse> {
    let case = blocking(&state, move |s| cases::confirm(s, &number)).await?;
    Ok(HttpResponse::Ok().json(case))
}

#[utoipa::path(get, path = "/api/v1/complaints", tag = "verification", security(("bearer" = [])),
    responses((status = 200, body = Vec<ComplaintView>, description = "Consumers' reports: a producer's own certificates, or a regulator's region; newest first, at most 500"),
              (status = 403, body = ErrorEnvelope)))]
pub async fn list_complaints(state: State, Auth(actor): Auth) -> AppResult<HttpResponse> {
    let list = blocking(&state, move |s| complaints::list(s, &actor, 500)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .json(list))
}
