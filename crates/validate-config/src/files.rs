//! Which files to check: named files as given, globs and folders through a `.gitignore`-aware
//! walk of the working directory (hidden folders such as `.github` included, `.git` skipped).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSetBuilder};

use hub_kit::cli::UsageError;

/// The glob used when no file or glob is given.
pub const DEFAULT_GLOB: &str = "**/*.{yml,yaml,json,jsonc,toml}";

/// A file to check.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Found {
    /// Path for reports and annotations: relative to the working directory, `/` separators.
    pub path: String,
    /// Path to open.
    pub full: PathBuf,
}

fn relative(root: &Path, full: &Path) -> String {
    let rel = full.strip_prefix(root).unwrap_or(full);
    let parts: Vec<String> = rel
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

/// Expands `patterns` (files, folders, globs) under `root`, sorted by path. A pattern that
/// names nothing is a usage error, so a mistyped path cannot turn a check green.
#[cfg(test)]
pub fn discover(root: &Path, patterns: &[String]) -> Result<Vec<Found>, UsageError> {
    let mut found = Vec::new();
    discover_each(root, patterns, None, |file| found.push(file))?;
    found.sort();
    Ok(found)
}

/// Like [`discover`], but hands each file to `found` as soon as it is known, in walk order
/// (named files first), each path once, so the files can be checked while the walk goes on.
/// The usage error for a pattern that names nothing comes at the end. `schema`, the one
/// schema every file is checked against, is left out of the walk (checked against itself it
/// gives only noise); named, it is checked.
pub fn discover_each(
    root: &Path,
    patterns: &[String],
    schema: Option<&str>,
    mut found: impl FnMut(Found),
) -> Result<(), UsageError> {
    let schema = schema
        .filter(|s| !s.contains("://"))
        .map(|s| relative(root, &root.join(s.trim_start_matches("./"))));
    let defaulted = patterns.is_empty();
    let patterns: Vec<String> = if defaulted {
        vec![DEFAULT_GLOB.to_owned()]
    } else {
        patterns.to_vec()
    };
    // Paths of the named files, so neither a repeated name nor a glob yields one twice (the
    // walk itself yields each path once).
    let mut named: HashSet<String> = HashSet::new();
    // Each glob with the pattern it came from and whether that pattern was a folder.
    let mut globs: Vec<(String, globset::GlobMatcher, bool)> = Vec::new();
    for pattern in &patterns {
        let trimmed = pattern.trim_start_matches("./");
        let candidate = root.join(trimmed);
        if candidate.is_file() {
            let path = relative(root, &candidate);
            if named.insert(path.clone()) {
                found(Found {
                    path,
                    full: candidate,
                });
            }
            continue;
        }
        let folder = candidate.is_dir();
        let glob = if folder {
            let dir = trimmed.trim_end_matches('/');
            if dir.is_empty() || dir == "." {
                DEFAULT_GLOB.to_owned()
            } else {
                format!("{dir}/{DEFAULT_GLOB}")
            }
        } else {
            trimmed.to_owned()
        };
        let matcher = GlobBuilder::new(&glob)
            .literal_separator(true)
            .build()
            .map_err(|e| UsageError(format!("`{pattern}` is not a valid glob: {e}")))?
            .compile_matcher();
        globs.push((pattern.clone(), matcher, folder));
    }
    if !globs.is_empty() {
        let mut set = GlobSetBuilder::new();
        for (_, matcher, _) in &globs {
            set.add(matcher.glob().clone());
        }
        let set = set
            .build()
            .map_err(|e| UsageError(format!("globs cannot be combined: {e}")))?;
        let mut matched = vec![false; globs.len()];
        // Descend only towards and below the folder every glob starts with (`files/*.json` →
        // `files`), not into the whole working directory; the walk still starts at the root, so
        // `.gitignore` rules apply on the way down exactly as before.
        let base = PathBuf::from(common_base(globs.iter().map(|(_, m, _)| m.glob().glob())));
        let walk_root = root.to_owned();
        let walker = ignore::WalkBuilder::new(root)
            .hidden(false)
            .require_git(false)
            .filter_entry(move |entry| {
                if entry.file_name() == ".git" {
                    return false;
                }
                let rel = entry
                    .path()
                    .strip_prefix(&walk_root)
                    .unwrap_or(entry.path());
                rel.starts_with(&base) || base.starts_with(rel)
            })
            .build();
        for entry in walker.flatten() {
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                continue;
            }
            let path = relative(root, entry.path());
            let hits = set.matches(&path);
            if hits.is_empty() {
                continue;
            }
            for hit in hits {
                matched[hit] = true;
            }
            if named.contains(&path) || schema.as_ref() == Some(&path) {
                continue;
            }
            found(Found {
                path,
                full: entry.into_path(),
            });
        }
        let unmatched = matched.iter().position(|m| !m).filter(|_| !defaulted);
        if let Some(index) = unmatched {
            let (pattern, _, folder) = &globs[index];
            let what = if *folder {
                format!(
                    "no YAML, JSON or TOML file (`.yml`, `.yaml`, `.json`, `.jsonc`, `.toml`) in `{pattern}`"
                )
            } else {
                format!("no file matches `{pattern}`")
            };
            return Err(UsageError(format!(
                "{what} (git-ignored paths are skipped: name a file to check it anyway)"
            )));
        }
    }
    Ok(())
}

