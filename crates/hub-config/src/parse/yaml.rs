//! YAML 1.2 (core schema) on top of `saphyr-parser`'s event stream.
//!
//! The tree is built here rather than by a loader so that every key and value gets a position,
//! duplicate keys are reported, nesting is bounded without recursion, and alias expansion is
//! charged against a node budget: a billion-laughs file stops after `max_alias_nodes` nodes in
//! milliseconds instead of exhausting memory.
//!
//! Merge keys (`<<`, YAML 1.1's <https://yaml.org/type/merge.html>) are expanded as
//! check-jsonschema's PyYAML/ruamel.yaml and ajv-cli's js-yaml expand them, since Compose and
//! GitLab CI files rely on them: in a mapping, a plain `<<` key (or one tagged `!!merge`) whose
//! value is a mapping, an alias of one or a sequence of them brings in their entries; the
//! mapping's own keys win wherever they are written, and in a sequence earlier mappings win over
//! later ones. A merged entry keeps the position where it is written (in the anchored mapping);
//! a key written in the mapping that overrides a merged one is no duplicate. A quoted `"<<"` is
//! an ordinary key; a `<<` of anything else (a scalar, null, a sequence holding one) is an error
//! at the value, as both libraries refuse it. A merge copies only what its aliases were already
//! charged for, so merges stay within `max_alias_nodes` too.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError, Tag};
use serde_json::{Map, Number, Value};

use super::{Document, Limits, Parsed, comment_directive};
use crate::diagnostic::{Code, Diagnostic, quote};
use crate::parse::Format;
use crate::position::{NodeSpans, Position, PositionMap, Span, push_pointer};

pub(super) fn parse(text: &str, limits: &Limits) -> Parsed {
    let mut builder = Builder {
        limits: *limits,
        alias_budget: limits.max_alias_nodes,
        documents: Vec::new(),
        diagnostics: Vec::new(),
        doc: None,
        saw_document: false,
        lines: Lines::new(text),
    };
    let mut parser = Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        let outcome = match next {
            Ok((event, span)) => builder.on_event(event, span.start, span.end),
            Err(error) => Err(Box::new(scan_error(&error, &builder.lines))),
        };
        if let Err(fatal) = outcome {
            builder.diagnostics.push(*fatal);
            break;
        }
    }
    if !builder.saw_document && !builder.diagnostics.iter().any(|d| d.code == Code::Syntax) {
        // An empty stream (or comments only) is one null document, as YAML libraries read it.
        let mut positions = PositionMap::default();
        positions.insert(
            String::new(),
            NodeSpans {
                key: None,
                value: Span::at(Position::START),
            },
        );
        builder.documents.push(Document::with_positions(
            0,
            Value::Null,
            positions,
            Vec::new(),
        ));
    }
    Parsed {
        format: Format::Yaml,
        documents: builder.documents,
        diagnostics: builder.diagnostics,
        schema_hint: comment_directive(text, "yaml-language-server: $schema="),
        json_extensions: Vec::new(),
    }
}

/// Character offsets where each `\n`-separated line starts, to turn the parser's markers into
/// positions: the parser also counts a lone `\r` as a line break (YAML does), GitHub and
/// editors do not, so its own line numbers would point at the wrong line.
struct Lines {
    starts: Vec<usize>,
    end: Position,
}

impl Lines {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        let mut chars = 0;
        for c in text.chars() {
            chars += 1;
            if c == '\n' {
                starts.push(chars);
            }
        }
        let last = starts.last().copied().unwrap_or(0);
        let end = Position::new(starts.len(), chars - last + 1);
        Self { starts, end }
    }

    /// The position of a marker, no further than the end of the text: the parser places
    /// implicit ends (an empty value after `key:` at the end of the file, the end of the
    /// stream) on the line after the last, which an annotation cannot point at.
    fn position(&self, marker: Marker) -> Position {
        let index = marker.index();
        let line = self.starts.partition_point(|&start| start <= index) - 1;
        Position::new(line + 1, index - self.starts[line] + 1).min(self.end)
    }
}

fn scan_error(error: &ScanError, lines: &Lines) -> Diagnostic {
    let at = Span::at(lines.position(*error.marker()));
    // The parser's messages are fixed text; show their quoted tokens the way ours are shown.
    let info = error.info().replace('\'', "`");
    if info.contains("tab") {
        Diagnostic::error(Code::Tab, info, at)
            .with_suggestion("indent with spaces: YAML does not allow tabs for indentation")
    } else {
        Diagnostic::error(Code::Syntax, info, at)
    }
}

/// A subtree with an anchor, kept for aliases: its value and the positions inside it, with
/// pointers relative to the anchored node (`""` is the node itself).
struct Anchored {
    value: Value,
    entries: Vec<(String, NodeSpans)>,
    /// The YAML 1.1 words inside it, relative like `entries`, so that an alias (or a merge of
    /// one) is told about a `yes` it copies as its anchor is.
    words: Vec<String>,
}

enum Container {
    Seq(Vec<Value>),
    Map {
        map: Map<String, Value>,
        /// The key read and waiting for its value.
        pending: Option<Key>,
        /// Line of each key written in the mapping, for duplicate reports.
        lines: HashMap<String, usize>,
        /// Keys a merge (`<<`) brought in: one written in the mapping overrides them silently.
        merged: HashSet<String>,
        /// YAML 1.1 words a merge brought in, with their key: those of a key still merged when
        /// the mapping ends join the document's.
        merged_words: Vec<(String, String)>,
        /// Line of the first merge key, for a second one's report.
        merge_line: Option<usize>,
    },
}

