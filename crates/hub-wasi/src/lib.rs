//! The host interface of hub-actions' WebAssembly build.
//!
//! WASI preview 1 has files, the environment, the clock and exit codes, but neither
//! subprocesses nor sockets. The suite needs both — git is read through the `git` program
//! (`hub-git`) and the GitHub API, Prometheus and schema downloads go through `hub-http` —
//! so the JavaScript runner (`actions/wasm/run.mjs`, Node's built-in modules only) gives the
//! module four narrow operations and nothing else: run `git` with an argument vector, make one
//! HTTP exchange, resolve a host name, and tell the working directory. Every decision (which
//! git command, redirects, retries, address policy, proxies' choice, errors) stays in Rust;
//! the host only carries bytes.
//!
//! This crate is the only one in the workspace allowed `unsafe` code, and only in its FFI
//! module (`ffi.rs`). Outside WebAssembly every call answers [`HostError::NoHost`]; the
//! adapters use it only under `cfg(target_os = "wasi")`.
//!
//! # ABI
//!
//! Imports of wasm module `hub`, all `(request_ptr: i32, request_len: i32) -> i32` except
//! `take`:
//!
//! | import | request fields | result fields |
//! | --- | --- | --- |
//! | `git` | cwd, stdin, env count `n` (decimal), `n` × `NAME=value`, argv… | exit code (decimal, `signal` when killed), stdout, stderr |
//! | `http` | method, url, timeout in ms, body cap in bytes, address to connect to (empty: the host resolves), proxy URL (empty: direct), body, then header name, value pairs | status (decimal), body, then header name, value pairs |
//! | `resolve` | host name | one address per field |
//! | `cwd` | (none) | the working directory |
//! | `take(dst_ptr: i32)` | | copies the pending answer to `dst_ptr` |
//!
//! A message is a sequence of fields, each a 32-bit little-endian length followed by that
//! many bytes. A call returns `n ≥ 0` when the operation succeeded and its result is `n`
//! bytes long, or `-1 - n` when it failed and its message (UTF-8, `kind: text` for `http`,
//! kind one of `timeout`, `too-large`, `connect`) is `n` bytes long; the module then
//! allocates `n` bytes and calls `take`, which copies the answer there and forgets it. The
//! host never calls into the module and never allocates in its memory.
//!
//! ```
//! // Outside WebAssembly there is no host: the adapters only call this under WASI.
//! let err = hub_wasi::cwd().unwrap_err();
//! assert!(matches!(err, hub_wasi::HostError::NoHost));
//! ```

mod ffi;
mod frames;

use std::ffi::OsString;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ffi::Op;
pub use frames::{Fields, Frames};

/// Why a host call did not give an answer.
#[derive(Debug)]
pub enum HostError {
    /// Not running under the JavaScript runner (native builds, tests).
    NoHost,
    /// The host could not do what was asked (git could not start, the connection broke).
    Failed {
        /// `timeout`, `too-large`, `connect`, `spawn` or `host`.
        kind: String,
        /// The host's message.
        message: String,
    },
    /// An answer that does not follow the ABI (a runner of another version).
    Malformed(&'static str),
}

impl std::fmt::Display for HostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HostError::NoHost => f.write_str(
                "the WebAssembly host interface is only available under actions/wasm/run.mjs",
            ),
            HostError::Failed { message, .. } => f.write_str(message),
            HostError::Malformed(what) => write!(
                f,
                "the WebAssembly runner answered outside the host ABI ({what}): is actions/wasm/run.mjs from the same release as the module?"
            ),
        }
    }
}

impl std::error::Error for HostError {}

fn call(op: Op, request: &[u8]) -> Result<Fields, HostError> {
    match ffi::call(op, request)? {
        Ok(answer) => Fields::parse(answer).ok_or(HostError::Malformed("truncated field")),
        Err(message) => {
            let (kind, message) = match message.split_once(": ") {
                Some((kind, rest)) if !kind.contains(' ') => (kind.to_owned(), rest.to_owned()),
                _ => ("host".to_owned(), message),
            };
            Err(HostError::Failed { kind, message })
        }
    }
}

/// What a git process gave: its exit code (`None` when a signal ended it) and its output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GitOutput {
    /// The exit code.
    pub code: Option<i32>,
    /// Everything on stdout.
    pub stdout: Vec<u8>,
    /// Everything on stderr.
    pub stderr: Vec<u8>,
}

