//! Verified commits through GitHub's GraphQL API (`createCommitOnBranch`): GitHub signs the
//! commit whatever the token (the workflow's `GITHUB_TOKEN`, an app's or a person's), so it
//! shows as verified. The Git Data API path ([`GitHub::commit_files`]) is the fallback, and a
//! project that signs locally commits with git itself; [`CommitVia`] chooses.

use base64::Engine as _;
use http::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::refusal;
use crate::{CommitOutcome, Error, FileCommit, GitHub, Permission, Repository, Route};

/// The mutation, with the fields it reads back.
const CREATE_COMMIT_ON_BRANCH: &str =
    "mutation CreateCommitOnBranch($input: CreateCommitOnBranchInput!) {
  createCommitOnBranch(input: $input) {
    commit { oid url }
  }
}";

/// The compare-and-swap of a ref: the update is made only if the ref still holds `beforeOid`.
const UPDATE_REFS: &str = "mutation UpdateRefs($input: UpdateRefsInput!) {
  updateRefs(input: $input) { clientMutationId }
}";

/// How [`GitHub::swap_ref`] moved a ref.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefSwap {
    /// Atomically, with GraphQL `updateRefs` and its `beforeOid`.
    Atomic,
    /// GitHub has no `updateRefs` (an older GitHub Enterprise Server): the ref was read again
    /// and then moved with a forced `PATCH git/refs` — a push between those two calls is
    /// overwritten.
    ReadThenForced,
}

/// How commits are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CommitVia {
    /// GraphQL `createCommitOnBranch`: verified (signed by GitHub) with any token.
    #[default]
    Graphql,
    /// The Git Data API (blob, tree, commit, ref): unsigned, the fallback.
    GitData,
}

/// A commit to make with `createCommitOnBranch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchCommit {
    /// The branch (`release-pr/main`, without `refs/heads/`); it must exist.
    pub branch: String,
    /// The head the commit goes on: GitHub refuses ([`Error::StaleHead`]) when the branch
    /// points elsewhere.
    pub expected_head: String,
    /// The first line of the message.
    pub headline: String,
    /// The rest of the message (may be empty).
    pub body: String,
    /// Files to add or replace: path and bytes.
    pub additions: Vec<(String, Vec<u8>)>,
    /// Paths to delete.
    pub deletions: Vec<String>,
    /// Paths of `additions` written as executable files (`100755`) through the Git Data API
    /// (their mode in the base tree); the others are regular files (`100644`).
    /// `createCommitOnBranch` has no mode field (`FileAddition` is a path and contents).
    pub executable: Vec<String>,
}

/// A commit GitHub made and signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCommit {
    pub oid: String,
    pub url: String,
}

#[derive(Deserialize)]
struct RawSha {
    sha: String,
}

#[derive(Deserialize)]
struct RawGitCommit {
    tree: RawSha,
}

#[derive(Deserialize)]
struct RawTreeEntry {
    path: String,
    sha: String,
}

#[derive(Deserialize)]
struct RawTree {
    tree: Vec<RawTreeEntry>,
    #[serde(default)]
    truncated: bool,
}

/// The git object id of a blob with `content` (SHA-1, as GitHub's repositories are).
fn blob_id(content: &[u8]) -> String {
    let mut hasher = sha1_smol::Sha1::new();
    hasher.update(format!("blob {}\0", content.len()).as_bytes());
    hasher.update(content);
    hasher.digest().to_string()
}

