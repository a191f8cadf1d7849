//! Metric files for `source: file`: per-interval values or benchmark results, as JSON or
//! CSV, read into named series.
//!
//! Accepted shapes:
//! - JSON: a list of numbers (`[1.2, 1.3, null]`), `{"samples": […]}`, an object of named
//!   lists (`{"p95": […], "rps": […]}`, each list possibly `{"samples": […]}`) or a list of
//!   rows (`[{"p95": 1.2, "rps": 900}, …]`);
//! - CSV: a header row naming the columns (a `time`, `timestamp` or `interval` column is
//!   ignored), or no header for one unnamed column. An empty cell, `null` or `NaN` is a
//!   missing value.
//!
//! `null` is a missing value, never zero.

use std::collections::BTreeMap;

/// The series of one file: named columns, or one unnamed series (key `None`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    /// Series by name; `None` is the unnamed series.
    pub series: BTreeMap<Option<String>, Vec<Option<f64>>>,
}

impl Table {
    /// The series for `metric`: its named column, or the unnamed series when `sole` (the
    /// metric is the only one asked for).
    pub fn get(&self, metric: &str, sole: bool) -> Option<&[Option<f64>]> {
        self.series
            .get(&Some(metric.to_owned()))
            .or_else(|| if sole { self.series.get(&None) } else { None })
            .map(Vec::as_slice)
    }

    /// The names of the named series.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.series.keys().filter_map(|k| k.as_deref())
    }
}

/// Parses a file's text (JSON when it starts with `[` or `{`, else CSV).
pub fn parse(text: &str) -> Result<Table, String> {
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    if trimmed.is_empty() {
        return Err("the file is empty".into());
    }
    if trimmed.starts_with('[') || trimmed.starts_with('{') {
        let value: serde_json::Value =
            serde_json::from_str(trimmed).map_err(|e| format!("invalid JSON: {e}"))?;
        parse_json(&value)
    } else {
        parse_csv(trimmed)
    }
}

fn number(v: &serde_json::Value, at: &dyn Fn() -> String) -> Result<Option<f64>, String> {
    match v {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::Number(n) => Ok(n.as_f64()),
        serde_json::Value::String(s) => cell(s).map_err(|e| format!("{}: {e}", at())),
        other => Err(format!("{}: expected a number, got `{other}`", at())),
    }
}

fn list(v: &serde_json::Value, what: &str) -> Result<Vec<Option<f64>>, String> {
    let items = match v {
        serde_json::Value::Array(items) => items,
        serde_json::Value::Object(o) => match o.get("samples") {
            Some(serde_json::Value::Array(items)) => items,
            _ => {
                return Err(format!(
                    "{what}: expected a list of numbers or `{{\"samples\": […]}}`"
                ));
            }
        },
        _ => return Err(format!("{what}: expected a list of numbers")),
    };
    items
        .iter()
        .enumerate()
        .map(|(i, x)| number(x, &|| format!("{what}, item {}", i + 1)))
        .collect()
}

fn parse_json(value: &serde_json::Value) -> Result<Table, String> {
    let mut table = Table::default();
    match value {
        serde_json::Value::Array(items)
            if items.iter().all(|i| i.is_object()) && !items.is_empty() =>
        {
            let n = items.len();
            for (row, item) in items.iter().enumerate() {
                let serde_json::Value::Object(fields) = item else {
                    continue;
                };
                for (name, v) in fields {
                    let at = || format!("row {}, `{name}`", row + 1);
                    let value = number(v, &at)?;
                    table
                        .series
                        .entry(Some(name.clone()))
                        .or_insert_with(|| vec![None; n])[row] = value;
                }
            }
        }
        serde_json::Value::Array(_) => {
            table.series.insert(None, list(value, "the list")?);
        }
        serde_json::Value::Object(o) if o.contains_key("samples") => {
            table.series.insert(None, list(value, "`samples`")?);
        }
        serde_json::Value::Object(o) => {
            for (name, v) in o {
                table
                    .series
                    .insert(Some(name.clone()), list(v, &format!("`{name}`"))?);
            }
        }
        _ => return Err("expected a JSON list or object".into()),
    }
    Ok(table)
}

