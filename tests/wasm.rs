//! The WebAssembly build against the native one: each action run twice on the same generated
//! repository and files — once by the native binary, once by `node actions/wasm/run.mjs` —
//! and everything the runner sees compared byte for byte: exit code, stdout (annotations
//! included), stderr, `$GITHUB_OUTPUT`, the step summary, the files the action wrote, and
//! what reached the GitHub stand-in. Run on the machine's Node (20) and on Node 24
//! (`HUB_NODE24`, which `.ci/run` installs from the npm package `node@24`).
//!
//! The two runs happen one after the other in the same directory (rebuilt between them), so
//! absolute paths are equal; commits and tags have fixed dates, so their ids are equal. What
//! is random by design — heredoc delimiters, stop-commands tokens, the stand-in's port — is
//! replaced by a placeholder before comparing, and so are the ids of commits the stand-in
//! makes itself (a release PR's verified commit): GitHub dates them with its own clock, so
//! two runs seconds apart give them different ids. Their message, tree, parents and author
//! are compared.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use hub_e2e::workspace;
use hub_github_standin::test_support::TestServer;

const ACTIONS: [&str; 5] = [
    "semver-bump",
    "conventional-changelog",
    "validate-config",
    "canary-gate",
    "release-pr",
];

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(workspace());
    cmd
}

/// The native binaries (debug, as the crates' own tests run them).
fn native_bins() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let mut cmd = cargo();
        cmd.args(["build", "--quiet"]);
        for action in ACTIONS {
            cmd.args(["-p", action]);
        }
        assert!(cmd.status().expect("cargo runs").success(), "native build");
        hub_e2e::target_dir().join("debug")
    })
}

/// The WebAssembly module the release ships: the multi-call `hub` without its native-only
/// actions, the `wasm` profile (the release's, optimised for size), then `wasm-opt -O1` with
/// the features release.yml's wasm job and `.ci/run` give it (Debian's binaryen; without it,
/// the skip rule and the module as built).
fn wasm_module() -> &'static Path {
    static MODULE: OnceLock<PathBuf> = OnceLock::new();
    MODULE.get_or_init(|| {
        let mut cmd = cargo();
        cmd.args([
            "build",
            "--quiet",
            "--locked",
            "--profile",
            "wasm",
            "--target",
            "wasm32-wasip1",
            "-p",
            "hub",
            "--no-default-features",
        ]);
        assert!(cmd.status().expect("cargo runs").success(), "wasm build");
        let built = hub_e2e::target_dir().join("wasm32-wasip1/wasm/hub.wasm");
        if !hub_testkit::have_tool("wasm-opt", "Debian: apt-get install binaryen") {
            return built;
        }
        let optimised = built.with_file_name("hub.opt.wasm");
        let status = Command::new("wasm-opt")
            .args([
                "-O1",
                "--enable-bulk-memory",
                "--enable-sign-ext",
                "--enable-nontrapping-float-to-int",
                "--enable-mutable-globals",
                "--enable-simd",
            ])
            .arg(&built)
            .arg("-o")
            .arg(&optimised)
            .status()
            .expect("wasm-opt runs");
        assert!(status.success(), "wasm-opt -O1");
        optimised
    })
}

/// The Nodes to run the module on: the machine's, and Node 24 from `HUB_NODE24`.
fn nodes() -> Vec<PathBuf> {
    let mut found = Vec::new();
    if hub_testkit::have_tool("node", "Debian: apt-get install nodejs") {
        found.push(PathBuf::from("node"));
    }
    match std::env::var_os("HUB_NODE24").filter(|v| !v.is_empty()) {
        Some(path) => found.push(PathBuf::from(path)),
        None => hub_testkit::skip(
            "Node 24 not given (HUB_NODE24: .ci/run installs the npm package node@24)",
        ),
    }
    found
}

#[derive(Clone, Copy, Debug)]
enum Engine<'a> {
    Native,
    Wasm(&'a Path),
}

/// What the runner sees of one run.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    code: i32,
    stdout: String,
    stderr: String,
    output: String,
    summary: String,
    files: BTreeMap<String, String>,
    github: String,
}

/// Runs `action` in `dir/repo` as the runner would, with `env` (the stand-in's URL already
/// in), and reads back what it produced, `written` files (relative to the repository) too.
fn run(
    engine: Engine,
    dir: &Path,
    action: &str,
    env: &[(String, String)],
    written: &[&str],
) -> Seen {
    let out = dir.join("out");
    std::fs::create_dir_all(out.join("tmp")).expect("out dir");
    let repo = dir.join("repo");
    let mut cmd = match engine {
        Engine::Native => Command::new(native_bins().join(format!("hub-{action}"))),
        Engine::Wasm(node) => {
            let mut cmd = Command::new(node);
            cmd.arg(workspace().join("actions/wasm/run.mjs"))
                .arg(action)
                .env("HUB_WASM_MODULE", wasm_module());
            cmd
        }
    };
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("INPUT_") || k.starts_with("GITHUB_") || k == "RUNNER_TEMP" || k == "CI" {
            cmd.env_remove(k);
        }
    }
    cmd.current_dir(&repo)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_WORKSPACE", &repo)
        .env("GITHUB_OUTPUT", out.join("output"))
        .env("GITHUB_STEP_SUMMARY", out.join("summary.md"))
        .env("RUNNER_TEMP", out.join("tmp"))
        // Tags the action makes get the same date (and so the same id) on both runs.
        .env("GIT_COMMITTER_DATE", "2025-01-02T03:04:05Z")
        .env("GIT_AUTHOR_DATE", "2025-01-02T03:04:05Z")
        .envs(env.iter().map(|(k, v)| (k, v)));
    let ran = cmd.output().expect("the action starts");
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    Seen {
        code: ran.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&ran.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&ran.stderr).into_owned(),
        output: read(&out.join("output")),
        summary: read(&out.join("summary.md")),
        files: written
            .iter()
            .map(|f| ((*f).to_owned(), read(&repo.join(f))))
            .collect(),
        github: String::new(),
    }
}

