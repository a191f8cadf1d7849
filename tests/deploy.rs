//! The starter workflow `workflows/deploy.yml`, run end to end under a real runner (act)
//! against a real Prometheus (the Debian package, on 127.0.0.1) scraping a real service with
//! a stable and a canary track ([`hub_e2e::shop`]), and the GitHub API stand-in keeping the
//! deployment history:
//!
//! - a good release goes through staging and then production: each canary is stepped
//!   5 → 10 → 25 → 50 → 100 %, judged healthy, and promoted;
//! - a bad release (10 % errors where the stable version has 0.5 %) fails canary-gate at
//!   the first step in staging: rollback puts the canary back on the last good version (the
//!   last successful staging deployment), which then really serves again; the deployment
//!   statuses and the audit line record it; production never starts; and running the
//!   rollback again changes nothing.
//!
//! The workflow runs as users copy it, with two documented substitutions: the checkout
//! step becomes a local clone ([`with_local_checkout`]), and one step is appended that
//! copies the rollback's audit log where the test can read it. The settings a user keeps in
//! environment variables (`vars`) are passed with `act --var`, with short timings so the
//! whole analysis takes seconds. act does not create the deployment GitHub records for a job
//! with an `environment:`, so the test creates it in the stand-in before each run, as GitHub
//! would.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use hub_e2e::deploy::{self, Deployments};
use hub_e2e::shop::{Prometheus, Shop, have_prometheus};
use hub_e2e::*;
use hub_github::DeploymentState;
use hub_github_standin::Options;
use hub_github_standin::test_support::TestServer;
use serde_json::Value;

const REPOSITORY: &str = "octo/shop";
const TOKEN: &str = "ghs_e2eDeployToken";

/// The user's deploy scripts: each changes the shop's state files (atomically: write, then
/// rename) and appends a line to `events.log`.
const SCRIPTS: &[(&str, &str)] = &[
    (
        "canary",
        "put canary.version \"$VERSION\"\nput canary.weight 0\nevent \"canary $DEPLOY_ENVIRONMENT $VERSION\"\n",
    ),
    (
        "set-weight",
        "put canary.weight \"$HUB_CANARY_WEIGHT\"\nevent \"weight $DEPLOY_ENVIRONMENT $HUB_CANARY_WEIGHT\"\n",
    ),
    (
        "promote",
        "put stable.version \"$VERSION\"\nput canary.weight 0\nput canary.version ''\nevent \"promote $DEPLOY_ENVIRONMENT $VERSION\"\n",
    ),
    (
        "rollback",
        "put canary.weight 0\nput canary.version \"$HUB_ROLLBACK_TAG\"\nevent \"rollback $DEPLOY_ENVIRONMENT $HUB_ROLLBACK_FROM $HUB_ROLLBACK_VERSION\"\n",
    ),
];

const SCRIPT_HEAD: &str = "#!/bin/sh\nset -eu\nput() { printf '%s\\n' \"$2\" > \"$SHOP_STATE/$1.tmp\" && mv \"$SHOP_STATE/$1.tmp\" \"$SHOP_STATE/$1\"; }\nevent() { printf '%s\\n' \"$1\" >> \"$SHOP_STATE/events.log\"; }\n";

/// A bare origin of the shop's repository: its deploy scripts, releases `v1.1.0` and
/// `v1.2.0`.
fn shop_origin(tmp: &Path) -> PathBuf {
    let work = tmp.join("work");
    std::fs::create_dir_all(work.join("deploy")).unwrap();
    sh(&work, "git", &["init", "-q", "-b", "main"]);
    for (name, body) in SCRIPTS {
        let path = work.join("deploy").join(name);
        std::fs::write(&path, format!("{SCRIPT_HEAD}{body}")).unwrap();
        sh(&work, "chmod", &["+x", &path.display().to_string()]);
    }
    let identity = [
        "-c",
        "user.name=Ada",
        "-c",
        "user.email=ada@example.com",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
    ];
    sh(&work, "git", &["add", "-A"]);
    for (message, tag) in [
        ("feat: deploy scripts", None),
        ("feat: search", Some("v1.1.0")),
        ("fix: cart totals", Some("v1.2.0")),
    ] {
        let mut args = identity.to_vec();
        args.push(message);
        sh(&work, "git", &args);
        if let Some(tag) = tag {
            sh(&work, "git", &["tag", tag]);
        }
    }
    let bare = tmp.join("origin.git");
    let (w, b) = (work.display().to_string(), bare.display().to_string());
    sh(tmp, "git", &["clone", "-q", "--bare", &w, &b]);
    bare
}

