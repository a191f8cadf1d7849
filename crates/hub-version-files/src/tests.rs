//! Every updater and every refusal, on small texts written here.

use std::collections::BTreeSet;

use crate::{Error, Kind, Request, Version, update};

/// Options of a check beyond the version.
#[derive(Default)]
struct Opts<'a> {
    package: Option<&'a str>,
    internal: &'a [&'a str],
    app_version: bool,
    workspace_version: bool,
}

/// Writes `version` into `text` as a `file` (its kind by name) and gives the new text.
fn run(
    file: &str,
    text: &str,
    version: &str,
    opts: &Opts<'_>,
) -> Result<(String, Vec<String>), Error> {
    let version = Version::parse(version).expect("because the test gives a version");
    let internal: BTreeSet<String> = opts.internal.iter().map(|s| s.to_string()).collect();
    let request = Request {
        version: &version,
        package: opts.package,
        internal: &internal,
        app_version: opts.app_version,
        workspace_version: opts.workspace_version,
    };
    let updated = update(Kind::detect(file), text, &request)?;
    assert_only_changed_lines_differ(text, &updated);
    // Writing the same version again changes nothing.
    let again =
        update(Kind::detect(file), &updated.text, &request).expect("because it just worked");
    assert_eq!(again.text, updated.text, "a second run changed the text");
    assert!(
        again.changes.is_empty(),
        "a second run reported {:?}",
        again.changes
    );
    Ok((
        updated.text,
        updated.changes.iter().map(ToString::to_string).collect(),
    ))
}

/// The edit is surgical: the same lines with the same line ends, and every line that
/// differs holds one of the new values.
fn assert_only_changed_lines_differ(before: &str, updated: &crate::Updated) {
    let old: Vec<&str> = before.split_inclusive('\n').collect();
    let new: Vec<&str> = updated.text.split_inclusive('\n').collect();
    assert_eq!(old.len(), new.len(), "the number of lines changed");
    for (a, b) in old.iter().zip(&new) {
        assert_eq!(
            a.ends_with("\r\n"),
            b.ends_with("\r\n"),
            "a line end changed: {b:?}"
        );
        assert_eq!(
            a.ends_with('\n'),
            b.ends_with('\n'),
            "a line end changed: {b:?}"
        );
        if a != b {
            assert!(
                updated.changes.iter().any(|c| b.contains(c.new.as_str())),
                "{b:?} differs from {a:?} but holds no new value"
            );
        }
    }
}

fn check(file: &str, text: &str, version: &str, opts: Opts<'_>, expect: &str, changes: &[&str]) {
    let (got, got_changes) =
        run(file, text, version, &opts).unwrap_or_else(|e| panic!("{file}: {e}"));
    assert_eq!(got, expect, "{file}");
    assert_eq!(got_changes, changes, "{file}");
}

fn refuse(file: &str, text: &str, opts: Opts<'_>, message: &str) {
    match run(file, text, "2.0.0", &opts) {
        Ok((text, _)) => panic!("{file}: expected `{message}`, updated to:\n{text}"),
        Err(e) => assert_eq!(e.to_string(), message, "{file}"),
    }
}

// --- Cargo ---------------------------------------------------------------------------

#[test]
fn cargo_package_version_keeps_comments_and_order() {
    check(
        "Cargo.toml",
        "# the app\n[package]\nname = \"app\" # name\nversion   =   '0.4.1'   # released by hub-actions\nedition = \"2024\"\n\n[dependencies]\nserde = \"1\"\n",
        "0.5.0",
        Opts::default(),
        "# the app\n[package]\nname = \"app\" # name\nversion   =   '0.5.0'   # released by hub-actions\nedition = \"2024\"\n\n[dependencies]\nserde = \"1\"\n",
        &["package.version: 0.4.1 → 0.5.0"],
    );
}

#[test]
fn cargo_crlf_and_no_final_newline_stay() {
    check(
        "Cargo.toml",
        "[package]\r\nname = \"app\"\r\nversion = \"0.4.1\"",
        "1.0.0",
        Opts::default(),
        "[package]\r\nname = \"app\"\r\nversion = \"1.0.0\"",
        &["package.version: 0.4.1 → 1.0.0"],
    );
}

#[test]
fn cargo_workspace_root_sets_its_version_and_internal_requirements() {
    check(
        "Cargo.toml",
        "[workspace]\nmembers = [\"crates/*\"]\n\n[workspace.package]\nversion = \"0.4.1\"\n\n[workspace.dependencies]\ncore = { path = \"crates/core\", version = \"0.4.1\" }\nserde = \"1\"\nfmt = { path = \"crates/fmt\", version = \">=0.1, <2\" }\n",
        "0.5.0",
        Opts {
            internal: &["core", "fmt"],
            ..Opts::default()
        },
        "[workspace]\nmembers = [\"crates/*\"]\n\n[workspace.package]\nversion = \"0.5.0\"\n\n[workspace.dependencies]\ncore = { path = \"crates/core\", version = \"0.5.0\" }\nserde = \"1\"\nfmt = { path = \"crates/fmt\", version = \">=0.1, <2\" }\n",
        &[
            "workspace.package.version: 0.4.1 → 0.5.0",
            "workspace.dependencies.core.version: 0.4.1 → 0.5.0",
        ],
    );
}

