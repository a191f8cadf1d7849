//! Every case of `peer-suites/conventional/commits.json`, every field of `expected`.

mod common;

use hub_conventional::Commit;
use serde_json::{Value, json};

fn as_json(c: &Commit<'_>) -> Value {
    json!({
        "type": c.type_,
        "scope": c.scope,
        "description": c.description,
        "breaking": c.breaking,
        "breaking_description": c.breaking_description,
        "body": c.body,
        "footers": c.footers.iter().map(|f| json!({
            "token": f.token,
            "separator": f.separator.as_str(),
            "value": f.value,
        })).collect::<Vec<_>>(),
    })
}

#[test]
fn commits_json() {
    let Some(dir) = common::peer_suites() else {
        return;
    };
    let cases = common::load(&dir, "conventional/commits.json");
    let cases = cases.as_array().expect("an array of cases");
    let (mut accepted, mut rejected, mut failures) = (0, 0, Vec::new());
    for case in cases {
        let id = case["id"].as_str().expect("id");
        let message = case["message"].as_str().expect("message");
        let got = Commit::parse(message);
        match (case.get("expected"), &got) {
            (Some(expected), Ok(c)) => {
                let got = as_json(c);
                if &got == expected {
                    accepted += 1;
                } else {
                    failures.push(format!("{id}: expected {expected}\n      got {got}"));
                }
            }
            (Some(_), Err(e)) => failures.push(format!("{id}: expected a commit, got error {e}")),
            (None, Err(_)) => rejected += 1,
            (None, Ok(c)) => failures.push(format!("{id}: expected an error, got {}", as_json(c))),
        }
    }
    println!(
        "conventional/commits.json: {accepted} accepted as expected, {rejected} rejected as expected, {} wrong",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(accepted + rejected, cases.len());
    assert!(cases.len() >= 146, "the suite shrank: {}", cases.len());
}
