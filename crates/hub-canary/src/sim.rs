//! A seeded, deterministic simulator of what the action reads from Prometheus.
//!
//! Each run emits, per arm, the *cumulative* counter samples a `query_range` at a
//! one-minute step returns — requests, 5xx responses and latency histogram buckets — with
//! `None` where a scrape is missing and drops where a pod restarted. [`SimRun::intervals`]
//! turns them into per-interval increments exactly as the shell would
//! ([`crate::counter_increments`]).
//!
//! The traffic model, per minute `t`:
//!
//! - total traffic `2 · rpm_per_arm · (1 + swing·sin(2πt/30)) · e^{σZ − σ²/2}` shared by
//!   both arms (the same swing hits both), split by the configured canary weight;
//! - per-bucket request counts `Poisson(λ · P(bucket))` for a log-normal latency
//!   (median 100 ms, σ = 0.5 by default), so requests are Poisson and buckets multinomial;
//! - 5xx `Binomial(requests, π)` with `π = base_error_rate` times a shared incident
//!   multiplier (×4 for three minutes, starting with probability `incident_rate` a minute);
//! - per-arm extra noise (overdispersion): each arm's error rate is multiplied every minute
//!   by a mean-one gamma variate with coefficient of variation `error_noise_cv`, and its
//!   latency by `e^{latency_jitter·Z}`;
//! - the regression: the canary's error rate times `error_multiplier` and its latency
//!   times `latency_scale`, from `onset_minute`, optionally only during the "on" part of
//!   an on/off cycle (intermittent);
//! - faults: zero canary traffic for a window, a canary scrape gap (missing samples),
//!   canary restarts (counter resets), health check down for a window.

use crate::gate::{ArmSample, GateInterval};
use crate::math::normal_cdf;
use crate::rng::Rng;
use crate::series::{Bucket, counter_increments};
use serde::{Deserialize, Serialize};

/// The canary's share of traffic over time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Weights {
    /// Canary and baseline each get half (Kayenta's equal-size clusters).
    Even,
    /// Progressive steps, e.g. 5/10/25/50 %, each for `step_minutes`; the last step holds.
    Ramp {
        /// Canary shares, in order.
        steps: Vec<f64>,
        /// Minutes per step.
        step_minutes: usize,
    },
}

impl Weights {
    /// The canary share at minute `t`.
    #[must_use]
    pub fn at(&self, t: usize) -> f64 {
        match self {
            Weights::Even => 0.5,
            Weights::Ramp {
                steps,
                step_minutes,
            } => {
                let i = t / (*step_minutes).max(1);
                steps.get(i).or(steps.last()).copied().unwrap_or(0.5)
            }
        }
    }

    /// The 5/10/25/50 % ramp, 15 minutes per step.
    #[must_use]
    pub fn standard_ramp() -> Self {
        Weights::Ramp {
            steps: vec![0.05, 0.10, 0.25, 0.50],
            step_minutes: 15,
        }
    }
}

/// An on/off cycle for intermittent regressions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cycle {
    /// Minutes with the regression.
    pub on: usize,
    /// Minutes without.
    pub off: usize,
}

/// A half-open window of minutes `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// First minute inside.
    pub start: usize,
    /// First minute after.
    pub end: usize,
}

impl Window {
    fn contains(&self, t: usize) -> bool {
        (self.start..self.end).contains(&t)
    }
}

/// Everything that defines a simulated canary run (except the seed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// A short name for tables.
    pub name: String,
    /// Horizon in one-minute intervals.
    pub minutes: usize,
    /// Requests per minute each arm gets at an even split (total is twice this).
    pub rpm_per_arm: f64,
    /// Canary share over time.
    pub weights: Weights,
    /// Baseline 5xx rate.
    pub base_error_rate: f64,
    /// Median latency in seconds.
    pub latency_median: f64,
    /// Log-normal σ of latency.
    pub latency_sigma: f64,
    /// Finite histogram bucket bounds (seconds), ascending; `+Inf` is implied.
    pub buckets: Vec<f64>,
    /// Canary error rate multiplier while the regression is active.
    pub error_multiplier: f64,
    /// Canary latency multiplier while the regression is active.
    pub latency_scale: f64,
    /// Minute the regression begins.
    pub onset_minute: usize,
    /// Intermittent regression cycle, counted from the onset.
    pub intermittent: Option<Cycle>,
    /// Amplitude of the shared traffic wave (0.3 = ±30 %).
    pub traffic_swing: f64,
    /// Shared per-minute log-normal traffic noise σ.
    pub traffic_noise: f64,
    /// Probability per minute that a shared incident (errors ×4 for 3 minutes) starts.
    pub incident_rate: f64,
    /// Per-arm, per-minute coefficient of variation of the error rate (overdispersion).
    pub error_noise_cv: f64,
    /// Per-arm, per-minute σ of the log latency scale.
    pub latency_jitter: f64,
    /// Minutes in which the canary receives no traffic.
    pub zero_canary_traffic: Option<Window>,
    /// Minutes in which the canary's samples are missing.
    pub canary_missing: Option<Window>,
    /// Minutes at whose start the canary restarts (its counters drop to zero).
    pub canary_restarts: Vec<usize>,
    /// Minutes in which the canary's health check fails.
    pub health_down: Option<Window>,
}

