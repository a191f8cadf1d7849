//! The release pull request's body: the generated notes, the block a person edits, the
//! `Release-As:` lines, the hidden marker and the data the release reads back. Pure.

use std::collections::BTreeMap;

use hub_conventional::semver::Version;
use serde_json::{Value, json};

/// Where the block a person edits starts.
pub const NOTES_START: &str = "<!-- hub-release-pr:notes-start -->";
/// Where it ends.
pub const NOTES_END: &str = "<!-- hub-release-pr:notes-end -->";
/// The data comment's opening.
const DATA_OPEN: &str = "<!-- hub-release-pr-data ";
/// The trailer that marks the action's own commit on the pull request's branch.
pub const TRAILER: &str = "Hub-Release-PR";

/// What a pull request releases, as its body records it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Data {
    /// The release branch's commit the pull request was built on.
    pub base: String,
    /// Package (`.` for a single package) → version.
    pub versions: BTreeMap<String, String>,
    /// The tags it creates.
    pub tags: Vec<String>,
}

/// What people wrote in a body: kept across refreshes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Edits {
    /// The text between the notes markers (trimmed; empty when untouched).
    pub user_notes: String,
    /// `Release-As:` lines outside the notes block, as written.
    pub release_as_lines: Vec<String>,
    /// Their versions: package (`None` for any/the single one) → version.
    pub release_as: Vec<(Option<String>, Version)>,
}

impl Edits {
    /// The `Release-As` version for `package` (`.`: the single package).
    pub fn release_as_for(&self, package: &str) -> Option<&Version> {
        self.release_as
            .iter()
            .find(|(p, _)| p.as_deref() == Some(package))
            .or_else(|| self.release_as.iter().find(|(p, _)| p.is_none()))
            .map(|(_, v)| v)
    }
}

/// Reads the edits of a body (an empty body has none).
pub fn edits(body: &str) -> Edits {
    let body = body.replace("\r\n", "\n");
    let mut out = Edits::default();
    let (user, outside) = match body.split_once(NOTES_START) {
        Some((_, rest)) => match rest.split_once(NOTES_END) {
            Some((inside, after)) => (inside.trim().to_string(), after.to_string()),
            None => (String::new(), rest.to_string()),
        },
        None => (String::new(), String::new()),
    };
    out.user_notes = user;
    for line in outside.lines() {
        let Some(rest) = strip_release_as(line.trim()) else {
            continue;
        };
        let words: Vec<&str> = rest.split_whitespace().collect();
        let (package, version) = match words.as_slice() {
            [v] => (None, *v),
            [p, v] => (Some((*p).to_string()), *v),
            _ => continue,
        };
        let Ok(version) = Version::parse(version.strip_prefix('v').unwrap_or(version)) else {
            continue;
        };
        out.release_as_lines.push(line.trim().to_string());
        out.release_as.push((package, version));
    }
    out
}

fn strip_release_as(line: &str) -> Option<&str> {
    let (key, rest) = line.split_once(':')?;
    key.trim()
        .eq_ignore_ascii_case("release-as")
        .then_some(rest.trim())
}

/// Reads the data comment, when the body has one.
pub fn data(body: &str) -> Option<Data> {
    let start = body.find(DATA_OPEN)? + DATA_OPEN.len();
    let end = start + body[start..].find(" -->")?;
    let value: Value = serde_json::from_str(&body[start..end]).ok()?;
    let versions = value
        .get("versions")?
        .as_object()?
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect();
    Some(Data {
        base: value.get("base")?.as_str()?.to_string(),
        versions,
        tags: value
            .get("tags")?
            .as_array()?
            .iter()
            .filter_map(|t| t.as_str().map(String::from))
            .collect(),
    })
}

/// The data comment: JSON with every `-` written as `\u002d`, so nothing in it can close
/// the comment.
fn data_comment(data: &Data) -> String {
    let text = json!({ "base": data.base, "versions": data.versions, "tags": data.tags })
        .to_string()
        .replace('-', "\\u002d")
        .replace('>', "\\u003e");
    format!("{DATA_OPEN}{text} -->")
}

