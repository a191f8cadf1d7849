//! A Kayenta-compatible judge for users migrating from Spinnaker.
//!
//! It reproduces Kayenta's `NetflixACAJudge` building blocks: the Mann-Whitney classifier
//! (Hodges-Lehmann estimate and confidence interval on R's asymptotic `wilcox.test` path),
//! the mean-inequality classifier, the descriptive statistics and effect sizes, and the
//! `WeightedSumScorer`. Every case of Kayenta's own test suites (`peer-suites/kayenta/`)
//! is reproduced by this crate's tests.
//!
//! **What it assumes:** per-interval values (rates, latencies, gauges) from the two arms
//! are exchangeable samples that differ by at most a location shift; the classifier is a
//! fixed-sample test, valid for one look. **Its false-alarm rate** is about
//! `1 − conf_level` per metric *per look*: running it at 15/30/45/60 minutes (as a
//! Spinnaker canary with four intervals does) multiplies the chance of a false High.
//! Per-interval ratios of rare counts are mostly zeros and ties, which the test handles
//! but cannot see through: see the evaluation in [`crate::eval`]. **Minimum data:** one
//! value per arm; identical data or a single distinct value passes; when each arm is
//! constant, Gaussian noise of scale `value · 1e-5` is added (seeded here).

mod mannwhitney;
mod stats;

pub use mannwhitney::{
    Intermediates, ShiftEstimate, UNIROOT_MAX_ITER, UNIROOT_TOL, average_ranks, intermediates,
    mann_whitney, wilcoxon_diff,
};
pub use stats::{Summary, cles, cohen_d, mean, mean_ratio, percentile_r7, summary, variance};

use crate::error::Result;
use crate::rng::Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Kayenta's metric classification labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Classification {
    /// No significant difference (or one the thresholds ignore).
    Pass,
    /// The canary is significantly higher.
    High,
    /// The canary is significantly lower.
    Low,
    /// No data for an arm.
    Nodata,
    /// No data for a metric configured to require it.
    NodataFailMetric,
}

impl fmt::Display for Classification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Which change counts as a deviation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// Only an increase is High.
    Increase,
    /// Only a decrease is Low.
    Decrease,
    /// Both.
    Either,
}

/// What to do with NaN values (and, for empty data, which verdict to give).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NanStrategy {
    /// Drop NaNs; empty data is Nodata.
    Remove,
    /// Replace NaNs by 0; empty data passes.
    Replace,
}

/// The effect-size measure compared against the thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum EffectSizeMeasure {
    /// `mean(canary) / mean(baseline)`.
    MeanRatio,
    /// Common-language effect size.
    Cles,
}

/// Parameters of Kayenta's `MannWhitneyClassifier`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MannWhitneyParams {
    /// Bounds are `±tolerance · |estimate|`.
    pub tolerance: f64,
    /// Confidence level of the interval.
    pub conf_level: f64,
    /// `[low, high]`: Low needs effect size `<= low`, High needs `>= high`.
    pub effect_size_thresholds: (f64, f64),
    /// The same for a critical failure.
    pub critical_thresholds: (f64, f64),
    /// Effect-size measure.
    pub effect_size_measure: EffectSizeMeasure,
}

impl Default for MannWhitneyParams {
    /// Kayenta's defaults: tolerance 0.25, 95 %, thresholds (1, 1), mean ratio.
    fn default() -> Self {
        Self {
            tolerance: 0.25,
            conf_level: 0.95,
            effect_size_thresholds: (1.0, 1.0),
            critical_thresholds: (1.0, 1.0),
            effect_size_measure: EffectSizeMeasure::MeanRatio,
        }
    }
}

/// Per-metric options shared by both classifiers.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricOptions {
    /// Which deviations count.
    pub direction: Direction,
    /// NaN handling.
    pub nan_strategy: NanStrategy,
    /// A critical metric fails the whole canary.
    pub critical: bool,
    /// Missing data fails the metric (without being critical).
    pub data_required: bool,
}

impl Default for MetricOptions {
    fn default() -> Self {
        Self {
            direction: Direction::Either,
            nan_strategy: NanStrategy::Remove,
            critical: false,
            data_required: false,
        }
    }
}

