//! What release-pr reads from and writes to GitHub, over hub-github's blocking client.

use anyhow::{Context, Result, anyhow, bail};
use hub_github::{
    BlockingGitHub, BranchCommit, GitCommit, NewPullRequest, NewRelease, NewTag, PullRequest,
    PullRequestUpdate, RefSwap, Repository, SessionError,
};
use hub_kit::{Env, Runner};

use crate::request::CommitVia;

/// A connected client and the repository it works on.
pub struct GitHub {
    client: BlockingGitHub,
    repo: Repository,
    /// The token is the workflow's `GITHUB_TOKEN`: its pull requests start no workflow.
    pub workflow_token: bool,
}

impl GitHub {
    /// Connects with the `token` input or `GITHUB_TOKEN`, masked first (hub-github's one
    /// way to connect).
    pub fn connect(env: &Env, token: Option<&str>, runner: &mut Runner) -> Result<GitHub> {
        let session = match hub_github::connect(env, token, runner) {
            Ok(session) => session,
            Err(SessionError::NoToken) => bail!(
                "release-pr needs a token: set the `token` input (or `GITHUB_TOKEN`) with `contents: write` and `pull-requests: write`"
            ),
            Err(other) => return Err(other).context("cannot connect to GitHub"),
        };
        let repo = session
            .config
            .repository()
            // hub-github's error says the same: one line, not the message and its cause.
            .map_err(|_| anyhow!("`GITHUB_REPOSITORY` is not set: run inside GitHub Actions or set it to `owner/name`"))?
            .clone();
        let workflow_token =
            session.config.token.as_ref().is_some_and(|t| {
                t.is_workflow_token(env.get_non_empty(hub_kit::vars::GITHUB_TOKEN))
            });
        Ok(GitHub {
            client: session.client,
            repo,
            workflow_token,
        })
    }

    /// The repository's default branch.
    pub fn default_branch(&self) -> Result<String> {
        Ok(self
            .client
            .block_on(self.client.github().default_branch(&self.repo))?)
    }

    /// The merged pull request `sha` came from, if any.
    pub fn merged_pull_of(&self, sha: &str) -> Result<Option<PullRequest>> {
        Ok(self.client.block_on(
            self.client
                .github()
                .merged_pull_request_of_commit(&self.repo, sha),
        )?)
    }

    /// The newest pull requests whose head is `branch` (open and closed; one request).
    pub fn pulls_by_head(&self, branch: &str) -> Result<Vec<PullRequest>> {
        Ok(self.client.block_on(
            self.client
                .github()
                .recent_pull_requests_by_head(&self.repo, branch),
        )?)
    }

    /// The head commit of `branch`, if the branch exists.
    pub fn branch_head(&self, branch: &str) -> Result<Option<GitCommit>> {
        let github = self.client.github();
        let Some(r) = self
            .client
            .block_on(github.get_ref(&self.repo, &format!("heads/{branch}")))?
        else {
            return Ok(None);
        };
        Ok(Some(
            self.client
                .block_on(github.git_commit(&self.repo, &r.sha))?,
        ))
    }

    /// Points `branch` at `sha` only while it holds `before` (the head last read; `None`: the
    /// branch did not exist, and it is created). GraphQL `updateRefs` with `beforeOid`; where
    /// GitHub has none, the head read again right before a forced update (a warning says so).
    /// The branch elsewhere (moved, created or deleted meanwhile) is
    /// [`hub_github::Error::StaleHead`].
    pub fn reset_branch(
        &self,
        branch: &str,
        sha: &str,
        before: Option<&str>,
        runner: &mut Runner,
    ) -> Result<()> {
        let github = self.client.github();
        let Some(before) = before else {
            return match self.client.block_on(github.create_ref(
                &self.repo,
                &format!("heads/{branch}"),
                sha,
            )) {
                Ok(_) => Ok(()),
                Err(hub_github::Error::RefConflict { existing, .. }) => {
                    Err(hub_github::Error::StaleHead {
                        branch: branch.to_string(),
                        expected: "no branch".to_string(),
                        message: format!("the branch was created meanwhile, at {existing}"),
                    }
                    .into())
                }
                Err(other) => Err(other.into()),
            };
        };
        let swap = self
            .client
            .block_on(github.swap_ref(&self.repo, branch, before, sha))?;
        if swap == RefSwap::ReadThenForced {
            runner.info(&format!(
                "GitHub has no GraphQL `updateRefs` here: branch `{branch}` was read again and \
                 then reset with a forced update, so a push in the instant between the two would \
                 be overwritten"
            ))?;
        }
        Ok(())
    }

