//! `hub-canary-gate`: compares a canary against its baseline and says pass, fail or
//! inconclusive — failing closed on missing data. The same binary is the `canary-gate`
//! action and a CLI.
//!
//! `main` reads like the action's README: read the request, gather the data (files, or
//! Prometheus interval by interval while traffic steps up), judge with `hub-canary`,
//! write the outputs, the report and the summary.

mod data;
mod filemode;
mod format;
mod probe;
mod progressive;
mod prom;
mod report;
mod rules;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;
use hub_canary::{
    ArmCounts, ArmSample, GateConfig, GateDecision, LatencyConfig, Look, MetricDecision,
    MetricKind, RateGuardrailConfig, RatioConfig, Scenario, Verdict, Weights, Worse, combine,
    histogram_quantile, names,
};
use hub_kit::cli::{exit, usage};
use hub_kit::{Annotation, Env, Runner, vars};
use serde::Serialize;

use crate::filemode::{FileMetric, Judge};
use crate::format::num;
use crate::probe::Health;
use crate::progressive::{IntervalRecord, MetricNames, Plan};
use crate::prom::Prometheus;
use crate::report::{Chart, MetricRow, Report};
use crate::rules::Rule;

/// Compares a canary against its baseline: pass, fail or inconclusive (never pass on
/// missing data).
#[derive(Parser, Debug)]
#[command(name = "hub-canary-gate", about, max_term_width = 100)]
pub struct Args {
    /// Where the data comes from: `prometheus` or `file`.
    #[arg(long, default_value = "prometheus")]
    source: String,
    /// `source: file`: the canary's values (JSON or CSV; see the README).
    #[arg(long)]
    canary_file: Option<String>,
    /// `source: file`: the baseline's values.
    #[arg(long)]
    baseline_file: Option<String>,
    /// `source: file`: `gauge` (Hodges-Lehmann interval on the log scale) or `kayenta`
    /// (Kayenta's Mann-Whitney classifier).
    #[arg(long, default_value = "gauge")]
    judge: String,
    /// Metric rules, one per line: `NAME: higher-is-worse|lower-is-worse, max-ratio=X,
    /// tolerance=X`.
    #[arg(long)]
    metrics: Vec<String>,
    /// `source: file`: values each arm needs before any verdict.
    #[arg(long, default_value_t = 5)]
    min_samples: usize,
    /// Prometheus server URL (e.g. `http://prometheus:9090`).
    #[arg(long)]
    prometheus_url: Option<String>,
    /// Bearer token for Prometheus (masked in the log).
    #[arg(long)]
    prometheus_token: Option<String>,
    /// Extra request headers for Prometheus, one `Name: value` per line (values masked).
    #[arg(long)]
    prometheus_headers: Vec<String>,
    /// Label selector of the canary's series, e.g. `app="demo",track="canary"`.
    #[arg(long)]
    canary_selector: Option<String>,
    /// Label selector of the baseline's series, e.g. `app="demo",track="stable"`.
    #[arg(long)]
    baseline_selector: Option<String>,
    /// Request counter of the `error-rate` template.
    #[arg(long, default_value = "http_requests_total")]
    requests_metric: String,
    /// Status-code label of the request counter.
    #[arg(long, default_value = "code")]
    status_label: String,
    /// Regex of the status codes that count as errors.
    #[arg(long, default_value = "5..")]
    error_codes: String,
    /// Histogram of the `latency` template (without `_bucket`).
    #[arg(long, default_value = "http_request_duration_seconds")]
    latency_metric: String,
    /// Latency threshold in seconds (a bucket bound, e.g. your SLO). Default: the bucket
    /// bound nearest the baseline's p95 over `threshold-window` before the start.
    #[arg(long)]
    latency_threshold: Option<f64>,
    /// History the latency threshold is chosen from.
    #[arg(long, default_value = "1h")]
    threshold_window: String,
    /// Canary traffic weights in percent, in order.
    #[arg(long, default_value = "5,10,25,50,100")]
    steps: String,
    /// How long each step lasts.
    #[arg(long, default_value = "5m")]
    step_duration: String,
    /// How often Prometheus is read (one judged interval).
    #[arg(long, default_value = "1m")]
    interval: String,
    /// The longest the analysis may run; then the verdict is final.
    #[arg(long, default_value = "30m")]
    max_duration: String,
    /// Run before each step (one line, split with simple quoting; no shell), with
    /// `HUB_CANARY_WEIGHT` set to the step's weight.
    #[arg(long, allow_hyphen_values = true)]
    step_command: Option<String>,
    /// URLs probed every interval (one per line); a URL is up when it answers 2xx.
    #[arg(long)]
    health_urls: Vec<String>,
    /// Failed health rounds tolerated before the health check fails the gate.
    #[arg(long, default_value_t = 0)]
    health_max_failures: usize,
    /// Intervals before the gate may pass (default 20).
    #[arg(long)]
    min_intervals: Option<usize>,
    /// Requests each arm must serve before the gate may pass (default 1000).
    #[arg(long)]
    min_requests: Option<f64>,
    /// An absolute limit on the canary's error rate, e.g. `1%` or `0.01` (default: none).
    #[arg(long)]
    max_error_rate: Option<String>,
    /// `until-end`: after the canary looks healthy keep watching (with change detection)
    /// until the last step or `max-duration` ends, so a regression that starts late still
    /// fails; `until-pass`: stop at the first pass.
    #[arg(long, default_value = "until-end")]
    watch: String,
    /// Overdispersion factor of the count tests: `1` (Poisson), a number above 1 for a
    /// noisy service, or `auto` to estimate it from an A/A window before the start.
    #[arg(long, default_value = "1")]
    dispersion: String,
    /// `dispersion: auto`: two label selectors (one per line) of arms running the same
    /// version, e.g. two halves of the baseline's pods. Default: `baseline-selector` and
    /// `canary-selector` (a canary running the baseline's version before the rollout).
    #[arg(long)]
    calibration_selectors: Vec<String>,
    /// `dispersion: auto`: how far back before the start the A/A window reaches.
    #[arg(long, default_value = "1h")]
    calibration_window: String,
    /// Keep one comment with the verdict, the table and the timeline on the pull request,
    /// or on the commit when no pull request triggered the run (created once, then edited
    /// in place).
    #[arg(long)]
    comment: bool,
    /// Token for the comment (default `GITHUB_TOKEN`): `pull-requests: write` on a pull
    /// request, `contents: write` on a commit.
    #[arg(long)]
    token: Option<String>,
    /// Run on `hub_canary`'s seeded simulator instead of Prometheus (fast, deterministic).
    #[arg(long)]
    simulate: Option<u64>,
    /// With `simulate`: the canary's error-rate multiplier (1 = no regression).
    #[arg(long, default_value_t = 1.0)]
    simulate_errors: f64,
    /// With `simulate`: the canary's latency scale (1 = no regression).
    #[arg(long, default_value_t = 1.0)]
    simulate_latency: f64,
    /// With `simulate`: per-arm extra noise, the coefficient of variation of each arm's
    /// error rate per interval (0 = Poisson counts).
    #[arg(long, default_value_t = 0.0)]
    simulate_noise: f64,
    /// With `simulate`: the interval at which the regression starts (0 = from the start).
    #[arg(long, default_value_t = 0)]
    simulate_onset: usize,
    /// When the verdict is inconclusive: `fail` (exit 1) or `pass` (exit 0 with a warning).
    #[arg(long, default_value = "fail")]
    on_inconclusive: String,
    /// Where to write the JSON report (default: `$RUNNER_TEMP/hub-canary-gate-report.json`).
    #[arg(long)]
    report: Option<String>,
    /// Print the outputs as one JSON object.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    hub_kit::cli::run::<Args, _>(run)
}

