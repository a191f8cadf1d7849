//! The starter workflow `workflows/deploy-compose.yml`, run end to end under a real runner
//! (act) on real parts: the shop's baseline and canary are containers of a Compose project
//! on the test's own Docker engine ([`hub_testkit::docker::Engine`],
//! [`hub_e2e::compose_shop`]), exposing `/metrics` and `/health`; a real Prometheus (the
//! Debian package) scrapes them; canary-gate judges through its steps; rollback drives
//! Compose (`target: compose`); the GitHub API stand-in keeps the deployment history.
//!
//! One story, two releases on one engine: `v1.1.0` answers three times the errors of
//! `v1.0.0` — the gate fails it, the canary is taken out of traffic and rolled back to
//! `1.0.0` (the environment's last good deployment) with Compose, its container healthy on
//! the old image and its health URL answering, the deployment statuses and the audit line
//! written; then `v1.2.0`, as good as `v1.0.0`, passes every step and is promoted (the
//! stable service runs it, the canary is removed).
//!
//! The workflow runs as users copy it, with the documented substitutions: the checkout step
//! becomes a local clone ([`with_local_checkout`]); one step is appended that copies the
//! gate's report and the rollback's audit log (times kept) where the test can read them;
//! `DOCKER_CONFIG` names the folder holding Compose v2 (a runner has it installed). The
//! user's settings (`vars`) are passed with `act --var`, `DOCKER_HOST` among them (the test's
//! engine), with short timings. act does not create the deployment GitHub records for a job
//! with an `environment:`, so the test creates it in the stand-in before each run.
//!
//! The bad run also measures the time from the failing verdict to the canary healthy on the
//! old version, and rollback's share of it; with `HUB_BENCH_DEPLOY_OUT` set the figures are
//! written there as JSON (`bench/deploy/run`).

#![allow(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hub_e2e::compose_shop::{self, IMAGE, Image};
use hub_e2e::deploy::{self, Deployments};
use hub_e2e::shop::{Prometheus, free_port, have_prometheus};
use hub_e2e::*;
use hub_github::DeploymentState;
use hub_github_standin::Options;
use hub_github_standin::test_support::TestServer;
use hub_testkit::docker::Engine;
use serde_json::Value;

const REPOSITORY: &str = "octo/shop";
const TOKEN: &str = "ghs_e2eComposeDeployToken";
const ENVIRONMENT: &str = "production";

/// What the test appends to the workflow's steps: the gate's report and the audit log,
/// copied with their modification times.
const KEEP: &str = "\n      - name: Keep the report and the audit log (test only)\n        if: always()\n        env:\n          REPORT: ${{ steps.gate.outputs.report }}\n          AUDIT: ${{ steps.rollback.outputs.audit-log }}\n        run: |\n          if [ -n \"$REPORT\" ]; then cp -p \"$REPORT\" \"$HUB_E2E_OUT/report.json\"; fi\n          if [ -n \"$AUDIT\" ]; then cp -p \"$AUDIT\" \"$HUB_E2E_OUT/audit.jsonl\"; fi\n";

fn workflow() -> String {
    let text = std::fs::read_to_string(workspace().join("workflows/deploy-compose.yml")).unwrap();
    format!("{}{KEEP}", with_local_checkout(&text))
}

/// A bare origin of the user's repository: `deploy/compose.yaml`, `deploy/set-weight`,
/// releases `v1.0.0`, `v1.1.0`, `v1.2.0`.
fn shop_origin(tmp: &Path, compose: &str) -> PathBuf {
    let work = tmp.join("work");
    std::fs::create_dir_all(work.join("deploy")).unwrap();
    sh(&work, "git", &["init", "-q", "-b", "main"]);
    std::fs::write(compose_shop::compose_path(&work), compose).unwrap();
    let script = work.join("deploy/set-weight");
    std::fs::write(&script, compose_shop::SET_WEIGHT).unwrap();
    sh(&work, "chmod", &["+x", &script.display().to_string()]);
    sh(&work, "git", &["add", "-A"]);
    for (message, tag) in [
        ("feat: shop", "v1.0.0"),
        ("feat: search", "v1.1.0"),
        ("fix: search errors", "v1.2.0"),
    ] {
        sh(
            &work,
            "git",
            &[
                "-c",
                "user.name=Ada",
                "-c",
                "user.email=ada@example.com",
                "commit",
                "-q",
                "--allow-empty",
                "-m",
                message,
            ],
        );
        sh(&work, "git", &["tag", tag]);
    }
    let bare = tmp.join("origin.git");
    let (w, b) = (work.display().to_string(), bare.display().to_string());
    sh(tmp, "git", &["clone", "-q", "--bare", &w, &b]);
    bare
}

