//! The native backend: hyper's pooled client over tokio's TCP, rustls with the system's roots,
//! the policy's resolver and the proxies' `CONNECT` tunnel.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderValue, USER_AGENT};
use http::{Method, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpStream;

use crate::{
    AddressPolicy, BoxError, Error, MAX_REDIRECTS, Request, Response, Settings, redirect,
    too_many_redirects,
};

/// The HTTPS-capable connector every client of the suite is built on (octocrab's included).
pub type HttpsConnector = hyper_rustls::HttpsConnector<Connector>;

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
            if let Some(next) = redirect(
                response.status(),
                response.headers(),
                &uri,
                &current,
                request,
                &mut method,
                &mut body,
            )? {
                current = next;
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
        Err(too_many_redirects(url))
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
