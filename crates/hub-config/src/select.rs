//! Which schema a file is checked against: an explicit schema, else a `glob: schema` mapping,
//! else the file's own `$schema`/modeline, else the SchemaStore catalog by file name.

use globset::{Glob, GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};
use serde::Serialize;
use serde_json::Value;

use crate::error::Error;
use crate::parse::SchemaHint;

/// The schema chosen for a file, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "source", rename_all = "kebab-case")]
pub enum SchemaChoice {
    /// Given for every file (`--schema`).
    Explicit {
        /// Path or URL.
        reference: String,
    },
    /// A `glob: schema` line of the schema map matched the path.
    Mapping {
        /// Path or URL.
        reference: String,
        /// The glob that matched.
        glob: String,
    },
    /// The file names its schema (`$schema` key, modeline comment, `#:schema` directive);
    /// a relative reference is relative to the file.
    Inline {
        /// Path or URL as written.
        reference: String,
    },
    /// A catalog entry's `fileMatch` matched the path.
    Catalog {
        /// The entry's URL.
        reference: String,
        /// The entry's name.
        name: String,
    },
}

impl SchemaChoice {
    /// The path or URL of the schema.
    #[must_use]
    pub fn reference(&self) -> &str {
        match self {
            SchemaChoice::Explicit { reference }
            | SchemaChoice::Mapping { reference, .. }
            | SchemaChoice::Inline { reference }
            | SchemaChoice::Catalog { reference, .. } => reference,
        }
    }
}

fn glob(pattern: &str) -> Result<Glob, Error> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|source| Error::InvalidGlob {
            glob: pattern.to_owned(),
            source,
        })
}

/// `glob: schema` lines, first match wins. Paths are relative, with `/` separators.
#[derive(Clone, Debug, Default)]
pub struct SchemaMap {
    entries: Vec<(String, GlobMatcher, String)>,
}

impl SchemaMap {
    /// Reads one `glob: schema` pair per line (`#` comments and blank lines skipped, either side
    /// may be quoted), as the `schema-map` input and a mapping file hold them.
    ///
    /// ```
    /// let map = hub_config::SchemaMap::parse("# configs\n'config/*.yml': schemas/config.json\n")?;
    /// assert_eq!(map.lookup("config/app.yml"), Some(("config/*.yml", "schemas/config.json")));
    /// assert_eq!(map.lookup("config/deep/app.yml"), None);
    /// # Ok::<(), hub_config::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::MalformedSchemaMap`] for a line without `: `, [`Error::InvalidGlob`] for a bad glob.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let mut entries = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((pattern, schema)) = line.split_once(": ") else {
                return Err(Error::MalformedSchemaMap {
                    line: number + 1,
                    message: "expected `glob: schema`".to_owned(),
                });
            };
            let (pattern, schema) = (unquote(pattern.trim()), unquote(schema.trim()));
            if pattern.is_empty() || schema.is_empty() {
                return Err(Error::MalformedSchemaMap {
                    line: number + 1,
                    message: "expected `glob: schema`".to_owned(),
                });
            }
            let matcher = glob(pattern.trim_start_matches("./"))?.compile_matcher();
            entries.push((pattern.to_owned(), matcher, schema.to_owned()));
        }
        Ok(Self { entries })
    }

    /// The first `(glob, schema)` whose glob matches `path`.
    #[must_use]
    pub fn lookup(&self, path: &str) -> Option<(&str, &str)> {
        let path = path.trim_start_matches("./");
        self.entries
            .iter()
            .find(|(_, matcher, _)| matcher.is_match(path))
            .map(|(pattern, _, schema)| (pattern.as_str(), schema.as_str()))
    }

    /// The globs, in the map's order.
    pub fn globs(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(pattern, _, _)| pattern.as_str())
    }

    /// Whether the map has no entries.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn unquote(text: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = text.strip_prefix(quote).and_then(|t| t.strip_suffix(quote)) {
            return inner;
        }
    }
    text
}

#[derive(Clone, Debug)]
struct CatalogEntry {
    name: String,
    url: String,
    include: GlobSet,
    exclude: GlobSet,
}

/// A SchemaStore-style catalog (`{"schemas": [{"name", "url", "fileMatch": [glob]}]}`).
///
/// `fileMatch` follows SchemaStore/VS Code: a pattern without `/` matches the file name in any
/// folder, a pattern with `/` matches the path (as if it started with `**/`), `!(a|b)` matches
/// anything but `a` or `b`, and a pattern starting with `!` excludes.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    entries: Vec<CatalogEntry>,
}

