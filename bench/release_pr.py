"""The `release-pr` scenario: a refresh of the release pull request, `hub-release-pr
--dry-run --json`, against the GitHub stand-in (`hub-github-standin`, 127.0.0.1), on

- the angular-cli history: its first-parent line (15,506 of its 18,675 commits) with their
  messages, authors and dates and the release tags on that line (211 of 641; the others are
  on release branches), replayed onto trees that hold the real HEAD's `package.json` and
  one small file per commit (the real object store — 357k objects, 204 MB packed — does not
  fit the in-memory stand-in: importing it passed 8.7 GB within a minute and was stopped);
- a synthetic monorepo of 50 packages, 25 Cargo crates in one workspace (a `Cargo.lock`,
  path dependencies with versions) and 25 npm packages in one workspace (a
  `package-lock.json` v3, `^` ranges on each other), 2,049 commits (2,000 changes, the
  release commits every 40), 816 tags: every package with its own.

Each repository first gets a release pull request made by a real run (not timed), then one
more releasable commit; the timed runs are dry runs of the refresh. Recorded per case: the
whole run's wall and CPU time (median), and the number of API requests one run makes
(the stand-in's request log, before and after), with their routes.

release-please is not run: it reads the history and the files it updates through GitHub's
GraphQL and REST APIs (`repository.ref.target.history`, the contents API per file), which the
stand-in does not serve, and it cannot run without a GitHub to talk to.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / ".data"
ANGULAR = DATA / "real-angular-cli"
NPM = Path.home() / ".cache/hub-actions-ci/npm/node_modules/@octokit"


def git(repo, *args, input=None, env=None) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True,
                          check=True, input=input, env=env).stdout


def fast_import(repo: Path, stream: str):
    subprocess.run(["git", "fast-import", "--quiet", "--done"], cwd=repo, input=stream.encode(),
                   check=True)
    git(repo, "reset", "-q", "--hard", "main")


def data(text: str) -> str:
    b = text.encode()
    return f"data {len(b)}\n{text}\n"


def refresh_commit(out: list, mark: int, t: int, path: str = "bench-refresh.txt"):
    """The last commit of each repository: the one the timed refresh is for."""
    out.append(f"commit refs/heads/main\nmark :{mark}\n"
               f"author Ada <ada@example.com> {t} +0000\ncommitter Ada <ada@example.com> {t} +0000\n")
    out.append(data("fix: one more fix for the refresh\n"))
    out.append(f"M 100644 inline {path}\n" + data("// refresh\n"))
    out.append("\n")


# --- the angular-cli history, replayed ------------------------------------------------------

def angular(dest: Path) -> Path | None:
    """angular-cli's first-parent history replayed onto small trees (see the module doc)."""
    if (dest / ".done").exists():
        return dest
    if not (ANGULAR / ".git").exists() and not (ANGULAR / "HEAD").exists():
        return None
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    git(dest, "init", "-q", "-b", "main")
    sep, end = "\x1f", "\x1e"
    log = git(ANGULAR, "log", "--first-parent", "--reverse",
              f"--format=%H{sep}%an{sep}%ae{sep}%at %ad{sep}%cn{sep}%ce{sep}%ct %cd{sep}%B{end}",
              "--date=format:%z", "HEAD")
    tags: dict[str, list[str]] = {}
    for line in git(ANGULAR, "for-each-ref", "--format=%(*objectname) %(objectname) %(refname:short)",
                    "refs/tags/v*").splitlines():
        peeled, obj, name = line.split(" ", 2)
        tags.setdefault(peeled or obj, []).append(name)
    package_json = git(ANGULAR, "show", "HEAD:package.json")
    out, mark, n = [], 0, 0
    for rec in log.split(end):
        rec = rec.lstrip("\n")
        if not rec:
            continue
        sha, an, ae, ad, cn, ce, cd, body = rec.split(sep, 7)
        mark += 1
        n += 1
        out.append("commit refs/heads/main\n")
        out.append(f"mark :{mark}\n")
        out.append(f"author {an} <{ae}> {ad}\ncommitter {cn} <{ce}> {cd}\n")
        out.append(data(body))
        if n == 1:
            out.append("M 100644 inline package.json\n" + data(package_json))
        out.append(f"M 100644 inline history/{n % 97:02d}.txt\n" + data(f"{sha}\n"))
        out.append("\n")
        for tag in tags.get(sha, []):
            out.append(f"reset refs/tags/{tag}\nfrom :{mark}\n\n")
    refresh_commit(out, mark + 1, int(ad.split()[0]) + 600)
    out.append("done\n")
    fast_import(dest, "".join(out))
    (dest / ".done").write_text(f"{n + 1} commits\n")
    return dest


