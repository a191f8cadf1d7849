//! "Tags made by the rules are the truth": seeded histories whose release tags are made
//! while generating, by the bump rules the README documents, computed here from the kinds
//! of the generated commits — never by calling the engine. Then, tag by tag in the order
//! they were made (later tags not yet in the repository, as when they were cut),
//! `hub-semver-bump --dry-run --json --to <tagged commit>` must give exactly that tag's
//! version.
//!
//! Histories hold feat/fix/perf commits, breaking changes (`!` and `BREAKING CHANGE:`),
//! upper-case types, non-releasing types, non-conventional messages, git-style reverts of a
//! commit in the same range (both cancel) and of an already released one (a patch), side
//! branches merged back (some opened before a release and merged after it), `0.y.z`
//! starts (a breaking change bumps the minor) and `1.0.0` starts, and an `rc` pre-release
//! channel entered and left. Repositories are real, built with one `git fast-import`.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

use std::io::Write;
use std::path::Path;
use std::process::Command;

use hub_testkit::rng::Rng;

const BIN: &str = env!("CARGO_BIN_EXE_hub-semver-bump");
const HISTORIES: u64 = 16;

const NONE: u8 = 0;
const PATCH: u8 = 1;
const MINOR: u8 = 2;
const MAJOR: u8 = 3;

