//! Rate limits for what anyone can send without a token: consumers' problem reports and
//! password checks (sign-in, and the current password asked again to change it). Each is keyed
//! by the client address [`crate::http::extract::client_addr`] finds, through trusted proxies
//! only.
//!
//! Password checks follow the OWASP Authentication Cheat Sheet: a guesser is slowed down, and
//! nobody gets a lever to keep a named account locked. [`SignInLimits`] counts
//! - every attempt per source, whatever the account (spraying one password over many names): a
//!   burst of 20, then one every 10 seconds;
//! - failures per account *and* source: 5 free, then a wait that doubles up to 15 minutes. A
//!   stranger's failures from their addresses hold back those addresses only, never the owner
//!   signing in from theirs;
//! - failures per account from sources it has not signed in from in the last 30 days (guesses
//!   spread over a botnet): 100, then one every 36 seconds, shared by all such sources. Sources
//!   the account signed in from are never held back by it, so an attacker can at worst slow the
//!   owner's first sign-in from a new place, never lock the account.
//!
//! A source is an IPv4 address, or the /64 an IPv6 address is in (what one subscriber or host
//! is given, so a new address from the same /64 is no new source).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::{Mutex, MutexGuard};
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
        // A zero period or burst (a setting of 0) is read as the smallest limit, not a panic.
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN));
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

