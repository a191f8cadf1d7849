//! A real repository built with `git`, to mirror into the stand-in (shared with the tests of
//! `hub-github` through `#[path]`).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

/// Runs `git -C dir args…` with a fixed identity and no user or system configuration; returns
/// standard output without the final line break.
pub fn git(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    git_with_input(dir, args, env, None)
}

pub fn git_with_input(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    input: Option<&[u8]>,
) -> String {
    let mut command = hub_testkit::git::command(dir, "1700000000 +0000");
    command
        .env("GIT_AUTHOR_NAME", "A U Thor")
        .env("GIT_AUTHOR_EMAIL", "author@example.com")
        .env("GIT_COMMITTER_NAME", "C O Mitter")
        .env("GIT_COMMITTER_EMAIL", "committer@example.com")
        .envs(env.iter().copied())
        .args(args);
    hub_testkit::git::run(&mut command, input)
        .trim_end_matches('\n')
        .to_owned()
}

/// The non-ASCII file of the feature branch, and its content.
pub const UNICODE_PATH: &str = "docs/grüße.md";
pub const UNICODE_TEXT: &str = "Grüße, 世界 — ünïcödé\n";

/// Builds:
///
/// ```text
/// initial (tag v0.1.0, lightweight) ── latin1 ── verbatim ── merge (main, tag v1.0.0 annotated)
///        └── feature (author +0530, committer -0700, non-ASCII file) ──┘
/// signed: a child of merge with a `gpgsig` header (branch `signed`)
/// ```
///
/// and returns the shas by those names (`v1.0.0` is the tag object).
pub fn build(dir: &Path) -> BTreeMap<&'static str, String> {
    let write = |path: &str, content: &[u8]| {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, content).expect("writes");
    };
    let mut shas = BTreeMap::new();
    git(dir, &["init", "-q", "-b", "main"], &[]);
    write("README.md", b"# local\n");
    git(dir, &["add", "-A"], &[]);
    git(dir, &["commit", "-q", "-m", "feat: initial"], &[]);
    shas.insert("initial", git(dir, &["rev-parse", "HEAD"], &[]));
    git(dir, &["tag", "v0.1.0"], &[]);

    git(dir, &["switch", "-q", "-c", "feature"], &[]);
    write(UNICODE_PATH, UNICODE_TEXT.as_bytes());
    git(dir, &["add", "-A"], &[]);
    git(
        dir,
        &["commit", "-q", "-m", "docs: grüße aus Indien"],
        &[
            ("GIT_AUTHOR_DATE", "1700000100 +0530"),
            ("GIT_COMMITTER_DATE", "1700000200 -0700"),
        ],
    );
    shas.insert("feature", git(dir, &["rev-parse", "HEAD"], &[]));

    git(dir, &["switch", "-q", "main"], &[]);
    write("src/lib.rs", b"pub fn answer() -> u8 {\n    42\n}\n");
    write("latin1.msg", b"fix: Gr\xfc\xdfe in ISO-8859-1\n");
    git(dir, &["add", "src"], &[]);
    git(
        dir,
        &[
            "-c",
            "i18n.commitEncoding=ISO-8859-1",
            "commit",
            "-q",
            "-F",
            "latin1.msg",
        ],
        &[("GIT_COMMITTER_DATE", "1700000300 +0100")],
    );
    shas.insert("latin1", git(dir, &["rev-parse", "HEAD"], &[]));
    write(
        "verbatim.msg",
        b"chore: a message without a final line break",
    );
    write("src/lib.rs", b"pub fn answer() -> u8 {\n    43\n}\n");
    git(dir, &["add", "src"], &[]);
    git(
        dir,
        &["commit", "-q", "--cleanup=verbatim", "-F", "verbatim.msg"],
        &[],
    );
    shas.insert("verbatim", git(dir, &["rev-parse", "HEAD"], &[]));
    git(
        dir,
        &[
            "merge",
            "-q",
            "--no-ff",
            "-m",
            "Merge branch 'feature'",
            "feature",
        ],
        &[("GIT_COMMITTER_DATE", "1700000400 -0230")],
    );
    shas.insert("merge", git(dir, &["rev-parse", "HEAD"], &[]));
    git(
        dir,
        &[
            "tag",
            "-a",
            "-m",
            "Release 1.0.0\n\nFirst release.",
            "v1.0.0",
        ],
        &[("GIT_COMMITTER_DATE", "1700000500 +0200")],
    );
    shas.insert("v1.0.0", git(dir, &["rev-parse", "v1.0.0"], &[]));

    // A commit carrying a (made-up) signature header, as `git commit -S` writes one.
    let tree = git(dir, &["rev-parse", "HEAD^{tree}"], &[]);
    let signed = format!(
        "tree {tree}\nparent {}\nauthor A U Thor <author@example.com> 1700000600 +0900\ncommitter C O Mitter <committer@example.com> 1700000600 +0900\ngpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEEnot+a+real+signature\n =abcd\n -----END PGP SIGNATURE-----\n\nchore: signed\n",
        shas["merge"]
    );
    let sha = git_with_input(
        dir,
        &["hash-object", "-t", "commit", "-w", "--stdin"],
        &[],
        Some(signed.as_bytes()),
    );
    git(dir, &["update-ref", "refs/heads/signed", &sha], &[]);
    shas.insert("signed", sha);
    shas
}
