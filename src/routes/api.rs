//! JSON API handlers (contract §6): parse, call one use case, present.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::error::{AppError, AppResult};
use crate::qr;
use crate::service::issue::IssueRequest;
use crate::service::organizations::NewOrganization;
use crate::service::products::NewProduct;
use crate::service::{issue, labels, organizations, products, trust, AppState};

use super::extract::{blocking, Auth, ValidJson};

type State = web::Data<AppState>;

fn created<T: serde::Serialize>(body: &T) -> HttpResponse {
    HttpResponse::Created().json(body)
}

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

pub async fn keys(state: State) -> AppResult<HttpResponse> {
    let list = blocking(&state, trust::trust_list).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(list))
}

pub async fn create_organization(
    state: State,
    Auth(actor): Auth,
    body: ValidJson<NewOrganization>,
) -> AppResult<HttpResponse> {
    let org = blocking(&state, move |s| organizations::create(s, &actor, body.0)).await?;
    Ok(created(&org))
}

pub async fn get_organization(state: State, id: web::Path<String>) -> AppResult<HttpResponse> {
    let org = blocking(&state, move |s| organizations::get(s, &id)).await?;
    Ok(HttpResponse::Ok().json(org))
}

pub async fn create_token(
    state: State,
    Auth(actor): Auth,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let token = blocking(&state, move |s| organizations::create_token(s, &actor, &id)).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(token))
}

pub async fn create_product(
    state: State,
    Auth(actor): Auth,
    body: ValidJson<NewProduct>,
) -> AppResult<HttpResponse> {
    let product = blocking(&state, move |s| products::create(s, &actor, body.0)).await?;
    Ok(created(&product))
}

pub async fn list_products(state: State, Auth(actor): Auth) -> AppResult<HttpResponse> {
    let list = blocking(&state, move |s| products::list_own(s, &actor)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "products": list })))
}

pub async fn get_product(state: State, id: web::Path<String>) -> AppResult<HttpResponse> {
    let product = blocking(&state, move |s| products::get(s, &id)).await?;
    Ok(HttpResponse::Ok().json(product))
}

pub async fn issue_certificate(
    state: State,
    Auth(actor): Auth,
    body: ValidJson<IssueRequest>,
) -> AppResult<HttpResponse> {
    let issued = blocking(&state, move |s| issue::issue(s, &actor, body.0)).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, issued.verify_url.clone()))
        .json(issued))
}

/// Path of a batch label: `/api/v1/certificates/{id}/qr.{format}`.
#[derive(Deserialize)]
pub struct BatchLabelPath {
    id: String,
    format: String,
}

/// Path of a unit label: `/api/v1/certificates/{id}/units/{serial}/qr.{format}`.
#[derive(Deserialize)]
pub struct UnitLabelPath {
    id: String,
    serial: i64,
    format: String,
}

/// Renders a label URL as PNG or SVG. Labels are rendered on demand and never stored.
fn label_response(content: &str, format: &str, cache: &'static str) -> AppResult<HttpResponse> {
    let render_err = |e: qr::QrError| AppError::Internal(e.to_string());
    let response = match format {
        "png" => HttpResponse::Ok()
            .content_type("image/png")
            .body(qr::png(content).map_err(render_err)?),
        "svg" => HttpResponse::Ok()
            .content_type("image/svg+xml")
            .body(qr::svg(content).map_err(render_err)?),
        _ => return Err(AppError::NotFound("labels come as qr.png or qr.svg".into())),
    };
    let mut response = response;
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static(cache),
    );
    Ok(response)
}

pub async fn batch_qr(state: State, path: web::Path<BatchLabelPath>) -> AppResult<HttpResponse> {
    let BatchLabelPath { id, format } = path.into_inner();
    let url = blocking(&state, move |s| labels::batch_label(s, &id)).await?;
    label_response(&url, &format, "public, max-age=86400")
}

pub async fn unit_qr(
    state: State,
    Auth(actor): Auth,
    path: web::Path<UnitLabelPath>,
) -> AppResult<HttpResponse> {
    let UnitLabelPath { id, serial, format } = path.into_inner();
    let url = blocking(&state, move |s| labels::unit_label(s, &actor, &id, serial)).await?;
    label_response(&url, &format, "private, no-store")
}
