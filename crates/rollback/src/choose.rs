//! Which version to roll back to: pure decisions over plain data.

use hub_conventional::TagPattern;
use hub_conventional::semver::Version;

/// Parses a version as a user or a directory name spells it: a strict semantic version,
/// optionally preceded by the tag prefix (`1.2.3` or `v1.2.3`). Anything else — shell
/// syntax, paths, spaces — is refused, so a version is always safe as a path component
/// and as a value.
pub fn parse_version(text: &str, pattern: &TagPattern) -> Option<Version> {
    let text = text.trim();
    Version::parse(text).ok().or_else(|| pattern.parse(text))
}

/// A release we could roll back to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// Its tag (`v1.0.0`).
    pub tag: String,
    /// Its version.
    pub version: Version,
}

/// Release versions among tag names, for a pattern.
pub fn candidates<'t>(
    tags: impl IntoIterator<Item = &'t str>,
    pattern: &TagPattern,
) -> Vec<Candidate> {
    tags.into_iter()
        .filter_map(|t| {
            pattern.parse(t).map(|version| Candidate {
                tag: t.to_string(),
                version,
            })
        })
        .collect()
}

/// The highest stable release strictly below `from` (semver precedence) among
/// `candidates` that `usable` accepts. Pre-releases are never chosen automatically: a
/// rollback goes to a release that was once meant for everyone.
pub fn previous<'c>(
    from: &Version,
    candidates: &'c [Candidate],
    usable: impl Fn(&Candidate) -> bool,
) -> Option<&'c Candidate> {
    candidates
        .iter()
        .filter(|c| c.version.pre.is_empty())
        .filter(|c| c.version.cmp_precedence(from).is_lt())
        .filter(|c| usable(c))
        .max_by(|a, b| {
            a.version
                .cmp_precedence(&b.version)
                .then_with(|| a.version.cmp(&b.version))
        })
}

/// Whether going from `from` to `to` is a rollback: `to` must be strictly lower.
pub fn check_direction(from: &Version, to: &Version) -> Result<(), String> {
    match to.cmp_precedence(from) {
        std::cmp::Ordering::Less => Ok(()),
        std::cmp::Ordering::Equal => Err(format!(
            "`{to}` is the version being rolled back (`{from}`): a rollback never returns to the same version"
        )),
        std::cmp::Ordering::Greater => Err(format!(
            "`{to}` is above `{from}`: a rollback only goes back (deploy `{to}` instead)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).expect("test version")
    }

    #[test]
    fn versions_with_or_without_prefix() {
        let p = TagPattern::default();
        assert_eq!(parse_version("1.0.0", &p), Some(v("1.0.0")));
        assert_eq!(parse_version(" v1.0.0\n", &p), Some(v("1.0.0")));
        assert_eq!(
            parse_version("api@2.0.0-rc.1", &TagPattern::new("api@")),
            Some(v("2.0.0-rc.1"))
        );
        for hostile in [
            "1.0; rm -rf /",
            "$(id)",
            "../../etc",
            "1.0.0/../../etc",
            "`id`",
            "1.0.0 2.0.0",
            "v1",
            "",
            "1.0.0\n--help",
        ] {
            assert_eq!(parse_version(hostile, &p), None, "{hostile}");
        }
    }

    #[test]
    fn previous_is_the_highest_stable_below() {
        let tags = [
            "v0.9.0",
            "v1.0.0",
            "v1.0.1",
            "v1.1.0-rc.1",
            "v1.1.0",
            "v1.2.0",
            "latest",
            "1.0.5",
        ];
        let c = candidates(tags, &TagPattern::default());
        let pick = |from: &str| previous(&v(from), &c, |_| true).map(|c| c.tag.as_str());
        assert_eq!(pick("1.1.0"), Some("v1.0.1"));
        assert_eq!(pick("1.2.0"), Some("v1.1.0"));
        assert_eq!(pick("1.1.0-rc.2"), Some("v1.0.1"));
        assert_eq!(pick("0.9.0"), None);
        let without_101 = previous(&v("1.1.0"), &c, |c| c.version != v("1.0.1"));
        assert_eq!(without_101.map(|c| c.tag.as_str()), Some("v1.0.0"));
    }

    #[test]
    fn direction() {
        assert!(check_direction(&v("1.1.0"), &v("1.0.0")).is_ok());
        let same = check_direction(&v("1.1.0"), &v("1.1.0")).unwrap_err();
        assert!(same.contains("never returns to the same version"), "{same}");
        let up = check_direction(&v("1.0.0"), &v("1.1.0")).unwrap_err();
        assert!(up.contains("only goes back"), "{up}");
    }
}
