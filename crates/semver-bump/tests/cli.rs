//! hub-semver-bump as a process: real repositories, the runner's files, and the GitHub API
//! stand-in (checked against GitHub's OpenAPI description) for the PR preview comment.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use hub_github_standin::test_support::TestServer;
use hub_testkit::bin::Action;

const BIN: &str = env!("CARGO_BIN_EXE_hub-semver-bump");

fn git(dir: &Path, args: &[&str]) -> String {
    hub_testkit::git::git(dir, args)
}

fn commit(dir: &Path, message: &str) {
    let n = git(dir, &["rev-list", "--all", "--count"])
        .trim()
        .parse::<u32>()
        .unwrap_or(0)
        + 1;
    std::fs::write(dir.join("f.txt"), n.to_string()).unwrap();
    git(dir, &["add", "f.txt"]);
    let date = format!("2024-02-{:02}T08:00:00Z", n.min(28));
    hub_testkit::git::run(
        hub_testkit::git::command(dir, &date).args(["commit", "-q", "-F", "-"]),
        Some(message.as_bytes()),
    );
}

fn repo(dir: &Path, messages: &[&str]) -> PathBuf {
    let r = dir.join("repo");
    std::fs::create_dir_all(&r).unwrap();
    git(&r, &["init", "-q", "-b", "main"]);
    for m in messages {
        if let Some(tag) = m.strip_prefix("tag:") {
            git(&r, &["tag", tag]);
        } else {
            commit(&r, m);
        }
    }
    r
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
    outputs: Vec<(String, String)>,
    summary: String,
}

impl Out {
    fn get(&self, name: &str) -> &str {
        self.outputs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no output `{name}`: {:?}", self.outputs))
    }
}

/// Runs the binary as the runner would (`hub_testkit::bin`): `GITHUB_ACTIONS=true`, fresh
/// output and summary files, the repository as `repository-path`, and `env` on top.
fn run(dir: &Path, env: &[(&str, &str)]) -> Out {
    let files = tempfile::tempdir_in(dir).unwrap();
    let (mut cmd, written) = Action::new(BIN, files.path())
        .env("HOME", dir)
        .env("INPUT_REPOSITORY-PATH", dir.join("repo"))
        .command(&[], "");
    cmd.envs(env.iter().copied());
    let run = written.finish(&cmd.output().unwrap());
    Out {
        code: run.code.unwrap(),
        outputs: run.outputs.into_iter().collect(),
        stdout: run.stdout,
        stderr: run.stderr,
        summary: run.summary,
    }
}

#[test]
fn computes_outputs_and_summary() {
    let tmp = tempfile::tempdir().unwrap();
    repo(
        tmp.path(),
        &[
            "feat: base",
            "tag:v1.2.0",
            "fix: a",
            "feat(api): b",
            "chore: c",
            "just words",
        ],
    );
    let out = run(tmp.path(), &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.get("current-version"), "1.2.0");
    assert_eq!(out.get("next-version"), "1.3.0");
    assert_eq!(out.get("bump"), "minor");
    assert_eq!(out.get("commit-count"), "4");
    assert!(out.get("notes").contains("b"));
    assert!(
        out.summary.contains("| Next version | **`v1.3.0`** |"),
        "{}",
        out.summary
    );
    assert!(out.summary.contains("just words"), "{}", out.summary);
}

#[test]
fn usage_and_failures_have_clear_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("repo")).unwrap();
    let out = run(tmp.path(), &[]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains("::error::") && out.stdout.contains("is not inside a git repository"),
        "{}",
        out.stdout
    );

    repo(tmp.path(), &["feat: x"]);
    let out = run(tmp.path(), &[("INPUT_DRY-RUN", "yes")]);
    assert_eq!(out.code, 2);
    // In Actions a usage error is an annotation, on stdout like every workflow command.
    assert!(
        out.stdout.starts_with("::error::")
            && out.stdout.contains("input `dry-run` must be a boolean"),
        "{}{}",
        out.stdout,
        out.stderr
    );

    let out = run(tmp.path(), &[("INPUT_RELEASE-AS", "one")]);
    assert_eq!(out.code, 2);
    assert!(
        out.stdout
            .contains("input `release-as` is not a semantic version"),
        "{}",
        out.stdout
    );

    let out = run(tmp.path(), &[("INPUT_CREATE-RELEASE", "true")]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("needs a token"), "{}", out.stdout);
}

