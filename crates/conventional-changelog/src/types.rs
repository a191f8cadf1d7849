//! The `types` input: which commit types get a section, under which title, in which order.
//!
//! The setting is read in the shapes projects already have, unchanged:
//! conventional-changelog's conventionalcommits preset and commit-and-tag-version's
//! `.versionrc` (`types: [{type, scope, section, hidden}]`), and release-please's
//! `changelog-sections` (`[{type, section, hidden}]`, at the top of
//! `release-please-config.json` or in its `packages["."]`). The input is the list itself
//! (JSON), or the path of a JSON file holding it: a bare list, or an object with a `types`
//! or `changelog-sections` key.

use std::path::Path;

use anyhow::Result;
use hub_changelog::TypeSpec;
use hub_kit::cli::usage;
use serde_json::Value;

/// Reads the `types` input: inline JSON (starting with `[` or `{`), or a file relative to
/// `dir`. Every error names the input or the file.
pub fn load(input: &str, dir: &Path) -> Result<Vec<TypeSpec>> {
    let input = input.trim();
    let (text, origin) = if input.starts_with(['[', '{']) {
        (input.to_owned(), "input `types`".to_owned())
    } else {
        let path = dir.join(input);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            usage(format!(
                "input `types`: cannot read `{}`: {e}",
                path.display()
            ))
        })?;
        (text, format!("input `types`: `{}`", path.display()))
    };
    let value: Value =
        serde_json::from_str(&text).map_err(|e| usage(format!("{origin}: not JSON: {e}")))?;
    from_value(value).map_err(|e| usage(format!("{origin}: {e}")))
}

fn from_value(value: Value) -> Result<Vec<TypeSpec>, String> {
    let list = match value {
        Value::Array(_) => value,
        Value::Object(mut map) => {
            let nested = map
                .get_mut("packages")
                .and_then(|p| p.get_mut("."))
                .and_then(|p| p.as_object_mut())
                .and_then(|p| p.remove("changelog-sections"));
            match map
                .remove("types")
                .or_else(|| map.remove("changelog-sections"))
                .or(nested)
            {
                Some(list) => list,
                None => {
                    return Err(
                        "expected a list of `{type, section, hidden}`, or an object with a \
                         `types` or `changelog-sections` key holding one"
                            .to_owned(),
                    );
                }
            }
        }
        _ => return Err("expected a list of `{type, section, hidden}`".to_owned()),
    };
    let Value::Array(items) = list else {
        return Err("`types` must be a list of `{type, section, hidden}`".to_owned());
    };
    if items.is_empty() {
        return Err("the list of types is empty".to_owned());
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let spec: TypeSpec =
                serde_json::from_value(item).map_err(|e| format!("entry {}: {e}", i + 1))?;
            if spec.type_.trim().is_empty() {
                return Err(format!("entry {}: `type` is empty", i + 1));
            }
            Ok(spec)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Vec<TypeSpec>, String> {
        from_value(serde_json::from_str(json).expect("json"))
    }

    #[test]
    fn every_shape_projects_have() {
        let preset = parse(
            r#"[{"type": "feat", "section": "Features"}, {"type": "fix", "scope": "deps", "hidden": true}]"#,
        )
        .expect("preset");
        assert_eq!(preset[1].scope.as_deref(), Some("deps"));
        assert!(preset[1].hidden);
        let versionrc = parse(r#"{"types": [{"type": "docs", "hidden": true}], "header": "x"}"#)
            .expect("versionrc");
        assert_eq!(versionrc[0].type_, "docs");
        let release_please = parse(
            r#"{"release-type": "node", "changelog-sections": [{"type": "perf", "section": "Speed", "hidden": false}]}"#,
        )
        .expect("release-please");
        assert_eq!(release_please[0].section.as_deref(), Some("Speed"));
        let per_package = parse(
            r#"{"packages": {".": {"release-type": "simple", "changelog-sections": [{"type": "ci", "section": "CI"}]}}}"#,
        )
        .expect("release-please package");
        assert_eq!(per_package[0].type_, "ci");
    }

    #[test]
    fn mistakes_are_named() {
        assert_eq!(
            parse(r#"[{"type": "feat", "title": "Features"}]"#).expect_err("unknown key"),
            "entry 1: unknown field `title`, expected one of `type`, `scope`, `section`, `hidden`"
        );
        assert_eq!(
            parse(r#"[{"section": "Features"}]"#).expect_err("no type"),
            "entry 1: missing field `type`"
        );
        assert_eq!(
            parse("[]").expect_err("empty"),
            "the list of types is empty"
        );
        assert!(parse(r#"{"header": "x"}"#).is_err());
        assert!(parse(r#"[{"type": "feat", "hidden": "yes"}]"#).is_err());
    }
}
