//! Releases whose tag was moved onto a release tree, as hub-actions releases itself
//! (`.github/release/release.sh release-tree`): release-pr tags the release pull request's
//! merge commit, then a commit on top of it carrying the build — off the branch, marked
//! `Release-Tree-Of: <merge commit>` — takes the tag. The next release pull request must
//! start after that release: its version and its notes (only the commits since), against
//! the GitHub stand-in and real git repositories.

mod common;

use std::path::Path;

use common::{CARGO_TOML, REPO, commit, git, pull_of, release_tree};
use hub_github::MergeMethod;
use hub_github_standin::Options;
use hub_github_standin::test_support::TestServer;
use serde_json::Value;

fn run(server: &TestServer, dir: &Path, extra: &[&str]) -> Value {
    let out = common::command(server, dir, "ghp_personal_token")
        .args(["--release-branch", "main", "--version-files", "Cargo.toml"])
        .args(extra)
        .output()
        .expect("the binary runs");
    common::json_of(&out)
}

#[test]
fn the_next_release_pull_request_starts_after_the_release_tree() {
    let dir = hub_testkit::git::init();
    let dir = dir.path();
    let start = commit(
        dir,
        &[("Cargo.toml", CARGO_TOML)],
        "feat: the first feature",
    );
    release_tree(dir, "v1.2.0", &start);
    commit(
        dir,
        &[("src/lib.rs", "pub fn search() {}\n")],
        "feat: search",
    );
    let Some(server) = TestServer::start_with_graphql(Options::default()) else {
        return;
    };
    server.import_git(REPO, dir).expect("imported");

    // The dry run: 1.3.0, with only the commit since v1.2.0's release tree.
    let plan = run(&server, dir, &["--dry-run"]);
    let pr = pull_of(&plan);
    assert_eq!(pr["versions"]["."], "1.3.0", "{plan:#}");
    let body = pr["body"].as_str().expect("body");
    assert!(body.contains("search"), "{body}");
    assert!(!body.contains("first feature"), "{body}");

    // Open it, merge it, release it (the tag on the merge commit) …
    let opened = run(&server, dir, &[]);
    let number = pull_of(&opened)["number"].as_u64().expect("a number");
    let merge = common::merge(&server, number, MergeMethod::Merge);
    server.export_git(REPO, dir).expect("exported");
    git(dir, &["reset", "-q", "--hard", &merge]);
    let released = run(&server, dir, &[]);
    let release = &released["releases"][0]["releases"][0];
    assert_eq!(release["tag"], "v1.3.0", "{released:#}");
    assert_eq!(release["at"], merge.as_str(), "{released:#}");
    // The notes start after v1.2.0's release tree.
    let notes = release["notes"].as_str().expect("notes");
    assert!(notes.contains("search"), "{notes}");
    assert!(!notes.contains("first feature"), "{notes}");
    // … then the release workflow moves v1.3.0 onto the merge commit's release tree.
    let tree = release_tree(dir, "v1.3.0", &merge);
    server.import_git(REPO, dir).expect("imported");

    // The workflow run on the merge commit again: the release is found where the release
    // workflow left it — the tag stays on the release tree, nothing is written.
    let before = server.requests().len();
    let again = run(&server, dir, &[]);
    let release = &again["releases"][0]["releases"][0];
    assert_eq!(release["tag"], "v1.3.0", "{again:#}");
    assert_eq!(release["at"], tree.as_str(), "{again:#}");
    let writes = common::writes_since(&server, before);
    assert_eq!(writes, Vec::<String>::new(), "{again:#}");
    assert_eq!(
        git(dir, &["rev-parse", "v1.3.0^{commit}"]),
        tree,
        "the tag stays on the release tree"
    );

    commit(dir, &[("src/after.rs", "\n")], "fix: after the release");
    server.import_git(REPO, dir).expect("imported");

    let next = run(&server, dir, &["--dry-run"]);
    assert!(
        next["releases"].as_array().is_none_or(Vec::is_empty),
        "v1.3.0 is released, nothing to tag again: {next:#}"
    );
    let pr = pull_of(&next);
    assert_eq!(pr["versions"]["."], "1.3.1", "{next:#}");
    let body = pr["body"].as_str().expect("body");
    assert!(body.contains("after the release"), "{body}");
    assert!(!body.contains("search"), "{body}");
    assert!(!body.contains("release tree"), "{body}");
    server.assert_conforms();
}
