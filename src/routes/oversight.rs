//! Regulators' authority and the workflows around it: sanctions, reinstatement requests, the
//! audit log, 先行赔付 cases, recall acknowledgements and webhooks (contract §12).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::error::{AppError, AppResult};
use crate::print;
use crate::service::audit::{self, AuditView};
use crate::service::cases::{self, CaseAnswer, CaseView, NewCase, PartyCaseView};
use crate::service::complaints::{self, NewComplaint};
use crate::service::recalls::{self, NewAcknowledgement, RecallView};
use crate::service::reinstatements::{self, Decision, NewReinstatementRequest, ReinstatementView};
use crate::service::reports::{self, Report, ReportQuery};
use crate::service::sanctions::{self, LiftSanction, NewSanction, SanctionView};
use crate::service::webhooks::{self, CreatedWebhook, DeliveryView, NewWebhook, WebhookView};
use crate::service::AppState;

use crate::http::extract::{blocking, client_addr, Auth, ValidJson};
use crate::openapi::ErrorEnvelope;

type State = web::Data<AppState>;

#[utoipa::path(post, path = "/api/v1/organizations/{id}/sanctions", tag = "oversight", request_body = NewSanction,
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 201, body = SanctionView), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn impose_sanction(
    state: State,
    Auth(actor): Auth,
    id: web::Path<String>,
    ValidJson(body): ValidJson<NewSanction>,
) -> AppResult<HttpResponse> {
    let done = blocking(&state, move |s| sanctions::impose(s, &actor, &id, body)).await?;
    Ok(HttpResponse::Created().json(done))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SanctionQuery {
    /// Only this producer's sanctions.
    organization_id: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/sanctions", tag = "oversight", params(SanctionQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<SanctionView>), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn list_sanctions(
    state: State,
    Auth(actor): Auth,
    query: web::Query<SanctionQuery>,
) -> AppResult<HttpResponse> {
    let only = query.into_inner().organization_id;
    let list = blocking(&state, move |s| sanctions::list(s, &actor, only.as_deref())).await?;
    Ok(HttpResponse::Ok().json(list))
}

#[utoipa::path(post, path = "/api/v1/sanctions/{id}/lift", tag = "oversight", request_body = LiftSanction,
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = SanctionView), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn lift_sanction(
    state: State,
    Auth(actor): Auth,
    id: web::Path<String>,
    ValidJson(body): ValidJson<LiftSanction>,
) -> AppResult<HttpResponse> {
    let done = blocking(&state, move |s| sanctions::lift(s, &actor, &id, body)).await?;
    Ok(HttpResponse::Ok().json(done))
}

#[utoipa::path(post, path = "/api/v1/certificates/{id}/reinstatement-requests", tag = "oversight", request_body = NewReinstatementRequest,
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 201, body = ReinstatementView), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope, description = "not suspended by a regulator, or a request is pending"), (status = 422, body = ErrorEnvelope)))]
pub async fn request_reinstatement(
    state: State,
    Auth(actor): Auth,
    id: web::Path<String>,
    ValidJson(body): ValidJson<NewReinstatementRequest>,
) -> AppResult<HttpResponse> {
    let done = blocking(&state, move |s| {
        reinstatements::request(s, &actor, &id, body)
    })
    .await?;
    Ok(HttpResponse::Created().json(done))
}

