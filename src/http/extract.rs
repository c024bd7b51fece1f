//! Request extractors: the bearer-token caller and JSON bodies whose errors name the field.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use serde::de::DeserializeOwned;

use crate::domain::role::Scope;
use crate::error::{AppError, AppResult};
use crate::service::access::auth::authenticate;
use crate::service::{Actor, AppState};

type LocalFuture<T> = Pin<Box<dyn Future<Output = T>>>;

/// Runs a blocking use case on actix's thread pool.
pub async fn blocking<T, F>(state: &web::Data<AppState>, f: F) -> AppResult<T>
where
    T: Send + 'static,
    F: FnOnce(&AppState) -> AppResult<T> + Send + 'static,
{
    let state = state.clone();
    web::block(move || f(&state)).await?
}

/// The client's address, the key of per-client limits: the socket's peer, or, when the peer
/// is one of the configured trusted proxies, the address `X-Forwarded-For` gives for the hop
/// before the trusted ones (anything further left is the client's to forge).
pub fn client_addr(req: &HttpRequest) -> String {
    let trusted = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.config.trusted_proxies.as_slice())
        .unwrap_or_default();
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok());
    client_ip(req.peer_addr().map(|a| a.ip()), forwarded, trusted)
        .map_or_else(|| "unknown".to_string(), |ip| ip.to_string())
}

