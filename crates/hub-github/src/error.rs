use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// A permission of the workflow's `GITHUB_TOKEN`, as written under `permissions:` in a workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Permission {
    ContentsRead,
    ContentsWrite,
    IssuesRead,
    IssuesWrite,
    PullRequestsRead,
    PullRequestsWrite,
    DeploymentsRead,
    DeploymentsWrite,
}

impl Permission {
    /// The scope name (`contents`, `pull-requests`, …).
    #[must_use]
    pub fn scope(self) -> &'static str {
        match self {
            Permission::ContentsRead | Permission::ContentsWrite => "contents",
            Permission::IssuesRead | Permission::IssuesWrite => "issues",
            Permission::PullRequestsRead | Permission::PullRequestsWrite => "pull-requests",
            Permission::DeploymentsRead | Permission::DeploymentsWrite => "deployments",
        }
    }

    /// `read` or `write`.
    #[must_use]
    pub fn level(self) -> &'static str {
        match self {
            Permission::ContentsRead
            | Permission::IssuesRead
            | Permission::PullRequestsRead
            | Permission::DeploymentsRead => "read",
            _ => "write",
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.scope(), self.level())
    }
}

/// A request as it appears in messages: method and path, never the host or a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub method: String,
    pub path: String,
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// Everything the GitHub client can fail with. No variant holds the token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A required environment variable is missing.
    #[error("environment variable `{name}` is not set")]
    MissingEnv { name: &'static str },
    /// An environment variable does not have the expected form.
    #[error("environment variable `{name}` is `{value}`, expected {expected}")]
    InvalidEnv {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
    /// No repository was configured for an operation that needs one.
    #[error("no repository is configured: set `GITHUB_REPOSITORY` to `owner/name`")]
    MissingRepository,
    /// A repository name is not `owner/name`.
    #[error("`{value}` is not a repository, expected `owner/name`")]
    InvalidRepository { value: String },
    /// The event payload file could not be read.
    #[error("cannot read the event payload `{path}`")]
    ReadEvent {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The event payload is not the JSON GitHub sends for that event.
    #[error("the `{name}` event payload does not have the shape GitHub sends")]
    ParseEvent {
        name: String,
        #[source]
        source: serde_json::Error,
    },
    /// The client could not be built for the API URL (not a URL, no TLS roots).
    #[error("cannot build a GitHub client for `{api_url}`: {message}")]
    Client { api_url: String, message: String },
    /// The token has characters no GitHub token has (its value is not shown).
    #[error(
        "the token contains spaces or non-ASCII characters; check the `token` input or `GITHUB_TOKEN`"
    )]
    InvalidToken,
    /// [`crate::GitHub::new`] was called outside a tokio runtime.
    #[error(
        "the GitHub client needs a tokio runtime: create it inside one, or use `BlockingGitHub`"
    )]
    NoRuntime,
    /// The runtime of the blocking facade could not start.
    #[error("cannot start the runtime for GitHub requests")]
    Runtime {
        #[source]
        source: std::io::Error,
    },
    /// GitHub could not be reached (connection refused, DNS, TLS), even after retries.
    #[error("cannot reach GitHub for `{route}` after {attempts} attempt(s)")]
    Transport {
        route: Route,
        attempts: u32,
        #[source]
        source: Box<octocrab::Error>,
    },
    /// Every attempt timed out.
    #[error("`{route}` timed out {attempts} time(s), after {timeout:?} each")]
    Timeout {
        route: Route,
        attempts: u32,
        timeout: Duration,
    },
    /// GitHub answered with a server error on every attempt.
    #[error("`{route}` failed with status {status} after {attempts} attempt(s): {message}")]
    Server {
        route: Route,
        status: u16,
        attempts: u32,
        message: String,
    },
    /// GitHub's rate limit asks for a longer wait than this client may take, or kept refusing.
    #[error(
        "`{route}` is rate limited by GitHub (status {status}): it asks to wait {wait:?}, and this client waits at most {cap:?} ({attempts} attempt(s) so far)"
    )]
    RateLimited {
        route: Route,
        status: u16,
        wait: Duration,
        cap: Duration,
        attempts: u32,
    },
    /// The token lacks a permission (403 "Resource not accessible by integration" and kin).
    #[error(
        "`{route}` was refused with status {status} ({message}): the workflow's token needs `{permission}`, grant it under `permissions:` in the workflow or job"
    )]
    Forbidden {
        route: Route,
        status: u16,
        permission: Permission,
        message: String,
    },
    /// 404 on an operation that needs the object to exist. For a private repository GitHub
    /// also answers 404 when the token may not see it.
    #[error(
        "`{route}` was not found (status 404): the repository or object does not exist, or the token cannot see it (it needs `{permission}`)"
    )]
    NotFound {
        route: Route,
        permission: Permission,
    },
    /// The token was rejected (401).
    #[error(
        "`{route}` was refused with status 401 ({message}): the token is missing, expired or wrong, check the `token` input or `GITHUB_TOKEN`"
    )]
    Unauthorized { route: Route, message: String },
    /// Any other refusal (422 validation, 409 conflict, …).
    #[error("`{route}` was rejected with status {status}: {message}{}", details(.errors))]
    Rejected {
        route: Route,
        status: u16,
        message: String,
        errors: Vec<String>,
    },
    /// The answer was not the JSON expected.
    #[error("cannot decode GitHub's answer to `{route}`")]
    Decode {
        route: Route,
        #[source]
        source: serde_json::Error,
    },
    /// A ref exists and points elsewhere.
    #[error("ref `{name}` already points at `{existing}`, not at `{wanted}`")]
    RefConflict {
        name: String,
        existing: String,
        wanted: String,
    },
    /// A tag exists for another commit.
    #[error("tag `{tag}` already exists for commit `{existing}`, not for `{wanted}`")]
    TagConflict {
        tag: String,
        existing: String,
        wanted: String,
    },
    /// GitHub says a release for the tag exists, yet none can be found.
    #[error("a release for tag `{tag}` already exists according to GitHub, but it cannot be read")]
    ReleaseConflict { tag: String },
    /// A branch moved while committing to it, on every try.
    #[error("branch `{branch}` kept moving while committing to it ({attempts} tries)")]
    BranchMoved { branch: String, attempts: u32 },
    /// A ref update is not a fast-forward and was not forced.
    #[error("ref `{name}` cannot move to `{wanted}`: not a fast-forward")]
    NotFastForward { name: String, wanted: String },
    /// A pagination link leads away from the API host; it is not followed with the token.
    #[error("refusing to follow `{url}` with the token: it is not on `{api_url}`")]
    ForeignLink { url: String, api_url: String },
    /// GitHub refuses pull requests from GitHub Actions in this repository (403 "GitHub Actions
    /// is not permitted to create or approve pull requests.").
    #[error(
        "`{route}` was refused with status 403 ({message}): the repository does not let GitHub Actions open pull requests; allow it under Settings → Actions → General → Workflow permissions → Allow GitHub Actions to create and approve pull requests (organisations set it in their own Actions settings), or give the action a token of a GitHub App or a person"
    )]
    ActionsMayNotCreatePullRequests { route: Route, message: String },
    /// `createCommitOnBranch` refused: the branch no longer points at the expected head.
    #[error(
        "branch `{branch}` no longer points at `{expected}` (GitHub: {message}); read its head again and redo the commit"
    )]
    StaleHead {
        branch: String,
        expected: String,
        message: String,
    },
    /// A GraphQL operation answered with errors.
    #[error("GraphQL `{operation}` failed: {}", .errors.join("; "))]
    Graphql {
        operation: &'static str,
        errors: Vec<String>,
    },
    /// A comment-marker action name with characters that could break the hidden marker.
    #[error("`{name}` cannot name a comment marker: use ASCII letters, digits, `-`, `_` or `.`")]
    InvalidMarkerName { name: String },
}

