//! The `kubernetes` and `helm` backends, run by the built binary with the real `kubectl`
//! (1.32) and `helm` 3 on `PATH`, against the Kubernetes API stand-in (`hub-k8s-standin`:
//! Deployments, ReplicaSets, helm's release Secrets, a minimal deployment controller, every
//! object checked against the Kubernetes v1.32 schemas). The Deployments and releases are
//! made by the same real clients (`kubectl create`/`set image`, `helm install`/`upgrade` of
//! a chart written here). No pod runs: the stand-in's ReplicaSets report their replicas
//! ready at once, so these tests prove the commands, what the clients make of the API's
//! answers and the revisions chosen — not that a cluster's pods come up. (The `compose`
//! backend runs against a real Docker engine: `compose.rs`.)

#![allow(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use hub_k8s_standin::REVISION;
use hub_k8s_standin::test_support::{TestCluster, client};
use hub_testkit::bin::Action;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_hub-rollback");

struct World {
    dir: tempfile::TempDir,
    cluster: TestCluster,
}

#[derive(Debug)]
struct Run {
    /// The binary's run.
    run: hub_testkit::bin::Run,
    /// The writes that reached the API server during the run (`METHOD path [type]`).
    writes: Vec<String>,
}

impl std::ops::Deref for Run {
    type Target = hub_testkit::bin::Run;
    fn deref(&self) -> &Self::Target {
        &self.run
    }
}

