//! The HTTP server: one fallback handler that routes, checks, injects faults and records.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::api::{self, Call, Ctx, Reply};
use crate::graphql::GraphqlSchema;
use crate::mirror::{GitImport, ImportSummary};
use crate::openapi::Spec;
use crate::store::{CommitSeed, Store};
use crate::{Error, time};

/// How the stand-in is started.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The description every request and response is checked against; `None` checks nothing
    /// (and records that nothing was checked in [`StandIn::validating`]).
    pub spec: Option<Arc<Spec>>,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Serve the API below this path, as GitHub Enterprise Server does (`/api/v3`).
    pub path_prefix: String,
    /// Stop after this long without a request.
    pub idle_timeout: Option<Duration>,
    /// Stop after this long in any case.
    pub max_lifetime: Option<Duration>,
    /// Repositories (`owner/name`) to create at start, each with one commit on `main`.
    pub repositories: Vec<String>,
    /// GitHub's GraphQL schema: `POST /graphql` validates every document against it (and is
    /// refused, recorded as a violation, without it).
    pub graphql: Option<Arc<GraphqlSchema>>,
    /// Refuse to create pull requests with 403 "GitHub Actions is not permitted to create or
    /// approve pull requests.", as GitHub does when the repository's setting "Allow GitHub
    /// Actions to create and approve pull requests" is off.
    pub refuse_actions_pull_requests: bool,
}

/// A fault the stand-in injects into matching requests instead of serving them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    /// What happens.
    #[serde(flatten)]
    pub kind: FaultKind,
    /// Only requests with this method (any when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Only requests routed to this path template of the description, e.g.
    /// `/repos/{owner}/{repo}/releases` (any when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// How many matching requests it applies to; every one until cleared when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
}

/// The kinds of fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// A rate-limit refusal (403 or 429) with `retry-after: retry_after` and/or
    /// `x-ratelimit-remaining: 0` with `x-ratelimit-reset` `reset_in` seconds from now.
    RateLimit {
        #[serde(default = "default_rate_limit_status")]
        status: u16,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reset_in: Option<u64>,
    },
    /// A server error such as 502, with a JSON `basic-error` body.
    ServerError {
        #[serde(default = "default_server_error_status")]
        status: u16,
    },
    /// The request is served normally after a delay.
    Slow { delay_ms: u64 },
    /// Writes (anything but GET) are refused with 403 "Resource not accessible by
    /// integration", as when the workflow's token lacks a permission.
    Forbidden,
    /// Any status with a GitHub error body carrying `message`, e.g. 422 "Update is not a
    /// fast forward" to play a branch that moved. The response is still checked against
    /// the description.
    Respond { status: u16, message: String },
}

fn default_rate_limit_status() -> u16 {
    403
}

fn default_server_error_status() -> u16 {
    502
}

impl Fault {
    fn new(kind: FaultKind, times: Option<u32>) -> Self {
        Fault {
            kind,
            method: None,
            route: None,
            times,
        }
    }

    /// The next request is refused with `status` (403 or 429) and `retry-after: seconds`.
    #[must_use]
    pub fn rate_limit_retry_after(status: u16, seconds: u64) -> Self {
        Fault::new(
            FaultKind::RateLimit {
                status,
                retry_after: Some(seconds),
                reset_in: None,
            },
            Some(1),
        )
    }

    /// The next request is refused with `status`, `x-ratelimit-remaining: 0` and a reset
    /// `seconds` from now.
    #[must_use]
    pub fn rate_limit_reset(status: u16, seconds: u64) -> Self {
        Fault::new(
            FaultKind::RateLimit {
                status,
                retry_after: None,
                reset_in: Some(seconds),
            },
            Some(1),
        )
    }

    /// The next request fails with `status` (502, 503, …).
    #[must_use]
    pub fn server_error(status: u16) -> Self {
        Fault::new(FaultKind::ServerError { status }, Some(1))
    }

    /// The next request is answered after `delay`.
    #[must_use]
    pub fn slow(delay: Duration) -> Self {
        let delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        Fault::new(FaultKind::Slow { delay_ms }, Some(1))
    }

    /// Every write is refused with 403 until the faults are cleared.
    #[must_use]
    pub fn forbidden_writes() -> Self {
        Fault::new(FaultKind::Forbidden, None)
    }

