//! Release notes as maintainers publish them (issue 17), on real histories: every revert
//! form git and GitHub write, every breaking-change note, sections from the `types` setting
//! in the conventionalcommits preset's and release-please's shapes, entries sorted by scope,
//! squash-merge bodies.

mod common;

use common::TestRepo;

/// `v1.0.0` tagged on a first feature.
fn released() -> TestRepo {
    let mut r = TestRepo::new();
    r.commit_file("a.txt", "1\n", "feat: first release")
        .tag("v1.0.0");
    r
}

fn notes(r: &TestRepo, inputs: &[(&str, &str)]) -> String {
    let mut run = r.run().input("mode", "none").input("repo-url", "none");
    for (name, value) in inputs {
        run = run.input(name, value);
    }
    let out = run.go();
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    out.output("changelog").to_owned()
}

/// The titles of the `###` sections, in order.
fn titles(section: &str) -> Vec<&str> {
    section
        .lines()
        .filter_map(|l| l.strip_prefix("### "))
        .collect()
}

#[test]
fn every_revert_form_is_recognised() {
    let mut r = released();
    // A released fix, reverted after the release by GitHub's revert button and a squash
    // merge: ` (#6729)` after the closing quote.
    r.commit_file("a.txt", "2\n", "fix(types): accept null (#6700)")
        .tag("v1.0.1");
    let released_fix = r.id_of("fix(types): accept null (#6700)");
    r.commit_file(
        "a.txt",
        "1\n",
        &format!(
            "Revert \"fix(types): accept null\" (#6729)\n\nThis reverts commit {released_fix}."
        ),
    );
    // A plain `git revert` inside the range: both vanish.
    r.commit_file("b.txt", "x\n", "feat: cache");
    r.revert("feat: cache");
    // A revert of a revert (git writes `Reapply "…"`): the feature is back.
    r.commit_file("c.txt", "x\n", "feat: search");
    r.revert("feat: search");
    let summaries = r.git(&["log", "-1", "--format=%s"]);
    assert_eq!(summaries, "Revert \"feat: search\"");
    r.revert("Revert \"feat: search\"");
    // The nested form written by hand, and a reworded revert with git's line only.
    r.commit_file("d.txt", "x\n", "perf: faster parse");
    r.commit_file("d.txt", "y\n", "Revert \"perf: faster parse\"");
    r.commit_file("d.txt", "x\n", "Revert \"Revert \"perf: faster parse\"\"");
    r.commit_file("e.txt", "x\n", "fix: tabs");
    let tabs = r.id_of("fix: tabs");
    r.commit_file(
        "e.txt",
        "y\n",
        &format!("Undo the tab fix\n\nThis reverts commit {tabs}."),
    );

    let out = r
        .run()
        .input("mode", "none")
        .input("repo-url", "none")
        .input("release-version", "1.1.0")
        .go();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let section = out.output("changelog");
    assert_eq!(
        titles(section),
        ["Features", "Performance", "Reverts"],
        "{section}"
    );
    let reverts = section
        .split("### Reverts")
        .nth(1)
        .expect("a Reverts section");
    assert!(reverts.contains("accept null"), "{section}");
    assert!(section.contains("- search ("), "{section}");
    assert!(section.contains("- faster parse ("), "{section}");
    for gone in ["cache", "tabs", "Undo"] {
        assert!(!section.contains(gone), "{gone} must cancel: {section}");
    }
    // Every commit is counted once, and the counts add up.
    assert!(
        out.stdout
            .contains("11 commit(s): 3 shown, 8 cancelled by reverts"),
        "{}",
        out.stdout
    );
}

#[test]
fn every_breaking_note_in_every_preset_and_template() {
    let mut r = released();
    r.commit(
        "feat(cli)!: strict mode by default\n\n\
         BREAKING CHANGE: strict is the default\n\
         BREAKING-CHANGE: loose is gone\n\
         BREAKING CHANGE: Node 18 is required",
    )
    .commit("fix!: drop the v1 endpoint");
    // Newest first: the `!` summary's note; then the three footers in order and the `!`
    // summary, as release-please lists yargs 18.0.0's commit.
    let want = [
        "drop the v1 endpoint",
        "strict is the default",
        "loose is gone",
        "Node 18 is required",
        "strict mode by default",
    ];
    for preset in ["keep-a-changelog", "angular", "github"] {
        let section = notes(&r, &[("preset", preset), ("release-version", "2.0.0")]);
        let breaking = section
            .split("### ")
            .find(|s| s.contains("BREAKING") || s.contains("Breaking"))
            .unwrap_or_else(|| panic!("{preset}: a breaking section in\n{section}"));
        let mut at = 0;
        for note in want {
            let found = breaking[at..]
                .find(note)
                .unwrap_or_else(|| panic!("{preset}: `{note}` after byte {at} in\n{section}"));
            at += found + note.len();
        }
        // One list item per note.
        assert_eq!(
            breaking
                .lines()
                .filter(|l| l.starts_with(['-', '*']))
                .count(),
            5,
            "{preset}:\n{section}"
        );
    }
    std::fs::write(
        r.path().join("notes.j2"),
        "{% for e in releases[0].breaking %}{{ e.breaking_md }}\n{% endfor %}\
         {% for s in releases[0].sections %}{% for e in s.entries %}\
         {{ e.breaking_notes | length }}:\n{% for n in e.breaking_notes_md %}- {{ n }}\n{% endfor %}\
         {% endfor %}{% endfor %}",
    )
    .expect("template");
    let section = notes(&r, &[("template", "notes.j2")]);
    assert_eq!(
        section,
        "drop the v1 endpoint\nstrict is the default\nloose is gone\nNode 18 is required\n\
         strict mode by default\n\
         4:\n- strict is the default\n- loose is gone\n- Node 18 is required\n\
         - strict mode by default\n\
         1:\n- drop the v1 endpoint\n"
    );
}

