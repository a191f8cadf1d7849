//! Mirroring a local git repository into the stand-in.
//!
//! The wire form ([`GitImport`]) is what `POST /_standin/repos/{owner}/{repo}/import` takes:
//! every object in a structured form with the id it claims, and the refs. The stand-in
//! re-encodes each object as git does, hashes it, and refuses the whole import when one id
//! differs, so an object it cannot reproduce byte for byte never gets in under a wrong name.
//!
//! [`read_git_repository`] builds the wire form from a local repository with `git cat-file
//! --batch-all-objects --batch` and `git for-each-ref` (argument vectors, no shell).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::git::{Commit, ExtraHeader, Message, Object, Signature, Tag, TreeEntry};

/// Git objects and refs to mirror into a repository of the stand-in (the body of `POST
/// /_standin/repos/{owner}/{repo}/import`).
///
/// ```json
/// {"objects": [
///    {"kind": "blob", "sha": "ce0136…", "content": "aGVsbG8K"},
///    {"kind": "tree", "sha": "…", "entries": [{"mode": "100644", "name": "README.md", "sha": "ce0136…"}]},
///    {"kind": "commit", "sha": "…", "tree": "…", "parents": [],
///     "author": {"name": "A", "email": "a@example.com", "time": 1700000000, "offset": "+0530"},
///     "committer": {…}, "headers": [{"name": "gpgsig", "value": "…"}], "message": "feat: x\n"},
///    {"kind": "tag", "sha": "…", "object": "…", "type": "commit", "tag": "v1.0.0",
///     "tagger": {…}, "message": {"base64": "…"}}],
///  "refs": {"refs/heads/main": "…", "refs/tags/v1.0.0": "…"},
///  "default_branch": "main"}
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GitImport {
    /// The objects, in any order.
    pub objects: Vec<GitObject>,
    /// Full ref name to object id. After the import these are exactly the repository's refs.
    #[serde(default)]
    pub refs: BTreeMap<String, String>,
    /// The branch `HEAD` names (without `refs/heads/`); unchanged when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_branch: Option<String>,
}

/// One git object with the id it claims (`sha`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum GitObject {
    /// File content.
    Blob {
        sha: String,
        /// Standard Base64 of the content.
        content: String,
    },
    /// A directory listing; entries in any order (git's order is restored).
    Tree {
        sha: String,
        entries: Vec<GitTreeEntry>,
    },
    /// A commit.
    Commit {
        sha: String,
        tree: String,
        #[serde(default)]
        parents: Vec<String>,
        author: GitSignature,
        committer: GitSignature,
        /// Headers after `committer` (`encoding`, `mergetag`, `gpgsig`, …), in order.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        headers: Vec<GitHeader>,
        /// Everything after the blank line that ends the headers, exactly.
        message: GitBytes,
    },
    /// An annotated tag.
    Tag {
        sha: String,
        /// The tagged object.
        object: String,
        /// Its type: `commit`, `tree`, `blob` or `tag`.
        #[serde(rename = "type")]
        object_type: String,
        /// The tag's name.
        tag: String,
        tagger: GitSignature,
        /// Headers after `tagger`, in order.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        headers: Vec<GitHeader>,
        /// Everything after the blank line that ends the headers (a signature included).
        message: GitBytes,
    },
}

/// A tree entry: `mode` as git writes it (`100644`, `100755`, `120000`, `40000` or `040000`,
/// `160000`), a name without `/` and the entry's object id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GitTreeEntry {
    pub mode: String,
    pub name: String,
    pub sha: String,
}

/// An author, committer or tagger: `time` in seconds since the epoch, `offset` as git writes
/// it (`+0000`, `+0530`, `-0700`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GitSignature {
    pub name: String,
    pub email: String,
    pub time: i64,
    pub offset: String,
}

/// A header line beyond the ones the object kinds name. Continuation lines of a multi-line
/// value (a signature) are joined with `\n`, without the space git puts before them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GitHeader {
    pub name: String,
    pub value: GitBytes,
}

/// Bytes that are usually text: a JSON string when they are UTF-8, else `{"base64": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum GitBytes {
    /// UTF-8 text, exactly.
    Text(String),
    /// Any bytes, as standard Base64.
    Base64 { base64: String },
}

