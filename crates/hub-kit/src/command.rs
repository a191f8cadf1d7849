//! Workflow commands (`::name key=value::message`) with the runner's escaping.
//!
//! The escaping is exactly that of `@actions/core` (`packages/core/src/command.ts`):
//! in data `%`, `\r` and `\n` become `%25`, `%0D` and `%0A`; in property values `:` and
//! `,` become `%3A` and `%2C` as well. `%` is escaped first, so a value that already
//! contains `%0A` cannot smuggle a newline: it arrives as the literal text `%0A`.

/// Escapes a command's message (the part after the second `::`).
pub fn escape_data(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes a command property value (`file=…`, `title=…`).
pub fn escape_property(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            ':' => out.push_str("%3A"),
            ',' => out.push_str("%2C"),
            c => out.push(c),
        }
    }
    out
}

/// Formats one workflow command line (without the trailing newline).
///
/// Property names are ours (never untrusted); empty property values are left out, as
/// `@actions/core` does.
pub fn format_command(name: &str, properties: &[(&str, String)], message: &str) -> String {
    let mut line = format!("::{name}");
    let mut first = true;
    for (key, value) in properties {
        if value.is_empty() {
            continue;
        }
        line.push(if first { ' ' } else { ',' });
        first = false;
        line.push_str(key);
        line.push('=');
        line.push_str(&escape_property(value));
    }
    line.push_str("::");
    line.push_str(&escape_data(message));
    line
}

/// Severity of an annotation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// `::notice`
    Notice,
    /// `::warning`
    Warning,
    /// `::error`
    Error,
}

impl Level {
    /// The command name.
    pub fn command(self) -> &'static str {
        match self {
            Level::Notice => "notice",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// Where an annotation points, as GitHub's `AnnotationProperties`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Annotation {
    /// Title shown above the message.
    pub title: Option<String>,
    /// Path relative to the repository root.
    pub file: Option<String>,
    /// 1-based start line.
    pub line: Option<u64>,
    /// 1-based end line.
    pub end_line: Option<u64>,
    /// 1-based start column.
    pub col: Option<u64>,
    /// 1-based end column.
    pub end_column: Option<u64>,
}

impl Annotation {
    /// An annotation on a file position.
    pub fn at(file: impl Into<String>, line: u64, col: u64) -> Self {
        Annotation {
            file: Some(file.into()),
            line: Some(line),
            col: Some(col),
            ..Annotation::default()
        }
    }

    /// Sets the title.
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    pub(crate) fn properties(&self) -> Vec<(&'static str, String)> {
        let num = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_default();
        vec![
            ("title", self.title.clone().unwrap_or_default()),
            ("file", self.file.clone().unwrap_or_default()),
            ("line", num(self.line)),
            ("endLine", num(self.end_line)),
            ("col", num(self.col)),
            ("endColumn", num(self.end_column)),
        ]
    }
}

/// Formats an annotation command (`::error file=…,line=…::message`).
pub fn format_annotation(level: Level, message: &str, at: &Annotation) -> String {
    format_command(level.command(), &at.properties(), message)
}

/// Neutralises the runner's legacy `##[command]` syntax, which the runner honours anywhere
/// in a line. A word joiner (U+2060, invisible) is put between `##` and `[`.
pub fn neutralise_legacy(s: &str) -> String {
    s.replace("##[", "##\u{2060}[")
}

/// The workflow commands the runner would carry out if `stream` (a step's stdout or stderr)
/// were its log, as `(command, rest of the line)` — the runner's own parsing rules, so tests
/// can show that untrusted text runs nothing:
///
/// - `::name …::…` is a command when the line, leading and trailing spaces trimmed, starts
///   with `::`;
/// - the legacy `##[name …]…` form is a command anywhere in a line;
/// - `::stop-commands::<token>` turns both off until a line that is exactly `::<token>::`.
///
/// ```
/// use hub_kit::command::commands_in;
///
/// let log = "ok\n  ::error::boom\nsee ##[set-output name=x]1\n::stop-commands::t\n::error::no\n::t::\n";
/// let run: Vec<_> = commands_in(log).into_iter().map(|(c, _)| c).collect();
/// assert_eq!(run, ["error", "set-output", "stop-commands"]);
/// ```
pub fn commands_in(stream: &str) -> Vec<(String, String)> {
    let mut run = Vec::new();
    let mut stopped: Option<String> = None;
    for line in stream.split(['\n', '\r']) {
        let trimmed = line.trim();
        if let Some(token) = &stopped {
            if trimmed == format!("::{token}::") {
                stopped = None;
            }
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix("::")
            && let Some(end) = rest.find("::")
        {
            let name = rest[..end].split(' ').next().unwrap_or_default().to_owned();
            let message = rest[end + 2..].to_owned();
            if name == "stop-commands" {
                stopped = Some(message.clone());
            }
            if !name.is_empty() {
                run.push((name, message));
                continue;
            }
        }
        if let Some(at) = line.find("##[")
            && let Some(end) = line[at..].find(']')
        {
            let inner = &line[at + 3..at + end];
            let name = inner.split(' ').next().unwrap_or_default().to_owned();
            if !name.is_empty() {
                run.push((name, line[at + end + 1..].to_owned()));
            }
        }
    }
    run
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_escaping_follows_actions_core() {
        assert_eq!(escape_data("100%"), "100%25");
        assert_eq!(escape_data("a\r\nb"), "a%0D%0Ab");
        assert_eq!(escape_data("a:b,c"), "a:b,c");
        // `%` first: pre-escaped text stays literal.
        assert_eq!(escape_data("x%0A::error::y"), "x%250A::error::y");
    }

    #[test]
    fn property_escaping_also_covers_colon_and_comma() {
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }

    #[test]
    fn annotation_with_all_properties() {
        let at = Annotation {
            title: Some("bad: value, really".into()),
            file: Some("config/app.yml".into()),
            line: Some(3),
            end_line: Some(4),
            col: Some(7),
            end_column: Some(12),
        };
        insta::assert_snapshot!(
            format_annotation(Level::Error, "must be a string\nsecond line", &at),
            @"::error title=bad%3A value%2C really,file=config/app.yml,line=3,endLine=4,col=7,endColumn=12::must be a string%0Asecond line"
        );
    }

    #[test]
    fn annotation_without_properties() {
        insta::assert_snapshot!(
            format_annotation(Level::Notice, "hi", &Annotation::default()),
            @"::notice::hi"
        );
    }

    #[test]
    fn hostile_messages_stay_on_one_line() {
        for hostile in [
            "feat: x\n::set-output name=version::9.9.9",
            "fix: y\r\n::add-mask::secret",
            "docs: %0A::error::smuggled",
            "chore: \n::stop-commands::abc",
        ] {
            let line = format_annotation(Level::Warning, hostile, &Annotation::at("a,b:c", 1, 1));
            assert!(!line.contains('\n') && !line.contains('\r'), "{line}");
            // The only `::` sequences that can start a command are the two we wrote.
            assert!(line.starts_with("::warning file=a%2Cb%3Ac,line=1,col=1::"));
        }
    }

    #[test]
    fn legacy_commands_are_neutralised() {
        let s = neutralise_legacy("text ##[set-output name=x;]y and ##[error]z");
        assert!(!s.contains("##["));
        assert_eq!(
            s.replace('\u{2060}', ""),
            "text ##[set-output name=x;]y and ##[error]z"
        );
    }
}
