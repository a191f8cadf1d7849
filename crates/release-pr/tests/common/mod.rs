//! What release-pr's tests against the GitHub stand-in share: the repository they work in
//! (git through `hub_testkit::git`, each commit a minute after the one before, so the log
//! order is the commit order), release-pr run as the action runs it, and the API calls a
//! test makes as a person would (a merge). Repository helpers of any crate's tests live in
//! `hub_testkit::git`; what is here is release-pr's.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the helper"
)]

use std::path::Path;
use std::process::{Command, Output};

use hub_github::{BlockingGitHub, GitHubConfig, MergeMethod, Repository};
use hub_github_standin::test_support::TestServer;
use hub_testkit::git::Clock;
use serde_json::Value;

/// The repository on the stand-in.
pub const REPO: &str = "octo/app";

/// A Cargo package at 1.2.0, with a comment the version edit must keep.
pub const CARGO_TOML: &str =
    "[package]\nname = \"app\"\nversion = \"1.2.0\" # the release\nedition = \"2021\"\n";

static CLOCK: Clock = Clock::starting_at(1_700_000_000);

/// `git args…` in `dir` (see `hub_testkit::git`), a minute after the last; its output
/// without the trailing newline.
pub fn git(dir: &Path, args: &[&str]) -> String {
    hub_testkit::git::line_at(dir, args, &CLOCK.tick())
}

/// Writes `files` and commits everything with `message`; the commit's id.
pub fn commit(dir: &Path, files: &[(&str, &str)], message: &str) -> String {
    hub_testkit::git::commit_files_at(dir, files, message, &CLOCK.tick())
}

/// Moves `tag` from `base` onto a release tree of it, as release.sh does (plumbing, the
/// work tree untouched), marked `Release-Tree-Of: <base>`. Returns the tree commit.
pub fn release_tree(dir: &Path, tag: &str, base: &str) -> String {
    let trailer = format!("Release-Tree-Of: {base}");
    hub_testkit::git::release_tree_at(dir, base, &[tag], &trailer, &CLOCK.tick())
}

/// release-pr on the checkout `dir` as the action runs it (`--json`), against `server`
/// with `token`, with no variable of the test's but `PATH`. Add arguments and run it.
pub fn command(server: &TestServer, dir: &Path, token: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hub-release-pr"));
    cmd.args([
        "--repository-path",
        dir.to_str().expect("test setup"),
        "--json",
    ])
    .env_clear()
    .env("PATH", std::env::var_os("PATH").unwrap_or_default())
    .env("HOME", dir)
    .env("GITHUB_REPOSITORY", REPO)
    .env("GITHUB_API_URL", server.url())
    .env("GITHUB_SERVER_URL", "https://github.com")
    .env("INPUT_TOKEN", token);
    cmd
}

/// A successful run's JSON; a failed run fails the test with its output.
pub fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// A client of `server`, as a person with a token.
pub fn client(server: &TestServer) -> BlockingGitHub {
    let config = GitHubConfig::new(server.url())
        .expect("test setup")
        .with_token_input(Some("t"));
    BlockingGitHub::new(&config).expect("test setup")
}

/// Merges pull request `number` of [`REPO`] through the API; returns the merge commit.
pub fn merge(server: &TestServer, number: u64, method: MergeMethod) -> String {
    let client = client(server);
    client
        .block_on(client.github().merge_pull_request(
            &Repository::new("octo", "app"),
            number,
            method,
            None,
        ))
        .expect("merged")
}

/// The requests to `server` that write (everything but GET), from `since` on.
pub fn writes_since(server: &TestServer, since: usize) -> Vec<String> {
    server.requests()[since..]
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

/// A run's first pull request.
pub fn pull_of(run: &Value) -> &Value {
    &run["pull_requests"][0]
}
