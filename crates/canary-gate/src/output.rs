//! The output stage: the report file, the outputs, the summary, the sticky comment, the
//! log and the exit code.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use hub_canary::Verdict;
use hub_kit::cli::exit;
use hub_kit::{Annotation, Env, Runner, vars};
use serde::Serialize;

use crate::args::Args;
use crate::format::num;
use crate::report::Outcome;
use crate::request::OnInconclusive;

/// A new, empty file for the default report: `hub-canary-gate-report-<random>.json` under
/// `$RUNNER_TEMP` (the job's own temporary directory), else the system's temporary
/// directory (`hub_kit::temp_dir`, which also answers under WebAssembly). It is created
/// exclusively (`O_EXCL`, which follows no link), so two gates in one job, or two users of
/// one `/tmp`, never share a report, and a link planted at a name cannot redirect the write.
fn new_report_file(env: &Env) -> Result<PathBuf> {
    let dir = env
        .get_non_empty(vars::RUNNER_TEMP)
        .map_or_else(hub_kit::temp_dir, PathBuf::from);
    loop {
        let path = dir.join(format!(
            "hub-canary-gate-report-{}.json",
            hub_kit::files::random_hex(8)
        ));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(_) => return Ok(path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(e).with_context(|| {
                    format!("cannot create the report file in `{}`", dir.display())
                });
            }
        }
    }
}

/// Outputs, report, summary, exit code.
pub fn finish<S: Serialize>(
    args: &Args,
    env: &Env,
    runner: &mut Runner,
    outcome: Outcome<S>,
    on_inconclusive: OnInconclusive,
) -> Result<ExitCode> {
    let report = &outcome.report;
    let path = match &args.report {
        Some(p) => PathBuf::from(p),
        None => new_report_file(env)?,
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
    runner.append_summary(&crate::report::summary(report, &outcome.charts))?;
    if args.comment {
        // One sticky comment (`<!-- hub-actions:canary-gate -->`) on the pull request, else
        // on the run's commit, the tokens masked first. Failing to comment (a read-only token
        // on a fork's pull request) does not change the verdict: it is a warning.
        let posted = hub_github::post_comment(
            env,
            args.token.as_deref(),
            runner,
            "canary-gate",
            &crate::report::comment(report),
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
    let details = report.details();
    if !details.is_empty() {
        runner.log_untrusted(details)?;
    }
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
            let mut blind = if report.blind.is_empty() {
                "no metric reached a decision".to_owned()
            } else {
                format!("blind: {}", report.blind.join(", "))
            };
            // In our own words: Prometheus's (untrusted) error is in the log and the report.
            if let Some(k) = outcome.unreachable {
                blind.push_str(&format!(
                    "; Prometheus did not answer (last at interval {k}: the log and the report's `blind_intervals` say why)"
                ));
            }
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
