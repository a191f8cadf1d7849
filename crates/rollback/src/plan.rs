//! Planning: from the request and the facts read for it, the version to roll back to and
//! the exact steps that get there. Pure — no file, process or network — so the plan is a
//! value that `--dry-run` prints, a run carries out and the tests check.

use anyhow::{Result, anyhow};
use hub_kit::cli::usage;

use crate::choose;
use crate::chosen::{Chosen, choose_version};
use crate::cluster;
use crate::facts::{Facts, Live, Need};
use crate::releases::{self, State};
use crate::request::{Backend, Request};
use crate::step::{Plan, Step, step_env};

/// The plan for `request` from `facts`, or the read it still needs. No I/O: the same
/// facts give the same plan.
pub fn plan(request: &Request, facts: &Facts) -> Result<Result<Plan, Need>> {
    let mut notes = Vec::new();
    match (&request.backend, &facts.live) {
        (Backend::ReleasesDir { releases, restart }, Live::Releases(snapshot)) => {
            let current = &snapshot.current;
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
                    notes.push(format!(
                        "`current` was reached by rolling back from `{f}`: rolling back from `{f}` again (name a `version` to go further back)"
                    ));
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
            }) = choose_version(request, facts, from, true, |v| {
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
                    notes.push(format!(
                        "the last rollback to `{to}` did not finish: running `restart-command` again"
                    ));
                    steps.push(restart_step(argv));
                }
                return Ok(Ok(Plan {
                    from,
                    to,
                    why,
                    git_ref,
                    deployments,
                    steps,
                    notes,
                }));
            }
            if let Some(from) = &from {
                choose::check_direction(from, &to).map_err(|e| anyhow!(e))?;
            }
            let name = snapshot.dir_name(&to, &request.pattern).ok_or_else(|| {
                anyhow!(
                    "no release directory for `{to}` in `{}/{}` ({})",
                    releases.place(),
                    releases::RELEASES,
                    holds(&snapshot.releases)
                )
            })?;
            snapshot.check_inside(&name, &releases.place())?;
            let mut steps = vec![Step::Switch {
                link: releases.current_path(),
                target: releases.link_target(&name, current),
                tmp: facts.switch_temp.clone(),
            }];
            if let Some(argv) = restart {
                steps.push(restart_step(argv));
            }
            Ok(Ok(Plan {
                from,
                to,
                why,
                git_ref,
                deployments,
                steps,
                notes,
            }))
        }
        (Backend::Kubernetes { .. }, Live::Kubernetes { .. }) => {
            cluster::kubernetes(request, facts)
        }
        (Backend::Helm { .. }, Live::Helm(revisions)) => {
            cluster::helm(request, facts, revisions).map(Ok)
        }
        (
            Backend::Compose { .. },
            Live::Compose {
                containers,
                recorded,
            },
        ) => cluster::compose(request, facts, containers, recorded.as_ref()).map(Ok),
        (Backend::Command { .. } | Backend::GitHubDeployment, _) => {
            let Some(Chosen {
                from,
                to,
                why,
                git_ref,
                deployments,
            }) = choose_version(request, facts, request.from.clone(), true, |_| true)?
            else {
                return Err(usage(format!(
                    "target `{}` needs `from` (the version being rolled back) or `version`{}",
                    request.backend.name(),
                    if facts.history.is_some() {
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
                notes.push(format!(
                    "the newest deployment of `{}` is already this action's rollback to `{to}`",
                    request.environment.as_deref().unwrap_or_default()
                ));
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
            Ok(Ok(Plan {
                from,
                to,
                why,
                git_ref,
                deployments,
                steps,
                notes,
            }))
        }
        _ => Err(anyhow!(
            "the live state read is not that of target `{}`",
            request.backend.name()
        )),
    }
}

/// What a releases directory holds, for a message (the names come sorted).
fn holds(names: &[String]) -> String {
    /// Names shown; a deployment may keep hundreds.
    const SHOWN: usize = 10;
    let quoted = |names: &[String]| {
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match names.len() {
        0 => "it holds no release".to_owned(),
        n if n <= SHOWN => format!("it holds {}", quoted(names)),
        n => format!(
            "it holds {n} releases, the last by name {}",
            quoted(&names[n - SHOWN..])
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use clap::Parser;
    use hub_conventional::semver::Version;
    use hub_kit::Env;

    use super::*;
    use crate::args::Args;
    use crate::releases::{Current, Snapshot};
    use crate::tools::{Container, K8sDeployment};

    fn request(words: &[&str]) -> Request {
        let args = Args::parse_from(std::iter::once("hub-rollback").chain(words.iter().copied()));
        Request::read(&args, &Env::from_pairs([("HOME", "/nowhere")]))
            .expect("because the inputs are valid")
    }

    fn tags() -> Result<Vec<String>, String> {
        Ok(["v0.9.0", "v1.0.0", "v1.1.0-rc.1", "v1.1.0"]
            .map(String::from)
            .to_vec())
    }

    fn releases_facts(current: &str, state: Option<State>) -> Facts {
        Facts {
            history: None,
            tags: tags(),
            tags_note: None,
            live: Live::Releases(Snapshot {
                current: Current {
                    target: PathBuf::from(format!("releases/{current}")),
                    name: current.into(),
                    version: current.parse().ok(),
                },
                releases: vec!["1.0.0".into(), "1.1.0".into()],
                state,
                outside: Vec::new(),
            }),
            switch_temp: "current.tmp-0123".into(),
        }
    }

    fn ready(request: &Request, facts: &Facts) -> Plan {
        match plan(request, facts).expect("because the facts allow a plan") {
            Ok(plan) => plan,
            Err(_) => panic!("the plan asked for another read"),
        }
    }

    #[test]
    fn releases_dir_switches_to_the_previous_release_with_the_chosen_temp_name() {
        let r = request(&["--target", "releases-dir", "--releases-dir", "/srv/app"]);
        let p = ready(&r, &releases_facts("1.1.0", None));
        assert_eq!(p.from, Some(Version::new(1, 1, 0)));
        assert_eq!(p.to, Version::new(1, 0, 0), "never the pre-release");
        assert!(
            matches!(
                p.steps.as_slice(),
                [Step::Switch { link, target, tmp }]
                    if link == Path::new("/srv/app/current")
                        && target == Path::new("releases/1.0.0")
                        && tmp == "current.tmp-0123"
            ),
            "{:?}",
            p.describe(&r)
        );
        // The same facts, the same plan: what the dry run shows is what a run does.
        assert_eq!(
            ready(&r, &releases_facts("1.1.0", None)).describe(&r),
            p.describe(&r)
        );
    }

    #[test]
    fn a_version_without_a_release_directory_names_the_ones_there() {
        let r = request(&[
            "--target",
            "releases-dir",
            "--releases-dir",
            "/srv/app",
            "--version",
            "0.5.0",
        ]);
        let e = plan(&r, &releases_facts("1.1.0", None))
            .err()
            .expect("because there is no releases/0.5.0")
            .to_string();
        assert_eq!(
            e,
            "no release directory for `0.5.0` in `/srv/app/releases` (it holds `1.0.0`, `1.1.0`)"
        );
    }

    #[test]
    fn releases_dir_refuses_a_release_outside_and_finishes_an_unfinished_restart() {
        let r = request(&[
            "--target",
            "releases-dir",
            "--releases-dir",
            "/srv/app",
            "--restart-command",
            "systemctl restart app",
        ]);
        let mut facts = releases_facts("1.1.0", None);
        if let Live::Releases(s) = &mut facts.live {
            s.outside = vec![("1.0.0".into(), PathBuf::from("/etc"))];
        }
        let e = plan(&r, &facts)
            .err()
            .expect("because 1.0.0 is outside")
            .to_string();
        assert_eq!(
            e,
            "release directory `releases/1.0.0` resolves to `/etc`, outside `/srv/app/releases`: refusing to switch `current` to it"
        );
        let unfinished = State {
            from: "1.1.0".into(),
            to: "1.0.0".into(),
            complete: false,
        };
        let p = ready(&r, &releases_facts("1.0.0", Some(unfinished)));
        assert_eq!(p.from, Some(Version::new(1, 1, 0)), "not one step further");
        assert!(
            matches!(
                p.steps.as_slice(),
                [Step::Run {
                    input: "restart-command",
                    ..
                }]
            ),
            "{:?}",
            p.describe(&r)
        );
        assert!(
            p.notes.iter().any(|n| n.contains("did not finish")),
            "{:?}",
            p.notes
        );
    }

    #[test]
    fn kubernetes_asks_for_the_replica_sets_only_when_it_must_roll() {
        let r = request(&[
            "--target",
            "kubernetes",
            "--deployment",
            "web",
            "--namespace",
            "shop",
        ]);
        let facts = |image: &str| Facts {
            history: None,
            tags: tags(),
            tags_note: None,
            live: Live::Kubernetes {
                deployment: K8sDeployment {
                    uid: "u".into(),
                    paused: false,
                    revision: Some(3),
                    containers: vec![Container {
                        name: "web".into(),
                        image: image.into(),
                    }],
                    gitops: None,
                },
                replica_sets: None,
            },
            switch_temp: String::new(),
        };
        let rolling = plan(&r, &facts("ghcr.io/org/web:v1.1.0")).expect("a plan or a need");
        assert!(matches!(rolling, Err(Need::ReplicaSets)));
        let live = request(&[
            "--target",
            "kubernetes",
            "--deployment",
            "web",
            "--version",
            "1.1.0",
        ]);
        let p = ready(&live, &facts("ghcr.io/org/web:v1.1.0"));
        assert!(
            p.steps.is_empty(),
            "already running: nothing to do, nothing to read"
        );
    }
}
