//! Updating the changelog file: compute the new text, write it only when it differs, and
//! write it with the suite's one atomic write, `hub_kit::files::write_atomically` (a
//! temporary file next to the target, fsynced, renamed over; a symlinked `CHANGELOG.md`
//! is followed, so the file it names gets the text and the link stays a link; a killed
//! run's temporary file is removed by the next write).

use std::path::Path;

use anyhow::{Result, anyhow};

/// What happened to the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Written: it did not exist or its bytes changed.
    Written,
    /// Already exactly this text: not touched.
    UpToDate,
}

/// Reads the file (the `output` input's); a missing file is empty.
pub fn read(path: &Path) -> Result<String> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map_err(|_| anyhow!("input `output`: `{}` is not UTF-8 text", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(anyhow!(
            "input `output`: cannot read `{}`: {e}",
            path.display()
        )),
    }
}

/// Writes `text` to `path` unless the file already holds exactly these bytes.
pub fn update(path: &Path, text: &str) -> Result<Outcome> {
    match std::fs::read(path) {
        Ok(old) if old == text.as_bytes() => return Ok(Outcome::UpToDate),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(anyhow!(
                "input `output`: cannot read `{}`: {e}",
                path.display()
            ));
        }
    }
    hub_kit::files::write_atomically(path, text.as_bytes())?;
    Ok(Outcome::Written)
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

    /// A `CHANGELOG.md` kept elsewhere through a symlink: the file it names gets the new
    /// text and the link stays a link.
    #[cfg(unix)]
    #[test]
    fn a_symlinked_changelog_stays_a_link() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("docs")).expect("mkdir");
        std::fs::write(dir.path().join("docs/CHANGELOG.md"), "# old\n").expect("write");
        let link = dir.path().join("CHANGELOG.md");
        std::os::unix::fs::symlink("docs/CHANGELOG.md", &link).expect("symlink");
        assert_eq!(update(&link, "# new\n").expect("update"), Outcome::Written);
        assert!(
            std::fs::symlink_metadata(&link)
                .expect("meta")
                .file_type()
                .is_symlink(),
            "the link is kept"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("docs/CHANGELOG.md")).expect("read"),
            "# new\n"
        );
        assert_eq!(update(&link, "# new\n").expect("same"), Outcome::UpToDate);
    }

    /// What a run killed with `kill -9` between writing and renaming leaves next to the
    /// file is removed by the next write.
    #[test]
    fn a_killed_runs_temporary_file_is_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("CHANGELOG.md");
        std::fs::write(
            dir.path().join(".CHANGELOG.md.hub-tmp-0123456789ab"),
            "x".repeat(2 << 20),
        )
        .expect("write");
        update(&path, "# a\n").expect("update");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["CHANGELOG.md"]);
    }

    #[test]
    fn refuses_non_utf8() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("CHANGELOG.md");
        std::fs::write(&path, [0xff, 0xfe]).expect("write");
        assert!(read(&path).unwrap_err().to_string().contains("not UTF-8"));
    }
}
