//! One command line for both worlds: every long option of a binary is also the action
//! input of the same name, read from `INPUT_<NAME>` when the flag is not on the command
//! line.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{ArgAction, CommandFactory, FromArgMatches};

use crate::env::Env;
use crate::input::{self, InputError};

/// Exit codes shared by every binary.
pub mod exit {
    /// Everything went as asked.
    pub const OK: u8 = 0;
    /// A failure the user must act on (invalid config, failed gate, API error).
    pub const FAILURE: u8 = 1;
    /// The command line or an input was wrong.
    pub const USAGE: u8 = 2;
}

/// A wrong input found after argument parsing (an unknown preset, a version that is not
/// one, a glob that matches nothing): reported like any error, exit status 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Reports a binary's error (with its causes) through `runner` and gives the exit status:
/// 2 when a [`UsageError`] is anywhere in the cause chain, else 1. `Ok` passes through.
pub fn finish<E>(result: Result<ExitCode, E>, runner: &mut crate::Runner) -> ExitCode
where
    E: AsRef<dyn std::error::Error + 'static>,
{
    let Err(error) = result else {
        return result.unwrap_or(ExitCode::from(exit::FAILURE));
    };
    let error = error.as_ref();
    runner.report_error(error);
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(c) = cause {
        if c.is::<UsageError>() {
            return ExitCode::from(exit::USAGE);
        }
        cause = c.source();
    }
    ExitCode::from(exit::FAILURE)
}

/// The note appended to every binary's `--help`, with an example from its own options: the
/// first that takes a value and has a default or possible values to show.
pub fn inputs_help(cmd: &clap::Command) -> String {
    // Each option that takes a value, with a value to show: its default, else its first
    // possible value.
    let options: Vec<(&str, Option<String>)> = cmd
        .get_arguments()
        .filter(|a| !a.is_hide_set() && !matches!(a.get_id().as_str(), "help" | "version"))
        .filter(|a| matches!(a.get_action(), ArgAction::Set | ArgAction::Append))
        .filter_map(|a| {
            let value = a
                .get_default_values()
                .first()
                .and_then(|v| v.to_str())
                .filter(|v| !v.is_empty())
                .map(String::from)
                .or_else(|| {
                    a.get_possible_values()
                        .first()
                        .map(|v| v.get_name().to_string())
                });
            Some((a.get_long()?, value))
        })
        .collect();
    let example = options
        .iter()
        .find_map(|(long, value)| Some((*long, value.clone()?)))
        .or_else(|| options.first().map(|(long, _)| (*long, "…".to_string())));
    let example = example.map_or(String::new(), |(long, value)| {
        format!(
            ": `--{long} {value}` is `INPUT_{}={value}` (as the runner sets for `with: {long}: {value}`)",
            long.to_ascii_uppercase()
        )
    });
    format!(
        "Every option can also be given as the action input of the same name{example}. \
         A flag on the command line wins over the input. Boolean inputs accept only \
         true/True/TRUE/false/False/FALSE.\n\n\
         Exit status: 0 success, 1 a failure to act on, 2 a usage error."
    )
}

/// The command line an action sees, when it is not the process's own: set once by the
/// multi-call `hub` binary before it calls the action (`hub semver-bump --dry-run` runs
/// semver-bump with `hub-semver-bump --dry-run`).
static COMMAND_LINE: std::sync::OnceLock<Vec<OsString>> = std::sync::OnceLock::new();

/// Makes `argv` the command line every later [`parse`] reads instead of the process's.
/// Only the first call counts (a process runs one action); it says whether it did.
pub fn set_command_line(argv: Vec<OsString>) -> bool {
    COMMAND_LINE.set(argv).is_ok()
}

/// The command line the action sees: the one given to [`set_command_line`], else the
/// process's.
pub fn command_line() -> Vec<OsString> {
    match COMMAND_LINE.get() {
        Some(argv) => argv.clone(),
        None => std::env::args_os().collect(),
    }
}

/// Parses the action's command line ([`command_line`]) merged with action inputs from `env`.
pub fn parse<T: CommandFactory + FromArgMatches>(env: &Env) -> Result<T, clap::Error> {
    parse_from(env, command_line())
}