/// A classification with Kayenta's extra fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricClassification {
    /// The label.
    pub classification: Classification,
    /// Human explanation, when Kayenta gives one.
    pub reason: Option<String>,
    /// Mean ratio canary/baseline (NaN when a mean is 0).
    pub deviation: f64,
    /// Whether this result fails the canary outright.
    pub critical: bool,
}

/// Kayenta's NaN preprocessing.
#[must_use]
pub fn handle_nans(values: &[f64], strategy: NanStrategy) -> Vec<f64> {
    match strategy {
        NanStrategy::Remove => values.iter().copied().filter(|v| !v.is_nan()).collect(),
        NanStrategy::Replace => values
            .iter()
            .map(|&v| if v.is_nan() { 0.0 } else { v })
            .collect(),
    }
}

fn missing_data(name: &str, options: &MetricOptions, with_reason: bool) -> MetricClassification {
    match options.nan_strategy {
        NanStrategy::Remove => {
            let reason = with_reason.then(|| format!("Missing data for {name}"));
            if options.data_required && !options.critical {
                MetricClassification {
                    classification: Classification::NodataFailMetric,
                    reason,
                    deviation: 1.0,
                    critical: false,
                }
            } else {
                MetricClassification {
                    classification: Classification::Nodata,
                    reason,
                    deviation: if with_reason { 1.0 } else { 0.0 },
                    critical: options.critical,
                }
            }
        }
        NanStrategy::Replace => MetricClassification {
            classification: Classification::Pass,
            reason: None,
            deviation: 1.0,
            critical: false,
        },
    }
}

fn add_noise(values: &[f64], rng: &mut Rng) -> Vec<f64> {
    let scale = values.first().copied().unwrap_or(0.0) * 1e-5;
    values.iter().map(|v| v + rng.normal() * scale).collect()
}

/// Kayenta's `MannWhitneyClassifier.classify` on NaN-preprocessed data (`name` is used in
/// reasons only). `rng` supplies the Gaussian noise Kayenta adds when both arms are
/// constant.
///
/// ```
/// use hub_canary::kayenta::{classify_mann_whitney, Classification, MannWhitneyParams, MetricOptions};
/// use hub_canary::Rng;
/// let params = MannWhitneyParams { tolerance: 0.1, ..MannWhitneyParams::default() };
/// let c = classify_mann_whitney(
///     "latency", &[1.0, 2.2, 1.1, 2.5, 3.0], &[20.0, 22.0, 21.0, 25.0, 30.0],
///     &params, &MetricOptions::default(), &mut Rng::seed(7),
/// )?;
/// assert_eq!(c.classification, Classification::High);
/// # Ok::<(), hub_canary::CanaryError>(())
/// ```
pub fn classify_mann_whitney(
    name: &str,
    baseline: &[f64],
    canary: &[f64],
    params: &MannWhitneyParams,
    options: &MetricOptions,
    rng: &mut Rng,
) -> Result<MetricClassification> {
    let baseline = handle_nans(baseline, options.nan_strategy);
    let canary = handle_nans(canary, options.nan_strategy);
    if canary.is_empty() || baseline.is_empty() {
        return Ok(missing_data(name, options, true));
    }
    let mut sorted_c = canary.clone();
    let mut sorted_b = baseline.clone();
    sorted_c.sort_by(f64::total_cmp);
    sorted_b.sort_by(f64::total_cmp);
    if sorted_c == sorted_b {
        return Ok(MetricClassification {
            classification: Classification::Pass,
            reason: Some("The canary and baseline data are identical".to_owned()),
            deviation: 1.0,
            critical: false,
        });
    }
    let mut distinct: Vec<f64> = sorted_c.iter().chain(&sorted_b).copied().collect();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();
    if distinct.len() == 1 {
        return Ok(MetricClassification {
            classification: Classification::Pass,
            reason: None,
            deviation: 1.0,
            critical: false,
        });
    }
    let constant = |s: &[f64]| s.first() == s.last();
    let (canary, baseline) = if constant(&sorted_c) && constant(&sorted_b) {
        (add_noise(&canary, rng), add_noise(&baseline, rng))
    } else {
        (canary, baseline)
    };
    let shift = mann_whitney(&canary, &baseline, params.conf_level)?;
    let deviation = mean_ratio(&baseline, &canary);
    let effect = match params.effect_size_measure {
        EffectSizeMeasure::Cles => cles(&baseline, &canary),
        EffectSizeMeasure::MeanRatio => deviation,
    };
    let bound = params.tolerance * shift.estimate.abs();
    let up = matches!(options.direction, Direction::Increase | Direction::Either);
    let down = matches!(options.direction, Direction::Decrease | Direction::Either);
    let is_high = up
        && shift.ci_low > bound
        && (effect.is_nan() || effect >= params.effect_size_thresholds.1);
    let is_low = down
        && shift.ci_high < -bound
        && (effect.is_nan() || effect <= params.effect_size_thresholds.0);
    let classification = if is_high {
        Classification::High
    } else if is_low {
        Classification::Low
    } else {
        Classification::Pass
    };
    let critical_high = options.critical
        && classification == Classification::High
        && (effect.is_nan() || effect >= params.critical_thresholds.1);
    let critical_low = options.critical
        && classification == Classification::Low
        && (effect.is_nan() || effect <= params.critical_thresholds.0);
    let critical = critical_high || critical_low;
    let reason = match (classification, critical) {
        (Classification::Pass, _) => None,
        (label, true) => Some(format!(
            "The metric {name} was classified as {label} (Critical)"
        )),
        (label, false) => Some(format!("{name} was classified as {label}")),
    };
    Ok(MetricClassification {
        classification,
        reason,
        deviation,
        critical,
    })
}

