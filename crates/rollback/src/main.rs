//! `hub-rollback`: back to the previous good version through a backend, health verified,
//! recorded. The same binary is the `rollback` action and a CLI.
//!
//! `main` reads like the action's README: read the request, choose the version, show the
//! plan, switch, verify health, record.

mod choose;
mod cluster;
mod exec;
mod github;
mod health;
mod history;
mod lock;
mod releases;
mod report;
mod tools;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use clap::Parser;
use hub_conventional::TagPattern;
use hub_conventional::semver::Version;
use hub_git::Repo;
use hub_github::DeploymentState;
use hub_kit::cli::{exit, usage};
use hub_kit::md::code;
use hub_kit::{Env, Runner};

use crate::github::GitHub;
use crate::health::Checks;
use crate::history::Choice;
use crate::releases::{Releases, Remote, State};
use crate::report::{Event, Health, Outcome, Record};

/// The version being rolled back to, in the environment of `restart-command`, `command`
/// and `health-command`.
const HUB_ROLLBACK_VERSION: &str = "HUB_ROLLBACK_VERSION";
/// The version being rolled back from (empty when unknown), in the same environments.
const HUB_ROLLBACK_FROM: &str = "HUB_ROLLBACK_FROM";
/// The version being rolled back to as a release tag (`tag-prefix` + version, `v1.2.3`),
/// for scripts that deploy tags.
const HUB_ROLLBACK_TAG: &str = "HUB_ROLLBACK_TAG";
/// How much longer than `timeout` a tool that enforces `timeout` itself may run.
const OWN_TIMEOUT_MARGIN: Duration = Duration::from_secs(10);
/// The backends, as the `target` input names them.
const TARGETS: &str =
    "`releases-dir`, `command`, `github-deployment`, `kubernetes`, `helm` or `compose`";

/// Rolls a deployment back to the previous good version, verifies its health and records
/// what was done.
#[derive(Parser, Debug)]
#[command(name = "hub-rollback", about, max_term_width = 100)]
pub struct Args {
    /// The backend: `releases-dir` (a `current` symlink over `releases/<version>/`),
    /// `command` (your own command, given the version) or `github-deployment` (a new GitHub
    /// deployment of the good version, carried out by your deploy workflow), `kubernetes`
    /// (a Deployment, through `kubectl`), `helm` (a release) or `compose` (a service,
    /// through `docker compose`).
    #[arg(long)]
    target: String,
    /// Roll back to exactly this version (`1.2.3` or `v1.2.3`). Default: the highest
    /// release tag below the current version.
    #[arg(long = "version")]
    to_version: Option<String>,
    /// The version being rolled back (the bad one). Default for `releases-dir`: the
    /// release `current` points at. Required for `command` unless `version` is given.
    #[arg(long)]
    from: Option<String>,
    /// Prefix of release tags: `v` for `v1.2.3`, `none` (or empty) for bare `1.2.3`.
    #[arg(long, default_value = "v", allow_hyphen_values = true)]
    tag_prefix: String,
    /// For `releases-dir`: the directory holding `releases/<version>/` and the `current`
    /// symlink.
    #[arg(long)]
    releases_dir: Option<String>,
    /// For `releases-dir`: the host the directory is on (`deploy@web1` or
    /// `ssh://deploy@web1:2222`); every step then runs there through `ssh`.
    #[arg(long)]
    host: Option<String>,
    /// For `releases-dir` with `host`: extra `ssh` arguments (`-i ~/.ssh/deploy -o
    /// StrictHostKeyChecking=yes`; one line, simple quoting).
    #[arg(long, allow_hyphen_values = true)]
    ssh_options: Option<String>,
    /// For `releases-dir`: a command run after the switch, in the releases directory (one
    /// line, split with simple quoting; no shell).
    #[arg(long, allow_hyphen_values = true)]
    restart_command: Option<String>,
    /// For `command`: the command that rolls back (one line, split with simple quoting; no
    /// shell). It finds the version in `HUB_ROLLBACK_VERSION`.
    #[arg(long, allow_hyphen_values = true)]
    command: Option<String>,
    /// URLs that must answer 200 after the switch (one per line).
    #[arg(long = "health-urls")]
    health_urls: Vec<String>,
    /// Text every health URL's body must contain (e.g. `version=1.0.0`).
    #[arg(long, allow_hyphen_values = true)]
    health_body: Option<String>,
    /// A command that must exit 0 after the switch (one line, no shell).
    #[arg(long, allow_hyphen_values = true)]
    health_command: Option<String>,
    /// How long health may take to come back (`90s`, `5m`); also the limit of each backend
    /// command (killed after it) and of the wait for another rollback of the same target.
    #[arg(long, default_value = "60s")]
    timeout: String,
    /// Show the plan (the switch and the exact commands) and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Append one JSON line per run to this file (default inside Actions:
    /// `$RUNNER_TEMP/hub-rollback-audit.jsonl`).
    #[arg(long)]
    audit_log: Option<String>,
    /// The repository whose tags list the releases (default: `GITHUB_WORKSPACE`, else the
    /// current directory).
    #[arg(long)]
    repository_path: Option<String>,
    /// The GitHub deployment environment (`production`): its last successful deployment
    /// chooses the version, and the rollback is recorded there as deployment statuses.
    #[arg(long)]
    environment: Option<String>,
    /// Token for the GitHub API (default `GITHUB_TOKEN`); needs `deployments: write` (and
    /// for `comment`, `pull-requests: write` on pull requests, `contents: write` otherwise).
    #[arg(long)]
    token: Option<String>,
    /// Keep a sticky comment about the rollback on the pull request that triggered the run,
    /// or on the run's commit for other events (`GITHUB_SHA` for `release`).
    #[arg(long)]
    comment: bool,
    /// For `kubernetes`: the Deployment's name.
    #[arg(long)]
    deployment: Option<String>,
    /// For `kubernetes` and `helm`: the namespace.
    #[arg(long, default_value = "default")]
    namespace: String,
    /// For `kubernetes`: the container whose image names the version (default: the only
    /// one).
    #[arg(long)]
    container: Option<String>,
    /// For `kubernetes` and `compose`: the image repository the version is a tag of
    /// (default: the running image's repository).
    #[arg(long)]
    image: Option<String>,
    /// For `helm`: the release.
    #[arg(long)]
    release: Option<String>,
    /// For `compose`: the Compose file.
    #[arg(long)]
    compose_file: Option<String>,
    /// For `compose`: the service.
    #[arg(long)]
    service: Option<String>,
    /// Print the outputs as one JSON object.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    hub_kit::cli::run::<Args, _>(run)
}

