//! The plan: the chosen version and the steps that make it live, as a value. `--dry-run`
//! prints it; a run carries it out (`act`).

use std::path::PathBuf;
use std::time::Duration;

use hub_conventional::TagPattern;
use hub_conventional::semver::Version;

use crate::health;
use crate::history::{self, Choice};
use crate::request::{Backend, Request};

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

/// The chosen version and the steps that make it live.
pub struct Plan {
    pub from: Option<Version>,
    pub to: Version,
    pub why: String,
    /// The git ref of `to`: its tag, or the ref of the deployment that chose it.
    pub git_ref: String,
    /// What the environment's GitHub deployments said, when they were read.
    pub deployments: Option<Choice>,
    pub steps: Vec<Step>,
    /// What planning found worth saying (logged before the plan).
    pub notes: Vec<String>,
}

pub enum Step {
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
pub fn step_env(
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
    pub fn env_vars(&self, pattern: &TagPattern) -> Vec<(&'static str, String)> {
        step_env(&self.to, self.from.as_ref(), pattern)
    }

    pub fn headline(&self) -> String {
        match &self.from {
            Some(from) => format!("plan: roll back from `{from}` to `{}`", self.to),
            None => format!("plan: roll back to `{}`", self.to),
        }
    }

    /// The exact plan, one line per step (paths and argument vectors as they will be used).
    pub fn describe(&self, request: &Request) -> Vec<String> {
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

/// How long a backend command may run: the `timeout`, plus a margin for a tool that is
/// given the timeout itself (`kubectl rollout status --timeout`, `helm --wait --timeout`),
/// so that its own message says what it waited for before we kill it.
pub fn command_limit(argv: &[String], timeout: Duration) -> Duration {
    let own = argv
        .iter()
        .any(|a| a == "--timeout" || a.starts_with("--timeout="));
    if own {
        timeout + OWN_TIMEOUT_MARGIN
    } else {
        timeout
    }
}
