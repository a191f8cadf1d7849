//! The canary-gate judge: compares a canary against its baseline, interval by interval,
//! and returns pass, fail or inconclusive — catching real regressions early, not crying
//! wolf on noise, and never passing on missing data.
//!
//! This is a pure engine: plain data in, plain data out. No network, filesystem,
//! environment or clock (time is the interval count the caller feeds in); it builds for
//! `wasm32-wasip1`. The `canary-gate` action queries Prometheus, turns counters into
//! [`CountInterval`]s / [`GateInterval`]s and asks this crate.
//!
//! ```
//! use hub_canary::{ArmSample, Bucket, Gate, GateConfig, GateInterval, Look, Verdict};
//!
//! // One minute of Prometheus increments per arm: requests, 5xx, latency buckets.
//! let arm = |requests: f64, errors: f64, slow: f64| ArmSample {
//!     requests: Some(requests),
//!     errors: Some(errors),
//!     buckets: Some(vec![
//!         Bucket { le: 0.25, count: requests - slow },
//!         Bucket { le: f64::INFINITY, count: requests },
//!     ]),
//! };
//! let mut gate = Gate::new(GateConfig::standard(0.25))?; // "slow" = above the 0.25 s bucket
//! let mut verdict = Verdict::Continue;
//! for _minute in 0..10 {
//!     // The canary serves 5xx at four times the baseline's rate.
//!     gate.observe(&GateInterval { canary: arm(600.0, 5.0, 20.0), baseline: arm(600.0, 1.0, 20.0), health: Some(true) });
//!     verdict = gate.status();
//!     if verdict != Verdict::Continue {
//!         break;
//!     }
//! }
//! assert_eq!(verdict, Verdict::Fail);
//! let report = gate.decide(Look::Interim); // serde-serialisable, with reasons
//! assert_eq!(report.failed, vec!["error-rate".to_owned()]);
//! # Ok::<(), hub_canary::CanaryError>(())
//! ```
//!
//! # Methods, what they assume, what they guarantee
//!
//! | method | assumes | guarantees | needs at least |
//! |---|---|---|---|
//! | [`RatioTest`] on 5xx counts (error rate) | given request counts, bad events in each arm are Poisson (binomial) with a common, arbitrarily time-varying baseline rate; the canary's rate is `r` times it | `P(ever FAIL) ≤ alpha_fail` (1 %) whenever `r ≤ 1 + margin` (1.05); `P(ever PASS) ≤ alpha_pass` (5 %) whenever `r ≥ tolerance` (2): at every interval, under any stopping rule, across traffic-weight changes | to fail: `ln(1/α)/ln(1/p_ok)` canary errors (7 at an even split); to pass: 20 intervals, 1,000 requests per arm and enough events for the upper bound (about 30 per arm at r = 1) |
//! | [`RatioTest`] on exceedances (latency, via [`LatencyJudge`]) | the same, for requests slower than a fixed bucket bound near the baseline p95 | the same, with margin 1.25 and tolerance 1.5 on the exceedance ratio (a 3 % slowdown ≈ 1.14, 10 % ≈ 1.5, 25 % ≈ 2.5 for log-normal latency) | exceedances are plentiful: decisions in minutes |
//! | [`ChangeDetection`] (e-detector, [`GateConfig::watching`]) | as above; the canary may turn bad at any interval | the fail guarantee above still holds over the whole run (a convex mix of fail tests started at every interval is one non-negative supermartingale) | as above plus `ln(2·horizon)` nats for a regression that starts late; the test from the start pays `ln 2` |
//! | dispersion `φ` ([`RatioConfig::dispersion`], [`calibrate_dispersion`]) | counts are overdispersed by a roughly constant factor | restores the guarantees for `φ`-scaled Poisson noise; calibration from an A/A window uses a 90 % upper bound on `φ` | an A/A window (60 intervals) |
//! | [`RateGuardrail`] | the canary's bad events are binomial | `P(ever trip) ≤ alpha` (1 %) while the canary's rate is `≤ max_rate` (1 %) | a handful of errors at a gross breach (one interval at 10 %) |
//! | [`HealthGuardrail`] | health checks are truthful | fails at the first failed check | one check |
//! | [`GaugeJudge`] (file mode: benchmarks, per-interval values) | positive values, location shift on the log scale | fixed-sample Hodges-Lehmann interval at 98 %: one look only | `min_values` per arm (5) |
//! | [`kayenta`] (migration from Spinnaker) | exchangeable per-interval values differing by a shift | ≈ `1 − conf_level` per metric **per look**; repeated looks inflate it | one value per arm |
//!
//! The count test and its derivation (Lindon & Malek's conditional-binomial construction,
//! extended to per-interval exposure shares) are in the [`sequential`] module docs.
//! Verdicts combine in [`combine`] ([`gate`]): any FAIL fails, all PASS passes, anything
//! else continues and ends inconclusive, naming blind metrics.
//!
//! # Data handling (fail closed)
//!
//! - Counters → increments with Prometheus's reset rule: [`counter_increments`].
//! - A missing sample makes the interval missing (`None`); missing intervals carry no
//!   evidence. A metric is *blind* — cannot pass — with no usable interval, with its
//!   latest interval missing, with more than `max_missing_fraction` (10 %) missing, or with
//!   fewer than `min_requests` per arm (zero canary traffic included). Evidence of a
//!   regression still fails a blind metric.
//! - Latency: [`exceedances`] above a bucket bound chosen by [`threshold_near_quantile`]
//!   on the baseline before the canary starts (or an SLO bound); [`histogram_quantile`]
//!   (PromQL semantics) gives the p95 effect size only.
//!
//! # Evaluation
//!
//! [`Scenario::simulate`] is a seeded simulator of what Prometheus returns;
//! [`eval::evaluate`] measures false alarms, power, time to decision, inconclusive rate and
//! exposure cost for this judge (stopping at the first pass, watching until the end with
//! change detection, and A/A-calibrated) and two anchors (Kayenta-style Mann-Whitney at
//! fixed looks, Flagger-style fixed thresholds); [`eval::error_information`] says how much
//! an error-rate scenario's data can tell at all (the power of a look-once oracle test),
//! which separates a weak judge from an impossible target. `examples/evaluate.rs` prints
//! the table; `bench/README.md` holds the measured one.

mod error;
pub mod eval;
pub mod gate;
pub mod kayenta;
pub mod math;
mod rng;
pub mod sequential;
pub mod series;
pub mod sim;

pub use error::{CanaryError, Result};
pub use gate::*;
pub use rng::Rng;
pub use sequential::*;
pub use series::*;
pub use sim::*;
