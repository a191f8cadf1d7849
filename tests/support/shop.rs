//! A small service for the deploy workflow's end-to-end tests, and a real Prometheus that
//! scrapes it.
//!
//! The "shop" runs as two tracks on 127.0.0.1, `stable` and `canary`, the way a canary
//! deployment does. Its control plane is a state directory that the user's deploy scripts
//! write to (the scripts of `workflows/deploy.yml`: `deploy/canary`, `deploy/set-weight`,
//! `deploy/promote`, `deploy/rollback`):
//!
//! - `stable.version`, `canary.version`: the version each track runs (an empty or missing
//!   canary file means no canary);
//! - `canary.weight`: the canary's share of traffic in percent;
//! - `bad-versions`: versions (one per line) that answer 10 % of their requests with a 500,
//!   where a good version fails 0.5 %;
//! - `events.log`: the scripts append one line per action, for the test to read.
//!
//! Every 100 ms the shop serves [`REQUESTS_PER_TICK`] requests split between the tracks by the
//! canary's weight, and counts them in Prometheus counters (`http_requests_total{code}` and
//! the `http_request_duration_seconds` histogram, the names canary-gate reads by default).
//! `/health` answers `200 version=<version>` while the track runs a version, `503` otherwise.
//! Its threads end with the test process; Prometheus is stopped when dropped, and by
//! `timeout` at the latest, so nothing outlives a killed test.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hub_testkit::http::{Server, reply};

/// Requests the shop serves every 100 ms, over both tracks.
pub const REQUESTS_PER_TICK: u64 = 400;

#[derive(Debug, Default)]
struct Counters {
    requests: u64,
    errors: u64,
    /// Errors owed but not yet counted (fractions of a request).
    owed: f64,
}

impl Counters {
    fn serve(&mut self, n: u64, error_rate: f64) {
        self.requests += n;
        self.owed += n as f64 * error_rate;
        let whole = self.owed.floor();
        self.errors += whole as u64;
        self.owed -= whole;
    }

    fn exposition(&self) -> String {
        // Latency: 90 % within 0.1 s, 97 % within 0.25 s, 99.5 % within 0.5 s: a tail above
        // the baseline's p95 for the latency test to count.
        let n = self.requests;
        format!(
            "# TYPE http_requests_total counter\n\
             http_requests_total{{code=\"200\"}} {ok}\n\
             http_requests_total{{code=\"500\"}} {err}\n\
             # TYPE http_request_duration_seconds histogram\n\
             http_request_duration_seconds_bucket{{le=\"0.1\"}} {a}\n\
             http_request_duration_seconds_bucket{{le=\"0.25\"}} {b}\n\
             http_request_duration_seconds_bucket{{le=\"0.5\"}} {c}\n\
             http_request_duration_seconds_bucket{{le=\"+Inf\"}} {n}\n\
             http_request_duration_seconds_sum {sum}\n\
             http_request_duration_seconds_count {n}\n",
            ok = n - self.errors,
            err = self.errors,
            a = n * 900 / 1000,
            b = n * 970 / 1000,
            c = n * 995 / 1000,
            sum = n as f64 * 0.08,
        )
    }
}

/// The two tracks of the shop, driven by the files in `state`.
pub struct Shop {
    /// The stable track's port.
    pub stable_port: u16,
    /// The canary track's port.
    pub canary_port: u16,
    /// The control directory (see the module documentation).
    pub state: PathBuf,
}

