//! The starter workflow `workflows/release.yml` itself, run end to end under a real runner
//! (act) against generated repositories, with the GitHub API stand-in mirroring the origin:
//! a good release (CHANGELOG.md committed once, tag pushed, GitHub release with the notes),
//! nothing to release (a clean skip that changes nothing), and a broken config that stops the
//! release before anything is written. And `workflows/pr.yml`'s PR-title check on good, bad
//! and hostile titles.
//!
//! The workflow file is run as users copy it, with one documented substitution (see
//! [`release_workflow`]): its pinned `actions/checkout` step, which needs github.com, becomes
//! a `git clone` of the test's origin.
//!
//! "GitHub" here is two things kept in step: the bare `origin` repository the workflow clones
//! and pushes to, and the stand-in serving the REST API. A `post-receive` hook in `origin`
//! waits while the test mirrors the pushed repository into the stand-in
//! ([`TestServer::import_git`]), so a pushed tag or commit is known to the API before the
//! push returns — as on GitHub.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hub_e2e::*;
use hub_github_standin::test_support::TestServer;
use serde_json::Value;

/// `workflows/release.yml` as it runs here (see [`with_local_checkout`]).
fn release_workflow() -> String {
    with_local_checkout(
        &std::fs::read_to_string(workspace().join("workflows/release.yml")).unwrap(),
    )
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(workspace().join("fixtures/validate-config").join(name)).unwrap()
}

fn git_commit(repo: &Path, message: &str, n: usize) {
    let date = format!("2024-02-{:02}T10:00:00Z", 1 + (n % 28));
    let status = Command::new("git")
        .current_dir(repo)
        .args(["commit", "-q", "--allow-empty", "-F", "-"])
        .env("GIT_AUTHOR_DATE", &date)
        .env("GIT_COMMITTER_DATE", &date)
        .env("GIT_AUTHOR_NAME", "Ada")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_COMMITTER_NAME", "Ada")
        .env("GIT_COMMITTER_EMAIL", "ada@example.com")
        .stdin(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(message.as_bytes())?;
            c.wait()
        })
        .unwrap();
    assert!(status.success());
}

/// A bare origin of a repository with `config/app.yaml` (checked against
/// `config/schema.json`), then the commits of `history` (`tag:NAME` tags the previous one),
/// with a `post-receive` hook that waits for `<origin>.pushed` to be removed.
fn app_origin(tmp: &Path, name: &str, config: &str, history: &[&str]) -> PathBuf {
    let work = tmp.join(format!("work-{name}"));
    std::fs::create_dir_all(work.join("config")).unwrap();
    sh(&work, "git", &["init", "-q", "-b", "main"]);
    std::fs::write(work.join("config/schema.json"), fixture("schema.json")).unwrap();
    std::fs::write(work.join("config/app.yaml"), config).unwrap();
    sh(&work, "git", &["add", "-A"]);
    git_commit(&work, "chore: add the app config", 0);
    for (n, step) in history.iter().enumerate() {
        if let Some(tag) = step.strip_prefix("tag:") {
            sh(&work, "git", &["tag", tag]);
        } else {
            std::fs::write(work.join("file.txt"), format!("{n}\n")).unwrap();
            sh(&work, "git", &["add", "file.txt"]);
            git_commit(&work, step, n + 1);
        }
    }
    let bare = tmp.join(format!("origin-{name}.git"));
    let (w, b) = (work.display().to_string(), bare.display().to_string());
    sh(tmp, "git", &["clone", "-q", "--bare", &w, &b]);
    let hook = bare.join("hooks/post-receive");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\n# The push reached GitHub: wait until the test has mirrored it into the stand-in.\npending='{}'\n: > \"$pending\"\ni=0\nwhile [ -e \"$pending\" ]; do\n  i=$((i + 1))\n  if [ \"$i\" -gt 600 ]; then echo 'post-receive: the stand-in was not updated' >&2; exit 1; fi\n  sleep 0.1\ndone\n",
            pending_marker(&bare).display()
        ),
    )
    .unwrap();
    sh(tmp, "chmod", &["+x", &hook.display().to_string()]);
    bare
}

fn pending_marker(origin: &Path) -> PathBuf {
    origin.with_extension("pushed")
}

/// Runs `f` while every push to `origin` is mirrored into `repository` on the stand-in.
fn mirroring<R>(server: &TestServer, repository: &str, origin: &Path, f: impl FnOnce() -> R) -> R {
    server.import_git(repository, origin).unwrap();
    let done = AtomicBool::new(false);
    let marker = pending_marker(origin);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                if marker.exists() {
                    server.import_git(repository, origin).unwrap();
                    std::fs::remove_file(&marker).unwrap();
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        let result = f();
        done.store(true, Ordering::Relaxed);
        result
    })
}