impl Scenario {
    /// The reference setup: 600 requests per minute per arm (even split), 0.2 % errors,
    /// 60 one-minute intervals, log-normal latency (median 100 ms, σ 0.5, p95 ≈ 228 ms),
    /// shared traffic swings (±30 % wave, 10 % noise) and shared incidents, no extra
    /// per-arm noise, no regression.
    #[must_use]
    pub fn reference() -> Self {
        Self {
            name: "aa".to_owned(),
            minutes: 60,
            rpm_per_arm: 600.0,
            weights: Weights::Even,
            base_error_rate: 0.002,
            latency_median: 0.1,
            latency_sigma: 0.5,
            buckets: vec![
                0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0,
            ],
            error_multiplier: 1.0,
            latency_scale: 1.0,
            onset_minute: 0,
            intermittent: None,
            traffic_swing: 0.3,
            traffic_noise: 0.1,
            incident_rate: 0.02,
            error_noise_cv: 0.0,
            latency_jitter: 0.0,
            zero_canary_traffic: None,
            canary_missing: None,
            canary_restarts: Vec::new(),
            health_down: None,
        }
    }

    /// True when the canary is worse in some way (a regression scenario).
    #[must_use]
    pub fn has_regression(&self) -> bool {
        self.error_multiplier > 1.0 || self.latency_scale > 1.0
    }

    /// True when the scenario removes data the judge needs (a fail-closed scenario).
    #[must_use]
    pub fn has_missing_data(&self) -> bool {
        self.canary_missing.is_some() || self.zero_canary_traffic.is_some()
    }

    fn regression_active(&self, t: usize) -> bool {
        if t < self.onset_minute {
            return false;
        }
        match self.intermittent {
            None => true,
            Some(c) => (t - self.onset_minute) % (c.on + c.off).max(1) < c.on,
        }
    }

    /// The bucket bound nearest the baseline's true p95: the latency threshold a user
    /// would pick from the baseline's history.
    #[must_use]
    pub fn latency_threshold(&self) -> f64 {
        let cdf = |le: f64| normal_cdf(((le / self.latency_median).ln()) / self.latency_sigma);
        self.buckets
            .iter()
            .copied()
            .min_by(|a, b| (cdf(*a) - 0.95).abs().total_cmp(&(cdf(*b) - 0.95).abs()))
            .unwrap_or(f64::INFINITY)
    }

