//! Plain data the judge reads, and the Prometheus arithmetic to produce it.
//!
//! The shell queries Prometheus `query_range` and receives, per arm, *cumulative* counter
//! samples at each step (`http_requests_total`, the 5xx subset, the histogram's
//! `_bucket{le=…}` series). [`counter_increments`] turns those into per-interval increments
//! with Prometheus's counter-reset rule; a missing sample makes the interval `None`. The
//! judge consumes [`CountInterval`]s: request and bad-event increments for both arms.
//! Latency enters as *exceedance counts* — requests above a bucket bound — via
//! [`exceedances`]; [`histogram_quantile`] reproduces PromQL's `histogram_quantile` for the
//! effect size shown in reports.

use serde::{Deserialize, Serialize};

/// One arm's increments over one interval: requests served and how many of them were bad
/// (5xx, or slower than the latency threshold).
///
/// Counts are `f64` because Prometheus increments are floats (`increase()` extrapolates).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArmCounts {
    /// Requests in the interval.
    pub requests: f64,
    /// Bad events among them.
    pub bad: f64,
}

impl ArmCounts {
    /// Build from two counts.
    #[must_use]
    pub fn new(requests: f64, bad: f64) -> Self {
        Self { requests, bad }
    }

    /// Why these counts cannot be used, if they cannot.
    #[must_use]
    pub fn defect(&self) -> Option<CountDefect> {
        if !self.requests.is_finite() || !self.bad.is_finite() {
            Some(CountDefect::NotFinite)
        } else if self.requests < 0.0 || self.bad < 0.0 {
            Some(CountDefect::Negative)
        } else if self.bad > self.requests * (1.0 + 1e-9) + 1e-9 {
            Some(CountDefect::MoreBadThanRequests)
        } else {
            None
        }
    }
}

/// A reason an interval's counts were unusable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CountDefect {
    /// NaN or infinite.
    NotFinite,
    /// Below zero (a broken counter reset upstream).
    Negative,
    /// More bad events than requests (series from different scrapes).
    MoreBadThanRequests,
}

/// Both arms for one interval. `None` means the series had no sample for the interval.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CountInterval {
    /// The canary arm.
    pub canary: Option<ArmCounts>,
    /// The baseline arm.
    pub baseline: Option<ArmCounts>,
}

impl CountInterval {
    /// Both arms present.
    #[must_use]
    pub fn new(canary: ArmCounts, baseline: ArmCounts) -> Self {
        Self {
            canary: Some(canary),
            baseline: Some(baseline),
        }
    }
}

/// One cumulative histogram bucket: observations `<= le`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    /// Upper bound (`le` label); the last bucket is `+Inf`.
    pub le: f64,
    /// Cumulative count of observations at or below `le`.
    pub count: f64,
}

/// Per-interval increments from cumulative counter samples.
///
/// `samples[i]` is the counter at the *end* of interval `i − 1` (so `n` samples give `n − 1`
/// intervals). A decrease means the process restarted and the counter began again at
/// zero, so the increment is the new value (Prometheus's reset rule). A missing sample on
/// either side makes that interval `None`: the increment cannot be split across the gap.
///
/// ```
/// use hub_canary::counter_increments;
/// let inc = counter_increments(&[Some(10.0), Some(25.0), None, Some(40.0), Some(3.0)]);
/// assert_eq!(inc, vec![Some(15.0), None, None, Some(3.0)]);
/// ```
#[must_use]
pub fn counter_increments(samples: &[Option<f64>]) -> Vec<Option<f64>> {
    samples
        .windows(2)
        .map(|w| match (w[0], w[1]) {
            (Some(prev), Some(next)) if prev.is_finite() && next.is_finite() => {
                Some(if next < prev { next } else { next - prev })
            }
            _ => None,
        })
        .collect()
}

