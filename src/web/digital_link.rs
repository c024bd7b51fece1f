//! GS1 Digital Link URIs on the platform's domain: `/01/{gtin}/10/{batch}[/21/{serial}]?s=…`
//! answers as the label's verification (page or JSON, as `/v/…` does), or with the linkset a
//! GS1 resolver asks for (`?linkType=linkset` or `Accept: application/linkset+json`).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::error::{AppError, AppResult};
use crate::http::extract::blocking;
use crate::service::{interop::digital_link, AppState};

use crate::web::verify::label::{respond, LabelQuery};

#[derive(Debug, Deserialize)]
pub struct LinkQuery {
    s: Option<String>,
    region: Option<String>,
    #[serde(rename = "linkType")]
    link_type: Option<String>,
}

/// The segments as `web::Path` gives them: fully percent-decoded (`%2F`, `%25` and `%2B`
/// included), so a batch number is used as it is, never decoded a second time.
#[derive(Debug, Deserialize)]
pub struct BatchPath {
    gtin: String,
    batch: String,
}

#[derive(Debug, Deserialize)]
pub struct UnitPath {
    gtin: String,
    batch: String,
    serial: i64,
}

fn wants_linkset(req: &HttpRequest, query: &LinkQuery) -> bool {
    query.link_type.as_deref() == Some("linkset")
        || req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("application/linkset+json"))
}

async fn answer(
    state: web::Data<AppState>,
    req: HttpRequest,
    gtin: String,
    batch: String,
    serial: Option<i64>,
    query: LinkQuery,
) -> AppResult<HttpResponse> {
    let linkset = wants_linkset(&req, &query);
    let signature = query.s.clone();
    let found = blocking(&state, move |s| {
        digital_link::resolve(s, &gtin, &batch, serial, signature.as_deref())
    })
    .await?;
    if linkset {
        let id = found.ok_or_else(|| AppError::not_found("certificate"))?;
        let anchor = state.public_url(req.path());
        let label_query = query
            .s
            .as_deref()
            .map(|s| format!("s={s}"))
            .unwrap_or_default();
        let body = digital_link::linkset(&state, &anchor, &id, &label_query);
        return Ok(HttpResponse::Ok()
            .content_type("application/linkset+json")
            .insert_header((header::VARY, "Accept"))
            .json(body));
    }
    // An unresolvable link answers as an unknown certificate does (404, verdict unknown).
    let id = found.unwrap_or_else(|| "unresolved".into());
    let label = LabelQuery {
        s: query.s,
        region: query.region,
    };
    respond(state, req, id, serial, label).await
}

#[utoipa::path(get, path = "/01/{gtin}/10/{batch}", tag = "verification",
    params(("gtin" = String, Path), ("batch" = String, Path), ("s" = Option<String>, Query, description = "the batch label's signature"),
           ("linkType" = Option<String>, Query, description = "`linkset` for the GS1 linkset (also `Accept: application/linkset+json`)")),
    responses((status = 200, body = crate::service::verify::Answer, description = "The verification answer of the certificate of this GTIN and batch (as /v/{id}); or its linkset"),
              (status = 404, body = crate::service::verify::Answer)))]
pub async fn batch(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<BatchPath>,
    query: web::Query<LinkQuery>,
) -> AppResult<HttpResponse> {
    let BatchPath { gtin, batch } = path.into_inner();
    answer(state, req, gtin, batch, None, query.into_inner()).await
}

#[utoipa::path(get, path = "/01/{gtin}/10/{batch}/21/{serial}", tag = "verification",
    params(("gtin" = String, Path), ("batch" = String, Path), ("serial" = i64, Path), ("s" = Option<String>, Query, description = "the unit label's signature")),
    responses((status = 200, body = crate::service::verify::Answer), (status = 404, body = crate::service::verify::Answer)))]
pub async fn unit(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<UnitPath>,
    query: web::Query<LinkQuery>,
) -> AppResult<HttpResponse> {
    let UnitPath {
        gtin,
        batch,
        serial,
    } = path.into_inner();
    answer(state, req, gtin, batch, Some(serial), query.into_inner()).await
}