/// The key of per-source limits: an IPv4 address as it is, an IPv6 address's /64.
pub fn source_of(client: &str) -> String {
    match client.parse::<IpAddr>() {
        Ok(IpAddr::V6(ip)) => {
            let prefix = u128::from(ip) & !(u128::from(u64::MAX));
            format!("{}/64", Ipv6Addr::from(prefix))
        }
        _ => client.to_string(),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// Wrong passwords for one account from one source.
#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

impl Failures {
    /// How long until the next attempt is heard (zero: now).
    fn wait(&self, now: Instant) -> Duration {
        let since = now.duration_since(self.last);
        if since >= SignInLimits::MEMORY {
            return Duration::ZERO;
        }
        SignInLimits::backoff(self.count).saturating_sub(since)
    }
}

/// Wrong passwords for one account from sources it has not signed in from: a GCRA bucket whose
/// theoretical arrival time runs one period ahead for each failure, and may run at most
/// [`SignInLimits::STRANGER_FAILURES`] periods ahead of the clock.
#[derive(Debug, Clone, Copy)]
struct Strangers {
    tat: Instant,
}

impl Strangers {
    /// Takes one failure's place, or says how long until there is one.
    fn take(&mut self, now: Instant) -> Result<(), Duration> {
        let period = SignInLimits::STRANGER_PERIOD;
        let tolerance = period * (SignInLimits::STRANGER_FAILURES - 1);
        let tat = self.tat.max(now);
        let ahead = tat.duration_since(now);
        if ahead > tolerance {
            return Err(ahead - tolerance);
        }
        self.tat = tat + period;
        Ok(())
    }

    /// Gives a place back (an attempt that was never judged, or was right).
    fn give_back(&mut self) {
        self.tat = self
            .tat
            .checked_sub(SignInLimits::STRANGER_PERIOD)
            .unwrap_or(self.tat);
    }

    /// Whether the bucket is as it would be fresh (nothing to remember).
    fn is_full(&self, now: Instant) -> bool {
        self.tat <= now
    }
}

/// Makes room for one more key in `map` once it holds [`SignInLimits::CAPACITY`]: first drops
/// what `forgotten` says is over, then, if it is still full, the less recently used half.
fn make_room<K: Eq + Hash, V>(
    map: &mut HashMap<K, V>,
    forgotten: impl Fn(&V) -> bool,
    last: impl Fn(&V) -> Instant,
) {
    if map.len() < SignInLimits::CAPACITY {
        return;
    }
    map.retain(|_, v| !forgotten(v));
    if map.len() >= SignInLimits::CAPACITY {
        let mut ages: Vec<Instant> = map.values().map(&last).collect();
        ages.sort_unstable();
        let cutoff = ages[ages.len() / 2];
        map.retain(|_, v| last(v) > cutoff);
    }
}

const PAIR_REFUSAL: &str =
    "too many wrong passwords for this account from this address; wait before trying again";
const STRANGER_REFUSAL: &str = "too many wrong passwords for this account from new addresses; \
     wait before trying again, or sign in from where you signed in before";

/// The limits on password checks (see the module's documentation). An attempt counts as a
/// failure the moment it is let through, so parallel guesses cannot slip in together; a right
/// password clears its account and source; an attempt never judged (the server too busy to
/// hash, the database away) is given back. Names that are no account are counted the same
/// way, so the answers never tell which names exist.
pub struct SignInLimits {
    sources: ClientLimiter,
    /// Per (account, source).
    pairs: Mutex<HashMap<(String, String), Failures>>,
    /// Per account, from sources it has not signed in from.
    strangers: Mutex<HashMap<String, Strangers>>,
    /// Per account, the sources it signed in from, least recent first. Only a right password
    /// adds to it, so its size is bounded by the accounts there are.
    known: Mutex<HashMap<String, Vec<(String, Instant)>>>,
}

impl Default for SignInLimits {
    fn default() -> Self {
        SignInLimits {
            sources: ClientLimiter::new(
                20,
                Duration::from_secs(10),
                "too many sign-in attempts from this device; try again in a minute",
            ),
            pairs: Default::default(),
            strangers: Default::default(),
            known: Default::default(),
        }
    }
}

impl SignInLimits {
    /// Failures from one source that cost nothing.
    pub const FREE: u32 = 5;
    /// The longest wait between one source's attempts on one account.
    pub const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
    /// Failures older than this are forgotten.
    const MEMORY: Duration = Duration::from_secs(3600);
    /// Failures per account from sources it has not signed in from, before they are slowed.
    pub const STRANGER_FAILURES: u32 = 100;
    /// Beyond them, one more every this long.
    pub const STRANGER_PERIOD: Duration = Duration::from_secs(36);
    /// A source an account signed in from stays known this long.
    const KNOWN_FOR: Duration = Duration::from_secs(30 * 24 * 3600);
    /// Sources remembered per account (the most recent).
    const KNOWN_PER_ACCOUNT: usize = 8;
    /// Most (account, source) pairs, and most accounts tried from new sources, remembered at
    /// once; beyond it the least recently tried go first.
    pub const CAPACITY: usize = 100_000;

    /// The wait after `count` failures: 1 s, 2 s, 4 s … after the free ones.
    fn backoff(count: u32) -> Duration {
        match count.checked_sub(Self::FREE) {
            None => Duration::ZERO,
            Some(extra) => Duration::from_secs(1u64 << extra.min(20)).min(Self::MAX_WAIT),
        }
    }

    /// Lets a password check for `account` from `client` through, counted as a failure until
    /// the [`Attempt`] says otherwise, or refuses it (429 with the wait).
    pub fn attempt(&self, account: &str, client: &str) -> AppResult<Attempt<'_>> {
        let source = source_of(client);
        self.sources.check(&source)?;
        self.attempt_at(account, source, Instant::now())
    }

    fn attempt_at(&self, account: &str, source: String, now: Instant) -> AppResult<Attempt<'_>> {
        let stranger = !self.is_known(account, &source, now);
        let key = (account.to_string(), source);
        // The check and the count are one step under one lock.
        let mut pairs = lock(&self.pairs);
        if let Some(wait) = pairs.get(&key).map(|f| f.wait(now)) {
            if !wait.is_zero() {
                return Err(AppError::too_many(PAIR_REFUSAL, wait));
            }
        }
        if stranger {
            let mut strangers = lock(&self.strangers);
            if !strangers.contains_key(account) {
                make_room(&mut strangers, |s| s.is_full(now), |s| s.tat);
            }
            strangers
                .entry(account.to_string())
                .or_insert(Strangers { tat: now })
                .take(now)
                .map_err(|wait| AppError::too_many(STRANGER_REFUSAL, wait))?;
        }
        if !pairs.contains_key(&key) {
            make_room(
                &mut pairs,
                |f| now.duration_since(f.last) >= Self::MEMORY,
                |f| f.last,
            );
        }
        let entry = pairs.entry(key.clone()).or_insert(Failures {
            count: 0,
            last: now,
        });
        if now.duration_since(entry.last) >= Self::MEMORY {
            entry.count = 0;
        }
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
        let (account, source) = key;
        Ok(Attempt {
            limits: self,
            account,
            source,
            stranger,
            settled: false,
        })
    }

    fn is_known(&self, account: &str, source: &str, now: Instant) -> bool {
        lock(&self.known).get(account).is_some_and(|sources| {
            sources
                .iter()
                .any(|(s, at)| s == source && now.duration_since(*at) < Self::KNOWN_FOR)
        })
    }

    fn remember(&self, account: &str, source: &str, now: Instant) {
        let mut known = lock(&self.known);
        let sources = known.entry(account.to_string()).or_default();
        sources.retain(|(s, at)| s != source && now.duration_since(*at) < Self::KNOWN_FOR);
        sources.push((source.to_string(), now));
        if sources.len() > Self::KNOWN_PER_ACCOUNT {
            sources.remove(0);
        }
    }

    fn give_back_stranger(&self, account: &str) {
        if let Some(bucket) = lock(&self.strangers).get_mut(account) {
            bucket.give_back();
        }
    }
}