/// One commit of each usual type, several scopes.
fn typed_history() -> TestRepo {
    let mut r = released();
    r.commit("feat(api): autocomplete")
        .commit("feat(ui): dark mode")
        .commit("fix(parser): tabs")
        .commit("docs: the release flow")
        .commit("chore: bump deps")
        .commit("refactor(core): split the walker")
        .commit("test: more cases")
        .commit("build(deps): bump serde")
        .commit("feat(api): search")
        .commit("fix: a crash")
        .commit("feat(cli): completions");
    r
}

/// vite's sections, in the conventionalcommits preset's shape.
const VITE_TYPES: &str = r#"[
  {"type": "feat", "section": "Features"},
  {"type": "fix", "section": "Bug Fixes"},
  {"type": "perf", "section": "Performance Improvements"},
  {"type": "refactor", "section": "Code Refactoring"},
  {"type": "docs", "section": "Documentation"},
  {"type": "test", "section": "Tests"},
  {"type": "build", "section": "Build System"},
  {"type": "chore", "section": "Miscellaneous Chores"}
]"#;

#[test]
fn sections_follow_the_types_setting_in_the_preset_shape() {
    let r = typed_history();
    let section = notes(&r, &[("types", VITE_TYPES)]);
    assert_eq!(
        titles(&section),
        [
            "Features",
            "Bug Fixes",
            "Code Refactoring",
            "Documentation",
            "Tests",
            "Build System",
            "Miscellaneous Chores"
        ],
        "{section}"
    );
    // Default: as before.
    assert_eq!(titles(&notes(&r, &[])), ["Features", "Bug Fixes"]);
    // Another order, one section for two types, and a scope rule before the type's own.
    let custom = r#"[
      {"type": "fix", "section": "Fixed"},
      {"type": "build", "scope": "deps", "section": "Dependencies"},
      {"type": "chore", "section": "Dependencies"},
      {"type": "feat", "section": "Added"},
      {"type": "build", "hidden": true}
    ]"#;
    let section = notes(&r, &[("types", custom)]);
    assert_eq!(
        titles(&section),
        ["Fixed", "Dependencies", "Added"],
        "{section}"
    );
    let deps = section
        .split("### Dependencies")
        .nth(1)
        .and_then(|s| s.split("###").next())
        .expect("a Dependencies section");
    assert!(
        deps.contains("bump serde") && deps.contains("bump deps"),
        "{deps}"
    );
}

#[test]
fn release_please_and_versionrc_files_are_read_unchanged() {
    let r = typed_history();
    std::fs::write(
        r.path().join("release-please-config.json"),
        r#"{
  "$schema": "https://raw.githubusercontent.com/googleapis/release-please/main/schemas/config.json",
  "release-type": "node",
  "packages": {".": {"changelog-sections": [
    {"type": "feat", "section": "Features", "hidden": false},
    {"type": "fix", "section": "Bug Fixes", "hidden": false},
    {"type": "docs", "section": "Documentation", "hidden": false},
    {"type": "chore", "section": "Miscellaneous Chores", "hidden": true},
    {"type": "refactor", "section": "Code Refactoring", "hidden": true}
  ]}}
}"#,
    )
    .expect("config");
    let section = notes(&r, &[("types", "release-please-config.json")]);
    assert_eq!(
        titles(&section),
        ["Features", "Bug Fixes", "Documentation"],
        "{section}"
    );
    // Hidden types shown on request, in the setting's order.
    let shown = notes(
        &r,
        &[
            ("types", "release-please-config.json"),
            ("show-hidden", "true"),
        ],
    );
    assert_eq!(
        titles(&shown),
        [
            "Features",
            "Bug Fixes",
            "Documentation",
            "Miscellaneous Chores",
            "Code Refactoring"
        ],
        "{shown}"
    );

    std::fs::write(
        r.path().join(".versionrc"),
        r#"{"types": [{"type": "refactor"}, {"type": "feat", "section": "New"}, {"type": "docs", "hidden": true}]}"#,
    )
    .expect("versionrc");
    let section = notes(&r, &[("types", ".versionrc")]);
    assert_eq!(titles(&section), ["Refactoring", "New"], "{section}");
}

