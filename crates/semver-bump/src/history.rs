//! Finding the last release of a single package in the repository — the quick way, or step
//! by step with shallow clones deepened — and tagging. The rule (the highest version tag
//! reachable from `to`) and a monorepo's every package at once are hub-release's.

use anyhow::{Context, Result, bail};
use hub_conventional::TagPattern;
use hub_conventional::semver::Version;
use hub_git::{CommitLog, Range, Repo, Tag};
use hub_kit::Runner;
use hub_release::releases::{LastRelease, candidates};

/// A run's starting point found the quick way, with the commits of its range.
pub struct QuickStart {
    /// The repository.
    pub repo: Repo,
    /// The commit id of `to`.
    pub to: String,
    /// The last release.
    pub last: LastRelease,
    /// The commits since it (`path`-limited when asked).
    pub log: CommitLog,
}

/// The common case in two git processes: one `git rev-parse` for the work tree,
/// shallowness, the commit of `to` and every tag's name (no object opened), then one
/// `git log --boundary --source` of the range since the highest version tag, which also
/// says where that tag stands: its commit is among the range's boundary commits exactly when
/// it is an ancestor of `to` ([`Repo::log_since_tag`]). When the highest tag is a marked
/// release tree off the branch (`hub_git::RELEASE_TREE_TRAILER`) that log is already the
/// range since the tree's first parent; one `git log --no-walk` reads the mark, and the
/// parent among the boundary commits proves it reachable: three processes. With `path`s the
/// log no longer shows every parent, so the tag's commit is resolved and proven an ancestor
/// of `to` first (four processes, as before; six for a release tree: its mark, then its
/// parent proven instead).
///
/// `Ok(None)` when the shortcut does not apply — a shallow clone, an empty range, a highest
/// tag that is not reachable (a pre-release on an unmerged branch), any git error (a
/// repository git refuses to read, say) — and the caller takes the step-by-step path
/// ([`last_release`]), which handles and reports all of those.
pub fn quick_start(
    dir: &str,
    pattern: &TagPattern,
    to_rev: &str,
    paths: &[String],
) -> Result<Option<QuickStart>> {
    let Ok((opened, names)) = Repo::open_listing_tags(dir, to_rev) else {
        return Ok(None);
    };
    if opened.shallow {
        return Ok(None);
    }
    // Each name parsed once: the highest version, and every version for `known`.
    let versions: Vec<(usize, Version)> = names
        .iter()
        .enumerate()
        .filter_map(|(i, t)| pattern.parse(t).map(|v| (i, v)))
        .collect();
    let top = versions
        .iter()
        .max_by(|(_, a), (_, b)| a.cmp_precedence(b).then_with(|| a.cmp(b)))
        .map(|(i, v)| (names[*i].clone(), v.clone()));
    let known: Vec<Version> = versions.into_iter().map(|(_, v)| v).collect();
    let repo = opened.repo;
    let to = opened.commits[0].clone();
    let Some((tag, version)) = top else {
        let Ok(log) = repo.log(&Range::since(None, &to), paths) else {
            return Ok(None);
        };
        let last = LastRelease {
            known,
            ..LastRelease::default()
        };
        return Ok(Some(QuickStart {
            repo,
            to,
            last,
            log,
        }));
    };
    let (commit, log) = if paths.is_empty() {
        let Ok(since) = repo.log_since_tag(&to, &tag) else {
            return Ok(None);
        };
        match since.tag_commit {
            Some(commit) => (commit, since.log),
            None if since.log.is_empty() => return Ok(None),
            None => {
                // A release tree off the branch: released at its first parent when that is
                // one of the commits the range stops at.
                let Ok(marks) = repo.release_tree_parents(&[&format!("refs/tags/{tag}")]) else {
                    return Ok(None);
                };
                match marks.into_values().next() {
                    Some(parent) if since.boundary.contains(&parent) => (parent, since.log),
                    _ => return Ok(None),
                }
            }
        }
    } else {
        let Ok(tag_commit) = repo.rev_parse(&format!("refs/tags/{tag}")) else {
            return Ok(None);
        };
        let commit = if tag_commit == to || repo.is_ancestor(&tag_commit, &to)? {
            tag_commit
        } else {
            // A release tree off the branch: released at its first parent if `to` has it.
            let marks = repo.release_tree_parents(&[&tag_commit])?;
            match marks.get(&tag_commit) {
                Some(parent) if *parent == to || repo.is_ancestor(parent, &to)? => parent.clone(),
                _ => return Ok(None),
            }
        };
        let Ok(log) = repo.log(&Range::since(Some(&commit), &to), paths) else {
            return Ok(None);
        };
        (commit, log)
    };
    Ok(Some(QuickStart {
        repo,
        to,
        last: LastRelease {
            tag: Some(tag),
            commit: Some(commit),
            version: Some(version),
            known,
        },
        log,
    }))
}

