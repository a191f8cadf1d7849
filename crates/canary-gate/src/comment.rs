//! The sticky pull-request comment: one per pull request, found by its hidden marker
//! `<!-- hub-actions:canary-gate -->` and edited in place on later runs (through
//! `hub-github`'s sticky comments, as every action of the suite).

use hub_github::{BlockingGitHub, GitHubConfig, StickyOutcome, Thread};
use hub_kit::Env;

/// The action name in the comment's marker.
const ACTION: &str = "canary-gate";

/// Posts or updates the comment on the pull request the run is for; `None` when the run
/// is not for a pull request. `body` is already escaped Markdown.
pub fn post(env: &Env, token: Option<&str>, body: &str) -> anyhow::Result<Option<String>> {
    let config = GitHubConfig::from_env(&|name: &str| env.get(name).map(String::from))?
        .with_token_input(token);
    let Some(number) = config.event.as_ref().and_then(|e| e.pull_request_number()) else {
        return Ok(None);
    };
    let repository = config.repository()?.clone();
    let client = BlockingGitHub::new(&config)?;
    let outcome = client.block_on(client.github().upsert_sticky_comment(
        &repository,
        Thread::PullRequest(number),
        ACTION,
        body,
    ))?;
    let verb = match outcome {
        StickyOutcome::Created(_) => "posted",
        StickyOutcome::Updated(_) => "updated",
        StickyOutcome::Unchanged(_) => "left unchanged",
    };
    Ok(Some(format!("pull request comment {verb} (#{number})")))
}