/// Parses `argv` merged with action inputs from `env`.
///
/// For every argument that the command line does not set, the input named like its long
/// flag (or its id, for positionals) is read with the runner's mangling and trimming:
/// booleans strictly, multi-valued arguments one item per line, everything else as one
/// value.
pub fn parse_from<T, I, S>(env: &Env, argv: I) -> Result<T, clap::Error>
where
    T: CommandFactory + FromArgMatches,
    I: IntoIterator<Item = S>,
    S: Into<OsString> + Clone,
{
    let argv: Vec<OsString> = argv.into_iter().map(Into::into).collect();
    let mut cmd = T::command();
    // The note on inputs is read only by `--help` (and a `help` subcommand): built only then,
    // not on every run.
    if argv.iter().any(|a| a == "--help" || a == "help") {
        let help = inputs_help(&cmd);
        cmd = cmd.after_long_help(help);
    }
    // No inputs at all (a CLI run): the command line is all there is, one parse.
    let any_input = env
        .iter()
        .any(|(k, v)| k.starts_with("INPUT_") && !v.trim().is_empty());
    if !any_input {
        let mut matches = cmd.try_get_matches_from(argv)?;
        return T::from_arg_matches_mut(&mut matches);
    }
    // First pass with nothing required: learn what the command line itself sets (and let
    // --help / --version / real usage errors out as they are).
    let relaxed = cmd
        .clone()
        .mut_args(|a| a.required(false))
        .subcommand_required(false)
        .arg_required_else_help(false);
    let given = relaxed.try_get_matches_from(argv.clone())?;

    let mut extra_flags: Vec<OsString> = Vec::new();
    let mut extra_positionals: Vec<OsString> = Vec::new();
    for arg in cmd.get_arguments() {
        let id = arg.get_id().as_str();
        if matches!(id, "help" | "version") {
            continue;
        }
        if given.value_source(id) == Some(ValueSource::CommandLine) {
            continue;
        }
        let name = arg.get_long().unwrap_or(id);
        let Some(value) = input::get_input(env, name) else {
            continue;
        };
        let usage = |e: InputError| {
            clap::Error::raw(clap::error::ErrorKind::InvalidValue, format!("{e}\n"))
        };
        match arg.get_action() {
            ArgAction::SetTrue => {
                if input::parse_bool(name, value).map_err(usage)? {
                    extra_flags.push(format!("--{name}").into());
                }
            }
            ArgAction::SetFalse => {
                if !input::parse_bool(name, value).map_err(usage)? {
                    extra_flags.push(format!("--{name}").into());
                }
            }
            ArgAction::Count
            | ArgAction::Help
            | ArgAction::HelpShort
            | ArgAction::HelpLong
            | ArgAction::Version => {}
            action => {
                let multi = matches!(action, ArgAction::Append)
                    || arg.get_num_args().is_some_and(|n| n.max_values() > 1);
                let values = if multi {
                    input::split_lines(value)
                } else {
                    vec![value.to_string()]
                };
                for v in values {
                    if arg.is_positional() {
                        extra_positionals.push(v.into());
                    } else {
                        extra_flags.push(format!("--{name}={v}").into());
                    }
                }
            }
        }
    }

    let mut full = argv;
    let has_separator = full.iter().any(|a| a == "--");
    let insert_at = 1.min(full.len());
    full.splice(insert_at..insert_at, extra_flags);
    if !extra_positionals.is_empty() {
        if !has_separator {
            full.push("--".into());
        }
        full.extend(extra_positionals);
    }
    let mut matches = cmd.try_get_matches_from(full)?;
    T::from_arg_matches_mut(&mut matches)
}

/// Runs a binary's body: parses arguments (exiting 0 for `--help`/`--version`, 2 for a
/// usage error) and maps the body's result to an exit code.
pub fn main<T, F>(body: F) -> ExitCode
where
    T: CommandFactory + FromArgMatches,
    F: FnOnce(T, Env) -> ExitCode,
{
    let env = Env::from_process();
    match parse::<T>(&env) {
        Ok(args) => body(args, env),
        Err(e) => report_parse_error(&e, &mut crate::Runner::new(env)),
    }
}

