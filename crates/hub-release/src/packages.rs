//! The monorepo `packages` config, read the same way by semver-bump and release-pr.
//!
//! The config (input `packages`: a file path, or the config inline) lists packages, each
//! with a `name`, the `path`(s) it owns and a `tag-pattern` such as `api@{version}` or
//! `api-v{version}` (default `{name}@{version}`); optionally a `linked` group (packages
//! with the same group name share one version) and `version-files` (the package's files,
//! from the repository root, instead of those detected in its directory — release-pr's).
//! Each package's last release is found by [`crate::releases`]; then ONE
//! `git log --name-only` reads the commits since the oldest of those releases, and
//! [`assign`] gives each commit to the packages whose paths it touches and whose last
//! release does not already contain it.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use hub_conventional::TagPattern;
use hub_conventional::semver::Version;
use serde_json::{Map, Value};

use crate::Error;

/// One package of the config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Package {
    /// Its name (the key in the `packages` output).
    pub name: String,
    /// The paths it owns: a directory (everything below it) or a file; `.` is the whole
    /// repository.
    pub paths: Vec<String>,
    /// How its release tags are named.
    pub pattern: TagPattern,
    /// The linked group it belongs to (members share one version).
    pub linked: Option<String>,
    /// Its version files (from the repository root), when the config names them.
    pub version_files: Option<Vec<String>>,
}

impl Package {
    /// Whether a commit that changed `files` (paths from the repository root) touches it.
    pub fn touches(&self, files: &[String]) -> bool {
        self.paths.iter().any(|p| {
            p == "."
                || files.iter().any(|f| {
                    f == p
                        || f.strip_prefix(p.as_str())
                            .is_some_and(|r| r.starts_with('/'))
                })
        })
    }
}

/// The keys a package may have.
const KEYS: [&str; 6] = [
    "name",
    "path",
    "paths",
    "tag-pattern",
    "linked",
    "version-files",
];

/// Reads the `packages` input: a path to a `.yml`/`.yaml`/`.json`/`.toml` file (relative
/// to the repository), or the config itself inline (YAML or JSON).
pub fn load(input: &str, repo_root: &Path) -> Result<Vec<Package>, Error> {
    let input = input.trim();
    let inline = input.contains('\n') || input.starts_with(['[', '{', '-']);
    let (text, origin, toml) = if inline {
        (input.to_string(), "input `packages`".to_string(), false)
    } else {
        let path = repo_root.join(input);
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })?;
        let toml = path.extension().is_some_and(|e| e == "toml");
        (text, format!("`{}`", path.display()), toml)
    };
    let value = if toml {
        toml::from_str::<Value>(&text).map_err(|e| e.to_string())
    } else {
        yaml_value(&text)
    };
    value
        .and_then(|value| from_value(&value))
        .map_err(|message| Error::Config { origin, message })
}

