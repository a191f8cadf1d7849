//! Commits: those of a pull request, the account behind one, and new ones made through the
//! Git Data API (blob, tree, commit, ref update) without a checkout.

use http::Method;
use serde::Deserialize;
use serde_json::json;

use crate::client::encode_ref;
use crate::refs::Person;
use crate::{Error, GitHub, Permission, Repository};

/// A commit of a pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullCommit {
    pub sha: String,
    pub message: String,
    pub author_name: String,
    pub author_email: String,
    /// The GitHub account the author e-mail belongs to, if GitHub knows one.
    pub author_login: Option<String>,
    pub parents: Vec<String>,
}

#[derive(Deserialize)]
struct RawGitUser {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
}

#[derive(Deserialize)]
struct RawVerification {
    #[serde(default)]
    verified: bool,
}

#[derive(Deserialize)]
struct RawCommitDetail {
    #[serde(default)]
    message: String,
    author: Option<RawGitUser>,
    verification: Option<RawVerification>,
}

#[derive(Deserialize)]
struct RawAccount {
    login: Option<String>,
}

#[derive(Deserialize)]
struct RawSha {
    sha: String,
}

#[derive(Deserialize)]
struct RawCommit {
    sha: String,
    commit: RawCommitDetail,
    /// `null`, `{}` (no account) or a user.
    author: Option<RawAccount>,
    #[serde(default)]
    parents: Vec<RawSha>,
}

impl From<RawCommit> for PullCommit {
    fn from(raw: RawCommit) -> Self {
        let (author_name, author_email) = raw
            .commit
            .author
            .map(|a| (a.name, a.email))
            .unwrap_or_default();
        PullCommit {
            sha: raw.sha,
            message: raw.commit.message,
            author_name,
            author_email,
            author_login: raw.author.and_then(|a| a.login),
            parents: raw.parents.into_iter().map(|p| p.sha).collect(),
        }
    }
}

/// Files to commit to a branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCommit {
    /// The branch to advance (`main`, without `refs/heads/`).
    pub branch: String,
    pub message: String,
    /// Path (may contain `/`) and new text content of each file.
    pub files: Vec<(String, String)>,
    /// The author; GitHub uses the token's identity when absent.
    pub author: Option<Person>,
}

/// What [`GitHub::commit_files`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitOutcome {
    /// The branch head afterwards.
    pub sha: String,
    /// The head the commit was made on.
    pub parent: String,
    /// `false` when the files already had this content and nothing was committed.
    pub created: bool,
}

#[derive(Deserialize)]
struct RawGitCommit {
    tree: RawSha,
}

/// A git commit object as the Git Data API shows it (`GET git/commits/{sha}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitCommit {
    pub sha: String,
    /// Its tree.
    pub tree: String,
    pub parents: Vec<String>,
    pub message: String,
}

#[derive(Deserialize)]
struct RawGitCommitFull {
    sha: String,
    tree: RawSha,
    #[serde(default)]
    parents: Vec<RawSha>,
    #[serde(default)]
    message: String,
}

/// How often [`GitHub::commit_files`] starts over when the branch moves under it.
const COMMIT_TRIES: u32 = 3;

impl GitHub {
    /// The commits of pull request `number`, oldest first (GitHub lists at most 250).
    ///
    /// # Errors
    /// On refusal (the token needs `pull-requests: read`) or transport failure.
    pub async fn pull_request_commits(
        &self,
        repo: &Repository,
        number: u64,
    ) -> Result<Vec<PullCommit>, Error> {
        let path = format!("{}/pulls/{number}/commits", repo.api_path());
        let raw: Vec<RawCommit> = self.get_all(&path, Permission::PullRequestsRead).await?;
        Ok(raw.into_iter().map(PullCommit::from).collect())
    }

    /// The git commit object `sha`: its tree, parents and message (release-pr compares a
    /// branch's tree with the one it would push, and recognises its own commit).
    ///
    /// # Errors
    /// When the commit does not exist, on refusal or transport failure.
    pub async fn git_commit(&self, repo: &Repository, sha: &str) -> Result<GitCommit, Error> {
        let path = format!("{}/git/commits/{}", repo.api_path(), encode_ref(sha));
        let raw: RawGitCommitFull = self
            .call(Method::GET, &path, None, Permission::ContentsRead)
            .await?;
        Ok(GitCommit {
            sha: raw.sha,
            tree: raw.tree.sha,
            parents: raw.parents.into_iter().map(|p| p.sha).collect(),
            message: raw.message,
        })
    }