fn run(args: &Args, env: &Env, runner: &mut Runner) -> Result<ExitCode> {
    let started = Instant::now();
    let mut reported = false;
    let result = rollback(args, env, runner, started, &mut reported);
    // A usage error ran nothing and sets no output; any other failure before the outputs
    // were set says `failed`.
    if let Err(e) = &result
        && !reported
        && e.downcast_ref::<hub_kit::cli::UsageError>().is_none()
    {
        report::failed_outputs(runner, started.elapsed())?;
    }
    result
}

fn rollback(
    args: &Args,
    env: &Env,
    runner: &mut Runner,
    started: Instant,
    reported: &mut bool,
) -> Result<ExitCode> {
    let mut timeline = vec![Event {
        what: "started".into(),
        at: Duration::ZERO,
    }];

    // 1. The request: backend, versions, commands, health checks, timeout.
    let request = Request::read(args, env)?;

    // 2. The version to roll back to (the environment's GitHub deployments, when there is
    //    a token), and the steps that get there.
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
    // One rollback of a target at a time: the lock is held until the run ends, and the plan
    // is made under it, so a rollback that waited sees what the other one did. A dry run
    // changes nothing and takes no lock.
    let _lock = if args.dry_run {
        None
    } else {
        Some(take_lock(&request, env, runner)?)
    };
    let history = match (&github, &request.environment) {
        (Some(gh), Some(environment)) => {
            let entries = gh.history()?;
            runner.info(&format!(
                "read {} github deployment(s) of `{environment}`",
                entries.len()
            ))?;
            Some(entries)
        }
        _ => None,
    };
    let plan = plan(&request, args, env, history.as_deref(), runner)?;
    let plan_text = plan.describe(&request);
    runner.info(&plan.headline())?;
    runner.log_untrusted(&plan_text.join("\n"))?;

    let mut record = Record {
        target: request.backend.name(),
        from: plan.from.as_ref().map(Version::to_string),
        to: plan.to.to_string(),
        why: plan.why.clone(),
        outcome: Outcome::DryRun,
        health: Health::Unchecked,
        changed: false,
        timeline: Vec::new(),
        duration: Duration::ZERO,
    };

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

    // 4. Switch (nothing to do when the version is already live).
    let env_vars = plan.env_vars(&request.pattern);
    // On a re-run, the rollback deployment is the one the first run created.
    let mut deployment_id = plan
        .deployments
        .as_ref()
        .filter(|c| c.already_live)
        .and_then(|c| c.good.as_ref())
        .map(|(id, _, _)| *id);
    let acted = if plan.steps.is_empty() {
        runner.info(&format!(
            "`{}` is already live: nothing to switch (a re-run changes nothing)",
            plan.to
        ))?;
        Ok(Outcome::AlreadyThere)
    } else {
        act(
            &plan,
            &request,
            &env_vars,
            github.as_ref(),
            runner,
            Acting {
                started,
                timeline: &mut timeline,
                switched: &mut record.changed,
                deployment_id: &mut deployment_id,
            },
        )
    };

    // 5. Verify health, whenever the switch did not fail.
    let failure = match acted {
        Ok(outcome) => {
            record.outcome = outcome;
            None
        }
        Err(e) => {
            record.outcome = Outcome::Failed(format!("{e:#}"));
            Some(e)
        }
    };
    let mut health_failures = Vec::new();
    if failure.is_none() && !request.checks.is_empty() {
        let verdict = health::wait(&request.checks, request.timeout, &env_vars, runner)?;
        let rounds = verdict.rounds;
        health_failures = verdict.failures;
        runner.info(&format!(
            "{} after {rounds} round(s)",
            if verdict.healthy {
                "healthy"
            } else {
                "still unhealthy"
            }
        ))?;
        record.health = if verdict.healthy {
            timeline.push(Event {
                what: format!("healthy after {rounds} round(s)"),
                at: started.elapsed(),
            });
            Health::Healthy
        } else {
            timeline.push(Event {
                what: format!("still unhealthy after {rounds} round(s)"),
                at: started.elapsed(),
            });
            Health::Unhealthy
        };
    }

    // 6. Record: deployment statuses, comment, outputs, summary, audit line.
    if let (Some(gh), true) = (&github, request.environment.is_some() && record.changed) {
        match record_deployments(gh, &plan, &request, &record, &mut deployment_id, runner) {
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
    let mut comment_url = None;
    if args.comment {
        match &github {
            Some(gh) => {
                let body = report::comment(&record, deployment_id, gh.run_url.as_deref());
                match gh.comment(&body, runner) {
                    Ok(url) => comment_url = url,
                    Err(e) => runner.warning(
                        &format!("no comment: {e:#}"),
                        &hub_kit::Annotation::default(),
                    )?,
                }
            }
            None => runner.info("comment skipped: no github connection")?,
        }
    }
    runner.set_output(
        "deployment-id",
        deployment_id.map(|i| i.to_string()).unwrap_or_default(),
    )?;
    runner.set_output("comment-url", comment_url.unwrap_or_default())?;
    record.duration = started.elapsed();
    record.timeline = timeline;
    let audit = request.audit_log.as_deref();
    let audited = audit
        .map(|path| report::append_audit(path, &record, env))
        .transpose();
    *reported = true;
    report::outputs(runner, &record, audit.filter(|_| audited.is_ok()))?;
    runner.append_summary(&report::summary(&record, &[]))?;
    runner.print_outputs(args.json)?;
    audited?;

    if let Some(e) = failure {
        return Err(e);
    }
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

/// What the inputs ask for, validated.
struct Request {
    backend: Backend,
    pattern: TagPattern,
    version: Option<Version>,
    from: Option<Version>,
    checks: Checks,
    timeout: Duration,
    audit_log: Option<PathBuf>,
    /// The GitHub deployment environment.
    environment: Option<String>,
}

enum Backend {
    ReleasesDir {
        releases: Releases,
        restart: Option<Vec<String>>,
    },
    Command {
        argv: Vec<String>,
    },
    /// A new GitHub deployment of the good version; the repository's deploy workflow
    /// carries it out.
    GitHubDeployment,
    Kubernetes {
        deployment: String,
        namespace: String,
        container: Option<String>,
        image: Option<String>,
    },
    Helm {
        release: String,
        namespace: String,
    },
    Compose {
        file: PathBuf,
        service: String,
        image: Option<String>,
    },
}

impl Backend {
    fn name(&self) -> &'static str {
        match self {
            Backend::ReleasesDir { .. } => "releases-dir",
            Backend::Command { .. } => "command",
            Backend::GitHubDeployment => "github-deployment",
            Backend::Kubernetes { .. } => "kubernetes",
            Backend::Helm { .. } => "helm",
            Backend::Compose { .. } => "compose",
        }
    }
}

/// A Kubernetes-style name input (`web`, `shop-prod`): required for `target`, and never
/// something a program could read as an option.
fn name_input(name: &str, value: Option<&str>, target: &str) -> Result<String> {
    let value = value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| usage(format!("target `{target}` needs the input `{name}`")))?;
    let ok = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !value.starts_with(['-', '.']);
    if !ok {
        return Err(usage(format!(
            "input `{name}` must be a name such as `web` (letters, digits, `-`, `_`, `.`), got `{value}`"
        )));
    }
    Ok(value.to_string())
}

/// An image repository input (`ghcr.io/org/web`), without tag or digest.
fn image_input(value: &str) -> Result<String> {
    let value = value.trim();
    let ok = !value.is_empty()
        && !value.starts_with('-')
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':'))
        && tools::image_tag(value).is_none();
    if !ok {
        return Err(usage(format!(
            "input `image` must be an image repository such as `ghcr.io/org/web` (no tag: the version is the tag), got `{value}`"
        )));
    }
    Ok(value.to_string())
}

