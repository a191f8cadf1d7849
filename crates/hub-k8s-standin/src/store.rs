//! The objects, their metadata as the API server keeps it, selectors, and the minimal
//! deployment controller.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

/// A served resource.
#[derive(Debug, Clone, Copy)]
pub struct Resource {
    pub group: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub short: &'static [&'static str],
}

impl Resource {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            "v1".into()
        } else {
            format!("{}/v1", self.group)
        }
    }

    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }
}

pub const RESOURCES: &[Resource] = &[
    Resource {
        group: "",
        plural: "secrets",
        singular: "secret",
        kind: "Secret",
        short: &[],
    },
    Resource {
        group: "apps",
        plural: "deployments",
        singular: "deployment",
        kind: "Deployment",
        short: &["deploy"],
    },
    Resource {
        group: "apps",
        plural: "replicasets",
        singular: "replicaset",
        kind: "ReplicaSet",
        short: &["rs"],
    },
];

/// `(plural, namespace, name)`.
pub type Key = (String, String, String);

/// A change, as a watch reports it.
#[derive(Debug, Clone)]
pub struct Event {
    pub plural: String,
    pub namespace: String,
    pub kind: &'static str,
    pub object: Value,
}

#[derive(Debug, Default)]
pub struct Store {
    pub objects: BTreeMap<Key, Value>,
    pub resource_version: u64,
    /// Rollouts do not finish while set (see `StandIn::hold_rollouts`).
    pub hold: bool,
    uids: u64,
}

pub const REVISION: &str = "deployment.kubernetes.io/revision";
const HASH_LABEL: &str = "pod-template-hash";

