//! Print the evaluation table: this crate's sequential gate next to the Kayenta-style and
//! Flagger-style anchors, over seeded simulations.
//!
//! ```text
//! cargo run --release -p hub-canary --example evaluate -- [--seeds N] [--conditions steady,ramp,...]
//!     [--min-intervals N] [--only NAME-PART] [--json]
//! ```
//!
//! `--min-intervals` overrides the sequential judges' minimum observation before a pass
//! (default 20), to see the trade-off against late-onset regressions.
//!
//! Conditions: steady, ramp, noisy, ramp+noisy, very-noisy, late, intermittent (default: all).

use hub_canary::eval::{Condition, Judge, evaluate, render_table, standard_scenarios};
use std::process::ExitCode;

fn parse_condition(s: &str) -> Option<Condition> {
    Some(match s {
        "steady" => Condition::Steady,
        "ramp" => Condition::Ramp,
        "noisy" => Condition::Noisy,
        "ramp+noisy" => Condition::RampNoisy,
        "very-noisy" => Condition::VeryNoisy,
        "late" => Condition::LateOnset,
        "intermittent" => Condition::Intermittent,
        _ => return None,
    })
}

fn main() -> ExitCode {
    let mut seeds = 200u64;
    let mut conditions = Condition::ALL.to_vec();
    let mut json = false;
    let mut min_intervals: Option<usize> = None;
    let mut only: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seeds" => match args.next().and_then(|v| v.parse().ok()) {
                Some(n) => seeds = n,
                None => {
                    eprintln!("error: `--seeds` needs a number");
                    return ExitCode::from(2);
                }
            },
            "--conditions" => {
                let list = args.next().unwrap_or_default();
                let parsed: Option<Vec<_>> = list.split(',').map(parse_condition).collect();
                match parsed {
                    Some(c) => conditions = c,
                    None => {
                        eprintln!("error: unknown condition in `{list}`");
                        return ExitCode::from(2);
                    }
                }
            }
            "--json" => json = true,
            "--only" => match args.next() {
                Some(text) => only = Some(text),
                None => {
                    eprintln!("error: `--only` needs a part of a scenario name");
                    return ExitCode::from(2);
                }
            },
            "--min-intervals" => match args.next().and_then(|v| v.parse().ok()) {
                Some(n) => min_intervals = Some(n),
                None => {
                    eprintln!("error: `--min-intervals` needs a number");
                    return ExitCode::from(2);
                }
            },
            other => {
                eprintln!("error: unknown argument `{other}`");
                return ExitCode::from(2);
            }
        }
    }
    let mut judges = Judge::standard();
    if let Some(n) = min_intervals {
        for judge in &mut judges {
            if let Judge::Sequential(c)
            | Judge::SequentialCalibrated(c)
            | Judge::SequentialWatching(c) = judge
            {
                if let Some(e) = &mut c.errors {
                    e.min_intervals = n;
                }
                if let Some(l) = &mut c.latency {
                    l.ratio.min_intervals = n;
                }
            }
        }
    }
    let mut rows = Vec::new();
    let scenarios = standard_scenarios(&conditions)
        .into_iter()
        .filter(|s| only.as_deref().is_none_or(|o| s.name.contains(o)));
    for scenario in scenarios {
        for judge in &judges {
            match evaluate(judge, &scenario, 0..seeds) {
                Ok(row) => rows.push(row),
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    if json {
        match serde_json::to_string_pretty(&rows) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        print!("{}", render_table(&rows));
    }
    ExitCode::SUCCESS
}
