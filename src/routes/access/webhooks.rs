//! An organization's webhook subscriptions and their deliveries.

use crate::error::AppResult;
use crate::error::ErrorEnvelope;
use crate::http::extract::blocking;
use crate::http::extract::Auth;
use crate::http::extract::ValidJson;
use crate::routes::State;
use crate::service::webhooks;
use crate::service::webhooks::CreatedWebhook;
use crate::service::webhooks::DeliveryView;
use crate::service::webhooks::NewWebhook;
use crate::service::webhooks::WebhookView;
use actix_web::http::header;
use actix_web::web;
use actix_web::HttpResponse;

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
