//! The WebAssembly backend: every exchange is one `hub_wasi::http` host call, which the
//! JavaScript runner makes with Node's own `http`/`https` modules. What is decided stays here,
//! as natively: the scheme and HTTPS-only rules, the address policy (the name is resolved
//! through the host, checked, and the request pinned to an allowed address), which proxy
//! applies (the environment's, through the same matcher), redirects and retries. The host
//! carries bytes: it connects (to the pinned address, or through the proxy's `CONNECT`
//! tunnel), sends, and enforces the timeout and the body cap it is given.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, USER_AGENT};
use http::{HeaderMap, Method, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::proxy::matcher::Matcher;

use crate::{
    AddressPolicy, BoxError, Error, MAX_REDIRECTS, Request, Response, Settings, redirect,
    too_many_redirects,
};

/// Bodies the GitHub client receives are not capped by a [`Request`]: this bounds them.
const SERVICE_MAX_BODY: usize = 256 * 1024 * 1024;

/// Where one exchange goes: what the checks decided.
struct Route {
    uri: Uri,
    /// The address to connect to (checked against the policy), when it was resolved here.
    address: Option<IpAddr>,
    /// The proxy's URL and its `Proxy-Authorization`, when one applies.
    proxy: Option<(String, Option<HeaderValue>)>,
}

/// What both the blocking client and the GitHub client's service share.
struct Core {
    policy: AddressPolicy,
    proxies: Matcher,
}

impl Core {
    fn new(settings: &Settings) -> Self {
        Core {
            policy: settings.policy,
            proxies: settings.proxies.matcher(),
        }
    }

    /// The rules applied before any byte is sent, as the native client applies them.
    fn check(&self, url: &str, https_only: bool) -> Result<Route, Error> {
        let invalid = |reason: &str| Error::InvalidUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let uri: Uri = url.parse().map_err(|_| invalid("it does not parse"))?;
        let scheme = uri.scheme_str().unwrap_or_default();
        if !matches!(scheme, "http" | "https") {
            return Err(invalid("only http and https are supported"));
        }
        if https_only && scheme != "https" {
            return Err(Error::Refused {
                url: url.to_owned(),
                reason: "only https is allowed here".to_owned(),
            });
        }
        let host = uri.host().ok_or_else(|| invalid("it has no host"))?;
        let bare = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let proxy = self.proxies.intercept(&uri).map(|intercept| {
            let target = intercept.uri().to_string();
            (target, intercept.basic_auth().cloned())
        });
        let mut address = None;
        if let Ok(ip) = bare.parse::<IpAddr>() {
            if let Some(why) = self.policy.refuses(ip) {
                return Err(Error::Refused {
                    url: url.to_owned(),
                    reason: format!("{ip} is {why}"),
                });
            }
        } else if self.policy != AddressPolicy::Any {
            let resolved = hub_wasi::resolve(&bare);
            if proxy.is_some() {
                // The proxy resolves the name: every address it may use must be allowed.
                for ip in resolved.unwrap_or_default() {
                    if let Some(why) = self.policy.refuses(ip) {
                        return Err(Error::Refused {
                            url: url.to_owned(),
                            reason: format!("`{bare}` resolves to {ip}, {why}"),
                        });
                    }
                }
            } else {
                let resolved = resolved.map_err(|e| Error::Connect {
                    url: url.to_owned(),
                    message: format!("client error (Connect): dns error: {e}"),
                })?;
                address = resolved
                    .iter()
                    .copied()
                    .find(|ip| self.policy.refuses(*ip).is_none());
                if address.is_none()
                    && let Some(first) = resolved.first()
                {
                    let why = self.policy.refuses(*first).unwrap_or("not allowed");
                    return Err(Error::Refused {
                        url: url.to_owned(),
                        reason: format!(
                            "client error (Connect): `{bare}` resolves to {first}, {why}"
                        ),
                    });
                }
            }
        }
        Ok(Route {
            uri,
            address,
            proxy,
        })
    }

    /// One exchange through the host, no redirect followed.
    fn exchange(
        &self,
        method: &Method,
        route: &Route,
        headers: &HeaderMap,
        body: &[u8],
        timeout: Duration,
        max_body: usize,
    ) -> Result<http::Response<Bytes>, hub_wasi::HostError> {
        let mut pairs: Vec<(String, Vec<u8>)> = headers
            .iter()
            .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
            .collect();
        let proxy = route.proxy.as_ref().map(|(target, auth)| {
            if let Some(auth) = auth {
                // A pseudo-header: the host sends it to the proxy, never to the server.
                pairs.push((":proxy-authorization".into(), auth.as_bytes().to_vec()));
            }
            target.clone()
        });
        let answer = hub_wasi::http(&hub_wasi::HttpRequest {
            method: method.as_str().to_owned(),
            url: route.uri.to_string(),
            headers: pairs,
            body: body.to_vec(),
            timeout,
            max_body,
            address: route.address,
            proxy,
        })?;
        let mut response = http::Response::builder()
            .status(StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_GATEWAY));
        for (name, value) in answer.headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_bytes(&value),
            ) {
                response = response.header(name, value);
            }
        }
        response
            .body(Bytes::from(answer.body))
            .map_err(|_| hub_wasi::HostError::Malformed("http: unusable response head"))
    }
}

