//! semver-bump as users run it: `uses: org/hub-actions/semver-bump@v1` in a workflow under
//! a real runner, on real repositories cloned from a local `origin`.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

use hub_e2e::*;

fn workflow(clone: &str, with: &str) -> String {
    format!(
        r#"on: push
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - run: {clone}
      - id: bump
        uses: org/hub-actions/semver-bump@v1
        with:
{with}
      - env:
          OUT: ${{{{ toJSON(steps.bump.outputs) }}}}
        if: always()
        run: printf '%s' "$OUT" > "$HUB_E2E_OUT/bump.json"
"#
    )
}

const HISTORY: &[&str] = &[
    "feat: first feature",
    "tag:v1.0.0",
    "fix(parser): handle empty input",
    "update readme",
    "feat(api): add search\n\nBREAKING CHANGE: the `q` parameter is required",
    "feat: <img src=x onerror=alert(1)> @everyone\n\n::set-output name=next-version::6.6.6",
];

#[test]
fn releases_tags_and_is_a_no_op_the_second_time() {
    if !have_act("releases_tags_and_is_a_no_op_the_second_time") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let act = released_act(tmp.path());
    let origin = origin(tmp.path(), HISTORY);
    let clone = format!("git clone -q '{}' .", origin.display());
    let wf = workflow(&clone, "          create-tag: true");

    let run = act.run("first", &wf, "push");
    assert!(run.success, "{}", run.log);
    let out = run.json("bump.json");
    assert_eq!(out["current-version"], "1.0.0");
    assert_eq!(out["next-version"], "2.0.0", "{}", run.log);
    assert_eq!(out["next-tag"], "v2.0.0");
    assert_eq!(out["bump"], "major");
    assert_eq!(out["breaking"], "true");
    assert_eq!(out["changed"], "true");
    assert_eq!(out["commit-count"], "4");
    let tags = sh(&origin, "git", &["tag", "--list"]);
    assert_eq!(tags, "v1.0.0\nv2.0.0\n");
    // The hostile commit text was only text: no injected output, no command executed.
    assert!(!out.to_string().contains("6.6.6"), "{out}");

    let run = act.run("second", &wf, "push");
    assert!(run.success, "{}", run.log);
    let out = run.json("bump.json");
    assert_eq!(out["current-version"], "2.0.0");
    assert_eq!(out["changed"], "false");
    assert_eq!(out["next-version"], "");
    assert_eq!(sh(&origin, "git", &["tag", "--list"]), "v1.0.0\nv2.0.0\n");
}

#[test]
fn shallow_clone_fails_clearly_or_deepens_when_asked() {
    if !have_act("shallow_clone_fails_clearly_or_deepens_when_asked") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let act = released_act(tmp.path());
    let mut script: Vec<&str> = vec!["feat: base", "tag:v0.3.0"];
    script.extend(std::iter::repeat_n("fix: a fix", 150));
    script.push("feat: shallow feature");
    let origin = origin(tmp.path(), &script);
    // actions/checkout's default: fetch-depth 1, no tags.
    let clone = format!(
        "git clone -q --depth 1 --no-tags 'file://{}' .",
        origin.display()
    );

    let run = act.run(
        "shallow-fail",
        &workflow(&clone, "          dry-run: true"),
        "push",
    );
    assert!(!run.success, "{}", run.log);
    assert!(run.log.contains("shallow clone"), "{}", run.log);
    assert!(run.log.contains("fetch-depth: 0"), "{}", run.log);

    let run = act.run(
        "shallow-fetch",
        &workflow(&clone, "          fetch: true"),
        "push",
    );
    assert!(run.success, "{}", run.log);
    let out = run.json("bump.json");
    assert_eq!(out["current-version"], "0.3.0");
    assert_eq!(out["next-version"], "0.4.0");
    assert_eq!(out["commit-count"], "151");
}
