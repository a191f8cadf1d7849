//! The README example: `fixtures/validate-config/schema.json` (with `x-rules`) plus
//! `rules.json`, against the valid config in three formats and each broken variant.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use hub_config::{Format, Limits, NoRetrieve, RuleSet, RuleVars, Schema, SchemaOptions, parse};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/validate-config")
}

fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let read = |name: &str| -> serde_json::Value {
            let text =
                std::fs::read_to_string(fixtures().join(name)).expect("because the fixture exists");
            serde_json::from_str(&text).expect("because the fixture is JSON")
        };
        let mut schema = Schema::compile(
            &read("schema.json"),
            "schema.json",
            Arc::new(NoRetrieve),
            &SchemaOptions::default(),
        )
        .expect("because the fixture schema compiles");
        schema.add_rules(
            RuleSet::from_json("rules.json", &read("rules.json"))
                .expect("because the rules compile"),
        );
        schema
    })
}

/// Everything found in one fixture file, one line per diagnostic.
fn check(name: &str) -> String {
    let path = fixtures().join(name);
    let bytes = std::fs::read(&path).expect("because the fixture exists");
    let format = Format::from_path(name).expect("because fixtures have known extensions");
    let mut parsed = parse(&bytes, format, &Limits::default());
    let schema = schema();
    if !schema.allows_json_extensions() {
        parsed.reject_json_extensions();
    }
    let vars: RuleVars = [("KEYED_PROVIDERS", "anthropic")].into_iter().collect();
    let mut diagnostics = parsed.diagnostics.clone();
    for document in &parsed.documents {
        diagnostics.extend(schema.check(document, &vars));
    }
    diagnostics.sort_by_key(|d| d.span.start);
    let mut out = String::new();
    for d in diagnostics {
        out.push_str(&format!(
            "{}:{} {}[{}] {}{}\n",
            d.span.start.line,
            d.span.start.column,
            d.severity,
            d.code,
            d.full_message(),
            d.schema_path.map(|p| format!(" ({p})")).unwrap_or_default(),
        ));
    }
    if parsed.documents.is_empty() {
        out.push_str("(no document)\n");
    }
    out
}

#[test]
fn valid_config_in_three_formats() {
    // Only the provider whose key is missing from the environment is flagged, as a warning.
    insta::assert_snapshot!(check("valid/config.yaml"), @"10:5 warning[rule/provider-api-key] provider `openai` is not in the `KEYED_PROVIDERS` rule variable, the providers this deployment has API keys for");
    insta::assert_snapshot!(check("valid/config.json"), @"9:7 warning[rule/provider-api-key] provider `openai` is not in the `KEYED_PROVIDERS` rule variable, the providers this deployment has API keys for");
    insta::assert_snapshot!(check("valid/config.toml"), @"12:19 warning[rule/provider-api-key] provider `openai` is not in the `KEYED_PROVIDERS` rule variable, the providers this deployment has API keys for");
}

#[test]
fn unknown_key_suggests_the_known_one() {
    insta::assert_snapshot!(check("invalid/unknown-key.yaml"), @"6:3 error[schema/additionalProperties] unknown property `timout`; did you mean `timeout`? (#/properties/agents/additionalProperties)");
}

#[test]
fn models_must_differ() {
    insta::assert_snapshot!(check("invalid/same-models.yaml"), @"4:3 error[rule/distinct-models] `models.fallback` must differ from `models.primary`");
}

#[test]
fn version_pattern() {
    insta::assert_snapshot!(check("invalid/bad-version.json"), @r"2:14 error[schema/pattern] `1.4` does not match the pattern `^\d+\.\d+\.\d+$` (#/properties/version/pattern)");
}

#[test]
fn provider_errors_point_at_the_provider() {
    insta::assert_snapshot!(check("invalid/provider-errors.yaml"), @"
    7:15 error[schema/minLength] `apiKey` must not be empty (#/$defs/provider/properties/apiKey/minLength)
    8:18 error[schema/exclusiveMinimum] `0` must be greater than `0` (#/$defs/provider/properties/rateLimit/exclusiveMinimum)
    9:5 error[schema/required] missing required property `apiKey` (#/$defs/provider/required)
    9:5 warning[rule/provider-api-key] provider `openai` is not in the `KEYED_PROVIDERS` rule variable, the providers this deployment has API keys for
    ");
}

#[test]
fn wrong_types_and_yaml_1_1_booleans() {
    insta::assert_snapshot!(check("invalid/wrong-types.yaml"), @"
    6:12 error[schema/exclusiveMinimum] `-5` must be greater than `0` (#/properties/agents/properties/timeout/exclusiveMinimum)
    7:15 error[schema/type] expected integer, found number `1.5` (#/properties/agents/properties/maxRetries/type)
    8:13 error[schema/enum] `warning` is not one of `debug`, `info`, `warn` or `error` (#/properties/agents/properties/logLevel/enum)
    10:14 error[schema/type] expected boolean, found string `yes`; YAML 1.2 reads `yes` as a string: write `true` (#/properties/features/additionalProperties/type)
    11:14 error[schema/type] expected boolean, found string `false` (#/properties/features/additionalProperties/type)
    ");
}

#[test]
fn missing_models_in_toml() {
    insta::assert_snapshot!(check("invalid/missing-models.toml"), @"1:1 error[schema/required] missing required property `models` (#/required)");
}

#[test]
fn yaml_traps() {
    insta::assert_snapshot!(check("invalid/duplicate-key.yaml"), @"
    4:3 error[rule/distinct-models] `models.fallback` must differ from `models.primary`
    5:3 error[duplicate-key] duplicate key `primary`; remove one of them: the key is also on line 3 and the last one wins
    ");
    insta::assert_snapshot!(check("invalid/tabs.yaml"), @"
    3:2 error[tab] tabs disallowed within this context (block indentation); indent with spaces: YAML does not allow tabs for indentation
    (no document)
    ");
    insta::assert_snapshot!(check("invalid/billion-laughs.yaml"), @"
    6:8 error[alias-limit] aliases expand to more than 100000 nodes (an alias bomb?); write the data out instead of nesting aliases
    (no document)
    ");
    insta::assert_snapshot!(check("invalid/latin1.yaml"), @"
    3:15 error[not-utf8] file is not valid UTF-8; save the file as UTF-8
    (no document)
    ");
}

#[test]
fn keys_with_newlines_stay_on_one_line() {
    let found = check("invalid/injection.yaml");
    assert!(found.lines().all(|line| !line.starts_with("::")), "{found}");
    insta::assert_snapshot!(found, @r"
    6:3 error[schema/additionalProperties] unknown property `x\n::error file=pwned.yml,line=1::injected%0A::warning::` (#/properties/agents/additionalProperties)
    8:36 error[schema/type] expected boolean, found string `yes please` (#/properties/features/additionalProperties/type)
    ");
}

#[test]
fn javascript_in_a_json_file_is_a_parse_error() {
    insta::assert_snapshot!(check("invalid/executable.json"), @"
    2:1 error[syntax] expected a JSON value, found `m`
    (no document)
    ");
}
