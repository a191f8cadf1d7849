//! Progressive mode: traffic steps, one interval at a time, each fed to `hub_canary::Gate`
//! until it fails, passes after its minimum observation, or time runs out.
//!
//! Data comes from a [`Feed`]: Prometheus on the wall clock, or `hub_canary`'s seeded
//! simulator (no waiting). The loop itself decides nothing about the canary: the gate
//! does. It only refuses to raise the traffic while it cannot see: a step ends when its
//! time is up *and* every metric saw its latest interval ([`Read::blind`]); until then the
//! step is held. Everything stops at the plan's deadline (`max-duration`, wall-clock).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hub_canary::{
    ArmCounts, ArmSample, CountDefect, CountInterval, DispersionEstimate, Gate, GateConfig,
    GateDecision, GateInterval, Look, Verdict, calibrate_dispersion, combine, exceedances, names,
    sum_buckets, threshold_near_quantile,
};
use serde::Serialize;

use crate::format::num;
use crate::probe::{Health, Ran, run_step};
use crate::prom::{ArmRead, Prometheus, QueryError, Series, arm_sample, selector};

/// One interval as read, with what went wrong reading it (untrusted text).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Read {
    /// The interval's increments and health.
    pub interval: GateInterval,
    /// Failed health probes and other remarks.
    pub notes: Vec<String>,
    /// Parts that could not be read or were not a counter's, and why.
    pub gaps: Vec<Gap>,
    /// Metrics that could not see this interval, and why (filled in by [`run`]).
    pub blind: Vec<Blind>,
}

/// One part of one arm that has no usable value in an interval.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Gap {
    /// `canary` or `baseline`.
    pub arm: &'static str,
    /// `requests`, `errors` or `latency`.
    pub part: &'static str,
    /// Why (untrusted text: Prometheus's errors and labels).
    pub why: String,
    /// What kind of failure, for the run's decisions (not in the report: `why` says it).
    #[serde(skip)]
    pub cause: Cause,
}

/// The kind of a [`Gap`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Cause {
    /// The data was missing or not a counter's, or some other query failure.
    #[default]
    Data,
    /// Prometheus did not answer ([`QueryError::Unreachable`]).
    Unreachable,
    /// Prometheus refused the query as malformed ([`QueryError::Refused`]).
    Refused,
}

/// A metric that could not see one interval.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Blind {
    /// The metric (`error-rate`, `latency`, `max-error-rate`).
    pub metric: &'static str,
    /// Which parts were missing and why (untrusted text).
    pub why: String,
}

/// Where intervals come from.
pub trait Feed {
    /// A latency threshold fixed before any canary data is read (history or an SLO).
    fn threshold(&mut self) -> Option<f64>;
    /// Waits for the end of interval `k` (0-based) and reads it; `None` when the deadline
    /// comes first.
    fn read(&mut self, k: usize) -> Option<Read>;
    /// Seconds since the start.
    fn elapsed(&self) -> f64;
    /// An A/A window read before the start: two arms running the same version, as
    /// intervals (`canary` = the first arm). `Err` says why it cannot be read.
    fn calibration_window(&mut self) -> Result<Vec<GateInterval>, String> {
        Err("this source has no A/A window".to_owned())
    }
}

/// How the count tests' dispersion factor is set (`dispersion` input).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Dispersion {
    /// A fixed factor (already in the gate's configuration).
    Fixed,
    /// Estimated from an A/A window before the start ([`Feed::calibration_window`]).
    Auto,
}

/// What the A/A calibration found, for the report.
#[derive(Clone, Debug, Serialize)]
pub struct Calibration {
    /// Intervals in the A/A window.
    pub intervals: usize,
    /// The error-rate estimate (`None`: too few intervals with errors; the factor stays 1).
    pub errors: Option<DispersionEstimate>,
    /// The latency-exceedance estimate.
    pub latency: Option<DispersionEstimate>,
    /// The latency threshold the exceedances were counted above.
    pub threshold: Option<f64>,
}

/// Estimates both count tests' dispersion from `window` (an A/A window) and puts the
/// recommended factors (90 % upper bounds, at least 1) into `gate`.
pub fn calibrate(
    window: &[GateInterval],
    threshold: Option<f64>,
    quantile: f64,
    gate: &mut GateConfig,
) -> Calibration {
    let counts = |r: Option<f64>, b: Option<f64>| Some(ArmCounts::new(r?, b?));
    let errors: Vec<CountInterval> = window
        .iter()
        .map(|i| CountInterval {
            canary: counts(i.canary.requests, i.canary.errors),
            baseline: counts(i.baseline.requests, i.baseline.errors),
        })
        .collect();
    // Without a given threshold, the bound nearest the quantile of the whole window.
    let threshold = threshold.or_else(|| {
        let mut total: Option<Vec<hub_canary::Bucket>> = None;
        for i in window {
            for b in [&i.canary.buckets, &i.baseline.buckets]
                .into_iter()
                .flatten()
            {
                total = Some(match total {
                    None => b.clone(),
                    Some(t) => sum_buckets(&t, b)?,
                });
            }
        }
        total.and_then(|t| threshold_near_quantile(&t, quantile))
    });
    let latency: Vec<CountInterval> = window
        .iter()
        .map(|i| {
            let slow = |a: &ArmSample| exceedances(a.buckets.as_deref()?, threshold?);
            CountInterval {
                canary: slow(&i.canary),
                baseline: slow(&i.baseline),
            }
        })
        .collect();
    let out = Calibration {
        intervals: window.len(),
        errors: calibrate_dispersion(&errors),
        latency: calibrate_dispersion(&latency),
        threshold,
    };
    if let (Some(c), Some(e)) = (&mut gate.errors, out.errors) {
        c.dispersion = e.recommended;
    }
    if let (Some(l), Some(e)) = (&mut gate.latency, out.latency) {
        l.ratio.dispersion = e.recommended;
    }
    out
}

