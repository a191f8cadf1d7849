//! `source: file`: each metric's canary values against its baseline values, judged once
//! (fixed-sample tests: one look).

use anyhow::{Context, Result};
use hub_canary::kayenta::{
    Classification, Direction, MannWhitneyParams, MetricOptions, classify_mann_whitney,
};
use hub_canary::{
    Blindness, GaugeConfig, GaugeJudge, Look, MetricDecision, Reason, Rng, Verdict, Worse, combine,
};
use hub_kit::cli::usage;
use hub_kit::{Annotation, Runner};
use serde::Serialize;

use crate::args::Args;
use crate::data::Table;
use crate::format::num;
use crate::report::{Chart, MetricRow, Outcome, new_report, ratio_cell};
use crate::rules::Rule;

/// The largest share of an arm's values that may be invalid (not finite numbers) before
/// the metric is blind: the count tests' `max_missing_fraction`.
pub const MAX_INVALID_FRACTION: f64 = 0.1;

/// Entries named in an evidence line or a warning; the JSON report has them all.
pub const NAMED: usize = 10;

/// `place (\`text\`)` for the first [`NAMED`] entries, then how many more.
pub fn name_entries(entries: &[&crate::data::Invalid]) -> String {
    let mut parts: Vec<String> = entries
        .iter()
        .take(NAMED)
        .map(|i| format!("{} (`{}`)", i.place, i.text))
        .collect();
    if entries.len() > NAMED {
        parts.push(format!("and {} more", entries.len() - NAMED));
    }
    parts.join(", ")
}

/// Which judge reads the files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Judge {
    /// Hodges-Lehmann interval on the log scale ([`GaugeJudge`]).
    Gauge,
    /// Kayenta's Mann-Whitney classifier (for users migrating from Spinnaker).
    Kayenta,
}

/// The seed of the noise Kayenta adds when both arms are constant: fixed, so a run is
/// reproducible.
const KAYENTA_SEED: u64 = 0x006b_6179_656e_7461;

/// One judged metric with the data behind it.
#[derive(Clone, Debug, Serialize)]
pub struct FileMetric {
    /// The decision.
    pub decision: MetricDecision,
    /// One line for humans.
    pub evidence: String,
    /// Canary values as read.
    pub canary: Vec<Option<f64>>,
    /// Baseline values as read.
    pub baseline: Vec<Option<f64>>,
}

/// The warning for a file holding values that are not finite numbers: one annotation on
/// the file, at the first of them (CSV), naming them. `None` when there are none.
pub fn invalid_warning(
    input: &str,
    path: &str,
    table: &Table,
) -> Option<(String, hub_kit::Annotation)> {
    let entries: Vec<&crate::data::Invalid> = table.invalid.iter().collect();
    let first = entries.first()?;
    let at = hub_kit::Annotation {
        file: Some(path.to_owned()),
        line: first.line.map(|l| l as u64),
        ..hub_kit::Annotation::default()
    };
    let message = format!(
        "{input} `{path}`: {} values are not finite numbers and are not used: {}",
        entries.len(),
        name_entries(&entries)
    );
    Some((message, at))
}

/// The metrics to judge: the rules, else every named series of the files, else one
/// metric called `value`.
pub fn metric_names(rules: &[Rule], files: [&Result<Table, String>; 2]) -> Vec<Rule> {
    if !rules.is_empty() {
        return rules.to_vec();
    }
    let mut names: Vec<String> = files
        .iter()
        .filter_map(|f| f.as_ref().ok())
        .flat_map(|t| t.names().map(str::to_owned).collect::<Vec<_>>())
        .collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        names.push("value".to_owned());
    }
    names.iter().map(|n| Rule::named(n)).collect()
}

