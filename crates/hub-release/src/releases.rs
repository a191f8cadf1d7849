//! The last release of each package: the highest version tag reachable from a commit.
//!
//! Tags are the one source of truth (no manifest to conflict on): a package's release is
//! the tag its pattern parses to the highest version (semver precedence, then build
//! metadata) among those whose commit `to` contains. A pre-release tagged on a branch that
//! was never merged is skipped, and still counts in [`LastRelease::known`] so that the next
//! pre-release number and the next version never repeat a tag.

use std::collections::HashMap;

use hub_conventional::TagPattern;
use hub_conventional::semver::Version;
use hub_git::{CommitLog, Range, Repo, Tag};

use crate::Error;

/// The release a range starts from.
#[derive(Debug, Default)]
pub struct LastRelease {
    /// Its tag name, when it is a tag.
    pub tag: Option<String>,
    /// Its commit (`None`: no release yet, the range is the whole history).
    pub commit: Option<String>,
    /// Its version.
    pub version: Option<Version>,
    /// Every version among the repository's tags that match the pattern, reachable or not
    /// (pre-release numbering, and never proposing a version that is already tagged).
    pub known: Vec<Version>,
}

/// The tags of `pattern` among `tags` with their versions, highest first: by semver
/// precedence, then (equal precedence, different build metadata) by the whole version.
pub fn candidates<'t>(pattern: &TagPattern, tags: &'t [Tag]) -> Vec<(&'t Tag, Version)> {
    let mut c: Vec<(&Tag, Version)> = tags
        .iter()
        .filter_map(|t| pattern.parse(&t.name).map(|v| (t, v)))
        .collect();
    c.sort_by(|(_, a), (_, b)| b.cmp_precedence(a).then_with(|| b.cmp(a)));
    c
}