# --- the 50-package monorepo ----------------------------------------------------------------

TYPES = ["feat", "fix", "fix", "perf", "docs", "chore", "refactor", "test"]


def monorepo(dest: Path, commits: int = 2000, seed: int = 15) -> Path:
    """25 Cargo crates + 25 npm packages, `commits` commits, a tag per package release."""
    if (dest / ".done").exists():
        return dest
    rnd = random.Random(seed)
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    git(dest, "init", "-q", "-b", "main")
    crates = [f"crate-{i:02d}" for i in range(25)]
    npms = [f"pkg-{i:02d}" for i in range(25, 50)]
    version = {name: "1.0.0" for name in crates + npms}
    files: dict[str, str] = {}

    def cargo_toml(i, name):
        dep = "" if i == 0 else (f"\n[dependencies]\n{crates[i - 1]} = {{ path = \"../{crates[i - 1]}\", "
                                 f"version = \"{version[crates[i - 1]]}\" }}\n")
        return f"[package]\nname = \"{name}\"\nversion = \"{version[name]}\"\nedition = \"2021\"\n{dep}"

    def package_json(i, name):
        deps = "" if i == 0 else (f",\n  \"dependencies\": {{\n    \"@mono/{npms[i - 1]}\": "
                                  f"\"^{version[npms[i - 1]]}\"\n  }}")
        return f"{{\n  \"name\": \"@mono/{name}\",\n  \"version\": \"{version[name]}\"{deps}\n}}\n"

    def lockfiles():
        cargo = "# This file is automatically @generated by Cargo.\n# It is not intended for manual editing.\nversion = 4\n"
        for i, name in sorted(enumerate(crates), key=lambda x: x[1]):
            cargo += f"\n[[package]]\nname = \"{name}\"\nversion = \"{version[name]}\"\n"
            if i:
                cargo += f"dependencies = [\n \"{crates[i - 1]}\",\n]\n"
        pk = {"": {"name": "mono", "workspaces": ["packages/*"]}}
        for i, name in enumerate(npms):
            pk[f"node_modules/@mono/{name}"] = {"resolved": f"packages/{name}", "link": True}
        for i, name in enumerate(npms):
            e = {"name": f"@mono/{name}", "version": version[name]}
            if i:
                e["dependencies"] = {f"@mono/{npms[i - 1]}": f"^{version[npms[i - 1]]}"}
            pk[f"packages/{name}"] = e
        lock = {"name": "mono", "lockfileVersion": 3, "requires": True,
                "packages": dict(sorted(pk.items()))}
        return cargo, json.dumps(lock, indent=2) + "\n"

    files["Cargo.toml"] = "[workspace]\nmembers = [\"crates/*\"]\nresolver = \"2\"\n"
    files["package.json"] = "{\n  \"name\": \"mono\",\n  \"private\": true,\n  \"workspaces\": [\"packages/*\"]\n}\n"
    for i, name in enumerate(crates):
        files[f"crates/{name}/Cargo.toml"] = cargo_toml(i, name)
        files[f"crates/{name}/src/lib.rs"] = "// 0\n"
    for i, name in enumerate(npms):
        files[f"packages/{name}/package.json"] = package_json(i, name)
        files[f"packages/{name}/index.js"] = "// 0\n"
    files["Cargo.lock"], files["package-lock.json"] = lockfiles()
    config = []
    for name in crates:
        config.append(f"- name: {name}\n  path: crates/{name}\n  tag-pattern: {name}-v{{version}}\n")
    for name in npms:
        config.append(f"- name: {name}\n  path: packages/{name}\n  tag-pattern: {name}-v{{version}}\n")
    files["release-packages.yml"] = "".join(config)

    out, mark, t = [], 0, 1_700_000_000

    def commit(message, changed: dict[str, str]):
        nonlocal mark, t
        mark += 1
        t += 600
        out.append(f"commit refs/heads/main\nmark :{mark}\n"
                   f"author Ada <ada@example.com> {t} +0000\ncommitter Ada <ada@example.com> {t} +0000\n")
        out.append(data(message))
        for path, text in changed.items():
            out.append(f"M 100644 inline {path}\n" + data(text))
        out.append("\n")

    commit("chore: start the monorepo", dict(files))
    for name in crates + npms:
        out.append(f"reset refs/tags/{name}-v1.0.0\nfrom :{mark}\n\n")
    pending: dict[str, str] = {}
    for n in range(commits):
        i = rnd.randrange(50)
        name = (crates + npms)[i]
        kind = rnd.choice(TYPES)
        path = f"crates/{name}/src/lib.rs" if i < 25 else f"packages/{name}/index.js"
        commit(f"{kind}({name}): change {n}\n\nDetails of change {n}.\n", {path: f"// {n}\n"})
        if kind in ("feat", "fix", "perf"):
            pending[name] = "minor" if kind == "feat" or pending.get(name) == "minor" else "patch"
        # Every 40 commits the packages with releasable changes are released: versions
        # written, locks follow, one tag each (as the release pull request's merge does).
        if n % 40 == 39 and n < commits - 100 and pending:
            for p, level in pending.items():
                ma, mi, pa = map(int, version[p].split("."))
                version[p] = f"{ma}.{mi + 1}.0" if level == "minor" else f"{ma}.{mi}.{pa + 1}"
            changed = {}
            for j, c in enumerate(crates):
                changed[f"crates/{c}/Cargo.toml"] = cargo_toml(j, c)
            for j, p in enumerate(npms):
                changed[f"packages/{p}/package.json"] = package_json(j, p)
            changed["Cargo.lock"], changed["package-lock.json"] = lockfiles()
            commit("chore(main): release " + ", ".join(sorted(pending)), changed)
            for p in sorted(pending):
                out.append(f"reset refs/tags/{p}-v{version[p]}\nfrom :{mark}\n\n")
            pending = {}
    refresh_commit(out, mark + 1, t + 600, "crates/crate-07/src/lib.rs")
    out.append("done\n")
    fast_import(dest, "".join(out))
    (dest / ".done").write_text(f"{commits + 1} commits, 50 packages\n")
    return dest


