//! Temporary git repositories, and git run the same way in every test: the `git` program in a
//! clean environment — no system or user configuration, no variable of the caller's (a
//! `GIT_DIR` of a hook, a `GIT_AUTHOR_DATE` of a shell), git's messages in English
//! (`LC_ALL=C`) — as a fixed author and committer
//! (`Ada <ada@example.com>`) at a fixed time unless the test gives one. The repository's own
//! configuration (`git config` in the test) still applies, as it would for a user.
//!
//! ```no_run
//! let repo = hub_testkit::git::init();
//! std::fs::write(repo.path().join("a.txt"), "a\n").unwrap();
//! hub_testkit::git::git(repo.path(), &["add", "a.txt"]);
//! hub_testkit::git::git_at(repo.path(), &["commit", "-q", "-m", "feat: a"], "1700000000 +0000");
//! let head = hub_testkit::git::git(repo.path(), &["rev-parse", "HEAD"]);
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

/// The author's and committer's name.
pub const NAME: &str = "Ada";
/// The author's and committer's e-mail address.
pub const EMAIL: &str = "ada@example.com";
/// The time of every commit and tag a test does not date itself (2024-01-02T03:04:05Z).
pub const DATE: &str = "1704164645 +0000";

/// `git` in `dir`, in the clean environment described above, dated `date` (any form git
/// reads in `GIT_COMMITTER_DATE`). Add arguments, variables or input and run it.
#[must_use]
pub fn command(dir: &Path, date: &str) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("LC_ALL", "C")
        .env("GIT_AUTHOR_NAME", NAME)
        .env("GIT_AUTHOR_EMAIL", EMAIL)
        .env("GIT_COMMITTER_NAME", NAME)
        .env("GIT_COMMITTER_EMAIL", EMAIL)
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date);
    cmd
}

/// Runs `cmd` with `input` on its standard input (none: an empty one) and returns its
/// standard output.
///
/// # Panics
///
/// When git cannot start or fails: the message holds the arguments and git's stderr.
pub fn run(cmd: &mut Command, input: Option<&[u8]>) -> String {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("git {:?} does not start: {e}", cmd.get_args()));
    let mut stdin = child.stdin.take().expect("because stdin is piped");
    // A command that does not read its input may have exited already: a broken pipe here is
    // its answer, which the status below tells.
    let _ = stdin.write_all(input.unwrap_or_default());
    drop(stdin);
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("git {:?}: {e}", cmd.get_args()));
    assert!(
        out.status.success(),
        "git {:?}: {}",
        cmd.get_args(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("because git's output here is UTF-8")
}

/// `git args…` in `dir` at [`DATE`]; its standard output.
///
/// # Panics
///
/// When git fails (see [`run`]).
pub fn git(dir: &Path, args: &[&str]) -> String {
    git_at(dir, args, DATE)
}

/// `git args…` in `dir`, dated `date`; its standard output.
///
/// # Panics
///
/// When git fails (see [`run`]).
pub fn git_at(dir: &Path, args: &[&str], date: &str) -> String {
    run(command(dir, date).args(args), None)
}

/// A new repository in a temporary folder (removed when the value is dropped): `git init`
/// with `main` as its branch.
///
/// # Panics
///
/// When no temporary folder can be made or git fails.
#[must_use]
pub fn init() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("because the temporary folder is writable");
    git(dir.path(), &["init", "-q", "-b", "main"]);
    dir
}

/// [`git_at`]'s output without its trailing newline: for answers of one line (an id, a
/// count) and for text a test searches.
///
/// # Panics
///
/// When git fails (see [`run`]).
pub fn line_at(dir: &Path, args: &[&str], date: &str) -> String {
    let mut out = git_at(dir, args, date);
    out.truncate(out.trim_end().len());
    out
}

/// [`line_at`] at [`DATE`].
///
/// # Panics
///
/// When git fails (see [`run`]).
pub fn line(dir: &Path, args: &[&str]) -> String {
    line_at(dir, args, DATE)
}

