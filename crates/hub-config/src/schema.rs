//! JSON Schema: compile once with an injected retriever for `$ref`s, then validate many
//! documents into positioned diagnostics.
//!
//! Drafts 4, 6, 7, 2019-09 and 2020-12 (from `$schema`, 2020-12 when absent) through the
//! `jsonschema` crate without its HTTP or file retrievers: every document a `$ref` names is asked
//! of the caller's [`Retrieve`], which is where caching, offline mode and size/time limits live.
//!
//! Each error becomes a diagnostic at the offending key or value: unknown properties at the
//! unknown key (with "did you mean" from the sibling `properties`), missing required properties at
//! the key of the object that lacks them, everything else at the value. `anyOf`/`oneOf` failures
//! are reduced to the alternative that fits the value best, or to one message listing what
//! would have been accepted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{ValidationError, Validator};
use serde_json::Value;

use crate::diagnostic::{Code, Diagnostic, Severity, quote, quote_value};
use crate::error::Error;
use crate::formats;
use crate::normalise::{Draft, normalise};
use crate::parse::Document;
use crate::parse::{is_yaml11_bool, yaml11_bool_value};
use crate::position::{Span, percent_decode, pointer_tokens, push_pointer};
use crate::rules::{RuleSet, RuleVars};

/// Most diagnostics reported for one document; the rest are summed up in one more.
const MAX_DIAGNOSTICS: usize = 1_000;

/// Most YAML 1.1 words per document checked against the schema (each check validates again).
const MAX_WORD_CHECKS: usize = 32;

/// Boxed error a retriever returns.
pub type RetrieveError = Box<dyn std::error::Error + Send + Sync>;

/// Fetches the JSON document a `$ref` names. The engine does no I/O: the caller decides how
/// (file system, HTTP with a cache and limits) and whether at all (offline mode).
pub trait Retrieve: Send + Sync {
    /// The document at `uri` (absolute, without fragment), e.g. `file:///repo/defs.json` or
    /// `https://json.schemastore.org/base.json`.
    ///
    /// # Errors
    ///
    /// Whatever stops the retrieval; the message ends up in [`Error::InvalidSchema`].
    fn retrieve(&self, uri: &str) -> Result<Value, RetrieveError>;
}

impl<F> Retrieve for F
where
    F: Fn(&str) -> Result<Value, RetrieveError> + Send + Sync,
{
    fn retrieve(&self, uri: &str) -> Result<Value, RetrieveError> {
        self(uri)
    }
}

/// A retriever that refuses every URI: schemas must be self-contained.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoRetrieve;

impl Retrieve for NoRetrieve {
    fn retrieve(&self, uri: &str) -> Result<Value, RetrieveError> {
        Err(format!("no retriever is configured to fetch `{uri}`").into())
    }
}

/// The meta-schema of a JSON Schema draft (or one of its vocabularies) for its URI, with or
/// without a trailing `#`: these ship with the validator, so they never need a download.
///
/// ```
/// let draft7 = hub_config::meta_schema("http://json-schema.org/draft-07/schema#").expect("known");
/// assert_eq!(draft7["$id"], "http://json-schema.org/draft-07/schema#");
/// assert!(hub_config::meta_schema("https://example.com/schema").is_none());
/// ```
#[must_use]
pub fn meta_schema(uri: &str) -> Option<&'static Value> {
    use referencing::meta;
    let all: [&'static Value; 19] = [
        &meta::DRAFT4,
        &meta::DRAFT6,
        &meta::DRAFT7,
        &meta::DRAFT201909,
        &meta::DRAFT201909_APPLICATOR,
        &meta::DRAFT201909_CONTENT,
        &meta::DRAFT201909_CORE,
        &meta::DRAFT201909_FORMAT,
        &meta::DRAFT201909_META_DATA,
        &meta::DRAFT201909_VALIDATION,
        &meta::DRAFT202012,
        &meta::DRAFT202012_CORE,
        &meta::DRAFT202012_APPLICATOR,
        &meta::DRAFT202012_UNEVALUATED,
        &meta::DRAFT202012_VALIDATION,
        &meta::DRAFT202012_META_DATA,
        &meta::DRAFT202012_FORMAT_ANNOTATION,
        &meta::DRAFT202012_FORMAT_ASSERTION,
        &meta::DRAFT202012_CONTENT,
    ];
    let wanted = uri.trim_end_matches('#');
    all.into_iter().find(|schema| {
        schema
            .get("$id")
            .or_else(|| schema.get("id"))
            .and_then(Value::as_str)
            .is_some_and(|id| id.trim_end_matches('#') == wanted)
    })
}

/// The keyword of the stand-in for a document that could not be retrieved: compiling it (the
/// document is used) fails with the retrieval's error; a document never used costs nothing.
const UNRETRIEVABLE: &str = "x-hub-unretrievable";

/// Adapts a [`Retrieve`] to `jsonschema`, rewriting each fetched document as the root one
/// ([`normalise`]) and keeping it for suggestions.
///
/// The `jsonschema` crate fetches every document any fetched document names, used or not; ajv
/// only what the schema uses. A document that cannot be fetched is therefore answered with a
/// stand-in whose one keyword fails the build when (and only when) it is compiled, with the
/// retrieval's error. Meta-schema URIs (`$schema`) are the exception: the crate ignores an
/// unknown one whose retrieval fails, and a stand-in would be read as the meta-schema.
struct Adapter {
    inner: Arc<dyn Retrieve>,
    seen: Arc<Mutex<HashMap<String, Value>>>,
    /// `$schema` URIs of the root and of every document retrieved so far.
    meta_uris: Mutex<std::collections::HashSet<String>>,
    default_draft: Draft,
    spec_strict: bool,
}

