//! The `kubernetes` and `helm` backends, run by the built binary against fake `kubectl`
//! and `helm` programs on `PATH`: a small script that records its argument vector and
//! prints recorded output of the real tools (the JSON fixtures under `fixtures/rollback/`).
//! No API server or cluster is involved: these tests pin the exact commands and how their
//! real output shapes are read, not a cluster's behaviour. (The `compose` backend runs
//! against a real Docker engine: `compose.rs`.)

#![allow(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_hub-rollback");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/rollback");

/// Records `basename argv...` (separated by US, one line per call) and answers like the
/// real tool, from the fixtures the test chose.
const FAKE: &str = r#"#!/bin/sh
tool=$(basename "$0")
line="$tool"
for a in "$@"; do line="$line$(printf '\037')$a"; done
printf '%s\n' "$line" >> "$FAKE_DIR/argv.log"
case "$tool $*" in
  "kubectl get deployment "*) cat "$FAKE_DEPLOYMENT" ;;
  "kubectl get replicasets "*) cat "$FIXTURES/kubectl/replicasets.json" ;;
  "kubectl rollout undo "*) echo "deployment.apps/web rolled back" ;;
  "kubectl set image "*) echo "deployment.apps/web image updated" ;;
  "kubectl rollout status "*) echo 'deployment "web" successfully rolled out' ;;
  "helm history "*) cat "$FAKE_HISTORY" ;;
  "helm rollback "*) echo "Rollback was a success! Happy Helming!" ;;
  *) echo "fake $tool: unexpected call: $*" >&2; exit 64 ;;
esac
"#;

struct World {
    dir: tempfile::TempDir,
}

