//! One pass over a range of commits: parse, classify, pair reverts, bump per commit.
//!
//! [`analyze`] is the single classification used by both the version bump
//! ([`crate::decide`]) and the changelog (`hub-changelog`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::commit::{Commit, ParseError};
use crate::revert::{self, RevertInput, RevertStatus, RevertTarget};

/// A commit as read from git: borrowed, so a `git log` buffer can be parsed in place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RawCommit<'a> {
    /// The commit id (full sha preferred; revert matching is by prefix).
    pub id: &'a str,
    /// The full commit message.
    pub message: &'a str,
}

/// A release level. Ordered: `None < Patch < Minor < Major`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Bump {
    /// No release.
    #[default]
    None,
    /// `x.y.Z`
    Patch,
    /// `x.Y.0`
    Minor,
    /// `X.0.0`
    Major,
}

impl Bump {
    /// `"none"`, `"patch"`, `"minor"` or `"major"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Bump::None => "none",
            Bump::Patch => "patch",
            Bump::Minor => "minor",
            Bump::Major => "major",
        }
    }
}

impl std::fmt::Display for Bump {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Bump {
    type Err = UnknownBump;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" | "" => Ok(Bump::None),
            "patch" => Ok(Bump::Patch),
            "minor" => Ok(Bump::Minor),
            "major" => Ok(Bump::Major),
            _ => Err(UnknownBump(s.to_owned())),
        }
    }
}

/// A bump name other than `none`, `patch`, `minor`, `major`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown release type `{0}`, expected one of `major`, `minor`, `patch`, `none`")]
pub struct UnknownBump(pub String);

/// Which commit types release what. Types are compared ignoring ASCII case.
///
/// Default: `feat` → minor; `fix`, `perf`, `revert` → patch; every other type → none;
/// a breaking change → major whatever its type. (`revert` only matters for reverts whose
/// target is outside the range; in-range pairs cancel.) Squash bodies are not read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BumpRules {
    /// Lower-case type → level. Types not listed release nothing.
    pub types: BTreeMap<String, Bump>,
    /// Read GitHub's squash-merge bodies: each `* type(scope): description` bullet in a
    /// commit's body counts as its own commit, for the version and for the notes, when it
    /// is a Conventional Commit header (a bullet that is not is ignored; the commit itself
    /// always counts as its own message says). See [`AnalyzedCommit::squashed`].
    #[serde(default)]
    pub squash_bodies: bool,
}

impl Default for BumpRules {
    fn default() -> Self {
        let types = [
            ("feat", Bump::Minor),
            ("fix", Bump::Patch),
            ("perf", Bump::Patch),
            ("revert", Bump::Patch),
        ]
        .into_iter()
        .map(|(t, b)| (t.to_owned(), b))
        .collect();
        BumpRules {
            types,
            squash_bodies: false,
        }
    }
}

impl BumpRules {
    /// Sets (or overrides) the level for a type.
    pub fn with(mut self, ty: &str, bump: Bump) -> Self {
        self.types.insert(ty.to_ascii_lowercase(), bump);
        self
    }

    /// The level a type releases (ignoring case); `Bump::None` when not listed.
    pub fn for_type(&self, ty: &str) -> Bump {
        // Fast path: types are nearly always already lower case.
        if let Some(b) = self.types.get(ty) {
            return *b;
        }
        if ty.bytes().any(|c| c.is_ascii_uppercase()) {
            return self
                .types
                .get(&ty.to_ascii_lowercase())
                .copied()
                .unwrap_or_default();
        }
        Bump::None
    }
}

/// How a commit was understood.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A Conventional Commit (including `revert:` commits).
    Conventional,
    /// A revert that is not a Conventional Commit, but understood: git's `Revert "<subject>"`
    /// (with GitHub's ` (#123)` after it, or nested), `Reapply "<subject>"`, or any other
    /// non-conventional message with git's `This reverts commit <sha>.` line.
    GitRevert,
    /// A merge commit message (`Merge pull request …`, `Merge branch …`, `Merge remote-tracking
    /// branch …`, `Merge tag …`, `Merged PR …`): ignored, never hinted at.
    Merge,
    /// Anything else: releases nothing; listed so a PR comment can hint at it.
    NonConventional,
}

