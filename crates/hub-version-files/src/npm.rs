//! `package.json`, `package-lock.json` (v1, v2, v3) and `npm-shrinkwrap.json`.

use std::collections::BTreeSet;

use jsonc_parser::ast::{Object, Value};
use jsonc_parser::common::Ranged;
use jsonc_parser::{CollectOptions, ParseOptions, parse_to_ast};

use crate::edit::Edits;
use crate::requirement::{self, Outcome};
use crate::{Error, Request, Updated, same_name};

/// The dependency sections whose ranges on internal packages follow the new version.
const DEPENDENCY_SECTIONS: [&str; 4] = [
    "dependencies",
    "devDependencies",
    "peerDependencies",
    "optionalDependencies",
];

/// Strict JSON, each value with its byte range.
pub(crate) fn parse(text: &str) -> Result<Value<'_>, Error> {
    let strict = ParseOptions {
        allow_comments: false,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    };
    let syntax = |message: String| Error::Syntax {
        format: "JSON",
        message,
    };
    let parsed = parse_to_ast(text, &CollectOptions::default(), &strict)
        .map_err(|e| syntax(e.to_string()))?;
    parsed.value.ok_or_else(|| syntax("empty document".into()))
}

/// The top-level object.
fn root<'a>(value: &'a Value<'a>) -> Result<&'a Object<'a>, Error> {
    match value {
        Value::Object(o) => Ok(o),
        _ => Err(Error::Syntax {
            format: "JSON",
            message: "the document is not an object".into(),
        }),
    }
}

/// A string property's value.
fn string<'a>(object: &'a Object<'a>, key: &str) -> Option<&'a str> {
    object.get_string(key).map(|s| s.value.as_ref())
}

/// Writes `new` into the string value at `value`; an error naming `key` when it is no string.
fn set_string(
    edits: &mut Edits,
    text: &str,
    key: &str,
    value: &Value<'_>,
    new: &str,
) -> Result<(), Error> {
    match value {
        Value::StringLit(lit) => {
            let inner = lit.range.start + 1..lit.range.end - 1;
            edits.replace(key, inner, lit.value.as_ref(), new);
            Ok(())
        }
        other => {
            let range = other.range();
            Err(Error::NotAVersion {
                key: key.to_string(),
                found: format!("`{}`", &text[range.start..range.end]),
            })
        }
    }
}

/// Rewrites the ranges on bumped internal packages in `object`'s dependency sections.
fn dependents(
    edits: &mut Edits,
    prefix: &str,
    object: &Object<'_>,
    request: &Request<'_>,
    internal: &BTreeSet<String>,
) {
    let own = string(object, "name");
    for section in DEPENDENCY_SECTIONS {
        let Some(deps) = object.get_object(section) else {
            continue;
        };
        for dep in &deps.properties {
            let name = dep.name.as_str();
            let bump = match request.package {
                Some(package) => same_name(package, name),
                None => internal.iter().any(|n| same_name(n, name)),
            };
            if own == Some(name) || !bump {
                continue;
            }
            let Value::StringLit(spec) = &dep.value else {
                continue;
            };
            if let Outcome::Rewrite(new) = requirement::npm(&spec.value, request.version) {
                let inner = spec.range.start + 1..spec.range.end - 1;
                edits.replace(
                    format!("{prefix}{section}.{name}"),
                    inner,
                    &spec.value,
                    &new,
                );
            }
        }
    }
}

/// `package.json`: `version` and the ranges on internal packages. A workspace root
/// without a `version` (`"private": true` with `workspaces`) only gets the ranges.
pub(crate) fn package_json(text: &str, request: &Request<'_>) -> Result<Updated, Error> {
    let value = parse(text)?;
    let object = root(&value)?;
    let new = request.version.to_string();
    let mut edits = Edits::default();
    if request.bumps(string(object, "name")) {
        match object.get("version") {
            Some(prop) => set_string(&mut edits, text, "version", &prop.value, &new)?,
            None if object.get("workspaces").is_some() => {}
            None => {
                return Err(Error::Missing {
                    key: "version".into(),
                });
            }
        }
    }
    dependents(&mut edits, "", object, request, request.internal);
    if let Some(package) = request.package {
        let own = request.bumps(string(object, "name"));
        let depends = DEPENDENCY_SECTIONS.iter().any(|section| {
            object.get_object(section).is_some_and(|deps| {
                deps.properties
                    .iter()
                    .any(|d| same_name(package, d.name.as_str()))
            })
        });
        let workspace_root = object.get("workspaces").is_some();
        if !own && !depends && !workspace_root {
            return Err(Error::NoSuchPackage {
                package: package.to_string(),
            });
        }
    }
    Ok(edits.apply(text))
}

