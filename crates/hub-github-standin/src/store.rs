//! The stand-in's in-memory state: repositories with their git objects, refs, issue and commit
//! comments,
//! releases, deployments and statuses, pull-request commit lists and known commit authors.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::Error;
use crate::git::{Change, Commit, Message, Object, Odb, Signature};
use crate::mirror::{GitImport, ImportSummary};

/// The account that writes with the workflow token, as on GitHub Actions.
pub(crate) const BOT_LOGIN: &str = "github-actions[bot]";
pub(crate) const BOT_ID: u64 = 41_898_282;
pub(crate) const BOT_EMAIL: &str = "41898282+github-actions[bot]@users.noreply.github.com";

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Comment {
    pub id: u64,
    pub issue_number: u64,
    pub body: String,
    pub login: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A comment on a commit (the commit comments API), on the whole commit (no file or line).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CommitComment {
    pub id: u64,
    pub commit_id: String,
    pub body: String,
    pub login: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Release {
    pub id: u64,
    pub tag_name: String,
    pub target_commitish: String,
    pub name: Option<String>,
    pub body: Option<String>,
    pub draft: bool,
    pub prerelease: bool,
    pub make_latest: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub published_at: Option<i64>,
    /// Uploaded files, in upload order.
    pub assets: Vec<ReleaseAsset>,
}

/// A file attached to a release.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ReleaseAsset {
    pub id: u64,
    pub name: String,
    pub label: Option<String>,
    pub content_type: String,
    pub size: usize,
    /// `sha256:<hex>`, as GitHub reports it.
    pub digest: String,
    pub created_at: i64,
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Deployment {
    pub id: u64,
    pub sha: String,
    #[serde(rename = "ref")]
    pub reference: String,
    pub task: String,
    pub payload: Value,
    pub environment: String,
    pub original_environment: String,
    pub description: Option<String>,
    pub transient_environment: bool,
    pub production_environment: bool,
    pub auto_merge: bool,
    pub required_contexts: Option<Vec<String>>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct DeploymentStatus {
    pub id: u64,
    pub deployment_id: u64,
    pub state: String,
    pub description: String,
    pub environment: String,
    pub target_url: String,
    pub log_url: String,
    pub environment_url: String,
    pub created_at: i64,
}

/// A pull request. Its commits follow its head branch until it is merged or closed, unless
/// they were seeded ([`Store::set_pull_request`]).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Pull {
    pub number: u64,
    pub id: u64,
    pub title: String,
    pub body: Option<String>,
    /// The head branch (empty for a seeded pull request, which has only commits).
    pub head: String,
    pub base: String,
    /// `open` or `closed`.
    pub state: String,
    pub draft: bool,
    pub login: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub closed_at: Option<i64>,
    pub merged_at: Option<i64>,
    pub merge_commit_sha: Option<String>,
    /// The head commit when it was merged or closed (the branch may move or go afterwards).
    pub head_sha: Option<String>,
    /// Seeded commits, oldest first (empty: computed from the branches).
    pub commits: Vec<String>,
    /// Its labels' names, in the order they were added.
    pub labels: Vec<String>,
}

/// One repository.
#[derive(Debug, Serialize)]
pub(crate) struct Repo {
    pub owner: String,
    pub name: String,
    pub id: u64,
    pub default_branch: String,
    pub odb: Odb,
    pub refs: BTreeMap<String, String>,
    pub comments: BTreeMap<u64, Comment>,
    pub commit_comments: BTreeMap<u64, CommitComment>,
    pub releases: BTreeMap<u64, Release>,
    pub deployments: BTreeMap<u64, Deployment>,
    pub statuses: BTreeMap<u64, DeploymentStatus>,
    pub pulls: BTreeMap<u64, Pull>,
    /// Commits GitHub signed (made through GraphQL `createCommitOnBranch` or a merge).
    pub verified: std::collections::BTreeSet<String>,
    /// Commit e-mail (lower-case) to GitHub login, as GitHub links commits to accounts.
    pub logins: BTreeMap<String, String>,
}

impl Repo {
    pub(crate) fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    /// A branch name, tag name, `refs/…` name or (abbreviated) commit sha to a commit sha.
    pub(crate) fn resolve_commitish(&self, name: &str) -> Option<String> {
        for candidate in [
            name.to_owned(),
            format!("refs/heads/{name}"),
            format!("refs/tags/{name}"),
            format!("refs/{name}"),
        ] {
            if let Some(sha) = self.refs.get(&candidate) {
                return Some(self.odb.peel(sha));
            }
        }
        if name.len() >= 7 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
            let lower = name.to_ascii_lowercase();
            if self.odb.commit(&lower).is_some() {
                return Some(lower);
            }
        }
        None
    }

    pub(crate) fn login_for(&self, email: &str) -> Option<&str> {
        self.logins
            .get(&email.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The latest status of a deployment, if any.
    pub(crate) fn latest_status(&self, deployment_id: u64) -> Option<&DeploymentStatus> {
        self.statuses
            .values()
            .filter(|s| s.deployment_id == deployment_id)
            .max_by_key(|s| s.id)
    }

    /// Files of a commit's tree as text (lossy), for the state dump.
    fn files_at(&self, commit: &str) -> BTreeMap<String, String> {
        let Some(commit) = self.odb.commit(commit) else {
            return BTreeMap::new();
        };
        self.odb
            .list_tree(&commit.tree, true)
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, entry)| entry.kind() == "blob")
            .filter_map(|(path, entry)| match self.odb.get(&entry.sha) {
                Some(Object::Blob { content }) => {
                    Some((path, String::from_utf8_lossy(content).into_owned()))
                }
                _ => None,
            })
            .collect()
    }
}

/// A commit to seed: a message, an author and files to add or replace.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CommitSeed {
    /// The commit message.
    pub message: String,
    /// The author; the stand-in's default author when absent.
    #[serde(default)]
    pub author: Option<AuthorSeed>,
    /// Files to write, path to text content.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
}

