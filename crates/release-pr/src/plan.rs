//! Planning, pure: from the request and the facts, either the release of a merged release
//! pull request (tags, GitHub releases, notes from the real range) or the release pull
//! request's next state (versions, title, body, files) and what to do with it (open,
//! refresh, leave, close). A value that `--dry-run --json` prints, a run carries out and
//! the unit tests build from hand-made facts.

use std::collections::BTreeSet;

use anyhow::{Context, Result, bail};
use hub_changelog::{Author, Layout, LogCommit, ReleaseInput};
use hub_conventional::semver::{Prerelease, Version};
use hub_conventional::{ReleaseOptions, decide};

use crate::body::{self, Data, Edits};
use crate::facts::{History, OwnedCommit};
use crate::request::Request;

/// One package's next release.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Next {
    /// Index in the history's units.
    pub unit: usize,
    /// The package (`.` for the single one).
    pub name: String,
    pub version: Version,
    pub tag: String,
    pub previous_tag: Option<String>,
    /// Release notes (GitHub's layout): the pull request's body and the release's.
    pub notes: String,
    /// The changelog section (Keep a Changelog's layout, dated).
    pub section: String,
}

/// Renders one release of `commits` (newest first) in `layout`.
fn render(
    request: &Request,
    version: &Version,
    tag: &str,
    previous: Option<&str>,
    commits: &[OwnedCommit],
    date: &str,
    layout: &Layout,
) -> Result<String> {
    let log: Vec<LogCommit<'_>> = commits
        .iter()
        .map(|c| LogCommit {
            id: &c.id,
            message: &c.message,
            author: Author {
                name: &c.author_name,
                email: &c.author_email,
                login: None,
            },
        })
        .collect();
    let release = ReleaseInput::analyze(Some(version.clone()), &log, &request.rules)
        .with_date(date)
        .with_tags(previous.map(String::from), Some(tag.to_string()));
    let config = hub_changelog::Config {
        links: request.links.clone(),
        ..hub_changelog::Config::default()
    };
    Ok(hub_changelog::render_releases(&[release], &config, layout)?)
}

/// The commits that count: the action's own release commits are not changes.
fn counted(commits: &[OwnedCommit]) -> Vec<OwnedCommit> {
    commits
        .iter()
        .filter(|c| {
            !c.message
                .lines()
                .any(|l| l.starts_with(&format!("{}: ", body::TRAILER)))
        })
        .cloned()
        .collect()
}

