//! End to end: the built `hub-rollback` run as the runner runs it (`GITHUB_ACTIONS=true`,
//! `INPUT_*`, temporary `GITHUB_OUTPUT` and `GITHUB_STEP_SUMMARY`), against a real
//! releases directory, a real git repository and a small HTTP service on loopback that
//! answers with the version `current` points at when the request arrives.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_hub-rollback");

/// A deployment: `app/releases/{1.0.0,1.1.0}`, `app/current -> releases/1.1.0`, and a
/// repository tagged `v0.9.0`, `v1.0.0`, `v1.1.0-rc.1`, `v1.1.0`.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for v in ["1.0.0", "1.1.0"] {
            std::fs::create_dir_all(root.join("app/releases").join(v)).unwrap();
        }
        std::os::unix::fs::symlink("releases/1.1.0", root.join("app/current")).unwrap();
        let repo = root.join("repo");
        std::fs::create_dir(&repo).unwrap();
        let git = |args: &[&str]| {
            let out = Command::new("git")
                .args(args)
                .current_dir(&repo)
                .env("GIT_AUTHOR_NAME", "t")
                .env("GIT_AUTHOR_EMAIL", "t@example.com")
                .env("GIT_COMMITTER_NAME", "t")
                .env("GIT_COMMITTER_EMAIL", "t@example.com")
                .output()
                .unwrap();
            assert!(out.status.success(), "git {args:?}: {out:?}");
        };
        git(&["init", "-q"]);
        for tag in ["v0.9.0", "v1.0.0", "v1.1.0-rc.1", "v1.1.0"] {
            git(&["commit", "-q", "--allow-empty", "-m", tag]);
            git(&["tag", tag]);
        }
        Fixture { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn current(&self) -> PathBuf {
        std::fs::read_link(self.path("app/current")).unwrap()
    }

    /// Inputs every releases-dir run shares.
    fn base(&self) -> Vec<(String, String)> {
        vec![
            ("target".into(), "releases-dir".into()),
            (
                "releases-dir".into(),
                self.path("app").display().to_string(),
            ),
            (
                "repository-path".into(),
                self.path("repo").display().to_string(),
            ),
        ]
    }

    /// Runs the binary with these inputs; outputs and summary start empty each run.
    fn run(&self, inputs: &[(String, String)]) -> Run {
        let output_file = self.path("github_output");
        let summary_file = self.path("github_step_summary");
        std::fs::write(&output_file, "").unwrap();
        std::fs::write(&summary_file, "").unwrap();
        let mut cmd = Command::new(BIN);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", &output_file)
            .env("GITHUB_STEP_SUMMARY", &summary_file)
            .env("GITHUB_REPOSITORY", "org/app")
            .env("GITHUB_RUN_ID", "42")
            .current_dir(self.dir.path());
        for (name, value) in inputs {
            cmd.env(format!("INPUT_{}", name.to_uppercase()), value);
        }
        let out = cmd.output().unwrap();
        let outputs =
            hub_kit::files::parse_key_values(&std::fs::read_to_string(&output_file).unwrap())
                .into_iter()
                .collect();
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            outputs,
            summary: std::fs::read_to_string(&summary_file).unwrap(),
        }
    }
}

fn inputs(base: Vec<(String, String)>, more: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut all = base;
    all.extend(more.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    all
}

#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    outputs: BTreeMap<String, String>,
    summary: String,
}

impl Run {
    fn output(&self, name: &str) -> &str {
        self.outputs
            .get(name)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("no output `{name}` in {self:#?}"))
    }
}

