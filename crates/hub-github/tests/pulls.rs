//! release-pr's lifecycle against the stand-in: a pull request from a branch of a real local
//! repository, found by head, its body round-tripped, verified commits through GraphQL, merged,
//! found again from its merge commit, and closed with a comment. Every REST exchange is checked
//! against GitHub's OpenAPI description and every GraphQL document against GitHub's GraphQL
//! schema.

use std::path::Path;

use hub_github::{
    BlockingGitHub, BranchCommit, CommitVia, Error, FileCommit, GitHub, GitHubConfig, MergeMethod,
    NewPullRequest, PullRequestUpdate, PullState, Repository, Thread, Token, release_pr_marker,
};
use hub_github_standin::Options;
use hub_github_standin::test_support::TestServer;

#[path = "../../hub-github-standin/tests/local_git/mod.rs"]
mod local_git;
use local_git::git;

const TOKEN: &str = "ghs_TOKENvalue0123456789abcdefSECRET";
const REPO: &str = "octo/release";
const BRANCH: &str = "release-pr/main";

/// A repository made with `git`: `main` with a manifest, and the release branch one commit
/// ahead of it.
fn local_repository(dir: &Path) {
    git(dir, &["init", "-q", "-b", "main"], &[]);
    std::fs::write(dir.join("Cargo.toml"), "[package]\nversion = \"1.0.0\"\n").expect("writes");
    git(dir, &["add", "."], &[]);
    git(dir, &["commit", "-q", "-m", "feat: a first feature"], &[]);
    git(dir, &["checkout", "-q", "-b", BRANCH], &[]);
    std::fs::write(dir.join("Cargo.toml"), "[package]\nversion = \"1.1.0\"\n").expect("writes");
    git(dir, &["commit", "-q", "-am", "chore: release 1.1.0"], &[]);
    git(dir, &["checkout", "-q", "main"], &[]);
}

struct Fixture {
    server: TestServer,
    client: BlockingGitHub,
    repo: Repository,
    _dir: tempfile::TempDir,
}

impl Fixture {
    fn start(options: Options) -> Option<Fixture> {
        let server = TestServer::start_with_graphql(options)?;
        let dir = tempfile::tempdir().expect("temp dir");
        local_repository(dir.path());
        server.import_git(REPO, dir.path()).expect("imports");
        let mut config = GitHubConfig::new(server.url()).expect("a URL");
        config.token = Token::new(TOKEN);
        let client = BlockingGitHub::new(&config).expect("a client");
        Some(Fixture {
            server,
            client,
            repo: REPO.parse().expect("a repository"),
            _dir: dir,
        })
    }

    fn gh(&self) -> &GitHub {
        self.client.github()
    }

    fn run<F: std::future::Future>(&self, future: F) -> F::Output {
        self.client.block_on(future)
    }

    fn head(&self, branch: &str) -> String {
        self.run(self.gh().get_ref(&self.repo, &format!("heads/{branch}")))
            .expect("reads")
            .expect("the branch exists")
            .sha
    }

    fn open_release_pr(&self, body: &str) -> hub_github::PullRequest {
        self.run(self.gh().create_pull_request(
            &self.repo,
            &NewPullRequest {
                title: "chore: release 1.1.0".to_owned(),
                body: body.to_owned(),
                head: BRANCH.to_owned(),
                base: "main".to_owned(),
                draft: false,
            },
        ))
        .expect("opens")
    }
}

