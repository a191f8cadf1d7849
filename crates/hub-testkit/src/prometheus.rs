//! A real Prometheus (the Debian package `prometheus`) on 127.0.0.1 for one test: it scrapes
//! the test's own loopback services every second, and is stopped when dropped (and by
//! `timeout` after its lifetime, whatever happens to the test).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::http::get;

/// A running Prometheus.
pub struct Prometheus {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        // SIGTERM to `timeout`, which passes it on to Prometheus (a SIGKILL would orphan it).
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Prometheus {
    /// Scrapes each `(port, track)` on 127.0.0.1 every second under `job`, labelled
    /// `track`; returns once every target has been scraped twice.
    ///
    /// # Panics
    ///
    /// When `prometheus` cannot start or is not ready within a minute (see
    /// [`crate::have_tool`] to skip without it).
    #[must_use]
    pub fn scraping(job: &str, targets: &[(u16, &str)], lifetime: Duration) -> Prometheus {
        let dir = tempfile::tempdir().expect("because the temporary folder is writable");
        let port = crate::http::free_port();
        let config = dir.path().join("prometheus.yml");
        let mut text = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: {job}\n    static_configs:\n"
        );
        for (target, track) in targets {
            text.push_str(&format!(
                "      - targets: ['127.0.0.1:{target}']\n        labels: {{track: {track}}}\n"
            ));
        }
        std::fs::write(&config, text).expect("because the configuration can be written");
        let log = std::fs::File::create(dir.path().join("prometheus.log"))
            .expect("because the log can be made");
        let child = Command::new("timeout")
            .arg(format!("{}s", lifetime.as_secs().max(1)))
            .arg("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("because prometheus starts");
        let p = Prometheus {
            child,
            port,
            _dir: dir,
        };
        let ready = format!("\"{}\"]", targets.len());
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            let up = get(
                port,
                "/api/v1/query?query=count(count_over_time(up%5B1m%5D)%20%3E%3D%202)",
            );
            if up
                .as_deref()
                .is_some_and(|t| t.contains("\"value\":[") && t.contains(&ready))
            {
                break;
            }
            assert!(Instant::now() < until, "prometheus did not come up: {up:?}");
            std::thread::sleep(Duration::from_millis(250));
        }
        p
    }

    /// Its base URL.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_scrapes_a_loopback_service() {
        if !crate::have_tool("prometheus", "apt-get install prometheus") {
            return;
        }
        let service = crate::http::Server::for_at_most(Duration::from_secs(120), |_, _| {
            Some(crate::http::reply(
                "200 OK",
                "Content-Type: text/plain; version=0.0.4\r\n",
                b"demo_total 7\n",
            ))
        });
        let prometheus = Prometheus::scraping(
            "demo",
            &[(service.port(), "stable")],
            Duration::from_secs(120),
        );
        let answer = get(prometheus.port, "/api/v1/query?query=demo_total").expect("answers");
        assert!(
            answer.contains(r#""track":"stable""#) && answer.contains(r#""7"]"#),
            "{answer}"
        );
        assert!(prometheus.url().ends_with(&prometheus.port.to_string()));
    }
}