#[test]
fn cargo_member_path_dependencies_follow_with_their_operator() {
    check(
        "crates/app/Cargo.toml",
        "[package]\nname = \"app\"\nversion.workspace = true\n\n[dependencies]\ncore = { path = \"../core\", version = \"^0.4\" }\nrenamed = { package = \"fmt\", path = \"../fmt\", version = \"=0.4.1\" }\nserde = { version = \"1\" }\n\n[target.'cfg(unix)'.dev-dependencies.core]\npath = \"../core\"\nversion = \"~0.4.1\"\n",
        "0.5.0",
        Opts {
            internal: &["core", "fmt", "app"],
            workspace_version: true,
            ..Opts::default()
        },
        "[package]\nname = \"app\"\nversion.workspace = true\n\n[dependencies]\ncore = { path = \"../core\", version = \"^0.5.0\" }\nrenamed = { package = \"fmt\", path = \"../fmt\", version = \"=0.5.0\" }\nserde = { version = \"1\" }\n\n[target.'cfg(unix)'.dev-dependencies.core]\npath = \"../core\"\nversion = \"~0.5.0\"\n",
        &[
            "dependencies.core.version: ^0.4 → ^0.5.0",
            "dependencies.renamed.version: =0.4.1 → =0.5.0",
            "target.'cfg(unix)'.dev-dependencies.core.version: ~0.4.1 → ~0.5.0",
        ],
    );
}

#[test]
fn cargo_package_filter_touches_only_that_package_and_its_dependents() {
    let text = "[package]\nname = \"app\"\nversion = \"1.0.0\"\n\n[dependencies]\ncore = { path = \"../core\", version = \"0.4.1\" }\nfmt = { path = \"../fmt\", version = \"0.4.1\" }\n";
    check(
        "Cargo.toml",
        text,
        "0.5.0",
        Opts {
            package: Some("core"),
            internal: &["core", "fmt", "app"],
            ..Opts::default()
        },
        &text.replace("version = \"0.4.1\" }\nfmt", "version = \"0.5.0\" }\nfmt"),
        &["dependencies.core.version: 0.4.1 → 0.5.0"],
    );
}

#[test]
fn cargo_refusals_name_the_key() {
    refuse(
        "Cargo.toml",
        "[package]\nname = \"app\"\nversion.workspace = true\n",
        Opts::default(),
        "`package.version` is computed (`version.workspace = true`, but no workspace root with `[workspace.package].version` is given): write the version where it is defined",
    );
    refuse(
        "Cargo.toml",
        "[package]\nname = \"app\"\nedition = \"2024\"\n",
        Opts::default(),
        "no `package.version` in this file",
    );
    refuse(
        "Cargo.toml",
        "[package]\nname = \"app\"\nversion = 1\n",
        Opts::default(),
        "`package.version` is not a version string: `1`",
    );
    refuse(
        "Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"1.0.0\"\n[dependencies]\ncore = { path = \"../core\", version = \">=1, <2\" }\n",
        Opts {
            internal: &["core"],
            ..Opts::default()
        },
        "`dependencies.core.version` requires `>=1, <2`, which 2.0.0 does not satisfy: widen it by hand",
    );
    refuse(
        "Cargo.toml",
        "[package\nname = \"app\"\n",
        Opts::default(),
        "not valid TOML: line 1: unclosed table, expected `]`",
    );
}

#[test]
fn cargo_lock_updates_members_and_their_references() {
    let text = "# This file is automatically @generated by Cargo.\nversion = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.4.1\"\ndependencies = [\n \"core 0.4.1\",\n \"serde\",\n]\n\n[[package]]\nname = \"core\"\nversion = \"0.4.1\"\n\n[[package]]\nname = \"core\"\nversion = \"0.3.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"00\"\n\n[[package]]\nname = \"serde\"\nversion = \"0.4.1\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n";
    let expect = text
        .replacen(
            "name = \"app\"\nversion = \"0.4.1\"",
            "name = \"app\"\nversion = \"0.5.0\"",
            1,
        )
        .replacen("\"core 0.4.1\"", "\"core 0.5.0\"", 1)
        .replacen(
            "name = \"core\"\nversion = \"0.4.1\"",
            "name = \"core\"\nversion = \"0.5.0\"",
            1,
        );
    check(
        "Cargo.lock",
        text,
        "0.5.0",
        Opts {
            internal: &["app", "core"],
            ..Opts::default()
        },
        &expect,
        &[
            "package[name=app].version: 0.4.1 → 0.5.0",
            "package[name=app].dependencies.core: core 0.4.1 → core 0.5.0",
            "package[name=core].version: 0.4.1 → 0.5.0",
        ],
    );
    refuse(
        "Cargo.lock",
        text,
        Opts {
            package: Some("serde"),
            ..Opts::default()
        },
        "no package `serde` in this file",
    );
    refuse(
        "Cargo.lock",
        text,
        Opts::default(),
        "no `workspace member names (give `--package` or the workspace's Cargo.toml)` in this file",
    );
}

