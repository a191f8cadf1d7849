//! The GitHub REST operations the stand-in serves, with GitHub's semantics and JSON shapes.

use base64::Engine as _;
use serde_json::{Map, Value, json};

use crate::git::{Change, Commit, Message, Object, Signature, Tag, kind_of_mode};
use crate::openapi::{PathParams, Segment, match_segments, parse_template, split_path};
use crate::store::{
    BOT_EMAIL, BOT_ID, BOT_LOGIN, Comment, CommitComment, Deployment, DeploymentStatus, Release,
    ReleaseAsset, Repo, Store, node_id,
};
use crate::time::{now_epoch, parse_rfc3339, rfc3339};

/// Operations served, by the description's `operationId`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    ListComments,
    CreateComment,
    GetComment,
    UpdateComment,
    DeleteComment,
    ListCommitComments,
    CreateCommitComment,
    GetCommitComment,
    UpdateCommitComment,
    DeleteCommitComment,
    CreateRef,
    GetRef,
    UpdateRef,
    DeleteRef,
    ListMatchingRefs,
    CreateTag,
    GetTag,
    ListReleases,
    CreateRelease,
    GetReleaseByTag,
    GetRelease,
    UpdateRelease,
    ListReleaseAssets,
    UploadReleaseAsset,
    GetReleaseAsset,
    DeleteReleaseAsset,
    ListDeployments,
    CreateDeployment,
    GetDeployment,
    ListDeploymentStatuses,
    CreateDeploymentStatus,
    ListPullCommits,
    GetCommit,
    CreateBlob,
    GetBlob,
    CreateTree,
    GetTree,
    CreateGitCommit,
    GetGitCommit,
    ListPulls,
    CreatePull,
    GetPull,
    UpdatePull,
    MergePull,
    ListCommitPulls,
    GetRepository,
    AddLabels,
}

/// Method, path template exactly as the description spells it, operation.
pub(crate) const ROUTES: &[(&str, &str, Op)] = &[
    (
        "GET",
        "/repos/{owner}/{repo}/issues/{issue_number}/comments",
        Op::ListComments,
    ),
    (
        "POST",
        "/repos/{owner}/{repo}/issues/{issue_number}/comments",
        Op::CreateComment,
    ),
    (
        "GET",
        "/repos/{owner}/{repo}/issues/comments/{comment_id}",
        Op::GetComment,
    ),
    (
        "PATCH",
        "/repos/{owner}/{repo}/issues/comments/{comment_id}",
        Op::UpdateComment,
    ),
    (
        "DELETE",
        "/repos/{owner}/{repo}/issues/comments/{comment_id}",
        Op::DeleteComment,
    ),
    (
        "GET",
        "/repos/{owner}/{repo}/commits/{commit_sha}/comments",
        Op::ListCommitComments,
    ),
    (
        "POST",
        "/repos/{owner}/{repo}/commits/{commit_sha}/comments",
        Op::CreateCommitComment,
    ),
    (
        "GET",
        "/repos/{owner}/{repo}/comments/{comment_id}",
        Op::GetCommitComment,
    ),
    (
        "PATCH",
        "/repos/{owner}/{repo}/comments/{comment_id}",
        Op::UpdateCommitComment,
    ),
    (
        "DELETE",
        "/repos/{owner}/{repo}/comments/{comment_id}",
        Op::DeleteCommitComment,
    ),
    ("POST", "/repos/{owner}/{repo}/git/refs", Op::CreateRef),
    ("GET", "/repos/{owner}/{repo}/git/ref/{ref}", Op::GetRef),
    (
        "PATCH",
        "/repos/{owner}/{repo}/git/refs/{ref}",
        Op::UpdateRef,
    ),
    (
        "DELETE",
        "/repos/{owner}/{repo}/git/refs/{ref}",
        Op::DeleteRef,
    ),
    (
        "GET",
        "/repos/{owner}/{repo}/git/matching-refs/{ref}",
        Op::ListMatchingRefs,
    ),
    ("POST", "/repos/{owner}/{repo}/git/tags", Op::CreateTag),
    (
        "GET",
        "/repos/{owner}/{repo}/git/tags/{tag_sha}",
        Op::GetTag,
    ),
    ("GET", "/repos/{owner}/{repo}/releases", Op::ListReleases),
    ("POST", "/repos/{owner}/{repo}/releases", Op::CreateRelease),
    (
        "GET",
        "/repos/{owner}/{repo}/releases/tags/{tag}",
        Op::GetReleaseByTag,
    ),
    (
        "GET",
        "/repos/{owner}/{repo}/releases/{release_id}",
        Op::GetRelease,
    ),
    (
        "PATCH",
        "/repos/{owner}/{repo}/releases/{release_id}",
        Op::UpdateRelease,
    ),
    (
        "GET",
        "/repos/{owner}/{repo}/releases/{release_id}/assets",
        Op::ListReleaseAssets,
    ),
    // Served on the API's origin: the release's `upload_url` names it (on GitHub,
    // uploads.github.com; on GitHub Enterprise Server, `/api/uploads`).
    (
        "POST",
        "/repos/{owner}/{repo}/releases/{release_id}/assets",
        Op::UploadReleaseAsset,
    ),
    (
        "GET",
        "/repos/{owner}/{repo}/releases/assets/{asset_id}",
        Op::GetReleaseAsset,
    ),
    (
        "DELETE",
        "/repos/{owner}/{repo}/releases/assets/{asset_id}",
        Op::DeleteReleaseAsset,
    ),
    (
        "GET",
        "/repos/{owner}/{repo}/deployments",
        Op::ListDeployments,
    ),
    (
        "POST",
        "/repos/{owner}/{repo}/deployments",
        Op::CreateDeployment,
    ),
    (
        "GET",
        "/repos/{owner}/{repo}/deployments/{deployment_id}",
        Op::GetDeployment,
    ),
    (
        "GET",
        "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses",
        Op::ListDeploymentStatuses,
    ),
    (
        "POST",
        "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses",
        Op::CreateDeploymentStatus,
    ),
    (
        "GET",
        "/repos/{owner}/{repo}/pulls/{pull_number}/commits",
        Op::ListPullCommits,
    ),
    ("GET", "/repos/{owner}/{repo}/commits/{ref}", Op::GetCommit),
    ("POST", "/repos/{owner}/{repo}/git/blobs", Op::CreateBlob),
    (
        "GET",
        "/repos/{owner}/{repo}/git/blobs/{file_sha}",
        Op::GetBlob,
    ),
    ("POST", "/repos/{owner}/{repo}/git/trees", Op::CreateTree),
    (
        "GET",
        "/repos/{owner}/{repo}/git/trees/{tree_sha}",
        Op::GetTree,
    ),
    (
        "POST",
        "/repos/{owner}/{repo}/git/commits",
        Op::CreateGitCommit,
    ),
    (
        "GET",
        "/repos/{owner}/{repo}/git/commits/{commit_sha}",
        Op::GetGitCommit,
    ),
    ("GET", "/repos/{owner}/{repo}/pulls", Op::ListPulls),
    ("POST", "/repos/{owner}/{repo}/pulls", Op::CreatePull),
    (
        "GET",
        "/repos/{owner}/{repo}/pulls/{pull_number}",
        Op::GetPull,
    ),
    (
        "PATCH",
        "/repos/{owner}/{repo}/pulls/{pull_number}",
        Op::UpdatePull,
    ),
    (
        "PUT",
        "/repos/{owner}/{repo}/pulls/{pull_number}/merge",
        Op::MergePull,
    ),
    (
        "GET",
        "/repos/{owner}/{repo}/commits/{commit_sha}/pulls",
        Op::ListCommitPulls,
    ),
    ("GET", "/repos/{owner}/{repo}", Op::GetRepository),
    (
        "POST",
        "/repos/{owner}/{repo}/issues/{issue_number}/labels",
        Op::AddLabels,
    ),
];

/// Parameters that span several path segments (`x-multi-segment` in the description).
fn is_multi_segment(name: &str) -> bool {
    matches!(name, "ref" | "tag" | "tree_sha" | "commit_sha")
}

/// Matches a request to a served operation, preferring templates with more literal segments.
pub(crate) fn route(method: &str, path: &str) -> Option<(Op, &'static str, PathParams)> {
    let segments = split_path(path);
    ROUTES
        .iter()
        .filter(|(m, _, _)| m.eq_ignore_ascii_case(method))
        .filter_map(|(_, template, op)| {
            let parsed: Vec<Segment> = parse_template(template, &is_multi_segment);
            let params = match_segments(&parsed, &segments)?;
            Some((
                crate::openapi::literal_count(&parsed),
                *op,
                *template,
                params,
            ))
        })
        .max_by_key(|(score, ..)| *score)
        .map(|(_, op, template, params)| (op, template, params))
}

/// Base URLs for the JSON the stand-in returns.
pub(crate) struct Ctx<'a> {
    /// API root, e.g. `http://127.0.0.1:4000` or `http://127.0.0.1:4000/api/v3`.
    pub api: &'a str,
    /// Web root, e.g. `http://127.0.0.1:4000`.
    pub html: &'a str,
}

/// A request as the handlers see it.
pub(crate) struct Call<'a> {
    pub op: Op,
    pub params: &'a PathParams,
    pub query: &'a [(String, String)],
    pub body: &'a Value,
    /// The raw request body (a release asset's bytes; `body` is `Null` then).
    pub raw: &'a [u8],
    /// The request's `Content-Type`, when sent.
    pub content_type: Option<&'a str>,
    /// Full request path (with any prefix) for pagination links.
    pub path: &'a str,
}

impl Call<'_> {
    fn param(&self, name: &str) -> &str {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    fn id_param(&self, name: &str) -> Result<u64, Reply> {
        self.param(name).parse().map_err(|_| Reply::not_found())
    }

    fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn str_field(&self, name: &str) -> Option<&str> {
        self.body.get(name).and_then(Value::as_str)
    }

    fn required_str(&self, name: &str) -> Result<&str, Reply> {
        self.str_field(name).ok_or_else(|| {
            Reply::validation(
                "Invalid request.",
                vec![json!({ "code": "missing_field", "field": name })],
            )
        })
    }

    fn bool_field(&self, name: &str) -> Option<bool> {
        self.body.get(name).and_then(Value::as_bool)
    }
}

/// A response before it is encoded and checked.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
}

const DOCS: &str = "https://docs.github.com/rest";

