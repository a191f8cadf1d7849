//! `hub-github-standin`: serve the GitHub API stand-in on 127.0.0.1 for end-to-end tests.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use hub_github_standin::{GraphqlSchema, Options, Spec, StandIn};

/// A stand-in for the GitHub REST API that checks every exchange against GitHub's OpenAPI
/// description. Test support only.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Write the bound port to this file once listening.
    #[arg(long)]
    port_file: Option<PathBuf>,
    /// GitHub's OpenAPI description: the JSON file or the `@octokit/openapi` package folder.
    #[arg(long, env = "HUB_GITHUB_OPENAPI")]
    openapi: Option<PathBuf>,
    /// Serve without checking requests and responses (when no description is at hand); wins
    /// over `--openapi` and `HUB_GITHUB_OPENAPI`.
    #[arg(long)]
    no_validate: bool,
    /// GitHub's GraphQL schema: `schema.graphql` of `@octokit/graphql-schema` or its package
    /// folder. Without it `POST /graphql` is refused and recorded as a violation.
    #[arg(long, env = "HUB_GITHUB_GRAPHQL_SCHEMA")]
    graphql_schema: Option<PathBuf>,
    /// Refuse to create pull requests as GitHub does when "Allow GitHub Actions to create and
    /// approve pull requests" is off.
    #[arg(long)]
    refuse_actions_pull_requests: bool,
    /// Serve the API below this path, like GitHub Enterprise Server (`/api/v3`).
    #[arg(long, default_value = "")]
    path_prefix: String,
    /// Stop after this many seconds without a request.
    #[arg(long, default_value_t = 600)]
    idle_seconds: u64,
    /// Stop after this many seconds in any case.
    #[arg(long, default_value_t = 3600)]
    max_seconds: u64,
    /// Create this repository (`owner/name`, one commit on `main`) at start; repeatable.
    #[arg(long = "repo")]
    repositories: Vec<String>,
    /// Mirror a local git repository (`owner/name=PATH`, a work tree or a bare repository) at
    /// start: its objects with the same ids, its branches and tags, HEAD's branch as default
    /// branch. Repeatable; applied before the port is announced.
    #[arg(long = "import", value_name = "OWNER/NAME=PATH", value_parser = parse_import)]
    imports: Vec<(String, PathBuf)>,
}

fn parse_import(value: &str) -> Result<(String, PathBuf), String> {
    match value.split_once('=') {
        Some((repository, path)) if !repository.is_empty() && !path.is_empty() => {
            Ok((repository.to_owned(), PathBuf::from(path)))
        }
        _ => Err(format!("`{value}` is not `owner/name=PATH`")),
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            let mut source = std::error::Error::source(&err);
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, hub_github_standin::Error> {
    let spec = match (&cli.openapi, cli.no_validate) {
        (_, true) => None,
        (Some(path), false) => Some(Spec::load_shared(path)?),
        (None, false) => {
            eprintln!(
                "error: no OpenAPI description: pass `--openapi` or set `HUB_GITHUB_OPENAPI` (or `--no-validate`)"
            );
            return Ok(ExitCode::from(2));
        }
    };
    let standin = StandIn::start(Options {
        spec,
        port: cli.port,
        path_prefix: cli.path_prefix,
        idle_timeout: Some(Duration::from_secs(cli.idle_seconds)),
        max_lifetime: Some(Duration::from_secs(cli.max_seconds)),
        repositories: cli.repositories,
        graphql: match &cli.graphql_schema {
            Some(path) => Some(GraphqlSchema::load(path)?),
            None => None,
        },
        refuse_actions_pull_requests: cli.refuse_actions_pull_requests,
    })?;
    for (repository, path) in &cli.imports {
        let summary = standin.import_git(repository, path)?;
        eprintln!(
            "imported {} object(s) and {} ref(s) from `{}` into `{}`",
            summary.objects,
            summary.refs.len(),
            path.display(),
            summary.repository
        );
    }
    if let Some(path) = &cli.port_file {
        std::fs::write(path, format!("{}\n", standin.port())).map_err(|source| {
            hub_github_standin::Error::PortFile {
                path: path.clone(),
                source,
            }
        })?;
    }
    println!("listening on http://127.0.0.1:{}", standin.port());
    let _ = std::io::stdout().flush();

    let mut standin = standin;
    standin.wait();
    let violations = standin.violations();
    if violations.is_empty() {
        eprintln!("stopped: every exchange conformed to the description");
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "stopped: {} exchange(s) did not conform to the description",
        violations.len()
    );
    for violation in &violations {
        eprintln!("- {violation}");
    }
    Ok(ExitCode::from(3))
}
