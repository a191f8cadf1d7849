//! The Conventional Commits 1.0 message parser.
//!
//! The grammar is the one of the strict reference parser (`git-conventional` 1.1, which
//! follows the spec's grammar); it agrees with every case of the peer suite
//! `conventional/commits.json`. The parser is a single forward scan over the bytes of the
//! message and returns slices of it: nothing is copied, and the only allocation is the
//! footer list (none when there are no footers).
//!
//! One deliberate difference from the reference: after the `:` of the summary the
//! reference skips *any* whitespace, newlines included, so `feat:\n\nx` would read as
//! `feat: x`. Here only spaces and tabs (non-newline whitespace) are skipped, so that
//! message is rejected with [`ParseErrorKind::EmptyDescription`].

use std::fmt;

use serde::Serialize;

/// A parsed Conventional Commit. Every `&str` is a slice of the original message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Commit<'a> {
    /// The type as written (`feat`, `FEAT`, `Fix` …). Compare with [`Commit::is_type`],
    /// which ignores ASCII case.
    #[serde(rename = "type")]
    pub type_: &'a str,
    /// The text inside the parentheses, if any (never empty).
    pub scope: Option<&'a str>,
    /// `true` when the summary has `!` before the colon.
    pub bang: bool,
    /// The text after `: ` on the summary line (never empty).
    pub description: &'a str,
    /// The body, trailing whitespace trimmed, inner blank lines kept. `None` when absent.
    pub body: Option<&'a str>,
    /// Footers in order of appearance.
    pub footers: Vec<Footer<'a>>,
    /// `!` in the summary, or a footer whose token is exactly `BREAKING CHANGE` or
    /// `BREAKING-CHANGE` (upper case, as the spec requires).
    pub breaking: bool,
    /// The value of the first breaking footer; else the description when `!`; else `None`.
    pub breaking_description: Option<&'a str>,
}

/// One footer (`Token: value` or `Token #value`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Footer<'a> {
    /// The token as written (`Refs`, `BREAKING CHANGE`, `Co-authored-by` …).
    pub token: &'a str,
    /// Which separator followed the token.
    pub separator: Separator,
    /// The value, possibly several lines; for `Token #value` the `#` is not included.
    pub value: &'a str,
}

impl Footer<'_> {
    /// `true` for the tokens `BREAKING CHANGE` and `BREAKING-CHANGE` (exact case).
    pub fn is_breaking(&self) -> bool {
        is_breaking_token(self.token)
    }

    /// `true` when the token equals `token`, ignoring ASCII case.
    pub fn is(&self, token: &str) -> bool {
        self.token.eq_ignore_ascii_case(token)
    }
}

/// The separator between a footer's token and its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Separator {
    /// `Token: value`
    Colon,
    /// `Token #value`
    Hash,
}

impl Separator {
    /// The separator as written: `":"` or `" #"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Separator::Colon => ":",
            Separator::Hash => " #",
        }
    }
}

impl Serialize for Separator {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl fmt::Display for Separator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a message is not a Conventional Commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParseErrorKind {
    /// The message is empty or only whitespace.
    Empty,
    /// The summary starts with whitespace or a blank line.
    LeadingWhitespace,
    /// The summary does not start with a type (it starts with `(`, `)`, `:` or `!`).
    MissingType,
    /// `type()` with nothing inside the parentheses.
    EmptyScope,
    /// `type(scope` without the closing parenthesis on the summary line.
    UnclosedScope,
    /// The type (and scope, `!`) is not followed by `:` — e.g. `Revert "…"`,
    /// `Merge branch …`, `fix typo`.
    MissingColon,
    /// Nothing after `type: `.
    EmptyDescription,
    /// A line of text directly under the summary: the body must begin after one blank line.
    MissingBlankLine,
    /// A carriage return not followed by a line feed ends the summary.
    BareCarriageReturn,
    /// The last footer has a token and separator but no value (`Refs:` at the end).
    EmptyFooterValue,
}

impl ParseErrorKind {
    /// A short, lower-case explanation suitable for a PR comment.
    pub fn message(self) -> &'static str {
        match self {
            Self::Empty => "the message is empty",
            Self::LeadingWhitespace => "the summary starts with whitespace",
            Self::MissingType => {
                "the summary does not start with a type, expected `type: description`"
            }
            Self::EmptyScope => "the scope is empty, expected `type(scope): description`",
            Self::UnclosedScope => "the scope is not closed, expected `type(scope): description`",
            Self::MissingColon => "no `:` after the type, expected `type: description`",
            Self::EmptyDescription => "the description is empty, expected `type: description`",
            Self::MissingBlankLine => "the body must be separated from the summary by a blank line",
            Self::BareCarriageReturn => "a carriage return without a line feed ends the summary",
            Self::EmptyFooterValue => "the last footer has no value",
        }
    }
}