/// What `/health` answered, from when: `(unix seconds, version)`, one entry per change.
type Seen = Arc<Mutex<Vec<(f64, Option<String>)>>>;

/// Polls a port's `/health` every 50 ms and keeps each change.
struct Watch {
    seen: Seen,
    stop: Arc<AtomicBool>,
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

impl Watch {
    fn start(port: u16) -> Watch {
        let seen: Seen = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (seen.clone(), stop.clone());
        std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                let v = compose_shop::serving(port);
                let mut seen = s.lock().unwrap();
                if seen.last().is_none_or(|(_, last)| *last != v) {
                    seen.push((now(), v));
                }
                drop(seen);
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        Watch { seen, stop }
    }

    /// When `/health` first answered `version` at or after `since`.
    fn first(&self, version: &str, since: f64) -> Option<f64> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .find(|(t, v)| *t >= since && v.as_deref() == Some(version))
            .map(|(t, _)| *t)
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// A file's modification time in unix seconds.
fn mtime(path: &Path) -> f64 {
    std::fs::metadata(path)
        .unwrap()
        .modified()
        .unwrap()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

struct World {
    tmp: tempfile::TempDir,
    engine: Engine,
    server: TestServer,
    /// The user's repository's deployments on the stand-in.
    history: Deployments,
    origin: PathBuf,
    prometheus: Prometheus,
    stable_port: u16,
    canary_port: u16,
    events: PathBuf,
    released: std::sync::OnceLock<Act>,
}

impl World {
    fn new(test: &str) -> Option<World> {
        if !have_act(test) || !have_prometheus(test) {
            return None;
        }
        let engine = Engine::start()?;
        let server = TestServer::start_with(Options {
            idle_timeout: Some(Duration::from_secs(900)),
            ..Options::default()
        })?;
        let tmp = tempfile::tempdir().unwrap();
        compose_shop::import_images(
            &engine,
            tmp.path(),
            &[
                Image {
                    version: "1.0.0",
                    error_permille: 10,
                },
                Image {
                    version: "1.1.0",
                    error_permille: 30,
                },
                Image {
                    version: "1.2.0",
                    error_permille: 10,
                },
            ],
        );
        let (stable_port, canary_port) = (free_port(), free_port());
        let compose = compose_shop::compose_file("1.0.0", stable_port, canary_port);
        let origin = shop_origin(tmp.path(), &compose);
        // The stable service is live on 1.0.0 before the first deploy.
        let file = compose_shop::compose_path(&tmp.path().join("work"));
        let up = compose_shop::compose(&engine, &file)
            .args(["up", "--detach", "--wait", "web"])
            .output()
            .unwrap();
        assert!(up.status.success(), "compose up: {up:?}");
        assert_eq!(compose_shop::serving(stable_port).as_deref(), Some("1.0.0"));
        let history = Deployments::import(&server, REPOSITORY, TOKEN, &origin);
        let prometheus = Prometheus::scraping(
            "shop",
            &[(stable_port, "stable"), (canary_port, "canary")],
            Duration::from_secs(900),
        );
        let events = tmp.path().join("events.log");
        Some(World {
            tmp,
            engine,
            server,
            history,
            origin,
            prometheus,
            stable_port,
            canary_port,
            events,
            released: std::sync::OnceLock::new(),
        })
    }

    /// The runner, with the suite released once (one archive, one release server) for
    /// every run of the test.
    fn act(&self) -> Act {
        let mut act = self
            .released
            .get_or_init(|| released_act(self.tmp.path()))
            .clone();
        let health = format!("http://127.0.0.1:{}/health", self.canary_port);
        deploy::configure(
            &mut act,
            self.server.url(),
            REPOSITORY,
            TOKEN,
            &self.origin,
            &self.prometheus.url(),
            &health,
        );
        act.env("DOCKER_CONFIG", &self.engine.config().display().to_string())
            .env("SHOP_EVENTS", &self.events.display().to_string())
            .var("DOCKER_HOST", &self.engine.host())
            .var("IMAGE", IMAGE)
            .var("ROLLBACK_TIMEOUT", "60s");
        act
    }

    fn release(&self, tag: &str) -> PathBuf {
        let payload = serde_json::json!({
            "action": "published",
            "release": { "tag_name": tag, "name": tag, "draft": false, "prerelease": false },
        });
        let path = self.tmp.path().join(format!("release-{tag}.json"));
        std::fs::write(&path, payload.to_string()).unwrap();
        path
    }

    /// The weights `deploy/set-weight` set, in order, with their times.
    fn weights(&self) -> Vec<(String, f64)> {
        std::fs::read_to_string(&self.events)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let mut parts = l.strip_prefix("weight ")?.split(' ');
                Some((parts.next()?.to_string(), parts.next()?.parse().ok()?))
            })
            .collect()
    }

