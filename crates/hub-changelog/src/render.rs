//! Rendering a [`Context`] with minijinja: three built-in layouts or a user template.

use std::str::FromStr;

use minijinja::syntax::SyntaxConfig;
use minijinja::value::Serde;
use minijinja::{Environment, UndefinedBehavior};

use crate::context::Context;
use hub_kit::md;

const KEEP_A_CHANGELOG: &str = include_str!("../templates/keepachangelog.md.j2");
const ANGULAR: &str = include_str!("../templates/angular.md.j2");
const GITHUB: &str = include_str!("../templates/github.md.j2");

/// Which layout to render.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Layout {
    /// `## [1.1.0](compare) - 2024-05-01`, `### Features`, `- **scope:** text (sha)`
    /// (default; the file layout of <https://keepachangelog.com>).
    #[default]
    KeepAChangelog,
    /// conventional-changelog's angular preset: `## [1.1.0](compare) (2024-05-01)`,
    /// `* **scope:** text (sha), closes #45`, `### BREAKING CHANGES` last.
    Angular,
    /// GitHub release notes: `## What's Changed`, sections, `**Full Changelog**: …`.
    GitHub,
    /// A user template (minijinja) over the [`Context`].
    Template(String),
}

impl Layout {
    /// The template source.
    pub fn source(&self) -> &str {
        match self {
            Layout::KeepAChangelog => KEEP_A_CHANGELOG,
            Layout::Angular => ANGULAR,
            Layout::GitHub => GITHUB,
            Layout::Template(s) => s,
        }
    }
}

/// A layout name other than the built-in ones.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown layout `{0}`, expected `keep-a-changelog`, `angular` or `github`")]
pub struct UnknownLayout(pub String);

impl FromStr for Layout {
    type Err = UnknownLayout;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "keep-a-changelog" | "keepachangelog" | "default" | "" => Ok(Layout::KeepAChangelog),
            "angular" | "conventional" | "conventional-changelog" => Ok(Layout::Angular),
            "github" | "release-notes" => Ok(Layout::GitHub),
            other => Err(UnknownLayout(other.to_owned())),
        }
    }
}

/// The template could not be rendered.
#[derive(Debug, thiserror::Error)]
#[error("changelog template: {0:#}")]
pub struct RenderError(#[from] pub minijinja::Error);

/// Renders the context. Blank-line runs are collapsed to one, the result ends with one
/// newline, and every line that would read as a workflow command is guarded.
///
/// Templates run with `trim_blocks` and `lstrip_blocks`, strict undefined variables, no
/// auto-escaping (the `*_md` fields are already escaped), and an `md` filter that
/// escapes any raw field: `{{ entry.body | md }}`.
pub fn render(context: &Context<'_>, layout: &Layout) -> Result<String, RenderError> {
    let mut env = Environment::new();
    env.set_syntax(
        SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .expect("because the default delimiters are valid"),
    );
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.add_filter("md", |s: String| md::escape_text(&s, None));
    let out = env.render_str(layout.source(), minijinja::Value::from(Serde(context)))?;
    Ok(md::guard_workflow_commands(&tidy(&out)))
}

/// Collapses runs of blank lines, trims, ends with one newline (empty stays empty).
fn tidy(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank_run = 0;
    for line in s.trim().lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank_run += 1;
            if blank_run > 1 {
                continue;
            }
        } else {
            blank_run = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}
