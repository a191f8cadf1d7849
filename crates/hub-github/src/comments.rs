//! Issue and pull-request comments, and the sticky comment each action keeps per thread.

use http::Method;
use serde::Deserialize;
use serde_json::json;

use crate::{Error, Event, GitHub, Permission, Repository};

/// Where a comment goes: a pull request or an issue (both through the issues API; the
/// permission the token needs differs), or a commit (the commit comments API, for runs that
/// no pull request triggered: `push`, `release`, `deployment`, `workflow_dispatch`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Thread {
    PullRequest(u64),
    Issue(u64),
    /// A commit, by its sha (the full 40 or 64 hex digits, as in `GITHUB_SHA`).
    Commit(String),
}

impl Thread {
    /// The issue or pull request number; `None` for a commit.
    #[must_use]
    pub fn number(&self) -> Option<u64> {
        match self {
            Thread::PullRequest(n) | Thread::Issue(n) => Some(*n),
            Thread::Commit(_) => None,
        }
    }

    /// `pull request #7`, `issue #3` or `commit 0123abc` (the sha shortened to 7 digits).
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Thread::PullRequest(n) => format!("pull request #{n}"),
            Thread::Issue(n) => format!("issue #{n}"),
            Thread::Commit(sha) => format!("commit {}", sha.chars().take(7).collect::<String>()),
        }
    }

    fn read(&self) -> Permission {
        match self {
            Thread::PullRequest(_) => Permission::PullRequestsRead,
            Thread::Issue(_) => Permission::IssuesRead,
            Thread::Commit(_) => Permission::ContentsRead,
        }
    }

    fn write(&self) -> Permission {
        match self {
            Thread::PullRequest(_) => Permission::PullRequestsWrite,
            Thread::Issue(_) => Permission::IssuesWrite,
            Thread::Commit(_) => Permission::ContentsWrite,
        }
    }

    /// The collection comments are listed from and posted to.
    fn comments_path(&self, repo: &Repository) -> String {
        match self {
            Thread::PullRequest(n) | Thread::Issue(n) => {
                format!("{}/issues/{n}/comments", repo.api_path())
            }
            Thread::Commit(sha) => format!(
                "{}/commits/{}/comments",
                repo.api_path(),
                crate::client::encode_segment(sha)
            ),
        }
    }

    /// One comment of this kind of thread, for edits.
    fn comment_path(&self, repo: &Repository, id: u64) -> String {
        match self {
            Thread::PullRequest(_) | Thread::Issue(_) => {
                format!("{}/issues/comments/{id}", repo.api_path())
            }
            Thread::Commit(_) => format!("{}/comments/{id}", repo.api_path()),
        }
    }
}

/// Where an action's comment about this run goes: the pull request for `pull_request` and
/// `pull_request_target` events; otherwise the commit the run is for. That commit is the
/// one the event's payload names (`after` of a push, `sha` of a deployment), else
/// `github_sha` (`GITHUB_SHA`). A `release` payload names no commit (its `target_commitish`
/// may be a branch that has moved on since), so a release comments on `GITHUB_SHA`, the
/// last commit of the released tag. `None` when neither names a commit.
#[must_use]
pub fn comment_thread(event: Option<&Event>, github_sha: Option<&str>) -> Option<Thread> {
    if let Some(number) = event.and_then(Event::pull_request_number) {
        return Some(Thread::PullRequest(number));
    }
    let is_sha = |s: &&str| {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit()) && s.bytes().any(|b| b != b'0')
    };
    event
        .and_then(Event::sha)
        .map(str::trim)
        .filter(is_sha)
        .or_else(|| github_sha.map(str::trim).filter(is_sha))
        .map(|sha| Thread::Commit(sha.to_ascii_lowercase()))
}

/// A comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub id: u64,
    pub body: String,
    pub html_url: String,
    /// The author's login (`github-actions[bot]` for the workflow token).
    pub author: Option<String>,
}

#[derive(Deserialize)]
struct RawUser {
    login: String,
}

#[derive(Deserialize)]
struct RawComment {
    id: u64,
    #[serde(default)]
    body: Option<String>,
    html_url: String,
    user: Option<RawUser>,
}

impl From<RawComment> for Comment {
    fn from(raw: RawComment) -> Self {
        Comment {
            id: raw.id,
            body: raw.body.unwrap_or_default(),
            html_url: raw.html_url,
            author: raw.user.map(|u| u.login),
        }
    }
}

