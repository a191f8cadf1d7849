//! Outputs, log lines and the step summary of a decision.

use anyhow::Result;
use hub_conventional::{Counts, Decision, Note, Reason};
use hub_kit::Runner;
use hub_kit::md::{Cell, Markdown};

use crate::lint::{self, Requirement, Violation};
use crate::plan::Plan;
use hub_release::packages::Package;
use hub_release::releases::LastRelease;

/// Reports one release range's plan: the outputs, the log, the step summary (with what
/// `require-conventional` found) and its annotations.
pub fn release(
    runner: &mut Runner,
    plan: &Plan<'_>,
    paths: &[String],
    requirement: Requirement,
    violations: &[Violation],
) -> Result<()> {
    let next_tag = plan.next_tag.as_deref();
    outputs(runner, plan.last, &plan.decision, next_tag)?;
    runner.set_output("notes", plan.notes.clone())?;
    log(runner, plan.last, &plan.decision, next_tag, paths)?;
    // Built only when there is a step summary to put it in (not for a CLI run).
    if runner.wants_summary() {
        runner.append_summary(&format!(
            "{}{}",
            summary(plan.last, &plan.decision, next_tag),
            plan.lint
        ))?;
    }
    if requirement.any() {
        runner.set_output("conventional", violations.is_empty().to_string())?;
        lint::annotate(violations, runner)?;
    }
    Ok(())
}

