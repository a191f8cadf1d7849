//! Releases made the way hub-actions releases itself (`.github/release/release.sh
//! release-tree`): the release pull request's merge commit is tagged, then a commit on top
//! of it carrying the build — off the branch, marked `Release-Tree-Of: <merge commit>` —
//! takes the tag. The next run must start after that release, in single-package and in
//! monorepo mode, with few git processes (counted by a `git` wrapper on PATH); an unmarked
//! or wrongly marked tree, and a tag on a side branch, stay unreachable as any tag off the
//! branch.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

mod common;

use std::path::{Path, PathBuf};

use common::{change, git, init, run};

/// A pull request merged into main with a merge commit: `commits` on a branch, then the merge.
fn merge_pull(repo: &Path, branch: &str, commits: &[(&[&str], &str)]) {
    git(repo, &["checkout", "-q", "-b", branch]);
    for (files, message) in commits {
        change(repo, files, message);
    }
    git(repo, &["checkout", "-q", "main"]);
    git(
        repo,
        &[
            "merge",
            "-q",
            "--no-ff",
            "-m",
            &format!("Merge pull request from {branch}"),
            branch,
        ],
    );
}

/// How a release tree is marked.
#[derive(Clone, Copy)]
enum Mark<'a> {
    /// `Release-Tree-Of: <its first parent>`, as release.sh writes it.
    Parent,
    /// No trailer.
    None,
    /// A trailer naming another commit.
    Other(&'a str),
}

/// Tags HEAD's release tree: a commit on top of HEAD carrying `actions/install/release.env`,
/// off the branch, marked as asked, tagged with each of `tags` (annotated, as release.sh
/// re-tags). Returns the tree commit.
fn release_tree(repo: &Path, tags: &[&str], mark: Mark<'_>) -> String {
    let base = git(repo, &["rev-parse", "HEAD"]);
    let trailer = match mark {
        Mark::Parent => format!("Release-Tree-Of: {base}"),
        Mark::None => "Built by the release workflow.".to_string(),
        Mark::Other(commit) => format!("Release-Tree-Of: {commit}"),
    };
    hub_testkit::git::release_tree_at(repo, &base, tags, &trailer, &common::tick())
}

/// Two releases made the project's way, then more work on main:
/// `feat` → release PR merged → v1.0.0 (tree); `fix`, `feat` → release PR → v1.1.0 (tree);
/// then `fix: after` (the only commit since the last release).
fn project(root: &Path) -> PathBuf {
    let r = init(root);
    change(&r, &["src/lib.rs"], "feat: first feature");
    merge_pull(
        &r,
        "hub-release/main-1",
        &[(&["Cargo.toml"], "chore(release): 1.0.0")],
    );
    release_tree(&r, &["v1.0.0"], Mark::Parent);
    change(&r, &["src/lib.rs"], "fix: a bug");
    merge_pull(&r, "feature", &[(&["src/new.rs"], "feat: second feature")]);
    merge_pull(
        &r,
        "hub-release/main-2",
        &[(&["Cargo.toml"], "chore(release): 1.1.0")],
    );
    release_tree(&r, &["v1.1.0"], Mark::Parent);
    change(&r, &["src/lib.rs"], "fix: after the release");
    r
}

#[test]
fn the_next_release_starts_after_the_last_release_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = project(tmp.path());
    let (out, calls) = run(tmp.path(), &[]);
    assert_eq!(out["current-tag"], "v1.1.0", "{out}");
    assert_eq!(out["next-version"], "1.1.1", "{out}");
    assert_eq!(out["commit-count"], "1", "{out}");
    assert!(
        out["notes"].as_str().unwrap().contains("after the release"),
        "{out}"
    );
    // The tag names, the range (its boundary has the tree's parent), the tree's mark.
    assert_eq!(calls, ["rev-parse", "log", "log"], "{calls:?}");

    // The same answer the step-by-step way (a `path` proves reachability apart).
    let (by_path, calls) = run(tmp.path(), &["--path", "src"]);
    assert_eq!(
        calls,
        [
            "rev-parse",
            "rev-parse",
            "merge-base",
            "log",
            "merge-base",
            "log"
        ],
        "the tag resolved, not an ancestor, its mark, its parent an ancestor, the log"
    );
    assert_eq!(by_path["current-tag"], "v1.1.0", "{by_path}");
    assert_eq!(by_path["next-version"], "1.1.1", "{by_path}");
    assert_eq!(by_path["commit-count"], "1", "{by_path}");

    // Run on the merge commit the release was made from: released there, nothing new.
    let merge = git(&repo, &["rev-parse", "HEAD~1"]);
    let (at_merge, _) = run(tmp.path(), &["--to", &merge]);
    assert_eq!(at_merge["current-tag"], "v1.1.0", "{at_merge}");
    assert_eq!(at_merge["next-version"], "", "{at_merge}");
    assert_eq!(at_merge["commit-count"], "0", "{at_merge}");

    // Without the second release, the first release tree is the last release: everything
    // since its merge commit (fix, feat, the feature's merge, the release PR's commit and
    // merge, the fix after).
    git(&repo, &["tag", "-d", "v1.1.0"]);
    let (before, calls) = run(tmp.path(), &[]);
    assert_eq!(before["current-tag"], "v1.0.0", "{before}");
    assert_eq!(before["next-version"], "1.1.0", "{before}");
    assert_eq!(before["commit-count"], "6", "{before}");
    assert_eq!(calls, ["rev-parse", "log", "log"], "{calls:?}");
}