/// Kayenta's `MeanInequalityClassifier` (meant for benchmarks): High when the canary
/// mean is above the baseline mean, Low when below.
#[must_use]
pub fn classify_mean_inequality(
    baseline: &[f64],
    canary: &[f64],
    options: &MetricOptions,
) -> MetricClassification {
    let baseline = handle_nans(baseline, options.nan_strategy);
    let canary = handle_nans(canary, options.nan_strategy);
    if canary.is_empty() || baseline.is_empty() {
        return missing_data("", options, false);
    }
    let c = mean(&canary);
    let b = mean(&baseline);
    let ratio = c / b;
    let up = matches!(options.direction, Direction::Increase | Direction::Either);
    let down = matches!(options.direction, Direction::Decrease | Direction::Either);
    if up && c > b {
        MetricClassification {
            classification: Classification::High,
            reason: Some("The canary mean was greater than the baseline mean".to_owned()),
            deviation: ratio,
            critical: options.critical,
        }
    } else if down && c < b {
        MetricClassification {
            classification: Classification::Low,
            reason: Some("The canary mean was less than the baseline mean".to_owned()),
            deviation: ratio,
            critical: options.critical,
        }
    } else {
        MetricClassification {
            classification: Classification::Pass,
            reason: None,
            deviation: 1.0,
            critical: false,
        }
    }
}

/// One metric's result as the scorer sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoredMetric {
    /// Metric name.
    pub name: String,
    /// Its classification.
    pub classification: Classification,
    /// Groups it belongs to.
    pub groups: Vec<String>,
    /// Whether the metric is critical.
    pub critical: bool,
}

/// A group's score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupScore {
    /// Group name.
    pub name: String,
    /// `100 · pass / (pass + high + low + nodata-fail)`, 0 with none of those.
    pub score: f64,
    /// No metric of the group had a scorable label.
    pub no_data: bool,
}

/// The scorer's result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreResult {
    /// Group scores, sorted by group name.
    pub groups: Vec<GroupScore>,
    /// Weighted summary score, rounded half-up to two decimals; 0 on a critical failure
    /// or when 50 % or more of the metrics are Nodata.
    pub summary: f64,
    /// Why the score was forced to 0, if it was.
    pub reason: Option<String>,
}

