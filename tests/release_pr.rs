//! release-pr as users run it: `uses: org/hub-actions/release-pr@v1` under a real runner (act)
//! against the GitHub stand-in, on repositories written here — a Cargo workspace with
//! `version.workspace = true` and its `Cargo.lock`, an npm workspace with a
//! `package-lock.json` v3, a Poetry project, a monorepo with a linked group — and one whose
//! default branch and commit subject are hostile.
//!
//! Each lifecycle: a push with a `feat:` → one release pull request opened from
//! `hub-release/main`, its one verified commit changing the version files and CHANGELOG.md;
//! another push → the same pull request refreshed, still one commit on its branch; a commit
//! pushed to main after that refresh, then the pull request merged (`PUT pulls/{n}/merge` on
//! the stand-in) → the tag, the release, and notes that list the late commit; a re-run →
//! not one write (no tag, release, pull request or comment).
//!
//! "GitHub" is two things kept in step here, as GitHub keeps its API and its git remote in
//! step: the bare `origin` the workflow clones, and the stand-in, which holds the same objects
//! under the same ids. Before a run, `origin` is mirrored into the stand-in
//! ([`StandIn::import`]; refs only the stand-in has — the release branch — are kept); after
//! it, what the action made on the stand-in (the release commit, merge commits, tags) is
//! written into `origin` object by object, each one's id checked against the stand-in's, so
//! the next checkout sees exactly what GitHub would serve.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

use std::path::{Path, PathBuf};
use std::process::Stdio;

use hub_e2e::*;
use hub_github_standin::test_support::TestServer;
use hub_github_standin::{Options, read_git_repository};
use hub_kit::command::commands_in;
use serde_json::{Value, json};

/// The token the workflow gets (an installation token's shape, as `GITHUB_TOKEN` has).
const TOKEN: &str = "ghs_e2eRELEASEPR";

/// The stand-in with GraphQL (verified commits go through `createCommitOnBranch`), or `None`
/// after the skip rule when GitHub's descriptions are not at hand.
fn standin() -> Option<TestServer> {
    TestServer::start_with_graphql(Options {
        idle_timeout: Some(std::time::Duration::from_secs(600)),
        ..Options::default()
    })
}

fn git(dir: &Path, args: &[&str]) -> String {
    sh(dir, "git", args)
}

/// `git` with `input` on stdin; its stdout.
fn git_in(dir: &Path, args: &[&str], input: &[u8]) -> String {
    hub_testkit::git::run(
        hub_testkit::git::command(dir, hub_testkit::git::DATE).args(args),
        Some(input),
    )
}

fn has_object(repo: &Path, sha: &str) -> bool {
    hub_testkit::git::command(repo, hub_testkit::git::DATE)
        .args(["cat-file", "-e", sha])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The date of the `n`th commit: `n` days into March 2025 (round the month).
fn day(n: usize) -> String {
    format!("2025-03-{:02}T10:00:00Z", 1 + (n % 28))
}

/// A commit in `work` of everything staged, by Ada at a fixed date (`n` days in).
fn commit(work: &Path, message: &str, n: usize) {
    hub_testkit::git::run(
        hub_testkit::git::command(work, &day(n)).args(["commit", "-q", "--allow-empty", "-F", "-"]),
        Some(message.as_bytes()),
    );
}

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

/// One repository on "GitHub": its bare `origin`, a clone people commit in, and the stand-in.
struct Hub<'a> {
    server: &'a TestServer,
    tmp: PathBuf,
    /// `owner/name`.
    repo: String,
    origin: PathBuf,
    work: PathBuf,
    branch: String,
    act: Act,
    runs: usize,
    commits: usize,
}

