//! The suite's one HTTP stack: hyper's pooled client with rustls (the system's roots, ring) —
//! the crates octocrab's own client is built from — set up once for every request a binary
//! makes: the GitHub API (through octocrab, see `hub-github`), Prometheus, health checks and
//! schema downloads.
//!
//! What is configured here, once:
//!
//! - **Proxies** from the environment the binary was given (`HTTPS_PROXY`, `HTTP_PROXY`,
//!   `ALL_PROXY`, `NO_PROXY`, upper or lower case, as curl reads them): a request to a host
//!   the proxy applies to goes through an HTTP `CONNECT` tunnel (GitHub Enterprise runners
//!   behind a corporate proxy); `NO_PROXY` hosts and domains go direct.
//! - **Where a request may go**: [`AddressPolicy::PublicOnly`] refuses loopback, private,
//!   link-local, shared, documentation and other non-public addresses — checked on the
//!   addresses the name resolves to when connecting (so a name that resolves to
//!   `127.0.0.1` is refused too), on literal addresses, and again on every redirect. The
//!   connection to a proxy is not held to it: the environment named the proxy.
//! - **Limits** per request ([`Request`]): a wall-clock timeout for the whole exchange
//!   (connect, redirects, retries and body), a cap on the body, HTTPS-only, redirects
//!   (at most 5) and retries of idempotent requests on connection errors and 502/503/504.
//!
//! The shells are sequential CLIs: [`Http`] is a blocking facade over a current-thread tokio
//! runtime. Error messages name the URL and what went wrong, never a response body.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, LOCATION, USER_AGENT};
use http::{HeaderMap, Method, StatusCode, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpStream;

/// A boxed error, as hyper's services use.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The HTTPS-capable connector every client of the suite is built on (octocrab's included).
pub type HttpsConnector = hyper_rustls::HttpsConnector<Connector>;

/// Why a request failed. Messages name the URL, never a response body.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL does not parse or has no host.
    #[error("`{url}` is not a usable URL: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The policy forbids the request (a non-public address, plain HTTP where HTTPS is
    /// required).
    #[error("refused `{url}`: {reason}")]
    Refused {
        /// The URL.
        url: String,
        /// Which rule refused it.
        reason: String,
    },
    /// The whole exchange took longer than the request's timeout.
    #[error("`{url}` did not answer within {} s", after.as_secs_f64())]
    Timeout {
        /// The URL.
        url: String,
        /// The timeout.
        after: Duration,
    },
    /// No connection, or the exchange broke off.
    #[error("cannot reach `{url}`: {message}")]
    Connect {
        /// The URL.
        url: String,
        /// The cause, with its chain.
        message: String,
    },
    /// The body is larger than the request allows.
    #[error("`{url}` sent more than {limit} bytes")]
    TooLarge {
        /// The URL.
        url: String,
        /// The cap.
        limit: usize,
    },
    /// More than [`MAX_REDIRECTS`] redirects, or a redirect without a usable `Location`.
    #[error("`{url}`: {message}")]
    Redirect {
        /// The URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The client could not be set up (TLS roots, the runtime).
    #[error("cannot set up HTTP: {0}")]
    Setup(String),
}

/// Most redirects followed for one request.
pub const MAX_REDIRECTS: usize = 5;

/// Where requests may go.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AddressPolicy {
    /// Anywhere (the workflow named the URL: a Prometheus or health URL on a private network
    /// is normal).
    #[default]
    Any,
    /// Only public addresses: for URLs that come from untrusted content (a `$ref` in a
    /// schema from a pull request).
    PublicOnly,
}

impl AddressPolicy {
    /// Why `ip` is refused under this policy, if it is.
    #[must_use]
    pub fn refuses(self, ip: IpAddr) -> Option<&'static str> {
        match self {
            AddressPolicy::Any => None,
            AddressPolicy::PublicOnly => non_public(ip),
        }
    }
}