/// A clock for histories whose log order must be their commit order: each [`Clock::tick`]
/// is one minute after the one before. A `static` serves a whole test binary.
///
/// ```no_run
/// static CLOCK: hub_testkit::git::Clock = hub_testkit::git::Clock::starting_at(1_700_000_000);
/// let repo = hub_testkit::git::init();
/// hub_testkit::git::git_at(repo.path(), &["commit", "-q", "--allow-empty", "-m", "a"], &CLOCK.tick());
/// ```
#[derive(Debug)]
pub struct Clock {
    next: AtomicU64,
}

impl Clock {
    /// A clock whose first tick is `secs` (Unix time, UTC).
    #[must_use]
    pub const fn starting_at(secs: u64) -> Clock {
        Clock {
            next: AtomicU64::new(secs),
        }
    }

    /// The next time, in the form git reads (`<secs> +0000`); the clock moves on a minute.
    #[must_use]
    pub fn tick(&self) -> String {
        format!("{} +0000", self.next.fetch_add(60, Ordering::Relaxed))
    }
}

/// Writes each `(path, text)` of `files` below `dir` (making folders), stages everything
/// (`git add -A`) and commits it with `message` at `date` — an empty commit when nothing
/// changed. Returns the new commit's id.
///
/// # Panics
///
/// When a file cannot be written or git fails.
pub fn commit_files_at(dir: &Path, files: &[(&str, &str)], message: &str, date: &str) -> String {
    for (path, text) in files {
        write(dir, path, text);
    }
    git_at(dir, &["add", "-A"], date);
    git_at(dir, &["commit", "-q", "--allow-empty", "-m", message], date);
    line_at(dir, &["rev-parse", "HEAD"], date)
}

/// A commit changing each of `files` below `dir`: `message` and a newline appended to it
/// (made with its folders when new) and the file staged, then committed with `message` at
/// `date` (an empty commit when `files` is empty). Returns the new commit's id.
///
/// # Panics
///
/// When a file cannot be written or git fails.
pub fn append_and_commit_at(dir: &Path, files: &[&str], message: &str, date: &str) -> String {
    for file in files {
        let old = std::fs::read_to_string(dir.join(file)).unwrap_or_default();
        write(dir, file, &format!("{old}{message}\n"));
        git_at(dir, &["add", "--", file], date);
    }
    git_at(dir, &["commit", "-q", "--allow-empty", "-m", message], date);
    line_at(dir, &["rev-parse", "HEAD"], date)
}

fn write(dir: &Path, path: &str, text: &str) {
    let path = dir.join(path);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .unwrap_or_else(|e| panic!("cannot make {}: {e}", parent.display()));
    }
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// A release tree as hub-actions' release makes one (`.github/release/release.sh
/// release-tree`): a commit on top of `base` whose tree is `base`'s plus
/// `actions/install/release.env` (`HUB_RELEASE_VERSION=<tags[0] without a v>`), with the
/// subject `chore(release): release tree for <tags[0]>` and `body` as its second paragraph
/// (`Release-Tree-Of: <base>` marks it; anything else leaves it unmarked), dated `date`;
/// each of `tags` (annotated) is made or moved there. Plumbing only: no branch, the work
/// tree and the index stay as they are. Returns the tree commit's id.
///
/// # Panics
///
/// When `tags` is empty or git fails.
pub fn release_tree_at(dir: &Path, base: &str, tags: &[&str], body: &str, date: &str) -> String {
    let first = tags.first().expect("a release tree has a tag");
    let env = format!("HUB_RELEASE_VERSION={}\n", first.trim_start_matches('v'));
    let blob = run(
        command(dir, date).args(["hash-object", "-w", "--stdin"]),
        Some(env.as_bytes()),
    );
    let scratch = tempfile::tempdir().expect("because the temporary folder is writable");
    let index = scratch.path().join("index");
    let with_index = |args: &[&str]| {
        let mut out = run(
            command(dir, date).env("GIT_INDEX_FILE", &index).args(args),
            None,
        );
        out.truncate(out.trim_end().len());
        out
    };
    with_index(&["read-tree", base]);
    let cacheinfo = format!("100644,{},actions/install/release.env", blob.trim_end());
    with_index(&["update-index", "--add", "--cacheinfo", &cacheinfo]);
    let tree = with_index(&["write-tree"]);
    let subject = format!("chore(release): release tree for {first}");
    let commit = line_at(
        dir,
        &["commit-tree", &tree, "-p", base, "-m", &subject, "-m", body],
        date,
    );
    for tag in tags {
        git_at(dir, &["tag", "-f", "-a", "-m", tag, tag, &commit], date);
    }
    commit
}