#[derive(Deserialize)]
struct RawGraphqlError {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
struct RawResponse {
    data: Option<Value>,
    #[serde(default)]
    errors: Vec<RawGraphqlError>,
}

impl RawResponse {
    /// A `FORBIDDEN` error of mutation `operation` (GitHub answers it with HTTP 200) as the
    /// REST refusal it is: writing contents was not permitted.
    fn forbidden(&self, operation: &str) -> Option<Error> {
        let forbidden = self
            .errors
            .iter()
            .find(|e| e.kind.as_deref() == Some("FORBIDDEN"))?;
        Some(Error::Forbidden {
            route: Route {
                method: "POST".to_owned(),
                path: format!("/graphql {operation}"),
            },
            status: 200,
            permission: Permission::ContentsWrite,
            message: forbidden.message.clone(),
        })
    }
}

/// The GraphQL endpoint for a REST API root: `https://api.github.com/graphql`, and
/// `https://HOST/api/graphql` for GitHub Enterprise Server's `https://HOST/api/v3`.
#[must_use]
pub fn graphql_url(api_url: &str) -> String {
    let root = api_url.trim_end_matches('/');
    format!("{}/graphql", root.strip_suffix("/v3").unwrap_or(root))
}

impl GitHub {
    /// Runs one GraphQL document with `variables`; returns GitHub's answer, `data` and
    /// `errors[]` both (GraphQL reports its errors with status 200).
    ///
    /// # Errors
    /// On a refusal by status (401, 403, rate limits past the cap), or transport failure.
    async fn graphql(&self, query: &str, variables: &Value) -> Result<RawResponse, Error> {
        let url = self.graphql_endpoint().to_owned();
        let body = json!({ "query": query, "variables": variables });
        let (route, response) = self.send(Method::POST, &url, Some(&body)).await?;
        let route = Route {
            method: route.method,
            path: "/graphql".to_owned(),
        };
        if !response.is_success() {
            return Err(refusal(route, &response, Permission::ContentsWrite));
        }
        response.json::<RawResponse>(&route)
    }

