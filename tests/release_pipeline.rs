//! The project's own release pipeline, `.github/workflows/release.yml`, run under a real
//! runner (act) on a copy of this repository: its Linux x64 leg builds the suite with cargo
//! for `x86_64-unknown-linux-musl`, packs it, and the publish job writes the checksum file,
//! attaches both to the GitHub release (the API stand-in), makes the tag a release tree and
//! moves the major tag (`v1`; `v0` while the workspace is 0.y.z) — then the installer installs that release through `org/hub-actions@v1`.
//!
//! What differs from GitHub, and why:
//! - The non-Linux legs cannot run here, so the copy's `.github/release/targets` lists only
//!   `x86_64-unknown-linux-musl` (the workflow reads its matrix and the archives it expects
//!   from that file).
//! - `actions/checkout`, `actions/upload-artifact` and `actions/download-artifact` need
//!   github.com: checkout becomes a clone of the test's origin ([`with_local_checkout`]); the
//!   artifact steps become copies through a local directory ([`with_local_artifacts`]).
//! - The build uses the workflow's own command (`cargo build --release --locked --target …`)
//!   with the release profile made cheaper through Cargo's `CARGO_PROFILE_RELEASE_*`
//!   variables (no fat LTO, parallel codegen): the pipeline is what is tested, not LLVM.
//!
//! Skipped (with a line on stderr) without act, the musl target or `musl-gcc`; CI installs
//! them (.ci/run).

#![allow(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use hub_e2e::*;
use hub_github_standin::Options;
use hub_github_standin::test_support::TestServer;
use serde_json::{Value, json};

const TARGET: &str = "x86_64-unknown-linux-musl";
const REPOSITORY: &str = "org/hub-actions";

/// Replaces each `actions/upload-artifact` step with a copy of its `path` into
/// `$HUB_E2E_ARTIFACTS`, and each `actions/download-artifact` step with a copy of everything
/// there into its `path`: what the two do for one workflow run (`merge-multiple: true`).
fn with_local_artifacts(workflow: &str) -> String {
    let mut out = String::new();
    let mut lines = workflow.lines().peekable();
    while let Some(line) = lines.next() {
        let upload = line.starts_with("      - uses: actions/upload-artifact@");
        let download = line.starts_with("      - uses: actions/download-artifact@");
        if !upload && !download {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let mut path = None;
        while let Some(next) = lines.peek() {
            if !next.starts_with("        ") {
                break;
            }
            if let Some(p) = next.trim().strip_prefix("path:") {
                path = Some(p.trim().to_string());
            }
            lines.next();
        }
        let path = path.expect("an artifact step with a path");
        assert!(
            path.chars()
                .all(|c| c.is_ascii_alphanumeric() || "/*._-".contains(c)),
            "{path}"
        );
        if upload {
            out.push_str(&format!(
                "      - run: mkdir -p \"$HUB_E2E_ARTIFACTS\" && cp {path} \"$HUB_E2E_ARTIFACTS\"/\n"
            ));
        } else {
            out.push_str(&format!(
                "      - run: mkdir -p {path} && cp \"$HUB_E2E_ARTIFACTS\"/* {path}/\n"
            ));
        }
    }
    out
}

/// `.github/workflows/release.yml` as it runs here.
fn release_workflow() -> String {
    let text = std::fs::read_to_string(workspace().join(".github/workflows/release.yml")).unwrap();
    with_local_artifacts(&with_local_checkout(&text))
}

/// Whether the machine can build for the musl target; prints a skip line when not.
fn have_musl(test: &str) -> bool {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .is_ok_and(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l == TARGET)
        });
    let linker = Command::new("musl-gcc").arg("--version").output().is_ok();
    if !(installed && linker) {
        hub_testkit::skip(&format!(
            "{test}: needs the {TARGET} Rust target and musl-gcc (rustup target add {TARGET}; apt-get install musl-tools)"
        ));
    }
    installed && linker
}

