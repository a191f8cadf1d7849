//! A small Prometheus HTTP API client (`/api/v1/query_range`, `/api/v1/query`) and the
//! arithmetic that turns one interval's counter samples into an arm's increments.
//!
//! Everything Prometheus returns — label values, error messages — is untrusted data.

use std::collections::BTreeMap;
use std::time::Duration;

use hub_canary::{ArmSample, Bucket, counter_increments};
use serde::Deserialize;

/// The longest a single query may take.
const QUERY_TIMEOUT: Duration = Duration::from_secs(20);
/// How much of a response we read.
const MAX_RESPONSE: u64 = 32 * 1024 * 1024;

/// A configured Prometheus.
pub struct Prometheus {
    agent: ureq::Agent,
    base: String,
    headers: Vec<(String, String)>,
}

/// One series of a range or instant query: its labels and `(unix seconds, value)` samples.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Labels, `__name__` included when Prometheus sends it.
    pub labels: BTreeMap<String, String>,
    /// Samples in time order.
    pub samples: Vec<(f64, f64)>,
}

#[derive(Deserialize)]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    result: Vec<RawSeries>,
}

#[derive(Deserialize)]
struct RawSeries {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<(f64, String)>,
    #[serde(default)]
    value: Option<(f64, String)>,
}

impl Prometheus {
    /// A client for `url` (the server root, e.g. `http://prometheus:9090`), with an
    /// optional bearer token and extra `Name: value` headers.
    pub fn new(url: &str, token: Option<&str>, headers: &[String]) -> Result<Self, String> {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!("`{url}` is not an http(s) URL"));
        }
        let mut all = Vec::new();
        for h in headers {
            let (name, value) = h
                .split_once(':')
                .ok_or_else(|| "each header must be `Name: value`".to_owned())?;
            let name = name.trim();
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
            {
                return Err("a header name may hold only letters, digits, `-` and `_`".into());
            }
            all.push((name.to_owned(), value.trim().to_owned()));
        }
        if let Some(t) = token {
            all.push(("Authorization".to_owned(), format!("Bearer {t}")));
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(QUERY_TIMEOUT))
            .max_redirects(0)
            .user_agent(concat!("hub-canary-gate/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(Self {
            agent,
            base: url.trim_end_matches('/').to_owned(),
            headers: all,
        })
    }

    fn get(&self, path: &str, params: &[(&str, String)]) -> Result<Data, String> {
        let mut req = self.agent.get(format!("{}{path}", self.base));
        for (k, v) in params {
            req = req.query(k, v);
        }
        for (k, v) in &self.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let mut resp = req.call().map_err(|e| format!("request failed: {e}"))?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE)
            .read_to_string()
            .map_err(|e| format!("cannot read the response: {e}"))?;
        let envelope: Envelope = serde_json::from_str(&body).map_err(|_| {
            let shown: String = body.chars().take(200).collect();
            format!("HTTP {status}, not a Prometheus API response: `{shown}`")
        })?;
        if envelope.status != "success" {
            return Err(format!(
                "HTTP {status}, {}: {}",
                envelope.error_type.unwrap_or_else(|| "error".into()),
                envelope.error.unwrap_or_default()
            ));
        }
        envelope
            .data
            .ok_or_else(|| format!("HTTP {status}, a success without data"))
    }

    /// `query_range` from `start` to `end` (unix seconds) every `step` seconds.
    pub fn query_range(
        &self,
        query: &str,
        start: f64,
        end: f64,
        step: f64,
    ) -> Result<Vec<Series>, String> {
        let data = self.get(
            "/api/v1/query_range",
            &[
                ("query", query.to_owned()),
                ("start", format!("{start:.3}")),
                ("end", format!("{end:.3}")),
                ("step", format!("{step:.3}")),
            ],
        )?;
        if data.result_type != "matrix" {
            return Err(format!("expected a matrix, got `{}`", data.result_type));
        }
        Ok(data.result.into_iter().map(convert).collect())
    }

    /// An instant query at `time` (unix seconds).
    pub fn query(&self, query: &str, time: f64) -> Result<Vec<Series>, String> {
        let data = self.get(
            "/api/v1/query",
            &[("query", query.to_owned()), ("time", format!("{time:.3}"))],
        )?;
        if data.result_type != "vector" {
            return Err(format!("expected a vector, got `{}`", data.result_type));
        }
        Ok(data.result.into_iter().map(convert).collect())
    }
}