/// A commit author, and the GitHub login their e-mail belongs to (if any).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AuthorSeed {
    /// The author name in the commit.
    pub name: String,
    /// The author e-mail in the commit.
    pub email: String,
    /// The GitHub account the e-mail is linked to; commits by unlinked e-mails have no
    /// `author` on GitHub.
    #[serde(default)]
    pub login: Option<String>,
}

#[derive(Debug, Default)]
pub(crate) struct Store {
    repos: BTreeMap<String, Repo>,
    next_id: u64,
    users: BTreeMap<String, u64>,
    /// Refuse `POST /pulls` as GitHub does when the repository's setting "Allow GitHub Actions
    /// to create and approve pull requests" is off.
    pub(crate) refuse_pull_requests: bool,
}

fn repo_key(owner: &str, name: &str) -> String {
    format!(
        "{}/{}",
        owner.to_ascii_lowercase(),
        name.to_ascii_lowercase()
    )
}

/// Splits `owner/name`.
pub(crate) fn split_repository(value: &str) -> Result<(&str, &str), Error> {
    match value.split_once('/') {
        Some((owner, name)) if !owner.is_empty() && !name.is_empty() && !name.contains('/') => {
            Ok((owner, name))
        }
        _ => Err(Error::InvalidRepository {
            value: value.to_owned(),
        }),
    }
}