/// A bare origin holding this repository's files (as `git ls-files` sees them) in one
/// commit, with `.github/release/targets` cut to the Linux x64 leg.
fn project_origin(tmp: &Path) -> PathBuf {
    let work = action_repo(tmp);
    let targets = work.join(".github/release/targets");
    let text = std::fs::read_to_string(&targets).unwrap();
    let kept: String = text
        .lines()
        .filter(|l| l.starts_with('#') || l.starts_with(TARGET))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(kept.contains(TARGET), "{text}");
    std::fs::write(&targets, kept).unwrap();
    let now = now();
    let git = |args: &[&str]| hub_testkit::git::git_at(&work, args, &now);
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "feat: the suite"]);
    let bare = tmp.join("origin.git");
    let (w, b) = (work.display().to_string(), bare.display().to_string());
    sh(tmp, "git", &["clone", "-q", "--bare", &w, &b]);
    bare
}

/// The time now, as git reads it: the suite's commits and tags are made when the test runs.
fn now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    format!("{secs} +0000")
}

/// Tags `main` of `origin` with an annotated `tag` (what semver-bump pushes).
fn tag(origin: &Path, tag: &str) {
    hub_testkit::git::git_at(
        origin,
        &["tag", "-a", tag, "-m", &format!("Release {tag}"), "main"],
        &now(),
    );
}

fn curl(args: &[&str]) -> String {
    let mut all = vec!["--fail", "--silent", "--show-error"];
    all.extend_from_slice(args);
    sh(Path::new("."), "curl", &all)
}

/// Creates the GitHub release for `tag` (what semver-bump's `create-release` does).
fn create_release(server: &TestServer, tag: &str) {
    let body = json!({ "tag_name": tag, "name": tag, "prerelease": tag.contains('-') });
    curl(&[
        "-X",
        "POST",
        "-H",
        "Authorization: Bearer ghs_e2e",
        "-d",
        &body.to_string(),
        &format!("{}/repos/{REPOSITORY}/releases", server.url()),
    ]);
}

fn release(server: &TestServer, tag: &str) -> Value {
    let text = curl(&[&format!(
        "{}/repos/{REPOSITORY}/releases/tags/{tag}",
        server.url()
    )]);
    serde_json::from_str(&text).unwrap()
}

fn rev(origin: &Path, name: &str) -> String {
    hub_testkit::git::line(origin, &["rev-parse", name])
}

fn refs(origin: &Path) -> String {
    hub_testkit::git::git(
        origin,
        &["for-each-ref", "--format=%(refname) %(objectname)"],
    )
}

/// The push event GitHub sends for a pushed tag.
fn tag_event(tmp: &Path, origin: &Path, tag: &str) -> PathBuf {
    let after = rev(origin, &format!("{tag}^{{commit}}"));
    let payload = json!({
        "ref": format!("refs/tags/{tag}"),
        "before": "0000000000000000000000000000000000000000",
        "after": after,
        "created": true,
        "deleted": false,
        "forced": false,
        "base_ref": null,
        "commits": [],
        "repository": { "full_name": REPOSITORY, "name": "hub-actions", "owner": { "login": "org" } },
    });
    let path = tmp.join(format!("push-{tag}.json"));
    std::fs::write(&path, payload.to_string()).unwrap();
    path
}

