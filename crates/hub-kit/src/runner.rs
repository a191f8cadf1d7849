//! The output side of an action: outputs, annotations, logs, groups, masks and the step
//! summary, speaking the runner's protocol inside Actions and plain text outside.

use std::io::Write;
use std::path::PathBuf;

use crate::command::{self, Annotation, Level};
use crate::env::{Env, vars};
use crate::files::{self, FileCommandError};

/// Talks to the runner (or to a person at a terminal).
///
/// Inside Actions (`GITHUB_ACTIONS=true`) it writes workflow commands to stdout and file
/// commands to `$GITHUB_OUTPUT` and friends. Outside, annotations and logs are plain
/// human text on stderr and outputs are printed by [`Runner::print_outputs`].
pub struct Runner {
    env: Env,
    actions: bool,
    out: Box<dyn Write>,
    err: Box<dyn Write>,
    outputs: Vec<(String, String)>,
    draw: Box<dyn FnMut() -> String>,
    counts: [usize; 3],
    /// The values already masked: each `::add-mask::` is written once.
    masked: Vec<String>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("actions", &self.actions)
            .field("outputs", &self.outputs)
            .finish_non_exhaustive()
    }
}

impl Runner {
    /// A runner on the process's stdout and stderr. stderr is line-buffered, as stdout is:
    /// `writeln!` on the bare stderr makes one `write` for the text and another for the line
    /// break — a line is now one system call, and never split by a child's output.
    pub fn new(env: Env) -> Self {
        Runner::with_writers(
            env,
            Box::new(std::io::stdout()),
            Box::new(std::io::LineWriter::new(std::io::stderr())),
        )
    }

    /// A runner on the given writers (tests capture them).
    pub fn with_writers(env: Env, out: Box<dyn Write>, err: Box<dyn Write>) -> Self {
        Runner {
            actions: env.in_actions(),
            env,
            out,
            err,
            outputs: Vec::new(),
            draw: Box::new(|| files::random_hex(16)),
            counts: [0; 3],
            masked: Vec::new(),
        }
    }

    /// Replaces the random source for delimiters and stop tokens (tests).
    pub fn with_random(mut self, draw: impl FnMut() -> String + 'static) -> Self {
        self.draw = Box::new(draw);
        self
    }

    /// The environment this runner was built from.
    pub fn env(&self) -> &Env {
        &self.env
    }

    /// Whether we speak the runner's protocol.
    pub fn in_actions(&self) -> bool {
        self.actions
    }

    fn file(&self, var: &str) -> Option<PathBuf> {
        self.env.get_non_empty(var).map(PathBuf::from)
    }

    /// Sets a step output. Any value is safe, multi-line or hostile.
    pub fn set_output(
        &mut self,
        name: &str,
        value: impl Into<String>,
    ) -> Result<(), FileCommandError> {
        let value = value.into();
        if let Some(path) = self.file(vars::GITHUB_OUTPUT).filter(|_| self.actions) {
            let text = files::format_key_value(name, &value, &mut self.draw)?;
            files::append(&path, &text)?;
        }
        self.outputs.retain(|(n, _)| n != name);
        self.outputs.push((name.to_string(), value));
        Ok(())
    }

    /// The outputs set so far, in order.
    pub fn outputs(&self) -> &[(String, String)] {
        &self.outputs
    }

    /// Prints the outputs to stdout: a JSON object when `json`, else (outside Actions only)
    /// `name=value` lines, multi-line values in the heredoc form.
    pub fn print_outputs(&mut self, json: bool) -> std::io::Result<()> {
        if json {
            let map: serde_json::Map<String, serde_json::Value> = self
                .outputs
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect();
            let text = serde_json::to_string_pretty(&serde_json::Value::Object(map))
                .expect("because a map of strings always serialises");
            // Values are untrusted: inside Actions the JSON is fenced.
            self.print_untrusted(&text)?;
        } else if !self.actions {
            for (k, v) in &self.outputs {
                if v.contains('\n') {
                    writeln!(self.out, "{k}<<EOF\n{v}\nEOF")?;
                } else {
                    writeln!(self.out, "{k}={v}")?;
                }
            }
        }
        self.out.flush()
    }

