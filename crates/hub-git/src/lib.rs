//! Git access for hub-actions, through the `git` program and nothing else.
//!
//! Why the git CLI and not libgit2, gitoxide or a reader of our own: every runner has
//! `git`; `git log` *is* the speed floor the actions are measured against; and answers are
//! git's by construction — `safe.directory` and dubious ownership, replace refs, grafts,
//! shallow and partial clones, alternates, SHA-256 repositories and the user's own
//! configuration all behave exactly as the user's git makes them behave. (gitoxide was
//! evaluated and rejected: it differs from git on ownership, `safe.directory` and replace
//! refs.) Every call is an argument vector, never a shell line, so refs and paths are only
//! data.
//!
//! The interface is small and each read is one process: [`Repo::open_resolving`] (one
//! `git rev-parse`: work tree, shallowness, revisions), [`Repo::tags`] (one `git show-ref`, peeled
//! from `packed-refs`), [`Repo::open_with_tags`] (a rev-parse and a show-ref started
//! together), [`Repo::tags_with_dates`] (a show-ref, then one `git cat-file --batch` that
//! reads each dated object once), [`Repo::tags_merged_into`] (one `git for-each-ref`),
//! [`Repo::log`] and [`Repo::log_with_files`] (one `git log -z` read into one buffer and
//! viewed without copying), [`Repo::open_listing_tags`] (one `git rev-parse` that also
//! lists every tag's name) and [`Repo::log_since_tag`] (one `git log --boundary --source`
//! that also says whether the tag is reachable, and at which commit): a release run's two
//! processes. Release trees ([`RELEASE_TREE_TRAILER`]): [`Repo::release_tree_parents`]
//! (one `git log --no-walk --stdin`) and [`Repo::reached_from`] (one `git rev-list
//! --stdin`), asked only about tags already found unreachable. One write builds a would-be
//! tree: [`Repo::tree_with`] (a
//! commit's tree with files replaced, in a scratch index: six processes for any number of
//! files).
//!
//! ```no_run
//! let repo = hub_git::Repo::discover(".").unwrap();
//! let head = repo.rev_parse("HEAD").unwrap();
//! let commits = repo.log(&hub_git::Range::since(None, &head), &[]).unwrap();
//! for c in commits.iter() {
//!     println!("{} {}", &c.id[..7], c.summary());
//! }
//! ```

mod log;
mod open;
mod partition;
mod release_tree;
mod spawn;
mod tree;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

pub use log::{Commit, CommitLog};
pub use open::Opened;
pub use partition::partition_by_tags;
pub use release_tree::RELEASE_TREE_TRAILER;
use spawn::git_in;
pub use tree::Objects;

/// A failure to run git or a git command that failed.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// `git` could not be started.
    #[error("cannot run `git`: is it installed and on PATH?")]
    Spawn(#[source] std::io::Error),
    /// The directory is not inside a git repository.
    #[error("`{path}` is not inside a git repository (run the action after actions/checkout)")]
    NotARepository {
        /// The directory.
        path: PathBuf,
    },
    /// A git command exited with an error.
    #[error("`git {args}` failed: {stderr}")]
    Command {
        /// The arguments (ours: refs and paths the user gave are shown as given).
        args: String,
        /// What git printed on stderr, trimmed.
        stderr: String,
    },
    /// A revision does not resolve to a commit.
    #[error("`{rev}` is not a commit in this repository")]
    UnknownRevision {
        /// The revision.
        rev: String,
    },
    /// Git printed something we could not read.
    #[error("unexpected output from `git {args}`")]
    Output {
        /// The arguments.
        args: String,
    },
    /// A scratch directory (a scratch index and object store) could not be made or written.
    #[error("cannot prepare a scratch index for git: {0}")]
    Scratch(#[source] std::io::Error),
    /// A path given as a file's is something else in the base tree.
    #[error("`{path}` is {what} in {base}, not a file")]
    NotAFile {
        /// The path.
        path: String,
        /// What it is: a symbolic link, a submodule, a directory.
        what: &'static str,
        /// The base commit.
        base: String,
    },
}

/// A tag and the commit it points at (peeled through annotated tags).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tag {
    /// Short name (`v1.2.3`).
    pub name: String,
    /// The commit the tag points at.
    pub commit: String,
    /// Whether it is an annotated tag object.
    pub annotated: bool,
}

