//! Releases whose tag was moved onto a release tree, as hub-actions releases itself
//! (`.github/release/release.sh release-tree`): release-pr tags the release pull request's
//! merge commit, then a commit on top of it carrying the build — off the branch, marked
//! `Release-Tree-Of: <merge commit>` — takes the tag. The next release pull request must
//! start after that release: its version and its notes (only the commits since), against
//! the GitHub stand-in and real git repositories.

use std::path::Path;
use std::process::Command;

use hub_github::{BlockingGitHub, GitHubConfig, MergeMethod, Repository};
use hub_github_standin::Options;
use hub_github_standin::test_support::TestServer;
use serde_json::Value;

const REPO: &str = "octo/app";

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "A U Thor")
        .env("GIT_AUTHOR_EMAIL", "author@example.com")
        .env("GIT_COMMITTER_NAME", "A U Thor")
        .env("GIT_COMMITTER_EMAIL", "author@example.com")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn commit(dir: &Path, files: &[(&str, &str)], message: &str) -> String {
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().expect("test setup")).expect("test setup");
        std::fs::write(p, text).expect("test setup");
    }
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "--allow-empty", "-m", message]);
    git(dir, &["rev-parse", "HEAD"])
}

/// Moves `tag` from `base` onto a release tree of it, as release.sh does: a commit on top
/// of `base` with `actions/install/release.env` (plumbing, the work tree untouched), marked
/// with the trailer, the tag re-made there. Returns the tree commit.
fn release_tree(dir: &Path, tag: &str, base: &str) -> String {
    let env = format!("HUB_RELEASE_VERSION={}\n", tag.trim_start_matches('v'));
    let blob = {
        let mut child = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["hash-object", "-w", "--stdin"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("git runs");
        std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), env.as_bytes())
            .expect("written");
        let out = child.wait_with_output().expect("git runs");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let index = dir.join(".git/release-tree-index");
    let with_index = |args: &[&str]| {
        let out = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .env("GIT_INDEX_FILE", &index)
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    with_index(&["read-tree", base]);
    let cacheinfo = format!("100644,{blob},actions/install/release.env");
    with_index(&["update-index", "--add", "--cacheinfo", &cacheinfo]);
    let tree = with_index(&["write-tree"]);
    std::fs::remove_file(&index).expect("scratch index removed");
    let subject = format!("chore(release): release tree for {tag}");
    let trailer = format!("Release-Tree-Of: {base}");
    let commit = git(
        dir,
        &[
            "commit-tree",
            &tree,
            "-p",
            base,
            "-m",
            &subject,
            "-m",
            &trailer,
        ],
    );
    git(dir, &["tag", "-f", "-a", "-m", tag, tag, &commit]);
    commit
}

const CARGO_TOML: &str =
    "[package]\nname = \"app\"\nversion = \"1.2.0\" # the release\nedition = \"2021\"\n";

fn run(server: &TestServer, dir: &Path, extra: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_hub-release-pr"))
        .args(["--path", dir.to_str().expect("test setup"), "--json"])
        .args(["--release-branch", "main", "--version-files", "Cargo.toml"])
        .args(extra)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("GITHUB_REPOSITORY", REPO)
        .env("GITHUB_API_URL", server.url())
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("INPUT_TOKEN", "ghp_personal_token")
        .output()
        .expect("the binary runs");
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn pull_of(run: &Value) -> &Value {
    &run["pull_requests"][0]
}

#[test]
fn the_next_release_pull_request_starts_after_the_release_tree() {
    let dir = tempfile::tempdir().expect("test setup");
    let dir = dir.path();
    git(dir, &["init", "-q", "-b", "main"]);
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
    let client = BlockingGitHub::new(
        &GitHubConfig::new(server.url())
            .expect("test setup")
            .with_token_input(Some("t")),
    )
    .expect("test setup");
    let merge = client
        .block_on(client.github().merge_pull_request(
            &Repository::new("octo", "app"),
            number,
            MergeMethod::Merge,
            None,
        ))
        .expect("merged");
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
    let writes: Vec<String> = server.requests()[before..]
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
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
