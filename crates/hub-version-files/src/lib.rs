//! Version files edited in place: the new version written into `Cargo.toml`, `Cargo.lock`,
//! `package.json`, `package-lock.json`, `pyproject.toml`, `setup.cfg`, `uv.lock`,
//! `Chart.yaml`, a plain `VERSION` file, a Python `__version__`, version markers in any file,
//! or a key path of a JSON/YAML/TOML file.
//!
//! Text in, text out: every updater parses the file with a parser that knows each value's
//! byte range and replaces only the bytes of the values it changes, so formatting, comments,
//! key order, CRLF line ends and a missing final newline stay as they were. A version the
//! file computes itself (`dynamic = ["version"]`, `version.workspace = true` with no
//! workspace version, `attr:` in `setup.cfg`) is an error naming the key, never a silent
//! skip. Writing the same version twice changes nothing.
//!
//! ```
//! use std::collections::BTreeSet;
//! use hub_version_files::{Kind, Request, update};
//!
//! let version = semver::Version::parse("1.3.0").expect("because it is a version");
//! let internal = BTreeSet::new();
//! let request = Request::new(&version, &internal);
//! let text = "[package]\nname = \"app\"\nversion = \"1.2.0\" # the release\n";
//! let updated = update(Kind::detect("Cargo.toml"), text, &request).expect("because it has a version");
//! assert_eq!(updated.text, "[package]\nname = \"app\"\nversion = \"1.3.0\" # the release\n");
//! assert_eq!(updated.changes[0].to_string(), "package.version: 1.2.0 → 1.3.0");
//! ```

mod cargo;
mod edit;
mod keypath;
mod markers;
mod npm;
mod plain;
mod python;
mod requirement;
#[cfg(test)]
mod tests;
mod yaml;

use std::collections::BTreeSet;
use std::fmt;

pub use markers::{MARKER, MARKER_BLOCK_END, MARKER_BLOCK_START};
pub use semver::Version;

/// What kind of version file a file is, and so which updater edits it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `Cargo.toml`: `[package].version`, `[workspace.package].version`, internal
    /// dependencies' requirements.
    CargoToml,
    /// `Cargo.lock`: the workspace members' entries.
    CargoLock,
    /// `package.json`: `version` and internal dependents' ranges.
    PackageJson,
    /// `package-lock.json` (v1, v2, v3) and `npm-shrinkwrap.json`.
    PackageLock,
    /// `pyproject.toml`: `[project].version` (PEP 621) or `[tool.poetry].version`.
    Pyproject,
    /// `setup.cfg`: `[metadata] version`.
    SetupCfg,
    /// `uv.lock`: the project's own entries.
    UvLock,
    /// Helm `Chart.yaml`: `version` (and `appVersion` when asked).
    ChartYaml,
    /// A file holding only the version (`VERSION`, `version.txt`).
    Plain,
    /// A Python file's `__version__ = "…"`.
    PythonVersion,
    /// Version markers on lines of any file (see [`MARKER`]).
    Markers,
    /// A key path (`a.b.0.c`) in a JSON, YAML or TOML file.
    KeyPath {
        /// The file's format.
        format: Format,
        /// The keys (and array indexes) from the root to the value.
        path: Vec<String>,
    },
}

/// The formats a key path can point into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// JSON.
    Json,
    /// YAML.
    Yaml,
    /// TOML.
    Toml,
}

impl Kind {
    /// The kind of a file by its name (the last path component, or a whole path): the
    /// known names, `*.py` for `__version__`, anything else is searched for markers.
    pub fn detect(path: &str) -> Kind {
        let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
        match name {
            "Cargo.toml" => Kind::CargoToml,
            "Cargo.lock" => Kind::CargoLock,
            "package.json" => Kind::PackageJson,
            "package-lock.json" | "npm-shrinkwrap.json" => Kind::PackageLock,
            "pyproject.toml" => Kind::Pyproject,
            "setup.cfg" => Kind::SetupCfg,
            "uv.lock" => Kind::UvLock,
            "Chart.yaml" => Kind::ChartYaml,
            "VERSION" | "version.txt" => Kind::Plain,
            _ if name.ends_with(".py") => Kind::PythonVersion,
            _ => Kind::Markers,
        }
    }

    /// A key path into a file, its format from the extension (`.json`, `.yaml`/`.yml`,
    /// `.toml`); `None` for another extension.
    pub fn key_path(path: &str, key: &str) -> Option<Kind> {
        let lower = path.to_ascii_lowercase();
        let format = if lower.ends_with(".json") {
            Format::Json
        } else if lower.ends_with(".yaml") || lower.ends_with(".yml") {
            Format::Yaml
        } else if lower.ends_with(".toml") {
            Format::Toml
        } else {
            return None;
        };
        Some(Kind::KeyPath {
            format,
            path: key.split('.').map(str::to_string).collect(),
        })
    }

