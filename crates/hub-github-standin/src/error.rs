use std::path::PathBuf;

/// Everything that can go wrong while loading the description, starting the server or seeding
/// its state.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The description file could not be read.
    #[error("cannot read the OpenAPI description at `{path}`")]
    ReadSpec {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The description file is not JSON.
    #[error("the OpenAPI description at `{path}` is not valid JSON")]
    ParseSpec {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// The file is JSON but not an OpenAPI 3.x description.
    #[error("`{path}` is not an OpenAPI 3.x description (no `openapi` version or no `paths`)")]
    NotOpenApi { path: PathBuf },
    /// Neither the path nor the package layout below it holds a description.
    #[error(
        "no GitHub OpenAPI description at `{path}` (give the JSON file or the `@octokit/openapi` package folder)"
    )]
    SpecNotFound { path: PathBuf },
    /// The loopback port could not be bound.
    #[error("cannot read GitHub's GraphQL schema at `{path}`")]
    ReadGraphqlSchema {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` is not GitHub's GraphQL schema: {message}")]
    GraphqlSchema { path: PathBuf, message: String },
    #[error("cannot listen on `127.0.0.1:{port}`")]
    Bind {
        port: u16,
        #[source]
        source: std::io::Error,
    },
    /// The server's runtime or thread could not be started.
    #[error("cannot start the stand-in's runtime")]
    Runtime {
        #[source]
        source: std::io::Error,
    },
    /// The port file could not be written.
    #[error("cannot write the port file `{path}`")]
    PortFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A repository was named without an owner or with extra slashes.
    #[error("invalid repository `{value}` (expected `owner/name`)")]
    InvalidRepository { value: String },
    /// Seeding asked for a repository that already exists.
    #[error("repository `{repository}` already exists")]
    RepositoryExists { repository: String },
    /// Seeding named a repository that was never created.
    #[error("repository `{repository}` does not exist")]
    NoSuchRepository { repository: String },
    /// Seeding named a branch that does not exist.
    #[error("branch `{branch}` does not exist in `{repository}`")]
    NoSuchBranch { repository: String, branch: String },
    /// Seeding named a commit that does not exist.
    #[error("commit `{sha}` does not exist in `{repository}`")]
    NoSuchCommit { repository: String, sha: String },
    /// An import was refused; nothing of it was kept.
    #[error("import into `{repository}` refused: {reason}")]
    ImportRejected { repository: String, reason: String },
    /// `git` could not be run or failed while reading a repository to mirror.
    #[error("`git {command}` failed in `{git_dir}`: {detail}")]
    GitCommand {
        git_dir: PathBuf,
        command: String,
        detail: String,
    },
    /// An object of a repository to mirror cannot be carried over exactly.
    #[error("cannot mirror object `{sha}` of `{git_dir}`: {reason}")]
    GitObjectUnreadable {
        git_dir: PathBuf,
        sha: String,
        reason: String,
    },
}
