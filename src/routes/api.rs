//! JSON API handlers (contract §6): parse, call one use case, present.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::error::{AppError, AppResult};
use crate::qr;
use crate::service::accounts::{self, CreatedUser, NewUser};
use crate::service::complaints::{self, ComplaintView};
use crate::service::gtins::{self, GtinOwnerView, NewPrefix, Reassign};
use crate::service::issue::{BulkError, BulkIssued, BulkRequest, IssueRequest, Issued, ItemError};
use crate::service::organizations::{NewOrganization, OrganizationView};
use crate::service::products::{NewProduct, ProductView};
use crate::service::promise::{self, Kept, PromiseIssued, PromiseRequest, SplitRequest};
use crate::service::tokens::{self, NewToken, TokenRequest, TokenView};
use crate::service::trust::TrustList;
use crate::service::{issue, label_images, labels, organizations, products, trust, AppState};

use crate::http::extract::{blocking, parse_json, Auth, JsonBytes, ValidJson};
use crate::openapi::ErrorEnvelope;

type State = web::Data<AppState>;

fn created<T: serde::Serialize>(body: &T) -> HttpResponse {
    HttpResponse::Created().json(body)
}

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

#[utoipa::path(get, path = "/api/v1/keys", tag = "verification", responses((status = 200, body = TrustList)))]
pub async fn keys(state: State) -> AppResult<HttpResponse> {
    let list = blocking(&state, trust::trust_list).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(list))
}

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
    let req: TokenRequest = match body.iter().all(u8::is_ascii_whitespace) {
        true => TokenRequest::default(),
        false => parse_json(&body)?,
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

#[utoipa::path(get, path = "/api/v1/complaints", tag = "verification", security(("bearer" = [])),
    responses((status = 200, body = Vec<ComplaintView>, description = "Consumers' reports: a producer's own certificates, or a regulator's region; newest first, at most 500"),
              (status = 403, body = ErrorEnvelope)))]
pub async fn list_complaints(state: State, Auth(actor): Auth) -> AppResult<HttpResponse> {
    let list = blocking(&state, move |s| complaints::list(s, &actor, 500)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .json(list))
}

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

/// Whose a label is: public labels are kept once rendered, unit labels never.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Audience {
    Public,
    Producer,
}

/// The label image of `content` as PNG or SVG, rendered on a blocking thread (public labels
/// once, then from [`label_images::PUBLIC`]).
async fn label_response(
    state: &State,
    content: String,
    format: &str,
    audience: Audience,
) -> AppResult<HttpResponse> {
    let Some(format) = label_images::Format::parse(format) else {
        return Err(AppError::NotFound("labels come as qr.png or qr.svg".into()));
    };
    let image = blocking(state, move |_| {
        match audience {
            Audience::Public => label_images::PUBLIC.public(&content, format),
            Audience::Producer => label_images::render(&content, format),
        }
        .map_err(|e| match e {
            qr::QrError::TooLong(_) => AppError::invalid(
                "label_too_large",
                "id",
                "the certificate holds too much to fit in one QR code: print its online label",
            ),
            other => AppError::internal_from("QR code", other),
        })
    })
    .await?;
    let cache = match audience {
        Audience::Public => "public, max-age=86400",
        Audience::Producer => "private, no-store",
    };
    Ok(HttpResponse::Ok()
        .content_type(format.content_type())
        .insert_header((header::CACHE_CONTROL, cache))
        .body(image))
}

#[utoipa::path(get, path = "/api/v1/certificates/{id}/qr.{format}", tag = "certificates",
    params(("id" = String, Path), ("format" = String, Path, description = "png (image/png) or svg (image/svg+xml)")),
    responses((status = 200, description = "The batch label: a QR code of the verify URL", content_type = "image/png"), (status = 404, body = ErrorEnvelope)))]
pub async fn batch_qr(state: State, path: web::Path<BatchLabelPath>) -> AppResult<HttpResponse> {
    let BatchLabelPath { id, format } = path.into_inner();
    let url = blocking(&state, move |s| labels::batch_label(s, &id)).await?;
    label_response(&state, url, &format, Audience::Public).await
}

#[utoipa::path(get, path = "/api/v1/certificates/{id}/dl-qr.{format}", tag = "certificates",
    params(("id" = String, Path), ("format" = String, Path, description = "png or svg")),
    responses((status = 200, content_type = "image/png",
        description = "The batch label as a GS1 Digital Link: `{PUBLIC_URL}/01/{GTIN-14}/10/{batch}?s={signature}`, resolved by the platform (and by GS1 resolvers, which pass `s` on)"),
        (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope, description = "no_digital_link: the product has no GTIN, or the batch number does not fit GS1 AI 10")))]
pub async fn digital_link_qr(
    state: State,
    path: web::Path<BatchLabelPath>,
) -> AppResult<HttpResponse> {
    let BatchLabelPath { id, format } = path.into_inner();
    let url = blocking(&state, move |s| {
        crate::service::digital_link::batch_label(s, &id)
    })
    .await?;
    label_response(&state, url, &format, Audience::Public).await
}

