//! Carrying out a plan: the switch and the commands, the lock that keeps two rollbacks of
//! one target apart, and the record in GitHub deployments.

use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use hub_conventional::semver::Version;
use hub_github::DeploymentState;
use hub_kit::md::code;
use hub_kit::{Env, Runner};

use crate::exec;
use crate::facts;
use crate::github::GitHub;
use crate::health;
use crate::lock;
use crate::releases::State;
use crate::report::{Event, Health, Outcome, Record};
use crate::request::{Backend, Request};
use crate::step::{Plan, Step, command_limit};
use crate::tools;

/// The run so far: when it started, what happened when, and the GitHub deployment that
/// records the rollback.
pub struct Progress {
    pub started: Instant,
    pub timeline: Vec<Event>,
    pub deployment_id: Option<u64>,
}

impl Progress {
    /// A run started at `started`; on a re-run, the rollback deployment is the one the
    /// first run created.
    pub fn new(started: Instant, plan: &Plan) -> Self {
        Progress {
            started,
            timeline: vec![Event {
                what: "started".into(),
                at: std::time::Duration::ZERO,
            }],
            deployment_id: plan
                .deployments
                .as_ref()
                .filter(|c| c.already_live)
                .and_then(|c| c.good.as_ref())
                .map(|(id, _, _)| *id),
        }
    }
}

/// What acting changes besides the outcome.
pub struct Acting<'a> {
    pub started: Instant,
    pub timeline: &'a mut Vec<Event>,
    /// Whether the live version was switched.
    pub switched: &'a mut bool,
    /// The GitHub deployment created by a `github-deployment` step.
    pub deployment_id: &'a mut Option<u64>,
}

/// Carries out the plan's steps in order.
pub fn act(
    plan: &Plan,
    request: &Request,
    env_vars: &[(&str, String)],
    github: Option<&GitHub>,
    runner: &mut Runner,
    acting: Acting<'_>,
) -> Result<Outcome> {
    let Acting {
        started,
        timeline,
        switched,
        deployment_id,
    } = acting;
    for step in &plan.steps {
        match step {
            Step::Switch { link, target, tmp } => {
                if let Backend::ReleasesDir { releases, .. } = &request.backend {
                    releases.switch(target, tmp, request.timeout)?;
                    *switched = true;
                    if let Some(from) = &plan.from {
                        releases.save_state(
                            &State {
                                from: from.to_string(),
                                to: plan.to.to_string(),
                                complete: false,
                            },
                            request.timeout,
                        )?;
                    }
                }
                runner.info(&format!(
                    "switched `{}` to `{}`",
                    link.display(),
                    target.display()
                ))?;
                timeline.push(Event {
                    what: format!(
                        "switched `current` to {}",
                        code(&target.display().to_string())
                    ),
                    at: started.elapsed(),
                });
            }
            Step::Run { input, argv, cwd } => {
                runner.info(&format!("running `{input}`"))?;
                let limit = command_limit(argv, request.timeout);
                let mut vars = env_vars.to_vec();
                vars.extend(request.tool_env.iter().cloned());
                let finished =
                    exec::run(argv, &vars, cwd.as_deref(), Some(limit)).with_context(|| {
                        // A relative program (`./restart.sh`) is looked up where it runs.
                        match cwd.as_deref() {
                            Some(dir)
                                if argv
                                    .first()
                                    .is_some_and(|p| p.contains('/') && !p.starts_with('/')) =>
                            {
                                format!(
                                    "`{input}` could not run (a relative program path is looked up in `{}`, where it runs)",
                                    dir.display()
                                )
                            }
                            _ => format!("`{input}` could not run"),
                        }
                    })?;
                let output = finished.output();
                if !output.is_empty() {
                    runner.log_untrusted(output.trim_end())?;
                }
                timeline.push(Event {
                    what: format!("ran `{input}` ({})", finished.describe()),
                    at: started.elapsed(),
                });
                if !finished.success() {
                    let verb = if finished.timed_out.is_some() {
                        ""
                    } else {
                        "failed: "
                    };
                    return Err(anyhow!(
                        "`{input}` {} {verb}{}",
                        serde_json::to_string(argv).unwrap_or_default(),
                        finished.describe()
                    ));
                }
                // Except for `releases-dir` (the symlink is the switch), a command that ran
                // is the switch.
                if !matches!(request.backend, Backend::ReleasesDir { .. }) {
                    *switched = true;
                }
            }
            Step::Write { path, contents } => {
                hub_kit::files::write_atomically(path, contents.as_bytes())?;
                runner.info(&format!("wrote `{}`", path.display()))?;
            }
            Step::WaitCompose { argv, image } => {
                let deadline = Instant::now() + request.timeout;
                let mut backoff = health::Backoff::default();
                let mut rounds = 0;
                loop {
                    rounds += 1;
                    let why = match facts::tool_output(argv, request) {
                        Ok(text) => match tools::compose_ps(&text) {
                            Ok(containers) => tools::compose_ready(&containers, image),
                            Err(e) => Err(e),
                        },
                        Err(e) => Err(format!("{e:#}")),
                    };
                    match (why, backoff.next(Instant::now(), deadline)) {
                        (Ok(()), _) => break,
                        (Err(why), None) => {
                            return Err(anyhow!(
                                "the service did not run `{image}` healthy within {:?} ({rounds} round(s)): {why}",
                                request.timeout
                            ));
                        }
                        (Err(_), Some(pause)) => std::thread::sleep(pause),
                    }
                }
                *switched = true;
                runner.info(&format!("every container runs `{image}`, healthy"))?;
                timeline.push(Event {
                    what: format!("{} running and healthy", code(image)),
                    at: started.elapsed(),
                });
            }
            Step::Deploy {
                git_ref,
                environment,
            } => {
                let gh = github.context("no github connection to create the deployment with")?;
                let from = plan.from.as_ref().map(Version::to_string);
                let id = gh.create_rollback(git_ref, &plan.to.to_string(), from.as_deref())?;
                *deployment_id = Some(id);
                *switched = true;
                runner.info(&format!(
                    "created github deployment `{id}` of `{git_ref}` to `{environment}`: your deploy workflow carries it out"
                ))?;
                timeline.push(Event {
                    what: format!(
                        "created deployment {} of {}",
                        code(&id.to_string()),
                        code(git_ref)
                    ),
                    at: started.elapsed(),
                });
            }
        }
    }
    if let (Backend::ReleasesDir { releases, .. }, Some(from)) = (&request.backend, &plan.from) {
        releases.save_state(
            &State {
                from: from.to_string(),
                to: plan.to.to_string(),
                complete: true,
            },
            request.timeout,
        )?;
    }
    Ok(Outcome::RolledBack)
}

