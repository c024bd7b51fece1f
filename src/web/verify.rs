//! `GET /v/{id}[/{serial}]?s=…`: the URL inside every label. A phone camera gets an HTML page;
//! a scanner asking `Accept: application/json` gets the verification answer (contract §4).

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::{Deserialize, Serialize};

use crate::crypto::b64url;
use crate::crypto::random::new_secret;
use crate::domain::payload::Payload;
use crate::domain::trail::EventType;
use crate::domain::verdict::Verdict;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::routes::extract::blocking;
use crate::service::complaints::CATEGORIES;
use crate::service::verify::{verify, Answer, Label, Source};
use crate::service::AppState;

use super::page::{cookie, html_headers, FORM_CSRF_COOKIE};

/// The label's query string.
#[derive(Debug, Deserialize)]
pub struct LabelQuery {
    /// The label signature, base64url.
    s: Option<String>,
    /// Optional 6-digit region code a scanner app may add (for copy detection); never personal data.
    region: Option<String>,
}

#[derive(Template)]
#[template(path = "verify.html", config = "assets/askama.toml")]
struct VerifyPage {
    verdict_zh: &'static str,
    verdict_en: &'static str,
    explanation: &'static str,
    tone: &'static str,
    reasons: Vec<String>,
    payload: Option<Payload>,
    serial: Option<i64>,
    /// Plain-language warnings.
    warnings: Vec<String>,
    /// (time, event, organization) per trail event.
    trail: Vec<(String, &'static str, String)>,
    /// Where the problem report form posts, for a known certificate.
    report_action: Option<String>,
    csrf_token: String,
    categories: &'static [(&'static str, &'static str, &'static str)],
}

/// Chinese and English name of a trail event.
fn event_label(kind: EventType) -> &'static str {
    match kind {
        EventType::Issued => "签发 issued",
        EventType::Shipped => "发货 shipped",
        EventType::Received => "进货查验 received",
        EventType::Sold => "售出 sold",
        EventType::Inspected => "监督抽检 inspected",
        EventType::Suspended => "暂停 suspended",
        EventType::Reinstated => "恢复 reinstated",
        EventType::Revoked => "撤销 revoked",
        EventType::Recalled => "召回 recalled",
    }
}

/// Words and colour class for a verdict: (中文, English, explanation, tone).
pub(crate) fn describe(
    verdict: Verdict,
) -> (&'static str, &'static str, &'static str, &'static str) {
    match verdict {
        Verdict::Genuine => (
            "真品",
            "Genuine",
            "此合格证由生产者签发，签名验证通过。 Issued and signed by the producer.",
            "ok",
        ),
        Verdict::Expired => (
            "已过期",
            "Expired",
            "产品已超过保质期。 The product is past its expiry date.",
            "warn",
        ),
        Verdict::Suspended => (
            "已暂停",
            "Suspended",
            "此合格证已被暂停，请谨慎购买。 The certificate is suspended.",
            "warn",
        ),
        Verdict::Recalled => (
            "已召回",
            "Recalled",
            "此批次产品已召回，请勿使用。 This batch is recalled.",
            "bad",
        ),
        Verdict::Revoked => (
            "已撤销",
            "Revoked",
            "此合格证已被撤销。 The certificate was revoked.",
            "bad",
        ),
        Verdict::Tampered => (
            "数据异常",
            "Tampered",
            "存储的证书数据与签名不符。 The stored record does not match its signature.",
            "bad",
        ),
        Verdict::Forged => (
            "疑似伪造",
            "Forged",
            "标签签名无效，可能是伪造标签。 The label's signature is not valid.",
            "bad",
        ),
        Verdict::Unknown => (
            "未找到",
            "Unknown",
            "没有此编号的合格证。 No certificate has this id.",
            "unknown",
        ),
    }
}

/// Whether the client asked for JSON rather than a page.
fn wants_json(req: &HttpRequest) -> bool {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    accept.contains("application/json") && !accept.trim_start().starts_with("text/html")
}

/// The JSON body: the answer, plus the error member for an unknown id (a 404 must also be
/// an error envelope, contract §7).
#[derive(Serialize)]
struct JsonAnswer<'a> {
    #[serde(flatten)]
    answer: &'a Answer,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorBody<'a>>,
}

async fn respond(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: String,
    serial: Option<i64>,
    query: LabelQuery,
) -> AppResult<HttpResponse> {
    let id_for_form = id.clone();
    let answer = blocking(&state, move |st| {
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
    .await?;
    let status = if answer.verdict == Verdict::Unknown {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    let mut response = HttpResponse::build(status);
    response.insert_header((header::CACHE_CONTROL, "no-store"));
    response.insert_header((header::VARY, "Accept"));
    if wants_json(&req) {
        let error = (answer.verdict == Verdict::Unknown).then_some(ErrorBody {
            code: "unknown_certificate",
            message: "no certificate has this id",
            field: None,
        });
        return Ok(response.json(JsonAnswer {
            answer: &answer,
            error,
        }));
    }
    let (verdict_zh, verdict_en, explanation, tone) = describe(answer.verdict);
    let csrf_token = b64url(&new_secret());
    let report_action = answer.certificate.as_ref().map(|_| match serial {
        Some(serial) => format!("/v/{id_for_form}/{serial}/report"),
        None => format!("/v/{id_for_form}/report"),
    });
    let page = VerifyPage {
        report_action,
        csrf_token: csrf_token.clone(),
        categories: &CATEGORIES,
        verdict_zh,
        verdict_en,
        explanation,
        tone,
        reasons: answer.reasons.clone(),
        payload: answer.payload(),
        serial,
        warnings: answer.warnings.iter().map(|w| w.message.clone()).collect(),
        trail: answer
            .trail
            .iter()
            .map(|e| {
                (
                    e.body.at.clone(),
                    event_label(e.body.kind),
                    e.body.actor.name.clone(),
                )
            })
            .collect(),
    };
    let html = page
        .render()
        .map_err(|e| AppError::Internal(format!("template: {e}")))?;
    response.cookie(cookie(&state, FORM_CSRF_COOKIE, csrf_token));
    html_headers(&mut response);
    Ok(response.body(html))
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
