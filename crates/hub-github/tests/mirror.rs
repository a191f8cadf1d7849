//! The client against a stand-in that mirrors a real local repository: shas made by a local
//! `git` are known to the API, as they are on GitHub after a push. Every exchange is checked
//! against GitHub's OpenAPI description.

use hub_github::{
    BlockingGitHub, FileCommit, GitHubConfig, NewDeployment, NewRelease, Repository, Token,
};
use hub_github_standin::test_support::TestServer;

#[path = "../../hub-github-standin/tests/local_git/mod.rs"]
mod local_git;

#[test]
fn the_client_works_on_commits_made_by_a_local_git() {
    let Some(server) = TestServer::start(&[]) else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let local = dir.path();
    let shas = local_git::build(local);
    server.import_git("octo/local", local).expect("imports");

    let mut config = GitHubConfig::new(server.url()).expect("a URL");
    config.token = Token::new("ghs_TOKENvalue0123456789abcdefSECRET");
    let client = BlockingGitHub::new(&config).expect("a client");
    let gh = client.github();
    let repo: Repository = "octo/local".parse().expect("a repository");

    // The annotated and the lightweight tag, as the local repository has them.
    let tag = client
        .block_on(gh.get_tag(&repo, "v1.0.0"))
        .expect("reads")
        .expect("exists");
    assert_eq!(tag.sha, shas["v1.0.0"]);
    assert_eq!(tag.commit_sha, shas["merge"]);
    assert!(tag.annotated);
    let light = client
        .block_on(gh.get_tag(&repo, "v0.1.0"))
        .expect("reads")
        .expect("exists");
    assert_eq!(
        (light.sha.as_str(), light.annotated),
        (shas["initial"].as_str(), false)
    );

    // A release of a local commit that is no branch head.
    let release = client
        .block_on(gh.create_release(
            &repo,
            &NewRelease {
                tag_name: "v1.1.0".to_owned(),
                target_commitish: Some(shas["verbatim"].clone()),
                name: Some("v1.1.0".to_owned()),
                body: None,
                draft: false,
                prerelease: false,
                make_latest: None,
            },
        ))
        .expect("created")
        .into_inner();
    assert_eq!(release.target_commitish, shas["verbatim"]);
    let created = client
        .block_on(gh.get_ref(&repo, "tags/v1.1.0"))
        .expect("reads")
        .expect("exists");
    assert_eq!(created.sha, shas["verbatim"]);

    // The floating major tag moved to local shas, back and forth.
    client
        .block_on(gh.create_ref(&repo, "tags/v1", &shas["initial"]))
        .expect("created");
    let moved = client
        .block_on(gh.move_ref(&repo, "tags/v1", &shas["merge"]))
        .expect("moved");
    assert_eq!(moved.sha, shas["merge"]);

    // A deployment of a local sha.
    let deployment = client
        .block_on(gh.create_deployment(
            &repo,
            &NewDeployment::new(shas["feature"].clone(), "staging"),
        ))
        .expect("created");
    assert_eq!(deployment.sha, shas["feature"]);

    // A file committed on top of the local `main` through the Git Data API.
    let outcome = client
        .block_on(gh.commit_files(
            &repo,
            &FileCommit {
                branch: "main".to_owned(),
                message: "docs: changelog for v1.1.0".to_owned(),
                files: vec![(
                    "CHANGELOG.md".to_owned(),
                    "# Changelog\n\n## 1.1.0\n".to_owned(),
                )],
                author: None,
            },
        ))
        .expect("committed");
    assert!(outcome.created);
    assert_eq!(outcome.parent, shas["merge"]);
    assert_ne!(outcome.sha, shas["merge"]);
    let head = client
        .block_on(gh.get_ref(&repo, "heads/main"))
        .expect("reads")
        .expect("exists");
    assert_eq!(head.sha, outcome.sha);
    let state = server.state();
    let commit = &state["repositories"]["octo/local"]["commits"][&outcome.sha];
    assert_eq!(commit["parents"], serde_json::json!([shas["merge"]]));
    // The new commit's tree is the one a local git writes for the same change.
    let index = dir.path().join("scratch-index");
    let index = index.to_str().expect("UTF-8 path");
    let blob = local_git::git_with_input(
        local,
        &["hash-object", "-w", "--stdin"],
        &[],
        Some(b"# Changelog\n\n## 1.1.0\n"),
    );
    local_git::git(local, &["read-tree", "main"], &[("GIT_INDEX_FILE", index)]);
    local_git::git(
        local,
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("100644,{blob},CHANGELOG.md"),
        ],
        &[("GIT_INDEX_FILE", index)],
    );
    let tree = local_git::git(local, &["write-tree"], &[("GIT_INDEX_FILE", index)]);
    assert_eq!(commit["tree"], tree.as_str());
    assert_eq!(
        state["repositories"]["octo/local"]["head_files"]["CHANGELOG.md"],
        "# Changelog\n\n## 1.1.0\n"
    );
    server.assert_conforms();
}
