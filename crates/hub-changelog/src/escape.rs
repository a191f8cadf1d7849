//! Making commit-derived text inert in Markdown, HTML and workflow logs.
//!
//! Commit messages are written by anyone who can open a pull request, and the changelog
//! ends up in a file, a GitHub release, and a step's log. [`markdown`] turns such text
//! into Markdown that renders as the same characters and nothing more:
//!
//! - HTML: `<`, `>` and `&` become `&lt;`, `&gt;`, `&amp;` — `<script>` is text;
//! - links and images: `[`, `]` are backslash-escaped — `[x](javascript:…)` is text;
//! - emphasis, tables, strikethrough: `\`, `*`, `_`, `|`, `~` are backslash-escaped;
//! - structure: at the start of every line, a block marker (`#`, `>`, `-`, `+`, `=`,
//!   `1.`/`1)`) is escaped, so text cannot open a heading, quote or list;
//! - mentions: `@name` becomes `@\u{200B}name` (a zero-width space after the `@`): it
//!   reads the same but pings nobody (`@everyone` included);
//! - workflow commands: a line whose text starts with `::` gets a zero-width space in
//!   front, so `::set-output …` stays text even when the notes are echoed to a log;
//! - code: inline code spans (matched backtick runs on one paragraph) and fenced code
//!   blocks (a line starting with three or more backticks, to the matching fence) are
//!   kept as written — their content is literal in Markdown anyway. An unmatched
//!   backtick is escaped.
//!
//! With [`IssueLinks`], `#123` (not part of a word or a path) becomes a link to the
//! issue.

/// Where `#123` links to: `{base}/issues/123`.
#[derive(Clone, Copy, Debug)]
pub struct IssueLinks<'a> {
    /// `https://github.com/owner/repo` (no trailing slash).
    pub base: &'a str,
}

const ZWSP: char = '\u{200B}';

/// Escapes commit-derived text for Markdown (see the module docs).
///
/// ```
/// use hub_changelog::escape::markdown;
///
/// assert_eq!(markdown("<script>alert(1)</script>", None), "&lt;script&gt;alert(1)&lt;/script&gt;");
/// assert_eq!(markdown("see [x](javascript:alert(1))", None), "see \\[x\\](javascript:alert(1))");
/// assert_eq!(markdown("thanks @everyone", None), "thanks @\u{200B}everyone");
/// assert_eq!(markdown("keep `a_b <c>` as code", None), "keep `a_b <c>` as code");
/// ```
pub fn markdown(text: &str, issues: Option<IssueLinks<'_>>) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let b = text.as_bytes();
    let mut i = 0;
    let mut line_start = true;
    while i < b.len() {
        if line_start {
            line_start = false;
            // Leading spaces are kept; then look at what opens the line.
            let indent = b[i..]
                .iter()
                .take_while(|&&c| c == b' ' || c == b'\t')
                .count();
            out.push_str(&text[i..i + indent]);
            i += indent;
            if indent <= 3
                && let Some(end) = fence_end(text, i)
            {
                push_raw(&mut out, &text[i..end]);
                i = end;
                line_start = true;
                continue;
            }
            if text[i..].starts_with("::") {
                out.push(ZWSP);
            }
            if let Some(len) = block_marker(&b[i..]) {
                // Escape the marker's last character (`1\.`, `\#`, `\-`).
                out.push_str(&text[i..i + len - 1]);
                out.push('\\');
                out.push(b[i + len - 1] as char);
                i += len;
                continue;
            }
        }
        let c = b[i];
        match c {
            b'\n' => {
                out.push('\n');
                line_start = true;
                i += 1;
            }
            b'`' => {
                let run = b[i..].iter().take_while(|&&c| c == b'`').count();
                match code_span_end(text, i, run) {
                    Some(end) => {
                        push_raw(&mut out, &text[i..end]);
                        i = end;
                    }
                    None => {
                        for _ in 0..run {
                            out.push_str("\\`");
                        }
                        i += run;
                    }
                }
            }
            b'<' => {
                out.push_str("&lt;");
                i += 1;
            }
            b'>' => {
                out.push_str("&gt;");
                i += 1;
            }
            b'&' => {
                out.push_str("&amp;");
                i += 1;
            }
            b'\\' | b'*' | b'_' | b'[' | b']' | b'|' | b'~' => {
                out.push('\\');
                out.push(c as char);
                i += 1;
            }
            b'@' if starts_mention(b, i) => {
                out.push('@');
                out.push(ZWSP);
                i += 1;
            }
            b'#' if issues.is_some() && starts_issue(b, i) => {
                let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
                let n = &text[i + 1..i + 1 + digits];
                if let Some(links) = issues {
                    out.push_str(&format!("[#{n}]({}/issues/{n})", links.base));
                }
                i += 1 + digits;
            }
            _ => {
                // Copy a run of ordinary characters at once (UTF-8 safe: all the
                // special characters are ASCII).
                let run = b[i..]
                    .iter()
                    .position(|&c| {
                        matches!(
                            c,
                            b'\n'
                                | b'`'
                                | b'<'
                                | b'>'
                                | b'&'
                                | b'\\'
                                | b'*'
                                | b'_'
                                | b'['
                                | b']'
                                | b'|'
                                | b'~'
                                | b'@'
                                | b'#'
                        )
                    })
                    .unwrap_or(b.len() - i)
                    .max(1);
                let mut end = i + run;
                while !text.is_char_boundary(end) {
                    end += 1;
                }
                out.push_str(&text[i..end]);
                i = end;
            }
        }
    }
    out
}

