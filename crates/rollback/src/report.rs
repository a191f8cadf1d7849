//! Outputs, the step summary with its timeline, and the audit line of a run.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use hub_kit::md::{Cell, Markdown, code};
use hub_kit::{Env, Runner};

/// `GITHUB_ACTOR`: who started the workflow run (for the audit line).
pub const GITHUB_ACTOR: &str = "GITHUB_ACTOR";

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The switch (or command) was made.
    RolledBack,
    /// The chosen version was already live: nothing was changed.
    AlreadyThere,
    /// Only the plan was shown.
    DryRun,
    /// Acting failed with this message.
    Failed(String),
}

impl Outcome {
    /// The `status` output and the audit line's `result`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::RolledBack => "rolled-back",
            Outcome::AlreadyThere => "already-there",
            Outcome::DryRun => "dry-run",
            Outcome::Failed(_) => "failed",
        }
    }
}

/// What the health checks said.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    /// Every check passed.
    Healthy,
    /// The checks did not pass within the timeout.
    Unhealthy,
    /// No check was configured, or none ran.
    Unchecked,
}

impl Health {
    /// The `healthy` output: `true`, `false` or `unchecked`.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Healthy => "true",
            Health::Unhealthy => "false",
            Health::Unchecked => "unchecked",
        }
    }

    /// In the audit line: `true`, `false`, or `null` when nothing was checked.
    pub fn as_json(self) -> serde_json::Value {
        match self {
            Health::Healthy => serde_json::Value::Bool(true),
            Health::Unhealthy => serde_json::Value::Bool(false),
            Health::Unchecked => serde_json::Value::Null,
        }
    }
}

/// One moment of the run, measured from its start.
#[derive(Clone, Debug)]
pub struct Event {
    /// What happened: Markdown, values rendered with `hub_kit::md::code`.
    pub what: String,
    /// When, from the start of the run.
    pub at: Duration,
}

/// Everything a run reports.
#[derive(Clone, Debug)]
pub struct Record {
    /// The backend (`releases-dir`, `command`).
    pub target: &'static str,
    /// The version rolled back from, when known.
    pub from: Option<String>,
    /// The version rolled back to.
    pub to: String,
    /// Why that version: Markdown, values rendered with `hub_kit::md::code`.
    pub why: String,
    /// How it ended.
    pub outcome: Outcome,
    /// What the health checks said.
    pub health: Health,
    /// Whether the live version was switched by this run.
    pub changed: bool,
    /// started → switched → healthy.
    pub timeline: Vec<Event>,
    /// The whole run.
    pub duration: Duration,
}