pub fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl Store {
    fn next_rv(&mut self) -> String {
        self.resource_version += 1;
        self.resource_version.to_string()
    }

    /// Stores a new object: uid, resourceVersion, creationTimestamp, generation, defaults.
    pub fn create(&mut self, resource: &Resource, ns: &str, mut object: Value) -> Value {
        self.uids += 1;
        let uid = format!("00000000-0000-4000-8000-{:012x}", self.uids);
        let rv = self.next_rv();
        let meta = object["metadata"]
            .as_object_mut()
            .expect("checked by the caller");
        meta.insert("namespace".into(), json!(ns));
        meta.insert("uid".into(), json!(uid));
        meta.insert("resourceVersion".into(), json!(rv));
        meta.insert("creationTimestamp".into(), json!(now()));
        if resource.plural != "secrets" {
            meta.insert("generation".into(), json!(1));
        }
        object["apiVersion"] = json!(resource.api_version());
        object["kind"] = json!(resource.kind);
        if resource.plural == "deployments" {
            default_deployment(&mut object);
        }
        if resource.plural == "secrets" && object.get("type").is_none() {
            object["type"] = json!("Opaque");
        }
        let name = object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        self.objects
            .insert((resource.plural.into(), ns.into(), name), object.clone());
        object
    }

    /// Replaces a stored object, keeping what the server owns and bumping the generation
    /// when the spec changed.
    pub fn replace(&mut self, key: &Key, mut object: Value) -> Value {
        let old = self.objects.get(key).cloned().unwrap_or(Value::Null);
        for field in ["uid", "creationTimestamp", "namespace"] {
            object["metadata"][field] = old["metadata"][field].clone();
        }
        object["apiVersion"] = old["apiVersion"].clone();
        object["kind"] = old["kind"].clone();
        if key.0 != "secrets" {
            let generation = old["metadata"]["generation"].as_u64().unwrap_or(1);
            let changed = object.get("spec") != old.get("spec");
            object["metadata"]["generation"] =
                json!(if changed { generation + 1 } else { generation });
            if object.get("status").is_none() && old.get("status").is_some() {
                object["status"] = old["status"].clone();
            }
        }
        if key.0 == "deployments" {
            default_deployment(&mut object);
        }
        object["metadata"]["resourceVersion"] = json!(self.next_rv());
        self.objects.insert(key.clone(), object.clone());
        object
    }

    /// The deployment controller, run after every write to a Deployment: one ReplicaSet per
    /// pod template hash, the revision annotations, the status a finished rollout shows.
    /// Pods are not run: ReplicaSets report their replicas ready at once.
    pub fn reconcile(&mut self, ns: &str, name: &str, events: &mut Vec<Event>) {
        let key: Key = ("deployments".into(), ns.into(), name.into());
        let Some(d) = self.objects.get(&key).cloned() else {
            return;
        };
        let uid = d["metadata"]["uid"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let generation = d["metadata"]["generation"].as_u64().unwrap_or(1);
        let replicas = d["spec"]["replicas"].as_u64().unwrap_or(1);
        let mut dn = d.clone();
        if d["spec"]["paused"].as_bool() == Some(true) {
            dn["status"]["observedGeneration"] = json!(generation);
            self.commit(&key, &d, dn, events);
            return;
        }
        let mut template = d["spec"]["template"].clone();
        if let Some(labels) = template["metadata"]["labels"].as_object_mut() {
            labels.remove(HASH_LABEL);
        }
        let hash = template_hash(&template);
        let owned: Vec<Key> = self
            .objects
            .iter()
            .filter(|((plural, n, _), rs)| {
                plural == "replicasets"
                    && n == ns
                    && rs["metadata"]["ownerReferences"]
                        .as_array()
                        .is_some_and(|o| o.iter().any(|r| r["uid"] == json!(uid)))
            })
            .map(|(k, _)| k.clone())
            .collect();
        let revision_of = |rs: &Value| {
            rs["metadata"]["annotations"][REVISION]
                .as_str()
                .and_then(|r| r.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let max = owned
            .iter()
            .map(|k| revision_of(&self.objects[k]))
            .max()
            .unwrap_or(0);
        let current = owned
            .iter()
            .find(|k| self.objects[*k]["metadata"]["labels"][HASH_LABEL] == json!(hash))
            .cloned();
        let (new_key, revision) = match current {
            Some(k) => {
                let rev = revision_of(&self.objects[&k]);
                (k, if rev == max { max } else { max + 1 })
            }
            None => {
                let rs_name = format!("{name}-{hash}");
                let mut labelled = template.clone();
                labelled["metadata"]["labels"][HASH_LABEL] = json!(hash);
                let mut selector = d["spec"]["selector"].clone();
                selector["matchLabels"][HASH_LABEL] = json!(hash);
                let rs = json!({
                    "metadata": {
                        "name": rs_name,
                        "labels": labelled["metadata"]["labels"],
                        "annotations": { REVISION: (max + 1).to_string() },
                        "ownerReferences": [{
                            "apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                            "uid": uid, "controller": true, "blockOwnerDeletion": true
                        }]
                    },
                    "spec": { "replicas": 0, "selector": selector, "template": labelled }
                });
                let created = self.create(&RESOURCES[2], ns, rs);
                events.push(Event {
                    plural: "replicasets".into(),
                    namespace: ns.into(),
                    kind: "ADDED",
                    object: created,
                });
                (("replicasets".into(), ns.into(), rs_name), max + 1)
            }
        };
        let mut all = owned;
        if !all.contains(&new_key) {
            all.push(new_key.clone());
        }
        for k in all {
            let old = self.objects[&k].clone();
            let mut rs = old.clone();
            let want = if k == new_key { replicas } else { 0 };
            rs["spec"]["replicas"] = json!(want);
            if k == new_key {
                rs["metadata"]["annotations"][REVISION] = json!(revision.to_string());
            }
            let rs_generation = if rs.get("spec") != old.get("spec") {
                old["metadata"]["generation"].as_u64().unwrap_or(1) + 1
            } else {
                old["metadata"]["generation"].as_u64().unwrap_or(1)
            };
            rs["metadata"]["generation"] = json!(rs_generation);
            let mut status = json!({ "replicas": want, "observedGeneration": rs_generation });
            if want > 0 && !(self.hold && k == new_key) {
                status["fullyLabeledReplicas"] = json!(want);
                status["readyReplicas"] = json!(want);
                status["availableReplicas"] = json!(want);
            }
            rs["status"] = status;
            self.commit(&k, &old, rs, events);
        }
        let rs_name = new_key.2.clone();
        dn["metadata"]["annotations"][REVISION] = json!(revision.to_string());
        let since = d["status"]["conditions"]
            .as_array()
            .and_then(|c| c.first())
            .and_then(|c| c["lastTransitionTime"].as_str())
            .map_or_else(now, str::to_string);
        dn["status"] = json!({
            "observedGeneration": generation,
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "conditions": [
                {
                    "type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                    "message": "Deployment has minimum availability.",
                    "lastUpdateTime": since, "lastTransitionTime": since
                },
                {
                    "type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                    "message": format!("ReplicaSet \"{rs_name}\" has successfully progressed."),
                    "lastUpdateTime": now(), "lastTransitionTime": since
                }
            ]
        });
        if replicas == 0 || self.hold {
            for field in ["readyReplicas", "availableReplicas"] {
                dn["status"]
                    .as_object_mut()
                    .expect("made above")
                    .remove(field);
            }
        }
        if self.hold {
            dn["status"]["conditions"] = json!([{
                "type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated",
                "message": format!("ReplicaSet \"{rs_name}\" is progressing."),
                "lastUpdateTime": now(), "lastTransitionTime": since
            }]);
        }
        self.commit(&key, &d, dn, events);
    }

    /// Stores `new` under `key` with a fresh resourceVersion when it differs from `old`.
    fn commit(&mut self, key: &Key, old: &Value, mut new: Value, events: &mut Vec<Event>) {
        if &new == old {
            return;
        }
        new["metadata"]["resourceVersion"] = json!(self.next_rv());
        self.objects.insert(key.clone(), new.clone());
        events.push(Event {
            plural: key.0.clone(),
            namespace: key.1.clone(),
            kind: "MODIFIED",
            object: new,
        });
    }
}

fn default_deployment(d: &mut Value) {
    let spec = &mut d["spec"];
    if !spec.is_object() {
        return;
    }
    for (field, value) in [
        ("replicas", json!(1)),
        ("revisionHistoryLimit", json!(10)),
        ("progressDeadlineSeconds", json!(600)),
        (
            "strategy",
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}),
        ),
    ] {
        if spec.get(field).is_none_or(Value::is_null) {
            spec[field] = value;
        }
    }
}