/// The schedule and the judge's settings.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Canary weights in percent, in order.
    pub steps: Vec<f64>,
    /// Intervals per step.
    pub per_step: usize,
    /// Intervals at most (`max-duration / interval`).
    pub max_intervals: usize,
    /// The gate without its latency threshold (filled in once known).
    pub gate: GateConfig,
    /// Quantile the latency threshold is chosen near.
    pub latency_quantile: f64,
    /// `step-command`, split.
    pub step_command: Option<Vec<String>>,
    /// When everything stops (`max-duration` from the start, less the time the outputs
    /// need): `step-command` is stopped there too.
    pub deadline: Instant,
    /// Fixed dispersion, or estimated from an A/A window first.
    pub dispersion: Dispersion,
}

/// One interval in the report.
#[derive(Clone, Debug, Serialize)]
pub struct IntervalRecord {
    /// 1-based interval number.
    pub interval: usize,
    /// Seconds since the start when it was read.
    pub at_secs: f64,
    /// The canary's weight during it.
    pub weight: f64,
    /// What was read.
    pub read: Read,
    /// The gate's status after it.
    pub status: Verdict,
}

/// One traffic step.
#[derive(Clone, Debug, Serialize)]
pub struct StepRecord {
    /// The canary's traffic weight in percent.
    pub weight: f64,
    /// Seconds since the start when the step began.
    pub started_secs: f64,
    /// The interval count when the step began.
    pub first_interval: usize,
    /// How `step-command` ended (`None` without a command).
    pub command: Option<String>,
    /// Intervals read after the step's time was up, because a metric was blind: the
    /// traffic is not raised until every metric sees the latest interval.
    pub held_intervals: usize,
}

/// A metric that could not see one interval, for the report and the summary.
#[derive(Clone, Debug, Serialize)]
pub struct BlindInterval {
    /// 1-based interval number.
    pub interval: usize,
    /// The metric.
    pub metric: String,
    /// Which parts were missing and why (untrusted text).
    pub why: String,
}

/// The run's result.
#[derive(Debug)]
pub struct Run {
    /// The final decision.
    pub decision: GateDecision,
    /// The last weight reached.
    pub last_weight: Option<f64>,
    /// Every interval.
    pub intervals: Vec<IntervalRecord>,
    /// Every step.
    pub steps: Vec<StepRecord>,
    /// The latency threshold used.
    pub threshold: Option<f64>,
    /// Why the run stopped before its schedule ended without a verdict (a failed
    /// `step-command`).
    pub aborted: Option<String>,
    /// The traffic was held at a step because a metric was blind when the step ended,
    /// and `max-duration` ended first: the weight it was held at.
    pub held_at: Option<f64>,
    /// The A/A calibration, with `dispersion: auto`.
    pub calibration: Option<Calibration>,
}

impl Run {
    /// Every interval a metric could not see, for the report and the summary.
    pub fn blind_intervals(&self) -> Vec<BlindInterval> {
        self.intervals
            .iter()
            .flat_map(|i| {
                i.read.blind.iter().map(|b| BlindInterval {
                    interval: i.interval,
                    metric: b.metric.to_owned(),
                    why: b.why.clone(),
                })
            })
            .collect()
    }
}

/// A gate whose latency part waits for its threshold: intervals are kept until the
/// threshold is known, then replayed.
struct LazyGate {
    config: GateConfig,
    gate: Option<Gate>,
    pending: Vec<GateInterval>,
    threshold: Option<f64>,
    quantile: f64,
}

impl LazyGate {
    fn new(config: GateConfig, threshold: Option<f64>, quantile: f64) -> hub_canary::Result<Self> {
        let mut g = Self {
            config,
            gate: None,
            pending: Vec::new(),
            threshold,
            quantile,
        };
        g.build()?;
        Ok(g)
    }

    fn build(&mut self) -> hub_canary::Result<()> {
        let mut config = self.config.clone();
        match (&mut config.latency, self.threshold) {
            (Some(l), Some(t)) => l.threshold = t,
            (Some(_), None) => return Ok(()),
            (None, _) => {}
        }
        let mut gate = Gate::new(config)?;
        for i in self.pending.drain(..) {
            gate.observe(&i);
        }
        self.gate = Some(gate);
        Ok(())
    }

    fn observe(&mut self, interval: GateInterval) -> hub_canary::Result<()> {
        if let Some(g) = &mut self.gate {
            g.observe(&interval);
            return Ok(());
        }
        // The first baseline histogram fixes the threshold (baseline data only).
        self.threshold = interval
            .baseline
            .buckets
            .as_deref()
            .and_then(|b| threshold_near_quantile(b, self.quantile));
        self.pending.push(interval);
        self.build()
    }