impl GitOutput {
    /// Whether git exited 0.
    #[must_use]
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

/// Encodes a `git` request (see the ABI table).
#[must_use]
pub fn git_request(cwd: &Path, args: &[OsString], env: &[(&str, &str)], stdin: &[u8]) -> Vec<u8> {
    let mut frames = Frames::default();
    frames.push(cwd.as_os_str().as_encoded_bytes());
    frames.push(stdin);
    frames.push(env.len().to_string().as_bytes());
    for (name, value) in env {
        frames.push(format!("{name}={value}").as_bytes());
    }
    for arg in args {
        frames.push(arg.as_encoded_bytes());
    }
    frames.into_bytes()
}

/// Decodes a `git` result.
///
/// # Errors
///
/// [`HostError::Malformed`] when a field is missing or the code is not a number.
pub fn git_output(mut fields: Fields) -> Result<GitOutput, HostError> {
    let code = fields
        .next_text()
        .ok_or(HostError::Malformed("git: no code"))?;
    let code = match code.as_str() {
        "signal" => None,
        number => Some(
            number
                .parse()
                .map_err(|_| HostError::Malformed("git: code is not a number"))?,
        ),
    };
    let stdout = fields
        .next()
        .ok_or(HostError::Malformed("git: no stdout"))?;
    let stderr = fields
        .next()
        .ok_or(HostError::Malformed("git: no stderr"))?;
    Ok(GitOutput {
        code,
        stdout,
        stderr,
    })
}

/// Runs `git <args>` in `cwd` with `env` added to the runner's environment and `stdin` as
/// its whole input, and waits for it.
///
/// # Errors
///
/// [`HostError::Failed`] (kind `spawn`) when git cannot be started.
pub fn git(
    cwd: &Path,
    args: &[OsString],
    env: &[(&str, &str)],
    stdin: &[u8],
) -> Result<GitOutput, HostError> {
    git_output(call(Op::Git, &git_request(cwd, args, env, stdin))?)
}

/// One HTTP exchange, no redirect followed.
#[derive(Clone, Debug, Default)]
pub struct HttpRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The absolute URL.
    pub url: String,
    /// Request headers, in order.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body (empty for none).
    pub body: Vec<u8>,
    /// The whole exchange's limit.
    pub timeout: Duration,
    /// The largest body accepted.
    pub max_body: usize,
    /// Connect to this address instead of resolving the URL's host (the address the caller
    /// checked against its policy); the host name still goes in `Host` and TLS's SNI.
    pub address: Option<IpAddr>,
    /// Go through this proxy (`http://[user:pass@]host:port`): a `CONNECT` tunnel for
    /// `https://` URLs, the absolute URL for `http://` ones.
    pub proxy: Option<String>,
}

/// A whole response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// Response headers, in order (repeated names repeated).
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body.
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// The request's encoding (see the ABI table).
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let mut frames = Frames::default();
        frames.push(self.method.as_bytes());
        frames.push(self.url.as_bytes());
        frames.push(self.timeout.as_millis().to_string().as_bytes());
        frames.push(self.max_body.to_string().as_bytes());
        frames.push(
            self.address
                .map(|a| a.to_string())
                .unwrap_or_default()
                .as_bytes(),
        );
        frames.push(self.proxy.as_deref().unwrap_or_default().as_bytes());
        frames.push(&self.body);
        for (name, value) in &self.headers {
            frames.push(name.as_bytes());
            frames.push(value);
        }
        frames.into_bytes()
    }
}

impl HttpResponse {
    /// Decodes an `http` result.
    ///
    /// # Errors
    ///
    /// [`HostError::Malformed`] when a field is missing or the status is not a number.
    pub fn decode(mut fields: Fields) -> Result<Self, HostError> {
        let status = fields
            .next_text()
            .and_then(|s| s.parse().ok())
            .ok_or(HostError::Malformed("http: no status"))?;
        let body = fields.next().ok_or(HostError::Malformed("http: no body"))?;
        let mut headers = Vec::new();
        while let Some(name) = fields.next_text() {
            let value = fields
                .next()
                .ok_or(HostError::Malformed("http: header without a value"))?;
            headers.push((name, value));
        }
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

/// Makes one HTTP exchange through the host.
///
/// # Errors
///
/// [`HostError::Failed`] with kind `timeout`, `too-large` or `connect`.
pub fn http(request: &HttpRequest) -> Result<HttpResponse, HostError> {
    HttpResponse::decode(call(Op::Http, &request.encode())?)
}

/// The addresses `host` resolves to, as the host's resolver gives them.
///
/// # Errors
///
/// [`HostError::Failed`] when the name does not resolve.
pub fn resolve(host: &str) -> Result<Vec<IpAddr>, HostError> {
    let mut frames = Frames::default();
    frames.push(host.as_bytes());
    let mut fields = call(Op::Resolve, &frames.into_bytes())?;
    let mut addresses = Vec::new();
    while let Some(text) = fields.next_text() {
        addresses.push(
            text.parse()
                .map_err(|_| HostError::Malformed("resolve: not an address"))?,
        );
    }
    Ok(addresses)
}

/// The runner's working directory.
///
/// # Errors
///
/// [`HostError::NoHost`] outside the runner.
pub fn cwd() -> Result<PathBuf, HostError> {
    let mut fields = call(Op::Cwd, &[])?;
    let path = fields.next().ok_or(HostError::Malformed("cwd: no path"))?;
    Ok(PathBuf::from(
        String::from_utf8(path).map_err(|_| HostError::Malformed("cwd: not UTF-8"))?,
    ))
}

/// Makes the runner's working directory the module's: WASI has no working directory, so
/// relative paths would otherwise resolve from `/`. Called once at start-up (hub-kit's
/// `Env::from_process`); outside the runner it does nothing.
pub fn enter_working_directory() {
    if let Ok(dir) = cwd() {
        let _ = std::env::set_current_dir(dir);
    }
}

/// The system's temporary directory: the standard library's natively; under WebAssembly
/// (WASI), where `std::env::temp_dir` panics ("no filesystem on wasm"), the same rule by
/// hand — `$TMPDIR` when set and not empty, else `/tmp` (the runner preopens `/`).
#[must_use]
pub fn temp_dir() -> PathBuf {
    #[cfg(target_os = "wasi")]
    {
        std::env::var_os("TMPDIR")
            .filter(|v| !v.is_empty())
            .map_or_else(|| PathBuf::from("/tmp"), PathBuf::from)
    }
    #[cfg(not(target_os = "wasi"))]
    {
        std::env::temp_dir()
    }
}

#[cfg(test)]
mod tests;