/// Copies literal code, guarding lines that would read as workflow commands.
fn push_raw(out: &mut String, code: &str) {
    for (k, line) in code.split_inclusive('\n').enumerate() {
        if k > 0 && line.trim_start().starts_with("::") {
            let indent = line.len() - line.trim_start().len();
            out.push_str(&line[..indent]);
            out.push(ZWSP);
            out.push_str(&line[indent..]);
        } else {
            out.push_str(line);
        }
    }
}

/// Length of a block marker at the start of a line, if any.
fn block_marker(b: &[u8]) -> Option<usize> {
    match b.first()? {
        b'#' | b'>' | b'-' | b'+' | b'=' | b'*' | b'|' | b'~' | b'_' => Some(1),
        c if c.is_ascii_digit() => {
            let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
            matches!(b.get(digits), Some(b'.' | b')')).then_some(digits + 1)
        }
        _ => None,
    }
}

/// End (exclusive) of a fenced code block opening at `i` (a run of 3+ backticks at a
/// line start): after the closing fence line, or the end of the text.
fn fence_end(text: &str, i: usize) -> Option<usize> {
    let b = text.as_bytes();
    let run = b[i..].iter().take_while(|&&c| c == b'`').count();
    if run < 3 {
        return None;
    }
    let info_end = text[i..].find('\n').map_or(text.len(), |p| i + p);
    if text[i + run..info_end].contains('`') {
        return None; // not a fence: backticks in the info string
    }
    let mut pos = info_end;
    while pos < text.len() {
        let line_start = pos + 1;
        let line_end = text[line_start..]
            .find('\n')
            .map_or(text.len(), |p| line_start + p);
        let line = text[line_start..line_end].trim_start_matches([' ', '\t']);
        let closing = line.bytes().take_while(|&c| c == b'`').count();
        if closing >= run && line[closing..].trim().is_empty() {
            return Some(line_end);
        }
        pos = line_end;
    }
    Some(text.len())
}

