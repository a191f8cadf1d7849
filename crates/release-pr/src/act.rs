//! Carrying a plan out: the pull request's branch rebuilt from the base and its one
//! commit, the pull request opened, edited or closed; or a merged one's tags, releases and
//! major tags. Every write is idempotent: a re-run finds what the first run made.

use std::path::Path;

use anyhow::Result;
use hub_github::NewPullRequest;
use hub_kit::Runner;

use crate::files;
use crate::github::GitHub;
use crate::plan::{self, PullAction};
use crate::report::{PullRun, Released};
use crate::request::{CommitVia, Request};

/// Makes one release pull request's writes.
pub fn pull(
    request: &Request,
    gh: &GitHub,
    root: &Path,
    run: &mut PullRun,
    runner: &mut Runner,
) -> Result<()> {
    if let PullAction::Close { number, comment } = &run.action {
        gh.close(*number, comment)?;
        runner.info(&format!("closed release pull request #{number}"))?;
        return Ok(());
    }
    let Some(content) = &run.content else {
        return Ok(());
    };
    if run.action.pushes() {
        let sha = match request.commit_via {
            CommitVia::Git => {
                let tree = files::tree(root, &content.base_sha, &content.files, true)?;
                files::commit_and_push(
                    root,
                    &content.base_sha,
                    &tree,
                    &content.message,
                    &content.branch,
                )?
            }
            via => {
                gh.reset_branch(&content.branch, &content.base_sha, run.branch_exists)?;
                if content.files.is_empty() {
                    content.base_sha.clone()
                } else {
                    gh.commit(
                        &content.branch,
                        &content.base_sha,
                        &content.message,
                        content
                            .files
                            .iter()
                            .map(|f| (f.path.clone(), f.after.clone()))
                            .collect(),
                        via,
                    )?
                }
            }
        };
        runner.info(&format!(
            "pushed {} to branch {}",
            &sha[..sha.len().min(12)],
            content.branch
        ))?;
        run.head_sha = Some(sha);
    }
    match &run.action {
        PullAction::Open { .. } => {
            let created = gh.open(&NewPullRequest {
                title: content.title.clone(),
                body: content.body.clone(),
                head: content.branch.clone(),
                base: content.base.clone(),
                draft: false,
            })?;
            runner.info(&format!(
                "opened release pull request #{}: {}",
                created.number, created.html_url
            ))?;
            gh.label(created.number, &request.labels)?;
            run.open = Some(plan::OpenPull {
                number: created.number,
                url: created.html_url,
                title: created.title,
                body: created.body,
            });
        }
        PullAction::Refresh { number, .. } => {
            let open = run.open.as_ref();
            let differs = open.is_none_or(|o| o.title != content.title || o.body != content.body);
            if differs {
                gh.edit(*number, &content.title, &content.body)?;
            }
            runner.info(&format!("refreshed release pull request #{number}"))?;
        }
        _ => {}
    }
    Ok(())
}

/// Makes one release: the tag, the GitHub release, the major tag.
pub fn release(gh: &GitHub, release: plan::Release, runner: &mut Runner) -> Result<Released> {
    let tag_created = gh.tag(&release.tag, &release.at)?;
    runner.info(&format!(
        "{} tag {} at {}",
        if tag_created { "created" } else { "found" },
        release.tag,
        &release.at[..release.at.len().min(12)]
    ))?;
    let (url, new) = gh.release(
        &release.tag,
        &release.at,
        &release.notes,
        release.draft,
        !release.version.pre.is_empty(),
    )?;
    runner.info(&format!(
        "{} release {}: {url}",
        if new { "created" } else { "found" },
        release.tag
    ))?;
    if let Some(major) = &release.major_tag
        && gh.move_tag(major, &release.at)?
    {
        runner.info(&format!(
            "moved {major} to {}",
            &release.at[..12.min(release.at.len())]
        ))?;
    }
    Ok(Released {
        url: Some(url),
        created: tag_created || new,
        release,
    })
}
