//! The action end to end: real repositories, the built binary, the runner's files.

mod common;

use common::{TestRepo, block};

const REPO_URL: &str = "https://github.com/octo/hub";

/// v0.1.0, then four commits: a feature, a fix, docs and a chore.
fn released_history() -> TestRepo {
    let mut r = TestRepo::new();
    r.commit("feat: first release")
        .tag("v0.1.0")
        .commit("feat(api): add search endpoint (#12)")
        .commit("fix(parser): handle empty input\n\nCloses #7")
        .commit("docs: explain the release flow")
        .commit("chore(deps): bump serde");
    r
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn prepend_twice_writes_one_section() {
    let mut r = released_history();
    std::fs::write(
        r.path().join("CHANGELOG.md"),
        "# Changelog\n\nOur own words stay.\n\n## [0.1.0] - 2023-12-01\n\n- first release\n",
    )
    .expect("write");
    let first = r
        .run()
        .input("release-version", "0.2.0")
        .input("repo-url", REPO_URL)
        .go();
    insta::assert_snapshot!("prepend_first_run", first);
    insta::assert_snapshot!("prepend_file", r.read("CHANGELOG.md"));
    let bytes = std::fs::read(r.path().join("CHANGELOG.md")).expect("read");

    let second = r
        .run()
        .input("release-version", "0.2.0")
        .input("repo-url", REPO_URL)
        .go();
    assert_eq!(second.code, 0);
    assert_eq!(second.output("changed"), "false");
    assert_eq!(second.output("changelog"), first.output("changelog"));
    assert_eq!(
        std::fs::read(r.path().join("CHANGELOG.md")).expect("read"),
        bytes,
        "the second run must not change a byte"
    );
    assert!(
        second
            .stdout
            .contains("CHANGELOG.md is already up to date: nothing changed"),
        "{}",
        second.stdout
    );
    assert!(
        second
            .summary
            .ends_with("`CHANGELOG.md` is already up to date: nothing changed.\n"),
        "{}",
        second.summary
    );

    // A late fix before the release is tagged: the 0.2.0 section is replaced, not repeated.
    r.commit("fix: late fix");
    let third = r
        .run()
        .input("release-version", "0.2.0")
        .input("repo-url", REPO_URL)
        .go();
    assert_eq!(third.output("changed"), "true");
    assert_eq!(third.output("commit-count"), "5");
    let file = r.read("CHANGELOG.md");
    assert_eq!(count(&file, "## [0.2.0]"), 1, "{file}");
    assert_eq!(count(&file, "## [0.1.0]"), 1, "{file}");
    assert!(file.contains("- late fix ("), "{file}");
    assert!(file.starts_with("# Changelog\n\nOur own words stay.\n\n## [0.2.0]"));
}

#[test]
fn a_crlf_changelog_stays_crlf_and_a_re_run_changes_nothing() {
    let r = released_history();
    let old = "# Changelog\r\n\r\nOur own words stay.\r\n\r\n## [0.1.0] - 2023-12-01\r\n\r\n- first release\r\n";
    std::fs::write(r.path().join("CHANGELOG.md"), old).expect("write");
    let first = r
        .run()
        .input("release-version", "0.2.0")
        .input("repo-url", REPO_URL)
        .go();
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(first.output("changed"), "true");
    let bytes = std::fs::read(r.path().join("CHANGELOG.md")).expect("read");
    let text = String::from_utf8(bytes.clone()).expect("utf-8");
    assert!(text.contains("## [0.2.0]"), "{text:?}");
    assert_eq!(
        text.matches('\n').count(),
        text.matches("\r\n").count(),
        "every line of a CRLF file ends in CRLF: {text:?}"
    );
    assert!(text.ends_with(&old["# Changelog\r\n\r\nOur own words stay.\r\n\r\n".len()..]));

    let second = r
        .run()
        .input("release-version", "0.2.0")
        .input("repo-url", REPO_URL)
        .go();
    assert_eq!(second.output("changed"), "false");
    assert_eq!(
        std::fs::read(r.path().join("CHANGELOG.md")).expect("read"),
        bytes,
        "the second run must not change a byte"
    );
}

#[test]
fn unreleased_commits_become_the_release() {
    let mut r = released_history();
    let unreleased = r.run().input("repo-url", REPO_URL).go();
    assert_eq!(unreleased.code, 0, "{unreleased}");
    assert_eq!(unreleased.output("version"), "");
    assert!(
        unreleased
            .output("changelog")
            .starts_with("## [Unreleased](https://github.com/octo/hub/compare/v0.1.0...HEAD)\n"),
        "{unreleased}"
    );

    // semver-bump says 0.2.0: the Unreleased section turns into it.
    let named = r
        .run()
        .input("release-version", "v0.2.0")
        .input("repo-url", REPO_URL)
        .go();
    assert_eq!(named.output("version"), "0.2.0");
    let file = r.read("CHANGELOG.md");
    assert!(!file.contains("Unreleased"), "{file}");
    assert_eq!(count(&file, "## [0.2.0]"), 1);

    // Tagged the same day (as semver-bump does after it), a run on the tag agrees.
    r.tag_annotated_at("v0.2.0", common::TODAY + 3_600);
    let on_tag = r.run().input("repo-url", REPO_URL).go();
    assert_eq!(on_tag.output("version"), "0.2.0");
    assert_eq!(on_tag.output("changed"), "false", "{on_tag}");
    assert_eq!(on_tag.output("changelog"), named.output("changelog"));

    // New work after the tag is Unreleased again, above 0.2.0.
    r.commit("feat: next thing");
    let next = r.run().input("repo-url", REPO_URL).go();
    assert_eq!(next.output("commit-count"), "1");
    let file = r.read("CHANGELOG.md");
    let unreleased_at = file.find("## [Unreleased]").expect("unreleased section");
    assert!(unreleased_at < file.find("## [0.2.0]").expect("0.2.0"));
}

/// v0.1.0 ← side branch `search` (merged after v0.2.0) ← v0.2.0 ← merge ← v1.0.0
/// (annotated, a day after its commit) ← one breaking change.
fn branched_history() -> TestRepo {
    let mut r = TestRepo::new();
    r.commit("feat: initial api").tag("v0.1.0");
    r.git(&["checkout", "-q", "-b", "search"]);
    r.commit("feat(search): add search (#12)")
        .commit("fix(search): escape queries");
    r.git(&["checkout", "-q", "main"]);
    r.commit("fix: crash on empty input (#10)")
        .tag("v0.2.0")
        .merge("search", "Merge pull request #12 from octo/search")
        .commit("perf: cache compiled templates")
        .tag_annotated("v1.0.0")
        .commit("feat!: drop node 16\n\nBREAKING CHANGE: node 16 is no longer supported");
    r
}

#[test]
fn overwrite_writes_one_section_per_release_with_enterprise_links() {
    let r = branched_history();
    fn ghe(run: common::Run<'_>) -> common::Run<'_> {
        run.env("GITHUB_SERVER_URL", "https://ghe.example.com")
            .env("GITHUB_REPOSITORY", "team/app")
    }
    let out = ghe(r.run().input("mode", "overwrite")).go();
    assert_eq!(out.code, 0, "{out}");
    assert!(
        out.stdout.contains(
            "range: the whole history up to HEAD: 3 release tag(s), 7 commit(s)\n\
             links: https://ghe.example.com/team/app (from `GITHUB_SERVER_URL` and `GITHUB_REPOSITORY`)"
        ),
        "{}",
        out.stdout
    );
    // The side branch was merged after v0.2.0: its commits are in 1.0.0.
    insta::assert_snapshot!("overwrite_file", r.read("CHANGELOG.md"));
    assert_eq!(out.output("version"), "");
    assert_eq!(out.output("commit-count"), "1");

    // Overwrite again, or prepend the unreleased section: nothing changes.
    let again = ghe(r.run().input("mode", "overwrite")).go();
    assert_eq!(again.output("changed"), "false");
    let prepend = ghe(r.run()).go();
    assert_eq!(prepend.output("changed"), "false", "{prepend}");
    assert_eq!(prepend.output("changelog"), out.output("changelog"));
}

#[test]
fn overwrite_keeps_a_crlf_changelogs_line_endings_and_a_re_run_changes_nothing() {
    let r = branched_history();
    let lf = branched_history();
    std::fs::write(
        r.path().join("CHANGELOG.md"),
        "# Changelog\r\n\r\nWritten on Windows.\r\n",
    )
    .expect("write");
    let out = r.run().input("mode", "overwrite").go();
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(out.output("changed"), "true");
    let bytes = std::fs::read(r.path().join("CHANGELOG.md")).expect("read");
    let text = String::from_utf8(bytes.clone()).expect("utf-8");
    assert!(text.contains("## 1.0.0 - "), "{text:?}");
    assert_eq!(
        text.matches('\n').count(),
        text.matches("\r\n").count(),
        "every line of a CRLF file ends in CRLF: {text:?}"
    );
    // The same history as an LF file gets the same text in LF.
    assert_eq!(lf.run().input("mode", "overwrite").go().code, 0);
    assert_eq!(text.replace("\r\n", "\n"), lf.read("CHANGELOG.md"));

    // Overwrite again, or prepend: not a byte changes.
    let again = r.run().input("mode", "overwrite").go();
    assert_eq!(again.output("changed"), "false", "{again}");
    let prepend = r.run().go();
    assert_eq!(prepend.output("changed"), "false", "{prepend}");
    assert_eq!(
        std::fs::read(r.path().join("CHANGELOG.md")).expect("read"),
        bytes
    );
}

#[test]
fn overwrite_with_release_version_names_the_unreleased_commits() {
    let r = branched_history();
    let out = r
        .run()
        .input("mode", "overwrite")
        .input("release-version", "2.0.0")
        .input("repo-url", "none")
        .go();
    assert_eq!(out.output("version"), "2.0.0");
    let file = r.read("CHANGELOG.md");
    assert!(
        file.contains(
            "## 2.0.0 - 2024-02-01\n\n### Breaking Changes\n\n- node 16 is no longer supported"
        ),
        "{file}"
    );
    assert!(!file.contains("Unreleased"));
    assert!(!file.contains("/commit/"), "links are off: {file}");
}

#[test]
fn the_same_change_appears_once() {
    let mut r = TestRepo::new();
    r.commit("feat: first").tag("v0.1.0");
    r.git(&["checkout", "-q", "-b", "topic"]);
    r.commit("feat(api): add search (#12)");
    r.git(&["checkout", "-q", "main"]);
    // The same pull request squash-merged, and its branch merged too.
    r.commit("feat(api): add search (#12)")
        .merge("topic", "Merge pull request #12 from octo/topic")
        // The same subject twice, spelled differently.
        .commit("fix(ui): Dark  mode contrast")
        .commit("fix(ui): dark mode contrast")
        // A change and its revert cancel.
        .commit_file("telemetry.rs", "on", "feat: add telemetry")
        .revert("feat: add telemetry")
        // A conventional revert of a commit in the range cancels too.
        .commit("perf: inline the parser");
    let perf = r.id_of("perf: inline the parser");
    r.commit(&format!(
        "revert: perf: inline the parser\n\nThis reverts commit {perf}."
    ));
    let out = r.run().input("release-version", "0.2.0").go();
    assert_eq!(out.code, 0, "{out}");
    let file = r.read("CHANGELOG.md");
    assert_eq!(count(&file, "add search"), 1, "{file}");
    assert_eq!(count(&file, "ark mode contrast"), 1, "{file}");
    assert!(!file.contains("telemetry"), "{file}");
    assert!(!file.contains("inline the parser"), "{file}");
    assert!(
        out.stdout.contains(
            "9 commit(s): 2 shown, 2 folded into an entry with the same change, \
             4 cancelled by reverts, 1 merge commit(s)"
        ),
        "{}",
        out.stdout
    );
    insta::assert_snapshot!("duplicates_section", out.output("changelog"));
}

#[test]
fn hostile_commit_text_is_inert() {
    let mut r = TestRepo::new();
    r.commit("feat: first").tag("v0.1.0");
    r.commit_as(
        "Mallory ::error::pwned [x](javascript:alert(1)) @everyone",
        "m@example.com",
        "feat(<b>ui</b>): <script>alert(1)</script> @everyone [x](javascript:alert(1))\n\
         \n\
         ::set-output name=version::9.9.9\n\
         \n\
         BREAKING CHANGE: first line\n\
         ::add-mask::secret\n\
         ghadelimiter_0123456789abcdef0123456789abcdef\n\
         EOF\n\
         ##[error]boom",
    );
    r.commit("fix: `::warning::in code` and ::notice::outside");
    let out = r
        .run()
        .input("release-version", "0.2.0")
        .input("repo-url", REPO_URL)
        .go();
    assert_eq!(out.code, 0, "{out}");

    // Outputs: exactly ours, the section intact, nothing injected.
    let names: Vec<&str> = out.outputs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "changelog",
            "path",
            "version",
            "commit-count",
            "changed",
            "commit-sha"
        ]
    );
    assert_eq!(out.output("version"), "0.2.0");
    let file = r.read("CHANGELOG.md");
    assert!(file.contains(out.output("changelog").trim_end()));

    // The file: no HTML, no links but ours, no mentions, no workflow commands.
    for bad in ["<script>", "<b>", "[x](javascript:", "@everyone"] {
        assert!(!file.contains(bad), "{bad} in {file}");
    }
    for line in file.lines() {
        assert!(!line.trim_start().starts_with("::"), "{line}");
        assert!(!line.trim_start().starts_with("##["), "{line}");
    }

    // The log: every runner command is ours; commit text only inside the fenced block.
    let mut fenced = false;
    for line in out.stdout.lines() {
        if line == "::stop-commands::[TOKEN]" {
            fenced = true;
        } else if line == "::[TOKEN]::" {
            fenced = false;
        } else if !fenced {
            assert!(
                line == "::group::Changelog section"
                    || line == "::endgroup::"
                    || !line.contains("::"),
                "unfenced command-like line: {line}"
            );
        }
    }
    assert!(!fenced, "the untrusted block is closed");
    insta::assert_snapshot!(
        "hostile_file",
        r.read("CHANGELOG.md").replace('\u{2060}', "{WJ}")
    );
    insta::assert_snapshot!("hostile_log", out.stdout.replace('\u{2060}', "{WJ}"));

    // `--context` prints commit text (and author names) through the same fence.
    let ctx = r.run().arg("--context").go();
    assert_eq!(ctx.code, 0);
    assert!(ctx.stdout.contains("Mallory ::error::pwned"));
    let inside = ctx
        .stdout
        .split_once("::stop-commands::[TOKEN]\n")
        .and_then(|(_, rest)| rest.split_once("::[TOKEN]::"))
        .map(|(json, _)| json)
        .expect("fenced JSON");
    let json: serde_json::Value = serde_json::from_str(inside).expect("the context is JSON");
    assert_eq!(
        json["releases"][0]["commits"][1]["author"]["name"],
        "Mallory ::error::pwned [x](javascript:alert(1)) @everyone"
    );
}

