//! Other systems' formats: W3C Verifiable Credentials and status lists, GS1 EPCIS 2.0.

use crate::error::AppResult;
use crate::error::ErrorEnvelope;
use crate::http::extract::blocking;
use crate::routes::State;
use crate::service::interop::epcis;
use crate::service::trail::PageQuery;
use actix_web::http::header;
use actix_web::web;
use actix_web::HttpResponse;
use serde::Deserialize;

#[utoipa::path(get, path = "/api/v1/certificates/{id}/credential", tag = "certificates",
    params(("id" = String, Path)),
    responses((status = 200, content_type = "application/vc+jwt",
        description = "The certificate as a W3C Verifiable Credential 2.0 shaped as a UN Transparency Protocol Digital Conformity Credential, secured as vc+jwt (compact JWS, EdDSA, by the platform key of /api/v1/credentials/jwks.json), with credentialStatus entries in the revocation and suspension Bitstring Status Lists"),
        (status = 404, body = ErrorEnvelope)))]
pub async fn credential(state: State, id: web::Path<String>) -> AppResult<HttpResponse> {
    let jwt = blocking(&state, move |s| {
        crate::service::interop::credentials::credential(s, &id)
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
        crate::service::interop::credentials::status_list(s, &purpose, list)
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
        .json(crate::service::interop::credentials::jwks(&state)))
}

#[utoipa::path(get, path = "/api/v1/certificates/{id}/epcis", tag = "trail", params(("id" = String, Path), PageQuery),
    responses((status = 200, description = "EPCIS 2.0 JSON-LD document of one page of the trail (as `/trail` pages it; the first page also holds the commissioning and re-issue events); a `Link: <…>; rel=\"next\"` header names the following page", content_type = "application/ld+json"),
              (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn get_epcis(
    state: State,
    id: web::Path<String>,
    page: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let path_id = id.clone();
    let query = page.into_inner();
    let (doc, next) = blocking(&state, move |s| epcis::document(s, &id, query)).await?;
    let mut res = HttpResponse::Ok();
    res.content_type("application/ld+json");
    if let Some(after) = next {
        let limit = query
            .limit
            .map(|l| format!("&limit={l}"))
            .unwrap_or_default();
        res.insert_header((
            actix_web::http::header::LINK,
            format!(
                "<{}>; rel=\"next\"",
                state.public_url(&format!(
                    "/api/v1/certificates/{path_id}/epcis?after={after}{limit}"
                ))
            ),
        ));
    }
    Ok(res.body(doc.to_string()))
}
