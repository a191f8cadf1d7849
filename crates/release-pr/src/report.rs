//! Reporting: the outputs, the log, the step summary (with the token diagnostic) and, with
//! `--json`, the plan (a dry run) or the outcome as one JSON document on stdout. Untrusted
//! text (subjects, branch names, bodies) goes through hub-kit only.

use anyhow::Result;
use hub_conventional::semver::Version;
use hub_kit::Runner;
use hub_kit::md::{code, escape};
use serde_json::{Value, json};

use crate::plan::{Content, OpenPull, PullAction, Release};
use crate::request::Request;
use crate::version_files::unified_diff;

/// One release pull request's run.
pub struct PullRun {
    pub key: String,
    pub branch: String,
    /// Its content (`None`: nothing to release).
    pub content: Option<Content>,
    /// The open pull request (after opening, the new one).
    pub open: Option<OpenPull>,
    pub action: PullAction,
    /// The branch's head (after a push, the new one).
    pub head_sha: Option<String>,
    /// The content's files as git stores them, path and bytes (`files::tree_and_stored`),
    /// when the plan will commit through GitHub's API.
    pub stored: Option<crate::files::Stored>,
    /// What the run did not use of the pull request's body, and why.
    pub warnings: Vec<String>,
}

impl PullRun {
    /// What the log and the summary say: what the run did, or what it would do in a dry run.
    fn word(&self, dry_run: bool) -> &'static str {
        if dry_run {
            self.action.would()
        } else {
            self.action.word()
        }
    }
}

/// One release made (or planned, in a dry run).
pub struct Released {
    pub release: Release,
    pub url: Option<String>,
    /// Whether this run created its tag or release.
    pub created: bool,
}

impl Released {
    /// A dry run's release: nothing made.
    pub fn planned(release: Release) -> Released {
        Released {
            release,
            url: None,
            created: false,
        }
    }
}

/// The releases of one merged pull request.
pub struct PullRelease {
    pub number: u64,
    pub url: String,
    pub releases: Vec<Released>,
}

/// The whole run.
pub struct Run {
    pub base: String,
    pub workflow_token: bool,
    pub dry_run: bool,
    pub releases: Vec<PullRelease>,
    pub pulls: Vec<PullRun>,
}

impl Run {
    pub fn new(base: &str, workflow_token: bool, dry_run: bool) -> Run {
        Run {
            base: base.to_string(),
            workflow_token,
            dry_run,
            releases: Vec::new(),
            pulls: Vec::new(),
        }
    }

    /// The `action` output: the strongest of the run.
    pub fn action(&self) -> &'static str {
        if self.releases.iter().any(|r| !r.releases.is_empty()) {
            return "released";
        }
        for word in ["opened", "refreshed", "closed", "unchanged"] {
            if self.pulls.iter().any(|p| p.action.word() == word) {
                return word;
            }
        }
        "nothing"
    }
}

