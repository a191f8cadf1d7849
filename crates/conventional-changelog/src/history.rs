//! Which commits go into which release: one range (`from..to`, the unreleased commits, or
//! one tagged release) or the whole history split at every release tag.
//!
//! Everything is read with a handful of git calls whatever the size of the history: one
//! `git rev-parse` for `to` and shallowness, one `git log` into one buffer, one
//! `for-each-ref` for the tags and their dates, a few `merge-base --is-ancestor` (or one
//! `for-each-ref --merged`) to find the last release, and, for the whole history, one pass
//! over the commit graph (`hub_git::partition_by_tags`).

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use anyhow::{Result, bail};
use hub_changelog::{Author, LogCommit, ReleaseInput};
use hub_conventional::semver::Version;
use hub_conventional::{BumpRules, TagPattern};
use hub_git::{CommitLog, Range, Repo, Tag};

/// One release to write: its heading and the log indexes of its commits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The version; `None` is `Unreleased`.
    pub version: Option<Version>,
    /// This release's tag (the right side of the compare link).
    pub tag: Option<String>,
    /// Where the range starts: the previous release's tag, or the `from` revision.
    pub previous: Option<String>,
    /// The release date, `YYYY-MM-DD`.
    pub date: Option<String>,
    /// Indexes into the log, newest first.
    pub commits: Vec<usize>,
}

/// The commits read, and the releases they form (newest first; never empty).
#[derive(Debug)]
pub struct History {
    /// The one `git log` buffer every release borrows from.
    pub log: CommitLog,
    /// Newest first.
    pub releases: Vec<Plan>,
    /// How the range was chosen, for the log.
    pub description: String,
}

impl History {
    /// Analyses every release's commits (reverts pair within a release). `logins` maps
    /// lower-case author e-mails to GitHub logins (empty: no logins).
    pub fn analyze<'s>(
        &'s self,
        rules: &BumpRules,
        logins: &'s HashMap<String, String>,
    ) -> Vec<ReleaseInput<'s>> {
        self.releases
            .iter()
            .map(|plan| {
                let log: Vec<LogCommit<'_>> = plan
                    .commits
                    .iter()
                    .filter_map(|&i| self.log.get(i))
                    .map(|c| LogCommit {
                        id: c.id,
                        message: c.message,
                        author: Author {
                            name: c.author_name,
                            email: c.author_email,
                            login: if logins.is_empty() {
                                None
                            } else {
                                logins
                                    .get(&c.author_email.to_ascii_lowercase())
                                    .map(String::as_str)
                            },
                        },
                    })
                    .collect();
                let mut release = ReleaseInput::analyze(plan.version.clone(), &log, rules)
                    .with_tags(plan.previous.clone(), plan.tag.clone());
                release.date.clone_from(&plan.date);
                release
            })
            .collect()
    }
}

/// What the user asked for.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// Release tags: `prefix` + semver.
    pub pattern: &'a TagPattern,
    /// Start of the range (exclusive); `None`: the last release reachable from `to`.
    pub from: Option<&'a str>,
    /// End of the range.
    pub to: &'a str,
    /// The version of the commits after the last release tag.
    pub release_version: Option<&'a Version>,
    /// Only commits touching these paths.
    pub paths: &'a [String],
    /// The date of a release that has no tag yet (`YYYY-MM-DD`, from the clock).
    pub today: &'a str,
}

/// A release tag and its version.
#[derive(Clone, Debug)]
struct VersionTag {
    tag: Tag,
    version: Version,
}

fn version_tags(tags: &[Tag], pattern: &TagPattern) -> Vec<VersionTag> {
    tags.iter()
        .filter_map(|tag| {
            pattern.parse(&tag.name).map(|version| VersionTag {
                tag: tag.clone(),
                version,
            })
        })
        .collect()
}

/// Highest version first; versions equal in precedence (build metadata) by full order so
/// the choice does not depend on the order git lists tags in.
fn descending(a: &Version, b: &Version) -> Ordering {
    b.cmp_precedence(a).then_with(|| b.cmp(a))
}

