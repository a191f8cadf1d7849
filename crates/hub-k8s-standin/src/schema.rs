//! The Kubernetes JSON schemas of one pinned version, as `kubernetes-validate` ships them
//! (`v1.32.0-local-strict/`: one file per kind whose `$ref`s point into `_definitions.json`).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

/// The kinds the stand-in serves, with their schema files.
const KINDS: &[(&str, &str)] = &[
    ("Deployment", "deployment-apps-v1.json"),
    ("DeploymentList", "deploymentlist-apps-v1.json"),
    ("ReplicaSet", "replicaset-apps-v1.json"),
    ("ReplicaSetList", "replicasetlist-apps-v1.json"),
    ("Secret", "secret-v1.json"),
    ("SecretList", "secretlist-v1.json"),
    ("Status", "status-meta-v1.json"),
];

/// The schema files the stand-in needs in the folder [`Schemas::load`] reads.
#[must_use]
pub fn files() -> Vec<&'static str> {
    let mut all: Vec<&str> = KINDS.iter().map(|(_, f)| *f).collect();
    all.push("_definitions.json");
    all
}

/// Compiled validators, one per kind.
pub struct Schemas {
    validators: BTreeMap<&'static str, jsonschema::Validator>,
}

impl std::fmt::Debug for Schemas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schemas")
            .field("kinds", &self.validators.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Schemas {
    /// Reads and compiles the schemas in `dir` (a `…-local-strict` folder, or a copy of the
    /// files [`files`] names).
    ///
    /// # Errors
    /// A file that is missing, not JSON, or does not compile, named.
    pub fn load(dir: &Path) -> Result<Schemas, String> {
        let read = |name: &str| -> Result<Value, String> {
            let path = dir.join(name);
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            // The per-kind files point into `/api/_definitions.json`; the copy of its
            // `$defs` put beside them makes each one self-contained.
            let text = text.replace("\"/api/_definitions.json#", "\"#");
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
        };
        let definitions = read("_definitions.json")?;
        let defs = definitions
            .get("$defs")
            .cloned()
            .ok_or_else(|| format!("{}: no `$defs`", dir.join("_definitions.json").display()))?;
        let mut validators = BTreeMap::new();
        for (kind, file) in KINDS {
            let mut schema = read(file)?;
            let Some(object) = schema.as_object_mut() else {
                return Err(format!("{file}: not a JSON object"));
            };
            object.insert("$defs".into(), defs.clone());
            let validator = jsonschema::draft202012::options()
                .build(&schema)
                .map_err(|e| format!("{file} does not compile: {e}"))?;
            validators.insert(*kind, validator);
        }
        Ok(Schemas { validators })
    }

    /// Every way `object` breaks the schema of `kind` (empty when it conforms); a kind
    /// without a schema is itself a violation.
    #[must_use]
    pub fn violations(&self, kind: &str, object: &Value) -> Vec<String> {
        let Some(validator) = self.validators.get(kind) else {
            return vec![format!("no schema for kind `{kind}`")];
        };
        validator
            .iter_errors(object)
            .map(|e| format!("{kind} at `{}`: {e}", e.instance_path()))
            .collect()
    }
}