impl Reply {
    pub(crate) fn json(status: u16, body: Value) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: Some(body),
        }
    }

    fn no_content() -> Self {
        Reply {
            status: 204,
            headers: Vec::new(),
            body: None,
        }
    }

    pub(crate) fn error(status: u16, message: &str) -> Self {
        Reply::json(
            status,
            json!({ "message": message, "documentation_url": DOCS, "status": status.to_string() }),
        )
    }

    pub(crate) fn not_found() -> Self {
        Reply::error(404, "Not Found")
    }

    pub(crate) fn validation(message: &str, errors: Vec<Value>) -> Self {
        let mut body = json!({ "message": message, "documentation_url": DOCS, "status": "422" });
        if !errors.is_empty() {
            body["errors"] = Value::Array(errors);
        }
        Reply::json(422, body)
    }

    fn created(body: Value) -> Self {
        let location = body.get("url").and_then(Value::as_str).map(str::to_owned);
        let mut reply = Reply::json(201, body);
        if let Some(location) = location {
            reply.headers.push(("location".to_owned(), location));
        }
        reply
    }
}

/// Runs one operation against the store.
pub(crate) fn handle(store: &mut Store, ctx: &Ctx<'_>, call: &Call<'_>) -> Reply {
    match dispatch(store, ctx, call) {
        Ok(reply) | Err(reply) => reply,
    }
}

