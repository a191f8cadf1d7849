//! Git refs and annotated tags through the Git Database API.

use http::Method;
use serde::Deserialize;
use serde_json::json;

use crate::client::{encode_ref, refusal};
use crate::{Error, GitHub, Permission, Repository};

/// Whether a create found the object already there (and it was the one wanted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created<T> {
    /// Created by this call.
    New(T),
    /// Already there, identical to what was asked for.
    Existing(T),
}

impl<T> Created<T> {
    /// The object, however it came to be.
    pub fn into_inner(self) -> T {
        match self {
            Created::New(t) | Created::Existing(t) => t,
        }
    }

    /// A reference to the object.
    pub fn get(&self) -> &T {
        match self {
            Created::New(t) | Created::Existing(t) => t,
        }
    }

    /// Whether this call created it.
    pub fn is_new(&self) -> bool {
        matches!(self, Created::New(_))
    }
}

/// A ref and the object it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitRef {
    /// Full name, `refs/heads/main`.
    pub name: String,
    pub sha: String,
    /// `commit`, or `tag` for an annotated tag.
    pub object_type: String,
}

#[derive(Deserialize)]
struct RawObject {
    sha: String,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct RawRef {
    #[serde(rename = "ref")]
    name: String,
    object: RawObject,
}

impl From<RawRef> for GitRef {
    fn from(raw: RawRef) -> Self {
        GitRef {
            name: raw.name,
            sha: raw.object.sha,
            object_type: raw.object.kind,
        }
    }
}

/// A person in a commit or tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub name: String,
    pub email: String,
    /// RFC 3339; GitHub uses the present when absent.
    pub date: Option<String>,
}

impl Person {
    pub(crate) fn to_json(&self) -> serde_json::Value {
        let mut value = json!({ "name": self.name, "email": self.email });
        if let Some(date) = &self.date {
            value["date"] = json!(date);
        }
        value
    }
}

/// A tag to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTag {
    /// `v1.2.3` (without `refs/tags/`).
    pub name: String,
    pub message: String,
    /// The commit to tag.
    pub commit_sha: String,
    /// The tagger; GitHub uses the token's identity when absent.
    pub tagger: Option<Person>,
}

/// A tag as it stands in the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub name: String,
    /// What `refs/tags/NAME` points at: the tag object, or the commit for a lightweight tag.
    pub sha: String,
    /// The tagged commit.
    pub commit_sha: String,
    pub annotated: bool,
    /// The annotation's message (empty for a lightweight tag).
    pub message: String,
}

#[derive(Deserialize)]
struct RawTag {
    sha: String,
    #[serde(default)]
    message: String,
    object: RawObject,
}

/// `heads/main` from `refs/heads/main` or `heads/main`.
fn short(name: &str) -> &str {
    name.strip_prefix("refs/").unwrap_or(name)
}

impl GitHub {
    /// The ref `name` (`refs/heads/main`, `heads/main`, `tags/v1`), or `None` if absent.
    ///
    /// # Errors
    /// On refusal or transport failure.
    pub async fn get_ref(&self, repo: &Repository, name: &str) -> Result<Option<GitRef>, Error> {
        let path = format!("{}/git/ref/{}", repo.api_path(), encode_ref(short(name)));
        let (route, response) = self.send(Method::GET, &path, None).await?;
        match response.status {
            404 => Ok(None),
            _ if response.is_success() => Ok(Some(response.json::<RawRef>(&route)?.into())),
            _ => Err(refusal(route, &response, Permission::ContentsRead)),
        }
    }

    /// Creates ref `name` at `sha`. A ref that already points at `sha` is
    /// [`Created::Existing`]; one that points elsewhere is [`Error::RefConflict`].
    ///
    /// # Errors
    /// On conflict, refusal (the token needs `contents: write`) or transport failure.
    pub async fn create_ref(
        &self,
        repo: &Repository,
        name: &str,
        sha: &str,
    ) -> Result<Created<GitRef>, Error> {
        let full = format!("refs/{}", short(name));
        let path = format!("{}/git/refs", repo.api_path());
        let body = json!({ "ref": full, "sha": sha });
        let (route, response) = self.send(Method::POST, &path, Some(&body)).await?;
        if response.is_success() {
            return Ok(Created::New(response.json::<RawRef>(&route)?.into()));
        }
        if response.already_exists() {
            return match self.get_ref(repo, &full).await? {
                Some(existing) if existing.sha == sha => Ok(Created::Existing(existing)),
                Some(existing) => Err(Error::RefConflict {
                    name: full,
                    existing: existing.sha,
                    wanted: sha.to_owned(),
                }),
                None => Err(refusal(route, &response, Permission::ContentsWrite)),
            };
        }
        Err(refusal(route, &response, Permission::ContentsWrite))
    }

