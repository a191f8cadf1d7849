"""The scenarios. Each takes the Bench, runs its contenders alternately through
`bench.compare`, and checks the answers where the tools should agree."""
from __future__ import annotations

import hashlib
import http.server
import json
import os
import re
import shutil
import statistics
import subprocess
import tarfile
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def git(repo, *args) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True,
                          check=True).stdout


def last_tag(repo) -> str:
    return git(repo, "describe", "--tags", "--abbrev=0", "--match", "v[0-9]*").strip()


def sized(b, scenario):
    """Yields (size, repo); once a peer timed out at a size it is skipped at larger ones."""
    for size in sorted(b.args.sizes):
        yield size, b.history(size)


def dropouts(b, scenario, case, size, names, timed_out: dict):
    keep = []
    for n in names:
        if n in timed_out:
            b.skipped(scenario, case, size, n, f"timed out at size {timed_out[n]}")
        else:
            keep.append(n)
    return keep


def note_timeouts(b, scenario, case, size, timed_out: dict):
    for r in b.records:
        if (r["scenario"], r["case"], r["size"]) == (scenario, case, size) and r["status"] == "timeout":
            timed_out.setdefault(r["tool"], size)


# --- bump ------------------------------------------------------------------------------------

def parse_hub_version(text: str) -> str | None:
    try:
        doc, _ = json.JSONDecoder().raw_decode(text[text.index("{"):])
        for key in ("next-version", "next_version", "nextVersion", "next"):
            if key in doc:
                return str(doc[key] or "") or None
    except ValueError:
        pass
    m = re.search(r"^next-version=(\S*)", text, re.M)
    return (m.group(1) or None) if m else None


def bump_level(base: str, level: str) -> str:
    ma, mi, pa = (int(x) for x in base.lstrip("v").split("-")[0].split("."))
    return {"major": f"{ma + 1}.0.0", "minor": f"{ma}.{mi + 1}.0", "patch": f"{ma}.{mi}.{pa + 1}"}[level]


def expected_next(repo) -> tuple[str, str]:
    """What the generated history calls for under the Conventional Commits rules the README
    documents (breaking > feat > fix/perf; other types and non-conventional: no release)."""
    tag = last_tag(repo)
    level = 0
    for msg in git(repo, "log", "--format=%B%x00", f"{tag}..HEAD").split("\0"):
        msg = msg.strip()
        if not msg:
            continue
        m = re.match(r"^([A-Za-z]+)(\([^)]*\))?(!)?: ", msg)
        if not m:
            continue
        t = m.group(1).lower()
        if m.group(3) or re.search(r"^BREAKING[ -]CHANGE: ", msg, re.M):
            level = 3
        elif t == "feat":
            level = max(level, 2)
        elif t in ("fix", "perf"):
            level = max(level, 1)
    name = {3: "major", 2: "minor", 1: "patch"}.get(level)
    return tag, (bump_level(tag, name) if name else "")


def bump(b):
    bump_edges(b)
    timed_out = {}
    for size, repo in sized(b, "bump"):
        tag, want = expected_next(repo)
        peers = dropouts(b, "bump", "next version", size,
                         b.peers(["git-cliff", "cocogitto", "commitizen",
                                  "conventional-recommended-bump"], "bump", "next version", size),
                         timed_out)
        t = {p: b.tools[p].path for p in peers}
        contenders = [("hub-actions", [b.hub("hub-semver-bump"), "--dry-run", "--json"], repo)]
        contenders += [(p, peer_cmd(b, p), repo) for p in peers]
        # The floor: reading the commits since the last tag, which any tool must do.
        contenders.append(("git log (floor)", ["git", "log", "--format=%H%x00%B", f"{tag}..HEAD"], repo))
        last = b.compare("bump", "next version", size, contenders)
        note_timeouts(b, "bump", "next version", size, timed_out)
        if "hub-actions" not in last:
            continue
        ours = parse_hub_version(last["hub-actions"].text()) or ""
        if ours != want:
            b.wrong("bump", "next version", size, "hub-actions", ours, want,
                    "hub-actions is wrong: the generated commits call for " + (want or "no release"))
        for p, run in last.items():
            if p in ("hub-actions", "git log (floor)"):
                continue
            theirs = peer_version(p, tag, run)
            if theirs != ours:
                if theirs == want:
                    verdict = f"{p} is right, hub-actions wrong"
                elif ours == want and not want:
                    verdict = (f"policy: the unreleased commits are only non-releasing types; "
                               f"{p} still bumps (hub-actions releases nothing)")
                elif ours == want:
                    verdict = f"hub-actions is right ({want}), {p} differs"
                else:
                    verdict = f"both differ from the expected {want!r}"
                b.disagree("bump", "next version", size, p, ours, theirs, verdict)