fn cell(s: &str) -> Result<Option<f64>, String> {
    let s = s.trim().trim_matches('"').trim();
    if s.is_empty() || s.eq_ignore_ascii_case("nan") || s.eq_ignore_ascii_case("null") {
        return Ok(None);
    }
    s.parse::<f64>()
        .map(Some)
        .map_err(|_| format!("`{s}` is not a number"))
}

const IGNORED_COLUMNS: [&str; 3] = ["time", "timestamp", "interval"];

fn parse_csv(text: &str) -> Result<Table, String> {
    let rows: Vec<(usize, Vec<&str>)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|(i, l)| (i + 1, l.split(',').collect()))
        .collect();
    let Some((_, first)) = rows.first() else {
        return Err("the file has no rows".into());
    };
    let has_header = first.iter().any(|c| cell(c).is_err());
    let names: Vec<Option<String>> = if has_header {
        first
            .iter()
            .map(|c| Some(c.trim().trim_matches('"').trim().to_owned()))
            .collect()
    } else if first.len() == 1 {
        vec![None]
    } else {
        return Err("a CSV file with several columns needs a header row naming them".into());
    };
    let mut table = Table::default();
    let body = if has_header { &rows[1..] } else { &rows[..] };
    for (col, name) in names.iter().enumerate() {
        if name
            .as_deref()
            .is_some_and(|n| IGNORED_COLUMNS.iter().any(|i| n.eq_ignore_ascii_case(i)))
        {
            continue;
        }
        let values = body
            .iter()
            .map(|(line, fields)| {
                let field = fields.get(col).copied().unwrap_or("");
                cell(field).map_err(|e| format!("line {line}, column {}: {e}", col + 1))
            })
            .collect::<Result<Vec<_>, _>>()?;
        table.series.insert(name.clone(), values);
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(t: &Table, n: &str) -> Vec<Option<f64>> {
        t.get(n, false).expect(n).to_vec()
    }

    #[test]
    fn json_shapes() {
        let t = parse("[1, 2.5, null]").expect("list");
        assert_eq!(
            t.get("anything", true),
            Some(&[Some(1.0), Some(2.5), None][..])
        );
        assert_eq!(t.get("anything", false), None);
        let t = parse(r#"{"samples": [3, "4"]}"#).expect("samples");
        assert_eq!(t.get("x", true), Some(&[Some(3.0), Some(4.0)][..]));
        let t = parse(r#"{"p95": [1, 2], "rps": {"samples": [9]}}"#).expect("named");
        assert_eq!(named(&t, "p95"), [Some(1.0), Some(2.0)]);
        assert_eq!(named(&t, "rps"), [Some(9.0)]);
        let t = parse(r#"[{"p95": 1, "rps": 5}, {"p95": 2}]"#).expect("rows");
        assert_eq!(named(&t, "rps"), [Some(5.0), None]);
        assert_eq!(t.names().collect::<Vec<_>>(), ["p95", "rps"]);
    }

    #[test]
    fn csv_shapes() {
        let t = parse("time,p95,rps\n1,0.20,100\n2,,110\n# comment\n3,0.22,NaN\n").expect("csv");
        assert_eq!(named(&t, "p95"), [Some(0.2), None, Some(0.22)]);
        assert_eq!(named(&t, "rps"), [Some(100.0), Some(110.0), None]);
        assert!(t.get("time", false).is_none());
        let t = parse("1.5\n1.6\n").expect("one column");
        assert_eq!(t.get("bench", true), Some(&[Some(1.5), Some(1.6)][..]));
    }

    #[test]
    fn errors_say_where() {
        for (text, want) in [
            ("", "empty"),
            ("p95\n1\nfast\n", "line 3, column 1: `fast` is not a number"),
            ("1,2\n3,4\n", "needs a header"),
            ("[1, true]", "item 2: expected a number"),
            ("{\"a\": 3}", "`a`: expected a list"),
            ("[1,", "invalid JSON"),
        ] {
            let e = parse(text).expect_err(text);
            assert!(e.contains(want), "{text}: {e}");
        }
    }
}
