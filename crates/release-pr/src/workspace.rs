//! The workspaces the given files belong to: which packages are internal (Cargo workspace
//! members, npm workspace packages, uv workspace members), read from the manifests on
//! disk, so the engine can update dependents' requirements and lock entries.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSetBuilder};
use hub_version_files::{
    Kind, is_workspace_root, package_name, sets_workspace_version, workspace_members,
};

/// What the files' workspaces tell.
#[derive(Debug, Default)]
pub struct Workspaces {
    /// Names of the internal packages.
    pub internal: BTreeSet<String>,
    /// Cargo workspace roots (canonical paths) that set `[workspace.package].version`.
    versioned_cargo_roots: BTreeSet<PathBuf>,
    /// The given files, canonical.
    given: BTreeSet<PathBuf>,
}

/// A Cargo workspace (or a single package): its root manifest and every member's manifest
/// (the root's own included when it has a `[package]`).
#[derive(Debug)]
pub struct CargoWorkspace {
    /// The root `Cargo.toml`.
    pub root: PathBuf,
    /// The members' `Cargo.toml` files.
    pub manifests: Vec<PathBuf>,
}

/// The Cargo workspace of a `Cargo.lock`: the workspace root next to it or above, else the
/// single package's `Cargo.toml` next to it.
pub fn cargo_workspace_of(lock: &Path) -> Option<CargoWorkspace> {
    let dir = parent(lock);
    let root = find_root(&dir, "Cargo.toml", &Kind::CargoToml)
        .or_else(|| Some(dir.join("Cargo.toml")).filter(|p| p.is_file()))?;
    let text = std::fs::read_to_string(&root).ok()?;
    let mut manifests = vec![root.clone()];
    for member in expand(&parent(&root), &workspace_members(&Kind::CargoToml, &text)) {
        let manifest = member.join("Cargo.toml");
        if manifest.is_file() {
            manifests.push(manifest);
        }
    }
    Some(CargoWorkspace { root, manifests })
}

impl Workspaces {
    /// Learns the workspaces of `files` (each as given, with its kind).
    pub fn discover(files: &[(PathBuf, Kind)]) -> Self {
        let mut ws = Workspaces::default();
        for (path, kind) in files {
            if let Ok(canonical) = path.canonicalize() {
                ws.given.insert(canonical);
            }
            let dir = parent(path);
            match kind {
                Kind::CargoToml | Kind::CargoLock => {
                    if let Some(name) = read_name(&dir.join("Cargo.toml"), &Kind::CargoToml) {
                        ws.internal.insert(name);
                    }
                    if let Some(root) = find_root(&dir, "Cargo.toml", &Kind::CargoToml) {
                        ws.learn(&root, &Kind::CargoToml, "Cargo.toml");
                        let text = std::fs::read_to_string(&root).unwrap_or_default();
                        if sets_workspace_version(&text)
                            && let Ok(canonical) = root.canonicalize()
                        {
                            ws.versioned_cargo_roots.insert(canonical);
                        }
                    }
                }
                Kind::PackageJson | Kind::PackageLock => {
                    if let Some(name) = read_name(&dir.join("package.json"), &Kind::PackageJson) {
                        ws.internal.insert(name);
                    }
                    if let Some(root) = find_root(&dir, "package.json", &Kind::PackageJson) {
                        ws.learn(&root, &Kind::PackageJson, "package.json");
                    }
                }
                Kind::Pyproject | Kind::UvLock => {
                    let manifest = dir.join("pyproject.toml");
                    if let Some(name) = read_name(&manifest, &Kind::Pyproject) {
                        ws.internal.insert(name);
                    }
                    if manifest.is_file() {
                        ws.learn(&manifest, &Kind::Pyproject, "pyproject.toml");
                    }
                }
                _ => {}
            }
        }
        ws
    }

    /// Whether a Cargo member at `path` inherits a workspace version that this run writes:
    /// its workspace root sets `[workspace.package].version` and is among the given files.
    pub fn writes_workspace_version_for(&self, path: &Path) -> bool {
        find_root(&parent(path), "Cargo.toml", &Kind::CargoToml)
            .and_then(|root| root.canonicalize().ok())
            .is_some_and(|root| {
                self.versioned_cargo_roots.contains(&root) && self.given.contains(&root)
            })
    }

