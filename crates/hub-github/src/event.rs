//! The event that triggered a workflow, parsed from its webhook payload.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::Error;

/// A pull request event (`pull_request` or `pull_request_target`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequestEvent {
    /// `opened`, `synchronize`, `closed`, …
    pub action: String,
    pub number: u64,
    pub title: String,
    pub head_sha: String,
    pub head_ref: String,
    pub base_sha: String,
    pub base_ref: String,
    /// The pull request's author.
    pub author: Option<String>,
    /// Whether the event is `pull_request_target` (runs with the base's token and code).
    pub target: bool,
}

/// A commit listed in a push event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushCommit {
    pub sha: String,
    pub message: String,
}

/// A push of a branch or tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushEvent {
    /// The full ref, `refs/heads/main` or `refs/tags/v1.2.3`.
    pub git_ref: String,
    pub before: String,
    pub after: String,
    pub created: bool,
    pub deleted: bool,
    pub forced: bool,
    pub commits: Vec<PushCommit>,
}

/// A manual run.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowDispatchEvent {
    pub git_ref: String,
    /// The inputs as given (strings, booleans or numbers).
    pub inputs: BTreeMap<String, Value>,
}

/// A deployment created through the API.
#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentEvent {
    pub id: u64,
    pub sha: String,
    pub git_ref: String,
    pub task: String,
    pub environment: String,
    pub payload: Value,
    pub description: Option<String>,
}

/// The triggering event.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    PullRequest(PullRequestEvent),
    Push(PushEvent),
    WorkflowDispatch(WorkflowDispatchEvent),
    Deployment(DeploymentEvent),
    /// Any other event, by name; its payload is not interpreted.
    Other {
        name: String,
    },
}

#[derive(Deserialize)]
struct RawUser {
    login: String,
}

#[derive(Deserialize)]
struct RawBranch {
    sha: String,
    #[serde(rename = "ref")]
    git_ref: String,
}

#[derive(Deserialize)]
struct RawPullRequest {
    number: u64,
    #[serde(default)]
    title: String,
    head: RawBranch,
    base: RawBranch,
    user: Option<RawUser>,
}

#[derive(Deserialize)]
struct RawPullRequestEvent {
    #[serde(default)]
    action: String,
    pull_request: RawPullRequest,
}

#[derive(Deserialize)]
struct RawPushCommit {
    id: String,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
struct RawPushEvent {
    #[serde(rename = "ref")]
    git_ref: String,
    #[serde(default)]
    before: String,
    #[serde(default)]
    after: String,
    #[serde(default)]
    created: bool,
    #[serde(default)]
    deleted: bool,
    #[serde(default)]
    forced: bool,
    #[serde(default)]
    commits: Vec<RawPushCommit>,
}

#[derive(Deserialize)]
struct RawDispatchEvent {
    #[serde(rename = "ref")]
    git_ref: String,
    #[serde(default)]
    inputs: Option<BTreeMap<String, Value>>,
}

#[derive(Deserialize)]
struct RawDeployment {
    id: u64,
    sha: String,
    #[serde(rename = "ref")]
    git_ref: String,
    #[serde(default)]
    task: String,
    #[serde(default)]
    environment: String,
    #[serde(default)]
    payload: Value,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
struct RawDeploymentEvent {
    deployment: RawDeployment,
}

impl Event {
    /// Parses the payload of the event called `name` (`GITHUB_EVENT_NAME`).
    ///
    /// # Errors
    /// [`Error::ParseEvent`] when the JSON is not the shape GitHub sends for that event.
    pub fn parse(name: &str, payload: &str) -> Result<Event, Error> {
        let fail = |source| Error::ParseEvent {
            name: name.to_owned(),
            source,
        };
        Ok(match name {
            "pull_request" | "pull_request_target" => {
                let raw: RawPullRequestEvent = serde_json::from_str(payload).map_err(fail)?;
                let pr = raw.pull_request;
                Event::PullRequest(PullRequestEvent {
                    action: raw.action,
                    number: pr.number,
                    title: pr.title,
                    head_sha: pr.head.sha,
                    head_ref: pr.head.git_ref,
                    base_sha: pr.base.sha,
                    base_ref: pr.base.git_ref,
                    author: pr.user.map(|u| u.login),
                    target: name == "pull_request_target",
                })
            }
            "push" => {
                let raw: RawPushEvent = serde_json::from_str(payload).map_err(fail)?;
                Event::Push(PushEvent {
                    git_ref: raw.git_ref,
                    before: raw.before,
                    after: raw.after,
                    created: raw.created,
                    deleted: raw.deleted,
                    forced: raw.forced,
                    commits: raw
                        .commits
                        .into_iter()
                        .map(|c| PushCommit {
                            sha: c.id,
                            message: c.message,
                        })
                        .collect(),
                })
            }
            "workflow_dispatch" => {
                let raw: RawDispatchEvent = serde_json::from_str(payload).map_err(fail)?;
                Event::WorkflowDispatch(WorkflowDispatchEvent {
                    git_ref: raw.git_ref,
                    inputs: raw.inputs.unwrap_or_default(),
                })
            }
            "deployment" => {
                let raw: RawDeploymentEvent = serde_json::from_str(payload).map_err(fail)?;
                let d = raw.deployment;
                Event::Deployment(DeploymentEvent {
                    id: d.id,
                    sha: d.sha,
                    git_ref: d.git_ref,
                    task: d.task,
                    environment: d.environment,
                    payload: d.payload,
                    description: d.description,
                })
            }
            other => Event::Other {
                name: other.to_owned(),
            },
        })
    }