/// Splits a command input into an argument vector.
fn command_input(name: &str, line: &str) -> Result<Vec<String>> {
    hub_kit::argv::split(line).map_err(|e| usage(format!("input `{name}`: {e}")))
}

/// Parses a version input: a semantic version, optionally with the tag prefix.
fn version_input(name: &str, text: &str, pattern: &TagPattern) -> Result<Version> {
    choose::parse_version(text, pattern).ok_or_else(|| {
        usage(format!(
            "input `{name}` must be a semantic version such as `1.2.3` (optionally `{}1.2.3`), got `{}`",
            pattern.prefix,
            text.trim()
        ))
    })
}

impl Request {
    fn read(args: &Args, env: &Env) -> Result<Request> {
        // An empty action input means "unset", so `none` spells the empty prefix.
        let prefix = match args.tag_prefix.as_str() {
            "none" => "",
            p => p,
        };
        let pattern = TagPattern::new(prefix);
        let backend = match args.target.trim() {
            "releases-dir" => {
                let dir = args
                    .releases_dir
                    .as_deref()
                    .ok_or_else(|| usage("target `releases-dir` needs the input `releases-dir`"))?;
                let remote = match args.host.as_deref().map(str::trim) {
                    None | Some("") => None,
                    Some(host) => Some(Remote {
                        host: releases::host_input(host).map_err(usage)?,
                        options: args
                            .ssh_options
                            .as_deref()
                            .filter(|o| !o.trim().is_empty())
                            .map(|o| command_input("ssh-options", o))
                            .transpose()?
                            .unwrap_or_default(),
                    }),
                };
                if remote.is_none()
                    && args
                        .ssh_options
                        .as_deref()
                        .is_some_and(|o| !o.trim().is_empty())
                {
                    return Err(usage("input `ssh-options` needs the input `host`"));
                }
                Backend::ReleasesDir {
                    releases: Releases::new(dir, remote),
                    restart: args
                        .restart_command
                        .as_deref()
                        .map(|l| command_input("restart-command", l))
                        .transpose()?,
                }
            }
            "command" => {
                let line = args
                    .command
                    .as_deref()
                    .ok_or_else(|| usage("target `command` needs the input `command`"))?;
                Backend::Command {
                    argv: command_input("command", line)?,
                }
            }
            "github-deployment" => Backend::GitHubDeployment,
            "kubernetes" => Backend::Kubernetes {
                deployment: name_input("deployment", args.deployment.as_deref(), "kubernetes")?,
                namespace: name_input("namespace", Some(&args.namespace), "kubernetes")?,
                container: args
                    .container
                    .as_deref()
                    .map(|c| name_input("container", Some(c), "kubernetes"))
                    .transpose()?,
                image: args.image.as_deref().map(image_input).transpose()?,
            },
            "helm" => Backend::Helm {
                release: name_input("release", args.release.as_deref(), "helm")?,
                namespace: name_input("namespace", Some(&args.namespace), "helm")?,
            },
            "compose" => Backend::Compose {
                file: PathBuf::from(
                    args.compose_file
                        .as_deref()
                        .map(str::trim)
                        .filter(|f| !f.is_empty())
                        .ok_or_else(|| usage("target `compose` needs the input `compose-file`"))?,
                ),
                service: name_input("service", args.service.as_deref(), "compose")?,
                image: args.image.as_deref().map(image_input).transpose()?,
            },
            other => {
                return Err(usage(format!(
                    "input `target` must be {TARGETS}, got `{other}`"
                )));
            }
        };
        // An input meant for the other backend is a mistake, not something to ignore.
        let given: [(&str, bool, &[&str]); 11] = [
            ("host", args.host.is_some(), &["releases-dir"]),
            ("ssh-options", args.ssh_options.is_some(), &["releases-dir"]),
            (
                "releases-dir",
                args.releases_dir.is_some(),
                &["releases-dir"],
            ),
            (
                "restart-command",
                args.restart_command.is_some(),
                &["releases-dir"],
            ),
            ("command", args.command.is_some(), &["command"]),
            ("deployment", args.deployment.is_some(), &["kubernetes"]),
            ("container", args.container.is_some(), &["kubernetes"]),
            ("image", args.image.is_some(), &["kubernetes", "compose"]),
            ("release", args.release.is_some(), &["helm"]),
            ("compose-file", args.compose_file.is_some(), &["compose"]),
            ("service", args.service.is_some(), &["compose"]),
        ];
        let foreign = given
            .iter()
            .find(|(_, is_given, for_)| *is_given && !for_.contains(&backend.name()));
        let environment = args
            .environment
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(String::from);
        if matches!(backend, Backend::GitHubDeployment) && environment.is_none() {
            return Err(usage(
                "target `github-deployment` needs the input `environment`",
            ));
        }
        if let Some((name, _, _)) = foreign {
            return Err(usage(format!(
                "input `{name}` does not apply to target `{}`",
                backend.name()
            )));
        }
        let version = args
            .to_version
            .as_deref()
            .map(|v| version_input("version", v, &pattern))
            .transpose()?;
        let from = args
            .from
            .as_deref()
            .map(|v| version_input("from", v, &pattern))
            .transpose()?;
        let urls: Vec<String> = args
            .health_urls
            .iter()
            .flat_map(|u| hub_kit::input::split_lines(u))
            .collect();
        for url in &urls {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(usage(format!(
                    "input `health-urls`: `{url}` is not an `http://` or `https://` URL"
                )));
            }
        }
        let checks = Checks {
            urls,
            body: args.health_body.clone(),
            command: args
                .health_command
                .as_deref()
                .map(|l| command_input("health-command", l))
                .transpose()?,
        };
        let timeout = hub_kit::input::parse_duration("timeout", &args.timeout)
            .map_err(|e| usage(e.to_string()))?;
        let audit_log = args.audit_log.as_deref().map(PathBuf::from).or_else(|| {
            env.in_actions()
                .then(|| env.get_non_empty(hub_kit::vars::RUNNER_TEMP))
                .flatten()
                .map(|t| Path::new(t).join("hub-rollback-audit.jsonl"))
        });
        Ok(Request {
            backend,
            pattern,
            version,
            from,
            checks,
            timeout,
            audit_log,
            environment,
        })
    }
}

