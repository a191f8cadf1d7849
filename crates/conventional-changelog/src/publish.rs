//! Committing the updated changelog: with git (commit, then push to `origin`), or through
//! GitHub's Git Data API (blob, tree, commit, ref update), which makes a verified commit by
//! the token's identity and works where pushing from the runner is blocked.

use std::path::Path;

use anyhow::{Context, Result, bail};
use hub_git::Repo;
use hub_github::{FileCommit, Session, SessionError};
use hub_kit::{Env, Runner};

/// The ref that triggered the workflow (`refs/heads/main` on a push).
const GITHUB_REF: &str = "GITHUB_REF";

/// The identity of commits made on a runner that has none configured.
const BOT_NAME: &str = "github-actions[bot]";
const BOT_EMAIL: &str = "41898282+github-actions[bot]@users.noreply.github.com";

/// A commit made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Committed {
    /// Its id.
    pub sha: String,
    /// The branch it was pushed to (git: when there is an `origin`; API: always).
    pub pushed_to: Option<String>,
    /// Made through the GitHub API rather than by the local git.
    pub via_api: bool,
    /// For an API commit: whether the checkout was moved to it (a git commit is the
    /// checkout's own: always [`Checkout::Moved`]).
    pub checkout: Checkout,
}

/// The current branch, `None` on a detached HEAD.
fn current_branch(repo: &Repo) -> Option<String> {
    repo.run(["symbolic-ref", "--quiet", "--short", "HEAD"])
        .ok()
        .map(|out| String::from_utf8_lossy(&out).trim().to_owned())
        .filter(|b| !b.is_empty())
}

/// Commits `file` alone (other staged changes stay staged, uncommitted) with `message` on
/// the current branch, then pushes the branch to `origin` when there is one.
///
/// Everything is checked before the commit is made: a detached HEAD with an `origin` to
/// push to is refused rather than leaving a commit nobody will see.
pub fn commit_with_git(repo: &Repo, file: &Path, message: &str) -> Result<Committed> {
    let has_origin = repo.remote_url("origin").is_some();
    let branch = current_branch(repo);
    if has_origin && branch.is_none() {
        bail!(
            "cannot commit the changelog: HEAD is detached (a tag or pull-request checkout), so \
             there is no branch to push to; check out a branch, or leave `commit` off and \
             commit in a later step"
        );
    }

    // Runners often have no git identity: commit as the Actions bot rather than fail.
    let has_identity = ["GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"]
        .iter()
        .all(|v| repo.run(["var", v]).is_ok());
    let mut args: Vec<String> = Vec::new();
    if !has_identity {
        for c in [
            format!("user.name={BOT_NAME}"),
            format!("user.email={BOT_EMAIL}"),
        ] {
            args.push("-c".into());
            args.push(c);
        }
    }
    let path = file.as_os_str().to_string_lossy().into_owned();
    repo.run(["add", "--", &path])
        .with_context(|| format!("cannot stage `{path}`"))?;
    args.extend(
        ["commit", "--quiet", "-m", message, "--", &path]
            .iter()
            .map(|s| (*s).to_owned()),
    );
    repo.run(&args).context("cannot commit the changelog")?;
    let sha = repo.rev_parse("HEAD")?;

    let pushed_to = match (has_origin, branch) {
        (true, Some(branch)) => {
            repo.push("origin", &[format!("HEAD:refs/heads/{branch}")])
                .with_context(|| {
                    format!(
                        "committed {} but cannot push it to `origin` (branch `{branch}`); if the \
                         branch is protected, let a pull request carry the changelog",
                        &sha[..sha.len().min(12)]
                    )
                })?;
            Some(branch)
        }
        _ => None,
    };
    Ok(Committed {
        sha,
        pushed_to,
        via_api: false,
        checkout: Checkout::Moved,
    })
}

