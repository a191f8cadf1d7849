//! The count judge: an anytime-valid test of the canary/baseline rate ratio.
//!
//! # Model
//!
//! In interval `t` the canary serves `n_c` requests of which `X` are bad, the baseline
//! `n_b` requests of which `Y` are bad. "Bad" is a 5xx for the error-rate metric and "slower
//! than the threshold bucket" for the latency metric. Assume, conditional on the request
//! counts and the past,
//!
//! ```text
//! X ~ Poisson(n_c · r · μ_t),   Y ~ Poisson(n_b · μ_t),   independent,
//! ```
//!
//! where `μ_t` is the baseline's bad-event rate in interval `t` — free to move with traffic
//! swings, time of day, a shared dependency's incident — and `r` is the rate ratio we care
//! about. Conditioning on the total `K = X + Y` removes `μ_t`:
//!
//! ```text
//! X | K ~ Binomial(K, p_t(r)),    p_t(r) = w_t·r / (w_t·r + 1 − w_t),    w_t = n_c / (n_c + n_b)
//! ```
//!
//! This is the two-arm case of Lindon & Malek, *Anytime-Valid Inference for Multinomial Count
//! Data* (NeurIPS 2022, arXiv:2011.03567): given that an event happened in either arm, it
//! is in the canary arm with probability `p = w·r / (w·r + 1 − w)`. With `θ = ln r` and the
//! offset `a_t = logit w_t = ln(n_c / n_b)`, `logit p_t = θ + a_t`, so the log-likelihood of
//! `θ` after `t` intervals is
//!
//! ```text
//! ℓ_t(θ) = Σ_s  X_s·(θ + a_s) − K_s·ln(1 + e^(θ + a_s)).
//! ```
//!
//! The exposure share `w_t` is the *realised* share of requests, recomputed every
//! interval, so traffic steps (5 → 10 → 25 → 50 %) and routing jitter are part of the model
//! rather than a violation of it. The baseline may have zero bad events: nothing divides by
//! the baseline rate.
//!
//! # The e-processes
//!
//! For any fixed `θ₀` and any prior `π` fixed in advance, the mixture likelihood ratio
//! `M_t(θ₀) = Σ_j π_j · exp(ℓ_t(θ_j) − ℓ_t(θ₀))` is a non-negative martingale with `M_0 = 1`
//! when `θ = θ₀` (each term is a likelihood ratio of independent binomials; a mixture of
//! martingales is a martingale). Ville's inequality gives `P(∃t: M_t ≥ 1/α) ≤ α`, at every
//! interval and under any stopping rule — checking each minute costs nothing.
//!
//! With a constant share the conjugate choice `p ~ Beta(a, b)` gives Lindon & Malek's closed
//! form `B(a + X, b + K − X) / B(a, b) / (p₀^X (1 − p₀)^(K − X))`. Because `w_t` changes from
//! interval to interval, no single `p` exists, so this crate mixes over `θ` directly on a
//! grid (spacing 0.05 in `ln r`, `|ln r| ≤ 4.5`, ratios from 1/90 to 90). The prior is the Beta-mixture prior
//! transported to `θ`: `p ~ Beta(a, a)` at the reference share `w = ½` is a density
//! `∝ σ(θ)^a σ(−θ)^a`; shifted by a centre `c` it is `∝ σ(θ − c)^a σ(c − θ)^a`. The fail test
//! centres it on `ln tolerance` (the regressions it must catch), the pass test on `0`
//! (the healthy canaries it should pass). A discrete prior on grid points is a genuine
//! prior, so validity is exact rather than a quadrature approximation (the tests check the
//! grid against the closed form at constant share).
//!
//! Two one-sided tests share the likelihood:
//!
//! - **fail**: null "harmless", `r ≤ 1 + margin`; the mixture runs over grid points above
//!   `θ_ok = ln(1 + margin)` only, against `θ_ok`. For any `θ ≤ θ_ok` each term
//!   `exp(ℓ(θ_j) − ℓ(θ_ok))` is a supermartingale: with `A(z) = ln(1 + e^z)` convex,
//!   `E_θ[e^{Δ·X − K·(A(θ_ok + Δ + a) − A(θ_ok + a))}] = e^{K·[A(θ+Δ+a) − A(θ+a) − A(θ_ok+Δ+a) + A(θ_ok+a)]} ≤ 1`
//!   for `Δ > 0`. FAIL when `E_fail ≥ 1/alpha_fail`; **guarantee: for every `r ≤ 1 + margin`,
//!   `P(ever FAIL) ≤ alpha_fail`.**
//! - **pass**: null "harmful", `r ≥ tolerance`; the mirror image over grid points below
//!   `θ_bad = ln tolerance`. PASS when `E_pass ≥ 1/alpha_pass`, the minimum observation has
//!   elapsed and the metric is not blind; **guarantee: for every `r ≥ tolerance`,
//!   `P(ever PASS) ≤ alpha_pass`.**
//!
//! Between `1 + margin` and `tolerance` lies the indifference zone: either verdict is
//! acceptable there and, with little data, neither comes. Inverting the same one-sided
//! tests at every `θ₀` gives the reported confidence sequence `[ci_low, ci_high]`: the
//! lower bound holds with probability `1 − alpha_fail` and the upper with `1 − alpha_pass`
//! simultaneously over all intervals. The verdict itself is taken from the two tests at
//! the thresholds, so it never depends on the grid resolution of the reported bounds.
//!
//! # Overdispersion
//!
//! Real services are noisier than Poisson: pods differ, bursts cluster. The quasi-likelihood
//! fix divides the log-likelihood by a dispersion factor `φ ≥ 1` — the same as dividing
//! every count by `φ`. It is exact when the counts are `φ` times a Poisson count and a good
//! approximation for gamma-mixed Poisson noise. [`calibrate_dispersion`] estimates `φ`
//! from an A/A window (two arms running the same version) with Pearson's statistic. The
//! practical margin gives a second line of defence: the guarantee is stated at
//! `r = 1 + margin`, so at the A/A point `r = 1` moderate extra noise is absorbed.
//!
//! # Minimum events
//!
//! Even the most extreme data (every event in the canary, none in the baseline) cannot
//! reach `1/alpha_fail` before `ln(1/alpha_fail) / ln(1/p_ok)` canary events, where
//! `p_ok = w(1+margin) / (w(1+margin) + 1 − w)`: at `w = ½` and the defaults that is 7 events
//! for the error rate. A PASS needs at least `ln(1/alpha_pass) / ln(1/(1 − p_bad))` events in
//! the baseline arm and, in practice, far more: proving "less than twice the baseline" for
//! a 0.2 % error rate at 600 requests per minute per arm takes about half an hour.

use crate::error::{CanaryError, Result, check_range};
use crate::math::{ln_1p_exp, ln_add_exp, ln_beta, logistic, normal_quantile};
use crate::series::{ArmCounts, CountInterval};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Grid spacing in `ln r`.
pub(crate) const GRID_STEP: f64 = 0.05;
/// Weight of the wide `Beta(1, 1)` component in the ratio tests' priors.
const WIDE_PRIOR_WEIGHT: f64 = 0.25;
/// Grid half-width in `ln r` (`ln 90`).
const GRID_HALF_WIDTH: f64 = 4.5;

