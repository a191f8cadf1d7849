//! Kayenta's descriptive statistics and effect sizes (Apache Commons Math semantics).

use super::mannwhitney::average_ranks;
use serde::{Deserialize, Serialize};

/// Mean with Commons Math's correction pass: `m + Σ(x − m)/n` with `m = Σx/n`.
/// NaN for an empty slice.
#[must_use]
pub fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let n = values.len() as f64;
    let m = values.iter().sum::<f64>() / n;
    m + values.iter().map(|x| x - m).sum::<f64>() / n
}

/// Bias-corrected sample variance by the corrected two-pass formula; 0 for one value,
/// NaN for none.
#[must_use]
pub fn variance(values: &[f64]) -> f64 {
    match values.len() {
        0 => f64::NAN,
        1 => 0.0,
        n => {
            let m = mean(values);
            let (sq, s) = values.iter().fold((0.0, 0.0), |(sq, s), x| {
                let d = x - m;
                (sq + d * d, s + d)
            });
            let n = n as f64;
            (sq - s * s / n) / (n - 1.0)
        }
    }
}

/// Percentile `p` in `(0, 100]` by Hyndman-Fan type 7 (R's default, Commons Math
/// `EstimationType.R_7`). NaN for an empty slice or `p` outside `(0, 100]`.
///
/// ```
/// use hub_canary::kayenta::percentile_r7;
/// assert_eq!(percentile_r7(&[0.0, 1.0, 2.0, 3.0], 50.0), 1.5);
/// ```
#[must_use]
pub fn percentile_r7(values: &[f64], p: f64) -> f64 {
    if values.is_empty() || !(p > 0.0 && p <= 100.0) {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n == 1 {
        return sorted[0];
    }
    let q = p / 100.0;
    let pos = if q == 1.0 {
        n as f64
    } else {
        1.0 + (n as f64 - 1.0) * q
    };
    let fpos = pos.floor();
    let dif = pos - fpos;
    if pos < 1.0 {
        return sorted[0];
    }
    if pos >= n as f64 {
        return sorted[n - 1];
    }
    let i = fpos as usize;
    let lower = sorted[i - 1];
    let upper = sorted[i];
    lower + dif * (upper - lower)
}

/// Kayenta's `MetricStatistics`; all zeros for an empty sample.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation.
    pub std: f64,
    /// Number of values.
    pub count: usize,
}

/// Summary statistics as Kayenta reports them.
#[must_use]
pub fn summary(values: &[f64]) -> Summary {
    if values.is_empty() {
        return Summary {
            min: 0.0,
            max: 0.0,
            mean: 0.0,
            std: 0.0,
            count: 0,
        };
    }
    Summary {
        min: values.iter().copied().fold(f64::INFINITY, f64::min),
        max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        mean: mean(values),
        std: variance(values).sqrt(),
        count: values.len(),
    }
}

/// `mean(canary) / mean(baseline)`; NaN when either mean is 0.
#[must_use]
pub fn mean_ratio(baseline: &[f64], canary: &[f64]) -> f64 {
    let b = mean(baseline);
    let c = mean(canary);
    if b == 0.0 || c == 0.0 {
        f64::NAN
    } else {
        c / b
    }
}

/// Cohen's d with the pooled sample standard deviation (absolute value).
#[must_use]
pub fn cohen_d(baseline: &[f64], canary: &[f64]) -> f64 {
    let b = summary(baseline);
    let c = summary(canary);
    let pooled = (((c.count as f64 - 1.0) * c.std.powi(2)
        + (b.count as f64 - 1.0) * b.std.powi(2))
        / (b.count as f64 + c.count as f64 - 2.0))
        .sqrt();
    (c.mean - b.mean).abs() / pooled
}

/// Common-language effect size: the share of (canary, baseline) pairs where the canary is
/// higher, ties counting half — `(2·R₁ − m(m+1)) / (2nm)` with `R₁` the canary rank sum.
#[must_use]
pub fn cles(baseline: &[f64], canary: &[f64]) -> f64 {
    let m = canary.len();
    let n = baseline.len();
    let mut all = canary.to_vec();
    all.extend_from_slice(baseline);
    let ranks = average_ranks(&all);
    let r1: f64 = ranks[..m].iter().sum();
    (2.0 * r1 - (m * (m + 1)) as f64) / (2 * n * m) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(values: &[f64]) -> String {
        let s = summary(values);
        format!(
            "min {} max {} mean {} std {:.6} n {} | p50 {} p90 {}",
            s.min,
            s.max,
            s.mean,
            s.std,
            s.count,
            percentile_r7(values, 50.0),
            percentile_r7(values, 90.0)
        )
    }

    #[test]
    fn summaries() {
        insta::assert_snapshot!(check(&[1.0, 2.0, 3.0, 4.0, 10.0]), @"min 1 max 10 mean 4 std 3.535534 n 5 | p50 3 p90 7.599999999999998");
        insta::assert_snapshot!(check(&[]), @"min 0 max 0 mean 0 std 0.000000 n 0 | p50 NaN p90 NaN");
    }
}
