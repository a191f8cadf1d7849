//! `Cargo.toml` and `Cargo.lock`.

use std::collections::BTreeMap;

use toml_edit::{Document, Item, TableLike};

use crate::edit::Edits;
use crate::requirement::{self, Outcome};
use crate::{Error, Request, Updated};

/// A TOML document with the byte range of every value.
pub(crate) fn parse(text: &str) -> Result<Document<&str>, Error> {
    Document::parse(text).map_err(|e| {
        let line = e.span().map_or(1, |span| {
            text[..span.start.min(text.len())].matches('\n').count() + 1
        });
        Error::Syntax {
            format: "TOML",
            message: format!(
                "line {line}: {}",
                e.message().trim_end().replace('\n', ", ")
            ),
        }
    })
}

/// Writes `new` into the string at `item` (the value of `key`); an error when it is no
/// string.
pub(crate) fn set_string(
    edits: &mut Edits,
    text: &str,
    key: &str,
    item: &Item,
    new: &str,
) -> Result<(), Error> {
    let value = item.as_value().filter(|v| v.is_str());
    let Some(span) = value.and_then(toml_edit::Value::span) else {
        return Err(Error::NotAVersion {
            key: key.to_string(),
            found: describe(item),
        });
    };
    edits.replace_quoted(text, key, span, new);
    Ok(())
}

/// A short description of what a TOML item holds, for messages.
pub(crate) fn describe(item: &Item) -> String {
    match item {
        Item::Value(v) => {
            let raw = v.to_string();
            let raw = raw.trim();
            match raw.char_indices().nth(60) {
                Some((cut, _)) => format!("`{}…`", &raw[..cut]),
                None => format!("`{raw}`"),
            }
        }
        Item::Table(_) => "a table".to_string(),
        Item::ArrayOfTables(_) => "an array of tables".to_string(),
        Item::None => "nothing".to_string(),
    }
}

/// `Cargo.toml`: the package's version, the workspace's version, and internal
/// dependencies' requirements.
pub(crate) fn manifest(text: &str, request: &Request<'_>) -> Result<Updated, Error> {
    let doc = parse(text)?;
    let root = doc.as_table();
    let new = request.version.to_string();
    let mut edits = Edits::default();

    let workspace_version = root
        .get("workspace")
        .and_then(|w| w.get("package"))
        .and_then(|p| p.get("version"));
    if let Some(item) = workspace_version
        && request.package.is_none()
    {
        set_string(&mut edits, text, "workspace.package.version", item, &new)?;
    }

    // With `--package`, the file must have that package or a dependency on it, or be the
    // workspace root holding it.
    let mut mentioned = root.contains_key("workspace");
    if let Some(package) = root.get("package") {
        let name = package.get("name").and_then(Item::as_str);
        if request.bumps(name) {
            mentioned = true;
            match package.get("version") {
                None => {
                    return Err(Error::Missing {
                        key: "package.version".into(),
                    });
                }
                Some(item) if item.is_str() => {
                    set_string(&mut edits, text, "package.version", item, &new)?;
                }
                Some(item) if item.get("workspace").and_then(Item::as_bool) == Some(true) => {
                    if request.package.is_some() {
                        return Err(Error::Computed {
                            key: "package.version".into(),
                            why:
                                "`version.workspace = true` follows `[workspace.package].version`, \
                                  which every inheriting member shares; set it without `--package`"
                                    .into(),
                        });
                    }
                    if workspace_version.is_none() && !request.workspace_version {
                        return Err(Error::Computed {
                            key: "package.version".into(),
                            why: "`version.workspace = true`, but no workspace root with \
                                  `[workspace.package].version` is given"
                                .into(),
                        });
                    }
                    edits.note("`package.version` follows `[workspace.package].version`");
                }
                Some(item) => {
                    return Err(Error::NotAVersion {
                        key: "package.version".into(),
                        found: describe(item),
                    });
                }
            }
        }
    }

    for (prefix, table) in dependency_tables(root) {
        let workspace = prefix == "workspace.dependencies";
        for (key, item) in table.iter() {
            let Some(dep) = item.as_table_like() else {
                continue;
            };
            if !workspace && !dep.contains_key("path") {
                continue;
            }
            let name = dep.get("package").and_then(Item::as_str).unwrap_or(key);
            if !request.bumps_dependency(name) {
                continue;
            }
            mentioned = true;
            let Some(version) = dep.get("version") else {
                continue;
            };
            let key = format!("{prefix}.{key}.version");
            let Some(old) = version.as_str() else {
                return Err(Error::NotAVersion {
                    found: describe(version),
                    key,
                });
            };
            match requirement::cargo(old, request.version) {
                Outcome::Keep => {}
                Outcome::Rewrite(req) => set_string(&mut edits, text, &key, version, &req)?,
                Outcome::Unsatisfied => {
                    return Err(Error::Requirement {
                        key,
                        requirement: old.to_string(),
                        version: new,
                    });
                }
            }
        }
    }
    if let Some(package) = request.package
        && !mentioned
    {
        return Err(Error::NoSuchPackage {
            package: package.to_string(),
        });
    }
    Ok(edits.apply(text))
}