# Small histories where the Conventional Commits specification (or hub's documented policy)
# settles the next version: (name, base tag, commit messages, expected, settled by)
BUMP_EDGES = [
    ("upper-case type", "v1.2.3", ["FEAT: shout"], "1.3.0",
     "spec rule 15: types are not case sensitive"),
    ("BREAKING-CHANGE footer", "v1.2.3", ["fix: x\n\nBREAKING-CHANGE: y changed"], "2.0.0",
     "spec rule 16: BREAKING-CHANGE is synonymous with BREAKING CHANGE"),
    ("lower-case breaking footer", "v1.2.3", ["fix: x\n\nbreaking change: y changed"], "1.2.4",
     "spec rule 15: BREAKING CHANGE must be upper case, so this is no breaking change"),
    ("scope and !", "v1.2.3", ["feat(api)!: drop v1 endpoints"], "2.0.0", "spec rule 13"),
    ("docs and chore only", "v1.2.3", ["docs: guide", "chore: tidy"], "",
     "policy: no feat/fix/perf, nothing to release (hub); others may bump patch"),
    ("non-conventional only", "v1.2.3", ["Update README"], "",
     "policy: nothing conventional, nothing to release (hub)"),
    ("breaking at 0.y.z", "v0.4.1", ["feat!: drop the old API"], "0.5.0",
     "policy: hub keeps 0.y.z and bumps the minor (as cocogitto); SemVer leaves 0.y.z open"),
]


def edge_repo(root: Path, name: str, base: str, messages: list[str]) -> Path:
    repo = root / re.sub(r"[^a-z0-9]+", "-", name.lower())
    shutil.rmtree(repo, ignore_errors=True)
    repo.mkdir(parents=True)
    env = dict(os.environ, GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@example.com",
               GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@example.com",
               GIT_AUTHOR_DATE="1600000000 +0000", GIT_COMMITTER_DATE="1600000000 +0000")
    run = lambda *a: subprocess.run(["git", *a], cwd=repo, env=env, check=True, capture_output=True)
    run("init", "-q", "-b", "main")
    run("commit", "-q", "--allow-empty", "-m", "feat: first")
    run("tag", "-a", base, "-m", base)
    for m in messages:
        run("commit", "-q", "--allow-empty", "-m", m)
    import tools as peer_tools
    peer_tools.write_repo_configs(repo)
    return repo


def bump_edges(b):
    root = b.out_dir / "bump-edges"
    peers = [p for p in ("git-cliff", "cocogitto", "commitizen", "conventional-recommended-bump")
             if p in b.tools and b.tools[p].path]
    checked = 0
    for name, base, messages, want, why in BUMP_EDGES:
        repo = edge_repo(root, name, base, messages)
        answers = {}
        r = b.run([b.hub("hub-semver-bump"), "--dry-run", "--json"], cwd=repo, tag="edge-hub")
        answers["hub-actions"] = parse_hub_version(r.text()) or "" if r.rc == 0 else f"exit {r.rc}"
        for p in peers:
            r = b.run(peer_cmd(b, p), cwd=repo, tag=f"edge-{p}")
            answers[p] = peer_version(p, base, r)
        for tool, got in answers.items():
            checked += 1
            if got != want:
                policy = why.startswith("policy")
                b.wrong("bump", f"edge: {name}", None, tool, got or "(no release)",
                        want or "(no release)",
                        ("differs by policy — " if policy else f"{tool} is wrong — ") + why)
    b.records.append({"scenario": "bump", "case": "edge histories", "size": len(BUMP_EDGES),
                      "tool": "all", "kind": "check", "status": "ok", "answers_checked": checked})


