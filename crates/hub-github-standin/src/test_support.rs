//! Helpers for tests that run against the stand-in.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::{Error, GraphqlSchema, ImportSummary, Options, Spec, StandIn, Violation};

/// The variable that names GitHub's GraphQL schema (`schema.graphql` of
/// `@octokit/graphql-schema`, or the package folder).
pub const GRAPHQL_SCHEMA_ENV: &str = "HUB_GITHUB_GRAPHQL_SCHEMA";

/// Why a GraphQL test cannot run without the schema (see [`graphql_schema_from_env`]).
pub const GRAPHQL_SKIP_REASON: &str =
    "@octokit/graphql-schema not found (set HUB_GITHUB_GRAPHQL_SCHEMA; .ci/run installs it)";

/// The GraphQL schema named by `HUB_GITHUB_GRAPHQL_SCHEMA`, loaded once per process.
///
/// `None` when the variable is unset, after [`hub_testkit::skip`] (which fails the test under
/// CI). A variable that names a file that does not load panics everywhere.
///
/// # Panics
/// When the schema cannot be read or is not GitHub's; under CI when the variable is unset.
#[must_use]
#[track_caller]
pub fn graphql_schema_from_env() -> Option<Arc<GraphqlSchema>> {
    static LOADED: std::sync::OnceLock<Arc<GraphqlSchema>> = std::sync::OnceLock::new();
    let Some(path) = std::env::var_os(GRAPHQL_SCHEMA_ENV).filter(|v| !v.is_empty()) else {
        hub_testkit::skip(GRAPHQL_SKIP_REASON);
        return None;
    };
    if let Some(schema) = LOADED.get() {
        return Some(Arc::clone(schema));
    }
    let path = PathBuf::from(path);
    let schema = GraphqlSchema::load(&path).unwrap_or_else(|e| {
        panic!(
            "{GRAPHQL_SCHEMA_ENV} is set to `{}`, which does not load: {e}",
            path.display()
        )
    });
    Some(Arc::clone(LOADED.get_or_init(|| schema)))
}

/// The variable that names GitHub's OpenAPI description (the JSON file or the package folder).
pub const OPENAPI_ENV: &str = "HUB_GITHUB_OPENAPI";

/// Why a test cannot run without the description (see [`spec_from_env`]).
pub const SKIP_REASON: &str =
    "@octokit/openapi not found (set HUB_GITHUB_OPENAPI; .ci/run installs it)";

/// The description named by `HUB_GITHUB_OPENAPI`, loaded once per process.
///
/// `None` when the variable is unset, after [`hub_testkit::skip`] (which fails the test under
/// CI). A variable that names nothing, or a description that does not load, is a broken setup,
/// not an absent one: that panics everywhere.
///
/// # Panics
/// When the variable names no description or the file cannot be read or parsed; under CI
/// when the variable is unset.
#[must_use]
#[track_caller]
pub fn spec_from_env() -> Option<Arc<Spec>> {
    let Some(path) = std::env::var_os(OPENAPI_ENV).filter(|v| !v.is_empty()) else {
        hub_testkit::skip(SKIP_REASON);
        return None;
    };
    let path = PathBuf::from(path);
    let file = Spec::locate(&path).unwrap_or_else(|e| {
        panic!(
            "{OPENAPI_ENV} is set to `{}`, which holds no OpenAPI description: {e}",
            path.display()
        )
    });
    match Spec::load_shared(&file) {
        Ok(spec) => Some(spec),
        Err(err) => panic!("{OPENAPI_ENV} names a description that does not load: {err}"),
    }
}

/// A stand-in for one test: checks every exchange against the description and fails the test
/// (when dropped, or on [`TestServer::assert_conforms`]) if anything did not conform.
#[derive(Debug)]
pub struct TestServer {
    standin: StandIn,
}

impl TestServer {
    /// Starts a validating stand-in with the given repositories, or
    /// returns `None` when the description is absent (after [`spec_from_env`]'s skip).
    ///
    /// # Panics
    /// When the server cannot start (a test setup failure).
    #[must_use]
    pub fn start(repositories: &[&str]) -> Option<Self> {
        Self::start_with(Options {
            repositories: repositories.iter().map(|r| (*r).to_owned()).collect(),
            ..Options::default()
        })
    }

    /// As [`TestServer::start`], with full options (the description is filled in).
    ///
    /// # Panics
    /// When the server cannot start.
    #[must_use]
    pub fn start_with(mut options: Options) -> Option<Self> {
        let spec = spec_from_env()?;
        options.spec = Some(spec);
        // GraphQL too when the schema is at hand; a test that needs it starts with
        // [`TestServer::start_with_graphql`] (which skips without it).
        if options.graphql.is_none()
            && std::env::var_os(GRAPHQL_SCHEMA_ENV).is_some_and(|v| !v.is_empty())
        {
            options.graphql = graphql_schema_from_env();
        }
        // A test that forgets to stop its server does not leave it running for long.
        options
            .idle_timeout
            .get_or_insert(std::time::Duration::from_secs(120));
        let standin = StandIn::start(options).expect("the stand-in starts on 127.0.0.1");
        Some(TestServer { standin })
    }

    /// As [`TestServer::start_with`], serving `POST /graphql` checked against GitHub's GraphQL
    /// schema; `None` when the OpenAPI description or the GraphQL schema is absent (after the
    /// skip rule).
    ///
    /// # Panics
    /// When the server cannot start.
    #[must_use]
    pub fn start_with_graphql(mut options: Options) -> Option<Self> {
        options.graphql = Some(graphql_schema_from_env()?);
        Self::start_with(options)
    }

    /// Mirrors the local repository at `git_dir` into `repository`: [`StandIn::import_git`].
    ///
    /// # Errors
    /// When `git` fails, an object cannot be carried over exactly, or the import is refused.
    pub fn import_git(&self, repository: &str, git_dir: &Path) -> Result<ImportSummary, Error> {
        self.standin.import_git(repository, git_dir)
    }

    /// Panics with every recorded violation, if there are any.
    ///
    /// # Panics
    /// When a request or response did not conform to the description.
    pub fn assert_conforms(&self) {
        let violations = self.standin.violations();
        if !violations.is_empty() {
            panic!("{}", describe(&violations));
        }
    }
}

fn describe(violations: &[Violation]) -> String {
    let mut text = format!(
        "{} exchange(s) with the GitHub stand-in did not conform to GitHub's OpenAPI description:",
        violations.len()
    );
    for violation in violations {
        text.push_str("\n- ");
        text.push_str(&violation.to_string());
    }
    text
}

impl std::ops::Deref for TestServer {
    type Target = StandIn;

    fn deref(&self) -> &StandIn {
        &self.standin
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.assert_conforms();
        }
    }
}
