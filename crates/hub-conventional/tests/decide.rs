//! The bump rules, one behaviour per test, through the public pipeline
//! (`analyze` then `decide`).

use hub_conventional::{
    BuildPolicy, Bump, BumpRules, DecideError, Decision, Note, RawCommit, Reason, ReleaseOptions,
    analyze, decide,
};
use semver::Version;

fn v(s: &str) -> Version {
    Version::parse(s).expect("a valid version in the test")
}

/// Runs the pipeline. `log` is newest first, as `(id, message)`; `current` is the
/// current version (also added to `known`).
fn run_with<'a>(
    current: Option<&str>,
    known: &[&str],
    log: &[(&'a str, &'a str)],
    rules: &BumpRules,
    opts: &ReleaseOptions,
) -> Result<Decision<'a>, DecideError> {
    let raw: Vec<RawCommit<'a>> = log
        .iter()
        .map(|&(id, message)| RawCommit { id, message })
        .collect();
    let analyzed = analyze(&raw, rules);
    let current = current.map(v);
    let mut known: Vec<Version> = known.iter().map(|s| v(s)).collect();
    known.extend(current.clone());
    decide(&analyzed, current.as_ref(), &known, opts)
}

fn run<'a>(current: Option<&str>, log: &[(&'a str, &'a str)]) -> Decision<'a> {
    run_with(
        current,
        &[],
        log,
        &BumpRules::default(),
        &ReleaseOptions::default(),
    )
    .expect("a decision")
}

fn next(d: &Decision<'_>) -> String {
    d.next
        .as_ref()
        .map_or_else(|| "none".to_owned(), ToString::to_string)
}

#[test]
fn types_map_to_levels() {
    assert_eq!(next(&run(Some("1.2.3"), &[("a", "feat: x")])), "1.3.0");
    assert_eq!(next(&run(Some("1.2.3"), &[("a", "fix: x")])), "1.2.4");
    assert_eq!(next(&run(Some("1.2.3"), &[("a", "perf: x")])), "1.2.4");
    for other in [
        "docs: x",
        "chore: x",
        "refactor(y): x",
        "test: x",
        "ci: x",
        "build: x",
        "style: x",
    ] {
        let d = run(Some("1.2.3"), &[("a", other)]);
        assert_eq!(
            (d.bump, d.next.clone(), d.reason),
            (Bump::None, None, Reason::NoReleasableCommits),
            "{other}"
        );
    }
}

#[test]
fn highest_level_wins_and_names_its_commits() {
    let d = run(
        Some("1.2.3"),
        &[
            ("c", "fix: a"),
            ("b", "feat(ui): b"),
            ("a", "feat: c"),
            ("z", "docs: d"),
        ],
    );
    assert_eq!((d.bump, next(&d)), (Bump::Minor, "1.3.0".to_owned()));
    let ids: Vec<&str> = d.decided_by.iter().map(|c| c.id).collect();
    assert_eq!(ids, ["b", "a"]);
    assert_eq!(d.decided_by[0].summary, "feat(ui): b");
    assert_eq!(
        (
            d.counts.total,
            d.counts.conventional,
            d.counts.non_conventional
        ),
        (4, 4, 0)
    );
}

#[test]
fn types_are_case_insensitive_for_classification() {
    let d = run(Some("1.2.3"), &[("a", "FEAT: shout"), ("b", "Fix: x")]);
    assert_eq!(next(&d), "1.3.0");
    assert_eq!(d.decided_by[0].summary, "FEAT: shout");
}