// --- npm -----------------------------------------------------------------------------

#[test]
fn package_json_keeps_layout_and_the_workspace_protocol() {
    check(
        "package.json",
        "{\r\n\t\"name\": \"@acme/app\",\r\n\t\"version\":\"0.4.1\",\r\n\t\"dependencies\": {\r\n\t\t\"@acme/core\": \"workspace:^\",\r\n\t\t\"@acme/fmt\": \"^0.4.1\",\r\n\t\t\"left-pad\": \"^0.4.1\"\r\n\t},\r\n\t\"devDependencies\": { \"@acme/lint\": \"0.4.1\", \"@acme/dev\": \">=0.1.0\" }\r\n}",
        "0.5.0",
        Opts {
            internal: &["@acme/core", "@acme/fmt", "@acme/lint", "@acme/dev"],
            ..Opts::default()
        },
        "{\r\n\t\"name\": \"@acme/app\",\r\n\t\"version\":\"0.5.0\",\r\n\t\"dependencies\": {\r\n\t\t\"@acme/core\": \"workspace:^\",\r\n\t\t\"@acme/fmt\": \"^0.5.0\",\r\n\t\t\"left-pad\": \"^0.4.1\"\r\n\t},\r\n\t\"devDependencies\": { \"@acme/lint\": \"0.5.0\", \"@acme/dev\": \">=0.1.0\" }\r\n}",
        &[
            "version: 0.4.1 → 0.5.0",
            "dependencies.@acme/fmt: ^0.4.1 → ^0.5.0",
            "devDependencies.@acme/lint: 0.4.1 → 0.5.0",
        ],
    );
}

#[test]
fn package_json_refusals() {
    refuse(
        "package.json",
        "{\"name\": \"a\"}\n",
        Opts::default(),
        "no `version` in this file",
    );
    refuse(
        "package.json",
        "{\"name\": \"a\", \"version\": 1}\n",
        Opts::default(),
        "`version` is not a version string: `1`",
    );
    refuse(
        "package.json",
        "{\"name\": \"a\", // no\n \"version\": \"1.0.0\"}\n",
        Opts::default(),
        "not valid JSON: Comments are not allowed on line 1 column 15",
    );
}

#[test]
fn package_lock_v1_root_only() {
    let text = "{\n  \"name\": \"app\",\n  \"version\": \"0.4.1\",\n  \"lockfileVersion\": 1,\n  \"requires\": true,\n  \"dependencies\": {\n    \"left-pad\": {\n      \"version\": \"0.4.1\"\n    }\n  }\n}\n";
    check(
        "package-lock.json",
        text,
        "0.5.0",
        Opts::default(),
        &text.replacen("0.4.1", "0.5.0", 1),
        &["version: 0.4.1 → 0.5.0"],
    );
}

#[test]
fn package_lock_v3_root_and_workspace_entries() {
    let text = r#"{
  "name": "acme",
  "version": "0.4.1",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {
      "name": "acme",
      "version": "0.4.1",
      "workspaces": ["packages/*"]
    },
    "node_modules/@acme/core": {
      "resolved": "packages/core",
      "link": true
    },
    "node_modules/left-pad": {
      "version": "0.4.1"
    },
    "packages/core": {
      "name": "@acme/core",
      "version": "0.4.1"
    },
    "packages/app": {
      "name": "@acme/app",
      "version": "0.4.1",
      "dependencies": {
        "@acme/core": "^0.4.1",
        "left-pad": "^0.4.1"
      }
    }
  }
}"#;
    let (got, changes) =
        run("package-lock.json", text, "0.5.0", &Opts::default()).expect("because it is a lock");
    assert_eq!(got.matches("0.5.0").count(), 5, "{got}");
    assert!(got.contains("\"node_modules/left-pad\": {\n      \"version\": \"0.4.1\""));
    assert!(got.contains("\"left-pad\": \"^0.4.1\""));
    assert_eq!(
        changes,
        [
            "version: 0.4.1 → 0.5.0",
            "packages[\"\"].version: 0.4.1 → 0.5.0",
            "packages[\"packages/core\"].version: 0.4.1 → 0.5.0",
            "packages[\"packages/app\"].version: 0.4.1 → 0.5.0",
            "packages[\"packages/app\"].dependencies.@acme/core: ^0.4.1 → ^0.5.0",
        ]
    );
    // One package: its entry and the ranges on it, not the root.
    let (got, changes) = run(
        "npm-shrinkwrap.json",
        text,
        "0.5.0",
        &Opts {
            package: Some("@acme/core"),
            ..Opts::default()
        },
    )
    .expect("because it is a lock");
    assert!(got.starts_with("{\n  \"name\": \"acme\",\n  \"version\": \"0.4.1\""));
    assert_eq!(
        changes,
        [
            "packages[\"packages/core\"].version: 0.4.1 → 0.5.0",
            "packages[\"packages/app\"].dependencies.@acme/core: ^0.4.1 → ^0.5.0",
        ]
    );
}

