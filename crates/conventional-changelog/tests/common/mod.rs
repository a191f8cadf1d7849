//! Real git repositories built like a script, with fixed dates and identities (so commit
//! ids are the same on every machine), and runs of the built binary as the runner would
//! start it: `GITHUB_ACTIONS=true`, temporary `GITHUB_OUTPUT` and `GITHUB_STEP_SUMMARY`,
//! inputs as `INPUT_*` variables, and no inherited environment.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the helper"
)]

use std::fmt;
use std::path::{Path, PathBuf};

use hub_testkit::bin::Action;

/// Fixed clock: 2024-01-01T00:00:00Z, one day further per commit or tag.
const EPOCH: u64 = 1_704_067_200;

/// What the binary takes for "now" (`SOURCE_DATE_EPOCH`): 2024-02-01T00:00:00Z.
pub const TODAY: u64 = 1_706_745_600;

/// A repository under construction.
pub struct TestRepo {
    dir: tempfile::TempDir,
    tick: u64,
}

impl TestRepo {
    /// `git init -b main` in a fresh directory (the work tree is `repo/` inside it, so
    /// siblings such as a bare `origin.git` or a template file fit next to it).
    pub fn new() -> TestRepo {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("repo")).expect("mkdir");
        let r = TestRepo { dir, tick: 0 };
        r.git(&["init", "-q", "-b", "main"]);
        r
    }

    /// The temporary directory holding the work tree.
    pub fn base(&self) -> &Path {
        self.dir.path()
    }

    /// The work tree.
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    /// Runs git as the fixed author at the current tick and returns stdout.
    pub fn git(&self, args: &[&str]) -> String {
        self.git_at(args, EPOCH + self.tick * 86_400)
    }

    /// Runs git as the fixed author at this Unix time and returns stdout.
    pub fn git_at(&self, args: &[&str], secs: u64) -> String {
        let mut cmd = hub_testkit::git::command(&self.path(), &format!("{secs} +0000"));
        cmd.env("HOME", self.base())
            .env("GIT_AUTHOR_NAME", "Ada Lovelace")
            .env("GIT_COMMITTER_NAME", "Ada Lovelace")
            .args(args);
        hub_testkit::git::run(&mut cmd, None).trim_end().to_owned()
    }

    /// An empty commit with this message, one day after the previous event.
    pub fn commit(&mut self, message: &str) -> &mut Self {
        self.tick += 1;
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self
    }

    /// A commit writing `content` to `file`.
    pub fn commit_file(&mut self, file: &str, content: &str, message: &str) -> &mut Self {
        self.tick += 1;
        let path = self.path().join(file);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, content).expect("write");
        self.git(&["add", "--", file]);
        self.git(&["commit", "-q", "-m", message]);
        self
    }

    /// A commit by another author (name and email as given: hostile text welcome).
    pub fn commit_as(&mut self, name: &str, email: &str, message: &str) -> &mut Self {
        self.tick += 1;
        let author = format!("{name} <{email}>");
        self.git(&[
            "commit",
            "-q",
            "--allow-empty",
            "--author",
            &author,
            "-m",
            message,
        ]);
        self
    }

    /// A lightweight tag on HEAD.
    pub fn tag(&mut self, name: &str) -> &mut Self {
        self.git(&["tag", name]);
        self
    }

    /// An annotated tag on HEAD, made one day later than the last commit.
    pub fn tag_annotated(&mut self, name: &str) -> &mut Self {
        self.tick += 1;
        self.git(&["tag", "-a", "-m", &format!("Release {name}"), name]);
        self
    }

    /// An annotated tag on HEAD made at this Unix time.
    pub fn tag_annotated_at(&mut self, name: &str, secs: u64) -> &mut Self {
        self.git_at(&["tag", "-a", "-m", &format!("Release {name}"), name], secs);
        self
    }

    /// `git revert` of the commit whose summary is `summary` (git's default message).
    pub fn revert(&mut self, summary: &str) -> &mut Self {
        let id = self.id_of(summary);
        self.tick += 1;
        self.git(&["revert", "--no-edit", &id]);
        self
    }

    /// A merge commit with this message (`--no-ff`).
    pub fn merge(&mut self, branch: &str, message: &str) -> &mut Self {
        self.tick += 1;
        self.git(&["merge", "-q", "--no-ff", "-m", message, branch]);
        self
    }

    /// The id of the newest commit with this summary.
    pub fn id_of(&self, summary: &str) -> String {
        let log = self.git(&["log", "--all", "--format=%H %s"]);
        log.lines()
            .find_map(|l| l.split_once(' ').filter(|(_, s)| *s == summary))
            .map(|(id, _)| id.to_owned())
            .unwrap_or_else(|| panic!("no commit `{summary}`"))
    }

    /// The changelog file's text.
    pub fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.path().join(file)).expect("file exists")
    }

    /// Starts a run of the binary in this repository.
    pub fn run(&self) -> Run<'_> {
        Run {
            repo: self,
            inputs: Vec::new(),
            env: Vec::new(),
            args: Vec::new(),
        }
    }
}

