//! Every updater on every fixture file and on truncations of it: an answer (new text or an
//! error), never a panic; and an answer's text is always the input when nothing changed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use hub_version_files::{Format, Kind, Request, Version, update};

/// Every distinct fixture text, by one of its paths.
fn fixture_texts() -> BTreeMap<String, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/version-files");
    let mut seen = BTreeSet::new();
    let mut out = BTreeMap::new();
    let mut queue = vec![root.clone()];
    while let Some(dir) = queue.pop() {
        for entry in std::fs::read_dir(&dir).expect("because the fixtures exist") {
            let path = entry.expect("because entries are readable").path();
            if path.is_dir() {
                queue.push(path);
            } else if let Ok(text) = std::fs::read_to_string(&path)
                && seen.insert(text.clone())
            {
                out.insert(
                    path.strip_prefix(&root)
                        .expect("inside")
                        .display()
                        .to_string(),
                    text,
                );
            }
        }
    }
    out
}

fn kinds() -> Vec<Kind> {
    let mut kinds = vec![
        Kind::CargoToml,
        Kind::CargoLock,
        Kind::PackageJson,
        Kind::PackageLock,
        Kind::Pyproject,
        Kind::SetupCfg,
        Kind::UvLock,
        Kind::ChartYaml,
        Kind::Plain,
        Kind::PythonVersion,
        Kind::Markers,
    ];
    for format in [Format::Json, Format::Yaml, Format::Toml] {
        kinds.push(Kind::KeyPath {
            format,
            path: vec!["image".into(), "tag".into()],
        });
        kinds.push(Kind::KeyPath {
            format,
            path: vec!["packages".into(), "0".into()],
        });
    }
    kinds
}

#[test]
fn no_input_makes_an_updater_panic() {
    let version = Version::parse("0.5.0").expect("because it is a version");
    let internal: BTreeSet<String> = ["acme-core", "@acme/util", "acme-tools"]
        .map(String::from)
        .into();
    let plain = Request::new(&version, &internal);
    let filtered = Request {
        package: Some("acme-core"),
        app_version: true,
        workspace_version: true,
        ..plain.clone()
    };
    let texts = fixture_texts();
    assert!(texts.len() > 40, "{}", texts.len());
    let mut answers = 0;
    for (name, text) in &texts {
        let cuts: Vec<usize> = text
            .char_indices()
            .map(|(i, _)| i)
            .step_by(5)
            .chain([text.len()])
            .collect();
        for cut in cuts {
            let input = &text[..cut];
            for kind in kinds() {
                for request in [&plain, &filtered] {
                    let result = std::panic::catch_unwind(|| update(kind.clone(), input, request));
                    let Ok(result) = result else {
                        panic!("{name} cut at {cut} as {kind:?} panicked");
                    };
                    if let Ok(updated) = result
                        && updated.changes.is_empty()
                    {
                        assert_eq!(updated.text, input, "{name} at {cut} as {kind:?}");
                    }
                    answers += 1;
                }
            }
        }
    }
    eprintln!("{answers} answers, no panic");
}
