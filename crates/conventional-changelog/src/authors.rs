//! GitHub logins of commit authors (`authors: login`): from GitHub's noreply e-mails without
//! a request, else from the commits API (`GET /repos/{owner}/{repo}/commits/{sha}` →
//! `author.login`), one request per unique e-mail at most. A failing API degrades to the
//! authors' names with one warning; it never fails the run.

use std::collections::HashMap;

use hub_git::CommitLog;
use hub_github::{BlockingGitHub, Error as ApiError, Repository};
use hub_kit::{Env, Runner};

/// Logins by lower-case e-mail, and what resolving them cost.
#[derive(Debug, Default)]
pub struct Logins {
    /// Lower-case e-mail → login, for the e-mails linked to an account.
    pub by_email: HashMap<String, String>,
    /// Requests made to the API.
    pub requests: usize,
    /// E-mails read from a noreply address, without a request.
    pub from_noreply: usize,
    /// Why the API could not be used (the names are shown instead), if it could not.
    pub warning: Option<String>,
}

/// The login in a GitHub noreply e-mail: `12345+login@users.noreply.github.com` or
/// `login@users.noreply.github.com` (on GitHub Enterprise, `users.noreply.<host>`).
pub fn noreply_login<'a>(email: &'a str, server_host: &str) -> Option<&'a str> {
    let (local, domain) = email.rsplit_once('@')?;
    let domain_ok = domain.eq_ignore_ascii_case("users.noreply.github.com")
        || domain
            .get(..14)
            .is_some_and(|d| d.eq_ignore_ascii_case("users.noreply."))
            && domain[14..].eq_ignore_ascii_case(server_host);
    if !domain_ok {
        return None;
    }
    let login = match local.split_once('+') {
        Some((id, login)) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => login,
        Some(_) => return None,
        None => local,
    };
    let bare = login.strip_suffix("[bot]").unwrap_or(login);
    let valid = !bare.is_empty()
        && bare.len() <= 39
        && bare.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    valid.then_some(login)
}

/// Resolves the authors of the commits at `indexes` in `log` (newest first): noreply
/// e-mails directly, every other unique e-mail with one request for its newest commit.
pub fn resolve(
    env: &Env,
    token: Option<&str>,
    runner: &mut Runner,
    log: &CommitLog,
    indexes: &[usize],
) -> Logins {
    let mut logins = Logins::default();
    // `https://ghe.example.com` → `ghe.example.com`.
    let server_host = env
        .get_non_empty(hub_kit::vars::GITHUB_SERVER_URL)
        .map(|u| {
            let rest = u.split_once("://").map_or(u, |(_, rest)| rest);
            rest.split(['/', ':'])
                .next()
                .unwrap_or(rest)
                .to_ascii_lowercase()
        })
        .unwrap_or_else(|| "github.com".to_owned());

    // One commit per unique e-mail (its newest), noreply ones answered on the spot.
    let mut pending: Vec<(String, &str)> = Vec::new();
    let mut seen: HashMap<String, ()> = HashMap::new();
    for c in indexes.iter().filter_map(|&i| log.get(i)) {
        let email = c.author_email.to_ascii_lowercase();
        if email.is_empty() || seen.insert(email.clone(), ()).is_some() {
            continue;
        }
        match noreply_login(c.author_email, &server_host) {
            Some(login) => {
                logins.by_email.insert(email, login.to_owned());
                logins.from_noreply += 1;
            }
            None => pending.push((email, c.id)),
        }
    }
    if pending.is_empty() {
        return logins;
    }

    // Without a token too: public repositories answer anonymously.
    let client = hub_github::config_from_env(env, token, runner).and_then(|config| {
        let repository = config.repository()?.clone();
        Ok((BlockingGitHub::new(&config)?, repository))
    });
    let (client, repository): (BlockingGitHub, Repository) = match client {
        Ok(c) => c,
        Err(e) => {
            logins.warning = Some(format!(
                "cannot look up {} author e-mail(s) on GitHub ({e}); showing their names",
                pending.len()
            ));
            return logins;
        }
    };
    let mut unresolved = 0;
    for (k, (email, sha)) in pending.iter().enumerate() {
        logins.requests += 1;
        match client.block_on(client.github().commit_author_login(&repository, sha)) {
            Ok(Some(login)) => {
                logins.by_email.insert(email.clone(), login);
            }
            // Not linked to an account, or a commit GitHub does not have (not pushed).
            Ok(None) | Err(ApiError::NotFound { .. } | ApiError::Rejected { .. }) => {
                unresolved += 1;
            }
            Err(e) => {
                logins.warning = Some(format!(
                    "cannot look up authors on GitHub ({e}); showing the names of {} author(s) \
                     not resolved yet",
                    pending.len() - k + unresolved
                ));
                return logins;
            }
        }
    }
    logins
}

#[cfg(test)]
mod tests {
    use super::noreply_login;

    #[test]
    fn noreply_emails_name_their_login() {
        let gh = "github.com";
        assert_eq!(
            noreply_login("12345+octocat@users.noreply.github.com", gh),
            Some("octocat")
        );
        assert_eq!(
            noreply_login("octo-cat@Users.NoReply.GitHub.com", gh),
            Some("octo-cat")
        );
        assert_eq!(
            noreply_login("49699333+dependabot[bot]@users.noreply.github.com", gh),
            Some("dependabot[bot]")
        );
        assert_eq!(
            noreply_login("7+mona@users.noreply.ghe.example.com", "ghe.example.com"),
            Some("mona")
        );
        for not in [
            "octocat@example.com",
            "7+mona@users.noreply.ghe.example.com",
            "x+mona@users.noreply.github.com",
            "a b@users.noreply.github.com",
            "@users.noreply.github.com",
            "no-at-sign",
        ] {
            assert_eq!(noreply_login(not, gh), None, "{not}");
        }
    }
}