impl Store {
    pub(crate) fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        // Ids look like GitHub's (large, distinct per kind of object is not required).
        1_000 + self.next_id
    }

    /// A stable account id for a login.
    pub(crate) fn user_id(&mut self, login: &str) -> u64 {
        if login == BOT_LOGIN {
            return BOT_ID;
        }
        let next = 5_000 + self.users.len() as u64;
        *self.users.entry(login.to_owned()).or_insert(next)
    }

    /// The id of a login seen before, else a stable number derived from the login.
    pub(crate) fn known_user_id(&self, login: &str) -> u64 {
        self.users.get(login).copied().unwrap_or_else(|| {
            let hash = login.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
            90_000 + hash % 10_000
        })
    }

    pub(crate) fn repo(&self, owner: &str, name: &str) -> Option<&Repo> {
        self.repos.get(&repo_key(owner, name))
    }

    pub(crate) fn repo_mut(&mut self, owner: &str, name: &str) -> Option<&mut Repo> {
        self.repos.get_mut(&repo_key(owner, name))
    }

    /// The repository whose GraphQL node id (`node_id` in REST) is `id`.
    pub(crate) fn repo_by_node_id_mut(&mut self, id: &str) -> Option<&mut Repo> {
        self.repos
            .values_mut()
            .find(|r| node_id("R", &r.id.to_string()) == id)
    }

    fn seeded_repo_mut(&mut self, repository: &str) -> Result<&mut Repo, Error> {
        let (owner, name) = split_repository(repository)?;
        self.repos
            .get_mut(&repo_key(owner, name))
            .ok_or_else(|| Error::NoSuchRepository {
                repository: repository.to_owned(),
            })
    }

    /// Creates `owner/name` with one commit (a README) on `main`; returns its sha.
    pub(crate) fn create_repository(&mut self, repository: &str) -> Result<String, Error> {
        let (owner, name) = split_repository(repository)?;
        if self.repo(owner, name).is_some() {
            return Err(Error::RepositoryExists {
                repository: repository.to_owned(),
            });
        }
        self.insert_empty_repository(owner, name);
        let mut files = BTreeMap::new();
        files.insert("README.md".to_owned(), format!("# {name}\n"));
        let shas = self.push_commits(
            repository,
            "main",
            vec![CommitSeed {
                message: "initial commit\n".to_owned(),
                author: None,
                files,
            }],
        )?;
        Ok(shas.into_iter().next_back().unwrap_or_default())
    }

    /// Mirrors git objects and refs into `owner/name` (created empty when missing): every
    /// object is checked against its id and everything the refs reach must be present before
    /// anything changes; then the refs are exactly the imported ones.
    pub(crate) fn import(
        &mut self,
        repository: &str,
        import: &GitImport,
    ) -> Result<ImportSummary, Error> {
        let (owner, name) = split_repository(repository)?;
        let empty = Odb::default();
        let existing = self.repo(owner, name).map_or(&empty, |repo| &repo.odb);
        let staged =
            crate::mirror::check(import, existing).map_err(|reason| Error::ImportRejected {
                repository: repository.to_owned(),
                reason,
            })?;
        if self.repo(owner, name).is_none() {
            self.insert_empty_repository(owner, name);
        }
        let repo = self
            .repo_mut(owner, name)
            .ok_or_else(|| Error::NoSuchRepository {
                repository: repository.to_owned(),
            })?;
        let mut summary = ImportSummary {
            repository: repo.full_name(),
            objects: staged.len(),
            ..ImportSummary::default()
        };
        for (sha, object) in staged {
            match object.kind() {
                "blob" => summary.blobs += 1,
                "tree" => summary.trees += 1,
                "commit" => summary.commits += 1,
                _ => summary.tags += 1,
            }
            if repo.odb.insert_with_id(sha, object) {
                summary.new_objects += 1;
            }
        }
        repo.refs.clone_from(&import.refs);
        if let Some(branch) = &import.default_branch {
            repo.default_branch.clone_from(branch);
        }
        summary.refs.clone_from(&repo.refs);
        summary.default_branch.clone_from(&repo.default_branch);
        Ok(summary)
    }

    fn insert_empty_repository(&mut self, owner: &str, name: &str) {
        let id = self.next_id();
        self.repos.insert(
            repo_key(owner, name),
            Repo {
                owner: owner.to_owned(),
                name: name.to_owned(),
                id,
                default_branch: "main".to_owned(),
                odb: Odb::default(),
                refs: BTreeMap::new(),
                comments: BTreeMap::new(),
                commit_comments: BTreeMap::new(),
                releases: BTreeMap::new(),
                deployments: BTreeMap::new(),
                statuses: BTreeMap::new(),
                pulls: BTreeMap::new(),
                verified: std::collections::BTreeSet::new(),
                logins: BTreeMap::new(),
            },
        );
    }

    /// Links the commit e-mail `email` to the account `login`, as GitHub does for an e-mail
    /// verified on an account: commits by it then carry `author.login` (imported commits too).
    pub(crate) fn link_email(
        &mut self,
        repository: &str,
        email: &str,
        login: &str,
    ) -> Result<(), Error> {
        let repo = self.seeded_repo_mut(repository)?;
        repo.logins
            .insert(email.to_ascii_lowercase(), login.to_owned());
        Ok(())
    }

    /// Adds commits on top of `branch` (created from the default branch when missing).
    pub(crate) fn push_commits(
        &mut self,
        repository: &str,
        branch: &str,
        commits: Vec<CommitSeed>,
    ) -> Result<Vec<String>, Error> {
        let now = crate::time::now_epoch();
        for login in commits
            .iter()
            .filter_map(|c| c.author.as_ref()?.login.as_deref())
        {
            self.user_id(login);
        }
        let repo = self.seeded_repo_mut(repository)?;
        let branch_ref = format!("refs/heads/{branch}");
        let mut head = repo
            .refs
            .get(&branch_ref)
            .or_else(|| {
                repo.refs
                    .get(&format!("refs/heads/{}", repo.default_branch))
            })
            .cloned();
        let mut shas = Vec::new();
        for (index, seed) in commits.into_iter().enumerate() {
            let author = seed.author.unwrap_or_else(|| AuthorSeed {
                name: "A U Thor".to_owned(),
                email: "author@example.com".to_owned(),
                login: None,
            });
            if let Some(login) = &author.login {
                repo.logins
                    .insert(author.email.to_ascii_lowercase(), login.clone());
            }
            let base_tree = head
                .as_deref()
                .and_then(|h| repo.odb.commit(h))
                .map(|c| c.tree.clone());
            let mut changes = Vec::new();
            for (path, content) in seed.files {
                let sha = repo.odb.insert(Object::Blob {
                    content: content.into_bytes(),
                });
                changes.push((
                    path,
                    Change::Set {
                        mode: "100644".to_owned(),
                        sha,
                    },
                ));
            }
            let tree = repo
                .odb
                .write_tree(base_tree.as_deref(), changes)
                .map_err(|_| Error::NoSuchBranch {
                    repository: repository.to_owned(),
                    branch: branch.to_owned(),
                })?;
            let signature = Signature {
                name: author.name,
                email: author.email,
                // Seconds apart, so commit order is visible in dates.
                time: now + i64::try_from(index).unwrap_or(0),
                offset: 0,
            };
            let mut message = seed.message;
            if !message.ends_with('\n') {
                message.push('\n');
            }
            let sha = repo.odb.insert(Object::Commit(Commit {
                tree,
                parents: head.iter().cloned().collect(),
                author: signature.clone(),
                committer: signature,
                extra_headers: Vec::new(),
                message: Message::from(message),
            }));
            head = Some(sha.clone());
            shas.push(sha);
        }
        if let Some(head) = head {
            repo.refs.insert(branch_ref, head);
        }
        Ok(shas)
    }

    /// Sets the commits of pull request `number`.
    pub(crate) fn set_pull_request(
        &mut self,
        repository: &str,
        number: u64,
        commits: Vec<String>,
    ) -> Result<(), Error> {
        let repo = self.seeded_repo_mut(repository)?;
        if let Some(missing) = commits.iter().find(|sha| repo.odb.commit(sha).is_none()) {
            return Err(Error::NoSuchCommit {
                repository: repository.to_owned(),
                sha: missing.clone(),
            });
        }
        let now = crate::time::now_epoch();
        let id = 2_000_000 + number;
        let pull = repo.pulls.entry(number).or_insert_with(|| Pull {
            number,
            id,
            title: format!("pull request #{number}"),
            body: None,
            head: String::new(),
            base: repo.default_branch.clone(),
            state: "open".to_owned(),
            draft: false,
            login: BOT_LOGIN.to_owned(),
            created_at: now,
            updated_at: now,
            closed_at: None,
            merged_at: None,
            merge_commit_sha: None,
            head_sha: None,
            commits: Vec::new(),
            labels: Vec::new(),
        });
        pull.head_sha = commits.last().cloned();
        pull.commits = commits;
        Ok(())
    }

    /// Adds a comment by `login` (someone other than the workflow) to issue `number`.
    pub(crate) fn seed_comment(
        &mut self,
        repository: &str,
        number: u64,
        login: &str,
        body: &str,
    ) -> Result<u64, Error> {
        let id = self.next_id();
        self.user_id(login);
        let repo = self.seeded_repo_mut(repository)?;
        let now = crate::time::now_epoch();
        repo.comments.insert(
            id,
            Comment {
                id,
                issue_number: number,
                body: body.to_owned(),
                login: login.to_owned(),
                created_at: now,
                updated_at: now,
            },
        );
        Ok(id)
    }

    /// Adds a comment by `login` (someone other than the workflow) to commit `sha`.
    pub(crate) fn seed_commit_comment(
        &mut self,
        repository: &str,
        sha: &str,
        login: &str,
        body: &str,
    ) -> Result<u64, Error> {
        let id = self.next_id();
        self.user_id(login);
        let repo = self.seeded_repo_mut(repository)?;
        let sha = sha.to_ascii_lowercase();
        if repo.odb.commit(&sha).is_none() {
            return Err(Error::NoSuchCommit {
                repository: repository.to_owned(),
                sha,
            });
        }
        let now = crate::time::now_epoch();
        repo.commit_comments.insert(
            id,
            CommitComment {
                id,
                commit_id: sha,
                body: body.to_owned(),
                login: login.to_owned(),
                created_at: now,
                updated_at: now,
            },
        );
        Ok(id)
    }

    /// Everything the stand-in holds, as JSON for end-to-end assertions.
    pub(crate) fn dump(&self) -> Value {
        let repos: serde_json::Map<String, Value> = self
            .repos
            .values()
            .map(|repo| {
                let tags: BTreeMap<&str, Value> = repo
                    .refs
                    .iter()
                    .filter_map(|(name, sha)| {
                        let tag = name.strip_prefix("refs/tags/")?;
                        let value = match repo.odb.get(sha) {
                            Some(Object::Tag(t)) => json!({
                                "sha": sha, "annotated": true, "commit": repo.odb.peel(sha),
                                "message": t.message, "tagger": t.tagger,
                            }),
                            _ => json!({ "sha": sha, "annotated": false, "commit": sha }),
                        };
                        Some((tag, value))
                    })
                    .collect();
                let commits: BTreeMap<&String, Value> = repo
                    .odb_commits()
                    .map(|(sha, c)| {
                        (
                            sha,
                            json!({
                                "message": c.message, "parents": c.parents, "tree": c.tree,
                                "author": c.author, "committer": c.committer,
                            }),
                        )
                    })
                    .collect();
                let deployments: Vec<Value> = repo
                    .deployments
                    .values()
                    .map(|d| {
                        let statuses: Vec<&DeploymentStatus> = repo
                            .statuses
                            .values()
                            .filter(|s| s.deployment_id == d.id)
                            .collect();
                        json!({ "deployment": d, "statuses": statuses })
                    })
                    .collect();
                let head = repo
                    .refs
                    .get(&format!("refs/heads/{}", repo.default_branch))
                    .cloned()
                    .unwrap_or_default();
                (
                    repo.full_name(),
                    json!({
                        "default_branch": repo.default_branch,
                        "refs": repo.refs,
                        "tags": tags,
                        "releases": repo.releases.values().collect::<Vec<_>>(),
                        "comments": repo.comments.values().collect::<Vec<_>>(),
                        "commit_comments": repo.commit_comments.values().collect::<Vec<_>>(),
                        "deployments": deployments,
                        "pulls": repo.pulls,
                        "commits": commits,
                        "head_files": repo.files_at(&head),
                    }),
                )
            })
            .collect();
        json!({ "repositories": repos })
    }
}