/// Judges every metric. Missing files, missing columns, too few values and more than
/// [`MAX_INVALID_FRACTION`] of an arm's values invalid make a metric blind
/// (inconclusive), never a pass.
pub fn judge(
    rules: &[Rule],
    canary: &Result<Table, String>,
    baseline: &Result<Table, String>,
    judge: Judge,
    min_samples: usize,
) -> hub_canary::Result<Vec<FileMetric>> {
    let sole = rules.len() == 1;
    let mut out = Vec::with_capacity(rules.len());
    for rule in rules {
        let pick = |file: &Result<Table, String>, input: &str| match file {
            Ok(t) => t.get(&rule.name, sole).map(<[_]>::to_vec).ok_or_else(|| {
                // A misspelt metric: say what the file has.
                let names: Vec<String> = t.names().map(|n| format!("`{n}`")).collect();
                let has = if !names.is_empty() {
                    format!("its series: {}", names.join(", "))
                } else if t.series.contains_key(&None) {
                    "it has one unnamed series, which only a single metric rule reads".to_owned()
                } else {
                    "it has no series".to_owned()
                };
                format!("`{input}` has no series `{}` ({has})", rule.name)
            }),
            Err(e) => Err(format!("`{input}`: {e}")),
        };
        // An arm with too many values that are not finite numbers cannot be judged.
        let too_invalid = |file: &Result<Table, String>, arm: &str| {
            let t = file.as_ref().ok()?;
            let entries = t.get(&rule.name, sole)?.len();
            let invalid = t.invalid_in(&rule.name, sole);
            (invalid.len() as f64 > MAX_INVALID_FRACTION * entries as f64).then(|| {
                (
                    invalid.len(),
                    entries,
                    format!(
                        "{} of {entries} {arm} values are not finite numbers: {}",
                        invalid.len(),
                        name_entries(&invalid)
                    ),
                )
            })
        };
        let invalid = [
            too_invalid(canary, "canary"),
            too_invalid(baseline, "baseline"),
        ];
        let (c, b) = (pick(canary, "canary-file"), pick(baseline, "baseline-file"));
        let (fail_above_default, tolerance_default) = {
            let d = GaugeConfig::default();
            (1.0 + d.margin, d.tolerance)
        };
        let (margin, tolerance) = rule.thresholds(fail_above_default, tolerance_default);
        let config = GaugeConfig {
            tolerance,
            margin,
            worse: rule.worse,
            min_values: min_samples,
            ..GaugeConfig::default()
        };
        let mut gauge = GaugeJudge::new(config)?;
        let (c, b) = match (c, b) {
            (Ok(c), Ok(b)) => (c, b),
            (c, b) => {
                let mut decision = gauge.decide(&rule.name, Look::Final);
                decision.verdict = Verdict::Inconclusive;
                decision.reason = Reason::Blind(Blindness::NoSeries);
                let why: Vec<String> = [c.err(), b.err()].into_iter().flatten().collect();
                out.push(FileMetric {
                    evidence: format!("blind: {}", why.join("; ")),
                    decision,
                    canary: Vec::new(),
                    baseline: Vec::new(),
                });
                continue;
            }
        };
        for i in 0..c.len().max(b.len()) {
            gauge.observe(c.get(i).copied().flatten(), b.get(i).copied().flatten());
        }
        let mut decision = gauge.decide(&rule.name, Look::Final);
        let mut evidence = decision.reason.to_string();
        let bad: Vec<&(usize, usize, String)> = invalid.iter().flatten().collect();
        // Evidence of a regression in the usable values still fails.
        if let Some(&&(missing, intervals, _)) =
            bad.first().filter(|_| decision.verdict != Verdict::Fail)
        {
            decision.verdict = Verdict::Inconclusive;
            decision.reason = Reason::Blind(Blindness::MissingData {
                missing,
                intervals,
                max_missing_fraction: MAX_INVALID_FRACTION,
            });
            let why: Vec<&str> = bad.iter().map(|(_, _, w)| w.as_str()).collect();
            evidence = format!(
                "blind: {} (at most {} % may be)",
                why.join("; "),
                MAX_INVALID_FRACTION * 100.0
            );
        }
        if judge == Judge::Kayenta && !matches!(decision.reason, Reason::Blind(_)) {
            evidence = kayenta(rule, &c, &b, &mut decision)?;
        }
        out.push(FileMetric {
            decision,
            evidence,
            canary: c,
            baseline: b,
        });
    }
    Ok(out)
}