/// The chosen version and the steps that make it live.
struct Plan {
    from: Option<Version>,
    to: Version,
    why: String,
    /// The git ref of `to`: its tag, or the ref of the deployment that chose it.
    git_ref: String,
    /// What the environment's GitHub deployments said, when they were read.
    deployments: Option<Choice>,
    steps: Vec<Step>,
}

/// The version to roll back to, why, and its ref.
struct Chosen {
    from: Option<Version>,
    to: Version,
    why: String,
    git_ref: String,
    deployments: Option<Choice>,
}

/// Chooses the version: the `version` input; else the last successful deployment of the
/// environment other than the current one; else the highest release tag below `from`.
/// `Ok(None)` when there is nothing to start from (no `from` and no deployment).
fn choose_version(
    request: &Request,
    args: &Args,
    env: &Env,
    from: Option<Version>,
    history: Option<&[history::Entry]>,
    tags: bool,
    usable: impl Fn(&Version) -> bool,
) -> Result<Option<Chosen>> {
    let deployments = history.map(|h| history::decide(h, from.as_ref(), &request.pattern));
    let from = from.or_else(|| deployments.as_ref().and_then(|c| c.from.clone()));
    let tag = |v: &Version| format!("{}{v}", request.pattern.prefix);
    let good = deployments
        .as_ref()
        .and_then(|c| c.good.clone())
        .filter(|(_, _, v)| usable(v));
    let (to, why, git_ref) = match (&request.version, good, &from) {
        (Some(v), _, _) => (v.clone(), "input `version`".to_string(), tag(v)),
        (None, Some((_, git_ref, v)), _) => (
            v,
            format!(
                "last successful deployment of {}: {}",
                code(request.environment.as_deref().unwrap_or_default()),
                code(&git_ref)
            ),
            git_ref,
        ),
        (None, None, Some(from)) if tags => {
            let (v, why) = previous_tag(from, request, args, env, usable)?;
            let git_ref = tag(&v);
            (v, why, git_ref)
        }
        (None, None, _) => return Ok(None),
    };
    Ok(Some(Chosen {
        from,
        to,
        why,
        git_ref,
        deployments,
    }))
}