impl GitBytes {
    /// Text when `bytes` are UTF-8, Base64 otherwise: nothing is ever lost.
    #[must_use]
    pub fn from_bytes(bytes: &[u8]) -> Self {
        match std::str::from_utf8(bytes) {
            Ok(text) => GitBytes::Text(text.to_owned()),
            Err(_) => GitBytes::Base64 {
                base64: base64::engine::general_purpose::STANDARD.encode(bytes),
            },
        }
    }

    /// The bytes.
    ///
    /// # Errors
    /// When the Base64 form does not decode.
    pub fn to_bytes(&self) -> Result<Vec<u8>, String> {
        match self {
            GitBytes::Text(text) => Ok(text.as_bytes().to_vec()),
            GitBytes::Base64 { base64 } => decode_base64(base64),
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    /// `owner/name`.
    pub repository: String,
    /// Objects in the import, each one checked against its id.
    pub objects: usize,
    /// Of those, the ones the repository did not have yet.
    pub new_objects: usize,
    pub blobs: usize,
    pub trees: usize,
    pub commits: usize,
    pub tags: usize,
    /// The repository's refs afterwards.
    pub refs: BTreeMap<String, String>,
    /// The repository's default branch afterwards.
    pub default_branch: String,
}

impl GitObject {
    /// The id the object claims.
    #[must_use]
    pub fn sha(&self) -> &str {
        match self {
            GitObject::Blob { sha, .. }
            | GitObject::Tree { sha, .. }
            | GitObject::Commit { sha, .. }
            | GitObject::Tag { sha, .. } => sha,
        }
    }

    /// `blob`, `tree`, `commit` or `tag`.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            GitObject::Blob { .. } => "blob",
            GitObject::Tree { .. } => "tree",
            GitObject::Commit { .. } => "commit",
            GitObject::Tag { .. } => "tag",
        }
    }

    /// Parses a raw object as `git cat-file` prints it (`kind` and the body after the header).
    ///
    /// # Errors
    /// When the body is malformed, or holds something the stand-in's model cannot reproduce
    /// byte for byte: a name, e-mail or path that is not UTF-8, a `-0000` offset, a tag
    /// without a tagger, headers out of git's order.
    pub fn from_raw(sha: &str, kind: &str, body: &[u8]) -> Result<Self, String> {
        let sha = sha.to_owned();
        match kind {
            "blob" => Ok(GitObject::Blob {
                sha,
                content: base64::engine::general_purpose::STANDARD.encode(body),
            }),
            "tree" => Ok(GitObject::Tree {
                sha,
                entries: parse_tree(body)?,
            }),
            "commit" => {
                let (headers, message) = split_headers(body)?;
                let mut headers = headers.into_iter().peekable();
                let tree = expect_header(headers.next(), "tree")?;
                let mut parents = Vec::new();
                while let Some((name, _)) = headers.peek() {
                    if name != "parent" {
                        break;
                    }
                    let (_, value) = headers.next().unwrap_or_default();
                    parents.push(utf8(value, "parent")?);
                }
                let author = parse_signature(&expect_header(headers.next(), "author")?)?;
                let committer = parse_signature(&expect_header(headers.next(), "committer")?)?;
                Ok(GitObject::Commit {
                    sha,
                    tree,
                    parents,
                    author,
                    committer,
                    headers: extra_headers(headers, &["tree", "parent", "author", "committer"])?,
                    message: GitBytes::from_bytes(message),
                })
            }
            "tag" => {
                let (headers, message) = split_headers(body)?;
                let mut headers = headers.into_iter();
                let object = expect_header(headers.next(), "object")?;
                let object_type = expect_header(headers.next(), "type")?;
                let tag = expect_header(headers.next(), "tag")?;
                let tagger = match headers.next() {
                    Some((name, value)) if name == "tagger" => {
                        parse_signature(&utf8(value, "tagger")?)?
                    }
                    _ => return Err("a tag without a `tagger` is not supported".to_owned()),
                };
                Ok(GitObject::Tag {
                    sha,
                    object,
                    object_type,
                    tag,
                    tagger,
                    headers: extra_headers(headers, &["object", "type", "tag", "tagger"])?,
                    message: GitBytes::from_bytes(message),
                })
            }
            other => Err(format!("unknown object type `{other}`")),
        }
    }

