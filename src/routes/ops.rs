//! Operations: whether the server takes requests, and its metrics.

use crate::routes::State;
use actix_web::HttpResponse;

#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, description = "The server accepts requests")))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// `GET /metrics`: Prometheus (OpenMetrics text).
pub async fn metrics(state: State) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics.render())
}