/// A `git` first on a child's `PATH` that records each process it starts (its arguments, in
/// a log file) and then runs the real git: to count the git processes a program starts.
/// Only a child given [`Spy::path`] sees it.
#[derive(Debug)]
pub struct Spy {
    bin: PathBuf,
    log: PathBuf,
}

impl Spy {
    /// The wrapper in `dir/bin/git`, logging to `dir/git.log`.
    ///
    /// # Panics
    ///
    /// When no git is on `PATH` or the wrapper cannot be written.
    #[must_use]
    pub fn new(dir: &Path) -> Spy {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let real = std::env::split_paths(&path)
            .map(|d| d.join("git"))
            .find(|p| p.is_file())
            .expect("because git is on PATH");
        let bin = dir.join("bin");
        let log = dir.join("git.log");
        std::fs::create_dir_all(&bin).expect("because the folder is writable");
        let wrapper = bin.join("git");
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
                log.display(),
                real.display()
            ),
        )
        .expect("because the folder is writable");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755))
                .expect("because the wrapper is ours");
        }
        Spy { bin, log }
    }

    /// The `PATH` for the child: the wrapper's folder, then this process's `PATH`.
    ///
    /// # Panics
    ///
    /// When a folder of `PATH` holds the separator (it could not be one then).
    #[must_use]
    pub fn path(&self) -> std::ffi::OsString {
        let path = std::env::var_os("PATH").unwrap_or_default();
        std::env::join_paths(std::iter::once(self.bin.clone()).chain(std::env::split_paths(&path)))
            .expect("because PATH was one")
    }

    /// The subcommands of the processes started since the last call (or since the spy was
    /// made), in order: each process's first argument after `-C <dir>`, `-c <setting>` and
    /// other options. The log starts again empty.
    #[must_use]
    pub fn take(&self) -> Vec<String> {
        let logged = std::fs::read_to_string(&self.log).unwrap_or_default();
        let _ = std::fs::remove_file(&self.log);
        logged.lines().map(subcommand).collect()
    }
}

