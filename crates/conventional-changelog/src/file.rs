//! Updating the changelog file: compute the new text, write it only when it differs, and
//! write it atomically (a temporary file in the same directory, fsynced, renamed over).

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

/// What happened to the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Written: it did not exist or its bytes changed.
    Written,
    /// Already exactly this text: not touched.
    UpToDate,
}

/// Reads the file; a missing file is empty.
pub fn read(path: &Path) -> Result<String> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map_err(|_| anyhow::anyhow!("`{}` is not UTF-8 text", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(e).with_context(|| format!("cannot read `{}`", path.display())),
    }
}

/// Writes `text` to `path` unless the file already holds exactly these bytes.
pub fn update(path: &Path, text: &str) -> Result<Outcome> {
    match std::fs::read(path) {
        Ok(old) if old == text.as_bytes() => return Ok(Outcome::UpToDate),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot read `{}`", path.display())),
    }
    write_atomically(path, text.as_bytes())
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(Outcome::Written)
}

/// Readers see the old file or the new one, never a part: the bytes go to a temporary
/// file next to `path` (same file system), are flushed to disk, and the file is renamed
/// over `path`. An existing file's permissions are kept.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".changelog-").suffix(".tmp");
    // A new file gets the mode any editor would give it (0666 less the umask), not the
    // 0600 of a temporary file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    if let Ok(meta) = std::fs::metadata(path) {
        tmp.as_file().set_permissions(meta.permissions())?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    // Make the rename itself durable (best effort: not every platform can open a dir).
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_once_then_leaves_the_file_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("docs/CHANGELOG.md");
        assert_eq!(read(&path).expect("missing is empty"), "");
        assert_eq!(update(&path, "# a\n").expect("write"), Outcome::Written);
        let before = std::fs::metadata(&path)
            .expect("meta")
            .modified()
            .expect("mtime");
        assert_eq!(update(&path, "# a\n").expect("same"), Outcome::UpToDate);
        assert_eq!(
            std::fs::metadata(&path)
                .expect("meta")
                .modified()
                .expect("mtime"),
            before
        );
        assert_eq!(update(&path, "# b\n").expect("write"), Outcome::Written);
        assert_eq!(read(&path).expect("read"), "# b\n");
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(path.parent().expect("dir"))
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["CHANGELOG.md"]);
    }

    #[cfg(unix)]
    #[test]
    fn keeps_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("CHANGELOG.md");
        std::fs::write(&path, "old").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        update(&path, "new").expect("update");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
    }

    #[test]
    fn refuses_non_utf8() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("CHANGELOG.md");
        std::fs::write(&path, [0xff, 0xfe]).expect("write");
        assert!(read(&path).unwrap_err().to_string().contains("not UTF-8"));
    }
}