/// The folder (`/`-separated, relative) that every glob's matches lie in: the leading path
/// components without glob syntax that all globs share (`""` for the working directory).
fn common_base<'a>(globs: impl Iterator<Item = &'a str>) -> String {
    let mut common: Option<Vec<&str>> = None;
    for glob in globs {
        let parts: Vec<&str> = glob.split('/').collect();
        // The last component names files, never the folder to walk.
        let literal: Vec<&str> = parts[..parts.len() - 1]
            .iter()
            .copied()
            .take_while(|part| {
                !part.is_empty()
                    && *part != "."
                    && *part != ".."
                    && !part.contains(['*', '?', '[', ']', '{', '}', '\\'])
            })
            .collect();
        common = Some(match common {
            None => literal,
            Some(before) => before
                .iter()
                .zip(&literal)
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| *a)
                .collect(),
        });
    }
    common.unwrap_or_default().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(files: &[&str], gitignore: &str, patterns: &[&str]) -> Result<Vec<String>, String> {
        let dir = tempfile::tempdir().expect("because a temp dir can be made");
        for file in files {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().expect("because files are in the temp dir"))
                .expect("because the folder can be made");
            std::fs::write(&path, "a: 1\n").expect("because the file can be written");
        }
        std::fs::write(dir.path().join(".gitignore"), gitignore)
            .expect("because it can be written");
        let patterns: Vec<String> = patterns.iter().map(|p| (*p).to_owned()).collect();
        discover(dir.path(), &patterns)
            .map(|found| found.into_iter().map(|f| f.path).collect())
            .map_err(|e| e.0)
    }

    #[test]
    fn default_glob_includes_hidden_folders_and_honours_gitignore() {
        let files = [
            ".github/workflows/ci.yml",
            "config.toml",
            "data/a.json",
            "target/out.json",
            ".git/config.yml",
            "README.md",
        ];
        assert_eq!(
            check(&files, "target/\n", &[]),
            Ok(vec![
                ".github/workflows/ci.yml".to_owned(),
                "config.toml".to_owned(),
                "data/a.json".to_owned(),
            ])
        );
    }

    #[test]
    fn the_walk_starts_where_all_globs_agree() {
        let base = |globs: &[&str]| common_base(globs.iter().copied());
        assert_eq!(base(&["files/*.json"]), "files");
        assert_eq!(base(&["a/b/*.yml", "a/b/c/**/*.json"]), "a/b");
        assert_eq!(base(&["a/b/*.yml", "a/c/*.yml"]), "a");
        assert_eq!(base(&["a/*.yml", "**/*.json"]), "");
        assert_eq!(base(&["conf{ig,}/*.yml"]), "");
        assert_eq!(base(&["x.json"]), "");
        // An ignored folder stays ignored when a glob starts inside it.
        let files = ["keep/a.yml", "skip/b.yml", "skip/deeper/c.yml"];
        assert_eq!(
            check(&files, "skip/\n", &["skip/**/*.yml", "keep/*.yml"]),
            Err("no file matches `skip/**/*.yml` (git-ignored paths are skipped: name a file to check it anyway)".to_owned())
        );
        assert_eq!(
            check(&files, "", &["skip/**/*.yml"]),
            Ok(vec![
                "skip/b.yml".to_owned(),
                "skip/deeper/c.yml".to_owned()
            ])
        );
    }

    #[test]
    fn named_files_folders_and_globs() {
        let files = ["a/x.yml", "a/b/y.yaml", "ignored/z.yml", "c.conf"];
        assert_eq!(
            check(&files, "ignored/\n", &["a", "ignored/z.yml", "./c.conf"]),
            Ok(vec![
                "a/b/y.yaml".to_owned(),
                "a/x.yml".to_owned(),
                "c.conf".to_owned(),
                "ignored/z.yml".to_owned(),
            ])
        );
        assert_eq!(
            check(&files, "", &["a/*.yml"]),
            Ok(vec!["a/x.yml".to_owned()])
        );
    }

    #[test]
    fn a_file_named_twice_or_also_globbed_is_found_once() {
        let files = ["a/x.yml", "a/y.yml"];
        assert_eq!(
            check(&files, "", &["a/x.yml", "./a/x.yml", "a/*.yml", "a"]),
            Ok(vec!["a/x.yml".to_owned(), "a/y.yml".to_owned()])
        );
    }

    #[test]
    fn a_pattern_that_matches_nothing_is_a_usage_error() {
        assert_eq!(
            check(&["a.yml"], "", &["conf/*.yml"]),
            Err("no file matches `conf/*.yml` (git-ignored paths are skipped: name a file to check it anyway)".to_owned())
        );
        // A folder that exists says what it lacks, rather than that nothing matches it.
        assert_eq!(
            check(&["docs/a.md", "dist/b.json"], "dist/\n", &["docs"]),
            Err("no YAML, JSON or TOML file (`.yml`, `.yaml`, `.json`, `.jsonc`, `.toml`) in `docs` (git-ignored paths are skipped: name a file to check it anyway)".to_owned())
        );
        assert_eq!(
            check(&["docs/a.md", "dist/b.json"], "dist/\n", &["dist/"]),
            Err("no YAML, JSON or TOML file (`.yml`, `.yaml`, `.json`, `.jsonc`, `.toml`) in `dist/` (git-ignored paths are skipped: name a file to check it anyway)".to_owned())
        );
    }
}
