"""The "tags made by the rules are the truth" histories through the peers.

    python3 bench/truth_peers.py [--export DIR] [--out DIR]

`crates/semver-bump/tests/truth.rs` generates seeded histories and makes every release tag
by the bump rules while generating; with `HUB_TRUTH_EXPORT=DIR` it also writes each history
(`h<seed>.fi`, a `git fast-import` stream) and its releases (`h<seed>.json`: the tagged
commit's mark, the version, whether it was cut in the `rc` channel, and the kinds of commit
in its range). This script rebuilds each repository, and release by release, in the order
they were cut (later tags not yet there), checks out the tagged commit and asks
`git-cliff --bumped-version` and `cog bump --auto --dry-run` (from `bench/.tools`, see
README.md) for the next version, then cuts the tag. It prints every case where a peer's
answer differs from the tag, with the kinds of commit in that range, as Markdown.

Pre-releases: the peers have no `rc.N` channel numbering of their own in these commands, so
for a tag cut in the `rc` channel the peer's answer is compared with the version without
its pre-release part, and the row says so.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import scenarios  # noqa: E402  (peer_version: the same normalisation as the bump scenario)
import tools  # noqa: E402

PEERS = {
    "git-cliff": (HERE / ".tools/py/bin/git-cliff", ["--config", "cliff.toml", "--bumped-version"]),
    "cocogitto": (HERE / ".tools/cargo/bin/cog", ["bump", "--auto", "--dry-run"]),
}
ENV = dict(os.environ, GIT_COMMITTER_NAME="Release Bot", GIT_COMMITTER_EMAIL="bot@example.com",
           GIT_AUTHOR_NAME="Release Bot", GIT_AUTHOR_EMAIL="bot@example.com",
           GIT_COMMITTER_DATE="1700000000 +0000")


class Run:
    def __init__(self, p: subprocess.CompletedProcess):
        self.rc, self.out, self.err = p.returncode, p.stdout, p.stderr

    def text(self):
        return self.out

    def err_text(self):
        return self.err


def git(repo: Path, *args, input: bytes | None = None) -> str:
    return subprocess.run(["git", *args], cwd=repo, input=input, capture_output=True,
                          check=True, env=ENV).stdout.decode()


def verdict(peer: str, got: str, want: str, pre: bool, kinds: list[str]) -> str:
    """Who is right and why. The tag is right by construction (cut by the documented
    rules); this names the rule the peer does not follow, from the kinds of commit in the
    range, or says the cause is unknown."""
    k = set(kinds)
    if got.startswith("no version"):
        return f"{peer} fails instead of answering"
    if got == "(no release)" and k & {"perf", "revert of a released commit"} and not k & {"feat", "fix", "upper-case type", "breaking !", "breaking footer", "side branch"}:
        return (f"policy: {peer} releases nothing for perf (or a revert of a released commit); "
                "hub: a patch (README rules)")
    if "after a pre-release" in k and got.startswith("1.0.0") and "breaking at 0.y.z" not in k:
        return (f"hub: leaving `rc` releases the pre-release's version; {peer} appears to bump "
                "again for changes already released in the pre-release (and leaves 0.y.z)")
    if "breaking at 0.y.z" in k and got.startswith("1.0.0"):
        return f"policy: {peer} leaves 0.y.z on a breaking change; hub bumps the minor (README)"
    if "revert in range" in k:
        return (f"hub: a commit and its revert in the same range cancel; {peer} still counts "
                "the reverted commit")
    return "hub (tag cut by the rules); cause of the peer's answer not investigated"


def export(dir: Path):
    if any(dir.glob("h*.json")):
        return
    env = dict(os.environ, HUB_TRUTH_EXPORT=str(dir))
    env.setdefault("CARGO_TARGET_DIR", str(HERE.parent / "target"))
    subprocess.run(["cargo", "test", "-q", "-p", "semver-bump", "--test", "truth"],
                   cwd=HERE.parent, env=env, check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--export", type=Path, default=HERE / ".data/truth/export")
    ap.add_argument("--out", type=Path, default=HERE / ".data/truth/repos")
    args = ap.parse_args()
    export(args.export)
    peers = {n: (path, a) for n, (path, a) in PEERS.items() if path.exists()}
    for n in PEERS.keys() - peers.keys():
        print(f"- {n}: not installed in bench/.tools, skipped")
    differ, checked = [], Counter()
    for spec in sorted(args.export.glob("h*.json"), key=lambda p: int(p.stem[1:])):
        releases = json.loads(spec.read_text())
        repo = args.out / spec.stem
        subprocess.run(["rm", "-rf", str(repo)], check=True)
        repo.mkdir(parents=True)
        git(repo, "init", "-q", "-b", "main")
        marks = repo / ".git" / "marks"
        git(repo, "fast-import", "--quiet", f"--export-marks={marks}",
            input=spec.with_suffix(".fi").read_bytes())
        ids = dict(line.split(" ", 1) for line in marks.read_text().split("\n") if line)
        tools.write_repo_configs(repo)
        current = None
        for r in releases:
            id_ = ids[f":{r['mark']}"].strip()
            want = r["version"]
            if current is not None:  # the initial tag is given, not computed
                git(repo, "-c", "advice.detachedHead=false", "checkout", "-q", "-f", "--detach", id_)
                compare_to = want.split("-")[0] if r["prerelease"] else want
                for name, (path, a) in peers.items():
                    p = subprocess.run([str(path), *a], cwd=repo, capture_output=True, text=True,
                                       timeout=120)
                    got = scenarios.peer_version(name, current, Run(p)) or "(no release)"
                    checked[name] += 1
                    if got != compare_to:
                        differ.append((spec.stem, current, want, r["prerelease"], name, got,
                                       ", ".join(r["range"])))
            git(repo, "tag", "-a", "-m", f"release {want}", f"v{want}", id_)
            current = f"v{want}"
    print(f"\nReleases checked: {dict(checked)}; differing answers: {len(differ)}\n")
    print("| history | from | tag (the truth) | peer | peer's answer | who is right, why | kinds of commit in the range |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for h, cur, want, pre, name, got, kinds in differ:
        mark = " (rc; compared without `-rc.N`)" if pre else ""
        why = verdict(name, got, want, pre, kinds.split(", "))
        got = got.split(" (exit")[0] + (" (exit 1)" if "(exit 1" in got else "")
        print(f"| {h} | `{cur}` | `v{want}`{mark} | {name} | {got} | {why} | {kinds} |")


if __name__ == "__main__":
    main()
