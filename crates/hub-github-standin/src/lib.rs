//! A stand-in for the GitHub REST and GraphQL APIs, for tests only (never shipped in an action binary).
//!
//! It keeps in-memory state for what the hub-actions use — git refs and annotated tags, git data
//! (blobs, trees, commits, with real git object ids), releases, issue and commit comments with
//! pagination and `Link` headers, deployments and statuses (with `auto_inactive`), pull requests
//! (created, listed by head or base, updated, labelled, closed, merged with the `merge` or `squash`
//! method — three-way by git's own `merge-tree` when the base moved on, a conflict refused with
//! GitHub's 405 — found from a commit) and their commits, commit authors and verification — and serves
//! it on 127.0.0.1.
//!
//! `POST /graphql` (`/api/graphql` below a `/api/v3` prefix) parses every document and
//! validates it, with its variables, against GitHub's published GraphQL schema
//! ([`GraphqlSchema`]: `schema.graphql` of the npm package `@octokit/graphql-schema`, named by
//! `HUB_GITHUB_GRAPHQL_SCHEMA` for tests and the binary); a document that does not validate is
//! a [`ViolationKind::Graphql`] violation. It serves the mutation `createCommitOnBranch`: a real
//! commit on the branch (refused with `STALE_DATA` when `expectedHeadOid` is not the head),
//! marked verified as GitHub signs it. A field the schema has and the stand-in does not model
//! is recorded as [`ViolationKind::Unimplemented`]. [`Options::refuse_actions_pull_requests`]
//! refuses `POST /pulls` with GitHub's 403 for a repository that does not let GitHub Actions
//! create pull requests.
//!
//! Every request it receives and every response it sends is checked against GitHub's own
//! OpenAPI description (the npm package `@octokit/openapi`, `generated/api.github.com.json`).
//! An unknown route or a schema mismatch is recorded as a [`Violation`]; `GET
//! /_standin/violations` returns them and [`test_support::TestServer`] fails the test. The
//! description is `HUB_GITHUB_OPENAPI` (the file, or the package folder) for tests and the
//! binary; tests print `skipped: @octokit/openapi not found (set HUB_GITHUB_OPENAPI)` without
//! it.
//!
//! Faults are injected on demand ([`Fault`]): rate limits with `retry-after` or
//! `x-ratelimit-reset`, server errors, slow responses, forbidden writes and arbitrary error
//! answers. Any bearer token is accepted; only the fact that one was sent is recorded (writes
//! without one get 401).
//!
//! Control endpoints, always at the root (also when the API has a path prefix):
//!
//! | endpoint | does |
//! | --- | --- |
//! | `GET /_standin/health` | `{"ok": true}` |
//! | `GET /_standin/violations`, `DELETE …` | recorded violations; clear them |
//! | `GET /_standin/requests` | method, path, route, status, `authenticated` of each request |
//! | `GET /_standin/state` | repositories with refs, tags, releases, comments, commit comments, deployments and statuses, pulls, commits and the default branch's files |
//! | `POST /_standin/faults`, `GET …`, `DELETE …` | queue a fault, list, clear |
//! | `POST /_standin/repos` | `{"repository": "owner/name"}`: one commit on `main` |
//! | `POST /_standin/repos/{owner}/{repo}/commits` | `{"branch": "main", "commits": [{"message", "author": {"name", "email", "login"}, "files": {"path": "text"}}]}` |
//! | `POST /_standin/repos/{owner}/{repo}/import` | a [`GitImport`]: mirror git objects and refs (400 naming the object when an id does not match its content) |
//! | `PUT /_standin/repos/{owner}/{repo}/pulls/{n}` | `{"commits": ["sha", …]}` |
//! | `POST /_standin/repos/{owner}/{repo}/issues/{n}/comments` | `{"login", "body"}`: a comment by someone else |
//! | `POST /_standin/shutdown` | stop |
//!
//! Faults as JSON: `{"kind": "rate_limit", "status": 429, "retry_after": 1}`,
//! `{"kind": "rate_limit", "status": 403, "reset_in": 2}`, `{"kind": "server_error",
//! "status": 502}`, `{"kind": "slow", "delay_ms": 500}`, `{"kind": "forbidden"}`,
//! `{"kind": "respond", "status": 422, "message": "…"}`; each may add `"method"`, `"route"`
//! (the description's path template) and `"times"` (every matching request until cleared
//! when absent).
//!
//! A local repository is mirrored with [`StandIn::import_git`] (or `--import owner/name=PATH`
//! on the binary): the stand-in then has exactly its objects, under the same ids, and its
//! branches and tags, so shas from a local `git` are known to the API. The other way,
//! [`StandIn::export_git`] writes what the API made (merges, tags, branches) into a local
//! repository, as a fetch would. `GET /repos/{owner}/{repo}` answers the repository (its
//! default branch is the imported `HEAD`'s).
//!
//! The binary `hub-github-standin` serves the same on 127.0.0.1 (`--port 0`), prints
//! `listening on http://127.0.0.1:PORT`, writes the port to `--port-file`, and stops on
//! `POST /_standin/shutdown`, after `--idle-seconds` without a request or `--max-seconds`;
//! it exits with 3 when anything did not conform.
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

// `json!` objects with all of GitHub's required repository and pull-request fields.
#![recursion_limit = "256"]

mod api;
mod error;
mod git;
mod graphql;
mod merge;
mod mirror;
mod openapi;
mod server;
mod store;
pub mod test_support;
mod time;

pub use error::Error;
pub use graphql::GraphqlSchema;
pub use mirror::{
    GitBytes, GitHeader, GitImport, GitObject, GitSignature, GitTreeEntry, ImportSummary,
    read_git_repository,
};
pub use openapi::Spec;
pub use server::{Fault, FaultKind, Options, RequestRecord, StandIn, Violation, ViolationKind};
pub use store::{AuthorSeed, CommitSeed};