/// Settings of one count judge. Construct with [`RatioConfig::error_rate`] or
/// [`RatioConfig::latency_exceedance`] and adjust fields; [`RatioTest::new`] validates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RatioConfig {
    /// The tolerated ratio: a canary at `tolerance` × the baseline rate or worse is
    /// harmful. PASS needs the upper confidence bound below it.
    pub tolerance: f64,
    /// The practical margin: ratios up to `1 + margin` are harmless noise-level shifts.
    /// FAIL needs the lower confidence bound above `1 + margin`.
    pub margin: f64,
    /// Bound on the probability of ever failing a harmless canary.
    pub alpha_fail: f64,
    /// Bound on the probability of ever passing a harmful canary.
    pub alpha_pass: f64,
    /// Intervals that must elapse before a PASS (a FAIL may come at any time).
    pub min_intervals: usize,
    /// Requests each arm must have served, in total, before a PASS.
    pub min_requests: f64,
    /// Largest fraction of elapsed intervals that may be missing for a PASS.
    pub max_missing_fraction: f64,
    /// Overdispersion factor `φ ≥ 1`; the log-likelihood is divided by it.
    pub dispersion: f64,
    /// Concentration `a` of the `Beta(a, a)` mixture prior at the reference share ½.
    pub prior_concentration: f64,
    /// Keep looking for a regression that starts *later* (see [`ChangeDetection`]);
    /// `None`: the fail test only asks whether the canary was worse since the start.
    #[serde(default)]
    pub change_detection: Option<ChangeDetection>,
}

/// The fail test as an e-detector: a regression that begins after the start (late onset,
/// a leak, a cache that fills) is caught too, with the same `alpha_fail` guarantee.
///
/// The statistic is a weighted sum of fail e-processes, one started at every interval:
/// `M_t = (1 − share)·E_{0,t} + Σ_{1 ≤ s < horizon} share/(horizon − 1) · E_{s,t}`, where
/// `E_{s,t}` is the fail mixture of [`RatioTest`] fed only the intervals after `s` (and 1
/// before). This is the Shiryaev–Roberts form of Shin, Ramdas & Rinaldo's *e-detectors*
/// (arXiv:2203.03532) with weights that sum to one instead of one per start: each
/// `E_{s,·}` is a non-negative supermartingale under "harmless" (`r ≤ 1 + margin` at all
/// times), so their convex combination is one too, and Ville's inequality still gives
/// `P(ever FAIL) ≤ alpha_fail` over the whole run — not merely an average run length.
/// The price: the test from the start gets `1 − share` of the budget (its threshold rises
/// from `1/α` to `1/((1 − share)·α)`), and a late start's threshold is
/// `(horizon − 1)/(share·α)`, partly recovered because neighbouring starts add up.
///
/// It is computed in O(grid) per interval: for every grid point `θ_j`,
/// `R_t(θ_j) = (R_{t−1}(θ_j) + w_t) · LR_t(θ_j)` (the Shiryaev–Roberts recursion), and
/// `M_t` is the prior mixture of `R_t`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangeDetection {
    /// Share of the false-alarm budget spread over the later starts, in `(0, 1)`.
    pub share: f64,
    /// Intervals the run may last: one start per interval `1 … horizon − 1`; later
    /// intervals still feed every started test.
    pub horizon: usize,
}

impl ChangeDetection {
    /// Half the budget for later starts, spread over `horizon` intervals.
    #[must_use]
    pub fn over(horizon: usize) -> Self {
        Self {
            share: 0.5,
            horizon,
        }
    }
}

impl RatioConfig {
    /// Defaults for 5xx counts: fail above 1.05× with a 1 % false-alarm bound, pass below
    /// 2× with a 5 % bound, after 20 intervals and 1,000 requests per arm.
    ///
    /// The margin of 5 % keeps a 3 % shift from failing (guaranteed at 1 %) while leaving
    /// as much power as possible for doubled error rates, which at 0.2 % and 600 requests
    /// per minute per arm produce barely two extra errors a minute. The 20-interval minimum
    /// observation stops early "passes" that rest on a handful of events (they were the
    /// main way a doubled error rate slipped through in simulation) at almost no cost:
    /// proving "less than twice" takes about 20 minutes at that traffic anyway. The prior
    /// concentration 8 (σ of `ln r` about 0.5 around each test's centre) was chosen on the
    /// simulator among 1, 2, 4, 8 and 16; it only moves power, never the guarantees.
    #[must_use]
    pub fn error_rate() -> Self {
        Self {
            tolerance: 2.0,
            margin: 0.05,
            alpha_fail: 0.01,
            alpha_pass: 0.05,
            min_intervals: 20,
            min_requests: 1_000.0,
            max_missing_fraction: 0.1,
            dispersion: 1.0,
            prior_concentration: 8.0,
            change_detection: None,
        }
    }

    /// Defaults for latency exceedances (requests above the bucket bound nearest the
    /// baseline p95): fail above 1.25×, pass below 1.5×.
    ///
    /// Why these numbers: for a log-normal latency with σ = 0.5, scaling every request by
    /// `s` multiplies the exceedance rate at the baseline p95 by about `s^4.4`, so a 3 %
    /// slowdown is an exceedance ratio near 1.14 (harmless, below 1.25), a 10 % slowdown
    /// about 1.5 and a 25 % slowdown about 2.5. The margin is wider than for errors
    /// because exceedances are plentiful and the confidence sequence gets narrow enough
    /// to resolve small shifts that nobody wants to fail a deploy over.
    #[must_use]
    pub fn latency_exceedance() -> Self {
        Self {
            tolerance: 1.5,
            margin: 0.25,
            ..Self::error_rate()
        }
    }

    /// `1 + margin`: the lower confidence bound must exceed this to FAIL.
    #[must_use]
    pub fn fail_above(&self) -> f64 {
        1.0 + self.margin
    }

    /// Check every field; the judge refuses to run on a configuration that means nothing.
    pub fn validate(&self) -> Result<()> {
        let c = self;
        check_range(
            "tolerance",
            c.tolerance,
            c.tolerance > 1.0 && c.tolerance.is_finite(),
            "a ratio above 1",
        )?;
        check_range(
            "margin",
            c.margin,
            c.margin >= 0.0 && c.margin.is_finite(),
            "zero or more",
        )?;
        if c.fail_above() >= c.tolerance {
            return Err(CanaryError::EmptyIndifferenceZone {
                margin: c.margin,
                fail_above: c.fail_above(),
                tolerance: c.tolerance,
            });
        }
        check_range(
            "alpha_fail",
            c.alpha_fail,
            c.alpha_fail > 0.0 && c.alpha_fail < 0.5,
            "in (0, 0.5)",
        )?;
        check_range(
            "alpha_pass",
            c.alpha_pass,
            c.alpha_pass > 0.0 && c.alpha_pass < 0.5,
            "in (0, 0.5)",
        )?;
        check_range(
            "min_requests",
            c.min_requests,
            c.min_requests >= 0.0 && c.min_requests.is_finite(),
            "zero or more",
        )?;
        check_range(
            "max_missing_fraction",
            c.max_missing_fraction,
            (0.0..=1.0).contains(&c.max_missing_fraction),
            "in [0, 1]",
        )?;
        check_range(
            "dispersion",
            c.dispersion,
            c.dispersion >= 1.0 && c.dispersion.is_finite(),
            "1 or more",
        )?;
        check_range(
            "prior_concentration",
            c.prior_concentration,
            c.prior_concentration > 0.0 && c.prior_concentration.is_finite(),
            "above 0",
        )?;
        if let Some(d) = c.change_detection {
            check_range(
                "change_detection.share",
                d.share,
                d.share > 0.0 && d.share < 1.0,
                "in (0, 1)",
            )?;
            check_range(
                "change_detection.horizon",
                d.horizon as f64,
                d.horizon >= 2,
                "2 intervals or more",
            )?;
        }
        Ok(())
    }
}

/// A metric's or the gate's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Evidence that the canary is no worse than tolerated.
    Pass,
    /// Evidence of a regression beyond the practical margin, or a guardrail breach.
    Fail,
    /// Not decided yet; keep observing.
    Continue,
    /// The final look came and neither was shown, or the metric was blind.
    Inconclusive,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Continue => "continue",
            Verdict::Inconclusive => "inconclusive",
        })
    }
}

