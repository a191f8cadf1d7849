//! The plan of a progressive run (`source: prometheus` or `simulate`), made from the
//! inputs alone: the steps, the schedule, the judges' settings and the wall-clock deadline.
//! Pure: no I/O, no clock but the start it is given.

use std::time::{Duration, Instant};

use anyhow::Result;
use hub_canary::{Scenario, Weights};
use hub_kit::cli::usage;

use crate::args::{Args, lines};
use crate::progressive::{Dispersion, Plan, SimFeed};
use crate::request::{duration, fixed_dispersion, gate_config, parse_steps};
use crate::rules::Rule;

/// Everything a progressive run is set up from.
#[derive(Debug)]
pub struct Setup {
    /// Steps, schedule, judges, deadline.
    pub plan: Plan,
    /// One judged interval.
    pub interval: Duration,
    /// History the latency threshold is chosen from.
    pub threshold_window: Duration,
    /// How far back the A/A window reaches (`dispersion: auto`).
    pub calibration_window: Duration,
    /// The A/A window's two selectors, when given.
    pub calibration_selectors: Option<(String, String)>,
    /// URLs probed every interval.
    pub health_urls: Vec<String>,
}

/// The plan for a run that starts at `started`: `max-duration` is wall-clock from there;
/// every query, probe and `step-command` is given up at the deadline, which keeps back a
/// little time for the outputs.
pub fn progressive(args: &Args, rules: &[Rule], started: Instant) -> Result<Setup> {
    let mut gate = gate_config(args, rules)?;
    let interval = duration("interval", &args.interval)?;
    let step_duration = duration("step-duration", &args.step_duration)?;
    let max_duration = duration("max-duration", &args.max_duration)?;
    let deadline = started + max_duration - (max_duration / 20).min(Duration::from_secs(5));
    let threshold_window = duration("threshold-window", &args.threshold_window)?;
    let steps = parse_steps(&args.steps)?;
    let per_step = (step_duration.as_secs_f64() / interval.as_secs_f64())
        .ceil()
        .max(1.0) as usize;
    let max_intervals = (max_duration.as_secs_f64() / interval.as_secs_f64()).floor() as usize;
    if max_intervals == 0 {
        return Err(usage(
            "input `max-duration` must be at least one `interval`",
        ));
    }
    match args.watch.as_str() {
        // The horizon is the schedule: the steps' intervals, at most `max-duration`.
        "until-end" => gate = gate.watching(max_intervals.min(steps.len() * per_step)),
        "until-pass" => {}
        other => {
            return Err(usage(format!(
                "input `watch` must be `until-end` or `until-pass`, got `{other}`"
            )));
        }
    }
    let dispersion = match fixed_dispersion(&args.dispersion)? {
        Some(_) => Dispersion::Fixed,
        None => Dispersion::Auto,
    };
    let calibration_window = duration("calibration-window", &args.calibration_window)?;
    let calibration_selectors = match lines(&args.calibration_selectors).as_slice() {
        [] => None,
        [a, b] => Some((a.clone(), b.clone())),
        other => {
            return Err(usage(format!(
                "input `calibration-selectors` needs two selectors, one per line, got `{}`",
                other.len()
            )));
        }
    };
    let step_command = args
        .step_command
        .as_deref()
        .map(|line| {
            hub_kit::argv::split(line).map_err(|e| usage(format!("input `step-command`: {e}")))
        })
        .transpose()?;
    match args.latency_threshold {
        Some(t) if !(t.is_finite() && t > 0.0) => {
            return Err(usage(format!(
                "input `latency-threshold` must be a positive number of seconds, got `{t}`"
            )));
        }
        _ => {}
    }
    Ok(Setup {
        plan: Plan {
            steps,
            per_step,
            max_intervals,
            gate,
            latency_quantile: 0.95,
            step_command,
            deadline,
            dispersion,
        },
        interval,
        threshold_window,
        calibration_window,
        calibration_selectors,
        health_urls: health_urls(args)?,
    })
}

