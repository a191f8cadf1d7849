//! Helpers for tests: the schemas and the real clients from the environment, with the
//! skip rule, and a stand-in that fails the test on a schema violation.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::{Schemas, StandIn};

/// The variable that names the schema folder.
pub const SCHEMAS_ENV: &str = "HUB_K8S_SCHEMAS";

/// The schemas named by `HUB_K8S_SCHEMAS`, loaded once per process; `None` after
/// [`hub_testkit::skip`] when the variable is unset.
///
/// # Panics
/// When the variable names a folder whose schemas do not load; under CI when it is unset.
#[must_use]
#[track_caller]
pub fn schemas_from_env() -> Option<Arc<Schemas>> {
    static LOADED: OnceLock<Arc<Schemas>> = OnceLock::new();
    let dir = hub_testkit::path_from_env(
        SCHEMAS_ENV,
        None,
        "the Kubernetes JSON schemas (PyPI kubernetes-validate; .ci/run unpacks v1.32.0-local-strict and sets HUB_K8S_SCHEMAS)",
    )?;
    Some(Arc::clone(LOADED.get_or_init(|| {
        Arc::new(
            Schemas::load(&dir)
                .unwrap_or_else(|e| panic!("{SCHEMAS_ENV} names schemas that do not load: {e}")),
        )
    })))
}

/// A real client: the program `var` names (`HUB_KUBECTL`, `HUB_HELM`), else `name` on
/// `PATH`; `None` after [`hub_testkit::skip`] when neither exists.
///
/// # Panics
/// When `var` names no file; under CI when the client is missing.
#[must_use]
#[track_caller]
pub fn client(var: &str, name: &str) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(var).filter(|v| !v.is_empty()) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "{var} is set to `{}`, which is no file",
            path.display()
        );
        return Some(path);
    }
    let on_path = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|f| f.is_file())
    });
    if on_path.is_none() {
        hub_testkit::skip(&format!(
            "`{name}` not found (set {var} or put it on PATH; .ci/run installs it)"
        ));
    }
    on_path
}

/// A stand-in for one test: fails the test (when dropped, or on
/// [`TestCluster::assert_conforms`]) if any object broke its schema.
#[derive(Debug)]
pub struct TestCluster {
    standin: StandIn,
}

impl TestCluster {
    /// Starts a stand-in, or returns `None` when the schemas are absent (after the skip).
    ///
    /// # Panics
    /// When the server cannot start.
    #[must_use]
    pub fn start() -> Option<TestCluster> {
        let schemas = schemas_from_env()?;
        Some(TestCluster {
            standin: StandIn::start(schemas).expect("the stand-in starts on 127.0.0.1"),
        })
    }

    /// Writes a kubeconfig for it at `path` (see [`StandIn::write_kubeconfig`]).
    ///
    /// # Panics
    /// When the file cannot be written.
    pub fn kubeconfig(&self, path: &Path, namespace: &str) {
        self.standin
            .write_kubeconfig(path, namespace)
            .expect("the kubeconfig is written");
    }

    /// Panics with every recorded violation, if there are any.
    ///
    /// # Panics
    /// When an object did not conform to its schema.
    pub fn assert_conforms(&self) {
        let violations = self.standin.violations();
        assert!(
            violations.is_empty(),
            "{} object(s) exchanged with the Kubernetes stand-in broke the Kubernetes v1.32 schemas:\n- {}",
            violations.len(),
            violations.join("\n- ")
        );
    }
}

impl std::ops::Deref for TestCluster {
    type Target = StandIn;

    fn deref(&self) -> &StandIn {
        &self.standin
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.assert_conforms();
        }
    }
}
