//! Issue and pull-request comments, and the sticky comment each action keeps per thread.

use http::Method;
use serde::Deserialize;
use serde_json::json;

use crate::{Error, GitHub, Permission, Repository};

/// Where a comment goes: a pull request or an issue (comments on both use the issues API; the
/// permission the token needs differs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Thread {
    PullRequest(u64),
    Issue(u64),
}

impl Thread {
    /// The issue or pull request number.
    #[must_use]
    pub fn number(self) -> u64 {
        match self {
            Thread::PullRequest(n) | Thread::Issue(n) => n,
        }
    }

    fn read(self) -> Permission {
        match self {
            Thread::PullRequest(_) => Permission::PullRequestsRead,
            Thread::Issue(_) => Permission::IssuesRead,
        }
    }

    fn write(self) -> Permission {
        match self {
            Thread::PullRequest(_) => Permission::PullRequestsWrite,
            Thread::Issue(_) => Permission::IssuesWrite,
        }
    }
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
    fn comments_path(repo: &Repository, thread: Thread) -> String {
        format!("{}/issues/{}/comments", repo.api_path(), thread.number())
    }

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
            .get_all(&Self::comments_path(repo, thread), thread.read())
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
            &Self::comments_path(repo, thread),
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
    /// On refusal (the token needs `pull-requests: write` or `issues: write`) or transport
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
                &Self::comments_path(repo, thread),
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
                &format!("{}/issues/comments/{id}", repo.api_path()),
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
        match self.find_sticky_comment(repo, thread, action).await? {
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
}
