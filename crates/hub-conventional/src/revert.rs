//! Reverts: recognising them and cancelling a commit against its revert.
//!
//! Two forms are recognised:
//! - git's default: summary `Revert "<subject>"`, body line `This reverts commit <sha>.`
//!   (not a Conventional Commit, but understood);
//! - the conventional `revert:` type (any case) with a `Refs: <sha>[, <sha>…]` footer
//!   and/or a `This reverts commit <sha>.` line.
//!
//! A sha is matched as a prefix (at least 7 hex digits, case-insensitive) of a commit id
//! in the range. When a revert names no sha at all, its subject (`Revert "<subject>"`, or
//! the description of a `revert:` commit) is matched against the summaries of the older
//! commits in the range, newest first.
//!
//! [`resolve`] pairs each revert with its target when the target is in the same range:
//! both are cancelled and drop out of the bump (and the changelog). A revert of a revert
//! reinstates the original. A revert whose target is not in the range (it reverts
//! something already released) is [`RevertStatus::Outside`]: it is classified as type
//! `revert`, which [`crate::BumpRules`] maps to a patch by default (as semantic-release
//! does); map `revert` to `none` to ignore such reverts.

use std::collections::HashMap;

use serde::Serialize;

use crate::commit::Commit;

/// What a revert commit points at.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RevertTarget<'a> {
    /// Commit ids (full or abbreviated) named by the revert.
    pub shas: Vec<&'a str>,
    /// The reverted commit's summary, when the revert states it.
    pub subject: Option<&'a str>,
}

/// The part a commit plays in revert pairing, computed by [`resolve`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum RevertStatus {
    /// Not involved in any revert within the range.
    #[default]
    None,
    /// This commit is reverted by `commits[by]` in the same range: cancelled.
    RevertedBy {
        /// Index of the revert commit.
        by: usize,
    },
    /// This commit reverts `commits[target]` in the same range: cancelled.
    Reverts {
        /// Index of the reverted commit.
        target: usize,
    },
    /// This commit is a revert whose target is not in the range.
    Outside,
}

impl RevertStatus {
    /// `true` when the commit drops out of the bump and the changelog.
    pub fn is_cancelled(self) -> bool {
        matches!(self, Self::RevertedBy { .. } | Self::Reverts { .. })
    }
}

const GIT_REVERT_LINE: &str = "This reverts commit ";

/// Recognises a revert commit. `parsed` is the Conventional Commit parse of `message`
/// when it succeeded. Returns `None` when the commit is not a revert.
pub fn revert_target<'a>(
    message: &'a str,
    parsed: Option<&Commit<'a>>,
) -> Option<RevertTarget<'a>> {
    let summary = message.lines().next().unwrap_or("");
    let mut target = RevertTarget::default();
    match parsed {
        Some(c) if c.is_type("revert") => {
            target.subject = Some(c.description);
            for f in c.footers_named("refs") {
                target.shas.extend(
                    f.value
                        .split(|c: char| c == ',' || c.is_whitespace())
                        .filter(|s| is_sha(s)),
                );
            }
        }
        Some(_) => return None,
        None => {
            let subject = summary
                .strip_prefix("Revert \"")?
                .trim_end()
                .strip_suffix('"')?;
            target.subject = Some(subject);
        }
    }
    // `This reverts commit <sha>.` (or `<sha>, reversing` for a merge) anywhere below.
    let mut rest = message;
    while let Some(i) = rest.find(GIT_REVERT_LINE) {
        let after = &rest[i + GIT_REVERT_LINE.len()..];
        let len = after.bytes().take_while(u8::is_ascii_hexdigit).count();
        if is_sha(&after[..len]) && !target.shas.contains(&&after[..len]) {
            target.shas.push(&after[..len]);
        }
        rest = after;
    }
    Some(target)
}

