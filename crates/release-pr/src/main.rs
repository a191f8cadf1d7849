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

use std::path::PathBuf;
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
    VersionFiles(VersionFilesArgs),
}

/// `version-files`' options.
#[derive(clap::Args, Debug)]
pub struct VersionFilesArgs {
    /// The version to write (semver, e.g. `1.4.0` or `2.0.0-rc.1`; a leading `v` is
    /// dropped).
    #[arg(long = "set", value_name = "VERSION")]
    version: String,
    /// Only this package: its own version, its lock entries and its dependents'
    /// requirements. Without it every package in the files gets the version.
    #[arg(long, value_name = "NAME")]
    package: Option<String>,
    /// Also write Helm's `appVersion` in `Chart.yaml`.
    #[arg(long)]
    app_version: bool,
    /// Write the version at this key path (`tool.app.version`, `images.0.tag`) in every
    /// given JSON, YAML or TOML file instead of detecting the file kind by name.
    #[arg(long, value_name = "PATH")]
    key: Option<String>,
    /// Write nothing; print what would change as a unified diff.
    #[arg(long)]
    dry_run: bool,
    /// Print the result as one JSON object.
    #[arg(long)]
    json: bool,
    /// The files to update. Detected by name: `Cargo.toml`, `Cargo.lock`, `package.json`,
    /// `package-lock.json`, `npm-shrinkwrap.json`, `pyproject.toml`, `setup.cfg`,
    /// `uv.lock`, `Chart.yaml`, `VERSION`, `version.txt`, `*.py` (`__version__`); any
    /// other file is searched for version markers.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
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
