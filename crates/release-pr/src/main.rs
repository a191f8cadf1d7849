//! `hub-release-pr`: the release-pr action's binary. For now it has one command,
//! `version-files`, the version-file updaters as a local CLI (the release pull request
//! itself comes later):
//!
//! ```text
//! hub-release-pr version-files --set 1.4.0 Cargo.toml Cargo.lock
//! ```
//!
//! `main` reads like the command's help: learn the workspaces from the files, plan every
//! file, stop on any refusal before writing anything, write, report.

mod version_files;
mod workspace;

use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};
use hub_kit::{Env, Runner};

/// The release-pr action's binary. Today: `version-files`, which writes a version into
/// version files in place.
#[derive(Parser, Debug)]
#[command(name = "hub-release-pr", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Write a version into version files, in place, keeping formatting, comments and key
    /// order. Every file is checked before any is written: one that cannot be updated
    /// (a version it computes itself, a missing key) names the file and the key, exits 1,
    /// and nothing is written. Re-running with the same version changes nothing.
    #[command(after_long_help = version_files::EXAMPLES)]
    VersionFiles(version_files::Args),
}

fn main() -> ExitCode {
    hub_kit::cli::run::<Cli, _>(run)
}

fn run(cli: &Cli, _env: &Env, runner: &mut Runner) -> Result<ExitCode> {
    match &cli.command {
        Command::VersionFiles(args) => {
            let plan = version_files::plan(args)?;
            let refused = version_files::refused(&plan);
            if !refused && !args.dry_run {
                version_files::write(&plan)?;
            }
            version_files::report(&plan, args, runner)?;
            Ok(if refused {
                ExitCode::from(hub_kit::cli::exit::FAILURE)
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}