fn is_sha(s: &str) -> bool {
    (7..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// One commit as [`resolve`] needs it.
#[derive(Clone, Copy, Debug)]
pub struct RevertInput<'r, 'a> {
    /// The commit id.
    pub id: &'a str,
    /// The commit's summary (first line).
    pub summary: &'a str,
    /// What it reverts, if it is a revert.
    pub target: Option<&'r RevertTarget<'a>>,
}

/// Pairs reverts with their targets. `commits` must be in `git log` order (newest
/// first); the result has one status per commit, same order.
///
/// Processing runs oldest to newest: a revert whose target is alive cancels it (both
/// cancelled); a revert whose target is itself a revert that cancelled something brings
/// that something back; a revert whose target is already cancelled is cancelled with it
/// (it changes nothing); a revert whose target cannot be found is [`RevertStatus::Outside`].
pub fn resolve(commits: &[RevertInput<'_, '_>]) -> Vec<RevertStatus> {
    let mut status = vec![RevertStatus::None; commits.len()];
    if commits.iter().all(|c| c.target.is_none()) {
        return status;
    }
    // Sorted lower-case ids for prefix search.
    let mut ids: Vec<(String, usize)> = commits
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.to_ascii_lowercase(), i))
        .collect();
    ids.sort_unstable();
    // Summary -> indices (newest first), built lazily only when a subject match is needed.
    let mut by_summary: Option<HashMap<&str, Vec<usize>>> = None;

    for i in (0..commits.len()).rev() {
        let Some(target) = commits[i].target else {
            continue;
        };
        let mut found = None;
        for sha in &target.shas {
            if let Some(t) = find_prefix(&ids, sha).filter(|&t| t > i) {
                found = Some(t);
                break;
            }
        }
        if found.is_none()
            && target.shas.is_empty()
            && let Some(subject) = target.subject
        {
            let map = by_summary.get_or_insert_with(|| {
                let mut m: HashMap<&str, Vec<usize>> = HashMap::new();
                for (j, c) in commits.iter().enumerate() {
                    m.entry(c.summary).or_default().push(j);
                }
                m
            });
            found = map.get(subject).and_then(|v| {
                v.iter()
                    .copied()
                    .find(|&t| t > i && !status[t].is_cancelled())
            });
        }
        status[i] = match found {
            None => RevertStatus::Outside,
            Some(t) => {
                match status[t] {
                    RevertStatus::Reverts { target: original } => {
                        // Revert of a revert: the original comes back.
                        status[original] = RevertStatus::None;
                        status[t] = RevertStatus::RevertedBy { by: i };
                    }
                    RevertStatus::RevertedBy { .. } => {}
                    RevertStatus::None | RevertStatus::Outside => {
                        status[t] = RevertStatus::RevertedBy { by: i }
                    }
                }
                RevertStatus::Reverts { target: t }
            }
        };
    }
    status
}

fn find_prefix(ids: &[(String, usize)], sha: &str) -> Option<usize> {
    let sha = sha.to_ascii_lowercase();
    let start = ids.partition_point(|(id, _)| id.as_str() < sha.as_str());
    ids.get(start)
        .filter(|(id, _)| id.starts_with(&sha))
        .map(|&(_, i)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(msg: &str) -> Option<RevertTarget<'_>> {
        let parsed = Commit::parse(msg).ok();
        revert_target(msg, parsed.as_ref())
    }

    #[test]
    fn git_default_revert() {
        let t = target("Revert \"feat: add x\"\n\nThis reverts commit 9bb4d6ccbe80b7704c6b7f53317ca8146bc103ca.").expect("revert");
        assert_eq!(t.subject, Some("feat: add x"));
        assert_eq!(t.shas, vec!["9bb4d6ccbe80b7704c6b7f53317ca8146bc103ca"]);
    }

    #[test]
    fn conventional_revert_with_refs() {
        let t = target(
            "revert: let us never again speak of the noodle incident\n\nRefs: 676104e, a215868",
        )
        .expect("revert");
        assert_eq!(t.shas, vec!["676104e", "a215868"]);
        let t = target("REVERT: feat: x\n\nThis reverts commit 5678abcd.").expect("revert");
        assert_eq!(t.shas, vec!["5678abcd"]);
        assert_eq!(t.subject, Some("feat: x"));
    }

    #[test]
    fn not_reverts() {
        assert!(target("feat: revert nothing").is_none());
        assert!(target("Reverted stuff").is_none());
        // too short to be a sha
        assert_eq!(
            target("Revert \"x\"\n\nThis reverts commit 1234.")
                .expect("revert")
                .shas,
            Vec::<&str>::new()
        );
    }
}
