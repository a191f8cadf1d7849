//! The template context: releases grouped into sections, with links, escaped text, and
//! every commit with all its parsed fields. Serializable, so a binary can print it
//! (`--context`) and a user template can use any of it.

use std::collections::HashMap;

use hub_conventional::{AnalyzedCommit, Commit, Kind, Separator};
use serde::Serialize;

use crate::model::{Author, AuthorStyle, Config, ReleaseInput};
use hub_md::{self as md, IssueLinks};

/// Everything a template sees.
#[derive(Clone, Debug, Serialize)]
pub struct Context<'r> {
    /// The releases, in the order given (newest first for a changelog).
    pub releases: Vec<ReleaseContext<'r>>,
    /// `https://github.com/owner/repo` when links are configured.
    pub repository_url: Option<String>,
    /// The configured title of the breaking-changes section.
    pub breaking_title: String,
}

/// One release.
#[derive(Clone, Debug, Serialize)]
pub struct ReleaseContext<'r> {
    /// `1.1.0`, or `None` when unreleased.
    pub version: Option<String>,
    /// `1.1.0` or `Unreleased`.
    pub title: String,
    /// The date, as given.
    pub date: Option<String>,
    /// This release's tag, as given.
    pub tag: Option<String>,
    /// The previous release's tag, as given.
    pub previous_tag: Option<String>,
    /// `…/compare/v1.0.0...v1.1.0` (`...HEAD` when unreleased; `…/tree/v1.0.0` for a first
    /// release), when links are configured.
    pub compare_url: Option<String>,
    /// Breaking changes: one entry per note (each `BREAKING CHANGE` footer of a commit is
    /// its own entry, its text in `breaking_md`).
    pub breaking: Vec<Entry>,
    /// Non-empty sections, in configured order (the "other" section last).
    pub sections: Vec<SectionContext>,
    /// `true` when there is nothing to show.
    pub is_empty: bool,
    /// Every commit of the range, with what happened to it.
    pub commits: Vec<CommitContext<'r>>,
}

/// A titled group of entries.
#[derive(Clone, Debug, Serialize)]
pub struct SectionContext {
    /// `Features`, escaped (titles come from the `types` setting).
    pub title: String,
    /// The types it shows (empty for the "other" section).
    pub types: Vec<String>,
    /// Its entries, newest first.
    pub entries: Vec<Entry>,
}

/// An issue or pull request referenced by a footer (`Closes #45`, `Refs: #9`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IssueRef {
    /// `closes` (close/fix/resolve and their forms) or `refs` (ref/refs/references/see).
    pub action: String,
    /// The number.
    pub number: u64,
    /// The issue URL, when links are configured.
    pub url: Option<String>,
}

/// An author, owned.
#[derive(Clone, Debug, Serialize)]
pub struct AuthorContext {
    /// Name.
    pub name: String,
    /// Email.
    pub email: String,
    /// GitHub login, when known.
    pub login: Option<String>,
}

/// One changelog line. Raw fields are as written in the commit (NOT escaped: do not
/// print them in Markdown unless through the `md` filter); `*_md` fields are escaped
/// and linked, ready to print.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    /// The commit id.
    pub id: String,
    /// The first 7 characters of the id.
    pub short_id: String,
    /// The commit URL, when links are configured.
    pub url: Option<String>,
    /// This commit and the duplicates folded into it.
    pub ids: Vec<String>,
    /// The commit type (`revert` for git's revert messages; `None` for non-conventional).
    #[serde(rename = "type")]
    pub type_: Option<String>,
    /// The scope.
    pub scope: Option<String>,
    /// The description (the summary line for non-conventional commits; the reverted
    /// subject for git's revert messages).
    pub description: String,
    /// The body.
    pub body: Option<String>,
    /// A breaking change.
    pub breaking: bool,
    /// The first `BREAKING CHANGE` text (or the description after `!`).
    pub breaking_description: Option<String>,
    /// Every breaking-change note, in order: one per `BREAKING CHANGE:` or
    /// `BREAKING-CHANGE:` footer, then the description after `!` (raw; see
    /// `hub_conventional::Commit::breaking_notes`).
    pub breaking_notes: Vec<String>,
    /// The same notes, escaped (each may span lines).
    pub breaking_notes_md: Vec<String>,
    /// The pull request number from a trailing `(#123)` in the description.
    pub pr: Option<u64>,
    /// Issues from footers.
    pub issues: Vec<IssueRef>,
    /// Who wrote it.
    pub author: AuthorContext,
    /// Escaped scope.
    pub scope_md: Option<String>,
    /// Escaped description, `#123` linked.
    pub description_md: String,
    /// Escaped breaking-change text (may span lines: indent it under a list item).
    pub breaking_md: Option<String>,
    /// `[abc1234](url)` or `abc1234`.
    pub commit_md: String,
    /// `, closes [#45](url), refs [#9](url)` or empty.
    pub references_md: String,
    /// The author per [`AuthorStyle`]; `None` when hidden.
    pub author_md: Option<String>,
}

