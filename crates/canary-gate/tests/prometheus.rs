//! `source: prometheus` against a real Prometheus (the Debian package) on loopback,
//! scraping two in-test services every second whose counters the test drives.
//!
//! Why live scraping rather than `promtool tsdb create-blocks-from openmetrics`: the gate
//! polls on the wall clock and asks for the newest interval; backfilled blocks hold only
//! the past, so they would exercise the queries but not the loop that waits for each
//! interval, sees series vanish (staleness markers) and stops early. Scenarios are kept
//! to a few 2-second intervals each; no test asserts a timing.

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hub_testkit::http::free_port;
use hub_testkit::http::{Server, reply};
use hub_testkit::prometheus::Prometheus;

/// What one service adds to its counters every 100 ms.
#[derive(Clone, Copy, Debug)]
struct Rates {
    requests: u64,
    errors: u64,
    slow: u64,
}

#[derive(Debug, Default)]
struct Counters {
    requests: u64,
    errors: u64,
    le_0_1: u64,
    le_0_25: u64,
    le_0_5: u64,
    reporting: bool,
    rates: Option<Rates>,
}

impl Counters {
    fn tick(&mut self) {
        let Some(r) = self.rates else { return };
        self.requests += r.requests;
        self.errors += r.errors;
        let fast = r.requests - r.slow;
        self.le_0_1 += fast / 2;
        self.le_0_25 += fast;
        self.le_0_5 += r.requests - r.slow / 2;
    }

    fn exposition(&self) -> String {
        if !self.reporting {
            return String::new();
        }
        format!(
            "# TYPE http_requests_total counter\n\
             http_requests_total{{code=\"200\"}} {ok}\n\
             http_requests_total{{code=\"500\"}} {err}\n\
             # TYPE http_request_duration_seconds histogram\n\
             http_request_duration_seconds_bucket{{le=\"0.1\"}} {a}\n\
             http_request_duration_seconds_bucket{{le=\"0.25\"}} {b}\n\
             http_request_duration_seconds_bucket{{le=\"0.5\"}} {c}\n\
             http_request_duration_seconds_bucket{{le=\"+Inf\"}} {n}\n\
             http_request_duration_seconds_sum {sum}\n\
             http_request_duration_seconds_count {n}\n",
            ok = self.requests - self.errors,
            err = self.errors,
            a = self.le_0_1,
            b = self.le_0_25,
            c = self.le_0_5,
            n = self.requests,
            sum = self.requests as f64 * 0.12,
        )
    }
}

/// A tiny HTTP service: `/metrics` (Prometheus text format) and `/health`.
struct Service {
    port: u16,
    state: Arc<Mutex<Counters>>,
    /// Serves until the test ends (at most 15 minutes).
    _server: Server,
}

impl Service {
    fn start(rates: Rates) -> Self {
        let state = Arc::new(Mutex::new(Counters {
            reporting: true,
            rates: Some(rates),
            ..Counters::default()
        }));
        let served = Arc::clone(&state);
        let server = Server::for_at_most(Duration::from_secs(900), move |path, _| {
            let body = if path.starts_with("/health") {
                "ok\n".to_owned()
            } else {
                served.lock().expect("state").exposition()
            };
            Some(reply(
                "200 OK",
                "Content-Type: text/plain; version=0.0.4\r\n",
                body.as_bytes(),
            ))
        });
        let driven = Arc::clone(&state);
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(Duration::from_millis(100));
                driven.lock().expect("state").tick();
            }
        });
        Self {
            port: server.port(),
            state,
            _server: server,
        }
    }

    fn set(&self, f: impl FnOnce(&mut Counters)) {
        f(&mut self.state.lock().expect("state"));
    }
}

struct Outcome {
    code: i32,
    outputs: serde_json::Value,
    stderr: String,
    report: serde_json::Value,
}

fn gate(prometheus_port: u16, extra: &[&str]) -> Outcome {
    gate_in(prometheus_port, extra, &[])
}

