//! The client against the real stand-in on 127.0.0.1. Every exchange is checked against
//! GitHub's OpenAPI description; a test with an unknown route or a schema mismatch fails when
//! its `TestServer` is dropped.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use hub_github::{
    BlockingGitHub, Clock, CommitOutcome, Created, DeploymentFilter, DeploymentState, Error,
    FileCommit, GitHub, GitHubConfig, NewDeployment, NewDeploymentStatus, NewRelease, NewTag,
    Permission, Repository, RetryPolicy, StickyOutcome, Thread, Token,
};
use hub_github_standin::test_support::TestServer;
use hub_github_standin::{AuthorSeed, CommitSeed, Fault, Options};

const TOKEN: &str = "ghs_TOKENvalue0123456789abcdefSECRET";
const REPO: &str = "octo/hello";

/// Records the waits the client asks for and returns almost at once.
#[derive(Default)]
struct RecordingClock {
    waits: Mutex<Vec<Duration>>,
}

impl RecordingClock {
    fn waits(&self) -> Vec<Duration> {
        self.waits.lock().expect("not poisoned").clone()
    }
}

impl Clock for RecordingClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep(
        &self,
        duration: Duration,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        self.waits.lock().expect("not poisoned").push(duration);
        Box::pin(tokio::time::sleep(Duration::from_millis(1)))
    }
}

struct Fixture {
    server: TestServer,
    client: BlockingGitHub,
    clock: Arc<RecordingClock>,
    repo: Repository,
}

impl Fixture {
    fn start() -> Option<Fixture> {
        Self::start_with(Options {
            repositories: vec![REPO.to_owned()],
            ..Options::default()
        })
    }

    fn start_with(options: Options) -> Option<Fixture> {
        let server = TestServer::start_with(options)?;
        let clock = Arc::new(RecordingClock::default());
        let client = client_for(server.url(), Some(TOKEN), &clock, 100);
        Some(Fixture {
            server,
            client,
            clock,
            repo: REPO.parse().expect("a repository"),
        })
    }

    fn gh(&self) -> &GitHub {
        self.client.github()
    }

    fn run<F: std::future::Future>(&self, future: F) -> F::Output {
        self.client.block_on(future)
    }

    /// How many requests reached the server for `method` on a path containing `fragment`.
    fn hits(&self, method: &str, fragment: &str) -> usize {
        self.server
            .requests()
            .iter()
            .filter(|r| r.method == method && r.path.contains(fragment))
            .count()
    }

    fn head(&self) -> String {
        self.run(self.gh().get_ref(&self.repo, "heads/main"))
            .expect("reads")
            .expect("main exists")
            .sha
    }
}

fn client_for(
    url: &str,
    token: Option<&str>,
    clock: &Arc<RecordingClock>,
    page_size: u8,
) -> BlockingGitHub {
    let mut config = GitHubConfig::new(url).expect("a URL");
    config.token = token.and_then(Token::new);
    let policy = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(2),
        max_delay: Duration::from_millis(10),
        request_timeout: Duration::from_secs(5),
        max_rate_limit_wait: Duration::from_secs(30),
        max_rate_limit_retries: 2,
        clock: Arc::clone(clock) as Arc<dyn Clock>,
    };
    BlockingGitHub::new(&config)
        .expect("a client")
        .with_retry_policy(policy)
        .with_page_size(page_size)
}

#[test]
fn requests_go_through_the_proxy_the_environment_names_and_no_proxy_goes_direct() {
    let Some(server) = TestServer::start(&[REPO]) else {
        return;
    };
    let proxy = hub_testkit::http::ConnectProxy::start();
    let authority = server
        .url()
        .trim_start_matches("http://")
        .split('/')
        .next()
        .expect("an authority")
        .to_owned();
    let repo: Repository = REPO.parse().expect("a repository");
    for (no_proxy, through) in [(None, 1), (Some("127.0.0.1"), 0)] {
        let vars = std::collections::BTreeMap::from([
            ("GITHUB_API_URL".to_owned(), server.url().to_owned()),
            ("GITHUB_TOKEN".to_owned(), TOKEN.to_owned()),
            ("HTTP_PROXY".to_owned(), proxy.url()),
            (
                "NO_PROXY".to_owned(),
                no_proxy.unwrap_or_default().to_owned(),
            ),
        ]);
        let config = GitHubConfig::from_map(&vars).expect("a configuration");
        let before = proxy.targets().len();
        let client = BlockingGitHub::new(&config).expect("a client");
        let found = client
            .block_on(client.github().get_ref(&repo, "heads/main"))
            .expect("the stand-in answers");
        assert!(found.is_some(), "the default branch exists");
        let tunnelled = proxy.targets()[before..].to_vec();
        assert_eq!(tunnelled.len(), through, "{tunnelled:?}");
        assert!(tunnelled.iter().all(|t| *t == authority), "{tunnelled:?}");
    }
    server.assert_conforms();
}