/// A mapping key read and waiting for its value.
struct Key {
    text: String,
    span: Span,
    /// A merge key (`<<` plain, or tagged `!!merge`): its value is merged, not stored.
    merge: bool,
}

struct Frame {
    container: Container,
    pointer: String,
    anchor: usize,
    /// Index of this node's entry in `DocState::entries`.
    entry: usize,
}

struct DocState {
    index: usize,
    stack: Vec<Frame>,
    /// (pointer, spans) in document order; a node's descendants follow it contiguously.
    entries: Vec<(String, NodeSpans)>,
    anchors: HashMap<usize, Anchored>,
    root: Option<Value>,
    yaml11_words: Vec<String>,
}

/// Where the next node goes.
enum Slot {
    Root,
    Key,
    Value { pointer: String, key: Span },
    Item { pointer: String },
}

struct Builder {
    limits: Limits,
    alias_budget: usize,
    documents: Vec<Document>,
    diagnostics: Vec<Diagnostic>,
    doc: Option<DocState>,
    saw_document: bool,
    /// Turns markers into positions.
    lines: Lines,
}

/// Errors are boxed to keep results small.
type Result<T> = std::result::Result<T, Box<Diagnostic>>;

impl Builder {
    fn doc(&mut self) -> &mut DocState {
        self.doc
            .as_mut()
            .expect("because the parser emits node events only inside a document")
    }