    /// The object in the stand-in's model.
    ///
    /// # Errors
    /// When a field cannot be represented (bad Base64, a malformed offset, …).
    pub(crate) fn to_object(&self) -> Result<Object, String> {
        Ok(match self {
            GitObject::Blob { content, .. } => Object::Blob {
                content: decode_base64(content)?,
            },
            GitObject::Tree { entries, .. } => Object::Tree {
                entries: entries
                    .iter()
                    .map(|e| {
                        if e.mode.is_empty() || !e.mode.bytes().all(|b| (b'0'..=b'7').contains(&b))
                        {
                            return Err(format!("tree entry `{}` has mode `{}`", e.name, e.mode));
                        }
                        if e.name.is_empty() || e.name.contains(['/', '\0']) {
                            return Err(format!("invalid tree entry name {:?}", e.name));
                        }
                        check_sha(&e.sha).map_err(|m| format!("tree entry `{}`: {m}", e.name))?;
                        Ok(TreeEntry {
                            mode: e.mode.clone(),
                            name: e.name.clone(),
                            sha: e.sha.clone(),
                        })
                    })
                    .collect::<Result<_, String>>()?,
            },
            GitObject::Commit {
                tree,
                parents,
                author,
                committer,
                headers,
                message,
                ..
            } => {
                check_sha(tree).map_err(|m| format!("tree: {m}"))?;
                for parent in parents {
                    check_sha(parent).map_err(|m| format!("parent: {m}"))?;
                }
                Object::Commit(Commit {
                    tree: tree.clone(),
                    parents: parents.clone(),
                    author: author.to_signature().map_err(|m| format!("author: {m}"))?,
                    committer: committer
                        .to_signature()
                        .map_err(|m| format!("committer: {m}"))?,
                    extra_headers: to_extra_headers(headers)?,
                    message: Message::from_bytes(message.to_bytes()?),
                })
            }
            GitObject::Tag {
                object,
                object_type,
                tag,
                tagger,
                headers,
                message,
                ..
            } => {
                check_sha(object).map_err(|m| format!("object: {m}"))?;
                if !matches!(object_type.as_str(), "commit" | "tree" | "blob" | "tag") {
                    return Err(format!(
                        "tagged object type `{object_type}` is not a git type"
                    ));
                }
                if tag.contains('\n') {
                    return Err("the tag name contains a line break".to_owned());
                }
                Object::Tag(Tag {
                    object: object.clone(),
                    kind: object_type.clone(),
                    tag: tag.clone(),
                    tagger: tagger.to_signature().map_err(|m| format!("tagger: {m}"))?,
                    extra_headers: to_extra_headers(headers)?,
                    message: Message::from_bytes(message.to_bytes()?),
                })
            }
        })
    }
}

impl GitSignature {
    fn to_signature(&self) -> Result<Signature, String> {
        for (field, value) in [("name", &self.name), ("email", &self.email)] {
            if value.contains(['<', '>', '\n']) {
                return Err(format!(
                    "the {field} {value:?} contains `<`, `>` or a line break"
                ));
            }
        }
        Ok(Signature {
            name: self.name.clone(),
            email: self.email.clone(),
            time: self.time,
            offset: parse_offset(&self.offset)?,
        })
    }
}

/// `+0530` to minutes east of UTC.
fn parse_offset(text: &str) -> Result<i32, String> {
    let bytes = text.as_bytes();
    let valid = bytes.len() == 5
        && matches!(bytes[0], b'+' | b'-')
        && bytes[1..].iter().all(u8::is_ascii_digit);
    if !valid {
        return Err(format!("offset `{text}` is not `+HHMM` or `-HHMM`"));
    }
    let hours: i32 = text[1..3].parse().map_err(|_| "bad hours".to_owned())?;
    let minutes: i32 = text[3..5].parse().map_err(|_| "bad minutes".to_owned())?;
    let value = hours * 60 + minutes;
    match bytes[0] {
        b'-' if value == 0 => Err("offset `-0000` is not supported (only `+0000`)".to_owned()),
        b'-' => Ok(-value),
        _ => Ok(value),
    }
}

fn to_extra_headers(headers: &[GitHeader]) -> Result<Vec<ExtraHeader>, String> {
    headers
        .iter()
        .map(|h| {
            if h.name.is_empty() || h.name.contains([' ', '\n']) {
                return Err(format!("invalid header name {:?}", h.name));
            }
            Ok(ExtraHeader {
                name: h.name.clone(),
                value: h
                    .value
                    .to_bytes()
                    .map_err(|m| format!("header `{}`: {m}", h.name))?,
            })
        })
        .collect()
}

fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|err| format!("invalid Base64: {err}"))
}

