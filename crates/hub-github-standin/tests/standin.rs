//! The stand-in over real HTTP on 127.0.0.1, checked against GitHub's description.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use hub_github_standin::test_support::{TestServer, spec_from_env};
use hub_github_standin::{
    Fault, GitBytes, GitImport, GitObject, Options, Spec, StandIn, ViolationKind,
    read_git_repository,
};
use serde_json::{Value, json};

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
}

/// A minimal HTTP/1.1 exchange (one request per connection).
fn http(base: &str, method: &str, path: &str, body: Option<&Value>) -> Reply {
    let payload = body.map(Value::to_string).unwrap_or_default();
    http_raw(base, method, path, "application/json", payload.as_bytes())
}

/// As [`http`], with a raw body of `content_type`.
fn http_raw(base: &str, method: &str, path: &str, content_type: &str, payload: &[u8]) -> Reply {
    let authority = base
        .strip_prefix("http://")
        .expect("http base")
        .split('/')
        .next()
        .expect("authority");
    let prefix = base
        .strip_prefix("http://")
        .and_then(|rest| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or("");
    let mut stream = TcpStream::connect(authority).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let request = format!(
        "{method} {prefix}{path} HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Bearer ghs_test_token\r\nUser-Agent: test\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        payload.len()
    );
    stream.write_all(request.as_bytes()).expect("writes");
    stream.write_all(payload).expect("writes");
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    reader.read_line(&mut status_line).expect("status line");
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("header line");
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').expect("a header");
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let mut body = String::new();
    reader.read_to_string(&mut body).expect("body");
    Reply {
        status,
        headers,
        body,
    }
}

#[test]
fn comments_page_with_link_headers() {
    let Some(server) = TestServer::start(&["octo/hello"]) else {
        return;
    };
    for n in 0..5 {
        let reply = http(
            server.url(),
            "POST",
            "/repos/octo/hello/issues/7/comments",
            Some(&json!({ "body": format!("comment {n}") })),
        );
        assert_eq!(reply.status, 201, "{}", reply.body);
        assert!(reply.header("location").is_some());
    }
    let first = http(
        server.url(),
        "GET",
        "/repos/octo/hello/issues/7/comments?per_page=2",
        None,
    );
    assert_eq!(first.status, 200);
    assert_eq!(first.json().as_array().map(Vec::len), Some(2));
    let link = first.header("link").expect("a Link header");
    assert!(link.contains("page=2>; rel=\"next\""), "{link}");
    assert!(link.contains("page=3>; rel=\"last\""), "{link}");
    let last = http(
        server.url(),
        "GET",
        "/repos/octo/hello/issues/7/comments?per_page=2&page=3",
        None,
    );
    assert_eq!(last.json()[0]["body"], "comment 4");
    assert!(!last.header("link").unwrap_or("").contains("rel=\"next\""));
    assert_eq!(server.requests().len(), 7);
    assert!(server.requests().iter().all(|r| r.authenticated));
}

#[test]
fn unknown_routes_unserved_operations_and_bad_requests_are_recorded() {
    let Some(server) = TestServer::start(&["octo/hello"]) else {
        return;
    };
    assert_eq!(
        http(server.url(), "GET", "/repos/octo/hello/no-such-thing", None).status,
        404
    );
    assert_eq!(
        http(server.url(), "GET", "/repos/octo/hello/issues", None).status,
        404
    );
    let bad = http(
        server.url(),
        "POST",
        "/repos/octo/hello/issues/1/comments",
        Some(&json!({ "body": 42 })),
    );
    assert_eq!(bad.status, 422);
    let unknown_query = http(
        server.url(),
        "GET",
        "/repos/octo/hello/issues/1/comments?sort=desc",
        None,
    );
    assert_eq!(unknown_query.status, 422);
    let kinds: Vec<ViolationKind> = server.violations().iter().map(|v| v.kind).collect();
    assert_eq!(
        kinds,
        [
            ViolationKind::UnknownRoute,
            ViolationKind::Unimplemented,
            ViolationKind::Request,
            ViolationKind::Request
        ]
    );
    let over_http = http(server.url(), "GET", "/_standin/violations", None).json();
    assert_eq!(over_http.as_array().map(Vec::len), Some(4));
    assert!(
        server.violations()[2].problems[0].contains("/body"),
        "{:?}",
        server.violations()[2]
    );
    // Expected violations: clear them so the drop check passes.
    http(server.url(), "DELETE", "/_standin/violations", None);
}

#[test]
fn a_test_server_with_violations_fails_when_dropped() {
    let Some(server) = TestServer::start(&["octo/hello"]) else {
        return;
    };
    http(server.url(), "GET", "/nowhere", None);
    let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(server)));
    assert!(dropped.is_err(), "the violation must fail the test");
}

#[test]
fn responses_that_break_the_description_are_recorded() {
    let Some(spec) = spec_from_env() else {
        return;
    };
    let path = std::env::var_os("HUB_GITHUB_OPENAPI").expect("set when the spec loaded");
    let file = Spec::locate(std::path::Path::new(&path)).expect("located");
    let mut doc: Value =
        serde_json::from_slice(&std::fs::read(file).expect("readable")).expect("JSON");
    drop(spec);
    // A stricter `git-ref` than GitHub's: every response of the stand-in now breaks it.
    doc["components"]["schemas"]["git-ref"]["required"]
        .as_array_mut()
        .expect("required list")
        .push(json!("bogus"));
    let strict = Spec::from_value(doc).expect("still OpenAPI");
    let standin = StandIn::start(Options {
        spec: Some(std::sync::Arc::new(strict)),
        repositories: vec!["octo/hello".to_owned()],
        ..Options::default()
    })
    .expect("starts");
    let reply = http(
        standin.url(),
        "GET",
        "/repos/octo/hello/git/ref/heads/main",
        None,
    );
    assert_eq!(reply.status, 200);
    let violations = standin.violations();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].kind, ViolationKind::Response);
    assert!(
        violations[0].problems[0].contains("bogus"),
        "{:?}",
        violations[0]
    );
}

