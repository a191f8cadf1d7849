//! The context the built-in layouts need, and no more.
//!
//! Rendering converts the whole context into template values before the template runs.
//! For a long history (`mode: overwrite`) most of that is data the built-in layouts never
//! read: `release.commits` (every commit with all its parsed fields, there for user
//! templates and `--context`) and the raw fields of each entry (the layouts print only the
//! escaped `*_md` ones). Dropping them first halves the time and memory of rendering 100k
//! commits. User templates always get the full context.
//!
//! The whole history is also rendered a few releases at a time, so the template values of
//! only those releases are alive at once: memory stays that of the log, not of the log
//! plus every release's values.
//!
//! The tests render every built-in layout from the full and the lean context, whole and
//! in parts, and require the same bytes, so a layout that starts reading a dropped field,
//! or whose releases stop being independent, fails them.

use hub_changelog::{
    AuthorContext, Config, Context, Entry, Layout, ReleaseInput, RenderError, context, render,
};

/// Releases rendered at once by [`render_history`].
const CHUNK: usize = 16;

/// Renders `releases` (newest first) as one document. Built-in layouts render each
/// release on its own but for one thing — the GitHub layout titles releases only when
/// there are several — so they are rendered in parts of [`CHUNK`] (never a lone release)
/// joined by the blank line that separates releases. A user template gets everything at
/// once, as it may relate releases to each other.
pub fn render_history(
    releases: &[ReleaseInput<'_>],
    config: &Config,
    layout: &Layout,
) -> Result<String, RenderError> {
    if matches!(layout, Layout::Template(_)) {
        return render(&context(releases, config), layout);
    }
    let mut out = String::new();
    let mut start = 0;
    while start < releases.len() {
        let mut end = (start + CHUNK).min(releases.len());
        if releases.len() - end == 1 {
            end = releases.len();
        }
        let part = render(
            &for_layout(context(&releases[start..end], config), layout),
            layout,
        )?;
        if !part.is_empty() {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&part);
        }
        start = end;
    }
    Ok(out)
}

/// The context for `layout`: lean for a built-in layout, untouched for a user template.
pub fn for_layout<'r>(mut ctx: Context<'r>, layout: &Layout) -> Context<'r> {
    if matches!(layout, Layout::Template(_)) {
        return ctx;
    }
    for release in &mut ctx.releases {
        release.commits = Vec::new();
        for e in &mut release.breaking {
            lean_entry(e);
        }
        for section in &mut release.sections {
            section.types = Vec::new();
            for e in &mut section.entries {
                lean_entry(e);
            }
        }
    }
    ctx
}