impl jsonschema::Retrieve for Adapter {
    fn retrieve(&self, uri: &jsonschema::Uri<String>) -> Result<Value, RetrieveError> {
        if let Some(meta) = meta_schema(uri.as_str()) {
            return Ok(meta.clone());
        }
        let mut value = match self.inner.retrieve(uri.as_str()) {
            Ok(value) => value,
            Err(error) if !self.is_meta_uri(uri.as_str()) => {
                let mut stand_in = serde_json::Map::new();
                stand_in.insert(
                    UNRETRIEVABLE.to_owned(),
                    Value::String(format!("`{}` cannot be retrieved: {error}", uri.as_str())),
                );
                return Ok(Value::Object(stand_in));
            }
            Err(error) => return Err(error),
        };
        normalise(&mut value, self.default_draft, self.spec_strict);
        if let Ok(mut meta) = self.meta_uris.lock() {
            meta_uris(&value, &mut meta);
        }
        if let Ok(mut seen) = self.seen.lock() {
            seen.insert(uri.as_str().to_owned(), value.clone());
        }
        Ok(value)
    }
}

impl Adapter {
    fn is_meta_uri(&self, uri: &str) -> bool {
        self.meta_uris
            .lock()
            .is_ok_and(|meta| meta.contains(uri.trim_end_matches('#')))
    }
}

/// The stand-in's keyword: it fails the build with the retrieval error it carries.
fn unretrievable<'a>(
    _parent: &'a serde_json::Map<String, Value>,
    value: &'a Value,
    _path: jsonschema::paths::Location,
) -> Result<Box<dyn for<'i> jsonschema::Keyword<'i>>, ValidationError<'a>> {
    Err(ValidationError::custom(
        value.as_str().unwrap_or("a `$ref` cannot be retrieved"),
    ))
}

/// Every `$schema` URI in `schema`'s objects (without a trailing `#`).
fn meta_uris(schema: &Value, out: &mut std::collections::HashSet<String>) {
    match schema {
        Value::Object(map) => {
            if let Some(Value::String(uri)) = map.get("$schema") {
                out.insert(uri.trim_end_matches('#').to_owned());
            }
            map.values().for_each(|v| meta_uris(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| meta_uris(v, out)),
        _ => {}
    }
}

/// A schema diagnostic whose span is found later, together with the others of its document
/// ([`Document::locate_all`]): at the key (`prefer_key`) or the value its pointer names.
struct Pending {
    diagnostic: Diagnostic,
    prefer_key: bool,
}

impl std::ops::Deref for Pending {
    type Target = Diagnostic;

    fn deref(&self) -> &Diagnostic {
        &self.diagnostic
    }
}

impl std::ops::DerefMut for Pending {
    fn deref_mut(&mut self) -> &mut Diagnostic {
        &mut self.diagnostic
    }
}

/// How to compile a schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SchemaOptions {
    /// Assert `format` (`date-time`, `email`, `uri`, …) as SchemaStore and ajv-formats do
    /// (default `true`); unknown formats are ignored either way.
    pub formats: bool,
    /// Read the drafts as the specification words them where ajv, which schema authors test
    /// with, reads them otherwise (default `false`, ajv's reading): `const` ignored in
    /// draft-04, keywords beside a `$ref` ignored in drafts 4 to 7, `date-time` and `time` with
    /// RFC 3339's required offset.
    pub spec_strict: bool,
}

impl Default for SchemaOptions {
    fn default() -> Self {
        Self {
            formats: true,
            spec_strict: false,
        }
    }
}

/// A compiled schema with its `x-rules`. Compile once, share across threads, check many
/// documents.
pub struct Schema {
    uri: String,
    validator: Validator,
    /// The schema and every document retrieved for it, by base URI.
    documents: HashMap<String, Value>,
    root_base: String,
    rules: RuleSet,
    allows_json_extensions: bool,
}

impl std::fmt::Debug for Schema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schema")
            .field("uri", &self.uri)
            .field("rules", &self.rules)
            .finish_non_exhaustive()
    }
}

fn base_of(uri: &str) -> &str {
    uri.split_once('#').map_or(uri, |(base, _)| base)
}

impl Schema {
    /// Compiles `schema`, read from `uri` (used as the base for relative `$ref`s when it is an
    /// absolute URI, and to name the schema in reports).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSchema`] when the schema is not valid for its draft or a `$ref` cannot be
    /// resolved; [`Error::MalformedRule`] or [`Error::RuleSyntax`] for a bad `x-rules` list.
    pub fn compile(
        schema: &Value,
        uri: &str,
        retriever: Arc<dyn Retrieve>,
        options: &SchemaOptions,
    ) -> Result<Self, Error> {
        let spec_strict = options.spec_strict;
        let rules = RuleSet::from_schema(uri, schema)?;
        let default_draft = Draft::of(schema, Draft::Later);
        let mut normalised = schema.clone();
        normalise(&mut normalised, default_draft, spec_strict);
        let mut meta = std::collections::HashSet::new();
        meta_uris(schema, &mut meta);
        let seen = Arc::new(Mutex::new(HashMap::new()));
        let mut builder = jsonschema::options()
            .should_validate_formats(options.formats)
            // Draft-06/07 `contentMediaType`/`contentEncoding` are annotations, as ajv reads
            // them (the drafts leave asserting them optional; 2019-09 made them annotations).
            .without_content_media_type_support("application/json")
            .without_content_encoding_support("base64")
            .with_keyword(UNRETRIEVABLE, unretrievable)
            .with_retriever(Adapter {
                inner: retriever,
                seen: Arc::clone(&seen),
                meta_uris: Mutex::new(meta),
                default_draft,
                spec_strict,
            });
        if !spec_strict {
            builder = builder
                .with_format("date-time", formats::date_time)
                .with_format("time", formats::time);
        }
        if uri.contains("://") {
            builder = builder.with_base_uri(base_of(uri));
        }
        let validator = builder
            .build(&normalised)
            .map_err(|e| Error::InvalidSchema {
                uri: uri.to_owned(),
                message: lower_first(&e.to_string()),
            })?;
        let mut documents = seen.lock().map(|seen| seen.clone()).unwrap_or_default();
        let root_base = schema
            .get("$id")
            .or_else(|| schema.get("id"))
            .and_then(Value::as_str)
            .map_or_else(|| base_of(uri).to_owned(), |id| base_of(id).to_owned());
        documents.insert(root_base.clone(), normalised);
        let allows_json_extensions = [
            schema.get("allowComments"),
            schema.get("allowTrailingCommas"),
        ]
        .contains(&Some(&Value::Bool(true)));
        Ok(Self {
            uri: uri.to_owned(),
            validator,
            documents,
            root_base,
            rules,
            allows_json_extensions,
        })
    }