#[test]
fn unmarked_or_wrongly_marked_trees_and_side_branches_are_not_releases_of_the_branch() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = project(tmp.path());
    let expect_last = |what: &str| {
        let (out, _) = run(tmp.path(), &[]);
        assert_eq!(out["current-tag"], "v1.1.0", "{what}: {out}");
        assert_eq!(out["next-version"], "1.1.1", "{what}: {out}");
        assert_eq!(out["commit-count"], "1", "{what}: {out}");
    };
    // A tree without the trailer on HEAD: an unreachable v2.0.0, passed over.
    release_tree(&repo, &["v2.0.0"], Mark::None);
    expect_last("no trailer");
    git(&repo, &["tag", "-d", "v2.0.0"]);
    // A trailer naming another commit of main than its parent (a copied message).
    let older = git(&repo, &["rev-parse", "HEAD~1"]);
    release_tree(&repo, &["v2.0.0"], Mark::Other(&older));
    expect_last("trailer names another commit");
    git(&repo, &["tag", "-d", "v2.0.0"]);
    // A plain tag on a side branch commit: as before, not a release of main.
    git(&repo, &["checkout", "-q", "-b", "side", "HEAD~1"]);
    change(&repo, &["side.txt"], "feat!: side work");
    git(&repo, &["tag", "v3.0.0"]);
    git(&repo, &["checkout", "-q", "main"]);
    expect_last("side branch");
}

#[test]
fn each_package_starts_after_its_own_release_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let r = init(tmp.path());
    change(&r, &["api/main.rs", "web/index.ts"], "feat: both packages");
    merge_pull(
        &r,
        "release-1",
        &[(&["Cargo.toml"], "chore(release): api 1.0.0, web 0.3.0")],
    );
    // One release tree carrying both packages' tags.
    release_tree(&r, &["api@1.0.0", "web-v0.3.0"], Mark::Parent);
    change(&r, &["api/main.rs"], "fix(api): handle empty body");
    merge_pull(
        &r,
        "release-2",
        &[(&["Cargo.toml"], "chore(release): api 1.0.1")],
    );
    release_tree(&r, &["api@1.0.1"], Mark::Parent);
    change(&r, &["web/index.ts"], "feat(web): dark mode");
    change(&r, &["api/main.rs"], "feat(api): search");

    let config = "packages:\n  - name: api\n    path: api\n    tag-pattern: api@{version}\n  - name: web\n    path: web\n    tag-pattern: web-v{version}\n";
    let (all, calls) = run(tmp.path(), &["--packages", config]);
    let packages: serde_json::Value =
        serde_json::from_str(all["packages"].as_str().unwrap()).unwrap();
    assert_eq!(packages["api"]["current-tag"], "api@1.0.1", "{packages}");
    assert_eq!(packages["api"]["next-version"], "1.1.0", "{packages}");
    assert_eq!(packages["api"]["commit-count"], 1, "{packages}");
    assert_eq!(packages["web"]["current-tag"], "web-v0.3.0", "{packages}");
    assert_eq!(packages["web"]["next-version"], "0.4.0", "{packages}");
    assert_eq!(packages["web"]["commit-count"], 1, "{packages}");
    // What a run without release trees starts (rev-parse, show-ref, for-each-ref --merged,
    // the log, and merge-base for the two releases' common base), plus the trees' marks (one
    // log --no-walk) and their parents' reachability (one rev-list).
    let mut sorted = calls.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "for-each-ref",
            "log",
            "log",
            "merge-base",
            "rev-list",
            "rev-parse",
            "show-ref"
        ],
        "{calls:?}"
    );
    // Each package alone says the same.
    for (name, prefix) in [("api", "api@"), ("web", "web-v")] {
        let (one, _) = run(tmp.path(), &["--tag-prefix", prefix, "--path", name]);
        assert_eq!(one["current-tag"], packages[name]["current-tag"], "{name}");
        assert_eq!(
            one["next-version"], packages[name]["next-version"],
            "{name}"
        );
    }
}
