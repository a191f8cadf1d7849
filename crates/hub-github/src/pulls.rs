//! Pull requests: find (by head branch, by a commit), read, create, update, close with a
//! comment, merge — what release-pr's lifecycle needs.
//!
//! A pull request is recognised by a hidden marker in its body ([`PullRequest::has_marker`]),
//! never by labels alone.

use http::Method;
use serde::Deserialize;
use serde_json::json;

use crate::client::{encode_segment, refusal};
use crate::{Error, GitHub, Permission, Repository, Thread};

/// A pull request as the lifecycle sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    pub number: u64,
    pub title: String,
    /// The body; empty when GitHub has none.
    pub body: String,
    /// `open` or `closed` (a merged pull request is `closed` with [`PullRequest::merged_at`]).
    pub state: String,
    pub draft: bool,
    /// The head branch (`release-pr/main`, without `refs/heads/`).
    pub head_ref: String,
    /// The head commit.
    pub head_sha: String,
    /// The base branch.
    pub base_ref: String,
    pub html_url: String,
    /// When it was merged (RFC 3339), `None` while not merged.
    pub merged_at: Option<String>,
    /// The merge commit (for a merged pull request, the commit on the base branch), or the
    /// test merge commit GitHub keeps for an open one.
    pub merge_commit_sha: Option<String>,
    /// The author's login.
    pub author: Option<String>,
}

impl PullRequest {
    /// Whether it is merged.
    #[must_use]
    pub fn is_merged(&self) -> bool {
        self.merged_at.is_some()
    }

    /// Whether it is open.
    #[must_use]
    pub fn is_open(&self) -> bool {
        self.state == "open"
    }

    /// Whether the body holds the hidden marker `<!-- hub-release-pr:{key} -->` (see
    /// [`release_pr_marker`]).
    #[must_use]
    pub fn has_marker(&self, key: &str) -> bool {
        self.body.contains(&release_pr_marker(key))
    }
}

/// The hidden marker that recognises a release pull request in its body:
/// `<!-- hub-release-pr:{key} -->` (`key` such as the base branch or a package).
#[must_use]
pub fn release_pr_marker(key: &str) -> String {
    // `--` cannot end the comment early: it is the only sequence that would.
    format!("<!-- hub-release-pr:{} -->", key.replace("--", "- -"))
}

/// A pull request to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPullRequest {
    pub title: String,
    pub body: String,
    /// The branch with the changes (of the same repository).
    pub head: String,
    /// The branch to merge into.
    pub base: String,
    pub draft: bool,
}

/// Changes to a pull request; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PullRequestUpdate {
    pub title: Option<String>,
    pub body: Option<String>,
    pub base: Option<String>,
}

/// Which pull requests to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullState {
    Open,
    Closed,
    All,
}

impl PullState {
    fn as_str(self) -> &'static str {
        match self {
            PullState::Open => "open",
            PullState::Closed => "closed",
            PullState::All => "all",
        }
    }
}

/// How [`GitHub::merge_pull_request`] merges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeMethod {
    Merge,
    Squash,
    Rebase,
}

impl MergeMethod {
    fn as_str(self) -> &'static str {
        match self {
            MergeMethod::Merge => "merge",
            MergeMethod::Squash => "squash",
            MergeMethod::Rebase => "rebase",
        }
    }
}

#[derive(Deserialize)]
struct RawUser {
    login: String,
}

#[derive(Deserialize)]
struct RawBranch {
    #[serde(rename = "ref")]
    name: String,
    sha: String,
}

#[derive(Deserialize)]
struct RawPull {
    number: u64,
    title: String,
    body: Option<String>,
    state: String,
    #[serde(default)]
    draft: Option<bool>,
    head: RawBranch,
    base: RawBranch,
    html_url: String,
    merged_at: Option<String>,
    merge_commit_sha: Option<String>,
    user: Option<RawUser>,
}

impl From<RawPull> for PullRequest {
    fn from(raw: RawPull) -> Self {
        PullRequest {
            number: raw.number,
            title: raw.title,
            body: raw.body.unwrap_or_default(),
            state: raw.state,
            draft: raw.draft.unwrap_or(false),
            head_ref: raw.head.name,
            head_sha: raw.head.sha,
            base_ref: raw.base.name,
            html_url: raw.html_url,
            merged_at: raw.merged_at,
            merge_commit_sha: raw.merge_commit_sha,
            author: raw.user.map(|u| u.login),
        }
    }
}

#[derive(Deserialize)]
struct RawMerge {
    sha: String,
}

