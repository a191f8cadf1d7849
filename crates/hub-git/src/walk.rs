//! `git log <to> ^<exclude>…` without starting git: the same commits in the same order,
//! read from the object database ([`crate::odb`]).
//!
//! A release run's range is a few hundred commits; starting git to list them costs more
//! than reading them. This is git's own walk (`revision.c`: `prepare_revision_walk`,
//! `limit_list`, `process_parents`, `mark_parents_uninteresting`, `still_interesting`),
//! step for step, because the order of `git log` is the order of its walk: a queue sorted
//! by committer date (ties first in, first out), uninteresting marks spread only through
//! commits already parsed, and the walk stopping once five more commits have been taken
//! from a queue holding only uninteresting ones. The output is byte for byte what
//! `git log -z --format=<FORMAT>` prints, and tests hold it to that on histories with
//! merges, equal and skewed dates.
//!
//! Anything this does not reproduce answers `None` and the caller runs git: an object that
//! cannot be read (partial clones), a commit in another encoding (git re-encodes), dates git
//! would read differently from a commit-graph, and ranges larger than [`BUDGET`] commits,
//! where git's commit-graph makes it the faster reader.

use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use crate::odb::{Kind, Odb, decode_hex, push_hex};

/// Commits parsed before giving the walk to git.
pub(crate) const BUDGET: usize = 20_000;

const SEEN: u8 = 1;
const ADDED: u8 = 2;
const UNINTERESTING: u8 = 4;

/// git's `SLOP`: commits taken from an all-uninteresting queue before the walk stops.
const SLOP: u32 = 5;

/// Dates from 2^34 s on are stored differently in a commit-graph; leave them to git.
const MAX_DATE: u64 = 1 << 34;

struct Node {
    oid: Vec<u8>,
    flags: u8,
    /// `None` until parsed (git's "parents not known yet").
    parsed: Option<Parsed>,
}

struct Parsed {
    parents: Vec<usize>,
    date: u64,
    data: Rc<Vec<u8>>,
}

struct Walk<'a> {
    odb: &'a mut Odb,
    nodes: Vec<Node>,
    by_oid: HashMap<Vec<u8>, usize>,
}

/// Why the walk gave up: the caller runs git.
struct GiveUp;

type Step<T> = Result<T, GiveUp>;

impl Walk<'_> {
    fn node(&mut self, oid: &[u8]) -> usize {
        if let Some(&i) = self.by_oid.get(oid) {
            return i;
        }
        let i = self.nodes.len();
        self.nodes.push(Node {
            oid: oid.to_vec(),
            flags: 0,
            parsed: None,
        });
        self.by_oid.insert(oid.to_vec(), i);
        i
    }

    fn parents(&self, i: usize) -> &[usize] {
        self.nodes[i].parsed.as_ref().map_or(&[], |p| &p.parents)
    }

    fn date(&self, i: usize) -> u64 {
        self.nodes[i].parsed.as_ref().map_or(0, |p| p.date)
    }

    /// git's `parse_commit`: reads the commit's parents and committer date once.
    fn parse(&mut self, i: usize) -> Step<()> {
        if self.nodes[i].parsed.is_some() {
            return Ok(());
        }
        if self.nodes.len() > BUDGET {
            return Err(GiveUp);
        }
        let (kind, data) = self.odb.read(&self.nodes[i].oid).ok_or(GiveUp)?;
        if kind != Kind::Commit {
            return Err(GiveUp);
        }
        let hex_len = self.nodes[i].oid.len() * 2;
        let header = parse_header(&data, hex_len).ok_or(GiveUp)?;
        let parents = header
            .parents
            .iter()
            .map(|hex| decode_hex(hex).map(|raw| self.node(&raw)))
            .collect::<Option<Vec<_>>>()
            .ok_or(GiveUp)?;
        self.nodes[i].parsed = Some(Parsed {
            parents,
            date: header.date,
            data,
        });
        Ok(())
    }

    /// git's `mark_parents_uninteresting`: through parsed commits only.
    fn mark_parents_uninteresting(&mut self, i: usize) {
        let mut stack: Vec<usize> = Vec::new();
        let parents = self.parents(i).to_vec();
        for p in parents {
            self.mark_one_uninteresting(p, &mut stack);
        }
        while let Some(c) = stack.pop() {
            self.mark_one_uninteresting(c, &mut stack);
        }
    }

    fn mark_one_uninteresting(&mut self, i: usize, stack: &mut Vec<usize>) {
        if self.nodes[i].flags & UNINTERESTING != 0 {
            return;
        }
        self.nodes[i].flags |= UNINTERESTING;
        // git pushes each parent to the front of its list and pops from the front.
        stack.extend(self.parents(i).iter().rev());
    }

    /// git's `commit_list_insert_by_date`: after every commit at least as recent.
    fn insert_by_date(&self, list: &mut VecDeque<usize>, i: usize) {
        let date = self.date(i);
        let at = list
            .iter()
            .position(|&c| self.date(c) < date)
            .unwrap_or(list.len());
        list.insert(at, i);
    }

    /// git's `process_parents` without a path limit.
    fn process_parents(&mut self, i: usize, list: &mut VecDeque<usize>) -> Step<()> {
        if self.nodes[i].flags & ADDED != 0 {
            return Ok(());
        }
        self.nodes[i].flags |= ADDED;
        let uninteresting = self.nodes[i].flags & UNINTERESTING != 0;
        for p in self.parents(i).to_vec() {
            if uninteresting {
                self.nodes[p].flags |= UNINTERESTING;
            }
            self.parse(p)?;
            if uninteresting && !self.parents(p).is_empty() {
                self.mark_parents_uninteresting(p);
            }
            if self.nodes[p].flags & SEEN == 0 {
                self.nodes[p].flags |= SEEN;
                self.insert_by_date(list, p);
            }
        }
        Ok(())
    }

    /// git's `still_interesting`.
    fn still_interesting(&self, list: &VecDeque<usize>, date: u64, slop: u32) -> u32 {
        let Some(&first) = list.front() else {
            return 0;
        };
        if date <= self.date(first) {
            return SLOP;
        }
        if list
            .iter()
            .any(|&c| self.nodes[c].flags & UNINTERESTING == 0)
        {
            return SLOP;
        }
        slop - 1
    }
}