fn convert(raw: RawSeries) -> Series {
    let parse = |(t, v): (f64, String)| {
        let v = match v.as_str() {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            other => other.parse().unwrap_or(f64::NAN),
        };
        (t, v)
    };
    let mut samples: Vec<(f64, f64)> = raw.values.into_iter().map(parse).collect();
    samples.extend(raw.value.map(parse));
    Series {
        labels: raw.metric,
        samples,
    }
}

/// `name{selector, extra}`: the selector as the user wrote it (`app="demo",track="canary"`)
/// plus our own matcher.
pub fn selector(name: &str, user: &str, extra: Option<&str>) -> String {
    let user = user
        .trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .trim();
    let user = user.trim_end_matches(',');
    let parts: Vec<&str> = [Some(user), extra]
        .into_iter()
        .flatten()
        .filter(|p| !p.is_empty())
        .collect();
    format!("{name}{{{}}}", parts.join(","))
}

/// The value of `series` at `t` (within a millisecond), if it has one.
fn at(series: &Series, t: f64) -> Option<f64> {
    series
        .samples
        .iter()
        .find(|(ts, _)| (ts - t).abs() < 1e-3)
        .map(|(_, v)| *v)
}

/// Per-series increments over `[t0, t1]`, summed. A series absent at `t0` but present
/// at `t1` counts from zero when `born_ok` (the arm was visible at `t0`, so the series
/// was created in the interval — Prometheus client libraries create labelled counters,
/// e.g. the first 5xx, on first use). `None` when no series gives an increment.
pub fn summed_increment(series: &[&Series], t0: f64, t1: f64, born_ok: bool) -> Option<f64> {
    let mut total = None;
    for s in series {
        let (a, b) = (at(s, t0), at(s, t1));
        let inc = match (a, b) {
            (None, Some(v)) if born_ok && v.is_finite() => Some(v),
            _ => counter_increments(&[a, b]).first().copied().flatten(),
        };
        if let Some(v) = inc {
            total = Some(total.unwrap_or(0.0) + v);
        }
    }
    total
}

/// Whether any series has a sample at `t`.
pub fn visible(series: &[Series], t: f64) -> bool {
    series.iter().any(|s| at(s, t).is_some())
}

