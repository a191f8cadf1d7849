use super::*;
use std::process::Command;

/// A real repository built with fixed dates.
fn repo() -> (tempfile::TempDir, Repo) {
    let dir = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        hub_testkit::git::git(dir.path(), args);
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["commit", "-q", "--allow-empty", "-m", "feat: first"]);
    git(&["tag", "v0.1.0"]);
    git(&[
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "fix: second\n\nbody line\n\nRefs: #1",
    ]);
    git(&["tag", "-a", "-m", "release", "v0.1.1"]);
    std::fs::write(dir.path().join("a.txt"), "x").unwrap();
    git(&["add", "a.txt"]);
    git(&[
        "commit",
        "-q",
        "-m",
        "feat(a)!: third with `ticks` and \u{1F600}",
    ]);
    let repo = Repo::discover(dir.path()).unwrap();
    (dir, repo)
}

#[test]
fn reads_log_tags_and_ranges() {
    let (_d, repo) = repo();
    let head = repo.rev_parse("HEAD").unwrap();
    let all = repo.log(&Range::since(None, &head), &[]).unwrap();
    assert_eq!(all.len(), 3);
    let first = all.get(0).unwrap();
    assert_eq!(first.id, head);
    assert_eq!(
        first.summary(),
        "feat(a)!: third with `ticks` and \u{1F600}"
    );
    assert_eq!(first.author_email, "ada@example.com");
    assert_eq!(
        all.get(1).unwrap().message,
        "fix: second\n\nbody line\n\nRefs: #1\n"
    );
    assert_eq!(all.get(2).unwrap().parents, "");

    let tags = repo.tags().unwrap();
    let names: Vec<_> = tags
        .iter()
        .map(|t| (t.name.as_str(), t.annotated))
        .collect();
    assert_eq!(names, [("v0.1.0", false), ("v0.1.1", true)]);
    // Annotated tags are peeled to their commit.
    assert_eq!(tags[1].commit, all.get(1).unwrap().id);
    // The names alone, with shallowness, from one rev-parse.
    assert_eq!(
        repo.tag_names().unwrap(),
        (vec!["v0.1.0".to_owned(), "v0.1.1".to_owned()], false)
    );
    // The same tags with the day each was made, from one for-each-ref.
    let dated = repo.tags_with_dates().unwrap();
    assert_eq!(
        dated,
        [
            (tags[0].clone(), "2024-01-02".to_string()),
            (tags[1].clone(), "2024-01-02".to_string())
        ]
    );

    let since = repo
        .log(&Range::since(Some("v0.1.1"), "HEAD"), &[])
        .unwrap();
    assert_eq!(since.len(), 1);
    let only_a = repo
        .log(&Range::since(None, "HEAD"), &["a.txt".into()])
        .unwrap();
    assert_eq!(only_a.len(), 1);
    let none = repo.log(&Range::since(Some("HEAD"), "HEAD"), &[]).unwrap();
    assert!(none.is_empty());

    assert!(repo.is_ancestor("v0.1.0", "HEAD").unwrap());
    assert!(!repo.is_ancestor("HEAD", "v0.1.0").unwrap());
    assert!(!repo.is_shallow().unwrap());
}

#[test]
fn first_reachable_checks_directly_then_in_one_batch() {
    let (_d, repo) = repo();
    let head = repo.rev_parse("HEAD").unwrap();
    let tags = repo.tags().unwrap();
    let (v010, v011) = (&tags[0], &tags[1]);
    // A tag on a branch that HEAD does not contain.
    repo.run(["branch", "side", "v0.1.0"]).unwrap();
    repo.run(["checkout", "-q", "side"]).unwrap();
    std::fs::write(repo.root().join("b.txt"), "y").unwrap();
    repo.run(["add", "b.txt"]).unwrap();
    repo.run([
        "-c",
        "user.name=A",
        "-c",
        "user.email=a@example.com",
        "commit",
        "-q",
        "-m",
        "feat: side",
    ])
    .unwrap();
    repo.run(["tag", "v9.0.0"]).unwrap();
    let side = repo.rev_parse("HEAD").unwrap();
    let pick = |c: &[(&str, &str)]| {
        repo.first_reachable(c.iter().copied(), &head)
            .unwrap()
            .map(|r| r.index)
    };
    assert_eq!(
        pick(&[("v9.0.0", &side), (&v011.name, &v011.commit)]),
        Some(1)
    );
    assert_eq!(pick(&[("v9.0.0", &side)]), None);
    // Past the direct checks, `git tag --merged` decides, by tag name.
    let mut many: Vec<(&str, &str)> = vec![("v9.0.0", side.as_str()); 10];
    many.push((&v010.name, &v010.commit));
    assert_eq!(pick(&many), Some(10));
    many.pop();
    assert_eq!(pick(&many), None);
}