    /// The engine's events for `service`'s containers between two unix times:
    /// `(unix seconds, action, image)`.
    fn engine_events(&self, service: &str, since: f64, until: f64) -> Vec<(f64, String, String)> {
        self.engine
            .run(&[
                "events",
                "--since",
                &format!("{since:.3}"),
                "--until",
                &format!("{until:.3}"),
                "--filter",
                "type=container",
                "--filter",
                &format!("label=com.docker.compose.service={service}"),
                "--format",
                "{{.TimeNano}}\t{{.Action}}\t{{.Actor.Attributes.image}}",
            ])
            .lines()
            .filter_map(|l| {
                let mut parts = l.split('\t');
                let t = parts.next()?.parse::<f64>().ok()? / 1e9;
                Some((t, parts.next()?.to_string(), parts.next()?.to_string()))
            })
            .collect()
    }
}

fn images(w: &World, service: &str) -> Vec<String> {
    compose_shop::containers(&w.engine, service)
        .into_iter()
        .map(|(_, image, _)| image)
        .collect()
}

#[test]
fn a_bad_canary_container_is_rolled_back_with_compose_and_a_good_one_promoted() {
    let test = "a_bad_canary_container_is_rolled_back_with_compose_and_a_good_one_promoted";
    let started = std::time::Instant::now();
    let Some(w) = World::new(test) else {
        return;
    };
    eprintln!("set-up: {:.1?}", started.elapsed());
    // The suite's release build and archive (shared with every end-to-end test in CI).
    let released = std::time::Instant::now();
    drop(w.act());
    eprintln!("release build and archive: {:.1?}", released.elapsed());
    let started = std::time::Instant::now();
    let watch = Watch::start(w.canary_port);

    // 1. v1.1.0, three times the errors: failed by the gate, rolled back with Compose.
    w.history.deployed(
        "v1.0.0",
        ENVIRONMENT,
        &[DeploymentState::InProgress, DeploymentState::Success],
    );
    w.history
        .deployed("v1.1.0", ENVIRONMENT, &[DeploymentState::InProgress]);
    let bad = w
        .act()
        .run_event("bad", &workflow(), "release", &w.release("v1.1.0"));
    let done = now();
    eprintln!("bad release's run: {:.1?}", started.elapsed());
    assert!(!bad.success, "a failed canary fails the run:\n{}", bad.log);
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(bad.out.join("report.json")).unwrap())
            .unwrap();
    assert_eq!(report["verdict"], "fail", "{report}");
    assert!(
        report["failed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m.as_str().unwrap().contains("error")),
        "the error rate failed: {report}"
    );
    let weights: Vec<String> = w.weights().into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        weights.first().map(String::as_str),
        Some("5"),
        "{weights:?}"
    );
    assert_eq!(
        weights.last().map(String::as_str),
        Some("0"),
        "taken out of traffic: {weights:?}"
    );
    assert!(!weights.contains(&"100".to_string()), "{weights:?}");
    // The engine's view: the canary service's one container runs the old image, healthy; the
    // stable service is untouched; both answer on their health URL with their version.
    let canary = compose_shop::containers(&w.engine, "web-canary");
    assert_eq!(canary.len(), 1, "{canary:?}");
    assert_eq!(
        canary[0].1,
        format!("{IMAGE}:1.0.0"),
        "{canary:?}\n{}",
        bad.log
    );
    assert!(canary[0].2.contains("(healthy)"), "{canary:?}");
    assert_eq!(
        compose_shop::serving(w.canary_port).as_deref(),
        Some("1.0.0")
    );
    assert_eq!(images(&w, "web"), [format!("{IMAGE}:1.0.0")]);
    assert_eq!(
        compose_shop::serving(w.stable_port).as_deref(),
        Some("1.0.0")
    );
    // GitHub's record: the bad deployment failed; a rollback deployment of v1.0.0 succeeded.
    let deployments = w.history.list(ENVIRONMENT);
    assert_eq!(deployments.len(), 3, "{deployments:?}");
    assert_eq!(
        (deployments[0].0.as_str(), deployments[0].1.as_str()),
        ("v1.0.0", "deploy:rollback"),
        "{deployments:?}"
    );
    assert_eq!(
        deployments[0].2.first().map(String::as_str),
        Some("success")
    );
    assert_eq!(deployments[1].0, "v1.1.0");
    assert_eq!(
        deployments[1].2.first().map(String::as_str),
        Some("failure"),
        "{deployments:?}"
    );
    // One audit line: compose, from 1.1.0 to 1.0.0, healthy, changed.
    let audit_path = bad.out.join("audit.jsonl");
    let lines: Vec<Value> = std::fs::read_to_string(&audit_path)
        .unwrap_or_else(|_| panic!("no audit log; log:\n{}", bad.log))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    assert_eq!(line["target"], "compose", "{line}");
    assert_eq!(line["from"], "1.1.0", "{line}");
    assert_eq!(line["to"], "1.0.0", "{line}");
    assert_eq!(line["healthy"], true, "{line}");
    assert_eq!(line["changed"], true, "{line}");

