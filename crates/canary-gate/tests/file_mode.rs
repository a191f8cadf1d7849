//! `source: file` end to end: the binary on the fixtures in `fixtures/canary-gate/`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/canary-gate")
        .join(name)
        .display()
        .to_string()
}

struct Run {
    code: i32,
    outputs: serde_json::Value,
    stderr: String,
    report: serde_json::Value,
}

fn gate(args: &[&str], actions: Option<&Path>) -> Run {
    let dir = tempfile::tempdir().expect("tempdir");
    let report: PathBuf = dir.path().join("report.json");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hub-canary-gate"));
    cmd.args(["--source", "file", "--json", "--report"])
        .arg(&report)
        .args(args);
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("INPUT_") || k.starts_with("GITHUB_") || k == "RUNNER_TEMP" {
            cmd.env_remove(k);
        }
    }
    if let Some(dir) = actions {
        cmd.env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", dir.join("output"))
            .env("GITHUB_STEP_SUMMARY", dir.join("summary.md"));
    }
    let out = cmd.output().expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let outputs = if actions.is_some() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
    };
    let report = serde_json::from_slice(&std::fs::read(&report).expect("report written"))
        .expect("report is JSON");
    Run {
        code: out.status.code().expect("exit code"),
        outputs,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        report,
    }
}

#[test]
fn a_regressed_benchmark_fails() {
    let r = gate(
        &[
            "--canary-file",
            &fixture("canary-bench-regressed.json"),
            "--baseline-file",
            &fixture("baseline-bench.json"),
            "--metrics",
            "p95: higher-is-worse, max-ratio=1.10",
        ],
        None,
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.outputs["verdict"], "fail");
    assert_eq!(r.outputs["failed-metrics"], "p95");
    assert!(r.stderr.contains("the canary failed: p95"), "{}", r.stderr);
    let m = &r.report["metrics"][0];
    assert_eq!(m["decision"]["verdict"], "fail");
    assert!(m["decision"]["ci_low"].as_f64().expect("ci_low") > 1.10);
    assert_eq!(
        r.report["samples"][0]["canary"]
            .as_array()
            .expect("samples")
            .len(),
        20
    );
}

#[test]
fn an_equal_benchmark_passes_with_both_judges() {
    for judge in ["gauge", "kayenta"] {
        let r = gate(
            &[
                "--canary-file",
                &fixture("canary-bench-equal.json"),
                "--baseline-file",
                &fixture("baseline-bench.json"),
                "--metrics",
                "p95: max-ratio=1.10",
                "--judge",
                judge,
            ],
            None,
        );
        assert_eq!(r.code, 0, "{judge}: {}", r.stderr);
        assert_eq!(r.outputs["verdict"], "pass", "{judge}");
        assert_eq!(r.outputs["failed-metrics"], "");
    }
}

#[test]
fn a_missing_file_is_inconclusive_and_fails_by_default() {
    let args = [
        "--canary-file",
        "/nonexistent/canary.json",
        "--baseline-file",
        &fixture("baseline-bench.json"),
        "--metrics",
        "p95",
    ];
    let r = gate(&args, None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.outputs["verdict"], "inconclusive");
    assert_eq!(r.outputs["blind-metrics"], "p95");
    assert!(
        r.stderr.contains("cannot read `/nonexistent/canary.json`"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("blind: p95"), "{}", r.stderr);

    let mut pass = args.to_vec();
    pass.extend(["--on-inconclusive", "pass"]);
    let r = gate(&pass, None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.outputs["verdict"], "inconclusive");
    assert!(
        r.stderr.contains("warning")
            && r.stderr
                .contains("passing because `on-inconclusive` is `pass`"),
        "{}",
        r.stderr
    );
}

#[test]
fn too_few_samples_are_inconclusive() {
    let dir = tempfile::tempdir().expect("tempdir");
    let short = dir.path().join("short.json");
    std::fs::write(&short, "[0.2, 0.21, 0.2]").expect("write");
    let r = gate(
        &[
            "--canary-file",
            &short.display().to_string(),
            "--baseline-file",
            &fixture("baseline-bench.json"),
        ],
        None,
    );
    assert_eq!(r.code, 1);
    assert_eq!(r.outputs["blind-metrics"], "value");
    assert!(r.stderr.contains("too few"), "{}", r.stderr);
}

#[test]
fn csv_intervals_in_actions_write_outputs_and_a_summary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let r = gate(
        &[
            "--canary-file",
            &fixture("canary-intervals.csv"),
            "--baseline-file",
            &fixture("baseline-intervals.csv"),
            "--metrics",
            "p95: max-ratio=1.10\nrps: lower-is-worse, max-ratio=1.05",
        ],
        Some(dir.path()),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let output = std::fs::read_to_string(dir.path().join("output")).expect("outputs");
    assert!(
        output.contains("verdict<<") && output.contains("\npass\n"),
        "{output}"
    );
    let summary = std::fs::read_to_string(dir.path().join("summary.md")).expect("summary");
    assert!(
        summary.contains("| metric | canary | baseline | ratio | decision | evidence |"),
        "{summary}"
    );
    assert!(
        summary.contains("| `p95` |") && summary.contains("| `rps` |"),
        "{summary}"
    );
    assert_eq!(
        summary.matches("```mermaid\nxychart-beta").count(),
        2,
        "{summary}"
    );
}

#[test]
fn hostile_metric_names_stay_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let name = "x]\"::error::pwned<b>";
    let file = dir.path().join("c.json");
    std::fs::write(
        &file,
        format!(
            "{{\"{}\": [1.0,1.01,1.02,1.0,1.01,1.02,1.0,1.01,1.02,1.0,1.01,1.02]}}",
            name.replace('"', "\\\"")
        ),
    )
    .expect("write");
    let r = gate(
        &[
            "--canary-file",
            &file.display().to_string(),
            "--baseline-file",
            &file.display().to_string(),
        ],
        Some(dir.path()),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let summary = std::fs::read_to_string(dir.path().join("summary.md")).expect("summary");
    // The name appears only as inline code, never inside a chart.
    assert_eq!(
        summary.matches(name).count(),
        summary.matches(&format!("`{name}`")).count(),
        "{summary}"
    );
    for block in summary.split("```mermaid").skip(1) {
        let chart = block.split("```").next().unwrap_or_default();
        assert!(!chart.contains("pwned"), "{chart}");
    }
}

/// Issue 20: the report is written with the suite's one atomic write: a report path that is
/// a symlink stays a link (the file it points to gets the report), a killed run's leftover
/// temporary file is removed, and re-running leaves exactly the report.
#[cfg(unix)]
#[test]
fn the_report_follows_a_symlink_and_removes_a_killed_runs_leftover() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kept = dir.path().join("kept");
    std::fs::create_dir(&kept).expect("mkdir");
    let real = kept.join("report.json");
    let link = dir.path().join("report.json");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");
    // What a run killed mid-write leaves next to the target.
    let leftover = kept.join(".report.json.hub-tmp-0badc0ffee00");
    std::fs::write(&leftover, "{\"half\":").expect("leftover");
    let run = || {
        let out = Command::new(env!("CARGO_BIN_EXE_hub-canary-gate"))
            .args(["--source", "file", "--json", "--canary-file"])
            .arg(fixture("canary-bench-equal.json"))
            .arg("--baseline-file")
            .arg(fixture("baseline-bench.json"))
            .args(["--metrics", "p95: max-ratio=1.10", "--report"])
            .arg(&link)
            .env_remove("GITHUB_ACTIONS")
            .env_remove("GITHUB_OUTPUT")
            .env_remove("GITHUB_STEP_SUMMARY")
            .output()
            .expect("runs");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run();
    assert!(
        std::fs::symlink_metadata(&link)
            .expect("link")
            .file_type()
            .is_symlink(),
        "the report path is no longer a symlink"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&real).expect("the linked file")).expect("JSON");
    assert_eq!(report["verdict"], "pass");
    run();
    let names: Vec<String> = std::fs::read_dir(&kept)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["report.json"], "the leftover or a temp file stayed");
}

