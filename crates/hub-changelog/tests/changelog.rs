//! Layout snapshots over a realistic history, and one test per rule.

use hub_changelog::{
    Author, AuthorStyle, Config, Layout, Links, LogCommit, ReleaseInput, SectionSpec, Status,
    TypeSpec, context, prepend, render_releases,
};
use hub_conventional::BumpRules;
use semver::Version;

const ALICE: Author<'static> = Author {
    name: "Alice Doe",
    email: "alice@example.com",
    login: Some("alice"),
};
const BOB: Author<'static> = Author {
    name: "Bob <b>Smith</b>",
    email: "bob@example.com",
    login: None,
};

fn c(id: &'static str, message: &'static str) -> LogCommit<'static> {
    LogCommit {
        id,
        message,
        author: ALICE,
    }
}

/// The 1.1.0 range, newest first.
fn history() -> Vec<LogCommit<'static>> {
    vec![
        c(
            "a1b2c3d4e5f60718293a4b5c6d7e8f9012345601",
            "chore(release): 1.1.0",
        ),
        c(
            "b2c3d4e5f60718293a4b5c6d7e8f901234560102",
            "feat(api)!: remove the v1 search endpoint\n\nThe v1 endpoint was deprecated in 0.9.\n\nBREAKING CHANGE: `GET /v1/search` is gone; use `GET /v2/search`.\nClients pinned to v1 must upgrade.\n\nCloses #45",
        ),
        LogCommit {
            id: "c3d4e5f60718293a4b5c6d7e8f90123456010203",
            message: "feat(ui): dark mode (#120)",
            author: Author {
                name: "Octo Cat",
                email: "octo@example.com",
                login: Some("octocat"),
            },
        },
        c(
            "d4e5f60718293a4b5c6d7e8f9012345601020304",
            "Merge pull request #119 from alice/topic\n\nfeat(ui): dark mode",
        ),
        c(
            "e5f60718293a4b5c6d7e8f901234560102030405",
            "feat(ui): Dark  mode",
        ),
        c(
            "f60718293a4b5c6d7e8f90123456010203040506",
            "fix(parser): handle CRLF line endings (#118)\r\n\r\nFixes #101",
        ),
        c(
            "0718293a4b5c6d7e8f9012345601020304050607",
            "perf: cache compiled templates (#117)",
        ),
        c(
            "18293a4b5c6d7e8f901234560102030405060708",
            "docs: explain the release flow",
        ),
        c(
            "293a4b5c6d7e8f90123456010203040506070809",
            "Revert \"feat: add telemetry\"\n\nThis reverts commit 3a4b5c6d7e8f9012345601020304050607080910.",
        ),
        c(
            "3a4b5c6d7e8f9012345601020304050607080910",
            "feat: add telemetry",
        ),
        c(
            "4b5c6d7e8f901234560102030405060708091011",
            "revert: fix(cli): wrong default flag\n\nRefs: 0badc0ffee12",
        ),
        LogCommit {
            id: "5c6d7e8f90123456010203040506070809101112",
            message: "update readme",
            author: BOB,
        },
        c(
            "6d7e8f9012345601020304050607080910111213",
            "FEAT(Auth): support passkeys\n\nRefs #99, #100",
        ),
        c(
            "7e8f901234560102030405060708091011121314",
            "fix: <script>alert(1)</script> [x](javascript:alert(1)) @everyone",
        ),
        c(
            "8f90123456010203040506070809101112131415",
            "fix: ::set-output name=x::pwned",
        ),
        c(
            "90123456010203040506070809101112131415aa",
            "chore!: drop Node 16\n\nBREAKING-CHANGE: Node 18 is the minimum.",
        ),
    ]
}

fn links() -> Links {
    Links {
        server_url: "https://github.com".into(),
        repository: "acme/widget".into(),
    }
}

