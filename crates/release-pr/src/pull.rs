//! One release pull request's facts and plan: the open pull request and what people
//! edited in it, the next versions and files, its branch's head on GitHub and the tree the
//! content's commit would have; then what to do (`plan::pull_action`).

use anyhow::Result;
use hub_github::PullRequest;

use crate::facts::History;
use crate::github::GitHub;
use crate::plan::{self, BranchHead, OpenPull};
use crate::report::PullRun;
use crate::request::{CommitVia, Request};
use crate::{body, files};

/// The plan of the release pull request `key` on `branch` (`pulls`: its pull requests).
pub fn plan(
    request: &Request,
    gh: &GitHub,
    head: &History,
    base: &str,
    key: &str,
    branch: &str,
    pulls: &[PullRequest],
) -> Result<PullRun> {
    let open = pulls.iter().find(|p| p.is_open() && p.has_marker(key));
    let edits = open.map(|p| body::edits(&p.body)).unwrap_or_default();
    let (nexts, warnings) = plan::next_versions(request, head, &edits)?;
    let nexts: Vec<_> = nexts
        .into_iter()
        .filter(|n| !request.separate || key.ends_with(&format!("/{}", n.name)))
        .collect();
    let content = if nexts.is_empty() {
        None
    } else {
        let files = files::edits(head, request, &nexts)?;
        Some(plan::content(key, base, &head.at, nexts, files, &edits))
    };
    let branch_head = match gh.branch_head(branch)? {
        Some(c) => Some(BranchHead {
            merged: head.repo.has_commit(&c.sha) && head.repo.is_ancestor(&c.sha, &head.at)?,
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
    // The would-be tree; a run that may commit through GitHub's API keeps the bytes git
    // stores for it too (one process more), which that commit must hold — one scratch build,
    // not a second one when carrying the plan out.
    let (tree, stored) = match &content {
        Some(c) if !request.dry_run && request.commit_via != CommitVia::Git => {
            let (tree, stored) = files::tree_and_stored(&head.repo, &head.at, &c.files)?;
            (Some(tree), Some(stored))
        }
        Some(c) => (
            Some(files::tree(&head.repo, &head.at, &c.files, false)?),
            None,
        ),
        None => (None, None),
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
    Ok(PullRun {
        key: key.to_string(),
        branch: branch.to_string(),
        content,
        open,
        action,
        head_sha: branch_head.map(|h| h.sha),
        stored,
        warnings,
    })
}