/// See [`client_addr`]: walks `X-Forwarded-For` (every header, in order) from the right while
/// the hop is a trusted proxy. A malformed entry stops the walk at the last trusted hop.
fn client_ip<'a>(
    peer: Option<IpAddr>,
    forwarded_for: impl Iterator<Item = &'a str>,
    trusted: &[IpAddr],
) -> Option<IpAddr> {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|t| t.to_canonical() == *ip);
    let mut client = peer?.to_canonical();
    if !is_trusted(&client) {
        return Some(client);
    }
    let hops: Vec<&str> = forwarded_for.flat_map(|v| v.split(',')).collect();
    for hop in hops.iter().rev() {
        match parse_hop(hop.trim()) {
            Some(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            None => break,
        }
    }
    Some(client)
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5678`,
/// `[2001:db8::1]:443`), IPv4-mapped IPv6 read as IPv4.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let ip = hop
        .parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))?;
    Some(ip.to_canonical())
}

/// The authenticated caller (`Authorization: Bearer <token>`); 401 without a valid token.
pub struct Auth(pub Actor);

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_string())
}

/// The token scope a request needs: reading is `read`; issuing (products, certificates,
/// drafts, label exports and unit labels) is `issue`; trail writes (events, inspections,
/// status changes, recalls and their acknowledgements, marks, accreditations, sanctions,
/// reinstatement requests and cases) are `trail`; anything else (tokens, keys, users,
/// organizations, witnesses, webhooks) is `admin`. A route missing here needs `admin`.
pub fn needed_scope(req: &HttpRequest) -> Scope {
    let pattern = req.match_pattern().unwrap_or_default();
    let path = pattern.strip_prefix("/api/v1").unwrap_or(&pattern);
    const ISSUE: &[&str] = &[
        "/products",
        "/certificates",
        "/certificates/bulk",
        "/certificates/drafts",
        "/certificates/drafts/{id}/signature",
        "/promises",
        "/certificates/{id}/split",
        "/labels.pdf",
        "/labels.zip",
    ];
    const TRAIL: &[&str] = &[
        "/certificates/{id}/events",
        "/certificates/{id}/inspections",
        "/certificates/{id}/suspend",
        "/certificates/{id}/reinstate",
        "/certificates/{id}/revoke",
        "/recalls",
        "/marks",
        "/marks/{id}/suspend",
        "/marks/{id}/reinstate",
        "/labs/accreditations",
        "/organizations/{id}/sanctions",
        "/sanctions/{id}/lift",
        "/certificates/{id}/reinstatement-requests",
        "/reinstatement-requests/{id}/decision",
        "/recalls/{id}/acknowledgements",
        "/cases/{id}/accept",
        "/cases/{id}/answer",
        "/cases/{id}/decision",
        "/accreditations/{id}/confirm",
        "/labs/{id}/delist",
    ];
    let reading = req.method() == Method::GET || req.method() == Method::HEAD;
    match (reading, path) {
        // A unit label lets its holder print genuine labels: issuing, though it is a GET.
        (_, "/certificates/{id}/units/{serial}/qr.{format}") => Scope::Issue,
        (true, p) if p.contains("/tokens") || p.contains("/keys") => Scope::Admin,
        (true, _) => Scope::Read,
        (false, p) if ISSUE.contains(&p) => Scope::Issue,
        (false, p) if TRAIL.contains(&p) => Scope::Trail,
        (false, _) => Scope::Admin,
    }
}

impl FromRequest for Auth {
    type Error = AppError;
    type Future = LocalFuture<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let gate = AuthGate::new(req);
        req.extensions_mut().insert(gate.clone());
        Box::pin(async move { gate.check().await.map(Auth) })
    }
}

/// What authenticating a request takes. Actix polls a handler's extractors side by side and
/// answers the first error, so a body extractor that fails at once would answer (422, 415,
/// 413) while the token lookup is still running. [`Auth`] leaves its gate on the request;
/// a body extractor that fails checks the gate first, and an unauthenticated caller learns
/// nothing about the body's rules: 401 before 422.
#[derive(Clone)]
struct AuthGate {
    state: Option<web::Data<AppState>>,
    token: Option<String>,
    needed: Scope,
}

impl AuthGate {
    fn new(req: &HttpRequest) -> Self {
        AuthGate {
            state: req.app_data::<web::Data<AppState>>().cloned(),
            token: bearer(req),
            needed: needed_scope(req),
        }
    }

    async fn check(self) -> AppResult<Actor> {
        let state = self
            .state
            .ok_or_else(|| AppError::internal("application state missing"))?;
        let token = self.token.ok_or_else(|| {
            AppError::Unauthorized("an Authorization: Bearer token is required".into())
        })?;
        let needed = self.needed;
        blocking(&state, move |s| authenticate(s, &token, needed)).await
    }
}

/// A body error, unless the request's authentication (if its handler takes [`Auth`]) fails:
/// then that failure.
async fn body_error(gate: Option<AuthGate>, error: AppError) -> AppError {
    match gate {
        Some(gate) => gate.check().await.err().unwrap_or(error),
        None => error,
    }
}

/// A JSON body deserialized with the failing field's path in the error.
pub struct ValidJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ValidJson<T> {
    type Error = AppError;
    type Future = LocalFuture<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let gate = req.extensions().get::<AuthGate>().cloned();
        let body = JsonBytes::from_request(req, payload);
        Box::pin(async move {
            match parse_json(&body.await?.0) {
                Ok(value) => Ok(ValidJson(value)),
                Err(e) => Err(body_error(gate, e).await),
            }
        })
    }
}

/// The raw bytes of a JSON body (checked content type, size limit applied), for handlers that
/// also need the exact bytes, e.g. to hash them for idempotency.
pub struct JsonBytes(pub web::Bytes);

impl FromRequest for JsonBytes {
    type Error = AppError;
    type Future = LocalFuture<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req
            .mime_type()
            .ok()
            .flatten()
            .is_some_and(|m| m.subtype() == "json" || m.suffix().is_some_and(|s| s == "json"));
        let gate = req.extensions().get::<AuthGate>().cloned();
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !is_json {
                let error = AppError::UnsupportedMediaType(
                    "send the body as Content-Type: application/json".into(),
                );
                return Err(body_error(gate, error).await);
            }
            let read = body.await.map_err(|e| {
                if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::PayloadTooLarge
                } else {
                    AppError::BadRequest {
                        code: "unreadable_body",
                        message: e.to_string(),
                        field: None,
                    }
                }
            });
            match read {
                Ok(bytes) => Ok(JsonBytes(bytes)),
                Err(e) => Err(body_error(gate, e).await),
            }
        })
    }
}

/// Text between the first pair of backticks in a serde message (the field name).
fn quoted_name(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

/// Parses a JSON body: syntax errors are 400 `malformed_json`; wrong types, missing and unknown
/// fields are 422 with the field's dotted path.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> AppResult<T> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let result: Result<T, _> = serde_path_to_error::deserialize(&mut de);
    let value = match result {
        Ok(value) => value,
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            if !inner.is_data() {
                return Err(AppError::BadRequest {
                    code: "malformed_json",
                    message: format!("the body is not valid JSON: {inner}"),
                    field: None,
                });
            }
            let message = inner.to_string();
            let code = if message.starts_with("missing field") {
                "missing_field"
            } else if message.starts_with("unknown field") {
                "unknown_field"
            } else if message.starts_with("invalid type") {
                "invalid_type"
            } else {
                "invalid_value"
            };
            let field = match (code, quoted_name(&message)) {
                ("missing_field", Some(name)) if path == "." => name.to_string(),
                ("missing_field", Some(name)) => format!("{path}.{name}"),
                ("unknown_field", Some(name)) if path == "." => name.to_string(),
                _ => path,
            };
            return Err(AppError::invalid(code, &field, message));
        }
    };
    de.end().map_err(|e| AppError::BadRequest {
        code: "malformed_json",
        message: format!("trailing characters after the JSON body: {e}"),
        field: None,
    })?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_client_is_found_through_trusted_proxies_only() {
        let proxy = [ip("10.0.0.2"), ip("10.0.0.3")];
        let client = |peer: &str, xff: &[&str], trusted: &[IpAddr]| {
            client_ip(Some(ip(peer)), xff.iter().copied(), trusted).map(|i| i.to_string())
        };
        // No trusted proxy: the header is ignored.
        assert_eq!(client("10.0.0.2", &["1.2.3.4"], &[]).unwrap(), "10.0.0.2");
        // From an untrusted peer the header is ignored too.
        assert_eq!(client("5.6.7.8", &["1.2.3.4"], &proxy).unwrap(), "5.6.7.8");
        // Through one proxy; through two; a forged entry left of the real client is ignored.
        assert_eq!(client("10.0.0.2", &["1.2.3.4"], &proxy).unwrap(), "1.2.3.4");
        assert_eq!(
            client("10.0.0.2", &["9.9.9.9, 1.2.3.4, 10.0.0.3"], &proxy).unwrap(),
            "1.2.3.4"
        );
        assert_eq!(
            client("10.0.0.2", &["9.9.9.9", "1.2.3.4"], &proxy).unwrap(),
            "1.2.3.4",
            "every header, in order"
        );
        // Nothing forwarded, or garbage: the proxy itself (never a forged address).
        assert_eq!(client("10.0.0.2", &[], &proxy).unwrap(), "10.0.0.2");
        assert_eq!(client("10.0.0.2", &["junk"], &proxy).unwrap(), "10.0.0.2");
        assert_eq!(
            client("10.0.0.2", &["1.2.3.4, junk, 10.0.0.3"], &proxy).unwrap(),
            "10.0.0.3"
        );
        assert_eq!(client_ip(None, std::iter::empty(), &proxy), None);
        // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; hops may carry ports.
        assert_eq!(
            client("::ffff:10.0.0.2", &["1.2.3.4:5678"], &proxy).unwrap(),
            "1.2.3.4"
        );
        assert_eq!(
            client("10.0.0.2", &["[2001:db8::1]:443"], &proxy).unwrap(),
            "2001:db8::1"
        );
    }
}
