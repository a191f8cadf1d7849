//! What semver-bump's repository tests share: git through `hub_testkit::git` with each
//! commit a minute after the one before (the log order is the commit order), a commit
//! that changes files, and a dry run of the binary whose git processes are counted.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the helper"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use hub_testkit::git::{Clock, Spy};

static CLOCK: Clock = Clock::starting_at(1_700_000_000);

/// The time of the next commit: a minute after the last.
pub fn tick() -> String {
    CLOCK.tick()
}

/// `git args…` in `dir`, a minute after the last; its output without the trailing newline.
pub fn git(dir: &Path, args: &[&str]) -> String {
    hub_testkit::git::line_at(dir, args, &CLOCK.tick())
}

/// A new repository `root/repo` on `main` (where [`run`] looks), empty.
pub fn init(root: &Path) -> PathBuf {
    let repo = root.join("repo");
    std::fs::create_dir_all(&repo).expect("the temporary folder is writable");
    git(&repo, &["init", "-q", "-b", "main"]);
    repo
}

/// A commit changing `files` (each gets the message appended) on the current branch.
pub fn change(repo: &Path, files: &[&str], message: &str) {
    hub_testkit::git::append_and_commit_at(repo, files, message, &CLOCK.tick());
}

/// Runs the binary (`--dry-run --json --repository-path <root>/repo args…`) with a `git`
/// first on its PATH that records each process; returns the JSON and the git subcommands.
pub fn run(root: &Path, args: &[&str]) -> (serde_json::Value, Vec<String>) {
    let spy = Spy::new(root);
    let out = Command::new(env!("CARGO_BIN_EXE_hub-semver-bump"))
        .env_clear()
        .env("PATH", spy.path())
        .env("HOME", root)
        .args(["--dry-run", "--json", "--repository-path"])
        .arg(root.join("repo"))
        .args(args)
        .output()
        .expect("the binary runs");
    assert!(
        out.status.success(),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (
        serde_json::from_slice(&out.stdout).expect("JSON on stdout"),
        spy.take(),
    )
}