#[test]
fn clear_errors() {
    let (_d, repo) = repo();
    let e = repo.rev_parse("no-such-ref").unwrap_err();
    assert_eq!(
        e.to_string(),
        "`no-such-ref` is not a commit in this repository"
    );
    // A revision that looks like an option is only data.
    assert!(repo.rev_parse("--output=/tmp/x").is_err());
    let outside = tempfile::tempdir().unwrap();
    let e = Repo::discover(outside.path()).unwrap_err();
    assert!(
        e.to_string().contains("is not inside a git repository"),
        "{e}"
    );
}

#[test]
fn creates_annotated_tags_with_any_message() {
    let (_d, repo) = repo();
    repo.create_annotated_tag("v1.0.0", "HEAD", "$(id); `rm -rf /`\n::error::x")
        .unwrap();
    let t = repo
        .tags()
        .unwrap()
        .into_iter()
        .find(|t| t.name == "v1.0.0")
        .unwrap();
    assert!(t.annotated);
    let msg = repo
        .run(["tag", "-l", "--format=%(contents)", "v1.0.0"])
        .unwrap();
    assert_eq!(
        String::from_utf8(msg).unwrap(),
        "$(id); `rm -rf /`\n::error::x\n\n"
    );
}

#[test]
fn open_resolving_reads_work_tree_shallowness_and_commits_in_one_rev_parse() {
    let (_d, repo) = repo();
    let tags = repo.tags().unwrap();
    let head = repo.rev_parse("HEAD").unwrap();
    // From a subdirectory: the work tree's root, and peeled commits.
    let sub = repo.root().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let opened = Repo::open_resolving(&sub, &["HEAD", "refs/tags/v0.1.1", "v0.1.0"]).unwrap();
    assert_eq!(opened.repo.root(), repo.root());
    assert!(!opened.shallow);
    assert_eq!(
        opened.commits,
        [head.clone(), tags[1].commit.clone(), tags[0].commit.clone()]
    );
    assert_eq!(
        Repo::open_resolving(&sub, &["HEAD~1"]).unwrap().commits,
        [git_commit_of(&sub, "HEAD~1")]
    );
    assert!(Repo::open_resolving(&sub, &["no-such-ref"]).is_err());
    assert!(Repo::open_resolving(&sub, &["--output=/tmp/x"]).is_err());
    let outside = tempfile::tempdir().unwrap();
    let e = Repo::open_resolving(outside.path(), &["HEAD"]).unwrap_err();
    assert!(matches!(e, GitError::NotARepository { .. }), "{e}");
    // The rev-parse and the show-ref side by side: the same answers.
    let (both, with_tags) = Repo::open_with_tags(&sub, &["HEAD", "refs/tags/v0.1.1"]).unwrap();
    assert_eq!(both.repo.root(), repo.root());
    assert_eq!(both.commits, [head, tags[1].commit.clone()]);
    assert_eq!(with_tags, tags);
    assert!(Repo::open_with_tags(outside.path(), &["HEAD"]).is_err());
    assert!(Repo::open_with_tags(&sub, &["no-such-ref"]).is_err());
}

#[test]
fn worktrees_and_shallow_clones_are_opened_as_git_sees_them() {
    let (_d, repo) = repo();
    let root = repo.root().to_path_buf();
    let wt = tempfile::tempdir().unwrap();
    let path = wt.path().join("wt");
    let p = path.to_str().unwrap();
    repo.run(["worktree", "add", "-q", "--detach", p, "HEAD~2"])
        .unwrap();
    // The worktree's own HEAD, the main repository's refs and tags.
    let opened = Repo::open_resolving(&path, &["HEAD", "refs/heads/main"]).unwrap();
    assert_eq!(
        opened.commits,
        [git_commit_of(&path, "HEAD"), git_commit_of(&root, "HEAD")]
    );
    assert_ne!(opened.commits[0], opened.commits[1]);
    assert_eq!(opened.repo.tags().unwrap(), repo.tags().unwrap());

    // A shallow clone says so.
    let clone = wt.path().join("shallow");
    let url = format!("file://{}", root.display());
    hub_testkit::git::git(
        wt.path(),
        &["clone", "-q", "--depth", "1", &url, clone.to_str().unwrap()],
    );
    let opened = Repo::open_resolving(&clone, &["HEAD"]).unwrap();
    assert!(opened.shallow);
    assert!(opened.repo.is_shallow().unwrap());
    assert_eq!(opened.commits, [git_commit_of(&root, "HEAD")]);
}

