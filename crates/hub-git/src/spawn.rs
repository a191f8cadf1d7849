//! The one place git processes start: natively `std::process::Command` with an argument
//! vector; in the WebAssembly build (`target_os = "wasi"`, which has no processes) the same
//! argument vector, working directory, environment and stdin go to the JavaScript runner's
//! `git` host call (`hub_wasi::git`), which spawns the same `git` and gives back its exit
//! code and output. Everything above this module is the same code on both.

use std::ffi::{OsStr, OsString};
use std::path::Path;

use crate::GitError;

/// The environment every git process of the suite gets on top of the runner's.
const ENV: [(&str, &str); 3] = [
    ("GIT_TERMINAL_PROMPT", "0"),
    ("LC_ALL", "C"),
    // git flushes a pipe after every commit of `git log` unless told otherwise: that costs
    // more system time than the whole parse.
    ("GIT_FLUSH", "0"),
];

/// How a git process ended.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Status(Option<i32>);

impl Status {
    pub(crate) fn success(self) -> bool {
        self.0 == Some(0)
    }

    /// The exit code; `None` when a signal ended git.
    pub(crate) fn code(self) -> Option<i32> {
        self.0
    }
}

/// A finished git process.
#[derive(Debug)]
pub(crate) struct Output {
    pub(crate) status: Status,
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: Vec<u8>,
}

fn collect<I, S>(args: I) -> Vec<OsString>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    args.into_iter()
        .map(|a| a.as_ref().to_os_string())
        .collect()
}

/// Runs `git -C <dir> <args>` with stdin closed and waits for it.
pub(crate) fn git_in<I, S>(dir: &Path, args: I) -> Result<Output, GitError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run(dir, &collect(args), &[], None)
}

/// Runs git with `input` as its whole stdin (written while its output is read, so neither
/// pipe fills up).
pub(crate) fn git_with_input<I, S>(dir: &Path, args: I, input: Vec<u8>) -> Result<Output, GitError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run(dir, &collect(args), &[], Some(input))
}

/// Runs git with `env` added to the suite's environment (a scratch index or object
/// directory: `GIT_INDEX_FILE`, `GIT_OBJECT_DIRECTORY`) and `input`, when given, as its
/// whole stdin.
pub(crate) fn git_with_env<I, S>(
    dir: &Path,
    args: I,
    env: &[(&str, &OsStr)],
    input: Option<Vec<u8>>,
) -> Result<Output, GitError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run(dir, &collect(args), env, input)
}

/// Two git processes in `dir`: natively started together and run side by side, under WASI
/// one after the other. Both are always waited for.
pub(crate) fn git_pair<A, B, S, T>(
    dir: &Path,
    first: A,
    second: B,
) -> (Result<Output, GitError>, Result<Output, GitError>)
where
    A: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
    B: IntoIterator<Item = T>,
    T: AsRef<OsStr>,
{
    let (first, second) = (collect(first), collect(second));
    #[cfg(not(target_os = "wasi"))]
    {
        let second = command(dir, &second).spawn().map_err(GitError::Spawn);
        let first = run(dir, &first, &[], None);
        let second = second.and_then(|child| {
            child
                .wait_with_output()
                .map(Output::from)
                .map_err(GitError::Spawn)
        });
        (first, second)
    }
    #[cfg(target_os = "wasi")]
    {
        (run(dir, &first, &[], None), run(dir, &second, &[], None))
    }
}

#[cfg(not(target_os = "wasi"))]
impl From<std::process::Output> for Output {
    fn from(out: std::process::Output) -> Self {
        Output {
            status: Status(out.status.code()),
            stdout: out.stdout,
            stderr: out.stderr,
        }
    }
}

/// `git -C <dir> <args>` with the suite's environment, stdin closed, stdout and stderr
/// piped.
#[cfg(not(target_os = "wasi"))]
fn command(dir: &Path, args: &[OsString]) -> std::process::Command {
    use std::process::Stdio;
    let mut cmd = std::process::Command::new("git");
    cmd.arg("-C")
        .arg(dir)
        .args(args)
        .envs(ENV)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

#[cfg(not(target_os = "wasi"))]
fn run(
    dir: &Path,
    args: &[OsString],
    env: &[(&str, &OsStr)],
    input: Option<Vec<u8>>,
) -> Result<Output, GitError> {
    let mut cmd = command(dir, args);
    cmd.envs(env.iter().copied());
    let Some(input) = input else {
        return cmd.output().map(Output::from).map_err(GitError::Spawn);
    };
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .spawn()
        .map_err(GitError::Spawn)?;
    let mut stdin = child.stdin.take().ok_or_else(|| GitError::Output {
        args: crate::show_args(args),
    })?;
    // Written from another thread while this one reads, so neither pipe fills up.
    let writer = std::thread::spawn(move || {
        use std::io::Write as _;
        stdin.write_all(&input)
    });
    let out = child.wait_with_output().map_err(GitError::Spawn)?;
    let _ = writer.join();
    Ok(out.into())
}

#[cfg(target_os = "wasi")]
fn run(
    dir: &Path,
    args: &[OsString],
    env: &[(&str, &OsStr)],
    input: Option<Vec<u8>>,
) -> Result<Output, GitError> {
    let mut argv = vec![OsString::from("-C"), dir.as_os_str().to_os_string()];
    argv.extend(args.iter().cloned());
    // Natively git inherits the process's directory; the runner's is the module's (see
    // `hub_wasi::enter_working_directory`).
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut all: Vec<(&str, &str)> = ENV.to_vec();
    for &(name, value) in env {
        let value = value.to_str().ok_or_else(|| {
            GitError::Spawn(std::io::Error::other(format!("`{name}` is not UTF-8")))
        })?;
        all.push((name, value));
    }
    let out = hub_wasi::git(&cwd, &argv, &all, input.as_deref().unwrap_or_default())
        .map_err(|e| GitError::Spawn(std::io::Error::other(e.to_string())))?;
    Ok(Output {
        status: Status(out.code),
        stdout: out.stdout,
        stderr: out.stderr,
    })
}