/// Every package's last release among `tags` (every tag of the repository with its
/// commit): for each pattern, the highest version whose tag is released on `to`'s history —
/// its commit reachable from `to`, or a marked release tree whose first parent is
/// (`hub_git::RELEASE_TREE_TRAILER`; the release then starts at that parent).
///
/// Asked in rounds of one `git for-each-ref --merged` about each unsettled package's
/// highest candidate not yet ruled out — one round when every package's highest tag is
/// reachable, whatever the number of packages. After a few rounds (pre-releases on
/// unmerged branches) one walk answers for every tag at once. The first round that finds a
/// candidate unreachable reads the release-tree marks of every remaining candidate (one
/// `git log --no-walk`), and each round with marked unreachable candidates asks about their
/// parents in one `git rev-list`: two more processes when every package's highest tag is a
/// release tree.
pub fn last_releases(
    repo: &Repo,
    patterns: &[&TagPattern],
    tags: &[Tag],
    to: &str,
) -> Result<Vec<LastRelease>, Error> {
    const ROUNDS: usize = 4;
    let candidates: Vec<Vec<(&Tag, Version)>> =
        patterns.iter().map(|p| candidates(p, tags)).collect();
    let mut next = vec![0usize; patterns.len()];
    // Per package: the candidate found, and the commit it counts at.
    let mut found: Vec<Option<(usize, String)>> = vec![None; patterns.len()];
    let mut open: Vec<usize> = (0..patterns.len())
        .filter(|&p| !candidates[p].is_empty())
        .collect();
    let mut marks: Option<HashMap<String, String>> = None;
    // The release trees' marks of every candidate not yet ruled out (read once).
    let read_marks = |open: &[usize], next: &[usize]| {
        let rest: Vec<&str> = open
            .iter()
            .flat_map(|&p| {
                candidates[p][next[p]..]
                    .iter()
                    .map(|(t, _)| t.commit.as_str())
            })
            .collect();
        repo.release_tree_parents(&rest)
    };
    for round in 0.. {
        if open.is_empty() {
            break;
        }
        if round == ROUNDS {
            let merged = repo.tags_merged_into(to, None)?;
            let marks = match &mut marks {
                Some(m) => m,
                None => marks.insert(read_marks(&open, &next)?),
            };
            let parents: Vec<&str> = open
                .iter()
                .flat_map(|&p| candidates[p][next[p]..].iter())
                .filter(|(t, _)| !merged.contains(&t.name))
                .filter_map(|(t, _)| marks.get(&t.commit).map(String::as_str))
                .collect();
            let reached = repo.reached_from(to, &parents)?;
            for &p in &open {
                found[p] = (next[p]..candidates[p].len()).find_map(|i| {
                    let tag = candidates[p][i].0;
                    if merged.contains(&tag.name) {
                        return Some((i, tag.commit.clone()));
                    }
                    let parent = marks.get(&tag.commit)?;
                    reached.contains(parent).then(|| (i, parent.clone()))
                });
            }
            break;
        }
        let names: Vec<&str> = open
            .iter()
            .map(|&p| candidates[p][next[p]].0.name.as_str())
            .collect();
        let merged = repo.tags_merged_into(to, Some(&names))?;
        let unreached: Vec<usize> = open
            .iter()
            .copied()
            .filter(|&p| !merged.contains(&candidates[p][next[p]].0.name))
            .collect();
        let mut released: HashMap<usize, String> = HashMap::new();
        if !unreached.is_empty() {
            let marks = match &mut marks {
                Some(m) => m,
                None => marks.insert(read_marks(&open, &next)?),
            };
            let marked: Vec<(usize, &str)> = unreached
                .iter()
                .filter_map(|&p| {
                    let parent = marks.get(&candidates[p][next[p]].0.commit)?;
                    Some((p, parent.as_str()))
                })
                .collect();
            let parents: Vec<&str> = marked.iter().map(|&(_, parent)| parent).collect();
            let reached = repo.reached_from(to, &parents)?;
            for (p, parent) in marked {
                if reached.contains(parent) {
                    released.insert(p, parent.to_owned());
                }
            }
        }
        open.retain(|&p| {
            let tag = candidates[p][next[p]].0;
            if merged.contains(&tag.name) {
                found[p] = Some((next[p], tag.commit.clone()));
                return false;
            }
            if let Some(parent) = released.remove(&p) {
                found[p] = Some((next[p], parent));
                return false;
            }
            next[p] += 1;
            next[p] < candidates[p].len()
        });
    }
    Ok(candidates
        .into_iter()
        .zip(found)
        .map(|(c, f)| {
            let last = f.map(|(i, commit)| (c[i].0.name.clone(), commit, c[i].1.clone()));
            LastRelease {
                tag: last.as_ref().map(|l| l.0.clone()),
                commit: last.as_ref().map(|l| l.1.clone()),
                version: last.map(|l| l.2),
                known: c.into_iter().map(|(_, v)| v).collect(),
            }
        })
        .collect())
}

/// The commits of every package's range in ONE `git log --name-only`, with the files each
/// changed: since the commit all the last releases can reach (their octopus merge base, or
/// the release itself when they share it), or the whole history when a package has no
/// release yet. [`crate::packages::assign`] then splits it by package.
pub fn log_since(
    repo: &Repo,
    lasts: &[LastRelease],
    to: &str,
) -> Result<(CommitLog, Vec<Vec<String>>), Error> {
    let bases: Vec<&str> = lasts.iter().filter_map(|l| l.commit.as_deref()).collect();
    let since = if bases.len() < lasts.len() {
        None // a package without a release needs the whole history
    } else {
        oldest_common(repo, &bases)
    };
    Ok(repo.log_with_files(&Range::since(since.as_deref(), to))?)
}

/// The commit every base can reach, for one log that covers all their ranges: the base
/// itself when there is one, else their octopus merge base (`None`: no common history).
fn oldest_common(repo: &Repo, bases: &[&str]) -> Option<String> {
    let mut unique: Vec<&str> = bases.to_vec();
    unique.sort_unstable();
    unique.dedup();
    match unique.as_slice() {
        [] => None,
        [one] => Some((*one).to_string()),
        many => {
            let mut argv = vec!["merge-base", "--octopus"];
            argv.extend(many.iter().copied());
            repo.run(&argv)
                .ok()
                .map(|o| String::from_utf8_lossy(&o).trim().to_string())
                .filter(|s| !s.is_empty())
        }
    }
}