fn dispatch(store: &mut Store, ctx: &Ctx<'_>, call: &Call<'_>) -> Result<Reply, Reply> {
    let (owner, name) = (call.param("owner"), call.param("repo"));
    if store.repo(owner, name).is_none() {
        return Err(Reply::not_found());
    }
    let now = now_epoch();
    match call.op {
        Op::ListComments | Op::GetComment => {
            let repo = store.repo(owner, name).ok_or_else(Reply::not_found)?;
            if call.op == Op::GetComment {
                let id = call.id_param("comment_id")?;
                let comment = repo.comments.get(&id).ok_or_else(Reply::not_found)?;
                return Ok(Reply::json(200, comment_json(store, ctx, repo, comment)));
            }
            let number = call.id_param("issue_number")?;
            let since = call.query("since").and_then(parse_rfc3339).map(|(t, _)| t);
            let items: Vec<Value> = repo
                .comments
                .values()
                .filter(|c| c.issue_number == number)
                .filter(|c| since.is_none_or(|s| c.updated_at >= s))
                .map(|c| comment_json(store, ctx, repo, c))
                .collect();
            Ok(paginate(ctx, call, items))
        }
        Op::CreateComment => {
            let number = call.id_param("issue_number")?;
            let body = call.required_str("body")?.to_owned();
            let id = store.next_id();
            let repo = store.repo_mut(owner, name).ok_or_else(Reply::not_found)?;
            let comment = Comment {
                id,
                issue_number: number,
                body,
                login: BOT_LOGIN.to_owned(),
                created_at: now,
                updated_at: now,
            };
            repo.comments.insert(id, comment.clone());
            let repo = store.repo(owner, name).ok_or_else(Reply::not_found)?;
            Ok(Reply::created(comment_json(store, ctx, repo, &comment)))
        }
        Op::UpdateComment => {
            let id = call.id_param("comment_id")?;
            let body = call.required_str("body")?.to_owned();
            let repo = store.repo_mut(owner, name).ok_or_else(Reply::not_found)?;
            let comment = repo.comments.get_mut(&id).ok_or_else(Reply::not_found)?;
            comment.body = body;
            comment.updated_at = now;
            let comment = comment.clone();
            let repo = store.repo(owner, name).ok_or_else(Reply::not_found)?;
            Ok(Reply::json(200, comment_json(store, ctx, repo, &comment)))
        }
        Op::DeleteComment => {
            let id = call.id_param("comment_id")?;
            let repo = store.repo_mut(owner, name).ok_or_else(Reply::not_found)?;
            repo.comments.remove(&id).ok_or_else(Reply::not_found)?;
            Ok(Reply::no_content())
        }
        Op::ListCommitComments => {
            let repo = store.repo(owner, name).ok_or_else(Reply::not_found)?;
            // GitHub answers 404 for a commit it does not have.
            let sha = commit_of(repo, call.param("commit_sha")).ok_or_else(Reply::not_found)?;
            let items: Vec<Value> = repo
                .commit_comments
                .values()
                .filter(|c| c.commit_id == sha)
                .map(|c| commit_comment_json(store, ctx, repo, c))
                .collect();
            Ok(paginate(ctx, call, items))
        }
        Op::CreateCommitComment => {
            let body = call.required_str("body")?.to_owned();
            let repo = store.repo(owner, name).ok_or_else(Reply::not_found)?;
            let Some(sha) = commit_of(repo, call.param("commit_sha")) else {
                return Err(Reply::validation(
                    &format!("No commit found for SHA: {}", call.param("commit_sha")),
                    Vec::new(),
                ));
            };
            if call.body.get("path").is_some() || call.body.get("position").is_some() {
                // Line comments need the commit's diff; the actions only comment on commits.
                return Err(Reply::validation(
                    "The stand-in keeps comments on whole commits only (no path or position)",
                    Vec::new(),
                ));
            }
            let id = store.next_id();
            let repo = store.repo_mut(owner, name).ok_or_else(Reply::not_found)?;
            let comment = CommitComment {
                id,
                commit_id: sha,
                body,
                login: BOT_LOGIN.to_owned(),
                created_at: now,
                updated_at: now,
            };
            repo.commit_comments.insert(id, comment.clone());
            let repo = store.repo(owner, name).ok_or_else(Reply::not_found)?;
            Ok(Reply::created(commit_comment_json(
                store, ctx, repo, &comment,
            )))
        }
        Op::GetCommitComment => {
            let id = call.id_param("comment_id")?;
            let repo = store.repo(owner, name).ok_or_else(Reply::not_found)?;
            let comment = repo.commit_comments.get(&id).ok_or_else(Reply::not_found)?;
            Ok(Reply::json(
                200,
                commit_comment_json(store, ctx, repo, comment),
            ))
        }
        Op::UpdateCommitComment => {
            let id = call.id_param("comment_id")?;
            let body = call.required_str("body")?.to_owned();
            let repo = store.repo_mut(owner, name).ok_or_else(Reply::not_found)?;
            let comment = repo
                .commit_comments
                .get_mut(&id)
                .ok_or_else(Reply::not_found)?;
            comment.body = body;
            comment.updated_at = now;
            let comment = comment.clone();
            let repo = store.repo(owner, name).ok_or_else(Reply::not_found)?;
            Ok(Reply::json(
                200,
                commit_comment_json(store, ctx, repo, &comment),
            ))
        }
        Op::DeleteCommitComment => {
            let id = call.id_param("comment_id")?;
            let repo = store.repo_mut(owner, name).ok_or_else(Reply::not_found)?;
            repo.commit_comments
                .remove(&id)
                .ok_or_else(Reply::not_found)?;
            Ok(Reply::no_content())
        }
        Op::GetRef => {
            let repo = store.repo(owner, name).ok_or_else(Reply::not_found)?;
            let full = format!("refs/{}", call.param("ref"));
            let sha = repo.refs.get(&full).ok_or_else(Reply::not_found)?;
            Ok(Reply::json(200, ref_json(ctx, repo, &full, sha)))
        }
        Op::ListMatchingRefs => {
            let repo = store.repo(owner, name).ok_or_else(Reply::not_found)?;
            let prefix = format!("refs/{}", call.param("ref"));
            let items = repo
                .refs
                .iter()
                .filter(|(name, _)| name.starts_with(&prefix))
                .map(|(name, sha)| ref_json(ctx, repo, name, sha))
                .collect();
            Ok(paginate(ctx, call, items))
        }
        Op::CreateRef => {
            let full = call.required_str("ref")?.to_owned();
            let sha = call.required_str("sha")?.to_ascii_lowercase();
            let repo = store.repo_mut(owner, name).ok_or_else(Reply::not_found)?;
            if !full.starts_with("refs/") || full.matches('/').count() < 2 {
                return Err(Reply::validation("Reference name is invalid", Vec::new()));
            }
            if repo.odb.get(&sha).is_none() {
                return Err(Reply::validation("Object does not exist", Vec::new()));
            }
            if repo.refs.contains_key(&full) {
                return Err(Reply::validation("Reference already exists", Vec::new()));
            }
            repo.refs.insert(full.clone(), sha.clone());
            Ok(Reply::created(ref_json(ctx, repo, &full, &sha)))
        }
        Op::UpdateRef => {
            let full = format!("refs/{}", call.param("ref"));
            let sha = call.required_str("sha")?.to_ascii_lowercase();
            let force = call.bool_field("force").unwrap_or(false);
            let repo = store.repo_mut(owner, name).ok_or_else(Reply::not_found)?;
            let Some(current) = repo.refs.get(&full).cloned() else {
                return Err(Reply::validation("Reference does not exist", Vec::new()));
            };
            if repo.odb.get(&sha).is_none() {
                return Err(Reply::validation("Object does not exist", Vec::new()));
            }
            if !force
                && !repo
                    .odb
                    .is_ancestor(&repo.odb.peel(&current), &repo.odb.peel(&sha))
            {
                return Err(Reply::validation(
                    "Update is not a fast forward",
                    Vec::new(),
                ));
            }
            repo.refs.insert(full.clone(), sha.clone());
            Ok(Reply::json(200, ref_json(ctx, repo, &full, &sha)))
        }
        Op::DeleteRef => {
            let full = format!("refs/{}", call.param("ref"));
            let repo = store.repo_mut(owner, name).ok_or_else(Reply::not_found)?;
            match repo.refs.remove(&full) {
                Some(_) => Ok(Reply::no_content()),
                None => Err(Reply::validation("Reference does not exist", Vec::new())),
            }
        }
        Op::CreateTag => {
            let tag = call.required_str("tag")?.to_owned();
            let message = call.required_str("message")?.to_owned();
            let object = call.required_str("object")?.to_ascii_lowercase();
            let kind = call.required_str("type")?.to_owned();
            let tagger = signature_from(call.body.get("tagger"), now)?;
            let repo = store.repo_mut(owner, name).ok_or_else(Reply::not_found)?;
            match repo.odb.get(&object) {
                Some(target) if target.kind() == kind => {}
                _ => return Err(Reply::validation("Object does not exist", Vec::new())),
            }
            let sha = repo.odb.insert(Object::Tag(Tag {
                object,
                kind,
                tag,
                tagger,
                extra_headers: Vec::new(),
                message: Message::from(message),
            }));
            Ok(Reply::created(tag_json(ctx, repo, &sha)?))
        }
        Op::GetTag => {
            let repo = store.repo(owner, name).ok_or_else(Reply::not_found)?;
            let sha = call.param("tag_sha").to_ascii_lowercase();
            Ok(Reply::json(200, tag_json(ctx, repo, &sha)?))
        }
        Op::ListReleases => {
            let repo = store.repo(owner, name).ok_or_else(Reply::not_found)?;
            let items = repo
                .releases
                .values()
                .rev()
                .map(|r| release_json(store, ctx, repo, r))
                .collect();
            Ok(paginate(ctx, call, items))
        }
        Op::GetReleaseByTag | Op::GetRelease => {
            let repo = store.repo(owner, name).ok_or_else(Reply::not_found)?;
            let release = if call.op == Op::GetRelease {
                let id = call.id_param("release_id")?;
                repo.releases.get(&id)
            } else {
                let tag = call.param("tag");
                repo.releases
                    .values()
                    .find(|r| !r.draft && r.tag_name == tag)
            };
            let release = release.ok_or_else(Reply::not_found)?;
            Ok(Reply::json(200, release_json(store, ctx, repo, release)))
        }
        Op::CreateRelease => {
            let tag = call.required_str("tag_name")?.to_owned();
            let id = store.next_id();
            let repo = store.repo_mut(owner, name).ok_or_else(Reply::not_found)?;
            if repo.releases.values().any(|r| r.tag_name == tag) {
                return Err(release_exists());
            }
            let target = call
                .str_field("target_commitish")
                .map_or_else(|| repo.default_branch.clone(), str::to_owned);
            let draft = call.bool_field("draft").unwrap_or(false);
            if !draft {
                ensure_tag_ref(repo, &tag, &target)?;
            }
            let release = Release {
                id,
                tag_name: tag,
                target_commitish: target,
                name: call.str_field("name").map(str::to_owned),
                body: call.str_field("body").map(str::to_owned),
                draft,
                prerelease: call.bool_field("prerelease").unwrap_or(false),
                make_latest: call.str_field("make_latest").map(str::to_owned),
                created_at: now,
                updated_at: now,
                published_at: (!draft).then_some(now),
                assets: Vec::new(),
            };
            repo.releases.insert(id, release.clone());
            let repo = store.repo(owner, name).ok_or_else(Reply::not_found)?;
            Ok(Reply::created(release_json(store, ctx, repo, &release)))
        }
        Op::UpdateRelease => {
            let id = call.id_param("release_id")?;
            let repo = store.repo_mut(owner, name).ok_or_else(Reply::not_found)?;
            let mut release = repo
                .releases
                .get(&id)
                .cloned()
                .ok_or_else(Reply::not_found)?;
            if let Some(tag) = call.str_field("tag_name") {
                if repo
                    .releases
                    .values()
                    .any(|r| r.id != id && r.tag_name == tag)
                {
                    return Err(release_exists());
                }
                tag.clone_into(&mut release.tag_name);
            }
            if let Some(target) = call.str_field("target_commitish") {
                target.clone_into(&mut release.target_commitish);
            }
            if let Some(value) = call.str_field("name") {
                release.name = Some(value.to_owned());
            }
            if let Some(value) = call.str_field("body") {
                release.body = Some(value.to_owned());
            }
            if let Some(value) = call.bool_field("prerelease") {
                release.prerelease = value;
            }
            if let Some(value) = call.str_field("make_latest") {
                release.make_latest = Some(value.to_owned());
            }
            if let Some(draft) = call.bool_field("draft") {
                if release.draft && !draft {
                    release.published_at = Some(now);
                }
                release.draft = draft;
            }
            if !release.draft {
                let (tag, target) = (release.tag_name.clone(), release.target_commitish.clone());
                ensure_tag_ref(repo, &tag, &target)?;
            }
            release.updated_at = now;
            repo.releases.insert(id, release.clone());
            let repo = store.repo(owner, name).ok_or_else(Reply::not_found)?;
            Ok(Reply::json(200, release_json(store, ctx, repo, &release)))
        }
        Op::ListReleaseAssets => {
            let repo = store.repo(owner, name).ok_or_else(Reply::not_found)?;
            let id = call.id_param("release_id")?;
            let release = repo.releases.get(&id).ok_or_else(Reply::not_found)?;
            let items = release
                .assets
                .iter()
                .map(|a| asset_json(ctx, repo, release, a))
                .collect();
            Ok(paginate(ctx, call, items))
        }
        Op::UploadReleaseAsset => {
            // GitHub answers a missing or taken name with 422; the description declares that
            // response without a body.
            let refused = || Reply {
                status: 422,
                headers: Vec::new(),
                body: None,
            };
            let asset_name = call.query("name").unwrap_or_default().to_owned();
            if asset_name.is_empty() {
                return Err(refused());
            }
            let asset_id = store.next_id();
            let repo = store.repo_mut(owner, name).ok_or_else(Reply::not_found)?;
            let id = call.id_param("release_id")?;
            let release = repo.releases.get_mut(&id).ok_or_else(Reply::not_found)?;
            if release.assets.iter().any(|a| a.name == asset_name) {
                return Err(refused());
            }
            release.assets.push(ReleaseAsset {
                id: asset_id,
                name: asset_name,
                label: call.query("label").map(str::to_owned),
                content_type: call
                    .content_type
                    .unwrap_or("application/octet-stream")
                    .to_owned(),
                size: call.raw.len(),
                digest: sha256_digest(call.raw),
                created_at: now,
                bytes: call.raw.to_vec(),
            });
            let repo = store.repo(owner, name).ok_or_else(Reply::not_found)?;
            let release = repo.releases.get(&id).ok_or_else(Reply::not_found)?;
            let asset = release.assets.last().ok_or_else(Reply::not_found)?;
            Ok(Reply::created(asset_json(ctx, repo, release, asset)))
        }
        Op::GetReleaseAsset => {
            let repo = store.repo(owner, name).ok_or_else(Reply::not_found)?;
            let asset_id = call.id_param("asset_id")?;
            repo.releases
                .values()
                .find_map(|r| {
                    let asset = r.assets.iter().find(|a| a.id == asset_id)?;
                    Some(Reply::json(200, asset_json(ctx, repo, r, asset)))
                })
                .ok_or_else(Reply::not_found)
        }
        Op::DeleteReleaseAsset => {
            let repo = store.repo_mut(owner, name).ok_or_else(Reply::not_found)?;
            let asset_id = call.id_param("asset_id")?;
            let release = repo
                .releases
                .values_mut()
                .find(|r| r.assets.iter().any(|a| a.id == asset_id))
                .ok_or_else(Reply::not_found)?;
            release.assets.retain(|a| a.id != asset_id);
            Ok(Reply::no_content())
        }
        Op::ListDeployments => {
            let repo = store.repo(owner, name).ok_or_else(Reply::not_found)?;
            let filter = |key: &str| call.query(key).filter(|v| *v != "none");
            let items = repo
                .deployments
                .values()
                .rev()
                .filter(|d| filter("sha").is_none_or(|v| d.sha == v))
                .filter(|d| filter("ref").is_none_or(|v| d.reference == v))
                .filter(|d| filter("task").is_none_or(|v| d.task == v))
                .filter(|d| filter("environment").is_none_or(|v| d.environment == v))
                .map(|d| deployment_json(ctx, repo, d))
                .collect();
            Ok(paginate(ctx, call, items))
        }
        Op::GetDeployment => {
            let repo = store.repo(owner, name).ok_or_else(Reply::not_found)?;
            let id = call.id_param("deployment_id")?;
            let deployment = repo.deployments.get(&id).ok_or_else(Reply::not_found)?;
            Ok(Reply::json(200, deployment_json(ctx, repo, deployment)))
        }
        Op::CreateDeployment => create_deployment(store, ctx, call, now),
        Op::ListDeploymentStatuses => {
            let repo = store.repo(owner, name).ok_or_else(Reply::not_found)?;
            let id = call.id_param("deployment_id")?;
            let deployment = repo.deployments.get(&id).ok_or_else(Reply::not_found)?;
            let items = repo
                .statuses
                .values()
                .rev()
                .filter(|s| s.deployment_id == id)
                .map(|s| status_json(ctx, repo, deployment, s))
                .collect();
            Ok(paginate(ctx, call, items))
        }
        Op::CreateDeploymentStatus => create_deployment_status(store, ctx, call, now),
        Op::ListPullCommits => {
            let repo = store.repo(owner, name).ok_or_else(Reply::not_found)?;
            let number = call.id_param("pull_number")?;
            let pull = repo.pulls.get(&number).ok_or_else(Reply::not_found)?;
            let items = repo
                .pull_commits(pull)
                .iter()
                .take(250)
                .filter_map(|sha| commit_json(store, ctx, repo, sha))
                .collect();
            Ok(paginate(ctx, call, items))
        }
        Op::GetCommit => {
            let repo = store.repo(owner, name).ok_or_else(Reply::not_found)?;
            let wanted = call.param("ref");
            let sha = repo.resolve_commitish(wanted).ok_or_else(|| {
                Reply::validation(&format!("No commit found for SHA: {wanted}"), Vec::new())
            })?;
            commit_json(store, ctx, repo, &sha)
                .map(|body| Reply::json(200, body))
                .ok_or_else(Reply::not_found)
        }
        Op::CreateBlob => {
            let content = call.required_str("content")?;
            let bytes = match call.str_field("encoding").unwrap_or("utf-8") {
                "utf-8" | "utf8" => content.as_bytes().to_vec(),
                "base64" => {
                    let compact: String = content.chars().filter(|c| !c.is_whitespace()).collect();
                    base64::engine::general_purpose::STANDARD
                        .decode(compact)
                        .map_err(|_| Reply::validation("content is not valid Base64", Vec::new()))?
                }
                other => {
                    return Err(Reply::validation(
                        &format!("encoding `{other}` is not supported"),
                        Vec::new(),
                    ));
                }
            };
            let repo = store.repo_mut(owner, name).ok_or_else(Reply::not_found)?;
            let sha = repo.odb.insert(Object::Blob { content: bytes });
            Ok(Reply::created(json!({
                "url": format!("{}/git/blobs/{sha}", repo_api(ctx, repo)),
                "sha": sha,
            })))
        }
        Op::GetBlob => {
            let repo = store.repo(owner, name).ok_or_else(Reply::not_found)?;
            let sha = call.param("file_sha").to_ascii_lowercase();
            let Some(Object::Blob { content }) = repo.odb.get(&sha) else {
                return Err(Reply::not_found());
            };
            Ok(Reply::json(
                200,
                json!({
                    "content": base64_lines(content),
                    "encoding": "base64",
                    "url": format!("{}/git/blobs/{sha}", repo_api(ctx, repo)),
                    "sha": sha,
                    "size": content.len(),
                    "node_id": node_id("B", &sha),
                }),
            ))
        }
        Op::CreateTree => create_tree(store, ctx, call),
        Op::GetTree => {
            let repo = store.repo(owner, name).ok_or_else(Reply::not_found)?;
            let wanted = call.param("tree_sha");
            // The tree sha may also be a commit-ish; GitHub accepts a branch name here.
            let sha = match repo.odb.get(&wanted.to_ascii_lowercase()) {
                Some(Object::Tree { .. }) => wanted.to_ascii_lowercase(),
                _ => repo
                    .resolve_commitish(wanted)
                    .and_then(|c| repo.odb.commit(&c).map(|c| c.tree.clone()))
                    .ok_or_else(Reply::not_found)?,
            };
            let recursive = call.query("recursive").is_some_and(|v| !v.is_empty());
            Ok(Reply::json(200, tree_json(ctx, repo, &sha, recursive)?))
        }
        Op::CreateGitCommit => {
            let message = call.required_str("message")?.to_owned();
            let tree = call.required_str("tree")?.to_ascii_lowercase();
            let parents: Vec<String> = call
                .body
                .get("parents")
                .and_then(Value::as_array)
                .map(|p| {
                    p.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_ascii_lowercase)
                        .collect()
                })
                .unwrap_or_default();
            let author = signature_from(call.body.get("author"), now)?;
            let committer = match call.body.get("committer") {
                Some(c) if c.get("name").is_some() => signature_from(Some(c), now)?,
                _ => author.clone(),
            };
            let repo = store.repo_mut(owner, name).ok_or_else(Reply::not_found)?;
            if !matches!(repo.odb.get(&tree), Some(Object::Tree { .. })) {
                return Err(Reply::validation("Tree SHA does not exist", Vec::new()));
            }
            if parents.iter().any(|p| repo.odb.commit(p).is_none()) {
                return Err(Reply::validation(
                    "Parent SHA does not exist or is not a commit object",
                    Vec::new(),
                ));
            }
            let sha = repo.odb.insert(Object::Commit(Commit {
                tree,
                parents,
                author,
                committer,
                extra_headers: Vec::new(),
                message: Message::from(message),
            }));
            Ok(Reply::created(git_commit_json(ctx, repo, &sha)?))
        }
        Op::GetGitCommit => {
            let repo = store.repo(owner, name).ok_or_else(Reply::not_found)?;
            let sha = call.param("commit_sha").to_ascii_lowercase();
            Ok(Reply::json(200, git_commit_json(ctx, repo, &sha)?))
        }
        Op::ListPulls => {
            let repo = store.repo(owner, name).ok_or_else(Reply::not_found)?;
            let state = call.query("state").unwrap_or("open");
            // `head` is `user:ref-name` (or `organization:ref-name`).
            let head = call.query("head").map(|h| match h.split_once(':') {
                Some((user, branch)) => (Some(user), branch),
                None => (None, h),
            });
            let base = call.query("base");
            let items = repo
                .pulls
                .values()
                .rev()
                .filter(|p| state == "all" || p.state == state)
                .filter(|p| {
                    head.is_none_or(|(user, branch)| {
                        p.head == branch && user.is_none_or(|u| u.eq_ignore_ascii_case(&repo.owner))
                    })
                })
                .filter(|p| base.is_none_or(|b| p.base == b))
                .map(|p| pull_json(store, ctx, repo, p, false))
                .collect();
            Ok(paginate(ctx, call, items))
        }
        Op::CreatePull => create_pull(store, ctx, call, now),
        Op::GetPull => {
            let repo = store.repo(owner, name).ok_or_else(Reply::not_found)?;
            let number = call.id_param("pull_number")?;
            let pull = repo.pulls.get(&number).ok_or_else(Reply::not_found)?;
            Ok(Reply::json(200, pull_json(store, ctx, repo, pull, true)))
        }
        Op::UpdatePull => {
            let number = call.id_param("pull_number")?;
            let repo = store.repo_mut(owner, name).ok_or_else(Reply::not_found)?;
            let branch_exists =
                |repo: &Repo, b: &str| repo.refs.contains_key(&format!("refs/heads/{b}"));
            if let Some(base) = call.str_field("base")
                && !branch_exists(repo, base)
            {
                return Err(invalid_field("PullRequest", "base"));
            }
            let frozen = {
                let pull = repo.pulls.get(&number).ok_or_else(Reply::not_found)?;
                repo.pull_commits(pull)
            };
            let pull = repo.pulls.get_mut(&number).ok_or_else(Reply::not_found)?;
            if let Some(title) = call.str_field("title") {
                pull.title = title.to_owned();
            }
            if let Some(body) = call.body.get("body") {
                pull.body = body.as_str().map(str::to_owned);
            }
            if let Some(base) = call.str_field("base") {
                pull.base = base.to_owned();
            }
            match call.str_field("state") {
                Some("closed") if pull.state == "open" => {
                    pull.state = "closed".to_owned();
                    pull.closed_at = Some(now);
                    pull.commits = frozen;
                }
                Some("open") if pull.merged_at.is_some() => {
                    return Err(Reply::validation(
                        "Validation Failed",
                        vec![
                            json!({ "resource": "PullRequest", "code": "custom", "message": "state cannot be changed. The pull request has been merged." }),
                        ],
                    ));
                }
                Some("open") if pull.state == "closed" => {
                    pull.state = "open".to_owned();
                    pull.closed_at = None;
                    if !pull.head.is_empty() {
                        pull.commits.clear();
                    }
                }
                _ => {}
            }
            pull.updated_at = now;
            let repo = store.repo(owner, name).ok_or_else(Reply::not_found)?;
            let pull = repo.pulls.get(&number).ok_or_else(Reply::not_found)?;
            Ok(Reply::json(200, pull_json(store, ctx, repo, pull, true)))
        }
        Op::MergePull => merge_pull(store, call, now),
        Op::AddLabels => {
            let number = call.id_param("issue_number")?;
            // `{"labels": ["a", …]}` or the array itself.
            let list = call.body.get("labels").unwrap_or(call.body);
            let names: Vec<String> = list
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().or_else(|| v.get("name")?.as_str()))
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            if names.is_empty() {
                return Err(invalid_field("Label", "labels"));
            }
            let repo = store.repo_mut(owner, name).ok_or_else(Reply::not_found)?;
            let pull = repo.pulls.get_mut(&number).ok_or_else(Reply::not_found)?;
            for label in names {
                if !pull.labels.contains(&label) {
                    pull.labels.push(label);
                }
            }
            pull.updated_at = now;
            let repo = store.repo(owner, name).ok_or_else(Reply::not_found)?;
            let pull = repo.pulls.get(&number).ok_or_else(Reply::not_found)?;
            Ok(Reply::json(
                200,
                json!(labels_json(ctx, repo, &pull.labels)),
            ))
        }
        Op::GetRepository => {
            let repo = store.repo(owner, name).ok_or_else(Reply::not_found)?;
            // A `full-repository`: the `repository` fields and three more.
            let mut value = repository_json(store, ctx, repo);
            value["has_discussions"] = json!(false);
            value["network_count"] = json!(0);
            value["subscribers_count"] = json!(0);
            // Dates are strings here (nullable in `repository`): the epoch of the stand-in.
            for key in ["created_at", "updated_at", "pushed_at"] {
                if value[key].is_null() {
                    value[key] = json!(crate::time::rfc3339(0));
                }
            }
            Ok(Reply::json(200, value))
        }
        Op::ListCommitPulls => {
            let repo = store.repo(owner, name).ok_or_else(Reply::not_found)?;
            let wanted = call.param("commit_sha");
            let sha = repo.resolve_commitish(wanted).ok_or_else(|| {
                Reply::validation(&format!("No commit found for SHA: {wanted}"), Vec::new())
            })?;
            // As GitHub: the pull request a merge commit came from, and those whose commits
            // include it.
            let items = repo
                .pulls
                .values()
                .rev()
                .filter(|p| {
                    p.merge_commit_sha.as_deref() == Some(sha.as_str())
                        || repo.pull_commits(p).contains(&sha)
                })
                .map(|p| pull_json(store, ctx, repo, p, false))
                .collect();
            Ok(paginate(ctx, call, items))
        }
    }
}

