//! One error type for the whole service and its JSON envelope (contract §7):
//! `{"error": {"code": "<snake_case>", "message": "<human text>", "field": "<name>"?}}`.
//!
//! Server-side failures log their whole cause and tell the client nothing internal.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;

use crate::domain::ValidationError;

/// Every way a request can fail, named by what it means over HTTP.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: the request cannot be parsed.
    #[error("{message}")]
    BadRequest {
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    /// 401: no, or an unknown, bearer token.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: wrong role, or someone else's data.
    #[error("{0}")]
    Forbidden(String),
    /// 403 with its own code: the role is right, but a rule of authority says no (e.g. a
    /// regulator's suspension the producer cannot lift).
    #[error("{message}")]
    Denied { code: &'static str, message: String },
    /// 404.
    #[error("{0}")]
    NotFound(String),
    /// 409.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// 413.
    #[error("request body is too large")]
    PayloadTooLarge,
    /// 415.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422: well-formed but breaks a rule.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// 503: the database cannot be reached. The cause is logged, not returned.
    #[error("the database is unavailable, try again shortly")]
    Unavailable(String),
    /// 503: the server is at a bound it keeps (password hashes at once); try again shortly.
    #[error("{0}")]
    Busy(&'static str),
    /// 408: the request's body did not arrive within `CERTRAIL_BODY_TIMEOUT_SECS`.
    #[error("the request body did not arrive in time")]
    RequestTimeout,
    /// 429: a rate limit was reached; `retry_after` whole seconds (at least 1) until the
    /// next attempt is heard.
    #[error("{message}")]
    TooManyRequests { message: String, retry_after: u64 },
    /// 500. The cause is logged with its whole source chain, not returned.
    #[error("internal error")]
    Internal(#[source] Cause),
}

/// What went wrong inside, for the log: what was being done, and the error that stopped it
/// (whose own sources the log shows too).
#[derive(Debug)]
pub struct Cause {
    context: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl std::fmt::Display for Cause {
    /// The context, then each error of the chain: `context: error: its source: …`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.context)?;
        let mut next: Option<&(dyn std::error::Error + 'static)> = match &self.source {
            Some(source) => Some(source.as_ref()),
            None => None,
        };
        while let Some(err) = next {
            write!(f, ": {err}")?;
            next = err.source();
        }
        Ok(())
    }
}

impl std::error::Error for Cause {}

impl AppError {
    /// 500 for a broken invariant that has no error value of its own.
    pub fn internal(context: impl Into<String>) -> Self {
        AppError::Internal(Cause {
            context: context.into(),
            source: None,
        })
    }

    /// 500 caused by `source`, while doing `context`; the log shows `source`'s chain.
    pub fn internal_from(
        context: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        AppError::Internal(Cause {
            context: context.into(),
            source: Some(source.into()),
        })
    }

    /// 422 with a code, field and message.
    pub fn invalid(code: &'static str, field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid(ValidationError::new(code, field, message))
    }

    /// 429 after which the client may try again in `wait` (rounded up to whole seconds).
    pub fn too_many(message: impl Into<String>, wait: std::time::Duration) -> Self {
        let whole = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        AppError::TooManyRequests {
            message: message.into(),
            retry_after: whole.max(1),
        }
    }

    pub fn not_found(what: &str) -> Self {
        AppError::NotFound(format!("{what} not found"))
    }

    /// The envelope's `code`.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest { code, .. }
            | AppError::Conflict { code, .. }
            | AppError::Denied { code, .. } => code,
            AppError::Unauthorized(_) => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::UnsupportedMediaType(_) => "unsupported_media_type",
            AppError::Invalid(v) => v.code,
            AppError::Unavailable(_) => "database_unavailable",
            AppError::Busy(_) => "unavailable",
            AppError::RequestTimeout => "request_timeout",
            AppError::TooManyRequests { .. } => "rate_limited",
            AppError::Internal(_) => "internal_error",
        }
    }

    /// The envelope's `field`, if the error names one.
    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::BadRequest { field, .. } => field.as_deref(),
            AppError::Invalid(v) => Some(v.field.as_str()),
            _ => None,
        }
    }
}

/// The `error` member of the envelope.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail<'a> {
    /// snake_case, stable.
    pub code: &'a str,
    pub message: &'a str,
    /// The request field at fault, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'a str>,
}

/// `{"error": {...}}` (contract §7).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorEnvelope<'a> {
    pub error: ErrorDetail<'a>,
}

