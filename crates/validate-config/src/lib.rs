//! `hub-validate-config`: checks YAML, JSON and TOML files against JSON Schema and CEL rules.
//!
//! Steps: find the files, read the schema map and rules, parse and validate (hub-config) in
//! parallel, then report: annotations, step summary, outputs, and the report on stdout as
//! text, JSON or SARIF. Exit 0 when every file is valid, 1 on any error (or warning with
//! `--fail-on-warning`), 2 on a usage error.

mod check;
mod emit;
mod fetch;
mod files;
mod inputs;
mod policy;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use hub_config::FileReport;
use hub_kit::cli::exit;
use hub_kit::{Env, Runner};

use inputs::{Args, OutputFormat};

/// The binary's whole `main`: the command line (or the action's inputs), one run, the exit
/// status. `hub-validate-config` calls it, and so does the multi-call `hub validate-config`.
pub fn main() -> ExitCode {
    hub_kit::cli::run::<Args, _>(run)
}

fn run(args: &Args, env: &Env, runner: &mut Runner) -> anyhow::Result<ExitCode> {
    // The tokens are masked before anything could echo them (a server's error, a log line).
    hub_github::mask_tokens(env, args.token.as_deref(), runner)?;
    let root = std::env::current_dir().context("cannot read the working directory")?;
    let policy = Arc::new(policy::Policy::new(
        &root,
        &args.schema_roots,
        &args.allowed_hosts,
    )?);
    let settings = inputs::settings(args, &root, &policy)?;
    // Proxies from the binary's environment (`HTTPS_PROXY`, `NO_PROXY`, …), as every action.
    let http = hub_http::Settings::from_vars(|name| env.get(name).map(String::from));
    let cache = inputs::cache_dir(args, env);
    let fetcher = fetch::Fetcher::new(cache, args.offline, http, Arc::clone(&policy));
    let loader = check::Loader::new(fetcher, policy);
    // The files are checked while the walk is still finding them.
    let (report, notes) = check::check_all(
        |found| files::discover_each(&root, &args.files, args.schema.as_deref(), found),
        &settings,
        &loader,
    )?;

    // GitHub places annotations and code-scanning alerts by repository-relative paths; the
    // text and JSON reports stay relative to the working directory.
    let prefix = if runner.in_actions() {
        emit::repository_prefix(&root, env.get_non_empty(hub_kit::vars::GITHUB_WORKSPACE))
    } else {
        String::new()
    };
    if runner.in_actions() {
        emit::annotate(runner, &report, &prefix)?;
    }
    for note in &notes {
        runner.warning(note, &hub_kit::Annotation::default())?;
    }
    // The summary is for the step summary file and the comment; outside Actions, with
    // neither, rendering 2,000 files' tables would be thrown away.
    let wants_summary = args.comment || runner.wants_summary();
    let summary = if wants_summary {
        emit::summary(&report, &notes)
    } else {
        String::new()
    };
    if wants_summary {
        runner.append_summary(&summary)?;
    }
    if args.comment {
        // Failing to comment (a read-only token on a fork's pull request) does not change the
        // verdict on the files: it is a warning.
        let posted = hub_github::post_comment(
            env,
            args.token.as_deref(),
            runner,
            "validate-config",
            &summary,
            hub_github::CommentOn::PullRequest,
        );
        match posted.map_err(anyhow::Error::from) {
            Ok(Some(posted)) => runner.info(&posted.describe())?,
            Ok(None) => runner.info("not a pull request: no comment posted")?,
            Err(e) => runner.warning(
                &format!("cannot post the pull request comment: {e:#}"),
                &hub_kit::Annotation::default(),
            )?,
        }
    }

    // The JSON report, rendered once if wanted, its files' entries on the workers.
    let json_text = || {
        let entries = check::par_map(&report.files, settings.jobs, FileReport::json_entry);
        report.to_json_pretty_from(&entries)
    };
    let mut json = None;
    let report_file = inputs::report_file(args, env, runner.in_actions());
    if let Some(path) = &report_file {
        let text = json.get_or_insert_with(json_text);
        hub_kit::files::write_atomically(path, text.as_bytes())
            .with_context(|| format!("cannot write the report to `{}`", path.display()))?;
    }
    runner.set_output("valid", report.valid().to_string())?;
    runner.set_output("files-checked", report.files_checked().to_string())?;
    runner.set_output("error-count", report.error_count().to_string())?;
    runner.set_output("warning-count", report.warning_count().to_string())?;
    runner.set_output(
        "report",
        report_file
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
    )?;

    // SARIF for code scanning goes to its own file: inside Actions stdout is fenced.
    let sarif = || {
        let rooted;
        let report = if prefix.is_empty() {
            &report
        } else {
            rooted = emit::from_repository_root(&report, &prefix);
            &rooted
        };
        let sarif = report.to_sarif(
            "hub-validate-config",
            env!("CARGO_PKG_VERSION"),
            "https://github.com/org/hub-actions/tree/main/validate-config",
        );
        serde_json::to_string_pretty(&sarif).expect("because a JSON value always serialises")
    };
    if let Some(path) = &args.sarif_file {
        hub_kit::files::write_atomically(path, sarif().as_bytes())
            .with_context(|| format!("cannot write the SARIF report to `{}`", path.display()))?;
    }
    // Config values are in every format: printed through hub-kit, fenced inside Actions.
    match args.format {
        OutputFormat::Text => runner.print_untrusted(&report.to_text())?,
        OutputFormat::Json => runner.print_untrusted(json.get_or_insert_with(json_text))?,
        OutputFormat::Sarif => runner.print_untrusted(&sarif())?,
    }
    let failed = report.error_count() > 0 || (args.fail_on_warning && report.warning_count() > 0);
    Ok(ExitCode::from(if failed {
        exit::FAILURE
    } else {
        exit::OK
    }))
}