/// Whether more data may come.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Look {
    /// An interim look: undecided metrics say [`Verdict::Continue`].
    Interim,
    /// The last look: undecided metrics say [`Verdict::Inconclusive`].
    Final,
}

/// Which arm a message is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Arm {
    /// The new version.
    Canary,
    /// The version in production.
    Baseline,
}

impl fmt::Display for Arm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Arm::Canary => "canary",
            Arm::Baseline => "baseline",
        })
    }
}

/// Why a metric cannot pass: it is blind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Blindness {
    /// No interval had data for both arms.
    NoSeries,
    /// An arm served fewer requests than `min_requests`.
    TooFewRequests {
        /// The short arm.
        arm: Arm,
        /// Requests it served.
        requests: f64,
        /// The configured minimum.
        min_requests: f64,
    },
    /// Too many intervals were missing or unusable.
    MissingData {
        /// Missing or unusable intervals.
        missing: usize,
        /// Intervals elapsed.
        intervals: usize,
        /// The configured maximum fraction.
        max_missing_fraction: f64,
    },
    /// The latest interval had no data: the series may have just disappeared.
    LatestIntervalMissing,
    /// A gauge value the judge cannot use (gauges are compared on the log scale).
    NonPositiveValue {
        /// The arm it came from.
        arm: Arm,
        /// The value.
        value: f64,
    },
}

impl fmt::Display for Blindness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Blindness::NoSeries => f.write_str("no series: no interval had data for both arms"),
            Blindness::TooFewRequests {
                arm,
                requests,
                min_requests,
            } => write!(
                f,
                "too few requests: {arm} served `{requests}` of the `{min_requests}` required"
            ),
            Blindness::MissingData {
                missing,
                intervals,
                max_missing_fraction,
            } => write!(
                f,
                "missing data: `{missing}` of `{intervals}` intervals unusable (at most `{}` % allowed)",
                max_missing_fraction * 100.0
            ),
            Blindness::NonPositiveValue { arm, value } => {
                write!(f, "unusable data: {arm} value `{value}` is not positive")
            }
            Blindness::LatestIntervalMissing => {
                f.write_str("missing data: the latest interval has no sample")
            }
        }
    }
}

/// Why a metric has its verdict; `Display` gives the line for humans.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Reason {
    /// The lower confidence bound rose above `1 + margin`.
    Regression {
        /// Lower confidence bound on the ratio.
        ci_low: f64,
        /// `1 + margin`.
        fail_above: f64,
    },
    /// The change detector ([`ChangeDetection`]) found a regression that began after the
    /// start: the canary became worse than `1 + margin` at some point.
    ChangeDetected {
        /// The detector's e-value.
        e_value: f64,
        /// `1 / alpha_fail`.
        threshold: f64,
        /// `1 + margin`.
        fail_above: f64,
    },
    /// The upper confidence bound fell below the tolerance.
    WithinTolerance {
        /// Upper confidence bound on the ratio.
        ci_high: f64,
        /// The tolerated ratio.
        tolerance: f64,
    },
    /// An absolute guardrail was breached.
    Guardrail {
        /// What was breached, e.g. "error rate above `1` %".
        detail: String,
    },
    /// The metric cannot pass because it cannot see.
    Blind(Blindness),
    /// Observing; neither bound has crossed yet.
    Undecided {
        /// Lower confidence bound.
        ci_low: f64,
        /// Upper confidence bound, `None` when unbounded.
        ci_high: Option<f64>,
    },
    /// The metric holds (guardrails and gauges).
    Holding,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Regression { ci_low, fail_above } => write!(
                f,
                "regression: the ratio is at least `{}`, above the margin `{}`",
                round3(*ci_low),
                round3(*fail_above)
            ),
            Reason::ChangeDetected {
                e_value,
                threshold,
                fail_above,
            } => write!(
                f,
                "regression since a later interval: the change detector's e-value `{}` reached `{}` against a ratio at most `{}`",
                round3(*e_value),
                round3(*threshold),
                round3(*fail_above)
            ),
            Reason::WithinTolerance { ci_high, tolerance } => write!(
                f,
                "within tolerance: the ratio is at most `{}`, below `{}`",
                round3(*ci_high),
                round3(*tolerance)
            ),
            Reason::Guardrail { detail } => write!(f, "guardrail breached: {detail}"),
            Reason::Blind(b) => write!(f, "blind: {b}"),
            Reason::Undecided { ci_low, ci_high } => match ci_high {
                Some(hi) => write!(
                    f,
                    "undecided: the ratio is between `{}` and `{}`",
                    round3(*ci_low),
                    round3(*hi)
                ),
                None => write!(
                    f,
                    "undecided: the ratio is at least `{}`, no upper bound yet",
                    round3(*ci_low)
                ),
            },
            Reason::Holding => f.write_str("holding"),
        }
    }
}

/// `e^x` capped at `f64::MAX`, so reports stay valid JSON (serde writes infinity as null).
pub(crate) fn finite_exp(x: f64) -> f64 {
    x.exp().min(f64::MAX)
}

fn round3(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let digits = 3 - x.abs().log10().floor() as i32 - 1;
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

/// How each interval was used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// Intervals fed to the judge.
    pub elapsed: usize,
    /// Intervals with usable data for both arms.
    pub usable: usize,
    /// Intervals with a missing arm.
    pub missing: usize,
    /// Intervals with unusable counts (negative, NaN, more bad than requests).
    pub invalid: usize,
    /// Usable intervals in which the canary served no requests.
    pub zero_canary_traffic: usize,
    /// Usable intervals in which the baseline served no requests.
    pub zero_baseline_traffic: usize,
}

/// Effect size for latency: `histogram_quantile` of both arms over the whole window.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuantileEffect {
    /// The quantile, e.g. 0.95.
    pub q: f64,
    /// Canary quantile (seconds).
    pub canary: f64,
    /// Baseline quantile (seconds).
    pub baseline: f64,
    /// `canary / baseline`.
    pub ratio: f64,
}

/// The kind of judge behind a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MetricKind {
    /// Anytime-valid rate-ratio test on counts ([`RatioTest`]).
    Ratio,
    /// Absolute guardrail.
    Guardrail,
    /// Gauge-like series judged once with Mann-Whitney.
    Gauge,
}

/// One metric's decision: the verdict and everything a report needs to explain it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricDecision {
    /// The metric's name as the user spelled it (untrusted text, only ever displayed).
    pub metric: String,
    /// Which judge produced this.
    pub kind: MetricKind,
    /// The verdict.
    pub verdict: Verdict,
    /// Why.
    pub reason: Reason,
    /// Point estimate: for [`MetricKind::Ratio`] the maximum-likelihood rate ratio
    /// canary/baseline, for a rate guardrail the canary's rate, for a gauge the
    /// Hodges-Lehmann ratio of locations. `None` while undefined (no events, or every
    /// event in the canary).
    pub estimate: Option<f64>,
    /// Lower confidence bound on the same quantity (0 when nothing is known).
    pub ci_low: f64,
    /// Upper confidence bound; `None` when unbounded.
    pub ci_high: Option<f64>,
    /// E-value against "harmless" (`ratio ≤ 1 + margin`); FAIL at `1/alpha_fail`. Capped
    /// at `f64::MAX`.
    pub e_fail: f64,
    /// E-value against "harmful" (`ratio ≥ tolerance`); PASS at `1/alpha_pass`.
    pub e_pass: f64,
    /// Canary totals over usable intervals (for a gauge: `requests` is the number of
    /// values).
    pub canary: ArmCounts,
    /// Baseline totals over usable intervals.
    pub baseline: ArmCounts,
    /// How intervals were used.
    pub tally: Tally,
    /// Interval count at which the verdict was first reached.
    pub decided_at: Option<usize>,
    /// Latency effect size, when the metric is a latency exceedance.
    pub effect: Option<QuantileEffect>,
}

