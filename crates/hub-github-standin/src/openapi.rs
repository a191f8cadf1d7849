//! GitHub's OpenAPI description: loading, route lookup and request/response checks.
//!
//! The description (`api.github.com.json` from `@octokit/openapi`) is about 13 MB of JSON with
//! `$ref`s; the `.deref.json` variant is about 73 MB and takes five times as long to parse, so the
//! `$ref` form is loaded once per process and each schema actually used is turned into a
//! self-contained JSON Schema 2020-12 document (its `$ref`s collected under `$defs`) and compiled
//! on first use.
//!
//! OpenAPI 3.0 schema objects are not JSON Schema. The translation here:
//! - `nullable: true` adds `"null"` to `type` (and to `enum`), or wraps a schema without `type` in
//!   `anyOf: [schema, {"type": "null"}]`;
//! - boolean `exclusiveMinimum`/`exclusiveMaximum` become the numeric 2020-12 form;
//! - siblings of `$ref` are dropped (3.0 ignores them; 3.1 keeps them);
//! - only schema positions are walked (`properties`, `items`, `additionalProperties`, `allOf`,
//!   `anyOf`, `oneOf`, `not`), so a property *named* `example` is never mistaken for a keyword.
//!
//! Formats are asserted. `uri` also accepts the empty string, because the description itself gives
//! `""` as the default of several `format: uri` fields (`target_url`, `log_url`, …).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Map, Value, json};

use crate::Error;

/// HTTP statuses GitHub documents as possible on every endpoint (authentication, rate limits,
/// not found, server errors) even where an operation does not list them. They are accepted when
/// undeclared, with a body that must still be a `basic-error`.
const GENERIC_STATUSES: &[u16] = &[401, 403, 404, 429, 500, 502, 503, 504];

/// Where the package keeps the description for api.github.com.
const PACKAGE_FILE: &str = "generated/api.github.com.json";

/// A loaded OpenAPI description with a cache of compiled validators.
pub struct Spec {
    doc: Value,
    /// OpenAPI 3.0 (`nullable`, boolean exclusive bounds, `$ref` siblings ignored) or 3.1.
    v30: bool,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
    routes: OnceLock<Vec<SpecRoute>>,
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spec")
            .field("openapi", &self.doc.get("openapi"))
            .field("paths", &self.paths().len())
            .finish_non_exhaustive()
    }
}

struct SpecRoute {
    template: String,
    segments: Vec<Segment>,
}

/// One segment of a path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    Literal(String),
    /// `{name}`; `multi` when the parameter may span several segments (`x-multi-segment`).
    Param {
        name: String,
        multi: bool,
    },
}

/// Parameters taken from a matched path, percent-decoded.
pub(crate) type PathParams = Vec<(String, String)>;

impl Spec {
    /// Finds the description file: `path` itself, or the package layout below it.
    ///
    /// # Errors
    /// [`Error::SpecNotFound`] when neither exists.
    pub fn locate(path: &Path) -> Result<PathBuf, Error> {
        if path.is_file() {
            return Ok(path.to_path_buf());
        }
        for candidate in [
            path.join(PACKAGE_FILE),
            path.join("api.github.com.json"),
            path.join("node_modules/@octokit/openapi")
                .join(PACKAGE_FILE),
        ] {
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
        Err(Error::SpecNotFound {
            path: path.to_path_buf(),
        })
    }

    /// Reads and parses the description at `path` (a file or the package folder).
    ///
    /// # Errors
    /// When the file is missing, unreadable, not JSON or not OpenAPI 3.x.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let file = Self::locate(path)?;
        let bytes = std::fs::read(&file).map_err(|source| Error::ReadSpec {
            path: file.clone(),
            source,
        })?;
        let doc: Value = serde_json::from_slice(&bytes).map_err(|source| Error::ParseSpec {
            path: file.clone(),
            source,
        })?;
        Self::from_value(doc).ok_or(Error::NotOpenApi { path: file })
    }

