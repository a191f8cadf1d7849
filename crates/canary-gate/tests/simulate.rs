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
fn watching_until_the_end_catches_a_regression_that_starts_late() {
    // Seed 1: the canary looks healthy and passes at weight 10 %; from interval 30 it
    // serves five times the baseline's errors.
    let late = |watch: &str| {
        let mut args = vec![
            "--simulate",
            "1",
            "--simulate-errors",
            "5",
            "--simulate-onset",
            "30",
            "--watch",
        ];
        args.push(watch);
        args.extend(RAMP);
        gate(&args)
    };
    let (code, outputs, stderr, report) = late("until-pass");
    assert_eq!((code, &outputs["verdict"]), (0, &"pass".into()), "{stderr}");
    assert!(report["samples"].as_array().expect("samples").len() < 30);

    let (code, outputs, stderr, report) = late("until-end");
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(outputs["verdict"], "fail");
    assert_eq!(outputs["failed-metrics"], "error-rate");
    let n = report["samples"].as_array().expect("samples").len();
    assert!(
        (31..60).contains(&n),
        "fails after the onset, before the end: {n}"
    );
    let evidence = report["metrics"][0]["evidence"].as_str().expect("evidence");
    assert!(
        evidence.starts_with("regression since a later interval: the change detector"),
        "{evidence}"
    );

    // A healthy canary watched until the end passes at the end, after every step.
    let mut args = vec!["--simulate", "7"];
    args.extend(RAMP);
    let (code, outputs, stderr, report) = gate(&args);
    assert_eq!((code, &outputs["verdict"]), (0, &"pass".into()), "{stderr}");
    assert_eq!(report["samples"].as_array().expect("samples").len(), 60);
    assert_eq!(outputs["last-weight"], "50");
}

#[test]
fn dispersion_auto_estimates_the_noise_from_an_a_a_window() {
    let run = |noise: &str| {
        let mut args = vec![
            "--simulate",
            "3",
            "--simulate-noise",
            noise,
            "--dispersion",
            "auto",
        ];
        args.extend(RAMP);
        gate(&args)
    };
    let (_, _, stderr, quiet) = run("0");
    let (_, _, _, noisy) = run("0.6");
    assert!(
        stderr.contains("A/A calibration over 60 intervals"),
        "{stderr}"
    );
    let phi = |r: &serde_json::Value, m: &str| {
        r["calibration"][m]["recommended"]
            .as_f64()
            .unwrap_or_else(|| panic!("{m}: {}", r["calibration"]))
    };
    assert!(phi(&quiet, "errors") < 1.6, "{}", quiet["calibration"]);
    assert!(
        phi(&noisy, "errors") > phi(&quiet, "errors") && phi(&noisy, "latency") > 2.0,
        "{} vs {}",
        noisy["calibration"],
        quiet["calibration"]
    );
    // A fixed factor skips the calibration.
    let mut args = vec!["--simulate", "3", "--dispersion", "2"];
    args.extend(RAMP);
    let (_, _, stderr, fixed) = gate(&args);
    assert!(fixed["calibration"].is_null());
    assert!(!stderr.contains("A/A calibration"), "{stderr}");
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
        (
            vec!["--simulate", "1", "--watch", "sometimes"],
            "input `watch` must be `until-end` or `until-pass`",
        ),
        (
            vec!["--simulate", "1", "--dispersion", "0.5"],
            "input `dispersion` must be `auto` or a number of at least 1, got `0.5`",
        ),
        (
            vec![
                "--simulate",
                "1",
                "--dispersion",
                "auto",
                "--calibration-selectors",
                "a=\"1\"",
            ],
            "input `calibration-selectors` needs two selectors",
        ),
        // A health URL that cannot be probed is the workflow's typo: failing the canary
        // on it (and rolling back) would blame the release.
        (
            vec!["--simulate", "1", "--health-urls", "localhost:8080/health"],
            "input `health-urls`: `localhost:8080/health` is not an `http://` or `https://` URL",
        ),
        (
            vec![
                "--simulate",
                "1",
                "--health-urls",
                "https://ok.example/\nftp://x/",
            ],
            "input `health-urls`: `ftp://x/` is not an `http://` or `https://` URL",
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
    let report = std::fs::read_dir(dir.path())
        .expect("RUNNER_TEMP")
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("hub-canary-gate-report-"))
        })
        .expect("the report goes under RUNNER_TEMP");
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

#[test]
fn a_step_command_that_cannot_start_stops_the_rollout_with_a_report() {
    // The README's `./set-weight.sh`, not there (or not executable): the same as a failed
    // step — outputs, report and summary written — not an error that writes none of them.
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("set-weight.sh");
    let missing = missing.display().to_string();
    let mut args = vec!["--simulate", "5", "--step-command", &missing];
    args.extend(RAMP);
    let (code, outputs, stderr, report) = gate(&args);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(outputs["verdict"], "inconclusive", "{stderr}");
    assert!(
        stderr.contains(&format!(
            "the rollout stopped: `step-command` failed at weight `5` %: cannot start `{missing}`"
        )),
        "{stderr}"
    );
    assert!(
        report["steps"][0]["command"]
            .as_str()
            .is_some_and(|c| c.starts_with("cannot start")),
        "{report}"
    );
}

/// Runs a simulated gate with no `--report`, in `env` (`RUNNER_TEMP`, `TMPDIR`); the
/// `report` output.
fn default_report(env: &[(&str, &std::path::Path)]) -> std::path::PathBuf {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hub-canary-gate"));
    cmd.args(["--json", "--simulate", "7"]).args(RAMP);
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("INPUT_") || k.starts_with("GITHUB_") || k == "RUNNER_TEMP" {
            cmd.env_remove(k);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("runs");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let outputs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("outputs");
    let path = std::path::PathBuf::from(outputs["report"].as_str().expect("a report path"));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("the report")).expect("JSON");
    assert_eq!(report["verdict"], "pass");
    path
}

/// Without `report`, each run writes a new file of its own: under `$RUNNER_TEMP` (the job's
/// temporary directory) in Actions, else in the system's temporary directory — so two gates
/// in one job, or two users of one `/tmp`, never overwrite each other's report, and a link
/// planted at a predictable name in a shared `/tmp` redirects nothing.
#[test]
fn the_default_report_is_a_new_file_of_each_run() {
    let runner_temp = tempfile::tempdir().expect("tempdir");
    let first = default_report(&[("RUNNER_TEMP", runner_temp.path())]);
    let second = default_report(&[("RUNNER_TEMP", runner_temp.path())]);
    assert_ne!(first, second, "two gates in one job keep two reports");
    for path in [&first, &second] {
        assert_eq!(path.parent(), Some(runner_temp.path()), "{path:?}");
        let name = path
            .file_name()
            .expect("a file name")
            .to_string_lossy()
            .into_owned();
        assert!(
            name.starts_with("hub-canary-gate-report-") && name.ends_with(".json"),
            "{name}"
        );
    }

    let tmp = tempfile::tempdir().expect("tempdir");
    let victim = tmp.path().join("victim");
    std::fs::write(&victim, "keep").expect("write");
    std::os::unix::fs::symlink(&victim, tmp.path().join("hub-canary-gate-report.json"))
        .expect("symlink");
    let path = default_report(&[("TMPDIR", tmp.path())]);
    assert_eq!(path.parent(), Some(tmp.path()), "{path:?}");
    assert!(!path.is_symlink(), "{path:?}");
    assert_eq!(std::fs::read_to_string(&victim).expect("read"), "keep");
}
