//! End-to-end: YAML merge keys (`<<`) in a Compose-like file, read as check-jsonschema
//! (PyYAML/ruamel.yaml) and ajv-cli (js-yaml) read them — the built binary in a temporary
//! working directory with a clean environment.

use std::path::Path;
use std::process::Command;

/// A Compose-like schema: services with a closed set of properties and a required `image`,
/// `x-` extension fields free (where Compose files keep their anchors).
const SCHEMA: &str = r##"{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "properties": {
    "services": {
      "type": "object",
      "additionalProperties": { "$ref": "#/definitions/service" }
    }
  },
  "patternProperties": { "^x-": {} },
  "additionalProperties": false,
  "definitions": {
    "service": {
      "type": "object",
      "additionalProperties": false,
      "required": ["image", "port"],
      "properties": {
        "image": { "type": "string" },
        "port": { "type": "integer" },
        "restart": { "enum": ["no", "always", "on-failure", "unless-stopped"] },
        "privileged": { "type": "boolean" },
        "logging": {
          "type": "object",
          "additionalProperties": false,
          "properties": { "driver": { "type": "string" } }
        },
        "command": { "type": "string" }
      }
    }
  }
}
"##;

/// Every service takes its keys through `<<`: overrides before and after it, a sequence of
/// merges, a nested merge (`x-debug` merges `x-service`).
const VALID: &str = "\
x-service: &service
  image: registry.example/web:1.4
  restart: always
  privileged: false

x-logging: &logging
  logging:
    driver: json-file

x-debug: &debug
  <<: *service
  command: run --debug

services:
  web:
    port: 80
    <<: [*service, *logging]
    image: registry.example/web:1.5
  worker:
    <<: *debug
    port: 9000
    restart: on-failure
";

/// Errors inside merged content (`privileged: yes`, a misspelt `drivr`), and one written in
/// the service; a quoted `\"<<\"`, which is an ordinary key.
const INVALID: &str = "\
x-service: &service
  image: registry.example/web:1.4
  restart: always
  privileged: yes

x-logging: &logging
  logging:
    drivr: json-file

services:
  web:
    <<: [*service, *logging]
    port: 80
  worker:
    image: registry.example/worker:1.4
    <<: *service
    port: eighty
    privileged: false
  legacy:
    \"<<\": *service
    port: 81
";

fn run(dir: &Path, args: &[&str], actions: bool) -> (i32, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hub-validate-config"));
    command
        .current_dir(dir)
        .env_clear()
        .env("HOME", dir.join(".home"))
        .args(args);
    if actions {
        let runner = dir.join(".runner");
        std::fs::create_dir_all(&runner).expect("because the folder can be made");
        command
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", runner.join("output"))
            .env("GITHUB_STEP_SUMMARY", runner.join("summary"))
            .env("RUNNER_TEMP", &runner);
    }
    let output = command.output().expect("because the binary runs");
    (
        output.status.code().unwrap_or(-1),
        hub_testkit::bin::stable_tokens(&String::from_utf8_lossy(&output.stdout)),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn workdir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("because a temp dir can be made");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("because the file can be written");
    }
    dir
}

#[test]
fn a_compose_file_with_merge_keys_is_valid() {
    let dir = workdir(&[("schema.json", SCHEMA), ("compose.yaml", VALID)]);
    let (code, stdout, stderr) = run(
        dir.path(),
        &["--schema", "schema.json", "compose.yaml"],
        false,
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    insta::assert_snapshot!(stdout, @"1 file checked, 0 errors, 0 warnings");
}

#[test]
fn errors_inside_merged_content_point_at_the_anchored_lines() {
    let dir = workdir(&[("schema.json", SCHEMA), ("compose.yaml", INVALID)]);
    let (code, stdout, stderr) = run(
        dir.path(),
        &["--schema", "schema.json", "compose.yaml"],
        false,
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    insta::assert_snapshot!(stdout, @r#"
    compose.yaml:4:15: error[schema/type]: expected boolean, found string `yes`; YAML 1.2 reads `yes` as a string: write `true`
    compose.yaml:8:5: error[schema/additionalProperties]: unknown property `drivr`; did you mean `driver`?
    compose.yaml:17:11: error[schema/type]: expected integer, found string `eighty`
    compose.yaml:19:3: error[schema/required]: missing required property `image`
    compose.yaml:20:5: error[schema/additionalProperties]: unknown property `<<`
    1 file checked, 5 errors, 0 warnings
    "#);
}

#[test]
fn a_merge_of_a_scalar_is_an_error_at_its_value() {
    let dir = workdir(&[
        ("schema.json", SCHEMA),
        (
            "compose.yaml",
            "x-image: &image registry.example/web:1.4\nservices:\n  web:\n    <<: *image\n    port: 80\n",
        ),
    ]);
    let (code, stdout, stderr) = run(
        dir.path(),
        &["--schema", "schema.json", "compose.yaml"],
        false,
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    insta::assert_snapshot!(stdout, @r#"
    compose.yaml:4:9: error[syntax]: a merge key `<<` takes a mapping, an alias of one or a sequence of them, not a string; quote the key (`"<<"`) to read it as an ordinary key
    1 file checked, 1 error, 0 warnings
    "#);
}

/// A merged key is untrusted text like a written one: inside Actions, an unknown property that
/// came through `<<` is one escaped annotation at the anchored line, and runs no command.
#[test]
fn a_hostile_merged_key_runs_no_workflow_command() {
    let hostile = "x-service: &service\n  image: web\n  \"x\\n::warning::injected\\n##[set-output name=valid;]true\": 1\nservices:\n  web:\n    <<: *service\n    port: 80\n";
    let dir = workdir(&[("schema.json", SCHEMA), ("compose.yaml", hostile)]);
    let (code, stdout, stderr) = run(
        dir.path(),
        &["--schema", "schema.json", "compose.yaml"],
        true,
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    for (stream, text) in [("stdout", &stdout), ("stderr", &stderr)] {
        let commands = hub_kit::command::commands_in(text);
        assert!(
            commands
                .iter()
                .all(|(name, _)| ["error", "stop-commands"].contains(&name.as_str())),
            "{stream} runs {commands:?}:\n{text}"
        );
    }
    let annotations: Vec<&str> = stdout
        .lines()
        .filter(|line| line.starts_with("::error "))
        .collect();
    insta::assert_snapshot!(annotations.join("\n"), @r"::error title=validate-config%3A schema/additionalProperties,file=compose.yaml,line=3,endLine=3,col=3,endColumn=59::unknown property `x\n::warning::injected\n##[set-output name=valid;]true`");
}
