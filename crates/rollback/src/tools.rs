//! What `kubectl`, `helm` and `docker compose` print, read into plain values, and the
//! decisions made on them. Pure: the shell runs the programs.

use serde_json::Value;

/// The revision annotation Kubernetes keeps on a Deployment and its ReplicaSets.
pub const REVISION: &str = "deployment.kubernetes.io/revision";

/// A container: its name and image reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Container {
    pub name: String,
    pub image: String,
}

/// The parts of `kubectl get deployment -o json` a rollback needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct K8sDeployment {
    pub uid: String,
    pub paused: bool,
    pub revision: Option<u64>,
    pub containers: Vec<Container>,
    /// Who else owns it, with what to do instead.
    pub gitops: Option<String>,
}

fn containers(template_spec: &Value) -> Vec<Container> {
    template_spec["containers"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .filter_map(|c| {
                    Some(Container {
                        name: c["name"].as_str()?.to_string(),
                        image: c["image"].as_str()?.to_string(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

fn revision(metadata: &Value) -> Option<u64> {
    metadata["annotations"][REVISION].as_str()?.parse().ok()
}

fn parse_json(what: &str, text: &str) -> Result<Value, String> {
    serde_json::from_str(text)
        .map_err(|e| format!("cannot read the output of `{what}` as JSON: {e}"))
}

/// Reads `kubectl get deployment NAME -n NS -o json`.
pub fn k8s_deployment(text: &str) -> Result<K8sDeployment, String> {
    let v = parse_json("kubectl get deployment", text)?;
    if v["kind"] != "Deployment" {
        return Err("`kubectl get deployment` did not print a Deployment".into());
    }
    let meta = &v["metadata"];
    let name = meta["name"].as_str().unwrap_or_default();
    let label = |k: &str| meta["labels"][k].as_str().filter(|s| !s.is_empty());
    let annotation = |k: &str| meta["annotations"][k].as_str().filter(|s| !s.is_empty());
    // Argo CD tracks what it manages with a label (`argocd.argoproj.io/instance`, or
    // `app.kubernetes.io/instance` in its older default, which Helm charts set too — so
    // that one only counts next to Argo's annotation) or with the annotation alone
    // (`<app>:<group>/<kind>:<ns>/<name>`, the default tracking from Argo CD 3.0).
    let argo = label("argocd.argoproj.io/instance").or_else(|| {
        let tracking = annotation("argocd.argoproj.io/tracking-id")?;
        label("app.kubernetes.io/instance")
            .or_else(|| tracking.split(':').next().filter(|app| !app.is_empty()))
    });
    let flux = [
        ("kustomize.toolkit.fluxcd.io", "Kustomization"),
        ("helm.toolkit.fluxcd.io", "HelmRelease"),
    ]
    .into_iter()
    .find_map(|(group, kind)| {
        let owner = label(&format!("{group}/name"))?;
        let ns = label(&format!("{group}/namespace")).unwrap_or("flux-system");
        Some((kind, owner, ns))
    });
    let gitops = match (argo, flux) {
        (Some(app), _) => Some(format!(
            "deployment `{name}` is managed by Argo CD (application `{app}`): a kubectl rollback would be undone by the next sync; roll back in Argo CD (`argocd app rollback {app}`) or revert the change in git"
        )),
        (None, Some((kind, owner, ns))) => Some(format!(
            "deployment `{name}` is managed by Flux ({kind} `{owner}` in `{ns}`): a kubectl rollback would be undone by the next reconciliation; revert the change in git (or `flux suspend` the {kind} first)"
        )),
        (None, None) => None,
    };
    Ok(K8sDeployment {
        uid: meta["uid"].as_str().unwrap_or_default().to_string(),
        paused: v["spec"]["paused"].as_bool().unwrap_or(false),
        revision: revision(meta),
        containers: containers(&v["spec"]["template"]["spec"]),
        gitops,
    })
}

/// A ReplicaSet of a Deployment: its revision and containers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaSet {
    pub revision: u64,
    pub containers: Vec<Container>,
}

/// Reads `kubectl get replicasets -n NS -o json`, keeping those the Deployment `uid` owns.
pub fn replica_sets(text: &str, uid: &str) -> Result<Vec<ReplicaSet>, String> {
    let v = parse_json("kubectl get replicasets", text)?;
    let items = v["items"]
        .as_array()
        .ok_or("`kubectl get replicasets` did not print a list")?;
    let mut sets: Vec<ReplicaSet> = items
        .iter()
        .filter(|rs| {
            rs["metadata"]["ownerReferences"]
                .as_array()
                .is_some_and(|o| {
                    o.iter()
                        .any(|r| r["uid"] == uid && r["kind"] == "Deployment")
                })
        })
        .filter_map(|rs| {
            Some(ReplicaSet {
                revision: revision(&rs["metadata"])?,
                containers: containers(&rs["spec"]["template"]["spec"]),
            })
        })
        .collect();
    sets.sort_by_key(|s| std::cmp::Reverse(s.revision));
    Ok(sets)
}

/// The tag of an image reference (`ghcr.io/o/app:1.2.0@sha256:…` → `1.2.0`), if any.
pub fn image_tag(image: &str) -> Option<&str> {
    let image = image.split('@').next().unwrap_or(image);
    let last = image.rsplit('/').next().unwrap_or(image);
    last.split_once(':').map(|(_, tag)| tag)
}

/// The repository of an image reference (without tag or digest).
pub fn image_repository(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    match image_tag(image) {
        Some(tag) => &image[..image.len() - tag.len() - 1],
        None => image,
    }
}

/// One `helm history -o json` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HelmRevision {
    pub revision: u64,
    pub status: String,
    pub chart: String,
    pub app_version: String,
}

/// Reads `helm history RELEASE -o json` (oldest first), sorted newest first.
pub fn helm_history(text: &str) -> Result<Vec<HelmRevision>, String> {
    let v = parse_json("helm history", text)?;
    let items = v.as_array().ok_or("`helm history` did not print a list")?;
    let mut revisions = items
        .iter()
        .map(|r| {
            Ok(HelmRevision {
                revision: r["revision"]
                    .as_u64()
                    .ok_or("a `helm history` entry has no revision")?,
                status: r["status"].as_str().unwrap_or_default().to_string(),
                chart: r["chart"].as_str().unwrap_or_default().to_string(),
                app_version: r["app_version"].as_str().unwrap_or_default().to_string(),
            })
        })
        .collect::<Result<Vec<_>, &str>>()?;
    revisions.sort_by_key(|r| std::cmp::Reverse(r.revision));
    Ok(revisions)
}

/// The helm decision: the live revision, and the one to go back to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HelmChoice {
    pub current: Option<HelmRevision>,
    pub target: HelmRevision,
}

/// The revision live in the cluster (`history` newest first): the `deployed` one, unless a
/// newer upgrade `failed` — its resources may be partly applied, so that one is what is
/// being rolled back from, and the `deployed` one below it is good again.
pub fn helm_live(history: &[HelmRevision]) -> Option<&HelmRevision> {
    let deployed = history.iter().find(|r| r.status == "deployed");
    match history.first() {
        Some(newest)
            if newest.status == "failed"
                && deployed.is_some_and(|d| d.revision < newest.revision) =>
        {
            Some(newest)
        }
        _ => deployed,
    }
}

/// Chooses the revision explicitly: one whose `app_version` is `wanted` (when a version was
/// chosen), else the newest `superseded` or `deployed` revision below the live one
/// ([`helm_live`]) — never blindly the previous number, which may have `failed`. A newest
/// revision in a `pending-*` state means another operation is under way (Helm refuses
/// every operation then): refused. An older one left `pending-*` by a helm that was killed,
/// and recovered from since, does not block.
pub fn helm_choose(
    release: &str,
    history: &[HelmRevision],
    wanted: Option<&dyn Fn(&str) -> bool>,
) -> Result<HelmChoice, String> {
    if let Some(p) = history.first().filter(|r| r.status.starts_with("pending-")) {
        return Err(format!(
            "release `{release}` has an operation under way (revision {} is `{}`): wait for it to finish; if the helm that started it was killed, the release stays stuck until someone recovers it deliberately (inspect `helm history {release}`, then `helm rollback {release} <good revision>`)",
            p.revision, p.status
        ));
    }
    let current = helm_live(history).cloned();
    let good = |r: &&HelmRevision| r.status == "superseded" || r.status == "deployed";
    // Below the live revision, and not the live app version again (a revision that was
    // itself a rollback repeats an older one's).
    let below = |r: &&HelmRevision| {
        current
            .as_ref()
            .is_none_or(|c| r.revision < c.revision && r.app_version != c.app_version)
    };
    let target = match wanted {
        Some(matches) => history
            .iter()
            .filter(good)
            .find(|r| matches(&r.app_version))
            .cloned()
            .ok_or_else(|| {
                format!("no deployed or superseded revision of release `{release}` has that app version")
            })?,
        None => history
            .iter()
            .filter(good)
            .find(below)
            .cloned()
            .ok_or_else(|| {
                format!("release `{release}` has no earlier good revision (`superseded`) to roll back to")
            })?,
    };
    Ok(HelmChoice { current, target })
}

/// One service container from `docker compose ps --format json` (a JSON array in older
/// Compose releases, one object per line in newer ones).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComposeContainer {
    pub service: String,
    pub image: String,
    pub state: String,
    /// `healthy`, `starting`, `unhealthy`, or empty without a health check.
    pub health: String,
}

/// Reads `docker compose ps --format json`.
pub fn compose_ps(text: &str) -> Result<Vec<ComposeContainer>, String> {
    let text = text.trim();
    let values: Vec<Value> = if text.starts_with('[') {
        match parse_json("docker compose ps", text)? {
            Value::Array(a) => a,
            _ => Vec::new(),
        }
    } else {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| parse_json("docker compose ps", l))
            .collect::<Result<_, _>>()?
    };
    Ok(values
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap_or_default().to_string();
            ComposeContainer {
                service: s("Service"),
                image: s("Image"),
                state: s("State"),
                health: s("Health"),
            }
        })
        .collect())
}

