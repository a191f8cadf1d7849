//! Where findings go: annotations (the runner shows only 10 errors and 10 warnings per step),
//! the step summary (always the full list, a table per file), the outputs, and the report in
//! the chosen format. All escaping is hub-kit's.

use std::path::Path;

use hub_config::{Report, SchemaChoice, Severity};
use hub_kit::md::{Cell, Markdown, code};
use hub_kit::{Annotation, Level, Runner};

/// Most annotations emitted per level; the runner shows 10 and drops the rest silently, the
/// summary and report always hold everything.
pub const MAX_ANNOTATIONS: usize = 50;

/// Most table rows in the step summary (GitHub caps a summary at 1 MiB).
pub const MAX_SUMMARY_ROWS: usize = 2_000;

/// The working directory's path inside the checkout (`GITHUB_WORKSPACE`), as a prefix
/// (`services/api/`) that makes a report path the repository-relative one GitHub places
/// annotations and code-scanning alerts by; empty at the checkout's root or outside it.
pub fn repository_prefix(root: &Path, workspace: Option<&str>) -> String {
    let Some(workspace) = workspace else {
        return String::new();
    };
    let real = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned());
    let (root, workspace) = (real(root), real(Path::new(workspace)));
    let Ok(inside) = root.strip_prefix(&workspace) else {
        return String::new();
    };
    inside
        .components()
        .map(|c| format!("{}/", c.as_os_str().to_string_lossy()))
        .collect()
}

/// `report` with every path behind `prefix` (see [`repository_prefix`]).
pub fn from_repository_root(report: &Report, prefix: &str) -> Report {
    let mut report = report.clone();
    for file in &mut report.files {
        file.path.insert_str(0, prefix);
    }
    report
}

/// One annotation per diagnostic, up to [`MAX_ANNOTATIONS`] per level; paths behind
/// `prefix` (see [`repository_prefix`]).
pub fn annotate(runner: &mut Runner, report: &Report, prefix: &str) -> std::io::Result<()> {
    let mut emitted = [0usize; 2];
    for file in &report.files {
        for d in &file.diagnostics {
            let (level, slot) = match d.severity {
                Severity::Error => (Level::Error, 0),
                Severity::Warning => (Level::Warning, 1),
            };
            emitted[slot] += 1;
            if emitted[slot] > MAX_ANNOTATIONS {
                continue;
            }
            let mut at = Annotation::at(
                format!("{prefix}{}", file.path),
                d.span.start.line as u64,
                d.span.start.column as u64,
            )
            .with_title(format!("validate-config: {}", d.code));
            if d.span.end > d.span.start {
                at.end_line = Some(d.span.end.line as u64);
                if d.span.end.line == d.span.start.line {
                    at.end_column = Some(d.span.end.column as u64);
                }
            }
            runner.annotate(level, &d.full_message(), &at)?;
        }
    }
    let dropped: usize = emitted
        .iter()
        .map(|n| n.saturating_sub(MAX_ANNOTATIONS))
        .sum();
    if dropped > 0 {
        runner.info(&format!(
            "{dropped} more findings are not annotated; the step summary and the report list them all"
        ))?;
    }
    Ok(())
}

fn schema_cell(choice: Option<&SchemaChoice>) -> String {
    match choice {
        None => "syntax only".to_owned(),
        Some(SchemaChoice::Explicit { reference }) => code(reference),
        Some(SchemaChoice::Mapping { reference, glob }) => {
            format!("{} (mapped by {})", code(reference), code(glob))
        }
        Some(SchemaChoice::Inline { reference }) => {
            format!("{} (named in the file)", code(reference))
        }
        Some(SchemaChoice::Catalog { reference, name }) => {
            format!(
                "{} (catalog: {})",
                code(reference),
                hub_kit::md::escape(name)
            )
        }
    }
}

/// The step summary: totals, then a table per file with findings, then the clean files.
pub fn summary(report: &Report, notes: &[String]) -> String {
    let mut md = Markdown::new();
    md.heading(2, "validate-config");
    let verdict = if report.valid() { "✅" } else { "❌" };
    md.paragraph(&format!(
        "{verdict} **{} checked**: {} and {}.",
        plural(report.files_checked(), "file"),
        plural(report.error_count(), "error"),
        plural(report.warning_count(), "warning")
    ));
    for note in notes {
        md.paragraph_message(note);
    }
    let mut rows = 0;
    for file in report.files.iter().filter(|f| !f.diagnostics.is_empty()) {
        if rows >= MAX_SUMMARY_ROWS {
            md.paragraph(
                "The summary is full; the JSON report (`report` output) lists every finding.",
            );
            break;
        }
        md.heading(3, &code(&file.path));
        md.paragraph(&format!("Schema: {}", schema_cell(file.schema.as_ref())));
        let table: Vec<Vec<Cell>> = file
            .diagnostics
            .iter()
            .take(MAX_SUMMARY_ROWS - rows)
            .map(|d| {
                vec![
                    Cell::Md(format!("{}:{}", d.span.start.line, d.span.start.column)),
                    Cell::Md(match d.severity {
                        Severity::Error => "❌ error".to_owned(),
                        Severity::Warning => "⚠️ warning".to_owned(),
                    }),
                    Cell::Message(d.full_message()),
                    Cell::Code(d.code.to_string()),
                    // An empty code span shows as two literal backticks: no path, no span.
                    d.schema_path
                        .clone()
                        .or_else(|| d.pointer.clone())
                        .filter(|path| !path.is_empty())
                        .map_or(Cell::Md(String::new()), Cell::Code),
                ]
            })
            .collect();
        rows += table.len();
        md.table(
            &["Line:Col", "Severity", "Message", "Rule", "Schema path"],
            &table,
        );
    }
    let clean: Vec<Cell> = report
        .files
        .iter()
        .filter(|f| f.diagnostics.is_empty())
        .map(|f| {
            Cell::Md(format!(
                "{} — {}",
                code(&f.path),
                schema_cell(f.schema.as_ref())
            ))
        })
        .collect();
    if !clean.is_empty() {
        let mut list = Markdown::new();
        list.list(clean.into_iter().take(MAX_SUMMARY_ROWS));
        md.details(
            &format!(
                "{} without findings",
                plural(
                    report
                        .files
                        .iter()
                        .filter(|f| f.diagnostics.is_empty())
                        .count(),
                    "file"
                )
            ),
            list.as_str(),
        );
    }
    md.into_string()
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}