/// `health-urls`, each an `http://` or `https://` URL with a host: a typo is a usage error
/// before the rollout, never a failed health check that blames the canary.
fn health_urls(args: &Args) -> Result<Vec<String>> {
    let urls = lines(&args.health_urls);
    for url in &urls {
        let usable = url.parse::<http::Uri>().is_ok_and(|uri| {
            matches!(uri.scheme_str(), Some("http" | "https")) && uri.host().is_some()
        });
        if !usable {
            return Err(usage(format!(
                "input `health-urls`: `{url}` is not an `http://` or `https://` URL"
            )));
        }
    }
    Ok(urls)
}

/// `simulate`: `hub_canary`'s seeded simulator on the plan's schedule, with an A/A window.
pub fn simulation(args: &Args, setup: &Setup, seed: u64) -> SimFeed {
    let weights = Weights::Ramp {
        steps: setup
            .plan
            .steps
            .iter()
            .map(|w| (w / 100.0).min(0.5))
            .collect(),
        step_minutes: setup.plan.per_step,
    };
    let scenario = Scenario {
        name: "simulate".into(),
        minutes: setup.plan.max_intervals,
        weights,
        error_multiplier: args.simulate_errors,
        latency_scale: args.simulate_latency,
        error_noise_cv: args.simulate_noise,
        onset_minute: args.simulate_onset,
        latency_jitter: args.simulate_noise / 10.0,
        ..Scenario::reference()
    };
    let sim = scenario.simulate(seed);
    // The A/A window: the same service, both arms on the baseline, another seed.
    let aa = Scenario {
        minutes: (setup.calibration_window.as_secs_f64() / setup.interval.as_secs_f64()) as usize,
        weights: Weights::Even,
        error_multiplier: 1.0,
        latency_scale: 1.0,
        ..scenario.clone()
    }
    .simulate(seed ^ 0x00ca_11b8_a7e0_0000)
    .intervals();
    SimFeed {
        intervals: sim.intervals(),
        threshold: args.latency_threshold.unwrap_or(sim.threshold),
        interval: setup.interval.as_secs_f64(),
        read: 0,
        aa,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(extra: &[&str]) -> Args {
        Args::parse_from(std::iter::once("hub-canary-gate").chain(extra.iter().copied()))
    }

    #[test]
    fn the_plan_comes_from_the_inputs_and_the_start_alone() {
        let started = Instant::now();
        let given = args(&[
            "--steps",
            "10,50",
            "--step-duration",
            "5m",
            "--interval",
            "1m",
            "--max-duration",
            "30m",
            "--health-urls",
            "http://a/health\nhttp://b/health",
        ]);
        let setup = progressive(&given, &[], started).expect("a plan");
        assert_eq!(setup.plan.steps, [10.0, 50.0]);
        assert_eq!(setup.plan.per_step, 5);
        assert_eq!(setup.plan.max_intervals, 30);
        // A twentieth of `max-duration`, at most 5 s, is kept for the outputs.
        assert_eq!(
            setup.plan.deadline,
            started + Duration::from_secs(30 * 60 - 5)
        );
        assert!(setup.plan.gate.errors.is_some() && setup.plan.gate.latency.is_some());
        assert!(setup.plan.gate.health_check);
        assert_eq!(setup.health_urls, ["http://a/health", "http://b/health"]);
        assert_eq!(setup.interval, Duration::from_secs(60));
        // The same inputs and start give the same plan.
        let again = progressive(&given, &[], started).expect("a plan");
        assert_eq!(format!("{:?}", again.plan), format!("{:?}", setup.plan));
        let refused = |extra: &[&str]| {
            format!(
                "{:#}",
                progressive(&args(extra), &[], started).expect_err("refused")
            )
        };
        assert!(
            refused(&["--interval", "1m", "--max-duration", "30s"])
                .contains("input `max-duration` must be at least one `interval`")
        );
        assert!(refused(&["--watch", "forever"]).contains("input `watch` must be"));
        assert!(
            refused(&["--calibration-selectors", "a=\"b\""])
                .contains("input `calibration-selectors` needs two selectors")
        );
    }
}