/// Evidence at the current interval, without the confidence sequence (cheap).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// The verdict at an interim look.
    pub verdict: Verdict,
    /// E-value against "harmless".
    pub e_fail: f64,
    /// E-value against "harmful".
    pub e_pass: f64,
}

/// The sequential rate-ratio test for one metric. Feed it one [`CountInterval`] per
/// interval with [`RatioTest::observe`]; ask with [`RatioTest::status`] (cheap) or
/// [`RatioTest::decide`] (with confidence bounds and reason).
///
/// Verdicts are sticky: the first FAIL stays (and overrides an earlier PASS if the caller
/// keeps feeding data after it); the first PASS stays unless a FAIL follows.
///
/// ```
/// use hub_canary::{ArmCounts, CountInterval, Look, RatioConfig, RatioTest, Verdict};
/// let mut test = RatioTest::new(RatioConfig::error_rate())?;
/// // 600 requests per minute per arm; canary 12 errors a minute, baseline about 1.
/// for minute in 0..5 {
///     let baseline_bad = if minute % 2 == 0 { 1.0 } else { 2.0 };
///     test.observe(&CountInterval::new(ArmCounts::new(600.0, 12.0), ArmCounts::new(600.0, baseline_bad)));
/// }
/// let decision = test.decide("http-5xx", Look::Interim);
/// assert_eq!(decision.verdict, Verdict::Fail);
/// assert!(decision.ci_low > 1.1);
/// # Ok::<(), hub_canary::CanaryError>(())
/// ```
#[derive(Clone, Debug)]
pub struct RatioTest {
    config: RatioConfig,
    mix: LogitMixture,
    i_ok: usize,
    i_bad: usize,
    /// Informative intervals: (canary bad, total bad, offset ln(n_c / n_b)).
    observations: Vec<(f64, f64, f64)>,
    canary: ArmCounts,
    baseline: ArmCounts,
    tally: Tally,
    last_unusable: bool,
    failed_at: Option<usize>,
    passed_at: Option<usize>,
    /// `(ln E_fail, ln E_pass)` after the latest interval; with change detection `E_fail`
    /// is the detector's statistic.
    evidence: (f64, f64),
    /// Change detection: `ln R_t(θ_j)` per grid point (see [`ChangeDetection`]).
    detector: Option<Vec<f64>>,
    /// The fail test from the start alone fired (rather than a later start).
    failed_from_start: bool,
}

impl RatioTest {
    /// A fresh test; errors when the configuration is invalid.
    pub fn new(config: RatioConfig) -> Result<Self> {
        config.validate()?;
        let theta_ok = config.fail_above().ln();
        let theta_bad = config.tolerance.ln();
        let a = config.prior_concentration;
        // The fail test's prior is centred on the tolerated ratio (the regressions it must
        // catch), the pass test's on equality (the canaries it should pass).
        let prior = |center| Prior {
            center,
            concentration: a,
            wide_weight: WIDE_PRIOR_WEIGHT,
        };
        let (mix, marks) = LogitMixture::new(
            0.0,
            GRID_HALF_WIDTH,
            prior(theta_bad),
            prior(0.0),
            &[theta_ok, theta_bad],
        );
        let (i_ok, i_bad) = (marks[0], marks[1]);
        let detector = config
            .change_detection
            .map(|d| vec![(1.0 - d.share).ln(); mix.grid.len()]);
        Ok(Self {
            detector,
            failed_from_start: false,
            mix,
            i_ok,
            i_bad,
            observations: Vec::new(),
            canary: ArmCounts::new(0.0, 0.0),
            baseline: ArmCounts::new(0.0, 0.0),
            tally: Tally::default(),
            last_unusable: false,
            failed_at: None,
            passed_at: None,
            evidence: (0.0, 0.0),
            config,
        })
    }

    /// The configuration in use.
    #[must_use]
    pub fn config(&self) -> &RatioConfig {
        &self.config
    }

    /// How intervals were used so far.
    #[must_use]
    pub fn tally(&self) -> Tally {
        self.tally
    }

    /// Feed one interval. Missing arms, unusable counts and zero traffic are tallied and
    /// carry no evidence; everything else updates the likelihood.
    pub fn observe(&mut self, interval: &CountInterval) {
        self.tally.elapsed += 1;
        if let (Some(r), Some(d)) = (&mut self.detector, self.config.change_detection) {
            // A new test starts before every interval after the first, up to the horizon.
            let t = self.tally.elapsed - 1;
            if t >= 1 && t < d.horizon {
                let w = (d.share / (d.horizon - 1) as f64).ln();
                for x in r.iter_mut() {
                    *x = ln_add_exp(*x, w);
                }
            }
        }
        let (canary, baseline) = match (interval.canary, interval.baseline) {
            (Some(c), Some(b)) => (c, b),
            _ => {
                self.tally.missing += 1;
                self.last_unusable = true;
                self.update_verdicts();
                return;
            }
        };
        if canary.defect().or(baseline.defect()).is_some() {
            self.tally.invalid += 1;
            self.last_unusable = true;
            self.update_verdicts();
            return;
        }
        self.last_unusable = false;
        self.tally.usable += 1;
        self.canary.requests += canary.requests;
        self.canary.bad += canary.bad;
        self.baseline.requests += baseline.requests;
        self.baseline.bad += baseline.bad;
        if canary.requests <= 0.0 {
            self.tally.zero_canary_traffic += 1;
        } else if baseline.requests <= 0.0 {
            self.tally.zero_baseline_traffic += 1;
        } else {
            let k = canary.bad + baseline.bad;
            if k > 0.0 {
                let offset = (canary.requests / baseline.requests).ln();
                let before = self.detector.as_ref().map(|_| self.mix.loglik.clone());
                self.mix.update(canary.bad, k, offset);
                if let (Some(r), Some(before)) = (&mut self.detector, before) {
                    let phi = self.config.dispersion;
                    let l = &self.mix.loglik;
                    let ok = l[self.i_ok] - before[self.i_ok];
                    for (j, x) in r.iter_mut().enumerate() {
                        *x += (l[j] - before[j] - ok) / phi;
                    }
                }
                self.observations.push((canary.bad, k, offset));
            }
        }
        self.update_verdicts();
    }

    fn update_verdicts(&mut self) {
        self.evidence = self.log_evidence();
        let (e_fail, e_pass) = self.evidence;
        let elapsed = self.tally.elapsed;
        if self.failed_at.is_none() && e_fail >= (1.0 / self.config.alpha_fail).ln() {
            self.failed_at = Some(elapsed);
            self.failed_from_start = self.test_from_start_fails();
        }
        if self.passed_at.is_none()
            && self.failed_at.is_none()
            && elapsed >= self.config.min_intervals
            && self.blindness().is_none()
            && e_pass >= (1.0 / self.config.alpha_pass).ln()
        {
            self.passed_at = Some(elapsed);
        }
    }

    /// `(ln E_fail, ln E_pass)` at the two thresholds.
    fn log_evidence(&self) -> (f64, f64) {
        let phi = self.config.dispersion;
        let fail = match &self.detector {
            Some(r) => self.mix.one_sided_with(self.i_ok, r),
            None => self.mix.one_sided(self.i_ok, true, phi),
        };
        (fail, self.mix.one_sided(self.i_bad, false, phi))
    }

    /// Whether the test from the start alone is above `1/alpha_fail` (then the lower
    /// confidence bound is above `1 + margin` and the reason can say so).
    fn test_from_start_fails(&self) -> bool {
        self.mix.one_sided(self.i_ok, true, self.config.dispersion)
            >= (1.0 / self.config.alpha_fail).ln()
    }