// --- Python --------------------------------------------------------------------------

#[test]
fn pyproject_pep621_and_poetry() {
    check(
        "pyproject.toml",
        "[project]\nname = \"acme\"\nversion = \"0.4.1\"  # keep\ndependencies = []\n",
        "0.5.0",
        Opts::default(),
        "[project]\nname = \"acme\"\nversion = \"0.5.0\"  # keep\ndependencies = []\n",
        &["project.version: 0.4.1 → 0.5.0"],
    );
    check(
        "pyproject.toml",
        "[tool.poetry]\nname = \"acme\"\nversion = \"0.4.1\"\n",
        "0.5.0rc1".replace("rc1", "-rc.1").as_str(),
        Opts::default(),
        "[tool.poetry]\nname = \"acme\"\nversion = \"0.5.0-rc.1\"\n",
        &["tool.poetry.version: 0.4.1 → 0.5.0-rc.1"],
    );
}

#[test]
fn pyproject_refusals() {
    refuse(
        "pyproject.toml",
        "[project]\nname = \"acme\"\ndynamic = [\"version\"]\n",
        Opts::default(),
        "`project.version` is computed (`project.dynamic` lists `version`, so the build backend computes it): write the version where it is defined",
    );
    refuse(
        "pyproject.toml",
        "[project]\nname = \"acme\"\n",
        Opts::default(),
        "no `project.version` in this file",
    );
    refuse(
        "pyproject.toml",
        "[project]\nname = \"acme\"\nversion = \"1.0.0\"\n",
        Opts {
            package: Some("other"),
            ..Opts::default()
        },
        "no package `other` in this file",
    );
}

#[test]
fn setup_cfg_value_at_its_place() {
    check(
        "setup.cfg",
        "[metadata]\r\nname = acme\r\nversion=0.4.1\r\n\r\n[options]\r\nversion = 9.9.9\r\n",
        "0.5.0",
        Opts::default(),
        "[metadata]\r\nname = acme\r\nversion=0.5.0\r\n\r\n[options]\r\nversion = 9.9.9\r\n",
        &["metadata.version: 0.4.1 → 0.5.0"],
    );
    refuse(
        "setup.cfg",
        "[metadata]\nversion = attr: acme.__version__\n",
        Opts::default(),
        "`metadata.version` is computed (`version = attr: acme.__version__` is read by setuptools): write the version where it is defined",
    );
    refuse(
        "setup.cfg",
        "[options]\nversion = 1.0.0\n",
        Opts::default(),
        "no `metadata.version` in this file",
    );
}

#[test]
fn uv_lock_own_entry() {
    let text = "version = 1\nrequires-python = \">=3.12\"\n\n[[package]]\nname = \"acme\"\nversion = \"0.4.1\"\nsource = { editable = \".\" }\ndependencies = [\n    { name = \"idna\" },\n]\n\n[[package]]\nname = \"idna\"\nversion = \"0.4.1\"\nsource = { registry = \"https://pypi.org/simple\" }\n";
    check(
        "uv.lock",
        text,
        "0.5.0",
        Opts::default(),
        &text.replacen("0.4.1", "0.5.0", 1),
        &["package[name=acme].version: 0.4.1 → 0.5.0"],
    );
    refuse(
        "uv.lock",
        "version = 1\n\n[[package]]\nname = \"acme\"\nsource = { editable = \".\" }\n",
        Opts::default(),
        "`package[name=acme].version` is computed (uv.lock records no version for a dynamic one): write the version where it is defined",
    );
}

#[test]
fn dunder_version() {
    check(
        "src/acme/__init__.py",
        "\"\"\"Acme.\"\"\"\n\n__version__: str = '0.4.1'  # set by releases\n",
        "0.5.0",
        Opts::default(),
        "\"\"\"Acme.\"\"\"\n\n__version__: str = '0.5.0'  # set by releases\n",
        &["__version__: 0.4.1 → 0.5.0"],
    );
    refuse(
        "acme/_version.py",
        "from importlib.metadata import version\n__version__ = version(\"acme\")\n",
        Opts::default(),
        "`__version__` is computed (`__version__ = version(\"acme\")` is not a string literal): write the version where it is defined",
    );
    refuse(
        "acme/__init__.py",
        "x = 1\n",
        Opts::default(),
        "no `__version__` in this file",
    );
}

// --- Helm, plain, markers, key paths ------------------------------------------------