/// [`gate`] with extra environment variables.
fn gate_in(prometheus_port: u16, extra: &[&str], env: &[(&str, &str)]) -> Outcome {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("report.json");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hub-canary-gate"));
    cmd.args([
        "--json",
        "--prometheus-url",
        &format!("http://127.0.0.1:{prometheus_port}"),
        "--canary-selector",
        r#"track="canary""#,
        "--baseline-selector",
        r#"track="baseline""#,
        "--interval",
        "2s",
        "--step-duration",
        "4s",
        "--steps",
        "10,50,100",
        "--min-intervals",
        "3",
        "--min-requests",
        "200",
        "--report",
    ])
    .arg(&report)
    .args(extra);
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("INPUT_")
            || k.starts_with("GITHUB_")
            || k.to_ascii_uppercase().ends_with("_PROXY")
        {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().copied());
    let out = cmd.output().expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    Outcome {
        code: out.status.code().expect("exit code"),
        outputs: serde_json::from_str(&stdout).unwrap_or(serde_json::Value::Null),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        report: std::fs::read(&report)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(serde_json::Value::Null),
    }
}

fn installed() -> bool {
    Command::new("prometheus")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

const HEALTHY: Rates = Rates {
    requests: 50,
    errors: 1,
    slow: 3,
};

#[test]
fn prometheus_down_is_inconclusive() {
    let port = free_port();
    let r = gate(port, &["--max-duration", "4s"]);
    assert_eq!(r.report["latency_threshold"], serde_json::Value::Null);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.outputs["verdict"], "inconclusive", "{}", r.stderr);
    assert_eq!(r.outputs["blind-metrics"], "error-rate,latency");
    assert!(
        r.stderr.contains("prometheus: request failed"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("blind: error-rate, latency"),
        "{}",
        r.stderr
    );
}

/// Issue 20: Prometheus queries go through the proxy the binary's environment names
/// (`HTTP_PROXY` for an `http://` Prometheus, lower case too), and straight to Prometheus
/// when `NO_PROXY` names its host.
#[test]
fn prometheus_queries_go_through_the_environments_proxy_unless_no_proxy_names_the_host() {
    use hub_testkit::http::ConnectProxy;
    let check = |proxy_var: &str, no_proxy: Option<&str>| {
        // An empty matrix for every query: the gate reads nothing and stays inconclusive.
        let prometheus = Server::start(|path, _| {
            let body: &[u8] = if path.starts_with("/api/v1/query_range?") {
                br#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#
            } else {
                br#"{"status":"error","errorType":"bad_data","error":"unexpected path"}"#
            };
            Some(reply("200 OK", "Content-Type: application/json\r\n", body))
        });
        let proxy = ConnectProxy::start();
        let proxy_url = proxy.url();
        let mut env = vec![(proxy_var, proxy_url.as_str())];
        env.extend(no_proxy.map(|n| ("NO_PROXY", n)));
        let r = gate_in(
            prometheus.port(),
            &["--max-duration", "4s", "--latency-threshold", "0.25"],
            &env,
        );
        assert_eq!(r.outputs["verdict"], "inconclusive", "{}", r.stderr);
        assert!(r.stderr.contains("no series for"), "{}", r.stderr);
        assert!(prometheus.connections() > 0, "{}", r.stderr);
        (proxy.targets(), format!("127.0.0.1:{}", prometheus.port()))
    };
    let (targets, prometheus) = check("HTTP_PROXY", None);
    assert!(!targets.is_empty(), "no query went through the proxy");
    assert!(targets.iter().all(|t| *t == prometheus), "{targets:?}");
    let (targets, _) = check("http_proxy", None);
    assert!(
        !targets.is_empty(),
        "lower case: no query went through the proxy"
    );
    let (targets, _) = check("HTTP_PROXY", Some("127.0.0.1"));
    assert_eq!(
        targets,
        Vec::<String>::new(),
        "NO_PROXY's host went through the proxy"
    );
}

#[test]
fn against_a_real_prometheus() {
    if !installed() {
        hub_testkit::skip("prometheus not installed (apt-get install prometheus)");
        return;
    }
    let baseline = Service::start(HEALTHY);
    let canary = Service::start(HEALTHY);
    let prometheus = Prometheus::scraping(
        "demo",
        &[(baseline.port, "baseline"), (canary.port, "canary")],
        Duration::from_secs(600),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let weights = dir.path().join("weights");
    let health = format!("http://127.0.0.1:{}/health", canary.port);

    // 1. A healthy canary passes once the minimum observation is over, with every step
    //    announced to `step-command` before it starts.
    let step = format!("sh -c 'echo $HUB_CANARY_WEIGHT >> {}'", weights.display());
    let r = gate(
        prometheus.port,
        &[
            "--max-duration",
            "30s",
            "--health-urls",
            &health,
            "--step-command",
            &step,
        ],
    );
    assert_eq!(r.code, 0, "healthy: {}", r.stderr);
    assert_eq!(r.outputs["verdict"], "pass", "{}", r.stderr);
    let intervals = r.report["samples"].as_array().expect("samples");
    assert!(intervals.len() >= 3, "passes only after `min-intervals`");
    let first = &intervals[0]["read"]["interval"];
    assert!(
        first["canary"]["requests"].as_f64().expect("requests") > 0.0,
        "{first}"
    );
    assert_eq!(first["health"], true);
    let announced = std::fs::read_to_string(&weights).expect("step-command ran");
    assert!(announced.starts_with("10\n"), "{announced}");
    assert_eq!(
        r.outputs["last-weight"],
        announced.lines().last().expect("a weight")
    );

    // 2. A failing health check beyond `health-max-failures` fails the gate. It runs while
    //    the canary's metrics are still healthy, so the health check is the only failure.
    let dead = format!("http://127.0.0.1:{}/health", free_port());
    let r = gate(
        prometheus.port,
        &["--max-duration", "30s", "--health-urls", &dead],
    );
    assert_eq!(r.code, 1, "health: {}", r.stderr);
    assert_eq!(r.outputs["failed-metrics"], "health-check", "{}", r.stderr);

    // 3. A canary at 3x the error rate fails early, at the first step.
    canary.set(|c| {
        c.rates = Some(Rates {
            errors: 3,
            ..HEALTHY
        })
    });
    std::thread::sleep(Duration::from_secs(2));
    let r = gate(
        prometheus.port,
        &["--max-duration", "30s", "--latency-threshold", "0.25"],
    );
    assert_eq!(r.code, 1, "3x: {}", r.stderr);
    assert_eq!(r.outputs["verdict"], "fail", "{}", r.stderr);
    assert_eq!(r.outputs["failed-metrics"], "error-rate", "{}", r.stderr);
    assert_eq!(
        r.outputs["last-weight"], "10",
        "stops at the first decisive failure"
    );

    // 4. A slower canary fails on latency alone: 20 % of its requests above 0.25 s where
    //    the baseline has 6 %, which moves its histogram p95 from about 0.31 s to 0.5 s
    //    (+60 %). The error rate is healthy again, and its window has passed.
    canary.set(|c| {
        c.rates = Some(Rates {
            slow: 10,
            ..HEALTHY
        })
    });
    std::thread::sleep(Duration::from_secs(4));
    let r = gate(
        prometheus.port,
        &["--max-duration", "30s", "--latency-threshold", "0.25"],
    );
    assert_eq!(r.code, 1, "slow: {}", r.stderr);
    assert_eq!(r.outputs["verdict"], "fail", "{}", r.stderr);
    assert_eq!(r.outputs["failed-metrics"], "latency", "{}", r.stderr);
    canary.set(|c| c.rates = Some(HEALTHY));

    // 5. A canary that stops reporting is inconclusive, naming the blind metrics.
    canary.set(|c| c.reporting = false);
    std::thread::sleep(Duration::from_secs(2));
    let r = gate(
        prometheus.port,
        &["--max-duration", "8s", "--latency-threshold", "0.25"],
    );
    assert_eq!(r.code, 1, "stopped: {}", r.stderr);
    assert_eq!(r.outputs["verdict"], "inconclusive", "{}", r.stderr);
    assert_eq!(
        r.outputs["blind-metrics"], "error-rate,latency",
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("canary requests: no series"),
        "{}",
        r.stderr
    );
    drop(prometheus);
}
