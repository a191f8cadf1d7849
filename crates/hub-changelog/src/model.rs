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

/// One entry of a `types` setting, in the shape of conventional-changelog's
/// conventionalcommits preset (`types: [{type, scope, section, hidden}]`, also
/// commit-and-tag-version's `.versionrc`) and of release-please's `changelog-sections`
/// (`[{type, section, hidden}]`), so an existing configuration is read unchanged.
///
/// The first entry whose `type` (and `scope`, when it has one) matches a commit decides:
/// its section, or hidden. Entries with the same `section` share one section, placed where
/// the title first appears. A type in no entry is not shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeSpec {
    /// The commit type, compared ignoring case.
    #[serde(rename = "type")]
    pub type_: String,
    /// Only commits with this scope (ignoring case); any scope when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The section title; default the type's usual title (`docs` → `Documentation`), else
    /// the type itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    /// Not shown (unless [`Config::show_hidden`]); breaking changes are shown anyway.
    #[serde(default)]
    pub hidden: bool,
}

impl TypeSpec {
    /// The section title this entry puts commits under.
    pub fn title(&self) -> String {
        match &self.section {
            Some(s) => s.clone(),
            None => default_title(&self.type_).map_or_else(|| self.type_.clone(), str::to_owned),
        }
    }

    fn matches(&self, ty: &str, scope: Option<&str>) -> bool {
        self.type_.eq_ignore_ascii_case(ty)
            && self
                .scope
                .as_deref()
                .is_none_or(|want| scope.is_some_and(|s| s.eq_ignore_ascii_case(want)))
    }
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
    /// The `types` setting ([`Config::with_types`]); empty: `sections` alone decides.
    #[serde(default)]
    pub types: Vec<TypeSpec>,
    /// Show the types the `types` setting hides, each under its section.
    #[serde(default)]
    pub show_hidden: bool,
    /// Sort each section's entries by scope, then description (scoped entries first), as
    /// conventional-changelog's `commitsSort: ['scope', 'subject']` does for release-please
    /// and vite. Default (`false`): newest first.
    #[serde(default)]
    pub sort_by_scope: bool,
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

    /// Sections from a `types` setting (see [`TypeSpec`]): in the order their titles first
    /// appear, hidden ones left out unless `show_hidden`.
    ///
    /// ```
    /// use hub_changelog::{Config, TypeSpec};
    ///
    /// let types: Vec<TypeSpec> = serde_json::from_str(r#"[
    ///   {"type": "fix", "section": "Bug Fixes"},
    ///   {"type": "feat", "section": "Features"},
    ///   {"type": "docs", "hidden": true}
    /// ]"#).expect("the preset's shape");
    /// let config = Config::default().with_types(types, false);
    /// let titles: Vec<&str> = config.sections.iter().map(|s| s.title.as_str()).collect();
    /// assert_eq!(titles, ["Bug Fixes", "Features"]);
    /// assert_eq!(config.section_of("docs", None), None);
    /// ```
    pub fn with_types(mut self, types: Vec<TypeSpec>, show_hidden: bool) -> Self {
        let mut sections: Vec<SectionSpec> = Vec::new();
        for t in types.iter().filter(|t| show_hidden || !t.hidden) {
            let title = t.title();
            let ty = t.type_.to_ascii_lowercase();
            match sections.iter_mut().find(|s| s.title == title) {
                Some(s) if !s.types.contains(&ty) => s.types.push(ty),
                Some(_) => {}
                None => sections.push(SectionSpec {
                    title,
                    types: vec![ty],
                }),
            }
        }
        self.sections = sections;
        self.types = types;
        self.show_hidden = show_hidden;
        self
    }

    /// The index in [`Config::sections`] of the section a commit of this type and scope
    /// goes to; `None` when it is not shown.
    pub fn section_of(&self, ty: &str, scope: Option<&str>) -> Option<usize> {
        if self.types.is_empty() {
            return self
                .sections
                .iter()
                .position(|s| s.types.iter().any(|t| t.eq_ignore_ascii_case(ty)));
        }
        let spec = self.types.iter().find(|t| t.matches(ty, scope))?;
        if spec.hidden && !self.show_hidden {
            return None;
        }
        let title = spec.title();
        self.sections.iter().position(|s| s.title == title)
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
            types: Vec::new(),
            show_hidden: false,
            sort_by_scope: false,
        }
    }
}