fn release(log: &[LogCommit<'static>]) -> ReleaseInput<'static> {
    ReleaseInput::analyze(Some(Version::new(1, 1, 0)), log, &BumpRules::default())
        .with_date("2024-05-01")
        .with_tags(Some("v1.0.0".into()), Some("v1.1.0".into()))
}

fn rendered(layout: Layout, config: &Config) -> String {
    render_releases(&[release(&history())], config, &layout).expect("renders")
}

fn linked() -> Config {
    Config {
        links: Some(links()),
        ..Config::default()
    }
}

#[test]
fn keep_a_changelog_layout() {
    insta::assert_snapshot!(rendered(Layout::KeepAChangelog, &linked()));
}

#[test]
fn angular_layout() {
    insta::assert_snapshot!(rendered(Layout::Angular, &linked()));
}

#[test]
fn github_release_notes_layout() {
    let config = Config {
        authors: AuthorStyle::ProfileLink,
        ..linked()
    };
    insta::assert_snapshot!(rendered(Layout::GitHub, &config));
}

#[test]
fn all_types_with_other_and_no_links() {
    let config = Config {
        other: Some("Other".into()),
        ..Config::all_types()
    };
    insta::assert_snapshot!(rendered(Layout::KeepAChangelog, &config));
}

#[test]
fn several_releases_in_one_changelog() {
    let newer = [c("ab12ab12ab12ab12", "fix: later fix")];
    let unreleased = ReleaseInput::analyze(None, &newer, &BumpRules::default())
        .with_tags(Some("v1.1.0".into()), None);
    let first = ReleaseInput::analyze(
        Some(Version::new(1, 0, 0)),
        &[c("cd34cd34cd34cd34", "feat: first")],
        &BumpRules::default(),
    )
    .with_date("2024-01-01")
    .with_tags(None, Some("v1.0.0".into()));
    let out = render_releases(
        &[unreleased, release(&history()[..3]), first],
        &linked(),
        &Layout::KeepAChangelog,
    )
    .expect("renders");
    insta::assert_snapshot!(out);
}

#[test]
fn user_template_over_the_documented_context() {
    let template = r#"{% for r in releases %}
{{ r.title }}:{% for s in r.sections %} {{ s.title }}={{ s.entries | length }}{% endfor %}

{% for c in r.commits %}
- {{ c.id[:7] }} {{ c.kind }} {{ c.status }}{% if c.parsed.commit is defined %} type={{ c.parsed.commit.type }} breaking={{ c.parsed.commit.breaking }}{% else %} error={{ c.parsed.error.kind }}{% endif %}

{% endfor %}
{% endfor %}
body: {{ releases[0].sections[0].entries[0].body | md }}
"#;
    let out = rendered(Layout::Template(template.into()), &linked());
    insta::assert_snapshot!(out);
    let err = render_releases(
        &[release(&history())],
        &linked(),
        &Layout::Template("{{ nope.x }}".into()),
    )
    .expect_err("undefined is an error");
    assert!(err.to_string().starts_with("changelog template:"), "{err}");
}

#[test]
fn context_is_serializable() {
    let releases = [release(&history())];
    let ctx = context(&releases, &linked());
    let json = serde_json::to_value(&ctx).expect("serializable");
    let first = &json["releases"][0];
    assert_eq!(first["title"], "1.1.0");
    assert_eq!(
        first["compare_url"],
        "https://github.com/acme/widget/compare/v1.0.0...v1.1.0"
    );
    let commit = &first["commits"][1];
    assert_eq!(commit["kind"], "conventional");
    assert_eq!(commit["parsed"]["commit"]["scope"], "api");
    assert_eq!(commit["parsed"]["commit"]["footers"][1]["token"], "Closes");
    assert_eq!(commit["parsed"]["commit"]["footers"][1]["separator"], " #");
    assert!(
        commit["message"]
            .as_str()
            .expect("message")
            .starts_with("feat(api)!")
    );
}

fn statuses(config: &Config) -> Vec<(String, Status)> {
    let releases = [release(&history())];
    let ctx = context(&releases, config);
    ctx.releases[0]
        .commits
        .iter()
        .map(|c| (c.analyzed.summary.to_owned(), c.status))
        .collect()
}

#[test]
fn every_commit_is_accounted_for() {
    let got = statuses(&Config::default());
    let status = |prefix: &str| {
        got.iter()
            .find(|(s, _)| s.starts_with(prefix))
            .map(|(_, st)| *st)
            .expect(prefix)
    };
    assert_eq!(status("chore(release)"), Status::Release);
    assert_eq!(status("Merge pull request"), Status::Merge);
    assert_eq!(status("feat(ui): dark mode (#120)"), Status::Shown);
    assert_eq!(status("feat(ui): Dark  mode"), Status::Folded);
    assert_eq!(status("Revert \"feat: add telemetry\""), Status::Cancelled);
    assert_eq!(status("feat: add telemetry"), Status::Cancelled);
    assert_eq!(status("revert: fix(cli)"), Status::Shown);
    assert_eq!(status("docs:"), Status::HiddenType);
    assert_eq!(status("update readme"), Status::NonConventional);
    assert_eq!(
        status("chore!: drop Node 16"),
        Status::Shown,
        "breaking shows even when its type is hidden"
    );
    assert_eq!(got.len(), history().len());
}

#[test]
fn duplicates_fold_by_pr_number_too() {
    let log = [
        c("1111111aaaa", "feat: new thing (#7)"),
        c("2222222bbbb", "feat(core): different words (#7)"),
    ];
    let releases = [release(&log)];
    let ctx = context(&releases, &Config::default());
    let entries = &ctx.releases[0].sections[0].entries;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].ids, ["1111111aaaa", "2222222bbbb"]);
    let no_fold = Config {
        fold_duplicates: false,
        ..Config::default()
    };
    assert_eq!(
        context(&releases, &no_fold).releases[0].sections[0]
            .entries
            .len(),
        2
    );
}

