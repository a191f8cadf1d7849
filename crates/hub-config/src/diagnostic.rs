//! Diagnostics: what the engine found, where. One diagnostic becomes one annotation.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::position::Span;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Makes the file invalid.
    Error,
    /// Worth a look; fails the run only with `fail-on-warning`.
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of finding a diagnostic is; its [`Display`](fmt::Display) is the stable rule id used
/// in JSON and SARIF reports (`duplicate-key`, `schema/required`, `rule/distinct-models`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    /// The file could not be read.
    Unreadable,
    /// The file is larger than the size limit.
    FileTooLarge,
    /// The file is not UTF-8 text.
    NotUtf8,
    /// The text does not parse.
    Syntax,
    /// A mapping repeats a key.
    DuplicateKey,
    /// Aliases would expand to more nodes than the limit (an alias bomb).
    AliasLimit,
    /// The document nests deeper than the limit.
    DepthLimit,
    /// A tab where YAML forbids one (indentation).
    Tab,
    /// A plain `yes`/`no`/`on`/`off`/`y`/`n`: a string in YAML 1.2, a boolean in YAML 1.1.
    Yaml11Boolean,
    /// A YAML tag this tool does not know; the value is read as if untagged.
    UnknownTag,
    /// A YAML mapping key that is itself a mapping or sequence (JSON has string keys only).
    ComplexKey,
    /// `.inf` or `.nan`, which JSON cannot hold; kept as a string.
    NonFiniteNumber,
    /// A comment or trailing comma in a JSON file whose schema does not allow them.
    JsonExtension,
    /// The schema could not be found, fetched or compiled.
    SchemaUnavailable,
    /// A JSON Schema keyword failed (`required`, `type`, …).
    Schema(String),
    /// A cross-field rule (`x-rules`) failed.
    Rule(String),
    /// A cross-field rule could not be evaluated against this document.
    RuleError(String),
}