    /// Loads the description once per process and path; later calls share it (and its compiled
    /// validators), which keeps a test binary that starts many stand-ins fast.
    ///
    /// # Errors
    /// As [`Spec::load`].
    pub fn load_shared(path: &Path) -> Result<Arc<Self>, Error> {
        static CACHE: OnceLock<Mutex<HashMap<PathBuf, Arc<Spec>>>> = OnceLock::new();
        let file = Self::locate(path)?;
        let cache = CACHE.get_or_init(Default::default);
        // Holding the lock while loading makes concurrent first calls wait instead of parsing
        // the same 13 MB twice.
        let mut cache = cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(spec) = cache.get(&file) {
            return Ok(Arc::clone(spec));
        }
        let spec = Arc::new(Self::load(&file)?);
        cache.insert(file, Arc::clone(&spec));
        Ok(spec)
    }

    /// Wraps an already parsed document; `None` when it is not OpenAPI 3.x.
    #[must_use]
    pub fn from_value(doc: Value) -> Option<Self> {
        let version = doc.get("openapi")?.as_str()?.to_owned();
        if !version.starts_with("3.") || !doc.get("paths")?.is_object() {
            return None;
        }
        Some(Self {
            v30: version.starts_with("3.0"),
            doc,
            validators: Mutex::new(HashMap::new()),
            routes: OnceLock::new(),
        })
    }

    fn paths(&self) -> &Map<String, Value> {
        static EMPTY: OnceLock<Map<String, Value>> = OnceLock::new();
        self.doc
            .get("paths")
            .and_then(Value::as_object)
            .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
    }

    /// The operation object for `method` on the path template, if the description has it.
    fn operation(&self, method: &str, template: &str) -> Option<&Value> {
        self.paths()
            .get(template)?
            .get(method.to_ascii_lowercase())
            .filter(|op| op.is_object())
    }

    /// Whether the description has `method template`.
    #[must_use]
    pub fn has_operation(&self, method: &str, template: &str) -> bool {
        self.operation(method, template).is_some()
    }

    /// The description's documentation link for an operation.
    #[must_use]
    pub fn documentation_url(&self, method: &str, template: &str) -> Option<&str> {
        self.operation(method, template)?
            .pointer("/externalDocs/url")?
            .as_str()
    }

    /// The path template of the description that `path` matches, preferring literal segments
    /// (`/releases/latest` over `/releases/{release_id}`), and whether `method` is defined there.
    #[must_use]
    pub fn find_route(&self, method: &str, path: &str) -> Option<(String, bool)> {
        let routes = self.routes.get_or_init(|| self.build_routes());
        let segments = split_path(path);
        routes
            .iter()
            .filter_map(|route| {
                match_segments(&route.segments, &segments)
                    .map(|_| (literal_count(&route.segments), route))
            })
            .max_by_key(|(score, _)| *score)
            .map(|(_, route)| {
                let known = self.has_operation(method, &route.template);
                (route.template.clone(), known)
            })
    }

    fn build_routes(&self) -> Vec<SpecRoute> {
        self.paths()
            .iter()
            .map(|(template, item)| {
                let multi: Vec<String> = ["get", "post", "patch", "put", "delete"]
                    .iter()
                    .filter_map(|m| item.get(*m))
                    .flat_map(|op| self.parameters(op, item))
                    .filter(|p| p.get("x-multi-segment") == Some(&Value::Bool(true)))
                    .filter_map(|p| p.get("name").and_then(Value::as_str).map(str::to_owned))
                    .collect();
                SpecRoute {
                    template: template.clone(),
                    segments: parse_template(template, &|name| multi.iter().any(|m| m == name)),
                }
            })
            .collect()
    }

    /// Resolves a local `$ref` (`#/components/...`) to the object it names.
    fn deref<'a>(&'a self, value: &'a Value) -> &'a Value {
        let mut current = value;
        // Reference objects may chain; a handful of hops is plenty and guards against loops.
        for _ in 0..8 {
            match current.get("$ref").and_then(Value::as_str) {
                Some(pointer) => {
                    match pointer.strip_prefix('#').and_then(|p| self.doc.pointer(p)) {
                        Some(target) => current = target,
                        None => return current,
                    }
                }
                None => return current,
            }
        }
        current
    }

