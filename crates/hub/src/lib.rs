//! `hub`: the one binary the release ships. Every action of the suite is in it, called
//! `hub <action> [args…]` or, through a link named `hub-<action>` (a symbolic link, or a hard
//! link on Windows), exactly as its own binary was: `hub-semver-bump --dry-run`.
//!
//! One binary instead of one per action, because the actions share most of their code
//! (clap, the runtime kit, the git and GitHub adapters, tokio/hyper/rustls): five separate
//! static binaries carried it five times (the release archive was 12.4 MB; see
//! bench/README.md, "Size").
//!
//! The actions are a table ([`ACTIONS`]), so a build can leave some out: without the default
//! `native` feature (a WebAssembly build) there is no rollback.

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

use clap::{Arg, ArgAction, Command, value_parser};
use hub_kit::{Env, Runner};

/// One action of the multi-call binary.
pub struct Action {
    /// Its name: `hub <name>`, and the link `hub-<name>`.
    pub name: &'static str,
    /// One line for `hub --help`.
    pub about: &'static str,
    /// The action's whole `main` (it reads its command line from hub-kit).
    pub main: fn() -> ExitCode,
}

/// The actions this build carries, in the order `hub --help` lists them.
pub const ACTIONS: &[Action] = &[
    Action {
        name: "semver-bump",
        about: "Next semantic version from Conventional Commits; tag, GitHub release, PR preview",
        main: semver_bump::main,
    },
    Action {
        name: "conventional-changelog",
        about: "Grouped changelog of Conventional Commits, prepended to CHANGELOG.md; release notes",
        main: conventional_changelog::main,
    },
    Action {
        name: "validate-config",
        about: "YAML/JSON/TOML files against JSON Schema and CEL rules; annotations, SARIF",
        main: validate_config::main,
    },
    Action {
        name: "canary-gate",
        about: "Canary against baseline (Prometheus or metric files): pass, fail or inconclusive",
        main: canary_gate::main,
    },
    Action {
        name: "release-pr",
        about: "One release pull request kept up to date, tagged and released on merge; version-files",
        main: release_pr::main,
    },
    #[cfg(feature = "native")]
    Action {
        name: "rollback",
        about: "Back to the previous good version through a backend, health verified, recorded",
        main: rollback::main,
    },
];

/// The action a program name calls: `hub-semver-bump`, `/usr/bin/hub-semver-bump`,
/// `hub-semver-bump.exe` → semver-bump. `None` for `hub` itself (or any other name).
pub fn called_as(program: &Path) -> Option<&'static Action> {
    let name = program.file_name()?.to_str()?;
    let name = match name.len().checked_sub(4) {
        Some(cut) if name.is_char_boundary(cut) && name[cut..].eq_ignore_ascii_case(".exe") => {
            &name[..cut]
        }
        _ => name,
    };
    let action = name.strip_prefix("hub-")?;
    ACTIONS.iter().find(|a| a.name == action)
}

/// The action of the table named exactly `name`.
fn action_named(name: &std::ffi::OsStr) -> Option<&'static Action> {
    ACTIONS.iter().find(|a| name == a.name)
}

/// Runs `action` with the command line its own binary would have: `hub-<name> args…`.
fn run_as(action: &Action, args: impl Iterator<Item = OsString>) -> ExitCode {
    let mut line = vec![OsString::from(format!("hub-{}", action.name))];
    line.extend(args);
    hub_kit::cli::set_command_line(line);
    (action.main)()
}

/// `hub`'s own command line: `--help` lists the actions, `--list` prints their names, and
/// each action takes everything after its name as it is (its own `--help` included).
pub fn command() -> Command {
    let mut cmd = Command::new("hub")
        .version(env!("CARGO_PKG_VERSION"))
        .about("hub-actions: every action of the suite in one binary")
        .after_help(
            "Each action is also `hub-<action>`: a link of that name to this binary runs the \
             action directly (`hub-semver-bump --dry-run` is `hub semver-bump --dry-run`). \
             `hub <action> --help` shows the action's options.",
        )
        .max_term_width(100)
        .args_conflicts_with_subcommands(true)
        .arg(
            Arg::new("list")
                .long("list")
                .action(ArgAction::SetTrue)
                .help("Print the actions' names, one a line (the `hub-<name>` links to make)"),
        );
    for action in ACTIONS {
        cmd = cmd.subcommand(
            Command::new(action.name)
                .about(action.about)
                .disable_help_flag(true)
                .disable_version_flag(true)
                .arg(
                    Arg::new("args")
                        .num_args(0..)
                        .trailing_var_arg(true)
                        .allow_hyphen_values(true)
                        .value_parser(value_parser!(OsString)),
                ),
        );
    }
    cmd
}

/// The binary's `main`: by the name it was called by, else by its first argument.
pub fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().collect();
    if let Some(action) = argv.first().and_then(|p| called_as(Path::new(p))) {
        return (action.main)();
    }
    // `hub <action> args…`: straight to the action, as clap would have sent it (the action's
    // subcommand takes everything after its name as it is) — without building `hub`'s own
    // command line of every action first, and without an environment read twice.
    if let Some(action) = argv.get(1).and_then(|a| action_named(a)) {
        return run_as(action, argv.into_iter().skip(2));
    }
    let mut runner = Runner::new(Env::from_process());
    let matches = match command().try_get_matches_from(&argv) {
        Ok(matches) => matches,
        Err(e) => return hub_kit::cli::report_parse_error(&e, &mut runner),
    };
    if let Some((name, sub)) = matches.subcommand() {
        let action = action_named(name.as_ref())
            .expect("because every subcommand is an action of the table");
        let args = sub.get_many::<OsString>("args").into_iter().flatten();
        return run_as(action, args.cloned());
    }
    if matches.get_flag("list") {
        let names: String = ACTIONS.iter().map(|a| format!("{}\n", a.name)).collect();
        return match runner.print_untrusted(&names) {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::from(hub_kit::cli::exit::FAILURE),
        };
    }
    // `hub` alone: the help, as a usage error.
    let help = command().render_help().to_string();
    let _ = runner.info(help.trim_end());
    ExitCode::from(hub_kit::cli::exit::USAGE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_names_its_action() {
        for (program, want) in [
            ("hub-semver-bump", Some("semver-bump")),
            ("/opt/hub/bin/hub-validate-config", Some("validate-config")),
            ("hub-canary-gate.exe", Some("canary-gate")),
            (
                "C:/hub/hub-conventional-changelog.EXE",
                Some("conventional-changelog"),
            ),
            ("hub", None),
            ("hub.exe", None),
            ("hub-", None),
            ("hub-unknown", None),
            ("semver-bump", None),
        ] {
            assert_eq!(
                called_as(Path::new(program)).map(|a| a.name),
                want,
                "{program}"
            );
        }
    }

    #[test]
    fn the_command_line_is_valid_and_names_every_action() {
        command().debug_assert();
        let cmd = command();
        let names: Vec<&str> = cmd.get_subcommands().map(|c| c.get_name()).collect();
        let table: Vec<&str> = ACTIONS.iter().map(|a| a.name).collect();
        assert_eq!(names, table);
    }
}