/// The plan (or outcome) as JSON: versions, tags, pull requests with title, body and a
/// unified diff per file, releases with their notes.
pub fn json(run: &Run) -> Value {
    let pulls: Vec<Value> = run
        .pulls
        .iter()
        .map(|p| {
            let content = p.content.as_ref();
            json!({
                "key": p.key,
                "branch": p.branch,
                "action": p.action.word(),
                "push": p.action.pushes(),
                "number": p.open.as_ref().map(|o| o.number),
                "url": p.open.as_ref().map(|o| o.url.clone()),
                "title": content.map(|c| c.title.clone()),
                "body": content.map(|c| c.body.clone()),
                "base_sha": content.map(|c| c.base_sha.clone()),
                "versions": content.map(|c| c.nexts.iter().map(|n| (n.name.clone(), json!(n.version.to_string()))).collect::<serde_json::Map<_, _>>()),
                "tags": content.map(|c| c.nexts.iter().map(|n| n.tag.clone()).collect::<Vec<_>>()),
                "files": content.map(|c| c.files.iter().map(|f| json!({
                    "path": f.path,
                    "diff": unified_diff(&f.path, f.before.as_deref().unwrap_or(""), &f.after),
                })).collect::<Vec<_>>()),
            })
        })
        .collect();
    let releases: Vec<Value> = run
        .releases
        .iter()
        .map(|r| {
            json!({
                "pull_request": r.number,
                "releases": r.releases.iter().map(|x| json!({
                    "package": x.release.name,
                    "version": x.release.version.to_string(),
                    "tag": x.release.tag,
                    "at": x.release.at,
                    "notes": x.release.notes,
                    "late_commits": x.release.late.iter().map(|(id, s)| json!({"id": id, "subject": s})).collect::<Vec<_>>(),
                    "major_tag": x.release.major_tag,
                    "url": x.url,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "dry_run": run.dry_run,
        "release_branch": run.base,
        "action": run.action(),
        "releases": releases,
        "pull_requests": pulls,
    })
}

/// Outputs, log lines, summary, JSON.
pub fn finish(run: &Run, request: &Request, runner: &mut Runner) -> Result<()> {
    let released: Vec<&Released> = run.releases.iter().flat_map(|r| &r.releases).collect();
    for r in &released {
        if let Some(wanted) = &r.release.release_as_unused {
            runner.warning(
                &release_as_unused(&r.release.tag, wanted, &r.release.version),
                &hub_kit::Annotation::default(),
            )?;
        }
        for (id, subject) in &r.release.late {
            runner.log_untrusted(&format!(
                "{}: commit {id} was merged after the release pull request's last refresh; it is in the release notes: {subject}",
                r.release.tag
            ))?;
        }
    }
    for p in &run.pulls {
        for warning in &p.warnings {
            runner.warning(warning, &hub_kit::Annotation::default())?;
        }
        runner.info(&format!(
            "release pull request {}: {}",
            p.branch,
            p.word(run.dry_run)
        ))?;
        if let Some(c) = &p.content {
            for f in &c.files {
                runner.log_untrusted(&format!("  {}", f.path))?;
            }
        }
    }
    // Outputs.
    let (tags, versions): (Vec<String>, serde_json::Map<String, Value>) = if released.is_empty() {
        let nexts: Vec<_> = run
            .pulls
            .iter()
            .filter_map(|p| p.content.as_ref())
            .flat_map(|c| &c.nexts)
            .collect();
        (
            nexts.iter().map(|n| n.tag.clone()).collect(),
            nexts
                .iter()
                .map(|n| (n.name.clone(), json!(n.version.to_string())))
                .collect(),
        )
    } else {
        (
            released.iter().map(|r| r.release.tag.clone()).collect(),
            released
                .iter()
                .map(|r| (r.release.name.clone(), json!(r.release.version.to_string())))
                .collect(),
        )
    };
    let first_pull = run.pulls.iter().find(|p| p.open.is_some());
    let (number, url) = match (
        first_pull.and_then(|p| p.open.as_ref()),
        run.releases.first(),
    ) {
        (Some(o), _) => (o.number.to_string(), o.url.clone()),
        (None, Some(r)) => (r.number.to_string(), r.url.clone()),
        _ => (String::new(), String::new()),
    };
    let head_sha = match released.first() {
        Some(r) => r.release.at.clone(),
        None => first_pull
            .or(run.pulls.first())
            .and_then(|p| p.head_sha.clone())
            .unwrap_or_default(),
    };
    runner.set_output("action", run.action())?;
    runner.set_output("pr-number", number)?;
    runner.set_output("pr-url", url)?;
    runner.set_output(
        "released",
        if !run.dry_run && !released.is_empty() {
            "true"
        } else {
            "false"
        },
    )?;
    runner.set_output("tag", tags.first().cloned().unwrap_or_default())?;
    runner.set_output("tags", serde_json::to_string(&tags)?)?;
    runner.set_output(
        "version",
        versions
            .values()
            .next()
            .and_then(Value::as_str)
            .unwrap_or_default(),
    )?;
    runner.set_output("versions", Value::Object(versions).to_string())?;
    runner.set_output("head-sha", head_sha)?;
    if runner.wants_summary() {
        runner.append_summary(&summary(run))?;
    }
    if request.json {
        runner.print_untrusted(&serde_json::to_string_pretty(&json(run))?)?;
    } else {
        runner.print_outputs(false)?;
    }
    Ok(())
}

/// What the run says of a `Release-As:` line it did not use (versions only: no untrusted
/// text).
fn release_as_unused(tag: &str, wanted: &Version, released: &Version) -> String {
    format!(
        "{tag}: the pull request's description says `Release-As: {wanted}`, which its last refresh did not apply (written after it, or refused by it); released {released}, the version its files hold. To release {wanted}, write `Release-As: {wanted}` in the next release pull request's description"
    )
}

/// The step summary: what happened, late commits, and the token diagnostic.
pub fn summary(run: &Run) -> String {
    let mut md = String::from("## release-pr\n\n");
    if run.dry_run {
        md.push_str("Dry run: nothing was written.\n\n");
    }
    for r in &run.releases {
        for x in &r.releases {
            let verb = match (x.created, run.dry_run) {
                (_, true) => "Would release",
                (true, false) => "Released",
                (false, false) => "Already released",
            };
            md.push_str(&format!(
                "- {verb} **{}** from pull request #{}{}\n",
                escape(&x.release.tag),
                r.number,
                x.url
                    .as_deref()
                    .map(|u| format!(": {}", escape(u)))
                    .unwrap_or_default()
            ));
            if let Some(wanted) = &x.release.release_as_unused {
                md.push_str(&format!(
                    "  - {}\n",
                    release_as_unused(&escape(&x.release.tag), wanted, &x.release.version)
                ));
            }
            if !x.release.late.is_empty() {
                md.push_str(&format!(
                    "  - {} commit(s) merged after the pull request's last refresh are in the notes:\n",
                    x.release.late.len()
                ));
                for (id, subject) in &x.release.late {
                    md.push_str(&format!("    - `{id}` {}\n", escape(subject)));
                }
            }
        }
    }
    for p in &run.pulls {
        let title = p
            .content
            .as_ref()
            .map(|c| escape(&c.title))
            .unwrap_or_default();
        let pr = p
            .open
            .as_ref()
            .map(|o| match o.url.as_str() {
                "" => format!(" #{}", o.number),
                url => format!(" [#{}]({url})", o.number),
            })
            .unwrap_or_default();
        md.push_str(&format!(
            "- Release pull request{pr} ({}): **{}** {title}\n",
            code(&p.branch),
            p.word(run.dry_run)
        ));
    }
    if run.workflow_token {
        md.push_str(
            "\n> [!NOTE]\n> This run used the workflow's `GITHUB_TOKEN`: pull requests and pushes made with it start no workflow run, so the release pull request's checks do not run. To run them, pass a GitHub App token: create an app with `contents: write` and `pull-requests: write`, install it on the repository, and add a step `uses: actions/create-github-app-token@v1` with `app-id` and `private-key`, then give its `token` output to release-pr's `token` input.\n",
        );
    }
    md
}
