//! One command line split into an argument vector (for inputs such as `restart-command`
//! or `step-command`), with simple shell-like quoting and
//! nothing else: no variables, no globs, no pipes, no command substitution. What the
//! user writes is what the program receives.

use std::fmt;

/// Why a command line could not be split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SplitError {
    /// Nothing but whitespace.
    Empty,
    /// A `'` or `"` without its closing partner.
    UnterminatedQuote(char),
    /// A `\` at the very end.
    TrailingBackslash,
}

impl fmt::Display for SplitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SplitError::Empty => f.write_str("the command is empty"),
            SplitError::UnterminatedQuote(q) => write!(f, "unterminated `{q}` quote"),
            SplitError::TrailingBackslash => f.write_str("a `\\` ends the line"),
        }
    }
}

impl std::error::Error for SplitError {}

/// Splits one line into words:
///
/// - unquoted whitespace separates words;
/// - `'…'` is literal (no escapes inside);
/// - `"…"` is literal except `\"`, `\\`, `\$` and `` \` `` (as in POSIX sh, though
///   nothing is expanded either way);
/// - outside quotes, `\x` is a literal `x`;
/// - `''` or `""` is an empty word.
///
/// `$`, `;`, `|`, `&`, `` ` ``, `*`, `>` and friends are ordinary characters: no shell
/// ever sees the line.
pub fn split(line: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut word = String::new();
    // A word exists once any of its characters (or an empty quote) has been seen.
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err(SplitError::UnterminatedQuote('\'')),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err(SplitError::UnterminatedQuote('"')),
                        },
                        Some(c) => word.push(c),
                        None => return Err(SplitError::UnterminatedQuote('"')),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => word.push(c),
                    None => return Err(SplitError::TrailingBackslash),
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    if words.is_empty() {
        return Err(SplitError::Empty);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(line: &str, expect: &[&str]) {
        assert_eq!(split(line).expect("splits"), expect, "{line}");
    }

    #[test]
    fn words_and_quotes() {
        check("systemctl restart app", &["systemctl", "restart", "app"]);
        check("  a\t b  ", &["a", "b"]);
        check(r#"echo 'a b' "c d" e\ f"#, &["echo", "a b", "c d", "e f"]);
        check(r#"x '' "" y"#, &["x", "", "", "y"]);
        check(
            r#"say "it's \"fine\" \\ \n \$x""#,
            &["say", r#"it's "fine" \ \n $x"#],
        );
        check(r"a'b'c", &["abc"]);
    }

    #[test]
    fn shell_syntax_is_plain_text() {
        check(
            "echo $(id) `id` $HOME; rm -rf / | cat && x > y *",
            &[
                "echo", "$(id)", "`id`", "$HOME;", "rm", "-rf", "/", "|", "cat", "&&", "x", ">",
                "y", "*",
            ],
        );
    }

    #[test]
    fn errors() {
        assert_eq!(split("   "), Err(SplitError::Empty));
        assert_eq!(split("a 'b"), Err(SplitError::UnterminatedQuote('\'')));
        assert_eq!(split("a \"b\\\""), Err(SplitError::UnterminatedQuote('"')));
        assert_eq!(split("a \\"), Err(SplitError::TrailingBackslash));
    }
}