fn invalid_field(resource: &str, field: &str) -> Reply {
    Reply::validation(
        "Validation Failed",
        vec![json!({ "resource": resource, "field": field, "code": "invalid" })],
    )
}

fn create_pull(
    store: &mut Store,
    ctx: &Ctx<'_>,
    call: &Call<'_>,
    now: i64,
) -> Result<Reply, Reply> {
    let (owner, name) = (call.param("owner"), call.param("repo"));
    if store.refuse_pull_requests {
        return Err(Reply::error(
            403,
            "GitHub Actions is not permitted to create or approve pull requests.",
        ));
    }
    let title = call.required_str("title")?.to_owned();
    let head = call.required_str("head")?;
    // `owner:branch` for a branch of this repository.
    let head = head.split_once(':').map_or(head, |(_, b)| b).to_owned();
    let base = call.required_str("base")?.to_owned();
    let body = call.str_field("body").map(str::to_owned);
    let draft = call.bool_field("draft").unwrap_or(false);
    let id = store.next_id();
    let repo = store.repo_mut(owner, name).ok_or_else(Reply::not_found)?;
    let head_sha = repo.refs.get(&format!("refs/heads/{head}")).cloned();
    let base_sha = repo.refs.get(&format!("refs/heads/{base}")).cloned();
    let (Some(head_sha), Some(base_sha)) = (head_sha, base_sha) else {
        let field = if repo.refs.contains_key(&format!("refs/heads/{head}")) {
            "base"
        } else {
            "head"
        };
        return Err(invalid_field("PullRequest", field));
    };
    if repo
        .pulls
        .values()
        .any(|p| p.state == "open" && p.head == head && p.base == base)
    {
        return Err(Reply::validation(
            "Validation Failed",
            vec![
                json!({ "resource": "PullRequest", "code": "custom", "message": format!("A pull request already exists for {}:{head}.", repo.owner) }),
            ],
        ));
    }
    if repo.odb.is_ancestor(&head_sha, &base_sha) {
        return Err(Reply::validation(
            "Validation Failed",
            vec![
                json!({ "resource": "PullRequest", "code": "custom", "message": format!("No commits between {base} and {head}") }),
            ],
        ));
    }
    // Issues and pull requests share their numbers.
    let number = repo
        .pulls
        .keys()
        .copied()
        .chain(repo.comments.values().map(|c| c.issue_number))
        .max()
        .unwrap_or(0)
        + 1;
    repo.pulls.insert(
        number,
        crate::store::Pull {
            number,
            id,
            title,
            body,
            head,
            base,
            state: "open".to_owned(),
            draft,
            login: BOT_LOGIN.to_owned(),
            created_at: now,
            updated_at: now,
            closed_at: None,
            merged_at: None,
            merge_commit_sha: None,
            head_sha: None,
            commits: Vec::new(),
            labels: Vec::new(),
        },
    );
    let repo = store.repo(owner, name).ok_or_else(Reply::not_found)?;
    let pull = repo.pulls.get(&number).ok_or_else(Reply::not_found)?;
    Ok(Reply::created(pull_json(store, ctx, repo, pull, true)))
}

