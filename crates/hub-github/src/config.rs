//! Configuration from the GitHub Actions environment, read once by the binary.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::{Error, Event};

/// Names of the environment variables this crate understands, declared once.
pub mod env {
    /// REST API root; `https://HOST/api/v3` on GitHub Enterprise Server.
    pub const GITHUB_API_URL: &str = "GITHUB_API_URL";
    /// GraphQL endpoint (`https://HOST/api/graphql` on GitHub Enterprise Server); when unset,
    /// the endpoint beside `GITHUB_API_URL` ([`crate::graphql_url`]).
    pub const GITHUB_GRAPHQL_URL: &str = "GITHUB_GRAPHQL_URL";
    /// The workflow's token.
    pub const GITHUB_TOKEN: &str = "GITHUB_TOKEN";
    /// `owner/name` of the repository the workflow runs in.
    pub const GITHUB_REPOSITORY: &str = "GITHUB_REPOSITORY";
    /// The name of the event that triggered the workflow.
    pub const GITHUB_EVENT_NAME: &str = "GITHUB_EVENT_NAME";
    /// Path of the JSON file with the event's webhook payload.
    pub const GITHUB_EVENT_PATH: &str = "GITHUB_EVENT_PATH";
    /// The commit the workflow runs for (for `release`, the last commit of the released tag).
    pub const GITHUB_SHA: &str = "GITHUB_SHA";
}

/// The API root used when `GITHUB_API_URL` is not set.
pub const DEFAULT_API_URL: &str = "https://api.github.com";

