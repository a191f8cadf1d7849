//! Rendering a [`Context`] with minijinja: three built-in layouts or a user template.

use std::str::FromStr;

use minijinja::syntax::SyntaxConfig;
use minijinja::value::Serde;
use minijinja::{Environment, UndefinedBehavior};
use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::context::{Context, Entry, ReleaseContext, SectionContext};
use hub_md as md;

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
    let value = match layout {
        Layout::Template(_) => minijinja::Value::from(Serde(context)),
        _ => minijinja::Value::from(Serde(BuiltIn(context))),
    };
    let out = env.render_str(layout.source(), value)?;
    Ok(md::guard_workflow_commands(&tidy(&out)))
}

/// The context as the built-in layouts read it: no `commits` (every commit with all its
/// parsed fields, for user templates), and of each entry only the escaped `*_md` fields the
/// layouts print. Converting everything for the template engine, and freeing it again, was
/// most of the cost of a release's notes (semver-bump renders them on every run). A field a
/// layout reads and the view lacks is an error (strict undefined), and a test renders every
/// layout both ways.
struct BuiltIn<'a, 'r>(&'a Context<'r>);

/// A sequence of views.
struct Seq<'a, T>(&'a [T]);

/// A release without its `commits`.
struct Release<'a, 'r>(&'a ReleaseContext<'r>);

/// A section of entry views.
struct Section<'a>(&'a SectionContext);

/// An entry's printable fields.
struct Printed<'a>(&'a Entry);

impl Serialize for BuiltIn<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let c = self.0;
        let mut s = serializer.serialize_struct("Context", 3)?;
        s.serialize_field("releases", &Seq(&c.releases))?;
        s.serialize_field("repository_url", &c.repository_url)?;
        s.serialize_field("breaking_title", &c.breaking_title)?;
        s.end()
    }
}

impl Serialize for Seq<'_, ReleaseContext<'_>> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(Release))
    }
}

impl Serialize for Seq<'_, SectionContext> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(Section))
    }
}

impl Serialize for Seq<'_, Entry> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(Printed))
    }
}

impl Serialize for Release<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut s = serializer.serialize_struct("ReleaseContext", 9)?;
        s.serialize_field("version", &r.version)?;
        s.serialize_field("title", &r.title)?;
        s.serialize_field("date", &r.date)?;
        s.serialize_field("tag", &r.tag)?;
        s.serialize_field("previous_tag", &r.previous_tag)?;
        s.serialize_field("compare_url", &r.compare_url)?;
        s.serialize_field("breaking", &Seq(&r.breaking))?;
        s.serialize_field("sections", &Seq(&r.sections))?;
        s.serialize_field("is_empty", &r.is_empty)?;
        s.end()
    }
}

impl Serialize for Section<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("SectionContext", 2)?;
        s.serialize_field("title", &self.0.title)?;
        s.serialize_field("entries", &Seq(&self.0.entries))?;
        s.end()
    }
}

impl Serialize for Printed<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let e = self.0;
        let mut s = serializer.serialize_struct("Entry", 6)?;
        s.serialize_field("scope_md", &e.scope_md)?;
        s.serialize_field("description_md", &e.description_md)?;
        s.serialize_field("breaking_md", &e.breaking_md)?;
        s.serialize_field("commit_md", &e.commit_md)?;
        s.serialize_field("references_md", &e.references_md)?;
        s.serialize_field("author_md", &e.author_md)?;
        s.end()
    }
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