/// Replaces what is random by design with placeholders: heredoc delimiters
/// (`name<<delimiter`), stop-commands tokens, `url` (the stand-in's), and each of `made`
/// (ids of the commits the stand-in made with its clock) by `<commitN>`.
fn normalise(text: &str, url: &str, made: &[String]) -> String {
    let mut tokens = Vec::new();
    for line in text.lines() {
        if let Some(token) = line.strip_prefix("::stop-commands::") {
            tokens.push(token.to_owned());
        } else if let Some((name, token)) = line.split_once("<<")
            && !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            tokens.push(token.to_owned());
        }
    }
    let mut text = if url.is_empty() {
        text.to_owned()
    } else {
        text.replace(url, "<api>")
    };
    for (i, token) in tokens.iter().enumerate() {
        if !token.is_empty() {
            text = text.replace(token.as_str(), &format!("<token{i}>"));
        }
    }
    for (i, id) in made.iter().enumerate() {
        text = text.replace(id.as_str(), &format!("<commit{i}>"));
        // Abbreviated: git's and GitHub's 7 to 12 characters.
        for len in (7..id.len()).rev() {
            text = text.replace(&id[..len], &format!("<short{i}>"));
        }
    }
    text
}

impl Seen {
    fn normalised(mut self, url: &str, made: &[String]) -> Seen {
        self.stdout = normalise(&self.stdout, url, made);
        self.stderr = normalise(&self.stderr, url, made);
        self.output = normalise(&self.output, url, made);
        self.summary = normalise(&self.summary, url, made);
        for v in self.files.values_mut() {
            *v = normalise(v, url, made);
        }
        self.github = normalise(&self.github, url, made);
        self
    }
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Ada")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_COMMITTER_NAME", "Ada")
        .env("GIT_COMMITTER_EMAIL", "ada@example.com")
        .env("GIT_AUTHOR_DATE", "2024-05-06T07:08:09Z")
        .env("GIT_COMMITTER_DATE", "2024-05-06T07:08:09Z")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `dir/repo` with `messages` as commits (`tag:NAME` tags the last one; the first commit
/// also takes the files a setup wrote before) and a bare
/// `dir/origin.git` it pushes to.
fn history(dir: &Path, messages: &[&str]) {
    let repo = dir.join("repo");
    std::fs::create_dir_all(&repo).expect("repo dir");
    git(&repo, &["init", "-q", "-b", "main"]);
    for (i, m) in messages.iter().enumerate() {
        if let Some(tag) = m.strip_prefix("tag:") {
            git(&repo, &["tag", tag]);
        } else {
            std::fs::write(repo.join("file.txt"), format!("{i}\n")).expect("write");
            git(&repo, &["add", "-A"]);
            git(&repo, &["commit", "-q", "-m", m]);
        }
    }
    let origin = dir.join("origin.git");
    git(
        dir,
        &[
            "clone",
            "-q",
            "--bare",
            repo.to_str().expect("utf-8"),
            origin.to_str().expect("utf-8"),
        ],
    );
    git(
        &repo,
        &["remote", "add", "origin", origin.to_str().expect("utf-8")],
    );
}

/// A scenario: builds its files in a fresh directory, names the env of the run and the files
/// to compare, and what of the stand-in's state to compare (a projection of it).
struct Scenario<'a> {
    action: &'a str,
    setup: &'a dyn Fn(&Path),
    env: Vec<(&'a str, &'a str)>,
    written: Vec<&'a str>,
    github: Option<&'a dyn Fn(&serde_json::Value) -> String>,
}

