//! The workspaces the given files belong to: which packages are internal (Cargo workspace
//! members, npm workspace packages, uv workspace members), read from the manifests on
//! disk, so the engine can update dependents' requirements and lock entries. A run reads
//! the disk once through a [`Disk`]: each file, each workspace root and each member glob is
//! learnt the first time it is asked for and shared by every package and pass after that.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use globset::{GlobBuilder, GlobSetBuilder};
use hub_version_files::{
    Kind, is_workspace_root, package_name, sets_workspace_version, workspace_members,
};

/// A workspace's directory and its member globs.
type Globs = (PathBuf, Vec<String>);

/// What the disk holds, read once per run: files' texts, canonical paths, workspace roots,
/// the names a root's workspace declares and the directories its member globs match. The
/// disk is not written while a run plans (its edits are kept in memory until then), so
/// nothing learnt goes stale.
#[derive(Debug, Default)]
pub struct Disk {
    texts: RefCell<HashMap<PathBuf, Option<Rc<str>>>>,
    canonical: RefCell<HashMap<PathBuf, Option<PathBuf>>>,
    roots: RefCell<HashMap<(PathBuf, &'static str), Option<PathBuf>>>,
    learnt: RefCell<HashMap<PathBuf, Rc<BTreeSet<String>>>>,
    members: RefCell<HashMap<Globs, Rc<[PathBuf]>>>,
    /// How many files were read from the disk (each at most once; counted for the tests).
    reads: Cell<usize>,
}

impl Disk {
    /// A file's text (`None`: not a readable UTF-8 file), read the first time only.
    pub fn text(&self, path: &Path) -> Option<Rc<str>> {
        if let Some(known) = self.texts.borrow().get(path) {
            return known.clone();
        }
        self.reads.set(self.reads.get() + 1);
        let text: Option<Rc<str>> = std::fs::read_to_string(path).ok().map(Rc::from);
        self.texts
            .borrow_mut()
            .insert(path.to_path_buf(), text.clone());
        text
    }

    /// `Path::canonicalize`, asked once per path.
    pub fn canonical(&self, path: &Path) -> Option<PathBuf> {
        if let Some(known) = self.canonical.borrow().get(path) {
            return known.clone();
        }
        let canonical = path.canonicalize().ok();
        self.canonical
            .borrow_mut()
            .insert(path.to_path_buf(), canonical.clone());
        canonical
    }

    /// How many files were read from the disk so far.
    #[cfg(test)]
    pub fn reads(&self) -> usize {
        self.reads.get()
    }

    /// A manifest's package name.
    fn read_name(&self, manifest: &Path, kind: &Kind) -> Option<String> {
        package_name(kind, &self.text(manifest)?)
    }

    /// The nearest `manifest` in `dir` or above that declares a workspace.
    fn find_root(&self, dir: &Path, manifest: &'static str, kind: &Kind) -> Option<PathBuf> {
        let start = self.canonical(dir)?;
        let key = (start, manifest);
        if let Some(known) = self.roots.borrow().get(&key) {
            return known.clone();
        }
        let found = key.0.ancestors().find_map(|ancestor| {
            let candidate = ancestor.join(manifest);
            let text = self.text(&candidate)?;
            is_workspace_root(kind, &text).then_some(candidate)
        });
        self.roots.borrow_mut().insert(key, found.clone());
        found
    }

    /// The directories under `root` matching the member globs, listed once per globs.
    fn expand(&self, root: &Path, patterns: Vec<String>) -> Rc<[PathBuf]> {
        let key = (root.to_path_buf(), patterns);
        if let Some(known) = self.members.borrow().get(&key) {
            return known.clone();
        }
        let found: Rc<[PathBuf]> = expand(root, &key.1).into();
        self.members.borrow_mut().insert(key, found.clone());
        found
    }

    /// The root's own name and its members' names, read once per root.
    fn learn(&self, root: &Path, kind: &Kind, manifest: &str) -> Rc<BTreeSet<String>> {
        if let Some(known) = self.learnt.borrow().get(root) {
            return known.clone();
        }
        let mut names = BTreeSet::new();
        if let Some(name) = self.read_name(root, kind) {
            names.insert(name);
        }
        let text = self.text(root).unwrap_or_default();
        for member in self
            .expand(&parent(root), workspace_members(kind, &text))
            .iter()
        {
            if let Some(name) = self.read_name(&member.join(manifest), kind) {
                names.insert(name);
            }
        }
        let names = Rc::new(names);
        self.learnt
            .borrow_mut()
            .insert(root.to_path_buf(), names.clone());
        names
    }

