//! The HTTP core: octocrab for transport and auth, this module for retries, rate limits,
//! pagination and turning refusals into [`Error`]s that say what to do.

use std::fmt;

use http::{HeaderMap, Method};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::retry::{RateLimit, RetryPolicy, jitter_seed, rate_limit};
use crate::{Error, GitHubConfig, Permission, Route};

/// The async GitHub client. Cheap to clone.
#[derive(Clone)]
pub struct GitHub {
    octocrab: octocrab::Octocrab,
    /// API root without a trailing slash, e.g. `https://ghe.example.com/api/v3`.
    api_url: String,
    /// The GraphQL endpoint (`GITHUB_GRAPHQL_URL`, else beside `api_url`).
    graphql_url: String,
    /// `scheme://authority` of the API root, for checking pagination links.
    origin: String,
    authenticated: bool,
    policy: RetryPolicy,
    page_size: u8,
}

impl fmt::Debug for GitHub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitHub")
            .field("api_url", &self.api_url)
            .field("graphql_url", &self.graphql_url)
            .field(
                "token",
                &if self.authenticated {
                    "<redacted>"
                } else {
                    "none"
                },
            )
            .field("policy", &self.policy)
            .field("page_size", &self.page_size)
            .finish()
    }
}

/// A response with any status that is not retried.
#[derive(Debug)]
pub(crate) struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Response {
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// GitHub's `message`, or the start of a non-JSON body.
    pub(crate) fn message(&self) -> String {
        github_message(&self.body)
    }

    /// GitHub's `errors[]`, as `resource.field code: message` lines.
    pub(crate) fn errors(&self) -> Vec<String> {
        let Ok(value) = serde_json::from_str::<Value>(&self.body) else {
            return Vec::new();
        };
        value
            .get("errors")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|error| match error {
                Value::String(text) => text.clone(),
                other => {
                    let text = |key: &str| other.get(key).and_then(Value::as_str).unwrap_or("");
                    let subject = [text("resource"), text("field")]
                        .into_iter()
                        .filter(|s| !s.is_empty())
                        .collect::<Vec<_>>()
                        .join(".");
                    let detail = [text("code"), text("message")]
                        .into_iter()
                        .filter(|s| !s.is_empty())
                        .collect::<Vec<_>>()
                        .join(": ");
                    format!("{subject} {detail}").trim().to_owned()
                }
            })
            .collect()
    }

    /// Whether GitHub reports the object as already existing (a 422).
    pub(crate) fn already_exists(&self) -> bool {
        self.status == 422
            && (self
                .message()
                .to_ascii_lowercase()
                .contains("already exists")
                || self.errors().iter().any(|e| e.contains("already_exists")))
    }

    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// The `rel="next"` target of the `Link` header.
    pub(crate) fn next_link(&self) -> Option<String> {
        let link = self.header("link")?;
        link.split(',').find_map(|part| {
            let (target, params) = part.split_once(';')?;
            let is_next = params
                .split(';')
                .any(|p| p.trim().replace(' ', "") == "rel=\"next\"");
            is_next.then(|| {
                target
                    .trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned()
            })
        })
    }

    pub(crate) fn json<T: DeserializeOwned>(&self, route: &Route) -> Result<T, Error> {
        serde_json::from_str(&self.body).map_err(|source| Error::Decode {
            route: route.clone(),
            source,
        })
    }
}

fn github_message(body: &str) -> String {
    match serde_json::from_str::<Value>(body) {
        Ok(value) => value
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("no message")
            .to_owned(),
        Err(_) => {
            let text: String = body.chars().take(200).collect();
            if text.trim().is_empty() {
                "empty body".to_owned()
            } else {
                text.trim().to_owned()
            }
        }
    }
}

/// `scheme://host[:port]` of an `http(s)://` URL.
pub(crate) fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(slash) => &url[..after_scheme + slash],
        None => url,
    }
}

/// Percent-encodes one path segment (a tag, a branch, an owner).
pub(crate) fn encode_segment(value: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(value, SEGMENT).to_string()
}