/// Kayenta's Mann-Whitney classification replaces the gauge verdict: High (or Low, for
/// `lower-is-worse`) with a mean ratio beyond `max-ratio` fails, anything else passes.
fn kayenta(
    rule: &Rule,
    canary: &[Option<f64>],
    baseline: &[Option<f64>],
    decision: &mut MetricDecision,
) -> hub_canary::Result<String> {
    let values = |v: &[Option<f64>]| v.iter().filter_map(|x| *x).collect::<Vec<f64>>();
    let max_ratio = rule.max_ratio.unwrap_or(1.0);
    let params = MannWhitneyParams {
        effect_size_thresholds: (1.0 / max_ratio, max_ratio),
        ..MannWhitneyParams::default()
    };
    let options = MetricOptions {
        direction: match rule.worse {
            Worse::Higher => Direction::Increase,
            Worse::Lower => Direction::Decrease,
        },
        ..MetricOptions::default()
    };
    let mut rng = Rng::seed(KAYENTA_SEED);
    let c = classify_mann_whitney(
        &rule.name,
        &values(baseline),
        &values(canary),
        &params,
        &options,
        &mut rng,
    )?;
    let ratio = if c.deviation.is_finite() {
        format!("mean ratio `{:.4}`", c.deviation)
    } else {
        "mean ratio undefined".to_owned()
    };
    decision.estimate = c.deviation.is_finite().then_some(c.deviation);
    let evidence = match c.classification {
        Classification::Pass => {
            decision.verdict = Verdict::Pass;
            decision.reason = Reason::Holding;
            format!("kayenta: Pass, {ratio}")
        }
        Classification::High | Classification::Low => {
            let detail = format!("kayenta: {}, {ratio}", c.classification);
            decision.verdict = Verdict::Fail;
            decision.reason = Reason::Guardrail {
                detail: detail.clone(),
            };
            detail
        }
        Classification::Nodata | Classification::NodataFailMetric => {
            decision.verdict = Verdict::Inconclusive;
            decision.reason = Reason::Blind(Blindness::NoSeries);
            format!("kayenta: {}", c.classification)
        }
    };
    Ok(evidence)
}

