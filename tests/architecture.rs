//! The workspace's layout rules, checked on its sources and its dependency graph
//! (ARCHITECTURE.md): engines stay pure, no module imports from a binary's `main.rs`, no
//! import cycle between the files of a crate, and mains stay thin.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use hub_e2e::workspace;

/// The engines: strings and structs in, values out.
const ENGINES: &[&str] = &[
    "hub-conventional",
    "hub-changelog",
    "hub-config",
    "hub-canary",
    "hub-md",
    "hub-version-files",
];

/// Paths an engine's code may not name: files, processes, the network, the clock, the
/// environment.
const AMBIENT: &[&str] = &[
    "std::fs",
    "std::process",
    "std::net",
    "std::env",
    "SystemTime",
    "Instant",
    "tokio",
    "File::",
    "OpenOptions",
    "Command::new",
];

/// Crates an engine may not depend on, even indirectly.
const NOT_FOR_ENGINES: &[&str] = &[
    "clap",
    "hub-kit",
    "hub-git",
    "hub-github",
    "tokio",
    "ureq",
    "hyper",
    "octocrab",
];

fn crates_dir() -> PathBuf {
    workspace().join("crates")
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// A source file without its `#[cfg(test)]` items (tests may read fixtures from disk) and
/// without comments.
fn production_code(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]") {
            // Skip the item that follows: to its closing brace at the same indentation, or
            // one line for a `mod x;` declaration.
            let indent = line.len() - trimmed.len();
            let Some(item) = lines.next() else { break };
            let item = item.trim_end();
            if item.ends_with(';') || (item.contains('{') && item.ends_with('}')) {
                continue;
            }
            for rest in lines.by_ref() {
                let closes = rest.len() > indent
                    && rest.as_bytes()[indent] == b'}'
                    && rest[..indent].trim().is_empty();
                if closes {
                    break;
                }
            }
            continue;
        }
        if trimmed.starts_with("//") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[test]