impl<'a> Hub<'a> {
    /// A repository whose first commit holds `files`, tagged `tags`, on branch `branch`.
    fn new(
        server: &'a TestServer,
        tmp: &Path,
        repo: &str,
        branch: &str,
        files: &[(&str, &str)],
        tags: &[&str],
    ) -> Hub<'a> {
        let slug = repo.replace('/', "-");
        let work = tmp.join(format!("work-{slug}"));
        std::fs::create_dir_all(&work).unwrap();
        git(&work, &["init", "-q", "-b", branch]);
        write(&work, files);
        git(&work, &["add", "-A"]);
        commit(&work, "chore: start the project", 0);
        for tag in tags {
            git(&work, &["tag", "-a", "-m", tag, tag]);
        }
        let origin = tmp.join(format!("{slug}.git"));
        let (w, o) = (work.display().to_string(), origin.display().to_string());
        sh(tmp, "git", &["clone", "-q", "--bare", &w, &o]);
        git(&work, &["remote", "add", "origin", &o]);
        git(&work, &["fetch", "-q", "origin"]);
        let mut act = released_act(tmp);
        act.env("GITHUB_API_URL", server.url())
            // act says github.com's; GitHub sets it beside GITHUB_API_URL.
            .env("GITHUB_GRAPHQL_URL", &format!("{}/graphql", server.url()))
            .env("GITHUB_REPOSITORY", repo)
            .env("GITHUB_TOKEN", TOKEN)
            .env("HUB_E2E_ORIGIN", &o);
        Hub {
            server,
            tmp: tmp.to_path_buf(),
            repo: repo.into(),
            origin,
            work,
            branch: branch.into(),
            act,
            runs: 0,
            commits: 0,
        }
    }

    /// A person's commit on the release branch, pushed to `origin`: `files` written, then
    /// `message`.
    fn push(&mut self, message: &str, files: &[(&str, &str)]) {
        self.commits += 1;
        let branch = self.branch.clone();
        git(&self.work, &["fetch", "-q", "origin"]);
        git(
            &self.work,
            &["reset", "-q", "--hard", &format!("origin/{branch}")],
        );
        write(&self.work, files);
        git(&self.work, &["add", "-A"]);
        commit(&self.work, message, self.commits);
        git(
            &self.work,
            &["push", "-q", "origin", &format!("HEAD:refs/heads/{branch}")],
        );
    }

    fn state(&self) -> Value {
        self.server.state()["repositories"][&self.repo].clone()
    }

    /// Mirrors `origin` into the stand-in; refs only the stand-in has are kept.
    fn push_to_standin(&self) {
        let mut import = read_git_repository(&self.origin).unwrap();
        if let Some(refs) = self.state()["refs"].as_object() {
            for (name, sha) in refs {
                import
                    .refs
                    .entry(name.clone())
                    .or_insert_with(|| sha.as_str().unwrap().to_owned());
            }
        }
        self.server.import(&self.repo, &import).unwrap();
    }

    /// `GET {api}{path}` on the stand-in, as JSON.
    fn get(&self, path: &str) -> Value {
        let out = sh(
            &self.tmp,
            "curl",
            &[
                "-sS",
                "--fail-with-body",
                "-H",
                "Accept: application/vnd.github+json",
                &format!("{}/repos/{}{path}", self.server.url(), self.repo),
            ],
        );
        serde_json::from_str(&out).unwrap()
    }

    /// Writes tree `sha` of the stand-in (and what it holds) into `origin`.
    fn fetch_tree(&self, sha: &str) {
        if has_object(&self.origin, sha) {
            return;
        }
        let tree = self.get(&format!("/git/trees/{sha}"));
        let mut listing = String::new();
        for entry in tree["tree"].as_array().unwrap() {
            let (kind, id) = (
                entry["type"].as_str().unwrap(),
                entry["sha"].as_str().unwrap(),
            );
            match kind {
                "tree" => self.fetch_tree(id),
                "blob" if !has_object(&self.origin, id) => {
                    let blob = self.get(&format!("/git/blobs/{id}"));
                    let text: String = blob["content"]
                        .as_str()
                        .unwrap()
                        .split_whitespace()
                        .collect();
                    let bytes = base64_decode(&text);
                    let got = git_in(&self.origin, &["hash-object", "-w", "--stdin"], &bytes);
                    assert_eq!(got.trim(), id, "blob {id} does not hash to its id");
                }
                _ => {}
            }
            listing.push_str(&format!(
                "{} {kind} {id}\t{}\n",
                entry["mode"].as_str().unwrap(),
                entry["path"].as_str().unwrap()
            ));
        }
        let got = git_in(&self.origin, &["mktree"], listing.as_bytes());
        assert_eq!(got.trim(), sha, "tree {sha} does not hash to its id");
    }

    /// Writes into `origin` every commit and annotated tag the stand-in made, then points
    /// `origin`'s refs where the stand-in's are: what the next checkout fetches from GitHub.
    fn pull_from_standin(&self) {
        let state = self.state();
        let commits = state["commits"].as_object().unwrap();
        let mut pending: Vec<&String> = commits
            .keys()
            .filter(|sha| !has_object(&self.origin, sha))
            .collect();
        while !pending.is_empty() {
            let before = pending.len();
            pending.retain(|sha| {
                let c = &commits[sha.as_str()];
                let parents: Vec<&str> = c["parents"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p.as_str().unwrap())
                    .collect();
                if parents.iter().any(|p| !has_object(&self.origin, p)) {
                    return true;
                }
                let tree = c["tree"].as_str().unwrap();
                self.fetch_tree(tree);
                let mut raw = format!("tree {tree}\n");
                for p in &parents {
                    raw.push_str(&format!("parent {p}\n"));
                }
                raw.push_str(&format!("author {}\n", signature(&c["author"])));
                raw.push_str(&format!("committer {}\n\n", signature(&c["committer"])));
                raw.push_str(c["message"].as_str().unwrap());
                let got = git_in(
                    &self.origin,
                    &["hash-object", "-t", "commit", "-w", "--stdin"],
                    raw.as_bytes(),
                );
                assert_eq!(got.trim(), sha.as_str(), "commit {sha} differs:\n{raw}");
                false
            });
            assert!(
                pending.len() < before,
                "commits without parents: {pending:?}"
            );
        }
        for (name, tag) in state["tags"].as_object().unwrap() {
            let sha = tag["sha"].as_str().unwrap();
            if tag["annotated"] != true || has_object(&self.origin, sha) {
                continue;
            }
            let raw = format!(
                "object {}\ntype commit\ntag {name}\ntagger {}\n\n{}",
                tag["commit"].as_str().unwrap(),
                signature(&tag["tagger"]),
                tag["message"].as_str().unwrap()
            );
            let got = git_in(
                &self.origin,
                &["hash-object", "-t", "tag", "-w", "--stdin"],
                raw.as_bytes(),
            );
            assert_eq!(got.trim(), sha, "tag {name} differs:\n{raw}");
        }
        for (name, sha) in state["refs"].as_object().unwrap() {
            git(&self.origin, &["update-ref", name, sha.as_str().unwrap()]);
        }
    }

    /// The `push` payload GitHub sends for the head of the release branch.
    fn push_event(&self) -> PathBuf {
        let branch = &self.branch;
        let after = git(
            &self.origin,
            &["rev-parse", &format!("refs/heads/{branch}")],
        );
        let (owner, name) = self.repo.split_once('/').unwrap();
        let payload = json!({
            "ref": format!("refs/heads/{branch}"),
            "before": "0000000000000000000000000000000000000000",
            "after": after.trim(),
            "created": false,
            "deleted": false,
            "forced": false,
            "repository": {
                "name": name,
                "full_name": self.repo,
                "default_branch": branch,
                "owner": { "login": owner },
            },
            "commits": [],
        });
        let path = self.tmp.join(format!("push-{}-{}.json", name, self.runs));
        std::fs::write(&path, payload.to_string()).unwrap();
        path
    }

    /// Runs `workflow` for a push to the release branch; returns the run and release-pr's
    /// outputs.
    fn run(&mut self, workflow: &str) -> (Run, Value) {
        self.runs += 1;
        self.push_to_standin();
        let name = format!("{}-{}", self.repo.replace('/', "-"), self.runs);
        let run = self
            .act
            .run_event(&name, workflow, "push", &self.push_event());
        self.pull_from_standin();
        let out = run.json("release.json");
        (run, out)
    }

    /// GitHub's "Update branch" on the release pull request (what a protected branch that must
    /// be up to date asks for): the release branch merged into `hub-release/…`, pushed. The
    /// stand-in merges pull requests without a three-way merge, so a late commit reaches the
    /// merge this way.
    fn update_branch(&mut self) {
        let (branch, release) = (self.branch.clone(), format!("hub-release/{}", self.branch));
        git(&self.work, &["fetch", "-q", "origin"]);
        git(
            &self.work,
            &[
                "checkout",
                "-q",
                "-B",
                "update",
                &format!("origin/{release}"),
            ],
        );
        self.commits += 1;
        let mut merge = hub_testkit::git::command(&self.work, &day(self.commits));
        merge
            .args(["merge", "-q", "--no-ff", "-m"])
            .arg(format!("Merge branch '{branch}' into {release}"))
            .arg(format!("origin/{branch}"))
            .env("GIT_COMMITTER_NAME", "GitHub")
            .env("GIT_COMMITTER_EMAIL", "noreply@github.com");
        hub_testkit::git::run(&mut merge, None);
        git(
            &self.work,
            &[
                "push",
                "-q",
                "origin",
                &format!("HEAD:refs/heads/{release}"),
            ],
        );
        git(&self.work, &["checkout", "-q", &branch]);
    }

    /// Merges pull request `number` on the stand-in (GitHub's merge button), then brings the
    /// merge commit into `origin`.
    fn merge(&self, number: u64) -> String {
        self.push_to_standin();
        let out = sh(
            &self.tmp,
            "curl",
            &[
                "-sS",
                "--fail-with-body",
                "-X",
                "PUT",
                "-H",
                &format!("Authorization: Bearer {TOKEN}"),
                "-H",
                "Accept: application/vnd.github+json",
                "-d",
                r#"{"merge_method":"merge"}"#,
                &format!(
                    "{}/repos/{}/pulls/{number}/merge",
                    self.server.url(),
                    self.repo
                ),
            ],
        );
        let merged: Value = serde_json::from_str(&out).unwrap();
        self.pull_from_standin();
        merged["sha"].as_str().unwrap().to_owned()
    }

    /// A file as it is at `rev` in `origin`.
    fn show(&self, rev: &str, path: &str) -> String {
        git(&self.origin, &["show", &format!("{rev}:{path}")])
    }

    fn release_branch(&self) -> String {
        format!("refs/heads/hub-release/{}", self.branch)
    }

    /// Requests that wrote (anything but `GET`), control endpoints left out.
    fn writes(&self) -> Vec<String> {
        self.server
            .requests()
            .into_iter()
            .filter(|r| r.method != "GET" && !r.path.starts_with("/_standin"))
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }

    /// What a re-run must leave as it is: tags, releases, pull requests, comments.
    fn counts(&self) -> [usize; 4] {
        let s = self.state();
        let len = |v: &Value| match v {
            Value::Array(a) => a.len(),
            Value::Object(m) => m.len(),
            _ => 0,
        };
        [
            len(&s["tags"]),
            len(&s["releases"]),
            len(&s["pulls"]),
            len(&s["comments"]),
        ]
    }

    fn pulls(&self) -> Vec<Value> {
        match &self.state()["pulls"] {
            Value::Object(m) => m.values().cloned().collect(),
            Value::Array(a) => a.clone(),
            _ => Vec::new(),
        }
    }

    fn releases(&self) -> Vec<Value> {
        match &self.state()["releases"] {
            Value::Object(m) => m.values().cloned().collect(),
            Value::Array(a) => a.clone(),
            _ => Vec::new(),
        }
    }

    /// Asserts that the head of the release pull request's branch is one commit on top of the
    /// release branch, made by GitHub's side and verified; returns it.
    fn check_one_verified_commit(&self) -> String {
        let base = git(
            &self.origin,
            &["rev-parse", &format!("refs/heads/{}", self.branch)],
        );
        let head = git(&self.origin, &["rev-parse", &self.release_branch()]);
        let parents = git(&self.origin, &["rev-parse", &format!("{}^@", head.trim())]);
        assert_eq!(
            parents, base,
            "the release commit's one parent is the base's head"
        );
        let commit = self.get(&format!("/commits/{}", head.trim()));
        assert_eq!(
            commit["commit"]["verification"]["verified"], true,
            "the release commit is verified: {commit:#}"
        );
        head.trim().to_owned()
    }
}

