//! The `releases-dir` backend, Capistrano-style: `<dir>/releases/<version>/` holds each
//! release and `<dir>/current` is a symlink to the live one. A switch is atomic: a new
//! symlink `current.tmp-<random>` is renamed over `current`, so `current` is always either
//! the old or the new release, never missing. A release directory that resolves outside
//! `releases/` (a symlink to `/etc`, through `..`) is never switched to: the listing
//! reports it, the plan refuses it, and the switch checks the new link again before the
//! rename (`readlink -f` on a host).
//!
//! With a `host`, the directory is on that host and every step runs there through `ssh`
//! (an argument vector: `ssh -T -o BatchMode=yes [ssh-options] -- <host> <remote command>`).
//! The remote command is one POSIX shell line built here: every path and value in it is
//! single-quoted, and the versions in it are validated release names, so it is the only
//! shell code that runs. The switch there is `ln -sfn` to the temporary name, then
//! `mv -T` over `current` (GNU coreutils' atomic rename).
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use hub_conventional::TagPattern;
use hub_conventional::semver::Version;
use serde::{Deserialize, Serialize};

use crate::choose::parse_version;
use crate::exec;

/// The name of the live symlink.
pub const CURRENT: &str = "current";
/// The directory of releases.
pub const RELEASES: &str = "releases";
/// What the last rollback did, so that re-running it is a no-op.
pub const STATE: &str = ".hub-rollback.json";
/// The lock file two rollbacks of the same directory take in turn.
pub const LOCK: &str = ".hub-rollback.lock";

/// A deployment directory, here or on a host reached through `ssh`.
#[derive(Clone, Debug)]
pub struct Releases {
    root: PathBuf,
    remote: Option<Remote>,
}

/// A host reached through `ssh`.
#[derive(Clone, Debug)]
pub struct Remote {
    /// `[user@]host` or `ssh://[user@]host[:port]`.
    pub host: String,
    /// Extra `ssh` arguments (`-i key`, `-o StrictHostKeyChecking=yes`, `-p 2222`).
    pub options: Vec<String>,
}

impl Remote {
    /// The `ssh` argument vector that runs `script` (one shell line) on the host.
    pub fn argv(&self, script: &str) -> Vec<String> {
        let mut argv: Vec<String> = ["ssh", "-T", "-o", "BatchMode=yes"]
            .into_iter()
            .map(String::from)
            .collect();
        argv.extend(self.options.iter().cloned());
        argv.extend(["--".to_string(), self.host.clone(), script.to_string()]);
        argv
    }
}

/// Checks a `host` input: `[user@]host` or `ssh://[user@]host[:port]`, nothing `ssh`
/// could read as an option or a shell could split.
pub fn host_input(value: &str) -> Result<String, String> {
    let value = value.trim();
    let ok = !value.is_empty()
        && !value.starts_with('-')
        && value.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@' | ':' | '/' | '[' | ']')
        });
    if ok {
        Ok(value.to_string())
    } else {
        Err(format!(
            "input `host` must be `[user@]host` or `ssh://[user@]host[:port]`, got `{value}`"
        ))
    }
}

/// A word for a POSIX shell: single-quoted, with `'` spelled `'\''`. A leading `~/` stays
/// the remote home (`"$HOME"/'rest'`).
pub fn sh_quote(word: &str) -> String {
    if let Some(rest) = word.strip_prefix("~/") {
        return format!("\"$HOME\"/{}", sh_quote(rest));
    }
    format!("'{}'", word.replace('\'', "'\\''"))
}

/// Where `current` points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Current {
    /// The link's target as stored (`releases/1.1.0` or an absolute path).
    pub target: PathBuf,
    /// The release directory's name (`1.1.0`).
    pub name: String,
    /// Its version, when the name is one.
    pub version: Option<Version>,
}

/// The record of the last rollback in this directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// The version rolled back from.
    pub from: String,
    /// The version rolled back to.
    pub to: String,
    /// Whether every step after the switch (the restart) succeeded.
    pub complete: bool,
}

/// What the directory holds now: where `current` points, the release directories and the
/// last rollback's record. Read once, locally or in one `ssh` call.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub current: Current,
    /// The names of the directories in `releases/`.
    pub releases: Vec<String>,
    /// The record of the last rollback (an unreadable one is ignored).
    pub state: Option<State>,
    /// The release directories that resolve outside `releases/` (a symlink out of it), with
    /// where they resolve to: never switched to.
    pub outside: Vec<(String, PathBuf)>,
}