/// Keeps what the layouts print: the `*_md` fields.
fn lean_entry(e: &mut Entry) {
    e.id = String::new();
    e.short_id = String::new();
    e.url = None;
    e.ids = Vec::new();
    e.type_ = None;
    e.scope = None;
    e.description = String::new();
    e.body = None;
    e.breaking_description = None;
    e.breaking_notes = Vec::new();
    e.breaking_notes_md = Vec::new();
    e.pr = None;
    e.issues = Vec::new();
    e.author = AuthorContext {
        name: String::new(),
        email: String::new(),
        login: None,
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use hub_changelog::{
        Author, AuthorStyle, Config, Links, LogCommit, ReleaseInput, context, render,
    };
    use hub_conventional::BumpRules;
    use hub_conventional::semver::Version;

    const ADA: Author<'static> = Author {
        name: "Ada",
        email: "ada@example.com",
        login: Some("ada"),
    };

    fn commits() -> Vec<LogCommit<'static>> {
        [
            "feat(api)!: remove v1 (#40)\n\nBody text.\n\nBREAKING CHANGE: `v1` is gone\nmigrate now\n\nCloses #45, refs #9",
            "feat(ui): dark mode (#41)",
            "Merge pull request #41 from ada/dark\n\nfeat(ui): dark mode",
            "feat(ui): Dark  mode",
            "fix(parser): <b>crlf</b> @everyone\n\nFixes #101",
            "perf: faster",
            "revert: fix: old thing\n\nRefs: 0badc0ffee",
            "docs: words",
            "not conventional at all",
        ]
        .iter()
        .enumerate()
        .map(|(i, message)| LogCommit {
            id: ["a1", "b2", "c3", "d4", "e5", "f6", "07", "18", "29"][i],
            message,
            author: ADA,
        })
        .collect()
    }

    #[test]
    fn built_in_layouts_render_the_same_from_the_lean_context() {
        let log = commits();
        let rules = BumpRules::default();
        let releases = [
            ReleaseInput::analyze(Some(Version::new(2, 0, 0)), &log[..5], &rules)
                .with_date("2024-05-02")
                .with_tags(Some("v1.0.0".into()), Some("v2.0.0".into())),
            ReleaseInput::analyze(Some(Version::new(1, 0, 0)), &log[5..], &rules)
                .with_date("2024-05-01")
                .with_tags(None, Some("v1.0.0".into())),
        ];
        let links = Links {
            server_url: "https://ghe.example.com".into(),
            repository: "o/r".into(),
        };
        let configs = [
            Config::default(),
            Config {
                links: Some(links.clone()),
                other: Some("Other".into()),
                ..Config::all_types()
            },
            Config {
                links: Some(links),
                authors: AuthorStyle::ProfileLink,
                ..Config::default()
            },
        ];
        for config in &configs {
            for layout in [Layout::KeepAChangelog, Layout::Angular, Layout::GitHub] {
                for n in [1, 2] {
                    let full = render(&context(&releases[..n], config), &layout).expect("full");
                    let lean = for_layout(context(&releases[..n], config), &layout);
                    assert!(lean.releases.iter().all(|r| r.commits.is_empty()));
                    assert_eq!(render(&lean, &layout).expect("lean"), full, "{layout:?}");
                    assert!(full.contains("dark mode"), "a rich sample: {full}");
                }
            }
        }
    }

    #[test]
    fn the_history_renders_the_same_in_parts() {
        let log = commits();
        let rules = BumpRules::default();
        let config = Config {
            links: Some(Links {
                server_url: "https://github.com".into(),
                repository: "o/r".into(),
            }),
            ..Config::default()
        };
        for n in [
            1,
            2,
            CHUNK,
            CHUNK + 1,
            CHUNK + 2,
            2 * CHUNK + 1,
            3 * CHUNK + 5,
        ] {
            // Newest first; every third release has nothing to show.
            let releases: Vec<ReleaseInput<'_>> = (0..n)
                .map(|i| {
                    let v = u64::try_from(n - i).expect("small");
                    let part = if i % 3 == 2 {
                        &log[7..8]
                    } else {
                        &log[i % 7..]
                    };
                    ReleaseInput::analyze(Some(Version::new(1, v, 0)), part, &rules)
                        .with_date("2024-05-01")
                        .with_tags(Some(format!("v1.{}.0", v - 1)), Some(format!("v1.{v}.0")))
                })
                .collect();
            for layout in [Layout::KeepAChangelog, Layout::Angular, Layout::GitHub] {
                let whole = render(&context(&releases, &config), &layout).expect("whole");
                let parts = render_history(&releases, &config, &layout).expect("parts");
                assert_eq!(parts, whole, "{n} releases, {layout:?}");
            }
        }
    }

    #[test]
    fn user_templates_get_everything() {
        let log = commits();
        let releases = [ReleaseInput::analyze(None, &log, &BumpRules::default())];
        let layout = Layout::Template("{{ releases[0].commits | length }}".into());
        let ctx = for_layout(context(&releases, &Config::default()), &layout);
        assert_eq!(render(&ctx, &layout).expect("renders"), "9\n");
    }
}
