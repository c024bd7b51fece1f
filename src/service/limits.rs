//! Per-client rate limits for what anyone can send without a token: consumers' problem
//! reports and sign-in attempts. Keyed by the socket's peer address (a forwarded-for header is
//! the client's to forge).

use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::{AppError, AppResult};

/// A burst of `burst` requests per client, then one every `period`.
pub struct ClientLimiter {
    limiter: DefaultKeyedRateLimiter<String>,
    refusal: &'static str,
}

impl ClientLimiter {
    pub fn new(burst: u32, period: Duration, refusal: &'static str) -> Self {
        let quota = Quota::with_period(period)
            .expect("a non-zero period")
            .allow_burst(NonZeroU32::new(burst).expect("a non-zero burst"));
        ClientLimiter {
            limiter: RateLimiter::keyed(quota),
            refusal,
        }
    }

    /// Counts one request from `client`; refuses it (429) beyond the quota.
    pub fn check(&self, client: &str) -> AppResult<()> {
        let allowed = self.limiter.check_key(&client.to_string()).is_ok();
        self.limiter.retain_recent();
        if allowed {
            Ok(())
        } else {
            Err(AppError::TooManyRequests(self.refusal.into()))
        }
    }
}

/// The limiters the service keeps.
pub struct Limits {
    /// Consumers' problem reports: a burst of 5, then one every two minutes.
    pub reports: ClientLimiter,
    /// Sign-in attempts: a burst of 20, then one every 10 seconds.
    pub sign_in: ClientLimiter,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            reports: ClientLimiter::new(
                5,
                Duration::from_secs(120),
                "too many reports from this device; try again in a few minutes",
            ),
            sign_in: ClientLimiter::new(
                20,
                Duration::from_secs(10),
                "too many sign-in attempts from this device; try again in a minute",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refusal_per_client() {
        let limiter = ClientLimiter::new(2, Duration::from_secs(3600), "slow down");
        assert!(limiter.check("a").is_ok() && limiter.check("a").is_ok());
        let refused = limiter.check("a").unwrap_err();
        assert_eq!(refused.code(), "rate_limited");
        assert!(limiter.check("b").is_ok());
    }
}
