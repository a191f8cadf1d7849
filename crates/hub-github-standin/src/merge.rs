//! Three-way merges for the merge endpoint, made by git itself: the repository's objects
//! written into a scratch bare repository, `git merge-tree --write-tree` there, and the
//! objects of the merged tree read back. GitHub merges a pull request whose base moved on
//! the same way (a merge of the two heads, conflicts refused), so a test can merge a release
//! pull request without "Update branch".

use std::collections::BTreeMap;
use std::path::Path;

use crate::Error;
use crate::git::{Object, Odb};
use crate::mirror::{GitObject, git_input, git_status};

/// What merging two commits gives.
#[derive(Debug)]
pub(crate) enum Merged {
    /// The merged tree (its new objects are in the object database now).
    Tree(String),
    /// The two sides change the same lines (or one deletes what the other changes).
    Conflict,
}

/// Merges commits `ours` and `theirs` of `odb` (their merge base found by git), adding the
/// merged tree's new objects to `odb`.
pub(crate) fn merge(odb: &mut Odb, ours: &str, theirs: &str) -> Result<Merged, Error> {
    let scratch = tempfile::tempdir().map_err(|e| Error::GitCommand {
        git_dir: std::env::temp_dir(),
        command: "merge".to_owned(),
        detail: e.to_string(),
    })?;
    let dir = scratch.path().join("repo.git");
    git_input(
        scratch.path(),
        &["init", "-q", "--bare", "--object-format=sha1", "repo.git"],
        b"",
    )?;
    write_objects(&dir, odb, scratch.path())?;
    let (ok, out) = git_status(
        &dir,
        &[
            "merge-tree",
            "--write-tree",
            "-z",
            "--end-of-options",
            ours,
            theirs,
        ],
    )?;
    // `-z`: the tree first (then, on a conflict, the conflicted entries and messages).
    if !ok {
        return Ok(Merged::Conflict);
    }
    let tree = String::from_utf8_lossy(out.split(|&b| b == 0).next().unwrap_or_default())
        .trim()
        .to_owned();
    read_tree_objects(&dir, odb, &tree)?;
    Ok(Merged::Tree(tree))
}

/// Every object of `odb` into the bare repository `dir`: one `hash-object --stdin-paths` per
/// kind over the objects' bodies written to files in `scratch`.
fn write_objects(dir: &Path, odb: &Odb, scratch: &Path) -> Result<(), Error> {
    let bodies = scratch.join("objects");
    let failed = |e: std::io::Error| Error::GitCommand {
        git_dir: dir.to_path_buf(),
        command: "hash-object".to_owned(),
        detail: e.to_string(),
    };
    std::fs::create_dir(&bodies).map_err(failed)?;
    let mut lists: BTreeMap<&'static str, String> = BTreeMap::new();
    for (id, object) in odb.iter() {
        let file = bodies.join(id);
        std::fs::write(&file, object.encode()).map_err(failed)?;
        let list = lists.entry(object.kind()).or_default();
        list.push_str(&file.to_string_lossy());
        list.push('\n');
    }
    for (kind, list) in lists {
        git_input(
            dir,
            &[
                "hash-object",
                "-w",
                "--literally",
                "--no-filters",
                "-t",
                kind,
                "--stdin-paths",
            ],
            list.as_bytes(),
        )?;
    }
    Ok(())
}

/// The objects of `tree` (itself, its subtrees and blobs) that `odb` lacks, read from `dir`.
fn read_tree_objects(dir: &Path, odb: &mut Odb, tree: &str) -> Result<(), Error> {
    let listing = git_input(dir, &["ls-tree", "-r", "-t", "-z", tree], b"")?;
    let mut wanted = vec![tree.to_owned()];
    for record in listing.split(|&b| b == 0).filter(|r| !r.is_empty()) {
        let meta = record.split(|&b| b == b'\t').next().unwrap_or_default();
        if let Some(id) = String::from_utf8_lossy(meta).split(' ').nth(2) {
            wanted.push(id.to_owned());
        }
    }
    wanted.retain(|id| odb.get(id).is_none());
    wanted.dedup();
    if wanted.is_empty() {
        return Ok(());
    }
    let input: String = wanted.iter().map(|id| format!("{id}\n")).collect();
    let out = git_input(dir, &["cat-file", "--batch"], input.as_bytes())?;
    let bad = |id: &str, reason: &str| Error::GitCommand {
        git_dir: dir.to_path_buf(),
        command: "cat-file --batch".to_owned(),
        detail: format!("{id}: {reason}"),
    };
    let mut rest = out.as_slice();
    for id in &wanted {
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| bad(id, "no header"))?;
        let header = String::from_utf8_lossy(&rest[..end]).into_owned();
        let mut words = header.split(' ');
        let (Some(sha), Some(kind), Some(size)) = (words.next(), words.next(), words.next()) else {
            return Err(bad(id, &header));
        };
        let size: usize = size.parse().map_err(|_| bad(id, &header))?;
        let body = rest
            .get(end + 1..end + 1 + size)
            .ok_or_else(|| bad(id, "short body"))?;
        let object: Object = GitObject::from_raw(sha, kind, body)
            .and_then(|o| o.to_object())
            .map_err(|reason| bad(id, &reason))?;
        if object.id() != *sha {
            return Err(bad(id, "the stand-in encodes it differently"));
        }
        odb.insert_with_id(sha.to_owned(), object);
        rest = rest.get(end + 2 + size..).unwrap_or_default();
    }
    Ok(())
}