    fn decide(&self, look: Look) -> GateDecision {
        match &self.gate {
            Some(g) => g.decide(look),
            None => {
                // No threshold yet: every part but latency, and latency blind.
                let mut config = self.config.clone();
                config.latency = None;
                let mut metrics = match Gate::new(config) {
                    Ok(mut g) => {
                        for i in &self.pending {
                            g.observe(i);
                        }
                        g.decide(look).metrics
                    }
                    Err(_) => Vec::new(),
                };
                let mut blind =
                    hub_canary::RatioTest::new(hub_canary::RatioConfig::latency_exceedance())
                        .map(|t| t.decide(names::LATENCY, look));
                if let Ok(d) = &mut blind {
                    d.verdict = match look {
                        Look::Interim => Verdict::Continue,
                        Look::Final => Verdict::Inconclusive,
                    };
                    d.reason = hub_canary::Reason::Blind(hub_canary::Blindness::NoSeries);
                    metrics.insert(metrics.len().min(1), d.clone());
                }
                combine(metrics, look)
            }
        }
    }

    fn status(&self) -> Verdict {
        match &self.gate {
            Some(g) => g.status(),
            None => match self.decide(Look::Interim).verdict {
                Verdict::Fail => Verdict::Fail,
                _ => Verdict::Continue,
            },
        }
    }
}

/// Runs the plan on `feed`; `say` receives progress lines as they happen (they may quote
/// untrusted text: log them as such).
pub fn run(plan: &Plan, feed: &mut dyn Feed, say: &mut dyn FnMut(&str)) -> Result<Run, String> {
    let threshold = plan.gate.latency.as_ref().and_then(|_| feed.threshold());
    let mut config = plan.gate.clone();
    let calibration = match plan.dispersion {
        Dispersion::Fixed => None,
        Dispersion::Auto => {
            let window = feed
                .calibration_window()
                .map_err(|e| format!("`dispersion: auto` cannot read its A/A window: {e}"))?;
            let c = calibrate(&window, threshold, plan.latency_quantile, &mut config);
            let show = |e: Option<DispersionEstimate>| {
                e.map_or("too few intervals with events, stays 1".to_owned(), |e| {
                    format!(
                        "{} (estimate {}, {} degrees of freedom)",
                        num(e.recommended),
                        num(e.phi),
                        e.degrees_of_freedom
                    )
                })
            };
            say(&format!(
                "A/A calibration over {} intervals: error-rate dispersion {}; latency dispersion {}",
                c.intervals,
                show(c.errors),
                show(c.latency)
            ));
            Some(c)
        }
    };
    let mut gate = LazyGate::new(config, threshold, plan.latency_quantile)
        .map_err(|e| format!("the judge refused its configuration: {e}"))?;
    let mut out = Run {
        decision: gate.decide(Look::Interim),
        last_weight: None,
        intervals: Vec::new(),
        steps: Vec::new(),
        threshold,
        aborted: None,
        held_at: None,
        calibration,
    };
    let mut k = 0;
    let mut stopped = None;
    'steps: for (index, &weight) in plan.steps.iter().enumerate() {
        if k >= plan.max_intervals || Instant::now() >= plan.deadline {
            break;
        }
        let weight_text = num(weight);
        let command = match &plan.step_command {
            None => None,
            Some(argv) => {
                // A command that cannot start (missing, not executable) failed the step like
                // one that exits non-zero: the run stops with its outputs and report.
                let ran = run_step(argv, &weight_text, plan.deadline).unwrap_or_else(|why| Ran {
                    ok: false,
                    status: why,
                    output: String::new(),
                });
                say(&format!(
                    "step-command at weight {weight_text} %: {}",
                    ran.status
                ));
                if !ran.output.is_empty() {
                    say(ran.output.trim_end());
                }
                if !ran.ok {
                    out.steps.push(StepRecord {
                        weight,
                        started_secs: feed.elapsed(),
                        first_interval: k,
                        command: Some(ran.status.clone()),
                        held_intervals: 0,
                    });
                    out.aborted = Some(format!(
                        "`step-command` failed at weight `{weight_text}` %: {}",
                        ran.status
                    ));
                    break 'steps;
                }
                Some(ran.status)
            }
        };
        out.steps.push(StepRecord {
            weight,
            started_secs: feed.elapsed(),
            first_interval: k,
            command,
            held_intervals: 0,
        });
        out.last_weight = Some(weight);
        let last_step = index + 1 == plan.steps.len();
        let mut read_in_step = 0;
        // What the latest interval could not see; the traffic is raised only when nothing.
        let mut latest_blind: Vec<Blind> = Vec::new();
        loop {
            // The step's time is up: the traffic goes on once the latest interval was seen
            // by every metric; until then the step is held.
            let held = read_in_step >= plan.per_step.max(1);
            if held && (last_step || latest_blind.is_empty()) {
                break;
            }
            if k >= plan.max_intervals {
                out.held_at = held.then_some(weight);
                break 'steps;
            }
            if held {
                let metrics: Vec<&str> = latest_blind.iter().map(|b| b.metric).collect();
                say(&format!(
                    "holding weight {weight_text} %: {} blind in interval {k}; the traffic is raised only once every metric sees the latest interval",
                    metrics.join(", ")
                ));
            }
            let Some(mut read) = feed.read(k) else {
                say(&format!(
                    "`max-duration` ends before interval {} can be read",
                    k + 1
                ));
                out.held_at = held.then_some(weight);
                break 'steps;
            };
            if let Some(step) = out.steps.last_mut().filter(|_| held) {
                step.held_intervals += 1;
            }
            k += 1;
            read_in_step += 1;
            read.blind = blind_metrics(&read, &plan.gate, gate.threshold);
            gate.observe(read.interval.clone())
                .map_err(|e| format!("the judge refused its configuration: {e}"))?;
            let status = gate.status();
            say(&format!("interval {k} at weight {weight_text} %: {status}"));
            for b in &read.blind {
                say(&format!("interval {k}: {} blind: {}", b.metric, b.why));
            }
            for note in &read.notes {
                say(&format!("interval {k}: {note}"));
            }
            latest_blind.clone_from(&read.blind);
            // A query Prometheus cannot parse is refused again at every interval: a typo in
            // the inputs, not missing data to wait out until `max-duration`.
            let refused = read
                .gaps
                .iter()
                .find(|g| g.cause == Cause::Refused)
                .map(|g| g.why.clone());
            out.intervals.push(IntervalRecord {
                interval: k,
                at_secs: feed.elapsed(),
                weight,
                read,
                status,
            });
            if let Some(why) = refused {
                out.aborted = Some(format!(
                    "Prometheus refused a query as malformed ({why}): check `canary-selector`, `baseline-selector`, `requests-metric`, `status-label` and `latency-metric`"
                ));
                break 'steps;
            }
            if matches!(status, Verdict::Fail | Verdict::Pass) {
                stopped = Some(status);
                break 'steps;
            }
        }
    }
    out.threshold = gate.threshold;
    out.decision = gate.decide(if stopped.is_some() {
        Look::Interim
    } else {
        Look::Final
    });
    Ok(out)
}

