//! The request: the inputs checked and turned into what the run works with (the range, the
//! layout, the sections, the file, how to commit), plus what the runner's environment says
//! (the workspace, today's date, whether a token is there). Bad input is a usage error
//! naming the input, before git is asked anything.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use hub_changelog::{AuthorStyle, Layout, TypeSpec};
use hub_conventional::semver::Version;
use hub_conventional::{BumpRules, TagPattern};
use hub_kit::Env;
use hub_kit::cli::usage;

use crate::args::{Args, Authors, CommitVia, Mode};
use crate::{date, types};

/// What the run was asked for, validated.
pub struct Request {
    /// The repository's directory.
    pub dir: PathBuf,
    /// `prepend`, `overwrite` or `none`.
    pub mode: Mode,
    /// Release tags: `tag-prefix` + semver.
    pub pattern: TagPattern,
    /// The version of the commits since the last release (`release-version`).
    pub release_version: Option<Version>,
    /// The layout, from `preset` or the `template` file.
    pub layout: Layout,
    /// The `template` input as given, to name the file when it does not render.
    pub template: Option<PathBuf>,
    /// The `types` setting, when given.
    pub types: Option<Vec<TypeSpec>>,
    /// How commits are read (`squash-bodies`).
    pub rules: BumpRules,
    /// Show the types `types` marks hidden (`show-hidden`).
    pub show_hidden: bool,
    /// Sort each section by scope, then description (`sort-by-scope`).
    pub sort_by_scope: bool,
    /// How authors are shown.
    pub authors: AuthorStyle,
    /// The date of a release that has no tag yet (`YYYY-MM-DD`).
    pub today: String,
    /// The changelog file, absolute.
    pub path: PathBuf,
    /// How the updated file is committed, when `commit` asks.
    pub commit: Option<CommitVia>,
}

impl Request {
    /// Checks the inputs, in the order the README lists them.
    pub fn read(args: &Args, env: &Env) -> Result<Request> {
        let dir = args
            .repository_path
            .clone()
            .or_else(|| {
                env.get_non_empty(hub_kit::vars::GITHUB_WORKSPACE)
                    .map(PathBuf::from)
            })
            .unwrap_or_else(|| ".".into());
        let release_version = args
            .release_version
            .as_deref()
            .map(parse_version)
            .transpose()?;
        let layout = layout(args, &dir)?;
        let types = args
            .types
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .map(|t| types::load(t, &dir))
            .transpose()?;
        if args.show_hidden && types.is_none() {
            return Err(usage(
                "input `show-hidden` needs `types` (it shows the types `types` marks hidden)",
            ));
        }
        let today = date::today(env).map_err(usage)?;
        if args.mode == Mode::Overwrite && args.from.is_some() {
            return Err(usage(
                "input `from` cannot be used with `mode: overwrite`, which writes the whole history",
            ));
        }
        if args.mention && args.authors != Authors::Login {
            return Err(usage(
                "input `mention` needs `authors: login` (mentions are of GitHub logins)",
            ));
        }
        // `none` for bare `1.2.3` tags (an empty action input means the default `v`), one
        // rule with semver-bump's and release-pr's.
        let pattern = hub_release::inputs::tag_pattern(&args.tag_prefix).map_err(usage)?;
        for p in &args.path {
            hub_release::inputs::inside_repository("path", p).map_err(usage)?;
        }
        let path = std::path::absolute(dir.join(&args.output))
            .with_context(|| format!("input `output`: `{}`", args.output.display()))?;
        Ok(Request {
            mode: args.mode,
            pattern,
            release_version,
            layout,
            template: args.template.clone(),
            types,
            rules: BumpRules {
                squash_bodies: args.squash_bodies,
                ..BumpRules::default()
            },
            authors: match (args.authors, args.mention) {
                (Authors::None, _) => AuthorStyle::Hidden,
                (Authors::Name, _) => AuthorStyle::Name,
                (Authors::Login, false) => AuthorStyle::Login,
                (Authors::Login, true) => AuthorStyle::Mention,
            },
            show_hidden: args.show_hidden,
            sort_by_scope: args.sort_by_scope,
            today,
            path,
            commit: args.commit.then(|| commit_via(args, env)),
            dir,
        })
    }
}

/// `commit-via`, defaulting to the API inside Actions when there is a token to use.
fn commit_via(args: &Args, env: &Env) -> CommitVia {
    args.commit_via.unwrap_or_else(|| {
        let token = args.token.as_deref().is_some_and(|t| !t.trim().is_empty())
            || env.get_non_empty(hub_kit::vars::GITHUB_TOKEN).is_some();
        if env.in_actions() && token {
            CommitVia::Api
        } else {
            CommitVia::Git
        }
    })
}

fn parse_version(v: &str) -> Result<Version> {
    let v = v.trim();
    Version::parse(v.strip_prefix('v').unwrap_or(v)).map_err(|e| {
        usage(format!(
            "input `release-version` is not a semantic version: `{v}` ({e})"
        ))
    })
}

/// The layout from `preset` or `template` (a file relative to `repository-path`).
fn layout(args: &Args, dir: &Path) -> Result<Layout> {
    match (&args.template, &args.preset) {
        (Some(t), _) => {
            let path = dir.join(t);
            let source = std::fs::read_to_string(&path).map_err(|e| {
                usage(format!(
                    "input `template`: cannot read `{}`: {e}",
                    path.display()
                ))
            })?;
            Ok(Layout::Template(source))
        }
        (None, Some(l)) => Ok(l.clone()),
        (None, None) => Ok(Layout::default()),
    }
}