/// PromQL `histogram_quantile(q, buckets)` with Prometheus's exact semantics.
///
/// Buckets are sorted by `le`, buckets with equal bounds are merged, floating-point
/// noise below 1e-12 relative is removed and counts are forced monotonic, as Prometheus
/// does. The quantile is interpolated linearly inside its bucket with a lower bound of 0
/// for the first bucket (or that bucket's bound if it is `<= 0`); a quantile in the
/// `+Inf` bucket returns the highest finite bound. NaN when there are no observations,
/// fewer than two buckets or no `+Inf` bucket; `-inf` for `q < 0`, `+inf` for `q > 1`.
///
/// ```
/// use hub_canary::{histogram_quantile, Bucket};
/// let b = |le, count| Bucket { le, count };
/// let buckets = [b(0.1, 50.0), b(0.25, 90.0), b(0.5, 100.0), b(f64::INFINITY, 100.0)];
/// assert!((histogram_quantile(0.95, &buckets) - 0.375).abs() < 1e-12);
/// ```
#[must_use]
pub fn histogram_quantile(q: f64, buckets: &[Bucket]) -> f64 {
    if q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    let mut b: Vec<Bucket> = buckets.to_vec();
    if b.is_empty() {
        return f64::NAN;
    }
    b.sort_by(|x, y| x.le.total_cmp(&y.le));
    if b.last().is_none_or(|last| last.le != f64::INFINITY) {
        return f64::NAN;
    }
    // Merge buckets with the same bound.
    let mut merged: Vec<Bucket> = Vec::with_capacity(b.len());
    for bucket in b {
        match merged.last_mut() {
            Some(last) if last.le == bucket.le => last.count += bucket.count,
            _ => merged.push(bucket),
        }
    }
    let mut b = merged;
    // Remove precision noise, then force monotonicity.
    let mut prev = b[0].count;
    for bucket in b.iter_mut().skip(1) {
        let delta = (bucket.count - prev).abs();
        if delta == 0.0 {
            continue;
        }
        if delta / bucket.count <= 1e-12 {
            bucket.count = prev;
        } else {
            prev = bucket.count;
        }
    }
    let mut max = b[0].count;
    for bucket in b.iter_mut().skip(1) {
        if bucket.count > max {
            max = bucket.count;
        } else if bucket.count < max {
            bucket.count = max;
        }
    }
    if b.len() < 2 {
        return f64::NAN;
    }
    let observations = b[b.len() - 1].count;
    if observations == 0.0 {
        return f64::NAN;
    }
    let mut rank = q * observations;
    let idx = b[..b.len() - 1].partition_point(|x| x.count < rank);
    if idx == b.len() - 1 {
        return b[b.len() - 2].le;
    }
    if idx == 0 && b[0].le <= 0.0 {
        return b[0].le;
    }
    let end = b[idx].le;
    let mut count = b[idx].count;
    let mut start = 0.0;
    if idx > 0 {
        start = b[idx - 1].le;
        count -= b[idx - 1].count;
        rank -= b[idx - 1].count;
    }
    start + (end - start) * (rank / count)
}

/// Requests and exceedances (requests slower than `threshold`) from one interval's
/// cumulative buckets. `threshold` must equal one of the finite bucket bounds: counts
/// above a bound are exact, counts above any other value would be interpolated guesses.
///
/// ```
/// use hub_canary::{exceedances, ArmCounts, Bucket};
/// let b = |le, count| Bucket { le, count };
/// let buckets = [b(0.1, 50.0), b(0.25, 90.0), b(f64::INFINITY, 100.0)];
/// assert_eq!(exceedances(&buckets, 0.25), Some(ArmCounts::new(100.0, 10.0)));
/// assert_eq!(exceedances(&buckets, 0.2), None);
/// ```
#[must_use]
pub fn exceedances(buckets: &[Bucket], threshold: f64) -> Option<ArmCounts> {
    let total = buckets.iter().find(|b| b.le == f64::INFINITY)?.count;
    let below = buckets
        .iter()
        .find(|b| b.le.is_finite() && (b.le - threshold).abs() <= 1e-9 * threshold.abs().max(1e-9))?
        .count;
    Some(ArmCounts::new(total, (total - below).max(0.0)))
}

/// The finite bucket bound whose cumulative fraction is nearest to `q` — "the bucket
/// bound at about the baseline p95". Use it on the *baseline's* buckets summed over a
/// window before the canary starts, so the threshold is fixed before the test looks at
/// any canary data. Ties go to the higher bound. `None` without observations.
///
/// ```
/// use hub_canary::{threshold_near_quantile, Bucket};
/// let b = |le, count| Bucket { le, count };
/// let buckets = [b(0.1, 60.0), b(0.2, 92.0), b(0.25, 97.0), b(f64::INFINITY, 100.0)];
/// assert_eq!(threshold_near_quantile(&buckets, 0.95), Some(0.25));
/// ```
#[must_use]
pub fn threshold_near_quantile(buckets: &[Bucket], q: f64) -> Option<f64> {
    let total = buckets.iter().find(|b| b.le == f64::INFINITY)?.count;
    if total <= 0.0 || !total.is_finite() {
        return None;
    }
    let mut best: Option<(f64, f64)> = None;
    for b in buckets.iter().filter(|b| b.le.is_finite()) {
        let gap = (b.count / total - q).abs();
        best = match best {
            Some((g, le)) if g < gap || (g == gap && le > b.le) => Some((g, le)),
            _ => Some((gap, b.le)),
        };
    }
    best.map(|(_, le)| le)
}

