//! Operations: whether the server is alive, whether it should be sent requests, and its
//! metrics.

use crate::routes::State;
use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;

#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, description = "The server accepts requests")))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// `GET /readyz`: whether a load balancer should send this instance requests.
#[utoipa::path(get, path = "/readyz", tag = "ops", responses(
    (status = 200, description = "Ready: the database answers, its schema is this binary's, and the instance is not draining"),
    (status = 503, description = "Not ready: which check failed", body = crate::error::ErrorEnvelope),
))]
pub async fn readyz(state: State) -> HttpResponse {
    match crate::service::ops::readiness::check(&state.db, &state.draining, &state.warming) {
        Ok(()) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(serde_json::json!({"status": "ready"})),
        Err(why) => {
            let mut response = crate::error::envelope_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "not_ready",
                &why,
                None,
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
            response
        }
    }
}

/// `GET /metrics`: Prometheus (OpenMetrics text).
pub async fn metrics(state: State) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics.render())
}
