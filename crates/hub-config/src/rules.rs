//! Cross-field rules in CEL, the checks JSON Schema cannot say, written next to the schema as an
//! `x-rules` list (or in a separate rules file) in the spirit of Kubernetes CRD validation rules.
//!
//! A rule is an object:
//!
//! | field | meaning |
//! | --- | --- |
//! | `rule` | CEL expression that must be `true` (required) |
//! | `message` | what to report when it is `false` (required); `{key}` is replaced by the matched key |
//! | `name` | id in reports, `rule/<name>` (default `rule-<n>`) |
//! | `severity` | `error` (default) or `warning` |
//! | `path` | JSON pointer of the node the rule is about, `*` matching every key or index (default: the root) |
//! | `fieldPath` | JSON pointer, relative to the matched node, of the place to report (default: the node itself) |
//!
//! A schema's rules may sit at its root or in any subschema reached through `properties`,
//! `patternProperties`, `additionalProperties`, `items`, `prefixItems`, `allOf` or a local
//! `$ref` ([`RuleSet::from_schema`]); such a rule is about every node its subschema describes.
//!
//! In the expression, `self` is the matched node, `root` the whole document, `key` the key (or
//! index) the last `*` matched (`null` without one), and `vars` the map of string constants the
//! caller declares ([`RuleVars`]; `vars.NAME`, guarded with `has(vars.NAME)` where it may be
//! unset). A schema is code that may come from an untrusted pull request, so a rule reads
//! nothing else: no environment, no files, no clock. The standard library and the strings,
//! lists and math extensions are available (`'a'.upperAscii()`, `matches`, `all`, `exists`, …).
//!
//! A rule that cannot be evaluated for a document (a missing key it reads without `has()`, a type
//! mismatch) is reported as a `rule-error` warning, never silently passed or failed; a rule that
//! returns something other than a boolean is described by the type it returned, never its value.
//! Messages are static text (plus `{key}`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use cel::objects::Key;
use serde_json::Value;

use crate::diagnostic::{Code, Diagnostic, Severity, quote};
use crate::error::Error;
use crate::parse::Document;
use crate::position::{Span, percent_decode, pointer_tokens, push_pointer};

/// The constants rules read as `vars.NAME`, declared by the caller (the workflow's `rule-vars`).
/// Every rule of every schema can read them, so they are never secrets. Cheap to clone.
///
/// ```
/// let vars: hub_config::RuleVars = [("REGION", "eu")].into_iter().collect();
/// assert_eq!(vars.get("REGION"), Some("eu"));
/// assert!(hub_config::RuleVars::is_name("REGION") && !hub_config::RuleVars::is_name("a-b"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct RuleVars(Arc<BTreeMap<String, String>>);

impl RuleVars {
    /// The value of `name`, if declared.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// Whether `name` can be written `vars.NAME` in CEL: a letter or `_`, then letters, digits
    /// or `_`.
    #[must_use]
    pub fn is_name(name: &str) -> bool {
        let mut chars = name.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    }

