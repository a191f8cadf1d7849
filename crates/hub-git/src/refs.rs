//! The cheap start: tag refs read from the repository's files, and "which repository, is it
//! shallow, and what are these revisions" answered from those files too — or by one
//! `git rev-parse` when they are not ordinary.
//!
//! A release run needs little before its one `git log`: the work tree, whether the clone is
//! shallow, the commit of `to`, and the tag names with the commit of the best candidate.
//! Spawning git for each costs more than the log itself on a small range, so the tag names
//! come from `packed-refs` and `refs/tags/` directly and everything else from a single
//! `git rev-parse`. Anything unusual (a `GIT_DIR`-style environment, a reftable repository,
//! a symbolic tag ref) makes [`local_tag_refs`] answer `None`, and callers use the
//! step-by-step git commands instead, so behaviour never depends on this shortcut.

use std::path::{Path, PathBuf};

use crate::odb::Odb;
use crate::{GitError, Repo, git_in};

/// A tag ref as stored: its short name and the object it names (a commit, or a tag object
/// for an annotated tag; peel it with [`Repo::open_resolving`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagRef {
    /// Short name (`v1.2.3`, `api/v1.0.0`).
    pub name: String,
    /// The object id the ref holds.
    pub target: String,
}

/// Environment variables that change how git finds a repository; when one is set we let git
/// do the finding.
const DISCOVERY_VARS: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_COMMON_DIR",
    "GIT_CEILING_DIRECTORIES",
    "GIT_DISCOVERY_ACROSS_FILESYSTEM",
    "GIT_NAMESPACE",
    "GIT_REF_PARANOIA",
];

/// Where a repository's files are, found without git.
#[derive(Clone, Debug)]
struct Layout {
    /// The work tree's root (where `.git` is), canonical.
    work_tree: PathBuf,
    /// The git directory: `.git`, or a worktree's `.git/worktrees/<name>`, canonical.
    git_dir: PathBuf,
    /// The common git directory (`refs/`, `packed-refs`, `objects/`), canonical.
    common_dir: PathBuf,
}

/// Finds the repository containing `dir` the way git does for ordinary layouts: a `.git`
/// directory, or a `.git` file (`gitdir: …`, worktrees and submodules) with its
/// `commondir`. `None` for anything else (bare repositories, discovery variables set).
fn find_layout(dir: &Path) -> Option<Layout> {
    if DISCOVERY_VARS.iter().any(|v| std::env::var_os(v).is_some()) {
        return None;
    }
    let start = std::fs::canonicalize(dir).ok()?;
    for at in start.ancestors() {
        let dot_git = at.join(".git");
        let Ok(meta) = std::fs::metadata(&dot_git) else {
            continue;
        };
        let git_dir = if meta.is_dir() {
            dot_git
        } else {
            let text = std::fs::read_to_string(&dot_git).ok()?;
            let target = text.strip_prefix("gitdir:")?.trim();
            at.join(target)
        };
        let common = match std::fs::read_to_string(git_dir.join("commondir")) {
            Ok(c) => git_dir.join(c.trim()),
            Err(_) => git_dir.clone(),
        };
        return Some(Layout {
            work_tree: at.to_path_buf(),
            git_dir: std::fs::canonicalize(git_dir).ok()?,
            common_dir: std::fs::canonicalize(common).ok()?,
        });
    }
    None
}

/// The common git directory (where `refs/` and `packed-refs` live) of the repository
/// containing `dir`, found the way git does for ordinary layouts: a `.git` directory, or a
/// `.git` file (`gitdir: …`, worktrees and submodules) with its `commondir`. `None` for
/// anything else (bare repositories, discovery variables set): ask git.
pub fn find_common_dir(dir: &Path) -> Option<PathBuf> {
    find_layout(dir).map(|l| l.common_dir)
}

/// The text of `packed-refs`: `Some("")` when there is none, `None` when it cannot be read.
fn read_packed_refs(common_dir: &Path) -> Option<String> {
    match std::fs::read_to_string(common_dir.join("packed-refs")) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(String::new()),
        Err(_) => None,
    }
}

/// The entries of a `packed-refs` text: `(object id, full ref name, peeled commit)`, the
/// peeled id from the `^` line that follows a ref when there is one; `None` for a line we
/// cannot read (callers then ask git).
fn packed_entries(text: &str) -> impl Iterator<Item = Option<(&str, &str, Option<&str>)>> {
    let mut lines = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .peekable();
    std::iter::from_fn(move || {
        let line = lines.next()?;
        let peeled = lines.next_if(|l| l.starts_with('^')).map(|l| &l[1..]);
        Some(
            line.split_once(' ')
                .and_then(|(oid, name)| Some((valid_oid(oid)?, name, peeled))),
        )
    })
}

