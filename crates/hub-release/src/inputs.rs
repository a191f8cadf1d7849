//! The inputs semver-bump and release-pr both take, checked by one rule each. Errors are
//! messages naming the input; each shell decides how it fails (a usage error, or exit 1).

use hub_changelog::Links;
use hub_conventional::semver::Version;
use hub_conventional::{Bump, BumpRules, TagPattern};

/// The `tag-prefix` input as a tag pattern: `none` is bare versions (`1.2.3`); a prefix
/// that cannot start a tag name ([`crate::valid_tag_prefix`]) is refused.
pub fn tag_pattern(input: &str) -> Result<TagPattern, String> {
    if !crate::valid_tag_prefix(input) {
        return Err(
            "input `tag-prefix` cannot start a tag name: it holds a line break, a space or one of `~^:?*[\\`"
                .into(),
        );
    }
    Ok(TagPattern::new(if input == "none" { "" } else { input }))
}

/// The `bump-rules` input: `type=level` lines (`docs=patch`) over the default rules.
pub fn bump_rules(lines: &[String]) -> Result<BumpRules, String> {
    let mut rules = BumpRules::default();
    for line in lines {
        let Some((ty, level)) = line.split_once('=') else {
            return Err(format!(
                "input `bump-rules`: expected `type=level` (e.g. `docs=patch`), got `{line}`"
            ));
        };
        let level: Bump = level
            .trim()
            .parse()
            .map_err(|e| format!("input `bump-rules`: {e}"))?;
        rules = rules.with(ty.trim(), level);
    }
    Ok(rules)
}

/// A path an input names from the repository's root (`path`, `version-files`,
/// `changelog-path`): none may leave it — an absolute path or a `..` component is refused,
/// naming the input.
pub fn inside_repository(input: &str, path: &str) -> Result<(), String> {
    let p = path.trim();
    if p.starts_with('/') || p.split(['/', '\\']).any(|c| c == "..") {
        return Err(format!(
            "input `{input}`: `{p}` is outside the repository: give paths from the repository root"
        ));
    }
    Ok(())
}

/// The `prerelease` input: the channel that precedes the counter (`rc` gives `1.3.0-rc.N`),
/// dot-separated identifiers of letters, digits and `-`; `None` when empty.
pub fn prerelease(input: Option<&str>) -> Result<Option<String>, String> {
    let Some(p) = input.map(str::trim).filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    if p.split('.')
        .all(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    {
        Ok(Some(p.to_string()))
    } else {
        Err(format!(
            "input `prerelease` must be dot-separated identifiers of letters, digits and `-`, got `{p}`"
        ))
    }
}

/// A version input (`initial-version`, `release-as`): a semantic version, a leading `v`
/// allowed.
pub fn version(name: &str, text: &str) -> Result<Version, String> {
    let v = text.trim();
    Version::parse(v.strip_prefix('v').unwrap_or(v))
        .map_err(|e| format!("input `{name}` is not a semantic version: `{v}` ({e})"))
}

/// The release notes' links for GitHub or GitHub Enterprise, from the runner's
/// `GITHUB_SERVER_URL` and `GITHUB_REPOSITORY` (`None` unless both are set: no links).
pub fn links(server_url: Option<&str>, repository: Option<&str>) -> Option<Links> {
    Some(Links {
        server_url: server_url?.to_string(),
        repository: repository?.to_string(),
    })
}

/// A revision an input names that git cannot resolve, as one line naming the input: ``input
/// `to`: `v9.9.9` is not a commit in this repository``; `HEAD` of a repository without
/// commits says so. `None` for any other git error, which the shell reports as it is.
pub fn unknown_revision(input: &str, e: &hub_git::GitError) -> Option<String> {
    match e {
        hub_git::GitError::UnknownRevision { rev } if rev == "HEAD" => {
            Some(format!("input `{input}`: {e} (has it any commits yet?)"))
        }
        hub_git::GitError::UnknownRevision { .. } => Some(format!("input `{input}`: {e}")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_need_both_the_server_and_the_repository() {
        let l = links(Some("https://ghe.example.com"), Some("o/r")).unwrap();
        assert_eq!(
            (l.server_url.as_str(), l.repository.as_str()),
            ("https://ghe.example.com", "o/r")
        );
        assert!(links(None, Some("o/r")).is_none());
        assert!(links(Some("https://github.com"), None).is_none());
    }

    #[test]
    fn tag_prefixes() {
        assert_eq!(tag_pattern("v").unwrap().prefix, "v");
        assert_eq!(tag_pattern("none").unwrap().prefix, "");
        assert_eq!(tag_pattern("api-v").unwrap().prefix, "api-v");
        for bad in ["a b", "x\n::error::y", "v~", "v:"] {
            let e = tag_pattern(bad).unwrap_err();
            assert!(e.contains("cannot start a tag name"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn bump_rules_and_versions() {
        let rules = bump_rules(&["docs = patch".into()]).unwrap();
        assert_eq!(rules, BumpRules::default().with("docs", Bump::Patch));
        let e = bump_rules(&["docs".into()]).unwrap_err();
        assert!(e.contains("expected `type=level`"), "{e}");
        let e = bump_rules(&["docs=huge".into()]).unwrap_err();
        assert!(e.starts_with("input `bump-rules`: "), "{e}");
        assert_eq!(
            version("release-as", " v1.2.3 ").unwrap(),
            Version::new(1, 2, 3)
        );
        let e = version("initial-version", "one").unwrap_err();
        assert!(
            e.starts_with("input `initial-version` is not a semantic version: `one` ("),
            "{e}"
        );
    }
}