/// What [`GitHub::upsert_sticky_comment`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StickyOutcome {
    /// No comment of this action existed; one was created.
    Created(Comment),
    /// The action's comment was edited in place.
    Updated(Comment),
    /// The action's comment already said exactly this; nothing was sent.
    Unchanged(Comment),
}

impl StickyOutcome {
    /// The comment as it now stands.
    #[must_use]
    pub fn comment(&self) -> &Comment {
        match self {
            StickyOutcome::Created(c) | StickyOutcome::Updated(c) | StickyOutcome::Unchanged(c) => {
                c
            }
        }
    }
}

/// The hidden marker that identifies an action's sticky comment: `<!-- hub-actions:NAME -->`.
///
/// # Errors
/// [`Error::InvalidMarkerName`] unless `action` is ASCII letters, digits, `-`, `_` or `.` (so
/// it can never close the HTML comment early).
pub fn sticky_marker(action: &str) -> Result<String, Error> {
    let valid = !action.is_empty()
        && action
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !valid {
        return Err(Error::InvalidMarkerName {
            name: action.to_owned(),
        });
    }
    Ok(format!("<!-- hub-actions:{action} -->"))
}

/// The body as posted: marker line first, then the text.
fn sticky_body(marker: &str, body: &str) -> String {
    format!("{marker}\n{body}")
}

fn is_sticky(comment: &Comment, marker: &str) -> bool {
    comment.body.trim_start().starts_with(marker)
}

impl GitHub {
    /// Every comment of the thread, oldest first, across all pages.
    ///
    /// # Errors
    /// On refusal or transport failure.
    pub async fn list_comments(
        &self,
        repo: &Repository,
        thread: Thread,
    ) -> Result<Vec<Comment>, Error> {
        let raw: Vec<RawComment> = self
            .get_all(&thread.comments_path(repo), thread.read())
            .await?;
        Ok(raw.into_iter().map(Comment::from).collect())
    }

    /// The sticky comment of `action` in the thread, paging until it is found.
    ///
    /// # Errors
    /// On an invalid action name, refusal or transport failure.
    pub async fn find_sticky_comment(
        &self,
        repo: &Repository,
        thread: Thread,
        action: &str,
    ) -> Result<Option<Comment>, Error> {
        let marker = sticky_marker(action)?;
        let mut found = None;
        self.walk_pages(
            &thread.comments_path(repo),
            thread.read(),
            |page: Vec<RawComment>| {
                found = page
                    .into_iter()
                    .map(Comment::from)
                    .find(|c| is_sticky(c, &marker));
                found.is_some()
            },
        )
        .await?;
        Ok(found)
    }

    /// Posts a comment.
    ///
    /// # Errors
    /// On refusal (the token needs `pull-requests: write`, `issues: write`, or `contents:
    /// write` on a commit; GitHub answers 422 for a commit it does not have) or transport
    /// failure.
    pub async fn create_comment(
        &self,
        repo: &Repository,
        thread: Thread,
        body: &str,
    ) -> Result<Comment, Error> {
        let raw: RawComment = self
            .call(
                Method::POST,
                &thread.comments_path(repo),
                Some(&json!({ "body": body })),
                thread.write(),
            )
            .await?;
        Ok(raw.into())
    }

    /// Replaces the body of comment `id` (of the given thread).
    ///
    /// # Errors
    /// On refusal or transport failure.
    pub async fn update_comment(
        &self,
        repo: &Repository,
        thread: Thread,
        id: u64,
        body: &str,
    ) -> Result<Comment, Error> {
        let raw: RawComment = self
            .call(
                Method::PATCH,
                &thread.comment_path(repo, id),
                Some(&json!({ "body": body })),
                thread.write(),
            )
            .await?;
        Ok(raw.into())
    }