/// One analysed commit. Same order as the input.
#[derive(Clone, Debug, Serialize)]
pub struct AnalyzedCommit<'a> {
    /// The commit id.
    pub id: &'a str,
    /// The first line of the message.
    pub summary: &'a str,
    /// The full message.
    #[serde(skip)]
    pub message: &'a str,
    /// How the commit was understood.
    pub kind: Kind,
    /// The parse, or why the message is not conventional.
    #[serde(serialize_with = "ser_parsed")]
    pub parsed: Result<Commit<'a>, ParseError>,
    /// What it reverts, when it is a revert.
    pub revert: Option<RevertTarget<'a>>,
    /// Its part in revert pairing.
    pub revert_status: RevertStatus,
    /// What this commit alone releases under the rules, its squashed commits included
    /// (`None` when cancelled; the `0.y.z` rule is applied later, by [`crate::decide`]).
    pub bump: Bump,
    /// With [`BumpRules::squash_bodies`]: the Conventional Commits listed as `* …` bullets
    /// in its body (GitHub's squash-merge message), in order. Empty otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub squashed: Vec<SquashedCommit<'a>>,
}

/// A commit squashed into another: one `* type: description` bullet of a squash-merge body
/// and the lines under it up to the next bullet.
#[derive(Clone, Debug, Serialize)]
pub struct SquashedCommit<'a> {
    /// The bullet's text without the `* ` (its body lines included).
    pub message: &'a str,
    /// Its parse: the whole text, or only its first line when the lines under it do not
    /// parse (a malformed body line never drops the bullet or the commit).
    pub commit: Commit<'a>,
    /// What it releases under the rules.
    pub bump: Bump,
}

/// The `* ` bullets of a message's body (GitHub's squash-merge message lists each squashed
/// commit so), each running to the next bullet; the summary line is never one.
pub fn squash_bullets(message: &str) -> Vec<&str> {
    let mut starts = Vec::new();
    let mut offset = 0;
    for line in message.split_inclusive('\n') {
        if offset > 0 && line.starts_with("* ") {
            starts.push(offset);
        }
        offset += line.len();
    }
    let mut out = Vec::with_capacity(starts.len());
    for (k, &start) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(message.len());
        let text = message[start + 2..end].trim_end();
        if !text.is_empty() {
            out.push(text);
        }
    }
    out
}

fn squashed<'a>(message: &'a str, rules: &BumpRules) -> Vec<SquashedCommit<'a>> {
    squash_bullets(message)
        .into_iter()
        .filter_map(|text| {
            let commit = Commit::parse(text)
                .or_else(|_| Commit::parse(text.lines().next().unwrap_or("")))
                .ok()?;
            let bump = if commit.breaking {
                Bump::Major
            } else {
                rules.for_type(commit.type_)
            };
            Some(SquashedCommit {
                message: text,
                commit,
                bump,
            })
        })
        .collect()
}

fn ser_parsed<S: serde::Serializer>(
    p: &Result<Commit<'_>, ParseError>,
    s: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    #[serde(rename_all = "lowercase")]
    enum Parsed<'r, 'a> {
        Commit(&'r Commit<'a>),
        Error(&'r ParseError),
    }
    match p {
        Ok(c) => Parsed::Commit(c).serialize(s),
        Err(e) => Parsed::Error(e).serialize(s),
    }
}

impl<'a> AnalyzedCommit<'a> {
    /// The parsed Conventional Commit, if it is one.
    pub fn commit(&self) -> Option<&Commit<'a>> {
        self.parsed.as_ref().ok()
    }

    /// `true` when cancelled against a revert in the same range.
    pub fn is_cancelled(&self) -> bool {
        self.revert_status.is_cancelled()
    }

    /// `true` for a breaking Conventional Commit (or one with a breaking squashed commit)
    /// that is not cancelled.
    pub fn is_breaking(&self) -> bool {
        !self.is_cancelled()
            && (self.commit().is_some_and(|c| c.breaking)
                || self.squashed.iter().any(|s| s.commit.breaking))
    }
}

