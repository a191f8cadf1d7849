//! The command line and the action's inputs (`hub_kit::cli` merges `INPUT_*` into them).

use clap::Parser;

/// Computes the next semantic version from Conventional Commits since the last release tag.
#[derive(Parser, Debug)]
#[command(name = "hub-semver-bump", version, about, max_term_width = 100)]
pub struct Args {
    /// Prefix of release tags: `v` for `v1.2.3`, `api@` or `api-v` for a monorepo package,
    /// `none` for bare `1.2.3` (an empty action input means the default).
    #[arg(long, default_value = "v", allow_hyphen_values = true)]
    pub tag_prefix: String,
    /// Only count commits touching these paths (one per line), for a package in a monorepo.
    #[arg(long)]
    pub path: Vec<String>,
    /// Monorepo: compute every package of this config (a `.yml`/`.json`/`.toml` file in the
    /// repository, or the config inline) from one pass over history. Each package has a
    /// `name`, `path` (or `paths`) and `tag-pattern` (`name@{version}`, `name-v{version}`).
    #[arg(long, allow_hyphen_values = true)]
    pub packages: Option<String>,
    /// Pre-release channel, e.g. `rc` gives `1.3.0-rc.0`, then `1.3.0-rc.1`.
    #[arg(long)]
    pub prerelease: Option<String>,
    /// Release exactly this version (must be greater than the current one); the deliberate
    /// way to leave `0.y.z`.
    #[arg(long)]
    pub release_as: Option<String>,
    /// Release at this level whatever the commits say: `major`, `minor` or `patch`.
    #[arg(long)]
    pub force: Option<String>,
    /// Let a breaking change bump `0.y.z` to `1.0.0` (default: it bumps the minor, as
    /// cocogitto, knope and convco do).
    #[arg(long)]
    pub major_on_zero: bool,
    /// Version of the first release when no release tag exists yet.
    #[arg(long, default_value = "0.1.0")]
    pub initial_version: String,
    /// Extra `type=level` rules (one per line), e.g. `docs=patch`, `refactor=none`.
    #[arg(long = "bump-rules")]
    pub bump_rules: Vec<String>,
    /// Read GitHub's squash-merge bodies: each `* type(scope): description` bullet counts as
    /// its own commit for the version and the notes (a bullet that is not a Conventional
    /// Commit header is ignored; the commit itself always counts).
    #[arg(long)]
    pub squash_bodies: bool,
    /// Start of the range (a tag or commit) instead of the last release tag.
    #[arg(long)]
    pub from: Option<String>,
    /// End of the range.
    #[arg(long, default_value = "HEAD")]
    pub to: String,
    /// In a shallow clone, deepen the history from `origin` until the last release tag is
    /// reached (instead of failing).
    #[arg(long)]
    pub fetch: bool,
    /// Do everything but write: no tag, no release, no comment.
    #[arg(long)]
    pub dry_run: bool,
    /// Create an annotated tag for the new version at `to` and push it to `origin`.
    #[arg(long)]
    pub create_tag: bool,
    /// Create (or update) the GitHub release for the new tag, with the release notes.
    #[arg(long)]
    pub create_release: bool,
    /// Create the release as a draft.
    #[arg(long)]
    pub draft: bool,
    /// Move the major tag (`v1`) to the new release — what action repositories need. Not for
    /// pre-releases.
    #[arg(long)]
    pub update_major_tag: bool,
    /// On a `pull_request` event, keep one comment on the PR saying what releasing it would do.
    #[arg(long)]
    pub comment: bool,
    /// Fail unless these are Conventional Commits: `title` (the pull request's title, which a
    /// squash merge uses as the commit message), `commits` (every commit of the pull request,
    /// or of the release range outside one), `title,commits`, or `none`.
    #[arg(long, default_value = "none")]
    pub require_conventional: String,
    /// Token for GitHub writes (default: `GITHUB_TOKEN`). Releases made with the workflow's
    /// `GITHUB_TOKEN` do not trigger other workflows; pass a PAT or app token for that.
    #[arg(long)]
    pub token: Option<String>,
    /// The repository (default: `GITHUB_WORKSPACE`, else the current directory).
    #[arg(long)]
    pub repository_path: Option<String>,
    /// Print the outputs as one JSON object.
    #[arg(long)]
    pub json: bool,
}
