//! End to end: the built `hub-rollback` run as the runner runs it (`GITHUB_ACTIONS=true`,
//! `INPUT_*`, temporary `GITHUB_OUTPUT` and `GITHUB_STEP_SUMMARY`), against a real
//! releases directory, a real git repository and a small HTTP service on loopback that
//! answers with the version `current` points at when the request arrives.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hub_testkit::bin::{Action, Files, Run};
use hub_testkit::http::{Server, reply};
use hub_testkit::sshd::Sshd;

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
            hub_testkit::git::git(&repo, args);
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
        let (mut cmd, files) = self.command(inputs, "");
        let out = cmd.output().unwrap();
        files.finish(&out)
    }

    /// Starts the binary with these inputs; `tag` keeps its output files apart from those
    /// of another run going on at the same time.
    fn spawn(&self, inputs: &[(String, String)], tag: &str) -> (std::process::Child, Files) {
        let (mut cmd, files) = self.command(inputs, tag);
        let child = cmd
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        (child, files)
    }

    /// [`Fixture::run`] with extra environment variables (a proxy).
    fn run_env(&self, inputs: &[(String, String)], env: &[(&str, &str)]) -> Run {
        let (mut cmd, files) = self.command(inputs, "");
        cmd.envs(env.iter().copied());
        let out = cmd.output().unwrap();
        files.finish(&out)
    }

    fn command(&self, inputs: &[(String, String)], tag: &str) -> (Command, Files) {
        let inputs: Vec<(&str, &str)> = inputs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        Action::new(BIN, self.dir.path())
            .env("GITHUB_REPOSITORY", "org/app")
            .env("GITHUB_RUN_ID", "42")
            .command(&inputs, tag)
    }
}

