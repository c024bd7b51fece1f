//! Pure rules and types of the certificate domain: identifiers, payloads, verdicts and input
//! validation. Nothing here does I/O.

pub mod batch;
pub mod case;
pub mod copy;
pub mod credit_code;
pub mod digital_link;
pub mod gtin;
pub mod hash;
pub mod label;
pub mod payload;
pub mod promise;
pub mod region;
pub mod request;
pub mod role;
pub mod statistics;
pub mod status;
pub mod text;
pub mod trail;
pub mod validate;
pub mod verdict;

pub use validate::ValidationError;
