//! Shared test helpers: where the peer suites live.

use std::path::PathBuf;

/// `HUB_PEER_SUITES`, else `../shared/peer-suites` beside the repository. `None` (and a
/// printed skip) when the folder is absent.
pub fn peer_suites() -> Option<PathBuf> {
    hub_testkit::peer_suites()
}

/// Reads a JSON file of the peer suites.
pub fn load(dir: &std::path::Path, rel: &str) -> serde_json::Value {
    let path = dir.join(rel);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}