#[test]
fn entries_sorted_by_scope_on_request() {
    let r = typed_history();
    let features = |section: &str| -> Vec<String> {
        section
            .split("### Features")
            .nth(1)
            .and_then(|s| s.split("###").next())
            .expect("features")
            .lines()
            .filter(|l| l.starts_with("- "))
            .map(|l| l.split(" (").next().unwrap_or(l).to_owned())
            .collect()
    };
    assert_eq!(
        features(&notes(&r, &[])),
        [
            "- **cli:** completions",
            "- **api:** search",
            "- **ui:** dark mode",
            "- **api:** autocomplete"
        ]
    );
    // By scope, then description (conventional-changelog's `['scope', 'subject']`).
    assert_eq!(
        features(&notes(&r, &[("sort-by-scope", "true")])),
        [
            "- **api:** autocomplete",
            "- **api:** search",
            "- **cli:** completions",
            "- **ui:** dark mode"
        ]
    );
    let section = notes(&r, &[("sort-by-scope", "true")]);
    let fixes: Vec<&str> = section
        .split("### Bug Fixes")
        .nth(1)
        .expect("fixes")
        .lines()
        .filter(|l| l.starts_with("- "))
        .collect();
    assert!(fixes[0].starts_with("- **parser:** tabs") && fixes[1].starts_with("- a crash"));
}

#[test]
fn squash_bodies_on_and_off_with_a_malformed_bullet() {
    let mut r = released();
    r.commit(
        "Update the parser (#12)\n\n\
         * feat(parser): read tabs\n\n\
         * WIP not conventional either\n\n\
         * this line is not conventional\n\n\
         * fix: crash on empty input\n\n\
         BREAKING CHANGE: empty input is an error now",
    )
    .commit("docs: typo (#13)\n\n* oops");
    // Off: the title is not conventional; nothing from the body.
    let off = notes(&r, &[]);
    assert!(!off.contains("read tabs"), "{off}");
    // On: each conventional bullet is an entry, the malformed ones are skipped.
    let out = r
        .run()
        .input("mode", "none")
        .input("repo-url", "none")
        .input("squash-bodies", "true")
        .go();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let on = out.output("changelog");
    assert_eq!(
        titles(on),
        ["Breaking Changes", "Features", "Bug Fixes"],
        "{on}"
    );
    assert!(on.contains("- **parser:** read tabs ("), "{on}");
    assert!(on.contains("- crash on empty input ("), "{on}");
    assert!(on.contains("empty input is an error now"), "{on}");
    assert!(!on.contains("WIP") && !on.contains("this line"), "{on}");
    // The docs commit with a malformed bullet is still counted as itself (docs: hidden).
    assert!(
        out.stdout
            .contains("2 commit(s): 1 shown, 1 of types without a section"),
        "{}",
        out.stdout
    );
}

#[test]
fn new_settings_name_the_input_when_wrong() {
    let r = typed_history();
    for (inputs, want) in [
        (
            vec![("types", "[{\"type\": \"feat\", \"title\": \"New\"}]")],
            "::error::input `types`: entry 1: unknown field `title`",
        ),
        (
            vec![("types", "missing.json")],
            "::error::input `types`: cannot read `",
        ),
        (
            vec![("types", "[]")],
            "::error::input `types`: the list of types is empty",
        ),
        (
            vec![("show-hidden", "true")],
            "::error::input `show-hidden` needs `types`",
        ),
    ] {
        let mut run = r.run().input("mode", "none");
        for (name, value) in &inputs {
            run = run.input(name, value);
        }
        let out = run.go();
        assert_eq!(out.code, 2, "{inputs:?}: {}", out.stdout);
        assert!(out.stdout.contains(want), "{inputs:?}: {}", out.stdout);
    }
}

#[test]
fn section_titles_from_the_setting_are_data() {
    let r = typed_history();
    let types = r##"[
      {"type": "feat", "section": "::error::boom <img src=x onerror=alert(1)> @everyone"},
      {"type": "fix", "section": "# Fixed\n::warning::two"}
    ]"##;
    for preset in ["keep-a-changelog", "angular", "github"] {
        let out = r
            .run()
            .input("mode", "none")
            .input("repo-url", "none")
            .input("preset", preset)
            .input("types", types)
            .go();
        assert_eq!(out.code, 0, "{}", out.stderr);
        let section = out.output("changelog");
        assert!(!section.contains("<img"), "{preset}: {section}");
        assert!(!section.contains("@everyone"), "{preset}: {section}");
        assert!(
            hub_kit::command::commands_in(section).is_empty(),
            "{preset}: {section}"
        );
        assert!(
            hub_kit::command::commands_in(&out.stdout)
                .iter()
                .all(|(c, _)| !matches!(c.as_str(), "error" | "warning")),
            "{preset}: {}",
            out.stdout
        );
        assert!(section.contains("Fixed"), "{preset}: {section}");
    }
}
