//! Key lifecycle over the API (contract §11): list, rotate, register a producer-held key,
//! declare a key compromised, and issuance through drafts the producer signs itself.

use crate::error::AppResult;
use crate::error::ErrorEnvelope;
use crate::http::extract::blocking;
use crate::http::extract::Auth;
use crate::http::extract::ValidJson;
use crate::routes::State;
use crate::service::issuance::drafts;
use crate::service::issuance::drafts::DraftSignature;
use crate::service::issuance::drafts::DraftView;
use crate::service::keys::lifecycle;
use crate::service::keys::lifecycle::Compromise;
use crate::service::keys::lifecycle::KeyView;
use crate::service::keys::lifecycle::RegisterKey;
use actix_web::web;
use actix_web::HttpResponse;

#[utoipa::path(get, path = "/api/v1/organizations/{id}/keys", tag = "keys", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<KeyView>), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn list(
    state: State,
    Auth(actor): Auth,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let keys = blocking(&state, move |s| lifecycle::list(s, &actor, &id)).await?;
    Ok(HttpResponse::Ok().json(keys))
}

#[utoipa::path(post, path = "/api/v1/organizations/{id}/keys/rotate", tag = "keys", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 201, body = KeyView, description = "The new active key; the old one is retired"),
              (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn rotate(
    state: State,
    Auth(actor): Auth,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let key = blocking(&state, move |s| lifecycle::rotate(s, &actor, &id)).await?;
    Ok(HttpResponse::Created().json(key))
}

#[utoipa::path(post, path = "/api/v1/organizations/{id}/keys", tag = "keys", params(("id" = String, Path)), request_body = RegisterKey, security(("bearer" = [])),
    responses((status = 201, body = KeyView, description = "The producer's own key, now active; the platform never sees its private half"),
              (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn register(
    state: State,
    Auth(actor): Auth,
    id: web::Path<String>,
    body: ValidJson<RegisterKey>,
) -> AppResult<HttpResponse> {
    let key = blocking(&state, move |s| lifecycle::register(s, &actor, &id, body.0)).await?;
    Ok(HttpResponse::Created().json(key))
}

#[utoipa::path(post, path = "/api/v1/keys/{kid}/compromise", tag = "keys", params(("kid" = String, Path)), request_body = Compromise, security(("bearer" = [])),
    responses((status = 200, body = KeyView), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn compromise(
    state: State,
    Auth(actor): Auth,
    kid: web::Path<String>,
    body: ValidJson<Compromise>,
) -> AppResult<HttpResponse> {
    let key = blocking(&state, move |s| {
        lifecycle::compromise(s, &actor, &kid, body.0)
    })
    .await?;
    Ok(HttpResponse::Ok().json(key))
}

#[utoipa::path(post, path = "/api/v1/certificates/drafts", tag = "keys", request_body = crate::service::issuance::issue::IssueRequest, security(("bearer" = [])),
    responses((status = 201, body = DraftView, description = "Checked and built like an issuance; sign `payload` with the producer's own key (`certrail sign`)"),
              (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create_draft(
    state: State,
    Auth(actor): Auth,
    body: ValidJson<crate::service::issuance::issue::IssueRequest>,
) -> AppResult<HttpResponse> {
    let draft = blocking(&state, move |s| drafts::create(s, &actor, body.0)).await?;
    Ok(HttpResponse::Created().json(draft))
}

#[utoipa::path(post, path = "/api/v1/certificates/drafts/{id}/signature", tag = "keys", params(("id" = String, Path)), request_body = DraftSignature, security(("bearer" = [])),
    responses((status = 201, body = crate::service::issuance::issue::Issued, description = "The signature verified: the certificate is issued"),
              (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn sign_draft(
    state: State,
    Auth(actor): Auth,
    id: web::Path<String>,
    body: ValidJson<DraftSignature>,
) -> AppResult<HttpResponse> {
    let issued = blocking(&state, move |s| drafts::submit(s, &actor, &id, body.0)).await?;
    Ok(HttpResponse::Created().json(issued))
}