/// Commits `text` as `path` (relative to the repository root) on the branch through the
/// GitHub API: `GITHUB_API_URL`, `GITHUB_REPOSITORY`, the token (`token` input, else
/// `GITHUB_TOKEN`). The branch is `GITHUB_REF` when it names one, else the checkout's.
/// `None` when the branch already holds exactly this file. Then the checkout is brought to the
/// new commit ([`sync_checkout`]) when it can be; [`Committed::checkout`] says whether it was.
pub fn commit_with_api(
    env: &Env,
    token: Option<&str>,
    runner: &mut Runner,
    repo: &Repo,
    path: &str,
    text: &str,
    message: &str,
) -> Result<Option<Committed>> {
    let Session { client, config } = match hub_github::connect(env, token, runner) {
        Ok(session) => session,
        Err(SessionError::NoToken) => bail!(
            "`commit-via: api` needs a token: set the `token` input (for example \
             `${{{{ github.token }}}}` with `permissions: contents: write`) or `GITHUB_TOKEN`"
        ),
        Err(e) => return Err(e).context("cannot connect to GitHub"),
    };
    let repository = config
        .repository()
        .context("`commit-via: api` needs `GITHUB_REPOSITORY`")?
        .clone();
    let branch = env
        .get_non_empty(GITHUB_REF)
        .and_then(|r| r.strip_prefix("refs/heads/"))
        .map(str::to_owned)
        .or_else(|| current_branch(repo));
    let Some(branch) = branch else {
        bail!(
            "cannot commit the changelog: neither `GITHUB_REF` nor the checkout names a branch \
             (a tag or pull-request run); run on a branch, or leave `commit` off"
        );
    };
    let outcome = client
        .block_on(client.github().commit_files(
            &repository,
            &FileCommit {
                branch: branch.clone(),
                message: message.to_owned(),
                files: vec![(path.to_owned(), text.to_owned())],
                author: None,
            },
        ))
        .with_context(|| format!("cannot commit `{path}` to `{branch}` through the GitHub API"))?;
    if !outcome.created {
        return Ok(None);
    }
    let checkout = sync_checkout(repo, &branch, &outcome.sha, path);
    Ok(Some(Committed {
        sha: outcome.sha,
        pushed_to: Some(branch),
        via_api: true,
        checkout,
    }))
}

/// Whether the checkout was brought to the commit made through the API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Checkout {
    /// The branch (or the detached HEAD) now points at the commit; the file is committed.
    Moved,
    /// Left where it was, and why.
    NotMoved(String),
}

/// Brings the checkout to `sha`, the commit just made through the API on `branch` with
/// `path` (relative to the repository root) holding the text the working tree holds, so that
/// later steps see the committed file and a clean `git status`:
///
/// 1. the commit is fetched from `origin` (`git fetch origin <branch>`) when it is not here;
/// 2. the working tree's `path` must be byte for byte the committed one, and `sha` a
///    descendant of HEAD (a fast-forward);
/// 3. `path` is staged, `git read-tree -m -u HEAD <sha>` carries over what other commits in
///    between changed (refusing to overwrite local changes), and the branch is moved with
///    `git update-ref <ref> <sha> <old HEAD>` (which fails if HEAD moved meanwhile).
///
/// Anything that does not hold leaves the branch where it was and says why.
pub fn sync_checkout(repo: &Repo, branch: &str, sha: &str, path: &str) -> Checkout {
    match try_sync(repo, branch, sha, path) {
        Ok(()) => Checkout::Moved,
        Err(why) => Checkout::NotMoved(why),
    }
}

