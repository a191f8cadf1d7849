//! Rendering a [`Context`] with minijinja: three built-in layouts or a user template.

use std::str::FromStr;

use minijinja::syntax::SyntaxConfig;
use minijinja::value::Serde;
use minijinja::{Environment, UndefinedBehavior};
use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::context::{Context, ReleaseContext};
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
    let value = match layout {
        Layout::Template(_) => minijinja::Value::from(Serde(context)),
        _ => minijinja::Value::from(Serde(BuiltIn(context))),
    };
    let out = env.render_str(layout.source(), value)?;
    Ok(md::guard_workflow_commands(&tidy(&out)))
}

/// The context as the built-in layouts read it: without each release's `commits`, which
/// only user templates use. Converting every commit for the template engine, and freeing it
/// again, was most of the cost of a release's notes (semver-bump renders them on every run).
struct BuiltIn<'a, 'r>(&'a Context<'r>);

/// A release without its `commits`.
struct Release<'a, 'r>(&'a ReleaseContext<'r>);

impl Serialize for BuiltIn<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Releases<'a, 'r>(&'a [ReleaseContext<'r>]);
        impl Serialize for Releases<'_, '_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.iter().map(Release))
            }
        }
        let c = self.0;
        let mut s = serializer.serialize_struct("Context", 3)?;
        s.serialize_field("releases", &Releases(&c.releases))?;
        s.serialize_field("repository_url", &c.repository_url)?;
        s.serialize_field("breaking_title", &c.breaking_title)?;
        s.end()
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
        s.serialize_field("breaking", &r.breaking)?;
        s.serialize_field("sections", &r.sections)?;
        s.serialize_field("is_empty", &r.is_empty)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The built-in layouts' view is the whole context but `commits`: a field added to
    /// [`ReleaseContext`] and not to the view fails here.
    #[test]
    fn built_in_layouts_see_everything_but_commits() {
        let release = ReleaseContext {
            version: Some("1.1.0".into()),
            title: "1.1.0".into(),
            date: Some("2026-11-23".into()),
            tag: Some("v1.1.0".into()),
            previous_tag: Some("v1.0.0".into()),
            compare_url: Some("https://example.com/compare".into()),
            breaking: Vec::new(),
            sections: Vec::new(),
            is_empty: true,
            commits: Vec::new(),
        };
        let context = Context {
            releases: vec![release],
            repository_url: Some("https://example.com".into()),
            breaking_title: "Breaking".into(),
        };
        let mut whole = serde_json::to_value(&context).unwrap();
        let commits = whole["releases"][0]
            .as_object_mut()
            .unwrap()
            .remove("commits");
        assert_eq!(commits, Some(serde_json::json!([])));
        assert_eq!(serde_json::to_value(BuiltIn(&context)).unwrap(), whole);
    }
}
