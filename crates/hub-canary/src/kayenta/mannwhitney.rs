//! Mann-Whitney U with the Hodges-Lehmann estimate and confidence interval, on the
//! asymptotic path of R's `wilcox.test(x, y, conf.int = TRUE)` (two-sided, continuity
//! correction, tie correction in sigma), which is what Kayenta ports.
//!
//! For a shift `d`, R ranks `c(x − d, y)` with average ranks for ties and forms
//!
//! ```text
//! dz    = Σ rank(x_i − d) − nx(nx + 1)/2 − nx·ny/2
//! sigma = sqrt(nx·ny/12 · ((nx + ny + 1) − Σ(t³ − t) / ((nx + ny)(nx + ny − 1))))
//! wdiff(d, zq) = (dz − sign(dz)/2) / sigma − zq
//! ```
//!
//! where `t` runs over tie-group sizes. `wdiff` decreases in `d`; the interval ends are its
//! roots at `zq = ±z(1 − α/2)` and the estimate is the root at `zq = 0` (R turns the
//! continuity correction off for the estimate; Kayenta keeps it on, and so do we, because
//! the peer vectors are Kayenta's). Roots come from [`zeroin`] with `uniroot`'s tolerance
//! 1e-4 on `[min(x) − max(y), max(x) − min(y)]`; where `wdiff` is already past zero at an
//! end, that end is the bound.

use crate::error::{CanaryError, Result};
use crate::math::{normal_quantile, zeroin};
use serde::{Deserialize, Serialize};

/// Absolute tolerance of R's `uniroot` call in `wilcox.test`.
pub const UNIROOT_TOL: f64 = 1e-4;
/// Iteration cap of the root finder.
pub const UNIROOT_MAX_ITER: u32 = 1000;

/// Confidence interval and Hodges-Lehmann estimate of the location shift `x − y`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShiftEstimate {
    /// Lower end of the interval.
    pub ci_low: f64,
    /// Upper end of the interval.
    pub ci_high: f64,
    /// The estimate (root of the standardised statistic at zero).
    pub estimate: f64,
}

/// Average ranks (1-based) with NaN ranked above everything, as Apache Commons Math's
/// `NaturalRanking(NaNStrategy.MAXIMAL, TiesStrategy.AVERAGE)`.
#[must_use]
pub fn average_ranks(values: &[f64]) -> Vec<f64> {
    let key = |v: f64| if v.is_nan() { f64::INFINITY } else { v };
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| key(values[a]).total_cmp(&key(values[b])));
    let mut ranks = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i + 1;
        while j < order.len() && key(values[order[j]]) == key(values[order[i]]) {
            j += 1;
        }
        // Positions i..j (0-based) share the average of ranks i+1..=j.
        let avg = (i + 1 + j) as f64 / 2.0;
        for &idx in &order[i..j] {
            ranks[idx] = avg;
        }
        i = j;
    }
    ranks
}

/// The standardised Wilcoxon statistic at shift `mu` minus `zq` (R's `wdiff`).
pub fn wilcoxon_diff(mu: f64, zq: f64, x: &[f64], y: &[f64]) -> Result<f64> {
    let nx = x.len() as f64;
    let ny = y.len() as f64;
    let mut combined: Vec<f64> = x.iter().map(|v| v - mu).collect();
    combined.extend_from_slice(y);
    let ranks = average_ranks(&combined);
    let dz = ranks[..x.len()].iter().sum::<f64>() - nx * (nx + 1.0) / 2.0 - nx * ny / 2.0;
    // Tie groups share one average rank: Σ(t³ − t) over groups of equal ranks.
    let mut sorted = ranks.clone();
    sorted.sort_by(f64::total_cmp);
    let mut ties = 0.0;
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i + 1;
        while j < sorted.len() && sorted[j] == sorted[i] {
            j += 1;
        }
        let t = (j - i) as f64;
        ties += t * t * t - t;
        i = j;
    }
    let correction = if dz > 0.0 {
        0.5
    } else if dz < 0.0 {
        -0.5
    } else {
        0.0
    };
    let n = nx + ny;
    let sigma = ((nx * ny / 12.0) * ((n + 1.0) - ties / (n * (n - 1.0)))).sqrt();
    if sigma == 0.0 || sigma.is_nan() {
        return Err(CanaryError::AllTied {
            n: x.len() + y.len(),
        });
    }
    Ok((dz - correction) / sigma - zq)
}

/// Intermediate quantities of the interval computation, exposed for tie-out tests.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Intermediates {
    /// `min(x) − max(y)`.
    pub mu_min: f64,
    /// `max(x) − min(y)`.
    pub mu_max: f64,
    /// `z(1 − α/2)`, used for the lower end.
    pub zq_lower: f64,
    /// `−z(1 − α/2)`, used for the upper end.
    pub zq_upper: f64,
    /// `wdiff(mu_min, zq_lower)`.
    pub f_lower_1: f64,
    /// `wdiff(mu_max, zq_lower)`.
    pub f_upper_1: f64,
    /// `wdiff(mu_min, zq_upper)`.
    pub f_lower_2: f64,
    /// `wdiff(mu_max, zq_upper)`.
    pub f_upper_2: f64,
    /// Root at `zq_lower` over the full bracket.
    pub ci_lower_root: f64,
    /// Root at `zq_upper` over the full bracket.
    pub ci_upper_root: f64,
    /// Root at 0 over the full bracket.
    pub estimate_root: f64,
}