/// `name <email> time ±hhmm` from the stand-in's `{name, email, time, offset}` (minutes).
fn signature(s: &Value) -> String {
    let offset = s["offset"].as_i64().unwrap();
    let sign = if offset < 0 { '-' } else { '+' };
    let m = offset.unsigned_abs();
    format!(
        "{} <{}> {} {sign}{:02}{:02}",
        s["name"].as_str().unwrap(),
        s["email"].as_str().unwrap(),
        s["time"].as_i64().unwrap(),
        m / 60,
        m % 60
    )
}

fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for b in text.bytes().filter(|b| *b != b'=') {
        let v = ALPHABET.iter().position(|a| *a == b).expect("Base64") as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// A workflow that checks the repository out (a clone of `origin`), runs release-pr with
/// `with` (YAML lines under `with:`, or empty) and keeps its outputs.
fn workflow(with: &str) -> String {
    let with = if with.trim().is_empty() {
        String::new()
    } else {
        format!("        with:\n{with}")
    };
    format!(
        r#"on: push
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - run: git clone -q "$HUB_E2E_ORIGIN" .
      - id: release
        uses: org/hub-actions/release-pr@v1
{with}
      - if: always()
        env:
          OUT: ${{{{ toJSON(steps.release.outputs) }}}}
        run: printf '%s' "$OUT" > "$HUB_E2E_OUT/release.json"
"#
    )
}

/// `workflows/release-pr.yml` as users copy it (see [`with_local_checkout`]), plus one
/// step (test only) that keeps release-pr's outputs.
fn starter_workflow() -> String {
    let text = with_local_checkout(
        &std::fs::read_to_string(workspace().join("workflows/release-pr.yml")).unwrap(),
    );
    format!(
        "{}\n\n      - if: always()\n        env:\n          OUT: ${{{{ toJSON(steps.release.outputs) }}}}\n        run: printf '%s' \"$OUT\" > \"$HUB_E2E_OUT/release.json\"\n",
        text.trim_end()
    )
}

/// The lines a step printed, as the runner read them (act's `[wf/job]   | ` prefixes and its
/// markers for lines it took as commands removed), so [`commands_in`] applies.
fn step_output(log: &str) -> String {
    let mut out = String::new();
    for line in log.lines() {
        let Some(rest) = line.strip_prefix('[').and_then(|l| l.split_once("] ")) else {
            continue;
        };
        let rest = rest.1.trim_start();
        let mut chars = rest.chars();
        let Some(first) = chars.next() else { continue };
        if first == '|' || !first.is_ascii() {
            let text = chars.as_str().trim_start_matches('\u{fe0f}');
            out.push_str(
                text.strip_prefix("  ")
                    .or_else(|| text.strip_prefix(' '))
                    .unwrap_or(text),
            );
            out.push('\n');
        }
    }
    out
}

/// Markdown without its HTML comments (what GitHub renders), after checking that every
/// comment ends where it should: `<!--` and `-->` pair up, so no text escapes a comment.
fn rendered(markdown: &str) -> String {
    assert_eq!(
        markdown.matches("<!--").count(),
        markdown.matches("-->").count(),
        "a comment closed early or never:\n{markdown}"
    );
    let mut out = String::new();
    let mut rest = markdown;
    while let Some(start) = rest.find("<!--") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("-->").expect("a closed comment");
        rest = &rest[start + end + 3..];
    }
    out.push_str(rest);
    out
}

