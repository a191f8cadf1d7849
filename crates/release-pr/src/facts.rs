//! What planning needs to know, read before it plans: from the checkout, each package's last
//! release (tags are the one source of truth), the commits since and the date; from GitHub,
//! the pull request HEAD came from, the release pull request(s) and their branches. The reads
//! change nothing, so a dry run makes them too. Files are read from the checkout, never
//! through the API.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result, bail};
use hub_conventional::TagPattern;
use hub_git::{Repo, Tag};

use hub_release::packages::{self, Package};
use hub_release::releases::{self, LastRelease};

use crate::request::Request;

/// A package to version: the single package (`.`, owning `.`), or one of the monorepo
/// config — hub-release's [`Package`], as semver-bump reads it.
pub type Unit = Package;

/// The directory a package's version files and changelog are in: its first path.
pub fn dir(unit: &Unit) -> &str {
    &unit.paths[0]
}

/// A commit, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedCommit {
    pub id: String,
    pub parents: Vec<String>,
    pub author_name: String,
    pub author_email: String,
    pub message: String,
}

/// The checkout's history at one commit.
pub struct History {
    /// The repository.
    pub repo: Repo,
    /// The commit (`HEAD`, or a merged pull request's merge commit).
    pub at: String,
    /// Its committer date (`YYYY-MM-DD`), the changelog's date: a re-run on the same commit
    /// renders the same text.
    pub date: String,
    /// The packages.
    pub units: Vec<Unit>,
    /// Each one's last release reachable from `at`.
    pub lasts: Vec<LastRelease>,
    /// Each one's commits since, newest first.
    pub commits: Vec<Vec<OwnedCommit>>,
    /// Every tag of the repository.
    pub tags: Vec<Tag>,
}

/// The packages of the run: the config's, or the single package at the root.
pub fn units(request: &Request, root: &Path) -> Result<Vec<Unit>> {
    match &request.packages {
        None => Ok(vec![Unit {
            name: ".".into(),
            paths: vec![".".into()],
            pattern: request.pattern.clone(),
            linked: None,
            version_files: (!request.version_files.is_empty())
                .then(|| request.version_files.clone()),
        }]),
        Some(spec) => Ok(packages::load(spec, root)?),
    }
}

/// Reads each package's last release and its commits at `rev` (one `rev-parse` with the
/// tags, one `for-each-ref --merged` round, one `git log --name-only`, one date), ignoring
/// the tags in `ignore` (the tags a release is about to create: a re-run's range stays the
/// released one).
pub fn history(request: &Request, rev: &str, ignore: &BTreeSet<String>) -> Result<History> {
    let dir = request.dir.as_str();
    let (opened, tags) = match Repo::open_with_tags(dir, &[rev]) {
        Ok(o) => o,
        Err(e) => {
            Repo::discover(dir)?.rev_parse(rev)?;
            return Err(e.into());
        }
    };
    if opened.shallow {
        bail!(
            "the repository at `{dir}` is a shallow clone, so the last release tag may not be in it; \
             check out with `fetch-depth: 0` (actions/checkout)"
        );
    }
    let (repo, at) = (opened.repo, opened.commits[0].clone());
    let units = units(request, repo.root())?;
    let considered: Vec<Tag> = tags
        .iter()
        .filter(|t| !ignore.contains(&t.name))
        .cloned()
        .collect();
    let patterns: Vec<&TagPattern> = units.iter().map(|u| &u.pattern).collect();
    let lasts = releases::last_releases(&repo, &patterns, &considered, &at)?;
    let (log, files) = releases::log_since(&repo, &lasts, &at)?;
    let all: Vec<OwnedCommit> = log
        .iter()
        .map(|c| OwnedCommit {
            id: c.id.to_string(),
            parents: c.parent_ids().map(String::from).collect(),
            author_name: c.author_name.to_string(),
            author_email: c.author_email.to_string(),
            message: c.message.to_string(),
        })
        .collect();
    let ids: Vec<&str> = all.iter().map(|c| c.id.as_str()).collect();
    let parents: Vec<Vec<&str>> = all
        .iter()
        .map(|c| c.parents.iter().map(String::as_str).collect())
        .collect();
    let pairs: Vec<(&Package, Option<&str>)> = units
        .iter()
        .zip(&lasts)
        .map(|(p, l)| (p, l.commit.as_deref()))
        .collect();
    let assigned = packages::assign(&ids, &parents, &files, &pairs);
    let commits = assigned
        .iter()
        .map(|picked| picked.iter().map(|&i| all[i].clone()).collect())
        .collect();
    let date = String::from_utf8_lossy(&repo.run(["log", "-1", "--format=%cs", at.as_str()])?)
        .trim()
        .to_string();
    Ok(History {
        repo,
        at,
        date,
        units,
        lasts,
        commits,
        tags,
    })
}

/// The commits of `to` that `base` does not contain (`git rev-list to ^base`): at release
/// time, what was merged after the pull request's last refresh.
pub fn not_in(repo: &Repo, to: &str, base: &str) -> Result<BTreeSet<String>> {
    if base.is_empty() || !repo.has_commit(base) {
        return Ok(BTreeSet::new());
    }
    let out = repo
        .run(["rev-list", to, &format!("^{base}")])
        .with_context(|| format!("cannot list the commits since the pull request's base {base}"))?;
    Ok(String::from_utf8_lossy(&out)
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect())
}

/// The release branch from the event payload (`repository.default_branch`).
pub fn default_branch_from_event(path: Option<&str>) -> Option<String> {
    let text = std::fs::read_to_string(path?).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value
        .pointer("/repository/default_branch")?
        .as_str()
        .map(String::from)
        .filter(|b| !b.is_empty())
}
