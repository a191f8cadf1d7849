//! `hub-release-pr version-files`: plan every file (read, update in memory), refuse before
//! writing anything, write atomically, report what changed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use hub_kit::cli::usage;
use hub_kit::{Annotation, Runner};
use hub_version_files::{
    Change, Kind, ManifestVersion, Request, Version, cargo_package, cargo_workspace_version,
    package_json_version, pyproject_version, update,
};
use serde_json::json;

use crate::workspace::{Disk, Workspaces, cargo_workspace_of, npm_manifests_of, uv_manifests_of};

/// `--help`'s examples, one per kind of file.
pub const EXAMPLES: &str = "\
Examples:
  # Cargo: a workspace root (its [workspace.package].version, [workspace.dependencies]),
  # a member with its own version and path dependencies, and the lock's member entries
  hub-release-pr version-files --set 1.4.0 Cargo.toml crates/cli/Cargo.toml Cargo.lock
  # npm: the root and workspace packages (a `workspace:` range stays), the lock (v1-v3)
  hub-release-pr version-files --set 1.4.0 package.json packages/*/package.json package-lock.json
  # Python: PEP 621 or Poetry, setup.cfg, uv.lock, and `__version__ = \"…\"` in a file
  hub-release-pr version-files --set 1.4.0 pyproject.toml uv.lock src/acme/__init__.py
  # Helm: version, and appVersion with --app-version
  hub-release-pr version-files --set 1.4.0 --app-version charts/acme/Chart.yaml
  # A plain version file
  hub-release-pr version-files --set 1.4.0 VERSION
  # Markers in any file: the first version on a line holding `hub-actions-version` (or
  # `x-release-please-version`), or on the lines between `hub-actions-start-version` and
  # `hub-actions-end` (or `x-release-please-start-version` / `x-release-please-end`);
  # `-major`, `-minor`, `-patch` markers replace the first whole number by that part
  hub-release-pr version-files --set 1.4.0 README.md install.sh
  # A key path in a JSON, YAML or TOML file
  hub-release-pr version-files --set 1.4.0 --key image.tag deploy/values.yaml
  # One package of a monorepo, as a diff, writing nothing
  hub-release-pr version-files --set 0.9.0 --package acme-core --dry-run crates/core/Cargo.toml Cargo.lock";

/// `version-files`' options.
#[derive(clap::Args, Debug)]
pub struct Args {
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
    pub dry_run: bool,
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

/// One file updated in memory.
pub struct Planned {
    /// Where to write.
    pub path: PathBuf,
    /// The path as the user gave it.
    display: String,
    /// Its kind.
    kind: Kind,
    /// The text before.
    before: String,
    /// The text after.
    pub after: String,
    /// What changed (empty: already at the version).
    pub changes: Vec<Change>,
    /// Versions that follow another (a Cargo member inheriting the workspace's).
    notes: Vec<String>,
}

/// A file that cannot be updated.
pub struct Refusal {
    /// The file.
    pub display: String,
    /// Why.
    pub message: String,
}

/// Every file, updated in memory or refused.
pub struct Plan {
    version: Version,
    /// The files updated in memory.
    pub files: Vec<Planned>,
    /// The files that cannot be updated.
    pub refused: Vec<Refusal>,
}

/// The command: plan every file, stop on any refusal before writing anything, write, report.
pub fn run(args: &Args, runner: &mut Runner) -> Result<std::process::ExitCode> {
    let plan = plan(args)?;
    let refused = refused(&plan);
    if !refused && !args.dry_run {
        write(&plan)?;
    }
    report(&plan, args, runner)?;
    Ok(if refused {
        std::process::ExitCode::from(hub_kit::cli::exit::FAILURE)
    } else {
        std::process::ExitCode::SUCCESS
    })
}

/// Reads and updates every file in memory; nothing is written.
pub fn plan(args: &Args) -> Result<Plan> {
    let raw = args.version.trim();
    let version = Version::parse(raw.strip_prefix('v').unwrap_or(raw))
        .map_err(|e| usage(format!("`--set {raw}` is not a semantic version: {e}")))?;
    let mut files = Vec::new();
    let mut seen = BTreeSet::new();
    for path in &args.files {
        let key = path.canonicalize().unwrap_or_else(|_| path.clone());
        if !seen.insert(key) {
            continue;
        }
        let display = path.display().to_string();
        let kind = match &args.key {
            Some(key) => Kind::key_path(&display, key).ok_or_else(|| {
                usage(format!(
                    "`--key` needs JSON, YAML or TOML files (`.json`, `.yaml`, `.yml`, `.toml`): `{display}`"
                ))
            })?,
            None => Kind::detect(&display),
        };
        files.push((path.clone(), kind));
    }
    Ok(plan_files(
        &Disk::default(),
        &files,
        version,
        args.package.as_deref(),
        args.app_version,
        &BTreeMap::new(),
    ))
}

/// Updates `files` (each with its kind) to `version` in memory — only `package`'s version
/// when given — reading each file's text from `overlay` (by canonical path: the result of
/// earlier edits in the same run) before the disk, which `disk` reads once per run.
pub fn plan_files(
    disk: &Disk,
    files: &[(PathBuf, Kind)],
    version: Version,
    package: Option<&str>,
    app_version: bool,
    overlay: &BTreeMap<PathBuf, String>,
) -> Plan {
    let workspaces = Workspaces::discover(disk, files);
    // Locks last: their entries follow what the manifests say after this run.
    let mut results: Vec<Option<Result<Planned, Refusal>>> = files.iter().map(|_| None).collect();
    let mut after: BTreeMap<PathBuf, String> = overlay.clone();
    for lock_pass in [false, true] {
        for (index, (path, kind)) in files.iter().enumerate() {
            if matches!(kind, Kind::CargoLock | Kind::PackageLock | Kind::UvLock) != lock_pass {
                continue;
            }
            let internal = if lock_pass && package.is_none() {
                let members = match kind {
                    Kind::CargoLock => cargo_lock_members(disk, path, &version, &after),
                    Kind::UvLock => manifest_lock_members(
                        disk,
                        path,
                        &version,
                        &after,
                        uv_manifests_of,
                        pyproject_version,
                        "pyproject.toml",
                    ),
                    _ => manifest_lock_members(
                        disk,
                        path,
                        &version,
                        &after,
                        npm_manifests_of,
                        package_json_version,
                        "package.json",
                    ),
                };
                match members {
                    Ok(names) => names,
                    Err(message) => {
                        results[index] = Some(Err(refusal(path, message)));
                        continue;
                    }
                }
            } else {
                workspaces.internal.clone()
            };
            let request = Request {
                version: &version,
                package,
                internal: &internal,
                app_version,
                workspace_version: workspaces.writes_workspace_version_for(disk, path),
            };
            let result = plan_file(disk, path, kind, &request, overlay);
            if let (Ok(planned), Some(canonical)) = (&result, disk.canonical(path)) {
                after.insert(canonical, planned.after.clone());
            }
            results[index] = Some(result);
        }
    }
    let mut plan = Plan {
        version,
        files: Vec::new(),
        refused: Vec::new(),
    };
    for result in results.into_iter().flatten() {
        match result {
            Ok(planned) => plan.files.push(planned),
            Err(refused) => plan.refused.push(refused),
        }
    }
    plan
}

fn refusal(path: &Path, message: String) -> Refusal {
    Refusal {
        display: path.display().to_string(),
        message,
    }
}

/// Reads one file and updates it in memory.
fn plan_file(
    disk: &Disk,
    path: &Path,
    kind: &Kind,
    request: &Request<'_>,
    overlay: &BTreeMap<PathBuf, String>,
) -> Result<Planned, Refusal> {
    let earlier = disk.canonical(path).and_then(|c| overlay.get(&c).cloned());
    let before = match earlier {
        Some(text) => text,
        None => match disk.text(path) {
            Some(text) => text.to_string(),
            // Read again only to say why it cannot be.
            None => match std::fs::read_to_string(path) {
                Ok(text) => text,
                Err(e) => return Err(refusal(path, format!("cannot read it: {e}"))),
            },
        },
    };
    let updated = update(kind.clone(), &before, request)
        .map_err(|e| refusal(path, format!("cannot update it as {}: {e}", kind.name())))?;
    Ok(Planned {
        path: path.to_path_buf(),
        display: path.display().to_string(),
        kind: kind.clone(),
        after: updated.text,
        changes: updated.changes,
        notes: updated.notes,
        before,
    })
}

/// The members of a `Cargo.lock`'s workspace whose manifests give `version` once this run's
/// edits (`after`, by canonical path) are applied: their lock entries follow; the others'
/// stay, so the lock never disagrees with the manifests.
fn cargo_lock_members(
    disk: &Disk,
    lock: &Path,
    version: &Version,
    after: &BTreeMap<PathBuf, String>,
) -> Result<BTreeSet<String>, String> {
    let Some(ws) = cargo_workspace_of(disk, lock) else {
        return Err("cannot update it as Cargo.lock: no `Cargo.toml` next to it or above".into());
    };
    let text_of = |path: &Path| text_after(disk, path, after);
    let wanted = version.to_string();
    let workspace_version = cargo_workspace_version(&text_of(&ws.root));
    let mut names = BTreeSet::new();
    for manifest in &ws.manifests {
        let Some((name, given)) = cargo_package(&text_of(manifest)) else {
            continue;
        };
        let resulting = match given {
            ManifestVersion::Written(v) => Some(v),
            ManifestVersion::Inherited => workspace_version.clone(),
        };
        if resulting.as_deref() == Some(wanted.as_str()) {
            names.insert(name);
        }
    }
    if names.is_empty() {
        return Err(format!(
            "cannot update it as Cargo.lock: no workspace member's Cargo.toml gives {wanted} \
             after this run; give the manifests to update with it (or `--package`)"
        ));
    }
    Ok(names)
}

/// A file's text once this run's edits (`after`, by canonical path) are made.
fn text_after(disk: &Disk, path: &Path, after: &BTreeMap<PathBuf, String>) -> String {
    disk.canonical(path)
        .and_then(|c| after.get(&c).cloned())
        .or_else(|| disk.text(path).map(|t| t.to_string()))
        .unwrap_or_default()
}

/// Reads a manifest's package name and written version.
type ReadManifest = fn(&str) -> Option<(String, Option<String>)>;

/// The packages of a `package-lock.json`'s or `uv.lock`'s project whose manifest
/// (`manifest`, found by `manifests_of`, read by `name_and_version`) gives `version` once
/// this run's edits are made: their entries (and the ranges on them) follow. Empty (the
/// updater's own choice: every workspace entry, or the project at `.`) for a lock without
/// its manifest next to it.
fn manifest_lock_members(
    disk: &Disk,
    lock: &Path,
    version: &Version,
    after: &BTreeMap<PathBuf, String>,
    manifests_of: fn(&Disk, &Path) -> Option<Vec<PathBuf>>,
    name_and_version: ReadManifest,
    manifest: &str,
) -> Result<BTreeSet<String>, String> {
    let kind = Kind::detect(&lock.display().to_string()).name();
    let Some(manifests) = manifests_of(disk, lock) else {
        return Ok(BTreeSet::new());
    };
    let wanted = version.to_string();
    let names: BTreeSet<String> = manifests
        .iter()
        .filter_map(|m| name_and_version(&text_after(disk, m, after)))
        .filter(|(_, v)| v.as_deref() == Some(wanted.as_str()))
        .map(|(name, _)| name)
        .collect();
    if names.is_empty() {
        return Err(format!(
            "cannot update it as {kind}: no {manifest} gives {wanted} after this run; \
             give the manifests to update with it (or `--package`)"
        ));
    }
    Ok(names)
}

/// One error per refused file, naming the file (an annotation on it inside Actions).
fn report_refusals(plan: &Plan, runner: &mut Runner) -> Result<()> {
    for refusal in &plan.refused {
        let at = Annotation {
            file: Some(refusal.display.clone()),
            ..Annotation::default()
        };
        runner.error(&refusal.message, &at)?;
    }
    if !plan.refused.is_empty() {
        runner.info(&format!(
            "nothing written: {} of {} files cannot be updated",
            plan.refused.len(),
            plan.refused.len() + plan.files.len()
        ))?;
    }
    Ok(())
}

/// Whether a file was refused (then nothing may be written).
pub fn refused(plan: &Plan) -> bool {
    !plan.refused.is_empty()
}

/// Writes the files that changed, each atomically.
pub fn write(plan: &Plan) -> Result<()> {
    for file in plan.files.iter().filter(|f| !f.changes.is_empty()) {
        hub_kit::files::write_atomically(&file.path, file.after.as_bytes())
            .with_context(|| format!("cannot write `{}`", file.display))?;
    }
    Ok(())
}

/// What changed: a line per value (and per unchanged file), the diff with `--dry-run`, the
/// whole result as JSON with `--json`.
pub fn report(plan: &Plan, args: &Args, runner: &mut Runner) -> Result<()> {
    if !plan.refused.is_empty() {
        report_refusals(plan, runner)?;
        if args.json {
            runner.print_untrusted(&json_report(plan, args.dry_run).to_string())?;
        }
        return Ok(());
    }
    let changed = plan.files.iter().filter(|f| !f.changes.is_empty()).count();
    for file in &plan.files {
        for note in &file.notes {
            runner.log_untrusted(&format!("{}: {note}", file.display))?;
        }
        if file.changes.is_empty() && file.notes.is_empty() {
            let line = match &args.package {
                Some(_) => format!("{}: unchanged", file.display),
                None => format!("{}: unchanged, already {}", file.display, plan.version),
            };
            runner.log_untrusted(&line)?;
        }
        for change in &file.changes {
            runner.log_untrusted(&format!("{}: {change}", file.display))?;
        }
    }
    if args.json {
        runner.print_untrusted(&json_report(plan, args.dry_run).to_string())?;
    } else if args.dry_run && changed > 0 {
        let diff: String = plan
            .files
            .iter()
            .filter(|f| !f.changes.is_empty())
            .map(|f| unified_diff(&f.display, &f.before, &f.after))
            .collect();
        runner.print_untrusted(&diff)?;
    }
    let summary = match (changed, args.dry_run) {
        (0, _) => match &args.package {
            Some(package) => format!(
                "nothing to change: `{package}` is already at {} in every file",
                plan.version
            ),
            None => format!("nothing to change: every file already has {}", plan.version),
        },
        (n, true) => format!(
            "would update {n} of {} files (dry run, nothing written)",
            plan.files.len()
        ),
        (n, false) => format!(
            "updated {n} of {} files to {}",
            plan.files.len(),
            plan.version
        ),
    };
    runner.info(&summary)?;
    Ok(())
}

fn json_report(plan: &Plan, dry_run: bool) -> serde_json::Value {
    let files: Vec<_> = plan
        .files
        .iter()
        .map(|f| {
            json!({
                "path": f.display,
                "kind": f.kind.name(),
                "changed": !f.changes.is_empty(),
                "changes": f.changes.iter().map(|c| json!({"key": c.key, "old": c.old, "new": c.new})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let errors: Vec<_> = plan
        .refused
        .iter()
        .map(|r| json!({"path": r.display, "message": r.message}))
        .collect();
    json!({
        "version": plan.version.to_string(),
        "dry_run": dry_run,
        "written": !dry_run && errors.is_empty() && plan.files.iter().any(|f| !f.changes.is_empty()),
        "changed": plan.files.iter().any(|f| !f.changes.is_empty()),
        "files": files,
        "errors": errors,
    })
}

/// `diff -u` of one file, `a/` and `b/` prefixed like git's.
pub fn unified_diff(display: &str, before: &str, after: &str) -> String {
    let name = Path::new(display).to_string_lossy().replace('\\', "/");
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A workspace's packages planned one after the other through one [`Disk`] (as a
    /// release pull request's refresh does, two passes per package) read the disk for the
    /// first package only: the workspace is learnt once, each file read once; the plans are
    /// those of a fresh read.
    #[test]
    fn a_run_reads_each_file_once_whatever_the_number_of_packages() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        let names = ["a", "b", "c", "d"];
        std::fs::write(
            root.join("Cargo.toml"),
            "[workspace]\nmembers = [\"crates/*\"]\n",
        )
        .expect("write");
        let mut lock = String::from("version = 4\n");
        for name in names {
            let crate_dir = root.join("crates").join(name);
            std::fs::create_dir_all(&crate_dir).expect("mkdir");
            std::fs::write(
                crate_dir.join("Cargo.toml"),
                format!(
                    "[package]\nname = \"{name}\"\nversion = \"1.0.0\"\n\n[dependencies]\na = {{ path = \"../a\", version = \"1.0.0\" }}\n"
                ),
            )
            .expect("write");
            lock.push_str(&format!(
                "\n[[package]]\nname = \"{name}\"\nversion = \"1.0.0\"\n"
            ));
        }
        std::fs::write(root.join("Cargo.lock"), lock).expect("write");
        let all: Vec<(PathBuf, Kind)> = names
            .iter()
            .map(|n| (root.join(format!("crates/{n}/Cargo.toml")), Kind::CargoToml))
            .chain([(root.join("Cargo.lock"), Kind::CargoLock)])
            .collect();
        let version = Version::parse("1.1.0").expect("a version");
        let disk = Disk::default();
        let mut reads = Vec::new();
        for name in names {
            let shared = plan_files(
                &disk,
                &all,
                version.clone(),
                Some(name),
                false,
                &BTreeMap::new(),
            );
            let fresh = plan_files(
                &Disk::default(),
                &all,
                version.clone(),
                Some(name),
                false,
                &BTreeMap::new(),
            );
            let texts = |plan: &Plan| {
                plan.files
                    .iter()
                    .map(|f| f.after.clone())
                    .collect::<Vec<_>>()
            };
            assert_eq!(texts(&shared), texts(&fresh), "{name}");
            // A manifest that does not name this package is refused, the same way.
            let why = |plan: &Plan| {
                plan.refused
                    .iter()
                    .map(|r| (r.display.clone(), r.message.clone()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(why(&shared), why(&fresh), "{name}");
            assert!(
                shared.files.iter().any(|f| !f.changes.is_empty()),
                "{name} is bumped"
            );
            reads.push(disk.reads());
        }
        assert!(reads[0] > 0, "{reads:?}");
        assert!(
            reads.iter().all(|&r| r == reads[0]),
            "later packages read nothing again: {reads:?}"
        );
    }
}