/// Builds an envelope response.
pub fn envelope_response(
    status: StatusCode,
    code: &str,
    message: &str,
    field: Option<&str>,
) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(ErrorEnvelope {
            error: ErrorDetail {
                code,
                message,
                field,
            },
        })
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) | AppError::Denied { .. } => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unavailable(_) | AppError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::Unavailable(cause) => log::error!("{}: {cause}", self.code()),
            AppError::Internal(cause) => log::error!("{}: {cause}", self.code()),
            _ => {}
        }
        let mut response = envelope_response(
            self.status_code(),
            self.code(),
            &self.to_string(),
            self.field(),
        );
        if matches!(self, AppError::Unavailable(_) | AppError::Busy(_)) {
            // Overload or a database that is away: ask the client to come back shortly.
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
        if let AppError::TooManyRequests { retry_after, .. } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(*retry_after));
        }
        if matches!(self, AppError::Unauthorized(_)) {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

impl From<DieselError> for AppError {
    fn from(err: DieselError) -> Self {
        match err {
            DieselError::NotFound => AppError::NotFound("not found".into()),
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                AppError::Conflict {
                    code: "conflict",
                    message: format!(
                        "already exists ({})",
                        info.constraint_name().unwrap_or("unique key")
                    ),
                }
            }
            DieselError::DatabaseError(kind, info) if storage_unavailable(kind, info.message()) => {
                if kind == DatabaseErrorKind::ClosedConnection {
                    crate::db::connection_lost();
                }
                AppError::Unavailable(info.message().to_string())
            }
            // A failed COMMIT whose rollback failed too: judged by why the commit failed.
            DieselError::RollbackErrorOnCommit { commit_error, .. } => match (*commit_error).into()
            {
                AppError::Unavailable(m) => {
                    crate::db::connection_lost();
                    AppError::Unavailable(m)
                }
                other => AppError::internal_from("commit failed, then rollback", other),
            },
            // Transient conflicts between transactions (PostgreSQL serialization failure,
            // deadlock) and a server that became a read-only standby: try again shortly.
            DieselError::DatabaseError(
                DatabaseErrorKind::SerializationFailure | DatabaseErrorKind::ReadOnlyTransaction,
                info,
            ) => AppError::Unavailable(info.message().to_string()),
            DieselError::DatabaseError(_, ref info)
                if info.message().starts_with("deadlock detected") =>
            {
                AppError::Unavailable(info.message().to_string())
            }
            // The connection died inside a transaction: it is dropped, not reused.
            DieselError::BrokenTransactionManager => {
                crate::db::connection_lost();
                AppError::Unavailable("the connection broke inside a transaction".into())
            }
            other => AppError::internal_from("database", other),
        }
    }
}

/// Whether a database error means storage is away or full (503, try again), not a bug: a lost
/// or refused PostgreSQL connection, a server shutting down or starting, a disk full on either
/// backend, SQLite's lock wait running out or its file being unreadable. (SQLite's "database
/// table is locked" is a conflict within one connection, a bug, and stays a 500.)
fn storage_unavailable(kind: DatabaseErrorKind, message: &str) -> bool {
    const MESSAGES: &[&str] = &[
        // SQLite (sqlite3_errstr of SQLITE_BUSY, SQLITE_LOCKED, SQLITE_FULL, SQLITE_IOERR,
        // SQLITE_CANTOPEN, SQLITE_READONLY).
        "database is locked",
        "database or disk is full",
        "disk I/O error",
        "unable to open database file",
        "attempt to write a readonly database",
        // PostgreSQL (SQLSTATE 57P01..57P03, 53100, and libpq's own).
        "terminating connection due to administrator command",
        "the database system is shutting down",
        "the database system is starting up",
        "the database system is in recovery mode",
        "could not extend file",
        "No space left on device",
        "server closed the connection unexpectedly",
        "no connection to the server",
        "could not send data to server",
        "could not receive data from server",
        "Connection refused",
    ];
    matches!(
        kind,
        DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand
    ) || MESSAGES.iter().any(|m| message.contains(m))
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        AppError::Unavailable(format!("connection pool: {err}"))
    }
}

impl From<crate::db::CheckoutError> for AppError {
    fn from(err: crate::db::CheckoutError) -> Self {
        match err {
            crate::db::CheckoutError::Pool(e) => e.into(),
            nested @ crate::db::CheckoutError::Nested => {
                AppError::internal_from("connection checkout", nested)
            }
        }
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(err: actix_web::error::BlockingError) -> Self {
        AppError::internal_from("blocking task", err)
    }
}

/// Result alias used across the service.
pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("writing the sheet")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn internal_errors_log_their_chain_and_tell_the_client_nothing() {
        let err = AppError::internal_from("label sheet", Outer(std::io::Error::other("disk gone")));
        let AppError::Internal(cause) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(
            cause.to_string(),
            "label sheet: writing the sheet: disk gone"
        );
        assert_eq!(err.to_string(), "internal error");
        let body = actix_web::body::to_bytes(err.error_response().into_body());
        let body = futures_util::FutureExt::now_or_never(body)
            .unwrap()
            .unwrap();
        let text = String::from_utf8_lossy(&body);
        assert!(
            !text.contains("disk") && text.contains("internal_error"),
            "{text}"
        );
        assert_eq!(AppError::internal("no key").to_string(), "internal error");
        let AppError::Internal(bare) = AppError::internal("no key") else {
            unreachable!()
        };
        assert_eq!(bare.to_string(), "no key");
    }
}
