//! A would-be tree: a commit's tree with some files' contents replaced, computed by git in a
//! scratch index and work tree (`git add`, so the files go through git's filters), in five
//! git processes whatever the number of files.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::Path;

use crate::spawn::{self, Output};
use crate::{GitError, Repo};

/// Where [`Repo::tree_with`] puts the objects it makes (the files' blobs and the trees).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Objects {
    /// Into the repository: a commit is about to be made of the tree.
    Repository,
    /// Into a scratch object directory that is removed afterwards (the repository's objects
    /// read as alternates): nothing is written to the repository.
    Scratch,
}

/// Above this many bytes of paths the modes are read from the whole tree's listing rather
/// than from a listing of the paths given on the command line (Windows' command line holds
/// 32,767 characters).
const PATHS_ON_COMMAND_LINE: usize = 24 * 1024;

fn checked(out: Output, args: &str) -> Result<Vec<u8>, GitError> {
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(GitError::Command {
            args: args.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}

/// Configuration for the git processes that work in the scratch index and work tree: each
/// file's mode taken from the index (the base's: an executable stays one, a new file is
/// `100644`) rather than from the copy, which the WebAssembly build cannot make executable;
/// no file-system monitor started on the scratch directory, no split index (whose shared part
/// would be written into the repository), no sparse-checkout refusal of a path.
const SCRATCH_CONFIG: [&str; 8] = [
    "-c",
    "core.fileMode=false",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "core.splitIndex=false",
    "-c",
    "core.sparseCheckout=false",
];

impl Repo {
    /// The tree of commit `base` with each of `files` — a path from the repository's root
    /// and its new bytes, as they would be written to the work tree — in place, stored as
    /// `git add` stores them: through the path's filters (`core.autocrlf`, `.gitattributes`'
    /// `text`/`eol`, `ident`, `filter`, from the repository's configuration and the base's
    /// attribute files), a file whose blob in `base` has CRLF kept as it is, as git does. A
    /// file of `base` keeps its mode (an executable stays executable), a new one is a
    /// regular file (`100644`), in new directories as needed. A path that is a symbolic
    /// link, a submodule or a directory in `base` is an error naming it.
    ///
    /// Five git processes whatever the number of files: one `ls-tree` for the modes, one
    /// `rev-parse` for the repository's git and object directories, then `read-tree`,
    /// `add` (of copies of the files in a scratch work tree, the paths on its stdin) and
    /// `write-tree` in a scratch index. The repository's index and work tree are never
    /// touched; its object store only with [`Objects::Repository`].
    pub fn tree_with(
        &self,
        base: &str,
        files: &[(&str, &[u8])],
        objects: Objects,
    ) -> Result<String, GitError> {
        Ok(self.build(base, files, objects, false)?.0)
    }

    /// [`Repo::tree_with`]'s tree (its objects in a scratch object directory) and each
    /// file's bytes as git stores them — what a commit made elsewhere (through GitHub's API)
    /// must hold to have this tree: a CRLF work tree's text with LF where `core.autocrlf` or
    /// `.gitattributes` say so. One process more: a `cat-file --batch` of the scratch index's
    /// entries. A path with a line break is an error naming it (`--batch` reads lines).
    pub fn stored_with(
        &self,
        base: &str,
        files: &[(&str, &[u8])],
    ) -> Result<(String, Vec<Vec<u8>>), GitError> {
        self.build(base, files, Objects::Scratch, true)
    }

    fn build(
        &self,
        base: &str,
        files: &[(&str, &[u8])],
        objects: Objects,
        read_back: bool,
    ) -> Result<(String, Vec<Vec<u8>>), GitError> {
        // Only files are replaced: a path that is something else in `base` is refused.
        let paths: Vec<&str> = files.iter().map(|(p, _)| *p).collect();
        self.file_modes(base, &paths)?;
        let scratch = scratch_dir().map_err(GitError::Scratch)?;
        let index = scratch.path().join("index");
        let work = scratch.path().join("work");
        let scratch_objects = scratch.path().join("objects");
        let args = [
            "rev-parse",
            "--path-format=absolute",
            "--git-dir",
            "--git-path",
            "objects",
        ];
        let out = checked(spawn::git_in(&self.root, args)?, &args.join(" "))?;
        let out = String::from_utf8_lossy(&out).into_owned();
        let mut lines = out.lines();
        let (Some(git_dir), Some(repo_objects)) = (lines.next(), lines.next()) else {
            return Err(GitError::Output {
                args: args.join(" "),
            });
        };
        let mut env: Vec<(&str, &OsStr)> = vec![
            ("GIT_DIR", OsStr::new(git_dir)),
            ("GIT_WORK_TREE", work.as_os_str()),
            ("GIT_INDEX_FILE", index.as_os_str()),
        ];
        if objects == Objects::Scratch {
            std::fs::create_dir(&scratch_objects).map_err(GitError::Scratch)?;
            env.push(("GIT_OBJECT_DIRECTORY", scratch_objects.as_os_str()));
            env.push(("GIT_ALTERNATE_OBJECT_DIRECTORIES", OsStr::new(repo_objects)));
        }
        std::fs::create_dir(&work).map_err(GitError::Scratch)?;
        let git = |args: &[&str], input: Option<Vec<u8>>| -> Result<Vec<u8>, GitError> {
            let full: Vec<&str> = SCRATCH_CONFIG.iter().chain(args).copied().collect();
            checked(
                spawn::git_with_env(&work, &full, &env, input)?,
                &args.join(" "),
            )
        };
        git(&["read-tree", "--end-of-options", base], None)?;
        if !files.is_empty() {
            let mut paths = Vec::new();
            for (path, bytes) in files {
                write_copy(&work, path, bytes)?;
                paths.extend_from_slice(path.as_bytes());
                paths.push(0);
            }
            // `-f`: a path that an ignore rule names is written all the same.
            git(
                &[
                    "--literal-pathspecs",
                    "add",
                    "-f",
                    "--pathspec-from-file=-",
                    "--pathspec-file-nul",
                ],
                Some(paths),
            )?;
        }
        let tree = git(&["write-tree"], None)?;
        let tree = String::from_utf8_lossy(&tree).trim_end().to_string();
        if !read_back || files.is_empty() {
            return Ok((tree, Vec::new()));
        }
        let mut input = Vec::new();
        for (path, _) in files {
            if path.contains('\n') {
                return Err(GitError::Scratch(std::io::Error::other(format!(
                    "`{}` has a line break in its name: its stored bytes cannot be read back",
                    path.escape_debug()
                ))));
            }
            input.extend_from_slice(format!(":0:{path}\n").as_bytes());
        }
        let out = git(&["cat-file", "--batch"], Some(input))?;
        Ok((tree, batch_contents(&out, files.len())?))
    }

    /// Each of `paths`' mode once it is written as a file over commit `base` (one
    /// `git ls-tree -r`): `100755` for an executable file of `base`, else `100644` (a file of
    /// `base` or a new one). A path that is a symbolic link, a submodule or a directory in
    /// `base` is an error naming it — only files are written.
    pub fn file_modes<'a>(
        &self,
        base: &str,
        paths: &[&'a str],
    ) -> Result<HashMap<&'a str, &'static str>, GitError> {
        if paths.is_empty() {
            return Ok(HashMap::new());
        }
        let mut args: Vec<&str> = vec![
            "--literal-pathspecs",
            "ls-tree",
            "-r",
            "-z",
            "--full-tree",
            "--end-of-options",
            base,
        ];
        let listed: usize = paths.iter().map(|p| p.len() + 3).sum();
        if listed <= PATHS_ON_COMMAND_LINE {
            args.push("--");
            args.extend(paths.iter().copied());
        }
        let out = checked(
            spawn::git_in(&self.root, &args)?,
            &format!("ls-tree -r {base}"),
        )?;
        let bad = || GitError::Output {
            args: "ls-tree -r".into(),
        };
        let wanted: HashMap<&str, &'a str> = paths.iter().map(|p| (*p, *p)).collect();
        let mut modes: HashMap<&'a str, &'static str> =
            paths.iter().map(|p| (*p, "100644")).collect();
        for record in out.split(|&b| b == 0).filter(|r| !r.is_empty()) {
            let tab = record.iter().position(|&b| b == b'\t').ok_or_else(bad)?;
            let (meta, path) = (&record[..tab], &record[tab + 1..]);
            let path = std::str::from_utf8(path).map_err(|_| bad())?;
            let mode = meta.split(|&b| b == b' ').next().ok_or_else(bad)?;
            // A listed path under one of ours makes ours a directory.
            let (ours, directory) = match wanted.get(path) {
                Some(p) => (*p, false),
                None => match path
                    .char_indices()
                    .filter(|&(_, c)| c == '/')
                    .find_map(|(i, _)| wanted.get(&path[..i]))
                {
                    Some(p) => (*p, true),
                    None => continue,
                },
            };
            let what = match (directory, mode) {
                (false, b"100644") => {
                    modes.insert(ours, "100644");
                    continue;
                }
                (false, b"100755") => {
                    modes.insert(ours, "100755");
                    continue;
                }
                (true, _) => "a directory",
                (false, b"120000") => "a symbolic link",
                (false, b"160000") => "a submodule",
                _ => return Err(bad()),
            };
            return Err(GitError::NotAFile {
                path: ours.to_string(),
                what,
                base: base.to_string(),
            });
        }
        Ok(modes)
    }
}

/// The contents in `git cat-file --batch`'s output of `count` objects, in order.
fn batch_contents(mut out: &[u8], count: usize) -> Result<Vec<Vec<u8>>, GitError> {
    let bad = || GitError::Output {
        args: "cat-file --batch".into(),
    };
    let mut contents = Vec::with_capacity(count);
    for _ in 0..count {
        let end = out.iter().position(|&b| b == b'\n').ok_or_else(bad)?;
        let header = std::str::from_utf8(&out[..end]).map_err(|_| bad())?;
        let size: usize = header
            .rsplit(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .filter(|_| header.split(' ').nth(1) == Some("blob"))
            .ok_or_else(bad)?;
        let body = out.get(end + 1..end + 1 + size).ok_or_else(bad)?;
        contents.push(body.to_vec());
        out = out.get(end + 2 + size..).ok_or_else(bad)?;
    }
    Ok(contents)
}

/// `path`'s bytes at `path` under the scratch work tree `work`.
fn write_copy(work: &Path, path: &str, bytes: &[u8]) -> Result<(), GitError> {
    if path
        .split('/')
        .any(|part| matches!(part, "" | "." | ".." | ".git") || part.contains('\\'))
    {
        return Err(GitError::Scratch(std::io::Error::other(format!(
            "`{path}` is not a file path inside the repository"
        ))));
    }
    let copy = path
        .split('/')
        .fold(work.to_path_buf(), |dir, part| dir.join(part));
    if let Some(dir) = copy.parent() {
        std::fs::create_dir_all(dir).map_err(GitError::Scratch)?;
    }
    std::fs::write(&copy, bytes).map_err(GitError::Scratch)
}

/// A scratch directory under the system's temporary directory (`hub_wasi::temp_dir`: under
/// WebAssembly the standard library has none).
fn scratch_dir() -> std::io::Result<tempfile::TempDir> {
    #[cfg(target_os = "wasi")]
    let root = hub_wasi::temp_dir();
    #[cfg(not(target_os = "wasi"))]
    let root = std::env::temp_dir();
    tempfile::Builder::new().tempdir_in(root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hub_testkit::git::{DATE, command, line as git};

    fn write(root: &Path, rel: &str, bytes: &[u8]) {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, bytes).expect("write");
    }

    /// A repository with an executable, CRLF text, a symbolic link (on Unix), odd names and
    /// 150 packages' `VERSION` files, committed; and the edits of a release to it.
    fn repository() -> (tempfile::TempDir, Vec<(String, Vec<u8>)>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        git(root, &["init", "-q", "-b", "main"]);
        git(root, &["config", "core.autocrlf", "false"]);
        write(root, "bin/release.sh", b"#!/bin/sh\necho 1.0.0\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let path = root.join("bin/release.sh");
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        write(root, "windows/notes.txt", b"1.0.0\r\nline two\r\n");
        write(root, "caf\u{e9} \u{1f680}/VERSION", b"1.0.0\n");
        for i in 0..150 {
            write(root, &format!("packages/p{i:03}/VERSION"), b"1.0.0\n");
        }
        git(root, &["add", "-A"]);
        git(
            root,
            &["update-index", "--chmod=+x", "--", "bin/release.sh"],
        );
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("packages/p000/VERSION", root.join("VERSION"))
                .expect("symlink");
            git(root, &["add", "VERSION"]);
        }
        git(root, &["commit", "-q", "-m", "start"]);
        let mut edits: Vec<(String, Vec<u8>)> = vec![
            ("bin/release.sh".into(), b"#!/bin/sh\necho 1.1.0\n".to_vec()),
            (
                "windows/notes.txt".into(),
                b"1.1.0\r\nline two\r\n".to_vec(),
            ),
            (
                "windows/CHANGELOG.md".into(),
                b"# Changelog\r\n\r\n## 1.1.0\r\n".to_vec(),
            ),
            ("caf\u{e9} \u{1f680}/VERSION".into(), b"1.1.0\n".to_vec()),
            (
                "new/deep/directory/CHANGELOG.md".into(),
                b"# Changelog\n".to_vec(),
            ),
            ("empty".into(), Vec::new()),
        ];
        for i in 0..150 {
            edits.push((format!("packages/p{i:03}/VERSION"), b"1.1.0\n".to_vec()));
            edits.push((
                format!("packages/p{i:03}/CHANGELOG.md"),
                format!("# p{i:03}\n\n## 1.1.0\n").into_bytes(),
            ));
        }
        (dir, edits)
    }

    #[test]
    fn the_tree_is_the_one_git_add_would_make_and_the_repository_is_untouched() {
        let (dir, edits) = repository();
        let root = dir.path();
        let repo = Repo::discover(root).expect("a repository");
        let base = repo.rev_parse("HEAD").expect("HEAD");
        let files: Vec<(&str, &[u8])> = edits
            .iter()
            .map(|(p, b)| (p.as_str(), b.as_slice()))
            .collect();
        let index = std::fs::read(root.join(".git/index")).expect("the index");
        let objects = git(root, &["count-objects", "-v"]);
        let tree = repo
            .tree_with(&base, &files, Objects::Scratch)
            .expect("a tree");
        assert_eq!(
            git(root, &["count-objects", "-v"]),
            objects,
            "no object written"
        );
        assert_eq!(
            std::fs::read(root.join(".git/index")).expect("the index"),
            index,
            "the index is untouched"
        );
        assert_eq!(
            git(root, &["status", "--porcelain"]),
            "",
            "nor the work tree"
        );
        // The scratch objects are gone with their directory.
        assert!(
            command(root, DATE)
                .args(["cat-file", "-e", &tree])
                .status()
                .is_ok_and(|s| !s.success())
        );
        // Into the repository: the same tree, now readable.
        let kept = repo
            .tree_with(&base, &files, Objects::Repository)
            .expect("a tree");
        assert_eq!(kept, tree);
        assert_eq!(git(root, &["cat-file", "-t", &kept]), "tree");
        // The same files written and added by git give the same tree.
        for (path, bytes) in &edits {
            write(root, path, bytes);
        }
        git(root, &["add", "-A"]);
        assert_eq!(git(root, &["write-tree"]), tree);
        let listing = git(root, &["ls-tree", "-r", &tree, "--", "bin", "VERSION"]);
        assert!(listing.contains("100755 blob"), "{listing}");
        #[cfg(unix)]
        assert!(listing.contains("120000 blob"), "{listing}");
    }

    #[test]
    fn a_path_that_is_not_a_file_in_the_base_is_an_error_naming_it() {
        let (dir, _) = repository();
        let repo = Repo::discover(dir.path()).expect("a repository");
        let base = repo.rev_parse("HEAD").expect("HEAD");
        let err = repo
            .tree_with(&base, &[("packages/p001", b"1.1.0\n")], Objects::Scratch)
            .expect_err("a directory");
        assert_eq!(
            err.to_string(),
            format!("`packages/p001` is a directory in {base}, not a file")
        );
        #[cfg(unix)]
        {
            let err = repo
                .tree_with(&base, &[("VERSION", b"1.1.0\n")], Objects::Scratch)
                .expect_err("a symbolic link");
            assert_eq!(
                err.to_string(),
                format!("`VERSION` is a symbolic link in {base}, not a file")
            );
        }
        // Nothing to replace: the base's own tree.
        let tree = repo
            .tree_with(&base, &[], Objects::Scratch)
            .expect("a tree");
        assert_eq!(tree, git(dir.path(), &["rev-parse", "HEAD^{tree}"]));
    }

    /// `tree_with` against `git add` of the same files in a checkout of `base` configured by
    /// `setup`: the committed repository `files`, then `edits` (each tree must be git's own).
    fn same_tree_as_git_add(
        setup: &[&[&str]],
        files: &[(&str, &[u8])],
        edits: &[(&str, &[u8])],
    ) -> (String, String) {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        git(root, &["init", "-q", "-b", "main"]);
        git(root, &["config", "core.autocrlf", "false"]);
        for (path, bytes) in files {
            write(root, path, bytes);
        }
        git(root, &["add", "-A"]);
        git(root, &["commit", "-q", "-m", "start"]);
        for args in setup {
            git(root, args);
        }
        let repo = Repo::discover(root).expect("a repository");
        let base = repo.rev_parse("HEAD").expect("HEAD");
        let ours = repo
            .tree_with(&base, edits, Objects::Scratch)
            .expect("a tree");
        let kept = repo
            .tree_with(&base, edits, Objects::Repository)
            .expect("a tree");
        assert_eq!(kept, ours);
        let (tree, stored) = repo.stored_with(&base, edits).expect("a tree");
        assert_eq!(tree, ours);
        for (path, bytes) in edits {
            write(root, path, bytes);
        }
        git(root, &["add", "-A"]);
        // Each file's bytes as git stored them.
        for ((path, _), ours) in edits.iter().zip(&stored) {
            let theirs = command(root, DATE)
                .args(["cat-file", "blob", &format!(":0:{path}")])
                .output()
                .expect("git runs")
                .stdout;
            assert_eq!(
                String::from_utf8_lossy(ours),
                String::from_utf8_lossy(&theirs),
                "{path}"
            );
        }
        (ours, git(root, &["write-tree"]))
    }

    #[test]
    fn with_core_autocrlf_the_blobs_are_the_ones_git_add_stores() {
        let (ours, theirs) = same_tree_as_git_add(
            &[&["config", "core.autocrlf", "true"]],
            &[
                ("CHANGELOG.md", b"# Changelog\n\n## 1.0.0\n"),
                // Committed with CRLF: git keeps a file's CRLF when the index has it.
                ("windows/notes.txt", b"1.0.0\r\nline two\r\n"),
                ("logo.bin", b"\x00\x01\r\n"),
            ],
            &[
                // A Windows checkout's CRLF text, written back as it was read.
                (
                    "CHANGELOG.md",
                    b"# Changelog\r\n\r\n## 1.1.0\r\n\r\n## 1.0.0\r\n",
                ),
                ("windows/notes.txt", b"1.1.0\r\nline two\r\n"),
                ("packages/new/CHANGELOG.md", b"# new\r\n\r\n## 0.1.0\r\n"),
                ("logo.bin", b"\x00\x02\r\n"),
            ],
        );
        assert_eq!(ours, theirs);
    }

    #[test]
    fn with_a_gitattributes_eol_crlf_the_blobs_are_the_ones_git_add_stores() {
        let (ours, theirs) = same_tree_as_git_add(
            &[],
            &[
                (".gitattributes", b"* text=auto eol=crlf\n*.keep -text\n"),
                ("docs/.gitattributes", b"*.md text eol=crlf\n"),
                ("CHANGELOG.md", b"# Changelog\n"),
                ("docs/CHANGES.md", b"# Changes\n"),
                ("raw.keep", b"raw\r\n"),
            ],
            &[
                ("CHANGELOG.md", b"# Changelog\r\n\r\n## 1.1.0\r\n"),
                ("docs/CHANGES.md", b"# Changes\r\n\r\n## 1.1.0\r\n"),
                ("docs/new.md", b"# New\r\n"),
                ("raw.keep", b"raw 1.1.0\r\n"),
            ],
        );
        assert_eq!(ours, theirs);
    }
}