def peer_cmd(b, p):
    t = b.tools[p].path
    return {
        "git-cliff": [t, "--config", "cliff.toml", "--bumped-version"],
        "cocogitto": [t, "bump", "--auto", "--dry-run"],
        "commitizen": [t, "bump", "--get-next", "--yes"],
        "conventional-recommended-bump": [t, "-p", "conventionalcommits", "-t", "v"],
    }[p]


def peer_version(p, tag, run) -> str:
    """The peer's next version, normalised: "" when it says there is nothing to release."""
    out = run.text().strip()
    if p == "commitizen" and run.rc == 21:  # NoneIncrementExit: "not eligible to be bumped"
        return ""
    if p == "cocogitto" and run.rc == 0 and "No conventional commits" in out + run.err_text():
        return ""
    if run.rc != 0:
        first = (run.err_text().strip().splitlines() or [""])[0]
        return f"no version (exit {run.rc}: {first[:120]})"
    if p == "conventional-recommended-bump":
        lvl = out.split()[0] if out else ""
        return bump_level(tag, lvl) if lvl in ("major", "minor", "patch") else out
    m = re.search(r"v?(\d+\.\d+\.\d+\S*)", out)
    if m and m.group(1) == tag.lstrip("v"):  # git-cliff prints the current version: no bump
        return ""
    return m.group(1) if m else (out.splitlines() or [""])[0][:200]


# --- changelog -------------------------------------------------------------------------------

def changelog(b):
    timed_out = {"full": {}, "unreleased": {}}
    for size, repo in sized(b, "changelog"):
        tag = last_tag(repo)
        out = b.out_dir
        for case in ("full", "unreleased"):
            names = b.peers(["git-cliff", "cocogitto", "commitizen", "conventional-changelog-cli"],
                            "changelog", case, size)
            if case == "unreleased" and "commitizen" in names:
                names.remove("commitizen")
                b.skipped("changelog", case, size, "commitizen",
                          "cz changelog has no stdout mode for the unreleased range alone")
            names = dropouts(b, "changelog", case, size, names, timed_out[case])
            t = {p: b.tools[p].path for p in names}
            if case == "full":
                hub = [b.hub("hub-conventional-changelog"), "--mode", "overwrite",
                       "--output", str(out / "hub-CHANGELOG.md"), "--repo-url", "none"]
                cmds = {
                    "git-cliff": [t.get("git-cliff"), "--config", "cliff.toml"],
                    "cocogitto": [t.get("cocogitto"), "changelog"],
                    "commitizen": [t.get("commitizen"), "changelog", "--dry-run"],
                    "conventional-changelog-cli": [t.get("conventional-changelog-cli"), "-p", "conventionalcommits", "-r", "0"],
                }
                floor = ["git", "log", "--format=%H%x00%B"]
            else:
                hub = [b.hub("hub-conventional-changelog"), "--mode", "none", "--repo-url", "none"]
                cmds = {
                    "git-cliff": [t.get("git-cliff"), "--config", "cliff.toml", "--unreleased"],
                    "cocogitto": [t.get("cocogitto"), "changelog", f"{tag}..HEAD"],
                    "conventional-changelog-cli": [t.get("conventional-changelog-cli"), "-p", "conventionalcommits"],
                }
                floor = ["git", "log", "--format=%H%x00%B", f"{tag}..HEAD"]
            contenders = [("hub-actions", hub, repo)] + [(p, cmds[p], repo) for p in names]
            contenders.append(("git log (floor)", floor, repo))
            b.compare("changelog", case, size, contenders)
            note_timeouts(b, "changelog", case, size, timed_out[case])
        if "git-cliff" in timed_out["full"]:
            b.notes.append(f"changelog sections at {size} not compared: git-cliff timed out")
        elif "git-cliff" in b.tools and b.tools["git-cliff"].path:
            check_sections(b, size, repo)


