//! Committing the updated changelog and pushing it to `origin` with git.

use std::path::Path;

use anyhow::{Context, Result, bail};
use hub_git::Repo;

/// The identity of commits made on a runner that has none configured.
const BOT_NAME: &str = "github-actions[bot]";
const BOT_EMAIL: &str = "41898282+github-actions[bot]@users.noreply.github.com";

/// A commit made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Committed {
    /// Its id.
    pub sha: String,
    /// The branch it was pushed to, when there is an `origin`.
    pub pushed_to: Option<String>,
}

/// Commits `file` alone (other staged changes stay staged, uncommitted) with `message` on
/// the current branch, then pushes the branch to `origin` when there is one.
///
/// Everything is checked before the commit is made: a detached HEAD with an `origin` to
/// push to is refused rather than leaving a commit nobody will see.
pub fn commit_with_git(repo: &Repo, file: &Path, message: &str) -> Result<Committed> {
    let has_origin = repo.remote_url("origin").is_some();
    let branch = match repo.run(["symbolic-ref", "--quiet", "--short", "HEAD"]) {
        Ok(out) => Some(String::from_utf8_lossy(&out).trim().to_owned()),
        Err(_) => None,
    };
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
    Ok(Committed { sha, pushed_to })
}
