//! validate-config as users run it: a pull-request workflow under a real runner on a
//! repository with the broken example configs gets annotations at the right lines, one
//! sticky comment (in the GitHub API stand-in) that is updated when the files are fixed,
//! and a failing step; the fixed repository passes with `valid=true`.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

use std::path::Path;

use hub_e2e::*;
use hub_github_standin::test_support::TestServer;

const WORKFLOW: &str = r#"on: pull_request
jobs:
  validate:
    runs-on: ubuntu-latest
    steps:
      - run: git clone -q "$HUB_E2E_ORIGIN" .
      - id: validate
        uses: org/hub-actions/validate-config@v1
        with:
          schema-map: |
            config/*.yaml: config/schema.json
          files: config/*.yaml
          offline: true
          comment: true
          token: e2e-token
      - if: always()
        env:
          OUT: ${{ toJSON(steps.validate.outputs) }}
        run: printf '%s' "$OUT" > "$HUB_E2E_OUT/validate.json"
"#;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(workspace().join("fixtures/validate-config").join(name)).unwrap()
}

fn config_repo(dir: &Path, files: &[(&str, String)]) -> std::path::PathBuf {
    let work = dir.join("work");
    if !work.exists() {
        std::fs::create_dir_all(work.join("config")).unwrap();
        sh(&work, "git", &["init", "-q", "-b", "main"]);
    }
    std::fs::write(work.join("config/schema.json"), fixture("schema.json")).unwrap();
    for f in std::fs::read_dir(work.join("config")).unwrap().flatten() {
        if f.file_name() != "schema.json" {
            std::fs::remove_file(f.path()).unwrap();
        }
    }
    for (name, text) in files {
        std::fs::write(work.join("config").join(name), text).unwrap();
    }
    sh(&work, "git", &["add", "-A"]);
    sh(
        &work,
        "git",
        &[
            "-c",
            "user.name=e2e",
            "-c",
            "user.email=e2e@example.com",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "test: configs",
        ],
    );
    let bare = dir.join("origin.git");
    let _ = std::fs::remove_dir_all(&bare);
    let (w, b) = (work.display().to_string(), bare.display().to_string());
    sh(dir, "git", &["clone", "-q", "--bare", &w, &b]);
    bare
}

#[test]
fn pull_request_gets_annotations_and_a_sticky_comment() {
    if !have_act("pull_request_gets_annotations_and_a_sticky_comment") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // Build and pack the suite first: the stand-in stops by itself when idle.
    let mut act = released_act(tmp.path());
    let Some(server) = TestServer::start(&["octo/app"]) else {
        return;
    };
    server.set_pull_request("octo/app", 3, Vec::new()).unwrap();
    let event = tmp.path().join("event.json");
    std::fs::write(
        &event,
        r#"{"action":"opened","number":3,"pull_request":{"number":3,"title":"configs","head":{"sha":"0000000000000000000000000000000000000001","ref":"f"},"base":{"sha":"0000000000000000000000000000000000000002","ref":"main"}}}"#,
    )
    .unwrap();
    act.env("GITHUB_API_URL", server.url())
        .env("GITHUB_REPOSITORY", "octo/app");

    let origin = config_repo(
        tmp.path(),
        &[
            ("unknown-key.yaml", fixture("invalid/unknown-key.yaml")),
            ("same-models.yaml", fixture("invalid/same-models.yaml")),
        ],
    );
    act.env("HUB_E2E_ORIGIN", &origin.display().to_string());
    let run = act.run_event("broken", WORKFLOW, "pull_request", &event);
    assert!(!run.success, "broken configs passed:\n{}", run.log);
    let out = run.json("validate.json");
    assert_eq!(out["valid"], "false", "{}", run.log);
    assert_eq!(out["files-checked"], "2");
    // The unknown key `timout` is on line 6, column 3 of unknown-key.yaml.
    assert!(
        run.log.contains("file=config/unknown-key.yaml,line=6,endLine=6,col=3,endColumn=9::unknown property `timout`; did you mean `timeout`?"),
        "no annotation at the key:\n{}",
        run.log
    );
    let comments = |s: &TestServer| -> Vec<String> {
        s.state()["repositories"]["octo/app"]["comments"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter(|c| c["issue_number"] == 3)
            .map(|c| c["body"].as_str().unwrap().to_string())
            .collect()
    };
    let first = comments(&server);
    assert_eq!(first.len(), 1, "{:#}", server.state());
    assert!(first[0].contains("timout"), "{}", first[0]);

    // Fixed: exit 0, valid=true, and the same comment now says so.
    let origin = config_repo(tmp.path(), &[("app.yaml", fixture("valid/config.yaml"))]);
    act.env("HUB_E2E_ORIGIN", &origin.display().to_string());
    let run = act.run_event("fixed", WORKFLOW, "pull_request", &event);
    assert!(run.success, "{}", run.log);
    let out = run.json("validate.json");
    assert_eq!(out["valid"], "true");
    assert_eq!(out["error-count"], "0");
    let second = comments(&server);
    assert_eq!(second.len(), 1, "a second comment was added");
    assert_ne!(second[0], first[0]);
    server.assert_conforms();
}
