//! `/marks`: anyone looks up a certification mark by scheme and certificate number and sees who
//! holds it, for which product, from which certification body, and whether it is valid today.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use crate::error::{AppError, AppResult};
use crate::http::extract::blocking;
use crate::service::certification::marks::MarkQuery;
use crate::service::certification::marks::{self, MarkLookup};
use crate::service::AppState;

use crate::web::page::{render, Chrome, Lang};
use crate::web::words;

#[derive(Template)]
#[template(path = "marks.html", config = "assets/askama.toml")]
struct MarksPage {
    lang: Lang,
    chrome: Chrome,
    scheme: String,
    cert_no: String,
    found: Vec<MarkLookup>,
    /// Asked and nothing found, or the question was malformed.
    problem: Option<String>,
}

/// `GET /marks?scheme=&cert_no=`.
pub async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<MarkQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let (scheme, cert_no) = (q.scheme.unwrap_or_default(), q.cert_no.unwrap_or_default());
    let lang = Lang::of(&req);
    let asked = !scheme.trim().is_empty() || !cert_no.trim().is_empty();
    let (found, problem) = match asked {
        false => (vec![], None),
        true => {
            let (s, c) = (scheme.clone(), cert_no.clone());
            match blocking(&state, move |st| marks::lookup(st, &s, &c)).await {
                Ok(found) => (found, None),
                Err(AppError::NotFound(_)) => (
                    vec![],
                    Some(
                        lang.pick(
                            "没有找到这个认证证书。",
                            "No mark has this scheme and number.",
                        )
                        .to_string(),
                    ),
                ),
                Err(e @ AppError::Invalid(_)) => (vec![], Some(words::app_error(lang, &e))),
                Err(e) => return Err(e),
            }
        }
    };
    let page = MarksPage {
        lang,
        chrome: Chrome::new(&req, None),
        scheme,
        cert_no,
        found,
        problem,
    };
    render(&req, &page)
}