    /// The login of the account that authored commit `sha` (`None` when the author e-mail is
    /// not linked to an account).
    ///
    /// # Errors
    /// When the commit does not exist, on refusal or transport failure.
    pub async fn commit_author_login(
        &self,
        repo: &Repository,
        sha: &str,
    ) -> Result<Option<String>, Error> {
        let path = format!("{}/commits/{}", repo.api_path(), encode_ref(sha));
        let raw: RawCommit = self
            .call(Method::GET, &path, None, Permission::ContentsRead)
            .await?;
        Ok(raw.author.and_then(|a| a.login))
    }

    /// Whether GitHub shows commit `sha` as verified (`commit.verification.verified`): signed
    /// by GitHub (GraphQL `createCommitOnBranch`, merges in the web interface or the API) or by
    /// a key GitHub knows.
    ///
    /// # Errors
    /// When the commit does not exist, on refusal or transport failure.
    pub async fn commit_is_verified(&self, repo: &Repository, sha: &str) -> Result<bool, Error> {
        let path = format!("{}/commits/{}", repo.api_path(), encode_ref(sha));
        let raw: RawCommit = self
            .call(Method::GET, &path, None, Permission::ContentsRead)
            .await?;
        Ok(raw.commit.verification.is_some_and(|v| v.verified))
    }

    /// Commits `files` on top of `branch` through the Git Data API — a blob per file, a tree
    /// on the head's tree, a commit, then a fast-forward of the branch — and starts over (up to
    /// three times) if the branch moved meanwhile. Files that already have this content make
    /// no commit.
    ///
    /// # Errors
    /// When the branch does not exist or keeps moving, on refusal (the token needs
    /// `contents: write`) or transport failure.
    pub async fn commit_files(
        &self,
        repo: &Repository,
        commit: &FileCommit,
    ) -> Result<CommitOutcome, Error> {
        let branch_ref = format!("heads/{}", commit.branch);
        for _ in 0..COMMIT_TRIES {
            let head = self
                .get_ref(repo, &branch_ref)
                .await?
                .ok_or_else(|| Error::NotFound {
                    route: crate::Route {
                        method: "GET".to_owned(),
                        path: format!("{}/git/ref/{branch_ref}", repo.api_path()),
                    },
                    permission: Permission::ContentsRead,
                })?;
            let parent: RawGitCommit = self
                .call(
                    Method::GET,
                    &format!("{}/git/commits/{}", repo.api_path(), head.sha),
                    None,
                    Permission::ContentsRead,
                )
                .await?;
            let mut entries = Vec::new();
            for (path, content) in &commit.files {
                let blob: RawSha = self
                    .call(
                        Method::POST,
                        &format!("{}/git/blobs", repo.api_path()),
                        Some(&json!({ "content": content, "encoding": "utf-8" })),
                        Permission::ContentsWrite,
                    )
                    .await?;
                entries.push(
                    json!({ "path": path, "mode": "100644", "type": "blob", "sha": blob.sha }),
                );
            }
            let tree: RawSha = self
                .call(
                    Method::POST,
                    &format!("{}/git/trees", repo.api_path()),
                    Some(&json!({ "base_tree": parent.tree.sha, "tree": entries })),
                    Permission::ContentsWrite,
                )
                .await?;
            if tree.sha == parent.tree.sha {
                return Ok(CommitOutcome {
                    sha: head.sha.clone(),
                    parent: head.sha,
                    created: false,
                });
            }
            let mut body = json!({
                "message": commit.message,
                "tree": tree.sha,
                "parents": [head.sha],
            });
            if let Some(author) = &commit.author {
                body["author"] = author.to_json();
            }
            let created: RawSha = self
                .call(
                    Method::POST,
                    &format!("{}/git/commits", repo.api_path()),
                    Some(&body),
                    Permission::ContentsWrite,
                )
                .await?;
            match self
                .update_ref(repo, &branch_ref, &created.sha, false)
                .await
            {
                Ok(_) => {
                    return Ok(CommitOutcome {
                        sha: created.sha,
                        parent: head.sha,
                        created: true,
                    });
                }
                Err(Error::NotFastForward { .. }) => {}
                Err(other) => return Err(other),
            }
        }
        Err(Error::BranchMoved {
            branch: commit.branch.clone(),
            attempts: COMMIT_TRIES,
        })
    }

