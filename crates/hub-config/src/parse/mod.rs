//! Parsing: bytes + format + limits → documents (JSON values with a position map) and
//! diagnostics. Nothing here executes or fetches anything; a file that does not parse is a
//! [`Code::Syntax`] diagnostic with the parser's line and column.

mod json;
mod toml;
mod yaml;

pub(crate) use yaml::{is_yaml11_bool, yaml11_bool_value};

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use serde::Serialize;
use serde_json::Value;

use crate::diagnostic::{Code, Diagnostic};
use crate::position::{PositionMap, Span, byte_position};

/// The syntax of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// YAML 1.2, one or more documents.
    Yaml,
    /// JSON; comments and trailing commas are read but reported unless allowed (JSONC).
    Json,
    /// TOML 1.0.
    Toml,
}

impl Format {
    /// The format a file name implies: `.yml`/`.yaml`, `.json`/`.jsonc`, `.toml`.
    ///
    /// ```
    /// use hub_config::Format;
    /// assert_eq!(Format::from_path(".github/workflows/ci.YML"), Some(Format::Yaml));
    /// assert_eq!(Format::from_path("Cargo.toml"), Some(Format::Toml));
    /// assert_eq!(Format::from_path("README.md"), None);
    /// ```
    #[must_use]
    pub fn from_path(path: &str) -> Option<Format> {
        let extension = path.rsplit_once('.')?.1.to_ascii_lowercase();
        match extension.as_str() {
            "yml" | "yaml" => Some(Format::Yaml),
            "json" | "jsonc" => Some(Format::Json),
            "toml" => Some(Format::Toml),
            _ => None,
        }
    }

    /// `yaml`, `json` or `toml`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Yaml => "yaml",
            Format::Json => "json",
            Format::Toml => "toml",
        }
    }
}

/// Bounds on what one file may cost. The defaults refuse a 50 MB file or a billion-laughs file
/// in milliseconds with bounded memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest file accepted, in bytes (default 10 MiB).
    pub max_bytes: usize,
    /// Deepest nesting of mappings/sequences accepted (default 256).
    pub max_depth: usize,
    /// Most nodes that YAML aliases may add to a file by expansion (default 100,000).
    pub max_alias_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 10 * 1024 * 1024,
            max_depth: 256,
            max_alias_nodes: 100_000,
        }
    }
}

/// One document of a file: its value as JSON and where each part of it is written.
#[derive(Clone, Debug)]
pub struct Document {
    /// 0-based index of the document in the file (YAML streams can hold several).
    pub index: usize,
    /// The data, as JSON (YAML 1.2 core schema; TOML datetimes become strings).
    pub value: Value,
    /// JSON pointer → source position, for keys and values: see [`Document::locate`].
    positions: Positions,
    /// Pointers of plain YAML scalars `yes`/`no`/`on`/`off`/`y`/`n` (any case) read as strings:
    /// YAML 1.2 reads them as strings, YAML 1.1 tools as booleans.
    pub yaml11_words: Vec<String>,
}

/// Where a document's nodes are written: a map built while parsing (YAML, TOML, and JSON with
/// duplicate keys), or, for JSON, the text to find them in when a diagnostic needs them, so a
/// valid file never pays for a map that costs more memory than its data.
#[derive(Clone, Debug)]
struct Positions {
    map: OnceLock<PositionMap>,
    json: Option<Arc<str>>,
    max_depth: usize,
}

impl Document {
    /// A document whose positions were recorded while parsing.
    pub(crate) fn with_positions(
        index: usize,
        value: Value,
        positions: PositionMap,
        yaml11_words: Vec<String>,
    ) -> Self {
        Self {
            index,
            value,
            positions: Positions {
                map: OnceLock::from(positions),
                json: None,
                max_depth: 0,
            },
            yaml11_words,
        }
    }

    /// A JSON document whose positions are found in `text` on demand.
    pub(crate) fn lazy_json(value: Value, text: Arc<str>, max_depth: usize) -> Self {
        Self {
            index: 0,
            value,
            positions: Positions {
                map: OnceLock::new(),
                json: Some(text),
                max_depth,
            },
            yaml11_words: Vec::new(),
        }
    }

    /// The whole JSON-pointer → position map (built on the first call for a JSON document).
    /// To place a few diagnostics, [`Document::locate_all`] is cheaper.
    #[must_use]
    pub fn positions(&self) -> &PositionMap {
        self.positions
            .map
            .get_or_init(|| match &self.positions.json {
                Some(text) => json::positions(text, self.positions.max_depth, json::Record::All),
                None => PositionMap::default(),
            })
    }

