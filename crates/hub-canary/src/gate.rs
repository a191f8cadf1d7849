//! Guardrails, the latency and gauge judges, and the gate that combines them.
//!
//! Combining rule ([`combine`]): any FAIL fails the gate; the gate passes only when every
//! metric passes; otherwise it continues, and at the final look it is inconclusive,
//! naming the blind metrics. Missing data therefore never passes: a blind metric cannot
//! pass, and a gate with a blind metric cannot pass.

use crate::error::{CanaryError, Result, check_range};
use crate::kayenta::mann_whitney;
use crate::math::logistic;
use crate::sequential::{
    Arm, Blindness, ChangeDetection, LogitMixture, Look, MetricDecision, MetricKind, Prior,
    QuantileEffect, RatioConfig, RatioTest, Reason, Tally, Verdict, finite_exp,
};
use crate::series::{
    ArmCounts, Bucket, CountInterval, exceedances, histogram_quantile, sum_buckets,
};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// An absolute limit on the canary's bad-event rate, e.g. "error rate never above 1 %".
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RateGuardrailConfig {
    /// The limit, as a fraction (0.01 = 1 %).
    pub max_rate: f64,
    /// Bound on the probability of ever tripping while the true rate is at or below
    /// `max_rate`.
    pub alpha: f64,
}

impl Default for RateGuardrailConfig {
    /// Error rate never above 1 %, tripped with 1 % false-alarm probability.
    fn default() -> Self {
        Self {
            max_rate: 0.01,
            alpha: 0.01,
        }
    }
}

/// The rate guardrail: an anytime-valid one-sided test of "canary rate ≤ `max_rate`" on
/// the canary's own counts, so it trips within the first interval of a gross breach but
/// not on one unlucky error among sixty requests.
///
/// The canary's bad events per interval are `Binomial(n, p)`; the e-process mixes
/// `Binomial` likelihood ratios over `logit p` above `logit max_rate` (a `Beta(1, 1)` on
/// `σ(logit p − logit max_rate)`, on a grid), so `P(ever trip | p ≤ max_rate) ≤ alpha`.
#[derive(Clone, Debug)]
pub struct RateGuardrail {
    config: RateGuardrailConfig,
    mix: LogitMixture,
    i_limit: usize,
    canary: ArmCounts,
    tally: Tally,
    last_missing: bool,
    tripped_at: Option<usize>,
}

impl RateGuardrail {
    /// A fresh guardrail.
    pub fn new(config: RateGuardrailConfig) -> Result<Self> {
        check_range(
            "max_rate",
            config.max_rate,
            config.max_rate > 0.0 && config.max_rate < 1.0,
            "in (0, 1)",
        )?;
        check_range(
            "alpha",
            config.alpha,
            config.alpha > 0.0 && config.alpha < 0.5,
            "in (0, 0.5)",
        )?;
        let limit = (config.max_rate / (1.0 - config.max_rate)).ln();
        let prior = Prior {
            center: limit,
            concentration: 1.0,
            wide_weight: 0.0,
        };
        let (mix, marks) = LogitMixture::new(limit, 5.0, prior, prior, &[limit]);
        Ok(Self {
            config,
            mix,
            i_limit: marks[0],
            canary: ArmCounts::new(0.0, 0.0),
            tally: Tally::default(),
            last_missing: false,
            tripped_at: None,
        })
    }

    /// Feed the canary's counts for one interval (`None` when missing).
    pub fn observe(&mut self, canary: Option<ArmCounts>) {
        self.tally.elapsed += 1;
        match canary {
            Some(c) if c.defect().is_none() => {
                self.tally.usable += 1;
                self.last_missing = false;
                self.canary.requests += c.requests;
                self.canary.bad += c.bad;
                if c.requests > 0.0 {
                    self.mix.update(c.bad, c.requests, 0.0);
                } else {
                    self.tally.zero_canary_traffic += 1;
                }
            }
            Some(_) => {
                self.tally.invalid += 1;
                self.last_missing = true;
            }
            None => {
                self.tally.missing += 1;
                self.last_missing = true;
            }
        }
        if self.tripped_at.is_none() && self.log_evidence() >= (1.0 / self.config.alpha).ln() {
            self.tripped_at = Some(self.tally.elapsed);
        }
    }

    fn log_evidence(&self) -> f64 {
        self.mix.one_sided(self.i_limit, true, 1.0)
    }

    /// True once the guardrail has tripped (cheap).
    #[must_use]
    pub fn tripped(&self) -> bool {
        self.tripped_at.is_some()
    }