const MERGE_PREFIXES: [&str; 5] = [
    "Merge pull request ",
    "Merge branch ",
    "Merge remote-tracking branch ",
    "Merge tag ",
    "Merged PR ",
];

/// `true` for the summaries git, GitHub, GitLab and Azure DevOps write for merges.
pub fn is_merge_summary(summary: &str) -> bool {
    MERGE_PREFIXES.iter().any(|p| summary.starts_with(p)) || summary.starts_with("Merge commit '")
}

/// Parses and classifies every commit, pairs reverts, and computes each commit's own
/// bump. `commits` must be in `git log` order (newest first) for revert pairing.
///
/// ```
/// use hub_conventional::{analyze, Bump, BumpRules, RawCommit};
///
/// let log = [
///     RawCommit { id: "bbbbbbbbb", message: "Revert \"feat: x\"\n\nThis reverts commit aaaaaaaaa." },
///     RawCommit { id: "aaaaaaaaa", message: "feat: x" },
///     RawCommit { id: "ccccccccc", message: "fix: y" },
/// ];
/// let analyzed = analyze(&log, &BumpRules::default());
/// assert!(analyzed[0].is_cancelled() && analyzed[1].is_cancelled());
/// assert_eq!(analyzed[2].bump, Bump::Patch);
/// ```
pub fn analyze<'a>(commits: &[RawCommit<'a>], rules: &BumpRules) -> Vec<AnalyzedCommit<'a>> {
    let mut out: Vec<AnalyzedCommit<'a>> = commits
        .iter()
        .map(|raw| {
            let summary = raw.message.lines().next().unwrap_or("");
            let parsed = Commit::parse(raw.message);
            let merge = parsed.is_err() && is_merge_summary(summary);
            let revert = if merge {
                None
            } else {
                revert::revert_target(raw.message, parsed.as_ref().ok())
            };
            let kind = match (&parsed, &revert) {
                (Ok(_), _) => Kind::Conventional,
                (Err(_), _) if merge => Kind::Merge,
                (Err(_), Some(_)) => Kind::GitRevert,
                (Err(_), None) => Kind::NonConventional,
            };
            AnalyzedCommit {
                id: raw.id,
                summary,
                message: raw.message,
                kind,
                parsed,
                revert,
                revert_status: RevertStatus::None,
                bump: Bump::None,
                squashed: if rules.squash_bodies && kind != Kind::Merge {
                    squashed(raw.message, rules)
                } else {
                    Vec::new()
                },
            }
        })
        .collect();

    if out.iter().any(|c| c.revert.is_some()) {
        let inputs: Vec<RevertInput<'_, 'a>> = out
            .iter()
            .map(|c| RevertInput {
                id: c.id,
                summary: c.summary,
                target: c.revert.as_ref(),
            })
            .collect();
        let statuses = revert::resolve(&inputs);
        for (c, s) in out.iter_mut().zip(statuses) {
            c.revert_status = s;
        }
    }

    for c in &mut out {
        if c.is_cancelled() {
            continue;
        }
        c.bump = match (&c.parsed, c.kind) {
            (Ok(p), _) if p.breaking => Bump::Major,
            (Ok(p), _) => rules.for_type(p.type_),
            (Err(_), Kind::GitRevert) => rules.for_type("revert"),
            (Err(_), _) => Bump::None,
        };
        for s in &c.squashed {
            c.bump = c.bump.max(s.bump);
        }
    }
    out
}
