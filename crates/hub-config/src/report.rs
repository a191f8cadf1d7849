//! The run's findings as data, and their renderings: JSON (our report), SARIF 2.1.0 (code
//! scanning) and plain text. Markdown and workflow commands are rendered by the Actions kit,
//! which owns their escaping.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{Value, json};

use crate::diagnostic::{Diagnostic, Severity};
use crate::parse::Format;
use crate::select::SchemaChoice;

/// What was found in one file.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileReport {
    /// Path as given or found (relative to the working directory), `/` separators.
    pub path: String,
    /// The syntax it was read as.
    pub format: Format,
    /// The schema it was checked against; `None` means parse checks only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<SchemaChoice>,
    /// Number of documents in the file.
    pub documents: usize,
    /// Findings, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
}

impl FileReport {
    /// Number of error diagnostics.
    #[must_use]
    pub fn errors(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    /// Number of warning diagnostics.
    #[must_use]
    pub fn warnings(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .count()
    }
}

impl FileReport {
    /// This file's item in the pretty-printed JSON report, where the files' items sit two
    /// levels deep: pretty-printed, every line after the first indented by four spaces.
    #[must_use]
    pub fn json_entry(&self) -> String {
        let value = serde_json::to_value(self).expect("because a file report always serialises");
        let text =
            serde_json::to_string_pretty(&value).expect("because a JSON value always serialises");
        // A newline inside a JSON string is escaped: every raw one ends a line.
        text.replace('\n', "\n    ")
    }
}

/// Findings of a whole run, files in the order given.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    /// One entry per file checked.
    pub files: Vec<FileReport>,
}

