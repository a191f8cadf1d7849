//! Markdown for step summaries and PR comments, with escaping of untrusted text.
//!
//! GitHub renders both with the same GFM pipeline, so text that came from a commit
//! message, a PR title, a config value or a metric label must not be able to add links,
//! images, HTML, headings, table cells or `@mentions`. [`escape`] makes such text inert
//! inline (one table cell or list item); [`escape_text`] makes multi-line text inert while
//! keeping its lines and code (commit messages in a changelog). Both break mentions the
//! same way, with [`MENTION_BREAK`].

/// What follows an `@` that must not ping anyone, and precedes a `::` that must not read
/// as a workflow command: a word joiner (U+2060), invisible and not a line-break
/// opportunity, the same character `command` puts into `##[`.
pub const MENTION_BREAK: char = '\u{2060}';

/// Escapes untrusted text for use inline in Markdown (a paragraph, list item or table
/// cell).
///
/// - every ASCII punctuation character that GFM gives meaning to is backslash-escaped
///   (CommonMark allows a backslash before any ASCII punctuation, so rendering is exact);
/// - `&` becomes `&amp;`, so entity references cannot produce markup;
/// - `@` is followed by a word joiner (U+2060), so `@user` and `@org/team` do not notify
///   anyone, while the text still reads the same;
/// - newlines become `<br>`, so one value stays in one table cell or list item.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '<' | '>' | '(' | ')' | '#' | '+'
            | '-' | '.' | '!' | '|' | '~' | '"' | '\'' | '=' | ':' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '&' => out.push_str("&amp;"),
            '@' => {
                out.push('@');
                out.push(MENTION_BREAK);
            }
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("<br>");
            }
            '\n' => out.push_str("<br>"),
            c => out.push(c),
        }
    }
    out
}

/// Renders untrusted text as inline code. The fence is longer than any run of backticks
/// inside, and newlines are folded to spaces (code spans cannot hold them); empty text is
/// nothing (Markdown has no empty code span).
pub fn code(text: &str) -> String {
    // Markdown has no empty code span: two backticks would show as they are.
    if text.is_empty() {
        return String::new();
    }
    let one_line = text.replace(['\r', '\n'], " ");
    let fence = "`".repeat(longest_run(&one_line, '`') + 1);
    let pad = if one_line.starts_with('`') || one_line.ends_with('`') {
        " "
    } else {
        ""
    };
    // `|` inside a code span still splits a GFM table cell; escape it.
    let body = one_line.replace('|', "\\|");
    format!("{fence}{pad}{body}{pad}{fence}")
}

/// Escapes a message of ours that quotes values between backticks (`` provider `x` is not
/// keyed ``), where the values may be untrusted (a config value, a metric label): each pair of
/// backticks becomes a code span ([`code`]) and the text around them is escaped ([`escape`]),
/// so the quotes render as code rather than as literal backticks. An unpaired backtick is
/// escaped, so nothing a value holds can open or close a span of its own.
pub fn escape_message(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    // With an odd number of backticks the last one has no partner: it and what follows it
    // are plain text.
    let paired = if parts.len() % 2 == 1 {
        parts.len()
    } else {
        parts.len() - 1
    };
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for (i, part) in parts[..paired].iter().enumerate() {
        if i % 2 == 1 {
            out.push_str(&code(part));
        } else {
            out.push_str(&escape(part));
        }
    }
    if paired < parts.len() {
        out.push_str("\\`");
        out.push_str(&escape(parts[paired]));
    }
    out
}

/// Renders untrusted text as a fenced code block (longer fence than any inside).
pub fn code_block(lang: &str, text: &str) -> String {
    let fence = "`".repeat(longest_run(text, '`').max(2) + 1);
    let lang: String = lang.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    let nl = if text.ends_with('\n') { "" } else { "\n" };
    format!("{fence}{lang}\n{text}{nl}{fence}\n")
}

fn longest_run(text: &str, ch: char) -> usize {
    let mut best = 0;
    let mut cur = 0;
    for c in text.chars() {
        if c == ch {
            cur += 1;
            best = best.max(cur);
        } else {
            cur = 0;
        }
    }
    best
}