/// What kind of non-public address `ip` is, if it is one.
#[must_use]
pub fn non_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            if v4.is_loopback() {
                Some("a loopback address")
            } else if v4.is_private() {
                Some("a private address")
            } else if v4.is_link_local() {
                Some("a link-local address")
            } else if v4.is_unspecified() || a == 0 {
                Some("an unspecified address")
            } else if a == 100 && (64..128).contains(&b) {
                Some("a shared (carrier-grade NAT) address")
            } else if v4.is_broadcast() || v4.is_multicast() || a >= 240 {
                Some("a broadcast, multicast or reserved address")
            } else if v4.is_documentation() || (a == 198 && (b == 18 || b == 19)) {
                Some("a documentation or benchmarking address")
            } else if a == 192 && b == 0 && c == 0 {
                Some("an IETF protocol assignment address")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return non_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            if v6.is_loopback() {
                Some("a loopback address")
            } else if v6.is_unspecified() {
                Some("an unspecified address")
            } else if first & 0xfe00 == 0xfc00 {
                Some("a private (unique local) address")
            } else if first & 0xffc0 == 0xfe80 {
                Some("a link-local address")
            } else if v6.is_multicast() {
                Some("a multicast address")
            } else if first == 0x2001 && v6.segments()[1] == 0x0db8 {
                Some("a documentation address")
            } else {
                None
            }
        }
    }
}

/// The proxy variables, as the binary's environment gives them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxySettings {
    /// `HTTP_PROXY`: for `http://` URLs.
    pub http: Option<String>,
    /// `HTTPS_PROXY`: for `https://` URLs.
    pub https: Option<String>,
    /// `ALL_PROXY`: for both, when the specific one is unset.
    pub all: Option<String>,
    /// `NO_PROXY`: hosts, domains (`.corp.example`), addresses and CIDR blocks that go
    /// direct; `*` for all.
    pub no: Option<String>,
}

impl ProxySettings {
    /// Reads the variables through `get` (upper case first, then lower case, as curl does).
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Self {
        let var = |name: &str| {
            get(name)
                .or_else(|| get(&name.to_ascii_lowercase()))
                .filter(|v| !v.trim().is_empty())
        };
        ProxySettings {
            http: var("HTTP_PROXY"),
            https: var("HTTPS_PROXY"),
            all: var("ALL_PROXY"),
            no: var("NO_PROXY"),
        }
    }

    fn matcher(&self) -> Matcher {
        let mut builder = Matcher::builder();
        if let Some(all) = &self.all {
            builder = builder.all(all.clone());
        }
        if let Some(http) = &self.http {
            builder = builder.http(http.clone());
        }
        if let Some(https) = &self.https {
            builder = builder.https(https.clone());
        }
        if let Some(no) = &self.no {
            builder = builder.no(no.clone());
        }
        builder.build()
    }
}

/// Everything a client is built from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    /// Proxies.
    pub proxies: ProxySettings,
    /// Where requests may go.
    pub policy: AddressPolicy,
}

impl Settings {
    /// Settings with the proxies of the environment `get` reads, and [`AddressPolicy::Any`].
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Self {
        Settings {
            proxies: ProxySettings::from_vars(get),
            policy: AddressPolicy::Any,
        }
    }

    /// The same settings under `policy`.
    #[must_use]
    pub fn with_policy(mut self, policy: AddressPolicy) -> Self {
        self.policy = policy;
        self
    }
}

/// Resolves names with the system resolver and drops (or refuses) addresses the policy
/// forbids, so a name that points at `127.0.0.1` cannot reach it.
#[derive(Clone, Debug)]
pub struct PolicyResolver {
    policy: AddressPolicy,
}

type Resolving =
    Pin<Box<dyn Future<Output = Result<std::vec::IntoIter<SocketAddr>, std::io::Error>> + Send>>;

impl tower_service::Service<Name> for PolicyResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = Resolving;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let policy = self.policy;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addresses: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = addresses
                .iter()
                .copied()
                .filter(|a| policy.refuses(a.ip()).is_none())
                .collect();
            if allowed.is_empty()
                && let Some(first) = addresses.first()
            {
                let why = policy.refuses(first.ip()).unwrap_or("not allowed");
                return Err(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!("`{host}` resolves to {}, {why}", first.ip()),
                ));
            }
            Ok(allowed.into_iter())
        })
    }
}

