//! Kayenta's own test vectors (`peer-suites/kayenta/`), every case.
//!
//! The folder comes from `HUB_PEER_SUITES` or `<workspace>/../shared/peer-suites`; when it
//! is absent the tests print a skip notice and return, so a bare clone still passes.

use hub_canary::Rng;
use hub_canary::kayenta::{
    Classification, Direction, EffectSizeMeasure, MannWhitneyParams, MetricOptions, NanStrategy,
    ScoredMetric, classify_mann_whitney, classify_mean_inequality, cles, cohen_d, intermediates,
    mann_whitney, mean_ratio, percentile_r7, score, summary, wilcoxon_diff,
};
use hub_canary::math::normal_quantile;
use serde_json::Value;
use std::collections::BTreeMap;

/// The parsed file, or `None` (after [`hub_testkit::skip`]) when the suites are absent.
fn load(name: &str) -> Option<Vec<Value>> {
    let dir = hub_testkit::peer_suites()?;
    let path = dir.join("kayenta").join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let value: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()));
    Some(
        value
            .as_array()
            .expect("each kayenta file is a JSON array")
            .clone(),
    )
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("an array of numbers")
        .iter()
        .map(|x| x.as_f64().expect("a number"))
        .collect()
}

fn num(v: &Value) -> f64 {
    v.as_f64().expect("a number")
}

fn close(name: &str, what: &str, actual: f64, expected: f64, tol: f64) {
    assert!(
        (actual - expected).abs() <= tol,
        "{name}: {what} = {actual:e}, expected {expected:e} ± {tol:e}"
    );
}

fn pair(v: &Value) -> (f64, f64) {
    let a = floats(v);
    (a[0], a[1])
}

#[test]
fn mannwhitney_json_every_case() {
    let Some(cases) = load("mannwhitney.json") else {
        return;
    };
    let mut checked = 0;
    for case in &cases {
        let name = case["name"].as_str().expect("name");
        match case["kind"].as_str().expect("kind") {
            "wilcoxon_diff" => {
                let (x, y) = (floats(&case["x"]), floats(&case["y"]));
                let tol = num(&case["tolerance"]);
                for e in case["expected"].as_array().expect("expected list") {
                    let got =
                        wilcoxon_diff(num(&e["mu"]), num(&e["zq"]), &x, &y).expect("not all tied");
                    close(name, "wdiff", got, num(&e["value"]), tol);
                }
            }
            "normal_quantile" => {
                close(
                    name,
                    "qnorm",
                    normal_quantile(num(&case["p"])),
                    num(&case["expected"]),
                    num(&case["tolerance"]),
                );
            }
            "hodges_lehmann_ci" => {
                let est = mann_whitney(
                    &floats(&case["experiment"]),
                    &floats(&case["control"]),
                    num(&case["confidence_level"]),
                )
                .expect("valid samples");
                let e = &case["expected"];
                close(
                    name,
                    "ci_low",
                    est.ci_low,
                    num(&e["ci_low"]["value"]),
                    num(&e["ci_low"]["tolerance"]),
                );
                close(
                    name,
                    "ci_high",
                    est.ci_high,
                    num(&e["ci_high"]["value"]),
                    num(&e["ci_high"]["tolerance"]),
                );
                close(
                    name,
                    "estimate",
                    est.estimate,
                    num(&e["estimate"]["value"]),
                    num(&e["estimate"]["tolerance"]),
                );
            }
            "intermediate_values" => {
                let got = intermediates(
                    &floats(&case["x"]),
                    &floats(&case["y"]),
                    num(&case["confidence_level"]),
                )
                .expect("valid samples");
                let e = &case["expected"];
                let tol = num(&case["tolerance"]);
                for (what, actual) in [
                    ("mu_min", got.mu_min),
                    ("mu_max", got.mu_max),
                    ("zq_lower", got.zq_lower),
                    ("zq_upper", got.zq_upper),
                    ("f_lower_1", got.f_lower_1),
                    ("f_upper_1", got.f_upper_1),
                    ("f_lower_2", got.f_lower_2),
                    ("f_upper_2", got.f_upper_2),
                    ("ci_lower_root", got.ci_lower_root),
                    ("ci_upper_root", got.ci_upper_root),
                    ("estimate_root", got.estimate_root),
                ] {
                    close(name, what, actual, num(&e[what]), tol);
                }
            }
            other => panic!("{name}: unknown kind `{other}`"),
        }
        checked += 1;
    }
    assert_eq!(checked, 7, "mannwhitney.json has 7 cases");
}

