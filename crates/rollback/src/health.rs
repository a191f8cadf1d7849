//! Health verification after a switch: every URL answers the expected status (and body
//! substring) and/or the health command exits 0, in the same round, before the timeout.
//! Rounds are retried with a growing but capped pause ([`Backoff`]), so "healthy" is
//! reported at most 2 s after the service really became healthy. Requests go through the
//! suite's one HTTP stack (`hub_http`): the environment's proxies, any address (the
//! workflow names its health URLs), no redirects followed (a redirect is not the expected
//! status) and no retries inside a round (the rounds are the retries).

use std::time::{Duration, Instant};

use anyhow::Result;
use hub_kit::Runner;

use crate::exec;

/// The status a health URL must answer.
pub const EXPECTED_STATUS: u16 = 200;
/// The first pause between rounds; it grows by [`GROWTH`] up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(250);
const GROWTH: f64 = 1.5;
const MAX_PAUSE: Duration = Duration::from_secs(2);
/// The longest a single request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of a body we read.
const MAX_BODY: usize = 1024 * 1024;

/// What "healthy" means for this run.
#[derive(Clone, Debug, Default)]
pub struct Checks {
    /// URLs that must answer [`EXPECTED_STATUS`].
    pub urls: Vec<String>,
    /// A substring every URL's body must contain.
    pub body: Option<String>,
    /// A command that must exit 0.
    pub command: Option<Vec<String>>,
    /// How the URLs are reached: the environment's proxies, any address.
    pub http: hub_http::Settings,
}

impl Checks {
    /// Whether there is anything to check.
    pub fn is_empty(&self) -> bool {
        self.urls.is_empty() && self.command.is_none()
    }
}

/// The result of waiting for health.
#[derive(Clone, Debug)]
pub struct Verdict {
    /// All checks passed in one round.
    pub healthy: bool,
    /// Rounds made.
    pub rounds: u32,
    /// Why the last round failed (empty when healthy).
    pub failures: Vec<String>,
}

/// The pauses between rounds of a wait: 250 ms, then ×1.5 up to 2 s, and never past the
/// deadline. Doubling without a low cap made "healthy" late by up to a whole pause (the
/// service came up during a 1 s or 2 s sleep); capped at 2 s, the lag is bounded and
/// the number of rounds stays small (about 35 a minute at most).
#[derive(Clone, Debug)]
pub struct Backoff {
    pause: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { pause: FIRST_PAUSE }
    }
}

impl Backoff {
    /// The pause to make at `now` before the next round, or `None` when `deadline` has
    /// passed (no more rounds).
    pub fn next(&mut self, now: Instant, deadline: Instant) -> Option<Duration> {
        let left = deadline
            .checked_duration_since(now)
            .filter(|l| !l.is_zero())?;
        let pause = self.pause.min(left);
        self.pause = self.pause.mul_f64(GROWTH).min(MAX_PAUSE);
        Some(pause)
    }
}

/// Probes until every check passes in one round or `timeout` has passed.
pub fn wait(
    checks: &Checks,
    timeout: Duration,
    env: &[(&str, String)],
    runner: &mut Runner,
) -> Result<Verdict> {
    let deadline = Instant::now() + timeout;
    let agent = hub_http::Http::new(
        &checks.http,
        concat!("hub-rollback/", env!("CARGO_PKG_VERSION")),
    )?;
    let mut backoff = Backoff::default();
    let mut rounds = 0;
    loop {
        rounds += 1;
        let failures = round(checks, &agent, deadline, env);
        if failures.is_empty() {
            return Ok(Verdict {
                healthy: true,
                rounds,
                failures,
            });
        }
        runner.info(&format!("health check round {rounds} failed:"))?;
        runner.log_untrusted(&failures.join("\n"))?;
        let Some(pause) = backoff.next(Instant::now(), deadline) else {
            return Ok(Verdict {
                healthy: false,
                rounds,
                failures,
            });
        };
        std::thread::sleep(pause);
    }
}

/// One round: every check once. Returns why each failing check failed.
fn round(
    checks: &Checks,
    agent: &hub_http::Http,
    deadline: Instant,
    env: &[(&str, String)],
) -> Vec<String> {
    let mut failures = Vec::new();
    for url in &checks.urls {
        let left = deadline
            .saturating_duration_since(Instant::now())
            .clamp(Duration::from_millis(100), REQUEST_TIMEOUT);
        if let Err(why) = probe(agent, url, checks.body.as_deref(), left) {
            failures.push(format!("{url}: {why}"));
        }
    }
    if let Some(argv) = &checks.command {
        // The command gets at least a second, even in the last moment of the timeout.
        let left = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_secs(1));
        match exec::run(argv, env, None, Some(left)) {
            Ok(f) if f.success() => {}
            Ok(f) => {
                let out = f.output();
                let tail: String = out
                    .lines()
                    .rev()
                    .take(5)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<Vec<_>>()
                    .join("\n");
                failures.push(
                    format!("health-command: {}\n{tail}", f.describe())
                        .trim_end()
                        .to_string(),
                );
            }
            Err(e) => failures.push(format!("health-command: {e:#}")),
        }
    }
    failures
}

/// One request: the status must be [`EXPECTED_STATUS`] and the body must hold `body`.
fn probe(
    agent: &hub_http::Http,
    url: &str,
    body: Option<&str>,
    timeout: Duration,
) -> Result<(), String> {
    let request = hub_http::Request {
        timeout,
        max_body: MAX_BODY,
        retries: 0,
        https_only: false,
        follow_redirects: false,
        headers: Vec::new(),
    };
    let resp = agent.get(url, &request).map_err(|e| e.to_string())?;
    let status = resp.status.as_u16();
    if status != EXPECTED_STATUS {
        return Err(format!("status {status}, expected {EXPECTED_STATUS}"));
    }
    if let Some(want) = body {
        let text = std::str::from_utf8(&resp.body)
            .map_err(|e| format!("cannot read the body as UTF-8: {e}"))?;
        if !text.contains(want) {
            let shown: String = text.chars().take(200).collect();
            return Err(format!("body does not contain `{want}`: `{shown}`"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_stops_at_the_deadline() {
        let start = Instant::now();
        let far = start + Duration::from_secs(3600);
        let mut b = Backoff::default();
        let ms: Vec<u128> = (0..8)
            .map(|_| b.next(start, far).unwrap().as_millis())
            .collect();
        assert_eq!(ms, [250, 375, 562, 843, 1265, 1898, 2000, 2000]);
        // Never past the deadline: the last pause is what is left, then no more rounds.
        let mut b = Backoff::default();
        let near = start + Duration::from_millis(300);
        assert_eq!(b.next(start, near), Some(Duration::from_millis(250)));
        assert_eq!(
            b.next(start + Duration::from_millis(250), near),
            Some(Duration::from_millis(50))
        );
        assert_eq!(b.next(near, near), None);
        assert_eq!(b.next(near + Duration::from_secs(1), near), None);
    }
}