    /// A short name for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::CargoToml => "Cargo.toml",
            Kind::CargoLock => "Cargo.lock",
            Kind::PackageJson => "package.json",
            Kind::PackageLock => "package-lock.json",
            Kind::Pyproject => "pyproject.toml",
            Kind::SetupCfg => "setup.cfg",
            Kind::UvLock => "uv.lock",
            Kind::ChartYaml => "Chart.yaml",
            Kind::Plain => "version file",
            Kind::PythonVersion => "__version__",
            Kind::Markers => "markers",
            Kind::KeyPath { .. } => "key path",
        }
    }
}

/// What to write.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    /// The new version.
    pub version: &'a Version,
    /// Only this package's version (and its dependents' requirements on it); `None`: every
    /// package in the files (one version for the whole repository).
    pub package: Option<&'a str>,
    /// The workspace's own packages (Cargo workspace members, npm workspace packages, uv
    /// workspace members): their dependents' requirements and lock entries are updated. For
    /// a lock file, the packages whose entries follow (those whose manifests give the new
    /// version); empty there means every workspace entry of a `package-lock.json`.
    pub internal: &'a BTreeSet<String>,
    /// Also write Helm's `appVersion`.
    pub app_version: bool,
    /// A Cargo workspace root elsewhere sets `[workspace.package].version`, so a member's
    /// `version.workspace = true` follows it (else that member is an error).
    pub workspace_version: bool,
}

impl<'a> Request<'a> {
    /// Every package at `version`, no Helm `appVersion`, no workspace version elsewhere.
    pub fn new(version: &'a Version, internal: &'a BTreeSet<String>) -> Self {
        Self {
            version,
            package: None,
            internal,
            app_version: false,
            workspace_version: false,
        }
    }

    /// Whether the package named `name` gets the new version.
    pub(crate) fn bumps(&self, name: Option<&str>) -> bool {
        match (self.package, name) {
            (None, _) => true,
            (Some(wanted), Some(name)) => same_name(wanted, name),
            (Some(_), None) => false,
        }
    }

    /// Whether requirements on the package named `name` follow the new version.
    pub(crate) fn bumps_dependency(&self, name: &str) -> bool {
        match self.package {
            Some(wanted) => same_name(wanted, name),
            None => self.internal.iter().any(|n| same_name(n, name)),
        }
    }
}

/// Package names compared as their registries do: exactly, or for Python with `-`, `_`
/// and `.` alike and case-insensitively (PEP 503).
fn same_name(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.chars()
            .map(|c| match c {
                '_' | '.' => '-',
                c => c.to_ascii_lowercase(),
            })
            .collect::<String>()
    };
    a == b || norm(a) == norm(b)
}

/// One value changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// Where: a key path (`package.version`, `dependencies.core`) or a line (`line 3`).
    pub key: String,
    /// The value before.
    pub old: String,
    /// The value after.
    pub new: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} → {}", self.key, self.old, self.new)
    }
}

/// A file's new text and what changed in it (empty when it already had the version).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Updated {
    /// The whole new text.
    pub text: String,
    /// The values changed, in file order.
    pub changes: Vec<Change>,
    /// Versions left as written because they follow another one (a Cargo member's
    /// `version.workspace = true`), for the report.
    pub notes: Vec<String>,
}

/// Why a file cannot be updated.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The file does not parse.
    #[error("not valid {format}: {message}")]
    Syntax {
        /// `TOML`, `JSON`, `YAML`.
        format: &'static str,
        /// The parser's message.
        message: String,
    },
    /// The version is computed, not written in this key.
    #[error("`{key}` is computed ({why}): write the version where it is defined")]
    Computed {
        /// The key.
        key: String,
        /// How it is computed.
        why: String,
    },
    /// The key holding the version is absent.
    #[error("no `{key}` in this file")]
    Missing {
        /// The key.
        key: String,
    },
    /// The key holds something other than a version string.
    #[error("`{key}` is not a version string: {found}")]
    NotAVersion {
        /// The key.
        key: String,
        /// What it holds.
        found: String,
    },
    /// A dependency requirement that the new version does not satisfy and that is not a
    /// plain pin to rewrite.
    #[error("`{key}` requires `{requirement}`, which {version} does not satisfy: widen it by hand")]
    Requirement {
        /// The dependency's key.
        key: String,
        /// The requirement as written.
        requirement: String,
        /// The new version.
        version: String,
    },
    /// `--package` names a package this file does not have.
    #[error("no package `{package}` in this file")]
    NoSuchPackage {
        /// The package asked for.
        package: String,
    },
    /// A file searched for markers has none.
    #[error(
        "no version marker: put `{MARKER}` (or `x-release-please-version`) on the version's line"
    )]
    NoMarker,
    /// A marker block is not closed.
    #[error("line {line}: `{start}` without a closing `{end}`")]
    OpenBlock {
        /// The opening line (1-based).
        line: usize,
        /// The opening marker.
        start: String,
        /// The closing marker.
        end: String,
    },
    /// A marked line (or a whole block) has nothing to replace.
    #[error("line {line}: a version marker with nothing to replace")]
    MarkerWithoutVersion {
        /// The line (1-based).
        line: usize,
    },
}