fn details(errors: &[String]) -> String {
    if errors.is_empty() {
        String::new()
    } else {
        format!(" ({})", errors.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_read_like_workflow_yaml() {
        assert_eq!(Permission::ContentsWrite.to_string(), "contents: write");
        assert_eq!(
            Permission::PullRequestsWrite.to_string(),
            "pull-requests: write"
        );
        assert_eq!(Permission::DeploymentsRead.to_string(), "deployments: read");
    }

    #[test]
    fn the_actions_pull_request_refusal_names_the_setting() {
        let error = Error::ActionsMayNotCreatePullRequests {
            route: Route {
                method: "POST".to_owned(),
                path: "/repos/o/r/pulls".to_owned(),
            },
            message: "GitHub Actions is not permitted to create or approve pull requests."
                .to_owned(),
        };
        assert!(error.to_string().contains(
            "Settings → Actions → General → Workflow permissions → Allow GitHub Actions to create and approve pull requests"
        ));
    }

    #[test]
    fn rejected_lists_github_errors() {
        let error = Error::Rejected {
            route: Route {
                method: "POST".to_owned(),
                path: "/repos/o/r/releases".to_owned(),
            },
            status: 422,
            message: "Validation Failed".to_owned(),
            errors: vec!["Release.tag_name already_exists".to_owned()],
        };
        assert_eq!(
            error.to_string(),
            "`POST /repos/o/r/releases` was rejected with status 422: Validation Failed (Release.tag_name already_exists)"
        );
    }
}
