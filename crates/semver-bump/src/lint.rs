//! `require-conventional`: the pull request's title (the commit message a squash merge
//! writes) and/or every commit it brings (what a merge or rebase merge keeps) must be
//! Conventional Commits, or the step fails with an explanation of how to fix it — in the
//! log, as annotations, in the step summary and in the sticky PR comment.

use std::str::FromStr;

use anyhow::{Context, Result};
use hub_conventional::{BumpRules, Commit, Kind, RawCommit, analyze};
use hub_git::{Range, Repo};
use hub_github::Event;
use hub_kit::Runner;
use hub_kit::cli::UsageError;
use hub_kit::command::Annotation;
use hub_kit::md::{Cell, Markdown};

/// What must be a Conventional Commit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Requirement {
    /// The pull request's title.
    pub title: bool,
    /// Every commit of the pull request (or, outside one, of the release range).
    pub commits: bool,
}

impl FromStr for Requirement {
    type Err = UsageError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut r = Requirement::default();
        for word in s
            .split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|w| !w.is_empty())
        {
            match word {
                "none" => {}
                "title" => r.title = true,
                "commits" => r.commits = true,
                other => {
                    return Err(UsageError(format!(
                        "input `require-conventional`: unknown value `{other}`; expected `none`, `title`, `commits` or `title,commits`"
                    )));
                }
            }
        }
        Ok(r)
    }
}

impl Requirement {
    /// Whether anything is required.
    pub fn any(self) -> bool {
        self.title || self.commits
    }
}

/// What is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    /// The pull request's title.
    Title,
    /// A commit, by its full id.
    Commit(String),
}

/// A title or commit that is not a Conventional Commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub subject: Subject,
    /// The title, or the commit's first line (untrusted text).
    pub summary: String,
    /// What is wrong with it.
    pub problem: &'static str,
}

fn short(id: &str) -> &str {
    &id[..id.len().min(7)]
}

/// Checks what `req` asks for. `release_range` are the commits of the release range, used
/// for `commits` outside a pull request.
pub fn check(
    req: Requirement,
    event: Option<&Event>,
    repo: &Repo,
    release_range: &[(String, String)],
    runner: &mut Runner,
) -> Result<Vec<Violation>> {
    let mut found = Vec::new();
    let pr = match event {
        Some(Event::PullRequest(pr)) => Some(pr),
        _ => None,
    };
    if req.title {
        match pr {
            Some(pr) => {
                if let Err(e) = Commit::parse(&pr.title) {
                    found.push(Violation {
                        subject: Subject::Title,
                        summary: pr.title.lines().next().unwrap_or_default().to_string(),
                        problem: e.kind.message(),
                    });
                }
            }
            None => runner.info(
                "require-conventional: not a pull request event, so there is no title to check",
            )?,
        }
    }
    if req.commits {
        let commits: Vec<(String, String)> = match pr {
            Some(pr) => {
                let range = Range::since(Some(&pr.base_sha), &pr.head_sha);
                repo.log(&range, &[])
                    .with_context(|| {
                        format!(
                            "cannot read the pull request's commits {}..{}: check out with `fetch-depth: 0` so both are in the clone",
                            short(&pr.base_sha),
                            short(&pr.head_sha)
                        )
                    })?
                    .iter()
                    .map(|c| (c.id.to_string(), c.message.to_string()))
                    .collect()
            }
            None => release_range.to_vec(),
        };
        let raw: Vec<RawCommit<'_>> = commits
            .iter()
            .map(|(id, message)| RawCommit { id, message })
            .collect();
        for c in analyze(&raw, &BumpRules::default()) {
            if let (Kind::NonConventional, Err(e)) = (c.kind, &c.parsed) {
                found.push(Violation {
                    subject: Subject::Commit(c.id.to_string()),
                    summary: c.summary.to_string(),
                    problem: e.kind.message(),
                });
            }
        }
    }
    Ok(found)
}

const FORMAT: &str = "Write it as `type(scope): description` — e.g. `feat(api): add search`, \
                      `fix: handle an empty config` or `feat!: drop Node 16` (a `!` marks a \
                      breaking change). See <https://www.conventionalcommits.org/en/v1.0.0/>.";

/// Annotations and log lines, one per violation.
pub fn annotate(violations: &[Violation], runner: &mut Runner) -> Result<()> {
    for v in violations {
        let (title, what) = match &v.subject {
            Subject::Title => (
                "PR title".to_string(),
                "The pull request title is not a Conventional Commit".to_string(),
            ),
            Subject::Commit(id) => (
                format!("commit {}", short(id)),
                format!("Commit {} is not a Conventional Commit", short(id)),
            ),
        };
        let at = Annotation {
            title: Some(title),
            ..Annotation::default()
        };
        runner.error(&format!("{what} ({}): {}", v.problem, v.summary), &at)?;
    }
    Ok(())
}