fn releases(server: &TestServer, repository: &str) -> Vec<Value> {
    let state = server.state();
    let r = &state["repositories"][repository]["releases"];
    match r {
        Value::Array(a) => a.clone(),
        Value::Object(m) => m.values().cloned().collect(),
        _ => Vec::new(),
    }
}

fn git_out(repo: &Path, args: &[&str]) -> String {
    sh(repo, "git", args)
}

/// The `push` payload GitHub sends for the last commit on `main` of `origin` (act makes up
/// an empty one outside a git repository, and the actions read `ref`, `before` and `after`).
fn push_event(tmp: &Path, origin: &Path, name: &str) -> PathBuf {
    let after = git_out(origin, &["rev-parse", "main"]).trim().to_string();
    let before = git_out(origin, &["rev-parse", "main~1"]).trim().to_string();
    let message = git_out(origin, &["log", "-1", "--format=%B", "main"]);
    let payload = serde_json::json!({
        "ref": "refs/heads/main",
        "before": before,
        "after": after,
        "created": false,
        "deleted": false,
        "forced": false,
        "commits": [{ "id": after, "message": message.trim_end() }],
    });
    let path = tmp.join(format!("push-{name}.json"));
    std::fs::write(&path, payload.to_string()).unwrap();
    path
}

/// A runner set up for `repository` on the stand-in, cloning `origin`.
fn act_for(tmp: &Path, server: &TestServer, repository: &str, origin: &Path) -> Act {
    let mut act = released_act(tmp);
    act.env("GITHUB_API_URL", server.url())
        .env("GITHUB_REPOSITORY", repository)
        // `token: ${{ secrets.RELEASE_TOKEN || github.token }}` is empty under act (no
        // secrets); semver-bump then reads GITHUB_TOKEN, as it does on GitHub.
        .env("GITHUB_TOKEN", "ghs_e2eTOKEN")
        .env("HUB_E2E_ORIGIN", &origin.display().to_string());
    act
}

#[test]
fn release_workflow_releases_once_and_then_skips() {
    if !have_act("release_workflow_releases_once_and_then_skips") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let origin = app_origin(
        tmp.path(),
        "app",
        &fixture("valid/config.yaml"),
        &[
            "feat: first feature",
            "tag:v0.1.0",
            "fix(parser): handle empty input (#12)",
            "feat(api): add search\n\nCloses #15",
            "docs: explain the config",
        ],
    );
    // Build and pack the suite first: the stand-in stops by itself when idle.
    let _ = release_bins();
    let Some(server) = TestServer::start(&[]) else {
        return;
    };
    let act = act_for(tmp.path(), &server, "octo/app", &origin);
    let workflow = release_workflow();
    let before = git_out(&origin, &["rev-parse", "main"]);

    let run = mirroring(&server, "octo/app", &origin, || {
        act.run_event(
            "first",
            &workflow,
            "push",
            &push_event(tmp.path(), &origin, "first"),
        )
    });
    assert!(run.success, "{}", run.log);

    // CHANGELOG.md: one release commit on top of the old main, one section for 0.2.0.
    let log = git_out(&origin, &["log", "--format=%s", "main"]);
    assert_eq!(log.lines().next(), Some("chore(release): 0.2.0"), "{log}");
    assert_eq!(
        git_out(&origin, &["rev-parse", "main~1"]),
        before,
        "exactly one commit was added"
    );
    let touched = git_out(
        &origin,
        &["log", "--format=%H", "main", "--", "CHANGELOG.md"],
    );
    assert_eq!(touched.lines().count(), 1, "{touched}");
    let changelog = git_out(&origin, &["show", "main:CHANGELOG.md"]);
    assert_eq!(
        changelog.matches("## [0.2.0]").count() + changelog.matches("## 0.2.0").count(),
        1,
        "{changelog}"
    );
    assert!(changelog.contains("add search"), "{changelog}");
    assert!(changelog.contains("handle empty input"), "{changelog}");

    // The tag is on the release commit, in origin and on the API.
    let head = git_out(&origin, &["rev-parse", "main"]);
    assert_eq!(git_out(&origin, &["rev-parse", "v0.2.0^{commit}"]), head);
    assert_eq!(git_out(&origin, &["tag", "--list"]), "v0.1.0\nv0.2.0\n");
    let state = server.state();
    assert!(
        state["repositories"]["octo/app"]["refs"]["refs/tags/v0.2.0"].is_string(),
        "{:#}",
        state["repositories"]["octo/app"]["refs"]
    );

    // One GitHub release, for the tag, with the notes as its body.
    let found = releases(&server, "octo/app");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0]["tag_name"], "v0.2.0");
    assert_eq!(found[0]["prerelease"], false);
    let body = found[0]["body"].as_str().unwrap();
    assert!(
        body.contains("add search") && body.contains("handle empty input"),
        "{body}"
    );
    assert!(
        !body.contains("explain the config"),
        "docs are not in the notes: {body}"
    );
    eprintln!(
        "release {} on the stand-in, body:\n{body}\nCHANGELOG.md on origin/main:\n{changelog}",
        found[0]["tag_name"]
    );

    // Run again on the released commit: nothing is releasable; nothing changes.
    let run = mirroring(&server, "octo/app", &origin, || {
        act.run_event(
            "second",
            &workflow,
            "push",
            &push_event(tmp.path(), &origin, "second"),
        )
    });
    assert!(run.success, "{}", run.log);
    assert_eq!(git_out(&origin, &["rev-parse", "main"]), head);
    assert_eq!(git_out(&origin, &["tag", "--list"]), "v0.1.0\nv0.2.0\n");
    assert_eq!(releases(&server, "octo/app").len(), 1);
    server.assert_conforms();
}

