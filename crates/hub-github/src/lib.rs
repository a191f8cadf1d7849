//! The GitHub client of the hub-actions, on [octocrab].
//!
//! - **Configuration** comes from the binary, never from the process environment deep inside:
//!   [`GitHubConfig::from_env`] takes a lookup function (or [`GitHubConfig::from_map`] a map)
//!   and reads `GITHUB_API_URL` (GitHub Enterprise Server works), `GITHUB_TOKEN` (or the
//!   action's `token` input, [`GitHubConfig::with_token_input`]), `GITHUB_REPOSITORY` and the
//!   [`Event`] payload at `GITHUB_EVENT_PATH`.
//! - **Operations** with typed results: sticky comments per (thread, action) found by a hidden
//!   marker and edited in place ([`GitHub::upsert_sticky_comment`]), on a pull request, an
//!   issue or a commit ([`Thread`]; [`comment_thread`] picks the pull request of the run, else
//!   its commit); refs and annotated tags
//!   ([`GitHub::create_ref`], [`GitHub::move_ref`], [`GitHub::create_annotated_tag`]);
//!   releases by tag ([`GitHub::ensure_release`]); deployments and statuses; the commits of a
//!   pull request and the login behind a commit; pull requests (found by head branch or by a
//!   commit, created, updated, closed with a comment, merged: [`PullRequest`]); verified
//!   commits through GraphQL `createCommitOnBranch` ([`GitHub::create_commit_on_branch`]) and
//!   unsigned ones through the Git Data API ([`GitHub::commit_files`]), chosen by
//!   [`CommitVia`].
//! - **Faults**: timeouts, connection failures and 5xx are retried with jittered backoff;
//!   rate limits (403/429 with `retry-after` or `x-ratelimit-reset`) are waited out up to a cap
//!   ([`RetryPolicy`]); a refusal names the permission the workflow must grant
//!   ([`Error::Forbidden`]), and a repository that forbids GitHub Actions to open pull requests
//!   names the setting ([`Error::ActionsMayNotCreatePullRequests`]); [`Token::is_workflow_token`]
//!   tells the workflow's `GITHUB_TOKEN` (whose pull requests start no workflow); creating a ref, tag or release that already exists as wanted is
//!   success ([`Created::Existing`]). The token is never in an error, a log or a `Debug`.
//! - **From the runner**: [`connect`] is how every action gets its client — the environment
//!   read once ([`config_from_env`]), the `token` input and `GITHUB_TOKEN` masked in the log
//!   first ([`mask_tokens`]); [`post_comment`] keeps a sticky comment the same way.
//! - **Blocking**: the API is async; [`BlockingGitHub`] runs it on a current-thread runtime for
//!   the CLIs.
//!
//! ```no_run
//! use hub_github::{BlockingGitHub, GitHubConfig, Thread};
//!
//! # fn main() -> Result<(), hub_github::Error> {
//! // In a binary's `main`: read the environment once.
//! let config = GitHubConfig::from_env(&|name: &str| std::env::var(name).ok())?;
//! let repo = config.repository()?.clone();
//! let pr = config.event.as_ref().and_then(|e| e.pull_request_number());
//! let client = BlockingGitHub::new(&config)?;
//! if let Some(number) = pr {
//!     let github = client.github();
//!     let outcome = client.block_on(github.upsert_sticky_comment(
//!         &repo,
//!         Thread::PullRequest(number),
//!         "semver-bump",
//!         "Next version: **1.3.0**",
//!     ))?;
//!     println!("comment: {}", outcome.comment().html_url);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! [octocrab]: https://docs.rs/octocrab

mod blocking;
mod client;
mod comments;
mod commits;
pub mod config;
mod deployments;
mod error;
mod event;
mod graphql;
mod pulls;
mod refs;
mod releases;
mod retry;
mod session;

pub use blocking::{BlockingGitHub, CommentOn, Posted, post_sticky_comment};
pub use client::GitHub;
pub use comments::{Comment, StickyOutcome, Thread, comment_thread, sticky_marker};
pub use commits::{CommitOutcome, FileCommit, GitCommit, PullCommit};
pub use config::{DEFAULT_API_URL, GitHubConfig, Repository, Token};
pub use deployments::{
    Deployment, DeploymentFilter, DeploymentState, DeploymentStatus, NewDeployment,
    NewDeploymentStatus,
};
pub use error::{Error, Permission, Route};
pub use event::{
    DeploymentEvent, Event, PullRequestEvent, PushCommit, PushEvent, WorkflowDispatchEvent,
};
pub use graphql::{BranchCommit, CommitVia, RefSwap, VerifiedCommit, graphql_url};
pub use pulls::{
    MergeMethod, NewPullRequest, PullRequest, PullRequestUpdate, PullState, release_pr_marker,
};
pub use refs::{Created, GitRef, NewTag, Person, Tag};
pub use releases::{NewRelease, Release, ReleaseUpdate};
pub use retry::{Clock, RetryPolicy, SystemClock};
pub use session::{Session, SessionError, config_from_env, connect, mask_tokens, post_comment};
