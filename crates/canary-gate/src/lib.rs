//! `hub-canary-gate`: compares a canary against its baseline and says pass, fail or
//! inconclusive — failing closed on missing data. The same binary is the `canary-gate`
//! action and a CLI.
//!
//! `main` reads like the action's README: read the request (`args`, `request`), plan
//! (`plan`, pure), gather the data (files, or Prometheus interval by interval while
//! traffic steps up: `progressive`), judge with `hub-canary`, and write the outputs, the
//! report and the summary (`report`, `output`).

mod args;
mod data;
mod filemode;
mod format;
mod output;
mod plan;
mod probe;
mod progressive;
mod prom;
mod report;
mod request;
mod rules;

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use hub_kit::cli::usage;
use hub_kit::{Env, Runner};

use crate::args::{Args, lines};
use crate::probe::Health;
use crate::progressive::{IntervalRecord, MetricNames};
use crate::prom::Prometheus;
use crate::report::Outcome;
use crate::rules::Rule;

/// The binary's whole `main`: the command line (or the action's inputs), one run, the exit
/// status. `hub-canary-gate` calls it, and so does the multi-call `hub canary-gate`.
pub fn main() -> ExitCode {
    hub_kit::cli::run::<Args, _>(run)
}

fn run(args: &Args, env: &Env, runner: &mut Runner) -> Result<ExitCode> {
    // 1. The request.
    let on_inconclusive = request::on_inconclusive(args)?;
    let rules =
        rules::parse(&lines(&args.metrics)).map_err(|e| usage(format!("input `metrics`: {e}")))?;

    // 2. Gather and judge; 3. write the outputs.
    match args.source.as_str() {
        "file" if args.simulate.is_some() => Err(usage(
            "input `simulate` replaces Prometheus: it needs `source: prometheus`",
        )),
        "file" => {
            let outcome = filemode::gather(args, &rules, runner)?;
            output::finish(args, env, runner, outcome, on_inconclusive)
        }
        // WASI preview 1 has no threads and no timers to run steps by: the interval loop,
        // its parallel queries and its step commands need the native binary.
        "prometheus" if cfg!(target_os = "wasi") => Err(anyhow::anyhow!(
            "canary-gate's Prometheus mode (and `simulate`) runs only natively: use `engine: native` (`source: file` runs here)"
        )),
        "prometheus" => {
            let outcome = progressive_mode(args, env, &rules, runner)?;
            output::finish(args, env, runner, outcome, on_inconclusive)
        }
        other => Err(usage(format!(
            "input `source` must be `prometheus` or `file`, got `{other}`"
        ))),
    }
}

/// `source: prometheus` (or `--simulate`): the plan, then traffic steps, one interval at a
/// time.
fn progressive_mode(
    args: &Args,
    env: &Env,
    rules: &[Rule],
    runner: &mut Runner,
) -> Result<Outcome<Vec<IntervalRecord>>> {
    let setup = plan::progressive(args, rules, Instant::now())?;
    let plan = &setup.plan;
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
        let mut feed = plan::simulation(args, &setup, seed);
        ("simulate", progressive::run(plan, &mut feed, &mut say))
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
        let prometheus = Prometheus::new(url, args.prometheus_token.as_deref(), &headers, &http)?;
        let calibration_selectors = setup
            .calibration_selectors
            .clone()
            .unwrap_or_else(|| (baseline.clone(), canary.clone()));
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
            interval: setup.interval.as_secs_f64(),
            latency: setup.plan.gate.latency.is_some(),
            fixed_threshold: args.latency_threshold,
            threshold_window: setup.threshold_window,
            health: Health::new(setup.health_urls.clone(), &http).map_err(anyhow::Error::msg)?,
            health_max_failures: args.health_max_failures,
            health_failures: 0,
            t0: progressive::unix_now(),
            start: Instant::now(),
            calibration_selectors,
            calibration_window: setup.calibration_window,
            deadline: setup.plan.deadline,
        };
        ("prometheus", progressive::run(plan, &mut feed, &mut say))
    };
    let run = run.map_err(anyhow::Error::msg)?;
    Ok(report::progressive(source, run))
}
