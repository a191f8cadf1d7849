//! A small git object database: blobs, trees, commits and annotated tags, with object ids
//! computed exactly as git computes them, so a sha the stand-in returns is the sha `git` would.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Serialize;

/// An author, committer or tagger line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Signature {
    pub name: String,
    pub email: String,
    /// Seconds since the Unix epoch.
    pub time: i64,
    /// Minutes east of UTC.
    pub offset: i32,
}

impl Signature {
    pub(crate) fn git_line(&self) -> String {
        let sign = if self.offset < 0 { '-' } else { '+' };
        let offset = self.offset.unsigned_abs();
        format!(
            "{} <{}> {} {sign}{:02}{:02}",
            self.name,
            self.email,
            self.time,
            offset / 60,
            offset % 60
        )
    }

    /// The date in the signature's own offset, as GitHub shows it (`…Z` for UTC).
    pub(crate) fn date(&self) -> String {
        if self.offset == 0 {
            return crate::time::rfc3339(self.time);
        }
        let local = crate::time::rfc3339(self.time + i64::from(self.offset) * 60);
        let sign = if self.offset < 0 { '-' } else { '+' };
        let offset = self.offset.unsigned_abs();
        format!(
            "{}{sign}{:02}:{:02}",
            local.trim_end_matches('Z'),
            offset / 60,
            offset % 60
        )
    }
}

/// One entry of a tree, with the mode as the REST API spells it (`040000` for trees).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct TreeEntry {
    pub mode: String,
    pub name: String,
    pub sha: String,
}

impl TreeEntry {
    pub(crate) fn kind(&self) -> &'static str {
        kind_of_mode(&self.mode)
    }
}

pub(crate) fn kind_of_mode(mode: &str) -> &'static str {
    match mode {
        "040000" | "40000" => "tree",
        "160000" => "commit",
        _ => "blob",
    }
}

/// A commit or tag message: the exact bytes git hashes (usually UTF-8, not necessarily — see
/// the `encoding` header), shown as text lossily.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Message(Vec<u8>);

impl Message {
    pub(crate) fn from_bytes(bytes: Vec<u8>) -> Self {
        Message(bytes)
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The message as text; bytes that are not UTF-8 become U+FFFD.
    pub(crate) fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Message(text.into_bytes())
    }
}

impl Serialize for Message {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text())
    }
}

/// A header of a commit or tag beyond the ones the model names (`encoding`, `gpgsig`,
/// `mergetag`, …), in the order the object has them, after `committer`/`tagger`. The value's
/// lines after the first are stored without the leading space git writes before them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ExtraHeader {
    pub name: String,
    #[serde(serialize_with = "serialize_lossy")]
    pub value: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Commit {
    pub tree: String,
    pub parents: Vec<String>,
    pub author: Signature,
    pub committer: Signature,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extra_headers: Vec<ExtraHeader>,
    pub message: Message,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Tag {
    pub object: String,
    pub kind: String,
    pub tag: String,
    pub tagger: Signature,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extra_headers: Vec<ExtraHeader>,
    pub message: Message,
}

/// `name value` with continuation lines indented by one space, as git writes headers.
fn push_header(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.push(b' ');
    for &byte in value {
        out.push(byte);
        if byte == b'\n' {
            out.push(b' ');
        }
    }
    out.push(b'\n');
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Object {
    Blob {
        #[serde(serialize_with = "serialize_lossy")]
        content: Vec<u8>,
    },
    Tree {
        entries: Vec<TreeEntry>,
    },
    Commit(Commit),
    Tag(Tag),
}

fn serialize_lossy<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&String::from_utf8_lossy(bytes))
}