/// What happened to a commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Shown as an entry (and/or under breaking changes).
    Shown,
    /// Folded into an earlier entry (same pull request or subject).
    Folded,
    /// Cancelled against its revert (or it is the revert) in the same range.
    Cancelled,
    /// A merge commit, skipped.
    Merge,
    /// A `chore(release)` commit, skipped.
    Release,
    /// Its type is in no section.
    HiddenType,
    /// Not conventional, and no "other" section.
    NonConventional,
}

/// Every input commit with all its parsed fields.
#[derive(Clone, Debug, Serialize)]
pub struct CommitContext<'r> {
    /// The full message (raw).
    pub message: &'r str,
    /// Kind, parse (all fields, or the error), revert pairing, own bump.
    #[serde(flatten)]
    pub analyzed: &'r AnalyzedCommit<'r>,
    /// The author.
    pub author: Author<'r>,
    /// What happened to it.
    pub status: Status,
}

/// Builds the context for these releases.
pub fn context<'r>(releases: &'r [ReleaseInput<'_>], config: &Config) -> Context<'r> {
    let repo = config.links.as_ref().map(|l| safe_url(&l.repo_url()));
    Context {
        releases: releases
            .iter()
            .map(|r| release_context(r, config, repo.as_deref()))
            .collect(),
        repository_url: repo,
        breaking_title: config.breaking_title.clone(),
    }
}

fn release_context<'r>(
    release: &'r ReleaseInput<'_>,
    config: &Config,
    repo: Option<&str>,
) -> ReleaseContext<'r> {
    let issue_links = repo.map(|base| IssueLinks { base });
    let mut sections: Vec<SectionContext> = config
        .sections
        .iter()
        .map(|s| SectionContext {
            // Titles come from the configuration (`types`): data, escaped like commit text.
            title: md::escape_text(&s.title, None),
            types: s.types.clone(),
            entries: Vec::new(),
        })
        .collect();
    let other = config.other.as_ref().map(|title| {
        sections.push(SectionContext {
            title: title.clone(),
            types: Vec::new(),
            entries: Vec::new(),
        });
        sections.len() - 1
    });
    let mut breaking = Vec::new();
    let mut commits = Vec::with_capacity(release.commits.len());
    // Fold keys → (section, entry index).
    let mut seen: HashMap<String, (usize, usize)> = HashMap::new();
    let mut place = |item: Item<'_, '_>, author: Author<'_>| -> Status {
        let ty = item.type_();
        let section = match ty {
            Some(ty) => config.section_of(ty, item.parsed.and_then(|p| p.scope)),
            None => other,
        };
        let breaks = config.show_breaking && item.breaking();
        if section.is_none() && !breaks {
            // Shown nowhere: decided without building (and dropping) its entry.
            return if ty.is_some() {
                Status::HiddenType
            } else {
                Status::NonConventional
            };
        }
        let entry = entry(&item, author, config, repo, issue_links);
        if breaks {
            // One entry per note: every `BREAKING CHANGE:` footer is listed.
            for note in &entry.breaking_notes {
                let mut b = entry.clone();
                b.breaking_md = Some(md::escape_text(note, issue_links));
                breaking.push(b);
            }
        }
        let Some(s) = section else {
            return Status::Shown;
        };
        let keys = fold_keys(&entry);
        // Two pull requests with the same title (a bot's "update all dependencies") are two
        // changes: a subject match folds only when one side has no pull request number.
        match keys
            .iter()
            .filter(|_| config.fold_duplicates)
            .filter_map(|k| seen.get(k).copied())
            .find(|&(s0, e0)| match (sections[s0].entries[e0].pr, entry.pr) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }) {
            Some((s0, e0)) => {
                let kept = &mut sections[s0].entries[e0];
                kept.ids.push(entry.id.clone());
                for i in entry.issues {
                    if !kept.issues.contains(&i) {
                        kept.issues.push(i);
                    }
                }
                kept.references_md = references_md(&kept.issues);
                Status::Folded
            }
            None => {
                for k in keys {
                    seen.entry(k).or_insert((s, sections[s].entries.len()));
                }
                sections[s].entries.push(entry);
                Status::Shown
            }
        }
    };

    for rc in &release.commits {
        let c = &rc.commit;
        let status = if c.is_cancelled() {
            Status::Cancelled
        } else if c.kind == Kind::Merge && config.skip_merges {
            Status::Merge
        } else if config.skip_release_commits && c.commit().is_some_and(is_release_commit) {
            Status::Release
        } else {
            let own = place(
                Item {
                    c,
                    parsed: c.commit(),
                },
                rc.author,
            );
            // Each commit of a squash-merge body is its own entry (`squash_bodies`).
            c.squashed.iter().fold(own, |status, sq| {
                let theirs = place(
                    Item {
                        c,
                        parsed: Some(&sq.commit),
                    },
                    rc.author,
                );
                match (status, theirs) {
                    (Status::Shown, _) | (_, Status::Shown) => Status::Shown,
                    (Status::Folded, _) | (_, Status::Folded) => Status::Folded,
                    (status, _) => status,
                }
            })
        };
        commits.push(CommitContext {
            message: c.message,
            analyzed: c,
            author: rc.author,
            status,
        });
    }

    if config.sort_by_scope {
        for s in &mut sections {
            // conventional-changelog's `commitsSort: ['scope', 'subject']`, unscoped last.
            s.entries.sort_by(|a, b| {
                (a.scope.is_none(), &a.scope, &a.description).cmp(&(
                    b.scope.is_none(),
                    &b.scope,
                    &b.description,
                ))
            });
        }
    }
    sections.retain(|s| !s.entries.is_empty());
    let version = release.version.as_ref().map(ToString::to_string);
    let compare_url = repo.and_then(|repo| match (&release.previous_tag, &release.tag) {
        (Some(prev), tag) => Some(safe_url(&format!(
            "{repo}/compare/{prev}...{}",
            tag.as_deref().unwrap_or("HEAD")
        ))),
        (None, Some(tag)) => Some(safe_url(&format!("{repo}/tree/{tag}"))),
        (None, None) => None,
    });
    ReleaseContext {
        title: version.clone().unwrap_or_else(|| "Unreleased".to_owned()),
        version,
        date: release.date.clone(),
        tag: release.tag.clone(),
        previous_tag: release.previous_tag.clone(),
        compare_url,
        is_empty: breaking.is_empty() && sections.is_empty(),
        breaking,
        sections,
        commits,
    }
}

