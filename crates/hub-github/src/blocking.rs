//! A blocking facade for the action binaries, which are plain sequential CLIs.

use std::future::Future;

use crate::{Error, GitHub, GitHubConfig, RetryPolicy};

/// A [`GitHub`] client together with the current-thread tokio runtime it runs on.
///
/// The client stays async (so callers can overlap requests where it pays) and binaries call
/// it through [`BlockingGitHub::block_on`]. The client is built on this runtime and the runtime
/// lives as long as the client: octocrab's service task and pooled connections belong to the
/// runtime that started them, so a fresh runtime per call would strand them.
#[derive(Debug)]
pub struct BlockingGitHub {
    runtime: tokio::runtime::Runtime,
    github: GitHub,
}

impl BlockingGitHub {
    /// Starts a current-thread runtime (I/O and timers) and builds the client on it.
    ///
    /// # Errors
    /// [`Error::Runtime`] when the runtime cannot start, or as [`GitHub::new`].
    pub fn new(config: &GitHubConfig) -> Result<Self, Error> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| Error::Runtime { source })?;
        let github = {
            let _entered = runtime.enter();
            GitHub::new(config)?
        };
        Ok(BlockingGitHub { runtime, github })
    }

    /// Uses `policy` for retries, timeouts and rate limits.
    #[must_use]
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.github = self.github.with_retry_policy(policy);
        self
    }

    /// Requests `size` items per page (1–100).
    #[must_use]
    pub fn with_page_size(mut self, size: u8) -> Self {
        self.github = self.github.with_page_size(size);
        self
    }

    /// The async client, to build the futures that [`BlockingGitHub::block_on`] runs.
    #[must_use]
    pub fn github(&self) -> &GitHub {
        &self.github
    }

    /// Runs `future` (usually a call on [`BlockingGitHub::github`]) to completion.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_async_client_needs_a_runtime_and_the_blocking_one_brings_it() {
        let config = GitHubConfig::default();
        assert!(matches!(GitHub::new(&config), Err(Error::NoRuntime)));
        let blocking = BlockingGitHub::new(&config).expect("builds");
        assert_eq!(blocking.github().api_url(), "https://api.github.com");
    }

    #[test]
    fn a_token_that_cannot_be_a_header_is_refused_without_showing_it() {
        let config = GitHubConfig::default().with_token_input(Some("ghp_abc\ndef SECRET"));
        let err = BlockingGitHub::new(&config).expect_err("refused");
        assert!(matches!(err, Error::InvalidToken));
        assert!(!format!("{err} {err:?}").contains("SECRET"));
    }
}

/// Where [`post_sticky_comment`] may comment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommentOn {
    /// Only the pull request the run is for.
    PullRequest,
    /// The pull request, else the run's commit ([`crate::comment_thread`]).
    PullRequestOrCommit,
}

/// A sticky comment written, or found already up to date.
#[derive(Debug)]
pub struct Posted {
    pub thread: crate::Thread,
    pub outcome: crate::StickyOutcome,
}

impl Posted {
    /// For the log: `pull request #7 comment posted: <url>`.
    #[must_use]
    pub fn describe(&self) -> String {
        let verb = match self.outcome {
            crate::StickyOutcome::Created(_) => "posted",
            crate::StickyOutcome::Updated(_) => "updated",
            crate::StickyOutcome::Unchanged(_) => "left unchanged",
        };
        format!(
            "{} comment {verb}: {}",
            self.thread.describe(),
            self.outcome.comment().html_url
        )
    }
}

/// Keeps `action`'s one sticky comment (marker `<!-- hub-actions:<action> -->`) for the run
/// the environment describes (`env`: the runner's variables, the event payload), with the
/// `token` input or `GITHUB_TOKEN`: on its pull request or, as `on` allows, its commit.
/// `Ok(None)` when there is nowhere to comment. `body` must already be escaped Markdown.
///
/// # Errors
/// When the environment cannot be read, there is no repository or token, or GitHub refuses.
pub fn post_sticky_comment(
    env: &impl Fn(&str) -> Option<String>,
    token: Option<&str>,
    action: &str,
    body: &str,
    on: CommentOn,
) -> Result<Option<Posted>, Error> {
    let config = GitHubConfig::from_env(env)?.with_token_input(token);
    let thread = match on {
        CommentOn::PullRequest => config
            .event
            .as_ref()
            .and_then(crate::Event::pull_request_number)
            .map(crate::Thread::PullRequest),
        CommentOn::PullRequestOrCommit => {
            let sha = env(crate::config::env::GITHUB_SHA);
            crate::comment_thread(config.event.as_ref(), sha.as_deref())
        }
    };
    let Some(thread) = thread else {
        return Ok(None);
    };
    let repository = config.repository()?.clone();
    let client = BlockingGitHub::new(&config)?;
    let outcome = client.block_on(client.github().upsert_sticky_comment(
        &repository,
        thread.clone(),
        action,
        body,
    ))?;
    Ok(Some(Posted { thread, outcome }))
}
