//! Rate limits for what anyone can send without a token: consumers' problem reports and
//! sign-in attempts. Per client (the address [`crate::http::extract::client_addr`] finds,
//! through trusted proxies only) and, for sign-in, per account: failed passwords for one
//! account back off exponentially whichever addresses they come from, so neither a shared
//! proxy address nor a botnet gets around it.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
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

    /// Counts one request from `client`; refuses it (429, with the wait) beyond the quota.
    pub fn check(&self, client: &str) -> AppResult<()> {
        let checked = self.limiter.check_key(&client.to_string());
        self.limiter.retain_recent();
        checked.map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            AppError::too_many(self.refusal, wait)
        })
    }
}

/// Failed sign-ins per account name: the first [`AccountBackoff::FREE`] cost nothing, each one
/// after doubles the wait before the next attempt is heard (1 s, 2 s, 4 s … up to
/// [`AccountBackoff::MAX_WAIT`]). An attempt counts as a failure the moment it is let through
/// (so parallel guesses cannot slip in together), and a right password clears it; so does an
/// hour without attempts. Names that are no account are counted the same way, so the answers
/// never tell which names exist; the table keeps at most [`AccountBackoff::CAPACITY`] names.
#[derive(Default)]
pub struct AccountBackoff {
    failures: Mutex<HashMap<String, Failures>>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

impl AccountBackoff {
    /// Failures that cost nothing.
    pub const FREE: u32 = 5;
    /// The longest wait between attempts.
    pub const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
    /// Failures older than this are forgotten.
    const MEMORY: Duration = Duration::from_secs(3600);
    /// Most names remembered at once; beyond it the least recently tried are dropped.
    pub const CAPACITY: usize = 100_000;

    /// How long `account` must still wait before its next attempt is heard (zero: now).
    #[cfg(test)]
    fn wait(&self, account: &str, now: Instant) -> Duration {
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        Self::wait_in(&failures, account, now)
    }

    fn wait_in(failures: &HashMap<String, Failures>, account: &str, now: Instant) -> Duration {
        let Some(f) = failures.get(account) else {
            return Duration::ZERO;
        };
        if now.duration_since(f.last) >= Self::MEMORY {
            return Duration::ZERO;
        }
        Self::backoff(f.count).saturating_sub(now.duration_since(f.last))
    }

    /// The wait after `count` failures.
    fn backoff(count: u32) -> Duration {
        match count.checked_sub(Self::FREE) {
            None => Duration::ZERO,
            Some(extra) => Duration::from_secs(1u64 << extra.min(20)).min(Self::MAX_WAIT),
        }
    }

    /// Lets an attempt on `account` through, counted as a failure until [`Self::succeeded`],
    /// or refuses it (429 with the wait) while the account is backing off. The check and the
    /// count are one step under one lock.
    pub fn attempt(&self, account: &str) -> AppResult<()> {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let wait = Self::wait_in(&failures, account, now);
        if !wait.is_zero() {
            return Err(AppError::too_many(
                "too many failed sign-ins for this account; wait before trying again",
                wait,
            ));
        }
        if failures.len() >= Self::CAPACITY && !failures.contains_key(account) {
            failures.retain(|_, f| now.duration_since(f.last) < Self::MEMORY);
            if failures.len() >= Self::CAPACITY {
                let mut ages: Vec<Instant> = failures.values().map(|f| f.last).collect();
                ages.sort_unstable();
                let cutoff = ages[ages.len() / 2];
                failures.retain(|_, f| f.last > cutoff);
            }
        }
        let entry = failures.entry(account.to_string()).or_insert(Failures {
            count: 0,
            last: now,
        });
        if now.duration_since(entry.last) >= Self::MEMORY {
            entry.count = 0;
        }
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
        Ok(())
    }

    /// A right password: the account starts afresh.
    pub fn succeeded(&self, account: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        failures.remove(account);
    }
}

/// The limiters the service keeps.
pub struct Limits {
    /// Consumers' problem reports: a burst of 5, then one every two minutes.
    pub reports: ClientLimiter,
    /// Sign-in attempts per client: a burst of 20, then one every 10 seconds.
    pub sign_in: ClientLimiter,
    /// Failed sign-ins per account.
    pub accounts: AccountBackoff,
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
            accounts: AccountBackoff::default(),
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
        assert!(
            matches!(refused, AppError::TooManyRequests { retry_after, .. }
            if (3590..=3600).contains(&retry_after))
        );
        assert!(limiter.check("b").is_ok());
    }

    #[test]
    fn backoff_doubles_after_the_free_failures_up_to_the_cap() {
        assert_eq!(AccountBackoff::backoff(0), Duration::ZERO);
        assert_eq!(
            AccountBackoff::backoff(AccountBackoff::FREE - 1),
            Duration::ZERO
        );
        assert_eq!(
            AccountBackoff::backoff(AccountBackoff::FREE),
            Duration::from_secs(1)
        );
        assert_eq!(
            AccountBackoff::backoff(AccountBackoff::FREE + 1),
            Duration::from_secs(2)
        );
        assert_eq!(
            AccountBackoff::backoff(AccountBackoff::FREE + 3),
            Duration::from_secs(8)
        );
        assert_eq!(
            AccountBackoff::backoff(AccountBackoff::FREE + 10),
            AccountBackoff::MAX_WAIT
        );
        assert_eq!(AccountBackoff::backoff(u32::MAX), AccountBackoff::MAX_WAIT);
    }

    #[test]
    fn an_account_waits_after_its_failures_and_a_success_resets_it() {
        let accounts = AccountBackoff::default();
        for _ in 0..AccountBackoff::FREE {
            assert!(accounts.attempt("li").is_ok(), "five attempts are free");
        }
        let now = Instant::now();
        assert!(accounts.wait("li", now) > Duration::ZERO);
        let refused = accounts.attempt("li").unwrap_err();
        assert!(matches!(
            refused,
            AppError::TooManyRequests { retry_after: 1, .. }
        ));
        assert!(accounts.attempt("wang").is_ok(), "per account");
        // The wait is over once the backoff has passed, and long-past failures are forgotten.
        assert_eq!(
            accounts.wait("li", now + Duration::from_secs(2)),
            Duration::ZERO
        );
        assert_eq!(
            accounts.wait("li", Instant::now() + AccountBackoff::MEMORY),
            Duration::ZERO
        );
        accounts.succeeded("li");
        assert!(accounts.attempt("li").is_ok());
    }
}
