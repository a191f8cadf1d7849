"""validate-config and ajv side by side on SchemaStore's whole test suite.

Every schema with tests (`src/test/<name>/` documents must be valid, `src/negative_test/<name>/`
documents invalid, the schema in `src/schemas/json/<name>.json`; `skiptest` schemas left out as
SchemaStore leaves them out) is checked by

- `hub-validate-config --schema <schema> --offline --format json <documents…>`, one process per
  schema, with `$ref`s to `https://json.schemastore.org/…` and `https://www.schemastore.org/…`
  answered from a cache directory filled with the checkout's schemas;
- ajv with ajv-formats at the versions SchemaStore's `package-lock.json` pins, set up as
  SchemaStore's `cli.js` sets it up but with `strict: false` (`ajv.mjs`), one node process.

It prints agreement with the labels and time per schema, the totals, and every document where
validate-config and the label differ. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
TOOLS = REPO / "bench" / ".tools" / "schemastore"
DATA = REPO / "bench" / ".data" / "schemastore"
EXTENSIONS = {".json", ".yaml", ".yml", ".toml"}
NPM_PACKAGES = [
    "ajv",
    "ajv-draft-04",
    "ajv-formats",
    "ajv-keywords",
    "@hyperupcall/ajv-formats-draft2019",
    "yaml",
    "smol-toml",
]
SCHEMA_HOSTS = [
    "https://json.schemastore.org/",
    "https://www.schemastore.org/",
    "http://json.schemastore.org/",
]


def fail(message: str) -> None:
    print(f"bench/schemastore: {message}", file=sys.stderr)
    sys.exit(2)


def parse_jsonc(text: str) -> object:
    """JSON with `//` and `/* */` comments and trailing commas (schema-validation.jsonc)."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == '"':
            m = re.compile(r'"(?:[^"\\]|\\.)*"').match(text, i)
            if not m:
                raise ValueError("unterminated string")
            out.append(m.group(0))
            i = m.end()
        elif text.startswith("//", i):
            i = text.find("\n", i)
            i = len(text) if i < 0 else i
        elif text.startswith("/*", i):
            i = text.index("*/", i) + 2
        else:
            out.append(c)
            i += 1
    return json.loads(re.sub(r",(\s*[}\]])", r"\1", "".join(out)))


def pinned_versions(root: Path) -> dict[str, str]:
    lock = json.loads((root / "package-lock.json").read_text())
    packages = lock.get("packages", {})
    versions = {}
    for name in NPM_PACKAGES:
        version = packages.get(f"node_modules/{name}", {}).get("version")
        if not version:
            fail(f"{name} is not in the checkout's package-lock.json")
        versions[name] = version
    return versions


def install_ajv(root: Path) -> dict[str, str]:
    versions = pinned_versions(root)
    installed = {}
    for name in versions:
        manifest = TOOLS / "node_modules" / name / "package.json"
        if manifest.is_file():
            installed[name] = json.loads(manifest.read_text()).get("version")
    if installed != versions:
        if not shutil.which("npm"):
            fail("needs npm (and node) for ajv")
        TOOLS.mkdir(parents=True, exist_ok=True)
        (TOOLS / "package.json").write_text('{"private": true}\n')
        specs = [f"{name}@{version}" for name, version in versions.items()]
        print(f"installing {' '.join(specs)} into {TOOLS}", file=sys.stderr)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--silent", *specs],
            cwd=TOOLS,
            check=True,
        )
    return versions


def fnv1a64(text: str) -> int:
    h = 0xCBF29CE484222325
    for b in text.encode():
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def cache_name(url: str) -> str:
    """validate-config's cache file name for `url` (`Fetcher::cache_path`)."""
    tail = "".join(
        c for c in url.rsplit("/", 1)[-1] if (c.isascii() and c.isalnum()) or c in ".-_"
    )[:40]
    return f"{fnv1a64(url):016x}-{tail}"


