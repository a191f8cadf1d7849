//! What a reference may reach. A schema is code, and the repository being checked may be a
//! pull request's: a document's `$schema`, a `$ref` in any schema, and the references a schema
//! map or catalog file in the repository holds are the repository's, so they resolve only
//! inside the schema roots (the working directory and the roots the workflow names) and, over
//! HTTPS, on the allowed hosts. References the workflow gives itself (`--schema`, `--catalog`,
//! an inline `--schema-map`) are the workflow author's and may name what they like.

use std::path::{Component, Path, PathBuf};

use hub_kit::cli::UsageError;

/// Hosts a reference from the repository may download from by default (over HTTPS).
pub const DEFAULT_HOSTS: &[&str] = &[
    "json.schemastore.org",
    "www.schemastore.org",
    "schemastore.org",
    "json-schema.org",
];

/// Who gave a reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Trust {
    /// The workflow: a flag or an input (`--schema`, `--catalog`, inline `--schema-map`).
    Workflow,
    /// The repository's content: a document's `$schema`, a `$ref`, a schema map or catalog
    /// file inside the working directory.
    Repository,
}

/// The schema roots and allowed hosts of a run.
#[derive(Debug)]
pub struct Policy {
    /// Canonical (symlinks resolved) schema roots; the first is the working directory.
    roots: Vec<PathBuf>,
    /// Lower-case host names.
    hosts: Vec<String>,
}

impl Policy {
    /// The working directory `root` plus `extra` roots (relative to `root`), and the default
    /// hosts plus `extra_hosts`.
    ///
    /// # Errors
    ///
    /// A [`UsageError`] for a root that does not exist or is not a folder, or a host that is
    /// not a bare host name.
    pub fn new(root: &Path, extra: &[String], extra_hosts: &[String]) -> Result<Self, UsageError> {
        let mut roots = Vec::new();
        for (name, path) in std::iter::once((".", root.to_owned()))
            .chain(extra.iter().map(|r| (r.as_str(), root.join(r.trim()))))
        {
            let canonical = path
                .canonicalize()
                .map_err(|e| UsageError(format!("schema root `{name}` cannot be used: {e}")))?;
            if !canonical.is_dir() {
                return Err(UsageError(format!("schema root `{name}` is not a folder")));
            }
            roots.push(canonical);
        }
        let mut hosts: Vec<String> = DEFAULT_HOSTS.iter().map(|h| (*h).to_owned()).collect();
        for host in extra_hosts
            .iter()
            .map(|h| h.trim())
            .filter(|h| !h.is_empty())
        {
            let valid = host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'));
            if !valid {
                return Err(UsageError(format!(
                    "allowed host `{host}` is not a host name (write `schemas.example.com`, without scheme, port or path)"
                )));
            }
            hosts.push(host.to_ascii_lowercase());
        }
        Ok(Self { roots, hosts })
    }

    /// Whether `path` lies inside the working directory (symlinks resolved): a file there is
    /// the repository's content.
    pub fn in_working_directory(&self, path: &Path) -> bool {
        path.canonicalize()
            .is_ok_and(|canonical| canonical.starts_with(&self.roots[0]))
    }

    /// The real path of a local reference from the repository, if it may be read: inside a
    /// schema root once symlinks and `..` are resolved, and not in a `.git` folder. `reference`
    /// names it in the error.
    ///
    /// # Errors
    ///
    /// Why not, naming `reference` only.
    pub fn local(&self, reference: &str, path: &Path) -> Result<PathBuf, String> {
        let canonical = path
            .canonicalize()
            .map_err(|e| format!("cannot read `{reference}`: {e}"))?;
        let Some(root) = self.roots.iter().find(|root| canonical.starts_with(root)) else {
            return Err(format!(
                "`{reference}` is outside the schema roots; a reference from the repository may name only files inside them (`schema-roots` adds a folder)"
            ));
        };
        let inside = canonical.strip_prefix(root).unwrap_or(&canonical);
        if inside
            .components()
            .any(|c| matches!(c, Component::Normal(name) if name == ".git"))
        {
            return Err(format!(
                "`{reference}` is inside a `.git` folder, which a reference from the repository may not name"
            ));
        }
        Ok(canonical)
    }