#[test]
fn tags_are_peeled_to_commits_whether_packed_loose_nested_or_of_a_tree() {
    let (_d, repo) = repo();
    let names = |tags: Vec<Tag>| tags.into_iter().map(|t| t.name).collect::<Vec<_>>();
    let first = repo.tags().unwrap();
    // A tag of a tag peels to the commit.
    repo.run(["tag", "-a", "-m", "nested", "v0.2.0", "v0.1.1"])
        .unwrap();
    let tags = repo.tags().unwrap();
    assert_eq!(names(tags.clone()), ["v0.1.0", "v0.1.1", "v0.2.0"]);
    assert_eq!(tags[2].commit, first[1].commit);
    assert!(tags[2].annotated);
    // A tag of a tree names the tree: no commit, so never a release; the dated list, which
    // reads every tag object anyway, leaves it out.
    repo.run(["tag", "-a", "-m", "tree", "treetag", "HEAD^{tree}"])
        .unwrap();
    let with_tree = repo.tags().unwrap();
    let tree = with_tree.iter().find(|t| t.name == "treetag").unwrap();
    assert_eq!(
        tree.commit,
        git_commit_of_object(repo.root(), "HEAD^{tree}")
    );
    assert!(!repo.has_commit(&tree.commit));
    assert!(Repo::open_resolving(repo.root(), &["refs/tags/treetag"]).is_err());
    let dated: Vec<Tag> = repo
        .tags_with_dates()
        .unwrap()
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    assert_eq!(dated, tags);
    repo.run(["tag", "-d", "treetag"]).unwrap();
    // Packed, then a packed tag moved (loose again) and a nested name: as git lists them.
    repo.run(["pack-refs", "--all"]).unwrap();
    assert_eq!(repo.tags().unwrap(), tags);
    repo.run(["tag", "-f", "v0.1.0", "HEAD"]).unwrap();
    repo.run(["tag", "api/v2.0.0", "HEAD"]).unwrap();
    let head = repo.rev_parse("HEAD").unwrap();
    let moved = repo.tags().unwrap();
    assert_eq!(
        names(moved.clone()),
        ["api/v2.0.0", "v0.1.0", "v0.1.1", "v0.2.0"]
    );
    assert_eq!(moved[1].commit, head);
    // The names alone, from a subdirectory, with the work tree and a revision: the same
    // list, a nested name and a packed one alike.
    let sub = repo.root().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let (opened, listed) = Repo::open_listing_tags(&sub, "HEAD").unwrap();
    assert_eq!(listed, names(moved));
    assert_eq!(opened.commits, std::slice::from_ref(&head));
    assert_eq!(opened.repo.root(), repo.root());
    assert!(!opened.shallow);
    let outside = tempfile::tempdir().unwrap();
    assert!(Repo::open_listing_tags(outside.path(), "HEAD").is_err());
    assert!(Repo::open_listing_tags(&sub, "no-such-ref").is_err());
    // Reachability of every tag in one for-each-ref --merged.
    let set = |names: &[&str]| -> std::collections::HashSet<String> {
        names.iter().map(|n| n.to_string()).collect()
    };
    let merged = repo.tags_merged_into(&first[1].commit, None).unwrap();
    assert_eq!(merged, set(&["v0.1.1", "v0.2.0"]));
    assert_eq!(repo.tags_merged_into("HEAD", None).unwrap().len(), 4);
    // Only the tags asked about: the pattern `refs/tags/api` also matches `api/v2.0.0`,
    // which was not asked about.
    let some = repo
        .tags_merged_into("HEAD", Some(&["v0.1.1", "api"]))
        .unwrap();
    assert_eq!(some, set(&["v0.1.1"]));
    let some = repo
        .tags_merged_into(&first[1].commit, Some(&["v0.1.0", "v0.1.1"]))
        .unwrap();
    assert_eq!(some, set(&["v0.1.1"]));
    assert!(repo.tags_merged_into("HEAD", Some(&[])).unwrap().is_empty());
}

