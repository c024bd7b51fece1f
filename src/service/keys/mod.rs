//! Signing keys: their lifecycle (rotate, register a producer-held key, revoke) and the
//! key ring that opens and caches them for signing.

pub mod keyring;
pub mod lifecycle;