    /// The next request is answered with `status` and a GitHub error body with `message`.
    #[must_use]
    pub fn respond(status: u16, message: &str) -> Self {
        Fault::new(
            FaultKind::Respond {
                status,
                message: message.to_owned(),
            },
            Some(1),
        )
    }

    /// Applies to `count` matching requests.
    #[must_use]
    pub fn times(mut self, count: u32) -> Self {
        self.times = Some(count);
        self
    }

    /// Applies only to `method` on the description's path template `route`.
    #[must_use]
    pub fn on(mut self, method: &str, route: &str) -> Self {
        self.method = Some(method.to_owned());
        self.route = Some(route.to_owned());
        self
    }

    fn matches(&self, method: &str, route: &str) -> bool {
        let write = method != "GET" && method != "HEAD";
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self.route.as_deref().is_none_or(|r| r == route)
            && (write || self.kind != FaultKind::Forbidden)
    }
}

/// What kind of mistake a [`Violation`] records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViolationKind {
    /// The path is not in GitHub's description at all.
    UnknownRoute,
    /// The description has the operation but the stand-in does not serve it.
    Unimplemented,
    /// The request does not conform to the description.
    Request,
    /// The stand-in's response does not conform to the description.
    Response,
    /// A GraphQL document or its variables do not validate against GitHub's GraphQL schema.
    Graphql,
}

/// A request or response that does not conform to GitHub's description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub kind: ViolationKind,
    pub method: String,
    pub path: String,
    /// The description's path template, when the path matched one.
    pub route: Option<String>,
    /// The response status, for response violations.
    pub status: Option<u16>,
    pub problems: Vec<String>,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            ViolationKind::UnknownRoute => "unknown route",
            ViolationKind::Unimplemented => "operation not served by the stand-in",
            ViolationKind::Request => "request does not conform",
            ViolationKind::Response => "response does not conform",
            ViolationKind::Graphql => "GraphQL request does not validate against GitHub's schema",
        };
        write!(f, "{kind}: `{} {}`", self.method, self.path)?;
        if let Some(route) = &self.route {
            write!(f, " (`{route}`)")?;
        }
        for problem in &self.problems {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

/// One request the stand-in answered (the token itself is never kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    pub query: String,
    pub route: Option<String>,
    pub status: u16,
    /// Whether an `Authorization` header was sent.
    pub authenticated: bool,
    /// The injected fault's kind, when one answered.
    pub fault: Option<String>,
}

#[derive(Default)]
struct Inner {
    store: Store,
    violations: Vec<Violation>,
    requests: Vec<RequestRecord>,
    faults: Vec<Fault>,
}

struct App {
    spec: Option<Arc<Spec>>,
    graphql: Option<Arc<GraphqlSchema>>,
    /// `http://127.0.0.1:PORT`
    origin: String,
    /// `http://127.0.0.1:PORT/api/v3` or the origin.
    api: String,
    prefix: String,
    inner: Mutex<Inner>,
    stop: tokio::sync::watch::Sender<bool>,
    last_activity: Mutex<Instant>,
}

impl App {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn touch(&self) {
        *self
            .last_activity
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Instant::now();
    }

    fn idle_for(&self) -> Duration {
        self.last_activity
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .elapsed()
    }
}

/// A running stand-in. Dropping it stops the server.
pub struct StandIn {
    app: Arc<App>,
    addr: SocketAddr,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for StandIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StandIn")
            .field("url", &self.app.api)
            .field("validating", &self.app.spec.is_some())
            .finish_non_exhaustive()
    }
}