    /// Operation parameters with path-level ones merged in, references resolved.
    fn parameters<'a>(&'a self, op: &'a Value, item: &'a Value) -> Vec<&'a Value> {
        let mut params: Vec<&Value> = op
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|p| self.deref(p))
            .collect();
        for shared in item
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|p| self.deref(p))
        {
            let key = (shared.get("name"), shared.get("in"));
            if !params.iter().any(|p| (p.get("name"), p.get("in")) == key) {
                params.push(shared);
            }
        }
        params
    }

    /// Checks a request against the operation `method template`. Returns the problems found.
    pub(crate) fn check_request(
        &self,
        method: &str,
        template: &str,
        path_params: &[(String, String)],
        query: &[(String, String)],
        body: &[u8],
    ) -> Vec<String> {
        let mut problems = Vec::new();
        let (Some(op), Some(item)) = (self.operation(method, template), self.paths().get(template))
        else {
            problems.push(format!(
                "`{method} {template}` is not an operation of the description"
            ));
            return problems;
        };
        let params = self.parameters(op, item);

        for param in &params {
            let name = param.get("name").and_then(Value::as_str).unwrap_or("");
            let location = param.get("in").and_then(Value::as_str).unwrap_or("");
            let required = param.get("required") == Some(&Value::Bool(true));
            let supplied = match location {
                "path" => path_params
                    .iter()
                    .rev()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v),
                "query" => query.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v),
                _ => continue,
            };
            match (supplied, param.get("schema")) {
                (None, _) if required => {
                    problems.push(format!("required {location} parameter `{name}` is missing"));
                }
                (Some(raw), Some(schema)) => {
                    let value = coerce(raw, self.deref(schema));
                    let key = format!("{method} {template} {location} parameter {name}");
                    problems.extend(
                        self.check(&key, schema, &value)
                            .into_iter()
                            .map(|p| format!("{location} parameter `{name}`: {p}")),
                    );
                }
                _ => {}
            }
        }
        for (name, _) in query {
            let declared = params.iter().any(|p| {
                p.get("in").and_then(Value::as_str) == Some("query")
                    && p.get("name").and_then(Value::as_str) == Some(name)
            });
            if !declared {
                problems.push(format!(
                    "query parameter `{name}` is not declared for this operation"
                ));
            }
        }

        let request_body = op.get("requestBody").map(|b| self.deref(b));
        match request_body {
            None if !body.is_empty() => {
                problems.push("the operation takes no request body but one was sent".to_owned());
            }
            None => {}
            Some(declared) => {
                let required = declared.get("required") == Some(&Value::Bool(true));
                if body.is_empty() {
                    if required {
                        problems.push("the request body is required but none was sent".to_owned());
                    }
                } else {
                    match declared.pointer("/content/application~1json/schema") {
                        Some(schema) => match serde_json::from_slice::<Value>(body) {
                            Ok(value) => {
                                let key = format!("{method} {template} request body");
                                problems.extend(
                                    self.check(&key, schema, &value)
                                        .into_iter()
                                        .map(|p| format!("request body: {p}")),
                                );
                            }
                            Err(err) => {
                                problems.push(format!("the request body is not JSON: {err}"));
                            }
                        },
                        // A raw upload (`application/octet-stream`, a release asset): any bytes.
                        None if declared
                            .pointer("/content/application~1octet-stream")
                            .is_some() => {}
                        None => {
                            problems.push("the operation declares no JSON request body".to_owned())
                        }
                    }
                }
            }
        }
        problems
    }

    /// Checks a response the stand-in is about to send for `method template`.
    pub(crate) fn check_response(
        &self,
        method: &str,
        template: &str,
        status: u16,
        body: &[u8],
    ) -> Vec<String> {
        let mut problems = Vec::new();
        let Some(op) = self.operation(method, template) else {
            problems.push(format!(
                "`{method} {template}` is not an operation of the description"
            ));
            return problems;
        };
        let responses = op.get("responses");
        let code = status.to_string();
        let range = format!("{}XX", status / 100);
        let declared = responses
            .and_then(|r| {
                r.get(&code)
                    .or_else(|| r.get(&range))
                    .or_else(|| r.get("default"))
            })
            .map(|r| self.deref(r));

        let (key, schema) = match declared {
            Some(response) => match response.pointer("/content/application~1json/schema") {
                Some(schema) => (format!("{method} {template} response {code}"), schema),
                None => {
                    if response.get("content").is_none() && !body.is_empty() {
                        problems.push(format!(
                            "status {status} declares no response body but one was sent"
                        ));
                    }
                    return problems;
                }
            },
            None if GENERIC_STATUSES.contains(&status) => {
                match self.doc.pointer("/components/schemas/basic-error") {
                    Some(schema) => ("basic-error".to_owned(), schema),
                    None => return problems,
                }
            }
            None => {
                problems.push(format!(
                    "status {status} is not a declared response of this operation"
                ));
                return problems;
            }
        };
        match serde_json::from_slice::<Value>(body) {
            Ok(value) => problems.extend(
                self.check(&key, schema, &value)
                    .into_iter()
                    .map(|p| format!("response {status} body: {p}")),
            ),
            Err(err) => problems.push(format!("response {status} body is not JSON: {err}")),
        }
        problems
    }

    /// Validates `value` against `schema` (an OpenAPI schema object from this document), with the
    /// compiled validator cached under `key`.
    fn check(&self, key: &str, schema: &Value, value: &Value) -> Vec<String> {
        let validator = match self.validator(key, schema) {
            Ok(validator) => validator,
            Err(problem) => return vec![problem],
        };
        validator
            .iter_errors(value)
            .take(10)
            .map(|error| {
                let mut text = error.to_string();
                if text.len() > 300 {
                    let cut = (0..=300)
                        .rev()
                        .find(|i| text.is_char_boundary(*i))
                        .unwrap_or(0);
                    text.truncate(cut);
                    text.push('…');
                }
                let path = error.instance_path().to_string();
                if path.is_empty() {
                    text
                } else {
                    format!("at `{path}`: {text}")
                }
            })
            .collect()
    }

    fn validator(&self, key: &str, schema: &Value) -> Result<Arc<jsonschema::Validator>, String> {
        let mut cache = self
            .validators
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(validator) = cache.get(key) {
            return Ok(Arc::clone(validator));
        }
        let document = self.json_schema(schema);
        let validator = jsonschema::draft202012::options()
            .should_validate_formats(true)
            .with_format("uri", uri_or_empty)
            .build(&document)
            .map_err(|err| format!("the description's schema for {key} does not compile: {err}"))?;
        let validator = Arc::new(validator);
        cache.insert(key.to_owned(), Arc::clone(&validator));
        Ok(validator)
    }

    /// Turns an OpenAPI schema object into a self-contained JSON Schema 2020-12 document.
    #[must_use]
    pub fn json_schema(&self, schema: &Value) -> Value {
        let mut translator = Translator {
            spec: self,
            wanted: Vec::new(),
            defs: BTreeMap::new(),
        };
        let mut root = translator.schema(schema, 0);
        while let Some(name) = translator.wanted.pop() {
            if translator.defs.contains_key(&name) {
                continue;
            }
            // Reserve the slot first so recursive schemas do not loop.
            translator.defs.insert(name.clone(), Value::Bool(true));
            let target = self
                .doc
                .pointer(&format!("/components/schemas/{}", escape_pointer(&name)))
                .cloned()
                .unwrap_or(Value::Bool(true));
            let translated = translator.schema(&target, 0);
            translator.defs.insert(name, translated);
        }
        if !translator.defs.is_empty() {
            let defs: Map<String, Value> = translator.defs.into_iter().collect();
            root = match root {
                Value::Object(mut map) => {
                    map.insert("$defs".to_owned(), Value::Object(defs));
                    Value::Object(map)
                }
                other => json!({ "allOf": [other], "$defs": defs }),
            };
        }
        root
    }
}

