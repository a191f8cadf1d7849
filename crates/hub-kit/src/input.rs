//! Action inputs: `INPUT_<NAME>` with the runner's name mangling, and typed getters.

use std::time::Duration;

use crate::env::{Env, vars};

/// A bad or missing action input. The message names the input as the workflow spells it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InputError {
    /// A required input is missing or empty.
    #[error("input `{name}` is required and was not supplied")]
    Required {
        /// The input's name.
        name: String,
    },
    /// A boolean input holds something other than the YAML 1.2 core booleans.
    #[error(
        "input `{name}` must be a boolean (`true`, `True`, `TRUE`, `false`, `False` or `FALSE`), got `{value}`"
    )]
    Bool {
        /// The input's name.
        name: String,
        /// The value given.
        value: String,
    },
    /// An integer input does not parse.
    #[error("input `{name}` must be a whole number, got `{value}`")]
    Integer {
        /// The input's name.
        name: String,
        /// The value given.
        value: String,
    },
    /// A duration input does not parse.
    #[error(
        "input `{name}` must be a duration such as `90s`, `5m`, `1h30m` or `250ms`, got `{value}`"
    )]
    Duration {
        /// The input's name.
        name: String,
        /// The value given.
        value: String,
    },
}

/// The environment variable the runner uses for an input: `INPUT_` + the name upper-cased
/// with spaces replaced by `_` (hyphens are kept), as `@actions/core` `getInput` does.
pub fn input_var(name: &str) -> String {
    format!(
        "{}{}",
        vars::INPUT_PREFIX,
        name.replace(' ', "_").to_uppercase()
    )
}

/// Reads an input, trimmed; `None` when unset or empty.
pub fn get_input<'e>(env: &'e Env, name: &str) -> Option<&'e str> {
    env.get(&input_var(name))
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// Reads a required input.
pub fn get_required_input<'e>(env: &'e Env, name: &str) -> Result<&'e str, InputError> {
    get_input(env, name).ok_or_else(|| InputError::Required { name: name.into() })
}

/// Parses a boolean the way `@actions/core` `getBooleanInput` does: only the YAML 1.2
/// core schema spellings are accepted.
pub fn parse_bool(name: &str, value: &str) -> Result<bool, InputError> {
    match value.trim() {
        "true" | "True" | "TRUE" => Ok(true),
        "false" | "False" | "FALSE" => Ok(false),
        other => Err(InputError::Bool {
            name: name.into(),
            value: other.into(),
        }),
    }
}

/// Reads a boolean input; `None` when unset or empty.
pub fn get_bool_input(env: &Env, name: &str) -> Result<Option<bool>, InputError> {
    get_input(env, name)
        .map(|v| parse_bool(name, v))
        .transpose()
}

/// Parses a signed integer input.
pub fn parse_int(name: &str, value: &str) -> Result<i64, InputError> {
    value.trim().parse().map_err(|_| InputError::Integer {
        name: name.into(),
        value: value.into(),
    })
}

/// Reads an integer input; `None` when unset or empty.
pub fn get_int_input(env: &Env, name: &str) -> Result<Option<i64>, InputError> {
    get_input(env, name).map(|v| parse_int(name, v)).transpose()
}

/// Parses a duration: a sequence of `<number><unit>` with units `ms`, `s`, `m`, `h`, `d`
/// (`90s`, `5m`, `1h30m`, `1.5h`); a bare number means seconds.
pub fn parse_duration(name: &str, value: &str) -> Result<Duration, InputError> {
    let err = || InputError::Duration {
        name: name.into(),
        value: value.into(),
    };
    let s = value.trim();
    if s.is_empty() {
        return Err(err());
    }
    if let Ok(secs) = s.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).map_err(|_| err());
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(err)?;
        if num_len == 0 {
            return Err(err());
        }
        let number: f64 = rest[..num_len].parse().map_err(|_| err())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            _ => return Err(err()),
        };
        total += number * factor;
        rest = &rest[unit_len..];
    }
    Duration::try_from_secs_f64(total).map_err(|_| err())
}