impl Snapshot {
    /// The release directory's name for a version: `1.0.0`, else `<prefix>1.0.0`.
    pub fn dir_name(&self, version: &Version, pattern: &TagPattern) -> Option<String> {
        [version.to_string(), pattern.format(version)]
            .into_iter()
            .find(|name| self.releases.contains(name))
    }

    /// Refuses a release directory that resolves outside `releases/`.
    pub fn check_inside(&self, name: &str, place: &str) -> Result<()> {
        match self.outside.iter().find(|(n, _)| n == name) {
            Some((_, resolved)) => Err(outside_error(
                &Path::new(RELEASES).join(name),
                resolved,
                &format!("{place}/{RELEASES}"),
            )),
            None => Ok(()),
        }
    }
}

/// The refusal of a release directory that resolves outside `releases/`.
fn outside_error(target: &Path, resolved: &Path, releases: &str) -> anyhow::Error {
    anyhow!(
        "release directory `{}` resolves to `{}`, outside `{releases}`: refusing to switch `{CURRENT}` to it",
        target.display(),
        resolved.display()
    )
}

fn current_from(target: PathBuf, pattern: &TagPattern) -> Current {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let version = parse_version(&name, pattern);
    Current {
        target,
        name,
        version,
    }
}

impl Releases {
    /// The deployment directory `root` (holding `releases/` and `current`), on `remote`
    /// when given.
    pub fn new(root: impl Into<PathBuf>, remote: Option<Remote>) -> Self {
        Releases {
            root: root.into(),
            remote,
        }
    }

    /// The deployment directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The host, when the directory is remote.
    pub fn remote(&self) -> Option<&Remote> {
        self.remote.as_ref()
    }

    /// `host:dir` or `dir`, for messages.
    pub fn place(&self) -> String {
        match &self.remote {
            Some(r) => format!("{}:{}", r.host, self.root.display()),
            None => self.root.display().to_string(),
        }
    }

    /// A local deployment directory must be there: a mistyped `releases-dir` is named, and
    /// neither the lock nor anything else creates it.
    pub fn check_local_root(&self) -> Result<()> {
        if self.remote.is_none() && !self.root.is_dir() {
            bail!(
                "the releases directory `{}` does not exist (input `releases-dir`): nothing is deployed there to roll back from",
                self.root.display()
            );
        }
        Ok(())
    }

    /// The path of the `current` symlink.
    pub fn current_path(&self) -> PathBuf {
        self.root.join(CURRENT)
    }

    /// `cd -- '<dir>' || exit 1; ` — the start of every remote command.
    fn cd(&self) -> String {
        format!(
            "cd -- {} || exit 1; ",
            sh_quote(&self.root.display().to_string())
        )
    }

    /// Runs a remote script within `limit`; its stdout, or an error naming the command.
    fn ssh(&self, remote: &Remote, what: &str, script: &str, limit: Duration) -> Result<String> {
        let argv = remote.argv(script);
        let shown = serde_json::to_string(&argv).unwrap_or_default();
        let f = exec::run(&argv, &[], None, Some(limit))
            .with_context(|| format!("{what} on `{}`: {shown} could not run", remote.host))?;
        if !f.success() {
            bail!(
                "{what} on `{}`: {shown} {}{}: {}",
                remote.host,
                if f.timed_out.is_some() {
                    ""
                } else {
                    "failed: "
                },
                f.describe(),
                f.stderr.trim()
            );
        }
        Ok(f.stdout)
    }

    /// Reads the directory: `current` must exist and be a symlink.
    pub fn inspect(&self, pattern: &TagPattern, limit: Duration) -> Result<Snapshot> {
        match &self.remote {
            None => self.inspect_local(pattern),
            Some(remote) => self.inspect_remote(remote, pattern, limit),
        }
    }

