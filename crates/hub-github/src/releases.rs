//! Releases, found and kept by tag.

use http::Method;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::client::{encode_segment, refusal};
use crate::refs::Created;
use crate::{Error, GitHub, Permission, Repository};

/// A release.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Release {
    pub id: u64,
    pub tag_name: String,
    pub target_commitish: String,
    pub name: Option<String>,
    pub body: Option<String>,
    pub draft: bool,
    pub prerelease: bool,
    pub html_url: String,
    /// The URL template for uploading assets.
    pub upload_url: String,
}

/// A release to create (or to make sure of, with [`GitHub::ensure_release`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewRelease {
    pub tag_name: String,
    /// Branch or commit the tag is created from when it does not exist yet.
    pub target_commitish: Option<String>,
    pub name: Option<String>,
    pub body: Option<String>,
    pub draft: bool,
    pub prerelease: bool,
    /// Whether it becomes the repository's latest release (`None`: GitHub decides).
    pub make_latest: Option<bool>,
}

/// Fields of a release to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReleaseUpdate {
    pub tag_name: Option<String>,
    pub name: Option<String>,
    pub body: Option<String>,
    pub draft: Option<bool>,
    pub prerelease: Option<bool>,
    pub make_latest: Option<bool>,
}

impl ReleaseUpdate {
    fn is_empty(&self) -> bool {
        *self == ReleaseUpdate::default()
    }

    fn to_json(&self) -> Value {
        let mut body = Map::new();
        let mut put = |key: &str, value: Option<Value>| {
            if let Some(value) = value {
                body.insert(key.to_owned(), value);
            }
        };
        put("tag_name", self.tag_name.clone().map(Value::from));
        put("name", self.name.clone().map(Value::from));
        put("body", self.body.clone().map(Value::from));
        put("draft", self.draft.map(Value::from));
        put("prerelease", self.prerelease.map(Value::from));
        put(
            "make_latest",
            self.make_latest.map(|l| Value::from(l.to_string())),
        );
        Value::Object(body)
    }
}

impl GitHub {
    /// The release for `tag`: the published one GitHub returns by tag, else a draft with that
    /// tag from the release list (drafts are not found by tag).
    ///
    /// # Errors
    /// On refusal or transport failure.
    pub async fn get_release_by_tag(
        &self,
        repo: &Repository,
        tag: &str,
    ) -> Result<Option<Release>, Error> {
        let path = format!("{}/releases/tags/{}", repo.api_path(), encode_segment(tag));
        let (route, response) = self.send(Method::GET, &path, None).await?;
        if response.is_success() {
            return Ok(Some(response.json(&route)?));
        }
        if response.status != 404 {
            return Err(refusal(route, &response, Permission::ContentsRead));
        }
        let mut found = None;
        self.walk_pages(
            &format!("{}/releases", repo.api_path()),
            Permission::ContentsRead,
            |page: Vec<Release>| {
                found = page.into_iter().find(|r| r.tag_name == tag);
                found.is_some()
            },
        )
        .await?;
        Ok(found)
    }

    /// Every release, newest first.
    ///
    /// # Errors
    /// On refusal or transport failure.
    pub async fn list_releases(&self, repo: &Repository) -> Result<Vec<Release>, Error> {
        self.get_all(
            &format!("{}/releases", repo.api_path()),
            Permission::ContentsRead,
        )
        .await
    }

    /// Creates a release (and its tag, from `target_commitish`, if the tag does not exist).
    /// When GitHub answers that a release for the tag already exists, that release is
    /// returned as [`Created::Existing`].
    ///
    /// # Errors
    /// On refusal (the token needs `contents: write`) or transport failure.
    pub async fn create_release(
        &self,
        repo: &Repository,
        release: &NewRelease,
    ) -> Result<Created<Release>, Error> {
        let mut body = json!({
            "tag_name": release.tag_name,
            "draft": release.draft,
            "prerelease": release.prerelease,
        });
        let fields = [
            ("target_commitish", release.target_commitish.clone()),
            ("name", release.name.clone()),
            ("body", release.body.clone()),
            ("make_latest", release.make_latest.map(|l| l.to_string())),
        ];
        for (key, value) in fields {
            if let Some(value) = value {
                body[key] = json!(value);
            }
        }
        let path = format!("{}/releases", repo.api_path());
        let (route, response) = self.send(Method::POST, &path, Some(&body)).await?;
        if response.is_success() {
            return Ok(Created::New(response.json(&route)?));
        }
        if response.already_exists() {
            return match self.get_release_by_tag(repo, &release.tag_name).await? {
                Some(existing) => Ok(Created::Existing(existing)),
                None => Err(Error::ReleaseConflict {
                    tag: release.tag_name.clone(),
                }),
            };
        }
        Err(refusal(route, &response, Permission::ContentsWrite))
    }

    /// Changes release `id`.
    ///
    /// # Errors
    /// On refusal or transport failure.
    pub async fn update_release(
        &self,
        repo: &Repository,
        id: u64,
        update: &ReleaseUpdate,
    ) -> Result<Release, Error> {
        let path = format!("{}/releases/{id}", repo.api_path());
        self.call(
            Method::PATCH,
            &path,
            Some(&update.to_json()),
            Permission::ContentsWrite,
        )
        .await
    }

    /// Makes sure the release for `release.tag_name` exists and has the given name, body and
    /// flags: created if missing, updated if different, left alone if the same. Running it
    /// twice never makes two releases.
    ///
    /// # Errors
    /// On refusal or transport failure.
    pub async fn ensure_release(
        &self,
        repo: &Repository,
        release: &NewRelease,
    ) -> Result<Created<Release>, Error> {
        let existing = match self.get_release_by_tag(repo, &release.tag_name).await? {
            Some(existing) => existing,
            None => match self.create_release(repo, release).await? {
                Created::New(created) => return Ok(Created::New(created)),
                Created::Existing(existing) => existing,
            },
        };
        let differs = |wanted: &Option<String>, have: &Option<String>| {
            wanted
                .as_ref()
                .filter(|w| Some(*w) != have.as_ref())
                .cloned()
        };
        let update = ReleaseUpdate {
            name: differs(&release.name, &existing.name),
            body: differs(&release.body, &existing.body),
            draft: (release.draft != existing.draft).then_some(release.draft),
            prerelease: (release.prerelease != existing.prerelease).then_some(release.prerelease),
            ..ReleaseUpdate::default()
        };
        if update.is_empty() {
            return Ok(Created::Existing(existing));
        }
        Ok(Created::Existing(
            self.update_release(repo, existing.id, &update).await?,
        ))
    }
}