#[test]
fn faults_are_injected_and_then_pass() {
    let Some(server) = TestServer::start(&["octo/hello"]) else {
        return;
    };
    let route = "/repos/{owner}/{repo}/git/ref/{ref}";
    server.add_fault(Fault::rate_limit_retry_after(429, 3).on("GET", route));
    server.add_fault(Fault::rate_limit_reset(403, 60).on("GET", route));
    server.add_fault(Fault::server_error(502).on("GET", route));
    let path = "/repos/octo/hello/git/ref/heads/main";
    let limited = http(server.url(), "GET", path, None);
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("retry-after"), Some("3"));
    let reset = http(server.url(), "GET", path, None);
    assert_eq!(reset.status, 403);
    assert_eq!(reset.header("x-ratelimit-remaining"), Some("0"));
    assert!(reset.header("x-ratelimit-reset").is_some());
    assert_eq!(http(server.url(), "GET", path, None).status, 502);
    assert_eq!(http(server.url(), "GET", path, None).status, 200);

    let forbidden = http(
        server.url(),
        "POST",
        "/_standin/faults",
        Some(&json!({ "kind": "forbidden" })),
    );
    assert_eq!(forbidden.status, 200);
    let refused = http(
        server.url(),
        "POST",
        "/repos/octo/hello/issues/1/comments",
        Some(&json!({ "body": "x" })),
    );
    assert_eq!(refused.status, 403);
    assert_eq!(
        refused.json()["message"],
        "Resource not accessible by integration"
    );
    assert_eq!(http(server.url(), "GET", path, None).status, 200);
    http(server.url(), "DELETE", "/_standin/faults", None);
    let allowed = http(
        server.url(),
        "POST",
        "/repos/octo/hello/issues/1/comments",
        Some(&json!({ "body": "x" })),
    );
    assert_eq!(allowed.status, 201);
}