impl StandIn {
    /// Binds 127.0.0.1, creates the requested repositories and serves on a background thread.
    ///
    /// # Errors
    /// When the port cannot be bound, the runtime cannot start or a repository name is invalid.
    pub fn start(options: Options) -> Result<Self, Error> {
        let listener =
            std::net::TcpListener::bind(("127.0.0.1", options.port)).map_err(|source| {
                Error::Bind {
                    port: options.port,
                    source,
                }
            })?;
        let addr = listener.local_addr().map_err(|source| Error::Bind {
            port: options.port,
            source,
        })?;
        listener
            .set_nonblocking(true)
            .map_err(|source| Error::Bind {
                port: options.port,
                source,
            })?;
        let prefix = options.path_prefix.trim_end_matches('/').to_owned();
        let origin = format!("http://{addr}");
        let (stop, _) = tokio::sync::watch::channel(false);
        let app = Arc::new(App {
            spec: options.spec,
            graphql: options.graphql,
            api: format!("{origin}{prefix}"),
            origin,
            prefix,
            inner: Mutex::new(Inner::default()),
            stop,
            last_activity: Mutex::new(Instant::now()),
        });
        {
            let mut inner = app.lock();
            inner.store.refuse_pull_requests = options.refuse_actions_pull_requests;
            for repository in &options.repositories {
                inner.store.create_repository(repository)?;
            }
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| Error::Runtime { source })?;
        let served = Arc::clone(&app);
        let (idle, lifetime) = (options.idle_timeout, options.max_lifetime);
        let thread = std::thread::Builder::new()
            .name("hub-github-standin".to_owned())
            .spawn(move || runtime.block_on(run(served, listener, idle, lifetime)))
            .map_err(|source| Error::Runtime { source })?;
        Ok(StandIn {
            app,
            addr,
            thread: Some(thread),
        })
    }

    /// The bound port.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The API root to give a client as `GITHUB_API_URL` (includes the path prefix).
    #[must_use]
    pub fn url(&self) -> &str {
        &self.app.api
    }

    /// Whether requests and responses are checked against a description.
    #[must_use]
    pub fn validating(&self) -> bool {
        self.app.spec.is_some()
    }

    /// Every violation recorded so far.
    #[must_use]
    pub fn violations(&self) -> Vec<Violation> {
        self.app.lock().violations.clone()
    }