/// The ids of the stand-in's commits, in its state dump.
fn commit_ids(state: &serde_json::Value) -> std::collections::BTreeSet<String> {
    state["repositories"]["octo/app"]["commits"]
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

/// The commits the stand-in made during the run (not in `before`), in an order that does
/// not depend on their ids: by message, then tree.
fn made_during(
    state: &serde_json::Value,
    before: &std::collections::BTreeSet<String>,
) -> Vec<String> {
    let commits = &state["repositories"]["octo/app"]["commits"];
    let mut made: Vec<(String, String, String)> = commit_ids(state)
        .into_iter()
        .filter(|id| !before.contains(id))
        .map(|id| {
            let c = &commits[&id];
            (c["message"].to_string(), c["tree"].to_string(), id)
        })
        .collect();
    made.sort();
    made.into_iter().map(|(_, _, id)| id).collect()
}

/// Runs the scenario natively and on every Node, and asserts every run saw the same; returns
/// the native run (normalised) for the scenario's own checks.
fn same_everywhere(s: &Scenario) -> Option<Seen> {
    let nodes = nodes();
    if !nodes.is_empty() {
        // Built before any stand-in starts: one left idle through the build stops itself.
        wasm_module();
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("w");
    let mut engines = vec![Engine::Native];
    engines.extend(nodes.iter().map(|n| Engine::Wasm(n)));
    let mut native: Option<Seen> = None;
    for engine in engines {
        if dir.exists() {
            std::fs::remove_dir_all(&dir).expect("clean");
        }
        std::fs::create_dir_all(&dir).expect("dir");
        (s.setup)(&dir);
        let server = if s.github.is_some() {
            let server = TestServer::start(&[])?;
            server
                .import_git("octo/app", &dir.join("origin.git"))
                .expect("import");
            Some(server)
        } else {
            None
        };
        let url = server
            .as_ref()
            .map(|s| s.url().to_owned())
            .unwrap_or_default();
        let before = server
            .as_ref()
            .map(|s| commit_ids(&s.state()))
            .unwrap_or_default();
        let mut env: Vec<(String, String)> = s
            .env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        if server.is_some() {
            env.push(("GITHUB_API_URL".into(), url.clone()));
            env.push(("GITHUB_REPOSITORY".into(), "octo/app".into()));
        }
        let mut seen = run(engine, &dir, s.action, &env, &s.written);
        let mut made = Vec::new();
        if let (Some(server), Some(project)) = (&server, s.github) {
            let state = server.state();
            seen.github = project(&state);
            made = made_during(&state, &before);
            server.assert_conforms();
        }
        let seen = seen.normalised(&url, &made);
        match &native {
            None => native = Some(seen),
            Some(expected) => {
                assert_eq!(
                    &seen, expected,
                    "{} under {engine:?} differs from the native run",
                    s.action
                );
            }
        }
    }
    native
}

fn releases_and_tags(state: &serde_json::Value) -> String {
    let repo = &state["repositories"]["octo/app"];
    let releases: Vec<serde_json::Value> = match &repo["releases"] {
        serde_json::Value::Array(a) => a.clone(),
        serde_json::Value::Object(o) => o.values().cloned().collect(),
        _ => Vec::new(),
    };
    let releases: Vec<String> = releases
        .iter()
        .map(|r| {
            format!(
                "{} {} draft={} prerelease={}\n{}",
                r["tag_name"], r["name"], r["draft"], r["prerelease"], r["body"]
            )
        })
        .collect();
    let refs: BTreeMap<String, String> = repo["refs"]
        .as_object()
        .map(|o| o.iter().map(|(k, v)| (k.clone(), v.to_string())).collect())
        .unwrap_or_default();
    format!("{releases:#?}\n{refs:#?}")
}

fn comments(state: &serde_json::Value) -> String {
    state["repositories"]["octo/app"]["comments"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| format!("{}\n{}\n", c["issue_number"], c["body"]))
        .collect()
}

#[test]
fn semver_bump_tags_and_releases_the_same_from_webassembly() {
    let setup = |dir: &Path| {
        history(
            dir,
            &[
                "feat: base",
                "tag:v1.0.0",
                "fix: crash on empty input",
                "feat(api): add search (#42)",
            ],
        );
    };
    let Some(seen) = same_everywhere(&Scenario {
        action: "semver-bump",
        setup: &setup,
        env: vec![
            ("GITHUB_SERVER_URL", "https://github.example.com"),
            ("GITHUB_EVENT_NAME", "push"),
            ("INPUT_TOKEN", "ghs_releaseTOKEN"),
            ("INPUT_CREATE-TAG", "true"),
            ("INPUT_CREATE-RELEASE", "true"),
            ("INPUT_UPDATE-MAJOR-TAG", "true"),
        ],
        written: vec![],
        github: Some(&releases_and_tags),
    }) else {
        return;
    };
    assert_eq!(seen.code, 0, "{seen:#?}");
    assert!(seen.output.contains("\nv1.1.0\n"), "{}", seen.output);
    assert!(seen.github.contains("refs/tags/v1.1.0"), "{}", seen.github);
    assert!(seen.github.contains("add search"), "{}", seen.github);
}

#[test]
fn conventional_changelog_writes_the_same_file_from_webassembly() {
    let setup = |dir: &Path| {
        history(
            dir,
            &[
                "feat: base",
                "tag:v1.0.0",
                "fix(parser): crash on empty input",
                "feat!: drop the old flag\n\nBREAKING CHANGE: `--old` is gone",
                "docs: spelling",
            ],
        );
        std::fs::write(
            dir.join("repo/CHANGELOG.md"),
            "# Changelog\n\n## 1.0.0\n\n* base\n",
        )
        .expect("changelog");
    };
    let Some(seen) = same_everywhere(&Scenario {
        action: "conventional-changelog",
        setup: &setup,
        env: vec![
            ("INPUT_RELEASE-VERSION", "2.0.0"),
            ("INPUT_REPO-URL", "https://github.example.com/octo/app"),
            // The section's date: the same for every run, even across midnight.
            ("SOURCE_DATE_EPOCH", "1735787045"),
        ],
        written: vec!["CHANGELOG.md"],
        github: None,
    }) else {
        return;
    };
    assert_eq!(seen.code, 0, "{seen:#?}");
    let changelog = &seen.files["CHANGELOG.md"];
    assert!(
        changelog.contains("2.0.0") && changelog.contains("## 1.0.0"),
        "{changelog}"
    );
}

#[test]
fn validate_config_reports_and_comments_the_same_from_webassembly() {
    let setup = |dir: &Path| {
        history(dir, &["feat: base"]);
        let repo = dir.join("repo");
        std::fs::create_dir_all(repo.join("config")).expect("dir");
        std::fs::write(
            repo.join("schema.json"),
            r#"{"type":"object","required":["name","replicas"],"properties":{"name":{"type":"string"},"replicas":{"type":"integer","minimum":1}},"additionalProperties":false}"#,
        )
        .expect("schema");
        std::fs::write(repo.join("config/good.yaml"), "name: web\nreplicas: 2\n").expect("good");
        std::fs::write(
            repo.join("config/bad.yaml"),
            "name: \"::error::pwned\"\nreplicas: 0\nreplica: 1\n",
        )
        .expect("bad");
        std::fs::write(repo.join("config/broken.json"), "{\"name\": \"x\",\n").expect("broken");
        let event = dir.join("event.json");
        std::fs::write(
            &event,
            r#"{"action": "synchronize", "pull_request": {"number": 7, "title": "t",
                "head": {"sha": "1111111111111111111111111111111111111111", "ref": "feature"},
                "base": {"sha": "2222222222222222222222222222222222222222", "ref": "main"}}}"#,
        )
        .expect("event");
    };
    let Some(seen) = same_everywhere(&Scenario {
        action: "validate-config",
        setup: &setup,
        env: vec![
            ("INPUT_FILES", "config/**"),
            ("INPUT_SCHEMA", "schema.json"),
            ("INPUT_SARIF-FILE", "report.sarif"),
            ("INPUT_OFFLINE", "true"),
            ("INPUT_COMMENT", "true"),
            ("GITHUB_EVENT_NAME", "pull_request"),
            ("GITHUB_EVENT_PATH", "../event.json"),
            ("GITHUB_TOKEN", "test-token"),
        ],
        written: vec!["report.sarif"],
        github: Some(&comments),
    }) else {
        return;
    };
    assert_eq!(seen.code, 1, "{seen:#?}");
    assert!(
        seen.stdout.contains(",file=config/bad.yaml,"),
        "{}",
        seen.stdout
    );
    // The hostile value ran no workflow command of its own.
    let commands = hub_kit::command::commands_in(&seen.stdout);
    assert!(
        commands.iter().all(|(_, body)| !body.starts_with("pwned")),
        "{commands:?}"
    );
    assert!(
        seen.files["report.sarif"].contains("\"version\""),
        "{}",
        seen.files["report.sarif"]
    );
    assert!(
        seen.github.contains("<!-- hub-actions:validate-config -->"),
        "{}",
        seen.github
    );
}

