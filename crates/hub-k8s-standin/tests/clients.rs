//! The stand-in driven by the real `kubectl` (and `helm` 3): what they send is served, what
//! they read back conforms to the Kubernetes v1.32 schemas.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use hub_k8s_standin::test_support::{TestCluster, client, schemas_from_env};
use hub_k8s_standin::{REVISION, StandIn};
use serde_json::{Value, json};

struct Kube {
    kubectl: PathBuf,
    dir: tempfile::TempDir,
}

impl Kube {
    fn new(cluster: &StandIn) -> Option<Kube> {
        let kubectl = client("HUB_KUBECTL", "kubectl")?;
        let dir = tempfile::tempdir().unwrap();
        cluster
            .write_kubeconfig(&dir.path().join("kubeconfig"), "shop")
            .unwrap();
        Some(Kube { kubectl, dir })
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(&self.kubectl)
            .args(args)
            .env("KUBECONFIG", self.dir.path().join("kubeconfig"))
            .env("HOME", self.dir.path())
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "kubectl {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn file(&self, name: &str, value: &Value) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, value.to_string()).unwrap();
        path.display().to_string()
    }
}

fn deployment(image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [
                    {"name": "web", "image": image, "ports": [{"containerPort": 8080}]},
                    {"name": "log", "image": "busybox:1.36"}
                ]}
            }
        }
    })
}