/// Takes the lock for the request's target (see [`lock`]), waiting up to `timeout`.
pub fn take_lock(request: &Request, env: &Env, runner: &mut Runner) -> Result<lock::Lock> {
    let machine = |key: String, what: String, runner: &mut Runner| {
        lock::file(&lock::machine_path(&key), &what, request.timeout, runner)
    };
    match &request.backend {
        Backend::ReleasesDir { releases, .. } => lock::releases(releases, request.timeout, runner),
        Backend::Command { argv } => machine(
            format!(
                "command-{}",
                lock::fingerprint(&format!(
                    "{}\0{}",
                    argv.join("\0"),
                    request.environment.as_deref().unwrap_or_default()
                ))
            ),
            format!("`{}`", argv.join(" ")),
            runner,
        ),
        Backend::GitHubDeployment => {
            let environment = request.environment.as_deref().unwrap_or_default();
            let repo = env
                .get_non_empty(hub_kit::vars::GITHUB_REPOSITORY)
                .unwrap_or_default();
            machine(
                format!(
                    "github-deployment-{}",
                    lock::fingerprint(&format!("{repo}\0{environment}"))
                ),
                format!("environment `{environment}` of `{repo}`"),
                runner,
            )
        }
        Backend::Kubernetes {
            deployment,
            namespace,
            ..
        } => machine(
            format!("kubernetes-{namespace}-{deployment}"),
            format!("deployment `{deployment}` in `{namespace}`"),
            runner,
        ),
        Backend::Helm { release, namespace } => machine(
            format!("helm-{namespace}-{release}"),
            format!("release `{release}` in `{namespace}`"),
            runner,
        ),
        Backend::Compose { file, service, .. } => {
            let path = std::fs::canonicalize(file).unwrap_or_else(|_| file.clone());
            machine(
                format!(
                    "compose-{service}-{}",
                    lock::fingerprint(&path.display().to_string())
                ),
                format!("service `{service}` of `{}`", file.display()),
                runner,
            )
        }
    }
}

