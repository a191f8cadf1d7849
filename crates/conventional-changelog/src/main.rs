//! `hub-conventional-changelog`: a grouped changelog from Conventional Commits — the
//! unreleased commits, one release, a range, or the whole history — prepended to
//! `CHANGELOG.md` idempotently, and the new section as an output. The same binary is the
//! `conventional-changelog` action and a CLI.
//!
//! `main` reads like the action's README: read the commits, group them into releases,
//! render, write the file, commit it (when asked), report.

mod authors;
mod date;
mod file;
mod history;
mod lean;
mod links;
mod publish;
mod report;
mod types;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};
use hub_changelog::{
    AuthorStyle, Config, KEEP_A_CHANGELOG_HEADER, Layout, UnknownLayout, context, prepend, render,
};
use hub_conventional::semver::Version;
use hub_conventional::{BumpRules, TagPattern};
use hub_git::Repo;
use hub_kit::cli::{exit, usage};
use hub_kit::{Annotation, Env, Runner};

use crate::report::FileResult;

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
    mode: Mode,
    /// The changelog file, relative to `repository-path`.
    #[arg(long, default_value = "CHANGELOG.md")]
    output: PathBuf,
    /// The version of the commits since the last release (typically semver-bump's
    /// `next-version`). Without it they are `Unreleased`, unless `to` carries a release tag.
    #[arg(long)]
    release_version: Option<String>,
    /// Start of the range (a tag or commit, excluded) instead of the last release tag
    /// reachable from `to`.
    #[arg(long)]
    from: Option<String>,
    /// End of the range: a commit, or a release tag to write that release's section.
    #[arg(long, default_value = "HEAD")]
    to: String,
    /// Prefix of release tags: `v` for `v1.2.3`, `api@` or `api-v` for a monorepo package,
    /// empty for bare `1.2.3`.
    #[arg(long, default_value = "v", allow_hyphen_values = true)]
    tag_prefix: String,
    /// Only list commits touching these paths (one per line), for a package in a monorepo.
    #[arg(long)]
    path: Vec<String>,
    /// Built-in layout: `keep-a-changelog` (default), `angular` (conventional-changelog's
    /// angular preset) or `github` (GitHub release notes). A `template` wins over it (the
    /// action always passes a preset, its default).
    #[arg(long, value_parser = parse_preset)]
    preset: Option<Layout>,
    /// A minijinja template file (relative to `repository-path`) rendering the template
    /// context; see `--context` for what it holds.
    #[arg(long)]
    template: Option<PathBuf>,
    /// Which commit types get a section, under which title, in which order: a JSON list in
    /// the conventionalcommits preset's shape (`[{"type": "feat", "section": "Features"},
    /// {"type": "docs", "section": "Documentation"}, {"type": "chore", "hidden": true}]`, also
    /// release-please's `changelog-sections`), or the path of a JSON file holding it (a
    /// `.versionrc` with `types`, a `release-please-config.json` with `changelog-sections`).
    /// Types in no entry, and hidden ones, are not shown. Default: Features, Bug Fixes,
    /// Performance, Reverts.
    #[arg(long, allow_hyphen_values = true)]
    types: Option<String>,
    /// Show the types `types` marks `hidden`, each under its section: with release-please's
    /// `{"type": "chore", "section": "Miscellaneous Chores", "hidden": true}`, chores are
    /// listed under Miscellaneous Chores.
    #[arg(long)]
    show_hidden: bool,
    /// Sort each section's entries by scope, then description (scoped entries first), as
    /// release-please's and vite's changelogs read: `**api:** a…`, `**api:** b…`, `**cli:** …`,
    /// then unscoped entries. Default: newest first.
    #[arg(long)]
    sort_by_scope: bool,
    /// Read GitHub's squash-merge bodies: each `* type(scope): description` bullet is its own
    /// entry, e.g. `Update the parser (#12)` with the bullet `* feat(parser): read tabs` lists
    /// a feature. A bullet that is not a Conventional Commit header is ignored, never the
    /// commit.
    #[arg(long)]
    squash_bodies: bool,
    /// Repository web URL for links (`https://github.com/owner/repo`, GitHub Enterprise
    /// alike), or `none` for no links. Default: `GITHUB_SERVER_URL` + `GITHUB_REPOSITORY`
    /// in Actions, else the `origin` remote when it is on github.com.
    #[arg(long)]
    repo_url: Option<String>,
    /// Commit the updated file (`chore(release): <version>`) and push it to `origin`. Never
    /// commits when the file did not change.
    #[arg(long)]
    commit: bool,
    /// How `commit` commits: `git` (commit, then `git push` to `origin`) or `api` (GitHub's
    /// Git Data API: a verified commit by the token's identity, also where pushing is
    /// blocked). Default: `api` inside Actions when a token is given, else `git`.
    #[arg(long, value_enum)]
    commit_via: Option<CommitVia>,
    /// Show each commit's author: `none` (default), `name`, or `login` (the GitHub login,
    /// looked up through the API once per unique e-mail; noreply e-mails need no request).
    /// A login is written so that it pings nobody unless `mention` is set.
    #[arg(long, value_enum, default_value_t = Authors::None)]
    authors: Authors,
    /// With `authors: login`, write real `@login` mentions, which notify those people.
    #[arg(long)]
    mention: bool,
    /// GitHub token for `commit-via: api` (default: `GITHUB_TOKEN`). Never printed.
    #[arg(long)]
    token: Option<String>,
    /// The repository (default: `GITHUB_WORKSPACE`, else the current directory).
    #[arg(long)]
    repository_path: Option<PathBuf>,
    /// Print the outputs as one JSON object.
    #[arg(long)]
    json: bool,
    /// Print the template context as JSON and exit, writing nothing.
    #[arg(long)]
    context: bool,
}