    /// Commits `commit` with GraphQL `createCommitOnBranch`: one signed (verified) commit on
    /// the branch, made only if the branch still points at `expected_head`.
    ///
    /// # Errors
    /// [`Error::StaleHead`] when the branch moved (`STALE_DATA`); [`Error::Forbidden`] when the
    /// token may not write (`contents: write`); [`Error::Graphql`] for any other error GitHub
    /// reports; on refusal or transport failure.
    pub async fn create_commit_on_branch(
        &self,
        repo: &Repository,
        commit: &BranchCommit,
    ) -> Result<VerifiedCommit, Error> {
        let encode = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
        let mut message = json!({ "headline": commit.headline });
        if !commit.body.is_empty() {
            message["body"] = json!(commit.body);
        }
        let input = json!({
            "branch": {
                "repositoryNameWithOwner": format!("{}/{}", repo.owner, repo.name),
                "branchName": commit.branch,
            },
            "message": message,
            "expectedHeadOid": commit.expected_head,
            "fileChanges": {
                "additions": commit.additions.iter()
                    .map(|(path, bytes)| json!({ "path": path, "contents": encode(bytes) }))
                    .collect::<Vec<_>>(),
                "deletions": commit.deletions.iter()
                    .map(|path| json!({ "path": path }))
                    .collect::<Vec<_>>(),
            },
        });
        let response = self
            .graphql(CREATE_COMMIT_ON_BRANCH, &json!({ "input": input }))
            .await?;
        if let Some(stale) = response
            .errors
            .iter()
            .find(|e| e.kind.as_deref() == Some("STALE_DATA"))
        {
            return Err(Error::StaleHead {
                branch: commit.branch.clone(),
                expected: commit.expected_head.clone(),
                message: stale.message.clone(),
            });
        }
        if let Some(forbidden) = response.forbidden("createCommitOnBranch") {
            return Err(forbidden);
        }
        let created = response
            .data
            .as_ref()
            .and_then(|d| d.pointer("/createCommitOnBranch/commit"));
        let text = |key: &str| {
            created
                .and_then(|c| c.get(key))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        match (text("oid"), text("url")) {
            (Some(oid), Some(url)) if response.errors.is_empty() => Ok(VerifiedCommit { oid, url }),
            _ => Err(Error::Graphql {
                operation: "createCommitOnBranch",
                errors: if response.errors.is_empty() {
                    vec!["no commit in the answer".to_owned()]
                } else {
                    response
                        .errors
                        .iter()
                        .map(|e| match &e.kind {
                            Some(kind) => format!("{kind}: {}", e.message),
                            None => e.message.clone(),
                        })
                        .collect()
                },
            }),
        }
    }

    /// Points branch `branch` (without `refs/heads/`) at `after` only if it still points at
    /// `before`, whatever the two commits are (a forced update): GraphQL `updateRefs` with
    /// `beforeOid` — one `GET /repos/{owner}/{repo}` for the repository's node id, one
    /// mutation. GitHub answers a `beforeOid` that does not match with a generic error (no
    /// error type), so on any error the ref is read again: moved, it is [`Error::StaleHead`].
    /// Where GitHub has no `updateRefs` (the field unknown to its schema, or no GraphQL
    /// endpoint), the ref is read again and moved with a forced update
    /// ([`RefSwap::ReadThenForced`]).
    ///
    /// # Errors
    /// [`Error::StaleHead`] when the branch does not point at `before` (moved, or deleted);
    /// [`Error::Forbidden`] when the token may not write; [`Error::Graphql`] for another
    /// error GitHub reports; on refusal or transport failure.
    pub async fn swap_ref(
        &self,
        repo: &Repository,
        branch: &str,
        before: &str,
        after: &str,
    ) -> Result<RefSwap, Error> {
        let short = format!("heads/{branch}");
        let stale_unless_at = |found: Option<crate::GitRef>, github: Option<String>| match found {
            Some(r) if r.sha == before => None,
            Some(r) => Some(Error::StaleHead {
                branch: branch.to_owned(),
                expected: before.to_owned(),
                message: github.unwrap_or_else(|| format!("the branch points at {}", r.sha)),
            }),
            None => Some(Error::StaleHead {
                branch: branch.to_owned(),
                expected: before.to_owned(),
                message: "the branch does not exist".to_owned(),
            }),
        };
        let node_id = self.repository(repo).await?.node_id;
        let input = json!({
            "repositoryId": node_id,
            "refUpdates": [{
                "name": format!("refs/{short}"),
                "beforeOid": before,
                "afterOid": after,
                "force": true,
            }],
        });
        let response = match self.graphql(UPDATE_REFS, &json!({ "input": input })).await {
            Ok(response) => response,
            Err(Error::NotFound { .. }) => {
                return self
                    .read_then_force(repo, &short, before, after, stale_unless_at)
                    .await;
            }
            Err(other) => return Err(other),
        };
        let answered = response
            .data
            .as_ref()
            .and_then(|d| d.get("updateRefs"))
            .is_some_and(Value::is_object);
        if response.errors.is_empty() && answered {
            return Ok(RefSwap::Atomic);
        }
        let unknown_field = response.errors.iter().any(|e| {
            e.message.contains("updateRefs")
                && (e.message.contains("doesn't exist") || e.message.contains("does not exist"))
        });
        if unknown_field {
            return self
                .read_then_force(repo, &short, before, after, stale_unless_at)
                .await;
        }
        let mut messages: Vec<String> = response
            .errors
            .iter()
            .map(|e| match &e.kind {
                Some(kind) => format!("{kind}: {}", e.message),
                None => e.message.clone(),
            })
            .collect();
        if messages.is_empty() {
            messages.push("no `updateRefs` in the answer".to_owned());
        }
        if let Some(stale) =
            stale_unless_at(self.get_ref(repo, &short).await?, Some(messages.join("; ")))
        {
            return Err(stale);
        }
        if let Some(forbidden) = response.forbidden("updateRefs") {
            return Err(forbidden);
        }
        Err(Error::Graphql {
            operation: "updateRefs",
            errors: messages,
        })
    }

    /// [`GitHub::swap_ref`] without `updateRefs`: the ref read again, then a forced update.
    async fn read_then_force(
        &self,
        repo: &Repository,
        short: &str,
        before: &str,
        after: &str,
        stale_unless_at: impl Fn(Option<crate::GitRef>, Option<String>) -> Option<Error>,
    ) -> Result<RefSwap, Error> {
        if let Some(stale) = stale_unless_at(self.get_ref(repo, short).await?, None) {
            return Err(stale);
        }
        if before != after {
            self.update_ref(repo, short, after, true).await?;
        }
        Ok(RefSwap::ReadThenForced)
    }

    /// Whether every file of `files` already has this content in commit `sha` (git blob ids
    /// compared with the commit's tree; a tree too large for one answer counts as changed).
    async fn files_unchanged(
        &self,
        repo: &Repository,
        sha: &str,
        files: &[(String, String)],
    ) -> Result<bool, Error> {
        let commit: RawGitCommit = self
            .call(
                Method::GET,
                &format!("{}/git/commits/{sha}", repo.api_path()),
                None,
                Permission::ContentsRead,
            )
            .await?;
        let tree: RawTree = self
            .call(
                Method::GET,
                &format!(
                    "{}/git/trees/{}?recursive=1",
                    repo.api_path(),
                    commit.tree.sha
                ),
                None,
                Permission::ContentsRead,
            )
            .await?;
        if tree.truncated {
            return Ok(false);
        }
        Ok(files.iter().all(|(path, content)| {
            let wanted = blob_id(content.as_bytes());
            tree.tree.iter().any(|e| e.path == *path && e.sha == wanted)
        }))
    }

    /// Commits text files to a branch `via` GraphQL (verified) or the Git Data API (the
    /// fallback). Through GraphQL the branch's current head is the expected head. Either way,
    /// files that already have this content make no commit (`created: false`), so a re-run
    /// changes nothing.
    ///
    /// # Errors
    /// As [`GitHub::create_commit_on_branch`] or [`GitHub::commit_files`].
    pub async fn commit_files_via(
        &self,
        repo: &Repository,
        commit: &FileCommit,
        via: CommitVia,
    ) -> Result<CommitOutcome, Error> {
        match via {
            CommitVia::GitData => self.commit_files(repo, commit).await,
            CommitVia::Graphql => {
                let branch_ref = format!("heads/{}", commit.branch);
                let head =
                    self.get_ref(repo, &branch_ref)
                        .await?
                        .ok_or_else(|| Error::NotFound {
                            route: Route {
                                method: "GET".to_owned(),
                                path: format!("{}/git/ref/{branch_ref}", repo.api_path()),
                            },
                            permission: Permission::ContentsRead,
                        })?;
                if self.files_unchanged(repo, &head.sha, &commit.files).await? {
                    return Ok(CommitOutcome {
                        sha: head.sha.clone(),
                        parent: head.sha,
                        created: false,
                    });
                }
                let (headline, body) = match commit.message.split_once('\n') {
                    Some((first, rest)) => (first.to_owned(), rest.trim().to_owned()),
                    None => (commit.message.clone(), String::new()),
                };
                let made = self
                    .create_commit_on_branch(
                        repo,
                        &BranchCommit {
                            branch: commit.branch.clone(),
                            expected_head: head.sha.clone(),
                            headline,
                            body,
                            additions: commit
                                .files
                                .iter()
                                .map(|(path, text)| (path.clone(), text.as_bytes().to_vec()))
                                .collect(),
                            deletions: Vec::new(),
                            executable: Vec::new(),
                        },
                    )
                    .await?;
                Ok(CommitOutcome {
                    sha: made.oid,
                    parent: head.sha,
                    created: true,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_ids_are_git_object_ids() {
        // `printf 'hello\n' | git hash-object --stdin`, and the empty blob's well-known id.
        assert_eq!(
            blob_id(b"hello\n"),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
        assert_eq!(blob_id(b""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
    }

    #[test]
    fn graphql_goes_to_github_graphql_url_when_set_else_beside_the_api() {
        use std::sync::{Arc, Mutex};
        let answer = br#"{"data":{"createCommitOnBranch":{"commit":{"oid":"abc","url":"u"}}}}"#;
        for (graphql, want) in [
            (Some("/enterprise/graphql"), "/enterprise/graphql"),
            (None, "/api/graphql"),
        ] {
            let paths = Arc::new(Mutex::new(Vec::new()));
            let seen = Arc::clone(&paths);
            let server = hub_testkit::http::Server::start(move |path, _| {
                seen.lock().expect("not poisoned").push(path.to_owned());
                Some(hub_testkit::http::reply(
                    "200 OK",
                    "Content-Type: application/json\r\n",
                    answer,
                ))
            });
            let mut vars = std::collections::BTreeMap::from([
                ("GITHUB_API_URL".to_owned(), server.url("/api/v3")),
                ("GITHUB_TOKEN".to_owned(), "t".to_owned()),
            ]);
            if let Some(path) = graphql {
                vars.insert("GITHUB_GRAPHQL_URL".to_owned(), server.url(path));
            }
            let config = crate::GitHubConfig::from_map(&vars).expect("valid");
            let client = crate::BlockingGitHub::new(&config).expect("a client");
            assert_eq!(client.github().graphql_endpoint(), server.url(want));
            let commit = BranchCommit {
                branch: "b".to_owned(),
                expected_head: "0".repeat(40),
                headline: "h".to_owned(),
                body: String::new(),
                additions: vec![("f".to_owned(), b"x".to_vec())],
                deletions: Vec::new(),
                executable: Vec::new(),
            };
            let made = client
                .block_on(
                    client
                        .github()
                        .create_commit_on_branch(&Repository::new("o", "r"), &commit),
                )
                .expect("committed");
            assert_eq!(made.oid, "abc");
            assert_eq!(*paths.lock().expect("not poisoned"), [want]);
        }
    }

    /// A GitHub whose schema has no `updateRefs` (an older GitHub Enterprise Server) answers
    /// with a validation error: the ref is read again, then moved with a forced update.
    #[test]
    fn without_update_refs_the_ref_is_read_again_then_forced() {
        use std::sync::{Arc, Mutex};
        let before = "a".repeat(40);
        let after = "b".repeat(40);
        let paths = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&paths);
        let held = before.clone();
        let moved = after.clone();
        let server = hub_testkit::http::Server::start(move |path, n| {
            seen.lock().expect("not poisoned").push(path.to_owned());
            let body = match n {
                0 => r#"{"node_id":"R_1","default_branch":"main"}"#.to_owned(),
                1 => r#"{"errors":[{"path":["mutation UpdateRefs","updateRefs"],"extensions":{"code":"undefinedField","typeName":"Mutation","fieldName":"updateRefs"},"message":"Field 'updateRefs' doesn't exist on type 'Mutation'"}]}"#.to_owned(),
                2 => format!(r#"{{"ref":"refs/heads/b","object":{{"sha":"{held}","type":"commit"}}}}"#),
                _ => format!(r#"{{"ref":"refs/heads/b","object":{{"sha":"{moved}","type":"commit"}}}}"#),
            };
            Some(hub_testkit::http::reply(
                "200 OK",
                "Content-Type: application/json\r\n",
                body.as_bytes(),
            ))
        });
        let vars = std::collections::BTreeMap::from([
            ("GITHUB_API_URL".to_owned(), server.url("/api/v3")),
            ("GITHUB_TOKEN".to_owned(), "t".to_owned()),
        ]);
        let config = crate::GitHubConfig::from_map(&vars).expect("valid");
        let client = crate::BlockingGitHub::new(&config).expect("a client");
        let swap = client
            .block_on(
                client
                    .github()
                    .swap_ref(&Repository::new("o", "r"), "b", &before, &after),
            )
            .expect("moved");
        assert_eq!(swap, RefSwap::ReadThenForced);
        assert_eq!(
            *paths.lock().expect("not poisoned"),
            [
                "/api/v3/repos/o/r",
                "/api/graphql",
                "/api/v3/repos/o/r/git/ref/heads/b",
                "/api/v3/repos/o/r/git/refs/heads/b",
            ]
        );
    }

    #[test]
    fn the_graphql_endpoint_sits_beside_the_rest_root() {
        assert_eq!(
            graphql_url("https://api.github.com"),
            "https://api.github.com/graphql"
        );
        assert_eq!(
            graphql_url("https://ghe.example.com/api/v3/"),
            "https://ghe.example.com/api/graphql"
        );
        assert_eq!(
            graphql_url("http://127.0.0.1:4000"),
            "http://127.0.0.1:4000/graphql"
        );
    }
}
