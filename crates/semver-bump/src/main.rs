//! `hub-semver-bump`: the next semantic version from Conventional Commits since the last
//! release tag. The same binary is the `semver-bump` action and a CLI.
//!
//! `main` reads like the action's README: find the last release, read the commits since,
//! decide, report, and (when asked) tag.

mod github;
mod history;
mod lint;
mod packages;
mod report;

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Parser;
use hub_changelog::{Author, Layout, Links, ReleaseCommit, ReleaseInput, render_releases};
use hub_conventional::semver::Version;
use hub_conventional::{Bump, BumpRules, RawCommit, ReleaseOptions, TagPattern, analyze, decide};
use hub_git::{Range, Repo};
use hub_kit::cli::{exit, usage};
use hub_kit::{Env, Runner};

/// Computes the next semantic version from Conventional Commits since the last release tag.
#[derive(Parser, Debug)]
#[command(name = "hub-semver-bump", version, about, max_term_width = 100)]
pub struct Args {
    /// Prefix of release tags: `v` for `v1.2.3`, `api@` or `api-v` for a monorepo package,
    /// `none` for bare `1.2.3` (an empty action input means the default).
    #[arg(long, default_value = "v", allow_hyphen_values = true)]
    tag_prefix: String,
    /// Only count commits touching these paths (one per line), for a package in a monorepo.
    #[arg(long)]
    path: Vec<String>,
    /// Monorepo: compute every package of this config (a `.yml`/`.json`/`.toml` file in the
    /// repository, or the config inline) from one pass over history. Each package has a
    /// `name`, `path` (or `paths`) and `tag-pattern` (`name@{version}`, `name-v{version}`).
    #[arg(long, allow_hyphen_values = true)]
    packages: Option<String>,
    /// Pre-release channel, e.g. `rc` gives `1.3.0-rc.0`, then `1.3.0-rc.1`.
    #[arg(long)]
    prerelease: Option<String>,
    /// Release exactly this version (must be greater than the current one); the deliberate
    /// way to leave `0.y.z`.
    #[arg(long)]
    release_as: Option<String>,
    /// Release at this level whatever the commits say: `major`, `minor` or `patch`.
    #[arg(long)]
    force: Option<String>,
    /// Let a breaking change bump `0.y.z` to `1.0.0` (default: it bumps the minor, as
    /// cocogitto, knope and convco do).
    #[arg(long)]
    major_on_zero: bool,
    /// Version of the first release when no release tag exists yet.
    #[arg(long, default_value = "0.1.0")]
    initial_version: String,
    /// Extra `type=level` rules (one per line), e.g. `docs=patch`, `refactor=none`.
    #[arg(long = "bump-rules")]
    bump_rules: Vec<String>,
    /// Read GitHub's squash-merge bodies: each `* type(scope): description` bullet counts as
    /// its own commit for the version and the notes (a bullet that is not a Conventional
    /// Commit header is ignored; the commit itself always counts).
    #[arg(long)]
    squash_bodies: bool,
    /// Start of the range (a tag or commit) instead of the last release tag.
    #[arg(long)]
    from: Option<String>,
    /// End of the range.
    #[arg(long, default_value = "HEAD")]
    to: String,
    /// In a shallow clone, deepen the history from `origin` until the last release tag is
    /// reached (instead of failing).
    #[arg(long)]
    fetch: bool,
    /// Do everything but write: no tag, no release, no comment.
    #[arg(long)]
    dry_run: bool,
    /// Create an annotated tag for the new version at `to` and push it to `origin`.
    #[arg(long)]
    create_tag: bool,
    /// Create (or update) the GitHub release for the new tag, with the release notes.
    #[arg(long)]
    create_release: bool,
    /// Create the release as a draft.
    #[arg(long)]
    draft: bool,
    /// Move the major tag (`v1`) to the new release — what action repositories need. Not for
    /// pre-releases.
    #[arg(long)]
    update_major_tag: bool,
    /// On a `pull_request` event, keep one comment on the PR saying what releasing it would do.
    #[arg(long)]
    comment: bool,
    /// Fail unless these are Conventional Commits: `title` (the pull request's title, which a
    /// squash merge uses as the commit message), `commits` (every commit of the pull request,
    /// or of the release range outside one), `title,commits`, or `none`.
    #[arg(long, default_value = "none")]
    require_conventional: String,
    /// Token for GitHub writes (default: `GITHUB_TOKEN`). Releases made with the workflow's
    /// `GITHUB_TOKEN` do not trigger other workflows; pass a PAT or app token for that.
    #[arg(long)]
    token: Option<String>,
    /// The repository (default: `GITHUB_WORKSPACE`, else the current directory).
    #[arg(long)]
    repository_path: Option<String>,
    /// Print the outputs as one JSON object.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    hub_kit::cli::run::<Args, _>(run)
}

