//! node-semver compatibility: `valid`, `compare`, and `inc` exactly as npm's `semver`
//! package (7.x) does them, loose mode included.
//!
//! The engine itself works on [`semver::Version`]; this module exists so that a user
//! who knows `npm version prerelease --preid rc` gets the same answer here, and it is
//! checked against every string row of node-semver's own fixtures
//! (`peer-suites/semver/*.json`).
//!
//! ```
//! use hub_conventional::node::{inc, IdentifierBase};
//!
//! assert_eq!(inc("1.2.3", "prerelease", false, Some("rc"), IdentifierBase::Zero).as_deref(), Some("1.2.4-rc.0"));
//! assert_eq!(inc("1.2.4-rc.0", "prerelease", false, Some("rc"), IdentifierBase::Zero).as_deref(), Some("1.2.4-rc.1"));
//! assert_eq!(inc("1.2.4-rc.1", "release", false, None, IdentifierBase::Zero).as_deref(), Some("1.2.4"));
//! ```

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use semver::{BuildMetadata, Prerelease, Version};

/// node's `MAX_LENGTH`.
const MAX_LENGTH: usize = 256;
/// `Number.MAX_SAFE_INTEGER`.
const MAX_SAFE_INTEGER: u64 = 9_007_199_254_740_991;

/// One pre-release identifier as node-semver holds it: digits below
/// `MAX_SAFE_INTEGER` are numbers, everything else is a string.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Identifier {
    /// A numeric identifier.
    Num(u64),
    /// An alphanumeric identifier (or digits too large for a number).
    Str(String),
}

impl Identifier {
    fn from_text(s: &str) -> Identifier {
        if !s.is_empty()
            && s.bytes().all(|b| b.is_ascii_digit())
            && let Ok(n) = s.parse::<u64>()
            && n < MAX_SAFE_INTEGER
        {
            return Identifier::Num(n);
        }
        Identifier::Str(s.to_owned())
    }

    fn text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Identifier::Num(n) => n.to_string().into(),
            Identifier::Str(s) => s.as_str().into(),
        }
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Identifier::Num(n) => write!(f, "{n}"),
            Identifier::Str(s) => f.write_str(s),
        }
    }
}

/// node-semver's `compareIdentifiers`.
fn compare_identifiers(a: &str, b: &str) -> Ordering {
    let anum = !a.is_empty() && a.bytes().all(|c| c.is_ascii_digit());
    let bnum = !b.is_empty() && b.bytes().all(|c| c.is_ascii_digit());
    match (anum, bnum) {
        (true, true) => {
            let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
            a.len().cmp(&b.len()).then_with(|| a.cmp(b))
        }
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.cmp(b),
    }
}

/// A version as node-semver parses it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NodeVersion {
    /// Major.
    pub major: u64,
    /// Minor.
    pub minor: u64,
    /// Patch.
    pub patch: u64,
    /// Pre-release identifiers.
    pub prerelease: Vec<Identifier>,
    /// Build identifiers.
    pub build: Vec<String>,
}

impl fmt::Display for NodeVersion {
    /// node's `.version`: no build metadata.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        for (i, id) in self.prerelease.iter().enumerate() {
            f.write_str(if i == 0 { "-" } else { "." })?;
            write!(f, "{id}")?;
        }
        Ok(())
    }
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}

/// One pre-release identifier: `0|[1-9]\d*` or `\d*[a-zA-Z-][a-zA-Z0-9-]*` (loose:
/// `\d+` instead of the first).
fn valid_pre_identifier(s: &str, loose: bool) -> bool {
    if s.is_empty() || !s.bytes().all(is_ident_char) {
        return false;
    }
    let numeric = s.bytes().all(|b| b.is_ascii_digit());
    !numeric || loose || s == "0" || !s.starts_with('0')
}

fn valid_pre(s: &str, loose: bool) -> bool {
    s.split('.').all(|id| valid_pre_identifier(id, loose))
}

fn valid_build(s: &str) -> bool {
    s.split('.')
        .all(|id| !id.is_empty() && id.bytes().all(is_ident_char))
}

fn numeric(s: &str, loose: bool) -> Option<u64> {
    if s.is_empty()
        || !s.bytes().all(|b| b.is_ascii_digit())
        || (!loose && s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    // Too many digits for u64 is also too big for node.
    s.parse::<u64>().ok().filter(|&n| n <= MAX_SAFE_INTEGER)
}

fn js_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
}