/// Reads a duration input; `None` when unset or empty.
pub fn get_duration_input(env: &Env, name: &str) -> Result<Option<Duration>, InputError> {
    get_input(env, name)
        .map(|v| parse_duration(name, v))
        .transpose()
}

/// Splits a list input: one item per line or comma-separated, each trimmed, empty items
/// dropped.
pub fn split_list(value: &str) -> Vec<String> {
    value
        .lines()
        .flat_map(|line| line.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// Splits a multi-line input: one item per line, trimmed, empty lines dropped (commas are
/// kept, as `@actions/core` `getMultilineInput` does).
pub fn split_lines(value: &str) -> Vec<String> {
    value
        .lines()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// Reads a list input (lines and/or commas); empty when unset.
pub fn get_list_input(env: &Env, name: &str) -> Vec<String> {
    get_input(env, name).map(split_list).unwrap_or_default()
}

/// Reads a multi-line input (one item per line); empty when unset.
pub fn get_multiline_input(env: &Env, name: &str) -> Vec<String> {
    get_input(env, name).map(split_lines).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn names_are_mangled_like_the_runner() {
        assert_eq!(input_var("tag-prefix"), "INPUT_TAG-PREFIX");
        assert_eq!(input_var("my input"), "INPUT_MY_INPUT");
        assert_eq!(input_var("Dry-Run"), "INPUT_DRY-RUN");
    }

    #[test]
    fn inputs_are_trimmed_and_empty_is_unset() {
        let e = env(&[("INPUT_A", "  x \n"), ("INPUT_B", "   ")]);
        assert_eq!(get_input(&e, "a"), Some("x"));
        assert_eq!(get_input(&e, "b"), None);
        assert_eq!(get_input(&e, "c"), None);
        assert_eq!(
            get_required_input(&e, "b").unwrap_err().to_string(),
            "input `b` is required and was not supplied"
        );
    }

    #[test]
    fn booleans_are_the_yaml_1_2_core_set_only() {
        for t in ["true", "True", "TRUE", " true "] {
            assert_eq!(parse_bool("x", t), Ok(true));
        }
        for f in ["false", "False", "FALSE"] {
            assert_eq!(parse_bool("x", f), Ok(false));
        }
        for bad in ["yes", "on", "1", "tRUE", "y", "no", "off", "0"] {
            let e = parse_bool("dry-run", bad).unwrap_err();
            assert!(
                e.to_string()
                    .starts_with("input `dry-run` must be a boolean"),
                "{e}"
            );
        }
    }

    #[test]
    fn durations() {
        let d = |s| parse_duration("interval", s);
        assert_eq!(d("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(d("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(d("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(d("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(d("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(d("42"), Ok(Duration::from_secs(42)));
        for bad in ["", "m", "5x", "-5s", "5 m", "1h-", "s5"] {
            assert!(d(bad).is_err(), "{bad:?} should not parse");
        }
        assert_eq!(
            d("soon").unwrap_err().to_string(),
            "input `interval` must be a duration such as `90s`, `5m`, `1h30m` or `250ms`, got `soon`"
        );
    }

    #[test]
    fn lists() {
        assert_eq!(split_list("a, b\n c,,\n\nd"), ["a", "b", "c", "d"]);
        assert_eq!(split_lines("a, b\n c\n\n"), ["a, b", "c"]);
        let e = env(&[("INPUT_STEPS", "5,10, 25\n50")]);
        assert_eq!(get_list_input(&e, "steps"), ["5", "10", "25", "50"]);
        assert!(get_list_input(&e, "missing").is_empty());
    }

    #[test]
    fn integers() {
        let e = env(&[("INPUT_N", " 42 "), ("INPUT_BAD", "4x")]);
        assert_eq!(get_int_input(&e, "n"), Ok(Some(42)));
        assert!(get_int_input(&e, "bad").is_err());
        assert_eq!(get_int_input(&e, "none"), Ok(None));
    }
}