/// One arm's increments over `[t0, t1]` from the raw series of its three queries
/// (`Err` when a query failed: that part is missing).
pub fn arm_sample(
    requests: &Result<Vec<Series>, String>,
    errors: &Result<Vec<Series>, String>,
    buckets: Option<&Result<Vec<Series>, String>>,
    t0: f64,
    t1: f64,
) -> ArmSample {
    let req_series = requests.as_ref().ok();
    let seen_before = req_series.is_some_and(|s| visible(s, t0));
    let requests_inc = req_series.and_then(|s| {
        let refs: Vec<&Series> = s.iter().collect();
        summed_increment(&refs, t0, t1, seen_before)
    });
    let errors_inc = match (errors, requests_inc) {
        (Ok(s), Some(_)) => {
            let refs: Vec<&Series> = s.iter().collect();
            // No 5xx series at all while requests are counted: no 5xx yet.
            Some(summed_increment(&refs, t0, t1, seen_before).unwrap_or(0.0))
        }
        _ => None,
    };
    let buckets_inc = buckets.and_then(|b| b.as_ref().ok()).and_then(|series| {
        let seen = visible(series, t0);
        let mut by_le: BTreeMap<String, Vec<&Series>> = BTreeMap::new();
        for s in series {
            if let Some(le) = s.labels.get("le") {
                by_le.entry(le.clone()).or_default().push(s);
            }
        }
        let mut out = Vec::with_capacity(by_le.len());
        for (le, group) in by_le {
            let le: f64 = match le.as_str() {
                "+Inf" => f64::INFINITY,
                other => other.parse().ok()?,
            };
            out.push(Bucket {
                le,
                count: summed_increment(&group, t0, t1, seen)?,
            });
        }
        out.sort_by(|a, b| a.le.total_cmp(&b.le));
        out.last()
            .is_some_and(|b| b.le == f64::INFINITY)
            .then_some(out)
    });
    ArmSample {
        requests: requests_inc,
        errors: errors_inc,
        buckets: buckets_inc,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(labels: &[(&str, &str)], samples: &[(f64, f64)]) -> Series {
        Series {
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            samples: samples.to_vec(),
        }
    }

    /// A one-shot HTTP server answering `body`; returns the request it received.
    fn answer_once(body: &'static str) -> (String, std::thread::JoinHandle<String>) {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let handle = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().expect("accept");
            let mut buf = vec![0u8; 8192];
            let n = s.read(&mut buf).unwrap_or(0);
            let _ = write!(
                s,
                "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            String::from_utf8_lossy(&buf[..n]).into_owned()
        });
        (url, handle)
    }

    #[test]
    fn token_headers_query_and_api_errors() {
        let (url, server) = answer_once(
            r#"{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected \"}\""}"#,
        );
        let p = Prometheus::new(&url, Some("t0k"), &["X-Scope-OrgID: tenant-a".to_owned()])
            .expect("client");
        let e = p
            .query_range(r#"up{job="a b"}"#, 10.0, 20.0, 10.0)
            .expect_err("an API error");
        assert_eq!(e, r#"HTTP 400, bad_data: 1:5: parse error: unexpected "}""#);
        let request = server.join().expect("request");
        assert!(request.starts_with("GET /api/v1/query_range?query=up%7Bjob%3D%22a%20b%22%7D&start=10.000&end=20.000&step=10.000 "), "{request}");
        let lower = request.to_ascii_lowercase();
        assert!(lower.contains("authorization: bearer t0k\r\n"), "{request}");
        assert!(lower.contains("x-scope-orgid: tenant-a\r\n"), "{request}");
        assert!(Prometheus::new("ftp://x", None, &[]).is_err());
        assert!(Prometheus::new("http://x", None, &["no colon".to_owned()]).is_err());
        assert!(Prometheus::new("http://x", None, &["Bad Name: v".to_owned()]).is_err());
    }

    #[test]
    fn selectors() {
        assert_eq!(
            selector(
                "http_requests_total",
                r#"app="demo",track="canary""#,
                Some(r#"code=~"5..""#)
            ),
            r#"http_requests_total{app="demo",track="canary",code=~"5.."}"#
        );
        assert_eq!(selector("up", " {job=\"x\",} ", None), r#"up{job="x"}"#);
        assert_eq!(selector("up", "", Some("a=\"b\"")), r#"up{a="b"}"#);
    }

    #[test]
    fn increments_with_resets_births_and_gaps() {
        let a = series(&[("code", "200")], &[(10.0, 100.0), (20.0, 160.0)]);
        let restarted = series(
            &[("code", "200"), ("pod", "b")],
            &[(10.0, 50.0), (20.0, 7.0)],
        );
        let born = series(&[("code", "500")], &[(20.0, 3.0)]);
        let gap = series(&[("code", "200"), ("pod", "c")], &[(10.0, 5.0)]);
        assert_eq!(
            summed_increment(&[&a, &restarted, &gap], 10.0, 20.0, true),
            Some(67.0)
        );
        assert_eq!(summed_increment(&[&born], 10.0, 20.0, true), Some(3.0));
        assert_eq!(summed_increment(&[&born], 10.0, 20.0, false), None);
        assert_eq!(summed_increment(&[&gap], 10.0, 20.0, true), None);
    }

    #[test]
    fn an_arm_from_three_queries() {
        let requests = Ok(vec![
            series(&[("code", "200")], &[(0.0, 1000.0), (60.0, 1590.0)]),
            series(&[("code", "500")], &[(0.0, 10.0), (60.0, 20.0)]),
        ]);
        let errors = Ok(vec![series(
            &[("code", "500")],
            &[(0.0, 10.0), (60.0, 20.0)],
        )]);
        let b = |le: &str, x: f64, y: f64| series(&[("le", le)], &[(0.0, x), (60.0, y)]);
        let buckets = Ok(vec![
            b("0.1", 500.0, 800.0),
            b("+Inf", 1010.0, 1610.0),
            b("0.25", 900.0, 1400.0),
        ]);
        let arm = arm_sample(&requests, &errors, Some(&buckets), 0.0, 60.0);
        assert_eq!(arm.requests, Some(600.0));
        assert_eq!(arm.errors, Some(10.0));
        let le: Vec<f64> = arm.buckets.expect("buckets").iter().map(|b| b.le).collect();
        assert_eq!(le, [0.1, 0.25, f64::INFINITY]);
        // No 5xx series: zero errors; a failed query: missing.
        let none = arm_sample(&requests, &Ok(Vec::new()), None, 0.0, 60.0);
        assert_eq!(none.errors, Some(0.0));
        let failed = arm_sample(&requests, &Err("down".into()), None, 0.0, 60.0);
        assert_eq!(failed.errors, None);
        let blind = arm_sample(&Ok(Vec::new()), &Ok(Vec::new()), None, 0.0, 60.0);
        assert_eq!((blind.requests, blind.errors), (None, None));
    }
}
