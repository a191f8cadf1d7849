//! Schemas from the network and the disk: a size- and time-bounded HTTP client with a cache
//! keyed by URL (under `$RUNNER_TEMP` or `~/.cache`), an offline mode that uses only the cache,
//! and the `$ref` retriever the engine is given. What the repository's references may reach is
//! [`crate::policy`]'s; a download for one connects only to public addresses of allowed hosts.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use hub_config::{Format, Limits, Retrieve, RetrieveError};
use serde_json::Value;

use crate::policy::{self, Policy, Trust};

/// Largest schema or catalog accepted, in bytes.
pub const MAX_SCHEMA_BYTES: usize = 8 * 1024 * 1024;
/// Longest a download may take, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(20);
/// How long a cached download is used without asking the server again.
pub const FRESH_FOR: Duration = Duration::from_secs(24 * 60 * 60);

/// Why a schema could not be had.
#[derive(Debug)]
pub enum FetchError {
    /// Offline and not in the cache.
    Offline { url: String },
    /// The request failed (connection, timeout, status, body too large).
    Http { url: String, message: String },
    /// A local file could not be read.
    Read { path: PathBuf, message: String },
    /// The document is larger than [`MAX_SCHEMA_BYTES`].
    TooLarge { what: String },
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::Offline { url } => {
                write!(
                    f,
                    "`{url}` is not in the schema cache and `--offline` forbids downloading it"
                )
            }
            FetchError::Http { url, message } => write!(f, "cannot download `{url}`: {message}"),
            FetchError::Read { path, message } => {
                write!(f, "cannot read `{}`: {message}", path.display())
            }
            FetchError::TooLarge { what } => {
                write!(f, "`{what}` is larger than {MAX_SCHEMA_BYTES} bytes")
            }
        }
    }
}

impl std::error::Error for FetchError {}

/// Most redirects a download for the repository follows, each checked here.
const MAX_REDIRECTS: usize = hub_http::MAX_REDIRECTS;

/// Downloads with a cache, on the suite's one HTTP stack (hub-http). Shareable across threads.
pub struct Fetcher {
    cache: Option<PathBuf>,
    offline: bool,
    /// Proxies from the binary's environment.
    http: hub_http::Settings,
    /// For references the workflow gave: any address, redirects followed by hub-http. Made
    /// on first use, so a run that downloads nothing sets up no TLS.
    workflow: OnceLock<Result<hub_http::Http, String>>,
    /// For references from the repository: public addresses only (hub-http's resolver, on
    /// literal addresses and on every hop), HTTPS only, redirects followed here so that each
    /// hop's host is checked against the policy's list.
    repository: OnceLock<Result<hub_http::Http, String>>,
    policy: Arc<Policy>,
}

impl Fetcher {
    /// A fetcher caching under `cache` (none: no cache), connecting as `http` says (proxies);
    /// downloads for the repository's references go only where `policy` allows.
    pub fn new(
        cache: Option<PathBuf>,
        offline: bool,
        http: hub_http::Settings,
        policy: Arc<Policy>,
    ) -> Self {
        Self {
            cache,
            offline,
            http,
            workflow: OnceLock::new(),
            repository: OnceLock::new(),
            policy,
        }
    }