    fn to_cel(&self) -> cel::Value {
        let entries: HashMap<Key, cel::Value> = self
            .0
            .iter()
            .map(|(k, v)| {
                (
                    Key::from(k.clone()),
                    cel::Value::String(Arc::new(v.clone())),
                )
            })
            .collect();
        cel::Value::from(entries)
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for RuleVars {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self(Arc::new(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        ))
    }
}

/// One step from a node to the nodes a rule is about.
#[derive(Clone)]
enum Token {
    /// A `path` token: the member with this key, or the array item with this index.
    Key(String),
    /// `*` in a `path`: every member or item.
    Any,
    /// A subschema under `properties`: the object member with this name.
    Property(String),
    /// A subschema under `items` (one schema for every item): every array item.
    Item,
    /// A subschema under `prefixItems` or the array form of `items`: the item at this index.
    Index(usize),
    /// A subschema under `patternProperties`: every member whose key matches.
    Matching(Arc<jsonschema::Validator>),
    /// A subschema under `additionalProperties`: every member that `properties` does not name
    /// and `patternProperties` does not match.
    Additional {
        named: Vec<String>,
        patterns: Vec<Arc<jsonschema::Validator>>,
    },
}

fn matches_any(patterns: &[Arc<jsonschema::Validator>], key: &str) -> bool {
    let key = Value::String(key.to_owned());
    patterns.iter().any(|pattern| pattern.is_valid(&key))
}

struct Rule {
    name: String,
    message: String,
    severity: Severity,
    path: Vec<Token>,
    field_path: String,
    program: cel::Program,
}

/// A compiled list of rules; compile once, evaluate against many documents.
pub struct RuleSet {
    origin: String,
    rules: Vec<Rule>,
    env: Arc<cel::Env>,
}

impl std::fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleSet")
            .field("origin", &self.origin)
            .field(
                "rules",
                &self.rules.iter().map(|r| &r.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

fn cel_env() -> cel::Env {
    let mut env = cel::Env::stdlib();
    for extension in [
        cel::extensions::strings as fn(&mut cel::Env) -> Result<(), cel::DeclarationError>,
        cel::extensions::lists,
        cel::extensions::math,
    ] {
        env.add_extension(extension)
            .expect("because the extensions declare names the standard library does not");
    }
    env
}

impl RuleSet {
    /// No rules.
    #[must_use]
    pub fn empty() -> Self {
        Self {
            origin: String::new(),
            rules: Vec::new(),
            env: Arc::new(cel_env()),
        }
    }

    /// Reads and compiles a list of rule objects; `origin` names the schema or file it came from
    /// in errors.
    ///
    /// # Errors
    ///
    /// [`Error::MalformedRule`] when the list or an entry is not shaped as documented,
    /// [`Error::RuleSyntax`] when an expression does not compile.
    pub fn from_json(origin: &str, value: &Value) -> Result<Self, Error> {
        let env = Arc::new(cel_env());
        let mut rules = Vec::new();
        compile_list(origin, value, &[], &env, &mut rules)?;
        Ok(Self {
            origin: origin.to_owned(),
            rules,
            env,
        })
    }

    /// Every `x-rules` list of a schema: at its root and in each subschema reached through
    /// `properties`, `patternProperties`, `additionalProperties`, `items`, `prefixItems`,
    /// `allOf` and local `$ref`s (so also under `$defs`/`definitions`). A rule in a subschema is
    /// about the nodes that subschema applies to: `self` is such a node, and `key` the key or
    /// index that `patternProperties`, `additionalProperties` or `items` matched. A `$ref` back
    /// into a subschema being walked (a recursive schema) is not followed again.
    ///
    /// # Errors
    ///
    /// As [`RuleSet::from_json`], naming a nested list by its schema location
    /// (`schema.json#/properties/models`); [`Error::MalformedRule`] too when the walk would visit
    /// more than 10,000 subschemas.
    pub fn from_schema(origin: &str, schema: &Value) -> Result<Self, Error> {
        let env = Arc::new(cel_env());
        let mut walk = Walk {
            origin,
            root: schema,
            env: &env,
            rules: Vec::new(),
            refs: Vec::new(),
            budget: MAX_SUBSCHEMA_VISITS,
        };
        if has_nested_rules(schema) {
            walk.schema(schema, String::new(), &[])?;
        } else if let Some(list) = schema.get("x-rules") {
            compile_list(origin, list, &[], &env, &mut walk.rules)?;
        }
        let rules = walk.rules;
        Ok(Self {
            origin: origin.to_owned(),
            rules,
            env,
        })
    }

    /// Number of rules.
    #[must_use]
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are no rules.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Adds another set's rules after this set's.
    pub fn extend(&mut self, other: RuleSet) {
        self.rules.extend(other.rules);
    }

    /// Evaluates every rule against one document.
    #[must_use]
    pub fn evaluate(&self, document: &Document, vars: &RuleVars) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        if self.rules.is_empty() {
            return out;
        }
        let root = to_cel(&document.value);
        let mut context = cel::Context::with_env(Arc::clone(&self.env));
        context.add_variable_from_value("vars", vars.to_cel());
        context.add_variable_from_value("root", root);
        for rule in &self.rules {
            let mut matches = Vec::new();
            select(
                &document.value,
                &rule.path,
                String::new(),
                None,
                &mut matches,
            );
            for (pointer, node, key) in matches {
                let mut scope = context.new_inner_scope();
                scope.add_variable_from_value("self", to_cel(node));
                scope.add_variable_from_value("key", key.clone().unwrap_or(cel::Value::Null));
                let at = format!("{pointer}{}", rule.field_path);
                // Placed below, all at once.
                let span = Span::default();
                let diagnostic = match rule.program.execute(&scope) {
                    Ok(cel::Value::Bool(true)) => continue,
                    Ok(cel::Value::Bool(false)) => {
                        let key_text = match &key {
                            Some(cel::Value::String(s)) => s.to_string(),
                            Some(cel::Value::Int(i)) => i.to_string(),
                            _ => String::new(),
                        };
                        let message = rule.message.replace("{key}", &key_text);
                        Diagnostic::new(rule.severity, Code::Rule(rule.name.clone()), message, span)
                    }
                    // The type, never the value: a value could carry what the rule read.
                    Ok(other) => Diagnostic::warning(
                        Code::RuleError(rule.name.clone()),
                        format!(
                            "rule `{}` returned a value of type `{}`, not a boolean",
                            rule.name,
                            other.type_of()
                        ),
                        span,
                    ),
                    Err(error) => {
                        let text = error.to_string();
                        let reads_env = ["'env'", "'hasEnv'"]
                            .iter()
                            .any(|name| text.ends_with(&format!("reference to {name}")));
                        Diagnostic::warning(
                            Code::RuleError(rule.name.clone()),
                            format!(
                                "rule `{}` could not be evaluated: {}",
                                rule.name,
                                lower_first(&text)
                            ),
                            span,
                        )
                        .with_suggestion(if reads_env {
                            "rules cannot read the environment: declare the value as a rule variable and read `vars.NAME`"
                        } else {
                            "guard optional fields with `has(…)`"
                        })
                    }
                };
                let mut diagnostic = diagnostic.with_pointer(at);
                diagnostic.document = document.index;
                out.push(diagnostic);
            }
        }
        let wanted: Vec<(&str, bool)> = out
            .iter()
            .map(|d| (d.pointer.as_deref().unwrap_or_default(), true))
            .collect();
        let spans = document.locate_all(&wanted);
        for (diagnostic, span) in out.iter_mut().zip(spans) {
            diagnostic.span = span;
        }
        out
    }
}

/// Most subschemas [`RuleSet::from_schema`] visits (a schema whose `$ref`s share subschemas
/// can have very many paths through them).
const MAX_SUBSCHEMA_VISITS: usize = 10_000;

/// Whether an `x-rules` key appears anywhere below the root of `schema`.
fn has_nested_rules(schema: &Value) -> bool {
    let mut stack: Vec<&Value> = match schema {
        Value::Object(map) => map
            .iter()
            .filter(|(k, _)| *k != "x-rules")
            .map(|(_, v)| v)
            .collect(),
        _ => return false,
    };
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(map) => {
                if map.contains_key("x-rules") {
                    return true;
                }
                stack.extend(map.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    false
}

/// The walk of [`RuleSet::from_schema`].
struct Walk<'a> {
    origin: &'a str,
    root: &'a Value,
    env: &'a Arc<cel::Env>,
    rules: Vec<Rule>,
    /// Locations of the `$ref` targets being walked, to stop at recursion.
    refs: Vec<String>,
    budget: usize,
}

impl Walk<'_> {
    fn schema(&mut self, node: &Value, location: String, prefix: &[Token]) -> Result<(), Error> {
        let Value::Object(object) = node else {
            return Ok(()); // `true`/`false` schemas hold no rules
        };
        if self.budget == 0 {
            return Err(Error::MalformedRule {
                origin: self.origin.to_owned(),
                index: None,
                message: format!(
                    "looking for `x-rules` visits more than {MAX_SUBSCHEMA_VISITS} subschemas"
                ),
            });
        }
        self.budget -= 1;
        if let Some(list) = object.get("x-rules") {
            let origin = if location.is_empty() {
                self.origin.to_owned()
            } else {
                format!("{}#{location}", self.origin)
            };
            compile_list(&origin, list, prefix, self.env, &mut self.rules)?;
        }
        let at = |keyword: &str| push_pointer(&location, keyword);
        let with = |token: Token| {
            let mut path = prefix.to_vec();
            path.push(token);
            path
        };
        let named: Vec<String> = object
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        if let Some(Value::Object(properties)) = object.get("properties") {
            for (name, sub) in properties {
                let location = push_pointer(&at("properties"), name);
                self.schema(sub, location, &with(Token::Property(name.clone())))?;
            }
        }
        let mut patterns = Vec::new();
        if let Some(Value::Object(properties)) = object.get("patternProperties") {
            for (pattern, sub) in properties {
                // The JSON Schema validator's own regex dialect; a pattern it cannot compile
                // was refused with the schema already.
                let Ok(matcher) =
                    jsonschema::validator_for(&serde_json::json!({"pattern": pattern}))
                else {
                    continue;
                };
                let matcher = Arc::new(matcher);
                patterns.push(Arc::clone(&matcher));
                let location = push_pointer(&at("patternProperties"), pattern);
                self.schema(sub, location, &with(Token::Matching(matcher)))?;
            }
        }
        if let Some(sub) = object.get("additionalProperties") {
            let token = Token::Additional { named, patterns };
            self.schema(sub, at("additionalProperties"), &with(token))?;
        }
        match object.get("items") {
            Some(Value::Array(tuple)) => {
                for (index, sub) in tuple.iter().enumerate() {
                    let location = push_pointer(&at("items"), &index.to_string());
                    self.schema(sub, location, &with(Token::Index(index)))?;
                }
            }
            Some(sub) => self.schema(sub, at("items"), &with(Token::Item))?,
            None => {}
        }
        if let Some(Value::Array(tuple)) = object.get("prefixItems") {
            for (index, sub) in tuple.iter().enumerate() {
                let location = push_pointer(&at("prefixItems"), &index.to_string());
                self.schema(sub, location, &with(Token::Index(index)))?;
            }
        }
        if let Some(Value::Array(all)) = object.get("allOf") {
            for (index, sub) in all.iter().enumerate() {
                let location = push_pointer(&at("allOf"), &index.to_string());
                self.schema(sub, location, prefix)?;
            }
        }
        if let Some(Value::String(reference)) = object.get("$ref") {
            // Local JSON-pointer references only: rules in other documents are not read.
            if let Some(fragment) = reference.strip_prefix('#') {
                let target = percent_decode(fragment);
                let recursive = self.refs.contains(&target);
                let root = self.root;
                if let Some(sub) = root.pointer(&target).filter(|_| !recursive) {
                    self.refs.push(target.clone());
                    let walked = self.schema(sub, target, prefix);
                    self.refs.pop();
                    walked?;
                }
            }
        }
        Ok(())
    }
}

/// Reads and compiles a list of rule objects into `out`, each about the nodes `prefix` leads
/// to (then its own `path`).
fn compile_list(
    origin: &str,
    value: &Value,
    prefix: &[Token],
    env: &Arc<cel::Env>,
    out: &mut Vec<Rule>,
) -> Result<(), Error> {
    let malformed = |index: Option<usize>, message: String| Error::MalformedRule {
        origin: origin.to_owned(),
        index,
        message,
    };
    let Value::Array(items) = value else {
        return Err(malformed(
            None,
            "expected a list of rule objects".to_owned(),
        ));
    };
    for (index, item) in items.iter().enumerate() {
        let Value::Object(fields) = item else {
            return Err(malformed(Some(index), "expected an object".to_owned()));
        };
        let text = |field: &str, required: bool| -> Result<Option<String>, Error> {
            match fields.get(field) {
                None if required => Err(malformed(Some(index), format!("`{field}` is missing"))),
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(malformed(
                    Some(index),
                    format!("`{field}` must be a string"),
                )),
            }
        };
        for field in fields.keys() {
            if !matches!(
                field.as_str(),
                "rule" | "message" | "name" | "severity" | "path" | "fieldPath"
            ) {
                return Err(malformed(
                    Some(index),
                    format!("unknown field {}", quote(field)),
                ));
            }
        }
        let expression = text("rule", true)?.unwrap_or_default();
        let message = text("message", true)?.unwrap_or_default();
        let name = text("name", false)?.unwrap_or_else(|| format!("rule-{}", index + 1));
        let severity = match text("severity", false)?.as_deref() {
            None | Some("error") => Severity::Error,
            Some("warning") => Severity::Warning,
            Some(other) => {
                return Err(malformed(
                    Some(index),
                    format!(
                        "`severity` must be `error` or `warning`, not {}",
                        quote(other)
                    ),
                ));
            }
        };
        let path = text("path", false)?.unwrap_or_default();
        if !path.is_empty() && !path.starts_with('/') {
            return Err(malformed(
                Some(index),
                "`path` must be a JSON pointer".to_owned(),
            ));
        }
        let path = prefix
            .iter()
            .cloned()
            .chain(
                pointer_tokens(&path)
                    .into_iter()
                    .map(|t| if t == "*" { Token::Any } else { Token::Key(t) }),
            )
            .collect();
        let field_path = text("fieldPath", false)?.unwrap_or_default();
        if !field_path.is_empty() && !field_path.starts_with('/') {
            return Err(malformed(
                Some(index),
                "`fieldPath` must be a JSON pointer".to_owned(),
            ));
        }
        let program = env.compile(&expression).map_err(|e| Error::RuleSyntax {
            origin: origin.to_owned(),
            name: name.clone(),
            message: e.to_string().replace('\n', " "),
        })?;
        out.push(Rule {
            name,
            message,
            severity,
            path,
            field_path,
            program,
        });
    }
    Ok(())
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Every node `path` matches, with its pointer and the key the last `*` matched.
fn select<'v>(
    value: &'v Value,
    path: &[Token],
    pointer: String,
    key: Option<cel::Value>,
    out: &mut Vec<(String, &'v Value, Option<cel::Value>)>,
) {
    let Some((first, rest)) = path.split_first() else {
        out.push((pointer, value, key));
        return;
    };
    match (first, value) {
        (Token::Key(k), Value::Object(map)) => {
            if let Some(child) = map.get(k) {
                select(child, rest, push_pointer(&pointer, k), key, out);
            }
        }
        (Token::Key(k), Value::Array(items)) => {
            if let Some(child) = k.parse::<usize>().ok().and_then(|i| items.get(i)) {
                select(child, rest, push_pointer(&pointer, k), key, out);
            }
        }
        (Token::Property(k), Value::Object(map)) => {
            if let Some(child) = map.get(k) {
                select(child, rest, push_pointer(&pointer, k), key, out);
            }
        }
        (Token::Index(i), Value::Array(items)) => {
            if let Some(child) = items.get(*i) {
                let matched = Some(cel::Value::Int(i64::try_from(*i).unwrap_or(i64::MAX)));
                select(
                    child,
                    rest,
                    push_pointer(&pointer, &i.to_string()),
                    matched,
                    out,
                );
            }
        }
        (Token::Any, Value::Object(map)) => {
            for (k, child) in map {
                let matched = Some(cel::Value::String(Arc::new(k.clone())));
                select(child, rest, push_pointer(&pointer, k), matched, out);
            }
        }
        (Token::Matching(pattern), Value::Object(map)) => {
            for (k, child) in map {
                if pattern.is_valid(&Value::String(k.clone())) {
                    let matched = Some(cel::Value::String(Arc::new(k.clone())));
                    select(child, rest, push_pointer(&pointer, k), matched, out);
                }
            }
        }
        (Token::Additional { named, patterns }, Value::Object(map)) => {
            for (k, child) in map {
                if !named.contains(k) && !matches_any(patterns, k) {
                    let matched = Some(cel::Value::String(Arc::new(k.clone())));
                    select(child, rest, push_pointer(&pointer, k), matched, out);
                }
            }
        }
        (Token::Any | Token::Item, Value::Array(items)) => {
            for (i, child) in items.iter().enumerate() {
                let matched = Some(cel::Value::Int(i64::try_from(i).unwrap_or(i64::MAX)));
                select(
                    child,
                    rest,
                    push_pointer(&pointer, &i.to_string()),
                    matched,
                    out,
                );
            }
        }
        _ => {}
    }
}

/// JSON → CEL: integers stay `int` (or `uint` above `i64`), other numbers become `double`.
fn to_cel(value: &Value) -> cel::Value {
    match value {
        Value::Null => cel::Value::Null,
        Value::Bool(b) => cel::Value::Bool(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                cel::Value::Int(i)
            } else if let Some(u) = n.as_u64() {
                cel::Value::UInt(u)
            } else {
                cel::Value::Float(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Value::String(s) => cel::Value::String(Arc::new(s.clone())),
        Value::Array(items) => cel::Value::List(Arc::new(items.iter().map(to_cel).collect())),
        Value::Object(map) => {
            let entries: HashMap<Key, cel::Value> = map
                .iter()
                .map(|(k, v)| (Key::from(k.clone()), to_cel(v)))
                .collect();
            cel::Value::from(entries)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;
    use crate::parse::{Format, Limits, parse};

    fn render(rules: &str, document: &str, vars: &[(&str, &str)]) -> String {
        let rules: Value = serde_json::from_str(rules).expect("because test rules are JSON");
        let set = match RuleSet::from_json("test", &rules) {
            Ok(set) => set,
            Err(error) => return format!("error: {error}"),
        };
        let parsed = parse(document.as_bytes(), Format::Yaml, &Limits::default());
        let vars: RuleVars = vars.iter().copied().collect();
        let mut out = String::new();
        for d in set.evaluate(&parsed.documents[0], &vars) {
            let _ = writeln!(
                out,
                "{}[{}] {}:{} {}: {}",
                d.severity,
                d.code,
                d.span.start.line,
                d.span.start.column,
                d.pointer.unwrap_or_default(),
                d.message
            );
        }
        out
    }

    macro_rules! check {
        ($rules:expr, $document:expr, $env:expr, @$expect:literal) => {
            insta::assert_snapshot!(render($rules, $document, $env), @$expect)
        };
    }

    macro_rules! check_schema {
        ($schema:expr, $document:expr, $env:expr, @$expect:literal) => {
            insta::assert_snapshot!(render_schema($schema, $document, $env), @$expect)
        };
    }

    const MODELS: &str = "models:\n  primary: gpt\n  fallback: gpt\n  providers:\n    openai: {apiKey: x}\n    anthropic: {apiKey: y}\n";

    #[test]
    fn fields_must_differ() {
        check!(
            r#"[{"name": "distinct", "rule": "self.models.primary != self.models.fallback",
                 "message": "`models.fallback` must differ from `models.primary`", "fieldPath": "/models/fallback"}]"#,
            MODELS, &[],
            @"error[rule/distinct] 3:3 /models/fallback: `models.fallback` must differ from `models.primary`"
        );
    }

    #[test]
    fn every_provider_must_be_one_the_workflow_has_keys_for() {
        check!(
            r#"[{"name": "provider-key", "path": "/models/providers/*", "severity": "warning",
                 "rule": "has(vars.KEYED_PROVIDERS) && key in vars.KEYED_PROVIDERS.split(',')",
                 "message": "provider `{key}` has no API key in this deployment"}]"#,
            MODELS, &[("KEYED_PROVIDERS", "openai,mistral")],
            @"warning[rule/provider-key] 6:5 /models/providers/anthropic: provider `anthropic` has no API key in this deployment"
        );
    }

    #[test]
    fn vars_are_declared_constants_and_root_is_the_document() {
        check!(
            r#"[{"rule": "vars.DEPLOY != 'prod' || root.models.primary == 'gpt'", "message": "m"},
                {"rule": "vars.DEPLOY == 'staging'", "message": "not staging"},
                {"rule": "has(vars.UNSET) || 'UNSET' in vars", "message": "unset"}]"#,
            MODELS, &[("DEPLOY", "prod")],
            @"
        error[rule/rule-2] 1:1 : not staging
        error[rule/rule-3] 1:1 : unset
        "
        );
    }

    #[test]
    fn rules_read_no_environment_and_report_no_value_they_computed() {
        // A schema from a pull request must not reach the runner's secrets: there is no `env()`,
        // and a rule returning a string is described by its type, not by the string.
        check!(
            r#"[{"name": "env", "rule": "env('HOME') == ''", "message": "m"},
                {"name": "has-env", "rule": "hasEnv('HOME')", "message": "m"},
                {"name": "echo", "rule": "vars.TOKEN_LIKE + '-' + root.models.primary", "message": "m"}]"#,
            MODELS, &[("TOKEN_LIKE", "ghs_looks_secret")],
            @"
        warning[rule-error/env] 1:1 : rule `env` could not be evaluated: undeclared reference to 'env'
        warning[rule-error/has-env] 1:1 : rule `has-env` could not be evaluated: undeclared reference to 'hasEnv'
        warning[rule-error/echo] 1:1 : rule `echo` returned a value of type `string`, not a boolean
        "
        );
    }

    #[test]
    fn evaluation_errors_are_warnings() {
        check!(
            r#"[{"name": "typo", "rule": "self.models.primari == 'x'", "message": "m"},
                {"name": "not-bool", "rule": "1 + 1", "message": "m"}]"#,
            MODELS, &[],
            @"
        warning[rule-error/typo] 1:1 : rule `typo` could not be evaluated: no such key: primari
        warning[rule-error/not-bool] 1:1 : rule `not-bool` returned a value of type `int`, not a boolean
        "
        );
    }