    fn blindness(&self) -> Option<Blindness> {
        if self.tally.usable == 0 {
            Some(Blindness::NoSeries)
        } else if self.last_missing {
            Some(Blindness::LatestIntervalMissing)
        } else {
            None
        }
    }

    /// The verdict alone (cheap).
    #[must_use]
    pub fn verdict(&self, look: Look) -> Verdict {
        match (self.tripped_at, self.blindness()) {
            (Some(_), _) => Verdict::Fail,
            (None, Some(_)) => undecided(look),
            (None, None) => Verdict::Pass,
        }
    }

    /// The decision for `metric` at this look.
    #[must_use]
    pub fn decide(&self, metric: &str, look: Look) -> MetricDecision {
        let low = self
            .mix
            .lower_bound(self.config.alpha, 1.0)
            .map_or(0.0, logistic);
        let blind = if self.tally.usable == 0 {
            Some(Blindness::NoSeries)
        } else if self.last_missing {
            Some(Blindness::LatestIntervalMissing)
        } else {
            None
        };
        let (verdict, reason) = match (self.tripped_at, blind) {
            (Some(_), _) => (
                Verdict::Fail,
                Reason::Guardrail {
                    detail: format!(
                        "the canary's rate is at least `{:.3}` %, above the limit `{}` %",
                        low * 100.0,
                        self.config.max_rate * 100.0
                    ),
                },
            ),
            (None, Some(b)) => (undecided(look), Reason::Blind(b)),
            (None, None) => (Verdict::Pass, Reason::Holding),
        };
        let estimate = (self.canary.requests > 0.0).then(|| self.canary.bad / self.canary.requests);
        MetricDecision {
            metric: metric.to_owned(),
            kind: MetricKind::Guardrail,
            verdict,
            reason,
            estimate,
            ci_low: low,
            ci_high: None,
            e_fail: finite_exp(self.log_evidence()),
            e_pass: 0.0,
            canary: self.canary,
            baseline: ArmCounts::new(0.0, 0.0),
            tally: self.tally,
            decided_at: self.tripped_at,
            effect: None,
        }
    }
}

fn undecided(look: Look) -> Verdict {
    match look {
        Look::Interim => Verdict::Continue,
        Look::Final => Verdict::Inconclusive,
    }
}

/// The health-check guardrail: any failed check fails the gate at once; missing checks
/// make it blind.
#[derive(Clone, Debug, Default)]
pub struct HealthGuardrail {
    tally: Tally,
    last_missing: bool,
    down_at: Option<usize>,
}

impl HealthGuardrail {
    /// A fresh guardrail.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed one interval's health check: `Some(true)` up, `Some(false)` down, `None`
    /// unknown.
    pub fn observe(&mut self, healthy: Option<bool>) {
        self.tally.elapsed += 1;
        match healthy {
            Some(up) => {
                self.tally.usable += 1;
                self.last_missing = false;
                if !up && self.down_at.is_none() {
                    self.down_at = Some(self.tally.elapsed);
                }
            }
            None => {
                self.tally.missing += 1;
                self.last_missing = true;
            }
        }
    }

    /// True once a check has failed (cheap).
    #[must_use]
    pub fn tripped(&self) -> bool {
        self.down_at.is_some()
    }

    /// The verdict alone (cheap).
    #[must_use]
    pub fn verdict(&self, look: Look) -> Verdict {
        if self.down_at.is_some() {
            Verdict::Fail
        } else if self.tally.usable == 0 || self.last_missing {
            undecided(look)
        } else {
            Verdict::Pass
        }
    }

    /// The decision for `metric` at this look.
    #[must_use]
    pub fn decide(&self, metric: &str, look: Look) -> MetricDecision {
        let (verdict, reason) = if let Some(at) = self.down_at {
            (
                Verdict::Fail,
                Reason::Guardrail {
                    detail: format!("health check down at interval `{at}`"),
                },
            )
        } else if self.tally.usable == 0 {
            (undecided(look), Reason::Blind(Blindness::NoSeries))
        } else if self.last_missing {
            (
                undecided(look),
                Reason::Blind(Blindness::LatestIntervalMissing),
            )
        } else {
            (Verdict::Pass, Reason::Holding)
        };
        MetricDecision {
            metric: metric.to_owned(),
            kind: MetricKind::Guardrail,
            verdict,
            reason,
            estimate: None,
            ci_low: 0.0,
            ci_high: None,
            e_fail: 0.0,
            e_pass: 0.0,
            canary: ArmCounts::new(0.0, 0.0),
            baseline: ArmCounts::new(0.0, 0.0),
            tally: self.tally,
            decided_at: self.down_at,
            effect: None,
        }
    }
}