    /// Why the metric cannot pass right now, if it cannot.
    #[must_use]
    pub fn blindness(&self) -> Option<Blindness> {
        let c = &self.config;
        let t = &self.tally;
        let unusable = t.missing + t.invalid;
        if t.usable == 0 {
            return Some(Blindness::NoSeries);
        }
        if self.last_unusable {
            return Some(Blindness::LatestIntervalMissing);
        }
        if unusable as f64 > c.max_missing_fraction * t.elapsed as f64 {
            return Some(Blindness::MissingData {
                missing: unusable,
                intervals: t.elapsed,
                max_missing_fraction: c.max_missing_fraction,
            });
        }
        if self.canary.requests < c.min_requests {
            return Some(Blindness::TooFewRequests {
                arm: Arm::Canary,
                requests: self.canary.requests,
                min_requests: c.min_requests,
            });
        }
        if self.baseline.requests < c.min_requests {
            return Some(Blindness::TooFewRequests {
                arm: Arm::Baseline,
                requests: self.baseline.requests,
                min_requests: c.min_requests,
            });
        }
        None
    }

    fn verdict(&self, look: Look) -> Verdict {
        if self.failed_at.is_some() {
            Verdict::Fail
        } else if self.passed_at.is_some() {
            Verdict::Pass
        } else if look == Look::Final {
            Verdict::Inconclusive
        } else {
            Verdict::Continue
        }
    }

    /// The verdict and both e-values, without confidence bounds (cached, O(1)).
    #[must_use]
    pub fn status(&self) -> Status {
        let (f, p) = self.evidence;
        Status {
            verdict: self.verdict(Look::Interim),
            e_fail: finite_exp(f),
            e_pass: finite_exp(p),
        }
    }

    /// The full decision for `metric` at this look.
    #[must_use]
    pub fn decide(&self, metric: &str, look: Look) -> MetricDecision {
        let (e_fail, e_pass) = self.evidence;
        let (ci_low, ci_high) = self.confidence_sequence();
        let verdict = self.verdict(look);
        let reason = match verdict {
            Verdict::Fail if self.detector.is_some() && !self.failed_from_start => {
                Reason::ChangeDetected {
                    e_value: finite_exp(e_fail),
                    threshold: 1.0 / self.config.alpha_fail,
                    fail_above: self.config.fail_above(),
                }
            }
            Verdict::Fail => Reason::Regression {
                ci_low,
                fail_above: self.config.fail_above(),
            },
            Verdict::Pass => Reason::WithinTolerance {
                ci_high: ci_high.unwrap_or(f64::MAX),
                tolerance: self.config.tolerance,
            },
            _ => match self.blindness() {
                Some(b) => Reason::Blind(b),
                None => Reason::Undecided { ci_low, ci_high },
            },
        };
        MetricDecision {
            metric: metric.to_owned(),
            kind: MetricKind::Ratio,
            verdict,
            reason,
            estimate: self.ratio_estimate(),
            ci_low,
            ci_high,
            e_fail: finite_exp(e_fail),
            e_pass: finite_exp(e_pass),
            canary: self.canary,
            baseline: self.baseline,
            tally: self.tally,
            decided_at: self.failed_at.or(self.passed_at),
            effect: None,
        }
    }

    /// Anytime-valid bounds `(low, high)` on the ratio from inverting the one-sided tests
    /// on the grid, refined by linear interpolation between grid points.
    #[must_use]
    pub fn confidence_sequence(&self) -> (f64, Option<f64>) {
        let phi = self.config.dispersion;
        let low = self
            .mix
            .lower_bound(self.config.alpha_fail, phi)
            .map_or(0.0, f64::exp);
        let high = self
            .mix
            .upper_bound(self.config.alpha_pass, phi)
            .map(f64::exp);
        (low, high)
    }

    /// Maximum-likelihood ratio: solves `Σ X = Σ K·σ(θ + a)` by bisection on `θ`.
    #[must_use]
    pub fn ratio_estimate(&self) -> Option<f64> {
        let x: f64 = self.observations.iter().map(|o| o.0).sum();
        let k: f64 = self.observations.iter().map(|o| o.1).sum();
        if k <= 0.0 || x >= k {
            return None;
        }
        if x <= 0.0 {
            return Some(0.0);
        }
        let score = |t: f64| -> f64 {
            x - self
                .observations
                .iter()
                .map(|o| o.1 * logistic(t + o.2))
                .sum::<f64>()
        };
        let (mut lo, mut hi) = (-40.0, 40.0);
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if score(mid) > 0.0 {
                lo = mid;
            } else {
                hi = mid;
            }
            if hi - lo < 1e-10 {
                break;
            }
        }
        Some((0.5 * (lo + hi)).exp())
    }
}

/// A prior on `θ`: `p = σ(θ − center)` follows `(1 − wide)·Beta(a, a) + wide·Beta(1, 1)`,
/// i.e. a concentrated component plus a wide one that keeps gross effects cheap to detect.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Prior {
    pub(crate) center: f64,
    pub(crate) concentration: f64,
    pub(crate) wide_weight: f64,
}

impl Prior {
    /// Log density on `θ` (the Jacobian of `p ↦ θ` turns `p^(a−1)(1−p)^(a−1)` into
    /// `σ(d)^a σ(−d)^a`).
    fn log_density(&self, theta: f64) -> f64 {
        let d = theta - self.center;
        let log_sig = -(ln_1p_exp(-d) + ln_1p_exp(d));
        let a = self.concentration;
        let narrow = a * log_sig - ln_beta(a, a);
        let wide = log_sig; // Beta(1, 1): ln B(1, 1) = 0.
        if self.wide_weight <= 0.0 {
            narrow
        } else if self.wide_weight >= 1.0 {
            wide
        } else {
            ln_add_exp(
                (1.0 - self.wide_weight).ln() + narrow,
                self.wide_weight.ln() + wide,
            )
        }
    }
}

/// A discrete-prior mixture of binomial-logit likelihoods: the engine of every one-sided
/// e-process in this crate.
///
/// Grid points `θ_j` (spacing [`GRID_STEP`]) around `center`, each with log prior weight
/// `−a·(ln(1 + e^{−(θ−center)}) + ln(1 + e^{θ−center}))` — a `Beta(a, a)` on
/// `σ(θ − center)` — plus "mark" points with zero prior mass where tests are evaluated.
/// `update(x, k, offset)` adds the log-likelihood of `x ~ Binomial(k, σ(θ + offset))`.
#[derive(Clone, Debug)]
pub(crate) struct LogitMixture {
    pub(crate) grid: Vec<f64>,
    /// `e^θ` at every grid point, so an update needs one `ln_1p` per point.
    exp_grid: Vec<f64>,
    /// `ln Σ_{j>i} e^{up_prior[j]}`: the up prior's mass strictly above each point.
    up_mass: Vec<f64>,
    /// `ln Σ_{j<i} e^{down_prior[j]}`: the down prior's mass strictly below each point.
    down_mass: Vec<f64>,
    /// Prior of the upward test (alternatives above the mark).
    pub(crate) up_prior: Vec<f64>,
    /// Prior of the downward test (alternatives below the mark).
    pub(crate) down_prior: Vec<f64>,
    pub(crate) loglik: Vec<f64>,
}

