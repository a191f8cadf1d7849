//! Version markers in any file, release-please's generic updater's rules: on a line holding
//! a marker, or on the lines of a block (after its start line, up to and including its end
//! line), the first version (`1.2.3`, `1.2.3-rc.1+build.5`) is replaced — or, for a `major`,
//! `minor` or `patch` marker, the first whole number by that part of the new version.
//! release-please's markers (`x-release-please-…`) work unchanged, so a repository can switch
//! without edits; hub-actions' own are the same with `hub-actions-` in front. Unlike
//! release-please, a marker with nothing to replace is an error, not a silent skip, and CRLF
//! line ends stay.

use std::ops::Range;

use crate::edit::Edits;
use crate::{Error, Request, Updated};

/// hub-actions' marker for one line: `version = "1.2.3" # hub-actions-version`.
pub const MARKER: &str = "hub-actions-version";
/// Opens a block whose lines' versions are replaced.
pub const MARKER_BLOCK_START: &str = "hub-actions-start-version";
/// Closes a block.
pub const MARKER_BLOCK_END: &str = "hub-actions-end";

/// The two flavours of markers: hub-actions' and release-please's.
const FLAVOURS: [&str; 2] = ["hub-actions-", "x-release-please-"];

/// What a marker replaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    Version,
    Major,
    Minor,
    Patch,
}

const SCOPES: [(&str, Scope); 4] = [
    ("version", Scope::Version),
    ("major", Scope::Major),
    ("minor", Scope::Minor),
    ("patch", Scope::Patch),
];

/// The scope of a marker `<flavour><infix><scope>` on `line` (the leftmost), with its flavour.
fn marker(line: &str, infix: &str) -> Option<(Scope, &'static str)> {
    let mut found: Option<(usize, Scope, &'static str)> = None;
    for flavour in FLAVOURS {
        for (at, _) in line.match_indices(flavour) {
            let rest = &line[at + flavour.len()..];
            let Some(rest) = rest.strip_prefix(infix) else {
                continue;
            };
            if let Some((_, scope)) = SCOPES.iter().find(|(name, _)| rest.starts_with(name))
                && found.is_none_or(|(best, _, _)| at < best)
            {
                found = Some((at, *scope, flavour));
            }
        }
    }
    found.map(|(_, scope, flavour)| (scope, flavour))
}

fn is_block_end(line: &str) -> bool {
    FLAVOURS.iter().any(|f| line.contains(&format!("{f}end")))
}

/// Replaces the versions on every marked line.
pub(crate) fn update(text: &str, request: &Request<'_>) -> Result<Updated, Error> {
    let version = request.version;
    let mut edits = Edits::default();
    let mut marked = false;
    // The open block: its first line, scope, flavour, and whether it replaced anything.
    let mut block: Option<(usize, Scope, &'static str, bool)> = None;
    let mut at = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let number = index + 1;
        let start = at;
        at += line.len();
        let mut replace = |scope: Scope| -> bool {
            let found = match scope {
                Scope::Version => first_version(line).map(|r| (r, version.to_string())),
                Scope::Major => first_number(line).map(|r| (r, version.major.to_string())),
                Scope::Minor => first_number(line).map(|r| (r, version.minor.to_string())),
                Scope::Patch => first_number(line).map(|r| (r, version.patch.to_string())),
            };
            let Some((range, new)) = found else {
                return false;
            };
            let range = start + range.start..start + range.end;
            edits.replace(format!("line {number}"), range.clone(), &text[range], &new);
            true
        };
        if let Some((scope, _)) = marker(line, "") {
            marked = true;
            if !replace(scope) {
                return Err(Error::MarkerWithoutVersion { line: number });
            }
        } else if let Some((opened, scope, flavour, found)) = block {
            let found = replace(scope) || found;
            if is_block_end(line) {
                if !found {
                    return Err(Error::MarkerWithoutVersion { line: opened });
                }
                block = None;
            } else {
                block = Some((opened, scope, flavour, found));
            }
        } else if let Some((scope, flavour)) = marker(line, "start-") {
            marked = true;
            block = Some((number, scope, flavour, false));
        }
    }
    if let Some((line, scope, flavour, _)) = block {
        let name = SCOPES
            .iter()
            .find(|(_, s)| *s == scope)
            .map_or("version", |(name, _)| name);
        return Err(Error::OpenBlock {
            line,
            start: format!("{flavour}start-{name}"),
            end: format!("{flavour}end"),
        });
    }
    if !marked {
        return Err(Error::NoMarker);
    }
    Ok(edits.apply(text))
}

/// The byte range of the first whole number on `line` (release-please's `\b\d+\b`).
fn first_number(line: &str) -> Option<Range<usize>> {
    let bytes = line.as_bytes();
    let word = |i: usize| {
        bytes
            .get(i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
    };
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() && (i == 0 || !word(i - 1)) {
            let mut end = i;
            while end < bytes.len() && bytes[end].is_ascii_digit() {
                end += 1;
            }
            if !word(end) {
                return Some(i..end);
            }
            i = end;
        } else {
            i += 1;
        }
    }
    None
}

/// The byte range of the first `MAJOR.MINOR.PATCH[-PRE][+BUILD]` on `line` (release-please's
/// pattern: pre-release `[A-Za-z0-9_.]+`, build `[-A-Za-z0-9_.]+`).
fn first_version(line: &str) -> Option<Range<usize>> {
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
