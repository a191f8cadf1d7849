//! Fuzz-style property tests: arbitrary and mutated bytes through the YAML, JSON and TOML
//! parsers and the validator (schema with nested `x-rules`), from a fixed seed so a failure
//! replays. Each case asserts that nothing panics, that every reported position lies inside the
//! file, and, for JSON, that positions found on demand equal the full map. Time is bounded by
//! the input sizes (at most a few KiB per case), never measured.
//!
//! `FUZZ_CASES=100000 cargo test -p hub-config --test fuzz --release` runs longer; the
//! `cargo fuzz` targets in `crates/hub-config/fuzz/` do the same coverage-guided.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use hub_config::{
    Diagnostic, Document, Format, Limits, NoRetrieve, RuleVars, Schema, SchemaOptions, Span, parse,
    push_pointer,
};
use serde_json::Value;

/// The seeded generator of the test kit (xorshift64*), enough to spread the cases.
use hub_testkit::rng::Rng;

fn cases() -> usize {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_500)
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/validate-config")
}

fn seeds() -> Vec<(Format, Vec<u8>)> {
    let mut out = Vec::new();
    for folder in ["valid", "invalid"] {
        let mut names: Vec<_> = std::fs::read_dir(fixtures().join(folder))
            .expect("because the fixture folder exists")
            .map(|e| e.expect("because the folder can be listed").path())
            .collect();
        names.sort();
        for path in names {
            let name = path.to_string_lossy().into_owned();
            if let Some(format) = Format::from_path(&name) {
                out.push((
                    format,
                    std::fs::read(&path).expect("because it can be read"),
                ));
            }
        }
    }
    out
}

/// A schema with nested rules, so the validator and the rule walk see mutated documents too.
fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let text = std::fs::read_to_string(fixtures().join("schema.json"))
            .expect("because the fixture exists");
        let mut value: Value = serde_json::from_str(&text).expect("because it is JSON");
        value["properties"]["models"]["x-rules"] = serde_json::json!([
            {"rule": "!has(self.primary) || self.primary != ''", "message": "empty"},
            {"rule": "self.size() < 100", "message": "too many", "path": "/providers"}
        ]);
        Schema::compile(
            &value,
            "schema.json",
            Arc::new(NoRetrieve),
            &SchemaOptions::default(),
        )
        .expect("because the fixture schema compiles")
    })
}

/// Bytes that matter to one of the three syntaxes.
const TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b",",
    b"\"",
    b"'",
    b"-",
    b"- ",
    b"&a ",
    b"*a",
    b"!!str ",
    b"#",
    b"\n",
    b"\t",
    b"  ",
    b"=",
    b"[[x]]",
    b"\\u00",
    b"\\",
    b"/*",
    b"//",
    b"<<: ",
    b"---\n",
    b"...",
    b"|\n",
    b">-\n",
    b"0x",
    b"1e999",
    b"-0",
    b".inf",
    b"true",
    b"null",
    b"~",
    b"\xff",
    b"\xc3",
    b"\xe2\x82\xac",
    b"\r\n",
    b"$schema",
    b"\0",
];

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for _ in 0..=rng.below(6) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(5) {
            0 if !bytes.is_empty() => {
                let end = (at + rng.below(16)).min(bytes.len());
                bytes.drain(at.min(end)..end);
            }
            1 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                bytes.splice(at..at, token.iter().copied());
            }
            2 if at < bytes.len() => bytes[at] = u8::try_from(rng.below(256)).unwrap_or(0),
            3 if !bytes.is_empty() => {
                let start = rng.below(bytes.len());
                let end = (start + rng.below(64)).min(bytes.len());
                let copy = bytes[start..end].to_vec();
                bytes.splice(at..at, copy);
            }
            _ => bytes.truncate(at),
        }
    }
    bytes.truncate(8 * 1024);
    bytes
}

