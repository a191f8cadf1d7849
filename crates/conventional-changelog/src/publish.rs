//! Committing the updated changelog: with git (commit, then push to `origin`), or through
//! GitHub's Git Data API (blob, tree, commit, ref update), which makes a verified commit by
//! the token's identity and works where pushing from the runner is blocked.

use std::path::Path;

use anyhow::{Context, Result, bail};
use hub_git::Repo;
use hub_github::{BlockingGitHub, FileCommit, GitHubConfig};
use hub_kit::Env;

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
    })
}

/// Commits `text` as `path` (relative to the repository root) on the branch through the
/// GitHub API: `GITHUB_API_URL`, `GITHUB_REPOSITORY`, the token (`token` input, else
/// `GITHUB_TOKEN`). The branch is `GITHUB_REF` when it names one, else the checkout's.
/// `None` when the branch already holds exactly this file. The local checkout is not moved.
pub fn commit_with_api(
    env: &Env,
    token: Option<&str>,
    repo: &Repo,
    path: &str,
    text: &str,
    message: &str,
) -> Result<Option<Committed>> {
    let config = GitHubConfig::from_env(&|name: &str| env.get(name).map(str::to_owned))
        .context("cannot read the GitHub configuration")?
        .with_token_input(token);
    if config.token.is_none() {
        bail!(
            "`commit-via: api` needs a token: set the `token` input (for example \
             `${{{{ github.token }}}}` with `permissions: contents: write`) or `GITHUB_TOKEN`"
        );
    }
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
    let client = BlockingGitHub::new(&config).context("cannot start the GitHub client")?;
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
    Ok(outcome.created.then_some(Committed {
        sha: outcome.sha,
        pushed_to: Some(branch),
        via_api: true,
    }))
}