/// A message that is not a Conventional Commit: what is wrong and where (byte offset).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, thiserror::Error)]
#[error("{} (at byte {offset})", kind.message())]
pub struct ParseError {
    /// What is wrong.
    pub kind: ParseErrorKind,
    /// Byte offset into the message where the problem was found.
    pub offset: usize,
}

const BREAKING_PHRASE: &str = "BREAKING CHANGE";
const BREAKING_ARROW: &str = "BREAKING-CHANGE";

fn is_breaking_token(token: &str) -> bool {
    token == BREAKING_PHRASE || token == BREAKING_ARROW
}

impl<'a> Commit<'a> {
    /// Parses a commit message (`\n` or `\r\n` line endings).
    ///
    /// ```
    /// use hub_conventional::Commit;
    ///
    /// let c = Commit::parse("fix(core)!: drop the old API\n\nRefs #12").expect("conventional");
    /// assert_eq!((c.type_, c.scope, c.breaking), ("fix", Some("core"), true));
    /// assert_eq!(c.footers[0].value, "12");
    /// assert!(Commit::parse("Merge branch 'main'").is_err());
    /// ```
    pub fn parse(message: &'a str) -> Result<Commit<'a>, ParseError> {
        parse(message)
    }

    /// `true` when the type equals `ty`, ignoring ASCII case (`FEAT` is a `feat`).
    pub fn is_type(&self, ty: &str) -> bool {
        self.type_.eq_ignore_ascii_case(ty)
    }

    /// Every breaking-change note: the value of each `BREAKING CHANGE:` and
    /// `BREAKING-CHANGE:` footer in order, then the description of a `!` summary (unless a
    /// footer says exactly the same). conventional-changelog and release-please list one
    /// note per footer; release-please's changelogs (yargs 18.0.0) list the `!` summary
    /// after them.
    ///
    /// ```
    /// use hub_conventional::Commit;
    ///
    /// let c = Commit::parse("feat!: v2\n\nBREAKING CHANGE: a\nBREAKING-CHANGE: b").expect("parses");
    /// assert_eq!(c.breaking_notes(), ["a", "b", "v2"]);
    /// assert_eq!(Commit::parse("fix!: drop x").expect("parses").breaking_notes(), ["drop x"]);
    /// let c = Commit::parse("fix: y\n\nBREAKING CHANGE: z").expect("parses");
    /// assert_eq!(c.breaking_notes(), ["z"]);
    /// ```
    pub fn breaking_notes(&self) -> Vec<&'a str> {
        let mut notes: Vec<&'a str> = self
            .footers
            .iter()
            .filter(|f| f.is_breaking())
            .map(|f| f.value)
            .collect();
        if self.bang && !notes.iter().any(|n| n.trim() == self.description.trim()) {
            notes.push(self.description);
        }
        notes
    }

    /// Footers whose token equals `token`, ignoring ASCII case.
    pub fn footers_named<'s>(
        &'s self,
        token: &'s str,
    ) -> impl Iterator<Item = &'s Footer<'a>> + 's {
        self.footers.iter().filter(move |f| f.is(token))
    }
}

fn err<T>(kind: ParseErrorKind, offset: usize) -> Result<T, ParseError> {
    Err(ParseError { kind, offset })
}

/// Length in bytes of the type-like run at the start of `s`: characters other than line
/// endings, parentheses, `:`, `!` and whitespace (the grammar's `<type>`, also the footer
/// token).
#[inline]
fn type_len(s: &str) -> usize {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c < 0x80 {
            if matches!(c, b'(' | b')' | b':' | b'!' | b' ' | b'\t'..=b'\r') {
                break;
            }
            i += 1;
        } else {
            // Non-ASCII: decode the char to apply Unicode whitespace. `i` is on a char
            // boundary because we only ever advance by whole characters.
            let ch = s[i..]
                .chars()
                .next()
                .expect("because i is a char boundary below len");
            if ch.is_whitespace() {
                break;
            }
            i += ch.len_utf8();
        }
    }
    i
}

