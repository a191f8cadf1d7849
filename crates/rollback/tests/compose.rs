//! The `compose` backend against a real Docker engine driven by a real Compose v2: each
//! test starts its own `dockerd` on a private socket (`hub_testkit::docker`), imports
//! `ghcr.io/org/web:1.0.0` and `:1.1.0` from a busybox root file system (no registry: each
//! serves its version in `/version` with busybox `httpd`), brings the service up on
//! `1.1.0` with `docker compose up`, and runs the built binary as a workflow would. No fake
//! program is on `PATH`.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use hub_testkit::bin::{Action, Run};
use hub_testkit::docker::Engine;
use hub_testkit::sshd::Sshd;

const BIN: &str = env!("CARGO_BIN_EXE_hub-rollback");
const OLD: &str = "ghcr.io/org/web:1.0.0";
const NEW: &str = "ghcr.io/org/web:1.1.0";

struct World {
    dir: tempfile::TempDir,
    engine: Engine,
    port: u16,
}

/// Which images the engine gets.
enum Images {
    /// `1.0.0` and `1.1.0`, both serving `/version`.
    Both,
    /// Only `1.1.0`: the old version's image is gone.
    NoOld,
    /// `1.0.0` without `/version`: its health check fails.
    UnhealthyOld,
}

impl World {
    /// `None` (after `hub_testkit::skip`) without an engine.
    fn new(images: Images) -> Option<World> {
        let engine = Engine::start()?;
        let dir = tempfile::tempdir().unwrap();
        let port = hub_testkit::http::free_port();
        let w = World { dir, engine, port };
        w.git_repo();
        let rootfs = w.path("rootfs");
        std::fs::create_dir_all(rootfs.join("bin")).unwrap();
        std::fs::create_dir_all(rootfs.join("www")).unwrap();
        std::fs::copy(busybox(), rootfs.join("bin/busybox")).unwrap();
        for applet in ["sh", "httpd", "wget"] {
            std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(applet)).unwrap();
        }
        let version = rootfs.join("www/version");
        if !matches!(images, Images::NoOld) {
            if !matches!(images, Images::UnhealthyOld) {
                std::fs::write(&version, "1.0.0\n").unwrap();
            }
            w.engine.import(&rootfs, OLD);
        }
        std::fs::write(&version, "1.1.0\n").unwrap();
        w.engine.import(&rootfs, NEW);
        let port = w.port;
        std::fs::write(
            w.compose_file(),
            format!(
                r#"name: shop
services:
  web:
    image: {NEW}
    pull_policy: never
    network_mode: host
    init: true
    command: ["/bin/httpd", "-f", "-p", "127.0.0.1:{port}", "-h", "/www"]
    healthcheck:
      test: ["CMD", "/bin/wget", "-q", "-O", "/dev/null", "http://127.0.0.1:{port}/version"]
      interval: 1s
      timeout: 1s
      retries: 2
"#
            ),
        )
        .unwrap();
        let compose = |args: &[&str]| {
            let out = w
                .engine
                .docker()
                .args(["compose", "-f"])
                .arg(w.compose_file())
                .args(args)
                .output()
                .unwrap();
            assert!(out.status.success(), "docker compose {args:?}: {out:?}");
        };
        compose(&["up", "-d", "--wait"]);
        assert_eq!(w.served().as_deref(), Some("1.1.0"));
        Some(w)
    }

    fn git_repo(&self) {
        let repo = self.path("repo");
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
        for tag in ["v1.0.0", "v1.1.0"] {
            git(&["commit", "-q", "--allow-empty", "-m", tag]);
            git(&["tag", tag]);
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn compose_file(&self) -> PathBuf {
        self.path("compose.yaml")
    }

    /// What the service answers on `/version`, if anything.
    fn served(&self) -> Option<String> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(b"GET /version HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .ok()?;
        let mut text = String::new();
        s.read_to_string(&mut text).ok()?;
        let (head, body) = text.split_once("\r\n\r\n")?;
        (head.split(' ').nth(1) == Some("200")).then(|| body.trim().to_string())
    }

    /// The service's containers: `(id, image)`.
    fn containers(&self) -> Vec<(String, String)> {
        self.engine
            .run(&[
                "ps",
                "-a",
                "--filter",
                "label=com.docker.compose.service=web",
                "--format",
                "{{.ID}} {{.Image}}",
            ])
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(id, image)| (id.to_string(), image.to_string()))
            .collect()
    }

    fn run(&self, inputs: &[(&str, &str)]) -> Run {
        self.run_with(inputs, &self.engine.env())
    }

    /// The binary with these inputs and these Docker variables (none: no `DOCKER_HOST`).
    fn run_with(&self, inputs: &[(&str, &str)], docker: &[(&'static str, String)]) -> Run {
        docker
            .iter()
            .fold(Action::new(BIN, self.dir.path()), |a, (k, v)| a.env(*k, v))
            .env("RUNNER_TEMP", self.dir.path())
            .env("INPUT_REPOSITORY-PATH", self.path("repo"))
            .env("INPUT_TARGET", "compose")
            .env("INPUT_COMPOSE-FILE", self.compose_file())
            .env("INPUT_SERVICE", "web")
            .env("INPUT_AUDIT-LOG", self.path("audit.jsonl"))
            .run(inputs)
    }

    /// The audit log's lines.
    fn audit(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.path("audit.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

/// Debian's `busybox-static` (statically linked: the image needs nothing else).
fn busybox() -> &'static Path {
    Path::new("/bin/busybox")
}

fn url(w: &World) -> String {
    format!("http://127.0.0.1:{}/version", w.port)
}

#[test]
fn compose_rolls_back_to_the_old_image_healthy_and_a_rerun_changes_nothing() {
    let Some(w) = World::new(Images::Both) else {
        return;
    };
    let url = url(&w);
    let inputs = [
        ("timeout", "60s"),
        ("health-urls", url.as_str()),
        ("health-body", "1.0.0"),
    ];
    let run = w.run(&inputs);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(run.outputs["rolled-back-from"], "1.1.0", "{run:#?}");
    assert_eq!(run.outputs["rolled-back-to"], "1.0.0");
    assert_eq!(run.outputs["changed"], "true");
    assert_eq!(run.outputs["healthy"], "true");
    assert!(
        run.stdout
            .contains(&format!("every container runs `{OLD}`, healthy")),
        "{run:#?}"
    );
    // The engine's own view: one container, on the old image, answering with its version.
    let containers = w.containers();
    assert_eq!(containers.len(), 1, "{containers:?}");
    assert_eq!(containers[0].1, OLD);
    assert_eq!(w.served().as_deref(), Some("1.0.0"));
    let health = w.engine.run(&[
        "inspect",
        "--format",
        "{{.State.Health.Status}}",
        &containers[0].0,
    ]);
    assert_eq!(health.trim(), "healthy");
    let audit = w.audit();
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0]["target"], "compose", "{audit:?}");
    assert_eq!(audit[0]["to"], "1.0.0", "{audit:?}");
    assert_eq!(audit[0]["healthy"], true, "{audit:?}");

    // A re-run of the same step finds `1.0.0` live, reached from `1.1.0` (the override
    // records it), and touches nothing: the same container keeps running.
    let run = w.run(&inputs);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(run.outputs["changed"], "false", "{run:#?}");
    assert_eq!(run.outputs["healthy"], "true", "{run:#?}");
    assert_eq!(run.outputs["rolled-back-from"], "1.1.0", "{run:#?}");
    assert!(
        run.stdout.contains(
            "service `web` was reached by rolling back from `1.1.0`: rolling back from `1.1.0` again"
        ) && run.stdout.contains("`1.0.0` is already live"),
        "{run:#?}"
    );
    assert_eq!(w.containers(), containers);
    // Named, a version further back is still a rollback (no image: a clear failure).
    let run = w.run(&[inputs.as_slice(), &[("version", "0.9.0")]].concat());
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.stdout.contains("ghcr.io/org/web:0.9.0"), "{run:#?}");
}

#[test]
fn compose_with_the_old_image_missing_fails_clearly_and_records_unhealthy() {
    let Some(w) = World::new(Images::NoOld) else {
        return;
    };
    let run = w.run(&[("timeout", "30s")]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(
        run.stdout.contains("`docker compose up`")
            && run.stdout.contains("failed")
            && run.stdout.contains(OLD),
        "the error names the command and the image: {run:#?}"
    );
    assert_eq!(run.outputs["healthy"], "false", "{run:#?}");
    assert_eq!(run.outputs["status"], "failed", "{run:#?}");
    let audit = w.audit();
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0]["healthy"], false, "{audit:?}");
    // Nothing was recreated: the new version still serves.
    assert_eq!(w.served().as_deref(), Some("1.1.0"));
}

