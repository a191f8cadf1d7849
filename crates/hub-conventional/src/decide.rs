//! From analysed commits and the current version to the next version, with reasons.

use std::cmp::Ordering;

use semver::{BuildMetadata, Prerelease, Version};
use serde::Serialize;

use crate::analyze::{AnalyzedCommit, Bump, Kind};
use crate::commit::ParseError;

/// Inputs of the version decision besides the commits. `Default` is the usual setup:
/// no forcing, stable channel, initial version `0.1.0`, `0.y.z` kept until asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReleaseOptions {
    /// While the version is `0.y.z`, a breaking change bumps the MINOR (and a feature the
    /// minor, a fix the patch). `true` lets a breaking change go to `1.0.0`.
    /// Default `false`: leaving `0.y.z` is deliberate (`release_as`, a `Release-As:`
    /// footer, or `force: Some(Bump::Major)`).
    pub major_on_zero: bool,
    /// The version of the first release, when there is no version yet and the range has
    /// a releasable commit (whatever its level). Default `0.1.0`.
    pub initial_version: Version,
    /// Release exactly this version (an input; it beats `Release-As:` footers). Must be
    /// greater than the current version.
    pub release_as: Option<Version>,
    /// Release at this level whatever the commits say (even with no releasable commit).
    /// Applied literally: `Some(Bump::Major)` from `0.3.1` gives `1.0.0`.
    /// `Some(Bump::None)` is the same as `None`.
    pub force: Option<Bump>,
    /// Pre-release channel, e.g. `Some("rc")`: `1.2.0` + feat → `1.3.0-rc.0`, then
    /// `1.3.0-rc.1` if `1.3.0-rc.0` is among the known versions. `None` releases stable
    /// (`1.3.0-rc.1` → `1.3.0`).
    pub prerelease: Option<String>,
    /// What to do with build metadata (`+…`).
    pub build: BuildPolicy,
}

impl Default for ReleaseOptions {
    fn default() -> Self {
        ReleaseOptions {
            major_on_zero: false,
            initial_version: Version::new(0, 1, 0),
            release_as: None,
            force: None,
            prerelease: None,
            build: BuildPolicy::Drop,
        }
    }
}

/// Build metadata on the next version.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum BuildPolicy {
    /// None (default).
    #[default]
    Drop,
    /// Copy the current version's build metadata.
    Keep,
    /// Set this build metadata.
    Set(BuildMetadata),
}

/// What made the release happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// No releasable commit, nothing forced: no release.
    NoReleasableCommits,
    /// The commits' levels.
    Commits,
    /// `ReleaseOptions::force`.
    Forced,
    /// `ReleaseOptions::release_as`.
    ReleaseAsInput,
    /// A `Release-As:` footer (the commit is in `decided_by`).
    ReleaseAsFooter,
}

/// A commit named in a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct CommitRef<'a> {
    /// The commit id.
    pub id: &'a str,
    /// Its summary line.
    pub summary: &'a str,
}

/// A commit that is not conventional (merges excluded), for a hint in a PR comment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct NonConventional<'a> {
    /// The commit id.
    pub id: &'a str,
    /// Its summary line.
    pub summary: &'a str,
    /// Why it was not understood.
    pub error: ParseError,
}

/// How the range was understood. Every commit is of exactly one kind, so
/// `conventional + non_conventional + git_reverts + merges == total` ([`Counts::adds_up`]);
/// `cancelled` and `squashed` count across kinds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Every commit given.
    pub total: usize,
    /// Conventional Commits (cancelled ones included).
    pub conventional: usize,
    /// Neither conventional, nor a revert git or GitHub wrote, nor a merge.
    pub non_conventional: usize,
    /// Reverts that are not Conventional Commits (`Revert "…"`, `Reapply "…"`, a message
    /// with git's `This reverts commit <sha>.` line).
    pub git_reverts: usize,
    /// Merge commit messages (ignored).
    pub merges: usize,
    /// Commits cancelled against a revert in the range (both sides counted).
    pub cancelled: usize,
    /// Conventional Commits read from squash-merge bodies (`BumpRules::squash_bodies`), on
    /// top of the commits themselves.
    pub squashed: usize,
}