/// The Markdown section for the summary and the PR comment: what is wrong, and how to fix
/// it. Empty when nothing is.
pub fn section(violations: &[Violation]) -> String {
    if violations.is_empty() {
        return String::new();
    }
    let mut md = Markdown::new();
    md.heading(3, "Not a Conventional Commit: fix before merging");
    let title: Vec<&Violation> = violations
        .iter()
        .filter(|v| v.subject == Subject::Title)
        .collect();
    let commits: Vec<&Violation> = violations
        .iter()
        .filter(|v| v.subject != Subject::Title)
        .collect();
    if let Some(v) = title.first() {
        md.paragraph(&format!(
            "**The pull request title** “{}” — {}. A squash merge uses the title as the \
             commit message, so it decides the release: edit the title. {FORMAT}",
            hub_kit::md::escape(&v.summary),
            v.problem
        ));
    }
    if !commits.is_empty() {
        md.paragraph(&format!(
            "**{} commit(s)** of this pull request are not Conventional Commits. A merge keeps \
             every commit: reword them (`git rebase -i` with `reword`, then \
             `git push --force-with-lease`), or squash-merge with a Conventional title. {FORMAT}",
            commits.len()
        ));
        let rows: Vec<Vec<Cell>> = commits
            .iter()
            .map(|v| {
                let id = match &v.subject {
                    Subject::Commit(id) => short(id).to_string(),
                    Subject::Title => String::new(),
                };
                vec![
                    Cell::Code(id),
                    Cell::Text(v.summary.clone()),
                    Cell::Message(v.problem.to_string()),
                ]
            })
            .collect();
        md.table(&["commit", "summary", "problem"], &rows);
    }
    md.into_string()
}

/// The message a run fails with when `require-conventional` found something (`None`: all
/// is well).
pub fn failure(violations: &[Violation], comment: bool) -> Option<String> {
    if violations.is_empty() {
        return None;
    }
    let what = match (
        violations.iter().any(|v| v.subject == Subject::Title),
        violations.len(),
    ) {
        (true, 1) => "the pull request title is".to_string(),
        (true, n) => format!("the pull request title and {} commit(s) are", n - 1),
        (false, n) => format!("{n} commit(s) are"),
    };
    Some(format!(
        "{what} not a Conventional Commit: see the annotations{}",
        if comment {
            " and the pull request comment"
        } else {
            ""
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_requirement_reads_words_and_lists() {
        let r: Requirement = "title, commits".parse().expect("valid");
        assert!(r.title && r.commits);
        assert!(!"none".parse::<Requirement>().expect("valid").any());
        assert!(!"".parse::<Requirement>().expect("valid").any());
        let e = "titles".parse::<Requirement>().expect_err("invalid");
        assert!(
            e.0.contains("`require-conventional`") && e.0.contains("`titles`"),
            "{}",
            e.0
        );
    }

    #[test]
    fn the_failure_counts_the_title_apart_from_the_commits() {
        let title = Violation {
            subject: Subject::Title,
            summary: "Update".into(),
            problem: "no type",
        };
        let commit = Violation {
            subject: Subject::Commit("0123456789abcdef".into()),
            ..title.clone()
        };
        assert_eq!(failure(&[], true), None);
        assert_eq!(
            failure(&[title.clone(), commit.clone()], true).as_deref(),
            Some(
                "the pull request title and 1 commit(s) are not a Conventional Commit: see the annotations and the pull request comment"
            )
        );
        assert_eq!(
            failure(&[commit.clone(), commit], false).as_deref(),
            Some("2 commit(s) are not a Conventional Commit: see the annotations")
        );
    }

    #[test]
    fn the_section_escapes_untrusted_text_and_says_how_to_fix() {
        let v = [
            Violation {
                subject: Subject::Title,
                summary: "Update `x` <script>alert(1)</script> @everyone".into(),
                problem: "no `:` after the type, expected `type: description`",
            },
            Violation {
                subject: Subject::Commit("0123456789abcdef".into()),
                summary: "[click](https://evil.example) | cell".into(),
                problem: "no `:` after the type, expected `type: description`",
            },
        ];
        let md = section(&v);
        assert!(md.contains("edit the title"), "{md}");
        assert!(md.contains("git rebase -i"), "{md}");
        assert!(md.contains("`0123456`"), "{md}");
        assert!(!md.contains("<script>"), "{md}");
        assert!(!md.contains("@everyone"), "{md}");
        assert!(!md.contains("[click](https"), "{md}");
        assert!(section(&[]).is_empty());
    }
}
