//! Plans for the `kubernetes`, `helm` and `compose` backends, from the live state the tool
//! showed (read in `facts`): choose the version and lay out the exact argument vectors that
//! roll back. Pure, like the rest of planning.

use anyhow::{Result, anyhow};
use hub_conventional::semver::Version;
use hub_kit::cli::usage;
use hub_kit::md::code;

use crate::choose;
use crate::chosen::{Chosen, choose_version};
use crate::facts::{Facts, Live, Need, argv, compose_ps_args};
use crate::request::{Backend, Request};
use crate::step::{Plan, Step};
use crate::tools::{self, ComposeContainer, Container, HelmRevision};

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

fn finish(chosen: Chosen, live: bool, steps: Vec<Step>, notes: Vec<String>) -> Result<Plan> {
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
        notes,
    })
}

fn no_version(request: &Request) -> anyhow::Error {
    usage(format!(
        "target `{}` cannot tell the running version: set `from` or `version`",
        request.backend.name()
    ))
}

/// The `kubernetes` plan, or [`Need::ReplicaSets`] when the version is not running and
/// the Deployment's history has not been read yet.
pub fn kubernetes(request: &Request, facts: &Facts) -> Result<Result<Plan, Need>> {
    let (
        Backend::Kubernetes {
            deployment: name,
            namespace: ns,
            container,
            image,
        },
        Live::Kubernetes {
            deployment: d,
            replica_sets,
        },
    ) = (&request.backend, &facts.live)
    else {
        return Err(anyhow!("not a `kubernetes` request"));
    };
    let mut notes = Vec::new();
    if let Some(guidance) = &d.gitops {
        return Err(anyhow!("{guidance}"));
    }
    if d.paused {
        return Err(anyhow!(
            "deployment `{name}` in `{ns}` is paused: a rollout would not progress; resume it (`kubectl rollout resume deployment/{name} -n {ns}`) or finish what paused it first"
        ));
    }
    let current: &Container = match container.as_deref() {
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
    notes.push(format!(
        "deployment `{name}` in `{ns}` runs `{}` (revision {})",
        current.image,
        d.revision.map_or("unknown".into(), |r| r.to_string())
    ));
    let from = request.from.clone().or_else(|| running.clone());
    let chosen =
        choose_version(request, facts, from, true, |_| true)?.ok_or_else(|| no_version(request))?;
    let live = running.as_ref() == Some(&chosen.to);
    let deployment = format!("deployment/{name}");
    let mut steps = Vec::new();
    if !live {
        // Kubernetes' own history first: a ReplicaSet that ran the version restores its
        // whole pod template. Otherwise point the container at the version's image.
        let Some(sets) = replica_sets else {
            return Ok(Err(Need::ReplicaSets));
        };
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
        notes.push(format!(
            "{} only the pod template of deployment `{name}`: its replicas and strategy, and the Services, ConfigMaps and Secrets the bad deploy changed, stay as they are (revert those in your manifests)",
            match earlier {
                Some(rs) => format!("`kubectl rollout undo --to-revision={}` restores", rs.revision),
                None => "`kubectl set image` changes".to_string(),
            }
        ));
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
                let repo = image
                    .as_deref()
                    .unwrap_or_else(|| tools::image_repository(&current.image));
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
    finish(chosen, live, steps, notes).map(Ok)
}

/// The `helm` plan from the release's history.
pub fn helm(request: &Request, facts: &Facts, revisions: &[HelmRevision]) -> Result<Plan> {
    let Backend::Helm {
        release,
        namespace: ns,
    } = &request.backend
    else {
        return Err(anyhow!("not a `helm` request"));
    };
    let mut notes = Vec::new();
    let pattern = &request.pattern;
    let live_revision = tools::helm_live(revisions);
    let running = live_revision.and_then(|r| choose::parse_version(&r.app_version, pattern));
    if let Some(r) = live_revision {
        notes.push(format!(
            "release `{release}` in `{ns}` is at revision {} (`{}`, `{}`, app version `{}`)",
            r.revision, r.status, r.chart, r.app_version
        ));
    }
    let from = request.from.clone().or_else(|| running.clone());
    // A version named (or found in GitHub deployments) picks the revision that ran it;
    // otherwise helm's own history does, not the release tags.
    let named = choose_version(request, facts, from.clone(), false, |_| true)?;
    let choice = match &named {
        Some(c) => {
            let to = c.to.clone();
            let matches = move |v: &str| choose::parse_version(v, pattern).as_ref() == Some(&to);
            tools::helm_choose(release, revisions, Some(&matches))
        }
        None => tools::helm_choose(release, revisions, None),
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
                    "last good helm revision {} ({}, {})",
                    target.revision,
                    code(&target.chart),
                    code(&target.status)
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
    finish(chosen, live, steps, notes)
}

/// The `compose` plan from the service's containers.
pub fn compose(
    request: &Request,
    facts: &Facts,
    running_containers: &[ComposeContainer],
    recorded: Option<&(String, String)>,
) -> Result<Plan> {
    let Backend::Compose {
        file,
        service,
        image,
        override_path,
        remote,
    } = &request.backend
    else {
        return Err(anyhow!("not a `compose` request"));
    };
    let mut notes = Vec::new();
    if let Some((_, host)) = request.tool_env.iter().find(|(k, _)| *k == "DOCKER_HOST")
        && let Some(remote) = remote
    {
        notes.push(format!(
            "the engine is `{}`'s: every `docker compose` runs with DOCKER_HOST={host}",
            remote.host
        ));
    }
    let file_arg = file.display().to_string();
    let base = argv(&["docker", "compose", "-f", &file_arg]);
    let ps_argv = |files: &[String]| {
        let mut a = files.to_vec();
        a.extend(compose_ps_args(service));
        a
    };
    let current = running_containers
        .iter()
        .find(|c| &c.service == service)
        .map(|c| c.image.clone());
    let tag = current.as_deref().and_then(tools::image_tag);
    let running = tag.and_then(|t| choose::parse_version(t, &request.pattern));
    notes.push(format!(
        "service `{service}` runs `{}`",
        current.as_deref().unwrap_or("nothing")
    ));
    // A re-run after a rollback rolls back from the same version again (a no-op), not one
    // step further: the override the last rollback wrote records it.
    let recorded_from = recorded.and_then(|(from, to)| {
        let to = choose::parse_version(to, &request.pattern)?;
        let from = choose::parse_version(from, &request.pattern)?;
        (running.as_ref() == Some(&to)).then_some(from)
    });
    let from = match (&request.from, &request.version, recorded_from) {
        (Some(f), _, _) => Some(f.clone()),
        (None, None, Some(f)) => {
            notes.push(format!(
                "service `{service}` was reached by rolling back from `{f}`: rolling back from `{f}` again (name a `version` to go further back)"
            ));
            Some(f)
        }
        _ => running.clone(),
    };
    let chosen =
        choose_version(request, facts, from, true, |_| true)?.ok_or_else(|| no_version(request))?;
    let repo = image
        .clone()
        .or_else(|| {
            current
                .as_deref()
                .map(|i| tools::image_repository(i).to_string())
        })
        .ok_or_else(|| usage("service is not running: set `image` (the image repository)"))?;
    let reference = format!("{repo}:{}", spell(&chosen.to, tag, &request.pattern.prefix));
    let live = tools::compose_ready(running_containers, &reference).is_ok();
    let path = override_path.clone();
    let mut contents = serde_json::json!({ "services": { service: { "image": reference } } });
    if let Some(from) = &chosen.from {
        contents[tools::COMPOSE_RECORD] =
            serde_json::json!({ "from": from.to_string(), "to": chosen.to.to_string() });
    }
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
    finish(chosen, live, steps, notes)
}
