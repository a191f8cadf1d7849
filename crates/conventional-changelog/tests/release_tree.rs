//! Releases whose tag is on a release tree (`.github/release/release.sh release-tree`): a
//! commit on top of the released merge commit carrying the build, off the branch, marked
//! `Release-Tree-Of: <merge commit>`. The whole history puts each commit under the release
//! that shipped it, and `mode: prepend` starts after the last release; an unmarked tree
//! stays off the history, as any tag off the branch.

mod common;

use common::TestRepo;

/// How a release tree is marked.
#[derive(Clone, Copy)]
enum Mark {
    /// `Release-Tree-Of: <its first parent>`, as release.sh writes it.
    Parent,
    /// No trailer.
    None,
}

/// Moves `tag` onto a release tree of HEAD (a commit off the branch with the build in it),
/// made the day of HEAD.
fn release_tree(r: &mut TestRepo, tag: &str, mark: Mark) {
    let base = r.git(&["rev-parse", "HEAD"]);
    let trailer = match mark {
        Mark::Parent => format!("Release-Tree-Of: {base}"),
        Mark::None => "Built by the release workflow.".to_string(),
    };
    let date = r.git(&["log", "-1", "--format=%cd", "--date=raw"]);
    hub_testkit::git::release_tree_at(&r.path(), &base, &[tag], &trailer, &date);
}

/// feat → release PR merged → v0.1.0 (tree); fix, feat on a merged branch → release PR →
/// v0.2.0 (tree); then one fix on main.
fn project() -> TestRepo {
    let mut r = TestRepo::new();
    r.commit("feat: first feature");
    r.git(&["checkout", "-q", "-b", "release-1"]);
    r.commit("chore(release): 0.1.0");
    r.git(&["checkout", "-q", "main"]);
    r.merge(
        "release-1",
        "Merge pull request #1 from octo/hub-release/main",
    );
    release_tree(&mut r, "v0.1.0", Mark::Parent);
    r.commit("fix: a bug");
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.commit("feat: second feature");
    r.git(&["checkout", "-q", "main"]);
    r.merge("feature", "Merge pull request #2 from octo/feature");
    r.git(&["checkout", "-q", "-b", "release-2"]);
    r.commit("chore(release): 0.2.0");
    r.git(&["checkout", "-q", "main"]);
    r.merge(
        "release-2",
        "Merge pull request #3 from octo/hub-release/main",
    );
    release_tree(&mut r, "v0.2.0", Mark::Parent);
    r.commit("fix: after the release");
    r
}

/// The text of the section whose heading starts with `heading`, up to the next section.
fn section<'a>(file: &'a str, heading: &str) -> &'a str {
    let start = file
        .find(heading)
        .unwrap_or_else(|| panic!("no `{heading}` in {file}"));
    let rest = &file[start + heading.len()..];
    let end = rest.find("\n## ").map_or(rest.len(), |i| i + 1);
    &rest[..end]
}

#[test]
fn the_whole_history_puts_each_commit_under_its_release_tree() {
    let r = project();
    let out = r.run().input("mode", "overwrite").go();
    assert_eq!(out.code, 0, "{out}");
    assert!(
        out.stdout
            .contains("the whole history up to HEAD: 2 release tag(s), 9 commit(s)"),
        "{}",
        out.stdout
    );
    let file = r.read("CHANGELOG.md");
    let unreleased = section(&file, "## Unreleased");
    let second = section(&file, "## 0.2.0");
    let first = section(&file, "## 0.1.0");
    assert!(unreleased.contains("after the release"), "{file}");
    assert!(!unreleased.contains("second feature"), "{file}");
    assert!(second.contains("a bug"), "{file}");
    assert!(second.contains("second feature"), "{file}");
    assert!(!second.contains("first feature"), "{file}");
    assert!(first.contains("first feature"), "{file}");
    assert!(!first.contains("a bug"), "{file}");
    // The release trees' own commits are in no release.
    assert!(!file.contains("release tree for"), "{file}");
}

#[test]
fn prepend_starts_after_the_last_release_tree() {
    let r = project();
    let out = r.run().go();
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(out.output("commit-count"), "1", "{out}");
    let changelog = out.output("changelog");
    assert!(changelog.contains("after the release"), "{changelog}");
    assert!(!changelog.contains("second feature"), "{changelog}");
}

#[test]
fn an_unmarked_release_tree_is_off_the_history_as_before() {
    let mut r = TestRepo::new();
    r.commit("feat: first feature").tag("v0.1.0");
    r.commit("fix: a bug");
    release_tree(&mut r, "v0.2.0", Mark::None);
    r.commit("fix: after");
    let out = r.run().go();
    assert_eq!(out.code, 0, "{out}");
    // The range starts at v0.1.0: v0.2.0's tree is not on the branch, and not marked.
    assert_eq!(out.output("commit-count"), "2", "{out}");
    let whole = r.run().input("mode", "overwrite").go();
    assert!(
        whole
            .stdout
            .contains("the whole history up to HEAD: 1 release tag(s), 3 commit(s)"),
        "{}",
        whole.stdout
    );
}

#[test]
fn a_run_on_the_released_merge_commit_writes_that_release() {
    let r = project();
    // HEAD~1 is the merge commit v0.2.0's release tree was made on: a run there (a workflow
    // re-run for that push) writes 0.2.0, as on a tagged commit, from v0.1.0's tree on.
    let out = r.run().input("to", "HEAD~1").input("mode", "none").go();
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(out.output("version"), "0.2.0", "{out}");
    let changelog = out.output("changelog");
    assert!(changelog.contains("second feature"), "{changelog}");
    assert!(changelog.contains("a bug"), "{changelog}");
    assert!(!changelog.contains("first feature"), "{changelog}");
    assert!(!changelog.contains("after the release"), "{changelog}");
}
