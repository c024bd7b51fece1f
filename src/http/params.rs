//! Query strings and path segments read into typed values. A value that does not fit is
//! answered in plain words that name the parameter ("page must be a whole number"), never in
//! the parser's (`invalid digit found in string`, `can not parse "abc" to a i64`): 400
//! `invalid_query` for a query, 404 for a path (no such resource).

use std::future::{ready, Ready};

use actix_web::error::{PathError, QueryPayloadError};
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use crate::error::{AppError, AppResult};

/// A query string read into `T`, naming the parameter a bad value is in.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Query<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse_query(req.query_string()).map(Query))
    }
}

/// Reads `query` into `T` (unknown parameters are ignored).
pub fn parse_query<T: DeserializeOwned>(query: &str) -> AppResult<T> {
    let parsed = url::form_urlencoded::parse(query.as_bytes());
    serde_path_to_error::deserialize(serde_urlencoded::Deserializer::new(parsed)).map_err(|e| {
        let path = e.path().to_string();
        let field = (path != ".").then_some(path);
        let (field, message) = plain(field.as_deref(), &e.inner().to_string());
        AppError::BadRequest {
            code: "invalid_query",
            message,
            field,
        }
    })
}

/// For `web::Query`, whose errors do not say which parameter: the same plain words.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| {
        let message = match &err {
            QueryPayloadError::Deserialize(e) => e.to_string(),
            _ => String::new(),
        };
        let (field, message) = plain(None, &message);
        AppError::BadRequest {
            code: "invalid_query",
            message,
            field,
        }
        .into()
    })
}

/// For `web::Path`: the segment a bad value is in, found by its value (the router's error
/// names the value only).
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, req| {
        let PathError::Deserialize(e) = &err else {
            return AppError::NotFound("no such route".into()).into();
        };
        let message = e.to_string();
        let quoted = message
            .strip_prefix("can not parse ")
            .and_then(|rest| rest.rsplit_once(" to a "))
            .map(|(value, _)| value);
        let field = quoted.and_then(|quoted| {
            req.match_info()
                .iter()
                .find(|(_, value)| format!("{value:?}") == quoted)
                .map(|(name, _)| name)
        });
        AppError::NotFound(plain(field, &message).1).into()
    })
}

/// The parameter and a plain message for a deserializer's `message` about `field`.
fn plain(field: Option<&str>, message: &str) -> (Option<String>, String) {
    let quoted = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_string)
    };
    if let Some(name) = quoted("missing field `") {
        return (Some(name.clone()), format!("{name} is required"));
    }
    if let Some(name) = quoted("duplicate field `") {
        return (
            Some(name.clone()),
            format!("{name} is given more than once"),
        );
    }
    let subject = field.unwrap_or("a parameter");
    // serde: "unknown variant `x`, expected `a`", "… expected `a` or `b`", "… one of `a`, `b`, `c`".
    let words = match message.split_once(", expected ") {
        Some((head, choices)) if head.starts_with("unknown variant") => {
            format!("must be {}", choices.replace('`', ""))
        }
        _ => expected(message).to_string(),
    };
    (field.map(str::to_string), format!("{subject} {words}"))
}

/// What a value should have been, from a number or boolean parser's message (Rust's own, as
/// serde_urlencoded passes them on, or actix-router's `can not parse "…" to a {type}`).
fn expected(message: &str) -> &'static str {
    let by_type = message
        .strip_prefix("can not parse ")
        .and_then(|rest| rest.rsplit_once(" to a "))
        .map(|(_, ty)| ty);
    match by_type.unwrap_or(message) {
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64" | "u128"
        | "usize" => "must be a whole number",
        "invalid digit found in string" | "cannot parse integer from empty string" => {
            "must be a whole number"
        }
        "number too large to fit in target type" | "number too small to fit in target type" => {
            "is out of range"
        }
        "f32" | "f64" | "invalid float literal" | "cannot parse float from empty string" => {
            "must be a number"
        }
        "bool" | "provided string was not `true` or `false`" => "must be true or false",
        _ => "is not valid",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Page {
        q: Option<String>,
        page: Option<i64>,
        from: Option<u64>,
        kind: Option<Kind>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Producer,
        Retailer,
    }

    fn error(query: &str) -> (Option<String>, String) {
        match parse_query::<Page>(query).unwrap_err() {
            AppError::BadRequest { field, message, .. } => (field, message),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_values_are_named_in_plain_words() {
        assert_eq!(
            parse_query::<Page>("q=x&page=2&other=1").unwrap().page,
            Some(2)
        );
        assert_eq!(
            error("q=abc&page=abc"),
            (Some("page".into()), "page must be a whole number".into())
        );
        assert_eq!(
            error("from=-1"),
            (Some("from".into()), "from must be a whole number".into())
        );
        assert_eq!(
            error("page=99999999999999999999"),
            (Some("page".into()), "page is out of range".into())
        );
        assert_eq!(
            error("kind=lab"),
            (
                Some("kind".into()),
                "kind must be producer or retailer".into()
            )
        );
        assert_eq!(
            error("page=1&page=2"),
            (Some("page".into()), "page is given more than once".into())
        );
        assert_eq!(
            plain(None, "missing field `from`"),
            (Some("from".into()), "from is required".into())
        );
        assert_eq!(
            plain(Some("serial"), "can not parse \"abc\" to a i64").1,
            "serial must be a whole number"
        );
        assert_eq!(plain(None, "something else").1, "a parameter is not valid");
    }
}
