//! `hub-release-pr`: the release-pr action's binary as a library (`release_pr::main`).
//!
//! The default command is the lifecycle run, once per push to the release branch. It reads
//! like the action's README: read the request; read the facts (the checkout's tags and
//! history, the pull request HEAD came from, the release pull request and its branch);
//! plan (a value, no I/O: the releases of a merged release pull request, or the pull
//! request's next content and what to do with it); report; carry the plan out. A dry run
//! stops after the report. `version-files` is the version-file updaters as a local CLI.

mod act;
mod args;
mod body;
mod facts;
mod files;
mod github;
mod history;
mod packages;
mod plan;
mod report;
mod request;
mod version_files;
mod workspace;

use std::collections::BTreeSet;
use std::process::ExitCode;

use anyhow::{Result, bail};
use hub_kit::{Env, Runner};

pub use crate::args::{Args, Cli, Command};
use crate::github::GitHub;
use crate::plan::{BranchHead, OpenPull};
use crate::report::{PullRun, Run};
use crate::request::Request;

/// The binary's `main`.
pub fn main() -> ExitCode {
    hub_kit::cli::run::<Cli, _>(run)
}

fn run(cli: &Cli, env: &Env, runner: &mut Runner) -> Result<ExitCode> {
    match &cli.command {
        Some(Command::VersionFiles(args)) => version_files::run(args, runner),
        None => lifecycle(&cli.run, env, runner),
    }
}

/// One run of the lifecycle.
fn lifecycle(args: &Args, env: &Env, runner: &mut Runner) -> Result<ExitCode> {
    // 1. The inputs, validated.
    let request = Request::read(args, env)?;
    let gh = GitHub::connect(env, request.token.as_deref(), runner)?;
    let base = release_branch(&request, env, &gh)?;
    let mut run = Run::new(&base, gh.workflow_token, request.dry_run);
    if !request.labels.is_empty() {
        runner.info("input `labels`: not applied by this version (labels are cosmetic only)")?;
    }

    // 2. The facts: where HEAD is and whether it came from a merged release pull request.
    let head = facts::history(&request, "HEAD", &BTreeSet::new())?;
    let keys = keys(&base, &head.units, request.separate);
    let merged = gh
        .merged_pull_of(&head.at)?
        .filter(|pr| keys.iter().any(|k| pr.has_marker(k)));

    if let Some(pr) = merged {
        // 3–5. A merged release pull request: its releases, reported, then made.
        release_pull(&request, &gh, &pr, &mut run, runner)?;
    } else {
        // A merged release pull request left untagged by an earlier run is released now.
        let mut pulls = Vec::new();
        for key in &keys {
            let branch = format!("hub-release/{key}");
            let found = gh.pulls_by_head(&branch)?;
            for pr in found.iter().filter(|p| p.is_merged() && p.has_marker(key)) {
                let Some(data) = body::data(&pr.body) else {
                    continue;
                };
                let at = pr.merge_commit_sha.clone().unwrap_or_default();
                let untagged = data
                    .tags
                    .iter()
                    .any(|t| !head.tags.iter().any(|h| &h.name == t));
                if untagged
                    && !at.is_empty()
                    && head.repo.has_commit(&at)
                    && (at == head.at || head.repo.is_ancestor(&at, &head.at)?)
                {
                    runner.info(&format!(
                        "release pull request #{} was merged but not released: releasing it now",
                        pr.number
                    ))?;
                    release_pull(&request, &gh, pr, &mut run, runner)?;
                }
            }
            pulls.push((key.clone(), branch, found));
        }
        // A release just made moves the last release: read the history again.
        let head = if run.releases.is_empty() || request.dry_run {
            head
        } else {
            facts::history(&request, "HEAD", &BTreeSet::new())?
        };
        // 3. The plan of each release pull request: its next content and what to do.
        let mut plans = Vec::new();
        for (key, branch, found) in &pulls {
            let open = found.iter().find(|p| p.is_open() && p.has_marker(key));
            let edits = open.map(|p| body::edits(&p.body)).unwrap_or_default();
            let nexts: Vec<_> = plan::next_versions(&request, &head, &edits)?
                .into_iter()
                .filter(|n| !request.separate || key.ends_with(&format!("/{}", n.name)))
                .collect();
            let content = if nexts.is_empty() {
                None
            } else {
                let files = files::edits(&head, &request, &nexts)?;
                Some(plan::content(key, &base, &head.at, nexts, files, &edits))
            };
            let branch_head = match gh.branch_head(branch)? {
                Some(c) => Some(BranchHead {
                    merged: head.repo.has_commit(&c.sha)
                        && head.repo.is_ancestor(&c.sha, &head.at)?,
                    parent_on_base: c.parents.len() == 1
                        && head.repo.has_commit(&c.parents[0])
                        && head.repo.is_ancestor(&c.parents[0], &head.at)?,
                    sha: c.sha,
                    tree: c.tree,
                    parents: c.parents,
                    message: c.message,
                }),
                None => None,
            };
            let tree = match &content {
                Some(c) => Some(files::tree(head.repo.root(), &head.at, &c.files, false)?),
                None => None,
            };
            let open = open.map(|p| OpenPull {
                number: p.number,
                url: p.html_url.clone(),
                title: p.title.clone(),
                body: p.body.clone(),
            });
            let action = plan::pull_action(
                content.as_ref(),
                key,
                open.as_ref(),
                branch_head.as_ref(),
                tree.as_deref(),
                request.force,
            )?;
            plans.push(PullRun {
                key: key.clone(),
                branch: branch.clone(),
                content,
                open,
                branch_exists: branch_head.is_some(),
                action,
                head_sha: branch_head.map(|h| h.sha),
            });
        }
        // 4. Report what the plan is (a dry run stops here).
        run.pulls = plans;
        if !request.dry_run {
            // 5. Carry it out.
            for pull in &mut run.pulls {
                act::pull(&request, &gh, head.repo.root(), pull, runner)?;
            }
        }
    }
    report::finish(&run, &request, runner)?;
    Ok(ExitCode::SUCCESS)
}