    /// The span to report for `pointer`, as [`PositionMap::locate`] says.
    ///
    /// ```
    /// use hub_config::{Format, Limits, parse};
    ///
    /// let parsed = parse(b"{\n  \"a\": [1, 2]\n}", Format::Json, &Limits::default());
    /// let span = parsed.documents[0].locate("/a/1", false);
    /// assert_eq!((span.start.line, span.start.column), (2, 12));
    /// ```
    #[must_use]
    pub fn locate(&self, pointer: &str, prefer_key: bool) -> Span {
        self.locate_all(&[(pointer, prefer_key)])[0]
    }

    /// The spans of several `(pointer, prefer_key)` requests at once: for a JSON document whose
    /// map was not built, one pass over its text that records only these pointers and their
    /// ancestors.
    #[must_use]
    pub fn locate_all(&self, wanted: &[(&str, bool)]) -> Vec<Span> {
        let find = |map: &PositionMap| {
            wanted
                .iter()
                .map(|(pointer, prefer_key)| map.locate(pointer, *prefer_key))
                .collect()
        };
        match (self.positions.map.get(), &self.positions.json) {
            (Some(map), _) => find(map),
            (None, None) => find(self.positions()),
            (None, Some(_)) if wanted.is_empty() => Vec::new(),
            (None, Some(text)) => {
                let mut pointers = HashSet::new();
                for (pointer, _) in wanted {
                    let mut current = *pointer;
                    while pointers.insert(current.to_owned()) {
                        match current.rfind('/') {
                            Some(slash) => current = &current[..slash],
                            None if current.is_empty() => break,
                            None => current = "",
                        }
                    }
                }
                let map = json::positions(
                    text,
                    self.positions.max_depth,
                    json::Record::Only(&pointers),
                );
                find(&map)
            }
        }
    }
}

/// A schema named by the file itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SchemaHint {
    /// The reference as written (URL or path relative to the file).
    pub reference: String,
    /// Where it is written.
    pub span: Span,
}

/// What parsing one file produced.
#[derive(Clone, Debug)]
pub struct Parsed {
    /// The syntax the file was read as.
    pub format: Format,
    /// The documents that parsed; a syntax error ends the list at the document it is in.
    pub documents: Vec<Document>,
    /// Problems found while reading (syntax, duplicate keys, limits, YAML traps).
    pub diagnostics: Vec<Diagnostic>,
    /// A schema the file names: a root `$schema` key, a `# yaml-language-server: $schema=…`
    /// comment, or a `#:schema …` TOML directive.
    pub schema_hint: Option<SchemaHint>,
    /// Comments and trailing commas of a JSON file (JSONC); they become errors through
    /// [`Parsed::reject_json_extensions`] unless the file's schema allows them.
    pub json_extensions: Vec<Span>,
}

impl Parsed {
    fn failed(format: Format, diagnostic: Diagnostic) -> Self {
        Self {
            format,
            documents: Vec::new(),
            diagnostics: vec![diagnostic],
            schema_hint: None,
            json_extensions: Vec::new(),
        }
    }

    /// Whether any diagnostic is an error.
    #[must_use]
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == crate::Severity::Error)
    }

    /// Reports each JSON comment or trailing comma as an error (strict JSON). Call it when the
    /// file is not JSONC: its name does not end in `.jsonc` and its schema does not set
    /// `allowComments`/`allowTrailingCommas`.
    pub fn reject_json_extensions(&mut self) {
        let errors = self.json_extension_errors();
        self.json_extensions.clear();
        self.diagnostics.extend(errors);
        self.diagnostics.sort_by_key(|d| d.span.start);
    }

    /// The errors [`Parsed::reject_json_extensions`] adds, without changing `self`: one per
    /// comment or trailing comma, none when the file does not parse at all (its syntax error
    /// says enough).
    #[must_use]
    pub fn json_extension_errors(&self) -> Vec<Diagnostic> {
        if self.documents.is_empty() {
            return Vec::new();
        }
        self.json_extensions
            .iter()
            .map(|span| {
                Diagnostic::error(
                    Code::JsonExtension,
                    "comments and trailing commas are not allowed in JSON",
                    *span,
                )
                .with_suggestion(
                    "remove it, or name the file `.jsonc` if the tool reading it accepts comments",
                )
            })
            .collect()
    }
}