fn run(args: &Args, env: &Env, runner: &mut Runner) -> Result<ExitCode> {
    let options = release_options(args)?;
    let requirement: lint::Requirement = args.require_conventional.parse()?;
    let rules = BumpRules {
        squash_bodies: args.squash_bodies,
        ..bump_rules(&args.bump_rules)?
    };
    if !tag_name_part(&args.tag_prefix) {
        return Err(usage(
            "input `tag-prefix` cannot start a tag name: it holds a line break, a space or one of `~^:?*[\\`",
        ));
    }
    let prefix = if args.tag_prefix == "none" {
        ""
    } else {
        args.tag_prefix.as_str()
    };
    let pattern = TagPattern::new(prefix);

    let dir = args
        .repository_path
        .clone()
        .or_else(|| {
            env.get_non_empty(hub_kit::vars::GITHUB_WORKSPACE)
                .map(String::from)
        })
        .unwrap_or_else(|| ".".into());
    if let Some(spec) = args.packages.as_deref().filter(|s| !s.trim().is_empty()) {
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
        return run_packages(args, env, runner, spec, &dir, &options, &rules);
    }

    // 1. The last release (the highest version tag reachable from `to`) and 2. the
    // commits since, read with one `git log`: the quick way when it applies, else step by
    // step (shallow clones, `from`, unusual layouts, an unreachable highest tag).
    let quick = match args.from {
        None => history::quick_start(&dir, &pattern, &args.to, &args.path)?,
        Some(_) => None,
    };
    let (repo, to, last, log) = match quick {
        Some(q) => (q.repo, q.to, q.last, q.log),
        None => {
            let repo = Repo::discover(&dir)?;
            let to = repo.rev_parse(&args.to)?;
            let last = history::last_release(
                &repo,
                &pattern,
                &to,
                args.from.as_deref(),
                args.fetch,
                runner,
            )?;
            let range = Range::since(last.commit.as_deref(), &to);
            let log = repo.log(&range, &args.path)?;
            (repo, to, last, log)
        }
    };

    let raw: Vec<RawCommit<'_>> = log
        .iter()
        .map(|c| RawCommit {
            id: c.id,
            message: c.message,
        })
        .collect();

    // 3. Decide.
    let analyzed = analyze(&raw, &rules);
    let decision = decide(&analyzed, last.version.as_ref(), &last.known, &options)?;
    let next_tag = decision.next.as_ref().map(|v| pattern.format(v));

    // 3b. What must be a Conventional Commit (`require-conventional`).
    let violations = if requirement.any() {
        let event =
            hub_github::GitHubConfig::from_env(&|name: &str| env.get(name).map(String::from))
                .context("cannot read the GitHub environment")?
                .event;
        let range: Vec<(String, String)> = log
            .iter()
            .map(|c| (c.id.to_string(), c.message.to_string()))
            .collect();
        lint::check(requirement, event.as_ref(), &repo, &range, runner)?
    } else {
        Vec::new()
    };
    let lint_section = lint::section(&violations);

    // 4. Release notes for the range, from the same analysis (one classification).
    let notes = match &decision.next {
        Some(next) => render_notes(env, &last, next, next_tag.as_deref(), &analyzed, log.iter())?,
        None => String::new(),
    };

    // 5. Report.
    report::outputs(runner, &last, &decision, next_tag.as_deref())?;
    runner.set_output("notes", notes.clone())?;
    report::log(runner, &last, &decision, next_tag.as_deref())?;
    // Built only when there is a step summary to put it in (not for a CLI run).
    if runner.wants_summary() {
        runner.append_summary(&format!(
            "{}{lint_section}",
            report::summary(&last, &decision, next_tag.as_deref())
        ))?;
    }
    if requirement.any() {
        runner.set_output("conventional", violations.is_empty().to_string())?;
        lint::annotate(&violations, runner)?;
    }

    // 6. Tag.
    if let Some(tag) = next_tag.as_deref() {
        tag_release(args, &repo, tag, &to, runner)?;
    }
    // 7. GitHub: release, major tag, PR preview.
    publish(
        args,
        env,
        runner,
        &Publish {
            last: &last,
            decision: &decision,
            next_tag: next_tag.as_deref(),
            to: &to,
            notes: &notes,
            pattern: &pattern,
            comment: true,
            lint: &lint_section,
        },
    )?;
    runner.print_outputs(args.json)?;
    if !violations.is_empty() {
        bail!(
            "{} not a Conventional Commit: see the annotations{}",
            match (
                violations.iter().any(|v| v.subject == lint::Subject::Title),
                violations.len()
            ) {
                (true, 1) => "the pull request title is".to_string(),
                (true, n) => format!("the pull request title and {} commit(s) are", n - 1),
                (false, n) => format!("{n} commit(s) are"),
            },
            if args.comment {
                " and the pull request comment"
            } else {
                ""
            }
        );
    }
    Ok(ExitCode::from(exit::OK))
}

