//! Health probes (`health-urls`, every interval) and `step-command` (before each traffic
//! step): HTTP GETs and argument vectors, never a shell; what they print is untrusted.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hub_http::{Http, Request, Settings};

/// The longest one health request may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// Probes health URLs: a URL is up when it answers 2xx.
pub struct Health {
    /// Its own client: a round runs on its own thread while the interval's queries run.
    http: Option<Http>,
    urls: Vec<String>,
}

impl Health {
    /// Probes for `urls` (none: no health check), through the proxies `settings` name.
    pub fn new(urls: Vec<String>, settings: &Settings) -> Result<Self, String> {
        let http = if urls.is_empty() {
            None
        } else {
            Some(Http::new(settings, crate::prom::USER_AGENT).map_err(|e| e.to_string())?)
        };
        Ok(Self { http, urls })
    }

    /// Whether there is anything to probe.
    pub fn is_empty(&self) -> bool {
        self.urls.is_empty()
    }

    /// One round: why each failing URL failed (empty when all are up), every probe given
    /// up at `until`. `None` when `until` has passed before a probe could start: the
    /// round is unknown, not down.
    pub fn round(&self, until: Instant) -> Option<Vec<String>> {
        let mut failures = Vec::new();
        let Some(http) = &self.http else {
            return Some(failures);
        };
        for url in &self.urls {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            let request = Request {
                timeout: left.min(PROBE_TIMEOUT),
                // Only the status counts; the body is read whole, so allow a large page.
                max_body: 8 * 1024 * 1024,
                // One try per round: `health-max-failures` is the tolerance.
                retries: 0,
                https_only: false,
                follow_redirects: false,
                headers: Vec::new(),
            };
            match http.get(url, &request) {
                Ok(resp) if resp.status.is_success() => {}
                Ok(resp) => failures.push(format!("{url}: status {}", resp.status.as_u16())),
                // The error names the URL.
                Err(e) => failures.push(e.to_string()),
            }
        }
        Some(failures)
    }
}

/// How `step-command` ended, for the log and the report.
#[derive(Debug)]
pub struct Ran {
    /// Exit 0.
    pub ok: bool,
    /// `exit status 0`, `exit status 3`, `killed by a signal`, `stopped at the deadline`.
    pub status: String,
    /// Stdout and stderr (untrusted).
    pub output: String,
}

/// Runs `argv` with `HUB_CANARY_WEIGHT=<weight>`, stdin closed, output captured, stopped
/// at `deadline`.
pub fn run_step(argv: &[String], weight: &str, deadline: Instant) -> Result<Ran, String> {
    let (program, args) = argv.split_first().ok_or("the command is empty")?;
    let mut child = Command::new(program)
        .args(args)
        .env("HUB_CANARY_WEIGHT", weight)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start `{program}`: {e}"))?;
    let reader = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = reader(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = reader(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("cannot wait for `{program}`: {e}")),
        }
    };
    // Readers end when every holder of the pipes has exited; a background process left
    // behind could hold them, so only finished readers are joined.
    let collect = |h: std::thread::JoinHandle<String>| {
        let until = Instant::now() + Duration::from_secs(1);
        while !h.is_finished() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
        if h.is_finished() {
            h.join().unwrap_or_default()
        } else {
            "(output not collected: a background process holds it open)\n".to_owned()
        }
    };
    let mut output = collect(out);
    output.push_str(&collect(err));
    let (ok, status) = match status {
        None => (false, "stopped at the deadline".to_owned()),
        Some(s) => (
            s.success(),
            s.code().map_or_else(
                || "killed by a signal".to_owned(),
                |c| format!("exit status {c}"),
            ),
        ),
    };
    Ok(Ran { ok, status, output })
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn the_weight_reaches_the_command_as_data() {
        let argv: Vec<String> = ["sh", "-c", "echo \"w=$HUB_CANARY_WEIGHT\"; exit 3"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let r = run_step(&argv, "25", Instant::now() + Duration::from_secs(10)).expect("runs");
        assert!(!r.ok);
        assert_eq!(r.status, "exit status 3");
        assert_eq!(r.output, "w=25\n");
        let slow: Vec<String> = ["sleep", "5"].iter().map(|s| (*s).to_owned()).collect();
        let r = run_step(&slow, "5", Instant::now() + Duration::from_millis(100)).expect("runs");
        assert_eq!(r.status, "stopped at the deadline");
        let e =
            run_step(&["/nonexistent/x".to_owned()], "5", Instant::now()).expect_err("no program");
        assert!(e.contains("cannot start"), "{e}");
    }
}
