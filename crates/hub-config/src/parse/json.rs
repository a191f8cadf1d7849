//! A JSON parser that records the position of every key and value, when asked to.
//!
//! It reads JSONC too (`//` and `/* */` comments, trailing commas) but records each such
//! extension, so the caller decides whether the file's schema allows them. It is recursive with
//! a depth limit, so a deeply nested file is refused instead of overflowing the stack.
//!
//! Positions cost more than the data (a pointer string and two spans per node), and a valid file
//! never needs them, so the first pass builds the value only ([`Record::Nothing`]); the
//! [`Document`] keeps the text and finds positions when a diagnostic asks: one more pass that
//! records only the pointers wanted and their ancestors ([`Record::Only`]) and builds no value,
//! or the whole map ([`Record::All`]) when someone wants all of it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::{Map, Number, Value};

use super::{Document, Limits, Parsed, SchemaHint};
use crate::diagnostic::{Code, Diagnostic, quote};
use crate::parse::Format;
use crate::position::{NodeSpans, Position, PositionMap, Span, push_pointer};

/// Which positions a pass records.
pub(crate) enum Record<'w> {
    /// Every key and value.
    All,
    /// None: the value only.
    Nothing,
    /// These pointers (each wanted pointer and all its ancestors), skipping other subtrees.
    Only(&'w HashSet<String>),
}

pub(super) fn parse(text: &str, limits: &Limits) -> Parsed {
    // The fast pass: the value without positions. A duplicate key needs the full map to say
    // where the first one is, so it makes this pass give way to the full one.
    let mut fast = Parser::new(text, limits.max_depth, Record::Nothing, true);
    let result = fast.document();
    if !fast.needs_full_pass {
        let schema_hint = match (&result, fast.root_schema) {
            (Ok(value), Some(span)) => {
                value
                    .get("$schema")
                    .and_then(Value::as_str)
                    .map(|reference| SchemaHint {
                        reference: reference.to_owned(),
                        span,
                    })
            }
            _ => None,
        };
        let mut diagnostics = fast.diagnostics;
        let documents = match result {
            Ok(value) => vec![Document::lazy_json(
                value,
                Arc::from(text),
                limits.max_depth,
            )],
            Err(fatal) => {
                diagnostics.push(*fatal);
                Vec::new()
            }
        };
        return Parsed {
            format: Format::Json,
            documents,
            diagnostics,
            schema_hint,
            json_extensions: fast.extensions,
        };
    }
    let mut parser = Parser::new(text, limits.max_depth, Record::All, true);
    let result = parser.document();
    let mut diagnostics = parser.diagnostics;
    let documents = match result {
        Ok(value) => vec![Document::with_positions(
            0,
            value,
            parser.positions,
            Vec::new(),
        )],
        Err(fatal) => {
            diagnostics.push(*fatal);
            Vec::new()
        }
    };
    Parsed {
        format: Format::Json,
        documents,
        diagnostics,
        schema_hint: None,
        json_extensions: parser.extensions,
    }
}

/// The positions `record` asks for in `text`, which parsed before (so errors cannot happen; if
/// the text changed meanwhile, what was recorded up to the error is returned).
pub(crate) fn positions(text: &str, max_depth: usize, record: Record<'_>) -> PositionMap {
    let mut parser = Parser::new(text, max_depth, record, false);
    let _ = parser.document();
    parser.positions
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: usize,
    column: usize,
    max_depth: usize,
    record: Record<'a>,
    /// Whether to build the value (a positions pass does not).
    build: bool,
    /// Set when the pass without positions met a duplicate key.
    needs_full_pass: bool,
    /// Where the root object's `$schema` value is written (recorded in every mode).
    root_schema: Option<Span>,
    positions: PositionMap,
    diagnostics: Vec<Diagnostic>,
    extensions: Vec<Span>,
}

/// Errors are boxed to keep the recursive frames small.
type Result<T> = std::result::Result<T, Box<Diagnostic>>;

fn fail(code: Code, message: impl Into<String>, span: Span) -> Box<Diagnostic> {
    Box::new(Diagnostic::error(code, message, span))
}

impl<'a> Parser<'a> {
    fn new(text: &'a str, max_depth: usize, record: Record<'a>, build: bool) -> Self {
        Self {
            bytes: text.as_bytes(),
            text,
            pos: 0,
            line: 1,
            column: 1,
            max_depth,
            record,
            build,
            needs_full_pass: false,
            root_schema: None,
            positions: PositionMap::default(),
            diagnostics: Vec::new(),
            extensions: Vec::new(),
        }
    }