fn read_trimmed(path: &Path) -> String {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

impl Shop {
    /// Starts both tracks, `stable` running `stable_version`, no canary; `bad` lists the
    /// versions that fail 10 % of their requests.
    pub fn start(state: &Path, stable_version: &str, bad: &[&str]) -> Shop {
        std::fs::create_dir_all(state).expect("mkdir state");
        std::fs::write(state.join("stable.version"), format!("{stable_version}\n")).expect("write");
        std::fs::write(state.join("bad-versions"), bad.join("\n")).expect("write");
        let tracks: [Arc<Mutex<Counters>>; 2] = Default::default();
        let [stable_track, canary_track] = tracks.clone();
        // `/health` reads the track's version file when asked, so it is never a tick behind
        // a deploy script (the metrics follow on the next tick).
        let ports = [
            listen(stable_track, state.join("stable.version")),
            listen(canary_track, state.join("canary.version")),
        ];
        let dir = state.to_path_buf();
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(Duration::from_millis(100));
                let bad = read_trimmed(&dir.join("bad-versions"));
                let rate = |v: &str| {
                    if bad.lines().any(|b| b.trim() == v) {
                        0.10
                    } else {
                        0.005
                    }
                };
                let stable = read_trimmed(&dir.join("stable.version"));
                let canary = read_trimmed(&dir.join("canary.version"));
                let weight = read_trimmed(&dir.join("canary.weight"))
                    .parse::<u64>()
                    .unwrap_or(0)
                    .min(100);
                let to_canary = if canary.is_empty() {
                    0
                } else {
                    REQUESTS_PER_TICK * weight / 100
                };
                for (track, version, n) in [
                    (&tracks[0], stable, REQUESTS_PER_TICK - to_canary),
                    (&tracks[1], canary, to_canary),
                ] {
                    let mut c = track.lock().expect("counters");
                    c.serve(n, rate(&version));
                }
            }
        });
        Shop {
            stable_port: ports[0],
            canary_port: ports[1],
            state: state.to_path_buf(),
        }
    }

    /// What the deploy scripts did, one line each.
    pub fn events(&self) -> Vec<String> {
        read_trimmed(&self.state.join("events.log"))
            .lines()
            .map(String::from)
            .collect()
    }

    /// The version a track's `/health` reports (`None` when it is down).
    pub fn serving(&self, port: u16) -> Option<String> {
        let reply = http_get(port, "/health")?;
        let (head, body) = reply.split_once("\r\n\r\n")?;
        if !head.starts_with("HTTP/1.1 200") {
            return None;
        }
        body.trim().strip_prefix("version=").map(String::from)
    }
}

/// Serves one track on a fresh loopback port, for the rest of the test process (an hour at
/// most): `/metrics` and `/health` (the version in `version_file`; 503 while it is empty).
fn listen(counters: Arc<Mutex<Counters>>, version_file: PathBuf) -> u16 {
    let server = Server::for_at_most(Duration::from_secs(3600), move |path, _| {
        let version = read_trimmed(&version_file);
        let (status, body) = if path.starts_with("/health") {
            if version.is_empty() {
                ("503 Service Unavailable", "no version\n".to_string())
            } else {
                ("200 OK", format!("version={version}\n"))
            }
        } else {
            ("200 OK", counters.lock().expect("counters").exposition())
        };
        Some(reply(
            status,
            "Content-Type: text/plain; version=0.0.4\r\n",
            body.as_bytes(),
        ))
    });
    let port = server.port();
    server.detach();
    port
}

/// A plain HTTP GET on loopback; the whole reply, head and body.
pub use hub_testkit::http::get as http_get;

/// Whether the `prometheus` binary (Debian package `prometheus`) is installed.
pub fn have_prometheus(test: &str) -> bool {
    crate::have_tool(test, "prometheus", "apt-get install prometheus")
}

/// A free port on 127.0.0.1.
pub use hub_testkit::http::free_port;

/// A real Prometheus on 127.0.0.1 (hub-testkit's).
pub use hub_testkit::prometheus::Prometheus;

impl Shop {
    /// A real Prometheus scraping the shop's two tracks (labels `job="shop"`,
    /// `track="stable"|"canary"`) for at most `lifetime`.
    pub fn prometheus(&self, lifetime: Duration) -> Prometheus {
        Prometheus::scraping(
            "shop",
            &[(self.stable_port, "stable"), (self.canary_port, "canary")],
            lifetime,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_track_answers_its_version_and_its_metrics() {
        let dir = tempfile::tempdir().expect("tempdir");
        let shop = Shop::start(dir.path(), "v1.0.0", &[]);
        let stable = http_get(shop.stable_port, "/health").expect("the stable track answers");
        assert!(
            stable.starts_with("HTTP/1.1 200 OK\r\n") && stable.ends_with("version=v1.0.0\n"),
            "{stable}"
        );
        // No canary yet: its health is a 503.
        let canary = http_get(shop.canary_port, "/health").expect("the canary track answers");
        assert!(canary.starts_with("HTTP/1.1 503 "), "{canary}");
        let metrics = http_get(shop.stable_port, "/metrics").expect("metrics");
        assert!(
            metrics.contains("Content-Type: text/plain; version=0.0.4\r\n"),
            "{metrics}"
        );
    }
}