/// Every value a workflow can get wrong is a usage error (exit 2, as `--help` says and as
/// release-pr answers for the same inputs): one line naming the input and the value.
#[test]
fn bad_values_are_usage_errors_naming_the_input() {
    let tmp = tempfile::tempdir().unwrap();
    repo(tmp.path(), &["feat: x"]);
    for (input, value, says) in [
        (
            "FORCE",
            "huge",
            "input `force`: unknown release type `huge`",
        ),
        (
            "RELEASE-AS",
            "1.x",
            "input `release-as` is not a semantic version",
        ),
        (
            "INITIAL-VERSION",
            "one",
            "input `initial-version` is not a semantic version",
        ),
        (
            "BUMP-RULES",
            "docs",
            "input `bump-rules`: expected `type=level`",
        ),
        (
            "BUMP-RULES",
            "docs=huge",
            "input `bump-rules`: unknown release type `huge`",
        ),
        ("PRERELEASE", "rc 1", "input `prerelease`"),
        (
            "PATH",
            "/srv/api",
            "input `path`: `/srv/api` is outside the repository",
        ),
        (
            "PATH",
            "../api",
            "input `path`: `../api` is outside the repository",
        ),
    ] {
        let out = run(tmp.path(), &[(&format!("INPUT_{input}"), value)]);
        assert_eq!(out.code, 2, "{input}={value}: {}{}", out.stdout, out.stderr);
        let first = out.stdout.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("::error::") && first.contains(says) && !first.contains("%0A"),
            "{input}={value}: {}",
            out.stdout
        );
    }
    // A fresh `git init` has no `HEAD` commit: said in one line.
    let empty = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(empty.path().join("repo")).unwrap();
    git(&empty.path().join("repo"), &["init", "-q", "-b", "main"]);
    let out = run(empty.path(), &[]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains(
            "::error::input `to`: `HEAD` is not a commit in this repository (has it any commits yet?)"
        ),
        "{}",
        out.stdout
    );
    // A revision that is not in the repository names the input it came from.
    for (input, says) in [
        ("TO", "input `to`: `nope`"),
        ("FROM", "input `from`: `nope`"),
    ] {
        let out = run(tmp.path(), &[(&format!("INPUT_{input}"), "nope")]);
        assert_eq!(out.code, 1, "{input}: {}{}", out.stdout, out.stderr);
        assert!(out.stdout.contains(says), "{input}: {}", out.stdout);
    }
}

/// A `path` no commit touches (misspelt) releases nothing;
/// the log says no commit touched it rather than that none was a feature or a fix.
#[test]
fn a_path_no_commit_touches_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    repo(tmp.path(), &["feat: x", "tag:v0.1.0", "fix: y"]);
    let out = run(tmp.path(), &[("INPUT_PATH", "sevices/api")]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.get("changed"), "false");
    assert!(
        out.stdout
            .contains("nothing to release: no commit since v0.1.0 touches `sevices/api`"),
        "{}",
        out.stdout
    );
    // Commits that touch it but release nothing keep the usual line.
    let out = run(tmp.path(), &[]);
    assert_eq!(out.get("changed"), "true");
}

