//! Planning: from the request and the facts read for it, the next version, its tag, the
//! release notes and what to write (the tag, the GitHub release, the major tag, the pull
//! request comment). Pure — no file, process, network or environment — so the plan is a
//! value that `--dry-run` prints, a run carries out and the tests check.

use anyhow::{Context, Result};
use hub_changelog::{Author, Layout, Links, ReleaseCommit, ReleaseInput, render_releases};
use hub_conventional::semver::Version;
use hub_conventional::{Decision, RawCommit, ReleaseOptions, TagPattern, analyze, decide};
use hub_git::Commit;

use crate::facts::PackageFacts;
use crate::request::{Asked, Request};
use hub_release::packages::{self, Package};
use hub_release::releases::LastRelease;

/// One release range's plan.
pub struct Plan<'a> {
    /// The release the range starts from.
    pub last: &'a LastRelease,
    /// The next version, and why.
    pub decision: Decision<'a>,
    /// The next version's tag (`None`: nothing to release).
    pub next_tag: Option<String>,
    /// The release notes of the next version (empty when there is none).
    pub notes: String,
    /// The `require-conventional` section of the summary and comment (empty when all is
    /// well).
    pub lint: String,
    /// What to write, in order.
    pub writes: Writes<'a>,
}

/// What a run writes to git and GitHub; a dry run says each instead.
#[derive(Debug, PartialEq, Eq)]
pub struct Writes<'a> {
    /// The commit the tags and the release point at (`to`).
    pub at: &'a str,
    /// `create-tag`: the annotated tag of the next version at `at`.
    pub tag: Option<String>,
    /// `create-release`.
    pub release: Option<Release>,
    /// `update-major-tag`: the major tag moved to `at` (`v1`).
    pub major_tag: Option<String>,
    /// `comment`: the pull request's preview comment.
    pub comment: bool,
}

/// The GitHub release to create or find.
#[derive(Debug, PartialEq, Eq)]
pub enum Release {
    /// Create (or update) the release of the next version.
    Create {
        tag: String,
        version: Version,
        draft: bool,
    },
    /// `to` is already released (a re-run): report that release's URL, change nothing.
    Existing { tag: Option<String> },
}

impl Writes<'_> {
    /// Whether anything goes to GitHub (and so a token is needed).
    pub fn github(&self) -> bool {
        self.release.is_some() || self.major_tag.is_some() || self.comment
    }

    /// What a dry run prints for the git tag (`None`: no tag to create).
    pub fn describe_tag(&self) -> Option<String> {
        let tag = self.tag.as_deref()?;
        Some(format!(
            "dry run: would create tag {tag} at {}",
            &self.at[..self.at.len().min(12)]
        ))
    }

    /// What a dry run prints for the GitHub writes, in the order a run makes them.
    pub fn describe_github(&self) -> Vec<String> {
        let mut lines = Vec::new();
        match &self.release {
            Some(Release::Create { tag, draft, .. }) => lines.push(format!(
                "dry run: would create or update the GitHub release of {tag}{}",
                if *draft { " (a draft)" } else { "" }
            )),
            Some(Release::Existing { tag: Some(tag) }) => lines.push(format!(
                "dry run: would look up the GitHub release of {tag} (already released: nothing to create)"
            )),
            Some(Release::Existing { tag: None }) => lines.push(
                "dry run: would look up the GitHub release (already released: nothing to create)"
                    .into(),
            ),
            None => {}
        }
        if let Some(major) = &self.major_tag {
            lines.push(format!(
                "dry run: would move the major tag {major} to {}",
                &self.at[..self.at.len().min(12)]
            ));
        }
        if self.comment {
            lines.push("dry run: would update the pull request comment".into());
        }
        lines
    }
}

/// The plan of one release range: `commits` are the range's (newest first), `lint` the
/// `require-conventional` section, `comment` whether a pull request comment may be written
/// (not per package).
pub fn release<'a>(
    request: &Request,
    pattern: &TagPattern,
    last: &'a LastRelease,
    to: &'a str,
    commits: &[Commit<'a>],
    lint: String,
    comment: bool,
) -> Result<Plan<'a>> {
    let options = &request.options;
    release_with(request, options, pattern, last, to, commits, lint, comment)
}