/// What to do with the changelog file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// Put the new section under the header.
    Prepend,
    /// Write the whole history.
    Overwrite,
    /// Only set outputs.
    None,
}

/// How authors are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Authors {
    /// Not shown.
    None,
    /// The author's name.
    Name,
    /// The GitHub login (the name when none is found).
    Login,
}

/// How the updated file is committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum CommitVia {
    /// `git commit` and `git push` to `origin`.
    Git,
    /// GitHub's Git Data API.
    Api,
}

fn parse_preset(s: &str) -> Result<Layout, UnknownLayout> {
    s.parse()
}

fn main() -> ExitCode {
    hub_kit::cli::run::<Args, _>(run)
}

fn run(args: &Args, env: &Env, runner: &mut Runner) -> Result<ExitCode> {
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
    let type_specs = args
        .types
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .map(|t| types::load(t, &dir))
        .transpose()?;
    if args.show_hidden && type_specs.is_none() {
        return Err(usage(
            "input `show-hidden` needs `types` (it shows the types `types` marks hidden)",
        ));
    }
    let today = date::today(env).map_err(usage)?;
    if let Some(token) = args.token.as_deref() {
        runner.set_secret(token.trim())?;
    }
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
    let repo = Repo::discover(&dir).context("input `repository-path`")?;
    let resolved = links::resolve(args.repo_url.as_deref(), env, || repo.remote_url("origin"))
        .map_err(usage)?;

    // 1. The commits: one range, or the whole history split at the release tags.
    let pattern = TagPattern::new(args.tag_prefix.clone());
    let request = history::Request {
        pattern: &pattern,
        from: args.from.as_deref(),
        to: &args.to,
        release_version: release_version.as_ref(),
        paths: &args.path,
        today: &today,
    };
    let history = match args.mode {
        Mode::Overwrite => history::full(&repo, &request)?,
        Mode::Prepend | Mode::None => history::range(&repo, &request)?,
    };
    runner.info(&format!("range: {}", history.description))?;
    match &resolved.links {
        Some(l) => runner.info(&format!(
            "links: {} (from {})",
            l.repo_url(),
            resolved.source
        ))?,
        None => runner.info(&format!("links: none ({})", resolved.source))?,
    }

    // 2. Who wrote them, when asked: GitHub logins, one API request per unique e-mail.
    let logins = match args.authors {
        Authors::Login => {
            let rendered = if args.mode == Mode::Overwrite || args.context {
                &history.releases[..]
            } else {
                &history.releases[..1]
            };
            let indexes: Vec<usize> = rendered.iter().flat_map(|p| p.commits.clone()).collect();
            let found = authors::resolve(env, args.token.as_deref(), &history.log, &indexes);
            runner.info(&format!(
                "authors: {} login(s) found ({} from noreply e-mails, {} API request(s))",
                found.by_email.len(),
                found.from_noreply,
                found.requests
            ))?;
            if let Some(w) = &found.warning {
                runner.warning(w, &Annotation::default())?;
            }
            found.by_email
        }
        Authors::None | Authors::Name => HashMap::new(),
    };

    // 3. Group them into sections: duplicates folded, reverted changes cancelled.
    let rules = BumpRules {
        squash_bodies: args.squash_bodies,
        ..BumpRules::default()
    };
    let releases = history.analyze(&rules, &logins);
    let config = Config {
        links: resolved.links,
        authors: match (args.authors, args.mention) {
            (Authors::None, _) => AuthorStyle::Hidden,
            (Authors::Name, _) => AuthorStyle::Name,
            (Authors::Login, false) => AuthorStyle::Login,
            (Authors::Login, true) => AuthorStyle::Mention,
        },
        sort_by_scope: args.sort_by_scope,
        ..Config::default()
    };
    let config = match type_specs {
        Some(specs) => config.with_types(specs, args.show_hidden),
        None => config,
    };
    if args.context {
        let all = context(&releases, &config);
        let json = serde_json::to_string_pretty(&all).context("cannot serialise the context")?;
        if runner.in_actions() {
            runner.log_untrusted(&json)?;
        } else {
            println!("{json}");
        }
        return Ok(ExitCode::from(exit::OK));
    }

    // 4. Render the new section.
    let newest = context(&releases[..1], &config);
    let section = render(&newest, &layout).context("cannot render the changelog")?;
    let release = &newest.releases[0];
    runner.info(&format!("version: {}", release.title))?;

    // 5. Write the file.
    let path = std::path::absolute(dir.join(&args.output))
        .with_context(|| format!("input `output`: `{}`", args.output.display()))?;
    let text = match args.mode {
        Mode::None => None,
        Mode::Prepend => Some(prepend(&file::read(&path)?, &section, &release.title)),
        Mode::Overwrite => {
            let body = lean::render_history(&releases, &config, &layout)
                .context("cannot render the changelog")?;
            Some(match layout {
                Layout::Template(_) => body,
                _ => format!("{KEEP_A_CHANGELOG_HEADER}\n{body}"),
            })
        }
    };
    let file = match &text {
        None => FileResult::NotWritten,
        Some(text) => {
            let outcome = file::update(&path, text)?;
            let shown = shown_path(&repo, &path);
            match outcome {
                file::Outcome::Written => FileResult::Written(shown),
                file::Outcome::UpToDate => FileResult::UpToDate(shown),
            }
        }
    };

    // 6. Commit it, only when it changed.
    let committed = match (&text, &file) {
        (Some(text), FileResult::Written(shown)) if args.commit => {
            let message = match &release.version {
                Some(v) => format!("chore(release): {v}"),
                None => "chore(release): update changelog".to_owned(),
            };
            match commit_via(args, env) {
                CommitVia::Git => Some(publish::commit_with_git(&repo, &path, &message)?),
                CommitVia::Api => publish::commit_with_api(
                    env,
                    args.token.as_deref(),
                    &repo,
                    shown,
                    text,
                    &message,
                )?,
            }
        }
        _ => None,
    };

    // 7. Report.
    let facts = report::Run {
        section: &section,
        release,
        file: &file,
        committed: committed.as_ref(),
    };
    report::outputs(runner, &facts)?;
    report::log(runner, &facts)?;
    runner.append_summary(&report::summary(&facts))?;
    runner.print_outputs(args.json)?;
    Ok(ExitCode::from(exit::OK))
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

/// The file's path for outputs and messages: relative to the repository root when inside
/// it, else absolute.
fn shown_path(repo: &Repo, path: &Path) -> String {
    let root = repo.root().canonicalize().ok();
    let real = path
        .parent()
        .and_then(|p| p.canonicalize().ok())
        .zip(path.file_name())
        .map(|(p, name)| p.join(name));
    match (real, root) {
        (Some(real), Some(root)) => match real.strip_prefix(&root) {
            Ok(rel) => rel.display().to_string(),
            Err(_) => real.display().to_string(),
        },
        _ => path.display().to_string(),
    }
}