/// Percent-encodes a ref name but keeps its slashes (`heads/feature/x`), as GitHub expects.
pub(crate) fn encode_ref(value: &str) -> String {
    value
        .split('/')
        .map(encode_segment)
        .collect::<Vec<_>>()
        .join("/")
}

impl GitHub {
    /// A client for `config.api_url` with `config.token` and the default [`RetryPolicy`].
    ///
    /// It must be created inside a tokio runtime (octocrab starts a task for its client) and
    /// used on that runtime; outside async code use [`crate::BlockingGitHub`].
    ///
    /// # Errors
    /// [`Error::NoRuntime`] outside a tokio runtime; [`Error::Client`] when octocrab cannot
    /// build a client for the URL (or find TLS roots).
    pub fn new(config: &GitHubConfig) -> Result<Self, Error> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(Error::NoRuntime);
        }
        let fail = |message: String| Error::Client {
            api_url: config.api_url.clone(),
            message,
        };
        let base: http::Uri = config
            .api_url
            .parse()
            .map_err(|e: http::uri::InvalidUri| fail(e.to_string()))?;
        let auth = match &config.token {
            // A token that cannot be an HTTP header value is refused without showing it.
            Some(token) if !token.expose().bytes().all(|b| b.is_ascii_graphic()) => {
                return Err(Error::InvalidToken);
            }
            Some(token) => {
                let mut value = http::HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                    .map_err(|_| Error::InvalidToken)?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        let mut origin_uri = http::Uri::builder().path_and_query("/");
        if let Some(scheme) = base.scheme() {
            origin_uri = origin_uri.scheme(scheme.clone());
        }
        if let Some(authority) = base.authority() {
            origin_uri = origin_uri.authority(authority.clone());
        }
        let origin_uri = origin_uri
            .build()
            .map_err(|e: http::Error| fail(e.to_string()))?;
        // The suite's one HTTP stack (hub-http: proxies from the environment, rustls with
        // the system's roots), with octocrab's own layers on top: the API root, GitHub's
        // headers, and the token only on requests to the API's own host (a redirect
        // elsewhere never carries it).
        #[cfg(not(target_os = "wasi"))]
        let client = {
            let connector = hub_http::connector(&config.http).map_err(|e| fail(e.to_string()))?;
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build::<_, octocrab::OctoBody>(connector)
        };
        // WebAssembly has no sockets: each request is one exchange through the JavaScript
        // runner (hub-http's wasi backend), bounded by the retry policy's per-request timeout.
        #[cfg(target_os = "wasi")]
        let client = hub_http::Service::new(&config.http, RetryPolicy::default().request_timeout);
        let headers = vec![
            (
                http::header::USER_AGENT,
                http::HeaderValue::from_static(concat!("hub-actions/", env!("CARGO_PKG_VERSION"))),
            ),
            (
                http::header::ACCEPT,
                http::HeaderValue::from_static("application/vnd.github+json"),
            ),
        ];
        let octocrab = octocrab::OctocrabBuilder::new_empty()
            .with_service(client)
            // Only the origin: every request carries its whole path already, and octocrab would
            // put the API root's path (`/api/v3` on GitHub Enterprise Server) in front of any
            // path that does not start with it, such as GraphQL's `/api/graphql`.
            .with_layer(&octocrab::service::middleware::base_uri::BaseUriLayer::new(
                origin_uri,
            ))
            .with_layer(
                &octocrab::service::middleware::extra_headers::ExtraHeadersLayer::new(
                    std::sync::Arc::new(headers),
                ),
            )
            .with_layer(
                &octocrab::service::middleware::auth_header::AuthHeaderLayer::new(
                    auth,
                    base.clone(),
                    base,
                ),
            )
            .with_auth(octocrab::AuthState::None)
            .build()
            .map_err(|e| fail(e.to_string()))?;
        let origin = origin(&config.api_url).to_owned();
        Ok(GitHub {
            octocrab,
            api_url: config.api_url.trim_end_matches('/').to_owned(),
            graphql_url: config
                .graphql_url
                .clone()
                .unwrap_or_else(|| crate::graphql_url(&config.api_url)),
            origin,
            authenticated: config.token.is_some(),
            policy: RetryPolicy::default(),
            page_size: 100,
        })
    }

    /// Uses `policy` for retries, timeouts and rate limits.
    #[must_use]
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Requests `size` items per page (1–100; GitHub's maximum is 100, the default here).
    #[must_use]
    pub fn with_page_size(mut self, size: u8) -> Self {
        self.page_size = size.clamp(1, 100);
        self
    }

    /// The API root this client talks to.
    #[must_use]
    pub fn api_url(&self) -> &str {
        &self.api_url
    }

    /// The GraphQL endpoint this client posts to: `GITHUB_GRAPHQL_URL`, or the one beside the
    /// API root.
    #[must_use]
    pub fn graphql_endpoint(&self) -> &str {
        &self.graphql_url
    }

    /// The route for messages: the path below the API root, without the query.
    fn route(&self, method: &Method, target: &str) -> Route {
        let path = target
            .strip_prefix(&self.api_url)
            .unwrap_or(target)
            .split('?')
            .next()
            .unwrap_or("");
        Route {
            method: method.as_str().to_owned(),
            path: path.to_owned(),
        }
    }

    /// Sends one request, retrying timeouts, connection failures and 5xx with backoff and
    /// waiting out rate limits. Returns every other response, whatever its status.
    ///
    /// `target` is a path below the API root (`/repos/…?…`) or an absolute URL on the API
    /// host (a pagination link).
    pub(crate) async fn send(
        &self,
        method: Method,
        target: &str,
        body: Option<&Value>,
    ) -> Result<(Route, Response), Error> {
        let url = if target.starts_with("http://") || target.starts_with("https://") {
            if !target.starts_with(&format!("{}/", self.origin)) {
                return Err(Error::ForeignLink {
                    url: target.to_owned(),
                    api_url: self.api_url.clone(),
                });
            }
            target.to_owned()
        } else {
            format!("{}{target}", self.api_url)
        };
        let route = self.route(&method, &url);
        let policy = &self.policy;
        let mut seed = jitter_seed();
        let mut attempts = 0_u32;
        let mut rate_limited = 0_u32;
        loop {
            attempts += 1;
            let outcome =
                tokio::time::timeout(policy.request_timeout, self.attempt(&method, &url, body))
                    .await;
            seed = seed.rotate_left(17) ^ u64::from(attempts);
            let retryable_left = attempts < policy.max_attempts;
            match outcome {
                Err(_elapsed) => {
                    if !retryable_left {
                        return Err(Error::Timeout {
                            route,
                            attempts,
                            timeout: policy.request_timeout,
                        });
                    }
                }
                Ok(Err(source)) => {
                    if !retryable_left {
                        return Err(Error::Transport {
                            route,
                            attempts,
                            source: Box::new(source),
                        });
                    }
                }
                Ok(Ok(response)) => {
                    let header = |name: &str| response.header(name);
                    let limit = rate_limit(
                        response.status,
                        &header,
                        &response.message(),
                        policy.clock.now(),
                    );
                    match limit {
                        RateLimit::Wait(wait) => {
                            rate_limited += 1;
                            if wait > policy.max_rate_limit_wait
                                || rate_limited > policy.max_rate_limit_retries
                            {
                                return Err(Error::RateLimited {
                                    route,
                                    status: response.status,
                                    wait,
                                    cap: policy.max_rate_limit_wait,
                                    attempts,
                                });
                            }
                            // Rate-limit waits do not use up the attempts for server errors.
                            attempts -= 1;
                            policy.clock.sleep(wait).await;
                            continue;
                        }
                        RateLimit::No if response.status >= 500 => {
                            if !retryable_left {
                                return Err(Error::Server {
                                    route,
                                    status: response.status,
                                    attempts,
                                    message: response.message(),
                                });
                            }
                        }
                        RateLimit::No => return Ok((route, response)),
                    }
                }
            }
            policy.clock.sleep(policy.backoff(attempts, seed)).await;
        }
    }

    async fn attempt(
        &self,
        method: &Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Response, octocrab::Error> {
        let builder = http::Request::builder().method(method.clone()).uri(url);
        let request = self.octocrab.build_request(builder, body)?;
        let response = self.octocrab.execute(request).await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = self.octocrab.body_to_string(response).await?;
        Ok(Response {
            status,
            headers,
            body,
        })
    }

    /// Sends and insists on a 2xx, mapping anything else to an [`Error`] that names
    /// `permission` where a permission is the likely cause.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        target: &str,
        body: Option<&Value>,
        permission: Permission,
    ) -> Result<T, Error> {
        let (route, response) = self.send(method, target, body).await?;
        if !response.is_success() {
            return Err(refusal(route, &response, permission));
        }
        response.json(&route)
    }

    /// GETs every page of a list, following `Link: rel="next"`.
    pub(crate) async fn get_all<T: DeserializeOwned>(
        &self,
        path: &str,
        permission: Permission,
    ) -> Result<Vec<T>, Error> {
        let mut items = Vec::new();
        self.walk_pages(path, permission, |page: Vec<T>| {
            items.extend(page);
            false
        })
        .await?;
        Ok(items)
    }

    /// Walks pages until `visit` returns `true` (found) or the pages end; returns whether it
    /// stopped early.
    pub(crate) async fn walk_pages<T: DeserializeOwned>(
        &self,
        path: &str,
        permission: Permission,
        mut visit: impl FnMut(Vec<T>) -> bool,
    ) -> Result<bool, Error> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut next = Some(format!("{path}{separator}per_page={}", self.page_size));
        while let Some(target) = next.take() {
            let (route, response) = self.send(Method::GET, &target, None).await?;
            if !response.is_success() {
                return Err(refusal(route, &response, permission));
            }
            let page: Vec<T> = response.json(&route)?;
            if visit(page) {
                return Ok(true);
            }
            next = response.next_link();
        }
        Ok(false)
    }
}

