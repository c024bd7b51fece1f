//! `GET /v/{id}[/{serial}]?s=…`: the URL inside every label. A phone camera gets an HTML page;
//! a scanner asking `Accept: application/json` gets the verification answer (contract §4).

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::{Deserialize, Serialize};

use crate::domain::payload::Payload;
use crate::domain::promise::PromisePayload;
use crate::domain::verdict::Verdict;
use crate::error::{AppError, AppResult, ErrorDetail};
use crate::http::extract::blocking;
use crate::service::redress::complaints::CATEGORIES;
use crate::service::verify::lineage::Lineage;
use crate::service::verify::{verify, verify_cached, Answer, Label, MarkStatus, Source};
use crate::service::AppState;

use crate::web::page::{render, wants_json, Chrome, Lang, FORM_CSRF_COOKIE};
use crate::web::words::{self, VerdictWords};

/// Labels whose records are being read from the database at once, at most: a cold cache (after
/// a start or a cache drop) sends every scan there, and more readers than cores only switch
/// between each other and contend for the database's locks; the rest wait without a thread.
fn cold_loads() -> &'static tokio::sync::Semaphore {
    static COLD: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    COLD.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        tokio::sync::Semaphore::new(2 * cores)
    })
}

/// The label's query string.
#[derive(Debug, Deserialize)]
pub struct LabelQuery {
    /// The label signature, base64url.
    pub(crate) s: Option<String>,
    /// Optional 6-digit region code a scanner app may add (for copy detection); never personal data.
    pub(crate) region: Option<String>,
}

/// A claimed mark as the page shows it.
pub(crate) struct MarkLine {
    pub(crate) scheme: String,
    pub(crate) cert_no: String,
    pub(crate) status: &'static str,
    pub(crate) tone: &'static str,
}

/// Claimed marks with their status in words.
pub(crate) fn mark_lines(lang: Lang, marks: &[MarkStatus]) -> Vec<MarkLine> {
    marks
        .iter()
        .map(|m| {
            let (status, tone) = words::mark_status(lang, &m.status);
            MarkLine {
                scheme: m.scheme.clone(),
                cert_no: m.cert_no.clone(),
                status,
                tone,
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "verify.html", config = "assets/askama.toml")]
struct VerifyPage {
    lang: Lang,
    chrome: Chrome,
    verdict: VerdictWords,
    reasons: Vec<String>,
    payload: Option<Payload>,
    promise: Option<PromisePayload>,
    lineage: Option<Lineage>,
    serial: Option<i64>,
    marks: Vec<MarkLine>,
    /// Plain-language warnings.
    warnings: Vec<String>,
    trail: Vec<crate::web::verify::timeline::Step>,
    /// Where the problem report form posts, for a known certificate.
    /// Where the certificate is in the public log, in words.
    log_line: Option<String>,
    report_action: Option<String>,
    /// Where a consumer asks for 先行赔付 (batch labels' certificates).
    claim_action: Option<String>,
    csrf_token: String,
    categories: &'static [(&'static str, &'static str, &'static str)],
}

/// The JSON body: the answer, plus the error member for an unknown id (a 404 must also be
/// an error envelope, contract §7).
#[derive(Serialize)]
struct JsonAnswer<'a> {
    #[serde(flatten)]
    answer: &'a Answer,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorDetail<'a>>,
}

