//! Reading just enough of git's object database to peel a ref to its commit without
//! starting git: the object's type, and for an annotated tag the object it points at.
//!
//! An object is looked for loose (`objects/ab/cdef…`, zlib) and then in each pack through
//! its version-2 index (`objects/pack/*.idx`: fan-out table, binary search on the sorted
//! names, 32- or 64-bit offsets). Only the first bytes of an object are inflated: a tag's
//! header (`object <id>\ntype <type>\n`) is all we read, however long its message. Anything
//! else — a deltified entry, an alternate object store, an index of another version, a
//! damaged file — answers `None`, and callers ask git instead, so a wrong answer is never
//! the price of speed.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::Path;

use miniz_oxide::inflate::TINFLStatus;
use miniz_oxide::inflate::core::{DecompressorOxide, decompress, inflate_flags};

/// The kinds of object a ref can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Commit,
    Tree,
    Blob,
    Tag,
}

/// How many annotated tags in a row we follow (`git tag -a` of a tag of a tag …).
const MAX_TAG_CHAIN: usize = 8;

/// Enough of a tag object to read its header, whatever the length of its message.
const HEAD_BYTES: usize = 512;

/// The commit `oid` is or points at through annotated tags, found in the object database
/// under `objects_dir`; `None` when it is something else or cannot be read here.
pub(crate) fn peel_to_commit(objects_dir: &Path, oid: &str) -> Option<String> {
    let mut oid = oid.to_string();
    for _ in 0..MAX_TAG_CHAIN {
        let (kind, head) = read_head(objects_dir, &oid)?;
        match kind {
            Kind::Commit => return Some(oid),
            Kind::Tag => oid = tag_target(&head, oid.len())?,
            Kind::Tree | Kind::Blob => return None,
        }
    }
    None
}

/// The id after `object ` on a tag's first line, when it is an id of the repository's
/// length.
fn tag_target(head: &[u8], oid_len: usize) -> Option<String> {
    let rest = head.strip_prefix(b"object ")?;
    let id = rest.get(..oid_len)?;
    (rest.get(oid_len) == Some(&b'\n') && id.iter().all(u8::is_ascii_hexdigit))
        .then(|| String::from_utf8_lossy(id).to_ascii_lowercase())
}

/// The kind of object `oid` and the first bytes of its content.
fn read_head(objects_dir: &Path, oid: &str) -> Option<(Kind, Vec<u8>)> {
    let raw = decode_hex(oid)?;
    if let Some(found) = read_loose(objects_dir, oid) {
        return found;
    }
    let packs = std::fs::read_dir(objects_dir.join("pack")).ok()?;
    for entry in packs {
        let path = entry.ok()?.path();
        if path.extension().is_some_and(|e| e == "idx") {
            let Some(offset) = find_in_index(&path, &raw)? else {
                continue;
            };
            return read_packed(&path, offset, raw.len());
        }
    }
    None
}

/// A loose object: `Some(answer)` when the file exists (an unreadable one answers
/// `Some(None)`), `None` when there is no such file.
fn read_loose(objects_dir: &Path, oid: &str) -> Option<Option<(Kind, Vec<u8>)>> {
    let path = objects_dir.join(&oid[..2]).join(&oid[2..]);
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(_) => return Some(None),
    };
    let mut compressed = vec![0u8; HEAD_BYTES * 2];
    let n = read_up_to(&mut file, &mut compressed);
    compressed.truncate(n);
    Some((|| {
        let data = inflate_head(&compressed, HEAD_BYTES + 32)?;
        let nul = data.iter().position(|&b| b == 0)?;
        let kind = match data[..nul].split(|&b| b == b' ').next()? {
            b"commit" => Kind::Commit,
            b"tree" => Kind::Tree,
            b"blob" => Kind::Blob,
            b"tag" => Kind::Tag,
            _ => return None,
        };
        Some((kind, data[nul + 1..].to_vec()))
    })())
}

/// Reads until `buf` is full or the file ends; the number of bytes read.
fn read_up_to(file: &mut File, buf: &mut [u8]) -> usize {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    n
}

/// The first (up to) `want` bytes of the zlib stream at the start of `input`, which may be
/// cut short anywhere after them.
fn inflate_head(input: &[u8], want: usize) -> Option<Vec<u8>> {
    let mut out = vec![0u8; want];
    let mut state = Box::new(DecompressorOxide::new());
    let flags = inflate_flags::TINFL_FLAG_PARSE_ZLIB_HEADER
        | inflate_flags::TINFL_FLAG_HAS_MORE_INPUT
        | inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    let (status, _, written) = decompress(&mut state, input, &mut out, 0, flags);
    match status {
        TINFLStatus::Done | TINFLStatus::HasMoreOutput | TINFLStatus::NeedsMoreInput => {
            out.truncate(written);
            Some(out)
        }
        _ => None,
    }
}