    /// Moves ref `name` to `sha`. Without `force` only a fast-forward is allowed
    /// ([`Error::NotFastForward`] otherwise).
    ///
    /// # Errors
    /// When the ref does not exist, on refusal or transport failure.
    pub async fn update_ref(
        &self,
        repo: &Repository,
        name: &str,
        sha: &str,
        force: bool,
    ) -> Result<GitRef, Error> {
        let path = format!("{}/git/refs/{}", repo.api_path(), encode_ref(short(name)));
        let body = json!({ "sha": sha, "force": force });
        let (route, response) = self.send(Method::PATCH, &path, Some(&body)).await?;
        if response.is_success() {
            return Ok(response.json::<RawRef>(&route)?.into());
        }
        if response.status == 422
            && response
                .message()
                .to_ascii_lowercase()
                .contains("fast forward")
        {
            return Err(Error::NotFastForward {
                name: format!("refs/{}", short(name)),
                wanted: sha.to_owned(),
            });
        }
        Err(refusal(route, &response, Permission::ContentsWrite))
    }

    /// Points ref `name` at `sha` whatever it pointed at before, creating it if needed — how a
    /// major-version tag (`v1`) follows each release.
    ///
    /// # Errors
    /// On refusal or transport failure.
    pub async fn move_ref(
        &self,
        repo: &Repository,
        name: &str,
        sha: &str,
    ) -> Result<GitRef, Error> {
        match self.get_ref(repo, name).await? {
            Some(current) if current.sha == sha => Ok(current),
            Some(_) => self.update_ref(repo, name, sha, true).await,
            None => Ok(self.create_ref(repo, name, sha).await?.into_inner()),
        }
    }

    /// The annotated tag object `sha`.
    ///
    /// # Errors
    /// When it does not exist, on refusal or transport failure.
    pub async fn get_tag_object(&self, repo: &Repository, sha: &str) -> Result<Tag, Error> {
        let path = format!("{}/git/tags/{sha}", repo.api_path());
        let raw: RawTag = self
            .call(Method::GET, &path, None, Permission::ContentsRead)
            .await?;
        Ok(Tag {
            name: String::new(),
            sha: raw.sha,
            commit_sha: raw.object.sha,
            annotated: true,
            message: raw.message,
        })
    }

    /// The tag `name` (without `refs/tags/`), annotated or lightweight, or `None`.
    ///
    /// # Errors
    /// On refusal or transport failure.
    pub async fn get_tag(&self, repo: &Repository, name: &str) -> Result<Option<Tag>, Error> {
        let Some(found) = self.get_ref(repo, &format!("tags/{name}")).await? else {
            return Ok(None);
        };
        if found.object_type == "tag" {
            let tag = self.get_tag_object(repo, &found.sha).await?;
            return Ok(Some(Tag {
                name: name.to_owned(),
                ..tag
            }));
        }
        Ok(Some(Tag {
            name: name.to_owned(),
            commit_sha: found.sha.clone(),
            sha: found.sha,
            annotated: false,
            message: String::new(),
        }))
    }

    /// Creates an annotated tag (tag object, then `refs/tags/NAME`). A tag of that name on the
    /// same commit is [`Created::Existing`]; on another commit it is [`Error::TagConflict`].
    ///
    /// # Errors
    /// On conflict, refusal (the token needs `contents: write`) or transport failure.
    pub async fn create_annotated_tag(
        &self,
        repo: &Repository,
        tag: &NewTag,
    ) -> Result<Created<Tag>, Error> {
        if let Some(existing) = self.get_tag(repo, &tag.name).await? {
            return same_tag(existing, tag);
        }
        let mut body = json!({
            "tag": tag.name,
            "message": tag.message,
            "object": tag.commit_sha,
            "type": "commit",
        });
        if let Some(tagger) = &tag.tagger {
            body["tagger"] = tagger.to_json();
        }
        let path = format!("{}/git/tags", repo.api_path());
        let object: RawTag = self
            .call(Method::POST, &path, Some(&body), Permission::ContentsWrite)
            .await?;
        match self
            .create_ref(repo, &format!("tags/{}", tag.name), &object.sha)
            .await
        {
            Ok(_) => Ok(Created::New(Tag {
                name: tag.name.clone(),
                sha: object.sha,
                commit_sha: object.object.sha,
                annotated: true,
                message: object.message,
            })),
            // Someone else created the tag meanwhile: fine if it names the same commit.
            Err(conflict @ Error::RefConflict { .. }) => {
                match self.get_tag(repo, &tag.name).await? {
                    Some(existing) => same_tag(existing, tag),
                    None => Err(conflict),
                }
            }
            Err(other) => Err(other),
        }
    }
}

fn same_tag(existing: Tag, wanted: &NewTag) -> Result<Created<Tag>, Error> {
    if existing.commit_sha == wanted.commit_sha {
        Ok(Created::Existing(existing))
    } else {
        Err(Error::TagConflict {
            tag: wanted.name.clone(),
            existing: existing.commit_sha,
            wanted: wanted.commit_sha.clone(),
        })
    }
}