#[test]
fn mode_none_only_sets_outputs() {
    let r = released_history();
    let out = r
        .run()
        .input("mode", "none")
        .input("release-version", "0.2.0")
        .input("commit", "true")
        .go();
    insta::assert_snapshot!(out, @"
    exit: 0
    output changelog:
      | ## 0.2.0 - 2024-02-01
      |
      | ### Features
      |
      | - **api:** add search endpoint (#12) (fc04b73)
      |
      | ### Bug Fixes
      |
      | - **parser:** handle empty input (37dba75), closes #7
    output path: 
    output version: 0.2.0
    output commit-count: 4
    output changed: false
    output commit-sha: 
    summary:
      | ## 0.2.0 - 2024-02-01
      |
      | ### Features
      |
      | - **api:** add search endpoint (#12) (fc04b73)
      |
      | ### Bug Fixes
      |
      | - **parser:** handle empty input (37dba75), closes #7
      |
      | ---
      |
      | No file written (`mode: none`).
    ");
    assert!(!r.path().join("CHANGELOG.md").exists());
    assert_eq!(r.git(&["rev-list", "--count", "HEAD"]), "5", "no commit");
}

#[test]
fn commit_pushes_to_origin_once() {
    let r = released_history();
    r.git(&["init", "-q", "--bare", "../origin.git"]);
    r.git(&["remote", "add", "origin", "../origin.git"]);
    r.git(&["push", "-q", "origin", "main"]);
    // Something else staged stays out of the changelog commit.
    std::fs::write(r.path().join("notes.txt"), "wip").expect("write");
    r.git(&["add", "notes.txt"]);

    let commit = |r: &TestRepo| {
        r.run()
            .input("release-version", "0.2.0")
            .input("commit", "true")
            // No git identity on this "runner": the bot's is used.
            .env("GIT_CONFIG_COUNT", "1")
            .env("GIT_CONFIG_KEY_0", "user.useConfigOnly")
            .env("GIT_CONFIG_VALUE_0", "true")
            .env("GIT_AUTHOR_DATE", "1706745600 +0000")
            .env("GIT_COMMITTER_DATE", "1706745600 +0000")
            .go()
    };
    let out = commit(&r);
    assert_eq!(out.code, 0, "{out}\n{}", out.stdout);
    let sha = out.output("commit-sha").to_owned();
    assert_eq!(sha.len(), 40);
    assert_eq!(out.output("changed"), "true");
    assert_eq!(r.git(&["rev-parse", "HEAD"]), sha);
    assert_eq!(
        r.git(&["--git-dir=../origin.git", "rev-parse", "main"]),
        sha,
        "pushed"
    );
    assert_eq!(
        r.git(&["log", "-1", "--format=%an <%ae>%n%s"]),
        "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>\n\
         chore(release): 0.2.0"
    );
    assert_eq!(
        r.git(&["show", "--name-only", "--format=", "HEAD"]),
        "CHANGELOG.md"
    );
    assert_eq!(r.git(&["status", "--porcelain"]), "A  notes.txt");
    assert!(
        out.stdout.contains(&format!(
            "committed {} and pushed it to origin/main",
            &sha[..12]
        )),
        "{}",
        out.stdout
    );

    // Nothing changed: no second commit.
    let again = commit(&r);
    assert_eq!(again.output("changed"), "false");
    assert_eq!(again.output("commit-sha"), "");
    assert_eq!(
        r.git(&["--git-dir=../origin.git", "rev-parse", "main"]),
        sha
    );
    // And the release commit itself never shows up in a later changelog.
    r.git(&["reset", "-q"]);
    let later = r.run().input("release-version", "0.2.0").go();
    assert_eq!(later.output("changed"), "false");
}

#[test]
fn commit_refuses_a_detached_head_before_committing() {
    let r = released_history();
    r.git(&["init", "-q", "--bare", "../origin.git"]);
    r.git(&["remote", "add", "origin", "../origin.git"]);
    r.git(&["checkout", "-q", "--detach"]);
    let out = r
        .run()
        .input("release-version", "0.2.0")
        .input("commit", "true")
        .go();
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("HEAD is detached"), "{}", out.stdout);
    assert_eq!(r.git(&["rev-list", "--count", "HEAD"]), "5", "no commit");
}

#[test]
fn a_given_tag_a_range_presets_and_a_template() {
    let mut r = released_history();
    r.tag_annotated("v0.2.0").commit("fix: after the release");
    let section = |run: common::Run<'_>| {
        let out = run.input("mode", "none").input("repo-url", REPO_URL).go();
        assert_eq!(out.code, 0, "{out}");
        out.output("changelog").to_owned()
    };
    // A release tag as `to`: that release, dated by its tag.
    let tagged = section(r.run().input("to", "v0.2.0").input("preset", "angular"));
    insta::assert_snapshot!(tagged, @"
    ## [0.2.0](https://github.com/octo/hub/compare/v0.1.0...v0.2.0) (2024-01-07)

    ### Features

    * **api:** add search endpoint ([#12](https://github.com/octo/hub/issues/12)) ([fc04b73](https://github.com/octo/hub/commit/fc04b73b13c714c9dd5975968e640ae3efab5cd6))

    ### Bug Fixes

    * **parser:** handle empty input ([37dba75](https://github.com/octo/hub/commit/37dba7567d877a5543a2a2f7d3409fe039dbf022)), closes [#7](https://github.com/octo/hub/issues/7)
    ");
    // `from..to` with commits: GitHub release notes.
    let first = r.id_of("feat(api): add search endpoint (#12)");
    let range = section(
        r.run()
            .input("from", &first)
            .input("to", "HEAD")
            .input("preset", "github"),
    );
    insta::assert_snapshot!(range, @"
    ## What's Changed

    ### Bug Fixes

    * after the release ([754d63a](https://github.com/octo/hub/commit/754d63ab59fdfa56338a708dce59502ea38d2877))
    * **parser:** handle empty input ([37dba75](https://github.com/octo/hub/commit/37dba7567d877a5543a2a2f7d3409fe039dbf022)), closes [#7](https://github.com/octo/hub/issues/7)

    **Full Changelog**: https://github.com/octo/hub/compare/fc04b73b13c714c9dd5975968e640ae3efab5cd6...HEAD
    ");
    // A user template over the documented context.
    std::fs::create_dir_all(r.path().join(".github")).expect("mkdir");
    std::fs::write(
        r.path().join(".github/changelog.md.j2"),
        "{% for release in releases %}# {{ release.title }} ({{ release.commits | length }} commits)\n\
         {% for s in release.sections %}{% for e in s.entries %}- [{{ e.type }}] {{ e.description_md }}\n\
         {% endfor %}{% endfor %}{% endfor %}",
    )
    .expect("write");
    // The action always passes `preset` (its default): a template wins over it.
    let templated = section(
        r.run()
            .input("preset", "keep-a-changelog")
            .input("template", ".github/changelog.md.j2"),
    );
    insta::assert_snapshot!(templated, @r"
    # Unreleased (1 commits)
    - [fix] after the release
    ");
}

#[test]
fn monorepo_package_overwrite_follows_its_paths_and_prefix() {
    let mut r = TestRepo::new();
    r.commit_file("api/lib.rs", "1", "feat(api): first api")
        .tag("api@0.1.0")
        .commit_file("web/app.js", "1", "feat(web): first web")
        .tag("web@0.1.0")
        .commit_file("api/lib.rs", "2", "fix(api): second api")
        .commit_file("web/app.js", "2", "fix(web): second web")
        .tag("api@0.1.1")
        .commit_file("api/lib.rs", "3", "feat(api): third api");
    let out = r
        .run()
        .input("mode", "overwrite")
        .input("tag-prefix", "api@")
        .input("path", "api/")
        .input("output", "api/CHANGELOG.md")
        .input("repo-url", "none")
        .go();
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(out.output("path"), "api/CHANGELOG.md");
    let file = r.read("api/CHANGELOG.md");
    insta::assert_snapshot!(file.split_once("\n## ").expect("a release").1, @"
    Unreleased

    ### Features

    - **api:** third api (cb4e2f4)

    ## 0.1.1 - 2024-01-05

    ### Bug Fixes

    - **api:** second api (8af0141)

    ## 0.1.0 - 2024-01-02

    ### Features

    - **api:** first api (8ac68f7)
    ");
}

/// Bare `1.2.3` tags: the action's `tag-prefix: none` (an empty input means the default
/// `v`), as semver-bump and release-pr read it; on the command line an empty prefix too.
#[test]
fn tag_prefix_none_reads_bare_tags() {
    let mut r = TestRepo::new();
    r.commit("feat: first release")
        .tag("0.1.0")
        .commit("fix: after the release");
    for run in [
        r.run().input("tag-prefix", "none"),
        r.run().arg("--tag-prefix="),
    ] {
        let out = run.input("mode", "none").input("repo-url", "none").go();
        assert_eq!(out.code, 0, "{out}");
        assert_eq!(out.output("commit-count"), "1", "{out}\n{}", out.stdout);
        assert!(out.stdout.contains("range: 0.1.0..HEAD"), "{}", out.stdout);
    }
    // A prefix no tag can start with is the input's error, as in semver-bump.
    let out = r.run().input("tag-prefix", "v 1").go();
    assert_eq!(out.code, 2, "{out}");
    assert!(out.stdout.contains("input `tag-prefix`"), "{}", out.stdout);
}

/// A template that does not render names the file and the line, on one line (minijinja
/// calls every template `<string>`), and writes nothing.
#[test]
fn a_broken_template_names_its_file_and_line() {
    let r = released_history();
    std::fs::write(
        r.path().join("notes.md.j2"),
        "# Notes\n{% for release in releases %}\n{{ release.nope.x }}\n{% endfor %}\n",
    )
    .expect("write");
    std::fs::write(r.path().join("syntax.md.j2"), "# Notes\n\n{{ releases }\n").expect("write");
    for (file, says) in [
        (
            "notes.md.j2",
            "input `template`: `notes.md.j2` line 3: undefined value",
        ),
        (
            "syntax.md.j2",
            "input `template`: `syntax.md.j2` line 3: syntax error: unexpected `}`",
        ),
    ] {
        let out = r.run().input("template", file).go();
        assert_eq!(out.code, 1, "{out}");
        let error = out.error();
        assert!(
            error.contains(says) && !error.contains("%0A") && !error.contains("<string>"),
            "{file}: {}",
            out.stdout
        );
        assert!(
            !r.path().join("CHANGELOG.md").exists(),
            "{file}: nothing written"
        );
    }
}

/// A `path` outside the repository is the input's error, not git's command line.
#[test]
fn a_path_outside_the_repository_names_the_input() {
    let r = released_history();
    for path in ["/srv/api", "../api"] {
        let out = r.run().input("path", path).go();
        assert_eq!(out.code, 2, "{out}");
        assert!(
            out.stdout
                .contains(&format!("input `path`: `{path}` is outside the repository")),
            "{}",
            out.stdout
        );
        assert!(!out.stdout.contains("git log"), "{}", out.stdout);
    }
}

/// A `release-version` already tagged before `to` is refused, naming the input: its section
/// would take the later commits too. The same version tagged on `to` (a re-run after
/// tagging) writes that release.
#[test]
fn a_release_version_released_before_to_is_refused() {
    let mut r = released_history();
    r.tag("v0.2.0").commit("feat: after the release");
    let out = r
        .run()
        .input("release-version", "0.2.0")
        .input("repo-url", "none")
        .go();
    assert_eq!(out.code, 1, "{out}");
    assert!(
        out.stdout
            .contains("::error::input `release-version`: `v0.2.0` is already released, at commit "),
        "{}",
        out.stdout
    );
    assert!(!r.path().join("CHANGELOG.md").exists());
    // `to: v0.2.0` writes that release, without the later commit.
    let out = r
        .run()
        .input("release-version", "0.2.0")
        .input("to", "v0.2.0")
        .input("repo-url", "none")
        .go();
    assert_eq!(out.code, 0, "{out}");
    let written = std::fs::read_to_string(r.path().join("CHANGELOG.md")).expect("written");
    assert!(written.contains("add search endpoint"), "{written}");
    assert!(!written.contains("after the release"), "{written}");
}

/// A repository without commits (a fresh `git init`) says so in one line.
#[test]
fn an_empty_repository_says_it_has_no_commits() {
    let r = TestRepo::new();
    let out = r.run().go();
    assert_eq!(out.code, 1, "{out}");
    assert!(
        out.stdout.contains(
            "::error::input `to`: `HEAD` is not a commit in this repository (has it any commits yet?)"
        ),
        "{}",
        out.stdout
    );
}

/// An `output` that cannot be read (a directory) is one line naming it, and nothing else
/// changes.
#[test]
fn an_output_that_is_a_directory_is_one_line() {
    let r = released_history();
    std::fs::create_dir(r.path().join("docs")).expect("mkdir");
    let out = r.run().input("output", "docs").go();
    assert_eq!(out.code, 1, "{out}");
    let error = out.error();
    assert!(
        error.starts_with("::error::input `output`: cannot read `")
            && error.contains("docs`: ")
            && !error.contains("%0A"),
        "{}",
        out.stdout
    );
}

#[test]
fn bad_inputs_name_the_input() {
    let r = released_history();
    let not_a_repo = tempfile::tempdir().expect("tempdir");
    let shallow = r.base().join("shallow");
    r.git(&[
        "clone",
        "-q",
        "--depth",
        "1",
        &format!("file://{}", r.path().display()),
        shallow.to_str().expect("utf-8 path"),
    ]);
    let cases: Vec<(&str, common::Run<'_>)> = vec![
        ("unknown preset", r.run().input("preset", "fancy")),
        (
            "missing template",
            r.run().input("template", "missing.md.j2"),
        ),
        ("bad mode", r.run().input("mode", "append")),
        (
            "bad release-version",
            r.run().input("release-version", "next"),
        ),
        (
            "from with overwrite",
            r.run().input("mode", "overwrite").input("from", "v0.1.0"),
        ),
        ("bad repo-url", r.run().input("repo-url", "github")),
        ("unknown to", r.run().input("to", "v9.9.9")),
        (
            "not a git repository",
            r.run().input(
                "repository-path",
                not_a_repo.path().to_str().expect("utf-8 path"),
            ),
        ),
        (
            "shallow clone",
            r.run()
                .input("repository-path", shallow.to_str().expect("utf-8 path")),
        ),
    ];
    let mut report = String::new();
    let tmp = not_a_repo.path().display().to_string();
    for (name, run) in cases {
        let out = run.go();
        assert!(
            !r.path().join("CHANGELOG.md").exists(),
            "{name}: nothing written"
        );
        let message = if out.stderr.is_empty() {
            out.stdout.lines().last().unwrap_or("").to_owned()
        } else {
            out.stderr.trim_end().to_owned()
        };
        report.push_str(&format!(
            "{name}: exit {}\n{}\n",
            out.code,
            block(&message.replace(&tmp, "[DIR]"))
        ));
    }
    insta::assert_snapshot!(report);
}

#[test]
fn commit_via_api_makes_one_verified_commit_on_the_branch() {
    let Some(server) = hub_github_standin::test_support::TestServer::start(&[]) else {
        return;
    };
    let r = released_history();
    server.import_git("octo/hub", &r.path()).expect("imports");
    let head = r.git(&["rev-parse", "HEAD"]);
    const TOKEN: &str = "ghs_SECRETtoken0123456789abcdef";
    let run = |r: &TestRepo| {
        // Inside Actions with a token, `commit-via` defaults to the API.
        r.run()
            .input("release-version", "0.2.0")
            .input("commit", "true")
            .input("token", TOKEN)
            .env("GITHUB_API_URL", server.url())
            .env("GITHUB_REPOSITORY", "octo/hub")
            .env("GITHUB_REF", "refs/heads/main")
            .go()
    };
    let out = run(&r);
    assert_eq!(out.code, 0, "{out}\n{}", out.stdout);
    let sha = out.output("commit-sha").to_owned();
    assert_eq!(sha.len(), 40, "{out}");
    let state = server.state();
    let remote = &state["repositories"]["octo/hub"];
    assert_eq!(
        remote["refs"]["refs/heads/main"],
        sha.as_str(),
        "the branch moved"
    );
    assert_eq!(
        remote["head_files"]["CHANGELOG.md"],
        r.read("CHANGELOG.md").as_str(),
        "the committed file is the written one"
    );
    // No `origin` to fetch the new commit from: the checkout stays, with a warning.
    assert_eq!(r.git(&["rev-parse", "HEAD"]), head, "no local commit");
    assert!(
        out.stdout.contains(
            "::warning::the checkout is not moved to the changelog commit (the commit is not \
             here and there is no `origin` remote to fetch it from); later steps must use the \
             `commit-sha` output"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&format!(
            "committed {} on main through the GitHub API",
            &sha[..12]
        )),
        "{}",
        out.stdout
    );
    // The token is masked first and appears nowhere else.
    let lines: Vec<&str> = out.stdout.lines().filter(|l| l.contains(TOKEN)).collect();
    assert_eq!(lines, [format!("::add-mask::{TOKEN}")]);
    assert!(!out.raw_outputs.contains(TOKEN) && !out.summary.contains(TOKEN));

    // Re-run: the file did not change, so nothing is committed.
    let again = run(&r);
    assert_eq!(again.output("changed"), "false");
    assert_eq!(again.output("commit-sha"), "");
    // A fresh checkout that writes the same file finds the branch already holding it.
    std::fs::remove_file(r.path().join("CHANGELOG.md")).expect("remove");
    let fresh = run(&r);
    assert_eq!(fresh.output("changed"), "true");
    assert_eq!(fresh.output("commit-sha"), "", "no empty commit");
    assert_eq!(
        server.state()["repositories"]["octo/hub"]["refs"]["refs/heads/main"],
        sha.as_str()
    );
}

#[test]
fn commit_via_api_without_a_token_says_what_to_set() {
    let r = released_history();
    let out = r
        .run()
        .input("release-version", "0.2.0")
        .input("commit", "true")
        .input("commit-via", "api")
        .env("GITHUB_REPOSITORY", "octo/hub")
        .go();
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains("`commit-via: api` needs a token"),
        "{}",
        out.stdout
    );
}

/// Commits by five authors: two linked to accounts, one not, one with a noreply e-mail, and
/// a second noreply form; `alice` wrote three.
fn authored_history() -> TestRepo {
    let mut r = TestRepo::new();
    r.commit("feat: first release").tag("v0.1.0");
    r.commit_as("Alice Doe", "alice@example.com", "feat(api): add search")
        .commit_as(
            "Bob [B](javascript:x)",
            "bob@example.com",
            "fix: handle empty input",
        )
        .commit_as("Alice Doe", "ALICE@example.com", "feat: add export")
        .commit_as(
            "Carol",
            "12345+carol@users.noreply.github.com",
            "perf: faster parse",
        )
        .commit_as("Dan", "dan@users.noreply.github.com", "fix: typo in help")
        .commit_as("Eve", "eve@example.com", "feat: add import")
        .commit_as("Alice Doe", "alice@example.com", "fix: crash on exit");
    r
}

const COMMIT_ROUTE: &str = "/repos/{owner}/{repo}/commits/{ref}";

#[test]
fn author_logins_cost_one_request_per_unique_email() {
    let Some(server) = hub_github_standin::test_support::TestServer::start(&[]) else {
        return;
    };
    let r = authored_history();
    server.import_git("octo/hub", &r.path()).expect("imports");
    server
        .link_email("octo/hub", "alice@example.com", "alice")
        .expect("links");
    server
        .link_email("octo/hub", "eve@example.com", "eve-1")
        .expect("links");
    let run = |mention: bool| {
        r.run()
            .input("mode", "none")
            .input("release-version", "0.2.0")
            .input("authors", "login")
            .input("mention", if mention { "true" } else { "false" })
            .input("token", "ghs_token0123456789")
            .env("GITHUB_API_URL", server.url())
            .env("GITHUB_REPOSITORY", "octo/hub")
            .go()
    };
    let lookups = || {
        server
            .requests()
            .iter()
            .filter(|q| q.route.as_deref() == Some(COMMIT_ROUTE))
            .count()
    };

    let out = run(false);
    assert_eq!(out.code, 0, "{out}");
    // alice (either case), bob and eve: three e-mails, three requests; carol and dan
    // come from their noreply addresses.
    assert_eq!(lookups(), 3, "{:#?}", server.requests());
    assert!(
        out.stdout
            .contains("authors: 4 login(s) found (2 from noreply e-mails, 3 API request(s))"),
        "{}",
        out.stdout
    );
    let notes = out.output("changelog").replace('\u{2060}', "{WJ}");
    insta::assert_snapshot!(notes, @r"
    ## 0.2.0 - 2024-02-01

    ### Features

    - add import (b0bb63b) by @{WJ}eve-1
    - add export (93b61ea) by @{WJ}alice
    - **api:** add search (c9c0616) by @{WJ}alice

    ### Bug Fixes

    - crash on exit (7e3079c) by @{WJ}alice
    - typo in help (799e8b0) by @{WJ}dan
    - handle empty input (5b08c00) by Bob \[B\](javascript:x)

    ### Performance

    - faster parse (26a4275) by @{WJ}carol
    ");
    assert!(
        !out.output("changelog").contains("@alice"),
        "no ping by default"
    );

    // `mention: true`: real mentions, and still one request per e-mail.
    let out = run(true);
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(lookups(), 6);
    let notes = out.output("changelog");
    for who in [
        "by @alice",
        "by @eve-1",
        "by @carol",
        "by @dan",
        "by Bob \\[B\\]",
    ] {
        assert!(notes.contains(who), "{who}: {notes}");
    }

    // The API failing degrades to names with a warning, not a failed run.
    server.add_fault(
        hub_github_standin::Fault::respond(401, "Bad credentials").on("GET", COMMIT_ROUTE),
    );
    let out = run(false);
    assert_eq!(out.code, 0, "{out}");
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("::warning::cannot look up authors on GitHub")),
        "{}",
        out.stdout
    );
    let notes = out.output("changelog");
    assert!(
        notes
            .lines()
            .any(|l| l.starts_with("- add import (") && l.ends_with(") by Eve")),
        "{notes}"
    );
    assert!(
        notes.contains("by @\u{2060}carol"),
        "noreply still resolved: {notes}"
    );
    assert_eq!(lookups(), 7, "the first failure stops the lookups");
    server.clear_faults();
    server.assert_conforms();
}

#[test]
fn authors_without_an_api_show_names_and_mention_needs_login() {
    let r = authored_history();
    let out = r
        .run()
        .input("mode", "none")
        .input("authors", "login")
        .env("GITHUB_API_URL", "http://127.0.0.1:9")
        .go();
    assert_eq!(out.code, 0, "{out}");
    assert!(
        out.stdout.contains("::warning::cannot look up"),
        "{}",
        out.stdout
    );
    let notes = out.output("changelog");
    assert!(
        notes
            .lines()
            .any(|l| l.starts_with("- add import (") && l.ends_with(") by Eve")),
        "{notes}"
    );

    let names = r.run().input("mode", "none").input("authors", "name").go();
    assert!(names.output("changelog").contains("by Alice Doe"));
    assert!(!names.output("changelog").contains("@"));

    let bad = r
        .run()
        .input("mode", "none")
        .input("authors", "name")
        .input("mention", "true")
        .go();
    assert_eq!(bad.code, 2, "{bad}");
    assert!(
        bad.stdout
            .contains("input `mention` needs `authors: login`")
            || bad
                .stderr
                .contains("input `mention` needs `authors: login`"),
        "{bad}"
    );
}

#[test]
fn a_commit_belongs_to_the_first_release_that_shipped_it() {
    // `v1.1.0-beta.2-side` outranks `v1.1.0-beta.3` in SemVer (an alphanumeric identifier
    // beats a numeric one), yet beta.3 was made on top of it.
    let mut r = TestRepo::new();
    r.commit("feat: first").tag("v1.0.0");
    r.git(&["checkout", "-q", "-b", "side"]);
    r.commit("feat: side work").tag("v1.1.0-beta.2-side");
    r.git(&["checkout", "-q", "main"]);
    r.commit("fix: main work")
        .merge("side", "Merge branch 'side'")
        .tag("v1.1.0-beta.3")
        .commit("feat: final touch")
        .tag("v1.1.0");
    let out = r
        .run()
        .input("mode", "overwrite")
        .input("repo-url", "none")
        .go();
    assert_eq!(out.code, 0, "{out}");
    let file = r.read("CHANGELOG.md");
    let section = |version: &str| {
        let start = file
            .find(&format!("## {version} "))
            .unwrap_or_else(|| panic!("{version}: {file}"));
        let rest = &file[start + 4..];
        rest[..rest.find("\n## ").unwrap_or(rest.len())].to_owned()
    };
    assert!(section("1.1.0-beta.2-side").contains("side work"), "{file}");
    let beta3 = section("1.1.0-beta.3");
    assert!(
        beta3.contains("main work") && !beta3.contains("side work"),
        "{file}"
    );
    assert!(section("1.1.0").contains("final touch"), "{file}");
    assert_eq!(count(&file, "side work"), 1, "{file}");
}