fn random_bytes(rng: &mut Rng) -> Vec<u8> {
    let len = rng.below(512);
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        if rng.below(3) == 0 {
            out.extend_from_slice(TOKENS[rng.below(TOKENS.len())]);
        } else {
            out.push(b" abc019:-{}[],\"'\n#"[rng.below(18)]);
        }
    }
    out
}

/// Lines of the file as the positions count them: `\n`-separated, characters per line (bytes
/// that are not UTF-8 count one each, at most).
fn line_lengths(bytes: &[u8]) -> Vec<usize> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    bytes
        .split(|&b| b == b'\n')
        .map(|line| String::from_utf8_lossy(line).chars().count())
        .collect()
}

fn assert_inside(span: Span, lines: &[usize], what: &str, input: &[u8]) {
    for position in [span.start, span.end] {
        let ok = position.line >= 1
            && position.line <= lines.len()
            && position.column >= 1
            && position.column <= lines[position.line - 1] + 1;
        assert!(
            ok,
            "{what} at {}:{} is outside the file (lines {lines:?}); input {:?}",
            position.line,
            position.column,
            String::from_utf8_lossy(input)
        );
    }
    assert!(span.start <= span.end, "{what}: span ends before it starts");
}

fn pointers(value: &Value, pointer: String, out: &mut Vec<String>) {
    out.push(pointer.clone());
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                pointers(v, push_pointer(&pointer, k), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                pointers(v, push_pointer(&pointer, &i.to_string()), out);
            }
        }
        _ => {}
    }
}

fn check_document(document: &Document, format: Format, lines: &[usize], input: &[u8]) {
    let mut all = Vec::new();
    pointers(&document.value, String::new(), &mut all);
    all.truncate(2_000);
    let wanted: Vec<(&str, bool)> = all
        .iter()
        .flat_map(|p| [(p.as_str(), true), (p.as_str(), false)])
        .collect();
    // On demand first (JSON has no map yet), then from the whole map: the same answer.
    let on_demand = document.locate_all(&wanted);
    let full: Vec<Span> = wanted
        .iter()
        .map(|(p, key)| document.positions().locate(p, *key))
        .collect();
    if format == Format::Json {
        assert_eq!(
            on_demand,
            full,
            "positions differ for {:?}",
            String::from_utf8_lossy(input)
        );
    }
    for span in full {
        assert_inside(span, lines, "node", input);
    }
}

fn check_diagnostics(diagnostics: &[Diagnostic], lines: &[usize], input: &[u8]) {
    for d in diagnostics {
        assert_inside(d.span, lines, &format!("{} `{}`", d.code, d.message), input);
    }
}

fn run(format: Format, input: &[u8]) {
    let limits = Limits {
        max_bytes: 16 * 1024,
        max_depth: 64,
        max_alias_nodes: 2_000,
    };
    let parsed = parse(input, format, &limits);
    let lines = line_lengths(input);
    check_diagnostics(&parsed.diagnostics, &lines, input);
    check_diagnostics(&parsed.json_extension_errors(), &lines, input);
    if let Some(hint) = &parsed.schema_hint {
        assert_inside(hint.span, &lines, "schema hint", input);
    }
    for document in &parsed.documents {
        check_document(document, format, &lines, input);
        let vars: RuleVars = [("KEYED_PROVIDERS", "openai")].into_iter().collect();
        check_diagnostics(&schema().check(document, &vars), &lines, input);
    }
}

#[test]
fn mutated_fixtures_never_panic_and_stay_inside_the_file() {
    let seeds = seeds();
    let mut rng = Rng::seeded(0x5EED_0FC0_FF1C);
    for _ in 0..cases() {
        let (format, seed) = &seeds[rng.below(seeds.len())];
        let input = mutate(&mut rng, seed);
        run(*format, &input);
        // The same bytes read as another syntax must not panic either.
        let other = [Format::Yaml, Format::Json, Format::Toml][rng.below(3)];
        run(other, &input);
    }
}

