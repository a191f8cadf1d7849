//! The process environment as a value, and every variable name the suite reads, declared once.

use std::collections::BTreeMap;
use std::ffi::OsString;

/// Names of the environment variables the runner sets or the suite reads.
///
/// Declared once so a typo is a compile error, not a silently empty value.
pub mod vars {
    /// `true` when running inside GitHub Actions.
    pub const GITHUB_ACTIONS: &str = "GITHUB_ACTIONS";
    /// File that step outputs are appended to.
    pub const GITHUB_OUTPUT: &str = "GITHUB_OUTPUT";
    /// File that exported environment variables are appended to.
    pub const GITHUB_ENV: &str = "GITHUB_ENV";
    /// File that `PATH` additions are appended to.
    pub const GITHUB_PATH: &str = "GITHUB_PATH";
    /// File that the job summary Markdown is appended to.
    pub const GITHUB_STEP_SUMMARY: &str = "GITHUB_STEP_SUMMARY";
    /// `1` when step debug logging is enabled.
    pub const RUNNER_DEBUG: &str = "RUNNER_DEBUG";
    /// Per-job temporary directory.
    pub const RUNNER_TEMP: &str = "RUNNER_TEMP";
    /// Runner tool cache directory.
    pub const RUNNER_TOOL_CACHE: &str = "RUNNER_TOOL_CACHE";
    /// Web URL of the GitHub server (GitHub Enterprise aware).
    pub const GITHUB_SERVER_URL: &str = "GITHUB_SERVER_URL";
    /// REST API URL of the GitHub server.
    pub const GITHUB_API_URL: &str = "GITHUB_API_URL";
    /// `owner/name` of the repository the workflow runs for.
    pub const GITHUB_REPOSITORY: &str = "GITHUB_REPOSITORY";
    /// Path of the JSON payload of the triggering event.
    pub const GITHUB_EVENT_PATH: &str = "GITHUB_EVENT_PATH";
    /// Name of the triggering event.
    pub const GITHUB_EVENT_NAME: &str = "GITHUB_EVENT_NAME";
    /// Token for the GitHub API.
    pub const GITHUB_TOKEN: &str = "GITHUB_TOKEN";
    /// Commit SHA the workflow runs on.
    pub const GITHUB_SHA: &str = "GITHUB_SHA";
    /// Workspace directory (the checkout).
    pub const GITHUB_WORKSPACE: &str = "GITHUB_WORKSPACE";
    /// Run id, for log links.
    pub const GITHUB_RUN_ID: &str = "GITHUB_RUN_ID";
    /// Prefix of action inputs.
    pub const INPUT_PREFIX: &str = "INPUT_";
}

/// A snapshot of environment variables.
///
/// Built once in `main` with [`Env::from_process`]; tests build one with [`Env::from_pairs`]
/// and never mutate the real process environment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    /// Reads the current process environment. Variables whose name or value is not UTF-8
    /// are converted lossily.
    pub fn from_process() -> Self {
        // WASI has no working directory: the WebAssembly build takes the runner's (see
        // crates/hub-wasi) before anything resolves a relative path.
        #[cfg(target_os = "wasi")]
        hub_wasi::enter_working_directory();
        let vars = std::env::vars_os()
            .map(|(k, v): (OsString, OsString)| {
                (
                    k.to_string_lossy().into_owned(),
                    v.to_string_lossy().into_owned(),
                )
            })
            .collect();
        Env { vars }
    }

    /// Builds an environment from name/value pairs (tests, embedding).
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        Env {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// Returns a variable's value, `None` when unset.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// Returns a variable's value, `None` when unset or empty.
    pub fn get_non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// Sets a variable in this snapshot (not in the process).
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.vars.insert(name.into(), value.into());
    }

    /// Whether we run inside GitHub Actions (`GITHUB_ACTIONS=true`).
    pub fn in_actions(&self) -> bool {
        self.get(vars::GITHUB_ACTIONS) == Some("true")
    }

    /// Whether step debug logging is on (`RUNNER_DEBUG=1`).
    pub fn debug_enabled(&self) -> bool {
        self.get(vars::RUNNER_DEBUG) == Some("1")
    }

    /// Iterates over all variables, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}