fn label(c: Classification) -> &'static str {
    match c {
        Classification::Pass => "Pass",
        Classification::High => "High",
        Classification::Low => "Low",
        Classification::Nodata => "Nodata",
        Classification::NodataFailMetric => "NodataFailMetric",
    }
}

#[test]
fn classifier_json_every_case() {
    let Some(cases) = load("classifier.json") else {
        return;
    };
    for (i, case) in cases.iter().enumerate() {
        let name = case["name"].as_str().expect("name");
        let options = MetricOptions {
            direction: match case["direction"].as_str().expect("direction") {
                "increase" => Direction::Increase,
                "decrease" => Direction::Decrease,
                _ => Direction::Either,
            },
            nan_strategy: match case["nan_strategy"].as_str().expect("nan_strategy") {
                "replace" => NanStrategy::Replace,
                _ => NanStrategy::Remove,
            },
            critical: case["is_critical_metric"]
                .as_bool()
                .expect("is_critical_metric"),
            data_required: false,
        };
        let canary = floats(&case["canary"]);
        let baseline = floats(&case["baseline"]);
        let metric = case["metric_name"].as_str().expect("metric_name");
        let result = match case["classifier"].as_str().expect("classifier") {
            "MannWhitneyClassifier" => {
                let p = &case["params"];
                let params = MannWhitneyParams {
                    tolerance: num(&p["tolerance"]),
                    conf_level: num(&p["conf_level"]),
                    effect_size_thresholds: pair(&p["effect_size_thresholds"]),
                    critical_thresholds: pair(&p["critical_thresholds"]),
                    effect_size_measure: match p["effect_size_measure"].as_str().expect("measure") {
                        "cles" => EffectSizeMeasure::Cles,
                        _ => EffectSizeMeasure::MeanRatio,
                    },
                };
                let mut rng = Rng::seed(0x4b41_5945 + i as u64);
                classify_mann_whitney(metric, &baseline, &canary, &params, &options, &mut rng)
                    .expect("classifies")
            }
            "MeanInequalityClassifier" => classify_mean_inequality(&baseline, &canary, &options),
            other => panic!("{name}: unknown classifier `{other}`"),
        };
        let expected = &case["expected"];
        if let Some(c) = expected.get("classification") {
            assert_eq!(
                label(result.classification),
                c.as_str().expect("label"),
                "{name}"
            );
        }
        if let Some(c) = expected.get("critical") {
            assert_eq!(result.critical, c.as_bool().expect("bool"), "{name}");
        }
        if expected.get("deviation_is_nan").is_some() {
            assert!(
                result.deviation.is_nan(),
                "{name}: deviation {}",
                result.deviation
            );
        }
        if let Some(d) = expected.get("deviation") {
            assert_eq!(result.deviation, num(d), "{name}");
        }
        if expected.get("reason_present").is_some() {
            assert!(
                result.reason.as_deref().is_some_and(|r| !r.is_empty()),
                "{name}: no reason"
            );
        }
    }
    assert_eq!(cases.len(), 37);
}