/// [`release`] with other release options (a linked group's version as `release_as`).
#[expect(
    clippy::too_many_arguments,
    reason = "release's arguments and the options it otherwise takes from the request"
)]
fn release_with<'a>(
    request: &Request,
    options: &ReleaseOptions,
    pattern: &TagPattern,
    last: &'a LastRelease,
    to: &'a str,
    commits: &[Commit<'a>],
    lint: String,
    comment: bool,
) -> Result<Plan<'a>> {
    let raw: Vec<RawCommit<'a>> = commits
        .iter()
        .map(|c| RawCommit {
            id: c.id,
            message: c.message,
        })
        .collect();
    let analyzed = analyze(&raw, &request.rules);
    let decision = decide(&analyzed, last.version.as_ref(), &last.known, options)?;
    let next_tag = decision.next.as_ref().map(|v| pattern.format(v));

    // Release notes for the range, from the same analysis (one classification).
    let notes = match &decision.next {
        Some(next) => {
            let release = ReleaseInput {
                version: Some(next.clone()),
                tag: next_tag.clone(),
                previous_tag: last.tag.clone(),
                commits: analyzed
                    .iter()
                    .zip(commits)
                    .map(|(commit, c)| ReleaseCommit {
                        commit: commit.clone(),
                        author: Author {
                            name: c.author_name,
                            email: c.author_email,
                            login: None,
                        },
                    })
                    .collect(),
                ..ReleaseInput::default()
            };
            notes(release, request.links.clone())?
        }
        None => String::new(),
    };
    let writes = writes(
        request.writes,
        request.pull_request_event && comment,
        last,
        &decision,
        next_tag.as_deref(),
        pattern,
        to,
    );
    Ok(Plan {
        last,
        decision,
        next_tag,
        notes,
        lint,
        writes,
    })
}

fn notes(release: ReleaseInput<'_>, links: Option<Links>) -> Result<String> {
    let config = hub_changelog::Config {
        links,
        ..hub_changelog::Config::default()
    };
    Ok(render_releases(&[release], &config, &Layout::GitHub)?)
}

/// What to write: the tag when there is a next version, the release when there is one or
/// `to` is the last release (a re-run), the major tag for a stable version, the comment on
/// a pull request.
fn writes<'a>(
    asked: Asked,
    pull_request: bool,
    last: &LastRelease,
    decision: &Decision<'_>,
    next_tag: Option<&str>,
    pattern: &TagPattern,
    to: &'a str,
) -> Writes<'a> {
    let released_here = last.commit.as_deref() == Some(to);
    let release = match (next_tag, &decision.next) {
        _ if !asked.release => None,
        (Some(tag), Some(version)) => Some(Release::Create {
            tag: tag.to_string(),
            version: version.clone(),
            draft: asked.draft,
        }),
        _ if released_here => Some(Release::Existing {
            tag: last.tag.clone(),
        }),
        _ => None,
    };
    let stable = decision.next.as_ref().filter(|v| v.pre.is_empty());
    Writes {
        at: to,
        tag: next_tag.filter(|_| asked.tag).map(String::from),
        release,
        major_tag: stable
            .filter(|_| asked.major_tag)
            .map(|v| format!("{}{}", pattern.prefix, v.major)),
        comment: asked.comment && pull_request,
    }
}