    #[test]
    fn missing_path_matches_nothing() {
        check!(r#"[{"rule": "false", "message": "m", "path": "/nope/*"}]"#, MODELS, &[], @"");
    }

    #[test]
    fn malformed_rules_are_errors() {
        check!(r#"{"rule": "true"}"#, "a: 1", &[], @"error: rules in `test` are malformed: expected a list of rule objects");
        check!(r#"[{"rule": "true"}]"#, "a: 1", &[], @"error: rule [0] in `test` is malformed: `message` is missing");
        check!(r#"[{"rule": "true", "message": "m", "sevrity": "warning"}]"#, "a: 1", &[], @"error: rule [0] in `test` is malformed: unknown field `sevrity`");
        check!(r#"[{"rule": "self.(", "message": "m", "name": "broken"}]"#, "a: 1", &[], @"error: rule `broken` in `test` does not compile: ERROR: <input>:1:6: Syntax error: no viable alternative at input '.(' | self.( | .....^");
        check!(r#"[{"rule": "true", "message": "m", "severity": "fatal"}]"#, "a: 1", &[], @"error: rule [0] in `test` is malformed: `severity` must be `error` or `warning`, not `fatal`");
    }

    fn render_schema(schema: &str, document: &str, vars: &[(&str, &str)]) -> String {
        let schema: Value = serde_json::from_str(schema).expect("because test schemas are JSON");
        let set = match RuleSet::from_schema("schema.json", &schema) {
            Ok(set) => set,
            Err(error) => return format!("error: {error}"),
        };
        let parsed = parse(document.as_bytes(), Format::Yaml, &Limits::default());
        let vars: RuleVars = vars.iter().copied().collect();
        let mut out = String::new();
        for d in set.evaluate(&parsed.documents[0], &vars) {
            let _ = writeln!(
                out,
                "{}[{}] {}:{} {}: {}",
                d.severity,
                d.code,
                d.span.start.line,
                d.span.start.column,
                d.pointer.unwrap_or_default(),
                d.message
            );
        }
        out
    }

    const NESTED: &str = r##"{
        "properties": {
            "models": {
                "x-rules": [{"name": "distinct", "rule": "self.primary != self.fallback",
                             "message": "`fallback` must differ from `primary`", "fieldPath": "/fallback"}],
                "properties": {"providers": {"additionalProperties": {"$ref": "#/$defs/provider"}}}
            },
            "agents": {"items": {"x-rules": [{"name": "timeout", "rule": "self.timeout > 0",
                                              "message": "agent {key} needs a positive timeout"}]}},
            "features": {
                "properties": {"stable": {"type": "boolean"}},
                "patternProperties": {"^beta-": {"x-rules": [{"name": "beta", "severity": "warning",
                    "rule": "!self || has(vars.BETA)", "message": "`{key}` needs `BETA`"}]}},
                "additionalProperties": {"x-rules": [{"name": "known", "rule": "false",
                    "message": "unknown feature `{key}`"}]}
            }
        },
        "$defs": {"provider": {
            "x-rules": [{"name": "provider-key", "severity": "warning",
                         "rule": "key in vars.KEYED.split(',')",
                         "message": "no API key for `{key}`"}],
            "properties": {"backup": {"$ref": "#/$defs/provider"}}
        }}
    }"##;

    #[test]
    fn rules_in_subschemas_are_about_the_nodes_they_describe() {
        // `backup` refers back to `provider` while it is being walked: not followed again, so
        // the rule runs for the providers, not for their backups.
        let document = "models:\n  primary: gpt\n  fallback: gpt\n  providers:\n    openai: {apiKey: x}\n    anthropic:\n      apiKey: y\n      backup: {apiKey: z}\nagents:\n  - timeout: 5\n  - timeout: 0\nfeatures:\n  stable: true\n  beta-x: true\n  beta-y: false\n  other: true\n";
        check_schema!(NESTED, document, &[("KEYED", "openai")], @"
        error[rule/timeout] 11:5 /agents/1: agent 1 needs a positive timeout
        warning[rule/beta] 14:3 /features/beta-x: `beta-x` needs `BETA`
        error[rule/known] 16:3 /features/other: unknown feature `other`
        error[rule/distinct] 3:3 /models/fallback: `fallback` must differ from `primary`
        warning[rule/provider-key] 6:5 /models/providers/anthropic: no API key for `anthropic`
        ");
    }

    #[test]
    fn nested_rule_errors_name_their_schema_location() {
        check_schema!(r#"{"properties": {"a": {"x-rules": [{"rule": "true"}]}}}"#, "a: 1", &[],
            @"error: rule [0] in `schema.json#/properties/a` is malformed: `message` is missing");
        check_schema!(r##"{"$ref": "#/$defs/a", "$defs": {"a": {"x-rules": [{"rule": "self.(", "message": "m", "name": "b"}]}}}"##, "a: 1", &[],
            @"error: rule `b` in `schema.json#/$defs/a` does not compile: ERROR: <input>:1:6: Syntax error: no viable alternative at input '.(' | self.( | .....^");
    }

    #[test]
    fn rules_in_unreached_definitions_do_not_run() {
        check_schema!(r#"{"$defs": {"a": {"x-rules": [{"rule": "false", "message": "m"}]}}}"#, "a: 1", &[], @"");
    }

    #[test]
    fn rule_sets_are_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<RuleSet>();
    }
}