    /// The pointer of a child, when this pass records it (`parent` is recorded).
    fn child(&self, parent: Option<&str>, token: &str) -> Option<String> {
        let parent = parent?;
        match self.record {
            Record::Nothing => None,
            Record::All => Some(push_pointer(parent, token)),
            Record::Only(wanted) => {
                Some(push_pointer(parent, token)).filter(|p| wanted.contains(p))
            }
        }
    }

    fn root_pointer(&self) -> Option<String> {
        match self.record {
            Record::Nothing => None,
            Record::All => Some(String::new()),
            Record::Only(wanted) => wanted.contains("").then(String::new),
        }
    }
}

impl Parser<'_> {
    fn here(&self) -> Position {
        Position::new(self.line, self.column)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn bump(&mut self) {
        if let Some(&b) = self.bytes.get(self.pos) {
            self.pos += 1;
            if b == b'\n' {
                self.line += 1;
                self.column = 1;
            } else if (b & 0xC0) != 0x80 {
                self.column += 1;
            }
        }
    }

    fn syntax(&self, message: impl Into<String>) -> Box<Diagnostic> {
        Box::new(Diagnostic::error(
            Code::Syntax,
            message,
            Span::at(self.here()),
        ))
    }

    /// Describes the character at the cursor for a message.
    fn found(&self) -> String {
        match self.text[self.pos..].chars().next() {
            None => "end of file".to_owned(),
            Some(c) => quote(&c.to_string()),
        }
    }

    fn document(&mut self) -> Result<Value> {
        self.skip_trivia()?;
        if self.peek().is_none() {
            return Err(self.syntax("file is empty, expected a JSON value"));
        }
        let root = self.root_pointer();
        let value = self.value(root, None, 0)?;
        self.skip_trivia()?;
        if self.peek().is_some() {
            return Err(self.syntax(format!(
                "expected end of file after the JSON value, found {}",
                self.found()
            )));
        }
        Ok(value)
    }

    /// Skips whitespace and comments, recording each comment as a JSON extension.
    fn skip_trivia(&mut self) -> Result<()> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.bump(),
                Some(b'/') => {
                    let start = self.here();
                    match self.bytes.get(self.pos + 1) {
                        Some(b'/') => {
                            while !matches!(self.peek(), None | Some(b'\n')) {
                                self.bump();
                            }
                        }
                        Some(b'*') => {
                            self.bump();
                            self.bump();
                            loop {
                                match self.peek() {
                                    None => {
                                        return Err(fail(
                                            Code::Syntax,
                                            "unterminated `/*` comment",
                                            Span::at(start),
                                        ));
                                    }
                                    Some(b'*') if self.bytes.get(self.pos + 1) == Some(&b'/') => {
                                        self.bump();
                                        self.bump();
                                        break;
                                    }
                                    Some(_) => self.bump(),
                                }
                            }
                        }
                        _ => return Err(self.syntax("expected a JSON value, found `/`")),
                    }
                    self.extensions.push(Span::new(start, self.here()));
                }
                _ => return Ok(()),
            }
        }
    }

    fn value(&mut self, pointer: Option<String>, key: Option<Span>, depth: usize) -> Result<Value> {
        let start = self.here();
        let value = match self.peek() {
            Some(b'{') => self.object(pointer.as_deref(), depth)?,
            Some(b'[') => self.array(pointer.as_deref(), depth)?,
            Some(b'"') => Value::String(self.string()?),
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(b't') => self.literal("true", Value::Bool(true))?,
            Some(b'f') => self.literal("false", Value::Bool(false))?,
            Some(b'n') => self.literal("null", Value::Null)?,
            None => return Err(self.syntax("unexpected end of file, expected a JSON value")),
            Some(_) => {
                return Err(self.syntax(format!("expected a JSON value, found {}", self.found())));
            }
        };
        if let Some(pointer) = pointer {
            self.positions.insert(
                pointer,
                NodeSpans {
                    key,
                    value: Span::new(start, self.here()),
                },
            );
        }
        Ok(value)
    }

    fn enter(&self, depth: usize) -> Result<usize> {
        if depth >= self.max_depth {
            return Err(fail(
                Code::DepthLimit,
                format!("nesting is deeper than {} levels", self.max_depth),
                Span::at(self.here()),
            ));
        }
        Ok(depth + 1)
    }

    fn object(&mut self, pointer: Option<&str>, depth: usize) -> Result<Value> {
        let depth = self.enter(depth)?;
        self.bump(); // `{`
        let mut map = Map::new();
        // Line of each key, for duplicate reports; only the pass that records every position
        // reports them (the others either give way to it or read a file that parsed before).
        let mut key_lines: HashMap<String, usize> = HashMap::new();
        self.skip_trivia()?;
        if self.peek() == Some(b'}') {
            self.bump();
            return Ok(Value::Object(map));
        }
        loop {
            if self.peek() != Some(b'"') {
                let hint = if matches!(self.peek(), Some(b'a'..=b'z' | b'A'..=b'Z' | b'_')) {
                    " (JSON keys must be in double quotes)"
                } else {
                    ""
                };
                return Err(self.syntax(format!(
                    "expected a string key, found {}{hint}",
                    self.found()
                )));
            }
            let key_start = self.here();
            let key = self.string()?;
            let key_span = Span::new(key_start, self.here());
            self.skip_trivia()?;
            if self.peek() != Some(b':') {
                return Err(self.syntax(format!(
                    "expected `:` after the key {}, found {}",
                    quote(&key),
                    self.found()
                )));
            }
            self.bump();
            self.skip_trivia()?;
            let child = self.child(pointer, &key);
            let value_start = self.here();
            let value = self.value(child, Some(key_span), depth)?;
            if depth == 1 && key == "$schema" {
                self.root_schema = Some(Span::new(value_start, self.here()));
            }
            if self.build {
                if matches!(self.record, Record::All) {
                    if let Some(first_line) = key_lines.insert(key.clone(), key_start.line) {
                        self.diagnostics.push(
                            Diagnostic::error(
                                Code::DuplicateKey,
                                format!("duplicate key {}", quote(&key)),
                                key_span,
                            )
                            .with_pointer(push_pointer(pointer.unwrap_or_default(), &key))
                            .with_suggestion(format!(
                                "remove one of them: the key is also on line {first_line} and the last one wins"
                            )),
                        );
                    }
                } else if map.contains_key(&key) {
                    self.needs_full_pass = true;
                    return Err(self.syntax("duplicate key"));
                }
                map.insert(key, value);
            }
            self.skip_trivia()?;
            match self.peek() {
                Some(b',') => {
                    let comma = self.here();
                    self.bump();
                    self.skip_trivia()?;
                    if self.peek() == Some(b'}') {
                        self.extensions.push(Span::at(comma));
                        self.bump();
                        return Ok(Value::Object(map));
                    }
                }
                Some(b'}') => {
                    self.bump();
                    return Ok(Value::Object(map));
                }
                _ => {
                    return Err(self.syntax(format!(
                        "expected `,` or `}}` after an object member, found {}",
                        self.found()
                    )));
                }
            }
        }
    }

    fn array(&mut self, pointer: Option<&str>, depth: usize) -> Result<Value> {
        let depth = self.enter(depth)?;
        self.bump(); // `[`
        let mut items = Vec::new();
        let mut count = 0usize;
        self.skip_trivia()?;
        if self.peek() == Some(b']') {
            self.bump();
            return Ok(Value::Array(items));
        }
        loop {
            let child = match pointer {
                Some(_) => self.child(pointer, &count.to_string()),
                None => None,
            };
            let item = self.value(child, None, depth)?;
            count += 1;
            if self.build {
                items.push(item);
            }
            self.skip_trivia()?;
            match self.peek() {
                Some(b',') => {
                    let comma = self.here();
                    self.bump();
                    self.skip_trivia()?;
                    if self.peek() == Some(b']') {
                        self.extensions.push(Span::at(comma));
                        self.bump();
                        return Ok(Value::Array(items));
                    }
                }
                Some(b']') => {
                    self.bump();
                    return Ok(Value::Array(items));
                }
                _ => {
                    return Err(self.syntax(format!(
                        "expected `,` or `]` after an array item, found {}",
                        self.found()
                    )));
                }
            }
        }
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Value> {
        if self.text[self.pos..].starts_with(word) {
            for _ in 0..word.len() {
                self.bump();
            }
            Ok(value)
        } else {
            Err(self.syntax(format!("expected a JSON value, found {}", self.found())))
        }
    }

    fn number(&mut self) -> Result<Value> {
        let start = self.pos;
        let start_position = self.here();
        let digits = |p: &mut Self| {
            let mut n = 0;
            while matches!(p.peek(), Some(b'0'..=b'9')) {
                p.bump();
                n += 1;
            }
            n
        };
        if self.peek() == Some(b'-') {
            self.bump();
        }
        let int_start = self.pos;
        let int_digits = digits(self);
        let leading_zero = int_digits > 1 && self.bytes[int_start] == b'0';
        let mut valid = int_digits > 0 && !leading_zero;
        if self.peek() == Some(b'.') {
            self.bump();
            valid &= digits(self) > 0;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.bump();
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.bump();
            }
            valid &= digits(self) > 0;
        }
        let lexeme = &self.text[start..self.pos];
        let span = Span::new(start_position, self.here());
        if !valid {
            return Err(fail(
                Code::Syntax,
                format!("invalid number {}", quote(lexeme)),
                span,
            ));
        }
        if !self.build {
            return Ok(Value::Null);
        }
        match lexeme.parse::<Number>() {
            Ok(number) => Ok(Value::Number(number)),
            Err(_) => Err(fail(
                Code::Syntax,
                format!("number {} is out of range", quote(lexeme)),
                span,
            )),
        }
    }

    fn string(&mut self) -> Result<String> {
        let open = self.here();
        self.bump(); // `"`
        let mut out = String::new();
        loop {
            let run_start = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.bump();
            }
            out.push_str(&self.text[run_start..self.pos]);
            match self.peek() {
                None => {
                    return Err(fail(Code::Syntax, "unterminated string", Span::at(open)));
                }
                Some(b'"') => {
                    self.bump();
                    return Ok(out);
                }
                Some(b'\\') => {
                    let escape_at = self.here();
                    self.bump();
                    let c = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.bump();
                            out.push(self.unicode_escape(escape_at)?);
                            continue;
                        }
                        _ => {
                            return Err(fail(
                                Code::Syntax,
                                format!("invalid escape `\\` followed by {}", self.found()),
                                Span::at(escape_at),
                            ));
                        }
                    };
                    self.bump();
                    out.push(c);
                }
                Some(_) => {
                    return Err(self.syntax(format!(
                        "control character {} must be escaped in a string",
                        self.found()
                    )));
                }
            }
        }
    }

    fn hex4(&mut self, escape_at: Position) -> Result<u32> {
        let digits = self.text.get(self.pos..self.pos + 4).unwrap_or_default();
        match u32::from_str_radix(digits, 16) {
            Ok(code) if digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_hexdigit()) => {
                for _ in 0..4 {
                    self.bump();
                }
                Ok(code)
            }
            _ => Err(fail(
                Code::Syntax,
                "invalid `\\u` escape: expected four hex digits",
                Span::at(escape_at),
            )),
        }
    }

    fn unicode_escape(&mut self, escape_at: Position) -> Result<char> {
        let high = self.hex4(escape_at)?;
        let lone = || {
            fail(
                Code::Syntax,
                "invalid `\\u` escape: lone UTF-16 surrogate",
                Span::at(escape_at),
            )
        };
        let code = match high {
            0xD800..=0xDBFF => {
                if !self.text[self.pos..].starts_with("\\u") {
                    return Err(lone());
                }
                self.bump();
                self.bump();
                let low = self.hex4(escape_at)?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return Err(lone());
                }
                0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(lone()),
            code => code,
        };
        char::from_u32(code).ok_or_else(lone)
    }
}

