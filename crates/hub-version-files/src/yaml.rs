//! YAML: Helm's `Chart.yaml`, and a scalar found by key path, replaced at its range.

use std::ops::Range;

use saphyr_parser::{Event, Parser, ScalarStyle};

use crate::edit::Edits;
use crate::{Error, Request, Updated};

/// A scalar value found in a YAML document.
pub(crate) struct Scalar {
    /// Byte range of the value without its quotes.
    pub range: Range<usize>,
    /// The value.
    pub value: String,
}

/// One open collection while walking the events.
enum Frame {
    /// A mapping: the key whose value comes next, or `None` when a key comes next.
    Map(Option<String>),
    /// A sequence: the index of the next item.
    Seq(usize),
}

/// The scalar at `path` (mapping keys and sequence indexes) in the first document;
/// `Ok(None)` when there is none; an error for a value that is no scalar or a block scalar.
pub(crate) fn find(text: &str, path: &[String]) -> Result<Option<Scalar>, Error> {
    let key = path.join(".");
    let byte_at = |chars: usize| {
        text.char_indices()
            .nth(chars)
            .map_or(text.len(), |(byte, _)| byte)
    };
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let current = |stack: &[Frame]| -> Vec<String> {
        stack
            .iter()
            .filter_map(|f| match f {
                Frame::Map(k) => k.clone(),
                Frame::Seq(i) => Some(i.to_string()),
            })
            .collect()
    };
    // After a value: the parent expects the next key, or the next item.
    let advance = |stack: &mut Vec<Frame>| match stack.last_mut() {
        Some(Frame::Map(k)) => *k = None,
        Some(Frame::Seq(i)) => *i += 1,
        None => {}
    };
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| Error::Syntax {
            format: "YAML",
            message: format!("{} at line {}", e.info(), e.marker().line()),
        })?;
        let in_key_position = matches!(stack.last(), Some(Frame::Map(None)));
        match event {
            Event::Scalar(value, _, _, _) if in_key_position => {
                if let Some(Frame::Map(k)) = stack.last_mut() {
                    *k = Some(value.to_string());
                }
            }
            Event::Scalar(value, style, _, _) => {
                if current(&stack) == path {
                    if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
                        return Err(Error::NotAVersion {
                            key,
                            found: "a block scalar".into(),
                        });
                    }
                    let (mut start, mut end) =
                        (byte_at(span.start.index()), byte_at(span.end.index()));
                    if matches!(style, ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted) {
                        // The value runs from after the opening quote to the closing one.
                        if text[start..].starts_with(['\'', '"']) {
                            start += 1;
                        }
                        end = start
                            + closing_quote(&text[start..], style == ScalarStyle::SingleQuoted);
                    } else {
                        end = start + text[start..end].trim_end().len();
                    }
                    return Ok(Some(Scalar {
                        range: start..end,
                        value: value.to_string(),
                    }));
                }
                advance(&mut stack);
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                if current(&stack) == path && !in_key_position {
                    return Err(Error::NotAVersion {
                        key,
                        found: "a collection".into(),
                    });
                }
                stack.push(if matches!(event, Event::MappingStart(..)) {
                    Frame::Map(None)
                } else {
                    Frame::Seq(0)
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
                advance(&mut stack);
            }
            Event::Alias(_) => {
                if current(&stack) == path {
                    return Err(Error::NotAVersion {
                        key,
                        found: "an alias".into(),
                    });
                }
                advance(&mut stack);
            }
            Event::DocumentEnd => break,
            Event::StreamStart | Event::StreamEnd | Event::DocumentStart(_) | Event::Nothing => {}
        }
    }
    Ok(None)
}

/// Writes `new` at the scalar at `path`; `Error::Missing` when there is none.
pub(crate) fn set(edits: &mut Edits, text: &str, path: &[String], new: &str) -> Result<(), Error> {
    let Some(scalar) = find(text, path)? else {
        return Err(Error::Missing {
            key: path.join("."),
        });
    };
    // The bytes as written (a quoted value without its quotes, which stay).
    let old = text[scalar.range.clone()].to_string();
    edits.replace(path.join("."), scalar.range, &old, new);
    Ok(())
}

/// Helm's `Chart.yaml`: `version`, and `appVersion` when asked.
pub(crate) fn chart(text: &str, request: &Request<'_>) -> Result<Updated, Error> {
    let new = request.version.to_string();
    let mut edits = Edits::default();
    if let Some(package) = request.package {
        let name = find(text, &["name".to_string()])?.map(|s| s.value);
        if name.as_deref().is_none_or(|n| n != package) {
            return Err(Error::NoSuchPackage {
                package: package.to_string(),
            });
        }
    }
    set(&mut edits, text, &["version".to_string()], &new)?;
    if request.app_version {
        set(&mut edits, text, &["appVersion".to_string()], &new)?;
    }
    Ok(edits.apply(text))
}

/// The length of a quoted scalar's body (up to its closing quote): `''` is an escaped quote
/// in single quotes, a backslash escapes the next character in double quotes.
fn closing_quote(body: &str, single: bool) -> usize {
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match (single, bytes[i]) {
            (true, b'\'') if bytes.get(i + 1) == Some(&b'\'') => i += 2,
            (true, b'\'') | (false, b'"') => return i,
            (false, b'\\') => i += 2,
            _ => i += 1,
        }
    }
    bytes.len()
}
