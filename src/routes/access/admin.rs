//! The platform admin's API: list and search organizations, deactivate and reactivate them,
//! onboard many from a CSV file, and manage page users.

use crate::error::AppResult;
use crate::error::ErrorDetail;
use crate::error::ErrorEnvelope;
use crate::http::extract::blocking;
use crate::http::extract::Auth;
use crate::http::extract::ValidJson;
use crate::routes::State;
use crate::service::access::accounts;
use crate::service::access::admin;
use crate::service::access::admin::AdminOrganization;
use crate::service::access::admin::AdminUser;
use crate::service::access::admin::OnboardError;
use crate::service::access::admin::RowError;
use crate::service::access::organizations::OrganizationView;
use actix_web::http::header;
use actix_web::web;
use actix_web::HttpResponse;
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Search {
    /// Part of a name or credit code.
    #[param(value_type = Option<crate::domain::request::OptionalText100>, inline)]
    q: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/organizations", tag = "admin", params(Search), security(("bearer" = [])),
    responses((status = 200, body = Vec<AdminOrganization>), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn list_organizations(
    state: State,
    Auth(actor): Auth,
    query: web::Query<Search>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner().q.unwrap_or_default();
    let list = blocking(&state, move |s| admin::organizations(s, &actor, &q)).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// `POST /api/v1/organizations/{id}/deactivate` and `/reactivate`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    #[schema(value_type = crate::domain::request::Text500)]
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/organizations/{id}/deactivate", tag = "admin", request_body = Reason, params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = AdminOrganization, description = "Its tokens and sessions are refused from now on"),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn deactivate(
    state: State,
    Auth(actor): Auth,
    id: web::Path<String>,
    ValidJson(body): ValidJson<Reason>,
) -> AppResult<HttpResponse> {
    let org = blocking(&state, move |s| {
        admin::set_active(s, &actor, &id, false, &body.reason)
    })
    .await?;
    Ok(HttpResponse::Ok().json(org))
}

#[utoipa::path(post, path = "/api/v1/organizations/{id}/reactivate", tag = "admin", request_body = Reason, params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = AdminOrganization), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn reactivate(
    state: State,
    Auth(actor): Auth,
    id: web::Path<String>,
    ValidJson(body): ValidJson<Reason>,
) -> AppResult<HttpResponse> {
    let org = blocking(&state, move |s| {
        admin::set_active(s, &actor, &id, true, &body.reason)
    })
    .await?;
    Ok(HttpResponse::Ok().json(org))
}

#[utoipa::path(get, path = "/api/v1/organizations/{id}/users", tag = "admin", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<AdminUser>), (status = 403, body = ErrorEnvelope)))]
pub async fn list_users(
    state: State,
    Auth(actor): Auth,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let list = blocking(&state, move |s| admin::users(s, &actor, &id)).await?;
    Ok(HttpResponse::Ok().json(list))
}

#[utoipa::path(post, path = "/api/v1/users/{username}/{action}", tag = "admin",
    params(("username" = String, Path), ("action" = String, Path, description = "deactivate, reactivate or password (a new generated password, shown once)")),
    security(("bearer" = [])),
    responses((status = 200, description = "`{\"username\", \"active\"}`, or `{\"username\", \"password\"}` for password"),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn user_action(
    state: State,
    Auth(actor): Auth,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (username, action) = path.into_inner();
    let name = username.clone();
    let body = blocking(&state, move |s| match action.as_str() {
        "password" => accounts::reset_password(s, &actor, &name)
            .map(|p| serde_json::json!({"username": name, "password": p})),
        "deactivate" | "reactivate" => {
            let active = action == "reactivate";
            admin::set_user_active(s, &actor, &name, active)
                .map(|()| serde_json::json!({"username": name, "active": active}))
        }
        _ => Err(crate::error::AppError::not_found("action")),
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body))
}

/// What a refused onboarding file answers (422).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct OnboardRejected<'a> {
    pub error: ErrorDetail<'a>,
    pub rows: Vec<RowError>,
}

/// The answer to an onboarding file: 201 with the organizations, or 422 with every problem.
pub fn onboard_answer(
    result: Result<Vec<OrganizationView>, OnboardError>,
) -> AppResult<HttpResponse> {
    match result {
        Ok(created) => Ok(HttpResponse::Created().json(created)),
        Err(OnboardError::Rows(rows)) => {
            let message = format!(
                "nothing was registered: {} problem(s), listed by line",
                rows.len()
            );
            Ok(HttpResponse::UnprocessableEntity().json(OnboardRejected {
                error: ErrorDetail {
                    code: "invalid_rows",
                    message: &message,
                    field: None,
                },
                rows,
            }))
        }
        Err(OnboardError::Request(e)) => Err(e),
    }
}

#[utoipa::path(post, path = "/api/v1/organizations/import", tag = "admin",
    request_body(content = String, content_type = "text/csv", description = "Header kind,name,credit_code,region_code,address (or 类型,名称,统一社会信用代码,行政区划代码,地址)"),
    security(("bearer" = [])),
    responses((status = 201, body = Vec<OrganizationView>, description = "All registered, each with its signing key"),
              (status = 403, body = ErrorEnvelope), (status = 422, body = OnboardRejected, description = "Nothing was registered")))]
pub async fn onboard(state: State, Auth(actor): Auth, body: web::Bytes) -> AppResult<HttpResponse> {
    let result = web::block(move || admin::onboard(&state, &actor, &body)).await?;
    onboard_answer(result)
}