    /// Exports an environment variable to later steps (`$GITHUB_ENV`).
    pub fn export_variable(&mut self, name: &str, value: &str) -> Result<(), FileCommandError> {
        if let Some(path) = self.file(vars::GITHUB_ENV).filter(|_| self.actions) {
            let text = files::format_key_value(name, value, &mut self.draw)?;
            files::append(&path, &text)?;
        }
        Ok(())
    }

    /// Prepends a directory to `PATH` for later steps (`$GITHUB_PATH`).
    pub fn add_path(&mut self, dir: &str) -> Result<(), FileCommandError> {
        if dir.contains(['\n', '\r']) {
            return Err(FileCommandError::BadName { name: dir.into() });
        }
        if let Some(path) = self.file(vars::GITHUB_PATH).filter(|_| self.actions) {
            files::append(&path, &format!("{dir}\n"))?;
        }
        Ok(())
    }

    /// Registers a secret so the runner masks it in logs (`::add-mask::`), once per value.
    pub fn set_secret(&mut self, value: &str) -> std::io::Result<()> {
        if self.actions && !value.is_empty() && !self.masked.iter().any(|m| m == value) {
            self.masked.push(value.to_owned());
            writeln!(
                self.out,
                "{}",
                command::format_command("add-mask", &[], value)
            )?;
        }
        Ok(())
    }

    /// Emits an annotation. The message may be untrusted: it is escaped.
    pub fn annotate(
        &mut self,
        level: Level,
        message: &str,
        at: &Annotation,
    ) -> std::io::Result<()> {
        self.counts[level as usize] += 1;
        if self.actions {
            writeln!(
                self.out,
                "{}",
                command::format_annotation(level, message, at)
            )
        } else {
            let mut place = String::new();
            if let Some(file) = &at.file {
                place.push_str(file);
                if let Some(line) = at.line {
                    place.push_str(&format!(":{line}"));
                    if let Some(col) = at.col {
                        place.push_str(&format!(":{col}"));
                    }
                }
                place.push_str(": ");
            }
            let title = at
                .title
                .as_deref()
                .map(|t| format!(" [{t}]"))
                .unwrap_or_default();
            writeln!(self.err, "{place}{}{title}: {message}", level.command())
        }
    }

    /// `annotate(Level::Error, …)`.
    pub fn error(&mut self, message: &str, at: &Annotation) -> std::io::Result<()> {
        self.annotate(Level::Error, message, at)
    }

    /// `annotate(Level::Warning, …)`.
    pub fn warning(&mut self, message: &str, at: &Annotation) -> std::io::Result<()> {
        self.annotate(Level::Warning, message, at)
    }

    /// `annotate(Level::Notice, …)`.
    pub fn notice(&mut self, message: &str, at: &Annotation) -> std::io::Result<()> {
        self.annotate(Level::Notice, message, at)
    }

    /// How many annotations of a level were emitted.
    pub fn count(&self, level: Level) -> usize {
        self.counts[level as usize]
    }

    /// Logs a line of our own text. Pass text that is mostly untrusted through
    /// [`Runner::log_untrusted`]; but a line of ours often quotes a value (a path, a
    /// version, a release name), so a message that could read as a workflow command — a line
    /// break, a line starting with `::`, the legacy `##[` anywhere — is fenced like
    /// untrusted text instead of printed as is. No `info` can run a command.
    pub fn info(&mut self, message: &str) -> std::io::Result<()> {
        if !self.actions {
            return writeln!(self.err, "{message}");
        }
        let inert = !message.contains(['\n', '\r'])
            && !message.trim_start().starts_with("::")
            && !message.contains("##[");
        if inert {
            writeln!(self.out, "{message}")
        } else {
            self.fenced(message)
        }
    }

