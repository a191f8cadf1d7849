//! Carrying a plan out: the pull request's branch rebuilt from the base and its one
//! commit, the pull request opened, edited or closed; or a merged one's tags, releases and
//! major tags. Every write is idempotent: a re-run finds what the first run made.

use anyhow::{Result, bail};
use hub_git::Repo;
use hub_github::NewPullRequest;
use hub_kit::Runner;

use crate::github::GitHub;
use crate::plan::{self, PullAction};
use crate::report::{PullRun, Released};
use crate::request::{CommitVia, Request};
use crate::{body, files};

/// Makes one release pull request's writes.
pub fn pull(
    request: &Request,
    gh: &GitHub,
    repo: &Repo,
    run: &mut PullRun,
    runner: &mut Runner,
) -> Result<()> {
    if let PullAction::Close { number, comment } = &run.action {
        gh.close(*number, comment)?;
        runner.info(&format!("closed release pull request #{number}"))?;
        return Ok(());
    }
    let Some(content) = &run.content else {
        return Ok(());
    };
    if run.action.pushes() {
        let sha = match request.commit_via {
            CommitVia::Git => {
                let tree = files::tree(repo, &content.base_sha, &content.files, true)?;
                files::commit_and_push(
                    repo.root(),
                    &content.base_sha,
                    &tree,
                    &content.message,
                    &content.branch,
                )?
            }
            CommitVia::Graphql | CommitVia::GitData => {
                push_via_api(request, gh, repo, run, content, runner)?
            }
        };
        runner.info(&format!(
            "pushed {} to branch {}",
            &sha[..sha.len().min(12)],
            content.branch
        ))?;
        run.head_sha = Some(sha);
    }
    match &run.action {
        PullAction::Open { .. } => {
            let created = gh.open(&NewPullRequest {
                title: content.title.clone(),
                body: content.body.clone(),
                head: content.branch.clone(),
                base: content.base.clone(),
                draft: false,
            })?;
            runner.info(&format!(
                "opened release pull request #{}: {}",
                created.number, created.html_url
            ))?;
            gh.label(created.number, &request.labels)?;
            run.open = Some(plan::OpenPull {
                number: created.number,
                url: created.html_url,
                title: created.title,
                body: created.body,
            });
        }
        PullAction::Refresh { number, .. } => {
            let open = run.open.as_ref();
            let differs = open.is_none_or(|o| o.title != content.title || o.body != content.body);
            if differs {
                gh.edit(*number, &content.title, &content.body)?;
            }
            runner.info(&format!("refreshed release pull request #{number}"))?;
        }
        _ => {}
    }
    Ok(())
}