/// A commit not yet released on `main`, as the rules see it.
struct Pending {
    /// What kind of commit it is, for the peers' comparison (`bench/truth_peers.py`).
    what: &'static str,
    summary: String,
    level: u8,
    cancelled: bool,
    /// Whether a revert may target it (conventional, not itself a revert).
    revertible: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Ver {
    major: u64,
    minor: u64,
    patch: u64,
    /// `rc.N`; `None` for a stable version. (Stable sorts after its pre-releases: handled
    /// in `greater`.)
    rc: Option<u64>,
}

impl Ver {
    fn triple(self) -> (u64, u64, u64) {
        (self.major, self.minor, self.patch)
    }
    fn stable(self) -> Ver {
        Ver { rc: None, ..self }
    }
    fn bump(self, level: u8) -> Ver {
        let (ma, mi, pa) = self.triple();
        let (major, minor, patch) = match level {
            MAJOR => (ma + 1, 0, 0),
            MINOR => (ma, mi + 1, 0),
            _ => (ma, mi, pa + 1),
        };
        Ver {
            major,
            minor,
            patch,
            rc: None,
        }
    }
    /// SemVer precedence: `a > b`.
    fn greater(a: Ver, b: Ver) -> bool {
        match a.triple().cmp(&b.triple()) {
            std::cmp::Ordering::Equal => match (a.rc, b.rc) {
                (None, Some(_)) => true,
                (Some(x), Some(y)) => x > y,
                _ => false,
            },
            o => o == std::cmp::Ordering::Greater,
        }
    }
    fn text(self) -> String {
        match self.rc {
            Some(n) => format!("{}.{}.{}-rc.{n}", self.major, self.minor, self.patch),
            None => format!("{}.{}.{}", self.major, self.minor, self.patch),
        }
    }
}

/// The version the documented rules give for a range whose highest (non-cancelled) level
/// is `level`, from the last release `current`, with every version so far in `known`.
fn next_version(current: Option<Ver>, known: &[Ver], level: u8, channel: bool) -> Ver {
    let mut next = match current {
        None => Ver {
            major: 0,
            minor: 1,
            patch: 0,
            rc: None,
        },
        Some(cur) => {
            // The stable base: the current version, or for a pre-release the highest
            // stable version below it.
            let base = if cur.rc.is_none() {
                Some(cur)
            } else {
                known
                    .iter()
                    .copied()
                    .filter(|v| v.rc.is_none() && Ver::greater(cur, *v))
                    .max_by(|a, b| a.triple().cmp(&b.triple()))
            };
            // 0.y.z: a breaking change bumps the minor.
            let level = if level == MAJOR && base.is_some_and(|b| b.major == 0) {
                MINOR
            } else {
                level
            };
            match base {
                Some(b) if cur.rc.is_none() => b.bump(level),
                Some(b) => {
                    // Leaving or continuing a pre-release: never backwards.
                    let candidate = b.bump(level);
                    if Ver::greater(candidate, cur.stable()) {
                        candidate
                    } else {
                        cur.stable()
                    }
                }
                None => cur.stable(),
            }
        }
    };
    if channel {
        let n = known
            .iter()
            .filter(|v| v.triple() == next.triple())
            .filter_map(|v| v.rc)
            .max()
            .map_or(0, |n| n + 1);
        next.rc = Some(n);
    }
    next
}

/// One generated history: the fast-import stream and, per release, the mark of the tagged
/// commit, the tag name, the version and whether it was cut in the `rc` channel.
struct History {
    stream: Vec<u8>,
    releases: Vec<(usize, String, bool)>,
    /// Per release, the kinds of commit its range held.
    ranges: Vec<Vec<&'static str>>,
}

fn data(out: &mut Vec<u8>, text: &str) {
    write!(out, "data {}\n{text}\n", text.len()).unwrap();
}

fn generate(seed: u64) -> History {
    let mut rng = Rng::seeded(seed);
    let mut out = Vec::new();
    let mut mark = 0usize;
    let mut main_tip: Option<usize> = None;
    let mut pending: Vec<Pending> = Vec::new();
    let mut released: Vec<String> = Vec::new();
    let mut known: Vec<Ver> = Vec::new();
    let mut current: Option<Ver> = None;
    let mut releases = Vec::new();
    let mut ranges = Vec::new();
    // An open side branch: (name, its tip mark, its commits not yet merged).
    let mut side: Option<(String, usize, Vec<Pending>)> = None;
    let mut sides = 0;

    let mut commit = |out: &mut Vec<u8>, branch: &str, parents: &[usize], msg: &str| {
        mark += 1;
        let when = 1_700_000_000 + mark as u64 * 60;
        let who = format!("Dev <dev@example.com> {when} +0000");
        write!(
            out,
            "commit refs/heads/{branch}\nmark :{mark}\nauthor {who}\ncommitter {who}\n"
        )
        .unwrap();
        data(out, msg);
        if let Some(first) = parents.first() {
            writeln!(out, "from :{first}").unwrap();
        }
        for p in parents.iter().skip(1) {
            writeln!(out, "merge :{p}").unwrap();
        }
        writeln!(out, "M 100644 inline f{}.txt", mark % 5).unwrap();
        data(out, &format!("{mark}"));
        mark
    };

    // Half the histories start from a released 1.0.0, half from nothing (first release 0.1.0).
    if rng.chance(50) {
        let m = commit(&mut out, "main", &[], "feat: the first version");
        main_tip = Some(m);
        let v = Ver {
            major: 1,
            minor: 0,
            patch: 0,
            rc: None,
        };
        releases.push((m, v.text(), false));
        ranges.push(vec!["initial tag"]);
        known.push(v);
        current = Some(v);
    }

    let steps = 60 + rng.below(40);
    for i in 0..steps {
        // A new conventional or not commit, with its level by the rules.
        let scope = if rng.chance(50) { "(core)" } else { "" };
        let (what, msg, level, revertible) = match rng.below(100) {
            0..=21 => ("feat", format!("feat{scope}: add thing {i}"), MINOR, true),
            22..=24 => (
                "upper-case type",
                format!("FEAT{scope}: shout thing {i}"),
                MINOR,
                true,
            ),
            25..=44 => ("fix", format!("fix{scope}: repair thing {i}"), PATCH, true),
            45..=49 => ("perf", format!("perf{scope}: speed thing {i}"), PATCH, true),
            50..=52 => (
                "breaking !",
                format!("feat{scope}!: replace thing {i}"),
                MAJOR,
                true,
            ),
            53..=54 => (
                "breaking footer",
                format!("fix{scope}: rework thing {i}\n\nBREAKING CHANGE: thing {i} changed"),
                MAJOR,
                true,
            ),
            55..=64 => (
                "docs",
                format!("docs{scope}: explain thing {i}"),
                NONE,
                true,
            ),
            65..=71 => ("chore", format!("chore: tidy thing {i}"), NONE, false),
            72..=79 => ("non-conventional", format!("Update thing {i}"), NONE, false),
            80..=84 => {
                // A revert of a commit in this range: both cancel.
                let targets: Vec<usize> = (0..pending.len())
                    .filter(|&k| pending[k].revertible && !pending[k].cancelled)
                    .collect();
                if targets.is_empty() {
                    ("test", format!("test: cover thing {i}"), NONE, false)
                } else {
                    let k = targets[rng.below(targets.len())];
                    pending[k].cancelled = true;
                    let msg = format!("Revert \"{}\"\n\nIt broke thing {i}.", pending[k].summary);
                    let m = commit(
                        &mut out,
                        "main",
                        &main_tip.into_iter().collect::<Vec<_>>(),
                        &msg,
                    );
                    main_tip = Some(m);
                    pending.push(Pending {
                        what: "revert in range",
                        summary: String::new(),
                        level: NONE,
                        cancelled: true,
                        revertible: false,
                    });
                    continue;
                }
            }
            85..=86 if !released.is_empty() => {
                // A revert of something already released: a patch.
                let k = rng.below(released.len());
                let target = released.swap_remove(k);
                (
                    "revert of a released commit",
                    format!("Revert \"{target}\"\n\nBack out {i}."),
                    PATCH,
                    false,
                )
            }
            _ => ("refactor", format!("refactor: move thing {i}"), NONE, true),
        };
        let summary = msg.lines().next().unwrap().to_string();
        let on_side = side.is_some() && rng.chance(40);
        if on_side {
            let (name, tip, commits) = side.as_mut().unwrap();
            *tip = commit(&mut out, name, &[*tip], &msg);
            // Reverts only target main's own range; side commits are not revert targets
            // until merged.
            commits.push(Pending {
                what,
                summary,
                level,
                cancelled: false,
                revertible: false,
            });
        } else {
            let m = commit(
                &mut out,
                "main",
                &main_tip.into_iter().collect::<Vec<_>>(),
                &msg,
            );
            main_tip = Some(m);
            pending.push(Pending {
                what,
                summary,
                level,
                cancelled: false,
                revertible,
            });
        }

        // Open a side branch off main, or merge the open one back.
        match &side {
            None if main_tip.is_some() && rng.chance(12) => {
                sides += 1;
                let name = format!("side-{sides}");
                let fork = main_tip.unwrap();
                let (msg, level) = if rng.chance(50) {
                    (format!("feat(side): branch work {i}"), MINOR)
                } else {
                    (format!("fix(side): branch fix {i}"), PATCH)
                };
                let m = commit(&mut out, &name, &[fork], &msg);
                side = Some((
                    name,
                    m,
                    vec![Pending {
                        what: "side branch",
                        summary: msg,
                        level,
                        cancelled: false,
                        revertible: false,
                    }],
                ));
            }
            Some(_) if rng.chance(25) => {
                let (name, tip, commits) = side.take().unwrap();
                let m = commit(
                    &mut out,
                    "main",
                    &[main_tip.unwrap(), tip],
                    &format!("Merge branch '{name}'"),
                );
                main_tip = Some(m);
                pending.extend(commits);
                pending.push(Pending {
                    what: "merge",
                    summary: String::new(),
                    level: NONE,
                    cancelled: false,
                    revertible: false,
                });
            }
            _ => {}
        }

        // Cut a release when the rules say there is one (and now and then, not always).
        let level = pending
            .iter()
            .filter(|p| !p.cancelled)
            .map(|p| p.level)
            .max()
            .unwrap_or(NONE);
        if level > NONE && rng.chance(18) {
            let channel = rng.chance(30);
            let v = next_version(current, &known, level, channel);
            releases.push((main_tip.unwrap(), v.text(), channel));
            let mut kinds: Vec<&'static str> = pending.iter().map(|p| p.what).collect();
            if level == MAJOR && current.is_none_or(|c| c.major == 0) {
                kinds.push("breaking at 0.y.z");
            }
            if current.is_none() {
                kinds.push("first release");
            }
            if current.is_some_and(|c| c.rc.is_some()) {
                kinds.push("after a pre-release");
            }
            kinds.sort_unstable();
            kinds.dedup();
            ranges.push(kinds);
            known.push(v);
            current = Some(v);
            released.extend(
                pending
                    .drain(..)
                    .filter(|p| p.revertible && !p.cancelled && p.level > NONE)
                    .map(|p| p.summary),
            );
        }
    }
    History {
        stream: out,
        releases,
        ranges,
    }
}

fn git(dir: &Path, args: &[&str], input: Option<&[u8]>) -> String {
    hub_testkit::git::run(
        hub_testkit::git::command(dir, "1700000000 +0000").args(args),
        input,
    )
}

fn next_version_of(repo: &Path, to: &str, channel: bool) -> serde_json::Value {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("HOME", repo)
        .args(["--dry-run", "--json", "--to", to, "--repository-path"])
        .arg(repo);
    if channel {
        cmd.args(["--prerelease", "rc"]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "hub-semver-bump --to {to}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Writes a history for `bench/truth_peers.py`: the fast-import stream and its releases.
fn export(dir: &Path, seed: u64, h: &History) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(format!("h{seed}.fi")), &h.stream).unwrap();
    let releases: Vec<serde_json::Value> = h
        .releases
        .iter()
        .zip(&h.ranges)
        .map(|((mark, version, channel), kinds)| {
            serde_json::json!({"mark": mark, "version": version, "prerelease": channel, "range": kinds})
        })
        .collect();
    std::fs::write(
        dir.join(format!("h{seed}.json")),
        serde_json::to_vec_pretty(&releases).unwrap(),
    )
    .unwrap();
}

#[test]
fn every_tag_made_by_the_rules_is_the_next_version_at_its_commit() {
    let root = tempfile::tempdir().unwrap();
    let mut checked = 0;
    let (mut prereleases, mut merges_checked) = (0, 0);
    for seed in 0..HISTORIES {
        let history = generate(0x5EED_0000 + seed);
        if let Some(dir) = std::env::var_os("HUB_TRUTH_EXPORT") {
            export(Path::new(&dir), seed, &history);
        }
        let repo = root.path().join(format!("h{seed}"));
        std::fs::create_dir(&repo).unwrap();
        git(&repo, &["init", "-q", "-b", "main"], None);
        let mut stream = history.stream.clone();
        // The marks of the tagged commits, exported to resolve them to ids.
        let marks = repo.join(".git").join("marks");
        git(
            &repo,
            &[
                "fast-import",
                "--quiet",
                &format!("--export-marks={}", marks.display()),
            ],
            Some(std::mem::take(&mut stream).as_slice()),
        );
        let marks = std::fs::read_to_string(&marks).unwrap();
        let id_of = |mark: usize| {
            marks
                .lines()
                .find_map(|l| l.strip_prefix(&format!(":{mark} ")))
                .unwrap()
                .to_string()
        };
        for (k, (mark, version, channel)) in history.releases.iter().enumerate() {
            let id = id_of(*mark);
            // A `1.0.0` start is given, not computed: tag it and go on.
            let given = history.ranges[k] == ["initial tag"];
            let got = next_version_of(&repo, &id, *channel);
            assert!(
                given || got["next-version"].as_str() == Some(version.as_str()),
                "seed {seed}: at {id} the rules made v{version}; hub said {got}"
            );
            assert!(given || got["next-tag"].as_str() == Some(format!("v{version}").as_str()));
            // Cut the release as the rules did: an annotated tag.
            git(
                &repo,
                &[
                    "tag",
                    "-a",
                    "-m",
                    &format!("release {version}"),
                    &format!("v{version}"),
                    &id,
                ],
                None,
            );
            checked += usize::from(!given);
            prereleases += usize::from(*channel);
            let parents = git(&repo, &["rev-list", "--merges", "--count", &id], None);
            merges_checked += usize::from(parents.trim() != "0");
        }
        // After the last release, the tip's answer is consistent with a re-run: the last
        // tag is the current version.
        let tip = next_version_of(&repo, "HEAD", false);
        if let Some((_, last, _)) = history.releases.last() {
            assert_eq!(tip["current-version"].as_str(), Some(last.as_str()));
        }
    }
    // The generator must actually have exercised what it claims to.
    assert!(checked >= 5 * HISTORIES as usize, "only {checked} releases");
    assert!(prereleases > 0, "no pre-release generated");
    assert!(merges_checked > 0, "no release after a merge");
}