    // The figures: from the verdict (the report written) to the canary healthy on 1.0.0.
    let verdict = mtime(&bad.out.join("report.json"));
    let rollback_end = mtime(&audit_path);
    let rollback_seconds = line["duration_seconds"].as_f64().unwrap();
    let rollback_start = rollback_end - rollback_seconds;
    let serving_old = watch
        .first("1.0.0", verdict)
        .unwrap_or_else(|| panic!("the canary never answered 1.0.0: {:?}", watch.seen));
    let events = w.engine_events("web-canary", rollback_start - 1.0, done);
    let stopped = events
        .iter()
        .find(|(t, a, _)| *t >= rollback_start && (a == "kill" || a == "stop"))
        .map(|(t, ..)| *t)
        .unwrap_or_else(|| panic!("no stop of the canary: {events:?}"));
    let healthy = events
        .iter()
        .find(|(t, a, image)| {
            *t >= stopped && a.starts_with("health_status: healthy") && image.ends_with(":1.0.0")
        })
        .map(|(t, ..)| *t)
        .unwrap_or_else(|| panic!("no healthy 1.0.0 container: {events:?}"));
    let started_new = events
        .iter()
        .find(|(t, a, image)| *t >= stopped && a == "start" && image.ends_with(":1.0.0"))
        .map_or(healthy, |(t, ..)| *t);
    // Every figure in seconds. Before the rollback: the runner (the step after the gate
    // that takes the canary out of traffic, the rollback step's start and its installer).
    // Inside it: its own work before the engine stops the old container (lock, GitHub
    // history, `docker compose ps`, plan, override, `docker compose up` up to the stop), the
    // engine's recreate and first health check, and its own work after (noticing healthy,
    // the health URL, the GitHub statuses, the audit line).
    let before_engine = stopped - rollback_start;
    let after_healthy = rollback_end - healthy;
    let figures = serde_json::json!({
        "verdict_to_old_version_answering": round(serving_old - verdict),
        "verdict_to_old_container_healthy": round(healthy - verdict),
        "verdict_to_rollback_done": round(rollback_end - verdict),
        "runner_before_rollback": round(rollback_start - verdict),
        "rollback": round(rollback_seconds),
        "rollback_before_engine": round(before_engine),
        "engine_recreate": round(started_new - stopped),
        "engine_first_health_check": round(healthy - started_new),
        "rollback_after_healthy": round(after_healthy),
        "rollback_own": round(before_engine + after_healthy),
    });
    eprintln!("deploy-compose figures: {figures}");
    if let Some(out) = std::env::var_os("HUB_BENCH_DEPLOY_OUT") {
        std::fs::write(out, serde_json::to_string_pretty(&figures).unwrap()).unwrap();
    }

    // 2. v1.2.0, as good as v1.0.0: every step, then promoted.
    std::fs::write(&w.events, "").unwrap();
    w.history
        .deployed("v1.2.0", ENVIRONMENT, &[DeploymentState::InProgress]);
    let good = w
        .act()
        .run_event("good", &workflow(), "release", &w.release("v1.2.0"));
    assert!(good.success, "{}", good.log);
    eprintln!("both runs: {:.1?}", started.elapsed());
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(good.out.join("report.json")).unwrap())
            .unwrap();
    assert_eq!(report["verdict"], "pass", "{report}");
    let weights: Vec<String> = w.weights().into_iter().map(|(p, _)| p).collect();
    assert_eq!(weights, ["5", "10", "25", "50", "100", "0"], "{}", good.log);
    assert!(!good.out.join("audit.jsonl").exists(), "no rollback ran");
    assert_eq!(images(&w, "web"), [format!("{IMAGE}:1.2.0")]);
    assert_eq!(
        compose_shop::serving(w.stable_port).as_deref(),
        Some("1.2.0")
    );
    assert!(
        images(&w, "web-canary").is_empty(),
        "the canary is removed: {:?}",
        compose_shop::containers(&w.engine, "web-canary")
    );
    assert_eq!(compose_shop::serving(w.canary_port), None);
    assert_eq!(w.history.list(ENVIRONMENT).len(), 4);
    w.server.assert_conforms();
}

fn round(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}