#[test]
fn a_release_pull_request_lives_from_its_branch_to_its_merge() {
    let Some(f) = Fixture::start(Options::default()) else {
        return;
    };
    let marker = release_pr_marker("main");
    let body = format!("{marker}\n## 1.1.0\n\n- a first feature\n");
    let created = f.open_release_pr(&body);
    assert!(created.is_open() && !created.is_merged());
    assert_eq!(
        (created.head_ref.as_str(), created.base_ref.as_str()),
        (BRANCH, "main")
    );

    // Found again by its head branch, and recognised by its marker.
    let found = f
        .run(
            f.gh()
                .pull_requests_by_head(&f.repo, BRANCH, PullState::Open),
        )
        .expect("lists");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].number, created.number);
    assert!(found[0].has_marker("main"));
    assert!(!found[0].has_marker("develop"));
    let elsewhere = f
        .run(
            f.gh()
                .pull_requests_by_head(&f.repo, "other", PullState::All),
        )
        .expect("lists");
    assert!(elsewhere.is_empty());

    // A body with a block the user edited round-trips byte for byte.
    let edited = format!(
        "{marker}\n## 1.1.0\n\n<!-- hub-release-pr:user-notes -->\nThanks to **@someone** & <b>co</b>\n<!-- /hub-release-pr:user-notes -->\n"
    );
    let updated = f
        .run(f.gh().update_pull_request(
            &f.repo,
            created.number,
            &PullRequestUpdate {
                body: Some(edited.clone()),
                title: Some("chore: release 1.2.0".to_owned()),
                base: None,
            },
        ))
        .expect("updates");
    assert_eq!(updated.body, edited);
    let read = f
        .run(f.gh().pull_request(&f.repo, created.number))
        .expect("reads");
    assert_eq!(
        (read.body.as_str(), read.title.as_str()),
        (edited.as_str(), "chore: release 1.2.0")
    );

    // Two files in one verified commit through GraphQL.
    let head = f.head(BRANCH);
    let commit = f
        .run(f.gh().create_commit_on_branch(
            &f.repo,
            &BranchCommit {
                branch: BRANCH.to_owned(),
                expected_head: head.clone(),
                headline: "chore: release 1.2.0".to_owned(),
                body: "Release-As: 1.2.0".to_owned(),
                additions: vec![
                    (
                        "Cargo.toml".to_owned(),
                        b"[package]\nversion = \"1.2.0\"\n".to_vec(),
                    ),
                    (
                        "CHANGELOG.md".to_owned(),
                        b"# Changelog\n\n## 1.2.0\n".to_vec(),
                    ),
                ],
                deletions: Vec::new(),
                executable: Vec::new(),
            },
        ))
        .expect("commits");
    assert_eq!(f.head(BRANCH), commit.oid);
    assert!(
        commit
            .url
            .ends_with(&format!("/octo/release/commit/{}", commit.oid))
    );
    assert!(
        f.run(f.gh().commit_is_verified(&f.repo, &commit.oid))
            .expect("reads")
    );
    assert!(
        !f.run(f.gh().commit_is_verified(&f.repo, &head))
            .expect("reads")
    );
    let files = &f.server.state()["repositories"][REPO]["commits"][&commit.oid];
    assert_eq!(files["parents"][0], head.as_str());

    // The old head is stale now: a clear error, and the branch does not move.
    let stale = f
        .run(f.gh().create_commit_on_branch(
            &f.repo,
            &BranchCommit {
                branch: BRANCH.to_owned(),
                expected_head: head.clone(),
                headline: "chore: release 1.2.1".to_owned(),
                body: String::new(),
                additions: vec![("VERSION".to_owned(), b"1.2.1\n".to_vec())],
                deletions: vec!["CHANGELOG.md".to_owned()],
                executable: Vec::new(),
            },
        ))
        .expect_err("the branch moved");
    assert!(
        matches!(&stale, Error::StaleHead { expected, .. } if *expected == head),
        "{stale}"
    );
    assert!(stale.to_string().contains(BRANCH), "{stale}");
    assert_eq!(f.head(BRANCH), commit.oid);

    // Merged (squash), then found from its merge commit on main.
    let merge = f
        .run(f.gh().merge_pull_request(
            &f.repo,
            created.number,
            MergeMethod::Squash,
            Some(&commit.oid),
        ))
        .expect("merges");
    assert_eq!(f.head("main"), merge);
    let from_commit = f
        .run(f.gh().merged_pull_request_of_commit(&f.repo, &merge))
        .expect("lists")
        .expect("the merge commit came from the release pull request");
    assert_eq!(from_commit.number, created.number);
    assert!(from_commit.is_merged());
    assert_eq!(
        from_commit.merge_commit_sha.as_deref(),
        Some(merge.as_str())
    );
    assert!(from_commit.has_marker("main"));
    let merged = f
        .run(f.gh().pull_request(&f.repo, created.number))
        .expect("reads");
    assert!(merged.is_merged() && !merged.is_open());
    assert!(
        f.run(f.gh().commit_is_verified(&f.repo, &merge))
            .expect("reads")
    );
    // The squash commit holds the release branch's files.
    let main_files = &f.server.state()["repositories"][REPO]["head_files"];
    assert_eq!(main_files["Cargo.toml"], "[package]\nversion = \"1.2.0\"\n");
    assert_eq!(main_files["CHANGELOG.md"], "# Changelog\n\n## 1.2.0\n");
    // No open release pull request is left for the branch.
    assert!(
        f.run(
            f.gh()
                .pull_requests_by_head(&f.repo, BRANCH, PullState::Open)
        )
        .expect("lists")
        .is_empty()
    );
}

