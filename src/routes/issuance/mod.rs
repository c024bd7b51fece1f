//! Issuing: products, conformity certificates (one or a bulk), 承诺达标合格证 lots and their
//! splits, GTIN company prefixes. Label images and exports are in [`labels`].

pub mod labels;

use crate::error::AppError;
use crate::error::AppResult;
use crate::error::ErrorEnvelope;
use crate::http::extract::blocking;
use crate::http::extract::parse_json;
use crate::http::extract::Auth;
use crate::http::extract::JsonBytes;
use crate::http::extract::ValidJson;
use crate::routes::created;
use crate::routes::State;
use crate::service::issuance::gtins;
use crate::service::issuance::gtins::GtinOwnerView;
use crate::service::issuance::gtins::NewPrefix;
use crate::service::issuance::gtins::Reassign;
use crate::service::issuance::issue;
use crate::service::issuance::issue::BulkError;
use crate::service::issuance::issue::BulkIssued;
use crate::service::issuance::issue::BulkRequest;
use crate::service::issuance::issue::IssueRequest;
use crate::service::issuance::issue::Issued;
use crate::service::issuance::issue::ItemError;
use crate::service::issuance::products;
use crate::service::issuance::products::NewProduct;
use crate::service::issuance::products::ProductView;
use crate::service::issuance::promise;
use crate::service::issuance::promise::Kept;
use crate::service::issuance::promise::PromiseIssued;
use crate::service::issuance::promise::PromiseRequest;
use crate::service::issuance::promise::SplitRequest;
use actix_web::http::header;
use actix_web::web;
use actix_web::HttpResponse;

#[utoipa::path(post, path = "/api/v1/products", tag = "products", request_body = NewProduct, security(("bearer" = [])),
    responses((status = 201, body = ProductView), (status = 403, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope, description = "gtin_taken: the GTIN (or its company prefix) belongs to another organization"), (status = 422, body = ErrorEnvelope)))]
pub async fn create_product(
    state: State,
    Auth(actor): Auth,
    body: ValidJson<NewProduct>,
) -> AppResult<HttpResponse> {
    let product = blocking(&state, move |s| products::create(s, &actor, body.0)).await?;
    Ok(created(&product))
}

#[utoipa::path(get, path = "/api/v1/products", tag = "products", security(("bearer" = [])),
    responses((status = 200, description = "`{\"products\": [ProductView]}`: the caller's products")))]
pub async fn list_products(state: State, Auth(actor): Auth) -> AppResult<HttpResponse> {
    let list = blocking(&state, move |s| products::list_own(s, &actor)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "products": list })))
}

#[utoipa::path(get, path = "/api/v1/products/{id}", tag = "products", params(("id" = String, Path)),
    responses((status = 200, body = ProductView), (status = 404, body = ErrorEnvelope)))]
pub async fn get_product(state: State, id: web::Path<String>) -> AppResult<HttpResponse> {
    let product = blocking(&state, move |s| products::get(s, &id)).await?;
    Ok(HttpResponse::Ok().json(product))
}

#[utoipa::path(post, path = "/api/v1/certificates", tag = "certificates", request_body = IssueRequest, security(("bearer" = [])),
    responses((status = 201, body = Issued), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
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

/// The 422 answer of a bulk issuance: the envelope, plus `items` when certificates were
/// rejected (not when the request as a whole is, e.g. more than 10,000 of them).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct BulkRejected<'a> {
    pub error: crate::error::ErrorDetail<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<ItemError>>,
}

#[utoipa::path(post, path = "/api/v1/certificates/bulk", tag = "certificates", request_body = BulkRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key and body returns the first answer; another body is 409")),
    security(("bearer" = [])),
    responses((status = 201, body = BulkIssued), (status = 409, body = ErrorEnvelope), (status = 413, body = ErrorEnvelope),
              (status = 422, body = BulkRejected, description = "Nothing was issued; `items` lists every rejected certificate by index")))]