/// The TCP side of every connection: direct, or through the proxy the settings name for the
/// destination (an HTTP `CONNECT` tunnel). TLS goes on top ([`HttpsConnector`]).
#[derive(Clone)]
pub struct Connector {
    direct: HttpConnector<PolicyResolver>,
    /// To the proxy itself: the environment named it, so the address policy (which is for
    /// where requests go) does not apply — a corporate proxy is often on a private address.
    to_proxy: HttpConnector<PolicyResolver>,
    proxies: Arc<Matcher>,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector").finish_non_exhaustive()
    }
}

type Connecting = Pin<Box<dyn Future<Output = Result<TokioIo<TcpStream>, BoxError>> + Send>>;

impl tower_service::Service<Uri> for Connector {
    type Response = TokioIo<TcpStream>;
    type Error = BoxError;
    type Future = Connecting;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, destination: Uri) -> Self::Future {
        let mut direct = self.direct.clone();
        let to_proxy = self.to_proxy.clone();
        let intercept = self.proxies.intercept(&destination);
        Box::pin(async move {
            match intercept {
                Some(proxy) => {
                    let mut tunnel = Tunnel::new(proxy.uri().clone(), to_proxy);
                    if let Some(auth) = proxy.basic_auth() {
                        tunnel = tunnel.with_auth(auth.clone());
                    }
                    std::future::poll_fn(|cx| tunnel.poll_ready(cx)).await?;
                    Ok(tunnel.call(destination).await?)
                }
                None => Ok(direct.call(destination).await?),
            }
        })
    }
}

/// The connector for `settings`: proxies, the address policy, rustls with the system's roots.
///
/// # Errors
///
/// [`Error::Setup`] when the system's TLS roots cannot be loaded.
pub fn connector(settings: &Settings) -> Result<HttpsConnector, Error> {
    let tcp_under = |policy| {
        let mut tcp = HttpConnector::new_with_resolver(PolicyResolver { policy });
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(Some(Duration::from_secs(30)));
        tcp
    };
    let tcp = Connector {
        direct: tcp_under(settings.policy),
        to_proxy: tcp_under(AddressPolicy::Any),
        proxies: Arc::new(settings.proxies.matcher()),
    };
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls()?.config.clone())
        .https_or_http()
        .enable_http1()
        .wrap_connector(tcp);
    Ok(https)
}

/// The TLS set-up every client shares, made once per process: rustls with ring and the
/// system's root certificates.
struct Tls {
    config: rustls::ClientConfig,
    /// Whether the system gave any root certificate. Without one, plain `http://` still
    /// works (a Prometheus on the private network), and an `https://` request is refused
    /// with the reason instead of a handshake error.
    has_roots: bool,
}

fn tls() -> Result<&'static Tls, Error> {
    static TLS: std::sync::OnceLock<Result<Tls, String>> = std::sync::OnceLock::new();
    TLS.get_or_init(|| {
        let provider = rustls::crypto::CryptoProvider::get_default()
            .cloned()
            .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
        let mut roots = rustls::RootCertStore::empty();
        let found = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(found.certs);
        let has_roots = !roots.is_empty();
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Tls { config, has_roots })
    })
    .as_ref()
    .map_err(|e| Error::Setup(e.clone()))
}

