//! `GET /c/{id}`: the public record of a certificate found by its number, for someone who has
//! no label to scan (a paper slip, a torn label, a number read out on the phone). It shows the
//! certificate's status and content and never its signature: it says nothing about a physical
//! label and cannot be used to print one. A page, or JSON with `Accept: application/json`.
//! Served from the verification cache, so it costs what a verification costs.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Serialize;

use crate::domain::payload::Payload;
use crate::error::{AppError, AppResult};
use crate::http::extract::blocking;
use crate::service::verify::record::RawJson;
use crate::service::verify::{self, MarkStatus};
use crate::service::AppState;

use crate::web::page::{render, wants_json, Chrome, Lang};
use crate::web::verify::label::{mark_lines, MarkLine};
use crate::web::words;

/// What the record says, in JSON: never the signature.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CertificateRecord {
    pub id: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    /// The signed payload (contract §2): what the certificate says.
    #[schema(value_type = Object)]
    pub payload: RawJson,
    pub marks: Vec<MarkStatus>,
    /// The latest events (at most 20), oldest first.
    #[schema(value_type = Vec<crate::service::trail::TrailEvent>)]
    pub trail: RawJson,
    pub trail_total: usize,
    pub trail_url: String,
    /// That this is a record, not a verdict on a label.
    pub notice: &'static str,
}

#[derive(Template)]
#[template(path = "record.html", config = "assets/askama.toml")]
struct RecordPage {
    lang: Lang,
    chrome: Chrome,
    id: String,
    status: String,
    status_reason: Option<String>,
    payload: Option<Payload>,
    promise: Option<crate::domain::promise::PromisePayload>,
    lineage: Option<crate::service::verify::lineage::Lineage>,
    marks: Vec<MarkLine>,
    serial: Option<i64>,
    trail: Vec<crate::web::verify::timeline::Step>,
    /// Where the certificate is in the public log, in words.
    log_line: Option<String>,
    trail_total: usize,
}

#[utoipa::path(get, path = "/c/{id}", tag = "verification",
    params(("id" = String, Path, description = "the certificate number"),
           ("Accept" = Option<String>, Header, description = "application/json for JSON; otherwise an HTML page")),
    responses((status = 200, body = CertificateRecord, description = "The certificate's record (never its signature)"),
              (status = 404, description = "No certificate has this number")))]
pub async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let wanted = id.clone();
    let record = match state.verify.record(&id) {
        Some(record) => record,
        None => blocking(&state, move |s| verify::record(s, &wanted))
            .await?
            .ok_or_else(|| AppError::not_found("certificate"))?,
    };
    let marks = verify::marks_today(&record);
    if wants_json(&req) {
        return Ok(HttpResponse::Ok().json(CertificateRecord {
            id: record.id.to_string(),
            status: record.status.clone(),
            status_reason: record.status_reason.clone(),
            payload: record.payload_json.clone(),
            marks,
            trail: record.trail_json.clone(),
            trail_total: record.trail_total,
            trail_url: state.public_url(&format!("/api/v1/certificates/{}/trail", record.id)),
            notice: "This proves the certificate exists and shows its status; only scanning the label on the goods checks the label.",
        }));
    }
    let lang = Lang::of(&req);
    let page = RecordPage {
        lang,
        chrome: Chrome::new(&req, None),
        id: record.id.to_string(),
        status: record.status.clone(),
        status_reason: record.status_reason.clone(),
        payload: record.payload(),
        promise: record.promise(),
        lineage: record.lineage.as_deref().cloned(),
        log_line: words::log_line(lang, &record.log),
        marks: mark_lines(lang, &marks),
        serial: None,
        trail: crate::web::verify::timeline::steps(lang, &record.trail_lines),
        trail_total: record.trail_total,
    };
    render(&req, &page)
}
