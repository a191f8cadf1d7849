//! One rollback of a target at a time. Two rollbacks of the same target started together
//! (a re-run while the first is still going, two workflows reacting to the same failed
//! canary) must not interleave their steps: each takes an exclusive lock before it reads
//! the live state, the second waits up to `timeout` and then plans from what the first
//! left — usually "already live", a no-op — or gives up with a clear error.
//!
//! - `releases-dir`: `flock(2)` on `<dir>/.hub-rollback.lock`; on a `host`, `flock(1)`
//!   there, held by the `ssh` session for as long as the rollback runs (its stdin closing
//!   releases it, also when this process dies).
//! - every other backend: `flock(2)` on a lock file in the machine's temporary directory
//!   named after the target (`hub-rollback-kubernetes-shop-web.lock`), which serialises
//!   rollbacks on one runner machine. Rollbacks from different runners are serialised by
//!   the workflow's `concurrency:` group, the tool GitHub provides for exactly this (see
//!   the action's README): a lock in the cluster or in the repository would outlive a
//!   cancelled job and need a lease and a breaker of its own.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use hub_kit::Runner;

use crate::releases::{self, Releases};

/// How often a busy local lock is tried again.
const POLL: Duration = Duration::from_millis(100);
/// How much longer than `flock -w` the `ssh` session may take to answer.
const SSH_MARGIN: Duration = Duration::from_secs(10);

/// A held lock; dropping it releases it.
pub enum Lock {
    /// A local lock file, locked while it is open.
    #[allow(
        dead_code,
        reason = "held for its drop: closing the file releases the lock"
    )]
    File(std::fs::File),
    /// An `ssh` session running `flock` on the host.
    Ssh(Child),
    /// No lock could be taken where the directory is (no `flock` on the host).
    Unavailable,
}