#[test]
fn two_pull_requests_with_one_title_are_two_changes() {
    // Renovate's "update all non-major dependencies", merged twice in vite 7.2.5.
    let log = [
        c(
            "1111111aaaa",
            "fix(deps): update all non-major dependencies (#21175)",
        ),
        c(
            "2222222bbbb",
            "fix(deps): update all non-major dependencies (#21146)",
        ),
        c(
            "3333333cccc",
            "fix(deps): update all non-major dependencies",
        ),
    ];
    let releases = [release(&log)];
    let ctx = context(&releases, &Config::default());
    let ids: Vec<&Vec<String>> = ctx.releases[0].sections[0]
        .entries
        .iter()
        .map(|e| &e.ids)
        .collect();
    // The copy without a number still folds (a squash commit and its branch's commit).
    assert_eq!(
        ids,
        [
            &vec!["1111111aaaa".to_owned(), "3333333cccc".to_owned()],
            &vec!["2222222bbbb".to_owned()]
        ]
    );
}

#[test]
fn one_pull_request_of_several_types_is_several_changes() {
    // A rebase-merged pull request whose tool appended its number to every commit.
    let log = [
        c(
            "1111111aaaa",
            "perf(build): release resources early (#33715)",
        ),
        c(
            "2222222bbbb",
            "fix(build): prevent a hang on errors (#33715)",
        ),
    ];
    let releases = [release(&log)];
    let ctx = context(&releases, &Config::default());
    let titles: Vec<(&str, usize)> = ctx.releases[0]
        .sections
        .iter()
        .map(|s| (s.title.as_str(), s.entries.len()))
        .collect();
    assert_eq!(titles, [("Bug Fixes", 1), ("Performance", 1)]);
}

#[test]
fn merges_and_release_commits_can_be_kept() {
    let config = Config {
        skip_merges: false,
        skip_release_commits: false,
        other: Some("Other".into()),
        sections: Config::sections_for(&["feat", "chore"]),
        ..Config::default()
    };
    let got = statuses(&config);
    assert!(
        got.iter()
            .any(|(s, st)| s.starts_with("chore(release)") && *st == Status::Shown)
    );
    assert!(
        got.iter()
            .any(|(s, st)| s.starts_with("Merge pull request") && *st == Status::Shown)
    );
}

