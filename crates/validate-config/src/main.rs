//! `hub-validate-config`: checks YAML, JSON and TOML files against JSON Schema and CEL rules.
//!
//! Steps: find the files, read the schema map and rules, parse and validate (hub-config) in
//! parallel, then report: annotations, step summary, outputs, and the report on stdout as
//! text, JSON or SARIF. Exit 0 when every file is valid, 1 on any error (or warning with
//! `--fail-on-warning`), 2 on a usage error.

mod check;
mod emit;
mod fetch;
mod files;
mod policy;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, ValueEnum};
use hub_config::{FileReport, Limits, RuleSet, RuleVars, SchemaMap, SchemaOptions};
use hub_kit::cli::exit;
use hub_kit::{Env, Runner, vars};

pub use hub_kit::cli::UsageError;

/// mimalloc: each file's parse tree and report are many small allocations, made and freed on
/// the workers; glibc's malloc spent about a tenth of the run in them. (musl builds get
/// mimalloc from hub-kit, as every binary does there.)
#[cfg(not(target_env = "musl"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Environment variables this binary reads besides the runner's.
mod env_vars {
    /// Home folder, for `~/.cache`.
    pub const HOME: &str = "HOME";
    /// XDG cache folder.
    pub const XDG_CACHE_HOME: &str = "XDG_CACHE_HOME";
}

/// SchemaStore's catalog.
const DEFAULT_CATALOG: &str = "https://www.schemastore.org/api/json/catalog.json";

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum OutputFormat {
    /// `path:line:col: severity[code]: message` lines.
    Text,
    /// The JSON report.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
}

/// Check YAML, JSON and TOML files against JSON Schema (drafts 4 to 2020-12) and CEL rules.
#[derive(Debug, Parser)]
#[command(name = "hub-validate-config", version)]
struct Args {
    /// Files, folders or globs (default `**/*.{yml,yaml,json,jsonc,toml}`, skipping `.git` and
    /// git-ignored paths).
    files: Vec<String>,
    /// Check every file against this schema (path or URL).
    #[arg(long)]
    schema: Option<String>,
    /// `glob: schema` lines, or the path of a file holding them.
    #[arg(long = "schema-map")]
    schema_map: Option<String>,
    /// A JSON or YAML file with a list of CEL rules added to every schema's `x-rules`.
    #[arg(long)]
    rules: Option<String>,
    /// `NAME=VALUE`: a constant every rule reads as `vars.NAME` (repeatable). Never a secret:
    /// any schema's rules can read it, and rules can come from the repository.
    #[arg(
        long = "rule-vars",
        visible_alias = "rule-var",
        value_name = "NAME=VALUE"
    )]
    rule_vars: Vec<String>,
    /// A folder (besides the working directory) that the repository's references (`$schema`,
    /// `$ref`, a schema map file's entries) may read schemas from (repeatable).
    #[arg(
        long = "schema-roots",
        visible_alias = "schema-root",
        value_name = "DIR"
    )]
    schema_roots: Vec<String>,
    /// A host (besides SchemaStore's and json-schema.org's) that the repository's references
    /// may download schemas from over HTTPS (repeatable); never one that resolves to a
    /// loopback, link-local or private address.
    #[arg(
        long = "allowed-hosts",
        visible_alias = "allowed-host",
        value_name = "HOST"
    )]
    allowed_hosts: Vec<String>,
    /// How to print the report on stdout.
    #[arg(long, value_enum, default_value = "text")]
    format: OutputFormat,
    /// Use only local schemas and the cache; never download.
    #[arg(long)]
    offline: bool,
    /// On a pull request, keep one comment with the summary (created once, then edited).
    #[arg(long)]
    comment: bool,
    /// Token for the comment (default `GITHUB_TOKEN`).
    #[arg(long)]
    token: Option<String>,
    /// Exit 1 on warnings too.
    #[arg(long = "fail-on-warning")]
    fail_on_warning: bool,
    /// Do not assert `format` keywords (`date-time`, `email`, …).
    #[arg(long = "no-formats")]
    no_formats: bool,
    /// Schema catalog (path or URL) used for files that name no schema.
    #[arg(long, default_value = DEFAULT_CATALOG)]
    catalog: String,
    /// Where downloaded schemas are cached (default `$RUNNER_TEMP/hub-actions/schemas`, else
    /// `~/.cache/hub-actions/schemas`).
    #[arg(long = "cache-dir")]
    cache_dir: Option<PathBuf>,
    /// Where to write the JSON report (default `$RUNNER_TEMP/hub-validate-config-report.json`
    /// inside Actions).
    #[arg(long = "report-file")]
    report_file: Option<PathBuf>,
    /// Largest file checked, in bytes; larger files are refused unread.
    #[arg(long = "max-size", default_value_t = Limits::default().max_bytes)]
    max_size: usize,
}