/// Both arms' cumulative bucket increments for one interval.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HistogramInterval {
    /// Canary buckets (`None` when missing).
    pub canary: Option<Vec<Bucket>>,
    /// Baseline buckets.
    pub baseline: Option<Vec<Bucket>>,
}

/// The latency judge's settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LatencyConfig {
    /// The count test on exceedances.
    pub ratio: RatioConfig,
    /// The bucket bound (seconds) above which a request is "slow": the bound nearest the
    /// baseline p95 from a window before the canary ([`crate::threshold_near_quantile`]),
    /// or an SLO. It must be one of the histogram's bounds.
    pub threshold: f64,
    /// Quantile reported as effect size (0.95).
    pub effect_quantile: f64,
}

impl LatencyConfig {
    /// Exceedance defaults ([`RatioConfig::latency_exceedance`]) at `threshold`, p95 effect.
    #[must_use]
    pub fn new(threshold: f64) -> Self {
        Self {
            ratio: RatioConfig::latency_exceedance(),
            threshold,
            effect_quantile: 0.95,
        }
    }
}

/// Latency: the count test on requests slower than the threshold bucket, with
/// `histogram_quantile` of both arms over the window as effect size only.
///
/// An arm whose buckets lack the threshold bound counts as missing for that interval.
#[derive(Clone, Debug)]
pub struct LatencyJudge {
    config: LatencyConfig,
    test: RatioTest,
    canary_sum: Option<Vec<Bucket>>,
    baseline_sum: Option<Vec<Bucket>>,
}

impl LatencyJudge {
    /// A fresh judge.
    pub fn new(config: LatencyConfig) -> Result<Self> {
        check_range(
            "threshold",
            config.threshold,
            config.threshold.is_finite() && config.threshold > 0.0,
            "a positive bucket bound",
        )?;
        check_range(
            "effect_quantile",
            config.effect_quantile,
            (0.0..=1.0).contains(&config.effect_quantile),
            "in [0, 1]",
        )?;
        Ok(Self {
            test: RatioTest::new(config.ratio.clone())?,
            config,
            canary_sum: None,
            baseline_sum: None,
        })
    }

    /// Feed one interval.
    pub fn observe(&mut self, interval: &HistogramInterval) {
        self.observe_buckets(interval.canary.as_deref(), interval.baseline.as_deref());
    }

    /// Feed one interval from borrowed buckets.
    pub fn observe_buckets(&mut self, canary: Option<&[Bucket]>, baseline: Option<&[Bucket]>) {
        let t = self.config.threshold;
        let c = canary.and_then(|b| exceedances(b, t));
        let b = baseline.and_then(|b| exceedances(b, t));
        self.test.observe(&CountInterval {
            canary: c,
            baseline: b,
        });
        if c.is_some() && b.is_some() {
            accumulate(&mut self.canary_sum, canary);
            accumulate(&mut self.baseline_sum, baseline);
        }
    }

    /// The underlying count test.
    #[must_use]
    pub fn test(&self) -> &RatioTest {
        &self.test
    }

    /// The decision, with the quantile effect size.
    #[must_use]
    pub fn decide(&self, metric: &str, look: Look) -> MetricDecision {
        let mut d = self.test.decide(metric, look);
        if let (Some(c), Some(b)) = (&self.canary_sum, &self.baseline_sum) {
            let q = self.config.effect_quantile;
            let (canary, baseline) = (histogram_quantile(q, c), histogram_quantile(q, b));
            if canary.is_finite() && baseline.is_finite() && baseline > 0.0 {
                d.effect = Some(QuantileEffect {
                    q,
                    canary,
                    baseline,
                    ratio: canary / baseline,
                });
            }
        }
        d
    }
}

fn accumulate(sum: &mut Option<Vec<Bucket>>, add: Option<&[Bucket]>) {
    let Some(add) = add else { return };
    *sum = match sum.take() {
        None => Some(add.to_vec()),
        // A layout change (new bucket bounds) keeps the older sum rather than mixing.
        Some(s) => Some(sum_buckets(&s, add).unwrap_or(s)),
    };
}

/// Which direction of a gauge is bad.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Worse {
    /// Higher values are worse (latency, CPU, memory, benchmark time).
    Higher,
    /// Lower values are worse (throughput, cache hit rate).
    Lower,
}

