use super::*;
use std::process::Command;

/// A real repository built with fixed dates.
fn repo() -> (tempfile::TempDir, Repo) {
    let dir = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let st = Command::new("git")
            .current_dir(dir.path())
            .args(args)
            .env("GIT_AUTHOR_DATE", "2024-01-02T03:04:05Z")
            .env("GIT_COMMITTER_DATE", "2024-01-02T03:04:05Z")
            .env("GIT_AUTHOR_NAME", "Ada")
            .env("GIT_AUTHOR_EMAIL", "ada@example.com")
            .env("GIT_COMMITTER_NAME", "Ada")
            .env("GIT_COMMITTER_EMAIL", "ada@example.com")
            .status()
            .unwrap();
        assert!(st.success(), "git {args:?}");
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
    let pick = |c: &[(&str, &str)]| repo.first_reachable(c.iter().copied(), &head).unwrap();
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
fn tag_refs_from_files_match_for_each_ref() {
    let (_d, repo) = repo();
    let common = find_common_dir(repo.root()).unwrap();
    let names = |refs: &[TagRef]| refs.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
    let loose = local_tag_refs(&common).unwrap();
    assert_eq!(names(&loose), ["v0.1.0", "v0.1.1"]);
    // The annotated tag's ref holds the tag object, the lightweight one the commit.
    let tags = repo.tags().unwrap();
    assert_eq!(loose[0].target, tags[0].commit);
    assert_ne!(loose[1].target, tags[1].commit);
    // Packed, plus a nested loose one that shadows nothing: same answer as git.
    repo.run(["pack-refs", "--all"]).unwrap();
    repo.run(["tag", "api/v2.0.0", "HEAD"]).unwrap();
    let mixed = local_tag_refs(&common).unwrap();
    assert_eq!(names(&mixed), ["api/v2.0.0", "v0.1.0", "v0.1.1"]);
    assert_eq!(mixed[2].target, loose[1].target);
    // A loose ref wins over its packed entry, as in git.
    repo.run(["tag", "-f", "v0.1.0", "HEAD"]).unwrap();
    let head = repo.rev_parse("HEAD").unwrap();
    let moved = local_tag_refs(&common).unwrap();
    assert_eq!(
        moved.iter().find(|t| t.name == "v0.1.0").unwrap().target,
        head
    );

    // One rev-parse: work tree, common dir, shallowness and peeled commits.
    let sub = repo.root().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let opened = Repo::open_resolving(&sub, &["HEAD", "refs/tags/v0.1.1"]).unwrap();
    assert_eq!(opened.repo.root(), repo.root());
    assert_eq!(std::fs::canonicalize(&opened.common_dir).unwrap(), common);
    assert!(!opened.shallow);
    assert_eq!(opened.commits, [head, tags[1].commit.clone()]);
    assert!(Repo::open_resolving(&sub, &["no-such-ref"]).is_err());
    assert!(Repo::open_resolving(&sub, &["--output=/tmp/x"]).is_err());
    let outside = tempfile::tempdir().unwrap();
    assert!(Repo::open_resolving(outside.path(), &["HEAD"]).is_err());
}

#[test]
fn common_dir_of_a_worktree_and_unusual_layouts() {
    let (_d, repo) = repo();
    let wt = tempfile::tempdir().unwrap();
    let path = wt.path().join("wt");
    repo.run([
        "worktree",
        "add",
        "-q",
        "--detach",
        path.to_str().unwrap(),
        "HEAD",
    ])
    .unwrap();
    let main_common = find_common_dir(repo.root()).unwrap();
    // A worktree's `.git` is a file; its refs are the main repository's.
    assert_eq!(find_common_dir(&path).unwrap(), main_common);
    assert_eq!(local_tag_refs(&main_common).unwrap().len(), 2);
    // A symbolic tag ref is not read by hand: ask git.
    std::fs::write(main_common.join("refs/tags/sym"), "ref: refs/tags/v0.1.0\n").unwrap();
    assert!(local_tag_refs(&main_common).is_none());
    // Its name is still listed: resolving it is git's job.
    assert!(
        local_tag_names(&main_common)
            .unwrap()
            .contains(&"sym".to_string())
    );
    // Nothing above a plain directory.
    let outside = tempfile::tempdir().unwrap();
    assert!(find_common_dir(outside.path()).is_none());
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
    let out = Command::new("git")
        .current_dir(dir)
        .args(["rev-parse", "--verify", "--end-of-options"])
        .arg(format!("{rev}^{{commit}}"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{rev}");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// `open_by_hand` answers exactly as git does for `revs`, from `dir`.
fn agrees_with_git(dir: &Path, revs: &[&str]) {
    for rev in revs {
        assert!(
            refs::open_by_hand(dir, &[rev]).is_some(),
            "read {rev} by hand"
        );
    }
    let opened = refs::open_by_hand(dir, revs).unwrap_or_else(|| panic!("read {revs:?}"));
    let expected: Vec<String> = revs.iter().map(|r| git_commit_of(dir, r)).collect();
    assert_eq!(opened.commits, expected, "{revs:?}");
    let by_git = Repo::open_resolving_with_git(dir, revs).unwrap();
    assert_eq!(opened.repo.root(), by_git.repo.root());
    assert_eq!(
        opened.common_dir,
        std::fs::canonicalize(&by_git.common_dir).unwrap()
    );
    assert_eq!(opened.shallow, by_git.shallow);
}

#[test]
fn refs_are_peeled_by_hand_exactly_as_git_peels_them() {
    let (_d, repo) = repo();
    let root = repo.root().to_path_buf();
    // A tag of a tag, and a tag whose message is far longer than the header we inflate.
    repo.run(["tag", "-a", "-m", "nested", "v0.2.0", "v0.1.1"])
        .unwrap();
    let long = "notes\n".repeat(4000);
    repo.run(["tag", "-a", "-m", &long, "v0.3.0", "HEAD~1"])
        .unwrap();
    let head = repo.rev_parse("HEAD").unwrap();
    let revs = [
        "HEAD",
        "refs/heads/main",
        "refs/tags/v0.1.0",
        "refs/tags/v0.1.1",
        "refs/tags/v0.2.0",
        "refs/tags/v0.3.0",
        head.as_str(),
    ];
    // Loose refs and loose objects.
    agrees_with_git(&root, &revs);
    let sub = root.join("deep/sub");
    std::fs::create_dir_all(&sub).unwrap();
    agrees_with_git(&sub, &revs);
    // Everything packed: objects through the pack index, refs with their peeled lines …
    repo.run(["gc", "-q"]).unwrap();
    // gc stores some of these commits as deltas of others: their kind is their base's.
    let packs = root.join(".git/objects/pack");
    let idx = std::fs::read_dir(&packs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "idx"))
        .unwrap();
    let verify = repo
        .run(["verify-pack", "-v", idx.to_str().unwrap()])
        .unwrap();
    let deltified_commits = String::from_utf8(verify)
        .unwrap()
        .lines()
        .filter(|l| l.split_whitespace().nth(1) == Some("commit"))
        .filter(|l| l.split_whitespace().count() > 5)
        .count();
    assert!(deltified_commits > 0, "a deltified commit to read");
    let packed_refs = root.join(".git/packed-refs");
    assert!(std::fs::read_to_string(&packed_refs).unwrap().contains('^'));
    agrees_with_git(&root, &revs);
    // … and without them (an older git's packed-refs): peeled through the pack.
    let text = std::fs::read_to_string(&packed_refs).unwrap();
    let unpeeled: String = text
        .lines()
        .filter(|l| !l.starts_with('^') && !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&packed_refs, unpeeled).unwrap();
    agrees_with_git(&root, &revs);
    // A detached HEAD.
    repo.run(["checkout", "-q", "--detach", "HEAD~1"]).unwrap();
    agrees_with_git(&root, &revs);

    // A tag of a tree is no commit: not answered by hand, and git refuses it too.
    repo.run(["tag", "-a", "-m", "tree", "treetag", "HEAD^{tree}"])
        .unwrap();
    assert!(refs::open_by_hand(&root, &["refs/tags/treetag"]).is_none());
    assert!(Repo::open_resolving(&root, &["refs/tags/treetag"]).is_err());
    // Unknown refs, short names and revision syntax are left to git.
    for rev in [
        "refs/tags/nope",
        "v0.1.0",
        "HEAD~1",
        "main",
        "refs/tags/../HEAD",
    ] {
        assert!(refs::open_by_hand(&root, &[rev]).is_none(), "{rev}");
    }
    assert_eq!(
        Repo::open_resolving(&root, &["HEAD~1"]).unwrap().commits,
        [git_commit_of(&root, "HEAD~1")]
    );
}

#[test]
fn worktrees_shallow_clones_and_unusual_configs_by_hand() {
    let (_d, repo) = repo();
    let root = repo.root().to_path_buf();
    let wt = tempfile::tempdir().unwrap();
    let path = wt.path().join("wt");
    let p = path.to_str().unwrap();
    repo.run(["worktree", "add", "-q", "--detach", p, "HEAD~2"])
        .unwrap();
    // The worktree's own HEAD, the main repository's refs.
    agrees_with_git(&path, &["HEAD", "refs/heads/main", "refs/tags/v0.1.1"]);
    assert_ne!(
        refs::open_by_hand(&path, &["HEAD"]).unwrap().commits,
        refs::open_by_hand(&root, &["HEAD"]).unwrap().commits
    );

    // A shallow clone says so.
    let clone = wt.path().join("shallow");
    let url = format!("file://{}", root.display());
    let st = Command::new("git")
        .args(["clone", "-q", "--depth", "1", &url, clone.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(st.success());
    agrees_with_git(&clone, &["HEAD"]);
    assert!(refs::open_by_hand(&clone, &["HEAD"]).unwrap().shallow);

    // core.worktree moves the work tree: git is asked.
    repo.run(["config", "core.worktree", &root.display().to_string()])
        .unwrap();
    assert!(refs::open_by_hand(&root, &["HEAD"]).is_none());
    repo.run(["config", "--unset", "core.worktree"]).unwrap();
    // So are alternates: the object may be elsewhere.
    let alternates = root.join(".git/objects/info/alternates");
    std::fs::write(&alternates, "/nonexistent\n").unwrap();
    assert!(refs::open_by_hand(&root, &["HEAD"]).is_none());
    std::fs::remove_file(&alternates).unwrap();
    agrees_with_git(&root, &["HEAD"]);
}

#[test]
fn sha256_repositories_are_read_by_hand_too() {
    let dir = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let st = Command::new("git")
            .current_dir(dir.path())
            .args(["-c", "user.name=Ada", "-c", "user.email=ada@example.com"])
            .args(args)
            .status()
            .unwrap();
        assert!(st.success(), "git {args:?}");
    };
    git(&["init", "-q", "--object-format=sha256", "-b", "main"]);
    git(&["commit", "-q", "--allow-empty", "-m", "feat: one"]);
    git(&["tag", "-a", "-m", "release", "v1.0.0"]);
    git(&["commit", "-q", "--allow-empty", "-m", "fix: two"]);
    let revs = ["HEAD", "refs/tags/v1.0.0"];
    agrees_with_git(dir.path(), &revs);
    git(&["gc", "-q"]);
    agrees_with_git(dir.path(), &revs);
    assert_eq!(
        refs::open_by_hand(dir.path(), &["HEAD"]).unwrap().commits[0].len(),
        64
    );
}

#[test]
fn tag_names_are_listed_once_whether_packed_loose_or_both() {
    let (_d, repo) = repo();
    let common = find_common_dir(repo.root()).unwrap();
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    // Loose only.
    assert_eq!(
        sorted(local_tag_names(&common).unwrap()),
        ["v0.1.0", "v0.1.1"]
    );
    // Packed only.
    repo.run(["pack-refs", "--all"]).unwrap();
    assert_eq!(
        sorted(local_tag_names(&common).unwrap()),
        ["v0.1.0", "v0.1.1"]
    );
    // Both: a packed tag moved (now loose too), and new loose ones, nested included.
    repo.run(["tag", "-f", "v0.1.0", "HEAD"]).unwrap();
    repo.run(["tag", "api/v2.0.0", "HEAD"]).unwrap();
    repo.run(["tag", "v0.2.0", "HEAD"]).unwrap();
    assert_eq!(
        sorted(local_tag_names(&common).unwrap()),
        ["api/v2.0.0", "v0.1.0", "v0.1.1", "v0.2.0"]
    );
}

#[test]
fn packed_refs_lines_are_found_by_their_exact_name() {
    let a = "a".repeat(40);
    let b = "b".repeat(40);
    let c = "c".repeat(40);
    let text = format!(
        "# pack-refs with: peeled fully-peeled sorted \n{a} refs/tags/v1.0\n^{c}\n{b} refs/tags/v1\n{c} refs/tags/x/v1\n{a} refs/tags/last"
    );
    assert_eq!(
        refs::packed_lookup(&text, "refs/tags/v1.0"),
        Some((a.as_str(), Some(c.as_str())))
    );
    // Not the longer name, nor a name ending the same way.
    assert_eq!(
        refs::packed_lookup(&text, "refs/tags/v1"),
        Some((b.as_str(), None))
    );
    assert_eq!(
        refs::packed_lookup(&text, "refs/tags/x/v1"),
        Some((c.as_str(), None))
    );
    assert_eq!(
        refs::packed_lookup(&text, "refs/tags/last"),
        Some((a.as_str(), None))
    );
    assert_eq!(refs::packed_lookup(&text, "refs/tags/v"), None);
    assert_eq!(refs::packed_lookup(&text, "tags/v1"), None);
    assert_eq!(refs::packed_lookup("", "refs/tags/v1"), None);
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
    let out = Command::new("git")
        .current_dir(dir)
        .args(["log", "--format=%H %P", "HEAD"])
        .output()
        .unwrap();
    let theirs = String::from_utf8(out.stdout)
        .unwrap()
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
    let st = Command::new("git")
        .args(["clone", "-q", "--depth", "2", &url, clone.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(st.success());
    let (ours, theirs) = log_and_git_log(&clone);
    assert_eq!(ours.len(), 2);
    assert_eq!(ours, theirs);
}