#[test]
fn a_sticky_comment_is_created_once_then_edited_in_place() {
    let Some(f) = Fixture::start() else { return };
    let thread = Thread::PullRequest(7);
    let first = f
        .run(
            f.gh()
                .upsert_sticky_comment(&f.repo, thread.clone(), "semver-bump", "next: 1.1.0"),
        )
        .expect("created");
    let StickyOutcome::Created(created) = &first else {
        panic!("expected a new comment: {first:?}")
    };
    assert_eq!(created.author.as_deref(), Some("github-actions[bot]"));
    assert!(
        created
            .body
            .starts_with("<!-- hub-actions:semver-bump -->\n")
    );

    let second = f
        .run(
            f.gh()
                .upsert_sticky_comment(&f.repo, thread.clone(), "semver-bump", "next: 1.2.0"),
        )
        .expect("updated");
    assert!(matches!(&second, StickyOutcome::Updated(c) if c.id == created.id));
    assert!(second.comment().body.ends_with("next: 1.2.0"));

    let third = f
        .run(
            f.gh()
                .upsert_sticky_comment(&f.repo, thread.clone(), "semver-bump", "next: 1.2.0"),
        )
        .expect("unchanged");
    assert!(matches!(third, StickyOutcome::Unchanged(_)));

    // Another action keeps its own comment in the same thread.
    let other = f
        .run(
            f.gh()
                .upsert_sticky_comment(&f.repo, thread.clone(), "validate-config", "ok"),
        )
        .expect("created");
    assert!(matches!(other, StickyOutcome::Created(_)));

    let comments = f
        .run(f.gh().list_comments(&f.repo, thread.clone()))
        .expect("listed");
    assert_eq!(comments.len(), 2);
    assert_eq!(f.hits("POST", "/issues/7/comments"), 2);
    assert_eq!(f.hits("PATCH", "/issues/comments/"), 1);
}

#[test]
fn a_sticky_comment_is_found_across_pages() {
    let Some(server) = TestServer::start(&[REPO]) else {
        return;
    };
    let clock = Arc::new(RecordingClock::default());
    // Two comments a page: the thread spans several pages.
    let client = client_for(server.url(), Some(TOKEN), &clock, 2);
    let repo: Repository = REPO.parse().expect("a repository");
    for n in 0..5 {
        server
            .seed_comment(REPO, 3, "mona", &format!("review {n}"))
            .expect("seeded");
    }
    let created = client
        .block_on(client.github().upsert_sticky_comment(
            &repo,
            Thread::Issue(3),
            "canary-gate",
            "verdict: pass",
        ))
        .expect("created");
    for n in 5..8 {
        server
            .seed_comment(REPO, 3, "mona", &format!("review {n}"))
            .expect("seeded");
    }
    let found = client
        .block_on(
            client
                .github()
                .find_sticky_comment(&repo, Thread::Issue(3), "canary-gate"),
        )
        .expect("searched")
        .expect("found");
    assert_eq!(found.id, created.comment().id);
    let pages = server
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/issues/3/comments"))
        .count();
    // Comment 6 of 9 is on page 3 of 5; the search stops there.
    assert_eq!(pages, 6, "3 pages for the upsert's search, 3 for the find");
    let updated = client
        .block_on(client.github().upsert_sticky_comment(
            &repo,
            Thread::Issue(3),
            "canary-gate",
            "verdict: fail",
        ))
        .expect("updated");
    assert!(matches!(updated, StickyOutcome::Updated(c) if c.id == found.id));
    let all = client
        .block_on(client.github().list_comments(&repo, Thread::Issue(3)))
        .expect("listed");
    assert_eq!(all.len(), 9);
    assert_eq!(
        all.iter()
            .filter(|c| c.body.contains("hub-actions:canary-gate"))
            .count(),
        1
    );
}

