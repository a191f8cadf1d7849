//! A small Prometheus HTTP API client (`/api/v1/query_range`, `/api/v1/query`) on the
//! suite's one HTTP stack (`hub-http`: proxies from the environment, one timeout for the
//! whole exchange, no retries — the deadline logic decides those), and the arithmetic that turns one interval's counter samples into an arm's increments.
//!
//! Everything Prometheus returns — label values, error messages, sample values — is
//! untrusted data. A counter sample that is not a number, not finite, negative, too large
//! to count single events, or lower than the sample before it is a [`Defect`]: the part it
//! belongs to is unusable for that interval (never zero).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use http::header::{AUTHORIZATION, HeaderName, HeaderValue};
use hub_canary::{ArmSample, Bucket};
use hub_http::{Http, Request, Settings};
use hub_kit::cli::usage;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

/// The longest a single query may take, whatever its deadline.
const QUERY_TIMEOUT: Duration = Duration::from_secs(20);
/// The largest counter value that still counts single events exactly (2^53).
const MAX_COUNTER: f64 = 9_007_199_254_740_992.0;
/// How much of a response we read.
const MAX_RESPONSE: usize = 32 * 1024 * 1024;
/// Queries that run at once: one interval's, two arms of three (requests, errors, latency).
pub const PARALLEL_QUERIES: usize = 6;
/// Why a query could not be read. The text is untrusted (Prometheus's error messages).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueryError {
    /// No answer: no connection, the exchange broke off, or no reply in time.
    Unreachable(String),
    /// Prometheus refused the query itself as malformed (HTTP 400 `bad_data`: a selector or
    /// metric name it cannot parse): every later interval would be refused alike.
    Refused(String),
    /// Anything else: another error, an answer that is not the API's, an unexpected result.
    Other(String),
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QueryError::Unreachable(why) => write!(f, "request failed: {why}"),
            QueryError::Refused(why) => write!(f, "HTTP 400, bad_data: {why}"),
            QueryError::Other(why) => f.write_str(why),
        }
    }
}
/// Bytes kept as they are in a query string (RFC 3986's unreserved characters).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A configured Prometheus.
///
/// [`Http`] is blocking (one current-thread runtime): the queries of one interval run on
/// their own threads, each on its own client, so each thread drives its own runtime and
/// connection pool. The clients are made once and taken in turn, so connections are reused
/// from one interval to the next.
pub struct Prometheus {
    clients: Vec<Http>,
    next: AtomicUsize,
    base: String,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl fmt::Debug for Prometheus {
    /// The server only: header values and the token stay out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Prometheus")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// One series of a range or instant query: its labels and `(unix seconds, value)` samples.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Labels, `__name__` included when Prometheus sends it.
    pub labels: BTreeMap<String, String>,
    /// Samples in time order: `(unix seconds, value)`, the value `Err` with Prometheus's
    /// text when that text is not a number.
    pub samples: Vec<(f64, Result<f64, String>)>,
}

/// Why a counter sample (or a pair of them) cannot be used.
#[derive(Clone, Debug, PartialEq)]
pub enum Defect {
    /// The value is not a number at all (`abc`).
    NotANumber(String),
    /// `NaN`, `+Inf`, `-Inf` (or a number too large for a float, such as `1e400`).
    NotFinite(f64),
    /// Below zero: a counter never is.
    Negative(f64),
    /// Above 2^53, where a float no longer counts single events.
    TooLarge(f64),
    /// Lower than the sample at the interval's start (a reset, or not a counter).
    Decreased {
        /// The value at the start.
        from: f64,
        /// The value at the end.
        to: f64,
    },
}

/// A float as Prometheus writes it (`NaN`, `+Inf`, `-Inf`, else Rust's shortest form).
fn prom_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v == f64::INFINITY {
        "+Inf".to_owned()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        format!("{v}")
    }
}

impl fmt::Display for Defect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Defect::NotANumber(text) => {
                let shown: String = text.chars().take(40).collect();
                write!(f, "`{shown}` is not a number")
            }
            Defect::NotFinite(v) => write!(f, "`{}` is not a finite number", prom_float(*v)),
            Defect::Negative(v) => {
                write!(f, "`{}` is negative; a counter never is", prom_float(*v))
            }
            Defect::TooLarge(v) => write!(
                f,
                "`{v:e}` is above 2^53, where a counter no longer counts single events"
            ),
            Defect::Decreased { from, to } => write!(
                f,
                "the counter went down from `{}` to `{}` (a restart, or not a counter)",
                prom_float(*from),
                prom_float(*to)
            ),
        }
    }
}