/// Settings for a gauge-like series (benchmark results, per-interval values).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct GaugeConfig {
    /// Harmful at or beyond this ratio of locations (in the bad direction).
    pub tolerance: f64,
    /// Harmless up to `1 + margin` (in the bad direction).
    pub margin: f64,
    /// Confidence level of the Hodges-Lehmann interval (Kayenta's 0.98).
    pub confidence: f64,
    /// Which direction is bad.
    pub worse: Worse,
    /// Values each arm needs before any verdict.
    pub min_values: usize,
}

impl Default for GaugeConfig {
    /// Higher is worse, harmless up to 1.05×, harmful from 1.25×, 98 %, 5 values per arm.
    fn default() -> Self {
        Self {
            tolerance: 1.25,
            margin: 0.05,
            confidence: 0.98,
            worse: Worse::Higher,
            min_values: 5,
        }
    }
}

/// A gauge judged once, at the final look: the Hodges-Lehmann interval of the shift of
/// `ln(value)` (so a ratio of locations) from [`mann_whitney`]. It is a fixed-sample test:
/// interim looks say [`Verdict::Continue`]. Values must be positive.
#[derive(Clone, Debug)]
pub struct GaugeJudge {
    config: GaugeConfig,
    canary: Vec<f64>,
    baseline: Vec<f64>,
    tally: Tally,
}

impl GaugeJudge {
    /// A fresh judge.
    pub fn new(config: GaugeConfig) -> Result<Self> {
        check_range(
            "tolerance",
            config.tolerance,
            config.tolerance > 1.0 && config.tolerance.is_finite(),
            "above 1",
        )?;
        check_range(
            "margin",
            config.margin,
            config.margin >= 0.0,
            "zero or more",
        )?;
        if 1.0 + config.margin >= config.tolerance {
            return Err(CanaryError::EmptyIndifferenceZone {
                margin: config.margin,
                fail_above: 1.0 + config.margin,
                tolerance: config.tolerance,
            });
        }
        if !(config.confidence > 0.0 && config.confidence < 1.0) {
            return Err(CanaryError::ConfidenceLevel(config.confidence));
        }
        Ok(Self {
            config,
            canary: Vec::new(),
            baseline: Vec::new(),
            tally: Tally::default(),
        })
    }

    /// Feed one interval's values (`None` when missing; NaN counts as missing).
    pub fn observe(&mut self, canary: Option<f64>, baseline: Option<f64>) {
        self.tally.elapsed += 1;
        let c = canary.filter(|v| v.is_finite());
        let b = baseline.filter(|v| v.is_finite());
        if c.is_none() || b.is_none() {
            self.tally.missing += 1;
        } else {
            self.tally.usable += 1;
        }
        self.canary.extend(c);
        self.baseline.extend(b);
    }

    /// The decision at this look.
    #[must_use]
    pub fn decide(&self, metric: &str, look: Look) -> MetricDecision {
        let mut d = MetricDecision {
            metric: metric.to_owned(),
            kind: MetricKind::Gauge,
            verdict: undecided(look),
            reason: Reason::Undecided {
                ci_low: 0.0,
                ci_high: None,
            },
            estimate: None,
            ci_low: 0.0,
            ci_high: None,
            e_fail: 0.0,
            e_pass: 0.0,
            canary: ArmCounts::new(self.canary.len() as f64, 0.0),
            baseline: ArmCounts::new(self.baseline.len() as f64, 0.0),
            tally: self.tally,
            decided_at: None,
            effect: None,
        };
        let min = self.config.min_values as f64;
        for (arm, values) in [(Arm::Canary, &self.canary), (Arm::Baseline, &self.baseline)] {
            if (values.len() as f64) < min.max(1.0) {
                d.reason = Reason::Blind(Blindness::TooFewRequests {
                    arm,
                    requests: values.len() as f64,
                    min_requests: min,
                });
                return d;
            }
            if let Some(&value) = values.iter().find(|v| **v <= 0.0) {
                d.reason = Reason::Blind(Blindness::NonPositiveValue { arm, value });
                return d;
            }
        }
        if look == Look::Interim {
            return d;
        }
        let logs = |v: &[f64]| v.iter().map(|x| x.ln()).collect::<Vec<_>>();
        let shift = match mann_whitney(
            &logs(&self.canary),
            &logs(&self.baseline),
            self.config.confidence,
        ) {
            Ok(s) => s,
            Err(_) => {
                // Every value tied: no difference at all.
                crate::kayenta::ShiftEstimate {
                    ci_low: 0.0,
                    ci_high: 0.0,
                    estimate: 0.0,
                }
            }
        };
        // Express as "ratio in the bad direction".
        let (lo, hi, est) = match self.config.worse {
            Worse::Higher => (
                shift.ci_low.exp(),
                shift.ci_high.exp(),
                shift.estimate.exp(),
            ),
            Worse::Lower => (
                (-shift.ci_high).exp(),
                (-shift.ci_low).exp(),
                (-shift.estimate).exp(),
            ),
        };
        d.estimate = Some(est);
        d.ci_low = lo;
        d.ci_high = Some(hi);
        d.decided_at = Some(self.tally.elapsed);
        if lo > 1.0 + self.config.margin {
            d.verdict = Verdict::Fail;
            d.reason = Reason::Regression {
                ci_low: lo,
                fail_above: 1.0 + self.config.margin,
            };
        } else if hi < self.config.tolerance {
            d.verdict = Verdict::Pass;
            d.reason = Reason::WithinTolerance {
                ci_high: hi,
                tolerance: self.config.tolerance,
            };
        } else {
            d.verdict = Verdict::Inconclusive;
            d.decided_at = None;
            d.reason = Reason::Undecided {
                ci_low: lo,
                ci_high: Some(hi),
            };
        }
        d
    }
}