enum Step {
    /// Point `link` at `target` atomically, through the temporary link `tmp`.
    Switch {
        link: PathBuf,
        target: PathBuf,
        tmp: String,
    },
    /// Run a command (named by its input).
    Run {
        input: &'static str,
        argv: Vec<String>,
        cwd: Option<PathBuf>,
    },
    /// Write `contents` to `path` atomically.
    Write { path: PathBuf, contents: String },
    /// Run `docker compose ps` until every container of the service runs `image`, healthy.
    WaitCompose { argv: Vec<String>, image: String },
    /// Create a GitHub deployment of `git_ref` to `environment` (task `deploy:rollback`).
    Deploy {
        git_ref: String,
        environment: String,
    },
}

/// `HUB_ROLLBACK_VERSION`, `HUB_ROLLBACK_TAG` and `HUB_ROLLBACK_FROM` for the commands run.
fn step_env(
    to: &Version,
    from: Option<&Version>,
    pattern: &TagPattern,
) -> Vec<(&'static str, String)> {
    vec![
        (HUB_ROLLBACK_VERSION, to.to_string()),
        (HUB_ROLLBACK_TAG, pattern.format(to)),
        (
            HUB_ROLLBACK_FROM,
            from.map(Version::to_string).unwrap_or_default(),
        ),
    ]
}