struct Translator<'a> {
    spec: &'a Spec,
    wanted: Vec<String>,
    defs: BTreeMap<String, Value>,
}

impl Translator<'_> {
    fn schema(&mut self, schema: &Value, depth: usize) -> Value {
        let Value::Object(object) = schema else {
            return schema.clone();
        };
        let mut out = Map::new();
        if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
            let mapped = self.reference(reference, depth);
            if self.spec.v30 {
                return mapped;
            }
            if let Value::Object(m) = mapped {
                out.extend(m);
            }
        }
        for (key, value) in object {
            match key.as_str() {
                "$ref" | "nullable" | "discriminator" | "xml" | "externalDocs" | "example" => {}
                k if k.starts_with("x-") => {}
                "properties" => {
                    let props = value
                        .as_object()
                        .map(|props| {
                            props
                                .iter()
                                .map(|(name, s)| (name.clone(), self.schema(s, depth)))
                                .collect::<Map<_, _>>()
                        })
                        .unwrap_or_default();
                    out.insert(key.clone(), Value::Object(props));
                }
                "items" | "additionalProperties" | "not" => {
                    out.insert(key.clone(), self.schema(value, depth));
                }
                "allOf" | "anyOf" | "oneOf" => {
                    let list = value
                        .as_array()
                        .map(|l| l.iter().map(|s| self.schema(s, depth)).collect())
                        .unwrap_or_default();
                    out.insert(key.clone(), Value::Array(list));
                }
                _ => {
                    out.insert(key.clone(), value.clone());
                }
            }
        }
        if self.spec.v30 {
            for (flag, bound) in [
                ("exclusiveMinimum", "minimum"),
                ("exclusiveMaximum", "maximum"),
            ] {
                if let Some(Value::Bool(exclusive)) = out.get(flag).cloned() {
                    out.remove(flag);
                    // 3.0's boolean flag becomes 2020-12's numeric bound.
                    let limit = if exclusive { out.remove(bound) } else { None };
                    if let Some(limit) = limit {
                        out.insert(flag.to_owned(), limit);
                    }
                }
            }
        }
        if object.get("nullable") == Some(&Value::Bool(true)) {
            return nullable(out);
        }
        Value::Object(out)
    }

    fn reference(&mut self, reference: &str, depth: usize) -> Value {
        if let Some(name) = reference.strip_prefix("#/components/schemas/") {
            let name = unescape_pointer(name);
            let target = format!("#/$defs/{}", escape_pointer(&name));
            self.wanted.push(name);
            return json!({ "$ref": target });
        }
        // Any other local pointer is inlined (bounded, in case of a cycle).
        match reference
            .strip_prefix('#')
            .and_then(|p| self.spec.doc.pointer(p))
        {
            Some(target) if depth < 16 => self.schema(&target.clone(), depth + 1),
            _ => Value::Bool(true),
        }
    }
}