/// The commits reachable from `to` and from none of `exclude` (full hex ids), newest
/// first as `git log` lists them, printed as `git log -z --format=%H%x00%P%x00%an%x00%ae%x00%B`
/// prints them; `None` when git should be asked instead.
pub(crate) fn log(odb: &mut Odb, to: &str, exclude: &[String]) -> Option<Vec<u8>> {
    let mut walk = Walk {
        odb,
        nodes: Vec::new(),
        by_oid: HashMap::new(),
    };
    let order = walk_range(&mut walk, to, exclude).ok()?;
    let mut out = String::new();
    for i in order {
        print_commit(&walk, i, &mut out)?;
    }
    Some(out.into_bytes())
}

fn walk_range(walk: &mut Walk<'_>, to: &str, exclude: &[String]) -> Step<Vec<usize>> {
    // setup_revisions + prepare_revision_walk: flags on the named commits, each parsed,
    // an excluded one's parents marked, then the list sorted by date (stably).
    let mut pending = Vec::with_capacity(1 + exclude.len());
    for (rev, flags) in
        std::iter::once((to, 0)).chain(exclude.iter().map(|e| (e.as_str(), UNINTERESTING)))
    {
        let raw = decode_hex(rev).ok_or(GiveUp)?;
        let i = walk.node(&raw);
        walk.nodes[i].flags |= flags;
        pending.push(i);
    }
    let mut list: Vec<usize> = Vec::new();
    for &i in &pending {
        walk.parse(i)?;
        if walk.nodes[i].flags & UNINTERESTING != 0 {
            walk.mark_parents_uninteresting(i);
        }
        if walk.nodes[i].flags & SEEN == 0 {
            walk.nodes[i].flags |= SEEN;
            list.push(i);
        }
    }
    list.sort_by_key(|&c| std::cmp::Reverse(walk.date(c)));
    let mut list: VecDeque<usize> = list.into();

    // limit_list.
    let mut slop = SLOP;
    let mut date = u64::MAX;
    let mut newlist = Vec::new();
    while let Some(c) = list.pop_front() {
        walk.process_parents(c, &mut list)?;
        if walk.nodes[c].flags & UNINTERESTING != 0 {
            walk.mark_parents_uninteresting(c);
            slop = walk.still_interesting(&list, date, slop);
            if slop > 0 {
                continue;
            }
            break;
        }
        date = walk.date(c);
        newlist.push(c);
    }
    // get_revision: commits marked uninteresting after they were listed are not shown.
    newlist.retain(|&c| walk.nodes[c].flags & UNINTERESTING == 0);
    Ok(newlist)
}