impl Plan {
    fn env_vars(&self, pattern: &TagPattern) -> Vec<(&'static str, String)> {
        step_env(&self.to, self.from.as_ref(), pattern)
    }

    fn headline(&self) -> String {
        match &self.from {
            Some(from) => format!("plan: roll back from `{from}` to `{}`", self.to),
            None => format!("plan: roll back to `{}`", self.to),
        }
    }

    /// The exact plan, one line per step (paths and argument vectors as they will be used).
    fn describe(&self, request: &Request) -> Vec<String> {
        let mut lines = vec![format!("version: {} ({})", self.to, self.why)];
        if self.steps.is_empty() {
            lines.push(format!("nothing to switch: `{}` is already live", self.to));
        }
        let env = self
            .env_vars(&request.pattern)
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ");
        for (i, step) in self.steps.iter().enumerate() {
            let n = i + 1;
            match step {
                Step::Switch { link, target, tmp } => match &request.backend {
                    Backend::ReleasesDir { releases, .. } if releases.remote().is_some() => {
                        let remote = releases.remote().expect("checked just above");
                        lines.push(format!(
                            "{n}. switch on `{}`: {}, killed after {:?}",
                            remote.host,
                            serde_json::to_string(&remote.argv(&releases.switch_script(target, tmp)))
                                .unwrap_or_default(),
                            request.timeout
                        ));
                    }
                    _ => lines.push(format!(
                        "{n}. switch: symlink `{}` -> `{}`, then rename it over `{}`",
                        link.with_file_name(tmp).display(),
                        target.display(),
                        link.display()
                    )),
                },
                Step::Run { input, argv, cwd } => {
                    let json = serde_json::to_string(argv).unwrap_or_default();
                    let place = cwd
                        .as_ref()
                        .map(|c| format!(" in `{}`", c.display()))
                        .unwrap_or_default();
                    lines.push(format!(
                        "{n}. run `{input}`: {json}{place} with {env}, killed after {:?}",
                        command_limit(argv, request.timeout)
                    ));
                }
                Step::Write { path, contents } => lines.push(format!(
                    "{n}. write `{}` (atomically): {}",
                    path.display(),
                    contents.split_whitespace().collect::<Vec<_>>().join(" ")
                )),
                Step::WaitCompose { argv, image } => lines.push(format!(
                    "{n}. wait, within {:?}, until {} shows every container running `{image}` and healthy",
                    request.timeout,
                    serde_json::to_string(argv).unwrap_or_default()
                )),
                Step::Deploy {
                    git_ref,
                    environment,
                } => lines.push(format!(
                    "{n}. create a github deployment of `{git_ref}` to `{environment}` (task `{}`, auto_merge false) for your deploy workflow to carry out",
                    history::ROLLBACK_TASK
                )),
            }
        }
        let checks = &request.checks;
        if !checks.is_empty() {
            let mut what: Vec<String> = checks
                .urls
                .iter()
                .map(|u| match &checks.body {
                    Some(b) => format!("GET {u} -> {} containing `{b}`", health::EXPECTED_STATUS),
                    None => format!("GET {u} -> {}", health::EXPECTED_STATUS),
                })
                .collect();
            if let Some(argv) = &checks.command {
                what.push(format!(
                    "run `health-command`: {} exits 0",
                    serde_json::to_string(argv).unwrap_or_default()
                ));
            }
            lines.push(format!(
                "health, within {:?}: {}",
                request.timeout,
                what.join("; ")
            ));
        } else {
            lines.push("health: not checked (no `health-urls` or `health-command`)".into());
        }
        lines
    }
}

