//! Parse throughput on a synthetic `git log` buffer (no timing assertions anywhere).
//!
//! ```text
//! cargo run --release -p hub-conventional --example parse_throughput -- [COMMITS]
//! git log --format='%H%x00%B%x00' > log.bin
//! cargo run --release -p hub-conventional --example parse_throughput -- log.bin
//! ```
//!
//! Builds a buffer shaped like `git log --format=%H%x00%B%x00` with realistic messages
//! (summaries, bodies, trailers, merges, reverts, non-conventional), splits it into
//! borrowed [`RawCommit`]s and times `Commit::parse` alone, then `analyze` + `decide`.

use std::hint::black_box;
use std::time::Instant;

use hub_conventional::{BumpRules, Commit, RawCommit, ReleaseOptions, analyze, decide};

const MESSAGES: &[&str] = &[
    "feat(api): add pagination to the search endpoint",
    "fix: handle empty input in the tokenizer\n\nThe tokenizer assumed at least one byte and read past the end\nof the buffer when given an empty string.\n\nCloses #1234\nSigned-off-by: Dev Eloper <dev@example.com>",
    "chore(deps): bump serde from 1.0.200 to 1.0.201\n\nBumps serde from 1.0.200 to 1.0.201.\n\n---\nupdated-dependencies:\n- dependency-name: serde\n...\n\nSigned-off-by: dependabot[bot] <support@github.com>",
    "docs: fix typo in README",
    "feat!: drop support for the v1 configuration format\n\nBREAKING CHANGE: the `[legacy]` table is no longer read.",
    "Merge pull request #88 from someone/feature-branch\n\nfeat: something",
    "refactor(core): split the scheduler into two modules",
    "update stuff",
    "perf: avoid a copy in the hot loop (#99)",
    "test: add regression test for #77\n\nCo-authored-by: Someone Else <else@example.com>",
];

fn main() {
    let arg = std::env::args().nth(1);
    let mut buf = String::new();
    let n: usize = match arg.as_deref().map(str::parse::<usize>) {
        Some(Ok(n)) => n,
        None => 100_000,
        Some(Err(_)) => {
            // A file written by `git log --format='%H%x00%B%x00'`.
            let path = arg.as_deref().expect("because the argument is present");
            buf = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
            0
        }
    };
    for i in 0..n {
        buf.push_str(&format!(
            "{:040x}\0",
            (i as u128).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835)
        ));
        buf.push_str(MESSAGES[i % MESSAGES.len()]);
        buf.push_str("\n\0");
    }
    let mb = buf.len() as f64 / 1e6;

    let t = Instant::now();
    let mut parts = buf.split('\0');
    let mut raw = Vec::with_capacity(n.max(buf.len() / 128));
    while let (Some(id), Some(message)) = (parts.next(), parts.next()) {
        // `git log` puts a newline between records.
        let id = id.trim_start_matches('\n');
        if !id.is_empty() {
            raw.push(RawCommit { id, message });
        }
    }
    let split = t.elapsed();

    let t = Instant::now();
    let mut ok = 0usize;
    for c in &raw {
        ok += usize::from(black_box(Commit::parse(black_box(c.message))).is_ok());
    }
    let parse = t.elapsed();

    let t = Instant::now();
    let analyzed = analyze(&raw, &BumpRules::default());
    let current = semver::Version::new(1, 2, 3);
    let decision = decide(
        &analyzed,
        Some(&current),
        std::slice::from_ref(&current),
        &ReleaseOptions::default(),
    )
    .expect("decision");
    let full = t.elapsed();

    let n = raw.len();
    println!("{n} commits, {mb:.1} MB of messages, {ok} conventional");
    println!("split buffer:        {:>8.2} ms", split.as_secs_f64() * 1e3);
    println!(
        "Commit::parse:       {:>8.2} ms  ({:.0} commits/s, {:.0} MB/s)",
        parse.as_secs_f64() * 1e3,
        n as f64 / parse.as_secs_f64(),
        mb / parse.as_secs_f64()
    );
    println!(
        "analyze + decide:    {:>8.2} ms  ({:.0} commits/s) -> {:?} {}",
        full.as_secs_f64() * 1e3,
        n as f64 / full.as_secs_f64(),
        decision.bump,
        decision.next.map(|v| v.to_string()).unwrap_or_default()
    );
}