/// `create-tag`: the annotated tag at `to`, or what a dry run would create.
fn tag_release(args: &Args, repo: &Repo, tag: &str, to: &str, runner: &mut Runner) -> Result<()> {
    if !args.create_tag {
        return Ok(());
    }
    if args.dry_run {
        runner.info(&format!("dry run: would create tag {tag} at {}", &to[..12]))?;
        return Ok(());
    }
    history::create_tag(repo, tag, to, runner)
}

struct Publish<'a> {
    last: &'a history::LastRelease,
    decision: &'a hub_conventional::Decision<'a>,
    next_tag: Option<&'a str>,
    to: &'a str,
    notes: &'a str,
    pattern: &'a TagPattern,
    /// Whether a pull request comment may be written (not per package).
    comment: bool,
    /// The `require-conventional` section (empty when all is well).
    lint: &'a str,
}

fn publish(args: &Args, env: &Env, runner: &mut Runner, p: &Publish<'_>) -> Result<()> {
    let released_here = p.last.commit.as_deref() == Some(p.to);
    let release = args.create_release && (p.next_tag.is_some() || released_here);
    let major = args.update_major_tag && p.decision.next.as_ref().is_some_and(|v| v.pre.is_empty());
    let pr_event = env
        .get(hub_kit::vars::GITHUB_EVENT_NAME)
        .is_some_and(|e| e.starts_with("pull_request"));
    let comment = p.comment && args.comment && pr_event;
    if !(release || major || comment) {
        return Ok(());
    }
    if args.dry_run {
        if release {
            runner.info("dry run: would create or update the GitHub release")?;
        }
        if major {
            runner.info("dry run: would move the major tag")?;
        }
        if comment {
            runner.info("dry run: would update the pull request comment")?;
        }
        return Ok(());
    }
    let gh = github::GitHub::connect(
        env,
        args.token.as_deref(),
        "creating a release, moving a tag or commenting",
        runner,
    )?;
    if release {
        match (p.next_tag, &p.decision.next) {
            (Some(tag), Some(next)) => {
                let (url, new) = gh.ensure_release(tag, p.to, next, p.notes, args.draft)?;
                runner.info(&format!(
                    "{} release {tag}: {url}",
                    if new { "created" } else { "found" }
                ))?;
                runner.set_output("release-url", url)?;
            }
            _ => {
                // Re-run on a released commit: report the existing release, change nothing.
                if let Some(tag) = &p.last.tag
                    && let Some(url) = gh.release_url(tag)?
                {
                    runner.info(&format!("already released as {tag}: {url}"))?;
                    runner.set_output("release-url", url)?;
                }
            }
        }
    }
    if major && let Some(next) = &p.decision.next {
        let name = format!("{}{}", p.pattern.prefix, next.major);
        gh.move_tag(&name, p.to)?;
        runner.info(&format!("moved {name} to {}", &p.to[..p.to.len().min(12)]))?;
    }
    if comment {
        match gh.pull_request() {
            Some(number) => {
                let body = report::comment(p.last, p.decision, p.next_tag, p.notes, p.lint);
                let url = gh.sticky_comment(number, &body)?;
                runner.info(&format!("pull request comment: {url}"))?;
            }
            None => runner.info("no pull request in the event payload: no comment")?,
        }
    }
    Ok(())
}

/// Release notes for a range, from the same analysis (one classification).
fn render_notes<'a>(
    env: &Env,
    last: &history::LastRelease,
    next: &Version,
    next_tag: Option<&str>,
    analyzed: &[hub_conventional::AnalyzedCommit<'a>],
    commits: impl Iterator<Item = hub_git::Commit<'a>>,
) -> Result<String> {
    let release = ReleaseInput {
        version: Some(next.clone()),
        tag: next_tag.map(String::from),
        previous_tag: last.tag.clone(),
        commits: analyzed
            .iter()
            .zip(commits)
            .map(|(commit, c)| ReleaseCommit {
                commit: commit.clone(),
                author: Author {
                    name: c.author_name,
                    email: c.author_email,
                    login: None,
                },
            })
            .collect(),
        ..ReleaseInput::default()
    };
    let config = hub_changelog::Config {
        links: links(env),
        ..hub_changelog::Config::default()
    };
    Ok(render_releases(&[release], &config, &Layout::GitHub)?)
}

