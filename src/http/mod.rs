//! HTTP plumbing shared by the JSON API ([`crate::routes`]) and the pages ([`crate::web`]):
//! extractors (the bearer-token caller, JSON bodies, query strings and path segments
//! ([`params`]), the client's address, blocking use cases)
//! and the envelope for actix's own errors, those of its router and extractors ([`errors`])
//! and those of its HTTP/1 parser ([`head_errors`]), the deadline on request bodies
//! ([`body_deadline`]), and the access log ([`access_log`]). Below both, so neither imports
//! the other.

pub mod access_log;
pub mod body_deadline;
pub mod download;
pub mod errors;
pub mod extract;
pub mod head_errors;
pub mod params;