# --- the stand-in ---------------------------------------------------------------------------

class StandIn:
    def __init__(self, binary: Path, work: Path, imports: dict[str, Path]):
        port_file = work / "standin.port"
        cmd = [str(binary), "--port-file", str(port_file), "--idle-seconds", "600",
               "--max-seconds", "3600"]
        openapi = NPM / "openapi/generated/api.github.com.json"
        schema = NPM / "graphql-schema/schema.graphql"
        if openapi.exists():
            cmd += ["--openapi", str(openapi)]
        else:
            cmd += ["--no-validate"]
        if schema.exists():
            cmd += ["--graphql-schema", str(schema)]
        for name, path in imports.items():
            cmd += ["--import", f"{name}={path}"]
        self.log = open(work / "standin.log", "w")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        for _ in range(1200):
            if port_file.exists() and port_file.read_text().strip():
                break
            if self.proc.poll() is not None:
                raise RuntimeError(f"the stand-in stopped: {(work / 'standin.log').read_text()[-500:]}")
            time.sleep(0.1)
        self.url = f"http://127.0.0.1:{port_file.read_text().strip()}"

    def get(self, path: str):
        with urllib.request.urlopen(self.url + path, timeout=30) as r:
            return json.loads(r.read())

    def post(self, path: str, body: dict):
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=120) as r:
            return json.loads(r.read() or b"null")

    def requests(self) -> list[dict]:
        return self.get("/_standin/requests")

    def stop(self):
        try:
            self.post("/_standin/shutdown", {})
        except Exception:  # noqa: BLE001 - it may be gone already
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def build_standin(b) -> Path:
    """The stand-in binary (release profile, like the suite; built once)."""
    binary = b.target / "release" / "hub-github-standin"
    if not b.args.no_build or not binary.exists():
        subprocess.run(["cargo", "build", "--release", "--locked", "-p", "hub-github-standin"],
                       cwd=REPO, check=True, env=dict(os.environ, CARGO_TARGET_DIR=str(b.target)))
    return binary


def event(work: Path, repo: Path, name: str) -> Path:
    head = git(repo, "rev-parse", "HEAD").strip()
    owner, short = name.split("/")
    path = work / f"event-{short}.json"
    path.write_text(json.dumps({
        "ref": "refs/heads/main", "before": "0" * 40, "after": head, "commits": [],
        "repository": {"name": short, "full_name": name, "default_branch": "main",
                       "owner": {"login": owner}}}))
    return path