#[test]
fn release_workflow_skips_when_nothing_is_releasable() {
    if !have_act("release_workflow_skips_when_nothing_is_releasable") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let origin = app_origin(
        tmp.path(),
        "docs",
        &fixture("valid/config.yaml"),
        &[
            "feat: first feature",
            "tag:v1.0.0",
            "docs: explain the config",
            "chore: tidy",
        ],
    );
    let _ = release_bins();
    let Some(server) = TestServer::start(&[]) else {
        return;
    };
    let act = act_for(tmp.path(), &server, "octo/docs", &origin);
    let before = git_out(&origin, &["rev-parse", "main"]);
    let run = mirroring(&server, "octo/docs", &origin, || {
        act.run_event(
            "docs",
            &release_workflow(),
            "push",
            &push_event(tmp.path(), &origin, "docs"),
        )
    });
    assert!(
        run.success,
        "nothing to release is not a failure:\n{}",
        run.log
    );
    assert_eq!(git_out(&origin, &["rev-parse", "main"]), before);
    assert_eq!(git_out(&origin, &["tag", "--list"]), "v1.0.0\n");
    assert!(
        Command::new("git")
            .current_dir(&origin)
            .args(["cat-file", "-e", "main:CHANGELOG.md"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| !s.success()),
        "a CHANGELOG.md was committed"
    );
    assert!(releases(&server, "octo/docs").is_empty());
    server.assert_conforms();
}

#[test]
fn a_broken_config_stops_the_release() {
    if !have_act("a_broken_config_stops_the_release") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let origin = app_origin(
        tmp.path(),
        "broken",
        &fixture("invalid/unknown-key.yaml"),
        &["feat: first feature", "tag:v0.1.0", "feat(api): add search"],
    );
    let _ = release_bins();
    let Some(server) = TestServer::start(&[]) else {
        return;
    };
    let act = act_for(tmp.path(), &server, "octo/broken", &origin);
    let before = git_out(&origin, &["rev-parse", "main"]);
    let run = mirroring(&server, "octo/broken", &origin, || {
        act.run_event(
            "broken",
            &release_workflow(),
            "push",
            &push_event(tmp.path(), &origin, "broken"),
        )
    });
    assert!(!run.success, "a broken config was released:\n{}", run.log);
    assert!(
        run.log.contains("unknown property `timout`"),
        "validate-config did not say why:\n{}",
        run.log
    );
    assert_eq!(
        git_out(&origin, &["rev-parse", "main"]),
        before,
        "main moved"
    );
    assert_eq!(
        git_out(&origin, &["tag", "--list"]),
        "v0.1.0\n",
        "a tag was pushed"
    );
    assert!(releases(&server, "octo/broken").is_empty());
    server.assert_conforms();
}

/// `workflows/pr.yml` as it runs here (see [`with_local_checkout`]).
fn pr_workflow() -> String {
    with_local_checkout(&std::fs::read_to_string(workspace().join("workflows/pr.yml")).unwrap())
}

/// The `pull_request` payload GitHub sends for PR #7 of `octo/app` from branch `topic`.
fn pull_request_event(tmp: &Path, origin: &Path, name: &str, title: &str) -> PathBuf {
    let payload = serde_json::json!({
        "action": "edited",
        "number": 7,
        "pull_request": {
            "number": 7,
            "title": title,
            "head": { "sha": git_out(origin, &["rev-parse", "topic"]).trim(), "ref": "topic",
                      "repo": { "full_name": "octo/app" } },
            "base": { "sha": git_out(origin, &["rev-parse", "main"]).trim(), "ref": "main",
                      "repo": { "full_name": "octo/app" } },
        },
    });
    let path = tmp.join(format!("pr-{name}.json"));
    std::fs::write(&path, payload.to_string()).unwrap();
    path
}

/// Points `topic` in `origin` at a commit on top of `main` whose `config/app.yaml` is
/// `config` and whose message is `message`.
fn push_topic(tmp: &Path, origin: &Path, config: &str, message: &str, n: usize) {
    let work = tmp.join(format!("topic-{n}"));
    let (o, w) = (origin.display().to_string(), work.display().to_string());
    sh(tmp, "git", &["clone", "-q", &o, &w]);
    sh(
        &work,
        "git",
        &["checkout", "-q", "-B", "topic", "origin/main"],
    );
    std::fs::write(work.join("config/app.yaml"), config).unwrap();
    std::fs::write(work.join("search.txt"), format!("{n}\n")).unwrap();
    sh(&work, "git", &["add", "-A"]);
    git_commit(&work, message, n);
    sh(&work, "git", &["push", "-q", "-f", "origin", "topic"]);
}

#[test]
fn pr_workflow_checks_configs_and_the_title_with_sticky_comments() {
    if !have_act("pr_workflow_checks_configs_and_the_title_with_sticky_comments") {
        return;
    }
    let Some(server) = TestServer::start(&["octo/app"]) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let origin = app_origin(
        tmp.path(),
        "app",
        &fixture("valid/config.yaml"),
        &["feat: first release", "tag:v1.0.0"],
    );
    std::fs::remove_file(origin.join("hooks/post-receive")).unwrap();
    let pwned = tmp.path().join("pwned");
    // 1. A PR whose config is broken and whose title is not a Conventional Commit (and is
    //    hostile: HTML, a mention, a workflow command, shell syntax).
    push_topic(
        tmp.path(),
        &origin,
        &fixture("invalid/unknown-key.yaml"),
        "feat(api): add search",
        1,
    );
    server.set_pull_request("octo/app", 7, Vec::new()).unwrap();
    let mut act = released_act(tmp.path());
    act.repository("octo/app")
        .env("GITHUB_API_URL", server.url())
        .env("GITHUB_REPOSITORY", "octo/app")
        .env("GITHUB_TOKEN", "ghs_e2eTOKEN")
        .env("HUB_E2E_ORIGIN", &origin.display().to_string())
        .env("HUB_E2E_REF", "topic");
    let hostile = format!(
        "Add search <img src=x onerror=alert(1)> @everyone ::error::x $(touch {})",
        pwned.display()
    );
    let event = pull_request_event(tmp.path(), &origin, "bad", &hostile);
    let run = act.run_event("bad", &pr_workflow(), "pull_request", &event);
    assert!(
        !run.success,
        "a broken config and a bad title passed:\n{}",
        run.log
    );
    assert!(!pwned.exists(), "the title ran as a command");
    let comments = |s: &TestServer| -> Vec<String> {
        s.state()["repositories"]["octo/app"]["comments"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter(|c| c["issue_number"] == 7)
            .map(|c| c["body"].as_str().unwrap().to_string())
            .collect()
    };
    let find = |all: &[String], marker: &str| -> String {
        let found: Vec<&String> = all.iter().filter(|b| b.contains(marker)).collect();
        assert_eq!(found.len(), 1, "one `{marker}` comment: {all:#?}");
        found[0].clone()
    };
    let first = comments(&server);
    assert_eq!(first.len(), 2, "{first:#?}\n{}", run.log);
    let config = find(&first, "<!-- hub-actions:validate-config -->");
    assert!(config.contains("timout"), "{config}");
    let preview = find(&first, "<!-- hub-actions:semver-bump -->");
    assert!(preview.contains("v1.1.0"), "{preview}");
    assert!(preview.contains("edit the title"), "{preview}");
    // Inert: HTML only backslash-escaped, the mention broken, no workflow command.
    let raw_html = preview
        .match_indices("<img")
        .any(|(i, _)| !preview[..i].ends_with('\\'));
    assert!(!raw_html, "raw HTML in the comment:\n{preview}");
    for bad in ["@everyone", "::error::"] {
        assert!(!preview.contains(bad), "`{bad}` in the comment:\n{preview}");
    }
    assert!(
        run.log
            .contains("The pull request title is not a Conventional Commit"),
        "{}",
        run.log
    );

    // 2. The config fixed and the title edited: both checks pass, each comment is edited
    //    in place, and the fix-it section is gone.
    push_topic(
        tmp.path(),
        &origin,
        &fixture("valid/config.yaml"),
        "feat(api): add search",
        2,
    );
    let event = pull_request_event(tmp.path(), &origin, "good", "feat(api): add search");
    let run = act.run_event("good", &pr_workflow(), "pull_request", &event);
    assert!(run.success, "{}", run.log);
    let second = comments(&server);
    assert_eq!(second.len(), 2, "{second:#?}");
    let preview = find(&second, "<!-- hub-actions:semver-bump -->");
    assert!(preview.contains("v1.1.0"), "{preview}");
    assert!(!preview.contains("edit the title"), "{preview}");
    assert_ne!(
        find(&second, "<!-- hub-actions:validate-config -->"),
        config
    );
    server.assert_conforms();
}

/// `workflows/perf-gate.yml` as it runs here, plus one step (test only) that keeps the
/// gate's outputs.
fn perf_gate_workflow() -> String {
    let text = with_local_checkout(
        &std::fs::read_to_string(workspace().join("workflows/perf-gate.yml")).unwrap(),
    );
    format!(
        "{}\n\n      - if: always()\n        env:\n          OUT: ${{{{ toJSON(steps.gate.outputs) }}}}\n        run: printf '%s' \"$OUT\" > \"$HUB_E2E_OUT/gate.json\"\n",
        text.trim_end()
    )
}

/// A `bench/run` that prints these p95 values, one per run, as the workflow expects.
fn bench_script(values: &[f64]) -> String {
    let list: Vec<String> = values.iter().map(|v| format!("{v:.4}")).collect();
    format!(
        "#!/bin/sh\nprintf '{{\"p95\": [{}]}}\\n'\n",
        list.join(", ")
    )
}

/// Ten runs around `p95` seconds with about 1 % run-to-run noise.
fn runs(p95: f64) -> Vec<f64> {
    [0.0, 1.5, -1.0, 0.5, -0.5, 1.0, 0.0, -1.5, 2.0, 0.0]
        .iter()
        .map(|pct| p95 * (1.0 + pct / 100.0))
        .collect()
}

#[test]
fn perf_gate_fails_a_p95_regression_and_passes_noise() {
    if !have_act("perf_gate_fails_a_p95_regression_and_passes_noise") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    std::fs::create_dir_all(work.join("bench")).unwrap();
    sh(&work, "git", &["init", "-q", "-b", "main"]);
    let write_bench = |values: &[f64]| {
        let path = work.join("bench/run");
        std::fs::write(&path, bench_script(values)).unwrap();
        sh(&work, "chmod", &["+x", &path.display().to_string()]);
        sh(&work, "git", &["add", "-A"]);
    };
    write_bench(&runs(0.200));
    git_commit(&work, "feat: the service", 0);
    let origin = tmp.path().join("origin.git");
    let (w, o) = (work.display().to_string(), origin.display().to_string());
    sh(tmp.path(), "git", &["clone", "-q", "--bare", &w, &o]);
    let mut act = released_act(tmp.path());
    act.env("HUB_E2E_ORIGIN", &o).env("HUB_E2E_REF", "topic");
    for (name, p95, ok) in [("slower", 0.260, false), ("same", 0.201, true)] {
        sh(&work, "git", &["checkout", "-q", "-B", "topic", "main"]);
        write_bench(&runs(p95));
        git_commit(&work, &format!("perf: {name}"), 1);
        sh(&work, "git", &["push", "-q", "-f", &o, "topic"]);
        sh(&work, "git", &["checkout", "-q", "main"]);
        let payload = serde_json::json!({
            "action": "synchronize",
            "number": 9,
            "pull_request": {
                "number": 9,
                "title": format!("perf: {name}"),
                "head": { "sha": git_out(&origin, &["rev-parse", "topic"]).trim(), "ref": "topic" },
                "base": { "sha": git_out(&origin, &["rev-parse", "main"]).trim(), "ref": "main" },
            },
        });
        let event = tmp.path().join(format!("perf-{name}.json"));
        std::fs::write(&event, payload.to_string()).unwrap();
        let run = act.run_event(name, &perf_gate_workflow(), "pull_request", &event);
        assert_eq!(run.success, ok, "{name}:\n{}", run.log);
        let out = run.json("gate.json");
        let (verdict, failed) = if ok { ("pass", "") } else { ("fail", "p95") };
        assert_eq!(out["verdict"], verdict, "{name}: {out}\n{}", run.log);
        assert_eq!(out["failed-metrics"], failed, "{name}: {out}");
    }
}
