//! The HTTP server: discovery, the served resources' REST verbs, watches.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::{Body, Bytes};
use axum::extract::{Query, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};
use tokio::sync::{broadcast, watch};

use crate::patch;
use crate::schema::Schemas;
use crate::store::{Event, Key, RESOURCES, Resource, Store, selector_matches};

struct App {
    store: Mutex<Store>,
    schemas: Arc<Schemas>,
    violations: Mutex<Vec<String>>,
    refusals: Mutex<Vec<String>>,
    requests: Mutex<Vec<String>>,
    events: broadcast::Sender<Event>,
    stop: watch::Receiver<bool>,
    address: SocketAddr,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A running stand-in on 127.0.0.1. Dropping it stops the server.
pub struct StandIn {
    app: Arc<App>,
    stop: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for StandIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StandIn").field("url", &self.url()).finish()
    }
}

impl StandIn {
    /// Binds a free port on 127.0.0.1 and serves on a background thread.
    ///
    /// # Errors
    /// When the port cannot be bound or the runtime cannot start.
    pub fn start(schemas: Arc<Schemas>) -> std::io::Result<StandIn> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
        listener.set_nonblocking(true)?;
        let address = listener.local_addr()?;
        let (stop, stopped) = watch::channel(false);
        let app = Arc::new(App {
            store: Mutex::new(Store::default()),
            schemas,
            violations: Mutex::new(Vec::new()),
            refusals: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
            events: broadcast::channel(1024).0,
            stop: stopped.clone(),
            address,
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let served = Arc::clone(&app);
        let thread = std::thread::Builder::new()
            .name("k8s-standin".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    let router = axum::Router::new().fallback(handle).with_state(served);
                    let mut stopped = stopped;
                    let _ = axum::serve(listener, router)
                        .with_graceful_shutdown(async move {
                            let _ = stopped.wait_for(|s| *s).await;
                        })
                        .await;
                });
            })?;
        Ok(StandIn {
            app,
            stop,
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:<port>`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.app.address)
    }

    /// Writes a kubeconfig file for this server (plain HTTP, no credentials), with
    /// `namespace` as the context's namespace.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn write_kubeconfig(&self, path: &Path, namespace: &str) -> std::io::Result<()> {
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: standin\n  cluster:\n    server: {}\ncontexts:\n- name: standin\n  context:\n    cluster: standin\n    user: standin\n    namespace: {namespace}\ncurrent-context: standin\nusers:\n- name: standin\n  user: {{}}\n",
            self.url()
        );
        std::fs::write(path, text)
    }

    /// Every object the stand-in stored or returned that broke its schema, described: a
    /// fault of the stand-in, which fails a [`crate::test_support::TestCluster`] test.
    #[must_use]
    pub fn violations(&self) -> Vec<String> {
        lock(&self.app.violations).clone()
    }

    /// Every object a client sent that broke its schema (and was refused with 422).
    #[must_use]
    pub fn refusals(&self) -> Vec<String> {
        lock(&self.app.refusals).clone()
    }

    /// While held, a Deployment the controller reconciles (one written to) reports no ready
    /// replica in its new ReplicaSet, as when the pods never become ready: `rollout status`
    /// and `helm --wait` keep waiting. Releasing finishes every rollout.
    pub fn hold_rollouts(&self, hold: bool) {
        let mut events = Vec::new();
        {
            let mut store = lock(&self.app.store);
            store.hold = hold;
            if hold {
                return;
            }
            let deployments: Vec<(String, String)> = store
                .objects
                .keys()
                .filter(|(plural, _, _)| plural == "deployments")
                .map(|(_, ns, name)| (ns.clone(), name.clone()))
                .collect();
            for (ns, name) in deployments {
                store.reconcile(&ns, &name, &mut events);
            }
        }
        self.app.publish(events);
    }

    /// Every request served, as `METHOD path?query [content-type]`.
    #[must_use]
    pub fn requests(&self) -> Vec<String> {
        lock(&self.app.requests).clone()
    }

    /// The stored object `plural` (`deployments`, `replicasets`, `secrets`) `name` in `ns`.
    #[must_use]
    pub fn get(&self, plural: &str, ns: &str, name: &str) -> Option<Value> {
        lock(&self.app.store)
            .objects
            .get(&(plural.to_string(), ns.to_string(), name.to_string()))
            .cloned()
    }

    /// Every stored object of `plural` in `ns`, by name.
    #[must_use]
    pub fn list(&self, plural: &str, ns: &str) -> Vec<Value> {
        lock(&self.app.store)
            .objects
            .iter()
            .filter(|((p, n, _), _)| p == plural && n == ns)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Asks the server to stop and waits for it.
    pub fn stop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.stop();
    }
}

fn json_response(status: StatusCode, value: &Value) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(value.to_string()))
        .expect("a valid response")
}

fn status(code: StatusCode, reason: &str, message: String, details: Option<Value>) -> Response {
    let mut body = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "message": message, "reason": reason, "code": code.as_u16()
    });
    if let Some(details) = details {
        body["details"] = details;
    }
    json_response(code, &body)
}

fn not_found(r: &Resource, name: &str) -> Response {
    let qualified = if r.group.is_empty() {
        r.plural.to_string()
    } else {
        format!("{}.{}", r.plural, r.group)
    };
    status(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!("{qualified} \"{name}\" not found"),
        Some(json!({"name": name, "group": r.group, "kind": r.plural})),
    )
}

impl App {
    /// Checks an object a client sent: what breaks the schema is refused (422, as the API
    /// server does with `fieldValidation=Strict`) and recorded in [`StandIn::refusals`].
    fn check_request(&self, context: &str, kind: &str, object: &Value) -> Vec<String> {
        let found = self.schemas.violations(kind, object);
        lock(&self.refusals).extend(found.iter().map(|v| format!("{context}: {v}")));
        found
    }

    /// Checks `object` against its kind's schema; records and returns the violations.
    fn check(&self, context: &str, kind: &str, object: &Value) -> Vec<String> {
        let found = self.schemas.violations(kind, object);
        if !found.is_empty() {
            let mut all = lock(&self.violations);
            all.extend(found.iter().map(|v| format!("{context}: {v}")));
        }
        found
    }

    /// Answers with `object` after checking it.
    fn reply(&self, context: &str, code: StatusCode, kind: &str, object: &Value) -> Response {
        self.check(context, kind, object);
        json_response(code, object)
    }

    fn publish(&self, events: Vec<Event>) {
        for event in events {
            let _ = self.events.send(event);
        }
    }
}

/// Where a request goes.
struct Target {
    resource: &'static Resource,
    namespace: Option<String>,
    name: Option<String>,
    subresource: Option<String>,
}

fn route(path: &str) -> Option<Target> {
    let rest = path
        .strip_prefix("/api/v1/")
        .map(|r| ("", r))
        .or_else(|| path.strip_prefix("/apis/apps/v1/").map(|r| ("apps", r)))?;
    let (group, rest) = rest;
    let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
    let (namespace, parts) = match parts.as_slice() {
        ["namespaces", ns, more @ ..] if !more.is_empty() => (Some((*ns).to_string()), more),
        _ => (None, parts.as_slice()),
    };
    let resource = RESOURCES
        .iter()
        .find(|r| r.group == group && Some(&r.plural) == parts.first())?;
    Some(Target {
        resource,
        namespace,
        name: parts.get(1).map(|s| (*s).to_string()),
        subresource: parts.get(2).map(|s| (*s).to_string()),
    })
}

async fn handle(State(app): State<Arc<App>>, request: Request) -> Response {
    let method = request.method().clone();
    let uri = request.uri().clone();
    let path = uri.path().to_string();
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    lock(&app.requests).push(format!(
        "{method} {}{}",
        uri.path_and_query().map_or(path.as_str(), |p| p.as_str()),
        if content_type.is_empty() {
            String::new()
        } else {
            format!(" [{content_type}]")
        }
    ));
    let query: HashMap<String, String> = Query::try_from_uri(&uri)
        .map(|Query(q)| q)
        .unwrap_or_default();
    let body = match axum::body::to_bytes(request.into_body(), 16 << 20).await {
        Ok(b) => b,
        Err(e) => {
            return status(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                format!("unreadable body: {e}"),
                None,
            );
        }
    };
    // Protocol buffers: only the Secrets helm's release storage writes (see `proto`).
    let protobuf = content_type.starts_with("application/vnd.kubernetes.protobuf");
    if method == Method::GET
        && let Some(doc) = discovery(&path, app.address)
    {
        return json_response(StatusCode::OK, &doc);
    }
    let Some(target) = route(&path) else {
        return status(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("the server could not find the requested resource ({method} {path})"),
            None,
        );
    };
    if target.subresource.is_some() {
        return status(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("subresource of {path} is not served by the stand-in"),
            None,
        );
    }
    let context = format!("{method} {path}");
    let r = target.resource;
    let body = if protobuf {
        if r.plural != "secrets" {
            return status(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UnsupportedMediaType",
                format!("the stand-in reads protobuf Secrets only, not {}", r.plural),
                None,
            );
        }
        match crate::proto::secret(&body) {
            Ok(v) => Bytes::from(v.to_string()),
            Err(e) => {
                lock(&app.requests).push(format!("  refused: {e}"));
                return status(StatusCode::BAD_REQUEST, "BadRequest", e, None);
            }
        }
    } else {
        body
    };
    match (&method, &target.name) {
        (&Method::GET, None)
            if matches!(query.get("watch").map(String::as_str), Some("true" | "1")) =>
        {
            watch_response(&app, r, target.namespace, &query)
        }
        (&Method::GET, None) => {
            let store = lock(&app.store);
            let items: Vec<Value> = store
                .objects
                .iter()
                .filter(|((plural, ns, _), object)| {
                    *plural == r.plural
                        && target.namespace.as_ref().is_none_or(|n| n == ns)
                        && selected(object, &query)
                })
                .map(|(_, v)| v.clone())
                .collect();
            let list = json!({
                "kind": r.list_kind(), "apiVersion": r.api_version(),
                "metadata": {"resourceVersion": store.resource_version.to_string()},
                "items": items
            });
            drop(store);
            app.reply(&context, StatusCode::OK, &r.list_kind(), &list)
        }
        (&Method::GET, Some(name)) => {
            let key = key(r, &target.namespace, name);
            let found = lock(&app.store).objects.get(&key).cloned();
            match found {
                Some(object) => app.reply(&context, StatusCode::OK, r.kind, &object),
                None => not_found(r, name),
            }
        }
        (&Method::POST, None) => {
            let Some(ns) = target.namespace else {
                return status(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "MethodNotAllowed",
                    "create in a namespace".into(),
                    None,
                );
            };
            let object: Value = match serde_json::from_slice(&body) {
                Ok(v @ Value::Object(_)) => v,
                _ => return bad_body(&body),
            };
            let Some(name) = object["metadata"]["name"].as_str().map(str::to_string) else {
                return status(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Invalid",
                    "metadata.name: Required value".into(),
                    None,
                );
            };
            if query.contains_key("dryRun") {
                return app.reply(&context, StatusCode::CREATED, r.kind, &object);
            }
            let mut events = Vec::new();
            let created = {
                let mut store = lock(&app.store);
                if store
                    .objects
                    .contains_key(&key(r, &Some(ns.clone()), &name))
                {
                    return status(
                        StatusCode::CONFLICT,
                        "AlreadyExists",
                        format!("{} \"{name}\" already exists", r.plural),
                        Some(json!({"name": name, "group": r.group, "kind": r.plural})),
                    );
                }
                let mut candidate = object.clone();
                candidate["apiVersion"] = json!(r.api_version());
                candidate["kind"] = json!(r.kind);
                let invalid = app.check_request(&context, r.kind, &candidate);
                if !invalid.is_empty() {
                    return status(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "Invalid",
                        invalid.join("; "),
                        None,
                    );
                }
                let created = store.create(r, &ns, object);
                events.push(Event {
                    plural: r.plural.into(),
                    namespace: ns.clone(),
                    kind: "ADDED",
                    object: created.clone(),
                });
                if r.plural == "deployments" {
                    store.reconcile(&ns, &name, &mut events);
                }
                store.objects[&key(r, &Some(ns.clone()), &name)].clone()
            };
            app.publish(events);
            app.reply(&context, StatusCode::CREATED, r.kind, &created)
        }
        (&Method::PUT | &Method::PATCH, Some(name)) => {
            let key = key(r, &target.namespace, name);
            let mut events = Vec::new();
            let updated = {
                let mut store = lock(&app.store);
                let Some(current) = store.objects.get(&key).cloned() else {
                    return not_found(r, name);
                };
                let next = if method == Method::PUT {
                    let object: Value = match serde_json::from_slice(&body) {
                        Ok(v @ Value::Object(_)) => v,
                        _ => return bad_body(&body),
                    };
                    // An empty or absent resourceVersion is an unconditional update.
                    let sent = object["metadata"]["resourceVersion"]
                        .as_str()
                        .filter(|v| !v.is_empty());
                    if sent
                        .is_some_and(|v| Some(v) != current["metadata"]["resourceVersion"].as_str())
                    {
                        return status(
                            StatusCode::CONFLICT,
                            "Conflict",
                            format!(
                                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                                r.plural
                            ),
                            Some(json!({"name": name, "group": r.group, "kind": r.plural})),
                        );
                    }
                    object
                } else {
                    let patch: Value = match serde_json::from_slice(&body) {
                        Ok(v) => v,
                        Err(_) => return bad_body(&body),
                    };
                    let mut next = current.clone();
                    let kind = content_type.split(';').next().unwrap_or("").trim();
                    let applied = match kind {
                        "application/json-patch+json" => patch::json_patch(&mut next, &patch),
                        "application/merge-patch+json" => {
                            patch::merge_patch(&mut next, &patch);
                            Ok(())
                        }
                        "application/strategic-merge-patch+json" => {
                            patch::strategic_merge_patch(&mut next, &patch)
                        }
                        other => {
                            return status(
                                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                                "UnsupportedMediaType",
                                format!("the stand-in does not serve patches of type `{other}`"),
                                None,
                            );
                        }
                    };
                    if let Err(e) = applied {
                        return status(StatusCode::UNPROCESSABLE_ENTITY, "Invalid", e, None);
                    }
                    next
                };
                let mut candidate = next.clone();
                candidate["apiVersion"] = json!(r.api_version());
                candidate["kind"] = json!(r.kind);
                let invalid = app.check_request(&context, r.kind, &candidate);
                if !invalid.is_empty() {
                    return status(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "Invalid",
                        invalid.join("; "),
                        None,
                    );
                }
                if query.contains_key("dryRun") {
                    return app.reply(&context, StatusCode::OK, r.kind, &candidate);
                }
                let stored = store.replace(&key, next);
                if stored != current {
                    events.push(Event {
                        plural: r.plural.into(),
                        namespace: key.1.clone(),
                        kind: "MODIFIED",
                        object: stored,
                    });
                }
                if r.plural == "deployments" {
                    store.reconcile(&key.1, name, &mut events);
                }
                store.objects[&key].clone()
            };
            app.publish(events);
            app.reply(&context, StatusCode::OK, r.kind, &updated)
        }
        (&Method::DELETE, Some(name)) => {
            let key = key(r, &target.namespace, name);
            let removed = lock(&app.store).objects.remove(&key);
            match removed {
                Some(object) => {
                    app.publish(vec![Event {
                        plural: r.plural.into(),
                        namespace: key.1.clone(),
                        kind: "DELETED",
                        object: object.clone(),
                    }]);
                    app.reply(&context, StatusCode::OK, r.kind, &object)
                }
                None => not_found(r, name),
            }
        }
        _ => status(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("{method} {path} is not served by the stand-in"),
            None,
        ),
    }
}

fn bad_body(body: &Bytes) -> Response {
    status(
        StatusCode::BAD_REQUEST,
        "BadRequest",
        format!("the body is not a JSON object ({} bytes)", body.len()),
        None,
    )
}

fn key(r: &Resource, ns: &Option<String>, name: &str) -> Key {
    (
        r.plural.to_string(),
        ns.clone().unwrap_or_default(),
        name.to_string(),
    )
}

/// Whether `object` passes the request's `labelSelector` and `fieldSelector`.
fn selected(object: &Value, query: &HashMap<String, String>) -> bool {
    let labels = |k: &str| object["metadata"]["labels"][k].as_str().map(str::to_string);
    let fields = |k: &str| match k {
        "metadata.name" => object["metadata"]["name"].as_str().map(str::to_string),
        "metadata.namespace" => object["metadata"]["namespace"].as_str().map(str::to_string),
        "type" => object["type"].as_str().map(str::to_string),
        _ => None,
    };
    query
        .get("labelSelector")
        .is_none_or(|s| selector_matches(s, &labels))
        && query
            .get("fieldSelector")
            .is_none_or(|s| selector_matches(s, &fields))
}

/// A watch: the changes after `resourceVersion` that are already stored, then every new
/// one, as JSON lines, until `timeoutSeconds`, the client leaves or the server stops.
fn watch_response(
    app: &Arc<App>,
    r: &'static Resource,
    namespace: Option<String>,
    query: &HashMap<String, String>,
) -> Response {
    let receiver = app.events.subscribe();
    let since: u64 = query
        .get("resourceVersion")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let matches = {
        let query = query.clone();
        let namespace = namespace.clone();
        move |plural: &str, ns: &str, object: &Value| {
            plural == r.plural
                && namespace.as_deref().is_none_or(|n| n == ns)
                && selected(object, &query)
        }
    };
    let backlog: Vec<Value> = {
        let store = lock(&app.store);
        store
            .objects
            .iter()
            .filter(|((plural, ns, _), object)| {
                matches(plural, ns, object)
                    && object["metadata"]["resourceVersion"]
                        .as_str()
                        .and_then(|v| v.parse::<u64>().ok())
                        .is_some_and(|v| v > since && since > 0)
            })
            .map(|(_, o)| json!({"type": "MODIFIED", "object": o}))
            .collect()
    };
    let timeout = query
        .get("timeoutSeconds")
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(1800);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(timeout);
    struct Watch<M> {
        app: Arc<App>,
        receiver: broadcast::Receiver<Event>,
        stop: watch::Receiver<bool>,
        backlog: std::vec::IntoIter<Value>,
        matches: M,
        kind: &'static str,
    }
    let state = Watch {
        app: Arc::clone(app),
        receiver,
        stop: app.stop.clone(),
        backlog: backlog.into_iter(),
        matches,
        kind: r.kind,
    };
    let stream = futures_util::stream::unfold(state, move |mut w| async move {
        let event = if let Some(e) = w.backlog.next() {
            e
        } else {
            loop {
                tokio::select! {
                    () = tokio::time::sleep_until(deadline) => return None,
                    _ = w.stop.wait_for(|s| *s) => return None,
                    got = w.receiver.recv() => match got {
                        Ok(e) if (w.matches)(&e.plural, &e.namespace, &e.object) => {
                            break json!({"type": e.kind, "object": e.object});
                        }
                        Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            }
        };
        w.app.check("WATCH event", w.kind, &event["object"]);
        let mut line = event.to_string();
        line.push('\n');
        Some((Ok::<_, Infallible>(Bytes::from(line)), w))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(stream))
        .expect("a valid response")
}

/// The discovery documents (legacy form, which every client still reads) and `/version`.
fn discovery(path: &str, address: SocketAddr) -> Option<Value> {
    let resources = |group: &str| -> Value {
        RESOURCES
            .iter()
            .filter(|r| r.group == group)
            .map(|r| {
                json!({
                    "name": r.plural, "singularName": r.singular, "namespaced": true,
                    "kind": r.kind, "shortNames": r.short,
                    "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]
                })
            })
            .collect()
    };
    Some(match path {
        "/version" => json!({
            "major": "1", "minor": "32", "gitVersion": "v1.32.0",
            "gitCommit": "hub-k8s-standin", "gitTreeState": "clean",
            "buildDate": "2024-12-11T00:00:00Z", "goVersion": "go1.23.4",
            "compiler": "gc", "platform": "linux/amd64"
        }),
        "/api" => json!({
            "kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address.to_string()}]
        }),
        "/apis" => json!({
            "kind": "APIGroupList", "apiVersion": "v1",
            "groups": [{
                "name": "apps",
                "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
                "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}
            }]
        }),
        "/api/v1" => json!({
            "kind": "APIResourceList", "groupVersion": "v1", "resources": resources("")
        }),
        "/apis/apps/v1" => json!({
            "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "apps/v1",
            "resources": resources("apps")
        }),
        "/openapi/v3" => json!({
            "paths": {
                "api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=standin"},
                "apis/apps/v1": {"serverRelativeURL": "/openapi/v3/apis/apps/v1?hash=standin"}
            }
        }),
        // What clients read from a group's OpenAPI v3 document: which operations take
        // `fieldValidation` (so kubectl and helm leave unknown-field checks to the server,
        // which checks every object against the schemas anyway).
        "/openapi/v3/api/v1" => openapi_group(""),
        "/openapi/v3/apis/apps/v1" => openapi_group("apps"),
        _ => return None,
    })
}

fn openapi_group(group: &str) -> Value {
    let mut paths = serde_json::Map::new();
    for r in RESOURCES.iter().filter(|r| r.group == group) {
        let prefix = if group.is_empty() {
            "/api/v1".to_string()
        } else {
            format!("/apis/{group}/v1")
        };
        let gvk = json!({"group": group, "version": "v1", "kind": r.kind});
        let param =
            json!([{"name": "fieldValidation", "in": "query", "schema": {"type": "string"}}]);
        let op = |action: &str| {
            json!({
                "operationId": format!("{action}{}", r.kind),
                "parameters": param,
                "responses": {"200": {"description": "OK"}},
                "x-kubernetes-action": action,
                "x-kubernetes-group-version-kind": gvk
            })
        };
        paths.insert(
            format!("{prefix}/namespaces/{{namespace}}/{}", r.plural),
            json!({"post": op("post")}),
        );
        paths.insert(
            format!("{prefix}/namespaces/{{namespace}}/{}/{{name}}", r.plural),
            json!({"put": op("put"), "patch": op("patch")}),
        );
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes (hub-k8s-standin)", "version": "v1.32.0"},
        "paths": paths,
        "components": {"schemas": {}}
    })
}
