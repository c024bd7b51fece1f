//! What verifiers read: the trust list of public keys, the trust bundle for offline checks, and
//! a certificate's public trail with its check.

use crate::error::AppResult;
use crate::error::ErrorEnvelope;
use crate::http::extract::blocking;
use crate::routes::State;
use crate::service::trail::PageQuery;
use crate::service::trail::Trail;
use crate::service::verify::trust;
use crate::service::verify::trust::TrustList;
use actix_web::http::header;
use actix_web::web;
use actix_web::HttpResponse;

#[utoipa::path(get, path = "/api/v1/keys", tag = "verification", responses((status = 200, body = TrustList)))]
pub async fn keys(state: State) -> AppResult<HttpResponse> {
    let list = blocking(&state, trust::trust_list).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(list))
}

#[utoipa::path(get, path = "/api/v1/bundle", tag = "verification",
    responses((status = 200, body = crate::service::verify::bundle::Bundle,
        description = "The trust bundle for offline verification (contract §10). `signature`: Ed25519 by the log key (`log_key`, a note verifier key) over \"CERTRAIL-BUNDLE-V1\\n\" followed by the RFC 8785 JSON of the bundle without `signature`, base64url without padding")))]
pub async fn bundle(state: State) -> AppResult<HttpResponse> {
    let bundle = blocking(&state, crate::service::verify::bundle::current).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=60"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            "inline; filename=\"certrail-bundle.json\"",
        ))
        .json(&*bundle))
}

#[utoipa::path(get, path = "/api/v1/certificates/{id}/trail", tag = "trail", params(("id" = String, Path), PageQuery),
    responses((status = 200, body = Trail, description = "One page of the trail (100 events unless `limit` says otherwise, at most 500); `next` is the `after` of the following page"),
              (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn get_trail(
    state: State,
    id: web::Path<String>,
    page: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let query = page.into_inner();
    let trail = blocking(&state, move |s| {
        crate::service::verify::trail_page::get(s, &id, query)
    })
    .await?;
    Ok(HttpResponse::Ok().json(trail))
}
