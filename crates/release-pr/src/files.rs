//! The release pull request's files, read from the checkout: each package's version files
//! (given, or detected in its directory) updated through hub-version-files, its changelog
//! with the new section; and the tree of the commit that would hold them, computed by git
//! in a scratch index and object directory, so the run can compare it with the branch's
//! tree without writing to the repository.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use hub_git::{Objects, Repo};
use hub_version_files::{Kind, package_name};

use crate::facts::History;
use crate::plan::{FileEdit, Next};
use crate::request::Request;
use crate::version_files::plan_files;
use crate::workspace::Disk;

/// The files release-pr looks for in a package's directory.
const DETECTED: &[&str] = &[
    "Cargo.toml",
    "package.json",
    "pyproject.toml",
    "Chart.yaml",
    "VERSION",
    "version.txt",
];

/// The lock files that go with a manifest, found in its directory or above (up to the root).
fn locks_of(manifest: &str) -> &'static [&'static str] {
    match manifest {
        "Cargo.toml" => &["Cargo.lock"],
        "package.json" => &["package-lock.json", "npm-shrinkwrap.json"],
        "pyproject.toml" => &["uv.lock"],
        _ => &[],
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir == "." || dir.is_empty() {
        name.to_string()
    } else {
        format!("{}/{name}", dir.trim_end_matches('/'))
    }
}

/// The version files detected in `dir` (from the repository root at `root`).
pub fn detect(root: &Path, dir: &str) -> Vec<String> {
    let mut out = Vec::new();
    for name in DETECTED {
        let rel = join(dir, name);
        if !root.join(&rel).is_file() {
            continue;
        }
        out.push(rel);
        for lock in locks_of(name) {
            // The nearest lock in `dir` or above.
            let mut d = Some(dir.to_string());
            while let Some(cur) = d {
                let candidate = join(&cur, lock);
                if root.join(&candidate).is_file() {
                    if !out.contains(&candidate) {
                        out.push(candidate);
                    }
                    break;
                }
                d = match cur.rsplit_once('/') {
                    Some((up, _)) => Some(up.to_string()),
                    None if cur != "." => Some(".".to_string()),
                    None => None,
                };
            }
        }
    }
    out
}

fn is_manifest_or_lock(kind: &Kind) -> bool {
    matches!(
        kind,
        Kind::CargoToml
            | Kind::CargoLock
            | Kind::PackageJson
            | Kind::PackageLock
            | Kind::Pyproject
            | Kind::UvLock
    )
}

/// Every file the pull request changes, in a stable order: each package's version files,
/// then its changelog. A file that cannot be updated is an error naming it.
pub fn edits(h: &History, request: &Request, nexts: &[Next]) -> Result<Vec<FileEdit>> {
    let root = h.repo.root().to_path_buf();
    let files_of = |unit: usize| -> Vec<String> {
        let u = &h.units[unit];
        u.version_files
            .clone()
            .unwrap_or_else(|| detect(&root, crate::facts::dir(u)))
    };
    // Every package's passes share what the disk holds: each file is read once per run.
    let disk = Disk::default();
    let mut overlay: BTreeMap<PathBuf, String> = BTreeMap::new();
    let mut before: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let single = h.units.len() == 1 && h.units[0].name == ".";
    let all_manifests: Vec<String> = (0..h.units.len())
        .flat_map(files_of)
        .filter(|f| is_manifest_or_lock(&Kind::detect(f)))
        .collect();
    let canonical_root = root
        .canonicalize()
        .with_context(|| format!("cannot read the repository at {}", root.display()))?;
    let mut record =
        |rel: &str, text: String, overlay: &mut BTreeMap<PathBuf, String>| -> Result<()> {
            let path = root.join(rel);
            let rel = in_repository(&canonical_root, rel)?;
            if !before.contains_key(&rel) {
                before.insert(rel.clone(), std::fs::read_to_string(&path).ok());
                order.push(rel);
            }
            let key = path.canonicalize().unwrap_or(path);
            overlay.insert(key, text);
            Ok(())
        };
    for next in nexts {
        let own = files_of(next.unit);
        let with_kind = |list: &[String]| -> Vec<(PathBuf, Kind)> {
            list.iter()
                .map(|f| (root.join(f), Kind::detect(f)))
                .collect()
        };
        // Each pass: files, the package whose version they get (`None`: every version in
        // them), and whether a refusal is the run's error (a file of another package that
        // does not name this one is simply not concerned).
        let mut passes: Vec<(Vec<String>, Option<String>, Vec<String>)> = Vec::new();
        if single {
            passes.push((own.clone(), None, own.clone()));
        } else {
            let name = own
                .iter()
                .filter(|f| {
                    matches!(
                        Kind::detect(f),
                        Kind::CargoToml | Kind::PackageJson | Kind::Pyproject
                    )
                })
                .find_map(|f| {
                    let text = std::fs::read_to_string(root.join(f)).ok()?;
                    package_name(&Kind::detect(f), &text)
                });
            let (manifests, others): (Vec<String>, Vec<String>) = own
                .iter()
                .cloned()
                .partition(|f| is_manifest_or_lock(&Kind::detect(f)));
            passes.push((others.clone(), None, others));
            match name {
                Some(name) => {
                    let mut all = manifests.clone();
                    for f in &all_manifests {
                        if !all.contains(f) {
                            all.push(f.clone());
                        }
                    }
                    passes.push((all, Some(name), manifests));
                }
                None => passes.push((manifests.clone(), None, manifests)),
            }
        }
        for (list, package, fatal) in passes {
            if list.is_empty() {
                continue;
            }
            let plan = plan_files(
                &disk,
                &with_kind(&list),
                next.version.clone(),
                package.as_deref(),
                false,
                &overlay,
            );
            let relative = |display: &str| {
                display
                    .strip_prefix(&format!("{}/", root.display()))
                    .unwrap_or(display)
                    .to_string()
            };
            if let Some(refused) = plan
                .refused
                .iter()
                .find(|r| fatal.contains(&relative(&r.display)))
            {
                bail!(
                    "version file `{}` cannot be updated to {}: {}",
                    relative(&refused.display),
                    next.version,
                    refused.message
                );
            }
            for file in plan.files.into_iter().filter(|f| !f.changes.is_empty()) {
                let rel = file
                    .path
                    .strip_prefix(&root)
                    .unwrap_or(&file.path)
                    .to_string_lossy()
                    .replace('\\', "/");
                record(&rel, file.after, &mut overlay)?;
            }
        }
        if let Some(changelog) = &request.changelog {
            let unit = &h.units[next.unit];
            let rel = join(crate::facts::dir(unit), changelog);
            let path = root.join(&rel);
            let key = path.canonicalize().unwrap_or_else(|_| path.clone());
            let now = overlay
                .get(&key)
                .cloned()
                .or_else(|| std::fs::read_to_string(&path).ok())
                .unwrap_or_default();
            let text = hub_changelog::prepend(&now, &next.section, &next.version.to_string());
            record(&rel, text, &mut overlay)?;
        }
    }
    Ok(order
        .into_iter()
        .filter_map(|rel| {
            let path = root.join(&rel);
            let key = path.canonicalize().unwrap_or(path);
            let after = overlay.get(&key)?.clone();
            let before = before.get(&rel).cloned().flatten();
            (before.as_deref() != Some(after.as_str())).then_some(FileEdit {
                path: rel,
                before,
                after,
            })
        })
        .collect())
}

/// Runs git in `root` with extra environment; returns stdout.
fn git(root: &Path, env: &[(&str, &OsStr)], args: &[&str], input: Option<&[u8]>) -> Result<String> {
    use std::io::Write as _;
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(root).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().context("cannot run git")?;
    if let Some(bytes) = input
        && let Some(mut stdin) = child.stdin.take()
    {
        stdin.write_all(bytes)?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "git {} failed: {}",
            args.first().copied().unwrap_or(""),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The tree of `base` with `files` replaced, as `git add` would make it — through the
/// paths' filters (hub-git's [`Repo::tree_with`]: a scratch index and work tree, five git
/// processes whatever the number of files) —
/// its objects in a scratch object directory, so nothing is written to the repository; with
/// `keep` in the repository instead (for `commit-via: git`, which commits and pushes them).
pub fn tree(repo: &Repo, base: &str, files: &[FileEdit], keep: bool) -> Result<String> {
    let files: Vec<(&str, &[u8])> = files
        .iter()
        .map(|f| (f.path.as_str(), f.after.as_bytes()))
        .collect();
    let objects = if keep {
        Objects::Repository
    } else {
        Objects::Scratch
    };
    Ok(repo.tree_with(base, &files, objects)?)
}

/// Files as git stores them: each one's path and bytes.
pub type Stored = Vec<(String, Vec<u8>)>;

/// [`tree`] (its objects in a scratch object directory) and each of `files` as git stores it,
/// path and bytes: its text through git's filters (`core.autocrlf`, `.gitattributes`) — what
/// a commit made through GitHub's API must hold to have that tree (a CRLF work tree's text
/// stored with LF where git would store LF). Nothing is written to the repository.
pub fn tree_and_stored(repo: &Repo, base: &str, files: &[FileEdit]) -> Result<(String, Stored)> {
    let list: Vec<(&str, &[u8])> = files
        .iter()
        .map(|f| (f.path.as_str(), f.after.as_bytes()))
        .collect();
    let (tree, bytes) = repo.stored_with(base, &list)?;
    Ok((
        tree,
        files.iter().map(|f| f.path.clone()).zip(bytes).collect(),
    ))
}

/// The paths of `files` that are executable files (`100755`) in commit `base`, sorted: the
/// Git Data API writes them with that mode (hub-git's `file_modes`, one `git ls-tree`).
pub fn executables(repo: &Repo, base: &str, files: &[FileEdit]) -> Result<Vec<String>> {
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let mut executable: Vec<String> = repo
        .file_modes(base, &paths)?
        .into_iter()
        .filter(|(_, mode)| *mode == "100755")
        .map(|(path, _)| path.to_owned())
        .collect();
    executable.sort();
    Ok(executable)
}

/// Where `rel` (from the work tree's root) is in the repository once symbolic links are
/// followed, as a file written there lands: a version file or changelog reached through a
/// link is edited at the link's target, as `git add -A` would see it, never as a link
/// replaced by a file. A path that leads out of the repository is an error naming it.
/// `root` is canonical (`Path::canonicalize`).
pub fn in_repository(root: &Path, rel: &str) -> Result<String> {
    // The nearest part of the path that exists, resolved, and the new names below it.
    let mut existing = root.join(rel);
    let mut below = Vec::new();
    let resolved = loop {
        if let Ok(real) = existing.canonicalize() {
            break real;
        }
        match existing.file_name() {
            Some(name) => below.push(name.to_os_string()),
            None => bail!("cannot resolve `{rel}` in {}", root.display()),
        }
        if !existing.pop() {
            bail!("cannot resolve `{rel}` in {}", root.display());
        }
    };
    let full = below.into_iter().rev().fold(resolved, |p, n| p.join(n));
    let inside = full.strip_prefix(root).map_err(|_| {
        anyhow::anyhow!(
            "`{rel}` leads out of the repository (to {}) through a symbolic link",
            full.display()
        )
    })?;
    Ok(inside
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/"))
}

/// `commit-via: git`: the commit of `tree` on `base` made by git (signed when the
/// repository's configuration says so: `commit.gpgSign`), pushed to `origin` as `branch`.
pub fn commit_and_push(
    root: &Path,
    base: &str,
    tree: &str,
    message: &str,
    branch: &str,
) -> Result<String> {
    // Without an identity of the repository's (a runner has none), the Actions bot's.
    let configured = git(root, &[], &["config", "user.email"], None).is_ok_and(|e| !e.is_empty());
    let bot: Vec<(&str, &OsStr)> = if configured {
        Vec::new()
    } else {
        let (name, email) = (
            OsStr::new("github-actions[bot]"),
            OsStr::new("41898282+github-actions[bot]@users.noreply.github.com"),
        );
        vec![
            ("GIT_AUTHOR_NAME", name),
            ("GIT_AUTHOR_EMAIL", email),
            ("GIT_COMMITTER_NAME", name),
            ("GIT_COMMITTER_EMAIL", email),
        ]
    };
    let sha = git(
        root,
        &bot,
        &["commit-tree", tree, "-p", base, "-F", "-"],
        Some(message.as_bytes()),
    )?;
    git(
        root,
        &[],
        &[
            "push",
            "--force",
            "--quiet",
            "origin",
            &format!("{sha}:refs/heads/{branch}"),
        ],
        None,
    )
    .with_context(|| format!("cannot push branch `{branch}` to `origin`"))?;
    Ok(sha)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(dir: &Path, args: &[&str]) -> String {
        git(
            dir,
            &[
                ("GIT_AUTHOR_NAME", OsStr::new("A")),
                ("GIT_AUTHOR_EMAIL", OsStr::new("a@example.com")),
                ("GIT_COMMITTER_NAME", OsStr::new("A")),
                ("GIT_COMMITTER_EMAIL", OsStr::new("a@example.com")),
            ],
            args,
            None,
        )
        .expect("git")
    }

    #[test]
    fn detection_finds_the_manifests_and_the_nearest_locks() {
        let dir = tempfile::tempdir().expect("tempdir");
        for (path, text) in [
            ("Cargo.lock", ""),
            ("crates/a/Cargo.toml", ""),
            ("web/package.json", ""),
            ("web/npm-shrinkwrap.json", ""),
            ("py/pyproject.toml", ""),
            ("uv.lock", ""),
            ("chart/Chart.yaml", ""),
            ("VERSION", ""),
        ] {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().expect("a parent")).expect("mkdir");
            std::fs::write(p, text).expect("write");
        }
        assert_eq!(
            detect(dir.path(), "crates/a"),
            ["crates/a/Cargo.toml", "Cargo.lock"]
        );
        assert_eq!(
            detect(dir.path(), "web"),
            ["web/package.json", "web/npm-shrinkwrap.json"]
        );
        assert_eq!(detect(dir.path(), "py"), ["py/pyproject.toml", "uv.lock"]);
        assert_eq!(detect(dir.path(), "chart"), ["chart/Chart.yaml"]);
        assert_eq!(detect(dir.path(), "."), ["VERSION"]);
    }

    #[test]
    fn the_tree_is_gits_and_nothing_is_written_to_the_repository() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        run(root, &["init", "-q", "-b", "main"]);
        std::fs::write(root.join("VERSION"), "1.0.0\n").expect("write");
        run(root, &["add", "VERSION"]);
        run(root, &["commit", "-q", "-m", "start"]);
        let base = run(root, &["rev-parse", "HEAD"]);
        let count = || run(root, &["count-objects"]);
        let objects = count();
        let edits = [
            FileEdit {
                path: "VERSION".into(),
                before: Some("1.0.0\n".into()),
                after: "1.1.0\n".into(),
            },
            FileEdit {
                path: "docs/CHANGELOG.md".into(),
                before: None,
                after: "# Changelog\n".into(),
            },
        ];
        let repo = Repo::discover(root).expect("a repository");
        let tree = tree(&repo, &base, &edits, false).expect("a tree");
        assert_eq!(count(), objects, "the repository's objects are untouched");
        // The same files committed by git give the same tree.
        std::fs::write(root.join("VERSION"), "1.1.0\n").expect("write");
        std::fs::create_dir_all(root.join("docs")).expect("mkdir");
        std::fs::write(root.join("docs/CHANGELOG.md"), "# Changelog\n").expect("write");
        run(root, &["add", "-A"]);
        run(root, &["commit", "-q", "-m", "bump"]);
        assert_eq!(run(root, &["rev-parse", "HEAD^{tree}"]), tree);
    }
    /// A version file and a changelog reached through symbolic links (a linked file and a
    /// linked directory) are edited where they are: the tree is `git add -A`'s after
    /// writing through the links, whose own entries stay links.
    #[cfg(unix)]
    #[test]
    fn files_reached_through_symbolic_links_are_edited_at_their_targets() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        run(root, &["init", "-q", "-b", "main"]);
        std::fs::create_dir_all(root.join("shared/docs")).expect("mkdir");
        std::fs::write(root.join("shared/VERSION"), "1.0.0\n").expect("write");
        std::os::unix::fs::symlink("shared/VERSION", root.join("VERSION")).expect("symlink");
        std::os::unix::fs::symlink("shared/docs", root.join("docs")).expect("symlink");
        run(root, &["add", "-A"]);
        run(root, &["commit", "-q", "-m", "start"]);
        let base = run(root, &["rev-parse", "HEAD"]);
        let canonical = root.canonicalize().expect("canonical");
        let root = canonical.as_path();
        assert_eq!(
            in_repository(root, "VERSION").expect("inside"),
            "shared/VERSION"
        );
        assert_eq!(
            in_repository(root, "docs/CHANGELOG.md").expect("inside"),
            "shared/docs/CHANGELOG.md"
        );
        assert_eq!(
            in_repository(root, "new/dir/file").expect("inside"),
            "new/dir/file"
        );
        let outside = tempfile::tempdir().expect("tempdir");
        std::os::unix::fs::symlink(outside.path(), root.join("away")).expect("symlink");
        let err = in_repository(root, "away/VERSION").expect_err("outside");
        assert!(
            err.to_string()
                .starts_with("`away/VERSION` leads out of the repository"),
            "{err}"
        );
        std::fs::remove_file(root.join("away")).expect("rm");
        let edits = [
            FileEdit {
                path: in_repository(root, "VERSION").expect("inside"),
                before: Some("1.0.0\n".into()),
                after: "1.1.0\n".into(),
            },
            FileEdit {
                path: in_repository(root, "docs/CHANGELOG.md").expect("inside"),
                before: None,
                after: "# Changelog\n".into(),
            },
        ];
        let repo = Repo::discover(root).expect("a repository");
        let tree = tree(&repo, &base, &edits, false).expect("a tree");
        std::fs::write(root.join("VERSION"), "1.1.0\n").expect("write through the link");
        std::fs::write(root.join("docs/CHANGELOG.md"), "# Changelog\n").expect("write");
        run(root, &["add", "-A"]);
        assert_eq!(run(root, &["write-tree"]), tree);
        let links = run(root, &["ls-tree", &tree, "VERSION", "docs"]);
        assert_eq!(links.matches("120000 blob").count(), 2, "{links}");
    }
}
