//! The crate's one error type.

/// Everything that can go wrong when configuring or calling the judge.
///
/// Data problems (missing intervals, counter resets, zero traffic) are *not* errors:
/// they make a metric blind and end as an inconclusive verdict with a reason. Errors are
/// reserved for configurations that cannot mean anything and for inputs a statistic is
/// undefined on.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum CanaryError {
    /// A configuration value is outside its domain.
    #[error("invalid `{field}` = `{value}`: {expected}")]
    InvalidConfig {
        /// The configuration field, as spelled in the config struct.
        field: &'static str,
        /// The rejected value.
        value: f64,
        /// What the field accepts.
        expected: &'static str,
    },
    /// The fail threshold `1 + margin` must lie below the tolerated ratio.
    #[error(
        "margin `{margin}` puts the fail threshold `{fail_above}` at or above the tolerance `{tolerance}`"
    )]
    EmptyIndifferenceZone {
        /// The configured practical margin.
        margin: f64,
        /// `1 + margin`.
        fail_above: f64,
        /// The configured tolerated ratio.
        tolerance: f64,
    },
    /// A sample passed to a statistic is empty.
    #[error("`{what}` needs at least one value")]
    EmptySample {
        /// Which sample.
        what: &'static str,
    },
    /// The Wilcoxon confidence interval is undefined when every observation is tied.
    #[error("cannot compute a confidence interval when all `{n}` observations are tied")]
    AllTied {
        /// Number of observations (both samples).
        n: usize,
    },
    /// A confidence level outside `(0, 1)`.
    #[error("confidence level `{0}` is outside (0, 1)")]
    ConfidenceLevel(f64),
    /// A histogram without a `+Inf` bucket or with unusable bounds.
    #[error("histogram has `{buckets}` buckets and no usable `+Inf` bucket")]
    BadHistogram {
        /// Number of buckets received.
        buckets: usize,
    },
}

/// Shorthand used across the crate.
pub type Result<T, E = CanaryError> = std::result::Result<T, E>;

pub(crate) fn check_range(
    field: &'static str,
    value: f64,
    ok: bool,
    expected: &'static str,
) -> Result<()> {
    if ok && !value.is_nan() {
        Ok(())
    } else {
        Err(CanaryError::InvalidConfig {
            field,
            value,
            expected,
        })
    }
}