#[test]
fn a_sticky_commit_comment_is_created_once_then_edited_in_place_across_pages() {
    let Some(server) = TestServer::start(&[REPO]) else {
        return;
    };
    let clock = Arc::new(RecordingClock::default());
    // Two comments a page: the commit's comments span several pages.
    let client = client_for(server.url(), Some(TOKEN), &clock, 2);
    let repo: Repository = REPO.parse().expect("a repository");
    let sha = client
        .block_on(client.github().get_ref(&repo, "heads/main"))
        .expect("reads")
        .expect("main exists")
        .sha;
    let thread = Thread::Commit(sha.clone());
    for n in 0..3 {
        server
            .seed_commit_comment(REPO, &sha, "mona", &format!("looks good {n}"))
            .expect("seeded");
    }
    // Someone quoting the marker is not the action's comment.
    server
        .seed_commit_comment(
            REPO,
            &sha,
            "mallory",
            "> <!-- hub-actions:rollback -->\nfake",
        )
        .expect("seeded");
    let upsert = |body: &str| {
        client
            .block_on(client.github().upsert_sticky_comment(
                &repo,
                thread.clone(),
                "rollback",
                body,
            ))
            .expect("upserted")
    };
    let first = upsert("rolled back to 1.0.0");
    let StickyOutcome::Created(created) = &first else {
        panic!("expected a new comment: {first:?}")
    };
    assert_eq!(created.author.as_deref(), Some("github-actions[bot]"));
    assert!(
        created.html_url.ends_with(&format!(
            "/octo/hello/commit/{sha}#commitcomment-{}",
            created.id
        )),
        "{}",
        created.html_url
    );
    for n in 3..6 {
        server
            .seed_commit_comment(REPO, &sha, "mona", &format!("later {n}"))
            .expect("seeded");
    }
    let second = upsert("rolled back to 0.9.0");
    assert!(matches!(&second, StickyOutcome::Updated(c) if c.id == created.id));
    assert!(second.comment().body.ends_with("rolled back to 0.9.0"));
    let third = upsert("rolled back to 0.9.0");
    assert!(matches!(third, StickyOutcome::Unchanged(c) if c.id == created.id));

    let all = client
        .block_on(client.github().list_comments(&repo, thread.clone()))
        .expect("listed");
    assert_eq!(all.len(), 8);
    assert_eq!(
        all.iter()
            .filter(|c| c.body.starts_with("<!-- hub-actions:rollback -->"))
            .count(),
        1
    );
    let requests = server.requests();
    let count = |method: &str, suffix: &str| {
        requests
            .iter()
            .filter(|r| r.method == method && r.path.ends_with(suffix))
            .count()
    };
    let collection = format!("/commits/{sha}/comments");
    assert_eq!(count("POST", &collection), 1, "created once");
    assert_eq!(
        count(
            "PATCH",
            &format!("/repos/octo/hello/comments/{}", created.id)
        ),
        1,
        "edited once, through the commit comments API; the unchanged run wrote nothing"
    );
    // The first search reads both pages of 4 comments; the comment is then 5th of 8, on page
    // 3, where the next two searches stop; the full list reads 4 pages.
    assert_eq!(count("GET", &collection), 2 + 3 + 3 + 4);
    let state = server.state();
    let stored = &state["repositories"][REPO]["commit_comments"];
    assert_eq!(stored.as_array().map(Vec::len), Some(8));
}

#[test]
fn a_commit_comment_on_a_commit_github_does_not_have_is_refused() {
    let Some(f) = Fixture::start() else { return };
    let unknown = Thread::Commit("0123456789abcdef0123456789abcdef01234567".to_owned());
    let err = f
        .run(f.gh().create_comment(&f.repo, unknown.clone(), "x"))
        .expect_err("no such commit");
    assert!(err.to_string().contains("No commit found for SHA"), "{err}");
    let err = f
        .run(f.gh().list_comments(&f.repo, unknown))
        .expect_err("no such commit");
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    // A hostile "sha" stays one path segment.
    let hostile = Thread::Commit("../../issues/1".to_owned());
    let err = f
        .run(f.gh().create_comment(&f.repo, hostile, "x"))
        .expect_err("not a commit");
    assert!(err.to_string().contains("No commit found for SHA"), "{err}");
    assert_eq!(f.hits("POST", "/issues/1/comments"), 0);
    // Writing a commit comment needs `contents: write`.
    f.server.add_fault(Fault::forbidden_writes());
    let head = f.head();
    let err = f
        .run(f.gh().create_comment(&f.repo, Thread::Commit(head), "x"))
        .expect_err("forbidden");
    assert!(err.to_string().contains("`contents: write`"), "{err}");
}

