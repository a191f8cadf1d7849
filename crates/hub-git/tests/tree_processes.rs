//! `Repo::tree_with` starts the same five git processes for 2 files and for 600: counted by
//! a `git` wrapper first on `PATH` that logs each process. `PATH` is the child's own (this
//! binary run again, in its child mode), so no other test sees the wrapper. The binary has
//! its own `main` (`harness = false` in Cargo.toml): the child is not a test of its own, so
//! nothing is ever reported as ignored.

#[cfg(unix)]
use std::process::Command;

#[cfg(unix)]
use hub_testkit::git::line as git;

/// The git subcommands one `tree_with` of `files` files starts.
#[cfg(unix)]
fn processes(files: usize) -> Vec<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path().join("repo");
    std::fs::create_dir(&repo).expect("mkdir");
    git(&repo, &["init", "-q", "-b", "main"]);
    let paths: Vec<String> = (0..files)
        .map(|i| format!("packages/p{i:04}/VERSION"))
        .collect();
    let versions: Vec<(&str, &str)> = paths.iter().map(|p| (p.as_str(), "1.0.0\n")).collect();
    let base = hub_testkit::git::commit_files_at(&repo, &versions, "start", hub_testkit::git::DATE);
    // The wrapper: logs each git process, then runs the real git.
    let spy = hub_testkit::git::Spy::new(dir.path());
    let out = Command::new(std::env::current_exe().expect("this test binary"))
        .env("PATH", spy.path())
        .env("HUB_TREE_REPO", &repo)
        .env("HUB_TREE_BASE", &base)
        .env("HUB_TREE_FILES", files.to_string())
        .output()
        .expect("the child runs");
    assert!(
        out.status.success(),
        "the child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Each process's subcommand (past `-C <dir>`, `-c <setting>` and other options).
    spy.take()
}

#[cfg(unix)]
fn five_git_processes_for_two_files_or_six_hundred() {
    let expected = [
        "rev-parse", // Repo::discover
        "ls-tree",
        "rev-parse",
        "read-tree",
        "add",
        "write-tree",
    ];
    assert_eq!(processes(2), expected);
    assert_eq!(processes(600), expected);
}

/// Run by the test above with the wrapper on `PATH`: one `tree_with` replacing every
/// package's `VERSION` and adding its changelog.
fn child() {
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is set"));
    let files: usize = var("HUB_TREE_FILES").parse().expect("a number");
    let repo = hub_git::Repo::discover(var("HUB_TREE_REPO")).expect("a repository");
    let edits: Vec<(String, Vec<u8>)> = (0..files)
        .flat_map(|i| {
            [
                (format!("packages/p{i:04}/VERSION"), b"1.1.0\n".to_vec()),
                (
                    format!("packages/p{i:04}/CHANGELOG.md"),
                    b"## 1.1.0\n".to_vec(),
                ),
            ]
        })
        .collect();
    let files: Vec<(&str, &[u8])> = edits
        .iter()
        .map(|(p, b)| (p.as_str(), b.as_slice()))
        .collect();
    let tree = repo
        .tree_with(&var("HUB_TREE_BASE"), &files, hub_git::Objects::Scratch)
        .expect("a tree");
    assert_eq!(tree.len(), 40);
}

fn main() {
    if std::env::var_os("HUB_TREE_REPO").is_some() {
        child();
        return;
    }
    #[cfg(unix)]
    {
        five_git_processes_for_two_files_or_six_hundred();
        println!("test five_git_processes_for_two_files_or_six_hundred ... ok");
    }
    #[cfg(not(unix))]
    println!("tree_processes: the git wrapper is a shell script; Unix only");
}
