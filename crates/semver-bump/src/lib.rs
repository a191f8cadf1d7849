//! `hub-semver-bump`: the next semantic version from Conventional Commits since the last
//! release tag. The same binary is the `semver-bump` action and a CLI.
//!
//! `main` reads like the action's README: read the request, read the last release and the
//! commits since (the facts), plan (a value, no I/O: the next version, its tag, the notes,
//! what to write), report, then carry the plan out — or, in a dry run, say what it would
//! write.

mod act;
mod args;
mod facts;
mod github;
mod history;
mod lint;
mod plan;
mod report;
mod request;

use std::process::ExitCode;

use anyhow::{Result, anyhow};
use hub_kit::cli::exit;
use hub_kit::{Env, Runner};

use crate::args::Args;
use crate::request::Request;

/// The binary's whole `main`: the command line (or the action's inputs), one run, the exit
/// status. `hub-semver-bump` calls it, and so does the multi-call `hub semver-bump`.
pub fn main() -> ExitCode {
    hub_kit::cli::run::<Args, _>(run)
}

fn run(args: &Args, env: &Env, runner: &mut Runner) -> Result<ExitCode> {
    // 1. The inputs, validated.
    let request = Request::read(args, env)?;
    if let Some(spec) = request.packages.as_deref() {
        return run_packages(args, env, runner, spec, &request);
    }

    // 2. The facts: the last release (the highest version tag reachable from `to`), the
    //    commits since, and what `require-conventional` checks.
    let facts = facts::read(&request, args, env, runner)?;
    let commits: Vec<hub_git::Commit<'_>> = facts.log.iter().collect();

    // 3. The plan: the next version, its tag and notes, what to write.
    let plan = plan::release(
        &request,
        &request.pattern,
        &facts.last,
        &facts.to,
        &commits,
        lint::section(&facts.violations),
        true,
    )?;

    // 4. Report: outputs, log, step summary, annotations.
    report::release(
        runner,
        &plan,
        &args.path,
        request.requirement,
        &facts.violations,
    )?;

    // 5. Carry it out: tag, GitHub release, major tag, pull request comment.
    act::carry_out(&request, &facts.repo, &plan, env, runner)?;
    runner.print_outputs(args.json)?;
    match lint::failure(&facts.violations, args.comment) {
        Some(message) => Err(anyhow!(message)),
        None => Ok(ExitCode::from(exit::OK)),
    }
}

/// Monorepo mode: every package of the config from one `git log` (see `packages`).
fn run_packages(
    args: &Args,
    env: &Env,
    runner: &mut Runner,
    spec: &str,
    request: &Request,
) -> Result<ExitCode> {
    // 2. The facts: each package's last release, one log since the oldest of them.
    let facts = facts::read_packages(spec, request, args, runner)?;
    // 3. The plan: each package's from the commits that touch it since its release.
    let plans = plan::packages(request, &facts)?;
    // 4. Report: a row per package, the `packages` output.
    report::packages(runner, &plans)?;
    // 5. Tags and releases per changed package, as in single-package mode.
    for (_, plan) in plans.iter().filter(|(_, plan)| plan.next_tag.is_some()) {
        act::carry_out(request, &facts.repo, plan, env, runner)?;
    }
    runner.print_outputs(args.json)?;
    Ok(ExitCode::from(exit::OK))
}