/// A candidate tag found released on a branch ([`Repo::first_reachable`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reached {
    /// Its position among the candidates.
    pub index: usize,
    /// The commit it counts as released at: its own, or the first parent of a marked
    /// release tree.
    pub commit: String,
}

/// What [`Repo::log_since_tag`] read.
#[derive(Clone, Debug)]
pub struct SinceTag {
    /// The commits reachable from `to` and not from the tag, newest first.
    pub log: CommitLog,
    /// The tag's commit when `to` reaches it and is not it (`None`: not reachable, or the
    /// range is empty).
    pub tag_commit: Option<String>,
    /// The commits the range stops at: parents of its commits that it excludes.
    pub boundary: Vec<String>,
}

/// A range of commits to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Range {
    /// Commits reachable from here …
    pub to: String,
    /// … but not from any of these.
    pub exclude: Vec<String>,
}

impl Range {
    /// `from..to`, or everything reachable from `to` when `from` is `None`.
    pub fn since(from: Option<&str>, to: &str) -> Range {
        Range {
            to: to.to_string(),
            exclude: from.map(|f| vec![f.to_string()]).unwrap_or_default(),
        }
    }
}

/// A repository on disk.
#[derive(Clone, Debug)]
pub struct Repo {
    root: PathBuf,
}

