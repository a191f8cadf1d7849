//! Carrying a plan out: the file written (only when its bytes change, atomically), then
//! committed when `commit` asks and it changed — with git and a push, or through GitHub's
//! API.

use std::path::Path;

use anyhow::Result;
use hub_git::Repo;
use hub_kit::{Env, Runner};

use crate::args::CommitVia;
use crate::file;
use crate::plan::Plan;
use crate::publish::{self, Committed};
use crate::report::FileResult;
use crate::request::Request;

/// Writes the plan's text to the file, when there is one.
pub fn write(request: &Request, repo: &Repo, plan: &Plan<'_>) -> Result<FileResult> {
    let Some(text) = &plan.text else {
        return Ok(FileResult::NotWritten);
    };
    let outcome = file::update(&request.path, text)?;
    let shown = shown_path(repo, &request.path);
    Ok(match outcome {
        file::Outcome::Written => FileResult::Written(shown),
        file::Outcome::UpToDate => FileResult::UpToDate(shown),
    })
}

/// Commits the file when `commit` asks and it changed.
pub fn commit(
    request: &Request,
    repo: &Repo,
    plan: &Plan<'_>,
    file: &FileResult,
    token: Option<&str>,
    env: &Env,
    runner: &mut Runner,
) -> Result<Option<Committed>> {
    let (Some(via), Some(text), FileResult::Written(shown)) = (request.commit, &plan.text, file)
    else {
        return Ok(None);
    };
    let message = &plan.commit_message;
    match via {
        CommitVia::Git => Ok(Some(publish::commit_with_git(
            repo,
            &request.path,
            message,
        )?)),
        CommitVia::Api => publish::commit_with_api(env, token, runner, repo, shown, text, message),
    }
}

/// The file's path for outputs and messages: relative to the repository root when inside
/// it, else absolute.
fn shown_path(repo: &Repo, path: &Path) -> String {
    let root = repo.root().canonicalize().ok();
    let real = path
        .parent()
        .and_then(|p| p.canonicalize().ok())
        .zip(path.file_name())
        .map(|(p, name)| p.join(name));
    match (real, root) {
        (Some(real), Some(root)) => match real.strip_prefix(&root) {
            Ok(rel) => rel.display().to_string(),
            Err(_) => real.display().to_string(),
        },
        _ => path.display().to_string(),
    }
}
