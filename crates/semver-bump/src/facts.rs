//! What planning needs to know, read before it plans: the last release (the highest
//! version tag reachable from `to`), the commits since it, and what `require-conventional`
//! checks; in monorepo mode every package's last release and one log for all of them.
//! The reads change nothing (except deepening a shallow clone when `fetch` asks), so a dry
//! run makes them too.

use anyhow::{Context, Result};
use hub_git::{CommitLog, Range, Repo, Tag};
use hub_kit::{Env, Runner};
use hub_release::packages::{self, Package};
use hub_release::releases::{self, LastRelease};

use crate::args::Args;
use crate::history;
use crate::lint::{self, Violation};
use crate::request::Request;

/// One release range's facts.
pub struct Facts {
    /// The repository.
    pub repo: Repo,
    /// The commit id of `to`.
    pub to: String,
    /// The last release.
    pub last: LastRelease,
    /// The commits since it (`path`-limited when asked).
    pub log: CommitLog,
    /// What `require-conventional` found wrong (empty when it asks nothing).
    pub violations: Vec<Violation>,
}

/// Reads the last release and the commits since, with one `git log`: the quick way when
/// it applies, else step by step (shallow clones, `from`, unusual layouts, an unreachable
/// highest tag). Then the pull request's title and commits when `require-conventional`
/// asks.
pub fn read(request: &Request, args: &Args, env: &Env, runner: &mut Runner) -> Result<Facts> {
    let quick = match args.from {
        None => history::quick_start(&request.dir, &request.pattern, &args.to, &args.path)?,
        Some(_) => None,
    };
    let (repo, to, last, log) = match quick {
        Some(q) => (q.repo, q.to, q.last, q.log),
        None => {
            let repo = Repo::discover(&request.dir)?;
            let to = repo
                .rev_parse(&args.to)
                .map_err(|e| history::input_error("to", e))?;
            let last = history::last_release(
                &repo,
                &request.pattern,
                &to,
                args.from.as_deref(),
                args.fetch,
                runner,
            )?;
            let range = Range::since(last.commit.as_deref(), &to);
            let log = repo.log(&range, &args.path)?;
            (repo, to, last, log)
        }
    };
    let violations = if request.requirement.any() {
        let event =
            hub_github::GitHubConfig::from_env(&|name: &str| env.get(name).map(String::from))
                .context("cannot read the GitHub environment")?
                .event;
        let range: Vec<(String, String)> = log
            .iter()
            .map(|c| (c.id.to_string(), c.message.to_string()))
            .collect();
        lint::check(request.requirement, event.as_ref(), &repo, &range, runner)?
    } else {
        Vec::new()
    };
    Ok(Facts {
        repo,
        to,
        last,
        log,
        violations,
    })
}

/// A monorepo's facts: every package's last release and one log covering all of them.
pub struct PackageFacts {
    /// The repository.
    pub repo: Repo,
    /// The commit id of `to`.
    pub to: String,
    /// The packages of the config.
    pub packages: Vec<Package>,
    /// Each package's last release, in the config's order.
    pub lasts: Vec<LastRelease>,
    /// The commits since the oldest of those releases.
    pub log: CommitLog,
    /// The files each commit of `log` changed.
    pub files: Vec<Vec<String>>,
}

/// One `git rev-parse` next to one `git show-ref`; then one `for-each-ref --merged` about
/// every package's highest tag, and one `git log --name-only` for all of them.
pub fn read_packages(
    spec: &str,
    request: &Request,
    args: &Args,
    runner: &mut Runner,
) -> Result<PackageFacts> {
    let dir = request.dir.as_str();
    let (opened, tags): (_, Vec<Tag>) = match Repo::open_with_tags(dir, &[args.to.as_str()]) {
        Ok(o) => o,
        Err(e) => {
            // The precise reason: no repository, or an unknown `to`.
            Repo::discover(dir)?
                .rev_parse(&args.to)
                .map_err(|e| history::input_error("to", e))?;
            return Err(e.into());
        }
    };
    let (repo, to) = (opened.repo, opened.commits[0].clone());
    let config = packages::load(spec, repo.root())?;

    // Each package's last release, then one log since the oldest of them.
    let mut lasts = Vec::new();
    if opened.shallow {
        // Deepening (or refusing) is per package's tags, step by step.
        for p in &config {
            lasts.push(history::last_release(
                &repo, &p.pattern, &to, None, args.fetch, runner,
            )?);
        }
    } else {
        let patterns: Vec<_> = config.iter().map(|p| &p.pattern).collect();
        lasts = releases::last_releases(&repo, &patterns, &tags, &to)?;
    }
    let (log, files) = releases::log_since(&repo, &lasts, &to)?;
    Ok(PackageFacts {
        repo,
        to,
        packages: config,
        lasts,
        log,
        files,
    })
}
