//! The producer's console: its certificates (searched, paged), products, consumers' reports
//! and custody legs, and the A4 label sheet of a certificate. Issuing is in
//! [`crate::web::issuance::issue_form`], a certificate's page and its actions in [`crate::web::issuance::certificate`].

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use serde::Deserialize;

use crate::error::{AppError, AppResult};
use crate::http::extract::blocking;
use crate::print;
use crate::service::access::accounts::SessionUser;
use crate::service::custody::legs;
use crate::service::issuance::certificates::{self, CertificateLine};
use crate::service::issuance::labels::{self, ExportRequest};
use crate::service::issuance::products::{self, ProductView};
use crate::service::redress::complaints::{self, ComplaintView};
use crate::service::AppState;

use crate::web::page::{render, Chrome, Lang, SignedForm};
use crate::web::words;

#[derive(Template)]
#[template(path = "producer.html", config = "assets/askama.toml")]
struct ProducerPage {
    notice: Option<String>,
    lang: Lang,
    chrome: Chrome,
    organization: String,
    search: String,
    lines: Vec<CertificateLine>,
    page: i64,
    more: bool,
    products: Vec<ProductView>,
    complaints: Vec<ComplaintView>,
    csrf_token: String,
    legs: legs::Legs,
    claims: Vec<crate::web::custody::claims::ClaimLine>,
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    page: Option<i64>,
    done: Option<String>,
}

/// The producer's home page (`/console` for a producer).
pub async fn home(
    state: web::Data<AppState>,
    query: ListQuery,
    req: HttpRequest,
    user: SessionUser,
) -> AppResult<HttpResponse> {
    let actor = user.actor.clone();
    let search = query.q.clone().unwrap_or_default();
    let (q, page) = (query.q.clone(), query.page.unwrap_or(1));
    let org = user.organization.id.clone();
    let (list, products, complaints, legs, claims) = blocking(&state, move |s| {
        let legs = legs::legs(&mut *s.db.reader()?, &org)?;
        Ok((
            certificates::list_own(s, &actor, q.as_deref(), page)?,
            products::list_own(s, &actor)?,
            complaints::list(s, &actor, 20)?,
            legs,
            crate::web::custody::claims::for_console(s, &actor)?,
        ))
    })
    .await?;
    let lang = Lang::of(&req);
    let notice = match query.done.as_deref() {
        Some("product") => Some(
            lang.pick("产品已添加。", "The product was added.")
                .to_string(),
        ),
        done => words::done(lang, done),
    };
    let page = ProducerPage {
        notice,
        lang,
        chrome: Chrome::new(&req, Some(&user)),
        organization: user.organization.name.clone(),
        search,
        lines: list.lines,
        page: list.page,
        more: list.more,
        products,
        complaints,
        csrf_token: user.csrf_token.clone(),
        legs,
        claims,
    };
    render(&req, &page)
}

#[derive(Debug, Deserialize)]
pub struct LabelsForm {
    units: Option<String>,
}

pub async fn labels_pdf(
    state: web::Data<AppState>,
    id: web::Path<String>,
    SignedForm(user, form): SignedForm<LabelsForm>,
) -> AppResult<HttpResponse> {
    let request = ExportRequest {
        certificates: vec![id.into_inner()],
        units: form.units.is_some(),
    };
    let actor = user.actor.clone();
    let pdf = blocking(&state, move |s| {
        let labels = labels::export(s, &actor, &request)?;
        print::pdf::render(&labels).map_err(|e| AppError::internal_from("label sheet", e))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"labels.pdf\"",
        ))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(pdf))
}
