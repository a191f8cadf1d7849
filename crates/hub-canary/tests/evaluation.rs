//! The judge's guarantees, asserted statistically on fixed seeds of the simulator.
//!
//! Each assertion is about a rate over hundreds of seeded runs, so it is deterministic
//! (same seeds, same numbers) and it fails if the judge regresses.

use hub_canary::eval::{Condition, Judge, evaluate, standard_scenarios};
use hub_canary::{GateConfig, Scenario, Weights, Window};

fn sequential() -> Judge {
    Judge::Sequential(GateConfig::standard(0.25))
}

#[test]
fn aa_false_alarms_stay_under_one_and_a_half_percent() {
    // The guarantee is 1 % at a 5 % error-rate shift; A/A sits inside it, so the observed
    // rate must be lower even with the ramp and extra per-arm noise.
    for (condition, seeds) in [
        (Condition::Steady, 500),
        (Condition::Noisy, 500),
        (Condition::Ramp, 250),
        (Condition::RampNoisy, 250),
    ] {
        let scenario = condition.scenario(1.0, 1.0);
        let row = evaluate(&sequential(), &scenario, 0..seeds).expect("valid judge");
        assert!(
            row.fail_rate <= 0.015,
            "{}: false alarms {:.2} %",
            scenario.name,
            row.fail_rate * 100.0
        );
    }
}

#[test]
fn doubled_error_rate_and_quarter_slower_latency_are_caught() {
    // Target: power >= 95 % at x2 errors (600 requests/min per arm, 0.2 %, 60 minutes).
    let row = evaluate(
        &sequential(),
        &Condition::Steady.scenario(2.0, 1.0),
        0..1000,
    )
    .expect("valid judge");
    assert!(
        row.fail_rate >= 0.95,
        "x2 errors: power {:.1} %",
        row.fail_rate * 100.0
    );
    // The pass test's own guarantee: at the tolerance, P(pass) <= alpha_pass = 5 %.
    assert!(
        row.pass_rate <= 0.05,
        "x2 errors: passed {:.1} %",
        row.pass_rate * 100.0
    );
    for condition in [
        Condition::Steady,
        Condition::Ramp,
        Condition::Noisy,
        Condition::RampNoisy,
    ] {
        let scenario = condition.scenario(1.0, 1.25);
        let row = evaluate(&sequential(), &scenario, 0..100).expect("valid judge");
        assert!(
            row.fail_rate >= 0.95,
            "{}: power {:.1} %",
            scenario.name,
            row.fail_rate * 100.0
        );
    }
}

#[test]
fn decides_in_at_most_half_the_time_of_the_kayenta_style_anchor() {
    let kayenta = Judge::KayentaStyle(Default::default());
    for (errors, latency) in [(1.0, 1.0), (2.0, 1.0), (1.0, 1.25)] {
        let scenario = Condition::Steady.scenario(errors, latency);
        let ours = evaluate(&sequential(), &scenario, 0..60).expect("valid judge");
        let theirs = evaluate(&kayenta, &scenario, 0..60).expect("valid judge");
        assert!(
            ours.median_minutes <= theirs.median_minutes / 2.0,
            "{}: median {} vs kayenta-style {}",
            scenario.name,
            ours.median_minutes,
            theirs.median_minutes
        );
    }
}

#[test]
fn missing_data_never_passes() {
    for scenario in standard_scenarios(&[])
        .into_iter()
        .filter(Scenario::has_missing_data)
    {
        let row = evaluate(&sequential(), &scenario, 0..100).expect("valid judge");
        assert_eq!(row.pass_rate, 0.0, "{}", scenario.name);
    }
    // Also under a ramp, when the canary disappears mid-step.
    let ramp_gap = Scenario {
        weights: Weights::standard_ramp(),
        canary_missing: Some(Window { start: 15, end: 60 }),
        ..Scenario::reference()
    };
    let row = evaluate(&sequential(), &ramp_gap, 0..100).expect("valid judge");
    assert_eq!(row.pass_rate, 0.0);
}

#[test]
fn counter_resets_are_invisible_after_increments() {
    let plain = Scenario::reference();
    let restarting = Scenario {
        canary_restarts: vec![5, 20, 41],
        ..Scenario::reference()
    };
    for seed in 0..20 {
        assert_eq!(
            plain.simulate(seed).intervals(),
            restarting.simulate(seed).intervals(),
            "seed {seed}"
        );
    }
}

fn watching() -> Judge {
    Judge::SequentialWatching(GateConfig::standard(0.25))
}

#[test]
fn watching_keeps_the_false_alarm_bound_and_catches_late_regressions() {
    // Change detection adds a test at every interval; the mix must stay valid on A/A,
    // ramp and noise included.
    for condition in [Condition::Steady, Condition::RampNoisy, Condition::Noisy] {
        let scenario = condition.scenario(1.0, 1.0);
        let row = evaluate(&watching(), &scenario, 0..300).expect("valid judge");
        assert!(
            row.fail_rate <= 0.015,
            "{}: false alarms {:.2} %",
            scenario.name,
            row.fail_rate * 100.0
        );
        assert_eq!(
            row.median_minutes, 60.0,
            "a watching gate passes at the end"
        );
    }
    // A regression from minute 30: the early-stopping gate has usually passed by then.
    for (errors, latency) in [(3.0, 1.0), (1.0, 1.25)] {
        let scenario = Condition::LateOnset.scenario(errors, latency);
        let early = evaluate(&sequential(), &scenario, 0..100).expect("valid judge");
        let late = evaluate(&watching(), &scenario, 0..100).expect("valid judge");
        assert!(
            late.fail_rate >= 0.95 && early.fail_rate <= 0.5,
            "{}: watching {:.0} %, stopping at the pass {:.0} %",
            scenario.name,
            late.fail_rate * 100.0,
            early.fail_rate * 100.0
        );
    }
}

#[test]
fn the_information_bound_explains_the_ramp() {
    // The look-once oracle at 1 % against 1.05x: at an even split the data can support
    // 95 % power at x2; on the 5/10/25/50 % ramp (less than half the canary traffic) it
    // cannot, whatever the test.
    let show = |c: Condition| {
        let b = hub_canary::eval::error_information(&c.scenario(2.0, 1.0), 0.05, 0.01);
        format!(
            "{c:?}: information {:.1}, canary errors {:.0}, oracle power {:.1} %",
            b.information,
            b.canary_errors,
            b.oracle_power * 100.0
        )
    };
    insta::assert_snapshot!(format!("{}\n{}", show(Condition::Steady), show(Condition::Ramp)), @"
    Steady: information 56.2, canary errors 168, oracle power 99.4 %
    Ramp: information 36.5, canary errors 71, oracle power 94.2 %
    ");
}