/// A password check let through by [`SignInLimits::attempt`]. Say how it went with
/// [`Attempt::failed`] or [`Attempt::succeeded`]; dropped without either (the check never
/// happened), it is not counted.
#[must_use = "say whether the password was right"]
pub struct Attempt<'a> {
    limits: &'a SignInLimits,
    account: String,
    source: String,
    stranger: bool,
    settled: bool,
}

impl Attempt<'_> {
    /// A wrong password: the failure stays counted.
    pub fn failed(mut self) {
        self.settled = true;
    }

    /// The right password: this account and source start afresh, and the source becomes one
    /// the account signs in from.
    pub fn succeeded(mut self) {
        self.settled = true;
        let limits = self.limits;
        lock(&limits.pairs).remove(&(self.account.clone(), self.source.clone()));
        if self.stranger {
            limits.give_back_stranger(&self.account);
        }
        limits.remember(&self.account, &self.source, Instant::now());
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let limits = self.limits;
        let key = (
            std::mem::take(&mut self.account),
            std::mem::take(&mut self.source),
        );
        if let Some(failures) = lock(&limits.pairs).get_mut(&key) {
            failures.count = failures.count.saturating_sub(1);
        }
        if self.stranger {
            limits.give_back_stranger(&key.0);
        }
    }
}