#[test]
fn compose_with_an_unhealthy_old_version_fails_clearly_and_records_unhealthy() {
    let Some(w) = World::new(Images::UnhealthyOld) else {
        return;
    };
    let run = w.run(&[("timeout", "8s")]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(
        run.stdout.contains(&format!(
            "the service did not run `{OLD}` healthy within 8s"
        )) && run.stdout.contains("a container is `unhealthy`"),
        "{run:#?}"
    );
    assert_eq!(run.outputs["healthy"], "false", "{run:#?}");
    assert_eq!(
        run.outputs["changed"], "true",
        "the container was recreated: {run:#?}"
    );
    let audit = w.audit();
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0]["healthy"], false, "{audit:?}");
    assert_eq!(w.containers()[0].1, OLD);
}

#[test]
fn compose_with_a_dead_engine_fails_clearly_and_records_unhealthy() {
    let Some(mut w) = World::new(Images::Both) else {
        return;
    };
    w.engine.stop();
    let run = w.run(&[("timeout", "20s")]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(
        run.stdout.contains("docker compose -f")
            && run.stdout.contains("Cannot connect to the Docker daemon"),
        "the error names the command and the engine's answer: {run:#?}"
    );
    assert_eq!(run.outputs["healthy"], "false", "{run:#?}");
    assert_eq!(run.outputs["status"], "failed", "{run:#?}");
}

#[test]
fn compose_over_ssh_rolls_back_the_remote_engine() {
    let Some(w) = World::new(Images::Both) else {
        return;
    };
    // The host's side: `docker system dial-stdio` finds the engine through the session's
    // DOCKER_HOST, which this sshd sets for every session (`SetEnv`).
    let Some(sshd) = Sshd::start_with(&format!("SetEnv DOCKER_HOST={}", w.engine.host())) else {
        return;
    };
    let host = sshd.host();
    let options = sshd.options();
    let url = url(&w);
    // The runner's side has no DOCKER_HOST: only the Compose plug-in's folder.
    let docker = [("DOCKER_CONFIG", w.engine.config().display().to_string())];
    let run = w.run_with(
        &[
            ("host", &host),
            ("ssh-options", &options),
            ("timeout", "60s"),
            ("health-urls", &url),
            ("health-body", "1.0.0"),
        ],
        &docker,
    );
    assert_eq!(run.code, Some(0), "{run:#?}\n{}", sshd.log());
    assert!(
        run.stdout.contains(&format!(
            "the engine is `{host}`'s: every `docker compose` runs with DOCKER_HOST={host}"
        )),
        "{run:#?}"
    );
    assert_eq!(run.outputs["rolled-back-to"], "1.0.0", "{run:#?}");
    assert_eq!(run.outputs["healthy"], "true", "{run:#?}");
    assert_eq!(w.served().as_deref(), Some("1.0.0"));
    assert_eq!(w.containers()[0].1, OLD);
    assert!(
        sshd.log().contains("Accepted publickey"),
        "the engine was reached over ssh: {}",
        sshd.log()
    );

    // A host key that is not the known one: BatchMode, no prompt, a clear failure.
    let wrong = options.replace("known_hosts", "no_such_known_hosts");
    let run = w.run_with(
        &[
            ("host", &host),
            ("ssh-options", &wrong),
            ("version", "1.1.0"),
            ("timeout", "20s"),
        ],
        &docker,
    );
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(
        run.stdout.contains("Host key verification failed"),
        "{run:#?}"
    );
    assert_eq!(w.served().as_deref(), Some("1.0.0"), "nothing changed");
}
