//! The JSON report (every sample and decision), the step summary (one row per metric, a
//! chart per metric, the step timeline).

use std::fmt::Write as _;

use hub_canary::{
    ArmCounts, ArmSample, GateDecision, MetricDecision, MetricKind, Verdict, histogram_quantile,
    names,
};
use hub_kit::md::{Cell, Markdown};
use serde::Serialize;

use crate::format::num;
use crate::progressive::{BlindInterval, Calibration, Cause, IntervalRecord, Run, StepRecord};

/// One metric's line in the report and the summary table.
#[derive(Clone, Debug, Serialize)]
pub struct MetricRow {
    /// The decision.
    pub decision: MetricDecision,
    /// Why, for humans.
    pub evidence: String,
    /// Canary level shown in the table (a rate, or a median value), already formatted.
    pub canary: String,
    /// Baseline level shown in the table.
    pub baseline: String,
    /// Ratio shown in the table.
    pub ratio: String,
}

/// A metric over time, for a chart: numbers only.
#[derive(Clone, Debug, Serialize)]
pub struct Chart {
    /// The metric (untrusted when it came from a file: never put in the chart itself).
    pub metric: String,
    /// What the y values are, our own words.
    pub unit: &'static str,
    /// Canary value per interval (`None` missing).
    pub canary: Vec<Option<f64>>,
    /// Baseline value per interval.
    pub baseline: Vec<Option<f64>>,
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct Report<S: Serialize> {
    /// `file`, `prometheus` or `simulate`.
    pub source: &'static str,
    /// The verdict.
    pub verdict: Verdict,
    /// One line for humans.
    pub summary: String,
    /// Failed metrics.
    pub failed: Vec<String>,
    /// Blind metrics (no data, too little data).
    pub blind: Vec<String>,
    /// The last traffic weight reached (progressive modes).
    pub last_weight: Option<f64>,
    /// The latency threshold in seconds (progressive modes with `latency`).
    pub latency_threshold: Option<f64>,
    /// One row per metric.
    pub metrics: Vec<MetricRow>,
    /// The traffic steps.
    pub steps: Vec<StepRecord>,
    /// Every interval a metric could not see, and why (progressive modes).
    pub blind_intervals: Vec<BlindInterval>,
    /// The A/A calibration (`dispersion: auto`).
    pub calibration: Option<Calibration>,
    /// Every sample (mode-specific).
    pub samples: S,
}

impl<S: Serialize> Report<S> {
    /// The summary without the verdict it starts with (the heading and the `verdict: …` log
    /// line say it): the metrics that decided and the run's notes, or nothing for a plain
    /// pass.
    pub fn details(&self) -> &str {
        let verdict = self.verdict.to_string();
        self.summary
            .strip_prefix(verdict.as_str())
            .unwrap_or(&self.summary)
            .trim_start_matches([';', ':', ' '])
    }
}

/// The `ratio` column for a decision: the point estimate with its confidence interval.
pub fn ratio_cell(d: &MetricDecision) -> String {
    let Some(est) = d.estimate else {
        return "–".to_owned();
    };
    if d.kind == MetricKind::Guardrail {
        return "–".to_owned();
    }
    match d.ci_high {
        Some(hi) if d.ci_low > 0.0 => format!("{} [{}, {}]", num(est), num(d.ci_low), num(hi)),
        None if d.ci_low > 0.0 => format!("{} [{}, ∞)", num(est), num(d.ci_low)),
        _ => num(est),
    }
}

/// A Mermaid `xychart-beta` of one metric: canary then baseline, numbers only (a missing
/// value is drawn as 0 and listed below the chart).
pub fn mermaid(chart: &Chart) -> Option<String> {
    let n = chart.canary.len().max(chart.baseline.len());
    if n == 0 {
        return None;
    }
    let line = |v: &[Option<f64>]| {
        (0..n)
            .map(|i| num_plain(v.get(i).copied().flatten().unwrap_or(0.0)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let xs = (1..=n)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let mut s = String::from("xychart-beta\n");
    let _ = writeln!(s, "    x-axis [{xs}]");
    let _ = writeln!(s, "    y-axis \"{}\"", chart.unit);
    let _ = writeln!(s, "    line [{}]", line(&chart.canary));
    let _ = writeln!(s, "    line [{}]", line(&chart.baseline));
    Some(s)
}

fn num_plain(x: f64) -> String {
    if x.is_finite() {
        let s = format!("{x:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        "0".to_owned()
    }
}

/// The sticky pull-request comment: the verdict, the per-metric table and the step
/// timeline (the charts stay in the step summary).
pub fn comment<S: Serialize>(report: &Report<S>) -> String {
    summary(report, &[])
}

/// The step summary.
pub fn summary<S: Serialize>(report: &Report<S>, charts: &[Chart]) -> String {
    let mut md = Markdown::new();
    md.heading(3, &format!("canary-gate: {}", report.verdict));
    let details = report.details();
    if !details.is_empty() {
        md.paragraph_message(details);
    }
    let rows: Vec<Vec<Cell>> = report
        .metrics
        .iter()
        .map(|m| {
            vec![
                Cell::Code(m.decision.metric.clone()),
                Cell::Text(m.canary.clone()),
                Cell::Text(m.baseline.clone()),
                Cell::Text(m.ratio.clone()),
                Cell::Md(format!("**{}**", m.decision.verdict)),
                Cell::Message(m.evidence.clone()),
            ]
        })
        .collect();
    md.table(
        &[
            "metric", "canary", "baseline", "ratio", "decision", "evidence",
        ],
        &rows,
    );
    for chart in charts {
        let Some(body) = mermaid(chart) else { continue };
        md.paragraph(&format!(
            "{} over time ({}; first line canary, second baseline):",
            hub_kit::md::code(&chart.metric),
            chart.unit
        ));
        md.code_block("mermaid", &body);
    }
    if !report.steps.is_empty() {
        let rows: Vec<Vec<Cell>> = report
            .steps
            .iter()
            .map(|s| {
                vec![
                    Cell::Text(format!("{} %", num(s.weight))),
                    Cell::Text(format!("{} s", num(s.started_secs))),
                    Cell::Text(s.first_interval.to_string()),
                    // `exit status 3`, or ours quoting the program: `cannot start `…``.
                    Cell::Message(s.command.clone().unwrap_or_else(|| "–".to_owned())),
                    Cell::Text(if s.held_intervals == 0 {
                        "–".to_owned()
                    } else {
                        format!("{} intervals (blind)", s.held_intervals)
                    }),
                ]
            })
            .collect();
        md.paragraph("Step timeline:");
        md.table(
            &["weight", "started", "at interval", "step-command", "held"],
            &rows,
        );
    }
    if !report.blind_intervals.is_empty() {
        /// Lines shown; the JSON report holds them all.
        const SHOWN: usize = 20;
        let rows: Vec<Vec<Cell>> = report
            .blind_intervals
            .iter()
            .take(SHOWN)
            .map(|b| {
                vec![
                    Cell::Text(b.interval.to_string()),
                    Cell::Code(b.metric.clone()),
                    Cell::Message(b.why.clone()),
                ]
            })
            .collect();
        md.paragraph(&format!(
            "Blind intervals ({}; a blind interval is never counted as zero errors):",
            report.blind_intervals.len()
        ));
        md.table(&["interval", "metric", "why"], &rows);
        if report.blind_intervals.len() > SHOWN {
            md.paragraph(&format!(
                "… and {} more in the JSON report.",
                report.blind_intervals.len() - SHOWN
            ));
        }
    }
    if let Some(c) = &report.calibration {
        let show = |e: Option<hub_canary::DispersionEstimate>| {
            e.map_or("1 (too few intervals with events)".to_owned(), |e| {
                format!("{} (estimate {})", num(e.recommended), num(e.phi))
            })
        };
        md.paragraph(&format!(
            "Dispersion from an A/A window of {} intervals: error-rate {}, latency {}.",
            c.intervals,
            show(c.errors),
            show(c.latency)
        ));
    }
    md.into_string()
}

/// Everything a finished run hands to the output stage.
pub struct Outcome<S: Serialize> {
    /// The report.
    pub report: Report<S>,
    /// The summary's charts.
    pub charts: Vec<Chart>,
    /// An operational failure that ended the run early (exit 1 whatever the verdict).
    pub aborted: Option<String>,
    /// The last interval (1-based) at which Prometheus did not answer, if any.
    pub unreachable: Option<usize>,
}

/// The outcome of a progressive run: rows, charts, blind intervals, the calibration and
/// why the traffic was held.
pub fn progressive(source: &'static str, run: Run) -> Outcome<Vec<IntervalRecord>> {
    let blind_intervals = run.blind_intervals();
    let unreachable = run
        .intervals
        .iter()
        .rev()
        .find(|i| i.read.gaps.iter().any(|g| g.cause == Cause::Unreachable))
        .map(|i| i.interval);
    let rows = run.decision.metrics.iter().map(progressive_row).collect();
    let charts = progressive_charts(&run);
    let calibration = run.calibration;
    let mut report = new_report(
        source,
        run.decision,
        rows,
        run.last_weight,
        run.steps,
        run.intervals,
    );
    report.calibration = calibration;
    report.blind_intervals = blind_intervals;
    if let Some(w) = run.held_at {
        report.summary.push_str(&format!(
            " (traffic held at {} %: a metric was blind when the step ended, until `max-duration` ended)",
            num(w)
        ));
    }
    if let Some(t) = run.threshold {
        report
            .summary
            .push_str(&format!(" (latency threshold {} s)", num(t)));
    }
    Outcome {
        report,
        charts,
        aborted: run.aborted,
        unreachable,
    }
}

/// A progressive metric's row: rates, the p95 effect, the ratio.
fn progressive_row(d: &MetricDecision) -> MetricRow {
    let rate = |c: &ArmCounts| {
        if c.requests > 0.0 {
            format!(
                "{} % ({}/{})",
                num(c.bad / c.requests * 100.0),
                num(c.bad),
                num(c.requests)
            )
        } else {
            "–".to_owned()
        }
    };
    let (canary, baseline) = match (d.kind, d.effect) {
        (MetricKind::Ratio, Some(e)) => (
            format!(
                "p{} {} s; slow {}",
                num(e.q * 100.0),
                num(e.canary),
                rate(&d.canary)
            ),
            format!(
                "p{} {} s; slow {}",
                num(e.q * 100.0),
                num(e.baseline),
                rate(&d.baseline)
            ),
        ),
        (MetricKind::Ratio, None) => (rate(&d.canary), rate(&d.baseline)),
        (MetricKind::Guardrail, _) if d.metric == names::MAX_ERROR_RATE => {
            (rate(&d.canary), "–".to_owned())
        }
        _ => ("–".to_owned(), "–".to_owned()),
    };
    MetricRow {
        decision: d.clone(),
        evidence: d.reason.to_string(),
        canary,
        baseline,
        ratio: ratio_cell(d),
    }
}

/// One value per arm and interval, for a chart.
type PerInterval<'a> = &'a dyn Fn(&ArmSample) -> Option<f64>;

fn progressive_charts(run: &Run) -> Vec<Chart> {
    let percent = |a: &ArmSample| match (a.requests, a.errors) {
        (Some(r), Some(e)) if r > 0.0 => Some(e / r * 100.0),
        _ => None,
    };
    let p95 = |a: &ArmSample| {
        a.buckets
            .as_deref()
            .map(|b| histogram_quantile(0.95, b))
            .filter(|q| q.is_finite())
    };
    let mut charts = Vec::new();
    for d in &run.decision.metrics {
        let (unit, f): (&'static str, PerInterval) = match d.metric.as_str() {
            names::ERROR_RATE => ("5xx % per interval", &percent),
            names::LATENCY => ("p95 seconds per interval", &p95),
            _ => continue,
        };
        charts.push(Chart {
            metric: d.metric.clone(),
            unit,
            canary: run
                .intervals
                .iter()
                .map(|i| f(&i.read.interval.canary))
                .collect(),
            baseline: run
                .intervals
                .iter()
                .map(|i| f(&i.read.interval.baseline))
                .collect(),
        });
    }
    charts
}

/// A report of `decision`, its rows and samples.
pub fn new_report<S: Serialize>(
    source: &'static str,
    decision: GateDecision,
    metrics: Vec<MetricRow>,
    last_weight: Option<f64>,
    steps: Vec<StepRecord>,
    samples: S,
) -> Report<S> {
    Report {
        source,
        verdict: decision.verdict,
        summary: decision.summary,
        failed: decision.failed,
        blind: decision.blind,
        last_weight,
        latency_threshold: None,
        metrics,
        steps,
        blind_intervals: Vec::new(),
        calibration: None,
        samples,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_hold_numbers_only() {
        let chart = Chart {
            metric: "p95\"]\n    title \"pwned".to_owned(),
            unit: "seconds",
            canary: vec![Some(0.25), None, Some(0.5)],
            baseline: vec![Some(0.2), Some(0.2)],
        };
        let m = mermaid(&chart).expect("chart");
        assert_eq!(
            m,
            "xychart-beta\n    x-axis [1, 2, 3]\n    y-axis \"seconds\"\n    line [0.25, 0, 0.5]\n    line [0.2, 0.2, 0]\n"
        );
        assert!(!m.contains("pwned"));
    }
}
