//! Monorepo mode on a real multi-package repository: every package's answer equals the
//! single-package mode's (`tag-prefix` + `path`), and the whole run reads history with ONE
//! `git log` (counted by a `git` wrapper on PATH that logs each invocation).

#![allow(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{change, git, init, run};

const BIN: &str = env!("CARGO_BIN_EXE_hub-semver-bump");

/// api (tags `api@…`), web (`web-v…`), docs (never released), a shared lib counted by web.
fn monorepo(root: &Path) -> PathBuf {
    let r = init(root);
    change(&r, &["api/main.rs", "web/index.ts"], "feat: both packages");
    git(&r, &["tag", "api@1.0.0"]);
    git(&r, &["tag", "-a", "-m", "web", "web-v0.3.0"]);
    change(&r, &["api/main.rs"], "fix(api): handle empty body");
    change(&r, &["web/index.ts"], "feat(web): dark mode");
    git(&r, &["tag", "web-v0.4.0"]);
    change(&r, &["libs/ui/button.ts"], "feat(ui)!: new button API");
    change(
        &r,
        &["api/main.rs", "docs/guide.md"],
        "docs: explain the api",
    );
    // A side branch touching api, merged back.
    git(&r, &["checkout", "-q", "-b", "side"]);
    change(&r, &["api/routes.rs"], "feat(api): search endpoint");
    git(&r, &["checkout", "-q", "main"]);
    change(&r, &["README.md"], "Update README");
    git(
        &r,
        &[
            "merge",
            "-q",
            "--no-ff",
            "-m",
            "Merge branch 'side'",
            "side",
        ],
    );
    // A foreign tag and a non-version tag are never versions.
    git(&r, &["tag", "latest"]);
    git(&r, &["tag", "v9.9.9"]);
    change(&r, &["apiary/x"], "fix: not the api (a prefix only)");
    r
}

const CONFIG: &str = "packages:
  - name: api
    path: api
    tag-pattern: api@{version}
  - name: web
    paths: [web, libs/ui]
    tag-pattern: web-v{version}
  - name: docs
    path: docs/
";

#[test]
fn every_package_in_one_pass_equals_one_run_per_package() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = monorepo(tmp.path());
    let (all, calls) = run(tmp.path(), &["--packages", CONFIG]);
    assert_eq!(
        calls.iter().filter(|c| *c == "log").count(),
        1,
        "git invocations: {calls:?}"
    );
    // Four git processes in all, whatever the number of packages: the repository and
    // `to` (rev-parse), every tag (show-ref), whether each package's highest tag is
    // reachable from `to` (for-each-ref --merged), and the log.
    let mut sorted = calls.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        ["for-each-ref", "log", "rev-parse", "show-ref"],
        "git invocations: {calls:?}"
    );
    let packages: serde_json::Value =
        serde_json::from_str(all["packages"].as_str().unwrap()).unwrap();

    for (name, prefix, paths) in [
        ("api", "api@", vec!["api"]),
        ("web", "web-v", vec!["web", "libs/ui"]),
        ("docs", "docs@", vec!["docs"]),
    ] {
        let mut args = vec!["--tag-prefix", prefix];
        for p in &paths {
            args.extend(["--path", p]);
        }
        let (one, calls) = run(tmp.path(), &args);
        // One package: the rev-parse next to the show-ref, the tag proven an ancestor
        // (the log of a path does not show every parent), and the log.
        assert!(calls.len() <= 4, "git invocations: {calls:?}");
        let pkg = &packages[name];
        for key in [
            "current-version",
            "current-tag",
            "next-version",
            "next-tag",
            "bump",
            "changed",
            "commit-count",
            "breaking",
            "notes",
        ] {
            let ours = match &pkg[key] {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            assert_eq!(
                ours,
                one[key].as_str().unwrap(),
                "{name}: `{key}` differs from the single-package run"
            );
        }
    }
    // A single package without `path`: two git processes, one after the other — the
    // work tree, `to` and every tag's name (rev-parse), then the log of the range that also
    // names the highest tag's commit among its boundary commits.
    let (one, calls) = run(tmp.path(), &["--tag-prefix", "api@"]);
    assert_eq!(calls, ["rev-parse", "log"]);
    assert_eq!(one["current-version"], "1.0.0");
    // What the rules say, to be sure the equality is not between two wrong answers.
    assert_eq!(packages["api"]["next-version"], "1.1.0"); // fix + feat on the merged branch
    assert_eq!(packages["api"]["commit-count"], 3); // fix, docs, feat(api) — not `apiary/`
    assert_eq!(packages["web"]["next-version"], "0.5.0"); // breaking at 0.y.z → minor
    assert_eq!(packages["docs"]["next-version"], ""); // docs only: nothing to release
    assert_eq!(packages["docs"]["current-version"], "");
    // Two packages changed: `changed` is set, the single-package outputs are not.
    assert_eq!(all["changed"], "true");
    assert!(all.get("next-version").is_none(), "{all}");

    // One package changed: its outputs are the usual ones too; a config file works.
    std::fs::write(
        repo.join("packages.toml"),
        "[[packages]]\nname = \"api\"\npath = \"api\"\ntag-pattern = \"api@{version}\"\n",
    )
    .unwrap();
    let (one, calls) = run(tmp.path(), &["--packages", "packages.toml"]);
    assert_eq!(calls.iter().filter(|c| *c == "log").count(), 1);
    assert_eq!(one["next-version"], "1.1.0");
    assert_eq!(one["next-tag"], "api@1.1.0");
}

