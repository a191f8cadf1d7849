//! Reading git's object database without starting git: whole objects, loose or packed.
//!
//! An object is looked for in each pack through its version-2 index (`objects/pack/*.idx`:
//! fan-out table, sorted names, 32- or 64-bit offsets), then loose (`objects/ab/cdef…`,
//! zlib). Packed entries may be deltas (`OFS_DELTA`, `REF_DELTA`) against other entries;
//! the chain is followed to its base and the deltas applied, with a small cache of bases
//! since neighbouring commits share them.
//!
//! Nothing is memory-mapped (the workspace forbids `unsafe`): a small index is read whole,
//! a large one is searched with reads of a window around where the name should be (object
//! names are uniformly distributed, so one read of a few kilobytes almost always holds
//! it), and pack data is read through a read-ahead buffer, since the commits of a walk lie
//! next to each other in a pack git wrote.
//!
//! Anything unexpected — an index of another version, a damaged entry, a delta chain too
//! long, an object that is nowhere — answers `None`, and callers ask git instead, so a
//! wrong answer is never the price of speed.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use zlib_rs::{InflateConfig, ReturnCode, decompress_slice};

/// The kinds of object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Commit,
    Tree,
    Blob,
    Tag,
}

impl Kind {
    fn from_name(name: &[u8]) -> Option<Kind> {
        Some(match name {
            b"commit" => Kind::Commit,
            b"tree" => Kind::Tree,
            b"blob" => Kind::Blob,
            b"tag" => Kind::Tag,
            _ => return None,
        })
    }
}

/// How many annotated tags in a row we follow (`git tag -a` of a tag of a tag …).
const MAX_TAG_CHAIN: usize = 8;

/// How many deltas deep we follow a packed object to its base (git's default depth is 50;
/// `--depth` can raise it to 4095).
const MAX_DELTA_CHAIN: usize = 4096;

/// Indexes up to this size are read whole; larger ones are searched by windows.
const WHOLE_INDEX_BYTES: u64 = 64 << 10;

/// Names read per window of a large index.
const WINDOW: u64 = 256;

/// Bytes of pack data read at once.
const READ_AHEAD: usize = 64 << 10;

/// Delta bases kept (they are the objects a walk needs again soon).
const BASE_CACHE: usize = 64;

/// An object's kind and content.
pub(crate) type Object = (Kind, Rc<Vec<u8>>);

/// One object directory's packs and loose objects, opened once for many reads.
pub(crate) struct Odb {
    objects: PathBuf,
    hash_len: usize,
    packs: Vec<Pack>,
    bases: HashMap<(usize, u64), Object>,
}

struct Pack {
    idx: File,
    /// Names read per window when the index is not held whole.
    window: u64,
    /// The whole index when it is small, else empty.
    idx_bytes: Vec<u8>,
    fanout: [u32; 256],
    data: File,
    /// Read-ahead of the pack file: `ahead` holds the bytes from `ahead_at`.
    ahead: Vec<u8>,
    ahead_at: u64,
    len: u64,
}

impl Odb {
    /// Opens the object directory `objects` (`.git/objects`) for ids of `hash_len` bytes
    /// (20 for SHA-1, 32 for SHA-256). `None` when a pack index cannot be read the way we
    /// read them.
    pub(crate) fn open(objects: &Path, hash_len: usize) -> Option<Odb> {
        Odb::open_tuned(objects, hash_len, WHOLE_INDEX_BYTES, WINDOW)
    }