#[test]
fn a_file_input_left_out_is_a_usage_error_even_with_on_inconclusive_pass() {
    // `canary_file:` misspelled in `with:` leaves the input unset: the workflow's mistake,
    // which must not let the gate pass as "inconclusive".
    for (set, missing) in [
        ("INPUT_BASELINE-FILE", "canary-file"),
        ("INPUT_CANARY-FILE", "baseline-file"),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = Command::new(env!("CARGO_BIN_EXE_hub-canary-gate"))
            .env_clear()
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", dir.path().join("output"))
            .env("RUNNER_TEMP", dir.path())
            .env("INPUT_SOURCE", "file")
            .env(set, fixture("baseline-bench.json"))
            .env("INPUT_ON-INCONCLUSIVE", "pass")
            .output()
            .expect("runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(2), "{stdout}");
        assert!(
            stdout.contains(&format!(
                "::error::input `{missing}` is required with `source: file`"
            )),
            "{stdout}"
        );
        let outputs = std::fs::read_to_string(dir.path().join("output")).unwrap_or_default();
        assert!(!outputs.contains("verdict"), "{outputs}");
    }
}

#[test]
fn the_summary_and_log_say_the_verdict_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let passed = gate(
        &[
            "--canary-file",
            &fixture("canary-bench-equal.json"),
            "--baseline-file",
            &fixture("baseline-bench.json"),
            "--metrics",
            "p95",
        ],
        Some(dir.path()),
    );
    assert_eq!(passed.code, 0, "{}", passed.stderr);
    let summary = std::fs::read_to_string(dir.path().join("summary.md")).expect("summary");
    assert!(
        summary.starts_with("### canary-gate: pass\n\n| metric |"),
        "{summary}"
    );
    let failed = gate(
        &[
            "--canary-file",
            &fixture("canary-bench-regressed.json"),
            "--baseline-file",
            &fixture("baseline-bench.json"),
            "--metrics",
            "p95: max-ratio=1.10",
        ],
        None,
    );
    assert_eq!(failed.code, 1, "{}", failed.stderr);
    assert!(
        failed
            .stderr
            .starts_with("verdict: fail\np95: regression: the ratio is at least"),
        "{}",
        failed.stderr
    );
}

#[test]
fn version_prints_the_programs_version() {
    let out = Command::new(env!("CARGO_BIN_EXE_hub-canary-gate"))
        .arg("--version")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("hub-canary-gate {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn a_metric_the_files_do_not_have_names_the_ones_they_have() {
    let r = gate(
        &[
            "--canary-file",
            &fixture("canary-intervals.csv"),
            "--baseline-file",
            &fixture("baseline-intervals.csv"),
            "--metrics",
            "p99: higher-is-worse",
        ],
        None,
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.outputs["blind-metrics"], "p99");
    assert!(
        r.stderr
            .contains("`canary-file` has no series `p99` (its series: `p95`, `rps`)"),
        "{}",
        r.stderr
    );
}