    /// Every request answered so far.
    #[must_use]
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.app.lock().requests.clone()
    }

    /// The whole state as JSON (the same as `GET /_standin/state`).
    #[must_use]
    pub fn state(&self) -> Value {
        self.app.lock().store.dump()
    }

    /// Queues a fault.
    pub fn add_fault(&self, fault: Fault) {
        self.app.lock().faults.push(fault);
    }

    /// The faults still queued.
    #[must_use]
    pub fn faults(&self) -> Vec<Fault> {
        self.app.lock().faults.clone()
    }

    /// Removes every queued fault.
    pub fn clear_faults(&self) {
        self.app.lock().faults.clear();
    }

    /// Creates `owner/name` with one commit on `main`; returns that commit's sha.
    ///
    /// # Errors
    /// When the name is invalid or the repository exists.
    pub fn create_repository(&self, repository: &str) -> Result<String, Error> {
        self.app.lock().store.create_repository(repository)
    }

    /// Adds commits on top of `branch` (created from `main` when missing); returns their shas.
    ///
    /// # Errors
    /// When the repository does not exist.
    pub fn push_commits(
        &self,
        repository: &str,
        branch: &str,
        commits: Vec<CommitSeed>,
    ) -> Result<Vec<String>, Error> {
        self.app
            .lock()
            .store
            .push_commits(repository, branch, commits)
    }

    /// Mirrors git objects and refs into `repository` (created empty when missing), as `POST
    /// /_standin/repos/{owner}/{repo}/import` does: every object's id is recomputed and must be
    /// the one it claims, and everything the refs reach must be present; afterwards the
    /// repository's refs are exactly `import.refs`. Nothing changes when the import is refused.
    ///
    /// # Errors
    /// [`Error::ImportRejected`] naming the first offending object or ref; an invalid name.
    pub fn import(&self, repository: &str, import: &GitImport) -> Result<ImportSummary, Error> {
        self.app.lock().store.import(repository, import)
    }

    /// Mirrors the local repository at `git_dir` (work tree or bare) into `repository`: every
    /// object `git cat-file --batch-all-objects` lists, its branches and tags, and the branch
    /// `HEAD` names as the default branch. See [`crate::read_git_repository`] and
    /// [`StandIn::import`].
    ///
    /// # Errors
    /// When `git` fails, an object cannot be carried over exactly, or the import is refused.
    pub fn import_git(&self, repository: &str, git_dir: &Path) -> Result<ImportSummary, Error> {
        let import = crate::mirror::read_git_repository(git_dir)?;
        self.import(repository, &import)
    }

    /// Writes `repository`'s objects and refs into the local repository at `git_dir` (work
    /// tree or bare): the objects it lacks, and every branch and tag where the stand-in has
    /// it — what `git fetch` of everything would do, so a test's checkout sees merges, tags
    /// and branches made through the API. Returns how many objects were written.
    ///
    /// # Errors
    /// When the repository does not exist or `git` fails.
    pub fn export_git(&self, repository: &str, git_dir: &Path) -> Result<usize, Error> {
        let (objects, refs) = {
            let app = self.app.lock();
            let (owner, name) = crate::store::split_repository(repository)?;
            let repo = app
                .store
                .repo(owner, name)
                .ok_or_else(|| Error::NoSuchRepository {
                    repository: repository.to_owned(),
                })?;
            let objects: Vec<(String, &'static str, Vec<u8>)> = repo
                .odb
                .iter()
                .map(|(id, o)| (id.clone(), o.kind(), o.encode()))
                .collect();
            (objects, repo.refs.clone())
        };
        crate::mirror::write_git_repository(git_dir, &objects, &refs)
    }

    /// Links the commit e-mail `email` (any case) to the account `login` in `repository`, as
    /// GitHub links a verified e-mail: `GET /repos/{owner}/{repo}/commits/{ref}` then answers
    /// `author.login` for every commit by it, imported ones included.
    ///
    /// # Errors
    /// When the repository does not exist.
    pub fn link_email(&self, repository: &str, email: &str, login: &str) -> Result<(), Error> {
        self.app.lock().store.link_email(repository, email, login)
    }

    /// Sets the commits of pull request `number`.
    ///
    /// # Errors
    /// When the repository or a commit does not exist.
    pub fn set_pull_request(
        &self,
        repository: &str,
        number: u64,
        commits: Vec<String>,
    ) -> Result<(), Error> {
        self.app
            .lock()
            .store
            .set_pull_request(repository, number, commits)
    }

    /// Adds a comment by another account to issue or pull request `number`.
    ///
    /// # Errors
    /// When the repository does not exist.
    pub fn seed_comment(
        &self,
        repository: &str,
        number: u64,
        login: &str,
        body: &str,
    ) -> Result<u64, Error> {
        self.app
            .lock()
            .store
            .seed_comment(repository, number, login, body)
    }

    /// Adds a comment by another account to commit `sha` (a full sha the repository has).
    ///
    /// # Errors
    /// When the repository or the commit does not exist.
    pub fn seed_commit_comment(
        &self,
        repository: &str,
        sha: &str,
        login: &str,
        body: &str,
    ) -> Result<u64, Error> {
        self.app
            .lock()
            .store
            .seed_commit_comment(repository, sha, login, body)
    }

    /// Asks the server to stop; [`StandIn::wait`] or dropping waits for it.
    pub fn shutdown(&self) {
        self.app.stop.send_replace(true);
    }

    /// Blocks until the server has stopped (by [`StandIn::shutdown`], `POST
    /// /_standin/shutdown`, the idle timeout or the lifetime); the state stays readable.
    pub fn wait(&mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.shutdown();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn run(
    app: Arc<App>,
    listener: std::net::TcpListener,
    idle: Option<Duration>,
    lifetime: Option<Duration>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    let started = Instant::now();
    let watchdog = Arc::clone(&app);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let idle_over = idle.is_some_and(|limit| watchdog.idle_for() >= limit);
            let life_over = lifetime.is_some_and(|limit| started.elapsed() >= limit);
            if idle_over || life_over || *watchdog.stop.borrow() {
                watchdog.stop.send_replace(true);
                break;
            }
        }
    });
    let mut stopped = app.stop.subscribe();
    let router = axum::Router::new()
        .fallback(serve)
        .with_state(Arc::clone(&app));
    let _ = axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        })
        .await;
}

/// Decodes `a=1&b=x%20y` into pairs (`+` is a space).
fn parse_query(query: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
        .collect()
}

const BODY_LIMIT: usize = 32 * 1024 * 1024;