def fill_cache(root: Path, cache: Path) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    for schema in (root / "src" / "schemas" / "json").iterdir():
        if schema.suffix != ".json":
            continue
        data = schema.read_bytes()
        # `$ref`s name a schema with or without `.json`, or by its own `$id`.
        urls = {host + name for host in SCHEMA_HOSTS for name in (schema.name, schema.stem)}
        try:
            document = json.loads(data)
            own = document.get("$id") or document.get("id") if isinstance(document, dict) else None
            if isinstance(own, str) and own.startswith(("http://", "https://")):
                urls.add(own.split("#", 1)[0])
        except ValueError:
            pass
        for url in urls:
            (cache / cache_name(url)).write_bytes(data)


def collect_cases(root: Path, only: set[str] | None) -> list[dict]:
    validation = parse_jsonc((root / "src" / "schema-validation.jsonc").read_text())
    skipped = set(validation.get("skiptest", []))
    names: dict[str, list[dict]] = {}
    for folder, valid in (("test", True), ("negative_test", False)):
        base = root / "src" / folder
        for directory in sorted(base.iterdir()):
            if not directory.is_dir():
                continue
            for file in sorted(directory.iterdir()):
                if file.suffix in EXTENSIONS:
                    names.setdefault(directory.name, []).append(
                        {"path": str(file.relative_to(root)), "valid": valid}
                    )
    cases = []
    for name, files in sorted(names.items()):
        if f"{name}.json" in skipped or (only and name not in only):
            continue
        if not (root / "src" / "schemas" / "json" / f"{name}.json").is_file():
            continue
        cases.append({"schema": name, "files": files})
    return cases