impl Repo {
    /// The commits of a pull request, oldest first: the seeded or frozen ones, else those of
    /// its head branch that its base branch does not have.
    pub(crate) fn pull_commits(&self, pull: &Pull) -> Vec<String> {
        if !pull.commits.is_empty() || pull.head.is_empty() {
            return pull.commits.clone();
        }
        let Some(head) = self.refs.get(&format!("refs/heads/{}", pull.head)) else {
            return Vec::new();
        };
        // The base's history, walked once: asking `is_ancestor` per commit walked it again for
        // each of the head's commits (quadratic: minutes for a pull request on a history of
        // 15,000 commits).
        let in_base: std::collections::BTreeSet<&String> = self
            .refs
            .get(&format!("refs/heads/{}", pull.base))
            .map(|b| self.ancestors(b).into_iter().map(|(sha, _)| sha).collect())
            .unwrap_or_default();
        let mut commits: Vec<String> = self
            .ancestors(head)
            .into_iter()
            .map(|(sha, _)| sha.clone())
            .filter(|sha| !in_base.contains(sha))
            .collect();
        // Parents before children.
        let mut ordered = Vec::new();
        while !commits.is_empty() {
            let ready = commits
                .iter()
                .position(|sha| {
                    self.odb.commit(sha).is_none_or(|c| {
                        c.parents
                            .iter()
                            .all(|p| !commits.contains(p) || ordered.contains(p))
                    })
                })
                .unwrap_or(0);
            ordered.push(commits.remove(ready));
        }
        ordered
    }

    fn odb_commits(&self) -> impl Iterator<Item = (&String, &Commit)> {
        self.refs
            .values()
            .flat_map(|tip| self.ancestors(tip))
            .collect::<BTreeMap<_, _>>()
            .into_iter()
    }

    fn ancestors<'a>(&'a self, tip: &str) -> Vec<(&'a String, &'a Commit)> {
        let mut out = Vec::new();
        let mut stack = vec![self.odb.peel(tip)];
        let mut seen = std::collections::BTreeSet::new();
        while let Some(sha) = stack.pop() {
            if !seen.insert(sha.clone()) {
                continue;
            }
            if let Some((key, commit)) = self.odb.commit_entry(&sha) {
                stack.extend(commit.parents.iter().cloned());
                out.push((key, commit));
            }
        }
        out
    }
}

/// An object's GraphQL node id (`node_id` in REST): `<prefix>_<base64 of its id>`, as the
/// REST answers and the GraphQL mutations name it.
pub(crate) fn node_id(prefix: &str, id: &str) -> String {
    use base64::Engine as _;
    format!(
        "{prefix}_{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(id)
    )
}