/// A GitHub token. It can be handed to the client but never printed: `Debug` shows
/// `Token(<redacted>)` and there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// A token from a non-blank string.
    #[must_use]
    pub fn new(value: impl Into<String>) -> Option<Self> {
        let value = value.into();
        let trimmed = value.trim();
        (!trimmed.is_empty()).then(|| Token(trimmed.to_owned()))
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// Whether this is the workflow's own `GITHUB_TOKEN` (an installation token of the GitHub
    /// Actions app): the same value as `github_token` (the `GITHUB_TOKEN` environment variable,
    /// or `${{ github.token }}`), or a token with the `ghs_` prefix of GitHub App installation
    /// tokens. Pull requests and pushes made with it start no workflow run (GitHub's rule
    /// against recursive runs), so a caller says so in its summary. A token of another GitHub
    /// App is `ghs_` too: the rule errs on the side of that warning.
    #[must_use]
    pub fn is_workflow_token(&self, github_token: Option<&str>) -> bool {
        github_token.is_some_and(|t| t.trim() == self.0) || self.0.starts_with("ghs_")
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// A repository, `owner/name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Repository {
    pub owner: String,
    pub name: String,
}

impl Repository {
    /// A repository from its owner and name.
    #[must_use]
    pub fn new(owner: impl Into<String>, name: impl Into<String>) -> Self {
        Repository {
            owner: owner.into(),
            name: name.into(),
        }
    }

    /// `/repos/{owner}/{name}` with both parts percent-encoded.
    pub(crate) fn api_path(&self) -> String {
        format!(
            "/repos/{}/{}",
            crate::client::encode_segment(&self.owner),
            crate::client::encode_segment(&self.name)
        )
    }
}

impl FromStr for Repository {
    type Err = Error;

    fn from_str(value: &str) -> Result<Self, Error> {
        let valid = |part: &str| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        match value.trim().split_once('/') {
            Some((owner, name)) if valid(owner) && valid(name) => Ok(Repository::new(owner, name)),
            _ => Err(Error::InvalidRepository {
                value: value.to_owned(),
            }),
        }
    }
}

impl fmt::Display for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// Everything the client needs, gathered by the binary from its environment.
#[derive(Debug, Clone, PartialEq)]
pub struct GitHubConfig {
    /// REST API root without a trailing slash.
    pub api_url: String,
    /// The GraphQL endpoint (`GITHUB_GRAPHQL_URL`, on the API's host); `None`: the one beside
    /// `api_url` ([`crate::graphql_url`]).
    pub graphql_url: Option<String>,
    /// The token; requests are unauthenticated without one.
    pub token: Option<Token>,
    /// The repository the workflow runs in.
    pub repository: Option<Repository>,
    /// The event that triggered the workflow.
    pub event: Option<Event>,
    /// Proxies (from `HTTPS_PROXY`, `NO_PROXY`, …) for the one HTTP stack.
    pub http: hub_http::Settings,
}

impl Default for GitHubConfig {
    fn default() -> Self {
        GitHubConfig {
            api_url: DEFAULT_API_URL.to_owned(),
            graphql_url: None,
            token: None,
            repository: None,
            event: None,
            http: hub_http::Settings::default(),
        }
    }
}

impl GitHubConfig {
    /// A configuration for `api_url` with nothing else set.
    ///
    /// # Errors
    /// When `api_url` is not an `http(s)://` URL.
    pub fn new(api_url: &str) -> Result<Self, Error> {
        Ok(GitHubConfig {
            api_url: normalize_api_url(api_url, "api_url")?,
            ..GitHubConfig::default()
        })
    }

    /// Reads `GITHUB_API_URL`, `GITHUB_TOKEN`, `GITHUB_REPOSITORY` and the event
    /// (`GITHUB_EVENT_NAME` with the payload at `GITHUB_EVENT_PATH`) through `env`, so the
    /// caller decides where variables come from (tests never touch the process environment).
    ///
    /// # Errors
    /// When a variable is malformed, the event file cannot be read or its JSON does not match
    /// the event's shape.
    pub fn from_env(env: &impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let api_url = match get(env::GITHUB_API_URL) {
            Some(url) => normalize_api_url(&url, env::GITHUB_API_URL)?,
            None => DEFAULT_API_URL.to_owned(),
        };
        // The token goes with every GraphQL request: only to the API's own origin. GitHub and
        // GitHub Enterprise always set the two on one origin; one elsewhere (act leaves
        // github.com's beside a local API) is ignored, and GraphQL goes beside the API.
        let graphql_url = match get(env::GITHUB_GRAPHQL_URL) {
            None => None,
            Some(url) => {
                let normal = normalize_api_url(&url, env::GITHUB_GRAPHQL_URL)?;
                (crate::client::origin(&normal) == crate::client::origin(&api_url))
                    .then_some(normal)
            }
        };
        let repository = get(env::GITHUB_REPOSITORY)
            .map(|value| {
                value.parse().map_err(|_| Error::InvalidEnv {
                    name: env::GITHUB_REPOSITORY,
                    value,
                    expected: "`owner/name`",
                })
            })
            .transpose()?;
        let event = match get(env::GITHUB_EVENT_PATH) {
            None => None,
            Some(path) => {
                let name = get(env::GITHUB_EVENT_NAME).ok_or(Error::MissingEnv {
                    name: env::GITHUB_EVENT_NAME,
                })?;
                let path = PathBuf::from(path);
                let payload = std::fs::read_to_string(&path)
                    .map_err(|source| Error::ReadEvent { path, source })?;
                Some(Event::parse(&name, &payload)?)
            }
        };
        Ok(GitHubConfig {
            api_url,
            graphql_url,
            token: get(env::GITHUB_TOKEN).and_then(Token::new),
            repository,
            event,
            http: hub_http::Settings::from_vars(|name| env(name)),
        })
    }

    /// [`GitHubConfig::from_env`] over a map.
    ///
    /// # Errors
    /// As [`GitHubConfig::from_env`].
    pub fn from_map(map: &BTreeMap<String, String>) -> Result<Self, Error> {
        Self::from_env(&|name: &str| map.get(name).cloned())
    }

    /// Prefers the action's `token` input over `GITHUB_TOKEN` when it is not blank.
    #[must_use]
    pub fn with_token_input(mut self, input: Option<&str>) -> Self {
        if let Some(token) = input.and_then(Token::new) {
            self.token = Some(token);
        }
        self
    }

    /// The configured repository.
    ///
    /// # Errors
    /// [`Error::MissingRepository`] when `GITHUB_REPOSITORY` was not set.
    pub fn repository(&self) -> Result<&Repository, Error> {
        self.repository.as_ref().ok_or(Error::MissingRepository)
    }
}

fn normalize_api_url(url: &str, name: &'static str) -> Result<String, Error> {
    let trimmed = url.trim().trim_end_matches('/');
    let host = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"));
    match host {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') && !rest.contains(['?', '#']) => {
            Ok(trimmed.to_owned())
        }
        _ => Err(Error::InvalidEnv {
            name,
            value: url.to_owned(),
            expected: "an `http(s)://` URL",
        }),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_workflow_token_is_the_github_token_or_an_installation_token() {
        let workflow = Token::new("ghs_installation").expect("a token");
        assert!(workflow.is_workflow_token(None));
        let personal = Token::new("github_pat_11AAAA").expect("a token");
        assert!(!personal.is_workflow_token(None));
        assert!(!personal.is_workflow_token(Some("ghs_other")));
        // A value equal to `GITHUB_TOKEN` is the workflow's, whatever its form.
        assert!(personal.is_workflow_token(Some(" github_pat_11AAAA\n")));
    }

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<GitHubConfig, Error> {
        let map: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        GitHubConfig::from_map(&map)
    }

    #[test]
    fn the_graphql_endpoint_is_read_on_the_apis_origin_and_ignored_elsewhere() {
        let ghes = ("GITHUB_API_URL", "https://ghe.example.com/api/v3");
        let set = config(&[
            ghes,
            ("GITHUB_GRAPHQL_URL", "https://ghe.example.com/api/graphql/"),
        ])
        .expect("valid");
        assert_eq!(
            set.graphql_url.as_deref(),
            Some("https://ghe.example.com/api/graphql")
        );
        assert_eq!(config(&[ghes]).expect("valid").graphql_url, None);
        for foreign in [
            "https://elsewhere.example.com/api/graphql",
            "http://ghe.example.com/api/graphql",
            "https://ghe.example.com:8443/api/graphql",
        ] {
            // Never sent the token: ignored, GraphQL goes beside the API.
            let set = config(&[ghes, ("GITHUB_GRAPHQL_URL", foreign)]).expect("ignored");
            assert_eq!(set.graphql_url, None, "{foreign}");
        }
        assert!(config(&[ghes, ("GITHUB_GRAPHQL_URL", "ghe.example.com/api/graphql")]).is_err());
    }

    #[test]
    fn defaults_without_variables() {
        let config = config(&[]).expect("valid");
        assert_eq!(config.api_url, "https://api.github.com");
        assert_eq!(config.token, None);
        assert!(matches!(config.repository(), Err(Error::MissingRepository)));
    }

    #[test]
    fn enterprise_url_token_input_and_repository() {
        let config = config(&[
            ("GITHUB_API_URL", "https://ghe.example.com/api/v3/"),
            ("GITHUB_TOKEN", "ghs_from_env"),
            ("GITHUB_REPOSITORY", "octo-org/hello.world"),
        ])
        .expect("valid")
        .with_token_input(Some("  "));
        assert_eq!(config.api_url, "https://ghe.example.com/api/v3");
        assert_eq!(config.token, Token::new("ghs_from_env"));
        assert_eq!(
            config.repository().expect("set").to_string(),
            "octo-org/hello.world"
        );
        let config = config.with_token_input(Some("ghp_input"));
        assert_eq!(config.token, Token::new("ghp_input"));
    }

    #[test]
    fn malformed_values_are_reported_without_the_token() {
        let err = config(&[("GITHUB_REPOSITORY", "just-a-name")]).expect_err("invalid");
        assert_eq!(
            err.to_string(),
            "environment variable `GITHUB_REPOSITORY` is `just-a-name`, expected `owner/name`"
        );
        let err = config(&[("GITHUB_API_URL", "api.github.com")]).expect_err("invalid");
        assert!(err.to_string().contains("expected an `http(s)://` URL"));
        let err = config(&[("GITHUB_EVENT_PATH", "/nonexistent")]).expect_err("invalid");
        assert!(matches!(
            err,
            Error::MissingEnv {
                name: "GITHUB_EVENT_NAME"
            }
        ));
    }

    #[test]
    fn the_token_never_shows_in_debug_output() {
        let secret = "ghs_0123456789abcdefSECRET";
        let config = config(&[("GITHUB_TOKEN", secret)]).expect("valid");
        let debug = format!("{config:?} {:?}", config.token);
        assert!(!debug.contains(secret), "{debug}");
        assert!(debug.contains("Token(<redacted>)"));
    }

    #[test]
    fn the_event_is_read_from_the_payload_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("event.json");
        std::fs::write(
            &path,
            r#"{"action":"opened","number":7,"pull_request":{"number":7,"title":"feat: x",
                "head":{"sha":"abc","ref":"feature"},"base":{"sha":"def","ref":"main"},
                "user":{"login":"mona"}}}"#,
        )
        .expect("written");
        let path = path.to_string_lossy().into_owned();
        let config = config(&[
            ("GITHUB_EVENT_NAME", "pull_request"),
            ("GITHUB_EVENT_PATH", &path),
        ])
        .expect("valid");
        assert_eq!(
            config.event.as_ref().and_then(Event::pull_request_number),
            Some(7)
        );
    }
}