/// Rebuilds the branch from the base through the API: the branch reset to the base only
/// while it still holds the head the plan read (`run.head_sha`; `None`: no branch yet) — GraphQL
/// `updateRefs` with `beforeOid`, [`GitHub::reset_branch`] — then the one commit on it, made
/// only while the branch still points at the base (GraphQL's `expectedHeadOid`; through the
/// Git Data API, the head read again and a fast-forward-only update: [`GitHub::commit`]).
///
/// A push to the branch before the reset or between the reset and the commit (GitHub
/// refuses: [`hub_github::Error::StaleHead`]) gets one more try, after the branch's head is
/// read again: a head this action made (a concurrent run) is replaced — the content is
/// computed from the same base — and a person's commit is not, unless `force`. A second
/// refusal fails the run: something keeps pushing.
fn push_via_api(
    request: &Request,
    gh: &GitHub,
    repo: &Repo,
    run: &PullRun,
    content: &plan::Content,
    runner: &mut Runner,
) -> Result<String> {
    let (key, read) = (run.key.as_str(), run.head_sha.as_deref());
    // The bytes git would store (its filters applied), so that the commit has the tree the
    // plan compared with the branch's (the plan keeps them: `files::tree_and_stored`); and the
    // files that are executables in the base, which the Git Data API writes with their mode.
    let stored = match &run.stored {
        Some(stored) => stored.clone(),
        None => files::tree_and_stored(repo, &content.base_sha, &content.files)?.1,
    };
    let executable = files::executables(repo, &content.base_sha, &content.files)?;
    // `createCommitOnBranch` has no file mode (`FileAddition` is a path and contents) and
    // writes regular files: an executable would lose its bit, so that commit goes through the
    // Git Data API, unsigned, and the run says so.
    let via = if request.commit_via == CommitVia::Graphql && !executable.is_empty() {
        runner.warning(
            &format!(
                "{} executable (mode 100755) in `{}`: GraphQL `createCommitOnBranch` cannot keep \
                 a file's executable bit, so this commit is made through the Git Data API and is \
                 not signed by GitHub (set `commit-via: git-data` to say so, or `commit-via: git` \
                 to sign it yourself)",
                executable
                    .iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                content.base
            ),
            &hub_kit::Annotation::default(),
        )?;
        CommitVia::GitData
    } else {
        request.commit_via
    };
    let rebuild = |gh: &GitHub, before: Option<&str>, runner: &mut Runner| -> Result<String> {
        gh.reset_branch(&content.branch, &content.base_sha, before, runner)?;
        if content.files.is_empty() {
            return Ok(content.base_sha.clone());
        }
        gh.commit(
            &content.branch,
            &content.base_sha,
            &content.message,
            stored.clone(),
            executable.clone(),
            via,
        )
    };
    let first = rebuild(gh, read, runner);
    if !first.as_ref().is_err_and(is_stale) {
        return first;
    }
    let head = gh.branch_head(&content.branch)?;
    let moved_to = head
        .as_ref()
        .map_or("nothing (deleted)", |h| h.sha.as_str());
    if let Some(h) = &head
        && h.sha != content.base_sha
        && !body::is_own_commit(&h.message, key)
        && !request.force
    {
        bail!(
            "branch `{}` moved during this run to commit {} that this action did not make (a person \
             pushed to it): it is not overwritten. Move those changes to another branch, or set \
             `force: true` to rebuild the release pull request from `{}`",
            content.branch,
            h.sha,
            content.base
        );
    }
    runner.warning(
        &format!(
            "branch `{}` moved during this run (to {moved_to}): another run of release-pr pushed \
             to it; rebuilding it once more from `{}`",
            content.branch, content.base
        ),
        &hub_kit::Annotation::default(),
    )?;
    let second = rebuild(gh, head.as_ref().map(|h| h.sha.as_str()), runner);
    if second.as_ref().is_err_and(is_stale) {
        bail!(
            "branch `{}` moved again while this run rebuilt it: a concurrent run of release-pr or a \
             person keeps pushing to it. Give the workflow a `concurrency:` group (`concurrency: \
             release-pr`) so that its runs do not overlap, and run it again",
            content.branch
        );
    }
    second
}

/// Whether GitHub refused a commit because its branch moved.
fn is_stale(e: &anyhow::Error) -> bool {
    matches!(
        e.downcast_ref::<hub_github::Error>(),
        Some(hub_github::Error::StaleHead { .. })
    )
}

/// Makes one release: the tag, the GitHub release, the major tag.
pub fn release(gh: &GitHub, release: plan::Release, runner: &mut Runner) -> Result<Released> {
    let tag_created = gh.tag(&release.tag, &release.at)?;
    runner.info(&format!(
        "{} tag {} at {}",
        if tag_created { "created" } else { "found" },
        release.tag,
        &release.at[..release.at.len().min(12)]
    ))?;
    let (url, new) = gh.release(
        &release.tag,
        &release.at,
        &release.notes,
        release.draft,
        !release.version.pre.is_empty(),
    )?;
    runner.info(&format!(
        "{} release {}: {url}",
        if new { "created" } else { "found" },
        release.tag
    ))?;
    if let Some(major) = &release.major_tag
        && gh.move_tag(major, &release.at)?
    {
        runner.info(&format!(
            "moved {major} to {}",
            &release.at[..12.min(release.at.len())]
        ))?;
    }
    Ok(Released {
        url: Some(url),
        created: tag_created || new,
        release,
    })
}