#[test]
fn canary_gate_file_mode_judges_the_same_from_webassembly() {
    let fixtures = workspace().join("fixtures/canary-gate");
    let cases = [
        (
            "canary-bench-regressed.json",
            "baseline-bench.json",
            "p95: higher-is-worse, max-ratio=1.10",
        ),
        (
            "canary-bench-equal.json",
            "baseline-bench.json",
            "p95: higher-is-worse, max-ratio=1.10",
        ),
        (
            "canary-intervals.csv",
            "baseline-intervals.csv",
            "p95: max-ratio=1.10\nrps: lower-is-worse, max-ratio=1.05",
        ),
    ];
    for (canary, baseline, metrics) in cases {
        let canary = fixtures.join(canary).display().to_string();
        let baseline = fixtures.join(baseline).display().to_string();
        let setup = |dir: &Path| history(dir, &["feat: base"]);
        let Some(seen) = same_everywhere(&Scenario {
            action: "canary-gate",
            setup: &setup,
            env: vec![
                ("INPUT_SOURCE", "file"),
                ("INPUT_CANARY-FILE", &canary),
                ("INPUT_BASELINE-FILE", &baseline),
                ("INPUT_METRICS", metrics),
                ("INPUT_REPORT", "report.json"),
            ],
            written: vec!["report.json"],
            github: None,
        }) else {
            return;
        };
        assert!(seen.output.starts_with("verdict<<"), "{canary}: {seen:#?}");
    }
}

/// Without `RUNNER_TEMP` (a laptop, `node actions/wasm/run.mjs canary-gate …`), the default
/// report goes to the system's temporary directory — which WASI's standard library does not
/// have (`std::env::temp_dir` panics there): `$TMPDIR` is used, as natively.
#[test]
fn without_runner_temp_the_default_report_goes_to_tmpdir_from_webassembly() {
    let fixtures = workspace().join("fixtures/canary-gate");
    for node in nodes() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let scratch = tmp.path().join("scratch");
        std::fs::create_dir(&scratch).expect("scratch");
        let mut cmd = Command::new(&node);
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy().into_owned();
            if k.starts_with("INPUT_") || k.starts_with("GITHUB_") || k == "RUNNER_TEMP" {
                cmd.env_remove(k);
            }
        }
        let ran = cmd
            .arg(workspace().join("actions/wasm/run.mjs"))
            .arg("canary-gate")
            .env("HUB_WASM_MODULE", wasm_module())
            .env("TMPDIR", &scratch)
            .current_dir(tmp.path())
            .args(["--source", "file", "--canary-file"])
            .arg(fixtures.join("canary-bench-equal.json"))
            .arg("--baseline-file")
            .arg(fixtures.join("baseline-bench.json"))
            .args(["--metrics", "p95: higher-is-worse, max-ratio=1.10"])
            .output()
            .expect("node starts");
        let stderr = String::from_utf8_lossy(&ran.stderr);
        assert_eq!(ran.status.code(), Some(0), "{}: {stderr}", node.display());
        let reports: Vec<_> = std::fs::read_dir(&scratch)
            .expect("scratch")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            reports.len() == 1
                && reports[0].starts_with("hub-canary-gate-report-")
                && reports[0].ends_with(".json"),
            "{}: {reports:?} {stderr}",
            node.display()
        );
        let report = std::fs::read_to_string(scratch.join(&reports[0])).expect("report");
        assert!(report.contains("\"verdict\""), "{report}");
    }
}