/// The limiters the service keeps.
pub struct Limits {
    /// Consumers' problem reports: a burst of 5, then one every two minutes.
    pub reports: ClientLimiter,
    /// Password checks.
    pub sign_in: SignInLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            reports: ClientLimiter::new(
                5,
                Duration::from_secs(120),
                "too many reports from this device; try again in a few minutes",
            ),
            sign_in: SignInLimits::default(),
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
        let backoff = SignInLimits::backoff;
        assert_eq!(backoff(0), Duration::ZERO);
        assert_eq!(backoff(SignInLimits::FREE - 1), Duration::ZERO);
        assert_eq!(backoff(SignInLimits::FREE), Duration::from_secs(1));
        assert_eq!(backoff(SignInLimits::FREE + 1), Duration::from_secs(2));
        assert_eq!(backoff(SignInLimits::FREE + 3), Duration::from_secs(8));
        assert_eq!(backoff(SignInLimits::FREE + 10), SignInLimits::MAX_WAIT);
        assert_eq!(backoff(u32::MAX), SignInLimits::MAX_WAIT);
    }

    fn retry_after(refused: AppError) -> u64 {
        match refused {
            AppError::TooManyRequests { retry_after, .. } => retry_after,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn one_source_waits_after_its_failures_and_the_owner_elsewhere_does_not() {
        let limits = SignInLimits::default();
        let now = Instant::now();
        let stranger = || "203.0.113.9".to_string();
        for _ in 0..SignInLimits::FREE {
            limits.attempt_at("li", stranger(), now).unwrap().failed();
        }
        let refused = limits.attempt_at("li", stranger(), now).err().unwrap();
        assert_eq!(retry_after(refused), 1);
        // The owner, from their own address, is not held back by the stranger's failures...
        let owner = limits.attempt_at("li", "198.51.100.7".into(), now).unwrap();
        owner.succeeded();
        // ...and their right password does not clear the stranger's.
        assert!(limits.attempt_at("li", stranger(), now).is_err());
        // The wait passes; long-past failures are forgotten.
        let later = now + Duration::from_secs(2);
        limits.attempt_at("li", stranger(), later).unwrap().failed();
        let refused = limits.attempt_at("li", stranger(), later).err().unwrap();
        assert_eq!(retry_after(refused), 2, "the wait doubles");
        let much_later = now + SignInLimits::MEMORY + Duration::from_secs(3);
        limits
            .attempt_at("li", stranger(), much_later)
            .unwrap()
            .failed();
        // A right password from that source starts it afresh.
        let fresh = much_later + Duration::from_secs(1);
        for _ in 0..SignInLimits::FREE - 2 {
            limits.attempt_at("li", stranger(), fresh).unwrap().failed();
        }
        limits
            .attempt_at("li", stranger(), fresh)
            .unwrap()
            .succeeded();
        for _ in 0..SignInLimits::FREE {
            limits.attempt_at("li", stranger(), fresh).unwrap().failed();
        }
    }

    #[test]
    fn guesses_spread_over_many_sources_are_slowed_but_known_sources_pass() {
        let limits = SignInLimits::default();
        let now = Instant::now();
        limits
            .attempt_at("wang", "198.51.100.7".into(), now)
            .unwrap()
            .succeeded();
        for n in 0..SignInLimits::STRANGER_FAILURES {
            let source = format!("10.{}.{}.1", n / 256, n % 256);
            limits.attempt_at("wang", source, now).unwrap().failed();
        }
        let refused = limits
            .attempt_at("wang", "10.99.0.1".into(), now)
            .err()
            .unwrap();
        assert_eq!(refused.to_string(), STRANGER_REFUSAL);
        assert_eq!(
            retry_after(refused),
            SignInLimits::STRANGER_PERIOD.as_secs()
        );
        // Where the owner signed in before, they are heard at once.
        limits
            .attempt_at("wang", "198.51.100.7".into(), now)
            .unwrap()
            .succeeded();
        // Other accounts are untouched; and the budget refills, one every period.
        limits
            .attempt_at("zhao", "10.99.0.1".into(), now)
            .unwrap()
            .failed();
        let later = now + SignInLimits::STRANGER_PERIOD;
        limits
            .attempt_at("wang", "10.99.0.1".into(), later)
            .unwrap()
            .failed();
        assert!(limits
            .attempt_at("wang", "10.99.0.2".into(), later)
            .is_err());
    }

    #[test]
    fn an_attempt_never_judged_is_not_counted() {
        let limits = SignInLimits::default();
        let now = Instant::now();
        for _ in 0..SignInLimits::FREE + 3 {
            drop(limits.attempt_at("li", "203.0.113.9".into(), now).unwrap());
        }
        for n in 0..SignInLimits::STRANGER_FAILURES + 3 {
            drop(limits.attempt_at("li", format!("10.0.0.{n}"), now).unwrap());
        }
        for n in 0..SignInLimits::STRANGER_FAILURES {
            limits
                .attempt_at("li", format!("10.1.0.{n}"), now)
                .unwrap()
                .failed();
        }
        assert!(limits.attempt_at("li", "10.2.0.1".into(), now).is_err());
    }

    #[test]
    fn one_source_is_capped_across_accounts() {
        let limits = SignInLimits::default();
        for n in 0..20 {
            limits
                .attempt(&format!("name{n}"), "192.0.2.66")
                .unwrap()
                .failed();
        }
        let refused = limits.attempt("another", "192.0.2.66").err().unwrap();
        assert!(
            refused.to_string().contains("from this device"),
            "{refused}"
        );
        assert!(limits.attempt("another", "192.0.2.67").is_ok());
        // An IPv6 /64 is one source.
        for n in 0..20 {
            let account = format!("v6-{n}");
            limits
                .attempt(&account, &format!("2001:db8:1:2::{n:x}"))
                .unwrap()
                .failed();
        }
        assert!(limits.attempt("v6", "2001:db8:1:2:ffff::1").is_err());
        assert!(limits.attempt("v6", "2001:db8:1:3::1").is_ok());
    }

    #[test]
    fn sources_are_addresses_and_ipv6_slash_64s() {
        assert_eq!(source_of("203.0.113.9"), "203.0.113.9");
        assert_eq!(source_of("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
        assert_eq!(source_of("unknown"), "unknown");
    }
}