/// What to do with an inconclusive verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OnInconclusive {
    Fail,
    Pass,
}

/// Everything a finished run hands to the output stage.
struct Outcome<S: Serialize> {
    report: Report<S>,
    charts: Vec<Chart>,
    /// An operational failure that ended the run early (exit 1 whatever the verdict).
    aborted: Option<String>,
}

fn run(args: &Args, env: &Env, runner: &mut Runner) -> Result<ExitCode> {
    // 1. The request.
    let on_inconclusive = match args.on_inconclusive.as_str() {
        "fail" => OnInconclusive::Fail,
        "pass" => OnInconclusive::Pass,
        other => {
            return Err(usage(format!(
                "input `on-inconclusive` must be `fail` or `pass`, got `{other}`"
            )));
        }
    };
    let rules =
        rules::parse(&lines(&args.metrics)).map_err(|e| usage(format!("input `metrics`: {e}")))?;

    // 2. Gather and judge.
    match args.source.as_str() {
        "file" if args.simulate.is_some() => Err(usage(
            "input `simulate` replaces Prometheus: it needs `source: prometheus`",
        )),
        "file" => {
            let outcome = file_mode(args, &rules, runner)?;
            finish(args, env, runner, outcome, on_inconclusive)
        }
        "prometheus" => {
            let outcome = progressive_mode(args, env, &rules, runner)?;
            finish(args, env, runner, outcome, on_inconclusive)
        }
        other => Err(usage(format!(
            "input `source` must be `prometheus` or `file`, got `{other}`"
        ))),
    }
}