#[test]
fn sha256_repositories_are_read_through_git_too() {
    let dir = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        hub_testkit::git::git(dir.path(), args);
    };
    git(&["init", "-q", "--object-format=sha256", "-b", "main"]);
    git(&["commit", "-q", "--allow-empty", "-m", "feat: one"]);
    git(&["tag", "-a", "-m", "release", "v1.0.0"]);
    git(&["commit", "-q", "--allow-empty", "-m", "fix: two"]);
    let (opened, tags) = Repo::open_with_tags(dir.path(), &["HEAD", "refs/tags/v1.0.0"]).unwrap();
    assert_eq!(opened.commits[0], git_commit_of(dir.path(), "HEAD"));
    assert_eq!(opened.commits[0].len(), 64);
    assert_eq!(tags[0].commit, opened.commits[1]);
    let log = opened
        .repo
        .log(
            &Range::since(Some(&tags[0].commit), &opened.commits[0]),
            &[],
        )
        .unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log.get(0).unwrap().parents, tags[0].commit);
}

#[test]
fn a_repository_git_refuses_is_refused_with_gits_reason() {
    // Owned by another user: git says "dubious ownership", and so do we — not "no
    // repository". Needs root to hand the directory to another user.
    let (d, repo) = repo();
    if !chown_to_another_user(d.path()) {
        return;
    }
    for e in [
        Repo::discover(repo.root()).unwrap_err(),
        Repo::open_resolving(repo.root(), &["HEAD"]).unwrap_err(),
    ] {
        assert!(matches!(e, GitError::Command { .. }), "{e}");
        assert!(e.to_string().contains("dubious ownership"), "{e}");
    }
}

/// Hands `dir` to uid 12345 (`chown -R`); `false` when this process may not (not root),
/// after the skip rule (the reason on stderr, a failure under `CI`).
fn chown_to_another_user(dir: &Path) -> bool {
    let ok = Command::new("chown")
        .args(["-R", "12345:12345"])
        .arg(dir)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        hub_testkit::skip("cannot chown the test repository to another user (not root)");
    }
    ok
}

#[test]
fn log_with_files_lists_each_commits_files() {
    let (_d, repo) = repo();
    let head = repo.rev_parse("HEAD").unwrap();
    let (log, files) = repo.log_with_files(&Range::since(None, &head)).unwrap();
    assert_eq!(log.len(), 3);
    assert_eq!(files, [vec!["a.txt".to_string()], vec![], vec![]]);
    assert_eq!(log.get(0).unwrap().id, head);
    assert_eq!(
        log.get(1).unwrap().message,
        "fix: second\n\nbody line\n\nRefs: #1\n"
    );
    // A file name that looks like a commit id, or holds a newline, is still a file.
    let odd = format!("{}\nx", &head[..40]);
    std::fs::write(repo.root().join(&odd), "y").unwrap();
    std::fs::write(repo.root().join("b.txt"), "y").unwrap();
    repo.run(["add", "--", &odd, "b.txt"]).unwrap();
    repo.run([
        "-c",
        "user.name=A",
        "-c",
        "user.email=a@example.com",
        "commit",
        "-q",
        "-m",
        "fix: odd names",
    ])
    .unwrap();
    let (log, files) = repo
        .log_with_files(&Range::since(Some(&head), "HEAD"))
        .unwrap();
    assert_eq!(log.len(), 1);
    let mut got = files[0].clone();
    got.sort();
    let mut want = vec![odd, "b.txt".to_string()];
    want.sort();
    assert_eq!(got, want);
    let (empty, none) = repo
        .log_with_files(&Range::since(Some("HEAD"), "HEAD"))
        .unwrap();
    assert!(empty.is_empty() && none.is_empty());
}

/// What `git rev-parse <rev>^{commit}` says, run in `dir`.
fn git_commit_of(dir: &Path, rev: &str) -> String {
    let rev = format!("{rev}^{{commit}}");
    hub_testkit::git::line(dir, &["rev-parse", "--verify", "--end-of-options", &rev])
}

/// The id of the object `rev` names, from `git rev-parse`.
fn git_commit_of_object(dir: &Path, rev: &str) -> String {
    hub_testkit::git::line(dir, &["rev-parse", "--verify", "--end-of-options", rev])
}

