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

/// A `git log -z` output split into records of field offsets.
struct Fields {
    text: String,
    commits: Vec<Vec<Range<u32>>>,
}

/// The output of one `git log`, kept as one string with the commits' field offsets.
#[derive(Clone, Debug)]
pub struct CommitLog {
    text: String,
    commits: Vec<[Range<u32>; FIELDS]>,
}

impl CommitLog {
    pub(crate) fn parse(raw: Vec<u8>) -> Result<CommitLog, ()> {
        let log = CommitLog::parse_fields(raw, FIELDS)?;
        let commits = log
            .commits
            .into_iter()
            .map(|f| f.try_into().map_err(|_| ()))
            .collect::<Result<Vec<[Range<u32>; FIELDS]>, ()>>()?;
        Ok(CommitLog {
            text: log.text,
            commits,
        })
    }

    /// The records of `n` NUL-terminated fields each (the last may lack its terminator).
    fn parse_fields(raw: Vec<u8>, n: usize) -> Result<Fields, ()> {
        let text = match String::from_utf8(raw) {
            Ok(t) => t,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        if text.len() > u32::MAX as usize {
            return Err(());
        }
        let mut commits = Vec::new();
        let mut fields: Vec<Range<u32>> = Vec::with_capacity(n);
        let mut start = 0usize;
        for (i, b) in text.bytes().enumerate() {
            if b == 0 {
                fields.push(start as u32..i as u32);
                start = i + 1;
                if fields.len() == n {
                    commits.push(std::mem::replace(&mut fields, Vec::with_capacity(n)));
                }
            }
        }
        // The last record may end without a terminator.
        if !fields.is_empty() || start < text.len() {
            fields.push(start as u32..text.len() as u32);
            if fields.len() != n {
                return Err(());
            }
            commits.push(fields);
        }
        Ok(Fields { text, commits })
    }

    /// Parses a `git log -z --boundary --source` whose format is `%m%S%x00` then
    /// [`FORMAT`]: the commits of the range (marked `>`), and the boundary commits (marked
    /// `-`) with the name on the command line each was reached by.
    pub(crate) fn parse_marked(raw: Vec<u8>) -> Result<(CommitLog, Vec<(String, String)>), ()> {
        let Fields { text, commits } = CommitLog::parse_fields(raw, FIELDS + 1)?;
        let mut kept = Vec::with_capacity(commits.len());
        let mut boundary = Vec::new();
        for f in commits {
            let lead = text[f[0].start as usize..f[0].end as usize].trim_start_matches('\n');
            let rest: [Range<u32>; FIELDS] = f[1..].to_vec().try_into().map_err(|_| ())?;
            match lead.split_at_checked(1) {
                Some((">", _)) => kept.push(rest),
                Some(("-", source)) => {
                    let id = &text[rest[0].start as usize..rest[0].end as usize];
                    boundary.push((id.to_owned(), source.to_owned()));
                }
                _ => return Err(()),
            }
        }
        Ok((
            CommitLog {
                text,
                commits: kept,
            },
            boundary,
        ))
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