/// The release the unreleased commits start after: the highest version tag for which
/// `reachable` holds, among those `below` the version being written (when it is known)
/// and not on the commit being written (`skip_commit`).
///
/// `first_reachable` gets the candidates in descending version order and names the first
/// reachable one with the commit it counts at (`hub_git::Repo::first_reachable`: its own,
/// or a marked release tree's first parent).
pub fn last_release<'t, F>(
    tags: &'t [VersionTagRef<'t>],
    below: Option<&Version>,
    skip_commit: Option<&str>,
    first_reachable: F,
) -> Result<Option<(&'t VersionTagRef<'t>, String)>>
where
    F: FnOnce(&[&'t VersionTagRef<'t>]) -> Result<Option<hub_git::Reached>>,
{
    let mut candidates: Vec<&VersionTagRef<'t>> = tags
        .iter()
        .filter(|t| below.is_none_or(|b| t.version.cmp_precedence(b) == Ordering::Less))
        .filter(|t| skip_commit != Some(t.commit))
        .collect();
    candidates.sort_by(|a, b| descending(a.version, b.version));
    Ok(first_reachable(&candidates)?.map(|r| (candidates[r.index], r.commit)))
}

/// A borrowed view of a release tag, the input of [`last_release`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VersionTagRef<'t> {
    /// Tag name.
    pub name: &'t str,
    /// Its commit.
    pub commit: &'t str,
    /// Its version.
    pub version: &'t Version,
}

/// The commit of `to` and whether the clone is shallow, from one `git rev-parse`; on an
/// error, asked again step by step for the precise message (an unknown `to`, no repository).
fn open(repo: &Repo, to: &str) -> Result<(String, bool)> {
    match Repo::open_resolving(repo.root(), &[to]) {
        Ok(opened) => Ok((opened.commits[0].clone(), opened.shallow)),
        Err(e) => {
            repo.rev_parse(to).map_err(|e| input_error("to", e))?;
            Err(e.into())
        }
    }
}

/// The tags, and the day each was made (the tagger date of an annotated tag, the committer
/// date of a lightweight one, `YYYY-MM-DD` in the tagger's time zone): one `for-each-ref`.
fn dated_tags(repo: &Repo) -> Result<(Vec<Tag>, HashMap<String, String>)> {
    let dated = repo.tags_with_dates()?;
    let dates = dated
        .iter()
        .map(|(t, date)| (t.name.clone(), date.clone()))
        .collect();
    Ok((dated.into_iter().map(|(t, _)| t).collect(), dates))
}

fn refuse_shallow(shallow: bool) -> Result<()> {
    if shallow {
        bail!(
            "the repository is a shallow clone, so the last release tag and older commits may \
             be missing from it; check out with `fetch-depth: 0` (actions/checkout), or set \
             `from` to a commit inside the clone"
        );
    }
    Ok(())
}

/// Splits the history at `tags` (ascending versions), and first puts the tags in the order
/// they were released in: by version, except that a tag whose commit is reachable from a
/// lower version's tag comes before it. SemVer precedence can disagree with history — in
/// angular-cli, `v1.0.0-beta.10-webpack` (an alphanumeric pre-release identifier outranks a
/// numeric one) ranks above `v1.0.0-beta.28`, yet `v1.0.0-beta.14` was made on top of it —
/// and a commit belongs to the first release that shipped it. Each round is one linear
/// pass; a history whose versions follow its ancestry takes one round.
fn partition_in_release_order(
    topology: &[(&str, Vec<&str>)],
    tags: &mut Vec<VersionTag>,
) -> Vec<Vec<usize>> {
    let tag_commits: HashSet<&str> = tags.iter().map(|t| t.tag.commit.as_str()).collect();
    let position: HashMap<String, usize> = topology
        .iter()
        .enumerate()
        .filter(|(_, (id, _))| tag_commits.contains(id))
        .map(|(i, (id, _))| ((*id).to_owned(), i))
        .collect();
    // Each round moves every tag reached by an earlier release to just before it; a move
    // only ever puts a tag before a descendant, so this ends (bounded to be sure).
    for _ in 0..=tags.len() {
        let commits: Vec<&str> = tags.iter().map(|t| t.tag.commit.as_str()).collect();
        let parts = hub_git::partition_by_tags(topology, &commits);
        let mut release_of = vec![usize::MAX; topology.len()];
        for (r, part) in parts.iter().enumerate() {
            for &i in part {
                release_of[i] = r;
            }
        }
        let owner: Vec<usize> = (0..tags.len())
            .map(|t| {
                position
                    .get(&tags[t].tag.commit)
                    .map_or(t, |&i| release_of[i].min(t))
            })
            .collect();
        if owner.iter().enumerate().all(|(t, &o)| o == t) {
            return parts;
        }
        let mut order: Vec<usize> = (0..tags.len()).collect();
        order.sort_by_key(|&t| (owner[t], usize::from(owner[t] == t), t));
        let old = std::mem::take(tags);
        let mut old: Vec<Option<VersionTag>> = old.into_iter().map(Some).collect();
        tags.extend(order.into_iter().filter_map(|t| old[t].take()));
    }
    let commits: Vec<&str> = tags.iter().map(|t| t.tag.commit.as_str()).collect();
    hub_git::partition_by_tags(topology, &commits)
}