fn repository(args: &Args, env: &Env) -> Result<Repo> {
    let dir = args
        .repository_path
        .clone()
        .or_else(|| {
            env.get_non_empty(hub_kit::vars::GITHUB_WORKSPACE)
                .map(String::from)
        })
        .unwrap_or_else(|| ".".into());
    Repo::discover(&dir).with_context(|| {
        format!("cannot list release tags in `{dir}`: set `repository-path`, or name the version with `version`")
    })
}

/// The highest release tag below `from` that `usable` accepts.
fn previous_tag(
    from: &Version,
    request: &Request,
    args: &Args,
    env: &Env,
    usable: impl Fn(&Version) -> bool,
) -> Result<(Version, String)> {
    let repo = repository(args, env)?;
    let tags = repo.tags()?;
    let candidates = choose::candidates(tags.iter().map(|t| t.name.as_str()), &request.pattern);
    let prev = choose::previous(from, &candidates, |c| usable(&c.version)).ok_or_else(|| {
        anyhow!(
            "no earlier release to roll back to: no stable release tag `{}<version>` below `{from}`{}",
            request.pattern.prefix,
            match request.backend {
                Backend::ReleasesDir { .. } => " with a release directory",
                _ => "",
            }
        )
    })?;
    Ok((
        prev.version.clone(),
        format!("previous release tag {}", code(&prev.tag)),
    ))
}