/// The whole body: `notes` (escaped Markdown, generated), the user block and `Release-As`
/// lines from `edits` as they were, the marker for `key`, the data.
pub fn render(notes: &str, edits: &Edits, key: &str, data: &Data) -> String {
    let mut out = String::new();
    out.push_str(notes.trim_end());
    out.push_str("\n\n---\n\n");
    out.push_str(
        "Notes written between these markers go into the release notes; a line `Release-As: x.y.z` below them sets the version. Both are kept when this pull request is refreshed. Edit only between the markers: the rest of this description is rewritten each time this pull request is refreshed.\n\n",
    );
    out.push_str(NOTES_START);
    out.push('\n');
    if !edits.user_notes.is_empty() {
        out.push_str(&edits.user_notes);
        out.push('\n');
    }
    out.push_str(NOTES_END);
    out.push('\n');
    for line in &edits.release_as_lines {
        out.push('\n');
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&hub_github::release_pr_marker(key));
    out.push('\n');
    out.push_str(&data_comment(data));
    out.push('\n');
    out
}

/// The commit message of the action's own commit.
pub fn commit_message(title: &str, key: &str) -> String {
    format!("{title}\n\n{TRAILER}: {key}\n")
}

/// Whether a commit message is the action's own commit for `key`.
pub fn is_own_commit(message: &str, key: &str) -> bool {
    let wanted = format!("{TRAILER}: {key}");
    message.lines().any(|l| l.trim() == wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> Data {
        Data {
            base: "abc".into(),
            versions: [(".".to_string(), "1.3.0-rc.1".to_string())].into(),
            tags: vec!["v1.3.0-rc.1".into()],
        }
    }

    #[test]
    fn user_notes_and_release_as_survive_a_re_render() {
        let first = render("## notes", &Edits::default(), "main", &data());
        assert!(first.contains("<!-- hub-release-pr:main -->"));
        assert_eq!(super::data(&first), Some(data()));
        // A person edits the body.
        let edited = first.replace(
            &format!("{NOTES_START}\n{NOTES_END}"),
            &format!("{NOTES_START}\nShip it **now**.\n{NOTES_END}\n\nRelease-As: v2.0.0"),
        );
        let e = edits(&edited);
        assert_eq!(e.user_notes, "Ship it **now**.");
        assert_eq!(e.release_as_for("."), Some(&Version::new(2, 0, 0)));
        let again = render("## other notes", &e, "main", &data());
        assert_eq!(edits(&again), e);
        assert!(again.starts_with("## other notes"));
    }

    #[test]
    fn the_body_says_that_only_the_marked_block_is_kept() {
        let first = render("## notes", &Edits::default(), "main", &data());
        let (before, _) = first.split_once(NOTES_START).expect("the block");
        assert!(
            before.contains("Edit only between the markers: the rest of this description is rewritten each time this pull request is refreshed."),
            "{first}"
        );
        // Text written elsewhere is not read back, so the next render drops it.
        let edited = format!("Mine, above the notes.\n\n{first}");
        let again = render("## notes", &edits(&edited), "main", &data());
        assert_eq!(again, first);
    }

    #[test]
    fn release_as_per_package_and_the_comment_cannot_close_early() {
        let e = edits(&format!(
            "x\n{NOTES_START}\n{NOTES_END}\nRelease-As: api 3.0.0\nrelease-as: 1.0.0\nRelease-As: nonsense here too\n"
        ));
        assert_eq!(e.release_as_for("api"), Some(&Version::new(3, 0, 0)));
        assert_eq!(e.release_as_for("web"), Some(&Version::new(1, 0, 0)));
        let d = Data {
            base: "x".into(),
            versions: [("a-->b".to_string(), "1.0.0".to_string())].into(),
            tags: vec!["a-->b@1.0.0".into()],
        };
        let text = render("", &Edits::default(), "main", &d);
        let comment = text.lines().last().unwrap();
        assert_eq!(comment.matches("-->").count(), 1, "{comment}");
        assert_eq!(super::data(&text), Some(d));
    }

    #[test]
    fn own_commits_carry_the_trailer() {
        let m = commit_message("chore(main): release 1.0.0", "main");
        assert!(is_own_commit(&m, "main"));
        assert!(!is_own_commit(&m, "main/api"));
        assert!(!is_own_commit("fix: x", "main"));
    }
}
