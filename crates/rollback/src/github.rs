//! What rollback reads from and writes to GitHub: the environment's deployment history, the
//! statuses that record a rollback, the deployment the `github-deployment` backend creates,
//! and the optional sticky comment.

use anyhow::{Context, Result};
use hub_github::{
    BlockingGitHub, DeploymentFilter, DeploymentState, GitHubConfig, NewDeployment,
    NewDeploymentStatus, Repository, StickyOutcome, comment_thread,
};
use hub_kit::{Env, Runner};
use serde_json::json;

use crate::history::{self, Entry, PAYLOAD_FROM, PAYLOAD_VERSION, ROLLBACK_TASK};

/// A connected client, the repository and the environment it works on.
pub struct GitHub {
    client: BlockingGitHub,
    repo: Repository,
    config: GitHubConfig,
    pub environment: String,
    /// The workflow run's URL, for `log_url`.
    pub run_url: Option<String>,
    /// `GITHUB_SHA`: the commit the comment goes on when no pull request triggered the run.
    github_sha: Option<String>,
}

/// The run's URL from `GITHUB_SERVER_URL`, `GITHUB_REPOSITORY` and `GITHUB_RUN_ID`.
pub fn run_url(env: &Env) -> Option<String> {
    let server = env
        .get_non_empty(hub_kit::vars::GITHUB_SERVER_URL)
        .unwrap_or("https://github.com")
        .trim_end_matches('/');
    let repo = env.get_non_empty(hub_kit::vars::GITHUB_REPOSITORY)?;
    let run = env.get_non_empty(hub_kit::vars::GITHUB_RUN_ID)?;
    Some(format!("{server}/{repo}/actions/runs/{run}"))
}

fn state(s: DeploymentState) -> history::State {
    s.as_str()
}

impl GitHub {
    /// Connects when a token (the `token` input or `GITHUB_TOKEN`) and `GITHUB_REPOSITORY`
    /// are there; `None` (with a log line saying why) otherwise. Tokens are masked first.
    pub fn connect(
        env: &Env,
        token: Option<&str>,
        environment: &str,
        runner: &mut Runner,
    ) -> Result<Option<GitHub>> {
        let config = hub_github::config_from_env(env, token, runner)
            .context("cannot read the GitHub environment")?;
        if config.token.is_none() {
            runner.info(&format!(
                "github deployments of `{environment}` not used: no `token` input and no `GITHUB_TOKEN`"
            ))?;
            return Ok(None);
        }
        let Some(repo) = config.repository.clone() else {
            runner.info(&format!(
                "github deployments of `{environment}` not used: `GITHUB_REPOSITORY` is not set"
            ))?;
            return Ok(None);
        };
        let client = BlockingGitHub::new(&config)?;
        Ok(Some(GitHub {
            client,
            repo,
            config,
            environment: environment.to_string(),
            run_url: run_url(env),
            github_sha: env
                .get_non_empty(hub_github::config::env::GITHUB_SHA)
                .map(String::from),
        }))
    }

    /// The environment's deployments, newest first, each with every status it ever had.
    pub fn history(&self) -> Result<Vec<Entry>> {
        let gh = self.client.github();
        let filter = DeploymentFilter {
            environment: Some(self.environment.clone()),
            ..DeploymentFilter::default()
        };
        let deployments = self
            .client
            .block_on(gh.list_deployments(&self.repo, &filter))
            .with_context(|| format!("cannot list the deployments of `{}`", self.environment))?;
        let mut entries = Vec::with_capacity(deployments.len());
        for d in deployments {
            let statuses = self
                .client
                .block_on(gh.list_deployment_statuses(&self.repo, d.id))
                .with_context(|| format!("cannot list the statuses of deployment {}", d.id))?;
            entries.push(Entry {
                id: d.id,
                git_ref: d.git_ref,
                task: d.task,
                payload: d.payload,
                states: statuses.iter().map(|s| state(s.state)).collect(),
            });
        }
        Ok(entries)
    }

    /// Adds a status to deployment `id`, with the run as its log.
    pub fn set_status(&self, id: u64, state: DeploymentState, description: &str) -> Result<()> {
        let status = NewDeploymentStatus {
            description: Some(truncate(description)),
            log_url: self.run_url.clone(),
            ..NewDeploymentStatus::new(state)
        };
        self.client
            .block_on(
                self.client
                    .github()
                    .create_deployment_status(&self.repo, id, &status),
            )
            .with_context(|| format!("cannot set deployment {id} to `{state}`"))?;
        Ok(())
    }

    /// Creates a rollback deployment of `git_ref` (task `deploy:rollback`, `auto_merge:
    /// false`, no required contexts) recording both versions in its payload; returns its id.
    pub fn create_rollback(&self, git_ref: &str, to: &str, from: Option<&str>) -> Result<u64> {
        let mut payload = json!({ PAYLOAD_VERSION: to });
        if let Some(from) = from {
            payload[PAYLOAD_FROM] = json!(from);
        }
        let deployment = NewDeployment {
            task: Some(ROLLBACK_TASK.to_string()),
            payload,
            description: Some(truncate(&match from {
                Some(f) => format!("hub-rollback: {f} -> {to}"),
                None => format!("hub-rollback: -> {to}"),
            })),
            ..NewDeployment::new(git_ref, self.environment.clone())
        };
        let created = self
            .client
            .block_on(
                self.client
                    .github()
                    .create_deployment(&self.repo, &deployment),
            )
            .with_context(|| {
                format!(
                    "cannot create a deployment of `{git_ref}` to `{}`",
                    self.environment
                )
            })?;
        Ok(created.id)
    }

    /// Keeps the rollback's sticky comment on the triggering pull request, or on the commit
    /// when no pull request triggered the run (the commit the event names, else `GITHUB_SHA`;
    /// for `release`, `GITHUB_SHA`); `None` (and a log line) when there is neither.
    pub fn comment(&self, body: &str, runner: &mut Runner) -> Result<Option<String>> {
        let Some(thread) = comment_thread(self.config.event.as_ref(), self.github_sha.as_deref())
        else {
            runner.info(
                "comment skipped: the run is not for a pull request and names no commit (no `GITHUB_SHA`)",
            )?;
            return Ok(None);
        };
        let outcome = self
            .client
            .block_on(self.client.github().upsert_sticky_comment(
                &self.repo,
                thread.clone(),
                "rollback",
                body,
            ))
            .with_context(|| format!("cannot comment on {}", thread.describe()))?;
        let verb = match outcome {
            StickyOutcome::Created(_) => "created",
            StickyOutcome::Updated(_) => "updated",
            StickyOutcome::Unchanged(_) => "unchanged",
        };
        let url = outcome.comment().html_url.clone();
        runner.info(&format!("comment on {} {verb}: {url}", thread.describe()))?;
        Ok(Some(url))
    }
}

/// GitHub keeps at most 140 characters of a status or deployment description.
fn truncate(text: &str) -> String {
    text.chars().take(140).collect()
}
