//! The schema as its authors test it, before the `jsonschema` crate compiles it.
//!
//! Schema authors check their schemas with ajv (SchemaStore's test suite does), and ajv reads
//! two things differently from the drafts' text. By default validate-config gives ajv's answers;
//! with [`SchemaOptions::spec_strict`](crate::SchemaOptions) it gives the specification's:
//!
//! - **`const` in draft-04**: draft-04 has no `const`, so the specification ignores it; ajv
//!   applies it. Rewritten to `enum: [value]`, which draft-04 has.
//! - **Keywords beside `$ref` in draft-04, -06 and -07**: the specification ignores them; ajv
//!   applies them. `{"$ref": r, "required": […]}` becomes `{"allOf": [{"$ref": r}],
//!   "required": […]}` (appended to an `allOf` already there), which every draft applies.
//!
//! And one that is a fix in either reading: a `$ref` whose fragment holds characters a URI may
//! not (`#/definitions/Inputs<String>`) is percent-encoded, as a URI reference has to be, so it
//! names the definition the author meant.
//!
//! Why rewrites and not options of the `jsonschema` crate: it has no switch for either rule.
//! A custom `const` keyword would replace the crate's own in every draft and report through
//! generic errors; siblings of `$ref` are dropped by its draft-4/6/7 compilers. The rewrites only
//! touch schema positions (subschemas reached through the applicator keywords), never `enum`,
//! `const`, `default` or `examples` values, nor property names.

use serde_json::{Map, Value};

/// The draft a schema document is read under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Draft {
    Draft4,
    Draft6,
    Draft7,
    /// 2019-09, 2020-12 and unknown dialects: `$ref` siblings apply and `const` exists.
    Later,
}

impl Draft {
    /// The draft a `$schema` URI names, if it names one of draft-04, -06 or -07 (or a later one).
    pub(crate) fn from_uri(uri: &str) -> Option<Self> {
        let uri = uri.trim_end_matches('#');
        let uri = uri
            .strip_prefix("http://")
            .or_else(|| uri.strip_prefix("https://"))?;
        match uri {
            "json-schema.org/draft-04/schema" => Some(Self::Draft4),
            "json-schema.org/draft-06/schema" => Some(Self::Draft6),
            "json-schema.org/draft-07/schema" => Some(Self::Draft7),
            "json-schema.org/draft/2019-09/schema" | "json-schema.org/draft/2020-12/schema" => {
                Some(Self::Later)
            }
            _ => None,
        }
    }

    /// The draft of a schema (object): its `$schema`, else `default`.
    pub(crate) fn of(schema: &Value, default: Self) -> Self {
        schema
            .as_object()
            .map_or(default, |map| Self::of_map(map, default))
    }

    fn of_map(map: &Map<String, Value>, default: Self) -> Self {
        map.get("$schema")
            .and_then(Value::as_str)
            .and_then(Self::from_uri)
            .unwrap_or(default)
    }
}

/// Keywords whose value is one subschema.
const ONE: &[&str] = &[
    "additionalItems",
    "additionalProperties",
    "contains",
    "contentSchema",
    "else",
    "if",
    "items",
    "not",
    "propertyNames",
    "then",
    "unevaluatedItems",
    "unevaluatedProperties",
];

/// Keywords whose value is a list of subschemas.
const LIST: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems", "items"];

/// Keywords whose value maps names to subschemas.
const MAP: &[&str] = &[
    "$defs",
    "definitions",
    "dependencies",
    "dependentSchemas",
    "patternProperties",
    "properties",
];

/// Keywords beside a `$ref` that say nothing about the instance: no reason to move the `$ref`.
const INERT: &[&str] = &[
    "$comment",
    "$defs",
    "$id",
    "$schema",
    "default",
    "definitions",
    "deprecated",
    "description",
    "examples",
    "id",
    "readOnly",
    "title",
    "writeOnly",
];

/// Rewrites `schema` (a whole document, read under `default` when it has no `$schema`) in
/// place; `spec_strict` keeps the specification's reading of `const` and `$ref` siblings.
pub(crate) fn normalise(schema: &mut Value, default: Draft, spec_strict: bool) {
    walk(schema, default, spec_strict);
}

fn walk(schema: &mut Value, draft: Draft, spec_strict: bool) {
    let Value::Object(map) = schema else { return };
    let draft = Draft::of_map(map, draft);
    for (key, value) in map.iter_mut() {
        let key = key.as_str();
        if LIST.contains(&key)
            && let Value::Array(items) = value
        {
            for item in items {
                walk(item, draft, spec_strict);
            }
        } else if ONE.contains(&key) {
            walk(value, draft, spec_strict);
        } else if MAP.contains(&key)
            && let Value::Object(entries) = value
        {
            for entry in entries.values_mut() {
                // `dependencies` also maps to lists of property names: `walk` skips those.
                walk(entry, draft, spec_strict);
            }
        }
    }
    if let Some(Value::String(reference)) = map.get_mut("$ref")
        && let Some(encoded) = encode_fragment(reference)
    {
        *reference = encoded;
    }
    if spec_strict {
        return;
    }
    if draft <= Draft::Draft7 {
        apply_ref_siblings(map);
    }
    if draft == Draft::Draft4
        && let Some(value) = map.remove("const")
    {
        add_assertion(map, "enum", Value::Array(vec![value]));
    }
}