#[test]
fn release_prs_config_is_read_the_same() {
    // One config for both actions: release-pr's `version-files` names files semver-bump
    // never writes, so the versions and tags are the same as without it.
    let tmp = tempfile::tempdir().unwrap();
    monorepo(tmp.path());
    let with_files = CONFIG.replace(
        "    tag-pattern: api@{version}\n",
        "    tag-pattern: api@{version}\n    version-files: [api/Cargo.toml]\n",
    );
    assert_ne!(with_files, CONFIG);
    let (plain, _) = run(tmp.path(), &["--packages", CONFIG]);
    let (shared, _) = run(tmp.path(), &["--packages", &with_files]);
    assert_eq!(plain, shared);
    assert!(plain.to_string().contains("api@1.1.0"), "{plain}");
}

#[test]
fn a_linked_group_shares_its_highest_next_version_as_release_pr_does() {
    // api and web released together at 1.0.0 and linked; cli on its own. A feat in api and
    // a fix in web: both get 1.1.0; a fix in cli alone: 0.3.1.
    let tmp = tempfile::tempdir().unwrap();
    let r = init(tmp.path());
    change(&r, &["api/a", "web/w", "cli/c"], "feat: start");
    for tag in ["api@1.0.0", "web@1.0.0", "cli@0.3.0"] {
        git(&r, &["tag", tag]);
    }
    change(&r, &["api/a"], "feat(api): search");
    change(&r, &["web/w"], "fix(web): layout");
    change(&r, &["cli/c"], "fix(cli): flags");
    let config = "- name: api\n  path: api\n  linked: platform\n- name: web\n  path: web\n  linked: platform\n- name: cli\n  path: cli\n";
    let (all, _) = run(tmp.path(), &["--packages", config]);
    let out: serde_json::Value = serde_json::from_str(all["packages"].as_str().unwrap()).unwrap();
    let next = |p: &str| out[p]["next-version"].as_str().map(String::from);
    assert_eq!(
        (next("api"), next("web"), next("cli")),
        (
            Some("1.1.0".into()),
            Some("1.1.0".into()),
            Some("0.3.1".into())
        ),
        "{out:#}"
    );
    // A member without a change of its own is released with its group.
    change(&r, &["api/a"], "chore: after");
    git(&r, &["tag", "api@1.1.0"]);
    git(&r, &["tag", "web@1.1.0"]);
    git(&r, &["tag", "cli@0.3.1"]);
    change(&r, &["api/a"], "fix(api): again");
    let (all, _) = run(tmp.path(), &["--packages", config]);
    let out: serde_json::Value = serde_json::from_str(all["packages"].as_str().unwrap()).unwrap();
    let next = |p: &str| out[p]["next-version"].as_str().map(String::from);
    assert_eq!(
        (next("api"), next("web"), next("cli")),
        (
            Some("1.1.1".into()),
            Some("1.1.1".into()),
            Some(String::new())
        ),
        "{out:#}"
    );
    assert_eq!(out["web"]["commit-count"], 0, "{out:#}");
}