#[test]
fn a_release_is_created_found_again_and_not_duplicated() {
    let Some(f) = Fixture::start() else { return };
    let release = NewRelease {
        tag_name: "v1.0.0".to_owned(),
        name: Some("v1.0.0".to_owned()),
        body: Some("## Features\n- one".to_owned()),
        ..NewRelease::default()
    };
    let first = f
        .run(f.gh().ensure_release(&f.repo, &release))
        .expect("created");
    assert!(first.is_new());
    let found = f
        .run(f.gh().get_release_by_tag(&f.repo, "v1.0.0"))
        .expect("read")
        .expect("found");
    assert_eq!(found.id, first.get().id);

    let again = f
        .run(f.gh().ensure_release(&f.repo, &release))
        .expect("kept");
    assert_eq!(again, Created::Existing(found.clone()));
    // A plain create of the same tag gets GitHub's 422 and returns the existing release.
    let created_again = f
        .run(f.gh().create_release(&f.repo, &release))
        .expect("already there");
    assert!(matches!(&created_again, Created::Existing(r) if r.id == found.id));

    let edited = f
        .run(f.gh().ensure_release(
            &f.repo,
            &NewRelease {
                body: Some("## Features\n- one\n- two".to_owned()),
                ..release.clone()
            },
        ))
        .expect("updated");
    assert_eq!(
        edited.get().body.as_deref(),
        Some("## Features\n- one\n- two")
    );

    let releases = f.run(f.gh().list_releases(&f.repo)).expect("listed");
    assert_eq!(releases.len(), 1);
    assert_eq!(f.hits("POST", "/releases"), 2);
    let tag = f
        .run(f.gh().get_tag(&f.repo, "v1.0.0"))
        .expect("read")
        .expect("the release made its tag");
    assert_eq!(tag.commit_sha, f.head());

    // A draft is not found by GitHub's by-tag lookup but is found in the list.
    let draft = NewRelease {
        tag_name: "v2.0.0-rc.1".to_owned(),
        draft: true,
        ..NewRelease::default()
    };
    let made = f
        .run(f.gh().ensure_release(&f.repo, &draft))
        .expect("draft");
    let again = f.run(f.gh().ensure_release(&f.repo, &draft)).expect("kept");
    assert_eq!(again.get().id, made.get().id);
    assert!(!again.is_new());
}

#[test]
fn an_existing_ref_at_the_same_sha_is_success_and_elsewhere_a_conflict() {
    let Some(f) = Fixture::start() else { return };
    let head = f.head();
    let created = f
        .run(f.gh().create_ref(&f.repo, "refs/heads/release", &head))
        .expect("created");
    assert!(created.is_new());
    let again = f
        .run(f.gh().create_ref(&f.repo, "refs/heads/release", &head))
        .expect("same sha is success");
    assert_eq!(again, Created::Existing(created.get().clone()));
    let requests = f.server.requests();
    let refused = requests
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/git/refs"))
        .map(|r| r.status)
        .collect::<Vec<_>>();
    assert_eq!(refused, [201, 422], "GitHub's 422 was seen and handled");

    let next = f
        .server
        .push_commits(REPO, "main", vec![seed("feat: more")])
        .expect("pushed")
        .remove(0);
    let err = f
        .run(f.gh().create_ref(&f.repo, "heads/release", &next))
        .expect_err("points elsewhere");
    assert!(matches!(&err, Error::RefConflict { existing, .. } if *existing == head));
    assert_eq!(
        err.to_string(),
        format!("ref `refs/heads/release` already points at `{head}`, not at `{next}`")
    );
}

fn seed(message: &str) -> CommitSeed {
    CommitSeed {
        message: message.to_owned(),
        ..CommitSeed::default()
    }
}

#[test]
fn annotated_tags_are_idempotent_and_major_tags_move() {
    let Some(f) = Fixture::start() else { return };
    let first = f.head();
    let tag = NewTag {
        name: "v1.0.0".to_owned(),
        message: "v1.0.0\n\nfirst release".to_owned(),
        commit_sha: first.clone(),
        tagger: Some(hub_github::Person {
            name: "Release Bot".to_owned(),
            email: "bot@example.com".to_owned(),
            date: Some("2026-01-02T03:04:05Z".to_owned()),
        }),
    };
    let created = f
        .run(f.gh().create_annotated_tag(&f.repo, &tag))
        .expect("created");
    assert!(created.is_new());
    assert!(created.get().annotated);
    assert_eq!(created.get().commit_sha, first);
    let again = f
        .run(f.gh().create_annotated_tag(&f.repo, &tag))
        .expect("same commit");
    assert!(!again.is_new());
    assert_eq!(again.get().sha, created.get().sha);

    let second = f
        .server
        .push_commits(REPO, "main", vec![seed("fix: y")])
        .expect("pushed")
        .remove(0);
    let err = f
        .run(f.gh().create_annotated_tag(
            &f.repo,
            &NewTag {
                commit_sha: second.clone(),
                ..tag.clone()
            },
        ))
        .expect_err("another commit");
    assert!(matches!(err, Error::TagConflict { .. }), "{err}");

    let v1 = f
        .run(f.gh().move_ref(&f.repo, "tags/v1", &first))
        .expect("created");
    assert_eq!(v1.sha, first);
    let moved = f
        .run(f.gh().move_ref(&f.repo, "refs/tags/v1", &second))
        .expect("moved");
    assert_eq!(moved.sha, second);
    // Backwards needs the force that `move_ref` uses; a plain update refuses.
    let err = f
        .run(f.gh().update_ref(&f.repo, "tags/v1", &first, false))
        .expect_err("not a fast-forward");
    assert!(matches!(err, Error::NotFastForward { .. }), "{err}");
    let back = f
        .run(f.gh().move_ref(&f.repo, "tags/v1", &first))
        .expect("forced");
    assert_eq!(back.sha, first);
}

