//! Turns actix's own error responses (unknown route, wrong method, bad query, body too large)
//! into the contract's JSON envelope; responses that already are JSON or HTML pass through.
//! A wrong method keeps the `Allow` header actix's resource gives it (the methods the
//! resource has routes for), as RFC 9110 requires of a 405.

use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{self, HeaderMap, HeaderName};
use actix_web::http::StatusCode;
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::HttpResponse;

use crate::error::{envelope_response, AppError};

/// Headers an error answer keeps when its body is replaced (by the envelope, or by an error
/// page): the methods a 405's resource takes, and when to come back after a 429 or 503.
const KEPT_HEADERS: [HeaderName; 2] = [header::ALLOW, header::RETRY_AFTER];

/// Copies the [`KEPT_HEADERS`] of an error answer onto the answer that replaces it.
pub fn keep_headers(from: &HeaderMap, to: &mut HeaderMap) {
    for name in KEPT_HEADERS {
        for value in from.get_all(&name) {
            to.append(name.clone(), value.clone());
        }
    }
}

/// Middleware that wraps every non-JSON, non-HTML error response in the envelope.
pub fn envelope<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(wrap)
}

pub fn code_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::NOT_ACCEPTABLE => "not_acceptable",
        StatusCode::REQUEST_TIMEOUT => "request_timeout",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::URI_TOO_LONG => "uri_too_long",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        s if s.is_server_error() => "internal_error",
        _ => "error",
    }
}

fn wrap<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let content_type = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("application/json") || content_type.starts_with("text/html") {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let (req, res) = res.into_parts();
    let message = match res.error() {
        Some(err) if status.is_client_error() => err.to_string(),
        Some(err) => {
            log::error!("{status}: {err}");
            "internal error".to_string()
        }
        None => status.canonical_reason().unwrap_or("error").to_string(),
    };
    let mut body = envelope_response(status, code_for(status), &message, None);
    keep_headers(res.headers(), body.headers_mut());
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, body).map_into_right_body(),
    ))
}

/// The default service: any unmatched path.
pub async fn not_found() -> HttpResponse {
    actix_web::ResponseError::error_response(&AppError::NotFound("no such route".into()))
}