fn main() -> ExitCode {
    hub_kit::cli::run::<Args, _>(run)
}

fn cache_dir(args: &Args, env: &Env) -> Option<PathBuf> {
    if let Some(dir) = &args.cache_dir {
        return Some(dir.clone());
    }
    if let Some(temp) = env.get_non_empty(vars::RUNNER_TEMP) {
        return Some(PathBuf::from(temp).join("hub-actions/schemas"));
    }
    let cache = env
        .get_non_empty(env_vars::XDG_CACHE_HOME)
        .map(PathBuf::from)
        .or_else(|| {
            env.get_non_empty(env_vars::HOME)
                .map(|h| PathBuf::from(h).join(".cache"))
        })?;
    Some(cache.join("hub-actions/schemas"))
}

/// The schema map and who wrote it: inline text is the workflow's; a file in the working
/// directory is the repository's.
fn read_schema_map(
    value: Option<&str>,
    root: &std::path::Path,
    policy: &policy::Policy,
) -> anyhow::Result<(SchemaMap, policy::Trust)> {
    let Some(value) = value else {
        return Ok((SchemaMap::default(), policy::Trust::Workflow));
    };
    let as_file = root.join(value.trim());
    let (text, trust) = if !value.contains(": ") && as_file.is_file() {
        let text = std::fs::read_to_string(&as_file).map_err(|e| {
            UsageError(format!(
                "cannot read schema map `{}`: {e}",
                as_file.display()
            ))
        })?;
        let trust = if policy.in_working_directory(&as_file) {
            policy::Trust::Repository
        } else {
            policy::Trust::Workflow
        };
        (text, trust)
    } else {
        (value.to_owned(), policy::Trust::Workflow)
    };
    let map = SchemaMap::parse(&text).map_err(|e| UsageError(e.to_string()))?;
    Ok((map, trust))
}

/// `NAME=VALUE` pairs for `vars`.
fn read_rule_vars(pairs: &[String]) -> Result<RuleVars, UsageError> {
    let mut vars = Vec::new();
    for pair in pairs.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        let Some((name, value)) = pair.split_once('=') else {
            return Err(UsageError(format!(
                "rule variable `{pair}` is not `NAME=VALUE`"
            )));
        };
        let name = name.trim();
        if !RuleVars::is_name(name) {
            return Err(UsageError(format!(
                "rule variable name `{name}` is not a CEL identifier (letters, digits and `_`, not starting with a digit)"
            )));
        }
        vars.push((name.to_owned(), value.to_owned()));
    }
    Ok(vars.into_iter().collect())
}

fn read_rules(
    path: Option<&str>,
    root: &std::path::Path,
) -> anyhow::Result<Option<(String, serde_json::Value)>> {
    let Some(path) = path else { return Ok(None) };
    let bytes = fetch::read_capped(&root.join(path)).map_err(|e| UsageError(e.to_string()))?;
    let value = fetch::parse_document(path, &bytes)
        .map_err(|e| UsageError(format!("rules file `{path}` does not parse: {e}")))?;
    // Compile once now so a broken rule is a usage error, not one error per file.
    RuleSet::from_json(path, &value).map_err(|e| UsageError(e.to_string()))?;
    Ok(Some((path.to_owned(), value)))
}