/// The names of the loose tag refs (the files under `refs/tags/`, `/`-separated, refs
/// being written — `.lock` — left out), from directory listings alone.
fn loose_tag_names(common_dir: &Path) -> Option<Vec<String>> {
    let mut loose: Vec<String> = Vec::new();
    let mut stack = vec![String::new()];
    let root = common_dir.join("refs").join("tags");
    while let Some(rel) = stack.pop() {
        let entries = match std::fs::read_dir(root.join(&rel)) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(_) => return None,
        };
        for entry in entries {
            let entry = entry.ok()?;
            let name = entry.file_name().into_string().ok()?;
            let full = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            if entry.file_type().ok()?.is_dir() {
                stack.push(full);
            } else if !full.ends_with(".lock") {
                loose.push(full);
            }
        }
    }
    Some(loose)
}

/// Every tag ref of the repository whose common git directory is `common_dir`, read from
/// `packed-refs` and the loose files under `refs/tags/` (a loose ref wins over a packed one,
/// as in git). `None` when the layout is one we do not read (reftable, a symbolic or
/// malformed tag ref, an unreadable file): use `git for-each-ref` then.
pub fn local_tag_refs(common_dir: &Path) -> Option<Vec<TagRef>> {
    if common_dir.join("reftable").exists() {
        return None;
    }
    let mut tags: std::collections::BTreeMap<String, String> = Default::default();
    for entry in packed_entries(&read_packed_refs(common_dir)?) {
        let (oid, name, _) = entry?;
        if let Some(short) = name.strip_prefix("refs/tags/") {
            tags.insert(short.to_string(), oid.to_string());
        }
    }
    let root = common_dir.join("refs").join("tags");
    for name in loose_tag_names(common_dir)? {
        let path = root.join(&name);
        if !std::fs::symlink_metadata(&path).ok()?.is_file() {
            return None;
        }
        let text = std::fs::read_to_string(&path).ok()?;
        tags.insert(name, valid_oid(text.trim_end())?.to_string());
    }
    Some(
        tags.into_iter()
            .map(|(name, target)| TagRef { name, target })
            .collect(),
    )
}

/// The names of every tag of the repository whose common git directory is `common_dir`,
/// each once, in no particular order, from `packed-refs` and the *names* of the loose files under `refs/tags/` — no
/// loose ref is opened, so listing 5,000 tags costs a few directory reads, not 20,000
/// system calls. Resolve the ones you need with [`Repo::open_resolving`], which also
/// settles what a name's file holds (symbolic refs included). `None` for a layout we do
/// not read (reftable, an unreadable directory).
pub fn local_tag_names(common_dir: &Path) -> Option<Vec<String>> {
    if common_dir.join("reftable").exists() {
        return None;
    }
    let mut names: Vec<String> = Vec::new();
    for entry in packed_entries(&read_packed_refs(common_dir)?) {
        let (_, name, _) = entry?;
        if let Some(short) = name.strip_prefix("refs/tags/") {
            names.push(short.to_string());
        }
    }
    let loose = loose_tag_names(common_dir)?;
    // A name both packed and loose is listed once. Usually one of the two is empty (a
    // fresh clone packs every tag; fetches write loose ones), and nothing is compared:
    // sorting 5,000 names to drop duplicates cost more than reading them.
    if names.is_empty() {
        return Some(loose);
    }
    if !loose.is_empty() {
        let packed: std::collections::HashSet<&str> = names.iter().map(String::as_str).collect();
        let new: Vec<String> = loose
            .into_iter()
            .filter(|n| !packed.contains(n.as_str()))
            .collect();
        names.extend(new);
    }
    Some(names)
}

/// A full SHA-1 or SHA-256 object id, else `None` (a symbolic ref, garbage).
fn valid_oid(s: &str) -> Option<&str> {
    ((s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit())).then_some(s)
}

/// What one `git rev-parse` says about a repository.
#[derive(Clone, Debug)]
pub struct Opened {
    /// The repository.
    pub repo: Repo,
    /// Its common git directory, absolute.
    pub common_dir: PathBuf,
    /// Whether it is a shallow clone.
    pub shallow: bool,
    /// The commit id of each revision asked for, in order.
    pub commits: Vec<String>,
}

/// Variables that change what git reads (configuration given on the command line, other
/// object stores): with one set, git answers.
const CONFIG_VARS: &[&str] = &[
    "GIT_CONFIG",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_REPLACE_REF_BASE",
    "GIT_NO_REPLACE_OBJECTS",
    "GIT_GRAFT_FILE",
    "GIT_SHALLOW_FILE",
];

