//! The multi-call binary as users and the installer call it: `hub <action> …`, a
//! `hub-<action>` link to it, `hub --help` and `hub --list`.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const HUB: &str = env!("CARGO_BIN_EXE_hub");
const VERSION: &str = env!("CARGO_PKG_VERSION");

fn run(program: &Path, args: &[&str], dir: &Path) -> Output {
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_OUTPUT")
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A link named `hub-<action>` to the built `hub`, as the release archive and the installer
/// make them (a symbolic link; a hard link where there are none).
fn link(dir: &Path, action: &str) -> PathBuf {
    let path = dir.join(format!("hub-{action}{}", std::env::consts::EXE_SUFFIX));
    #[cfg(unix)]
    std::os::unix::fs::symlink(HUB, &path).unwrap();
    #[cfg(not(unix))]
    std::fs::hard_link(HUB, &path).unwrap();
    path
}

fn git(dir: &Path, args: &[&str]) {
    hub_testkit::git::git_at(dir, args, "2026-01-01T00:00:00Z");
}

/// The installed actions: `actions/install/packages`, the names the installer and the
/// release link to `hub`.
fn installed_actions() -> Vec<String> {
    let list = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../actions/install/packages");
    std::fs::read_to_string(list)
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect()
}

#[test]
fn hub_action_sees_the_command_line_of_its_own_binary() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(Path::new(HUB), &["semver-bump", "--version"], tmp.path());
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stdout(&out), format!("hub-semver-bump {VERSION}\n"));
    let out = run(Path::new(HUB), &["validate-config", "--help"], tmp.path());
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout(&out).contains("Usage: hub-validate-config"),
        "{out:?}"
    );
}

#[test]
fn a_link_runs_its_action_like_the_old_binary() {
    let tmp = tempfile::tempdir().unwrap();
    let bins = tmp.path().join("bin");
    std::fs::create_dir(&bins).unwrap();
    for action in installed_actions() {
        let program = link(&bins, &action);
        let out = run(&program, &["--help"], tmp.path());
        assert!(out.status.success(), "{action}: {out:?}");
        assert!(
            stdout(&out).contains(&format!("Usage: hub-{action}")),
            "{action}: {}",
            stdout(&out)
        );
    }
    let program = bins.join(format!("hub-semver-bump{}", std::env::consts::EXE_SUFFIX));
    let out = run(&program, &["--version"], tmp.path());
    assert_eq!(stdout(&out), format!("hub-semver-bump {VERSION}\n"));
}

#[test]
fn a_release_through_the_link_and_through_hub_is_the_same() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["config", "user.name", "t"]);
    git(&repo, &["config", "user.email", "t@example.com"]);
    git(
        &repo,
        &["commit", "-q", "--allow-empty", "-m", "feat: first"],
    );
    git(&repo, &["tag", "-a", "v1.0.0", "-m", "v1.0.0"]);
    git(
        &repo,
        &[
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "feat(api): a new endpoint",
        ],
    );
    git(
        &repo,
        &["commit", "-q", "--allow-empty", "-m", "fix: a crash"],
    );
    let bins = tmp.path().join("bin");
    std::fs::create_dir(&bins).unwrap();
    let linked = run(&link(&bins, "semver-bump"), &["--dry-run", "--json"], &repo);
    let direct = run(
        Path::new(HUB),
        &["semver-bump", "--dry-run", "--json"],
        &repo,
    );
    assert!(linked.status.success(), "{linked:?}");
    assert_eq!(stdout(&linked), stdout(&direct));
    let json: serde_json::Value = serde_json::from_slice(&linked.stdout).unwrap();
    assert_eq!(json["next-version"], "1.1.0", "{json}");
}

#[test]
fn help_and_list_name_every_action_the_installer_links() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(Path::new(HUB), &["--list"], tmp.path());
    assert!(out.status.success(), "{out:?}");
    let listed: Vec<String> = stdout(&out).lines().map(String::from).collect();
    let mut want = installed_actions();
    let mut got = listed.clone();
    want.sort();
    got.sort();
    assert_eq!(got, want, "hub --list against actions/install/packages");
    let help = stdout(&run(Path::new(HUB), &["--help"], tmp.path()));
    for action in &listed {
        assert!(
            help.contains(action.as_str()),
            "{action} missing from:\n{help}"
        );
    }
    let out = run(Path::new(HUB), &["--version"], tmp.path());
    assert_eq!(stdout(&out), format!("hub {VERSION}\n"));
    // `hub` alone is a usage error that shows the help.
    let out = run(Path::new(HUB), &[], tmp.path());
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("semver-bump"));
}

#[test]
fn an_unknown_hostile_action_is_a_usage_error_that_runs_no_command() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(HUB)
        .args(["::error::pwned%0A##[set-output name=x]1", "--x"])
        .current_dir(tmp.path())
        .env("GITHUB_ACTIONS", "true")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let streams = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let commands: Vec<(String, String)> = hub_kit::command::commands_in(&streams);
    assert_eq!(commands.len(), 1, "{streams}");
    assert_eq!(commands[0].0, "error", "{streams}");
}