fn inputs(base: Vec<(String, String)>, more: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut all = base;
    all.extend(more.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    all
}

/// A tiny HTTP service on loopback. With `status` 200 it answers
/// `version=<the release current points at now>`; it remembers every body it sent. It stops
/// when dropped, and by itself after a minute.
struct Service {
    url: String,
    served: Arc<Mutex<Vec<String>>>,
    _server: Server,
}

impl Service {
    fn start(current: PathBuf, status: u16) -> Service {
        let served = Arc::new(Mutex::new(Vec::new()));
        let log = served.clone();
        let server = Server::for_at_most(Duration::from_secs(60), move |_, _| {
            let version = std::fs::read_link(&current)
                .ok()
                .and_then(|t| t.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_default();
            let body = format!("version={version}");
            let status = if status == 200 {
                "200 OK"
            } else {
                "503 Service Unavailable"
            };
            let answer = reply(status, "Content-Type: text/plain\r\n", body.as_bytes());
            log.lock().unwrap().push(body);
            Some(answer)
        });
        Service {
            url: server.url("/health"),
            served,
            _server: server,
        }
    }

    fn served(&self) -> Vec<String> {
        self.served.lock().unwrap().clone()
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
    assert_eq!(lines[0]["healthy"], true);
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
            r#"2. run `restart-command`: ["touch","restarted here"] in `{app}` with HUB_ROLLBACK_VERSION=1.0.0 HUB_ROLLBACK_TAG=v1.0.0 HUB_ROLLBACK_FROM=1.1.0, killed after 60s"#
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
                r#"sh -c 'printf "%s>%s (%s)" "$HUB_ROLLBACK_FROM" "$HUB_ROLLBACK_VERSION" "$HUB_ROLLBACK_TAG" > deployed.txt'"#,
            ),
            ("from", "v1.1.0"),
            ("health-command", "test -f deployed.txt"),
            ("timeout", "5s"),
        ],
    ));
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(
        std::fs::read_to_string(f.path("deployed.txt")).unwrap(),
        "1.1.0>1.0.0 (v1.0.0)"
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

    // `host` is a destination, never an option or a shell word; `ssh-options` needs it;
    // neither applies elsewhere.
    for hostile in [
        "-oProxyCommand=touch pwned",
        "web1; touch pwned",
        "$(touch pwned)",
    ] {
        let run = f.run(&inputs(f.base(), &[("host", hostile)]));
        assert_eq!(run.code, Some(2), "{hostile}: {run:#?}");
        assert!(
            run.stdout.contains("input `host` must be"),
            "{}",
            run.stdout
        );
    }
    let run = f.run(&inputs(f.base(), &[("ssh-options", "-p 2222")]));
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(
        run.stdout
            .contains("input `ssh-options` needs the input `host`"),
        "{}",
        run.stdout
    );
    let run = f.run(&[
        ("target".into(), "helm".into()),
        ("release".into(), "web".into()),
        ("host".into(), "web1".into()),
    ]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(
        run.stdout
            .contains("input `host` does not apply to target `helm`"),
        "{}",
        run.stdout
    );
    assert!(!f.path("pwned").exists() && !f.path("app/pwned").exists());
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
fn a_checkout_without_the_tags_says_how_to_get_them() {
    let f = Fixture::new();
    let command = |repo: &Path, more: &[(&str, &str)]| {
        f.run(&inputs(
            vec![
                ("target".into(), "command".into()),
                ("command".into(), "touch ran".into()),
                ("repository-path".into(), repo.display().to_string()),
            ],
            more,
        ))
    };
    // What actions/checkout does by default: one commit, `--no-tags`.
    let shallow = f.path("shallow");
    std::fs::create_dir(&shallow).unwrap();
    let origin = format!("file://{}", f.path("repo").display());
    hub_testkit::git::git(&shallow, &["init", "-q"]);
    hub_testkit::git::git(
        &shallow,
        &["fetch", "-q", "--no-tags", "--depth=1", &origin, "HEAD"],
    );
    let run = command(&shallow, &[("from", "1.1.0")]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(
        run.stdout.contains("no earlier release to roll back to")
            && run.stdout.contains("is a shallow clone")
            && run.stdout.contains("`fetch-depth: 0`"),
        "{}",
        run.stdout
    );
    // A full clone of a repository that has no tag yet.
    let untagged = f.path("untagged");
    std::fs::create_dir(&untagged).unwrap();
    hub_testkit::git::git(&untagged, &["init", "-q"]);
    hub_testkit::git::git(&untagged, &["commit", "-q", "--allow-empty", "-m", "x"]);
    let run = command(&untagged, &[("from", "1.1.0")]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.stdout.contains("has no tags at all"), "{}", run.stdout);
    // The complete repository: the plain message, no hint.
    let run = command(&f.path("repo"), &[("from", "0.9.0")]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(
        !run.stdout.contains("shallow") && !run.stdout.contains("no tags at all"),
        "{}",
        run.stdout
    );
    assert!(!f.path("ran").exists());
}

#[test]
fn version_messages_and_the_programs_own_version() {
    let f = Fixture::new();
    // With no tag prefix there is one spelling, and the message offers no other.
    let run = f.run(&[
        ("target".into(), "command".into()),
        ("command".into(), "touch ran".into()),
        ("tag-prefix".into(), "none".into()),
        ("from".into(), "v1.1.0".into()),
    ]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(
        run.stdout
            .contains("input `from` must be a semantic version such as `1.2.3`, got `v1.1.0`"),
        "{}",
        run.stdout
    );
    // `--version` is the version to roll back to; `-V` prints the program's.
    let out = Command::new(BIN).arg("-V").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("hub-rollback {}\n", env!("CARGO_PKG_VERSION"))
    );
    let help = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("-V"), "{help}");
    assert!(help.contains("--version <TO_VERSION>"), "{help}");
}

#[test]
fn a_releases_dir_that_does_not_exist_is_named_and_not_created() {
    let f = Fixture::new();
    let typo = f.path("ap");
    for dry_run in ["true", "false"] {
        let run = f.run(&inputs(
            vec![
                ("target".into(), "releases-dir".into()),
                ("releases-dir".into(), typo.display().to_string()),
                (
                    "repository-path".into(),
                    f.path("repo").display().to_string(),
                ),
            ],
            &[("dry-run", dry_run), ("restart-command", "touch ran")],
        ));
        assert_eq!(run.code, Some(1), "{run:#?}");
        assert!(
            run.stdout.contains(&format!(
                "the releases directory `{}` does not exist",
                typo.display()
            )),
            "{}",
            run.stdout
        );
        assert!(!typo.exists(), "a mistyped releases-dir is created");
        assert_eq!(run.output("status"), "failed");
    }
}

#[test]
fn a_zero_timeout_is_a_usage_error_before_anything_runs() {
    // `timeout: 0` reads as "no limit" in many tools; here it would kill the restart at once
    // after the switch.
    let f = Fixture::new();
    for zero in ["0", "0s", "0m"] {
        let run = f.run(&inputs(
            f.base(),
            &[("timeout", zero), ("restart-command", "touch ran")],
        ));
        assert_eq!(run.code, Some(2), "{zero}: {run:#?}");
        assert!(
            run.stdout
                .contains("input `timeout` must be longer than zero"),
            "{}",
            run.stdout
        );
        assert_eq!(f.current(), Path::new("releases/1.1.0"));
        assert!(!f.path("app/ran").exists());
    }
}

#[test]
fn a_relative_restart_command_says_where_it_was_looked_up() {
    // `./restart.sh` next to the workflow's checkout, not in the releases directory the
    // restart runs in.
    let f = Fixture::new();
    let script = f.path("restart.sh");
    std::fs::write(&script, "#!/bin/sh\ntouch restarted\n").unwrap();
    let mut mode = std::fs::metadata(&script).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut mode, 0o755);
    std::fs::set_permissions(&script, mode).unwrap();
    let run = f.run(&inputs(f.base(), &[("restart-command", "./restart.sh")]));
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(
        run.stdout.contains(&format!(
            "`restart-command` could not run (a relative program path is looked up in `{}`, where it runs)",
            f.path("app").display()
        )),
        "{}",
        run.stdout
    );
    assert_eq!(run.output("status"), "failed");
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

#[test]
fn two_rollbacks_at_once_take_turns_and_the_second_finds_it_done() {
    let f = Fixture::new();
    // A slow restart keeps the first rollback busy while the second one starts.
    let run_inputs = inputs(
        f.base(),
        &[
            (
                "restart-command",
                "sh -c 'echo start >> restarts; sleep 2; echo end >> restarts'",
            ),
            ("timeout", "30s"),
        ],
    );
    let (a, a_files) = f.spawn(&run_inputs, "-a");
    let (b, b_files) = f.spawn(&run_inputs, "-b");
    let a = a_files.finish(&a.wait_with_output().unwrap());
    let b = b_files.finish(&b.wait_with_output().unwrap());
    assert_eq!((a.code, b.code), (Some(0), Some(0)), "{a:#?}\n{b:#?}");
    assert_eq!(
        f.current(),
        Path::new("releases/1.0.0"),
        "one step back only"
    );
    // Exactly one of them switched and restarted; the other waited for the lock, then
    // found `1.0.0` live.
    let mut changed = [a.output("changed"), b.output("changed")];
    changed.sort_unstable();
    assert_eq!(changed, ["false", "true"], "{a:#?}\n{b:#?}");
    let waiter = if a.output("changed") == "false" {
        &a
    } else {
        &b
    };
    assert!(
        waiter.stdout.contains("waiting up to 30s for the lock"),
        "{}",
        waiter.stdout
    );
    assert!(waiter.stdout.contains("already live"), "{}", waiter.stdout);
    assert_eq!(
        std::fs::read_to_string(f.path("app/restarts")).unwrap(),
        "start\nend\n"
    );
    assert_eq!(waiter.output("rolled-back-from"), "1.1.0");
}

#[test]
fn command_rollbacks_at_once_do_not_interleave() {
    let f = Fixture::new();
    let log = f.path("log");
    let command = format!(
        "sh -c 'echo start >> {0}; sleep 1; echo end >> {0}'",
        log.display()
    );
    let run_inputs = inputs(
        vec![("target".into(), "command".into())],
        &[
            ("command", &command),
            ("version", "1.0.0"),
            ("from", "1.1.0"),
            ("timeout", "30s"),
        ],
    );
    let (a, a_files) = f.spawn(&run_inputs, "-a");
    let (b, b_files) = f.spawn(&run_inputs, "-b");
    let a = a_files.finish(&a.wait_with_output().unwrap());
    let b = b_files.finish(&b.wait_with_output().unwrap());
    assert_eq!((a.code, b.code), (Some(0), Some(0)), "{a:#?}\n{b:#?}");
    // Without GitHub deployments a `command` rollback cannot tell it was done: both run,
    // one after the other.
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "start\nend\nstart\nend\n"
    );
}

/// Holds `path` locked with `flock(1)` until dropped.
struct Holder(std::process::Child);

impl Holder {
    fn lock(path: &Path) -> Holder {
        let child = Command::new("flock")
            .args(["-o"])
            .arg(path)
            .args(["sleep", "30"])
            .spawn()
            .unwrap();
        let until = Instant::now() + Duration::from_secs(10);
        // Held once a non-blocking attempt fails.
        while Command::new("flock")
            .arg("-n")
            .arg(path)
            .arg("true")
            .status()
            .unwrap()
            .success()
        {
            assert!(
                Instant::now() < until,
                "flock never took {}",
                path.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Holder(child)
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_rollback_that_cannot_get_the_lock_gives_up_at_the_timeout() {
    let f = Fixture::new();
    let holder = Holder::lock(&f.path("app/.hub-rollback.lock"));
    let run = f.run(&inputs(
        f.base(),
        &[("restart-command", "touch restarted"), ("timeout", "1s")],
    ));
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(
        run.stdout.contains("still holds the lock")
            && run.stdout.contains("after 1s (the `timeout`)"),
        "{}",
        run.stdout
    );
    assert_eq!(f.current(), Path::new("releases/1.1.0"), "nothing changed");
    assert!(!f.path("app/restarted").exists());
    drop(holder);
    let run = f.run(&inputs(f.base(), &[("timeout", "1s")]));
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(f.current(), Path::new("releases/1.0.0"));
}

#[test]
fn releases_dir_over_ssh_switches_restarts_and_is_seen_answering() {
    let Some(sshd) = Sshd::start() else {
        return;
    };
    let f = Fixture::new();
    let service = Service::start(f.path("app/current"), 200);
    let host = sshd.host();
    let options = sshd.options();
    let restart = r#"sh -c 'printf "%s -> %s in %s\n" "$HUB_ROLLBACK_FROM" "$HUB_ROLLBACK_VERSION" "$PWD" > restarted' $(id)"#;
    let run_inputs = inputs(
        f.base(),
        &[
            ("host", &host),
            ("ssh-options", &options),
            ("restart-command", restart),
            ("health-urls", &service.url),
            ("health-body", "version=1.0.0"),
            ("timeout", "20s"),
        ],
    );
    let app = f.path("app").display().to_string();

    // The dry run shows the exact remote commands and changes nothing.
    let mut dry_inputs = run_inputs.clone();
    dry_inputs.push(("dry-run".into(), "true".into()));
    let dry = f.run(&dry_inputs);
    assert_eq!(dry.code, Some(0), "{dry:#?}\n{}", sshd.log());
    let ssh_prefix = format!(
        r#"["ssh","-T","-o","BatchMode=yes","-F","none","-i","{0}/client_key","-o","IdentitiesOnly=yes","-o","UserKnownHostsFile={0}/known_hosts","-o","StrictHostKeyChecking=yes","-o","ConnectTimeout=10","--","{host}","#,
        sshd.dir().display()
    );
    for want in [
        format!(
            "1. switch on `{host}`: {ssh_prefix}\"cd -- '{app}' || exit 1; ln -sfn -- 'releases/1.0.0' 'current.tmp-"
        ),
        "' && mv -T -- 'current.tmp-".to_string(),
        format!(
            r#"2. run `restart-command`: {ssh_prefix}"cd -- '{app}' || exit 1; HUB_ROLLBACK_VERSION='1.0.0' HUB_ROLLBACK_TAG='v1.0.0' HUB_ROLLBACK_FROM='1.1.0' 'sh' '-c' 'printf \"%s -> %s in %s\\n\" \"$HUB_ROLLBACK_FROM\" \"$HUB_ROLLBACK_VERSION\" \"$PWD\" > restarted' '$(id)'"] with"#
        ),
    ] {
        assert!(dry.stdout.contains(&want), "{want}\nnot in\n{}", dry.stdout);
    }
    assert_eq!(f.current(), Path::new("releases/1.1.0"));
    assert!(!f.path("app/restarted").exists());

    let run = f.run(&run_inputs);
    assert_eq!(run.code, Some(0), "{run:#?}\n{}", sshd.log());
    assert_eq!(f.current(), Path::new("releases/1.0.0"));
    assert_eq!(run.output("rolled-back-to"), "1.0.0");
    assert_eq!(run.output("rolled-back-from"), "1.1.0");
    assert_eq!(run.output("healthy"), "true");
    assert_eq!(run.output("changed"), "true");
    // The restart ran on the host, in the directory, with the versions as data.
    assert_eq!(
        std::fs::read_to_string(f.path("app/restarted")).unwrap(),
        format!("1.1.0 -> 1.0.0 in {app}\n")
    );
    assert_eq!(
        service.served().last().map(String::as_str),
        Some("version=1.0.0"),
        "the health check saw the old release answering"
    );
    let leftovers: Vec<_> = std::fs::read_dir(f.path("app"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // The record went to the host too: a re-run is a no-op.
    std::fs::remove_file(f.path("app/restarted")).unwrap();
    let again = f.run(&run_inputs);
    assert_eq!(again.code, Some(0), "{again:#?}");
    assert_eq!(again.output("changed"), "false");
    assert!(again.stdout.contains("already live"), "{}", again.stdout);
    assert!(!f.path("app/restarted").exists());
    assert_eq!(f.current(), Path::new("releases/1.0.0"));

    // The lock is taken on the host: while another holds it, this one gives up.
    let holder = Holder::lock(&f.path("app/.hub-rollback.lock"));
    let mut locked = run_inputs.clone();
    locked.retain(|(k, _)| k != "timeout");
    locked.push(("timeout".into(), "1s".into()));
    let run = f.run(&locked);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(
        run.stdout.contains("waiting up to 1s for the lock")
            && run
                .stdout
                .contains("still holds the lock `.hub-rollback.lock` after 1s"),
        "{}",
        run.stdout
    );
    drop(holder);

    // A host that refuses the key: a clear error, nothing changed.
    let mut refused = run_inputs.clone();
    refused.retain(|(k, _)| k != "ssh-options");
    refused.push((
        "ssh-options".into(),
        options.replace("client_key", "host_key"),
    ));
    let run = f.run(&refused);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(
        run.stdout.contains("cannot take the lock on"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("Permission denied"), "{}", run.stdout);

    // A restart that failed on the host is finished by the re-run, from the record kept
    // there, without stepping further back.
    let g = Fixture::new();
    let remote = inputs(
        g.base(),
        &[
            ("host", &host),
            ("ssh-options", &options),
            (
                "restart-command",
                "sh -c 'test -e may-restart && touch restarted'",
            ),
            ("timeout", "20s"),
        ],
    );
    let first = g.run(&remote);
    assert_eq!(first.code, Some(1), "{first:#?}");
    assert!(
        first.stdout.contains("failed: exit status 1"),
        "{}",
        first.stdout
    );
    assert_eq!(g.current(), Path::new("releases/1.0.0"));
    std::fs::write(g.path("app/may-restart"), "").unwrap();
    let second = g.run(&remote);
    assert_eq!(second.code, Some(0), "{second:#?}");
    assert!(g.path("app/restarted").exists());
    assert_eq!(g.current(), Path::new("releases/1.0.0"));
    assert_eq!(second.output("rolled-back-from"), "1.1.0");
}

/// A release directory that resolves outside `releases/` — a symlink to an absolute path,
/// one through `..`, one to a sibling of `releases/` — is never switched to: the plan (the
/// dry run too) names it and fails, `current` and the restart are untouched, and the
/// outputs say the run failed without rolling back.
#[test]
fn a_release_that_resolves_outside_the_releases_directory_is_refused() {
    for (how, link) in [
        ("absolute", None),
        ("dot-dot", Some("../../outside")),
        ("sibling", Some("../outside-sibling")),
    ] {
        let f = Fixture::new();
        std::fs::create_dir_all(f.path("outside")).unwrap();
        std::fs::create_dir_all(f.path("app/outside-sibling")).unwrap();
        std::fs::remove_dir(f.path("app/releases/1.0.0")).unwrap();
        let link = link.map_or_else(|| f.path("outside"), PathBuf::from);
        std::os::unix::fs::symlink(&link, f.path("app/releases/1.0.0")).unwrap();

        let dry = f.run(&inputs(f.base(), &[("dry-run", "true")]));
        assert_eq!(dry.code, Some(1), "{how}: {dry:#?}");
        assert!(
            dry.stdout
                .contains("release directory `releases/1.0.0` resolves to")
                && dry.stdout.contains("outside"),
            "{how}: {}",
            dry.stdout
        );

        let run = f.run(&inputs(f.base(), &[("restart-command", "touch restarted")]));
        assert_eq!(run.code, Some(1), "{how}: {run:#?}");
        assert!(
            run.stdout
                .contains("release directory `releases/1.0.0` resolves to")
                && run.stdout.contains("refusing to switch `current` to it"),
            "{how}: {}",
            run.stdout
        );
        assert_eq!(f.current(), Path::new("releases/1.1.0"), "{how}");
        assert!(!f.path("app/restarted").exists(), "{how}");
        assert_eq!(run.output("rolled-back-to"), "", "{how}");
        assert_eq!(run.output("status"), "failed", "{how}");
        assert_eq!(run.output("changed"), "false", "{how}");
    }
    // A release that is a link to another release inside `releases/` is still a release.
    let f = Fixture::new();
    std::fs::create_dir_all(f.path("app/releases/1.0.0-build.7")).unwrap();
    std::fs::remove_dir(f.path("app/releases/1.0.0")).unwrap();
    std::os::unix::fs::symlink("1.0.0-build.7", f.path("app/releases/1.0.0")).unwrap();
    let run = f.run(&f.base());
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(f.current(), Path::new("releases/1.0.0"));
}

/// `status` says what happened (`rolled-back`, `already-there`, `dry-run`, `failed`), and
/// `rolled-back-to` is empty when the run failed before anything was switched.
#[test]
fn the_outputs_say_what_happened() {
    let f = Fixture::new();
    let command = |line: &str, more: &[(&str, &str)]| {
        let mut all = vec![
            ("target".to_string(), "command".to_string()),
            ("command".into(), line.into()),
            ("from".into(), "1.1.0".into()),
            (
                "repository-path".into(),
                f.path("repo").display().to_string(),
            ),
        ];
        all.extend(more.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        f.run(&all)
    };
    let failed = command("sh -c 'echo denied >&2; exit 3'", &[]);
    assert_eq!(failed.code, Some(1), "{failed:#?}");
    assert_eq!(failed.output("status"), "failed");
    assert_eq!(failed.output("rolled-back-to"), "");
    assert_eq!(failed.output("rolled-back-from"), "1.1.0");
    assert_eq!(failed.output("changed"), "false");
    assert!(failed.summary.contains("**failed**"), "{}", failed.summary);
    assert!(
        !failed.summary.contains("rolled back"),
        "{}",
        failed.summary
    );

    let dry = command("true", &[("dry-run", "true")]);
    assert_eq!(dry.code, Some(0), "{dry:#?}");
    assert_eq!(dry.output("status"), "dry-run");

    let done = command("true", &[]);
    assert_eq!(done.code, Some(0), "{done:#?}");
    assert_eq!(done.output("status"), "rolled-back");
    assert_eq!(done.output("rolled-back-to"), "1.0.0");

    let switched = f.run(&f.base());
    assert_eq!(switched.output("status"), "rolled-back");
    let again = f.run(&f.base());
    assert_eq!(again.code, Some(0), "{again:#?}");
    assert_eq!(again.output("status"), "already-there");
    assert_eq!(again.output("rolled-back-to"), "1.0.0");

    // Planning failed (no release directory for the version asked for): failed, too.
    let none = f.run(&inputs(f.base(), &[("version", "0.9.0")]));
    assert_eq!(none.code, Some(1), "{none:#?}");
    assert_eq!(none.output("status"), "failed");
    assert_eq!(none.output("rolled-back-to"), "");
}

/// A lock file that cannot be created reports the real reason and the path. `/sys` refuses
/// new files to every user, root included, with `EACCES`: a real unwritable directory for
/// a test that runs as root.
#[test]
fn a_lock_that_cannot_be_created_says_why() {
    if !Path::new("/sys/kernel").is_dir() {
        hub_testkit::skip("no /sys here to be an unwritable directory");
        return;
    }
    if std::fs::File::create("/sys/.hub-rollback-probe").is_ok() {
        let _ = std::fs::remove_file("/sys/.hub-rollback-probe");
        hub_testkit::skip("/sys accepts new files here");
        return;
    }
    let f = Fixture::new();
    let mut run_inputs = f.base();
    run_inputs.retain(|(k, _)| k != "releases-dir");
    run_inputs.push(("releases-dir".into(), "/sys".into()));
    let run = f.run(&run_inputs);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(
        run.stdout
            .contains("cannot open the lock file `/sys/.hub-rollback.lock`")
            && run.stdout.contains("Permission denied (os error 13)"),
        "{}",
        run.stdout
    );
}

/// The audit log (and the rollback record) are written through the one atomic write: a
/// symlinked log stays a link with the new line in the file it names, and the temporary
/// file a killed run left next to it is gone after the next run.
#[test]
fn a_symlinked_audit_log_stays_a_link_and_leftovers_are_removed() {
    let f = Fixture::new();
    std::fs::create_dir_all(f.path("shared")).unwrap();
    std::fs::write(f.path("shared/audit.jsonl"), "{\"old\":true}\n").unwrap();
    std::os::unix::fs::symlink("shared/audit.jsonl", f.path("audit.jsonl")).unwrap();
    let leftover = f.path("shared/.audit.jsonl.hub-tmp-0123456789ab");
    std::fs::write(&leftover, "half a line").unwrap();
    let state_leftover = f.path("app/..hub-rollback.json.hub-tmp-0123456789ab");
    std::fs::write(&state_leftover, "{").unwrap();
    let run = f.run(&inputs(
        f.base(),
        &[("audit-log", &f.path("audit.jsonl").display().to_string())],
    ));
    assert_eq!(run.code, Some(0), "{run:#?}");
    let meta = std::fs::symlink_metadata(f.path("audit.jsonl")).unwrap();
    assert!(meta.file_type().is_symlink(), "the link is kept");
    let lines = audit_lines(&f.path("shared/audit.jsonl"));
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[1]["result"], "rolled-back");
    assert!(
        !leftover.exists(),
        "the killed run's temporary file is gone"
    );
    assert!(!state_leftover.exists(), "the record's too");
}

/// A real `kill -9` while the audit log is being written: the log is never half-written,
/// and the temporary file the killed run left is gone after the next run. The log is made
/// large (64 MiB) so that the write takes long enough to be caught in the act.
#[test]
fn a_run_killed_mid_write_leaves_nothing_the_next_run_keeps() {
    let f = Fixture::new();
    let audit = f.path("audit.jsonl");
    let line = format!("{{\"pad\":\"{}\"}}\n", "x".repeat(117));
    let old = line.repeat(64 * 1024 * 1024 / line.len());
    std::fs::write(&audit, &old).unwrap();
    let run_inputs = inputs(f.base(), &[("audit-log", &audit.display().to_string())]);
    let temp = |dir: &Path| {
        std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .find(|n| n.starts_with(".audit.jsonl.hub-tmp-"))
    };
    let mut caught = None;
    for _ in 0..5 {
        let (mut child, _files) = f.spawn(&run_inputs, "-killed");
        while caught.is_none() && child.try_wait().unwrap().is_none() {
            caught = temp(f.dir.path());
        }
        if caught.is_some() {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            break;
        }
        child.wait().unwrap();
        // Finished before the write was seen: put the log back and try again.
        std::fs::write(&audit, &old).unwrap();
    }
    let Some(name) = caught else {
        hub_testkit::skip("the audit write finished five times before it could be seen");
        return;
    };
    assert!(f.path(&name).exists(), "the killed run left `{name}`");
    assert_eq!(
        std::fs::read(&audit).unwrap(),
        old.as_bytes(),
        "the log is the old one, whole"
    );
    let run = f.run(&run_inputs);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(temp(f.dir.path()), None, "the leftover is gone");
    let text = std::fs::read_to_string(&audit).unwrap();
    assert!(text.starts_with(&old) && text.len() > old.len());
}

/// Over `ssh` too, a release directory that resolves outside `releases/` is refused: the
/// host's `readlink -f` finds it in the listing, and nothing is switched there.
#[test]
fn a_release_outside_the_releases_directory_is_refused_over_ssh() {
    let Some(sshd) = Sshd::start() else {
        return;
    };
    let f = Fixture::new();
    std::fs::create_dir_all(f.path("outside")).unwrap();
    std::fs::remove_dir(f.path("app/releases/1.0.0")).unwrap();
    std::os::unix::fs::symlink(f.path("outside"), f.path("app/releases/1.0.0")).unwrap();
    let run = f.run(&inputs(
        f.base(),
        &[
            ("host", &sshd.host()),
            ("ssh-options", &sshd.options()),
            ("restart-command", "touch restarted"),
            ("timeout", "20s"),
        ],
    ));
    assert_eq!(run.code, Some(1), "{run:#?}\n{}", sshd.log());
    let outside = std::fs::canonicalize(f.path("outside")).unwrap();
    assert!(
        run.stdout.contains(&format!(
            "release directory `releases/1.0.0` resolves to `{}`",
            outside.display()
        )) && run.stdout.contains("refusing to switch `current` to it"),
        "{}",
        run.stdout
    );
    assert_eq!(f.current(), Path::new("releases/1.1.0"));
    assert!(!f.path("app/restarted").exists());
    assert_eq!(run.output("status"), "failed");
    assert_eq!(run.output("rolled-back-to"), "");
}

#[test]
fn health_urls_go_through_the_steps_proxy_and_a_redirect_is_not_a_200() {
    use hub_testkit::http::ConnectProxy;
    let f = Fixture::new();
    let service = Server::start(|path, _| {
        Some(match path {
            "/health" => reply("200 OK", "", b"version=1.0.0"),
            "/moved" => reply("302 Found", "Location: /health\r\n", b""),
            _ => reply("404 Not Found", "", b""),
        })
    });
    let command = |url: &str, timeout: &str| {
        inputs(
            vec![("target".into(), "command".into())],
            &[
                ("command", "true"),
                ("version", "1.0.0"),
                ("from", "1.1.0"),
                ("health-urls", url),
                ("health-body", "version=1.0.0"),
                ("timeout", timeout),
            ],
        )
    };
    let health = service.url("/health");
    let service_at = format!("127.0.0.1:{}", service.port());

    // The step's proxy carries the health check.
    let proxy = ConnectProxy::start();
    let run = f.run_env(&command(&health, "5s"), &[("HTTP_PROXY", &proxy.url())]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(run.outputs["healthy"], "true", "{run:#?}");
    assert_eq!(proxy.targets(), [service_at], "through the proxy");

    // NO_PROXY names the host: straight to it.
    let proxy = ConnectProxy::start();
    let run = f.run_env(
        &command(&health, "5s"),
        &[("HTTP_PROXY", &proxy.url()), ("NO_PROXY", "127.0.0.1")],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(
        proxy.targets(),
        Vec::<String>::new(),
        "not through the proxy"
    );

    // A redirect is not followed: the URL did not answer 200.
    let run = f.run(&command(&service.url("/moved"), "1s"));
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert_eq!(run.outputs["healthy"], "false", "{run:#?}");
    assert!(run.stdout.contains("status 302, expected 200"), "{run:#?}");
}