#[utoipa::path(get, path = "/api/v1/certificates/{id}/credential", tag = "certificates",
    params(("id" = String, Path)),
    responses((status = 200, content_type = "application/vc+jwt",
        description = "The certificate as a W3C Verifiable Credential 2.0 shaped as a UN Transparency Protocol Digital Conformity Credential, secured as vc+jwt (compact JWS, EdDSA, by the platform key of /api/v1/credentials/jwks.json), with credentialStatus entries in the revocation and suspension Bitstring Status Lists"),
        (status = 404, body = ErrorEnvelope)))]
pub async fn credential(state: State, id: web::Path<String>) -> AppResult<HttpResponse> {
    let jwt = blocking(&state, move |s| {
        crate::service::credentials::credential(s, &id)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/vc+jwt")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(jwt))
}

/// Path of a status list: `/api/v1/status/{purpose}/{list}`.
#[derive(Deserialize)]
pub struct StatusListPath {
    purpose: String,
    list: i64,
}

#[utoipa::path(get, path = "/api/v1/status/{purpose}/{list}", tag = "certificates",
    params(("purpose" = String, Path, description = "revocation (revoked or recalled) or suspension"), ("list" = i64, Path)),
    responses((status = 200, content_type = "application/vc+jwt",
        description = "A W3C Bitstring Status List credential (131,072 entries, GZIP, multibase base64url), secured as vc+jwt"),
        (status = 404, body = ErrorEnvelope)))]
pub async fn status_list(state: State, path: web::Path<StatusListPath>) -> AppResult<HttpResponse> {
    let StatusListPath { purpose, list } = path.into_inner();
    let jwt = blocking(&state, move |s| {
        crate::service::credentials::status_list(s, &purpose, list)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/vc+jwt")
        .insert_header((header::CACHE_CONTROL, "public, max-age=60"))
        .body(jwt))
}

#[utoipa::path(get, path = "/api/v1/credentials/jwks.json", tag = "certificates",
    responses((status = 200, description = "The key that secures the platform's credentials and status lists, as a JWK set (Ed25519, OKP)")))]
pub async fn credential_keys(state: State) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .json(crate::service::credentials::jwks(&state)))
}

#[utoipa::path(get, path = "/api/v1/certificates/{id}/offline-qr.png", tag = "certificates",
    params(("id" = String, Path)),
    responses((status = 200, content_type = "image/png",
        description = "The offline batch label (contract §10): the batch label URL plus `&p=`, base64url (no padding) of the canonical payload compressed with raw DEFLATE (RFC 1951). Phones ignore `p`; `certrail verify --bundle` checks the signature from the label alone"),
        (status = 404, body = ErrorEnvelope)))]
pub async fn offline_qr(state: State, id: web::Path<String>) -> AppResult<HttpResponse> {
    let url = blocking(&state, move |s| labels::offline_batch_label(s, &id)).await?;
    label_response(&state, url, "png", Audience::Public).await
}

#[utoipa::path(get, path = "/api/v1/bundle", tag = "verification",
    responses((status = 200, body = crate::service::bundle::Bundle,
        description = "The trust bundle for offline verification (contract §10). `signature`: Ed25519 by the log key (`log_key`, a note verifier key) over \"CERTRAIL-BUNDLE-V1\\n\" followed by the RFC 8785 JSON of the bundle without `signature`, base64url without padding")))]
pub async fn bundle(state: State) -> AppResult<HttpResponse> {
    let bundle = blocking(&state, crate::service::bundle::current).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=60"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            "inline; filename=\"certrail-bundle.json\"",
        ))
        .json(&*bundle))
}

#[utoipa::path(get, path = "/api/v1/certificates/{id}/units/{serial}/qr.{format}", tag = "certificates", security(("bearer" = [])),
    params(("id" = String, Path), ("serial" = i64, Path), ("format" = String, Path, description = "png (image/png) or svg (image/svg+xml)")),
    responses((status = 200, description = "A unit label, for the issuing producer only", content_type = "image/png"), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn unit_qr(
    state: State,
    Auth(actor): Auth,
    path: web::Path<UnitLabelPath>,
) -> AppResult<HttpResponse> {
    let UnitLabelPath { id, serial, format } = path.into_inner();
    let url = blocking(&state, move |s| labels::unit_label(s, &actor, &id, serial)).await?;
    label_response(&state, url, &format, Audience::Producer).await
}

/// The 422 answer of a bulk issuance: the envelope, plus `items` when certificates were
/// rejected (not when the request as a whole is, e.g. more than 10,000 of them).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct BulkRejected<'a> {
    pub error: crate::openapi::ErrorDetail<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<ItemError>>,
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
                error: crate::openapi::ErrorDetail {
                    code: "invalid_items",
                    message: &message,
                    field: None,
                },
                items: Some(items),
            }))
        }
    }
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
