//! Password hashing: argon2id at the crate's default cost (m = 19,456 KiB, t = 2, p = 1), and a
//! gate that lets only as many hashes run at once as a memory budget holds
//! (`CERTRAIL_HASH_MEMORY_MB`, 160 MB by default: 8 at once). Each hash holds its 19 MB for
//! its whole run, so hundreds of parallel sign-ins would take gigabytes. Beyond the budget a
//! check is refused at once, 503 `unavailable` with `Retry-After: 1`, rather than queued: its
//! callers run on the blocking pool, where a wait would hold a thread. Every hash the service
//! computes goes through a [`Hashing`] permit; there is no other way to reach argon2 here.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::crypto::random::new_secret;
use crate::error::{AppError, AppResult};

/// A well-formed hash with the default cost, checked against when the username is unknown.
const DUMMY: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$2VQyB8Bd1kZJsBX0rQhWSRn0tuF6J1DT+dfUTrsSMDc";

/// At most [`HashGate::size`] password hashes at once.
pub struct HashGate {
    permits: Semaphore,
    size: usize,
}

impl HashGate {
    /// Memory one hash takes (argon2's default m_cost, in KiB).
    pub const HASH_BYTES: u64 = argon2::Params::DEFAULT_M_COST as u64 * 1024;

    /// As many hashes at once as `memory_bytes` holds, and at least one.
    pub fn new(memory_bytes: u64) -> Self {
        let size = usize::try_from(memory_bytes / Self::HASH_BYTES)
            .unwrap_or(usize::MAX)
            .clamp(1, Semaphore::MAX_PERMITS);
        HashGate {
            permits: Semaphore::new(size),
            size,
        }
    }

    /// How many hashes may run at once.
    pub fn size(&self) -> usize {
        self.size
    }

    /// A permit to hash, or 503 when the budget is taken.
    pub fn permit(&self) -> AppResult<Hashing<'_>> {
        self.permits
            .try_acquire()
            .map(|permit| Hashing { _permit: permit })
            .map_err(|_| {
                AppError::Busy(
                    "too many passwords are being checked at once; try again in a moment",
                )
            })
    }
}

/// Leave to compute password hashes, one at a time, while it is held.
pub struct Hashing<'a> {
    _permit: SemaphorePermit<'a>,
}

impl Hashing<'_> {
    /// The PHC string of `password` with a fresh salt.
    pub fn hash(&self, password: &str) -> AppResult<String> {
        let salt = SaltString::encode_b64(&new_secret()[..16])
            .map_err(|e| AppError::internal(format!("salt: {e}")))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::internal(format!("password hash: {e}")))
    }

    /// Whether `password` is the one `stored` (a PHC string) was made from; with no stored
    /// hash (an unknown user), checks against a dummy of the same cost, so the time taken does
    /// not tell which usernames exist, and answers no.
    pub fn matches(&self, password: &str, stored: Option<&str>) -> bool {
        let hash = stored.unwrap_or(DUMMY);
        let right = PasswordHash::new(hash).is_ok_and(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        });
        right && stored.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let gate = HashGate::new(HashGate::HASH_BYTES);
        let hashing = gate.permit().unwrap();
        let hash = hashing.hash("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(hashing.matches("correct horse", Some(&hash)));
        assert!(!hashing.matches("wrong horse", Some(&hash)));
        assert!(!hashing.matches("anything", Some("not a hash")));
        assert!(!hashing.matches("anything", None));
        assert!(PasswordHash::new(DUMMY).is_ok());
    }

    #[test]
    fn the_gate_holds_what_the_memory_budget_holds_and_refuses_beyond_it() {
        assert_eq!(HashGate::new(160 << 20).size(), 8, "the default budget");
        assert_eq!(HashGate::new(0).size(), 1, "at least one");
        let gate = HashGate::new(HashGate::HASH_BYTES);
        assert_eq!(gate.size(), 1);
        let held = gate.permit().unwrap();
        let refused = gate.permit().err().expect("the budget is taken");
        assert_eq!(refused.code(), "unavailable");
        let response = actix_web::ResponseError::error_response(&refused);
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers().get("retry-after").unwrap(), "1");
        drop(held);
        assert!(gate.permit().is_ok(), "a finished hash frees its place");
    }
}
