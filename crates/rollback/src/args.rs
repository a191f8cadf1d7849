//! The command line and the action's inputs (`hub_kit::cli` merges `INPUT_*` into them).

use clap::Parser;

/// Rolls a deployment back to the previous good version, verifies its health and records
/// what was done.
#[derive(Parser, Debug)]
#[command(
    name = "hub-rollback",
    about,
    version,
    // `--version` is the version to roll back to (the action's `version` input), so the
    // program's own version is `-V` alone.
    disable_version_flag = true,
    max_term_width = 100
)]
pub struct Args {
    /// The backend: `releases-dir` (a `current` symlink over `releases/<version>/`),
    /// `command` (your own command, given the version) or `github-deployment` (a new GitHub
    /// deployment of the good version, carried out by your deploy workflow), `kubernetes`
    /// (a Deployment, through `kubectl`), `helm` (a release) or `compose` (a service,
    /// through `docker compose`).
    #[arg(long)]
    pub target: String,
    /// Roll back to exactly this version (`1.2.3` or `v1.2.3`). Default: the highest
    /// release tag below the current version.
    #[arg(long = "version")]
    pub to_version: Option<String>,
    /// The version being rolled back (the bad one). Default for `releases-dir`: the
    /// release `current` points at. Required for `command` unless `version` is given.
    #[arg(long)]
    pub from: Option<String>,
    /// Prefix of release tags: `v` for `v1.2.3`, `none` (or empty) for bare `1.2.3`.
    #[arg(long, default_value = "v", allow_hyphen_values = true)]
    pub tag_prefix: String,
    /// For `releases-dir`: the directory holding `releases/<version>/` and the `current`
    /// symlink.
    #[arg(long)]
    pub releases_dir: Option<String>,
    /// For `releases-dir`: the host the directory is on (`deploy@web1` or
    /// `ssh://deploy@web1:2222`); every step then runs there through `ssh`. For `compose`:
    /// the host whose Docker engine runs the service (`DOCKER_HOST=ssh://<host>`).
    #[arg(long)]
    pub host: Option<String>,
    /// For `releases-dir` or `compose` with `host`: extra `ssh` arguments (`-i ~/.ssh/deploy -o
    /// StrictHostKeyChecking=yes`; one line, simple quoting).
    #[arg(long, allow_hyphen_values = true)]
    pub ssh_options: Option<String>,
    /// For `releases-dir`: a command run after the switch, in the releases directory (one
    /// line, split with simple quoting; no shell).
    #[arg(long, allow_hyphen_values = true)]
    pub restart_command: Option<String>,
    /// For `command`: the command that rolls back (one line, split with simple quoting; no
    /// shell). It finds the version in `HUB_ROLLBACK_VERSION`.
    #[arg(long, allow_hyphen_values = true)]
    pub command: Option<String>,
    /// URLs that must answer 200 after the switch (one per line).
    #[arg(long = "health-urls")]
    pub health_urls: Vec<String>,
    /// Text every health URL's body must contain (e.g. `version=1.0.0`).
    #[arg(long, allow_hyphen_values = true)]
    pub health_body: Option<String>,
    /// A command that must exit 0 after the switch (one line, no shell).
    #[arg(long, allow_hyphen_values = true)]
    pub health_command: Option<String>,
    /// How long health may take to come back (`90s`, `5m`); also the limit of each backend
    /// command (killed after it) and of the wait for another rollback of the same target.
    #[arg(long, default_value = "60s")]
    pub timeout: String,
    /// Show the plan (the switch and the exact commands) and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Append one JSON line per run to this file (default inside Actions:
    /// `$RUNNER_TEMP/hub-rollback-audit.jsonl`).
    #[arg(long)]
    pub audit_log: Option<String>,
    /// The repository whose tags list the releases (default: `GITHUB_WORKSPACE`, else the
    /// current directory).
    #[arg(long)]
    pub repository_path: Option<String>,
    /// The GitHub deployment environment (`production`): its last successful deployment
    /// chooses the version, and the rollback is recorded there as deployment statuses.
    #[arg(long)]
    pub environment: Option<String>,
    /// Token for the GitHub API (default `GITHUB_TOKEN`); needs `deployments: write` (and
    /// for `comment`, `pull-requests: write` on pull requests, `contents: write` otherwise).
    #[arg(long)]
    pub token: Option<String>,
    /// Keep a sticky comment about the rollback on the pull request that triggered the run,
    /// or on the run's commit for other events (`GITHUB_SHA` for `release`).
    #[arg(long)]
    pub comment: bool,
    /// For `kubernetes`: the Deployment's name.
    #[arg(long)]
    pub deployment: Option<String>,
    /// For `kubernetes` and `helm`: the namespace.
    #[arg(long, default_value = "default")]
    pub namespace: String,
    /// For `kubernetes`: the container whose image names the version (default: the only
    /// one).
    #[arg(long)]
    pub container: Option<String>,
    /// For `kubernetes` and `compose`: the image repository the version is a tag of
    /// (default: the running image's repository).
    #[arg(long)]
    pub image: Option<String>,
    /// For `helm`: the release.
    #[arg(long)]
    pub release: Option<String>,
    /// For `compose`: the Compose file.
    #[arg(long)]
    pub compose_file: Option<String>,
    /// For `compose`: the service.
    #[arg(long)]
    pub service: Option<String>,
    /// Print the outputs as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Print the program's version (`--version` is the version to roll back to).
    #[arg(short = 'V', action = clap::ArgAction::Version)]
    pub print_version: (),
}