async fn serve(State(app): State<Arc<App>>, request: Request) -> Response {
    app.touch();
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return respond(&Reply::error(413, "Request body too large"), &[]);
    };
    let method = parts.method.as_str().to_owned();
    let full_path = parts.uri.path().to_owned();
    let query_string = parts.uri.query().unwrap_or("").to_owned();
    let query = parse_query(&query_string);

    if let Some(control) = full_path.strip_prefix("/_standin/") {
        return control_endpoint(&app, &parts.method, control, &bytes);
    }
    // The web origin's release downloads (not part of the REST API, so not checked against
    // the description): what `browser_download_url` names.
    if parts.method == Method::GET && full_path.contains("/releases/download/") {
        let found = api::download_asset(&app.lock().store, &full_path);
        let status = if found.is_some() { 200 } else { 404 };
        app.lock().requests.push(RequestRecord {
            method: method.clone(),
            path: full_path.clone(),
            query: query_string.clone(),
            route: None,
            status,
            authenticated: parts.headers.contains_key(header::AUTHORIZATION),
            fault: None,
        });
        let mut response =
            Response::new(Body::from(found.unwrap_or_else(|| b"Not Found".to_vec())));
        *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::NOT_FOUND);
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        return response;
    }

    let authenticated = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let lower = v.to_ascii_lowercase();
            (lower.starts_with("bearer ") || lower.starts_with("token ")) && v.len() > 7
        });
    let path = if app.prefix.is_empty() {
        Some(full_path.as_str())
    } else {
        full_path
            .strip_prefix(&app.prefix)
            .filter(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    let mut record = RequestRecord {
        method: method.clone(),
        path: full_path.clone(),
        query: query_string.clone(),
        route: None,
        status: 404,
        authenticated,
        fault: None,
    };
    // GraphQL: `/graphql` on GitHub, `/api/graphql` beside `/api/v3` on GitHub Enterprise Server.
    let graphql_path = format!("{}/graphql", app.prefix.trim_end_matches("/v3"));
    if parts.method == Method::POST && full_path == graphql_path {
        return serve_graphql(&app, record, &bytes).await;
    }

    let routed = path.and_then(|p| api::route(&method, p));
    let Some((op, template, params)) = routed else {
        let (kind, route) = match (path, &app.spec) {
            (Some(p), Some(spec)) => match spec.find_route(&method, p) {
                Some((template, true)) => (ViolationKind::Unimplemented, Some(template)),
                Some((template, false)) => (ViolationKind::UnknownRoute, Some(template)),
                None => (ViolationKind::UnknownRoute, None),
            },
            _ => (ViolationKind::UnknownRoute, None),
        };
        let reply = Reply::not_found();
        let mut inner = app.lock();
        inner.violations.push(Violation {
            kind,
            method: method.clone(),
            path: full_path.clone(),
            route: route.clone(),
            status: Some(404),
            problems: vec![match kind {
                ViolationKind::Unimplemented => format!(
                    "`{method} {}` is in the description but the stand-in does not serve it",
                    route.as_deref().unwrap_or("")
                ),
                _ if route.is_some() => format!(
                    "method `{method}` is not defined for `{}`",
                    route.as_deref().unwrap_or("")
                ),
                _ => "no path of the description matches".to_owned(),
            }],
        });
        record.route = route;
        inner.requests.push(record);
        return respond(&reply, &[]);
    };
    record.route = Some(template.to_owned());

    // 1. The request against the description.
    let problems = app.spec.as_ref().map_or_else(Vec::new, |spec| {
        spec.check_request(&method, template, &params, &query, &bytes)
    });
    if !problems.is_empty() {
        let reply = Reply::validation(
            &format!("Invalid request.\n\n{}", problems.join("\n")),
            Vec::new(),
        );
        let mut inner = app.lock();
        inner.violations.push(Violation {
            kind: ViolationKind::Request,
            method,
            path: full_path,
            route: Some(template.to_owned()),
            status: None,
            problems,
        });
        record.status = reply.status;
        inner.requests.push(record);
        return respond(&reply, &[]);
    }

    // 2. Faults.
    let fault = take_fault(&app, &method, template);
    let mut extra_headers: Vec<(String, String)> = Vec::new();
    let fault_reply = fault_reply(fault.map(|f| f.kind), &mut record, &mut extra_headers).await;

    // 3. Serve.
    let is_write = parts.method != Method::GET && parts.method != Method::HEAD;
    let reply = match fault_reply {
        Some(reply) => reply,
        None if is_write && !authenticated => Reply::error(401, "Requires authentication"),
        None => {
            // A release asset's body is the file itself, not JSON.
            let raw_body = op == api::Op::UploadReleaseAsset;
            let body: Result<Value, _> = if bytes.is_empty() || raw_body {
                Ok(Value::Null)
            } else {
                serde_json::from_slice(&bytes)
            };
            match body {
                Err(_) => Reply::error(400, "Problems parsing JSON"),
                Ok(body) => {
                    let ctx = Ctx {
                        api: &app.api,
                        html: &app.origin,
                    };
                    let call = Call {
                        op,
                        params: &params,
                        query: &query,
                        body: &body,
                        raw: &bytes,
                        content_type: parts
                            .headers
                            .get(header::CONTENT_TYPE)
                            .and_then(|v| v.to_str().ok()),
                        path: &full_path,
                    };
                    api::handle(&mut app.lock().store, &ctx, &call)
                }
            }
        }
    };

    // 4. The response against the description.
    let encoded = reply
        .body
        .as_ref()
        .map(|b| serde_json::to_vec(b).unwrap_or_default())
        .unwrap_or_default();
    let problems = app.spec.as_ref().map_or_else(Vec::new, |spec| {
        spec.check_response(&method, template, reply.status, &encoded)
    });
    let mut inner = app.lock();
    if !problems.is_empty() {
        inner.violations.push(Violation {
            kind: ViolationKind::Response,
            method,
            path: full_path,
            route: Some(template.to_owned()),
            status: Some(reply.status),
            problems,
        });
    }
    record.status = reply.status;
    inner.requests.push(record);
    drop(inner);
    respond(&reply, &extra_headers)
}

/// The first queued fault for `method` on `template`, counted down.
fn take_fault(app: &App, method: &str, template: &str) -> Option<Fault> {
    let mut inner = app.lock();
    let position = inner
        .faults
        .iter()
        .position(|f| f.matches(method, template));
    position.map(|index| {
        let fault = inner.faults[index].clone();
        if let Some(times) = inner.faults[index].times.as_mut() {
            *times = times.saturating_sub(1);
            if *times == 0 {
                inner.faults.remove(index);
            }
        }
        fault
    })
}

/// The answer a fault gives instead of the operation (`None`: serve it, perhaps after a delay).
async fn fault_reply(
    fault: Option<FaultKind>,
    record: &mut RequestRecord,
    extra_headers: &mut Vec<(String, String)>,
) -> Option<Reply> {
    match fault {
        Some(FaultKind::Slow { delay_ms }) => {
            record.fault = Some("slow".to_owned());
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            None
        }
        Some(FaultKind::RateLimit {
            status,
            retry_after,
            reset_in,
        }) => {
            record.fault = Some("rate_limit".to_owned());
            let message = if retry_after.is_some() {
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
            } else {
                "API rate limit exceeded for installation. If you reach out to GitHub Support for help, please include the request ID."
            };
            if let Some(seconds) = retry_after {
                extra_headers.push(("retry-after".to_owned(), seconds.to_string()));
            }
            if let Some(seconds) = reset_in {
                let reset = time::now_epoch() + i64::try_from(seconds).unwrap_or(0);
                extra_headers.push(("x-ratelimit-remaining".to_owned(), "0".to_owned()));
                extra_headers.push(("x-ratelimit-reset".to_owned(), reset.to_string()));
            }
            Some(Reply::error(status, message))
        }
        Some(FaultKind::ServerError { status }) => {
            record.fault = Some("server_error".to_owned());
            Some(Reply::error(status, "Server Error"))
        }
        Some(FaultKind::Forbidden) => {
            record.fault = Some("forbidden".to_owned());
            Some(Reply::error(403, "Resource not accessible by integration"))
        }
        Some(FaultKind::Respond { status, message }) => {
            record.fault = Some("respond".to_owned());
            Some(Reply::error(status, &message))
        }
        None => None,
    }
}

/// `POST /graphql`: validated against GitHub's GraphQL schema, then run on the store.
async fn serve_graphql(app: &App, mut record: RequestRecord, bytes: &[u8]) -> Response {
    record.route = Some("/graphql".to_owned());
    let mut extra_headers = Vec::new();
    let fault = take_fault(app, "POST", "/graphql").map(|f| f.kind);
    // A token without `contents: write` gets GraphQL's own refusal: 200 with a FORBIDDEN error.
    let forbidden = fault == Some(FaultKind::Forbidden);
    if forbidden {
        record.fault = Some("forbidden".to_owned());
    }
    let faulted = if forbidden {
        None
    } else {
        fault_reply(fault, &mut record, &mut extra_headers).await
    };
    let violation = |kind, problems| Violation {
        kind,
        method: "POST".to_owned(),
        path: record.path.clone(),
        route: Some("/graphql".to_owned()),
        status: None,
        problems,
    };
    let reply = if let Some(reply) = faulted {
        reply
    } else if !record.authenticated {
        // GitHub's GraphQL API needs a token even for reads.
        Reply::json(
            401,
            json!({ "message": "This endpoint requires you to be authenticated.", "documentation_url": "https://docs.github.com/graphql/guides/forming-calls-with-graphql#authenticating-with-graphql" }),
        )
    } else {
        match (serde_json::from_slice::<Value>(bytes), &app.graphql) {
            (Err(_), _) => Reply::json(400, json!({ "message": "Problems parsing JSON" })),
            (Ok(_), None) => {
                let v = violation(
                    ViolationKind::Graphql,
                    vec!["no GraphQL schema was given to the stand-in (set HUB_GITHUB_GRAPHQL_SCHEMA)".to_owned()],
                );
                app.lock().violations.push(v);
                Reply::json(
                    200,
                    json!({ "errors": [{ "message": "the stand-in has no GraphQL schema" }] }),
                )
            }
            (Ok(request), Some(schema)) if forbidden => {
                let problems = schema.check(
                    request.get("query").and_then(Value::as_str).unwrap_or(""),
                    request.get("operationName").and_then(Value::as_str),
                    request.get("variables").unwrap_or(&Value::Null),
                );
                if !problems.is_empty() {
                    let v = violation(ViolationKind::Graphql, problems);
                    app.lock().violations.push(v);
                }
                Reply::json(
                    200,
                    json!({ "data": null, "errors": [{ "type": "FORBIDDEN", "message": "Resource not accessible by integration" }] }),
                )
            }
            (Ok(request), Some(schema)) => {
                let outcome = {
                    let mut inner = app.lock();
                    crate::graphql::execute(schema, &mut inner.store, &app.origin, &request)
                };
                let mut inner = app.lock();
                if !outcome.invalid.is_empty() {
                    inner
                        .violations
                        .push(violation(ViolationKind::Graphql, outcome.invalid));
                }
                if !outcome.unserved.is_empty() {
                    inner
                        .violations
                        .push(violation(ViolationKind::Unimplemented, outcome.unserved));
                }
                Reply::json(200, outcome.body)
            }
        }
    };
    record.status = reply.status;
    app.lock().requests.push(record);
    respond(&reply, &extra_headers)
}

fn respond(reply: &Reply, extra: &[(String, String)]) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = reply
        .body
        .as_ref()
        .map(|b| serde_json::to_vec(b).unwrap_or_default())
        .unwrap_or_default();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if reply.body.is_some() {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
    }
    let reset = (time::now_epoch() + 3600).to_string();
    let defaults = [
        ("x-github-media-type", "github.v3; format=json".to_owned()),
        ("x-github-api-version-selected", "2022-11-28".to_owned()),
        ("x-ratelimit-limit", "5000".to_owned()),
        ("x-ratelimit-remaining", "4999".to_owned()),
        ("x-ratelimit-used", "1".to_owned()),
        ("x-ratelimit-reset", reset),
        ("x-ratelimit-resource", "core".to_owned()),
    ];
    for (name, value) in reply
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.clone()))
        .chain(defaults.iter().map(|(n, v)| (*n, v.clone())))
        .chain(extra.iter().map(|(n, v)| (n.as_str(), v.clone())))
    {
        if let (Ok(name), Ok(value)) = (
            header::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            // Later values (explicit fault headers) replace the defaults.
            headers.insert(name, value);
        }
    }
    response
}