    /// Commits `commit` through the Git Data API with `createCommitOnBranch`'s contract
    /// ([`GitHub::create_commit_on_branch`]): one unsigned commit whose parent is
    /// `expected_head`, and the branch moved to it only while it still points there.
    /// Files are written as regular files (`100644`), those named in
    /// [`crate::BranchCommit::executable`] as executables (`100755`). Five requests whatever the number of
    /// files (UTF-8 contents go inline in the tree; other bytes as a blob each).
    ///
    /// `PATCH git/refs/{ref}` without `force` is a fast-forward check, not a compare-and-swap:
    /// it refuses any head the new commit does not descend from, so a push onto the branch is
    /// caught by it; the branch is read again just before, so a head moved back (to
    /// `expected_head`'s ancestors, which the check lets through) is caught too. Only such a
    /// move back in the instant between that read and the update goes unseen.
    ///
    /// # Errors
    /// [`Error::StaleHead`] when the branch no longer points at `expected_head` (moved or
    /// deleted); on refusal (the token needs `contents: write`) or transport failure.
    pub async fn commit_on_head(
        &self,
        repo: &Repository,
        commit: &crate::BranchCommit,
    ) -> Result<String, Error> {
        use base64::Engine as _;
        let api = repo.api_path();
        let parent: RawGitCommit = self
            .call(
                Method::GET,
                &format!("{api}/git/commits/{}", encode_ref(&commit.expected_head)),
                None,
                Permission::ContentsRead,
            )
            .await?;
        let mut entries = Vec::new();
        for (path, bytes) in &commit.additions {
            let mode = if commit.executable.contains(path) {
                "100755"
            } else {
                "100644"
            };
            let entry = match std::str::from_utf8(bytes) {
                Ok(text) => {
                    json!({ "path": path, "mode": mode, "type": "blob", "content": text })
                }
                Err(_) => {
                    let content = base64::engine::general_purpose::STANDARD.encode(bytes);
                    let blob: RawSha = self
                        .call(
                            Method::POST,
                            &format!("{api}/git/blobs"),
                            Some(&json!({ "content": content, "encoding": "base64" })),
                            Permission::ContentsWrite,
                        )
                        .await?;
                    json!({ "path": path, "mode": mode, "type": "blob", "sha": blob.sha })
                }
            };
            entries.push(entry);
        }
        for path in &commit.deletions {
            entries.push(json!({ "path": path, "mode": "100644", "type": "blob", "sha": null }));
        }
        let tree: RawSha = self
            .call(
                Method::POST,
                &format!("{api}/git/trees"),
                Some(&json!({ "base_tree": parent.tree.sha, "tree": entries })),
                Permission::ContentsWrite,
            )
            .await?;
        let message = if commit.body.is_empty() {
            commit.headline.clone()
        } else {
            format!("{}\n\n{}", commit.headline, commit.body)
        };
        let created: RawSha = self
            .call(
                Method::POST,
                &format!("{api}/git/commits"),
                Some(&json!({
                    "message": message,
                    "tree": tree.sha,
                    "parents": [commit.expected_head],
                })),
                Permission::ContentsWrite,
            )
            .await?;
        let branch_ref = format!("heads/{}", commit.branch);
        let stale = |message: String| Error::StaleHead {
            branch: commit.branch.clone(),
            expected: commit.expected_head.clone(),
            message,
        };
        match self.get_ref(repo, &branch_ref).await? {
            Some(head) if head.sha == commit.expected_head => {}
            Some(head) => return Err(stale(format!("the branch points at {}", head.sha))),
            None => return Err(stale("the branch does not exist".to_owned())),
        }
        match self
            .update_ref(repo, &branch_ref, &created.sha, false)
            .await
        {
            Ok(_) => Ok(created.sha),
            Err(Error::NotFastForward { .. }) => Err(stale(
                "Update is not a fast forward: the branch moved".to_owned(),
            )),
            Err(other) => Err(other),
        }
    }
}