    fn on_event(&mut self, event: Event<'_>, start: Marker, end: Marker) -> Result<()> {
        let span = Span::new(self.lines.position(start), self.lines.position(end));
        match event {
            Event::DocumentStart(_) => {
                self.saw_document = true;
                let index = self.documents.len();
                self.doc = Some(DocState {
                    index,
                    stack: Vec::new(),
                    entries: Vec::new(),
                    anchors: HashMap::new(),
                    root: None,
                    yaml11_words: Vec::new(),
                });
            }
            Event::DocumentEnd => {
                if let Some(doc) = self.doc.take() {
                    let mut positions = PositionMap::default();
                    for (pointer, spans) in doc.entries {
                        positions.insert(pointer, spans);
                    }
                    self.documents.push(Document::with_positions(
                        doc.index,
                        doc.root.unwrap_or(Value::Null),
                        positions,
                        doc.yaml11_words,
                    ));
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                self.scalar(&text, style, anchor, tag, span)?
            }
            Event::SequenceStart(anchor, tag) => {
                self.warn_collection_tag(tag.as_deref(), "seq", span);
                self.open(Container::Seq(Vec::new()), anchor, span)?;
            }
            Event::MappingStart(anchor, tag) => {
                self.warn_collection_tag(tag.as_deref(), "map", span);
                let container = Container::Map {
                    map: Map::new(),
                    pending: None,
                    lines: HashMap::new(),
                    merged: HashSet::new(),
                    merged_words: Vec::new(),
                    merge_line: None,
                };
                self.open(container, anchor, span)?;
            }
            Event::SequenceEnd | Event::MappingEnd => self.close(span.end)?,
            Event::Alias(id) => self.alias(id, span)?,
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
        }
        Ok(())
    }

    fn slot(&mut self) -> Slot {
        let doc = self.doc();
        match doc.stack.last() {
            None => Slot::Root,
            Some(frame) => match &frame.container {
                Container::Seq(items) => Slot::Item {
                    pointer: push_pointer(&frame.pointer, &items.len().to_string()),
                },
                Container::Map { pending: None, .. } => Slot::Key,
                Container::Map {
                    pending: Some(key), ..
                } => Slot::Value {
                    pointer: push_pointer(&frame.pointer, &key.text),
                    key: key.span,
                },
            },
        }
    }

    fn set_key(&mut self, text: String, span: Span, merge: bool) {
        let doc = self.doc();
        if let Some(Frame {
            container: Container::Map { pending, .. },
            ..
        }) = doc.stack.last_mut()
        {
            *pending = Some(Key { text, span, merge });
        }
    }

    fn warn_collection_tag(&mut self, tag: Option<&Tag>, expected: &str, span: Span) {
        if let Some(tag) = tag {
            let known = (tag.is_yaml_core_schema() && tag.suffix == expected)
                || (tag.handle == "!" && tag.suffix.is_empty());
            if !known {
                self.diagnostics.push(unknown_tag(tag, span));
            }
        }
    }

    fn scalar(
        &mut self,
        text: &str,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<Cow<'_, Tag>>,
        span: Span,
    ) -> Result<()> {
        let slot = self.slot();
        if let Slot::Key = slot {
            if anchor != 0 {
                self.doc().anchors.insert(
                    anchor,
                    Anchored {
                        value: Value::String(text.to_owned()),
                        entries: vec![(
                            String::new(),
                            NodeSpans {
                                key: None,
                                value: span,
                            },
                        )],
                        words: Vec::new(),
                    },
                );
            }
            // As PyYAML and js-yaml resolve it: the plain `<<`, or any key tagged `!!merge`.
            let merge = match tag.as_deref() {
                None => style == ScalarStyle::Plain && text == "<<",
                Some(tag) => tag.is_yaml_core_schema() && tag.suffix == "merge",
            };
            self.set_key(text.to_owned(), span, merge);
            return Ok(());
        }
        let (value, warning) = resolve_scalar(text, style, tag.as_deref(), span);
        if let Some(warning) = warning {
            self.diagnostics.push(warning);
        }
        let pointer = slot_pointer(&slot);
        let is_word = style == ScalarStyle::Plain && tag.is_none() && is_yaml11_bool(text);
        if is_word && !matches!(slot, Slot::Key) {
            self.doc().yaml11_words.push(pointer.clone());
        }
        let key = slot_key(&slot);
        let doc = self.doc();
        let entry = doc.entries.len();
        doc.entries
            .push((pointer.clone(), NodeSpans { key, value: span }));
        self.finish(value, pointer, anchor, entry)
    }

    fn open(&mut self, container: Container, anchor: usize, span: Span) -> Result<()> {
        let slot = self.slot();
        if let Slot::Key = slot {
            return Err(Diagnostic::error(
                Code::ComplexKey,
                "a mapping or sequence used as a mapping key cannot be represented in JSON",
                span,
            )
            .into());
        }
        let max_depth = self.limits.max_depth;
        let doc = self.doc();
        if doc.stack.len() >= max_depth {
            return Err(Diagnostic::error(
                Code::DepthLimit,
                format!("nesting is deeper than {max_depth} levels"),
                span,
            )
            .into());
        }
        let pointer = slot_pointer(&slot);
        let entry = doc.entries.len();
        doc.entries.push((
            pointer.clone(),
            NodeSpans {
                key: slot_key(&slot),
                value: span,
            },
        ));
        doc.stack.push(Frame {
            container,
            pointer,
            anchor,
            entry,
        });
        Ok(())
    }

    fn close(&mut self, end: Position) -> Result<()> {
        let doc = self.doc();
        let frame = doc
            .stack
            .pop()
            .expect("because the parser balances start and end events");
        doc.entries[frame.entry].1.value.end = end;
        let value = match frame.container {
            Container::Seq(items) => Value::Array(items),
            Container::Map {
                map,
                merged,
                merged_words,
                ..
            } => {
                doc.yaml11_words.extend(
                    merged_words
                        .into_iter()
                        .filter(|(key, _)| merged.contains(key))
                        .map(|(_, word)| word),
                );
                Value::Object(map)
            }
        };
        self.finish(value, frame.pointer, frame.anchor, frame.entry)
    }

    fn alias(&mut self, id: usize, span: Span) -> Result<()> {
        let slot = self.slot();
        let doc = self
            .doc
            .as_mut()
            .expect("because the parser emits node events only inside a document");
        let Some(anchored) = doc.anchors.get(&id) else {
            return Err(Diagnostic::error(
                Code::Syntax,
                "alias refers to an anchor that is not complete (a recursive alias)",
                span,
            )
            .into());
        };
        if let Slot::Key = slot {
            let key = match &anchored.value {
                Value::String(s) => s.clone(),
                Value::Array(_) | Value::Object(_) => {
                    return Err(Diagnostic::error(
                        Code::ComplexKey,
                        "an alias to a mapping or sequence used as a mapping key cannot be represented in JSON",
                        span,
                    ).into());
                }
                other => other.to_string(),
            };
            self.set_key(key, span, false);
            return Ok(());
        }
        let cost = anchored.entries.len();
        if cost > self.alias_budget {
            return Err(Diagnostic::error(
                Code::AliasLimit,
                format!(
                    "aliases expand to more than {} nodes (an alias bomb?)",
                    self.limits.max_alias_nodes
                ),
                span,
            )
            .with_suggestion("write the data out instead of nesting aliases")
            .into());
        }
        self.alias_budget -= cost;
        let pointer = slot_pointer(&slot);
        let key = slot_key(&slot);
        let value = anchored.value.clone();
        let entry = doc.entries.len();
        let copied: Vec<(String, NodeSpans)> = anchored
            .entries
            .iter()
            .map(|(relative, spans)| {
                if relative.is_empty() {
                    (pointer.clone(), NodeSpans { key, value: span })
                } else {
                    (format!("{pointer}{relative}"), *spans)
                }
            })
            .collect();
        doc.entries.extend(copied);
        let words: Vec<String> = anchored
            .words
            .iter()
            .map(|relative| format!("{pointer}{relative}"))
            .collect();
        doc.yaml11_words.extend(words);
        // An alias is not itself anchored.
        self.finish(value, pointer, 0, entry)
    }

    /// Attaches a complete node to its parent (or as the document root) and remembers it when
    /// it carries an anchor.
    fn finish(&mut self, value: Value, pointer: String, anchor: usize, entry: usize) -> Result<()> {
        let doc = self
            .doc
            .as_mut()
            .expect("because the parser emits node events only inside a document");
        if anchor != 0 {
            let entries = doc.entries[entry..]
                .iter()
                .map(|(p, s)| (p[pointer.len()..].to_owned(), *s))
                .collect();
            let words = &doc.yaml11_words;
            let words = words[words.len() - words_under(words, &pointer)..]
                .iter()
                .map(|word| word[pointer.len()..].to_owned())
                .collect();
            doc.anchors.insert(
                anchor,
                Anchored {
                    value: value.clone(),
                    entries,
                    words,
                },
            );
        }
        let mut duplicate = None;
        match doc.stack.last_mut() {
            None => doc.root = Some(value),
            Some(frame) => match &mut frame.container {
                Container::Seq(items) => items.push(value),
                Container::Map {
                    map,
                    pending,
                    lines,
                    merged,
                    merged_words,
                    merge_line,
                } => {
                    let key = pending
                        .take()
                        .expect("because a mapping value always follows its key");
                    if key.merge {
                        // A second `<<` is a duplicate key (ruamel.yaml refuses it; js-yaml
                        // merges it after the first, PyYAML before): merged after the first.
                        if let Some(first_line) = *merge_line {
                            duplicate = Some(
                                Diagnostic::error(
                                    Code::DuplicateKey,
                                    "duplicate merge key `<<`",
                                    key.span,
                                )
                                .with_pointer(frame.pointer.clone())
                                .with_suggestion(format!(
                                    "merge them from one key, as in `<<: [*first, *second]` (earlier mappings win): the key is also on line {first_line}"
                                )),
                            );
                        } else {
                            *merge_line = Some(key.span.start.line);
                        }
                        let into = Merge {
                            map,
                            merged,
                            merged_words,
                            pointer: &frame.pointer,
                        };
                        into.merge(
                            value,
                            &pointer,
                            entry,
                            &mut doc.entries,
                            &mut doc.yaml11_words,
                        )?;
                    } else {
                        merged.remove(&key.text);
                        if let Some(first_line) =
                            lines.insert(key.text.clone(), key.span.start.line)
                        {
                            duplicate = Some(
                                Diagnostic::error(
                                    Code::DuplicateKey,
                                    format!("duplicate key {}", quote(&key.text)),
                                    key.span,
                                )
                                .with_pointer(pointer)
                                .with_suggestion(format!(
                                    "remove one of them: the key is also on line {first_line} and the last one wins"
                                )),
                            );
                        }
                        map.insert(key.text, value);
                    }
                }
            },
        }
        if let Some(duplicate) = duplicate {
            self.diagnostics.push(duplicate);
        }
        Ok(())
    }
}

/// The mapping a merge key's value goes into.
struct Merge<'a> {
    map: &'a mut Map<String, Value>,
    merged: &'a mut HashSet<String>,
    merged_words: &'a mut Vec<(String, String)>,
    /// The mapping's pointer.
    pointer: &'a str,
}

