//! What planning needs to know, read before it plans: the commits (one range, or the whole
//! history split at the release tags), where links point, the authors' GitHub logins when
//! asked, and the changelog file as it is. The reads change nothing.

use std::collections::HashMap;

use anyhow::Result;
use hub_git::Repo;
use hub_kit::{Annotation, Env, Runner};

use crate::args::{Args, Authors, Mode};
use crate::history::{self, History};
use crate::links::{self, Resolved};
use crate::request::Request;
use crate::{authors, file};

/// Everything the plan is made from.
pub struct Facts {
    /// The repository.
    pub repo: Repo,
    /// Where links point, and which source decided.
    pub links: Resolved,
    /// The commits and the releases they form (newest first).
    pub history: History,
    /// Lower-case author e-mails to GitHub logins (empty unless `authors: login`).
    pub logins: HashMap<String, String>,
    /// The changelog file's text when the new section goes into it (`mode: prepend`; a
    /// missing file is empty).
    pub existing: Option<String>,
}

/// Reads the facts, logging the range and where links point.
pub fn read(request: &Request, args: &Args, env: &Env, runner: &mut Runner) -> Result<Facts> {
    // git's message names the directory; the action calls this input `working-directory`
    // and the command line `--repository-path`, so it names neither.
    let repo = Repo::discover(&request.dir)?;
    let links = links::resolve(args.repo_url.as_deref(), env, || repo.remote_url("origin"))
        .map_err(hub_kit::cli::usage)?;

    // The commits: one range, or the whole history split at the release tags.
    let range = history::Request {
        pattern: &request.pattern,
        from: args.from.as_deref(),
        to: &args.to,
        release_version: request.release_version.as_ref(),
        paths: &args.path,
        today: &request.today,
    };
    let history = match request.mode {
        Mode::Overwrite => history::full(&repo, &range)?,
        Mode::Prepend | Mode::None => history::range(&repo, &range)?,
    };
    runner.info(&format!("range: {}", history.description))?;
    match &links.links {
        Some(l) => runner.info(&format!("links: {} (from {})", l.repo_url(), links.source))?,
        None => runner.info(&format!("links: none ({})", links.source))?,
    }

    // Who wrote them, when asked: GitHub logins, one API request per unique e-mail.
    let logins = match args.authors {
        Authors::Login => {
            let rendered = if request.mode == Mode::Overwrite || args.context {
                &history.releases[..]
            } else {
                &history.releases[..1]
            };
            let indexes: Vec<usize> = rendered.iter().flat_map(|p| p.commits.clone()).collect();
            let found =
                authors::resolve(env, args.token.as_deref(), runner, &history.log, &indexes);
            runner.info(&format!(
                "authors: {} login(s) found ({} from noreply e-mails, {} API request(s))",
                found.by_email.len(),
                found.from_noreply,
                found.requests
            ))?;
            if let Some(w) = &found.warning {
                runner.warning(w, &Annotation::default())?;
            }
            found.by_email
        }
        Authors::None | Authors::Name => HashMap::new(),
    };

    let existing = match (request.mode, args.context) {
        (Mode::Prepend | Mode::Overwrite, false) => Some(file::read(&request.path)?),
        _ => None,
    };
    Ok(Facts {
        repo,
        links,
        history,
        logins,
        existing,
    })
}
