//! Reverts: recognising them and cancelling a commit against its revert.
//!
//! Every form git and GitHub write is recognised:
//! - git's default: summary `Revert "<subject>"`, body line `This reverts commit <sha>.`
//!   (not a Conventional Commit, but understood);
//! - the same squash-merged on GitHub: `Revert "<subject>" (#123)`;
//! - a revert of a revert: `Revert "Revert "<subject>""`, or `Reapply "<subject>"` as git
//!   writes it since 2.43;
//! - any other message that is not a Conventional Commit and carries git's
//!   `This reverts commit <sha>.` line (a reworded revert);
//! - the conventional `revert:` type (any case) with a `Refs: <sha>[, <sha>…]` footer
//!   and/or a `This reverts commit <sha>.` line.
//!
//! A sha is matched as a prefix (at least 7 hex digits, case-insensitive) of a commit id
//! in the range. When a revert names no sha at all, its subject (`Revert "<subject>"`, or
//! the description of a `revert:` commit) is matched against the summaries of the older
//! commits in the range, newest first — exactly, else with a trailing `(#123)` ignored on
//! both sides (a squash merge adds one to the revert and to the reverted commit).
//!
//! [`resolve`] pairs each revert with its target when the target is in the same range:
//! both are cancelled and drop out of the bump (and the changelog). A revert of a revert
//! reinstates the original. A revert whose target is not in the range (it reverts
//! something already released) is [`RevertStatus::Outside`]: it is classified as type
//! `revert`, which [`crate::BumpRules`] maps to a patch by default (as semantic-release
//! does); map `revert` to `none` to ignore such reverts. A Conventional Commit of another
//! type is never a revert, even with git's revert line in its body (`fix: revert #10564,
//! keep x`): it is listed and released as its type, as conventional-changelog does.

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
    /// `Reapply "<subject>"` (git 2.43+): the target is the revert of `subject`, whose
    /// summary is `Revert "<subject>"`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub reapply: bool,
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
    let mut is_revert = false;
    match parsed {
        Some(c) if c.is_type("revert") => {
            is_revert = true;
            target.subject = Some(c.description);
            for f in c.footers_named("refs") {
                target.shas.extend(
                    f.value
                        .split(|c: char| c == ',' || c.is_whitespace())
                        .filter(|s| is_sha(s)),
                );
            }
        }
        // Another type is what it says, even when its body quotes git's revert line
        // (`fix: revert #10564, keep x` in vite): peers list it as its type, and it often
        // does more than the revert.
        Some(_) => return None,
        None => {
            if let Some((subject, reapply)) = quoted_subject(summary) {
                is_revert = true;
                target.subject = Some(subject);
                target.reapply = reapply;
            }
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
    (is_revert || !target.shas.is_empty()).then_some(target)
}

/// The subject of `Revert "<subject>"` or `Reapply "<subject>"` (then `true`), with a
/// trailing ` (#123)` after the closing quote allowed (GitHub's squash merge adds it). The
/// subject runs to the last quote, so a nested `Revert "Revert "x""` gives `Revert "x"`.
fn quoted_subject(summary: &str) -> Option<(&str, bool)> {
    let (rest, reapply) = match summary.strip_prefix("Revert \"") {
        Some(rest) => (rest, false),
        None => (summary.strip_prefix("Reapply \"")?, true),
    };
    let rest = rest.trim_end();
    let rest = without_pr_suffix(rest).unwrap_or(rest);
    let subject = rest.strip_suffix('"')?;
    (!subject.trim().is_empty()).then_some((subject, reapply))
}

/// `text` without a trailing ` (#123)`; `None` when it has none.
fn without_pr_suffix(text: &str) -> Option<&str> {
    let inner = text.trim_end().strip_suffix(')')?;
    let open = inner.rfind("(#")?;
    let digits = &inner[open + 2..];
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| inner[..open].trim_end())
}

/// A summary as subject matching compares it: without a trailing ` (#123)`.
fn normalized(summary: &str) -> &str {
    without_pr_suffix(summary).unwrap_or_else(|| summary.trim_end())
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
                    let short = normalized(c.summary);
                    if short != c.summary {
                        m.entry(short).or_default().push(j);
                    }
                }
                m
            });
            let wanted = if target.reapply {
                format!("Revert \"{subject}\"")
            } else {
                subject.to_owned()
            };
            // Older, and not reverted already (a revert that cancelled something can
            // itself be the target: a revert of a revert).
            let alive = |v: &Vec<usize>| {
                v.iter()
                    .copied()
                    .filter(|&t| t > i && !matches!(status[t], RevertStatus::RevertedBy { .. }))
                    .min()
            };
            found = map
                .get(wanted.as_str())
                .and_then(alive)
                .or_else(|| map.get(normalized(&wanted)).and_then(alive));
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
    fn github_and_nested_forms() {
        let t = target("Revert \"fix(types): accept null\" (#6729)").expect("squash-merged");
        assert_eq!(t.subject, Some("fix(types): accept null"));
        let t = target("Revert \"Revert \"feat: x (#1)\" (#2)\" (#3)").expect("nested");
        assert_eq!(t.subject, Some("Revert \"feat: x (#1)\" (#2)"));
        let t = target("Reapply \"feat: x\"\n\nThis reverts commit 9bb4d6ccbe.").expect("reapply");
        assert_eq!((t.subject, t.reapply), (Some("feat: x"), true));
        assert_eq!(t.shas, ["9bb4d6ccbe"]);
        // git's line alone, under any summary (conventional or not).
        let t = target("Undo the cache\n\nThis reverts commit 9bb4d6ccbe.").expect("reworded");
        assert_eq!((t.subject, t.shas), (None, vec!["9bb4d6ccbe"]));
        // A Conventional Commit of another type stays what it says.
        assert!(target("fix: restore\n\nThis reverts commit 9bb4d6ccbe.").is_none());
        // Not a pull request number: the text after the quote must be ` (#digits)`.
        assert!(target("Revert \"x\" soon").is_none());
        assert!(target("Revert \"x\" (#12a)").is_none());
        assert!(target("Revert \"\"").is_none());
    }

    #[test]
    fn subjects_match_with_or_without_the_pull_request_number() {
        let msgs = [
            ("c3", "Revert \"Revert \"feat: x\"\" (#9)"),
            ("b2", "Revert \"feat: x\" (#8)"),
            ("a1", "feat: x (#7)"),
        ];
        let targets: Vec<Option<RevertTarget<'_>>> = msgs.iter().map(|(_, m)| target(m)).collect();
        let inputs: Vec<RevertInput<'_, '_>> = msgs
            .iter()
            .zip(&targets)
            .map(|((id, m), t)| RevertInput {
                id,
                summary: m,
                target: t.as_ref(),
            })
            .collect();
        assert_eq!(
            resolve(&inputs),
            [
                RevertStatus::Reverts { target: 1 },
                RevertStatus::RevertedBy { by: 0 },
                RevertStatus::None
            ]
        );
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