fn check_sha(sha: &str) -> Result<(), String> {
    if sha.len() == 40 && sha.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(())
    } else {
        Err(format!(
            "`{sha}` is not an object id (40 lower-case hex digits; SHA-256 repositories are not supported)"
        ))
    }
}

fn utf8(bytes: Vec<u8>, what: &str) -> Result<String, String> {
    String::from_utf8(bytes).map_err(|err| {
        format!(
            "`{what}` is not UTF-8 ({:?}); only messages and extra headers may hold other bytes",
            String::from_utf8_lossy(err.as_bytes())
        )
    })
}

fn parse_tree(mut body: &[u8]) -> Result<Vec<GitTreeEntry>, String> {
    let mut entries = Vec::new();
    while !body.is_empty() {
        let space = body
            .iter()
            .position(|&b| b == b' ')
            .ok_or("truncated tree entry (no mode)")?;
        let mode = utf8(body[..space].to_vec(), "mode")?;
        body = &body[space + 1..];
        let nul = body
            .iter()
            .position(|&b| b == 0)
            .ok_or("truncated tree entry (no name)")?;
        let name = utf8(body[..nul].to_vec(), "tree entry name")?;
        body = &body[nul + 1..];
        let Some((id, rest)) = body.split_at_checked(20) else {
            return Err(format!("truncated tree entry `{name}` (no object id)"));
        };
        let sha = id.iter().fold(String::with_capacity(40), |mut hex, b| {
            hex.push_str(&format!("{b:02x}"));
            hex
        });
        entries.push(GitTreeEntry { mode, name, sha });
        body = rest;
    }
    Ok(entries)
}

type RawHeaders = Vec<(String, Vec<u8>)>;

/// Headers (continuation lines joined with `\n`) and the message after the blank line.
fn split_headers(body: &[u8]) -> Result<(RawHeaders, &[u8]), String> {
    let mut headers: RawHeaders = Vec::new();
    let mut rest = body;
    loop {
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            return Err("no blank line between the headers and the message".to_owned());
        };
        let line = &rest[..end];
        rest = &rest[end + 1..];
        if line.is_empty() {
            return Ok((headers, rest));
        }
        if let Some(continued) = line.strip_prefix(b" ") {
            let Some((_, value)) = headers.last_mut() else {
                return Err("a continuation line before any header".to_owned());
            };
            value.push(b'\n');
            value.extend_from_slice(continued);
            continue;
        }
        let space = line.iter().position(|&b| b == b' ').ok_or_else(|| {
            format!(
                "header line {:?} has no value",
                String::from_utf8_lossy(line)
            )
        })?;
        let name = utf8(line[..space].to_vec(), "header name")?;
        headers.push((name, line[space + 1..].to_vec()));
    }
}

fn expect_header(header: Option<(String, Vec<u8>)>, wanted: &str) -> Result<String, String> {
    match header {
        Some((name, value)) if name == wanted => utf8(value, wanted),
        Some((name, _)) => Err(format!("expected `{wanted}`, found `{name}`")),
        None => Err(format!("no `{wanted}` header")),
    }
}

fn extra_headers(
    headers: impl Iterator<Item = (String, Vec<u8>)>,
    known: &[&str],
) -> Result<Vec<GitHeader>, String> {
    headers
        .map(|(name, value)| {
            if known.contains(&name.as_str()) {
                return Err(format!("header `{name}` out of git's order"));
            }
            Ok(GitHeader {
                name,
                value: GitBytes::from_bytes(&value),
            })
        })
        .collect()
}

fn parse_signature(line: &str) -> Result<GitSignature, String> {
    let bad = || format!("malformed signature {line:?}");
    let (rest, offset) = line.rsplit_once(' ').ok_or_else(bad)?;
    let (ident, time) = rest.rsplit_once(' ').ok_or_else(bad)?;
    let time: i64 = time.parse().map_err(|_| bad())?;
    let lt = ident.find('<').ok_or_else(bad)?;
    let email = ident[lt + 1..].strip_suffix('>').ok_or_else(bad)?;
    let name = ident[..lt].strip_suffix(' ').ok_or_else(bad)?;
    parse_offset(offset)?;
    Ok(GitSignature {
        name: name.to_owned(),
        email: email.to_owned(),
        time,
        offset: offset.to_owned(),
    })
}

