//! `hub-release-pr`: the release-pr action's binary as a library (`release_pr::main`).
//!
//! The default command is the lifecycle run, once per push to the release branch. It reads
//! like the action's README: read the request; read the facts (the checkout's tags and
//! history, the pull request HEAD came from); when HEAD is a merged release pull request,
//! release it (`release`: facts at its merge commit → plan → tags and releases); else plan
//! each release pull request (`pull`: its facts on GitHub, the next content, what to do — a
//! value) and carry it out (`act`, not in a dry run); then report (`report`: outputs, log,
//! summary, JSON). `version-files` is the version-file updaters as a local CLI.

mod act;
mod args;
mod body;
mod facts;
mod files;
mod github;
mod plan;
mod pull;
mod release;
mod report;
mod request;
mod version_files;
mod workspace;

use std::collections::BTreeSet;
use std::process::ExitCode;

use anyhow::Result;
use hub_kit::{Env, Runner};

pub use crate::args::{Args, Cli, Command};
use crate::github::GitHub;
use crate::report::Run;
use crate::request::Request;

/// The binary's `main`.
pub fn main() -> ExitCode {
    hub_kit::cli::run::<Cli, _>(run)
}

fn run(cli: &Cli, env: &Env, runner: &mut Runner) -> Result<ExitCode> {
    match &cli.command {
        Some(Command::VersionFiles(args)) => version_files::run(args, runner),
        None => lifecycle(&cli.run, env, runner),
    }
}

/// One run of the lifecycle.
fn lifecycle(args: &Args, env: &Env, runner: &mut Runner) -> Result<ExitCode> {
    // 1. The inputs, validated.
    let request = Request::read(args, env)?;
    if request.deprecated_path {
        runner.warning(
            "input `path` is deprecated: it names the repository's checkout, which is \
             `working-directory` now, as in the other actions (in semver-bump and \
             conventional-changelog `path` limits the commits to a folder; release-pr does that \
             with a `packages` config)",
            &hub_kit::Annotation::default(),
        )?;
    }
    let gh = GitHub::connect(env, request.token.as_deref(), runner)?;
    let base = release_branch(&request, env, &gh)?;
    let mut run = Run::new(&base, gh.workflow_token, request.dry_run);

    // A push to another branch (a pull request's, the release pull request's own) is not
    // a release branch run: nothing to do.
    if let Some(other) = env
        .get_non_empty("GITHUB_REF")
        .and_then(|r| r.strip_prefix("refs/heads/"))
        .filter(|b| *b != base)
    {
        runner.log_untrusted(&format!(
            "this run is for branch `{other}`, not the release branch `{base}`: nothing to do"
        ))?;
        report::finish(&run, &request, runner)?;
        return Ok(ExitCode::SUCCESS);
    }

    // 2. The facts: where HEAD is and whether it came from a merged release pull request.
    let head = facts::history(&request, "HEAD", &BTreeSet::new())?;
    let keys = keys(&base, &head.units, request.separate);
    let merged = gh
        .merged_pull_of(&head.at)?
        .filter(|pr| keys.iter().any(|k| pr.has_marker(k)));

    if let Some(pr) = merged {
        // 3–5. A merged release pull request: its releases (from the real range), made.
        release::merged(&request, &gh, &pr, &mut run, runner)?;
    } else {
        // The release pull requests, newest first, per key; a merged one left untagged by
        // an earlier run is released now, and the history read again after it.
        let mut found = Vec::new();
        for key in &keys {
            let branch = format!("hub-release/{key}");
            let pulls = gh.pulls_by_head(&branch)?;
            found.push((key.clone(), branch, pulls));
        }
        release::untagged(&request, &gh, &head, &found, &mut run, runner)?;
        let head = if run.releases.is_empty() || request.dry_run {
            head
        } else {
            facts::history(&request, "HEAD", &BTreeSet::new())?
        };
        // 3. The plan of each release pull request: its next content and what to do.
        for (key, branch, pulls) in &found {
            run.pulls
                .push(pull::plan(&request, &gh, &head, &base, key, branch, pulls)?);
        }
        // 4. Carry it out (not in a dry run).
        if !request.dry_run {
            for pull in &mut run.pulls {
                act::pull(&request, &gh, &head.repo, pull, runner)?;
            }
        }
    }
    // 5. Report: outputs, log, summary, the plan or outcome as JSON.
    report::finish(&run, &request, runner)?;
    Ok(ExitCode::SUCCESS)
}

/// The marker keys: the release branch, or `<branch>/<package>` per package.
fn keys(base: &str, units: &[facts::Unit], separate: bool) -> Vec<String> {
    if separate && !(units.len() == 1 && units[0].name == ".") {
        units.iter().map(|u| format!("{base}/{}", u.name)).collect()
    } else {
        vec![base.to_string()]
    }
}

/// The release branch: the input, else the event payload's default branch, else the
/// repository's (one API call).
fn release_branch(request: &Request, env: &Env, gh: &GitHub) -> Result<String> {
    if let Some(b) = &request.release_branch {
        return Ok(b.clone());
    }
    if let Some(b) =
        facts::default_branch_from_event(env.get_non_empty(hub_kit::vars::GITHUB_EVENT_PATH))
    {
        return Ok(b);
    }
    gh.default_branch()
}