/// Multi-line values given on the command line split like the action input: one item a
/// line.
fn lines(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| hub_kit::input::split_lines(v))
        .collect()
}

/// `source: file`: read both files, judge every metric once.
fn file_mode(args: &Args, rules: &[Rule], runner: &mut Runner) -> Result<Outcome<Vec<FileMetric>>> {
    let judge = match args.judge.as_str() {
        "gauge" => Judge::Gauge,
        "kayenta" => Judge::Kayenta,
        other => {
            return Err(usage(format!(
                "input `judge` must be `gauge` or `kayenta`, got `{other}`"
            )));
        }
    };
    let read = |input: &str, path: &Option<String>| -> Result<data::Table, String> {
        let path = path
            .as_deref()
            .ok_or_else(|| format!("input `{input}` is not set"))?;
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read `{path}`: {e}"))?;
        data::parse(&text).map_err(|e| format!("`{path}`: {e}"))
    };
    let canary = read("canary-file", &args.canary_file);
    let baseline = read("baseline-file", &args.baseline_file);
    for (input, path, file) in [
        ("canary-file", &args.canary_file, &canary),
        ("baseline-file", &args.baseline_file, &baseline),
    ] {
        match file {
            Err(e) => runner.warning(&format!("{input}: {e}"), &Annotation::default())?,
            Ok(table) => {
                if let Some((message, at)) =
                    filemode::invalid_warning(input, path.as_deref().unwrap_or_default(), table)
                {
                    runner.warning(&message, &at)?;
                }
            }
        }
    }
    let rules = filemode::metric_names(rules, [&canary, &baseline]);
    let metrics = filemode::judge(&rules, &canary, &baseline, judge, args.min_samples)
        .context("the judge refused its configuration")?;
    let decision = combine(
        metrics.iter().map(|m| m.decision.clone()).collect(),
        Look::Final,
    );
    let median = |v: &[Option<f64>]| {
        let mut xs: Vec<f64> = v
            .iter()
            .filter_map(|x| *x)
            .filter(|x| x.is_finite())
            .collect();
        xs.sort_by(f64::total_cmp);
        match xs.len() {
            0 => "–".to_owned(),
            n if n % 2 == 1 => format!("median {}", num(xs[n / 2])),
            n => format!("median {}", num((xs[n / 2 - 1] + xs[n / 2]) / 2.0)),
        }
    };
    let rows = metrics
        .iter()
        .map(|m| MetricRow {
            decision: m.decision.clone(),
            evidence: m.evidence.clone(),
            canary: median(&m.canary),
            baseline: median(&m.baseline),
            ratio: report::ratio_cell(&m.decision),
        })
        .collect();
    let charts = metrics
        .iter()
        .map(|m| Chart {
            metric: m.decision.metric.clone(),
            unit: "value per sample",
            canary: m.canary.clone(),
            baseline: m.baseline.clone(),
        })
        .collect();
    Ok(Outcome {
        report: new_report("file", decision, rows, None, Vec::new(), metrics),
        charts,
        aborted: None,
    })
}