/// Whether a repository's configuration is one whose work tree and refs we read the plain
/// way: no `core.worktree`, not bare, no per-worktree configuration, no includes (which
/// could say either).
fn plain_config(layout: &Layout) -> bool {
    if layout.git_dir.join("config.worktree").exists() {
        return false;
    }
    let Ok(text) = std::fs::read_to_string(layout.common_dir.join("config")) else {
        return false;
    };
    text.lines().all(|line| {
        let key: String = line
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        !(key.starts_with("worktree")
            || key.starts_with("bare=true")
            || key.starts_with("[include"))
    })
}

/// A branch or tag ref read from the files: its object id, and the commit it peels to
/// when `packed-refs` records that.
fn read_ref(common_dir: &Path, name: &str) -> Option<(String, Option<String>)> {
    if !(name.starts_with("refs/heads/") || name.starts_with("refs/tags/"))
        || name.split('/').any(|part| part.is_empty() || part == "..")
    {
        return None;
    }
    match std::fs::read_to_string(common_dir.join(name)) {
        Ok(text) => return Some((valid_oid(text.trim_end())?.to_ascii_lowercase(), None)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(_) => return None,
    }
    let packed = read_packed_refs(common_dir)?;
    let (oid, peeled) = packed_lookup(&packed, name)?;
    let peeled = peeled.and_then(valid_oid).map(str::to_ascii_lowercase);
    Some((oid.to_ascii_lowercase(), peeled))
}

/// The object id and peeled id of the ref `name` in a `packed-refs` text, found by
/// searching for its line rather than reading every line (a clone of a big project packs
/// thousands of tags, and this runs for each ref resolved).
pub(crate) fn packed_lookup<'t>(text: &'t str, name: &str) -> Option<(&'t str, Option<&'t str>)> {
    let needle = format!(" {name}");
    for (hit, _) in text.match_indices(&needle) {
        let end = hit + needle.len();
        let rest = &text[end..];
        if !(rest.is_empty() || rest.starts_with('\n') || rest.starts_with("\r\n")) {
            continue; // a longer name
        }
        let line_start = text[..hit].rfind('\n').map_or(0, |i| i + 1);
        let Some(oid) = valid_oid(&text[line_start..hit]) else {
            continue;
        };
        let next = rest.trim_start_matches(['\r', '\n']);
        let peeled = next
            .strip_prefix('^')
            .map(|p| p.split(['\n', '\r']).next().unwrap_or(""));
        return Some((oid, peeled));
    }
    None
}

/// The commit `rev` names, read from the repository's files: `HEAD`, a full branch or tag
/// ref name, or a full object id. `None` for any other revision or anything unusual.
/// `odb` is the object database, opened on first need and kept for the next revision.
fn resolve_by_hand(layout: &Layout, rev: &str, odb: &mut Option<Odb>) -> Option<String> {
    let (oid, peeled) = if rev == "HEAD" {
        let head = std::fs::read_to_string(layout.git_dir.join("HEAD")).ok()?;
        let head = head.trim_end();
        match head.strip_prefix("ref: ") {
            Some(name) => read_ref(&layout.common_dir, name)?,
            None => (valid_oid(head)?.to_ascii_lowercase(), None),
        }
    } else if rev.starts_with("refs/") {
        read_ref(&layout.common_dir, rev)?
    } else {
        (valid_oid(rev)?.to_ascii_lowercase(), None)
    };
    if let Some(commit) = peeled {
        // `packed-refs` peels fully; a peeled id that is not a commit fails later in git.
        return Some(commit);
    }
    if odb.is_none() {
        let objects = crate::odb::plain_objects_dir(&layout.common_dir)?;
        *odb = Some(Odb::open(&objects, oid.len() / 2)?);
    }
    odb.as_mut()?.peel_to_commit(&oid)
}

/// Whether a repository is one whose refs and configuration we read by hand: not reftable,
/// a plain configuration ([`plain_config`]).
fn ordinary(layout: &Layout) -> bool {
    !layout.common_dir.join("reftable").exists() && plain_config(layout)
}

/// Whether a repository is a shallow clone.
fn shallow(layout: &Layout) -> bool {
    layout.common_dir.join("shallow").exists() || layout.git_dir.join("shallow").exists()
}