fn check_inputs(x: &[f64], y: &[f64], confidence: f64) -> Result<()> {
    if x.is_empty() {
        return Err(CanaryError::EmptySample { what: "x" });
    }
    if y.is_empty() {
        return Err(CanaryError::EmptySample { what: "y" });
    }
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(CanaryError::ConfidenceLevel(confidence));
    }
    Ok(())
}

fn extremes(v: &[f64]) -> (f64, f64) {
    v.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        })
}

fn solve(
    mu_min: f64,
    mu_max: f64,
    f_lower: f64,
    f_upper: f64,
    zq: f64,
    x: &[f64],
    y: &[f64],
) -> f64 {
    // `wdiff` cannot fail inside the bracket once it succeeded at the ends: ties only
    // decrease when the shift moves values apart, and sigma > 0 held there.
    let f = |d: f64| wilcoxon_diff(d, zq, x, y).unwrap_or(f64::NAN);
    zeroin(
        mu_min,
        mu_max,
        f_lower,
        f_upper,
        f,
        UNIROOT_TOL,
        UNIROOT_MAX_ITER,
    )
    .x
}

/// All intermediate values, computed exactly as the interval is.
pub fn intermediates(x: &[f64], y: &[f64], confidence: f64) -> Result<Intermediates> {
    check_inputs(x, y, confidence)?;
    let alpha = 1.0 - confidence;
    let (x_min, x_max) = extremes(x);
    let (y_min, y_max) = extremes(y);
    let mu_min = x_min - y_max;
    let mu_max = x_max - y_min;
    let zq_upper = normal_quantile(alpha / 2.0);
    let zq_lower = -zq_upper;
    let f_lower_0 = wilcoxon_diff(mu_min, 0.0, x, y)?;
    let f_upper_0 = wilcoxon_diff(mu_max, 0.0, x, y)?;
    let f_lower_1 = wilcoxon_diff(mu_min, zq_lower, x, y)?;
    let f_upper_1 = wilcoxon_diff(mu_max, zq_lower, x, y)?;
    let f_lower_2 = wilcoxon_diff(mu_min, zq_upper, x, y)?;
    let f_upper_2 = wilcoxon_diff(mu_max, zq_upper, x, y)?;
    Ok(Intermediates {
        mu_min,
        mu_max,
        zq_lower,
        zq_upper,
        f_lower_1,
        f_upper_1,
        f_lower_2,
        f_upper_2,
        ci_lower_root: solve(mu_min, mu_max, f_lower_1, f_upper_1, zq_lower, x, y),
        ci_upper_root: solve(mu_min, mu_max, f_lower_2, f_upper_2, zq_upper, x, y),
        estimate_root: solve(mu_min, mu_max, f_lower_0, f_upper_0, 0.0, x, y),
    })
}

/// Hodges-Lehmann estimate and confidence interval for the shift `x − y` at
/// `confidence` (Kayenta's default is 0.98 for canary analysis configs; its library
/// default is 0.95).
///
/// ```
/// use hub_canary::kayenta::mann_whitney;
/// let est = mann_whitney(&[10.0, 20.0, 30.0, 40.0], &[1.0, 2.0, 3.0, 4.0], 0.95)?;
/// assert_eq!((est.ci_low, est.ci_high), (6.0, 39.0));
/// assert!((est.estimate - 22.5).abs() < 1e-6);
/// # Ok::<(), hub_canary::CanaryError>(())
/// ```
pub fn mann_whitney(x: &[f64], y: &[f64], confidence: f64) -> Result<ShiftEstimate> {
    check_inputs(x, y, confidence)?;
    let alpha = 1.0 - confidence;
    let (x_min, x_max) = extremes(x);
    let (y_min, y_max) = extremes(y);
    let mu_min = x_min - y_max;
    let mu_max = x_max - y_min;
    let root = |zq: f64| -> Result<f64> {
        let f_lower = wilcoxon_diff(mu_min, zq, x, y)?;
        let f_upper = wilcoxon_diff(mu_max, zq, x, y)?;
        Ok(if f_lower <= 0.0 {
            mu_min
        } else if f_upper >= 0.0 {
            mu_max
        } else {
            solve(mu_min, mu_max, f_lower, f_upper, zq, x, y)
        })
    };
    let z = normal_quantile(alpha / 2.0);
    let ci_low = root(-z)?;
    let ci_high = root(z)?;
    let f_lower = wilcoxon_diff(mu_min, 0.0, x, y)?;
    let f_upper = wilcoxon_diff(mu_max, 0.0, x, y)?;
    let estimate = solve(mu_min, mu_max, f_lower, f_upper, 0.0, x, y);
    Ok(ShiftEstimate {
        ci_low,
        ci_high,
        estimate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(values: &[f64]) -> String {
        format!("{:?}", average_ranks(values))
    }

    #[test]
    fn ranks_average_ties_and_put_nan_last() {
        insta::assert_snapshot!(check(&[3.0, 1.0, 3.0, f64::NAN, 2.0]), @"[3.5, 1.0, 3.5, 5.0, 2.0]");
        insta::assert_snapshot!(check(&[]), @"[]");
    }

    #[test]
    fn all_tied_is_an_error() {
        assert_eq!(
            wilcoxon_diff(0.0, 0.0, &[1.0, 1.0], &[1.0])
                .expect_err("tied")
                .to_string(),
            "cannot compute a confidence interval when all `3` observations are tied"
        );
        assert_eq!(
            mann_whitney(&[], &[1.0], 0.95)
                .expect_err("empty")
                .to_string(),
            "`x` needs at least one value"
        );
    }
}
