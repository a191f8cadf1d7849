//! The one way an action connects to GitHub: the client from the runner's environment
//! (`GITHUB_API_URL`, `GITHUB_REPOSITORY`, the event, the `token` input or `GITHUB_TOKEN`),
//! with every token masked in the log before anything else can echo it.

use hub_kit::{Env, Runner};

use crate::{BlockingGitHub, CommentOn, Error, GitHubConfig, Posted};

/// Why an action got no client.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// Neither the `token` input nor `GITHUB_TOKEN` is set (each caller says what needed it).
    #[error("no token: set the `token` input or `GITHUB_TOKEN`")]
    NoToken,
    /// The token could not be masked (the log is gone): nothing is sent.
    #[error("cannot mask the token in the log")]
    Mask(#[source] std::io::Error),
    /// The environment is unreadable (an event payload that is not JSON, a bad API URL), or
    /// the client cannot start.
    #[error(transparent)]
    GitHub(#[from] Error),
}

/// Masks the `token` input and `GITHUB_TOKEN` (each trimmed, as the client sends it): the
/// runner then replaces them with `***` in everything the step prints.
///
/// # Errors
/// When the mask cannot be written.
pub fn mask_tokens(env: &Env, token: Option<&str>, runner: &mut Runner) -> std::io::Result<()> {
    let mut masked: Vec<&str> = Vec::new();
    for secret in [token, env.get(crate::config::env::GITHUB_TOKEN)]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        if !masked.contains(&secret) {
            runner.set_secret(secret)?;
            masked.push(secret);
        }
    }
    Ok(())
}

/// The run's GitHub configuration from `env` with the `token` input, its tokens masked first.
/// A missing token is not an error here ([`GitHubConfig::token`] is `None`).
///
/// # Errors
/// [`SessionError::Mask`], or the environment cannot be read.
pub fn config_from_env(
    env: &Env,
    token: Option<&str>,
    runner: &mut Runner,
) -> Result<GitHubConfig, SessionError> {
    mask_tokens(env, token, runner).map_err(SessionError::Mask)?;
    let lookup = |name: &str| env.get(name).map(String::from);
    Ok(GitHubConfig::from_env(&lookup)?.with_token_input(token))
}

/// A connected client and the configuration it was made from.
#[derive(Debug)]
pub struct Session {
    /// The client (a current-thread runtime and the async API).
    pub client: BlockingGitHub,
    /// The configuration: repository, event, API URL, token.
    pub config: GitHubConfig,
}

/// Connects with the `token` input or `GITHUB_TOKEN`, masked first ([`config_from_env`]).
///
/// # Errors
/// [`SessionError::NoToken`] without a token, or as [`config_from_env`] and [`BlockingGitHub::new`].
pub fn connect(
    env: &Env,
    token: Option<&str>,
    runner: &mut Runner,
) -> Result<Session, SessionError> {
    let config = config_from_env(env, token, runner)?;
    if config.token.is_none() {
        return Err(SessionError::NoToken);
    }
    let client = BlockingGitHub::new(&config)?;
    Ok(Session { client, config })
}

/// Keeps `action`'s sticky comment for the run, as [`crate::post_sticky_comment`], with the
/// tokens masked first.
///
/// # Errors
/// As [`crate::post_sticky_comment`], or [`SessionError::Mask`].
pub fn post_comment(
    env: &Env,
    token: Option<&str>,
    runner: &mut Runner,
    action: &str,
    body: &str,
    on: CommentOn,
) -> Result<Option<Posted>, SessionError> {
    mask_tokens(env, token, runner).map_err(SessionError::Mask)?;
    let lookup = |name: &str| env.get(name).map(String::from);
    Ok(crate::post_sticky_comment(
        &lookup, token, action, body, on,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hub_kit::command::commands_in;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("not poisoned").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn capture(env: &Env) -> (Runner, Shared) {
        let out = Shared::default();
        let runner = Runner::with_writers(
            env.clone(),
            Box::new(out.clone()),
            Box::new(std::io::sink()),
        );
        (runner, out)
    }

    fn masks(out: &Shared) -> Vec<String> {
        let text = String::from_utf8(out.0.lock().expect("not poisoned").clone()).expect("utf-8");
        commands_in(&text)
            .into_iter()
            .filter(|(name, _)| name == "add-mask")
            .map(|(_, value)| value)
            .collect()
    }

    #[test]
    fn both_tokens_are_masked_before_the_client_is_made() {
        let env = Env::from_pairs([
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_TOKEN", "ghs_workflow"),
            ("GITHUB_REPOSITORY", "org/repo"),
        ]);
        let (mut runner, out) = capture(&env);
        let session = connect(&env, Some(" ghp_input\n"), &mut runner).expect("connects");
        assert_eq!(masks(&out), ["ghp_input", "ghs_workflow"]);
        assert_eq!(
            session.config.repository().expect("set").to_string(),
            "org/repo"
        );
    }

    #[test]
    fn the_same_token_twice_is_masked_once_and_none_is_no_token() {
        let env = Env::from_pairs([("GITHUB_ACTIONS", "true"), ("GITHUB_TOKEN", "ghs_same")]);
        let (mut runner, out) = capture(&env);
        let config = config_from_env(&env, Some("ghs_same"), &mut runner).expect("reads");
        assert!(config.token.is_some());
        assert_eq!(masks(&out), ["ghs_same"]);

        let env = Env::from_pairs([("GITHUB_ACTIONS", "true")]);
        let (mut runner, out) = capture(&env);
        let err = connect(&env, Some("  "), &mut runner).expect_err("no token");
        assert!(matches!(err, SessionError::NoToken), "{err:?}");
        assert!(masks(&out).is_empty());
    }

    #[test]
    fn a_token_is_masked_even_when_the_environment_is_unreadable() {
        let env = Env::from_pairs([
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_EVENT_PATH", "/nonexistent/hub-github/event.json"),
        ]);
        let (mut runner, out) = capture(&env);
        let result = connect(&env, Some("ghp_secret"), &mut runner);
        assert_eq!(masks(&out), ["ghp_secret"]);
        if let Err(e) = result {
            assert!(!format!("{e:?} {e}").contains("ghp_secret"), "{e:?}");
        }
    }
}