    /// Logs untrusted text (commit messages, PR titles, config values) so that nothing in
    /// it is read as a workflow command: inside Actions it is wrapped in
    /// `::stop-commands::<token>` … `::<token>::` with a fresh random token that does not
    /// occur in the text, and the legacy `##[` form is neutralised as well. Outside Actions
    /// it is a human log line on stderr.
    pub fn log_untrusted(&mut self, text: &str) -> std::io::Result<()> {
        if !self.actions {
            return writeln!(self.err, "{text}");
        }
        self.fenced(text)
    }

    /// Prints a document holding untrusted text (a JSON or SARIF report, `--json` outputs)
    /// on stdout, where a pipe or a file can take it: the one way a binary prints data.
    /// Inside Actions the runner reads stdout for workflow commands, so the document is
    /// fenced exactly like [`Runner::log_untrusted`]; outside Actions it is printed as is.
    pub fn print_untrusted(&mut self, text: &str) -> std::io::Result<()> {
        if self.actions {
            self.fenced(text)?;
        } else {
            self.out.write_all(text.as_bytes())?;
            if !text.ends_with('\n') {
                writeln!(self.out)?;
            }
        }
        self.out.flush()
    }

    /// `text` between `::stop-commands::<token>` and `::<token>::`, the token fresh and
    /// absent from the text, each line's legacy `##[` neutralised (the runner honours that
    /// form anywhere in a line).
    fn fenced(&mut self, text: &str) -> std::io::Result<()> {
        let token = loop {
            let t = (self.draw)();
            if !text.contains(&t) {
                break t;
            }
        };
        writeln!(self.out, "::stop-commands::{token}")?;
        for line in text.lines() {
            writeln!(self.out, "{}", command::neutralise_legacy(line))?;
        }
        writeln!(self.out, "::{token}::")
    }

    /// A debug line, shown by the runner only with step debug logging on; outside Actions
    /// printed when `RUNNER_DEBUG=1`.
    pub fn debug(&mut self, message: &str) -> std::io::Result<()> {
        if self.actions {
            writeln!(
                self.out,
                "{}",
                command::format_command("debug", &[], message)
            )
        } else if self.env.debug_enabled() {
            writeln!(self.err, "debug: {message}")
        } else {
            Ok(())
        }
    }

    /// Starts a collapsible log group (our own title).
    pub fn start_group(&mut self, title: &str) -> std::io::Result<()> {
        if self.actions {
            writeln!(self.out, "{}", command::format_command("group", &[], title))
        } else {
            writeln!(self.err, "── {title}")
        }
    }

    /// Ends the current log group.
    pub fn end_group(&mut self) -> std::io::Result<()> {
        if self.actions {
            writeln!(self.out, "::endgroup::")
        } else {
            Ok(())
        }
    }

    /// Whether [`Runner::append_summary`] has a file to write to: callers skip rendering a
    /// summary nobody will read (outside Actions, or when the runner gives no file).
    pub fn wants_summary(&self) -> bool {
        self.file(vars::GITHUB_STEP_SUMMARY).is_some()
    }