    /// Simulate one run.
    #[must_use]
    pub fn simulate(&self, seed: u64) -> SimRun {
        let mut rng = Rng::seed(seed);
        let mut shared = rng.fork(1);
        let mut canary_rng = rng.fork(2);
        let mut baseline_rng = rng.fork(3);
        let bounds: Vec<f64> = self
            .buckets
            .iter()
            .copied()
            .chain([f64::INFINITY])
            .collect();
        let mut canary = Cumulative::new(bounds.len());
        let mut baseline = Cumulative::new(bounds.len());
        let mut canary_series = ArmSeries::new(&bounds, self.minutes);
        let mut baseline_series = ArmSeries::new(&bounds, self.minutes);
        canary_series.push(Some(&canary));
        baseline_series.push(Some(&baseline));
        let mut weights = Vec::with_capacity(self.minutes);
        let mut health = Vec::with_capacity(self.minutes);
        let mut truth = Vec::with_capacity(self.minutes);
        let mut incident_left = 0;
        let threshold = self.latency_threshold();
        let slow_index = bounds.iter().position(|b| *b == threshold);
        for t in 0..self.minutes {
            let w = self.weights.at(t);
            weights.push(w);
            let wave =
                1.0 + self.traffic_swing * (2.0 * std::f64::consts::PI * t as f64 / 30.0).sin();
            let noise =
                (self.traffic_noise * shared.normal() - self.traffic_noise.powi(2) / 2.0).exp();
            let total = 2.0 * self.rpm_per_arm * wave.max(0.0) * noise;
            if incident_left == 0 && shared.uniform() < self.incident_rate {
                incident_left = 3;
            }
            let incident = if incident_left > 0 {
                incident_left -= 1;
                4.0
            } else {
                1.0
            };
            let active = self.regression_active(t);
            let base_rate = self.base_error_rate * incident;
            let canary_rate = base_rate * if active { self.error_multiplier } else { 1.0 };
            let canary_scale = if active { self.latency_scale } else { 1.0 };
            let canary_lambda = if self.zero_canary_traffic.is_some_and(|z| z.contains(t)) {
                0.0
            } else {
                w * total
            };
            if self.canary_restarts.contains(&t) {
                canary = Cumulative::new(bounds.len());
            }
            let c = self.minute(
                &mut canary_rng,
                canary_lambda,
                canary_rate,
                canary_scale,
                &bounds,
            );
            let b = self.minute(
                &mut baseline_rng,
                (1.0 - w) * total,
                base_rate,
                1.0,
                &bounds,
            );
            canary.add(&c);
            baseline.add(&b);
            let missing = self.canary_missing.is_some_and(|m| m.contains(t));
            canary_series.push((!missing).then_some(&canary));
            baseline_series.push(Some(&baseline));
            health.push(if missing {
                None
            } else {
                Some(!self.health_down.is_some_and(|h| h.contains(t)))
            });
            let slow = |m: &Minute| slow_index.map_or(0.0, |i| m.requests - m.cumulative[i]);
            let baseline_slow_p = slow_index.map_or(0.0, |i| {
                1.0 - normal_cdf(((bounds[i] / self.latency_median).ln()) / self.latency_sigma)
            });
            truth.push(MinuteTruth {
                canary_requests: c.requests,
                canary_errors: c.errors,
                canary_slow: slow(&c),
                expected_errors: c.requests * base_rate,
                expected_slow: c.requests * baseline_slow_p,
            });
        }
        SimRun {
            scenario: self.name.clone(),
            seed,
            weights,
            canary: canary_series,
            baseline: baseline_series,
            health,
            truth,
            threshold,
        }
    }

    fn minute(&self, rng: &mut Rng, lambda: f64, rate: f64, scale: f64, bounds: &[f64]) -> Minute {
        let rate_noise = if self.error_noise_cv > 0.0 {
            let k = 1.0 / self.error_noise_cv.powi(2);
            rng.gamma(k) / k
        } else {
            1.0
        };
        let jitter = if self.latency_jitter > 0.0 {
            (self.latency_jitter * rng.normal()).exp()
        } else {
            1.0
        };
        let log_median = (self.latency_median * scale * jitter).ln();
        let mut cumulative = Vec::with_capacity(bounds.len());
        let mut below = 0.0;
        let mut prev_cdf = 0.0;
        for &le in bounds {
            let cdf = if le.is_finite() {
                normal_cdf((le.ln() - log_median) / self.latency_sigma)
            } else {
                1.0
            };
            below += rng.poisson(lambda * (cdf - prev_cdf).max(0.0));
            prev_cdf = cdf;
            cumulative.push(below);
        }
        let requests = below;
        let errors = rng.binomial(requests, (rate * rate_noise).min(1.0));
        Minute {
            requests,
            errors,
            cumulative,
        }
    }
}

struct Minute {
    requests: f64,
    errors: f64,
    cumulative: Vec<f64>,
}

struct Cumulative {
    requests: f64,
    errors: f64,
    buckets: Vec<f64>,
}

impl Cumulative {
    fn new(n: usize) -> Self {
        Self {
            requests: 0.0,
            errors: 0.0,
            buckets: vec![0.0; n],
        }
    }

    fn add(&mut self, m: &Minute) {
        self.requests += m.requests;
        self.errors += m.errors;
        for (b, c) in self.buckets.iter_mut().zip(&m.cumulative) {
            *b += c;
        }
    }
}

/// One arm's raw `query_range` result: counter samples at minutes `0..=minutes`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArmSeries {
    /// `http_requests_total`.
    pub requests: Vec<Option<f64>>,
    /// The 5xx subset.
    pub errors: Vec<Option<f64>>,
    /// `_bucket{le}` series: `(le, samples)`, `+Inf` last.
    pub buckets: Vec<(f64, Vec<Option<f64>>)>,
}

impl ArmSeries {
    fn new(bounds: &[f64], minutes: usize) -> Self {
        Self {
            requests: Vec::with_capacity(minutes + 1),
            errors: Vec::with_capacity(minutes + 1),
            buckets: bounds
                .iter()
                .map(|&le| (le, Vec::with_capacity(minutes + 1)))
                .collect(),
        }
    }

    fn push(&mut self, c: Option<&Cumulative>) {
        self.requests.push(c.map(|c| c.requests));
        self.errors.push(c.map(|c| c.errors));
        for (i, (_, samples)) in self.buckets.iter_mut().enumerate() {
            samples.push(c.map(|c| c.buckets[i]));
        }
    }

