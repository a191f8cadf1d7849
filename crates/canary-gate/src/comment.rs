//! The sticky comment: one per pull request, or per commit when no pull request triggered the
//! run (`push`, `release`, `deployment`, `workflow_dispatch`), found by its hidden marker
//! `<!-- hub-actions:canary-gate -->` and edited in place on later runs (through `hub-github`'s
//! sticky comments, as every action of the suite).

use hub_github::{BlockingGitHub, GitHubConfig, StickyOutcome, Thread, comment_thread};
use hub_kit::Env;

/// The action name in the comment's marker.
const ACTION: &str = "canary-gate";

/// Posts or updates the comment on the pull request the run is for, else on its commit (the
/// one the event names, else `GITHUB_SHA`; for `release`, `GITHUB_SHA`); `None` when there is
/// neither. `body` is already escaped Markdown.
pub fn post(env: &Env, token: Option<&str>, body: &str) -> anyhow::Result<Option<String>> {
    let config = GitHubConfig::from_env(&|name: &str| env.get(name).map(String::from))?
        .with_token_input(token);
    let github_sha = env.get_non_empty(hub_github::config::env::GITHUB_SHA);
    let Some(thread) = comment_thread(config.event.as_ref(), github_sha) else {
        return Ok(None);
    };
    let repository = config.repository()?.clone();
    let client = BlockingGitHub::new(&config)?;
    let outcome = client.block_on(client.github().upsert_sticky_comment(
        &repository,
        thread.clone(),
        ACTION,
        body,
    ))?;
    let verb = match outcome {
        StickyOutcome::Created(_) => "posted",
        StickyOutcome::Updated(_) => "updated",
        StickyOutcome::Unchanged(_) => "left unchanged",
    };
    Ok(Some(match &thread {
        Thread::PullRequest(number) | Thread::Issue(number) => {
            format!("pull request comment {verb} (#{number})")
        }
        Thread::Commit(_) => format!(
            "{} comment {verb}: {}",
            thread.describe(),
            outcome.comment().html_url
        ),
    }))
}