fn run(args: &Args, env: &Env, runner: &mut Runner) -> anyhow::Result<ExitCode> {
    // The tokens are masked before anything could echo them (a server's error, a log line).
    for token in [args.token.as_deref(), env.get(vars::GITHUB_TOKEN)]
        .into_iter()
        .flatten()
    {
        runner.set_secret(token.trim())?;
    }
    let root = std::env::current_dir().context("cannot read the working directory")?;
    let policy = std::sync::Arc::new(policy::Policy::new(
        &root,
        &args.schema_roots,
        &args.allowed_hosts,
    )?);
    let (map, map_trust) = read_schema_map(args.schema_map.as_deref(), &root, &policy)?;
    let catalog_is_local = !args.catalog.contains("://") || args.catalog.starts_with("file://");
    let catalog_path = fetch::uri_path(&args.catalog).unwrap_or_else(|| root.join(&args.catalog));
    let catalog_trust = if catalog_is_local && policy.in_working_directory(&catalog_path) {
        policy::Trust::Repository
    } else {
        policy::Trust::Workflow
    };
    let settings = check::Settings {
        map,
        map_trust,
        rules: read_rules(args.rules.as_deref(), &root)?,
        schema: args.schema.clone(),
        catalog: args.catalog.clone(),
        catalog_trust,
        options: SchemaOptions {
            formats: !args.no_formats,
        },
        limits: Limits {
            max_bytes: args.max_size,
            ..Limits::default()
        },
        vars: read_rule_vars(&args.rule_vars)?,
        jobs: std::thread::available_parallelism().map_or(1, usize::from),
        root: root.clone(),
    };
    let fetcher = fetch::Fetcher::new(cache_dir(args, env), args.offline, Arc::clone(&policy));
    let loader = check::Loader::new(fetcher, policy);
    // The files are checked while the walk is still finding them.
    let (report, notes) = check::check_all(
        |found| files::discover_each(&root, &args.files, found),
        &settings,
        &loader,
    )?;

    if runner.in_actions() {
        emit::annotate(runner, &report)?;
    }
    for note in &notes {
        runner.warning(note, &hub_kit::Annotation::default())?;
    }
    // The summary is for the step summary file and the comment; outside Actions, with
    // neither, rendering 2,000 files' tables would be thrown away.
    let wants_summary = args.comment || runner.wants_summary();
    let summary = if wants_summary {
        emit::summary(&report, &notes)
    } else {
        String::new()
    };
    if wants_summary {
        runner.append_summary(&summary)?;
    }
    if args.comment {
        // Failing to comment (a read-only token on a fork's pull request) does not change the
        // verdict on the files: it is a warning.
        let posted = hub_github::post_sticky_comment(
            &|name: &str| env.get(name).map(String::from),
            args.token.as_deref(),
            "validate-config",
            &summary,
            hub_github::CommentOn::PullRequest,
        );
        match posted.map_err(anyhow::Error::from) {
            Ok(Some(posted)) => runner.info(&posted.describe())?,
            Ok(None) => runner.info("not a pull request: no comment posted")?,
            Err(e) => runner.warning(
                &format!("cannot post the pull request comment: {e:#}"),
                &hub_kit::Annotation::default(),
            )?,
        }
    }

    // The JSON report, rendered once if wanted, its files' entries on the workers.
    let json_text = || {
        let entries = check::par_map(&report.files, settings.jobs, FileReport::json_entry);
        report.to_json_pretty_from(&entries)
    };
    let mut json = None;
    let report_file = args.report_file.clone().or_else(|| {
        env.get_non_empty(vars::RUNNER_TEMP)
            .filter(|_| runner.in_actions())
            .map(|temp| PathBuf::from(temp).join("hub-validate-config-report.json"))
    });
    if let Some(path) = &report_file {
        let text = json.get_or_insert_with(json_text);
        hub_kit::files::write_atomically(path, text.as_bytes())
            .with_context(|| format!("cannot write the report to `{}`", path.display()))?;
    }
    runner.set_output("valid", report.valid().to_string())?;
    runner.set_output("files-checked", report.files_checked().to_string())?;
    runner.set_output("error-count", report.error_count().to_string())?;
    runner.set_output("warning-count", report.warning_count().to_string())?;
    runner.set_output(
        "report",
        report_file
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
    )?;

    // Config values are in every format: printed through hub-kit, fenced inside Actions.
    match args.format {
        OutputFormat::Text => runner.print_untrusted(&report.to_text())?,
        OutputFormat::Json => runner.print_untrusted(json.get_or_insert_with(json_text))?,
        OutputFormat::Sarif => {
            let sarif = report.to_sarif(
                "hub-validate-config",
                env!("CARGO_PKG_VERSION"),
                "https://github.com/org/hub-actions/tree/main/validate-config",
            );
            runner.print_untrusted(
                &serde_json::to_string_pretty(&sarif)
                    .expect("because a JSON value always serialises"),
            )?;
        }
    }
    let failed = report.error_count() > 0 || (args.fail_on_warning && report.warning_count() > 0);
    Ok(ExitCode::from(if failed {
        exit::FAILURE
    } else {
        exit::OK
    }))
}