/// Checks what the release `tag` carries: the archive holds `hub` and a `hub-<action>`
/// symbolic link to it per action, each runs as its action and reports the version, and the
/// checksum file verifies the archive (`sha256sum -c`).
fn check_assets(tmp: &Path, server: &TestServer, tag: &str) -> Vec<u64> {
    let version = tag.trim_start_matches('v');
    let archive = format!("hub-actions-{version}-{TARGET}.tar.gz");
    let sums = format!("hub-actions-{version}-checksums.txt");
    let wasm = format!("hub-actions-{version}.wasm");
    let rel = release(server, tag);
    let assets = rel["assets"].as_array().unwrap();
    let mut names: Vec<&str> = assets.iter().map(|a| a["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    let mut want = [archive.as_str(), sums.as_str(), wasm.as_str()];
    want.sort_unstable();
    assert_eq!(names, want, "{rel}");
    let dir = tmp.join(format!("download-{tag}"));
    std::fs::create_dir_all(dir.join("x")).unwrap();
    for a in assets {
        let url = a["browser_download_url"].as_str().unwrap();
        let name = a["name"].as_str().unwrap();
        curl(&["-o", &dir.join(name).display().to_string(), url]);
    }
    let checked = sh(&dir, "sha256sum", &["-c", &sums]);
    assert_eq!(checked, format!("{archive}: OK\n{wasm}: OK\n"));
    // The WebAssembly build is a module (magic and version 1), not an error page.
    let module = std::fs::read(dir.join(&wasm)).unwrap();
    assert_eq!(&module[..8], b"\0asm\x01\0\0\0", "{wasm}");
    let listed = sh(&dir, "tar", &["-tzf", &archive]);
    let mut want: Vec<String> = packages().iter().map(|p| format!("hub-{p}")).collect();
    want.push("hub".into());
    want.sort();
    let mut got: Vec<&str> = listed.lines().collect();
    got.sort_unstable();
    assert_eq!(got, want);
    sh(&dir, "tar", &["-xzf", &archive, "-C", "x"]);
    let listed = sh(&dir.join("x"), "./hub", &["--list"]);
    let mut actions: Vec<&str> = listed.lines().collect();
    actions.sort_unstable();
    let mut want = packages();
    want.sort();
    assert_eq!(actions, want);
    for p in packages() {
        let link = dir.join("x").join(format!("hub-{p}"));
        assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("hub"));
        let bin = format!("./hub-{p}");
        let help = sh(&dir.join("x"), &bin, &["--help"]);
        assert!(help.contains(&format!("Usage: hub-{p}")), "{help}");
        // rollback's `--version` is the version to roll back to: its own is `-V`.
        let flag = if p == "rollback" { "-V" } else { "--version" };
        let out = sh(&dir.join("x"), &bin, &[flag]);
        assert_eq!(out.trim(), format!("hub-{p} {}", suite_version()));
    }
    assets.iter().map(|a| a["id"].as_u64().unwrap()).collect()
}

/// `tag` names a release tree: a commit on top of `base` adding only
/// `actions/install/release.env` with the release's version and repository, and the
/// WebAssembly build `actions/wasm/hub.wasm` with its SHA-256 (which the installer checks),
/// under the tag's original annotation.
fn check_release_tree(origin: &Path, tag: &str, base: &str) {
    let commit = rev(origin, &format!("{tag}^{{commit}}"));
    assert_ne!(commit, base);
    assert_eq!(rev(origin, &format!("{commit}^")), base);
    let changed = sh(origin, "git", &["diff", "--name-status", base, &commit]);
    assert_eq!(
        changed,
        "A\tactions/install/release.env\nA\tactions/wasm/hub.wasm\nA\tactions/wasm/hub.wasm.sha256\n"
    );
    let module = hub_testkit::git::command(origin, hub_testkit::git::DATE)
        .args(["show", &format!("{commit}:actions/wasm/hub.wasm")])
        .output()
        .unwrap()
        .stdout;
    assert_eq!(&module[..8], b"\0asm\x01\0\0\0");
    let digest = hex_sha256(&module);
    let recorded = sh(
        origin,
        "git",
        &["show", &format!("{commit}:actions/wasm/hub.wasm.sha256")],
    );
    assert_eq!(recorded, format!("{digest}  hub.wasm\n"));
    let env = sh(
        origin,
        "git",
        &["show", &format!("{commit}:actions/install/release.env")],
    );
    assert_eq!(
        env,
        format!(
            "HUB_RELEASE_VERSION={}\nHUB_RELEASE_REPOSITORY={REPOSITORY}\n",
            tag.trim_start_matches('v')
        )
    );
    assert_eq!(
        sh(origin, "git", &["cat-file", "-t", tag]).trim(),
        "tag",
        "the tag stays annotated"
    );
    let message = sh(origin, "git", &["tag", "-l", "--format=%(contents)", tag]);
    assert_eq!(message.trim(), format!("Release {tag}"));
    // Marked with the commit it releases, so semver-bump, release-pr and
    // conventional-changelog count the tag there (hub_git::RELEASE_TREE_TRAILER).
    let mark = sh(
        origin,
        "git",
        &[
            "log",
            "-1",
            "--format=%(trailers:key=Release-Tree-Of,valueonly)",
            &commit,
        ],
    );
    assert_eq!(
        mark.trim(),
        base,
        "the release tree's Release-Tree-Of trailer"
    );
}

/// The SHA-256 of `bytes` in hex, by `sha256sum` (the tool the release's checksum file is for).
fn hex_sha256(bytes: &[u8]) -> String {
    use std::io::Write;
    let mut child = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

fn writes(server: &TestServer) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.method != "GET")
        .count()
}