impl LogitMixture {
    /// The mixture and the grid index of each mark. The grid spans `center ± half_width`;
    /// `up` and `down` are the priors of the upward and downward tests.
    pub(crate) fn new(
        center: f64,
        half_width: f64,
        up: Prior,
        down: Prior,
        marks: &[f64],
    ) -> (Self, Vec<usize>) {
        let n = (2.0 * half_width / GRID_STEP).round() as usize;
        let mut points: Vec<(f64, Option<usize>)> = (0..=n)
            .map(|i| (center - half_width + i as f64 * GRID_STEP, None))
            .collect();
        points.extend(marks.iter().enumerate().map(|(m, &t)| (t, Some(m))));
        points.sort_by(|x, y| x.0.total_cmp(&y.0));
        let mut indices = vec![0; marks.len()];
        for (i, p) in points.iter().enumerate() {
            if let Some(m) = p.1 {
                indices[m] = i;
            }
        }
        let grid: Vec<f64> = points.iter().map(|p| p.0).collect();
        let prior = |shape: Prior| -> Vec<f64> {
            points
                .iter()
                .map(|&(t, mark)| match mark {
                    Some(_) => f64::NEG_INFINITY,
                    None => shape.log_density(t),
                })
                .collect()
        };
        let up_prior = prior(up);
        let down_prior = prior(down);
        let g = grid.len();
        let mut up_mass = vec![f64::NEG_INFINITY; g];
        for i in (0..g.saturating_sub(1)).rev() {
            up_mass[i] = ln_add_exp(up_mass[i + 1], up_prior[i + 1]);
        }
        let mut down_mass = vec![f64::NEG_INFINITY; g];
        for i in 1..g {
            down_mass[i] = ln_add_exp(down_mass[i - 1], down_prior[i - 1]);
        }
        let mix = Self {
            loglik: vec![0.0; g],
            up_prior,
            down_prior,
            exp_grid: grid.iter().map(|t| t.exp()).collect(),
            up_mass,
            down_mass,
            grid,
        };
        (mix, indices)
    }

    /// Add one binomial observation: `x` of `k` events, natural parameter `θ + offset`.
    pub(crate) fn update(&mut self, x: f64, k: f64, offset: f64) {
        let scale = offset.exp();
        for ((l, &t), &e) in self.loglik.iter_mut().zip(&self.grid).zip(&self.exp_grid) {
            let z = t + offset;
            // ln(1 + e^z) with e^z = e^θ · e^offset; fall back where that could overflow.
            let softplus = if z.abs() < 30.0 {
                (e * scale).ln_1p()
            } else {
                ln_1p_exp(z)
            };
            *l += x * z - k * softplus;
        }
    }

    /// ln of the one-sided mixture e-value at index `i0`: the prior restricted to points
    /// above (`up`) or below `i0`, against the likelihood at `i0`, all divided by `phi`.
    pub(crate) fn one_sided(&self, i0: usize, up: bool, phi: f64) -> f64 {
        let (prior, loglik, mass) = if up {
            (
                &self.up_prior[i0 + 1..],
                &self.loglik[i0 + 1..],
                self.up_mass[i0],
            )
        } else {
            (
                &self.down_prior[..i0],
                &self.loglik[..i0],
                self.down_mass[i0],
            )
        };
        let inv_phi = 1.0 / phi;
        let max_w = prior
            .iter()
            .zip(loglik)
            .fold(f64::NEG_INFINITY, |m, (p, l)| m.max(p + l * inv_phi));
        if max_w == f64::NEG_INFINITY || mass == f64::NEG_INFINITY {
            return f64::NEG_INFINITY;
        }
        let num: f64 = prior
            .iter()
            .zip(loglik)
            .map(|(p, l)| (p + l * inv_phi - max_w).exp())
            .sum();
        max_w + num.ln() - mass - self.loglik[i0] * inv_phi
    }

    /// ln of the upward mixture at index `i0` of per-point log weights `r` (already
    /// likelihood ratios against `i0`): `ln Σ_{j>i0} π_j e^{r_j} − ln Σ_{j>i0} π_j`.
    pub(crate) fn one_sided_with(&self, i0: usize, r: &[f64]) -> f64 {
        let prior = &self.up_prior[i0 + 1..];
        let r = &r[i0 + 1..];
        let mass = self.up_mass[i0];
        let max_w = prior
            .iter()
            .zip(r)
            .fold(f64::NEG_INFINITY, |m, (p, x)| m.max(p + x));
        if max_w == f64::NEG_INFINITY || mass == f64::NEG_INFINITY {
            return f64::NEG_INFINITY;
        }
        let num: f64 = prior
            .iter()
            .zip(r)
            .map(|(p, x)| (p + x - max_w).exp())
            .sum();
        max_w + num.ln() - mass
    }

    /// The largest `θ₀` at which "θ ≤ θ₀" is rejected at level `alpha` (the anytime-valid
    /// lower confidence bound), linearly interpolated between grid points; `None` when no
    /// grid point is rejected.
    pub(crate) fn lower_bound(&self, alpha: f64, phi: f64) -> Option<f64> {
        let g = self.grid.len();
        let c = (1.0 / alpha).ln();
        // Suffix log-sums over points strictly above i.
        let mut num = vec![f64::NEG_INFINITY; g];
        for i in (0..g.saturating_sub(1)).rev() {
            num[i] = ln_add_exp(num[i + 1], self.up_prior[i + 1] + self.loglik[i + 1] / phi);
        }
        let f = |i: usize| num[i] - self.up_mass[i] - self.loglik[i] / phi - c;
        (0..g.saturating_sub(1))
            .rev()
            .find(|&i| f(i) >= 0.0)
            .map(|i| {
                let (f0, f1) = (f(i), f(i + 1));
                let t = if f0 > f1 && f1.is_finite() {
                    f0 / (f0 - f1)
                } else {
                    0.0
                };
                self.grid[i] + t * (self.grid[i + 1] - self.grid[i])
            })
    }

    /// The smallest `θ₀` at which "θ ≥ θ₀" is rejected at level `alpha` (the upper
    /// confidence bound); `None` when unbounded.
    pub(crate) fn upper_bound(&self, alpha: f64, phi: f64) -> Option<f64> {
        let g = self.grid.len();
        let c = (1.0 / alpha).ln();
        // Prefix log-sums over points strictly below i.
        let mut num = vec![f64::NEG_INFINITY; g];
        let mut den = vec![f64::NEG_INFINITY; g];
        for i in 1..g {
            num[i] = ln_add_exp(
                num[i - 1],
                self.down_prior[i - 1] + self.loglik[i - 1] / phi,
            );
            den[i] = ln_add_exp(den[i - 1], self.down_prior[i - 1]);
        }
        let f = |i: usize| num[i] - den[i] - self.loglik[i] / phi - c;
        (1..g).find(|&i| f(i) >= 0.0).map(|i| {
            let (f0, f1) = (f(i - 1), f(i));
            let t = if f1 > f0 && f0.is_finite() {
                f1 / (f1 - f0)
            } else {
                0.0
            };
            self.grid[i] - t * (self.grid[i] - self.grid[i - 1])
        })
    }
}

/// Judge a whole series at once: `RatioTest` fed every interval, decided at `look`.
///
/// ```
/// use hub_canary::{judge_counts, ArmCounts, CountInterval, Look, RatioConfig, Verdict};
/// let quiet = vec![CountInterval::new(ArmCounts::new(600.0, 1.0), ArmCounts::new(600.0, 1.0)); 3];
/// let d = judge_counts("http-5xx", RatioConfig::error_rate(), &quiet, Look::Final)?;
/// assert_eq!(d.verdict, Verdict::Inconclusive); // three quiet minutes prove nothing
/// # Ok::<(), hub_canary::CanaryError>(())
/// ```
pub fn judge_counts(
    metric: &str,
    config: RatioConfig,
    intervals: &[CountInterval],
    look: Look,
) -> Result<MetricDecision> {
    let mut test = RatioTest::new(config)?;
    for interval in intervals {
        test.observe(interval);
    }
    Ok(test.decide(metric, look))
}

