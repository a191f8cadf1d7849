//! Schemas from the network and the disk: a size- and time-bounded HTTP client with a cache
//! keyed by URL (under `$RUNNER_TEMP` or `~/.cache`), an offline mode that uses only the cache,
//! and the `$ref` retriever the engine is given. What the repository's references may reach is
//! [`crate::policy`]'s; a download for one connects only to public addresses of allowed hosts.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use hub_config::{Format, Limits, Retrieve, RetrieveError};
use serde_json::Value;
use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use crate::policy::{self, Policy, Trust};

/// Largest schema or catalog accepted, in bytes.
pub const MAX_SCHEMA_BYTES: u64 = 8 * 1024 * 1024;
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

/// Resolves host names for downloads the repository asked for: every hop (redirects included)
/// must be HTTPS to an allowed host whose every address is public, so a pull request cannot
/// reach the runner's loopback, link-local (cloud metadata) or private network. Behind a proxy
/// the proxy resolves the target; its own address is not checked.
#[derive(Debug)]
struct PublicOnly {
    hosts: Vec<String>,
}

impl Resolver for PublicOnly {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().unwrap_or_default().trim_matches(['[', ']']);
        let proxy = config
            .proxy()
            .is_some_and(|p| p.host().trim_matches(['[', ']']).eq_ignore_ascii_case(host));
        let refuse = |why: String| Err(ureq::Error::Other(why.into()));
        if !proxy {
            if uri.scheme_str() != Some("https") {
                return refuse(format!("`{uri}` is not HTTPS"));
            }
            if !self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
                return refuse(format!("`{host}` is not an allowed host"));
            }
        }
        let addresses = DefaultResolver::default().resolve(uri, config, timeout)?;
        if !proxy && addresses.iter().any(|a| !policy::is_public(a.ip())) {
            return refuse(format!(
                "`{host}` resolves to a loopback, link-local or private address"
            ));
        }
        Ok(addresses)
    }
}

/// Most redirects a download follows.
const MAX_REDIRECTS: u32 = 5;

/// Downloads with a cache. Shareable across threads.
pub struct Fetcher {
    cache: Option<PathBuf>,
    offline: bool,
    /// For references the workflow gave.
    agent: ureq::Agent,
    /// For references from the repository: [`PublicOnly`] addresses, redirects followed here,
    /// each checked against the policy.
    untrusted: ureq::Agent,
    policy: Arc<Policy>,
}

impl Fetcher {
    /// A fetcher caching under `cache` (none: no cache); downloads for the repository's
    /// references go only where `policy` allows.
    pub fn new(cache: Option<PathBuf>, offline: bool, policy: Arc<Policy>) -> Self {
        let config = |redirects: u32| {
            ureq::Agent::config_builder()
                .timeout_global(Some(TIMEOUT))
                .max_redirects(redirects)
                .user_agent(concat!("hub-validate-config/", env!("CARGO_PKG_VERSION")))
                .build()
        };
        let untrusted = ureq::Agent::with_parts(
            config(0),
            DefaultConnector::new(),
            PublicOnly {
                hosts: policy.hosts().to_vec(),
            },
        );
        Self {
            cache,
            offline,
            agent: config(MAX_REDIRECTS).into(),
            untrusted,
            policy,
        }
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
        let http = |message: String| FetchError::Http {
            url: url.to_owned(),
            message,
        };
        let mut response = match trust {
            Trust::Workflow => self
                .agent
                .get(url)
                .call()
                .map_err(|e| http(e.to_string()))?,
            Trust::Repository => {
                // Each redirect is the policy's to allow, not only the first URL, whether or
                // not a proxy hides the hops from the resolver.
                let mut current = url.to_owned();
                let mut hops = 0;
                loop {
                    let response = self
                        .untrusted
                        .get(&current)
                        .call()
                        .map_err(|e| http(e.to_string()))?;
                    if !response.status().is_redirection() {
                        break response;
                    }
                    let location = response
                        .headers()
                        .get("location")
                        .and_then(|v| v.to_str().ok())
                        .ok_or_else(|| http(format!("{} without a location", response.status())))?;
                    let next = join_url(&current, location);
                    self.policy
                        .remote(&next)
                        .map_err(|e| http(format!("redirected: {e}")))?;
                    hops += 1;
                    if hops > MAX_REDIRECTS {
                        return Err(http(format!("more than {MAX_REDIRECTS} redirects")));
                    }
                    current = next;
                }
            }
        };
        response
            .body_mut()
            .with_config()
            .limit(MAX_SCHEMA_BYTES)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => FetchError::TooLarge {
                    what: url.to_owned(),
                },
                other => http(other.to_string()),
            })
    }
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
    if size > MAX_SCHEMA_BYTES {
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
        let fetcher = Fetcher::new(Some(PathBuf::from("/cache")), true, policy());
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
        let fetcher = Fetcher::new(Some(dir.path().to_owned()), true, policy());
        let error = fetcher
            .get("https://example.com/s.json", Trust::Workflow)
            .expect_err("because nothing is cached");
        assert_eq!(
            error.to_string(),
            "`https://example.com/s.json` is not in the schema cache and `--offline` forbids downloading it"
        );
    }
}
