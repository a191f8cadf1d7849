//! Plans for the `kubernetes`, `helm` and `compose` backends: read the live state with the
//! tool (reads run in a dry run too; they change nothing), choose the version, and lay out
//! the exact argument vectors that roll back.

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};
use hub_conventional::semver::Version;
use hub_kit::{Env, Runner};

use crate::tools::{self, Container};
use crate::{Args, Chosen, Plan, Request, Step, choose, choose_version, exec, history, usage};

/// Runs a read-only tool command and returns what it printed.
pub fn read(argv: &[String], request: &Request) -> Result<String> {
    let shown = argv.join(" ");
    let finished = exec::run(argv, &[], None, Some(request.timeout))
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

fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_string()).collect()
}

/// `1.1.0` spelled like the running tag: with the tag prefix when that tag has it.
fn spell(to: &Version, running_tag: Option<&str>, prefix: &str) -> String {
    match running_tag {
        Some(tag) if !prefix.is_empty() && tag.starts_with(prefix) => format!("{prefix}{to}"),
        _ => to.to_string(),
    }
}

fn seconds(request: &Request) -> String {
    format!("{}s", request.timeout.as_secs().max(1))
}

fn finish(chosen: Chosen, live: bool, steps: Vec<Step>) -> Result<Plan> {
    if !live && let Some(from) = &chosen.from {
        choose::check_direction(from, &chosen.to).map_err(|e| anyhow!(e))?;
    }
    Ok(Plan {
        from: chosen.from,
        to: chosen.to,
        why: chosen.why,
        git_ref: chosen.git_ref,
        deployments: chosen.deployments,
        steps: if live { Vec::new() } else { steps },
    })
}

fn no_version(request: &Request) -> anyhow::Error {
    usage(format!(
        "target `{}` cannot tell the running version: set `from` or `version`",
        request.backend.name()
    ))
}

#[allow(
    clippy::too_many_arguments,
    reason = "the backend's inputs, spelled out"
)]
pub fn kubernetes(
    request: &Request,
    args: &Args,
    env: &Env,
    history: Option<&[history::Entry]>,
    runner: &mut Runner,
    name: &str,
    ns: &str,
    container: Option<&str>,
    image: Option<&str>,
) -> Result<Plan> {
    let d = tools::k8s_deployment(&read(
        &argv(&["kubectl", "get", "deployment", name, "-n", ns, "-o", "json"]),
        request,
    )?)
    .map_err(|e| anyhow!(e))?;
    if let Some(guidance) = &d.gitops {
        return Err(anyhow!("{guidance}"));
    }
    if d.paused {
        return Err(anyhow!(
            "deployment `{name}` in `{ns}` is paused: a rollout would not progress; resume it (`kubectl rollout resume deployment/{name} -n {ns}`) or finish what paused it first"
        ));
    }
    let current: &Container = match container {
        Some(c) => d
            .containers
            .iter()
            .find(|x| x.name == c)
            .ok_or_else(|| usage(format!("deployment `{name}` has no container `{c}`")))?,
        None => match d.containers.as_slice() {
            [only] => only,
            _ => {
                return Err(usage(format!(
                    "deployment `{name}` has {} containers: set `container`",
                    d.containers.len()
                )));
            }
        },
    };
    let tag = tools::image_tag(&current.image);
    let running = tag.and_then(|t| choose::parse_version(t, &request.pattern));
    runner.info(&format!(
        "deployment `{name}` in `{ns}` runs `{}` (revision {})",
        current.image,
        d.revision.map_or("unknown".into(), |r| r.to_string())
    ))?;
    let from = request.from.clone().or_else(|| running.clone());
    let chosen = choose_version(request, args, env, from, history, true, |_| true)?
        .ok_or_else(|| no_version(request))?;
    let live = running.as_ref() == Some(&chosen.to);
    let deployment = format!("deployment/{name}");
    let mut steps = Vec::new();
    if !live {
        // Kubernetes' own history first: a ReplicaSet that ran the version restores its
        // whole pod template. Otherwise point the container at the version's image.
        let sets = tools::replica_sets(
            &read(
                &argv(&["kubectl", "get", "replicasets", "-n", ns, "-o", "json"]),
                request,
            )?,
            &d.uid,
        )
        .map_err(|e| anyhow!(e))?;
        let earlier = sets
            .iter()
            .filter(|s| Some(s.revision) != d.revision)
            .find(|s| {
                s.containers.iter().any(|c| {
                    c.name == current.name
                        && tools::image_tag(&c.image)
                            .and_then(|t| choose::parse_version(t, &request.pattern))
                            .as_ref()
                            == Some(&chosen.to)
                })
            });
        // The trap: a rollout restores a pod template, nothing else the bad deploy changed.
        runner.info(&format!(
            "{} only the pod template of deployment `{name}`: its replicas and strategy, and the Services, ConfigMaps and Secrets the bad deploy changed, stay as they are (revert those in your manifests)",
            match earlier {
                Some(rs) => format!("`kubectl rollout undo --to-revision={}` restores", rs.revision),
                None => "`kubectl set image` changes".to_string(),
            }
        ))?;
        steps.push(match earlier {
            Some(rs) => Step::Run {
                input: "kubectl rollout undo",
                argv: argv(&[
                    "kubectl",
                    "rollout",
                    "undo",
                    &deployment,
                    "-n",
                    ns,
                    &format!("--to-revision={}", rs.revision),
                ]),
                cwd: None,
            },
            None => {
                let repo = image.unwrap_or_else(|| tools::image_repository(&current.image));
                let reference =
                    format!("{repo}:{}", spell(&chosen.to, tag, &request.pattern.prefix));
                Step::Run {
                    input: "kubectl set image",
                    argv: argv(&[
                        "kubectl",
                        "set",
                        "image",
                        &deployment,
                        &format!("{}={reference}", current.name),
                        "-n",
                        ns,
                    ]),
                    cwd: None,
                }
            }
        });
        steps.push(Step::Run {
            input: "kubectl rollout status",
            argv: argv(&[
                "kubectl",
                "rollout",
                "status",
                &deployment,
                "-n",
                ns,
                &format!("--timeout={}", seconds(request)),
            ]),
            cwd: None,
        });
    }
    finish(chosen, live, steps)
}

