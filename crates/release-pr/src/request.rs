//! The request: the inputs checked and turned into what the run works with. Bad input is a
//! usage error naming the input, before anything is read or written.

use anyhow::{Result, bail};
use hub_changelog::Links;
use hub_conventional::{BumpRules, ReleaseOptions, TagPattern};
use hub_kit::Env;
use hub_kit::cli::usage;

use crate::args::Args;

/// How the pull request's commit is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommitVia {
    /// GraphQL `createCommitOnBranch` (verified).
    Graphql,
    /// The Git Data API (unsigned).
    GitData,
    /// A local `git commit-tree` (signed when git is set up to) pushed to `origin`.
    Git,
}

/// What the run was asked for, validated.
pub struct Request {
    /// How versions are decided (the pre-release channel, initial version, 0.y.z rule).
    pub options: ReleaseOptions,
    /// Which commits count at which level.
    pub rules: BumpRules,
    /// Release tags' pattern (single package).
    pub pattern: TagPattern,
    /// The repository's directory.
    pub dir: String,
    /// It was given by the deprecated `path` input.
    pub deprecated_path: bool,
    /// Version files given (relative to `dir`); empty: detect.
    pub version_files: Vec<String>,
    /// The changelog file (`None`: none).
    pub changelog: Option<String>,
    /// The monorepo config.
    pub packages: Option<String>,
    /// One pull request per package.
    pub separate: bool,
    /// The release branch when given.
    pub release_branch: Option<String>,
    /// How commits are made.
    pub commit_via: CommitVia,
    /// Overwrite a person's commits on the pull request's branch.
    pub force: bool,
    /// Move the major tag on release.
    pub major_tag: bool,
    /// Draft releases.
    pub draft: bool,
    /// Labels (cosmetic).
    pub labels: Vec<String>,
    /// Write nothing.
    pub dry_run: bool,
    /// Print JSON.
    pub json: bool,
    /// The token input (never printed).
    pub token: Option<String>,
    /// Links for notes.
    pub links: Option<Links>,
}

impl Request {
    /// Checks the inputs.
    pub fn read(args: &Args, env: &Env) -> Result<Request> {
        let parse_version =
            |name: &str, v: &str| hub_release::inputs::version(name, v).map_err(usage);
        let prerelease =
            hub_release::inputs::prerelease(args.prerelease.as_deref()).map_err(usage)?;
        let options = ReleaseOptions {
            major_on_zero: args.major_on_zero,
            initial_version: parse_version("initial-version", &args.initial_version)?,
            prerelease,
            ..ReleaseOptions::default()
        };
        let rules = hub_release::inputs::bump_rules(&args.bump_rules).map_err(usage)?;
        let pattern = hub_release::inputs::tag_pattern(&args.tag_prefix).map_err(usage)?;
        let commit_via = match args.commit_via.trim() {
            "" | "graphql" => CommitVia::Graphql,
            "git-data" => CommitVia::GitData,
            "git" => CommitVia::Git,
            other => {
                return Err(usage(format!(
                    "input `commit-via` must be `graphql`, `git-data` or `git`, got `{other}`"
                )));
            }
        };
        let version_files: Vec<String> = args
            .version_files
            .iter()
            .flat_map(|l| l.split([',', '\n']))
            .map(|f| f.trim().trim_start_matches("./").to_string())
            .filter(|f| !f.is_empty())
            .collect();
        for f in &version_files {
            hub_release::inputs::inside_repository("version-files", f).map_err(usage)?;
        }
        // `none` (an empty action input means the default) or, on the command line, empty.
        let changelog =
            Some(args.changelog_path.trim().to_string()).filter(|c| !c.is_empty() && c != "none");
        if let Some(c) = &changelog {
            hub_release::inputs::inside_repository("changelog-path", c).map_err(usage)?;
        }
        let release_branch = args
            .release_branch
            .as_deref()
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .map(String::from);
        if let Some(b) = &release_branch
            && (!hub_release::valid_tag_prefix(b) || b.starts_with('-'))
        {
            bail!(usage(format!(
                "input `release-branch` is not a branch name: `{b}`"
            )));
        }
        let packages = args.packages.clone().filter(|s| !s.trim().is_empty());
        if packages.is_some() && (!version_files.is_empty() || args.tag_prefix != "v") {
            return Err(usage(
                "input `packages` replaces `version-files` and `tag-prefix`: set them per package in the config",
            ));
        }
        let given = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(String::from)
        };
        let (dir, deprecated_path) = match (given(&args.repository_path), given(&args.path)) {
            (Some(dir), Some(path)) if dir != path => {
                return Err(usage(format!(
                    "inputs `working-directory` (`{dir}`) and the deprecated `path` (`{path}`) name \
                     two checkouts: keep `working-directory` only"
                )));
            }
            (Some(dir), path) => (dir, path.is_some()),
            (None, Some(path)) => (path, true),
            (None, None) => (
                env.get_non_empty(hub_kit::vars::GITHUB_WORKSPACE)
                    .unwrap_or(".")
                    .to_string(),
                false,
            ),
        };
        Ok(Request {
            options,
            rules,
            pattern,
            dir,
            deprecated_path,
            version_files,
            changelog,
            packages,
            separate: args.separate_pull_requests,
            release_branch,
            commit_via,
            force: args.force,
            major_tag: args.update_major_tag,
            draft: args.draft,
            labels: args
                .labels
                .iter()
                .flat_map(|l| l.split([',', '\n']))
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty())
                .collect(),
            dry_run: args.dry_run,
            json: args.json,
            token: args.token.clone(),
            links: hub_release::inputs::links(
                env.get_non_empty(hub_kit::vars::GITHUB_SERVER_URL),
                env.get_non_empty(hub_kit::vars::GITHUB_REPOSITORY),
            ),
        })
    }
}
