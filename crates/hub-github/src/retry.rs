//! When to retry, and how long to wait: jittered exponential backoff for server errors and
//! timeouts, and GitHub's rate-limit rules for 403/429.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Time as the client sees it: the present (for `x-ratelimit-reset`) and waiting.
///
/// Tests pass a clock that records the waits and returns at once, so fault-injection tests
/// take milliseconds while still checking what would have been waited.
pub trait Clock: Send + Sync + 'static {
    /// Now.
    fn now(&self) -> SystemTime;
    /// Waits for `duration`.
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

/// The real clock: `SystemTime::now` and `tokio::time::sleep`.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// How the client retries.
#[derive(Clone)]
pub struct RetryPolicy {
    /// Attempts in all for a request that times out, cannot connect or gets a 5xx.
    pub max_attempts: u32,
    /// Backoff before the second attempt; doubled for each further one, with jitter.
    pub base_delay: Duration,
    /// Longest backoff between two attempts.
    pub max_delay: Duration,
    /// Time allowed for one attempt, from sending to the whole body read.
    pub request_timeout: Duration,
    /// Longest rate-limit wait the client accepts; a longer one fails at once with a clear
    /// message instead of stalling the workflow.
    pub max_rate_limit_wait: Duration,
    /// How many rate-limit refusals of one request are waited out.
    pub max_rate_limit_retries: u32,
    /// The clock used to wait.
    pub clock: Arc<dyn Clock>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
            request_timeout: Duration::from_secs(30),
            max_rate_limit_wait: Duration::from_secs(120),
            max_rate_limit_retries: 3,
            clock: Arc::new(SystemClock),
        }
    }
}

impl fmt::Debug for RetryPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("max_attempts", &self.max_attempts)
            .field("base_delay", &self.base_delay)
            .field("max_delay", &self.max_delay)
            .field("request_timeout", &self.request_timeout)
            .field("max_rate_limit_wait", &self.max_rate_limit_wait)
            .field("max_rate_limit_retries", &self.max_rate_limit_retries)
            .finish_non_exhaustive()
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1` after `attempt` failures: "equal jitter", half of
    /// the exponential delay fixed and half random, so retries of many runners spread out.
    #[must_use]
    pub fn backoff(&self, attempt: u32, random: u64) -> Duration {
        let factor = 2_u32.saturating_pow(attempt.saturating_sub(1));
        let exponential = self.base_delay.saturating_mul(factor).min(self.max_delay);
        let half = exponential / 2;
        let half_nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        half + Duration::from_nanos(random % half_nanos.saturating_add(1))
    }
}

/// A random number for jitter; a fixed value if the OS will not provide one (jitter is a
/// courtesy, not a correctness requirement).
pub(crate) fn jitter_seed() -> u64 {
    getrandom::u64().unwrap_or(0x9e37_79b9_7f4a_7c15)
}

/// What a response says about rate limiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RateLimit {
    /// Not a rate-limit refusal.
    No,
    /// Refused; wait this long before the next try.
    Wait(Duration),
}

/// GitHub's documented rules: a 403 or 429 is a rate limit when it carries `retry-after`, or
/// `x-ratelimit-remaining: 0`, or says so in its message. Wait `retry-after` seconds if given,
/// else until `x-ratelimit-reset` (epoch seconds, plus a second of slack), else one minute.
pub(crate) fn rate_limit(
    status: u16,
    header: &dyn Fn(&str) -> Option<String>,
    message: &str,
    now: SystemTime,
) -> RateLimit {
    if status != 403 && status != 429 {
        return RateLimit::No;
    }
    let retry_after = header("retry-after").and_then(|v| v.trim().parse::<u64>().ok());
    let exhausted = header("x-ratelimit-remaining").is_some_and(|v| v.trim() == "0");
    let says_so = message.to_ascii_lowercase().contains("rate limit");
    if retry_after.is_none() && !exhausted && !says_so && status == 403 {
        return RateLimit::No;
    }
    if let Some(seconds) = retry_after {
        return RateLimit::Wait(Duration::from_secs(seconds));
    }
    let reset = header("x-ratelimit-reset").and_then(|v| v.trim().parse::<u64>().ok());
    if let (true, Some(reset)) = (exhausted, reset) {
        let now = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        return RateLimit::Wait(Duration::from_secs(reset.saturating_sub(now) + 1));
    }
    RateLimit::Wait(Duration::from_secs(60))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn rate_limits_follow_githubs_rules() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        let check = |status, pairs: &[(&str, &str)], message| {
            rate_limit(status, &headers(pairs), message, now)
        };
        assert_eq!(
            check(429, &[("retry-after", "7")], ""),
            RateLimit::Wait(Duration::from_secs(7))
        );
        assert_eq!(
            check(
                403,
                &[
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", "1030")
                ],
                ""
            ),
            RateLimit::Wait(Duration::from_secs(31))
        );
        assert_eq!(
            check(403, &[], "You have exceeded a secondary rate limit"),
            RateLimit::Wait(Duration::from_secs(60))
        );
        assert_eq!(
            check(429, &[], ""),
            RateLimit::Wait(Duration::from_secs(60))
        );
        assert_eq!(
            check(403, &[], "Resource not accessible by integration"),
            RateLimit::No
        );
        assert_eq!(check(502, &[("retry-after", "1")], ""), RateLimit::No);
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let policy = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(300),
            ..RetryPolicy::default()
        };
        assert_eq!(policy.backoff(1, 0), Duration::from_millis(50));
        assert_eq!(policy.backoff(2, 0), Duration::from_millis(100));
        assert_eq!(policy.backoff(3, 0), Duration::from_millis(150));
        assert_eq!(policy.backoff(9, 0), Duration::from_millis(150));
        for seed in [1, 12_345, u64::MAX] {
            let wait = policy.backoff(2, seed);
            assert!(
                wait >= Duration::from_millis(100) && wait <= Duration::from_millis(200),
                "{wait:?}"
            );
        }
    }
}