#[test]
fn bad_package_configs_name_the_problem() {
    let tmp = tempfile::tempdir().unwrap();
    monorepo(tmp.path());
    for (config, want) in [
        ("- name: api\n", "`path` is missing"),
        (
            "- name: api\n  path: api\n  tag-pattern: '{version}@api'\n",
            "must end with `{version}`",
        ),
        ("nope.yml", "cannot read"),
    ] {
        let out = Command::new(BIN)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap())
            .args(["--dry-run", "--packages", config, "--repository-path"])
            .arg(tmp.path().join("repo"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{config}");
        let err = String::from_utf8_lossy(&out.stderr).to_string()
            + &String::from_utf8_lossy(&out.stdout);
        assert!(err.contains(want), "{config}: {err}");
    }
    let out = Command::new(BIN)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .args([
            "--dry-run",
            "--packages",
            "- name: a\n  path: a\n",
            "--path",
            "x",
        ])
        .arg("--repository-path")
        .arg(tmp.path().join("repo"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// Runs the binary as the runner would (`GITHUB_ACTIONS=true`, output and summary files):
/// exit code, stdout, stderr.
fn run_in_actions(root: &Path, args: &[&str]) -> (i32, String, String) {
    let files = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("HOME", root)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", files.path().join("output"))
        .env("GITHUB_STEP_SUMMARY", files.path().join("summary"))
        .args(["--dry-run", "--repository-path"])
        .arg(root.join("repo"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The workflow commands the runner would run from `stream`, but for the `stop-commands`
/// fences hub-kit puts around data (a fresh random token, closed by `::<token>::`).
fn commands_but_fences(stream: &str) -> Vec<(String, String)> {
    hub_kit::command::commands_in(stream)
        .into_iter()
        .filter(|(name, token)| {
            !(name == "stop-commands"
                && token.len() >= 16
                && token.bytes().all(|b| b.is_ascii_alphanumeric())
                && stream.contains(&format!("\n::{token}::")))
        })
        .collect()
}

#[test]
fn hostile_package_names_and_tag_prefixes_run_no_workflow_command() {
    let tmp = tempfile::tempdir().unwrap();
    monorepo(tmp.path());
    // A name with line breaks: refused, the package named by its position.
    let config = "packages:\n  - name: \"api\\r::error::forged\\n::add-mask::feat\\n::stop-commands::zzz\"\n    path: api\n    tag-pattern: api@{version}\n";
    let (code, stdout, stderr) = run_in_actions(tmp.path(), &["--packages", config]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("package 1: `name` holds a control character"),
        "{stdout}"
    );
    for stream in [&stdout, &stderr] {
        let run = commands_but_fences(stream);
        assert_eq!(run.len(), usize::from(stream == &stdout), "{stream}");
        assert!(run.iter().all(|(name, _)| name == "error"), "{run:?}");
    }
    // Names that only look like commands: accepted, logged as data.
    let config = "packages:\n  - name: '::add-mask::feat'\n    path: api\n    tag-pattern: api@{version}\n  - name: '::stop-commands::zzz'\n    path: web\n    tag-pattern: web-v{version}\n  - name: 'x ##[error]forged'\n    path: docs\n    tag-pattern: docs@{version}\n";
    let (code, stdout, stderr) = run_in_actions(tmp.path(), &["--packages", config]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("::add-mask::feat: api@1.0.0 -> api@1.1.0"),
        "{stdout}"
    );
    for stream in [&stdout, &stderr] {
        assert_eq!(commands_but_fences(stream), [], "{stream}");
    }
    // A tag prefix with a line break: a usage error naming the input.
    let (code, stdout, stderr) =
        run_in_actions(tmp.path(), &["--tag-prefix", "v\n::add-mask::feat"]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        (stdout.clone() + &stderr).contains("input `tag-prefix` cannot start a tag name"),
        "{stdout}{stderr}"
    );
    for stream in [&stdout, &stderr] {
        assert!(
            commands_but_fences(stream)
                .iter()
                .all(|(name, m)| name == "error" && !m.contains("add-mask")),
            "{stream}"
        );
    }
}

#[test]
fn a_packages_unreachable_highest_tag_is_passed_over_in_another_round() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = monorepo(tmp.path());
    // A higher api pre-release on a branch `to` does not contain.
    git(&repo, &["checkout", "-q", "-b", "next", "HEAD~2"]);
    change(&repo, &["api/next.rs"], "feat(api)!: next generation");
    git(&repo, &["tag", "-a", "-m", "rc", "api@2.0.0-rc.1"]);
    git(&repo, &["checkout", "-q", "main"]);
    let (all, calls) = run(tmp.path(), &["--packages", CONFIG]);
    let packages: serde_json::Value =
        serde_json::from_str(all["packages"].as_str().unwrap()).unwrap();
    assert_eq!(packages["api"]["current-tag"], "api@1.0.0");
    assert_eq!(packages["api"]["next-version"], "1.1.0");
    assert_eq!(packages["web"]["current-tag"], "web-v0.4.0");
    // The first round asks about api@2.0.0-rc.1 and web-v0.4.0, the second about api@1.0.0.
    assert_eq!(
        calls.iter().filter(|c| *c == "for-each-ref").count(),
        2,
        "git invocations: {calls:?}"
    );
    let (one, _) = run(tmp.path(), &["--tag-prefix", "api@", "--path", "api"]);
    assert_eq!(one["current-tag"], "api@1.0.0");
    assert_eq!(one["next-version"], "1.1.0");
}
