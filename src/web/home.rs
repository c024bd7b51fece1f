//! The front door: `/` says what this is, looks a certificate up by number or label address,
//! and on a fresh platform says how to begin; unknown paths get a page in the visitor's
//! language when a browser asks (API clients keep the JSON envelope).

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::domain::label;
use crate::domain::validate::is_id;
use crate::error::{AppError, AppResult};
use crate::http::extract::blocking;
use crate::service::{access::organizations, AppState};

use crate::web::page::{render, Chrome, Lang};

#[derive(Template)]
#[template(path = "home.html", config = "assets/askama.toml")]
struct HomePage {
    lang: Lang,
    chrome: Chrome,
    first_run: bool,
    /// What the visitor typed, kept after a failed lookup.
    query: String,
    error: Option<&'static str>,
}

async fn home_page(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    query: String,
    error: Option<&'static str>,
) -> AppResult<HttpResponse> {
    let first_run = blocking(state, organizations::first_run).await?;
    let lang = Lang::of(req);
    let page = HomePage {
        lang,
        chrome: Chrome::new(req, None),
        first_run,
        query,
        error,
    };
    render(req, &page)
}

/// `GET /`.
pub async fn home(state: web::Data<AppState>, req: HttpRequest) -> AppResult<HttpResponse> {
    home_page(&state, &req, String::new(), None).await
}

#[derive(Debug, Deserialize)]
pub struct LookupQuery {
    #[serde(default)]
    q: String,
}

/// Where a typed or scanned text leads: a label's address to its label page (the label is
/// checked there), a certificate number to its record.
fn destination(text: &str) -> Option<String> {
    let text = text.trim();
    if is_id(text) {
        return Some(format!("/c/{text}"));
    }
    let scanned = label::parse("q", text).ok()?;
    Some(match (&scanned.signature, scanned.serial) {
        (Some(s), Some(serial)) => format!("/v/{}/{serial}?s={s}", scanned.id),
        (Some(s), None) => format!("/v/{}?s={s}", scanned.id),
        (None, _) => format!("/c/{}", scanned.id),
    })
}

/// `GET /lookup?q=…`: redirects to the record or the label page; anything else is the front
/// page again with the reason under the field (422).
pub async fn lookup(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<LookupQuery>,
) -> AppResult<HttpResponse> {
    match destination(&query.q) {
        Some(to) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, to))
            .finish()),
        None => {
            let lang = Lang::of(&req);
            let message = lang.pick(
                "这不是合格证编号，也不是标签网址。编号印在合格证上，由字母、数字、- 和 _ 组成。",
                "That is neither a certificate number nor a label address. The number is printed on the certificate: letters, digits, - and _.",
            );
            let mut page = home_page(&state, &req, query.q.clone(), Some(message)).await?;
            *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(page)
        }
    }
}

/// Whether the request comes from a browser wanting a page.
fn wants_page(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
        && !req.path().starts_with("/api/")
}

/// The default service: a page for browsers, the JSON envelope for everyone else.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    if !wants_page(&req) {
        return crate::http::errors::not_found().await;
    }
    let err = AppError::NotFound("no such page".into());
    let mut response = crate::web::error_page::page_for(&req, StatusCode::NOT_FOUND, &err)
        .unwrap_or_else(|_| actix_web::ResponseError::error_response(&err));
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}

#[cfg(test)]
mod tests {
    use super::destination;

    #[test]
    fn numbers_and_label_addresses_lead_to_their_pages() {
        assert_eq!(destination(" AbC-123_x ").as_deref(), Some("/c/AbC-123_x"));
        assert_eq!(
            destination("https://x.test/v/AbC123?s=SIG").as_deref(),
            Some("/v/AbC123?s=SIG")
        );
        assert_eq!(
            destination("https://x.test/v/AbC123/7?s=SIG").as_deref(),
            Some("/v/AbC123/7?s=SIG")
        );
        assert_eq!(
            destination("https://x.test/v/AbC123").as_deref(),
            Some("/c/AbC123")
        );
        assert_eq!(destination("not a number!"), None);
        assert_eq!(destination(""), None);
    }
}
