//! `pyproject.toml`, `setup.cfg`, `uv.lock`, and a Python file's `__version__`.

use toml_edit::Item;

use crate::cargo::{self, set_string};
use crate::edit::Edits;
use crate::{Error, Request, Updated, same_name};

/// `pyproject.toml`: PEP 621 `[project].version` and Poetry's `[tool.poetry].version`
/// (both when both are written). `[project] dynamic = ["version"]` is an error unless
/// Poetry holds the version (Poetry 2's way of writing it).
pub(crate) fn pyproject(text: &str, request: &Request<'_>) -> Result<Updated, Error> {
    let doc = cargo::parse(text)?;
    let new = request.version.to_string();
    let mut edits = Edits::default();
    let project = doc.get("project");
    let poetry = doc.get("tool").and_then(|t| t.get("poetry"));
    let name = [project, poetry]
        .into_iter()
        .flatten()
        .find_map(|t| t.get("name").and_then(Item::as_str));
    if project.is_none() && poetry.is_none() {
        return Err(Error::Missing {
            key: "project.version".into(),
        });
    }
    if !request.bumps(name) {
        return Err(Error::NoSuchPackage {
            package: request.package.unwrap_or_default().to_string(),
        });
    }
    let dynamic = project
        .and_then(|p| p.get("dynamic"))
        .and_then(Item::as_array)
        .is_some_and(|a| a.iter().any(|v| v.as_str() == Some("version")));
    let poetry_version = poetry.and_then(|p| p.get("version"));
    if let Some(version) = project.and_then(|p| p.get("version")) {
        set_string(&mut edits, text, "project.version", version, &new)?;
    }
    if let Some(version) = poetry_version {
        set_string(&mut edits, text, "tool.poetry.version", version, &new)?;
    }
    if dynamic && poetry_version.is_none() {
        return Err(Error::Computed {
            key: "project.version".into(),
            why: "`project.dynamic` lists `version`, so the build backend computes it".into(),
        });
    }
    let written = project.and_then(|p| p.get("version")).is_some() || poetry_version.is_some();
    if !written {
        return Err(Error::Missing {
            key: if project.is_none() {
                "tool.poetry.version".into()
            } else {
                "project.version".into()
            },
        });
    }
    Ok(edits.apply(text))
}

/// `setup.cfg`: `version` in `[metadata]`, at its place on its line. `attr:` and `file:`
/// (setuptools reading the version elsewhere) are errors.
pub(crate) fn setup_cfg(text: &str, request: &Request<'_>) -> Result<Updated, Error> {
    let new = request.version.to_string();
    let mut edits = Edits::default();
    let mut section = String::new();
    let mut written = false;
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let start = at;
        at += line.len();
        let body = line.trim_end_matches(['\n', '\r']);
        let trimmed = body.trim_start();
        if trimmed.is_empty() || trimmed.starts_with(['#', ';']) {
            continue;
        }
        if trimmed.starts_with('[') {
            section = trimmed
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .trim()
                .to_string();
            continue;
        }
        // Indented lines continue the previous value.
        if section != "metadata" || body.starts_with([' ', '\t']) {
            continue;
        }
        let Some(sep) = body.find(['=', ':']) else {
            continue;
        };
        if !body[..sep].trim().eq_ignore_ascii_case("version") {
            continue;
        }
        let value = body[sep + 1..].trim();
        if value.starts_with("attr:") || value.starts_with("file:") {
            return Err(Error::Computed {
                key: "metadata.version".into(),
                why: format!("`version = {value}` is read by setuptools"),
            });
        }
        let value_start =
            start + sep + 1 + (body[sep + 1..].len() - body[sep + 1..].trim_start().len());
        edits.replace(
            "metadata.version",
            value_start..value_start + value.len(),
            value,
            &new,
        );
        written = true;
    }
    if !written {
        return Err(Error::Missing {
            key: "metadata.version".into(),
        });
    }
    Ok(edits.apply(text))
}