/// `true` when `line` starts with a footer token followed by a separator.
#[inline]
fn is_footer_start(line: &str) -> bool {
    footer_head(line).is_some()
}

/// Token and separator at the start of `s`; returns (token, separator, bytes consumed).
#[inline]
fn footer_head(s: &str) -> Option<(&str, Separator, usize)> {
    let token_len = if s.starts_with(BREAKING_PHRASE) {
        BREAKING_PHRASE.len()
    } else {
        type_len(s)
    };
    if token_len == 0 {
        return None;
    }
    let rest = &s.as_bytes()[token_len..];
    match rest {
        [b':', ..] => Some((&s[..token_len], Separator::Colon, token_len + 1)),
        [b' ', b'#', ..] => Some((&s[..token_len], Separator::Hash, token_len + 2)),
        _ => None,
    }
}

/// Consumes one `\n` or `\r\n` at `pos`; returns the new position.
#[inline]
fn line_ending(b: &[u8], pos: usize) -> Option<usize> {
    match b.get(pos) {
        Some(b'\n') => Some(pos + 1),
        Some(b'\r') if b.get(pos + 1) == Some(&b'\n') => Some(pos + 2),
        _ => None,
    }
}

/// Iterates the lines of `s`, each with its terminating `\n` (the last may lack one).
#[inline]
fn lines_with_terminator(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = s;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest.find('\n').map_or(rest.len(), |i| i + 1);
        let (line, tail) = rest.split_at(end);
        rest = tail;
        Some(line)
    })
}