/// Dispersion estimated from an A/A window.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DispersionEstimate {
    /// Pearson's `X² / (n − 1)`; near 1 for Poisson noise, above for overdispersion.
    pub phi: f64,
    /// Degrees of freedom `n − 1` (informative intervals minus one).
    pub degrees_of_freedom: usize,
    /// One-sided 90 % upper confidence bound on `φ`: `X² / χ²₀.₁₀(n − 1)` (Wilson–Hilferty
    /// approximation of the chi-square quantile).
    pub upper: f64,
    /// `max(1, upper)`: the value to put in [`RatioConfig::dispersion`]. The upper bound,
    /// not the estimate, because an underestimated `φ` costs false alarms while an
    /// overestimated one only costs time.
    pub recommended: f64,
}

/// Estimate the overdispersion factor from an A/A window: two arms running the *same*
/// version (for instance the baseline's pods split in two, before the canary starts).
///
/// Under the Poisson model, given `K` events in an interval the first arm's count is
/// `Binomial(K, p)` with `logit p = θ + ln(n₁/n₂)`; Pearson's statistic over intervals with
/// the pooled `θ̂` estimates `φ`. Returns `None` with fewer than two informative intervals.
///
/// ```
/// use hub_canary::{calibrate_dispersion, ArmCounts, CountInterval};
/// let aa: Vec<_> = [(10.0, 10.0), (4.0, 16.0), (16.0, 4.0), (9.0, 11.0)]
///     .iter()
///     .map(|&(a, b)| CountInterval::new(ArmCounts::new(1000.0, a), ArmCounts::new(1000.0, b)))
///     .collect();
/// let est = calibrate_dispersion(&aa).expect("enough intervals");
/// assert!(est.phi > 2.0, "the 4/16 and 16/4 splits are too lopsided for Poisson noise");
/// ```
#[must_use]
pub fn calibrate_dispersion(intervals: &[CountInterval]) -> Option<DispersionEstimate> {
    let mut obs = Vec::new();
    for i in intervals {
        if let (Some(a), Some(b)) = (i.canary, i.baseline) {
            let usable = a.defect().or(b.defect()).is_none()
                && a.requests > 0.0
                && b.requests > 0.0
                && a.bad + b.bad > 0.0;
            if usable {
                obs.push((a.bad, a.bad + b.bad, (a.requests / b.requests).ln()));
            }
        }
    }
    if obs.len() < 2 {
        return None;
    }
    let x: f64 = obs.iter().map(|o| o.0).sum();
    let k: f64 = obs.iter().map(|o| o.1).sum();
    let theta = if x <= 0.0 || x >= k {
        // Degenerate pooled split: use the share-weighted null θ = 0.
        0.0
    } else {
        let score = |t: f64| x - obs.iter().map(|o| o.1 * logistic(t + o.2)).sum::<f64>();
        let (mut lo, mut hi) = (-40.0f64, 40.0f64);
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if score(mid) > 0.0 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        0.5 * (lo + hi)
    };
    let chi2: f64 = obs
        .iter()
        .map(|&(xi, ki, a)| {
            let p = logistic(theta + a);
            let var = ki * p * (1.0 - p);
            if var > 0.0 {
                (xi - ki * p).powi(2) / var
            } else {
                0.0
            }
        })
        .sum();
    let dof = obs.len() - 1;
    let phi = chi2 / dof as f64;
    let upper = chi2 / chi_square_quantile(0.10, dof as f64);
    Some(DispersionEstimate {
        phi,
        degrees_of_freedom: dof,
        upper,
        recommended: upper.max(1.0),
    })
}