impl Catalog {
    /// Reads a catalog document; entries without `fileMatch` are skipped.
    ///
    /// # Errors
    ///
    /// [`Error::MalformedCatalog`] when `schemas` is missing or an entry lacks `url`;
    /// [`Error::InvalidGlob`] for a pattern that does not compile.
    pub fn from_json(value: &Value) -> Result<Self, Error> {
        let malformed = |message: &str| Error::MalformedCatalog {
            message: message.to_owned(),
        };
        let schemas = value
            .get("schemas")
            .and_then(Value::as_array)
            .ok_or_else(|| malformed("expected a `schemas` list"))?;
        let mut entries = Vec::new();
        for entry in schemas {
            let Some(patterns) = entry.get("fileMatch").and_then(Value::as_array) else {
                continue;
            };
            let url = entry
                .get("url")
                .and_then(Value::as_str)
                .ok_or_else(|| malformed("an entry has no `url`"))?;
            let name = entry.get("name").and_then(Value::as_str).unwrap_or(url);
            let (mut include, mut exclude) = (GlobSetBuilder::new(), GlobSetBuilder::new());
            for pattern in patterns.iter().filter_map(Value::as_str) {
                let (negated, pattern) = match pattern.strip_prefix('!') {
                    Some(rest) if !rest.starts_with('(') => (true, rest),
                    _ => (false, pattern),
                };
                let (positive, negatives) = expand_extglob(&anchor(pattern));
                if negated {
                    exclude.add(glob(&positive)?);
                } else {
                    include.add(glob(&positive)?);
                    for negative in negatives {
                        exclude.add(glob(&negative)?);
                    }
                }
            }
            let build = |builder: GlobSetBuilder| {
                builder.build().map_err(|source| Error::InvalidGlob {
                    glob: name.to_owned(),
                    source,
                })
            };
            entries.push(CatalogEntry {
                name: name.to_owned(),
                url: url.to_owned(),
                include: build(include)?,
                exclude: build(exclude)?,
            });
        }
        Ok(Self { entries })
    }

    /// The first entry matching `path` (relative, `/` separators): `(name, url)`.
    ///
    /// ```
    /// let catalog = hub_config::Catalog::from_json(&serde_json::json!({"schemas": [
    ///     {"name": "GitHub Workflow", "url": "https://www.schemastore.org/github-workflow.json",
    ///      "fileMatch": ["**/.github/workflows/*.yml"]},
    ///     {"name": "GitHub Action", "url": "https://www.schemastore.org/github-action.json",
    ///      "fileMatch": ["action.yml"]}]}))?;
    /// assert_eq!(catalog.lookup(".github/workflows/ci.yml").map(|e| e.0), Some("GitHub Workflow"));
    /// assert_eq!(catalog.lookup("validate-config/action.yml").map(|e| e.0), Some("GitHub Action"));
    /// assert_eq!(catalog.lookup("docs/ci.yml"), None);
    /// # Ok::<(), hub_config::Error>(())
    /// ```
    #[must_use]
    pub fn lookup(&self, path: &str) -> Option<(&str, &str)> {
        let path = path.trim_start_matches("./");
        self.entries
            .iter()
            .find(|e| e.include.is_match(path) && !e.exclude.is_match(path))
            .map(|e| (e.name.as_str(), e.url.as_str()))
    }