pub fn helm(
    request: &Request,
    args: &Args,
    env: &Env,
    history: Option<&[history::Entry]>,
    runner: &mut Runner,
    release: &str,
    ns: &str,
) -> Result<Plan> {
    let revisions = tools::helm_history(&read(
        &argv(&[
            "helm", "history", release, "-n", ns, "-o", "json", "--max", "256",
        ]),
        request,
    )?)
    .map_err(|e| anyhow!(e))?;
    let pattern = &request.pattern;
    let live_revision = tools::helm_live(&revisions);
    let running = live_revision.and_then(|r| choose::parse_version(&r.app_version, pattern));
    if let Some(r) = live_revision {
        runner.info(&format!(
            "release `{release}` in `{ns}` is at revision {} (`{}`, `{}`, app version `{}`)",
            r.revision, r.status, r.chart, r.app_version
        ))?;
    }
    let from = request.from.clone().or_else(|| running.clone());
    // A version named (or found in GitHub deployments) picks the revision that ran it;
    // otherwise helm's own history does, not the release tags.
    let named = choose_version(request, args, env, from.clone(), history, false, |_| true)?;
    let choice = match &named {
        Some(c) => {
            let to = c.to.clone();
            let matches = move |v: &str| choose::parse_version(v, pattern).as_ref() == Some(&to);
            tools::helm_choose(release, &revisions, Some(&matches))
        }
        None => tools::helm_choose(release, &revisions, None),
    }
    .map_err(|e| anyhow!(e))?;
    let target = &choice.target;
    let chosen = match named {
        Some(c) => c,
        None => {
            let to = choose::parse_version(&target.app_version, pattern).ok_or_else(|| {
                anyhow!(
                    "revision {} of release `{release}` has app version `{}`, which is not a semantic version: name the `version`",
                    target.revision,
                    target.app_version
                )
            })?;
            Chosen {
                git_ref: format!("{}{to}", pattern.prefix),
                why: format!(
                    "last good helm revision {} (`{}`, `{}`)",
                    target.revision, target.chart, target.status
                ),
                from,
                to,
                deployments: None,
            }
        }
    };
    let live = choice.current.as_ref().map(|c| c.revision) == Some(target.revision);
    let steps = vec![Step::Run {
        input: "helm rollback",
        argv: argv(&[
            "helm",
            "rollback",
            release,
            &target.revision.to_string(),
            "-n",
            ns,
            "--wait",
            "--timeout",
            &seconds(request),
        ]),
        cwd: None,
    }];
    finish(chosen, live, steps)
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

#[allow(
    clippy::too_many_arguments,
    reason = "the backend's inputs, spelled out"
)]
pub fn compose(
    request: &Request,
    args: &Args,
    env: &Env,
    history: Option<&[history::Entry]>,
    runner: &mut Runner,
    file: &Path,
    service: &str,
    image: Option<&str>,
) -> Result<Plan> {
    let file_arg = file.display().to_string();
    let base = argv(&["docker", "compose", "-f", &file_arg]);
    let ps_argv = |files: &[String]| {
        let mut a = files.to_vec();
        a.extend(argv(&["ps", "--all", "--format", "json", service]));
        a
    };
    let running_containers =
        tools::compose_ps(&read(&ps_argv(&base), request)?).map_err(|e| anyhow!(e))?;
    let current = running_containers
        .iter()
        .find(|c| c.service == service)
        .map(|c| c.image.clone());
    let tag = current.as_deref().and_then(tools::image_tag);
    let running = tag.and_then(|t| choose::parse_version(t, &request.pattern));
    runner.info(&format!(
        "service `{service}` runs `{}`",
        current.as_deref().unwrap_or("nothing")
    ))?;
    let from = request.from.clone().or_else(|| running.clone());
    let chosen = choose_version(request, args, env, from, history, true, |_| true)?
        .ok_or_else(|| no_version(request))?;
    let repo = image
        .map(str::to_string)
        .or_else(|| {
            current
                .as_deref()
                .map(|i| tools::image_repository(i).to_string())
        })
        .ok_or_else(|| usage("service is not running: set `image` (the image repository)"))?;
    let reference = format!("{repo}:{}", spell(&chosen.to, tag, &request.pattern.prefix));
    let live = tools::compose_ready(&running_containers, &reference).is_ok();
    let path = override_path(env, file, service);
    let contents = serde_json::json!({ "services": { service: { "image": reference } } });
    let mut files = base.clone();
    files.extend(["-f".to_string(), path.display().to_string()]);
    let mut up = files.clone();
    up.extend(argv(&["up", "-d", "--no-deps", service]));
    let steps = vec![
        Step::Write {
            path,
            contents: format!("{contents:#}\n"),
        },
        Step::Run {
            input: "docker compose up",
            argv: up,
            cwd: None,
        },
        Step::WaitCompose {
            argv: ps_argv(&files),
            image: reference,
        },
    ];
    finish(chosen, live, steps)
}
