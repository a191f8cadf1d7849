//! What the inputs ask for, validated: the backend and its inputs, the versions, the
//! health checks, the timeout. Reading the request does no I/O beyond the environment.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;
use hub_conventional::TagPattern;
use hub_conventional::semver::Version;
use hub_kit::Env;
use hub_kit::cli::usage;

use crate::args::Args;
use crate::choose;
use crate::health::Checks;
use crate::releases::{self, Releases, Remote};
use crate::tools;

/// The backends, as the `target` input names them.
const TARGETS: &str =
    "`releases-dir`, `command`, `github-deployment`, `kubernetes`, `helm` or `compose`";

/// What the inputs ask for, validated.
pub struct Request {
    pub backend: Backend,
    pub pattern: TagPattern,
    pub version: Option<Version>,
    pub from: Option<Version>,
    pub checks: Checks,
    pub timeout: Duration,
    pub audit_log: Option<PathBuf>,
    /// The GitHub deployment environment.
    pub environment: Option<String>,
    /// The repository whose tags list the releases.
    pub repository: String,
    /// Variables every backend tool (`docker compose`) runs with: for Compose over SSH,
    /// `DOCKER_HOST=ssh://…` and a `PATH` that finds the `ssh` carrying `ssh-options`.
    pub tool_env: Vec<(&'static str, String)>,
}

pub enum Backend {
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
        /// Where the override that pins the service's image goes.
        override_path: PathBuf,
        /// The engine's host, over SSH (`DOCKER_HOST=ssh://…`); `None`: the local engine
        /// (or whatever `DOCKER_HOST` the step sets).
        remote: Option<Remote>,
    },
}

impl Backend {
    pub fn name(&self) -> &'static str {
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
pub fn command_input(name: &str, line: &str) -> Result<Vec<String>> {
    hub_kit::argv::split(line).map_err(|e| usage(format!("input `{name}`: {e}")))
}

/// Parses a version input: a semantic version, optionally with the tag prefix.
fn version_input(name: &str, text: &str, pattern: &TagPattern) -> Result<Version> {
    choose::parse_version(text, pattern).ok_or_else(|| {
        // With no tag prefix (`tag-prefix: none`) there is no other spelling to offer.
        let spelling = match pattern.prefix.as_str() {
            "" => String::new(),
            prefix => format!(" (optionally `{prefix}1.2.3`)"),
        };
        usage(format!(
            "input `{name}` must be a semantic version such as `1.2.3`{spelling}, got `{}`",
            text.trim()
        ))
    })
}

impl Request {
    /// Validates the inputs; every mistake is a usage error naming the input.
    pub fn read(args: &Args, env: &Env) -> Result<Request> {
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
                Backend::ReleasesDir {
                    releases: Releases::new(dir, remote_input(args)?),
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
            "compose" => {
                let file = PathBuf::from(
                    args.compose_file
                        .as_deref()
                        .map(str::trim)
                        .filter(|f| !f.is_empty())
                        .ok_or_else(|| usage("target `compose` needs the input `compose-file`"))?,
                );
                let service = name_input("service", args.service.as_deref(), "compose")?;
                Backend::Compose {
                    override_path: override_path(env, &file, &service),
                    file,
                    service,
                    image: args.image.as_deref().map(image_input).transpose()?,
                    remote: remote_input(args)?,
                }
            }
            other => {
                return Err(usage(format!(
                    "input `target` must be {TARGETS}, got `{other}`"
                )));
            }
        };
        // An input meant for the other backend is a mistake, not something to ignore.
        let given: [(&str, bool, &[&str]); 11] = [
            ("host", args.host.is_some(), &["releases-dir", "compose"]),
            (
                "ssh-options",
                args.ssh_options.is_some(),
                &["releases-dir", "compose"],
            ),
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
            http: hub_http::Settings::from_vars(|name| env.get(name).map(String::from)),
        };
        let timeout = hub_kit::input::parse_duration("timeout", &args.timeout)
            .map_err(|e| usage(e.to_string()))?;
        // Zero is not "no limit": every command would be killed as it starts.
        if timeout.is_zero() {
            return Err(usage("input `timeout` must be longer than zero"));
        }
        let audit_log = args.audit_log.as_deref().map(PathBuf::from).or_else(|| {
            env.in_actions()
                .then(|| env.get_non_empty(hub_kit::vars::RUNNER_TEMP))
                .flatten()
                .map(|t| Path::new(t).join("hub-rollback-audit.jsonl"))
        });
        let repository = args
            .repository_path
            .clone()
            .or_else(|| {
                env.get_non_empty(hub_kit::vars::GITHUB_WORKSPACE)
                    .map(String::from)
            })
            .unwrap_or_else(|| ".".into());
        let tool_env = match &backend {
            Backend::Compose {
                remote: Some(remote),
                override_path,
                ..
            } => crate::docker_ssh::env(remote, override_path, env.get("PATH")),
            _ => Vec::new(),
        };
        Ok(Request {
            tool_env,
            backend,
            pattern,
            version,
            from,
            checks,
            timeout,
            audit_log,
            environment,
            repository,
        })
    }
}

/// The `host` and `ssh-options` inputs: where a `releases-dir` or a Compose engine is
/// reached over `ssh`.
fn remote_input(args: &Args) -> Result<Option<Remote>> {
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
    Ok(remote)
}

/// Where the Compose override that pins the service's image goes: `RUNNER_TEMP` inside
/// Actions, else next to the Compose file.
fn override_path(env: &Env, file: &Path, service: &str) -> PathBuf {
    let dir = env
        .get_non_empty(hub_kit::vars::RUNNER_TEMP)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            file.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        });
    dir.join(format!(".hub-rollback.{service}.compose.json"))
}