impl Repo {
    /// Finds the repository containing `dir`. A repository git refuses to read (one owned
    /// by another user, without `safe.directory`) is an error with git's own message.
    pub fn discover(dir: impl AsRef<Path>) -> Result<Repo, GitError> {
        let dir = dir.as_ref();
        let out = git_in(dir, ["rev-parse", "--show-toplevel"])?;
        if !out.status.success() {
            return Err(open::refusal(dir, "rev-parse --show-toplevel", &out));
        }
        let root = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim_end());
        Ok(Repo { root })
    }

    /// The work tree's root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Runs git in the repository and returns stdout; a non-zero exit is an error.
    pub fn run<I, S>(&self, args: I) -> Result<Vec<u8>, GitError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<_> = args
            .into_iter()
            .map(|a| a.as_ref().to_os_string())
            .collect();
        let out = git_in(&self.root, &args)?;
        if out.status.success() {
            Ok(out.stdout)
        } else {
            Err(GitError::Command {
                args: show_args(&args),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            })
        }
    }

    /// [`Repo::run`] with `input` on git's standard input (the `--stdin`/`--batch` forms
    /// that take any number of ids in one process).
    pub(crate) fn run_with_input(
        &self,
        args: &[&str],
        input: Vec<u8>,
    ) -> Result<Vec<u8>, GitError> {
        let out = spawn::git_with_input(&self.root, args, input)?;
        if out.status.success() {
            Ok(out.stdout)
        } else {
            Err(GitError::Command {
                args: args.join(" "),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            })
        }
    }

    fn run_text<I, S>(&self, args: I) -> Result<String, GitError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Ok(String::from_utf8_lossy(&self.run(args)?).into_owned())
    }

    /// Resolves a revision to a full commit id.
    pub fn rev_parse(&self, rev: &str) -> Result<String, GitError> {
        let spec = format!("{rev}^{{commit}}");
        let out = git_in(
            &self.root,
            [
                "rev-parse",
                "--verify",
                "--quiet",
                "--end-of-options",
                &spec,
            ],
        )?;
        if !out.status.success() {
            return Err(GitError::UnknownRevision {
                rev: rev.to_string(),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// Whether the repository is a shallow clone.
    pub fn is_shallow(&self) -> Result<bool, GitError> {
        Ok(self
            .run_text(["rev-parse", "--is-shallow-repository"])?
            .trim()
            == "true")
    }

    /// Every tag's name, sorted, and whether the repository is a shallow clone, from one
    /// `git rev-parse --is-shallow-repository --symbolic --tags` (no object opened): for a
    /// caller that needs the names only, and to say why some may be missing.
    pub fn tag_names(&self) -> Result<(Vec<String>, bool), GitError> {
        let text = self.run_text([
            "rev-parse",
            "--is-shallow-repository",
            "--symbolic",
            "--tags",
        ])?;
        let mut lines = text.lines();
        let shallow = lines.next() == Some("true");
        let mut names: Vec<String> = lines.map(str::to_owned).collect();
        names.sort_unstable();
        Ok((names, shallow))
    }

    /// All tags with the commit each points at (one `git show-ref --dereference`), sorted
    /// by name. A tag of a tree or a blob gives that object's id: it is in no commit range.
    pub fn tags(&self) -> Result<Vec<Tag>, GitError> {
        let out = git_in(&self.root, open::TAGS_ARGS)?;
        open::parse_tags(&out)
    }

    /// [`Repo::tags`], each with the day it was made as `YYYY-MM-DD` in the tagger's time
    /// zone (the tagger date of an annotated tag, the committer date of a lightweight one);
    /// tags of trees and blobs left out.
    ///
    /// Two processes: `git show-ref --dereference` for the tags, then one
    /// `git cat-file --batch` reading each distinct dated object once. `for-each-ref`'s
    /// `%(creatordate)` would read the named object once *per tag*: 10,000 tags on one
    /// commit with a 100,000-line message took 78 s that way, 0.3 s this way.
    pub fn tags_with_dates(&self) -> Result<Vec<(Tag, String)>, GitError> {
        let out = git_in(&self.root, open::TAGS_ARGS)?;
        let listed = open::parse_tags(&out)?;
        let own = open::own_ids(&String::from_utf8_lossy(&out.stdout));
        // The object that carries each tag's date: its tag object, or the commit.
        let dated: Vec<(Tag, String)> = listed
            .into_iter()
            .map(|tag| {
                let id = if tag.annotated {
                    own.get(&tag.name)
                        .cloned()
                        .unwrap_or_else(|| tag.commit.clone())
                } else {
                    tag.commit.clone()
                };
                (tag, id)
            })
            .collect();
        // Each dating object, and what each tag finally names (a commit, or a tree or blob
        // whose tag is left out).
        let mut ids: Vec<&str> = dated
            .iter()
            .flat_map(|(tag, id)| [id.as_str(), tag.commit.as_str()])
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let objects = self.cat_file_batch(&ids)?;
        Ok(dated
            .into_iter()
            .filter_map(|(tag, id)| {
                let (named, _) = objects.get(&tag.commit)?;
                let (kind, date) = objects.get(&id)?;
                let dated_by = if tag.annotated { "tag" } else { "commit" };
                (named == "commit" && kind == dated_by).then(|| (tag, date.clone()))
            })
            .collect())
    }

    /// Each object's type and date (`YYYY-MM-DD` of its `tagger` or `committer` line, in that
    /// line's zone; empty without one) from one `git cat-file --batch` fed the ids.
    fn cat_file_batch(
        &self,
        ids: &[&str],
    ) -> Result<std::collections::HashMap<String, (String, String)>, GitError> {
        let mut found = std::collections::HashMap::new();
        if ids.is_empty() {
            return Ok(found);
        }
        let mut input = String::with_capacity(ids.len() * 41);
        for id in ids {
            input.push_str(id);
            input.push('\n');
        }
        let stdout = self.run_with_input(&["cat-file", "--batch"], input.into_bytes())?;
        let mut rest: &[u8] = &stdout;
        while !rest.is_empty() {
            let Some(end) = rest.iter().position(|&b| b == b'\n') else {
                break;
            };
            let header = String::from_utf8_lossy(&rest[..end]).into_owned();
            rest = &rest[end + 1..];
            let mut fields = header.split(' ');
            let (Some(id), Some(kind)) = (fields.next(), fields.next()) else {
                break;
            };
            let Some(size) = fields.next().and_then(|s| s.parse::<usize>().ok()) else {
                continue; // `<id> missing`
            };
            let body = rest.get(..size).unwrap_or(rest);
            rest = rest.get(size + 1..).unwrap_or_default();
            let key = if kind == "tag" {
                "tagger "
            } else {
                "committer "
            };
            let date = open::ident_day(body, key).unwrap_or_default();
            found.insert(id.to_owned(), (kind.to_owned(), date));
        }
        Ok(found)
    }

    /// The names of the tags whose commit is reachable from `to` (one
    /// `git for-each-ref --merged`): of every tag with `among` `None` — one walk that may
    /// go down to the oldest tag, half a second on a 100,000-commit history without a
    /// commit-graph — or only of the tags named in `among`, which stops as soon as those
    /// are settled (milliseconds for recent ones).
    pub fn tags_merged_into(
        &self,
        to: &str,
        among: Option<&[&str]>,
    ) -> Result<std::collections::HashSet<String>, GitError> {
        let mut args = vec![
            "for-each-ref".to_string(),
            format!("--merged={to}"),
            "--format=%(refname:strip=2)".into(),
        ];
        match among {
            None => args.push("refs/tags".into()),
            // A pattern also matches the names below it (`refs/tags/api` → `api/v1`):
            // only the names asked about are answered.
            Some([]) => return Ok(Default::default()),
            Some(names) => args.extend(names.iter().map(|n| format!("refs/tags/{n}"))),
        }
        let text = self.run_text(&args)?;
        let lines = text.lines().map(str::to_owned);
        Ok(match among {
            None => lines.collect(),
            Some(names) => lines.filter(|l| names.contains(&l.as_str())).collect(),
        })
    }

    /// Whether `ancestor` is reachable from `descendant` (a commit is its own ancestor).
    pub fn is_ancestor(&self, ancestor: &str, descendant: &str) -> Result<bool, GitError> {
        let out = git_in(
            &self.root,
            ["merge-base", "--is-ancestor", ancestor, descendant],
        )?;
        match out.status.code() {
            Some(0) => Ok(true),
            Some(1) => Ok(false),
            _ => Err(GitError::Command {
                args: format!("merge-base --is-ancestor {ancestor} {descendant}"),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            }),
        }
    }

    /// The first of `candidates` — `(tag name, commit)` pairs in the order the caller
    /// prefers, e.g. highest version first — released on `to`'s history: its commit is
    /// reachable from `to`, or it is a marked release tree whose first parent is (see
    /// [`RELEASE_TREE_TRAILER`]; it then counts as released at that parent).
    ///
    /// The first few are checked one by one (`git merge-base --is-ancestor`, cheap with a
    /// commit-graph; with a linear history the first one answers); after that one
    /// [`Repo::tags_merged_into`] answers for every remaining tag, so a long list of
    /// unreachable tags (pre-releases on unmerged branches) costs one walk, not one process
    /// each. The first unreachable candidate costs one more process, which reads the
    /// release-tree marks of it and of every candidate after it
    /// ([`Repo::release_tree_parents`]); a marked one's parent is checked like a tag (one
    /// `merge-base --is-ancestor`, or past the direct checks one [`Repo::reached_from`] for
    /// every remaining marked parent). Nothing more runs when the first candidate is
    /// reachable.
    pub fn first_reachable<'a, I>(
        &self,
        candidates: I,
        to: &str,
    ) -> Result<Option<Reached>, GitError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        const DIRECT_CHECKS: usize = 8;
        let candidates: Vec<(&str, &str)> = candidates.into_iter().collect();
        let mut merged: Option<std::collections::HashSet<String>> = None;
        let mut marks: Option<std::collections::HashMap<String, String>> = None;
        let mut parents_reached: Option<std::collections::HashSet<String>> = None;
        for (i, &(name, commit)) in candidates.iter().enumerate() {
            let reachable = if i < DIRECT_CHECKS {
                commit == to || (self.has_commit(commit) && self.is_ancestor(commit, to)?)
            } else {
                let set = match &mut merged {
                    Some(set) => set,
                    None => merged.insert(self.tags_merged_into(to, None)?),
                };
                set.contains(name)
            };
            if reachable {
                return Ok(Some(Reached {
                    index: i,
                    commit: commit.to_owned(),
                }));
            }
            let marks = match &mut marks {
                Some(marks) => marks,
                None => {
                    let rest: Vec<&str> = candidates[i..].iter().map(|&(_, c)| c).collect();
                    marks.insert(self.release_tree_parents(&rest)?)
                }
            };
            let Some(parent) = marks.get(commit) else {
                continue;
            };
            let reached = if i < DIRECT_CHECKS {
                parent == to || self.is_ancestor(parent, to)?
            } else {
                let set = match &mut parents_reached {
                    Some(set) => set,
                    None => {
                        let rest: Vec<&str> = candidates[i..]
                            .iter()
                            .filter_map(|&(_, c)| marks.get(c).map(String::as_str))
                            .collect();
                        parents_reached.insert(self.reached_from(to, &rest)?)
                    }
                };
                set.contains(parent)
            };
            if reached {
                return Ok(Some(Reached {
                    index: i,
                    commit: parent.clone(),
                }));
            }
        }
        Ok(None)
    }

    /// Commits in `range` (newest first), optionally only those touching `paths`, read with
    /// one `git log -z` into one buffer.
    pub fn log(&self, range: &Range, paths: &[String]) -> Result<CommitLog, GitError> {
        let mut args: Vec<String> = vec![
            "log".into(),
            "-z".into(),
            format!("--format={}", log::FORMAT),
            "--end-of-options".into(),
            range.to.clone(),
        ];
        args.extend(range.exclude.iter().map(|e| format!("^{e}")));
        args.push("--".into());
        args.extend(paths.iter().cloned());
        let raw = self.run(&args)?;
        CommitLog::parse(raw).map_err(|()| GitError::Output { args: "log".into() })
    }

    /// The commits of `to ^refs/tags/<tag>` (newest first) and where the tag stands, from
    /// one `git log --boundary --source`: the boundary commits are the parents of the range
    /// that it excludes, and the tag's own commit is among them — named by the tag, the
    /// name it was reached by on the command line — exactly when `to` reaches it (and is
    /// not it). Which commit the tag names is learnt from that same process.
    pub fn log_since_tag(&self, to: &str, tag: &str) -> Result<SinceTag, GitError> {
        let tag_ref = format!("refs/tags/{tag}");
        let args: Vec<String> = vec![
            "log".into(),
            "-z".into(),
            "--boundary".into(),
            "--source".into(),
            format!("--format=%m%S%x00{}", log::FORMAT),
            "--end-of-options".into(),
            to.to_owned(),
            format!("^{tag_ref}"),
            "--".into(),
        ];
        let raw = self.run(&args)?;
        let (log, boundary) = CommitLog::parse_marked(raw).map_err(|()| GitError::Output {
            args: "log --boundary".into(),
        })?;
        let mut tagged = boundary.iter().filter(|(_, source)| *source == tag_ref);
        let tag_commit = match (tagged.next(), tagged.next()) {
            (Some((id, _)), None) => Some(id.clone()),
            _ => None,
        };
        Ok(SinceTag {
            log,
            tag_commit,
            boundary: boundary.into_iter().map(|(id, _)| id).collect(),
        })
    }

    /// Commits in `range` (newest first) with the files each changed (`--name-only`
    /// against its first parent; none for merges), read with one `git log`: what a
    /// monorepo needs to assign every commit to the packages whose paths it touches in one
    /// pass over history.
    pub fn log_with_files(&self, range: &Range) -> Result<(CommitLog, Vec<Vec<String>>), GitError> {
        // Each record opens with an empty field: no file name is empty, so an empty token
        // after a file list can only start the next commit.
        let mut args: Vec<String> = vec![
            "log".into(),
            "-z".into(),
            "--name-only".into(),
            "--no-renames".into(),
            format!("--format=%x00{}", log::FORMAT),
            "--end-of-options".into(),
            range.to.clone(),
        ];
        args.extend(range.exclude.iter().map(|e| format!("^{e}")));
        args.push("--".into());
        let raw = self.run(&args)?;
        let bad = || GitError::Output {
            args: "log --name-only".into(),
        };
        let text = String::from_utf8_lossy(&raw);
        let mut tokens = text.split('\0').peekable();
        let mut fields = String::with_capacity(text.len());
        let mut files: Vec<Vec<String>> = Vec::new();
        while let Some(t) = tokens.next() {
            if t.is_empty() && tokens.peek().is_none() {
                break; // the final terminator
            }
            if !t.is_empty() {
                return Err(bad());
            }
            for _ in 0..log::FIELDS {
                fields.push_str(tokens.next().ok_or_else(bad)?);
                fields.push('\0');
            }
            let mut changed = Vec::new();
            while let Some(f) = tokens.peek() {
                if f.is_empty() {
                    break;
                }
                changed.push(f.strip_prefix('\n').unwrap_or(f).to_string());
                tokens.next();
            }
            files.push(changed);
        }
        let log = CommitLog::parse(fields.into_bytes()).map_err(|()| bad())?;
        if log.len() != files.len() {
            return Err(bad());
        }
        Ok((log, files))
    }

    /// The configured remote URL of `remote`, if any.
    pub fn remote_url(&self, remote: &str) -> Option<String> {
        self.run_text(["remote", "get-url", "--", remote])
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }

    /// Tags on a remote (`git ls-remote --tags`), peeled, without fetching any object.
    pub fn remote_tags(&self, remote: &str) -> Result<Vec<Tag>, GitError> {
        let text = self.run_text(["ls-remote", "--tags", "--", remote])?;
        Ok(open::parse_peeled_refs(&text, '\t'))
    }

    /// Whether an object exists locally.
    pub fn has_commit(&self, sha: &str) -> bool {
        git_in(&self.root, ["cat-file", "-e", &format!("{sha}^{{commit}}")])
            .map(|o| o.status.success())
            .unwrap_or(false)
    }

    /// Deepens a shallow clone by `by` commits from `remote`'s view of HEAD's branch.
    pub fn deepen(&self, remote: &str, by: u32) -> Result<(), GitError> {
        self.run([
            "fetch",
            "--no-tags",
            "--quiet",
            &format!("--deepen={by}"),
            "--",
            remote,
        ])?;
        Ok(())
    }

    /// Creates an annotated tag at `commit` (`git tag -a -m`). The message is passed as an
    /// argument, never through a shell.
    pub fn create_annotated_tag(
        &self,
        name: &str,
        commit: &str,
        message: &str,
    ) -> Result<(), GitError> {
        // Runners often have no git identity; tag as the Actions bot rather than fail.
        let has_identity = git_in(&self.root, ["var", "GIT_COMMITTER_IDENT"])
            .map(|o| o.status.success())
            .unwrap_or(false);
        let mut args: Vec<&str> = Vec::new();
        if !has_identity {
            args.extend([
                "-c",
                "user.name=github-actions[bot]",
                "-c",
                "user.email=41898282+github-actions[bot]@users.noreply.github.com",
            ]);
        }
        args.extend(["tag", "-a", "-m", message, "--", name, commit]);
        self.run(&args)?;
        Ok(())
    }

    /// Pushes refs to a remote.
    pub fn push(&self, remote: &str, refspecs: &[String]) -> Result<(), GitError> {
        let mut args = vec![
            "push".to_string(),
            "--quiet".into(),
            "--".into(),
            remote.into(),
        ];
        args.extend(refspecs.iter().cloned());
        self.run(&args)?;
        Ok(())
    }
}

fn show_args(args: &[std::ffi::OsString]) -> String {
    args.iter()
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests;
