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
use std::path::Path;
use std::process::{Command, Stdio};

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
}