/// Reads every object and every branch and tag of the repository at `git_dir` (a work tree or
/// a bare repository), and the branch `HEAD` names.
///
/// Other refs (`refs/remotes/…`, `refs/stash`, notes) are left out, as GitHub would not have
/// them.
///
/// # Errors
/// When `git` fails, or an object cannot be carried over exactly (see [`GitObject::from_raw`]).
pub fn read_git_repository(git_dir: &Path) -> Result<GitImport, Error> {
    let raw = git(git_dir, &["cat-file", "--batch-all-objects", "--batch"])?;
    let mut objects = Vec::new();
    let mut rest = raw.as_slice();
    while !rest.is_empty() {
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| unreadable(git_dir, "?", "truncated `cat-file` output"))?;
        let header = String::from_utf8_lossy(&rest[..end]).into_owned();
        rest = &rest[end + 1..];
        let mut fields = header.split(' ');
        let (Some(sha), Some(kind), Some(size), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(unreadable(git_dir, &header, "unexpected `cat-file` line"));
        };
        let size: usize = size
            .parse()
            .map_err(|_| unreadable(git_dir, sha, "unexpected `cat-file` size"))?;
        if rest.len() < size + 1 || rest[size] != b'\n' {
            return Err(unreadable(git_dir, sha, "truncated `cat-file` output"));
        }
        check_sha(sha).map_err(|reason| unreadable(git_dir, sha, &reason))?;
        let object = GitObject::from_raw(sha, kind, &rest[..size])
            .map_err(|reason| unreadable(git_dir, sha, &format!("{kind}: {reason}")))?;
        objects.push(object);
        rest = &rest[size + 1..];
    }

    let listed = git(
        git_dir,
        &[
            "for-each-ref",
            "--format=%(objectname) %(refname)",
            "refs/heads/",
            "refs/tags/",
        ],
    )?;
    let mut refs = BTreeMap::new();
    for line in String::from_utf8_lossy(&listed).lines() {
        let (sha, name) = line
            .split_once(' ')
            .ok_or_else(|| unreadable(git_dir, line, "unexpected `for-each-ref` line"))?;
        refs.insert(name.to_owned(), sha.to_owned());
    }

    // `symbolic-ref` fails on a detached HEAD; the default branch is then left as it is.
    let default_branch = git(git_dir, &["symbolic-ref", "-q", "HEAD"])
        .ok()
        .and_then(|head| {
            let head = String::from_utf8_lossy(&head).trim().to_owned();
            head.strip_prefix("refs/heads/").map(str::to_owned)
        })
        .filter(|branch| refs.contains_key(&format!("refs/heads/{branch}")));
    Ok(GitImport {
        objects,
        refs,
        default_branch,
    })
}

fn unreadable(git_dir: &Path, sha: &str, reason: &str) -> Error {
    Error::GitObjectUnreadable {
        git_dir: git_dir.to_path_buf(),
        sha: sha.to_owned(),
        reason: reason.to_owned(),
    }
}

