//! What comes from outside is checked, and the gate fails closed when it cannot see:
//! Prometheus answers that are not counters (`NaN`, `+Inf`, `1e308`, `abc`, negative or
//! decreasing values), a Prometheus that is down (traffic is never raised) or that hangs
//! (`max-duration` is wall-clock), and metric files holding infinities.
//!
//! The Prometheus stand-in runs on 127.0.0.1 and answers `query_range` with counters that
//! grow with time; only the canary's 5xx counter is replaced by the value under test.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hub_testkit::http::{Server, reply};

/// How the stand-in answers.
#[derive(Clone, Copy, Debug)]
enum Answer {
    /// The canary's 5xx counter sample at time `t` (seconds) is this text.
    CanaryErrors(fn(f64) -> String),
    /// The canary's 5xx counter is `NaN`, on a series whose `code` label holds workflow
    /// commands.
    HostileLabel,
    /// Accept connections and never answer.
    Hang,
    /// Refuse every query as Prometheus refuses one it cannot parse (HTTP 400, `bad_data`).
    Refuse,
}

/// A Prometheus stand-in on 127.0.0.1 (`server.url("")`), answering for two minutes.
fn stand_in(answer: Answer) -> Server {
    Server::for_at_most(Duration::from_secs(120), move |target, _| {
        respond(target, answer)
    })
}

