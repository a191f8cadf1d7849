//! The request: inputs checked and turned into typed values, every mistake a usage error
//! naming the input. No I/O.

use std::time::Duration;

use anyhow::Result;
use hub_canary::{GateConfig, LatencyConfig, RateGuardrailConfig, RatioConfig, Worse, names};
use hub_kit::cli::usage;

use crate::args::{Args, lines};
use crate::rules::Rule;

/// What to do with an inconclusive verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnInconclusive {
    /// Exit 1.
    Fail,
    /// Exit 0 with a warning.
    Pass,
}

/// `on-inconclusive`.
pub fn on_inconclusive(args: &Args) -> Result<OnInconclusive> {
    match args.on_inconclusive.as_str() {
        "fail" => Ok(OnInconclusive::Fail),
        "pass" => Ok(OnInconclusive::Pass),
        other => Err(usage(format!(
            "input `on-inconclusive` must be `fail` or `pass`, got `{other}`"
        ))),
    }
}

/// The built-in metrics of progressive mode and their judges' settings.
pub fn gate_config(args: &Args, rules: &[Rule]) -> Result<GateConfig> {
    let wanted = if rules.is_empty() {
        vec![Rule::named(names::ERROR_RATE), Rule::named(names::LATENCY)]
    } else {
        rules.to_vec()
    };
    let tune = |rule: &Rule, mut c: RatioConfig| -> Result<RatioConfig> {
        if rule.worse != Worse::Higher {
            return Err(usage(format!(
                "input `metrics`: `{}` can only be `higher-is-worse`",
                rule.name
            )));
        }
        let (margin, tolerance) = rule.thresholds(c.fail_above(), c.tolerance);
        c.margin = margin;
        c.tolerance = tolerance;
        if let Some(n) = args.min_intervals {
            c.min_intervals = n;
        }
        if let Some(n) = args.min_requests {
            c.min_requests = n;
        }
        if let Some(phi) = fixed_dispersion(&args.dispersion)? {
            c.dispersion = phi;
        }
        c.validate()
            .map_err(|e| usage(format!("input `metrics`: `{}`: {e}", rule.name)))?;
        Ok(c)
    };
    let mut config = GateConfig {
        errors: None,
        latency: None,
        max_error_rate: None,
        health_check: !lines(&args.health_urls).is_empty(),
        watch: false,
    };
    for rule in &wanted {
        match rule.name.as_str() {
            names::ERROR_RATE => config.errors = Some(tune(rule, RatioConfig::error_rate())?),
            names::LATENCY => {
                let ratio = tune(rule, RatioConfig::latency_exceedance())?;
                config.latency = Some(LatencyConfig {
                    ratio,
                    // Replaced by the threshold once it is known.
                    threshold: 1.0,
                    effect_quantile: 0.95,
                });
            }
            other => {
                return Err(usage(format!(
                    "input `metrics`: `{other}` is not a built-in Prometheus metric (`error-rate` or `latency`)"
                )));
            }
        }
    }
    if let Some(text) = &args.max_error_rate {
        let t = text.trim();
        let value = match t.strip_suffix('%') {
            Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
            None => t.parse::<f64>(),
        };
        match value {
            Ok(v) if v > 0.0 && v < 1.0 => {
                config.max_error_rate = Some(RateGuardrailConfig {
                    max_rate: v,
                    ..RateGuardrailConfig::default()
                });
            }
            _ => {
                return Err(usage(format!(
                    "input `max-error-rate` must be a rate such as `1%` or `0.01`, got `{t}`"
                )));
            }
        }
    }
    Ok(config)
}

/// `dispersion`: `Some(φ)` for a number, `None` for `auto`.
pub fn fixed_dispersion(text: &str) -> Result<Option<f64>> {
    match text.trim() {
        "auto" => Ok(None),
        t => match t.parse::<f64>() {
            Ok(v) if v >= 1.0 && v.is_finite() => Ok(Some(v)),
            _ => Err(usage(format!(
                "input `dispersion` must be `auto` or a number of at least 1, got `{t}`"
            ))),
        },
    }
}

/// A duration input (`90s`, `5m`, `1h`), longer than zero.
pub fn duration(name: &str, value: &str) -> Result<Duration> {
    let d = hub_kit::input::parse_duration(name, value).map_err(|e| usage(e.to_string()))?;
    if d.is_zero() {
        return Err(usage(format!("input `{name}` must be longer than zero")));
    }
    Ok(d)
}

/// `steps`: traffic weights in percent, in order.
pub fn parse_steps(text: &str) -> Result<Vec<f64>> {
    let steps: Vec<f64> = text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|s| match s.trim_end_matches('%').parse::<f64>() {
            Ok(w) if w > 0.0 && w <= 100.0 => Ok(w),
            _ => Err(usage(format!(
                "input `steps`: `{s}` is not a weight in percent (above 0, at most 100)"
            ))),
        })
        .collect::<Result<_>>()?;
    if steps.is_empty() {
        return Err(usage("input `steps` needs at least one weight"));
    }
    Ok(steps)
}
