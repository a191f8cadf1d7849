//! File commands: `$GITHUB_OUTPUT`, `$GITHUB_ENV`, `$GITHUB_STATE` (heredoc form with a
//! random delimiter) and `$GITHUB_PATH`.

use std::io::Write;
use std::path::Path;

/// Why a key/value could not be written as a file command.
#[derive(Debug, thiserror::Error)]
pub enum FileCommandError {
    /// The name is unusable (empty, or contains a newline or `<<`).
    #[error("`{name}` is not a valid output or variable name")]
    BadName {
        /// The offending name.
        name: String,
    },
    /// Writing the file failed.
    #[error("cannot append to `{path}`")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// Returns `n` random bytes as lowercase hex.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).expect("because the OS random source is available on runners");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A delimiter that does not occur in `value`: `ghadelimiter_<random>`, drawn again on the
/// (astronomically unlikely, but adversarially reachable by guessing) collision.
pub fn delimiter_for(value: &str, draw: &mut dyn FnMut() -> String) -> String {
    loop {
        let candidate = format!("ghadelimiter_{}", draw());
        if !value.contains(&candidate) {
            return candidate;
        }
    }
}

/// Formats `name<<DELIM\nvalue\nDELIM\n`, the only form that is safe for every value.
pub fn format_key_value(
    name: &str,
    value: &str,
    draw: &mut dyn FnMut() -> String,
) -> Result<String, FileCommandError> {
    if name.is_empty() || name.contains(['\n', '\r']) || name.contains("<<") || name.contains('=') {
        return Err(FileCommandError::BadName { name: name.into() });
    }
    let delimiter = delimiter_for(value, draw);
    Ok(format!("{name}<<{delimiter}\n{value}\n{delimiter}\n"))
}

/// Appends text to a file command file.
pub fn append(path: &Path, text: &str) -> Result<(), FileCommandError> {
    let io = |source| FileCommandError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io)?;
    f.write_all(text.as_bytes()).map_err(io)
}

/// Parses a file command file back into `(name, value)` pairs, as the runner does.
/// Used by tests (ours and end-to-end) to read outputs; also accepts the `name=value` form.
pub fn parse_key_values(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = text.split('\n');
    while let Some(line) = lines.next() {
        if line.is_empty() {
            continue;
        }
        if let Some((name, delim)) = line.split_once("<<") {
            let mut value: Vec<&str> = Vec::new();
            for l in lines.by_ref() {
                if l == delim {
                    break;
                }
                value.push(l);
            }
            out.push((name.to_string(), value.join("\n")));
        } else if let Some((name, value)) = line.split_once('=') {
            out.push((name.to_string(), value.to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heredoc_form() {
        let mut draw = || "abc".to_string();
        let s = format_key_value("version", "1.2.3", &mut draw).unwrap();
        assert_eq!(s, "version<<ghadelimiter_abc\n1.2.3\nghadelimiter_abc\n");
    }

    #[test]
    fn delimiter_collision_is_redrawn() {
        // The attacker guessed the first draw and put it in the value.
        let hostile = "line\nghadelimiter_aaaa\nhacked=true";
        let mut draws = ["aaaa", "aaaa", "bbbb"].into_iter().map(String::from);
        let mut draw = || draws.next().unwrap();
        let s = format_key_value("notes", hostile, &mut draw).unwrap();
        assert!(s.starts_with("notes<<ghadelimiter_bbbb\n"));
        assert_eq!(
            parse_key_values(&s),
            [("notes".to_string(), hostile.to_string())]
        );
    }

    #[test]
    fn multi_line_and_hostile_values_round_trip() {
        let values = [
            "",
            "a\nb\r\nc",
            "x\n::set-output name=version::9.9.9",
            "::add-mask::secret",
            "y\nversion=9.9.9",
            "z\nEOF\nversion<<EOF\n9",
            "%0A::error::smuggled",
        ];
        let mut file = String::new();
        for (i, v) in values.iter().enumerate() {
            file.push_str(&format_key_value(&format!("k{i}"), v, &mut || random_hex(16)).unwrap());
        }
        let parsed = parse_key_values(&file);
        assert_eq!(parsed.len(), values.len());
        for (i, v) in values.iter().enumerate() {
            assert_eq!(parsed[i], (format!("k{i}"), v.to_string()));
        }
    }

    #[test]
    fn bad_names_are_refused() {
        for name in ["", "a\nb", "a<<b", "a=b"] {
            assert!(
                format_key_value(name, "v", &mut || random_hex(4)).is_err(),
                "{name:?}"
            );
        }
    }

    #[test]
    fn random_delimiters_differ() {
        assert_ne!(random_hex(16), random_hex(16));
        assert_eq!(random_hex(16).len(), 32);
    }
}