/// Parses like `new SemVer(version, { loose })`; `None` where node throws.
pub fn parse(version: &str, loose: bool) -> Option<NodeVersion> {
    if version.encode_utf16().count() > MAX_LENGTH {
        return None;
    }
    let mut s = js_trim(version);
    if loose {
        s = s.trim_start_matches(|c: char| {
            c == 'v' || c == '=' || c.is_whitespace() || c == '\u{feff}'
        });
    } else {
        s = s.strip_prefix('v').unwrap_or(s);
    }
    let (main_pre, build) = match s.split_once('+') {
        Some((m, b)) => (m, Some(b)),
        None => (s, None),
    };
    if build.is_some_and(|b| !valid_build(b)) {
        return None;
    }
    let mut parts = main_pre.splitn(3, '.');
    let major = numeric(parts.next()?, loose)?;
    let minor = numeric(parts.next()?, loose)?;
    let rest = parts.next()?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    // Strict: the patch is all the digits and a pre-release needs `-`. Loose: the `-` is
    // optional, so (like the regex) shorter patches are tried when the greedy one fails.
    let splits: Vec<usize> = if loose {
        (1..=digits).rev().collect()
    } else {
        vec![digits]
    };
    for len in splits {
        let Some(patch) = numeric(&rest[..len], loose) else {
            continue;
        };
        let pre = &rest[len..];
        let pre = if pre.is_empty() {
            Some("")
        } else if let Some(p) = pre.strip_prefix('-').filter(|p| valid_pre(p, loose)) {
            Some(p)
        } else if loose && valid_pre(pre, true) {
            Some(pre)
        } else {
            None
        };
        if let Some(pre) = pre {
            return Some(NodeVersion {
                major,
                minor,
                patch,
                prerelease: if pre.is_empty() {
                    Vec::new()
                } else {
                    pre.split('.').map(Identifier::from_text).collect()
                },
                build: build
                    .map(|b| b.split('.').map(str::to_owned).collect())
                    .unwrap_or_default(),
            });
        }
    }
    None
}

/// `semver.valid(version, { loose })`: the normalised version, or `None`.
pub fn valid(version: &str, loose: bool) -> Option<String> {
    parse(version, loose).map(|v| v.to_string())
}

/// `semver.compare(a, b, loose)`; `None` where node throws (an invalid version).
/// Build metadata is ignored.
pub fn compare(a: &str, b: &str, loose: bool) -> Option<Ordering> {
    Some(parse(a, loose)?.compare(&parse(b, loose)?))
}

impl NodeVersion {
    /// Precedence as node-semver's `compare` (build metadata ignored).
    pub fn compare(&self, other: &NodeVersion) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(
                || match (self.prerelease.is_empty(), other.prerelease.is_empty()) {
                    (true, true) => Ordering::Equal,
                    (true, false) => Ordering::Greater,
                    (false, true) => Ordering::Less,
                    (false, false) => {
                        for (a, b) in self.prerelease.iter().zip(&other.prerelease) {
                            let o = compare_identifiers(&a.text(), &b.text());
                            if o != Ordering::Equal {
                                return o;
                            }
                        }
                        self.prerelease.len().cmp(&other.prerelease.len())
                    }
                },
            )
    }

    /// As a [`semver::Version`] (fails only for loose-only forms such as a numeric
    /// identifier with a leading zero).
    pub fn to_semver(&self) -> Result<Version, semver::Error> {
        let pre = self
            .prerelease
            .iter()
            .map(|i| i.text())
            .collect::<Vec<_>>()
            .join(".");
        Ok(Version {
            major: self.major,
            minor: self.minor,
            patch: self.patch,
            pre: Prerelease::new(&pre)?,
            build: BuildMetadata::new(&self.build.join("."))?,
        })
    }

    /// From a [`semver::Version`].
    pub fn from_semver(v: &Version) -> NodeVersion {
        NodeVersion {
            major: v.major,
            minor: v.minor,
            patch: v.patch,
            prerelease: if v.pre.is_empty() {
                Vec::new()
            } else {
                v.pre.split('.').map(Identifier::from_text).collect()
            },
            build: if v.build.is_empty() {
                Vec::new()
            } else {
                v.build.split('.').map(str::to_owned).collect()
            },
        }
    }
}