#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    outputs: BTreeMap<String, String>,
    /// Every call of a fake tool, as its argument vector.
    calls: Vec<Vec<String>>,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        for tool in ["kubectl", "helm"] {
            let path = bin.join(tool);
            std::fs::write(&path, FAKE).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
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
        World { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn run(&self, inputs: &[(&str, &str)], fakes: &[(&str, &str)]) -> Run {
        let _ = std::fs::remove_file(self.path("argv.log"));
        let output_file = self.path("github_output");
        std::fs::write(&output_file, "").unwrap();
        let path = format!(
            "{}:{}",
            self.path("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut cmd = Command::new(BIN);
        cmd.env_clear()
            .env("PATH", path)
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", &output_file)
            .env("RUNNER_TEMP", self.dir.path())
            .env("FAKE_DIR", self.dir.path())
            .env("FIXTURES", FIXTURES)
            .env("INPUT_REPOSITORY-PATH", self.path("repo"))
            .env("INPUT_TIMEOUT", "30s")
            .current_dir(self.dir.path());
        for (name, value) in fakes {
            cmd.env(name, format!("{FIXTURES}/{value}"));
        }
        for (name, value) in inputs {
            cmd.env(format!("INPUT_{}", name.to_uppercase()), value);
        }
        let out = cmd.output().unwrap();
        let calls = std::fs::read_to_string(self.path("argv.log"))
            .unwrap_or_default()
            .lines()
            .map(|l| l.split('\u{1f}').map(String::from).collect())
            .collect();
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            outputs: hub_kit::files::parse_key_values(
                &std::fs::read_to_string(&output_file).unwrap(),
            )
            .into_iter()
            .collect(),
            calls,
        }
    }
}

fn words(line: &str) -> Vec<String> {
    line.split(' ').map(String::from).collect()
}

fn calls(lines: &[&str]) -> Vec<Vec<String>> {
    lines.iter().map(|l| words(l)).collect()
}

const K8S: [(&str, &str); 3] = [
    ("target", "kubernetes"),
    ("deployment", "web"),
    ("namespace", "shop"),
];

#[test]
fn kubernetes_undoes_to_the_revision_that_ran_the_version() {
    let w = World::new();
    let fake = [("FAKE_DEPLOYMENT", "kubectl/deployment.json")];
    let run = w.run(&K8S, &fake);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(
        run.calls,
        calls(&[
            "kubectl get deployment web -n shop -o json",
            "kubectl get replicasets -n shop -o json",
            "kubectl rollout undo deployment/web -n shop --to-revision=2",
            "kubectl rollout status deployment/web -n shop --timeout=30s",
        ])
    );
    assert_eq!(run.outputs["rolled-back-from"], "1.2.0");
    assert_eq!(run.outputs["rolled-back-to"], "1.1.0");
    assert_eq!(run.outputs["changed"], "true");
    assert!(
        run.stdout.contains("deployment.apps/web rolled back"),
        "{run:#?}"
    );
    // The undo trap is said out loud: only the pod template goes back.
    assert!(
        run.stdout.contains(
            "`kubectl rollout undo --to-revision=2` restores only the pod template of deployment `web`"
        ),
        "{run:#?}"
    );

    // A version no ReplicaSet ran: the container is pointed at that version's image.
    let run = w.run(&[K8S.as_slice(), &[("version", "0.9.0")]].concat(), &fake);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(
        run.calls[2..],
        calls(&[
            "kubectl set image deployment/web web=ghcr.io/org/web:0.9.0 -n shop",
            "kubectl rollout status deployment/web -n shop --timeout=30s",
        ])
    );

    // The running version asked for again: nothing but the read.
    let run = w.run(
        &[K8S.as_slice(), &[("version", "1.2.0"), ("from", "1.3.0")]].concat(),
        &fake,
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(
        run.calls,
        calls(&["kubectl get deployment web -n shop -o json"])
    );
    assert_eq!(run.outputs["changed"], "false");

    // A dry run reads and shows the exact vectors, and runs nothing else.
    let run = w.run(&[K8S.as_slice(), &[("dry-run", "true")]].concat(), &fake);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(run.calls.len(), 2, "{run:#?}");
    assert!(
        run.stdout.contains(
            r#"run `kubectl rollout undo`: ["kubectl","rollout","undo","deployment/web","-n","shop","--to-revision=2"]"#
        ),
        "{run:#?}"
    );
}

#[test]
fn kubernetes_refuses_paused_and_gitops_owned_deployments() {
    let w = World::new();
    for (fixture, expected) in [
        (
            "kubectl/deployment-paused.json",
            "deployment `web` in `shop` is paused: a rollout would not progress; resume it (`kubectl rollout resume deployment/web -n shop`)",
        ),
        (
            "kubectl/deployment-argocd.json",
            "deployment `web` is managed by Argo CD (application `shop-web`): a kubectl rollback would be undone by the next sync; roll back in Argo CD (`argocd app rollback shop-web`) or revert the change in git",
        ),
        (
            "kubectl/deployment-argocd-annotation.json",
            "deployment `web` is managed by Argo CD (application `shop-web`)",
        ),
        (
            "kubectl/deployment-flux.json",
            "deployment `web` is managed by Flux (Kustomization `apps` in `flux-system`): a kubectl rollback would be undone by the next reconciliation",
        ),
    ] {
        let run = w.run(&K8S, &[("FAKE_DEPLOYMENT", fixture)]);
        assert_eq!(run.code, Some(1), "{fixture}: {run:#?}");
        assert!(run.stdout.contains(expected), "{fixture}: {run:#?}");
        assert_eq!(
            run.calls,
            calls(&["kubectl get deployment web -n shop -o json"]),
            "{fixture}: nothing but the read"
        );
    }
}

const HELM: [(&str, &str); 3] = [
    ("target", "helm"),
    ("release", "web"),
    ("namespace", "shop"),
];

#[test]
fn helm_rolls_back_to_the_last_good_revision_not_the_failed_one() {
    let w = World::new();
    let fake = [("FAKE_HISTORY", "helm/history.json")];
    let run = w.run(&HELM, &fake);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(
        run.calls,
        calls(&[
            "helm history web -n shop -o json --max 256",
            "helm rollback web 2 -n shop --wait --timeout 30s",
        ])
    );
    assert_eq!(run.outputs["rolled-back-from"], "1.2.1");
    assert_eq!(run.outputs["rolled-back-to"], "1.1.0");
    assert!(
        run.stdout
            .contains("version: 1.1.0 (last good helm revision 2 (`web-0.4.1`, `superseded`))"),
        "{run:#?}"
    );

    let run = w.run(&[HELM.as_slice(), &[("version", "1.0.0")]].concat(), &fake);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(
        run.calls[1],
        words("helm rollback web 1 -n shop --wait --timeout 30s")
    );

    let run = w.run(&[HELM.as_slice(), &[("version", "1.2.0")]].concat(), &fake);
    assert_eq!(
        run.code,
        Some(1),
        "the failed revision is never a target: {run:#?}"
    );
    assert_eq!(run.calls.len(), 1);

    let run = w.run(&HELM, &[("FAKE_HISTORY", "helm/history-pending.json")]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(
        run.stdout
            .contains("release `web` has an operation under way (revision 5 is `pending-upgrade`)"),
        "{run:#?}"
    );
    assert_eq!(run.calls.len(), 1);

    // An old pending revision someone recovered from by hand no longer blocks.
    let run = w.run(
        &HELM,
        &[("FAKE_HISTORY", "helm/history-stale-pending.json")],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(
        run.calls[1],
        words("helm rollback web 2 -n shop --wait --timeout 30s")
    );
    assert_eq!(run.outputs["rolled-back-from"], "1.2.1");
    assert_eq!(run.outputs["rolled-back-to"], "1.1.0");

    // A failed upgrade on top of a deployed revision: back to that deployed revision, whose
    // resources the failed upgrade may have half replaced — not one further.
    let run = w.run(
        &HELM,
        &[("FAKE_HISTORY", "helm/history-failed-upgrade.json")],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(
        run.calls[1],
        words("helm rollback web 4 -n shop --wait --timeout 30s")
    );
    assert_eq!(run.outputs["rolled-back-from"], "1.3.0");
    assert_eq!(run.outputs["rolled-back-to"], "1.2.1");
}