/// The top-level extension field of the Compose override that records the rollback that
/// wrote it (Compose ignores `x-` fields).
pub const COMPOSE_RECORD: &str = "x-hub-rollback";

/// The `(from, to)` a Compose override written by a rollback records, if it does.
pub fn compose_recorded(text: &str) -> Option<(String, String)> {
    let v: Value = serde_json::from_str(text).ok()?;
    let r = &v[COMPOSE_RECORD];
    Some((
        r["from"].as_str()?.to_string(),
        r["to"].as_str()?.to_string(),
    ))
}

/// Whether every container of the service runs `image` and is healthy (running, and
/// `healthy` when it has a health check).
pub fn compose_ready(containers: &[ComposeContainer], image: &str) -> Result<(), String> {
    if containers.is_empty() {
        return Err("no container is running".into());
    }
    for c in containers {
        if c.image != image {
            return Err(format!("a container still runs `{}`", c.image));
        }
        if c.state != "running" {
            return Err(format!("a container is `{}`", c.state));
        }
        if !(c.health.is_empty() || c.health == "healthy") {
            return Err(format!("a container is `{}`", c.health));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use serde_json::{Value, json};

    const UID: &str = "0f6c5f2e-8d7a-4f5e-9a57-2b1c3d4e5f60";

    /// `kubectl get deployment -o json`'s shape (the real client against the stand-in is
    /// in `tests/tools.rs`), with the owner's marks given.
    fn deployment(labels: &Value, annotations: &Value, paused: bool) -> String {
        let mut d = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {
                "name": "web", "namespace": "shop", "uid": UID,
                "labels": {"app": "web"},
                "annotations": {"deployment.kubernetes.io/revision": "3"}
            },
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "ghcr.io/org/web:1.2.0"}]}
                }
            }
        });
        if paused {
            d["spec"]["paused"] = json!(true);
        }
        for (field, extra) in [("labels", labels), ("annotations", annotations)] {
            for (k, v) in extra.as_object().into_iter().flatten() {
                d["metadata"][field][k] = v.clone();
            }
        }
        d.to_string()
    }

    /// `kubectl get replicasets -o json`: `(owner, owner uid, revision, image)` each.
    fn replica_set_list(sets: &[(&str, &str, u64, &str)]) -> String {
        let items: Vec<Value> = sets
            .iter()
            .map(|(owner, uid, revision, image)| {
                json!({
                    "apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "metadata": {
                        "name": format!("{owner}-{revision}"),
                        "annotations": {"deployment.kubernetes.io/revision": revision.to_string()},
                        "ownerReferences": [{
                            "apiVersion": "apps/v1", "kind": "Deployment", "name": owner,
                            "uid": uid, "controller": true
                        }]
                    },
                    "spec": {"template": {"spec": {"containers": [{"name": owner, "image": image}]}}}
                })
            })
            .collect();
        json!({"apiVersion": "apps/v1", "kind": "ReplicaSetList", "items": items}).to_string()
    }

    /// `helm history -o json`: `(revision, status, chart, app version)` each, oldest first.
    fn history(revisions: &[(u64, &str, &str, &str)]) -> String {
        let all: Vec<Value> = revisions
            .iter()
            .map(|(revision, status, chart, app)| {
                json!({
                    "revision": revision, "updated": "2026-11-18T10:02:11.482913671Z",
                    "status": status, "chart": chart, "app_version": app,
                    "description": "Upgrade complete"
                })
            })
            .collect();
        Value::Array(all).to_string()
    }

    const GOOD: [(u64, &str, &str, &str); 4] = [
        (1, "superseded", "web-0.4.0", "1.0.0"),
        (2, "superseded", "web-0.4.1", "1.1.0"),
        (3, "failed", "web-0.5.0", "1.2.0"),
        (4, "deployed", "web-0.5.1", "1.2.1"),
    ];

    fn with(more: &[(u64, &'static str, &'static str, &'static str)]) -> String {
        let mut all = GOOD.to_vec();
        all.extend_from_slice(more);
        history(&all)
    }

    #[test]
    fn kubectl_deployments_and_their_owners() {
        let d = k8s_deployment(&deployment(&json!({}), &json!({}), false)).unwrap();
        assert!(!d.paused);
        assert_eq!(d.revision, Some(3));
        assert_eq!(d.gitops, None);
        assert_eq!(
            d.containers,
            [Container {
                name: "web".into(),
                image: "ghcr.io/org/web:1.2.0".into()
            }]
        );
        assert!(
            k8s_deployment(&deployment(&json!({}), &json!({}), true))
                .unwrap()
                .paused
        );
        let argo = k8s_deployment(&deployment(
            &json!({"app.kubernetes.io/instance": "shop-web"}),
            &json!({"argocd.argoproj.io/tracking-id": "shop-web:apps/Deployment:shop/web"}),
            false,
        ))
        .unwrap();
        assert!(
            argo.gitops
                .unwrap()
                .contains("managed by Argo CD (application `shop-web`)")
        );
        let annotated = k8s_deployment(&deployment(
            &json!({}),
            &json!({"argocd.argoproj.io/tracking-id": "shop-web:apps/Deployment:shop/web"}),
            false,
        ))
        .unwrap();
        assert!(
            annotated
                .gitops
                .unwrap()
                .contains("managed by Argo CD (application `shop-web`)"),
            "annotation tracking alone is enough"
        );
        let flux = k8s_deployment(&deployment(
            &json!({
                "kustomize.toolkit.fluxcd.io/name": "apps",
                "kustomize.toolkit.fluxcd.io/namespace": "flux-system"
            }),
            &json!({}),
            false,
        ))
        .unwrap();
        assert!(
            flux.gitops
                .unwrap()
                .contains("managed by Flux (Kustomization `apps` in `flux-system`)")
        );
        let sets = replica_sets(
            &replica_set_list(&[
                ("web", UID, 1, "ghcr.io/org/web:1.0.0"),
                ("web", UID, 2, "ghcr.io/org/web:1.1.0"),
                ("web", UID, 3, "ghcr.io/org/web:1.2.0"),
                (
                    "api",
                    "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b",
                    7,
                    "ghcr.io/org/api:1.1.0",
                ),
            ]),
            &d.uid,
        )
        .unwrap();
        let revs: Vec<(u64, &str)> = sets
            .iter()
            .map(|s| (s.revision, s.containers[0].image.as_str()))
            .collect();
        assert_eq!(
            revs,
            [
                (3, "ghcr.io/org/web:1.2.0"),
                (2, "ghcr.io/org/web:1.1.0"),
                (1, "ghcr.io/org/web:1.0.0")
            ],
            "the api deployment's replica set is not ours"
        );
        assert!(k8s_deployment("{\"kind\":\"Service\"}").is_err());
    }

    #[test]
    fn image_references() {
        assert_eq!(image_tag("ghcr.io/org/web:1.2.0"), Some("1.2.0"));
        assert_eq!(image_tag("localhost:5000/web"), None);
        assert_eq!(image_tag("localhost:5000/web:v1@sha256:ab"), Some("v1"));
        assert_eq!(
            image_repository("localhost:5000/web:v1"),
            "localhost:5000/web"
        );
        assert_eq!(image_repository("web"), "web");
    }

    #[test]
    fn helm_picks_a_good_revision_explicitly() {
        let h = helm_history(&history(&GOOD)).unwrap();
        let c = helm_choose("web", &h, None).unwrap();
        assert_eq!(c.current.unwrap().revision, 4);
        // Revision 3 is current-1, but it failed.
        assert_eq!(
            (c.target.revision, c.target.app_version.as_str()),
            (2, "1.1.0")
        );
        let only_100 = |v: &str| v == "1.0.0";
        let c = helm_choose("web", &h, Some(&only_100)).unwrap();
        assert_eq!(c.target.revision, 1);
        let failed = |v: &str| v == "1.2.0";
        assert!(helm_choose("web", &h, Some(&failed)).is_err());
        let pending = helm_history(&with(&[(5, "pending-upgrade", "web-0.5.2", "1.2.2")])).unwrap();
        let e = helm_choose("web", &pending, None).unwrap_err();
        assert!(e.contains("revision 5 is `pending-upgrade`"), "{e}");
        // A stuck pending-upgrade that was recovered from (revision 6 rolled back to 4)
        // no longer blocks: the live revision is 6 (1.2.1); revision 4 ran the same
        // version and 3 failed, so the target is 2.
        let stale = helm_history(&history(&[
            (1, "superseded", "web-0.4.0", "1.0.0"),
            (2, "superseded", "web-0.4.1", "1.1.0"),
            (3, "failed", "web-0.5.0", "1.2.0"),
            (4, "superseded", "web-0.5.1", "1.2.1"),
            (5, "pending-upgrade", "web-0.5.2", "1.2.2"),
            (6, "deployed", "web-0.5.1", "1.2.1"),
        ]))
        .unwrap();
        let c = helm_choose("web", &stale, None).unwrap();
        assert_eq!(c.current.unwrap().revision, 6);
        assert_eq!(
            (c.target.revision, c.target.app_version.as_str()),
            (2, "1.1.0")
        );
        // An upgrade that failed after revision 4: its partly applied resources are live,
        // so revision 4 (still `deployed`) is the one to go back to, not below it.
        let failed = helm_history(&with(&[(5, "failed", "web-0.6.0", "1.3.0")])).unwrap();
        assert_eq!(helm_live(&failed).unwrap().revision, 5);
        let c = helm_choose("web", &failed, None).unwrap();
        assert_eq!(c.current.unwrap().revision, 5);
        assert_eq!(
            (c.target.revision, c.target.app_version.as_str()),
            (4, "1.2.1")
        );
    }

    #[test]
    fn compose_ps_in_both_shapes() {
        // The fields read, in the two shapes: one object per line (Compose 2.21 and later,
        // which the real-engine tests in `tests/compose.rs` run) and one JSON array (older).
        let line = |image: &str, health: &str| {
            serde_json::json!({"Service": "web", "Image": image, "State": "running", "Health": health})
                .to_string()
        };
        let after = format!("{}\n", line("ghcr.io/org/web:1.1.0", "healthy"));
        let lines = compose_ps(&after).unwrap();
        assert_eq!(lines[0].service, "web");
        assert!(compose_ready(&lines, "ghcr.io/org/web:1.1.0").is_ok());
        let array = format!("[{}]", line("ghcr.io/org/web:1.1.0", "starting"));
        let starting = compose_ps(&array).unwrap();
        assert_eq!(
            compose_ready(&starting, "ghcr.io/org/web:1.1.0").unwrap_err(),
            "a container is `starting`"
        );
        let before = compose_ps(&line("ghcr.io/org/web:1.2.0", "healthy")).unwrap();
        assert_eq!(
            compose_ready(&before, "ghcr.io/org/web:1.1.0").unwrap_err(),
            "a container still runs `ghcr.io/org/web:1.2.0`"
        );
        assert!(compose_ready(&[], "x").is_err());
    }
}