fn revisions(cluster: &StandIn) -> Vec<(String, String, u64)> {
    let mut sets: Vec<(String, String, u64)> = cluster
        .list("replicasets", "shop")
        .iter()
        .map(|rs| {
            (
                rs["metadata"]["annotations"][REVISION]
                    .as_str()
                    .unwrap()
                    .to_string(),
                rs["spec"]["template"]["spec"]["containers"][0]["image"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                rs["spec"]["replicas"].as_u64().unwrap(),
            )
        })
        .collect();
    sets.sort();
    sets
}

#[test]
fn kubectl_rolls_out_sets_images_and_undoes_to_a_revision() {
    let Some(cluster) = TestCluster::start() else {
        return;
    };
    let Some(kube) = Kube::new(&cluster) else {
        return;
    };
    let manifest = kube.file("web.json", &deployment("ghcr.io/org/web:1.0.0"));
    kube.ok(&["create", "-f", &manifest]);
    kube.ok(&["rollout", "status", "deployment/web", "--timeout=20s"]);
    kube.ok(&[
        "set",
        "image",
        "deployment/web",
        "web=ghcr.io/org/web:1.1.0",
    ]);
    kube.ok(&["rollout", "status", "deployment/web", "--timeout=20s"]);
    assert_eq!(
        revisions(&cluster),
        [
            ("1".into(), "ghcr.io/org/web:1.0.0".into(), 0),
            ("2".into(), "ghcr.io/org/web:1.1.0".into(), 2)
        ]
    );
    // The other container and the port stayed: strategic merge by name.
    let d = cluster.get("deployments", "shop", "web").unwrap();
    let containers = &d["spec"]["template"]["spec"]["containers"];
    assert_eq!(containers[1]["image"], "busybox:1.36");
    assert_eq!(containers[0]["ports"][0]["containerPort"], 8080);
    assert_eq!(d["metadata"]["annotations"][REVISION], "2");
    assert_eq!(d["metadata"]["generation"], 2);
    assert_eq!(d["status"]["observedGeneration"], 2);

    let said = kube.ok(&["rollout", "undo", "deployment/web", "--to-revision=1"]);
    assert!(said.contains("deployment.apps/web rolled back"), "{said}");
    let out = kube.ok(&["rollout", "status", "deployment/web", "--timeout=20s"]);
    assert!(out.contains("successfully rolled out"), "{out}");
    // The ReplicaSet of revision 1 is reused and becomes revision 3, as Kubernetes does.
    assert_eq!(
        revisions(&cluster),
        [
            ("2".into(), "ghcr.io/org/web:1.1.0".into(), 0),
            ("3".into(), "ghcr.io/org/web:1.0.0".into(), 2)
        ]
    );
    let history = kube.ok(&["rollout", "history", "deployment/web"]);
    assert!(history.contains('2') && history.contains('3'), "{history}");
    // Nothing to undo to: kubectl's own refusal.
    let out = kube.run(&["rollout", "undo", "deployment/web", "--to-revision=7"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unable to find specified revision 7"),
        "{out:?}"
    );
    // `kubectl get -o json` reads back what is stored.
    let got: Value =
        serde_json::from_str(&kube.ok(&["get", "deployment", "web", "-o", "json"])).unwrap();
    assert_eq!(
        got["spec"]["template"]["spec"]["containers"][0]["image"],
        "ghcr.io/org/web:1.0.0"
    );
    let sets: Value =
        serde_json::from_str(&kube.ok(&["get", "replicasets", "-l", "app=web", "-o", "json"]))
            .unwrap();
    assert_eq!(sets["items"].as_array().unwrap().len(), 2);
}

#[test]
fn kubectl_pause_is_kept_and_a_paused_rollout_does_not_progress() {
    let Some(cluster) = TestCluster::start() else {
        return;
    };
    let Some(kube) = Kube::new(&cluster) else {
        return;
    };
    let manifest = kube.file("web.json", &deployment("ghcr.io/org/web:1.0.0"));
    kube.ok(&["create", "-f", &manifest]);
    kube.ok(&["rollout", "pause", "deployment/web"]);
    kube.ok(&[
        "set",
        "image",
        "deployment/web",
        "web=ghcr.io/org/web:1.1.0",
    ]);
    assert_eq!(
        revisions(&cluster).len(),
        1,
        "no new ReplicaSet while paused"
    );
    let out = kube.run(&["rollout", "undo", "deployment/web"]);
    assert!(!out.status.success(), "{out:?}");
    kube.ok(&["rollout", "resume", "deployment/web"]);
    kube.ok(&["rollout", "status", "deployment/web", "--timeout=20s"]);
    assert_eq!(revisions(&cluster).len(), 2);
}

#[test]
fn rollout_status_waits_on_a_watch_until_the_rollout_finishes() {
    let Some(cluster) = TestCluster::start() else {
        return;
    };
    let Some(kube) = Kube::new(&cluster) else {
        return;
    };
    let manifest = kube.file("web.json", &deployment("ghcr.io/org/web:1.0.0"));
    kube.ok(&["create", "-f", &manifest]);
    cluster.hold_rollouts(true);
    kube.ok(&[
        "set",
        "image",
        "deployment/web",
        "web=ghcr.io/org/web:1.1.0",
    ]);
    // Pods that never get ready: kubectl gives up at its timeout.
    let out = kube.run(&["rollout", "status", "deployment/web", "--timeout=1s"]);
    assert!(!out.status.success(), "{out:?}");
    let mut status = Command::new(&kube.kubectl)
        .args(["rollout", "status", "deployment/web", "--timeout=30s"])
        .env("KUBECONFIG", kube.dir.path().join("kubeconfig"))
        .env("HOME", kube.dir.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    assert!(status.try_wait().unwrap().is_none(), "still waiting");
    let started = std::time::Instant::now();
    cluster.hold_rollouts(false);
    let out = status.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("successfully rolled out"),
        "{out:?}"
    );
    // Told by the watch, not by polling.
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert!(
        cluster.requests().iter().any(|r| r
            .starts_with("GET /apis/apps/v1/namespaces/shop/deployments?")
            && r.contains("watch=true")),
        "{:#?}",
        cluster.requests()
    );
}

#[test]
fn an_object_that_breaks_the_schema_is_refused_and_recorded() {
    let Some(schemas) = schemas_from_env() else {
        return;
    };
    let cluster = StandIn::start(schemas).unwrap();
    let Some(kube) = Kube::new(&cluster) else {
        return;
    };
    let mut bad = deployment("ghcr.io/org/web:1.0.0");
    bad["spec"]["replicas"] = json!("two");
    bad["spec"]["template"]["spec"]["containers"][0]["imag"] = json!("typo");
    let manifest = kube.file("bad.json", &bad);
    let out = kube.run(&["create", "--validate=false", "-f", &manifest]);
    assert!(!out.status.success(), "{out:?}");
    assert!(
        cluster.violations().is_empty(),
        "the stand-in itself kept to the schemas"
    );
    let violations = cluster.refusals();
    assert!(
        violations.iter().any(|v| v.contains("/spec/replicas")),
        "{violations:#?}"
    );
    assert!(
        violations.iter().any(|v| v.contains("imag")),
        "{violations:#?}"
    );
    assert!(cluster.get("deployments", "shop", "web").is_none());
}
/// A one-Deployment chart whose image tag is the chart's `appVersion`.
fn chart(dir: &Path, version: &str, app_version: &str) -> PathBuf {
    let chart = dir.join(format!("web-{version}"));
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        format!("apiVersion: v2\nname: web\nversion: {version}\nappVersion: \"{app_version}\"\n"),
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/deployment.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n  labels:\n    app: {{ .Release.Name }}\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: {{ .Release.Name }}\n  template:\n    metadata:\n      labels:\n        app: {{ .Release.Name }}\n    spec:\n      containers:\n        - name: web\n          image: \"ghcr.io/org/web:{{ .Chart.AppVersion }}\"\n",
    )
    .unwrap();
    chart
}

#[test]
fn helm_3_installs_upgrades_lists_history_and_rolls_back_with_wait() {
    let Some(cluster) = TestCluster::start() else {
        return;
    };
    let Some(kube) = Kube::new(&cluster) else {
        return;
    };
    let Some(helm_bin) = client("HUB_HELM", "helm") else {
        return;
    };
    let helm = |args: &[&str]| {
        let out = Command::new(&helm_bin)
            .args(args)
            .env("KUBECONFIG", kube.dir.path().join("kubeconfig"))
            .env("HOME", kube.dir.path())
            .env("XDG_CACHE_HOME", kube.dir.path().join("cache"))
            .env("XDG_CONFIG_HOME", kube.dir.path().join("config"))
            .env("XDG_DATA_HOME", kube.dir.path().join("data"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "helm {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    for (i, app) in ["1.0.0", "1.1.0", "1.2.0"].iter().enumerate() {
        let chart = chart(kube.dir.path(), &format!("0.{i}.0"), app);
        let chart = chart.display().to_string();
        if i == 0 {
            helm(&[
                "install",
                "web",
                &chart,
                "-n",
                "shop",
                "--wait",
                "--timeout",
                "30s",
            ]);
        } else {
            helm(&[
                "upgrade",
                "web",
                &chart,
                "-n",
                "shop",
                "--wait",
                "--timeout",
                "30s",
            ]);
        }
    }
    let history: Value =
        serde_json::from_str(&helm(&["history", "web", "-n", "shop", "-o", "json"])).unwrap();
    let statuses: Vec<(&str, &str)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["app_version"].as_str().unwrap(),
                r["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("1.0.0", "superseded"),
            ("1.1.0", "superseded"),
            ("1.2.0", "deployed")
        ]
    );
    // helm's release storage: one Secret per revision, labelled as helm lists them.
    assert_eq!(cluster.list("secrets", "shop").len(), 3);
    let said = helm(&[
        "rollback",
        "web",
        "1",
        "-n",
        "shop",
        "--wait",
        "--timeout",
        "30s",
    ]);
    assert!(said.contains("Rollback was a success"), "{said}");
    let d = cluster.get("deployments", "shop", "web").unwrap();
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "ghcr.io/org/web:1.0.0"
    );
    assert_eq!(d["metadata"]["annotations"][REVISION], "4");
    let history: Value =
        serde_json::from_str(&helm(&["history", "web", "-n", "shop", "-o", "json"])).unwrap();
    let last = history.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["status"], "deployed");
    assert_eq!(last["app_version"], "1.0.0");
    assert_eq!(last["description"], "Rollback to 1");
}