/// `source: file`: read both files, judge every metric once.
pub fn gather(
    args: &Args,
    rules: &[Rule],
    runner: &mut Runner,
) -> Result<Outcome<Vec<FileMetric>>> {
    let which = match args.judge.as_str() {
        "gauge" => Judge::Gauge,
        "kayenta" => Judge::Kayenta,
        other => {
            return Err(usage(format!(
                "input `judge` must be `gauge` or `kayenta`, got `{other}`"
            )));
        }
    };
    // An input left out (or misspelled in `with:`) is the workflow's mistake, not missing
    // data: with `on-inconclusive: pass` it would otherwise let the gate pass.
    for (input, path) in [
        ("canary-file", &args.canary_file),
        ("baseline-file", &args.baseline_file),
    ] {
        if path.as_deref().is_none_or(|p| p.trim().is_empty()) {
            return Err(usage(format!(
                "input `{input}` is required with `source: file`"
            )));
        }
    }
    let read = |input: &str, path: &Option<String>| -> Result<Table, String> {
        let path = path
            .as_deref()
            .ok_or_else(|| format!("input `{input}` is not set"))?;
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read `{path}`: {e}"))?;
        crate::data::parse(&text).map_err(|e| format!("`{path}`: {e}"))
    };
    let canary = read("canary-file", &args.canary_file);
    let baseline = read("baseline-file", &args.baseline_file);
    for (input, path, file) in [
        ("canary-file", &args.canary_file, &canary),
        ("baseline-file", &args.baseline_file, &baseline),
    ] {
        match file {
            Err(e) => runner.warning(&format!("{input}: {e}"), &Annotation::default())?,
            Ok(table) => {
                if let Some((message, at)) =
                    invalid_warning(input, path.as_deref().unwrap_or_default(), table)
                {
                    runner.warning(&message, &at)?;
                }
            }
        }
    }
    let rules = metric_names(rules, [&canary, &baseline]);
    let metrics = judge(&rules, &canary, &baseline, which, args.min_samples)
        .context("the judge refused its configuration")?;
    let decision = combine(
        metrics.iter().map(|m| m.decision.clone()).collect(),
        Look::Final,
    );
    let median = |v: &[Option<f64>]| {
        let mut xs: Vec<f64> = v
            .iter()
            .filter_map(|x| *x)
            .filter(|x| x.is_finite())
            .collect();
        xs.sort_by(f64::total_cmp);
        match xs.len() {
            0 => "–".to_owned(),
            n if n % 2 == 1 => format!("median {}", num(xs[n / 2])),
            n => format!("median {}", num((xs[n / 2 - 1] + xs[n / 2]) / 2.0)),
        }
    };
    let rows = metrics
        .iter()
        .map(|m| MetricRow {
            decision: m.decision.clone(),
            evidence: m.evidence.clone(),
            canary: median(&m.canary),
            baseline: median(&m.baseline),
            ratio: ratio_cell(&m.decision),
        })
        .collect();
    let charts = metrics
        .iter()
        .map(|m| Chart {
            metric: m.decision.metric.clone(),
            unit: "value per sample",
            canary: m.canary.clone(),
            baseline: m.baseline.clone(),
        })
        .collect();
    Ok(Outcome {
        report: new_report("file", decision, rows, None, Vec::new(), metrics),
        charts,
        aborted: None,
        unreachable: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::parse;

    fn bench(base: f64, n: usize) -> Result<Table, String> {
        let v: Vec<String> = (0..n)
            .map(|i| format!("{}", base + (i % 4) as f64 * 0.01))
            .collect();
        parse(&format!("[{}]", v.join(",")))
    }

    fn verdicts(kind: Judge, canary: f64, rule: &str) -> (Verdict, String) {
        let rules = crate::rules::parse(&[rule.to_owned()]).expect("rule");
        let m = judge(&rules, &bench(canary, 12), &bench(1.0, 12), kind, 5).expect("judged");
        (m[0].decision.verdict, m[0].evidence.clone())
    }

    #[test]
    fn regression_fails_and_equal_passes_with_both_judges() {
        for kind in [Judge::Gauge, Judge::Kayenta] {
            assert_eq!(
                verdicts(kind, 1.3, "p95: max-ratio=1.10").0,
                Verdict::Fail,
                "{kind:?}"
            );
            assert_eq!(
                verdicts(kind, 1.0, "p95: max-ratio=1.10").0,
                Verdict::Pass,
                "{kind:?}"
            );
            // A lower value is an improvement unless lower is worse.
            assert_eq!(
                verdicts(kind, 0.7, "p95: max-ratio=1.10").0,
                Verdict::Pass,
                "{kind:?}"
            );
            assert_eq!(
                verdicts(kind, 0.7, "rps: lower-is-worse, max-ratio=1.10").0,
                Verdict::Fail,
                "{kind:?}"
            );
        }
    }

    #[test]
    fn missing_and_short_data_are_blind() {
        let rules = vec![Rule::named("p95")];
        let gone: Result<Table, String> = Err("cannot read: not found".into());
        let m = judge(&rules, &gone, &bench(1.0, 12), Judge::Gauge, 5).expect("judged");
        assert_eq!(m[0].decision.verdict, Verdict::Inconclusive);
        assert_eq!(
            m[0].evidence,
            "blind: `canary-file`: cannot read: not found"
        );
        let m = judge(&rules, &bench(1.0, 3), &bench(1.0, 12), Judge::Kayenta, 5).expect("judged");
        assert_eq!(m[0].decision.verdict, Verdict::Inconclusive);
        assert!(m[0].evidence.contains("too few"), "{}", m[0].evidence);
    }

    #[test]
    fn names_come_from_rules_then_files() {
        let t = parse(r#"{"b": [1], "a": [2]}"#);
        let names: Vec<String> = metric_names(&[], [&t, &Err(String::new())])
            .into_iter()
            .map(|r| r.name)
            .collect();
        assert_eq!(names, ["a", "b"]);
        let unnamed = parse("[1]");
        assert_eq!(metric_names(&[], [&unnamed, &unnamed])[0].name, "value");
    }
}