def _lines(text: str) -> dict[tuple[str, str], set[str]]:
    groups = defaultdict(set)
    for line in text.splitlines():
        parts = line.strip().split("\t")
        if len(parts) == 3:
            groups[(parts[0], parts[1])].add(parts[2])
    return groups


def check_sections(b, size, repo):
    """Same commits per (release, section) as git-cliff configured alike."""
    out = b.out_dir / "hub-lines.txt"
    r1 = subprocess.run([b.hub("hub-conventional-changelog"), "--mode", "overwrite", "--output",
                         str(out), "--repo-url", "none", "--template", ".git/bench/hub-lines.j2"],
                        cwd=repo, capture_output=True, text=True, env=b.env, timeout=b.args.timeout * 3)
    r2 = subprocess.run([b.tools["git-cliff"].path, "--config", ".git/bench/cliff-lines.toml"],
                        cwd=repo, capture_output=True, text=True, env=b.env, timeout=b.args.timeout * 3)
    if r1.returncode or r2.returncode or not out.exists():
        b.notes.append(f"changelog section check at {size} could not run: hub exit {r1.returncode} "
                       f"{r1.stderr.strip()[-200:]!r}; git-cliff exit {r2.returncode} {r2.stderr.strip()[-200:]!r}")
        return
    ours, theirs = _lines(out.read_text()), _lines(r2.stdout)
    if not ours:
        b.notes.append(f"changelog section check at {size}: hub's template printed nothing")
        return
    bad = 0
    for key in sorted(set(ours) | set(theirs)):
        a, c = ours.get(key, set()), theirs.get(key, set())
        if a != c:
            bad += 1
            if bad <= 5:
                only_ours = sorted(a - c)[:3]
                only_theirs = sorted(c - a)[:3]
                subj = lambda ids: [git(repo, "log", "-1", "--format=%s", i).strip() for i in ids]
                b.disagree("changelog", f"section {key[0]} / {key[1]}", size, "git-cliff",
                           f"{len(a)} commits, only here: {subj(only_ours)}",
                           f"{len(c)} commits, only here: {subj(only_theirs)}",
                           "see bench/README.md")
    b.records.append({"scenario": "changelog", "case": "sections vs git-cliff", "size": size,
                      "tool": "git-cliff", "kind": "check", "status": "ok",
                      "sections_compared": len(set(ours) | set(theirs)), "sections_differing": bad})
    if bad > 5:
        b.disagree("changelog", "sections", size, "git-cliff", f"{bad} sections differ",
                   "(first 5 listed)", "see bench/README.md")


# --- validate --------------------------------------------------------------------------------

def hub_verdicts(report_text: str, base: Path) -> dict[str, bool]:
    doc = json.loads(report_text)
    files = doc.get("files", doc) if isinstance(doc, dict) else doc
    verdicts = {}
    for f in files:
        path = f.get("path") or f.get("file")
        diags = [d for d in f.get("diagnostics", []) if d.get("severity", "error") == "error"]
        valid = f.get("valid", not diags)
        verdicts[os.path.relpath(Path(base, path), base)] = bool(valid)
    return verdicts


def cjs_verdicts(text: str, files: list[str], base: Path) -> dict[str, bool]:
    doc = json.loads(text)
    bad = set()
    for e in doc.get("errors", []) + doc.get("parse_errors", []):
        fn = e.get("filename")
        if fn:
            bad.add(os.path.relpath(Path(base, fn), base))
    return {f: f not in bad for f in files}