/// Kayenta's `WeightedSumScorer`. Groups without a weight share `100 − Σ weights`
/// equally; a group without scorable metrics counts as 100 in the summary.
///
/// ```
/// use hub_canary::kayenta::{score, Classification, ScoredMetric};
/// use std::collections::BTreeMap;
/// let m = |c| ScoredMetric { name: "m".into(), classification: c, groups: vec!["g".into()], critical: false };
/// let r = score(&[m(Classification::Pass), m(Classification::High), m(Classification::Low)], &BTreeMap::new());
/// assert_eq!(r.summary, 33.33);
/// ```
#[must_use]
pub fn score(results: &[ScoredMetric], weights: &BTreeMap<String, f64>) -> ScoreResult {
    let mut labels: BTreeMap<&str, Vec<Classification>> = BTreeMap::new();
    for r in results {
        for g in &r.groups {
            labels.entry(g.as_str()).or_default().push(r.classification);
        }
    }
    let groups: Vec<GroupScore> = labels
        .iter()
        .map(|(name, ls)| {
            let count = |c: Classification| ls.iter().filter(|&&l| l == c).count();
            let pass = count(Classification::Pass);
            let total = pass
                + count(Classification::High)
                + count(Classification::Low)
                + count(Classification::NodataFailMetric);
            let no_data = total == 0;
            let score = if no_data {
                0.0
            } else {
                pass as f64 / total as f64 * 100.0
            };
            GroupScore {
                name: (*name).to_owned(),
                score,
                no_data,
            }
        })
        .collect();
    if let Some(failure) = results
        .iter()
        .find(|r| r.critical && r.classification != Classification::Pass)
    {
        return ScoreResult {
            groups,
            summary: 0.0,
            reason: Some(format!(
                "Canary Failed: {} was classified as {}",
                failure.name, failure.classification
            )),
        };
    }
    let nodata = results
        .iter()
        .filter(|r| r.classification == Classification::Nodata)
        .count();
    if !results.is_empty() && nodata as f64 / results.len() as f64 * 100.0 >= 50.0 {
        return ScoreResult {
            groups,
            summary: 0.0,
            reason: Some("Canary Failed: 50% or more metrics returned NODATA".to_owned()),
        };
    }
    let weight_sum: f64 = weights.values().sum();
    let unweighted = groups
        .iter()
        .filter(|g| !weights.contains_key(&g.name))
        .count();
    let share = if unweighted > 0 {
        (100.0 - weight_sum) / unweighted as f64
    } else {
        0.0
    };
    let summary: f64 = groups
        .iter()
        .map(|g| {
            let effective = if g.no_data { 100.0 } else { g.score };
            effective * (weights.get(&g.name).copied().unwrap_or(share) / 100.0)
        })
        .sum();
    ScoreResult {
        groups,
        summary: round_half_up(summary, 2),
        reason: None,
    }
}

/// Round like `new BigDecimal(Double.toString(x)).setScale(places, HALF_UP)`: on the
/// shortest decimal representation, so 1.005 rounds to 1.01.
#[must_use]
pub fn round_half_up(x: f64, places: u32) -> f64 {
    if !x.is_finite() {
        return x;
    }
    let text = format!("{}", x.abs());
    let (int_part, frac_part) = text.split_once('.').unwrap_or((&text, ""));
    let places = places as usize;
    if frac_part.len() <= places {
        return x;
    }
    let mut digits: Vec<u8> = int_part
        .bytes()
        .chain(frac_part.bytes().take(places))
        .map(|b| b - b'0')
        .collect();
    let round_up = frac_part.as_bytes()[places] >= b'5';
    if round_up {
        let mut i = digits.len();
        loop {
            if i == 0 {
                digits.insert(0, 1);
                break;
            }
            i -= 1;
            if digits[i] == 9 {
                digits[i] = 0;
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
    let value =
        digits.iter().fold(0.0, |acc, &d| acc * 10.0 + f64::from(d)) / 10f64.powi(places as i32);
    if x < 0.0 { -value } else { value }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(x: f64) -> String {
        format!("{}", round_half_up(x, 2))
    }

    #[test]
    fn rounding_is_half_up_on_the_decimal_text() {
        insta::assert_snapshot!(
            [1.005, 33.333_333_333_333_336, 2.675, -1.005, 99.995, 0.5, 12.0].map(check).join(" "),
            @"1.01 33.33 2.68 -1.01 100 0.5 12"
        );
    }
}