/// Where the production job starts in `workflows/deploy.yml`; the staging job's steps end
/// just before.
const PRODUCTION: &str = "\n\n  # Only after staging passed";

/// `workflows/deploy.yml` as it runs here, plus a last step (in the steps both jobs share)
/// that keeps the audit log.
fn deploy_workflow() -> String {
    let text = with_local_checkout(
        &std::fs::read_to_string(workspace().join("workflows/deploy.yml")).unwrap(),
    );
    let at = text.find(PRODUCTION).expect("the production job");
    format!("{}{KEEP_AUDIT}{}", &text[..at], &text[at..])
}

const KEEP_AUDIT: &str = "\n\n      - name: Keep the audit log (test only)\n        if: always() && steps.rollback.outputs.audit-log != ''\n        env:\n          AUDIT: ${{ steps.rollback.outputs.audit-log }}\n        run: cp \"$AUDIT\" \"$HUB_E2E_OUT/audit-$DEPLOY_ENVIRONMENT.jsonl\"";

/// The rollback step of `workflows/deploy.yml` alone, as a user re-runs it: the staging job
/// as written (environment, permissions, env), the local checkout, the step without its
/// `if:`, and the audit-keeping step.
fn rollback_again_workflow() -> String {
    let text = deploy_workflow();
    let steps = text.find("    steps: &deploy\n").unwrap() + "    steps: &deploy\n".len();
    let clone = text[steps..].find("\n      - id: canary").unwrap() + steps + 1;
    let rollback = text.find("      - id: rollback\n").unwrap();
    let after = text[rollback + 1..].find("\n      - ").unwrap() + rollback + 2;
    let step: String = text[rollback..after]
        .lines()
        .filter(|l| !l.trim_start().starts_with("if: "))
        .map(|l| format!("{l}\n"))
        .collect();
    let keep = text.find("      - name: Keep the audit log").unwrap();
    let end = text.find(PRODUCTION).unwrap();
    format!("{}{step}\n{}\n", &text[..clone], &text[keep..end])
}

struct World {
    tmp: tempfile::TempDir,
    server: TestServer,
    /// The user's repository's deployments on the stand-in.
    history: Deployments,
    origin: PathBuf,
    shop: Shop,
    prometheus: Prometheus,
    released: std::sync::OnceLock<Act>,
}

