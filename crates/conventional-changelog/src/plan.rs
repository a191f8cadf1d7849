//! Planning: from the request and the facts read for it, the new section, the release it
//! describes, the file's new text and the commit message. Pure — no file, process, network
//! or environment — so the plan is a value a run carries out and the tests check.

use anyhow::Result;
use hub_changelog::{
    Config, KEEP_A_CHANGELOG_HEADER, Layout, Links, ReleaseContext, ReleaseInput, RenderError,
    context, in_line_endings_of, prepend, render,
};

use crate::args::Mode;
use crate::lean;
use crate::request::Request;

/// What a run writes.
#[derive(Debug)]
pub struct Plan<'a> {
    /// The new section, rendered (the `changelog` output).
    pub section: String,
    /// Its release in the template context (version, title, every commit's status).
    pub release: ReleaseContext<'a>,
    /// The file's new text (`None`: `mode: none`, nothing written).
    pub text: Option<String>,
    /// The message of the commit `commit` makes when the file changes.
    pub commit_message: String,
}

/// How releases are grouped and shown: links, authors, sections, order.
pub fn config(request: &Request, links: Option<Links>) -> Config {
    let config = Config {
        links,
        authors: request.authors,
        sort_by_scope: request.sort_by_scope,
        ..Config::default()
    };
    match &request.types {
        Some(specs) => config.with_types(specs.clone(), request.show_hidden),
        None => config,
    }
}

/// A template that does not render, on one line naming the file and the line
/// (minijinja names every template `<string>`).
fn render_error(request: &Request, e: RenderError) -> anyhow::Error {
    let Some(file) = &request.template else {
        return anyhow::Error::new(e).context("cannot render the changelog");
    };
    let what = match e.0.detail() {
        Some(detail) => format!("{}: {detail}", e.0.kind()),
        None => e.0.kind().to_string(),
    };
    let line = e.0.line().map(|n| format!(" line {n}")).unwrap_or_default();
    anyhow::anyhow!("input `template`: `{}`{line}: {what}", file.display())
}

/// The plan from the analysed releases (newest first; never empty): the newest one's
/// section, put into the file as the mode says. `existing` is the file's text for
/// `mode: prepend` and `mode: overwrite` (whose line endings the new text keeps).
pub fn plan<'a>(
    request: &Request,
    releases: &'a [ReleaseInput<'_>],
    config: &Config,
    existing: Option<&str>,
) -> Result<Plan<'a>> {
    let mut newest = context(&releases[..1], config);
    let section = render(&newest, &request.layout).map_err(|e| render_error(request, e))?;
    let release = newest.releases.swap_remove(0);
    let text = match request.mode {
        Mode::None => None,
        Mode::Prepend => Some(prepend(
            existing.unwrap_or_default(),
            &section,
            &release.title,
        )),
        Mode::Overwrite => {
            let body = lean::render_history(releases, config, &request.layout)
                .map_err(|e| render_error(request, e))?;
            let text = match request.layout {
                Layout::Template(_) => body,
                _ => format!("{KEEP_A_CHANGELOG_HEADER}\n{body}"),
            };
            // The file's own line endings, as `prepend` keeps them.
            Some(in_line_endings_of(existing.unwrap_or_default(), &text))
        }
    };
    let commit_message = match &release.version {
        Some(v) => format!("chore(release): {v}"),
        None => "chore(release): update changelog".to_owned(),
    };
    Ok(Plan {
        section,
        release,
        text,
        commit_message,
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use hub_changelog::{Author, AuthorStyle, LogCommit};
    use hub_conventional::semver::Version;
    use hub_conventional::{BumpRules, TagPattern};

    use super::*;

    fn request(mode: Mode, commit: bool) -> Request {
        Request {
            dir: PathBuf::from("."),
            mode,
            pattern: TagPattern::new("v"),
            release_version: None,
            layout: Layout::default(),
            template: None,
            types: None,
            rules: BumpRules::default(),
            show_hidden: false,
            sort_by_scope: false,
            authors: AuthorStyle::Hidden,
            today: "2026-12-05".into(),
            path: PathBuf::from("/repo/CHANGELOG.md"),
            commit: commit.then_some(crate::args::CommitVia::Git),
        }
    }

    fn releases(version: Option<&str>) -> Vec<ReleaseInput<'static>> {
        let author = Author {
            name: "A U Thor",
            email: "author@example.com",
            login: None,
        };
        let log = [
            LogCommit {
                id: "2222222222222222222222222222222222222222",
                message: "feat(parser): read tabs",
                author,
            },
            LogCommit {
                id: "1111111111111111111111111111111111111111",
                message: "fix: an empty config",
                author,
            },
        ];
        let version = version.map(|v| Version::parse(v).expect("a version"));
        vec![ReleaseInput::analyze(version, &log, &BumpRules::default())]
    }

    #[test]
    fn prepend_puts_the_section_under_the_header_and_a_re_run_changes_nothing() {
        let request = request(Mode::Prepend, true);
        let releases = releases(Some("1.2.0"));
        let config = config(&request, None);
        let first = plan(&request, &releases, &config, Some("")).expect("a plan");
        let text = first.text.clone().expect("prepend writes the file");
        assert!(text.starts_with(KEEP_A_CHANGELOG_HEADER), "{text}");
        assert!(text.contains(first.section.trim()), "{text}");
        assert!(first.section.contains("read tabs"), "{}", first.section);
        assert_eq!(first.release.title, "1.2.0");
        assert_eq!(first.commit_message, "chore(release): 1.2.0");
        // The second run plans the same bytes: the file is up to date.
        let again = plan(&request, &releases, &config, Some(&text)).expect("a plan");
        assert_eq!(again.text.as_deref(), Some(text.as_str()));
    }

    #[test]
    fn mode_none_plans_no_text_and_unreleased_commits_commit_as_an_update() {
        let request = request(Mode::None, false);
        let releases = releases(None);
        let config = config(&request, None);
        let plan = plan(&request, &releases, &config, None).expect("a plan");
        assert_eq!(plan.text, None);
        assert_eq!(plan.release.title, "Unreleased");
        assert!(plan.section.contains("an empty config"), "{}", plan.section);
        assert_eq!(plan.commit_message, "chore(release): update changelog");
    }
}