fn parse(msg: &str) -> Result<Commit<'_>, ParseError> {
    let b = msg.as_bytes();

    // <summary> ::= <type> ["(" <scope> ")"] ["!"] ":" <ws>* <text>
    let ty_len = type_len(msg);
    if ty_len == 0 {
        let kind = if msg.trim().is_empty() {
            ParseErrorKind::Empty
        } else if msg.starts_with(char::is_whitespace) {
            ParseErrorKind::LeadingWhitespace
        } else {
            ParseErrorKind::MissingType
        };
        return err(kind, 0);
    }
    let type_ = &msg[..ty_len];
    let mut pos = ty_len;

    let mut scope = None;
    if b.get(pos) == Some(&b'(') {
        let start = pos + 1;
        let len = msg[start..]
            .bytes()
            .position(|c| matches!(c, b'\n' | b'\r' | b'(' | b')'))
            .unwrap_or(b.len() - start);
        if len == 0 {
            return err(ParseErrorKind::EmptyScope, start);
        }
        if b.get(start + len) != Some(&b')') {
            return err(ParseErrorKind::UnclosedScope, start + len);
        }
        scope = Some(&msg[start..start + len]);
        pos = start + len + 1;
    }

    let bang = b.get(pos) == Some(&b'!');
    if bang {
        pos += 1;
    }
    if b.get(pos) != Some(&b':') {
        return err(ParseErrorKind::MissingColon, pos);
    }
    pos += 1;

    // Whitespace after the colon (not line endings: see the module docs).
    let ws = msg[pos..]
        .char_indices()
        .find(|&(_, c)| c == '\n' || c == '\r' || !c.is_whitespace())
        .map_or(msg.len() - pos, |(i, _)| i);
    pos += ws;
    let desc_len = msg[pos..]
        .bytes()
        .position(|c| c == b'\n' || c == b'\r')
        .unwrap_or(b.len() - pos);
    if desc_len == 0 {
        return err(ParseErrorKind::EmptyDescription, pos);
    }
    let description = &msg[pos..pos + desc_len];
    pos += desc_len;

    let mut commit = Commit {
        type_,
        scope,
        bang,
        description,
        body: None,
        footers: Vec::new(),
        breaking: false,
        breaking_description: None,
    };

    // End of summary line, then the blank line that must precede a body or footers.
    if pos < b.len() {
        pos = match line_ending(b, pos) {
            Some(p) => p,
            None => return err(ParseErrorKind::BareCarriageReturn, pos),
        };
        if pos < b.len() {
            pos = match line_ending(b, pos) {
                Some(p) => p,
                None => return err(ParseErrorKind::MissingBlankLine, pos),
            };
        }
        while let Some(p) = line_ending(b, pos) {
            pos = p;
        }
    }

    // <body>: every line up to the first footer-looking line that follows a blank line.
    let rest = &msg[pos..];
    let mut body_len = 0;
    let mut prior_is_empty = true;
    for line in lines_with_terminator(rest) {
        if prior_is_empty && is_footer_start(line.trim_end()) {
            break;
        }
        prior_is_empty = line.trim().is_empty();
        body_len += line.len();
    }
    if body_len > 0 {
        commit.body = Some(rest[..body_len].trim_end());
        pos += body_len;
    }

    // <footer>*: token, separator, whitespace (newlines included), value up to the next
    // footer-looking line.
    while pos < b.len() {
        let rest = &msg[pos..];
        let Some((token, separator, head)) = footer_head(rest) else {
            // Unreachable by construction (the body stops only at a footer start and a
            // value only before one), kept as an error rather than a panic.
            return err(ParseErrorKind::MissingBlankLine, pos);
        };
        let after = &rest[head..];
        let value_start = after.len() - after.trim_start().len();
        let value_rest = &after[value_start..];
        if value_rest.is_empty() {
            return err(ParseErrorKind::EmptyFooterValue, pos + head);
        }
        let mut value_len = 0;
        for (i, line) in lines_with_terminator(value_rest).enumerate() {
            if i > 0 && is_footer_start(line.trim_end()) {
                break;
            }
            value_len += line.len();
        }
        commit.footers.push(Footer {
            token,
            separator,
            value: value_rest[..value_len].trim_end(),
        });
        pos += head + value_start + value_len;
    }

    commit.breaking_description = commit
        .footers
        .iter()
        .find(|f| f.is_breaking())
        .map(|f| f.value)
        .or(if bang { Some(description) } else { None });
    commit.breaking = commit.breaking_description.is_some();
    Ok(commit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(msg: &str) -> ParseErrorKind {
        Commit::parse(msg)
            .expect_err("because the message is invalid")
            .kind
    }

    #[test]
    fn error_kinds() {
        assert_eq!(kind(""), ParseErrorKind::Empty);
        assert_eq!(kind(" \n"), ParseErrorKind::Empty);
        assert_eq!(kind(" feat: x"), ParseErrorKind::LeadingWhitespace);
        assert_eq!(kind("\nfeat: x"), ParseErrorKind::LeadingWhitespace);
        assert_eq!(kind(": x"), ParseErrorKind::MissingType);
        assert_eq!(kind("feat(): x"), ParseErrorKind::EmptyScope);
        assert_eq!(kind("feat(x: y"), ParseErrorKind::UnclosedScope);
        assert_eq!(kind("Revert \"feat: x\""), ParseErrorKind::MissingColon);
        assert_eq!(kind("feat:   "), ParseErrorKind::EmptyDescription);
        assert_eq!(kind("feat:\n\nx"), ParseErrorKind::EmptyDescription);
        assert_eq!(kind("feat: x\nbody"), ParseErrorKind::MissingBlankLine);
        assert_eq!(kind("feat: x\rbody"), ParseErrorKind::BareCarriageReturn);
        assert_eq!(kind("feat: x\n\nRefs:"), ParseErrorKind::EmptyFooterValue);
        assert_eq!(
            kind("feat: x\n\nRefs:  \n"),
            ParseErrorKind::EmptyFooterValue
        );
    }

    #[test]
    fn error_display_is_lower_case() {
        let e = Commit::parse("fix typo").expect_err("because there is no colon");
        assert_eq!(
            e.to_string(),
            "no `:` after the type, expected `type: description` (at byte 3)"
        );
    }

    #[test]
    fn type_comparison_ignores_case() {
        let c = Commit::parse("FEAT: x").expect("because it is conventional");
        assert!(c.is_type("feat"));
        assert_eq!(c.type_, "FEAT");
    }

    #[test]
    fn unicode_whitespace_ends_type() {
        assert_eq!(kind("feat\u{00a0}x: y"), ParseErrorKind::MissingColon);
        let c = Commit::parse("fe\u{e9}t: caf\u{e9}").expect("because non-ASCII types are allowed");
        assert_eq!(c.type_, "fe\u{e9}t");
    }
}
