//! Release trees: a version tag on a commit off the branch that counts as released at its
//! first parent.
//!
//! Some projects commit their build into a commit made only for the tag — the release tree —
//! on top of the commit they release, and tag that (GitHub's documentation describes it for
//! JavaScript actions; hub-actions' own `release.sh release-tree` does it so that
//! `uses: …@v1.2.3` pins get the installer's `release.env` and the WebAssembly build). The
//! branch never contains that commit, so "the highest version tag reachable from HEAD" would
//! never find such a release. The rule: a tag whose commit is not on the branch, but whose
//! message ends with the trailer `Release-Tree-Of: <full id of its first parent>`, counts as
//! released at that first parent when the branch reaches it. The trailer must name the first
//! parent exactly (git's own trailer parsing reads it); any other value — a message copied
//! onto another commit — is ignored, so a copied message cannot move a release.
//!
//! Only asked about tags already found unreachable: when every candidate tag is on the
//! branch (the common case), no process is started for it.

use std::collections::{HashMap, HashSet};

use crate::{GitError, Repo};

/// The trailer that marks a release tree; its value is the full id of the commit's first
/// parent.
pub const RELEASE_TREE_TRAILER: &str = "Release-Tree-Of";

impl Repo {
    /// Of `commits`, the marked release trees, each with its first parent (the commit it
    /// releases): one `git log --no-walk --stdin` that reads only those commits, their
    /// parents and the trailer through git's own trailer parser. Ids that are not commits
    /// (a tag of a tree) or that are missing are left out.
    pub fn release_tree_parents(
        &self,
        commits: &[&str],
    ) -> Result<HashMap<String, String>, GitError> {
        let mut found = HashMap::new();
        if commits.is_empty() {
            return Ok(found);
        }
        let mut input = String::with_capacity(commits.len() * 41);
        for c in commits {
            input.push_str(c);
            input.push('\n');
        }
        let format = format!(
            "--format=%H%x00%P%x00%(trailers:key={RELEASE_TREE_TRAILER},valueonly,unfold,separator=%x2C)"
        );
        let args = [
            "log",
            "--no-walk=unsorted",
            "--ignore-missing",
            "-z",
            format.as_str(),
            "--stdin",
        ];
        let stdout = self.run_with_input(&args, input.into_bytes())?;
        let text = String::from_utf8_lossy(&stdout);
        let mut fields = text.split('\0');
        while let (Some(id), Some(parents), Some(marks)) =
            (fields.next(), fields.next(), fields.next())
        {
            let id = id.trim_start_matches('\n');
            let Some(first) = parents.split(' ').next().filter(|p| !p.is_empty()) else {
                continue;
            };
            // Exactly one value, and it is the first parent.
            if marks.trim() == first {
                found.insert(id.to_owned(), first.to_owned());
            }
        }
        Ok(found)
    }

    /// Which of `commits` are reachable from `to` (a commit reaches itself): one
    /// `git rev-list --stdin` of `commits ^to`, which lists exactly the ones `to` does not
    /// reach (with their own history that `to` lacks).
    pub fn reached_from(&self, to: &str, commits: &[&str]) -> Result<HashSet<String>, GitError> {
        if commits.is_empty() {
            return Ok(HashSet::new());
        }
        let mut input = format!("^{to}\n");
        for c in commits {
            input.push_str(c);
            input.push('\n');
        }
        let args = ["rev-list", "--stdin"];
        let stdout = self.run_with_input(&args, input.into_bytes())?;
        let text = String::from_utf8_lossy(&stdout);
        let unreached: HashSet<&str> = text.lines().collect();
        Ok(commits
            .iter()
            .filter(|c| !unreached.contains(**c))
            .map(|c| (*c).to_owned())
            .collect())
    }
}
