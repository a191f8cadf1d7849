//! Markdown for step summaries and PR comments, with escaping of untrusted text.
//!
//! GitHub renders both with the same GFM pipeline, so text that came from a commit
//! message, a PR title, a config value or a metric label must not be able to add links,
//! images, HTML, headings, table cells or `@mentions`. [`escape`] makes such text inert.

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
            '@' => out.push_str("@\u{2060}"),
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
/// inside, and newlines are folded to spaces (code spans cannot hold them).
pub fn code(text: &str) -> String {
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
}

impl Cell {
    fn render(&self) -> String {
        match self {
            Cell::Md(s) => s.replace(['\r', '\n'], " "),
            Cell::Text(s) => escape(s),
            Cell::Code(s) => code(s),
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

    /// A paragraph of untrusted text.
    pub fn paragraph_untrusted(&mut self, text: &str) -> &mut Self {
        self.block(&escape(text))
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

#[cfg(test)]
mod tests {
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