/// Maps a refusal to the error that explains it.
pub(crate) fn refusal(route: Route, response: &Response, permission: Permission) -> Error {
    let message = response.message();
    match response.status {
        401 => Error::Unauthorized { route, message },
        403 if message
            .to_ascii_lowercase()
            .contains("github actions is not permitted to create or approve pull requests") =>
        {
            Error::ActionsMayNotCreatePullRequests { route, message }
        }
        403 => Error::Forbidden {
            route,
            status: 403,
            permission,
            message,
        },
        404 => Error::NotFound { route, permission },
        status => Error::Rejected {
            route,
            status,
            message,
            errors: response.errors(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, link: Option<&str>, body: &str) -> Response {
        let mut headers = HeaderMap::new();
        if let Some(link) = link {
            headers.insert("link", link.parse().expect("a header value"));
        }
        Response {
            status,
            headers,
            body: body.to_owned(),
        }
    }

    #[test]
    fn next_links_are_found_among_others() {
        let r = response(
            200,
            Some(
                r#"<http://h/x?page=1>; rel="prev", <http://h/x?page=3>; rel="next", <http://h/x?page=9>; rel="last""#,
            ),
            "[]",
        );
        assert_eq!(r.next_link().as_deref(), Some("http://h/x?page=3"));
        assert_eq!(response(200, None, "[]").next_link(), None);
    }

    #[test]
    fn github_errors_are_summarized() {
        let r = response(
            422,
            None,
            r#"{"message":"Validation Failed","errors":[{"resource":"Release","code":"already_exists","field":"tag_name"}]}"#,
        );
        assert!(r.already_exists());
        assert_eq!(r.errors(), ["Release.tag_name already_exists"]);
        assert!(response(422, None, r#"{"message":"Reference already exists"}"#).already_exists());
        assert_eq!(
            response(502, None, "<html>bad gateway</html>").message(),
            "<html>bad gateway</html>"
        );
    }

    #[test]
    fn segments_and_refs_are_encoded() {
        assert_eq!(encode_segment("v1.0.0+build"), "v1.0.0%2Bbuild");
        assert_eq!(encode_ref("heads/feature/x y"), "heads/feature/x%20y");
    }
}