/// One record of `git log -z --format=%H%x00%P%x00%an%x00%ae%x00%B`.
fn print_commit(walk: &Walk<'_>, i: usize, out: &mut String) -> Option<()> {
    let node = &walk.nodes[i];
    let parsed = node.parsed.as_ref()?;
    let text = std::str::from_utf8(&parsed.data).ok()?;
    push_hex(out, &node.oid);
    out.push('\0');
    for (n, &p) in parsed.parents.iter().enumerate() {
        if n > 0 {
            out.push(' ');
        }
        push_hex(out, &walk.nodes[p].oid);
    }
    out.push('\0');
    // pretty.c's parse_commit_header: the last `author ` line of the header wins; the
    // message starts after the first empty line.
    let mut author = "";
    let mut at = 0;
    let mut body = "";
    while at < text.len() {
        let eol = text[at..].find('\n').map_or(text.len(), |n| at + n);
        let line = &text[at..eol];
        if line.is_empty() {
            body = text.get(eol + 1..).unwrap_or("");
            break;
        }
        if let Some(a) = line.strip_prefix("author ") {
            author = a;
        } else if line.starts_with("encoding ") && !is_utf8_name(&line[9..]) {
            return None; // git would re-encode the message
        }
        at = eol + 1;
    }
    let (name, email) = split_ident(author);
    out.push_str(name);
    out.push('\0');
    out.push_str(email);
    out.push('\0');
    // `%B` is copied as a C string: it ends at a NUL byte.
    out.push_str(body.split('\0').next().unwrap_or(""));
    out.push('\0');
    Some(())
}

fn is_utf8_name(name: &str) -> bool {
    name.eq_ignore_ascii_case("utf-8") || name.eq_ignore_ascii_case("utf8")
}

/// ident.c's `split_ident_line`: the name before the first `<` (trailing spaces dropped),
/// the email up to the next `>`; both empty when the line has no `<…>`.
fn split_ident(line: &str) -> (&str, &str) {
    let Some(open) = line.find('<') else {
        return ("", "");
    };
    let Some(close) = line[open + 1..].find('>') else {
        return ("", "");
    };
    let name = line[..open].trim_end_matches(|c: char| c.is_ascii_whitespace());
    (name, &line[open + 1..open + 1 + close])
}

struct Header<'a> {
    parents: Vec<&'a str>,
    date: u64,
}

/// commit.c's `parse_commit_buffer`: `tree`, `parent` lines, then the committer date read
/// the way `parse_commit_date` reads it. Dates git would read differently (negative, or
/// too large for a commit-graph) answer `None`.
fn parse_header(data: &[u8], hex_len: usize) -> Option<Header<'_>> {
    let hex_at = |at: usize, prefix: &[u8]| -> Option<&str> {
        let r = data.get(at..)?.strip_prefix(prefix)?;
        let hex = r.get(..hex_len)?;
        (r.get(hex_len) == Some(&b'\n') && hex.iter().all(u8::is_ascii_hexdigit))
            .then(|| std::str::from_utf8(hex).ok())
            .flatten()
    };
    if data.len() <= hex_len + 6 {
        return None;
    }
    hex_at(0, b"tree ")?;
    let mut at = hex_len + 6;
    let mut parents = Vec::new();
    // A line that starts like a parent must be one ("bad parents in commit").
    while at + hex_len + 8 < data.len() && data[at..].starts_with(b"parent ") {
        parents.push(hex_at(at, b"parent ")?);
        at += hex_len + 8;
    }
    let date = commit_date(&data[at..])?;
    Some(Header { parents, date })
}

/// commit.c's `parse_commit_date` on the bytes after the parent lines.
fn commit_date(buf: &[u8]) -> Option<u64> {
    if buf.len() <= 6 || !buf.starts_with(b"author") {
        return Some(0);
    }
    let Some(nl) = buf.iter().position(|&b| b == b'\n') else {
        return Some(0);
    };
    let rest = &buf[nl + 1..];
    if rest.len() <= 9 || !rest.starts_with(b"committer") {
        return Some(0);
    }
    let Some(eol) = rest.iter().position(|&b| b == b'\n') else {
        return Some(0);
    };
    let line = &rest[..eol];
    let Some(gt) = line.iter().rposition(|&b| b == b'>') else {
        return Some(0);
    };
    let mut digits = &line[gt + 1..];
    while let [b, tail @ ..] = digits {
        if b.is_ascii_whitespace() {
            digits = tail;
        } else {
            break;
        }
    }
    match digits.first() {
        Some(b'-') => None,
        Some(d) if d.is_ascii_digit() => {
            let end = digits
                .iter()
                .position(|b| !b.is_ascii_digit())
                .unwrap_or(digits.len());
            let value = std::str::from_utf8(&digits[..end])
                .ok()?
                .parse::<u64>()
                .ok()?;
            (value < MAX_DATE).then_some(value)
        }
        _ => Some(0),
    }
}

#[cfg(test)]
mod tests;
