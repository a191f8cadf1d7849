//! The inputs: the flags (and the action inputs they mirror), and the settings a run is made
//! of — the schema map and its author, the rules and their variables, the catalog's author,
//! the limits, where downloads are cached, where the reports go.

use std::path::{Path, PathBuf};

use clap::{Parser, ValueEnum};
use hub_config::{Limits, RuleSet, RuleVars, SchemaMap, SchemaOptions};
use hub_kit::cli::UsageError;
use hub_kit::{Env, vars};

use crate::check;
use crate::fetch;
use crate::policy::{Policy, Trust};

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
pub enum OutputFormat {
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
pub struct Args {
    /// Files, folders or globs (default `**/*.{yml,yaml,json,jsonc,toml}`, skipping `.git` and
    /// git-ignored paths).
    pub files: Vec<String>,
    /// Check every file against this schema (path or URL).
    #[arg(long)]
    pub schema: Option<String>,
    /// `glob: schema` lines, or the path of a file holding them.
    #[arg(long = "schema-map")]
    pub schema_map: Option<String>,
    /// A JSON or YAML file with a list of CEL rules added to every schema's `x-rules`.
    #[arg(long)]
    pub rules: Option<String>,
    /// `NAME=VALUE`: a constant every rule reads as `vars.NAME` (repeatable). Never a secret:
    /// any schema's rules can read it, and rules can come from the repository.
    #[arg(
        long = "rule-vars",
        visible_alias = "rule-var",
        value_name = "NAME=VALUE"
    )]
    pub rule_vars: Vec<String>,
    /// A folder (besides the working directory) that the repository's references (`$schema`,
    /// `$ref`, a schema map file's entries) may read schemas from (repeatable).
    #[arg(
        long = "schema-roots",
        visible_alias = "schema-root",
        value_name = "DIR"
    )]
    pub schema_roots: Vec<String>,
    /// A host (besides SchemaStore's and json-schema.org's) that the repository's references
    /// may download schemas from over HTTPS (repeatable); never one that resolves to a
    /// loopback, link-local or private address.
    #[arg(
        long = "allowed-hosts",
        visible_alias = "allowed-host",
        value_name = "HOST"
    )]
    pub allowed_hosts: Vec<String>,
    /// How to print the report on stdout.
    #[arg(long, value_enum, default_value = "text")]
    pub format: OutputFormat,
    /// Use only local schemas and the cache; never download.
    #[arg(long)]
    pub offline: bool,
    /// On a pull request, keep one comment with the summary (created once, then edited).
    #[arg(long)]
    pub comment: bool,
    /// Token for the comment (default `GITHUB_TOKEN`).
    #[arg(long)]
    pub token: Option<String>,
    /// Exit 1 on warnings too.
    #[arg(long = "fail-on-warning")]
    pub fail_on_warning: bool,
    /// Do not assert `format` keywords (`date-time`, `email`, …).
    #[arg(long = "no-formats")]
    pub no_formats: bool,
    /// Read `const` in draft-04, keywords beside `$ref` in drafts 4 to 7 and `date-time` as the
    /// specification words them, not as ajv (which schema authors test with) reads them.
    #[arg(long = "spec-strict")]
    pub spec_strict: bool,
    /// Schema catalog (path or URL) used for files that name no schema.
    #[arg(long, default_value = DEFAULT_CATALOG)]
    pub catalog: String,
    /// Where downloaded schemas are cached (default `$RUNNER_TEMP/hub-actions/schemas`, else
    /// `~/.cache/hub-actions/schemas`).
    #[arg(long = "cache-dir")]
    pub cache_dir: Option<PathBuf>,
    /// Where to write the JSON report (default `$RUNNER_TEMP/hub-validate-config-report.json`
    /// inside Actions).
    #[arg(long = "report-file")]
    pub report_file: Option<PathBuf>,
    /// Where to write the SARIF report (for `github/codeql-action/upload-sarif`), whatever
    /// `--format` prints on stdout.
    #[arg(long = "sarif-file", value_name = "PATH")]
    pub sarif_file: Option<PathBuf>,
    /// Largest file checked, in bytes; larger files are refused unread.
    #[arg(long = "max-size", default_value_t = Limits::default().max_bytes)]
    pub max_size: usize,
}