/// One release: the commits of `from..to`, or of the last release tag reachable from `to`
/// up to `to`.
///
/// Its version is `release-version`, else the version of a release tag at `to` (`to:
/// v1.2.0`, or a workflow run on a tag push), else none (`Unreleased`). Its date is its
/// tag's, or today when the tag is yet to be made. When the version is
/// known, the range starts at the highest release below it that is not on `to` itself —
/// so a workflow that tags `v1.3.0` first and writes the changelog second gets the 1.3.0
/// commits, not an empty range.
pub fn range(repo: &Repo, req: &Request<'_>) -> Result<History> {
    let (to, shallow) = open(repo, req.to)?;
    let (all_tags, mut dates) = dated_tags(repo)?;
    let tags = version_tags(&all_tags, req.pattern);
    let at_to = tags
        .iter()
        .filter(|t| t.tag.commit == to)
        .max_by(|a, b| descending(&b.version, &a.version));
    let named = tags.iter().find(|t| t.tag.name == req.to);
    let mut version = match (req.release_version, named.or(at_to)) {
        (Some(v), _) => Some(v.clone()),
        (None, Some(t)) => Some(t.version.clone()),
        (None, None) => None,
    };
    let mut tag = version.as_ref().map(|v| req.pattern.format(v));

    let (from, previous, description) = match req.from {
        Some(from) => {
            let id = repo.rev_parse(from).map_err(|e| input_error("from", e))?;
            let is_tag = all_tags.iter().any(|t| t.name == from);
            let previous = if is_tag { from.to_owned() } else { id.clone() };
            (Some(id), Some(previous), format!("{from}..{}", req.to))
        }
        None => {
            refuse_shallow(shallow)?;
            let refs: Vec<VersionTagRef<'_>> = tags
                .iter()
                .map(|t| VersionTagRef {
                    name: &t.tag.name,
                    commit: &t.tag.commit,
                    version: &t.version,
                })
                .collect();
            let find = |below: Option<&Version>, skip: Option<&str>| {
                last_release(&refs, below, skip, |candidates| {
                    Ok(repo.first_reachable(candidates.iter().map(|t| (t.name, t.commit)), &to)?)
                })
            };
            if let Some(v) = req.release_version {
                already_released(repo, &tags, &req.pattern.format(v), &to, req.to)?;
            }
            let skip = version.is_some().then_some(to.as_str());
            let mut last = find(version.as_ref(), skip)?;
            // The last release counts at `to` itself (a release tree of `to`): `to` is that
            // release, as a tag on `to` would make it, and the range starts below it.
            if version.is_none()
                && let Some((t, commit)) = &last
                && *commit == to
            {
                let t = *t;
                version = Some(t.version.clone());
                tag = Some(t.name.to_owned());
                last = find(version.as_ref(), Some(to.as_str()))?;
            }
            match last {
                // A release tree's tag starts the range at its first parent.
                Some((t, commit)) => (
                    Some(commit),
                    Some(t.name.to_owned()),
                    format!("{}..{}", t.name, req.to),
                ),
                None => (
                    None,
                    None,
                    format!(
                        "the whole history up to {} (no release tag before it)",
                        req.to
                    ),
                ),
            }
        }
    };

    let log = repo.log(&Range::since(from.as_deref(), &to), req.paths)?;
    let date = tag
        .as_ref()
        .map(|tag| dates.remove(tag).unwrap_or_else(|| req.today.to_owned()));
    let plan = Plan {
        version,
        tag,
        previous,
        date,
        commits: (0..log.len()).collect(),
    };
    Ok(History {
        log,
        releases: vec![plan],
        description,
    })
}