    /// Per-interval increments of every series.
    #[must_use]
    pub fn increments(&self) -> Vec<ArmSample> {
        let requests = counter_increments(&self.requests);
        let errors = counter_increments(&self.errors);
        let buckets: Vec<(f64, Vec<Option<f64>>)> = self
            .buckets
            .iter()
            .map(|(le, s)| (*le, counter_increments(s)))
            .collect();
        (0..requests.len())
            .map(|i| ArmSample {
                requests: requests[i],
                errors: errors[i],
                buckets: buckets
                    .iter()
                    .map(|(le, inc)| inc[i].map(|count| Bucket { le: *le, count }))
                    .collect::<Option<Vec<_>>>(),
            })
            .collect()
    }
}

/// What really happened in the canary during one minute (for exposure cost).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MinuteTruth {
    /// Requests the canary served.
    pub canary_requests: f64,
    /// 5xx it served.
    pub canary_errors: f64,
    /// Requests slower than the latency threshold.
    pub canary_slow: f64,
    /// 5xx expected at the baseline's rate for the same requests.
    pub expected_errors: f64,
    /// Slow requests expected at the baseline's latency.
    pub expected_slow: f64,
}

/// One simulated run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimRun {
    /// Scenario name.
    pub scenario: String,
    /// The seed.
    pub seed: u64,
    /// Configured canary share per minute.
    pub weights: Vec<f64>,
    /// Canary counter samples.
    pub canary: ArmSeries,
    /// Baseline counter samples.
    pub baseline: ArmSeries,
    /// Canary health check per minute.
    pub health: Vec<Option<bool>>,
    /// Ground truth per minute.
    pub truth: Vec<MinuteTruth>,
    /// The latency threshold (bucket bound nearest the baseline p95).
    pub threshold: f64,
}

impl SimRun {
    /// Per-interval gate input, built from the counter samples as the shell would.
    #[must_use]
    pub fn intervals(&self) -> Vec<GateInterval> {
        let canary = self.canary.increments();
        let baseline = self.baseline.increments();
        canary
            .into_iter()
            .zip(baseline)
            .zip(&self.health)
            .map(|((canary, baseline), health)| GateInterval {
                canary,
                baseline,
                health: *health,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(scenario: &Scenario, seed: u64) -> String {
        let run = scenario.simulate(seed);
        let iv = run.intervals();
        let total = |f: fn(&GateInterval) -> Option<f64>| -> f64 { iv.iter().filter_map(f).sum() };
        let missing = iv.iter().filter(|i| i.canary.requests.is_none()).count();
        format!(
            "threshold {} | canary {} req {} err | baseline {} req {} err | missing {missing} | first weights {:?}",
            run.threshold,
            total(|i| i.canary.requests),
            total(|i| i.canary.errors),
            total(|i| i.baseline.requests),
            total(|i| i.baseline.errors),
            &run.weights[..2],
        )
    }

    #[test]
    fn reference_scenario_matches_the_brief() {
        insta::assert_snapshot!(check(&Scenario::reference(), 1), @"threshold 0.25 | canary 36647 req 106 err | baseline 36325 req 83 err | missing 0 | first weights [0.5, 0.5]");
    }

    #[test]
    fn ramp_gap_and_restart() {
        let s = Scenario {
            weights: Weights::standard_ramp(),
            canary_missing: Some(Window { start: 10, end: 12 }),
            canary_restarts: vec![30],
            ..Scenario::reference()
        };
        insta::assert_snapshot!(check(&s, 1), @"threshold 0.25 | canary 14965 req 57 err | baseline 58540 req 149 err | missing 3 | first weights [0.05, 0.05]");
        // The restart is invisible after increments: every interval but the gap is usable.
        let run = s.simulate(1);
        let iv = run.intervals();
        assert_eq!(
            iv.iter().filter(|i| i.canary.requests.is_none()).count(),
            3,
            "gap of 2 samples breaks 3 intervals"
        );
        let served: f64 = run.truth.iter().map(|t| t.canary_requests).sum();
        let seen: f64 = iv.iter().filter_map(|i| i.canary.requests).sum();
        let hidden: f64 = run.truth[10..13].iter().map(|t| t.canary_requests).sum();
        assert_eq!(
            seen + hidden,
            served,
            "increments recover every request outside the gap"
        );
    }

    #[test]
    fn same_seed_same_run() {
        assert_eq!(
            Scenario::reference().simulate(7),
            Scenario::reference().simulate(7)
        );
        assert_ne!(
            Scenario::reference().simulate(7),
            Scenario::reference().simulate(8)
        );
    }
}
