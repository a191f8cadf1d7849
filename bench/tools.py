"""Peer tools: installed from their registries into bench/.tools (git-ignored).

PyPI (one venv): git-cliff, commitizen, check-jsonschema. npm (one prefix):
conventional-changelog-cli, conventional-recommended-bump, ajv-cli. crates.io: cocogitto
(`cargo install --locked`, only with `--install-cog`: it compiles some 300 crates, which took
longer than the whole benchmark budget on a loaded 2-core machine; once built it is used). A peer that cannot be installed is skipped with the reason.
"""
from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

TOOLS = Path(__file__).resolve().parent / ".tools"
PY = TOOLS / "py"
NPM = TOOLS / "npm"
CARGO = TOOLS / "cargo"

PYPI = ["git-cliff", "commitizen", "check-jsonschema"]
NPMJS = ["conventional-changelog-cli", "conventional-recommended-bump", "ajv-cli"]
COG_TIMEOUT = int(os.environ.get("BENCH_COG_BUILD_TIMEOUT", "900"))

# peer name -> (where, executable, version argv)
PEERS = {
    "git-cliff": ("pypi", PY / "bin" / "git-cliff", ["--version"]),
    "commitizen": ("pypi", PY / "bin" / "cz", ["version"]),
    "check-jsonschema": ("pypi", PY / "bin" / "check-jsonschema", ["--version"]),
    "conventional-changelog-cli": ("npm", NPM / "node_modules" / ".bin" / "conventional-changelog", None),
    "conventional-recommended-bump": ("npm", NPM / "node_modules" / ".bin" / "conventional-recommended-bump", None),
    "ajv-cli": ("npm", NPM / "node_modules" / ".bin" / "ajv", None),
    "cocogitto": ("crates", CARGO / "bin" / "cog", ["--version"]),
}

# which scenarios need which peers
NEEDS = {
    "bump": ["git-cliff", "cocogitto", "commitizen", "conventional-recommended-bump"],
    "changelog": ["git-cliff", "cocogitto", "commitizen", "conventional-changelog-cli"],
    "validate": ["check-jsonschema", "ajv-cli"],
}


@dataclass
class Tool:
    name: str
    path: str | None
    version: str | None
    reason: str | None = None  # why skipped


def _run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def _version(name, exe: Path, argv) -> str | None:
    if argv is None:  # npm: the package's own package.json
        pkg = NPM / "node_modules" / name / "package.json"
        try:
            import json
            return json.loads(pkg.read_text())["version"]
        except (OSError, ValueError, KeyError):
            return None
    r = _run([str(exe), *argv])
    text = (r.stdout or r.stderr).strip().splitlines()
    return text[0].split()[-1] if r.returncode == 0 and text else None


COG_SKIP = ("not installed: `cargo install cocogitto` took 25 min on a loaded 2-core machine; "
            "run `bench/run --install-cog` once")


def ensure(scenarios, install=True, log=print, only=None, install_cog=False) -> dict[str, Tool]:
    wanted = sorted({p for s in scenarios for p in NEEDS.get(s, [])})
    if only:
        wanted = [p for p in wanted if p in only]
    TOOLS.mkdir(exist_ok=True)
    reasons: dict[str, str] = {}
    if install:
        py = [p for p in wanted if PEERS[p][0] == "pypi" and not PEERS[p][1].exists()]
        if py:
            log(f"pip install {' '.join(py)} into {PY}")
            if not (PY / "bin" / "pip").exists():
                _run(["python3", "-m", "venv", str(PY)])
            r = _run([str(PY / "bin" / "pip"), "install", "--quiet", *py])
            if r.returncode:
                for p in py:
                    reasons[p] = f"pip install failed: {r.stderr.strip()[-200:]}"
        js = [p for p in wanted if PEERS[p][0] == "npm" and not PEERS[p][1].exists()]
        if js:
            log(f"npm install {' '.join(js)} into {NPM}")
            NPM.mkdir(exist_ok=True)
            r = _run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(NPM), *js])
            if r.returncode:
                for p in js:
                    reasons[p] = f"npm install failed: {r.stderr.strip()[-200:]}"
        if "cocogitto" in wanted and not PEERS["cocogitto"][1].exists() and not install_cog:
            reasons["cocogitto"] = COG_SKIP
        elif "cocogitto" in wanted and not PEERS["cocogitto"][1].exists():
            log(f"cargo install cocogitto (limit {COG_TIMEOUT}s; BENCH_COG_BUILD_TIMEOUT)")
            t0 = time.time()
            env = dict(os.environ, CARGO_TARGET_DIR=str(TOOLS / "cargo-target"))
            try:
                r = _run(["cargo", "install", "--locked", "--root", str(CARGO), "cocogitto"],
                         env=env, timeout=COG_TIMEOUT)
                if r.returncode:
                    reasons["cocogitto"] = f"cargo install failed: {r.stderr.strip()[-200:]}"
                else:
                    log(f"cocogitto built in {time.time() - t0:.0f}s")
            except subprocess.TimeoutExpired:
                reasons["cocogitto"] = f"cargo install did not finish in {COG_TIMEOUT}s"
    tools = {}
    for p in wanted:
        _, exe, argv = PEERS[p]
        if exe.exists():
            tools[p] = Tool(p, str(exe), _version(p, exe, argv))
        else:
            tools[p] = Tool(p, None, None, reasons.get(p, "not installed (run without --no-install)"))
            log(f"peer {p} skipped: {tools[p].reason}")
    return tools


