//! The last release of each package: the highest version tag reachable from a commit.
//!
//! Tags are the one source of truth (no manifest to conflict on): a package's release is
//! the tag its pattern parses to the highest version (semver precedence, then build
//! metadata) among those whose commit `to` contains. A pre-release tagged on a branch that
//! was never merged is skipped, and still counts in [`LastRelease::known`] so that the next
//! pre-release number and the next version never repeat a tag.

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
/// commit): for each pattern, the highest version whose tag is reachable from `to`.
///
/// Asked in rounds of one `git for-each-ref --merged` about each unsettled package's
/// highest candidate not yet ruled out — one round when every package's highest tag is
/// reachable, whatever the number of packages. After a few rounds (pre-releases on
/// unmerged branches) one walk answers for every tag at once.
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
    let mut found: Vec<Option<usize>> = vec![None; patterns.len()];
    let mut open: Vec<usize> = (0..patterns.len())
        .filter(|&p| !candidates[p].is_empty())
        .collect();
    for round in 0.. {
        if open.is_empty() {
            break;
        }
        if round == ROUNDS {
            let merged = repo.tags_merged_into(to, None)?;
            for &p in &open {
                found[p] = (next[p]..candidates[p].len())
                    .find(|&i| merged.contains(&candidates[p][i].0.name));
            }
            break;
        }
        let names: Vec<&str> = open
            .iter()
            .map(|&p| candidates[p][next[p]].0.name.as_str())
            .collect();
        let merged = repo.tags_merged_into(to, Some(&names))?;
        open.retain(|&p| {
            if merged.contains(&candidates[p][next[p]].0.name) {
                found[p] = Some(next[p]);
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
            let last = f.map(|i| (c[i].0.name.clone(), c[i].0.commit.clone(), c[i].1.clone()));
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