#[derive(Deserialize)]
struct RepositoryRequest {
    repository: String,
}

#[derive(Deserialize)]
struct CommitsRequest {
    #[serde(default = "default_branch")]
    branch: String,
    commits: Vec<CommitSeed>,
}

fn default_branch() -> String {
    "main".to_owned()
}

#[derive(Deserialize)]
struct PullRequest {
    commits: Vec<String>,
}

#[derive(Deserialize)]
struct CommentRequest {
    login: String,
    body: String,
}

fn control_json(status: u16, body: &Value) -> Response {
    respond(&Reply::json(status, body.clone()), &[])
}

/// `/_standin/…`: state, violations, faults, seeding and shutdown.
fn control_endpoint(app: &App, method: &Method, path: &str, body: &[u8]) -> Response {
    fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
        serde_json::from_slice(body).map_err(|err| format!("invalid control request: {err}"))
    }
    let outcome = |result: Result<Value, Error>| match result {
        Ok(value) => control_json(200, &value),
        Err(err) => control_json(422, &json!({ "message": err.to_string() })),
    };
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let result: Result<Response, String> = (|| {
        Ok(match (method.as_str(), segments.as_slice()) {
            ("GET", ["health"]) => control_json(200, &json!({ "ok": true })),
            ("GET", ["violations"]) => control_json(200, &json!(app.lock().violations)),
            ("DELETE", ["violations"]) => {
                app.lock().violations.clear();
                control_json(200, &json!({ "ok": true }))
            }
            ("GET", ["requests"]) => control_json(200, &json!(app.lock().requests)),
            ("GET", ["state"]) => control_json(200, &app.lock().store.dump()),
            ("GET", ["faults"]) => control_json(200, &json!(app.lock().faults)),
            ("POST", ["faults"]) => {
                let fault: Fault = parse(body)?;
                app.lock().faults.push(fault);
                control_json(200, &json!(app.lock().faults))
            }
            ("DELETE", ["faults"]) => {
                app.lock().faults.clear();
                control_json(200, &json!([]))
            }
            ("POST", ["repos"]) => {
                let request: RepositoryRequest = parse(body)?;
                outcome(
                    app.lock()
                        .store
                        .create_repository(&request.repository)
                        .map(|sha| json!({ "head": sha })),
                )
            }
            ("POST", ["repos", owner, repo, "commits"]) => {
                let request: CommitsRequest = parse(body)?;
                outcome(
                    app.lock()
                        .store
                        .push_commits(&format!("{owner}/{repo}"), &request.branch, request.commits)
                        .map(|shas| json!({ "shas": shas })),
                )
            }
            ("POST", ["repos", owner, repo, "import"]) => {
                let request: GitImport = parse(body)?;
                match app
                    .lock()
                    .store
                    .import(&format!("{owner}/{repo}"), &request)
                {
                    Ok(summary) => control_json(200, &json!(summary)),
                    Err(err) => control_json(400, &json!({ "message": err.to_string() })),
                }
            }
            ("PUT", ["repos", owner, repo, "pulls", number]) => {
                let request: PullRequest = parse(body)?;
                let number = number.parse().unwrap_or(0);
                outcome(
                    app.lock()
                        .store
                        .set_pull_request(&format!("{owner}/{repo}"), number, request.commits)
                        .map(|()| json!({ "ok": true })),
                )
            }
            ("POST", ["repos", owner, repo, "issues", number, "comments"]) => {
                let request: CommentRequest = parse(body)?;
                let number = number.parse().unwrap_or(0);
                outcome(
                    app.lock()
                        .store
                        .seed_comment(
                            &format!("{owner}/{repo}"),
                            number,
                            &request.login,
                            &request.body,
                        )
                        .map(|id| json!({ "id": id })),
                )
            }
            ("POST", ["shutdown"]) => {
                app.stop.send_replace(true);
                control_json(200, &json!({ "ok": true }))
            }
            _ => control_json(
                404,
                &json!({ "message": format!("no control endpoint `{method} /_standin/{path}`") }),
            ),
        })
    })();
    result.unwrap_or_else(|message| control_json(400, &json!({ "message": message })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_decode() {
        assert_eq!(
            parse_query("a=1&b=x%20y+z&c"),
            vec![
                ("a".to_owned(), "1".to_owned()),
                ("b".to_owned(), "x y z".to_owned()),
                ("c".to_owned(), String::new()),
            ]
        );
    }

    #[test]
    fn faults_round_trip_as_json_and_match() {
        let fault = Fault::rate_limit_retry_after(429, 2).on("GET", "/r");
        let text = serde_json::to_string(&fault).expect("serializes");
        assert_eq!(
            text,
            r#"{"kind":"rate_limit","status":429,"retry_after":2,"method":"GET","route":"/r","times":1}"#
        );
        let back: Fault = serde_json::from_str(&text).expect("parses");
        assert_eq!(back, fault);
        let forbidden: Fault = serde_json::from_str(r#"{"kind":"forbidden"}"#).expect("parses");
        assert!(forbidden.matches("POST", "/x"));
        assert!(!forbidden.matches("GET", "/x"));
        assert!(!fault.matches("POST", "/r"));
    }
}
