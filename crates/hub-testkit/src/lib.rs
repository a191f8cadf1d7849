//! Test support for the whole workspace — a dev-dependency only, never linked into an
//! action binary.
//!
//! **The skip rule.** A test that cannot run (a tool or a data set is missing) calls
//! [`skip`]: the reason goes to stderr, where `cargo test` shows it, and when the `CI`
//! variable is set the test fails instead — CI installs everything every test needs, so a
//! skip there is a broken set-up, never a pass. A variable that names a path which does not
//! exist (`HUB_PEER_SUITES`, `HUB_GITHUB_OPENAPI`) is a mistake, not an absence: it fails
//! the test everywhere.
//!
//! **The rest** is what tests used to write for themselves: temporary git repositories and
//! git under a clean environment, with commits, release trees and a process-counting `git` ([`git`]), loopback HTTP servers ([`http`]), seeded random
//! numbers ([`rng`]), a built binary run under a clean environment ([`bin`]), a real
//! Prometheus ([`prometheus`]), a private Docker engine ([`docker`]) and an sshd ([`sshd`]).

use std::path::{Path, PathBuf};

pub mod bin;
pub mod docker;
pub mod git;
pub mod http;
pub mod prometheus;
pub mod rng;
pub mod sshd;

/// Whether this run is CI's: `CI` set to anything but empty, `0` or `false`.
#[must_use]
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false" | "FALSE" | "False"))
}

/// Records that the calling test cannot run, and why: prints `skipped: <reason> (<file>:<line>)`
/// — the caller's place, so the line says which test skipped — on the process's stderr (past the harness's capture, so `cargo test` shows it for a passing
/// test too), and under CI fails the test. Callers return right after it.
///
/// ```no_run
/// if !std::path::Path::new("/usr/sbin/sshd").exists() {
///     hub_testkit::skip("sshd is not installed (apt-get install openssh-server)");
///     return;
/// }
/// ```
///
/// # Panics
///
/// When `CI` is set: a test must not skip in CI.
#[track_caller]
pub fn skip(reason: &str) {
    skip_in(reason, in_ci(), &mut std::io::stderr());
}

/// [`skip`] with the CI question answered by the caller.
///
/// The line goes to `out` — the process's stderr, straight: the test harness captures
/// `eprintln!` and shows it only for a failing test, which would hide a passing test's skip.
#[track_caller]
fn skip_in(reason: &str, ci: bool, out: &mut dyn std::io::Write) {
    let at = std::panic::Location::caller();
    let _ = writeln!(out, "skipped: {reason} ({}:{})", at.file(), at.line());
    assert!(!ci, "skipped under CI, which must run every test: {reason}");
}

/// The folder a path variable names, checked: `Some(path)` when `var` is set and the path
/// exists; `None` when `var` is unset and `default` (if any) does not exist either, after
/// [`skip`] with `what` and how to set it.
///
/// # Panics
///
/// When `var` is set but names nothing (a typo must not look like a pass), or under CI when
/// the data is absent.
#[track_caller]
#[must_use]
pub fn path_from_env(var: &str, default: Option<&Path>, what: &str) -> Option<PathBuf> {
    path_from(
        var,
        std::env::var_os(var),
        default,
        what,
        in_ci(),
        &mut std::io::stderr(),
    )
}

/// [`path_from_env`] with the variable's value, the CI question and the skip's output given.
/// Every call on the way to [`skip_in`] is a direct call of a `#[track_caller]` function (no
/// closure or function pointer, which would stop the caller's location there), so a skip or
/// a failure names the test that asked.
#[track_caller]
fn path_from(
    var: &str,
    value: Option<std::ffi::OsString>,
    default: Option<&Path>,
    what: &str,
    ci: bool,
    out: &mut dyn std::io::Write,
) -> Option<PathBuf> {
    if let Some(value) = value.filter(|v| !v.is_empty()) {
        let path = PathBuf::from(value);
        assert!(
            path.exists(),
            "{var} is set to `{}`, which does not exist",
            path.display()
        );
        return Some(path);
    }
    let reason = match default {
        Some(path) if path.exists() => return Some(path.to_owned()),
        Some(path) => format!("{what} not found at {} (set {var})", path.display()),
        None => format!("{what} not found (set {var})"),
    };
    skip_in(&reason, ci, out);
    None
}

/// The peer suites: `HUB_PEER_SUITES`, else `../shared/peer-suites` beside the repository.
/// See [`path_from_env`] for the absent and the wrong cases.
#[track_caller]
#[must_use]
pub fn peer_suites() -> Option<PathBuf> {
    let default = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/peer-suites");
    path_from_env("HUB_PEER_SUITES", Some(&default), "peer suites")
}

/// Whether `program --version` runs; [`skip`]s with `install` (how to get it) when not.
#[track_caller]
#[must_use]
pub fn have_tool(program: &str, install: &str) -> bool {
    let ok = std::process::Command::new(program)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        skip(&format!("`{program}` is not installed ({install})"));
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skip_fails_under_ci_and_only_there() {
        let mut said = Vec::new();
        let line = line!() + 1;
        skip_in("a tool is missing", false, &mut said);
        assert_eq!(
            String::from_utf8(said).expect("utf-8"),
            format!("skipped: a tool is missing ({}:{line})\n", file!())
        );
        let failed =
            std::panic::catch_unwind(|| skip_in("a tool is missing", true, &mut Vec::new()))
                .expect_err("a skip under CI fails the test");
        let message = failed
            .downcast_ref::<String>()
            .expect("because assert! formats its message");
        assert!(message.contains("a tool is missing"), "{message}");
    }

    #[test]
    fn a_path_variable_that_names_nothing_is_an_error_not_a_skip() {
        // Unset and absent: a skip, with the variable to set.
        // The skip names this test's line, not the kit's: the caller's location is carried
        // through to the skip.
        let mut skipped = Vec::new();
        let line = line!() + 1;
        let found = path_from(
            "HUB_PEER_SUITES",
            None,
            Some(Path::new("/nonexistent/peer-suites")),
            "peer suites",
            false,
            &mut skipped,
        );
        assert_eq!(found, None);
        assert_eq!(
            String::from_utf8(skipped).expect("utf-8"),
            format!(
                "skipped: peer suites not found at /nonexistent/peer-suites (set HUB_PEER_SUITES) ({}:{line})\n",
                file!()
            )
        );
        // Set, but to a path that does not exist: a failure everywhere.
        let wrong = std::panic::catch_unwind(|| {
            path_from(
                "HUB_PEER_SUITES",
                Some("/nonexistent/peer-suitez".into()),
                None,
                "peer suites",
                false,
                &mut Vec::new(),
            )
        })
        .expect_err("a typo in the variable fails");
        let message = wrong.downcast_ref::<String>().expect("a formatted message");
        assert!(message.contains("/nonexistent/peer-suitez"), "{message}");
        let here = Path::new(env!("CARGO_MANIFEST_DIR"));
        assert_eq!(
            path_from_env(
                "HUB_TESTKIT_SURELY_UNSET_VARIABLE",
                Some(here),
                "this crate"
            ),
            Some(here.to_owned())
        );
    }
}