/// The pod template's hash, in the alphabet Kubernetes spells it with.
fn template_hash(template: &Value) -> String {
    let text = canonical(template).to_string();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..10)
        .map(|_| {
            let c = char::from(ALPHABET[(h % 27) as usize]);
            h /= 27;
            c
        })
        .collect()
}

/// The value with every object's keys sorted and its empty fields dropped (`null`, `{}`,
/// `[]`: what a client's typed structs add, like `creationTimestamp: null` and
/// `resources: {}`, and the API server's defaulting makes equal).
fn canonical(v: &Value) -> Value {
    let empty = |v: &Value| match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    };
    match v {
        Value::Object(m) => {
            let sorted: BTreeMap<&String, Value> = m
                .iter()
                .map(|(k, v)| (k, canonical(v)))
                .filter(|(_, v)| !empty(v))
                .collect();
            Value::Object(
                sorted
                    .into_iter()
                    .map(|(k, v)| (k.clone(), v))
                    .collect::<Map<_, _>>(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// A label selector (`a=b,c!=d,e,!f,g in (x,y),h notin (z)`) or field selector, as a test.
pub fn selector_matches(selector: &str, value: &dyn Fn(&str) -> Option<String>) -> bool {
    let mut terms = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in selector.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                terms.push(&selector[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    terms.push(&selector[start..]);
    terms
        .into_iter()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .all(|term| {
            if let Some((k, v)) = term.split_once("!=") {
                return value(k.trim()).as_deref() != Some(v.trim());
            }
            if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                return value(k.trim()).as_deref() == Some(v.trim());
            }
            let set = |t: &str, op: &str| {
                t.split_once(op).map(|(k, rest)| {
                    let items: Vec<String> = rest
                        .trim()
                        .trim_start_matches('(')
                        .trim_end_matches(')')
                        .split(',')
                        .map(|s| s.trim().to_string())
                        .collect();
                    (k.trim().to_string(), items)
                })
            };
            if let Some((k, items)) = set(term, " notin ") {
                return value(&k).is_none_or(|v| !items.contains(&v));
            }
            if let Some((k, items)) = set(term, " in ") {
                return value(&k).is_some_and(|v| items.contains(&v));
            }
            if let Some(k) = term.strip_prefix('!') {
                return value(k.trim()).is_none();
            }
            value(term).is_some()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors() {
        let labels = |k: &str| match k {
            "owner" => Some("helm".to_string()),
            "name" => Some("web".to_string()),
            _ => None,
        };
        assert!(selector_matches("owner=helm,name=web", &labels));
        assert!(!selector_matches("owner=helm,name=api", &labels));
        assert!(selector_matches("name in (api, web),!status", &labels));
        assert!(!selector_matches("name notin (web)", &labels));
        assert!(selector_matches("owner!=x,name", &labels));
        assert!(selector_matches("", &labels));
    }

    #[test]
    fn the_hash_ignores_key_order_and_differs_by_template() {
        let a = json!({"spec": {"containers": [{"name": "web", "image": "web:1"}]}});
        let b = json!({"spec": {"containers": [{"image": "web:1", "name": "web"}]}});
        let c = json!({"spec": {"containers": [{"image": "web:2", "name": "web"}]}});
        assert_eq!(template_hash(&a), template_hash(&b));
        assert_ne!(template_hash(&a), template_hash(&c));
    }
}
