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
/// or `Unreleased`.
///
/// Line endings are the file's: the new section (and the blank lines around it) is written
/// with the ending most of the file's lines have — `\r\n` for a CRLF file, `\n` otherwise
/// (an empty file, a tie) — and the file's own lines keep theirs, byte for byte.
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
    let mut section = section.trim().replace("\r\n", "\n");
    if !section
        .lines()
        .any(|l| heading_version(l).is_some_and(|v| same_version(v, version)))
    {
        section = format!("## {version}\n\n{section}");
    }
    let nl = line_ending(existing);
    let section = with_line_ending(&section, nl);

    if existing.trim().is_empty() {
        return format!(
            "{}{nl}{section}{nl}",
            with_line_ending(KEEP_A_CHANGELOG_HEADER, nl)
        );
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
    join(before, &section, after, nl)
}

fn join(before: &str, section: &str, after: &str, nl: &str) -> String {
    let mut out = String::with_capacity(before.len() + section.len() + after.len() + 4);
    let before = before.trim_end();
    if !before.is_empty() {
        out.push_str(before);
        out.push_str(nl);
        out.push_str(nl);
    }
    out.push_str(section);
    out.push_str(nl);
    let after = after.trim();
    if !after.is_empty() {
        out.push_str(nl);
        out.push_str(after);
        out.push_str(nl);
    }
    out
}

/// `text` (a whole changelog written anew, as `mode: overwrite` does) in the line endings
/// of `existing`, the file it replaces, as [`prepend`] writes its section: every line break
/// becomes the ending most of `existing`'s lines have — `\r\n` for a CRLF file, `\n`
/// otherwise (an empty or missing file, a tie).
///
/// ```
/// use hub_changelog::in_line_endings_of;
///
/// assert_eq!(in_line_endings_of("# Old\r\n", "# New\n\n- a\n"), "# New\r\n\r\n- a\r\n");
/// assert_eq!(in_line_endings_of("", "# New\r\n"), "# New\n");
/// ```
pub fn in_line_endings_of(existing: &str, text: &str) -> String {
    with_line_ending(text, line_ending(existing))
}

/// `text` with every line break (`\r\n` or `\n`) written as `nl`.
fn with_line_ending(text: &str, nl: &str) -> String {
    let text = text.replace("\r\n", "\n");
    if nl == "\n" {
        text
    } else {
        text.replace('\n', nl)
    }
}

/// The line ending most of `text`'s lines end with: `\r\n` when more lines end with it
/// than with a lone `\n`, else `\n`.
fn line_ending(text: &str) -> &'static str {
    let lines = text.matches('\n').count();
    let crlf = text.matches("\r\n").count();
    if crlf > lines - crlf { "\r\n" } else { "\n" }
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

    const SECTION: &str = "## [1.1.0] - 2024-06-01\n\n### Features\n\n- b\n";

    /// Every line break of `text` that is not `\r\n`.
    fn lone_lfs(text: &str) -> usize {
        text.matches('\n').count() - text.matches("\r\n").count()
    }

    #[test]
    fn a_crlf_file_gets_its_new_section_in_crlf() {
        let old = "# Changelog\r\n\r\nNotes.\r\n\r\n## [1.0.0] - 2024-05-01\r\n\r\n- a\r\n";
        let new = prepend(old, SECTION, "1.1.0");
        assert_eq!(
            new,
            "# Changelog\r\n\r\nNotes.\r\n\r\n## [1.1.0] - 2024-06-01\r\n\r\n### Features\r\n\r\n- b\r\n\r\n## [1.0.0] - 2024-05-01\r\n\r\n- a\r\n"
        );
        assert_eq!(prepend(&new, SECTION, "1.1.0"), new);
        // A section given in CRLF (a template file checked out on Windows) too.
        assert_eq!(prepend(&new, &SECTION.replace('\n', "\r\n"), "1.1.0"), new);
        // The same version again, with other notes: replaced in place, still CRLF.
        let other = prepend(&new, &SECTION.replace("- b", "- c"), "1.1.0");
        assert_eq!(lone_lfs(&other), 0, "{other:?}");
        assert_eq!(other, new.replace("- b", "- c"));
    }

    #[test]
    fn an_lf_file_stays_lf_and_an_empty_file_starts_in_lf() {
        let old = "# Changelog\n\n## [1.0.0] - 2024-05-01\n\n- a\n";
        let new = prepend(old, &SECTION.replace('\n', "\r\n"), "1.1.0");
        assert!(!new.contains('\r'), "{new:?}");
        assert_eq!(prepend(&new, SECTION, "1.1.0"), new);
        assert!(!prepend("", SECTION, "1.1.0").contains('\r'));
    }

    #[test]
    fn a_mixed_file_gets_the_majoritys_line_endings_and_keeps_its_own_lines() {
        // Mostly CRLF, one LF line (an edit made with another editor): the new section is
        // CRLF, and the LF line is left as it was.
        let old = "# Changelog\r\n\r\nNotes.\nMore.\r\n\r\n## [1.0.0] - 2024-05-01\r\n\r\n- a\r\n";
        let new = prepend(old, SECTION, "1.1.0");
        assert!(new.contains("Notes.\nMore.\r\n\r\n## [1.1.0]"), "{new:?}");
        assert!(
            new.contains("## [1.1.0] - 2024-06-01\r\n\r\n### Features\r\n\r\n- b\r\n\r\n"),
            "{new:?}"
        );
        assert_eq!(lone_lfs(&new), 1, "{new:?}");
        assert_eq!(prepend(&new, SECTION, "1.1.0"), new);
        // Mostly LF, one CRLF line: the section in LF, the CRLF line kept.
        let old = "# Changelog\n\nNotes.\r\nMore.\n\n## [1.0.0] - 2024-05-01\n\n- a\n";
        let new = prepend(old, SECTION, "1.1.0");
        assert!(
            new.contains(
                "Notes.\r\nMore.\n\n## [1.1.0] - 2024-06-01\n\n### Features\n\n- b\n\n## [1.0.0]"
            ),
            "{new:?}"
        );
        assert_eq!(new.matches("\r\n").count(), 1, "{new:?}");
        assert_eq!(prepend(&new, SECTION, "1.1.0"), new);
    }
}