/// One request's limits.
#[derive(Clone, Debug)]
pub struct Request {
    /// The whole exchange: connection, redirects, retries and body.
    pub timeout: Duration,
    /// Largest body accepted, in bytes.
    pub max_body: usize,
    /// Tries after the first, for connection errors and 502/503/504 (GET and HEAD only).
    pub retries: u32,
    /// Refuse `http://` (the first URL and every redirect).
    pub https_only: bool,
    /// Follow redirects (at most [`MAX_REDIRECTS`]).
    pub follow_redirects: bool,
    /// Extra request headers.
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl Default for Request {
    fn default() -> Self {
        Request {
            timeout: Duration::from_secs(20),
            max_body: 8 * 1024 * 1024,
            retries: 2,
            https_only: false,
            follow_redirects: true,
            headers: Vec::new(),
        }
    }
}

/// A response, whole.
#[derive(Clone, Debug)]
pub struct Response {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body (at most the request's cap).
    pub body: Bytes,
    /// The URL that answered (after redirects).
    pub url: String,
}

/// A blocking client for the shells: one current-thread runtime, one connection pool.
pub struct Http {
    runtime: tokio::runtime::Runtime,
    client: Client<HttpsConnector, Full<Bytes>>,
    policy: AddressPolicy,
    user_agent: HeaderValue,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Http {
    /// A client for `settings`, sending `user_agent` (e.g. `hub-canary-gate/0.1.0`).
    ///
    /// # Errors
    ///
    /// [`Error::Setup`] when the runtime cannot start or the TLS roots cannot be loaded.
    pub fn new(settings: &Settings, user_agent: &str) -> Result<Self, Error> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Setup(format!("cannot start the runtime: {e}")))?;
        let connector = connector(settings)?;
        let client = {
            let _entered = runtime.enter();
            Client::builder(TokioExecutor::new())
                .pool_idle_timeout(Duration::from_secs(30))
                .build(connector)
        };
        Ok(Http {
            runtime,
            client,
            policy: settings.policy,
            user_agent: HeaderValue::from_str(user_agent)
                .unwrap_or_else(|_| HeaderValue::from_static("hub-actions")),
        })
    }

    /// `GET url` within `request`'s limits. Any status is a response; the caller decides.
    ///
    /// # Errors
    ///
    /// See [`Error`].
    pub fn get(&self, url: &str, request: &Request) -> Result<Response, Error> {
        self.send(Method::GET, url, None, request)
    }