    /// The manifests named `manifest` of the workspace at `root`: the root's and each
    /// member's that is a readable file.
    fn manifests(&self, root: PathBuf, kind: &Kind, manifest: &str) -> Vec<PathBuf> {
        let text = self.text(&root).unwrap_or_default();
        let members = self.expand(&parent(&root), workspace_members(kind, &text));
        let mut manifests = vec![root];
        for member in members.iter() {
            let path = member.join(manifest);
            if self.text(&path).is_some() {
                manifests.push(path);
            }
        }
        manifests
    }
}

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
pub fn cargo_workspace_of(disk: &Disk, lock: &Path) -> Option<CargoWorkspace> {
    let dir = parent(lock);
    let root = disk
        .find_root(&dir, "Cargo.toml", &Kind::CargoToml)
        .or_else(|| Some(dir.join("Cargo.toml")))
        .filter(|root| disk.text(root).is_some())?;
    let manifests = disk.manifests(root.clone(), &Kind::CargoToml, "Cargo.toml");
    Some(CargoWorkspace { root, manifests })
}

impl Workspaces {
    /// Learns the workspaces of `files` (each as given, with its kind), through `disk`.
    pub fn discover(disk: &Disk, files: &[(PathBuf, Kind)]) -> Self {
        let mut ws = Workspaces::default();
        for (path, kind) in files {
            if let Some(canonical) = disk.canonical(path) {
                ws.given.insert(canonical);
            }
            let dir = parent(path);
            let (manifest, manifest_kind) = match kind {
                Kind::CargoToml | Kind::CargoLock => ("Cargo.toml", Kind::CargoToml),
                Kind::PackageJson | Kind::PackageLock => ("package.json", Kind::PackageJson),
                Kind::Pyproject | Kind::UvLock => ("pyproject.toml", Kind::Pyproject),
                _ => continue,
            };
            let own = dir.join(manifest);
            if let Some(name) = disk.read_name(&own, &manifest_kind) {
                ws.internal.insert(name);
            }
            let root = match manifest_kind {
                Kind::Pyproject => Some(own).filter(|m| disk.text(m).is_some()),
                _ => disk.find_root(&dir, manifest, &manifest_kind),
            };
            let Some(root) = root else { continue };
            ws.internal
                .extend(disk.learn(&root, &manifest_kind, manifest).iter().cloned());
            if manifest_kind == Kind::CargoToml
                && sets_workspace_version(&disk.text(&root).unwrap_or_default())
                && let Some(canonical) = disk.canonical(&root)
            {
                ws.versioned_cargo_roots.insert(canonical);
            }
        }
        ws
    }

    /// Whether a Cargo member at `path` inherits a workspace version that this run writes:
    /// its workspace root sets `[workspace.package].version` and is among the given files.
    pub fn writes_workspace_version_for(&self, disk: &Disk, path: &Path) -> bool {
        disk.find_root(&parent(path), "Cargo.toml", &Kind::CargoToml)
            .and_then(|root| disk.canonical(&root))
            .is_some_and(|root| {
                self.versioned_cargo_roots.contains(&root) && self.given.contains(&root)
            })
    }
}

/// The `package.json` files of a `package-lock.json`'s project: the one next to it and its
/// workspace packages'.
pub fn npm_manifests_of(disk: &Disk, lock: &Path) -> Option<Vec<PathBuf>> {
    let root = parent(lock).join("package.json");
    disk.text(&root)?;
    Some(disk.manifests(root, &Kind::PackageJson, "package.json"))
}

/// The `pyproject.toml` files of a `uv.lock`'s project: the one next to it and its uv
/// workspace members'.
pub fn uv_manifests_of(disk: &Disk, lock: &Path) -> Option<Vec<PathBuf>> {
    let root = parent(lock).join("pyproject.toml");
    disk.text(&root)?;
    Some(disk.manifests(root, &Kind::Pyproject, "pyproject.toml"))
}

/// The directory of a file as given (`.` for a bare name).
fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
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
