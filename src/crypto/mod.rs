//! Signatures, key ids, sealing of private keys at rest, and random identifiers.

pub mod random;
pub mod seal;
pub mod signing;
pub mod verification;

pub use signing::{b64url, b64url_decode, kid_of};
