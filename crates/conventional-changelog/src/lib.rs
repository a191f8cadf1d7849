//! `hub-conventional-changelog`: a grouped changelog from Conventional Commits — the
//! unreleased commits, one release, a range, or the whole history — prepended to
//! `CHANGELOG.md` idempotently, and the new section as an output. The same binary is the
//! `conventional-changelog` action and a CLI.
//!
//! `main` reads like the action's README: read the request, read the commits and the file
//! (the facts), plan (a value, no I/O: the new section and the file's new text), write the
//! file, commit it (when asked), report.

mod act;
mod args;
mod authors;
mod date;
mod facts;
mod file;
mod history;
mod lean;
mod links;
mod plan;
mod publish;
mod report;
mod request;
mod types;

use std::process::ExitCode;

use anyhow::Result;
use hub_kit::cli::exit;
use hub_kit::{Env, Runner};

use crate::args::Args;
use crate::request::Request;

/// The binary's whole `main`: the command line (or the action's inputs), one run, the exit
/// status. `hub-conventional-changelog` calls it, and so does the multi-call `hub conventional-changelog`.
pub fn main() -> ExitCode {
    hub_kit::cli::run::<Args, _>(run)
}

fn run(args: &Args, env: &Env, runner: &mut Runner) -> Result<ExitCode> {
    // 1. The inputs, validated (the tokens masked first).
    hub_github::mask_tokens(env, args.token.as_deref(), runner)?;
    let request = Request::read(args, env)?;

    // 2. The facts: the commits (one range, or the whole history split at the release
    //    tags), where links point, the authors' logins when asked, the file as it is.
    let facts = facts::read(&request, args, env, runner)?;

    // 3. Group the commits into sections: duplicates folded, reverted changes cancelled.
    let releases = facts.history.analyze(&request.rules, &facts.logins);
    let config = plan::config(&request, facts.links.links.clone());
    if args.context {
        report::context(runner, &releases, &config)?;
        return Ok(ExitCode::from(exit::OK));
    }

    // 4. The plan: the new section, and the file's new text.
    let plan = plan::plan(&request, &releases, &config, facts.existing.as_deref())?;
    runner.info(&format!("version: {}", plan.release.title))?;

    // 5. Write the file, then commit it (only when it changed).
    let file = act::write(&request, &facts.repo, &plan)?;
    let committed = act::commit(
        &request,
        &facts.repo,
        &plan,
        &file,
        args.token.as_deref(),
        env,
        runner,
    )?;

    // 6. Report.
    let run = report::Run {
        section: &plan.section,
        release: &plan.release,
        file: &file,
        committed: committed.as_ref(),
    };
    report::outputs(runner, &run)?;
    report::log(runner, &run)?;
    runner.append_summary(&report::summary(&run))?;
    runner.print_outputs(args.json)?;
    Ok(ExitCode::from(exit::OK))
}