fn subcommand(args: &str) -> String {
    let mut words = args.split(' ');
    while let Some(word) = words.next() {
        match word {
            "-C" | "-c" => {
                words.next();
            }
            w if w.starts_with('-') => {}
            w => return w.to_string(),
        }
    }
    String::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_are_made_by_the_fixed_author_at_the_fixed_or_given_time() {
        let repo = init();
        std::fs::write(repo.path().join("a.txt"), "a\n").expect("writes");
        git(repo.path(), &["add", "a.txt"]);
        git(repo.path(), &["commit", "-q", "-m", "feat: a"]);
        git_at(
            repo.path(),
            &["commit", "-q", "--allow-empty", "-m", "fix: b"],
            "1700000000 +0000",
        );
        let log = git(repo.path(), &["log", "--format=%an <%ae> %at %ct %s"]);
        assert_eq!(
            log,
            "Ada <ada@example.com> 1700000000 1700000000 fix: b\n\
             Ada <ada@example.com> 1704164645 1704164645 feat: a\n"
        );
        assert_eq!(git(repo.path(), &["branch", "--show-current"]), "main\n");
    }

    #[test]
    fn the_callers_environment_does_not_reach_git_and_input_does() {
        // A variable of the test process that would point git elsewhere is not passed on.
        let repo = init();
        let mut cmd = command(repo.path(), DATE);
        let out = run(cmd.args(["hash-object", "--stdin"]), Some(b"hello\n"));
        assert_eq!(out, "ce013625030ba8dba906f756967f9e9ca394464a\n");
        let vars = run(command(repo.path(), DATE).args(["var", "-l"]), None);
        assert!(!vars.contains("GIT_DIR"), "{vars}");
        assert!(
            vars.contains("GIT_AUTHOR_IDENT=Ada <ada@example.com> 1704164645 +0000"),
            "{vars}"
        );
        let failed = std::panic::catch_unwind(|| git(repo.path(), &["rev-parse", "no-such-ref"]))
            .expect_err("a failing git fails the test");
        let message = failed
            .downcast_ref::<String>()
            .expect("a formatted message");
        assert!(message.contains("no-such-ref"), "{message}");
    }

    #[test]
    fn the_clock_ticks_a_minute_and_files_are_committed_written_or_appended() {
        let clock = Clock::starting_at(1_700_000_000);
        assert_eq!(clock.tick(), "1700000000 +0000");
        assert_eq!(clock.tick(), "1700000060 +0000");
        let repo = init();
        let first = commit_files_at(
            repo.path(),
            &[("a/b.txt", "b\n"), ("c.txt", "c\n")],
            "feat: b and c",
            &clock.tick(),
        );
        assert_eq!(line(repo.path(), &["rev-parse", "HEAD"]), first);
        assert_eq!(line(repo.path(), &["show", "HEAD:a/b.txt"]), "b");
        let second = append_and_commit_at(
            repo.path(),
            &["a/b.txt", "d/e.txt"],
            "fix: e",
            &clock.tick(),
        );
        assert_eq!(git(repo.path(), &["show", "HEAD:a/b.txt"]), "b\nfix: e\n");
        assert_eq!(git(repo.path(), &["show", "HEAD:d/e.txt"]), "fix: e\n");
        assert_eq!(line(repo.path(), &["rev-parse", "HEAD^"]), first);
        let log = line(repo.path(), &["log", "--format=%H %ct"]);
        assert_eq!(log, format!("{second} 1700000180\n{first} 1700000120"));
        // Nothing to stage: still a commit.
        let empty = commit_files_at(repo.path(), &[], "chore: nothing", DATE);
        assert_eq!(line(repo.path(), &["rev-parse", "HEAD^"]), second);
        assert_ne!(empty, second);
    }

    #[test]
    fn a_release_tree_is_a_tagged_commit_off_the_branch_with_the_release_env() {
        let repo = init();
        let base = commit_files_at(repo.path(), &[("a.txt", "a\n")], "feat: a", DATE);
        let trailer = format!("Release-Tree-Of: {base}");
        let tree = release_tree_at(repo.path(), &base, &["v1.2.0", "v1"], &trailer, DATE);
        assert_eq!(
            line(repo.path(), &["rev-parse", "HEAD"]),
            base,
            "the branch stays"
        );
        assert_eq!(line(repo.path(), &["status", "--porcelain"]), "");
        assert_eq!(line(repo.path(), &["rev-parse", &format!("{tree}^")]), base);
        for tag in ["v1.2.0", "v1"] {
            assert_eq!(
                line(repo.path(), &["rev-parse", &format!("{tag}^{{commit}}")]),
                tree
            );
            assert_eq!(line(repo.path(), &["cat-file", "-t", tag]), "tag");
        }
        assert_eq!(
            git(
                repo.path(),
                &["show", &format!("{tree}:actions/install/release.env")]
            ),
            "HUB_RELEASE_VERSION=1.2.0\n"
        );
        assert_eq!(line(repo.path(), &["show", &format!("{tree}:a.txt")]), "a");
        assert_eq!(
            line(repo.path(), &["log", "-1", "--format=%B", &tree]),
            format!("chore(release): release tree for v1.2.0\n\n{trailer}")
        );
        // Moved when made again on another base.
        let next = commit_files_at(repo.path(), &[], "fix: b", DATE);
        let again = release_tree_at(repo.path(), &next, &["v1.2.0"], "unmarked", DATE);
        assert_eq!(line(repo.path(), &["rev-parse", "v1.2.0^{commit}"]), again);
    }

    #[cfg(unix)]
    #[test]
    fn the_spy_counts_a_childs_git_processes_by_subcommand() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let repo = init();
        let spy = Spy::new(dir.path());
        let script = format!(
            "git -C '{0}' -c core.abbrev=7 rev-parse HEAD >/dev/null 2>&1; git --no-pager -C '{0}' status -s >/dev/null",
            repo.path().display()
        );
        let status = Command::new("sh")
            .args(["-c", &script])
            .env("PATH", spy.path())
            .status()
            .expect("sh runs");
        assert!(status.success());
        assert_eq!(spy.take(), ["rev-parse", "status"]);
        assert_eq!(spy.take(), Vec::<String>::new(), "the log starts again");
        // This process's git is not the spy's.
        git(repo.path(), &["status", "-s"]);
        assert_eq!(spy.take(), Vec::<String>::new());
    }
}