fn engines_touch_no_file_process_network_clock_or_environment() {
    let mut found = Vec::new();
    for engine in ENGINES {
        for file in rust_files(&crates_dir().join(engine).join("src")) {
            let text = std::fs::read_to_string(&file).expect("because sources are readable");
            for line in production_code(&text).lines() {
                for ambient in AMBIENT {
                    if line.contains(ambient) {
                        found.push(format!(
                            "{}: `{ambient}` in `{}`",
                            file.display(),
                            line.trim()
                        ));
                    }
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "engines must stay pure:\n{}",
        found.join("\n")
    );
}

/// Ways to write to the process's stdout or stderr around hub-kit.
const PRINTING: &[&str] = &[
    "println!",
    "print!(",
    "eprintln!",
    "eprint!(",
    "io::stdout()",
    "io::stderr()",
];

/// The crates that may write to stdout and stderr themselves: hub-kit (the one way to the
/// runner) and the test support crates (never linked into an action binary).
const MAY_PRINT: &[&str] = &[
    "hub-kit",
    "hub-testkit",
    "hub-github-standin",
    "hub-k8s-standin",
];

#[test]
fn only_hub_kit_writes_to_stdout_and_stderr() {
    let mut found = Vec::new();
    let mut crates: Vec<PathBuf> = std::fs::read_dir(crates_dir())
        .expect("because crates/ is readable")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("src").is_dir())
        .collect();
    crates.sort();
    for krate in crates {
        let name = krate
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if MAY_PRINT.contains(&name) {
            continue;
        }
        for file in rust_files(&krate.join("src")) {
            // A crate's unit tests in their own file (`#[cfg(test)] mod tests;`).
            if file.file_name().is_some_and(|n| n == "tests.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&file).expect("because sources are readable");
            for line in production_code(&text).lines() {
                for way in PRINTING {
                    if line.contains(way) {
                        found.push(format!("{}: `{}`", file.display(), line.trim()));
                    }
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "every byte for the runner goes through hub-kit (Runner::print_untrusted, \
         log_untrusted, info):\n{}",
        found.join("\n")
    );
}

/// `cargo metadata`'s resolve: package name → names of its normal (non-dev, non-build)
/// dependencies.
fn normal_dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo.current_dir(workspace()).args([
        "metadata",
        "--format-version",
        "1",
        "--locked",
        "--offline",
    ]);
    // Only this platform's packages: the others' manifests may not be downloaded, and no
    // test reaches the network.
    if cfg!(all(target_os = "linux", target_env = "gnu")) {
        cargo.args([
            "--filter-platform",
            &format!("{}-unknown-linux-gnu", std::env::consts::ARCH),
        ]);
    }
    let output = cargo.output().expect("because cargo runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let name_of: BTreeMap<&str, &str> = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            (
                p["id"].as_str().expect("id"),
                p["name"].as_str().expect("name"),
            )
        })
        .collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for node in meta["resolve"]["nodes"].as_array().expect("resolve nodes") {
        let name = name_of[node["id"].as_str().expect("id")].to_owned();
        let deps = graph.entry(name).or_default();
        for dep in node["deps"].as_array().expect("deps") {
            let normal = dep["dep_kinds"]
                .as_array()
                .expect("dep_kinds")
                .iter()
                .any(|k| k["kind"].is_null());
            if normal {
                deps.insert(name_of[dep["pkg"].as_str().expect("pkg")].to_owned());
            }
        }
    }
    graph
}

#[test]
fn engines_depend_on_no_runtime_cli_or_io_crate() {
    let graph = normal_dependencies();
    let mut found = Vec::new();
    for engine in ENGINES {
        let mut seen = BTreeSet::new();
        let mut stack = vec![(*engine).to_owned()];
        while let Some(name) = stack.pop() {
            for dep in graph.get(&name).into_iter().flatten() {
                if seen.insert(dep.clone()) {
                    stack.push(dep.clone());
                }
            }
        }
        for bad in NOT_FOR_ENGINES {
            if seen.contains(*bad) {
                found.push(format!("{engine} depends on {bad}"));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// A crate's top-level modules: `src/x.rs` and `src/x/mod.rs` are `x`; files below
/// `src/x/` belong to `x`.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel
        .components()
        .next()?
        .as_os_str()
        .to_string_lossy()
        .into_owned();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_owned();
    (!matches!(name.as_str(), "main" | "lib")).then_some(name)
}

/// The names a file reaches through `crate::`: `crate::a::b` gives `a`, `crate::{a, b::c}`
/// gives `a` and `b`.
fn crate_paths(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `hub_crate::`, not `crate::`
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = matching_brace(group);
            let mut depth = 0;
            let mut item = String::new();
            for c in group[..end].chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        push_head(&mut out, &item);
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            push_head(&mut out, &item);
        } else {
            push_head(&mut out, rest);
        }
    }
    out
}

fn matching_brace(text: &str) -> usize {
    let mut depth = 0;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return i,
            '}' => depth -= 1,
            _ => {}
        }
    }
    text.len()
}

fn push_head(out: &mut BTreeSet<String>, item: &str) {
    let head: String = item
        .trim()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    if !head.is_empty() && head != "self" {
        out.insert(head);
    }
}

/// For one crate: module → the sibling modules it imports, and the names it imports from
/// the crate root that are not modules.
fn imports(src: &Path) -> (BTreeMap<String, BTreeSet<String>>, Vec<String>) {
    let files = rust_files(src);
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(src, f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut from_root = Vec::new();
    for file in &files {
        let Some(module) = module_of(src, file) else {
            continue;
        };
        let text = std::fs::read_to_string(file).expect("because sources are readable");
        for name in crate_paths(&production_code(&text)) {
            if modules.contains(&name) {
                if name != module {
                    graph.entry(module.clone()).or_default().insert(name);
                }
            } else {
                from_root.push(format!("{} uses crate::{name}", file.display()));
            }
        }
    }
    (graph, from_root)
}

/// A cycle in `graph`, if there is one (as the list of modules around it).
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_owned(), 1);
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            match state.get(next).copied().unwrap_or(0) {
                1 => {
                    let start = path.iter().position(|p| p == next).unwrap_or(0);
                    let mut cycle = path[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(cycle) = visit(next, graph, state, path) {
                        return Some(cycle);
                    }
                }
                _ => {}
            }
        }
        path.pop();
        state.insert(node.to_owned(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if state.get(node).copied().unwrap_or(0) == 0 {
            let mut path = Vec::new();
            if let Some(cycle) = visit(node, graph, &mut state, &mut path) {
                return Some(cycle);
            }
        }
    }
    None
}

fn crate_sources() -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(crates_dir())
        .expect("because crates/ exists")
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                e.path().join("src"),
            )
        })
        .filter(|(_, src)| src.is_dir())
        .collect();
    out.sort();
    out
}

/// A shell: an action's binary whose `main` lives in its library — `src/lib.rs` holds the
/// modules and `pub fn main`, `src/main.rs` only calls it — so that the multi-call `hub`
/// (crates/hub) calls the same `main`. Its `lib.rs` is held to what a binary's `main.rs` is.
fn is_shell(src: &Path) -> bool {
    src.join("main.rs").exists()
        && std::fs::read_to_string(src.join("lib.rs"))
            .is_ok_and(|text| production_code(&text).contains("pub fn main() -> ExitCode"))
}

#[test]
fn no_module_imports_from_a_binarys_main() {
    let mut found = Vec::new();
    for (name, src) in crate_sources() {
        if src.join("lib.rs").exists() && !is_shell(&src) {
            continue; // a library's root re-exports: importing from it is the API
        }
        let (_, from_root) = imports(&src);
        found.extend(from_root.into_iter().map(|f| format!("{name}: {f}")));
    }
    assert!(
        found.is_empty(),
        "modules must not import from main.rs (or a shell's lib.rs, its main):\n{}",
        found.join("\n")
    );
}