#[test]
fn release_workflow_publishes_the_linux_leg_and_the_installer_uses_it() {
    let test = "release_workflow_publishes_the_linux_leg_and_the_installer_uses_it";
    if !have_act(test) || !have_musl(test) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let origin = project_origin(tmp.path());
    let base = rev(&origin, "main");
    let v = suite_version();
    let (rc, stable) = (format!("v{v}-rc.1"), format!("v{v}"));
    // The major tag: `v1` for 1.x; the workspace's own version may still be 0.y.z (`v0`).
    let major = format!("v{}", v.split('.').next().unwrap());
    tag(&origin, &rc);
    tag(&origin, &stable);

    // The build in the first run takes minutes without a request: a longer idle limit.
    let Some(server) = TestServer::start_with(Options {
        idle_timeout: Some(Duration::from_secs(1800)),
        ..Options::default()
    }) else {
        return;
    };
    server.import_git(REPOSITORY, &origin).unwrap();
    create_release(&server, &rc);
    create_release(&server, &stable);

    // The workflow uses no hub-actions action; the copy stands in for `org/hub-actions@v1`.
    let mut act = Act::new(tmp.path(), tmp.path().join("hub-actions"));
    act.repository(REPOSITORY)
        .secret("GITHUB_TOKEN", "ghs_e2eTOKEN")
        .env("GITHUB_API_URL", server.url())
        .env("HUB_E2E_ORIGIN", &origin.display().to_string())
        .env("CARGO_TARGET_DIR", &target_dir().display().to_string())
        .env(
            "CARGO_HOME",
            &std::env::var("CARGO_HOME")
                .unwrap_or_else(|_| format!("{}/.cargo", std::env::var("HOME").unwrap())),
        )
        // The workflow's build command, with a cheaper release profile (see the module
        // documentation).
        .env("CARGO_PROFILE_RELEASE_LTO", "off")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "1")
        // The `wasm` profile inherits the release profile, overrides included: pinned to its
        // own values (Cargo.toml) so the module is the one `.ci/run` and tests/wasm.rs build
        // — shared in the target directory, not rebuilt smaller-optimised over theirs.
        .env("CARGO_PROFILE_WASM_LTO", "fat")
        .env("CARGO_PROFILE_WASM_CODEGEN_UNITS", "1")
        .env("CARGO_PROFILE_WASM_OPT_LEVEL", "s");
    let workflow = release_workflow();
    let run = |name: &str, tag: &str| {
        let mut act = act.clone();
        act.env("HUB_E2E_REF", tag).env(
            "HUB_E2E_ARTIFACTS",
            &tmp.path()
                .join(format!("artifacts-{name}"))
                .display()
                .to_string(),
        );
        let event = tag_event(tmp.path(), &origin, tag);
        act.run_event(name, &workflow, "push", &event)
    };

    // A pre-release: published, and `v1` is not created.
    let r = run("rc", &rc);
    assert!(r.success, "{}", r.log);
    check_assets(tmp.path(), &server, &rc);
    check_release_tree(&origin, &rc, &base);
    assert!(
        !refs(&origin).contains(&format!("refs/tags/{major} ")),
        "a pre-release moved {major}:\n{}",
        refs(&origin)
    );

    // The stable release: published, and `v1` names its release tree.
    let r = run("stable", &stable);
    assert!(r.success, "{}", r.log);
    let assets = check_assets(tmp.path(), &server, &stable);
    check_release_tree(&origin, &stable, &base);
    assert!(
        refs(&origin).contains(&format!("refs/tags/{major} ")),
        "{}",
        r.log
    );
    assert_eq!(
        rev(&origin, &format!("{major}^{{commit}}")),
        rev(&origin, &format!("{stable}^{{commit}}"))
    );

    // Run again: the tag is a release tree now, so nothing is built, attached or pushed.
    let (before, written) = (refs(&origin), writes(&server));
    let r = run("again", &stable);
    assert!(r.success, "{}", r.log);
    assert_eq!(refs(&origin), before, "the second run moved a tag");
    assert_eq!(writes(&server), written, "the second run wrote to the API");
    assert_eq!(check_assets(tmp.path(), &server, &stable), assets);

    // The publish steps on their own, again (a re-run after a failure half-way): each finds
    // its work done.
    let clone = tmp.path().join("rerun");
    let (o, c) = (origin.display().to_string(), clone.display().to_string());
    sh(tmp.path(), "git", &["clone", "-q", &o, &c]);
    sh(&clone, "git", &["checkout", "-q", &stable]);
    std::fs::create_dir_all(clone.join("dist")).unwrap();
    let artifacts = tmp.path().join("artifacts-stable");
    for e in std::fs::read_dir(&artifacts).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), clone.join("dist").join(e.file_name())).unwrap();
    }
    let script = |args: &[&str]| {
        let out = Command::new("bash")
            .current_dir(&clone)
            .arg(".github/release/release.sh")
            .args(args)
            .env("GITHUB_TOKEN", "ghs_e2eTOKEN")
            .env("GITHUB_REPOSITORY", REPOSITORY)
            .env("GITHUB_API_URL", server.url())
            .env_remove("GITHUB_OUTPUT")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "release.sh {args:?}:\n{text}");
        text
    };
    script(&["checksums", &v]);
    let attached = script(&["attach", &stable]);
    assert_eq!(
        attached.matches("already attached").count(),
        3,
        "{attached}"
    );
    let tree = script(&["release-tree", &stable, &v, REPOSITORY]);
    assert!(tree.contains("already a release tree"), "{tree}");
    let moved = script(&["move-major", &stable]);
    assert!(moved.contains(&format!("{major} already names")), "{moved}");
    assert_eq!(refs(&origin), before);
    assert_eq!(writes(&server), written);

    // The installer, from the major tag's tree (the release tree, resolved as
    // `org/hub-actions@v1`), downloads the release's
    // archive from the server and verifies it against the checksum file.
    let action = tmp.path().join("at-v1");
    std::fs::create_dir_all(&action).unwrap();
    let tree = sh(
        &origin,
        "git",
        &["archive", "--format=tar", "-o", "../v1.tar", &major],
    );
    assert!(tree.is_empty());
    sh(&action, "tar", &["-xf", "../v1.tar"]);
    let mut user = Act::new(tmp.path(), action);
    user.env("GITHUB_SERVER_URL", server.url());
    let wf = "on: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n      - id: suite\n        uses: org/hub-actions@v1\n      - env:\n          OUT: ${{ toJSON(steps.suite.outputs) }}\n        run: |\n          printf '%s' \"$OUT\" > \"$HUB_E2E_OUT/suite.json\"\n          hub-semver-bump --version > \"$HUB_E2E_OUT/version\"\n";
    let r = user.run("install", wf, "push");
    assert!(r.success, "{}", r.log);
    assert_eq!(r.json("suite.json")["version"], v.as_str());
    assert_eq!(
        std::fs::read_to_string(r.out.join("version")).unwrap(),
        format!("hub-semver-bump {v}\n")
    );
    let downloads: Vec<String> = server
        .requests()
        .iter()
        .filter(|q| q.path.contains("/releases/download/"))
        .map(|q| format!("{} {}", q.status, q.path))
        .collect();
    let d = format!("/{REPOSITORY}/releases/download/{stable}");
    assert!(
        downloads.ends_with(&[
            format!("200 {d}/hub-actions-{v}-{TARGET}.tar.gz"),
            format!("200 {d}/hub-actions-{v}-checksums.txt"),
        ]),
        "{downloads:?}"
    );
}
