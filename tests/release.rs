//! The release chain as users wire it: semver-bump (compute) → conventional-changelog
//! (prepend CHANGELOG.md, commit) → semver-bump (tag), under a real runner. Run twice: the
//! second run releases nothing and changes nothing.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

use hub_e2e::*;

const WORKFLOW: &str = r#"on: push
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - run: git clone -q "$HUB_E2E_ORIGIN" .
      - id: bump
        uses: org/hub-actions/semver-bump@v1
      - id: changelog
        if: steps.bump.outputs.changed == 'true'
        uses: org/hub-actions/conventional-changelog@v1
        with:
          release-version: ${{ steps.bump.outputs.next-version }}
          repo-url: none
          commit: true
      - id: tag
        if: steps.bump.outputs.changed == 'true'
        uses: org/hub-actions/semver-bump@v1
        with:
          create-tag: true
      - if: always()
        env:
          BUMP: ${{ toJSON(steps.bump.outputs) }}
          CHANGELOG: ${{ toJSON(steps.changelog.outputs) }}
          TAG: ${{ toJSON(steps.tag.outputs) }}
        run: |
          printf '%s' "$BUMP" > "$HUB_E2E_OUT/bump.json"
          printf '%s' "$CHANGELOG" > "$HUB_E2E_OUT/changelog.json"
          printf '%s' "$TAG" > "$HUB_E2E_OUT/tag.json"
"#;

#[test]
fn release_chain_updates_the_changelog_exactly_once() {
    if !have_act("release_chain_updates_the_changelog_exactly_once") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut act = released_act(tmp.path());
    let origin = origin(
        tmp.path(),
        &[
            "feat: first feature",
            "tag:v0.1.0",
            "fix(parser): handle empty input (#12)",
            "feat(api): add search\n\nCloses #15",
            "docs: explain the config",
            "feat: <script>alert(1)</script> for @everyone\n\n::set-output name=version::6.6.6",
        ],
    );
    act.env("HUB_E2E_ORIGIN", &origin.display().to_string());

    let run = act.run("first", WORKFLOW, "push");
    assert!(run.success, "{}", run.log);
    assert_eq!(run.json("bump.json")["next-version"], "0.2.0");
    assert_eq!(run.json("changelog.json")["changed"], "true");
    assert_eq!(run.json("tag.json")["next-tag"], "v0.2.0");

    let log = sh(&origin, "git", &["log", "--format=%s", "main"]);
    assert_eq!(log.lines().next(), Some("chore(release): 0.2.0"), "{log}");
    let changelog = sh(&origin, "git", &["show", "main:CHANGELOG.md"]);
    assert_eq!(
        changelog.matches("## [0.2.0]").count() + changelog.matches("## 0.2.0").count(),
        1,
        "{changelog}"
    );
    assert!(changelog.contains("handle empty input"), "{changelog}");
    assert!(!changelog.contains("<script>"), "{changelog}");
    assert!(!changelog.contains("@everyone"), "{changelog}");
    // The tag is on the release commit.
    let tagged = sh(&origin, "git", &["rev-parse", "v0.2.0^{commit}"]);
    let head = sh(&origin, "git", &["rev-parse", "main"]);
    assert_eq!(tagged, head);

    let run = act.run("second", WORKFLOW, "push");
    assert!(run.success, "{}", run.log);
    assert_eq!(run.json("bump.json")["changed"], "false");
    assert_eq!(
        sh(&origin, "git", &["rev-parse", "main"]),
        head,
        "the second run changed main"
    );
    assert_eq!(sh(&origin, "git", &["tag", "--list"]), "v0.1.0\nv0.2.0\n");
}