/// The built-in metrics of progressive mode and their judges' settings.
fn gate_config(args: &Args, rules: &[Rule]) -> Result<GateConfig> {
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
fn fixed_dispersion(text: &str) -> Result<Option<f64>> {
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

fn duration(name: &str, value: &str) -> Result<Duration> {
    let d = hub_kit::input::parse_duration(name, value).map_err(|e| usage(e.to_string()))?;
    if d.is_zero() {
        return Err(usage(format!("input `{name}` must be longer than zero")));
    }
    Ok(d)
}

fn parse_steps(text: &str) -> Result<Vec<f64>> {
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

/// `source: prometheus` (or `--simulate`): traffic steps, one interval at a time.
fn progressive_mode(
    args: &Args,
    env: &Env,
    rules: &[Rule],
    runner: &mut Runner,
) -> Result<Outcome<Vec<IntervalRecord>>> {
    // `max-duration` is wall-clock from here: every query, probe and `step-command` is
    // given up at the deadline, which keeps back a little time for the outputs.
    let started = Instant::now();
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
        Some(_) => progressive::Dispersion::Fixed,
        None => progressive::Dispersion::Auto,
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
    let plan = Plan {
        steps: steps.clone(),
        per_step,
        max_intervals,
        gate: gate.clone(),
        latency_quantile: 0.95,
        step_command,
        deadline,
        dispersion,
    };
    let health_urls = lines(&args.health_urls);
    // Tokens and header values never reach the log.
    if let Some(t) = &args.prometheus_token {
        runner.set_secret(t)?;
    }
    for h in lines(&args.prometheus_headers) {
        if let Some((_, v)) = h.split_once(':') {
            runner.set_secret(v.trim())?;
        }
    }
    let mut say = |line: &str| {
        let _ = runner.log_untrusted(line);
    };
    let (source, run) = if let Some(seed) = args.simulate {
        let weights = Weights::Ramp {
            steps: steps.iter().map(|w| (w / 100.0).min(0.5)).collect(),
            step_minutes: per_step,
        };
        let scenario = Scenario {
            name: "simulate".into(),
            minutes: max_intervals,
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
            minutes: (calibration_window.as_secs_f64() / interval.as_secs_f64()) as usize,
            weights: Weights::Even,
            error_multiplier: 1.0,
            latency_scale: 1.0,
            ..scenario.clone()
        }
        .simulate(seed ^ 0x00ca_11b8_a7e0_0000)
        .intervals();
        let mut feed = progressive::SimFeed {
            intervals: sim.intervals(),
            threshold: args.latency_threshold.unwrap_or(sim.threshold),
            interval: interval.as_secs_f64(),
            read: 0,
            aa,
        };
        ("simulate", progressive::run(&plan, &mut feed, &mut say))
    } else {
        let url = args
            .prometheus_url
            .as_deref()
            .ok_or_else(|| usage("input `prometheus-url` is required with `source: prometheus`"))?;
        let canary = args.canary_selector.clone().ok_or_else(|| {
            usage("input `canary-selector` is required with `source: prometheus`")
        })?;
        let baseline = args.baseline_selector.clone().ok_or_else(|| {
            usage("input `baseline-selector` is required with `source: prometheus`")
        })?;
        let headers = lines(&args.prometheus_headers);
        // Proxies (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`) from the binary's environment;
        // any address: the workflow names these URLs.
        let http = hub_http::Settings::from_vars(|n| env.get(n).map(String::from));
        let prometheus = Prometheus::new(url, args.prometheus_token.as_deref(), &headers, &http)
            .map_err(|e| usage(format!("input `prometheus-url`/`prometheus-headers`: {e}")))?;
        let calibration_selectors =
            calibration_selectors.unwrap_or_else(|| (baseline.clone(), canary.clone()));
        let mut feed = progressive::PromFeed {
            prometheus,
            names: MetricNames {
                requests: args.requests_metric.clone(),
                code_label: args.status_label.clone(),
                error_codes: args.error_codes.clone(),
                latency: args.latency_metric.clone(),
            },
            canary,
            baseline,
            interval: interval.as_secs_f64(),
            latency: gate.latency.is_some(),
            fixed_threshold: args.latency_threshold,
            threshold_window,
            health: Health::new(health_urls, &http).map_err(anyhow::Error::msg)?,
            health_max_failures: args.health_max_failures,
            health_failures: 0,
            t0: progressive::unix_now(),
            start: Instant::now(),
            calibration_selectors,
            calibration_window,
            deadline,
        };
        ("prometheus", progressive::run(&plan, &mut feed, &mut say))
    };
    let run = run.map_err(anyhow::Error::msg)?;
    let blind_intervals = run.blind_intervals();
    let rows = run.decision.metrics.iter().map(progressive_row).collect();
    let charts = progressive_charts(&run);
    let calibration = run.calibration;
    let mut report = new_report(
        source,
        run.decision,
        rows,
        run.last_weight,
        run.steps,
        run.intervals,
    );
    report.calibration = calibration;
    report.blind_intervals = blind_intervals;
    if let Some(w) = run.held_at {
        report.summary.push_str(&format!(
            " (traffic held at {} %: a metric was blind when the step ended, until `max-duration` ended)",
            num(w)
        ));
    }
    if let Some(t) = run.threshold {
        report
            .summary
            .push_str(&format!(" (latency threshold {} s)", num(t)));
    }
    Ok(Outcome {
        report,
        charts,
        aborted: run.aborted,
    })
}

fn progressive_row(d: &MetricDecision) -> MetricRow {
    let rate = |c: &ArmCounts| {
        if c.requests > 0.0 {
            format!(
                "{} % ({}/{})",
                num(c.bad / c.requests * 100.0),
                num(c.bad),
                num(c.requests)
            )
        } else {
            "–".to_owned()
        }
    };
    let (canary, baseline) = match (d.kind, d.effect) {
        (MetricKind::Ratio, Some(e)) => (
            format!(
                "p{} {} s; slow {}",
                num(e.q * 100.0),
                num(e.canary),
                rate(&d.canary)
            ),
            format!(
                "p{} {} s; slow {}",
                num(e.q * 100.0),
                num(e.baseline),
                rate(&d.baseline)
            ),
        ),
        (MetricKind::Ratio, None) => (rate(&d.canary), rate(&d.baseline)),
        (MetricKind::Guardrail, _) if d.metric == names::MAX_ERROR_RATE => {
            (rate(&d.canary), "–".to_owned())
        }
        _ => ("–".to_owned(), "–".to_owned()),
    };
    MetricRow {
        decision: d.clone(),
        evidence: d.reason.to_string(),
        canary,
        baseline,
        ratio: report::ratio_cell(d),
    }
}

/// One value per arm and interval, for a chart.
type PerInterval<'a> = &'a dyn Fn(&ArmSample) -> Option<f64>;

fn progressive_charts(run: &progressive::Run) -> Vec<Chart> {
    let percent = |a: &ArmSample| match (a.requests, a.errors) {
        (Some(r), Some(e)) if r > 0.0 => Some(e / r * 100.0),
        _ => None,
    };
    let p95 = |a: &ArmSample| {
        a.buckets
            .as_deref()
            .map(|b| histogram_quantile(0.95, b))
            .filter(|q| q.is_finite())
    };
    let mut charts = Vec::new();
    for d in &run.decision.metrics {
        let (unit, f): (&'static str, PerInterval) = match d.metric.as_str() {
            names::ERROR_RATE => ("5xx % per interval", &percent),
            names::LATENCY => ("p95 seconds per interval", &p95),
            _ => continue,
        };
        charts.push(Chart {
            metric: d.metric.clone(),
            unit,
            canary: run
                .intervals
                .iter()
                .map(|i| f(&i.read.interval.canary))
                .collect(),
            baseline: run
                .intervals
                .iter()
                .map(|i| f(&i.read.interval.baseline))
                .collect(),
        });
    }
    charts
}

fn new_report<S: Serialize>(
    source: &'static str,
    decision: GateDecision,
    metrics: Vec<MetricRow>,
    last_weight: Option<f64>,
    steps: Vec<progressive::StepRecord>,
    samples: S,
) -> Report<S> {
    Report {
        source,
        verdict: decision.verdict,
        summary: decision.summary,
        failed: decision.failed,
        blind: decision.blind,
        last_weight,
        latency_threshold: None,
        metrics,
        steps,
        blind_intervals: Vec::new(),
        calibration: None,
        samples,
    }
}

/// Outputs, report, summary, exit code.
fn finish<S: Serialize>(
    args: &Args,
    env: &Env,
    runner: &mut Runner,
    outcome: Outcome<S>,
    on_inconclusive: OnInconclusive,
) -> Result<ExitCode> {
    let report = &outcome.report;
    let path = match &args.report {
        Some(p) => PathBuf::from(p),
        None => env
            .get_non_empty(vars::RUNNER_TEMP)
            .map_or_else(std::env::temp_dir, PathBuf::from)
            .join("hub-canary-gate-report.json"),
    };
    let json = serde_json::to_vec_pretty(report).context("cannot serialise the report")?;
    hub_kit::files::write_atomically(&path, &json)?;

    runner.set_output("verdict", report.verdict.to_string())?;
    runner.set_output("failed-metrics", report.failed.join(","))?;
    runner.set_output("blind-metrics", report.blind.join(","))?;
    runner.set_output(
        "last-weight",
        report.last_weight.map(num).unwrap_or_default(),
    )?;
    runner.set_output("report", path.display().to_string())?;
    runner.append_summary(&report::summary(report, &outcome.charts))?;
    if args.comment {
        if let Some(t) = &args.token {
            runner.set_secret(t)?;
        }
        // One sticky comment (`<!-- hub-actions:canary-gate -->`) on the pull request, else
        // on the run's commit. Failing to comment (a read-only token on a fork's pull
        // request) does not change the verdict: it is a warning.
        let posted = hub_github::post_sticky_comment(
            &|name: &str| env.get(name).map(String::from),
            args.token.as_deref(),
            "canary-gate",
            &report::comment(report),
            hub_github::CommentOn::PullRequestOrCommit,
        );
        match posted.map_err(anyhow::Error::from) {
            Ok(Some(posted)) => runner.info(&posted.describe())?,
            Ok(None) => runner.info(
                "no comment posted: the run is not for a pull request and names no commit (no `GITHUB_SHA`)",
            )?,
            Err(e) => runner.warning(
                &format!("cannot post the comment: {e:#}"),
                &Annotation::default(),
            )?,
        }
    }

    runner.info(&format!("verdict: {}", report.verdict))?;
    runner.log_untrusted(&report.summary)?;
    for m in &report.metrics {
        runner.log_untrusted(&format!(
            "{}: {} ({})",
            m.decision.metric, m.decision.verdict, m.evidence
        ))?;
    }
    let mut code = match report.verdict {
        Verdict::Pass => exit::OK,
        Verdict::Fail => {
            runner.error(
                &format!("the canary failed: {}", report.failed.join(", ")),
                &Annotation::default().with_title("canary-gate"),
            )?;
            exit::FAILURE
        }
        Verdict::Inconclusive | Verdict::Continue => {
            let blind = if report.blind.is_empty() {
                "no metric reached a decision".to_owned()
            } else {
                format!("blind: {}", report.blind.join(", "))
            };
            match on_inconclusive {
                OnInconclusive::Fail => {
                    runner.error(
                        &format!(
                            "the canary is inconclusive ({blind}); `on-inconclusive` is `fail`"
                        ),
                        &Annotation::default().with_title("canary-gate"),
                    )?;
                    exit::FAILURE
                }
                OnInconclusive::Pass => {
                    runner.warning(
                        &format!("the canary is inconclusive ({blind}); passing because `on-inconclusive` is `pass`"),
                        &Annotation::default().with_title("canary-gate"),
                    )?;
                    exit::OK
                }
            }
        }
    };
    if let Some(why) = &outcome.aborted {
        runner.error(
            &format!("the rollout stopped: {why}"),
            &Annotation::default().with_title("canary-gate"),
        )?;
        code = exit::FAILURE;
    }
    runner.print_outputs(args.json)?;
    Ok(ExitCode::from(code))
}