/// `package-lock.json` / `npm-shrinkwrap.json`: the root's `version`, and in v2/v3 the
/// `packages` entries of the root (`""`) and of the workspace packages (every key outside
/// `node_modules/`), with their ranges on internal packages. Linked `node_modules/`
/// entries carry no version and stay; so do v1/v2's `dependencies` entries (`file:` links).
pub(crate) fn package_lock(text: &str, request: &Request<'_>) -> Result<Updated, Error> {
    let value = parse(text)?;
    let object = root(&value)?;
    let new = request.version.to_string();
    let mut edits = Edits::default();
    let root_name = string(object, "name");
    let root_bumped = follows(request, root_name);
    if root_bumped && let Some(prop) = object.get("version") {
        set_string(&mut edits, text, "version", &prop.value, &new)?;
    }
    let mut found = root_bumped && object.get("version").is_some();
    if let Some(packages) = object.get_object("packages") {
        // The workspace packages are the entries outside node_modules.
        let workspace =
            |path: &str| !path.is_empty() && !path.split('/').any(|s| s == "node_modules");
        // The ranges that follow: on the named packages, else on every workspace package.
        let mut internal = request.internal.clone();
        if internal.is_empty() {
            for entry in &packages.properties {
                let path = entry.name.as_str();
                if let (true, Value::Object(e)) = (workspace(path), &entry.value) {
                    let name = string(e, "name")
                        .unwrap_or_else(|| path.rsplit('/').next().unwrap_or(path));
                    internal.insert(name.to_string());
                }
            }
        }
        for entry in &packages.properties {
            let path = entry.name.as_str();
            let Value::Object(e) = &entry.value else {
                continue;
            };
            let prefix = format!("packages[{}].", crate::edit::json_string(path));
            if path.is_empty() {
                if root_bumped && let Some(prop) = e.get("version") {
                    set_string(
                        &mut edits,
                        text,
                        &format!("{prefix}version"),
                        &prop.value,
                        &new,
                    )?;
                    found = true;
                }
            } else if workspace(path) {
                let name =
                    string(e, "name").unwrap_or_else(|| path.rsplit('/').next().unwrap_or(path));
                if follows(request, Some(name))
                    && let Some(prop) = e.get("version")
                {
                    set_string(
                        &mut edits,
                        text,
                        &format!("{prefix}version"),
                        &prop.value,
                        &new,
                    )?;
                    found = true;
                }
            } else {
                continue;
            }
            dependents(&mut edits, &prefix, e, request, &internal);
        }
    }
    if !found && edits.is_empty() {
        return Err(match request.package {
            Some(package) => Error::NoSuchPackage {
                package: package.to_string(),
            },
            None => Error::Missing {
                key: "version".into(),
            },
        });
    }
    Ok(edits.apply(text))
}

/// Whether a lock entry of the package `name` takes the new version: the `--package` one;
/// else, when the caller names the internal packages, those (the ones whose manifests give
/// the new version), else every one.
fn follows(request: &Request<'_>, name: Option<&str>) -> bool {
    match (request.package, name) {
        (Some(_), _) => request.bumps(name),
        (None, _) if request.internal.is_empty() => true,
        (None, Some(name)) => request.internal.iter().any(|n| same_name(n, name)),
        (None, None) => false,
    }
}

/// `name` and `version`.
pub(crate) fn name_and_version(text: &str) -> Option<(String, Option<String>)> {
    let value = parse(text).ok()?;
    let object = root(&value).ok()?;
    let name = string(object, "name")?.to_string();
    Some((name, string(object, "version").map(str::to_string)))
}

/// `name`.
pub(crate) fn package_name(text: &str) -> Option<String> {
    let value = parse(text).ok()?;
    string(root(&value).ok()?, "name").map(str::to_string)
}

/// `workspaces` (an array of globs, or `{ "packages": [...] }`).
pub(crate) fn members(text: &str) -> Vec<String> {
    let Ok(value) = parse(text) else {
        return Vec::new();
    };
    let Ok(object) = root(&value) else {
        return Vec::new();
    };
    let array = match object.get("workspaces").map(|p| &p.value) {
        Some(Value::Array(a)) => Some(a),
        Some(Value::Object(o)) => o.get_array("packages"),
        _ => None,
    };
    array
        .map(|a| {
            a.elements
                .iter()
                .filter_map(|v| v.as_string_lit().map(|s| s.value.to_string()))
                .collect()
        })
        .unwrap_or_default()
}