/// Refuses a `release-version` whose tag `name` is already released before `to` — on an
/// ancestor of `to`, or on a marked release tree of one (`hub_git::Repo::first_reachable`):
/// its section would also take the commits made since. A tag on `to` itself (or on a release
/// tree of `to`) is that release being written again; a tag off `to`'s history is left alone.
fn already_released(
    repo: &Repo,
    tags: &[VersionTag],
    name: &str,
    to: &str,
    to_input: &str,
) -> Result<()> {
    let Some(t) = tags.iter().find(|t| t.tag.name == name) else {
        return Ok(());
    };
    if t.tag.commit == to {
        return Ok(());
    }
    match repo.first_reachable([(t.tag.name.as_str(), t.tag.commit.as_str())], to)? {
        Some(reached) if reached.commit != to => bail!(
            "input `release-version`: `{name}` is already released, at commit {}, before `to` \
             (`{to_input}`): its section would also take the commits since. Set `to: {name}` \
             to write that release again, or give the next version",
            &reached.commit[..reached.commit.len().min(12)]
        ),
        _ => Ok(()),
    }
}

/// The whole history reachable from `to`, one release per release tag (the highest
/// version when a commit carries several), newest first, plus the commits after the last
/// tag when there are any (or when `release-version` names them).
pub fn full(repo: &Repo, req: &Request<'_>) -> Result<History> {
    let (to, shallow) = open(repo, req.to)?;
    refuse_shallow(shallow)?;
    let log = repo.log(&Range::since(None, &to), req.paths)?;

    // The commit graph: from the log itself, or — when `path` filters the log — from
    // `rev-list --parents`, since a filtered log has holes that would cut the walk.
    let topology_text;
    let topology: Vec<(&str, Vec<&str>)> = if req.paths.is_empty() {
        log.iter()
            .map(|c| (c.id, c.parent_ids().collect()))
            .collect()
    } else {
        topology_text =
            String::from_utf8_lossy(&repo.run(["rev-list", "--parents", &to, "--"])?).into_owned();
        topology_text
            .lines()
            .filter_map(|l| {
                let mut ids = l.split(' ');
                Some((ids.next()?, ids.collect()))
            })
            .collect()
    };
    let in_history: HashSet<&str> = topology.iter().map(|(id, _)| *id).collect();

    // Release tags in the history, one per commit (the highest), ascending. A tag off the
    // history that is a marked release tree counts at its first parent when the history has
    // it (one more git process, only when some version tag is off the history).
    let (all_tags, dates) = dated_tags(repo)?;
    let mut tags = version_tags(&all_tags, req.pattern);
    let off: Vec<&str> = tags
        .iter()
        .map(|t| t.tag.commit.as_str())
        .filter(|c| !in_history.contains(c))
        .collect();
    if !off.is_empty() {
        let parents = repo.release_tree_parents(&off)?;
        for t in &mut tags {
            if let Some(parent) = parents.get(&t.tag.commit)
                && in_history.contains(parent.as_str())
            {
                t.tag.commit.clone_from(parent);
            }
        }
    }
    let mut tags: Vec<VersionTag> = tags
        .into_iter()
        .filter(|t| in_history.contains(t.tag.commit.as_str()))
        .collect();
    tags.sort_by(|a, b| descending(&a.version, &b.version));
    let mut seen = HashSet::new();
    tags.retain(|t| seen.insert(t.tag.commit.clone()));
    tags.reverse();

    let mut parts = partition_in_release_order(&topology, &mut tags);
    if !req.paths.is_empty() {
        let position: HashMap<&str, usize> =
            log.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
        for part in &mut parts {
            *part = part
                .iter()
                .filter_map(|&i| position.get(topology[i].0).copied())
                .collect();
        }
    }
    let unreleased = parts.pop().unwrap_or_default();

    let mut releases: Vec<Plan> = Vec::with_capacity(tags.len() + 1);
    let mut previous: Option<String> = None;
    for (t, commits) in tags.iter().zip(parts) {
        releases.push(Plan {
            version: Some(t.version.clone()),
            tag: Some(t.tag.name.clone()),
            previous: previous.replace(t.tag.name.clone()),
            date: dates.get(&t.tag.name).cloned(),
            commits,
        });
    }
    let already_tagged = req
        .release_version
        .is_some_and(|v| tags.iter().any(|t| &t.version == v));
    let next = req.release_version.filter(|_| !already_tagged);
    if !unreleased.is_empty() || next.is_some() || releases.is_empty() {
        releases.push(Plan {
            version: next.cloned(),
            tag: next.map(|v| req.pattern.format(v)),
            previous,
            date: next.map(|_| req.today.to_owned()),
            commits: unreleased,
        });
    }
    releases.reverse();
    let description = format!(
        "the whole history up to {}: {} release tag(s), {} commit(s)",
        req.to,
        tags.len(),
        log.len()
    );
    Ok(History {
        log,
        releases,
        description,
    })
}

