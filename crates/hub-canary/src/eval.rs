//! Evaluation: run a judge over seeded simulations and measure it, next to two anchors.
//!
//! For each (judge, scenario) pair [`evaluate`] runs `N` seeds and reports the fail, pass
//! and inconclusive rates — the fail rate is the **false-alarm rate** on scenarios without
//! a regression and the **detection power** on scenarios with one — the median and p90
//! **time to decision** (an inconclusive run counts as the full horizon, since the gate
//! holds the rollout that long), and the **exposure cost**: extra bad requests the canary
//! served before the verdict, relative to what the baseline's rate would have produced
//! (5xx and slow requests separately).
//!
//! The anchors are deliberately simple re-creations of what users of other tools run:
//!
//! - [`KayentaStyleAnchor`]: Kayenta's Mann-Whitney classifier at 98 % on per-interval
//!   values (5xx ratio and `histogram_quantile(0.95)` per minute), looked at after 15, 30,
//!   45 and 60 minutes on all data so far, scored by the weighted-sum scorer with one group
//!   per metric; a score below 75 fails at that look, and at the last look a score below
//!   95 fails, otherwise it passes.
//! - [`FlaggerStyleAnchor`]: Flagger's built-in checks with their documented defaults —
//!   success rate at least 99 % and p99 latency at most 500 ms per one-minute interval,
//!   "no values" and a failed health check count as failed checks; five failed checks
//!   roll back, otherwise it promotes at the end.

use crate::error::Result;
use crate::gate::{Gate, GateConfig, GateInterval};
use crate::kayenta::{
    Direction, MannWhitneyParams, MetricOptions, NanStrategy, ScoredMetric, classify_mann_whitney,
    score,
};
use crate::rng::Rng;
use crate::sequential::Verdict;
use crate::sequential::calibrate_dispersion;
use crate::series::{ArmCounts, CountInterval, exceedances, histogram_quantile};
use crate::sim::{Scenario, SimRun, Window};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The Kayenta-style anchor's settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KayentaStyleAnchor {
    /// Minutes at which the analysis runs (cumulative data).
    pub looks: Vec<usize>,
    /// Classifier parameters (tolerance 0.25, 98 %).
    pub params: MannWhitneyParams,
    /// A score below this fails at any look.
    pub marginal: f64,
    /// The last look passes at or above this.
    pub pass: f64,
}

impl Default for KayentaStyleAnchor {
    fn default() -> Self {
        Self {
            looks: vec![15, 30, 45, 60],
            params: MannWhitneyParams {
                tolerance: 0.25,
                conf_level: 0.98,
                ..MannWhitneyParams::default()
            },
            marginal: 75.0,
            pass: 95.0,
        }
    }
}

/// The Flagger-style anchor's settings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlaggerStyleAnchor {
    /// A minute with a higher canary 5xx ratio fails its check (Flagger: success ≥ 99 %).
    pub max_error_rate: f64,
    /// A minute with a higher canary p99 (seconds) fails its check (Flagger: 500 ms).
    pub max_p99: f64,
    /// Failed checks that roll back.
    pub threshold: usize,
}

impl Default for FlaggerStyleAnchor {
    fn default() -> Self {
        Self {
            max_error_rate: 0.01,
            max_p99: 0.5,
            threshold: 5,
        }
    }
}

/// A judge the evaluation can run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Judge {
    /// This crate's gate; the latency threshold is set per run from the scenario.
    Sequential(GateConfig),
    /// This crate's gate in A/A calibration mode: before each run, the dispersion of the
    /// error and exceedance counts is estimated ([`crate::calibrate_dispersion`]) from a
    /// 60-minute A/A window of the same service (the scenario without regression or
    /// faults, another seed, even split) and put into both count tests.
    SequentialCalibrated(GateConfig),
    /// This crate's gate watching until the horizon ([`GateConfig::watching`]): a PASS is
    /// provisional, and change detection keeps looking for a regression that starts
    /// later. Passing runs therefore take the whole horizon.
    SequentialWatching(GateConfig),
    /// Anchor: Kayenta-style Mann-Whitney at fixed looks.
    KayentaStyle(KayentaStyleAnchor),
    /// Anchor: Flagger-style fixed thresholds.
    FlaggerStyle(FlaggerStyleAnchor),
}