/// Parses one file. Never panics and never fails: problems come back as diagnostics.
///
/// ```
/// use hub_config::{Format, Limits, parse};
///
/// let parsed = parse(b"on: push\non: pull_request\n", Format::Yaml, &Limits::default());
/// assert_eq!(parsed.documents[0].value["on"], "pull_request");
/// assert_eq!(parsed.diagnostics[0].message, "duplicate key `on`");
/// assert_eq!(parsed.diagnostics[0].span.start.line, 2);
/// ```
#[must_use]
pub fn parse(bytes: &[u8], format: Format, limits: &Limits) -> Parsed {
    if bytes.len() > limits.max_bytes {
        return Parsed::failed(
            format,
            Diagnostic::error(
                Code::FileTooLarge,
                format!(
                    "file is {} bytes, over the limit of {} bytes",
                    bytes.len(),
                    limits.max_bytes
                ),
                Span::at(crate::Position::START),
            ),
        );
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => {
            let position = byte_position(bytes, error.valid_up_to());
            let encoding = if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
                " (it starts with a UTF-16 byte order mark)"
            } else {
                ""
            };
            return Parsed::failed(
                format,
                Diagnostic::error(
                    Code::NotUtf8,
                    format!("file is not valid UTF-8{encoding}"),
                    Span::at(position),
                )
                .with_suggestion("save the file as UTF-8"),
            );
        }
    };
    let mut parsed = match format {
        Format::Yaml => yaml::parse(text, limits),
        Format::Json => json::parse(text, limits),
        Format::Toml => toml::parse(text, limits),
    };
    if parsed.schema_hint.is_none() {
        parsed.schema_hint = root_schema_key(&parsed.documents);
    }
    parsed.diagnostics.sort_by_key(|d| d.span.start);
    parsed
}

/// A string `$schema` member of the first document's root object.
fn root_schema_key(documents: &[Document]) -> Option<SchemaHint> {
    let document = documents.first()?;
    let reference = document.value.get("$schema")?.as_str()?;
    Some(SchemaHint {
        reference: reference.to_owned(),
        span: document.locate("/$schema", false),
    })
}

/// Finds `marker` in a comment line (`# yaml-language-server: $schema=URL`, `#:schema URL`) and
/// returns the reference after it with its position.
fn comment_directive(text: &str, marker: &str) -> Option<SchemaHint> {
    for (number, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if !trimmed.starts_with('#') {
            continue;
        }
        let Some(at) = line.find(marker) else {
            continue;
        };
        let rest = &line[at + marker.len()..];
        let reference = rest.trim_start();
        let reference = reference.split_whitespace().next().unwrap_or_default();
        if reference.is_empty() {
            continue;
        }
        let offset = at + marker.len() + (rest.len() - rest.trim_start().len());
        let column = line[..offset].chars().count() + 1;
        let start = crate::Position::new(number + 1, column);
        let end = crate::Position::new(number + 1, column + reference.chars().count());
        return Some(SchemaHint {
            reference: reference.to_owned(),
            span: Span::new(start, end),
        });
    }
    None
}

#[cfg(test)]
pub(crate) mod tests {
    use std::fmt::Write as _;

    use super::Parsed;
    use crate::position::Span;

    fn span(span: Span) -> String {
        format!(
            "{}:{}-{}:{}",
            span.start.line, span.start.column, span.end.line, span.end.column
        )
    }

    /// Renders what a parse produced: each document's value and positions (sorted by pointer),
    /// the schema hint, JSON extensions and diagnostics.
    pub(crate) fn render(parsed: &Parsed) -> String {
        let mut out = String::new();
        for document in &parsed.documents {
            let _ = writeln!(out, "doc {}: {}", document.index, document.value);
            let mut pointers: Vec<_> = collect_pointers(&document.value, String::new());
            pointers.sort();
            for pointer in pointers {
                if let Some(spans) = document.positions().get(&pointer) {
                    let key = spans
                        .key
                        .map(|k| format!(" key {}", span(k)))
                        .unwrap_or_default();
                    let _ = writeln!(out, "  {pointer:?}{key} value {}", span(spans.value));
                } else {
                    let _ = writeln!(out, "  {pointer:?} MISSING");
                }
            }
            for word in &document.yaml11_words {
                let _ = writeln!(out, "  yaml11 word at {word:?}");
            }
        }
        if let Some(hint) = &parsed.schema_hint {
            let _ = writeln!(
                out,
                "schema hint {:?} at {}",
                hint.reference,
                span(hint.span)
            );
        }
        for extension in &parsed.json_extensions {
            let _ = writeln!(out, "jsonc at {}", span(*extension));
        }
        for d in &parsed.diagnostics {
            let _ = write!(
                out,
                "{}[{}] {}: {}",
                d.severity,
                d.code,
                span(d.span),
                d.message
            );
            if let Some(pointer) = &d.pointer {
                let _ = write!(out, " (at {pointer:?})");
            }
            if let Some(suggestion) = &d.suggestion {
                let _ = write!(out, " -- {suggestion}");
            }
            out.push('\n');
        }
        out
    }

    fn collect_pointers(value: &serde_json::Value, pointer: String) -> Vec<String> {
        let mut out = vec![pointer.clone()];
        match value {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    out.extend(collect_pointers(
                        v,
                        crate::position::push_pointer(&pointer, k),
                    ));
                }
            }
            serde_json::Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    out.extend(collect_pointers(
                        v,
                        crate::position::push_pointer(&pointer, &i.to_string()),
                    ));
                }
            }
            _ => {}
        }
        out
    }
}