/// A hidden marker for sticky comments: `<!-- hub-actions:<action> -->`. The action name is
/// ours; anything outside `[a-z0-9-]` is dropped so it cannot close the comment.
pub fn marker(action: &str) -> String {
    let mut name = String::new();
    for c in action.chars() {
        // Drop everything but `[A-Za-z0-9-]`, and never two hyphens in a row (`--`).
        if c.is_ascii_alphanumeric() || (c == '-' && !name.ends_with('-')) {
            name.push(c);
        }
    }
    format!("<!-- hub-actions:{name} -->")
}

/// A small Markdown document builder. Methods that take `&str` text treat it as trusted
/// (our own words) unless their name says `untrusted`; table cells are [`Cell`]s, which
/// say which they are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Markdown {
    buf: String,
}

/// One table cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell {
    /// Our own Markdown, inserted as is.
    Md(String),
    /// Untrusted text, escaped with [`escape`].
    Text(String),
    /// Untrusted text shown as inline code.
    Code(String),
    /// A message of ours quoting possibly untrusted values in backticks, escaped with
    /// [`escape_message`].
    Message(String),
}

impl Cell {
    fn render(&self) -> String {
        match self {
            Cell::Md(s) => s.replace(['\r', '\n'], " "),
            Cell::Text(s) => escape(s),
            Cell::Code(s) => code(s),
            Cell::Message(s) => escape_message(s),
        }
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl Markdown {
    /// An empty document.
    pub fn new() -> Self {
        Markdown::default()
    }

    fn block(&mut self, text: &str) -> &mut Self {
        if !self.buf.is_empty() && !self.buf.ends_with("\n\n") {
            if !self.buf.ends_with('\n') {
                self.buf.push('\n');
            }
            self.buf.push('\n');
        }
        self.buf.push_str(text);
        if !text.ends_with('\n') {
            self.buf.push('\n');
        }
        self
    }

    /// A heading of our own text (level 1–6).
    pub fn heading(&mut self, level: u8, text: &str) -> &mut Self {
        let level = level.clamp(1, 6) as usize;
        self.block(&format!("{} {}", "#".repeat(level), text))
    }

    /// A paragraph of our own Markdown.
    pub fn paragraph(&mut self, md: &str) -> &mut Self {
        self.block(md)
    }

    /// A paragraph of a message of ours quoting possibly untrusted values in backticks
    /// ([`escape_message`]).
    pub fn paragraph_message(&mut self, text: &str) -> &mut Self {
        self.block(&escape_message(text))
    }

    /// Raw Markdown or HTML of our own.
    pub fn raw(&mut self, md: &str) -> &mut Self {
        self.block(md)
    }

    /// A bullet list of cells.
    pub fn list<I, C>(&mut self, items: I) -> &mut Self
    where
        I: IntoIterator<Item = C>,
        C: Into<Cell>,
    {
        let body: String = items
            .into_iter()
            .map(|c| format!("- {}\n", c.into().render()))
            .collect();
        if body.is_empty() {
            return self;
        }
        self.block(&body)
    }

    /// A table. Rows shorter than the header are padded.
    pub fn table(&mut self, header: &[&str], rows: &[Vec<Cell>]) -> &mut Self {
        let mut t = String::new();
        t.push('|');
        for h in header {
            t.push_str(&format!(" {} |", escape(h)));
        }
        t.push_str("\n|");
        for _ in header {
            t.push_str(" --- |");
        }
        t.push('\n');
        for row in rows {
            t.push('|');
            for i in 0..header.len() {
                let cell = row.get(i).map(Cell::render).unwrap_or_default();
                t.push_str(&format!(" {cell} |"));
            }
            t.push('\n');
        }
        self.block(&t)
    }

    /// A collapsible `<details>` section; `summary` is our own text, `body` our Markdown.
    pub fn details(&mut self, summary: &str, body: &str) -> &mut Self {
        self.block(&format!(
            "<details><summary>{}</summary>\n\n{}\n</details>",
            html_escape(summary),
            body.trim_end()
        ))
    }

    /// A fenced code block of untrusted text.
    pub fn code_block(&mut self, lang: &str, text: &str) -> &mut Self {
        self.block(&code_block(lang, text))
    }

    /// The document so far.
    pub fn as_str(&self) -> &str {
        &self.buf
    }

    /// The finished document.
    pub fn into_string(self) -> String {
        self.buf
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Where `#123` links to: `{base}/issues/123`.
#[derive(Clone, Copy, Debug)]
pub struct IssueLinks<'a> {
    /// `https://github.com/owner/repo` (no trailing slash).
    pub base: &'a str,
}

/// Escapes untrusted multi-line text (a commit message, its body, a `BREAKING CHANGE`
/// note) for a Markdown block, keeping its lines and its code as written:
///
/// - HTML: `<`, `>` and `&` become `&lt;`, `&gt;`, `&amp;` — `<script>` is text;
/// - links and images: `[`, `]` are backslash-escaped — `[x](javascript:…)` is text;
/// - emphasis, tables, strikethrough: `\`, `*`, `_`, `|`, `~` are backslash-escaped;
/// - structure: at the start of every line, a block marker (`#`, `>`, `-`, `+`, `=`,
///   `1.`/`1)`) is escaped, so text cannot open a heading, quote or list;
/// - mentions: `@name` gets [`MENTION_BREAK`] after the `@`, as in [`escape`]: it reads
///   the same but pings nobody (`@everyone` included); `me@example.com` is left alone;
/// - workflow commands: a line whose text starts with `::` gets [`MENTION_BREAK`] in
///   front, so `::set-output …` stays text even when the text is echoed to a log;
/// - code: inline code spans (matched backtick runs within a paragraph) and fenced code
///   blocks (a line starting with three or more backticks, to the matching fence) are
///   kept as written — their content is literal in Markdown anyway. An unmatched
///   backtick is escaped.
///
/// With [`IssueLinks`], `#123` (not part of a word or a path) becomes a link to the
/// issue. Unlike [`escape`], newlines stay newlines: use [`escape`] for one table cell.
///
/// ```
/// use hub_md::escape_text;
///
/// assert_eq!(escape_text("<script>alert(1)</script>", None), "&lt;script&gt;alert(1)&lt;/script&gt;");
/// assert_eq!(escape_text("see [x](javascript:alert(1))", None), "see \\[x\\](javascript:alert(1))");
/// assert_eq!(escape_text("thanks @everyone", None), "thanks @\u{2060}everyone");
/// assert_eq!(escape_text("keep `a_b <c>` as code", None), "keep `a_b <c>` as code");
/// ```
pub fn escape_text(text: &str, issues: Option<IssueLinks<'_>>) -> String {
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
                out.push(MENTION_BREAK);
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
                out.push(MENTION_BREAK);
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
            out.push(MENTION_BREAK);
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

/// `@` starting a GitHub mention, followed by an alphanumeric. GitHub links `@name` after any character that is not a word character (`-@user`,
/// `.@user`, `/@user`, `(@user` all ping), so only an `@` inside a word (`me@example.com`)
/// is left alone.
fn starts_mention(b: &[u8], i: usize) -> bool {
    let before_ok = i == 0 || !is_word(b[i - 1]);
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
pub fn guard_workflow_commands(doc: &str) -> String {
    if !doc.contains("::") {
        return doc.to_owned();
    }
    let mut out = String::with_capacity(doc.len());
    for line in doc.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with("::") {
            out.push_str(&line[..line.len() - trimmed.len()]);
            out.push(MENTION_BREAK);
            out.push_str(trimmed);
        } else {
            out.push_str(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_message_renders_its_quoted_values_as_code_and_escapes_the_rest() {
        assert_eq!(
            escape_message("provider `openai` is not in `KEYED_PROVIDERS`."),
            "provider `openai` is not in `KEYED_PROVIDERS`\\."
        );
        // A value cannot add markup inside its span, nor a cell to a table.
        assert_eq!(
            escape_message("`<b>|x</b>` [y](z)"),
            "`<b>\\|x</b>` \\[y\\]\\(z\\)"
        );
        // An unpaired backtick is plain text, and what follows it is escaped.
        assert_eq!(escape_message("a `b` c `d *e*"), "a `b` c \\`d \\*e\\*");
        assert_eq!(escape_message("no quotes @all"), escape("no quotes @all"));
        assert_eq!(escape_message(""), "");
    }

    use super::*;

    fn check(input: &str, expect: &str) {
        assert_eq!(escape(input), expect, "escaping {input:?}");
    }

    #[test]
    fn hostile_inline_text_is_inert() {
        check(
            "<script>alert(1)</script>",
            r"\<script\>alert\(1\)\</script\>",
        );
        check(
            "[click](javascript:alert(1))",
            r"\[click\]\(javascript\:alert\(1\)\)",
        );
        check("![x](http://e/x.png)", r"\!\[x\]\(http\://e/x\.png\)");
        check(
            "@everyone and @org/team",
            "@\u{2060}everyone and @\u{2060}org/team",
        );
        check("a | b", r"a \| b");
        check("# heading\n> quote", r"\# heading<br>\> quote");
        check("&lt;b&gt;", "&amp;lt;b&amp;gt;");
        check(
            "**bold** _it_ ~~s~~ `c`",
            r"\*\*bold\*\* \_it\_ \~\~s\~\~ \`c\`",
        );
        check("plain words 123", "plain words 123");
    }

    #[test]
    fn inline_code_survives_backticks_and_pipes() {
        assert_eq!(code("a"), "`a`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x`"), "`` `x` ``");
        assert_eq!(code("a|b\nc"), r"`a\|b c`");
    }

    #[test]
    fn code_block_fence_is_longer_than_content() {
        let block = code_block("yaml", "a: 1\n````\nb: 2");
        assert!(block.starts_with("`````yaml\n"), "{block}");
        assert!(block.ends_with("\n`````\n"));
    }

    #[test]
    fn marker_cannot_close_the_comment() {
        assert_eq!(marker("semver-bump"), "<!-- hub-actions:semver-bump -->");
        assert_eq!(marker("x --> <b>"), "<!-- hub-actions:x-b -->");
    }

    #[test]
    fn document() {
        let mut md = Markdown::new();
        md.heading(2, "semver-bump")
            .paragraph("Next version: **1.3.0**")
            .table(
                &["commit", "type", "summary"],
                &[
                    vec![
                        Cell::Code("abc1234".into()),
                        Cell::Md("feat".into()),
                        "add <b>login</b> | @admin".into(),
                    ],
                    vec![Cell::Code("def5678".into())],
                ],
            )
            .list(["one", "two\nlines"])
            .details("Notes", "- a\n- b")
            .code_block("text", "::error::x");
        insta::assert_snapshot!(md.as_str().replace('\u{2060}', "{WJ}"), @r"
        ## semver-bump

        Next version: **1.3.0**

        | commit | type | summary |
        | --- | --- | --- |
        | `abc1234` | feat | add \<b\>login\</b\> \| @{WJ}admin |
        | `def5678` |  |  |

        - one
        - two<br>lines

        <details><summary>Notes</summary>

        - a
        - b
        </details>

        ```text
        ::error::x
        ```
        ");
    }
}

#[cfg(test)]
mod text_tests {
    use super::*;

    fn md(s: &str) -> String {
        escape_text(
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
            "@\u{2060}everyone @\u{2060}org/team"
        );
        assert_eq!(md("mail me@example.com"), "mail me@example.com");
        assert_eq!(md("use npm@5"), "use npm@5");
        assert_eq!(md("`@user` in code"), "`@user` in code");
        // GitHub links a mention after any non-word character.
        for before in ["-", ".", "/", "(", "\"", "'", ":", "+", "=", "é"] {
            let text = format!("x {before}@user y");
            assert!(
                md(&text).contains("@\u{2060}user"),
                "{text:?} -> {:?}",
                md(&text)
            );
            assert!(
                escape(&text).contains("@\u{2060}user"),
                "{text:?} -> {:?}",
                escape(&text)
            );
        }
        assert_eq!(md("snake_@user"), "snake\\_@user");
    }

    #[test]
    fn workflow_commands_stay_text() {
        assert_eq!(
            md("::set-output name=x::y"),
            "\u{2060}::set-output name=x::y"
        );
        assert_eq!(md("a\n  ::error::boom"), "a\n  \u{2060}::error::boom");
        assert_eq!(
            md("```\n::warning::x\n```"),
            "```\n\u{2060}::warning::x\n```"
        );
        assert_eq!(
            guard_workflow_commands("ok\n ::add-mask::x\n"),
            "ok\n \u{2060}::add-mask::x\n"
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
        assert_eq!(escape_text("(#123)", None), "(#123)");
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
