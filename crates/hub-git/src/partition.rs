//! Splitting a history into releases in one pass.

use std::collections::HashMap;

/// Assigns every commit to the first release (in the order given) whose tag can reach it.
///
/// `commits` are `(id, parent ids)` for the whole history to consider; `releases` are the
/// tag commits in ascending version order. Release *i* gets the commits reachable from its
/// tag and from no earlier release's tag — "the commits since the previous tag reachable
/// from it" — and the remainder (reachable from nothing tagged) comes back as the last
/// element, the unreleased commits. Each commit is visited once: time and memory grow
/// linearly with commits and tags, with no per-tag re-walk of history.
///
/// Returns, per release and then for the unreleased rest, indexes into `commits` in the
/// order given (for `git log` output: newest first).
pub fn partition_by_tags<'a>(
    commits: &[(&'a str, Vec<&'a str>)],
    releases: &[&str],
) -> Vec<Vec<usize>> {
    let index: HashMap<&str, usize> = commits
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (*id, i))
        .collect();
    let mut owner: Vec<Option<usize>> = vec![None; commits.len()];
    let mut stack = Vec::new();
    for (r, tag_commit) in releases.iter().enumerate() {
        let Some(&start) = index.get(tag_commit) else {
            continue;
        };
        stack.push(start);
        while let Some(i) = stack.pop() {
            if owner[i].is_some() {
                continue;
            }
            owner[i] = Some(r);
            for p in &commits[i].1 {
                if let Some(&pi) = index.get(p)
                    && owner[pi].is_none()
                {
                    stack.push(pi);
                }
            }
        }
    }
    let mut out = vec![Vec::new(); releases.len() + 1];
    for (i, o) in owner.iter().enumerate() {
        out[o.unwrap_or(releases.len())].push(i);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_history() {
        // e -> d -> c -> b -> a (a oldest); tags v1 at b, v2 at d.
        let c = |id, p: &[&'static str]| (id, p.to_vec());
        let commits = vec![
            c("e", &["d"]),
            c("d", &["c"]),
            c("c", &["b"]),
            c("b", &["a"]),
            c("a", &[]),
        ];
        assert_eq!(
            partition_by_tags(&commits, &["b", "d"]),
            vec![vec![3, 4], vec![1, 2], vec![0]]
        );
    }

    #[test]
    fn merged_branch_belongs_to_the_first_tag_that_reaches_it() {
        // m merges f (side branch off a) into c; tag v1 at c (before merge), v2 at m.
        let c = |id, p: &[&'static str]| (id, p.to_vec());
        let commits = vec![
            c("m", &["c", "f"]),
            c("f", &["a"]),
            c("c", &["a"]),
            c("a", &[]),
        ];
        assert_eq!(
            partition_by_tags(&commits, &["c", "m"]),
            vec![vec![2, 3], vec![0, 1], vec![]]
        );
    }

    #[test]
    fn tags_outside_the_history_are_empty_releases() {
        let commits = vec![("a", vec![])];
        assert_eq!(partition_by_tags(&commits, &["zz"]), vec![vec![], vec![0]]);
    }
}