/// A blocking client for the shells, as the native one: the same methods, limits and errors.
pub struct Http {
    core: Core,
    user_agent: HeaderValue,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("policy", &self.core.policy)
            .finish_non_exhaustive()
    }
}

impl Http {
    /// A client for `settings`, sending `user_agent`.
    ///
    /// # Errors
    ///
    /// None under WebAssembly; the signature is the native one's.
    pub fn new(settings: &Settings, user_agent: &str) -> Result<Self, Error> {
        Ok(Http {
            core: Core::new(settings),
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
        let deadline = Instant::now() + request.timeout;
        let timed_out = || Error::Timeout {
            url: url.to_owned(),
            after: request.timeout,
        };
        let mut headers = HeaderMap::new();
        headers.insert(USER_AGENT, self.user_agent.clone());
        for (name, value) in &request.headers {
            headers.append(name, value.clone());
        }
        let mut current = url.to_owned();
        let mut method = method;
        let mut body = body;
        for _ in 0..=MAX_REDIRECTS {
            let route = self.core.check(&current, request.https_only)?;
            let idempotent = matches!(method, Method::GET | Method::HEAD);
            let mut attempt = 0;
            let response = loop {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(timed_out());
                }
                let result = self.core.exchange(
                    &method,
                    &route,
                    &headers,
                    body.as_deref().unwrap_or_default(),
                    left,
                    request.max_body,
                );
                let retry = idempotent
                    && attempt < request.retries
                    && match &result {
                        Ok(r) => matches!(r.status().as_u16(), 502..=504),
                        Err(hub_wasi::HostError::Failed { kind, .. }) => kind == "connect",
                        Err(_) => false,
                    };
                if !retry {
                    break result.map_err(|e| match e {
                        hub_wasi::HostError::Failed { kind, .. } if kind == "timeout" => {
                            timed_out()
                        }
                        hub_wasi::HostError::Failed { kind, .. } if kind == "too-large" => {
                            Error::TooLarge {
                                url: current.clone(),
                                limit: request.max_body,
                            }
                        }
                        other => Error::Connect {
                            url: current.clone(),
                            message: other.to_string(),
                        },
                    })?;
                }
                attempt += 1;
                std::thread::sleep(Duration::from_millis(200 << attempt.min(4)));
            };
            if let Some(next) = redirect(
                response.status(),
                response.headers(),
                &route.uri,
                &current,
                request,
                &mut method,
                &mut body,
            )? {
                current = next;
                continue;
            }
            let (parts, body) = response.into_parts();
            return Ok(Response {
                status: parts.status,
                headers: parts.headers,
                body,
                url: current,
            });
        }
        Err(too_many_redirects(url))
    }
}

/// The `tower` service octocrab runs on under WebAssembly (natively it runs on hyper's client
/// over [`crate::connector`]): one host exchange per request, with the settings' proxies and
/// address policy, no redirect followed and no retry (the GitHub client retries itself).
#[derive(Clone)]
pub struct Service {
    core: Arc<Core>,
    timeout: Duration,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Service {
    /// A service for `settings`; each exchange is bounded by `timeout` (the host call blocks
    /// the module, so a caller's own timer cannot cut it short).
    #[must_use]
    pub fn new(settings: &Settings, timeout: Duration) -> Self {
        Service {
            core: Arc::new(Core::new(settings)),
            timeout,
        }
    }
}

type Answering =
    Pin<Box<dyn Future<Output = Result<http::Response<Full<Bytes>>, BoxError>> + Send>>;

impl<B> tower_service::Service<http::Request<B>> for Service
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = http::Response<Full<Bytes>>;
    type Error = BoxError;
    type Future = Answering;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let core = Arc::clone(&self.core);
        let timeout = self.timeout;
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let body = body.collect().await.map_err(Into::into)?.to_bytes();
            let url = parts.uri.to_string();
            let route = core.check(&url, false)?;
            let response = core.exchange(
                &parts.method,
                &route,
                &parts.headers,
                &body,
                timeout,
                SERVICE_MAX_BODY,
            )?;
            Ok(response.map(Full::new))
        })
    }
}
