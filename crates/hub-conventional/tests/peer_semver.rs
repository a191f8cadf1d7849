//! node-semver's fixtures (`peer-suites/semver/*.json`), every string row.

mod common;

use std::cmp::Ordering;

use hub_conventional::node::{self, IdentifierBase, Release};
use serde_json::Value;

fn base(v: &Value) -> IdentifierBase {
    match v {
        // node: `identifierBase === false` means no number; otherwise `Number(base) ? 1 : 0`.
        Value::Bool(false) => IdentifierBase::None,
        Value::String(s) if s.trim().parse::<f64>().is_ok_and(|n| n != 0.0) => IdentifierBase::One,
        Value::Number(n) if n.as_f64().is_some_and(|n| n != 0.0) => IdentifierBase::One,
        _ => IdentifierBase::Zero,
    }
}

#[test]
fn increments() {
    let Some(dir) = common::peer_suites() else {
        return;
    };
    let rows = common::load(&dir, "semver/increments.json");
    let rows = rows.as_array().expect("rows");
    let (mut passed, mut typed, mut failures) = (0, 0, Vec::new());
    for r in rows {
        let version = r["version"].as_str().expect("version");
        let release = r["release"].as_str().expect("release");
        let loose = r["loose"].as_bool().expect("loose");
        let identifier = r["identifier"].as_str();
        let expected = r["expected"].as_str();
        let got = node::inc(
            version,
            release,
            loose,
            identifier,
            base(&r["identifier_base"]),
        );
        if got.as_deref() == expected {
            passed += 1;
        } else {
            failures.push(format!(
                "#{}: inc({version}, {release}, {identifier:?}) = {got:?}, expected {expected:?}",
                r["index"]
            ));
        }
        // The typed API over `semver::Version` must agree wherever the input is strict.
        if let (Ok(v), Ok(rel)) = (semver::Version::parse(version), release.parse::<Release>()) {
            typed += 1;
            let got = node::increment(&v, rel, identifier, base(&r["identifier_base"]))
                .ok()
                .map(|v| v.to_string());
            if got.as_deref() != expected {
                failures.push(format!(
                    "#{} typed: {got:?}, expected {expected:?}",
                    r["index"]
                ));
            }
        }
    }
    println!(
        "semver/increments.json: {passed}/{} rows pass (loose rows included); typed API checked on {typed}",
        rows.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn comparisons() {
    let Some(dir) = common::peer_suites() else {
        return;
    };
    let rows = common::load(&dir, "semver/comparisons.json");
    let rows = rows.as_array().expect("rows");
    for r in rows {
        let (a, b) = (r["v1"].as_str().expect("v1"), r["v2"].as_str().expect("v2"));
        let loose = r["loose"].as_bool().expect("loose");
        assert_eq!(
            node::compare(a, b, loose),
            Some(Ordering::Greater),
            "#{}: {a} > {b}",
            r["index"]
        );
        assert_eq!(
            node::compare(b, a, loose),
            Some(Ordering::Less),
            "#{}: {b} < {a}",
            r["index"]
        );
        if !loose {
            // The engine's own type orders the same way.
            let (va, vb) = (
                semver::Version::parse(a).expect("strict"),
                semver::Version::parse(b).expect("strict"),
            );
            assert_eq!(va.cmp_precedence(&vb), Ordering::Greater, "#{}", r["index"]);
        }
    }
    println!(
        "semver/comparisons.json: {}/{} rows pass (both directions)",
        rows.len(),
        rows.len()
    );
}

#[test]
fn equality() {
    let Some(dir) = common::peer_suites() else {
        return;
    };
    let rows = common::load(&dir, "semver/equality.json");
    let rows = rows.as_array().expect("rows");
    for r in rows {
        let (a, b) = (r["v1"].as_str().expect("v1"), r["v2"].as_str().expect("v2"));
        let loose = r["loose"].as_bool().expect("loose");
        assert_eq!(
            node::compare(a, b, loose),
            Some(Ordering::Equal),
            "#{}: {a} == {b}",
            r["index"]
        );
        assert_eq!(
            node::compare(b, a, loose),
            Some(Ordering::Equal),
            "#{}: {b} == {a}",
            r["index"]
        );
    }
    println!(
        "semver/equality.json: {}/{} rows pass",
        rows.len(),
        rows.len()
    );
}

#[test]
fn valid() {
    let Some(dir) = common::peer_suites() else {
        return;
    };
    let rows = common::load(&dir, "semver/valid.json");
    let rows = rows.as_array().expect("rows");
    for r in rows {
        let version = r["version"].as_str().expect("version");
        let v = node::parse(version, false)
            .unwrap_or_else(|| panic!("#{}: {version} should parse", r["index"]));
        assert_eq!(Value::from(v.major), r["major"], "{version}");
        assert_eq!(Value::from(v.minor), r["minor"], "{version}");
        assert_eq!(Value::from(v.patch), r["patch"], "{version}");
        let pre: Vec<Value> = v
            .prerelease
            .iter()
            .map(|i| match i {
                node::Identifier::Num(n) => Value::from(*n),
                node::Identifier::Str(s) => Value::from(s.as_str()),
            })
            .collect();
        assert_eq!(Value::from(pre), r["prerelease"], "{version}");
        assert_eq!(Value::from(v.build.clone()), r["build"], "{version}");
        assert_eq!(
            node::valid(version, false).as_deref(),
            r["normalized"].as_str(),
            "{version}"
        );
    }
    println!("semver/valid.json: {}/{} rows pass", rows.len(), rows.len());
}

#[test]
fn invalid() {
    let Some(dir) = common::peer_suites() else {
        return;
    };
    let rows = common::load(&dir, "semver/invalid.json");
    let rows = rows.as_array().expect("rows");
    let (mut passed, mut skipped) = (0, 0);
    for r in rows {
        if r["value_type"] != "string" {
            // Upstream passes a RegExp or an object; a string API cannot receive one.
            skipped += 1;
            continue;
        }
        let value = r["value"].as_str().expect("value");
        let loose = r["loose"].as_bool().expect("loose");
        assert_eq!(
            node::parse(value, loose),
            None,
            "#{}: {value} ({})",
            r["index"],
            r["reason"]
        );
        passed += 1;
    }
    println!(
        "semver/invalid.json: {passed} string rows pass, {skipped} skipped (value_type regexp/object: not a string)"
    );
    assert_eq!(passed + skipped, rows.len());
}