/// A commit message's description (its first line after `type(scope): `).
fn subject(message: &str) -> &str {
    let first = message.lines().next().unwrap();
    first.split_once(": ").map_or(first, |(_, d)| d)
}

fn heading_with(changelog: &str, version: &str) -> bool {
    changelog
        .lines()
        .any(|l| l.starts_with('#') && l.contains(version))
}

/// The lifecycle of one project: open → refresh → late commit + merge → release → re-run.
/// `check_files` looks at the version files on a revision of `origin` for a version.
struct Lifecycle<'a> {
    workflow: String,
    /// The first version proposed, and after the second push.
    first: &'a str,
    /// The commit that decides the first version, and the file it changes.
    feat: (&'a str, (&'a str, &'a str)),
    /// The second push (refresh) and the late commit.
    refresh: (&'a str, (&'a str, &'a str)),
    late: (&'a str, (&'a str, &'a str)),
    /// The version after the refresh (the one released).
    released: &'a str,
    tag: &'a str,
}

fn lifecycle(hub: &mut Hub<'_>, l: &Lifecycle<'_>, check_files: &dyn Fn(&Hub<'_>, &str, &str)) {
    // 1. A push with a feature: one pull request, one verified commit.
    hub.push(l.feat.0, &[l.feat.1]);
    let (run, out) = hub.run(&l.workflow);
    assert!(run.success, "{}", run.log);
    assert_eq!(out["action"], "opened", "{out}\n{}", run.log);
    assert_eq!(out["released"], "false", "{out}");
    assert_eq!(out["version"], l.first, "{out}");
    let number: u64 = out["pr-number"].as_str().unwrap().parse().unwrap();
    let pulls = hub.pulls();
    assert_eq!(pulls.len(), 1, "{pulls:#?}");
    assert_eq!(pulls[0]["state"], "open");
    assert_eq!(pulls[0]["head"], format!("hub-release/{}", hub.branch));
    let head = hub.check_one_verified_commit();
    assert_eq!(out["head-sha"], head.as_str(), "{out}");
    let branch = hub.release_branch();
    check_files(hub, &branch, l.first);
    let changelog = hub.show(&branch, "CHANGELOG.md");
    assert!(heading_with(&changelog, l.first), "{changelog}");
    let feat_subject = subject(l.feat.0);
    assert!(changelog.contains(feat_subject), "{changelog}");
    let body = pulls[0]["body"].as_str().unwrap();
    assert!(body.contains(feat_subject), "{body}");
    assert!(body.contains("<!-- hub-release-pr:"), "{body}");

    // 2. Another push: the same pull request, rebuilt on the new base, one commit.
    hub.push(l.refresh.0, &[l.refresh.1]);
    let (run, out) = hub.run(&l.workflow);
    assert!(run.success, "{}", run.log);
    assert_eq!(out["action"], "refreshed", "{out}\n{}", run.log);
    assert_eq!(out["pr-number"], number.to_string().as_str(), "{out}");
    assert_eq!(out["version"], l.released, "{out}");
    assert_eq!(hub.pulls().len(), 1, "{:#?}", hub.pulls());
    let refreshed = hub.check_one_verified_commit();
    assert_ne!(refreshed, head);
    check_files(hub, &branch, l.released);
    let changelog = hub.show(&branch, "CHANGELOG.md");
    assert!(heading_with(&changelog, l.released), "{changelog}");
    if l.first != l.released {
        assert!(!heading_with(&changelog, l.first), "{changelog}");
    }
    let refresh_subject = subject(l.refresh.0);
    assert!(changelog.contains(refresh_subject), "{changelog}");
    assert_eq!(
        changelog
            .lines()
            .filter(|l| l.contains(feat_subject))
            .count(),
        1,
        "{changelog}"
    );

    // 3. A commit lands on main after the last refresh (its run has not happened yet), the
    //    pull request is brought up to date ("Update branch") and merged: the run on the
    //    merge commit releases, late commit included in the notes.
    hub.push(l.late.0, &[l.late.1]);
    hub.update_branch();
    let merge = hub.merge(number);
    let writes_before = hub.writes().len();
    let (run, out) = hub.run(&l.workflow);
    assert!(run.success, "{}", run.log);
    assert_eq!(out["action"], "released", "{out}\n{}", run.log);
    assert_eq!(out["released"], "true", "{out}");
    assert_eq!(out["tag"], l.tag, "{out}");
    assert_eq!(out["version"], l.released, "{out}");
    let tagged = git(
        &hub.origin,
        &["rev-parse", &format!("{}^{{commit}}", l.tag)],
    );
    assert_eq!(tagged.trim(), merge, "the tag is on the merge commit");
    check_files(hub, &merge, l.released);
    let releases = hub.releases();
    assert_eq!(releases.len(), 1, "{releases:#?}");
    assert_eq!(releases[0]["tag_name"], l.tag);
    let notes = releases[0]["body"].as_str().unwrap();
    let late_subject = subject(l.late.0);
    for subject in [feat_subject, refresh_subject, late_subject] {
        assert!(
            notes.contains(subject),
            "`{subject}` in the notes:\n{notes}"
        );
    }
    assert!(
        run.log
            .lines()
            .any(|line| line.contains("last refresh") && line.contains(late_subject)),
        "the run says the late commit was merged after the last refresh:\n{}",
        run.log
    );
    eprintln!(
        "{}: {} writes for the release",
        hub.repo,
        hub.writes().len() - writes_before
    );

    // 4. Re-run on the released commit: not one write (the outputs still name the release,
    //    so a re-run workflow publishes what it released).
    let counts = hub.counts();
    let writes = hub.writes();
    let (run, out) = hub.run(&l.workflow);
    assert!(run.success, "{}", run.log);
    assert_eq!(out["released"], "true", "{out}\n{}", run.log);
    assert_eq!(out["tag"], l.tag, "{out}");
    assert_eq!(hub.counts(), counts, "tags, releases, pulls, comments");
    assert_eq!(hub.writes(), writes, "a re-run wrote");
    hub.server.assert_conforms();
}

#[test]
fn a_cargo_workspace_releases_through_its_pull_request() {
    let test = "a_cargo_workspace_releases_through_its_pull_request";
    if !have_act(test) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let _ = release_bins();
    let Some(server) = standin() else { return };
    let files = [
        (
            "Cargo.toml",
            "[workspace]\nmembers = [\"crates/*\"]\nresolver = \"2\"\n\n# One version for the whole workspace.\n[workspace.package]\nversion = \"0.4.1\"\nedition = \"2021\"\nlicense = \"MIT\"\n\n[workspace.dependencies]\nrivet-core = { path = \"crates/rivet-core\", version = \"0.4.1\" }\n",
        ),
        (
            "crates/rivet-core/Cargo.toml",
            "[package]\nname = \"rivet-core\"\nversion.workspace = true\nedition.workspace = true\nlicense.workspace = true\n",
        ),
        (
            "crates/rivet-core/src/lib.rs",
            "//! Splits rivets.\n\npub fn split(input: &str) -> Vec<&str> {\n    input.split(',').collect()\n}\n",
        ),
        (
            "crates/rivet-cli/Cargo.toml",
            "[package]\nname = \"rivet-cli\"\nversion.workspace = true\nedition.workspace = true\nlicense.workspace = true\n\n[dependencies]\nrivet-core.workspace = true\n",
        ),
        (
            "crates/rivet-cli/src/main.rs",
            "fn main() {\n    for part in rivet_core::split(\"a,b\") {\n        println!(\"{part}\");\n    }\n}\n",
        ),
        ("config/app.yaml", &fixture_config()),
        ("config/schema.json", &fixture_schema()),
    ];
    let mut hub = Hub::new(&server, tmp.path(), "octo/rivet", "main", &files, &[]);
    // The lock as cargo writes it for this workspace, then the first release's tag.
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    sh(&hub.work, &cargo, &["generate-lockfile", "--offline"]);
    git(&hub.work, &["add", "Cargo.lock"]);
    commit(&hub.work, "chore: lock the workspace", 0);
    git(&hub.work, &["tag", "-a", "-m", "v0.4.1", "v0.4.1"]);
    git(
        &hub.work,
        &["push", "-q", "origin", "main", "--follow-tags"],
    );
    let cargo_check = move |hub: &Hub<'_>, rev: &str, version: &str| {
        let root = hub.show(rev, "Cargo.toml");
        assert!(
            root.contains(&format!("[workspace.package]\nversion = \"{version}\"")),
            "{root}"
        );
        assert!(
            root.contains(&format!(
                "rivet-core = {{ path = \"crates/rivet-core\", version = \"{version}\" }}"
            )),
            "{root}"
        );
        assert!(
            root.contains("# One version for the whole workspace."),
            "{root}"
        );
        for member in ["rivet-core", "rivet-cli"] {
            let toml = hub.show(rev, &format!("crates/{member}/Cargo.toml"));
            assert!(toml.contains("version.workspace = true"), "{toml}");
        }
        let lock = hub.show(rev, "Cargo.lock");
        for member in ["rivet-cli", "rivet-core"] {
            assert!(
                lock.contains(&format!("name = \"{member}\"\nversion = \"{version}\"")),
                "{lock}"
            );
        }
        // cargo itself finds the lock consistent with the manifests.
        let dir = hub.tmp.join(format!("check-{}", version));
        let _ = std::fs::remove_dir_all(&dir);
        let (o, d) = (hub.origin.display().to_string(), dir.display().to_string());
        sh(&hub.tmp, "git", &["clone", "-q", &o, &d]);
        git(
            &dir,
            &["checkout", "-q", rev.trim_start_matches("refs/heads/")],
        );
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let meta = sh(
            &dir,
            &cargo,
            &["metadata", "--locked", "--offline", "--format-version", "1"],
        );
        assert!(
            meta.contains(&format!("\"version\":\"{version}\"")),
            "{meta}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    };
    lifecycle(
        &mut hub,
        &Lifecycle {
            // The starter workflow as users copy it: version files found by name.
            workflow: starter_workflow(),
            first: "0.5.0",
            feat: (
                "feat(cli): print one part per line",
                (
                    "crates/rivet-cli/src/main.rs",
                    "fn main() {\n    for part in rivet_core::split(\"a,b\") {\n        println!(\"part: {part}\");\n    }\n}\n",
                ),
            ),
            refresh: (
                "fix(core): ignore a trailing comma",
                (
                    "crates/rivet-core/src/lib.rs",
                    "//! Splits rivets.\n\npub fn split(input: &str) -> Vec<&str> {\n    input.split(',').filter(|p| !p.is_empty()).collect()\n}\n",
                ),
            ),
            late: (
                "fix(cli): exit non-zero on bad input",
                (
                    "crates/rivet-cli/src/main.rs",
                    "fn main() {\n    let parts = rivet_core::split(\"a,b\");\n    if parts.is_empty() {\n        std::process::exit(1);\n    }\n}\n",
                ),
            ),
            released: "0.5.0",
            tag: "v0.5.0",
        },
        &cargo_check,
    );
}

fn fixture_config() -> String {
    std::fs::read_to_string(workspace().join("fixtures/validate-config/valid/config.yaml")).unwrap()
}

fn fixture_schema() -> String {
    std::fs::read_to_string(workspace().join("fixtures/validate-config/schema.json")).unwrap()
}

const NPM_LOCK: &str = r#"{
  "name": "lumen",
  "version": "1.2.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {
      "name": "lumen",
      "version": "1.2.0",
      "license": "ISC",
      "workspaces": [
        "packages/*"
      ]
    },
    "node_modules/@lumen/cli": {
      "resolved": "packages/cli",
      "link": true
    },
    "node_modules/@lumen/core": {
      "resolved": "packages/core",
      "link": true
    },
    "packages/cli": {
      "name": "@lumen/cli",
      "version": "1.2.0",
      "license": "ISC",
      "dependencies": {
        "@lumen/core": "^1.2.0"
      },
      "bin": {
        "lumen": "bin/lumen.js"
      }
    },
    "packages/core": {
      "name": "@lumen/core",
      "version": "1.2.0",
      "license": "ISC"
    }
  }
}
"#;

#[test]
fn an_npm_workspace_releases_through_its_pull_request() {
    let test = "an_npm_workspace_releases_through_its_pull_request";
    if !have_act(test) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let _ = release_bins();
    let Some(server) = standin() else { return };
    let files = [
        (
            "package.json",
            "{\n  \"name\": \"lumen\",\n  \"version\": \"1.2.0\",\n  \"private\": true,\n  \"license\": \"ISC\",\n  \"workspaces\": [\"packages/*\"],\n  \"scripts\": {\n    \"test\": \"node --test\"\n  }\n}\n",
        ),
        (
            "packages/core/package.json",
            "{\n  \"name\": \"@lumen/core\",\n  \"version\": \"1.2.0\",\n  \"license\": \"ISC\",\n  \"main\": \"index.js\"\n}\n",
        ),
        (
            "packages/core/index.js",
            "exports.glow = (text) => `*${text}*`;\n",
        ),
        (
            "packages/cli/package.json",
            "{\n  \"name\": \"@lumen/cli\",\n  \"version\": \"1.2.0\",\n  \"license\": \"ISC\",\n  \"bin\": { \"lumen\": \"bin/lumen.js\" },\n  \"dependencies\": {\n    \"@lumen/core\": \"^1.2.0\"\n  }\n}\n",
        ),
        (
            "packages/cli/bin/lumen.js",
            "#!/usr/bin/env node\nconsole.log(require('@lumen/core').glow(process.argv[2] ?? ''));\n",
        ),
        ("package-lock.json", NPM_LOCK),
    ];
    let mut hub = Hub::new(
        &server,
        tmp.path(),
        "octo/lumen",
        "main",
        &files,
        &["v1.2.0"],
    );
    let npm_check = |hub: &Hub<'_>, rev: &str, version: &str| {
        let root: Value = serde_json::from_str(&hub.show(rev, "package.json")).unwrap();
        assert_eq!(root["version"], version);
        let core: Value =
            serde_json::from_str(&hub.show(rev, "packages/core/package.json")).unwrap();
        assert_eq!(core["version"], version);
        let cli: Value = serde_json::from_str(&hub.show(rev, "packages/cli/package.json")).unwrap();
        assert_eq!(cli["version"], version);
        assert_eq!(cli["dependencies"]["@lumen/core"], format!("^{version}"));
        let text = hub.show(rev, "package-lock.json");
        let lock: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(lock["version"], version, "{text}");
        assert_eq!(lock["lockfileVersion"], 3);
        let packages = &lock["packages"];
        assert_eq!(packages[""]["version"], version, "{text}");
        assert_eq!(packages["packages/core"]["version"], version, "{text}");
        assert_eq!(packages["packages/cli"]["version"], version, "{text}");
        assert_eq!(
            packages["packages/cli"]["dependencies"]["@lumen/core"],
            format!("^{version}"),
            "{text}"
        );
        assert_eq!(packages["node_modules/@lumen/core"]["link"], true, "{text}");
        // Formatting kept: the lock is still npm's two-space layout with a final newline.
        assert!(
            text.ends_with("}\n") && text.contains("\n    \"\": {\n"),
            "{text}"
        );
    };
    lifecycle(
        &mut hub,
        &Lifecycle {
            workflow: workflow(
                "          version-files: |\n            package.json\n            packages/core/package.json\n            packages/cli/package.json\n            package-lock.json\n",
            ),
            first: "1.3.0",
            feat: (
                "feat(core): glow takes a colour",
                (
                    "packages/core/index.js",
                    "exports.glow = (text, colour = 'gold') => `*${text}* (${colour})`;\n",
                ),
            ),
            refresh: (
                "feat(cli)!: read the text from stdin\n\nBREAKING CHANGE: the text is no longer an argument",
                (
                    "packages/cli/bin/lumen.js",
                    "#!/usr/bin/env node\nlet text = '';\nprocess.stdin.on('data', (d) => (text += d));\nprocess.stdin.on('end', () => console.log(require('@lumen/core').glow(text)));\n",
                ),
            ),
            late: (
                "fix(core): escape asterisks",
                (
                    "packages/core/index.js",
                    "exports.glow = (text, colour = 'gold') => `*${text.replaceAll('*', '\\\\*')}* (${colour})`;\n",
                ),
            ),
            released: "2.0.0",
            tag: "v2.0.0",
        },
        &npm_check,
    );
}