/// A release type of node-semver's `inc`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Release {
    /// `major`
    Major,
    /// `minor`
    Minor,
    /// `patch`
    Patch,
    /// `premajor`
    Premajor,
    /// `preminor`
    Preminor,
    /// `prepatch`
    Prepatch,
    /// `prerelease`
    Prerelease,
    /// `release`: drop the pre-release (fails on a stable version).
    Release,
    /// `pre`: node's internal step (bump the pre-release number only).
    Pre,
}

impl FromStr for Release {
    type Err = IncrementError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "major" => Release::Major,
            "minor" => Release::Minor,
            "patch" => Release::Patch,
            "premajor" => Release::Premajor,
            "preminor" => Release::Preminor,
            "prepatch" => Release::Prepatch,
            "prerelease" => Release::Prerelease,
            "release" => Release::Release,
            "pre" => Release::Pre,
            other => return Err(IncrementError::InvalidRelease(other.to_owned())),
        })
    }
}

impl Release {
    fn is_pre(self) -> bool {
        matches!(
            self,
            Release::Premajor
                | Release::Preminor
                | Release::Prepatch
                | Release::Prerelease
                | Release::Pre
        )
    }
}

/// node-semver's `identifierBase`: the number a new pre-release identifier starts at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum IdentifierBase {
    /// `"0"` or absent (the default): `1.2.4-rc.0`.
    #[default]
    Zero,
    /// `"1"`: `1.2.4-rc.1`.
    One,
    /// `false`: no number at all: `1.2.4-rc`.
    None,
}

impl IdentifierBase {
    fn number(self) -> u64 {
        u64::from(self == IdentifierBase::One)
    }
}

/// Why an increment failed (node-semver throws, and `inc` returns `null`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IncrementError {
    /// Not a release type.
    #[error("invalid increment argument: `{0}`")]
    InvalidRelease(String),
    /// A `pre*` release with no identifier and `IdentifierBase::None`.
    #[error("invalid increment argument: identifier is empty")]
    EmptyIdentifier,
    /// The identifier is not a valid pre-release.
    #[error("invalid identifier: `{0}`")]
    InvalidIdentifier(String),
    /// `prerelease` with `IdentifierBase::None` and the same identifier: nothing changes.
    #[error("invalid increment argument: identifier already exists")]
    IdentifierExists,
    /// `release` on a version that is not a pre-release.
    #[error("version `{0}` is not a prerelease")]
    NotPrerelease(String),
    /// A number would overflow.
    #[error("version number overflow")]
    Overflow,
    /// The result is not a strict semver version (loose-only identifiers).
    #[error("the result is not a strict semver version")]
    NotStrict,
}

fn inc1(n: u64) -> Result<u64, IncrementError> {
    n.checked_add(1).ok_or(IncrementError::Overflow)
}

/// `isPrereleaseIdentifier`: `identifier`'s dot parts are a prefix of `prerelease`.
fn is_prerelease_identifier(prerelease: &[Identifier], identifier: &str) -> bool {
    let ids: Vec<&str> = identifier.split('.').collect();
    ids.len() <= prerelease.len()
        && ids
            .iter()
            .zip(prerelease)
            .all(|(a, b)| compare_identifiers(&b.text(), a) == Ordering::Equal)
}