impl Object {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Object::Blob { .. } => "blob",
            Object::Tree { .. } => "tree",
            Object::Commit(_) => "commit",
            Object::Tag(_) => "tag",
        }
    }

    /// The object's canonical git encoding (without the `kind len\0` header).
    pub(crate) fn encode(&self) -> Vec<u8> {
        match self {
            Object::Blob { content } => content.clone(),
            Object::Tree { entries } => {
                let mut sorted: Vec<&TreeEntry> = entries.iter().collect();
                // git sorts tree entries as if directory names ended with '/'.
                sorted.sort_by_cached_key(|e| {
                    let mut key = e.name.as_bytes().to_vec();
                    if e.kind() == "tree" {
                        key.push(b'/');
                    }
                    key
                });
                let mut out = Vec::new();
                for entry in sorted {
                    let mode = entry.mode.trim_start_matches('0');
                    out.extend_from_slice(mode.as_bytes());
                    out.push(b' ');
                    out.extend_from_slice(entry.name.as_bytes());
                    out.push(0);
                    out.extend_from_slice(&hex_to_bytes(&entry.sha));
                }
                out
            }
            Object::Commit(commit) => {
                let mut out = Vec::new();
                push_header(&mut out, "tree", commit.tree.as_bytes());
                for parent in &commit.parents {
                    push_header(&mut out, "parent", parent.as_bytes());
                }
                push_header(&mut out, "author", commit.author.git_line().as_bytes());
                push_header(
                    &mut out,
                    "committer",
                    commit.committer.git_line().as_bytes(),
                );
                for header in &commit.extra_headers {
                    push_header(&mut out, &header.name, &header.value);
                }
                out.push(b'\n');
                out.extend_from_slice(commit.message.as_bytes());
                out
            }
            Object::Tag(tag) => {
                let mut out = Vec::new();
                push_header(&mut out, "object", tag.object.as_bytes());
                push_header(&mut out, "type", tag.kind.as_bytes());
                push_header(&mut out, "tag", tag.tag.as_bytes());
                push_header(&mut out, "tagger", tag.tagger.git_line().as_bytes());
                for header in &tag.extra_headers {
                    push_header(&mut out, &header.name, &header.value);
                }
                out.push(b'\n');
                out.extend_from_slice(tag.message.as_bytes());
                out
            }
        }
    }

    pub(crate) fn id(&self) -> String {
        hash_object(self.kind(), &self.encode())
    }
}

/// The object id git gives `body` as an object of type `kind`.
pub(crate) fn hash_object(kind: &str, body: &[u8]) -> String {
    let mut hasher = sha1_smol::Sha1::new();
    hasher.update(format!("{kind} {}\0", body.len()).as_bytes());
    hasher.update(body);
    hasher.digest().to_string()
}

fn hex_to_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2)
        .filter_map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

/// A change to a path when writing a tree.
#[derive(Debug, Clone)]
pub(crate) enum Change {
    Set { mode: String, sha: String },
    Delete,
}

enum Node {
    Leaf { mode: String, sha: String },
    Dir(BTreeMap<String, Node>),
}

/// The object database of one repository.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Odb {
    objects: BTreeMap<String, Object>,
}

impl Odb {
    pub(crate) fn insert(&mut self, object: Object) -> String {
        let id = object.id();
        self.objects.entry(id.clone()).or_insert(object);
        id
    }

    /// Inserts an object whose id is already known (computed by the caller).
    pub(crate) fn insert_with_id(&mut self, id: String, object: Object) -> bool {
        match self.objects.entry(id) {
            std::collections::btree_map::Entry::Occupied(_) => false,
            std::collections::btree_map::Entry::Vacant(slot) => {
                slot.insert(object);
                true
            }
        }
    }

    pub(crate) fn get(&self, sha: &str) -> Option<&Object> {
        self.objects.get(sha)
    }