/// Escapes control characters of a path for one-line text output.
fn one_line(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// Percent-encodes a relative path as a URI reference for SARIF's `artifactLocation.uri`.
fn uri_reference(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

impl Report {
    /// Number of files checked.
    #[must_use]
    pub fn files_checked(&self) -> usize {
        self.files.len()
    }

    /// Errors over all files.
    #[must_use]
    pub fn error_count(&self) -> usize {
        self.files.iter().map(FileReport::errors).sum()
    }

    /// Warnings over all files.
    #[must_use]
    pub fn warning_count(&self) -> usize {
        self.files.iter().map(FileReport::warnings).sum()
    }

    /// Whether no file has an error.
    #[must_use]
    pub fn valid(&self) -> bool {
        self.error_count() == 0
    }

    /// The JSON report (`report` output): totals plus every file with its diagnostics.
    #[must_use]
    pub fn to_json(&self) -> Value {
        self.json_with_files(json!(self.files))
    }

    fn json_with_files(&self, files: Value) -> Value {
        json!({
            "valid": self.valid(),
            "filesChecked": self.files_checked(),
            "errorCount": self.error_count(),
            "warningCount": self.warning_count(),
            "files": files,
        })
    }

    /// [`to_json`](Self::to_json) pretty-printed: the same text as
    /// `serde_json::to_string_pretty(&report.to_json())`.
    #[must_use]
    pub fn to_json_pretty(&self) -> String {
        let entries: Vec<String> = self.files.iter().map(FileReport::json_entry).collect();
        self.to_json_pretty_from(&entries)
    }

    /// [`to_json_pretty`](Self::to_json_pretty) from each file's
    /// [`json_entry`](FileReport::json_entry), in order, so the entries (nearly all of the
    /// work) can be rendered on several threads.
    #[must_use]
    pub fn to_json_pretty_from(&self, entries: &[String]) -> String {
        const EMPTY: &str = "\"files\": []";
        let head = serde_json::to_string_pretty(&self.json_with_files(json!([])))
            .expect("because a JSON value always serialises");
        if entries.is_empty() {
            return head;
        }
        // The totals are numbers and booleans: the only `"files": []` is the files' key.
        let at = head
            .find(EMPTY)
            .expect("because the report has a files key");
        let mut out = String::with_capacity(
            head.len() + entries.iter().map(|e| e.len() + 6).sum::<usize>() + 8,
        );
        out.push_str(&head[..at]);
        out.push_str("\"files\": [");
        for (i, entry) in entries.iter().enumerate() {
            out.push_str(if i == 0 { "\n    " } else { ",\n    " });
            out.push_str(entry);
        }
        out.push_str("\n  ]");
        out.push_str(&head[at + EMPTY.len()..]);
        out
    }

    /// SARIF 2.1.0 for code scanning: one rule per diagnostic code, one result per diagnostic.
    #[must_use]
    pub fn to_sarif(&self, tool_name: &str, tool_version: &str, information_uri: &str) -> Value {
        let mut rules: BTreeMap<String, String> = BTreeMap::new();
        for d in self.files.iter().flat_map(|f| &f.diagnostics) {
            rules
                .entry(d.code.to_string())
                .or_insert_with(|| d.code.description());
        }
        let index: BTreeMap<&str, usize> = rules
            .keys()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        let results: Vec<Value> = self
            .files
            .iter()
            .flat_map(|file| file.diagnostics.iter().map(move |d| (file, d)))
            .map(|(file, d)| {
                let id = d.code.to_string();
                let mut region = json!({
                    "startLine": d.span.start.line,
                    "startColumn": d.span.start.column,
                });
                if d.span.end > d.span.start {
                    region["endLine"] = json!(d.span.end.line);
                    region["endColumn"] = json!(d.span.end.column);
                }
                let mut properties = json!({});
                if let Some(pointer) = &d.pointer {
                    properties["instancePointer"] = json!(pointer);
                }
                if let Some(path) = &d.schema_path {
                    properties["schemaPath"] = json!(path);
                }
                if let Some(schema) = &file.schema {
                    properties["schema"] = json!(schema.reference());
                }
                json!({
                    "ruleId": id,
                    "ruleIndex": index.get(id.as_str()).copied().unwrap_or_default(),
                    "level": d.severity.as_str(),
                    "message": {"text": d.full_message()},
                    "locations": [{
                        "physicalLocation": {
                            "artifactLocation": {"uri": uri_reference(&file.path)},
                            "region": region,
                        }
                    }],
                    "properties": properties,
                })
            })
            .collect();
        let rules: Vec<Value> = rules
            .iter()
            .map(|(id, description)| json!({"id": id, "shortDescription": {"text": description}}))
            .collect();
        json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {
                    "name": tool_name,
                    "version": tool_version,
                    "informationUri": information_uri,
                    "rules": rules,
                }},
                "results": results,
            }],
        })
    }

    /// One line per diagnostic (`path:line:col: error[code]: message`) and a closing total.
    /// Data in messages is already on one line (see [`quote`](crate::quote)); paths get their
    /// control characters escaped, so no line can start with untrusted text.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for file in &self.files {
            let path = one_line(&file.path);
            for d in &file.diagnostics {
                let _ = writeln!(
                    out,
                    "{path}:{}:{}: {}[{}]: {}",
                    d.span.start.line,
                    d.span.start.column,
                    d.severity,
                    d.code,
                    d.full_message()
                );
            }
        }
        let _ = writeln!(
            out,
            "{} checked, {}, {}",
            plural(self.files_checked(), "file"),
            plural(self.error_count(), "error"),
            plural(self.warning_count(), "warning")
        );
        out
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Code;
    use crate::position::{Position, Span};

    fn sample() -> Report {
        let mut unknown = Diagnostic::error(
            Code::Schema("additionalProperties".into()),
            "unknown property `timout`",
            Span::new(Position::new(3, 3), Position::new(3, 9)),
        )
        .with_pointer("/agents/timout")
        .with_suggestion("did you mean `timeout`?");
        unknown.schema_path = Some("#/properties/agents/additionalProperties".into());
        let word = Diagnostic::warning(
            Code::Yaml11Boolean,
            "`no` is the string `no` in YAML 1.2 but the boolean `false` in YAML 1.1",
            Span::at(Position::new(7, 12)),
        );
        Report {
            files: vec![
                FileReport {
                    path: "config/app config.yml".into(),
                    format: Format::Yaml,
                    schema: Some(SchemaChoice::Explicit {
                        reference: "schema.json".into(),
                    }),
                    documents: 1,
                    diagnostics: vec![unknown, word],
                },
                FileReport {
                    path: "evil\nname.json".into(),
                    format: Format::Json,
                    schema: None,
                    documents: 1,
                    diagnostics: Vec::new(),
                },
            ],
        }
    }

    #[test]
    fn text() {
        insta::assert_snapshot!(sample().to_text(), @"
        config/app config.yml:3:3: error[schema/additionalProperties]: unknown property `timout`; did you mean `timeout`?
        config/app config.yml:7:12: warning[yaml11-boolean]: `no` is the string `no` in YAML 1.2 but the boolean `false` in YAML 1.1
        2 files checked, 1 error, 1 warning
        ");
    }

    #[test]
    fn json_pretty_is_to_json_pretty_printed() {
        let mut reports = vec![sample(), Report::default()];
        let mut one = sample();
        one.files.truncate(1);
        reports.push(one);
        for report in reports {
            let want = serde_json::to_string_pretty(&report.to_json())
                .expect("because a JSON value always serialises");
            assert_eq!(report.to_json_pretty(), want);
        }
    }

    #[test]
    fn json() {
        insta::assert_json_snapshot!(sample().to_json(), @r##"
        {
          "errorCount": 1,
          "files": [
            {
              "diagnostics": [
                {
                  "code": "schema/additionalProperties",
                  "document": 0,
                  "message": "unknown property `timout`",
                  "pointer": "/agents/timout",
                  "schemaPath": "#/properties/agents/additionalProperties",
                  "severity": "error",
                  "span": {
                    "end": {
                      "column": 9,
                      "line": 3
                    },
                    "start": {
                      "column": 3,
                      "line": 3
                    }
                  },
                  "suggestion": "did you mean `timeout`?"
                },
                {
                  "code": "yaml11-boolean",
                  "document": 0,
                  "message": "`no` is the string `no` in YAML 1.2 but the boolean `false` in YAML 1.1",
                  "severity": "warning",
                  "span": {
                    "end": {
                      "column": 12,
                      "line": 7
                    },
                    "start": {
                      "column": 12,
                      "line": 7
                    }
                  }
                }
              ],
              "documents": 1,
              "format": "yaml",
              "path": "config/app config.yml",
              "schema": {
                "reference": "schema.json",
                "source": "explicit"
              }
            },
            {
              "diagnostics": [],
              "documents": 1,
              "format": "json",
              "path": "evil\nname.json"
            }
          ],
          "filesChecked": 2,
          "valid": false,
          "warningCount": 1
        }
        "##);
    }

    #[test]
    fn sarif() {
        insta::assert_json_snapshot!(sample().to_sarif("hub-validate-config", "0.1.0", "https://github.com/org/hub-actions"), @r##"
        {
          "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
          "runs": [
            {
              "results": [
                {
                  "level": "error",
                  "locations": [
                    {
                      "physicalLocation": {
                        "artifactLocation": {
                          "uri": "config/app%20config.yml"
                        },
                        "region": {
                          "endColumn": 9,
                          "endLine": 3,
                          "startColumn": 3,
                          "startLine": 3
                        }
                      }
                    }
                  ],
                  "message": {
                    "text": "unknown property `timout`; did you mean `timeout`?"
                  },
                  "properties": {
                    "instancePointer": "/agents/timout",
                    "schema": "schema.json",
                    "schemaPath": "#/properties/agents/additionalProperties"
                  },
                  "ruleId": "schema/additionalProperties",
                  "ruleIndex": 0
                },
                {
                  "level": "warning",
                  "locations": [
                    {
                      "physicalLocation": {
                        "artifactLocation": {
                          "uri": "config/app%20config.yml"
                        },
                        "region": {
                          "startColumn": 12,
                          "startLine": 7
                        }
                      }
                    }
                  ],
                  "message": {
                    "text": "`no` is the string `no` in YAML 1.2 but the boolean `false` in YAML 1.1"
                  },
                  "properties": {
                    "schema": "schema.json"
                  },
                  "ruleId": "yaml11-boolean",
                  "ruleIndex": 1
                }
              ],
              "tool": {
                "driver": {
                  "informationUri": "https://github.com/org/hub-actions",
                  "name": "hub-validate-config",
                  "rules": [
                    {
                      "id": "schema/additionalProperties",
                      "shortDescription": {
                        "text": "JSON Schema keyword `additionalProperties` failed"
                      }
                    },
                    {
                      "id": "yaml11-boolean",
                      "shortDescription": {
                        "text": "YAML 1.1 boolean word where a string is expected"
                      }
                    }
                  ],
                  "version": "0.1.0"
                }
              }
            }
          ],
          "version": "2.1.0"
        }
        "##);
    }
}