/// A counter sample's value, checked.
pub fn counter_value(value: &Result<f64, String>) -> Result<f64, Defect> {
    match value {
        Err(text) => Err(Defect::NotANumber(text.clone())),
        Ok(v) if !v.is_finite() => Err(Defect::NotFinite(*v)),
        Ok(v) if *v < 0.0 => Err(Defect::Negative(*v)),
        Ok(v) if *v > MAX_COUNTER => Err(Defect::TooLarge(*v)),
        Ok(v) => Ok(*v),
    }
}

/// A defect in one series at one time: what the report says about an unusable part.
#[derive(Clone, Debug, PartialEq)]
pub struct Invalid {
    /// The series' labels, rendered `{a="b"}` (untrusted text).
    pub series: String,
    /// When (unix seconds).
    pub at: f64,
    /// What is wrong.
    pub defect: Defect,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at `{:.3}`: {}", self.series, self.at, self.defect)
    }
}

fn render_labels(labels: &BTreeMap<String, String>) -> String {
    let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    let text = format!("{{{}}}", inner.join(","));
    if text.chars().count() > 200 {
        let cut: String = text.chars().take(200).collect();
        format!("{cut}…")
    } else {
        text
    }
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
    /// optional bearer token and extra `Name: value` headers, through the proxies
    /// `settings` name.
    pub fn new(
        url: &str,
        token: Option<&str>,
        headers: &[String],
        settings: &Settings,
    ) -> anyhow::Result<Self> {
        let input = |e: String| usage(format!("input `prometheus-url`/`prometheus-headers`: {e}"));
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(input(format!("`{url}` is not an http(s) URL")));
        }
        let mut all = Vec::new();
        for h in headers {
            let (name, value) = h
                .split_once(':')
                .ok_or_else(|| input("each header must be `Name: value`".to_owned()))?;
            let name = name.trim();
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
            {
                return Err(input(
                    "a header name may hold only letters, digits, `-` and `_`".to_owned(),
                ));
            }
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| input(format!("`{name}` is not a header name")))?;
            // The value is secret: never part of the message.
            let value = sensitive(value.trim()).map_err(|()| {
                input(format!(
                    "the value of header `{name}` holds a control character"
                ))
            })?;
            all.push((name, value));
        }
        if let Some(t) = token {
            let value = sensitive(&format!("Bearer {t}"))
                .map_err(|()| usage("input `prometheus-token` holds a control character"))?;
            all.push((AUTHORIZATION, value));
        }
        let clients = (0..PARALLEL_QUERIES)
            .map(|_| Http::new(settings, USER_AGENT))
            // Not the input's fault (no TLS roots, no runtime): exit 1, not a usage error.
            .collect::<Result<_, _>>()?;
        Ok(Self {
            clients,
            next: AtomicUsize::new(0),
            base: url.trim_end_matches('/').to_owned(),
            headers: all,
        })
    }

    fn get(
        &self,
        path: &str,
        params: &[(&str, String)],
        deadline: Instant,
    ) -> Result<Data, QueryError> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(QueryError::Other(
                "no time left for the query before `max-duration` ends".to_owned(),
            ));
        }
        let query: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, QUERY_VALUE)))
            .collect();
        let url = format!("{}{path}?{}", self.base, query.join("&"));
        let request = Request {
            timeout: left.min(QUERY_TIMEOUT),
            max_body: MAX_RESPONSE,
            // The interval loop decides what a failed query means; a retry would only eat
            // into the interval's budget.
            retries: 0,
            https_only: false,
            follow_redirects: false,
            headers: self.headers.clone(),
        };
        let client = &self.clients[self.next.fetch_add(1, Ordering::Relaxed) % self.clients.len()];
        let resp = client.get(&url, &request).map_err(|e| match e {
            hub_http::Error::Connect { .. } | hub_http::Error::Timeout { .. } => {
                QueryError::Unreachable(e.to_string())
            }
            other => QueryError::Other(format!("request failed: {other}")),
        })?;
        let status = resp.status.as_u16();
        let body = String::from_utf8_lossy(&resp.body);
        let envelope: Envelope = serde_json::from_str(&body).map_err(|_| {
            let shown: String = body.chars().take(200).collect();
            QueryError::Other(format!(
                "HTTP {status}, not a Prometheus API response: `{shown}`"
            ))
        })?;
        if envelope.status != "success" {
            let kind = envelope.error_type.unwrap_or_else(|| "error".into());
            let error = envelope.error.unwrap_or_default();
            return Err(if status == 400 && kind == "bad_data" {
                QueryError::Refused(error)
            } else {
                QueryError::Other(format!("HTTP {status}, {kind}: {error}"))
            });
        }
        envelope
            .data
            .ok_or_else(|| QueryError::Other(format!("HTTP {status}, a success without data")))
    }

    /// `query_range` from `start` to `end` (unix seconds) every `step` seconds, given up
    /// at `deadline`.
    pub fn query_range(
        &self,
        query: &str,
        start: f64,
        end: f64,
        step: f64,
        deadline: Instant,
    ) -> Result<Vec<Series>, QueryError> {
        let data = self.get(
            "/api/v1/query_range",
            &[
                ("query", query.to_owned()),
                ("start", format!("{start:.3}")),
                ("end", format!("{end:.3}")),
                ("step", format!("{step:.3}")),
            ],
            deadline,
        )?;
        if data.result_type != "matrix" {
            return Err(QueryError::Other(format!(
                "expected a matrix, got `{}`",
                data.result_type
            )));
        }
        Ok(data.result.into_iter().map(convert).collect())
    }

    /// An instant query at `time` (unix seconds), given up at `deadline`.
    pub fn query(
        &self,
        query: &str,
        time: f64,
        deadline: Instant,
    ) -> Result<Vec<Series>, QueryError> {
        let data = self.get(
            "/api/v1/query",
            &[("query", query.to_owned()), ("time", format!("{time:.3}"))],
            deadline,
        )?;
        if data.result_type != "vector" {
            return Err(QueryError::Other(format!(
                "expected a vector, got `{}`",
                data.result_type
            )));
        }
        Ok(data.result.into_iter().map(convert).collect())
    }
}

