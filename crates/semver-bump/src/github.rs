//! What semver-bump writes to GitHub: the release, the moving major tag and the PR preview
//! comment. Only reached when one of them is asked for (and never in a dry run).

use anyhow::{Context, Result, bail};
use hub_conventional::semver::Version;
use hub_github::{
    BlockingGitHub, GitHubConfig, NewRelease, Repository, Session, SessionError, Thread,
};
use hub_kit::{Env, Runner};

/// A connected client and the repository it works on.
pub struct GitHub {
    client: BlockingGitHub,
    repo: Repository,
    config: GitHubConfig,
}

impl GitHub {
    /// Connects with the `token` input or `GITHUB_TOKEN`; `what` names the feature that needs
    /// it, for the error when there is no token.
    pub fn connect(
        env: &Env,
        token: Option<&str>,
        what: &str,
        runner: &mut Runner,
    ) -> Result<GitHub> {
        let Session { client, config } = match hub_github::connect(env, token, runner) {
            Ok(session) => session,
            Err(SessionError::NoToken) => bail!(
                "{what} needs a token: set the `token` input (or `GITHUB_TOKEN`) with `contents: write` permission"
            ),
            Err(e) => return Err(e).context("cannot connect to GitHub"),
        };
        let repo = config
            .repository()
            .context("`GITHUB_REPOSITORY` is not set: run inside GitHub Actions or set it to `owner/name`")?
            .clone();
        Ok(GitHub {
            client,
            repo,
            config,
        })
    }

    /// The pull request of the triggering event, if it is one.
    pub fn pull_request(&self) -> Option<u64> {
        self.config
            .event
            .as_ref()
            .and_then(|e| e.pull_request_number())
    }

    /// Creates (or finds, or updates) the release for `tag` with `notes`; returns its URL.
    pub fn ensure_release(
        &self,
        tag: &str,
        commit: &str,
        version: &Version,
        notes: &str,
        draft: bool,
    ) -> Result<(String, bool)> {
        let release = NewRelease {
            tag_name: tag.to_string(),
            target_commitish: Some(commit.to_string()),
            name: Some(tag.to_string()),
            body: Some(notes.to_string()),
            draft,
            prerelease: !version.pre.is_empty(),
            make_latest: None,
        };
        let created = self
            .client
            .block_on(self.client.github().ensure_release(&self.repo, &release))?;
        let new = created.is_new();
        Ok((created.into_inner().html_url, new))
    }

    /// The URL of the release for `tag`, if there is one.
    pub fn release_url(&self, tag: &str) -> Result<Option<String>> {
        let found = self
            .client
            .block_on(self.client.github().get_release_by_tag(&self.repo, tag))?;
        Ok(found.map(|r| r.html_url))
    }

    /// Points `tags/<name>` at `commit` (the moving `v1` of action repositories).
    pub fn move_tag(&self, name: &str, commit: &str) -> Result<()> {
        self.client.block_on(self.client.github().move_ref(
            &self.repo,
            &format!("tags/{name}"),
            commit,
        ))?;
        Ok(())
    }

    /// Creates or edits this action's one comment on the pull request.
    pub fn sticky_comment(&self, number: u64, body: &str) -> Result<String> {
        let outcome = self
            .client
            .block_on(self.client.github().upsert_sticky_comment(
                &self.repo,
                Thread::PullRequest(number),
                "semver-bump",
                body,
            ))?;
        Ok(outcome.comment().html_url.clone())
    }
}
