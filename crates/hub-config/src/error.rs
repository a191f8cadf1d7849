//! The one error type of this crate. Findings in documents are not errors: they are
//! [`Diagnostic`](crate::Diagnostic)s. An [`Error`] means an input the caller controls (a schema,
//! a rule, a schema map, a catalog) cannot be used at all.

/// What can stop the engine from doing its work.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A schema is not valid JSON Schema, or one of its `$ref`s cannot be resolved.
    #[error("schema `{uri}` cannot be compiled: {message}")]
    InvalidSchema {
        /// Where the schema came from.
        uri: String,
        /// What the compiler said.
        message: String,
    },
    /// A rule list is not shaped as documented (a list of `{rule, message, …}` objects).
    #[error("{}", malformed_rule(origin, *index, message))]
    MalformedRule {
        /// The schema or rules file holding the rule.
        origin: String,
        /// 0-based index of the entry in the list; `None` when the list itself is malformed.
        index: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// A rule's CEL expression does not parse.
    #[error("rule `{name}` in `{origin}` does not compile: {message}")]
    RuleSyntax {
        /// The schema or rules file holding the rule.
        origin: String,
        /// The rule's name.
        name: String,
        /// What the CEL parser said.
        message: String,
    },
    /// A line of a `glob: schema` mapping cannot be read.
    #[error("schema map line {line} is malformed: {message}")]
    MalformedSchemaMap {
        /// 1-based line of the mapping text.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A glob (in a schema map or catalog) does not compile.
    #[error("glob `{glob}` is invalid: {source}")]
    InvalidGlob {
        /// The glob as written.
        glob: String,
        /// What the glob compiler said.
        source: globset::Error,
    },
    /// A schema catalog is not shaped like SchemaStore's `catalog.json`.
    #[error("schema catalog is malformed: {message}")]
    MalformedCatalog {
        /// What is wrong.
        message: String,
    },
}

fn malformed_rule(origin: &str, index: Option<usize>, message: &str) -> String {
    match index {
        Some(index) => format!("rule [{index}] in `{origin}` is malformed: {message}"),
        None => format!("rules in `{origin}` are malformed: {message}"),
    }
}