#[test]
fn a_poetry_project_releases_through_its_pull_request() {
    let test = "a_poetry_project_releases_through_its_pull_request";
    if !have_act(test) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let _ = release_bins();
    let Some(server) = standin() else { return };
    let files = [
        (
            "pyproject.toml",
            "[tool.poetry]\nname = \"pebble\"\nversion = \"2.0.3\"  # bumped by release-pr\ndescription = \"Small stones, counted\"\nauthors = [\"Ada <ada@example.com>\"]\nreadme = \"README.md\"\npackages = [{ include = \"pebble\", from = \"src\" }]\n\n[tool.poetry.dependencies]\npython = \"^3.10\"\n\n[build-system]\nrequires = [\"poetry-core>=1.0.0\"]\nbuild-backend = \"poetry.core.masonry.api\"\n",
        ),
        ("README.md", "# pebble\n\nCounts small stones.\n"),
        (
            "src/pebble/__init__.py",
            "\"\"\"Counts small stones.\"\"\"\n\n__version__ = \"2.0.3\"\n\n\ndef count(stones):\n    return len(stones)\n",
        ),
    ];
    let mut hub = Hub::new(
        &server,
        tmp.path(),
        "octo/pebble",
        "main",
        &files,
        &["v2.0.3"],
    );
    let poetry_check = |hub: &Hub<'_>, rev: &str, version: &str| {
        let py = hub.show(rev, "pyproject.toml");
        assert!(
            py.contains(&format!(
                "version = \"{version}\"  # bumped by release-pr\n"
            )),
            "{py}"
        );
        assert!(py.contains("python = \"^3.10\""), "{py}");
        let init = hub.show(rev, "src/pebble/__init__.py");
        assert!(
            init.contains(&format!("__version__ = \"{version}\"\n")),
            "{init}"
        );
    };
    lifecycle(
        &mut hub,
        &Lifecycle {
            workflow: workflow(
                "          version-files: |\n            pyproject.toml\n            src/pebble/__init__.py\n",
            ),
            first: "2.1.0",
            feat: (
                "feat: count stones by colour",
                (
                    "src/pebble/__init__.py",
                    "\"\"\"Counts small stones.\"\"\"\n\n__version__ = \"2.0.3\"\n\n\ndef count(stones, colour=None):\n    return len([s for s in stones if colour in (None, s.colour)])\n",
                ),
            ),
            refresh: (
                "fix: a stone without a colour counts as grey",
                (
                    "src/pebble/stone.py",
                    "class Stone:\n    def __init__(self, colour=\"grey\"):\n        self.colour = colour\n",
                ),
            ),
            late: (
                "fix: count an empty bag as zero",
                (
                    "src/pebble/bag.py",
                    "from . import count\n\n\ndef weigh(bag=()):\n    return count(bag)\n",
                ),
            ),
            released: "2.1.0",
            tag: "v2.1.0",
        },
        &poetry_check,
    );
}

