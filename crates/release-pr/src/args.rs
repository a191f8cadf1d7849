//! The command line and the action's inputs (`hub_kit::cli` merges `INPUT_*` into them):
//! the lifecycle run's options (the default command) and the `version-files` subcommand.

use clap::{Parser, Subcommand};

use crate::version_files;

/// Keeps one release pull request up to date with the next version, its changelog and its
/// version files, and releases (tag, GitHub release) when it is merged. `version-files`
/// writes a version into version files in place.
#[derive(Parser, Debug)]
#[command(name = "hub-release-pr", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub run: Args,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Write a version into version files, in place, keeping formatting, comments and key
    /// order. Every file is checked before any is written: one that cannot be updated
    /// (a version it computes itself, a missing key) names the file and the key, exits 1,
    /// and nothing is written. Re-running with the same version changes nothing.
    #[command(after_long_help = version_files::EXAMPLES)]
    VersionFiles(version_files::Args),
}

/// The lifecycle run's options (see `crates/release-pr/CONTRACT.md`).
#[derive(clap::Args, Debug, Default)]
pub struct Args {
    /// Token for the GitHub API (default: `GITHUB_TOKEN`). A pull request opened with the
    /// workflow's `GITHUB_TOKEN` starts no workflow: use a GitHub App token for that.
    #[arg(long)]
    pub token: Option<String>,
    /// The branch releases are cut from (default: the repository's default branch).
    #[arg(long)]
    pub release_branch: Option<String>,
    /// The repository: a checkout of the release branch with its history (default:
    /// `GITHUB_WORKSPACE`, else the current directory). The action's input is
    /// `working-directory`, as in the other actions.
    #[arg(long)]
    pub repository_path: Option<String>,
    /// Deprecated: the same as `--repository-path` (the action's `path` input before
    /// `working-directory`; in semver-bump and conventional-changelog `path` limits the
    /// commits to a folder, which release-pr does with a `packages` config).
    #[arg(long, hide = true)]
    pub path: Option<String>,
    /// Version files to update (one per line or comma-separated, relative to the repository);
    /// default: detected in the package's directory.
    #[arg(long = "version-files")]
    pub version_files: Vec<String>,
    /// The changelog file; `none` for no changelog (an empty action input means the default).
    #[arg(long, default_value = "CHANGELOG.md")]
    pub changelog_path: String,
    /// Prefix of release tags: `v` for `v1.2.3`, `none` for bare versions.
    #[arg(long, default_value = "v", allow_hyphen_values = true)]
    pub tag_prefix: String,
    /// Monorepo: semver-bump's `packages` config (a file in the repository, or inline), with
    /// `linked` groups that share a version.
    #[arg(long, allow_hyphen_values = true)]
    pub packages: Option<String>,
    /// Monorepo: one pull request per package.
    #[arg(long)]
    pub separate_pull_requests: bool,
    /// Pre-release channel: `rc` gives `1.3.0-rc.1`, then `1.3.0-rc.2`.
    #[arg(long)]
    pub prerelease: Option<String>,
    /// Version of the first release when no release tag exists yet.
    #[arg(long, default_value = "0.1.0")]
    pub initial_version: String,
    /// Let a breaking change bump `0.y.z` to `1.0.0`.
    #[arg(long)]
    pub major_on_zero: bool,
    /// Extra `type=level` rules (one per line), e.g. `docs=patch`.
    #[arg(long = "bump-rules")]
    pub bump_rules: Vec<String>,
    /// How the pull request's commit is made: `graphql` (verified), `git-data`, or `git`
    /// (a local commit pushed to `origin`, for projects that sign locally).
    #[arg(long, default_value = "graphql")]
    pub commit_via: String,
    /// Overwrite commits a person pushed onto the release pull request's branch.
    #[arg(long)]
    pub force: bool,
    /// On release, move the major tag (`v1`) to the release commit.
    #[arg(long)]
    pub update_major_tag: bool,
    /// Create the GitHub releases as drafts.
    #[arg(long)]
    pub draft: bool,
    /// Labels for the pull request (cosmetic: never used to recognise it).
    #[arg(long)]
    pub labels: Vec<String>,
    /// Compute and print the plan; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the plan (dry run) or the outputs as one JSON object.
    #[arg(long)]
    pub json: bool,
}