#[test]
fn tied_ranks_cases_are_stable_across_seeds() {
    // The only random step: both arms constant get Gaussian noise. Only the label is
    // stable, so check it over many seeds.
    let Some(cases) = load("classifier.json") else {
        return;
    };
    let params = MannWhitneyParams {
        tolerance: 0.1,
        ..MannWhitneyParams::default()
    };
    for case in cases
        .iter()
        .filter(|c| c["name"].as_str().is_some_and(|n| n.contains("Tied Ranks")))
    {
        for seed in 0..200 {
            let c = classify_mann_whitney(
                "m",
                &floats(&case["baseline"]),
                &floats(&case["canary"]),
                &params,
                &MetricOptions::default(),
                &mut Rng::seed(seed),
            )
            .expect("classifies");
            assert_eq!(c.classification, Classification::High, "seed {seed}");
        }
    }
}

#[test]
fn statistics_json_every_case() {
    let Some(cases) = load("statistics.json") else {
        return;
    };
    for case in &cases {
        let name = case["name"].as_str().expect("name");
        let tol = num(&case["tolerance"]);
        let scalar = |actual: f64| match &case["expected"] {
            Value::String(s) if s == "NaN" => assert!(actual.is_nan(), "{name}: {actual}"),
            e if tol == 0.0 => assert_eq!(actual, num(e), "{name}"),
            e => close(name, "value", actual, num(e), tol),
        };
        match case["kind"].as_str().expect("kind") {
            "percentile_r7" => scalar(percentile_r7(&floats(&case["values"]), num(&case["p"]))),
            "mean_ratio" => scalar(mean_ratio(
                &floats(&case["baseline"]),
                &floats(&case["canary"]),
            )),
            "cohen_d" => scalar(cohen_d(
                &floats(&case["baseline"]),
                &floats(&case["canary"]),
            )),
            "cles" => scalar(cles(&floats(&case["baseline"]), &floats(&case["canary"]))),
            "summary" => {
                let s = summary(&floats(&case["values"]));
                let e = &case["expected"];
                close(name, "mean", s.mean, num(&e["mean"]), tol);
                close(name, "min", s.min, num(&e["min"]), tol);
                close(name, "max", s.max, num(&e["max"]), tol);
                close(name, "std", s.std, num(&e["std"]), tol.max(1e-4));
                assert_eq!(
                    s.count as u64,
                    e["count"].as_u64().expect("count"),
                    "{name}"
                );
            }
            other => panic!("{name}: unknown kind `{other}`"),
        }
    }
    assert_eq!(cases.len(), 20);
}

#[test]
fn scorer_json_every_case() {
    let Some(cases) = load("scorer.json") else {
        return;
    };
    for case in &cases {
        let name = case["name"].as_str().expect("name");
        let weights: BTreeMap<String, f64> = case["group_weights"]
            .as_object()
            .expect("weights object")
            .iter()
            .map(|(k, v)| (k.clone(), num(v)))
            .collect();
        let results: Vec<ScoredMetric> = case["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| ScoredMetric {
                name: r["name"].as_str().expect("name").to_owned(),
                classification: match r["classification"].as_str().expect("label") {
                    "Pass" => Classification::Pass,
                    "High" => Classification::High,
                    "Low" => Classification::Low,
                    "Nodata" => Classification::Nodata,
                    other => panic!("{name}: unknown label `{other}`"),
                },
                groups: r["groups"]
                    .as_array()
                    .expect("groups")
                    .iter()
                    .map(|g| g.as_str().expect("group").to_owned())
                    .collect(),
                critical: r["critical"].as_bool().expect("critical"),
            })
            .collect();
        let result = score(&results, &weights);
        assert_eq!(
            result.summary,
            num(&case["expected"]["summary_score"]),
            "{name}"
        );
        if let Some(sorted) = case["expected"].get("group_scores_sorted") {
            let mut got: Vec<f64> = result.groups.iter().map(|g| g.score).collect();
            got.sort_by(f64::total_cmp);
            assert_eq!(got, floats(sorted), "{name}");
        }
    }
    assert_eq!(cases.len(), 13);
}
