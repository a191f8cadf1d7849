//! `hub-rollback`: back to the previous good version through a backend, health verified,
//! recorded. The same binary is the `rollback` action and a CLI.
//!
//! `main` reads like the action's README: read the request, read what is live, plan (a
//! value, no I/O), show the plan, switch, verify health, record.

mod act;
mod args;
mod choose;
mod chosen;
mod cluster;
mod docker_ssh;
mod exec;
mod facts;
mod github;
mod health;
mod history;
mod lock;
mod plan;
mod releases;
mod report;
mod request;
mod step;
mod tools;

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Result, anyhow};
use hub_kit::cli::{exit, usage};
use hub_kit::{Env, Runner};

use crate::act::{Acting, Progress};
use crate::args::Args;
use crate::github::GitHub;
use crate::report::{Health, Outcome, Record};
use crate::request::{Backend, Request};

/// The binary's whole `main`: the command line (or the action's inputs), one run, the exit
/// status. `hub-rollback` calls it, and so does the multi-call `hub rollback`.
pub fn main() -> ExitCode {
    hub_kit::cli::run::<Args, _>(run)
}

fn run(args: &Args, env: &Env, runner: &mut Runner) -> Result<ExitCode> {
    let started = Instant::now();
    let mut reported = false;
    let mut health = Health::Unchecked;
    let result = rollback(args, env, runner, started, &mut reported, &mut health);
    // A usage error ran nothing and sets no output; any other failure before the outputs
    // were set says `failed`.
    if let Err(e) = &result
        && !reported
        && e.downcast_ref::<hub_kit::cli::UsageError>().is_none()
    {
        report::failed_outputs(runner, started.elapsed(), health)?;
    }
    result
}

fn rollback(
    args: &Args,
    env: &Env,
    runner: &mut Runner,
    started: Instant,
    reported: &mut bool,
    health_before_plan: &mut Health,
) -> Result<ExitCode> {
    // 1. The request: backend, versions, commands, health checks, timeout.
    let request = Request::read(args, env)?;
    if let Backend::Compose {
        remote: Some(remote),
        override_path,
        ..
    } = &request.backend
    {
        docker_ssh::install(remote, override_path, env.get("PATH"))?;
    }

    // 2. What is live — under the lock, so a rollback that waited sees what the other one
    //    did (a dry run changes nothing and takes no lock) — and the plan made from it.
    let github = match (&request.environment, args.comment) {
        (None, false) => None,
        (environment, _) => GitHub::connect(
            env,
            args.token.as_deref(),
            environment.as_deref().unwrap_or_default(),
            runner,
        )?,
    };
    if matches!(request.backend, Backend::GitHubDeployment) && github.is_none() {
        return Err(usage(
            "target `github-deployment` needs a token (`token` or `GITHUB_TOKEN`) and `GITHUB_REPOSITORY`",
        ));
    }
    let _lock = match args.dry_run {
        true => None,
        false => Some(act::take_lock(&request, env, runner)?),
    };
    let history = match (&github, &request.environment) {
        (Some(gh), Some(environment)) => {
            let entries = gh.history()?;
            let n = entries.len();
            runner.info(&format!("read {n} github deployment(s) of `{environment}`"))?;
            Some(entries)
        }
        _ => None,
    };
    // A Compose service whose engine does not answer (or whose state cannot be read) is
    // not known to run at all: `healthy` says `false`, not `unchecked`.
    if matches!(request.backend, Backend::Compose { .. }) {
        *health_before_plan = Health::Unhealthy;
    }
    let mut facts = facts::read(&request, history, runner)?;
    *health_before_plan = Health::Unchecked;
    let plan = loop {
        match plan::plan(&request, &facts)? {
            Ok(plan) => break plan,
            Err(need) => facts::fill(&mut facts, need, &request)?,
        }
    };
    for note in &plan.notes {
        runner.info(note)?;
    }
    let plan_text = plan.describe(&request);
    runner.info(&plan.headline())?;
    runner.log_untrusted(&plan_text.join("\n"))?;
    let mut record = Record::planned(
        request.backend.name(),
        plan.from.as_ref().map(ToString::to_string),
        plan.to.to_string(),
        plan.why.clone(),
    );

    // 3. Dry run: the plan is the result.
    if args.dry_run {
        runner.info("dry run: nothing changed")?;
        record.duration = started.elapsed();
        *reported = true;
        report::outputs(runner, &record, None)?;
        runner.append_summary(&report::summary(&record, &plan_text))?;
        runner.print_outputs(args.json)?;
        return Ok(ExitCode::from(exit::OK));
    }

    // 4. Switch (nothing to do when the version is already live). On a re-run, the
    //    rollback deployment is the one the first run created.
    let env_vars = plan.env_vars(&request.pattern);
    let mut progress = Progress::new(started, &plan);
    let acted = if plan.steps.is_empty() {
        let to = &plan.to;
        runner.info(&format!(
            "`{to}` is already live: nothing to switch (a re-run changes nothing)"
        ))?;
        Ok(Outcome::AlreadyThere)
    } else {
        let acting = Acting {
            started,
            timeline: &mut progress.timeline,
            switched: &mut record.changed,
            deployment_id: &mut progress.deployment_id,
        };
        act::act(&plan, &request, &env_vars, github.as_ref(), runner, acting)
    };
    let failure = acted.as_ref().err().map(|e| format!("{e:#}"));
    record.outcome = match &acted {
        Ok(outcome) => outcome.clone(),
        Err(e) => Outcome::Failed(format!("{e:#}")),
    };

    // 5. Verify health, whenever the switch did not fail. A Compose switch that failed
    //    (`up` refused, or the containers did not come up healthy on the version — their
    //    own health check is the first verification) leaves a service that is not healthy
    //    on it; so does a Kubernetes switch that was made but whose `kubectl rollout
    //    status` failed (the new pods never became available in time).
    let mut health_failures = Vec::new();
    if failure.is_none() {
        let checked = act::verify_health(&request, &env_vars, runner, &mut progress)?;
        (record.health, health_failures) = checked;
    } else if matches!(request.backend, Backend::Compose { .. })
        || (matches!(request.backend, Backend::Kubernetes { .. }) && record.changed)
    {
        record.health = Health::Unhealthy;
    }

    // 6. Record: deployment statuses, comment, outputs, summary, audit line.
    let comment_url = act::record_on_github(
        github.as_ref(),
        args.comment,
        &plan,
        &request,
        &record,
        &mut progress,
        runner,
    )?;
    let id = progress
        .deployment_id
        .map(|i| i.to_string())
        .unwrap_or_default();
    runner.set_output("deployment-id", id)?;
    runner.set_output("comment-url", comment_url.unwrap_or_default())?;
    record.duration = started.elapsed();
    record.timeline = progress.timeline;
    let audit = request.audit_log.as_deref();
    let audited = audit
        .map(|path| report::append_audit(path, &record, env))
        .transpose();
    *reported = true;
    report::outputs(runner, &record, audit.filter(|_| audited.is_ok()))?;
    runner.append_summary(&report::summary(&record, &[]))?;
    runner.print_outputs(args.json)?;
    audited?;

    acted?;
    if record.health == Health::Unhealthy {
        return Err(anyhow!(
            "`{}` did not become healthy within {}: {}",
            plan.to,
            args.timeout.trim(),
            health_failures.join("; ")
        ));
    }
    match record.outcome {
        Outcome::AlreadyThere => runner.info(&format!("already at `{}`", plan.to))?,
        _ => runner.info(&format!("rolled back to `{}`", plan.to))?,
    }
    Ok(ExitCode::from(exit::OK))
}