impl Code {
    /// A one-line description of the kind, for SARIF rule metadata.
    #[must_use]
    pub fn description(&self) -> String {
        match self {
            Code::Unreadable => "file could not be read".into(),
            Code::FileTooLarge => "file is larger than the size limit".into(),
            Code::NotUtf8 => "file is not UTF-8 text".into(),
            Code::Syntax => "file does not parse".into(),
            Code::DuplicateKey => "mapping repeats a key".into(),
            Code::AliasLimit => "YAML aliases expand beyond the limit".into(),
            Code::DepthLimit => "document nests deeper than the limit".into(),
            Code::Tab => "tab used for indentation".into(),
            Code::Yaml11Boolean => "YAML 1.1 boolean word where a string is expected".into(),
            Code::UnknownTag => "unknown YAML tag".into(),
            Code::ComplexKey => "mapping key is not a scalar".into(),
            Code::NonFiniteNumber => "number JSON cannot represent".into(),
            Code::JsonExtension => "comment or trailing comma in strict JSON".into(),
            Code::SchemaUnavailable => "schema could not be loaded".into(),
            Code::Schema(keyword) => format!("JSON Schema keyword `{keyword}` failed"),
            Code::Rule(name) => format!("rule `{name}` failed"),
            Code::RuleError(name) => format!("rule `{name}` could not be evaluated"),
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Code::Unreadable => f.write_str("file-unreadable"),
            Code::FileTooLarge => f.write_str("file-too-large"),
            Code::NotUtf8 => f.write_str("not-utf8"),
            Code::Syntax => f.write_str("syntax"),
            Code::DuplicateKey => f.write_str("duplicate-key"),
            Code::AliasLimit => f.write_str("alias-limit"),
            Code::DepthLimit => f.write_str("depth-limit"),
            Code::Tab => f.write_str("tab"),
            Code::Yaml11Boolean => f.write_str("yaml11-boolean"),
            Code::UnknownTag => f.write_str("unknown-tag"),
            Code::ComplexKey => f.write_str("complex-key"),
            Code::NonFiniteNumber => f.write_str("non-finite-number"),
            Code::JsonExtension => f.write_str("json-extension"),
            Code::SchemaUnavailable => f.write_str("schema-unavailable"),
            Code::Schema(keyword) => write!(f, "schema/{keyword}"),
            Code::Rule(name) => write!(f, "rule/{name}"),
            Code::RuleError(name) => write!(f, "rule-error/{name}"),
        }
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// One finding at one place. Maps 1:1 to a GitHub annotation and a SARIF result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Kind of finding, a stable id.
    pub code: Code,
    /// Short lower-case message; untrusted values in it are shown through [`quote`].
    pub message: String,
    /// Where in the file.
    pub span: Span,
    /// Index of the YAML document in a multi-document file (0 for JSON and TOML).
    pub document: usize,
    /// JSON pointer of the instance location, when the finding is about a value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// JSON pointer into the schema of the failing keyword (`#/properties/a/type`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_path: Option<String>,
    /// A fix to try, when there is an obvious one (`did you mean \`timeout\`?`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with no pointer, schema path or suggestion.
    #[must_use]
    pub fn new(severity: Severity, code: Code, message: impl Into<String>, span: Span) -> Self {
        Self {
            severity,
            code,
            message: message.into(),
            span,
            document: 0,
            pointer: None,
            schema_path: None,
            suggestion: None,
        }
    }

    /// An error diagnostic.
    #[must_use]
    pub fn error(code: Code, message: impl Into<String>, span: Span) -> Self {
        Self::new(Severity::Error, code, message, span)
    }

    /// A warning diagnostic.
    #[must_use]
    pub fn warning(code: Code, message: impl Into<String>, span: Span) -> Self {
        Self::new(Severity::Warning, code, message, span)
    }

    /// Sets the instance pointer.
    #[must_use]
    pub fn with_pointer(mut self, pointer: impl Into<String>) -> Self {
        self.pointer = Some(pointer.into());
        self
    }

    /// Sets the suggestion.
    #[must_use]
    pub fn with_suggestion(mut self, suggestion: impl Into<String>) -> Self {
        self.suggestion = Some(suggestion.into());
        self
    }

    /// The message with its suggestion appended, as one line for annotations and text output.
    #[must_use]
    pub fn full_message(&self) -> String {
        match &self.suggestion {
            Some(suggestion) => format!("{}; {suggestion}", self.message),
            None => self.message.clone(),
        }
    }
}

/// Shows an untrusted value inside a message: in backticks, control characters escaped (a key
/// with a newline stays on one line), long values cut to 80 characters with `…`, the empty
/// string as `""`.
#[must_use]
pub fn quote(value: &str) -> String {
    const MAX: usize = 80;
    // An empty value reads as `""`, not as two backticks with nothing between them.
    if value.is_empty() {
        return "`\"\"`".to_string();
    }
    let mut out = String::with_capacity(value.len().min(MAX) + 4);
    out.push('`');
    for (count, c) in value.chars().enumerate() {
        if count == MAX {
            out.push('…');
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '`' => out.push('\''),
            c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    out.push('`');
    out
}

/// Shows a JSON value inside a message: strings through [`quote`], other values as compact JSON.
#[must_use]
pub fn quote_value(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => quote(s),
        other => quote(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expect: &str) {
        assert_eq!(quote(input), expect);
    }

    #[test]
    fn quote_keeps_data_on_one_line() {
        check("timeout", "`timeout`");
        check("", "`\"\"`");
        check("a\n::error::x", "`a\\n::error::x`");
        check("tab\there\r", "`tab\\there\\r`");
        check("back`tick", "`back'tick`");
        check("\u{1b}[31m", "`\\u{1b}[31m`");
        check(&"x".repeat(100), &format!("`{}…`", "x".repeat(80)));
    }

    #[test]
    fn codes_have_stable_ids() {
        let ids: Vec<String> = [
            Code::DuplicateKey,
            Code::Schema("required".into()),
            Code::Rule("distinct".into()),
            Code::RuleError("distinct".into()),
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(
            ids,
            [
                "duplicate-key",
                "schema/required",
                "rule/distinct",
                "rule-error/distinct"
            ]
        );
    }
}
