//! Which version to roll back to: the `version` input, else the environment's last good
//! GitHub deployment, else the highest release tag below the current version. Pure: the
//! tags and deployments are read before.

use anyhow::{Result, anyhow};
use hub_conventional::semver::Version;
use hub_kit::md::code;

use crate::choose;
use crate::facts::Facts;
use crate::history::{self, Choice};
use crate::request::{Backend, Request};

/// The version to roll back to, why, and its ref.
pub struct Chosen {
    pub from: Option<Version>,
    pub to: Version,
    pub why: String,
    pub git_ref: String,
    pub deployments: Option<Choice>,
}

/// Chooses the version: the `version` input; else the last successful deployment of the
/// environment other than the current one; else the highest release tag below `from`.
/// `Ok(None)` when there is nothing to start from (no `from` and no deployment).
/// `use_tags` false leaves the tags out (helm's own history chooses instead); `usable` says
/// which versions can be rolled back to (for `releases-dir`, those with a directory).
pub fn choose_version(
    request: &Request,
    facts: &Facts,
    from: Option<Version>,
    use_tags: bool,
    usable: impl Fn(&Version) -> bool,
) -> Result<Option<Chosen>> {
    let deployments = facts
        .history
        .as_deref()
        .map(|h| history::decide(h, from.as_ref(), &request.pattern));
    let from = from.or_else(|| deployments.as_ref().and_then(|c| c.from.clone()));
    let tag = |v: &Version| format!("{}{v}", request.pattern.prefix);
    let good = deployments
        .as_ref()
        .and_then(|c| c.good.clone())
        .filter(|(_, _, v)| usable(v));
    let (to, why, git_ref) = match (&request.version, good, &from) {
        (Some(v), _, _) => (v.clone(), "input `version`".to_string(), tag(v)),
        (None, Some((_, git_ref, v)), _) => (
            v,
            format!(
                "last successful deployment of {}: {}",
                code(request.environment.as_deref().unwrap_or_default()),
                code(&git_ref)
            ),
            git_ref,
        ),
        (None, None, Some(from)) if use_tags => {
            let (v, why) = previous_tag(from, request, facts, usable)?;
            let git_ref = tag(&v);
            (v, why, git_ref)
        }
        (None, None, _) => return Ok(None),
    };
    Ok(Some(Chosen {
        from,
        to,
        why,
        git_ref,
        deployments,
    }))
}

/// The highest release tag below `from` that `usable` accepts.
fn previous_tag(
    from: &Version,
    request: &Request,
    facts: &Facts,
    usable: impl Fn(&Version) -> bool,
) -> Result<(Version, String)> {
    let tags = facts.tags.as_ref().map_err(|e| anyhow!("{e}"))?;
    let candidates = choose::candidates(tags.iter().map(String::as_str), &request.pattern);
    let prev = choose::previous(from, &candidates, |c| usable(&c.version)).ok_or_else(|| {
        anyhow!(
            "no earlier release to roll back to: no stable release tag `{}<version>` below `{from}`{}{}",
            request.pattern.prefix,
            match request.backend {
                Backend::ReleasesDir { .. } => " with a release directory",
                _ => "",
            },
            facts
                .tags_note
                .as_ref()
                .map(|note| format!("; {note}"))
                .unwrap_or_default()
        )
    })?;
    Ok((
        prev.version.clone(),
        format!("previous release tag {}", code(&prev.tag)),
    ))
}
