//! Differential test against the reference parser (`git-conventional`), and a
//! never-panics loop over random bytes.
//!
//! The one documented difference (see `commit.rs`): after the summary's `:` the reference
//! skips newlines too, so it reads `feat:\n\nx` as `feat: x`; we reject it.

use hub_conventional::Commit;

/// The seeded generator of the test kit (xorshift64*): deterministic.
use hub_testkit::rng::Rng;

const PIECES: &[&str] = &[
    "feat",
    "fix",
    "FEAT",
    "revert",
    "x",
    "scope",
    "(",
    ")",
    "!",
    ":",
    ": ",
    " ",
    "  ",
    "\t",
    "\n",
    "\n\n",
    "\r\n",
    "\r",
    "BREAKING CHANGE",
    "BREAKING-CHANGE",
    "BREAKING CHANGE: ",
    "Refs",
    "Refs: ",
    " #",
    "#",
    "12",
    "Closes #1",
    "Co-authored-by: A <a@b>",
    "body text",
    "é",
    "\u{a0}",
    "\u{2003}",
    "💃",
    "-",
    "*",
    "Revert \"",
    "\"",
];

fn message(rng: &mut Rng) -> String {
    let mut s = String::new();
    // Start like a commit most of the time so the deep paths are reached.
    if rng.below(4) != 0 {
        s.push_str(["feat", "fix(core)", "chore!", "Feat(a b)!"][rng.below(4)]);
        s.push_str(": ");
        s.push_str("desc");
    }
    for _ in 0..rng.below(24) {
        s.push_str(PIECES[rng.below(PIECES.len())]);
    }
    s
}

fn same(msg: &str, ours: &Result<Commit<'_>, hub_conventional::ParseError>) -> Result<(), String> {
    let reference = git_conventional::Commit::parse(msg);
    match (ours, &reference) {
        (Ok(a), Ok(b)) => {
            let theirs_footers: Vec<(&str, &str, &str)> = b
                .footers()
                .iter()
                .map(|f| (f.token().as_str(), f.separator().as_str(), f.value()))
                .collect();
            let our_footers: Vec<(&str, &str, &str)> = a
                .footers
                .iter()
                .map(|f| (f.token, f.separator.as_str(), f.value))
                .collect();
            let equal = a.type_ == b.type_().as_str()
                && a.scope == b.scope().map(|s| s.as_str())
                && a.description == b.description()
                && a.body == b.body()
                && a.breaking == b.breaking()
                && a.breaking_description == b.breaking_description()
                && our_footers == theirs_footers;
            if equal {
                Ok(())
            } else {
                Err(format!("{msg:?}: ours {a:?}\n theirs {b:?}"))
            }
        }
        (Err(_), Err(_)) => Ok(()),
        (Err(e), Ok(b)) => {
            // The documented difference: newline(s) between `:` and the description.
            let desc_at = b.description().as_ptr() as usize - msg.as_ptr() as usize;
            if e.kind == hub_conventional::ParseErrorKind::EmptyDescription
                && desc_at > e.offset
                && msg[e.offset..desc_at].contains(['\n', '\r'])
            {
                Ok(())
            } else {
                Err(format!("{msg:?}: ours {e}, theirs {b:?}"))
            }
        }
        (Ok(a), Err(e)) => Err(format!("{msg:?}: ours {a:?}, theirs {e}")),
    }
}

#[test]
fn agrees_with_reference_on_generated_messages() {
    let mut rng = Rng::seeded(0x9E37_79B9_7F4A_7C15);
    let (mut ok, mut err) = (0, 0);
    let mut failures = Vec::new();
    for _ in 0..200_000 {
        let msg = message(&mut rng);
        let ours = Commit::parse(&msg);
        if ours.is_ok() {
            ok += 1
        } else {
            err += 1
        }
        if let Err(f) = same(&msg, &ours) {
            failures.push(f);
        }
    }
    println!(
        "differential: {ok} accepted, {err} rejected, {} disagreements",
        failures.len()
    );
    failures.truncate(10);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        ok > 10_000 && err > 10_000,
        "the generator should reach both outcomes: {ok} / {err}"
    );
}

#[test]
fn never_panics_on_random_bytes() {
    let mut rng = Rng::seeded(42);
    for _ in 0..100_000 {
        let len = rng.below(64);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        let text = String::from_utf8_lossy(&bytes);
        let _ = Commit::parse(&text);
        // And random text built from meaningful pieces, analysed end to end.
        let msg = message(&mut rng);
        let log = [hub_conventional::RawCommit {
            id: "abcdef1234",
            message: &msg,
        }];
        let analyzed = hub_conventional::analyze(&log, &hub_conventional::BumpRules::default());
        let _ = hub_conventional::decide(
            &analyzed,
            None,
            &[],
            &hub_conventional::ReleaseOptions::default(),
        );
    }
}