/// The repository's facts the actions use (`GET /repos/{owner}/{repo}`).
#[derive(Deserialize)]
pub(crate) struct RawRepository {
    pub(crate) default_branch: String,
    /// Its GraphQL node id (GraphQL mutations name the repository by it).
    pub(crate) node_id: String,
}

/// Encodes a query value (branch names may hold `+`, `&`, `#`).
fn encode_query(value: &str) -> String {
    encode_segment(value)
}

impl GitHub {
    /// The repository's default branch (`GET /repos/{owner}/{repo}`): release-pr's release
    /// branch when neither its input nor the event payload names one.
    ///
    /// # Errors
    /// When the repository cannot be read (404 for a private one the token cannot see), on
    /// refusal or transport failure.
    pub async fn default_branch(&self, repo: &Repository) -> Result<String, Error> {
        Ok(self.repository(repo).await?.default_branch)
    }

    /// The repository itself (one `GET /repos/{owner}/{repo}`).
    pub(crate) async fn repository(&self, repo: &Repository) -> Result<RawRepository, Error> {
        self.call(
            Method::GET,
            &repo.api_path(),
            None,
            Permission::ContentsRead,
        )
        .await
    }

    /// Pull request `number`.
    ///
    /// # Errors
    /// When it does not exist, on refusal (the token needs `pull-requests: read`) or transport
    /// failure.
    pub async fn pull_request(&self, repo: &Repository, number: u64) -> Result<PullRequest, Error> {
        let path = format!("{}/pulls/{number}", repo.api_path());
        let raw: RawPull = self
            .call(Method::GET, &path, None, Permission::PullRequestsRead)
            .await?;
        Ok(raw.into())
    }

    /// The pull requests whose head is `branch` of this repository, newest first.
    ///
    /// # Errors
    /// On refusal (the token needs `pull-requests: read`) or transport failure.
    pub async fn pull_requests_by_head(
        &self,
        repo: &Repository,
        branch: &str,
        state: PullState,
    ) -> Result<Vec<PullRequest>, Error> {
        let path = format!(
            "{}/pulls?state={}&head={}",
            repo.api_path(),
            state.as_str(),
            encode_query(&format!("{}:{branch}", repo.owner)),
        );
        let raw: Vec<RawPull> = self.get_all(&path, Permission::PullRequestsRead).await?;
        Ok(raw.into_iter().map(PullRequest::from).collect())
    }

    /// The newest pull requests (at most 100, open and closed) whose head is `branch`: one
    /// request however many there were — release-pr's branch keeps one pull request per
    /// release, and only the latest matter to it.
    ///
    /// # Errors
    /// On refusal (the token needs `pull-requests: read`) or transport failure.
    pub async fn recent_pull_requests_by_head(
        &self,
        repo: &Repository,
        branch: &str,
    ) -> Result<Vec<PullRequest>, Error> {
        let path = format!(
            "{}/pulls?state=all&sort=created&direction=desc&per_page=100&head={}",
            repo.api_path(),
            encode_query(&format!("{}:{branch}", repo.owner)),
        );
        let raw: Vec<RawPull> = self
            .call(Method::GET, &path, None, Permission::PullRequestsRead)
            .await?;
        Ok(raw.into_iter().map(PullRequest::from).collect())
    }

    /// The pull requests commit `sha` belongs to (`GET /commits/{sha}/pulls`): for a merge or
    /// squash commit on the base branch, the pull request it came from.
    ///
    /// # Errors
    /// On refusal (the token needs `pull-requests: read`) or transport failure.
    pub async fn pull_requests_of_commit(
        &self,
        repo: &Repository,
        sha: &str,
    ) -> Result<Vec<PullRequest>, Error> {
        let path = format!("{}/commits/{}/pulls", repo.api_path(), encode_segment(sha));
        let raw: Vec<RawPull> = self.get_all(&path, Permission::PullRequestsRead).await?;
        Ok(raw.into_iter().map(PullRequest::from).collect())
    }

    /// The merged pull request commit `sha` came from, if any: the one whose merge commit it
    /// is, else a merged one that contains it.
    ///
    /// # Errors
    /// As [`GitHub::pull_requests_of_commit`].
    pub async fn merged_pull_request_of_commit(
        &self,
        repo: &Repository,
        sha: &str,
    ) -> Result<Option<PullRequest>, Error> {
        let pulls = self.pull_requests_of_commit(repo, sha).await?;
        let by_merge = pulls
            .iter()
            .position(|p| p.is_merged() && p.merge_commit_sha.as_deref() == Some(sha));
        let index = by_merge.or_else(|| pulls.iter().position(PullRequest::is_merged));
        Ok(index.map(|i| pulls[i].clone()))
    }