/// The `User-Agent` of every request the gate makes.
pub const USER_AGENT: &str = concat!("hub-canary-gate/", env!("CARGO_PKG_VERSION"));

/// A header value marked sensitive (kept out of debug output); `Err` on control characters.
fn sensitive(value: &str) -> Result<HeaderValue, ()> {
    let mut v = HeaderValue::from_str(value).map_err(|_| ())?;
    v.set_sensitive(true);
    Ok(v)
}

fn convert(raw: RawSeries) -> Series {
    // Prometheus writes `NaN`, `+Inf` and `-Inf`; Rust's float syntax reads those and
    // every number. Anything else stays text, for the report.
    let parse = |(t, v): (f64, String)| {
        let value = match v.as_str() {
            "+Inf" => Ok(f64::INFINITY),
            "-Inf" => Ok(f64::NEG_INFINITY),
            other => other.trim().parse::<f64>().map_err(|_| v.clone()),
        };
        (t, value)
    };
    let mut samples: Vec<(f64, Result<f64, String>)> = raw.values.into_iter().map(parse).collect();
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
fn at(series: &Series, t: f64) -> Option<&Result<f64, String>> {
    series
        .samples
        .iter()
        .find(|(ts, _)| (ts - t).abs() < 1e-3)
        .map(|(_, v)| v)
}

/// Per-series increments over `[t0, t1]`, summed. A series absent at `t0` but present
/// at `t1` counts from zero when `born_ok` (the arm was visible at `t0`, so the series
/// was created in the interval — Prometheus client libraries create labelled counters,
/// e.g. the first 5xx, on first use); a series absent at `t1` has gone (a pod that
/// left) and adds nothing. `Ok(None)` when no series gives an increment; `Err` at the
/// first sample that is not a counter's (see [`Defect`]): the sum would be a guess.
pub fn summed_increment(
    series: &[&Series],
    t0: f64,
    t1: f64,
    born_ok: bool,
) -> Result<Option<f64>, Invalid> {
    let mut total = None;
    for s in series {
        let check = |t: f64| {
            at(s, t)
                .map(counter_value)
                .transpose()
                .map_err(|defect| Invalid {
                    series: render_labels(&s.labels),
                    at: t,
                    defect,
                })
        };
        let inc = match (check(t0)?, check(t1)?) {
            (Some(a), Some(b)) if b < a => {
                return Err(Invalid {
                    series: render_labels(&s.labels),
                    at: t1,
                    defect: Defect::Decreased { from: a, to: b },
                });
            }
            (Some(a), Some(b)) => Some(b - a),
            (None, Some(b)) if born_ok => Some(b),
            _ => None,
        };
        if let Some(v) = inc {
            total = Some(total.unwrap_or(0.0) + v);
        }
    }
    Ok(total)
}

/// Whether any series has a sample at `t`.
pub fn visible(series: &[Series], t: f64) -> bool {
    series.iter().any(|s| at(s, t).is_some())
}

/// One arm's increments over `[t0, t1]`, and why each missing part is missing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ArmRead {
    /// The increments (`None` parts are unusable this interval).
    pub sample: ArmSample,
    /// `(part, why)` for parts made unusable by a sample that is not a counter's:
    /// `requests`, `errors` or `latency`.
    pub invalid: Vec<(&'static str, Invalid)>,
}

/// One arm's increments over `[t0, t1]` from the raw series of its three queries
/// (`Err` when a query failed: that part is missing).
pub fn arm_sample(
    requests: &Result<Vec<Series>, QueryError>,
    errors: &Result<Vec<Series>, QueryError>,
    buckets: Option<&Result<Vec<Series>, QueryError>>,
    t0: f64,
    t1: f64,
) -> ArmRead {
    let mut invalid = Vec::new();
    let mut keep = |part: &'static str, r: Result<Option<f64>, Invalid>| match r {
        Ok(v) => v,
        Err(e) => {
            invalid.push((part, e));
            None
        }
    };
    let req_series = requests.as_ref().ok();
    let seen_before = req_series.is_some_and(|s| visible(s, t0));
    let requests_inc = req_series.and_then(|s| {
        let refs: Vec<&Series> = s.iter().collect();
        keep("requests", summed_increment(&refs, t0, t1, seen_before))
    });
    let errors_inc = match errors {
        Ok(s) => {
            let refs: Vec<&Series> = s.iter().collect();
            match summed_increment(&refs, t0, t1, seen_before) {
                // No 5xx series at all while requests are counted: no 5xx yet.
                Ok(v) => requests_inc.map(|_| v.unwrap_or(0.0)),
                Err(e) => keep("errors", Err(e)),
            }
        }
        Err(_) => None,
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
                count: keep("latency", summed_increment(&group, t0, t1, seen))?,
            });
        }
        out.sort_by(|a, b| a.le.total_cmp(&b.le));
        out.last()
            .is_some_and(|b| b.le == f64::INFINITY)
            .then_some(out)
    });
    ArmRead {
        sample: ArmSample {
            requests: requests_inc,
            errors: errors_inc,
            buckets: buckets_inc,
        },
        invalid,
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
            samples: samples.iter().map(|&(t, v)| (t, Ok(v))).collect(),
        }
    }

    /// Prometheus's answer to a query it cannot parse.
    const BAD_QUERY: &str =
        r#"{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected \"}\""}"#;

    #[test]
    fn token_headers_query_and_api_errors() {
        let server = hub_testkit::http::Server::start(|_, _| {
            Some(hub_testkit::http::reply(
                "400 Bad Request",
                "Content-Type: application/json\r\n",
                BAD_QUERY.as_bytes(),
            ))
        });
        let url = server.url("");
        let p = Prometheus::new(
            &url,
            Some("t0k"),
            &["X-Scope-OrgID: tenant-a".to_owned()],
            &Settings::default(),
        )
        .expect("client");
        let e = p
            .query_range(
                r#"up{job="a b"}"#,
                10.0,
                20.0,
                10.0,
                Instant::now() + Duration::from_secs(10),
            )
            .expect_err("an API error");
        assert_eq!(
            e.to_string(),
            r#"HTTP 400, bad_data: 1:5: parse error: unexpected "}""#
        );
        assert!(matches!(e, QueryError::Refused(_)), "{e:?}");
        let request = server.requests().concat();
        assert!(request.starts_with("GET /api/v1/query_range?query=up%7Bjob%3D%22a%20b%22%7D&start=10.000&end=20.000&step=10.000 "), "{request}");
        let lower = request.to_ascii_lowercase();
        assert!(lower.contains("authorization: bearer t0k\r\n"), "{request}");
        assert!(lower.contains("x-scope-orgid: tenant-a\r\n"), "{request}");
        let none = Settings::default();
        let ftp = Prometheus::new("ftp://x", None, &[], &none).expect_err("not http");
        // A usage error (exit 2) naming the input.
        assert!(ftp.is::<hub_kit::cli::UsageError>(), "{ftp:#}");
        assert_eq!(
            ftp.to_string(),
            "input `prometheus-url`/`prometheus-headers`: `ftp://x` is not an http(s) URL"
        );
        assert!(Prometheus::new("http://x", None, &["no colon".to_owned()], &none).is_err());
        assert!(Prometheus::new("http://x", None, &["Bad Name: v".to_owned()], &none).is_err());
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
    fn increments_with_births_and_gaps() {
        let a = series(&[("code", "200")], &[(10.0, 100.0), (20.0, 160.0)]);
        let born = series(&[("code", "500")], &[(20.0, 3.0)]);
        let gap = series(&[("code", "200"), ("pod", "c")], &[(10.0, 5.0)]);
        assert_eq!(
            summed_increment(&[&a, &gap], 10.0, 20.0, true),
            Ok(Some(60.0))
        );
        assert_eq!(summed_increment(&[&born], 10.0, 20.0, true), Ok(Some(3.0)));
        assert_eq!(summed_increment(&[&born], 10.0, 20.0, false), Ok(None));
        assert_eq!(summed_increment(&[&gap], 10.0, 20.0, true), Ok(None));
    }

    #[test]
    fn samples_that_are_no_counters_make_the_sum_invalid() {
        let check = |samples: Vec<(f64, Result<f64, String>)>| {
            let s = Series {
                labels: [("code".to_owned(), "500".to_owned())].into(),
                samples,
            };
            summed_increment(&[&s], 10.0, 20.0, true)
                .expect_err("invalid")
                .to_string()
        };
        let pair = |a: f64, b: f64| vec![(10.0, Ok(a)), (20.0, Ok(b))];
        assert_eq!(
            check(pair(1.0, f64::NAN)),
            r#"{code="500"} at `20.000`: `NaN` is not a finite number"#
        );
        assert!(check(pair(f64::INFINITY, 1.0)).ends_with("`+Inf` is not a finite number"));
        assert!(
            check(pair(1e308, 1e308))
                .ends_with("`1e308` is above 2^53, where a counter no longer counts single events")
        );
        assert!(check(pair(-3.0, -1.0)).ends_with("`-3` is negative; a counter never is"));
        assert!(
            check(pair(50.0, 7.0))
                .ends_with("the counter went down from `50` to `7` (a restart, or not a counter)")
        );
        assert!(
            check(vec![(10.0, Ok(1.0)), (20.0, Err("abc".to_owned()))])
                .ends_with("`abc` is not a number")
        );
        // A series born in the interval is checked too.
        assert!(check(vec![(20.0, Ok(f64::NAN))]).ends_with("`NaN` is not a finite number"));
        // Prometheus's text forms.
        let raw = RawSeries {
            metric: BTreeMap::new(),
            values: ["NaN", "+Inf", "-Inf", "1e400", "abc", "12"]
                .iter()
                .enumerate()
                .map(|(i, v)| (i as f64, (*v).to_owned()))
                .collect(),
            value: None,
        };
        let values: Vec<String> = convert(raw)
            .samples
            .iter()
            .map(|(_, v)| match v {
                Ok(v) => prom_float(*v),
                Err(t) => format!("text {t}"),
            })
            .collect();
        assert_eq!(values, ["NaN", "+Inf", "-Inf", "+Inf", "text abc", "12"]);
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
        assert!(arm.invalid.is_empty());
        let arm = arm.sample;
        assert_eq!(arm.requests, Some(600.0));
        assert_eq!(arm.errors, Some(10.0));
        let le: Vec<f64> = arm.buckets.expect("buckets").iter().map(|b| b.le).collect();
        assert_eq!(le, [0.1, 0.25, f64::INFINITY]);
        // No 5xx series: zero errors; a failed query: missing.
        let none = arm_sample(&requests, &Ok(Vec::new()), None, 0.0, 60.0);
        assert_eq!(none.sample.errors, Some(0.0));
        let failed = arm_sample(
            &requests,
            &Err(QueryError::Unreachable("down".into())),
            None,
            0.0,
            60.0,
        );
        assert_eq!(failed.sample.errors, None);
        let blind = arm_sample(&Ok(Vec::new()), &Ok(Vec::new()), None, 0.0, 60.0);
        assert_eq!((blind.sample.requests, blind.sample.errors), (None, None));
        // A 5xx counter that is not a number: the errors are unusable, never zero.
        let nan = Ok(vec![series(
            &[("code", "500")],
            &[(0.0, f64::NAN), (60.0, f64::NAN)],
        )]);
        let bad = arm_sample(&requests, &nan, None, 0.0, 60.0);
        assert_eq!(
            (bad.sample.requests, bad.sample.errors),
            (Some(600.0), None)
        );
        assert_eq!(bad.invalid.len(), 1);
        assert_eq!(bad.invalid[0].0, "errors");
        // A bucket that went down: latency unusable.
        let buckets = Ok(vec![b("0.1", 500.0, 400.0), b("+Inf", 1010.0, 1610.0)]);
        let bad = arm_sample(&requests, &errors, Some(&buckets), 0.0, 60.0);
        assert_eq!(bad.sample.buckets, None);
        assert_eq!(bad.invalid[0].0, "latency");
    }
}
