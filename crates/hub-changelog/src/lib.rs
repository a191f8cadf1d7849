//! Release notes and `CHANGELOG.md` sections from Conventional Commits — a pure engine.
//!
//! **Architecture Invariant:** no network, clock, environment or filesystem: the date,
//! the server URL and the repository are parameters, the file's text comes in and goes
//! out as a string.
//!
//! **Architecture Invariant:** one classification. Commits are parsed, classified and
//! revert-paired by `hub_conventional::analyze` — the same call the version bump uses —
//! never by a second parser here.
//!
//! The pipeline:
//!
//! 1. [`ReleaseInput::analyze`] (or a [`ReleaseInput`] built from already analysed
//!    commits) per release;
//! 2. [`context()`] groups them into sections under a [`Config`], folds duplicates, drops
//!    cancelled reverts, builds links, escapes commit text (`hub_md::escape_text`, the
//!    one Markdown escaping the suite uses);
//! 3. [`render()`] prints the context with a built-in [`Layout`] or a user template;
//! 4. [`prepend()`] puts the section into the existing file, idempotently.
//!
//! ```
//! use hub_changelog::{context, render, prepend, Author, Config, Layout, Links, LogCommit, ReleaseInput};
//! use hub_conventional::BumpRules;
//! use semver::Version;
//!
//! let author = Author { name: "Ada", email: "ada@example.com", login: Some("ada") };
//! let log = [
//!     LogCommit { id: "3f2a9c1d0e", message: "feat(api): add search (#12)", author },
//!     LogCommit { id: "9b8c7d6e5f", message: "fix: <b>escape</b> titles\n\nCloses #7", author },
//!     LogCommit { id: "1a2b3c4d5e", message: "chore(release): 1.0.0", author },
//! ];
//! let release = ReleaseInput::analyze(Some(Version::new(1, 1, 0)), &log, &BumpRules::default())
//!     .with_date("2024-05-01")
//!     .with_tags(Some("v1.0.0".into()), Some("v1.1.0".into()));
//! let config = Config {
//!     links: Some(Links { server_url: "https://github.com".into(), repository: "o/r".into() }),
//!     ..Config::default()
//! };
//! let releases = [release];
//! let notes = render(&context(&releases, &config), &Layout::KeepAChangelog).expect("renders");
//! assert!(notes.starts_with("## [1.1.0](https://github.com/o/r/compare/v1.0.0...v1.1.0) - 2024-05-01\n"));
//! assert!(notes.contains("- **api:** add search ([#12](https://github.com/o/r/issues/12)) ([3f2a9c1](https://github.com/o/r/commit/3f2a9c1d0e))"));
//! assert!(notes.contains("&lt;b&gt;escape&lt;/b&gt; titles"));
//! assert!(!notes.contains("release"));
//! let file = prepend("", &notes, "1.1.0");
//! assert_eq!(prepend(&file, &notes, "1.1.0"), file);
//! ```

mod context;
mod model;
mod prepend;
mod render;

pub use context::{
    AuthorContext, CommitContext, Context, Entry, IssueRef, ReleaseContext, SectionContext, Status,
    context,
};
pub use model::{
    ALL_TYPES, Author, AuthorStyle, Config, Links, LogCommit, ReleaseCommit, ReleaseInput,
    SectionSpec, TypeSpec, default_title,
};
pub use prepend::{KEEP_A_CHANGELOG_HEADER, in_line_endings_of, prepend};
pub use render::{Layout, RenderError, UnknownLayout, render};

/// [`context()`] then [`render()`].
pub fn render_releases(
    releases: &[ReleaseInput<'_>],
    config: &Config,
    layout: &Layout,
) -> Result<String, RenderError> {
    render(&context(releases, config), layout)
}
