#!/usr/bin/env python3
"""Changelog content check and timing on a REAL repository's whole history.

    python3 bench/changelog_real.py GIT_DIR [--name NAME] [--tag-prefix v] [--hub BIN]
                                    [--reps 3] [--timeout 600]

GIT_DIR is any local repository (bare is fine, e.g. one brought by the `fetch` tool); it
is cloned once into bench/.data/real-NAME. Then, on the whole history:

- the per-(release, section) commit check of `bench/run changelog` (tools.CLIFF_LINES and
  tools.HUB_LINES: one line per release, section and commit id on both sides), with
  git-cliff's tag pattern widened to hub's (prefix + any SemVer, pre-releases included)
  so both cut the history at the same tags. Every differing section is listed with the
  commits on one side only, and why hub put (or did not put) each of them there, from
  hub's own `--context` (status: shown, folded, cancelled, release, merge, …);
- wall time, CPU and peak RSS of `hub-conventional-changelog --mode overwrite`, git-cliff
  (the keep-a-changelog cliff.toml of the bench) and the floor `git log --format=%H%x00%B`.

Writes bench/.data/out/real-NAME.json and prints a Markdown report.
"""

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import tools as peer_tools  # noqa: E402

DATA = HERE / ".data"
CLIFF = HERE / ".tools" / "py" / "bin" / "git-cliff"


def sh(cmd, cwd, **kw):
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, **kw)


def measure(cmd, cwd, timeout):
    """Wall seconds, CPU seconds, peak RSS (KiB), exit code, stdout, stderr."""
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M"] + cmd, cwd=cwd,
                       capture_output=True, timeout=timeout)
    wall = time.perf_counter() - t0
    last = p.stderr.decode(errors="replace").strip().splitlines()[-1].split()
    cpu = float(last[1]) + float(last[2])
    return {"wall": wall, "cpu": cpu, "rss_kib": int(last[3]), "rc": p.returncode,
            "stdout": p.stdout, "stderr": p.stderr.decode(errors="replace")}