/// A revision an input names that git cannot resolve, as one line naming the input
/// (hub-release's rule, as semver-bump's); any other git error as it is.
fn input_error(input: &str, e: hub_git::GitError) -> anyhow::Error {
    match hub_release::inputs::unknown_revision(input, &e) {
        Some(message) => anyhow::anyhow!(message),
        None => e.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).expect("valid version")
    }

    fn pick(
        tags: &[(&str, &str, &str)],
        below: Option<&str>,
        skip: Option<&str>,
        reachable: &[&str],
    ) -> (Option<String>, Vec<String>) {
        let versions: Vec<Version> = tags.iter().map(|t| v(t.2)).collect();
        let refs: Vec<VersionTagRef<'_>> = tags
            .iter()
            .zip(&versions)
            .map(|(t, version)| VersionTagRef {
                name: t.0,
                commit: t.1,
                version,
            })
            .collect();
        let below = below.map(v);
        let mut asked = Vec::new();
        let found = last_release(&refs, below.as_ref(), skip, |candidates| {
            Ok(candidates
                .iter()
                .position(|t| {
                    asked.push(t.name.to_owned());
                    reachable.contains(&t.commit)
                })
                .map(|index| hub_git::Reached {
                    index,
                    commit: candidates[index].commit.to_owned(),
                }))
        })
        .expect("no error");
        (found.map(|(t, _)| t.name.to_owned()), asked)
    }

    #[test]
    fn highest_reachable_wins_and_is_asked_first() {
        let tags = [
            ("v1.0.0", "a", "1.0.0"),
            ("v1.10.0", "c", "1.10.0"),
            ("v1.9.0", "b", "1.9.0"),
        ];
        assert_eq!(
            pick(&tags, None, None, &["a", "b", "c"]),
            (Some("v1.10.0".into()), vec!["v1.10.0".into()])
        );
        // v1.10.0 is on another branch.
        assert_eq!(
            pick(&tags, None, None, &["a", "b"]),
            (
                Some("v1.9.0".into()),
                vec!["v1.10.0".into(), "v1.9.0".into()]
            )
        );
        assert_eq!(pick(&tags, None, None, &[]).0, None);
    }

    #[test]
    fn a_known_version_starts_after_the_release_below_it() {
        let tags = [
            ("v1.0.0", "a", "1.0.0"),
            ("v1.1.0-rc.1", "b", "1.1.0-rc.1"),
            ("v1.1.0", "b", "1.1.0"),
            ("v1.2.0", "c", "1.2.0"),
        ];
        // Writing 1.1.0 (tagged at `b`): not 1.1.0 itself, not its rc on the same commit.
        assert_eq!(
            pick(&tags, Some("1.1.0"), Some("b"), &["a", "b", "c"]).0,
            Some("v1.0.0".into())
        );
        // Writing 1.2.0 before it is tagged.
        assert_eq!(
            pick(&tags, Some("1.2.0"), None, &["a", "b"]).0,
            Some("v1.1.0".into())
        );
    }
}
