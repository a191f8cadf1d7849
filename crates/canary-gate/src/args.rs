//! The inputs, as the action passes them and the CLI reads them.

use clap::Parser;

/// Compares a canary against its baseline: pass, fail or inconclusive (never pass on
/// missing data).
#[derive(Parser, Debug)]
#[command(name = "hub-canary-gate", about, version, max_term_width = 100)]
pub struct Args {
    /// Where the data comes from: `prometheus` or `file`.
    #[arg(long, default_value = "prometheus")]
    pub source: String,
    /// `source: file`: the canary's values (JSON or CSV; see the README).
    #[arg(long)]
    pub canary_file: Option<String>,
    /// `source: file`: the baseline's values.
    #[arg(long)]
    pub baseline_file: Option<String>,
    /// `source: file`: `gauge` (Hodges-Lehmann interval on the log scale) or `kayenta`
    /// (Kayenta's Mann-Whitney classifier).
    #[arg(long, default_value = "gauge")]
    pub judge: String,
    /// Metric rules, one per line: `NAME: higher-is-worse|lower-is-worse, max-ratio=X,
    /// tolerance=X`.
    #[arg(long)]
    pub metrics: Vec<String>,
    /// `source: file`: values each arm needs before any verdict.
    #[arg(long, default_value_t = 5)]
    pub min_samples: usize,
    /// Prometheus server URL (e.g. `http://prometheus:9090`).
    #[arg(long)]
    pub prometheus_url: Option<String>,
    /// Bearer token for Prometheus (masked in the log).
    #[arg(long)]
    pub prometheus_token: Option<String>,
    /// Extra request headers for Prometheus, one `Name: value` per line (values masked).
    #[arg(long)]
    pub prometheus_headers: Vec<String>,
    /// Label selector of the canary's series, e.g. `app="demo",track="canary"`.
    #[arg(long)]
    pub canary_selector: Option<String>,
    /// Label selector of the baseline's series, e.g. `app="demo",track="stable"`.
    #[arg(long)]
    pub baseline_selector: Option<String>,
    /// Request counter of the `error-rate` template.
    #[arg(long, default_value = "http_requests_total")]
    pub requests_metric: String,
    /// Status-code label of the request counter.
    #[arg(long, default_value = "code")]
    pub status_label: String,
    /// Regex of the status codes that count as errors.
    #[arg(long, default_value = "5..")]
    pub error_codes: String,
    /// Histogram of the `latency` template (without `_bucket`).
    #[arg(long, default_value = "http_request_duration_seconds")]
    pub latency_metric: String,
    /// Latency threshold in seconds (a bucket bound, e.g. your SLO). Default: the bucket
    /// bound nearest the baseline's p95 over `threshold-window` before the start.
    #[arg(long)]
    pub latency_threshold: Option<f64>,
    /// History the latency threshold is chosen from.
    #[arg(long, default_value = "1h")]
    pub threshold_window: String,
    /// Canary traffic weights in percent, in order.
    #[arg(long, default_value = "5,10,25,50,100")]
    pub steps: String,
    /// How long each step lasts.
    #[arg(long, default_value = "5m")]
    pub step_duration: String,
    /// How often Prometheus is read (one judged interval).
    #[arg(long, default_value = "1m")]
    pub interval: String,
    /// The longest the analysis may run; then the verdict is final.
    #[arg(long, default_value = "30m")]
    pub max_duration: String,
    /// Run before each step (one line, split with simple quoting; no shell), with
    /// `HUB_CANARY_WEIGHT` set to the step's weight.
    #[arg(long, allow_hyphen_values = true)]
    pub step_command: Option<String>,
    /// URLs probed every interval (one per line); a URL is up when it answers 2xx.
    #[arg(long)]
    pub health_urls: Vec<String>,
    /// Failed health rounds tolerated before the health check fails the gate.
    #[arg(long, default_value_t = 0)]
    pub health_max_failures: usize,
    /// Intervals before the gate may pass (default 20).
    #[arg(long)]
    pub min_intervals: Option<usize>,
    /// Requests each arm must serve before the gate may pass (default 1000).
    #[arg(long)]
    pub min_requests: Option<f64>,
    /// An absolute limit on the canary's error rate, e.g. `1%` or `0.01` (default: none).
    #[arg(long)]
    pub max_error_rate: Option<String>,
    /// `until-end`: after the canary looks healthy keep watching (with change detection)
    /// until the last step or `max-duration` ends, so a regression that starts late still
    /// fails; `until-pass`: stop at the first pass.
    #[arg(long, default_value = "until-end")]
    pub watch: String,
    /// Overdispersion factor of the count tests: `1` (Poisson), a number above 1 for a
    /// noisy service, or `auto` to estimate it from an A/A window before the start.
    #[arg(long, default_value = "1")]
    pub dispersion: String,
    /// `dispersion: auto`: two label selectors (one per line) of arms running the same
    /// version, e.g. two halves of the baseline's pods. Default: `baseline-selector` and
    /// `canary-selector` (a canary running the baseline's version before the rollout).
    #[arg(long)]
    pub calibration_selectors: Vec<String>,
    /// `dispersion: auto`: how far back before the start the A/A window reaches.
    #[arg(long, default_value = "1h")]
    pub calibration_window: String,
    /// Keep one comment with the verdict, the table and the timeline on the pull request,
    /// or on the commit when no pull request triggered the run (created once, then edited
    /// in place).
    #[arg(long)]
    pub comment: bool,
    /// Token for the comment (default `GITHUB_TOKEN`): `pull-requests: write` on a pull
    /// request, `contents: write` on a commit.
    #[arg(long)]
    pub token: Option<String>,
    /// Run on `hub_canary`'s seeded simulator instead of Prometheus (fast, deterministic).
    #[arg(long)]
    pub simulate: Option<u64>,
    /// With `simulate`: the canary's error-rate multiplier (1 = no regression).
    #[arg(long, default_value_t = 1.0)]
    pub simulate_errors: f64,
    /// With `simulate`: the canary's latency scale (1 = no regression).
    #[arg(long, default_value_t = 1.0)]
    pub simulate_latency: f64,
    /// With `simulate`: per-arm extra noise, the coefficient of variation of each arm's
    /// error rate per interval (0 = Poisson counts).
    #[arg(long, default_value_t = 0.0)]
    pub simulate_noise: f64,
    /// With `simulate`: the interval at which the regression starts (0 = from the start).
    #[arg(long, default_value_t = 0)]
    pub simulate_onset: usize,
    /// When the verdict is inconclusive: `fail` (exit 1) or `pass` (exit 0 with a warning).
    #[arg(long, default_value = "fail")]
    pub on_inconclusive: String,
    /// Where to write the JSON report (default: a new `hub-canary-gate-report-<random>.json` under `$RUNNER_TEMP`, else the temporary directory).
    #[arg(long)]
    pub report: Option<String>,
    /// Print the outputs as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Multi-line values given on the command line split like the action input: one item a
/// line.
pub fn lines(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| hub_kit::input::split_lines(v))
        .collect()
}
