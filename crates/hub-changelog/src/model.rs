//! What the changelog is built from, and how.

use hub_conventional::{AnalyzedCommit, BumpRules, RawCommit, analyze};
use semver::Version;
use serde::{Deserialize, Serialize};

/// A commit's author.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Author<'a> {
    /// `%an`
    pub name: &'a str,
    /// `%ae`
    pub email: &'a str,
    /// The GitHub login, when known (from the API); `None` otherwise.
    pub login: Option<&'a str>,
}

/// A commit as read from git, with its author: the input of [`ReleaseInput::analyze`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogCommit<'a> {
    /// The commit id (full sha).
    pub id: &'a str,
    /// The full message.
    pub message: &'a str,
    /// Who wrote it.
    pub author: Author<'a>,
}

/// One analysed commit of a release and its author.
#[derive(Clone, Debug)]
pub struct ReleaseCommit<'a> {
    /// The commit as `hub_conventional::analyze` understood it (the one classification).
    pub commit: AnalyzedCommit<'a>,
    /// Who wrote it.
    pub author: Author<'a>,
}

/// One release to write: a version (or unreleased), its date and tags, and its commits.
#[derive(Clone, Debug, Default)]
pub struct ReleaseInput<'a> {
    /// The version; `None` renders as "Unreleased".
    pub version: Option<Version>,
    /// The release date as it should be printed (e.g. `2024-05-01`); no clock is read.
    pub date: Option<String>,
    /// This release's tag (`v1.1.0`), the right side of the compare link; for an
    /// unreleased section leave `None` (the link then ends at `HEAD`).
    pub tag: Option<String>,
    /// The previous release's tag (`v1.0.0`), the left side of the compare link.
    pub previous_tag: Option<String>,
    /// The commits of the range, newest first.
    pub commits: Vec<ReleaseCommit<'a>>,
}

impl<'a> ReleaseInput<'a> {
    /// Analyses `log` (newest first; one range, so reverts pair within it) into a release.
    pub fn analyze(version: Option<Version>, log: &[LogCommit<'a>], rules: &BumpRules) -> Self {
        let raw: Vec<RawCommit<'a>> = log
            .iter()
            .map(|c| RawCommit {
                id: c.id,
                message: c.message,
            })
            .collect();
        let commits = analyze(&raw, rules)
            .into_iter()
            .zip(log)
            .map(|(commit, c)| ReleaseCommit {
                commit,
                author: c.author,
            })
            .collect();
        ReleaseInput {
            version,
            commits,
            ..ReleaseInput::default()
        }
    }

    /// Sets the date.
    pub fn with_date(mut self, date: impl Into<String>) -> Self {
        self.date = Some(date.into());
        self
    }

    /// Sets the tags of the compare link (`previous...tag`).
    pub fn with_tags(mut self, previous: Option<String>, tag: Option<String>) -> Self {
        self.previous_tag = previous;
        self.tag = tag;
        self
    }
}

/// A group of commit types shown under one title.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionSpec {
    /// The title (`Features`).
    pub title: String,
    /// The commit types shown in it, compared ignoring case (`["feat"]`).
    pub types: Vec<String>,
}

/// How authors are shown. Only [`AuthorStyle::Mention`] pings anyone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthorStyle {
    /// Not shown (default).
    #[default]
    Hidden,
    /// The author's name, as plain text.
    Name,
    /// The GitHub login as inert text, `@` + U+2060 + `octocat` (reads `@octocat`, pings
    /// nobody: the `@` is broken as `hub_md` breaks every mention); the name when no
    /// login is known.
    Login,
    /// A real `@octocat` mention, which notifies the account; the name when no login is
    /// known. Only a login of letters, digits and inner hyphens is written as a mention; any
    /// other (`dependabot[bot]`) is shown as [`AuthorStyle::Login`] shows it.
    Mention,
    /// The login linked to its profile (`[octocat](https://github.com/octocat)`), else
    /// the name as plain text.
    ProfileLink,
}

/// Where links point: GitHub or GitHub Enterprise.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Links {
    /// `GITHUB_SERVER_URL`, e.g. `https://github.com` or `https://ghe.example.com`.
    pub server_url: String,
    /// `GITHUB_REPOSITORY`, e.g. `owner/repo`.
    pub repository: String,
}

impl Links {
    /// `https://github.com/owner/repo`.
    pub fn repo_url(&self) -> String {
        format!(
            "{}/{}",
            self.server_url.trim_end_matches('/'),
            self.repository.trim_matches('/')
        )
    }
}

/// Which commits are shown and how. `Default` shows features, fixes, performance and
/// reverts plus breaking changes, drops non-conventional commits, skips
/// `chore(release)` and merge commits, folds duplicates, and hides authors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// Sections in order. Types in none of them are not shown.
    pub sections: Vec<SectionSpec>,
    /// Show a breaking-changes section (with each `BREAKING CHANGE` text).
    pub show_breaking: bool,
    /// Its title in the Keep a Changelog and GitHub layouts.
    pub breaking_title: String,
    /// `Some(title)`: list non-conventional commits under that title; `None`: drop them.
    pub other: Option<String>,
    /// Skip `chore(release): …` commits.
    pub skip_release_commits: bool,
    /// Skip merge commits (`Merge pull request …`, `Merge branch …`).
    pub skip_merges: bool,
    /// Fold entries with the same pull request number or the same normalised subject.
    pub fold_duplicates: bool,
    /// Link commits, issues and compare ranges; `None` prints no links.
    pub links: Option<Links>,
    /// How authors are shown.
    pub authors: AuthorStyle,
}

/// The human title of a commit type (`feat` → `Features`), for the usual types.
pub fn default_title(ty: &str) -> Option<&'static str> {
    Some(match ty.to_ascii_lowercase().as_str() {
        "feat" => "Features",
        "fix" => "Bug Fixes",
        "perf" => "Performance",
        "revert" => "Reverts",
        "docs" => "Documentation",
        "refactor" => "Refactoring",
        "test" => "Tests",
        "build" => "Build",
        "ci" => "CI",
        "chore" => "Chores",
        "style" => "Styles",
        _ => return None,
    })
}

/// Every usual type, in the order [`Config::all_types`] shows them.
pub const ALL_TYPES: [&str; 11] = [
    "feat", "fix", "perf", "revert", "docs", "refactor", "test", "build", "ci", "chore", "style",
];

impl Config {
    /// Sections for these types, with their default titles (an unknown type is its own
    /// title).
    pub fn sections_for(types: &[&str]) -> Vec<SectionSpec> {
        types
            .iter()
            .map(|t| SectionSpec {
                title: default_title(t).map_or_else(|| (*t).to_owned(), str::to_owned),
                types: vec![t.to_ascii_lowercase()],
            })
            .collect()
    }

    /// The default configuration showing every usual type.
    pub fn all_types() -> Self {
        Config {
            sections: Config::sections_for(&ALL_TYPES),
            ..Config::default()
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            sections: Config::sections_for(&["feat", "fix", "perf", "revert"]),
            show_breaking: true,
            breaking_title: "Breaking Changes".to_owned(),
            other: None,
            skip_release_commits: true,
            skip_merges: true,
            fold_duplicates: true,
            links: None,
            authors: AuthorStyle::Hidden,
        }
    }
}
