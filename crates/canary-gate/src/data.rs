//! Metric files for `source: file`: per-interval values or benchmark results, as JSON or
//! CSV, read into named series.
//!
//! Accepted shapes:
//! - JSON: a list of numbers (`[1.2, 1.3, null]`), `{"samples": […]}`, an object of named
//!   lists (`{"p95": […], "rps": […]}`, each list possibly `{"samples": […]}`) or a list of
//!   rows (`[{"p95": 1.2, "rps": 900}, …]`);
//! - CSV: a header row naming the columns (a `time`, `timestamp` or `interval` column is
//!   ignored), or no header for one unnamed column. An empty cell or `null` is a missing
//!   value.
//!
//! `null` is a missing value, never zero. A value that reads as a number but is not a
//! finite one (`NaN`, `inf`, `+Inf`, `Infinity`, `1e400`) is *invalid*: it is not used,
//! and the table lists it with its place ([`Table::invalid`]) so the caller can say so.
//! (JSON has no such numbers: a bare `1e400` makes the JSON itself invalid, and the error
//! names its line and column.)

use std::collections::BTreeMap;

/// The series of one file: named columns, or one unnamed series (key `None`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    /// Series by name; `None` is the unnamed series. Invalid values are `None` here.
    pub series: BTreeMap<Option<String>, Vec<Option<f64>>>,
    /// Values that are not finite numbers, in file order.
    pub invalid: Vec<Invalid>,
}

/// A value that reads as a number but is not a finite one.
#[derive(Clone, Debug, PartialEq)]
pub struct Invalid {
    /// The series it belongs to (`None`: the unnamed series).
    pub series: Option<String>,
    /// Where: `line 7`, `item 3`, `row 2, \`p95\``.
    pub place: String,
    /// The line (CSV only), for the annotation.
    pub line: Option<usize>,
    /// The text as written (at most 40 characters).
    pub text: String,
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

    /// The invalid values of the series [`Table::get`] picks for `metric`.
    pub fn invalid_in(&self, metric: &str, sole: bool) -> Vec<&Invalid> {
        let named = Some(metric.to_owned());
        let key = if self.series.contains_key(&named) {
            named
        } else if sole {
            None
        } else {
            return Vec::new();
        };
        self.invalid.iter().filter(|i| i.series == key).collect()
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

/// One value: `None` when missing or invalid (then recorded in `invalid`).
fn number(
    v: &serde_json::Value,
    series: &Option<String>,
    at: &dyn Fn() -> String,
    invalid: &mut Vec<Invalid>,
) -> Result<Option<f64>, String> {
    let text = match v {
        serde_json::Value::Null => return Ok(None),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::String(s) => s.clone(),
        other => return Err(format!("{}: expected a number, got `{other}`", at())),
    };
    match cell(&text).map_err(|e| format!("{}: {e}", at()))? {
        Cell::Missing => Ok(None),
        Cell::Value(x) => Ok(Some(x)),
        Cell::NotFinite => {
            invalid.push(Invalid {
                series: series.clone(),
                place: at(),
                line: None,
                text: text.trim().chars().take(40).collect(),
            });
            Ok(None)
        }
    }
}

fn list(
    v: &serde_json::Value,
    what: &str,
    series: &Option<String>,
    invalid: &mut Vec<Invalid>,
) -> Result<Vec<Option<f64>>, String> {
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
        .map(|(i, x)| number(x, series, &|| format!("{what}, item {}", i + 1), invalid))
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
                    let value = number(v, &Some(name.clone()), &at, &mut table.invalid)?;
                    table
                        .series
                        .entry(Some(name.clone()))
                        .or_insert_with(|| vec![None; n])[row] = value;
                }
            }
        }
        serde_json::Value::Array(_) => {
            let values = list(value, "the list", &None, &mut table.invalid)?;
            table.series.insert(None, values);
        }
        serde_json::Value::Object(o) if o.contains_key("samples") => {
            let values = list(value, "`samples`", &None, &mut table.invalid)?;
            table.series.insert(None, values);
        }
        serde_json::Value::Object(o) => {
            for (name, v) in o {
                let key = Some(name.clone());
                let values = list(v, &format!("`{name}`"), &key, &mut table.invalid)?;
                table.series.insert(key, values);
            }
        }
        _ => return Err("expected a JSON list or object".into()),
    }
    Ok(table)
}

