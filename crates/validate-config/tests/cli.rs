//! End-to-end: the built binary in a temporary working directory, with a clean environment,
//! temporary `GITHUB_OUTPUT`/`GITHUB_STEP_SUMMARY` files and `INPUT_*` variables.

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/validate-config")
}

fn peer_suites() -> Option<PathBuf> {
    hub_testkit::peer_suites()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("because the folder can be made");
    for entry in std::fs::read_dir(from).expect("because the fixtures exist") {
        let entry = entry.expect("because the entry is readable");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("because the file can be copied");
        }
    }
}

/// A temporary working directory holding a copy of the fixtures.
fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("because a temp dir can be made");
    copy_dir(&fixtures(), dir.path());
    dir
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    outputs: Vec<(String, String)>,
    summary: String,
}

/// Runs the binary in `dir`; `actions` adds the runner's variables (files under `dir/.runner`).
fn run(dir: &Path, args: &[&str], env: &[(&str, &str)], actions: bool) -> Run {
    let runner = dir.join(".runner");
    std::fs::create_dir_all(runner.join("temp")).expect("because the folder can be made");
    let mut command = Command::new(env!("CARGO_BIN_EXE_hub-validate-config"));
    command
        .current_dir(dir)
        .env_clear()
        .env("HOME", runner.join("home"))
        .args(args)
        .envs(env.iter().copied());
    if actions {
        command
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", runner.join("output"))
            .env("GITHUB_STEP_SUMMARY", runner.join("summary"))
            .env("RUNNER_TEMP", runner.join("temp"));
    }
    let output = command.output().expect("because the binary runs");
    let read = |name: &str| std::fs::read_to_string(runner.join(name)).unwrap_or_default();
    let clean = |text: &str| text.replace(&dir.display().to_string(), "[DIR]");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: clean(&hub_testkit::bin::stable_tokens(&String::from_utf8_lossy(
            &output.stdout,
        ))),
        stderr: clean(&String::from_utf8_lossy(&output.stderr)),
        outputs: hub_kit::files::parse_key_values(&read("output"))
            .into_iter()
            .map(|(k, v)| (k, clean(&v)))
            .collect(),
        summary: read("summary"),
    }
}

fn render(run: &Run) -> String {
    let outputs: Vec<String> = run
        .outputs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!(
        "exit {}\n--- stdout\n{}--- stderr\n{}--- outputs\n{}\n",
        run.code,
        run.stdout,
        run.stderr,
        outputs.join("\n")
    )
}