impl Merge<'_> {
    /// Merges `value`, the value of the `<<` key at `at` whose positions are `entries[entry..]`
    /// (and whose YAML 1.1 words end `words`): each mapping's keys the mapping does not hold yet
    /// are added, their positions moved from under `<<` to the mapping and their words kept
    /// aside until the mapping ends (a key written later may override them), the rest of `<<`'s
    /// dropped.
    fn merge(
        self,
        value: Value,
        at: &str,
        entry: usize,
        entries: &mut Vec<(String, NodeSpans)>,
        words: &mut Vec<String>,
    ) -> Result<()> {
        let written = entries.split_off(entry);
        let (sources, depth) = match value {
            Value::Object(map) => (vec![(String::new(), map)], 1),
            Value::Array(items) => {
                let mut sources = Vec::with_capacity(items.len());
                for (index, item) in items.into_iter().enumerate() {
                    let item_pointer = push_pointer(at, &index.to_string());
                    match item {
                        Value::Object(map) => {
                            sources.push((item_pointer[at.len()..].to_owned(), map))
                        }
                        other => {
                            let span = written
                                .iter()
                                .find(|(p, _)| *p == item_pointer)
                                .map_or(written[0].1.value, |(_, spans)| spans.value);
                            return Err(not_mergeable(&other, span));
                        }
                    }
                }
                (sources, 2)
            }
            other => return Err(not_mergeable(&other, written[0].1.value)),
        };
        // Relative pointer of each taken entry under `<<` → its key and pointer in the mapping.
        let mut taken: HashMap<String, (String, String)> = HashMap::new();
        for (prefix, source) in sources {
            for (key, value) in source {
                if self.map.contains_key(&key) {
                    continue;
                }
                taken.insert(
                    push_pointer(&prefix, &key),
                    (key.clone(), push_pointer(self.pointer, &key)),
                );
                self.merged.insert(key.clone());
                self.map.insert(key, value);
            }
        }
        let moved = |pointer: &str| -> Option<(&str, String)> {
            let relative = pointer.strip_prefix(at)?;
            // The first `depth` segments name the entry (`/key`, or `/index/key` in a sequence).
            let cut = relative
                .get(1..)?
                .match_indices('/')
                .nth(depth - 1)
                .map_or(relative.len(), |(slash, _)| slash + 1);
            let (key, target) = taken.get(&relative[..cut])?;
            Some((key, format!("{target}{}", &relative[cut..])))
        };
        entries.extend(
            written
                .into_iter()
                .filter_map(|(pointer, spans)| Some((moved(&pointer)?.1, spans))),
        );
        let under = words_under(words, at);
        self.merged_words.extend(
            words
                .drain(words.len() - under..)
                .filter_map(|word| moved(&word).map(|(key, word)| (key.to_owned(), word))),
        );
        Ok(())
    }
}

