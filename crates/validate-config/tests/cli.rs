//! End-to-end: the built binary in a temporary working directory, with a clean environment,
//! temporary `GITHUB_OUTPUT`/`GITHUB_STEP_SUMMARY` files and `INPUT_*` variables.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
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
        stdout: clean(&stable_tokens(&String::from_utf8_lossy(&output.stdout))),
        stderr: clean(&String::from_utf8_lossy(&output.stderr)),
        outputs: hub_kit::files::parse_key_values(&read("output"))
            .into_iter()
            .map(|(k, v)| (k, clean(&v)))
            .collect(),
        summary: read("summary"),
    }
}

/// Replaces the random `::stop-commands::` token so snapshots are stable.
fn stable_tokens(text: &str) -> String {
    let mut out = text.to_owned();
    for line in text.lines() {
        if let Some(token) = line.strip_prefix("::stop-commands::") {
            out = out.replace(token, "[TOKEN]");
        }
    }
    out
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
    invalid/provider-errors.yaml:6:5: warning[rule/provider-api-key]: provider `anthropic` needs `OPENCODE_<NAME>_API_KEY` set (empty on pull requests from forks, hence a warning)
    invalid/provider-errors.yaml:7:15: error[schema/minLength]: `` must not be empty
    invalid/provider-errors.yaml:8:18: error[schema/exclusiveMinimum]: `0` must be greater than `0`
    invalid/provider-errors.yaml:9:5: error[schema/required]: missing required property `apiKey`
    invalid/provider-errors.yaml:9:5: warning[rule/provider-api-key]: provider `openai` needs `OPENCODE_<NAME>_API_KEY` set (empty on pull requests from forks, hence a warning)
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
        &[
            ("OPENCODE_ANTHROPIC_API_KEY", "sk-test"),
            ("OPENCODE_OPENAI_API_KEY", "sk-test"),
        ],
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
    | 6:3 | ❌ error | unknown property \`x\\n\:\:error file\=pwned\.yml,line\=1\:\:injected%0A\:\:warning\:\:\` | `schema/additionalProperties` | `#/properties/agents/additionalProperties` |
    | 8:36 | ❌ error | expected boolean, found string \`yes please\` | `schema/type` | `#/properties/features/additionalProperties/type` |

    ### `invalid/unknown-key.yaml`

    Schema: `schema.json`

    | Line\:Col | Severity | Message | Rule | Schema path |
    | --- | --- | --- | --- | --- |
    | 6:3 | ❌ error | unknown property \`timout\`; did you mean \`timeout\`? | `schema/additionalProperties` | `#/properties/agents/additionalProperties` |

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
            ("OPENCODE_ANTHROPIC_API_KEY", "sk-test"),
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
            "many",
        ],
        &[
            ("OPENCODE_ANTHROPIC_API_KEY", "x"),
            ("OPENCODE_OPENAI_API_KEY", "y"),
        ],
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

/// Serves `routes` on 127.0.0.1 for at most `requests` requests or 30 seconds, then stops.
fn serve(
    routes: Vec<(&'static str, Vec<u8>)>,
    requests: usize,
) -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("because loopback is available");
    listener
        .set_nonblocking(true)
        .expect("because the socket can be non-blocking");
    let base = format!(
        "http://{}",
        listener.local_addr().expect("because it is bound")
    );
    let handle = std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let mut served = 0;
        while served < requests && std::time::Instant::now() < deadline {
            let mut stream = match listener.accept() {
                Ok((stream, _)) => stream,
                Err(_) => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                    continue;
                }
            };
            served += 1;
            let _ = stream.set_nonblocking(false);
            let mut reader = BufReader::new(stream.try_clone().expect("because the stream clones"));
            let mut request_line = String::new();
            let _ = reader.read_line(&mut request_line);
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_owned();
            let body = routes
                .iter()
                .find(|(p, _)| *p == path)
                .map(|(_, b)| b.clone());
            let (status, body) = match body {
                Some(body) => ("200 OK", body),
                None => ("404 Not Found", b"not found".to_vec()),
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
            let _ = stream.flush();
            let _ = reader.read(&mut [0u8; 1]);
        }
    });
    (base, handle)
}

#[test]
fn remote_schemas_and_refs_are_downloaded_once_then_cached() {
    let schema =
        br#"{"type": "object", "properties": {"port": {"$ref": "defs.json#/$defs/port"}}}"#
            .to_vec();
    let defs = br#"{"$defs": {"port": {"type": "integer", "maximum": 65535}}}"#.to_vec();
    let huge = vec![b' '; 9 * 1024 * 1024];
    // schema.json and defs.json once each, then huge.json once.
    let (base, server) = serve(
        vec![
            ("/schema.json", schema),
            ("/defs.json", defs),
            ("/huge.json", huge),
        ],
        3,
    );
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
    server
        .join()
        .expect("because the server stops after its requests");
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