    /// Commits `files` on `branch` (at `parent`) `via` GraphQL or the Git Data API; returns
    /// the new head. Either way the commit is made only while the branch still points at
    /// `parent` (the branch was just reset there): [`hub_github::Error::StaleHead`] otherwise.
    pub fn commit(
        &self,
        branch: &str,
        parent: &str,
        message: &str,
        files: Vec<(String, Vec<u8>)>,
        executable: Vec<String>,
        via: CommitVia,
    ) -> Result<String> {
        let github = self.client.github();
        let (headline, body) = match message.split_once('\n') {
            Some((first, rest)) => (first.to_string(), rest.trim().to_string()),
            None => (message.to_string(), String::new()),
        };
        let commit = BranchCommit {
            branch: branch.to_string(),
            expected_head: parent.to_string(),
            headline,
            body,
            additions: files,
            deletions: Vec::new(),
            executable,
        };
        if via == CommitVia::GitData {
            return Ok(self
                .client
                .block_on(github.commit_on_head(&self.repo, &commit))?);
        }
        let made = self
            .client
            .block_on(github.create_commit_on_branch(&self.repo, &commit))?;
        Ok(made.oid)
    }

    /// Opens the pull request.
    pub fn open(&self, pull: &NewPullRequest) -> Result<PullRequest> {
        Ok(self
            .client
            .block_on(self.client.github().create_pull_request(&self.repo, pull))?)
    }

    /// Puts `labels` on it (cosmetic: nothing recognises it by them).
    pub fn label(&self, number: u64, labels: &[String]) -> Result<()> {
        Ok(self
            .client
            .block_on(self.client.github().add_labels(&self.repo, number, labels))?)
    }

    /// Edits its title and body.
    pub fn edit(&self, number: u64, title: &str, body: &str) -> Result<PullRequest> {
        Ok(self
            .client
            .block_on(self.client.github().update_pull_request(
                &self.repo,
                number,
                &PullRequestUpdate {
                    title: Some(title.to_string()),
                    body: Some(body.to_string()),
                    base: None,
                },
            ))?)
    }

    /// Closes it with a comment.
    pub fn close(&self, number: u64, comment: &str) -> Result<PullRequest> {
        Ok(self
            .client
            .block_on(
                self.client
                    .github()
                    .close_pull_request(&self.repo, number, Some(comment)),
            )?)
    }

    /// Creates the annotated tag (nothing when it already names `commit`); returns whether
    /// it was created.
    pub fn tag(&self, name: &str, commit: &str) -> Result<bool> {
        let created = self
            .client
            .block_on(self.client.github().create_annotated_tag(
                &self.repo,
                &NewTag {
                    name: name.to_string(),
                    message: format!("Release {name}"),
                    commit_sha: commit.to_string(),
                    tagger: None,
                },
            ))?;
        Ok(created.is_new())
    }

    /// Creates (or finds, or updates) the release; returns its URL and whether it is new.
    pub fn release(
        &self,
        tag: &str,
        commit: &str,
        notes: &str,
        draft: bool,
        prerelease: bool,
    ) -> Result<(String, bool)> {
        let created = self.client.block_on(self.client.github().ensure_release(
            &self.repo,
            &NewRelease {
                tag_name: tag.to_string(),
                target_commitish: Some(commit.to_string()),
                name: Some(tag.to_string()),
                body: Some(notes.to_string()),
                draft,
                prerelease,
                make_latest: None,
            },
        ))?;
        let new = created.is_new();
        Ok((created.into_inner().html_url, new))
    }

    /// Points `tags/<name>` at `commit` unless it already does; returns whether it moved.
    pub fn move_tag(&self, name: &str, commit: &str) -> Result<bool> {
        let github = self.client.github();
        let path = format!("tags/{name}");
        if let Some(r) = self.client.block_on(github.get_ref(&self.repo, &path))?
            && r.sha == commit
        {
            return Ok(false);
        }
        self.client
            .block_on(github.move_ref(&self.repo, &path, commit))?;
        Ok(true)
    }
}