    /// Number of entries with `fileMatch` patterns.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the catalog has no usable entry.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Makes a `fileMatch` pattern match at any depth: `action.yml` → `**/action.yml`,
/// `.github/x/*.yml` → `**/.github/x/*.yml`.
fn anchor(pattern: &str) -> String {
    let pattern = pattern.trim_start_matches("./");
    if let Some(rooted) = pattern.strip_prefix('/') {
        rooted.to_owned()
    } else if pattern.starts_with("**/") {
        pattern.to_owned()
    } else {
        format!("**/{pattern}")
    }
}

/// `a/!(x|y).yml` → (`a/*.yml`, [`a/x.yml`, `a/y.yml`]). Patterns without `!(` pass through.
fn expand_extglob(pattern: &str) -> (String, Vec<String>) {
    let Some(start) = pattern.find("!(") else {
        return (pattern.to_owned(), Vec::new());
    };
    let Some(len) = pattern[start..].find(')') else {
        return (pattern.to_owned(), Vec::new());
    };
    let (before, inner, after) = (
        &pattern[..start],
        &pattern[start + 2..start + len],
        &pattern[start + len + 1..],
    );
    let negatives = inner
        .split('|')
        .map(|alternative| format!("{before}{alternative}{after}"))
        .collect();
    (format!("{before}*{after}"), negatives)
}

/// Picks the schema for one file, by precedence: `explicit` (`--schema`), the schema map, the
/// file's own hint, the catalog.
#[must_use]
pub fn choose_schema(
    path: &str,
    explicit: Option<&str>,
    map: &SchemaMap,
    hint: Option<&SchemaHint>,
    catalog: Option<&Catalog>,
) -> Option<SchemaChoice> {
    if let Some(reference) = explicit {
        return Some(SchemaChoice::Explicit {
            reference: reference.to_owned(),
        });
    }
    if let Some((glob, reference)) = map.lookup(path) {
        return Some(SchemaChoice::Mapping {
            reference: reference.to_owned(),
            glob: glob.to_owned(),
        });
    }
    if let Some(hint) = hint {
        return Some(SchemaChoice::Inline {
            reference: hint.reference.clone(),
        });
    }
    let (name, url) = catalog?.lookup(path)?;
    Some(SchemaChoice::Catalog {
        reference: url.to_owned(),
        name: name.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(catalog: &Catalog, paths: &[&str], expect: &[Option<&str>]) {
        let got: Vec<Option<&str>> = paths
            .iter()
            .map(|p| catalog.lookup(p).map(|e| e.1))
            .collect();
        assert_eq!(got, expect);
    }

    #[test]
    fn catalog_file_match_semantics() {
        let catalog = Catalog::from_json(&serde_json::json!({"schemas": [
            {"name": "forms", "url": "forms", "fileMatch": ["**/.github/ISSUE_TEMPLATE/!(config).yml"]},
            {"name": "workflow", "url": "workflow", "fileMatch": [".github/workflows/*.yml", "!**/skip/.github/workflows/*.yml"]},
            {"name": "cloudbuild", "url": "cloudbuild", "fileMatch": ["cloudbuild.yaml", "*.cloudbuild.yaml"]},
            {"name": "no patterns", "url": "none"}
        ]}))
        .expect("because the catalog is well formed");
        assert_eq!(catalog.len(), 3);
        check(
            &catalog,
            &[
                ".github/ISSUE_TEMPLATE/bug.yml",
                ".github/ISSUE_TEMPLATE/config.yml",
                "sub/.github/workflows/ci.yml",
                "skip/.github/workflows/ci.yml",
                ".github/workflows/nested/ci.yml",
                "deploy/prod.cloudbuild.yaml",
                "cloudbuild.yaml",
                "./cloudbuild.yaml",
            ],
            &[
                Some("forms"),
                None,
                Some("workflow"),
                None,
                None,
                Some("cloudbuild"),
                Some("cloudbuild"),
                Some("cloudbuild"),
            ],
        );
    }

    #[test]
    fn precedence_is_explicit_mapping_inline_catalog() {
        let map = SchemaMap::parse("\"*.yml\": map.json").expect("because the map is well formed");
        let catalog = Catalog::from_json(&serde_json::json!({"schemas": [
            {"name": "a", "url": "catalog.json", "fileMatch": ["*.yml", "*.yaml"]}]}))
        .expect("because the catalog is well formed");
        let hint = SchemaHint {
            reference: "inline.json".into(),
            span: crate::Span::default(),
        };
        let pick = |path: &str, explicit: Option<&str>, hint: Option<&SchemaHint>| {
            choose_schema(path, explicit, &map, hint, Some(&catalog))
                .map(|c| c.reference().to_owned())
        };
        assert_eq!(
            pick("a.yml", Some("x.json"), Some(&hint)).as_deref(),
            Some("x.json")
        );
        assert_eq!(
            pick("a.yml", None, Some(&hint)).as_deref(),
            Some("map.json")
        );
        assert_eq!(
            pick("a.yaml", None, Some(&hint)).as_deref(),
            Some("inline.json")
        );
        assert_eq!(pick("a.yaml", None, None).as_deref(), Some("catalog.json"));
        assert_eq!(pick("a.toml", None, None), None);
    }

    #[test]
    fn malformed_maps_are_errors() {
        let error = SchemaMap::parse("ok.yml: a.json\nno separator\n")
            .expect_err("because line 2 is malformed");
        assert_eq!(
            error.to_string(),
            "schema map line 2 is malformed: expected `glob: schema`"
        );
        let error = SchemaMap::parse("a[: b.json").expect_err("because the glob is invalid");
        assert!(
            error.to_string().starts_with("glob `a[` is invalid"),
            "{error}"
        );
    }
}