impl World {
    /// A stand-in, the real clients on `PATH` (as `kubectl` and `helm`), a kubeconfig with
    /// `shop` as namespace, and a repository tagged `v1.0.0`, `v1.1.0`, `v1.2.0`. `None`
    /// after the skip rule when the schemas or a client are missing.
    fn new() -> Option<World> {
        let cluster = TestCluster::start()?;
        let kubectl = client("HUB_KUBECTL", "kubectl")?;
        let helm = client("HUB_HELM", "helm")?;
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        std::os::unix::fs::symlink(kubectl, bin.join("kubectl")).unwrap();
        std::os::unix::fs::symlink(helm, bin.join("helm")).unwrap();
        cluster.kubeconfig(&dir.path().join("kubeconfig"), "shop");
        let repo = dir.path().join("repo");
        std::fs::create_dir(&repo).unwrap();
        let git = |args: &[&str]| {
            let out = Command::new("git")
                .args(args)
                .current_dir(&repo)
                .env("GIT_AUTHOR_NAME", "t")
                .env("GIT_AUTHOR_EMAIL", "t@example.com")
                .env("GIT_COMMITTER_NAME", "t")
                .env("GIT_COMMITTER_EMAIL", "t@example.com")
                .output()
                .unwrap();
            assert!(out.status.success(), "git {args:?}: {out:?}");
        };
        git(&["init", "-q"]);
        for tag in ["v1.0.0", "v1.1.0", "v1.2.0"] {
            git(&["commit", "-q", "--allow-empty", "-m", tag]);
            git(&["tag", tag]);
        }
        Some(World { dir, cluster })
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// The environment every process here gets: the clients, the kubeconfig, a home and a
    /// temporary folder.
    fn env(&self) -> Vec<(&'static str, String)> {
        let path = format!(
            "{}:{}",
            self.path("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let at = |rel: &str| self.path(rel).display().to_string();
        vec![
            ("PATH", path),
            ("KUBECONFIG", at("kubeconfig")),
            ("HOME", at("")),
            // The rollback lock lives in the temporary folder: one per test, so tests that
            // run at once never wait for each other's lock.
            ("TMPDIR", at("")),
            ("XDG_CACHE_HOME", at("cache")),
            ("XDG_CONFIG_HOME", at("config")),
            ("XDG_DATA_HOME", at("data")),
        ]
    }

    /// Runs a client (`kubectl …`, `helm …`) to set the cluster up; it must succeed.
    fn client(&self, args: &[&str]) -> String {
        let out = Command::new(args[0])
            .args(&args[1..])
            .env_clear()
            .envs(self.env())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn run(&self, inputs: &[(&str, &str)]) -> Run {
        let before = self.cluster.requests().len();
        let action = self
            .env()
            .into_iter()
            .fold(Action::new(BIN, self.dir.path()), |a, (k, v)| a.env(k, v))
            .env("RUNNER_TEMP", self.dir.path())
            .env("INPUT_REPOSITORY-PATH", self.path("repo"))
            .env("INPUT_TIMEOUT", "30s");
        let run = action.run(inputs);
        let writes = self.cluster.requests()[before..]
            .iter()
            .filter(|r| !r.starts_with("GET "))
            .cloned()
            .collect();
        Run { run, writes }
    }

    fn deployment(&self) -> Value {
        self.cluster.get("deployments", "shop", "web").unwrap()
    }

    fn image(&self) -> String {
        self.deployment()["spec"]["template"]["spec"]["containers"][0]["image"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// `(revision, image)` of every ReplicaSet, sorted by revision.
    fn revisions(&self) -> Vec<(u64, String)> {
        let mut sets: Vec<(u64, String)> = self
            .cluster
            .list("replicasets", "shop")
            .iter()
            .map(|rs| {
                (
                    rs["metadata"]["annotations"][REVISION]
                        .as_str()
                        .unwrap()
                        .parse()
                        .unwrap(),
                    rs["spec"]["template"]["spec"]["containers"][0]["image"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                )
            })
            .collect();
        sets.sort();
        sets
    }

    /// Creates deployment `web` in `shop` running `image`, with extra metadata.
    fn create_deployment(&self, image: &str, metadata: &Value, paused: bool) {
        let mut d = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
            "spec": {
                "replicas": 2,
                "paused": paused,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": image}]}
                }
            }
        });
        for field in ["labels", "annotations"] {
            if let Some(extra) = metadata[field].as_object() {
                for (k, v) in extra {
                    d["metadata"][field][k] = v.clone();
                }
            }
        }
        let file = self.path("deployment.json");
        std::fs::write(&file, d.to_string()).unwrap();
        self.client(&["kubectl", "create", "-f", &file.display().to_string()]);
    }

    /// A one-Deployment chart (version `version`) whose image tag is `app_version`.
    fn chart(&self, version: &str, app_version: &str) -> String {
        let chart = self.path(&format!("charts/web-{version}"));
        std::fs::create_dir_all(chart.join("templates")).unwrap();
        std::fs::write(
            chart.join("Chart.yaml"),
            format!(
                "apiVersion: v2\nname: web\nversion: {version}\nappVersion: \"{app_version}\"\n"
            ),
        )
        .unwrap();
        std::fs::write(
            chart.join("templates/deployment.yaml"),
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n  labels:\n    app: {{ .Release.Name }}\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: {{ .Release.Name }}\n  template:\n    metadata:\n      labels:\n        app: {{ .Release.Name }}\n    spec:\n      containers:\n        - name: web\n          image: \"ghcr.io/org/web:{{ .Chart.AppVersion }}\"\n          readinessProbe:\n            httpGet:\n              path: \"{{ .Values.probe }}\"\n              port: 8080\n",
        )
        .unwrap();
        std::fs::write(chart.join("values.yaml"), "probe: /healthz\n").unwrap();
        chart.display().to_string()
    }
}

fn assert_reads_only(run: &Run) {
    assert!(run.writes.is_empty(), "nothing but reads: {run:#?}");
}

const K8S: [(&str, &str); 3] = [
    ("target", "kubernetes"),
    ("deployment", "web"),
    ("namespace", "shop"),
];

#[test]
fn kubernetes_undoes_to_the_revision_that_ran_the_version() {
    let Some(w) = World::new() else {
        return;
    };
    w.create_deployment("ghcr.io/org/web:1.0.0", &json!({}), false);
    for version in ["1.1.0", "1.2.0"] {
        let image = format!("web=ghcr.io/org/web:{version}");
        w.client(&[
            "kubectl",
            "set",
            "image",
            "deployment/web",
            &image,
            "-n",
            "shop",
        ]);
    }
    assert_eq!(w.revisions().last().unwrap().0, 3);

    // A dry run reads and shows the exact vectors, and changes nothing.
    let run = w.run(&[K8S.as_slice(), &[("dry-run", "true")]].concat());
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert!(
        run.stdout.contains(
            r#"run `kubectl rollout undo`: ["kubectl","rollout","undo","deployment/web","-n","shop","--to-revision=2"]"#
        ),
        "{run:#?}"
    );
    assert_reads_only(&run);
    assert_eq!(w.image(), "ghcr.io/org/web:1.2.0");

    let run = w.run(&K8S);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(run.outputs["rolled-back-from"], "1.2.0");
    assert_eq!(run.outputs["rolled-back-to"], "1.1.0");
    assert_eq!(run.outputs["changed"], "true");
    // kubectl's own words, and its one write: a JSON patch of the template and annotations.
    assert!(
        run.stdout.contains("deployment.apps/web rolled back"),
        "{run:#?}"
    );
    assert!(
        run.stdout
            .contains(r#"deployment "web" successfully rolled out"#),
        "{run:#?}"
    );
    assert_eq!(
        run.writes,
        ["PATCH /apis/apps/v1/namespaces/shop/deployments/web [application/json-patch+json]"],
        "{run:#?}"
    );
    // The undo trap is said out loud: only the pod template goes back.
    assert!(
        run.stdout.contains(
            "`kubectl rollout undo --to-revision=2` restores only the pod template of deployment `web`"
        ),
        "{run:#?}"
    );
    // Revision 2's ReplicaSet runs again, as revision 4.
    assert_eq!(w.image(), "ghcr.io/org/web:1.1.0");
    assert_eq!(
        w.revisions(),
        [
            (1, "ghcr.io/org/web:1.0.0".into()),
            (3, "ghcr.io/org/web:1.2.0".into()),
            (4, "ghcr.io/org/web:1.1.0".into())
        ]
    );

    // A version no ReplicaSet ran: the container is pointed at that version's image.
    let run = w.run(&[K8S.as_slice(), &[("version", "0.9.0")]].concat());
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(
        run.writes,
        [
            "PATCH /apis/apps/v1/namespaces/shop/deployments/web?fieldManager=kubectl-set [application/strategic-merge-patch+json]"
        ],
        "{run:#?}"
    );
    assert_eq!(w.image(), "ghcr.io/org/web:0.9.0");
    assert_eq!(
        w.revisions().last().unwrap(),
        &(5, "ghcr.io/org/web:0.9.0".into())
    );

    // The running version asked for again: nothing but the read.
    let run = w.run(&[K8S.as_slice(), &[("version", "0.9.0"), ("from", "1.3.0")]].concat());
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(run.outputs["changed"], "false");
    assert_reads_only(&run);
}

#[test]
fn kubernetes_reports_a_rollout_that_never_finishes() {
    let Some(w) = World::new() else {
        return;
    };
    w.create_deployment("ghcr.io/org/web:1.1.0", &json!({}), false);
    let image = "web=ghcr.io/org/web:1.2.0";
    w.client(&[
        "kubectl",
        "set",
        "image",
        "deployment/web",
        image,
        "-n",
        "shop",
    ]);
    // The old version's pods never get ready: kubectl's wait runs out, the run says so.
    w.cluster.hold_rollouts(true);
    let run = w.run(&[K8S.as_slice(), &[("timeout", "2s")]].concat());
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert_eq!(run.outputs["status"], "failed", "{run:#?}");
    assert!(
        run.stdout.contains("0 of 2 updated replicas are available")
            && run.stdout.contains(
                r#"::error::`kubectl rollout status` ["kubectl","rollout","status","deployment/web","-n","shop","--timeout=2s"] failed: exit status 1"#
            ),
        "{run:#?}"
    );
    assert_eq!(
        w.image(),
        "ghcr.io/org/web:1.1.0",
        "the undo itself went through"
    );
    // The switch was made and Kubernetes' own readiness verdict said no: the version is not
    // known to serve, so `healthy` is `false` (not `unchecked`, which reads as "nothing
    // configured"), in the outputs and in the audit line.
    assert_eq!(run.outputs["changed"], "true", "{run:#?}");
    assert_eq!(run.outputs["healthy"], "false", "{run:#?}");
    let audit = std::fs::read_to_string(w.path("hub-rollback-audit.jsonl")).unwrap();
    let line: Value = serde_json::from_str(audit.lines().last().unwrap()).unwrap();
    assert_eq!(line["healthy"], false, "{line}");
}

#[test]
fn kubernetes_refuses_paused_and_gitops_owned_deployments() {
    for (metadata, paused, expected) in [
        (
            json!({}),
            true,
            "deployment `web` in `shop` is paused: a rollout would not progress; resume it (`kubectl rollout resume deployment/web -n shop`)",
        ),
        (
            json!({
                "labels": {"app.kubernetes.io/instance": "shop-web"},
                "annotations": {"argocd.argoproj.io/tracking-id": "shop-web:apps/Deployment:shop/web"}
            }),
            false,
            "deployment `web` is managed by Argo CD (application `shop-web`): a kubectl rollback would be undone by the next sync; roll back in Argo CD (`argocd app rollback shop-web`) or revert the change in git",
        ),
        (
            json!({"annotations": {"argocd.argoproj.io/tracking-id": "shop-web:apps/Deployment:shop/web"}}),
            false,
            "deployment `web` is managed by Argo CD (application `shop-web`)",
        ),
        (
            json!({"labels": {
                "kustomize.toolkit.fluxcd.io/name": "apps",
                "kustomize.toolkit.fluxcd.io/namespace": "flux-system"
            }}),
            false,
            "deployment `web` is managed by Flux (Kustomization `apps` in `flux-system`): a kubectl rollback would be undone by the next reconciliation",
        ),
    ] {
        let Some(w) = World::new() else {
            return;
        };
        w.create_deployment("ghcr.io/org/web:1.1.0", &json!({}), false);
        w.client(&[
            "kubectl",
            "set",
            "image",
            "deployment/web",
            "web=ghcr.io/org/web:1.2.0",
            "-n",
            "shop",
        ]);
        // The owner's marks (or the pause) come after the rollouts, as they would.
        let mut d = w.deployment();
        for field in ["labels", "annotations"] {
            if let Some(extra) = metadata[field].as_object() {
                for (k, v) in extra {
                    d["metadata"][field][k] = v.clone();
                }
            }
        }
        let file = w.path("owned.json");
        std::fs::write(&file, d.to_string()).unwrap();
        w.client(&["kubectl", "replace", "-f", &file.display().to_string()]);
        if paused {
            w.client(&[
                "kubectl",
                "rollout",
                "pause",
                "deployment/web",
                "-n",
                "shop",
            ]);
        }
        let run = w.run(&K8S);
        assert_eq!(run.code, Some(1), "{metadata}: {run:#?}");
        assert!(run.stdout.contains(expected), "{metadata}: {run:#?}");
        assert_reads_only(&run);
        assert_eq!(w.image(), "ghcr.io/org/web:1.2.0");
    }
}

const HELM: [(&str, &str); 3] = [
    ("target", "helm"),
    ("release", "web"),
    ("namespace", "shop"),
];

/// helm's history of release `web`, oldest first: `(revision, app version, status,
/// description)`.
fn history(w: &World) -> Vec<(u64, String, String, String)> {
    let text = w.client(&["helm", "history", "web", "-n", "shop", "-o", "json"]);
    let all: Value = serde_json::from_str(&text).unwrap();
    all.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let s = |f: &str| r[f].as_str().unwrap().to_string();
            (
                r["revision"].as_u64().unwrap(),
                s("app_version"),
                s("status"),
                s("description"),
            )
        })
        .collect()
}

/// How a release revision is made, with the real helm.
enum Step {
    /// `helm install` (the first) or `helm upgrade --wait` of chart `web-<version>`.
    Good(&'static str, &'static str),
    /// An upgrade the API server refuses (a port that is not a number): helm records the
    /// revision `failed`.
    Failed(&'static str, &'static str),
    /// An upgrade whose helm is killed while it waits for pods that never get ready: the
    /// revision stays `pending-upgrade`.
    Killed(&'static str, &'static str),
}

fn releases(w: &World, steps: &[Step]) {
    for step in steps {
        let verb = if w.cluster.list("secrets", "shop").is_empty() {
            "install"
        } else {
            "upgrade"
        };
        match step {
            Step::Good(version, app) => {
                let chart = w.chart(version, app);
                w.client(&[
                    "helm",
                    verb,
                    "web",
                    &chart,
                    "-n",
                    "shop",
                    "--wait",
                    "--timeout",
                    "30s",
                ]);
            }
            Step::Failed(version, app) => {
                let chart = w.chart(version, app);
                let template = Path::new(&chart).join("templates/deployment.yaml");
                let text = std::fs::read_to_string(&template).unwrap();
                std::fs::write(&template, text.replace("port: 8080", "port: [8080]")).unwrap();
                let out = Command::new("helm")
                    .args([verb, "web", &chart, "-n", "shop"])
                    .env_clear()
                    .envs(w.env())
                    .output()
                    .unwrap();
                assert!(!out.status.success(), "the bad upgrade fails: {out:?}");
            }
            Step::Killed(version, app) => {
                let chart = w.chart(version, app);
                w.cluster.hold_rollouts(true);
                let mut helm = Command::new("helm")
                    .args([
                        verb,
                        "web",
                        &chart,
                        "-n",
                        "shop",
                        "--wait",
                        "--timeout",
                        "120s",
                    ])
                    .env_clear()
                    .envs(w.env())
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .unwrap();
                let image = format!("ghcr.io/org/web:{app}");
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
                while w.image() != image {
                    assert!(std::time::Instant::now() < deadline, "helm never patched");
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                helm.kill().unwrap();
                helm.wait().unwrap();
                w.cluster.hold_rollouts(false);
            }
        }
    }
}

const INSTALLED: [Step; 4] = [
    Step::Good("0.4.0", "1.0.0"),
    Step::Good("0.4.1", "1.1.0"),
    Step::Failed("0.5.0", "1.2.0"),
    Step::Good("0.5.1", "1.2.1"),
];

fn revision(n: u64, app: &str, status: &str, description: &str) -> (u64, String, String, String) {
    (n, app.into(), status.into(), description.into())
}

#[test]
fn helm_rolls_back_to_the_last_good_revision_not_the_failed_one() {
    let Some(w) = World::new() else {
        return;
    };
    releases(&w, &INSTALLED);
    assert_eq!(
        history(&w).iter().map(|r| r.2.as_str()).collect::<Vec<_>>(),
        ["superseded", "superseded", "failed", "deployed"]
    );

    // The failed revision is never a target.
    let run = w.run(&[HELM.as_slice(), &[("version", "1.2.0")]].concat());
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert_reads_only(&run);

    let run = w.run(&HELM);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(run.outputs["rolled-back-from"], "1.2.1");
    assert_eq!(run.outputs["rolled-back-to"], "1.1.0");
    assert!(
        run.stdout
            .contains("version: 1.1.0 (last good helm revision 2 (`web-0.4.1`, `superseded`))"),
        "{run:#?}"
    );
    assert!(run.stdout.contains("Rollback was a success"), "{run:#?}");
    assert!(
        run.writes.iter().any(|r| r.starts_with(
            "PATCH /apis/apps/v1/namespaces/shop/deployments/web?fieldManager=helm [application/strategic-merge-patch+json]"
        )),
        "{run:#?}"
    );
    assert_eq!(w.image(), "ghcr.io/org/web:1.1.0");
    assert_eq!(
        history(&w).last().unwrap(),
        &revision(5, "1.1.0", "deployed", "Rollback to 2")
    );

    let run = w.run(&[HELM.as_slice(), &[("version", "1.0.0")]].concat());
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(w.image(), "ghcr.io/org/web:1.0.0");
    assert_eq!(
        history(&w).last().unwrap(),
        &revision(6, "1.0.0", "deployed", "Rollback to 1")
    );
}

#[test]
fn helm_refuses_an_operation_under_way_until_it_is_recovered() {
    let Some(w) = World::new() else {
        return;
    };
    releases(&w, &INSTALLED);
    releases(&w, &[Step::Killed("0.5.2", "1.2.2")]);
    assert_eq!(
        history(&w).last().unwrap().2,
        "pending-upgrade",
        "{:?}",
        history(&w)
    );
    let run = w.run(&HELM);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(
        run.stdout
            .contains("release `web` has an operation under way (revision 5 is `pending-upgrade`)"),
        "{run:#?}"
    );
    assert_reads_only(&run);

    // Recovered by hand: the old pending revision no longer blocks.
    w.client(&[
        "helm",
        "rollback",
        "web",
        "4",
        "-n",
        "shop",
        "--wait",
        "--timeout",
        "30s",
    ]);
    let run = w.run(&HELM);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(run.outputs["rolled-back-from"], "1.2.1");
    assert_eq!(run.outputs["rolled-back-to"], "1.1.0");
    assert_eq!(
        history(&w).last().unwrap(),
        &revision(7, "1.1.0", "deployed", "Rollback to 2")
    );
}

#[test]
fn helm_after_a_failed_upgrade_goes_back_to_the_deployed_revision() {
    let Some(w) = World::new() else {
        return;
    };
    releases(&w, &INSTALLED);
    releases(&w, &[Step::Failed("0.6.0", "1.3.0")]);
    // A failed upgrade on top of a deployed revision: back to that deployed revision, whose
    // resources the failed upgrade may have half replaced — not one further.
    let run = w.run(&HELM);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(run.outputs["rolled-back-from"], "1.3.0");
    assert_eq!(run.outputs["rolled-back-to"], "1.2.1");
    assert_eq!(
        history(&w).last().unwrap(),
        &revision(6, "1.2.1", "deployed", "Rollback to 4")
    );
    assert_eq!(w.image(), "ghcr.io/org/web:1.2.1");
}