/// Writes `request.version` into `text`, a file of `kind`.
pub fn update(kind: Kind, text: &str, request: &Request<'_>) -> Result<Updated, Error> {
    // A byte order mark (editors on Windows write one) is kept, and parsers never see it.
    if let Some(rest) = text.strip_prefix('\u{feff}') {
        let mut updated = update(kind, rest, request)?;
        updated.text.insert(0, '\u{feff}');
        return Ok(updated);
    }
    match kind {
        Kind::CargoToml => cargo::manifest(text, request),
        Kind::CargoLock => cargo::lock(text, request),
        Kind::PackageJson => npm::package_json(text, request),
        Kind::PackageLock => npm::package_lock(text, request),
        Kind::Pyproject => python::pyproject(text, request),
        Kind::SetupCfg => python::setup_cfg(text, request),
        Kind::UvLock => python::uv_lock(text, request),
        Kind::PythonVersion => python::dunder_version(text, request),
        Kind::ChartYaml => yaml::chart(text, request),
        Kind::Plain => plain::version_file(text, request),
        Kind::Markers => markers::update(text, request),
        Kind::KeyPath { format, path } => keypath::update(format, &path, text, request),
    }
}

/// Names of packages a manifest declares, for the caller's internal set: `[package].name`
/// of a `Cargo.toml`, `name` of a `package.json`, `[project].name` or
/// `[tool.poetry].name` of a `pyproject.toml`. `None` when it declares none.
pub fn package_name(kind: &Kind, text: &str) -> Option<String> {
    match kind {
        Kind::CargoToml => cargo::package_name(text),
        Kind::PackageJson => npm::package_name(text),
        Kind::Pyproject => python::package_name(text),
        _ => None,
    }
}

/// The member globs of a `Cargo.toml`'s `[workspace] members`, a `package.json`'s
/// `workspaces` (array or `{ packages }`), or a `pyproject.toml`'s
/// `[tool.uv.workspace] members`; empty when it is no workspace root.
pub fn workspace_members(kind: &Kind, text: &str) -> Vec<String> {
    match kind {
        Kind::CargoToml => cargo::members(text),
        Kind::PackageJson => npm::members(text),
        Kind::Pyproject => python::members(text),
        _ => Vec::new(),
    }
}

/// How a `Cargo.toml` gives its package's version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ManifestVersion {
    /// Written in `[package].version`.
    Written(String),
    /// `version.workspace = true`: the workspace root's `[workspace.package].version`.
    Inherited,
}

/// A `Cargo.toml`'s `[package]` name and version; `None` without both.
pub fn cargo_package(text: &str) -> Option<(String, ManifestVersion)> {
    cargo::package(text)
}

/// A `package.json`'s `name` and `version`; `None` without a name.
pub fn package_json_version(text: &str) -> Option<(String, Option<String>)> {
    npm::name_and_version(text)
}

/// A `pyproject.toml`'s project name and written version (`[project]`, else
/// `[tool.poetry]`); `None` without a name.
pub fn pyproject_version(text: &str) -> Option<(String, Option<String>)> {
    python::name_and_version(text)
}

/// A `Cargo.toml`'s `[workspace.package].version`.
pub fn cargo_workspace_version(text: &str) -> Option<String> {
    cargo::workspace_version(text)
}

/// Whether a manifest is a workspace root: a `Cargo.toml` with a `[workspace]` table (or
/// one of its subtables), a `package.json` with `workspaces`, a `pyproject.toml` with
/// `[tool.uv.workspace]`.
pub fn is_workspace_root(kind: &Kind, text: &str) -> bool {
    match kind {
        Kind::CargoToml => cargo::parse(text).is_ok_and(|doc| doc.contains_key("workspace")),
        Kind::PackageJson | Kind::Pyproject => !workspace_members(kind, text).is_empty(),
        _ => false,
    }
}

/// Whether a `Cargo.toml` sets `[workspace.package].version` (so members inheriting it
/// follow the workspace root).
pub fn sets_workspace_version(text: &str) -> bool {
    cargo::sets_workspace_version(text)
}
