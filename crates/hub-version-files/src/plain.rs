//! A file holding only the version (`VERSION`, `version.txt`), with or without a `v` and a
//! final newline.

use crate::edit::Edits;
use crate::{Error, Request, Updated};

/// Replaces the version, keeping a leading `v` and whatever surrounds it.
pub(crate) fn version_file(text: &str, request: &Request<'_>) -> Result<Updated, Error> {
    let content = text.trim();
    if content.is_empty() {
        return Err(Error::Missing {
            key: "version".into(),
        });
    }
    let start = text.len() - text.trim_start().len();
    let (start, old) = match content.strip_prefix('v') {
        Some(rest) => (start + 1, rest),
        None => (start, content),
    };
    if old.lines().count() > 1 || semver::Version::parse(old).is_err() {
        return Err(Error::NotAVersion {
            key: "version".into(),
            found: format!("`{}`", old.lines().next().unwrap_or_default()),
        });
    }
    let mut edits = Edits::default();
    edits.replace(
        "version",
        start..start + old.len(),
        old,
        &request.version.to_string(),
    );
    Ok(edits.apply(text))
}
