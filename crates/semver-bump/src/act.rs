//! Carrying a plan out: the tag (created at `to` and pushed), then GitHub — the release,
//! the major tag, the pull request comment. A dry run prints each write instead.

use anyhow::Result;
use hub_git::Repo;
use hub_kit::{Env, Runner};

use crate::github::GitHub;
use crate::history;
use crate::plan::{Plan, Release};
use crate::report;
use crate::request::Request;

/// Makes the plan's writes, in order; a dry run says what it would write.
pub fn carry_out(
    request: &Request,
    repo: &Repo,
    plan: &Plan<'_>,
    env: &Env,
    runner: &mut Runner,
) -> Result<()> {
    let writes = &plan.writes;
    if request.dry_run {
        if let Some(line) = writes.describe_tag() {
            runner.info(&line)?;
        }
        for line in writes.describe_github() {
            runner.info(&line)?;
        }
        return Ok(());
    }
    if let Some(tag) = &writes.tag {
        history::create_tag(repo, tag, writes.at, runner)?;
    }
    if !writes.github() {
        return Ok(());
    }
    let gh = GitHub::connect(
        env,
        request.token.as_deref(),
        "creating a release, moving a tag or commenting",
        runner,
    )?;
    match &writes.release {
        Some(Release::Create {
            tag,
            version,
            draft,
        }) => {
            let (url, new) = gh.ensure_release(tag, writes.at, version, &plan.notes, *draft)?;
            runner.info(&format!(
                "{} release {tag}: {url}",
                if new { "created" } else { "found" }
            ))?;
            runner.set_output("release-url", url)?;
        }
        Some(Release::Existing { tag: Some(tag) }) => {
            // Re-run on a released commit: report the existing release, change nothing.
            if let Some(url) = gh.release_url(tag)? {
                runner.info(&format!("already released as {tag}: {url}"))?;
                runner.set_output("release-url", url)?;
            }
        }
        Some(Release::Existing { tag: None }) | None => {}
    }
    if let Some(name) = &writes.major_tag {
        gh.move_tag(name, writes.at)?;
        let at = writes.at;
        runner.info(&format!("moved {name} to {}", &at[..at.len().min(12)]))?;
    }
    if writes.comment {
        match gh.pull_request() {
            Some(number) => {
                let body = report::comment(
                    plan.last,
                    &plan.decision,
                    plan.next_tag.as_deref(),
                    &plan.notes,
                    &plan.lint,
                );
                let url = gh.sticky_comment(number, &body)?;
                runner.info(&format!("pull request comment: {url}"))?;
            }
            None => runner.info("no pull request in the event payload: no comment")?,
        }
    }
    Ok(())
}