#[test]
fn fixtures_as_text_outside_actions() {
    let dir = workdir();
    let run = run(
        dir.path(),
        &[
            "--schema",
            "schema.json",
            "--rules",
            "rules.json",
            "invalid",
        ],
        &[],
        false,
    );
    insta::assert_snapshot!(render(&run), @r"
    exit 1
    --- stdout
    invalid/bad-version.json:2:14: error[schema/pattern]: `1.4` does not match the pattern `^\d+\.\d+\.\d+$`
    invalid/billion-laughs.yaml:6:8: error[alias-limit]: aliases expand to more than 100000 nodes (an alias bomb?); write the data out instead of nesting aliases
    invalid/duplicate-key.yaml:4:3: error[rule/distinct-models]: `models.fallback` must differ from `models.primary`
    invalid/duplicate-key.yaml:5:3: error[duplicate-key]: duplicate key `primary`; remove one of them: the key is also on line 3 and the last one wins
    invalid/executable.json:2:1: error[syntax]: expected a JSON value, found `m`
    invalid/injection.yaml:6:3: error[schema/additionalProperties]: unknown property `x\n::error file=pwned.yml,line=1::injected%0A::warning::`
    invalid/injection.yaml:8:36: error[schema/type]: expected boolean, found string `yes please`
    invalid/latin1.yaml:3:15: error[not-utf8]: file is not valid UTF-8; save the file as UTF-8
    invalid/missing-models.toml:1:1: error[schema/required]: missing required property `models`
    invalid/provider-errors.yaml:6:5: warning[rule/provider-api-key]: provider `anthropic` is not in the `KEYED_PROVIDERS` rule variable, the providers this deployment has API keys for
    invalid/provider-errors.yaml:7:15: error[schema/minLength]: `apiKey` must not be empty
    invalid/provider-errors.yaml:8:18: error[schema/exclusiveMinimum]: `0` must be greater than `0`
    invalid/provider-errors.yaml:9:5: error[schema/required]: missing required property `apiKey`
    invalid/provider-errors.yaml:9:5: warning[rule/provider-api-key]: provider `openai` is not in the `KEYED_PROVIDERS` rule variable, the providers this deployment has API keys for
    invalid/same-models.yaml:4:3: error[rule/distinct-models]: `models.fallback` must differ from `models.primary`
    invalid/tabs.yaml:3:2: error[tab]: tabs disallowed within this context (block indentation); indent with spaces: YAML does not allow tabs for indentation
    invalid/unknown-key.yaml:6:3: error[schema/additionalProperties]: unknown property `timout`; did you mean `timeout`?
    invalid/wrong-types.yaml:6:12: error[schema/exclusiveMinimum]: `-5` must be greater than `0`
    invalid/wrong-types.yaml:7:15: error[schema/type]: expected integer, found number `1.5`
    invalid/wrong-types.yaml:8:13: error[schema/enum]: `warning` is not one of `debug`, `info`, `warn` or `error`
    invalid/wrong-types.yaml:10:14: error[schema/type]: expected boolean, found string `yes`; YAML 1.2 reads `yes` as a string: write `true`
    invalid/wrong-types.yaml:11:14: error[schema/type]: expected boolean, found string `false`
    12 files checked, 20 errors, 2 warnings
    --- stderr
    --- outputs
    ");
}

#[test]
fn inside_actions_annotations_are_escaped_and_outputs_set() {
    let dir = workdir();
    let run = run(
        dir.path(),
        &[
            "--schema",
            "schema.json",
            "invalid/injection.yaml",
            "invalid/unknown-key.yaml",
            "valid/config.yaml",
        ],
        &[("INPUT_RULE-VARS", "KEYED_PROVIDERS=anthropic,openai")],
        true,
    );
    // Every line the runner would read as a command is one of ours.
    for line in run.stdout.lines().filter(|l| l.starts_with("::")) {
        assert!(
            ["::error ", "::warning ", "::stop-commands::", "::[TOKEN]::"]
                .iter()
                .any(|p| line.starts_with(p)),
            "unexpected workflow command: {line}"
        );
    }
    insta::assert_snapshot!(render(&run), @r"
    exit 1
    --- stdout
    ::error title=validate-config%3A schema/additionalProperties,file=invalid/injection.yaml,line=6,endLine=6,col=3,endColumn=61::unknown property `x\n::error file=pwned.yml,line=1::injected%250A::warning::`
    ::error title=validate-config%3A schema/type,file=invalid/injection.yaml,line=8,endLine=8,col=36,endColumn=46::expected boolean, found string `yes please`
    ::error title=validate-config%3A schema/additionalProperties,file=invalid/unknown-key.yaml,line=6,endLine=6,col=3,endColumn=9::unknown property `timout`; did you mean `timeout`?
    ::stop-commands::[TOKEN]
    invalid/injection.yaml:6:3: error[schema/additionalProperties]: unknown property `x\n::error file=pwned.yml,line=1::injected%0A::warning::`
    invalid/injection.yaml:8:36: error[schema/type]: expected boolean, found string `yes please`
    invalid/unknown-key.yaml:6:3: error[schema/additionalProperties]: unknown property `timout`; did you mean `timeout`?
    3 files checked, 3 errors, 0 warnings
    ::[TOKEN]::
    --- stderr
    --- outputs
    valid=false
    files-checked=3
    error-count=3
    warning-count=0
    report=[DIR]/.runner/temp/hub-validate-config-report.json
    ");
    insta::assert_snapshot!(run.summary, @r"
    ## validate-config

    ❌ **3 files checked**: 3 errors and 0 warnings.

    ### `invalid/injection.yaml`

    Schema: `schema.json`

    | Line\:Col | Severity | Message | Rule | Schema path |
    | --- | --- | --- | --- | --- |
    | 6:3 | ❌ error | unknown property `x\n::error file=pwned.yml,line=1::injected%0A::warning::` | `schema/additionalProperties` | `#/properties/agents/additionalProperties` |
    | 8:36 | ❌ error | expected boolean, found string `yes please` | `schema/type` | `#/properties/features/additionalProperties/type` |

    ### `invalid/unknown-key.yaml`

    Schema: `schema.json`

    | Line\:Col | Severity | Message | Rule | Schema path |
    | --- | --- | --- | --- | --- |
    | 6:3 | ❌ error | unknown property `timout`; did you mean `timeout`? | `schema/additionalProperties` | `#/properties/agents/additionalProperties` |

    <details><summary>1 file without findings</summary>

    - `valid/config.yaml` — `schema.json`
    </details>
    ");
    let report = std::fs::read_to_string(
        dir.path()
            .join(".runner/temp/hub-validate-config-report.json"),
    )
    .expect("because the report is written");
    let report: serde_json::Value =
        serde_json::from_str(&report).expect("because the report is JSON");
    assert_eq!(report["errorCount"], 3);
    assert_eq!(
        report["files"][0]["diagnostics"][0]["pointer"],
        "/agents/x\n::error file=pwned.yml,line=1::injected%0A::warning::"
    );
}

#[test]
fn inputs_mirror_the_flags() {
    let dir = workdir();
    let run = run(
        dir.path(),
        &[],
        &[
            ("INPUT_FILES", "valid/config.yaml\nvalid/config.toml\n"),
            ("INPUT_SCHEMA", "schema.json"),
            ("INPUT_FORMAT", "json"),
            ("INPUT_FAIL-ON-WARNING", "true"),
            ("INPUT_RULE-VARS", "KEYED_PROVIDERS=anthropic"),
        ],
        false,
    );
    assert_eq!(
        run.code, 1,
        "warnings fail the run with fail-on-warning: {}",
        run.stderr
    );
    let report: serde_json::Value =
        serde_json::from_str(&run.stdout).expect("because --format json prints JSON");
    assert_eq!(
        (
            report["errorCount"].as_u64(),
            report["warningCount"].as_u64()
        ),
        (Some(0), Some(2))
    );
    assert_eq!(report["files"].as_array().map(Vec::len), Some(2));
}

#[test]
fn sarif_has_one_result_per_finding() {
    let dir = workdir();
    let run = run(
        dir.path(),
        &[
            "--schema",
            "schema.json",
            "--format",
            "sarif",
            "invalid/wrong-types.yaml",
        ],
        &[],
        false,
    );
    assert_eq!(run.code, 1);
    let sarif: serde_json::Value =
        serde_json::from_str(&run.stdout).expect("because SARIF is JSON");
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"]
        .as_array()
        .expect("because results is a list");
    assert_eq!(results.len(), 5);
    let first = &results[0];
    assert_eq!(first["ruleId"], "schema/exclusiveMinimum");
    assert_eq!(
        first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "invalid/wrong-types.yaml"
    );
    assert_eq!(
        first["locations"][0]["physicalLocation"]["region"]["startLine"],
        6
    );
}

#[test]
fn a_50_mb_file_is_refused_unread() {
    let dir = tempfile::tempdir().expect("because a temp dir can be made");
    let file =
        std::fs::File::create(dir.path().join("big.yaml")).expect("because the file can be made");
    file.set_len(50 * 1024 * 1024)
        .expect("because the file can be grown");
    let run = run(dir.path(), &["big.yaml"], &[], false);
    insta::assert_snapshot!(render(&run), @"
    exit 1
    --- stdout
    big.yaml:1:1: error[file-too-large]: file is 52428800 bytes, over the limit of 10485760 bytes
    1 file checked, 1 error, 0 warnings
    --- stderr
    --- outputs
    ");
}

#[test]
fn usage_errors_exit_2() {
    let dir = workdir();
    assert_eq!(run(dir.path(), &["--bogus"], &[], false).code, 2);
    assert_eq!(run(dir.path(), &["no/such/*.yml"], &[], false).code, 2);
    assert_eq!(
        run(dir.path(), &["--schema-map", "not a map line"], &[], false).code,
        2
    );
    assert_eq!(
        run(dir.path(), &[], &[("INPUT_OFFLINE", "yes")], false).code,
        2
    );
    for (flags, why) in [
        (
            ["--rule-var", "a-b=1"],
            "rule variable name `a-b` is not a CEL identifier",
        ),
        (
            ["--rule-var", "NOVALUE"],
            "rule variable `NOVALUE` is not `NAME=VALUE`",
        ),
        (
            ["--schema-root", "no/such/dir"],
            "schema root `no/such/dir` cannot be used",
        ),
        (
            ["--allowed-host", "https://x.example/"],
            "allowed host `https://x.example/` is not a host name",
        ),
    ] {
        let usage = run(dir.path(), &[flags[0], flags[1], "valid"], &[], false);
        assert_eq!(usage.code, 2, "{flags:?}: {}", usage.stderr);
        assert!(usage.stderr.contains(why), "{flags:?}: {}", usage.stderr);
    }
    let broken_rules = run(dir.path(), &["--rules", "schema.json", "valid"], &[], false);
    assert_eq!(broken_rules.code, 2);
    insta::assert_snapshot!(broken_rules.stderr, @"error: rules in `schema.json` are malformed: expected a list of rule objects");
}

#[test]
fn schema_map_and_parallel_checks_over_many_files() {
    let dir = workdir();
    let configs = dir.path().join("many");
    std::fs::create_dir_all(&configs).expect("because the folder can be made");
    let valid =
        std::fs::read_to_string(fixtures().join("valid/config.yaml")).expect("because it exists");
    let invalid = std::fs::read_to_string(fixtures().join("invalid/unknown-key.yaml"))
        .expect("because it exists");
    for i in 0..200 {
        let text = if i % 10 == 0 { &invalid } else { &valid };
        std::fs::write(configs.join(format!("c{i:03}.yml")), text)
            .expect("because it can be written");
    }
    let run = run(
        dir.path(),
        &[
            "--schema-map",
            "many/*.yml: schema.json",
            "--format",
            "json",
            "--rule-var",
            "KEYED_PROVIDERS=anthropic,openai",
            "many",
        ],
        &[],
        false,
    );
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("because it is JSON");
    assert_eq!(report["filesChecked"], 200);
    assert_eq!(report["errorCount"], 20);
    assert_eq!(report["files"][0]["schema"]["source"], "mapping");
    assert_eq!(report["files"][0]["path"], "many/c000.yml");
}

/// The cache key the binary uses for a URL (FNV-1a 64 of the URL, then its last segment).
fn cache_name(url: &str) -> String {
    let hash = url.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}-{}", url.rsplit('/').next().unwrap_or_default())
}

#[test]
fn catalog_schemas_come_from_the_cache_offline() {
    let Some(peers) = peer_suites() else { return };
    let store = peers.join("schemastore");
    let dir = tempfile::tempdir().expect("because a temp dir can be made");
    let cache_dir = tempfile::tempdir().expect("because a temp dir can be made");
    let cache = cache_dir.path().to_owned();
    for name in ["github-workflow", "dependabot-2.0"] {
        let url = format!("https://www.schemastore.org/{name}.json");
        std::fs::copy(
            store.join(format!("schemas/{name}.json")),
            cache.join(cache_name(&url)),
        )
        .expect("because the schema can be cached");
    }
    let workflows = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&workflows).expect("because the folder can be made");
    std::fs::write(
        workflows.join("bad.yml"),
        "on: push\njobs:\n  a:\n    runs-on: 42\n    steps: []\n",
    )
    .expect("because it can be written");
    std::fs::write(
        dir.path().join(".github/dependabot.yml"),
        "version: 2\nupdates: []\n",
    )
    .expect("because it can be written");
    // A schema file in the repository: checked against its draft's built-in meta-schema.
    std::fs::write(
        dir.path().join("schema.json"),
        r#"{"$schema": "http://json-schema.org/draft-07/schema#", "type": "objekt"}"#,
    )
    .expect("because it can be written");
    std::fs::write(
        workflows.join("ok.yml"),
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n",
    )
    .expect("because it can be written");
    std::fs::write(dir.path().join("notes.yml"), "free: form\n")
        .expect("because it can be written");
    let catalog = store.join("catalog-subset.json");
    let catalog = catalog.to_str().expect("because the path is UTF-8");
    let cache = cache.to_str().expect("because the path is UTF-8");
    let run = run(
        dir.path(),
        &[
            "--offline",
            "--catalog",
            catalog,
            "--cache-dir",
            cache,
            "--format",
            "json",
        ],
        &[],
        false,
    );
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("because it is JSON");
    let files: Vec<String> = report["files"]
        .as_array()
        .expect("because files is a list")
        .iter()
        .map(|f| {
            let codes: Vec<&str> = f["diagnostics"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d["code"].as_str())
                .collect();
            format!(
                "{} schema={} found={codes:?}",
                f["path"].as_str().unwrap_or_default(),
                f["schema"]["reference"].as_str().unwrap_or("none"),
            )
        })
        .collect();
    insta::assert_snapshot!(files.join("\n"), @r#"
    .github/dependabot.yml schema=https://www.schemastore.org/dependabot-2.0.json found=[]
    .github/workflows/bad.yml schema=https://www.schemastore.org/github-workflow.json found=["schema/anyOf", "schema/minItems"]
    .github/workflows/ok.yml schema=https://www.schemastore.org/github-workflow.json found=[]
    notes.yml schema=none found=[]
    schema.json schema=http://json-schema.org/draft-07/schema# found=["schema/anyOf"]
    "#);
    assert_eq!(run.code, 1);
}

/// Serves `routes` on 127.0.0.1 (404 elsewhere) for at most 30 seconds or until stopped.
fn serve(routes: Vec<(&'static str, Vec<u8>)>) -> hub_testkit::http::Server {
    use hub_testkit::http::{Server, reply};
    Server::for_at_most(std::time::Duration::from_secs(30), move |path, _| {
        Some(match routes.iter().find(|(p, _)| *p == path) {
            Some((_, body)) => reply("200 OK", "", body),
            None => reply("404 Not Found", "", b"not found"),
        })
    })
}

#[test]
fn remote_schemas_and_refs_are_downloaded_once_then_cached() {
    let schema =
        br#"{"type": "object", "properties": {"port": {"$ref": "defs.json#/$defs/port"}}}"#
            .to_vec();
    let defs = br#"{"$defs": {"port": {"type": "integer", "maximum": 65535}}}"#.to_vec();
    let huge = vec![b' '; 9 * 1024 * 1024];
    // schema.json and defs.json once each, then huge.json once.
    let server = serve(vec![
        ("/schema.json", schema),
        ("/defs.json", defs),
        ("/huge.json", huge),
    ]);
    let base = server.url("");
    let dir = tempfile::tempdir().expect("because a temp dir can be made");
    std::fs::write(dir.path().join("app.yml"), "port: 70000\n").expect("because it can be written");
    let cache = dir.path().join("cache");
    let cache = cache.to_str().expect("because the path is UTF-8");
    let url = format!("{base}/schema.json");
    let online = run(
        dir.path(),
        &["--schema", &url, "--cache-dir", cache, "app.yml"],
        &[],
        false,
    );
    let huge = run(
        dir.path(),
        &[
            "--schema",
            &format!("{base}/huge.json"),
            "--cache-dir",
            cache,
            "app.yml",
        ],
        &[],
        false,
    );
    assert_eq!(server.connections(), 3, "schema.json, defs.json, huge.json");
    // From here nothing answers: the offline run reads the cache or nothing.
    server.stop();
    let offline = run(
        dir.path(),
        &[
            "--schema",
            &url,
            "--cache-dir",
            cache,
            "--offline",
            "app.yml",
        ],
        &[],
        false,
    );
    assert_eq!(online.stdout, offline.stdout);
    insta::assert_snapshot!(online.stdout.replace(&base, "[SERVER]"), @"
    app.yml:1:7: error[schema/maximum]: `70000` is greater than the maximum of `65535`
    1 file checked, 1 error, 0 warnings
    ");
    insta::assert_snapshot!(huge.stdout.replace(&base, "[SERVER]"), @"
    app.yml:1:1: error[schema-unavailable]: `[SERVER]/huge.json` is larger than 8388608 bytes
    1 file checked, 1 error, 0 warnings
    ");
}

#[test]
fn one_sticky_comment_per_pull_request() {
    let Some(server) = hub_github_standin::test_support::TestServer::start(&["octo/hello"]) else {
        return;
    };
    let dir = workdir();
    let event = dir.path().join(".runner-event.json");
    std::fs::write(
        &event,
        r#"{"action": "synchronize", "pull_request": {"number": 7, "title": "t",
            "head": {"sha": "1111111111111111111111111111111111111111", "ref": "feature"},
            "base": {"sha": "2222222222222222222222222222222222222222", "ref": "main"}}}"#,
    )
    .expect("because it can be written");
    let event = event.to_str().expect("because the path is UTF-8");
    let env = [
        ("GITHUB_API_URL", server.url()),
        ("GITHUB_REPOSITORY", "octo/hello"),
        ("GITHUB_EVENT_NAME", "pull_request"),
        ("GITHUB_EVENT_PATH", event),
        ("GITHUB_TOKEN", "test-token"),
    ];
    let first = run(
        dir.path(),
        &[
            "--schema",
            "schema.json",
            "--comment",
            "invalid/unknown-key.yaml",
        ],
        &env,
        true,
    );
    let second = run(
        dir.path(),
        &["--schema", "schema.json", "--comment", "valid/config.yaml"],
        &env,
        true,
    );
    assert_eq!(
        (first.code, second.code),
        (1, 0),
        "{}\n{}",
        first.stdout,
        second.stdout
    );
    assert!(
        first.stdout.contains("pull request #7 comment posted: "),
        "{}",
        first.stdout
    );
    assert!(
        second.stdout.contains("pull request #7 comment updated: "),
        "{}",
        second.stdout
    );
    let state = server.state();
    let comments: Vec<&str> = state["repositories"]["octo/hello"]["comments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["body"].as_str())
        .collect();
    assert_eq!(comments.len(), 1, "{state:#}");
    assert!(
        comments[0].starts_with("<!-- hub-actions:validate-config -->"),
        "{}",
        comments[0]
    );
    assert!(
        comments[0].contains("✅ **1 file checked**"),
        "{}",
        comments[0]
    );
    server.assert_conforms();
}

/// Everything a run left behind that someone could read: stdout, stderr, the step summary,
/// the outputs file and the JSON report.
fn everything_written(dir: &Path, run: &Run) -> String {
    let runner = dir.join(".runner");
    let read = |path: PathBuf| std::fs::read_to_string(path).unwrap_or_default();
    // The one place a token may appear: the command that asks the runner to mask it.
    let stdout: Vec<&str> = run
        .stdout
        .lines()
        .filter(|line| !line.starts_with("::add-mask::"))
        .collect();
    format!(
        "{}\n{}\n{}\n{}\n{}",
        stdout.join("\n"),
        run.stderr,
        run.summary,
        read(runner.join("output")),
        read(runner.join("temp/hub-validate-config-report.json")),
    )
}

/// Issue 18, case 1: a pull request's config names its own schema, and that schema tries to
/// read the environment, files outside the repository and the loopback network.
#[test]
fn a_schema_from_the_repository_reads_no_secret_file_or_network() {
    const TOKEN: &str = "ghs_s3cretT0kenValue";
    const OUTSIDE: &str = "outside-secret-hunter2";
    const SERVED: &str = r#"{"const": "served-secret-from-loopback"}"#;
    // Up for the whole test, counting connections: none may come.
    let server =
        hub_testkit::http::Server::for_at_most(std::time::Duration::from_secs(600), |_, _| {
            Some(hub_testkit::http::reply("200 OK", "", SERVED.as_bytes()))
        });
    let port = server.port();
    let base = tempfile::tempdir().expect("because a temp dir can be made");
    let repo = base.path().join("repo");
    let outside = base.path().join("outside");
    for dir in [&repo, &outside, &repo.join(".git")] {
        std::fs::create_dir_all(dir).expect("because the folder can be made");
    }
    let write = |path: PathBuf, text: &str| {
        std::fs::write(path, text).expect("because the file can be written");
    };
    let secret_json = format!(r#"{{"token": "{OUTSIDE}-json"}}"#);
    write(outside.join("secret.json"), &secret_json);
    write(
        outside.join("creds.yaml"),
        &format!("password: {OUTSIDE}-yaml\n"),
    );
    write(
        repo.join(".git/config"),
        &format!("[http]\n\textraheader = AUTHORIZATION: basic {OUTSIDE}-git\n"),
    );
    std::os::unix::fs::symlink(outside.join("secret.json"), repo.join("link.json"))
        .expect("because a symlink can be made");
    // The environment through a rule, in one go and one character at a time.
    let mut rules = vec![
        serde_json::json!({"name": "whole", "rule": "env('INPUT_TOKEN')", "message": "m"}),
        serde_json::json!({"name": "set", "rule": "hasEnv('INPUT_TOKEN')", "message": "m"}),
    ];
    for (i, c) in TOKEN.chars().enumerate() {
        for guess in [c, 'x'] {
            rules.push(serde_json::json!({"name": format!("p{i:02}{guess}"),
                "rule": format!("env('INPUT_TOKEN').charAt({i}) != '{guess}'"), "message": "m"}));
        }
    }
    write(
        repo.join("leak.schema.json"),
        &serde_json::json!({"type": "object", "x-rules": rules}).to_string(),
    );
    write(
        repo.join("leak.yaml"),
        "$schema: ./leak.schema.json\na: 1\n",
    );
    // `$ref`s out of the repository: an absolute `file://` URI, `..`, a symlink, `.git/`.
    let file_uri = format!("file://{}/secret.json#/token", outside.display());
    for (name, reference) in [
        ("file-uri", file_uri.as_str()),
        ("dotdot", "../outside/creds.yaml#/password"),
        ("symlink", "link.json#/token"),
        ("git", ".git/config"),
        ("loopback", &format!("http://127.0.0.1:{port}/defs.json")),
        (
            "allowed-loopback",
            &format!("https://localhost:{port}/defs.json"),
        ),
    ] {
        write(
            repo.join(format!("{name}.schema.json")),
            &serde_json::json!({"properties": {"a": {"$ref": reference}}}).to_string(),
        );
        write(
            repo.join(format!("{name}.yaml")),
            &format!("$schema: ./{name}.schema.json\na: 1\n"),
        );
    }
    // `$schema` naming what lies outside: an absolute path, the loopback network.
    write(repo.join("hostname.yaml"), "$schema: /etc/hostname\na: 1\n");
    write(
        repo.join("absolute.yaml"),
        &format!("$schema: {}/secret.json\na: 1\n", outside.display()),
    );
    write(
        repo.join("remote.yaml"),
        &format!("$schema: http://127.0.0.1:{port}/schema.json\na: 1\n"),
    );
    // What the repository may do: a `$ref` to a sibling file.
    write(
        repo.join("defs.json"),
        r#"{"$defs": {"a": {"type": "string"}}}"#,
    );
    write(
        repo.join("inside.schema.json"),
        r##"{"properties": {"a": {"$ref": "defs.json#/$defs/a"}}}"##,
    );
    write(
        repo.join("inside.yaml"),
        "$schema: ./inside.schema.json\na: 1\n",
    );

    let hostname = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    let mut reports = Vec::new();
    let mut messages = Vec::new();
    for (token, offline) in [(TOKEN, false), ("xhs_otherTokenValue", true)] {
        let mut args = vec!["--format", "json", "--allowed-host", "localhost", "*.yaml"];
        if offline {
            args.push("--offline");
        }
        let env = [("INPUT_TOKEN", token), ("GITHUB_TOKEN", token)];
        let run = run(&repo, &args, &env, true);
        let written = everything_written(&repo, &run);
        for secret in [token, OUTSIDE, "served-secret-from-loopback"] {
            assert!(
                !written.contains(secret),
                "`{secret}` leaked into the run's output:\n{written}"
            );
        }
        let hostname = hostname.trim();
        assert!(
            hostname.len() < 4 || !written.contains(&format!("`{hostname}`")),
            "/etc/hostname was read:\n{written}"
        );
        let report: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(repo.join(".runner/temp/hub-validate-config-report.json"))
                .expect("because the report is written"),
        )
        .expect("because the report is JSON");
        let mut found = Vec::new();
        for file in report["files"].as_array().expect("because files is a list") {
            let path = file["path"].as_str().unwrap_or_default();
            let diagnostics = file["diagnostics"].as_array().cloned().unwrap_or_default();
            if path == "leak.yaml" {
                // Every rule reading the environment fails alike, whatever the token.
                let codes: Vec<&str> = diagnostics
                    .iter()
                    .filter_map(|d| d["code"].as_str())
                    .collect();
                assert!(
                    codes.iter().all(|c| c.starts_with("rule-error/")),
                    "{codes:?}"
                );
                found.push(format!("{path}: {} rule errors", codes.len()));
                continue;
            }
            for d in diagnostics {
                let message = d["message"].as_str().unwrap_or_default();
                found.push(format!(
                    "{path}: {}",
                    d["code"].as_str().unwrap_or_default()
                ));
                messages.push(format!("{path}: {message}"));
            }
        }
        reports.push(found.join("\n"));
    }
    assert_eq!(server.connections(), 0, "the loopback server was contacted");
    server.stop();
    // Which rules fail says nothing about the token either.
    assert_eq!(reports[0], reports[1]);
    insta::assert_snapshot!(reports[0], @"
    absolute.yaml: schema-unavailable
    allowed-loopback.yaml: schema-unavailable
    dotdot.yaml: schema-unavailable
    file-uri.yaml: schema-unavailable
    git.yaml: schema-unavailable
    hostname.yaml: schema-unavailable
    inside.yaml: schema/type
    leak.yaml: 42 rule errors
    loopback.yaml: schema-unavailable
    remote.yaml: schema-unavailable
    symlink.yaml: schema-unavailable
    ");
    // A refusal says why, naming the reference.
    for (file, why) in [
        ("absolute.yaml", "is an absolute path"),
        ("hostname.yaml", "`/etc/hostname` is an absolute path"),
        ("git.yaml", "is inside a `.git` folder"),
        ("loopback.yaml", "is not an HTTPS URL"),
        ("remote.yaml", "is not an HTTPS URL"),
        // hub-http's resolver, under the public-only policy.
        ("allowed-loopback.yaml", "`localhost` resolves to"),
        ("allowed-loopback.yaml", "a loopback address"),
    ] {
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with(file) && m.contains(why)),
            "{file}: {why}\n{messages:#?}"
        );
    }
}

/// Issue 18, case 6: config values in the JSON or SARIF report on stdout run no workflow
/// command, legacy `##[…]` form included.
#[test]
fn json_and_sarif_on_stdout_run_no_workflow_command() {
    let dir = tempfile::tempdir().expect("because a temp dir can be made");
    std::fs::write(
        dir.path().join("schema.json"),
        r#"{"type": "object", "additionalProperties": false,
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}"#,
    )
    .expect("because it can be written");
    std::fs::write(
        dir.path().join("hostile.yaml"),
        "a: '##[set-output name=valid;]true'\nb: '##[add-mask]hidden ##[error]boom'\n\
         \"x\\n::set-output name=valid::true\\n##[warning]w\": 1\n",
    )
    .expect("because it can be written");
    for format in ["json", "sarif"] {
        let run = run(
            dir.path(),
            &[
                "--schema",
                "schema.json",
                "--format",
                format,
                "hostile.yaml",
            ],
            &[],
            true,
        );
        assert_eq!(run.code, 1, "{}", run.stderr);
        for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            let commands = hub_kit::command::commands_in(text);
            assert!(
                commands
                    .iter()
                    .all(|(name, _)| ["error", "stop-commands"].contains(&name.as_str())),
                "{format} on {stream} runs {commands:?}:\n{text}"
            );
        }
        assert!(
            run.stdout.contains("set-output name=valid;]true"),
            "the value is still reported: {}",
            run.stdout
        );
        assert!(
            run.outputs
                .contains(&("valid".to_owned(), "false".to_owned())),
            "{:?}",
            run.outputs
        );
    }
}

/// Issue 18, case 13: the token is masked before anything else is printed, as the other
/// actions do, whether it comes from the `token` input or `GITHUB_TOKEN`.
#[test]
fn the_token_is_masked_before_anything_else() {
    let dir = workdir();
    for (variable, token) in [
        ("INPUT_TOKEN", "ghs_fromTheInput"),
        ("GITHUB_TOKEN", "ghs_fromTheEnv"),
    ] {
        let run = run(
            dir.path(),
            &[
                "--schema",
                "schema.json",
                "--comment",
                "invalid/unknown-key.yaml",
            ],
            &[(variable, token)],
            true,
        );
        let commands = hub_kit::command::commands_in(&run.stdout);
        assert_eq!(
            commands.first(),
            Some(&("add-mask".to_owned(), token.to_owned())),
            "{}",
            run.stdout
        );
    }
}

/// Peak resident memory (`VmHWM`, KiB) of the binary run in `dir` with `args`, read from
/// `/proc` while it runs; `None` where there is no `/proc`. The run is limited to the first two
/// CPUs the test may use, so it starts at most two workers whatever the machine.
fn peak_kib(dir: &Path, args: &[&str]) -> Option<u64> {
    if !Path::new("/proc/self/status").exists() {
        return None;
    }
    let before = rustix::thread::sched_getaffinity(None).expect("because affinity is readable");
    let mut two = rustix::thread::CpuSet::new();
    for cpu in (0..rustix::thread::CpuSet::MAX_CPU)
        .filter(|&cpu| before.is_set(cpu))
        .take(2)
    {
        two.set(cpu);
    }
    // A child inherits the affinity of the thread that starts it.
    rustix::thread::sched_setaffinity(None, &two).expect("because affinity can be narrowed");
    let child = Command::new(env!("CARGO_BIN_EXE_hub-validate-config"))
        .current_dir(dir)
        .env_clear()
        .env("HOME", dir)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    rustix::thread::sched_setaffinity(None, &before).expect("because affinity can be restored");
    let mut child = child.expect("because the binary runs");
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        let text = std::fs::read_to_string(&status).unwrap_or_default();
        let hwm = text
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            });
        peak = peak.max(hwm.unwrap_or(0));
        if child
            .try_wait()
            .expect("because the child can be waited for")
            .is_some()
        {
            return Some(peak);
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// Issue 18, case 11: checking many large files needs the memory of a few of them (one per
/// worker), not of all of them: each file's parse tree is dropped once it is checked.
#[test]
fn memory_is_bounded_by_the_largest_file_not_the_sum() {
    use std::fmt::Write as _;
    let dir = tempfile::tempdir().expect("because a temp dir can be made");
    // 1 MiB of small YAML mappings: a parse tree many times the file's size.
    let mut big = String::from("items:\n");
    let mut i = 0;
    while big.len() < 1 << 20 {
        let _ = writeln!(big, "  - {{name: n{i}, value: {i}, on: true}}");
        i += 1;
    }
    for n in 0..16 {
        std::fs::write(dir.path().join(format!("big{n:02}.yaml")), &big)
            .expect("because it can be written");
    }
    std::fs::write(dir.path().join("tiny.yaml"), "items: []\n").expect("because it can be written");
    std::fs::write(dir.path().join("schema.json"), r#"{"type": "object"}"#)
        .expect("because it can be written");
    let map = "*.yaml: schema.json";
    let peak = |files: &str| peak_kib(dir.path(), &["--schema-map", map, files]);
    let (Some(none), Some(one), Some(all)) =
        (peak("tiny.yaml"), peak("big00.yaml"), peak("big*.yaml"))
    else {
        hub_testkit::skip("no /proc to read the peak memory of a run from");
        return;
    };
    let per_file = one.saturating_sub(none);
    assert!(
        per_file > 1024,
        "one file costs {per_file} KiB over {none} KiB"
    );
    // Two workers hold two files at a time; 16 files kept to the end would be 16 times one.
    assert!(
        all.saturating_sub(none) < 6 * per_file,
        "16 files peaked at {all} KiB, one file at {one} KiB, none at {none} KiB"
    );
}

/// A folder outside the working directory serves the repository's references only once the
/// workflow names it in `schema-roots`.
#[test]
fn schema_roots_widen_where_the_repository_may_read() {
    let base = tempfile::tempdir().expect("because a temp dir can be made");
    let (repo, shared) = (base.path().join("repo"), base.path().join("shared"));
    for dir in [&repo, &shared] {
        std::fs::create_dir_all(dir).expect("because the folder can be made");
    }
    std::fs::write(
        shared.join("s.json"),
        r#"{"properties": {"a": {"type": "string"}}}"#,
    )
    .expect("because it can be written");
    std::fs::write(repo.join("a.yaml"), "$schema: ../shared/s.json\na: 1\n")
        .expect("because it can be written");
    let refused = run(&repo, &["a.yaml"], &[], false);
    assert!(
        refused
            .stdout
            .contains("error[schema-unavailable]: `../shared/s.json` is outside the schema roots"),
        "{}",
        refused.stdout
    );
    let allowed = run(
        &repo,
        &["a.yaml"],
        &[("INPUT_SCHEMA-ROOTS", "../shared\n")],
        false,
    );
    assert!(
        allowed
            .stdout
            .contains("a.yaml:2:4: error[schema/type]: expected string, found integer `1`"),
        "{}",
        allowed.stdout
    );
}

/// The workflow's inline schema map may name a schema anywhere; the same line in a map file in
/// the repository is the repository's, held to the schema roots.
#[test]
fn a_schema_map_file_in_the_repository_is_the_repositorys() {
    let base = tempfile::tempdir().expect("because a temp dir can be made");
    let (repo, elsewhere) = (base.path().join("repo"), base.path().join("elsewhere"));
    for dir in [&repo, &elsewhere] {
        std::fs::create_dir_all(dir).expect("because the folder can be made");
    }
    std::fs::write(
        elsewhere.join("s.json"),
        r#"{"properties": {"a": {"type": "string"}}}"#,
    )
    .expect("because it can be written");
    std::fs::write(repo.join("a.yaml"), "a: 1\n").expect("because it can be written");
    let line = "a.yaml: ../elsewhere/s.json\n";
    std::fs::write(repo.join("map.txt"), line).expect("because it can be written");
    let inline = run(&repo, &["--schema-map", line, "a.yaml"], &[], false);
    assert!(
        inline
            .stdout
            .contains("a.yaml:1:4: error[schema/type]: expected string, found integer `1`"),
        "{}",
        inline.stdout
    );
    let file = run(&repo, &["--schema-map", "map.txt", "a.yaml"], &[], false);
    assert!(
        file.stdout.contains(
            "error[schema-unavailable]: `../elsewhere/s.json` is outside the schema roots"
        ),
        "{}",
        file.stdout
    );
}

/// The report file is written through hub-kit's one atomic write: a link to it stays a link,
/// and a temporary file a killed run left next to it is removed.
#[test]
fn the_report_file_is_written_atomically() {
    let dir = workdir();
    let reports = dir.path().join("reports");
    std::fs::create_dir_all(&reports).expect("because the folder can be made");
    std::os::unix::fs::symlink("real.json", reports.join("report.json"))
        .expect("because a symlink can be made");
    let stale = reports.join(format!(".real.json{}0badc0ffee", hub_kit::files::TEMP_MARK));
    std::fs::write(&stale, "half a report").expect("because it can be written");
    let run = run(
        dir.path(),
        &[
            "--schema",
            "schema.json",
            "--report-file",
            "reports/report.json",
            "valid/config.yaml",
        ],
        &[],
        false,
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        std::fs::symlink_metadata(reports.join("report.json"))
            .expect("because the link exists")
            .file_type()
            .is_symlink()
    );
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(reports.join("real.json")).expect("because it is written"),
    )
    .expect("because the report is JSON");
    assert_eq!(report["filesChecked"], 1);
    assert!(!stale.exists(), "the killed run's temporary file is left");
}

/// Issue 20: inside Actions stdout is fenced by `::stop-commands::` lines, so the SARIF for
/// code scanning goes to `--sarif-file` (input `sarif-file`), written atomically: a clean
/// SARIF document, the same as `--format sarif` prints outside Actions, whatever `format` is.
#[test]
fn the_sarif_file_is_clean_sarif_inside_actions() {
    let dir = workdir();
    let reports = dir.path().join("reports");
    std::fs::create_dir_all(&reports).expect("because the folder can be made");
    let stale = reports.join(format!(
        ".results.sarif{}0badc0ffee",
        hub_kit::files::TEMP_MARK
    ));
    std::fs::write(&stale, "half a report").expect("because it can be written");
    let checked = ["--schema", "schema.json", "invalid/wrong-types.yaml"];
    let inside = run(
        dir.path(),
        &checked,
        &[("INPUT_SARIF-FILE", "reports/results.sarif")],
        true,
    );
    assert_eq!(inside.code, 1, "{}", inside.stderr);
    assert!(
        inside.stdout.contains("::stop-commands::"),
        "stdout is fenced inside Actions:\n{}",
        inside.stdout
    );
    let written =
        std::fs::read_to_string(reports.join("results.sarif")).expect("because it is written");
    let sarif: serde_json::Value =
        serde_json::from_str(&written).expect("because the file is SARIF alone");
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(
        sarif["runs"][0]["results"].as_array().map(Vec::len),
        Some(5)
    );
    assert!(!stale.exists(), "the killed run's temporary file is left");
    let mut on_stdout = checked.to_vec();
    on_stdout.extend(["--format", "sarif"]);
    let outside = run(dir.path(), &on_stdout, &[], false);
    assert_eq!(written.trim_end(), outside.stdout.trim_end());
    // Re-running changes nothing.
    let again = run(
        dir.path(),
        &[&checked[..], &["--sarif-file", "reports/results.sarif"]].concat(),
        &[],
        false,
    );
    assert_eq!(again.code, 1);
    assert_eq!(
        std::fs::read_to_string(reports.join("results.sarif")).expect("because it is written"),
        written
    );
    // A path that cannot be written (a folder) is an error naming it, exit 1, and nothing is
    // left behind.
    let folder = run(
        dir.path(),
        &[&checked[..], &["--sarif-file", "reports"]].concat(),
        &[],
        false,
    );
    assert_eq!(folder.code, 1);
    assert!(
        folder
            .stderr
            .contains("cannot write the SARIF report to `reports`"),
        "{}",
        folder.stderr
    );
    let left: Vec<_> = std::fs::read_dir(&reports)
        .expect("because the folder exists")
        .map(|e| e.expect("because the entry is readable").file_name())
        .collect();
    assert_eq!(left, ["results.sarif"]);
}

/// Issue 20: downloads go through the proxy the environment names (`HTTP_PROXY` for an
/// `http://` schema), and straight to the server when `NO_PROXY` names its host.
#[test]
fn downloads_go_through_the_environments_proxy_unless_no_proxy_names_the_host() {
    use hub_testkit::http::{ConnectProxy, Server, reply};
    let schema = br#"{"type": "object", "properties": {"port": {"maximum": 65535}}}"#;
    let server = Server::start(move |_, _| Some(reply("200 OK", "", schema)));
    let proxy = ConnectProxy::start();
    let dir = tempfile::tempdir().expect("because a temp dir can be made");
    std::fs::write(dir.path().join("app.yml"), "port: 70000\n").expect("because it can be written");
    let url = server.url("/schema.json");
    let target = format!("127.0.0.1:{}", server.port());
    let check = |cache: &str, env: &[(&str, &str)]| {
        let run = run(
            dir.path(),
            &["--schema", &url, "--cache-dir", cache, "app.yml"],
            env,
            false,
        );
        assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
        assert!(
            run.stdout.contains("error[schema/maximum]"),
            "{}{}",
            run.stdout,
            run.stderr
        );
    };
    let proxy_url = proxy.url();
    // Each run with its own cache, so each downloads.
    check("cache-proxied", &[("HTTP_PROXY", &proxy_url)]);
    assert_eq!(proxy.targets(), std::slice::from_ref(&target));
    assert_eq!(server.connections(), 1);
    check(
        "cache-direct",
        &[("HTTP_PROXY", &proxy_url), ("NO_PROXY", "127.0.0.1")],
    );
    assert_eq!(
        proxy.targets(),
        [target],
        "NO_PROXY's host went through the proxy"
    );
    assert_eq!(server.connections(), 2);
    // Lower case too, as curl reads them.
    check("cache-lower", &[("http_proxy", &proxy_url)]);
    assert_eq!(proxy.targets().len(), 2);
    // A proxy does not carry the repository's references past the address check: the name
    // is resolved here first, and the proxy is never asked.
    std::fs::write(
        dir.path().join("repo.yml"),
        format!(
            "$schema: https://localhost:{}/schema.json\nport: 1\n",
            server.port()
        ),
    )
    .expect("because it can be written");
    let refused = run(
        dir.path(),
        &[
            "--allowed-host",
            "localhost",
            "--cache-dir",
            "cache-repo",
            "repo.yml",
        ],
        &[("HTTPS_PROXY", &proxy_url)],
        false,
    );
    assert_eq!(refused.code, 1, "{}{}", refused.stdout, refused.stderr);
    assert!(
        refused.stdout.contains("error[schema-unavailable]")
            && refused.stdout.contains("`localhost` resolves to"),
        "{}",
        refused.stdout
    );
    assert_eq!(proxy.targets().len(), 2, "the proxy was asked");
    assert_eq!(server.connections(), 3);
    // The proxy itself may have a private name (here `localhost`): the repository's download
    // to an allowed host the runner cannot resolve goes to it, and fails there (502).
    std::fs::write(
        dir.path().join("allowed.yml"),
        "$schema: https://hub-test.invalid/schema.json\nport: 1\n",
    )
    .expect("because it can be written");
    let named_proxy = proxy_url.replace("127.0.0.1", "localhost");
    let through = run(
        dir.path(),
        &[
            "--allowed-host",
            "hub-test.invalid",
            "--cache-dir",
            "cache-named",
            "allowed.yml",
        ],
        &[("HTTPS_PROXY", &named_proxy)],
        false,
    );
    assert_eq!(through.code, 1, "{}{}", through.stdout, through.stderr);
    assert!(
        !through.stdout.contains("resolves to"),
        "the proxy's name was held to the policy:\n{}",
        through.stdout
    );
    assert!(
        proxy.targets().contains(&"hub-test.invalid:443".to_owned()),
        "{:?}",
        proxy.targets()
    );
}

/// Issue 20: the workers share one hub-http client (one current-thread runtime); many files
/// needing different remote schemas at once each get theirs.
#[test]
fn workers_download_different_schemas_at_once_on_the_one_client() {
    use hub_testkit::http::{Server, reply};
    let server = Server::start(|path, _| {
        let maximum: u32 = path
            .trim_start_matches("/max-")
            .trim_end_matches(".json")
            .parse()
            .ok()?;
        // A little latency, so the workers' downloads overlap.
        std::thread::sleep(std::time::Duration::from_millis(50));
        let schema = format!(r#"{{"properties": {{"port": {{"maximum": {maximum}}}}}}}"#);
        Some(reply("200 OK", "", schema.as_bytes()))
    });
    let dir = tempfile::tempdir().expect("because a temp dir can be made");
    let mut map = String::new();
    for n in 0..8 {
        let folder = dir.path().join(format!("s{n}"));
        std::fs::create_dir_all(&folder).expect("because the folder can be made");
        std::fs::write(folder.join("app.yml"), format!("port: {}\n", 1000 + 10 * n))
            .expect("because it can be written");
        // Eight schemas; for odd n the folder's allows one port less than its file has.
        let maximum = if n % 2 == 1 {
            999 + 10 * n
        } else {
            1000 + 10 * n
        };
        map.push_str(&format!(
            "s{n}/*.yml: {}\n",
            server.url(&format!("/max-{maximum}.json"))
        ));
    }
    let cache = dir.path().join("cache");
    let run = run(
        dir.path(),
        &[
            "--schema-map",
            &map,
            "--cache-dir",
            cache.to_str().expect("because the path is UTF-8"),
            "--format",
            "json",
            "s*/app.yml",
        ],
        &[],
        false,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    let verdicts: Vec<(String, bool)> = report["files"]
        .as_array()
        .expect("because files is a list")
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_owned(),
                f["diagnostics"].as_array().is_some_and(Vec::is_empty),
            )
        })
        .collect();
    let expected: Vec<(String, bool)> = (0..8)
        .map(|n| (format!("s{n}/app.yml"), n % 2 == 0))
        .collect();
    assert_eq!(verdicts, expected, "{}", run.stdout);
    assert_eq!(server.connections(), 8);
}

/// A `--schema` that is not there is the workflow's typo: one usage error naming it, not one
/// `schema-unavailable` error per file checked.
#[test]
fn a_missing_schema_file_is_a_usage_error() {
    let dir = workdir();
    let run = run(
        dir.path(),
        &["--schema", "schemas.json", "invalid"],
        &[],
        false,
    );
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "");
    insta::assert_snapshot!(run.stderr, @"error: schema `schemas.json` does not exist (looked for `[DIR]/schemas.json`)");
    let actions = self::run(
        dir.path(),
        &[],
        &[
            ("INPUT_SCHEMA", "file:///no/such/schema.json"),
            ("INPUT_FILES", "valid"),
        ],
        true,
    );
    assert_eq!(actions.code, 2, "{}", actions.stdout);
    assert!(
        actions
            .stdout
            .contains("::error::schema `file:///no/such/schema.json` does not exist"),
        "{}",
        actions.stdout
    );
}

