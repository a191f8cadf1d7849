//! `--simulate SEED`: the progressive loop on `hub_canary`'s simulator (deterministic, no
//! waiting), and the usage errors of progressive mode.

use std::process::Command;

fn gate(args: &[&str]) -> (i32, serde_json::Value, String, serde_json::Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("report.json");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hub-canary-gate"));
    cmd.arg("--json").arg("--report").arg(&report).args(args);
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("INPUT_") || k.starts_with("GITHUB_") {
            cmd.env_remove(k);
        }
    }
    let out = cmd.output().expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let outputs = serde_json::from_str(&stdout).unwrap_or(serde_json::Value::Null);
    let report = std::fs::read(&report)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(serde_json::Value::Null);
    (
        out.status.code().expect("exit code"),
        outputs,
        stderr,
        report,
    )
}

const RAMP: [&str; 8] = [
    "--interval",
    "1m",
    "--step-duration",
    "15m",
    "--steps",
    "5,10,25,50",
    "--max-duration",
    "60m",
];

#[test]
fn a_healthy_simulated_canary_passes_and_a_bad_one_fails_early() {
    let mut aa = vec!["--simulate", "7"];
    aa.extend(RAMP);
    let (code, outputs, stderr, report) = gate(&aa);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(outputs["verdict"], "pass");
    assert_eq!(report["source"], "simulate");
    let intervals = report["samples"].as_array().expect("intervals").len();
    assert!((20..=60).contains(&intervals), "{intervals}");

    let mut bad = vec!["--simulate", "7", "--simulate-errors", "4"];
    bad.extend(RAMP);
    let (code, outputs, stderr, report) = gate(&bad);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(outputs["verdict"], "fail");
    assert_eq!(outputs["failed-metrics"], "error-rate");
    let intervals = report["samples"].as_array().expect("intervals").len();
    assert!(
        intervals < 60,
        "stops at the first decisive failure: {intervals}"
    );
    assert_eq!(report["steps"][0]["weight"], 5.0);
}

#[test]
fn the_same_seed_gives_the_same_report() {
    let mut args = vec!["--simulate", "11", "--simulate-latency", "1.3"];
    args.extend(RAMP);
    let (_, a, _, ra) = gate(&args);
    let (_, b, _, rb) = gate(&args);
    assert_eq!(a["verdict"], b["verdict"]);
    assert_eq!(ra["samples"], rb["samples"]);
    assert_eq!(ra["metrics"], rb["metrics"]);
}

#[test]
fn progressive_usage_errors_exit_2() {
    for (args, want) in [
        (
            vec!["--prometheus-url", "http://127.0.0.1:1"],
            "`canary-selector` is required",
        ),
        (vec!["--simulate", "1", "--steps", "5,0"], "input `steps`"),
        (
            vec!["--simulate", "1", "--interval", "soon"],
            "input `interval`",
        ),
        (
            vec!["--simulate", "1", "--metrics", "cpu"],
            "not a built-in Prometheus metric",
        ),
        (
            vec!["--simulate", "1", "--max-error-rate", "5"],
            "input `max-error-rate`",
        ),
        (
            vec!["--simulate", "1", "--on-inconclusive", "maybe"],
            "`on-inconclusive`",
        ),
        (
            vec!["--simulate", "1", "--step-command", "deploy 'x"],
            "input `step-command`",
        ),
    ] {
        let (code, _, stderr, _) = gate(&args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
    }
}

#[test]
fn in_actions_tokens_are_masked_before_anything_else() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hub-canary-gate"));
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("INPUT_") || k.starts_with("GITHUB_") {
            cmd.env_remove(k);
        }
    }
    let out = cmd
        .args(RAMP)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", dir.path().join("output"))
        .env("RUNNER_TEMP", dir.path())
        .env("INPUT_SIMULATE", "3")
        .env("INPUT_PROMETHEUS-TOKEN", "s3cret-t0ken")
        .env(
            "INPUT_PROMETHEUS-HEADERS",
            "X-Scope-OrgID: tenant-z\nX-Other: v4lue",
        )
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        &lines[..3],
        [
            "::add-mask::s3cret-t0ken",
            "::add-mask::tenant-z",
            "::add-mask::v4lue"
        ],
        "{stdout}"
    );
    let output = std::fs::read_to_string(dir.path().join("output")).expect("outputs");
    assert!(output.contains("verdict<<"), "{output}");
    let report = dir.path().join("hub-canary-gate-report.json");
    assert!(report.is_file(), "the report goes under RUNNER_TEMP");
    assert!(
        !std::fs::read_to_string(report)
            .expect("report")
            .contains("s3cret")
    );
}

#[test]
fn a_failing_step_command_stops_the_rollout_with_a_report() {
    let mut args = vec![
        "--simulate",
        "5",
        "--step-command",
        "sh -c 'echo \"no route to $HUB_CANARY_WEIGHT\"; exit 4'",
    ];
    args.extend(RAMP);
    let (code, outputs, stderr, report) = gate(&args);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(outputs["verdict"], "inconclusive");
    assert!(stderr.contains("no route to 5"), "{stderr}");
    assert!(
        stderr
            .contains("the rollout stopped: `step-command` failed at weight `5` %: exit status 4"),
        "{stderr}"
    );
    assert_eq!(report["steps"][0]["command"], "exit status 4");
}
