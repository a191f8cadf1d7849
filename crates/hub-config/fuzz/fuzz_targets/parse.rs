//! Any bytes, read as YAML, JSON and TOML: no panic, and every position inside the file.
#![no_main]

use hub_config::{Format, Limits, Span, parse};
use libfuzzer_sys::fuzz_target;

fn inside(span: Span, lines: &[usize]) -> bool {
    [span.start, span.end].iter().all(|p| {
        p.line >= 1 && p.line <= lines.len() && p.column >= 1 && p.column <= lines[p.line - 1] + 1
    })
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_bytes: 64 * 1024, max_depth: 64, max_alias_nodes: 10_000 };
    let text = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let lines: Vec<usize> = text
        .split(|&b| b == b'\n')
        .map(|line| String::from_utf8_lossy(line).chars().count())
        .collect();
    for format in [Format::Yaml, Format::Json, Format::Toml] {
        let parsed = parse(data, format, &limits);
        for d in &parsed.diagnostics {
            assert!(inside(d.span, &lines), "{d:?}");
        }
        for document in &parsed.documents {
            let root = document.locate("", false);
            assert!(inside(root, &lines), "{root:?}");
        }
    }
});