fn nullable(mut out: Map<String, Value>) -> Value {
    let mut handled = false;
    if let Some(Value::String(kind)) = out.get("type").cloned() {
        out.insert("type".to_owned(), json!([kind, "null"]));
        handled = true;
    }
    if let Some(Value::Array(values)) = out.get_mut("enum") {
        if !values.contains(&Value::Null) {
            values.push(Value::Null);
        }
        handled = true;
    }
    if handled {
        Value::Object(out)
    } else {
        json!({ "anyOf": [Value::Object(out), { "type": "null" }] })
    }
}

/// `format: uri` as asserted here: empty (the description's default for several URL fields) or
/// an absolute URI, i.e. a scheme, a colon and no whitespace.
fn uri_or_empty(value: &str) -> bool {
    if value.is_empty() {
        return true;
    }
    let Some((scheme, rest)) = value.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.is_empty()
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Converts a raw path or query string to the JSON type its schema wants, so `"7"` is checked as
/// the integer 7; a value that does not convert stays a string and fails the check.
fn coerce(raw: &str, schema: &Value) -> Value {
    let kind = match schema.get("type") {
        Some(Value::String(kind)) => kind.as_str(),
        Some(Value::Array(kinds)) => kinds
            .iter()
            .filter_map(Value::as_str)
            .find(|k| *k != "null")
            .unwrap_or("string"),
        _ => "string",
    };
    match kind {
        "integer" => raw
            .parse::<i64>()
            .map_or_else(|_| Value::String(raw.to_owned()), Value::from),
        "number" => raw
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| Value::String(raw.to_owned()), Value::Number),
        "boolean" => match raw {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(raw.to_owned()),
        },
        "array" => Value::Array(
            raw.split(',')
                .map(|item| coerce(item, schema.get("items").unwrap_or(&Value::Null)))
                .collect(),
        ),
        _ => Value::String(raw.to_owned()),
    }
}