#[test]
fn a_superseded_pull_request_is_closed_with_a_comment() {
    let Some(f) = Fixture::start(Options::default()) else {
        return;
    };
    let created = f.open_release_pr(&release_pr_marker("main"));
    let closed = f
        .run(f.gh().close_pull_request(
            &f.repo,
            created.number,
            Some("Superseded: the release branch was reset."),
        ))
        .expect("closes");
    assert!(!closed.is_open() && !closed.is_merged());
    let comments = f
        .run(
            f.gh()
                .list_comments(&f.repo, Thread::PullRequest(created.number)),
        )
        .expect("lists");
    assert_eq!(comments.len(), 1);
    assert_eq!(
        comments[0].body,
        "Superseded: the release branch was reset."
    );
    let all = f
        .run(
            f.gh()
                .pull_requests_by_head(&f.repo, BRANCH, PullState::Closed),
        )
        .expect("lists");
    assert_eq!(
        all.iter().map(|p| p.number).collect::<Vec<_>>(),
        [created.number]
    );
    // A second release pull request for the same branch may be opened now.
    let again = f.open_release_pr(&release_pr_marker("main"));
    assert_ne!(again.number, created.number);
}

#[test]
fn files_are_committed_via_graphql_or_the_git_data_api() {
    let Some(f) = Fixture::start(Options::default()) else {
        return;
    };
    for (via, verified) in [(CommitVia::Graphql, true), (CommitVia::GitData, false)] {
        let before = f.head(BRANCH);
        let outcome = f
            .run(f.gh().commit_files_via(
                &f.repo,
                &FileCommit {
                    branch: BRANCH.to_owned(),
                    message: format!("chore: bump via {via:?}\n\nbody"),
                    files: vec![("VERSION".to_owned(), format!("{via:?}\n"))],
                    author: None,
                },
                via,
            ))
            .expect("commits");
        assert!(outcome.created);
        assert_eq!(outcome.parent, before);
        assert_eq!(f.head(BRANCH), outcome.sha);
        assert_eq!(
            f.run(f.gh().commit_is_verified(&f.repo, &outcome.sha))
                .expect("reads"),
            verified,
            "{via:?}"
        );
        // The same files again: nothing to commit, the branch stays.
        let again = f
            .run(f.gh().commit_files_via(
                &f.repo,
                &FileCommit {
                    branch: BRANCH.to_owned(),
                    message: "chore: the same again".to_owned(),
                    files: vec![("VERSION".to_owned(), format!("{via:?}\n"))],
                    author: None,
                },
                via,
            ))
            .expect("answers");
        assert!(!again.created, "{via:?}");
        assert_eq!(again.sha, outcome.sha);
        assert_eq!(f.head(BRANCH), outcome.sha);
    }
}

#[test]
fn a_repository_that_forbids_actions_pull_requests_names_the_setting() {
    let Some(f) = Fixture::start(Options {
        refuse_actions_pull_requests: true,
        ..Options::default()
    }) else {
        return;
    };
    let refused = f
        .run(f.gh().create_pull_request(
            &f.repo,
            &NewPullRequest {
                title: "chore: release".to_owned(),
                body: String::new(),
                head: BRANCH.to_owned(),
                base: "main".to_owned(),
                draft: false,
            },
        ))
        .expect_err("refused");
    assert!(
        matches!(refused, Error::ActionsMayNotCreatePullRequests { .. }),
        "{refused:?}"
    );
    let text = refused.to_string();
    assert!(
        text.contains("Settings → Actions → General → Workflow permissions → Allow GitHub Actions to create and approve pull requests"),
        "{text}"
    );
    assert!(!text.contains(TOKEN));
}

fn version_commit(branch: &str, head: &str) -> BranchCommit {
    BranchCommit {
        branch: branch.to_owned(),
        expected_head: head.to_owned(),
        headline: "chore: release 1.1.1".to_owned(),
        body: String::new(),
        additions: vec![("VERSION".to_owned(), b"1.1.1\n".to_vec())],
        deletions: Vec::new(),
        executable: Vec::new(),
    }
}