/// A schema that cannot be read is reported where the file names it only when the file's own
/// `$schema`/modeline chose it; a mapped schema's failure is the file's, at 1:1.
#[test]
fn an_unavailable_schema_is_reported_where_it_was_chosen() {
    let dir = workdir();
    std::fs::write(
        dir.path().join("named.yaml"),
        "# yaml-language-server: $schema=gone.json\nversion: 1.4.0\n",
    )
    .expect("because the file can be written");
    let run = run(
        dir.path(),
        &[
            "--offline",
            "--schema-map",
            "valid/*.yaml: gone.json",
            "valid/config.yaml",
            "named.yaml",
        ],
        &[],
        false,
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let located: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.contains("schema-unavailable"))
        .map(|l| l.split(": error").next().unwrap_or_default())
        .collect();
    assert_eq!(
        located,
        ["named.yaml:1:33", "valid/config.yaml:1:1"],
        "{}",
        run.stdout
    );
}

/// A finding with no schema path (a syntax error) leaves the column empty instead of an
/// empty code span, which GitHub shows as two literal backticks.
#[test]
fn the_summary_has_no_empty_code_spans() {
    let dir = workdir();
    let run = run(
        dir.path(),
        &["--schema", "schema.json", "invalid/tabs.yaml"],
        &[],
        true,
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.summary.contains("| `tab` |"), "{}", run.summary);
    assert!(!run.summary.contains("``"), "{}", run.summary);
}

