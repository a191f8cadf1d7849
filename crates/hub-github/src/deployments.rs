//! Deployments and deployment statuses.

use std::fmt;

use http::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::encode_segment;
use crate::{Error, GitHub, Permission, Repository};

/// A deployment.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Deployment {
    pub id: u64,
    pub sha: String,
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub task: String,
    pub environment: String,
    /// Whatever the creator stored (an object, or a string).
    #[serde(default)]
    pub payload: Value,
    #[serde(default)]
    pub description: Option<String>,
    pub created_at: String,
}

/// A deployment to create. `auto_merge` is always sent as `false`: a deployment never merges
/// the default branch into the ref behind the workflow's back.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDeployment {
    /// Branch, tag or sha.
    pub git_ref: String,
    /// `deploy` when `None`.
    pub task: Option<String>,
    pub environment: String,
    pub payload: Value,
    pub description: Option<String>,
    /// Commit status contexts that must be green; empty (the default here) skips the check.
    pub required_contexts: Vec<String>,
    pub transient_environment: bool,
    /// `None`: GitHub's default (true for `production`).
    pub production_environment: Option<bool>,
}

impl NewDeployment {
    /// A deployment of `git_ref` to `environment` with an empty payload.
    #[must_use]
    pub fn new(git_ref: impl Into<String>, environment: impl Into<String>) -> Self {
        NewDeployment {
            git_ref: git_ref.into(),
            task: None,
            environment: environment.into(),
            payload: json!({}),
            description: None,
            required_contexts: Vec::new(),
            transient_environment: false,
            production_environment: None,
        }
    }
}

/// The state of a deployment status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentState {
    Error,
    Failure,
    Inactive,
    InProgress,
    Queued,
    Pending,
    Success,
}

impl DeploymentState {
    /// The API's spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentState::Error => "error",
            DeploymentState::Failure => "failure",
            DeploymentState::Inactive => "inactive",
            DeploymentState::InProgress => "in_progress",
            DeploymentState::Queued => "queued",
            DeploymentState::Pending => "pending",
            DeploymentState::Success => "success",
        }
    }
}

impl fmt::Display for DeploymentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status to add to a deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDeploymentStatus {
    pub state: DeploymentState,
    pub description: Option<String>,
    /// Where the deployment's log is (also becomes `target_url`).
    pub log_url: Option<String>,
    /// Where the deployed environment is.
    pub environment_url: Option<String>,
    /// Moves the deployment to another environment.
    pub environment: Option<String>,
    /// Whether earlier successful deployments to the environment become `inactive`
    /// (GitHub's default, `true`, when `None`).
    pub auto_inactive: Option<bool>,
}

impl NewDeploymentStatus {
    /// A status with just a state.
    #[must_use]
    pub fn new(state: DeploymentState) -> Self {
        NewDeploymentStatus {
            state,
            description: None,
            log_url: None,
            environment_url: None,
            environment: None,
            auto_inactive: None,
        }
    }
}

/// A deployment status.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DeploymentStatus {
    pub id: u64,
    pub state: DeploymentState,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub environment: Option<String>,
    #[serde(default)]
    pub log_url: Option<String>,
    #[serde(default)]
    pub environment_url: Option<String>,
    pub created_at: String,
}

/// Which deployments to list; `None` fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeploymentFilter {
    pub sha: Option<String>,
    pub git_ref: Option<String>,
    pub task: Option<String>,
    pub environment: Option<String>,
}

impl GitHub {
    /// Deployments matching `filter`, newest first.
    ///
    /// # Errors
    /// On refusal or transport failure.
    pub async fn list_deployments(
        &self,
        repo: &Repository,
        filter: &DeploymentFilter,
    ) -> Result<Vec<Deployment>, Error> {
        let query: Vec<String> = [
            ("sha", &filter.sha),
            ("ref", &filter.git_ref),
            ("task", &filter.task),
            ("environment", &filter.environment),
        ]
        .into_iter()
        .filter_map(|(key, value)| Some(format!("{key}={}", encode_segment(value.as_ref()?))))
        .collect();
        let mut path = format!("{}/deployments", repo.api_path());
        if !query.is_empty() {
            path = format!("{path}?{}", query.join("&"));
        }
        self.get_all(&path, Permission::DeploymentsRead).await
    }

    /// Creates a deployment (with `auto_merge: false`).
    ///
    /// # Errors
    /// On refusal (the token needs `deployments: write`) or transport failure.
    pub async fn create_deployment(
        &self,
        repo: &Repository,
        deployment: &NewDeployment,
    ) -> Result<Deployment, Error> {
        let mut body = json!({
            "ref": deployment.git_ref,
            "environment": deployment.environment,
            "auto_merge": false,
            "required_contexts": deployment.required_contexts,
            "payload": deployment.payload,
            "transient_environment": deployment.transient_environment,
        });
        if let Some(task) = &deployment.task {
            body["task"] = json!(task);
        }
        if let Some(description) = &deployment.description {
            body["description"] = json!(description);
        }
        if let Some(production) = deployment.production_environment {
            body["production_environment"] = json!(production);
        }
        let path = format!("{}/deployments", repo.api_path());
        self.call(
            Method::POST,
            &path,
            Some(&body),
            Permission::DeploymentsWrite,
        )
        .await
    }

    /// The statuses of deployment `id`, newest first.
    ///
    /// # Errors
    /// On refusal or transport failure.
    pub async fn list_deployment_statuses(
        &self,
        repo: &Repository,
        id: u64,
    ) -> Result<Vec<DeploymentStatus>, Error> {
        let path = format!("{}/deployments/{id}/statuses", repo.api_path());
        self.get_all(&path, Permission::DeploymentsRead).await
    }

    /// Adds a status to deployment `id`.
    ///
    /// # Errors
    /// On refusal (the token needs `deployments: write`) or transport failure.
    pub async fn create_deployment_status(
        &self,
        repo: &Repository,
        id: u64,
        status: &NewDeploymentStatus,
    ) -> Result<DeploymentStatus, Error> {
        let mut body = json!({ "state": status.state.as_str() });
        let fields = [
            ("description", &status.description),
            ("log_url", &status.log_url),
            ("environment_url", &status.environment_url),
            ("environment", &status.environment),
        ];
        for (key, value) in fields {
            if let Some(value) = value {
                body[key] = json!(value);
            }
        }
        if let Some(auto_inactive) = status.auto_inactive {
            body["auto_inactive"] = json!(auto_inactive);
        }
        let path = format!("{}/deployments/{id}/statuses", repo.api_path());
        self.call(
            Method::POST,
            &path,
            Some(&body),
            Permission::DeploymentsWrite,
        )
        .await
    }
}