/// The gate's decision: the combined verdict and every metric's decision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GateDecision {
    /// The combined verdict.
    pub verdict: Verdict,
    /// One line for humans: the verdict and the metrics that drove it.
    pub summary: String,
    /// Metrics that failed.
    pub failed: Vec<String>,
    /// Metrics that cannot see (missing data, no series, too few requests).
    pub blind: Vec<String>,
    /// Every metric's decision, in input order.
    pub metrics: Vec<MetricDecision>,
}

/// Combine metric decisions: any FAIL → FAIL; all PASS → PASS; otherwise CONTINUE, or
/// INCONCLUSIVE at the final look. No metrics at all is INCONCLUSIVE (fail closed).
///
/// ```
/// use hub_canary::{combine, judge_counts, ArmCounts, CountInterval, Look, RatioConfig, Verdict};
/// let blind = judge_counts("http-5xx", RatioConfig::error_rate(), &[CountInterval::default()], Look::Final)?;
/// let gate = combine(vec![blind], Look::Final);
/// assert_eq!(gate.verdict, Verdict::Inconclusive);
/// assert_eq!(gate.blind, vec!["http-5xx".to_owned()]);
/// # Ok::<(), hub_canary::CanaryError>(())
/// ```
#[must_use]
pub fn combine(metrics: Vec<MetricDecision>, look: Look) -> GateDecision {
    let failed: Vec<String> = metrics
        .iter()
        .filter(|m| m.verdict == Verdict::Fail)
        .map(|m| m.metric.clone())
        .collect();
    let blind: Vec<String> = metrics
        .iter()
        .filter(|m| m.verdict != Verdict::Fail && matches!(m.reason, Reason::Blind(_)))
        .map(|m| m.metric.clone())
        .collect();
    let verdict = if !failed.is_empty() {
        Verdict::Fail
    } else if !metrics.is_empty() && metrics.iter().all(|m| m.verdict == Verdict::Pass) {
        Verdict::Pass
    } else {
        undecided(look)
    };
    let mut summary = verdict.to_string();
    if metrics.is_empty() {
        summary.push_str(": no metrics to judge");
    }
    for m in &metrics {
        let relevant = match verdict {
            Verdict::Fail => m.verdict == Verdict::Fail,
            Verdict::Pass => false,
            _ => m.verdict != Verdict::Pass,
        };
        if relevant {
            let _ = write!(summary, "; {}: {}", m.metric, m.reason);
        }
    }
    GateDecision {
        verdict,
        summary,
        failed,
        blind,
        metrics,
    }
}

/// One arm's increments for one interval, as the shell reads them from Prometheus.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ArmSample {
    /// Requests (`None` when the series had no sample).
    pub requests: Option<f64>,
    /// 5xx responses.
    pub errors: Option<f64>,
    /// Latency histogram bucket increments.
    pub buckets: Option<Vec<Bucket>>,
}

/// Everything the standard gate reads for one interval.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GateInterval {
    /// The canary arm.
    pub canary: ArmSample,
    /// The baseline arm.
    pub baseline: ArmSample,
    /// The canary's health check (`None` when not checked or unknown).
    pub health: Option<bool>,
}