#[test]
fn breaking_forms() {
    for msg in [
        "fix(core)!: drop old API",
        "chore!: drop node 6",
        "fix: x\n\nBREAKING CHANGE: y",
        "docs: x\n\nBREAKING-CHANGE: y",
    ] {
        let d = run(Some("1.2.3"), &[("a", msg)]);
        assert_eq!((next(&d), d.breaking), ("2.0.0".to_owned(), true), "{msg}");
    }
    // Not breaking: the token must be upper case, and a footer must be a footer.
    for msg in [
        "fix: x\n\nBreaking-Change: y",
        "fix: x\n\nbreaking change: y",
        "fix: x\n\nBREAKING CHANGE was discussed",
        "fix: x\nBREAKING CHANGE: not after a blank line",
    ] {
        let d = run(Some("1.2.3"), &[("a", msg)]);
        assert!(!d.breaking, "{msg}");
        assert_ne!(d.bump, Bump::Major, "{msg}");
    }
}

#[test]
fn zero_major_versions_stay_zero() {
    let d = run(Some("0.4.2"), &[("a", "feat!: new API")]);
    assert_eq!(
        (next(&d), d.bump, d.commits_bump),
        ("0.5.0".to_owned(), Bump::Minor, Bump::Major)
    );
    assert!(d.notes.contains(&Note::BreakingOnZero));
    assert_eq!(next(&run(Some("0.4.2"), &[("a", "feat: x")])), "0.5.0");
    assert_eq!(next(&run(Some("0.4.2"), &[("a", "fix: x")])), "0.4.3");

    let opts = ReleaseOptions {
        major_on_zero: true,
        ..ReleaseOptions::default()
    };
    let d = run_with(
        Some("0.4.2"),
        &[],
        &[("a", "feat!: new API")],
        &BumpRules::default(),
        &opts,
    )
    .expect("decision");
    assert_eq!(next(&d), "1.0.0");
}

