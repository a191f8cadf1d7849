//! Updating a CHANGELOG.md: a pure string function.

/// The header written when the file is empty.
pub const KEEP_A_CHANGELOG_HEADER: &str = "# Changelog

All notable changes to this project will be documented in this file.

The format is based on [Keep a Changelog](https://keepachangelog.com/en/1.1.0/),
and this project adheres to [Semantic Versioning](https://semver.org/spec/v2.0.0.html).
";

/// Puts `section` (one rendered release) into `existing` (the file's text):
///
/// - an empty file gets [`KEEP_A_CHANGELOG_HEADER`] then the section;
/// - an existing section for the same `version` is REPLACED in place, never duplicated;
/// - otherwise the section goes right under the file's header (everything before the
///   first release heading), above the newest release. An `Unreleased` section is
///   replaced by the new version's section: its changes are the ones being released;
/// - the result is idempotent: `prepend(&prepend(x, s, v), s, v) == prepend(x, s, v)`.
///
/// A release heading is a line `## …` (or `# …` whose text starts with a version, as
/// old angular changelogs write majors) whose first word, after `[` and a `v`, is a
/// version or `Unreleased`. If `section` has no heading for `version`, `## {version}`
/// is added so the next run finds it. `version` is `1.2.0` (a leading `v` is ignored)
/// or `Unreleased`. Line endings are written as `\n`.
///
/// ```
/// use hub_changelog::prepend;
///
/// let once = prepend("", "## [1.0.0] - 2024-05-01\n\n### Features\n\n- a\n", "1.0.0");
/// assert!(once.starts_with("# Changelog\n"));
/// assert_eq!(prepend(&once, "## [1.0.0] - 2024-05-01\n\n### Features\n\n- a\n", "1.0.0"), once);
/// ```
pub fn prepend(existing: &str, section: &str, version: &str) -> String {
    let version = version.trim();
    let version = version
        .strip_prefix(['v', 'V'])
        .filter(|v| v.starts_with(|c: char| c.is_ascii_digit()))
        .unwrap_or(version);
    let mut section = section.trim().to_owned();
    if !section
        .lines()
        .any(|l| heading_version(l).is_some_and(|v| same_version(v, version)))
    {
        section = format!("## {version}\n\n{section}");
    }

    let existing = existing.replace("\r\n", "\n");
    if existing.trim().is_empty() {
        return format!("{}\n{section}\n", KEEP_A_CHANGELOG_HEADER);
    }

    // Byte ranges of every release section: (start, end, version).
    let mut starts: Vec<(usize, &str)> = Vec::new();
    let mut offset = 0;
    let mut in_fence = false;
    for line in existing.split_inclusive('\n') {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        }
        if !in_fence && let Some(v) = heading_version(line) {
            starts.push((offset, v));
        }
        offset += line.len();
    }
    let sections: Vec<(usize, usize, &str)> = starts
        .iter()
        .enumerate()
        .map(|(i, &(s, v))| (s, starts.get(i + 1).map_or(existing.len(), |n| n.0), v))
        .collect();

    let target = sections
        .iter()
        .find(|(_, _, v)| same_version(v, version))
        .or_else(|| {
            sections
                .first()
                .filter(|(_, _, v)| v.eq_ignore_ascii_case("unreleased"))
        });
    let (before, after) = match target {
        Some(&(s, e, _)) => (&existing[..s], &existing[e..]),
        None => {
            let s = sections.first().map_or(existing.len(), |f| f.0);
            (&existing[..s], &existing[s..])
        }
    };
    join(before, &section, after)
}

fn join(before: &str, section: &str, after: &str) -> String {
    let mut out = String::with_capacity(before.len() + section.len() + after.len() + 4);
    let before = before.trim_end();
    if !before.is_empty() {
        out.push_str(before);
        out.push_str("\n\n");
    }
    out.push_str(section);
    out.push('\n');
    let after = after.trim();
    if !after.is_empty() {
        out.push('\n');
        out.push_str(after);
        out.push('\n');
    }
    out
}

/// The version (or `Unreleased`) a release heading line names.
fn heading_version(line: &str) -> Option<&str> {
    let line = line.trim_end();
    let (level2, text) = match line.strip_prefix("## ") {
        Some(t) => (true, t),
        None => (false, line.strip_prefix("# ")?),
    };
    let text = text.trim_start().trim_start_matches('[');
    let word_end = text
        .find(|c: char| c.is_whitespace() || matches!(c, ']' | '(' | ')'))
        .unwrap_or(text.len());
    let word = &text[..word_end];
    let bare = word
        .strip_prefix(['v', 'V'])
        .filter(|w| w.starts_with(|c: char| c.is_ascii_digit()))
        .unwrap_or(word);
    if bare.eq_ignore_ascii_case("unreleased") {
        return level2.then_some(bare);
    }
    let is_version = bare.split('.').count() >= 3 && bare.starts_with(|c: char| c.is_ascii_digit());
    is_version.then_some(bare)
}

fn same_version(a: &str, b: &str) -> bool {
    a == b || (a.eq_ignore_ascii_case("unreleased") && b.eq_ignore_ascii_case("unreleased"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings() {
        assert_eq!(
            heading_version("## [1.2.0](https://x) - 2024"),
            Some("1.2.0")
        );
        assert_eq!(heading_version("## 1.2.0 (2024-01-01)\n"), Some("1.2.0"));
        assert_eq!(heading_version("## v1.2.0-rc.1"), Some("1.2.0-rc.1"));
        assert_eq!(heading_version("# [2.0.0](x) (2024)"), Some("2.0.0"));
        assert_eq!(heading_version("## [Unreleased]"), Some("Unreleased"));
        assert_eq!(heading_version("# Changelog"), None);
        assert_eq!(heading_version("### Features"), None);
        assert_eq!(heading_version("## Notes"), None);
        assert_eq!(heading_version("## 2024 plans"), None);
    }
}