/// End (exclusive) of an inline code span opened by a run of `run` backticks at `i`:
/// the next run of exactly `run` backticks before a blank line.
fn code_span_end(text: &str, i: usize, run: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut j = i + run;
    while j < b.len() {
        match b[j] {
            b'`' => {
                let r = b[j..].iter().take_while(|&&c| c == b'`').count();
                if r == run {
                    return Some(j + r);
                }
                j += r;
            }
            b'\n' => {
                let blank = b[j + 1..]
                    .iter()
                    .take_while(|&&c| c == b' ' || c == b'\t')
                    .count();
                if matches!(b.get(j + 1 + blank), Some(b'\n') | None) {
                    return None;
                }
                j += 1;
            }
            _ => j += 1,
        }
    }
    None
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// `@` starting a GitHub mention: not after a word character, `.`, `/` or `` ` ``,
/// followed by an alphanumeric.
fn starts_mention(b: &[u8], i: usize) -> bool {
    let before_ok = i == 0 || !(is_word(b[i - 1]) || matches!(b[i - 1], b'.' | b'/' | b'`' | b'-'));
    before_ok && b.get(i + 1).is_some_and(u8::is_ascii_alphanumeric)
}

/// `#` starting an issue reference: not after a word character, `/` or `&`, followed by
/// digits that are not followed by a word character.
fn starts_issue(b: &[u8], i: usize) -> bool {
    let before_ok = i == 0 || !(is_word(b[i - 1]) || matches!(b[i - 1], b'/' | b'&'));
    let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
    before_ok && digits > 0 && !b.get(i + 1 + digits).is_some_and(|&c| is_word(c))
}

/// Guards every line of a rendered document that would read as a workflow command.
pub(crate) fn guard_workflow_commands(doc: &str) -> String {
    if !doc.contains("::") {
        return doc.to_owned();
    }
    let mut out = String::with_capacity(doc.len());
    for line in doc.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with("::") {
            out.push_str(&line[..line.len() - trimmed.len()]);
            out.push(ZWSP);
            out.push_str(trimmed);
        } else {
            out.push_str(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(s: &str) -> String {
        markdown(
            s,
            Some(IssueLinks {
                base: "https://gh.example/o/r",
            }),
        )
    }

    #[test]
    fn html_and_links_are_text() {
        assert_eq!(
            md("<img src=x onerror=alert(1)>"),
            "&lt;img src=x onerror=alert(1)&gt;"
        );
        assert_eq!(md("![i](http://x/y.png)"), "!\\[i\\](http://x/y.png)");
        assert_eq!(md("<javascript:alert(1)>"), "&lt;javascript:alert(1)&gt;");
        assert_eq!(md("a &lt; b"), "a &amp;lt; b");
    }

    #[test]
    fn structure_cannot_change() {
        assert_eq!(md("# title"), "\\# title");
        assert_eq!(md("> quote"), "\\&gt; quote".replace("\\&gt;", "\\>"));
        assert_eq!(
            md("- item\n+ item\n1. item\n2) item\n==="),
            "\\- item\n\\+ item\n1\\. item\n2\\) item\n\\==="
        );
        assert_eq!(md("a\n# b"), "a\n\\# b");
        assert_eq!(md("x | y"), "x \\| y");
    }

    #[test]
    fn mentions_ping_nobody() {
        assert_eq!(
            md("@everyone @org/team"),
            "@\u{200B}everyone @\u{200B}org/team"
        );
        assert_eq!(md("mail me@example.com"), "mail me@example.com");
        assert_eq!(md("use npm@5"), "use npm@5");
        assert_eq!(md("`@user` in code"), "`@user` in code");
    }

    #[test]
    fn workflow_commands_stay_text() {
        assert_eq!(
            md("::set-output name=x::y"),
            "\u{200B}::set-output name=x::y"
        );
        assert_eq!(md("a\n  ::error::boom"), "a\n  \u{200B}::error::boom");
        assert_eq!(
            md("```\n::warning::x\n```"),
            "```\n\u{200B}::warning::x\n```"
        );
        assert_eq!(
            guard_workflow_commands("ok\n ::add-mask::x\n"),
            "ok\n \u{200B}::add-mask::x\n"
        );
    }

    #[test]
    fn issues_are_linked() {
        assert_eq!(
            md("fix crash (#123)"),
            "fix crash ([#123](https://gh.example/o/r/issues/123))"
        );
        assert_eq!(
            md("see o/r#5, c#9, #1a, &#60;"),
            "see o/r#5, c#9, #1a, &amp;#60;"
        );
        assert_eq!(markdown("(#123)", None), "(#123)");
    }

    #[test]
    fn code_is_kept() {
        assert_eq!(md("``a ` b``"), "``a ` b``");
        assert_eq!(md("lone ` tick"), "lone \\` tick");
        // A code span cannot cross a blank line: the text after it is escaped.
        assert_eq!(md("`a\n\n# b`"), "\\`a\n\n\\# b\\`");
        let fence = "Code block:\n\n```js\nmigrate('X_1')\n```\nafter_x";
        assert_eq!(
            md(fence),
            "Code block:\n\n```js\nmigrate('X_1')\n```\nafter\\_x"
        );
        // An unclosed fence runs to the end.
        assert_eq!(md("```\n<b>"), "```\n<b>");
    }

    #[test]
    fn unicode_passes_through() {
        assert_eq!(md("caf\u{e9} 💃 _x_"), "caf\u{e9} 💃 \\_x\\_");
    }
}