fn decode_hex(oid: &str) -> Option<Vec<u8>> {
    if !(oid.len() == 40 || oid.len() == 64) {
        return None;
    }
    (0..oid.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(oid.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Looks `raw` up in a version-2 pack index: `Some(Some(offset))` found, `Some(None)` not
/// in this pack, `None` an index we do not read.
fn find_in_index(idx: &Path, raw: &[u8]) -> Option<Option<u64>> {
    let file = File::open(idx).ok()?;
    let at = |offset: u64, buf: &mut [u8]| file.read_exact_at(buf, offset).ok();
    let mut header = [0u8; 8];
    at(0, &mut header)?;
    if header != [0xff, b't', b'O', b'c', 0, 0, 0, 2] {
        return None;
    }
    let hash_len = raw.len() as u64;
    let u32_at = |offset: u64| -> Option<u32> {
        let mut b = [0u8; 4];
        at(offset, &mut b)?;
        Some(u32::from_be_bytes(b))
    };
    let first = raw[0] as u64;
    let lo = if first == 0 {
        0
    } else {
        u32_at(8 + (first - 1) * 4)?
    };
    let hi = u32_at(8 + first * 4)?;
    let total = u32_at(8 + 255 * 4)? as u64;
    let names = 8 + 256 * 4;
    // The index must at least hold its tables, else it belongs to another hash length.
    let tables = names + total * (hash_len + 8);
    if file.metadata().ok()?.len() < tables + 2 * hash_len {
        return None;
    }
    let (mut lo, mut hi) = (lo as u64, hi as u64);
    let mut name = vec![0u8; raw.len()];
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        at(names + mid * hash_len, &mut name)?;
        match name.as_slice().cmp(raw) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => {
                let offsets = names + total * (hash_len + 4);
                let small = u32_at(offsets + mid * 4)?;
                if small & 0x8000_0000 == 0 {
                    return Some(Some(small as u64));
                }
                let large = offsets + total * 4 + u64::from(small & 0x7fff_ffff) * 8;
                let mut b = [0u8; 8];
                at(large, &mut b)?;
                return Some(Some(u64::from_be_bytes(b)));
            }
        }
    }
    Some(None)
}

/// How many deltas deep we follow a packed object to its base (git's default depth is 50).
const MAX_DELTA_CHAIN: usize = 1000;

/// The kind and first bytes of the pack entry at `offset` in the pack of index `idx`. A
/// deltified entry has its base's kind, found by following the chain; its content would
/// need the deltas applied, so a deltified tag answers `None`.
fn read_packed(idx: &Path, mut offset: u64, hash_len: usize) -> Option<(Kind, Vec<u8>)> {
    let file = File::open(idx.with_extension("pack")).ok()?;
    let mut buf = vec![0u8; HEAD_BYTES * 2];
    let mut deltified = false;
    for _ in 0..MAX_DELTA_CHAIN {
        let n = read_at_most(&file, offset, &mut buf);
        let entry = buf.get(..n)?;
        // Type in bits 4–6 of the first byte; the size follows in 7-bit groups.
        let first = *entry.first()?;
        let mut i = 0;
        let mut more = first & 0x80 != 0;
        while more {
            i += 1;
            more = entry.get(i)? & 0x80 != 0;
        }
        let body = entry.get(i + 1..)?;
        let kind = match (first >> 4) & 7 {
            1 => Kind::Commit,
            2 => Kind::Tree,
            3 => Kind::Blob,
            4 => Kind::Tag,
            6 => {
                // OFS_DELTA: the base is this many bytes before, in git's offset encoding.
                let mut j = 0;
                let mut back = u64::from(body.first()? & 0x7f);
                while body.get(j)? & 0x80 != 0 {
                    j += 1;
                    back = ((back + 1) << 7) | u64::from(body.get(j)? & 0x7f);
                }
                offset = offset.checked_sub(back).filter(|&o| o > 0)?;
                deltified = true;
                continue;
            }
            7 => {
                // REF_DELTA: the base is named by its id.
                offset = find_in_index(idx, body.get(..hash_len)?)??;
                deltified = true;
                continue;
            }
            _ => return None,
        };
        return match kind {
            Kind::Tag if deltified => None,
            Kind::Tag => Some((kind, inflate_head(body, HEAD_BYTES)?)),
            _ => Some((kind, Vec::new())),
        };
    }
    None
}

/// Reads up to `buf.len()` bytes at `offset`; how many were read (fewer at the end).
fn read_at_most(file: &File, offset: u64, buf: &mut [u8]) -> usize {
    let mut n = 0;
    while n < buf.len() {
        match file.read_at(&mut buf[n..], offset + n as u64) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    n
}
