//! The command line and the action's inputs (`hub_kit::cli` merges `INPUT_*` into them).

use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use hub_changelog::{Layout, UnknownLayout};

/// Writes a changelog from Conventional Commits: the commits since the last release tag
/// (or of one release, a range, or the whole history), grouped into sections, prepended
/// to CHANGELOG.md under its header. Re-running with the same commits changes nothing.
#[derive(Parser, Debug)]
#[command(
    name = "hub-conventional-changelog",
    version,
    about,
    max_term_width = 100
)]
pub struct Args {
    /// `prepend`: put the new section under the file's header, replacing a section for the
    /// same version; `overwrite`: write the whole history, one section per release tag;
    /// `none`: write nothing, only set the outputs.
    #[arg(long, value_enum, default_value_t = Mode::Prepend)]
    pub mode: Mode,
    /// The changelog file, relative to `repository-path`.
    #[arg(long, default_value = "CHANGELOG.md")]
    pub output: PathBuf,
    /// The version of the commits since the last release (typically semver-bump's
    /// `next-version`). Without it they are `Unreleased`, unless `to` carries a release tag.
    #[arg(long)]
    pub release_version: Option<String>,
    /// Start of the range (a tag or commit, excluded) instead of the last release tag
    /// reachable from `to`.
    #[arg(long)]
    pub from: Option<String>,
    /// End of the range: a commit, or a release tag to write that release's section.
    #[arg(long, default_value = "HEAD")]
    pub to: String,
    /// Prefix of release tags: `v` for `v1.2.3`, `api@` or `api-v` for a monorepo package,
    /// `none` for bare `1.2.3` (an empty action input means the default).
    #[arg(long, default_value = "v", allow_hyphen_values = true)]
    pub tag_prefix: String,
    /// Only list commits touching these paths (one per line), for a package in a monorepo.
    #[arg(long)]
    pub path: Vec<String>,
    /// Built-in layout: `keep-a-changelog` (default), `angular` (conventional-changelog's
    /// angular preset) or `github` (GitHub release notes). A `template` wins over it (the
    /// action always passes a preset, its default).
    #[arg(long, value_parser = parse_preset)]
    pub preset: Option<Layout>,
    /// A minijinja template file (relative to `repository-path`) rendering the template
    /// context; see `--context` for what it holds.
    #[arg(long)]
    pub template: Option<PathBuf>,
    /// Which commit types get a section, under which title, in which order: a JSON list in
    /// the conventionalcommits preset's shape (`[{"type": "feat", "section": "Features"},
    /// {"type": "docs", "section": "Documentation"}, {"type": "chore", "hidden": true}]`, also
    /// release-please's `changelog-sections`), or the path of a JSON file holding it (a
    /// `.versionrc` with `types`, a `release-please-config.json` with `changelog-sections`).
    /// Types in no entry, and hidden ones, are not shown. Default: Features, Bug Fixes,
    /// Performance, Reverts.
    #[arg(long, allow_hyphen_values = true)]
    pub types: Option<String>,
    /// Show the types `types` marks `hidden`, each under its section: with release-please's
    /// `{"type": "chore", "section": "Miscellaneous Chores", "hidden": true}`, chores are
    /// listed under Miscellaneous Chores.
    #[arg(long)]
    pub show_hidden: bool,
    /// Sort each section's entries by scope, then description (scoped entries first), as
    /// release-please's and vite's changelogs read: `**api:** a…`, `**api:** b…`, `**cli:** …`,
    /// then unscoped entries. Default: newest first.
    #[arg(long)]
    pub sort_by_scope: bool,
    /// Read GitHub's squash-merge bodies: each `* type(scope): description` bullet is its own
    /// entry, e.g. `Update the parser (#12)` with the bullet `* feat(parser): read tabs` lists
    /// a feature. A bullet that is not a Conventional Commit header is ignored, never the
    /// commit.
    #[arg(long)]
    pub squash_bodies: bool,
    /// Repository web URL for links (`https://github.com/owner/repo`, GitHub Enterprise
    /// alike), or `none` for no links. Default: `GITHUB_SERVER_URL` + `GITHUB_REPOSITORY`
    /// in Actions, else the `origin` remote when it is on github.com.
    #[arg(long)]
    pub repo_url: Option<String>,
    /// Commit the updated file (`chore(release): <version>`) and push it to `origin`. Never
    /// commits when the file did not change.
    #[arg(long)]
    pub commit: bool,
    /// How `commit` commits: `git` (commit, then `git push` to `origin`) or `api` (GitHub's
    /// Git Data API: a verified commit by the token's identity, also where pushing is
    /// blocked). Default: `api` inside Actions when a token is given, else `git`.
    #[arg(long, value_enum)]
    pub commit_via: Option<CommitVia>,
    /// Show each commit's author: `none` (default), `name`, or `login` (the GitHub login,
    /// looked up through the API once per unique e-mail; noreply e-mails need no request).
    /// A login is written so that it pings nobody unless `mention` is set.
    #[arg(long, value_enum, default_value_t = Authors::None)]
    pub authors: Authors,
    /// With `authors: login`, write real `@login` mentions, which notify those people.
    #[arg(long)]
    pub mention: bool,
    /// GitHub token for `commit-via: api` (default: `GITHUB_TOKEN`). Never printed.
    #[arg(long)]
    pub token: Option<String>,
    /// The repository (default: `GITHUB_WORKSPACE`, else the current directory).
    #[arg(long)]
    pub repository_path: Option<PathBuf>,
    /// Print the outputs as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Print the template context as JSON and exit, writing nothing.
    #[arg(long)]
    pub context: bool,
}

/// What to do with the changelog file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Put the new section under the header.
    Prepend,
    /// Write the whole history.
    Overwrite,
    /// Only set outputs.
    None,
}

/// How authors are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Authors {
    /// Not shown.
    None,
    /// The author's name.
    Name,
    /// The GitHub login (the name when none is found).
    Login,
}

/// How the updated file is committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CommitVia {
    /// `git commit` and `git push` to `origin`.
    Git,
    /// GitHub's Git Data API.
    Api,
}

fn parse_preset(s: &str) -> Result<Layout, UnknownLayout> {
    s.parse()
}