#[test]
fn release_as_footer_leaves_zero_deliberately() {
    let d = run(
        Some("0.9.3"),
        &[
            ("b", "chore: release 1.0\n\nRelease-As: 1.0.0"),
            ("a", "feat!: x"),
        ],
    );
    assert_eq!(
        (next(&d), d.reason, d.bump),
        ("1.0.0".to_owned(), Reason::ReleaseAsFooter, Bump::Major)
    );
    assert_eq!(d.decided_by[0].id, "b");

    // Highest wins; `v` prefix accepted; not-greater and invalid are noted and ignored.
    let d = run(
        Some("1.4.0"),
        &[
            ("d", "chore: a\n\nRelease-As: v2.1.0"),
            ("c", "chore: b\n\nRelease-As: 3.0.0"),
            ("b", "chore: c\n\nRelease-As: 1.0.0"),
            ("a", "chore: d\n\nrelease-as: banana"),
        ],
    );
    assert_eq!((next(&d), d.decided_by[0].id), ("3.0.0".to_owned(), "c"));
    let ignored: Vec<&str> = d
        .notes
        .iter()
        .filter_map(|n| match n {
            Note::ReleaseAsIgnored { id, .. } => Some(id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(ignored, ["b", "a"]);

    // A footer alone releases, even with no releasable commit.
    assert_eq!(
        next(&run(
            Some("1.0.0"),
            &[("a", "docs: x\n\nRelease-As: 1.0.1")]
        )),
        "1.0.1"
    );
}

#[test]
fn release_as_input_beats_footers_and_must_be_greater() {
    let opts = ReleaseOptions {
        release_as: Some(v("5.0.0")),
        ..ReleaseOptions::default()
    };
    let log = [("a", "chore: x\n\nRelease-As: 9.0.0")];
    let d = run_with(Some("1.0.0"), &[], &log, &BumpRules::default(), &opts).expect("decision");
    assert_eq!(
        (next(&d), d.reason),
        ("5.0.0".to_owned(), Reason::ReleaseAsInput)
    );

    let opts = ReleaseOptions {
        release_as: Some(v("1.0.0")),
        ..ReleaseOptions::default()
    };
    let err =
        run_with(Some("1.0.0"), &[], &[], &BumpRules::default(), &opts).expect_err("not greater");
    assert_eq!(
        err.to_string(),
        "release-as `1.0.0` is not greater than the current version `1.0.0`"
    );
}

#[test]
fn no_releasable_commits_is_none_never_the_current_version() {
    let d = run(
        Some("1.2.3"),
        &[
            ("a", "chore: x"),
            ("b", "update readme"),
            ("c", "Merge branch 'main'"),
        ],
    );
    assert_eq!((d.bump, d.next.clone()), (Bump::None, None));
    assert_eq!(d.current, Some(v("1.2.3")));
    let d = run(Some("1.2.3"), &[]);
    assert_eq!(
        (d.bump, d.next.clone(), d.reason),
        (Bump::None, None, Reason::NoReleasableCommits)
    );
}

#[test]
fn non_conventional_commits_are_listed_merges_are_not() {
    let d = run(
        Some("1.0.0"),
        &[
            ("m", "Merge pull request #4 from a/b\n\nfeat: y"),
            ("n", "update readme"),
            ("o", "fix: ok"),
            ("p", "feat(x) missing colon"),
        ],
    );
    let listed: Vec<(&str, &str)> = d
        .non_conventional
        .iter()
        .map(|n| (n.id, n.summary))
        .collect();
    assert_eq!(
        listed,
        [("n", "update readme"), ("p", "feat(x) missing colon")]
    );
    assert_eq!(
        d.non_conventional[1].error.to_string(),
        "no `:` after the type, expected `type: description` (at byte 7)"
    );
    assert_eq!(
        (
            d.counts.merges,
            d.counts.non_conventional,
            d.counts.conventional
        ),
        (1, 2, 1)
    );
    assert_eq!(next(&d), "1.0.1");
}

#[test]
fn first_release_uses_the_initial_version() {
    let d = run(None, &[("b", "feat!: everything"), ("a", "chore: init")]);
    assert_eq!(
        (next(&d), d.bump, d.breaking),
        ("0.1.0".to_owned(), Bump::Minor, true)
    );
    assert!(d.notes.contains(&Note::InitialRelease));
    assert_eq!(next(&run(None, &[("a", "fix: x")])), "0.1.0");
    assert_eq!(next(&run(None, &[("a", "chore: init")])), "none");

    let opts = ReleaseOptions {
        initial_version: v("1.0.0"),
        ..ReleaseOptions::default()
    };
    let d =
        run_with(None, &[], &[("a", "fix: x")], &BumpRules::default(), &opts).expect("decision");
    assert_eq!(next(&d), "1.0.0");
}

#[test]
fn forced_release_type() {
    let opts = ReleaseOptions {
        force: Some(Bump::Minor),
        ..ReleaseOptions::default()
    };
    let d = run_with(
        Some("1.2.3"),
        &[],
        &[("a", "chore: x")],
        &BumpRules::default(),
        &opts,
    )
    .expect("decision");
    assert_eq!((next(&d), d.reason), ("1.3.0".to_owned(), Reason::Forced));
    let opts = ReleaseOptions {
        force: Some(Bump::Major),
        ..ReleaseOptions::default()
    };
    let d = run_with(Some("0.3.1"), &[], &[], &BumpRules::default(), &opts).expect("decision");
    assert_eq!(next(&d), "1.0.0");
    let opts = ReleaseOptions {
        force: Some(Bump::None),
        ..ReleaseOptions::default()
    };
    let d = run_with(
        Some("0.3.1"),
        &[],
        &[("a", "fix: x")],
        &BumpRules::default(),
        &opts,
    )
    .expect("decision");
    assert_eq!(next(&d), "0.3.2");
}

#[test]
fn custom_type_map() {
    let rules = BumpRules::default()
        .with("docs", Bump::Patch)
        .with("FEAT", Bump::Patch)
        .with("revert", Bump::None);
    let d = run_with(
        Some("1.0.0"),
        &[],
        &[("a", "docs: x")],
        &rules,
        &ReleaseOptions::default(),
    )
    .expect("decision");
    assert_eq!(next(&d), "1.0.1");
    let d = run_with(
        Some("1.0.0"),
        &[],
        &[("a", "Feat: x")],
        &rules,
        &ReleaseOptions::default(),
    )
    .expect("decision");
    assert_eq!(next(&d), "1.0.1");
    let log = [(
        "r",
        "Revert \"feat: old\"\n\nThis reverts commit 0123456789abcdef.",
    )];
    let d =
        run_with(Some("1.0.0"), &[], &log, &rules, &ReleaseOptions::default()).expect("decision");
    assert_eq!(next(&d), "none");
    assert_eq!("Major".parse::<Bump>(), Ok(Bump::Major));
    assert!("huge".parse::<Bump>().is_err());
}

mod reverts {
    use super::*;

    const FEAT: (&str, &str) = ("aaaaaaa1111", "feat: add x");

    #[test]
    fn git_revert_in_range_cancels_both() {
        let d = run(
            Some("1.0.0"),
            &[
                (
                    "bbbbbbb2222",
                    "Revert \"feat: add x\"\n\nThis reverts commit aaaaaaa1111.",
                ),
                FEAT,
            ],
        );
        assert_eq!(
            (next(&d), d.counts.cancelled, d.counts.git_reverts),
            ("none".to_owned(), 2, 1)
        );
        assert!(
            d.non_conventional.is_empty(),
            "a git revert is understood, not hinted at"
        );
    }

    #[test]
    fn conventional_revert_with_refs_cancels_both() {
        let d = run(
            Some("1.0.0"),
            &[
                ("r", "revert: add x\n\nRefs: aaaaaaa"),
                ("f", "fix: y"),
                FEAT,
            ],
        );
        assert_eq!((next(&d), d.counts.cancelled), ("1.0.1".to_owned(), 2));
        assert_eq!(d.decided_by[0].id, "f");
    }

    #[test]
    fn revert_without_sha_matches_the_subject() {
        let d = run(Some("1.0.0"), &[("r", "Revert \"feat: add x\""), FEAT]);
        assert_eq!(next(&d), "none");
    }

    #[test]
    fn revert_outside_range_is_a_patch() {
        let d = run(
            Some("1.0.0"),
            &[(
                "r",
                "Revert \"feat: old\"\n\nThis reverts commit 0123456789abcdef.",
            )],
        );
        assert_eq!((next(&d), d.decided_by[0].id), ("1.0.1".to_owned(), "r"));
        let d = run(
            Some("1.0.0"),
            &[("r", "revert: old\n\nRefs: 0123456789abcdef")],
        );
        assert_eq!(next(&d), "1.0.1");
    }

    #[test]
    fn revert_of_revert_reinstates() {
        let d = run(
            Some("1.0.0"),
            &[
                (
                    "ccccccc3333",
                    "Revert \"Revert \"feat: add x\"\"\n\nThis reverts commit bbbbbbb2222.",
                ),
                (
                    "bbbbbbb2222",
                    "Revert \"feat: add x\"\n\nThis reverts commit aaaaaaa1111.",
                ),
                FEAT,
            ],
        );
        assert_eq!(
            (next(&d), d.decided_by[0].id, d.counts.cancelled),
            ("1.1.0".to_owned(), FEAT.0, 2)
        );
    }

    #[test]
    fn reverted_breaking_change_does_not_break() {
        let d = run(
            Some("1.0.0"),
            &[
                ("r", "revert: drop api\n\nRefs: 1234567"),
                ("1234567abc", "feat!: drop api"),
                ("f", "fix: y"),
            ],
        );
        assert_eq!((next(&d), d.breaking), ("1.0.1".to_owned(), false));
    }
}

mod prerelease {
    use super::*;

    fn rc(
        current: &str,
        known: &[&str],
        log: &[(&'static str, &'static str)],
        channel: Option<&str>,
    ) -> Result<String, DecideError> {
        let opts = ReleaseOptions {
            prerelease: channel.map(str::to_owned),
            ..ReleaseOptions::default()
        };
        run_with(Some(current), known, log, &BumpRules::default(), &opts).map(|d| next(&d))
    }

    const FEAT: &[(&str, &str)] = &[("a", "feat: x")];
    const FIX: &[(&str, &str)] = &[("a", "fix: x")];

    #[test]
    fn channel_numbers() {
        assert_eq!(
            rc("1.2.0", &[], FEAT, Some("rc")).expect("ok"),
            "1.3.0-rc.0"
        );
        assert_eq!(
            rc("1.2.0", &["1.3.0-rc.0"], FEAT, Some("rc")).expect("ok"),
            "1.3.0-rc.1"
        );
        assert_eq!(
            rc("1.3.0-rc.1", &["1.2.0", "1.3.0-rc.0"], FIX, Some("rc")).expect("ok"),
            "1.3.0-rc.2"
        );
        assert_eq!(
            rc("1.3.0-beta.4", &["1.2.0"], FIX, Some("rc")).expect("ok"),
            "1.3.0-rc.0"
        );
    }

    #[test]
    fn leaving_the_channel() {
        assert_eq!(
            rc("1.3.0-rc.1", &["1.2.0", "1.3.0-rc.0"], FIX, None).expect("ok"),
            "1.3.0"
        );
        assert_eq!(
            rc("1.2.0-rc.1", &["1.1.0"], FIX, None).expect("ok"),
            "1.2.0"
        );
        // A bigger change since the pre-release goes past it, never backwards.
        assert_eq!(
            rc("1.2.0-rc.1", &["1.1.0"], &[("a", "feat!: x")], None).expect("ok"),
            "2.0.0"
        );
        // No stable version before: the pre-release's own version.
        assert_eq!(rc("1.0.0-rc.3", &[], FEAT, None).expect("ok"), "1.0.0");
    }

    #[test]
    fn channel_going_backwards_is_refused() {
        let err = rc("1.3.0-rc.1", &["1.2.0"], FIX, Some("beta")).expect_err("beta < rc");
        assert!(matches!(err, DecideError::NotGreater { .. }), "{err}");
        assert!(matches!(
            rc("1.2.0", &[], FIX, Some("not valid!")),
            Err(DecideError::InvalidChannel(_))
        ));
    }

    #[test]
    fn no_releasable_commits_no_prerelease() {
        assert_eq!(
            rc("1.2.0", &[], &[("a", "docs: x")], Some("rc")).expect("ok"),
            "none"
        );
    }

    #[test]
    fn existing_version_is_refused() {
        let err = rc("1.2.0", &["1.3.0"], FEAT, None).expect_err("1.3.0 exists");
        assert_eq!(err.to_string(), "the next version `1.3.0` already exists");
    }
}

#[test]
fn build_metadata() {
    let opts = ReleaseOptions {
        build: BuildPolicy::Set(semver::BuildMetadata::new("sha.5114f85").expect("valid")),
        ..ReleaseOptions::default()
    };
    let d = run_with(
        Some("1.2.0+old"),
        &[],
        &[("a", "fix: x")],
        &BumpRules::default(),
        &opts,
    )
    .expect("decision");
    assert_eq!(next(&d), "1.2.1+sha.5114f85");
    let opts = ReleaseOptions {
        build: BuildPolicy::Keep,
        ..ReleaseOptions::default()
    };
    let d = run_with(
        Some("1.2.0+old"),
        &[],
        &[("a", "fix: x")],
        &BumpRules::default(),
        &opts,
    )
    .expect("decision");
    assert_eq!(next(&d), "1.2.1+old");
    let d = run(Some("1.2.0+old"), &[("a", "fix: x")]);
    assert_eq!(next(&d), "1.2.1");
}

#[test]
fn decision_serializes_for_the_binaries() {
    let d = run(Some("1.2.0"), &[("a", "feat: x"), ("b", "oops")]);
    let json = serde_json::to_value(&d).expect("serializable");
    assert_eq!(json["next"], "1.3.0");
    assert_eq!(json["bump"], "minor");
    assert_eq!(json["reason"], "commits");
    assert_eq!(
        json["non_conventional"][0]["error"]["kind"],
        "missing-colon"
    );
    assert_eq!(json["counts"]["total"], 2);
}
