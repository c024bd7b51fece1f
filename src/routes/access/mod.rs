//! Organizations, their API tokens and people (contract §6); the platform admin's
//! endpoints are in [`admin`], webhook subscriptions in [`webhooks`].

pub mod admin;
pub mod webhooks;

use crate::error::AppResult;
use crate::error::ErrorEnvelope;
use crate::http::extract::blocking;
use crate::http::extract::parse_json;
use crate::http::extract::Auth;
use crate::http::extract::ValidJson;
use crate::routes::created;
use crate::routes::State;
use crate::service::access::accounts;
use crate::service::access::accounts::CreatedUser;
use crate::service::access::accounts::NewUser;
use crate::service::access::organizations;
use crate::service::access::organizations::NewOrganization;
use crate::service::access::organizations::OrganizationView;
use crate::service::access::tokens;
use crate::service::access::tokens::NewToken;
use crate::service::access::tokens::TokenRequest;
use crate::service::access::tokens::TokenView;
use actix_web::http::header;
use actix_web::web;
use actix_web::HttpResponse;

#[utoipa::path(post, path = "/api/v1/organizations", tag = "organizations", request_body = NewOrganization, security(("bearer" = [])),
    responses((status = 201, body = OrganizationView), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create_organization(
    state: State,
    Auth(actor): Auth,
    body: ValidJson<NewOrganization>,
) -> AppResult<HttpResponse> {
    let org = blocking(&state, move |s| organizations::create(s, &actor, body.0)).await?;
    Ok(created(&org))
}

#[utoipa::path(get, path = "/api/v1/organizations/{id}", tag = "organizations", params(("id" = String, Path)),
    responses((status = 200, body = OrganizationView), (status = 404, body = ErrorEnvelope)))]
pub async fn get_organization(state: State, id: web::Path<String>) -> AppResult<HttpResponse> {
    let org = blocking(&state, move |s| organizations::get(s, &id)).await?;
    Ok(HttpResponse::Ok().json(org))
}

#[utoipa::path(post, path = "/api/v1/organizations/{id}/tokens", tag = "organizations", params(("id" = String, Path)),
    request_body(content = Option<TokenRequest>, description = "Optional: name, scope (read, issue, trail, admin) and expiry"), security(("bearer" = [])),
    responses((status = 201, body = NewToken, description = "The token, shown once; only its hash is stored"), (status = 401, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create_token(
    state: State,
    Auth(actor): Auth,
    id: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    // No body, or `null` (the document's `Option<TokenRequest>`), asks for the defaults.
    let req: TokenRequest = match body.iter().all(u8::is_ascii_whitespace) {
        true => TokenRequest::default(),
        false => parse_json::<Option<TokenRequest>>(&body)?.unwrap_or_default(),
    };
    let token = blocking(&state, move |s| tokens::create(s, &actor, &id, req)).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(token))
}

#[utoipa::path(get, path = "/api/v1/organizations/{id}/tokens", tag = "organizations", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<TokenView>), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn list_tokens(
    state: State,
    Auth(actor): Auth,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let list = blocking(&state, move |s| tokens::list(s, &actor, &id)).await?;
    Ok(HttpResponse::Ok().json(list))
}

#[utoipa::path(delete, path = "/api/v1/organizations/{id}/tokens/{token_id}", tag = "organizations",
    params(("id" = String, Path), ("token_id" = String, Path)), security(("bearer" = [])),
    responses((status = 204, description = "Revoked: the token is refused from now on"), (status = 401, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn revoke_token(
    state: State,
    Auth(actor): Auth,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (id, token_id) = path.into_inner();
    blocking(&state, move |s| tokens::revoke(s, &actor, &id, &token_id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(post, path = "/api/v1/organizations/{id}/users", tag = "organizations", request_body = NewUser, security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 201, body = CreatedUser, description = "The password is shown once"), (status = 403, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create_user(
    state: State,
    Auth(actor): Auth,
    id: web::Path<String>,
    ValidJson(new): ValidJson<NewUser>,
) -> AppResult<HttpResponse> {
    let user = blocking(&state, move |s| accounts::create_user(s, &actor, &id, new)).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(user))
}