/// The metrics of `gate` that cannot see `read`'s interval, each with the missing parts
/// and why (the feed's [`Gap`]s, else "no sample").
fn blind_metrics(read: &Read, gate: &GateConfig, threshold: Option<f64>) -> Vec<Blind> {
    let i = &read.interval;
    let arms = [("canary", &i.canary), ("baseline", &i.baseline)];
    let explain = |missing: &[(&'static str, &'static str)]| -> String {
        missing
            .iter()
            .map(|&(arm, part)| {
                let why: Vec<&str> = read
                    .gaps
                    .iter()
                    .filter(|g| g.arm == arm && g.part == part)
                    .map(|g| g.why.as_str())
                    .collect();
                if why.is_empty() {
                    format!("{arm} {part}: no sample")
                } else {
                    format!("{arm} {part}: {}", why.join("; "))
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    // Requests and errors of the given arms: missing parts, else counts that cannot be.
    let counts = |which: &[(&'static str, &ArmSample)]| -> Option<String> {
        let mut missing = Vec::new();
        for &(arm, a) in which {
            if a.requests.is_none() {
                missing.push((arm, "requests"));
            }
            if a.errors.is_none() {
                missing.push((arm, "errors"));
            }
        }
        if !missing.is_empty() {
            return Some(explain(&missing));
        }
        let defects: Vec<String> = which
            .iter()
            .filter_map(|&(arm, a)| {
                let c = ArmCounts::new(a.requests?, a.errors?);
                let why = match c.defect()? {
                    CountDefect::NotFinite => "a count is not finite",
                    CountDefect::Negative => "a count is negative",
                    CountDefect::MoreBadThanRequests => "more errors than requests",
                };
                Some(format!(
                    "{arm}: {why} (`{}` errors of `{}` requests)",
                    c.bad, c.requests
                ))
            })
            .collect();
        (!defects.is_empty()).then(|| defects.join("; "))
    };
    let mut out = Vec::new();
    if let Some(why) = gate.errors.as_ref().and_then(|_| counts(&arms)) {
        out.push(Blind {
            metric: names::ERROR_RATE,
            why,
        });
    }
    if gate.latency.is_some() {
        let mut missing = Vec::new();
        let mut unbounded = Vec::new();
        for (arm, a) in arms {
            match (a.buckets.as_deref(), threshold) {
                (None, _) => missing.push((arm, "latency")),
                (Some(b), Some(t)) if exceedances(b, t).is_none() => unbounded.push(format!(
                    "{arm} latency: the threshold `{t}` is not one of the histogram's bucket bounds"
                )),
                _ => {}
            }
        }
        let mut why = Vec::new();
        if !missing.is_empty() {
            why.push(explain(&missing));
        }
        why.extend(unbounded);
        if !why.is_empty() {
            out.push(Blind {
                metric: names::LATENCY,
                why: why.join("; "),
            });
        }
    }
    if let Some(why) = gate
        .max_error_rate
        .as_ref()
        .and_then(|_| counts(&arms[..1]))
    {
        out.push(Blind {
            metric: names::MAX_ERROR_RATE,
            why,
        });
    }
    out
}

/// Intervals from Prometheus on the wall clock.
pub struct PromFeed {
    /// The client.
    pub prometheus: Prometheus,
    /// Metric and label names.
    pub names: MetricNames,
    /// The canary's label selector.
    pub canary: String,
    /// The baseline's label selector.
    pub baseline: String,
    /// Seconds per interval.
    pub interval: f64,
    /// Whether to read latency histograms.
    pub latency: bool,
    /// A threshold given by the user (an SLO bucket bound).
    pub fixed_threshold: Option<f64>,
    /// History window the threshold is chosen from.
    pub threshold_window: Duration,
    /// Health probes.
    pub health: Health,
    /// Failed health rounds tolerated before the check counts as down.
    pub health_max_failures: usize,
    /// Failed health rounds so far.
    pub health_failures: usize,
    /// Unix time of the start.
    pub t0: f64,
    /// The start on the monotonic clock.
    pub start: Instant,
    /// The two selectors of the A/A window (`dispersion: auto`).
    pub calibration_selectors: (String, String),
    /// How far back the A/A window reaches.
    pub calibration_window: Duration,
    /// When everything stops (the plan's deadline): no query outlives it.
    pub deadline: Instant,
}

/// Metric and label names of the built-in templates.
#[derive(Clone, Debug)]
pub struct MetricNames {
    /// Request counter (`http_requests_total`).
    pub requests: String,
    /// Status-code label (`code`).
    pub code_label: String,
    /// Regex of the bad codes (`5..`).
    pub error_codes: String,
    /// Histogram base name (`http_request_duration_seconds`); `_bucket` is appended.
    pub latency: String,
}

/// Unix time now, in seconds.
pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl PromFeed {
    /// When a query started now is given up: half an interval, at most the deadline.
    fn query_deadline(&self) -> Instant {
        (Instant::now() + Duration::from_secs_f64(self.interval / 2.0)).min(self.deadline)
    }

    /// The three queries of one arm: requests, errors and (with latency) buckets.
    fn queries(&self, sel: &str) -> Vec<(&'static str, String)> {
        let mut q = vec![
            ("requests", selector(&self.names.requests, sel, None)),
            (
                "errors",
                selector(
                    &self.names.requests,
                    sel,
                    Some(&format!(
                        "{}=~\"{}\"",
                        self.names.code_label, self.names.error_codes
                    )),
                ),
            ),
        ];
        if self.latency {
            q.push((
                "latency",
                selector(&format!("{}_bucket", self.names.latency), sel, None),
            ));
        }
        q
    }

    /// One arm's increments in every interval of `[start, start + n·interval]`, from three
    /// `query_range` calls; a failed query or a sample that is not a counter's is an error
    /// (the window is read before the start, so nothing is gained by carrying on
    /// half-blind).
    fn arm_window(&self, sel: &str, start: f64, n: usize) -> Result<Vec<ArmSample>, String> {
        let step = self.interval;
        let end = start + n as f64 * step;
        let mut results = Vec::new();
        for (part, query) in self.queries(sel) {
            let series = self
                .prometheus
                .query_range(&query, start, end, step, self.query_deadline())
                .map_err(|e| format!("prometheus: {e}"))?;
            if part == "requests" && series.is_empty() {
                return Err(format!("no series for `{query}`"));
            }
            results.push(Ok(series));
        }
        let mut out = Vec::with_capacity(n);
        for k in 0..n {
            let t0 = start + k as f64 * step;
            let read = arm_sample(&results[0], &results[1], results.get(2), t0, t0 + step);
            if let Some((part, invalid)) = read.invalid.first() {
                return Err(format!("`{sel}` {part}: {invalid}"));
            }
            out.push(read.sample);
        }
        Ok(out)
    }

    /// Both arms over `[t0, t1]`: every query (and the health round) at once, each given
    /// up at `until`; what could not be read becomes a [`Gap`].
    fn both_arms(&mut self, t0: f64, t1: f64, until: Instant) -> (ArmSample, ArmSample, Read) {
        let step = (t1 - t0).max(0.001);
        let mut jobs: Vec<(&'static str, &'static str, String)> = Vec::new();
        for (arm, sel) in [("canary", &self.canary), ("baseline", &self.baseline)] {
            for (part, query) in self.queries(sel) {
                jobs.push((arm, part, query));
            }
        }
        let prometheus = &self.prometheus;
        let health = &self.health;
        let (results, failures) = std::thread::scope(|scope| {
            let handles: Vec<_> = jobs
                .iter()
                .map(|(_, _, query)| {
                    scope.spawn(move || prometheus.query_range(query, t0, t1, step, until))
                })
                .collect();
            let failures = (!health.is_empty()).then(|| health.round(until));
            let results: Vec<Result<Vec<Series>, QueryError>> = handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(QueryError::Other("the query's thread panicked".to_owned()))
                    })
                })
                .collect();
            (results, failures)
        });
        let mut read = Read::default();
        for ((arm, part, query), r) in jobs.iter().zip(&results) {
            match r {
                Err(e) => read.gaps.push(Gap {
                    arm,
                    part,
                    why: format!("prometheus: {e}"),
                    cause: match e {
                        QueryError::Unreachable(_) => Cause::Unreachable,
                        QueryError::Refused(_) => Cause::Refused,
                        QueryError::Other(_) => Cause::Data,
                    },
                }),
                Ok(s) if s.is_empty() && *part == "requests" => read.gaps.push(Gap {
                    arm,
                    part,
                    why: format!("no series for `{query}`"),
                    cause: Cause::Data,
                }),
                Ok(_) => {}
            }
        }
        let per_arm = if self.latency { 3 } else { 2 };
        let mut arms = results.chunks(per_arm).map(|r| {
            let ArmRead { sample, invalid } = arm_sample(&r[0], &r[1], r.get(2), t0, t1);
            (sample, invalid)
        });
        let (canary, canary_invalid) = arms.next().unwrap_or_default();
        let (baseline, baseline_invalid) = arms.next().unwrap_or_default();
        for (arm, invalid) in [("canary", canary_invalid), ("baseline", baseline_invalid)] {
            for (part, why) in invalid {
                read.gaps.push(Gap {
                    arm,
                    part,
                    why: why.to_string(),
                    cause: Cause::Data,
                });
            }
        }
        read.interval.health = match failures {
            None | Some(None) => None,
            Some(Some(failures)) => {
                if !failures.is_empty() {
                    self.health_failures += 1;
                    read.notes
                        .extend(failures.into_iter().map(|f| format!("health: {f}")));
                }
                Some(self.health_failures <= self.health_max_failures)
            }
        };
        (canary, baseline, read)
    }
}

impl Feed for PromFeed {
    fn threshold(&mut self) -> Option<f64> {
        if self.fixed_threshold.is_some() {
            return self.fixed_threshold;
        }
        let window = self.threshold_window.as_secs().max(1);
        let query = format!(
            "sum by (le) (increase({}[{window}s]))",
            selector(
                &format!("{}_bucket", self.names.latency),
                &self.baseline,
                None
            )
        );
        let series = self
            .prometheus
            .query(&query, self.t0, self.query_deadline())
            .ok()?;
        // A bucket that is not a count makes the whole histogram unusable: the threshold
        // then comes from the first interval's baseline histogram instead.
        let mut buckets = Vec::with_capacity(series.len());
        for s in &series {
            let le = match s.labels.get("le")?.as_str() {
                "+Inf" => f64::INFINITY,
                other => other.parse().ok()?,
            };
            let count = crate::prom::counter_value(&s.samples.first()?.1).ok()?;
            buckets.push(hub_canary::Bucket { le, count });
        }
        buckets.sort_by(|a, b| a.le.total_cmp(&b.le));
        threshold_near_quantile(&buckets, 0.95)
    }

    fn read(&mut self, k: usize) -> Option<Read> {
        let t0 = self.t0 + k as f64 * self.interval;
        let t1 = t0 + self.interval;
        // Sample a little after the interval ends so the last scrape has landed.
        let due = self.start
            + Duration::from_secs_f64(
                (k + 1) as f64 * self.interval + (self.interval * 0.25).min(5.0),
            );
        // The interval's queries get half an interval; an interval whose queries cannot
        // get that before the deadline is not started.
        let budget = Duration::from_secs_f64(self.interval / 2.0);
        if due.max(Instant::now()) + budget > self.deadline {
            return None;
        }
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        let until = (Instant::now() + budget).min(self.deadline);
        let (canary, baseline, mut read) = self.both_arms(t0, t1, until);
        read.interval.canary = canary;
        read.interval.baseline = baseline;
        Some(read)
    }

    fn elapsed(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    fn calibration_window(&mut self) -> Result<Vec<GateInterval>, String> {
        let n = (self.calibration_window.as_secs_f64() / self.interval).floor() as usize;
        if n < 2 {
            return Err(format!(
                "`calibration-window` holds `{n}` intervals; it needs at least 2"
            ));
        }
        let start = self.t0 - n as f64 * self.interval;
        let (a, b) = &self.calibration_selectors;
        let first = self.arm_window(a, start, n)?;
        let second = self.arm_window(b, start, n)?;
        Ok(first
            .into_iter()
            .zip(second)
            .map(|(canary, baseline)| GateInterval {
                canary,
                baseline,
                health: None,
            })
            .collect())
    }
}

/// Intervals from `hub_canary`'s simulator (one simulated minute each, no waiting).
pub struct SimFeed {
    /// The simulated intervals.
    pub intervals: Vec<GateInterval>,
    /// The scenario's threshold.
    pub threshold: f64,
    /// Seconds per interval, for the report's clock.
    pub interval: f64,
    /// Intervals read so far.
    pub read: usize,
    /// A simulated A/A window of the same service (another seed).
    pub aa: Vec<GateInterval>,
}

impl Feed for SimFeed {
    fn threshold(&mut self) -> Option<f64> {
        Some(self.threshold)
    }

    fn read(&mut self, k: usize) -> Option<Read> {
        self.read = k + 1;
        Some(Read {
            interval: self.intervals.get(k).cloned().unwrap_or_default(),
            ..Read::default()
        })
    }

    fn elapsed(&self) -> f64 {
        self.read as f64 * self.interval
    }

    fn calibration_window(&mut self) -> Result<Vec<GateInterval>, String> {
        Ok(self.aa.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hub_canary::{Bucket, RatioConfig};

    /// A Prometheus stand-in on 127.0.0.1 for `query_range`: every counter grows linearly
    /// from `start` at a rate that depends on the query (requests 100/s, 5xx 1/s for the
    /// selector `half="a"`, 2/s for `half="b"`), sampled every `step`. It answers until
    /// dropped (two minutes at most) and records the queries.
    fn counters_server() -> (
        hub_testkit::http::Server,
        std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    ) {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        let server = hub_testkit::http::Server::for_at_most(
            std::time::Duration::from_secs(120),
            move |target, _| {
                let query: std::collections::HashMap<String, String> = target
                    .split_once('?')
                    .map(|(_, q)| q)
                    .unwrap_or("")
                    .split('&')
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_owned(), decode(v)))
                    .collect();
                let num = |k: &str| query.get(k).and_then(|v| v.parse::<f64>().ok());
                let (Some(start), Some(end), Some(step)) = (num("start"), num("end"), num("step"))
                else {
                    return Some(hub_testkit::http::reply("400 Bad Request", "", b""));
                };
                let q = query.get("query").cloned().unwrap_or_default();
                log.lock().expect("lock").push(q.clone());
                let per_second = if q.contains("code=~") {
                    if q.contains(r#"half="a""#) { 1.0 } else { 2.0 }
                } else {
                    100.0
                };
                let n = ((end - start) / step).round() as usize;
                let values: Vec<String> = (0..=n)
                    .map(|k| {
                        let t = start + k as f64 * step;
                        format!(r#"[{t:.3},"{}"]"#, per_second * (t - start + 1000.0))
                    })
                    .collect();
                let body = format!(
                    r#"{{"status":"success","data":{{"resultType":"matrix","result":[{{"metric":{{}},"values":[{}]}}]}}}}"#,
                    values.join(",")
                );
                Some(hub_testkit::http::reply(
                    "200 OK",
                    "Content-Type: application/json\r\n",
                    body.as_bytes(),
                ))
            },
        );
        (server, seen)
    }

    fn decode(v: &str) -> String {
        percent_encoding::percent_decode_str(&v.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    }

    #[test]
    fn the_a_a_window_comes_from_both_calibration_selectors_before_the_start() {
        let (server, seen) = counters_server();
        let url = server.url("");
        let mut feed = PromFeed {
            prometheus: Prometheus::new(&url, None, &[], &hub_http::Settings::default())
                .expect("client"),
            names: MetricNames {
                requests: "http_requests_total".into(),
                code_label: "code".into(),
                error_codes: "5..".into(),
                latency: "http_request_duration_seconds".into(),
            },
            canary: r#"track="canary""#.into(),
            baseline: r#"track="stable""#.into(),
            interval: 60.0,
            latency: false,
            fixed_threshold: None,
            threshold_window: Duration::from_secs(3600),
            health: Health::new(Vec::new(), &hub_http::Settings::default()).expect("no probes"),
            health_max_failures: 0,
            health_failures: 0,
            t0: 1_700_000_000.0,
            start: Instant::now(),
            calibration_selectors: (r#"half="a""#.into(), r#"half="b""#.into()),
            calibration_window: Duration::from_secs(600),
            deadline: Instant::now() + Duration::from_secs(60),
        };
        let window = feed.calibration_window().expect("window");
        assert_eq!(window.len(), 10);
        for i in &window {
            assert_eq!(i.canary.requests, Some(6000.0));
            assert_eq!(i.canary.errors, Some(60.0));
            assert_eq!(i.baseline.errors, Some(120.0));
        }
        let queries = seen.lock().expect("lock").clone();
        assert_eq!(queries.len(), 4, "{queries:?}");
        assert!(queries.iter().all(|q| !q.contains("track=")), "{queries:?}");
        // Perfectly regular counts: no overdispersion, the factor stays at 1.
        let mut gate = GateConfig {
            errors: Some(RatioConfig::error_rate()),
            latency: None,
            max_error_rate: None,
            health_check: false,
            watch: false,
        };
        let c = calibrate(&window, None, 0.95, &mut gate);
        let e = c.errors.expect("an estimate");
        assert_eq!((e.degrees_of_freedom, e.recommended), (9, 1.0));
        assert!(c.latency.is_none());

        // Too short a window is refused with the input's name.
        feed.calibration_window = Duration::from_secs(60);
        assert_eq!(
            feed.calibration_window().expect_err("short"),
            "`calibration-window` holds `1` intervals; it needs at least 2"
        );
    }

    /// A scripted feed: the same interval again and again.
    struct Script {
        canary: ArmSample,
        baseline: ArmSample,
        threshold: Option<f64>,
        reads: usize,
    }

    impl Feed for Script {
        fn threshold(&mut self) -> Option<f64> {
            self.threshold
        }
        fn read(&mut self, _k: usize) -> Option<Read> {
            self.reads += 1;
            Some(Read {
                interval: GateInterval {
                    canary: self.canary.clone(),
                    baseline: self.baseline.clone(),
                    health: None,
                },
                ..Read::default()
            })
        }
        fn elapsed(&self) -> f64 {
            self.reads as f64
        }
    }

    fn arm(errors: f64, slow: f64) -> ArmSample {
        ArmSample {
            requests: Some(600.0),
            errors: Some(errors),
            buckets: Some(vec![
                Bucket {
                    le: 0.1,
                    count: 300.0,
                },
                Bucket {
                    le: 0.25,
                    count: 600.0 - slow,
                },
                Bucket {
                    le: f64::INFINITY,
                    count: 600.0,
                },
            ]),
        }
    }

    fn plan(latency: bool) -> Plan {
        let ratio = RatioConfig {
            min_intervals: 3,
            ..RatioConfig::error_rate()
        };
        Plan {
            steps: vec![10.0, 50.0, 100.0],
            per_step: 4,
            max_intervals: 12,
            gate: GateConfig {
                errors: Some(ratio.clone()),
                latency: latency.then(|| hub_canary::LatencyConfig::new(1.0)),
                max_error_rate: None,
                health_check: false,
                watch: false,
            },
            latency_quantile: 0.95,
            step_command: None,
            deadline: Instant::now() + Duration::from_secs(60),
            dispersion: Dispersion::Fixed,
        }
    }

    fn script(canary: ArmSample, threshold: Option<f64>) -> Script {
        Script {
            canary,
            baseline: arm(6.0, 30.0),
            threshold,
            reads: 0,
        }
    }

    #[test]
    fn a_bad_canary_stops_at_the_first_step() {
        let mut lines = Vec::new();
        let run = run(&plan(true), &mut script(arm(60.0, 30.0), None), &mut |l| {
            lines.push(l.to_owned());
        })
        .expect("runs");
        assert_eq!(run.decision.verdict, Verdict::Fail);
        assert_eq!(run.last_weight, Some(10.0));
        assert_eq!(run.intervals.len(), 1);
        assert_eq!(lines, ["interval 1 at weight 10 %: fail"]);
        // The threshold came from the first baseline histogram: the bound nearest its p95.
        assert_eq!(run.threshold, Some(0.25));
    }

    #[test]
    fn without_latency_data_the_gate_cannot_pass() {
        let mut no_buckets = arm(6.0, 30.0);
        no_buckets.buckets = None;
        let mut feed = script(no_buckets.clone(), None);
        feed.baseline = no_buckets;
        let run = run(&plan(true), &mut feed, &mut |_| {}).expect("runs");
        assert_eq!(run.decision.verdict, Verdict::Inconclusive);
        assert_eq!(run.decision.blind, ["latency"]);
        assert_eq!(run.intervals.len(), 12, "runs to `max-duration`");
        // Blind latency holds the traffic at the first step: it is never raised.
        assert_eq!(run.steps.len(), 1);
        assert_eq!(run.steps[0].held_intervals, 8);
        assert_eq!(run.held_at, Some(10.0));
        assert!(run.intervals.iter().all(|i| i.weight == 10.0));
        assert_eq!(run.intervals[0].read.blind[0].metric, "latency");
        assert_eq!(
            run.intervals[0].read.blind[0].why,
            "canary latency: no sample; baseline latency: no sample"
        );
    }

    #[test]
    fn the_traffic_is_raised_once_the_blind_metric_sees_again() {
        /// Error counts missing in the intervals listed, else healthy.
        struct Gaps {
            missing: Vec<usize>,
            reads: usize,
        }
        impl Feed for Gaps {
            fn threshold(&mut self) -> Option<f64> {
                None
            }
            fn read(&mut self, k: usize) -> Option<Read> {
                self.reads += 1;
                let mut canary = arm(6.0, 30.0);
                let mut gaps = Vec::new();
                if self.missing.contains(&k) {
                    canary.errors = None;
                    gaps.push(Gap {
                        arm: "canary",
                        part: "errors",
                        why: "`NaN` is not a finite number".to_owned(),
                        cause: Cause::Data,
                    });
                }
                Some(Read {
                    interval: GateInterval {
                        canary,
                        baseline: arm(6.0, 30.0),
                        health: None,
                    },
                    gaps,
                    ..Read::default()
                })
            }
            fn elapsed(&self) -> f64 {
                self.reads as f64
            }
        }
        // The first step's last interval (k = 3) and the next one (k = 4) are blind: the
        // step is held for two intervals, then the traffic goes up.
        let mut feed = Gaps {
            missing: vec![3, 4],
            reads: 0,
        };
        let mut lines = Vec::new();
        let r = run(&plan(false), &mut feed, &mut |l| lines.push(l.to_owned())).expect("runs");
        let weights: Vec<f64> = r.intervals.iter().map(|i| i.weight).collect();
        assert_eq!(weights[..6], [10.0, 10.0, 10.0, 10.0, 10.0, 10.0]);
        assert_eq!(weights[6], 50.0);
        assert_eq!(r.steps[0].held_intervals, 2);
        assert_eq!(r.held_at, None);
        assert_eq!(
            r.intervals[3].read.blind,
            [Blind {
                metric: "error-rate",
                why: "canary errors: `NaN` is not a finite number".to_owned()
            }]
        );
        assert!(
            lines.contains(&"holding weight 10 %: error-rate blind in interval 4; the traffic is raised only once every metric sees the latest interval".to_owned()),
            "{lines:?}"
        );
    }

    #[test]
    fn a_failing_step_command_stops_the_run() {
        let mut p = plan(false);
        p.step_command = Some(vec!["false".to_owned()]);
        let r = run(&p, &mut script(arm(6.0, 30.0), Some(0.25)), &mut |_| {}).expect("runs");
        let why = r.aborted.expect("aborted");
        assert!(
            why.contains("`step-command` failed at weight `10` %: exit status 1"),
            "{why}"
        );
        assert!(r.intervals.is_empty());
        assert_eq!(r.decision.verdict, Verdict::Inconclusive);
    }

    #[test]
    fn a_threshold_that_is_no_bucket_bound_is_named() {
        let mut notes = Vec::new();
        let _ = run(
            &plan(true),
            &mut script(arm(6.0, 30.0), Some(0.3)),
            &mut |l| {
                notes.push(l.to_owned());
            },
        );
        assert!(
            notes
                .iter()
                .any(|n| n
                    .contains("the threshold `0.3` is not one of the histogram's bucket bounds")),
            "{notes:?}"
        );
    }
}