impl NodeVersion {
    /// node-semver's `SemVer#inc`, in place. `identifier` of `Some("")` is the same as
    /// `None` (both falsy in node).
    pub fn inc(
        &mut self,
        release: Release,
        identifier: Option<&str>,
        base: IdentifierBase,
        loose: bool,
    ) -> Result<(), IncrementError> {
        let identifier = identifier.filter(|s| !s.is_empty());
        if release.is_pre() {
            if identifier.is_none() && base == IdentifierBase::None {
                return Err(IncrementError::EmptyIdentifier);
            }
            if let Some(id) = identifier
                && !valid_pre(id, loose)
            {
                return Err(IncrementError::InvalidIdentifier(id.to_owned()));
            }
        }
        match release {
            Release::Premajor => {
                self.prerelease.clear();
                self.patch = 0;
                self.minor = 0;
                self.major = inc1(self.major)?;
                self.inc(Release::Pre, identifier, base, loose)?;
            }
            Release::Preminor => {
                self.prerelease.clear();
                self.patch = 0;
                self.minor = inc1(self.minor)?;
                self.inc(Release::Pre, identifier, base, loose)?;
            }
            Release::Prepatch => {
                self.prerelease.clear();
                self.inc(Release::Patch, identifier, base, loose)?;
                self.inc(Release::Pre, identifier, base, loose)?;
            }
            Release::Prerelease => {
                if self.prerelease.is_empty() {
                    self.inc(Release::Patch, identifier, base, loose)?;
                }
                self.inc(Release::Pre, identifier, base, loose)?;
            }
            Release::Release => {
                if self.prerelease.is_empty() {
                    return Err(IncrementError::NotPrerelease(self.to_string()));
                }
                self.prerelease.clear();
            }
            Release::Major => {
                if self.minor != 0 || self.patch != 0 || self.prerelease.is_empty() {
                    self.major = inc1(self.major)?;
                }
                self.minor = 0;
                self.patch = 0;
                self.prerelease.clear();
            }
            Release::Minor => {
                if self.patch != 0 || self.prerelease.is_empty() {
                    self.minor = inc1(self.minor)?;
                }
                self.patch = 0;
                self.prerelease.clear();
            }
            Release::Patch => {
                if self.prerelease.is_empty() {
                    self.patch = inc1(self.patch)?;
                }
                self.prerelease.clear();
            }
            Release::Pre => {
                let n = base.number();
                if self.prerelease.is_empty() {
                    self.prerelease = vec![Identifier::Num(n)];
                } else {
                    let last_num = self
                        .prerelease
                        .iter()
                        .rposition(|i| matches!(i, Identifier::Num(_)));
                    match last_num {
                        Some(i) => {
                            if let Identifier::Num(x) = &mut self.prerelease[i] {
                                *x = inc1(*x)?;
                            }
                        }
                        None => {
                            let joined = self
                                .prerelease
                                .iter()
                                .map(|i| i.text())
                                .collect::<Vec<_>>()
                                .join(".");
                            if identifier == Some(joined.as_str()) && base == IdentifierBase::None {
                                return Err(IncrementError::IdentifierExists);
                            }
                            self.prerelease.push(Identifier::Num(n));
                        }
                    }
                }
                if let Some(id) = identifier {
                    let mut fresh = vec![Identifier::Str(id.to_owned())];
                    if base != IdentifierBase::None {
                        fresh.push(Identifier::Num(n));
                    }
                    if is_prerelease_identifier(&self.prerelease, id) {
                        // Keep the bumped number only when one follows the identifier.
                        let next = self.prerelease.get(id.split('.').count());
                        let follows_number = match next {
                            Some(Identifier::Num(_)) => true,
                            Some(Identifier::Str(s)) => {
                                !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
                            }
                            None => false,
                        };
                        if !follows_number {
                            self.prerelease = fresh;
                        }
                    } else {
                        self.prerelease = fresh;
                    }
                }
            }
        }
        Ok(())
    }
}

/// node-semver's `inc(version, release, { loose }, identifier, identifierBase)`:
/// the new version string (no build metadata), or `None` where node returns `null`.
pub fn inc(
    version: &str,
    release: &str,
    loose: bool,
    identifier: Option<&str>,
    base: IdentifierBase,
) -> Option<String> {
    let mut v = parse(version, loose)?;
    let release = release.parse().ok()?;
    v.inc(release, identifier, base, loose).ok()?;
    Some(v.to_string())
}

/// node-semver's increment on a [`semver::Version`] (strict identifiers). Build
/// metadata is dropped, as node does.
///
/// ```
/// use hub_conventional::node::{increment, IdentifierBase, Release};
/// use semver::Version;
///
/// let v = Version::parse("1.2.3-beta.4").expect("valid");
/// assert_eq!(increment(&v, Release::Prerelease, None, IdentifierBase::Zero).expect("ok").to_string(), "1.2.3-beta.5");
/// assert_eq!(increment(&v, Release::Minor, None, IdentifierBase::Zero).expect("ok").to_string(), "1.3.0");
/// ```
pub fn increment(
    version: &Version,
    release: Release,
    identifier: Option<&str>,
    base: IdentifierBase,
) -> Result<Version, IncrementError> {
    let mut v = NodeVersion::from_semver(version);
    v.inc(release, identifier, base, false)?;
    v.build.clear();
    v.to_semver().map_err(|_| IncrementError::NotStrict)
}