impl Drop for Lock {
    fn drop(&mut self) {
        if let Lock::Ssh(child) = self {
            // EOF on the remote `cat` ends the session and with it the lock.
            drop(child.stdin.take());
            let until = Instant::now() + Duration::from_secs(5);
            while Instant::now() < until {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The lock file for a backend other than `releases-dir`: `key` names the target and is
/// made of name characters only.
pub fn machine_path(key: &str) -> PathBuf {
    let key: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    std::env::temp_dir().join(format!("hub-rollback-{key}.lock"))
}

/// A short, stable fingerprint of `text` (FNV-1a, 64 bits), for lock file names.
pub fn fingerprint(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// Takes the lock for a releases directory, here or on its host.
pub fn releases(releases: &Releases, limit: Duration, runner: &mut Runner) -> Result<Lock> {
    match releases.remote() {
        None => {
            releases.check_local_root()?;
            file(
                &releases.root().join(releases::LOCK),
                &format!("`{}`", releases.place()),
                limit,
                runner,
            )
        }
        Some(_) => remote(releases, limit, runner),
    }
}

/// Takes an exclusive `flock(2)` on `path`, waiting up to `limit`.
#[cfg(unix)]
pub fn file(path: &Path, what: &str, limit: Duration, runner: &mut Runner) -> Result<Lock> {
    use rustix::fs::{FlockOperation, flock};
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the directory `{}`", dir.display()))?;
    }
    // `flock(2)` works on a descriptor opened for reading too: a lock file another user
    // created (in the shared temporary directory) is still usable.
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .or_else(|e| match e.kind() {
            // When the file cannot be opened for reading either (it does not exist and
            // cannot be created), the reason is the first error, not the fallback's.
            std::io::ErrorKind::PermissionDenied => std::fs::File::open(path).map_err(|_| e),
            _ => Err(e),
        })
        .with_context(|| format!("cannot open the lock file `{}`", path.display()))?;
    let deadline = Instant::now() + limit;
    let mut said = false;
    loop {
        match flock(&f, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {
                if said {
                    runner.info(&format!("took the lock `{}`", path.display()))?;
                }
                return Ok(Lock::File(f));
            }
            Err(e) if e == rustix::io::Errno::WOULDBLOCK => {}
            Err(e) => {
                return Err(std::io::Error::from(e))
                    .with_context(|| format!("cannot lock `{}`", path.display()));
            }
        }
        if !said {
            runner.info(&format!(
                "waiting up to {limit:?} for the lock `{}`: another rollback of {what} is running",
                path.display()
            ))?;
            said = true;
        }
        if Instant::now() >= deadline {
            bail!(
                "another rollback of {what} still holds the lock `{}` after {limit:?} (the `timeout`): two rollbacks never run at once; re-run this one when that one has finished",
                path.display()
            );
        }
        std::thread::sleep(POLL);
    }
}

/// No `flock(2)` here: rollbacks are not locked.
#[cfg(not(unix))]
pub fn file(_path: &Path, what: &str, _limit: Duration, runner: &mut Runner) -> Result<Lock> {
    runner.info(&format!(
        "no lock on this platform: make sure no other rollback of {what} runs at once"
    ))?;
    Ok(Lock::Unavailable)
}

/// The remote command holding the lock: it prints `locked` once it has it (after
/// `waiting` when it had to wait), `gave-up` after `seconds`, or `no-flock`, and then
/// holds the lock until its stdin closes.
pub fn remote_script(releases: &Releases, seconds: u64) -> String {
    let hold = "sh -c 'echo locked; exec cat >/dev/null'";
    let lock = releases::LOCK;
    format!(
        "cd -- {} || exit 1; command -v flock >/dev/null 2>&1 || {{ echo no-flock; exit 0; }}; flock -n -E 75 -- {lock} {hold}; [ $? -eq 75 ] || exit 0; echo waiting; flock -w {seconds} -E 75 -- {lock} {hold}; [ $? -eq 75 ] && echo gave-up; exit 0",
        releases::sh_quote(&releases.root().display().to_string())
    )
}

fn remote(releases: &Releases, limit: Duration, runner: &mut Runner) -> Result<Lock> {
    let remote = releases.remote().context("a remote releases directory")?;
    let seconds = limit.as_secs_f64().ceil().max(1.0) as u64;
    let argv = remote.argv(&remote_script(releases, seconds));
    let shown = serde_json::to_string(&argv).unwrap_or_default();
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .env_remove("INPUT_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {shown}"))?;
    let (tx, rx) = mpsc::channel();
    if let Some(out) = child.stdout.take() {
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
    }
    let err = child.stderr.take();
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut e) = err {
            let _ = std::io::Read::read_to_string(&mut e, &mut text);
        }
        text
    });
    let place = releases.place();
    let deadline = Instant::now() + limit + SSH_MARGIN;
    let mut lock = Lock::Ssh(child);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line == "locked" => return Ok(lock),
            Ok(line) if line == "waiting" => runner.info(&format!(
                "waiting up to {limit:?} for the lock `{place}/{}`: another rollback of it is running",
                releases::LOCK
            ))?,
            Ok(line) if line == "no-flock" => {
                runner.warning(
                    &format!(
                        "`{}` has no `flock`: this rollback of `{place}` is not locked against another one at the same time",
                        remote.host
                    ),
                    &hub_kit::Annotation::default(),
                )?;
                drop(lock);
                return Ok(Lock::Unavailable);
            }
            Ok(line) if line == "gave-up" => {
                drop(lock);
                bail!(
                    "another rollback of `{place}` still holds the lock `{}` after {limit:?} (the `timeout`): two rollbacks never run at once; re-run this one when that one has finished",
                    releases::LOCK
                );
            }
            Ok(_) => {}
            Err(_) => {
                if let Lock::Ssh(child) = &mut lock {
                    let _ = child.kill();
                }
                drop(lock);
                let why = stderr.join().unwrap_or_default();
                return Err(anyhow!(
                    "cannot take the lock on `{}`: {shown} ended without it: {}",
                    remote.host,
                    why.trim()
                ));
            }
        }
    }
}