#[test]
fn releases_create_their_tag_and_refuse_duplicates() {
    let Some(server) = TestServer::start(&["octo/hello"]) else {
        return;
    };
    let created = http(
        server.url(),
        "POST",
        "/repos/octo/hello/releases",
        Some(&json!({ "tag_name": "v1.0.0", "name": "v1.0.0", "body": "notes" })),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let tag = http(
        server.url(),
        "GET",
        "/repos/octo/hello/git/ref/tags/v1.0.0",
        None,
    );
    assert_eq!(tag.status, 200);
    let again = http(
        server.url(),
        "POST",
        "/repos/octo/hello/releases",
        Some(&json!({ "tag_name": "v1.0.0" })),
    );
    assert_eq!(again.status, 422);
    assert_eq!(again.json()["errors"][0]["code"], "already_exists");
    let found = http(
        server.url(),
        "GET",
        "/repos/octo/hello/releases/tags/v1.0.0",
        None,
    );
    assert_eq!(found.json()["id"], created.json()["id"]);
    let state = server.state();
    assert_eq!(
        state["repositories"]["octo/hello"]["releases"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[test]
fn release_assets_upload_list_download_and_delete() {
    let Some(server) = TestServer::start(&["octo/hello"]) else {
        return;
    };
    let release = http(
        server.url(),
        "POST",
        "/repos/octo/hello/releases",
        Some(&json!({ "tag_name": "v1.0.0" })),
    )
    .json();
    // Uploads go to the release's `upload_url` (a URI template), as on GitHub.
    let upload = release["upload_url"]
        .as_str()
        .expect("upload_url")
        .strip_suffix("{?name,label}")
        .expect("a name/label template")
        .strip_prefix(server.url())
        .expect("on the stand-in")
        .to_owned();
    let bytes = b"archive bytes\n";
    let put = |name: &str| {
        http_raw(
            server.url(),
            "POST",
            &format!("{upload}?name={name}"),
            "application/gzip",
            bytes,
        )
    };
    let asset = put("app-1.0.0.tar.gz");
    assert_eq!(asset.status, 201, "{}", asset.body);
    let asset = asset.json();
    assert_eq!(asset["size"], bytes.len());
    assert_eq!(asset["content_type"], "application/gzip");
    assert_eq!(asset["digest"], format!("sha256:{}", sha256_hex(bytes)));
    // One asset per name.
    let again = put("app-1.0.0.tar.gz");
    assert_eq!(again.status, 422, "{}", again.body);
    let id = release["id"].as_u64().expect("id");
    let listed = http(
        server.url(),
        "GET",
        &format!("/repos/octo/hello/releases/{id}/assets"),
        None,
    );
    assert_eq!(listed.json()[0]["name"], "app-1.0.0.tar.gz");
    let by_tag = http(
        server.url(),
        "GET",
        "/repos/octo/hello/releases/tags/v1.0.0",
        None,
    )
    .json();
    assert_eq!(by_tag["assets"][0]["id"], asset["id"]);
    // The web origin serves the file at its browser_download_url.
    let url = asset["browser_download_url"].as_str().expect("url");
    assert!(
        url.ends_with("/octo/hello/releases/download/v1.0.0/app-1.0.0.tar.gz"),
        "{url}"
    );
    let download = http(
        server.url(),
        "GET",
        url.strip_prefix(server.url()).expect("local"),
        None,
    );
    assert_eq!(
        (download.status, download.body.as_bytes()),
        (200, &bytes[..])
    );
    let asset_id = asset["id"].as_u64().expect("asset id");
    let gone = http(
        server.url(),
        "DELETE",
        &format!("/repos/octo/hello/releases/assets/{asset_id}"),
        None,
    );
    assert_eq!(gone.status, 204, "{}", gone.body);
    assert_eq!(
        http(
            server.url(),
            "GET",
            url.strip_prefix(server.url()).expect("local"),
            None
        )
        .status,
        404
    );
    assert_eq!(put("app-1.0.0.tar.gz").status, 201);
}

fn sha256_hex(bytes: &[u8]) -> String {
    let mut child = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("sha256sum runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(bytes)
        .expect("writes");
    let out = child.wait_with_output().expect("sha256sum");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .expect("a hash")
        .to_owned()
}

#[test]
fn deployment_statuses_inactivate_prior_successes() {
    let Some(server) = TestServer::start(&["octo/hello"]) else {
        return;
    };
    let deploy = |env: &str| {
        let reply = http(
            server.url(),
            "POST",
            "/repos/octo/hello/deployments",
            Some(
                &json!({ "ref": "main", "environment": env, "auto_merge": false,
                          "required_contexts": [], "payload": { "version": "1.0.0" } }),
            ),
        );
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.json()["id"].as_u64().expect("an id")
    };
    let succeed = |id: u64| {
        let reply = http(
            server.url(),
            "POST",
            &format!("/repos/octo/hello/deployments/{id}/statuses"),
            Some(&json!({ "state": "success", "log_url": "http://127.0.0.1/log" })),
        );
        assert_eq!(reply.status, 201, "{}", reply.body);
        assert_eq!(reply.json()["target_url"], "http://127.0.0.1/log");
    };
    let latest = |id: u64| {
        http(
            server.url(),
            "GET",
            &format!("/repos/octo/hello/deployments/{id}/statuses"),
            None,
        )
        .json()[0]["state"]
            .clone()
    };
    let (old, other, new) = (deploy("staging"), deploy("qa"), deploy("staging"));
    succeed(old);
    succeed(other);
    succeed(new);
    assert_eq!(latest(old), "inactive");
    assert_eq!(latest(other), "success");
    assert_eq!(latest(new), "success");
    // Production deployments are not inactivated (as the description says).
    let (p1, p2) = (deploy("production"), deploy("production"));
    succeed(p1);
    succeed(p2);
    assert_eq!(latest(p1), "success");

    let listed = http(
        server.url(),
        "GET",
        "/repos/octo/hello/deployments?environment=staging",
        None,
    );
    assert_eq!(listed.json().as_array().map(Vec::len), Some(2));
}

#[test]
fn git_data_objects_have_git_object_ids() {
    let Some(server) = TestServer::start(&["octo/hello"]) else {
        return;
    };
    let url = server.url();
    let head =
        http(url, "GET", "/repos/octo/hello/git/ref/heads/main", None).json()["object"]["sha"]
            .as_str()
            .expect("sha")
            .to_owned();
    let blob = http(
        url,
        "POST",
        "/repos/octo/hello/git/blobs",
        Some(&json!({ "content": "hello\n", "encoding": "utf-8" })),
    );
    assert_eq!(
        blob.json()["sha"],
        "ce013625030ba8dba906f756967f9e9ca394464a"
    );
    let base = http(
        url,
        "GET",
        &format!("/repos/octo/hello/git/commits/{head}"),
        None,
    )
    .json()["tree"]["sha"]
        .clone();
    let tree = http(
        url,
        "POST",
        "/repos/octo/hello/git/trees",
        Some(&json!({ "base_tree": base, "tree": [
            { "path": "docs/CHANGELOG.md", "mode": "100644", "type": "blob",
              "sha": "ce013625030ba8dba906f756967f9e9ca394464a" } ] })),
    );
    assert_eq!(tree.status, 201, "{}", tree.body);
    let commit = http(
        url,
        "POST",
        "/repos/octo/hello/git/commits",
        Some(
            &json!({ "message": "docs: changelog", "tree": tree.json()["sha"], "parents": [head],
                      "author": { "name": "A", "email": "a@example.com", "date": "2026-01-02T03:04:05Z" } }),
        ),
    );
    assert_eq!(commit.status, 201, "{}", commit.body);
    let sha = commit.json()["sha"].as_str().expect("sha").to_owned();
    let moved = http(
        url,
        "PATCH",
        "/repos/octo/hello/git/refs/heads/main",
        Some(&json!({ "sha": sha, "force": false })),
    );
    assert_eq!(moved.status, 200, "{}", moved.body);
    let back = http(
        url,
        "PATCH",
        "/repos/octo/hello/git/refs/heads/main",
        Some(&json!({ "sha": head })),
    );
    assert_eq!(back.status, 422, "not a fast forward");
    let files = &server.state()["repositories"]["octo/hello"]["head_files"];
    assert_eq!(files["docs/CHANGELOG.md"], "hello\n");
    assert_eq!(files["README.md"], "# hello\n");

    // The same tree built by git itself has the same id.
    if let Some(git_tree) =
        git_tree_of(&[("README.md", "# hello\n"), ("docs/CHANGELOG.md", "hello\n")])
    {
        assert_eq!(tree.json()["sha"], git_tree.as_str());
    }
}

/// The tree id `git` computes for these files, or `None` when git is not installed.
fn git_tree_of(files: &[(&str, &str)]) -> Option<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    git(&["init", "-q"])?;
    for (path, content) in files {
        let file = dir.path().join(path);
        std::fs::create_dir_all(file.parent().expect("a parent")).expect("dirs");
        std::fs::write(&file, content).expect("file");
        git(&["add", path])?;
    }
    git(&["write-tree"])
}

#[test]
fn seeding_state_dump_and_shutdown_over_http() {
    let Some(server) = TestServer::start(&[]) else {
        return;
    };
    let url = server.url();
    assert_eq!(
        http(
            url,
            "POST",
            "/_standin/repos",
            Some(&json!({ "repository": "octo/seeded" }))
        )
        .status,
        200
    );
    let pushed = http(
        url,
        "POST",
        "/_standin/repos/octo/seeded/commits",
        Some(&json!({ "commits": [
            { "message": "feat: one", "author": { "name": "Mona", "email": "mona@example.com", "login": "mona" } },
            { "message": "fix: two", "files": { "src/lib.rs": "fn main() {}\n" } } ] })),
    )
    .json();
    let shas = pushed["shas"].as_array().expect("shas").clone();
    assert_eq!(shas.len(), 2);
    assert_eq!(
        http(
            url,
            "PUT",
            "/_standin/repos/octo/seeded/pulls/3",
            Some(&json!({ "commits": shas }))
        )
        .status,
        200
    );
    let commits = http(url, "GET", "/repos/octo/seeded/pulls/3/commits", None).json();
    assert_eq!(commits[0]["author"]["login"], "mona");
    assert_eq!(commits[1]["author"], Value::Null);
    assert_eq!(commits[1]["commit"]["message"], "fix: two");
    let one = http(
        url,
        "GET",
        &format!(
            "/repos/octo/seeded/commits/{}",
            shas[0].as_str().expect("sha")
        ),
        None,
    )
    .json();
    assert_eq!(one["author"]["login"], "mona");
    let state = http(url, "GET", "/_standin/state", None).json();
    assert_eq!(
        state["repositories"]["octo/seeded"]["head_files"]["src/lib.rs"],
        "fn main() {}\n"
    );
    assert_eq!(http(url, "POST", "/_standin/shutdown", None).status, 200);
}

#[test]
fn an_enterprise_path_prefix_is_served() {
    let Some(server) = TestServer::start_with(Options {
        path_prefix: "/api/v3".to_owned(),
        repositories: vec!["octo/hello".to_owned()],
        ..Options::default()
    }) else {
        return;
    };
    assert!(server.url().ends_with("/api/v3"));
    let reply = http(
        server.url(),
        "GET",
        "/repos/octo/hello/git/ref/heads/main",
        None,
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(
        reply.json()["url"]
            .as_str()
            .is_some_and(|u| u.contains("/api/v3/repos/"))
    );
}

#[test]
fn the_binary_reports_its_port_and_stops_on_request() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port_file = dir.path().join("port");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hub-github-standin"))
        .args([
            "--no-validate",
            "--repo",
            "octo/hello",
            "--idle-seconds",
            "30",
            "--port-file",
        ])
        .arg(&port_file)
        .env_remove("HUB_GITHUB_OPENAPI")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("a first line");
    let port: u16 = std::fs::read_to_string(&port_file)
        .expect("port file")
        .trim()
        .parse()
        .expect("a port");
    assert_eq!(line.trim(), format!("listening on http://127.0.0.1:{port}"));
    let base = format!("http://127.0.0.1:{port}");
    assert_eq!(
        http(&base, "GET", "/repos/octo/hello/git/ref/heads/main", None).status,
        200
    );
    assert_eq!(http(&base, "POST", "/_standin/shutdown", None).status, 200);
    let status = child.wait().expect("exits");
    assert!(status.success(), "{status:?}");
}

#[test]
fn the_binary_stops_by_itself_when_idle() {
    let Some(_) = spec_from_env() else {
        return;
    };
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_hub-github-standin"))
        .args(["--idle-seconds", "0", "--max-seconds", "5"])
        .output()
        .expect("runs");
    // Idle from the start: it stops by itself, with nothing to report.
    assert!(output.status.success(), "{output:?}");
}

#[test]
fn the_binary_exits_with_3_and_lists_violations() {
    let Some(_) = spec_from_env() else {
        return;
    };
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hub-github-standin"))
        .args(["--repo", "octo/hello", "--idle-seconds", "30"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("a first line");
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .expect("the announced URL")
        .to_owned();
    assert_eq!(
        http(&base, "GET", "/repos/octo/hello/nothing", None).status,
        404
    );
    assert_eq!(http(&base, "POST", "/_standin/shutdown", None).status, 200);
    let output = child.wait_with_output().expect("exits");
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("unknown route: `GET /repos/octo/hello/nothing`"),
        "{stderr}"
    );
}

mod local_git;

fn b64(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .expect("Base64")
}

#[test]
fn a_local_repository_is_mirrored_with_the_same_ids_and_refs() {
    let Some(server) = TestServer::start(&[]) else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let local = dir.path();
    let shas = local_git::build(local);
    let summary = server.import_git("o/r", local).expect("imports");

    let all = local_git::git(
        local,
        &["cat-file", "--batch-all-objects", "--batch-check"],
        &[],
    );
    assert_eq!(summary.objects, all.lines().count());
    assert_eq!(summary.new_objects, summary.objects);
    assert_eq!(summary.tags, 1);
    assert_eq!(summary.default_branch, "main");
    let local_refs: std::collections::BTreeMap<String, String> = local_git::git(
        local,
        &["for-each-ref", "--format=%(refname) %(objectname)"],
        &[],
    )
    .lines()
    .filter_map(|l| l.split_once(' '))
    .map(|(n, s)| (n.to_owned(), s.to_owned()))
    .collect();
    assert_eq!(summary.refs, local_refs);
    assert_eq!(
        summary.refs.keys().collect::<Vec<_>>(),
        [
            "refs/heads/feature",
            "refs/heads/main",
            "refs/heads/signed",
            "refs/tags/v0.1.0",
            "refs/tags/v1.0.0"
        ]
    );
    let base = server.url().to_owned();
    let get = |path: &str| {
        let reply = http(&base, "GET", path, None);
        assert_eq!(reply.status, 200, "GET {path}: {}", reply.body);
        reply.json()
    };

    // Refs and the annotated tag, with the local ids.
    let tag_ref = get("/repos/o/r/git/ref/tags/v1.0.0");
    assert_eq!(tag_ref["object"]["sha"], shas["v1.0.0"].as_str());
    assert_eq!(tag_ref["object"]["type"], "tag");
    let tag = get(&format!("/repos/o/r/git/tags/{}", shas["v1.0.0"]));
    assert_eq!(tag["object"]["sha"], shas["merge"].as_str());
    assert_eq!(tag["message"], "Release 1.0.0\n\nFirst release.\n");
    assert_eq!(tag["tagger"]["date"], "2023-11-15T00:21:40+02:00");
    let light = get("/repos/o/r/git/ref/tags/v0.1.0");
    assert_eq!(light["object"]["sha"], shas["initial"].as_str());
    assert_eq!(light["object"]["type"], "commit");
    assert_eq!(
        get("/repos/o/r/git/ref/heads/main")["object"]["sha"],
        shas["merge"].as_str()
    );

    // Commits: offsets, the merge's parents, messages exactly, extra headers.
    let feature = get(&format!("/repos/o/r/git/commits/{}", shas["feature"]));
    assert_eq!(feature["author"]["date"], "2023-11-15T03:45:00+05:30");
    assert_eq!(feature["committer"]["date"], "2023-11-14T15:16:40-07:00");
    assert_eq!(feature["message"], "docs: grüße aus Indien\n");
    let merge = get(&format!("/repos/o/r/git/commits/{}", shas["merge"]));
    let parents: Vec<&str> = merge["parents"]
        .as_array()
        .expect("parents")
        .iter()
        .filter_map(|p| p["sha"].as_str())
        .collect();
    assert_eq!(
        parents,
        [shas["verbatim"].as_str(), shas["feature"].as_str()]
    );
    let verbatim = get(&format!("/repos/o/r/git/commits/{}", shas["verbatim"]));
    assert_eq!(
        verbatim["message"],
        "chore: a message without a final line break"
    );
    let latin1 = get(&format!("/repos/o/r/git/commits/{}", shas["latin1"]));
    assert_eq!(
        latin1["message"],
        "fix: Gr\u{fffd}\u{fffd}e in ISO-8859-1\n"
    );
    assert_eq!(
        get("/repos/o/r/git/ref/heads/signed")["object"]["sha"],
        shas["signed"].as_str()
    );

    // The non-ASCII file, byte for byte, and the tree as git lists it.
    let blob_sha = local_git::git(
        local,
        &["rev-parse", &format!("feature:{}", local_git::UNICODE_PATH)],
        &[],
    );
    let blob = get(&format!("/repos/o/r/git/blobs/{blob_sha}"));
    assert_eq!(
        b64(blob["content"].as_str().expect("content")),
        local_git::UNICODE_TEXT.as_bytes()
    );
    let tree_sha = local_git::git(local, &["rev-parse", "main^{tree}"], &[]);
    let tree = get(&format!("/repos/o/r/git/trees/{tree_sha}?recursive=1"));
    let mut listed: Vec<String> = tree["tree"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["sha"].as_str().unwrap_or(""),
                e["path"].as_str().unwrap_or("")
            )
        })
        .collect();
    listed.sort();
    let mut expected: Vec<String> = local_git::git(
        local,
        &[
            "-c",
            "core.quotePath=false",
            "ls-tree",
            "-r",
            "-t",
            "-z",
            "--format=%(objectname) %(path)",
            "main",
        ],
        &[],
    )
    .split('\0')
    .filter(|l| !l.is_empty())
    .map(str::to_owned)
    .collect();
    expected.sort();
    assert_eq!(listed, expected);

    // Writes on top of the mirror: a release of a local commit, a tag moved to a local sha,
    // a deployment of a local sha.
    let release = http(
        &base,
        "POST",
        "/repos/o/r/releases",
        Some(&json!({ "tag_name": "v2.0.0", "target_commitish": shas["feature"] })),
    );
    assert_eq!(release.status, 201, "{}", release.body);
    assert_eq!(
        get("/repos/o/r/git/ref/tags/v2.0.0")["object"]["sha"],
        shas["feature"].as_str()
    );
    let created = http(
        &base,
        "POST",
        "/repos/o/r/git/refs",
        Some(&json!({ "ref": "refs/tags/v1", "sha": shas["initial"] })),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let moved = http(
        &base,
        "PATCH",
        "/repos/o/r/git/refs/tags/v1",
        Some(&json!({ "sha": shas["merge"], "force": true })),
    );
    assert_eq!(moved.status, 200, "{}", moved.body);
    let deployment = http(
        &base,
        "POST",
        "/repos/o/r/deployments",
        Some(
            &json!({ "ref": shas["verbatim"], "environment": "staging", "auto_merge": false, "required_contexts": [] }),
        ),
    );
    assert_eq!(deployment.status, 201, "{}", deployment.body);
    assert_eq!(deployment.json()["sha"], shas["verbatim"].as_str());

    // A tree on an imported tree is the tree git writes for the same change.
    let new_tree = http(
        &base,
        "POST",
        "/repos/o/r/git/trees",
        Some(&json!({ "base_tree": tree_sha, "tree": [
            { "path": "docs/CHANGELOG.md", "mode": "100644", "type": "blob", "content": "# Changes\n" }
        ] })),
    );
    assert_eq!(new_tree.status, 201, "{}", new_tree.body);
    let index = dir.path().join("scratch-index");
    let index = index.to_str().expect("UTF-8 path");
    let blob = local_git::git_with_input(
        local,
        &["hash-object", "-w", "--stdin"],
        &[],
        Some(b"# Changes\n"),
    );
    local_git::git(local, &["read-tree", "main"], &[("GIT_INDEX_FILE", index)]);
    local_git::git(
        local,
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("100644,{blob},docs/CHANGELOG.md"),
        ],
        &[("GIT_INDEX_FILE", index)],
    );
    let expected_tree = local_git::git(local, &["write-tree"], &[("GIT_INDEX_FILE", index)]);
    assert_eq!(new_tree.json()["sha"], expected_tree.as_str());
    server.assert_conforms();
}

#[test]
fn imports_that_do_not_match_their_ids_are_refused_over_http() {
    let Some(server) = TestServer::start(&["o/r"]) else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let shas = local_git::build(dir.path());
    let import = read_git_repository(dir.path()).expect("reads");
    let base = server.url().to_owned();
    let post = |body: &GitImport, repo: &str| {
        let body = serde_json::to_value(body).expect("JSON");
        http(
            &base,
            "POST",
            &format!("/_standin/repos/o/{repo}/import"),
            Some(&body),
        )
    };
    let before = server.state()["repositories"]["o/r"]["refs"].clone();

    // A blob whose content was changed under its id.
    let readme = local_git::git(dir.path(), &["rev-parse", "main:README.md"], &[]);
    let mut tampered = import.clone();
    let Some(GitObject::Blob { content, .. }) =
        tampered.objects.iter_mut().find(|o| o.sha() == readme)
    else {
        panic!("README's blob is in the import");
    };
    *content = "IyBsb2NhbCEK".to_owned(); // "# local!\n"
    let reply = post(&tampered, "r");
    assert_eq!(reply.status, 400, "{}", reply.body);
    let message = reply.json()["message"].as_str().unwrap_or("").to_owned();
    assert!(
        message.contains(&format!("blob `{readme}` does not match its content")),
        "{message}"
    );

    // A commit whose message lost its final line break.
    let mut tampered = import.clone();
    let Some(GitObject::Commit { message, .. }) = tampered
        .objects
        .iter_mut()
        .find(|o| o.sha() == shas["feature"])
    else {
        panic!("the feature commit is in the import");
    };
    *message = GitBytes::Text("docs: grüße aus Indien".to_owned());
    let reply = post(&tampered, "r");
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.body.contains(&shas["feature"]), "{}", reply.body);

    // An offset that differs by one minute.
    let mut tampered = import.clone();
    let Some(GitObject::Commit { author, .. }) = tampered
        .objects
        .iter_mut()
        .find(|o| o.sha() == shas["feature"])
    else {
        panic!("the feature commit is in the import");
    };
    author.offset = "+0531".to_owned();
    assert_eq!(post(&tampered, "r").status, 400);

    // A ref reaching an object that is not there.
    let head_tree = local_git::git(dir.path(), &["rev-parse", "main^{tree}"], &[]);
    let mut incomplete = import.clone();
    incomplete.objects.retain(|o| o.sha() != head_tree);
    let reply = post(&incomplete, "other");
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(
        reply
            .body
            .contains(&format!("`{head_tree}`, reached from commit")),
        "{}",
        reply.body
    );

    // Nothing of the refused imports was kept; the genuine one then replaces the refs.
    assert_eq!(server.state()["repositories"]["o/r"]["refs"], before);
    assert!(server.state()["repositories"].get("o/other").is_none());
    let reply = post(&import, "r");
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.json()["refs"]["refs/heads/main"],
        shas["merge"].as_str()
    );
    assert_eq!(
        server.state()["repositories"]["o/r"]["refs"]["refs/heads/main"],
        shas["merge"].as_str()
    );
    assert_eq!(
        http(&base, "GET", "/repos/o/r/git/ref/tags/v1.0.0", None).json()["object"]["sha"],
        shas["v1.0.0"].as_str()
    );
    server.assert_conforms();
}

#[test]
fn the_binary_mirrors_repositories_given_with_import() {
    let dir = tempfile::tempdir().expect("temp dir");
    let local = dir.path().join("local");
    std::fs::create_dir(&local).expect("mkdir");
    let shas = local_git::build(&local);
    // A bare `origin` with the pushed branches and tags, as the end-to-end tests have.
    let origin = dir.path().join("origin.git");
    local_git::git(dir.path(), &["init", "-q", "--bare", "origin.git"], &[]);
    local_git::git(
        &local,
        &[
            "push",
            "-q",
            origin.to_str().expect("UTF-8"),
            "main",
            "v1.0.0",
        ],
        &[],
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hub-github-standin"))
        .args(["--no-validate", "--idle-seconds", "30", "--import"])
        .arg(format!("octo/local={}", local.display()))
        .arg("--import")
        .arg(format!("octo/origin={}", origin.display()))
        .env_remove("HUB_GITHUB_OPENAPI")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("a first line");
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .expect("the announced URL")
        .to_owned();
    let sha_of = |path: &str| {
        let reply = http(&base, "GET", path, None);
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        reply.json()["object"]["sha"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };
    assert_eq!(
        sha_of("/repos/octo/local/git/ref/heads/feature"),
        shas["feature"]
    );
    assert_eq!(
        sha_of("/repos/octo/origin/git/ref/heads/main"),
        shas["merge"]
    );
    assert_eq!(
        sha_of("/repos/octo/origin/git/ref/tags/v1.0.0"),
        shas["v1.0.0"]
    );
    assert_eq!(
        http(
            &base,
            "GET",
            "/repos/octo/origin/git/ref/heads/feature",
            None
        )
        .status,
        404
    );
    assert_eq!(http(&base, "POST", "/_standin/shutdown", None).status, 200);
    assert!(child.wait().expect("exits").success());

    // A path that is not a repository stops the binary before it announces anything.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_hub-github-standin"))
        .args(["--no-validate", "--import"])
        .arg(format!(
            "octo/none={}",
            dir.path().join("missing").display()
        ))
        .output()
        .expect("runs");
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("`git cat-file --batch-all-objects --batch` failed"),
        "{stderr}"
    );
}

/// A stand-in that also serves GraphQL, or `None` (after the skip rule) without the schema.
fn graphql_server() -> Option<TestServer> {
    TestServer::start_with_graphql(Options {
        repositories: vec!["octo/hello".to_owned()],
        ..Options::default()
    })
}

const COMMIT_MUTATION: &str = "mutation($input: CreateCommitOnBranchInput!) { createCommitOnBranch(input: $input) { commit { oid url } } }";

fn commit_input(head: &str) -> Value {
    json!({
        "branch": { "repositoryNameWithOwner": "octo/hello", "branchName": "main" },
        "message": { "headline": "docs: two files", "body": "made through GraphQL" },
        "expectedHeadOid": head,
        "fileChanges": {
            "additions": [
                { "path": "docs/a.md", "contents": "YQo=" },
                { "path": "b.txt", "contents": "Ygo=" },
            ],
            "deletions": [{ "path": "README.md" }],
        },
    })
}

#[test]
fn create_commit_on_branch_makes_a_verified_commit_on_the_real_git_state() {
    let Some(server) = graphql_server() else {
        return;
    };
    let head = server.state()["repositories"]["octo/hello"]["refs"]["refs/heads/main"]
        .as_str()
        .expect("main")
        .to_owned();
    let reply = http(
        server.url(),
        "POST",
        "/graphql",
        Some(&json!({ "query": COMMIT_MUTATION, "variables": { "input": commit_input(&head) } })),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body = reply.json();
    assert!(body.get("errors").is_none(), "{body}");
    let oid = body["data"]["createCommitOnBranch"]["commit"]["oid"]
        .as_str()
        .expect("an oid")
        .to_owned();
    // Only what was selected comes back.
    assert_eq!(
        body["data"]["createCommitOnBranch"]["commit"]
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["oid".to_owned(), "url".to_owned()])
    );
    let state = server.state();
    let repo = &state["repositories"]["octo/hello"];
    assert_eq!(repo["refs"]["refs/heads/main"], oid.as_str());
    assert_eq!(repo["head_files"]["docs/a.md"], "a\n");
    assert_eq!(repo["head_files"]["b.txt"], "b\n");
    assert!(repo["head_files"].get("README.md").is_none());
    assert_eq!(repo["commits"][&oid]["parents"][0], head.as_str());
    // The oid is the git object id of the commit: GET it back through REST, verified.
    let commit = http(
        server.url(),
        "GET",
        &format!("/repos/octo/hello/commits/{oid}"),
        None,
    )
    .json();
    assert_eq!(commit["sha"], oid.as_str());
    assert_eq!(commit["commit"]["verification"]["verified"], true);
    assert_eq!(
        commit["commit"]["message"],
        "docs: two files\n\nmade through GraphQL"
    );

    // The old head is stale now: STALE_DATA, nothing moves.
    let stale = http(
        server.url(),
        "POST",
        "/graphql",
        Some(&json!({ "query": COMMIT_MUTATION, "variables": { "input": commit_input(&head) } })),
    )
    .json();
    assert_eq!(stale["errors"][0]["type"], "STALE_DATA", "{stale}");
    assert_eq!(stale["data"]["createCommitOnBranch"], Value::Null);
    assert_eq!(
        server.state()["repositories"]["octo/hello"]["refs"]["refs/heads/main"],
        oid.as_str()
    );
}

#[test]
fn graphql_documents_are_validated_against_github_schema() {
    let Some(server) = graphql_server() else {
        return;
    };
    let head = server.state()["repositories"]["octo/hello"]["refs"]["refs/heads/main"]
        .as_str()
        .expect("main")
        .to_owned();
    let cases = [
        // A misspelt field of `Commit`.
        (
            "mutation($input: CreateCommitOnBranchInput!) { createCommitOnBranch(input: $input) { commit { oidd } } }",
            json!({ "input": commit_input(&head) }),
            "oidd",
        ),
        // A variable whose declared type is not the argument's input type.
        (
            "mutation($input: String!) { createCommitOnBranch(input: $input) { commit { oid } } }",
            json!({ "input": "x" }),
            "CreateCommitOnBranchInput",
        ),
        // An argument the field does not have.
        (
            "mutation($input: CreateCommitOnBranchInput!) { createCommitOnBranch(input: $input, force: true) { commit { oid } } }",
            json!({ "input": commit_input(&head) }),
            "force",
        ),
        // A field of the input object that does not exist (in the variables).
        (
            COMMIT_MUTATION,
            json!({ "input": { "branch": { "repositoryNameWithOwner": "octo/hello", "branchName": "main" }, "message": { "headline": "x", "title": "y" }, "expectedHeadOid": head, "fileChanges": {} } }),
            "title",
        ),
        // An inline input object with a field that does not exist.
        (
            "mutation { createCommitOnBranch(input: { branch: { branchName: \"main\", repo: \"octo/hello\" }, message: { headline: \"x\" }, expectedHeadOid: \"0\" }) { commit { oid } } }",
            json!({}),
            "repo",
        ),
    ];
    for (index, (query, variables, named)) in cases.iter().enumerate() {
        let reply = http(
            server.url(),
            "POST",
            "/graphql",
            Some(&json!({ "query": query, "variables": variables })),
        )
        .json();
        assert!(reply.get("data").is_none(), "case {index}: {reply}");
        let violations = server.violations();
        assert_eq!(violations.len(), index + 1, "case {index}: {violations:?}");
        let last = &violations[index];
        assert_eq!(last.kind, ViolationKind::Graphql);
        assert!(
            last.problems.iter().any(|p| p.contains(named)),
            "case {index} should name `{named}`: {:?}",
            last.problems
        );
    }
    // Nothing was committed by the invalid documents.
    assert_eq!(
        server.state()["repositories"]["octo/hello"]["refs"]["refs/heads/main"],
        head.as_str()
    );
    // Expected violations: clear them so the drop check passes.
    http(server.url(), "DELETE", "/_standin/violations", None);
}

#[test]
fn pull_requests_are_created_listed_merged_and_found_from_their_merge_commit() {
    let Some(server) = TestServer::start(&["octo/hello"]) else {
        return;
    };
    server
        .push_commits(
            "octo/hello",
            "feature",
            vec![hub_github_standin::CommitSeed {
                message: "feat: x".to_owned(),
                author: None,
                files: [("x.txt".to_owned(), "x\n".to_owned())].into(),
            }],
        )
        .expect("pushes");
    let created = http(
        server.url(),
        "POST",
        "/repos/octo/hello/pulls",
        Some(
            &json!({ "title": "feat: x", "head": "feature", "base": "main", "body": "<!-- m -->" }),
        ),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let number = created.json()["number"].as_u64().expect("a number");
    let duplicate = http(
        server.url(),
        "POST",
        "/repos/octo/hello/pulls",
        Some(&json!({ "title": "again", "head": "feature", "base": "main" })),
    );
    assert_eq!(duplicate.status, 422);
    let listed = http(
        server.url(),
        "GET",
        "/repos/octo/hello/pulls?head=octo:feature",
        None,
    )
    .json();
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    let commits = http(
        server.url(),
        "GET",
        &format!("/repos/octo/hello/pulls/{number}/commits"),
        None,
    )
    .json();
    assert_eq!(commits.as_array().map(Vec::len), Some(1));
    let merged = http(
        server.url(),
        "PUT",
        &format!("/repos/octo/hello/pulls/{number}/merge"),
        Some(&json!({ "merge_method": "merge" })),
    );
    assert_eq!(merged.status, 200, "{}", merged.body);
    let sha = merged.json()["sha"].as_str().expect("a sha").to_owned();
    let state = server.state();
    assert_eq!(
        state["repositories"]["octo/hello"]["refs"]["refs/heads/main"],
        sha.as_str()
    );
    assert_eq!(
        state["repositories"]["octo/hello"]["commits"][&sha]["parents"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    let pulls = http(
        server.url(),
        "GET",
        &format!("/repos/octo/hello/commits/{sha}/pulls"),
        None,
    )
    .json();
    assert_eq!(pulls[0]["number"], number);
    assert_eq!(pulls[0]["merge_commit_sha"], sha.as_str());
    let again = http(
        server.url(),
        "PUT",
        &format!("/repos/octo/hello/pulls/{number}/merge"),
        Some(&json!({ "merge_method": "merge" })),
    );
    assert_eq!(again.status, 405);
    let full = http(
        server.url(),
        "GET",
        &format!("/repos/octo/hello/pulls/{number}"),
        None,
    )
    .json();
    assert_eq!(
        (full["merged"].as_bool(), full["state"].as_str()),
        (Some(true), Some("closed"))
    );
    assert_eq!(full["commits"], 1);
}

/// A pull request whose base moved on since it was opened is merged as GitHub merges it:
/// a three-way merge of the two heads (git's own `merge-tree`, the same tree), the merge
/// commit on both; a conflict is refused with 405 and moves nothing.
#[test]
fn a_pull_request_behind_its_base_is_merged_three_way_and_a_conflict_is_refused() {
    let Some(server) = TestServer::start(&[]) else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let local = dir.path();
    let git = |args: &[&str]| local_git::git(local, args, &[]);
    let write = |path: &str, text: &str| {
        let file = local.join(path);
        std::fs::create_dir_all(file.parent().expect("a parent")).expect("dirs");
        std::fs::write(file, text).expect("write");
    };
    git(&["init", "-q", "-b", "main"]);
    write("Cargo.toml", "[package]\nversion = \"1.2.0\"\n");
    write("CHANGELOG.md", "# Changelog\n\n## 1.2.0\n\n- a\n");
    write(
        "src/lib.rs",
        "pub fn a() -> u8 {\n    0\n}\n\npub fn b() {}\n",
    );
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "start"]);
    // The pull request's branch: the release files; a conflicting one beside it.
    git(&["checkout", "-q", "-b", "release"]);
    write("Cargo.toml", "[package]\nversion = \"1.3.0\"\n");
    write(
        "CHANGELOG.md",
        "# Changelog\n\n## 1.3.0\n\n- b\n\n## 1.2.0\n\n- a\n",
    );
    git(&["commit", "-q", "-am", "chore: release 1.3.0"]);
    git(&["checkout", "-q", "-b", "clash", "main"]);
    write(
        "src/lib.rs",
        "pub fn a() -> u8 {\n    1\n}\n\npub fn b() {}\n",
    );
    git(&["commit", "-q", "-am", "feat: a"]);
    // main moves on: a new file and an edit of lines the release does not touch.
    git(&["checkout", "-q", "main"]);
    write("src/late.rs", "pub fn late() {}\n");
    write(
        "src/lib.rs",
        "pub fn a() -> u8 {\n    2\n}\n\npub fn b() {}\n",
    );
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "fix: late"]);
    server.import_git("o/r", local).expect("imports");
    let main = git(&["rev-parse", "main"]);
    let release = git(&["rev-parse", "release"]);
    let expected = git(&["merge-tree", "--write-tree", &main, &release]);

    let open = |head: &str| {
        let created = http(
            server.url(),
            "POST",
            "/repos/o/r/pulls",
            Some(&json!({ "title": head, "head": head, "base": "main" })),
        );
        assert_eq!(created.status, 201, "{}", created.body);
        created.json()["number"].as_u64().expect("a number")
    };
    let merge = |number: u64, method: &str| {
        http(
            server.url(),
            "PUT",
            &format!("/repos/o/r/pulls/{number}/merge"),
            Some(&json!({ "merge_method": method })),
        )
    };

    // A conflict: 405, main where it was.
    let clash = open("clash");
    let refused = merge(clash, "merge");
    assert_eq!(refused.status, 405, "{}", refused.body);
    assert_eq!(refused.json()["message"], "Pull Request is not mergeable");
    let state = server.state();
    assert_eq!(
        state["repositories"]["o/r"]["refs"]["refs/heads/main"],
        main.as_str()
    );

    // The release: merged three-way, git's tree, parents main and the branch.
    let number = open("release");
    let merged = merge(number, "merge");
    assert_eq!(merged.status, 200, "{}", merged.body);
    let sha = merged.json()["sha"].as_str().expect("a sha").to_owned();
    let commit = http(
        server.url(),
        "GET",
        &format!("/repos/o/r/git/commits/{sha}"),
        None,
    )
    .json();
    assert_eq!(commit["tree"]["sha"], expected.as_str());
    let parents: Vec<&str> = commit["parents"]
        .as_array()
        .expect("parents")
        .iter()
        .filter_map(|p| p["sha"].as_str())
        .collect();
    assert_eq!(parents, [main.as_str(), release.as_str()]);
    // Every object of the merged tree is served, and the checkout gets the same commit.
    server.export_git("o/r", local).expect("exported");
    git(&["reset", "-q", "--hard", "main"]);
    assert_eq!(git(&["rev-parse", "HEAD"]), sha);
    assert_eq!(
        std::fs::read_to_string(local.join("Cargo.toml")).expect("read"),
        "[package]\nversion = \"1.3.0\"\n"
    );
    assert_eq!(
        std::fs::read_to_string(local.join("src/lib.rs")).expect("read"),
        "pub fn a() -> u8 {\n    2\n}\n\npub fn b() {}\n"
    );
    assert!(local.join("src/late.rs").is_file());
    assert!(server.violations().is_empty(), "{:?}", server.violations());
}