/// A monorepo's plan: each package's plan from its own commits, in the config's order.
pub fn packages<'a>(
    request: &Request,
    facts: &'a PackageFacts,
) -> Result<Vec<(&'a Package, Plan<'a>)>> {
    let commits: Vec<Commit<'a>> = facts.log.iter().collect();
    let ids: Vec<&str> = commits.iter().map(|c| c.id).collect();
    let parents: Vec<Vec<&str>> = commits.iter().map(|c| c.parent_ids().collect()).collect();
    let pairs: Vec<(&Package, Option<&str>)> = facts
        .packages
        .iter()
        .zip(&facts.lasts)
        .map(|(p, l)| (p, l.commit.as_deref()))
        .collect();
    let assigned = packages::assign(&ids, &parents, &facts.files, &pairs);
    let mine: Vec<Vec<Commit<'a>>> = assigned
        .iter()
        .map(|picked| picked.iter().map(|&i| commits[i]).collect())
        .collect();
    let plan = |i: usize, options: &ReleaseOptions| {
        let package = &facts.packages[i];
        release_with(
            request,
            options,
            &package.pattern,
            &facts.lasts[i],
            &facts.to,
            &mine[i],
            String::new(),
            false,
        )
        .with_context(|| format!("package `{}`", package.name))
    };
    let mut plans = (0..facts.packages.len())
        .map(|i| plan(i, &request.options))
        .collect::<Result<Vec<_>>>()?;
    // Linked groups share the highest next version of their members (release-pr's rule):
    // a member below it is planned again with that version as its `release-as`.
    let groups: Vec<Option<&str>> = facts.packages.iter().map(|p| p.linked.as_deref()).collect();
    let own: Vec<Option<Version>> = plans.iter().map(|p| p.decision.next.clone()).collect();
    for (i, version) in packages::level(&groups, &own).into_iter().enumerate() {
        if version != own[i] {
            let options = ReleaseOptions {
                release_as: version,
                ..request.options.clone()
            };
            plans[i] = plan(i, &options)?;
        }
    }
    Ok(facts.packages.iter().zip(plans).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hub_conventional::{BumpRules, ReleaseOptions};

    use crate::lint::Requirement;

    const TO: &str = "3333333333333333333333333333333333333333";
    const TAGGED: &str = "1111111111111111111111111111111111111111";

    fn request(writes: Asked, pull_request_event: bool, options: ReleaseOptions) -> Request {
        Request {
            options,
            rules: BumpRules::default(),
            requirement: Requirement::default(),
            pattern: TagPattern::new("v"),
            dir: ".".into(),
            packages: None,
            links: None,
            pull_request_event,
            writes,
            dry_run: true,
            token: None,
        }
    }

    fn released(version: &str, commit: &str) -> LastRelease {
        let version = Version::parse(version).expect("a version");
        LastRelease {
            tag: Some(format!("v{version}")),
            commit: Some(commit.into()),
            known: vec![version.clone()],
            version: Some(version),
        }
    }

    fn commit<'a>(id: &'a str, message: &'a str) -> Commit<'a> {
        Commit {
            id,
            parents: TAGGED,
            author_name: "A U Thor",
            author_email: "author@example.com",
            message,
        }
    }

    const EVERYTHING: Asked = Asked {
        tag: true,
        release: true,
        draft: false,
        major_tag: true,
        comment: true,
    };

    #[test]
    fn a_fix_since_the_last_release_plans_its_tag_release_and_major_tag() {
        let request = request(EVERYTHING, false, ReleaseOptions::default());
        let last = released("1.4.2", TAGGED);
        let commits = [commit(TO, "fix(parser): read tabs")];
        let plan = release(
            &request,
            &request.pattern,
            &last,
            TO,
            &commits,
            String::new(),
            true,
        )
        .expect("a plan");
        assert_eq!(plan.next_tag.as_deref(), Some("v1.4.3"));
        assert!(plan.notes.contains("read tabs"), "{}", plan.notes);
        let version = Version::parse("1.4.3").expect("a version");
        assert_eq!(
            plan.writes,
            Writes {
                at: TO,
                tag: Some("v1.4.3".into()),
                release: Some(Release::Create {
                    tag: "v1.4.3".into(),
                    version,
                    draft: false,
                }),
                major_tag: Some("v1".into()),
                comment: false,
            }
        );
        // What `--dry-run` prints: the plan, write by write.
        assert_eq!(
            plan.writes.describe_tag().as_deref(),
            Some("dry run: would create tag v1.4.3 at 333333333333")
        );
        assert_eq!(
            plan.writes.describe_github(),
            [
                "dry run: would create or update the GitHub release of v1.4.3",
                "dry run: would move the major tag v1 to 333333333333"
            ]
        );
    }

    #[test]
    fn a_re_run_on_the_released_commit_finds_the_release_and_tags_nothing() {
        let request = request(EVERYTHING, false, ReleaseOptions::default());
        let last = released("1.4.2", TO);
        let plan = release(
            &request,
            &request.pattern,
            &last,
            TO,
            &[],
            String::new(),
            true,
        )
        .expect("a plan");
        assert_eq!(plan.next_tag, None);
        assert!(plan.notes.is_empty());
        assert_eq!(plan.writes.tag, None);
        assert_eq!(plan.writes.major_tag, None);
        assert_eq!(
            plan.writes.release,
            Some(Release::Existing {
                tag: Some("v1.4.2".into())
            })
        );
        assert_eq!(plan.writes.describe_tag(), None);
        // A dry run says the release is found, not made.
        assert_eq!(
            plan.writes.describe_github(),
            [
                "dry run: would look up the GitHub release of v1.4.2 (already released: nothing to create)"
            ]
        );
        // Elsewhere, with nothing to release, nothing is written at all.
        let elsewhere = release(
            &request,
            &request.pattern,
            &last,
            TAGGED,
            &[],
            String::new(),
            true,
        )
        .expect("a plan");
        assert!(!elsewhere.writes.github());
        assert!(elsewhere.writes.describe_github().is_empty());
    }

    #[test]
    fn a_prerelease_moves_no_major_tag_and_only_a_pull_request_gets_a_comment() {
        let options = ReleaseOptions {
            prerelease: Some("rc".into()),
            ..ReleaseOptions::default()
        };
        let on_pr = request(EVERYTHING, true, options);
        let last = released("1.4.2", TAGGED);
        let commits = [commit(TO, "feat: search")];
        let plan = release(
            &on_pr,
            &on_pr.pattern,
            &last,
            TO,
            &commits,
            String::new(),
            true,
        )
        .expect("a plan");
        assert_eq!(plan.next_tag.as_deref(), Some("v1.5.0-rc.0"));
        assert_eq!(plan.writes.major_tag, None);
        assert!(plan.writes.comment);
        assert_eq!(
            plan.writes.describe_github(),
            [
                "dry run: would create or update the GitHub release of v1.5.0-rc.0",
                "dry run: would update the pull request comment"
            ]
        );
        // A package's plan never comments, even on a pull request.
        let package = release(
            &on_pr,
            &on_pr.pattern,
            &last,
            TO,
            &commits,
            String::new(),
            false,
        )
        .expect("a plan");
        assert!(!package.writes.comment);
        // Nothing asked, nothing written.
        let quiet = request(Asked::default(), true, ReleaseOptions::default());
        let plan = release(
            &quiet,
            &quiet.pattern,
            &last,
            TO,
            &commits,
            String::new(),
            true,
        )
        .expect("a plan");
        assert_eq!(plan.next_tag.as_deref(), Some("v1.5.0"));
        assert_eq!(plan.writes.tag, None);
        assert!(!plan.writes.github());
    }
}
