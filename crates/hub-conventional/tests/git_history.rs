//! Reverts, squash-merge bodies and the counts on real git histories: each history is made
//! in the test with the `git` program (git's own `git revert`, GitHub's squash-merge
//! messages written as GitHub writes them), read back with `git log`, and decided.

use std::path::Path;

use hub_conventional::{
    Bump, BumpRules, Decision, Kind, RawCommit, ReleaseOptions, RevertStatus, analyze, decide,
};
use semver::Version;

/// A repository with a fixed identity and clock, isolated from the machine's git config.
struct Repo {
    dir: tempfile::TempDir,
    tick: u64,
}

impl Repo {
    /// `None` (and a skip) when git is not installed.
    fn new() -> Option<Repo> {
        if !hub_testkit::have_tool("git", "install git") {
            return None;
        }
        let r = Repo {
            dir: tempfile::tempdir().expect("tempdir"),
            tick: 0,
        };
        r.git(&["init", "-q", "-b", "main"]);
        Some(r)
    }

    fn git(&self, args: &[&str]) -> String {
        let date = format!("{} +0000", 1_704_067_200 + self.tick * 86_400);
        hub_testkit::git::git_at(self.dir.path(), args, &date)
    }

    /// A commit changing `file` (so that `git revert` has something to undo).
    fn commit(&mut self, file: &str, message: &str) -> String {
        self.tick += 1;
        let path = self.dir.path().join(file);
        let old = std::fs::read_to_string(&path).unwrap_or_default();
        std::fs::write(&path, format!("{old}{}\n", self.tick)).expect("write");
        self.git(&["add", "--", file]);
        self.git(&["commit", "-q", "-m", message]);
        self.head()
    }

    /// git's own `git revert` of `id`, with git's default message.
    fn revert(&mut self, id: &str) -> String {
        self.tick += 1;
        self.git(&["revert", "--no-edit", id]);
        self.head()
    }

    fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"]).trim().to_owned()
    }

    fn tag(&self, name: &str) {
        self.git(&["tag", name]);
    }

    /// `git log -z` of `range`: ids and full messages, newest first.
    fn log(&self, range: &str) -> String {
        self.git(&["log", "-z", "--format=%H%x1f%B", range])
    }

    fn message(&self, id: &str) -> String {
        self.git(&["log", "-1", "--format=%B", id])
    }
}

fn raw(log: &str) -> Vec<RawCommit<'_>> {
    log.split('\0')
        .filter(|r| !r.trim().is_empty())
        .map(|r| {
            let (id, message) = r.split_once('\x1f').expect("a record");
            RawCommit {
                id: id.trim_start_matches('\n'),
                message: message.trim_end(),
            }
        })
        .collect()
}