#[test]
fn a_rate_limited_request_succeeds_after_retry_after() {
    let Some(f) = Fixture::start() else { return };
    let route = "/repos/{owner}/{repo}/releases/tags/{tag}";
    f.server
        .add_fault(Fault::rate_limit_retry_after(429, 1).on("GET", route));
    f.server
        .add_fault(Fault::rate_limit_retry_after(403, 2).on("GET", route));
    let found = f
        .run(f.gh().get_release_by_tag(&f.repo, "v9.9.9"))
        .expect("succeeds after waiting");
    assert_eq!(found, None);
    assert_eq!(
        f.clock.waits(),
        [Duration::from_secs(1), Duration::from_secs(2)]
    );
    assert_eq!(f.hits("GET", "/releases/tags/v9.9.9"), 3);
}

#[test]
fn a_rate_limit_reset_is_waited_for_and_a_long_one_fails_clearly() {
    let Some(f) = Fixture::start() else { return };
    let route = "/repos/{owner}/{repo}/git/ref/{ref}";
    f.server
        .add_fault(Fault::rate_limit_reset(403, 3).on("GET", route));
    let head = f.head();
    assert_eq!(head.len(), 40);
    let waits = f.clock.waits();
    assert_eq!(waits.len(), 1);
    assert!(
        waits[0] >= Duration::from_secs(2) && waits[0] <= Duration::from_secs(5),
        "{waits:?}"
    );

    f.server
        .add_fault(Fault::rate_limit_reset(429, 3_600).on("GET", route));
    let err = f
        .run(f.gh().get_ref(&f.repo, "heads/main"))
        .expect_err("an hour is over the cap");
    assert!(
        matches!(err, Error::RateLimited { status: 429, .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.starts_with(
            "`GET /repos/octo/hello/git/ref/heads/main` is rate limited by GitHub (status 429)"
        ),
        "{text}"
    );
    assert!(text.contains("this client waits at most 30s"), "{text}");
    assert_eq!(f.clock.waits().len(), 1, "no wait beyond the cap");
}

#[test]
fn server_errors_are_retried_with_backoff() {
    let Some(f) = Fixture::start() else { return };
    let route = "/repos/{owner}/{repo}/issues/{issue_number}/comments";
    f.server
        .add_fault(Fault::server_error(502).on("POST", route).times(2));
    let created = f
        .run(f.gh().create_comment(&f.repo, Thread::Issue(1), "hello"))
        .expect("third attempt succeeds");
    assert_eq!(created.body, "hello");
    assert_eq!(f.hits("POST", "/issues/1/comments"), 3);
    assert_eq!(f.clock.waits().len(), 2, "a backoff before each retry");

    f.server
        .add_fault(Fault::server_error(503).on("POST", route).times(3));
    let err = f
        .run(f.gh().create_comment(&f.repo, Thread::Issue(1), "again"))
        .expect_err("out of attempts");
    assert!(
        matches!(
            err,
            Error::Server {
                status: 503,
                attempts: 3,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn a_slow_response_times_out_and_is_retried() {
    let Some(server) = TestServer::start(&[REPO]) else {
        return;
    };
    let clock = Arc::new(RecordingClock::default());
    let mut config = GitHubConfig::new(server.url()).expect("a URL");
    config.token = Token::new(TOKEN);
    let client = BlockingGitHub::new(&config)
        .expect("a client")
        .with_retry_policy(RetryPolicy {
            request_timeout: Duration::from_millis(150),
            base_delay: Duration::from_millis(1),
            clock: Arc::clone(&clock) as Arc<dyn Clock>,
            ..RetryPolicy::default()
        });
    server.add_fault(Fault::slow(Duration::from_millis(1_000)));
    let repo: Repository = REPO.parse().expect("a repository");
    let head = client
        .block_on(client.github().get_ref(&repo, "heads/main"))
        .expect("the retry is fast")
        .expect("main exists");
    assert_eq!(head.name, "refs/heads/main");
    // The slow attempt was abandoned by the client (the server never finished it), the fault
    // is used up, and the retry got the answer.
    assert!(server.faults().is_empty());
    assert_eq!(clock.waits().len(), 1, "one backoff after the timeout");
}

#[test]
fn a_forbidden_write_names_the_permission_to_grant() {
    let Some(f) = Fixture::start() else { return };
    f.server.add_fault(Fault::forbidden_writes());
    let head = f.head();

    let err = f
        .run(f.gh().create_release(
            &f.repo,
            &NewRelease {
                tag_name: "v1.0.0".to_owned(),
                ..NewRelease::default()
            },
        ))
        .expect_err("forbidden");
    assert!(
        matches!(
            err,
            Error::Forbidden {
                permission: Permission::ContentsWrite,
                status: 403,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "`POST /repos/octo/hello/releases` was refused with status 403 (Resource not accessible by integration): the workflow's token needs `contents: write`, grant it under `permissions:` in the workflow or job"
    );
    let err = f
        .run(f.gh().create_ref(&f.repo, "tags/v1", &head))
        .expect_err("forbidden");
    assert!(err.to_string().contains("`contents: write`"), "{err}");
    let err = f
        .run(
            f.gh()
                .upsert_sticky_comment(&f.repo, Thread::PullRequest(2), "x", "y"),
        )
        .expect_err("forbidden");
    assert!(err.to_string().contains("`pull-requests: write`"), "{err}");
    let err = f
        .run(f.gh().create_comment(&f.repo, Thread::Issue(2), "y"))
        .expect_err("forbidden");
    assert!(err.to_string().contains("`issues: write`"), "{err}");
    let err = f
        .run(
            f.gh()
                .create_deployment(&f.repo, &NewDeployment::new("main", "staging")),
        )
        .expect_err("forbidden");
    assert!(err.to_string().contains("`deployments: write`"), "{err}");
    // Forbidden is not retried: one request each.
    assert_eq!(f.hits("POST", "/releases"), 1);
    assert!(f.clock.waits().is_empty());
}

#[test]
fn missing_objects_and_repositories_explain_themselves() {
    let Some(f) = Fixture::start() else { return };
    let missing: Repository = "octo/private".parse().expect("a repository");
    let err = f
        .run(
            f.gh()
                .create_deployment(&missing, &NewDeployment::new("main", "qa")),
        )
        .expect_err("not found");
    assert!(
        matches!(
            err,
            Error::NotFound {
                permission: Permission::DeploymentsWrite,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("or the token cannot see it (it needs `deployments: write`)")
    );
    assert_eq!(
        f.run(f.gh().get_ref(&f.repo, "tags/none")).expect("absent"),
        None
    );

    // Without a token, writes are refused with 401.
    let anonymous = client_for(f.server.url(), None, &f.clock, 100);
    let err = anonymous
        .block_on(
            anonymous
                .github()
                .create_comment(&f.repo, Thread::Issue(1), "x"),
        )
        .expect_err("unauthenticated");
    assert!(matches!(err, Error::Unauthorized { .. }), "{err}");
    assert!(!f.server.requests().last().expect("recorded").authenticated);
}

#[test]
fn deployments_and_statuses_with_auto_inactive() {
    let Some(f) = Fixture::start() else { return };
    let old_head = f.head();
    // `main` moves on; deploying the old commit would make GitHub auto-merge unless
    // `auto_merge` is false, which the client always sends.
    f.server
        .push_commits(REPO, "main", vec![seed("feat: newer")])
        .expect("pushed");
    let mut first = NewDeployment::new(old_head.clone(), "staging");
    first.payload = serde_json::json!({ "version": "1.0.0" });
    first.task = Some("deploy:canary".to_owned());
    first.description = Some("canary of 1.0.0".to_owned());
    let first = f
        .run(f.gh().create_deployment(&f.repo, &first))
        .expect("created");
    assert_eq!(first.sha, old_head);
    assert_eq!(first.task, "deploy:canary");
    assert_eq!(first.payload["version"], "1.0.0");

    let success = |id| {
        let mut status = NewDeploymentStatus::new(DeploymentState::Success);
        status.log_url = Some("https://ci.example.com/run/1".to_owned());
        status.environment_url = Some("https://staging.example.com".to_owned());
        f.run(f.gh().create_deployment_status(&f.repo, id, &status))
            .expect("status")
    };
    let status = success(first.id);
    assert_eq!(status.state, DeploymentState::Success);
    assert_eq!(
        status.log_url.as_deref(),
        Some("https://ci.example.com/run/1")
    );

    let second = f
        .run(
            f.gh()
                .create_deployment(&f.repo, &NewDeployment::new("main", "staging")),
        )
        .expect("created");
    success(second.id);
    let statuses = f
        .run(f.gh().list_deployment_statuses(&f.repo, first.id))
        .expect("listed");
    assert_eq!(statuses[0].state, DeploymentState::Inactive, "{statuses:?}");

    let mut keep = NewDeploymentStatus::new(DeploymentState::Success);
    keep.auto_inactive = Some(false);
    let third = f
        .run(
            f.gh()
                .create_deployment(&f.repo, &NewDeployment::new("main", "staging")),
        )
        .expect("created");
    f.run(f.gh().create_deployment_status(&f.repo, third.id, &keep))
        .expect("status");
    let statuses = f
        .run(f.gh().list_deployment_statuses(&f.repo, second.id))
        .expect("listed");
    assert_eq!(statuses[0].state, DeploymentState::Success);

    let staging = f
        .run(f.gh().list_deployments(
            &f.repo,
            &DeploymentFilter {
                environment: Some("staging".to_owned()),
                ..DeploymentFilter::default()
            },
        ))
        .expect("listed");
    assert_eq!(
        staging.iter().map(|d| d.id).collect::<Vec<_>>(),
        [third.id, second.id, first.id]
    );
}

#[test]
fn pull_request_commits_and_their_authors() {
    let Some(f) = Fixture::start() else { return };
    let shas = f
        .server
        .push_commits(
            REPO,
            "topic",
            vec![
                CommitSeed {
                    message: "feat(api): add x\n\nBody.".to_owned(),
                    author: Some(AuthorSeed {
                        name: "Mona Lisa".to_owned(),
                        email: "mona@example.com".to_owned(),
                        login: Some("mona".to_owned()),
                    }),
                    ..CommitSeed::default()
                },
                CommitSeed {
                    message: "fix: y".to_owned(),
                    author: Some(AuthorSeed {
                        name: "Ghost".to_owned(),
                        email: "ghost@example.com".to_owned(),
                        login: None,
                    }),
                    ..CommitSeed::default()
                },
            ],
        )
        .expect("pushed");
    f.server
        .set_pull_request(REPO, 5, shas.clone())
        .expect("seeded");
    let commits = f
        .run(f.gh().pull_request_commits(&f.repo, 5))
        .expect("listed");
    assert_eq!(commits.len(), 2);
    assert_eq!(commits[0].message, "feat(api): add x\n\nBody.");
    assert_eq!(commits[0].author_login.as_deref(), Some("mona"));
    assert_eq!(commits[1].author_login, None);
    assert_eq!(commits[1].parents, [shas[0].clone()]);
    assert_eq!(
        f.run(f.gh().commit_author_login(&f.repo, &shas[0]))
            .expect("resolved")
            .as_deref(),
        Some("mona")
    );
    assert_eq!(
        f.run(f.gh().commit_author_login(&f.repo, &shas[1]))
            .expect("resolved"),
        None
    );
}

#[test]
fn files_are_committed_through_the_git_data_api() {
    let Some(f) = Fixture::start() else { return };
    let before = f.head();
    let commit = FileCommit {
        branch: "main".to_owned(),
        message: "docs(changelog): v1.1.0".to_owned(),
        files: vec![(
            "CHANGELOG.md".to_owned(),
            "# Changelog\n\n## 1.1.0\n".to_owned(),
        )],
        author: None,
    };
    let outcome = f
        .run(f.gh().commit_files(&f.repo, &commit))
        .expect("committed");
    assert!(outcome.created);
    assert_eq!(outcome.parent, before);
    assert_eq!(f.head(), outcome.sha);
    let state = f.server.state();
    let repo = &state["repositories"][REPO];
    assert_eq!(
        repo["head_files"]["CHANGELOG.md"],
        "# Changelog\n\n## 1.1.0\n"
    );
    assert_eq!(repo["head_files"]["README.md"], "# hello\n");
    assert_eq!(
        repo["commits"][&outcome.sha]["message"],
        "docs(changelog): v1.1.0"
    );

    let again = f
        .run(f.gh().commit_files(&f.repo, &commit))
        .expect("nothing to do");
    assert_eq!(
        again,
        CommitOutcome {
            sha: outcome.sha.clone(),
            parent: outcome.sha,
            created: false
        }
    );
}

#[test]
fn a_branch_that_moves_during_a_commit_is_committed_again() {
    let Some(f) = Fixture::start() else { return };
    let route = "/repos/{owner}/{repo}/git/refs/{ref}";
    // GitHub's answer when the branch moved between reading its head and updating it.
    f.server
        .add_fault(Fault::respond(422, "Update is not a fast forward").on("PATCH", route));
    let commit = FileCommit {
        branch: "main".to_owned(),
        message: "chore: x".to_owned(),
        files: vec![("docs/a.txt".to_owned(), "a\n".to_owned())],
        author: None,
    };
    let outcome = f
        .run(f.gh().commit_files(&f.repo, &commit))
        .expect("committed on the second try");
    assert!(outcome.created);
    assert_eq!(f.hits("PATCH", "/git/refs/heads/main"), 2);
    assert_eq!(
        f.hits("GET", "/git/ref/heads/main"),
        2,
        "the head was read again"
    );

    f.server.add_fault(
        Fault::respond(422, "Update is not a fast forward")
            .on("PATCH", route)
            .times(3),
    );
    let err = f
        .run(f.gh().commit_files(
            &f.repo,
            &FileCommit {
                files: vec![("docs/b.txt".to_owned(), "b\n".to_owned())],
                ..commit
            },
        ))
        .expect_err("keeps moving");
    assert!(
        matches!(err, Error::BranchMoved { attempts: 3, .. }),
        "{err}"
    );
}

#[test]
fn github_enterprise_api_urls_work() {
    let Some(f) = Fixture::start_with(Options {
        path_prefix: "/api/v3".to_owned(),
        repositories: vec![REPO.to_owned()],
        ..Options::default()
    }) else {
        return;
    };
    assert!(f.gh().api_url().ends_with("/api/v3"));
    let thread = Thread::PullRequest(1);
    f.run(
        f.gh()
            .upsert_sticky_comment(&f.repo, thread.clone(), "rollback", "rolled back"),
    )
    .expect("created");
    for n in 0..120 {
        f.server
            .seed_comment(REPO, 1, "mona", &format!("c{n}"))
            .expect("seeded");
    }
    // 121 comments: two pages of 100, the second reached through the Link header.
    let all = f
        .run(f.gh().list_comments(&f.repo, thread.clone()))
        .expect("listed");
    assert_eq!(all.len(), 121);
    assert!(
        f.server
            .requests()
            .iter()
            .all(|r| r.path.starts_with("/api/v3/"))
    );
}

#[test]
fn the_token_never_appears_in_errors_debug_output_or_the_standin() {
    let Some(f) = Fixture::start() else { return };
    let mut texts = vec![format!("{:?}", f.client), format!("{:?}", f.gh())];
    let mut record = |err: Error| {
        texts.push(err.to_string());
        texts.push(format!("{err:?}"));
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            texts.push(cause.to_string());
            texts.push(format!("{cause:?}"));
            source = cause.source();
        }
    };
    f.server.add_fault(Fault::forbidden_writes());
    record(
        f.run(f.gh().create_comment(&f.repo, Thread::Issue(1), "x"))
            .expect_err("forbidden"),
    );
    f.server.clear_faults();
    let missing: Repository = "octo/missing".parse().expect("a repository");
    record(
        f.run(f.gh().create_comment(&missing, Thread::Issue(1), "x"))
            .expect_err("not found"),
    );
    f.server.add_fault(
        Fault::rate_limit_reset(403, 3_600).on("GET", "/repos/{owner}/{repo}/git/ref/{ref}"),
    );
    record(
        f.run(f.gh().get_ref(&f.repo, "heads/main"))
            .expect_err("rate limited"),
    );
    f.server.add_fault(Fault::server_error(502).times(5));
    record(
        f.run(f.gh().get_ref(&f.repo, "heads/main"))
            .expect_err("server error"),
    );
    f.server.clear_faults();

    // A closed port: a transport error from octocrab/hyper.
    let port = hub_testkit::http::free_port();
    let unreachable = client_for(
        &format!("http://127.0.0.1:{port}"),
        Some(TOKEN),
        &f.clock,
        100,
    );
    record(
        unreachable
            .block_on(unreachable.github().get_ref(&f.repo, "heads/main"))
            .expect_err("unreachable"),
    );
    texts.push(format!("{unreachable:?}"));

    let config = GitHubConfig::new(f.server.url())
        .expect("a URL")
        .with_token_input(Some(TOKEN));
    texts.push(format!("{config:?}"));
    texts.push(format!("{:?}", f.server.requests()));
    texts.push(f.server.state().to_string());
    texts.push(format!("{:?}", f.server.violations()));

    assert!(texts.len() > 12);
    for text in &texts {
        assert!(!text.contains(TOKEN), "the token leaked into: {text}");
        assert!(
            !text.contains("TOKENvalue"),
            "part of the token leaked into: {text}"
        );
    }
    assert!(f.server.requests().iter().all(|r| r.authenticated));
}