/// Monorepo mode: every package of the config from one `git log` (see `packages`).
fn run_packages(
    args: &Args,
    env: &Env,
    runner: &mut Runner,
    spec: &str,
    dir: &str,
    options: &ReleaseOptions,
    rules: &BumpRules,
) -> Result<ExitCode> {
    // One `git rev-parse` next to one `git show-ref`; then one `for-each-ref --merged`
    // about every package's highest tag, and one `git log --name-only` for all of them.
    let (opened, tags) = match Repo::open_with_tags(dir, &[args.to.as_str()]) {
        Ok(o) => o,
        Err(e) => {
            // The precise reason: no repository, or an unknown `to`.
            Repo::discover(dir)?.rev_parse(&args.to)?;
            return Err(e.into());
        }
    };
    let (repo, to) = (opened.repo, opened.commits[0].clone());
    let config = packages::load(spec, repo.root())?;

    // Each package's last release, then one log since the oldest of them.
    let mut lasts = Vec::new();
    if opened.shallow {
        // Deepening (or refusing) is per package's tags, step by step.
        for p in &config {
            lasts.push(history::last_release(
                &repo, &p.pattern, &to, None, args.fetch, runner,
            )?);
        }
    } else {
        let patterns: Vec<&TagPattern> = config.iter().map(|p| &p.pattern).collect();
        lasts = history::last_releases(&repo, &patterns, &tags, &to)?;
    }
    let bases: Vec<&str> = lasts.iter().filter_map(|l| l.commit.as_deref()).collect();
    let since = if bases.len() < lasts.len() {
        None // a package without a release needs the whole history
    } else {
        oldest_common(&repo, &bases)?
    };
    let (log, files) = repo.log_with_files(&Range::since(since.as_deref(), &to))?;
    let commits: Vec<hub_git::Commit<'_>> = log.iter().collect();
    let ids: Vec<&str> = commits.iter().map(|c| c.id).collect();
    let parents: Vec<Vec<&str>> = commits.iter().map(|c| c.parent_ids().collect()).collect();
    let pairs: Vec<(&packages::Package, Option<&str>)> = config
        .iter()
        .zip(&lasts)
        .map(|(p, l)| (p, l.commit.as_deref()))
        .collect();
    let assigned = packages::assign(&ids, &parents, &files, &pairs);

    let mut results = serde_json::Map::new();
    let mut changed = Vec::new();
    let mut md = hub_kit::md::Markdown::new();
    md.heading(2, "semver-bump: packages");
    let mut rows = Vec::new();
    for ((package, last), picked) in config.iter().zip(&lasts).zip(&assigned) {
        let mine: Vec<hub_git::Commit<'_>> = picked.iter().map(|&i| commits[i]).collect();
        let raw: Vec<RawCommit<'_>> = mine
            .iter()
            .map(|c| RawCommit {
                id: c.id,
                message: c.message,
            })
            .collect();
        let analyzed = analyze(&raw, rules);
        let decision = decide(&analyzed, last.version.as_ref(), &last.known, options)
            .with_context(|| format!("package `{}`", package.name))?;
        let next_tag = decision.next.as_ref().map(|v| package.pattern.format(v));
        let notes = match &decision.next {
            Some(next) => render_notes(
                env,
                last,
                next,
                next_tag.as_deref(),
                &analyzed,
                mine.iter().copied(),
            )?,
            None => String::new(),
        };
        let version = |v: Option<&Version>| v.map(|v| v.to_string()).unwrap_or_default();
        // The name is the config's text: logged as data.
        runner.log_untrusted(&format!(
            "{}: {} -> {} ({}, {} commit(s))",
            package.name,
            last.tag.as_deref().unwrap_or("no release"),
            next_tag.as_deref().unwrap_or("no release"),
            decision.bump,
            decision.counts.total
        ))?;
        rows.push(vec![
            hub_kit::md::Cell::Text(package.name.clone()),
            hub_kit::md::Cell::Code(last.tag.clone().unwrap_or_else(|| "none".into())),
            match &next_tag {
                Some(t) => hub_kit::md::Cell::Md(format!("**{}**", hub_kit::md::code(t))),
                None => hub_kit::md::Cell::Md("no release".into()),
            },
            hub_kit::md::Cell::Md(decision.bump.as_str().into()),
            hub_kit::md::Cell::Md(decision.counts.total.to_string()),
        ]);
        results.insert(
            package.name.clone(),
            serde_json::json!({
                "current-version": version(last.version.as_ref()),
                "current-tag": last.tag.clone().unwrap_or_default(),
                "next-version": version(decision.next.as_ref()),
                "next-tag": next_tag.clone().unwrap_or_default(),
                "bump": decision.bump.as_str(),
                "changed": decision.next.is_some(),
                "commit-count": decision.counts.total,
                "breaking": decision.breaking,
                "notes": notes,
            }),
        );
        if let Some(tag) = next_tag.clone() {
            changed.push((package, last, decision, tag, notes));
        }
    }
    md.table(
        &["package", "last release", "next", "bump", "commits"],
        &rows,
    );
    runner.set_output("packages", serde_json::Value::Object(results).to_string())?;
    runner.set_output("changed", (!changed.is_empty()).to_string())?;
    if let [(_, last, decision, tag, notes)] = changed.as_slice() {
        report::outputs(runner, last, decision, Some(tag))?;
        runner.set_output("notes", notes.clone())?;
    }
    runner.append_summary(md.as_str())?;

    // Tags and releases per changed package, as in single-package mode.
    for (package, last, decision, tag, notes) in &changed {
        tag_release(args, &repo, tag, &to, runner)?;
        publish(
            args,
            env,
            runner,
            &Publish {
                last,
                decision,
                next_tag: Some(tag),
                to: &to,
                notes,
                pattern: &package.pattern,
                comment: false,
                lint: "",
            },
        )?;
    }
    runner.print_outputs(args.json)?;
    Ok(ExitCode::from(exit::OK))
}

