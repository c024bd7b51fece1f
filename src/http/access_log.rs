//! The access log: one line a request (client address, request line, status, size, time),
//! with what must not reach a log file taken out of the request line. A label's signature
//! (`s`) is what a copier needs to print it, and a 先行赔付 case number is a consumer's only
//! key to their case (stored as a hash): both are replaced by `[redacted]`, in the query and
//! in the path segments routes name `{number}`. Headers (tokens, cookies) are never logged.

use actix_web::dev::ServiceResponse;
use actix_web::middleware::Logger;
use actix_web::HttpRequest;

/// What stands in the log for a value taken out.
pub const REDACTED: &str = "[redacted]";

/// Query parameters whose values are never logged.
const SECRET_PARAMS: &[&str] = &["s", "number"];

/// Route segments whose values are never logged.
const SECRET_SEGMENTS: &[&str] = &["{number}"];

/// Whether access-log lines are written (`RUST_LOG` lets actix's logger's info through).
pub fn enabled() -> bool {
    log::log_enabled!(target: "actix_web::middleware::logger", log::Level::Info)
}

/// The access-log middleware.
pub fn logger() -> Logger {
    // The request line is rendered from the response, whose request knows the route matched.
    Logger::new("%a \"%{request}xo\" %s %b %Dms")
        .custom_response_replace("request", |res: &ServiceResponse| {
            request_line(res.request())
        })
}

/// `METHOD path?query VERSION`, redacted.
pub fn request_line(req: &HttpRequest) -> String {
    let path = redact_path(req.path(), req.match_pattern().as_deref());
    let query = redact_query(req.query_string());
    match query.is_empty() {
        true => format!("{} {path} {:?}", req.method(), req.version()),
        false => format!("{} {path}?{query} {:?}", req.method(), req.version()),
    }
}

/// `path` with the segments its route `pattern` names as secret redacted. A path that cannot be
/// lined up with a pattern holding a secret segment is logged as the pattern.
fn redact_path(path: &str, pattern: Option<&str>) -> String {
    let Some(pattern) = pattern.filter(|p| SECRET_SEGMENTS.iter().any(|s| p.contains(s))) else {
        return path.to_string();
    };
    let names: Vec<&str> = pattern.split('/').collect();
    let values: Vec<&str> = path.split('/').collect();
    if names.len() != values.len() {
        return pattern.to_string();
    }
    names
        .iter()
        .zip(values)
        .map(|(name, value)| match SECRET_SEGMENTS.contains(name) {
            true => REDACTED,
            false => value,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// `query` with the values of secret parameters redacted (keys compared decoded, as the
/// handlers read them).
fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| {
            let key = url::form_urlencoded::parse(pair.as_bytes())
                .next()
                .map(|(k, _)| k.into_owned())
                .unwrap_or_default();
            match SECRET_PARAMS.contains(&key.as_str()) {
                true => format!("{}={REDACTED}", pair.split('=').next().unwrap_or("")),
                false => pair.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_leave_the_request_line() {
        assert_eq!(
            redact_query("s=QUJD&region=430702&%73=QUJD&number=PF-1&p=x"),
            "s=[redacted]&region=430702&%73=[redacted]&number=[redacted]&p=x"
        );
        assert_eq!(redact_query(""), "");
        assert_eq!(
            redact_path(
                "/api/v1/cases/PF-ABCD/confirm",
                Some("/api/v1/cases/{number}/confirm")
            ),
            "/api/v1/cases/[redacted]/confirm"
        );
        assert_eq!(
            redact_path("/cases/PF-ABCD", Some("/cases/{number}")),
            "/cases/[redacted]"
        );
        // A case's id is no secret; nor is a path no route matched.
        assert_eq!(
            redact_path(
                "/api/v1/cases/Xk3v/accept",
                Some("/api/v1/cases/{id}/accept")
            ),
            "/api/v1/cases/Xk3v/accept"
        );
        assert_eq!(redact_path("/v/Xk3v", None), "/v/Xk3v");
        assert_eq!(redact_path("/a/b/c", Some("/a/{number}")), "/a/{number}");
    }
}