/// `create-tag` in a repository without `origin` (a laptop's) makes the tag and says it was
/// not pushed, instead of staying silent about the push the input promises.
#[test]
fn a_tag_without_origin_says_it_stays_local() {
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(tmp.path(), &["feat: x"]);
    let out = run(tmp.path(), &[("INPUT_CREATE-TAG", "true")]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(git(&r, &["tag"]).trim(), "v0.1.0");
    assert!(
        out.stdout
            .contains("no `origin` remote: tag v0.1.0 is only in this repository"),
        "{}",
        out.stdout
    );
}

#[test]
fn nothing_to_release_is_not_a_failure() {
    let tmp = tempfile::tempdir().unwrap();
    repo(
        tmp.path(),
        &["feat: x", "tag:v0.1.0", "docs: y", "chore: z"],
    );
    let out = run(tmp.path(), &[]);
    assert_eq!(out.code, 0);
    assert_eq!(out.get("changed"), "false");
    assert_eq!(out.get("next-version"), "");
    assert_eq!(out.get("bump"), "none");
}

#[test]
fn pull_request_preview_comment_is_sticky_and_escaped() {
    let Some(server) = TestServer::start(&["octo/app"]) else {
        return;
    };
    server.set_pull_request("octo/app", 7, Vec::new()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(
        tmp.path(),
        &[
            "feat: base",
            "tag:v1.0.0",
            "fix: <script>alert(1)</script> for @everyone [x](javascript:alert(1))",
        ],
    );
    let event = tmp.path().join("event.json");
    let head = git(&r, &["rev-parse", "HEAD"]).trim().to_string();
    std::fs::write(
        &event,
        serde_json::json!({"action": "synchronize", "number": 7, "pull_request": {"number": 7, "title": "t",
            "head": {"sha": head, "ref": "feature"}, "base": {"sha": head, "ref": "main"}}})
        .to_string(),
    )
    .unwrap();
    let token = "ghs_secretTOKEN123";
    let env = [
        ("GITHUB_API_URL", server.url()),
        ("GITHUB_REPOSITORY", "octo/app"),
        ("GITHUB_TOKEN", token),
        ("GITHUB_EVENT_NAME", "pull_request"),
        ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
        ("INPUT_COMMENT", "true"),
    ];
    let comments = |server: &TestServer| -> Vec<serde_json::Value> {
        server.state()["repositories"]["octo/app"]["comments"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|c| c["issue_number"] == 7)
            .collect()
    };

    let first = run(tmp.path(), &env);
    assert_eq!(first.code, 0, "{}{}", first.stdout, first.stderr);
    let after_first = comments(&server);
    assert_eq!(after_first.len(), 1, "{:#}", server.state());
    let body = after_first[0]["body"].as_str().unwrap().to_string();
    assert!(
        body.starts_with("<!-- hub-actions:semver-bump -->"),
        "{body}"
    );
    assert!(
        body.contains("semver-bump preview") && body.contains("`v1.0.1`"),
        "{body}"
    );
    assert!(
        !body.contains("<script>")
            && !body.contains("@everyone")
            && !body.contains("[x](javascript"),
        "{body}"
    );

    // A new push: the same comment is edited, not a second one added.
    commit(&r, "feat: new thing");
    let second = run(tmp.path(), &env);
    assert_eq!(second.code, 0, "{}{}", second.stdout, second.stderr);
    let after_second = comments(&server);
    assert_eq!(after_second.len(), 1);
    assert_ne!(after_second[0]["body"], after_first[0]["body"]);
    assert!(
        after_second[0]["body"]
            .as_str()
            .unwrap()
            .contains("`v1.1.0`")
    );

    // The token is only ever handed to the runner's masking command.
    for out in [&first, &second] {
        for line in out.stdout.lines().chain(out.stderr.lines()) {
            assert!(
                !line.contains(token) || line == format!("::add-mask::{token}"),
                "token leaked: {line}"
            );
        }
    }
    server.assert_conforms();
}

#[test]
fn tags_releases_and_moves_the_major_tag_once() {
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(
        tmp.path(),
        &[
            "feat: base",
            "tag:v1.0.0",
            "fix: crash on empty input",
            "feat(api): add search (#42)",
        ],
    );
    let origin = tmp.path().join("origin.git");
    git(
        tmp.path(),
        &[
            "clone",
            "-q",
            "--bare",
            r.to_str().unwrap(),
            origin.to_str().unwrap(),
        ],
    );
    git(&r, &["remote", "add", "origin", origin.to_str().unwrap()]);
    // GitHub knows the repository as it was pushed: mirror it into the stand-in.
    let Some(server) = TestServer::start(&[]) else {
        return;
    };
    server.import_git("octo/app", &origin).unwrap();
    let head = git(&r, &["rev-parse", "HEAD"]).trim().to_string();
    let env = [
        ("GITHUB_API_URL", server.url()),
        ("GITHUB_SERVER_URL", "https://github.example.com"),
        ("GITHUB_REPOSITORY", "octo/app"),
        ("GITHUB_EVENT_NAME", "push"),
        ("INPUT_TOKEN", "ghs_releaseTOKEN"),
        ("INPUT_CREATE-TAG", "true"),
        ("INPUT_CREATE-RELEASE", "true"),
        ("INPUT_UPDATE-MAJOR-TAG", "true"),
    ];
    let first = run(tmp.path(), &env);
    assert_eq!(first.code, 0, "{}{}", first.stdout, first.stderr);
    assert_eq!(first.get("next-tag"), "v1.1.0");
    let url = first.get("release-url").to_string();
    assert!(url.contains("/octo/app/releases/tag/"), "{url}");
    // The annotated tag reached origin; the release and the moving `v1` are on GitHub.
    assert_eq!(git(&origin, &["rev-parse", "v1.1.0^{commit}"]).trim(), head);
    let state = server.state();
    let repo_state = &state["repositories"]["octo/app"];
    let releases: Vec<&serde_json::Value> = repo_state["releases"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_else(|| {
            repo_state["releases"]
                .as_object()
                .unwrap()
                .values()
                .collect()
        });
    assert_eq!(releases.len(), 1, "{repo_state:#}");
    assert_eq!(releases[0]["tag_name"], "v1.1.0");
    let body = releases[0]["body"].as_str().unwrap();
    assert!(
        body.contains("add search")
            && body.contains("https://github.example.com/octo/app/issues/42"),
        "{body}"
    );
    assert_eq!(
        repo_state["refs"]["refs/tags/v1"],
        head.as_str(),
        "{repo_state:#}"
    );

    // Re-run on the released commit: nothing new, the existing release is reported.
    let second = run(tmp.path(), &env);
    assert_eq!(second.code, 0, "{}{}", second.stdout, second.stderr);
    assert_eq!(second.get("changed"), "false");
    assert_eq!(second.get("release-url"), url);
    let state = server.state();
    let repo_state = &state["repositories"]["octo/app"];
    let count = repo_state["releases"]
        .as_array()
        .map(Vec::len)
        .unwrap_or_else(|| repo_state["releases"].as_object().unwrap().len());
    assert_eq!(count, 1);
    server.assert_conforms();
}

#[test]
fn last_release_is_the_highest_reachable_tag_whatever_the_ref_layout() {
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(
        tmp.path(),
        &[
            "feat: base",
            "tag:v1.0.0",
            "fix: one",
            "tag:api@9.0.0",
            "tag:latest",
        ],
    );
    // A higher pre-release on a branch HEAD does not contain.
    git(&r, &["checkout", "-q", "-b", "next"]);
    commit(&r, "feat!: next generation");
    git(&r, &["tag", "-a", "-m", "rc", "v2.0.0-rc.1"]);
    git(&r, &["checkout", "-q", "main"]);
    commit(&r, "feat: two");
    let check = |what: &str, env: &[(&str, &str)], current: &str, next: &str, count: &str| {
        let out = run(tmp.path(), env);
        assert_eq!(out.code, 0, "{what}: {}{}", out.stdout, out.stderr);
        assert_eq!(out.get("current-version"), current, "{what}");
        assert_eq!(out.get("next-version"), next, "{what}");
        assert_eq!(out.get("commit-count"), count, "{what}");
    };
    // Loose refs; an unreachable highest tag: the step-by-step path answers.
    check("loose", &[], "1.0.0", "1.1.0", "2");
    // The quick path: the highest tag is reachable once the branch is gone.
    git(&r, &["tag", "-d", "v2.0.0-rc.1"]);
    git(&r, &["tag", "-a", "-m", "r", "v1.0.1", "HEAD~1"]);
    check("annotated, loose", &[], "1.0.1", "1.1.0", "1");
    git(&r, &["pack-refs", "--all"]);
    check("packed", &[], "1.0.1", "1.1.0", "1");
    check("to a tag", &[("INPUT_TO", "v1.0.1")], "1.0.1", "", "0");
    check("path", &[("INPUT_PATH", "f.txt")], "1.0.1", "1.1.0", "1");
    check(
        "no such path",
        &[("INPUT_PATH", "nothing/")],
        "1.0.1",
        "",
        "0",
    );
    // No version tag at all: the whole history.
    git(&r, &["tag", "-d", "v1.0.0", "v1.0.1"]);
    check("no tags", &[], "", "0.1.0", "3");
    let out = run(tmp.path(), &[("INPUT_TO", "no-such-ref")]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains("`no-such-ref` is not a commit"),
        "{}",
        out.stdout
    );
}

/// Hands `dir` to uid 12345 (`chown -R`); `false` when this process may not (not root),
/// after the skip rule (the reason on stderr, a failure under `CI`).
fn chown_to_another_user(dir: &Path) -> bool {
    let ok = Command::new("chown")
        .args(["-R", "12345:12345"])
        .arg(dir)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        hub_testkit::skip("cannot chown the test repository to another user (not root)");
    }
    ok
}

#[test]
fn a_repository_git_refuses_is_refused_with_gits_reason_until_it_is_trusted() {
    let tmp = tempfile::tempdir().unwrap();
    let r = repo(tmp.path(), &["feat: base", "tag:v1.0.0", "fix: one"]);
    if !chown_to_another_user(&r) {
        return;
    }
    let monorepo = [(
        "INPUT_PACKAGES",
        "- name: app\n  path: .\n  tag-pattern: v{version}\n",
    )];
    // Owned by another user, no `safe.directory`: git refuses it, and so do we, saying why.
    for env in [&[][..], &monorepo[..]] {
        let out = run(tmp.path(), env);
        assert_eq!(out.code, 1, "{env:?}: {}{}", out.stdout, out.stderr);
        let errors: Vec<_> = hub_kit::command::commands_in(&out.stdout)
            .into_iter()
            .filter(|(name, _)| name.starts_with("error"))
            .collect();
        assert_eq!(errors.len(), 1, "{env:?}: {}", out.stdout);
        assert!(
            errors[0].1.contains("detected dubious ownership"),
            "{env:?}: {}",
            out.stdout
        );
        assert!(out.outputs.is_empty(), "{env:?}: {:?}", out.outputs);
    }
    // Trusted through git's own configuration (here its environment form): read as usual.
    let trusted = [
        ("GIT_CONFIG_COUNT", "1"),
        ("GIT_CONFIG_KEY_0", "safe.directory"),
        ("GIT_CONFIG_VALUE_0", "*"),
    ];
    let out = run(tmp.path(), &trusted);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.get("current-version"), "1.0.0");
    assert_eq!(out.get("next-version"), "1.0.1");
    let mut env = trusted.to_vec();
    env.extend(monorepo);
    let out = run(tmp.path(), &env);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.get("next-version"), "1.0.1");
}