/// One cell or string value, read.
enum Cell {
    /// Empty or `null`.
    Missing,
    /// A finite number.
    Value(f64),
    /// Reads as a number but is not a finite one (`NaN`, `inf`, `Infinity`, `1e400`).
    NotFinite,
}

fn cell(s: &str) -> Result<Cell, String> {
    let s = s.trim().trim_matches('"').trim();
    if s.is_empty() || s.eq_ignore_ascii_case("null") {
        return Ok(Cell::Missing);
    }
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Cell::Value(v)),
        Ok(_) => Ok(Cell::NotFinite),
        Err(_) => Err(format!("`{s}` is not a number")),
    }
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
        let mut values = Vec::with_capacity(body.len());
        for (line, fields) in body {
            let field = fields.get(col).copied().unwrap_or("");
            let value =
                match cell(field).map_err(|e| format!("line {line}, column {}: {e}", col + 1))? {
                    Cell::Missing => None,
                    Cell::Value(v) => Some(v),
                    Cell::NotFinite => {
                        table.invalid.push(Invalid {
                            series: name.clone(),
                            place: match name {
                                Some(n) => format!("line {line}, `{n}`"),
                                None => format!("line {line}"),
                            },
                            line: Some(*line),
                            text: field
                                .trim()
                                .trim_matches('"')
                                .trim()
                                .chars()
                                .take(40)
                                .collect(),
                        });
                        None
                    }
                };
            values.push(value);
        }
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
        let t = parse("time,p95,rps\n1,0.20,100\n2,,110\n# comment\n3,0.22,null\n").expect("csv");
        assert_eq!(named(&t, "p95"), [Some(0.2), None, Some(0.22)]);
        assert_eq!(named(&t, "rps"), [Some(100.0), Some(110.0), None]);
        assert!(t.invalid.is_empty());
        assert!(t.get("time", false).is_none());
        let t = parse("1.5\n1.6\n").expect("one column");
        assert_eq!(t.get("bench", true), Some(&[Some(1.5), Some(1.6)][..]));
    }

    #[test]
    fn values_that_are_not_finite_numbers_are_listed_with_their_place() {
        let t = parse("p95\n1.5\ninf\n+Inf\n1e400\nInfinity\nNaN\n\n2\n").expect("csv");
        assert_eq!(
            named(&t, "p95"),
            [Some(1.5), None, None, None, None, None, Some(2.0)]
        );
        let listed: Vec<(String, Option<usize>, String)> = t
            .invalid_in("p95", false)
            .iter()
            .map(|i| (i.place.clone(), i.line, i.text.clone()))
            .collect();
        assert_eq!(
            listed,
            [
                ("line 3, `p95`".to_owned(), Some(3), "inf".to_owned()),
                ("line 4, `p95`".to_owned(), Some(4), "+Inf".to_owned()),
                ("line 5, `p95`".to_owned(), Some(5), "1e400".to_owned()),
                ("line 6, `p95`".to_owned(), Some(6), "Infinity".to_owned()),
                ("line 7, `p95`".to_owned(), Some(7), "NaN".to_owned()),
            ]
        );
        // An unnamed CSV column, JSON strings and rows.
        let t = parse("1\n-inf\n").expect("one column");
        assert_eq!(t.invalid_in("x", true)[0].place, "line 2");
        let t = parse(r#"[1, "Infinity", null, "NaN"]"#).expect("list");
        let places: Vec<&str> = t
            .invalid_in("x", true)
            .iter()
            .map(|i| i.place.as_str())
            .collect();
        assert_eq!(places, ["the list, item 2", "the list, item 4"]);
        let t = parse(r#"[{"p95": "inf", "rps": 3}]"#).expect("rows");
        assert_eq!(t.invalid_in("p95", false)[0].place, "row 1, `p95`");
        assert!(t.invalid_in("rps", false).is_empty());
        // A bare 1e400 is not JSON: the error names the place.
        let e = parse("[1, 1e400]").expect_err("out of range");
        assert!(e.contains("line 1 column"), "{e}");
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
