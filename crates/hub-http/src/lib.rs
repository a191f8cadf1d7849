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

use std::net::IpAddr;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, StatusCode, Uri};
use hyper_util::client::proxy::matcher::Matcher;

#[cfg(not(target_os = "wasi"))]
mod native;
#[cfg(not(target_os = "wasi"))]
pub use native::{Connector, Http, HttpsConnector, PolicyResolver, connector};
#[cfg(target_os = "wasi")]
mod wasi;
#[cfg(target_os = "wasi")]
pub use wasi::{Http, Service};

/// A boxed error, as hyper's services use.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

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

impl Http {
    /// `GET url` within `request`'s limits. Any status is a response; the caller decides.
    ///
    /// # Errors
    ///
    /// See [`Error`].
    pub fn get(&self, url: &str, request: &Request) -> Result<Response, Error> {
        self.send(http::Method::GET, url, None, request)
    }
}

/// What a response means for the request loop both backends run: `Ok(None)` when it is the
/// answer; `Ok(Some(next))` when it is a redirect to follow (`request.follow_redirects`) —
/// `next` is the absolute URL, and `method`/`body` have become what the next hop sends
/// (303, and 301/302 after a POST, turn into a body-less GET, as browsers and curl do).
fn redirect(
    status: StatusCode,
    headers: &HeaderMap,
    uri: &Uri,
    current: &str,
    request: &Request,
    method: &mut http::Method,
    body: &mut Option<Bytes>,
) -> Result<Option<String>, Error> {
    let redirect = matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308);
    if !(redirect && request.follow_redirects) {
        return Ok(None);
    }
    let location = headers
        .get(http::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| Error::Redirect {
            url: current.to_owned(),
            message: format!("{status} without a Location"),
        })?;
    let next = resolve(uri, location).ok_or_else(|| Error::Redirect {
        url: current.to_owned(),
        message: format!("redirects to `{location}`, which is not a URL"),
    })?;
    if status == StatusCode::SEE_OTHER
        || (matches!(status.as_u16(), 301 | 302) && *method == http::Method::POST)
    {
        *method = http::Method::GET;
        *body = None;
    }
    Ok(Some(next))
}

/// More than [`MAX_REDIRECTS`] redirects from `url`.
fn too_many_redirects(url: &str) -> Error {
    Error::Redirect {
        url: url.to_owned(),
        message: format!("more than {MAX_REDIRECTS} redirects"),
    }
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

#[cfg(all(test, not(target_os = "wasi")))]
mod tests;