/// `uv.lock`: the version of the project's own entries — those with a local `editable` or
/// `virtual` source, named like the requested package (or an internal one, or the root
/// project at `.` when no names are given).
pub(crate) fn uv_lock(text: &str, request: &Request<'_>) -> Result<Updated, Error> {
    let doc = cargo::parse(text)?;
    let new = request.version.to_string();
    let mut edits = Edits::default();
    let Some(packages) = doc.get("package").and_then(Item::as_array_of_tables) else {
        return Err(Error::Missing {
            key: "package".into(),
        });
    };
    let mut found = false;
    for entry in packages.iter() {
        let Some(name) = entry.get("name").and_then(Item::as_str) else {
            continue;
        };
        let local = entry
            .get("source")
            .and_then(Item::as_table_like)
            .and_then(|s| s.get("editable").or_else(|| s.get("virtual")))
            .and_then(Item::as_str);
        let Some(local) = local else {
            continue;
        };
        let own = match request.package {
            Some(package) => same_name(package, name),
            None if request.internal.is_empty() => local == ".",
            None => request.internal.iter().any(|n| same_name(n, name)),
        };
        if !own {
            continue;
        }
        let key = format!("package[name={name}].version");
        let Some(version) = entry.get("version") else {
            return Err(Error::Computed {
                key,
                why: "uv.lock records no version for a dynamic one".into(),
            });
        };
        set_string(&mut edits, text, &key, version, &new)?;
        found = true;
    }
    if !found {
        return Err(match request.package {
            Some(package) => Error::NoSuchPackage {
                package: package.to_string(),
            },
            None => Error::Missing {
                key: "package entry with `source = { editable = \".\" }`".into(),
            },
        });
    }
    Ok(edits.apply(text))
}

/// A Python file's top-level `__version__ = "…"` (or `__version__: str = "…"`); without
/// one, its version markers.
pub(crate) fn dunder_version(text: &str, request: &Request<'_>) -> Result<Updated, Error> {
    let new = request.version.to_string();
    let mut edits = Edits::default();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let start = at;
        at += line.len();
        let Some(rest) = line.strip_prefix("__version__") else {
            continue;
        };
        let body = rest.trim_end_matches(['\n', '\r']);
        let Some(eq) = body.find('=') else {
            continue;
        };
        let annotation = body[..eq].trim();
        if !(annotation.is_empty() || annotation.trim_start_matches(':').trim() == "str") {
            continue;
        }
        let expr = body[eq + 1..].trim();
        let offset = start
            + "__version__".len()
            + eq
            + 1
            + (body[eq + 1..].len() - body[eq + 1..].trim_start().len());
        let quote = expr.chars().next().filter(|c| *c == '"' || *c == '\'');
        let closed = quote.and_then(|q| expr[1..].find(q).map(|end| (q, end)));
        let Some((_, end)) = closed.filter(|(_, end)| {
            expr[1 + end + 1..].trim().is_empty() || expr[1 + end + 1..].trim().starts_with('#')
        }) else {
            return Err(Error::Computed {
                key: "__version__".into(),
                why: format!("`__version__ = {expr}` is not a string literal"),
            });
        };
        edits.replace(
            "__version__",
            offset + 1..offset + 1 + end,
            &expr[1..1 + end],
            &new,
        );
        return Ok(edits.apply(text));
    }
    // No `__version__`: release-please's generic markers in a Python file (`setup.py`).
    match crate::markers::update(text, request) {
        Err(Error::NoMarker) => Err(Error::Missing {
            key: "__version__".into(),
        }),
        other => other,
    }
}

/// The project's name and written version (`[project]`, else `[tool.poetry]`).
pub(crate) fn name_and_version(text: &str) -> Option<(String, Option<String>)> {
    let doc = cargo::parse(text).ok()?;
    let tables = [
        doc.get("project"),
        doc.get("tool").and_then(|t| t.get("poetry")),
    ];
    let name = tables
        .iter()
        .flatten()
        .find_map(|t| t.get("name").and_then(Item::as_str))?;
    let version = tables
        .iter()
        .flatten()
        .find_map(|t| t.get("version").and_then(Item::as_str));
    Some((name.to_string(), version.map(str::to_string)))
}

/// `[project].name`, else `[tool.poetry].name`.
pub(crate) fn package_name(text: &str) -> Option<String> {
    let doc = cargo::parse(text).ok()?;
    let name = doc
        .get("project")
        .and_then(|p| p.get("name"))
        .or_else(|| doc.get("tool")?.get("poetry")?.get("name"))?
        .as_str()?;
    Some(name.to_string())
}

/// `[tool.uv.workspace] members`.
pub(crate) fn members(text: &str) -> Vec<String> {
    let Ok(doc) = cargo::parse(text) else {
        return Vec::new();
    };
    doc.get("tool")
        .and_then(|t| t.get("uv"))
        .and_then(|u| u.get("workspace"))
        .and_then(|w| w.get("members"))
        .and_then(Item::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}