/// What one changelog entry is made from: a commit, or one commit of its squash-merge
/// body (then `parsed` is that commit's parse).
#[derive(Clone, Copy)]
struct Item<'c, 'a> {
    c: &'c AnalyzedCommit<'a>,
    parsed: Option<&'c Commit<'a>>,
}

impl<'a> Item<'_, 'a> {
    /// Its type: its own, `revert` for reverts that are not conventional, or none.
    fn type_(&self) -> Option<&'a str> {
        match (self.parsed, self.c.kind) {
            (Some(p), _) => Some(p.type_),
            (None, Kind::GitRevert) => Some("revert"),
            (None, _) => None,
        }
    }

    /// A breaking change that is not cancelled.
    fn breaking(&self) -> bool {
        !self.c.is_cancelled() && self.parsed.is_some_and(|p| p.breaking)
    }
}

fn is_release_commit(c: &Commit<'_>) -> bool {
    c.is_type("chore") && c.scope.is_some_and(|s| s.eq_ignore_ascii_case("release"))
}

fn entry(
    item: &Item<'_, '_>,
    author: Author<'_>,
    config: &Config,
    repo: Option<&str>,
    issue_links: Option<IssueLinks<'_>>,
) -> Entry {
    let c = item.c;
    let parsed = item.parsed;
    let type_ = item.type_().map(str::to_owned);
    let breaking_notes: Vec<String> = match parsed {
        Some(p) if item.breaking() => p.breaking_notes().into_iter().map(str::to_owned).collect(),
        _ => Vec::new(),
    };
    let description = match (parsed, c.kind) {
        (Some(p), _) => p.description,
        (None, Kind::GitRevert) => c
            .revert
            .as_ref()
            .and_then(|r| r.subject)
            .unwrap_or(c.summary),
        (None, _) => c.summary,
    };
    let scope = parsed.and_then(|p| p.scope);
    let issues = parsed.map(|p| issue_refs(p, repo)).unwrap_or_default();
    let short_id: String = c.id.chars().take(7).collect();
    let url = repo.map(|r| safe_url(&format!("{r}/commit/{}", c.id)));
    let commit_md = match &url {
        Some(u) => format!("[{}]({u})", md::escape_text(&short_id, None)),
        None => md::escape_text(&short_id, None),
    };
    let author_md = author_md(author, config);
    Entry {
        id: c.id.to_owned(),
        short_id,
        url,
        ids: vec![c.id.to_owned()],
        type_,
        scope: scope.map(str::to_owned),
        description: description.to_owned(),
        body: parsed.and_then(|p| p.body).map(str::to_owned),
        breaking: item.breaking(),
        breaking_description: parsed
            .and_then(|p| p.breaking_description)
            .map(str::to_owned),
        breaking_notes_md: breaking_notes
            .iter()
            .map(|n| md::escape_text(n, issue_links))
            .collect(),
        breaking_notes,
        pr: trailing_pr(description),
        references_md: references_md(&issues),
        issues,
        author: AuthorContext {
            name: author.name.to_owned(),
            email: author.email.to_owned(),
            login: author.login.map(str::to_owned),
        },
        scope_md: scope.map(|s| md::escape_text(s, None)),
        description_md: md::escape_text(description, issue_links),
        breaking_md: None,
        commit_md,
        author_md,
    }
}