def release_pr(b):
    """The scenario (see the module doc)."""
    work = Path(tempfile.mkdtemp(prefix="hub-release-pr-", dir=b.out_dir))
    hub = b.hub("hub-release-pr")
    standin = None
    try:
        cases = []
        ng = angular(DATA / "release-pr-angular-cli")
        if ng is None:
            b.skipped("release-pr", "angular-cli refresh", None, "hub-actions",
                      f"no angular-cli clone at {ANGULAR} (bench/changelog_real.py makes it)")
        else:
            cases.append(("angular-cli refresh", "octo/angular-cli", ng, []))
        mono = monorepo(DATA / "release-pr-monorepo-50")
        cases.append(("50-package monorepo refresh", "octo/mono", mono,
                      ["--packages", "release-packages.yml"]))
        # Each case works on a clone, so the generated repository stays as made.
        clones = {}
        for case, name, src, _ in cases:
            clone = work / name.split("/")[1]
            git(work, "clone", "-q", "--no-local", str(src), str(clone))
            git(clone, "config", "user.name", "Ada")
            git(clone, "config", "user.email", "ada@example.com")
            clones[name] = clone
        standin = StandIn(build_standin(b), work, clones)
        for case, name, src, extra in cases:
            repo = clones[name]
            env = dict(b.env, GITHUB_API_URL=standin.url, GITHUB_REPOSITORY=name,
                       GITHUB_TOKEN="bench-token", GITHUB_EVENT_NAME="push",
                       GITHUB_EVENT_PATH=str(event(work, repo, name)),
                       GITHUB_SERVER_URL="https://github.com")
            # The release pull request, opened by a real run (not timed) on the commit before
            # the last (as if the workflow of the last push had not run yet); the timed dry
            # runs then refresh it for the last commit, which the stand-in already has.
            head = git(repo, "rev-parse", "HEAD").strip()
            git(repo, "reset", "-q", "--hard", "HEAD^")
            opened = b.run([hub, "--json", *extra], cwd=repo, env=env, timeout=600,
                           tag=f"release-pr-open-{name}")
            git(repo, "reset", "-q", "--hard", head)
            if opened.rc != 0:
                raise RuntimeError(f"{case}: the opening run failed (exit {opened.rc}): {opened.err.strip()[-400:]}")
            cmd = [hub, "--dry-run", "--json", *extra]
            runs, cpu, rss, calls, routes = [], [], [], [], {}
            for i in range(max(b.args.reps, 3) + 1):
                before = len(standin.requests())
                r = b.run(cmd, cwd=repo, env=env, tag=f"release-pr-{name}")
                after = standin.requests()
                if r.rc != 0:
                    raise RuntimeError(f"{case}: exit {r.rc}: {r.err.strip()[-400:]}")
                mine = after[before:]
                if i == 0:
                    plan = json.loads(r.text())
                    routes = {}
                    for q in mine:
                        key = f"{q['method']} {q.get('route') or q['path']}"
                        routes[key] = routes.get(key, 0) + 1
                    continue  # warm-up
                runs.append(r.seconds)
                cpu.append(r.cpu or 0)
                rss.append(r.rss_kb or 0)
                calls.append(len(mine))
            commits = int(git(repo, "rev-list", "--count", "HEAD").strip())
            tags = len(git(repo, "tag", "--list").splitlines())
            b.records.append({
                "scenario": "release-pr", "case": case, "size": commits, "tool": "hub-actions",
                "version": b.tools["hub-actions"].version if "hub-actions" in b.tools else None,
                "runs": len(runs), "seconds": [round(s, 4) for s in runs], "status": "ok",
                "median_seconds": round(statistics.median(runs), 4),
                "median_cpu_seconds": round(statistics.median(cpu), 4),
                "peak_rss_kb": max(rss), "ratio_to_hub": None,
                "api_calls": calls[-1], "api_calls_every_run": calls, "api_routes": routes,
                "tags": tags, "plan_action": plan.get("action") if isinstance(plan, dict) else None,
            })
            b.skipped("release-pr", case, commits, "release-please",
                      "needs GitHub's GraphQL history and contents APIs, which the stand-in does not serve")
        rows = [r for r in b.records if r["scenario"] == "release-pr" and r["status"] == "ok"]
        md = ["| case | commits | tags | median wall | median CPU | API calls per run | calls by route |",
              "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
        for r in rows:
            by = ", ".join(f"{k} ×{v}" for k, v in sorted(r["api_routes"].items()))
            md.append(f"| {r['case']} | {r['size']} | {r['tags']} | {r['median_seconds'] * 1000:.0f} ms | "
                      f"{r['median_cpu_seconds'] * 1000:.0f} ms | {r['api_calls']} | {by} |")
        b.extra = getattr(b, "extra", {})
        b.extra["release-pr"] = {"markdown": "release-pr refresh (`--dry-run --json` against the stand-in):\n\n"
                                 + "\n".join(md)}
    finally:
        if standin:
            standin.stop()
        shutil.rmtree(work, ignore_errors=True)
