//! A Kubernetes API stand-in for tests, on 127.0.0.1, for the real `kubectl` and `helm` 3
//! clients: discovery, Deployments, ReplicaSets and Secrets (helm's release storage); GET,
//! LIST (label and field selectors), CREATE, UPDATE, DELETE, JSON, merge and strategic
//! merge patches, and WATCH; a minimal deployment controller (one ReplicaSet per pod
//! template hash, `deployment.kubernetes.io/revision` annotations, the status of a finished
//! rollout). No pod runs: a ReplicaSet reports its replicas ready as soon as it has them.
//!
//! Every object it stores and returns is checked against the JSON schemas of Kubernetes
//! v1.32 (the `kubernetes-validate` package's `v1.32.0-local-strict` files, named by
//! `HUB_K8S_SCHEMAS`); [`test_support::TestCluster`] fails the test on any violation.

mod patch;
mod proto;
mod schema;
mod server;
mod store;
pub mod test_support;

pub use patch::{json_patch, merge_patch, strategic_merge_patch};
pub use schema::{Schemas, files as schema_files};
pub use server::StandIn;
pub use store::REVISION;
