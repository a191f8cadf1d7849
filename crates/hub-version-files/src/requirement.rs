//! Dependents' requirements on a bumped internal package.
//!
//! The rule (release-plz's and cargo-release's default "upgrade"): a requirement that pins
//! the package — `1.2.3`, `^1.2`, `~1.2.3`, `=1.2.3` — is rewritten to the new version
//! with the same operator and the full version, so dependents require the release they
//! are released with. Other requirements (`>=1, <3`, `1.*`, `*`) stay as written when the
//! new version satisfies them, and are an error otherwise (Cargo; npm ranges other than
//! pins stay as written — npm's range grammar is npm's, and a `workspace:` protocol, a
//! path, a URL or an alias is never touched).

use semver::{Op, Version, VersionReq};

/// What becomes of a requirement.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Written as it is.
    Keep,
    /// Rewritten to this.
    Rewrite(String),
    /// The new version does not satisfy it, and it is not a pin.
    Unsatisfied,
}

/// A Cargo version requirement.
pub(crate) fn cargo(requirement: &str, version: &Version) -> Outcome {
    let Ok(parsed) = VersionReq::parse(requirement) else {
        return Outcome::Unsatisfied;
    };
    if let [only] = parsed.comparators.as_slice()
        && matches!(only.op, Op::Caret | Op::Tilde | Op::Exact)
    {
        return Outcome::Rewrite(format!("{}{version}", operator_prefix(requirement)));
    }
    if parsed.matches(version) {
        Outcome::Keep
    } else {
        Outcome::Unsatisfied
    }
}

/// An npm dependency specifier.
pub(crate) fn npm(spec: &str, version: &Version) -> Outcome {
    let trimmed = spec.trim();
    if trimmed.contains(':') || trimmed.contains('/') || trimmed.is_empty() {
        return Outcome::Keep;
    }
    let prefix = operator_prefix(trimmed);
    if !matches!(prefix.trim(), "" | "^" | "~" | "=" | "v" | "=v") {
        return Outcome::Keep;
    }
    let rest = &trimmed[prefix.len()..];
    // Only a whole version is a pin; `^1.2` or `1.x` are ranges to npm.
    let pinned = Version::parse(rest).is_ok();
    if pinned {
        Outcome::Rewrite(format!("{prefix}{version}"))
    } else {
        Outcome::Keep
    }
}

/// The operator written before the version (`^`, `~`, `= `, `>=`), with its spacing.
fn operator_prefix(requirement: &str) -> &str {
    let start = requirement.len() - requirement.trim_start().len();
    let body = &requirement[start..];
    let end = body.find(|c: char| c.is_ascii_digit()).unwrap_or(0);
    &requirement[start..start + end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).expect("because the test gives a version")
    }

    #[test]
    fn cargo_pins_follow_with_their_operator() {
        let new = v("1.3.0");
        assert_eq!(cargo("1.2.3", &new), Outcome::Rewrite("1.3.0".into()));
        assert_eq!(cargo("^1.2", &new), Outcome::Rewrite("^1.3.0".into()));
        assert_eq!(cargo("~1.2.3", &new), Outcome::Rewrite("~1.3.0".into()));
        assert_eq!(cargo("=1.2.3", &new), Outcome::Rewrite("=1.3.0".into()));
        assert_eq!(cargo("= 1.2.3", &new), Outcome::Rewrite("= 1.3.0".into()));
    }

    #[test]
    fn cargo_ranges_stay_when_satisfied_and_fail_otherwise() {
        assert_eq!(cargo(">=1, <3", &v("2.0.0")), Outcome::Keep);
        assert_eq!(cargo("*", &v("2.0.0")), Outcome::Keep);
        assert_eq!(cargo("1.*", &v("1.4.0")), Outcome::Keep);
        assert_eq!(cargo(">=1, <2", &v("2.0.0")), Outcome::Unsatisfied);
        assert_eq!(
            cargo("not a requirement", &v("2.0.0")),
            Outcome::Unsatisfied
        );
    }

    #[test]
    fn npm_pins_follow_and_everything_else_stays() {
        let new = v("2.0.0");
        assert_eq!(npm("^1.2.3", &new), Outcome::Rewrite("^2.0.0".into()));
        assert_eq!(npm("1.2.3", &new), Outcome::Rewrite("2.0.0".into()));
        assert_eq!(npm("~1.2.3-rc.1", &new), Outcome::Rewrite("~2.0.0".into()));
        for keep in [
            "workspace:^",
            "workspace:*",
            "workspace:^1.2.3",
            "file:../core",
            "npm:other@1.0.0",
            "*",
            "latest",
            ">=1.0.0 <3",
            "1.x",
            "^1.2",
        ] {
            assert_eq!(npm(keep, &new), Outcome::Keep, "{keep}");
        }
    }
}
