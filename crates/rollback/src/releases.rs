//! The `releases-dir` backend, Capistrano-style: `<dir>/releases/<version>/` holds each
//! release and `<dir>/current` is a symlink to the live one. A switch is atomic: a new
//! symlink `current.tmp-<random>` is renamed over `current`, so `current` is always either
//! the old or the new release, never missing.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use hub_conventional::TagPattern;
use hub_conventional::semver::Version;
use serde::{Deserialize, Serialize};

use crate::choose::parse_version;

/// The name of the live symlink.
pub const CURRENT: &str = "current";
/// The directory of releases.
pub const RELEASES: &str = "releases";
/// What the last rollback did, so that re-running it is a no-op.
pub const STATE: &str = ".hub-rollback.json";

/// A deployment directory.
#[derive(Clone, Debug)]
pub struct Releases {
    root: PathBuf,
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

impl Releases {
    /// The deployment directory `root` (holding `releases/` and `current`).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Releases { root: root.into() }
    }

    /// The deployment directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The path of the `current` symlink.
    pub fn current_path(&self) -> PathBuf {
        self.root.join(CURRENT)
    }

    /// Reads where `current` points. It must exist and be a symlink.
    pub fn current(&self, pattern: &TagPattern) -> Result<Current> {
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
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let version = parse_version(&name, pattern);
        Ok(Current {
            target,
            name,
            version,
        })
    }

    /// The release directory's name for a version: `1.0.0`, else `<prefix>1.0.0`.
    pub fn dir_name(&self, version: &Version, pattern: &TagPattern) -> Option<String> {
        [version.to_string(), pattern.format(version)]
            .into_iter()
            .find(|name| self.root.join(RELEASES).join(name).is_dir())
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

    /// Points `current` at `target` atomically.
    #[cfg(unix)]
    pub fn switch(&self, target: &Path) -> Result<()> {
        let tmp = self
            .root
            .join(format!("{CURRENT}.tmp-{}", hub_kit::files::random_hex(8)));
        std::os::unix::fs::symlink(target, &tmp)
            .with_context(|| format!("cannot create the symlink `{}`", tmp.display()))?;
        if let Err(e) = std::fs::rename(&tmp, self.current_path()) {
            let _ = std::fs::remove_file(&tmp);
            return Err(e)
                .with_context(|| format!("cannot rename `{}` over `{CURRENT}`", tmp.display()));
        }
        Ok(())
    }

    /// Points `current` at `target` atomically.
    #[cfg(not(unix))]
    pub fn switch(&self, _target: &Path) -> Result<()> {
        bail!("the `releases-dir` backend needs symlinks with atomic rename (Linux or macOS)")
    }

    /// The record of the last rollback, if any (an unreadable record is ignored).
    pub fn state(&self) -> Option<State> {
        let text = std::fs::read_to_string(self.root.join(STATE)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Records a rollback, atomically.
    pub fn save_state(&self, state: &State) -> Result<()> {
        let text = serde_json::to_string(state).context("cannot serialise the rollback record")?;
        crate::fsutil::write_atomically(&self.root.join(STATE), format!("{text}\n").as_bytes())
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn switch_is_atomic_and_keeps_relative_links() {
        let dir = tempfile::tempdir().unwrap();
        for v in ["1.0.0", "v1.1.0"] {
            std::fs::create_dir_all(dir.path().join("releases").join(v)).unwrap();
        }
        std::os::unix::fs::symlink("releases/v1.1.0", dir.path().join("current")).unwrap();
        let r = Releases::new(dir.path());
        let p = TagPattern::default();
        let current = r.current(&p).unwrap();
        assert_eq!(current.name, "v1.1.0");
        assert_eq!(current.version, Some(Version::new(1, 1, 0)));
        assert_eq!(
            r.dir_name(&Version::new(1, 1, 0), &p).as_deref(),
            Some("v1.1.0")
        );
        assert_eq!(
            r.dir_name(&Version::new(1, 0, 0), &p).as_deref(),
            Some("1.0.0")
        );
        assert_eq!(r.dir_name(&Version::new(0, 9, 0), &p), None);
        let target = r.link_target("1.0.0", &current);
        assert_eq!(target, Path::new("releases/1.0.0"));
        r.switch(&target).unwrap();
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
        let r = Releases::new(dir.path());
        let e = r.current(&TagPattern::default()).unwrap_err().to_string();
        assert!(e.contains("nothing is deployed"), "{e}");
        std::fs::create_dir(dir.path().join("current")).unwrap();
        let e = r.current(&TagPattern::default()).unwrap_err().to_string();
        assert!(e.contains("is not a symlink"), "{e}");
    }

    #[test]
    fn state_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let r = Releases::new(dir.path());
        assert_eq!(r.state(), None);
        let s = State {
            from: "1.1.0".into(),
            to: "1.0.0".into(),
            complete: false,
        };
        r.save_state(&s).unwrap();
        assert_eq!(r.state(), Some(s));
    }
}
