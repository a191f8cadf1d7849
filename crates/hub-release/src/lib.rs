//! What the release shells share — `semver-bump` and `release-pr` read the same monorepo
//! config and find each package's last release by the same rule, so both live here once.
//!
//! - [`packages`]: the `packages` config (a file in the repository or the input inline;
//!   YAML, JSON or TOML): each package's `name`, the paths it owns, its `tag-pattern`, the
//!   `linked` group it shares a version with and its `version-files`; which commits touch
//!   which package ([`packages::assign`]); linked groups levelled ([`packages::level`]).
//! - [`releases`]: the last release of each package — the highest version tag reachable
//!   from a commit — asked of git in one `for-each-ref --merged` round whatever the number
//!   of packages ([`releases::last_releases`]), and one `git log --name-only` covering every
//!   package's range since ([`releases::log_since`]).
//!
//! Not an engine: [`packages::load`] reads the config file and [`releases`] runs git
//! (through hub-git, so every answer is git's). Everything else here is pure.
//!
//! ```
//! let config = "- name: api\n  path: packages/api\n  tag-pattern: api-v{version}\n";
//! let packages = hub_release::packages::load(config, std::path::Path::new(".")).unwrap();
//! assert_eq!(packages[0].pattern.prefix, "api-v");
//! assert!(packages[0].touches(&["packages/api/src/lib.rs".to_string()]));
//! assert!(!packages[0].touches(&["packages/apiary/x".to_string()]));
//! ```

pub mod inputs;
pub mod packages;
pub mod releases;

use std::path::PathBuf;

/// Whether `prefix` can start a tag name: no control character, no whitespace and none of
/// `~^:?*[\` (git's `check-ref-format` refuses those) — the `tag-prefix` input's and a
/// `tag-pattern`'s rule.
pub fn valid_tag_prefix(prefix: &str) -> bool {
    !prefix
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || "~^:?*[\\".contains(c))
}

/// What can go wrong reading the config or the history.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The config file named by the input cannot be read.
    #[error("input `packages`: cannot read `{}`", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The config is not a valid list of packages.
    #[error("{origin}: {message}")]
    Config {
        /// Where it came from: the file (in backticks), or ``input `packages` ``.
        origin: String,
        /// What is wrong, naming the package and the key.
        message: String,
    },
    /// Git could not answer.
    #[error(transparent)]
    Git(#[from] hub_git::GitError),
}