/// A tiny HTTP service on loopback. With `status` 200 it answers
/// `version=<the release current points at now>`; it remembers every body it sent. It stops
/// when dropped, and by itself after a minute.
struct Service {
    url: String,
    served: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl Service {
    fn start(current: PathBuf, status: u16) -> Service {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}/health", listener.local_addr().unwrap());
        let served = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (served2, stop2) = (served.clone(), stop.clone());
        std::thread::spawn(move || {
            let until = Instant::now() + Duration::from_secs(60);
            while !stop2.load(Ordering::SeqCst) && Instant::now() < until {
                let Ok((mut conn, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                conn.set_nonblocking(false).unwrap();
                conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let version = std::fs::read_link(&current)
                    .ok()
                    .and_then(|t| t.file_name().map(|n| n.to_string_lossy().into_owned()))
                    .unwrap_or_default();
                let body = format!("version={version}");
                let reason = if status == 200 {
                    "OK"
                } else {
                    "Service Unavailable"
                };
                let _ = write!(
                    conn,
                    "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                served2.lock().unwrap().push(body);
            }
        });
        Service { url, served, stop }
    }

    fn served(&self) -> Vec<String> {
        self.served.lock().unwrap().clone()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn audit_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn rolls_back_to_the_previous_release_and_sees_it_answer() {
    let f = Fixture::new();
    let service = Service::start(f.path("app/current"), 200);
    let audit = f.path("audit/rollback.jsonl");
    let restart =
        r#"sh -c 'printf "%s -> %s\n" "$HUB_ROLLBACK_FROM" "$HUB_ROLLBACK_VERSION" > restarted'"#;
    let run_inputs = inputs(
        f.base(),
        &[
            ("restart-command", restart),
            ("health-urls", &format!("\n{}\n", service.url)),
            ("health-body", "version=1.0.0"),
            ("timeout", "20s"),
            ("audit-log", &audit.display().to_string()),
        ],
    );
    let run = f.run(&run_inputs);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(
        run.stderr, "",
        "inside Actions everything goes through the runner protocol"
    );
    assert_eq!(f.current(), Path::new("releases/1.0.0"));
    assert_eq!(run.output("rolled-back-to"), "1.0.0");
    assert_eq!(run.output("rolled-back-from"), "1.1.0");
    assert_eq!(run.output("healthy"), "true");
    assert_eq!(run.output("changed"), "true");
    assert_eq!(run.output("audit-log"), audit.display().to_string());
    assert!(run.output("duration-seconds").parse::<f64>().unwrap() >= 0.0);
    // The restart saw both versions, as data in its environment.
    assert_eq!(
        std::fs::read_to_string(f.path("app/restarted")).unwrap(),
        "1.1.0 -> 1.0.0\n"
    );
    // The health check really talked to the old release.
    assert_eq!(
        service.served().last().map(String::as_str),
        Some("version=1.0.0")
    );
    // v1.1.0-rc.1 sits between, but a rollback never picks a pre-release.
    assert!(
        run.stdout.contains("previous release tag `v1.0.0`"),
        "{}",
        run.stdout
    );
    let lines = audit_lines(&audit);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["from"], "1.1.0");
    assert_eq!(lines[0]["to"], "1.0.0");
    assert_eq!(lines[0]["result"], "rolled-back");
    assert_eq!(lines[0]["healthy"], "true");
    assert_eq!(lines[0]["repository"], "org/app");
    assert_eq!(lines[0]["run_id"], "42");
    for step in [
        "| started |",
        "switched",
        "ran `restart-command` (exit status 0)",
        "healthy after",
    ] {
        assert!(run.summary.contains(step), "{step} not in\n{}", run.summary);
    }

    // Re-running changes nothing and says so.
    std::fs::remove_file(f.path("app/restarted")).unwrap();
    let again = f.run(&run_inputs);
    assert_eq!(again.code, Some(0), "{again:#?}");
    assert_eq!(f.current(), Path::new("releases/1.0.0"));
    assert_eq!(again.output("rolled-back-to"), "1.0.0");
    assert_eq!(again.output("changed"), "false");
    assert_eq!(again.output("healthy"), "true");
    assert!(again.stdout.contains("already live"), "{}", again.stdout);
    assert!(!f.path("app/restarted").exists(), "no restart on a no-op");
    let lines = audit_lines(&audit);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["result"], "already-there");
}

#[test]
fn unhealthy_release_fails_the_run() {
    let f = Fixture::new();
    let service = Service::start(f.path("app/current"), 503);
    let run = f.run(&inputs(
        f.base(),
        &[("health-urls", &service.url), ("timeout", "1s")],
    ));
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert_eq!(run.output("healthy"), "false");
    assert_eq!(run.output("rolled-back-to"), "1.0.0");
    assert!(
        run.stdout.contains("did not become healthy within 1s"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("status 503, expected 200"),
        "{}",
        run.stdout
    );
    assert!(!service.served().is_empty());
    // The switch stands (going back to the bad version would not help); the record says
    // what happened.
    assert_eq!(f.current(), Path::new("releases/1.0.0"));
    assert!(run.summary.contains("**unhealthy**"), "{}", run.summary);
}

#[test]
fn health_command_times_out() {
    let f = Fixture::new();
    let run = f.run(&inputs(
        f.base(),
        &[("health-command", "sh -c 'exit 7'"), ("timeout", "500ms")],
    ));
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert_eq!(run.output("healthy"), "false");
    assert!(
        run.stdout.contains("health-command: exit status 7"),
        "{}",
        run.stdout
    );
}

#[test]
fn dry_run_shows_the_exact_plan_and_changes_nothing() {
    let f = Fixture::new();
    let audit = f.path("audit.jsonl");
    let run = f.run(&inputs(
        f.base(),
        &[
            ("restart-command", "touch 'restarted here'"),
            ("dry-run", "true"),
            ("audit-log", &audit.display().to_string()),
        ],
    ));
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(f.current(), Path::new("releases/1.1.0"));
    assert!(!f.path("app/restarted here").exists());
    assert!(!audit.exists());
    assert!(!f.path("app/.hub-rollback.json").exists());
    let app = f.path("app").display().to_string();
    // The temporary link's name is chosen in the plan, so the plan shows it exactly.
    let switch = run
        .stdout
        .lines()
        .find(|l| l.starts_with("1. switch: symlink "))
        .unwrap_or_else(|| panic!("no switch step in\n{}", run.stdout));
    let tmp = switch
        .strip_prefix(&format!("1. switch: symlink `{app}/current.tmp-"))
        .and_then(|rest| rest.split_once('`'))
        .map(|(hex, _)| hex)
        .unwrap_or_else(|| panic!("{switch}"));
    assert!(
        tmp.len() == 16 && tmp.chars().all(|c| c.is_ascii_hexdigit()),
        "{switch}"
    );
    for want in [
        format!(
            "1. switch: symlink `{app}/current.tmp-{tmp}` -> `releases/1.0.0`, then rename it over `{app}/current`"
        ),
        format!(
            r#"2. run `restart-command`: ["touch","restarted here"] in `{app}` with HUB_ROLLBACK_VERSION=1.0.0 HUB_ROLLBACK_FROM=1.1.0, killed after 60s"#
        ),
        "dry run: nothing changed".to_string(),
    ] {
        assert!(run.stdout.contains(&want), "{want}\nnot in\n{}", run.stdout);
    }
    assert_eq!(run.output("rolled-back-to"), "1.0.0");
    assert_eq!(run.output("changed"), "false");
    let leftovers: Vec<_> = std::fs::read_dir(f.path("app"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers.len(), 2, "{leftovers:?}");
}

#[test]
fn hostile_versions_are_refused_before_anything_runs() {
    let f = Fixture::new();
    for hostile in ["1.0; rm -rf /", "$(id)", "../../etc", "1.0.0\nfrom=9.9.9"] {
        for input in ["version", "from"] {
            let run = f.run(&inputs(
                f.base(),
                &[(input, hostile), ("restart-command", "touch restarted")],
            ));
            assert_eq!(run.code, Some(2), "{input}={hostile}: {run:#?}");
            assert!(
                run.stdout
                    .contains(&format!("input `{input}` must be a semantic version")),
                "{}",
                run.stdout
            );
            assert_eq!(f.current(), Path::new("releases/1.1.0"));
            assert!(!f.path("app/restarted").exists());
            assert!(run.outputs.is_empty(), "{:?}", run.outputs);
        }
    }
}

#[test]
fn command_lines_reach_the_program_as_data() {
    let f = Fixture::new();
    // The line looks like shell, but no shell reads it: `sh -c` here is the user's own
    // choice of program, and every other word reaches it verbatim as `$1`, `$2`, ….
    let restart = r#"sh -c 'printf "%s\n" "$@" > argv.txt; printf %s "$HUB_ROLLBACK_VERSION" > version.txt' sh $(id) ';touch pwned' `id` "$HUB_ROLLBACK_VERSION" && touch pwned2"#;
    let run = f.run(&inputs(
        f.base(),
        &[("restart-command", restart), ("version", "v1.0.0")],
    ));
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(
        std::fs::read_to_string(f.path("app/argv.txt")).unwrap(),
        "$(id)\n;touch pwned\n`id`\n$HUB_ROLLBACK_VERSION\n&&\ntouch\npwned2\n"
    );
    assert_eq!(
        std::fs::read_to_string(f.path("app/version.txt")).unwrap(),
        "1.0.0"
    );
    for file in ["pwned", "pwned2", "app/pwned", "app/pwned2"] {
        assert!(!f.path(file).exists(), "{file}");
    }
}

#[test]
fn command_backend_gets_the_version_from_the_tags() {
    let f = Fixture::new();
    let run = f.run(&inputs(
        vec![
            ("target".into(), "command".into()),
            ("repository-path".into(), f.path("repo").display().to_string()),
        ],
        &[
            (
                "command",
                r#"sh -c 'printf "%s>%s" "$HUB_ROLLBACK_FROM" "$HUB_ROLLBACK_VERSION" > deployed.txt'"#,
            ),
            ("from", "v1.1.0"),
            ("health-command", "test -f deployed.txt"),
            ("timeout", "5s"),
        ],
    ));
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(
        std::fs::read_to_string(f.path("deployed.txt")).unwrap(),
        "1.1.0>1.0.0"
    );
    assert_eq!(run.output("rolled-back-to"), "1.0.0");
    assert_eq!(run.output("healthy"), "true");
    assert_eq!(run.output("changed"), "true");
}

#[test]
fn refuses_what_is_not_a_rollback() {
    let f = Fixture::new();
    let cmd = |more: &[(&str, &str)]| {
        let mut i = vec![
            ("target".to_string(), "command".to_string()),
            ("command".into(), "touch ran".into()),
            (
                "repository-path".into(),
                f.path("repo").display().to_string(),
            ),
        ];
        i.extend(more.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        f.run(&i)
    };
    let same = cmd(&[("version", "1.0.0"), ("from", "v1.0.0")]);
    assert_eq!(same.code, Some(1), "{same:#?}");
    assert!(
        same.stdout.contains("never returns to the same version"),
        "{}",
        same.stdout
    );
    let up = cmd(&[("version", "1.1.0"), ("from", "1.0.0")]);
    assert_eq!(up.code, Some(1));
    assert!(up.stdout.contains("only goes back"), "{}", up.stdout);
    let none = cmd(&[("from", "0.9.0")]);
    assert_eq!(none.code, Some(1));
    assert!(
        none.stdout.contains("no earlier release to roll back to"),
        "{}",
        none.stdout
    );
    let unknown = cmd(&[]);
    assert_eq!(unknown.code, Some(2));
    assert!(
        unknown.stdout.contains("needs `from`"),
        "{}",
        unknown.stdout
    );
    assert!(!f.path("ran").exists());

    // releases-dir: the release below must have a directory.
    std::fs::remove_dir(f.path("app/releases/1.0.0")).unwrap();
    let run = f.run(&f.base());
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.stdout.contains("no earlier release"), "{}", run.stdout);
    assert_eq!(f.current(), Path::new("releases/1.1.0"));

    let mixed = f.run(&inputs(f.base(), &[("command", "touch ran")]));
    assert_eq!(mixed.code, Some(2), "{mixed:#?}");
    assert!(
        mixed
            .stdout
            .contains("input `command` does not apply to target `releases-dir`"),
        "{}",
        mixed.stdout
    );

    for (target, needs) in [
        ("kubernetes", "deployment"),
        ("helm", "release"),
        ("compose", "compose-file"),
    ] {
        let run = f.run(&[("target".into(), target.into())]);
        assert_eq!(run.code, Some(2), "{run:#?}");
        assert!(
            run.stdout
                .contains(&format!("target `{target}` needs the input `{needs}`")),
            "{}",
            run.stdout
        );
    }
    let run = f.run(&[
        ("target".into(), "kubernetes".into()),
        ("deployment".into(), "--all".into()),
    ]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(
        run.stdout.contains("input `deployment` must be a name"),
        "{}",
        run.stdout
    );
    let run = f.run(&[
        ("target".into(), "helm".into()),
        ("release".into(), "web".into()),
        ("image".into(), "ghcr.io/org/web".into()),
    ]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(
        run.stdout
            .contains("input `image` does not apply to target `helm`"),
        "{}",
        run.stdout
    );

    let run = f.run(&[("target".into(), "github-deployment".into())]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(
        run.stdout
            .contains("target `github-deployment` needs the input `environment`"),
        "{}",
        run.stdout
    );
    let run = f.run(&[
        ("target".into(), "github-deployment".into()),
        ("environment".into(), "production".into()),
    ]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(run.stdout.contains("needs a token"), "{}", run.stdout);
}

#[test]
fn a_failed_restart_is_finished_by_the_rerun() {
    let f = Fixture::new();
    let run_inputs = inputs(
        f.base(),
        &[(
            "restart-command",
            "sh -c 'test -e may-restart && touch restarted'",
        )],
    );
    let first = f.run(&run_inputs);
    assert_eq!(first.code, Some(1), "{first:#?}");
    assert_eq!(f.current(), Path::new("releases/1.0.0"));
    assert_eq!(first.output("changed"), "true");
    std::fs::write(f.path("app/may-restart"), "").unwrap();
    let second = f.run(&run_inputs);
    assert_eq!(second.code, Some(0), "{second:#?}");
    assert!(f.path("app/restarted").exists());
    assert_eq!(
        f.current(),
        Path::new("releases/1.0.0"),
        "not one step further"
    );
    assert_eq!(second.output("rolled-back-from"), "1.1.0");
    std::fs::remove_file(f.path("app/restarted")).unwrap();
    let third = f.run(&run_inputs);
    assert_eq!(third.code, Some(0));
    assert!(
        !f.path("app/restarted").exists(),
        "finished: a re-run is a no-op"
    );
}

#[test]
fn a_slow_command_is_killed_at_the_timeout_with_its_children() {
    let f = Fixture::new();
    // The restart starts a child that would leave a marker after 3 s, then hangs.
    let restart = "sh -c '(sleep 3; touch late) & sleep 60'";
    let run = f.run(&inputs(
        f.base(),
        &[("restart-command", restart), ("timeout", "1s")],
    ));
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(
        run.stdout.contains(
            r#"`restart-command` ["sh","-c","(sleep 3; touch late) & sleep 60"] timed out after 1s (killed with its process group)"#
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.summary.contains("timed out after 1s"),
        "{}",
        run.summary
    );
    // The switch happened; the record says the restart did not finish, so a re-run
    // runs it again rather than stepping further back.
    assert_eq!(f.current(), Path::new("releases/1.0.0"));
    std::thread::sleep(Duration::from_millis(3500));
    assert!(
        !f.path("app/late").exists(),
        "the restart's child was killed too"
    );

    // The `command` backend's command has the same limit.
    let run = f.run(&inputs(
        vec![("target".into(), "command".into())],
        &[
            ("command", "sleep 60"),
            ("version", "1.0.0"),
            ("from", "1.1.0"),
            ("timeout", "500ms"),
        ],
    ));
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(
        run.stdout
            .contains(r#"`command` ["sleep","60"] timed out after 500ms"#),
        "{}",
        run.stdout
    );
}