impl Record {
    /// The record of a plan not carried out yet: a dry run, unchecked, nothing changed.
    pub fn planned(target: &'static str, from: Option<String>, to: String, why: String) -> Self {
        Record {
            target,
            from,
            to,
            why,
            outcome: Outcome::DryRun,
            health: Health::Unchecked,
            changed: false,
            timeline: Vec::new(),
            duration: Duration::ZERO,
        }
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

/// Sets the action's outputs. `rolled-back-to` names the version only when it is live (or,
/// in a dry run, would be): empty when the run failed before switching anything.
pub fn outputs(runner: &mut Runner, r: &Record, audit_log: Option<&Path>) -> Result<()> {
    let failed_before_switching = matches!(r.outcome, Outcome::Failed(_)) && !r.changed;
    runner.set_output("status", r.outcome.as_str())?;
    runner.set_output(
        "rolled-back-to",
        if failed_before_switching {
            String::new()
        } else {
            r.to.clone()
        },
    )?;
    runner.set_output("rolled-back-from", r.from.clone().unwrap_or_default())?;
    runner.set_output("changed", r.changed.to_string())?;
    runner.set_output("healthy", r.health.as_str())?;
    runner.set_output("duration-seconds", seconds(r.duration))?;
    runner.set_output(
        "audit-log",
        audit_log
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
    )?;
    Ok(())
}

/// The outputs of a run that failed before it had a plan: `status` `failed`, nothing
/// rolled back or changed, and `healthy` as far as is known (`unchecked`, or `false` for a
/// service whose engine did not answer).
pub fn failed_outputs(runner: &mut Runner, duration: Duration, health: Health) -> Result<()> {
    runner.set_output("status", Outcome::Failed(String::new()).as_str())?;
    for empty in [
        "rolled-back-to",
        "rolled-back-from",
        "audit-log",
        "deployment-id",
        "comment-url",
    ] {
        runner.set_output(empty, "")?;
    }
    runner.set_output("changed", "false")?;
    runner.set_output("healthy", health.as_str())?;
    runner.set_output("duration-seconds", seconds(duration))?;
    Ok(())
}

/// The step summary: what was done, and the timeline.
pub fn summary(r: &Record, plan: &[String]) -> String {
    let mut md = Markdown::new();
    md.heading(2, "rollback");
    let result = match &r.outcome {
        Outcome::RolledBack => "rolled back".to_string(),
        Outcome::AlreadyThere => "already at this version: nothing changed".to_string(),
        Outcome::DryRun => "dry run: nothing changed".to_string(),
        Outcome::Failed(e) => format!("**failed**: {}", hub_kit::md::escape_message(e)),
    };
    let health = match r.health {
        Health::Healthy => "healthy",
        Health::Unhealthy => "**unhealthy**",
        Health::Unchecked => "not checked",
    };
    let rows = vec![
        vec![
            Cell::Md("From".into()),
            r.from
                .as_ref()
                .map_or(Cell::Md("unknown".into()), |f| Cell::Code(f.clone())),
        ],
        vec![
            Cell::Md("To".into()),
            Cell::Md(format!("**{}**", code(&r.to))),
        ],
        vec![Cell::Md("Why".into()), Cell::Md(r.why.clone())],
        vec![Cell::Md("Backend".into()), Cell::Code(r.target.into())],
        vec![Cell::Md("Result".into()), Cell::Md(result)],
        vec![Cell::Md("Health".into()), Cell::Md(health.into())],
        vec![
            Cell::Md("Duration".into()),
            Cell::Md(format!("{} s", seconds(r.duration))),
        ],
    ];
    md.table(&["", ""], &rows);
    if !r.timeline.is_empty() {
        md.heading(3, "Timeline");
        let mut previous = Duration::ZERO;
        let rows: Vec<Vec<Cell>> = r
            .timeline
            .iter()
            .map(|e| {
                let took = e.at.saturating_sub(previous);
                previous = e.at;
                vec![
                    Cell::Md(e.what.clone()),
                    Cell::Md(format!("+{} s", seconds(e.at))),
                    Cell::Md(format!("{} s", seconds(took))),
                ]
            })
            .collect();
        md.table(&["step", "at", "took"], &rows);
    }
    if !plan.is_empty() {
        md.heading(3, "Plan");
        md.code_block("text", &plan.join("\n"));
    }
    md.into_string()
}

/// The sticky comment: the versions, the result and where to read more.
pub fn comment(r: &Record, deployment: Option<u64>, run_url: Option<&str>) -> String {
    let mut md = Markdown::new();
    md.heading(3, "rollback");
    let result = match &r.outcome {
        // A re-run that finds the rollback done describes the same state: same comment.
        Outcome::RolledBack | Outcome::AlreadyThere => "rolled back",
        Outcome::DryRun => "dry run: nothing changed",
        Outcome::Failed(_) => "**failed**",
    };
    let mut rows = vec![
        vec![
            Cell::Md("From".into()),
            r.from
                .as_ref()
                .map_or(Cell::Md("unknown".into()), |f| Cell::Code(f.clone())),
        ],
        vec![Cell::Md("To".into()), Cell::Code(r.to.clone())],
        vec![Cell::Md("Why".into()), Cell::Md(r.why.clone())],
        vec![Cell::Md("Result".into()), Cell::Md(result.into())],
        vec![
            Cell::Md("Healthy".into()),
            Cell::Code(r.health.as_str().into()),
        ],
    ];
    if let Some(id) = deployment {
        rows.push(vec![
            Cell::Md("Deployment".into()),
            Cell::Code(id.to_string()),
        ]);
    }
    md.table(&["", ""], &rows);
    if let Some(url) = run_url {
        md.paragraph(&format!("[workflow run]({url})"));
    }
    md.into_string()
}

/// One JSON line for the audit log.
pub fn audit_line(r: &Record, env: &Env, now: SystemTime) -> String {
    let var = |name: &str| env.get_non_empty(name).map(String::from);
    let mut line = serde_json::json!({
        "time": rfc3339(now),
        "action": "rollback",
        "target": r.target,
        "from": r.from,
        "to": r.to,
        "why": r.why,
        "result": r.outcome.as_str(),
        "healthy": r.health.as_json(),
        "changed": r.changed,
        "duration_seconds": (r.duration.as_secs_f64() * 1000.0).round() / 1000.0,
        "repository": var(hub_kit::vars::GITHUB_REPOSITORY),
        "run_id": var(hub_kit::vars::GITHUB_RUN_ID),
        "actor": var(GITHUB_ACTOR),
    });
    if let Outcome::Failed(e) = &r.outcome {
        line["error"] = serde_json::Value::String(e.clone());
    }
    line.to_string()
}

/// Appends the audit line to `path`.
pub fn append_audit(path: &Path, r: &Record, env: &Env) -> Result<()> {
    append_line(path, &audit_line(r, env, SystemTime::now()))
}

/// Appends one line to `path` through [`hub_kit::files::write_atomically`]: the whole file
/// is rewritten, so a reader never sees half a line; a symlinked log stays a link.
fn append_line(path: &Path, line: &str) -> Result<()> {
    let mut text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read `{}`", path.display())),
    };
    if !text.is_empty() && !text.ends_with(b"\n") {
        text.push(b'\n');
    }
    text.extend_from_slice(line.as_bytes());
    text.push(b'\n');
    Ok(hub_kit::files::write_atomically(path, &text)?)
}

/// `2026-11-23T02:13:52Z` (UTC, whole seconds; a clock before 1970 reads as 1970).
pub fn rfc3339(t: SystemTime) -> String {
    let t = t.max(UNIX_EPOCH);
    chrono::DateTime::<chrono::Utc>::from(t)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> String {
        rfc3339(UNIX_EPOCH + Duration::from_secs(secs))
    }

    #[test]
    fn timestamps() {
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(at(4_107_542_399), "2100-02-28T23:59:59Z");
        assert_eq!(at(4_107_542_400), "2100-03-01T00:00:00Z");
    }

    fn record() -> Record {
        Record {
            target: "releases-dir",
            from: Some("1.1.0".into()),
            to: "1.0.0".into(),
            why: "previous release tag `v1.0.0`".into(),
            outcome: Outcome::Failed("`restart-command` failed: exit status 3".into()),
            health: Health::Unchecked,
            changed: true,
            timeline: vec![
                Event {
                    what: "started".into(),
                    at: Duration::ZERO,
                },
                Event {
                    what: "switched `current` to `releases/1.0.0`".into(),
                    at: Duration::from_millis(1500),
                },
            ],
            duration: Duration::from_millis(2250),
        }
    }

    #[test]
    fn audit_line_is_one_json_object() {
        let env = Env::from_pairs([("GITHUB_REPOSITORY", "o/r"), ("GITHUB_RUN_ID", "7")]);
        let line = audit_line(
            &record(),
            &env,
            UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        );
        assert!(!line.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["time"], "2023-11-14T22:13:20Z");
        assert_eq!(v["from"], "1.1.0");
        assert_eq!(v["to"], "1.0.0");
        assert_eq!(v["result"], "failed");
        assert_eq!(v["error"], "`restart-command` failed: exit status 3");
        assert_eq!(v["duration_seconds"], 2.25);
        assert_eq!(v["repository"], "o/r");
        assert_eq!(v["actor"], serde_json::Value::Null);
    }

    #[test]
    fn appends_whole_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/audit.jsonl");
        append_line(&p, "{\"a\":1}").unwrap();
        std::fs::write(&p, "{\"a\":1}").unwrap();
        append_line(&p, "{\"b\":2}").unwrap();
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "{\"a\":1}\n{\"b\":2}\n"
        );
        let names: Vec<_> = std::fs::read_dir(dir.path().join("sub"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn summary_timeline_has_durations() {
        let s = summary(&record(), &[]);
        assert!(s.contains("| step | at | took |"), "{s}");
        assert!(s.contains("+1.500 s | 1.500 s"), "{s}");
        assert!(s.contains("**failed**"), "{s}");
    }
}
