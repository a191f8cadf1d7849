//! The `metrics` input: one rule per line, `NAME[: OPTION, OPTION…]`.
//!
//! Options: `higher-is-worse` (the default) or `lower-is-worse`; `max-ratio=X`, the
//! ratio of canary to baseline (in the bad direction) above which the metric fails
//! (`1.10`: "fail when it regresses by more than 10 %"); `tolerance=X`, the ratio below
//! which the judge must show the canary to be before it passes (default: the judge's own
//! gap above `max-ratio`).

use hub_canary::Worse;

/// One metric rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// The metric: a series name in the files, or a built-in Prometheus metric.
    pub name: String,
    /// Which direction is bad.
    pub worse: Worse,
    /// Fail above this ratio.
    pub max_ratio: Option<f64>,
    /// Pass only below this ratio.
    pub tolerance: Option<f64>,
}

impl Rule {
    /// A rule with the defaults.
    pub fn named(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            worse: Worse::Higher,
            max_ratio: None,
            tolerance: None,
        }
    }

    /// `(margin, tolerance)` for a judge whose defaults are `default_fail_above` (`1 +
    /// margin`) and `default_tolerance`: `max-ratio` moves the fail threshold and, unless
    /// `tolerance` is given, the pass threshold keeps the judge's gap above it.
    pub fn thresholds(&self, default_fail_above: f64, default_tolerance: f64) -> (f64, f64) {
        let fail_above = self.max_ratio.unwrap_or(default_fail_above);
        let tolerance = self.tolerance.unwrap_or_else(|| {
            default_tolerance.max(fail_above + (default_tolerance - default_fail_above))
        });
        (fail_above - 1.0, tolerance)
    }
}

/// Parses the rules, one per non-empty line. Errors name the line.
pub fn parse(lines: &[String]) -> Result<Vec<Rule>, String> {
    let mut rules: Vec<Rule> = Vec::new();
    for line in lines.iter().map(|l| l.trim()).filter(|l| !l.is_empty()) {
        let (name, options) = match line.split_once(':') {
            Some((n, o)) => (n.trim(), o),
            None => (line, ""),
        };
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(format!(
                "metric rule `{line}`: expected `NAME: OPTION, …` with a name without spaces"
            ));
        }
        if rules.iter().any(|r| r.name == name) {
            return Err(format!("metric `{name}` has two rules"));
        }
        let mut rule = Rule::named(name);
        for option in options
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|o| !o.is_empty())
        {
            match option.split_once('=') {
                None if option == "higher-is-worse" => rule.worse = Worse::Higher,
                None if option == "lower-is-worse" => rule.worse = Worse::Lower,
                Some(("max-ratio", v)) => rule.max_ratio = Some(ratio(name, "max-ratio", v)?),
                Some(("tolerance", v)) => rule.tolerance = Some(ratio(name, "tolerance", v)?),
                _ => {
                    return Err(format!(
                        "metric `{name}`: unknown option `{option}` (expected `higher-is-worse`, `lower-is-worse`, `max-ratio=X` or `tolerance=X`)"
                    ));
                }
            }
        }
        match (rule.max_ratio, rule.tolerance) {
            (Some(m), Some(t)) if t <= m => {
                return Err(format!(
                    "metric `{name}`: `tolerance` `{t}` must be above `max-ratio` `{m}`"
                ));
            }
            _ => {}
        }
        rules.push(rule);
    }
    Ok(rules)
}

fn ratio(metric: &str, option: &str, value: &str) -> Result<f64, String> {
    match value.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 1.0 => Ok(v),
        _ => Err(format!(
            "metric `{metric}`: `{option}` must be a ratio of at least 1 (e.g. `1.10`), got `{value}`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(s: &[&str]) -> Vec<String> {
        s.iter().map(|l| (*l).to_owned()).collect()
    }

    #[test]
    fn rules_with_options() {
        let r = parse(&lines(&[
            "p95: higher-is-worse, max-ratio=1.10",
            "",
            "throughput: lower-is-worse max-ratio=1.2 tolerance=1.5",
            "cpu",
        ]))
        .expect("parses");
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].max_ratio, Some(1.10));
        assert_eq!(r[1].worse, Worse::Lower);
        assert_eq!(r[1].tolerance, Some(1.5));
        assert_eq!(r[2], Rule::named("cpu"));
    }

    #[test]
    fn thresholds_keep_the_judges_gap() {
        let mut r = Rule::named("p95");
        assert_eq!(r.thresholds(1.05, 1.25), (0.050000000000000044, 1.25));
        r.max_ratio = Some(1.10);
        let (margin, tolerance) = r.thresholds(1.05, 1.25);
        assert!((margin - 0.10).abs() < 1e-12 && (tolerance - 1.30).abs() < 1e-12);
        r.tolerance = Some(1.2);
        assert_eq!(r.thresholds(1.05, 1.25).1, 1.2);
    }

    #[test]
    fn bad_rules_are_named() {
        for (line, want) in [
            ("p95: faster-is-better", "unknown option `faster-is-better`"),
            ("p95: max-ratio=0.9", "at least 1"),
            ("p95: max-ratio=x", "got `x`"),
            ("p95: max-ratio=1.5, tolerance=1.2", "must be above"),
            ("p 95", "without spaces"),
        ] {
            let e = parse(&lines(&[line])).expect_err(line);
            assert!(e.contains(want), "{line}: {e}");
        }
        let e = parse(&lines(&["a", "a: lower-is-worse"])).expect_err("duplicate");
        assert!(e.contains("two rules"), "{e}");
    }
}
