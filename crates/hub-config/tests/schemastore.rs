//! SchemaStore's own test documents: every positive file must be valid and every negative file
//! invalid against its schema, as `schemastore/expectations.json` records. YAML is read as 1.2
//! (`on:` is the string key `"on"`), formats are asserted, unknown formats ignored
//! (`validation-options.json` lists them per schema).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use hub_config::{Format, Limits, NoRetrieve, Schema, SchemaOptions, Severity, parse};
use serde_json::Value;

fn peer_suites() -> Option<PathBuf> {
    hub_testkit::peer_suites()
}

fn read_json(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("cannot parse {}: {e}", path.display()))
}

#[test]
fn schemastore_positive_and_negative_tests() {
    let Some(root) = peer_suites() else { return };
    let root = root.join("schemastore");
    let expectations = read_json(&root.join("expectations.json"));
    let options = read_json(&root.join("validation-options.json"));
    let expectations = expectations
        .as_array()
        .expect("because expectations.json is a list");

    let mut schemas: HashMap<String, Schema> = HashMap::new();
    let mut mismatches = Vec::new();
    let (mut positive, mut negative) = (0, 0);
    for case in expectations {
        let field = |name: &str| {
            case[name]
                .as_str()
                .unwrap_or_else(|| panic!("because every case has a string `{name}`"))
        };
        let (name, file, format) = (field("schema"), field("file"), field("format"));
        let expected_valid = case["expected_valid"]
            .as_bool()
            .expect("because every case has `expected_valid`");
        let schema_file = format!("{name}.json");
        // Unknown formats (e.g. `google-duration`) are ignored, as the options file asks.
        let unknown_formats = &options["options"][&schema_file]["unknownFormat"];
        assert!(unknown_formats.is_null() || unknown_formats.is_array());
        let schema = schemas.entry(name.to_owned()).or_insert_with(|| {
            let value = read_json(&root.join("schemas").join(&schema_file));
            let uri = format!("https://www.schemastore.org/{schema_file}");
            Schema::compile(
                &value,
                &uri,
                Arc::new(NoRetrieve),
                &SchemaOptions::default(),
            )
            .unwrap_or_else(|e| panic!("{schema_file}: {e}"))
        });
        let format = match format {
            "json" => Format::Json,
            "yaml" => Format::Yaml,
            other => panic!("unexpected format {other}"),
        };
        let bytes = std::fs::read(root.join(file)).expect("because the listed file exists");
        let mut parsed = parse(&bytes, format, &Limits::default());
        if !schema.allows_json_extensions() {
            parsed.reject_json_extensions();
        }
        let mut diagnostics = parsed.diagnostics.clone();
        for document in &parsed.documents {
            diagnostics.extend(schema.validate(document));
        }
        let errors: Vec<String> = diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| {
                format!(
                    "{}:{}: {}",
                    d.span.start.line, d.span.start.column, d.message
                )
            })
            .collect();
        let valid = errors.is_empty() && !parsed.documents.is_empty();
        if expected_valid {
            positive += 1;
        } else {
            negative += 1;
        }
        if valid != expected_valid {
            mismatches.push(if expected_valid {
                format!("{file}: expected valid, got {errors:?}")
            } else {
                format!("{file}: expected invalid, got no error")
            });
        }
        // Every finding in a negative file points somewhere real.
        for d in &diagnostics {
            assert!(
                d.span.start.line >= 1 && d.span.start.column >= 1,
                "{file}: {d:?}"
            );
        }
    }
    eprintln!(
        "schemastore: {} cases ({positive} positive, {negative} negative), {} mismatches",
        positive + negative,
        mismatches.len()
    );
    assert_eq!(positive + negative, expectations.len());
    assert!(
        mismatches.is_empty(),
        "mismatches:\n{}",
        mismatches.join("\n")
    );
}