#[test]
fn a_monorepo_with_a_linked_group_releases_every_package_once() {
    let test = "a_monorepo_with_a_linked_group_releases_every_package_once";
    if !have_act(test) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let _ = release_bins();
    let Some(server) = standin() else { return };
    let files = [
        (
            "packages/api/package.json",
            "{\n  \"name\": \"@plat/api\",\n  \"version\": \"1.0.0\",\n  \"main\": \"index.js\"\n}\n",
        ),
        ("packages/api/index.js", "exports.find = () => [];\n"),
        (
            "packages/web/package.json",
            "{\n  \"name\": \"@plat/web\",\n  \"version\": \"1.0.0\",\n  \"dependencies\": {\n    \"@plat/api\": \"^1.0.0\"\n  }\n}\n",
        ),
        (
            "packages/web/index.js",
            "const api = require('@plat/api');\n",
        ),
        (
            "package.json",
            "{\n  \"name\": \"plat\",\n  \"private\": true,\n  \"workspaces\": [\"packages/*\"]\n}\n",
        ),
        (
            "crates/cli/Cargo.toml",
            "[package]\nname = \"plat-cli\"\nversion = \"0.2.0\"\nedition = \"2021\"\n",
        ),
        ("crates/cli/src/main.rs", "fn main() {}\n"),
        (
            "crates/cli/Cargo.lock",
            "# This file is automatically @generated by Cargo.\n# It is not intended for manual editing.\nversion = 4\n\n[[package]]\nname = \"plat-cli\"\nversion = \"0.2.0\"\n",
        ),
    ];
    let mut hub = Hub::new(
        &server,
        tmp.path(),
        "octo/plat",
        "main",
        &files,
        &["api-v1.0.0", "web-v1.0.0", "cli-v0.2.0"],
    );
    let wf = workflow(
        "          packages: |\n            - name: api\n              path: packages/api\n              tag-pattern: api-v{version}\n              linked: platform\n            - name: web\n              path: packages/web\n              tag-pattern: web-v{version}\n              linked: platform\n            - name: cli\n              path: crates/cli\n              tag-pattern: cli-v{version}\n",
    );
    hub.push(
        "feat(api): find by name",
        &[(
            "packages/api/index.js",
            "exports.find = (name) => [name];\n",
        )],
    );
    hub.push(
        "fix(cli): exit non-zero on bad input",
        &[(
            "crates/cli/src/main.rs",
            "fn main() {\n    std::process::exit(i32::from(std::env::args().count() > 2));\n}\n",
        )],
    );
    let (run, out) = hub.run(&wf);
    assert!(run.success, "{}", run.log);
    assert_eq!(out["action"], "opened", "{out}\n{}", run.log);
    let versions: Value = serde_json::from_str(out["versions"].as_str().unwrap()).unwrap();
    assert_eq!(
        versions,
        json!({"api": "1.1.0", "web": "1.1.0", "cli": "0.2.1"}),
        "the linked group shares 1.1.0, cli goes alone"
    );
    assert_eq!(hub.pulls().len(), 1, "one pull request for every package");
    hub.check_one_verified_commit();
    let branch = hub.release_branch();
    let api: Value = serde_json::from_str(&hub.show(&branch, "packages/api/package.json")).unwrap();
    assert_eq!(api["version"], "1.1.0");
    let web: Value = serde_json::from_str(&hub.show(&branch, "packages/web/package.json")).unwrap();
    assert_eq!(web["version"], "1.1.0");
    assert_eq!(
        web["dependencies"]["@plat/api"], "^1.1.0",
        "the dependent follows"
    );
    let cli = hub.show(&branch, "crates/cli/Cargo.toml");
    assert!(cli.contains("version = \"0.2.1\""), "{cli}");
    let lock = hub.show(&branch, "crates/cli/Cargo.lock");
    assert!(
        lock.contains("name = \"plat-cli\"\nversion = \"0.2.1\""),
        "{lock}"
    );
    let api_log = hub.show(&branch, "packages/api/CHANGELOG.md");
    assert!(api_log.contains("find by name"), "{api_log}");
    assert!(!api_log.contains("exit non-zero"), "{api_log}");
    let cli_log = hub.show(&branch, "crates/cli/CHANGELOG.md");
    assert!(cli_log.contains("exit non-zero on bad input"), "{cli_log}");
    let number: u64 = out["pr-number"].as_str().unwrap().parse().unwrap();

    let merge = hub.merge(number);
    let (run, out) = hub.run(&wf);
    assert!(run.success, "{}", run.log);
    assert_eq!(out["action"], "released", "{out}\n{}", run.log);
    let mut tags: Vec<String> =
        serde_json::from_str::<Vec<String>>(out["tags"].as_str().unwrap()).unwrap();
    tags.sort();
    assert_eq!(tags, ["api-v1.1.0", "cli-v0.2.1", "web-v1.1.0"]);
    for tag in &tags {
        let at = git(&hub.origin, &["rev-parse", &format!("{tag}^{{commit}}")]);
        assert_eq!(at.trim(), merge, "{tag}");
    }
    let mut released: Vec<String> = hub
        .releases()
        .iter()
        .map(|r| r["tag_name"].as_str().unwrap().to_owned())
        .collect();
    released.sort();
    assert_eq!(released, tags);

    let counts = hub.counts();
    let writes = hub.writes();
    let (run, out) = hub.run(&wf);
    assert!(run.success, "{}", run.log);
    assert_eq!(out["released"], "true", "{out}");
    assert_eq!(hub.counts(), counts);
    assert_eq!(hub.writes(), writes, "a re-run wrote");
    server.assert_conforms();
}