/// `PUT /pulls/{n}/merge` with the `merge` and `squash` methods (GitHub signs both commits).
fn merge_pull(store: &mut Store, call: &Call<'_>, now: i64) -> Result<Reply, Reply> {
    let (owner, name) = (call.param("owner"), call.param("repo"));
    let number = call.id_param("pull_number")?;
    let method = call.str_field("merge_method").unwrap_or("merge").to_owned();
    let expected = call.str_field("sha").map(str::to_ascii_lowercase);
    let repo = store.repo_mut(owner, name).ok_or_else(Reply::not_found)?;
    let pull = repo
        .pulls
        .get(&number)
        .ok_or_else(Reply::not_found)?
        .clone();
    if pull.state != "open" || pull.head.is_empty() {
        return Err(Reply::error(405, "Pull Request is not mergeable"));
    }
    let head_sha = repo
        .refs
        .get(&format!("refs/heads/{}", pull.head))
        .cloned()
        .ok_or_else(|| Reply::error(405, "Pull Request is not mergeable"))?;
    if expected.as_ref().is_some_and(|e| *e != head_sha) {
        return Err(Reply::error(
            409,
            "Head branch was modified. Review and try the merge again.",
        ));
    }
    let base_ref = format!("refs/heads/{}", pull.base);
    let base_sha = repo
        .refs
        .get(&base_ref)
        .cloned()
        .ok_or_else(|| Reply::error(405, "Pull Request is not mergeable"))?;
    // A head that contains the base gives its own tree; otherwise git's three-way merge of
    // the two, and a conflict is refused as GitHub refuses it.
    let tree = if repo.odb.is_ancestor(&base_sha, &head_sha) {
        repo.odb
            .commit(&head_sha)
            .map(|c| c.tree.clone())
            .ok_or_else(Reply::not_found)?
    } else {
        match crate::merge::merge(&mut repo.odb, &base_sha, &head_sha) {
            Ok(crate::merge::Merged::Tree(tree)) => tree,
            Ok(crate::merge::Merged::Conflict) => {
                return Err(Reply::error(405, "Pull Request is not mergeable"));
            }
            Err(e) => {
                return Err(Reply::error(
                    500,
                    &format!("the stand-in cannot merge: {e}"),
                ));
            }
        }
    };
    let commits = repo.pull_commits(&pull);
    let title = call.str_field("commit_title").map_or_else(
        || match method.as_str() {
            "squash" => format!("{} (#{number})", pull.title),
            _ => format!(
                "Merge pull request #{number} from {}/{}",
                repo.owner, pull.head
            ),
        },
        str::to_owned,
    );
    let body = call.str_field("commit_message").map_or_else(
        || {
            if method == "squash" {
                String::new()
            } else {
                pull.title.clone()
            }
        },
        str::to_owned,
    );
    let parents = match method.as_str() {
        "merge" => vec![base_sha, head_sha.clone()],
        "squash" => vec![base_sha],
        _ => {
            return Err(Reply::error(
                405,
                &format!("Merge method `{method}` is not served by the stand-in"),
            ));
        }
    };
    let signature = Signature {
        name: "GitHub".to_owned(),
        email: "noreply@github.com".to_owned(),
        time: now,
        offset: 0,
    };
    let message = if body.is_empty() {
        format!("{title}\n")
    } else {
        format!("{title}\n\n{body}\n")
    };
    let sha = repo.odb.insert(Object::Commit(Commit {
        tree,
        parents,
        author: signature.clone(),
        committer: signature,
        extra_headers: Vec::new(),
        message: Message::from(message),
    }));
    repo.refs.insert(base_ref, sha.clone());
    repo.verified.insert(sha.clone());
    let pull = repo.pulls.get_mut(&number).ok_or_else(Reply::not_found)?;
    pull.state = "closed".to_owned();
    pull.merged_at = Some(now);
    pull.closed_at = Some(now);
    pull.updated_at = now;
    pull.merge_commit_sha = Some(sha.clone());
    pull.head_sha = Some(head_sha);
    pull.commits = commits;
    Ok(Reply::json(
        200,
        json!({ "sha": sha, "merged": true, "message": "Pull Request successfully merged" }),
    ))
}

/// Label objects for `names` (ids derived from the name, as stable as GitHub's).
fn labels_json(ctx: &Ctx<'_>, repo: &Repo, names: &[String]) -> Vec<Value> {
    let api = repo_api(ctx, repo);
    names
        .iter()
        .map(|name| {
            let id = name
                .bytes()
                .fold(1_000_u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
                % 1_000_000_000;
            json!({
                "id": id,
                "node_id": node_id("LA", &id.to_string()),
                "url": format!("{api}/labels/{}", percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC)),
                "name": name,
                // A string: nullable in `label`, not in a pull request's list entry.
                "description": "",
                "color": "ededed",
                "default": false,
            })
        })
        .collect()
}

/// A `repository` object, with the fields GitHub's description requires.
fn repository_json(store: &Store, ctx: &Ctx<'_>, repo: &Repo) -> Value {
    let api = repo_api(ctx, repo);
    let html = repo_html(ctx, repo);
    let host = ctx.html.split("://").nth(1).unwrap_or("localhost");
    let mut value = json!({
        "id": repo.id,
        "node_id": node_id("R", &repo.id.to_string()),
        "name": repo.name,
        "full_name": repo.full_name(),
        "owner": known_user(store, ctx, &repo.owner),
        "private": false,
        "html_url": html,
        "description": null,
        "fork": false,
        "url": api,
        "archive_url": format!("{api}/{{archive_format}}{{/ref}}"),
        "assignees_url": format!("{api}/assignees{{/user}}"),
        "blobs_url": format!("{api}/git/blobs{{/sha}}"),
        "branches_url": format!("{api}/branches{{/branch}}"),
        "collaborators_url": format!("{api}/collaborators{{/collaborator}}"),
        "comments_url": format!("{api}/comments{{/number}}"),
        "commits_url": format!("{api}/commits{{/sha}}"),
        "compare_url": format!("{api}/compare/{{base}}...{{head}}"),
        "contents_url": format!("{api}/contents/{{+path}}"),
        "contributors_url": format!("{api}/contributors"),
        "deployments_url": format!("{api}/deployments"),
        "downloads_url": format!("{api}/downloads"),
        "events_url": format!("{api}/events"),
        "forks_url": format!("{api}/forks"),
        "git_commits_url": format!("{api}/git/commits{{/sha}}"),
        "git_refs_url": format!("{api}/git/refs{{/sha}}"),
        "git_tags_url": format!("{api}/git/tags{{/sha}}"),
        "git_url": format!("git://{host}/{}.git", repo.full_name()),
        "hooks_url": format!("{api}/hooks"),
        "issue_comment_url": format!("{api}/issues/comments{{/number}}"),
        "issue_events_url": format!("{api}/issues/events{{/number}}"),
        "issues_url": format!("{api}/issues{{/number}}"),
        "keys_url": format!("{api}/keys{{/key_id}}"),
        "labels_url": format!("{api}/labels{{/name}}"),
        "languages_url": format!("{api}/languages"),
        "merges_url": format!("{api}/merges"),
        "milestones_url": format!("{api}/milestones{{/number}}"),
        "notifications_url": format!("{api}/notifications{{?since,all,participating}}"),
        "pulls_url": format!("{api}/pulls{{/number}}"),
        "releases_url": format!("{api}/releases{{/id}}"),
        "ssh_url": format!("git@{host}:{}.git", repo.full_name()),
        "stargazers_url": format!("{api}/stargazers"),
        "statuses_url": format!("{api}/statuses/{{sha}}"),
        "subscribers_url": format!("{api}/subscribers"),
        "subscription_url": format!("{api}/subscription"),
        "tags_url": format!("{api}/tags"),
        "teams_url": format!("{api}/teams"),
        "trees_url": format!("{api}/git/trees{{/sha}}"),
    });
    let rest = json!({
        "clone_url": format!("{html}.git"),
        "mirror_url": null,
        "svn_url": html,
        "homepage": null,
        "language": null,
        "forks": 0,
        "forks_count": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "watchers": 0,
        "size": 0,
        "default_branch": repo.default_branch,
        "open_issues": 0,
        "open_issues_count": 0,
        "has_issues": true,
        "has_projects": true,
        "has_wiki": true,
        "has_pages": false,
        "has_downloads": true,
        "archived": false,
        "disabled": false,
        "license": null,
        "pushed_at": null,
        "created_at": null,
        "updated_at": null,
    });
    if let (Value::Object(map), Value::Object(more)) = (&mut value, rest) {
        map.extend(more);
    }
    value
}