#[test]
fn custom_sections_and_titles() {
    let config = Config {
        sections: vec![
            SectionSpec {
                title: "New".into(),
                types: vec!["feat".into(), "perf".into()],
            },
            SectionSpec {
                title: "Docs".into(),
                types: vec!["docs".into()],
            },
        ],
        show_breaking: false,
        ..Config::default()
    };
    let out = rendered(Layout::KeepAChangelog, &config);
    assert!(
        out.contains("### New\n") && out.contains("### Docs\n"),
        "{out}"
    );
    assert!(
        !out.contains("Bug Fixes") && !out.contains("Breaking"),
        "{out}"
    );
    assert!(
        out.contains("- **Auth:** support passkeys"),
        "FEAT is a feat: {out}"
    );
}

#[test]
fn authors_never_ping() {
    for style in [
        AuthorStyle::Name,
        AuthorStyle::Login,
        AuthorStyle::ProfileLink,
    ] {
        let config = Config {
            authors: style,
            ..linked()
        };
        let out = rendered(Layout::GitHub, &config);
        assert!(
            !out.contains("@octocat") && !out.contains("@alice"),
            "{style:?}: {out}"
        );
    }
    let config = Config {
        authors: AuthorStyle::ProfileLink,
        ..linked()
    };
    let out = rendered(Layout::GitHub, &config);
    assert!(
        out.contains("by [octocat](https://github.com/octocat)"),
        "{out}"
    );
    let config = Config {
        authors: AuthorStyle::Login,
        other: Some("Other".into()),
        ..linked()
    };
    let out = rendered(Layout::GitHub, &config);
    assert!(
        out.contains("update readme by Bob &lt;b&gt;Smith&lt;/b&gt;"),
        "{out}"
    );
    assert!(
        out.contains("by @\u{2060}octocat"),
        "the login reads as @octocat: {out}"
    );
    assert!(
        !rendered(Layout::GitHub, &linked()).contains(" by "),
        "hidden by default"
    );
    let config = Config {
        authors: AuthorStyle::Name,
        ..linked()
    };
    let out = rendered(Layout::GitHub, &config);
    assert!(
        out.contains(" by Octo Cat") && !out.contains("octocat"),
        "{out}"
    );
}

#[test]
fn mentions_only_when_asked_and_only_plain_logins() {
    let config = Config {
        authors: AuthorStyle::Mention,
        other: Some("Other".into()),
        ..linked()
    };
    let out = rendered(Layout::GitHub, &config);
    assert!(
        out.contains(") by @octocat (") && out.contains("by @alice ("),
        "{out}"
    );
    // No login known: the name, escaped, never an invented mention.
    assert!(
        out.contains("update readme by Bob &lt;b&gt;Smith&lt;/b&gt;"),
        "{out}"
    );
    let odd = [LogCommit {
        id: "1234567aaaa",
        message: "feat: bump deps",
        author: Author {
            name: "bot",
            email: "49699333+dependabot[bot]@users.noreply.github.com",
            login: Some("dependabot[bot]"),
        },
    }];
    let out = render_releases(&[release(&odd)], &config, &Layout::KeepAChangelog).expect("renders");
    assert!(
        out.contains("by @\u{2060}dependabot\\[bot\\]"),
        "not a plain login: shown inert, brackets escaped: {out}"
    );
}

#[test]
fn github_enterprise_links() {
    let config = Config {
        links: Some(Links {
            server_url: "https://ghe.example.com/".into(),
            repository: "team/app".into(),
        }),
        ..Config::default()
    };
    let out = rendered(Layout::KeepAChangelog, &config);
    assert!(
        out.contains("(https://ghe.example.com/team/app/compare/v1.0.0...v1.1.0)"),
        "{out}"
    );
    assert!(out.contains("[b2c3d4e](https://ghe.example.com/team/app/commit/b2c3d4e5f60718293a4b5c6d7e8f901234560102)"), "{out}");
    assert!(
        out.contains("closes [#45](https://ghe.example.com/team/app/issues/45)"),
        "{out}"
    );
    assert!(!out.contains("github.com"), "{out}");
}