#[test]
fn chart_version_and_app_version() {
    let text = "apiVersion: v2\nname: acme   # the chart\nversion: 0.4.1 # chart\nappVersion: \"0.4.1\"\ndependencies:\n  - name: redis\n    version: 0.4.1\n";
    check(
        "charts/acme/Chart.yaml",
        text,
        "0.5.0",
        Opts::default(),
        &text.replacen("version: 0.4.1 #", "version: 0.5.0 #", 1),
        &["version: 0.4.1 → 0.5.0"],
    );
    check(
        "Chart.yaml",
        text,
        "0.5.0",
        Opts {
            app_version: true,
            package: Some("acme"),
            ..Opts::default()
        },
        &text
            .replacen("version: 0.4.1 #", "version: 0.5.0 #", 1)
            .replacen("\"0.4.1\"", "\"0.5.0\"", 1),
        &["version: 0.4.1 → 0.5.0", "appVersion: 0.4.1 → 0.5.0"],
    );
    refuse(
        "Chart.yaml",
        "apiVersion: v2\nname: acme\n",
        Opts::default(),
        "no `version` in this file",
    );
}

#[test]
fn plain_version_files() {
    check(
        "VERSION",
        "0.4.1",
        "0.5.0",
        Opts::default(),
        "0.5.0",
        &["version: 0.4.1 → 0.5.0"],
    );
    check(
        "version.txt",
        "v0.4.1\r\n",
        "0.5.0",
        Opts::default(),
        "v0.5.0\r\n",
        &["version: 0.4.1 → 0.5.0"],
    );
    refuse("VERSION", "", Opts::default(), "no `version` in this file");
    refuse(
        "VERSION",
        "latest\n",
        Opts::default(),
        "`version` is not a version string: `latest`",
    );
}

#[test]
fn markers_of_both_flavours() {
    let text = "# Acme\n\n```sh\ncurl -L https://x/acme/v0.4.1/acme.tgz # x-release-please-version\n```\n<!-- hub-actions-start-version -->\nuses: acme/acme@v0.4.1\nimage: acme:0.4.1-rc.1+b5\n<!-- hub-actions-end -->\nunmarked 0.4.1\nVERSION = \"0.4.1\" // hub-actions-version";
    check(
        "README.md",
        text,
        "0.5.0",
        Opts::default(),
        &text
            .replace("v0.4.1/", "v0.5.0/")
            .replace("@v0.4.1", "@v0.5.0")
            .replace("0.4.1-rc.1+b5", "0.5.0")
            .replace("\"0.4.1\"", "\"0.5.0\""),
        &[
            "line 4: 0.4.1 → 0.5.0",
            "line 7: 0.4.1 → 0.5.0",
            "line 8: 0.4.1-rc.1+b5 → 0.5.0",
            "line 11: 0.4.1 → 0.5.0",
        ],
    );
    check(
        "build.gradle",
        "// x-release-please-start-version\nversion = '0.4.1'\n// x-release-please-end\n",
        "0.5.0",
        Opts::default(),
        "// x-release-please-start-version\nversion = '0.5.0'\n// x-release-please-end\n",
        &["line 2: 0.4.1 → 0.5.0"],
    );
}

#[test]
fn marker_refusals() {
    refuse(
        "main.go",
        "package main\n",
        Opts::default(),
        "no version marker: put `hub-actions-version` (or `x-release-please-version`) on the version's line",
    );
    refuse(
        "main.go",
        "const V = \"dev\" // hub-actions-version\n",
        Opts::default(),
        "line 1: a version marker with nothing to replace",
    );
    refuse(
        "main.go",
        "// x-release-please-start-version\nconst V = \"1.0.0\"\n",
        Opts::default(),
        "line 1: `x-release-please-start-version` without a closing `x-release-please-end`",
    );
}

fn key_path(file: &str, key: &str, text: &str) -> Result<(String, Vec<String>), Error> {
    let version = Version::parse("0.5.0").expect("because it is a version");
    let internal = BTreeSet::new();
    let kind = Kind::key_path(file, key).expect("because the extension is known");
    let updated = update(kind, text, &Request::new(&version, &internal))?;
    Ok((
        updated.text,
        updated.changes.iter().map(ToString::to_string).collect(),
    ))
}

#[test]
fn key_paths_in_json_yaml_and_toml() {
    let json = "{\"app\": {\"images\": [{\"tag\": \"0.4.1\"}]}}";
    assert_eq!(
        key_path("deploy.json", "app.images.0.tag", json),
        Ok((
            json.replace("0.4.1", "0.5.0"),
            vec!["app.images.0.tag: 0.4.1 → 0.5.0".to_string()]
        ))
    );
    let yaml = "app:\n  image:\n    tag: '0.4.1' # pinned\n  other: 0.4.1\n";
    assert_eq!(
        key_path("values.yml", "app.image.tag", yaml),
        Ok((
            yaml.replacen("0.4.1", "0.5.0", 1),
            vec!["app.image.tag: 0.4.1 → 0.5.0".to_string()]
        ))
    );
    let toml = "[tool.acme]\nversions = [\"0.4.1\"]\nversion = \"0.4.1\"\n";
    assert_eq!(
        key_path("config.toml", "tool.acme.version", toml),
        Ok((
            toml.replace("version = \"0.4.1\"", "version = \"0.5.0\""),
            vec!["tool.acme.version: 0.4.1 → 0.5.0".to_string()]
        ))
    );
    assert_eq!(
        key_path("config.toml", "tool.acme.versions.0", toml).map(|(t, _)| t),
        Ok(toml.replace("[\"0.4.1\"]", "[\"0.5.0\"]"))
    );
    assert_eq!(
        key_path("values.yaml", "app.nope", yaml).map_err(|e| e.to_string()),
        Err("no `app.nope` in this file".to_string())
    );
    assert_eq!(
        key_path("values.yaml", "app.image", yaml).map_err(|e| e.to_string()),
        Err("`app.image` is not a version string: a collection".to_string())
    );
    assert_eq!(Kind::key_path("notes.txt", "a"), None);
}