    /// Opens a pull request.
    ///
    /// # Errors
    /// [`Error::ActionsMayNotCreatePullRequests`] when the repository forbids the workflow's
    /// token to; on other refusals (the token needs `pull-requests: write`) or transport
    /// failure.
    pub async fn create_pull_request(
        &self,
        repo: &Repository,
        pull: &NewPullRequest,
    ) -> Result<PullRequest, Error> {
        let path = format!("{}/pulls", repo.api_path());
        let body = json!({
            "title": pull.title,
            "body": pull.body,
            "head": pull.head,
            "base": pull.base,
            "draft": pull.draft,
        });
        let raw: RawPull = self
            .call(
                Method::POST,
                &path,
                Some(&body),
                Permission::PullRequestsWrite,
            )
            .await?;
        Ok(raw.into())
    }

    /// Changes the title, body or base of pull request `number`.
    ///
    /// # Errors
    /// On refusal (the token needs `pull-requests: write`) or transport failure.
    pub async fn update_pull_request(
        &self,
        repo: &Repository,
        number: u64,
        update: &PullRequestUpdate,
    ) -> Result<PullRequest, Error> {
        let mut body = json!({});
        if let Some(title) = &update.title {
            body["title"] = json!(title);
        }
        if let Some(text) = &update.body {
            body["body"] = json!(text);
        }
        if let Some(base) = &update.base {
            body["base"] = json!(base);
        }
        self.patch_pull(repo, number, &body).await
    }

    /// Adds `labels` to pull request (or issue) `number` (`POST issues/{n}/labels`); labels
    /// it already has stay.
    ///
    /// # Errors
    /// On refusal (the token needs `pull-requests: write`) or transport failure.
    pub async fn add_labels(
        &self,
        repo: &Repository,
        number: u64,
        labels: &[String],
    ) -> Result<(), Error> {
        if labels.is_empty() {
            return Ok(());
        }
        let path = format!("{}/issues/{number}/labels", repo.api_path());
        let _: serde_json::Value = self
            .call(
                Method::POST,
                &path,
                Some(&json!({ "labels": labels })),
                Permission::PullRequestsWrite,
            )
            .await?;
        Ok(())
    }

    /// Closes pull request `number` without merging, after posting `comment` on it (when not
    /// blank) so its readers learn why.
    ///
    /// # Errors
    /// On refusal (the token needs `pull-requests: write`) or transport failure.
    pub async fn close_pull_request(
        &self,
        repo: &Repository,
        number: u64,
        comment: Option<&str>,
    ) -> Result<PullRequest, Error> {
        if let Some(text) = comment.filter(|c| !c.trim().is_empty()) {
            self.create_comment(repo, Thread::PullRequest(number), text)
                .await?;
        }
        self.patch_pull(repo, number, &json!({ "state": "closed" }))
            .await
    }

    async fn patch_pull(
        &self,
        repo: &Repository,
        number: u64,
        body: &serde_json::Value,
    ) -> Result<PullRequest, Error> {
        let path = format!("{}/pulls/{number}", repo.api_path());
        let raw: RawPull = self
            .call(
                Method::PATCH,
                &path,
                Some(body),
                Permission::PullRequestsWrite,
            )
            .await?;
        Ok(raw.into())
    }

    /// Merges pull request `number`; with `expected_head`, only if its head is still that
    /// commit. Returns the merge (or squash) commit.
    ///
    /// # Errors
    /// On refusal (not mergeable, head moved: [`Error::Rejected`] with GitHub's message; the
    /// token needs `contents: write`) or transport failure.
    pub async fn merge_pull_request(
        &self,
        repo: &Repository,
        number: u64,
        method: MergeMethod,
        expected_head: Option<&str>,
    ) -> Result<String, Error> {
        let path = format!("{}/pulls/{number}/merge", repo.api_path());
        let mut body = json!({ "merge_method": method.as_str() });
        if let Some(sha) = expected_head {
            body["sha"] = json!(sha);
        }
        let (route, response) = self.send(Method::PUT, &path, Some(&body)).await?;
        if !response.is_success() {
            return Err(refusal(route, &response, Permission::ContentsWrite));
        }
        Ok(response.json::<RawMerge>(&route)?.sha)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_cannot_close_its_comment_early() {
        assert_eq!(release_pr_marker("main"), "<!-- hub-release-pr:main -->");
        let marker = release_pr_marker("a-->b");
        assert_eq!(marker.matches("-->").count(), 1, "{marker}");
        assert!(marker.ends_with(" -->"));
    }
}