#[test]
fn hostile_text_is_inert() {
    for layout in [Layout::KeepAChangelog, Layout::Angular, Layout::GitHub] {
        let out = rendered(layout.clone(), &linked());
        assert!(!out.contains("<script>"), "{layout:?}");
        // `\]` is an escaped bracket: text, not the end of a link.
        assert!(
            !out.replace("\\]", "").contains("](javascript:"),
            "{layout:?}"
        );
        assert!(!out.contains("@everyone"), "{layout:?}");
        for line in out.lines() {
            assert!(!line.trim_start().starts_with("::"), "{layout:?}: {line}");
        }
    }
    // Structure: nothing a commit writes can open a heading or a quote.
    let log = [
        c("1234567aaaa", "feat: ## heading"),
        c(
            "2345678bbbb",
            "fix: x\n\nBREAKING CHANGE: line one\n# heading\n> quote\n- item\n</details>",
        ),
    ];
    let out = render_releases(
        &[release(&log)],
        &Config::default(),
        &Layout::KeepAChangelog,
    )
    .expect("renders");
    insta::assert_snapshot!(out);
}

#[test]
fn unreleased_and_empty_releases() {
    let unreleased =
        ReleaseInput::analyze(None, &[c("1234567aaaa", "docs: x")], &BumpRules::default())
            .with_tags(Some("v1.0.0".into()), None);
    let out = render_releases(&[unreleased], &linked(), &Layout::KeepAChangelog).expect("renders");
    assert_eq!(
        out,
        "## [Unreleased](https://github.com/acme/widget/compare/v1.0.0...HEAD)\n\nNo notable changes.\n"
    );
}

#[test]
fn layout_names() {
    assert_eq!("angular".parse::<Layout>(), Ok(Layout::Angular));
    assert_eq!("GitHub".parse::<Layout>(), Ok(Layout::GitHub));
    assert_eq!(
        "keep-a-changelog".parse::<Layout>(),
        Ok(Layout::KeepAChangelog)
    );
    assert!("mystery".parse::<Layout>().is_err());
}

mod prepend_file {
    use super::*;

    fn section(version: &str, line: &str) -> String {
        format!("## [{version}] - 2024-05-01\n\n### Features\n\n- {line}\n")
    }

    #[test]
    fn empty_file_gets_a_header() {
        insta::assert_snapshot!(prepend("", &section("1.0.0", "first"), "1.0.0"));
        assert_eq!(
            prepend("\n\n", &section("1.0.0", "first"), "1.0.0"),
            prepend("", &section("1.0.0", "first"), "1.0.0")
        );
    }

    #[test]
    fn goes_under_the_header_above_older_releases() {
        let file = prepend("", &section("1.0.0", "first"), "1.0.0");
        let file = prepend(&file, &section("1.1.0", "second"), "1.1.0");
        insta::assert_snapshot!(file);
    }

    #[test]
    fn replaces_the_same_version() {
        let file = prepend("", &section("1.0.0", "first"), "1.0.0");
        let file = prepend(&file, &section("1.1.0", "second"), "1.1.0");
        let again = prepend(&file, &section("1.1.0", "second, regenerated"), "v1.1.0");
        assert_eq!(again.matches("## [1.1.0]").count(), 1);
        assert!(again.contains("second, regenerated") && !again.contains("- second\n"));
        assert_eq!(again.matches("## [1.0.0]").count(), 1);
        // Replacing an older version keeps its place.
        let older = prepend(&again, &section("1.0.0", "first, fixed"), "1.0.0");
        assert!(older.find("## [1.1.0]") < older.find("## [1.0.0]"));
        assert!(older.contains("first, fixed"));
    }

    #[test]
    fn unreleased_is_replaced_by_the_release() {
        let file = prepend("", "## [Unreleased]\n\n- pending\n", "Unreleased");
        let file = prepend(&file, &section("1.0.0", "pending"), "1.0.0");
        assert!(!file.contains("Unreleased"), "{file}");
        assert_eq!(file.matches("## [1.0.0]").count(), 1);
    }

