//! Schemas from the network and the disk: a size- and time-bounded HTTP client with a cache
//! keyed by URL (under `$RUNNER_TEMP` or `~/.cache`), an offline mode that uses only the cache,
//! and the `$ref` retriever the engine is given.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use hub_config::{Format, Limits, Retrieve, RetrieveError};
use serde_json::Value;

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

/// Downloads with a cache. Cheap to clone; shareable across threads.
#[derive(Clone)]
pub struct Fetcher {
    cache: Option<PathBuf>,
    offline: bool,
    agent: ureq::Agent,
}

impl Fetcher {
    /// A fetcher caching under `cache` (none: no cache).
    pub fn new(cache: Option<PathBuf>, offline: bool) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(TIMEOUT))
            .max_redirects(5)
            .user_agent(concat!("hub-validate-config/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Self {
            cache,
            offline,
            agent,
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
    pub fn get(&self, url: &str) -> Result<Vec<u8>, FetchError> {
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
        match self.download(url) {
            Ok(bytes) => {
                if let Some(path) = self.cache_path(url) {
                    // A cache that cannot be written only costs a download next time.
                    let _ = write_atomically(&path, &bytes);
                }
                Ok(bytes)
            }
            Err(error) => match cached {
                Some(path) => read_capped(&path),
                None => Err(error),
            },
        }
    }

    fn download(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        let http = |message: String| FetchError::Http {
            url: url.to_owned(),
            message,
        };
        let mut response = self
            .agent
            .get(url)
            .call()
            .map_err(|e| http(e.to_string()))?;
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

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let temp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&temp, bytes)?;
    std::fs::rename(&temp, path)
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

/// The retriever given to the engine for `$ref`s: `http(s)://` through the [`Fetcher`] (cache,
/// offline mode, limits), `file://` from the disk.
pub struct Retriever(pub Arc<Fetcher>);

impl Retrieve for Retriever {
    fn retrieve(&self, uri: &str) -> Result<Value, RetrieveError> {
        let bytes = if uri.starts_with("http://") || uri.starts_with("https://") {
            self.0.get(uri)?
        } else if let Some(path) = uri_path(uri) {
            read_capped(&path)?
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

    #[test]
    fn file_uris_round_trip() {
        let path = PathBuf::from("/tmp/a dir/schema.json");
        let uri = file_uri(&path);
        assert_eq!(uri, "file:///tmp/a%20dir/schema.json");
        assert_eq!(uri_path(&uri), Some(path));
    }

    #[test]
    fn cache_paths_are_keyed_by_url() {
        let fetcher = Fetcher::new(Some(PathBuf::from("/cache")), true);
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
        let fetcher = Fetcher::new(Some(dir.path().to_owned()), true);
        let error = fetcher
            .get("https://example.com/s.json")
            .expect_err("because nothing is cached");
        assert_eq!(
            error.to_string(),
            "`https://example.com/s.json` is not in the schema cache and `--offline` forbids downloading it"
        );
    }
}
