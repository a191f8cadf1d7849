//! TOML through `toml`'s spanned `DeTable`: datetimes become RFC 3339 strings, integers and
//! floats JSON numbers (`inf`/`nan` stay strings, with a warning).

use serde_json::{Map, Number, Value};
use toml::de::{DeTable, DeValue};

use super::{Document, Limits, Parsed, comment_directive};
use crate::diagnostic::{Code, Diagnostic, quote};
use crate::parse::Format;
use crate::position::{LineIndex, NodeSpans, PositionMap, Span, push_pointer};

pub(super) fn parse(text: &str, limits: &Limits) -> Parsed {
    let index = LineIndex::new(text);
    let schema_hint = comment_directive(text, "#:schema ");
    let mut parsed = Parsed {
        format: Format::Toml,
        documents: Vec::new(),
        diagnostics: Vec::new(),
        schema_hint,
        json_extensions: Vec::new(),
    };
    let table = match DeTable::parse(text) {
        Ok(table) => table,
        Err(error) => {
            let span = error
                .span()
                .map_or(Span::at(crate::Position::START), |range| index.span(range));
            let message = error.message().trim_end_matches('.').to_owned();
            let message = lower_first(&message);
            parsed
                .diagnostics
                .push(Diagnostic::error(Code::Syntax, message, span));
            return parsed;
        }
    };
    let mut walker = Walker {
        index: &index,
        positions: PositionMap::default(),
        diagnostics: Vec::new(),
        max_depth: limits.max_depth,
    };
    let root_span = index.span(table.span());
    walker.positions.insert(
        String::new(),
        NodeSpans {
            key: None,
            value: root_span,
        },
    );
    match walker.table(table.get_ref(), "", 0) {
        Ok(value) => {
            parsed.documents.push(Document::with_positions(
                0,
                value,
                walker.positions,
                Vec::new(),
            ));
        }
        Err(fatal) => walker.diagnostics.push(*fatal),
    }
    parsed.diagnostics = walker.diagnostics;
    parsed
}

fn lower_first(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) if first.is_uppercase() && !chars.next().is_some_and(char::is_uppercase) => {
            first
                .to_lowercase()
                .chain(message[first.len_utf8()..].chars())
                .collect()
        }
        _ => message.to_owned(),
    }
}

struct Walker<'a> {
    index: &'a LineIndex<'a>,
    positions: PositionMap,
    diagnostics: Vec<Diagnostic>,
    max_depth: usize,
}

impl Walker<'_> {
    fn table(
        &mut self,
        table: &DeTable<'_>,
        pointer: &str,
        depth: usize,
    ) -> Result<Value, Box<Diagnostic>> {
        let mut map = Map::new();
        for (key, value) in table.iter() {
            let child = push_pointer(pointer, key.get_ref());
            let key_span = self.index.span(key.span());
            let value_span = self.index.span(value.span());
            self.positions.insert(
                child.clone(),
                NodeSpans {
                    key: Some(key_span),
                    value: value_span,
                },
            );
            let converted = self.value(value.get_ref(), &child, value_span, depth)?;
            map.insert(key.get_ref().to_string(), converted);
        }
        Ok(Value::Object(map))
    }

    fn value(
        &mut self,
        value: &DeValue<'_>,
        pointer: &str,
        span: Span,
        depth: usize,
    ) -> Result<Value, Box<Diagnostic>> {
        if depth >= self.max_depth {
            return Err(Diagnostic::error(
                Code::DepthLimit,
                format!("nesting is deeper than {} levels", self.max_depth),
                span,
            )
            .into());
        }
        Ok(match value {
            DeValue::String(s) => Value::String(s.to_string()),
            DeValue::Boolean(b) => Value::Bool(*b),
            DeValue::Datetime(d) => Value::String(d.to_string()),
            DeValue::Integer(i) => {
                let digits = i.as_str();
                let number = u64::from_str_radix(digits.trim_start_matches('+'), i.radix())
                    .map(Number::from)
                    .or_else(|_| i64::from_str_radix(digits, i.radix()).map(Number::from))
                    .ok();
                match number {
                    Some(number) => Value::Number(number),
                    None => {
                        self.diagnostics.push(Diagnostic::error(
                            Code::Syntax,
                            format!("integer {} does not fit in 64 bits", quote(&i.to_string())),
                            span,
                        ));
                        Value::String(i.to_string())
                    }
                }
            }
            DeValue::Float(f) => match f.as_str().parse::<f64>().ok().and_then(Number::from_f64) {
                Some(number) => Value::Number(number),
                None => {
                    self.diagnostics.push(Diagnostic::warning(
                        Code::NonFiniteNumber,
                        format!(
                            "{} is not a finite number, which JSON cannot hold; it is read as a string",
                            quote(f.as_str())
                        ),
                        span,
                    ));
                    Value::String(f.as_str().to_owned())
                }
            },
            DeValue::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let child = push_pointer(pointer, &i.to_string());
                    let item_span = self.index.span(item.span());
                    self.positions.insert(
                        child.clone(),
                        NodeSpans {
                            key: None,
                            value: item_span,
                        },
                    );
                    out.push(self.value(item.get_ref(), &child, item_span, depth + 1)?);
                }
                Value::Array(out)
            }
            DeValue::Table(table) => self.table(table, pointer, depth + 1)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::parse::{Format, Limits, parse, tests::render};

    macro_rules! check {
        ($input:expr, @$expect:literal) => {
            insta::assert_snapshot!(render(&parse($input.as_bytes(), Format::Toml, &Limits::default())), @$expect)
        };
    }

    #[test]
    fn tables_arrays_and_scalars() {
        check!("#:schema ./s.json\ntitle = \"x\"\n[server]\nport = 0x1F\nratio = 1.5\nwhen = 1979-05-27T07:32:00Z\n[[item]]\nname = \"a\"\n", @r#"
        doc 0: {"item":[{"name":"a"}],"server":{"port":31,"ratio":1.5,"when":"1979-05-27T07:32:00Z"},"title":"x"}
          "" value 1:1-1:1
          "/item" key 7:3-7:7 value 7:1-7:9
          "/item/0" value 7:1-7:9
          "/item/0/name" key 8:1-8:5 value 8:8-8:11
          "/server" key 3:2-3:8 value 3:1-3:9
          "/server/port" key 4:1-4:5 value 4:8-4:12
          "/server/ratio" key 5:1-5:6 value 5:9-5:12
          "/server/when" key 6:1-6:5 value 6:8-6:28
          "/title" key 2:1-2:6 value 2:9-2:12
        schema hint "./s.json" at 1:10-1:18
        "#);
    }

    #[test]
    fn syntax_errors_and_duplicates() {
        check!("a = 1\na = 2\n", @"error[syntax] 2:1-2:2: duplicate key");
        check!("a = \n", @"error[syntax] 1:5-1:5: string values must be quoted, expected literal string");
    }

    #[test]
    fn non_finite_floats_are_strings() {
        check!("x = inf\ny = nan\n", @r#"
        doc 0: {"x":"inf","y":"nan"}
          "" value 1:1-1:1
          "/x" key 1:1-1:2 value 1:5-1:8
          "/y" key 2:1-2:2 value 2:5-2:8
        warning[non-finite-number] 1:5-1:8: `inf` is not a finite number, which JSON cannot hold; it is read as a string
        warning[non-finite-number] 2:5-2:8: `nan` is not a finite number, which JSON cannot hold; it is read as a string
        "#);
    }
}