/// The commit every base can reach, for one log that covers all their ranges: the base
/// itself when there is one, else their octopus merge base (`None`: no common history).
fn oldest_common(repo: &Repo, bases: &[&str]) -> Result<Option<String>> {
    let mut unique: Vec<&str> = bases.to_vec();
    unique.sort_unstable();
    unique.dedup();
    match unique.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some((*one).to_string())),
        many => {
            let mut argv = vec!["merge-base", "--octopus"];
            argv.extend(many.iter().copied());
            Ok(repo
                .run(&argv)
                .ok()
                .map(|o| String::from_utf8_lossy(&o).trim().to_string())
                .filter(|s| !s.is_empty()))
        }
    }
}

/// Whether `text` can be part of a tag name: no control character (a line break), space or
/// character git refuses in ref names.
fn tag_name_part(text: &str) -> bool {
    !text
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || "~^:?*[\\".contains(c))
}

/// Links for GitHub or GitHub Enterprise, when the runner says where we are.
fn links(env: &Env) -> Option<Links> {
    Some(Links {
        server_url: env
            .get_non_empty(hub_kit::vars::GITHUB_SERVER_URL)?
            .to_string(),
        repository: env
            .get_non_empty(hub_kit::vars::GITHUB_REPOSITORY)?
            .to_string(),
    })
}

fn release_options(args: &Args) -> Result<ReleaseOptions> {
    let parse_version = |name: &str, v: &str| {
        let v = v.trim();
        Version::parse(v.strip_prefix('v').unwrap_or(v))
            .with_context(|| format!("input `{name}` is not a semantic version: `{v}`"))
    };
    let force = match args.force.as_deref() {
        None => None,
        Some(f) => Some(f.parse::<Bump>().context("input `force`")?),
    };
    Ok(ReleaseOptions {
        major_on_zero: args.major_on_zero,
        initial_version: parse_version("initial-version", &args.initial_version)?,
        release_as: args
            .release_as
            .as_deref()
            .map(|v| parse_version("release-as", v))
            .transpose()?,
        force,
        prerelease: args.prerelease.clone(),
        ..ReleaseOptions::default()
    })
}

fn bump_rules(lines: &[String]) -> Result<BumpRules> {
    let mut rules = BumpRules::default();
    for line in lines {
        let Some((ty, level)) = line.split_once('=') else {
            bail!("input `bump-rules`: expected `type=level` (e.g. `docs=patch`), got `{line}`");
        };
        let level: Bump = level.parse().context("input `bump-rules`")?;
        rules = rules.with(ty.trim(), level);
    }
    Ok(rules)
}
