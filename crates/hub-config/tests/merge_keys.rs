//! YAML merge keys (`<<`) against an oracle: documents generated from a fixed seed whose merged
//! value and lines the generator works out itself, by the rules PyYAML (check-jsonschema) and
//! js-yaml (ajv-cli) follow — the mapping's own keys win wherever they are written, earlier
//! mappings of a sequence win over later ones, an anchored mapping's own merges are expanded
//! where it is used — and where each merged key was written. (The 1,000 documents of this seed
//! were once loaded with PyYAML 6.0.3's `safe_load` too: every value equal.)

use std::collections::HashMap;

use hub_config::{Format, Limits, parse};
use hub_testkit::rng::Rng;
use serde_json::{Map, Value, json};

const KEYS: [&str; 5] = ["p", "q", "r", "s", "t"];

/// A mapping as the generator expects it: its value and the line each key is written on.
#[derive(Clone)]
struct Expected {
    value: Map<String, Value>,
    lines: HashMap<String, usize>,
}

/// Writes `value` (an integer or `{n: integer}`) as YAML flow.
fn flow(value: &Value) -> String {
    match value {
        Value::Object(map) => format!("{{n: {}}}", map["n"]),
        other => other.to_string(),
    }
}

struct Generator {
    rng: Rng,
    counter: u64,
}

impl Generator {
    fn value(&mut self) -> Value {
        self.counter += 1;
        if self.rng.chance(20) {
            json!({ "n": self.counter })
        } else {
            json!(self.counter)
        }
    }

    /// `count` distinct keys.
    fn keys(&mut self, count: usize) -> Vec<&'static str> {
        let mut pool = KEYS.to_vec();
        (0..count)
            .map(|_| pool.remove(self.rng.below(pool.len())))
            .collect()
    }

    /// The text after `<<: ` and the mappings it merges, in order, given the anchors written so
    /// far and the line the key is on.
    fn merge_value(&mut self, anchors: &[Expected], line: usize) -> (String, Vec<Expected>) {
        let inline = |generator: &mut Self| {
            let count = 1 + generator.rng.below(3);
            let mut expected = Expected {
                value: Map::new(),
                lines: HashMap::new(),
            };
            let mut parts = Vec::new();
            for key in generator.keys(count) {
                let value = generator.value();
                parts.push(format!("{key}: {}", flow(&value)));
                expected.value.insert(key.to_owned(), value);
                expected.lines.insert(key.to_owned(), line);
            }
            (format!("{{{}}}", parts.join(", ")), expected)
        };
        if anchors.is_empty() || self.rng.chance(15) {
            let (text, expected) = inline(self);
            return (text, vec![expected]);
        }
        if self.rng.chance(40) {
            let i = self.rng.below(anchors.len());
            return (format!("*a{i}"), vec![anchors[i].clone()]);
        }
        let mut items = Vec::new();
        let mut sources = Vec::new();
        for _ in 0..1 + self.rng.below(3) {
            if self.rng.chance(20) {
                let (text, expected) = inline(self);
                items.push(text);
                sources.push(expected);
            } else {
                let i = self.rng.below(anchors.len());
                items.push(format!("*a{i}"));
                sources.push(anchors[i].clone());
            }
        }
        (format!("[{}]", items.join(", ")), sources)
    }

    /// Appends one mapping (`name:` then its entries, a `<<` among them or not) to `text`.
    fn mapping(&mut self, text: &mut String, name: &str, anchors: &[Expected]) -> Expected {
        text.push_str(&if name == "t" {
            format!("{name}:\n")
        } else {
            format!("{name}: &{name}\n")
        });
        let count = 1 + self.rng.below(4);
        let written = self.keys(count);
        let merge_at = self.rng.chance(85).then(|| self.rng.below(count + 1));
        let mut expected = Expected {
            value: Map::new(),
            lines: HashMap::new(),
        };
        let mut sources = Vec::new();
        for index in 0..=count {
            if merge_at == Some(index) {
                let line = text.lines().count() + 1;
                let (value, merged) = self.merge_value(anchors, line);
                text.push_str(&format!("  <<: {value}\n"));
                sources = merged;
            }
            if let Some(key) = written.get(index) {
                let value = self.value();
                text.push_str(&format!("  {key}: {}\n", flow(&value)));
                expected.value.insert((*key).to_owned(), value);
                expected
                    .lines
                    .insert((*key).to_owned(), text.lines().count());
            }
        }
        for source in sources {
            for (key, value) in source.value {
                if !expected.value.contains_key(&key) {
                    expected.lines.insert(key.clone(), source.lines[&key]);
                    expected.value.insert(key, value);
                }
            }
        }
        expected
    }
}

#[test]
fn generated_merges_give_the_loaders_values_at_the_written_lines() {
    let mut generator = Generator {
        rng: Rng::seeded(0x3E26_E0C0_0000_0001),
        counter: 0,
    };
    for _ in 0..1_000 {
        let mut text = String::new();
        let mut anchors: Vec<Expected> = Vec::new();
        for i in 0..1 + generator.rng.below(4) {
            let expected = generator.mapping(&mut text, &format!("a{i}"), &anchors);
            anchors.push(expected);
        }
        let target = generator.mapping(&mut text, "t", &anchors);

        let parsed = parse(text.as_bytes(), Format::Yaml, &Limits::default());
        assert!(
            parsed.diagnostics.is_empty(),
            "{:?} for\n{text}",
            parsed.diagnostics
        );
        let document = &parsed.documents[0];
        let mut expected_root = Map::new();
        let named = anchors
            .iter()
            .enumerate()
            .map(|(i, anchor)| (format!("a{i}"), anchor))
            .chain([("t".to_owned(), &target)]);
        for (name, mapping) in named {
            expected_root.insert(name.clone(), Value::Object(mapping.value.clone()));
            for (key, value) in &mapping.value {
                let mut pointers = vec![format!("/{name}/{key}")];
                if value.is_object() {
                    pointers.push(format!("/{name}/{key}/n"));
                }
                for pointer in pointers {
                    let line = document.locate(&pointer, true).start.line;
                    assert_eq!(line, mapping.lines[key], "{pointer} in\n{text}");
                }
            }
        }
        assert_eq!(
            document.value,
            Value::Object(expected_root),
            "value of\n{text}"
        );
    }
}