impl Counts {
    /// `true` when the kinds sum to the total (always, for counts made by [`decide`]).
    pub fn adds_up(&self) -> bool {
        self.conventional + self.non_conventional + self.git_reverts + self.merges == self.total
    }
}

/// Something worth telling that did not stop the decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "note", rename_all = "kebab-case")]
pub enum Note {
    /// A breaking change while at `0.y.z` released as a minor (see `major_on_zero`).
    BreakingOnZero,
    /// No version yet: the first release is `ReleaseOptions::initial_version`.
    InitialRelease,
    /// A `Release-As:` footer that was not used, and why.
    ReleaseAsIgnored {
        /// The commit carrying it.
        id: String,
        /// The footer value.
        value: String,
        /// Why it was ignored.
        why: String,
    },
}

/// The decision, with everything needed to explain it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decision<'a> {
    /// The step from the current stable base to `next` (`None` when no release).
    pub bump: Bump,
    /// The highest level among the (non-cancelled) commits, before the `0.y.z` rule.
    pub commits_bump: Bump,
    /// The current version, as given.
    pub current: Option<Version>,
    /// The next version; `None` when there is nothing to release (never the current one).
    pub next: Option<Version>,
    /// A non-cancelled breaking change is in the range.
    pub breaking: bool,
    /// What made the release happen.
    pub reason: Reason,
    /// The commit(s) that decided the level: all commits at `commits_bump` (or the commit
    /// whose `Release-As:` footer was used).
    pub decided_by: Vec<CommitRef<'a>>,
    /// How the range was understood.
    pub counts: Counts,
    /// Commits that are not conventional, oldest last (input order).
    pub non_conventional: Vec<NonConventional<'a>>,
    /// Remarks (the `0.y.z` rule applied, ignored footers …).
    pub notes: Vec<Note>,
}

/// The decision could not be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecideError {
    /// `release_as` is not greater than the current version.
    #[error("release-as `{release_as}` is not greater than the current version `{current}`")]
    ReleaseAsNotGreater {
        /// The requested version.
        release_as: Version,
        /// The current version.
        current: Version,
    },
    /// The computed version would not be greater than the current one (e.g. switching
    /// from channel `rc` to `beta` for the same release).
    #[error("the next version `{next}` would not be greater than the current version `{current}`")]
    NotGreater {
        /// The computed version.
        next: Version,
        /// The current version.
        current: Version,
    },
    /// The computed version already exists among the known versions.
    #[error("the next version `{0}` already exists")]
    AlreadyExists(Version),
    /// The pre-release channel is not a valid semver pre-release.
    #[error("`{0}` is not a valid pre-release channel")]
    InvalidChannel(String),
    /// A version component would overflow.
    #[error("the version `{0}` cannot be bumped further")]
    Overflow(Version),
}

