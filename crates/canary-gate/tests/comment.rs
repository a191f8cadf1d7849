//! `comment: true`: one sticky comment per pull request (or per commit, for runs no pull
//! request triggered) in the GitHub API stand-in, edited in place, with hostile metric names
//! escaped.

use std::path::Path;
use std::process::Command;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Everything the binary printed (progress goes to stderr outside Actions).
    fn log(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

fn gate(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hub-canary-gate"));
    cmd.current_dir(dir)
        .args(["--report", "report.json", "--comment"])
        .args(args);
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("INPUT_") || k.starts_with("GITHUB_") || k == "RUNNER_TEMP" {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().copied());
    let out = cmd.output().expect("runs");
    Run {
        code: out.status.code().expect("exit code"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn comments(state: &serde_json::Value) -> Vec<String> {
    state["repositories"]["octo/hello"]["comments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["body"].as_str().map(String::from))
        .collect()
}

#[test]
fn one_sticky_comment_per_pull_request_with_names_escaped() {
    let Some(server) = hub_github_standin::test_support::TestServer::start(&["octo/hello"]) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let event = dir.path().join("event.json");
    std::fs::write(
        &event,
        r#"{"action": "synchronize", "pull_request": {"number": 7, "title": "t",
            "head": {"sha": "1111111111111111111111111111111111111111", "ref": "feature"},
            "base": {"sha": "2222222222222222222222222222222222222222", "ref": "main"}}}"#,
    )
    .expect("event written");
    // A benchmark whose series name tries to break out of the table and the comment.
    let hostile = "p95 | <img src=x onerror=alert(1)> --> **bold**";
    let values = |scale: f64| {
        let xs: Vec<String> = (0..12)
            .map(|i| format!("{}", (100.0 + f64::from(i)) * scale))
            .collect();
        serde_json::json!({ hostile: xs.iter().map(|x| x.parse::<f64>().expect("number")).collect::<Vec<_>>() })
            .to_string()
    };
    std::fs::write(dir.path().join("baseline.json"), values(1.0)).expect("written");
    std::fs::write(dir.path().join("canary.json"), values(1.5)).expect("written");
    let event = event.to_str().expect("UTF-8 path");
    let env = [
        ("GITHUB_API_URL", server.url()),
        ("GITHUB_REPOSITORY", "octo/hello"),
        ("GITHUB_EVENT_NAME", "pull_request"),
        ("GITHUB_EVENT_PATH", event),
        ("GITHUB_TOKEN", "test-token"),
    ];

    // 1. A regressed benchmark: the comment is created.
    let first = gate(
        dir.path(),
        &[
            "--source",
            "file",
            "--canary-file",
            "canary.json",
            "--baseline-file",
            "baseline.json",
        ],
        &env,
    );
    assert_eq!(first.code, 1, "{}{}", first.stdout, first.stderr);
    assert!(
        first.log().contains("pull request #7 comment posted: "),
        "{}",
        first.log()
    );
    let state = server.state();
    let bodies = comments(&state);
    assert_eq!(bodies.len(), 1, "{state:#}");
    let body = &bodies[0];
    assert!(
        body.starts_with("<!-- hub-actions:canary-gate -->\n"),
        "{body}"
    );
    assert!(body.contains("### canary-gate: fail"), "{body}");
    // Outside code spans (where GitHub shows text literally) nothing is live HTML or
    // Markdown; the name is there, escaped.
    let mut live = String::new(); // the body without backslash-escaped characters
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            chars.next();
        } else {
            live.push(c);
        }
    }
    let outside_code: String = live.split('`').step_by(2).collect::<Vec<_>>().join(" ");
    assert!(
        !outside_code.contains("<img"),
        "HTML must be escaped: {body}"
    );
    assert!(
        !outside_code.contains("**bold**"),
        "Markdown must be escaped: {body}"
    );
    assert_eq!(
        outside_code.matches("-->").count(),
        1,
        "only the marker closes an HTML comment: {body}"
    );
    assert!(body.contains(r"\<img src\=x"), "{body}");
    assert!(
        body.contains(r"| `p95 \| <img"),
        "the table cell is a code span: {body}"
    );

    // 2. A progressive run on the simulator: the same comment is edited, now with the
    //    step timeline and the per-metric table of the built-in metrics.
    let second = gate(
        dir.path(),
        &[
            "--simulate",
            "7",
            "--interval",
            "1m",
            "--step-duration",
            "15m",
            "--steps",
            "5,10,25,50",
            "--max-duration",
            "60m",
        ],
        &env,
    );
    assert_eq!(second.code, 0, "{}{}", second.stdout, second.stderr);
    assert!(
        second.log().contains("pull request #7 comment updated: "),
        "{}",
        second.log()
    );
    let state = server.state();
    let bodies = comments(&state);
    assert_eq!(
        bodies.len(),
        1,
        "edited in place, not a second comment: {state:#}"
    );
    let body = &bodies[0];
    assert!(body.contains("### canary-gate: pass"), "{body}");
    assert!(body.contains("| `error-rate` |"), "{body}");
    assert!(body.contains("Step timeline:"), "{body}");
    assert!(
        body.contains("| 50 % |"),
        "watched through the last step: {body}"
    );
    assert!(
        !body.contains("xychart-beta"),
        "charts stay in the step summary: {body}"
    );

    // 3. The same run again changes nothing.
    let third = gate(
        dir.path(),
        &[
            "--simulate",
            "7",
            "--interval",
            "1m",
            "--step-duration",
            "15m",
            "--steps",
            "5,10,25,50",
            "--max-duration",
            "60m",
        ],
        &env,
    );
    assert!(
        third
            .log()
            .contains("pull request #7 comment left unchanged: "),
        "{}{}",
        third.stdout,
        third.stderr
    );
    server.assert_conforms();

    // 4. Not a pull request: no comment, no failure.
    let push = gate(
        dir.path(),
        &[
            "--simulate",
            "7",
            "--steps",
            "50",
            "--step-duration",
            "30m",
            "--max-duration",
            "30m",
        ],
        &[
            ("GITHUB_API_URL", server.url()),
            ("GITHUB_REPOSITORY", "octo/hello"),
            ("GITHUB_EVENT_NAME", "workflow_dispatch"),
            ("GITHUB_TOKEN", "test-token"),
        ],
    );
    assert!(
        push.log()
            .contains("no comment posted: the run is not for a pull request and names no commit"),
        "{}{}",
        push.stdout,
        push.stderr
    );
    assert_eq!(comments(&server.state()).len(), 1);
}

fn commit_comments(state: &serde_json::Value) -> Vec<(String, String)> {
    state["repositories"]["octo/hello"]["commit_comments"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c["commit_id"].as_str().unwrap_or_default().to_owned(),
                c["body"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn release_and_push_runs_keep_one_sticky_comment_on_the_commit() {
    let Some(server) = hub_github_standin::test_support::TestServer::start(&["octo/hello"]) else {
        return;
    };
    let head = server.state()["repositories"]["octo/hello"]["refs"]["refs/heads/main"]
        .as_str()
        .expect("main")
        .to_owned();
    let dir = tempfile::tempdir().expect("tempdir");
    // A release payload: `target_commitish` is a branch, so GITHUB_SHA names the commit.
    let event = dir.path().join("release.json");
    std::fs::write(
        &event,
        r#"{"action": "published", "release": {"tag_name": "v1.0.0", "target_commitish": "main"}}"#,
    )
    .expect("event written");
    let hostile = "p95 | <img src=x onerror=alert(1)> --> **bold**";
    let values = |scale: f64| {
        let xs: Vec<f64> = (0..12).map(|i| (100.0 + f64::from(i)) * scale).collect();
        serde_json::json!({ hostile: xs }).to_string()
    };
    std::fs::write(dir.path().join("baseline.json"), values(1.0)).expect("written");
    std::fs::write(dir.path().join("canary.json"), values(1.5)).expect("written");
    let args = [
        "--source",
        "file",
        "--canary-file",
        "canary.json",
        "--baseline-file",
        "baseline.json",
    ];
    let event = event.to_str().expect("UTF-8 path");
    let env = [
        ("GITHUB_API_URL", server.url()),
        ("GITHUB_REPOSITORY", "octo/hello"),
        ("GITHUB_EVENT_NAME", "release"),
        ("GITHUB_EVENT_PATH", event),
        ("GITHUB_SHA", head.as_str()),
        ("GITHUB_TOKEN", "test-token"),
    ];
    let first = gate(dir.path(), &args, &env);
    assert_eq!(first.code, 1, "{}", first.log());
    let short = &head[..7];
    assert!(
        first
            .log()
            .contains(&format!("commit {short} comment posted: ")),
        "{}",
        first.log()
    );
    let stored = commit_comments(&server.state());
    assert_eq!(stored.len(), 1, "{stored:?}");
    let (commit, body) = &stored[0];
    assert_eq!(commit, &head);
    assert!(
        body.starts_with("<!-- hub-actions:canary-gate -->\n"),
        "{body}"
    );
    // Outside code spans (shown literally) the hostile name is neither HTML nor Markdown.
    let mut live = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            chars.next();
        } else {
            live.push(c);
        }
    }
    let outside_code: String = live.split('`').step_by(2).collect::<Vec<_>>().join(" ");
    assert!(
        !outside_code.contains("<img"),
        "HTML must be escaped: {body}"
    );
    assert!(
        !outside_code.contains("**bold**"),
        "Markdown must be escaped: {body}"
    );
    assert_eq!(
        outside_code.matches("-->").count(),
        1,
        "only the marker closes an HTML comment: {body}"
    );
    assert!(
        comments(&server.state()).is_empty(),
        "no issue comment for a release"
    );

    // A push of the same commit, with a better canary: the same comment, edited in place.
    let push = dir.path().join("push.json");
    std::fs::write(
        &push,
        format!(r#"{{"ref": "refs/heads/main", "after": "{head}", "commits": []}}"#),
    )
    .expect("event written");
    std::fs::write(dir.path().join("canary.json"), values(1.0)).expect("written");
    let push = push.to_str().expect("UTF-8 path");
    let env = [
        ("GITHUB_API_URL", server.url()),
        ("GITHUB_REPOSITORY", "octo/hello"),
        ("GITHUB_EVENT_NAME", "push"),
        ("GITHUB_EVENT_PATH", push),
        ("GITHUB_TOKEN", "test-token"),
    ];
    let second = gate(dir.path(), &args, &env);
    assert!(
        second
            .log()
            .contains(&format!("commit {short} comment updated: ")),
        "{}",
        second.log()
    );
    let again = commit_comments(&server.state());
    assert_eq!(again.len(), 1, "{again:?}");
    assert_ne!(again[0].1, stored[0].1, "the verdict changed");
    let third = gate(dir.path(), &args, &env);
    assert!(
        third
            .log()
            .contains(&format!("commit {short} comment left unchanged: ")),
        "{}",
        third.log()
    );
    assert_eq!(commit_comments(&server.state()), again);
    server.assert_conforms();
}
