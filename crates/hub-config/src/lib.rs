//! hub-config: the engine of `validate-config`. Pure: no network, files, environment or clock;
//! it builds for `wasm32-wasip1`.
//!
//! 1. [`parse`] bytes as YAML 1.2, JSON (JSONC tolerated and reported) or TOML into
//!    [`Document`]s: the data as JSON plus where each JSON pointer's key and value are written
//!    ([`Document::locate`], [`PositionMap`]). YAML and TOML record positions while parsing; a
//!    JSON document keeps its text and finds positions only when a diagnostic needs them, so a
//!    valid file costs no more than its value. Traps are diagnostics, not silent acceptance:
//!    duplicate keys, alias bombs, tabs, non-UTF-8 text, oversized files, deep nesting.
//! 2. [`Schema::compile`] a JSON Schema (drafts 4 to 2020-12) once, with a caller-supplied
//!    [`Retrieve`] for `$ref`s to other documents, and its CEL `x-rules` ([`RuleSet`]), at the
//!    root or in any subschema reached through `properties`, `items`, `$ref`, ….
//! 3. [`Schema::check`] each document: [`Diagnostic`]s at the offending key or value, with the
//!    schema path and a suggestion where one is obvious.
//! 4. [`choose_schema`] picks a schema per file (explicit, [`SchemaMap`], the file's own
//!    `$schema`, [`Catalog`]); a [`Report`] renders as JSON, SARIF 2.1.0 or text.
//!
//! Decisions worth knowing:
//!
//! - **YAML 1.1 words.** A plain `yes`/`no`/`on`/`off`/`y`/`n` value is a string (YAML 1.2).
//!   It is a `yaml11-boolean` warning only where the schema wants a string there (the document
//!   validates worse with the boolean), since YAML 1.1 tools read it as a boolean; where the
//!   schema wants a boolean, the type error suggests `true`/`false`. Keys are never warned
//!   about: `on:` in every GitHub workflow is the string key GitHub reads.
//! - **Merge keys** (`<<`, YAML 1.1) are expanded as check-jsonschema's and ajv-cli's loaders
//!   expand them (the mapping's own keys win; merged entries keep their anchored positions);
//!   a quoted `"<<"` is an ordinary key.
//! - **JSONC.** Comments and trailing commas are parsed, then reported as errors unless the
//!   file is `.jsonc` or its schema sets `allowComments`/`allowTrailingCommas`.
//! - **Duplicate keys** are errors at the second key; the last value wins, as in `JSON.parse`.
//! - **Rules** run even when the schema fails; a rule that cannot be evaluated is a warning,
//!   dropped when the schema already reported errors for that document.
//!
//! ```
//! use std::sync::Arc;
//! use hub_config::{Format, Limits, NoRetrieve, RuleVars, Schema, SchemaOptions, parse};
//!
//! let schema = serde_json::json!({
//!     "type": "object",
//!     "properties": {"agents": {"type": "object", "additionalProperties": false,
//!         "properties": {"timeout": {"type": "number", "exclusiveMinimum": 0}}}},
//!     "x-rules": [{"rule": "!has(self.agents) || self.agents.size() > 0",
//!                  "message": "`agents` must not be empty"}]
//! });
//! let schema = Schema::compile(&schema, "schema.json", Arc::new(NoRetrieve), &SchemaOptions::default())?;
//!
//! let parsed = parse(b"agents:\n  timout: 30\n", Format::Yaml, &Limits::default());
//! let found = schema.check(&parsed.documents[0], &RuleVars::default());
//! assert_eq!(found.len(), 1);
//! assert_eq!(found[0].message, "unknown property `timout`");
//! assert_eq!((found[0].span.start.line, found[0].span.start.column), (2, 3));
//! assert_eq!(found[0].suggestion.as_deref(), Some("did you mean `timeout`?"));
//! # Ok::<(), hub_config::Error>(())
//! ```

mod diagnostic;
mod error;
mod formats;
mod normalise;
mod parse;
mod position;
mod report;
mod rules;
mod schema;
mod select;

pub use diagnostic::{Code, Diagnostic, Severity, quote, quote_value};
pub use error::Error;
pub use parse::{Document, Format, Limits, Parsed, SchemaHint, parse};
pub use position::{
    LineIndex, NodeSpans, Position, PositionMap, Span, pointer_tokens, push_pointer,
};
pub use report::{FileReport, Report};
pub use rules::{RuleSet, RuleVars};
pub use schema::{NoRetrieve, Retrieve, RetrieveError, Schema, SchemaOptions, meta_schema};
pub use select::{Catalog, SchemaChoice, SchemaMap, choose_schema};