/// `Repo::log` of the whole history, and what `git log` prints for it.
fn log_and_git_log(dir: &Path) -> (Vec<String>, Vec<String>) {
    let opened = Repo::open_resolving(dir, &["HEAD"]).unwrap();
    let ours = opened
        .repo
        .log(&Range::since(None, &opened.commits[0]), &[])
        .unwrap()
        .iter()
        .map(|c| format!("{} {}", c.id, c.parents))
        .collect();
    let theirs = hub_testkit::git::git(dir, &["log", "--format=%H %P", "HEAD"])
        .lines()
        .map(str::to_owned)
        .collect();
    (ours, theirs)
}

#[test]
fn logs_see_the_parents_git_sees_through_replace_refs_grafts_and_shallow_clones() {
    let (_d, repo) = repo();
    let root = repo.root().to_path_buf();
    let (ours, theirs) = log_and_git_log(&root);
    assert_eq!(ours.len(), 3);
    assert_eq!(ours, theirs);
    // A replace ref that drops the middle commit: git shows two commits, and so do we.
    repo.run(["replace", "--graft", "HEAD", "HEAD~2"]).unwrap();
    let (ours, theirs) = log_and_git_log(&root);
    assert_eq!(theirs.len(), 2);
    assert_eq!(ours, theirs);
    // The same replace ref once packed.
    repo.run(["pack-refs", "--all"]).unwrap();
    assert!(
        !root.join(".git/refs/replace").read_dir().unwrap().any(|e| e
            .unwrap()
            .file_type()
            .unwrap()
            .is_file())
    );
    let (ours, theirs) = log_and_git_log(&root);
    assert_eq!((ours.len(), &ours), (2, &theirs));
    repo.run(["replace", "-d", &git_commit_of(&root, "HEAD")])
        .unwrap();
    // A grafts file (deprecated, still honoured): HEAD becomes a root.
    let head = git_commit_of(&root, "HEAD");
    std::fs::write(root.join(".git/info/grafts"), format!("{head}\n")).unwrap();
    let (ours, theirs) = log_and_git_log(&root);
    assert_eq!(ours.len(), 1);
    assert_eq!(ours, theirs);
    std::fs::remove_file(root.join(".git/info/grafts")).unwrap();
    // A shallow clone stops where its history stops.
    let tmp = tempfile::tempdir().unwrap();
    let clone = tmp.path().join("shallow");
    let url = format!("file://{}", root.display());
    hub_testkit::git::git(
        tmp.path(),
        &["clone", "-q", "--depth", "2", &url, clone.to_str().unwrap()],
    );
    let (ours, theirs) = log_and_git_log(&clone);
    assert_eq!(ours.len(), 2);
    assert_eq!(ours, theirs);
}

/// The tags' days are the ones git's own `%(creatordate:short)` gives, in every case: a
/// lightweight tag (the committer's day in the committer's zone), an annotated one (the
/// tagger's), one whose zone moves the day, a tag of a tag, and a tag of a tree (left out).
#[test]
fn tag_days_are_the_days_git_gives() {
    let dir = tempfile::tempdir().unwrap();
    let git = |args: &[&str], date: &str| {
        hub_testkit::git::git_at(dir.path(), args, date);
    };
    git(&["init", "-q", "-b", "main"], "2024-01-01T00:00:00Z");
    git(
        &["commit", "-q", "--allow-empty", "-m", "feat: first"],
        "2024-03-01T23:30:00+0000",
    );
    git(&["tag", "light"], "2024-03-01T23:30:00+0000");
    // The same instant, two hours east: already the next day there.
    git(
        &["tag", "-a", "-m", "east", "annotated-east"],
        "2024-03-01T23:30:00+0000",
    );
    git(
        &["tag", "-a", "-m", "zone", "annotated-zoned"],
        "2024-03-02T01:30:00+0200",
    );
    git(
        &["tag", "-a", "-m", "nested", "nested", "annotated-zoned"],
        "2024-05-06T07:08:09-0700",
    );
    git(&["tag", "treetag", "HEAD^{tree}"], "2024-01-01T00:00:00Z");
    let repo = Repo::discover(dir.path()).unwrap();
    let ours: Vec<(String, String)> = repo
        .tags_with_dates()
        .unwrap()
        .into_iter()
        .map(|(t, day)| (t.name, day))
        .collect();
    let gits: Vec<(String, String)> = hub_testkit::git::git(
        dir.path(),
        &[
            "for-each-ref",
            "--format=%(refname:strip=2) %(creatordate:short)",
            "refs/tags",
        ],
    )
    .lines()
    .filter(|l| !l.starts_with("treetag "))
    .map(|l| {
        let (name, day) = l.split_once(' ').unwrap();
        (name.to_owned(), day.to_owned())
    })
    .collect();
    assert_eq!(ours, gits);
    assert!(ours.contains(&("annotated-zoned".into(), "2024-03-02".into())));
    assert!(ours.contains(&("light".into(), "2024-03-01".into())));
    assert!(ours.contains(&("nested".into(), "2024-05-06".into())));
}