    /// The event's name, as in `GITHUB_EVENT_NAME`.
    #[must_use]
    pub fn name(&self) -> &str {
        match self {
            Event::PullRequest(pr) if pr.target => "pull_request_target",
            Event::PullRequest(_) => "pull_request",
            Event::Push(_) => "push",
            Event::WorkflowDispatch(_) => "workflow_dispatch",
            Event::Deployment(_) => "deployment",
            Event::Other { name } => name,
        }
    }

    /// The pull request number, for pull request events.
    #[must_use]
    pub fn pull_request_number(&self) -> Option<u64> {
        match self {
            Event::PullRequest(pr) => Some(pr.number),
            _ => None,
        }
    }

    /// The commit the workflow runs for, when the payload names it.
    #[must_use]
    pub fn sha(&self) -> Option<&str> {
        match self {
            Event::PullRequest(pr) => Some(&pr.head_sha),
            Event::Push(push) if !push.deleted => Some(&push.after),
            Event::Deployment(d) => Some(&d.sha),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_request_payloads() {
        let payload = r#"{"action":"synchronize","number":12,"pull_request":{"number":12,
            "title":"fix: y","head":{"sha":"h1","ref":"topic"},"base":{"sha":"b1","ref":"main"},
            "user":{"login":"mona","id":1}},"repository":{"full_name":"o/r"}}"#;
        let event = Event::parse("pull_request_target", payload).expect("parses");
        let Event::PullRequest(pr) = &event else {
            panic!("not a pull request: {event:?}")
        };
        assert_eq!(
            (pr.number, pr.head_ref.as_str(), pr.author.as_deref()),
            (12, "topic", Some("mona"))
        );
        assert_eq!(event.name(), "pull_request_target");
        assert_eq!(event.sha(), Some("h1"));
    }

    #[test]
    fn push_dispatch_and_deployment_payloads() {
        let push = Event::parse(
            "push",
            r#"{"ref":"refs/tags/v1.0.0","before":"0000","after":"abcd","created":true,
                "deleted":false,"forced":false,"commits":[{"id":"abcd","message":"feat: z"}]}"#,
        )
        .expect("parses");
        assert_eq!(push.sha(), Some("abcd"));
        let Event::Push(p) = &push else {
            panic!("{push:?}")
        };
        assert_eq!(p.commits[0].message, "feat: z");

        let dispatch = Event::parse(
            "workflow_dispatch",
            r#"{"ref":"refs/heads/main","inputs":{"dry-run":true,"level":"minor"}}"#,
        )
        .expect("parses");
        let Event::WorkflowDispatch(d) = dispatch else {
            panic!("not a dispatch")
        };
        assert_eq!(d.inputs["level"], "minor");
        let no_inputs =
            Event::parse("workflow_dispatch", r#"{"ref":"main","inputs":null}"#).expect("parses");
        assert!(matches!(no_inputs, Event::WorkflowDispatch(d) if d.inputs.is_empty()));

        let deployment = Event::parse(
            "deployment",
            r#"{"deployment":{"id":42,"sha":"s","ref":"main","task":"deploy","environment":"canary",
                "payload":{"version":"1.2.3"},"description":null}}"#,
        )
        .expect("parses");
        let Event::Deployment(d) = deployment else {
            panic!("not a deployment")
        };
        assert_eq!(
            (d.id, d.environment.as_str(), &d.payload["version"]),
            (42, "canary", &Value::from("1.2.3"))
        );
    }

    #[test]
    fn other_events_and_broken_payloads() {
        assert_eq!(
            Event::parse("schedule", "{}").expect("any payload"),
            Event::Other {
                name: "schedule".to_owned()
            }
        );
        let err = Event::parse("pull_request", r#"{"action":"opened"}"#).expect_err("no pr");
        assert_eq!(
            err.to_string(),
            "the `pull_request` event payload does not have the shape GitHub sends"
        );
    }
}
