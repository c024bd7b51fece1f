//! Regulators' authority and the workflows around it: sanctions, reinstatement requests, the
//! audit log, 先行赔付 cases, recall acknowledgements and webhooks (contract §12).

use crate::domain::statistics::Report;
use crate::domain::trail::EventType;
use crate::error::AppResult;
use crate::error::ErrorEnvelope;
use crate::http::download::report_file;
use crate::http::extract::blocking;
use crate::http::extract::Auth;
use crate::http::extract::ValidJson;
use crate::routes::State;
use crate::service::audit;
use crate::service::audit::AuditView;
use crate::service::oversight::recalls;
use crate::service::oversight::recalls::NewAcknowledgement;
use crate::service::oversight::recalls::NewRecall;
use crate::service::oversight::recalls::RecallView;
use crate::service::oversight::reinstatements;
use crate::service::oversight::reinstatements::Decision;
use crate::service::oversight::reinstatements::NewReinstatementRequest;
use crate::service::oversight::reinstatements::ReinstatementView;
use crate::service::oversight::sanctions;
use crate::service::oversight::sanctions::LiftSanction;
use crate::service::oversight::sanctions::NewSanction;
use crate::service::oversight::sanctions::SanctionView;
use crate::service::oversight::statistics;
use crate::service::oversight::statistics::ReportQuery;
use crate::service::oversight::status;
use crate::service::oversight::status::NewInspection;
use crate::service::oversight::status::StatusChange;
use crate::service::oversight::status::StatusChanged;
use actix_web::web;
use actix_web::HttpResponse;
use serde::Deserialize;

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
#[into_params(parameter_in = Query)]
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

#[utoipa::path(get, path = "/api/v1/reports", tag = "oversight", params(ReportQuery), security(("bearer" = [])),
    responses((status = 200, body = Report), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn report_json(
    state: State,
    Auth(actor): Auth,
    query: web::Query<ReportQuery>,
) -> AppResult<HttpResponse> {
    let query = query.into_inner();
    let report = blocking(&state, move |s| statistics::build(s, &actor, &query)).await?;
    Ok(HttpResponse::Ok().json(report))
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
    let report = blocking(&state, move |s| statistics::build(s, &actor, &query)).await?;
    report_file(&report, &format)
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