/// The releases of a merged release pull request: planned from the real range at its merge
/// commit, then made (tags, releases, major tags).
fn release_pull(
    request: &Request,
    gh: &GitHub,
    pr: &hub_github::PullRequest,
    run: &mut Run,
    runner: &mut Runner,
) -> Result<()> {
    let Some(data) = body::data(&pr.body) else {
        bail!(
            "release pull request #{} has the marker but no data comment: release it by hand",
            pr.number
        );
    };
    let at = pr
        .merge_commit_sha
        .clone()
        .unwrap_or_else(|| "HEAD".to_string());
    let ignore: BTreeSet<String> = data.tags.iter().cloned().collect();
    let h = facts::history(request, &at, &ignore)?;
    let late = facts::not_in(&h.repo, &h.at, &data.base)?;
    let edits = body::edits(&pr.body);
    let releases = plan::releases(request, &h, &data, &edits.user_notes, &late)?;
    let mut done = Vec::new();
    for release in releases {
        let outcome = if request.dry_run {
            report::Released::planned(release)
        } else {
            let made = act::release(gh, release, runner)?;
            // The checkout learns the tag as a fetch would, so this run's pull request
            // starts from it.
            if h.repo
                .rev_parse(&format!("refs/tags/{}", made.release.tag))
                .is_err()
            {
                h.repo
                    .run(["tag", made.release.tag.as_str(), made.release.at.as_str()])?;
            }
            made
        };
        done.push(outcome);
    }
    run.releases.push(report::PullRelease {
        number: pr.number,
        url: pr.html_url.clone(),
        releases: done,
    });
    Ok(())
}

/// The marker keys: the release branch, or `<branch>/<package>` per package.
fn keys(base: &str, units: &[facts::Unit], separate: bool) -> Vec<String> {
    if separate && !(units.len() == 1 && units[0].name == ".") {
        units.iter().map(|u| format!("{base}/{}", u.name)).collect()
    } else {
        vec![base.to_string()]
    }
}

/// The release branch: the input, else the event payload's default branch, else the
/// repository's (one API call).
fn release_branch(request: &Request, env: &Env, gh: &GitHub) -> Result<String> {
    if let Some(b) = &request.release_branch {
        return Ok(b.clone());
    }
    if let Some(b) =
        facts::default_branch_from_event(env.get_non_empty(hub_kit::vars::GITHUB_EVENT_PATH))
    {
        return Ok(b);
    }
    gh.default_branch()
}