    /// `method url` with `body` (`Content-Type` among the request's headers).
    ///
    /// # Errors
    ///
    /// See [`Error`].
    pub fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<Bytes>,
        request: &Request,
    ) -> Result<Response, Error> {
        let exchange = self.exchange(method, url, body, request);
        match self
            .runtime
            .block_on(async { tokio::time::timeout(request.timeout, exchange).await })
        {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout {
                url: url.to_owned(),
                after: request.timeout,
            }),
        }
    }

    async fn exchange(
        &self,
        method: Method,
        url: &str,
        body: Option<Bytes>,
        request: &Request,
    ) -> Result<Response, Error> {
        let mut current = url.to_owned();
        let mut method = method;
        let mut body = body;
        for _ in 0..=MAX_REDIRECTS {
            let uri = self.check(&current, request).await?;
            let response = self
                .with_retries(&method, &uri, &current, body.clone(), request)
                .await?;
            let status = response.status();
            let redirect = matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308);
            if redirect && request.follow_redirects {
                let location = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| Error::Redirect {
                        url: current.clone(),
                        message: format!("{status} without a Location"),
                    })?;
                current = resolve(&uri, location).ok_or_else(|| Error::Redirect {
                    url: current.clone(),
                    message: format!("redirects to `{location}`, which is not a URL"),
                })?;
                if status == StatusCode::SEE_OTHER
                    || (matches!(status.as_u16(), 301 | 302) && method == Method::POST)
                {
                    method = Method::GET;
                    body = None;
                }
                continue;
            }
            let (parts, incoming) = response.into_parts();
            let body = Limited::new(incoming, request.max_body)
                .collect()
                .await
                .map_err(|e| {
                    if e.is::<http_body_util::LengthLimitError>() {
                        Error::TooLarge {
                            url: current.clone(),
                            limit: request.max_body,
                        }
                    } else {
                        Error::Connect {
                            url: current.clone(),
                            message: chain(&*e),
                        }
                    }
                })?
                .to_bytes();
            return Ok(Response {
                status: parts.status,
                headers: parts.headers,
                body,
                url: current,
            });
        }
        Err(Error::Redirect {
            url: url.to_owned(),
            message: format!("more than {MAX_REDIRECTS} redirects"),
        })
    }

    /// Parses `url` and applies the request's and the client's rules before any byte is
    /// sent: the scheme, and a literal address under the policy (names are checked when
    /// they are resolved; through a proxy, here).
    async fn check(&self, url: &str, request: &Request) -> Result<Uri, Error> {
        let invalid = |reason: &str| Error::InvalidUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let uri: Uri = url.parse().map_err(|_| invalid("it does not parse"))?;
        let scheme = uri.scheme_str().unwrap_or_default();
        if !matches!(scheme, "http" | "https") {
            return Err(invalid("only http and https are supported"));
        }
        if scheme == "https" && !tls()?.has_roots {
            return Err(Error::Refused {
                url: url.to_owned(),
                reason: "this machine has no TLS root certificates to check the server with \
                         (install `ca-certificates`, or set `SSL_CERT_FILE`)"
                    .to_owned(),
            });
        }
        if request.https_only && scheme != "https" {
            return Err(Error::Refused {
                url: url.to_owned(),
                reason: "only https is allowed here".to_owned(),
            });
        }
        let host = uri.host().ok_or_else(|| invalid("it has no host"))?;
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let refuse = |ip: IpAddr, why: &str| Error::Refused {
            url: url.to_owned(),
            reason: format!("{ip} is {why}"),
        };
        if let Ok(ip) = bare.parse::<IpAddr>() {
            if let Some(why) = self.policy.refuses(ip) {
                return Err(refuse(ip, why));
            }
        } else if self.policy != AddressPolicy::Any {
            // Through a proxy the proxy resolves the name: check what it resolves to here.
            let port = uri
                .port_u16()
                .unwrap_or(if scheme == "https" { 443 } else { 80 });
            if let Ok(addresses) = tokio::net::lookup_host((bare, port)).await {
                for address in addresses {
                    if let Some(why) = self.policy.refuses(address.ip()) {
                        return Err(Error::Refused {
                            url: url.to_owned(),
                            reason: format!("`{bare}` resolves to {}, {why}", address.ip()),
                        });
                    }
                }
            }
        }
        Ok(uri)
    }

    async fn with_retries(
        &self,
        method: &Method,
        uri: &Uri,
        url: &str,
        body: Option<Bytes>,
        request: &Request,
    ) -> Result<http::Response<hyper::body::Incoming>, Error> {
        let idempotent = matches!(*method, Method::GET | Method::HEAD);
        let mut attempt = 0;
        loop {
            let mut builder = http::Request::builder()
                .method(method.clone())
                .uri(uri.clone())
                .header(USER_AGENT, self.user_agent.clone());
            for (name, value) in &request.headers {
                builder = builder.header(name, value);
            }
            let outgoing = builder
                .body(Full::new(body.clone().unwrap_or_default()))
                .map_err(|e| Error::InvalidUrl {
                    url: url.to_owned(),
                    reason: e.to_string(),
                })?;
            let result = self.client.request(outgoing).await;
            let retry = idempotent
                && attempt < request.retries
                && match &result {
                    Ok(r) => matches!(r.status().as_u16(), 502..=504),
                    // A refusal by the policy is final.
                    Err(e) => !refused_by_policy(e),
                };
            if !retry {
                return result.map_err(|e| {
                    if refused_by_policy(&e) {
                        Error::Refused {
                            url: url.to_owned(),
                            reason: chain(&e),
                        }
                    } else {
                        Error::Connect {
                            url: url.to_owned(),
                            message: chain(&e),
                        }
                    }
                });
            }
            attempt += 1;
            tokio::time::sleep(Duration::from_millis(200 << attempt.min(4))).await;
        }
    }
}

/// Whether a client error comes from [`PolicyResolver`]'s refusal.
fn refused_by_policy(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::PermissionDenied
        {
            return true;
        }
        source = e.source();
    }
    false
}

/// An error and its causes on one line (`a: b: c`), without repeats.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}

/// `location` (absolute, or relative to `base`) as an absolute URL.
fn resolve(base: &Uri, location: &str) -> Option<String> {
    if location.starts_with("http://") || location.starts_with("https://") {
        return Some(location.to_owned());
    }
    let scheme = base.scheme_str()?;
    let authority = base.authority()?.as_str();
    if let Some(rest) = location.strip_prefix("//") {
        return Some(format!("{scheme}://{rest}"));
    }
    if location.starts_with('/') {
        return Some(format!("{scheme}://{authority}{location}"));
    }
    let path = base.path();
    let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
    Some(format!("{scheme}://{authority}{dir}{location}"))
}

#[cfg(test)]
mod tests;