def ajv_verdicts(text: str, files: list[str], base: Path) -> dict[str, bool]:
    got = {}
    for line in text.splitlines():
        m = re.match(r"^(\S+) (valid|invalid)$", line.strip())
        if m:
            got[os.path.relpath(Path(base, m.group(1)), base)] = m.group(2) == "valid"
    return {f: got.get(f) for f in files}


def validate(b):
    d = b.configs()
    truth = json.loads((d / "truth.json").read_text())
    peers = b.peers(["check-jsonschema", "ajv-cli"], "validate", "x", None)
    # b.peers recorded skips under case "x": fix the case names
    for r in b.records:
        if r["scenario"] == "validate" and r["case"] == "x":
            r["case"] = "2000 files"
    t = {p: b.tools[p].path for p in peers}
    sets = [
        ("2000 files, 10% invalid", "files", sorted(f"files/{n}" for n in os.listdir(d / "files")), "schema.json"),
        ("one large file", "large", ["large/large.json"], "large-schema.json"),
        ("spec edge cases", "edges", sorted(f"edges/{n}" for n in os.listdir(d / "edges")), "schema.json"),
    ]
    for case, folder, files, schema in sets:
        size = len(files) if folder == "files" else (os.path.getsize(d / files[0]) if folder == "large" else len(files))
        hub = [b.hub("hub-validate-config"), "--schema", schema, "--format", "json", "--offline",
               "--max-size", "1000000000", f"{folder}/*.json"]
        cmds = {
            "check-jsonschema": [t.get("check-jsonschema"), "--schemafile", schema, "-o", "JSON", *files],
            "ajv-cli": [t.get("ajv-cli"), "validate", "-s", schema, "-d", f"{folder}/*.json",
                        "--strict=false", "--all-errors"],
        }
        contenders = [("hub-actions", hub, d, (0, 1))] + [(p, cmds[p], d, (0, 1)) for p in peers]
        reps = 1 if folder == "edges" else None
        last = b.compare("validate", case, size, contenders, reps=reps)
        if folder == "edges":  # correctness only: drop the timing rows
            b.records = [r for r in b.records if not (r["scenario"] == "validate" and r["case"] == case)]
        verdicts = {}
        if "hub-actions" in last:
            try:
                verdicts["hub-actions"] = hub_verdicts(last["hub-actions"].text(), d)
            except (ValueError, AttributeError) as e:
                b.notes.append(f"validate/{case}: could not read hub's JSON report: {e}")
        if "check-jsonschema" in last:
            try:
                verdicts["check-jsonschema"] = cjs_verdicts(last["check-jsonschema"].text(), files, d)
            except ValueError as e:
                b.notes.append(f"validate/{case}: could not read check-jsonschema's JSON: {e}")
        if "ajv-cli" in last:
            r = last["ajv-cli"]
            verdicts["ajv-cli"] = ajv_verdicts(r.text() + "\n" + r.err_text(), files, d)
        for tool, v in verdicts.items():
            wrong = [(f, v.get(f)) for f in files if v.get(f) != truth[f]["valid"]]
            for f, got in wrong[:10]:
                want = truth[f]["valid"]
                b.wrong("validate", case, None, tool,
                        f"{f}: " + ("no verdict" if got is None else "valid" if got else "invalid"),
                        ("valid" if want else "invalid") + f" ({truth[f]['why']})",
                        f"{tool} is wrong" if got is not None else f"{tool} gave no verdict")
            if len(wrong) > 10:
                b.wrong("validate", case, None, tool, f"{len(wrong)} wrong verdicts in all",
                        "0", "first 10 listed")
        if len(verdicts) > 1 and "hub-actions" in verdicts:
            for tool, v in verdicts.items():
                diff = [f for f in files if tool != "hub-actions" and v.get(f) != verdicts["hub-actions"].get(f)]
                b.records.append({"scenario": "validate", "case": f"verdicts vs {tool}", "size": len(files),
                                  "tool": tool, "kind": "check", "status": "ok", "differing": len(diff)})