    fn inspect_local(&self, pattern: &TagPattern) -> Result<Snapshot> {
        self.check_local_root()?;
        let path = self.current_path();
        let meta = std::fs::symlink_metadata(&path).with_context(|| {
            format!(
                "`{}` does not exist: nothing is deployed to roll back from",
                path.display()
            )
        })?;
        if !meta.file_type().is_symlink() {
            bail!(
                "`{}` is not a symlink: the `releases-dir` backend switches a `current` symlink",
                path.display()
            );
        }
        let target = std::fs::read_link(&path)
            .with_context(|| format!("cannot read the symlink `{}`", path.display()))?;
        let dir = self.root.join(RELEASES);
        let entries: Vec<std::fs::DirEntry> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries.flatten().filter(|e| e.path().is_dir()).collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => {
                return Err(e).with_context(|| format!("cannot list `{}`", dir.display()));
            }
        };
        let mut releases = Vec::new();
        let mut outside = Vec::new();
        if !entries.is_empty() {
            let base = std::fs::canonicalize(&dir)
                .with_context(|| format!("cannot resolve `{}`", dir.display()))?;
            for entry in entries {
                let name = entry.file_name().to_string_lossy().into_owned();
                let resolved = std::fs::canonicalize(entry.path())
                    .with_context(|| format!("cannot resolve `{}`", entry.path().display()))?;
                if !resolved.starts_with(&base) || resolved == base {
                    outside.push((name.clone(), resolved));
                }
                releases.push(name);
            }
        }
        releases.sort();
        outside.sort();
        let state = std::fs::read_to_string(self.root.join(STATE))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok());
        Ok(Snapshot {
            current: current_from(target, pattern),
            releases,
            state,
            outside,
        })
    }

    /// The remote command that prints `current <target>` (or why there is none),
    /// `release <name>` per release directory, `outside <name> <where>` per release
    /// directory that resolves outside `releases/` (`readlink -f` there), and
    /// `state <json>`.
    pub fn inspect_script(&self) -> String {
        format!(
            "{}if [ -L {CURRENT} ]; then printf 'current %s\\n' \"$(readlink {CURRENT})\"; elif [ -e {CURRENT} ]; then echo current-not-a-symlink; else echo current-missing; fi; base=$(readlink -f -- {RELEASES}); for d in {RELEASES}/*/; do [ -d \"$d\" ] || continue; n=$(basename \"$d\"); printf 'release %s\\n' \"$n\"; r=$(readlink -f -- \"$d\"); case \"$r\" in \"$base\"/*) ;; *) printf 'outside %s %s\\n' \"$n\" \"$r\";; esac; done; if [ -f {STATE} ]; then printf 'state '; head -c 4096 {STATE} | tr -d '\\n'; echo; fi; exit 0",
            self.cd()
        )
    }

    fn inspect_remote(
        &self,
        remote: &Remote,
        pattern: &TagPattern,
        limit: Duration,
    ) -> Result<Snapshot> {
        let out = self.ssh(
            remote,
            "reading the releases",
            &self.inspect_script(),
            limit,
        )?;
        let place = self.place();
        let mut current = None;
        let mut releases = Vec::new();
        let mut state = None;
        let mut outside = Vec::new();
        for line in out.lines() {
            match line.split_once(' ') {
                Some(("current", target)) => current = Some(PathBuf::from(target)),
                Some(("release", name)) => releases.push(name.to_string()),
                Some(("outside", rest)) => {
                    let (name, resolved) = rest.split_once(' ').unwrap_or((rest, ""));
                    outside.push((name.to_string(), PathBuf::from(resolved)));
                }
                Some(("state", json)) => state = serde_json::from_str(json).ok(),
                _ if line == "current-missing" => {
                    bail!(
                        "`{place}/{CURRENT}` does not exist: nothing is deployed to roll back from"
                    )
                }
                _ if line == "current-not-a-symlink" => bail!(
                    "`{place}/{CURRENT}` is not a symlink: the `releases-dir` backend switches a `current` symlink"
                ),
                _ => {}
            }
        }
        let target = current.ok_or_else(|| {
            anyhow!(
                "reading the releases on `{}` printed no `current` line: `{}`",
                remote.host,
                out.trim()
            )
        })?;
        releases.sort();
        outside.sort();
        Ok(Snapshot {
            current: current_from(target, pattern),
            releases,
            state,
            outside,
        })
    }

    /// What `current` must point at for a release directory: relative
    /// (`releases/<name>`) unless the existing link is absolute, so the layout keeps its
    /// style.
    pub fn link_target(&self, name: &str, current: &Current) -> PathBuf {
        let relative = Path::new(RELEASES).join(name);
        if current.target.is_absolute() {
            self.root.join(relative)
        } else {
            relative
        }
    }

    /// A fresh temporary name for the switch (`current.tmp-<random>`).
    pub fn temp_name() -> String {
        format!("{CURRENT}.tmp-{}", hub_kit::files::random_hex(8))
    }

    /// The remote command of a switch: `ln -sfn` to `tmp`; the new link must resolve
    /// (`readlink -f`) to a directory inside `releases/`; then `mv -T` over `current`.
    pub fn switch_script(&self, target: &Path, tmp: &str) -> String {
        let tmp = sh_quote(tmp);
        let target = sh_quote(&target.display().to_string());
        format!(
            "{}ln -sfn -- {target} {tmp} && r=$(readlink -f -- {tmp}) && base=$(readlink -f -- {RELEASES}) && case \"$r\" in \"$base\"/*) ;; *) printf 'release directory `%s` resolves to `%s`, outside `%s`: refusing to switch `{CURRENT}` to it\\n' {target} \"$r\" \"$base\" >&2; false;; esac && test -d {tmp} && mv -T -- {tmp} {CURRENT} || {{ rm -f -- {tmp}; exit 1; }}",
            self.cd(),
        )
    }

    /// The remote command that runs `argv` in the directory with `env`.
    pub fn run_script(&self, argv: &[String], env: &[(&str, String)]) -> String {
        let mut line = self.cd();
        for (k, v) in env {
            line.push_str(&format!("{k}={} ", sh_quote(v)));
        }
        line.push_str(
            &argv
                .iter()
                .map(|w| sh_quote(w))
                .collect::<Vec<_>>()
                .join(" "),
        );
        line
    }

    /// Points `current` at `target` atomically, through the temporary name `tmp`.
    pub fn switch(&self, target: &Path, tmp: &str, limit: Duration) -> Result<()> {
        if let Some(remote) = &self.remote {
            self.ssh(
                remote,
                "switching `current`",
                &self.switch_script(target, tmp),
                limit,
            )?;
            return Ok(());
        }
        self.switch_local(target, tmp)
    }

    #[cfg(unix)]
    fn switch_local(&self, target: &Path, tmp: &str) -> Result<()> {
        let tmp = self.root.join(tmp);
        std::os::unix::fs::symlink(target, &tmp)
            .with_context(|| format!("cannot create the symlink `{}`", tmp.display()))?;
        // The new link resolves exactly as `current` will: it must name a directory inside
        // `releases/`.
        let releases = self.root.join(RELEASES);
        let inside = std::fs::canonicalize(&releases)
            .with_context(|| format!("cannot resolve `{}`", releases.display()))
            .and_then(|base| {
                let resolved = std::fs::canonicalize(&tmp).with_context(|| {
                    format!(
                        "release directory `{}` cannot be resolved",
                        target.display()
                    )
                })?;
                if resolved.starts_with(&base) && resolved != base && resolved.is_dir() {
                    Ok(())
                } else {
                    Err(outside_error(
                        target,
                        &resolved,
                        &releases.display().to_string(),
                    ))
                }
            });
        if let Err(e) = inside {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        if let Err(e) = std::fs::rename(&tmp, self.current_path()) {
            let _ = std::fs::remove_file(&tmp);
            return Err(e)
                .with_context(|| format!("cannot rename `{}` over `{CURRENT}`", tmp.display()));
        }
        Ok(())
    }

    #[cfg(not(unix))]
    fn switch_local(&self, _target: &Path, _tmp: &str) -> Result<()> {
        bail!("the `releases-dir` backend needs symlinks with atomic rename (Linux or macOS)")
    }

    /// Records a rollback, atomically.
    pub fn save_state(&self, state: &State, limit: Duration) -> Result<()> {
        let text = serde_json::to_string(state).context("cannot serialise the rollback record")?;
        match &self.remote {
            None => Ok(hub_kit::files::write_atomically(
                &self.root.join(STATE),
                format!("{text}\n").as_bytes(),
            )?),
            Some(remote) => {
                let tmp = sh_quote(&format!(".{STATE}.tmp-{}", hub_kit::files::random_hex(8)));
                let script = format!(
                    "{}printf '%s\\n' {} > {tmp} && mv -f -- {tmp} {STATE} || {{ rm -f -- {tmp}; exit 1; }}",
                    self.cd(),
                    sh_quote(&text)
                );
                self.ssh(remote, "recording the rollback", &script, limit)
                    .map(|_| ())
            }
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    const LIMIT: Duration = Duration::from_secs(10);

    #[test]
    fn switch_is_atomic_and_keeps_relative_links() {
        let dir = tempfile::tempdir().unwrap();
        for v in ["1.0.0", "v1.1.0"] {
            std::fs::create_dir_all(dir.path().join("releases").join(v)).unwrap();
        }
        std::fs::write(dir.path().join("releases/not-a-dir"), "").unwrap();
        std::os::unix::fs::symlink("releases/v1.1.0", dir.path().join("current")).unwrap();
        let r = Releases::new(dir.path(), None);
        let p = TagPattern::default();
        let snap = r.inspect(&p, LIMIT).unwrap();
        let current = &snap.current;
        assert_eq!(current.name, "v1.1.0");
        assert_eq!(current.version, Some(Version::new(1, 1, 0)));
        assert_eq!(snap.releases, ["1.0.0", "v1.1.0"]);
        assert_eq!(
            snap.dir_name(&Version::new(1, 1, 0), &p).as_deref(),
            Some("v1.1.0")
        );
        assert_eq!(
            snap.dir_name(&Version::new(1, 0, 0), &p).as_deref(),
            Some("1.0.0")
        );
        assert_eq!(snap.dir_name(&Version::new(0, 9, 0), &p), None);
        let target = r.link_target("1.0.0", current);
        assert_eq!(target, Path::new("releases/1.0.0"));
        r.switch(&target, &Releases::temp_name(), LIMIT).unwrap();
        assert_eq!(
            std::fs::read_link(dir.path().join("current")).unwrap(),
            Path::new("releases/1.0.0")
        );
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn current_must_be_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let r = Releases::new(dir.path(), None);
        let p = TagPattern::default();
        let e = r.inspect(&p, LIMIT).unwrap_err().to_string();
        assert!(e.contains("nothing is deployed"), "{e}");
        std::fs::create_dir(dir.path().join("current")).unwrap();
        let e = r.inspect(&p, LIMIT).unwrap_err().to_string();
        assert!(e.contains("is not a symlink"), "{e}");
    }

    #[test]
    fn state_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("releases/1.0.0", dir.path().join("current")).unwrap();
        let r = Releases::new(dir.path(), None);
        let p = TagPattern::default();
        assert_eq!(r.inspect(&p, LIMIT).unwrap().state, None);
        let s = State {
            from: "1.1.0".into(),
            to: "1.0.0".into(),
            complete: false,
        };
        r.save_state(&s, LIMIT).unwrap();
        assert_eq!(r.inspect(&p, LIMIT).unwrap().state, Some(s));
    }

    /// The remote scripts, run here by `sh` exactly as the host's shell would run them.
    #[test]
    fn remote_scripts_do_the_same_in_a_shell() {
        let dir = tempfile::tempdir().unwrap();
        // A directory name a shell would otherwise split, expand and execute.
        let root = dir.path().join("it's $(touch pwned) app");
        for v in ["1.0.0", "1.1.0"] {
            std::fs::create_dir_all(root.join("releases").join(v)).unwrap();
        }
        std::os::unix::fs::symlink("releases/1.1.0", root.join("current")).unwrap();
        std::fs::write(
            root.join(STATE),
            "{\"from\":\"1.2.0\",\n\"to\":\"1.1.0\",\"complete\":true}\n",
        )
        .unwrap();
        let r = Releases::new(&root, None);
        let sh = |script: &str| {
            let out = std::process::Command::new("sh")
                .args(["-c", script])
                .current_dir(dir.path())
                .output()
                .unwrap();
            assert!(out.status.success(), "{script}: {out:?}");
            String::from_utf8(out.stdout).unwrap()
        };
        assert_eq!(
            sh(&r.inspect_script()),
            "current releases/1.1.0\nrelease 1.0.0\nrelease 1.1.0\nstate {\"from\":\"1.2.0\",\"to\":\"1.1.0\",\"complete\":true}\n"
        );
        sh(&r.switch_script(Path::new("releases/1.0.0"), "current.tmp-ab12"));
        assert_eq!(
            std::fs::read_link(root.join("current")).unwrap(),
            Path::new("releases/1.0.0")
        );
        assert!(!root.join("current.tmp-ab12").exists());
        let argv: Vec<String> = [
            "sh",
            "-c",
            "printf '%s|' \"$@\" \"$HUB_ROLLBACK_VERSION\" > out",
            "sh",
            "$(id)",
            "a'b",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        sh(&r.run_script(&argv, &[("HUB_ROLLBACK_VERSION", "1.0.0".into())]));
        assert_eq!(
            std::fs::read_to_string(root.join("out")).unwrap(),
            "$(id)|a'b|1.0.0|"
        );
        assert!(!dir.path().join("pwned").exists());
        assert!(!root.join("pwned").exists());
    }

    /// A release that resolves outside `releases/` is refused by the switch itself, here
    /// and in the remote script (run by `sh` as the host's shell would run it), and the
    /// remote inspection reports it.
    #[test]
    fn a_release_outside_the_releases_directory_is_never_switched_to() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("app");
        std::fs::create_dir_all(root.join("releases/1.1.0")).unwrap();
        std::fs::create_dir_all(dir.path().join("elsewhere")).unwrap();
        std::os::unix::fs::symlink("../../elsewhere", root.join("releases/1.0.0")).unwrap();
        std::os::unix::fs::symlink("releases/1.1.0", root.join("current")).unwrap();
        let r = Releases::new(&root, None);
        let target = Path::new("releases/1.0.0");
        let e = format!(
            "{:#}",
            r.switch(target, &Releases::temp_name(), LIMIT).unwrap_err()
        );
        assert!(
            e.contains("release directory `releases/1.0.0` resolves to")
                && e.contains("elsewhere")
                && e.contains("refusing to switch `current` to it"),
            "{e}"
        );
        assert_eq!(
            std::fs::read_link(root.join("current")).unwrap(),
            Path::new("releases/1.1.0")
        );
        let snap = r.inspect(&TagPattern::default(), LIMIT).unwrap();
        assert_eq!(snap.outside.len(), 1, "{:?}", snap.outside);
        assert_eq!(snap.outside[0].0, "1.0.0");

        let sh = |script: &str| {
            std::process::Command::new("sh")
                .args(["-c", script])
                .output()
                .unwrap()
        };
        let out = sh(&r.switch_script(target, "current.tmp-ab12"));
        assert!(!out.status.success(), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("release directory `releases/1.0.0` resolves to")
                && stderr.contains("elsewhere"),
            "{stderr}"
        );
        assert_eq!(
            std::fs::read_link(root.join("current")).unwrap(),
            Path::new("releases/1.1.0")
        );
        assert!(!root.join("current.tmp-ab12").exists());
        let out = sh(&r.inspect_script());
        let stdout = String::from_utf8_lossy(&out.stdout);
        let elsewhere = std::fs::canonicalize(dir.path().join("elsewhere")).unwrap();
        assert!(
            stdout.contains(&format!("outside 1.0.0 {}\n", elsewhere.display())),
            "{stdout}"
        );
        // Inside `releases/` the remote switch goes ahead.
        let out = sh(&r.switch_script(Path::new("releases/1.1.0"), "current.tmp-cd34"));
        assert!(out.status.success(), "{out:?}");
    }

    #[test]
    fn quoting_and_hosts() {
        assert_eq!(sh_quote("a b"), "'a b'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
        assert_eq!(sh_quote("~/app"), r#""$HOME"/'app'"#);
        assert_eq!(sh_quote("$(id)"), "'$(id)'");
        for ok in [
            "web1",
            "deploy@web1.example.com",
            "ssh://deploy@127.0.0.1:2222",
        ] {
            assert_eq!(host_input(ok).as_deref(), Ok(ok));
        }
        for bad in [
            "-oProxyCommand=id",
            "web1; id",
            "a b",
            "$(id)",
            "",
            "web\n1",
        ] {
            assert!(host_input(bad).is_err(), "{bad}");
        }
        let remote = Remote {
            host: "deploy@web1".into(),
            options: vec!["-p".into(), "2222".into()],
        };
        assert_eq!(
            remote.argv("true"),
            [
                "ssh",
                "-T",
                "-o",
                "BatchMode=yes",
                "-p",
                "2222",
                "--",
                "deploy@web1",
                "true"
            ]
        );
    }
}