pub async fn issue_bulk(
    state: State,
    Auth(actor): Auth,
    req: actix_web::HttpRequest,
    body: JsonBytes,
) -> AppResult<HttpResponse> {
    let key = match req.headers().get("Idempotency-Key") {
        Some(v) => Some(
            v.to_str()
                .map_err(|_| {
                    AppError::invalid(
                        "invalid_header",
                        "Idempotency-Key",
                        "the key must be visible ASCII",
                    )
                })?
                .to_string(),
        ),
        None => None,
    };
    let hash = crate::domain::hash::sha256_hex(&body.0);
    let parsed: BulkRequest = parse_json(&body.0)?;
    let result = blocking(&state, move |s| {
        Ok(issue::issue_bulk_once(
            s,
            &actor,
            key.as_deref(),
            &hash,
            parsed,
        ))
    })
    .await?;
    match result {
        Ok(answer) => Ok(HttpResponse::Created()
            .content_type("application/json")
            .body(answer)),
        Err(BulkError::Request(e)) => Err(e),
        Err(BulkError::Items(items)) => {
            let items: Vec<ItemError> = items
                .into_iter()
                .map(|(index, e)| ItemError {
                    index,
                    code: e.code().to_string(),
                    message: e.to_string(),
                    field: e.field().map(str::to_string),
                })
                .collect();
            let message = format!(
                "{} certificate(s) rejected; nothing was issued",
                items.len()
            );
            Ok(HttpResponse::UnprocessableEntity().json(BulkRejected {
                error: crate::error::ErrorDetail {
                    code: "invalid_items",
                    message: &message,
                    field: None,
                },
                items: Some(items),
            }))
        }
    }
}

#[utoipa::path(post, path = "/api/v1/promises", tag = "certificates", request_body = PromiseRequest,
    security(("bearer" = [])),
    responses((status = 201, body = PromiseIssued, description = "A 承诺达标合格证: a new lot (its producer), or a lot merged from `parents` (a holder of each)"),
              (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope, description = "exceeds_parent, parent_not_active"),
              (status = 422, body = ErrorEnvelope)))]
pub async fn issue_promise(
    state: State,
    Auth(actor): Auth,
    body: ValidJson<PromiseRequest>,
) -> AppResult<HttpResponse> {
    let issued = blocking(&state, move |s| promise::issue(s, &actor, body.0)).await?;
    Ok(created(&issued))
}

#[utoipa::path(post, path = "/api/v1/certificates/{id}/split", tag = "certificates", request_body = SplitRequest,
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 201, body = Vec<PromiseIssued>, description = "The child lots, each naming the parent and its quantity"),
              (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope, description = "exceeds_parent (children take more than the lot holds), parent_not_active"),
              (status = 422, body = ErrorEnvelope)))]
pub async fn split(
    state: State,
    Auth(actor): Auth,
    id: web::Path<String>,
    body: ValidJson<SplitRequest>,
) -> AppResult<HttpResponse> {
    let issued = blocking(&state, move |s| promise::split(s, &actor, &id, body.0)).await?;
    Ok(created(&issued))
}

#[utoipa::path(get, path = "/api/v1/promises/kept", tag = "certificates", security(("bearer" = [])),
    responses((status = 200, body = Vec<Kept>, description = "承诺达标合格证 this receiver took in within six months: the keeping rule says to keep them until `keep_until`"),
              (status = 403, body = ErrorEnvelope)))]
pub async fn kept_promises(state: State, Auth(actor): Auth) -> AppResult<HttpResponse> {
    let list = blocking(&state, move |s| promise::keeping_list(s, &actor)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .json(list))
}

#[utoipa::path(post, path = "/api/v1/gtin-prefixes", tag = "products", request_body = NewPrefix, security(("bearer" = [])),
    responses((status = 201, body = GtinOwnerView, description = "the producer's GS1 company prefix: every GTIN under it is its own"),
              (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope, description = "gtin_taken"), (status = 422, body = ErrorEnvelope)))]
pub async fn register_prefix(
    state: State,
    Auth(actor): Auth,
    body: ValidJson<NewPrefix>,
) -> AppResult<HttpResponse> {
    let row = blocking(&state, move |s| gtins::register_prefix(s, &actor, body.0)).await?;
    Ok(HttpResponse::Created().json(row))
}

#[utoipa::path(get, path = "/api/v1/gtin-prefixes", tag = "products", security(("bearer" = [])),
    responses((status = 200, body = Vec<GtinOwnerView>, description = "the GTINs and company prefixes the caller's organization owns"), (status = 403, body = ErrorEnvelope)))]
pub async fn list_gtins(state: State, Auth(actor): Auth) -> AppResult<HttpResponse> {
    let rows = blocking(&state, move |s| gtins::list_own(s, &actor)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .json(rows))
}

#[utoipa::path(put, path = "/api/v1/gtin-owners/{prefix}", tag = "products", request_body = Reassign,
    params(("prefix" = String, Path, description = "a GTIN (8, 13 or 14 digits) or a company prefix (6 to 12 digits)")), security(("bearer" = [])),
    responses((status = 200, body = GtinOwnerView), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn reassign_gtin(
    state: State,
    Auth(actor): Auth,
    prefix: web::Path<String>,
    body: ValidJson<Reassign>,
) -> AppResult<HttpResponse> {
    let row = blocking(&state, move |s| gtins::reassign(s, &actor, &prefix, body.0)).await?;
    Ok(HttpResponse::Ok().json(row))
}
