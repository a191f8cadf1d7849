//! Outputs, log lines and the step summary of a run.

use anyhow::Context as _;
use anyhow::Result;
use hub_changelog::{Config, ReleaseContext, ReleaseInput, Status};
use hub_kit::md::{self, Markdown};
use hub_kit::{Annotation, Runner};

use crate::publish::{Checkout, Committed};

/// What the run did to the changelog file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileResult {
    /// `mode: none`.
    NotWritten,
    /// The file's bytes changed.
    Written(String),
    /// The file already held exactly this text.
    UpToDate(String),
}

impl FileResult {
    /// The file's path (empty for `mode: none`).
    pub fn path(&self) -> &str {
        match self {
            FileResult::NotWritten => "",
            FileResult::Written(p) | FileResult::UpToDate(p) => p,
        }
    }

    /// Whether the file changed.
    pub fn changed(&self) -> bool {
        matches!(self, FileResult::Written(_))
    }
}

/// The facts every report is made of.
#[derive(Clone, Copy, Debug)]
pub struct Run<'a> {
    /// The new section, rendered.
    pub section: &'a str,
    /// Its release in the template context (statuses of every commit).
    pub release: &'a ReleaseContext<'a>,
    /// The file.
    pub file: &'a FileResult,
    /// The commit made, if any.
    pub committed: Option<&'a Committed>,
}

/// Sets the action's outputs.
pub fn outputs(runner: &mut Runner, run: &Run<'_>) -> Result<()> {
    runner.set_output("changelog", run.section)?;
    runner.set_output("path", run.file.path())?;
    runner.set_output("version", run.release.version.clone().unwrap_or_default())?;
    runner.set_output("commit-count", run.release.commits.len().to_string())?;
    runner.set_output("changed", run.file.changed().to_string())?;
    runner.set_output(
        "commit-sha",
        run.committed.map(|c| c.sha.clone()).unwrap_or_default(),
    )?;
    Ok(())
}

/// `--context`: the template context of the releases as JSON, on stdout (a document to
/// pipe; fenced as untrusted text in a runner's log).
pub fn context(runner: &mut Runner, releases: &[ReleaseInput<'_>], config: &Config) -> Result<()> {
    let all = hub_changelog::context(releases, config);
    let json = serde_json::to_string_pretty(&all).context("cannot serialise the context")?;
    runner.print_untrusted(&json)?;
    Ok(())
}

/// How the commits of the new section were used, in words.
pub fn counts(release: &ReleaseContext<'_>) -> String {
    let n = |s: Status| release.commits.iter().filter(|c| c.status == s).count();
    let mut parts = vec![format!("{} shown", n(Status::Shown))];
    for (status, words) in [
        (Status::Folded, "folded into an entry with the same change"),
        (Status::Cancelled, "cancelled by reverts"),
        (Status::Merge, "merge commit(s)"),
        (Status::Release, "release commit(s)"),
        (Status::HiddenType, "of types without a section"),
        (Status::NonConventional, "not conventional"),
    ] {
        let k = n(status);
        if k > 0 {
            parts.push(format!("{k} {words}"));
        }
    }
    format!("{} commit(s): {}", release.commits.len(), parts.join(", "))
}

/// Explains the run in the log. The section holds commit text: it is logged as untrusted.
pub fn log(runner: &mut Runner, run: &Run<'_>) -> Result<()> {
    runner.info(&counts(run.release))?;
    // Outside Actions the section is printed with the outputs already.
    if runner.in_actions() {
        runner.start_group("Changelog section")?;
        runner.log_untrusted(run.section.trim_end())?;
        runner.end_group()?;
    }
    match run.file {
        FileResult::NotWritten => runner.info("mode none: no file written")?,
        FileResult::Written(p) => runner.info(&format!("wrote {p}"))?,
        FileResult::UpToDate(p) => {
            runner.info(&format!("{p} is already up to date: nothing changed"))?;
        }
    }
    if let Some(c) = run.committed {
        let short = &c.sha[..c.sha.len().min(12)];
        let line = match (&c.pushed_to, c.via_api) {
            (Some(branch), true) => match &c.checkout {
                Checkout::Moved => format!(
                    "committed {short} on {branch} through the GitHub API; the checkout is at it"
                ),
                Checkout::NotMoved(_) => {
                    format!("committed {short} on {branch} through the GitHub API")
                }
            },
            (Some(branch), false) => format!("committed {short} and pushed it to origin/{branch}"),
            (None, _) => format!("committed {short} (no `origin` remote: not pushed)"),
        };
        runner.info(&line)?;
        if let Checkout::NotMoved(why) = &c.checkout {
            runner.warning(
                &format!(
                    "the checkout is not moved to the changelog commit ({why}); later steps \
                     must use the `commit-sha` output"
                ),
                &Annotation::default(),
            )?;
        }
    }
    Ok(())
}

/// The step summary: the section as it will read, then a line on the file.
pub fn summary(run: &Run<'_>) -> String {
    let mut doc = Markdown::new();
    doc.raw(run.section.trim_end());
    let line = match run.file {
        FileResult::NotWritten => "No file written (`mode: none`).".to_owned(),
        FileResult::Written(p) => format!("Updated {}.", md::code(p)),
        FileResult::UpToDate(p) => {
            format!("{} is already up to date: nothing changed.", md::code(p))
        }
    };
    let line = match run.committed {
        Some(c) => {
            let short = md::code(&c.sha[..c.sha.len().min(12)]);
            match (&c.pushed_to, c.via_api) {
                (Some(b), true) => format!(
                    "{line} Committed {short} on {} through the GitHub API.",
                    md::code(b)
                ),
                (Some(b), false) => {
                    format!("{line} Committed {short} and pushed it to {}.", md::code(b))
                }
                (None, _) => format!("{line} Committed {short}."),
            }
        }
        None => line,
    };
    doc.raw("---");
    doc.paragraph(&line);
    doc.into_string()
}