/// `schema-map` names a file that is not there: say so, rather than "line 1 is malformed".
#[test]
fn a_schema_map_path_that_is_not_a_file_says_so() {
    let dir = workdir();
    let run = run(
        dir.path(),
        &["--schema-map", "config/schemas.map", "valid"],
        &[],
        false,
    );
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    insta::assert_snapshot!(run.stderr, @"error: schema map `config/schemas.map` is neither a file (looked for `[DIR]/config/schemas.map`) nor `glob: schema` lines");
}

/// A schema map glob that matches none of the files (`*.yml` for `.yaml` files) leaves them
/// to their own `$schema`, the catalog or a syntax check, which can pass a gate that checked
/// nothing: it is a warning naming the glob.
#[test]
fn a_schema_map_glob_that_matches_no_file_is_a_warning() {
    let dir = workdir();
    let run = run(
        dir.path(),
        &[
            "--offline",
            "--schema-map",
            "invalid/*.yml: schema.json\nvalid/*.yaml: schema.json",
            "invalid/unknown-key.yaml",
            "valid/config.yaml",
        ],
        &[],
        false,
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(
            "warning: schema map glob `invalid/*.yml` chose no file's schema (no file checked matches it"
        ),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("`valid/*.yaml`"), "{}", run.stderr);
}