    #[test]
    fn keeps_a_hand_written_file_and_crlf() {
        let existing =
            "# History\r\n\r\nHand-written intro.\r\n\r\n## 0.9.0 (2023-01-01)\r\n\r\n* old\r\n";
        let out = prepend(existing, &section("1.0.0", "new"), "1.0.0");
        insta::assert_snapshot!(out);
    }

    #[test]
    fn section_without_heading_gets_one() {
        let out = prepend("", "### Features\n\n- a\n", "2.0.0");
        assert!(out.contains("## 2.0.0\n\n### Features"), "{out}");
        assert_eq!(prepend(&out, "### Features\n\n- a\n", "2.0.0"), out);
    }

    #[test]
    fn headings_inside_code_fences_are_not_sections() {
        let existing = "# Changelog\n\n## 1.0.0\n\n```\n## 0.5.0\n```\n\n## 0.4.0\n\n- x\n";
        let out = prepend(existing, "## 1.0.0\n\n- replaced\n", "1.0.0");
        assert_eq!(
            out,
            "# Changelog\n\n## 1.0.0\n\n- replaced\n\n## 0.4.0\n\n- x\n"
        );
    }

    /// Property-ish: over many generated files and sequences, prepend is idempotent,
    /// never duplicates a version, and keeps every other section.
    #[test]
    fn idempotent_and_never_duplicates() {
        let versions = ["1.0.0", "1.1.0", "2.0.0-rc.1", "Unreleased", "0.1.0"];
        let headers = [
            "",
            "# Changelog\n\nIntro.\n",
            "# Changelog\r\n\r\n",
            "Some text without a title\n\n\n",
        ];
        let mut seed: u64 = 7;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) % n as u64) as usize
        };
        for _ in 0..500 {
            let mut file = headers[next(headers.len())].to_owned();
            let steps = 1 + next(6);
            for _ in 0..steps {
                let v = versions[next(versions.len())];
                let body = ["- a\n", "### Bug Fixes\n\n- b\n\n- c\n", "- d (#1)\n\n\n"][next(3)];
                let heading = if v == "Unreleased" {
                    "## [Unreleased]".to_owned()
                } else {
                    format!("## [{v}] - 2024")
                };
                let s = format!("{heading}\n\n{body}");
                let once = prepend(&file, &s, v);
                assert_eq!(
                    prepend(&once, &s, v),
                    once,
                    "not idempotent from {file:?} with {v}"
                );
                let count = once
                    .lines()
                    .filter(|l| l.starts_with("## [") && l[4..].starts_with(v))
                    .count();
                assert_eq!(count, 1, "{v} appears {count} times in {once:?}");
                file = once;
            }
        }
    }
}

/// The built-in layouts render from a lean view of the context (no `commits`, only the
/// entries' printed fields); the same template given as a user template sees the whole
/// context. Every layout, with and without links, several releases: the same text.
#[test]
fn built_in_layouts_print_what_they_would_from_the_whole_context() {
    let log = history();
    let older = [c(
        "aa0718293a4b5c6d7e8f90123456010203040506",
        "feat(core): first release",
    )];
    let releases = [
        release(&log),
        ReleaseInput::analyze(Some(Version::new(1, 0, 0)), &older, &BumpRules::default())
            .with_date("2024-04-01")
            .with_tags(None, Some("v1.0.0".into())),
    ];
    let with_authors = Config {
        authors: AuthorStyle::Login,
        ..linked()
    };
    for config in [Config::default(), linked(), with_authors] {
        for layout in [Layout::KeepAChangelog, Layout::Angular, Layout::GitHub] {
            let whole = Layout::Template(layout.source().to_string());
            assert_eq!(
                render_releases(&releases, &config, &layout).expect("built-in"),
                render_releases(&releases, &config, &whole).expect("as a user template"),
                "{layout:?}"
            );
        }
    }
}