    /// Whether a URL from the repository may be downloaded: HTTPS on an allowed host. The
    /// addresses the host resolves to are checked when connecting (hub-http's
    /// `PublicOnly` policy, see `fetch`).
    ///
    /// # Errors
    ///
    /// Why not, naming `url` only.
    pub fn remote(&self, url: &str) -> Result<(), String> {
        let Some(rest) = url.strip_prefix("https://") else {
            return Err(format!(
                "`{url}` is not an HTTPS URL; a reference from the repository may download only over HTTPS"
            ));
        };
        let host = host_of(rest);
        if self.allows_host(&host) {
            Ok(())
        } else {
            Err(format!(
                "`{url}` is not on an allowed host; a reference from the repository may download only from {} (`allowed-hosts` adds one)",
                self.hosts
                    .iter()
                    .map(|h| format!("`{h}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
    }

    /// Whether `host` (any case) is allowed.
    pub fn allows_host(&self, host: &str) -> bool {
        self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
    }
}

/// The host of `authority/path…` (after the scheme): no user info, no port, lower-case.
fn host_of(rest: &str) -> String {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    host.to_ascii_lowercase()
}

/// `scheme://host[:port]` of an absolute HTTP(S) URL, for comparing origins.
pub fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if !matches!(scheme, "http" | "https") {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    Some(format!("{scheme}://{}", host_port.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_references_need_https_on_an_allowed_host() {
        let dir = tempfile::tempdir().expect("because a temp dir can be made");
        let policy = Policy::new(dir.path(), &[], &["Schemas.Example.com".to_owned()])
            .expect("because the policy is valid");
        assert_eq!(
            policy.remote("https://json.schemastore.org/github-workflow.json"),
            Ok(())
        );
        assert_eq!(
            policy.remote("https://schemas.example.com:8443/a.json"),
            Ok(())
        );
        assert_eq!(
            policy.remote("https://user@SCHEMAS.example.com/a.json"),
            Ok(())
        );
        let refused = [
            "http://json.schemastore.org/x.json",
            "https://json.schemastore.org.evil.example/x.json",
            "https://127.0.0.1/x.json",
            "https://evil.example@/x.json",
        ];
        for url in refused {
            assert!(policy.remote(url).is_err(), "{url} is refused");
        }
        assert!(Policy::new(dir.path(), &[], &["https://x.example/".to_owned()]).is_err());
    }

    #[test]
    fn local_references_stay_inside_the_roots_and_out_of_git() {
        let base = tempfile::tempdir().expect("because a temp dir can be made");
        let repo = base.path().join("repo");
        let shared = base.path().join("shared");
        for dir in [repo.join(".git"), repo.join("s"), shared.clone()] {
            std::fs::create_dir_all(dir).expect("because the folder can be made");
        }
        for file in [
            repo.join("s/a.json"),
            repo.join(".git/config"),
            shared.join("b.json"),
            base.path().join("secret.json"),
        ] {
            std::fs::write(file, "{}").expect("because the file can be written");
        }
        std::os::unix::fs::symlink(base.path().join("secret.json"), repo.join("link.json"))
            .expect("because a symlink can be made");
        let policy =
            Policy::new(&repo, &["../shared".to_owned()], &[]).expect("because the roots exist");
        let local = |path: &Path| policy.local("ref", path).map(|_| ());
        assert_eq!(local(&repo.join("s/a.json")), Ok(()));
        assert_eq!(local(&repo.join("s/../s/a.json")), Ok(()));
        assert_eq!(local(&shared.join("b.json")), Ok(()));
        for refused in [
            repo.join("../secret.json"),
            repo.join("link.json"),
            repo.join(".git/config"),
            PathBuf::from("/etc/hostname"),
        ] {
            assert!(local(&refused).is_err(), "{} is refused", refused.display());
        }
        assert!(policy.in_working_directory(&repo.join("s/a.json")));
        assert!(!policy.in_working_directory(&shared.join("b.json")));
    }
}
