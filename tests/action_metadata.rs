//! Every `action.yml` is valid for GitHub (SchemaStore's `github-action.json`, checked with
//! our own validate-config engine), passes every input through `env:` (never `${{ }}` in a
//! script), and each public action's README tables are generated from its `action.yml`
//! (`HUB_BLESS=1 cargo test -p hub-e2e --test action_metadata` rewrites them).

#![allow(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hub_config::{Format, Limits, NoRetrieve, RuleVars, Schema, SchemaOptions, parse};
use hub_e2e::workspace;
use serde_json::Value;

fn action_files() -> Vec<PathBuf> {
    let root = workspace();
    let mut files = vec![
        root.join("action.yml"),
        root.join("actions/install/action.yml"),
    ];
    for entry in std::fs::read_dir(&root).unwrap().flatten() {
        let p = entry.path().join("action.yml");
        if p.is_file() {
            files.push(p);
        }
    }
    files.sort();
    files
}

fn load(path: &Path) -> Value {
    let parsed = parse(
        &std::fs::read(path).unwrap(),
        Format::Yaml,
        &Limits::default(),
    );
    assert!(
        parsed.diagnostics.is_empty(),
        "{}: {:?}",
        path.display(),
        parsed.diagnostics
    );
    parsed.documents.into_iter().next().unwrap().value
}