#[test]
fn no_import_cycle_between_the_files_of_a_crate() {
    let mut found = Vec::new();
    for (name, src) in crate_sources() {
        let (graph, _) = imports(&src);
        if let Some(cycle) = find_cycle(&graph) {
            found.push(format!("{name}: {}", cycle.join(" → ")));
        }
    }
    assert!(found.is_empty(), "import cycles:\n{}", found.join("\n"));
}

#[test]
fn the_cycle_finder_and_the_import_reader_work() {
    let code = "use crate::{a, b::{c, d}, self};\nfn f() { crate::e::g(); hub_crate::x(); }\n";
    let names: Vec<String> = crate_paths(code).into_iter().collect();
    assert_eq!(names, ["a", "b", "e"]);
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
        ("b".to_owned(), BTreeSet::from(["c".to_owned()])),
        ("c".to_owned(), BTreeSet::from(["a".to_owned()])),
    ]
    .into_iter()
    .collect();
    assert_eq!(
        find_cycle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    let mut acyclic = graph.clone();
    acyclic.remove("c");
    assert_eq!(find_cycle(&acyclic), None);
    let test_only = "fn f() {}\n#[cfg(test)]\nmod tests {\n    use std::fs;\n}\nfn g() {}\n";
    assert_eq!(production_code(test_only), "fn f() {}\nfn g() {}\n");
}

#[test]
fn every_action_and_hub_is_a_shell_held_to_the_thin_main_rules() {
    let shells: Vec<String> = crate_sources()
        .into_iter()
        .filter(|(_, src)| is_shell(src))
        .map(|(name, _)| name)
        .collect();
    for name in [
        "canary-gate",
        "conventional-changelog",
        "hub",
        "release-pr",
        "rollback",
        "semver-bump",
        "validate-config",
    ] {
        assert!(
            shells.iter().any(|s| s == name),
            "{name} is not a shell: {shells:?}"
        );
    }
}

/// `main.rs` — a shell's `lib.rs` — reads like the action's README: parse, plan, act, report.
const MAIN_LINES: usize = 200;

/// A shell's `main.rs` only calls its library's `main` (an allocator may be declared there:
/// a library cannot choose the program's).
const SHELL_BIN_CODE_LINES: usize = 8;

#[test]
fn mains_stay_thin() {
    let mut found = Vec::new();
    for (name, src) in crate_sources() {
        let root = if is_shell(&src) {
            let text = std::fs::read_to_string(src.join("main.rs")).expect("because it exists");
            let code = production_code(&text);
            let lines = code
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with("//"))
                .count();
            let crate_name = name.replace('-', "_");
            if lines > SHELL_BIN_CODE_LINES || !code.contains(&format!("{crate_name}::main()")) {
                found.push(format!(
                    "{name}: main.rs is more than a call of {crate_name}::main() ({lines} lines of code)"
                ));
            }
            "lib.rs"
        } else {
            "main.rs"
        };
        let Ok(text) = std::fs::read_to_string(src.join(root)) else {
            continue;
        };
        let lines = production_code(&text)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .count();
        if lines > MAIN_LINES {
            found.push(format!("{name}: {lines} lines of code in {root}"));
        }
    }
    assert!(
        found.is_empty(),
        "main.rs (a shell's lib.rs) over {MAIN_LINES} lines, or a shell's main.rs doing more than call it:\n{}",
        found.join("\n")
    );
}

/// `unsafe` lives in one place: the workspace forbids it (`[workspace.lints.rust]
/// unsafe_code = "forbid"`) and every crate takes the workspace's lints, except `hub-wasi`,
/// the WebAssembly build's host interface, whose wasm imports need it. That crate denies
/// `unsafe` itself and allows it only in its FFI module, `src/ffi.rs`.
#[test]
fn unsafe_code_is_only_in_hub_wasis_ffi_module() {
    let root = std::fs::read_to_string(workspace().join("Cargo.toml")).expect("Cargo.toml");
    assert!(
        root.contains("unsafe_code = \"forbid\""),
        "the workspace forbids unsafe"
    );
    for (name, src) in crate_sources() {
        let manifest = std::fs::read_to_string(src.parent().expect("crate dir").join("Cargo.toml"))
            .expect("a crate's Cargo.toml");
        if name == "hub-wasi" {
            assert!(
                manifest.contains("unsafe_code = \"deny\""),
                "hub-wasi denies unsafe"
            );
            assert!(!manifest.contains("[lints]\nworkspace = true"));
        } else {
            assert!(
                manifest.contains("[lints]\nworkspace = true"),
                "{name} takes the workspace's lints (which forbid unsafe)"
            );
        }
        for file in rust_files(&src) {
            let text = std::fs::read_to_string(&file).expect("source");
            let allows = text.contains("allow(unsafe_code)");
            let at_ffi = name == "hub-wasi" && file.ends_with("src/ffi.rs");
            assert!(
                !allows || at_ffi,
                "{} allows unsafe code: only crates/hub-wasi/src/ffi.rs may",
                file.display()
            );
        }
    }
}
