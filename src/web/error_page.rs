//! Errors on pages read as pages. A form that fails (an expired CSRF token, a rate limit, a
//! rule the service enforces, a certificate that is not yours) answers with an HTML page in the
//! visitor's language and the same status, instead of the API's JSON envelope. A client that
//! asks for JSON still gets the envelope; pages that render their own error pass through.

use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::{header, StatusCode};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use crate::error::{AppError, AppResult};
use crate::http::errors::{code_for, keep_headers};

use crate::web::page::{render, same_site_referer, wants_json, Chrome, Lang};
use crate::web::words;

#[derive(Template)]
#[template(path = "error.html", config = "assets/askama.toml")]
struct ErrorPage {
    lang: Lang,
    chrome: Chrome,
    title: &'static str,
    message: String,
    /// Where "back" goes: the referring page of this site, else the console.
    back: String,
}

/// The error page for `err` with `status`, in the visitor's language.
pub fn page_for(req: &HttpRequest, status: StatusCode, err: &AppError) -> AppResult<HttpResponse> {
    page(req, status, err.code(), &err.to_string())
}

fn page(
    req: &HttpRequest,
    status: StatusCode,
    code: &str,
    english: &str,
) -> AppResult<HttpResponse> {
    let lang = Lang::of(req);
    // A 503 says to come back (its message tells nothing internal); other 5xx say no more.
    let message = if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
        words::error(lang, "internal_error", "Please try again shortly.")
    } else {
        words::error(lang, code, english)
    };
    let page = ErrorPage {
        lang,
        chrome: Chrome::new(req, None),
        title: title(lang, status),
        message,
        back: back_link(req),
    };
    let mut response = render(req, &page)?;
    *response.status_mut() = status;
    Ok(response)
}

/// Middleware for page routes.
pub fn html<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(to_page)
}

fn title(lang: Lang, status: StatusCode) -> &'static str {
    let (zh, en) = match status {
        StatusCode::BAD_REQUEST => ("请求无效", "Bad request"),
        StatusCode::UNAUTHORIZED => ("请先登录", "Please sign in"),
        StatusCode::NOT_FOUND => ("找不到", "Not found"),
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
            ("请稍后再试", "Please try again later")
        }
        StatusCode::PAYLOAD_TOO_LARGE => ("内容太大", "Too large"),
        s if s.is_server_error() => ("服务器出错", "Something went wrong"),
        _ => ("无法完成此操作", "That could not be done"),
    };
    lang.pick(zh, en)
}

/// Where "back" goes: the referring page of this site; without one, the label's page for a
/// problem report, else the console.
fn back_link(req: &HttpRequest) -> String {
    same_site_referer(req).unwrap_or_else(|| match req.path().strip_suffix("/report") {
        Some(label) if label.starts_with("/v/") => format!("{label}?{}", req.query_string()),
        _ if req.path().starts_with("/console") => "/console".into(),
        _ => "/".into(),
    })
}

fn to_page<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("text/html"));
    if is_html || wants_json(res.request()) {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let (code, english) = match res.response().error() {
        Some(err) => match err.as_error::<AppError>() {
            // AppError logs its own cause.
            Some(app) => (app.code(), app.to_string()),
            None => {
                if status.is_server_error() {
                    log::error!("{status} on a page: {err}");
                }
                (code_for(status), err.to_string())
            }
        },
        None => (code_for(status), String::new()),
    };
    let (req, original) = res.into_parts();
    let mut response = match page(&req, status, code, &english) {
        Ok(response) => response,
        Err(_) => {
            let res = ServiceResponse::new(req, original);
            return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
        }
    };
    keep_headers(original.headers(), response.headers_mut());
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, response).map_into_right_body(),
    ))
}