/// Each package's next version (hub-conventional's decision, as semver-bump's), linked
/// groups levelled to their highest, `Release-As` from the pull request's body, and a
/// pre-release's first number `1` (`1.3.0-rc.1`, then `-rc.2`).
///
/// Also returns why a `Release-As` line was not used (not above the current version).
pub fn next_versions(
    request: &Request,
    h: &History,
    edits: &Edits,
) -> Result<(Vec<Next>, Vec<String>)> {
    let mut versions: Vec<Option<Version>> = Vec::new();
    let mut ignored = Vec::new();
    for (i, unit) in h.units.iter().enumerate() {
        let last = &h.lasts[i];
        let mine = counted(&h.commits[i]);
        let raw: Vec<hub_conventional::RawCommit<'_>> = mine
            .iter()
            .map(|c| hub_conventional::RawCommit {
                id: &c.id,
                message: &c.message,
            })
            .collect();
        let analyzed = hub_conventional::analyze(&raw, &request.rules);
        let asked = edits.release_as_for(&unit.name);
        let release_as = asked
            .filter(|v| last.version.as_ref().is_none_or(|cur| *v > cur))
            .cloned();
        if let (Some(v), None, Some(cur)) = (asked, &release_as, &last.version) {
            ignored.push(format!(
                "`Release-As: {v}` is not above {}'s current version {cur}: not used",
                if unit.name == "." {
                    "the package"
                } else {
                    &unit.name
                }
            ));
        }
        let mut options = ReleaseOptions {
            release_as: release_as.clone(),
            ..request.options.clone()
        };
        // `Release-As: 1.3.0` on the `rc` channel graduates: the version as written.
        if release_as.as_ref().is_some_and(|v| v.pre.is_empty()) {
            options.prerelease = None;
        }
        let decision = decide(&analyzed, last.version.as_ref(), &last.known, &options)
            .with_context(|| format!("package `{}`", unit.name))?;
        let next = decision
            .next
            .map(|v| first_prerelease(v, &last.known, release_as.is_some()));
        versions.push(next);
    }
    // Linked groups share the highest next version of their members.
    let groups: Vec<Option<&str>> = h.units.iter().map(|u| u.linked.as_deref()).collect();
    let levelled = hub_release::packages::level(&groups, &versions);
    let mut out = Vec::new();
    for (i, (unit, version)) in h.units.iter().zip(levelled).enumerate() {
        let Some(version) = version else { continue };
        let tag = unit.pattern.format(&version);
        let previous = h.lasts[i].tag.clone();
        let mine = counted(&h.commits[i]);
        let notes = render(
            request,
            &version,
            &tag,
            previous.as_deref(),
            &mine,
            &h.date,
            &Layout::GitHub,
        )?;
        let section = render(
            request,
            &version,
            &tag,
            previous.as_deref(),
            &mine,
            &h.date,
            &Layout::KeepAChangelog,
        )?;
        out.push(Next {
            unit: i,
            name: unit.name.clone(),
            version,
            tag,
            previous_tag: previous,
            notes,
            section,
        });
    }
    Ok((out, ignored))
}

/// `X-rc.0` (no `rc` of that version yet) becomes `X-rc.1`: release candidates count from 1.
fn first_prerelease(v: Version, known: &[Version], exact: bool) -> Version {
    if exact {
        return v;
    }
    let pre = v.pre.as_str();
    let Some(channel) = pre.strip_suffix(".0") else {
        return v;
    };
    let mut one = v.clone();
    one.pre = match Prerelease::new(&format!("{channel}.1")) {
        Ok(p) => p,
        Err(_) => return v,
    };
    if known.contains(&one) {
        return v;
    }
    one
}

/// A file's new text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileEdit {
    /// From the repository root, `/`-separated.
    pub path: String,
    /// The text now (`None`: a new file).
    pub before: Option<String>,
    pub after: String,
}

/// One release pull request's content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Content {
    /// The marker key (`main`, or `main/<package>`).
    pub key: String,
    /// Its branch (`hub-release/main`, `hub-release/main/<package>`).
    pub branch: String,
    /// The release branch.
    pub base: String,
    /// The release branch's commit it is built on.
    pub base_sha: String,
    pub title: String,
    pub body: String,
    /// The commit message.
    pub message: String,
    /// The releases it proposes.
    pub nexts: Vec<Next>,
    /// The files it changes.
    pub files: Vec<FileEdit>,
}

/// The pull request branch's head as GitHub has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BranchHead {
    pub sha: String,
    pub tree: String,
    pub parents: Vec<String>,
    pub message: String,
    /// Its parent is on the release branch (an ancestor of its HEAD).
    pub parent_on_base: bool,
    /// It is itself on the release branch (merged): nothing on it would be lost.
    pub merged: bool,
}

/// An open release pull request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenPull {
    pub number: u64,
    pub url: String,
    pub title: String,
    pub body: String,
}

/// What happens to one release pull request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PullAction {
    /// Open it (pushing its branch first).
    Open { push: bool },
    /// Refresh it: push its branch when the tree differs, edit title/body when they do.
    Refresh { number: u64, push: bool },
    /// Nothing differs.
    Unchanged { number: u64 },
    /// No releasable commits: close it with a comment.
    Close { number: u64, comment: String },
    /// No releasable commits and no pull request.
    Nothing,
}