/// `--schema conf/schema.json conf`: the folder holds the schema, which is not a document of
/// its own kind — found by a walk it is not checked against itself; named, it is.
#[test]
fn the_schema_file_is_not_checked_against_itself_when_a_walk_finds_it() {
    let dir = workdir();
    let conf = dir.path().join("conf");
    std::fs::create_dir(&conf).expect("because the folder can be made");
    std::fs::copy(dir.path().join("schema.json"), conf.join("schema.json"))
        .expect("because the schema can be copied");
    std::fs::write(
        conf.join("app.yaml"),
        "version: 1.4.0\nmodels: {primary: a, fallback: b}\n",
    )
    .expect("because the file can be written");
    for schema in ["conf/schema.json", "./conf/schema.json"] {
        let walked = run(dir.path(), &["--schema", schema, "conf"], &[], false);
        assert_eq!(walked.code, 0, "{}{}", walked.stdout, walked.stderr);
        assert!(
            walked
                .stdout
                .ends_with("1 file checked, 0 errors, 0 warnings\n"),
            "{}",
            walked.stdout
        );
    }
    let named = run(
        dir.path(),
        &["--schema", "conf/schema.json", "conf", "conf/schema.json"],
        &[],
        false,
    );
    assert_eq!(named.code, 1, "{}", named.stdout);
    assert!(
        named.stdout.contains("conf/schema.json:"),
        "{}",
        named.stdout
    );
}

/// With `working-directory: invalid`, annotations and SARIF name files from the repository's
/// root (`GITHUB_WORKSPACE`), where GitHub and code scanning look for them; the text report
/// stays relative to the working directory.
#[test]
fn annotations_and_sarif_name_files_from_the_repository_root() {
    let dir = workdir();
    let sub = dir.path().join("invalid");
    let workspace = dir.path().display().to_string();
    let run = run(
        &sub,
        &[
            "--schema",
            "../schema.json",
            "--sarif-file",
            "out.sarif",
            "unknown-key.yaml",
        ],
        &[("GITHUB_WORKSPACE", &workspace)],
        true,
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("file=invalid/unknown-key.yaml,line=6,endLine=6,col=3"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("\nunknown-key.yaml:6:3: error[schema/additionalProperties]"),
        "{}",
        run.stdout
    );
    let sarif: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(sub.join("out.sarif")).expect("because the SARIF is written"),
    )
    .expect("because it is JSON");
    assert_eq!(
        sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "invalid/unknown-key.yaml"
    );
}