    /// Where the schema came from.
    #[must_use]
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The schema's own `x-rules`, plus any added with [`Schema::add_rules`].
    #[must_use]
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Adds rules kept outside the schema (a rules file for a schema you do not own).
    pub fn add_rules(&mut self, rules: RuleSet) {
        self.rules.extend(rules);
    }

    /// Whether the schema declares that JSON files may carry comments or trailing commas
    /// (`allowComments`/`allowTrailingCommas`, as VS Code's schemas do).
    #[must_use]
    pub fn allows_json_extensions(&self) -> bool {
        self.allows_json_extensions
    }

    /// Whether `document` is valid against the schema alone (no rules, no diagnostics built).
    #[must_use]
    pub fn is_valid(&self, document: &Document) -> bool {
        self.validator.is_valid(&document.value)
    }

    /// Schema diagnostics, then rule diagnostics, for one document, sorted by position.
    #[must_use]
    pub fn check(&self, document: &Document, vars: &RuleVars) -> Vec<Diagnostic> {
        let mut out = self.validate(document);
        let schema_failed = out.iter().any(|d| d.severity == Severity::Error);
        // A rule that cannot be evaluated on a document the schema already rejects is most
        // likely reading what the schema reports as missing or mistyped: say it once.
        out.extend(
            self.rules
                .evaluate(document, vars)
                .into_iter()
                .filter(|d| !(schema_failed && matches!(d.code, Code::RuleError(_)))),
        );
        out.sort_by_key(|d| d.span.start);
        out
    }

    /// Schema diagnostics for one document (no rules), sorted by position.
    #[must_use]
    pub fn validate(&self, document: &Document) -> Vec<Diagnostic> {
        let mut pending = Vec::new();
        let mut count = 0;
        // Most documents are valid: `is_valid` stops at nothing and builds no error.
        if !self.validator.is_valid(&document.value) {
            for error in self.validator.iter_errors(&document.value) {
                count += 1;
                self.convert(&error, document, &mut pending);
            }
        }
        // Every span at once: for a JSON document, one pass over its text.
        let wanted: Vec<(&str, bool)> = pending
            .iter()
            .map(|p: &Pending| (p.pointer.as_deref().unwrap_or_default(), p.prefer_key))
            .collect();
        let spans = document.locate_all(&wanted);
        drop(wanted);
        let mut out: Vec<Diagnostic> = pending
            .into_iter()
            .zip(spans)
            .map(|(p, span)| Diagnostic {
                span,
                ..p.diagnostic
            })
            .collect();
        self.check_yaml11_words(document, count, &mut out);
        let mut seen = std::collections::HashSet::new();
        out.retain(|d| seen.insert((d.span, d.message.clone())));
        out.sort_by_key(|d| d.span.start);
        if out.len() > MAX_DIAGNOSTICS {
            let more = out.len() - MAX_DIAGNOSTICS;
            out.truncate(MAX_DIAGNOSTICS);
            let last = out.last().map(|d| d.span).unwrap_or_default();
            let mut note = Diagnostic::error(
                Code::Schema("limit".into()),
                format!("{more} more schema errors in this document are not shown"),
                last,
            );
            note.document = document.index;
            out.push(note);
        }
        out
    }

    /// A plain `no` that YAML 1.2 reads as a string is a trap when the schema wants a string
    /// there: YAML 1.1 tools (PyYAML, older Ruby and Go libraries) read it as `false`. Warn when
    /// the document validates worse with the boolean than with the string.
    fn check_yaml11_words(&self, document: &Document, errors: usize, out: &mut Vec<Diagnostic>) {
        for pointer in document.yaml11_words.iter().take(MAX_WORD_CHECKS) {
            let Some(Value::String(text)) = document.value.pointer(pointer) else {
                continue;
            };
            let boolean = yaml11_bool_value(text);
            let mut alternative = document.value.clone();
            if let Some(slot) = alternative.pointer_mut(pointer) {
                *slot = Value::Bool(boolean);
            }
            if self.validator.iter_errors(&alternative).count() > errors {
                let mut warning = Diagnostic::warning(
                    Code::Yaml11Boolean,
                    format!(
                        "{} is the string {} in YAML 1.2 but the boolean `{boolean}` in YAML 1.1",
                        quote(text),
                        quote(text)
                    ),
                    document.locate(pointer, false),
                )
                .with_pointer(pointer.clone())
                .with_suggestion(format!(
                    "quote it ('{text}') so every YAML reader sees a string"
                ));
                warning.document = document.index;
                out.push(warning);
            }
        }
    }