impl Judge {
    /// Short name for tables.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Judge::Sequential(_) => "sequential",
            Judge::SequentialCalibrated(_) => "sequential, A/A-calibrated",
            Judge::SequentialWatching(_) => "sequential, watching",
            Judge::KayentaStyle(_) => "kayenta-style (anchor)",
            Judge::FlaggerStyle(_) => "flagger-style (anchor)",
        }
    }

    /// The judges of the standard comparison with their defaults.
    #[must_use]
    pub fn standard() -> Vec<Judge> {
        vec![
            // The latency threshold is replaced per run by the scenario's.
            Judge::Sequential(GateConfig::standard(0.25)),
            Judge::SequentialCalibrated(GateConfig::standard(0.25)),
            Judge::SequentialWatching(GateConfig::standard(0.25)),
            Judge::KayentaStyle(KayentaStyleAnchor::default()),
            Judge::FlaggerStyle(FlaggerStyleAnchor::default()),
        ]
    }
}

/// One run's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// Pass, fail or inconclusive.
    pub verdict: Verdict,
    /// Minutes until the verdict (the horizon for inconclusive).
    pub minutes: usize,
}

/// Run `judge` on one simulated run. `scenario` is the run's scenario (the calibrated
/// judge simulates its A/A window from it).
pub fn run_judge(judge: &Judge, scenario: &Scenario, run: &SimRun) -> Result<Outcome> {
    let intervals = run.intervals();
    match judge {
        Judge::Sequential(config) => sequential(config.clone(), run.threshold, &intervals),
        Judge::SequentialWatching(config) => sequential(
            config.clone().watching(scenario.minutes),
            run.threshold,
            &intervals,
        ),
        Judge::SequentialCalibrated(config) => {
            let mut config = config.clone();
            let (errors, latency) = calibration_window(scenario, run.seed);
            if let (Some(c), Some(d)) = (&mut config.errors, calibrate_dispersion(&errors)) {
                c.dispersion = d.recommended;
            }
            if let (Some(c), Some(d)) = (&mut config.latency, calibrate_dispersion(&latency)) {
                c.ratio.dispersion = d.recommended;
            }
            sequential(config, run.threshold, &intervals)
        }
        Judge::KayentaStyle(anchor) => kayenta_style(anchor, &intervals, run.seed),
        Judge::FlaggerStyle(anchor) => Ok(flagger_style(anchor, &intervals)),
    }
}

fn sequential(
    mut config: GateConfig,
    threshold: f64,
    intervals: &[GateInterval],
) -> Result<Outcome> {
    if let Some(l) = &mut config.latency {
        l.threshold = threshold;
    }
    let mut gate = Gate::new(config)?;
    for (t, interval) in intervals.iter().enumerate() {
        gate.observe(interval);
        let verdict = gate.status();
        if matches!(verdict, Verdict::Pass | Verdict::Fail) {
            return Ok(Outcome {
                verdict,
                minutes: t + 1,
            });
        }
    }
    // The last look: a watching gate's provisional PASS becomes final here.
    Ok(Outcome {
        verdict: match gate.decide(crate::sequential::Look::Final).verdict {
            Verdict::Pass => Verdict::Pass,
            _ => Verdict::Inconclusive,
        },
        minutes: intervals.len(),
    })
}

/// Error and exceedance counts of an A/A window of the same service.
fn calibration_window(scenario: &Scenario, seed: u64) -> (Vec<CountInterval>, Vec<CountInterval>) {
    let aa = Scenario {
        weights: crate::sim::Weights::Even,
        error_multiplier: 1.0,
        latency_scale: 1.0,
        zero_canary_traffic: None,
        canary_missing: None,
        canary_restarts: Vec::new(),
        health_down: None,
        ..scenario.clone()
    };
    let run = aa.simulate(seed ^ 0x00ca_11b8_a7e0_0000);
    let counts = |r: Option<f64>, b: Option<f64>| Some(ArmCounts::new(r?, b?));
    let mut errors = Vec::new();
    let mut latency = Vec::new();
    for i in run.intervals() {
        errors.push(CountInterval {
            canary: counts(i.canary.requests, i.canary.errors),
            baseline: counts(i.baseline.requests, i.baseline.errors),
        });
        latency.push(CountInterval {
            canary: i
                .canary
                .buckets
                .as_deref()
                .and_then(|b| exceedances(b, run.threshold)),
            baseline: i
                .baseline
                .buckets
                .as_deref()
                .and_then(|b| exceedances(b, run.threshold)),
        });
    }
    (errors, latency)
}