/// What a run checks and how, from the flags: the files the flags name are read here (the
/// schema map file, the rules file); nothing is downloaded.
///
/// # Errors
///
/// A [`UsageError`] naming the input for a schema map, rules file or rule variable that
/// cannot be used.
pub fn settings(args: &Args, root: &Path, policy: &Policy) -> anyhow::Result<check::Settings> {
    if let Some(schema) = &args.schema {
        check_schema_exists(schema, root)?;
    }
    let (map, map_trust) = read_schema_map(args.schema_map.as_deref(), root, policy)?;
    let catalog_is_local = !args.catalog.contains("://") || args.catalog.starts_with("file://");
    let catalog_path = fetch::uri_path(&args.catalog).unwrap_or_else(|| root.join(&args.catalog));
    let catalog_trust = if catalog_is_local && policy.in_working_directory(&catalog_path) {
        Trust::Repository
    } else {
        Trust::Workflow
    };
    Ok(check::Settings {
        map,
        map_trust,
        rules: read_rules(args.rules.as_deref(), root)?,
        schema: args.schema.clone(),
        catalog: args.catalog.clone(),
        catalog_trust,
        options: SchemaOptions {
            formats: !args.no_formats,
            spec_strict: args.spec_strict,
        },
        limits: Limits {
            max_bytes: args.max_size,
            ..Limits::default()
        },
        vars: read_rule_vars(&args.rule_vars)?,
        jobs: std::thread::available_parallelism().map_or(1, usize::from),
        root: root.to_owned(),
    })
}

/// A local `--schema` (a path or a `file://` URI) that is not there is a typo in the
/// workflow: one usage error, rather than the same `schema-unavailable` error on every file.
/// URLs are fetched (and may fail) per run; the built-in meta-schemas need no file.
fn check_schema_exists(schema: &str, root: &Path) -> Result<(), UsageError> {
    let local = !schema.contains("://") || schema.starts_with("file://");
    if !local || hub_config::meta_schema(schema).is_some() {
        return Ok(());
    }
    let path = fetch::uri_path(schema).unwrap_or_else(|| root.join(schema));
    if path.exists() {
        return Ok(());
    }
    Err(UsageError(format!(
        "schema `{schema}` does not exist (looked for `{}`)",
        path.display()
    )))
}

/// The JSON report's path: `--report-file`, else under `$RUNNER_TEMP` inside Actions.
pub fn report_file(args: &Args, env: &Env, in_actions: bool) -> Option<PathBuf> {
    args.report_file.clone().or_else(|| {
        env.get_non_empty(vars::RUNNER_TEMP)
            .filter(|_| in_actions)
            .map(|temp| PathBuf::from(temp).join("hub-validate-config-report.json"))
    })
}

/// Where downloads are cached: `--cache-dir`, else under `$RUNNER_TEMP`, else under the
/// user's cache folder.
pub fn cache_dir(args: &Args, env: &Env) -> Option<PathBuf> {
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
pub fn read_schema_map(
    value: Option<&str>,
    root: &Path,
    policy: &Policy,
) -> anyhow::Result<(SchemaMap, Trust)> {
    let Some(value) = value else {
        return Ok((SchemaMap::default(), Trust::Workflow));
    };
    let as_file = root.join(value.trim());
    let one_word = !value.trim().is_empty() && !value.trim().contains(char::is_whitespace);
    if one_word && !value.contains(": ") && !as_file.is_file() {
        // One word that is not a file: a mistyped path, not a malformed line.
        return Err(UsageError(format!(
            "schema map `{}` is neither a file (looked for `{}`) nor `glob: schema` lines",
            value.trim(),
            as_file.display()
        ))
        .into());
    }
    let (text, trust) = if !value.contains(": ") && as_file.is_file() {
        let text = std::fs::read_to_string(&as_file).map_err(|e| {
            UsageError(format!(
                "cannot read schema map `{}`: {e}",
                as_file.display()
            ))
        })?;
        let trust = if policy.in_working_directory(&as_file) {
            Trust::Repository
        } else {
            Trust::Workflow
        };
        (text, trust)
    } else {
        (value.to_owned(), Trust::Workflow)
    };
    let map = SchemaMap::parse(&text).map_err(|e| UsageError(e.to_string()))?;
    Ok((map, trust))
}

/// `NAME=VALUE` pairs for `vars`.
pub fn read_rule_vars(pairs: &[String]) -> Result<RuleVars, UsageError> {
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

/// The rules file, parsed and compiled once (a broken rule is a usage error).
pub fn read_rules(
    path: Option<&str>,
    root: &Path,
) -> anyhow::Result<Option<(String, serde_json::Value)>> {
    let Some(path) = path else { return Ok(None) };
    let bytes = fetch::read_capped(&root.join(path)).map_err(|e| UsageError(e.to_string()))?;
    let value = fetch::parse_document(path, &bytes)
        .map_err(|e| UsageError(format!("rules file `{path}` does not parse: {e}")))?;
    // Compile once now so a broken rule is a usage error, not one error per file.
    RuleSet::from_json(path, &value).map_err(|e| UsageError(e.to_string()))?;
    Ok(Some((path.to_owned(), value)))
}