fn from_value(value: &Value) -> Result<Vec<Package>, String> {
    let list = match value {
        Value::Array(list) => list,
        Value::Object(map) => match map.get("packages") {
            Some(Value::Array(list)) => list,
            _ => {
                return Err("expected a list of packages, or a `packages:` key holding one".into());
            }
        },
        _ => return Err("expected a list of packages".into()),
    };
    if list.is_empty() {
        return Err("the list of packages is empty".into());
    }
    let mut out: Vec<Package> = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let Value::Object(map) = item else {
            return Err(format!(
                "package {}: expected a mapping with `name`, `path` and `tag-pattern`",
                i + 1
            ));
        };
        let text = |key: &str| match map.get(key) {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
            None => Ok(None),
            Some(_) => Err(format!(
                "package {}: `{key}` must be a non-empty string",
                i + 1
            )),
        };
        let Some(name) = text("name")? else {
            return Err(format!("package {}: `name` is missing", i + 1));
        };
        // A name is logged, and is a key of the `packages` output: one line of text.
        if name.chars().any(char::is_control) {
            return Err(format!(
                "package {}: `name` holds a control character (a line break, say)",
                i + 1
            ));
        }
        if let Some(key) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(format!(
                "package `{name}`: unknown key `{key}` (expected {})",
                KEYS.join(", ")
            ));
        }
        let in_package = |e: String| format!("package `{name}`: {e}");
        let mut paths = Vec::new();
        for key in ["path", "paths"] {
            if let Some(value) = map.get(key) {
                paths.extend(strings(value, key).map_err(in_package)?);
            }
        }
        if paths.is_empty() {
            return Err(format!("package `{name}`: `path` is missing"));
        }
        let pattern = text("tag-pattern")?.unwrap_or_else(|| "{name}@{version}".into());
        let prefix = pattern.replace("{name}", &name);
        let Some(prefix) = prefix.strip_suffix("{version}") else {
            return Err(format!(
                "package `{name}`: `tag-pattern` must end with `{{version}}` (e.g. `{name}@{{version}}` or `{name}-v{{version}}`), got `{pattern}`"
            ));
        };
        if prefix.contains("{version}") || !crate::valid_tag_prefix(prefix) {
            return Err(format!(
                "package `{name}`: `tag-pattern` `{pattern}` does not give valid tag names"
            ));
        }
        if out.iter().any(|p| p.name == name) {
            return Err(format!("package `{name}` is listed twice"));
        }
        if let Some(other) = out.iter().find(|p| p.pattern.prefix == prefix) {
            return Err(format!(
                "packages `{}` and `{name}` have the same tag prefix `{prefix}`",
                other.name
            ));
        }
        let linked = text("linked")?;
        let version_files = match map.get("version-files") {
            None => None,
            Some(value) => Some(strings(value, "version-files").map_err(in_package)?),
        };
        out.push(Package {
            name,
            paths,
            pattern: TagPattern::new(prefix),
            linked,
            version_files,
        });
    }
    Ok(out)
}

/// A key holding one path or a list of them, each normalised ([`normalize_path`]).
fn strings(value: &Value, key: &str) -> Result<Vec<String>, String> {
    let list = match value {
        Value::String(s) => vec![s],
        Value::Array(a) => a
            .iter()
            .map(|p| match p {
                Value::String(s) => Ok(s),
                _ => Err(format!("`{key}` must hold strings")),
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(format!("`{key}` must be a string or a list")),
    };
    list.into_iter().map(|p| normalize_path(p)).collect()
}

/// A literal path from the repository root: no `..`, no absolute path, no glob.
fn normalize_path(p: &str) -> Result<String, String> {
    let p = p.trim().trim_start_matches("./").trim_end_matches('/');
    if p.is_empty() || p == "." {
        return Ok(".".into());
    }
    if p.starts_with('/') || p.split('/').any(|c| c == "..") {
        return Err(format!(
            "path `{p}` must be relative to the repository root, without `..`"
        ));
    }
    if p.contains(['*', '?', '[']) {
        return Err(format!(
            "path `{p}`: globs are not supported, list directories or files"
        ));
    }
    Ok(p.to_string())
}

/// YAML (and so JSON) to a value whose scalars are all strings: the config only holds
/// names, paths and patterns, so `1.0` or `no` stay exactly as written.
fn yaml_value(text: &str) -> Result<Value, String> {
    use saphyr_parser::{Event, Parser};
    let mut stack: Vec<(Value, Option<String>)> = Vec::new();
    let mut root: Option<Value> = None;
    let mut parser = Parser::new_from_str(text);
    let mut push = |stack: &mut Vec<(Value, Option<String>)>, v: Value| -> Result<(), String> {
        match stack.last_mut() {
            Some((Value::Array(a), _)) => a.push(v),
            Some((Value::Object(m), key)) => match key.take() {
                Some(k) => {
                    if m.insert(k.clone(), v).is_some() {
                        return Err(format!("duplicate key `{k}`"));
                    }
                }
                None => match v {
                    Value::String(k) => *key = Some(k),
                    _ => return Err("mapping keys must be plain strings".into()),
                },
            },
            Some(_) => return Err("unexpected structure".into()),
            None => {
                if root.is_some() {
                    return Err("expected one document".into());
                }
                root = Some(v);
            }
        }
        Ok(())
    };
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| e.to_string())?;
        match event {
            Event::Scalar(s, ..) => push(&mut stack, Value::String(s.to_string()))?,
            Event::SequenceStart(..) => stack.push((Value::Array(Vec::new()), None)),
            Event::MappingStart(..) => stack.push((Value::Object(Map::new()), None)),
            Event::SequenceEnd | Event::MappingEnd => {
                let (v, _) = stack.pop().ok_or("unbalanced document")?;
                push(&mut stack, v)?;
            }
            Event::Alias(_) => {
                return Err(format!(
                    "line {}: aliases are not supported here",
                    span.start.line()
                ));
            }
            _ => {}
        }
    }
    root.ok_or_else(|| "the config is empty".into())
}