    /// Every object with its id.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&String, &Object)> {
        self.objects.iter()
    }

    pub(crate) fn commit(&self, sha: &str) -> Option<&Commit> {
        match self.objects.get(sha) {
            Some(Object::Commit(commit)) => Some(commit),
            _ => None,
        }
    }

    pub(crate) fn commit_entry(&self, sha: &str) -> Option<(&String, &Commit)> {
        match self.objects.get_key_value(sha) {
            Some((key, Object::Commit(commit))) => Some((key, commit)),
            _ => None,
        }
    }

    /// Peels annotated tags down to the object they name.
    pub(crate) fn peel(&self, sha: &str) -> String {
        let mut current = sha.to_owned();
        for _ in 0..16 {
            match self.objects.get(&current) {
                Some(Object::Tag(tag)) => current.clone_from(&tag.object),
                _ => break,
            }
        }
        current
    }

    /// Whether `ancestor` is reachable from `descendant` through parent links (or equal).
    pub(crate) fn is_ancestor(&self, ancestor: &str, descendant: &str) -> bool {
        let mut stack = vec![descendant.to_owned()];
        let mut seen = std::collections::BTreeSet::new();
        while let Some(sha) = stack.pop() {
            if sha == ancestor {
                return true;
            }
            if !seen.insert(sha.clone()) {
                continue;
            }
            if let Some(commit) = self.commit(&sha) {
                stack.extend(commit.parents.iter().cloned());
            }
        }
        false
    }

    fn load_tree(&self, sha: &str) -> Result<BTreeMap<String, Node>, String> {
        let Some(Object::Tree { entries }) = self.objects.get(sha) else {
            return Err(format!("`{sha}` is not a tree"));
        };
        entries
            .iter()
            .map(|entry| {
                let node = if entry.kind() == "tree" {
                    Node::Dir(self.load_tree(&entry.sha)?)
                } else {
                    Node::Leaf {
                        mode: entry.mode.clone(),
                        sha: entry.sha.clone(),
                    }
                };
                Ok((entry.name.clone(), node))
            })
            .collect()
    }

    /// Writes a new tree: `base` (if any) with `changes` applied; paths may contain `/`.
    pub(crate) fn write_tree(
        &mut self,
        base: Option<&str>,
        changes: Vec<(String, Change)>,
    ) -> Result<String, String> {
        let mut root = match base {
            Some(sha) => self.load_tree(sha)?,
            None => BTreeMap::new(),
        };
        for (path, change) in changes {
            let parts: Vec<&str> = path.split('/').collect();
            if parts
                .iter()
                .any(|p| p.is_empty() || *p == "." || *p == "..")
            {
                return Err(format!("`{path}` is not a valid tree path"));
            }
            if let Change::Set { mode, sha } = &change {
                let wanted = kind_of_mode(mode);
                match self.objects.get(sha) {
                    Some(object) if object.kind() == wanted => {}
                    _ if wanted == "commit" => {} // submodule links name foreign commits
                    _ => return Err(format!("`{sha}` is not a valid {wanted}")),
                }
            }
            self.apply(&mut root, &parts, change)?;
        }
        Ok(self.write_dir(root))
    }

    fn apply(
        &self,
        dir: &mut BTreeMap<String, Node>,
        parts: &[&str],
        change: Change,
    ) -> Result<(), String> {
        let Some((first, rest)) = parts.split_first() else {
            return Ok(());
        };
        if rest.is_empty() {
            match change {
                Change::Delete => {
                    dir.remove(*first);
                }
                Change::Set { mode, sha } if kind_of_mode(&mode) == "tree" => {
                    dir.insert((*first).to_owned(), Node::Dir(self.load_tree(&sha)?));
                }
                Change::Set { mode, sha } => {
                    dir.insert((*first).to_owned(), Node::Leaf { mode, sha });
                }
            }
            return Ok(());
        }
        let child = dir
            .entry((*first).to_owned())
            .or_insert_with(|| Node::Dir(BTreeMap::new()));
        if let Node::Leaf { .. } = child {
            *child = Node::Dir(BTreeMap::new());
        }
        if let Node::Dir(sub) = child {
            self.apply(sub, rest, change)?;
        }
        Ok(())
    }

    fn write_dir(&mut self, dir: BTreeMap<String, Node>) -> String {
        let mut entries = Vec::new();
        for (name, node) in dir {
            match node {
                Node::Leaf { mode, sha } => entries.push(TreeEntry { mode, name, sha }),
                Node::Dir(sub) if sub.is_empty() => {}
                Node::Dir(sub) => {
                    let sha = self.write_dir(sub);
                    entries.push(TreeEntry {
                        mode: "040000".to_owned(),
                        name,
                        sha,
                    });
                }
            }
        }
        self.insert(Object::Tree { entries })
    }

    /// Entries of a tree as `(path, entry)`; with `recursive`, subtrees are walked too.
    pub(crate) fn list_tree(&self, sha: &str, recursive: bool) -> Option<Vec<(String, TreeEntry)>> {
        let Some(Object::Tree { entries }) = self.objects.get(sha) else {
            return None;
        };
        let mut out = Vec::new();
        for entry in entries {
            out.push((entry.name.clone(), entry.clone()));
            if recursive && entry.kind() == "tree" {
                for (path, sub) in self.list_tree(&entry.sha, true)? {
                    out.push((format!("{}/{path}", entry.name), sub));
                }
            }
        }
        Some(out)
    }

    /// The blob at `path` below the tree `sha`.
    #[cfg(test)]
    pub(crate) fn blob_at(&self, tree: &str, path: &str) -> Option<&[u8]> {
        let (entry_sha, rest) = {
            let Some(Object::Tree { entries }) = self.objects.get(tree) else {
                return None;
            };
            let (first, rest) = path.split_once('/').unwrap_or((path, ""));
            let entry = entries.iter().find(|e| e.name == first)?;
            (entry.sha.clone(), rest.to_owned())
        };
        if rest.is_empty() {
            match self.objects.get(&entry_sha) {
                Some(Object::Blob { content }) => Some(content),
                _ => None,
            }
        } else {
            self.blob_at(&entry_sha, &rest)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signature() -> Signature {
        Signature {
            name: "A U Thor".to_owned(),
            email: "author@example.com".to_owned(),
            time: 1_112_911_993,
            offset: -420,
        }
    }

    #[test]
    fn object_ids_match_git() {
        // `printf 'hello\n' | git hash-object --stdin`
        let blob = Object::Blob {
            content: b"hello\n".to_vec(),
        };
        assert_eq!(blob.id(), "ce013625030ba8dba906f756967f9e9ca394464a");
        // `git mktree` of an empty tree.
        let empty = Object::Tree {
            entries: Vec::new(),
        };
        assert_eq!(empty.id(), "4b825dc642cb6eb9a060e54bf8d69288fbee4904");
    }

    #[test]
    fn trees_nest_paths_and_apply_deletes() {
        let mut odb = Odb::default();
        let a = odb.insert(Object::Blob {
            content: b"a".to_vec(),
        });
        let set = |sha: &str| Change::Set {
            mode: "100644".to_owned(),
            sha: sha.to_owned(),
        };
        let first = odb
            .write_tree(
                None,
                vec![
                    ("README.md".to_owned(), set(&a)),
                    ("docs/CHANGELOG.md".to_owned(), set(&a)),
                ],
            )
            .expect("tree");
        assert_eq!(odb.blob_at(&first, "docs/CHANGELOG.md"), Some(&b"a"[..]));
        let second = odb
            .write_tree(
                Some(&first),
                vec![("docs/CHANGELOG.md".to_owned(), Change::Delete)],
            )
            .expect("tree");
        let listed = odb.list_tree(&second, true).expect("listed");
        assert_eq!(
            listed.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
            ["README.md"]
        );
        assert!(
            odb.write_tree(None, vec![("x".to_owned(), set("0000"))])
                .is_err()
        );
    }

    #[test]
    fn ancestry_and_signature_dates() {
        let mut odb = Odb::default();
        let tree = odb.write_tree(None, Vec::new()).expect("empty tree");
        let commit = |parents: Vec<String>| {
            Object::Commit(Commit {
                tree: tree.clone(),
                parents,
                author: signature(),
                committer: signature(),
                extra_headers: Vec::new(),
                message: Message::from("m\n".to_owned()),
            })
        };
        let root = odb.insert(commit(Vec::new()));
        let child = odb.insert(commit(vec![root.clone()]));
        assert!(odb.is_ancestor(&root, &child));
        assert!(!odb.is_ancestor(&child, &root));
        assert_eq!(signature().date(), "2005-04-07T15:13:13-07:00");
    }
}