#[utoipa::path(get, path = "/api/v1/reinstatement-requests", tag = "oversight", security(("bearer" = [])),
    responses((status = 200, body = Vec<ReinstatementView>), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn list_reinstatements(state: State, Auth(actor): Auth) -> AppResult<HttpResponse> {
    let list = blocking(&state, move |s| reinstatements::list(s, &actor)).await?;
    Ok(HttpResponse::Ok().json(list))
}

#[utoipa::path(post, path = "/api/v1/reinstatement-requests/{id}/decision", tag = "oversight", request_body = Decision,
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = ReinstatementView), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn decide_reinstatement(
    state: State,
    Auth(actor): Auth,
    id: web::Path<String>,
    ValidJson(body): ValidJson<Decision>,
) -> AppResult<HttpResponse> {
    let done = blocking(&state, move |s| {
        reinstatements::decide(s, &actor, &id, body)
    })
    .await?;
    Ok(HttpResponse::Ok().json(done))
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "oversight", security(("bearer" = [])),
    responses((status = 200, body = Vec<AuditView>, description = "The admin: everything; a regulator: its region's"),
              (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn audit_log(state: State, Auth(actor): Auth) -> AppResult<HttpResponse> {
    let list = blocking(&state, move |s| audit::list(s, &actor)).await?;
    Ok(HttpResponse::Ok().json(list))
}

#[utoipa::path(post, path = "/api/v1/recalls/{id}/acknowledgements", tag = "trail", request_body = NewAcknowledgement,
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 201, body = RecallView), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn acknowledge_recall(
    state: State,
    Auth(actor): Auth,
    id: web::Path<String>,
    ValidJson(body): ValidJson<NewAcknowledgement>,
) -> AppResult<HttpResponse> {
    let done = blocking(&state, move |s| recalls::acknowledge(s, &actor, &id, body)).await?;
    Ok(HttpResponse::Created().json(done))
}

#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = NewWebhook, security(("bearer" = [])),
    responses((status = 201, body = CreatedWebhook, description = "The secret is shown once"), (status = 401, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create_webhook(
    state: State,
    Auth(actor): Auth,
    ValidJson(body): ValidJson<NewWebhook>,
) -> AppResult<HttpResponse> {
    let done = blocking(&state, move |s| webhooks::create(s, &actor, body)).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(done))
}

#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, body = Vec<WebhookView>), (status = 401, body = ErrorEnvelope)))]
pub async fn list_webhooks(state: State, Auth(actor): Auth) -> AppResult<HttpResponse> {
    let list = blocking(&state, move |s| webhooks::list(s, &actor)).await?;
    Ok(HttpResponse::Ok().json(list))
}

#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204, description = "Deleted with its pending deliveries"), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn delete_webhook(
    state: State,
    Auth(actor): Auth,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    blocking(&state, move |s| webhooks::delete(s, &actor, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(get, path = "/api/v1/webhooks/deliveries", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, body = Vec<DeliveryView>, description = "The organization's delivery log, newest first"), (status = 401, body = ErrorEnvelope)))]
pub async fn list_deliveries(state: State, Auth(actor): Auth) -> AppResult<HttpResponse> {
    let list = blocking(&state, move |s| webhooks::deliveries(s, &actor)).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// `POST /api/v1/certificates/{id}/complaints`: a consumer's report, no account.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplaintRequest {
    /// `suspected_fake`, `quality`, `label_damaged` or `other`.
    pub category: String,
    pub message: String,
    pub contact: Option<String>,
    /// The unit label scanned, if it was one.
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

#[utoipa::path(get, path = "/api/v1/reports", tag = "oversight", params(ReportQuery), security(("bearer" = [])),
    responses((status = 200, body = Report), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn report_json(
    state: State,
    Auth(actor): Auth,
    query: web::Query<ReportQuery>,
) -> AppResult<HttpResponse> {
    let query = query.into_inner();
    let report = blocking(&state, move |s| reports::build(s, &actor, &query)).await?;
    Ok(HttpResponse::Ok().json(report))
}

/// A report as a downloadable file: `csv` or `xlsx`.
pub fn report_file(report: &Report, format: &str) -> AppResult<HttpResponse> {
    let (bytes, content_type) = match format {
        "csv" => (
            print::report::csv(report).map_err(|e| AppError::internal_from("csv", e))?,
            "text/csv; charset=utf-8",
        ),
        "xlsx" => (
            print::report::xlsx(report).map_err(|e| AppError::internal_from("xlsx", e))?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        _ => return Err(AppError::not_found("format")),
    };
    let name = format!(
        "certrail-report-{}-{}-{}.{format}",
        report.region, report.from, report.to
    );
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(bytes))
}

#[utoipa::path(get, path = "/api/v1/reports.{format}", tag = "oversight", params(("format" = String, Path, description = "csv or xlsx"), ReportQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "The report as CSV or as an Excel workbook"), (status = 401, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn report_download(
    state: State,
    Auth(actor): Auth,
    format: web::Path<String>,
    query: web::Query<ReportQuery>,
) -> AppResult<HttpResponse> {
    let query = query.into_inner();
    let report = blocking(&state, move |s| reports::build(s, &actor, &query)).await?;
    report_file(&report, &format)
}