/// Decides the next version.
///
/// - `analyzed`: the range since the current version, from [`crate::analyze`].
/// - `current`: the version of the last release reachable (may be a pre-release), if any.
/// - `known`: every version that exists (all tags), used to number pre-releases, to find
///   the stable base of a pre-release, and to refuse a version that already exists.
///
/// ```
/// use hub_conventional::{analyze, decide, Bump, BumpRules, RawCommit, ReleaseOptions};
/// use semver::Version;
///
/// let log = [RawCommit { id: "a1", message: "feat(api): add search" }];
/// let analyzed = analyze(&log, &BumpRules::default());
/// let current = Version::new(1, 2, 0);
/// let d = decide(&analyzed, Some(&current), &[current.clone()], &ReleaseOptions::default()).expect("decision");
/// assert_eq!((d.bump, d.next), (Bump::Minor, Some(Version::new(1, 3, 0))));
/// assert_eq!(d.decided_by[0].id, "a1");
/// ```
pub fn decide<'a>(
    analyzed: &[AnalyzedCommit<'a>],
    current: Option<&Version>,
    known: &[Version],
    opts: &ReleaseOptions,
) -> Result<Decision<'a>, DecideError> {
    let mut counts = Counts {
        total: analyzed.len(),
        ..Counts::default()
    };
    let mut non_conventional = Vec::new();
    let mut notes = Vec::new();
    let mut commits_bump = Bump::None;
    let mut breaking = false;
    for c in analyzed {
        match c.kind {
            Kind::Conventional => counts.conventional += 1,
            Kind::GitRevert => counts.git_reverts += 1,
            Kind::Merge => counts.merges += 1,
            Kind::NonConventional => {
                counts.non_conventional += 1;
                if let Err(error) = c.parsed {
                    non_conventional.push(NonConventional {
                        id: c.id,
                        summary: c.summary,
                        error,
                    });
                }
            }
        }
        if c.is_cancelled() {
            counts.cancelled += 1;
        }
        counts.squashed += c.squashed.len();
        commits_bump = commits_bump.max(c.bump);
        breaking |= c.is_breaking();
    }

    // Release-As footers: the highest that is greater than the current version wins.
    let mut footer_release_as: Option<(Version, &AnalyzedCommit<'a>)> = None;
    for c in analyzed.iter().filter(|c| !c.is_cancelled()) {
        let Some(commit) = c.commit() else { continue };
        for f in commit.footers_named("release-as") {
            let raw = f.value.trim();
            let text = raw.strip_prefix(['v', 'V']).unwrap_or(raw);
            let ignored = |why: String| Note::ReleaseAsIgnored {
                id: c.id.to_owned(),
                value: raw.to_owned(),
                why,
            };
            match Version::parse(text) {
                Err(e) => notes.push(ignored(format!("not a version: {e}"))),
                Ok(v) if current.is_some_and(|cur| v.cmp_precedence(cur) != Ordering::Greater) => {
                    notes.push(ignored("not greater than the current version".to_owned()));
                }
                Ok(v) => {
                    if footer_release_as
                        .as_ref()
                        .is_none_or(|(best, _)| v.cmp_precedence(best) == Ordering::Greater)
                    {
                        footer_release_as = Some((v, c));
                    }
                }
            }
        }
    }

    let channel = match opts.prerelease.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(ch) => match Prerelease::new(ch) {
            Ok(_) => Some(ch),
            Err(_) => return Err(DecideError::InvalidChannel(ch.to_owned())),
        },
    };

    let base = stable_base(current, known);
    let mut decided_by = Vec::new();
    let (reason, target) = if let Some(ra) = &opts.release_as {
        if let Some(cur) = current.filter(|cur| ra.cmp_precedence(cur) != Ordering::Greater) {
            return Err(DecideError::ReleaseAsNotGreater {
                release_as: ra.clone(),
                current: cur.clone(),
            });
        }
        (Reason::ReleaseAsInput, Some(without_build(ra)))
    } else if let Some((v, c)) = footer_release_as {
        decided_by.push(CommitRef {
            id: c.id,
            summary: c.summary,
        });
        (Reason::ReleaseAsFooter, Some(without_build(&v)))
    } else {
        let (reason, level) = match opts.force {
            Some(level) if level != Bump::None => (Reason::Forced, level),
            _ => {
                let mut level = commits_bump;
                if level == Bump::Major
                    && !opts.major_on_zero
                    && base.as_ref().is_some_and(|b| b.major == 0)
                {
                    level = Bump::Minor;
                    notes.push(Note::BreakingOnZero);
                }
                decided_by.extend(
                    analyzed
                        .iter()
                        .filter(|c| c.bump == commits_bump && commits_bump != Bump::None)
                        .map(|c| CommitRef {
                            id: c.id,
                            summary: c.summary,
                        }),
                );
                (Reason::Commits, level)
            }
        };
        if level == Bump::None {
            (Reason::NoReleasableCommits, None)
        } else {
            match (current, &base) {
                (None, _) => {
                    notes.push(Note::InitialRelease);
                    (reason, Some(opts.initial_version.clone()))
                }
                (Some(cur), Some(b)) if cur.pre.is_empty() => {
                    (reason, Some(bump_version(b, level)?))
                }
                (Some(cur), Some(b)) => {
                    // From a pre-release: never backwards, never past what the level needs.
                    let release = strip(cur);
                    let candidate = bump_version(b, level)?;
                    (
                        reason,
                        Some(if candidate.cmp_precedence(&release) == Ordering::Greater {
                            candidate
                        } else {
                            release
                        }),
                    )
                }
                (Some(cur), None) => (reason, Some(strip(cur))),
            }
        }
    };

    let Some(mut next) = target else {
        return Ok(Decision {
            bump: Bump::None,
            commits_bump,
            current: current.cloned(),
            next: None,
            breaking,
            reason,
            decided_by,
            counts,
            non_conventional,
            notes,
        });
    };

    if let Some(ch) = channel.filter(|_| next.pre.is_empty()) {
        let n = known
            .iter()
            .chain(current)
            .filter(|v| (v.major, v.minor, v.patch) == (next.major, next.minor, next.patch))
            .filter_map(|v| {
                v.pre
                    .as_str()
                    .strip_prefix(ch)?
                    .strip_prefix('.')?
                    .parse::<u64>()
                    .ok()
            })
            .max()
            .map_or(0, |n| n + 1);
        next.pre = Prerelease::new(&format!("{ch}.{n}"))
            .map_err(|_| DecideError::InvalidChannel(ch.to_owned()))?;
    }
    next.build = match &opts.build {
        BuildPolicy::Drop => BuildMetadata::EMPTY,
        BuildPolicy::Keep => current
            .map(|c| c.build.clone())
            .unwrap_or(BuildMetadata::EMPTY),
        BuildPolicy::Set(b) => b.clone(),
    };

    if let Some(cur) = current.filter(|cur| next.cmp_precedence(cur) != Ordering::Greater) {
        return Err(DecideError::NotGreater {
            next,
            current: cur.clone(),
        });
    }
    if known
        .iter()
        .any(|v| v.cmp_precedence(&next) == Ordering::Equal)
    {
        return Err(DecideError::AlreadyExists(next));
    }

    let from = base.unwrap_or(Version::new(0, 0, 0));
    let bump = if next.major != from.major {
        Bump::Major
    } else if next.minor != from.minor {
        Bump::Minor
    } else {
        Bump::Patch
    };
    Ok(Decision {
        bump,
        commits_bump,
        current: current.cloned(),
        next: Some(next),
        breaking,
        reason,
        decided_by,
        counts,
        non_conventional,
        notes,
    })
}

