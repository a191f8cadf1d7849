//! "The last good deployment": a pure decision over an environment's GitHub deployment
//! history (deployments newest first, each with its statuses newest first).

use hub_conventional::TagPattern;
use hub_conventional::semver::Version;
use serde_json::Value;

use crate::choose;

/// The task of the deployments a rollback creates.
pub const ROLLBACK_TASK: &str = "deploy:rollback";
/// The payload key naming the version a deployment deploys.
pub const PAYLOAD_VERSION: &str = "version";
/// The payload key a rollback deployment records the bad version under.
pub const PAYLOAD_FROM: &str = "rolled_back_from";

/// A state of a deployment status, as the API spells it.
pub type State = &'static str;

/// One deployment of the environment, reduced to what the decision needs.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub id: u64,
    /// The ref it deployed (tag, branch or sha).
    pub git_ref: String,
    pub task: String,
    pub payload: Value,
    /// Its statuses' states, newest first.
    pub states: Vec<State>,
}

impl Entry {
    /// The version it deployed: `payload.version`, else its ref read as a version
    /// (`v1.2.3`). A deployment of a branch or a sha has none.
    pub fn version(&self, pattern: &TagPattern) -> Option<Version> {
        self.payload
            .get(PAYLOAD_VERSION)
            .and_then(Value::as_str)
            .and_then(|v| choose::parse_version(v, pattern))
            .or_else(|| choose::parse_version(&self.git_ref, pattern))
    }

    /// The newest status, if any.
    pub fn latest(&self) -> Option<State> {
        self.states.first().copied()
    }

    /// Good: it reached `success` at some point (GitHub's `auto_inactive` later marks good
    /// deployments `inactive`, so the whole history counts) and did not end in `failure` or
    /// `error`.
    pub fn was_good(&self) -> bool {
        self.states.contains(&"success") && !matches!(self.latest(), Some("failure" | "error"))
    }

    /// A rollback this action made: its task, and the bad version in its payload.
    pub fn rolled_back_from(&self, pattern: &TagPattern) -> Option<Version> {
        (self.task == ROLLBACK_TASK)
            .then(|| self.payload.get(PAYLOAD_FROM)?.as_str())
            .flatten()
            .and_then(|v| choose::parse_version(v, pattern))
    }
}

/// What the history says.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    /// The version live now (the newest deployment's), when it names one.
    pub current: Option<Version>,
    /// The version being rolled back.
    pub from: Option<Version>,
    /// The last good deployment other than the current one, and its version.
    pub good: Option<(u64, String, Version)>,
    /// The newest deployment, when it is the bad one (not our own rollback): its id and
    /// newest state.
    pub bad: Option<(u64, Option<State>)>,
    /// The newest deployment is our rollback to `good`, live (or, with no status yet, being
    /// carried out): nothing to do again.
    pub already_live: bool,
}

