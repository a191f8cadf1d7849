//! Replacing values at their byte ranges, so everything around them stays as written.

use std::ops::Range;

use crate::{Change, Updated};

/// The replacements planned for one text, applied at the end.
#[derive(Default)]
pub(crate) struct Edits {
    edits: Vec<(Range<usize>, String)>,
    changes: Vec<(usize, Change)>,
    notes: Vec<String>,
}

impl Edits {
    /// Replaces the bytes at `range` (holding `old`) with `new`, recording the change under
    /// `key`; nothing when they are equal.
    pub(crate) fn replace(
        &mut self,
        key: impl Into<String>,
        range: Range<usize>,
        old: &str,
        new: &str,
    ) {
        if old == new {
            return;
        }
        self.changes.push((
            range.start,
            Change {
                key: key.into(),
                old: old.to_string(),
                new: new.to_string(),
            },
        ));
        self.edits.push((range, new.to_string()));
    }

    /// Replaces the contents of the quoted string literal at `literal` (quotes included,
    /// any of `"`, `'`, `"""`, `'''`) with `new`, keeping the quotes.
    pub(crate) fn replace_quoted(
        &mut self,
        text: &str,
        key: impl Into<String>,
        literal: Range<usize>,
        new: &str,
    ) {
        let inner = quoted_inner(text, literal);
        let old = &text[inner.clone()];
        self.replace(key, inner, old, new);
    }

    /// Notes a value left as written because it follows another.
    pub(crate) fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// Whether nothing changes.
    pub(crate) fn is_empty(&self) -> bool {
        self.edits.is_empty()
    }

    /// The new text and the changes in file order.
    pub(crate) fn apply(mut self, text: &str) -> Updated {
        self.edits.sort_by_key(|(range, _)| range.start);
        self.edits.dedup_by(|a, b| a.0 == b.0);
        let mut out = String::with_capacity(text.len() + 16);
        let mut at = 0;
        for (range, new) in &self.edits {
            if range.start < at {
                continue;
            }
            out.push_str(&text[at..range.start]);
            out.push_str(new);
            at = range.end;
        }
        out.push_str(&text[at..]);
        self.changes.sort_by_key(|(start, _)| *start);
        self.changes.dedup_by(|a, b| a.0 == b.0);
        Updated {
            text: out,
            changes: self.changes.into_iter().map(|(_, c)| c).collect(),
            notes: self.notes,
        }
    }
}

/// The range inside a quoted literal's quotes; the range itself when it is not quoted.
pub(crate) fn quoted_inner(text: &str, literal: Range<usize>) -> Range<usize> {
    let raw = &text[literal.clone()];
    for quote in ["\"\"\"", "'''", "\"", "'"] {
        if raw.len() >= 2 * quote.len() && raw.starts_with(quote) && raw.ends_with(quote) {
            return literal.start + quote.len()..literal.end - quote.len();
        }
    }
    literal
}

/// A JSON string literal for `value` (quotes included).
pub(crate) fn json_string(value: &str) -> String {
    serde_json::to_string(value).expect("because a string always serialises")
}