#[test]
fn arbitrary_bytes_never_panic_and_stay_inside_the_file() {
    let mut rng = Rng::seeded(0xA5B1_7A4E_0000_0001);
    for _ in 0..cases() {
        let input = random_bytes(&mut rng);
        for format in [Format::Yaml, Format::Json, Format::Toml] {
            run(format, &input);
        }
    }
}

/// Merge-key seeds (`<<` of aliases, sequences, inline and nested mappings, overrides, a quoted
/// and a tagged key, a bad value, a bomb), mutated like the fixtures.
const MERGE_SEEDS: [&str; 4] = [
    "x-service: &service\n  image: web\n  privileged: yes\nx-log: &log {logging: {driver: j}}\nservices:\n  web:\n    port: 80\n    <<: [*service, *log]\n    image: web2\n  worker: {<<: *service, \"<<\": *log, !!merge <<: {a: 1}}\n",
    "a: &a {x: 1, y: [1, 2]}\nb: &b\n  <<: *a\n  z: {w: yes}\nc:\n  <<: [*b, *a, {q: 1}]\n  <<: *a\n  x: 3\nd: {<<: *c}\n",
    "s: &s 1\nm:\n  <<: [*s]\n  <<:\n  <<: {<<: {<<: {k: v}}}\n",
    "a: &a {k0: 1, k1: 2, k2: 3}\nb: &b {m0: {<<: *a}, m1: {<<: *a}, m2: {<<: [*a, *a]}}\nc: &c {m0: {<<: *b}, m1: {<<: *b}, m2: *b}\nd: [*c, *c, {<<: *c}]\n",
];

#[test]
fn mutated_merge_keys_never_panic_and_stay_inside_the_file() {
    let mut rng = Rng::seeded(0x3E26_E0C0_F022_0001);
    for _ in 0..cases() {
        let seed = MERGE_SEEDS[rng.below(MERGE_SEEDS.len())].as_bytes();
        run(Format::Yaml, seed);
        run(Format::Yaml, &mutate(&mut rng, seed));
    }
}

#[test]
fn nesting_and_alias_limits_hold_for_generated_bombs() {
    let limits = Limits::default();
    for depth in [255, 256, 257, 5_000] {
        let json = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let parsed = parse(json.as_bytes(), Format::Json, &limits);
        assert_eq!(
            parsed.documents.is_empty(),
            depth > 256,
            "json depth {depth}"
        );
    }
    // YAML flow nesting: saphyr-parser stops deep flow collections itself (as a syntax error)
    // before our limit of 256 can; either way nothing deeper than the limit gets through.
    for (depth, parses) in [(100, true), (257, false), (5_000, false)] {
        let yaml = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let parsed = parse(yaml.as_bytes(), Format::Yaml, &limits);
        assert_eq!(!parsed.documents.is_empty(), parses, "yaml depth {depth}");
        assert_eq!(parsed.has_errors(), !parses, "yaml depth {depth}");
    }
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for level in 1..12 {
        let prev = level - 1;
        bomb.push_str(&format!(
            "a{level}: &a{level} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
        ));
    }
    let parsed = parse(bomb.as_bytes(), Format::Yaml, &limits);
    assert!(parsed.documents.is_empty());
    assert_eq!(parsed.diagnostics[0].code.to_string(), "alias-limit");
}

#[test]
fn a_lone_carriage_return_does_not_shift_yaml_lines() {
    // YAML counts a lone `\r` as a line break; GitHub and editors count `\n` only.
    let parsed = parse(b"a: 1\rb: 2\nc: [x\n", Format::Yaml, &Limits::default());
    let error = &parsed.diagnostics[0];
    assert_eq!(error.span.start.line, 3, "{error:?}");
    let parsed = parse(b"a: 1\r\nb: {c: d}\r\n", Format::Yaml, &Limits::default());
    let span = parsed.documents[0].locate("/b/c", false);
    assert_eq!((span.start.line, span.start.column), (2, 8));
}