impl PullAction {
    /// The `action` output's word.
    pub fn word(&self) -> &'static str {
        match self {
            PullAction::Open { .. } => "opened",
            PullAction::Refresh { .. } => "refreshed",
            PullAction::Unchanged { .. } => "unchanged",
            PullAction::Close { .. } => "closed",
            PullAction::Nothing => "nothing",
        }
    }

    /// What a dry run would do, for its log and summary.
    pub fn would(&self) -> &'static str {
        match self {
            PullAction::Open { .. } => "would open",
            PullAction::Refresh { .. } => "would refresh",
            PullAction::Unchanged { .. } => "unchanged",
            PullAction::Close { .. } => "would close",
            PullAction::Nothing => "nothing",
        }
    }

    /// Whether the branch is pushed.
    pub fn pushes(&self) -> bool {
        matches!(
            self,
            PullAction::Open { push: true } | PullAction::Refresh { push: true, .. }
        )
    }
}

/// The title of a release pull request.
pub fn title(base: &str, nexts: &[Next]) -> String {
    let parts: Vec<String> = nexts
        .iter()
        .map(|n| {
            if n.name == "." {
                n.version.to_string()
            } else {
                format!("{} {}", n.name, n.version)
            }
        })
        .collect();
    format!("chore({}): release {}", base, parts.join(", "))
}