/// The section each commit lands in (`-` when it is not shown), in log order.
fn placed(log: &[LogCommit<'static>], config: &Config) -> Vec<String> {
    let releases = [release(log)];
    let ctx = context(&releases, config);
    let r = &ctx.releases[0];
    r.commits
        .iter()
        .map(|c| {
            let title = r
                .sections
                .iter()
                .find(|s| {
                    s.entries
                        .iter()
                        .any(|e| e.ids.contains(&c.analyzed.id.to_owned()))
                })
                .map_or("-", |s| s.title.as_str());
            format!("{} -> {title}", c.analyzed.summary)
        })
        .collect()
}

#[test]
fn types_setting_first_match_wins_scopes_and_hidden() {
    let log = vec![
        c("a1", "fix(deps): bump serde"),
        c("b2", "fix: crash"),
        c("c3", "chore: tidy"),
        c("d4", "docs: words"),
        c("e5", "feat: search"),
    ];
    let types: Vec<TypeSpec> = serde_json::from_str(
        r#"[
          {"type": "fix", "scope": "deps", "section": "Dependencies"},
          {"type": "fix", "section": "Bug Fixes"},
          {"type": "chore", "section": "Dependencies"},
          {"type": "feat", "section": "Features"},
          {"type": "docs", "hidden": true}
        ]"#,
    )
    .expect("the conventionalcommits preset's shape");
    let config = Config::default().with_types(types.clone(), false);
    assert_eq!(
        placed(&log, &config),
        [
            "fix(deps): bump serde -> Dependencies",
            "fix: crash -> Bug Fixes",
            "chore: tidy -> Dependencies",
            "docs: words -> -",
            "feat: search -> Features",
        ]
    );
    let titles = |config: &Config| -> Vec<String> {
        let releases = [release(&log)];
        context(&releases, config).releases[0]
            .sections
            .iter()
            .map(|s| s.title.clone())
            .collect()
    };
    assert_eq!(titles(&config), ["Dependencies", "Bug Fixes", "Features"]);
    let shown = Config::default().with_types(types, true);
    assert_eq!(
        titles(&shown),
        ["Dependencies", "Bug Fixes", "Features", "Documentation"]
    );
}

#[test]
fn one_breaking_entry_per_note() {
    let log = vec![c(
        "a1",
        "feat!: v2\n\nBREAKING CHANGE: one\nBREAKING-CHANGE: two\nBREAKING CHANGE: three",
    )];
    let releases = [release(&log)];
    let ctx = context(&releases, &Config::default());
    let notes: Vec<Option<&str>> = ctx.releases[0]
        .breaking
        .iter()
        .map(|e| e.breaking_md.as_deref())
        .collect();
    assert_eq!(notes, [Some("one"), Some("two"), Some("three"), Some("v2")]);
    let entry = &ctx.releases[0].sections[0].entries[0];
    assert_eq!(entry.breaking_notes, ["one", "two", "three", "v2"]);
}

#[test]
fn squashed_bullets_are_entries_of_their_own() {
    let log = vec![c(
        "a1",
        "Update everything (#5)\n\n* feat(ui): dark mode\n\n* oops\n\n* fix: crash",
    )];
    let rules = BumpRules {
        squash_bodies: true,
        ..BumpRules::default()
    };
    let releases = [ReleaseInput::analyze(None, &log, &rules)];
    let ctx = context(&releases, &Config::default());
    let r = &ctx.releases[0];
    let entries: Vec<(&str, &str)> = r
        .sections
        .iter()
        .flat_map(|s| {
            s.entries
                .iter()
                .map(|e| (s.title.as_str(), e.description.as_str()))
        })
        .collect();
    assert_eq!(entries, [("Features", "dark mode"), ("Bug Fixes", "crash")]);
    assert_eq!(r.commits[0].status, Status::Shown);
    // Off: the commit is not conventional and nothing is shown.
    let releases = [ReleaseInput::analyze(None, &log, &BumpRules::default())];
    let ctx = context(&releases, &Config::default());
    assert!(ctx.releases[0].is_empty);
    assert_eq!(ctx.releases[0].commits[0].status, Status::NonConventional);
}
