//! Where commit, issue and compare links point: GitHub or GitHub Enterprise.
//!
//! In order: the `repo-url` input (`none` turns links off); inside Actions
//! `GITHUB_SERVER_URL` + `GITHUB_REPOSITORY`; locally the `origin` remote when it is a
//! github.com URL; else no links.

use hub_changelog::Links;
use hub_kit::{Env, vars};

/// The outcome, and where it came from (for the log).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The links, or `None` for plain text.
    pub links: Option<Links>,
    /// Which source decided.
    pub source: &'static str,
}

/// Decides the links. `origin` is only asked when nothing else decided.
pub fn resolve(
    repo_url: Option<&str>,
    env: &Env,
    origin: impl FnOnce() -> Option<String>,
) -> Result<Resolved, String> {
    if let Some(url) = repo_url.map(str::trim) {
        if matches!(url, "none" | "false") {
            return Ok(Resolved {
                links: None,
                source: "input `repo-url`",
            });
        }
        return match parse_url(url) {
            Some(links) => Ok(Resolved {
                links: Some(links),
                source: "input `repo-url`",
            }),
            None => Err(format!(
                "input `repo-url`: expected a repository URL like `https://github.com/owner/repo` \
                 (or `none`), got `{url}`"
            )),
        };
    }
    if let (Some(server), Some(repository)) = (
        env.get_non_empty(vars::GITHUB_SERVER_URL),
        env.get_non_empty(vars::GITHUB_REPOSITORY),
    ) && let Some(links) = parse_url(&format!("{}/{repository}", server.trim_end_matches('/')))
    {
        return Ok(Resolved {
            links: Some(links),
            source: "`GITHUB_SERVER_URL` and `GITHUB_REPOSITORY`",
        });
    }
    let links = origin()
        .and_then(|url| parse_url(&url))
        .filter(|l| l.server_url == "https://github.com");
    Ok(Resolved {
        source: if links.is_some() {
            "the `origin` remote"
        } else {
            "no GitHub remote"
        },
        links,
    })
}

/// Reads a repository URL in the forms git and browsers use:
/// `https://host[:port]/owner/repo[.git][/]`, `ssh://[user@]host[:port]/owner/repo[.git]`,
/// `[user@]host:owner/repo[.git]` (scp-like). Credentials are dropped; SSH URLs link to
/// `https://host`. Anything else (other path shapes, odd characters) is `None`.
pub fn parse_url(url: &str) -> Option<Links> {
    let url = url.trim();
    let (scheme, rest, ssh) = if let Some(rest) = url.strip_prefix("https://") {
        ("https", rest, false)
    } else if let Some(rest) = url.strip_prefix("http://") {
        ("http", rest, false)
    } else if let Some(rest) = url.strip_prefix("ssh://") {
        ("https", rest, true)
    } else if !url.contains("://") && url.contains(':') {
        // scp-like: git@github.com:owner/repo.git
        let (host, path) = url.split_once(':')?;
        let host = host.rsplit('@').next()?;
        return links("https", host, path);
    } else {
        return None;
    };
    let (authority, path) = rest.split_once('/')?;
    // Drop `user[:password]@`: a token in a remote URL must never reach a link or a log.
    let host = authority.rsplit('@').next()?;
    let host = if ssh { host.split(':').next()? } else { host };
    links(scheme, host, path)
}

fn links(scheme: &str, host: &str, path: &str) -> Option<Links> {
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
    let path = path.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let mut parts = path.split('/');
    let (owner, repo) = (parts.next()?, parts.next()?);
    let name_ok = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    };
    (host_ok && parts.next().is_none() && name_ok(owner) && name_ok(repo)).then(|| Links {
        server_url: format!("{scheme}://{}", host.to_ascii_lowercase()),
        repository: format!("{owner}/{repo}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str, expect: Option<(&str, &str)>) {
        let got = parse_url(url).map(|l| (l.server_url, l.repository));
        let expect = expect.map(|(s, r)| (s.to_owned(), r.to_owned()));
        assert_eq!(got, expect, "{url}");
    }

    #[test]
    fn remote_url_forms() {
        let gh = Some(("https://github.com", "octo/hub"));
        check("https://github.com/octo/hub", gh);
        check("https://github.com/octo/hub.git", gh);
        check("https://github.com/octo/hub/", gh);
        check(
            "https://x-access-token:ghs_secret@github.com/octo/hub.git",
            gh,
        );
        check("git@github.com:octo/hub.git", gh);
        check("ssh://git@github.com/octo/hub.git", gh);
        check("ssh://git@github.com:22/octo/hub", gh);
        check(
            "https://GHE.example.com:8443/team/app",
            Some(("https://ghe.example.com:8443", "team/app")),
        );
        check(
            "http://localhost:3000/o/r",
            Some(("http://localhost:3000", "o/r")),
        );
        check("https://github.com/octo", None);
        check("https://github.com/octo/hub/tree/main", None);
        check("https://github.com/o/r)<b>", None);
        check("/srv/git/hub.git", None);
        check("file:///srv/git/hub.git", None);
        check("../origin.git", None);
    }

    #[test]
    fn precedence() {
        let actions = Env::from_pairs([
            (vars::GITHUB_SERVER_URL, "https://ghe.example.com/"),
            (vars::GITHUB_REPOSITORY, "team/app"),
        ]);
        let none = Env::default();
        let origin = || Some("git@github.com:octo/hub.git".to_owned());
        let server = |r: Result<Resolved, String>| r.map(|r| r.links.map(|l| l.repo_url()));

        assert_eq!(
            server(resolve(Some("https://github.com/a/b"), &actions, origin)),
            Ok(Some("https://github.com/a/b".into()))
        );
        assert_eq!(server(resolve(Some("none"), &actions, origin)), Ok(None));
        assert!(
            resolve(Some("not a url"), &none, origin)
                .unwrap_err()
                .contains("input `repo-url`")
        );
        assert_eq!(
            server(resolve(None, &actions, origin)),
            Ok(Some("https://ghe.example.com/team/app".into()))
        );
        assert_eq!(
            server(resolve(None, &none, origin)),
            Ok(Some("https://github.com/octo/hub".into()))
        );
        // A local remote that is not github.com gives no links.
        assert_eq!(
            server(resolve(None, &none, || Some(
                "https://gitlab.com/a/b".into()
            ))),
            Ok(None)
        );
        assert_eq!(server(resolve(None, &none, || None)), Ok(None));
    }
}