/// Every dependency table with its key path: `dependencies`, `dev-dependencies`,
/// `build-dependencies`, their `target.<cfg>.` forms, and `workspace.dependencies`.
fn dependency_tables(root: &toml_edit::Table) -> Vec<(String, &dyn TableLike)> {
    const KINDS: [&str; 5] = [
        "dependencies",
        "dev-dependencies",
        "dev_dependencies",
        "build-dependencies",
        "build_dependencies",
    ];
    let mut out: Vec<(String, &dyn TableLike)> = Vec::new();
    for kind in KINDS {
        if let Some(t) = root.get(kind).and_then(Item::as_table_like) {
            out.push((kind.to_string(), t));
        }
    }
    if let Some(targets) = root.get("target").and_then(Item::as_table_like) {
        for (cfg, target) in targets.iter() {
            for kind in KINDS {
                if let Some(t) = target.get(kind).and_then(Item::as_table_like) {
                    out.push((format!("target.'{cfg}'.{kind}"), t));
                }
            }
        }
    }
    if let Some(t) = root
        .get("workspace")
        .and_then(|w| w.get("dependencies"))
        .and_then(Item::as_table_like)
    {
        out.push(("workspace.dependencies".to_string(), t));
    }
    out
}

/// `Cargo.lock`: the entries of the workspace's own packages (those without a `source`),
/// and the `"name version"` references to them that Cargo writes when two versions of a
/// name are locked.
pub(crate) fn lock(text: &str, request: &Request<'_>) -> Result<Updated, Error> {
    if request.package.is_none() && request.internal.is_empty() {
        return Err(Error::Missing {
            key: "workspace member names (give `--package` or the workspace's Cargo.toml)".into(),
        });
    }
    let doc = parse(text)?;
    let new = request.version.to_string();
    let mut edits = Edits::default();
    let Some(packages) = doc
        .as_table()
        .get("package")
        .and_then(Item::as_array_of_tables)
    else {
        return Err(Error::Missing {
            key: "package".into(),
        });
    };
    let mut old_versions: BTreeMap<String, String> = BTreeMap::new();
    for entry in packages.iter() {
        let Some(name) = entry.get("name").and_then(Item::as_str) else {
            continue;
        };
        if entry.contains_key("source") || !request.bumps_dependency(name) {
            continue;
        }
        let key = format!("package[name={name}].version");
        let Some(version) = entry.get("version") else {
            return Err(Error::Missing { key });
        };
        if let Some(old) = version.as_str() {
            old_versions.insert(name.to_string(), old.to_string());
        }
        set_string(&mut edits, text, &key, version, &new)?;
    }
    if old_versions.is_empty() {
        return Err(match request.package {
            Some(package) => Error::NoSuchPackage {
                package: package.to_string(),
            },
            None => Error::Missing {
                key: format!(
                    "package entries for {}",
                    request
                        .internal
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            },
        });
    }
    for entry in packages.iter() {
        let owner = entry.get("name").and_then(Item::as_str).unwrap_or("?");
        let Some(deps) = entry.get("dependencies").and_then(Item::as_array) else {
            continue;
        };
        for dep in deps.iter() {
            let (Some(reference), Some(span)) = (dep.as_str(), dep.span()) else {
                continue;
            };
            let mut parts = reference.split(' ');
            let (Some(name), Some(version), None) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            if old_versions.get(name).map(String::as_str) == Some(version) {
                edits.replace_quoted(
                    text,
                    format!("package[name={owner}].dependencies.{name}"),
                    span,
                    &format!("{name} {new}"),
                );
            }
        }
    }
    Ok(edits.apply(text))
}

/// `[package].name`.
pub(crate) fn package_name(text: &str) -> Option<String> {
    let doc = parse(text).ok()?;
    let name = doc.get("package")?.get("name")?.as_str()?;
    Some(name.to_string())
}

/// `[workspace] members`.
pub(crate) fn members(text: &str) -> Vec<String> {
    let Ok(doc) = parse(text) else {
        return Vec::new();
    };
    doc.get("workspace")
        .and_then(|w| w.get("members"))
        .and_then(Item::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether `[workspace.package].version` is set.
pub(crate) fn sets_workspace_version(text: &str) -> bool {
    workspace_version(text).is_some()
}

/// `[package]`'s name and version.
pub(crate) fn package(text: &str) -> Option<(String, crate::ManifestVersion)> {
    let doc = parse(text).ok()?;
    let package = doc.get("package")?;
    let name = package.get("name")?.as_str()?.to_string();
    let version = package.get("version")?;
    if let Some(v) = version.as_str() {
        return Some((name, crate::ManifestVersion::Written(v.to_string())));
    }
    (version.get("workspace").and_then(Item::as_bool) == Some(true))
        .then_some((name, crate::ManifestVersion::Inherited))
}

/// `[workspace.package].version`.
pub(crate) fn workspace_version(text: &str) -> Option<String> {
    let doc = parse(text).ok()?;
    let version = doc
        .get("workspace")?
        .get("package")?
        .get("version")?
        .as_str()?;
    Some(version.to_string())
}
