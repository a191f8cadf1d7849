//! The last release of each package: the highest version tag reachable from a commit
//! (semver-bump's rule, its `history.rs`, of which this is release-pr's copy while the
//! shells are binaries).

use anyhow::Result;
use hub_conventional::TagPattern;
use hub_conventional::semver::Version;
use hub_git::{Repo, Tag};

/// The release the range starts from.
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
) -> Result<Vec<LastRelease>> {
    const ROUNDS: usize = 4;
    // Each package's candidates, highest version first.
    let candidates: Vec<Vec<(&Tag, Version)>> = patterns
        .iter()
        .map(|pattern| {
            let mut c: Vec<(&Tag, Version)> = tags
                .iter()
                .filter_map(|t| pattern.parse(&t.name).map(|v| (t, v)))
                .collect();
            c.sort_by(|(_, a), (_, b)| b.cmp_precedence(a).then_with(|| b.cmp(a)));
            c
        })
        .collect();
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