/// Finds the highest version tag reachable from `to`, or uses `from` when given.
pub fn last_release(
    repo: &Repo,
    pattern: &TagPattern,
    to: &str,
    from: Option<&str>,
    fetch: bool,
    runner: &mut Runner,
) -> Result<LastRelease> {
    let mut remote_tags = Vec::new();
    if repo.is_shallow()? {
        if from.is_none() && !fetch {
            bail!(
                "the repository is a shallow clone, so the last release tag may not be in it and the \
                 version cannot be computed safely; check out with `fetch-depth: 0` \
                 (actions/checkout) or set `fetch: true` to deepen the history until the last release"
            );
        }
        if fetch {
            remote_tags = deepen_until_release(repo, pattern, to, runner)?;
        }
    }
    let mut tags = repo.tags()?;
    for t in remote_tags {
        if !tags.iter().any(|l| l.name == t.name) {
            tags.push(t);
        }
    }

    if let Some(from) = from {
        let commit = repo.rev_parse(from).map_err(|e| input_error("from", e))?;
        return Ok(LastRelease {
            tag: tags
                .iter()
                .any(|t| t.name == from)
                .then(|| from.to_string()),
            commit: Some(commit),
            version: pattern.parse(from),
            known: pattern.versions(tags.iter().map(|t| t.name.as_str())),
        });
    }

    let candidates = candidates(pattern, &tags);
    let known: Vec<Version> = candidates.iter().map(|(_, v)| v.clone()).collect();

    // A release tree's tag counts at its first parent (hub-git's `first_reachable`).
    let found = repo
        .first_reachable(
            candidates
                .iter()
                .map(|(t, _)| (t.name.as_str(), t.commit.as_str())),
            to,
        )?
        .map(|r| {
            (
                candidates[r.index].0,
                candidates[r.index].1.clone(),
                r.commit,
            )
        });
    Ok(match found {
        Some((t, v, commit)) => LastRelease {
            tag: Some(t.name.clone()),
            commit: Some(commit),
            version: Some(v),
            known,
        },
        None => LastRelease {
            known,
            ..LastRelease::default()
        },
    })
}

/// Deepens a shallow clone step by step (doubling) until a version tag of the remote is
/// in the history and reachable from `to`, or the clone is complete. Returns the remote's
/// tags (they are not fetched as refs: `ls-remote` knows their commits).
fn deepen_until_release(
    repo: &Repo,
    pattern: &TagPattern,
    to: &str,
    runner: &mut Runner,
) -> Result<Vec<Tag>> {
    const REMOTE: &str = "origin";
    if repo.remote_url(REMOTE).is_none() {
        bail!("the repository is a shallow clone without an `origin` remote to deepen from");
    }
    let tags: Vec<Tag> = repo
        .remote_tags(REMOTE)
        .context("cannot list the tags of `origin`")?
        .into_iter()
        .filter(|t| pattern.parse(&t.name).is_some())
        .collect();
    let mut step = 64u32;
    let mut fetches = 0;
    loop {
        let reached = tags.iter().any(|t| {
            repo.has_commit(&t.commit) && repo.is_ancestor(&t.commit, to).unwrap_or(false)
        });
        if reached || !repo.is_shallow()? {
            runner.info(&format!(
                "shallow clone: fetched {fetches} time(s) to reach the last release"
            ))?;
            return Ok(tags);
        }
        if tags.is_empty() {
            // No release yet: the first release needs the whole history.
            repo.run(["fetch", "--no-tags", "--quiet", "--unshallow", "--", REMOTE])?;
        } else {
            repo.deepen(REMOTE, step)?;
            step = step.saturating_mul(2);
        }
        fetches += 1;
    }
}

/// Creates the release tag at `commit` and pushes it to `origin` (when there is one).
/// An existing tag on the same commit — a re-run, or a concurrent run that was first — is
/// success; on another commit it is an error.
pub fn create_tag(repo: &Repo, tag: &str, commit: &str, runner: &mut Runner) -> Result<()> {
    if let Some(existing) = repo.tags()?.into_iter().find(|t| t.name == tag) {
        if existing.commit == commit {
            runner.info(&format!("tag {tag} already exists at this commit"))?;
        } else {
            bail!(
                "tag `{tag}` already exists at another commit ({})",
                existing.commit
            );
        }
    } else {
        repo.create_annotated_tag(tag, commit, &format!("Release {tag}"))?;
        runner.info(&format!("created tag {tag}"))?;
    }
    if repo.remote_url("origin").is_some() {
        let pushed = repo.push("origin", &[format!("refs/tags/{tag}")]);
        if let Err(e) = pushed {
            let remote = repo.remote_tags("origin").unwrap_or_default();
            match remote.iter().find(|t| t.name == tag) {
                Some(t) if t.commit == commit => {
                    runner.info(&format!("tag {tag} was already pushed by another run"))?;
                }
                _ => return Err(e).context(format!("cannot push tag `{tag}` to `origin`")),
            }
        } else {
            runner.info(&format!("pushed tag {tag} to origin"))?;
        }
    } else {
        // A laptop's repository without a remote: say where the tag is, since the README
        // (and `create-tag`) promise a push.
        runner.info(&format!(
            "no `origin` remote: tag {tag} is only in this repository (push it with `git push <remote> {tag}`)"
        ))?;
    }
    Ok(())
}

/// A revision an input names that git cannot resolve, as one line naming the input
/// (hub-release's rule); any other git error as it is.
pub fn input_error(input: &str, e: hub_git::GitError) -> anyhow::Error {
    match hub_release::inputs::unknown_revision(input, &e) {
        Some(message) => anyhow::anyhow!(message),
        None => e.into(),
    }
}
