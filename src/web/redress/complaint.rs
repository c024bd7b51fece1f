//! `POST /v/{id}[/{serial}]/report`: a consumer's problem report from the label's page. No
//! sign-in; the form's CSRF token must match the cookie set with the page, and reports are
//! rate limited per client address and per certificate.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::error::AppResult;
use crate::http::extract::blocking;
use crate::service::redress::complaints::{self, NewComplaint};
use crate::service::AppState;

use crate::web::page::{client_addr, render, Chrome, Lang, FORM_CSRF_COOKIE};

#[derive(Debug, Deserialize)]
pub struct ReportForm {
    csrf_token: String,
    category: String,
    message: String,
    contact: Option<String>,
}

#[derive(Template)]
#[template(path = "report_done.html", config = "assets/askama.toml")]
struct ReportDone {
    lang: Lang,
    chrome: Chrome,
    back: String,
}

async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: String,
    serial: Option<i64>,
    form: ReportForm,
) -> AppResult<HttpResponse> {
    crate::web::form_token::check(&state, &req, FORM_CSRF_COOKIE, &form.csrf_token)?;
    let client = client_addr(&req);
    let new = NewComplaint {
        category: form.category,
        message: form.message,
        contact: form.contact.filter(|c| !c.trim().is_empty()),
    };
    let target = id.clone();
    blocking(&state, move |s| {
        complaints::report(s, &client, &target, serial, new, None)
    })
    .await?;
    let back = match serial {
        Some(serial) => format!("/v/{id}/{serial}?{}", req.query_string()),
        None => format!("/v/{id}?{}", req.query_string()),
    };
    let page = ReportDone {
        lang: Lang::of(&req),
        chrome: Chrome::new(&req, None),
        back,
    };
    render(&req, &page)
}

pub async fn batch(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    form: web::Form<ReportForm>,
) -> AppResult<HttpResponse> {
    submit(state, req, id.into_inner(), None, form.into_inner()).await
}

pub async fn unit(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    form: web::Form<ReportForm>,
) -> AppResult<HttpResponse> {
    let (id, serial) = path.into_inner();
    submit(state, req, id, Some(serial), form.into_inner()).await
}