/// The standard gate: error rate, latency, an absolute error-rate guardrail and a health
/// check; each part optional.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GateConfig {
    /// The error-rate count test.
    pub errors: Option<RatioConfig>,
    /// The latency exceedance test.
    pub latency: Option<LatencyConfig>,
    /// The absolute error-rate guardrail.
    pub max_error_rate: Option<RateGuardrailConfig>,
    /// Whether health checks are judged.
    pub health_check: bool,
    /// Keep watching after a PASS: [`Gate::status`] says [`Verdict::Continue`] until the
    /// caller's last look, so a regression that starts later can still fail the gate
    /// (pair it with [`GateConfig::watching`], which turns on change detection).
    #[serde(default)]
    pub watch: bool,
}

impl GateConfig {
    /// All four parts with defaults; latency slow above `latency_threshold` seconds.
    #[must_use]
    pub fn standard(latency_threshold: f64) -> Self {
        Self {
            errors: Some(RatioConfig::error_rate()),
            latency: Some(LatencyConfig::new(latency_threshold)),
            max_error_rate: Some(RateGuardrailConfig::default()),
            health_check: true,
            watch: false,
        }
    }

    /// This gate watching until its last look (`horizon` intervals): PASS becomes
    /// provisional and both count tests become e-detectors ([`ChangeDetection::over`]),
    /// so a regression that starts after the canary looked healthy still fails it, with
    /// the same false-alarm bounds.
    #[must_use]
    pub fn watching(mut self, horizon: usize) -> Self {
        let detection = Some(ChangeDetection::over(horizon.max(2)));
        if let Some(c) = &mut self.errors {
            c.change_detection = detection;
        }
        if let Some(l) = &mut self.latency {
            l.ratio.change_detection = detection;
        }
        self.watch = true;
        self
    }
}

/// Metric names the standard gate reports under.
pub mod names {
    /// The error-rate count test.
    pub const ERROR_RATE: &str = "error-rate";
    /// The latency exceedance test.
    pub const LATENCY: &str = "latency";
    /// The absolute error-rate guardrail.
    pub const MAX_ERROR_RATE: &str = "max-error-rate";
    /// The health check.
    pub const HEALTH: &str = "health-check";
}

/// The standard gate, fed one [`GateInterval`] per interval.
///
/// ```
/// use hub_canary::{ArmSample, Bucket, Gate, GateConfig, GateInterval, Look, Verdict};
/// let buckets = |slow: f64| vec![Bucket { le: 0.25, count: 600.0 - slow }, Bucket { le: f64::INFINITY, count: 600.0 }];
/// let arm = |errors: f64, slow: f64| ArmSample { requests: Some(600.0), errors: Some(errors), buckets: Some(buckets(slow)) };
/// let mut gate = Gate::new(GateConfig::standard(0.25))?;
/// for _ in 0..5 {
///     gate.observe(&GateInterval { canary: arm(1.0, 90.0), baseline: arm(1.0, 30.0), health: Some(true) });
/// }
/// let decision = gate.decide(Look::Interim);
/// assert_eq!(decision.verdict, Verdict::Fail);
/// assert_eq!(decision.failed, vec!["latency".to_owned()]);
/// # Ok::<(), hub_canary::CanaryError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Gate {
    errors: Option<RatioTest>,
    latency: Option<LatencyJudge>,
    guardrail: Option<RateGuardrail>,
    health: Option<HealthGuardrail>,
    watch: bool,
}

fn counts(requests: Option<f64>, bad: Option<f64>) -> Option<ArmCounts> {
    Some(ArmCounts::new(requests?, bad?))
}

impl Gate {
    /// A fresh gate.
    pub fn new(config: GateConfig) -> Result<Self> {
        Ok(Self {
            errors: config.errors.map(RatioTest::new).transpose()?,
            latency: config.latency.map(LatencyJudge::new).transpose()?,
            guardrail: config.max_error_rate.map(RateGuardrail::new).transpose()?,
            health: config.health_check.then(HealthGuardrail::new),
            watch: config.watch,
        })
    }

    /// Feed one interval.
    pub fn observe(&mut self, interval: &GateInterval) {
        let c = &interval.canary;
        let b = &interval.baseline;
        if let Some(t) = &mut self.errors {
            t.observe(&CountInterval {
                canary: counts(c.requests, c.errors),
                baseline: counts(b.requests, b.errors),
            });
        }
        if let Some(l) = &mut self.latency {
            l.observe_buckets(c.buckets.as_deref(), b.buckets.as_deref());
        }
        if let Some(g) = &mut self.guardrail {
            g.observe(counts(c.requests, c.errors));
        }
        if let Some(h) = &mut self.health {
            h.observe(interval.health);
        }
    }