    /// Adds the root's own name and its members' names.
    fn learn(&mut self, root: &Path, kind: &Kind, manifest: &str) {
        if let Some(name) = read_name(root, kind) {
            self.internal.insert(name);
        }
        let text = std::fs::read_to_string(root).unwrap_or_default();
        let patterns = workspace_members(kind, &text);
        for member in expand(&parent(root), &patterns) {
            if let Some(name) = read_name(&member.join(manifest), kind) {
                self.internal.insert(name);
            }
        }
    }
}

/// The `package.json` files of a `package-lock.json`'s project: the one next to it and its
/// workspace packages'.
pub fn npm_manifests_of(lock: &Path) -> Option<Vec<PathBuf>> {
    let dir = parent(lock);
    let root = dir.join("package.json");
    let text = std::fs::read_to_string(&root).ok()?;
    let mut manifests = vec![root];
    for member in expand(&dir, &workspace_members(&Kind::PackageJson, &text)) {
        let manifest = member.join("package.json");
        if manifest.is_file() {
            manifests.push(manifest);
        }
    }
    Some(manifests)
}

/// The `pyproject.toml` files of a `uv.lock`'s project: the one next to it and its uv
/// workspace members'.
pub fn uv_manifests_of(lock: &Path) -> Option<Vec<PathBuf>> {
    let dir = parent(lock);
    let root = dir.join("pyproject.toml");
    let text = std::fs::read_to_string(&root).ok()?;
    let mut manifests = vec![root];
    for member in expand(&dir, &workspace_members(&Kind::Pyproject, &text)) {
        let manifest = member.join("pyproject.toml");
        if manifest.is_file() {
            manifests.push(manifest);
        }
    }
    Some(manifests)
}

/// The directory of a file as given (`.` for a bare name).
fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn read_name(manifest: &Path, kind: &Kind) -> Option<String> {
    let text = std::fs::read_to_string(manifest).ok()?;
    package_name(kind, &text)
}

/// The nearest `manifest` in `dir` or above that declares a workspace.
fn find_root(dir: &Path, manifest: &str, kind: &Kind) -> Option<PathBuf> {
    let start = dir.canonicalize().ok()?;
    for ancestor in start.ancestors() {
        let candidate = ancestor.join(manifest);
        let Ok(text) = std::fs::read_to_string(&candidate) else {
            continue;
        };
        if is_workspace_root(kind, &text) {
            return Some(candidate);
        }
    }
    None
}

/// The directories under `root` matching the member globs (`crates/*`, `packages/**`);
/// `!`-negated globs are dropped from the result.
fn expand(root: &Path, patterns: &[String]) -> Vec<PathBuf> {
    let mut include = GlobSetBuilder::new();
    let mut exclude = GlobSetBuilder::new();
    let mut depth = 1;
    for pattern in patterns {
        let (set, pattern) = match pattern.strip_prefix('!') {
            Some(p) => (&mut exclude, p),
            None => (&mut include, pattern.as_str()),
        };
        let pattern = pattern.trim_start_matches("./").trim_end_matches('/');
        depth = depth.max(if pattern.contains("**") {
            6
        } else {
            pattern.split('/').count()
        });
        if let Ok(glob) = GlobBuilder::new(pattern).literal_separator(true).build() {
            set.add(glob);
        }
    }
    let (Ok(include), Ok(exclude)) = (include.build(), exclude.build()) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let mut queue = vec![(root.to_path_buf(), String::new(), 0)];
    while let Some((dir, rel, level)) = queue.pop() {
        if level >= depth {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || name == "node_modules" || name == "target" {
                continue;
            }
            if !entry.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let rel = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            if include.is_match(&rel) && !exclude.is_match(&rel) {
                found.push(entry.path());
            }
            queue.push((entry.path(), rel, level + 1));
        }
    }
    found.sort();
    found
}