def hub_tools(bench) -> dict[str, Tool]:
    r = _run([bench.hub("hub-semver-bump"), "--version"])
    version = r.stdout.strip().split()[-1] if r.returncode == 0 and r.stdout.strip() else None
    out = {"hub-actions": Tool("hub-actions", str(bench.hub_bin), version)}
    r = _run(["git", "--version"])
    out["git"] = Tool("git", "git", r.stdout.strip().split()[-1] if r.returncode == 0 else None)
    return out


# --- configuration the peers need in the generated repository ---------------------------------
# Written untracked and listed in .git/info/exclude, so the tree stays clean for every tool.

CZ_TOML = """[tool.commitizen]
name = "cz_conventional_commits"
tag_format = "v$version"
version_provider = "scm"
update_changelog_on_bump = false
"""

COG_TOML = """tag_prefix = "v"
ignore_merge_commits = true
"""

# git-cliff, configured like hub-actions' keep-a-changelog layout: Features, Bug Fixes,
# Performance; other types hidden; non-conventional commits dropped; breaking changes
# also listed on their own. Used for timing.
CLIFF_MD = r'''[changelog]
header = "# Changelog\n"
body = """
{% if version %}## [{{ version | trim_start_matches(pat="v") }}] - {{ timestamp | date(format="%Y-%m-%d") }}{% else %}## [Unreleased]{% endif %}
{% for commit in commits | filter(attribute="breaking", value=true) %}{% if loop.first %}
### BREAKING CHANGES
{% endif %}- {% if commit.scope %}**{{ commit.scope }}:** {% endif %}{{ commit.breaking_description }} ({{ commit.id | truncate(length=7, end="") }})
{% endfor %}{% for group, commits in commits | filter(attribute="group", value="Features") | group_by(attribute="group") %}
### {{ group }}
{% for commit in commits %}- {% if commit.scope %}**{{ commit.scope }}:** {% endif %}{{ commit.message | split(pat="\n") | first }} ({{ commit.id | truncate(length=7, end="") }})
{% endfor %}{% endfor %}{% for group, commits in commits | filter(attribute="group", value="Bug Fixes") | group_by(attribute="group") %}
### {{ group }}
{% for commit in commits %}- {% if commit.scope %}**{{ commit.scope }}:** {% endif %}{{ commit.message | split(pat="\n") | first }} ({{ commit.id | truncate(length=7, end="") }})
{% endfor %}{% endfor %}{% for group, commits in commits | filter(attribute="group", value="Performance") | group_by(attribute="group") %}
### {{ group }}
{% for commit in commits %}- {% if commit.scope %}**{{ commit.scope }}:** {% endif %}{{ commit.message | split(pat="\n") | first }} ({{ commit.id | truncate(length=7, end="") }})
{% endfor %}{% endfor %}
"""
trim = false

[git]
conventional_commits = true
filter_unconventional = true
split_commits = false
protect_breaking_commits = true
filter_commits = false
tag_pattern = "^v[0-9]+\\.[0-9]+\\.[0-9]+$"
sort_commits = "newest"
commit_parsers = [
  { message = "(?i)^feat[(!:]", group = "Features" },
  { message = "(?i)^fix[(!:]", group = "Bug Fixes" },
  { message = "(?i)^perf[(!:]", group = "Performance" },
  { message = ".*", group = "Hidden" },
]

[bump]
features_always_bump_minor = true
breaking_always_bump_major = true
'''

# The same classification, printed one line per (release, section, commit) for the check.
CLIFF_LINES = CLIFF_MD.split("[changelog]", 1)[0] + r'''[changelog]
header = ""
body = """
{% for commit in commits %}{% if commit.group != "Hidden" %}{{ version | default(value="Unreleased") | trim_start_matches(pat="v") }}\t{{ commit.group }}\t{{ commit.id }}
{% endif %}{% if commit.breaking %}{{ version | default(value="Unreleased") | trim_start_matches(pat="v") }}\tBREAKING\t{{ commit.id }}
{% endif %}{% endfor %}"""
trim = false
''' + "[git]" + CLIFF_MD.split("[git]", 1)[1]

# hub-conventional-changelog's template over its context, printing the same lines.
HUB_LINES = """{% for r in releases %}{% for s in r.sections %}{% for e in s.entries %}{% for id in e.ids %}{{ r.title }}\t{{ s.title }}\t{{ id }}
{% endfor %}{% endfor %}{% endfor %}{% for e in r.breaking %}{% for id in e.ids %}{{ r.title }}\tBREAKING\t{{ id }}
{% endfor %}{% endfor %}{% endfor %}"""


def write_repo_configs(repo: Path):
    (repo / ".cz.toml").write_text(CZ_TOML)
    (repo / "cog.toml").write_text(COG_TOML)
    (repo / "cliff.toml").write_text(CLIFF_MD)
    cfg = repo / ".git" / "bench"
    cfg.mkdir(exist_ok=True)
    (cfg / "cliff-lines.toml").write_text(CLIFF_LINES)
    (cfg / "hub-lines.j2").write_text(HUB_LINES)
    with open(repo / ".git" / "info" / "exclude", "a") as f:
        f.write(".cz.toml\ncog.toml\ncliff.toml\nCHANGELOG.md\n")