    /// The combined verdict at an interim look, cheaply (no confidence bounds, no
    /// reasons). Agrees with `decide(Look::Interim).verdict`.
    #[must_use]
    pub fn status(&self) -> Verdict {
        let mut verdicts = Vec::with_capacity(4);
        if let Some(t) = &self.errors {
            verdicts.push(t.status().verdict);
        }
        if let Some(l) = &self.latency {
            verdicts.push(l.test().status().verdict);
        }
        if let Some(g) = &self.guardrail {
            verdicts.push(if g.tripped() {
                Verdict::Fail
            } else {
                g.decide("", Look::Interim).verdict
            });
        }
        if let Some(h) = &self.health {
            verdicts.push(if h.tripped() {
                Verdict::Fail
            } else {
                h.decide("", Look::Interim).verdict
            });
        }
        if verdicts.contains(&Verdict::Fail) {
            Verdict::Fail
        } else if !self.watch
            && !verdicts.is_empty()
            && verdicts.iter().all(|v| *v == Verdict::Pass)
        {
            Verdict::Pass
        } else {
            Verdict::Continue
        }
    }

    /// Every metric's decision, combined.
    #[must_use]
    pub fn decide(&self, look: Look) -> GateDecision {
        let mut metrics = Vec::with_capacity(4);
        if let Some(t) = &self.errors {
            metrics.push(t.decide(names::ERROR_RATE, look));
        }
        if let Some(l) = &self.latency {
            metrics.push(l.decide(names::LATENCY, look));
        }
        if let Some(g) = &self.guardrail {
            metrics.push(g.decide(names::MAX_ERROR_RATE, look));
        }
        if let Some(h) = &self.health {
            metrics.push(h.decide(names::HEALTH, look));
        }
        combine(metrics, look)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arm(requests: f64, errors: f64, slow: f64) -> ArmSample {
        ArmSample {
            requests: Some(requests),
            errors: Some(errors),
            buckets: Some(vec![
                Bucket {
                    le: 0.1,
                    count: (requests - slow) * 0.5,
                },
                Bucket {
                    le: 0.25,
                    count: requests - slow,
                },
                Bucket {
                    le: f64::INFINITY,
                    count: requests,
                },
            ]),
        }
    }

    /// Run the standard gate over `intervals` and render its decision.
    fn check(intervals: &[GateInterval], look: Look) -> String {
        let mut gate = Gate::new(GateConfig::standard(0.25)).expect("valid");
        for i in intervals {
            gate.observe(i);
            assert!(
                gate.status() == gate.decide(Look::Interim).verdict,
                "status agrees with decide"
            );
        }
        let d = gate.decide(look);
        let mut out = d.summary.clone();
        for m in &d.metrics {
            let _ = write!(out, "\n  {} {} at {:?}", m.metric, m.verdict, m.decided_at);
            if let Some(e) = m.effect {
                let _ = write!(
                    out,
                    " p{} {:.3}s vs {:.3}s",
                    e.q * 100.0,
                    e.canary,
                    e.baseline
                );
            }
        }
        out
    }

    fn steady(n: usize, canary: ArmSample, baseline: ArmSample) -> Vec<GateInterval> {
        vec![
            GateInterval {
                canary,
                baseline,
                health: Some(true)
            };
            n
        ]
    }

    #[test]
    fn healthy_canary_passes_once_both_metrics_have_evidence() {
        insta::assert_snapshot!(check(&steady(45, arm(600.0, 1.2, 20.0), arm(600.0, 1.2, 20.0)), Look::Final), @"
        pass
          error-rate pass at Some(28)
          latency pass at Some(20) p95 0.245s vs 0.245s
          max-error-rate pass at None
          health-check pass at None
        ");
    }

    #[test]
    fn gross_error_rate_trips_the_guardrail_in_the_first_interval() {
        insta::assert_snapshot!(check(&steady(1, arm(600.0, 60.0, 20.0), arm(600.0, 1.0, 20.0)), Look::Interim), @"
        fail; error-rate: regression: the ratio is at least `6.14`, above the margin `1.05`; max-error-rate: guardrail breached: the canary's rate is at least `6.257` %, above the limit `1` %
          error-rate fail at Some(1)
          latency continue at None p95 0.245s vs 0.245s
          max-error-rate fail at Some(1)
          health-check pass at None
        ");
    }

    #[test]
    fn health_check_down_fails_at_once() {
        let mut data = steady(3, arm(600.0, 1.0, 20.0), arm(600.0, 1.0, 20.0));
        data[2].health = Some(false);
        insta::assert_snapshot!(check(&data, Look::Interim), @"
        fail; health-check: guardrail breached: health check down at interval `3`
          error-rate continue at None
          latency continue at None p95 0.245s vs 0.245s
          max-error-rate pass at None
          health-check fail at Some(3)
        ");
    }

    #[test]
    fn missing_canary_series_is_inconclusive_and_names_the_blind_metrics() {
        let blind = GateInterval {
            canary: ArmSample::default(),
            baseline: arm(600.0, 1.0, 20.0),
            health: None,
        };
        insta::assert_snapshot!(check(&vec![blind; 60], Look::Final), @"
        inconclusive; error-rate: blind: no series: no interval had data for both arms; latency: blind: no series: no interval had data for both arms; max-error-rate: blind: no series: no interval had data for both arms; health-check: blind: no series: no interval had data for both arms
          error-rate inconclusive at None
          latency inconclusive at None
          max-error-rate inconclusive at None
          health-check inconclusive at None
        ");
    }

    #[test]
    fn gauge_judge_on_benchmark_results() {
        let mut g = GaugeJudge::new(GaugeConfig::default()).expect("valid");
        for i in 0..10 {
            let jitter = f64::from(i % 3) * 0.01;
            g.observe(Some(1.40 + jitter), Some(1.00 + jitter));
        }
        assert_eq!(g.decide("bench", Look::Interim).verdict, Verdict::Continue);
        let d = g.decide("bench", Look::Final);
        insta::assert_snapshot!(format!("{} | {}", d.verdict, d.reason), @"fail | regression: the ratio is at least `1.38`, above the margin `1.05`");
        let mut same = GaugeJudge::new(GaugeConfig::default()).expect("valid");
        for i in 0..10 {
            same.observe(
                Some(1.0 + f64::from(i) * 0.001),
                Some(1.0 + f64::from(9 - i) * 0.001),
            );
        }
        let d = same.decide("bench", Look::Final);
        let mut zero = GaugeJudge::new(GaugeConfig::default()).expect("valid");
        for _ in 0..5 {
            zero.observe(Some(0.0), Some(1.0));
        }
        assert_eq!(
            zero.decide("bench", Look::Final).reason.to_string(),
            "blind: unusable data: canary value `0` is not positive"
        );
        insta::assert_snapshot!(format!("{} | {}", d.verdict, d.reason), @"pass | within tolerance: the ratio is at most `1`, below `1.25`");
    }

    #[test]
    fn the_report_serialises_to_json() {
        let mut gate = Gate::new(GateConfig::standard(0.25)).expect("valid");
        for _ in 0..3 {
            gate.observe(&GateInterval {
                canary: arm(600.0, 6.0, 20.0),
                baseline: arm(600.0, 1.0, 20.0),
                health: Some(true),
            });
        }
        let mut report = gate.decide(Look::Interim);
        report.metrics.truncate(1);
        insta::assert_json_snapshot!(report, @r#"
        {
          "verdict": "continue",
          "summary": "continue; error-rate: undecided: the ratio is at least `1.03`, no upper bound yet; latency: undecided: the ratio is between `0.528` and `1.68`",
          "failed": [],
          "blind": [],
          "metrics": [
            {
              "metric": "error-rate",
              "kind": "ratio",
              "verdict": "continue",
              "reason": {
                "kind": "undecided",
                "ci_low": 1.0250717932997087,
                "ci_high": null
              },
              "estimate": 6.000000000032739,
              "ci_low": 1.0250717932997087,
              "ci_high": null,
              "e_fail": 83.76714333451942,
              "e_pass": 0.0919937750359352,
              "canary": {
                "requests": 1800.0,
                "bad": 18.0
              },
              "baseline": {
                "requests": 1800.0,
                "bad": 3.0
              },
              "tally": {
                "elapsed": 3,
                "usable": 3,
                "missing": 0,
                "invalid": 0,
                "zero_canary_traffic": 0,
                "zero_baseline_traffic": 0
              },
              "decided_at": null,
              "effect": null
            }
          ]
        }
        "#);
    }

    #[test]
    fn no_metrics_is_inconclusive() {
        assert_eq!(
            combine(Vec::new(), Look::Final).summary,
            "inconclusive: no metrics to judge"
        );
    }
}