# --- canary ----------------------------------------------------------------------------------

def canary(b):
    cmd = ["cargo", "run", "--quiet", "--release", "-p", "hub-canary", "--example",
           "evaluate", "--", "--json"]
    t0 = time.time()
    r = subprocess.run(cmd, cwd=getattr(b, "src", REPO), capture_output=True, text=True,
                       env=dict(os.environ, CARGO_TARGET_DIR=str(b.target)))
    if r.returncode:
        raise RuntimeError(f"evaluate failed: {r.stderr.strip()[-300:]}")
    rows = json.loads(r.stdout)
    judges = list(dict.fromkeys(row["judge"] for row in rows))
    summary = []
    for j in judges:
        mine = [x for x in rows if x["judge"] == j]
        reg = [x for x in mine if x["regression"]]
        clean = [x for x in mine if not x["regression"] and not x.get("missing_data")]
        summary.append({
            "judge": j,
            "detection_power": statistics.mean(x["fail_rate"] for x in reg) if reg else None,
            "false_alarm_rate": statistics.mean(x["fail_rate"] for x in clean) if clean else None,
            "median_minutes_to_decision": statistics.median(x["median_minutes"] for x in mine),
            "median_minutes_regressions": statistics.median(x["median_minutes"] for x in reg) if reg else None,
            "median_minutes_clean": statistics.median(x["median_minutes"] for x in clean) if clean else None,
            "worst_pass_on_missing_data": max((x["pass_rate"] for x in mine if x.get("missing_data")), default=None),
            "worst_power": min((x["fail_rate"] for x in reg), default=None),
            "worst_false_alarms": max((x["fail_rate"] for x in clean), default=None),
        })
    pct = lambda v: "—" if v is None else f"{v * 100:.1f}%"
    md = ["Canary judges (`cargo run --release -p hub-canary --example evaluate -- --json`, "
          f"{len(rows)} judge × scenario rows of {rows[0]['runs'] if rows else 0} seeded runs, "
          f"{time.time() - t0:.0f} s including the build). Power: mean fail rate over the "
          "regression scenarios; false alarms: mean fail rate over the clean ones.", "",
          "| judge | detection power (mean / worst) | false alarms (mean / worst) | passes with missing data (worst) | median minutes to decision (regressions / clean) |",
          "| --- | ---: | ---: | ---: | ---: |"]
    for s in summary:
        md.append(f"| {s['judge']} | {pct(s['detection_power'])} / {pct(s['worst_power'])} | "
                  f"{pct(s['false_alarm_rate'])} / {pct(s['worst_false_alarms'])} | "
                  f"{pct(s['worst_pass_on_missing_data'])} | "
                  f"{s['median_minutes_regressions']:.1f} / {s['median_minutes_clean']:.1f} |")
    b.extra = getattr(b, "extra", {})
    b.extra["canary"] = {"summary": summary, "rows": rows, "markdown": "\n".join(md)}


# --- install ---------------------------------------------------------------------------------

class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