    /// [`Odb::open`] with the index reading's thresholds given (tests make every index
    /// "large" to exercise the windowed search).
    pub(crate) fn open_tuned(
        objects: &Path,
        hash_len: usize,
        whole_index_bytes: u64,
        window: u64,
    ) -> Option<Odb> {
        let mut packs = Vec::new();
        match std::fs::read_dir(objects.join("pack")) {
            Ok(entries) => {
                for entry in entries {
                    let path = entry.ok()?.path();
                    if path.extension().is_some_and(|e| e == "idx") {
                        packs.push(Pack::open(&path, hash_len, whole_index_bytes, window)?);
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(_) => return None,
        }
        Some(Odb {
            objects: objects.to_path_buf(),
            hash_len,
            packs,
            bases: HashMap::new(),
        })
    }

    /// The object named `oid` (raw bytes), wherever it is.
    pub(crate) fn read(&mut self, oid: &[u8]) -> Option<Object> {
        if oid.len() != self.hash_len {
            return None;
        }
        for p in 0..self.packs.len() {
            if let Some(offset) = self.packs[p].find(oid, self.hash_len)? {
                return self.read_packed(p, offset);
            }
        }
        self.read_loose(oid)
    }

    /// The commit `oid` (hex) is or points at through annotated tags; `None` when it is
    /// something else or cannot be read here.
    pub(crate) fn peel_to_commit(&mut self, oid: &str) -> Option<String> {
        let mut oid = oid.to_ascii_lowercase();
        for _ in 0..MAX_TAG_CHAIN {
            let (kind, data) = self.read(&decode_hex(&oid)?)?;
            match kind {
                Kind::Commit => return Some(oid),
                Kind::Tag => oid = tag_target(&data, oid.len())?,
                Kind::Tree | Kind::Blob => return None,
            }
        }
        None
    }

    fn read_loose(&mut self, oid: &[u8]) -> Option<Object> {
        let hex = encode_hex(oid);
        let path = self.objects.join(&hex[..2]).join(&hex[2..]);
        let compressed = std::fs::read(path).ok()?;
        // The header (`commit 1234\0`) tells the size: inflate its first bytes, then all.
        let mut head = [0u8; 64];
        let (head, _) = decompress_slice(&mut head, &compressed, InflateConfig::default());
        let nul = head.iter().position(|&b| b == 0)?;
        let (name, size) = split_header(&head[..nul])?;
        let kind = Kind::from_name(name)?;
        let mut all = inflate(&compressed, nul + 1 + size)?;
        all.drain(..nul + 1);
        Some((kind, Rc::new(all)))
    }

    /// The object at `offset` in pack `p`, deltas applied.
    fn read_packed(&mut self, p: usize, offset: u64) -> Option<Object> {
        // Walk down the chain to a base (or a cached object), then apply the deltas back up.
        let mut deltas: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut at = offset;
        let mut base: Option<Object> = None;
        for _ in 0..MAX_DELTA_CHAIN {
            if let Some(hit) = self.bases.get(&(p, at)) {
                base = Some(hit.clone());
                break;
            }
            let hash_len = self.hash_len;
            let pack = &mut self.packs[p];
            let entry = pack.entry(at, hash_len)?;
            match entry.kind {
                EntryKind::Whole(kind) => {
                    let data = pack.inflate_at(entry.data_at, entry.size)?;
                    base = Some((kind, Rc::new(data)));
                    break;
                }
                EntryKind::OfsDelta(base_at) => {
                    let delta = pack.inflate_at(entry.data_at, entry.size)?;
                    deltas.push((at, delta));
                    at = base_at;
                }
                EntryKind::RefDelta(base_id) => {
                    let delta = pack.inflate_at(entry.data_at, entry.size)?;
                    deltas.push((at, delta));
                    at = pack.find(&base_id, hash_len)??;
                }
            }
        }
        let (kind, mut data) = base?;
        if !deltas.is_empty() {
            self.remember(p, at, (kind, data.clone()));
        }
        while let Some((delta_at, delta)) = deltas.pop() {
            data = Rc::new(apply_delta(&data, &delta)?);
            if !deltas.is_empty() {
                self.remember(p, delta_at, (kind, data.clone()));
            }
        }
        Some((kind, data))
    }

    fn remember(&mut self, p: usize, at: u64, object: Object) {
        if self.bases.len() >= BASE_CACHE {
            self.bases.clear();
        }
        self.bases.insert((p, at), object);
    }
}

enum EntryKind {
    Whole(Kind),
    OfsDelta(u64),
    RefDelta(Vec<u8>),
}

struct Entry {
    kind: EntryKind,
    /// Size of the inflated data (the object, or the delta).
    size: usize,
    /// Where the zlib stream starts.
    data_at: u64,
}

impl Pack {
    fn open(idx_path: &Path, hash_len: usize, whole_index_bytes: u64, window: u64) -> Option<Pack> {
        let idx = File::open(idx_path).ok()?;
        let idx_len = idx.metadata().ok()?.len();
        let idx_bytes = if idx_len <= whole_index_bytes {
            let mut all = vec![0u8; usize::try_from(idx_len).ok()?];
            idx.read_exact_at(&mut all, 0).ok()?;
            all
        } else {
            Vec::new()
        };
        let mut head = [0u8; 8 + 256 * 4];
        if idx_bytes.is_empty() {
            idx.read_exact_at(&mut head, 0).ok()?;
        } else {
            let n = head.len();
            head.copy_from_slice(idx_bytes.get(..n)?);
        }
        if head[..8] != [0xff, b't', b'O', b'c', 0, 0, 0, 2] {
            return None;
        }
        let mut fanout = [0u32; 256];
        for (i, f) in fanout.iter_mut().enumerate() {
            *f = u32::from_be_bytes(head[8 + i * 4..12 + i * 4].try_into().ok()?);
        }
        let total = u64::from(fanout[255]);
        // The index must at least hold its tables, else it belongs to another hash length.
        let tables = 8 + 256 * 4 + total * (hash_len as u64 + 8);
        if idx_len < tables + 2 * hash_len as u64 {
            return None;
        }
        let data = File::open(idx_path.with_extension("pack")).ok()?;
        let len = data.metadata().ok()?.len();
        Some(Pack {
            idx,
            window: window.max(1),
            idx_bytes,
            fanout,
            data,
            ahead: Vec::new(),
            ahead_at: 0,
            len,
        })
    }

    fn total(&self) -> u64 {
        u64::from(self.fanout[255])
    }

    /// `len` bytes of the index at `at`.
    fn idx_read(&self, at: u64, len: usize) -> Option<Vec<u8>> {
        if self.idx_bytes.is_empty() {
            let mut buf = vec![0u8; len];
            self.idx.read_exact_at(&mut buf, at).ok()?;
            Some(buf)
        } else {
            let at = usize::try_from(at).ok()?;
            Some(self.idx_bytes.get(at..at + len)?.to_vec())
        }
    }

    /// `Some(Some(offset))` found, `Some(None)` not in this pack, `None` unreadable.
    fn find(&self, oid: &[u8], hash_len: usize) -> Option<Option<u64>> {
        let first = usize::from(oid[0]);
        let mut lo = if first == 0 {
            0
        } else {
            u64::from(self.fanout[first - 1])
        };
        let mut hi = u64::from(self.fanout[first]);
        let names = 8 + 256 * 4;
        let h = hash_len as u64;
        let mut guess = true;
        while lo < hi {
            // A window where the name should be: interpolated on the first try, the middle
            // after a miss.
            let window = self.window;
            let (start, end) = if hi - lo <= window {
                (lo, hi)
            } else {
                let mid = if guess {
                    let frac = u64::from(u16::from_be_bytes([oid[1], oid[2]]));
                    lo + (((hi - lo) * frac) >> 16)
                } else {
                    lo + (hi - lo) / 2
                };
                let start = mid.saturating_sub(window / 2).max(lo);
                (start, (start + window).min(hi))
            };
            guess = false;
            let held = self.idx_read(names + start * h, ((end - start) * h) as usize)?;
            let name = |i: u64| &held[(i * h) as usize..((i + 1) * h) as usize];
            let count = end - start;
            if oid < name(0) {
                hi = start;
                continue;
            }
            if oid > name(count - 1) {
                lo = end;
                continue;
            }
            let (mut a, mut b) = (0, count);
            while a < b {
                let m = a + (b - a) / 2;
                match name(m).cmp(oid) {
                    std::cmp::Ordering::Less => a = m + 1,
                    std::cmp::Ordering::Greater => b = m,
                    std::cmp::Ordering::Equal => return self.offset_of(start + m, h).map(Some),
                }
            }
            return Some(None);
        }
        Some(None)
    }

    fn offset_of(&self, i: u64, h: u64) -> Option<u64> {
        let offsets = 8 + 256 * 4 + self.total() * (h + 4);
        let small = u32::from_be_bytes(self.idx_read(offsets + i * 4, 4)?.try_into().ok()?);
        if small & 0x8000_0000 == 0 {
            return Some(u64::from(small));
        }
        let large = offsets + self.total() * 4 + u64::from(small & 0x7fff_ffff) * 8;
        Some(u64::from_be_bytes(
            self.idx_read(large, 8)?.try_into().ok()?,
        ))
    }

    /// At least `want` bytes of the pack from `at` (fewer at its end), through the
    /// read-ahead buffer.
    fn bytes(&mut self, at: u64, want: usize) -> Option<&[u8]> {
        let end = at.checked_add(want as u64)?.min(self.len);
        let held = self.ahead_at + self.ahead.len() as u64;
        if at < self.ahead_at || end > held {
            let len = usize::try_from(self.len.checked_sub(at)?)
                .ok()?
                .min(want.max(READ_AHEAD));
            self.ahead.resize(len, 0);
            self.data.read_exact_at(&mut self.ahead, at).ok()?;
            self.ahead_at = at;
        }
        let from = usize::try_from(at - self.ahead_at).ok()?;
        self.ahead.get(from..)
    }

    /// The header of the entry at `at`.
    fn entry(&mut self, at: u64, hash_len: usize) -> Option<Entry> {
        let bytes = self.bytes(at, 32 + hash_len)?;
        // Type in bits 4–6 of the first byte; the size in the low 4 bits, then 7-bit groups.
        let first = *bytes.first()?;
        let mut size = u64::from(first & 0x0f);
        let mut shift = 4;
        let mut i = 0;
        let mut more = first & 0x80 != 0;
        while more {
            i += 1;
            let b = *bytes.get(i)?;
            if shift > 57 {
                return None;
            }
            size |= u64::from(b & 0x7f) << shift;
            shift += 7;
            more = b & 0x80 != 0;
        }
        let body = &bytes[i + 1..];
        let size = usize::try_from(size).ok()?;
        let (kind, used) = match (first >> 4) & 7 {
            1 => (EntryKind::Whole(Kind::Commit), 0),
            2 => (EntryKind::Whole(Kind::Tree), 0),
            3 => (EntryKind::Whole(Kind::Blob), 0),
            4 => (EntryKind::Whole(Kind::Tag), 0),
            6 => {
                // OFS_DELTA: the base is this many bytes before, in git's offset encoding.
                let mut j = 0;
                let mut back = u64::from(body.first()? & 0x7f);
                while body.get(j)? & 0x80 != 0 {
                    j += 1;
                    back = (back.checked_add(1)? << 7) | u64::from(body.get(j)? & 0x7f);
                }
                let base = at.checked_sub(back).filter(|&o| o > 0)?;
                (EntryKind::OfsDelta(base), j + 1)
            }
            7 => (
                EntryKind::RefDelta(body.get(..hash_len)?.to_vec()),
                hash_len,
            ),
            _ => return None,
        };
        Some(Entry {
            kind,
            size,
            data_at: at + (i + 1 + used) as u64,
        })
    }

    /// The zlib stream at `at`, inflated to exactly `size` bytes.
    fn inflate_at(&mut self, at: u64, size: usize) -> Option<Vec<u8>> {
        // Deflate never grows data by more than a few bytes per block; ask for enough at
        // once, and for more if that was not enough.
        let mut want = size + size / 16 + 64;
        loop {
            let input = self.bytes(at, want)?;
            let short = input.len() < want;
            match inflate(input, size) {
                Some(out) => return Some(out),
                None if short => return None,
                None => want = want.checked_mul(4)?,
            }
        }
    }
}

/// The zlib stream at the start of `input` (which may go on after it), when it inflates to
/// exactly `size` bytes.
fn inflate(input: &[u8], size: usize) -> Option<Vec<u8>> {
    let mut out = vec![0u8; size];
    let (done, rc) = decompress_slice(&mut out, input, InflateConfig::default());
    let n = done.len();
    (rc == ReturnCode::Ok && n == size).then(|| {
        out.truncate(n);
        out
    })
}

/// `commit 1234` → (`commit`, 1234).
fn split_header(header: &[u8]) -> Option<(&[u8], usize)> {
    let space = header.iter().position(|&b| b == b' ')?;
    let size = std::str::from_utf8(&header[space + 1..])
        .ok()?
        .parse()
        .ok()?;
    Some((&header[..space], size))
}

/// Applies a git delta to `base`.
fn apply_delta(base: &[u8], delta: &[u8]) -> Option<Vec<u8>> {
    let mut i = 0;
    let mut varint = || -> Option<usize> {
        let mut value = 0usize;
        let mut shift = 0;
        loop {
            let b = *delta.get(i)?;
            i += 1;
            value |= usize::from(b & 0x7f).checked_shl(shift)?;
            shift += 7;
            if b & 0x80 == 0 {
                return Some(value);
            }
        }
    };
    let (base_size, size) = (varint()?, varint()?);
    if base_size != base.len() {
        return None;
    }
    let mut out = Vec::with_capacity(size);
    while i < delta.len() {
        let op = delta[i];
        i += 1;
        if op & 0x80 != 0 {
            let mut offset = 0usize;
            let mut len = 0usize;
            for bit in 0..4 {
                if op & (1 << bit) != 0 {
                    offset |= usize::from(*delta.get(i)?) << (8 * bit);
                    i += 1;
                }
            }
            for bit in 0..3 {
                if op & (0x10 << bit) != 0 {
                    len |= usize::from(*delta.get(i)?) << (8 * bit);
                    i += 1;
                }
            }
            if len == 0 {
                len = 0x10000;
            }
            out.extend_from_slice(base.get(offset..offset.checked_add(len)?)?);
        } else if op != 0 {
            let len = usize::from(op);
            out.extend_from_slice(delta.get(i..i + len)?);
            i += len;
        } else {
            return None;
        }
    }
    (out.len() == size).then_some(out)
}

/// The id after `object ` on a tag's first line, when it is an id of the repository's
/// length.
fn tag_target(data: &[u8], oid_len: usize) -> Option<String> {
    let rest = data.strip_prefix(b"object ")?;
    let id = rest.get(..oid_len)?;
    (rest.get(oid_len) == Some(&b'\n') && id.iter().all(u8::is_ascii_hexdigit))
        .then(|| String::from_utf8_lossy(id).to_ascii_lowercase())
}

pub(crate) fn decode_hex(oid: &str) -> Option<Vec<u8>> {
    if !(oid.len() == 40 || oid.len() == 64) {
        return None;
    }
    (0..oid.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(oid.get(i..i + 2)?, 16).ok())
        .collect()
}

pub(crate) fn encode_hex(raw: &[u8]) -> String {
    let mut s = String::with_capacity(raw.len() * 2);
    push_hex(&mut s, raw);
    s
}

pub(crate) fn push_hex(out: &mut String, raw: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &b in raw {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
}

/// The object directory of a common git directory, when it is one we read by hand: no
/// alternates (objects borrowed from another repository are git's business).
pub(crate) fn plain_objects_dir(common_dir: &Path) -> Option<PathBuf> {
    let objects = common_dir.join("objects");
    (!objects.join("info").join("alternates").exists()).then_some(objects)
}

#[cfg(test)]
mod tests {
    use super::apply_delta;

    #[test]
    fn deltas_copy_and_insert() {
        let base = b"hello, world";
        // Base size 12, result size 11: copy "hello" (offset 0, length 5), insert " git!!".
        let delta = [12, 11, 0x90, 5, 6, b' ', b'g', b'i', b't', b'!', b'!'];
        assert_eq!(
            apply_delta(base, &delta).as_deref(),
            Some(&b"hello git!!"[..])
        );
        // A wrong base size, a copy past the end and the reserved opcode are refused.
        assert_eq!(apply_delta(base, &[11, 1, 1, b'x']), None);
        assert_eq!(apply_delta(base, &[12, 20, 0x90, 20]), None);
        assert_eq!(apply_delta(base, &[12, 1, 0]), None);
    }
}