/// Element-wise sum of cumulative buckets (same bounds, same order), e.g. to aggregate
/// a window. Returns `None` when the layouts differ.
#[must_use]
pub fn sum_buckets(a: &[Bucket], b: &[Bucket]) -> Option<Vec<Bucket>> {
    if a.len() != b.len() {
        return None;
    }
    a.iter()
        .zip(b)
        .map(|(x, y)| {
            (x.le == y.le).then_some(Bucket {
                le: x.le,
                count: x.count + y.count,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(le: f64, count: f64) -> Bucket {
        Bucket { le, count }
    }

    fn check(q: f64, buckets: &[Bucket], expect: f64) {
        let got = histogram_quantile(q, buckets);
        if expect.is_nan() {
            assert!(got.is_nan(), "q={q}: got {got}, expected NaN");
        } else {
            assert!(
                got == expect || (got - expect).abs() < 1e-12,
                "q={q}: got {got}, expected {expect}"
            );
        }
    }

    const INF: f64 = f64::INFINITY;

    #[test]
    fn histogram_quantile_interpolates_like_promql() {
        let h = [b(0.1, 50.0), b(0.25, 90.0), b(0.5, 100.0), b(INF, 100.0)];
        check(0.5, &h, 0.1);
        check(0.25, &h, 0.05);
        check(0.7, &h, 0.1 + 0.15 * (20.0 / 40.0));
        check(1.0, &h, 0.5);
        check(0.0, &h, 0.0);
    }

    #[test]
    fn histogram_quantile_special_cases() {
        let h = [b(0.1, 10.0), b(INF, 20.0)];
        // Quantile in the +Inf bucket returns the highest finite bound.
        check(0.99, &h, 0.1);
        check(-0.1, &h, f64::NEG_INFINITY);
        check(1.1, &h, INF);
        check(f64::NAN, &h, f64::NAN);
        check(0.5, &[b(0.1, 10.0), b(0.2, 20.0)], f64::NAN); // no +Inf
        check(0.5, &[b(INF, 20.0)], f64::NAN); // one bucket
        check(0.5, &[b(0.1, 0.0), b(INF, 0.0)], f64::NAN); // no observations
        // Lowest bound <= 0 is returned as is.
        check(0.1, &[b(-1.0, 10.0), b(INF, 20.0)], -1.0);
    }

    #[test]
    fn histogram_quantile_sorts_merges_and_forces_monotonic() {
        let unsorted = [b(INF, 100.0), b(0.5, 100.0), b(0.1, 50.0), b(0.25, 90.0)];
        check(0.7, &unsorted, 0.175);
        // Duplicated bounds are summed (two series with the same le).
        let dup = [b(0.1, 25.0), b(0.1, 25.0), b(0.25, 90.0), b(INF, 100.0)];
        check(0.5, &dup, 0.1);
        // A dip is flattened to the running maximum.
        let dip = [b(0.1, 50.0), b(0.25, 40.0), b(0.5, 100.0), b(INF, 100.0)];
        check(0.5, &dip, 0.1);
        check(0.75, &dip, 0.25 + 0.25 * (25.0 / 50.0));
    }

    #[test]
    fn increments_handle_resets_and_gaps() {
        assert_eq!(
            counter_increments(&[Some(0.0), Some(5.0), Some(2.0), Some(2.0), None, Some(9.0)]),
            vec![Some(5.0), Some(2.0), Some(0.0), None, None]
        );
        assert_eq!(counter_increments(&[Some(1.0)]), Vec::<Option<f64>>::new());
        assert_eq!(counter_increments(&[Some(1.0), Some(f64::NAN)]), vec![None]);
    }

    #[test]
    fn exceedance_threshold_selection() {
        let h = [b(0.1, 60.0), b(0.2, 94.0), b(0.25, 97.0), b(INF, 100.0)];
        assert_eq!(threshold_near_quantile(&h, 0.95), Some(0.2));
        assert_eq!(exceedances(&h, 0.2), Some(ArmCounts::new(100.0, 6.0)));
        assert_eq!(
            threshold_near_quantile(&[b(0.1, 0.0), b(INF, 0.0)], 0.95),
            None
        );
        assert_eq!(
            sum_buckets(&h, &h).map(|s| s[1].count),
            Some(188.0),
            "sums bucket by bucket"
        );
        assert_eq!(sum_buckets(&h, &h[1..]), None);
    }

    #[test]
    fn count_defects() {
        assert_eq!(
            ArmCounts::new(10.0, 11.0).defect(),
            Some(CountDefect::MoreBadThanRequests)
        );
        assert_eq!(
            ArmCounts::new(-1.0, 0.0).defect(),
            Some(CountDefect::Negative)
        );
        assert_eq!(
            ArmCounts::new(f64::NAN, 0.0).defect(),
            Some(CountDefect::NotFinite)
        );
        assert_eq!(ArmCounts::new(10.0, 10.0).defect(), None);
    }
}