impl World {
    fn new(test: &str, bad: &[&str]) -> Option<World> {
        if !have_act(test) || !have_prometheus(test) {
            return None;
        }
        // The runs take minutes (Prometheus, install, every traffic step): no idle stop.
        let server = TestServer::start_with(Options {
            idle_timeout: Some(Duration::from_secs(900)),
            ..Options::default()
        })?;
        let tmp = tempfile::tempdir().unwrap();
        let origin = shop_origin(tmp.path());
        let history = Deployments::import(&server, REPOSITORY, TOKEN, &origin);
        let shop = Shop::start(&tmp.path().join("shop"), "v1.1.0", bad);
        let prometheus = shop.prometheus(Duration::from_secs(900));
        Some(World {
            tmp,
            server,
            history,
            origin,
            shop,
            prometheus,
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
        let canary = format!("http://127.0.0.1:{}/health", self.shop.canary_port);
        deploy::configure(
            &mut act,
            self.server.url(),
            REPOSITORY,
            TOKEN,
            &self.origin,
            &self.prometheus.url(),
            &canary,
        );
        act.env("SHOP_STATE", &self.shop.state.display().to_string());
        act
    }

    fn release_event(&self, tag: &str) -> PathBuf {
        let payload = serde_json::json!({
            "action": "published",
            "release": { "tag_name": tag, "name": tag, "draft": false, "prerelease": false },
        });
        let path = self.tmp.path().join(format!("release-{tag}.json"));
        std::fs::write(&path, payload.to_string()).unwrap();
        path
    }
}

fn audit(run: &Run, environment: &str) -> Vec<Value> {
    std::fs::read_to_string(run.out.join(format!("audit-{environment}.jsonl")))
        .unwrap_or_else(|_| panic!("no audit log for {environment}; log:\n{}", run.log))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn weights(events: &[String], environment: &str) -> Vec<String> {
    let prefix = format!("weight {environment} ");
    events
        .iter()
        .filter_map(|e| e.strip_prefix(&prefix).map(String::from))
        .collect()
}

/// Minutes in a canary-gate duration such as `40m`, `90s` or `1h`.
fn minutes(duration: &str) -> f64 {
    let (n, unit) = duration.split_at(duration.len() - 1);
    let n: f64 = n
        .parse()
        .unwrap_or_else(|_| panic!("a duration: `{duration}`"));
    match unit {
        "s" => n / 60.0,
        "m" => n,
        "h" => n * 60.0,
        _ => panic!("a duration: `{duration}`"),
    }
}

/// The time budget of `workflows/deploy.yml` and `workflows/deploy-compose.yml`, read from
/// the files: in each job the gate's
/// default `max-duration` ends before the gate's step times out, and that step's timeout
/// leaves part of the job's for the rollback (a job cancelled at its timeout would skip
/// the `if: failure()` rollback and leave the canary up).
#[test]
fn the_gate_ends_before_its_step_and_the_job_time_out() {
    for file in ["workflows/deploy.yml", "workflows/deploy-compose.yml"] {
        gate_ends_before_its_step_and_the_job_time_out(file);
    }
}

fn gate_ends_before_its_step_and_the_job_time_out(file: &str) {
    let text = std::fs::read(workspace().join(file)).unwrap();
    let parsed = hub_config::parse(
        &text,
        hub_config::Format::Yaml,
        &hub_config::Limits::default(),
    );
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    let jobs = parsed.documents[0].value["jobs"].as_object().unwrap();
    assert!(!jobs.is_empty());
    for (name, job) in jobs {
        let job_minutes = job["timeout-minutes"]
            .as_f64()
            .unwrap_or_else(|| panic!("job `{name}` sets `timeout-minutes`"));
        let steps = job["steps"].as_array().unwrap();
        let gate = steps
            .iter()
            .find(|s| s["id"] == "gate")
            .unwrap_or_else(|| panic!("job `{name}` has the gate"));
        let rollback = steps.iter().position(|s| s["id"] == "rollback").unwrap();
        let gate_at = steps.iter().position(|s| s["id"] == "gate").unwrap();
        assert!(gate_at < rollback, "{name}: the rollback follows the gate");
        let step_minutes = gate["timeout-minutes"]
            .as_f64()
            .unwrap_or_else(|| panic!("job `{name}`: the gate's step sets `timeout-minutes`"));
        // `${{ vars.CANARY_MAX_DURATION || '40m' }}`: the default after `||`.
        let max_duration = gate["with"]["max-duration"].as_str().unwrap();
        let default = max_duration
            .split("||")
            .nth(1)
            .and_then(|d| d.split('\'').nth(1))
            .unwrap_or_else(|| panic!("a default in `{max_duration}`"));
        assert!(
            minutes(default) < step_minutes,
            "{name}: `max-duration` {default} must end before the step's {step_minutes} minutes"
        );
        assert!(
            job_minutes - step_minutes >= 10.0,
            "{name}: the job's {job_minutes} minutes leave at least 10 for the rollback after the gate's {step_minutes}"
        );
    }
}

#[test]
fn a_good_release_goes_through_staging_then_production() {
    let Some(w) = World::new("a_good_release_goes_through_staging_then_production", &[]) else {
        return;
    };
    let run = w.act().run_event(
        "good",
        &deploy_workflow(),
        "release",
        &w.release_event("v1.2.0"),
    );
    assert!(run.success, "{}", run.log);
    let events = w.shop.events();
    let steps = ["5", "10", "25", "50", "100"];
    for env in ["staging", "production"] {
        assert_eq!(weights(&events, env), steps, "{env}: {events:?}");
    }
    // In order: staging's canary, its steps and promotion, and only then production's.
    let at = |e: &str| events.iter().position(|x| x == e).unwrap_or(usize::MAX);
    assert!(at("canary staging v1.2.0") < at("promote staging v1.2.0"));
    assert!(at("promote staging v1.2.0") < at("canary production v1.2.0"));
    assert!(at("canary production v1.2.0") < at("promote production v1.2.0"));
    assert!(
        at("promote production v1.2.0") < usize::MAX,
        "{events:?}\n{}",
        run.log
    );
    assert!(
        !events.iter().any(|e| e.starts_with("rollback")),
        "{events:?}"
    );
    assert_eq!(
        w.shop.serving(w.shop.stable_port).as_deref(),
        Some("v1.2.0")
    );
    assert_eq!(w.shop.serving(w.shop.canary_port), None, "canary retired");
    w.server.assert_conforms();
}

#[test]
fn a_bad_release_is_rolled_back_in_staging_and_never_reaches_production() {
    let Some(w) = World::new(
        "a_bad_release_is_rolled_back_in_staging_and_never_reaches_production",
        &["v1.2.0"],
    ) else {
        return;
    };
    // Staging's history as GitHub keeps it: v1.1.0 went out fine; this run's job deploys
    // v1.2.0 (GitHub creates that deployment when the job starts).
    w.history.deployed(
        "v1.1.0",
        "staging",
        &[DeploymentState::InProgress, DeploymentState::Success],
    );
    w.history
        .deployed("v1.2.0", "staging", &[DeploymentState::InProgress]);
    let run = w.act().run_event(
        "bad",
        &deploy_workflow(),
        "release",
        &w.release_event("v1.2.0"),
    );
    assert!(!run.success, "a failed canary fails the run:\n{}", run.log);
    let events = w.shop.events();
    assert_eq!(
        events.first().map(String::as_str),
        Some("canary staging v1.2.0"),
        "{events:?}"
    );
    assert_eq!(
        weights(&events, "staging"),
        ["5"],
        "stops at the first step: {events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e == "rollback staging 1.2.0 1.1.0" || e == "rollback staging v1.2.0 v1.1.0"),
        "{events:?}\n{}",
        run.log
    );
    assert!(
        !events
            .iter()
            .any(|e| e.contains("production") || e.starts_with("promote")),
        "production must not start: {events:?}"
    );
    // The previous release really serves again on the canary track, at 0 % traffic.
    assert_eq!(
        w.shop.serving(w.shop.canary_port).as_deref(),
        Some("v1.1.0")
    );
    assert_eq!(
        w.shop.serving(w.shop.stable_port).as_deref(),
        Some("v1.1.0")
    );
    // GitHub's record: the bad deployment failed; a rollback deployment of v1.1.0 succeeded.
    let deployments = w.history.list("staging");
    assert_eq!(deployments.len(), 3, "{deployments:?}");
    let (git_ref, task, states) = &deployments[0];
    assert_eq!(
        (git_ref.as_str(), task.as_str()),
        ("v1.1.0", "deploy:rollback")
    );
    assert_eq!(
        states.first().map(String::as_str),
        Some("success"),
        "{states:?}"
    );
    let bad = w.history.list("staging").into_iter().nth(1).unwrap();
    assert_eq!(bad.0, "v1.2.0");
    assert_eq!(
        bad.2.first().map(String::as_str),
        Some("failure"),
        "{bad:?}"
    );
    // One audit line: from v1.2.0 to v1.1.0, healthy, changed.
    let lines = audit(&run, "staging");
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    assert_eq!(line["target"], "command");
    assert!(line["from"].as_str().unwrap().ends_with("1.2.0"), "{line}");
    assert!(line["to"].as_str().unwrap().ends_with("1.1.0"), "{line}");
    assert_eq!(line["healthy"], true, "{line}");
    assert_eq!(line["changed"], true, "{line}");

    // Running the rollback again: already done, nothing runs, nothing is recorded.
    let rerun = w.act().run_event(
        "again",
        &rollback_again_workflow(),
        "release",
        &w.release_event("v1.2.0"),
    );
    assert!(rerun.success, "{}", rerun.log);
    assert_eq!(
        w.shop.events(),
        events,
        "the rollback command ran again:\n{}",
        rerun.log
    );
    assert_eq!(w.history.list("staging").len(), 3);
    let lines = audit(&rerun, "staging");
    let last = lines.last().unwrap();
    assert_eq!(last["changed"], false, "{last}");
    assert!(last["to"].as_str().unwrap().ends_with("1.1.0"), "{last}");
    assert_eq!(
        w.shop.serving(w.shop.canary_port).as_deref(),
        Some("v1.1.0")
    );
    w.server.assert_conforms();
}