fn decided<'a>(log: &'a [RawCommit<'a>], rules: &BumpRules) -> Decision<'a> {
    let analyzed = analyze(log, rules);
    let current = Version::new(1, 2, 0);
    let d = decide(
        &analyzed,
        Some(&current),
        std::slice::from_ref(&current),
        &ReleaseOptions::default(),
    )
    .expect("a decision");
    assert!(d.counts.adds_up(), "{:?}", d.counts);
    d
}

fn next(d: &Decision<'_>) -> String {
    d.next
        .as_ref()
        .map_or_else(|| "none".to_owned(), ToString::to_string)
}

#[test]
fn a_plain_git_revert_of_a_released_fix_releases_a_patch_and_is_counted() {
    let Some(mut r) = Repo::new() else { return };
    let fix = r.commit("a", "fix(types): accept null");
    r.tag("v1.2.0");
    r.revert(&fix);
    assert_eq!(
        r.message("HEAD").lines().next(),
        Some("Revert \"fix(types): accept null\"")
    );
    let log = r.log("v1.2.0..HEAD");
    let log = raw(&log);
    let analyzed = analyze(&log, &BumpRules::default());
    assert_eq!(analyzed[0].kind, Kind::GitRevert);
    assert_eq!(analyzed[0].revert_status, RevertStatus::Outside);
    let d = decided(&log, &BumpRules::default());
    assert_eq!(next(&d), "1.2.1");
    assert_eq!(
        (d.counts.total, d.counts.git_reverts, d.counts.conventional),
        (1, 1, 0)
    );
    // `revert=none` ignores such reverts, as documented.
    let quiet = BumpRules::default().with("revert", Bump::None);
    assert_eq!(next(&decided(&log, &quiet)), "none");
}

#[test]
fn a_squash_merged_revert_with_the_pull_request_number_is_a_revert() {
    let Some(mut r) = Repo::new() else { return };
    let fix = r.commit("a", "fix(types): accept null (#6700)");
    r.tag("v1.2.0");
    // GitHub's revert button, squash-merged: ` (#6729)` after the closing quote, git's
    // revert line in the body.
    r.commit(
        "a",
        &format!("Revert \"fix(types): accept null\" (#6729)\n\nThis reverts commit {fix}."),
    );
    let log = r.log("v1.2.0..HEAD");
    let log = raw(&log);
    let analyzed = analyze(&log, &BumpRules::default());
    assert_eq!(analyzed[0].kind, Kind::GitRevert);
    assert_eq!(
        analyzed[0].revert.as_ref().and_then(|t| t.subject),
        Some("fix(types): accept null")
    );
    assert_eq!(next(&decided(&log, &BumpRules::default())), "1.2.1");

    // In one range, with no sha in the body: paired by subject, `(#N)` ignored on both
    // sides, and both cancel.
    let feat = r.commit("b", "feat(api): search (#6800)");
    r.commit("b", "Revert \"feat(api): search\" (#6801)");
    let log = r.log(&format!("{feat}~1..HEAD"));
    let log = raw(&log);
    let analyzed = analyze(&log, &BumpRules::default());
    assert!(analyzed[0].is_cancelled() && analyzed[1].is_cancelled());
    assert_eq!(next(&decided(&log, &BumpRules::default())), "none");
}

#[test]
fn nested_reverts_bring_the_original_back() {
    let Some(mut r) = Repo::new() else { return };
    r.tag_base();
    let feat = r.commit("a", "feat: search");
    let revert = r.revert(&feat);
    // git 2.43+ writes `Reapply "…"` for a revert of a revert; older gits and people write
    // `Revert "Revert "…""`. Both bring `feat: search` back.
    let reapply = r.revert(&revert);
    let first = r.message(&reapply);
    assert!(
        first.starts_with("Reapply \"feat: search\"") || first.starts_with("Revert \"Revert"),
        "{first}"
    );
    let log = r.log("base..HEAD");
    let log = raw(&log);
    let analyzed = analyze(&log, &BumpRules::default());
    assert_eq!(analyzed[2].id, feat);
    assert_eq!(analyzed[2].revert_status, RevertStatus::None);
    assert_eq!(next(&decided(&log, &BumpRules::default())), "1.3.0");

    // The nested form written by hand, without any sha: paired by subject.
    let fix = r.commit("b", "fix: crash");
    r.commit("b", "Revert \"fix: crash\"");
    r.commit("b", "Revert \"Revert \"fix: crash\"\"");
    let log = r.log(&format!("{fix}~1..HEAD"));
    let log = raw(&log);
    let analyzed = analyze(&log, &BumpRules::default());
    assert_eq!(
        analyzed[2].revert_status,
        RevertStatus::None,
        "{analyzed:#?}"
    );
    assert!(analyzed[0].is_cancelled() && analyzed[1].is_cancelled());
    assert_eq!(next(&decided(&log, &BumpRules::default())), "1.2.1");
}

#[test]
fn any_message_with_git_s_revert_line_is_a_revert() {
    let Some(mut r) = Repo::new() else { return };
    r.tag_base();
    let feat = r.commit("a", "feat: cache");
    r.commit(
        "a",
        &format!("Undo the cache for now\n\nThis reverts commit {feat}."),
    );
    let log = r.log("base..HEAD");
    let log = raw(&log);
    let analyzed = analyze(&log, &BumpRules::default());
    assert_eq!(analyzed[0].kind, Kind::GitRevert);
    assert!(analyzed[0].is_cancelled() && analyzed[1].is_cancelled());
    let d = decided(&log, &BumpRules::default());
    assert_eq!((next(&d), d.counts.cancelled), ("none".to_owned(), 2));
}

/// GitHub's default squash message: the pull request title and number, then each squashed
/// commit as a `* ` bullet with its body under it.
const SQUASH: &str = "Update the parser (#12)\n\n\
* feat(parser): read tabs\n\n\
* not a conventional line\n\
  with a second line\n\n\
* fix: crash on empty input\n\n\
Some body text.\n\n\
BREAKING CHANGE: empty input is an error now\n\n\
Co-authored-by: Bob <bob@example.com>";

#[test]
fn squash_bodies_count_each_conventional_bullet() {
    let Some(mut r) = Repo::new() else { return };
    r.tag_base();
    r.commit("a", SQUASH);
    r.commit("a", "fix(ci): pin node (#13)\n\n* wip\n\n* fixup! wip");
    let log = r.log("base..HEAD");
    let log = raw(&log);

    // Off (default): the title is not conventional, the body is not read.
    let d = decided(&log, &BumpRules::default());
    assert_eq!(next(&d), "1.2.1");
    assert_eq!((d.counts.non_conventional, d.counts.squashed), (1, 0));

    // On: every bullet with a conventional header counts; the malformed ones are skipped,
    // and the commit whose bullets are all malformed still counts as its own header says.
    let rules = BumpRules {
        squash_bodies: true,
        ..BumpRules::default()
    };
    let analyzed = analyze(&log, &rules);
    let squashed: Vec<(&str, bool)> = analyzed[1]
        .squashed
        .iter()
        .map(|s| (s.commit.description, s.commit.breaking))
        .collect();
    assert_eq!(
        squashed,
        [("read tabs", false), ("crash on empty input", true)]
    );
    assert_eq!(
        analyzed[1].squashed[1].commit.breaking_notes(),
        ["empty input is an error now"]
    );
    assert_eq!(
        (analyzed[0].bump, analyzed[0].squashed.len()),
        (Bump::Patch, 0)
    );
    let d = decided(&log, &rules);
    assert_eq!(next(&d), "2.0.0");
    assert!(d.breaking);
    assert_eq!(
        (d.counts.total, d.counts.conventional, d.counts.squashed),
        (2, 1, 2)
    );
}

#[test]
fn counts_add_up_for_every_kind_of_commit() {
    let Some(mut r) = Repo::new() else { return };
    r.tag_base();
    let fix = r.commit("a", "fix: one");
    r.commit("readme", "update readme");
    r.git(&["checkout", "-q", "-b", "topic"]);
    r.commit("c", "feat: two");
    r.git(&["checkout", "-q", "main"]);
    r.tick += 1;
    r.git(&[
        "merge",
        "-q",
        "--no-ff",
        "-m",
        "Merge branch 'topic'",
        "topic",
    ]);
    r.revert(&fix);
    let log = r.log("base..HEAD");
    let log = raw(&log);
    let d = decided(&log, &BumpRules::default());
    let c = d.counts;
    assert_eq!(
        (
            c.total,
            c.conventional,
            c.non_conventional,
            c.git_reverts,
            c.merges,
            c.cancelled
        ),
        (5, 2, 1, 1, 1, 2)
    );
    assert_eq!(next(&d), "1.3.0");
}

impl Repo {
    /// A first commit tagged `base`, where the ranges above start.
    fn tag_base(&mut self) {
        self.commit("base", "chore: start");
        self.tag("base");
    }
}

#[test]
fn the_test_log_reader_reads_what_git_wrote() {
    let Some(mut r) = Repo::new() else { return };
    let id = r.commit("a", "feat: x\n\nbody");
    let log = r.log("HEAD");
    let log = raw(&log);
    assert_eq!(
        log,
        [RawCommit {
            id: &id,
            message: "feat: x\n\nbody"
        }]
    );
    assert!(Path::new(&r.dir.path().join("a")).exists());
}
