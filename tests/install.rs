//! The one installer, through the real actions under a real runner: verified download of a
//! release archive from a GitHub-compatible server, refusal of a corrupted one, and a
//! build from source for a tree that is not a release.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

use std::time::Duration;

use hub_e2e::*;

const TARGET: &str = "x86_64-unknown-linux-musl";

fn write_outputs_step(id: &str) -> String {
    format!(
        "      - env:\n          OUT: ${{{{ toJSON(steps.{id}.outputs) }}}}\n        run: printf '%s' \"$OUT\" > \"$HUB_E2E_OUT/{id}.json\"\n"
    )
}

/// Serves `hub-actions-<v>-<target>.tar.gz` and its checksum file the way GitHub's release
/// download URLs are laid out.
fn release_server(
    dir: &std::path::Path,
    corrupt: bool,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let v = suite_version();
    let files = dir
        .join("srv/org/hub-actions/releases/download")
        .join(format!("v{v}"));
    std::fs::create_dir_all(&files).unwrap();
    let (archive, sums) = release_archive(&files, &v, TARGET);
    if corrupt {
        let mut bytes = std::fs::read(&archive).unwrap();
        let n = bytes.len();
        bytes[n / 2] ^= 0xff;
        std::fs::write(&archive, bytes).unwrap();
    }
    assert!(sums.exists());
    serve(dir.join("srv"), Duration::from_secs(120))
}

#[test]
fn root_action_downloads_verifies_and_adds_to_path() {
    if !have_act("root_action_downloads_verifies_and_adds_to_path") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let action = action_repo(tmp.path());
    mark_release(&action, &suite_version(), "org/hub-actions");
    let (url, log) = release_server(tmp.path(), false);
    let mut act = Act::new(tmp.path(), action);
    act.env("GITHUB_SERVER_URL", &url);
    let wf = format!(
        "on: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n      - id: suite\n        uses: org/hub-actions@v1\n      - id: v\n        run: |\n          echo \"version=$(hub-semver-bump --version)\" >> \"$GITHUB_OUTPUT\"\n          echo \"hub=$(hub semver-bump --version)\" >> \"$GITHUB_OUTPUT\"\n          echo \"link=$(readlink \"$(command -v hub-validate-config)\")\" >> \"$GITHUB_OUTPUT\"\n{}{}",
        write_outputs_step("suite"),
        write_outputs_step("v")
    );
    let run = act.run("download", &wf, "push");
    assert!(run.success, "{}", run.log);
    let v = suite_version();
    assert_eq!(run.json("suite.json")["version"], v.as_str());
    assert_eq!(
        run.json("v.json")["version"],
        format!("hub-semver-bump {v}").as_str()
    );
    // The archive is one binary, `hub`, and a link to it per action.
    assert_eq!(
        run.json("v.json")["hub"],
        format!("hub-semver-bump {v}").as_str()
    );
    assert_eq!(run.json("v.json")["link"], "hub");
    let requested = log.lock().unwrap().clone();
    assert_eq!(
        requested,
        [
            format!("/org/hub-actions/releases/download/v{v}/hub-actions-{v}-{TARGET}.tar.gz"),
            format!("/org/hub-actions/releases/download/v{v}/hub-actions-{v}-checksums.txt"),
        ]
    );
    // Second job in the same tool cache: no download at all.
    let run = act.run("cached", &wf, "push");
    assert!(run.success, "{}", run.log);
    assert_eq!(
        log.lock().unwrap().len(),
        2,
        "the tool cache was not used:\n{}",
        run.log
    );
}

#[test]
fn corrupted_archive_is_refused() {
    if !have_act("corrupted_archive_is_refused") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let action = action_repo(tmp.path());
    mark_release(&action, &suite_version(), "org/hub-actions");
    let (url, _) = release_server(tmp.path(), true);
    let mut act = Act::new(tmp.path(), action);
    act.env("GITHUB_SERVER_URL", &url);
    let wf = "on: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: org/hub-actions@v1\n      - run: echo should-not-run > \"$HUB_E2E_OUT/ran\"\n";
    let run = act.run("corrupt", wf, "push");
    assert!(
        !run.success,
        "a corrupted archive was accepted:\n{}",
        run.log
    );
    assert!(run.log.contains("checksum mismatch"), "{}", run.log);
    assert!(!run.out.join("ran").exists());
    // Nothing half-installed is left in the tool cache.
    let cache = tmp.path().join("act-cache/act/tool_cache/hub-actions");
    let leftovers: Vec<_> = walk(&cache)
        .into_iter()
        .filter(|p| p.ends_with("hub-semver-bump") || p.ends_with("hub"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn branch_ref_builds_from_source() {
    if !have_act("branch_ref_builds_from_source") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // No release.env: a branch or SHA ref. Reuse the suite's release target directory so
    // only the workspace crates are compiled again.
    let action = action_repo(tmp.path());
    release_bins();
    // The installer skips a tree it has built before (a marker per source fingerprint);
    // an earlier run of this suite on the same tree left one, so start without any: the
    // build itself is then only cargo's up-to-date check.
    for entry in std::fs::read_dir(target_dir().join("release")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with(".hub-actions-source-") {
            std::fs::remove_file(&path).unwrap();
        }
    }
    let mut act = Act::new(tmp.path(), action);
    act.env(
        "HUB_ACTIONS_TARGET_DIR",
        &target_dir().display().to_string(),
    );
    act.env(
        "CARGO_HOME",
        &std::env::var("CARGO_HOME")
            .unwrap_or_else(|_| format!("{}/.cargo", std::env::var("HOME").unwrap())),
    );
    let wf = format!(
        r#"on: push
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - id: suite
        uses: org/hub-actions@v1
      - run: |
          echo 'a: 1' > ok.yaml
          echo '{{"type": "object"}}' > schema.json
      - id: validate
        uses: org/hub-actions/validate-config@v1
        with:
          schema: schema.json
          files: ok.yaml
{}{}"#,
        write_outputs_step("suite"),
        write_outputs_step("validate")
    );
    let run = act.run("source", &wf, "push");
    assert!(run.success, "{}", run.log);
    assert!(run.log.contains("building"), "{}", run.log);
    // The second action of the job reuses the first one's build.
    assert_eq!(run.log.matches("building ").count(), 1, "{}", run.log);
    assert!(
        run.log.contains("reusing the build of this source tree"),
        "{}",
        run.log
    );
    let validate = run.json("validate.json");
    assert_eq!(validate["valid"], "true", "{}", run.log);
    assert_eq!(validate["files-checked"], "1");
    let out = run.json("suite.json");
    assert_eq!(out["version"], suite_version().as_str());
    // `hub` built from source, and the links to it in a directory of their own.
    let bin_dir = target_dir().join("release/hub-actions");
    assert_eq!(
        out["bin-dir"].as_str().unwrap(),
        bin_dir.display().to_string()
    );
    for action in packages() {
        let link = bin_dir.join(format!("hub-{action}"));
        assert_eq!(
            std::fs::read_link(&link).unwrap(),
            std::path::Path::new("../hub"),
            "{}",
            link.display()
        );
    }
}