fn escape_pointer(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

fn unescape_pointer(name: &str) -> String {
    name.replace("~1", "/").replace("~0", "~")
}

/// Splits a request path into percent-decoded segments.
pub(crate) fn split_path(path: &str) -> Vec<String> {
    path.trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect()
}

/// Parses `/repos/{owner}/{repo}/git/ref/{ref}`; `multi` says which parameters may span segments.
pub(crate) fn parse_template(template: &str, multi: &dyn Fn(&str) -> bool) -> Vec<Segment> {
    template
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(
            |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => Segment::Param {
                    name: name.to_owned(),
                    multi: multi(name),
                },
                None => Segment::Literal(s.to_owned()),
            },
        )
        .collect()
}

pub(crate) fn literal_count(segments: &[Segment]) -> usize {
    segments
        .iter()
        .filter(|s| matches!(s, Segment::Literal(_)))
        .count()
}

/// Matches decoded path segments against a template. A multi-segment parameter is only allowed
/// last, where it takes the rest of the path (`heads/feature/x`).
pub(crate) fn match_segments(template: &[Segment], path: &[String]) -> Option<PathParams> {
    let mut params = Vec::new();
    for (index, segment) in template.iter().enumerate() {
        match segment {
            Segment::Param { name, multi: true } if index + 1 == template.len() => {
                if path.len() <= index {
                    return None;
                }
                params.push((name.clone(), path[index..].join("/")));
                return Some(params);
            }
            Segment::Param { name, .. } => {
                params.push((name.clone(), path.get(index)?.clone()));
            }
            Segment::Literal(literal) => {
                if path.get(index)? != literal {
                    return None;
                }
            }
        }
    }
    (path.len() == template.len()).then_some(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(doc: Value) -> Spec {
        Spec::from_value(doc).expect("a 3.0 test document")
    }

    #[test]
    fn nullable_is_translated_for_typed_enum_and_untyped_schemas() {
        let spec = spec(json!({
            "openapi": "3.0.3",
            "paths": {},
            "components": { "schemas": {
                "user": { "type": "object", "required": ["login"],
                          "properties": { "login": { "type": "string" } } },
            }}
        }));
        let schema = json!({
            "type": "object",
            "properties": {
                "name": { "type": "string", "nullable": true },
                "state": { "type": "string", "enum": ["a"], "nullable": true },
                "author": { "nullable": true, "oneOf": [ { "$ref": "#/components/schemas/user" } ] },
                "example": { "type": "integer", "example": 3 },
            }
        });
        let check = |value: Value| spec.check("t", &schema, &value);
        assert!(
            check(json!({"name": null, "state": null, "author": null, "example": 1})).is_empty()
        );
        assert!(check(json!({"author": {"login": "octocat"}})).is_empty());
        assert_eq!(check(json!({"author": {}})).len(), 1);
        assert_eq!(check(json!({"state": "b"})).len(), 1);
        assert_eq!(check(json!({"example": "x"})).len(), 1);
    }

    #[test]
    fn ref_siblings_are_ignored_in_3_0_and_recursion_terminates() {
        let spec = spec(json!({
            "openapi": "3.0.3",
            "paths": {},
            "components": { "schemas": {
                "node": { "type": "object", "properties": {
                    "child": { "$ref": "#/components/schemas/node" },
                    "id": { "type": "integer" } } },
            }}
        }));
        let schema = json!({ "$ref": "#/components/schemas/node", "type": "string" });
        assert!(
            spec.check("n", &schema, &json!({"child": {"child": {"id": 1}}}))
                .is_empty()
        );
        assert_eq!(
            spec.check("n", &schema, &json!({"child": {"id": "x"}}))
                .len(),
            1
        );
    }

    #[test]
    fn openapi_3_1_schemas_are_json_schema_already() {
        let spec = spec(json!({
            "openapi": "3.1.0",
            "paths": {},
            "components": { "schemas": {
                "name": { "type": "string", "minLength": 2 },
            }}
        }));
        // 3.1 keeps `$ref` siblings and uses type arrays instead of `nullable`.
        let schema = json!({ "$ref": "#/components/schemas/name", "maxLength": 3,
                             "type": ["string", "null"] });
        assert!(spec.check("n", &schema, &json!("abc")).is_empty());
        assert!(
            spec.check("n", &schema, &json!(null)).len() == 1,
            "the $ref still applies"
        );
        assert_eq!(spec.check("n", &schema, &json!("abcd")).len(), 1);
        assert_eq!(spec.check("n", &schema, &json!("a")).len(), 1);
    }

    #[test]
    fn formats_are_asserted() {
        let spec = spec(json!({"openapi": "3.0.3", "paths": {}}));
        let schema = json!({ "type": "string", "format": "date-time" });
        assert!(
            spec.check("d", &schema, &json!("2026-01-02T03:04:05Z"))
                .is_empty()
        );
        assert_eq!(spec.check("d", &schema, &json!("yesterday")).len(), 1);
    }

    #[test]
    fn boolean_exclusive_bounds_become_numeric() {
        let spec = spec(json!({"openapi": "3.0.3", "paths": {}}));
        let schema = json!({ "type": "integer", "minimum": 1, "exclusiveMinimum": true });
        assert_eq!(spec.check("b", &schema, &json!(1)).len(), 1);
        assert!(spec.check("b", &schema, &json!(2)).is_empty());
        let inclusive = json!({ "type": "integer", "minimum": 1, "exclusiveMinimum": false });
        assert!(spec.check("i", &inclusive, &json!(1)).is_empty());
        assert_eq!(spec.check("i", &inclusive, &json!(0)).len(), 1);
    }

    #[test]
    fn uri_format_accepts_empty_and_absolute_only() {
        assert!(uri_or_empty(""));
        assert!(uri_or_empty("http://127.0.0.1:1/x"));
        assert!(!uri_or_empty("/relative"));
        assert!(!uri_or_empty("http://a b"));
    }

    #[test]
    fn templates_match_multi_segment_tails_and_prefer_literals() {
        let multi = |name: &str| name == "ref";
        let t = parse_template("/repos/{owner}/{repo}/git/ref/{ref}", &multi);
        let p = split_path("/repos/o/r/git/ref/heads/feature%2Fx/y");
        let params = match_segments(&t, &p).expect("matches");
        assert_eq!(
            params[2],
            ("ref".to_owned(), "heads/feature/x/y".to_owned())
        );
        let single = parse_template("/repos/{owner}/{repo}/releases/{release_id}", &multi);
        assert!(match_segments(&single, &split_path("/repos/o/r/releases/1/x")).is_none());
    }

    #[test]
    fn requests_are_checked_for_parameters_query_and_body() {
        let spec = spec(json!({
            "openapi": "3.0.3",
            "paths": { "/items/{id}": { "post": {
                "parameters": [
                    { "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } },
                    { "name": "page", "in": "query", "schema": { "type": "integer" } }
                ],
                "requestBody": { "required": true, "content": { "application/json": {
                    "schema": { "type": "object", "required": ["a"] } } } },
                "responses": { "201": { "content": { "application/json": {
                    "schema": { "type": "object", "required": ["id"] } } } },
                    "204": { "description": "none" } }
            }}},
            "components": { "schemas": { "basic-error": { "type": "object",
                "properties": { "message": { "type": "string" } } } } }
        }));
        let path = vec![("id".to_owned(), "7".to_owned())];
        assert!(
            spec.check_request("POST", "/items/{id}", &path, &[], br#"{"a":1}"#)
                .is_empty()
        );
        let bad_id = vec![("id".to_owned(), "x".to_owned())];
        let query = vec![("nope".to_owned(), "1".to_owned())];
        let problems = spec.check_request("POST", "/items/{id}", &bad_id, &query, b"{}");
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            spec.check_request("POST", "/items/{id}", &path, &[], b"")
                .iter()
                .any(|p| p.contains("required"))
        );

        assert!(
            spec.check_response("POST", "/items/{id}", 201, br#"{"id":1}"#)
                .is_empty()
        );
        assert_eq!(
            spec.check_response("POST", "/items/{id}", 201, b"{}").len(),
            1
        );
        assert_eq!(
            spec.check_response("POST", "/items/{id}", 200, b"{}").len(),
            1
        );
        assert!(
            spec.check_response("POST", "/items/{id}", 502, br#"{"message":"x"}"#)
                .is_empty()
        );
        assert_eq!(
            spec.check_response("POST", "/items/{id}", 502, br#"{"message":1}"#)
                .len(),
            1
        );
        assert_eq!(
            spec.check_response("POST", "/items/{id}", 204, b"{}").len(),
            1
        );
    }
}