/// How many of the last `words` are `pointer` or inside it: words are recorded in document order,
/// so those of a node just complete end the list.
fn words_under(words: &[String], pointer: &str) -> usize {
    words
        .iter()
        .rev()
        .take_while(|word| {
            word.strip_prefix(pointer)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
        .count()
}

/// A merge key's value that is not a mapping (or an item of its sequence that is not).
fn not_mergeable(value: &Value, span: Span) -> Box<Diagnostic> {
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a sequence",
        Value::Object(_) => "a mapping",
    };
    Diagnostic::error(
        Code::Syntax,
        format!(
            "a merge key `<<` takes a mapping, an alias of one or a sequence of them, not {kind}"
        ),
        span,
    )
    .with_suggestion("quote the key (`\"<<\"`) to read it as an ordinary key")
    .into()
}

fn slot_pointer(slot: &Slot) -> String {
    match slot {
        Slot::Root | Slot::Key => String::new(),
        Slot::Value { pointer, .. } | Slot::Item { pointer } => pointer.clone(),
    }
}

fn slot_key(slot: &Slot) -> Option<Span> {
    match slot {
        Slot::Value { key, .. } => Some(*key),
        _ => None,
    }
}

fn unknown_tag(tag: &Tag, span: Span) -> Diagnostic {
    Diagnostic::warning(
        Code::UnknownTag,
        format!(
            "unknown tag {}, the value is read as if untagged",
            quote(&tag.to_string())
        ),
        span,
    )
}

/// `yes`/`no`/`on`/`off`/`y`/`n` in any of YAML 1.1's spellings.
pub(crate) fn is_yaml11_bool(text: &str) -> bool {
    matches!(
        text,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// The boolean a YAML 1.1 reader sees in `text`.
pub(crate) fn yaml11_bool_value(text: &str) -> bool {
    matches!(text, "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON")
}

/// Reads a scalar by the YAML 1.2 core schema; a warning comes back for unknown tags and for
/// numbers JSON cannot hold.
fn resolve_scalar(
    text: &str,
    style: ScalarStyle,
    tag: Option<&Tag>,
    span: Span,
) -> (Value, Option<Diagnostic>) {
    let string = || Value::String(text.to_owned());
    match tag {
        Some(tag) if tag.is_yaml_core_schema() => {
            let resolved = match tag.suffix.as_str() {
                "str" | "binary" | "timestamp" => Some(string()),
                "null" => core_null(text).then_some(Value::Null),
                "bool" => core_bool(text).map(Value::Bool),
                "int" => core_int(text),
                "float" => core_int(text).or_else(|| core_float(text, span).ok()),
                _ => None,
            };
            match resolved {
                Some(value) => (value, None),
                None => (
                    string(),
                    Some(Diagnostic::error(
                        Code::Syntax,
                        format!(
                            "{} is not a valid {}",
                            quote(text),
                            quote(&format!("!!{}", tag.suffix))
                        ),
                        span,
                    )),
                ),
            }
        }
        Some(tag) if tag.handle == "!" && tag.suffix.is_empty() => (string(), None),
        Some(tag) => {
            let (value, warning) = resolve_scalar(text, style, None, span);
            (value, warning.or_else(|| Some(unknown_tag(tag, span))))
        }
        None if style != ScalarStyle::Plain => (string(), None),
        None => {
            if core_null(text) {
                (Value::Null, None)
            } else if let Some(b) = core_bool(text) {
                (Value::Bool(b), None)
            } else if let Some(int) = core_int(text) {
                (int, None)
            } else {
                match core_float_syntax(text) {
                    false => (string(), None),
                    true => match core_float(text, span) {
                        Ok(value) => (value, None),
                        Err(warning) => (string(), Some(*warning)),
                    },
                }
            }
        }
    }
}

fn core_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

fn core_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

fn core_int(text: &str) -> Option<Value> {
    let (radix, digits, negative) = if let Some(octal) = text.strip_prefix("0o") {
        (8, octal, false)
    } else if let Some(hex) = text.strip_prefix("0x") {
        (16, hex, false)
    } else {
        let (negative, digits) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        (10, digits, negative)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok();
    let number = match (magnitude, negative) {
        (Some(m), false) => Number::from(m),
        (Some(m), true) if m <= i64::MAX as u64 + 1 => Number::from(0i64.wrapping_sub_unsigned(m)),
        // Beyond 64 bits: as a float, like JavaScript readers.
        _ => {
            let float = digits.parse::<f64>().ok().filter(|_| radix == 10)?;
            Number::from_f64(if negative { -float } else { float })?
        }
    };
    Some(Value::Number(number))
}

/// `[-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?` or the `.inf`/`.nan` forms.
fn core_float_syntax(text: &str) -> bool {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") || matches!(text, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
        None => (unsigned, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (mantissa, None),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match frac {
        None => !int.is_empty() && all_digits(int),
        Some(frac) => all_digits(int) && all_digits(frac) && !(int.is_empty() && frac.is_empty()),
    } && !(int.is_empty() && frac.is_some_and(str::is_empty));
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && all_digits(e)
    });
    mantissa_ok && exponent_ok
}

fn core_float(text: &str, span: Span) -> std::result::Result<Value, Box<Diagnostic>> {
    let parsed = text
        .replace(".inf", "inf")
        .replace(".Inf", "inf")
        .replace(".INF", "inf")
        .parse::<f64>()
        .ok();
    match parsed.and_then(Number::from_f64) {
        Some(number) => Ok(Value::Number(number)),
        None => Err(Box::new(Diagnostic::warning(
            Code::NonFiniteNumber,
            format!(
                "{} is not a finite number, which JSON cannot hold; it is read as a string",
                quote(text)
            ),
            span,
        ))),
    }
}

#[cfg(test)]
mod tests {
    use crate::parse::{Format, Limits, parse, tests::render};

    macro_rules! check {
        ($input:expr, @$expect:literal) => {
            insta::assert_snapshot!(render(&parse($input.as_bytes(), Format::Yaml, &Limits::default())), @$expect)
        };
    }

    #[test]
    fn positions_of_keys_and_values() {
        check!("a: 1\nb:\n  - x\n  - {c: d}\n", @r#"
        doc 0: {"a":1,"b":["x",{"c":"d"}]}
          "" value 1:1-5:1
          "/a" key 1:1-1:2 value 1:4-1:5
          "/b" key 2:1-2:2 value 3:3-5:1
          "/b/0" value 3:5-3:6
          "/b/1" value 4:5-4:11
          "/b/1/c" key 4:6-4:7 value 4:9-4:10
        "#);
    }

    #[test]
    fn yaml_1_2_core_schema() {
        check!("on: push\nyes: no\nq: 'on'\nn: ~\ni: 0x1F\no: 0o17\nf: 1.5e3\nbig: 18446744073709551616\ns: 1.2.3\nt: True\nv: 012\n", @r#"
        doc 0: {"big":1.8446744073709552e+19,"f":1500.0,"i":31,"n":null,"o":15,"on":"push","q":"on","s":"1.2.3","t":true,"v":12,"yes":"no"}
          "" value 1:1-12:1
          "/big" key 8:1-8:4 value 8:6-8:26
          "/f" key 7:1-7:2 value 7:4-7:9
          "/i" key 5:1-5:2 value 5:4-5:8
          "/n" key 4:1-4:2 value 4:4-4:5
          "/o" key 6:1-6:2 value 6:4-6:8
          "/on" key 1:1-1:3 value 1:5-1:9
          "/q" key 3:1-3:2 value 3:4-3:8
          "/s" key 9:1-9:2 value 9:4-9:9
          "/t" key 10:1-10:2 value 10:4-10:8
          "/v" key 11:1-11:2 value 11:4-11:7
          "/yes" key 2:1-2:4 value 2:6-2:8
          yaml11 word at "/yes"
        "#);
    }

    #[test]
    fn duplicate_keys_are_reported_at_the_second_key() {
        check!("a: 1\nb: 2\na: 3\n", @r#"
        doc 0: {"a":3,"b":2}
          "" value 1:1-4:1
          "/a" key 3:1-3:2 value 3:4-3:5
          "/b" key 2:1-2:2 value 2:4-2:5
        error[duplicate-key] 3:1-3:2: duplicate key `a` (at "/a") -- remove one of them: the key is also on line 1 and the last one wins
        "#);
    }

    #[test]
    fn multiple_documents() {
        check!("a: 1\n---\n- b\n...\n--- c\n", @r#"
        doc 0: {"a":1}
          "" value 1:1-2:1
          "/a" key 1:1-1:2 value 1:4-1:5
        doc 1: ["b"]
          "" value 3:1-4:1
          "/0" value 3:3-3:4
        doc 2: "c"
          "" value 5:5-5:6
        "#);
    }

    #[test]
    fn empty_file_is_one_null_document() {
        check!("# only a comment\n", @r#"
        doc 0: null
          "" value 1:1-1:1
        "#);
    }

    #[test]
    fn aliases_expand_with_positions_of_the_anchor() {
        check!("base: &b {x: 1}\nuse: *b\n", @r#"
        doc 0: {"base":{"x":1},"use":{"x":1}}
          "" value 1:1-3:1
          "/base" key 1:1-1:5 value 1:7-1:16
          "/base/x" key 1:11-1:12 value 1:14-1:15
          "/use" key 2:1-2:4 value 2:6-2:8
          "/use/x" key 1:11-1:12 value 1:14-1:15
        "#);
    }

    #[test]
    fn billion_laughs_is_refused() {
        let mut bomb = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        for level in 1..10u8 {
            let prev = char::from(b'a' + level - 1);
            let this = char::from(b'a' + level);
            let items = vec![format!("*{prev}"); 9].join(",");
            bomb.push_str(&format!("{this}: &{this} [{items}]\n"));
        }
        check!(bomb, @"error[alias-limit] 6:8-6:10: aliases expand to more than 100000 nodes (an alias bomb?) -- write the data out instead of nesting aliases");
    }

    #[test]
    fn tabs_and_syntax_errors() {
        check!("a:\n\t- b\n", @"error[tab] 2:2-2:2: tabs disallowed within this context (block indentation) -- indent with spaces: YAML does not allow tabs for indentation");
        check!("a: [1, 2\n", @"error[syntax] 2:1-2:1: while parsing a flow sequence, expected `,` or `]`");
        check!("a: b: c\n", @"error[syntax] 1:5-1:5: mapping values are not allowed in this context");
    }

    #[test]
    fn tags() {
        check!("a: !!str 1\nb: !Ref x\nc: !!int x\nd: .inf\n", @r#"
        doc 0: {"a":"1","b":"x","c":"x","d":".inf"}
          "" value 1:1-5:1
          "/a" key 1:1-1:2 value 1:4-1:11
          "/b" key 2:1-2:2 value 2:4-2:10
          "/c" key 3:1-3:2 value 3:4-3:11
          "/d" key 4:1-4:2 value 4:4-4:8
        warning[unknown-tag] 2:4-2:10: unknown tag `!Ref`, the value is read as if untagged
        error[syntax] 3:4-3:11: `x` is not a valid `!!int`
        warning[non-finite-number] 4:4-4:8: `.inf` is not a finite number, which JSON cannot hold; it is read as a string
        "#);
    }

    #[test]
    fn complex_keys_are_refused() {
        check!("? [a, b]\n: c\n", @"error[complex-key] 1:3-1:4: a mapping or sequence used as a mapping key cannot be represented in JSON");
    }

    #[test]
    fn modeline_names_a_schema() {
        check!("# yaml-language-server: $schema=./schema.json\na: 1\n", @r#"
        doc 0: {"a":1}
          "" value 2:1-3:1
          "/a" key 2:1-2:2 value 2:4-2:5
        schema hint "./schema.json" at 1:33-1:46
        "#);
    }

    #[test]
    fn nesting_is_bounded() {
        check!("[".repeat(10_000), @"error[syntax] 1:256-1:256: recursion limit exceeded");
    }

    #[test]
    fn merge_keys_lose_to_the_mapping_own_keys_before_and_after() {
        check!("base: &base\n  image: web\n  port: 1\n  tag: v1\nsvc:\n  port: 80\n  <<: *base\n  tag: v2\n", @r#"
        doc 0: {"base":{"image":"web","port":1,"tag":"v1"},"svc":{"image":"web","port":80,"tag":"v2"}}
          "" value 1:1-9:1
          "/base" key 1:1-1:5 value 1:7-5:1
          "/base/image" key 2:3-2:8 value 2:10-2:13
          "/base/port" key 3:3-3:7 value 3:9-3:10
          "/base/tag" key 4:3-4:6 value 4:8-4:10
          "/svc" key 5:1-5:4 value 6:3-9:1
          "/svc/image" key 2:3-2:8 value 2:10-2:13
          "/svc/port" key 6:3-6:7 value 6:9-6:11
          "/svc/tag" key 8:3-8:6 value 8:8-8:10
        "#);
    }

    #[test]
    fn a_sequence_of_merges_earlier_mappings_win() {
        check!("a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc:\n  <<: [*a, *b, {w: 0, v: 4}]\n  w: 3\n", @r#"
        doc 0: {"a":{"x":1,"y":1},"b":{"y":2,"z":2},"c":{"v":4,"w":3,"x":1,"y":1,"z":2}}
          "" value 1:1-6:1
          "/a" key 1:1-1:2 value 1:4-1:19
          "/a/x" key 1:8-1:9 value 1:11-1:12
          "/a/y" key 1:14-1:15 value 1:17-1:18
          "/b" key 2:1-2:2 value 2:4-2:19
          "/b/y" key 2:8-2:9 value 2:11-2:12
          "/b/z" key 2:14-2:15 value 2:17-2:18
          "/c" key 3:1-3:2 value 4:3-6:1
          "/c/v" key 4:23-4:24 value 4:26-4:27
          "/c/w" key 5:3-5:4 value 5:6-5:7
          "/c/x" key 1:8-1:9 value 1:11-1:12
          "/c/y" key 1:14-1:15 value 1:17-1:18
          "/c/z" key 2:14-2:15 value 2:17-2:18
        "#);
    }

    #[test]
    fn nested_merges_are_expanded_in_the_anchor() {
        check!("a: &a {x: 1}\nb: &b {<<: *a, y: 2}\nc: {<<: *b, z: 3}\n", @r#"
        doc 0: {"a":{"x":1},"b":{"x":1,"y":2},"c":{"x":1,"y":2,"z":3}}
          "" value 1:1-4:1
          "/a" key 1:1-1:2 value 1:4-1:13
          "/a/x" key 1:8-1:9 value 1:11-1:12
          "/b" key 2:1-2:2 value 2:4-2:21
          "/b/x" key 1:8-1:9 value 1:11-1:12
          "/b/y" key 2:16-2:17 value 2:19-2:20
          "/c" key 3:1-3:2 value 3:4-3:18
          "/c/x" key 1:8-1:9 value 1:11-1:12
          "/c/y" key 2:16-2:17 value 2:19-2:20
          "/c/z" key 3:13-3:14 value 3:16-3:17
        "#);
    }

    #[test]
    fn an_overridden_merged_key_is_no_duplicate_but_two_written_ones_are() {
        check!("a: &a {x: 1}\nb:\n  <<: *a\n  x: 2\n  x: 3\n", @r#"
        doc 0: {"a":{"x":1},"b":{"x":3}}
          "" value 1:1-6:1
          "/a" key 1:1-1:2 value 1:4-1:13
          "/a/x" key 1:8-1:9 value 1:11-1:12
          "/b" key 2:1-2:2 value 3:3-6:1
          "/b/x" key 5:3-5:4 value 5:6-5:7
        error[duplicate-key] 5:3-5:4: duplicate key `x` (at "/b/x") -- remove one of them: the key is also on line 4 and the last one wins
        "#);
    }

    #[test]
    fn a_second_merge_key_is_a_duplicate_merged_after_the_first() {
        check!("b:\n  <<: {x: 1}\n  <<: {x: 2, y: 2}\n", @r#"
        doc 0: {"b":{"x":1,"y":2}}
          "" value 1:1-4:1
          "/b" key 1:1-1:2 value 2:3-4:1
          "/b/x" key 2:8-2:9 value 2:11-2:12
          "/b/y" key 3:14-3:15 value 3:17-3:18
        error[duplicate-key] 3:3-3:5: duplicate merge key `<<` (at "/b") -- merge them from one key, as in `<<: [*first, *second]` (earlier mappings win): the key is also on line 2
        "#);
    }

    #[test]
    fn quoted_or_tagged_merge_keys() {
        // Quoted, `<<` is an ordinary key (PyYAML and js-yaml resolve only the plain one).
        check!("a: &a {x: 1}\nb: {\"<<\": *a}\nc: {'<<': *a}\n", @r#"
        doc 0: {"a":{"x":1},"b":{"<<":{"x":1}},"c":{"<<":{"x":1}}}
          "" value 1:1-4:1
          "/a" key 1:1-1:2 value 1:4-1:13
          "/a/x" key 1:8-1:9 value 1:11-1:12
          "/b" key 2:1-2:2 value 2:4-2:14
          "/b/<<" key 2:5-2:9 value 2:11-2:13
          "/b/<</x" key 1:8-1:9 value 1:11-1:12
          "/c" key 3:1-3:2 value 3:4-3:14
          "/c/<<" key 3:5-3:9 value 3:11-3:13
          "/c/<</x" key 1:8-1:9 value 1:11-1:12
        "#);
        // An explicit `!!merge` tag merges, as in PyYAML and js-yaml.
        check!("a: &a {x: 1}\nb: {!!merge <<: *a}\n", @r#"
        doc 0: {"a":{"x":1},"b":{"x":1}}
          "" value 1:1-3:1
          "/a" key 1:1-1:2 value 1:4-1:13
          "/a/x" key 1:8-1:9 value 1:11-1:12
          "/b" key 2:1-2:2 value 2:4-2:20
          "/b/x" key 1:8-1:9 value 1:11-1:12
        "#);
    }

    #[test]
    fn a_merge_of_anything_but_mappings_is_an_error_at_the_value() {
        check!("a: &a 1\nb:\n  <<: *a\n", @"error[syntax] 3:7-3:9: a merge key `<<` takes a mapping, an alias of one or a sequence of them, not a number -- quote the key (`\"<<\"`) to read it as an ordinary key");
        check!("m: &m {x: 1}\nb:\n  <<: [*m, [1]]\n", @"error[syntax] 3:12-3:15: a merge key `<<` takes a mapping, an alias of one or a sequence of them, not a sequence -- quote the key (`\"<<\"`) to read it as an ordinary key");
        check!("b:\n  <<:\n  c: 1\n", @"error[syntax] 2:5-2:5: a merge key `<<` takes a mapping, an alias of one or a sequence of them, not null -- quote the key (`\"<<\"`) to read it as an ordinary key");
    }

    #[test]
    fn merged_yaml_1_1_words_are_reported_where_they_land() {
        check!("b: {<<: {x: yes, y: no}, y: 1}\n", @r#"
        doc 0: {"b":{"x":"yes","y":1}}
          "" value 1:1-2:1
          "/b" key 1:1-1:2 value 1:4-1:31
          "/b/x" key 1:10-1:11 value 1:13-1:16
          "/b/y" key 1:26-1:27 value 1:29-1:30
          yaml11 word at "/b/x"
        "#);
    }

    #[test]
    fn aliased_and_merged_yaml_1_1_words_are_reported_where_they_land() {
        check!("a: &a {x: yes, <<x: on}\nb: *a\nc: {<<x: 1, <<: *a}\nd: &d no\ne: [*d]\n", @r#"
        doc 0: {"a":{"<<x":"on","x":"yes"},"b":{"<<x":"on","x":"yes"},"c":{"<<x":1,"x":"yes"},"d":"no","e":["no"]}
          "" value 1:1-6:1
          "/a" key 1:1-1:2 value 1:4-1:24
          "/a/<<x" key 1:16-1:19 value 1:21-1:23
          "/a/x" key 1:8-1:9 value 1:11-1:14
          "/b" key 2:1-2:2 value 2:4-2:6
          "/b/<<x" key 1:16-1:19 value 1:21-1:23
          "/b/x" key 1:8-1:9 value 1:11-1:14
          "/c" key 3:1-3:2 value 3:4-3:20
          "/c/<<x" key 3:5-3:8 value 3:10-3:11
          "/c/x" key 1:8-1:9 value 1:11-1:14
          "/d" key 4:1-4:2 value 4:4-4:9
          "/e" key 5:1-5:2 value 5:4-5:8
          "/e/0" value 5:5-5:7
          yaml11 word at "/a/x"
          yaml11 word at "/a/<<x"
          yaml11 word at "/b/x"
          yaml11 word at "/b/<<x"
          yaml11 word at "/c/x"
          yaml11 word at "/d"
          yaml11 word at "/e/0"
        "#);
    }

    #[test]
    fn billion_laughs_through_merges_is_refused() {
        let mut bomb = String::from(
            "a: &a {k0: lol, k1: lol, k2: lol, k3: lol, k4: lol, k5: lol, k6: lol, k7: lol, k8: lol}\n",
        );
        for level in 1..10u8 {
            let prev = char::from(b'a' + level - 1);
            let this = char::from(b'a' + level);
            let items: Vec<String> = (0..9).map(|i| format!("m{i}: {{<<: *{prev}}}")).collect();
            bomb.push_str(&format!("{this}: &{this} {{{}}}\n", items.join(", ")));
        }
        let started = std::time::Instant::now();
        check!(bomb, @"error[alias-limit] 6:17-6:19: aliases expand to more than 100000 nodes (an alias bomb?) -- write the data out instead of nesting aliases");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
}