    /// The schema object that holds the keyword an error comes from.
    fn keyword_parent(&self, error: &ValidationError<'_>) -> Option<&Value> {
        let (document, fragment) = match error.absolute_keyword_location() {
            Some(location) => {
                let location = location.as_str();
                let (base, fragment) = location.split_once('#').unwrap_or((location, ""));
                let document = self
                    .documents
                    .get(base)
                    .or_else(|| self.documents.get(&self.root_base))?;
                (document, percent_decode(fragment))
            }
            None => (
                self.documents.get(&self.root_base)?,
                error.schema_path().as_str().to_owned(),
            ),
        };
        let parent = fragment.rsplit_once('/').map_or("", |(parent, _)| parent);
        document.pointer(parent)
    }

    fn convert(&self, error: &ValidationError<'_>, document: &Document, out: &mut Vec<Pending>) {
        let pointer = error.instance_path().as_str().to_owned();
        let instance = error.instance().as_ref();
        let schema_path = format!("#{}", error.schema_path());
        let keyword = error.kind().keyword().to_owned();
        let make = |message: String, at: String, prefer_key: bool| Pending {
            diagnostic: Diagnostic {
                severity: Severity::Error,
                code: Code::Schema(keyword.clone()),
                message,
                span: Span::default(),
                document: document.index,
                pointer: Some(at),
                schema_path: Some(schema_path.clone()),
                suggestion: None,
            },
            prefer_key,
        };
        match error.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected }
            | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
                let known: Vec<&str> = self
                    .keyword_parent(error)
                    .and_then(|parent| parent.get("properties"))
                    .and_then(Value::as_object)
                    .map(|p| p.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                for name in unexpected {
                    let mut d = make(
                        format!("unknown property {}", quote(name)),
                        push_pointer(&pointer, name),
                        true,
                    );
                    d.suggestion = closest(name, known.iter().copied())
                        .map(|best| format!("did you mean {}?", quote(best)));
                    out.push(d);
                }
            }
            ValidationErrorKind::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                let mut d = make(
                    format!("missing required property {}", quote(name)),
                    pointer.clone(),
                    true,
                );
                if let Some(object) = instance.as_object() {
                    let known: Vec<&str> = self
                        .keyword_parent(error)
                        .and_then(|parent| parent.get("properties"))
                        .and_then(Value::as_object)
                        .map(|p| p.keys().map(String::as_str).collect())
                        .unwrap_or_default();
                    let strangers = object
                        .keys()
                        .map(String::as_str)
                        .filter(|k| !known.contains(k));
                    if let Some(typo) = closest(name, strangers) {
                        d.suggestion = Some(format!("is {} a misspelling of it?", quote(typo)));
                    }
                }
                out.push(d);
            }
            ValidationErrorKind::AnyOf { context }
            | ValidationErrorKind::OneOfNotValid { context } => {
                self.alternatives(error, context, document, out, &make);
            }
            ValidationErrorKind::PropertyNames { error: inner } => {
                let name = inner.instance().as_str().unwrap_or_default().to_owned();
                out.push(make(
                    format!(
                        "property name {} is invalid: {}",
                        quote(&name),
                        message_for(inner)
                    ),
                    push_pointer(&pointer, &name),
                    true,
                ));
            }
            ValidationErrorKind::FalseSchema => {
                let parent_is_object = pointer
                    .rsplit_once('/')
                    .and_then(|(parent, _)| document.value.pointer(parent))
                    .is_some_and(Value::is_object);
                let message = match pointer_tokens(&pointer).last() {
                    Some(name) if parent_is_object => {
                        format!("property {} is not allowed", quote(name))
                    }
                    _ => format!("{} is not allowed here", quote_value(instance)),
                };
                out.push(make(message, pointer, true));
            }
            kind => {
                let mut d = make(message_for(error), pointer.clone(), false);
                if let (ValidationErrorKind::Type { kind }, Value::String(text)) = (kind, instance)
                {
                    let wants_bool = match kind {
                        TypeKind::Single(t) => t.as_str() == "boolean",
                        TypeKind::Multiple(set) => set.iter().any(|t| t.as_str() == "boolean"),
                    };
                    if wants_bool
                        && is_yaml11_bool(text)
                        && document.yaml11_words.contains(&pointer)
                    {
                        d.suggestion = Some(format!(
                            "YAML 1.2 reads {} as a string: write `{}`",
                            quote(text),
                            yaml11_bool_value(text)
                        ));
                    }
                }
                if let (ValidationErrorKind::Enum { options }, Value::String(text)) =
                    (kind, instance)
                {
                    let words = options
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str);
                    d.suggestion =
                        closest(text, words).map(|best| format!("did you mean {}?", quote(best)));
                }
                out.push(d);
            }
        }
    }

    /// `anyOf`/`oneOf` with no valid alternative: report the alternative that fits best (one
    /// whose failures are not "wrong type/value right here"), else one message listing the
    /// types and values that would have been accepted.
    fn alternatives(
        &self,
        error: &ValidationError<'_>,
        context: &[Vec<ValidationError<'static>>],
        document: &Document,
        out: &mut Vec<Pending>,
        make: &dyn Fn(String, String, bool) -> Pending,
    ) {
        let here = error.instance_path().as_str();
        let misfit = |e: &ValidationError<'_>| {
            e.instance_path().as_str() == here
                && matches!(
                    e.kind(),
                    ValidationErrorKind::Type { .. }
                        | ValidationErrorKind::Enum { .. }
                        | ValidationErrorKind::Constant { .. }
                        | ValidationErrorKind::FalseSchema
                )
        };
        let fitting: Vec<&Vec<ValidationError<'static>>> = context
            .iter()
            .filter(|branch| !branch.is_empty() && !branch.iter().any(misfit))
            .collect();
        // `oneOf: [{required: [uses]}, {required: [run]}]`: name every way out.
        let missing: Vec<String> = fitting
            .iter()
            .filter_map(|branch| match branch.as_slice() {
                [only] if only.instance_path().as_str() == here => match only.kind() {
                    ValidationErrorKind::Required { property } => Some(quote_value(property)),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        if fitting.len() > 1 && missing.len() == fitting.len() {
            out.push(make(
                format!("missing required property {}", or_list(&missing)),
                here.to_owned(),
                true,
            ));
            return;
        }
        let best = fitting.into_iter().min_by_key(|branch| branch.len());
        if let Some(branch) = best {
            for e in branch {
                self.convert(e, document, out);
            }
            return;
        }
        let mut types: Vec<String> = Vec::new();
        let mut values: Vec<String> = Vec::new();
        let mut words: Vec<String> = Vec::new();
        for e in context.iter().flatten().filter(|e| misfit(e)) {
            match e.kind() {
                ValidationErrorKind::Type { kind } => types.extend(type_names(kind)),
                ValidationErrorKind::Enum { options } => {
                    for option in options.as_array().into_iter().flatten() {
                        values.push(quote_value(option));
                        words.extend(option.as_str().map(str::to_owned));
                    }
                }
                ValidationErrorKind::Constant { expected_value } => {
                    values.push(quote_value(expected_value));
                    words.extend(expected_value.as_str().map(str::to_owned));
                }
                _ => {}
            }
        }
        dedup(&mut types);
        dedup(&mut values);
        let instance = error.instance().as_ref();
        let found = describe(instance);
        let message = match (values.is_empty(), types.is_empty()) {
            (true, true) => format!("{found} matches none of the allowed alternatives"),
            (true, false) => format!("expected {}, found {found}", or_list(&types)),
            (false, true) => format!(
                "{} is not one of {}",
                quote_value(instance),
                or_list(&shorten(values))
            ),
            (false, false) => format!(
                "expected one of {} or a value of type {}, found {found}",
                shorten(values).join(", "),
                or_list(&types)
            ),
        };
        let mut d = make(message, here.to_owned(), false);
        if let Value::String(text) = instance {
            d.suggestion = closest(text, words.iter().map(String::as_str))
                .map(|best| format!("did you mean {}?", quote(best)));
        }
        out.push(d);
    }
}

fn dedup(items: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    items.retain(|item| seen.insert(item.clone()));
}

/// At most 8 values, then `…`.
fn shorten(mut values: Vec<String>) -> Vec<String> {
    if values.len() > 8 {
        let more = values.len() - 8;
        values.truncate(8);
        values.push(format!("{more} more"));
    }
    values
}

fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

fn type_names(kind: &TypeKind) -> Vec<String> {
    match kind {
        TypeKind::Single(t) => vec![t.as_str().to_owned()],
        TypeKind::Multiple(set) => set.iter().map(|t| t.as_str().to_owned()).collect(),
    }
}

/// `string `abc``, `number `42``, `object`, …
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("boolean `{b}`"),
        Value::Number(n) if n.is_f64() => format!("number `{n}`"),
        Value::Number(n) => format!("integer `{n}`"),
        Value::String(s) => format!("string {}", quote(s)),
        Value::Array(_) => "array".to_owned(),
        Value::Object(_) => "object".to_owned(),
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

fn count_of(value: &Value) -> usize {
    match value {
        Value::Array(items) => items.len(),
        Value::Object(map) => map.len(),
        Value::String(s) => s.chars().count(),
        _ => 0,
    }
}

/// A short lower-case message for one error, without position.
fn message_for(error: &ValidationError<'_>) -> String {
    let value = error.instance().as_ref();
    let v = quote_value(value);
    let n = count_of(value);
    match error.kind() {
        ValidationErrorKind::Type { kind } => {
            format!(
                "expected {}, found {}",
                or_list(&type_names(kind)),
                describe(value)
            )
        }
        ValidationErrorKind::Enum { options } => {
            let options: Vec<String> = options
                .as_array()
                .map(|o| o.iter().map(quote_value).collect())
                .unwrap_or_default();
            format!("{v} is not one of {}", or_list(&shorten(options)))
        }
        ValidationErrorKind::Constant { expected_value } => {
            format!("expected {}, found {v}", quote_value(expected_value))
        }
        ValidationErrorKind::Minimum { limit } => {
            format!("{v} is less than the minimum of `{limit}`")
        }
        ValidationErrorKind::Maximum { limit } => {
            format!("{v} is greater than the maximum of `{limit}`")
        }
        ValidationErrorKind::ExclusiveMinimum { limit } => {
            format!("{v} must be greater than `{limit}`")
        }
        ValidationErrorKind::ExclusiveMaximum { limit } => {
            format!("{v} must be less than `{limit}`")
        }
        ValidationErrorKind::MinLength { limit } if *limit == 1 => {
            // The value is the empty string: name its key instead (`apiKey` must not be empty).
            let tokens = crate::position::pointer_tokens(error.instance_path().as_str());
            match tokens.last() {
                Some(key) if !key.is_empty() && !key.bytes().all(|b| b.is_ascii_digit()) => {
                    format!("{} must not be empty", quote(key))
                }
                _ => "the value must not be empty".to_string(),
            }
        }
        ValidationErrorKind::MinLength { limit } => format!(
            "{v} is shorter than {} ({n})",
            plural(*limit, "character", "characters")
        ),
        ValidationErrorKind::MaxLength { limit } => format!(
            "{v} is longer than {} ({n})",
            plural(*limit, "character", "characters")
        ),
        ValidationErrorKind::Pattern { pattern } => {
            format!("{v} does not match the pattern {}", quote(pattern))
        }
        ValidationErrorKind::Format { format } => format!("{v} is not a valid {}", quote(format)),
        ValidationErrorKind::MinItems { limit } => format!(
            "expected at least {}, found {n}",
            plural(*limit, "item", "items")
        ),
        ValidationErrorKind::MaxItems { limit } => format!(
            "expected at most {}, found {n}",
            plural(*limit, "item", "items")
        ),
        ValidationErrorKind::MinProperties { limit } => format!(
            "expected at least {}, found {n}",
            plural(*limit, "property", "properties")
        ),
        ValidationErrorKind::MaxProperties { limit } => format!(
            "expected at most {}, found {n}",
            plural(*limit, "property", "properties")
        ),
        ValidationErrorKind::UniqueItems => "array items must be unique".to_owned(),
        ValidationErrorKind::MultipleOf { multiple_of } => {
            format!("{v} is not a multiple of `{multiple_of}`")
        }
        ValidationErrorKind::Contains => "no array item matches the `contains` schema".to_owned(),
        ValidationErrorKind::Not { .. } => format!("{v} must not match the `not` schema"),
        ValidationErrorKind::FalseSchema => format!("{v} is not allowed here"),
        ValidationErrorKind::AdditionalItems { limit } => {
            format!(
                "expected at most {}, found {n}",
                plural(*limit as u64, "item", "items")
            )
        }
        ValidationErrorKind::UnevaluatedItems { unexpected } => {
            format!(
                "{} not allowed by the schema",
                plural(unexpected.len() as u64, "item is", "items are")
            )
        }
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
            let names: Vec<String> = unexpected.iter().map(|u| quote(u)).collect();
            format!(
                "unknown {} {}",
                if names.len() == 1 {
                    "property"
                } else {
                    "properties"
                },
                or_list(&names)
            )
        }
        ValidationErrorKind::Required { property } => {
            format!("missing required property {}", quote_value(property))
        }
        ValidationErrorKind::AnyOf { .. } | ValidationErrorKind::OneOfNotValid { .. } => {
            format!(
                "{} matches none of the allowed alternatives",
                describe(value)
            )
        }
        ValidationErrorKind::OneOfMultipleValid { .. } => {
            format!(
                "{} matches more than one `oneOf` alternative",
                describe(value)
            )
        }
        ValidationErrorKind::PropertyNames { error } => {
            format!("property name is invalid: {}", message_for(error))
        }
        ValidationErrorKind::ContentEncoding { content_encoding } => {
            format!("{v} is not valid {}", quote(content_encoding))
        }
        ValidationErrorKind::ContentMediaType { content_media_type } => {
            format!("{v} is not valid {}", quote(content_media_type))
        }
        ValidationErrorKind::FromUtf8 { .. } => format!("{v} does not decode to UTF-8 text"),
        ValidationErrorKind::Custom { message, .. } => lower_first(message),
        ValidationErrorKind::Referencing(e) => {
            format!(
                "a `$ref` cannot be resolved: {}",
                lower_first(&e.to_string())
            )
        }
        ValidationErrorKind::BacktrackLimitExceeded { .. }
        | ValidationErrorKind::RegexEngineFailure { .. } => {
            format!("the pattern could not be evaluated against {v}")
        }
    }
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The candidate closest to `word`: equal ignoring case, or within an edit distance of a third
/// of its length (at least 1).
fn closest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_lowercase();
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .filter(|c| *c != word)
        .map(|c| {
            let distance = if c.to_lowercase() == lower {
                0
            } else {
                strsim::damerau_levenshtein(&lower, &c.to_lowercase())
            };
            (distance, c)
        })
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use serde_json::json;

    use super::*;
    use crate::parse::{Format, Limits, parse};

    fn compile(
        schema: &Value,
        options: &SchemaOptions,
        retriever: Arc<dyn Retrieve>,
    ) -> Result<Schema, Error> {
        Schema::compile(
            schema,
            "https://example.com/schemas/root.json",
            retriever,
            options,
        )
    }

    /// Validates `yaml` against `schema` and renders each diagnostic on one line.
    fn render(schema: &Value, yaml: &str, options: &SchemaOptions) -> String {
        let retriever: Arc<dyn Retrieve> = Arc::new(|uri: &str| -> Result<Value, RetrieveError> {
            match uri {
                "https://example.com/schemas/defs.json" => Ok(json!({
                    "$defs": {"port": {"type": "integer", "minimum": 1, "maximum": 65535}}
                })),
                "https://example.com/schemas/custom.json" => Ok(json!({
                    "$schema": "https://example.com/meta/unknown", "type": "string"
                })),
                "https://example.com/schemas/base.json" => Ok(json!({
                    "$defs": {"name": {"type": "string"}, "broken": {"$ref": "nowhere.json"}}
                })),
                other => Err(format!("not found: {other}").into()),
            }
        });
        let schema = match compile(schema, options, retriever) {
            Ok(schema) => schema,
            Err(error) => return format!("error: {error}"),
        };
        let parsed = parse(yaml.as_bytes(), Format::Yaml, &Limits::default());
        let mut out = String::new();
        for d in schema.validate(&parsed.documents[0]) {
            let _ = writeln!(
                out,
                "{}:{} {}[{}] {}",
                d.span.start.line,
                d.span.start.column,
                d.severity,
                d.code,
                d.full_message()
            );
        }
        out
    }

    macro_rules! check {
        ($schema:expr, $yaml:expr, @$expect:literal) => {
            insta::assert_snapshot!(render(&$schema, $yaml, &SchemaOptions::default()), @$expect)
        };
        ($schema:expr, $yaml:expr, $options:expr, @$expect:literal) => {
            insta::assert_snapshot!(render(&$schema, $yaml, &$options), @$expect)
        };
        (spec_strict: $schema:expr, $yaml:expr, @$expect:literal) => {
            insta::assert_snapshot!(
                render(&$schema, $yaml, &SchemaOptions { spec_strict: true, ..SchemaOptions::default() }),
                @$expect
            )
        };
    }

    #[test]
    fn required_points_at_the_parent_key_and_spots_misspellings() {
        let schema = json!({"properties": {"agents": {"type": "object", "required": ["timeout"],
            "properties": {"timeout": {"type": "number"}}}}});
        check!(schema, "agents:\n  timout: 30\n", @"1:1 error[schema/required] missing required property `timeout`; is `timout` a misspelling of it?");
    }

    #[test]
    fn one_of_required_names_every_way_out() {
        let schema = json!({"properties": {"step": {"oneOf": [{"required": ["uses"]}, {"required": ["run"]}]}}});
        check!(schema, "step:\n  name: x\n", @"1:1 error[schema/oneOf] missing required property `uses` or `run`");
    }

    #[test]
    fn any_of_reports_the_alternative_that_fits() {
        let schema = json!({"properties": {"runs-on": {"anyOf": [
            {"type": "string", "enum": ["ubuntu-latest", "windows-latest"]},
            {"type": "array", "items": {"type": "string"}},
            {"type": "object", "properties": {"group": {"type": "string"}}, "additionalProperties": false}
        ]}}});
        check!(schema, "runs-on: ubuntu-lates\n", @"1:10 error[schema/anyOf] expected one of `ubuntu-latest`, `windows-latest` or a value of type array or object, found string `ubuntu-lates`; did you mean `ubuntu-latest`?");
        check!(schema, "runs-on: [linux, 3]\n", @"1:18 error[schema/type] expected string, found integer `3`");
        check!(schema, "runs-on: {grop: x}\n", @"1:11 error[schema/additionalProperties] unknown property `grop`; did you mean `group`?");
        check!(schema, "runs-on: 42\n", @"1:10 error[schema/anyOf] expected one of `ubuntu-latest`, `windows-latest` or a value of type string, array or object, found integer `42`");
    }

    #[test]
    fn yaml_1_1_words_where_a_string_is_expected_are_warnings() {
        let schema = json!({"properties": {"country": {"type": "string"}, "flag": {"type": "boolean"},
            "either": {"type": ["string", "boolean"]}}});
        check!(schema, "country: no\nflag: off\neither: yes\n", @"
        1:10 warning[yaml11-boolean] `no` is the string `no` in YAML 1.2 but the boolean `false` in YAML 1.1; quote it ('no') so every YAML reader sees a string
        2:7 error[schema/type] expected boolean, found string `off`; YAML 1.2 reads `off` as a string: write `false`
        ");
    }

    #[test]
    fn remote_refs_go_through_the_retriever() {
        let schema = json!({"properties": {"port": {"$ref": "defs.json#/$defs/port"}}});
        check!(schema, "port: 70000\n", @"1:7 error[schema/maximum] `70000` is greater than the maximum of `65535`");
        let missing = json!({"properties": {"port": {"$ref": "https://elsewhere.example/x.json"}}});
        check!(missing, "port: 1\n", @"error: schema `https://example.com/schemas/root.json` cannot be compiled: `https://elsewhere.example/x.json` cannot be retrieved: not found: https://elsewhere.example/x.json");
    }

    #[test]
    fn formats_are_switchable() {
        let schema = json!({"properties": {"when": {"type": "string", "format": "date-time"},
            "what": {"type": "string", "format": "no-such-format"}}});
        check!(schema, "when: yesterday\nwhat: x\n", @"1:7 error[schema/format] `yesterday` is not a valid `date-time`");
        check!(schema, "when: yesterday\nwhat: x\n", SchemaOptions { formats: false, ..SchemaOptions::default() }, @"");
    }

    #[test]
    fn drafts_come_from_dollar_schema() {
        // Draft 4: `exclusiveMinimum` is a boolean modifier of `minimum`.
        let draft4 = json!({"$schema": "http://json-schema.org/draft-04/schema#",
            "properties": {"n": {"minimum": 0, "exclusiveMinimum": true}}});
        check!(draft4, "n: 0\n", @"1:4 error[schema/exclusiveMinimum] `0` must be greater than `0`");
        let invalid =
            json!({"$schema": "http://json-schema.org/draft-07/schema#", "type": "objekt"});
        check!(invalid, "a: 1\n", @r#"error: schema `https://example.com/schemas/root.json` cannot be compiled: "objekt" is not valid under any of the schemas listed in the 'anyOf' keyword"#);
    }

    #[test]
    fn false_schemas_and_property_names() {
        let schema =
            json!({"properties": {"old": false}, "propertyNames": {"pattern": "^[a-z]+$"}});
        check!(schema, "old: 1\nBad: 2\n", @"
        1:1 error[schema/falseSchema] property `old` is not allowed
        2:1 error[schema/propertyNames] property name `Bad` is invalid: `Bad` does not match the pattern `^[a-z]+$`
        ");
    }

    #[test]
    fn json_extensions_follow_the_schema() {
        let strict = compile(&json!({}), &SchemaOptions::default(), Arc::new(NoRetrieve))
            .expect("because `{}` compiles");
        let lenient = compile(
            &json!({"allowComments": true}),
            &SchemaOptions::default(),
            Arc::new(NoRetrieve),
        )
        .expect("because the schema compiles");
        assert!(!strict.allows_json_extensions());
        assert!(lenient.allows_json_extensions());
    }

    #[test]
    fn meta_schema_refs_need_no_retriever() {
        // A schema file checked against its draft's meta-schema, offline.
        let schema = json!({"$schema": "http://json-schema.org/draft-07/schema#",
            "$ref": "http://json-schema.org/draft-07/schema#"});
        check!(schema, "type: objekt\n", @"1:7 error[schema/anyOf] expected one of `array`, `boolean`, `integer`, `null`, `number`, `object`, `string` or a value of type array, found string `objekt`; did you mean `object`?");
    }

    #[test]
    fn nested_rules_point_into_json_documents() {
        let schema = json!({"properties": {"models": {"type": "object",
            "x-rules": [{"rule": "self.primary != self.fallback", "message": "must differ",
                         "fieldPath": "/fallback"}]}}});
        let schema = compile(&schema, &SchemaOptions::default(), Arc::new(NoRetrieve))
            .expect("because the schema compiles");
        let text = "{\n  \"models\": {\n    \"primary\": \"a\",\n    \"fallback\": \"a\"\n  }\n}\n";
        let parsed = parse(text.as_bytes(), Format::Json, &Limits::default());
        let found = schema.check(&parsed.documents[0], &RuleVars::default());
        let found: Vec<_> = found
            .iter()
            .map(|d| (d.span.start.line, d.span.start.column, d.message.as_str()))
            .collect();
        assert_eq!(found, vec![(4, 5, "must differ")]);
    }

    const DRAFT4: &str = "http://json-schema.org/draft-04/schema#";
    const DRAFT7: &str = "http://json-schema.org/draft-07/schema#";

    #[test]
    fn const_applies_in_draft_4_as_ajv_applies_it() {
        let schema = json!({"$schema": DRAFT4, "properties": {"orientation": {"oneOf": [
            {"const": "landscape"}, {"const": "portrait"}]}}});
        check!(schema, "orientation: landscape\n", @"");
        check!(schema, "orientation: sideways\n", @"1:14 error[schema/oneOf] `sideways` is not one of `landscape` or `portrait`");
        // The specification: draft-04 has no `const`, so both alternatives match anything.
        check!(spec_strict: schema, "orientation: landscape\n", @"1:14 error[schema/oneOf] string `landscape` matches more than one `oneOf` alternative");
    }

    #[test]
    fn keywords_beside_ref_apply_in_draft_7_as_ajv_applies_them() {
        let schema = json!({"$schema": DRAFT7, "definitions": {"o": {"type": "object"}},
            "properties": {"p": {"$ref": "#/definitions/o", "required": ["x"]}}});
        check!(schema, "p: {}\n", @"1:1 error[schema/required] missing required property `x`");
        check!(schema, "p: {x: 1}\n", @"");
        check!(schema, "p: 3\n", @"1:4 error[schema/type] expected object, found integer `3`");
        // The specification: only the `$ref` counts.
        check!(spec_strict: schema, "p: {}\n", @"");
        check!(spec_strict: schema, "p: 3\n", @"1:4 error[schema/type] expected object, found integer `3`");
        // 2019-09 and later apply them by the specification too.
        let later = json!({"$defs": {"o": {"type": "object"}},
            "properties": {"p": {"$ref": "#/$defs/o", "required": ["x"]}}});
        check!(later, "p: {}\n", @"1:1 error[schema/required] missing required property `x`");
        check!(spec_strict: later, "p: {}\n", @"1:1 error[schema/required] missing required property `x`");
    }

    #[test]
    fn ref_fragments_with_characters_uris_do_not_allow_name_their_definition() {
        let schema = json!({"definitions": {"id::Inputs<String>": {"type": "integer"}},
            "properties": {"n": {"$ref": "#/definitions/id::Inputs<String>"}}});
        check!(schema, "n: 1\n", @"");
        check!(schema, "n: one\n", @"1:4 error[schema/type] expected integer, found string `one`");
        check!(spec_strict: schema, "n: one\n", @"1:4 error[schema/type] expected integer, found string `one`");
    }

    #[test]
    fn an_unretrievable_ref_fails_only_where_the_schema_uses_it() {
        let unused = json!({"properties": {"name": {"$ref": "base.json#/$defs/name"}}});
        check!(unused, "name: x\n", @"");
        check!(unused, "name: 1\n", @"1:7 error[schema/type] expected string, found integer `1`");
        check!(spec_strict: unused, "name: x\n", @"");
        // A meta-schema no one can fetch is reported as that, not answered by the stand-in.
        let custom = json!({"properties": {"name": {"$ref": "custom.json"}}});
        check!(custom, "name: 1\n", @"error: schema `https://example.com/schemas/root.json` cannot be compiled: unknown meta-schema: 'https://example.com/meta/unknown'. Custom meta-schemas must be registered in the registry before use");
        let used = json!({"properties": {"name": {"$ref": "base.json#/$defs/broken"}}});
        check!(used, "name: x\n", @"error: schema `https://example.com/schemas/root.json` cannot be compiled: `https://example.com/schemas/nowhere.json` cannot be retrieved: not found: https://example.com/schemas/nowhere.json");
    }

    #[test]
    fn content_media_type_is_an_annotation_in_draft_7() {
        let schema = json!({"$schema": DRAFT7, "properties": {
            "json": {"type": "string", "contentMediaType": "application/json"},
            "blob": {"type": "string", "contentEncoding": "base64"}}});
        check!(schema, "json: ''\nblob: '*not base64*'\n", @"");
        check!(spec_strict: schema, "json: ''\nblob: '*not base64*'\n", @"");
    }

    #[test]
    fn date_time_takes_the_offset_as_optional_as_ajv_formats_does() {
        let schema = json!({"properties": {"when": {"type": "string", "format": "date-time"}}});
        check!(schema, "when: '2018-12-14T10:00:00'\n", @"");
        check!(schema, "when: '2018-12-14T25:00:00'\n", @"1:7 error[schema/format] `2018-12-14T25:00:00` is not a valid `date-time`");
        // The specification (RFC 3339) asks for the offset.
        check!(spec_strict: schema, "when: '2018-12-14T10:00:00'\n", @"1:7 error[schema/format] `2018-12-14T10:00:00` is not a valid `date-time`");
    }

    #[test]
    fn schemas_are_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Schema>();
    }
}
