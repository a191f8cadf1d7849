//! Version markers in any file: on a line holding a marker, or on the lines between a block's
//! start and end markers, the first version (`1.2.3`, `1.2.3-rc.1+build.5`) is replaced.
//! release-please's markers work unchanged, so a repository can switch without edits.

use crate::edit::Edits;
use crate::{Error, Request, Updated};

/// hub-actions' marker for one line: `version = "1.2.3" # hub-actions-version`.
pub const MARKER: &str = "hub-actions-version";
/// Opens a block whose lines' versions are replaced.
pub const MARKER_BLOCK_START: &str = "hub-actions-start-version";
/// Closes a block.
pub const MARKER_BLOCK_END: &str = "hub-actions-end";

const LINE_MARKERS: [&str; 2] = [MARKER, "x-release-please-version"];
const BLOCK_STARTS: [&str; 2] = [MARKER_BLOCK_START, "x-release-please-start-version"];
const BLOCK_ENDS: [&str; 2] = [MARKER_BLOCK_END, "x-release-please-end"];

/// Replaces the version on every marked line.
pub(crate) fn update(text: &str, request: &Request<'_>) -> Result<Updated, Error> {
    let new = request.version.to_string();
    let mut edits = Edits::default();
    let mut marked = false;
    // The open block: its first line, and whether a version was found in it.
    let mut block: Option<(usize, &'static str, bool)> = None;
    let mut at = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let number = index + 1;
        let start = at;
        at += line.len();
        if let Some((opened, start_marker, found)) = block {
            if BLOCK_ENDS.iter().any(|m| line.contains(m)) {
                if !found {
                    return Err(Error::MarkerWithoutVersion { line: opened });
                }
                let _ = start_marker;
                block = None;
            } else if let Some(range) = first_version(line) {
                let range = start + range.start..start + range.end;
                edits.replace(format!("line {number}"), range.clone(), &text[range], &new);
                block = Some((opened, start_marker, true));
            }
            continue;
        }
        if let Some(m) = BLOCK_STARTS.iter().find(|m| line.contains(*m)) {
            block = Some((number, m, false));
            marked = true;
            continue;
        }
        if LINE_MARKERS.iter().any(|m| line.contains(m)) {
            marked = true;
            let Some(range) = first_version(line) else {
                return Err(Error::MarkerWithoutVersion { line: number });
            };
            let range = start + range.start..start + range.end;
            edits.replace(format!("line {number}"), range.clone(), &text[range], &new);
        }
    }
    if let Some((line, start, _)) = block {
        let end = if start == MARKER_BLOCK_START {
            MARKER_BLOCK_END
        } else {
            "x-release-please-end"
        };
        return Err(Error::OpenBlock { line, start, end });
    }
    if !marked {
        return Err(Error::NoMarker);
    }
    Ok(edits.apply(text))
}

/// The byte range of the first `MAJOR.MINOR.PATCH[-PRE][+BUILD]` on `line` (release-please's
/// pattern: pre-release `[A-Za-z0-9_.]+`, build `[-A-Za-z0-9_.]+`).
fn first_version(line: &str) -> Option<std::ops::Range<usize>> {
    let bytes = line.as_bytes();
    let digits = |mut i: usize| {
        let from = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        (i > from).then_some(i)
    };
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'.';
    for start in 0..bytes.len() {
        let Some(mut i) = digits(start) else {
            continue;
        };
        let mut ok = true;
        for _ in 0..2 {
            match (bytes.get(i), digits(i + 1)) {
                (Some(b'.'), Some(next)) => i = next,
                _ => {
                    ok = false;
                    break;
                }
            }
        }
        if !ok {
            continue;
        }
        if bytes.get(i) == Some(&b'-') && bytes.get(i + 1).is_some_and(|c| word(*c)) {
            i += 1;
            while bytes.get(i).is_some_and(|c| word(*c)) {
                i += 1;
            }
        }
        if bytes.get(i) == Some(&b'+') && bytes.get(i + 1).is_some_and(|c| word(*c) || *c == b'-') {
            i += 1;
            while bytes.get(i).is_some_and(|c| word(*c) || *c == b'-') {
                i += 1;
            }
        }
        return Some(start..i);
    }
    None
}