def serve(directory: Path, handler=None):
    h = handler or (lambda *a, **k: _Quiet(*a, directory=str(directory), **k))
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), h)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def pack(b, work: Path, version: str, target: str) -> tuple[Path, Path]:
    """The release archive and its checksums as the release makes them: `.github/release/release.sh
    pack` (the multi-call `hub` and a `hub-<action>` link per action of actions/install/packages)
    and `release.sh checksums`, run in `work/pack` on this build's `hub` — the musl build when
    there is one (what the release ships), else the bench's own release build. Returns the
    `dist` folder and the binary packed."""
    src = getattr(b, "src", REPO)
    built = b.target / target / "release" / "hub"
    target_dir = b.target
    if not built.exists():
        # release.sh reads `$CARGO_TARGET_DIR/<target>/release/hub`: stage the bench's build there.
        target_dir = work / "target"
        (target_dir / target / "release").mkdir(parents=True)
        (target_dir / target / "release" / "hub").symlink_to(b.hub_bin / "hub")
    where = work / "pack"
    (where / "actions" / "install").mkdir(parents=True)
    shutil.copy(src / "actions" / "install" / "packages", where / "actions" / "install")
    (where / ".github" / "release").mkdir(parents=True)
    runner = "ubuntu-latest" if target.endswith("linux-musl") else "self-hosted"
    (where / ".github" / "release" / "targets").write_text(f"{target} {runner}\n")
    env = dict(b.env, CARGO_TARGET_DIR=str(target_dir))
    for step in (["pack", target, version], ["checksums", version]):
        r = subprocess.run(["bash", str(src / ".github" / "release" / "release.sh"), *step],
                           cwd=where, env=env, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"release.sh {step[0]} exit {r.returncode}: {(r.stdout + r.stderr).strip()[-300:]}")
    return where / "dist", (target_dir / target / "release" / "hub").resolve()


def install(b):
    version, repo_name = "0.0.0-bench", "bench/hub-actions"
    target = "x86_64-unknown-linux-musl" if os.uname().machine == "x86_64" else "aarch64-unknown-linux-musl"
    work = Path(tempfile.mkdtemp(prefix="hub-install-", dir=b.out_dir))
    try:
        dist, hub = pack(b, work, version, target)
        sizes = {"hub": hub.stat().st_size}
        rel = work / "srv" / repo_name / "releases" / "download" / f"v{version}"
        rel.mkdir(parents=True)
        archive = rel / f"hub-actions-{version}-{target}.tar.gz"
        shutil.copy(dist / archive.name, archive)
        shutil.copy(dist / f"hub-actions-{version}-checksums.txt", rel)
        tree = work / "action"
        (tree / "actions" / "install").mkdir(parents=True)
        shutil.copy(getattr(b, "src", REPO) / "actions" / "install" / "install.sh", tree / "actions" / "install")
        (tree / "actions" / "install" / "release.env").write_text(
            f"HUB_RELEASE_VERSION={version}\nHUB_RELEASE_REPOSITORY={repo_name}\n")
        srv = serve(work / "srv")
        try:
            url = f"http://127.0.0.1:{srv.server_address[1]}"
            runs, rss, cpu = [], [], []
            for i in range(max(b.args.reps, 3)):
                cache = work / f"toolcache-{i}"
                env = dict(b.env, HUB_ACTIONS_INSTALL="download", GITHUB_SERVER_URL=url,
                           RUNNER_TOOL_CACHE=str(cache), RUNNER_TEMP=str(work))
                r = b.run(["bash", str(tree / "actions" / "install" / "install.sh")], env=env,
                          tag="install")
                if r.rc != 0:
                    raise RuntimeError(f"install.sh exit {r.rc}: {r.err.strip()[-300:]}")
                runs.append(r.seconds)
                rss.append(r.rss_kb or 0)
                cpu.append(r.cpu or 0)
        finally:
            srv.shutdown()
        b.records.append({"scenario": "install", "case": "cold, local release archive",
                          "size": archive.stat().st_size, "tool": "hub-actions",
                          "version": b.tools["hub-actions"].version, "runs": len(runs),
                          "seconds": [round(s, 4) for s in runs], "status": "ok",
                          "median_seconds": round(statistics.median(runs), 4),
                          "median_cpu_seconds": round(statistics.median(cpu), 4),
                          "peak_rss_kb": max(rss), "ratio_to_hub": None})
        peers = {}
        for p in ("git-cliff", "cocogitto"):
            t = b.tools.get(p)
            if t and t.path:
                peers[p] = Path(t.path).stat().st_size
        md = ["The multi-call binary (release profile, this build, packed by `release.sh pack`): " +
              ", ".join(f"{n} {s / 1e6:.1f} MB" for n, s in sizes.items()) +
              f"; release archive {archive.stat().st_size / 1e6:.1f} MB" +
              ("; peers' single binaries: " + ", ".join(f"{p} {s / 1e6:.1f} MB" for p, s in peers.items())
               if peers else "") + "."]
        b.extra = getattr(b, "extra", {})
        b.extra["install"] = {"binary_sizes": sizes, "archive_bytes": archive.stat().st_size,
                              "peer_binary_sizes": peers, "markdown": " ".join(md)}
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --- rollback --------------------------------------------------------------------------------