/// Wilson–Hilferty approximation of the chi-square quantile (good to a few per cent
/// from 2 degrees of freedom up).
fn chi_square_quantile(p: f64, dof: f64) -> f64 {
    let h = 2.0 / (9.0 * dof);
    (dof * (1.0 - h + normal_quantile(p) * h.sqrt()).powi(3)).max(f64::MIN_POSITIVE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::ln_beta;

    fn minutes(n: usize, canary: (f64, f64), baseline: (f64, f64)) -> Vec<CountInterval> {
        vec![
            CountInterval::new(
                ArmCounts::new(canary.0, canary.1),
                ArmCounts::new(baseline.0, baseline.1)
            );
            n
        ]
    }

    /// Judge `intervals` and render the decision on one line.
    fn check(config: RatioConfig, intervals: &[CountInterval], look: Look) -> String {
        let d = judge_counts("m", config, intervals, look).expect("valid config");
        let hi = d.ci_high.map_or("inf".to_owned(), |h| format!("{h:.3}"));
        let est = d.estimate.map_or("none".to_owned(), |e| format!("{e:.3}"));
        format!(
            "{} at {:?} | est {est} ci [{:.3}, {hi}] | {}",
            d.verdict, d.decided_at, d.ci_low, d.reason
        )
    }

    #[test]
    fn clear_regression_fails_fast() {
        insta::assert_snapshot!(check(            RatioConfig::error_rate(),
            &minutes(5, (600.0, 12.0), (600.0, 1.0)),
            Look::Interim
        ), @"fail at Some(2) | est 12.000 ci [3.106, inf] | regression: the ratio is at least `3.11`, above the margin `1.05`");
    }

    #[test]
    fn zero_baseline_errors_do_not_divide_by_zero() {
        insta::assert_snapshot!(check(            RatioConfig::error_rate(),
            &minutes(3, (600.0, 4.0), (600.0, 0.0)),
            Look::Final
        ), @"fail at Some(3) | est none ci [1.163, inf] | regression: the ratio is at least `1.16`, above the margin `1.05`");
    }

    #[test]
    fn quiet_equal_arms_pass_after_enough_evidence() {
        insta::assert_snapshot!(check(            RatioConfig::error_rate(),
            &minutes(40, (600.0, 1.2), (600.0, 1.2)),
            Look::Final
        ), @"pass at Some(28) | est 1.000 ci [0.477, 1.780] | within tolerance: the ratio is at most `1.78`, below `2`");
    }

    #[test]
    fn few_events_stay_undecided_then_inconclusive() {
        insta::assert_snapshot!(check(            RatioConfig::error_rate(),
            &minutes(12, (600.0, 0.2), (600.0, 0.2)),
            Look::Interim
        ), @"continue at None | est 1.000 ci [0.033, 13.248] | undecided: the ratio is between `0.0328` and `13.2`");
        insta::assert_snapshot!(check(            RatioConfig::error_rate(),
            &minutes(12, (600.0, 0.2), (600.0, 0.2)),
            Look::Final
        ), @"inconclusive at None | est 1.000 ci [0.033, 13.248] | undecided: the ratio is between `0.0328` and `13.2`");
    }

    #[test]
    fn missing_series_and_zero_traffic_never_pass() {
        let mut blind = minutes(40, (600.0, 1.2), (600.0, 1.2));
        blind.push(CountInterval {
            canary: None,
            baseline: Some(ArmCounts::new(600.0, 1.0)),
        });
        let mut test = RatioTest::new(RatioConfig {
            min_intervals: 41,
            ..RatioConfig::error_rate()
        })
        .expect("valid");
        for i in &blind {
            test.observe(i);
        }
        assert_eq!(
            test.decide("m", Look::Final).reason.to_string(),
            "blind: missing data: the latest interval has no sample"
        );
        assert_eq!(test.decide("m", Look::Final).verdict, Verdict::Inconclusive);

        insta::assert_snapshot!(check(            RatioConfig::error_rate(),
            &vec![CountInterval::default(); 30],
            Look::Final
        ), @"inconclusive at None | est none ci [0.000, inf] | blind: no series: no interval had data for both arms");
        insta::assert_snapshot!(check(            RatioConfig::error_rate(),
            &minutes(40, (0.0, 0.0), (600.0, 1.2)),
            Look::Final
        ), @"inconclusive at None | est none ci [0.000, inf] | blind: too few requests: canary served `0` of the `1000` required");
    }

    #[test]
    fn gaps_beyond_the_allowed_fraction_block_a_pass() {
        let mut data = minutes(40, (600.0, 1.2), (600.0, 1.2));
        for i in (0..40).step_by(4) {
            data[i].canary = None;
        }
        insta::assert_snapshot!(check(            RatioConfig::error_rate(),
            &data,
            Look::Final
        ), @"inconclusive at None | est 1.000 ci [0.429, 1.935] | blind: missing data: `10` of `40` intervals unusable (at most `10` % allowed)");
    }

    #[test]
    fn weight_changes_are_part_of_the_model() {
        // Canary at 5 % then 50 % of traffic, same error rate: the realised share absorbs it.
        let mut data = minutes(20, (60.0, 0.12 * 1.0), (1140.0, 2.28));
        data.extend(minutes(30, (600.0, 1.2), (600.0, 1.2)));
        let d = judge_counts("m", RatioConfig::error_rate(), &data, Look::Final).expect("valid");
        assert_eq!(d.verdict, Verdict::Pass);
        assert!((d.estimate.expect("events") - 1.0).abs() < 1e-9);
    }

    #[test]
    fn dispersion_widens_the_bounds() {
        let data = minutes(30, (600.0, 2.0), (600.0, 1.2));
        let plain =
            judge_counts("m", RatioConfig::error_rate(), &data, Look::Final).expect("valid");
        let wide = judge_counts(
            "m",
            RatioConfig {
                dispersion: 2.0,
                ..RatioConfig::error_rate()
            },
            &data,
            Look::Final,
        )
        .expect("valid");
        assert!(
            wide.ci_low < plain.ci_low && wide.e_fail < plain.e_fail,
            "{wide:?} vs {plain:?}"
        );
    }

    #[test]
    fn grid_mixture_matches_the_closed_form_beta_mixture_at_constant_share() {
        // At w = 1/2 a prior centred at 0 is Beta(a, a) on p; the two-sided mixture against
        // r = 1 must equal B(a + X, a + K − X) / B(a, a) / 0.5^K up to quadrature error.
        // (Concentrations near 1 put visible prior mass beyond the grid's ±4.5.)
        for a in [2.0, 4.0, 8.0] {
            let p = Prior {
                center: 0.0,
                concentration: a,
                wide_weight: 0.0,
            };
            let (mut mix, marks) = LogitMixture::new(0.0, GRID_HALF_WIDTH, p, p, &[0.0]);
            let (x, y) = (14.0, 6.0);
            mix.update(x, x + y, 0.0);
            let i0 = marks[0];
            let mut num = f64::NEG_INFINITY;
            let mut den = f64::NEG_INFINITY;
            for j in 0..mix.grid.len() {
                num = ln_add_exp(num, mix.up_prior[j] + mix.loglik[j]);
                den = ln_add_exp(den, mix.up_prior[j]);
            }
            let grid = num - den - mix.loglik[i0];
            let closed = ln_beta(a + x, a + y) - ln_beta(a, a) - (x + y) * 0.5f64.ln();
            assert!(
                (grid - closed).abs() < 0.01,
                "a={a}: grid {grid} vs closed form {closed}"
            );
        }
    }

    #[test]
    fn invalid_configs_are_rejected_with_context() {
        let err = RatioTest::new(RatioConfig {
            margin: 1.5,
            ..RatioConfig::error_rate()
        })
        .expect_err("empty zone");
        assert_eq!(
            err.to_string(),
            "margin `1.5` puts the fail threshold `2.5` at or above the tolerance `2`"
        );
        let err = RatioTest::new(RatioConfig {
            dispersion: 0.5,
            ..RatioConfig::error_rate()
        })
        .expect_err("phi < 1");
        assert_eq!(err.to_string(), "invalid `dispersion` = `0.5`: 1 or more");
    }

    fn detecting(horizon: usize) -> RatioConfig {
        RatioConfig {
            change_detection: Some(ChangeDetection::over(horizon)),
            ..RatioConfig::error_rate()
        }
    }

    #[test]
    fn a_late_regression_is_caught_sooner_by_the_change_detector() {
        // 30 clean minutes, then the canary's error rate triples: the test from the start
        // carries 30 minutes of "equal" and needs 20 minutes; the detector needs 15.
        let mut data = minutes(30, (600.0, 1.2), (600.0, 1.2));
        data.extend(minutes(30, (600.0, 3.6), (600.0, 1.2)));
        let plain = check(RatioConfig::error_rate(), &data, Look::Final);
        let watching = check(detecting(60), &data, Look::Final);
        insta::assert_snapshot!(format!("{plain}\n{watching}"), @"
        fail at Some(50) | est 2.000 ci [1.237, 3.225] | regression: the ratio is at least `1.24`, above the margin `1.05`
        fail at Some(45) | est 2.000 ci [1.237, 3.225] | regression since a later interval: the change detector's e-value `336000` reached `100` against a ratio at most `1.05`
        ");
    }

    #[test]
    fn the_change_detector_keeps_its_false_alarm_bound() {
        // At the edge of "harmless" (ratio exactly 1 + margin), Poisson counts, 60
        // intervals, 600 runs: P(ever FAIL) ≤ 1 % must hold for the detector too.
        let mut rng = crate::Rng::seed(17);
        let mut alarms = 0;
        for _ in 0..600 {
            let mut test = RatioTest::new(detecting(60)).expect("valid");
            for _ in 0..60 {
                test.observe(&CountInterval::new(
                    ArmCounts::new(600.0, rng.poisson(3.0 * 1.05)),
                    ArmCounts::new(600.0, rng.poisson(3.0)),
                ));
            }
            alarms += usize::from(test.status().verdict == Verdict::Fail);
        }
        assert!(alarms <= 12, "{alarms} false alarms in 600 runs");
    }

    #[test]
    fn change_detection_settings_are_checked() {
        let mut c = detecting(1);
        assert_eq!(
            RatioTest::new(c.clone()).expect_err("horizon").to_string(),
            "invalid `change_detection.horizon` = `1`: 2 intervals or more"
        );
        c.change_detection = Some(ChangeDetection {
            share: 1.0,
            horizon: 60,
        });
        assert_eq!(
            RatioTest::new(c).expect_err("share").to_string(),
            "invalid `change_detection.share` = `1`: in (0, 1)"
        );
    }

    #[test]
    fn calibration_sees_poisson_and_extra_noise() {
        // 200 A/A intervals, 20 events per arm on average; the noisy arms get a mean-one
        // gamma multiplier with CV 0.3 each, so φ should be near 1 + 20·0.3² = 2.8.
        let mut rng = crate::Rng::seed(3);
        let mut aa = |cv: f64| -> Vec<CountInterval> {
            (0..200)
                .map(|_| {
                    let mut arm = || {
                        let m = if cv > 0.0 {
                            rng.gamma(1.0 / (cv * cv)) * cv * cv
                        } else {
                            1.0
                        };
                        ArmCounts::new(1000.0, rng.poisson(20.0 * m))
                    };
                    CountInterval::new(arm(), arm())
                })
                .collect()
        };
        let show = |d: DispersionEstimate| {
            format!(
                "phi {:.2} upper {:.2} use {:.2}",
                d.phi, d.upper, d.recommended
            )
        };
        let plain = calibrate_dispersion(&aa(0.0)).expect("enough intervals");
        let noisy = calibrate_dispersion(&aa(0.3)).expect("enough intervals");
        insta::assert_snapshot!(format!("{} | {}", show(plain), show(noisy)), @"phi 1.13 upper 1.30 use 1.30 | phi 2.53 upper 2.90 use 2.90");
        assert_eq!(calibrate_dispersion(&aa(0.0)[..1]), None);
    }
}