/// The stable version a bump starts from: the current version when stable; for a
/// pre-release, the highest known stable version below it.
fn stable_base(current: Option<&Version>, known: &[Version]) -> Option<Version> {
    let cur = current?;
    if cur.pre.is_empty() {
        return Some(strip(cur));
    }
    known
        .iter()
        .filter(|v| v.pre.is_empty() && v.cmp_precedence(cur) == Ordering::Less)
        .max_by(|a, b| a.cmp_precedence(b))
        .map(strip)
}

/// The version without its build metadata.
fn without_build(v: &Version) -> Version {
    Version {
        build: BuildMetadata::EMPTY,
        ..v.clone()
    }
}

/// `major.minor.patch` only.
fn strip(v: &Version) -> Version {
    Version::new(v.major, v.minor, v.patch)
}

/// Bumps a stable version by `level` (pre-release and build dropped).
pub(crate) fn bump_version(v: &Version, level: Bump) -> Result<Version, DecideError> {
    let overflow = || DecideError::Overflow(v.clone());
    Ok(match level {
        Bump::None => strip(v),
        Bump::Patch => Version::new(
            v.major,
            v.minor,
            v.patch.checked_add(1).ok_or_else(overflow)?,
        ),
        Bump::Minor => Version::new(v.major, v.minor.checked_add(1).ok_or_else(overflow)?, 0),
        Bump::Major => Version::new(v.major.checked_add(1).ok_or_else(overflow)?, 0, 0),
    })
}