/// A release tree made the project's way (`release.sh release-tree`): a commit on top of
/// `base` with `message`, off the branch, tagged `tag` (annotated).
fn release_tree(repo: &Repo, base: &str, tag: &str, message: &str) -> String {
    let tree = repo
        .run([
            "-c",
            "user.name=A",
            "-c",
            "user.email=a@example.com",
            "commit-tree",
            &format!("{base}^{{tree}}"),
            "-p",
            base,
            "-m",
            message,
        ])
        .unwrap();
    let tree = String::from_utf8(tree).unwrap().trim().to_string();
    repo.run([
        "-c",
        "user.name=A",
        "-c",
        "user.email=a@example.com",
        "tag",
        "-a",
        "-m",
        tag,
        tag,
        &tree,
    ])
    .unwrap();
    tree
}

#[test]
fn a_marked_release_tree_counts_at_its_first_parent() {
    let (_d, repo) = repo();
    let head = repo.rev_parse("HEAD").unwrap();
    let base = repo.rev_parse("HEAD~1").unwrap();
    let marked = release_tree(
        &repo,
        &base,
        "v0.2.0",
        &format!("chore(release): release tree for v0.2.0\n\nRelease-Tree-Of: {base}"),
    );
    // Another commit's id in the trailer, or none at all: not a release of anything here.
    let wrong = release_tree(
        &repo,
        &base,
        "v0.3.0",
        &format!("chore(release): release tree\n\nRelease-Tree-Of: {head}"),
    );
    let bare = release_tree(&repo, &base, "v0.4.0", "chore(release): release tree");
    // Two values, one of them right: not exactly the parent.
    let twice = release_tree(
        &repo,
        &base,
        "v0.5.0",
        &format!("chore: tree\n\nRelease-Tree-Of: {base}\nRelease-Tree-Of: {head}"),
    );
    let tree_object = String::from_utf8(repo.run(["rev-parse", "HEAD^{tree}"]).unwrap())
        .unwrap()
        .trim()
        .to_string();
    let marks = repo
        .release_tree_parents(&[&marked, &wrong, &bare, &twice, &head, &tree_object])
        .unwrap();
    assert_eq!(marks.len(), 1, "{marks:?}");
    assert_eq!(marks.get(&marked), Some(&base));

    let pick = |c: &[(&str, &str)]| repo.first_reachable(c.iter().copied(), &head).unwrap();
    // The highest tag is the marked tree: released at its parent.
    assert_eq!(
        pick(&[("v0.2.0", &marked), ("v0.1.1", &base)]),
        Some(Reached {
            index: 0,
            commit: base.clone()
        })
    );
    // Unmarked or wrongly marked trees stay unreachable, as any tag off the branch.
    let v010 = repo.rev_parse("v0.1.0").unwrap();
    for tree in [&wrong, &bare, &twice] {
        assert_eq!(
            pick(&[("v9", tree), ("v0.1.0", &v010)]),
            Some(Reached {
                index: 1,
                commit: v010.clone()
            })
        );
    }
    // Seen from before the parent, the tree is not released there either.
    assert_eq!(
        repo.first_reachable([("v0.2.0", marked.as_str())], &v010)
            .unwrap(),
        None
    );
    // Past the direct checks, the batch answers the same.
    let mut many: Vec<(&str, &str)> = vec![("v0.4.0", bare.as_str()); 10];
    many.push(("v0.2.0", &marked));
    assert_eq!(
        pick(&many),
        Some(Reached {
            index: 10,
            commit: base.clone()
        })
    );
    assert_eq!(
        repo.reached_from(&head, &[&base, &marked, &head]).unwrap(),
        [base.clone(), head.clone()].into_iter().collect()
    );
}