#[test]
fn graphql_commits_are_retried_on_server_errors_and_a_refusal_names_the_permission() {
    let Some(f) = Fixture::start(Options::default()) else {
        return;
    };
    let head = f.head(BRANCH);
    f.server
        .add_fault(hub_github_standin::Fault::server_error(502).on("POST", "/graphql"));
    let made = f
        .run(
            f.gh()
                .create_commit_on_branch(&f.repo, &version_commit(BRANCH, &head)),
        )
        .expect("made after a retry");
    assert_eq!(f.head(BRANCH), made.oid);
    let graphql: Vec<u16> = f
        .server
        .requests()
        .iter()
        .filter(|r| r.path == "/graphql")
        .map(|r| r.status)
        .collect();
    assert_eq!(graphql, [502, 200]);

    f.server
        .add_fault(hub_github_standin::Fault::forbidden_writes());
    let refused = f
        .run(
            f.gh()
                .create_commit_on_branch(&f.repo, &version_commit(BRANCH, &made.oid)),
        )
        .expect_err("refused");
    assert!(
        matches!(
            refused,
            Error::Forbidden {
                permission: hub_github::Permission::ContentsWrite,
                ..
            }
        ),
        "{refused:?}"
    );
    assert!(refused.to_string().contains("contents: write"), "{refused}");
    assert_eq!(f.head(BRANCH), made.oid);
    f.server.clear_faults();

    // A branch that does not exist: GitHub's error, named.
    let missing = f
        .run(
            f.gh()
                .create_commit_on_branch(&f.repo, &version_commit("no-such-branch", &made.oid)),
        )
        .expect_err("no branch");
    assert!(matches!(missing, Error::Graphql { .. }), "{missing:?}");
    assert!(
        missing.to_string().contains("refs/heads/no-such-branch"),
        "{missing}"
    );
}

#[test]
fn graphql_sits_beside_the_rest_root_on_github_enterprise_server() {
    let Some(f) = Fixture::start(Options {
        path_prefix: "/api/v3".to_owned(),
        ..Options::default()
    }) else {
        return;
    };
    assert!(f.server.url().ends_with("/api/v3"));
    let head = f.head(BRANCH);
    let made = f
        .run(
            f.gh()
                .create_commit_on_branch(&f.repo, &version_commit(BRANCH, &head)),
        )
        .expect("commits");
    assert_eq!(f.head(BRANCH), made.oid);
    assert!(
        f.server
            .requests()
            .iter()
            .any(|r| r.path == "/api/graphql" && r.status == 200)
    );
}

/// `swap_ref` resets a branch only from the head it names: GraphQL `updateRefs` with
/// `beforeOid`; a branch that moved is `StaleHead` and keeps its head; where GitHub has no
/// `updateRefs` (here no GraphQL endpoint: 404) the branch is read again before a forced
/// update, and a moved branch is refused all the same.
#[test]
fn a_branch_is_reset_only_from_the_head_it_was_read_at() {
    let Some(f) = Fixture::start(Options::default()) else {
        return;
    };
    let release = f.head(BRANCH);
    let main = f.head("main");
    // Moved on: refused, nothing changed.
    let refused = f.run(f.gh().swap_ref(&f.repo, BRANCH, &main, &main));
    assert!(
        matches!(&refused, Err(Error::StaleHead { expected, .. }) if *expected == main),
        "{refused:?}"
    );
    assert_eq!(f.head(BRANCH), release);
    // From the head it holds: reset (not a fast-forward), atomically.
    let swapped = f
        .run(f.gh().swap_ref(&f.repo, BRANCH, &release, &main))
        .expect("swapped");
    assert_eq!(swapped, hub_github::RefSwap::Atomic);
    assert_eq!(f.head(BRANCH), main);
    // Without `updateRefs`: read again, then forced; refused when moved.
    f.server
        .add_fault(hub_github_standin::Fault::respond(404, "Not Found").on("POST", "/graphql"));
    let refused = f.run(f.gh().swap_ref(&f.repo, BRANCH, &release, &main));
    assert!(
        matches!(refused, Err(Error::StaleHead { .. })),
        "{refused:?}"
    );
    assert_eq!(f.head(BRANCH), main);
    f.server
        .add_fault(hub_github_standin::Fault::respond(404, "Not Found").on("POST", "/graphql"));
    let forced = f
        .run(f.gh().swap_ref(&f.repo, BRANCH, &main, &release))
        .expect("forced");
    assert_eq!(forced, hub_github::RefSwap::ReadThenForced);
    assert_eq!(f.head(BRANCH), release);
}