def lines(text: str) -> dict:
    groups = defaultdict(set)
    for line in text.splitlines():
        parts = line.strip().split("\t")
        if len(parts) == 3:
            groups[(parts[0], parts[1])].add(parts[2])
    return groups


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("git_dir")
    ap.add_argument("--name", default=None)
    ap.add_argument("--tag-prefix", default="v")
    ap.add_argument("--hub", required=True, help="the hub-conventional-changelog binary")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=600)
    args = ap.parse_args()

    name = args.name or Path(args.git_dir).resolve().name
    repo = DATA / f"real-{name}"
    if not (repo / ".bench-complete").exists():
        shutil.rmtree(repo, ignore_errors=True)
        subprocess.run(["git", "clone", "--quiet", args.git_dir, str(repo)], check=True)
        # Every tag of the source (a clone already has them); no remote to confuse hub.
        subprocess.run(["git", "remote", "remove", "origin"], cwd=repo, check=True)
        (repo / ".bench-complete").write_text("")
        with open(repo / ".git" / "info" / "exclude", "a") as f:
            f.write(".bench-complete\n")
    peer_tools.write_repo_configs(repo)
    prefix = re.escape(args.tag_prefix)
    semver = r"[0-9]+\\.[0-9]+\\.[0-9]+(-[0-9A-Za-z.-]+)?(\\+[0-9A-Za-z.-]+)?$"
    stable = 'tag_pattern = "^v[0-9]+\\\\.[0-9]+\\\\.[0-9]+$"'
    wide = f'tag_pattern = "^{prefix}{semver}"'
    for f in (repo / "cliff.toml", repo / ".git" / "bench" / "cliff-lines.toml"):
        text = f.read_text()
        assert stable in text, f"tag pattern not found in {f}"
        f.write_text(text.replace(stable, wide))

    env_note = sh(["git", "rev-list", "--count", "HEAD"], repo).stdout.strip()
    tags = [t for t in sh(["git", "tag"], repo).stdout.split()
            if re.match("^" + prefix + semver.replace("\\\\", "\\"), t)]
    out = DATA / "out"
    out.mkdir(parents=True, exist_ok=True)
    report = {"repository": name, "commits": int(env_note), "release_tags": len(tags),
              "head": sh(["git", "rev-parse", "HEAD"], repo).stdout.strip()}

    # 1. Content: the same commits per (release, section) as git-cliff.
    hub_lines = out / f"real-{name}-hub-lines.txt"
    r1 = sh([args.hub, "--mode", "overwrite", "--output", str(hub_lines), "--repo-url", "none",
             "--tag-prefix", args.tag_prefix, "--template", ".git/bench/hub-lines.j2"], repo,
            timeout=args.timeout)
    r2 = sh([str(CLIFF), "--config", ".git/bench/cliff-lines.toml"], repo, timeout=args.timeout)
    if r1.returncode or r2.returncode:
        sys.exit(f"hub exit {r1.returncode}: {r1.stderr[-500:]}\n"
                 f"git-cliff exit {r2.returncode}: {r2.stderr[-500:]}")
    ours, theirs = lines(hub_lines.read_text()), lines(r2.stdout)
    ctx = sh([args.hub, "--mode", "overwrite", "--repo-url", "none", "--tag-prefix",
              args.tag_prefix, "--context"], repo, timeout=args.timeout)
    status = {}
    for rel in json.loads(ctx.stdout)["releases"]:
        for c in rel["commits"]:
            status[c["id"]] = (rel["title"], c["status"])
    diffs = []
    for key in sorted(set(ours) | set(theirs)):
        a, c = ours.get(key, set()), theirs.get(key, set())
        if a != c:
            def show(ids):
                return [{"id": i[:10],
                         "subject": sh(["git", "log", "-1", "--format=%s", i], repo).stdout.strip(),
                         "hub": status.get(i)} for i in sorted(ids)]
            diffs.append({"release": key[0], "section": key[1], "hub": len(a),
                          "git_cliff": len(c), "only_hub": show(a - c),
                          "only_git_cliff": show(c - a)})
    report["sections_compared"] = len(set(ours) | set(theirs))
    report["sections_differing"] = len(diffs)
    report["entries_hub"] = sum(len(v) for v in ours.values())
    report["entries_git_cliff"] = sum(len(v) for v in theirs.values())
    report["differences"] = diffs

    # 2. Speed and memory, full history.
    runs = {
        "hub-actions": [args.hub, "--mode", "overwrite", "--output", str(out / f"real-{name}.md"),
                        "--repo-url", "none", "--tag-prefix", args.tag_prefix],
        "git-cliff": [str(CLIFF), "--config", "cliff.toml"],
        "git log (floor)": ["git", "log", "--format=%H%x00%B"],
    }
    timing = {}
    for tool, cmd in runs.items():
        reps = 1 if tool == "git-cliff" else args.reps
        best = None
        for _ in range(reps):
            m = measure(cmd, repo, args.timeout)
            if m["rc"] != 0:
                sys.exit(f"{tool} exit {m['rc']}: {m['stderr'][-500:]}")
            if best is None or m["wall"] < best["wall"]:
                best = m
        timing[tool] = {k: best[k] for k in ("wall", "cpu", "rss_kib")} | {"reps": reps}
    report["timing"] = timing
    (out / f"real-{name}.json").write_text(json.dumps(report, indent=2))

    floor = timing["git log (floor)"]
    print(f"## {name}: {report['commits']} commits, {report['release_tags']} release tags "
          f"(`{args.tag_prefix}` + SemVer), HEAD {report['head'][:10]}\n")
    print("| tool | wall | CPU | peak RSS | × floor (wall) |\n| --- | --- | --- | --- | --- |")
    for tool, t in timing.items():
        print(f"| {tool} | {t['wall']:.2f} s | {t['cpu']:.2f} s | {t['rss_kib'] / 1024:.0f} MiB "
              f"| {t['wall'] / floor['wall']:.2f} |")
    print(f"\nSections compared: {report['sections_compared']}, differing: "
          f"{report['sections_differing']} (entries: hub {report['entries_hub']}, "
          f"git-cliff {report['entries_git_cliff']})\n")
    for d in diffs:
        print(f"- {d['release']} / {d['section']}: hub {d['hub']}, git-cliff {d['git_cliff']}")
        for side in ("only_hub", "only_git_cliff"):
            for c in d[side]:
                print(f"  - {side}: {c['id']} {c['subject']!r} (hub: {c['hub']})")


if __name__ == "__main__":
    main()
