//! Each package's last release and the one log since, on real repositories made with git.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

use std::path::Path;

use hub_conventional::TagPattern;
use hub_git::{Commit, Repo};
use hub_release::packages::{self, Package};
use hub_release::releases::{self, LastRelease};
use hub_testkit::git::{DATE, append_and_commit_at, line as git};

fn commit(dir: &Path, file: &str, message: &str) -> String {
    append_and_commit_at(dir, &[file], message, DATE)
}

fn config(dir: &Path) -> Vec<Package> {
    packages::load(
        "- name: api\n  path: api\n- name: web\n  path: web\n- name: cli\n  path: cli\n",
        dir,
    )
    .unwrap()
}

fn read(dir: &Path, config: &[Package]) -> (Repo, String, Vec<LastRelease>) {
    let (opened, tags) = Repo::open_with_tags(dir, &["HEAD"]).unwrap();
    let patterns: Vec<&TagPattern> = config.iter().map(|p| &p.pattern).collect();
    let to = opened.commits[0].clone();
    let lasts = releases::last_releases(&opened.repo, &patterns, &tags, &to).unwrap();
    (opened.repo, to, lasts)
}

#[test]
fn the_highest_reachable_tag_per_package_and_one_log_for_all() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    git(dir, &["init", "-q", "-b", "main"]);
    commit(dir, "api/a", "feat(api): first");
    let web_base = commit(dir, "web/w", "feat(web): first");
    git(dir, &["tag", "web@1.0.0"]);
    let api_base = commit(dir, "api/a", "fix(api): second");
    git(dir, &["tag", "-a", "-m", "release", "api@1.0.0"]);
    // A release candidate of api on a branch that was never merged: not the last release,
    // but a known version.
    git(dir, &["checkout", "-q", "-b", "rc"]);
    commit(dir, "api/a", "feat(api)!: on a branch");
    git(dir, &["tag", "api@2.0.0-rc.1"]);
    git(dir, &["checkout", "-q", "main"]);
    let late = commit(dir, "web/w", "feat(web): after both releases");

    let config = config(dir);
    let (repo, to, lasts) = read(dir, &config);
    let got: Vec<(Option<&str>, Option<&str>)> = lasts
        .iter()
        .map(|l| (l.tag.as_deref(), l.commit.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            (Some("api@1.0.0"), Some(api_base.as_str())),
            (Some("web@1.0.0"), Some(web_base.as_str())),
            (None, None),
        ]
    );
    let known: Vec<String> = lasts[0].known.iter().map(|v| v.to_string()).collect();
    assert_eq!(known, ["2.0.0-rc.1", "1.0.0"]);

    // cli has no release: the log is the whole history, and assign gives each package only
    // what its release does not hold.
    let (log, files) = releases::log_since(&repo, &lasts, &to).unwrap();
    assert_eq!(log.len(), 4);
    let commits: Vec<Commit<'_>> = log.iter().collect();
    let ids: Vec<&str> = commits.iter().map(|c| c.id).collect();
    let parents: Vec<Vec<&str>> = commits.iter().map(|c| c.parent_ids().collect()).collect();
    let pairs: Vec<(&Package, Option<&str>)> = config
        .iter()
        .zip(&lasts)
        .map(|(p, l)| (p, l.commit.as_deref()))
        .collect();
    let assigned = packages::assign(&ids, &parents, &files, &pairs);
    let summaries: Vec<Vec<&str>> = assigned
        .iter()
        .map(|picked| picked.iter().map(|&i| commits[i].summary()).collect())
        .collect();
    assert_eq!(
        summaries,
        [vec![], vec!["feat(web): after both releases"], vec![]]
    );
    assert_eq!(ids[0], late);
}

#[test]
fn every_package_released_logs_only_since_their_common_base() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    git(dir, &["init", "-q", "-b", "main"]);
    commit(dir, "README", "chore: start");
    commit(dir, "api/a", "feat(api): first");
    git(dir, &["tag", "api@0.1.0"]);
    commit(dir, "web/w", "feat(web): first");
    git(dir, &["tag", "web@0.1.0"]);
    commit(dir, "cli/c", "feat(cli): first");
    git(dir, &["tag", "cli@0.1.0"]);
    commit(dir, "api/a", "fix(api): since");
    let config = config(dir);
    let (repo, to, lasts) = read(dir, &config);
    assert!(lasts.iter().all(|l| l.version.is_some()));
    // The oldest release (api's) is where the one log starts: three commits, not five.
    let (log, _) = releases::log_since(&repo, &lasts, &to).unwrap();
    let summaries: Vec<&str> = log.iter().map(|c| c.summary()).collect();
    assert_eq!(
        summaries,
        ["fix(api): since", "feat(cli): first", "feat(web): first"]
    );
}