fn plan(
    request: &Request,
    args: &Args,
    env: &Env,
    history: Option<&[history::Entry]>,
    runner: &mut Runner,
) -> Result<Plan> {
    match &request.backend {
        Backend::ReleasesDir { releases, restart } => {
            let snapshot = releases.inspect(&request.pattern, request.timeout)?;
            let current = &snapshot.current;
            runner.info(&format!(
                "`current` in `{}` points at `{}`",
                releases.place(),
                current.target.display()
            ))?;
            // A re-run after a rollback rolls back from the same version again (a no-op),
            // not one step further: the last rollback is recorded next to `current`.
            let recorded = snapshot
                .state
                .clone()
                .and_then(|State { from, to, complete }| {
                    let to = choose::parse_version(&to, &request.pattern)?;
                    let from = choose::parse_version(&from, &request.pattern)?;
                    (current.version.as_ref() == Some(&to)).then_some((from, to, complete))
                });
            let from = match (&request.from, &request.version, &recorded) {
                (Some(f), _, _) => Some(f.clone()),
                (None, None, Some((f, _, _))) => {
                    runner.info(&format!(
                        "`current` was reached by rolling back from `{f}`: rolling back from `{f}` again (name a `version` to go further back)"
                    ))?;
                    Some(f.clone())
                }
                _ => current.version.clone(),
            };
            let Some(Chosen {
                from,
                to,
                why,
                git_ref,
                deployments,
            }) = choose_version(request, args, env, from, history, true, |v| {
                snapshot.dir_name(v, &request.pattern).is_some()
            })?
            else {
                return Err(anyhow!(
                    "`current` points at `{}`, which is not a version: set `from` or `version`",
                    current.target.display()
                ));
            };
            let restart_step = |argv: &Vec<String>| {
                let vars = step_env(&to, from.as_ref(), &request.pattern);
                match releases.remote() {
                    Some(remote) => Step::Run {
                        input: "restart-command",
                        argv: remote.argv(&releases.run_script(argv, &vars)),
                        cwd: None,
                    },
                    None => Step::Run {
                        input: "restart-command",
                        argv: argv.clone(),
                        cwd: Some(releases.root().to_path_buf()),
                    },
                }
            };
            if current.version.as_ref() == Some(&to) {
                // Already live. If our own switch got there but the restart failed, the
                // re-run finishes the job: it runs the restart again.
                let unfinished = recorded
                    .as_ref()
                    .is_some_and(|(_, t, complete)| !complete && *t == to);
                let mut steps = Vec::new();
                if let (true, Some(argv)) = (unfinished, restart) {
                    runner.info(&format!(
                        "the last rollback to `{to}` did not finish: running `restart-command` again"
                    ))?;
                    steps.push(restart_step(argv));
                }
                return Ok(Plan {
                    from,
                    to,
                    why,
                    git_ref,
                    deployments,
                    steps,
                });
            }
            if let Some(from) = &from {
                choose::check_direction(from, &to).map_err(|e| anyhow!(e))?;
            }
            let name = snapshot.dir_name(&to, &request.pattern).ok_or_else(|| {
                anyhow!(
                    "no release directory for `{to}` in `{}/{}`",
                    releases.place(),
                    releases::RELEASES
                )
            })?;
            snapshot.check_inside(&name, &releases.place())?;
            let mut steps = vec![Step::Switch {
                link: releases.current_path(),
                target: releases.link_target(&name, current),
                tmp: Releases::temp_name(),
            }];
            if let Some(argv) = restart {
                steps.push(restart_step(argv));
            }
            Ok(Plan {
                from,
                to,
                why,
                git_ref,
                deployments,
                steps,
            })
        }
        Backend::Kubernetes {
            deployment,
            namespace,
            container,
            image,
        } => cluster::kubernetes(
            request,
            args,
            env,
            history,
            runner,
            deployment,
            namespace,
            container.as_deref(),
            image.as_deref(),
        ),
        Backend::Helm { release, namespace } => {
            cluster::helm(request, args, env, history, runner, release, namespace)
        }
        Backend::Compose {
            file,
            service,
            image,
        } => cluster::compose(
            request,
            args,
            env,
            history,
            runner,
            file,
            service,
            image.as_deref(),
        ),
        Backend::Command { .. } | Backend::GitHubDeployment => {
            let Some(Chosen {
                from,
                to,
                why,
                git_ref,
                deployments,
            }) = choose_version(
                request,
                args,
                env,
                request.from.clone(),
                history,
                true,
                |_| true,
            )?
            else {
                return Err(usage(format!(
                    "target `{}` needs `from` (the version being rolled back) or `version`{}",
                    request.backend.name(),
                    if history.is_some() {
                        ""
                    } else {
                        " (or `environment` with a token, to read GitHub deployments)"
                    }
                )));
            };
            // Our own rollback to this version is the live deployment: nothing to redo.
            let live = deployments.as_ref().is_some_and(|c| {
                c.already_live && c.good.as_ref().is_some_and(|(_, _, v)| *v == to)
            });
            if live {
                runner.info(&format!(
                    "the newest deployment of `{}` is already this action's rollback to `{to}`",
                    request.environment.as_deref().unwrap_or_default()
                ))?;
            } else if let Some(from) = &from {
                choose::check_direction(from, &to).map_err(|e| anyhow!(e))?;
            }
            let steps = match (&request.backend, live) {
                (_, true) => Vec::new(),
                (Backend::Command { argv }, false) => vec![Step::Run {
                    input: "command",
                    argv: argv.clone(),
                    cwd: None,
                }],
                (_, false) => vec![Step::Deploy {
                    git_ref: git_ref.clone(),
                    environment: request.environment.clone().unwrap_or_default(),
                }],
            };
            Ok(Plan {
                from,
                to,
                why,
                git_ref,
                deployments,
                steps,
            })
        }
    }
}

/// What acting changes besides the outcome.
struct Acting<'a> {
    started: Instant,
    timeline: &'a mut Vec<Event>,
    /// Whether the live version was switched.
    switched: &'a mut bool,
    /// The GitHub deployment created by a `github-deployment` step.
    deployment_id: &'a mut Option<u64>,
}

/// Carries out the plan's steps in order.
fn act(
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
                let finished = exec::run(argv, env_vars, cwd.as_deref(), Some(limit))
                    .with_context(|| format!("`{input}` could not run"))?;
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
                    let why = match cluster::read(argv, request) {
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
fn take_lock(request: &Request, env: &Env, runner: &mut Runner) -> Result<lock::Lock> {
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

/// How long a backend command may run: the `timeout`, plus a margin for a tool that is
/// given the timeout itself (`kubectl rollout status --timeout`, `helm --wait --timeout`),
/// so that its own message says what it waited for before we kill it.
fn command_limit(argv: &[String], timeout: Duration) -> Duration {
    let own = argv
        .iter()
        .any(|a| a == "--timeout" || a.starts_with("--timeout="));
    if own {
        timeout + OWN_TIMEOUT_MARGIN
    } else {
        timeout
    }
}

/// Records the rollback in the environment's GitHub deployments: the bad deployment gets a
/// `failure` status (unless it already ended in `failure` or `error`), and — except for the
/// `github-deployment` backend, whose deploy workflow reports on its own deployment — a new
/// `deploy:rollback` deployment of the restored version gets `success` (`failure` when it
/// did not become healthy).
fn record_deployments(
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