/// Checks `files` against SchemaStore's `schema_name` with our own validate-config engine,
/// and that the same schema rejects `bad` (so the check can fail). Returns `false` (after
/// [`hub_testkit::skip`]) when the peer suites are absent.
fn check_against_schemastore(schema_name: &str, files: &[PathBuf], bad: &[u8]) -> bool {
    let Some(suites) = hub_testkit::peer_suites() else {
        return false;
    };
    let schema_path = suites.join("schemastore/schemas").join(schema_name);
    assert!(
        schema_path.is_file(),
        "the peer suites at {} hold no {schema_name}",
        suites.display()
    );
    let schema: Value = serde_json::from_slice(&std::fs::read(&schema_path).unwrap()).unwrap();
    let schema = Schema::compile(
        &schema,
        schema_name,
        Arc::new(NoRetrieve),
        &SchemaOptions::default(),
    )
    .unwrap();
    let mut problems = Vec::new();
    for file in files {
        let parsed = parse(
            &std::fs::read(file).unwrap(),
            Format::Yaml,
            &Limits::default(),
        );
        for d in &parsed.diagnostics {
            problems.push(format!("{}: {}", file.display(), d.message));
        }
        for doc in &parsed.documents {
            for d in schema.check(doc, &RuleVars::default()) {
                problems.push(format!(
                    "{}:{}:{}: {}",
                    file.display(),
                    d.span.start.line,
                    d.span.start.column,
                    d.message
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let bad = parse(bad, Format::Yaml, &Limits::default());
    assert!(
        !schema
            .check(&bad.documents[0], &RuleVars::default())
            .is_empty(),
        "{schema_name} accepted a broken document"
    );
    true
}

#[test]
fn action_metadata_validates_against_schemastore() {
    // A composite action without steps is caught.
    check_against_schemastore(
        "github-action.json",
        &action_files(),
        b"name: x\nruns:\n  using: composite\n",
    );
}

#[test]
fn inputs_reach_binaries_only_through_env() {
    for file in action_files() {
        let action = load(&file);
        let steps = action["runs"]["steps"].as_array().unwrap();
        for step in steps {
            if let Some(run) = step["run"].as_str() {
                assert!(
                    !run.contains("${{"),
                    "{}: `${{{{ }}}}` pasted into a script: {run}",
                    file.display()
                );
            }
        }
        // Every declared input is handed to the binary as INPUT_<NAME>.
        let inputs = action["inputs"].as_object().cloned().unwrap_or_default();
        let passed: Vec<String> = steps
            .iter()
            .filter_map(|s| s["env"].as_object())
            .flat_map(|env| env.keys().cloned())
            .collect();
        let step_dirs: Vec<&str> = steps
            .iter()
            .filter_map(|s| s["working-directory"].as_str())
            .collect();
        for name in inputs.keys() {
            let var = hub_kit::input::input_var(name);
            // `working-directory` reaches the binary as its repository path, or as the step's
            // own working directory.
            let as_dir = name == "working-directory"
                && (passed.iter().any(|p| p == "INPUT_REPOSITORY-PATH")
                    || step_dirs
                        .iter()
                        .any(|d| d.contains("inputs.working-directory")));
            assert!(
                passed.contains(&var) || as_dir,
                "{}: input `{name}` is not passed as `{var}`",
                file.display()
            );
        }
    }
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
        .replace('\n', " ")
        .trim()
        .to_string()
}

/// The README section generated from an action.yml.
fn tables(action: &Value) -> String {
    let mut s =
        String::from("### Inputs\n\n| name | default | description |\n| --- | --- | --- |\n");
    if let Some(inputs) = action["inputs"].as_object() {
        for (name, spec) in inputs {
            let default = match &spec["default"] {
                Value::String(d) if !d.is_empty() => format!("`{}`", d.replace('|', "\\|")),
                Value::String(_) => "*(empty)*".into(),
                Value::Null if spec["required"] == Value::Bool(true) => "**required**".into(),
                Value::Null => "*(empty)*".into(),
                other => format!("`{other}`"),
            };
            s.push_str(&format!(
                "| `{name}` | {default} | {} |\n",
                cell(spec["description"].as_str().unwrap_or(""))
            ));
        }
    }
    s.push_str("\n### Outputs\n\n| name | description |\n| --- | --- |\n");
    if let Some(outputs) = action["outputs"].as_object() {
        for (name, spec) in outputs {
            s.push_str(&format!(
                "| `{name}` | {} |\n",
                cell(spec["description"].as_str().unwrap_or(""))
            ));
        }
    }
    s
}

#[test]
fn readme_tables_match_action_yml() {
    const START: &str = "<!-- generated from action.yml: do not edit -->\n";
    const END: &str = "<!-- end of generated tables -->\n";
    let bless = std::env::var_os("HUB_BLESS").is_some();
    let mut stale = Vec::new();
    for file in action_files() {
        let dir = file.parent().unwrap();
        if dir == workspace() || dir.ends_with("actions/install") {
            continue;
        }
        let readme_path = dir.join("README.md");
        let readme = std::fs::read_to_string(&readme_path)
            .unwrap_or_else(|_| panic!("{} has no README.md", dir.display()));
        let want = tables(&load(&file));
        let (Some(a), Some(b)) = (readme.find(START), readme.find(END)) else {
            panic!("{}: no generated-tables markers", readme_path.display());
        };
        let have = &readme[a + START.len()..b];
        if have != want {
            if bless {
                let new = format!("{}{START}{want}{}", &readme[..a], &readme[b..]);
                std::fs::write(&readme_path, new).unwrap();
            } else {
                stale.push(readme_path.display().to_string());
            }
        }
    }
    assert!(
        stale.is_empty(),
        "README tables out of date (run with HUB_BLESS=1): {stale:?}"
    );
}

/// The starter workflows (`workflows/`) and the project's own (`.github/workflows/`).
fn workflow_files() -> Vec<PathBuf> {
    let root = workspace();
    let mut files = Vec::new();
    for dir in [root.join("workflows"), root.join(".github/workflows")] {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn workflows_validate_against_schemastore() {
    let files = workflow_files();
    assert!(
        files.iter().any(|f| f.ends_with("workflows/release.yml")),
        "{files:?}"
    );
    // A job without `runs-on` or `steps` is caught.
    check_against_schemastore(
        "github-workflow.json",
        &files,
        b"on: push\njobs:\n  a:\n    permissions: {}\n",
    );
}

/// Workflow rules: no `${{ }}` pasted into a `run:` script, least-privilege `permissions:`
/// on every job (and none granted at the top), third-party actions pinned by a full commit
/// SHA, and this repository's actions used as `org/hub-actions/<name>@v1`.
#[test]
fn workflows_follow_the_house_rules() {
    let mut problems = Vec::new();
    for file in workflow_files() {
        let wf = load(&file);
        let name = file.display();
        match &wf["permissions"] {
            Value::Object(m) if m.is_empty() => {}
            other => problems.push(format!(
                "{name}: top-level `permissions` must be `{{}}` (grant per job), got {other}"
            )),
        }
        for (job_id, job) in wf["jobs"].as_object().unwrap() {
            if job["permissions"].is_null() {
                problems.push(format!("{name}: job `{job_id}` declares no `permissions`"));
            }
            for step in job["steps"].as_array().into_iter().flatten() {
                if let Some(run) = step["run"].as_str()
                    && run.contains("${{")
                {
                    problems.push(format!(
                        "{name}: job `{job_id}`: `${{{{ }}}}` in a script: {run}"
                    ));
                }
                let Some(uses) = step["uses"].as_str() else {
                    continue;
                };
                if uses.starts_with("./") || uses.starts_with("docker://") {
                    continue;
                }
                if let Some(ours) = uses.strip_prefix("org/hub-actions") {
                    if !ours.ends_with("@v1") {
                        problems.push(format!(
                            "{name}: `{uses}`: use `org/hub-actions/<action>@v1`"
                        ));
                    }
                    continue;
                }
                let pinned = uses.rsplit_once('@').is_some_and(|(_, r)| {
                    r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit())
                });
                if !pinned {
                    problems.push(format!(
                        "{name}: `{uses}` is not pinned by a full commit SHA"
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