fn interval_values(intervals: &[GateInterval]) -> [(Vec<f64>, Vec<f64>); 2] {
    let ratio = |r: Option<f64>, e: Option<f64>| match (r, e) {
        (Some(r), Some(e)) if r > 0.0 => e / r,
        _ => f64::NAN,
    };
    let p95 = |b: &Option<Vec<crate::series::Bucket>>| {
        b.as_deref()
            .map_or(f64::NAN, |b| histogram_quantile(0.95, b))
    };
    let errors = (
        intervals
            .iter()
            .map(|i| ratio(i.canary.requests, i.canary.errors))
            .collect(),
        intervals
            .iter()
            .map(|i| ratio(i.baseline.requests, i.baseline.errors))
            .collect(),
    );
    let latency = (
        intervals.iter().map(|i| p95(&i.canary.buckets)).collect(),
        intervals.iter().map(|i| p95(&i.baseline.buckets)).collect(),
    );
    [errors, latency]
}

fn kayenta_style(
    anchor: &KayentaStyleAnchor,
    intervals: &[GateInterval],
    seed: u64,
) -> Result<Outcome> {
    let values = interval_values(intervals);
    let options = MetricOptions {
        direction: Direction::Increase,
        nan_strategy: NanStrategy::Remove,
        ..MetricOptions::default()
    };
    let mut rng = Rng::seed(seed ^ 0x006b_6179_656e_7461);
    let last = anchor
        .looks
        .iter()
        .copied()
        .filter(|&l| l <= intervals.len())
        .max()
        .unwrap_or(intervals.len());
    for &look in anchor.looks.iter().filter(|&&l| l <= intervals.len()) {
        let mut results = Vec::new();
        for (name, (canary, baseline)) in ["errors", "latency"].iter().zip(&values) {
            let c = classify_mann_whitney(
                name,
                &baseline[..look],
                &canary[..look],
                &anchor.params,
                &options,
                &mut rng,
            )?;
            results.push(ScoredMetric {
                name: (*name).to_owned(),
                classification: c.classification,
                groups: vec![(*name).to_owned()],
                critical: false,
            });
        }
        let s = score(&results, &BTreeMap::new()).summary;
        if s < anchor.marginal {
            return Ok(Outcome {
                verdict: Verdict::Fail,
                minutes: look,
            });
        }
        if look == last {
            let verdict = if s >= anchor.pass {
                Verdict::Pass
            } else {
                Verdict::Fail
            };
            return Ok(Outcome {
                verdict,
                minutes: look,
            });
        }
    }
    Ok(Outcome {
        verdict: Verdict::Inconclusive,
        minutes: intervals.len(),
    })
}

fn flagger_style(anchor: &FlaggerStyleAnchor, intervals: &[GateInterval]) -> Outcome {
    let mut failed = 0;
    for (t, i) in intervals.iter().enumerate() {
        let c = &i.canary;
        let check_failed = match (c.requests, c.errors, &c.buckets) {
            (Some(r), Some(e), Some(b)) if r > 0.0 => {
                e / r > anchor.max_error_rate
                    || histogram_quantile(0.99, b) > anchor.max_p99
                    || i.health == Some(false)
            }
            _ => true,
        };
        if check_failed {
            failed += 1;
            if failed >= anchor.threshold {
                return Outcome {
                    verdict: Verdict::Fail,
                    minutes: t + 1,
                };
            }
        }
    }
    Outcome {
        verdict: Verdict::Pass,
        minutes: intervals.len(),
    }
}

/// One row of the evaluation table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalRow {
    /// Judge name.
    pub judge: String,
    /// Scenario name.
    pub scenario: String,
    /// Whether the scenario has a regression (fail rate = power) or not (= false alarms).
    pub regression: bool,
    /// Whether the scenario removes data (pass rate must be 0).
    pub missing_data: bool,
    /// Runs.
    pub runs: usize,
    /// Share of runs that failed.
    pub fail_rate: f64,
    /// Share that passed.
    pub pass_rate: f64,
    /// Share that ended inconclusive.
    pub inconclusive_rate: f64,
    /// Median minutes to the verdict.
    pub median_minutes: f64,
    /// 90th percentile of minutes to the verdict.
    pub p90_minutes: f64,
    /// Mean extra 5xx the canary served before the verdict.
    pub extra_errors: f64,
    /// Mean extra slow requests the canary served before the verdict.
    pub extra_slow: f64,
    /// For an error-rate regression: what the data can tell at all, with the default
    /// error-rate margin and false-alarm level ([`error_information`]).
    pub information: Option<InformationBound>,
}

fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    // Type 7, like R's default.
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Run `judge` on `scenario` for every seed in `seeds` and summarise.
pub fn evaluate(
    judge: &Judge,
    scenario: &Scenario,
    seeds: std::ops::Range<u64>,
) -> Result<EvalRow> {
    let mut outcomes = Vec::new();
    let (mut extra_errors, mut extra_slow) = (0.0, 0.0);
    for seed in seeds {
        let run = scenario.simulate(seed);
        let outcome = run_judge(judge, scenario, &run)?;
        for t in &run.truth[..outcome.minutes.min(run.truth.len())] {
            extra_errors += t.canary_errors - t.expected_errors;
            extra_slow += t.canary_slow - t.expected_slow;
        }
        outcomes.push(outcome);
    }
    let n = outcomes.len().max(1) as f64;
    let rate = |v: Verdict| outcomes.iter().filter(|o| o.verdict == v).count() as f64 / n;
    let mut minutes: Vec<f64> = outcomes.iter().map(|o| o.minutes as f64).collect();
    minutes.sort_by(f64::total_cmp);
    Ok(EvalRow {
        judge: judge.name().to_owned(),
        scenario: scenario.name.clone(),
        regression: scenario.has_regression(),
        missing_data: scenario.has_missing_data(),
        runs: outcomes.len(),
        fail_rate: rate(Verdict::Fail),
        pass_rate: rate(Verdict::Pass),
        inconclusive_rate: rate(Verdict::Inconclusive),
        median_minutes: quantile_sorted(&minutes, 0.5),
        p90_minutes: quantile_sorted(&minutes, 0.9),
        extra_errors: extra_errors / n,
        extra_slow: extra_slow / n,
        information: (scenario.error_multiplier > 1.0).then(|| {
            let c = crate::sequential::RatioConfig::error_rate();
            error_information(scenario, c.margin, c.alpha_fail)
        }),
    })
}

/// What the data of a scenario can tell about the error-rate ratio at all: the expected
/// Fisher information on `θ = ln r` in the conditional-binomial model over the whole
/// horizon, and the power the best *fixed-sample* one-sided test (one look at the end,
/// normal approximation) would have at false-alarm level `alpha` against `r = 1 + margin`.
///
/// Per interval, `I_t = μ_t · n_c r · n_b / (n_c r + n_b)` with the canary's and
/// baseline's expected requests `n_c`, `n_b`, the true ratio `r` and the baseline's mean
/// error rate `μ_t` (shared incidents included on average; extra per-arm noise ignored, so
/// this is an upper bound). No anytime-valid test can beat this look-once oracle: where it
/// is below a power target, the target is out of reach at that traffic.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct InformationBound {
    /// Expected Fisher information on `ln r` over the horizon.
    pub information: f64,
    /// Expected canary errors over the horizon.
    pub canary_errors: f64,
    /// Power of the look-once oracle test.
    pub oracle_power: f64,
}

/// The [`InformationBound`] of `scenario`'s error-rate regression.
#[must_use]
pub fn error_information(scenario: &Scenario, margin: f64, alpha: f64) -> InformationBound {
    use crate::math::{normal_cdf, normal_quantile};
    // Incidents: errors ×4 for 3 minutes, starting with probability q a minute when none
    // is running: a fraction 3q/(1 + 3q) of minutes, on average.
    let q = scenario.incident_rate;
    let incident_share = 3.0 * q / (1.0 + 3.0 * q);
    let mu = scenario.base_error_rate * (1.0 + 3.0 * incident_share);
    let (mut info, mut errors) = (0.0, 0.0);
    for t in 0..scenario.minutes {
        let w = scenario.weights.at(t);
        let wave =
            1.0 + scenario.traffic_swing * (2.0 * std::f64::consts::PI * t as f64 / 30.0).sin();
        let total = 2.0 * scenario.rpm_per_arm * wave.max(0.0);
        let r = if scenario.onset_minute <= t {
            scenario.error_multiplier
        } else {
            1.0
        };
        let (nc, nb) = (w * total, (1.0 - w) * total);
        if nc * r + nb > 0.0 {
            info += mu * nc * r * nb / (nc * r + nb);
        }
        errors += mu * nc * r;
    }
    let shift = scenario.error_multiplier.ln() - (1.0 + margin).ln();
    InformationBound {
        information: info,
        canary_errors: errors,
        oracle_power: normal_cdf(shift * info.sqrt() - normal_quantile(1.0 - alpha)),
    }
}

/// A traffic/noise condition the standard scenarios are run under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Condition {
    /// Even split, shared swings and incidents.
    Steady,
    /// The 5/10/25/50 % ramp (1,200 requests per minute in total).
    Ramp,
    /// Even split plus moderate per-arm noise (error-rate CV 0.3, latency jitter 3 %).
    Noisy,
    /// Ramp plus moderate noise.
    RampNoisy,
    /// Even split plus heavy per-arm noise (error-rate CV 0.6, latency jitter 6 %).
    VeryNoisy,
    /// The regression starts at minute 30.
    LateOnset,
    /// The regression is on 3 minutes out of 10.
    Intermittent,
}

