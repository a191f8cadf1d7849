//! File commands: `$GITHUB_OUTPUT` and `$GITHUB_ENV` (heredoc form with a random delimiter)
//! and `$GITHUB_PATH`; the one atomic write.

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

/// The part of a temporary file's name that marks it as ours: `.<name>.hub-tmp-<random>`.
/// A `.gitignore` line `*.hub-tmp-*` keeps a leftover out of any commit.
pub const TEMP_MARK: &str = ".hub-tmp-";

/// Replaces the file at `path` with `bytes` so that readers see the old file or the new
/// one, whole, never a part — the one atomic write every binary uses:
///
/// - a symlink is followed: the file it points to is replaced and the link stays a link
///   (a `CHANGELOG.md` or audit log kept elsewhere through a link keeps working);
/// - the bytes go to `.<name>.hub-tmp-<random>` next to the target (the same file system,
///   so the rename is atomic), are flushed to disk, and the temporary file is renamed over
///   the target; an existing file's permissions are kept, a new one gets 0666 less the umask;
/// - a temporary file left by an earlier run that was killed mid-write (`kill -9`) is
///   removed first; one that fails is removed on the way out.
///
/// # Errors
///
/// The I/O error with the path it concerns, e.g. "cannot write `CHANGELOG.md`: Permission
/// denied (os error 13)".
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let target = resolve_links(path)?;
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => std::path::PathBuf::from("."),
    };
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("`{}` names no file", path.display()),
            )
        })?;
    let context = |what: &str, p: &Path, e: std::io::Error| {
        std::io::Error::new(e.kind(), format!("cannot {what} `{}`: {e}", p.display()))
    };
    std::fs::create_dir_all(&dir).map_err(|e| context("create the directory", &dir, e))?;
    remove_stale_temps(&dir, &name);
    let temp = dir.join(format!(".{name}{TEMP_MARK}{}", random_hex(6)));
    let write = || -> std::io::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o666);
        }
        let mut file = options.open(&temp)?;
        file.write_all(bytes)?;
        // WASI preview 1 has no permission bits to copy (the WebAssembly build's files get
        // the runner's defaults).
        #[cfg(not(target_os = "wasi"))]
        if let Ok(meta) = std::fs::metadata(&target) {
            file.set_permissions(meta.permissions())?;
        }
        file.sync_all()?;
        std::fs::rename(&temp, &target)
    };
    if let Err(e) = write() {
        let _ = std::fs::remove_file(&temp);
        return Err(context("write", path, e));
    }
    // Make the rename itself durable (best effort: not every platform can open a folder).
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Follows `path` through symlinks (at most 40, as the kernel does) to the file they name;
/// a path that is not a link, or does not exist yet, is itself.
fn resolve_links(path: &Path) -> std::io::Result<std::path::PathBuf> {
    let mut current = path.to_owned();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = std::fs::read_link(&current)?;
                current = match current.parent() {
                    Some(parent) if link.is_relative() => parent.join(link),
                    _ => link,
                };
            }
            _ => return Ok(current),
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("`{}`: too many levels of symbolic links", path.display()),
    ))
}

/// Removes `.<name>.hub-tmp-*` files in `dir` (left by a run killed mid-write).
fn remove_stale_temps(dir: &Path, name: &str) {
    let prefix = format!(".{name}{TEMP_MARK}");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
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

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("because the folder exists")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn atomic_writes_clean_up_a_killed_runs_temporary_file() {
        let dir = tempfile::tempdir().expect("because a temp dir can be made");
        let path = dir.path().join("CHANGELOG.md");
        // What a run killed with -9 between write and rename leaves behind.
        std::fs::write(
            dir.path().join(".CHANGELOG.md.hub-tmp-0123456789ab"),
            "half",
        )
        .expect("because the folder is writable");
        std::fs::write(dir.path().join(".other.md.hub-tmp-0123456789ab"), "x")
            .expect("because the folder is writable");
        write_atomically(&path, b"# Changelog\n").expect("because the folder is writable");
        assert_eq!(
            std::fs::read_to_string(&path).expect("because it was written"),
            "# Changelog\n"
        );
        // Only this target's leftovers are ours to remove.
        assert_eq!(
            names(dir.path()),
            [".other.md.hub-tmp-0123456789ab", "CHANGELOG.md"]
        );
    }

    #[cfg(unix)]
    #[test]
    fn atomic_writes_follow_symlinks_and_keep_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("because a temp dir can be made");
        let real = dir.path().join("shared/audit.jsonl");
        std::fs::create_dir_all(real.parent().expect("because it has one"))
            .expect("because the folder is writable");
        std::fs::write(&real, "old\n").expect("because the folder is writable");
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640))
            .expect("because we own the file");
        let link = dir.path().join("audit.jsonl");
        std::os::unix::fs::symlink("shared/audit.jsonl", &link).expect("because links work");
        write_atomically(&link, b"new\n").expect("because the folder is writable");
        assert!(
            std::fs::symlink_metadata(&link)
                .expect("because it exists")
                .file_type()
                .is_symlink(),
            "the link is kept"
        );
        assert_eq!(std::fs::read_to_string(&real).expect("exists"), "new\n");
        let mode = std::fs::metadata(&real)
            .expect("exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o640);
        assert_eq!(names(dir.path()), ["audit.jsonl", "shared"]);
        assert_eq!(names(&dir.path().join("shared")), ["audit.jsonl"]);
    }

    #[test]
    fn atomic_write_errors_carry_the_os_error_and_leave_nothing() {
        let dir = tempfile::tempdir().expect("because a temp dir can be made");
        // A folder that cannot be made (a file is in the way): the real OS error, named.
        let blocker = dir.path().join("notes");
        std::fs::write(&blocker, "a file").expect("because the folder is writable");
        let error =
            write_atomically(&blocker.join("x.md"), b"x").expect_err("a file is in the way");
        let text = error.to_string();
        assert!(text.contains("cannot create the directory"), "{text}");
        assert!(text.contains("notes"), "{text}");
        assert!(text.contains("os error"), "{text}");
        // A target that is a folder: the rename fails, and the temporary file is gone.
        let folder = dir.path().join("CHANGELOG.md");
        std::fs::create_dir(&folder).expect("because the folder is writable");
        std::fs::write(folder.join("keep"), "x").expect("because the folder is writable");
        let error = write_atomically(&folder, b"x").expect_err("a folder is in the way");
        assert!(error.to_string().contains("cannot write"), "{error}");
        assert_eq!(names(dir.path()), ["CHANGELOG.md", "notes"]);
    }

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
