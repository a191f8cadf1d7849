//! What planning needs to know, read before it plans: the live state of the backend (the
//! releases directory, the Deployment, the helm history, the Compose service), the
//! repository's release tags and the environment's GitHub deployments. The reads change
//! nothing, so a dry run makes them too.

use anyhow::{Context, Result, anyhow};
use hub_git::Repo;
use hub_kit::Runner;

use crate::exec;
use crate::history;
use crate::releases::{Releases, Snapshot};
use crate::request::{Backend, Request};
use crate::tools::{self, ComposeContainer, HelmRevision, K8sDeployment, ReplicaSet};

/// Everything the plan is made from.
pub struct Facts {
    /// The environment's GitHub deployments, when they were read.
    pub history: Option<Vec<history::Entry>>,
    /// The repository's tag names, or why they could not be read (an error only when the
    /// tags are what chooses the version).
    pub tags: Result<Vec<String>, String>,
    /// Why the tags may be incomplete (a shallow clone, no tag at all): said when no
    /// release below the current one is found among them.
    pub tags_note: Option<String>,
    /// The backend's live state.
    pub live: Live,
    /// The temporary name a `releases-dir` switch goes through (`current.tmp-<random>`),
    /// chosen here so that the plan shows it exactly.
    pub switch_temp: String,
}

/// The backend's live state.
pub enum Live {
    /// `command` and `github-deployment`: nothing to read.
    Nothing,
    Releases(Snapshot),
    Kubernetes {
        deployment: K8sDeployment,
        /// Read only when the plan asks for them (see [`Need`]).
        replica_sets: Option<Vec<ReplicaSet>>,
    },
    Helm(Vec<HelmRevision>),
    Compose {
        containers: Vec<ComposeContainer>,
        /// The last rollback, as recorded in the override it wrote: `(from, to)`.
        recorded: Option<(String, String)>,
    },
}

/// A read the plan asks for once it knows it needs it.
pub enum Need {
    /// The Deployment's ReplicaSets: only when the version is not already running.
    ReplicaSets,
}

/// Reads the facts for `request`.
pub fn read(
    request: &Request,
    history: Option<Vec<history::Entry>>,
    runner: &mut Runner,
) -> Result<Facts> {
    let live = match &request.backend {
        Backend::ReleasesDir { releases, .. } => {
            let snapshot = releases.inspect(&request.pattern, request.timeout)?;
            runner.info(&format!(
                "`current` in `{}` points at `{}`",
                releases.place(),
                snapshot.current.target.display()
            ))?;
            Live::Releases(snapshot)
        }
        Backend::Command { .. } | Backend::GitHubDeployment => Live::Nothing,
        Backend::Kubernetes {
            deployment,
            namespace,
            ..
        } => Live::Kubernetes {
            deployment: tools::k8s_deployment(&tool_output(
                &argv(&[
                    "kubectl",
                    "get",
                    "deployment",
                    deployment,
                    "-n",
                    namespace,
                    "-o",
                    "json",
                ]),
                request,
            )?)
            .map_err(|e| anyhow!(e))?,
            replica_sets: None,
        },
        Backend::Helm { release, namespace } => Live::Helm(
            tools::helm_history(&tool_output(
                &argv(&[
                    "helm", "history", release, "-n", namespace, "-o", "json", "--max", "256",
                ]),
                request,
            )?)
            .map_err(|e| anyhow!(e))?,
        ),
        Backend::Compose {
            file,
            service,
            override_path,
            ..
        } => {
            let mut ps = argv(&["docker", "compose", "-f", &file.display().to_string()]);
            ps.extend(compose_ps_args(service));
            Live::Compose {
                containers: tools::compose_ps(&tool_output(&ps, request)?)
                    .map_err(|e| anyhow!(e))?,
                recorded: std::fs::read_to_string(override_path)
                    .ok()
                    .and_then(|text| tools::compose_recorded(&text)),
            }
        }
    };
    let (tags, tags_note) = match tag_names(&request.repository) {
        Ok((names, note)) => (Ok(names), note),
        Err(e) => (Err(format!("{e:#}")), None),
    };
    Ok(Facts {
        history,
        tags,
        tags_note,
        live,
        switch_temp: Releases::temp_name(),
    })
}

/// Makes the read the plan asked for.
pub fn fill(facts: &mut Facts, need: Need, request: &Request) -> Result<()> {
    match (need, &mut facts.live, &request.backend) {
        (
            Need::ReplicaSets,
            Live::Kubernetes {
                deployment,
                replica_sets,
            },
            Backend::Kubernetes { namespace, .. },
        ) => {
            *replica_sets = Some(
                tools::replica_sets(
                    &tool_output(
                        &argv(&[
                            "kubectl",
                            "get",
                            "replicasets",
                            "-n",
                            namespace,
                            "-o",
                            "json",
                        ]),
                        request,
                    )?,
                    &deployment.uid,
                )
                .map_err(|e| anyhow!(e))?,
            );
            Ok(())
        }
        _ => Err(anyhow!(
            "replica sets asked for a backend other than `kubernetes`"
        )),
    }
}

/// `ps --all --format json <service>`: the words after `docker compose -f <file>…` that
/// list a service's containers.
pub fn compose_ps_args(service: &str) -> Vec<String> {
    argv(&["ps", "--all", "--format", "json", service])
}

/// Runs a read-only tool command within the timeout and returns what it printed.
pub fn tool_output(argv: &[String], request: &Request) -> Result<String> {
    let shown = argv.join(" ");
    let finished = exec::run(argv, &request.tool_env, None, Some(request.timeout))
        .map_err(|e| anyhow!("`{shown}` could not run: {e:#}"))?;
    if !finished.success() {
        return Err(anyhow!(
            "`{shown}` failed ({}): {}",
            finished.describe(),
            finished.stderr.trim()
        ));
    }
    Ok(finished.stdout)
}

/// An argument vector from words.
pub fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_string()).collect()
}

/// The tag names of the repository at `dir`, and why they may not be all the releases: a
/// shallow clone (actions/checkout's default fetches one commit and no tag) or a
/// repository without a single tag.
fn tag_names(dir: &str) -> Result<(Vec<String>, Option<String>)> {
    let repo = Repo::discover(dir).with_context(|| {
        format!("cannot list release tags in `{dir}`: set `repository-path`, or name the version with `version`")
    })?;
    let (names, shallow) = repo.tag_names()?;
    let note = if shallow {
        Some(format!(
            "`{dir}` is a shallow clone, which holds only the tags fetched with it (actions/checkout fetches one commit and no tags by default): check out with `fetch-depth: 0`, or name the `version`"
        ))
    } else if names.is_empty() {
        Some(format!(
            "`{dir}` has no tags at all: is `repository-path` the repository whose tags name the releases?"
        ))
    } else {
        None
    };
    Ok((names, note))
}