/// Decides from `entries` (newest first). `from` is the bad version when the caller knows
/// it; otherwise the newest deployment's version is. A re-run after our own rollback rolls
/// back from the same bad version again, to the same good one (a no-op), not one step
/// further.
pub fn decide(entries: &[Entry], from: Option<&Version>, pattern: &TagPattern) -> Choice {
    let Some(newest) = entries.first() else {
        return Choice {
            current: None,
            from: from.cloned(),
            good: None,
            bad: None,
            already_live: false,
        };
    };
    let current = newest.version(pattern);
    // Our rollback, live or still being carried out by a deploy workflow.
    let ours = newest
        .rolled_back_from(pattern)
        .filter(|_| !matches!(newest.latest(), Some("failure" | "error" | "inactive")));
    // A re-run: our rollback from the same bad version (named again, or not named) is live.
    if let (Some(bad), Some(to)) = (&ours, &current)
        && from.is_none_or(|f| f.cmp_precedence(bad).is_eq())
    {
        return Choice {
            current: current.clone(),
            from: Some(bad.clone()),
            good: Some((newest.id, newest.git_ref.clone(), to.clone())),
            bad: None,
            already_live: true,
        };
    }
    let from = from.cloned().or_else(|| current.clone());
    let good = entries[1..]
        .iter()
        .filter(|e| e.was_good())
        .filter_map(|e| Some((e, e.version(pattern)?)))
        .filter(|(_, v)| v.pre.is_empty())
        .find(|(_, v)| from.as_ref().is_none_or(|f| v.cmp_precedence(f).is_lt()))
        .map(|(e, v)| (e.id, e.git_ref.clone(), v));
    let bad = (ours.is_none() && current.is_some() && current == from)
        .then(|| (newest.id, newest.latest()));
    Choice {
        current,
        from,
        good,
        bad,
        already_live: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(id: u64, git_ref: &str, states: &[State]) -> Entry {
        Entry {
            id,
            git_ref: git_ref.into(),
            task: "deploy".into(),
            payload: json!({}),
            states: states.to_vec(),
        }
    }

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn inactive_after_success_is_still_good_and_failures_are_not() {
        let p = TagPattern::default();
        let history = [
            entry(9, "v1.3.0", &["success", "in_progress"]),
            entry(8, "v1.2.0", &["failure", "success"]),
            entry(7, "main", &["success"]),
            entry(6, "v1.1.0", &["inactive", "success", "pending"]),
            entry(5, "v1.0.0", &["inactive", "success"]),
        ];
        let c = decide(&history, None, &p);
        assert_eq!(c.current, Some(v("1.3.0")));
        assert_eq!(c.from, Some(v("1.3.0")));
        assert_eq!(c.good, Some((6, "v1.1.0".into(), v("1.1.0"))));
        assert_eq!(c.bad, Some((9, Some("success"))));
        assert!(!c.already_live);
        let never = [
            entry(2, "v2.0.0", &["success"]),
            entry(1, "v1.0.0", &["error"]),
        ];
        assert_eq!(decide(&never, None, &p).good, None);
        assert_eq!(decide(&[], Some(&v("1.0.0")), &p).good, None);
    }

    #[test]
    fn payload_version_wins_and_from_bounds_the_choice() {
        let p = TagPattern::default();
        let mut by_sha = entry(3, "0123abcd", &["success"]);
        by_sha.payload = json!({"version": "1.4.0"});
        let history = [
            entry(4, "v2.0.0", &["failure"]),
            by_sha,
            entry(2, "v1.2.0", &["inactive", "success"]),
        ];
        let c = decide(&history, None, &p);
        assert_eq!(c.good.map(|g| g.2), Some(v("1.4.0")));
        assert_eq!(c.bad, Some((4, Some("failure"))));
        let c = decide(&history, Some(&v("1.3.0")), &p);
        assert_eq!(c.good.map(|g| g.2), Some(v("1.2.0")));
        assert_eq!(
            c.bad, None,
            "the newest deployment is not the named bad version"
        );
    }

    #[test]
    fn a_rerun_after_our_rollback_is_a_no_op() {
        let p = TagPattern::default();
        let mut ours = entry(5, "v1.0.0", &["success"]);
        ours.task = ROLLBACK_TASK.into();
        ours.payload = json!({"version": "1.0.0", "rolled_back_from": "1.1.0"});
        let history = [
            ours.clone(),
            entry(4, "v1.1.0", &["failure", "success"]),
            entry(3, "v1.0.0", &["inactive", "success"]),
        ];
        let c = decide(&history, None, &p);
        assert!(c.already_live);
        assert_eq!(c.from, Some(v("1.1.0")));
        assert_eq!(c.good.map(|g| g.2), Some(v("1.0.0")));
        assert_eq!(c.bad, None);
        // The same, with the bad version named again (`from:` in a deploy workflow).
        let c = decide(&history, Some(&v("1.1.0")), &p);
        assert!(c.already_live);
        assert_eq!(c.good.map(|g| g.2), Some(v("1.0.0")));
        // A different bad version is a new rollback, not a re-run.
        let c = decide(&history, Some(&v("1.2.0")), &p);
        assert!(!c.already_live);
        // Still being carried out by the deploy workflow: also nothing to redo.
        ours.states = vec!["queued"];
        let c = decide(&[ours.clone(), history[1].clone()], None, &p);
        assert!(c.already_live);
        // Our rollback that failed is not "live": choose again, below the version it holds.
        ours.states = vec!["failure", "success"];
        let c = decide(&[ours, history[1].clone(), history[2].clone()], None, &p);
        assert!(!c.already_live);
    }
}