/// The release pull request and its branch: each pull request's fields that are not the
/// stand-in's clock, the refs, and each commit the run made (message, tree, parents, author
/// and committer without their dates).
fn pulls_and_branch(state: &serde_json::Value) -> String {
    let repo = &state["repositories"]["octo/app"];
    let pulls: Vec<String> = repo["pulls"]
        .as_object()
        .map(|o| o.values().cloned().collect::<Vec<_>>())
        .or_else(|| repo["pulls"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .map(|p| {
            format!(
                "#{} {} [{}] {} <- {} draft={} labels={}\n{}",
                p["number"],
                p["title"],
                p["state"],
                p["base"],
                p["head"],
                p["draft"],
                p["labels"],
                p["body"]
            )
        })
        .collect();
    let refs = repo["refs"].to_string();
    let who = |c: &serde_json::Value| format!("{} <{}>", c["name"], c["email"]);
    // Keyed by content, not id: a commit the stand-in made has a different id on each run.
    let commits: BTreeMap<String, String> = repo["commits"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(id, c)| {
            (
                format!(
                    "tree {} parents {} author {} committer {}\n{}",
                    c["tree"],
                    c["parents"],
                    who(&c["author"]),
                    who(&c["committer"]),
                    c["message"]
                ),
                id.clone(),
            )
        })
        .collect();
    format!("{pulls:#?}\n{refs}\n{commits:#?}")
}

#[test]
fn release_pr_opens_the_same_pull_request_from_webassembly() {
    if std::env::var_os("HUB_GITHUB_GRAPHQL_SCHEMA").is_none_or(|v| v.is_empty()) {
        hub_testkit::skip(
            "release-pr commits through GraphQL: HUB_GITHUB_GRAPHQL_SCHEMA (GitHub's schema, see .ci/run) is not set",
        );
        return;
    }
    let setup = |dir: &Path| {
        let repo = dir.join("repo");
        std::fs::create_dir_all(repo.join("src")).expect("repo dir");
        std::fs::write(
            repo.join("Cargo.toml"),
            "[package]\nname = \"app\"\nversion = \"1.2.0\"\nedition = \"2021\"\n",
        )
        .expect("Cargo.toml");
        std::fs::write(
            repo.join("CHANGELOG.md"),
            "# Changelog\n\n## 1.2.0\n\n* start\n",
        )
        .expect("changelog");
        history(
            dir,
            &[
                "chore: start",
                "tag:v1.2.0",
                "feat(api): search (#42)",
                "fix: crash on empty input",
            ],
        );
    };
    let Some(seen) = same_everywhere(&Scenario {
        action: "release-pr",
        setup: &setup,
        env: vec![
            ("GITHUB_SERVER_URL", "https://github.example.com"),
            ("GITHUB_EVENT_NAME", "push"),
            ("GITHUB_REF", "refs/heads/main"),
            ("INPUT_TOKEN", "ghs_releaseTOKEN"),
            ("INPUT_RELEASE-BRANCH", "main"),
        ],
        written: vec![],
        github: Some(&pulls_and_branch),
    }) else {
        return;
    };
    assert_eq!(seen.code, 0, "{seen:#?}");
    assert!(seen.github.contains("1.3.0"), "{}", seen.github);
    assert!(
        seen.github.contains("refs/heads/hub-release/main"),
        "{}",
        seen.github
    );
    assert!(
        seen.github.contains("<commit0>"),
        "no commit made: {}",
        seen.github
    );
    assert!(
        seen.summary
            .contains("**opened** chore\\(main\\)\\: release 1\\.3\\.0"),
        "{}",
        seen.summary
    );
}

#[test]
fn a_hostile_input_gets_the_same_refusal_from_webassembly() {
    let setup = |dir: &Path| history(dir, &["feat: base", "tag:v1.0.0", "fix: two"]);
    let Some(seen) = same_everywhere(&Scenario {
        action: "semver-bump",
        setup: &setup,
        env: vec![
            ("INPUT_TAG-PREFIX", "v\n::error::pwned\n##[warning]pwned"),
            ("INPUT_RELEASE-AS", "not-a-version\n::set-output name=x::y"),
        ],
        written: vec![],
        github: None,
    }) else {
        return;
    };
    assert_ne!(seen.code, 0, "{seen:#?}");
    let commands = hub_kit::command::commands_in(&seen.stdout);
    assert!(
        commands
            .iter()
            .all(|(cmd, _)| cmd == "error" || cmd == "stop-commands"),
        "{commands:?}"
    );
    assert!(
        commands.iter().all(|(_, body)| !body.starts_with("pwned")),
        "{commands:?}"
    );
}

#[test]
fn prometheus_mode_under_webassembly_names_the_native_engine() {
    let nodes = nodes();
    let Some(node) = nodes.first() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    history(tmp.path(), &["feat: base"]);
    let seen = run(
        Engine::Wasm(node),
        tmp.path(),
        "canary-gate",
        &[
            ("INPUT_SOURCE".into(), "prometheus".into()),
            ("INPUT_PROMETHEUS-URL".into(), "http://127.0.0.1:9/".into()),
        ],
        &[],
    );
    assert_eq!(seen.code, 1, "{seen:#?}");
    assert!(
        seen.stdout
            .contains("runs only natively: use `engine: native`"),
        "{seen:#?}"
    );
}

/// The smallest module that panics the way Rust's `panic = "abort"` does: `_start` runs
/// `unreachable`.
fn trapping_module() -> Vec<u8> {
    let mut m = b"\0asm\x01\0\0\0".to_vec();
    // type section: one type () -> ()
    m.extend([0x01, 0x04, 0x01, 0x60, 0x00, 0x00]);
    // function section: one function of type 0
    m.extend([0x03, 0x02, 0x01, 0x00]);
    // memory section: one memory, min 1 page
    m.extend([0x05, 0x03, 0x01, 0x00, 0x01]);
    // export section: "_start" func 0, "memory" memory 0
    m.extend([0x07, 0x13, 0x02]);
    m.extend([0x06]);
    m.extend(b"_start");
    m.extend([0x00, 0x00]);
    m.extend([0x06]);
    m.extend(b"memory");
    m.extend([0x02, 0x00]);
    // code section: one body, no locals, `unreachable`, `end`
    m.extend([0x0a, 0x05, 0x01, 0x03, 0x00, 0x00, 0x0b]);
    m
}

#[test]
fn a_panic_inside_webassembly_fails_with_one_readable_line() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let module = tmp.path().join("trap.wasm");
    std::fs::write(&module, trapping_module()).expect("module");
    for node in nodes() {
        let out = Command::new(&node)
            .arg(workspace().join("actions/wasm/run.mjs"))
            .args(["semver-bump", "--dry-run"])
            .env("HUB_WASM_MODULE", &module)
            .output()
            .expect("node runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(101), "{node:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{node:?}: {stderr}");
        assert!(
            stderr.starts_with("error: hub-semver-bump stopped on an internal error"),
            "{node:?}: {stderr}"
        );
        assert!(!stderr.contains("    at "), "no JavaScript stack: {stderr}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn the_experimental_warning_is_silenced_and_the_exit_code_kept() {
    for node in nodes() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = Command::new(&node)
            .current_dir(tmp.path())
            .arg(workspace().join("actions/wasm/run.mjs"))
            .args(["semver-bump", "--dry-run"])
            .env("HUB_WASM_MODULE", wasm_module())
            .env_remove("GITHUB_ACTIONS")
            .output()
            .expect("node runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{node:?}: {stderr}");
        assert!(!stderr.contains("Warning"), "{node:?}: {stderr}");
        assert!(
            stderr.contains("is not inside a git repository"),
            "{stderr}"
        );
    }
}

/// The issue's "done when": under act, on a runner where the installer finds no archive (the
/// release server does not answer) and is not asked for a source build, `uses:
/// org/hub-actions/semver-bump@v1` runs from the WebAssembly build committed into the release
/// tree, computes the version, pushes the tag and creates the GitHub release through the
/// stand-in.
#[test]
fn under_act_the_release_tree_falls_back_to_webassembly_and_releases() {
    if !hub_e2e::have_act("under_act_the_release_tree_falls_back_to_webassembly_and_releases") {
        return;
    }
    if nodes().is_empty() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let action = hub_e2e::action_repo(tmp.path());
    hub_e2e::mark_release(&action, &hub_e2e::suite_version(), "org/hub-actions");
    std::fs::copy(wasm_module(), action.join("actions/wasm/hub.wasm")).expect("module");
    let origin = hub_e2e::origin(
        tmp.path(),
        &[
            "feat: base",
            "tag:v1.0.0",
            "fix: crash on empty input",
            "feat: search",
        ],
    );
    let Some(server) = TestServer::start(&[]) else {
        return;
    };
    server.import_git("octo/app", &origin).expect("import");
    let mut act = hub_e2e::Act::new(tmp.path(), action);
    // Nothing answers there: the archive's download fails.
    act.env("GITHUB_SERVER_URL", "http://127.0.0.1:9")
        .env("GITHUB_API_URL", server.url())
        // GitHub sets GITHUB_GRAPHQL_URL beside GITHUB_API_URL (act leaves github.com's).
        .env("GITHUB_GRAPHQL_URL", &format!("{}/graphql", server.url()))
        .secret("GITHUB_TOKEN", "ghs_wasmTOKEN")
        .repository("octo/app");
    let workflow = format!(
        r#"on: push
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - run: git clone -q '{}' .
      - id: bump
        uses: org/hub-actions/semver-bump@v1
        with:
          create-tag: true
          create-release: true
      - env:
          OUT: ${{{{ toJSON(steps.bump.outputs) }}}}
        if: always()
        run: printf '%s' "$OUT" > "$HUB_E2E_OUT/bump.json"
"#,
        origin.display()
    );
    // The `push` payload GitHub sends (act makes up an empty one): the actions read `ref`,
    // `before` and `after`.
    let rev = |r: &str| {
        hub_e2e::sh(&origin, "git", &["rev-parse", r])
            .trim()
            .to_owned()
    };
    let event = tmp.path().join("push.json");
    std::fs::write(
        &event,
        serde_json::json!({
            "ref": "refs/heads/main",
            "before": rev("main~1"),
            "after": rev("main"),
            "created": false,
            "deleted": false,
            "forced": false,
            "commits": [{ "id": rev("main"), "message": "feat: search" }],
        })
        .to_string(),
    )
    .expect("event");
    let run = act.run_event("wasm", &workflow, "push", &event);
    assert!(run.success, "{}", run.log);
    assert!(
        run.log.contains("using the WebAssembly build under v"),
        "{}",
        run.log
    );
    let out = run.json("bump.json");
    assert_eq!(out["next-version"], "1.1.0", "{}", run.log);
    assert_eq!(
        hub_e2e::sh(&origin, "git", &["tag", "--list"]),
        "v1.0.0\nv1.1.0\n"
    );
    let github = releases_and_tags(&server.state());
    assert!(github.contains("refs/tags/v1.1.0"), "{github}");
    server.assert_conforms();
}

/// The lines of an act log that are annotations (`::error …`, `::warning …`, `::notice …`),
/// from their `::` on: act prefixes each with the job's name, the same for both engines.
fn annotations(log: &str) -> Vec<String> {
    log.lines()
        .filter_map(|line| {
            ["::error", "::warning", "::notice"]
                .iter()
                .filter_map(|cmd| line.find(cmd))
                .min()
                .map(|at| line[at..].to_owned())
        })
        .collect()
}

/// The issue's "done when", for the other actions: under act, a pull-request workflow runs
/// conventional-changelog, validate-config (its sticky comment through the stand-in) and
/// canary-gate's file mode once with `engine: native` (the release archive, downloaded and
/// verified by the installer) and once with `engine: wasm` (the release tree's hub.wasm
/// under the runner's Node). Compared byte for byte: each step's outputs, the annotations in
/// the log, the files written (CHANGELOG.md, the SARIF report, canary-gate's report) and the
/// stand-in's comments. Normalised: the stand-in's URL (one stand-in per run, so the second
/// run's comment is a first comment too) and `$RUNNER_TEMP` (act's directory for each run,
/// where validate-config's default report goes). The step summaries are not compared here: act
/// empties `$GITHUB_STEP_SUMMARY` at the start of every step (pkg/runner/step.go), so the
/// next step cannot read the action's; the direct runs above compare them.
#[test]
fn under_act_changelog_validate_config_and_canary_gate_run_the_same_from_webassembly() {
    let test = "under_act_changelog_validate_config_and_canary_gate_run_the_same_from_webassembly";
    if !hub_e2e::have_act(test) || nodes().is_empty() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    // The release tree, its archive served for the native run; its hub.wasm for the other.
    let mut act = hub_e2e::released_act(tmp.path());
    std::fs::copy(wasm_module(), act.action.join("actions/wasm/hub.wasm")).expect("module");

    let work = hub_e2e::git_repo(
        tmp.path(),
        "work",
        &[
            "feat: base",
            "tag:v1.0.0",
            "fix(parser): crash on empty input",
            "feat!: drop the old flag\n\nBREAKING CHANGE: `--old` is gone",
        ],
    );
    let fixtures = workspace().join("fixtures/canary-gate");
    std::fs::create_dir_all(work.join("config")).expect("config dir");
    for (name, text) in [
        ("CHANGELOG.md", "# Changelog\n\n## 1.0.0\n\n* base\n".to_owned()),
        (
            "config/schema.json",
            r#"{"type":"object","required":["name","replicas"],"properties":{"name":{"type":"string"},"replicas":{"type":"integer","minimum":1}},"additionalProperties":false}"#.to_owned(),
        ),
        ("config/good.yaml", "name: web\nreplicas: 2\n".to_owned()),
        (
            "config/bad.yaml",
            "name: \"::error::pwned\"\nreplicas: 0\nreplica: 1\n".to_owned(),
        ),
        (
            "canary.json",
            std::fs::read_to_string(fixtures.join("canary-bench-regressed.json")).expect("fixture"),
        ),
        (
            "baseline.json",
            std::fs::read_to_string(fixtures.join("baseline-bench.json")).expect("fixture"),
        ),
    ] {
        std::fs::write(work.join(name), text).expect("write");
    }
    hub_e2e::sh(&work, "git", &["add", "-A"]);
    hub_e2e::sh(
        &work,
        "git",
        &[
            "-c",
            "user.name=Ada",
            "-c",
            "user.email=ada@example.com",
            "commit",
            "-q",
            "-m",
            "docs: configs and measurements",
        ],
    );
    let origin = tmp.path().join("origin.git");
    hub_e2e::sh(
        tmp.path(),
        "git",
        &[
            "clone",
            "-q",
            "--bare",
            work.to_str().expect("utf-8"),
            origin.to_str().expect("utf-8"),
        ],
    );
    let event = tmp.path().join("event.json");
    std::fs::write(
        &event,
        r#"{"action":"opened","number":7,"pull_request":{"number":7,"title":"configs","head":{"sha":"0000000000000000000000000000000000000001","ref":"f"},"base":{"sha":"0000000000000000000000000000000000000002","ref":"main"}}}"#,
    )
    .expect("event");
    act.env("HUB_E2E_ORIGIN", &origin.display().to_string())
        // The changelog's date: both runs on the same day, even across midnight.
        .env("SOURCE_DATE_EPOCH", "1735787045")
        .repository("octo/app");

    // act's host executor returns from a step whose command failed before it has read the
    // rest of the step's terminal (nektos/act pkg/container/host_environment.go: on
    // `cmd.Run()`'s error it returns before `<-logctx.Done()` and closes the pty), so the
    // last lines of a failing step — here validate-config's and canary-gate's last
    // annotation — can be missing from its log. When the two engines' runs differ, both run
    // once more, and the second pair must be identical: a difference of the actions' own
    // shows in both.
    let mut attempt = 0;
    let seen = loop {
        attempt += 1;
        let mut seen: Vec<(String, String)> = Vec::new();
        for engine in ["native", "wasm"] {
            // A stand-in per run: the wasm run's comment is a first comment too.
            let Some(server) = TestServer::start(&[]) else {
                return;
            };
            server.import_git("octo/app", &origin).expect("import");
            server
                .set_pull_request("octo/app", 7, Vec::new())
                .expect("pull request");
            act.env("GITHUB_API_URL", server.url())
                .env("GITHUB_GRAPHQL_URL", &format!("{}/graphql", server.url()));
            let workflow = format!(
                r#"on: pull_request
jobs:
  all:
    runs-on: ubuntu-latest
    steps:
      - run: git clone -q "$HUB_E2E_ORIGIN" .
      - id: changelog
        uses: org/hub-actions/conventional-changelog@v1
        with:
          engine: {engine}
          release-version: 2.0.0
          repo-url: https://github.example.com/octo/app
      - id: validate
        continue-on-error: true
        uses: org/hub-actions/validate-config@v1
        with:
          engine: {engine}
          files: config/*.yaml
          schema: config/schema.json
          sarif-file: report.sarif
          offline: true
          comment: true
          token: e2e-token
      - id: gate
        continue-on-error: true
        uses: org/hub-actions/canary-gate@v1
        with:
          engine: {engine}
          source: file
          canary-file: canary.json
          baseline-file: baseline.json
          metrics: "p95: higher-is-worse, max-ratio=1.10"
          report: report.json
      - if: always()
        env:
          CHANGELOG: ${{{{ toJSON(steps.changelog.outputs) }}}}
          VALIDATE: ${{{{ toJSON(steps.validate.outputs) }}}}
          GATE: ${{{{ toJSON(steps.gate.outputs) }}}}
          OUTCOMES: ${{{{ steps.changelog.outcome }}}} ${{{{ steps.validate.outcome }}}} ${{{{ steps.gate.outcome }}}}
        run: |
          printf '%s\n%s\n%s\n%s\n' "$CHANGELOG" "$VALIDATE" "$GATE" "$OUTCOMES" > "$HUB_E2E_OUT/outputs.txt"
          cp CHANGELOG.md report.sarif report.json "$HUB_E2E_OUT/"
          printf '%s' "$RUNNER_TEMP" > "$HUB_E2E_OUT/runner-temp"
"#
            );
            let run = act.run_event(
                &format!("{engine}-{attempt}"),
                &workflow,
                "pull_request",
                &event,
            );
            assert!(run.success, "{engine}: {}", run.log);
            let wasm_ran = run.log.contains("using the WebAssembly build under v");
            assert_eq!(wasm_ran, engine == "wasm", "{engine}: {}", run.log);
            let read = |name: &str| {
                std::fs::read_to_string(run.out.join(name))
                    .unwrap_or_else(|_| panic!("{engine}: no {name}; log:\n{}", run.log))
            };
            let url = server.url().to_owned();
            let all = format!(
                "== outputs\n{}\n== annotations\n{}\n== CHANGELOG.md\n{}\n== report.sarif\n{}\n== report.json\n{}\n== comments\n{}",
                read("outputs.txt"),
                annotations(&run.log).join("\n"),
                read("CHANGELOG.md"),
                read("report.sarif"),
                read("report.json"),
                comments(&server.state()),
            );
            server.assert_conforms();
            // act gives each run a directory of its own (validate-config's default report is
            // in it).
            let runner_temp = read("runner-temp");
            assert!(!runner_temp.is_empty(), "{engine}: no RUNNER_TEMP");
            let all = all.replace(&runner_temp, "<runner-temp>");
            seen.push((engine.to_owned(), normalise(&all, &url, &[])));
        }
        if seen[0].1 == seen[1].1 || attempt == 2 {
            break seen;
        }
        eprintln!(
            "{test}: the native and WebAssembly runs differed on attempt 1 (act can drop a failing \
             step's last lines): running both once more"
        );
    };
    let (native, wasm) = (&seen[0].1, &seen[1].1);
    assert_eq!(
        wasm, native,
        "engine: wasm differs from engine: native under act"
    );
    // The run did its whole job: a section for 2.0.0, the bad file annotated and commented
    // on, the regression judged.
    assert!(
        native.contains("## [2.0.0]") || native.contains("## 2.0.0"),
        "{native}"
    );
    assert!(native.contains("file=config/bad.yaml"), "{native}");
    assert!(
        native.contains("<!-- hub-actions:validate-config -->"),
        "{native}"
    );
    assert!(native.contains("verdict"), "{native}");
}

/// The environment's proxy from WebAssembly: validate-config downloads its schema through
/// `HTTP_PROXY` (a CONNECT tunnel, as the native backend makes it for `http://` too) — the
/// host's HTTP worker carries what the module decided — and reports the same as natively.
#[test]
fn a_download_goes_through_the_environments_proxy_the_same_from_webassembly() {
    use hub_testkit::http::{ConnectProxy, Server, reply};
    if nodes().is_empty() {
        return;
    }
    // Both builds first: the proxy and the server live 10 s.
    native_bins();
    wasm_module();
    let schema = br#"{"type": "object", "properties": {"port": {"maximum": 65535}}}"#;
    let server = Server::start(move |_, _| Some(reply("200 OK", "", schema)));
    let proxy = ConnectProxy::start();
    let url = server.url("/schema.json");
    let proxy_url = proxy.url();
    let setup = |dir: &Path| {
        history(dir, &["feat: base"]);
        std::fs::write(dir.join("repo/app.yml"), "port: 70000\n").expect("config");
    };
    let Some(seen) = same_everywhere(&Scenario {
        action: "validate-config",
        setup: &setup,
        env: vec![
            ("INPUT_FILES", "app.yml"),
            ("INPUT_SCHEMA", &url),
            ("HTTP_PROXY", &proxy_url),
        ],
        written: vec![],
        github: None,
    }) else {
        return;
    };
    assert_eq!(seen.code, 1, "{seen:#?}");
    assert!(seen.stdout.contains("maximum"), "{seen:#?}");
    // Every run went through the proxy: the native one and one per Node.
    let target = format!("127.0.0.1:{}", server.port());
    assert_eq!(
        proxy.targets(),
        vec![target; 1 + nodes().len()],
        "a run went around the proxy"
    );
}