/// `{"$ref": r, "required": […]}` → `{"allOf": [{"$ref": r}], "required": […]}`.
fn apply_ref_siblings(map: &mut Map<String, Value>) {
    if !map.get("$ref").is_some_and(Value::is_string) {
        return;
    }
    let asserting = map
        .keys()
        .any(|k| k != "$ref" && !INERT.contains(&k.as_str()) && !k.starts_with("x-"));
    let all_of_usable = map.get("allOf").is_none_or(Value::is_array);
    if !asserting || !all_of_usable {
        return;
    }
    if let Some(reference) = map.remove("$ref") {
        let mut only_ref = Map::new();
        only_ref.insert("$ref".to_owned(), reference);
        push_all_of(map, Value::Object(only_ref));
    }
}

/// Sets `keyword` to `value`, or, when the schema has that keyword already, adds
/// `{keyword: value}` to its `allOf` so both apply.
fn add_assertion(map: &mut Map<String, Value>, keyword: &str, value: Value) {
    if map.contains_key(keyword) {
        let mut alone = Map::new();
        alone.insert(keyword.to_owned(), value);
        if map.get("allOf").is_none_or(Value::is_array) {
            push_all_of(map, Value::Object(alone));
        }
    } else {
        map.insert(keyword.to_owned(), value);
    }
}

fn push_all_of(map: &mut Map<String, Value>, schema: Value) {
    match map.get_mut("allOf") {
        Some(Value::Array(list)) => list.push(schema),
        _ => {
            map.insert("allOf".to_owned(), Value::Array(vec![schema]));
        }
    }
}

/// The `$ref` with its fragment percent-encoded where it holds characters RFC 3986 does not
/// allow in a fragment (`pchar / "/" / "?"`); `None` when it needs nothing.
fn encode_fragment(reference: &str) -> Option<String> {
    let (base, fragment) = reference.split_once('#')?;
    let bytes = fragment.as_bytes();
    let allowed = |i: usize| {
        let b = bytes[i];
        b.is_ascii_alphanumeric()
            || b"-._~!$&'()*+,;=:@/?".contains(&b)
            || (b == b'%'
                && bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    };
    if (0..bytes.len()).all(allowed) {
        return None;
    }
    let mut out = String::with_capacity(reference.len() + 8);
    out.push_str(base);
    out.push('#');
    for (i, &b) in bytes.iter().enumerate() {
        if allowed(i) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn normalised(mut schema: Value, spec_strict: bool) -> Value {
        normalise(&mut schema, Draft::Later, spec_strict);
        schema
    }

    #[test]
    fn fragments_are_percent_encoded_only_where_needed() {
        assert_eq!(encode_fragment("#/definitions/a"), None);
        assert_eq!(encode_fragment("other.json"), None);
        assert_eq!(encode_fragment("#/definitions/a%20b"), None);
        assert_eq!(
            encode_fragment("#/definitions/x::Inputs<y::String>").as_deref(),
            Some("#/definitions/x::Inputs%3Cy::String%3E")
        );
        assert_eq!(
            encode_fragment("b.json#/definitions/a b%zz").as_deref(),
            Some("b.json#/definitions/a%20b%25zz")
        );
        assert_eq!(
            encode_fragment("#/definitions/é").as_deref(),
            Some("#/definitions/%C3%A9")
        );
    }

    #[test]
    fn only_schema_positions_are_rewritten() {
        let draft4 = "http://json-schema.org/draft-04/schema#";
        let schema = json!({"$schema": draft4,
            "properties": {"const": {"const": 1}, "$ref": {"type": "string"}},
            "enum": [{"const": 2}], "default": {"$ref": "#/x", "type": "string"},
            "dependencies": {"a": ["b"], "c": {"const": 3, "enum": [3, 4]}}});
        assert_eq!(
            normalised(schema.clone(), false),
            json!({"$schema": draft4,
                "properties": {"const": {"enum": [1]}, "$ref": {"type": "string"}},
                "enum": [{"const": 2}], "default": {"$ref": "#/x", "type": "string"},
                "dependencies": {"a": ["b"], "c": {"enum": [3, 4], "allOf": [{"enum": [3]}]}}})
        );
        assert_eq!(normalised(schema.clone(), true), schema);
    }

    #[test]
    fn ref_siblings_move_only_in_drafts_before_2019() {
        let draft7 = "http://json-schema.org/draft-07/schema#";
        let schema = json!({"$schema": draft7, "properties": {
            "p": {"$ref": "#/definitions/o", "required": ["x"], "description": "d"},
            "q": {"$ref": "#/definitions/o", "description": "only an annotation"},
            "r": {"$ref": "#/definitions/o", "allOf": [{"type": "object"}], "minProperties": 1}}});
        let out = normalised(schema.clone(), false);
        assert_eq!(
            out["properties"]["p"],
            json!({"allOf": [{"$ref": "#/definitions/o"}], "required": ["x"], "description": "d"})
        );
        assert_eq!(out["properties"]["q"], schema["properties"]["q"]);
        assert_eq!(
            out["properties"]["r"]["allOf"],
            json!([{"type": "object"}, {"$ref": "#/definitions/o"}])
        );
        let later = json!({"properties": {"p": {"$ref": "#/$defs/o", "required": ["x"]}}});
        assert_eq!(normalised(later.clone(), false), later);
        assert_eq!(normalised(schema.clone(), true), schema);
    }
}