/// One run of the binary, built up with inputs.
pub struct Run<'r> {
    repo: &'r TestRepo,
    inputs: Vec<(String, String)>,
    env: Vec<(String, String)>,
    args: Vec<String>,
}

impl Run<'_> {
    /// `with: <name>: <value>`.
    pub fn input(mut self, name: &str, value: &str) -> Self {
        self.inputs.push((name.to_owned(), value.to_owned()));
        self
    }

    /// An extra environment variable.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    /// A command-line argument.
    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_owned());
        self
    }

    /// Runs it inside a fresh "step": new output and summary files.
    pub fn go(self) -> Outcome {
        let step = tempfile::tempdir().expect("tempdir");
        let inputs: Vec<(&str, &str)> = self
            .inputs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (mut cmd, files) = Action::new(
            env!("CARGO_BIN_EXE_hub-conventional-changelog"),
            step.path(),
        )
        .env("HOME", self.repo.base())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("LC_ALL", "C")
        .env("GITHUB_WORKSPACE", self.repo.path())
        // "Today" for releases without a tag yet: 2024-02-01.
        .env("SOURCE_DATE_EPOCH", TODAY.to_string())
        .command(&inputs, "");
        cmd.current_dir(self.repo.base())
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        let out = cmd.output().expect("binary runs");
        let raw_outputs = std::fs::read_to_string(&files.output).expect("output file");
        let run = files.finish(&out);
        let base = self.repo.base().display().to_string();
        let clean = |s: &str| s.replace(&base, "[TMP]");
        Outcome {
            code: run.code.unwrap_or(-1),
            stdout: hub_testkit::bin::stable_tokens(&clean(&run.stdout)),
            stderr: clean(&run.stderr),
            outputs: hub_kit::files::parse_key_values(&raw_outputs),
            raw_outputs,
            summary: run.summary,
        }
    }
}

/// What a run did.
pub struct Outcome {
    /// Exit status.
    pub code: i32,
    /// The log (runner commands, untrusted blocks fenced).
    pub stdout: String,
    /// Errors outside Actions, clap's usage errors.
    pub stderr: String,
    /// `GITHUB_OUTPUT` read back as the runner reads it.
    pub outputs: Vec<(String, String)>,
    /// `GITHUB_OUTPUT` as written.
    pub raw_outputs: String,
    /// `GITHUB_STEP_SUMMARY`.
    pub summary: String,
}

impl Outcome {
    /// One output's value.
    pub fn output(&self, name: &str) -> &str {
        self.outputs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no output `{name}`"))
    }

    /// The first `::error::` annotation line of the log (empty when there is none).
    pub fn error(&self) -> &str {
        self.stdout
            .lines()
            .find(|l| l.starts_with("::error::"))
            .unwrap_or_default()
    }
}

/// Indents a block as `  | line` (empty lines without trailing space).
pub fn block(text: &str) -> String {
    text.trim_end()
        .lines()
        .map(|l| {
            if l.is_empty() {
                "  |".to_owned()
            } else {
                format!("  | {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

impl fmt::Display for Outcome {
    /// Everything but the log, for snapshots.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "exit: {}", self.code)?;
        for (name, value) in &self.outputs {
            if value.contains('\n') {
                writeln!(f, "output {name}:\n{}", block(value))?;
            } else {
                writeln!(f, "output {name}: {value}")?;
            }
        }
        writeln!(f, "summary:\n{}", block(&self.summary))?;
        if !self.stderr.is_empty() {
            writeln!(f, "stderr:\n{}", block(&self.stderr))?;
        }
        Ok(())
    }
}