/// The answer to a request for `target` (its path and query); `None` holds the connection
/// open without a byte of answer.
fn respond(target: &str, answer: Answer) -> Option<Vec<u8>> {
    let (bad, code): (fn(f64) -> String, &str) = match answer {
        Answer::CanaryErrors(bad) => (bad, "500"),
        Answer::HostileLabel => (|_| "NaN".to_owned(), HOSTILE),
        Answer::Hang => return None,
        Answer::Refuse => {
            return Some(reply(
                "400 Bad Request",
                "Content-Type: application/json\r\n",
                br#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:26: parse error: unexpected identifier \"canary\" in label matching, expected string"}"#,
            ));
        }
    };
    let params: Vec<(String, String)> = target
        .split_once('?')
        .map_or("", |(_, q)| q)
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), decode(v)))
        .collect();
    let param = |k: &str| {
        params
            .iter()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let (start, end, step) = (
        param("start").parse::<f64>().unwrap_or(0.0),
        param("end").parse::<f64>().unwrap_or(0.0),
        param("step").parse::<f64>().unwrap_or(1.0),
    );
    let query = param("query");
    let canary = query.contains(r#"track="canary""#);
    let errors = query.contains("code=~");
    let n = ((end - start) / step).round().max(0.0) as usize;
    let values: Vec<String> = (0..=n)
        .map(|k| {
            let t = start + k as f64 * step;
            // Seconds since 2020: counters well inside what a float counts exactly.
            let since = t - 1_577_836_800.0;
            let v = match (canary, errors) {
                (true, true) => bad(t),
                // 20 % of the baseline's requests fail: a canary with zero errors would
                // pass within a few intervals.
                (false, true) => format!("{}", 20.0 * since),
                (_, false) => format!("{}", 100.0 * since),
            };
            format!(r#"[{t:.3},"{v}"]"#)
        })
        .collect();
    let labels = serde_json::json!({ "code": code }).to_string();
    let body = format!(
        r#"{{"status":"success","data":{{"resultType":"matrix","result":[{{"metric":{labels},"values":[{}]}}]}}}}"#,
        values.join(",")
    );
    Some(reply(
        "200 OK",
        "Content-Type: application/json\r\n",
        body.as_bytes(),
    ))
}

/// A label value that tries every way into the runner's command parser.
const HOSTILE: &str =
    "500\n::error::pwned\n##[error]pwned\n::stop-commands::x\n::set-output name=verdict::pass";

fn decode(v: &str) -> String {
    percent_encoding::percent_decode_str(&v.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// One finished run of the binary inside a simulated Actions step.
struct Outcome {
    code: Option<i32>,
    elapsed: Duration,
    /// `$GITHUB_OUTPUT` as written.
    outputs: String,
    stdout: String,
    stderr: String,
    report: serde_json::Value,
}

impl Outcome {
    fn output(&self, name: &str) -> Option<String> {
        // The heredoc form: `name<<DELIM\nvalue\nDELIM`.
        let mut lines = self.outputs.lines();
        while let Some(line) = lines.next() {
            if let Some((n, delim)) = line.split_once("<<") {
                let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delim).collect();
                if n == name {
                    return Some(value.join("\n"));
                }
            }
        }
        None
    }
}

/// Runs the binary with `args` as an Actions step; kills it after `limit`.
fn gate(dir: &Path, args: &[&str], limit: Duration) -> Outcome {
    let report = dir.join("report.json");
    let output = dir.join("output");
    std::fs::write(&output, "").expect("output file");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hub-canary-gate"));
    cmd.arg("--report").arg(&report).args(args);
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("INPUT_") || k.starts_with("GITHUB_") || k == "RUNNER_TEMP" {
            cmd.env_remove(k);
        }
    }
    cmd.env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", dir.join("summary.md"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd.spawn().expect("starts");
    let code = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status.code();
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = started.elapsed();
    let out = child.wait_with_output().expect("output");
    Outcome {
        code,
        elapsed,
        outputs: std::fs::read_to_string(&output).unwrap_or_default(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        report: std::fs::read(&report)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(serde_json::Value::Null),
    }
}

fn prometheus_args<'a>(url: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "--prometheus-url",
        url,
        "--canary-selector",
        r#"track="canary""#,
        "--baseline-selector",
        r#"track="stable""#,
        "--metrics",
        "error-rate",
        "--interval",
        "1s",
        "--min-intervals",
        "1",
        "--min-requests",
        "1",
        "--watch",
        "until-pass",
    ];
    args.extend_from_slice(extra);
    args
}

/// A canary 5xx counter that Prometheus sends as `sample(t)` never counts as zero errors:
/// the run does not pass, `error-rate` is blind, and the report says which interval and why.
fn blind_on(sample: fn(f64) -> String, why: &str) {
    let prometheus = stand_in(Answer::CanaryErrors(sample));
    let url = prometheus.url("");
    let dir = tempfile::tempdir().expect("tempdir");
    let r = gate(
        dir.path(),
        &prometheus_args(
            &url,
            &[
                "--steps",
                "100",
                "--step-duration",
                "5s",
                "--max-duration",
                "4s",
            ],
        ),
        Duration::from_secs(30),
    );
    let context = format!("{why}: {}\n{}", r.stdout, r.stderr);
    assert_eq!(r.code, Some(1), "{context}");
    assert_eq!(
        r.output("verdict").as_deref(),
        Some("inconclusive"),
        "{context}"
    );
    assert_eq!(
        r.output("blind-metrics").as_deref(),
        Some("error-rate"),
        "{context}"
    );
    let intervals = r.report["samples"].as_array().expect("intervals");
    assert!(!intervals.is_empty(), "{context}");
    for i in intervals {
        let blind = &i["read"]["blind"][0];
        assert_eq!(blind["metric"], "error-rate", "{i}");
        let text = blind["why"].as_str().expect("why");
        assert!(text.contains("canary errors"), "{text}");
        assert!(text.contains(why), "{why}: {text}");
    }
    assert!(
        r.stdout.contains("error-rate blind"),
        "the log names the blind metric: {context}"
    );
}

fn since_2020(t: f64) -> f64 {
    t - 1_577_836_800.0
}

#[test]
fn a_nan_error_counter_is_blind() {
    blind_on(|_| "NaN".to_owned(), "`NaN` is not a finite number");
}

#[test]
fn an_infinite_error_counter_is_blind() {
    blind_on(|_| "+Inf".to_owned(), "`+Inf` is not a finite number");
}

#[test]
fn an_error_counter_beyond_exact_counting_is_blind() {
    blind_on(|_| "1e308".to_owned(), "`1e308` is above 2^53");
}

#[test]
fn a_non_numeric_error_counter_is_blind() {
    blind_on(|_| "abc".to_owned(), "`abc` is not a number");
}

#[test]
fn a_negative_error_counter_is_blind() {
    blind_on(|t| format!("{}", -since_2020(t)), "is negative");
}

#[test]
fn a_decreasing_error_counter_is_blind() {
    blind_on(
        |t| format!("{}", 1e12 - 50.0 * since_2020(t)),
        "went down from",
    );
}

#[test]
fn traffic_is_never_raised_while_prometheus_is_unreachable() {
    let port = hub_testkit::http::free_port();
    let url = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("set-weight");
    std::fs::write(
        &script,
        "#!/bin/sh\necho \"$HUB_CANARY_WEIGHT\" >> \"$(dirname \"$0\")/weights\"\n",
    )
    .expect("script");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let step = script.display().to_string();
    let r = gate(
        dir.path(),
        &prometheus_args(
            &url,
            &[
                "--steps",
                "5,25,50,100",
                "--step-duration",
                "1s",
                "--max-duration",
                "6s",
                "--step-command",
                &step,
            ],
        ),
        Duration::from_secs(40),
    );
    let context = format!("{}\n{}", r.stdout, r.stderr);
    let weights = std::fs::read_to_string(dir.path().join("weights")).expect("step-command ran");
    assert_eq!(weights, "5\n", "only the first weight: {context}");
    assert_eq!(r.code, Some(1), "{context}");
    assert_eq!(
        r.output("verdict").as_deref(),
        Some("inconclusive"),
        "{context}"
    );
    assert_eq!(r.output("last-weight").as_deref(), Some("5"), "{context}");
    assert!(
        r.stdout.contains("holding weight 5 %"),
        "the log says the step is held: {context}"
    );
    // The error says Prometheus did not answer, in its own words.
    let error = r
        .stdout
        .lines()
        .find(|l| l.contains("the canary is inconclusive"))
        .unwrap_or_default();
    assert!(
        error.contains("Prometheus did not answer (last at interval "),
        "{context}"
    );
}

/// `canary-selector: track=canary` (unquoted): Prometheus refuses every query as malformed,
/// and would until `max-duration` (30 minutes by default) — the rollout stops at the first
/// interval instead, saying which inputs to check, with the outputs written.
#[test]
fn a_query_prometheus_refuses_as_malformed_stops_the_rollout_at_once() {
    let prometheus = stand_in(Answer::Refuse);
    let url = prometheus.url("");
    let dir = tempfile::tempdir().expect("tempdir");
    let r = gate(
        dir.path(),
        &prometheus_args(&url, &["--max-duration", "60s"]),
        Duration::from_secs(90),
    );
    let context = format!("{:?}: {}\n{}", r.elapsed, r.stdout, r.stderr);
    // A correctness bound, not a benchmark: the first interval, far before max-duration.
    assert!(r.elapsed < Duration::from_secs(20), "{context}");
    assert_eq!(r.code, Some(1), "{context}");
    assert_eq!(
        r.output("verdict").as_deref(),
        Some("inconclusive"),
        "{context}"
    );
    assert!(
        r.stdout
            .contains("the rollout stopped: Prometheus refused a query as malformed"),
        "{context}"
    );
    assert!(r.stdout.contains("`canary-selector`"), "{context}");
}

#[test]
fn a_hanging_prometheus_ends_the_run_by_max_duration_with_the_outputs_written() {
    let prometheus = stand_in(Answer::Hang);
    let url = prometheus.url("");
    let dir = tempfile::tempdir().expect("tempdir");
    let r = gate(
        dir.path(),
        &prometheus_args(&url, &["--max-duration", "3s"]),
        Duration::from_secs(30),
    );
    let context = format!("{:?}: {}\n{}", r.elapsed, r.stdout, r.stderr);
    // A correctness deadline, not a benchmark: max-duration plus a generous margin.
    assert!(r.elapsed < Duration::from_secs(8), "{context}");
    assert_eq!(r.code, Some(1), "{context}");
    assert_eq!(
        r.output("verdict").as_deref(),
        Some("inconclusive"),
        "{context}"
    );
    assert_eq!(r.report["verdict"], "inconclusive", "{context}");
}

#[test]
fn infinite_values_in_a_metric_file_are_named_and_make_it_inconclusive() {
    let dir = tempfile::tempdir().expect("tempdir");
    let canary = dir.path().join("canary.csv");
    let baseline = dir.path().join("baseline.csv");
    let mut text = String::from("p95\n");
    for v in ["1.01", "1.02", "1.00", "1.03", "1.01"] {
        text.push_str(v);
        text.push('\n');
    }
    let bad = ["inf", "+Inf", "1e400", "Infinity", "NaN"];
    for i in 0..15 {
        text.push_str(bad[i % bad.len()]);
        text.push('\n');
    }
    std::fs::write(&canary, text).expect("canary");
    let mut text = String::from("p95\n");
    for i in 0..20 {
        text.push_str(&format!("{}\n", 1.0 + (i % 4) as f64 * 0.01));
    }
    std::fs::write(&baseline, text).expect("baseline");
    let (c, b) = (canary.display().to_string(), baseline.display().to_string());
    let r = gate(
        dir.path(),
        &[
            "--source",
            "file",
            "--canary-file",
            &c,
            "--baseline-file",
            &b,
        ],
        Duration::from_secs(30),
    );
    let context = format!("{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.code, Some(1), "{context}");
    assert_eq!(
        r.output("verdict").as_deref(),
        Some("inconclusive"),
        "{context}"
    );
    assert_eq!(
        r.output("blind-metrics").as_deref(),
        Some("p95"),
        "{context}"
    );
    // One warning on the canary file at its first bad line, naming the bad entries.
    let warning = r
        .stdout
        .lines()
        .find(|l| l.starts_with("::warning ") && l.contains("canary.csv"))
        .unwrap_or_else(|| panic!("a warning on the canary file: {context}"));
    assert!(warning.contains(",line=7"), "{warning}");
    for entry in [
        "line 7, `p95` (`inf`)",
        "line 8, `p95` (`+Inf`)",
        "line 9, `p95` (`1e400`)",
        "line 10, `p95` (`Infinity`)",
        "line 11, `p95` (`NaN`)",
        "and 5 more",
    ] {
        assert!(warning.contains(entry), "{entry}: {warning}");
    }
    assert!(warning.contains("15 values"), "{warning}");
    let evidence = r.report["metrics"][0]["evidence"]
        .as_str()
        .expect("evidence");
    assert!(evidence.contains("15 of 20 canary values"), "{evidence}");
    assert!(
        !r.stdout
            .lines()
            .any(|l| l.starts_with("::warning ") && l.contains("baseline.csv")),
        "{context}"
    );
}

#[test]
fn a_hostile_label_on_a_blind_series_runs_no_workflow_command() {
    let prometheus = stand_in(Answer::HostileLabel);
    let url = prometheus.url("");
    let dir = tempfile::tempdir().expect("tempdir");
    let r = gate(
        dir.path(),
        &prometheus_args(
            &url,
            &[
                "--steps",
                "100",
                "--step-duration",
                "5s",
                "--max-duration",
                "3s",
            ],
        ),
        Duration::from_secs(30),
    );
    let context = format!("{}\n{}", r.stdout, r.stderr);
    assert_eq!(
        r.output("verdict").as_deref(),
        Some("inconclusive"),
        "{context}"
    );
    // The label reached the log (as data) and the report.
    assert!(r.stdout.contains("pwned"), "{context}");
    let why = r.report["blind_intervals"][0]["why"].as_str().expect("why");
    assert!(why.contains("pwned"), "{why}");
    let commands = hub_kit::command::commands_in(&r.stdout);
    assert!(
        !commands.iter().any(|(_, text)| text.contains("pwned"))
            && !commands.iter().any(|(name, _)| name == "set-output"),
        "{commands:?}"
    );
    let summary = std::fs::read_to_string(dir.path().join("summary.md")).expect("summary");
    assert!(summary.contains("Blind intervals"), "{summary}");
    assert!(!summary.contains("\n::error::pwned"), "{summary}");
}