    /// Keeps one comment per (thread, action): created on the first run, edited in place on
    /// later runs, left alone when the text is the same. The comment starts with the hidden
    /// marker `<!-- hub-actions:ACTION -->`.
    ///
    /// # Errors
    /// On an invalid action name, refusal or transport failure.
    pub async fn upsert_sticky_comment(
        &self,
        repo: &Repository,
        thread: Thread,
        action: &str,
        body: &str,
    ) -> Result<StickyOutcome, Error> {
        let marker = sticky_marker(action)?;
        let wanted = sticky_body(&marker, body);
        match self
            .find_sticky_comment(repo, thread.clone(), action)
            .await?
        {
            Some(existing) if existing.body == wanted => Ok(StickyOutcome::Unchanged(existing)),
            Some(existing) => Ok(StickyOutcome::Updated(
                self.update_comment(repo, thread, existing.id, &wanted)
                    .await?,
            )),
            None => Ok(StickyOutcome::Created(
                self.create_comment(repo, thread, &wanted).await?,
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_hidden_and_safe() {
        assert_eq!(
            sticky_marker("semver-bump").expect("valid"),
            "<!-- hub-actions:semver-bump -->"
        );
        assert!(matches!(
            sticky_marker("x -->"),
            Err(Error::InvalidMarkerName { .. })
        ));
        assert!(sticky_marker("").is_err());
    }

    #[test]
    fn only_comments_that_start_with_the_marker_are_sticky() {
        let marker = sticky_marker("a").expect("valid");
        let comment = |body: &str| Comment {
            id: 1,
            body: body.to_owned(),
            html_url: String::new(),
            author: None,
        };
        assert!(is_sticky(&comment(&sticky_body(&marker, "hi")), &marker));
        assert!(!is_sticky(&comment(&format!("> quoted {marker}")), &marker));
        let other = sticky_marker("b").expect("valid");
        assert!(!is_sticky(&comment(&sticky_body(&other, "hi")), &marker));
    }

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    fn event(name: &str, payload: &str) -> Event {
        Event::parse(name, payload).expect("parses")
    }

    #[test]
    fn pull_requests_comment_on_the_pull_request_other_events_on_the_commit() {
        let pr = event(
            "pull_request",
            r#"{"action":"opened","pull_request":{"number":7,"head":{"sha":"h1","ref":"t"},
                "base":{"sha":"b1","ref":"main"}}}"#,
        );
        assert_eq!(
            comment_thread(Some(&pr), Some(SHA)),
            Some(Thread::PullRequest(7))
        );
        let push = event(
            "push",
            r#"{"ref":"refs/heads/main","after":"ABCDEF1234567890ABCDEF1234567890ABCDEF12"}"#,
        );
        assert_eq!(
            comment_thread(Some(&push), Some(SHA)),
            Some(Thread::Commit(
                "abcdef1234567890abcdef1234567890abcdef12".to_owned()
            )),
            "the pushed commit, not GITHUB_SHA"
        );
        let deleted = event(
            "push",
            r#"{"ref":"refs/heads/x","after":"0000000000000000000000000000000000000000",
                "deleted":true}"#,
        );
        assert_eq!(
            comment_thread(Some(&deleted), Some(SHA)),
            Some(Thread::Commit(SHA.to_owned()))
        );
        // A release's target_commitish may be a branch: GITHUB_SHA (the tag's commit) it is.
        let release = event(
            "release",
            r#"{"action":"published","release":{"tag_name":"v1.0.0","target_commitish":"main"}}"#,
        );
        assert_eq!(
            comment_thread(Some(&release), Some(SHA)),
            Some(Thread::Commit(SHA.to_owned()))
        );
        let deployment = event(
            "deployment",
            r#"{"deployment":{"id":1,"sha":"fedcba9876543210fedcba9876543210fedcba98","ref":"main"}}"#,
        );
        assert_eq!(
            comment_thread(Some(&deployment), None),
            Some(Thread::Commit(
                "fedcba9876543210fedcba9876543210fedcba98".to_owned()
            ))
        );
        assert_eq!(
            comment_thread(None, Some(&format!(" {SHA}\n"))),
            Some(Thread::Commit(SHA.to_owned()))
        );
        // Nothing names a commit (or only something that is not one): no thread.
        assert_eq!(comment_thread(Some(&release), None), None);
        assert_eq!(comment_thread(None, Some("main")), None);
        assert_eq!(comment_thread(None, Some("")), None);
    }

    #[test]
    fn threads_describe_themselves_and_route_to_their_api() {
        let repo = Repository::new("o", "r");
        let commit = Thread::Commit(SHA.to_owned());
        assert_eq!(commit.describe(), "commit 0123456");
        assert_eq!(commit.number(), None);
        assert_eq!(
            commit.comments_path(&repo),
            format!("/repos/o/r/commits/{SHA}/comments")
        );
        assert_eq!(commit.comment_path(&repo, 9), "/repos/o/r/comments/9");
        assert_eq!(commit.write(), Permission::ContentsWrite);
        let pr = Thread::PullRequest(4);
        assert_eq!(pr.describe(), "pull request #4");
        assert_eq!(pr.number(), Some(4));
        assert_eq!(pr.comments_path(&repo), "/repos/o/r/issues/4/comments");
        assert_eq!(pr.comment_path(&repo, 9), "/repos/o/r/issues/comments/9");
        assert_eq!(Thread::Issue(3).describe(), "issue #3");
    }
}