def rollback(b):
    work = Path(tempfile.mkdtemp(prefix="hub-rollback-", dir=b.out_dir))
    try:
        repo = work / "repo"
        repo.mkdir()
        git(repo, "init", "-q", "-b", "main")
        for v in ("1.0.0", "1.1.0"):
            git(repo, "-c", "user.name=b", "-c", "user.email=b@example.com", "commit", "-q",
                "--allow-empty", "-m", f"release {v}")
            git(repo, "tag", f"v{v}")
        app = work / "app"
        state = {"delay": 0.0}

        class Health(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                live = os.path.basename(os.readlink(app / "current"))
                marker = app / "restarted"
                ready = (live == "1.0.0" and marker.exists()
                         and time.time() - marker.stat().st_mtime >= state["delay"])
                body = b"ok" if ready else b"starting"
                self.send_response(200 if ready else 503)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        srv = serve(None, Health)
        try:
            url = f"http://127.0.0.1:{srv.server_address[1]}/health"
            for delay in (0.0, 1.0):
                state["delay"] = delay
                runs, rss, cpu = [], [], []
                for i in range(max(b.args.reps, 3)):
                    shutil.rmtree(app, ignore_errors=True)
                    for v in ("1.0.0", "1.1.0"):
                        (app / "releases" / v).mkdir(parents=True)
                    os.symlink("releases/1.1.0", app / "current")
                    cmd = [b.hub("hub-rollback"), "--target", "releases-dir", "--releases-dir", str(app),
                           "--repository-path", str(repo), "--restart-command", "touch restarted",
                           "--health-urls", url, "--health-body", "ok", "--timeout", "30s",
                           "--audit-log", str(work / "audit.jsonl")]
                    r = b.run(cmd, cwd=work, tag="rollback")
                    if r.rc != 0:
                        raise RuntimeError(f"hub-rollback exit {r.rc}: {r.err.strip()[-300:]}")
                    if os.readlink(app / "current") != "releases/1.0.0":
                        raise RuntimeError(f"hub-rollback left current at {os.readlink(app / 'current')}")
                    runs.append(r.seconds)
                    rss.append(r.rss_kb or 0)
                    cpu.append(r.cpu or 0)
                case = ("overhead (service healthy at once)" if delay == 0
                        else f"time to healthy (service needs {delay:.0f} s after restart)")
                b.records.append({"scenario": "rollback", "case": case, "size": None,
                                  "tool": "hub-actions", "version": b.tools["hub-actions"].version,
                                  "runs": len(runs), "seconds": [round(s, 4) for s in runs],
                                  "status": "ok", "median_seconds": round(statistics.median(runs), 4),
                                  "median_cpu_seconds": round(statistics.median(cpu), 4),
                                  "peak_rss_kb": max(rss), "ratio_to_hub": None,
                                  "excess_over_service_seconds": round(statistics.median(runs) - delay, 4)})
        finally:
            srv.shutdown()
    finally:
        shutil.rmtree(work, ignore_errors=True)


from release_pr import release_pr  # noqa: E402 - the release-pr scenario lives in its own file

SCENARIOS = {"bump": bump, "changelog": changelog, "validate": validate, "canary": canary,
             "install": install, "rollback": rollback, "release-pr": release_pr}