fn try_sync(repo: &Repo, branch: &str, sha: &str, path: &str) -> Result<(), String> {
    let head = repo
        .rev_parse("HEAD")
        .map_err(|e| format!("cannot read HEAD: {e}"))?;
    let local = current_branch(repo);
    if let Some(local) = &local
        && local != branch
    {
        return Err(format!(
            "the checkout is on branch `{local}`, the commit on `{branch}`"
        ));
    }
    if !repo.has_commit(sha) {
        if repo.remote_url("origin").is_none() {
            return Err(
                "the commit is not here and there is no `origin` remote to fetch it from".into(),
            );
        }
        let refspec = format!("refs/heads/{branch}");
        repo.run(["fetch", "--quiet", "--no-tags", "origin", refspec.as_str()])
            .map_err(|e| format!("cannot fetch `{branch}` from `origin`: {e}"))?;
        if !repo.has_commit(sha) {
            return Err(format!(
                "`origin`'s `{branch}` does not have the commit (yet)"
            ));
        }
    }
    match repo.is_ancestor(&head, sha) {
        Ok(true) => {}
        Ok(false) => {
            return Err(format!(
                "the commit does not descend from the checkout's HEAD {}",
                &head[..head.len().min(12)]
            ));
        }
        Err(e) => return Err(format!("cannot compare HEAD with the commit: {e}")),
    }
    let committed = repo
        .run(["rev-parse", "--verify", "--quiet", &format!("{sha}:{path}")])
        .map(|out| String::from_utf8_lossy(&out).trim().to_owned())
        .map_err(|_| format!("the commit has no `{path}`"))?;
    let here = repo
        .run(["hash-object", "--", path])
        .map(|out| String::from_utf8_lossy(&out).trim().to_owned())
        .map_err(|e| format!("cannot hash `{path}`: {e}"))?;
    if here != committed {
        return Err(format!(
            "`{path}` in the working tree differs from the committed one"
        ));
    }
    repo.run(["update-index", "--add", "--", path])
        .map_err(|e| format!("cannot stage `{path}`: {e}"))?;
    if let Err(e) = repo.run(["read-tree", "-m", "-u", head.as_str(), sha]) {
        // Put the index back as it was for the file; the working tree is untouched.
        let _ = repo.run(["reset", "-q", "--", path]);
        return Err(format!("cannot update the working tree to the commit: {e}"));
    }
    let message = "conventional-changelog: fast-forward to the commit made through the GitHub API";
    let moved = match &local {
        Some(b) => repo.run([
            "update-ref",
            "-m",
            message,
            &format!("refs/heads/{b}"),
            sha,
            head.as_str(),
        ]),
        None => repo.run([
            "update-ref",
            "--no-deref",
            "-m",
            message,
            "HEAD",
            sha,
            head.as_str(),
        ]),
    };
    moved.map_err(|e| format!("cannot move the branch: {e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use hub_testkit::git::Clock;

    use super::*;

    /// Each git run a minute after the last, across the tests: `work` and `hub` never make
    /// two commits with the same id by making the same change at the same time.
    static CLOCK: Clock = Clock::starting_at(1_700_000_000);

    /// Runs git in `dir` through `hub_testkit::git` (a fixed identity, no user
    /// configuration), new repositories on `main`; its output without the trailing newline.
    fn git(dir: &Path, args: &[&str]) -> String {
        let mut all = vec!["-c", "init.defaultBranch=main"];
        all.extend_from_slice(args);
        hub_testkit::git::line_at(dir, &all, &CLOCK.tick())
    }

    /// `origin` (bare), a checkout of it (`work`) and a second clone standing in for GitHub's
    /// side (`hub`), all at one commit on `main`.
    struct Setup {
        _dir: tempfile::TempDir,
        work: std::path::PathBuf,
        hub: std::path::PathBuf,
    }

    fn setup() -> Setup {
        let dir = tempfile::tempdir().expect("tempdir");
        let origin = dir.path().join("origin.git");
        let work = dir.path().join("work");
        let hub = dir.path().join("hub");
        git(
            dir.path(),
            &["init", "-q", "--bare", origin.to_str().expect("utf-8")],
        );
        git(
            dir.path(),
            &["clone", "-q", origin.to_str().expect("utf-8"), "work"],
        );
        std::fs::write(work.join("README.md"), "hello\n").expect("write");
        git(&work, &["add", "README.md"]);
        git(&work, &["commit", "-q", "-m", "feat: first"]);
        git(&work, &["push", "-q", "origin", "HEAD:refs/heads/main"]);
        git(
            dir.path(),
            &["clone", "-q", origin.to_str().expect("utf-8"), "hub"],
        );
        Setup {
            _dir: dir,
            work,
            hub,
        }
    }

    /// What GitHub does for `commit-via: api`: a commit of `text` as CHANGELOG.md on `main`.
    fn api_commit(s: &Setup, text: &str) -> String {
        std::fs::write(s.hub.join("CHANGELOG.md"), text).expect("write");
        git(&s.hub, &["add", "CHANGELOG.md"]);
        git(&s.hub, &["commit", "-q", "-m", "chore(release): 0.2.0"]);
        git(&s.hub, &["push", "-q", "origin", "HEAD:refs/heads/main"]);
        git(&s.hub, &["rev-parse", "HEAD"])
    }

    fn repo(s: &Setup) -> Repo {
        Repo::discover(&s.work).expect("a repository")
    }

    #[test]
    fn the_checkout_fast_forwards_to_the_api_commit() {
        let s = setup();
        const TEXT: &str = "# Changelog\n\n## 0.2.0\n";
        // Someone else's commit lands first: it comes along.
        std::fs::write(s.hub.join("README.md"), "hello again\n").expect("write");
        git(&s.hub, &["commit", "-q", "-am", "docs: readme"]);
        let sha = api_commit(&s, TEXT);
        std::fs::write(s.work.join("CHANGELOG.md"), TEXT).expect("write");

        assert_eq!(
            sync_checkout(&repo(&s), "main", &sha, "CHANGELOG.md"),
            Checkout::Moved
        );
        assert_eq!(git(&s.work, &["rev-parse", "HEAD"]), sha);
        assert_eq!(git(&s.work, &["symbolic-ref", "--short", "HEAD"]), "main");
        assert_eq!(git(&s.work, &["status", "--porcelain"]), "", "clean");
        assert_eq!(
            std::fs::read_to_string(s.work.join("README.md")).expect("read"),
            "hello again\n"
        );
        // Again: already there, nothing to do but still fine.
        assert_eq!(
            sync_checkout(&repo(&s), "main", &sha, "CHANGELOG.md"),
            Checkout::Moved
        );
        assert_eq!(git(&s.work, &["rev-parse", "HEAD"]), sha);
    }

    #[test]
    fn a_detached_head_moves_too() {
        let s = setup();
        git(&s.work, &["checkout", "-q", "--detach"]);
        let sha = api_commit(&s, "x\n");
        std::fs::write(s.work.join("CHANGELOG.md"), "x\n").expect("write");
        assert_eq!(
            sync_checkout(&repo(&s), "main", &sha, "CHANGELOG.md"),
            Checkout::Moved
        );
        assert_eq!(git(&s.work, &["rev-parse", "HEAD"]), sha);
        assert_eq!(git(&s.work, &["status", "--porcelain"]), "");
    }

    #[test]
    fn nothing_moves_when_it_would_lose_or_invent_something() {
        let not_moved = |c: Checkout, why: &str| match c {
            Checkout::NotMoved(reason) => assert!(reason.contains(why), "{reason}"),
            Checkout::Moved => panic!("moved, expected: {why}"),
        };

        // The working tree's file is not the committed one.
        let s = setup();
        let head = git(&s.work, &["rev-parse", "HEAD"]);
        let sha = api_commit(&s, "committed\n");
        std::fs::write(s.work.join("CHANGELOG.md"), "other\n").expect("write");
        not_moved(
            sync_checkout(&repo(&s), "main", &sha, "CHANGELOG.md"),
            "differs from the committed one",
        );
        assert_eq!(git(&s.work, &["rev-parse", "HEAD"]), head);

        // A local change to a file the commits in between change: refused, nothing lost.
        let s = setup();
        let head = git(&s.work, &["rev-parse", "HEAD"]);
        std::fs::write(s.hub.join("README.md"), "theirs\n").expect("write");
        git(&s.hub, &["commit", "-q", "-am", "docs: readme"]);
        let sha = api_commit(&s, "x\n");
        std::fs::write(s.work.join("CHANGELOG.md"), "x\n").expect("write");
        std::fs::write(s.work.join("README.md"), "mine\n").expect("write");
        not_moved(
            sync_checkout(&repo(&s), "main", &sha, "CHANGELOG.md"),
            "cannot update the working tree",
        );
        assert_eq!(git(&s.work, &["rev-parse", "HEAD"]), head);
        assert_eq!(
            git(&s.work, &["status", "--porcelain"]),
            " M README.md\n?? CHANGELOG.md",
            "the index is as it was"
        );
        assert_eq!(
            std::fs::read_to_string(s.work.join("README.md")).expect("read"),
            "mine\n"
        );

        // Another branch is checked out.
        let s = setup();
        git(&s.work, &["checkout", "-q", "-b", "topic"]);
        let sha = api_commit(&s, "x\n");
        not_moved(
            sync_checkout(&repo(&s), "main", &sha, "CHANGELOG.md"),
            "the checkout is on branch `topic`",
        );

        // A local commit the API commit does not descend from.
        let s = setup();
        let sha = api_commit(&s, "x\n");
        git(&s.work, &["commit", "-q", "--allow-empty", "-m", "local"]);
        std::fs::write(s.work.join("CHANGELOG.md"), "x\n").expect("write");
        not_moved(
            sync_checkout(&repo(&s), "main", &sha, "CHANGELOG.md"),
            "does not descend",
        );

        // No origin to fetch from.
        let s = setup();
        let sha = api_commit(&s, "x\n");
        git(&s.work, &["remote", "remove", "origin"]);
        not_moved(
            sync_checkout(&repo(&s), "main", &sha, "CHANGELOG.md"),
            "no `origin` remote",
        );
    }
}