    /// Appends Markdown to the step summary (`$GITHUB_STEP_SUMMARY`). Outside Actions, or
    /// when the runner gives no summary file, nothing is written and `false` is returned.
    pub fn append_summary(&mut self, markdown: &str) -> Result<bool, FileCommandError> {
        match self.file(vars::GITHUB_STEP_SUMMARY) {
            Some(path) => {
                let mut text = markdown.to_string();
                if !text.ends_with('\n') {
                    text.push('\n');
                }
                files::append(&path, &text)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Reports a failure with its cause chain: inside Actions one error annotation on one
    /// line (`cannot read `x`: No such file or directory`), outside `error: …` and a
    /// `caused by:` line per cause.
    pub fn report_error(&mut self, error: &(dyn std::error::Error + 'static)) {
        let separator = if self.actions {
            ": "
        } else {
            "\n  caused by: "
        };
        let mut message = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            let words = cause.to_string();
            // A message that already ends with its cause's words says them once.
            if !message.ends_with(&words) {
                message.push_str(separator);
                message.push_str(&words);
            }
            source = cause.source();
        }
        let _ = self.out.flush();
        if self.actions {
            let _ = self.error(&message, &Annotation::default());
        } else {
            let _ = writeln!(self.err, "error: {message}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl Buf {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    fn runner(actions: bool, dir: &std::path::Path) -> (Runner, Buf, Buf) {
        let mut pairs = vec![
            (
                vars::GITHUB_OUTPUT.to_string(),
                dir.join("out").display().to_string(),
            ),
            (
                vars::GITHUB_STEP_SUMMARY.to_string(),
                dir.join("summary").display().to_string(),
            ),
        ];
        if actions {
            pairs.push((vars::GITHUB_ACTIONS.into(), "true".into()));
        }
        let (out, err) = (Buf::default(), Buf::default());
        let mut n = 0;
        let r = Runner::with_writers(
            Env::from_pairs(pairs),
            Box::new(out.clone()),
            Box::new(err.clone()),
        )
        .with_random(move || {
            n += 1;
            format!("tok{n}")
        });
        (r, out, err)
    }

    #[test]
    fn an_error_and_its_causes_are_one_annotation_line_inside_actions() {
        let dir = tempfile::tempdir().unwrap();
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file");
        let error = anyhow::Error::new(io).context("input `packages`: cannot read `nope.yml`");
        let (mut r, out, _) = runner(true, dir.path());
        r.report_error(error.as_ref());
        assert_eq!(
            out.text(),
            "::error::input `packages`: cannot read `nope.yml`: No such file\n"
        );
        // A message that already quotes its cause says it once.
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file");
        let error = anyhow::Error::new(io).context("cannot read `x`: No such file");
        let (mut r, out, _) = runner(true, dir.path());
        r.report_error(error.as_ref());
        assert_eq!(out.text(), "::error::cannot read `x`: No such file\n");
        // Outside Actions, a line per cause.
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file");
        let error = anyhow::Error::new(io).context("cannot read `y`");
        let (mut r, _, err) = runner(false, dir.path());
        r.report_error(error.as_ref());
        assert_eq!(
            err.text(),
            "error: cannot read `y`\n  caused by: No such file\n"
        );
    }

    #[test]
    fn untrusted_text_is_fenced_by_stop_commands() {
        let dir = tempfile::tempdir().unwrap();
        let (mut r, out, _) = runner(true, dir.path());
        let hostile = "feat: x\n\n::set-output name=version::9.9.9\n::add-mask::abc\nsee ##[error]boom\n::tok1::";
        r.log_untrusted(hostile).unwrap();
        // tok1 occurs in the text, so the next draw is used.
        insta::assert_snapshot!(out.text().replace('\u{2060}', "{WJ}"), @r"
        ::stop-commands::tok2
        feat: x

        ::set-output name=version::9.9.9
        ::add-mask::abc
        see ##{WJ}[error]boom
        ::tok1::
        ::tok2::
        ");
    }

    #[test]
    fn an_info_line_quoting_a_hostile_value_runs_no_command() {
        let dir = tempfile::tempdir().unwrap();
        let (mut r, out, _) = runner(true, dir.path());
        r.info("wrote CHANGELOG.md").unwrap();
        for hostile in [
            "wrote v\n::error::owned",
            "`current` points at `releases/x\r::add-mask::y`",
            "  ::stop-commands::zzz",
            "see ##[set-output name=a;]b",
        ] {
            r.info(hostile).unwrap();
        }
        let commands: Vec<String> = crate::command::commands_in(&out.text())
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        assert_eq!(commands, ["stop-commands"; 4], "{}", out.text());
        assert!(out.text().starts_with("wrote CHANGELOG.md\n"));
    }

    #[test]
    fn documents_on_stdout_run_no_command_in_actions_and_stay_whole_outside() {
        let dir = tempfile::tempdir().unwrap();
        let hostile = "{\"value\": \"##[set-output name=valid;]true\",\n\"x\": \"##[add-mask]y\"}\n::error::z";
        let (mut r, out, err) = runner(true, dir.path());
        r.print_untrusted(hostile).unwrap();
        let commands: Vec<String> = crate::command::commands_in(&out.text())
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        assert_eq!(commands, ["stop-commands"], "{}", out.text());
        assert!(err.text().is_empty());
        // Outside Actions: the document itself, on stdout, for a pipe.
        let (mut r, out, err) = runner(false, dir.path());
        r.print_untrusted(hostile).unwrap();
        assert_eq!(out.text(), format!("{hostile}\n"));
        assert!(err.text().is_empty());
    }

    #[test]
    fn outputs_in_actions_go_to_the_output_file() {
        let dir = tempfile::tempdir().unwrap();
        let (mut r, out, _) = runner(true, dir.path());
        r.set_output("next-version", "1.3.0").unwrap();
        r.set_output("notes", "a\nghadelimiter_tok2\nb").unwrap();
        let file = std::fs::read_to_string(dir.path().join("out")).unwrap();
        insta::assert_snapshot!(file, @r"
        next-version<<ghadelimiter_tok1
        1.3.0
        ghadelimiter_tok1
        notes<<ghadelimiter_tok3
        a
        ghadelimiter_tok2
        b
        ghadelimiter_tok3
        ");
        assert_eq!(
            files::parse_key_values(&file),
            [
                ("next-version".to_string(), "1.3.0".to_string()),
                ("notes".to_string(), "a\nghadelimiter_tok2\nb".to_string())
            ]
        );
        r.print_outputs(false).unwrap();
        assert_eq!(out.text(), "", "no plain outputs on stdout inside Actions");
    }

    #[test]
    fn outside_actions_outputs_print_plainly() {
        let dir = tempfile::tempdir().unwrap();
        let (mut r, out, err) = runner(false, dir.path());
        r.set_output("bump", "minor").unwrap();
        r.set_output("notes", "x\ny").unwrap();
        r.set_output("bump", "major").unwrap();
        r.error("bad value", &Annotation::at("a.yml", 3, 5))
            .unwrap();
        r.print_outputs(false).unwrap();
        assert!(
            !dir.path().join("out").exists(),
            "no file commands outside Actions"
        );
        assert_eq!(out.text(), "notes<<EOF\nx\ny\nEOF\nbump=major\n");
        assert_eq!(err.text(), "a.yml:3:5: error: bad value\n");
        let (mut r, out, _) = runner(false, dir.path());
        r.set_output("changed", "true").unwrap();
        r.print_outputs(true).unwrap();
        assert_eq!(out.text(), "{\n  \"changed\": \"true\"\n}\n");
    }

    #[test]
    fn annotations_masks_groups_inside_actions() {
        let dir = tempfile::tempdir().unwrap();
        let (mut r, out, _) = runner(true, dir.path());
        r.error("x\n::set-output name=a::b", &Annotation::at("c.yml", 1, 2))
            .unwrap();
        r.set_secret("s3cr%t\nx").unwrap();
        r.set_secret("s3cr%t\nx").unwrap(); // masked once
        r.start_group("Commits").unwrap();
        r.end_group().unwrap();
        r.debug("d").unwrap();
        insta::assert_snapshot!(out.text(), @r"
        ::error file=c.yml,line=1,col=2::x%0A::set-output name=a::b
        ::add-mask::s3cr%25t%0Ax
        ::group::Commits
        ::endgroup::
        ::debug::d
        ");
        assert_eq!(r.count(Level::Error), 1);
    }

    #[test]
    fn summary_is_appended() {
        let dir = tempfile::tempdir().unwrap();
        let (mut r, _, _) = runner(true, dir.path());
        assert!(r.append_summary("## a").unwrap());
        assert!(r.append_summary("b\n").unwrap());
        assert_eq!(
            std::fs::read_to_string(dir.path().join("summary")).unwrap(),
            "## a\nb\n"
        );
    }
}