def run_ajv(root: Path, cases: list[dict], scratch: Path) -> tuple[dict[str, dict], float]:
    cases_file = scratch / "cases.json"
    cases_file.write_text(json.dumps(cases))
    started = time.monotonic()
    proc = subprocess.run(
        ["node", str(HERE / "ajv.mjs"), str(TOOLS), str(root), str(cases_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        fail(f"ajv.mjs failed: {proc.stderr[-2000:]}")
    return {
        line["schema"]: line for line in map(json.loads, proc.stdout.splitlines())
    }, elapsed


def run_hub(binary: Path, root: Path, case: dict, cache: Path, extra: list[str]) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("INPUT_", "GITHUB_", "RUNNER_")) and k != "CI"
    }
    schema = root / "src" / "schemas" / "json" / f"{case['schema']}.json"
    command = [
        str(binary),
        "--schema",
        str(schema),
        "--offline",
        "--cache-dir",
        str(cache),
        "--format",
        "json",
        *extra,
        *(f["path"] for f in case["files"]),
    ]
    started = time.monotonic()
    proc = subprocess.run(
        command, cwd=root, env=env, capture_output=True, text=True, check=False, timeout=120
    )
    elapsed = time.monotonic() - started
    verdicts: dict[str, bool | None] = {f["path"]: None for f in case["files"]}
    messages: dict[str, str] = {}
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        report = {"files": []}
        first = (proc.stderr.strip().splitlines() or ["no output"])[0]
        messages = {path: f"exit {proc.returncode}: {first}" for path in verdicts}
    for entry in report.get("files", []):
        errors = [d for d in entry.get("diagnostics", []) if d.get("severity") == "error"]
        path = entry.get("path", "")
        verdicts[path] = not errors
        if errors:
            messages[path] = errors[0].get("message", "")
    return {"ms": elapsed * 1000, "files": verdicts, "messages": messages, "exit": proc.returncode}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-build", action="store_true", help="use the built binary")
    parser.add_argument("--binary", help="this hub-validate-config instead of the release build")
    parser.add_argument("--only", help="comma-separated schema names")
    parser.add_argument(
        "--differences", action="store_true", help="print only the schemas where a tool errs"
    )
    parser.add_argument(
        "--hub-arg", action="append", default=[], help="extra hub-validate-config argument"
    )
    args = parser.parse_args()

    checkout = os.environ.get("SCHEMASTORE")
    if not checkout:
        fail(
            "set SCHEMASTORE to a SchemaStore checkout "
            "(git clone --depth 1 https://github.com/SchemaStore/schemastore)"
        )
    root = Path(checkout).resolve()
    if not (root / "src" / "schema-validation.jsonc").is_file():
        fail(f"{root} is not a SchemaStore checkout (no src/schema-validation.jsonc)")
    if not shutil.which("node"):
        fail("needs node for ajv")

    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    binary = Path(args.binary) if args.binary else target / "release" / "hub-validate-config"
    if not args.no_build and not args.binary:
        subprocess.run(
            ["cargo", "build", "--release", "--locked", "-p", "validate-config"],
            cwd=REPO,
            check=True,
        )
    if not binary.is_file():
        fail(f"{binary} is missing (build it, or drop --no-build)")
    versions = install_ajv(root)

    only = set(args.only.split(",")) if args.only else None
    cases = collect_cases(root, only)
    DATA.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="schemastore-") as scratch_dir:
        scratch = Path(scratch_dir)
        cache = scratch / "cache"
        fill_cache(root, cache)
        ajv, ajv_wall = run_ajv(root, cases, scratch)
        hub_wall = 0.0
        results = []
        for case in cases:
            hub = run_hub(binary, root, case, cache, args.hub_arg)
            hub_wall += hub["ms"] / 1000
            results.append((case, hub, ajv[case["schema"]]))

    totals = {"documents": 0, "valid": 0, "invalid": 0, "hub": 0, "ajv": 0, "both": 0}
    differences = []
    print("| schema | documents | hub agrees | ajv agrees | hub ms | ajv ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for case, hub, ajv_line in results:
        ajv_files = {f["path"]: f["valid"] for f in ajv_line["files"]}
        hub_ok = ajv_ok = 0
        for file in case["files"]:
            label = file["valid"]
            totals["documents"] += 1
            totals["valid" if label else "invalid"] += 1
            h = hub["files"].get(file["path"]) == label
            a = ajv_files.get(file["path"]) == label
            hub_ok += h
            ajv_ok += a
            totals["hub"] += h
            totals["ajv"] += a
            totals["both"] += h and a
            if not h:
                differences.append(
                    {
                        "schema": case["schema"],
                        "path": file["path"],
                        "label": "valid" if label else "invalid",
                        "ajv_agrees": a,
                        "hub": hub["messages"].get(file["path"], ""),
                    }
                )
        n = len(case["files"])
        if not args.differences or hub_ok != n or ajv_ok != n:
            print(
                f"| {case['schema']} | {n} | {hub_ok} | {ajv_ok} | {hub['ms']:.0f} | "
                f"{ajv_line['ms']:.0f} |"
            )
    print()
    print(
        f"{len(cases)} schemas, {totals['documents']} documents "
        f"({totals['valid']} valid, {totals['invalid']} invalid)"
    )
    print(f"validate-config agrees with the labels on {totals['hub']}/{totals['documents']}")
    print(f"ajv ({', '.join(f'{k} {v}' for k, v in versions.items())}, strict: false) agrees on "
          f"{totals['ajv']}/{totals['documents']}")
    where_ajv = [d for d in differences if d["ajv_agrees"]]
    print(f"documents ajv gets right and validate-config does not: {len(where_ajv)}")
    print(f"time: validate-config {hub_wall:.1f} s (one process per schema), "
          f"ajv {ajv_wall:.1f} s (one node process)")
    for d in differences:
        who = "ajv agrees with the label" if d["ajv_agrees"] else "ajv disagrees too"
        print(f"  {d['path']}: labelled {d['label']}; {who}; hub: {d['hub'][:160]}")
    (DATA / "results.json").write_text(
        json.dumps({"totals": totals, "differences": differences}, indent=2) + "\n"
    )


if __name__ == "__main__":
    main()
