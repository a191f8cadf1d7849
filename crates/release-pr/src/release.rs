//! A merged release pull request's releases: the history at its merge commit (the tags it
//! creates ignored, so a re-run sees the same range), the plan (versions from its data,
//! notes from the real range, late commits), then the writes.

use std::collections::BTreeSet;

use anyhow::{Result, bail};
use hub_github::PullRequest;
use hub_kit::Runner;

use crate::facts::{self, History};
use crate::github::GitHub;
use crate::report::{self, Run};
use crate::request::Request;
use crate::{act, body, plan};

/// The releases of a merged release pull request: planned from the real range at its merge
/// commit, then made (tags, releases, major tags).
pub fn merged(
    request: &Request,
    gh: &GitHub,
    pr: &PullRequest,
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
    let mut releases = plan::releases(request, &h, &data, &edits, &late)?;
    on_release_trees(&h, &mut releases)?;
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

/// A release whose tag already names a marked release tree of its commit (the release
/// workflow moved it there, `hub_git::RELEASE_TREE_TRAILER`) is that release, made: it is
/// found at the tree, so a re-run neither re-points the tag nor fails on it. Asks git only
/// when such a tag exists at another commit (one `git log --no-walk`).
fn on_release_trees(h: &History, releases: &mut [plan::Release]) -> Result<()> {
    let moved: Vec<&str> = releases
        .iter()
        .filter_map(|r| {
            let tag = h.tags.iter().find(|t| t.name == r.tag)?;
            (tag.commit != r.at).then_some(tag.commit.as_str())
        })
        .collect();
    if moved.is_empty() {
        return Ok(());
    }
    let parents = h.repo.release_tree_parents(&moved)?;
    for release in releases.iter_mut() {
        if let Some(tag) = h.tags.iter().find(|t| t.name == release.tag)
            && parents.get(&tag.commit) == Some(&release.at)
        {
            release.at.clone_from(&tag.commit);
        }
    }
    Ok(())
}

/// Releases the merged release pull requests among `found` whose tags are missing and
/// whose merge commit is in `head`'s history (an earlier run that failed, or never ran).
pub fn untagged(
    request: &Request,
    gh: &GitHub,
    head: &History,
    found: &[(String, String, Vec<PullRequest>)],
    run: &mut Run,
    runner: &mut Runner,
) -> Result<()> {
    for (key, _, pulls) in found {
        for pr in pulls.iter().filter(|p| p.is_merged() && p.has_marker(key)) {
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
                // An old pull request's state never stops this run: said, and left.
                if let Err(e) = merged(request, gh, pr, run, runner) {
                    runner.warning(
                        &format!(
                            "release pull request #{} was merged but cannot be released: {e:#}",
                            pr.number
                        ),
                        &hub_kit::Annotation::default(),
                    )?;
                }
            }
        }
    }
    Ok(())
}