/// A `pull-request` (`full`) or `pull-request-simple` object.
fn pull_json(
    store: &Store,
    ctx: &Ctx<'_>,
    repo: &Repo,
    pull: &crate::store::Pull,
    full: bool,
) -> Value {
    let api = repo_api(ctx, repo);
    let html = repo_html(ctx, repo);
    let number = pull.number;
    let url = format!("{api}/pulls/{number}");
    let html_url = format!("{html}/pull/{number}");
    let commits = repo.pull_commits(pull);
    let head_sha = pull
        .head_sha
        .clone()
        .or_else(|| repo.refs.get(&format!("refs/heads/{}", pull.head)).cloned())
        .or_else(|| commits.last().cloned())
        .unwrap_or_default();
    let base_sha = repo
        .refs
        .get(&format!("refs/heads/{}", pull.base))
        .cloned()
        .unwrap_or_default();
    let repository = repository_json(store, ctx, repo);
    let owner = known_user(store, ctx, &repo.owner);
    let side = |branch: &str, sha: &str| {
        json!({
            "label": format!("{}:{branch}", repo.owner),
            "ref": branch,
            "sha": sha,
            "repo": repository,
            "user": owner,
        })
    };
    let link = |href: String| json!({ "href": href });
    let statuses_url = format!("{api}/statuses/{head_sha}");
    let mut value = json!({
        "url": url,
        "id": pull.id,
        "node_id": node_id("PR", &pull.id.to_string()),
        "html_url": html_url,
        "diff_url": format!("{html_url}.diff"),
        "patch_url": format!("{html_url}.patch"),
        "issue_url": format!("{api}/issues/{number}"),
        "commits_url": format!("{url}/commits"),
        "review_comments_url": format!("{url}/comments"),
        "review_comment_url": format!("{api}/pulls/comments{{/number}}"),
        "comments_url": format!("{api}/issues/{number}/comments"),
        "statuses_url": statuses_url,
        "number": number,
        "state": pull.state,
        "locked": false,
        "title": pull.title,
        "user": known_user(store, ctx, &pull.login),
        "body": pull.body,
        "labels": labels_json(ctx, repo, &pull.labels),
        "milestone": null,
        "active_lock_reason": null,
        "created_at": rfc3339(pull.created_at),
        "updated_at": rfc3339(pull.updated_at),
        "closed_at": pull.closed_at.map(rfc3339),
        "merged_at": pull.merged_at.map(rfc3339),
        "merge_commit_sha": pull.merge_commit_sha,
        "assignee": null,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "head": side(&pull.head, &head_sha),
        "base": side(&pull.base, &base_sha),
        "_links": {
            "self": link(url.clone()),
            "html": link(html_url.clone()),
            "issue": link(format!("{api}/issues/{number}")),
            "comments": link(format!("{api}/issues/{number}/comments")),
            "review_comments": link(format!("{url}/comments")),
            "review_comment": link(format!("{api}/pulls/comments{{/number}}")),
            "commits": link(format!("{url}/commits")),
            "statuses": link(statuses_url),
        },
        "author_association": "NONE",
        "auto_merge": null,
        "draft": pull.draft,
    });
    if full {
        let merged = pull.merged_at.is_some();
        value["merged"] = json!(merged);
        value["mergeable"] = if pull.state == "open" {
            json!(true)
        } else {
            Value::Null
        };
        value["rebaseable"] = Value::Null;
        value["mergeable_state"] = json!(if pull.state == "open" {
            "clean"
        } else {
            "unknown"
        });
        value["merged_by"] = if merged {
            known_user(store, ctx, BOT_LOGIN)
        } else {
            Value::Null
        };
        value["comments"] = json!(
            repo.comments
                .values()
                .filter(|c| c.issue_number == number)
                .count()
        );
        value["review_comments"] = json!(0);
        value["maintainer_can_modify"] = json!(false);
        value["commits"] = json!(commits.len());
        value["additions"] = json!(0);
        value["deletions"] = json!(0);
        value["changed_files"] = json!(0);
    }
    value
}

fn release_exists() -> Reply {
    Reply::validation(
        "Validation Failed",
        vec![json!({ "resource": "Release", "code": "already_exists", "field": "tag_name" })],
    )
}

/// Creates `refs/tags/<tag>` at `target` unless the tag exists, as publishing a release does.
fn ensure_tag_ref(repo: &mut Repo, tag: &str, target: &str) -> Result<(), Reply> {
    let name = format!("refs/tags/{tag}");
    if repo.refs.contains_key(&name) {
        return Ok(());
    }
    let sha = repo.resolve_commitish(target).ok_or_else(|| {
        Reply::validation(
            "Validation Failed",
            vec![json!({ "resource": "Release", "code": "invalid", "field": "target_commitish" })],
        )
    })?;
    repo.refs.insert(name, sha);
    Ok(())
}

fn create_deployment(
    store: &mut Store,
    ctx: &Ctx<'_>,
    call: &Call<'_>,
    now: i64,
) -> Result<Reply, Reply> {
    let (owner, name) = (call.param("owner"), call.param("repo"));
    let reference = call.required_str("ref")?.to_owned();
    let id = store.next_id();
    let repo = store.repo_mut(owner, name).ok_or_else(Reply::not_found)?;
    let sha = repo
        .resolve_commitish(&reference)
        .ok_or_else(|| Reply::validation(&format!("No ref found for: {reference}"), Vec::new()))?;
    let auto_merge = call.bool_field("auto_merge").unwrap_or(true);
    let default_head = repo
        .refs
        .get(&format!("refs/heads/{}", repo.default_branch))
        .cloned()
        .unwrap_or_default();
    if auto_merge && !repo.odb.is_ancestor(&default_head, &sha) {
        // GitHub would try to merge the default branch into the ref; the stand-in never merges.
        return Ok(Reply::error(
            409,
            &format!(
                "Conflict merging {} into {reference}: `auto_merge` is on and the ref is behind the default branch",
                repo.default_branch
            ),
        ));
    }
    let environment = call
        .str_field("environment")
        .unwrap_or("production")
        .to_owned();
    let production = call
        .bool_field("production_environment")
        .unwrap_or(environment == "production");
    let deployment = Deployment {
        id,
        sha,
        reference,
        task: call.str_field("task").unwrap_or("deploy").to_owned(),
        payload: call
            .body
            .get("payload")
            .cloned()
            .unwrap_or_else(|| json!({})),
        original_environment: environment.clone(),
        environment,
        description: call.str_field("description").map(str::to_owned),
        transient_environment: call.bool_field("transient_environment").unwrap_or(false),
        production_environment: production,
        auto_merge,
        required_contexts: call
            .body
            .get("required_contexts")
            .and_then(Value::as_array)
            .map(|c| {
                c.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            }),
        created_at: now,
        updated_at: now,
    };
    repo.deployments.insert(id, deployment.clone());
    let mut reply = Reply::created(deployment_json(ctx, repo, &deployment));
    // The description declares no `Location` for this 201; GitHub sends none either.
    reply.headers.retain(|(name, _)| name != "location");
    Ok(reply)
}

fn create_deployment_status(
    store: &mut Store,
    ctx: &Ctx<'_>,
    call: &Call<'_>,
    now: i64,
) -> Result<Reply, Reply> {
    let (owner, name) = (call.param("owner"), call.param("repo"));
    let deployment_id = call.id_param("deployment_id")?;
    let state = call.required_str("state")?.to_owned();
    let auto_inactive = call.bool_field("auto_inactive").unwrap_or(true);
    let (environment, prior) = {
        let repo = store.repo(owner, name).ok_or_else(Reply::not_found)?;
        let deployment = repo
            .deployments
            .get(&deployment_id)
            .ok_or_else(Reply::not_found)?;
        // Unset environment: the previous status's, else the deployment's.
        let environment = call.str_field("environment").map_or_else(
            || {
                repo.latest_status(deployment_id)
                    .map_or_else(|| deployment.environment.clone(), |s| s.environment.clone())
            },
            str::to_owned,
        );
        // As the description says: every prior non-transient, non-production deployment to the
        // same environment whose state was `success` gets an `inactive` status.
        let prior: Vec<u64> = if state == "success" && auto_inactive {
            repo.deployments
                .values()
                .filter(|d| d.id < deployment_id && d.environment == environment)
                .filter(|d| !d.transient_environment && !d.production_environment)
                .filter(|d| {
                    repo.latest_status(d.id)
                        .is_some_and(|s| s.state == "success")
                })
                .map(|d| d.id)
                .collect()
        } else {
            Vec::new()
        };
        (environment, prior)
    };
    let id = store.next_id();
    let inactive_ids: Vec<(u64, u64)> = prior.into_iter().map(|d| (d, store.next_id())).collect();
    let repo = store.repo_mut(owner, name).ok_or_else(Reply::not_found)?;
    let log_url = call.str_field("log_url").unwrap_or("").to_owned();
    let target_url = call
        .str_field("target_url")
        .map_or_else(|| log_url.clone(), str::to_owned);
    let status = DeploymentStatus {
        id,
        deployment_id,
        state,
        description: call.str_field("description").unwrap_or("").to_owned(),
        environment: environment.clone(),
        target_url,
        log_url,
        environment_url: call.str_field("environment_url").unwrap_or("").to_owned(),
        created_at: now,
    };
    repo.statuses.insert(id, status.clone());
    for (prior_id, status_id) in inactive_ids {
        repo.statuses.insert(
            status_id,
            DeploymentStatus {
                id: status_id,
                deployment_id: prior_id,
                state: "inactive".to_owned(),
                description: format!("superseded by deployment {deployment_id}"),
                environment: environment.clone(),
                target_url: String::new(),
                log_url: String::new(),
                environment_url: String::new(),
                created_at: now,
            },
        );
    }
    let deployment = repo
        .deployments
        .get_mut(&deployment_id)
        .ok_or_else(Reply::not_found)?;
    deployment.environment.clone_from(&environment);
    deployment.updated_at = now;
    let deployment = deployment.clone();
    Ok(Reply::created(status_json(ctx, repo, &deployment, &status)))
}

fn create_tree(store: &mut Store, ctx: &Ctx<'_>, call: &Call<'_>) -> Result<Reply, Reply> {
    let (owner, name) = (call.param("owner"), call.param("repo"));
    let entries = call
        .body
        .get("tree")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let base = call.str_field("base_tree").map(str::to_ascii_lowercase);
    let repo = store.repo_mut(owner, name).ok_or_else(Reply::not_found)?;
    let mut changes = Vec::new();
    for entry in &entries {
        let path = entry
            .get("path")
            .and_then(Value::as_str)
            .ok_or_else(|| Reply::validation("tree.path is missing", Vec::new()))?;
        let mode = entry
            .get("mode")
            .and_then(Value::as_str)
            .unwrap_or("100644")
            .to_owned();
        let change = match (
            entry.get("sha"),
            entry.get("content").and_then(Value::as_str),
        ) {
            (Some(Value::Null), _) => Change::Delete,
            (Some(Value::String(sha)), _) => Change::Set {
                mode,
                sha: sha.to_ascii_lowercase(),
            },
            (_, Some(content)) => {
                if kind_of_mode(&mode) != "blob" {
                    return Err(Reply::validation(
                        "tree.content is only allowed for blobs",
                        Vec::new(),
                    ));
                }
                let sha = repo.odb.insert(Object::Blob {
                    content: content.as_bytes().to_vec(),
                });
                Change::Set { mode, sha }
            }
            _ => {
                return Err(Reply::validation(
                    "tree entries need a `sha` or `content`",
                    Vec::new(),
                ));
            }
        };
        changes.push((path.to_owned(), change));
    }
    let sha = repo
        .odb
        .write_tree(base.as_deref(), changes)
        .map_err(|message| Reply::validation(&message, Vec::new()))?;
    Ok(Reply::created(tree_json(ctx, repo, &sha, false)?))
}

