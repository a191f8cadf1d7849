//! The GitHub Deployments side of `hub-rollback`, against the OpenAPI-checked stand-in
//! (skipped, saying so, without `HUB_GITHUB_OPENAPI`): the version comes from the last
//! deployment that succeeded, the rollback is recorded as statuses and a new deployment, a
//! re-run changes nothing, `github-deployment` hands the work to the deploy workflow, and
//! the sticky comment lands on the triggering pull request.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use hub_github::{
    BlockingGitHub, Deployment, DeploymentFilter, DeploymentState, GitHubConfig, NewDeployment,
    NewDeploymentStatus, Repository,
};
use hub_github_standin::test_support::TestServer;
use hub_testkit::bin::{Action, Run};

const BIN: &str = env!("CARGO_BIN_EXE_hub-rollback");
const REPO: &str = "org/app";
const TOKEN: &str = "ghs_rollbackTestToken123";

/// A local repository tagged `v1.0.0` … `v1.3.0`, mirrored into the stand-in.
struct World {
    dir: tempfile::TempDir,
    server: TestServer,
    client: BlockingGitHub,
    repo: Repository,
}

impl World {
    fn new() -> Option<World> {
        let server = TestServer::start(&[])?;
        let dir = tempfile::tempdir().unwrap();
        let git_dir = dir.path().join("repo");
        std::fs::create_dir(&git_dir).unwrap();
        let git = |args: &[&str]| {
            hub_testkit::git::git(&git_dir, args);
        };
        git(&["init", "-q", "-b", "main"]);
        for tag in ["v1.0.0", "v1.1.0", "v1.2.0", "v1.3.0"] {
            git(&["commit", "-q", "--allow-empty", "-m", tag]);
            git(&["tag", tag]);
        }
        server.import_git(REPO, &git_dir).unwrap();
        let mut config = GitHubConfig::new(server.url()).unwrap();
        config.token = hub_github::Token::new(TOKEN);
        config.repository = Some(REPO.parse().unwrap());
        let client = BlockingGitHub::new(&config).unwrap();
        Some(World {
            dir,
            server,
            client,
            repo: REPO.parse().unwrap(),
        })
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// A deployment of `git_ref` to `environment` that went through `states` in order.
    fn deployed(&self, git_ref: &str, environment: &str, states: &[DeploymentState]) -> u64 {
        let gh = self.client.github();
        let d = self
            .client
            .block_on(gh.create_deployment(&self.repo, &NewDeployment::new(git_ref, environment)))
            .unwrap();
        for state in states {
            self.client
                .block_on(gh.create_deployment_status(
                    &self.repo,
                    d.id,
                    &NewDeploymentStatus::new(*state),
                ))
                .unwrap();
        }
        d.id
    }

    fn deployments(&self, environment: &str) -> Vec<Deployment> {
        let filter = DeploymentFilter {
            environment: Some(environment.into()),
            ..DeploymentFilter::default()
        };
        self.client
            .block_on(self.client.github().list_deployments(&self.repo, &filter))
            .unwrap()
    }

    /// Newest first.
    fn states(&self, id: u64) -> Vec<String> {
        self.client
            .block_on(
                self.client
                    .github()
                    .list_deployment_statuses(&self.repo, id),
            )
            .unwrap()
            .iter()
            .map(|s| s.state.as_str().to_string())
            .collect()
    }

    fn run(&self, inputs: &[(&str, &str)], event: Option<(&str, &str)>) -> Run {
        self.run_with_env(inputs, event, &[])
    }

    /// [`World::run`] with more environment variables.
    fn run_with_env(
        &self,
        inputs: &[(&str, &str)],
        event: Option<(&str, &str)>,
        vars: &[(&str, &str)],
    ) -> Run {
        self.run_full(
            inputs,
            event,
            &std::env::var_os("PATH").unwrap_or_default(),
            vars,
        )
    }

    /// [`World::run`] with this `PATH` and these extra variables.
    fn run_full(
        &self,
        inputs: &[(&str, &str)],
        event: Option<(&str, &str)>,
        path: &std::ffi::OsStr,
        vars: &[(&str, &str)],
    ) -> Run {
        let mut action = Action::new(BIN, self.dir.path())
            .env("PATH", path)
            .env("GITHUB_API_URL", self.server.url())
            .env("GITHUB_SERVER_URL", "https://github.example")
            .env("GITHUB_REPOSITORY", REPO)
            .env("GITHUB_RUN_ID", "42")
            .env("GITHUB_TOKEN", TOKEN)
            .env("INPUT_REPOSITORY-PATH", self.path("repo"));
        if let Some((name, payload)) = event {
            let path = self.path("event.json");
            std::fs::write(&path, payload).unwrap();
            action = action
                .env("GITHUB_EVENT_NAME", name)
                .env("GITHUB_EVENT_PATH", path);
        }
        let (mut cmd, files) = action.command(inputs, "");
        cmd.envs(vars.iter().copied());
        let run = files.finish(&cmd.output().unwrap());
        // The token is masked before anything else, and never printed.
        let masked = format!("::add-mask::{TOKEN}");
        assert!(run.stdout.starts_with(&masked), "{run:#?}");
        assert!(
            !run.stdout.replacen(&masked, "", 1).contains(TOKEN) && !run.stderr.contains(TOKEN),
            "{run:#?}"
        );
        run
    }
}

/// The stand-in's stored deployment `id`, wherever its state keeps it.
fn find_deployment(state: &serde_json::Value, id: u64) -> Option<serde_json::Value> {
    match state {
        serde_json::Value::Object(map) => {
            if map.get("id").and_then(serde_json::Value::as_u64) == Some(id)
                && map.contains_key("auto_merge")
            {
                return Some(state.clone());
            }
            map.values().find_map(|v| find_deployment(v, id))
        }
        serde_json::Value::Array(items) => items.iter().find_map(|v| find_deployment(v, id)),
        _ => None,
    }
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

use DeploymentState::{Failure, InProgress, Success};

#[test]
fn the_last_good_deployment_is_chosen_recorded_and_not_redone() {
    let Some(w) = World::new() else { return };
    // v1.0.0 and v1.1.0 succeeded (and became `inactive` as later ones succeeded), v1.2.0
    // failed after succeeding, v1.3.0 is live and bad.
    let d1 = w.deployed("v1.0.0", "staging", &[Success]);
    let d2 = w.deployed("v1.1.0", "staging", &[InProgress, Success]);
    let d3 = w.deployed("v1.2.0", "staging", &[Success, Failure]);
    let d4 = w.deployed("v1.3.0", "staging", &[InProgress, Success]);
    let _other = w.deployed("v1.2.0", "preview", &[Success]);
    assert_eq!(w.states(d2)[0], "inactive", "the stand-in's auto_inactive");
    assert_eq!(w.states(d1)[0], "inactive");

    let ran = w.path("ran");
    let command = format!(
        r#"sh -c 'echo "$HUB_ROLLBACK_FROM -> $HUB_ROLLBACK_VERSION" >> {}'"#,
        ran.display()
    );
    let inputs = [
        ("target", "command"),
        ("command", command.as_str()),
        ("environment", "staging"),
    ];
    let dry = w.run(&[inputs.as_slice(), &[("dry-run", "true")]].concat(), None);
    assert_eq!(dry.code, Some(0), "{dry:#?}");
    assert!(
        dry.stdout
            .contains("plan: roll back from `1.3.0` to `1.1.0`"),
        "{dry:#?}"
    );
    assert_eq!(
        w.deployments("staging").len(),
        4,
        "a dry run records nothing"
    );

    let run = w.run(&inputs, None);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(lines(&ran), ["1.3.0 -> 1.1.0"]);
    assert_eq!(run.output("rolled-back-from"), "1.3.0");
    assert_eq!(run.output("rolled-back-to"), "1.1.0");
    assert!(
        run.stdout
            .contains("version: 1.1.0 (last successful deployment of `staging`: `v1.1.0`)"),
        "{run:#?}"
    );
    // The bad deployment is marked `failure`; a new rollback deployment of v1.1.0 succeeded.
    assert_eq!(w.states(d4)[0], "failure");
    assert_eq!(w.states(d3)[0], "failure", "untouched: it already failed");
    assert_eq!(w.states(d3).len(), 2);
    let all = w.deployments("staging");
    assert_eq!(all.len(), 5);
    let new = &all[0];
    assert_eq!(run.output("deployment-id"), new.id.to_string());
    assert_eq!(new.git_ref, "v1.1.0");
    assert_eq!(new.task, "deploy:rollback");
    assert_eq!(new.payload["version"], "1.1.0");
    assert_eq!(new.payload["rolled_back_from"], "1.3.0");
    let statuses = w
        .client
        .block_on(w.client.github().list_deployment_statuses(&w.repo, new.id))
        .unwrap();
    assert_eq!(statuses.len(), 1);
    assert_eq!(statuses[0].state, Success);
    assert_eq!(
        statuses[0].log_url.as_deref(),
        Some("https://github.example/org/app/actions/runs/42")
    );
    let create = w
        .server
        .requests()
        .into_iter()
        .filter(|r| {
            r.method == "POST" && r.route.as_deref() == Some("/repos/{owner}/{repo}/deployments")
        })
        .count();
    assert_eq!(
        create,
        4 + 1 + 1,
        "our seeding, the preview one, and the rollback"
    );

    // A re-run: the live deployment is our rollback, so nothing runs and nothing is added.
    let again = w.run(&inputs, None);
    assert_eq!(again.code, Some(0), "{again:#?}");
    assert_eq!(
        lines(&ran),
        ["1.3.0 -> 1.1.0"],
        "the command did not run again"
    );
    assert_eq!(again.output("changed"), "false");
    assert_eq!(again.output("rolled-back-from"), "1.3.0");
    assert_eq!(again.output("rolled-back-to"), "1.1.0");
    assert_eq!(w.deployments("staging").len(), 5);
    assert_eq!(w.states(d4).len(), 3);
    w.server.assert_conforms();
}

#[test]
fn without_a_good_deployment_the_tags_decide_and_a_failed_one_is_never_chosen() {
    let Some(w) = World::new() else { return };
    w.deployed("v1.2.0", "staging", &[Success, Failure]);
    w.deployed("v1.1.0", "staging", &[InProgress, DeploymentState::Error]);
    let live = w.deployed("v1.3.0", "staging", &[Success]);
    let ran = w.path("ran");
    let command = format!(
        r#"sh -c 'echo "$HUB_ROLLBACK_VERSION" >> {}'"#,
        ran.display()
    );
    let run = w.run(
        &[
            ("target", "command"),
            ("command", &command),
            ("environment", "staging"),
        ],
        None,
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    // No deployment below 1.3.0 stayed good: the highest release tag below it is used.
    assert_eq!(lines(&ran), ["1.2.0"]);
    assert!(
        run.stdout.contains("previous release tag `v1.2.0`"),
        "{run:#?}"
    );
    assert_eq!(w.states(live)[0], "failure");
}

#[test]
fn github_deployment_hands_the_rollback_to_the_deploy_workflow() {
    let Some(w) = World::new() else { return };
    w.deployed("v1.0.0", "production", &[Success]);
    let good = w.deployed("v1.1.0", "production", &[Success]);
    let bad = w.deployed("v1.2.0", "production", &[Success]);
    let run = w.run(
        &[
            ("target", "github-deployment"),
            ("environment", "production"),
        ],
        None,
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    let all = w.deployments("production");
    let new = &all[0];
    assert_eq!(run.output("deployment-id"), new.id.to_string());
    assert_eq!(
        (new.git_ref.as_str(), new.task.as_str()),
        ("v1.1.0", "deploy:rollback")
    );
    assert!(
        w.states(new.id).is_empty(),
        "the deploy workflow reports its own status"
    );
    // Created with `auto_merge: false` and no required contexts, as the stand-in stored it:
    // an old tag behind the default branch must deploy as it is, not be merged forward.
    let stored = find_deployment(&w.server.state(), new.id)
        .unwrap_or_else(|| panic!("deployment {} not in the stand-in's state", new.id));
    assert_eq!(stored["auto_merge"], false, "{stored:#}");
    assert_eq!(
        stored["required_contexts"],
        serde_json::json!([]),
        "{stored:#}"
    );
    assert_eq!(w.states(bad)[0], "failure");
    assert_eq!(w.states(good), ["success"]);
    assert!(
        run.stdout.contains(&format!(
            "created github deployment `{}` of `v1.1.0` to `production`",
            new.id
        )),
        "{run:#?}"
    );
    // The deploy workflow has not reported yet: a re-run does not deploy again (nor go one
    // step further back), and names the same deployment.
    let again = w.run(
        &[
            ("target", "github-deployment"),
            ("environment", "production"),
        ],
        None,
    );
    assert_eq!(again.output("deployment-id"), new.id.to_string());
    assert_eq!(again.code, Some(0), "{again:#?}");
    assert_eq!(again.output("changed"), "false");
    assert_eq!(w.deployments("production").len(), 4);
}

#[test]
fn the_sticky_comment_goes_to_the_pull_request_and_is_kept_once() {
    let Some(w) = World::new() else { return };
    w.deployed("v1.1.0", "staging", &[Success]);
    w.deployed("v1.2.0", "staging", &[Success]);
    let pr = r#"{"action":"opened","number":7,"pull_request":{"number":7,"title":"feat: x",
        "head":{"sha":"h","ref":"topic"},"base":{"sha":"b","ref":"main"},"user":{"login":"mona"}}}"#;
    let seen = w.path("seen-token");
    let command = format!(r#"sh -c 'echo "[$INPUT_TOKEN]" > {}'"#, seen.display());
    let inputs = [
        ("target", "command"),
        ("command", command.as_str()),
        ("environment", "staging"),
        ("comment", "true"),
        ("token", TOKEN),
    ];
    let run = w.run(&inputs, Some(("pull_request", pr)));
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert!(
        run.stdout.contains("comment on pull request #7 created"),
        "{run:#?}"
    );
    assert!(!run.output("comment-url").is_empty());
    assert_eq!(
        lines(&seen),
        ["[]"],
        "the token input is not handed to the command"
    );
    let again = w.run(&inputs, Some(("pull_request", pr)));
    assert!(
        again
            .stdout
            .contains("comment on pull request #7 unchanged"),
        "{again:#?}"
    );
    let comments = w
        .client
        .block_on(
            w.client
                .github()
                .list_comments(&w.repo, hub_github::Thread::PullRequest(7)),
        )
        .unwrap();
    assert_eq!(comments.len(), 1);
    assert!(
        comments[0]
            .body
            .starts_with("<!-- hub-actions:rollback -->")
    );
    assert!(
        comments[0].body.contains("| To | `1.1.0` |"),
        "{}",
        comments[0].body
    );

    let dispatch = r#"{"ref":"refs/heads/main","inputs":{}}"#;
    let other = w.run(&inputs, Some(("workflow_dispatch", dispatch)));
    assert_eq!(other.code, Some(0), "{other:#?}");
    assert!(
        other
            .stdout
            .contains("comment skipped: the run is not for a pull request and names no commit"),
        "{other:#?}"
    );
    assert!(
        w.server.state()["repositories"][REPO]["commit_comments"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "no commit named: no commit comment"
    );
}

#[test]
fn on_release_and_push_events_the_sticky_comment_goes_to_the_commit() {
    let Some(w) = World::new() else { return };
    w.deployed("v1.1.0", "staging", &[Success]);
    w.deployed("v1.2.0", "staging", &[Success]);
    let head = w
        .client
        .block_on(w.client.github().get_ref(&w.repo, "heads/main"))
        .unwrap()
        .expect("main")
        .sha;
    let inputs = [
        ("target", "command"),
        ("command", "true"),
        ("environment", "staging"),
        ("comment", "true"),
    ];
    let commit_comments = || -> Vec<(String, String)> {
        w.server.state()["repositories"][REPO]["commit_comments"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                (
                    c["commit_id"].as_str().unwrap().to_owned(),
                    c["body"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    // A release: its target_commitish is a branch name, so the commit is GITHUB_SHA.
    let release =
        r#"{"action":"published","release":{"tag_name":"v1.3.0","target_commitish":"main"}}"#;
    let run = w.run_with_env(
        &inputs,
        Some(("release", release)),
        &[("GITHUB_SHA", &head)],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    let short = &head[..7];
    assert!(
        run.stdout
            .contains(&format!("comment on commit {short} created: ")),
        "{run:#?}"
    );
    let first = commit_comments();
    assert_eq!(first.len(), 1, "{first:?}");
    let id = &w.server.state()["repositories"][REPO]["commit_comments"][0]["id"];
    assert!(
        run.output("comment-url")
            .ends_with(&format!("/commit/{head}#commitcomment-{id}")),
        "{run:#?}"
    );
    assert_eq!(first[0].0, head);
    assert!(
        first[0].1.starts_with("<!-- hub-actions:rollback -->\n"),
        "{first:?}"
    );
    assert!(first[0].1.contains("| To | `1.1.0` |"), "{first:?}");

    // A push of the same commit: the same comment, left as it is (the rollback is done).
    let push = format!(r#"{{"ref":"refs/heads/main","after":"{head}","commits":[]}}"#);
    let again = w.run(&inputs, Some(("push", &push)));
    assert_eq!(again.code, Some(0), "{again:#?}");
    assert!(
        again
            .stdout
            .contains(&format!("comment on commit {short} unchanged: ")),
        "{again:#?}"
    );
    assert_eq!(commit_comments(), first, "still one comment, not rewritten");
    // A rollback to another version from the same commit edits it in place.
    let other = w.run(
        &[
            ("target", "command"),
            ("command", "true"),
            ("environment", "staging"),
            ("comment", "true"),
            ("version", "1.0.0"),
        ],
        Some(("push", &push)),
    );
    assert_eq!(other.code, Some(0), "{other:#?}");
    assert!(
        other
            .stdout
            .contains(&format!("comment on commit {short} updated: ")),
        "{other:#?}"
    );
    let edited = commit_comments();
    assert_eq!(edited.len(), 1, "{edited:?}");
    assert!(edited[0].1.contains("| To | `1.0.0` |"), "{edited:?}");
    assert!(
        w.server.state()["repositories"][REPO]["comments"]
            .as_array()
            .is_none_or(Vec::is_empty)
    );
}

#[test]
fn an_unhealthy_rollback_is_recorded_as_failed_and_a_refused_record_only_warns() {
    let Some(w) = World::new() else { return };
    w.deployed("v1.1.0", "staging", &[Success]);
    let bad = w.deployed("v1.2.0", "staging", &[Success]);
    let run = w.run(
        &[
            ("target", "command"),
            ("command", "true"),
            ("environment", "staging"),
            ("health-command", "false"),
            ("timeout", "1s"),
        ],
        None,
    );
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert_eq!(run.output("healthy"), "false");
    let new = w.deployments("staging")[0].clone();
    assert_eq!(new.task, "deploy:rollback");
    assert_eq!(w.states(new.id), ["failure"]);
    assert_eq!(w.states(bad)[0], "failure");

    // GitHub refuses every write: the rollback stands, the record is a warning.
    let Some(w) = World::new() else { return };
    w.deployed("v1.1.0", "staging", &[Success]);
    w.deployed("v1.2.0", "staging", &[Success]);
    w.server
        .add_fault(hub_github_standin::Fault::forbidden_writes());
    let ran = w.path("ran");
    let command = format!(
        r#"sh -c 'echo "$HUB_ROLLBACK_VERSION" > {}'"#,
        ran.display()
    );
    let run = w.run(
        &[
            ("target", "command"),
            ("command", &command),
            ("environment", "staging"),
        ],
        None,
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(lines(&ran), ["1.1.0"]);
    assert!(
        run.stdout
            .contains("::warning::the rollback is not recorded in github deployments"),
        "{run:#?}"
    );
    assert!(run.stdout.contains("deployments: write"), "{run:#?}");
    assert_eq!(run.output("deployment-id"), "");
}

#[test]
fn kubernetes_takes_the_version_from_deployments_over_the_tags() {
    use hub_k8s_standin::test_support::{TestCluster, client};
    let Some(w) = World::new() else { return };
    // The real kubectl against the Kubernetes stand-in (see tests/tools.rs).
    let Some(cluster) = TestCluster::start() else {
        return;
    };
    let Some(kubectl) = client("HUB_KUBECTL", "kubectl") else {
        return;
    };
    w.deployed("v1.0.0", "staging", &[Success]);
    w.deployed("v1.1.0", "staging", &[Success, Failure]);
    let bad = w.deployed("v1.2.0", "staging", &[Success]);
    let bin = w.path("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(&kubectl, bin.join("kubectl")).unwrap();
    let kubeconfig = w.path("kubeconfig");
    cluster.kubeconfig(&kubeconfig, "shop");
    let home = w.path("home");
    std::fs::create_dir(&home).unwrap();
    let kube = |args: &[&str]| {
        let out = Command::new(&kubectl)
            .args(args)
            .env("KUBECONFIG", &kubeconfig)
            .env("HOME", &home)
            .output()
            .unwrap();
        assert!(out.status.success(), "kubectl {args:?}: {out:?}");
    };
    let manifest = w.path("web.json");
    std::fs::write(
        &manifest,
        serde_json::json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "ghcr.io/org/web:1.0.0"}]}
                }
            }
        })
        .to_string(),
    )
    .unwrap();
    kube(&["create", "-f", manifest.to_str().unwrap()]);
    kube(&[
        "set",
        "image",
        "deployment/web",
        "web=ghcr.io/org/web:1.1.0",
    ]);
    kube(&[
        "set",
        "image",
        "deployment/web",
        "web=ghcr.io/org/web:1.2.0",
    ]);
    let mut path = std::ffi::OsString::from(&bin);
    path.push(":");
    path.push(std::env::var_os("PATH").unwrap_or_default());
    let run = w.run_full(
        &[
            ("target", "kubernetes"),
            ("deployment", "web"),
            ("namespace", "shop"),
            ("environment", "staging"),
        ],
        None,
        &path,
        &[
            ("KUBECONFIG", kubeconfig.to_str().unwrap()),
            ("HOME", home.to_str().unwrap()),
        ],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    // v1.1.0 (the previous tag) failed as a deployment: the last good one is v1.0.0, which
    // revision 1 ran — undone to, so its ReplicaSet runs again as revision 4.
    assert!(run.stdout.contains("--to-revision=1"), "{run:#?}");
    let d = cluster.get("deployments", "shop", "web").unwrap();
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "ghcr.io/org/web:1.0.0"
    );
    assert_eq!(d["metadata"]["annotations"][hub_k8s_standin::REVISION], "4");
    assert_eq!(w.states(bad)[0], "failure");
    let new = w.deployments("staging")[0].clone();
    assert_eq!(
        (new.git_ref.as_str(), new.task.as_str()),
        ("v1.0.0", "deploy:rollback")
    );
    assert_eq!(w.states(new.id), ["success"]);
}