/// The author as [`Config::authors`] asks; `None` when hidden.
fn author_md(author: Author<'_>, config: &Config) -> Option<String> {
    let name = || md::escape_text(author.name, None);
    Some(match (config.authors, author.login) {
        (AuthorStyle::Hidden, _) => return None,
        (AuthorStyle::Name, _) | (_, None) => name(),
        (AuthorStyle::Login, Some(login)) => inert_login(login),
        (AuthorStyle::Mention, Some(login)) => {
            if is_plain_login(login) {
                format!("@{login}")
            } else {
                inert_login(login)
            }
        }
        (AuthorStyle::ProfileLink, Some(login)) => match &config.links {
            Some(links) => format!(
                "[{}]({})",
                md::escape_text(login, None),
                safe_url(&format!(
                    "{}/{login}",
                    links.server_url.trim_end_matches('/')
                ))
            ),
            None => md::escape_text(login, None),
        },
    })
}

/// `@login` that pings nobody: the `@` broken as every escaped mention is.
fn inert_login(login: &str) -> String {
    format!("@{}{}", md::MENTION_BREAK, md::escape_text(login, None))
}

/// A GitHub user name: letters, digits and single inner hyphens, at most 39 characters.
fn is_plain_login(login: &str) -> bool {
    !login.is_empty()
        && login.len() <= 39
        && login
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !login.starts_with('-')
        && !login.ends_with('-')
        && !login.contains("--")
}

/// `123` from a description ending in `(#123)`.
fn trailing_pr(description: &str) -> Option<u64> {
    let inner = description.trim_end().strip_suffix(')')?;
    let open = inner.rfind("(#")?;
    inner[open + 2..].parse().ok()
}