/// For each package, the indexes of the log's commits that belong to it: commits its last
/// release (`base`, a commit id, `None` for no release) does not contain, touching its paths.
/// `parents` are the log's commits' parent ids; a walk from `base` through them marks what
/// the release already holds, so one log since the oldest release serves every package.
pub fn assign(
    ids: &[&str],
    parents: &[Vec<&str>],
    files: &[Vec<String>],
    packages: &[(&Package, Option<&str>)],
) -> Vec<Vec<usize>> {
    let index: HashMap<&str, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    packages
        .iter()
        .map(|(package, base)| {
            let mut released = vec![false; ids.len()];
            if let Some(&start) = base.and_then(|b| index.get(b)) {
                let mut stack = vec![start];
                while let Some(i) = stack.pop() {
                    if std::mem::replace(&mut released[i], true) {
                        continue;
                    }
                    stack.extend(parents[i].iter().filter_map(|p| index.get(p).copied()));
                }
            }
            (0..ids.len())
                .filter(|&i| !released[i] && package.touches(&files[i]))
                .collect()
        })
        .collect()
}

/// Linked groups levelled: every member of a group (`groups[i]`, the package's `linked`)
/// gets the highest next version among the group's members as soon as one member has one;
/// a package outside any group keeps its own (`versions[i]`, `None`: nothing to release).
pub fn level(groups: &[Option<&str>], versions: &[Option<Version>]) -> Vec<Option<Version>> {
    let mut highest: BTreeMap<&str, &Version> = BTreeMap::new();
    for (group, version) in groups.iter().zip(versions) {
        if let (Some(g), Some(v)) = (group, version) {
            let e = highest.entry(g).or_insert(v);
            if v > *e {
                *e = v;
            }
        }
    }
    groups
        .iter()
        .zip(versions)
        .map(|(group, own)| match group.and_then(|g| highest.get(g)) {
            Some(v) => Some((*v).clone()),
            None => own.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_inline(text: &str) -> Result<Vec<Package>, Error> {
        load(text, Path::new("/nonexistent"))
    }

    #[test]
    fn reads_yaml_json_and_defaults() {
        let yaml = "packages:\n  - name: api\n    path: packages/api/\n    tag-pattern: api-v{version}\n  - name: web\n    paths: [web, ./shared/ui]\n";
        let p = load_inline(yaml).unwrap();
        assert_eq!(p[0].pattern.prefix, "api-v");
        assert_eq!(p[0].paths, ["packages/api"]);
        assert_eq!(p[1].pattern.prefix, "web@");
        assert_eq!(p[1].paths, ["web", "shared/ui"]);
        assert_eq!(
            (p[0].linked.as_deref(), p[0].version_files.as_deref()),
            (None, None)
        );
        let json = r#"[{"name": "cli", "path": ".", "tag-pattern": "v{version}"}]"#;
        let p = load_inline(json).unwrap();
        assert_eq!(
            (p[0].paths[0].as_str(), p[0].pattern.prefix.as_str()),
            (".", "v")
        );
        assert!(p[0].touches(&[]));
        let linked = "- name: a\n  path: a\n  linked: g\n  version-files: [a/VERSION]\n";
        let p = load_inline(linked).unwrap();
        assert_eq!(p[0].linked.as_deref(), Some("g"));
        assert_eq!(
            p[0].version_files.as_deref(),
            Some(&["a/VERSION".to_string()][..])
        );
    }

    #[test]
    fn reads_a_toml_file_from_the_repository() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("packages.toml"),
            "[[packages]]\nname = \"api\"\npath = \"api\"\nversion-files = \"api/VERSION\"\n",
        )
        .unwrap();
        let p = load("packages.toml", dir.path()).unwrap();
        assert_eq!(p[0].name, "api");
        assert_eq!(p[0].version_files, Some(vec!["api/VERSION".to_string()]));
    }

    #[test]
    fn bad_configs_say_what_is_wrong() {
        for (text, want) in [
            (
                "- name: a\n",
                "input `packages`: package `a`: `path` is missing",
            ),
            ("- path: a\n", "`name` is missing"),
            (
                "- name: a\n  path: a\n  tag-pattern: '{version}-a'\n",
                "must end with `{version}`",
            ),
            (
                "- name: a\n  path: ../x\n",
                "package `a`: path `../x` must be relative to the repository root, without `..`",
            ),
            ("- name: a\n  path: 'a/*'\n", "globs are not supported"),
            (
                "- name: a\n  path: a\n  version-files: [../b]\n",
                "package `a`: path `../b` must be relative",
            ),
            (
                "- name: a\n  path: a\n  version-files: {x: y}\n",
                "package `a`: `version-files` must be a string or a list",
            ),
            (
                "- name: a\n  path: a\n- name: a\n  path: b\n",
                "listed twice",
            ),
            (
                "- name: a\n  path: a\n  tag-pattern: 'x@{version}'\n- name: b\n  path: b\n  tag-pattern: 'x@{version}'\n",
                "same tag prefix",
            ),
            (
                "- name: a\n  path: a\n  tag-pattern: 'a b@{version}'\n",
                "does not give valid tag names",
            ),
            (
                "- name: a\n  path: a\n  colour: red\n",
                "unknown key `colour` (expected name, path, paths, tag-pattern, linked, version-files)",
            ),
            ("[]", "empty"),
            ("- name: a\n  path: [a\n", "input `packages`"),
        ] {
            let e = load_inline(text).unwrap_err().to_string();
            assert!(e.contains(want), "{text:?}: {e}");
        }
        let e = load("missing.yml", Path::new("/nonexistent")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "input `packages`: cannot read `/nonexistent/missing.yml`"
        );
        assert!(matches!(e, Error::Read { .. }));
    }

    #[test]
    fn commits_go_to_the_packages_they_touch_since_each_release() {
        let p = |name: &str, path: &str| Package {
            name: name.into(),
            paths: vec![path.into()],
            pattern: TagPattern::new(format!("{name}@")),
            linked: None,
            version_files: None,
        };
        let (api, web) = (p("api", "api"), p("web", "web"));
        // d -> c -> b -> a (a oldest); api released at b, web never.
        let ids = ["d", "c", "b", "a"];
        let parents = vec![vec!["c"], vec!["b"], vec!["a"], vec![]];
        let files: Vec<Vec<String>> = [
            vec!["api/x", "web/y"],
            vec!["apiary/z"],
            vec!["api/y"],
            vec!["web/index"],
        ]
        .iter()
        .map(|f| f.iter().map(|s| s.to_string()).collect())
        .collect();
        let got = assign(&ids, &parents, &files, &[(&api, Some("b")), (&web, None)]);
        assert_eq!(got, vec![vec![0], vec![0, 3]]);
    }

    #[test]
    fn a_linked_group_shares_its_highest_next_version() {
        let v = |s: &str| Some(Version::parse(s).unwrap());
        let groups = [Some("g"), Some("g"), None, Some("h"), Some("g")];
        let versions = [v("1.3.0"), v("2.0.0"), v("0.4.1"), None, None];
        assert_eq!(
            level(&groups, &versions),
            [v("2.0.0"), v("2.0.0"), v("0.4.1"), None, v("2.0.0")]
        );
    }
}
