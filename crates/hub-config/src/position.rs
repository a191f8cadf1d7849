//! Source positions and the JSON-pointer → position map built while parsing.

use std::collections::HashMap;

use serde::Serialize;

/// A place in the source text: 1-based line, 1-based column counted in characters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Position {
    /// Line, starting at 1.
    pub line: usize,
    /// Column in characters (not bytes), starting at 1.
    pub column: usize,
}

impl Position {
    /// The first character of a file.
    pub const START: Position = Position { line: 1, column: 1 };

    /// A position from a 1-based line and column.
    #[must_use]
    pub fn new(line: usize, column: usize) -> Self {
        Self { line, column }
    }
}

/// A range of source text, `start` inclusive, `end` exclusive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Span {
    /// First character.
    pub start: Position,
    /// One past the last character.
    pub end: Position,
}

impl Span {
    /// A span from two positions.
    #[must_use]
    pub fn new(start: Position, end: Position) -> Self {
        Self { start, end }
    }

    /// An empty span at one position.
    #[must_use]
    pub fn at(position: Position) -> Self {
        Self {
            start: position,
            end: position,
        }
    }
}

/// Where one node of a document is written: its value and, for a mapping member, its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeSpans {
    /// The key that introduces the node, when the node is the value of a mapping member.
    pub key: Option<Span>,
    /// The node itself.
    pub value: Span,
}

/// Maps every JSON pointer of a document (`""` is the root) to where it is written.
///
/// Key positions are kept too, because `required` and `additionalProperties` errors are about
/// keys: an unknown key is reported at the key, a missing one at the key of the parent object.
#[derive(Clone, Debug, Default)]
pub struct PositionMap {
    nodes: HashMap<String, NodeSpans>,
}

impl PositionMap {
    /// Records where the node at `pointer` is written; a later record for the same pointer wins
    /// (as the later of two duplicate keys wins in the value).
    pub fn insert(&mut self, pointer: String, spans: NodeSpans) {
        self.nodes.insert(pointer, spans);
    }

    /// Where the node at `pointer` is written, if it exists.
    #[must_use]
    pub fn get(&self, pointer: &str) -> Option<&NodeSpans> {
        self.nodes.get(pointer)
    }

    /// Number of nodes recorded.
    #[must_use]
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether no node is recorded.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The span to report for `pointer`: its key when `prefer_key` and it has one, else its value.
    /// A pointer that is not in the map (it names something absent) falls back to its nearest
    /// recorded ancestor, and finally to the start of the file.
    #[must_use]
    pub fn locate(&self, pointer: &str, prefer_key: bool) -> Span {
        let mut current = pointer;
        loop {
            if let Some(spans) = self.nodes.get(current) {
                return match (prefer_key, spans.key) {
                    (true, Some(key)) => key,
                    _ => spans.value,
                };
            }
            match current.rfind('/') {
                Some(slash) => current = &current[..slash],
                None => return Span::at(Position::START),
            }
        }
    }
}

/// Appends one reference token to a JSON pointer, escaping `~` and `/` as RFC 6901 says.
#[must_use]
pub fn push_pointer(parent: &str, token: &str) -> String {
    let mut pointer = String::with_capacity(parent.len() + token.len() + 1);
    pointer.push_str(parent);
    pointer.push('/');
    for c in token.chars() {
        match c {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
    pointer
}

/// Decodes `%XX` escapes, as in a `$ref` URI fragment (`#/definitions/a%25b`); invalid
/// escapes stay as they are.
#[must_use]
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| text.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        if let Some(byte) = escaped {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

/// Splits a JSON pointer into its unescaped reference tokens (`""` has none).
#[must_use]
pub fn pointer_tokens(pointer: &str) -> Vec<String> {
    if pointer.is_empty() {
        return Vec::new();
    }
    pointer
        .split('/')
        .skip(1)
        .map(|token| token.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// Turns byte offsets into [`Position`]s for one text.
#[derive(Debug)]
pub struct LineIndex<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Indexes the line starts of `text`.
    #[must_use]
    pub fn new(text: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Self { text, line_starts }
    }

    /// The position of the character at byte `offset` (clamped to the text).
    #[must_use]
    pub fn position(&self, offset: usize) -> Position {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset) - 1;
        let start = self.line_starts[line];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        Position::new(line + 1, column + 1)
    }

    /// The span of the byte range `range`.
    #[must_use]
    pub fn span(&self, range: std::ops::Range<usize>) -> Span {
        Span::new(self.position(range.start), self.position(range.end))
    }
}

/// Position of byte `offset` in bytes that may not be valid UTF-8 (used for encoding errors):
/// the line counts `\n` bytes, the column counts characters of the valid prefix of the line.
#[must_use]
pub fn byte_position(bytes: &[u8], offset: usize) -> Position {
    let offset = offset.min(bytes.len());
    let before = &bytes[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = before[line_start..]
        .iter()
        .filter(|&&b| (b & 0xC0) != 0x80)
        .count()
        + 1;
    Position::new(line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, offsets: &[usize], expect: &[(usize, usize)]) {
        let index = LineIndex::new(text);
        let got: Vec<_> = offsets
            .iter()
            .map(|&o| {
                let p = index.position(o);
                (p.line, p.column)
            })
            .collect();
        assert_eq!(got, expect);
    }

    #[test]
    fn line_index_counts_characters_not_bytes() {
        check(
            "ab\nçd\n",
            &[0, 2, 3, 5, 6, 8, 99],
            &[(1, 1), (1, 3), (2, 1), (2, 2), (2, 3), (3, 1), (3, 1)],
        );
    }

    #[test]
    fn pointers_escape_and_unescape() {
        let p = push_pointer(&push_pointer("", "a/b"), "~c");
        assert_eq!(p, "/a~1b/~0c");
        assert_eq!(pointer_tokens(&p), vec!["a/b".to_owned(), "~c".to_owned()]);
        assert!(pointer_tokens("").is_empty());
    }

    #[test]
    fn locate_falls_back_to_ancestor_and_prefers_key() {
        let mut map = PositionMap::default();
        let key = Span::at(Position::new(2, 1));
        let value = Span::at(Position::new(2, 5));
        map.insert(
            String::new(),
            NodeSpans {
                key: None,
                value: Span::at(Position::START),
            },
        );
        map.insert(
            "/a".into(),
            NodeSpans {
                key: Some(key),
                value,
            },
        );
        assert_eq!(map.locate("/a", true), key);
        assert_eq!(map.locate("/a", false), value);
        assert_eq!(map.locate("/a/missing/deeper", false), value);
        assert_eq!(map.locate("/b", true), Span::at(Position::START));
    }

    #[test]
    fn byte_position_of_invalid_utf8() {
        assert_eq!(byte_position(b"a: 1\nb: \xff", 8), Position::new(2, 4));
    }
}
