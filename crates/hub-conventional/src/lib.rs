//! Conventional Commits, bump rules, reverts, tags and versions — a pure engine.
//!
//! **Architecture Invariant:** this crate never touches the network, the clock, the
//! environment or the filesystem. It takes strings and returns values.
//!
//! The pipeline, as a release action uses it:
//!
//! 1. [`TagPattern`] turns tag names into versions ([`TagPattern::highest`] picks the
//!    current one).
//! 2. [`analyze`] parses each [`RawCommit`] of the range (borrowed straight from a
//!    `git log` buffer), classifies it ([`Kind`]), pairs reverts with their targets
//!    ([`revert`]) and gives each commit its own [`Bump`] under [`BumpRules`].
//! 3. [`decide`] turns that into the next version under [`ReleaseOptions`], with the
//!    commits that decided it, counts, the non-conventional commits and notes
//!    ([`Decision`]).
//!
//! The changelog (`hub-changelog`) reuses step 2, so a commit is classified once, the
//! same way, for the version and for the notes.
//!
//! ```
//! use hub_conventional::{analyze, decide, Bump, BumpRules, RawCommit, ReleaseOptions, TagPattern};
//!
//! let tags = ["v0.3.0", "v0.2.0", "latest"];
//! let pattern = TagPattern::default();
//! let (_, current) = pattern.highest(tags).expect("a version tag");
//! let known = pattern.versions(tags);
//!
//! let log = [
//!     RawCommit { id: "c3", message: "feat(api)!: remove v1 endpoints" },
//!     RawCommit { id: "c2", message: "fix: handle empty input" },
//!     RawCommit { id: "c1", message: "update readme" },
//! ];
//! let analyzed = analyze(&log, &BumpRules::default());
//! let decision = decide(&analyzed, Some(&current), &known, &ReleaseOptions::default()).expect("decision");
//! // Breaking while at 0.y.z bumps the minor (see `ReleaseOptions::major_on_zero`).
//! assert_eq!(decision.next.expect("a release").to_string(), "0.4.0");
//! assert_eq!(decision.commits_bump, Bump::Major);
//! assert_eq!(decision.decided_by[0].id, "c3");
//! assert_eq!(decision.non_conventional[0].summary, "update readme");
//! ```

mod analyze;
mod commit;
mod decide;
pub mod node;
pub mod revert;
mod tag;

pub use analyze::{
    AnalyzedCommit, Bump, BumpRules, Kind, RawCommit, SquashedCommit, UnknownBump, analyze,
    is_merge_summary, squash_bullets,
};
pub use commit::{Commit, Footer, ParseError, ParseErrorKind, Separator};
pub use decide::{
    BuildPolicy, CommitRef, Counts, DecideError, Decision, NonConventional, Note, Reason,
    ReleaseOptions, decide,
};
pub use revert::{RevertStatus, RevertTarget};
pub use semver;
pub use tag::TagPattern;