/// A release pull request's content: title, body (the notes, `edits` kept, marker, data),
/// commit message and files.
pub fn content(
    key: &str,
    base: &str,
    base_sha: &str,
    nexts: Vec<Next>,
    files: Vec<FileEdit>,
    edits: &Edits,
) -> Content {
    let single = nexts.len() == 1 && nexts[0].name == ".";
    let notes: String = if single {
        nexts[0].notes.clone()
    } else {
        nexts
            .iter()
            .map(|n| {
                format!(
                    "# {} {}\n\n{}\n",
                    hub_kit::md::escape(&n.name),
                    n.version,
                    n.notes.trim()
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let data = Data {
        base: base_sha.to_string(),
        versions: nexts
            .iter()
            .map(|n| (n.name.clone(), n.version.to_string()))
            .collect(),
        tags: nexts.iter().map(|n| n.tag.clone()).collect(),
    };
    let title = title(base, &nexts);
    Content {
        key: key.to_string(),
        branch: format!("hub-release/{key}"),
        base: base.to_string(),
        base_sha: base_sha.to_string(),
        body: body::render(&notes, edits, key, &data),
        message: body::commit_message(&title, key),
        title,
        nexts,
        files,
    }
}

/// What to do with the pull request: `content` (`None`: nothing to release), the open pull
/// request, the branch's head and the tree the content's commit would have.
///
/// # Errors
/// When the branch's head is a commit a person pushed (not the action's, or not one commit
/// on the release branch) and `force` is off.
pub fn pull_action(
    content: Option<&Content>,
    key: &str,
    open: Option<&OpenPull>,
    head: Option<&BranchHead>,
    wanted_tree: Option<&str>,
    force: bool,
) -> Result<PullAction> {
    let Some(content) = content else {
        return Ok(match open {
            Some(pr) => PullAction::Close {
                number: pr.number,
                comment: "No releasable commits since the last release any more (the changes were reverted, or released another way): closing this release pull request. hub-actions' release-pr opens a new one with the next releasable commit.".into(),
            },
            None => PullAction::Nothing,
        });
    };
    if let Some(head) = head {
        let ours = head.merged
            || (body::is_own_commit(&head.message, key)
                && head.parents.len() == 1
                && head.parent_on_base);
        if !ours && !force {
            bail!(
                "branch `{}` holds commit {} that this action did not make (a person pushed to it): \
                 it is not overwritten. Move those changes to another branch, or set `force: true` to \
                 rebuild the release pull request from `{}`",
                content.branch,
                head.sha,
                content.base
            );
        }
    }
    let same_tree =
        head.is_some_and(|h| {
            h.parents == [content.base_sha.clone()] && Some(h.tree.as_str()) == wanted_tree
        }) && body::is_own_commit(&head.map(|h| h.message.clone()).unwrap_or_default(), key);
    let push = !same_tree;
    Ok(match open {
        None => PullAction::Open { push },
        Some(pr)
            if push
                || pr.title != content.title
                || normalise(&pr.body) != normalise(&content.body) =>
        {
            PullAction::Refresh {
                number: pr.number,
                push,
            }
        }
        Some(pr) => PullAction::Unchanged { number: pr.number },
    })
}

fn normalise(text: &str) -> String {
    text.replace("\r\n", "\n").trim().to_string()
}

/// One release of a merged release pull request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Release {
    pub name: String,
    pub version: Version,
    pub tag: String,
    pub previous_tag: Option<String>,
    /// The notes: from the real range, plus the pull request's user block.
    pub notes: String,
    /// The commit tagged.
    pub at: String,
    /// Commits merged after the pull request's last refresh (short id and subject).
    pub late: Vec<(String, String)>,
    /// Move the major tag.
    pub major_tag: Option<String>,
    pub draft: bool,
    /// A `Release-As:` of the description that names another version: written after the
    /// last refresh (or refused by it), so not what the files hold, and not used.
    pub release_as_unused: Option<Version>,
}

/// The releases of a merged pull request whose body says `data`, at `h.at`: versions from
/// the pull request, notes from the real range (last tag..merge commit) — including commits
/// merged after its last refresh (`not_in_base`: the commits the pull request's base did
/// not hold) — and the person's notes block of `edits`.
///
/// The version is the one the pull request recorded at its last refresh, which its files
/// hold — never a `Release-As:` edited into the description since: a tag must name the
/// version the tagged files say. Such a line is kept in [`Release::release_as_unused`], so
/// the run can say it was not used.
pub fn releases(
    request: &Request,
    h: &History,
    data: &Data,
    edits: &Edits,
    not_in_base: &BTreeSet<String>,
) -> Result<Vec<Release>> {
    let user_notes = edits.user_notes.as_str();
    let mut out = Vec::new();
    for (i, unit) in h.units.iter().enumerate() {
        let Some(version) = data.versions.get(&unit.name) else {
            continue;
        };
        let version = Version::parse(version)
            .with_context(|| format!("the pull request's version of `{}`", unit.name))?;
        let tag = unit.pattern.format(&version);
        let previous = h.lasts[i].tag.clone();
        let mine = counted(&h.commits[i]);
        let mut notes = render(
            request,
            &version,
            &tag,
            previous.as_deref(),
            &mine,
            &h.date,
            &Layout::GitHub,
        )?;
        if !user_notes.trim().is_empty() {
            notes = format!("{}\n\n{}\n", user_notes.trim(), notes.trim_end());
        }
        let late = mine
            .iter()
            // Not the merge (or squash) commit itself, nor a merge's.
            .filter(|c| not_in_base.contains(&c.id) && c.parents.len() < 2 && c.id != h.at)
            .map(|c| {
                (
                    c.id[..c.id.len().min(12)].to_string(),
                    c.message.lines().next().unwrap_or("").to_string(),
                )
            })
            .collect();
        let release_as_unused = edits
            .release_as_for(&unit.name)
            .filter(|wanted| **wanted != version)
            .cloned();
        out.push(Release {
            release_as_unused,
            name: unit.name.clone(),
            major_tag: (request.major_tag && version.pre.is_empty())
                .then(|| format!("{}{}", unit.pattern.prefix, version.major)),
            version,
            tag,
            previous_tag: previous,
            notes,
            at: h.at.clone(),
            late,
            draft: request.draft,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(message: &str, parents: &[&str], on_base: bool) -> BranchHead {
        BranchHead {
            sha: "h".repeat(40),
            tree: "t1".into(),
            parents: parents.iter().map(|p| p.to_string()).collect(),
            message: message.into(),
            parent_on_base: on_base,
            merged: false,
        }
    }

    fn content() -> Content {
        let next = Next {
            unit: 0,
            name: ".".into(),
            version: Version::new(1, 3, 0),
            tag: "v1.3.0".into(),
            previous_tag: Some("v1.2.0".into()),
            notes: "## What's Changed\n\n- feat: x\n".into(),
            section: String::new(),
        };
        super::content(
            "main",
            "main",
            "base",
            vec![next],
            Vec::new(),
            &Edits::default(),
        )
    }

    #[test]
    fn the_tree_decides_the_push_and_the_text_the_edit() {
        let c = content();
        assert_eq!(c.title, "chore(main): release 1.3.0");
        let own = head(&c.message, &["base"], true);
        let pr = OpenPull {
            number: 4,
            url: String::new(),
            title: c.title.clone(),
            body: c.body.clone(),
        };
        // Same tree, same parent, same text: unchanged.
        let a = pull_action(Some(&c), "main", Some(&pr), Some(&own), Some("t1"), false).unwrap();
        assert_eq!(a, PullAction::Unchanged { number: 4 });
        // Another tree: pushed.
        let a = pull_action(Some(&c), "main", Some(&pr), Some(&own), Some("t2"), false).unwrap();
        assert_eq!(
            a,
            PullAction::Refresh {
                number: 4,
                push: true
            }
        );
        // The base moved: rebuilt.
        let old = head(&c.message, &["older"], true);
        let a = pull_action(Some(&c), "main", Some(&pr), Some(&old), Some("t1"), false).unwrap();
        assert!(a.pushes());
        // No pull request yet, no branch.
        let a = pull_action(Some(&c), "main", None, None, Some("t1"), false).unwrap();
        assert_eq!(a, PullAction::Open { push: true });
        // Nothing to release.
        assert!(matches!(
            pull_action(None, "main", Some(&pr), None, None, false).unwrap(),
            PullAction::Close { number: 4, .. }
        ));
        assert_eq!(
            pull_action(None, "main", None, None, None, false).unwrap(),
            PullAction::Nothing
        );
    }

    #[test]
    fn a_persons_commit_is_refused_unless_forced() {
        let c = content();
        let theirs = head("fix: tweak the changelog", &["h"], false);
        let e = pull_action(Some(&c), "main", None, Some(&theirs), Some("t1"), false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("branch `hub-release/main`"), "{e}");
        assert!(e.contains(&"h".repeat(40)), "{e}");
        assert!(e.contains("force: true"), "{e}");
        let a = pull_action(Some(&c), "main", None, Some(&theirs), Some("t1"), true).unwrap();
        assert_eq!(a, PullAction::Open { push: true });
        // Our own trailer on a commit that is not one commit on the base is a person's too.
        let stacked = head(&c.message, &["ours"], false);
        assert!(pull_action(Some(&c), "main", None, Some(&stacked), Some("t1"), false).is_err());
        // A branch already merged into the release branch loses nothing when rebuilt.
        let merged = BranchHead {
            merged: true,
            ..theirs
        };
        assert!(pull_action(Some(&c), "main", None, Some(&merged), Some("t1"), false).is_ok());
    }

    #[test]
    fn release_candidates_count_from_one() {
        let v = Version::parse("1.3.0-rc.0").unwrap();
        assert_eq!(
            first_prerelease(v.clone(), &[], false).to_string(),
            "1.3.0-rc.1"
        );
        let known = [Version::parse("1.3.0-rc.1").unwrap()];
        assert_eq!(first_prerelease(v.clone(), &known, false), v);
        assert_eq!(first_prerelease(v.clone(), &[], true), v);
        let two = Version::parse("1.3.0-rc.2").unwrap();
        assert_eq!(first_prerelease(two.clone(), &[], false), two);
    }
}