impl Condition {
    /// Every condition.
    pub const ALL: [Condition; 7] = [
        Condition::Steady,
        Condition::Ramp,
        Condition::Noisy,
        Condition::RampNoisy,
        Condition::VeryNoisy,
        Condition::LateOnset,
        Condition::Intermittent,
    ];

    fn label(self) -> &'static str {
        match self {
            Condition::Steady => "steady",
            Condition::Ramp => "ramp",
            Condition::Noisy => "noisy",
            Condition::RampNoisy => "ramp+noisy",
            Condition::VeryNoisy => "very-noisy",
            Condition::LateOnset => "late",
            Condition::Intermittent => "intermittent",
        }
    }

    /// The reference scenario under this condition with the given regression.
    #[must_use]
    pub fn scenario(self, error_multiplier: f64, latency_scale: f64) -> Scenario {
        let mut s = Scenario {
            error_multiplier,
            latency_scale,
            ..Scenario::reference()
        };
        match self {
            Condition::Steady => {}
            Condition::Ramp => s.weights = crate::sim::Weights::standard_ramp(),
            Condition::Noisy => {
                s.error_noise_cv = 0.3;
                s.latency_jitter = 0.03;
            }
            Condition::RampNoisy => {
                s.weights = crate::sim::Weights::standard_ramp();
                s.error_noise_cv = 0.3;
                s.latency_jitter = 0.03;
            }
            Condition::VeryNoisy => {
                s.error_noise_cv = 0.6;
                s.latency_jitter = 0.06;
            }
            Condition::LateOnset => s.onset_minute = 30,
            Condition::Intermittent => s.intermittent = Some(crate::sim::Cycle { on: 3, off: 7 }),
        }
        s.name = format!(
            "{} err x{error_multiplier} lat x{latency_scale}",
            self.label()
        );
        s
    }
}

/// Error multipliers of the standard matrix.
pub const ERROR_MULTIPLIERS: [f64; 5] = [1.0, 1.5, 2.0, 3.0, 5.0];
/// Latency scales of the standard matrix.
pub const LATENCY_SCALES: [f64; 4] = [1.0, 1.1, 1.25, 1.5];

/// The standard scenario matrix for `conditions`: every error multiplier (latency ×1)
/// and every latency scale above 1 (errors ×1), plus the fail-closed scenarios (canary
/// series missing throughout, canary series vanishing at minute 10, zero canary traffic
/// throughout) and a canary that restarts twice (counter resets, A/A).
#[must_use]
pub fn standard_scenarios(conditions: &[Condition]) -> Vec<Scenario> {
    let mut out = Vec::new();
    for &c in conditions {
        for &m in &ERROR_MULTIPLIERS {
            out.push(c.scenario(m, 1.0));
        }
        for &l in LATENCY_SCALES.iter().skip(1) {
            out.push(c.scenario(1.0, l));
        }
    }
    let base = Scenario::reference();
    out.push(Scenario {
        name: "missing canary series".to_owned(),
        canary_missing: Some(Window {
            start: 0,
            end: base.minutes,
        }),
        ..base.clone()
    });
    out.push(Scenario {
        name: "canary series vanishes at 10".to_owned(),
        canary_missing: Some(Window {
            start: 10,
            end: base.minutes,
        }),
        ..base.clone()
    });
    out.push(Scenario {
        name: "zero canary traffic".to_owned(),
        zero_canary_traffic: Some(Window {
            start: 0,
            end: base.minutes,
        }),
        ..base.clone()
    });
    out.push(Scenario {
        name: "counter resets (aa)".to_owned(),
        canary_restarts: vec![20, 41],
        ..base
    });
    out
}

/// Render rows as a Markdown table.
#[must_use]
pub fn render_table(rows: &[EvalRow]) -> String {
    let mut out = String::from(
        "| scenario | judge | runs | fail (false alarm / power) | pass | inconclusive | median min | p90 min | extra 5xx | extra slow |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let kind = if r.missing_data {
            "fail"
        } else if r.regression {
            "power"
        } else {
            "false alarm"
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.1} % {kind} | {:.1} % | {:.1} % | {} | {} | {:.1} | {:.0} |",
            r.scenario,
            r.judge,
            r.runs,
            r.fail_rate * 100.0,
            r.pass_rate * 100.0,
            r.inconclusive_rate * 100.0,
            r.median_minutes,
            r.p90_minutes,
            r.extra_errors,
            r.extra_slow
        );
    }
    out
}