pub(crate) async fn respond(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: String,
    serial: Option<i64>,
    query: LabelQuery,
) -> AppResult<HttpResponse> {
    let id_for_form = id.clone();
    let json = wants_json(&req);
    // The page links to the claim form with the label's signature; JSON answers need none.
    let query_s = match json {
        true => None,
        false => query.s.clone(),
    };
    let label = Label {
        id: &id,
        serial,
        signature: query.s.as_deref(),
    };
    let source = Source::Consumer {
        region: query.region.as_deref(),
    };
    // Nearly every scan is answered from memory right here; the rest go to a blocking thread.
    let answer = match verify_cached(&state, &label, &source) {
        Some(answer) => answer,
        None => {
            let _permit = cold_loads().acquire().await.ok();
            blocking(&state, move |st| {
                let label = Label {
                    id: &id,
                    serial,
                    signature: query.s.as_deref(),
                };
                verify(
                    st,
                    &label,
                    Source::Consumer {
                        region: query.region.as_deref(),
                    },
                )
            })
            .await?
        }
    };
    let status = if answer.verdict == Verdict::Unknown {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    if json {
        let mut response = HttpResponse::build(status);
        response.insert_header((header::CACHE_CONTROL, "no-store"));
        response.insert_header((header::VARY, "Accept"));
        let error = (answer.verdict == Verdict::Unknown).then_some(ErrorDetail {
            code: "unknown_certificate",
            message: "no certificate has this id",
            field: None,
        });
        return Ok(response.json(JsonAnswer {
            answer: &answer,
            error,
        }));
    }
    let lang = Lang::of(&req);
    let token = crate::web::form_token::issue(&state, FORM_CSRF_COOKIE);
    // The form keeps the label's query, so the pages after it link back to this label.
    let report_action = answer.certificate.as_ref().map(|_| {
        let label = match serial {
            Some(serial) => format!("/v/{id_for_form}/{serial}"),
            None => format!("/v/{id_for_form}"),
        };
        format!("{label}/report?{}", req.query_string())
    });
    let claim_action = answer.certificate.as_ref().map(|_| match &query_s {
        Some(s) => format!(
            "/v/{id_for_form}/claim?s={}",
            url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
        ),
        None => format!("/v/{id_for_form}/claim"),
    });
    let page = VerifyPage {
        claim_action,
        report_action,
        csrf_token: token.field.clone(),
        categories: &CATEGORIES,
        lang,
        chrome: Chrome::new(&req, None),
        verdict: words::verdict(answer.verdict),
        reasons: answer.reasons.clone(),
        payload: answer.payload(),
        promise: answer.promise(),
        lineage: answer.lineage.clone(),
        log_line: answer
            .record
            .as_ref()
            .and_then(|r| words::log_line(lang, &r.log)),
        serial,
        marks: mark_lines(lang, &answer.marks),
        warnings: answer
            .warnings
            .iter()
            .map(|w| lang.pick(&w.text.zh, &w.text.en).to_string())
            .collect(),
        trail: crate::web::verify::timeline::steps(lang, answer.trail_lines()),
    };
    let mut rendered = render(&req, &page)?;
    *rendered.status_mut() = status;
    rendered
        .headers_mut()
        .insert(header::VARY, header::HeaderValue::from_static("Accept"));
    rendered
        .add_cookie(&token.cookie)
        .map_err(|e| AppError::internal_from("cookie", e))?;
    Ok(rendered)
}

#[utoipa::path(get, path = "/v/{id}", tag = "verification",
    params(("id" = String, Path), ("s" = Option<String>, Query, description = "label signature, base64url"),
           ("Accept" = Option<String>, Header, description = "application/json for the JSON answer; otherwise an HTML page")),
    responses((status = 200, body = Answer, description = "Every known certificate, whatever its verdict"),
              (status = 404, body = Answer, description = "verdict unknown, with an `error` member")))]
pub async fn batch(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    q: web::Query<LabelQuery>,
) -> AppResult<HttpResponse> {
    respond(state, req, id.into_inner(), None, q.into_inner()).await
}

#[utoipa::path(get, path = "/v/{id}/{serial}", tag = "verification",
    params(("id" = String, Path), ("serial" = i64, Path), ("s" = Option<String>, Query, description = "unit label signature, base64url")),
    responses((status = 200, body = Answer), (status = 404, body = Answer)))]
pub async fn unit(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    q: web::Query<LabelQuery>,
) -> AppResult<HttpResponse> {
    let (id, serial) = path.into_inner();
    respond(state, req, id, Some(serial), q.into_inner()).await
}
