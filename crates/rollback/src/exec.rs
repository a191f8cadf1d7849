//! Running a user's command: an argument vector, never a shell line, with its output
//! captured so that it reaches the log only through `log_untrusted`.
//!
//! A command runs in a process group of its own; at its deadline the whole group is
//! killed (`SIGKILL`), so a shell script's children do not outlive it. A command that
//! exits in time may leave background processes behind (a restart command starting a
//! daemon): those are not touched.

use std::io::Read;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// The `token` input as the runner passes it; never handed to a command.
const TOKEN_INPUT: &str = "INPUT_TOKEN";

/// How long to wait for a command's output once it has ended.
const PIPE_GRACE: Duration = Duration::from_secs(1);

/// How a command ended.
#[derive(Debug)]
pub struct Finished {
    /// Its exit status; `None` when it was stopped at the deadline.
    pub status: Option<ExitStatus>,
    /// How long it was allowed to run, when it was stopped at the deadline.
    pub timed_out: Option<Duration>,
    /// What it printed on stdout.
    pub stdout: String,
    /// What it printed on stderr.
    pub stderr: String,
}

impl Finished {
    /// Whether it exited 0.
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    /// `exit status 3`, `killed by a signal` or `timed out after 5s (killed)`.
    pub fn describe(&self) -> String {
        match self.status {
            None => format!(
                "timed out after {:?} (killed with its process group)",
                self.timed_out.unwrap_or_default()
            ),
            Some(s) => match s.code() {
                Some(c) => format!("exit status {c}"),
                None => "killed by a signal".into(),
            },
        }
    }

    /// Stdout and stderr together, for the log.
    pub fn output(&self) -> String {
        let mut s = self.stdout.clone();
        if !s.is_empty() && !s.ends_with('\n') && !self.stderr.is_empty() {
            s.push('\n');
        }
        s.push_str(&self.stderr);
        s
    }
}

/// Runs `argv` with extra environment variables, in `cwd` when given, killing it (and its
/// process group) once it has run for `limit`, when given. Stdin is closed.
pub fn run(
    argv: &[String],
    env: &[(&str, String)],
    cwd: Option<&Path>,
    limit: Option<Duration>,
) -> Result<Finished> {
    let (program, args) = argv
        .split_first()
        .context("an empty command cannot be run")?;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // The action's `token` input is for the GitHub API, not for the commands it runs.
    cmd.env_remove(TOKEN_INPUT);
    for (k, v) in env {
        cmd.env(k, v);
    }
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let spawned = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot start `{program}`"))?;
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            let _ = tx.send(String::from_utf8_lossy(&buf).into_owned());
        });
        rx
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let status = match limit {
        None => Some(child.wait().context("cannot wait for the command")?),
        Some(limit) => wait_until(child, spawned + limit)?,
    };
    // A background process the command left behind may hold the pipes open: give the
    // readers a moment, then go on without its output rather than wait for it.
    let collect = |rx: std::sync::mpsc::Receiver<String>| {
        rx.recv_timeout(PIPE_GRACE).unwrap_or_else(|_| {
            "(output not collected: a background process holds it open)\n".into()
        })
    };
    let timed_out = if status.is_none() { limit } else { None };
    Ok(Finished {
        status,
        timed_out,
        stdout: collect(out),
        stderr: collect(err),
    })
}

/// Waits for the child until `deadline`; past it, kills its process group (it leads one
/// of its own) and returns `None`. A thread waits, so the exit is seen at once rather than
/// at the next poll (polling every 20 ms cost a healthy rollback ~30 ms in the bench).
#[cfg(unix)]
fn wait_until(mut child: std::process::Child, deadline: Instant) -> Result<Option<ExitStatus>> {
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let left = deadline.saturating_duration_since(Instant::now());
    match rx.recv_timeout(left) {
        Ok(status) => Ok(Some(status.context("cannot wait for the command")?)),
        Err(_) => {
            // Not reaped yet (the waiter has not sent), so the group id is still ours.
            let group = i32::try_from(pid)
                .ok()
                .and_then(rustix::process::Pid::from_raw);
            if let Some(group) = group {
                let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
            }
            match rx.recv() {
                // It exited on its own in the same instant: that is its status.
                Ok(Ok(status)) if status.code().is_some() => Ok(Some(status)),
                _ => Ok(None),
            }
        }
    }
}

/// Waits for the child until `deadline`, polling; past it, kills it and returns `None`.
#[cfg(not(unix))]
fn wait_until(mut child: std::process::Child, deadline: Instant) -> Result<Option<ExitStatus>> {
    loop {
        if let Some(s) = child.try_wait().context("cannot wait for the command")? {
            return Ok(Some(s));
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn argv(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn arguments_and_environment_are_data() {
        let f = run(
            &argv(&[
                "sh",
                "-c",
                "printf '%s|' \"$@\" \"$HUB_X\"",
                "sh",
                "$(id)",
                "a; b",
            ]),
            &[("HUB_X", "`id`".into())],
            None,
            None,
        )
        .unwrap();
        assert!(f.success());
        assert_eq!(f.stdout, "$(id)|a; b|`id`|");
    }

    #[test]
    fn failures_and_deadlines() {
        let f = run(&argv(&["sh", "-c", "echo no >&2; exit 3"]), &[], None, None).unwrap();
        assert!(!f.success());
        assert_eq!(f.describe(), "exit status 3");
        assert_eq!(f.output(), "no\n");
        let f = run(
            &argv(&["sleep", "5"]),
            &[],
            None,
            Some(Duration::from_millis(100)),
        )
        .unwrap();
        assert_eq!(
            f.describe(),
            "timed out after 100ms (killed with its process group)"
        );
        // The script's own child is killed too: it would otherwise hold the pipe open and
        // leave its marker.
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("late");
        let f = run(
            &argv(&[
                "sh",
                "-c",
                "(sleep 1; touch \"$0\") & sleep 5",
                &marker.display().to_string(),
            ]),
            &[],
            None,
            Some(Duration::from_millis(200)),
        )
        .unwrap();
        assert!(f.timed_out.is_some());
        std::thread::sleep(Duration::from_millis(1500));
        assert!(!marker.exists(), "the group's background child was killed");
        let f = run(
            &argv(&["sh", "-c", "sleep 2 & echo started"]),
            &[],
            None,
            None,
        )
        .unwrap();
        assert!(f.success(), "a background process does not hold us up");
        let e = run(&argv(&["/nonexistent/program"]), &[], None, None).unwrap_err();
        assert!(e.to_string().contains("cannot start"), "{e}");
    }
}
