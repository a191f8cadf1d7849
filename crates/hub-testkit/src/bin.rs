//! A built action binary run as the runner runs it: a clean environment (only `PATH` of the
//! test process), `GITHUB_ACTIONS=true`, fresh `GITHUB_OUTPUT` and `GITHUB_STEP_SUMMARY`
//! files, and the inputs as `INPUT_<NAME>` variables — what every shell's tests wrote for
//! themselves.
//!
//! ```no_run
//! # let dir = std::path::Path::new("/tmp");
//! let action = hub_testkit::bin::Action::new("target/debug/hub-rollback", dir)
//!     .env("GITHUB_REPOSITORY", "org/app");
//! let run = action.run(&[("target", "compose")]);
//! assert_eq!(run.code, Some(0), "{run:#?}");
//! assert_eq!(run.output("healthy"), "true");
//! ```

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// How to run one action binary.
#[derive(Clone, Debug)]
pub struct Action {
    program: PathBuf,
    dir: PathBuf,
    env: Vec<(OsString, OsString)>,
}

impl Action {
    /// `program` run in `dir`, where its output and summary files are made too.
    #[must_use]
    pub fn new(program: impl AsRef<Path>, dir: &Path) -> Action {
        Action {
            program: program.as_ref().to_owned(),
            dir: dir.to_owned(),
            env: Vec::new(),
        }
    }

    /// A variable every run gets (set after the runner's own, so it may replace one).
    #[must_use]
    pub fn env(mut self, name: impl Into<OsString>, value: impl Into<OsString>) -> Action {
        self.env.push((name.into(), value.into()));
        self
    }

    /// The command for one run with `inputs` (`("tag-prefix", "v")` is
    /// `INPUT_TAG-PREFIX=v`) and the files it writes; `tag` keeps the files apart from those
    /// of another run going on at the same time (`""` for one run at a time). The files are
    /// made empty here. Add variables or arguments, run it, and read it with
    /// [`Files::finish`].
    ///
    /// # Panics
    ///
    /// When the files cannot be written.
    #[must_use]
    pub fn command(&self, inputs: &[(&str, &str)], tag: &str) -> (Command, Files) {
        let files = Files {
            output: self.dir.join(format!("github_output{tag}")),
            summary: self.dir.join(format!("github_step_summary{tag}")),
        };
        for file in [&files.output, &files.summary] {
            std::fs::write(file, "").expect("because the run's folder is writable");
        }
        let mut cmd = Command::new(&self.program);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", &files.output)
            .env("GITHUB_STEP_SUMMARY", &files.summary)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&self.dir);
        for (name, value) in inputs {
            cmd.env(input_variable(name), value);
        }
        (cmd, files)
    }

    /// One run with `inputs`, to its end.
    ///
    /// # Panics
    ///
    /// When the binary cannot start or its files cannot be read.
    #[must_use]
    pub fn run(&self, inputs: &[(&str, &str)]) -> Run {
        let (mut cmd, files) = self.command(inputs, "");
        let out = cmd
            .output()
            .unwrap_or_else(|e| panic!("{} does not start: {e}", self.program.display()));
        files.finish(&out)
    }
}

/// The variable the runner sets for input `name`: `INPUT_` and the name in upper case, spaces
/// as underscores (dashes stay).
#[must_use]
pub fn input_variable(name: &str) -> String {
    format!("INPUT_{}", name.replace(' ', "_").to_uppercase())
}

/// `text` with every `::stop-commands::` token (random on each run) replaced by `[TOKEN]`, so
/// a run's log can be compared or snapshotted.
#[must_use]
pub fn stable_tokens(text: &str) -> String {
    let mut out = text.to_owned();
    for line in text.lines() {
        if let Some(token) = line.strip_prefix("::stop-commands::")
            && !token.is_empty()
        {
            out = out.replace(token, "[TOKEN]");
        }
    }
    out
}

/// Where one run's outputs and step summary go.
#[derive(Debug)]
pub struct Files {
    /// `GITHUB_OUTPUT`.
    pub output: PathBuf,
    /// `GITHUB_STEP_SUMMARY`.
    pub summary: PathBuf,
}

