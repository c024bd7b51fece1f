//! Unguessable identifiers and bearer tokens from the operating system's CSPRNG.

use super::signing::b64url;
use crate::domain::hash::sha256_hex;

/// Fills `N` random bytes. The OS generator failing is unrecoverable for a signing service.
#[expect(
    clippy::expect_used,
    reason = "without the operating system's random generator no key, id or token can be made safely: stopping is the only safe answer"
)]
fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // A host without a working CSPRNG cannot issue anything safely; stop loudly.
    getrandom::fill(&mut buf).expect("operating system random generator unavailable");
    buf
}

/// A public identifier: 96 random bits as base64url, 16 characters, never sequential.
pub fn new_id() -> String {
    b64url(&random_bytes::<12>())
}

/// A 32-byte secret (signing key seed or master key).
pub fn new_secret() -> [u8; 32] {
    random_bytes::<32>()
}

/// Prefix that makes certrail tokens recognizable to secret scanners.
pub const TOKEN_PREFIX: &str = "ctr_";

/// A new bearer token (256 random bits) and the hash that is stored instead of it.
pub fn new_token() -> (String, String) {
    let token = format!("{TOKEN_PREFIX}{}", b64url(&random_bytes::<32>()));
    let hash = token_hash(&token);
    (token, hash)
}

/// What is stored for a token: lower-case hex SHA-256 of the whole token.
pub fn token_hash(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_tokens() {
        let a = new_id();
        assert_eq!(a.len(), 16);
        assert_ne!(a, new_id());
        let (token, hash) = new_token();
        assert!(token.starts_with(TOKEN_PREFIX));
        assert_eq!(hash, token_hash(&token));
        assert_eq!(hash.len(), 64);
    }
}