#[test]
fn detection_by_file_name() {
    for (path, kind) in [
        ("Cargo.toml", Kind::CargoToml),
        ("crates/a/Cargo.lock", Kind::CargoLock),
        ("package.json", Kind::PackageJson),
        ("a/package-lock.json", Kind::PackageLock),
        ("npm-shrinkwrap.json", Kind::PackageLock),
        ("pyproject.toml", Kind::Pyproject),
        ("setup.cfg", Kind::SetupCfg),
        ("uv.lock", Kind::UvLock),
        ("charts\\acme\\Chart.yaml", Kind::ChartYaml),
        ("VERSION", Kind::Plain),
        ("version.txt", Kind::Plain),
        ("src/acme/__init__.py", Kind::PythonVersion),
        ("README.md", Kind::Markers),
        ("values.yaml", Kind::Markers),
    ] {
        assert_eq!(Kind::detect(path), kind, "{path}");
    }
}

// --- Edges ---------------------------------------------------------------------------

#[test]
fn poetry_2_dynamic_project_version_lives_in_tool_poetry() {
    check(
        "pyproject.toml",
        "[project]\nname = \"acme\"\ndynamic = [\"version\"]\n\n[tool.poetry]\nversion = \"0.4.1\"\n",
        "0.5.0",
        Opts {
            package: Some("Acme"),
            ..Opts::default()
        },
        "[project]\nname = \"acme\"\ndynamic = [\"version\"]\n\n[tool.poetry]\nversion = \"0.5.0\"\n",
        &["tool.poetry.version: 0.4.1 → 0.5.0"],
    );
}

#[test]
fn python_files_without_dunder_version_use_markers() {
    check(
        "setup.py",
        "from setuptools import setup\n\nsetup(\n    name=\"acme\",\n    version=\"0.4.1\",  # x-release-please-version\n)\n",
        "0.5.0",
        Opts::default(),
        "from setuptools import setup\n\nsetup(\n    name=\"acme\",\n    version=\"0.5.0\",  # x-release-please-version\n)\n",
        &["line 5: 0.4.1 → 0.5.0"],
    );
    refuse(
        "setup.py",
        "from setuptools import setup\nsetup(name=\"acme\")\n",
        Opts::default(),
        "no `__version__` in this file",
    );
}

#[test]
fn a_package_filter_on_a_file_without_that_package_is_refused() {
    let opts = || Opts {
        package: Some("core"),
        internal: &["core", "app"],
        ..Opts::default()
    };
    refuse(
        "Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"1.0.0\"\n[dependencies]\nserde = \"1\"\n",
        opts(),
        "no package `core` in this file",
    );
    refuse(
        "package.json",
        "{\"name\": \"app\", \"version\": \"1.0.0\"}",
        opts(),
        "no package `core` in this file",
    );
    // A workspace root holds the package: no error, even with nothing to change.
    let root = "{\"name\": \"acme\", \"private\": true, \"workspaces\": [\"packages/*\"]}";
    check("package.json", root, "2.0.0", opts(), root, &[]);
    let root = "[workspace]\nmembers = [\"crates/*\"]\n";
    check("Cargo.toml", root, "2.0.0", opts(), root, &[]);
    // A dependent whose range still admits the new version mentions it: no error, no change.
    let text =
        "{\"name\": \"app\", \"version\": \"1.0.0\", \"dependencies\": {\"core\": \">=0.1\"}}";
    check("package.json", text, "2.0.0", opts(), text, &[]);
    let text = "[package]\nname = \"app\"\nversion = \"1.0.0\"\n[build_dependencies]\ncore = { path = \"../core\", version = \"1\" }\n";
    check(
        "Cargo.toml",
        text,
        "2.0.0",
        opts(),
        &text.replace("version = \"1\" }", "version = \"2.0.0\" }"),
        &["build_dependencies.core.version: 1 → 2.0.0"],
    );
}

#[test]
fn yaml_flow_mappings_and_escaped_quotes() {
    check(
        "Chart.yaml",
        "{apiVersion: v2, name: acme, version: \"0.4.1\", appVersion: 'it''s 0.4.1'}\n",
        "0.5.0",
        Opts {
            app_version: true,
            ..Opts::default()
        },
        "{apiVersion: v2, name: acme, version: \"0.5.0\", appVersion: '0.5.0'}\n",
        &["version: 0.4.1 → 0.5.0", "appVersion: it''s 0.4.1 → 0.5.0"],
    );
    // Only the first document counts, and a nested `version` is not the chart's.
    refuse(
        "Chart.yaml",
        "name: acme\nmeta:\n  version: 0.4.1\n---\nversion: 0.4.1\n",
        Opts::default(),
        "no `version` in this file",
    );
}