/// Reports a monorepo's plans: a log line and a table row per package, the `packages`
/// output (JSON), `changed`, and the single-package outputs when exactly one changed.
pub fn packages(runner: &mut Runner, plans: &[(&Package, Plan<'_>)]) -> Result<()> {
    let mut results = serde_json::Map::new();
    let mut rows = Vec::new();
    for (package, plan) in plans {
        let (last, decision) = (plan.last, &plan.decision);
        let next_tag = plan.next_tag.as_deref();
        let version = |v: Option<&hub_conventional::semver::Version>| {
            v.map(|v| v.to_string()).unwrap_or_default()
        };
        // The name is the config's text: logged as data.
        runner.log_untrusted(&format!(
            "{}: {} -> {} ({}, {} commit(s))",
            package.name,
            last.tag.as_deref().unwrap_or("no release"),
            next_tag.unwrap_or("no release"),
            decision.bump,
            decision.counts.total
        ))?;
        rows.push(vec![
            Cell::Text(package.name.clone()),
            Cell::Code(last.tag.clone().unwrap_or_else(|| "none".into())),
            match next_tag {
                Some(t) => Cell::Md(format!("**{}**", hub_kit::md::code(t))),
                None => Cell::Md("no release".into()),
            },
            Cell::Md(decision.bump.as_str().into()),
            Cell::Md(decision.counts.total.to_string()),
        ]);
        results.insert(
            package.name.clone(),
            serde_json::json!({
                "current-version": version(last.version.as_ref()),
                "current-tag": last.tag.clone().unwrap_or_default(),
                "next-version": version(decision.next.as_ref()),
                "next-tag": next_tag.unwrap_or_default(),
                "bump": decision.bump.as_str(),
                "changed": decision.next.is_some(),
                "commit-count": decision.counts.total,
                "breaking": decision.breaking,
                "notes": plan.notes,
            }),
        );
    }
    let mut md = Markdown::new();
    md.heading(2, "semver-bump: packages");
    md.table(
        &["package", "last release", "next", "bump", "commits"],
        &rows,
    );
    let changed: Vec<&Plan<'_>> = plans
        .iter()
        .map(|(_, plan)| plan)
        .filter(|plan| plan.next_tag.is_some())
        .collect();
    runner.set_output("packages", serde_json::Value::Object(results).to_string())?;
    runner.set_output("changed", (!changed.is_empty()).to_string())?;
    if let [plan] = changed.as_slice() {
        outputs(runner, plan.last, &plan.decision, plan.next_tag.as_deref())?;
        runner.set_output("notes", plan.notes.clone())?;
    }
    runner.append_summary(md.as_str())?;
    Ok(())
}

fn short(id: &str) -> &str {
    &id[..id.len().min(7)]
}

/// Sets the action's outputs.
pub fn outputs(
    runner: &mut Runner,
    last: &LastRelease,
    d: &Decision<'_>,
    next_tag: Option<&str>,
) -> Result<()> {
    let version = |v: Option<&hub_conventional::semver::Version>| {
        v.map(|v| v.to_string()).unwrap_or_default()
    };
    runner.set_output("current-version", version(last.version.as_ref()))?;
    runner.set_output("current-tag", last.tag.clone().unwrap_or_default())?;
    runner.set_output("next-version", version(d.next.as_ref()))?;
    runner.set_output("next-tag", next_tag.unwrap_or_default())?;
    runner.set_output("bump", d.bump.as_str())?;
    runner.set_output("changed", d.next.is_some().to_string())?;
    runner.set_output("commit-count", d.counts.total.to_string())?;
    runner.set_output("breaking", d.breaking.to_string())?;
    Ok(())
}

/// Explains the decision in the log. Commit summaries are untrusted.
pub fn log(
    runner: &mut Runner,
    last: &LastRelease,
    d: &Decision<'_>,
    next_tag: Option<&str>,
    paths: &[String],
) -> Result<()> {
    match (&last.tag, &last.commit) {
        (Some(tag), _) => runner.info(&format!("last release: {tag}"))?,
        (None, Some(c)) => runner.info(&format!("range starts after {}", short(c)))?,
        (None, None) => runner.info("no release tag yet: reading the whole history")?,
    }
    runner.info(&counts_line(&d.counts))?;
    match (&d.next, next_tag) {
        (Some(next), Some(tag)) => {
            runner.info(&format!("next version: {next} ({}, tag {tag}) — {}", d.bump, reason(d.reason)))?;
            if !d.decided_by.is_empty() {
                let lines: Vec<String> = d
                    .decided_by
                    .iter()
                    .map(|c| format!("  {} {}", short(c.id), c.summary))
                    .collect();
                runner.info("decided by:")?;
                runner.log_untrusted(&lines.join("\n"))?;
            }
        }
        // A misspelt `path` looks like a quiet package: say which paths were read.
        _ if d.counts.total == 0 && !paths.is_empty() => {
            let since = match &last.tag {
                Some(tag) => format!(" since {tag}"),
                None => String::new(),
            };
            let quoted: Vec<String> = paths.iter().map(|p| format!("`{p}`")).collect();
            runner.log_untrusted(&format!(
                "nothing to release: no commit{since} touches {} (paths from the repository root)",
                quoted.join(", ")
            ))?;
        }
        _ => runner.info("nothing to release: no commit since the last release is a feat, fix, perf or breaking change")?,
    }
    for note in &d.notes {
        runner.info(&format!("note: {}", note_text(note)))?;
    }
    Ok(())
}

/// The range in one line: every commit in exactly one kind (they add up to the total), then
/// what cuts across kinds (cancelled pairs, commits read from squash-merge bodies).
pub fn counts_line(c: &Counts) -> String {
    let mut line = format!(
        "{} commit(s): {} conventional, {} not conventional, {} revert(s) without a type, {} merge(s); {} cancelled by reverts",
        c.total, c.conventional, c.non_conventional, c.git_reverts, c.merges, c.cancelled
    );
    if c.squashed > 0 {
        line.push_str(&format!(
            "; {} more read from squash-merge bodies",
            c.squashed
        ));
    }
    line
}

fn reason(r: Reason) -> &'static str {
    match r {
        Reason::NoReleasableCommits => "no releasable commits",
        Reason::Commits => "from the commits",
        Reason::Forced => "forced release type",
        Reason::ReleaseAsInput => "release-as input",
        Reason::ReleaseAsFooter => "Release-As footer",
    }
}

fn note_text(n: &Note) -> String {
    match n {
        Note::BreakingOnZero => {
            "a breaking change while at 0.y.z bumps the minor; set `major-on-zero` or `release-as: 1.0.0` to leave 0.y.z".into()
        }
        Note::InitialRelease => "no release tag yet: this is the first release".into(),
        Note::ReleaseAsIgnored { id, value, why } => {
            format!("Release-As footer `{value}` in {} ignored: {why}", short(id))
        }
    }
}

/// The pull request comment: what releasing this PR would do, with a notes preview.
pub fn comment(
    last: &LastRelease,
    d: &Decision<'_>,
    next_tag: Option<&str>,
    notes: &str,
    lint: &str,
) -> String {
    let mut md = Markdown::new();
    md.raw(&summary(last, d, next_tag).replacen("## semver-bump", "## semver-bump preview", 1));
    md.raw(lint);
    if !notes.is_empty() {
        md.details("Release notes preview", notes);
    }
    md.paragraph("<sub>Updated on every push by hub-actions/semver-bump.</sub>");
    md.into_string()
}

/// The step summary (and PR comment body): the same facts as a table.
pub fn summary(last: &LastRelease, d: &Decision<'_>, next_tag: Option<&str>) -> String {
    let mut md = Markdown::new();
    md.heading(2, "semver-bump");
    let current = last.tag.clone().unwrap_or_else(|| "none".into());
    let rows = vec![
        vec![Cell::Md("Last release".into()), Cell::Code(current)],
        vec![
            Cell::Md("Next version".into()),
            match next_tag {
                Some(t) => Cell::Md(format!("**{}**", hub_kit::md::code(t))),
                None => Cell::Md("no release".into()),
            },
        ],
        vec![Cell::Md("Bump".into()), Cell::Md(d.bump.as_str().into())],
        vec![Cell::Md("Why".into()), Cell::Md(reason(d.reason).into())],
        vec![
            Cell::Md("Commits".into()),
            Cell::Md(d.counts.total.to_string()),
        ],
        vec![
            Cell::Md("Breaking".into()),
            Cell::Md(if d.breaking { "yes" } else { "no" }.into()),
        ],
    ];
    md.table(&["", ""], &rows);
    if !d.decided_by.is_empty() {
        md.heading(3, "Decided by");
        let rows: Vec<Vec<Cell>> = d
            .decided_by
            .iter()
            .map(|c| vec![Cell::Code(short(c.id).into()), Cell::Text(c.summary.into())])
            .collect();
        md.table(&["commit", "summary"], &rows);
    }
    if !d.non_conventional.is_empty() {
        md.heading(3, "Not Conventional Commits");
        md.paragraph(
            "These commits release nothing. Use `type(scope): description` — for example \
             `fix(parser): handle empty input` or `feat!: drop Node 16` — see \
             <https://www.conventionalcommits.org/en/v1.0.0/>.",
        );
        let rows: Vec<Vec<Cell>> = d
            .non_conventional
            .iter()
            .map(|c| {
                vec![
                    Cell::Code(short(c.id).into()),
                    Cell::Text(c.summary.into()),
                    Cell::Message(c.error.to_string()),
                ]
            })
            .collect();
        md.table(&["commit", "summary", "problem"], &rows);
    }
    for note in &d.notes {
        md.paragraph(&format!("> {}", hub_kit::md::escape(&note_text(note))));
    }
    md.into_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hub_conventional::{BumpRules, RawCommit, ReleaseOptions, analyze, decide};

    #[test]
    fn the_counts_line_adds_up_for_a_plain_git_revert() {
        // `git revert` of a released fix: neither conventional nor non-conventional, it
        // used to be left out of the line ("1 commit(s): 0 conventional, 0 not
        // conventional …").
        let log = [RawCommit {
            id: "b2b2b2b2b2",
            message: "Revert \"fix: x\"\n\nThis reverts commit a1a1a1a1a1.",
        }];
        let analyzed = analyze(&log, &BumpRules::default());
        let d = decide(&analyzed, None, &[], &ReleaseOptions::default()).expect("decision");
        assert!(d.counts.adds_up());
        assert_eq!(
            counts_line(&d.counts),
            "1 commit(s): 0 conventional, 0 not conventional, 1 revert(s) without a type, 0 merge(s); 0 cancelled by reverts"
        );
        let squashed = Counts {
            squashed: 2,
            ..d.counts
        };
        assert!(counts_line(&squashed).ends_with("; 2 more read from squash-merge bodies"));
    }
}