/// The object directory of the repository at `work_tree` when commit walks can read it
/// themselves (`walk.rs`): see [`walkable`]. `None`: walks run `git log`.
pub(crate) fn walkable_objects(work_tree: &Path) -> Option<PathBuf> {
    if CONFIG_VARS.iter().any(|v| std::env::var_os(v).is_some()) {
        return None;
    }
    let layout = find_layout(work_tree)?;
    if !ordinary(&layout) || shallow(&layout) {
        return None;
    }
    walkable(&layout)
}

/// The object directory of an ordinary, not shallow repository when nothing makes git see
/// other parents than the commits name — no grafts, no replace refs — and its objects have
/// no alternates.
fn walkable(layout: &Layout) -> Option<PathBuf> {
    let common = &layout.common_dir;
    let rewired = common.join("info").join("grafts").exists()
        || std::fs::read_dir(common.join("refs").join("replace"))
            .is_ok_and(|mut d| d.next().is_some())
        || read_packed_refs(common)?.contains(" refs/replace/");
    if rewired {
        return None;
    }
    crate::odb::plain_objects_dir(common)
}

/// [`Repo::open_resolving`] without starting git, for ordinary repositories and revisions;
/// `None` whenever git should be asked.
pub(crate) fn open_by_hand(dir: &Path, revs: &[&str]) -> Option<Opened> {
    if CONFIG_VARS.iter().any(|v| std::env::var_os(v).is_some()) {
        return None;
    }
    let layout = find_layout(dir)?;
    if !ordinary(&layout) {
        return None;
    }
    let mut odb = None;
    let commits = revs
        .iter()
        .map(|rev| resolve_by_hand(&layout, rev, &mut odb))
        .collect::<Option<Vec<_>>>()?;
    let shallow = shallow(&layout);
    let objects = if shallow { None } else { walkable(&layout) };
    Some(Opened {
        repo: Repo {
            root: layout.work_tree,
            objects,
        },
        common_dir: layout.common_dir,
        shallow,
        commits,
    })
}

impl Repo {
    /// Finds the repository containing `dir` and resolves `revs` to commit ids: work tree,
    /// common git directory, shallowness and the commits at once.
    ///
    /// For an ordinary repository and revisions that are `HEAD`, a full `refs/heads/…` or
    /// `refs/tags/…` name or a full object id, the answer is read from the repository's
    /// files (refs, `packed-refs`' peeled lines, the tag objects themselves) without
    /// starting git; anything else is one `git rev-parse`.
    ///
    /// Revisions are peeled to commits (`v1.2.3` → the commit an annotated tag points at).
    /// A revision starting with `-` is refused (`UnknownRevision`): rev-parse cannot take it
    /// here safely; use [`Repo::rev_parse`] for those. Any failure — no repository, an
    /// unknown revision — is returned as is; callers that want the precise reason ask again
    /// step by step ([`Repo::discover`], [`Repo::rev_parse`]).
    pub fn open_resolving(dir: impl AsRef<Path>, revs: &[&str]) -> Result<Opened, GitError> {
        let dir = dir.as_ref();
        if let Some(bad) = revs.iter().find(|r| r.starts_with('-') || r.is_empty()) {
            return Err(GitError::UnknownRevision {
                rev: bad.to_string(),
            });
        }
        if let Some(opened) = open_by_hand(dir, revs) {
            return Ok(opened);
        }
        Repo::open_resolving_with_git(dir, revs)
    }

    /// [`Repo::open_resolving`] always through `git rev-parse`.
    pub(crate) fn open_resolving_with_git(dir: &Path, revs: &[&str]) -> Result<Opened, GitError> {
        let mut args: Vec<String> = vec![
            "rev-parse".into(),
            "--path-format=absolute".into(),
            "--show-toplevel".into(),
            "--git-common-dir".into(),
            "--is-shallow-repository".into(),
        ];
        args.extend(revs.iter().map(|r| format!("{r}^{{commit}}")));
        let out = git_in(dir, &args)?;
        if !out.status.success() {
            return Err(GitError::Command {
                args: args.join(" "),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let mut lines = text.lines();
        let bad = || GitError::Output {
            args: "rev-parse".into(),
        };
        let root = PathBuf::from(lines.next().ok_or_else(bad)?);
        let common_dir = PathBuf::from(lines.next().ok_or_else(bad)?);
        let shallow = match lines.next() {
            Some("true") => true,
            Some("false") => false,
            _ => return Err(bad()),
        };
        let commits: Vec<String> = lines.map(str::to_owned).collect();
        if commits.len() != revs.len() || commits.iter().any(|c| valid_oid(c).is_none()) {
            return Err(bad());
        }
        let objects = walkable_objects(&root);
        Ok(Opened {
            repo: Repo { root, objects },
            common_dir,
            shallow,
            commits,
        })
    }
}