/// Keys under which an entry folds with another: its type and pull request, and its type,
/// scope and normalised description (lower case, whitespace collapsed, `(#123)` removed).
fn fold_keys(e: &Entry) -> Vec<String> {
    let mut desc = e.description.as_str().trim_end();
    if e.pr.is_some()
        && let Some(open) = desc.rfind("(#")
    {
        desc = desc[..open].trim_end();
    }
    let norm: Vec<String> = desc.split_whitespace().map(str::to_lowercase).collect();
    let mut keys = vec![format!(
        "s:{}|{}|{}",
        e.type_.as_deref().unwrap_or("").to_ascii_lowercase(),
        e.scope.as_deref().unwrap_or("").to_lowercase(),
        norm.join(" ")
    )];
    // The same pull request and type: a squash commit and a differently worded copy. Not
    // across types: tools that rebase-merge a pull request append its number to each commit
    // (`fix: … (#33715)`, `perf: … (#33715)`), and those are different changes.
    if let Some(pr) = e.pr {
        keys.push(format!(
            "p:{}|{pr}",
            e.type_.as_deref().unwrap_or("").to_ascii_lowercase()
        ));
    }
    keys
}

const CLOSING: [&str; 9] = [
    "close", "closes", "closed", "fix", "fixes", "fixed", "resolve", "resolves", "resolved",
];
const REFERRING: [&str; 5] = ["ref", "refs", "references", "see", "related"];

fn issue_refs(c: &Commit<'_>, repo: Option<&str>) -> Vec<IssueRef> {
    let mut out: Vec<IssueRef> = Vec::new();
    for f in &c.footers {
        let token = f.token.to_ascii_lowercase();
        let action = if CLOSING.contains(&token.as_str()) {
            "closes"
        } else if REFERRING.contains(&token.as_str()) {
            "refs"
        } else {
            continue;
        };
        let mut numbers = Vec::new();
        let v = f.value.as_bytes();
        if f.separator == Separator::Hash {
            let d = v.iter().take_while(|c| c.is_ascii_digit()).count();
            numbers.extend(f.value[..d].parse::<u64>().ok());
        }
        for (i, _) in f.value.match_indices('#') {
            let before_ok = i == 0
                || !(v[i - 1].is_ascii_alphanumeric() || matches!(v[i - 1], b'/' | b'_' | b'&'));
            let d = v[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if before_ok && d > 0 {
                numbers.extend(f.value[i + 1..i + 1 + d].parse::<u64>().ok());
            }
        }
        for number in numbers {
            let r = IssueRef {
                action: action.to_owned(),
                number,
                url: repo.map(|r| format!("{r}/issues/{number}")),
            };
            if !out.contains(&r) {
                out.push(r);
            }
        }
    }
    out
}

fn references_md(issues: &[IssueRef]) -> String {
    let mut out = String::new();
    let mut actions: Vec<&str> = Vec::new();
    for i in issues {
        if !actions.contains(&i.action.as_str()) {
            actions.push(&i.action);
        }
    }
    for action in actions {
        out.push_str(", ");
        out.push_str(action);
        for i in issues.iter().filter(|i| i.action == action) {
            match &i.url {
                Some(u) => out.push_str(&format!(" [#{}]({u})", i.number)),
                None => out.push_str(&format!(" #{}", i.number)),
            }
        }
    }
    out
}

/// Percent-encodes what could end a Markdown link destination or inject markup
/// (spaces, controls, `()<>[]"'\` `` ` `` and non-ASCII).
pub(crate) fn safe_url(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    for b in url.bytes() {
        if b.is_ascii_graphic()
            && !matches!(
                b,
                b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'"' | b'\'' | b'\\' | b'`'
            )
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_cannot_break_out() {
        assert_eq!(
            safe_url("https://x/o/r/compare/v1...v2) <b>"),
            "https://x/o/r/compare/v1...v2%29%20%3Cb%3E"
        );
        assert_eq!(
            safe_url("https://x/tree/api@1.2.3"),
            "https://x/tree/api@1.2.3"
        );
    }

    #[test]
    fn pr_numbers() {
        assert_eq!(trailing_pr("add x (#123)"), Some(123));
        assert_eq!(trailing_pr("add x (#123) "), Some(123));
        assert_eq!(trailing_pr("add (x)"), None);
        assert_eq!(trailing_pr("add x (#12a)"), None);
    }
}