    /// The client for `trust`, made once.
    fn client(&self, trust: Trust) -> Result<&hub_http::Http, String> {
        let (slot, policy) = match trust {
            Trust::Workflow => (&self.workflow, hub_http::AddressPolicy::Any),
            Trust::Repository => (&self.repository, hub_http::AddressPolicy::PublicOnly),
        };
        slot.get_or_init(|| {
            hub_http::Http::new(&self.http.clone().with_policy(policy), USER_AGENT)
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(Clone::clone)
    }
    /// The cache file for `url`: a readable tail of the URL plus a 64-bit FNV-1a hash of it.
    pub fn cache_path(&self, url: &str) -> Option<PathBuf> {
        let hash = url.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        let tail: String = url
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
            .take(40)
            .collect();
        self.cache
            .as_ref()
            .map(|dir| dir.join(format!("{hash:016x}-{tail}")))
    }

    /// The bytes at `url`: from the cache when fresh (or when offline), else downloaded and
    /// cached; a stale cache entry is used when the download fails.
    pub fn get(&self, url: &str, trust: Trust) -> Result<Vec<u8>, FetchError> {
        let cached = self.cache_path(url).filter(|p| p.is_file());
        if let Some(path) = &cached {
            let fresh = std::fs::metadata(path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| SystemTime::now().duration_since(t).ok())
                .is_some_and(|age| age < FRESH_FOR);
            if fresh || self.offline {
                return read_capped(path);
            }
        }
        if self.offline {
            return Err(FetchError::Offline {
                url: url.to_owned(),
            });
        }
        match self.download(url, trust) {
            Ok(bytes) => {
                if let Some(path) = self.cache_path(url) {
                    // A cache that cannot be written only costs a download next time.
                    let _ = hub_kit::files::write_atomically(&path, &bytes);
                }
                Ok(bytes)
            }
            Err(error) => match cached {
                Some(path) => read_capped(&path),
                None => Err(error),
            },
        }
    }

    fn download(&self, url: &str, trust: Trust) -> Result<Vec<u8>, FetchError> {
        let client = self.client(trust).map_err(|message| FetchError::Http {
            url: url.to_owned(),
            message,
        })?;
        // One deadline for the whole download, however many hops it takes.
        let deadline = Instant::now() + TIMEOUT;
        let request = |follow_redirects| hub_http::Request {
            timeout: deadline.saturating_duration_since(Instant::now()),
            max_body: MAX_SCHEMA_BYTES,
            https_only: trust == Trust::Repository,
            follow_redirects,
            ..hub_http::Request::default()
        };
        let failed = |error| from_http(url, error);
        let response = match trust {
            Trust::Workflow => client.get(url, &request(true)).map_err(failed)?,
            // Each redirect is the policy's to allow, not only the first URL, whether or not a
            // proxy hides the hops from the resolver.
            Trust::Repository => follow(url, &self.policy, |hop| {
                client.get(hop, &request(false)).map_err(failed)
            })?,
        };
        if !response.status.is_success() {
            return Err(FetchError::Http {
                url: url.to_owned(),
                message: format!("the server answered {}", response.status),
            });
        }
        Ok(response.body.to_vec())
    }
}

/// Where a download comes from when it has to.
const USER_AGENT: &str = concat!("hub-validate-config/", env!("CARGO_PKG_VERSION"));

/// hub-http's error while downloading `url`, as ours: a body over the cap is
/// [`FetchError::TooLarge`]; otherwise the cause, naming the URL that failed only when it is
/// a redirect's, not `url` again.
fn from_http(url: &str, error: hub_http::Error) -> FetchError {
    use hub_http::Error;
    let (at, cause) = match &error {
        Error::TooLarge { url, .. } => {
            return FetchError::TooLarge { what: url.clone() };
        }
        Error::InvalidUrl { url, reason } | Error::Refused { url, reason } => (url, reason.clone()),
        Error::Connect { url, message } | Error::Redirect { url, message } => {
            (url, message.clone())
        }
        // The deadline is the whole download's, whatever was left of it for the last hop.
        Error::Timeout { url, .. } => (url, format!("no answer within {} s", TIMEOUT.as_secs())),
        Error::Setup(_) => {
            return FetchError::Http {
                url: url.to_owned(),
                message: error.to_string(),
            };
        }
    };
    FetchError::Http {
        url: url.to_owned(),
        message: if at == url {
            cause
        } else {
            format!("`{at}`: {cause}")
        },
    }
}

/// Gets `url` with `get` (which must not follow redirects), following at most
/// [`MAX_REDIRECTS`] redirects itself, each new URL allowed by [`Policy::remote`] first.
fn follow(
    url: &str,
    policy: &Policy,
    get: impl Fn(&str) -> Result<hub_http::Response, FetchError>,
) -> Result<hub_http::Response, FetchError> {
    let http = |message: String| FetchError::Http {
        url: url.to_owned(),
        message,
    };
    let mut current = url.to_owned();
    for _ in 0..=MAX_REDIRECTS {
        let response = get(&current)?;
        if !response.status.is_redirection() {
            return Ok(response);
        }
        let location = response
            .headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| http(format!("{} without a location", response.status)))?;
        let next = join_url(&current, location);
        policy
            .remote(&next)
            .map_err(|e| http(format!("redirected: {e}")))?;
        current = next;
    }
    Err(http(format!("more than {MAX_REDIRECTS} redirects")))
}

/// The URL a `Location` header names, relative to the URL that answered.
fn join_url(base: &str, location: &str) -> String {
    if location.starts_with("https://") || location.starts_with("http://") {
        return location.to_owned();
    }
    let (scheme, rest) = base.split_once("://").unwrap_or(("https", base));
    if let Some(authority_path) = location.strip_prefix("//") {
        return format!("{scheme}://{authority_path}");
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if location.starts_with('/') {
        return format!("{scheme}://{authority}{location}");
    }
    let path = rest[authority.len()..]
        .split(['?', '#'])
        .next()
        .unwrap_or_default();
    let folder = path.rsplit_once('/').map_or("", |(folder, _)| folder);
    format!("{scheme}://{authority}{folder}/{location}")
}

/// Reads a local file of at most [`MAX_SCHEMA_BYTES`].
pub fn read_capped(path: &Path) -> Result<Vec<u8>, FetchError> {
    let read = |e: std::io::Error| FetchError::Read {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let size = std::fs::metadata(path).map_err(read)?.len();
    if size > MAX_SCHEMA_BYTES as u64 {
        return Err(FetchError::TooLarge {
            what: path.display().to_string(),
        });
    }
    std::fs::read(path).map_err(read)
}

/// Parses a schema document (JSON, or YAML/TOML by extension) into a value.
pub fn parse_document(name: &str, bytes: &[u8]) -> Result<Value, String> {
    let format =
        Format::from_path(name.split(['?', '#']).next().unwrap_or(name)).unwrap_or(Format::Json);
    let mut parsed = hub_config::parse(bytes, format, &Limits::default());
    if let Some(error) = parsed
        .diagnostics
        .iter()
        .find(|d| d.severity == hub_config::Severity::Error)
    {
        return Err(format!(
            "line {}, column {}: {}",
            error.span.start.line, error.span.start.column, error.message
        ));
    }
    match parsed.documents.len() {
        1 => Ok(parsed.documents.remove(0).value),
        n => Err(format!("expected one document, found {n}")),
    }
}

/// `file:///abs/path` for a local path (spaces and other reserved bytes percent-encoded).
pub fn file_uri(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let mut uri = String::from("file://");
    for byte in absolute.to_string_lossy().bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            uri.push(char::from(byte));
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

/// The path a `file://` URI names.
pub fn uri_path(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| rest.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        if let Some(b) = escaped {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    Some(PathBuf::from(String::from_utf8_lossy(&out).into_owned()))
}

/// The retriever given to the engine for `$ref`s, which are the repository's: `file://` only
/// inside the schema roots, `http(s)://` only as [`Policy::remote`] allows, through the
/// [`Fetcher`] (cache, offline mode, limits) — except on the origin of a remote schema the
/// workflow named itself, whose own `$ref`s are the workflow author's.
pub struct Retriever {
    /// Downloads.
    pub fetcher: Arc<Fetcher>,
    /// What the repository may reach.
    pub policy: Arc<Policy>,
    /// `scheme://host:port` of the schema being compiled, when the workflow named it by URL.
    pub trusted_origin: Option<String>,
}

impl Retrieve for Retriever {
    fn retrieve(&self, uri: &str) -> Result<Value, RetrieveError> {
        let bytes = if uri.starts_with("http://") || uri.starts_with("https://") {
            let trust =
                if self.trusted_origin.is_some() && policy::origin(uri) == self.trusted_origin {
                    Trust::Workflow
                } else {
                    self.policy.remote(uri)?;
                    Trust::Repository
                };
            self.fetcher.get(uri, trust)?
        } else if let Some(path) = uri_path(uri) {
            read_capped(&self.policy.local(uri, &path)?)?
        } else {
            return Err(format!(
                "cannot retrieve `{uri}`: only http(s) and file URIs are supported"
            )
            .into());
        };
        parse_document(uri, &bytes)
            .map_err(|e| format!("`{uri}` is not a schema document: {e}").into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Arc<Policy> {
        Arc::new(Policy::new(Path::new("/"), &[], &[]).expect("because `/` is a folder"))
    }

    #[test]
    fn the_repositorys_downloads_reach_public_addresses_only() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "192.0.0.192",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            let ip: std::net::IpAddr = private.parse().expect("because the test address parses");
            assert!(
                hub_http::AddressPolicy::PublicOnly.refuses(ip).is_some(),
                "{private} is not public"
            );
        }
        for public in ["140.82.112.3", "104.21.0.1", "2606:4700::6810:1"] {
            let ip: std::net::IpAddr = public.parse().expect("because the test address parses");
            assert_eq!(
                hub_http::AddressPolicy::PublicOnly.refuses(ip),
                None,
                "{public} is public"
            );
        }
    }

    /// A response with `status` and, if given, a `Location`.
    fn answer(status: u16, location: Option<&str>) -> hub_http::Response {
        let mut response = hub_http::Response {
            status: status.try_into().expect("because the test status is valid"),
            headers: Default::default(),
            body: Default::default(),
            url: String::new(),
        };
        if let Some(location) = location {
            response.headers.insert(
                "location",
                location
                    .parse()
                    .expect("because the test location is a header value"),
            );
        }
        response
    }

    /// Follows from `url` over `hops` (URL → the answer there), recording what was asked.
    fn follow_over(
        url: &str,
        hops: &[(&str, u16, Option<&str>)],
    ) -> (Result<hub_http::Response, FetchError>, Vec<String>) {
        let asked = std::sync::Mutex::new(Vec::new());
        let result = follow(url, &policy(), |hop| {
            asked
                .lock()
                .expect("because nothing panics")
                .push(hop.to_owned());
            let (_, status, location) = hops
                .iter()
                .find(|(u, ..)| *u == hop)
                .unwrap_or_else(|| panic!("unexpected request to {hop}"));
            Ok(answer(*status, *location))
        });
        (result, asked.into_inner().expect("because nothing panics"))
    }

    #[test]
    fn each_redirect_of_a_repository_download_is_held_to_the_policy() {
        let start = "https://json.schemastore.org/a.json";
        // Within the allowed hosts, relative and absolute: followed.
        let (result, asked) = follow_over(
            start,
            &[
                (start, 301, Some("/b.json")),
                (
                    "https://json.schemastore.org/b.json",
                    302,
                    Some("https://www.schemastore.org/c.json"),
                ),
                ("https://www.schemastore.org/c.json", 200, None),
            ],
        );
        assert_eq!(result.expect("because every hop is allowed").status, 200);
        assert_eq!(asked.len(), 3);
        // Off the list, or down to plain HTTP: refused before the hop is asked.
        for (location, why) in [
            ("https://evil.example/x.json", "is not on an allowed host"),
            ("http://json.schemastore.org/x.json", "is not an HTTPS URL"),
            (
                "https://169.254.169.254/latest/meta-data",
                "is not on an allowed host",
            ),
        ] {
            let (result, asked) = follow_over(start, &[(start, 307, Some(location))]);
            let error = result.expect_err("because the hop is refused").to_string();
            assert!(error.contains(why), "{location}: {error}");
            assert!(
                error.starts_with(&format!("cannot download `{start}`: redirected:")),
                "{error}"
            );
            assert_eq!(asked, [start], "{location} was asked");
        }
        // A loop ends after the limit.
        let (result, asked) = follow_over(start, &[(start, 302, Some(start))]);
        let error = result.expect_err("because the loop is cut").to_string();
        assert!(
            error.ends_with(&format!("more than {MAX_REDIRECTS} redirects")),
            "{error}"
        );
        assert_eq!(asked.len(), MAX_REDIRECTS + 1);
        // A redirect without a location.
        let (result, _) = follow_over(start, &[(start, 302, None)]);
        let error = result
            .expect_err("because there is nowhere to go")
            .to_string();
        assert!(error.contains("302 Found without a location"), "{error}");
    }

    #[test]
    fn download_errors_name_the_url_once_and_a_redirects_target_when_it_failed() {
        let url = "https://json.schemastore.org/a.json";
        let refused = |at: &str| hub_http::Error::Refused {
            url: at.to_owned(),
            reason: "`x` resolves to 127.0.0.1, a loopback address".to_owned(),
        };
        assert_eq!(
            from_http(url, refused(url)).to_string(),
            "cannot download `https://json.schemastore.org/a.json`: `x` resolves to 127.0.0.1, a loopback address"
        );
        assert_eq!(
            from_http(url, refused("https://x/b.json")).to_string(),
            "cannot download `https://json.schemastore.org/a.json`: `https://x/b.json`: `x` resolves to 127.0.0.1, a loopback address"
        );
        let late = hub_http::Error::Timeout {
            url: url.to_owned(),
            after: Duration::from_millis(300),
        };
        assert_eq!(
            from_http(url, late).to_string(),
            "cannot download `https://json.schemastore.org/a.json`: no answer within 20 s"
        );
        let large = hub_http::Error::TooLarge {
            url: url.to_owned(),
            limit: MAX_SCHEMA_BYTES,
        };
        assert_eq!(
            from_http(url, large).to_string(),
            "`https://json.schemastore.org/a.json` is larger than 8388608 bytes"
        );
    }

    #[test]
    fn redirects_are_joined_like_a_browser_joins_them() {
        let base = "https://json.schemastore.org/a/b.json?x=1";
        assert_eq!(
            join_url(base, "https://www.schemastore.org/b.json"),
            "https://www.schemastore.org/b.json"
        );
        assert_eq!(
            join_url(base, "//www.schemastore.org/b.json"),
            "https://www.schemastore.org/b.json"
        );
        assert_eq!(
            join_url(base, "/c.json"),
            "https://json.schemastore.org/c.json"
        );
        assert_eq!(
            join_url(base, "c.json"),
            "https://json.schemastore.org/a/c.json"
        );
        assert_eq!(
            join_url("https://h.example", "c.json"),
            "https://h.example/c.json"
        );
    }

    #[test]
    fn file_uris_round_trip() {
        let path = PathBuf::from("/tmp/a dir/schema.json");
        let uri = file_uri(&path);
        assert_eq!(uri, "file:///tmp/a%20dir/schema.json");
        assert_eq!(uri_path(&uri), Some(path));
    }

    #[test]
    fn cache_paths_are_keyed_by_url() {
        let fetcher = Fetcher::new(
            Some(PathBuf::from("/cache")),
            true,
            hub_http::Settings::default(),
            policy(),
        );
        let a = fetcher.cache_path("https://www.schemastore.org/github-workflow.json");
        let b = fetcher.cache_path("https://example.com/github-workflow.json");
        assert_ne!(a, b);
        let a = a.expect("because a cache dir is set");
        assert!(
            a.to_string_lossy().ends_with("-github-workflow.json"),
            "{}",
            a.display()
        );
    }

    #[test]
    fn offline_without_cache_refuses() {
        let dir = tempfile::tempdir().expect("because a temp dir can be made");
        let fetcher = Fetcher::new(
            Some(dir.path().to_owned()),
            true,
            hub_http::Settings::default(),
            policy(),
        );
        let error = fetcher
            .get("https://example.com/s.json", Trust::Workflow)
            .expect_err("because nothing is cached");
        assert_eq!(
            error.to_string(),
            "`https://example.com/s.json` is not in the schema cache and `--offline` forbids downloading it"
        );
    }
}
