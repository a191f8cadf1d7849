//! `hub-release-pr version-files` end to end: the built binary on copies of the fixtures in
//! `fixtures/version-files/<case>/` (`args`, `before/`, the expected `after/`, and for a
//! refusal — a case named `refuse-…` — the expected `stderr` lines, `after/` equal to `before/`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use hub_kit::command::commands_in;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/version-files")
}

/// Every file under `dir`, by path relative to it (`/`-separated).
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut queue = vec![dir.to_path_buf()];
    while let Some(d) = queue.pop() {
        for entry in std::fs::read_dir(&d).expect("because the directory exists") {
            let path = entry.expect("because entries are readable").path();
            if path.is_dir() {
                queue.push(path);
            } else {
                let rel = path.strip_prefix(dir).expect("because it is inside");
                let rel = rel.to_string_lossy().replace('\\', "/");
                out.insert(
                    rel,
                    std::fs::read(&path).expect("because files are readable"),
                );
            }
        }
    }
    out
}

fn copy(from: &Path, to: &Path) {
    for (rel, bytes) in tree(from) {
        let target = to.join(&rel);
        std::fs::create_dir_all(target.parent().expect("because files have a parent"))
            .expect("because the temp dir is writable");
        std::fs::write(target, bytes).expect("because the temp dir is writable");
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `hub-release-pr version-files <args>` in `dir`, outside Actions unless `actions`.
fn run(dir: &Path, args: &[String], actions: bool) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hub-release-pr"));
    cmd.current_dir(dir).arg("version-files").args(args);
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("INPUT_") || k.starts_with("GITHUB_") || k.starts_with("RUNNER_") {
            cmd.env_remove(k);
        }
    }
    if actions {
        cmd.env("GITHUB_ACTIONS", "true");
    }
    let out = cmd.output().expect("because the binary runs");
    Run {
        code: out.status.code().expect("because it exits"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn args_of(case: &Path) -> Vec<String> {
    std::fs::read_to_string(case.join("args"))
        .expect("because every case has args")
        .lines()
        .map(str::to_string)
        .collect()
}

fn show(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).replace('\r', "\\r")
}

/// Runs one case: the files end up as `after/` (or untouched as `before/` for a refusal),
/// the exit code is 0 (1 for a refusal), the expected stderr lines are there, and a second
/// run changes nothing and says so.
fn check_case(name: &str) {
    let case = fixtures().join(name);
    let temp = tempfile::tempdir().expect("because a temp dir can be made");
    copy(&case.join("before"), temp.path());
    let args = args_of(&case);
    let refusal = name.starts_with("refuse-");
    let expected = tree(&case.join("after"));
    if refusal {
        assert_eq!(
            expected,
            tree(&case.join("before")),
            "{name}: a refusal changes nothing"
        );
    }

    let first = run(temp.path(), &args, false);
    assert_eq!(
        first.code,
        if refusal { 1 } else { 0 },
        "{name}: {}",
        first.stderr
    );
    let got = tree(temp.path());
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "{name}: files (a leftover temp file?)"
    );
    for (rel, bytes) in &expected {
        assert_eq!(show(&got[rel]), show(bytes), "{name}: {rel}");
    }
    if let Ok(lines) = std::fs::read_to_string(case.join("stderr")) {
        for line in lines.lines() {
            assert!(
                first.stderr.contains(line),
                "{name}: no `{line}` in\n{}",
                first.stderr
            );
        }
    }
    if refusal {
        return;
    }
    let changed: usize = expected
        .iter()
        .filter(|(rel, bytes)| tree(&case.join("before")).get(*rel) != Some(bytes))
        .count();
    assert!(changed > 0, "{name}: the fixture changes nothing");
    assert!(
        first.stderr.contains("→"),
        "{name}: no change printed:\n{}",
        first.stderr
    );

    let second = run(temp.path(), &args, false);
    assert_eq!(second.code, 0, "{name}: {}", second.stderr);
    assert!(
        second
            .stderr
            .contains("nothing to change: every file already has")
            || second.stderr.contains("nothing to change: `"),
        "{name}: {}",
        second.stderr
    );
    assert_eq!(
        tree(temp.path()),
        expected,
        "{name}: the second run changed files"
    );
}

#[test]
fn every_fixture_case() {
    let mut names: Vec<String> = std::fs::read_dir(fixtures())
        .expect("because the fixtures exist")
        .map(|e| e.expect("because entries are readable").path())
        .filter(|p| p.is_dir())
        .map(|p| {
            p.file_name()
                .expect("because it is an entry")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    assert!(names.len() >= 15, "{names:?}");
    for name in names {
        check_case(&name);
    }
}

#[test]
fn cargo_workspace() {
    check_case("cargo-workspace");
}

#[test]
fn npm_workspace_lock_v3() {
    check_case("npm-workspace-lock-v3");
}

#[test]
fn refusal_writes_nothing_even_for_the_good_files() {
    check_case("refuse-pyproject-dynamic");
    check_case("refuse-cargo-inherited-without-root");
}

#[test]
fn dry_run_prints_a_diff_and_writes_nothing() {
    let case = fixtures().join("python-pep621-uv");
    let temp = tempfile::tempdir().expect("because a temp dir can be made");
    copy(&case.join("before"), temp.path());
    let mut args = args_of(&case);
    args.insert(0, "--dry-run".into());
    let r = run(temp.path(), &args, false);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(tree(temp.path()), tree(&case.join("before")));
    assert!(
        r.stdout.contains(
            "--- a/pyproject.toml\n+++ b/pyproject.toml\n@@ -4,7 +4,7 @@\n \n [project]\n name = \"acme-tools\"\n-version = \"0.4.1\"  # written by hub-release-pr\n+version = \"0.5.0\"  # written by hub-release-pr\n"
        ),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("+++ b/src/acme/__init__.py\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr
            .contains("would update 3 of 3 files (dry run, nothing written)"),
        "{}",
        r.stderr
    );
}

#[test]
fn json_lists_every_change() {
    let case = fixtures().join("plain-files");
    let temp = tempfile::tempdir().expect("because a temp dir can be made");
    copy(&case.join("before"), temp.path());
    let mut args = args_of(&case);
    args.insert(0, "--json".into());
    let r = run(temp.path(), &args, false);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report: serde_json::Value =
        serde_json::from_str(&r.stdout).expect("because stdout is JSON");
    assert_eq!(
        report,
        serde_json::json!({
            "version": "3.0.0",
            "dry_run": false,
            "written": true,
            "changed": true,
            "files": [
                {"path": "VERSION", "kind": "version file", "changed": true,
                 "changes": [{"key": "version", "old": "2.9.1", "new": "3.0.0"}]},
                {"path": "version.txt", "kind": "version file", "changed": true,
                 "changes": [{"key": "version", "old": "2.9.1", "new": "3.0.0"}]},
            ],
            "errors": []
        })
    );
}

#[test]
fn a_bad_version_or_a_missing_file_names_it() {
    let temp = tempfile::tempdir().expect("because a temp dir can be made");
    std::fs::write(temp.path().join("VERSION"), "1.0.0\n").expect("because it is writable");
    let r = run(
        temp.path(),
        &["--set".into(), "one".into(), "VERSION".into()],
        false,
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("`--set one` is not a semantic version"),
        "{}",
        r.stderr
    );
    let r = run(
        temp.path(),
        &[
            "--set".into(),
            "v1.1.0".into(),
            "VERSION".into(),
            "missing/VERSION".into(),
        ],
        false,
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("missing/VERSION: error: cannot read it"),
        "{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read_to_string(temp.path().join("VERSION")).expect("because it exists"),
        "1.0.0\n"
    );
    let r = run(
        temp.path(),
        &[
            "--set".into(),
            "1.1.0".into(),
            "--key".into(),
            "a.b".into(),
            "VERSION".into(),
        ],
        false,
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("`--key` needs JSON, YAML or TOML files"),
        "{}",
        r.stderr
    );
}

#[test]
fn hostile_file_contents_run_no_workflow_command() {
    // A marker line whose surroundings hold workflow commands: the change is printed
    // fenced inside Actions, and nothing in it is read as a command.
    let temp = tempfile::tempdir().expect("because a temp dir can be made");
    let text = "::error::pwned 1.0.0 x-release-please-version\n";
    std::fs::write(temp.path().join("notes.md"), text).expect("because it is writable");
    let r = run(
        temp.path(),
        &[
            "--set".into(),
            "1.1.0".into(),
            "--dry-run".into(),
            "notes.md".into(),
        ],
        true,
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.contains("::error::pwned 1.1.0"), "{}", r.stdout);
    let commands = commands_in(&r.stdout);
    assert!(
        commands.iter().all(|(name, _)| name == "stop-commands"),
        "{commands:?}\n{}",
        r.stdout
    );
}

#[test]
fn help_has_an_example_per_kind() {
    let temp = tempfile::tempdir().expect("because a temp dir can be made");
    let r = run(temp.path(), &["--help".into()], false);
    assert_eq!(r.code, 0);
    for file in [
        "Cargo.toml",
        "Cargo.lock",
        "package.json",
        "package-lock.json",
        "pyproject.toml",
        "uv.lock",
        "__init__.py",
        "Chart.yaml",
        "VERSION",
        "x-release-please-version",
        "--key",
        "--dry-run",
    ] {
        assert!(
            r.stdout.contains(file),
            "no example for {file}:\n{}",
            r.stdout
        );
    }
}

#[test]
fn a_refusal_inside_actions_is_an_error_annotation_on_the_file() {
    let case = fixtures().join("refuse-setup-cfg-attr");
    let temp = tempfile::tempdir().expect("because a temp dir can be made");
    copy(&case.join("before"), temp.path());
    let r = run(temp.path(), &args_of(&case), true);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let errors: Vec<_> = commands_in(&r.stdout)
        .into_iter()
        .filter(|(name, _)| name == "error")
        .collect();
    assert_eq!(errors.len(), 1, "{}", r.stdout);
    assert!(
        r.stdout.contains(
            "::error file=setup.cfg::cannot update it as setup.cfg: `metadata.version` is computed"
        ),
        "{}",
        r.stdout
    );
}

#[test]
fn json_lists_the_refusals_and_nothing_is_written() {
    let case = fixtures().join("refuse-pyproject-dynamic");
    let temp = tempfile::tempdir().expect("because a temp dir can be made");
    copy(&case.join("before"), temp.path());
    let mut args = args_of(&case);
    args.insert(0, "--json".into());
    let r = run(temp.path(), &args, false);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let report: serde_json::Value =
        serde_json::from_str(&r.stdout).expect("because stdout is JSON");
    assert_eq!(report["written"], false);
    assert_eq!(report["files"][0]["path"], "VERSION");
    assert_eq!(report["files"][0]["changed"], true);
    assert_eq!(report["errors"][0]["path"], "pyproject.toml");
    assert!(
        report["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("`project.version` is computed")),
        "{report}"
    );
    assert_eq!(tree(temp.path()), tree(&case.join("before")));
}

#[test]
fn a_lock_alone_follows_manifests_already_at_the_version() {
    // Manifests bumped earlier (by this tool or `cargo set-version`), the lock not yet.
    let case = fixtures().join("cargo-workspace");
    let temp = tempfile::tempdir().expect("because a temp dir can be made");
    copy(&case.join("after"), temp.path());
    std::fs::copy(
        case.join("before/Cargo.lock"),
        temp.path().join("Cargo.lock"),
    )
    .expect("because the temp dir is writable");
    let r = run(
        temp.path(),
        &["--set".into(), "0.5.0".into(), "Cargo.lock".into()],
        false,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(tree(temp.path()), tree(&case.join("after")));
}

#[test]
fn a_hostile_file_name_runs_no_workflow_command() {
    // A directory whose name breaks the line and starts a command, inside Actions: the
    // change lines are fenced, the refusal is one escaped annotation.
    let temp = tempfile::tempdir().expect("because a temp dir can be made");
    let evil = temp.path().join("x\n::warning::pwned");
    std::fs::create_dir(&evil).expect("because Linux allows any byte but / in a name");
    std::fs::write(evil.join("VERSION"), "1.0.0\n").expect("because it is writable");
    let file = "x\n::warning::pwned/VERSION".to_string();
    let r = run(
        temp.path(),
        &["--set".into(), "1.1.0".into(), file.clone()],
        true,
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    let names: Vec<String> = commands_in(&r.stdout).into_iter().map(|(n, _)| n).collect();
    assert!(
        names.iter().all(|n| n == "stop-commands"),
        "{names:?}\n{}",
        r.stdout
    );
    assert_eq!(
        std::fs::read_to_string(evil.join("VERSION")).expect("because it exists"),
        "1.1.0\n"
    );

    std::fs::write(evil.join("VERSION"), "latest\n").expect("because it is writable");
    let r = run(temp.path(), &["--set".into(), "1.1.0".into(), file], true);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let names: Vec<String> = commands_in(&r.stdout).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["error"], "{}", r.stdout);
}