fn signature_from(value: Option<&Value>, now: i64) -> Result<Signature, Reply> {
    let Some(value) = value else {
        return Ok(Signature {
            name: BOT_LOGIN.to_owned(),
            email: BOT_EMAIL.to_owned(),
            time: now,
            offset: 0,
        });
    };
    let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
    let (time, offset) = match text("date") {
        Some(date) => parse_rfc3339(&date).ok_or_else(|| {
            Reply::validation(&format!("`{date}` is not a valid date"), Vec::new())
        })?,
        None => (now, 0),
    };
    Ok(Signature {
        name: text("name").unwrap_or_else(|| BOT_LOGIN.to_owned()),
        email: text("email").unwrap_or_else(|| BOT_EMAIL.to_owned()),
        time,
        offset,
    })
}

/// Slices a list by `per_page`/`page` and adds GitHub's `Link` header.
fn paginate(ctx: &Ctx<'_>, call: &Call<'_>, items: Vec<Value>) -> Reply {
    let per_page = call
        .query("per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page = call
        .query("page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let last = items.len().div_ceil(per_page).max(1);
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let mut reply = Reply::json(200, Value::Array(slice));
    let origin = origin_of(ctx.api);
    let link_to = |target: usize| {
        let mut pairs: Vec<String> = call
            .query
            .iter()
            .filter(|(n, _)| n != "page" && n != "per_page")
            .map(|(n, v)| format!("{}={}", encode_query(n), encode_query(v)))
            .collect();
        pairs.push(format!("per_page={per_page}"));
        pairs.push(format!("page={target}"));
        format!("<{origin}{}?{}>", call.path, pairs.join("&"))
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!("{}; rel=\"prev\"", link_to((page - 1).min(last))));
    }
    if page < last {
        links.push(format!("{}; rel=\"next\"", link_to(page + 1)));
        links.push(format!("{}; rel=\"last\"", link_to(last)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"first\"", link_to(1)));
    }
    if !links.is_empty() {
        reply.headers.push(("link".to_owned(), links.join(", ")));
    }
    reply
}

fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(slash) => &url[..after_scheme + slash],
        None => url,
    }
}

fn encode_query(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A URL path segment: unreserved characters stay as they are.
fn encode_segment(value: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(value, SEGMENT).to_string()
}

fn base64_lines(content: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(content);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 60 + 1);
    for chunk in encoded.as_bytes().chunks(60) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out
}

fn repo_api(ctx: &Ctx<'_>, repo: &Repo) -> String {
    format!("{}/repos/{}/{}", ctx.api, repo.owner, repo.name)
}

fn repo_html(ctx: &Ctx<'_>, repo: &Repo) -> String {
    format!("{}/{}/{}", ctx.html, repo.owner, repo.name)
}

/// A `simple-user` object.
fn user_json(ctx: &Ctx<'_>, login: &str, id: u64) -> Value {
    let api = format!("{}/users/{}", ctx.api, encode_query(login));
    let kind = if login.ends_with("[bot]") {
        "Bot"
    } else {
        "User"
    };
    json!({
        "login": login,
        "id": id,
        "node_id": node_id("U", &id.to_string()),
        "avatar_url": format!("{}/avatars/u/{id}?v=4", ctx.html),
        "gravatar_id": "",
        "url": api,
        "html_url": format!("{}/{}", ctx.html, encode_query(login)),
        "followers_url": format!("{api}/followers"),
        "following_url": format!("{api}/following{{/other_user}}"),
        "gists_url": format!("{api}/gists{{/gist_id}}"),
        "starred_url": format!("{api}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{api}/subscriptions"),
        "organizations_url": format!("{api}/orgs"),
        "repos_url": format!("{api}/repos"),
        "events_url": format!("{api}/events{{/privacy}}"),
        "received_events_url": format!("{api}/received_events"),
        "type": kind,
        "site_admin": false,
    })
}

fn known_user(store: &Store, ctx: &Ctx<'_>, login: &str) -> Value {
    // Ids are assigned when a login is first seen; an unseen one still gets a stable number.
    let id = if login == BOT_LOGIN {
        BOT_ID
    } else {
        store.known_user_id(login)
    };
    user_json(ctx, login, id)
}

fn comment_json(store: &Store, ctx: &Ctx<'_>, repo: &Repo, comment: &Comment) -> Value {
    let association = if comment.login == BOT_LOGIN {
        "NONE"
    } else {
        "CONTRIBUTOR"
    };
    json!({
        "id": comment.id,
        "node_id": node_id("IC", &comment.id.to_string()),
        "url": format!("{}/issues/comments/{}", repo_api(ctx, repo), comment.id),
        "html_url": format!("{}/issues/{}#issuecomment-{}", repo_html(ctx, repo), comment.issue_number, comment.id),
        "body": comment.body,
        "user": known_user(store, ctx, &comment.login),
        "created_at": rfc3339(comment.created_at),
        "updated_at": rfc3339(comment.updated_at),
        "issue_url": format!("{}/issues/{}", repo_api(ctx, repo), comment.issue_number),
        "author_association": association,
    })
}

/// The commit a `commit_sha` parameter names: the full sha of a commit the repository has
/// (GitHub also takes abbreviated ones; the clients here always send full shas). Branch and
/// tag names are not commit shas.
fn commit_of(repo: &Repo, sha: &str) -> Option<String> {
    let lower = sha.to_ascii_lowercase();
    repo.odb.commit(&lower).is_some().then_some(lower)
}

/// A `commit-comment` object; comments on the whole commit have no path, position or line.
fn commit_comment_json(
    store: &Store,
    ctx: &Ctx<'_>,
    repo: &Repo,
    comment: &CommitComment,
) -> Value {
    let association = if comment.login == BOT_LOGIN {
        "NONE"
    } else {
        "CONTRIBUTOR"
    };
    json!({
        "html_url": format!("{}/commit/{}#commitcomment-{}", repo_html(ctx, repo), comment.commit_id, comment.id),
        "url": format!("{}/comments/{}", repo_api(ctx, repo), comment.id),
        "id": comment.id,
        "node_id": node_id("CC", &comment.id.to_string()),
        "body": comment.body,
        "path": null,
        "position": null,
        "line": null,
        "commit_id": comment.commit_id,
        "user": known_user(store, ctx, &comment.login),
        "created_at": rfc3339(comment.created_at),
        "updated_at": rfc3339(comment.updated_at),
        "author_association": association,
    })
}

fn ref_json(ctx: &Ctx<'_>, repo: &Repo, name: &str, sha: &str) -> Value {
    let (kind, collection) = match repo.odb.get(sha) {
        Some(Object::Tag(_)) => ("tag", "tags"),
        Some(Object::Tree { .. }) => ("tree", "trees"),
        Some(Object::Blob { .. }) => ("blob", "blobs"),
        _ => ("commit", "commits"),
    };
    json!({
        "ref": name,
        "node_id": node_id("REF", &format!("{}:{name}", repo.id)),
        "url": format!("{}/git/{name}", repo_api(ctx, repo)),
        "object": {
            "type": kind,
            "sha": sha,
            "url": format!("{}/git/{collection}/{sha}", repo_api(ctx, repo)),
        },
    })
}

fn unsigned() -> Value {
    json!({ "verified": false, "reason": "unsigned", "signature": null, "payload": null, "verified_at": null })
}

/// The verification of a commit GitHub signed (`createCommitOnBranch`, merges).
fn verification(repo: &Repo, sha: &str, committed: i64) -> Value {
    if repo.verified.contains(sha) {
        json!({ "verified": true, "reason": "valid", "signature": null, "payload": null, "verified_at": rfc3339(committed) })
    } else {
        unsigned()
    }
}

fn tag_json(ctx: &Ctx<'_>, repo: &Repo, sha: &str) -> Result<Value, Reply> {
    let Some(Object::Tag(tag)) = repo.odb.get(sha) else {
        return Err(Reply::not_found());
    };
    let collection = match tag.kind.as_str() {
        "tree" => "trees",
        "blob" => "blobs",
        _ => "commits",
    };
    Ok(json!({
        "node_id": node_id("TAG", sha),
        "tag": tag.tag,
        "sha": sha,
        "url": format!("{}/git/tags/{sha}", repo_api(ctx, repo)),
        "message": tag.message,
        "tagger": { "date": tag.tagger.date(), "email": tag.tagger.email, "name": tag.tagger.name },
        "object": {
            "sha": tag.object,
            "type": tag.kind,
            "url": format!("{}/git/{collection}/{}", repo_api(ctx, repo), tag.object),
        },
        "verification": unsigned(),
    }))
}

fn release_json(store: &Store, ctx: &Ctx<'_>, repo: &Repo, release: &Release) -> Value {
    let api = format!("{}/releases/{}", repo_api(ctx, repo), release.id);
    let html_tag = if release.draft {
        format!("untagged-{}", release.id)
    } else {
        encode_query(&release.tag_name)
    };
    json!({
        "url": api,
        "html_url": format!("{}/releases/tag/{html_tag}", repo_html(ctx, repo)),
        "assets_url": format!("{api}/assets"),
        "upload_url": format!("{api}/assets{{?name,label}}"),
        "tarball_url": format!("{}/tarball/{}", repo_api(ctx, repo), encode_query(&release.tag_name)),
        "zipball_url": format!("{}/zipball/{}", repo_api(ctx, repo), encode_query(&release.tag_name)),
        "id": release.id,
        "node_id": node_id("RE", &release.id.to_string()),
        "tag_name": release.tag_name,
        "target_commitish": release.target_commitish,
        "name": release.name,
        "body": release.body,
        "draft": release.draft,
        "prerelease": release.prerelease,
        "created_at": rfc3339(release.created_at),
        "updated_at": rfc3339(release.updated_at),
        "published_at": release.published_at.map(rfc3339),
        "author": known_user(store, ctx, BOT_LOGIN),
        "assets": release.assets.iter().map(|a| asset_json(ctx, repo, release, a)).collect::<Vec<_>>(),
    })
}