#[test]
fn toml_multiline_and_literal_strings_keep_their_quotes() {
    check(
        "pyproject.toml",
        "[project]\nname = \"acme\"\nversion = '''0.4.1'''\n",
        "0.5.0",
        Opts::default(),
        "[project]\nname = \"acme\"\nversion = '''0.5.0'''\n",
        &["project.version: 0.4.1 → 0.5.0"],
    );
}

#[test]
fn unicode_before_the_version_and_a_byte_order_mark() {
    let text = "{\"description\": \"Ünïcödé → ✓\", \"name\": \"app\", \"version\": \"0.4.1\"}\n";
    check(
        "package.json",
        text,
        "0.5.0",
        Opts::default(),
        &text.replace("0.4.1", "0.5.0"),
        &["version: 0.4.1 → 0.5.0"],
    );
    let yaml = "description: Ünïcödé → ✓\nname: acme\nversion: 0.4.1\n";
    check(
        "Chart.yaml",
        yaml,
        "0.5.0",
        Opts::default(),
        &yaml.replace("0.4.1", "0.5.0"),
        &["version: 0.4.1 → 0.5.0"],
    );
    let bom = "\u{feff}{\"name\": \"app\", \"version\": \"0.4.1\"}";
    check(
        "package.json",
        bom,
        "0.5.0",
        Opts::default(),
        &bom.replace("0.4.1", "0.5.0"),
        &["version: 0.4.1 → 0.5.0"],
    );
    let bom = "\u{feff}[package]\nname = \"app\"\nversion = \"0.4.1\"\n";
    check(
        "Cargo.toml",
        bom,
        "0.5.0",
        Opts::default(),
        &bom.replace("0.4.1", "0.5.0"),
        &["package.version: 0.4.1 → 0.5.0"],
    );
}

#[test]
fn cargo_lock_formats_v1_and_v3() {
    // v1: no `version` line, every reference carries a version (and a source), checksums
    // in `[metadata]`.
    let v1 = "[[package]]\nname = \"acme-app\"\nversion = \"0.4.1\"\ndependencies = [\n \"acme-core 0.4.1\",\n \"serde 1.0.0 (registry+https://github.com/rust-lang/crates.io-index)\",\n]\n\n[[package]]\nname = \"acme-core\"\nversion = \"0.4.1\"\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n[metadata]\n\"checksum serde 1.0.0 (registry+https://github.com/rust-lang/crates.io-index)\" = \"00\"\n";
    check(
        "Cargo.lock",
        v1,
        "0.5.0",
        Opts {
            internal: &["acme-app", "acme-core"],
            ..Opts::default()
        },
        &v1.replace("0.4.1", "0.5.0"),
        &[
            "package[name=acme-app].version: 0.4.1 → 0.5.0",
            "package[name=acme-app].dependencies.acme-core: acme-core 0.4.1 → acme-core 0.5.0",
            "package[name=acme-core].version: 0.4.1 → 0.5.0",
        ],
    );
    let v3 = "# This file is automatically @generated by Cargo.\r\n# It is not intended for manual editing.\r\nversion = 3\r\n\r\n[[package]]\r\nname = \"acme-core\"\r\nversion = \"0.4.1\"\r\n";
    check(
        "Cargo.lock",
        v3,
        "0.5.0",
        Opts {
            package: Some("acme-core"),
            ..Opts::default()
        },
        &v3.replace("0.4.1", "0.5.0"),
        &["package[name=acme-core].version: 0.4.1 → 0.5.0"],
    );
}

#[test]
fn package_lock_v2_updates_packages_and_leaves_the_legacy_section() {
    let text = "{\n  \"name\": \"solo\",\n  \"version\": \"1.0.0\",\n  \"lockfileVersion\": 2,\n  \"packages\": {\n    \"\": {\n      \"name\": \"solo\",\n      \"version\": \"1.0.0\"\n    },\n    \"node_modules/dep\": {\n      \"version\": \"1.0.0\"\n    }\n  },\n  \"dependencies\": {\n    \"dep\": {\n      \"version\": \"1.0.0\"\n    }\n  }\n}\n";
    check(
        "package-lock.json",
        text,
        "1.1.0",
        Opts::default(),
        &text.replacen("\"version\": \"1.0.0\"", "\"version\": \"1.1.0\"", 2),
        &[
            "version: 1.0.0 → 1.1.0",
            "packages[\"\"].version: 1.0.0 → 1.1.0",
        ],
    );
}

