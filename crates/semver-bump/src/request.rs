//! The request: the inputs checked and turned into what the run works with (release
//! options, bump rules, the tag pattern, what to write), plus the little the runner's
//! environment says (the workspace, links, whether this is a pull request). Bad input is a
//! usage error naming the input, before anything is read or written.

use anyhow::Result;
use hub_changelog::Links;
use hub_conventional::{Bump, BumpRules, ReleaseOptions, TagPattern};
use hub_kit::Env;
use hub_kit::cli::usage;

use crate::args::Args;
use crate::lint::Requirement;

/// What the run was asked for, validated.
pub struct Request {
    /// How the next version is decided.
    pub options: ReleaseOptions,
    /// Which commits count at which level (`bump-rules`, `squash-bodies`).
    pub rules: BumpRules,
    /// What must be a Conventional Commit (`require-conventional`).
    pub requirement: Requirement,
    /// How release tags are named (`tag-prefix`).
    pub pattern: TagPattern,
    /// The repository's directory.
    pub dir: String,
    /// The monorepo config (`packages`), when given.
    pub packages: Option<String>,
    /// Links for the release notes, when the runner says where we are.
    pub links: Option<Links>,
    /// The triggering event is a pull request (the preview comment is possible).
    pub pull_request_event: bool,
    /// What to write to git and GitHub.
    pub writes: Asked,
    /// Say what would be written instead of writing it.
    pub dry_run: bool,
    /// The `token` input (never printed).
    pub token: Option<String>,
}

/// The writes asked for by the inputs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Asked {
    /// `create-tag`.
    pub tag: bool,
    /// `create-release`.
    pub release: bool,
    /// `draft`.
    pub draft: bool,
    /// `update-major-tag`.
    pub major_tag: bool,
    /// `comment`.
    pub comment: bool,
}

impl Request {
    /// Checks the inputs, in the order the README lists them.
    pub fn read(args: &Args, env: &Env) -> Result<Request> {
        let options = release_options(args)?;
        let requirement: Requirement = args.require_conventional.parse()?;
        let rules = BumpRules {
            squash_bodies: args.squash_bodies,
            ..hub_release::inputs::bump_rules(&args.bump_rules).map_err(usage)?
        };
        let pattern = hub_release::inputs::tag_pattern(&args.tag_prefix).map_err(usage)?;
        for p in &args.path {
            hub_release::inputs::inside_repository("path", p).map_err(usage)?;
        }
        let dir = args
            .repository_path
            .clone()
            .or_else(|| {
                env.get_non_empty(hub_kit::vars::GITHUB_WORKSPACE)
                    .map(String::from)
            })
            .unwrap_or_else(|| ".".into());
        let packages = args.packages.clone().filter(|s| !s.trim().is_empty());
        if packages.is_some() {
            if args.from.is_some() || !args.path.is_empty() || args.tag_prefix != "v" {
                return Err(usage(
                    "input `packages` replaces `path`, `tag-prefix` and `from`: set them per package in the config",
                ));
            }
            if requirement.any() {
                return Err(usage(
                    "input `require-conventional` checks a pull request or one release range: use it in a step without `packages`",
                ));
            }
        }
        Ok(Request {
            options,
            rules,
            requirement,
            pattern,
            dir,
            packages,
            links: hub_release::inputs::links(
                env.get_non_empty(hub_kit::vars::GITHUB_SERVER_URL),
                env.get_non_empty(hub_kit::vars::GITHUB_REPOSITORY),
            ),
            pull_request_event: env
                .get(hub_kit::vars::GITHUB_EVENT_NAME)
                .is_some_and(|e| e.starts_with("pull_request")),
            writes: Asked {
                tag: args.create_tag,
                release: args.create_release,
                draft: args.draft,
                major_tag: args.update_major_tag,
                comment: args.comment,
            },
            dry_run: args.dry_run,
            token: args.token.clone(),
        })
    }
}

fn release_options(args: &Args) -> Result<ReleaseOptions> {
    let parse_version = |name: &str, v: &str| hub_release::inputs::version(name, v).map_err(usage);
    let force = match args.force.as_deref() {
        None => None,
        Some(f) => Some(
            f.parse::<Bump>()
                .map_err(|e| usage(format!("input `force`: {e}")))?,
        ),
    };
    // Checked before any git read, by release-pr's rule (hub-release).
    let prerelease = hub_release::inputs::prerelease(args.prerelease.as_deref()).map_err(usage)?;
    Ok(ReleaseOptions {
        major_on_zero: args.major_on_zero,
        initial_version: parse_version("initial-version", &args.initial_version)?,
        release_as: args
            .release_as
            .as_deref()
            .map(|v| parse_version("release-as", v))
            .transpose()?,
        force,
        prerelease,
        ..ReleaseOptions::default()
    })
}