#[test]
fn a_hostile_subject_and_branch_stay_text_everywhere() {
    let test = "a_hostile_subject_and_branch_stay_text_everywhere";
    if !have_act(test) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let _ = release_bins();
    let Some(server) = standin() else { return };
    let pwned = tmp.path().join("pwned");
    // A branch name git accepts, holding shell, HTML and a team mention.
    let branch = "trunk-$(touch${IFS}pwned)-`id`-<img>-@octo/team";
    let mut hub = Hub::new(
        &server,
        tmp.path(),
        "octo/stones",
        branch,
        &[("VERSION", "1.0.0\n")],
        &["v1.0.0"],
    );
    let hostile = format!(
        "feat: ::set-output name=tag::PWN <script>alert(1)</script> @octo/team `id` $(touch {})\n\n::error::PWN in the body\n##[set-output name=version]PWN",
        pwned.display()
    );
    hub.push(&hostile, &[("stones.txt", "granite\n")]);
    let (run, out) = hub.run(&workflow(""));
    assert!(run.success, "{}", run.log);
    assert_eq!(out["action"], "opened", "{out}\n{}", run.log);
    assert_eq!(out["version"], "1.1.0", "{out}");
    assert!(!out.to_string().contains("PWN"), "{out}");
    let ran: Vec<_> = commands_in(&step_output(&run.log))
        .into_iter()
        .filter(|(name, rest)| name.contains("PWN") || rest.contains("PWN"))
        .collect();
    assert!(ran.is_empty(), "commands ran: {ran:?}\n{}", run.log);
    assert!(!pwned.exists(), "the subject ran as a command");

    let pulls = hub.pulls();
    assert_eq!(pulls.len(), 1, "{pulls:#?}");
    assert_eq!(pulls[0]["head"], format!("hub-release/{branch}"));
    let body = pulls[0]["body"].as_str().unwrap();
    // The hidden marker names the (hostile) branch inside an HTML comment, which GitHub
    // renders as nothing; what is rendered is the rest.
    let body = &rendered(body);
    let raw_html = body
        .match_indices("<script")
        .any(|(i, _)| !body[..i].ends_with('\\'));
    assert!(!raw_html, "raw HTML in the body:\n{body}");
    assert!(!body.contains("@octo/team"), "a live mention:\n{body}");
    assert!(
        body.contains("alert(1)"),
        "the subject is in the notes:\n{body}"
    );
    let head = hub.check_one_verified_commit();
    let message = git(&hub.origin, &["log", "-1", "--format=%B", &head]);
    assert_eq!(
        message.lines().next(),
        Some(format!("chore({branch}): release 1.1.0").as_str()),
        "{message}"
    );
    assert_eq!(hub.show(&hub.release_branch(), "VERSION"), "1.1.0\n");

    let number: u64 = out["pr-number"].as_str().unwrap().parse().unwrap();
    hub.merge(number);
    let (run, out) = hub.run(&workflow(""));
    assert!(run.success, "{}", run.log);
    assert_eq!(out["action"], "released", "{out}\n{}", run.log);
    assert_eq!(out["tag"], "v1.1.0", "{out}");
    assert!(!out.to_string().contains("PWN"), "{out}");
    let ran: Vec<_> = commands_in(&step_output(&run.log))
        .into_iter()
        .filter(|(name, rest)| name.contains("PWN") || rest.contains("PWN"))
        .collect();
    assert!(ran.is_empty(), "commands ran: {ran:?}\n{}", run.log);
    let notes = rendered(hub.releases()[0]["body"].as_str().unwrap());
    let raw_html = notes
        .match_indices("<script")
        .any(|(i, _)| !notes[..i].ends_with('\\'));
    assert!(!raw_html, "raw HTML in the notes:\n{notes}");
    assert!(!notes.contains("@octo/team"), "a live mention:\n{notes}");
    assert!(!pwned.exists(), "the subject ran as a command");
    server.assert_conforms();
}