/// Reports a command-line error and gives its exit status (0 for `--help`/`--version`).
/// Inside Actions the message quotes the input as given, which may hold anything (an
/// `INPUT_FORMAT` of `bad\n::error::…`): it becomes one escaped error annotation, never
/// raw text on stdout or stderr, which the runner reads for workflow commands.
pub fn report_parse_error(e: &clap::Error, runner: &mut crate::Runner) -> ExitCode {
    if !e.use_stderr() {
        let _ = e.print();
        return ExitCode::from(exit::OK);
    }
    if runner.in_actions() {
        let _ = runner.error(&actions_message(e), &crate::Annotation::default());
    } else {
        let _ = e.print();
    }
    ExitCode::from(exit::USAGE)
}

/// A command-line error as an action's user reads it in the annotation: a wrong value named
/// by its input (``input `mode`: invalid value `Prepend` (possible values: `prepend`, …)``),
/// anything else as clap says it, without clap's own `error: ` (GitHub already heads the
/// annotation "Error") and its advice to try `--help`, which the workflow cannot.
fn actions_message(e: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if matches!(
        e.kind(),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation
    ) && let (Some(ContextValue::String(arg)), Some(ContextValue::String(value))) = (
        e.get(ContextKind::InvalidArg),
        e.get(ContextKind::InvalidValue),
    ) {
        // `--mode <MODE>` → `mode`; a positional `<FILE>...` → `file` (an input is named like
        // the long flag, or the argument's id).
        let name = arg
            .trim_start_matches('-')
            .split([' ', '='])
            .next()
            .unwrap_or_default()
            .trim_matches(['<', '>', '[', ']', '.'])
            .to_ascii_lowercase();
        let mut message = if value.is_empty() {
            format!("input `{name}`: a value is required")
        } else {
            format!("input `{name}`: invalid value `{value}`")
        };
        if let Some(ContextValue::Strings(valid)) = e.get(ContextKind::ValidValue) {
            let valid: Vec<String> = valid.iter().map(|v| format!("`{v}`")).collect();
            message.push_str(&format!(" (possible values: {})", valid.join(", ")));
        }
        if let Some(cause) = std::error::Error::source(e) {
            message.push_str(&format!(": {cause}"));
        }
        if let Some(ContextValue::String(near)) = e.get(ContextKind::SuggestedValue) {
            message.push_str(&format!("; did you mean `{near}`?"));
        }
        return message;
    }
    let text = e.render().to_string();
    let text = text.trim().strip_prefix("error: ").unwrap_or(text.trim());
    text.lines()
        .filter(|l| !l.starts_with("For more information, try"))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

/// The whole `main` of an action binary: arguments as in [`main`], one [`crate::Runner`] for
/// the run, and [`finish`] for the body's result.
pub fn run<T, E>(body: impl FnOnce(&T, &Env, &mut crate::Runner) -> Result<ExitCode, E>) -> ExitCode
where
    T: CommandFactory + FromArgMatches,
    E: AsRef<dyn std::error::Error + 'static>,
{
    main::<T, _>(|args, env| {
        let mut runner = crate::Runner::new(env.clone());
        let result = body(&args, &env, &mut runner);
        finish(result, &mut runner)
    })
}

/// A [`UsageError`] (exit status 2) as the shells' `anyhow::Error`:
/// `return Err(usage(format!("unknown preset `{name}`")))`.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError(message.into()).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug, PartialEq)]
    #[command(name = "hub-demo", version)]
    struct Args {
        /// Tag prefix.
        #[arg(long, default_value = "v")]
        tag_prefix: String,
        /// Dry run.
        #[arg(long)]
        dry_run: bool,
        /// Steps.
        #[arg(long)]
        steps: Option<String>,
        /// Required.
        #[arg(long)]
        token: String,
        /// Extra values.
        #[arg(long = "label")]
        labels: Vec<String>,
        /// Files.
        files: Vec<String>,
    }

    fn parse(env: &[(&str, &str)], argv: &[&str]) -> Result<Args, String> {
        let env = Env::from_pairs(env.iter().copied());
        let mut full = vec!["hub-demo"];
        full.extend_from_slice(argv);
        parse_from::<Args, _, _>(&env, full).map_err(|e| e.to_string())
    }

    #[test]
    fn a_hostile_input_in_a_usage_error_runs_no_workflow_command() {
        #[derive(Clone, Copy, Debug, clap::ValueEnum)]
        enum Format {
            Text,
        }
        #[derive(Parser, Debug)]
        struct Strict {
            #[arg(long, value_enum)]
            format: Option<Format>,
            #[arg(long)]
            dry_run: bool,
        }
        for (name, value) in [
            (
                "INPUT_FORMAT",
                "bad\n::error title=x::owned\n::add-mask::feat",
            ),
            ("INPUT_DRY-RUN", "yes\r::stop-commands::zzz"),
        ] {
            let env = Env::from_pairs([(name, value), ("GITHUB_ACTIONS", "true")]);
            let error = parse_from::<Strict, _, _>(&env, ["hub-demo"]).expect_err("bad input");
            let out = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
            impl std::io::Write for Shared {
                fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                    self.0.lock().unwrap().extend_from_slice(b);
                    Ok(b.len())
                }
                fn flush(&mut self) -> std::io::Result<()> {
                    Ok(())
                }
            }
            let mut runner = crate::Runner::with_writers(
                env,
                Box::new(Shared(out.clone())),
                Box::new(Shared(out.clone())),
            );
            let code = report_parse_error(&error, &mut runner);
            assert_eq!(code, ExitCode::from(exit::USAGE));
            let text = String::from_utf8(out.lock().unwrap().clone()).unwrap();
            let commands = crate::command::commands_in(&text);
            assert_eq!(commands.len(), 1, "{text}");
            assert_eq!(commands[0].0, "error", "{text}");
            assert!(commands[0].1.contains("owned") || commands[0].1.contains("yes"));
        }
    }

    #[test]
    fn the_help_note_takes_its_example_from_the_binarys_own_options() {
        let help = inputs_help(&Args::command());
        assert!(
            help.contains("`--tag-prefix v` is `INPUT_TAG-PREFIX=v`"),
            "{help}"
        );
        #[derive(Parser, Debug)]
        struct OnlyFlags {
            #[arg(long)]
            dry_run: bool,
        }
        let help = inputs_help(&OnlyFlags::command());
        assert!(
            help.starts_with(
                "Every option can also be given as the action input of the same name. "
            ),
            "{help}"
        );
    }

    #[test]
    fn inside_actions_a_bad_value_is_named_by_its_input_once() {
        #[derive(Clone, Copy, Debug, clap::ValueEnum)]
        enum Mode {
            Prepend,
            Overwrite,
        }
        #[derive(Parser, Debug)]
        struct Strict {
            #[arg(long, value_enum)]
            mode: Option<Mode>,
            #[arg(long)]
            dry_run: bool,
            #[arg(long)]
            steps: Option<u32>,
        }
        let message = |name: &str, value: &str| {
            let env = Env::from_pairs([(name, value), ("GITHUB_ACTIONS", "true")]);
            let error = parse_from::<Strict, _, _>(&env, ["hub-demo"]).expect_err("bad input");
            actions_message(&error)
        };
        assert_eq!(
            message("INPUT_MODE", "xyz"),
            "input `mode`: invalid value `xyz` (possible values: `prepend`, `overwrite`)"
        );
        assert_eq!(
            message("INPUT_MODE", "prepnd"),
            "input `mode`: invalid value `prepnd` (possible values: `prepend`, `overwrite`); \
             did you mean `prepend`?"
        );
        assert_eq!(
            message("INPUT_STEPS", "ten"),
            "input `steps`: invalid value `ten`: invalid digit found in string"
        );
        let boolean = message("INPUT_DRY-RUN", "yes");
        assert!(!boolean.starts_with("error"), "{boolean}");
        assert!(boolean.contains("dry-run"), "{boolean}");
        assert!(!boolean.contains("--help"), "{boolean}");
    }

    #[test]
    fn inputs_fill_what_flags_do_not_set() {
        let a = parse(
            &[
                ("INPUT_TAG-PREFIX", " release- "),
                ("INPUT_DRY-RUN", "true"),
                ("INPUT_TOKEN", "t"),
                ("INPUT_FILES", "a.yml\n  b.yml\n"),
                ("INPUT_LABEL", "x\ny"),
            ],
            &[],
        )
        .unwrap();
        assert_eq!(a.tag_prefix, "release-");
        assert!(a.dry_run);
        assert_eq!(a.files, ["a.yml", "b.yml"]);
        assert_eq!(a.labels, ["x", "y"]);
        assert_eq!(a.steps, None);
    }

    #[test]
    fn flags_win_over_inputs() {
        let a = parse(
            &[
                ("INPUT_TAG-PREFIX", "x"),
                ("INPUT_TOKEN", "t"),
                ("INPUT_FILES", "in.yml"),
            ],
            &["--tag-prefix", "y", "cli.yml"],
        )
        .unwrap();
        assert_eq!(a.tag_prefix, "y");
        assert_eq!(a.files, ["cli.yml"]);
    }

    #[test]
    fn empty_inputs_are_unset_and_defaults_apply() {
        let a = parse(
            &[
                ("INPUT_TAG-PREFIX", ""),
                ("INPUT_DRY-RUN", ""),
                ("INPUT_TOKEN", "t"),
            ],
            &[],
        )
        .unwrap();
        assert_eq!(a.tag_prefix, "v");
        assert!(!a.dry_run);
    }

    #[test]
    fn values_that_look_like_flags_stay_values() {
        let a = parse(&[("INPUT_STEPS", "--dry-run"), ("INPUT_TOKEN", "-x")], &[]).unwrap();
        assert_eq!(a.steps.as_deref(), Some("--dry-run"));
        assert_eq!(a.token, "-x");
        assert!(!a.dry_run);
        let a = parse(&[("INPUT_TOKEN", "t"), ("INPUT_FILES", "-rf\n--help")], &[]).unwrap();
        assert_eq!(a.files, ["-rf", "--help"]);
    }

    #[test]
    fn bad_boolean_names_the_input() {
        let e = parse(&[("INPUT_DRY-RUN", "yes"), ("INPUT_TOKEN", "t")], &[]).unwrap_err();
        assert!(e.contains("input `dry-run` must be a boolean"), "{e}");
    }

    #[derive(Debug, thiserror::Error)]
    #[error("while reading the config")]
    struct Wrapper(#[source] UsageError);

    #[test]
    fn usage_errors_anywhere_in_the_chain_exit_2() {
        let mut runner =
            crate::Runner::with_writers(Env::default(), Box::new(Vec::new()), Box::new(Vec::new()));
        let code = |r: Result<ExitCode, Box<dyn std::error::Error>>, runner: &mut crate::Runner| {
            format!("{:?}", finish(r, runner))
        };
        let usage: Box<dyn std::error::Error> = Box::new(UsageError("unknown preset `x`".into()));
        let wrapped: Box<dyn std::error::Error> = Box::new(Wrapper(UsageError("bad".into())));
        let other: Box<dyn std::error::Error> = "network down".into();
        assert_eq!(
            code(Err(usage), &mut runner),
            format!("{:?}", ExitCode::from(exit::USAGE))
        );
        assert_eq!(
            code(Err(wrapped), &mut runner),
            format!("{:?}", ExitCode::from(exit::USAGE))
        );
        assert_eq!(
            code(Err(other), &mut runner),
            format!("{:?}", ExitCode::from(exit::FAILURE))
        );
        assert_eq!(
            code(Ok(ExitCode::from(0)), &mut runner),
            format!("{:?}", ExitCode::from(0))
        );
    }

    #[test]
    fn missing_required_is_a_usage_error() {
        let e = parse(&[], &[]).unwrap_err();
        assert!(e.contains("--token"), "{e}");
    }
}