#[cfg(test)]
mod tests {
    use crate::parse::{Format, parse, tests::render};

    macro_rules! check {
        ($input:expr, @$expect:literal) => {
            insta::assert_snapshot!(render(&parse($input.as_bytes(), Format::Json, &Default::default())), @$expect)
        };
    }

    #[test]
    fn positions_of_keys_and_values() {
        check!("{\n  \"a\": [1, {\"b\": null}],\n  \"c~/\": \"ç\"\n}", @r#"
        doc 0: {"a":[1,{"b":null}],"c~/":"ç"}
          "" value 1:1-4:2
          "/a" key 2:3-2:6 value 2:8-2:24
          "/a/0" value 2:9-2:10
          "/a/1" value 2:12-2:23
          "/a/1/b" key 2:13-2:16 value 2:18-2:22
          "/c~0~1" key 3:3-3:8 value 3:10-3:13
        "#);
    }

    #[test]
    fn duplicate_keys_are_errors_and_the_last_wins() {
        check!(r#"{"a": 1, "a": 2}"#, @r#"
        doc 0: {"a":2}
          "" value 1:1-1:17
          "/a" key 1:10-1:13 value 1:15-1:16
        error[duplicate-key] 1:10-1:13: duplicate key `a` (at "/a") -- remove one of them: the key is also on line 1 and the last one wins
        "#);
    }

    #[test]
    fn comments_and_trailing_commas_are_recorded() {
        check!("// c\n{\"a\": [1,], /* x */ \"b\": 2,}", @r#"
        doc 0: {"a":[1],"b":2}
          "" value 2:1-2:29
          "/a" key 2:2-2:5 value 2:7-2:11
          "/a/0" value 2:8-2:9
          "/b" key 2:21-2:24 value 2:26-2:27
        jsonc at 1:1-1:5
        jsonc at 2:9-2:9
        jsonc at 2:13-2:20
        jsonc at 2:27-2:27
        "#);
    }

    #[test]
    fn syntax_errors_have_positions() {
        check!("{\"a\": 1\n \"b\": 2}", @r#"error[syntax] 2:2-2:2: expected `,` or `}` after an object member, found `"`"#);
        check!("{a: 1}", @"error[syntax] 1:2-1:2: expected a string key, found `a` (JSON keys must be in double quotes)");
        check!("[1, 2", @"error[syntax] 1:6-1:6: expected `,` or `]` after an array item, found end of file");
        check!("\"abc", @"error[syntax] 1:1-1:1: unterminated string");
        check!("[01]", @"error[syntax] 1:2-1:4: invalid number `01`");
        check!("\"\\ud800\"", @r"error[syntax] 1:2-1:2: invalid `\u` escape: lone UTF-16 surrogate");
        check!("\"a\nb\"", @r"error[syntax] 1:3-1:3: control character `\n` must be escaped in a string");
        check!("", @"error[syntax] 1:1-1:1: file is empty, expected a JSON value");
        check!("{} x", @"error[syntax] 1:4-1:4: expected end of file after the JSON value, found `x`");
        check!("[1e999]", @"error[syntax] 1:2-1:7: number `1e999` is out of range");
    }

    #[test]
    fn numbers_and_escapes() {
        check!(r#"[0, -1.5, 1e3, 18446744073709551616, "\u00e9\ud83d\ude00\n"]"#, @r#"
        doc 0: [0,-1.5,1000.0,1.8446744073709552e+19,"é😀\n"]
          "" value 1:1-1:61
          "/0" value 1:2-1:3
          "/1" value 1:5-1:9
          "/2" value 1:11-1:14
          "/3" value 1:16-1:36
          "/4" value 1:38-1:60
        "#);
    }

    #[test]
    fn positions_found_on_demand_match_the_full_map() {
        let text = "{\n \"a\": [1, {\"b~/\": null}, \"x\"],\n \"c\": {\"d\": {\"e\": 2}},\n \"$schema\": \"s.json\"\n}";
        let parsed = parse(text.as_bytes(), Format::Json, &Default::default());
        let document = &parsed.documents[0];
        let pointers = [
            "",
            "/a",
            "/a/0",
            "/a/1",
            "/a/1/b~0~1",
            "/a/2",
            "/a/9",
            "/c",
            "/c/d",
            "/c/d/e",
            "/c/missing/deeper",
            "/$schema",
            "/zzz",
        ];
        let wanted: Vec<(&str, bool)> = pointers
            .iter()
            .flat_map(|p| [(*p, true), (*p, false)])
            .collect();
        // First on demand (no map yet), then from the whole map.
        let on_demand = document.locate_all(&wanted);
        let full: Vec<_> = wanted
            .iter()
            .map(|(p, key)| document.positions().locate(p, *key))
            .collect();
        assert_eq!(on_demand, full);
        assert_eq!(document.positions().len(), 10);
        let hint = parsed
            .schema_hint
            .as_ref()
            .expect("because the root names a `$schema`");
        assert_eq!((hint.reference.as_str(), hint.span), ("s.json", full[23]));
    }

    #[test]
    fn a_duplicate_key_after_the_fast_pass_still_names_both_lines() {
        check!("{\"a\": {\"b\": 1},\n \"a\": 2}", @r#"
        doc 0: {"a":2}
          "" value 1:1-2:9
          "/a" key 2:2-2:5 value 2:7-2:8
        error[duplicate-key] 2:2-2:5: duplicate key `a` (at "/a") -- remove one of them: the key is also on line 1 and the last one wins
        "#);
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = "[".repeat(100_000);
        check!(deep, @"error[depth-limit] 1:257-1:257: nesting is deeper than 256 levels");
    }
}