impl Files {
    /// The run, from the process's output and the files it wrote.
    ///
    /// # Panics
    ///
    /// When a file cannot be read.
    #[must_use]
    pub fn finish(self, out: &Output) -> Run {
        let text = std::fs::read_to_string(&self.output).expect("because the output file exists");
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            outputs: hub_kit::files::parse_key_values(&text)
                .into_iter()
                .collect(),
            summary: std::fs::read_to_string(&self.summary)
                .expect("because the summary file exists"),
        }
    }
}

/// What a run did.
#[derive(Debug)]
pub struct Run {
    /// Its exit status (`None`: killed by a signal).
    pub code: Option<i32>,
    /// Its standard output (lossy UTF-8).
    pub stdout: String,
    /// Its standard error (lossy UTF-8).
    pub stderr: String,
    /// The step outputs it wrote (`GITHUB_OUTPUT`, either form).
    pub outputs: BTreeMap<String, String>,
    /// The step summary it wrote.
    pub summary: String,
}

impl Run {
    /// Output `name`.
    ///
    /// # Panics
    ///
    /// When the run did not write it (the message shows the whole run).
    #[must_use]
    pub fn output(&self, name: &str) -> &str {
        self.outputs
            .get(name)
            .map_or_else(|| panic!("no output `{name}` in {self:#?}"), String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_sees_only_the_runners_variables_its_own_and_its_inputs() {
        let dir = tempfile::tempdir().expect("tempdir");
        // `env` as the action: it prints the environment it was given.
        let run = Action::new("env", dir.path())
            .env("GITHUB_REPOSITORY", "org/app")
            .run(&[("tag-prefix", "v")]);
        assert_eq!(run.code, Some(0), "{run:#?}");
        let mut names: Vec<&str> = run
            .stdout
            .lines()
            .filter_map(|l| l.split_once('=').map(|(k, _)| k))
            .collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "GITHUB_ACTIONS",
                "GITHUB_OUTPUT",
                "GITHUB_REPOSITORY",
                "GITHUB_STEP_SUMMARY",
                "INPUT_TAG-PREFIX",
                "PATH"
            ]
        );
        assert!(
            run.stdout.lines().any(|l| l == "INPUT_TAG-PREFIX=v"),
            "{run:#?}"
        );
        assert_eq!(input_variable("tag prefix"), "INPUT_TAG_PREFIX");
    }

    #[test]
    fn stop_command_tokens_are_made_stable() {
        let log = "a\n::stop-commands::f00d\nx\n::f00d::\n::stop-commands::beef\n::beef::\n";
        assert_eq!(
            stable_tokens(log),
            "a\n::stop-commands::[TOKEN]\nx\n::[TOKEN]::\n::stop-commands::[TOKEN]\n::[TOKEN]::\n"
        );
        assert_eq!(stable_tokens("::stop-commands::\n"), "::stop-commands::\n");
    }

    #[test]
    fn a_run_reads_back_the_outputs_and_summary_it_wrote() {
        let dir = tempfile::tempdir().expect("tempdir");
        let script = "printf 'tag=%s\\n' \"$INPUT_TAG\" >> \"$GITHUB_OUTPUT\"; \
                      printf 'notes<<EOF\\na\\nb\\nEOF\\n' >> \"$GITHUB_OUTPUT\"; \
                      echo '# summary' >> \"$GITHUB_STEP_SUMMARY\"; echo out; echo err >&2; exit 3";
        let (mut cmd, files) = Action::new("sh", dir.path()).command(&[("tag", "v1")], "-a");
        let run = files.finish(&cmd.args(["-c", script]).output().expect("sh runs"));
        assert_eq!(run.code, Some(3));
        assert_eq!(
            (run.stdout.as_str(), run.stderr.as_str()),
            ("out\n", "err\n")
        );
        assert_eq!((run.output("tag"), run.output("notes")), ("v1", "a\nb"));
        assert_eq!(run.summary, "# summary\n");
        assert!(dir.path().join("github_output-a").exists());
        let missing = std::panic::catch_unwind(|| run.output("nothing").to_owned())
            .expect_err("an output never written fails the test");
        let message = missing
            .downcast_ref::<String>()
            .expect("a formatted message");
        assert!(message.contains("no output `nothing`"), "{message}");
    }
}
