//! `Repo::tree_with` starts the same five git processes for 2 files and for 600: counted by
//! a `git` wrapper first on `PATH` that logs each process. `PATH` is the child's own (this
//! binary run again, in its child mode), so no other test sees the wrapper. The binary has
//! its own `main` (`harness = false` in Cargo.toml): the child is not a test of its own, so
//! nothing is ever reported as ignored.

#[cfg(unix)]
use std::path::{Path, PathBuf};
#[cfg(unix)]
use std::process::Command;

#[cfg(unix)]
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Ada")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_COMMITTER_NAME", "Ada")
        .env("GIT_COMMITTER_EMAIL", "ada@example.com")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {:?}", out.stderr);
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .trim_end()
        .to_string()
}

#[cfg(unix)]
fn real_git() -> PathBuf {
    let path = std::env::var_os("PATH").expect("PATH is set");
    std::env::split_paths(&path)
        .map(|d| d.join("git"))
        .find(|p| p.is_file())
        .expect("git on PATH")
}

/// The git subcommands one `tree_with` of `files` files starts.
#[cfg(unix)]
fn processes(files: usize) -> Vec<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path().join("repo");
    std::fs::create_dir(&repo).expect("mkdir");
    git(&repo, &["init", "-q", "-b", "main"]);
    for i in 0..files {
        let path = repo.join(format!("packages/p{i:04}/VERSION"));
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, "1.0.0\n").expect("write");
    }
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "--allow-empty", "-m", "start"]);
    let base = git(&repo, &["rev-parse", "HEAD"]);
    // The wrapper: logs the subcommand (the first argument after `-C <dir>` and global
    // options), then runs the real git.
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).expect("mkdir");
    let log = dir.path().join("git.log");
    let wrapper = bin.join("git");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            real_git().display()
        ),
    )
    .expect("write the wrapper");
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let path = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(
        &std::env::var_os("PATH").expect("PATH is set"),
    )))
    .expect("a PATH");
    let out = Command::new(std::env::current_exe().expect("this test binary"))
        .env("PATH", path)
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
    let logged = std::fs::read_to_string(&log).expect("the wrapper's log");
    // The subcommand: the first word after `-C <dir>`, `-c <setting>` and other options.
    logged
        .lines()
        .map(|l| {
            let mut words = l.split(' ');
            let mut subcommand = String::new();
            while let Some(word) = words.next() {
                match word {
                    "-C" | "-c" => {
                        words.next();
                    }
                    w if w.starts_with('-') => {}
                    w => {
                        subcommand = w.to_string();
                        break;
                    }
                }
            }
            subcommand
        })
        .collect()
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