/// Runs `git -C git_dir args…` and returns its standard output.
fn git(git_dir: &Path, args: &[&str]) -> Result<Vec<u8>, Error> {
    let failed = |detail: String| Error::GitCommand {
        git_dir: git_dir.to_path_buf(),
        command: args.join(" "),
        detail,
    };
    let mut command = Command::new("git");
    command.arg("-C").arg(git_dir).args(args);
    // The repository is the one named, whatever the caller's environment says.
    for variable in [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_NAMESPACE",
    ] {
        command.env_remove(variable);
    }
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|err| failed(err.to_string()))?;
    if !output.status.success() {
        return Err(failed(format!(
            "{}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(output.stdout)
}

/// Checks every object of `import` against its id and every ref's reachable objects for
/// completeness, against the objects of `existing` too. Nothing is changed here.
pub(crate) fn check(
    import: &GitImport,
    existing: &crate::git::Odb,
) -> Result<BTreeMap<String, Object>, String> {
    let mut staged = BTreeMap::new();
    for object in &import.objects {
        let sha = object.sha();
        let kind = object.kind();
        check_sha(sha).map_err(|m| format!("{kind} {m}"))?;
        let model = object
            .to_object()
            .map_err(|m| format!("{kind} `{sha}`: {m}"))?;
        let computed = model.id();
        if computed != sha {
            return Err(format!(
                "{kind} `{sha}` does not match its content: git would name it `{computed}`"
            ));
        }
        staged.insert(sha.to_owned(), model);
    }
    let lookup = |sha: &str| staged.get(sha).or_else(|| existing.get(sha));

    for (name, sha) in &import.refs {
        let valid_name = name.starts_with("refs/")
            && !name.ends_with('/')
            && !name.contains("..")
            && !name.contains("//")
            && !name.bytes().any(|b| b.is_ascii_control() || b == b' ');
        if !valid_name {
            return Err(format!("`{name}` is not a ref name (`refs/…`)"));
        }
        check_sha(sha).map_err(|m| format!("ref `{name}`: {m}"))?;
        let Some(target) = lookup(sha) else {
            return Err(format!(
                "ref `{name}` names `{sha}`, which is neither in the import nor in the repository"
            ));
        };
        if name.starts_with("refs/heads/") && target.kind() != "commit" {
            return Err(format!(
                "branch `{name}` names a {} (`{sha}`), not a commit",
                target.kind()
            ));
        }
    }
    let missing_default = import
        .default_branch
        .as_ref()
        .filter(|branch| !import.refs.contains_key(&format!("refs/heads/{branch}")));
    if let Some(branch) = missing_default {
        return Err(format!(
            "default branch `{branch}` is not among the imported refs"
        ));
    }

    // Everything a ref reaches must be there (submodule commits excepted).
    let mut seen = BTreeSet::new();
    let mut stack: Vec<(String, String)> = import
        .refs
        .iter()
        .map(|(name, sha)| (sha.clone(), name.clone()))
        .collect();
    while let Some((sha, from)) = stack.pop() {
        if !seen.insert(sha.clone()) {
            continue;
        }
        let Some(object) = lookup(&sha) else {
            return Err(format!(
                "`{sha}`, reached from {from}, is neither in the import nor in the repository"
            ));
        };
        let here = format!("{} `{sha}`", object.kind());
        match object {
            Object::Blob { .. } => {}
            Object::Tree { entries } => {
                for entry in entries {
                    match (entry.kind(), lookup(&entry.sha)) {
                        ("commit", _) => {}
                        (wanted, Some(found)) if found.kind() != wanted => {
                            return Err(format!(
                                "{here} lists `{}` as a {wanted} but `{}` is a {}",
                                entry.name,
                                entry.sha,
                                found.kind()
                            ));
                        }
                        _ => stack.push((entry.sha.clone(), here.clone())),
                    }
                }
            }
            Object::Commit(commit) => {
                if !matches!(lookup(&commit.tree), Some(Object::Tree { .. }) | None) {
                    return Err(format!("{here} names `{}` as its tree", commit.tree));
                }
                stack.push((commit.tree.clone(), here.clone()));
                for parent in &commit.parents {
                    if !matches!(lookup(parent), Some(Object::Commit(_)) | None) {
                        return Err(format!("{here} names `{parent}` as a parent"));
                    }
                    stack.push((parent.clone(), here.clone()));
                }
            }
            Object::Tag(tag) => {
                if let Some(found) = lookup(&tag.object).filter(|found| found.kind() != tag.kind) {
                    return Err(format!(
                        "{here} says `{}` is a {} but it is a {}",
                        tag.object,
                        tag.kind,
                        found.kind()
                    ));
                }
                stack.push((tag.object.clone(), here.clone()));
            }
        }
    }
    Ok(staged)
}

/// Runs `git -C git_dir args…` with `input` on its standard input; returns its output.
pub(crate) fn git_input(git_dir: &Path, args: &[&str], input: &[u8]) -> Result<Vec<u8>, Error> {
    let (code, stdout, failure) = run_git(git_dir, args, input)?;
    match code {
        Some(0) => Ok(stdout),
        _ => Err(failure),
    }
}

/// Runs `git -C git_dir args…`: `true` and its output when it succeeds, `false` and its output
/// when it answers no with exit code 1 (as `merge-tree` does on a conflict); any other end is
/// an error.
pub(crate) fn git_status(git_dir: &Path, args: &[&str]) -> Result<(bool, Vec<u8>), Error> {
    let (code, stdout, failure) = run_git(git_dir, args, b"")?;
    match code {
        Some(0) => Ok((true, stdout)),
        Some(1) => Ok((false, stdout)),
        _ => Err(failure),
    }
}

/// Runs git with the repository variables of the environment removed: its exit code, its
/// standard output and the error to report if that code is not the one wanted.
fn run_git(
    git_dir: &Path,
    args: &[&str],
    input: &[u8],
) -> Result<(Option<i32>, Vec<u8>, Error), Error> {
    use std::io::Write as _;
    let failed = |detail: String| Error::GitCommand {
        git_dir: git_dir.to_path_buf(),
        command: args.join(" "),
        detail,
    };
    let mut command = Command::new("git");
    command.arg("-C").arg(git_dir).args(args);
    for variable in [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_NAMESPACE",
    ] {
        command.env_remove(variable);
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| failed(err.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input)
            .map_err(|err| failed(err.to_string()))?;
    }
    let output = child
        .wait_with_output()
        .map_err(|err| failed(err.to_string()))?;
    let failure = failed(format!(
        "{}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    ));
    Ok((output.status.code(), output.stdout, failure))
}

/// Writes into the local repository at `git_dir` every object of `objects` (id, kind,
/// canonical encoding) it lacks, then points each of `refs` where the stand-in has it — the
/// other way of [`read_git_repository`], so a test's checkout sees what the API made (a
/// merge, a tag, a release pull request's branch). Returns how many objects were written.
pub(crate) fn write_git_repository(
    git_dir: &Path,
    objects: &[(String, &'static str, Vec<u8>)],
    refs: &BTreeMap<String, String>,
) -> Result<usize, Error> {
    let ids: String = objects.iter().map(|(id, _, _)| format!("{id}\n")).collect();
    let known = git_input(git_dir, &["cat-file", "--batch-check"], ids.as_bytes())?;
    let known = String::from_utf8_lossy(&known);
    let missing: std::collections::BTreeSet<&str> = known
        .lines()
        .filter_map(|l| l.strip_suffix(" missing"))
        .collect();
    let mut written = 0;
    for (id, kind, bytes) in objects
        .iter()
        .filter(|(id, _, _)| missing.contains(id.as_str()))
    {
        let made = git_input(
            git_dir,
            &["hash-object", "-w", "--literally", "-t", kind, "--stdin"],
            bytes,
        )?;
        if String::from_utf8_lossy(&made).trim() != id {
            return Err(unreadable(git_dir, id, "git computes another id for it"));
        }
        written += 1;
    }
    let updates: String = refs
        .iter()
        .map(|(name, sha)| format!("update {name} {sha}\n"))
        .collect();
    git_input(git_dir, &["update-ref", "--stdin"], updates.as_bytes())?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses a raw object, converts it to the model and checks that git's encoding of the
    /// model is the raw body again.
    fn round_trip(kind: &str, body: &[u8]) -> GitObject {
        let sha = crate::git::hash_object(kind, body);
        let parsed = GitObject::from_raw(&sha, kind, body).expect("parses");
        let json = serde_json::to_string(&parsed).expect("serializes");
        let back: GitObject = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back, parsed);
        let model = back.to_object().expect("converts");
        assert_eq!(
            String::from_utf8_lossy(&model.encode()),
            String::from_utf8_lossy(body)
        );
        assert_eq!(model.encode(), body);
        assert_eq!(model.id(), sha);
        parsed
    }

    const TREE: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

    #[test]
    fn commits_with_offsets_signatures_and_odd_messages_round_trip() {
        let signed = format!(
            "tree {TREE}\nparent {TREE}\nparent {TREE}\nauthor A U Thor <a@example.com> 1700000000 +0530\ncommitter C O Mitter <c@example.com> 1700000001 -0700\nencoding ISO-8859-1\ngpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEz\n -----END PGP SIGNATURE-----\n\nno trailing newline"
        );
        let parsed = round_trip("commit", signed.as_bytes());
        let GitObject::Commit {
            author,
            headers,
            message,
            parents,
            ..
        } = parsed
        else {
            panic!("a commit");
        };
        assert_eq!(author.offset, "+0530");
        assert_eq!(parents.len(), 2);
        assert_eq!(headers.len(), 2);
        assert_eq!(
            headers[1].value,
            GitBytes::Text(
                "-----BEGIN PGP SIGNATURE-----\n\niQEz\n-----END PGP SIGNATURE-----".to_owned()
            )
        );
        assert_eq!(message, GitBytes::Text("no trailing newline".to_owned()));

        let mut latin1 = format!(
            "tree {TREE}\nauthor  <> 0 +1400\ncommitter x <y> 12 -0030\nencoding ISO-8859-1\n\n"
        )
        .into_bytes();
        latin1.extend_from_slice(b"Gr\xfc\xdfe\n");
        let parsed = round_trip("commit", &latin1);
        let GitObject::Commit { message, .. } = parsed else {
            panic!("a commit");
        };
        assert!(matches!(message, GitBytes::Base64 { .. }));

        let empty_message =
            format!("tree {TREE}\nauthor a <b> 1 +0000\ncommitter a <b> 1 +0000\n\n");
        round_trip("commit", empty_message.as_bytes());
    }

    #[test]
    fn tags_trees_and_blobs_round_trip() {
        let tag = format!(
            "object {TREE}\ntype tree\ntag v1.0.0\ntagger T <t@example.com> 1700000000 +0100\n\nRelease\n-----BEGIN PGP SIGNATURE-----\nx\n-----END PGP SIGNATURE-----\n"
        );
        round_trip("tag", tag.as_bytes());
        let mut tree = Vec::new();
        for (mode, name) in [("100644", "a.txt"), ("40000", "dir"), ("100755", "ünï")] {
            tree.extend_from_slice(format!("{mode} {name}\0").as_bytes());
            tree.extend_from_slice(&[0xab; 20]);
        }
        let parsed = round_trip("tree", &tree);
        let GitObject::Tree { entries, .. } = parsed else {
            panic!("a tree");
        };
        assert_eq!(entries[2].sha, "ab".repeat(20));
        round_trip("blob", b"\x00\xff binary\n");
        round_trip("blob", b"");
    }

    #[test]
    fn what_cannot_be_reproduced_is_refused_when_read() {
        let refuse = |kind: &str, body: &[u8], needle: &str| {
            let err = GitObject::from_raw("x", kind, body).expect_err("refused");
            assert!(err.contains(needle), "{err}");
        };
        refuse(
            "tag",
            format!("object {TREE}\ntype tree\ntag v0\n\nold").as_bytes(),
            "without a `tagger`",
        );
        refuse(
            "commit",
            format!("tree {TREE}\nauthor a <b> 1 -0000\ncommitter a <b> 1 +0000\n\nm").as_bytes(),
            "-0000",
        );
        refuse(
            "commit",
            b"tree x\nauthor a <b> 1 +0000\ncommitter a\xff <b> 1 +0000\n\n",
            "not UTF-8",
        );
        refuse(
            "commit",
            format!("tree {TREE}\ncommitter a <b> 1 +0000\nauthor a <b> 1 +0000\n\n").as_bytes(),
            "expected `author`",
        );
        refuse("tree", b"100644 name\0short", "truncated");
    }

    #[test]
    fn ids_that_do_not_match_are_named() {
        let blob = |content: &[u8]| GitObject::Blob {
            sha: crate::git::hash_object("blob", b"hello\n"),
            content: base64::engine::general_purpose::STANDARD.encode(content),
        };
        let odb = crate::git::Odb::default();
        let good = GitImport {
            objects: vec![blob(b"hello\n")],
            ..GitImport::default()
        };
        assert_eq!(check(&good, &odb).expect("accepted").len(), 1);
        let tampered = GitImport {
            objects: vec![blob(b"hello!\n")],
            ..GitImport::default()
        };
        let err = check(&tampered, &odb).expect_err("refused");
        assert!(
            err.contains("blob `ce013625030ba8dba906f756967f9e9ca394464a` does not match"),
            "{err}"
        );
        let dangling = GitImport {
            refs: [("refs/tags/x".to_owned(), "ab".repeat(20))].into(),
            ..good
        };
        let err = check(&dangling, &odb).expect_err("refused");
        assert!(err.contains("neither in the import"), "{err}");
    }

    #[test]
    fn the_wire_form_is_strict() {
        let unknown = r#"{"objects": [{"kind": "blob", "sha": "x", "content": "", "mode": "1"}]}"#;
        assert!(serde_json::from_str::<GitImport>(unknown).is_err());
        let tag = r#"{"kind": "tag", "sha": "s", "object": "o", "type": "commit", "tag": "v1",
            "tagger": {"name": "n", "email": "e", "time": 1, "offset": "+0000"},
            "message": {"base64": "/w=="}}"#;
        let parsed: GitObject = serde_json::from_str(tag).expect("parses");
        let GitObject::Tag { message, .. } = parsed else {
            panic!("a tag");
        };
        assert_eq!(message.to_bytes().expect("decodes"), vec![0xff]);
    }
}