fn asset_json(ctx: &Ctx<'_>, repo: &Repo, release: &Release, asset: &ReleaseAsset) -> Value {
    json!({
        "url": format!("{}/releases/assets/{}", repo_api(ctx, repo), asset.id),
        "browser_download_url": format!(
            "{}/releases/download/{}/{}",
            repo_html(ctx, repo),
            encode_segment(&release.tag_name),
            encode_segment(&asset.name)
        ),
        "id": asset.id,
        "node_id": node_id("RA", &asset.id.to_string()),
        "name": asset.name,
        "label": asset.label,
        "state": "uploaded",
        "content_type": asset.content_type,
        "size": asset.size,
        "digest": asset.digest,
        "download_count": 0,
        "created_at": rfc3339(asset.created_at),
        "updated_at": rfc3339(asset.created_at),
        "uploader": user_json(ctx, BOT_LOGIN, BOT_ID),
    })
}

fn sha256_digest(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    let hash = sha2::Sha256::digest(bytes);
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for byte in hash {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// The bytes of `GET /{owner}/{repo}/releases/download/{tag}/{name}` (a published release's
/// asset, as a browser or the installer downloads it from the web origin), if there is one.
pub(crate) fn download_asset(store: &Store, path: &str) -> Option<Vec<u8>> {
    let rest = path.strip_prefix('/')?;
    let mut parts = rest.splitn(4, '/');
    let (owner, name, releases) = (parts.next()?, parts.next()?, parts.next()?);
    let rest = parts.next()?.strip_prefix("download/")?;
    if releases != "releases" {
        return None;
    }
    let (tag, file) = rest.rsplit_once('/')?;
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8()
            .ok()
            .map(std::borrow::Cow::into_owned)
    };
    let (tag, file) = (decode(tag)?, decode(file)?);
    let repo = store.repo(owner, name)?;
    let release = repo
        .releases
        .values()
        .find(|r| !r.draft && r.tag_name == tag)?;
    release
        .assets
        .iter()
        .find(|a| a.name == file)
        .map(|a| a.bytes.clone())
}

fn deployment_json(ctx: &Ctx<'_>, repo: &Repo, deployment: &Deployment) -> Value {
    let api = format!("{}/deployments/{}", repo_api(ctx, repo), deployment.id);
    json!({
        "url": api,
        "id": deployment.id,
        "node_id": node_id("DE", &deployment.id.to_string()),
        "sha": deployment.sha,
        "ref": deployment.reference,
        "task": deployment.task,
        "payload": deployment.payload,
        "original_environment": deployment.original_environment,
        "environment": deployment.environment,
        "description": deployment.description,
        "creator": user_json(ctx, BOT_LOGIN, BOT_ID),
        "created_at": rfc3339(deployment.created_at),
        "updated_at": rfc3339(deployment.updated_at),
        "statuses_url": format!("{api}/statuses"),
        "repository_url": repo_api(ctx, repo),
        "transient_environment": deployment.transient_environment,
        "production_environment": deployment.production_environment,
    })
}

fn status_json(
    ctx: &Ctx<'_>,
    repo: &Repo,
    deployment: &Deployment,
    status: &DeploymentStatus,
) -> Value {
    let deployment_url = format!("{}/deployments/{}", repo_api(ctx, repo), deployment.id);
    json!({
        "url": format!("{deployment_url}/statuses/{}", status.id),
        "id": status.id,
        "node_id": node_id("DES", &status.id.to_string()),
        "state": status.state,
        "creator": user_json(ctx, BOT_LOGIN, BOT_ID),
        "description": status.description,
        "environment": status.environment,
        "target_url": status.target_url,
        "created_at": rfc3339(status.created_at),
        "updated_at": rfc3339(status.created_at),
        "deployment_url": deployment_url,
        "repository_url": repo_api(ctx, repo),
        "environment_url": status.environment_url,
        "log_url": status.log_url,
    })
}

/// A `commit` object (the REST commits API shape, with linked accounts).
fn commit_json(store: &Store, ctx: &Ctx<'_>, repo: &Repo, sha: &str) -> Option<Value> {
    let commit = repo.odb.commit(sha)?;
    let person = |s: &Signature| json!({ "name": s.name, "email": s.email, "date": s.date() });
    let account = |s: &Signature| {
        repo.login_for(&s.email)
            .map_or(Value::Null, |login| known_user(store, ctx, login))
    };
    let parents: Vec<Value> = commit
        .parents
        .iter()
        .map(|p| {
            json!({
                "sha": p,
                "url": format!("{}/commits/{p}", repo_api(ctx, repo)),
                "html_url": format!("{}/commit/{p}", repo_html(ctx, repo)),
            })
        })
        .collect();
    Some(json!({
        "url": format!("{}/commits/{sha}", repo_api(ctx, repo)),
        "sha": sha,
        "node_id": node_id("C", sha),
        "html_url": format!("{}/commit/{sha}", repo_html(ctx, repo)),
        "comments_url": format!("{}/commits/{sha}/comments", repo_api(ctx, repo)),
        "commit": {
            "url": format!("{}/git/commits/{sha}", repo_api(ctx, repo)),
            "author": person(&commit.author),
            "committer": person(&commit.committer),
            "message": commit.message.text().trim_end_matches('\n'),
            "comment_count": 0,
            "tree": {
                "sha": commit.tree,
                "url": format!("{}/git/trees/{}", repo_api(ctx, repo), commit.tree),
            },
            "verification": verification(repo, sha, commit.committer.time),
        },
        "author": account(&commit.author),
        "committer": account(&commit.committer),
        "parents": parents,
    }))
}

fn git_commit_json(ctx: &Ctx<'_>, repo: &Repo, sha: &str) -> Result<Value, Reply> {
    let commit = repo.odb.commit(sha).ok_or_else(Reply::not_found)?;
    let person = |s: &Signature| json!({ "name": s.name, "email": s.email, "date": s.date() });
    let parents: Vec<Value> = commit
        .parents
        .iter()
        .map(|p| {
            json!({
                "sha": p,
                "url": format!("{}/git/commits/{p}", repo_api(ctx, repo)),
                "html_url": format!("{}/commit/{p}", repo_html(ctx, repo)),
            })
        })
        .collect();
    Ok(json!({
        "sha": sha,
        "node_id": node_id("C", sha),
        "url": format!("{}/git/commits/{sha}", repo_api(ctx, repo)),
        "html_url": format!("{}/commit/{sha}", repo_html(ctx, repo)),
        "author": person(&commit.author),
        "committer": person(&commit.committer),
        "message": commit.message,
        "tree": {
            "sha": commit.tree,
            "url": format!("{}/git/trees/{}", repo_api(ctx, repo), commit.tree),
        },
        "parents": parents,
        "verification": unsigned(),
    }))
}

fn tree_json(ctx: &Ctx<'_>, repo: &Repo, sha: &str, recursive: bool) -> Result<Value, Reply> {
    let entries = repo
        .odb
        .list_tree(sha, recursive)
        .ok_or_else(Reply::not_found)?;
    let tree: Vec<Value> = entries
        .into_iter()
        .map(|(path, entry)| {
            let kind = entry.kind();
            let mut item = Map::new();
            item.insert("path".to_owned(), json!(path));
            item.insert("mode".to_owned(), json!(entry.mode));
            item.insert("type".to_owned(), json!(kind));
            item.insert("sha".to_owned(), json!(entry.sha));
            match (kind, repo.odb.get(&entry.sha)) {
                ("blob", Some(Object::Blob { content })) => {
                    item.insert("size".to_owned(), json!(content.len()));
                    item.insert(
                        "url".to_owned(),
                        json!(format!("{}/git/blobs/{}", repo_api(ctx, repo), entry.sha)),
                    );
                }
                ("tree", _) => {
                    item.insert(
                        "url".to_owned(),
                        json!(format!("{}/git/trees/{}", repo_api(ctx, repo), entry.sha)),
                    );
                }
                _ => {}
            }
            Value::Object(item)
        })
        .collect();
    Ok(json!({
        "sha": sha,
        "url": format!("{}/git/trees/{sha}", repo_api(ctx, repo)),
        "tree": tree,
        "truncated": false,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_prefer_literals_and_take_multi_segment_refs() {
        let (op, template, params) =
            route("GET", "/repos/o/r/releases/tags/v1.2.3").expect("routed");
        assert_eq!(op, Op::GetReleaseByTag);
        assert_eq!(template, "/repos/{owner}/{repo}/releases/tags/{tag}");
        assert_eq!(params[2].1, "v1.2.3");
        let (op, _, params) =
            route("PATCH", "/repos/o/r/git/refs/heads/feature/x").expect("routed");
        assert_eq!(op, Op::UpdateRef);
        assert_eq!(params[2].1, "heads/feature/x");
        let sha = "0123456789abcdef0123456789abcdef01234567";
        let (op, _, params) =
            route("GET", &format!("/repos/o/r/commits/{sha}/comments")).expect("routed");
        assert_eq!((op, params[2].1.as_str()), (Op::ListCommitComments, sha));
        let (op, _, _) = route("GET", &format!("/repos/o/r/commits/{sha}")).expect("routed");
        assert_eq!(op, Op::GetCommit);
        let (op, _, _) = route("PATCH", "/repos/o/r/comments/12").expect("routed");
        assert_eq!(op, Op::UpdateCommitComment);
        let (op, _, _) = route("PATCH", "/repos/o/r/issues/comments/12").expect("routed");
        assert_eq!(op, Op::UpdateComment);
        assert!(route("GET", "/repos/o/r/nothing-here").is_none());
        assert!(route("PUT", "/repos/o/r/releases").is_none());
    }

    #[test]
    fn every_served_route_is_an_operation_of_the_description() {
        let Some(spec) = crate::test_support::spec_from_env() else {
            return;
        };
        for (method, template, op) in ROUTES {
            assert!(
                spec.has_operation(method, template),
                "{method} {template} ({op:?})"
            );
        }
    }

    #[test]
    fn origin_strips_the_path() {
        assert_eq!(origin_of("http://127.0.0.1:9/api/v3"), "http://127.0.0.1:9");
        assert_eq!(origin_of("http://127.0.0.1:9"), "http://127.0.0.1:9");
    }
}