/// Records the rollback in the environment's GitHub deployments: the bad deployment gets a
/// `failure` status (unless it already ended in `failure` or `error`), and — except for the
/// `github-deployment` backend, whose deploy workflow reports on its own deployment — a new
/// `deploy:rollback` deployment of the restored version gets `success` (`failure` when it
/// did not become healthy).
pub fn record_deployments(
    gh: &GitHub,
    plan: &Plan,
    request: &Request,
    record: &Record,
    deployment_id: &mut Option<u64>,
    runner: &mut Runner,
) -> Result<()> {
    let bad = plan.deployments.as_ref().and_then(|c| c.bad);
    if let Some((id, latest)) = bad {
        if matches!(latest, Some("failure" | "error")) {
            runner.info(&format!(
                "deployment `{id}` already ended in `{}`",
                latest.unwrap_or_default()
            ))?;
        } else {
            gh.set_status(
                id,
                DeploymentState::Failure,
                &format!("rolled back to {} by hub-rollback", plan.to),
            )?;
            runner.info(&format!("marked deployment `{id}` `failure`"))?;
        }
    }
    if matches!(request.backend, Backend::GitHubDeployment) {
        return Ok(());
    }
    let from = plan.from.as_ref().map(Version::to_string);
    let id = gh.create_rollback(&plan.git_ref, &plan.to.to_string(), from.as_deref())?;
    *deployment_id = Some(id);
    let (state, what) = match (&record.outcome, record.health) {
        (Outcome::RolledBack, Health::Healthy | Health::Unchecked) => {
            (DeploymentState::Success, "rolled back")
        }
        _ => (DeploymentState::Failure, "rolled back, but not healthy"),
    };
    gh.set_status(id, state, &format!("{what}: {}", plan.to))?;
    runner.info(&format!(
        "created deployment `{id}` of `{}` to `{}`: `{state}`",
        plan.git_ref, gh.environment
    ))?;
    Ok(())
}

/// Waits for the health checks (when there are any) and notes the verdict in the
/// timeline: the health, and the failures of the last round.
pub fn verify_health(
    request: &Request,
    env_vars: &[(&str, String)],
    runner: &mut Runner,
    progress: &mut Progress,
) -> Result<(Health, Vec<String>)> {
    if request.checks.is_empty() {
        return Ok((Health::Unchecked, Vec::new()));
    }
    let verdict = health::wait(&request.checks, request.timeout, env_vars, runner)?;
    let rounds = verdict.rounds;
    let said = if verdict.healthy {
        "healthy"
    } else {
        "still unhealthy"
    };
    runner.info(&format!("{said} after {rounds} round(s)"))?;
    progress.timeline.push(Event {
        what: format!("{said} after {rounds} round(s)"),
        at: progress.started.elapsed(),
    });
    let health = if verdict.healthy {
        Health::Healthy
    } else {
        Health::Unhealthy
    };
    Ok((health, verdict.failures))
}

/// Records the run on GitHub: deployment statuses (when the switch was made in an
/// `environment`) and the sticky comment (with `comment`). Either failing is a warning, not
/// a failed rollback. Returns the comment's URL.
pub fn record_on_github(
    gh: Option<&GitHub>,
    comment: bool,
    plan: &Plan,
    request: &Request,
    record: &Record,
    progress: &mut Progress,
    runner: &mut Runner,
) -> Result<Option<String>> {
    let Progress {
        started,
        timeline,
        deployment_id,
    } = progress;
    if let (Some(gh), true) = (gh, request.environment.is_some() && record.changed) {
        match record_deployments(gh, plan, request, record, deployment_id, runner) {
            Ok(()) => timeline.push(Event {
                what: format!(
                    "recorded in github deployments of {}",
                    code(&gh.environment)
                ),
                at: started.elapsed(),
            }),
            Err(e) => runner.warning(
                &format!("the rollback is not recorded in github deployments: {e:#}"),
                &hub_kit::Annotation::default(),
            )?,
        }
    }
    if !comment {
        return Ok(None);
    }
    let Some(gh) = gh else {
        runner.info("comment skipped: no github connection")?;
        return Ok(None);
    };
    let body = crate::report::comment(record, *deployment_id, gh.run_url.as_deref());
    match gh.comment(&body, runner) {
        Ok(url) => Ok(url),
        Err(e) => {
            runner.warning(
                &format!("no comment: {e:#}"),
                &hub_kit::Annotation::default(),
            )?;
            Ok(None)
        }
    }
}