#[test]
fn workspace_roots_are_recognised() {
    assert!(crate::is_workspace_root(
        &Kind::CargoToml,
        "[workspace.package]\nversion = \"1.0.0\"\n"
    ));
    assert!(crate::is_workspace_root(&Kind::CargoToml, "[workspace]\n"));
    assert!(!crate::is_workspace_root(
        &Kind::CargoToml,
        "[package]\nname = \"a\"\n"
    ));
    assert!(crate::is_workspace_root(
        &Kind::PackageJson,
        "{\"workspaces\": {\"packages\": [\"p/*\"]}}"
    ));
    assert!(crate::is_workspace_root(
        &Kind::Pyproject,
        "[tool.uv.workspace]\nmembers = [\"p/*\"]\n"
    ));
    assert_eq!(
        crate::workspace_members(
            &Kind::CargoToml,
            "[workspace]\nmembers = [\"crates/*\", \"tools/x\"]\n"
        ),
        ["crates/*", "tools/x"]
    );
    assert_eq!(
        crate::package_name(&Kind::Pyproject, "[tool.poetry]\nname = \"acme\"\n").as_deref(),
        Some("acme")
    );
}

#[test]
fn release_please_marker_rules() {
    // major/minor/patch replace the first whole number; a block's end line is replaced
    // too; an inline marker inside a block wins; both flavours.
    let text = "MAJOR = 1 # x-release-please-major\nMINOR = 4 # hub-actions-minor\nPATCH=v9 # x-release-please-patch (v9 is no whole number, 12 is)\n/* x-release-please-start-version */\nconst A = \"1.4.2\";\nconst B = \"1.4.2\"; /* x-release-please-end */\nconst C = \"1.4.2\";\n";
    check(
        "consts.c",
        text,
        "2.5.0",
        Opts::default(),
        "MAJOR = 2 # x-release-please-major\nMINOR = 5 # hub-actions-minor\nPATCH=v9 # x-release-please-patch (v9 is no whole number, 0 is)\n/* x-release-please-start-version */\nconst A = \"2.5.0\";\nconst B = \"2.5.0\"; /* x-release-please-end */\nconst C = \"1.4.2\";\n",
        &[
            "line 1: 1 → 2",
            "line 2: 4 → 5",
            "line 3: 12 → 0",
            "line 5: 1.4.2 → 2.5.0",
            "line 6: 1.4.2 → 2.5.0",
        ],
    );
    refuse(
        "consts.c",
        "// hub-actions-start-major\nconst A = 1;\n",
        Opts::default(),
        "line 1: `hub-actions-start-major` without a closing `hub-actions-end`",
    );
    refuse(
        "consts.c",
        "// hub-actions-start-version\nno version here\n// hub-actions-end\n",
        Opts::default(),
        "line 1: a version marker with nothing to replace",
    );
}

#[test]
fn cargo_package_and_workspace_versions_are_read() {
    use crate::{ManifestVersion, cargo_package, cargo_workspace_version};
    assert_eq!(
        cargo_package("[package]\nname = \"a\"\nversion = \"1.2.3\"\n"),
        Some(("a".into(), ManifestVersion::Written("1.2.3".into())))
    );
    assert_eq!(
        cargo_package("[package]\nname = \"a\"\nversion.workspace = true\n"),
        Some(("a".into(), ManifestVersion::Inherited))
    );
    assert_eq!(cargo_package("[package]\nname = \"a\"\n"), None);
    assert_eq!(
        cargo_workspace_version("[workspace.package]\nversion = \"0.4.1\"\n").as_deref(),
        Some("0.4.1")
    );
}

#[test]
fn package_lock_entries_follow_only_the_named_packages() {
    let text = "{\n  \"name\": \"acme\",\n  \"version\": \"0.4.1\",\n  \"lockfileVersion\": 3,\n  \"packages\": {\n    \"\": {\"name\": \"acme\", \"version\": \"0.4.1\"},\n    \"packages/core\": {\"name\": \"@acme/core\", \"version\": \"0.4.1\"},\n    \"packages/app\": {\"name\": \"@acme/app\", \"version\": \"0.4.1\", \"dependencies\": {\"@acme/core\": \"^0.4.1\"}}\n  }\n}\n";
    // Only @acme/core's manifest gives the new version: the root and @acme/app stay.
    let (got, changes) = run(
        "package-lock.json",
        text,
        "0.5.0",
        &Opts {
            internal: &["@acme/core"],
            ..Opts::default()
        },
    )
    .expect("because it is a lock");
    assert_eq!(
        changes,
        [
            "packages[\"packages/core\"].version: 0.4.1 → 0.5.0",
            "packages[\"packages/app\"].dependencies.@acme/core: ^0.4.1 → ^0.5.0",
        ]
    );
    assert!(got.starts_with("{\n  \"name\": \"acme\",\n  \"version\": \"0.4.1\""));
    assert_eq!(
        crate::package_json_version("{\"name\": \"a\", \"version\": \"1.0.0\"}"),
        Some(("a".into(), Some("1.0.0".into())))
    );
}

#[test]
fn pyproject_name_and_version_are_read() {
    assert_eq!(
        crate::pyproject_version(
            "[project]\nname = \"a\"\ndynamic = [\"version\"]\n[tool.poetry]\nversion = \"1.0.0\"\n"
        ),
        Some(("a".into(), Some("1.0.0".into())))
    );
    assert_eq!(
        crate::pyproject_version("[project]\nname = \"a\"\n"),
        Some(("a".into(), None))
    );
}
