//! What the two deploy workflows' tests (`deploy.rs`, `deploy-compose.rs`) share: GitHub's
//! deployment history of the user's repository on the stand-in (act does not record the
//! deployment GitHub makes for a job with an `environment:`, so the tests make it), and the
//! runner set up as both workflows expect — the stand-in as GitHub, and the user's canary
//! settings (`vars`) with short timings.

use std::path::Path;

use hub_github::{
    BlockingGitHub, DeploymentFilter, DeploymentState, GitHubConfig, NewDeployment,
    NewDeploymentStatus, Repository,
};
use hub_github_standin::test_support::TestServer;

use crate::Act;

/// The user's repository's deployments on the stand-in.
pub struct Deployments {
    client: BlockingGitHub,
    repo: Repository,
}

impl Deployments {
    /// `repository` on `server`, imported from the bare `origin`, and a client of it with
    /// `token`.
    ///
    /// # Panics
    ///
    /// When the stand-in does not take the repository.
    pub fn import(
        server: &TestServer,
        repository: &str,
        token: &str,
        origin: &Path,
    ) -> Deployments {
        server
            .import_git(repository, origin)
            .expect("because the stand-in imports a bare repository");
        let mut config =
            GitHubConfig::new(server.url()).expect("because the stand-in's URL is one");
        config.token = hub_github::Token::new(token);
        let repo: Repository = repository.parse().expect("because the name is owner/name");
        config.repository = Some(repo.clone());
        Deployments {
            client: BlockingGitHub::new(&config).expect("because a client of the stand-in is made"),
            repo,
        }
    }

    /// A deployment of `git_ref` to `environment` that went through `states`, as GitHub
    /// records one for every run of a job with that `environment:`; its id.
    ///
    /// # Panics
    ///
    /// When the stand-in refuses it.
    pub fn deployed(&self, git_ref: &str, environment: &str, states: &[DeploymentState]) -> u64 {
        let gh = self.client.github();
        let d = self
            .client
            .block_on(gh.create_deployment(&self.repo, &NewDeployment::new(git_ref, environment)))
            .expect("because the stand-in creates deployments");
        for state in states {
            self.client
                .block_on(gh.create_deployment_status(
                    &self.repo,
                    d.id,
                    &NewDeploymentStatus::new(*state),
                ))
                .expect("because the stand-in records statuses");
        }
        d.id
    }

    /// `(ref, task, states newest first)` of every deployment to `environment`, newest first.
    ///
    /// # Panics
    ///
    /// When the stand-in does not answer.
    pub fn list(&self, environment: &str) -> Vec<(String, String, Vec<String>)> {
        let filter = DeploymentFilter {
            environment: Some(environment.into()),
            ..DeploymentFilter::default()
        };
        let gh = self.client.github();
        self.client
            .block_on(gh.list_deployments(&self.repo, &filter))
            .expect("because the stand-in lists deployments")
            .into_iter()
            .map(|d| {
                let states = self
                    .client
                    .block_on(gh.list_deployment_statuses(&self.repo, d.id))
                    .expect("because the stand-in lists statuses")
                    .iter()
                    .map(|s| s.state.as_str().to_string())
                    .collect();
                (d.git_ref, d.task, states)
            })
            .collect()
    }
}

/// What both deploy workflows' runs get: the stand-in at `api_url` as GitHub (with
/// `GITHUB_GRAPHQL_URL` beside `GITHUB_API_URL`, as GitHub sets it; act leaves github.com's),
/// `repository` and its `token`, the user's repository's bare `origin` (see
/// [`crate::with_local_checkout`]), and the canary settings — Prometheus at
/// `prometheus_url`, the canary's health URL, the selectors of the shop's two tracks and
/// short timings.
pub fn configure(
    act: &mut Act,
    api_url: &str,
    repository: &str,
    token: &str,
    origin: &Path,
    prometheus_url: &str,
    canary_health_url: &str,
) {
    act.env("GITHUB_API_URL", api_url)
        .env("GITHUB_GRAPHQL_URL", &format!("{api_url}/graphql"))
        .env("GITHUB_REPOSITORY", repository)
        .env("GITHUB_TOKEN", token)
        .env("HUB_E2E_ORIGIN", &origin.display().to_string())
        .var("PROMETHEUS_URL", prometheus_url)
        .var("CANARY_SELECTOR", r#"job="shop",track="canary""#)
        .var("BASELINE_SELECTOR", r#"job="shop",track="stable""#)
        .var("CANARY_HEALTH_URL", canary_health_url)
        .var("CANARY_STEP_DURATION", "4s")
        .var("CANARY_INTERVAL", "2s")
        .var("CANARY_MAX_DURATION", "90s")
        .var("CANARY_MIN_INTERVALS", "3")
        .var("CANARY_MIN_REQUESTS", "200");
}
