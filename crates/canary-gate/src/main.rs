//! `hub-canary-gate`: compares a canary against its baseline and says pass, fail or
//! inconclusive — failing closed on missing data. The same binary is the `canary-gate`
//! action and a CLI.
//!
//! `main` reads like the action's README: read the request, gather the data (files, or
//! Prometheus interval by interval while traffic steps up), judge with `hub-canary`,
//! write the outputs, the report and the summary.

mod data;
mod filemode;
mod report;
mod rules;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use hub_canary::{GateDecision, Look, Verdict, combine};
use hub_kit::{Annotation, Env, Runner, cli::exit, vars};
use serde::Serialize;

use crate::filemode::{FileMetric, Judge};
use crate::report::{Chart, MetricRow, Report, num};
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

/// A wrong input: exit 2.
#[derive(Debug)]
struct Usage(String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

fn usage(message: impl Into<String>) -> anyhow::Error {
    Usage(message.into()).into()
}

fn main() -> ExitCode {
    hub_kit::cli::main::<Args, _>(|args, env| {
        let mut runner = Runner::new(env.clone());
        match run(&args, &env, &mut runner) {
            Ok(code) => code,
            Err(e) => {
                runner.report_error(e.as_ref());
                let code = if e.downcast_ref::<Usage>().is_some() {
                    exit::USAGE
                } else {
                    exit::FAILURE
                };
                ExitCode::from(code)
            }
        }
    })
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
        "file" => {
            let outcome = file_mode(args, &rules, runner)?;
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
    for (input, file) in [("canary-file", &canary), ("baseline-file", &baseline)] {
        if let Err(e) = file {
            runner.warning(&format!("{input}: {e}"), &Annotation::default())?;
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
    })
}

fn new_report<S: Serialize>(
    source: &'static str,
    decision: GateDecision,
    metrics: Vec<MetricRow>,
    last_weight: Option<f64>,
    steps: Vec<report::StepRecord>,
    samples: S,
) -> Report<S> {
    Report {
        source,
        verdict: decision.verdict,
        summary: decision.summary,
        failed: decision.failed,
        blind: decision.blind,
        last_weight,
        metrics,
        steps,
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
    report::write_atomically(&path, &json)?;

    runner.set_output("verdict", report.verdict.to_string())?;
    runner.set_output("failed-metrics", report.failed.join(","))?;
    runner.set_output("blind-metrics", report.blind.join(","))?;
    runner.set_output(
        "last-weight",
        report.last_weight.map(num).unwrap_or_default(),
    )?;
    runner.set_output("report", path.display().to_string())?;
    runner.append_summary(&report::summary(report, &outcome.charts))?;

    runner.info(&format!("verdict: {}", report.verdict))?;
    runner.log_untrusted(&report.summary)?;
    for m in &report.metrics {
        runner.log_untrusted(&format!(
            "{}: {} ({})",
            m.decision.metric, m.decision.verdict, m.evidence
        ))?;
    }
    let code = match report.verdict {
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
    runner.print_outputs(args.json)?;
    Ok(ExitCode::from(code))
}
