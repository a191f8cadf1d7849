//! Release tags: a literal prefix followed by a strict semver version.

use semver::Version;
use serde::{Deserialize, Serialize};

/// How release tags are named: a literal prefix, then a semver version.
///
/// - `v` (default): `v1.2.3`, `v2.0.0-rc.1`
/// - `""`: `1.2.3`
/// - monorepo forms: `api@` (`api@1.2.3`), `api-v` (`api-v1.2.3`), any literal prefix.
///
/// A tag without the prefix, a tag whose rest is not a strict semver version (`latest`,
/// `v1`, `v1.2`, `v01.2.3`), or a tag of another package's prefix is never a version.
///
/// ```
/// use hub_conventional::TagPattern;
/// use semver::Version;
///
/// let p = TagPattern::new("api@");
/// assert_eq!(p.parse("api@1.2.3"), Some(Version::new(1, 2, 3)));
/// assert_eq!(p.parse("web@1.2.3"), None);
/// assert_eq!(p.format(&Version::new(1, 3, 0)), "api@1.3.0");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TagPattern {
    /// The literal prefix before the version.
    pub prefix: String,
}

impl Default for TagPattern {
    fn default() -> Self {
        TagPattern::new("v")
    }
}

impl TagPattern {
    /// A pattern with this literal prefix.
    pub fn new(prefix: impl Into<String>) -> Self {
        TagPattern {
            prefix: prefix.into(),
        }
    }

    /// The version of a tag name, or `None` when the tag is not one of ours.
    /// A leading `refs/tags/` is accepted.
    pub fn parse(&self, tag: &str) -> Option<Version> {
        let tag = tag.strip_prefix("refs/tags/").unwrap_or(tag);
        let rest = tag.strip_prefix(self.prefix.as_str())?;
        // `semver` accepts only strict versions: no `v`, no leading zeros, all three parts.
        Version::parse(rest).ok()
    }

    /// The tag name for a version.
    pub fn format(&self, version: &Version) -> String {
        format!("{}{version}", self.prefix)
    }

    /// The highest version among tag names, with its tag. Ties in precedence (versions
    /// differing only in build metadata) are broken by full ordering, so the result does
    /// not depend on the iteration order.
    pub fn highest<'t>(
        &self,
        tags: impl IntoIterator<Item = &'t str>,
    ) -> Option<(&'t str, Version)> {
        self.highest_where(tags, |_| true)
    }

    /// Like [`TagPattern::highest`], ignoring pre-releases.
    pub fn highest_stable<'t>(
        &self,
        tags: impl IntoIterator<Item = &'t str>,
    ) -> Option<(&'t str, Version)> {
        self.highest_where(tags, |v| v.pre.is_empty())
    }

    fn highest_where<'t>(
        &self,
        tags: impl IntoIterator<Item = &'t str>,
        keep: impl Fn(&Version) -> bool,
    ) -> Option<(&'t str, Version)> {
        tags.into_iter()
            .filter_map(|t| self.parse(t).filter(&keep).map(|v| (t, v)))
            .max_by(|(_, a), (_, b)| a.cmp_precedence(b).then_with(|| a.cmp(b)))
    }

    /// Every version among tag names (unordered, duplicates kept).
    pub fn versions<'t>(&self, tags: impl IntoIterator<Item = &'t str>) -> Vec<Version> {
        tags.into_iter().filter_map(|t| self.parse(t)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_prefix() {
        let p = TagPattern::default();
        assert_eq!(p.parse("v1.2.3"), Some(Version::new(1, 2, 3)));
        assert_eq!(p.parse("refs/tags/v1.2.3"), Some(Version::new(1, 2, 3)));
        for not in [
            "1.2.3",
            "latest",
            "v1",
            "v1.2",
            "v01.2.3",
            "vlatest",
            "api@1.2.3",
            "v1.2.3 ",
            "release-1.0.0",
            "",
        ] {
            assert_eq!(p.parse(not), None, "{not}");
        }
    }

    #[test]
    fn monorepo_prefixes() {
        let at = TagPattern::new("api@");
        let dash = TagPattern::new("api-v");
        assert_eq!(
            at.parse("api@1.0.0-rc.1"),
            Some(Version::parse("1.0.0-rc.1").expect("valid"))
        );
        assert_eq!(dash.parse("api-v2.0.0"), Some(Version::new(2, 0, 0)));
        assert_eq!(dash.parse("api-web-v2.0.0"), None);
        assert_eq!(
            TagPattern::new("").parse("3.0.0"),
            Some(Version::new(3, 0, 0))
        );
    }

    #[test]
    fn highest() {
        let tags = [
            "v1.2.0",
            "latest",
            "v1.10.0-rc.1",
            "v1.9.0",
            "api@9.0.0",
            "v1.10.0-beta.3",
            "nightly",
        ];
        let p = TagPattern::default();
        assert_eq!(
            p.highest(tags),
            Some((
                "v1.10.0-rc.1",
                Version::parse("1.10.0-rc.1").expect("valid")
            ))
        );
        assert_eq!(
            p.highest_stable(tags),
            Some(("v1.9.0", Version::new(1, 9, 0)))
        );
        assert_eq!(p.highest(["latest"]), None);
        assert_eq!(p.versions(tags).len(), 4);
    }
}
