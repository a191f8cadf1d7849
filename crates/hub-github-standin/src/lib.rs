//! A stand-in for the GitHub REST API, for tests only (never shipped in an action binary).
//!
//! It keeps in-memory state for what the hub-actions use — git refs and annotated tags, git data
//! (blobs, trees, commits, with real git object ids), releases, issue comments with pagination
//! and `Link` headers, deployments and statuses (with `auto_inactive`), pull-request commits and
//! commit authors — and serves it on 127.0.0.1.
//!
//! Every request it receives and every response it sends is checked against GitHub's own
//! OpenAPI description (the npm package `@octokit/openapi`, `generated/api.github.com.json`).
//! An unknown route or a schema mismatch is recorded as a [`Violation`]; `GET
//! /_standin/violations` returns them and [`test_support::TestServer`] fails the test.
//!
//! Faults are injected on demand ([`Fault`]): rate limits with `retry-after` or
//! `x-ratelimit-reset`, server errors, slow responses and forbidden writes. Control endpoints
//! under `/_standin/` seed state (`POST /_standin/repos`, `…/commits`, `…/pulls/{n}`,
//! `…/issues/{n}/comments`), dump it (`GET /_standin/state`), list requests and faults, and
//! stop the server (`POST /_standin/shutdown`). Any bearer token is accepted; only the fact that
//! one was sent is recorded.
//!
//! ```
//! use hub_github_standin::{Options, StandIn};
//!
//! # fn main() -> Result<(), hub_github_standin::Error> {
//! // Without a description nothing is checked; tests use `test_support::TestServer`, which
//! // loads the one named by `HUB_GITHUB_OPENAPI`.
//! let standin = StandIn::start(Options {
//!     repositories: vec!["octo/hello".to_owned()],
//!     ..Options::default()
//! })?;
//! assert!(standin.url().starts_with("http://127.0.0.1:"));
//! let main = &standin.state()["repositories"]["octo/hello"]["refs"]["refs/heads/main"];
//! assert_eq!(main.as_str().map(str::len), Some(40));
//! # Ok(())
//! # }
//! ```

mod api;
mod error;
mod git;
mod openapi;
mod server;
mod store;
pub mod test_support;
mod time;

pub use error::Error;
pub use openapi::Spec;
pub use server::{Fault, FaultKind, Options, RequestRecord, StandIn, Violation, ViolationKind};
pub use store::{AuthorSeed, CommitSeed};
