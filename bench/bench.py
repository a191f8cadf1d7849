"""hub-actions benchmarks side by side with the peer tools. Entry point: bench/run.

Every tool runs on the same generated input, alternately (hub, peer1, peer2, hub, ...),
`--reps` times; we report medians, peak RSS (/usr/bin/time -f %M) and the ratio of each
tool's median to hub-actions' (ratio > 1: hub-actions is faster). Correctness rides along:
where the tools should agree we compare their answers and record every disagreement.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import gen_configs
import gen_history
import tools as peer_tools
from scenarios import SCENARIOS

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
DATA = BENCH / ".data"
DEFAULT_SCENARIOS = ["bump", "changelog", "validate", "canary", "install", "rollback", "release-pr"]
HUB_PACKAGES = ["semver-bump", "conventional-changelog", "validate-config", "rollback", "release-pr"]


def log(msg: str):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Run:
    """One timed process: wall seconds, peak RSS and where its output went."""

    def __init__(self, seconds, rss_kb, cpu, rc, out: Path, err: str, timed_out: bool):
        self.seconds, self.rss_kb, self.cpu, self.rc = seconds, rss_kb, cpu, rc
        self.out, self.err, self.timed_out = out, err, timed_out

    def text(self) -> str:
        return self.out.read_text(errors="replace")

    def err_text(self) -> str:
        return self.out.with_suffix(".err").read_text(errors="replace")


class Bench:
    def __init__(self, args):
        self.args = args
        self.records: list[dict] = []
        self.disagreements: list[dict] = []
        self.notes: list[str] = []
        self.target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
        self.hub_bin = self.target / "release"
        self.out_dir = DATA / "out"
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.tools: dict[str, peer_tools.Tool] = {}
        self.env = self._clean_env()

    # --- environment -------------------------------------------------------------------
    def _clean_env(self) -> dict:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("GITHUB_", "INPUT_", "RUNNER_", "ACTIONS_"))}
        env["NO_COLOR"] = "1"
        env["GIT_CONFIG_NOSYSTEM"] = "1"
        env.setdefault("HOME", str(Path.home()))
        return env

    def hub(self, name: str) -> str:
        return str(self.hub_bin / name)

    # --- measuring ---------------------------------------------------------------------
    def run(self, cmd: list[str], cwd=None, env=None, timeout=None, tag="run") -> Run:
        out = self.out_dir / (re.sub(r"[^A-Za-z0-9._-]+", "_", tag) + ".out")
        with tempfile.NamedTemporaryFile(dir=self.out_dir, suffix=".rss") as rss, \
                open(out, "wb") as stdout, open(out.with_suffix(".err"), "w+b") as stderr:
            full = ["/usr/bin/time", "-f", "%M %U %S", "-o", rss.name] + [str(c) for c in cmd]
            start = time.perf_counter()
            proc = subprocess.Popen(full, cwd=cwd, env=env or self.env, stdout=stdout,
                                    stderr=stderr, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
            # A blocking wait, with a timer for the time limit: `Popen.wait(timeout=…)`
            # polls with sleeps doubling from 0.5 ms to 50 ms, so a 15 ms run would read
            # as 31.5 ms and anything longer be rounded up to the next 50 ms.
            killed = threading.Event()

            def kill():
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                    killed.set()
                except ProcessLookupError:
                    pass  # it ended as the limit came

            timer = threading.Timer(timeout or self.args.timeout, kill)
            timer.start()
            try:
                proc.wait()
            finally:
                timer.cancel()
            seconds = time.perf_counter() - start
            timed_out = killed.is_set()
            stderr.seek(0)
            err = stderr.read().decode(errors="replace")
            try:
                m, u, s = Path(rss.name).read_text().strip().splitlines()[-1].split()
                rss_kb, cpu = int(m), float(u) + float(s)
            except (ValueError, IndexError):
                rss_kb, cpu = None, None
        return Run(seconds, rss_kb, cpu, proc.returncode, out, err[-4000:], timed_out)

    def compare(self, scenario: str, case: str, size, contenders: list[tuple], ok_codes=(0,),
                reps=None) -> dict[str, Run]:
        """Runs contenders [(tool, cmd, cwd)] alternately; records medians; returns each
        tool's last run (for the correctness checks). The first contender is hub-actions."""
        reps = reps or self.args.reps
        runs: dict[str, list[Run]] = {c[0]: [] for c in contenders}
        failed: dict[str, str] = {}
        for rep in range(reps):
            for tool, cmd, cwd, *rest in contenders:
                if tool in failed:
                    continue
                codes = rest[0] if rest else ok_codes
                tag = f"{scenario}-{case}-{size}-{tool}"
                # Short runs are measured warm: one untimed run of the same command just
                # before, so no tool pays for the caches the previous tool's run evicted
                # (a 15 ms run read 21-30 ms right after check-jsonschema's 500 ms, 15 ms
                # alone). Runs over a second are not repeated: their warm-up costs too much
                # and the effect is lost in them.
                if not runs[tool] or runs[tool][-1].seconds < 1.0:
                    self.run(cmd, cwd=cwd, tag=tag)
                r = self.run(cmd, cwd=cwd, tag=tag)
                runs[tool].append(r)
                if r.timed_out:
                    failed[tool] = f"timeout after {self.args.timeout}s"
                elif r.rc not in codes:
                    failed[tool] = f"exit {r.rc}: {r.err.strip().splitlines()[-1] if r.err.strip() else ''}"[:300]
        hub_tool = contenders[0][0]
        hub_median = statistics.median(r.seconds for r in runs[hub_tool]) if hub_tool not in failed else None
        hub_cpus = [r.cpu for r in runs[hub_tool] if r.cpu is not None]
        hub_cpu = statistics.median(hub_cpus) if hub_cpus and hub_tool not in failed else None
        last: dict[str, Run] = {}
        for tool, *_ in contenders:
            rs = runs[tool]
            rec = {"scenario": scenario, "case": case, "size": size, "tool": tool,
                   "version": self.tools[tool].version if tool in self.tools else None,
                   "runs": len(rs), "seconds": [round(r.seconds, 4) for r in rs]}
            if tool in failed:
                rec.update(status="failed" if "timeout" not in failed[tool] else "timeout",
                           reason=failed[tool], median_seconds=None, peak_rss_kb=None,
                           ratio_to_hub=None)
                log(f"{scenario}/{case}/{size}: {tool} {failed[tool]}")
            else:
                med = statistics.median(r.seconds for r in rs)
                rss = [r.rss_kb for r in rs if r.rss_kb is not None]
                cpus = [r.cpu for r in rs if r.cpu is not None]
                rec.update(status="ok", median_seconds=round(med, 4),
                           median_cpu_seconds=round(statistics.median(cpus), 4) if cpus else None,
                           peak_rss_kb=max(rss) if rss else None,
                           ratio_to_hub=round(med / hub_median, 2) if hub_median else None)
                if cpus and hub_cpu and hub_cpu >= 0.05:  # /usr/bin/time counts in 10 ms steps
                    rec["cpu_ratio_to_hub"] = round(statistics.median(cpus) / hub_cpu, 2)
                last[tool] = rs[-1]
            self.records.append(rec)
        return last

    def skipped(self, scenario, case, size, tool, reason):
        self.records.append({"scenario": scenario, "case": case, "size": size, "tool": tool,
                             "status": "skipped", "reason": reason, "median_seconds": None,
                             "peak_rss_kb": None, "ratio_to_hub": None})

    def disagree(self, scenario, case, size, tool, ours, theirs, verdict):
        """hub-actions (ours) and a peer (theirs) answer differently."""
        d = {"scenario": scenario, "case": case, "size": size, "tool": tool,
             "hub": ours, "peer": theirs, "verdict": verdict}
        self.disagreements.append(d)
        log(f"DISAGREEMENT {scenario}/{case}/{size} vs {tool}: hub={ours!r} peer={theirs!r} ({verdict})")

    def wrong(self, scenario, case, size, tool, got, expected, detail):
        """A tool's answer differs from the one the input was generated to have."""
        d = {"scenario": scenario, "case": case, "size": size, "tool": tool,
             "got": got, "expected": expected, "verdict": detail}
        self.disagreements.append(d)
        log(f"WRONG {scenario}/{case}/{size}: {tool} said {got!r}, expected {expected!r} ({detail})")

    def peers(self, names: list[str], scenario: str, case: str, size) -> list[str]:
        """The named peers that are installed; records the others as skipped."""
        ok = []
        for n in names:
            t = self.tools.get(n)
            if t and t.path:
                ok.append(n)
            else:
                self.skipped(scenario, case, size, n, t.reason if t else "not installed")
        return ok

    # --- data --------------------------------------------------------------------------
    def history(self, size: int) -> Path:
        repo = DATA / f"history-{size}"
        if (repo / ".bench-complete").exists():
            return repo
        log(f"generating a {size}-commit history")
        shutil.rmtree(repo, ignore_errors=True)
        subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
        imp = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=repo, stdin=subprocess.PIPE)
        gen_history.generate(size, imp.stdin)
        imp.stdin.close()
        if imp.wait() != 0:
            raise SystemExit("git fast-import failed")
        subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=repo, check=True)
        subprocess.run(["git", "config", "user.name", "bench"], cwd=repo, check=True)
        subprocess.run(["git", "config", "user.email", "bench@example.com"], cwd=repo, check=True)
        peer_tools.write_repo_configs(repo)
        (repo / ".bench-complete").write_text("")
        with open(repo / ".git" / "info" / "exclude", "a") as f:
            f.write(".bench-complete\n")
        return repo

    def configs(self) -> Path:
        d = DATA / "configs"
        if not (d / "truth.json").exists():
            log("generating config files")
            shutil.rmtree(d, ignore_errors=True)
            gen_configs.generate(d)
        return d

    # --- build -------------------------------------------------------------------------
    def build(self):
        self.src = REPO
        if self.args.from_head:
            # The committed tree, without the working tree's uncommitted edits.
            sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True,
                                 text=True, check=True).stdout.strip()
            self.src = DATA / "src"
            if (self.src / ".sha").exists() and (self.src / ".sha").read_text() != sha or \
                    not (self.src / ".sha").exists():
                shutil.rmtree(self.src, ignore_errors=True)
                self.src.mkdir(parents=True)
                archive = subprocess.run(["git", "archive", "HEAD"], cwd=REPO, capture_output=True,
                                         check=True).stdout
                subprocess.run(["tar", "-x", "-C", str(self.src)], input=archive, check=True)
                (self.src / ".sha").write_text(sha)
            self.notes.append(f"built from commit {sha[:12]} (`--from-head`)")
        if self.args.no_build:
            return
        log(f"building the suite from {self.src} (CARGO_TARGET_DIR={self.target})")
        env = dict(os.environ, CARGO_TARGET_DIR=str(self.target))
        cmd = ["cargo", "build", "--release", "--locked"]
        for p in HUB_PACKAGES:
            cmd += ["-p", p]
        r = subprocess.run(cmd, cwd=self.src, env=env, stderr=subprocess.PIPE, text=True)
        sys.stderr.write(r.stderr[-3000:])
        locked = "--locked"
        if r.returncode and "cannot update the lock file" in r.stderr and self.src != REPO:
            # The committed Cargo.lock is out of date with the committed manifests; in the
            # throwaway export, let cargo update it offline (path dependencies only) and say so.
            self.notes.append("the committed Cargo.lock is out of date (`cargo build --locked` fails "
                              "from a clean checkout); built the export with `--offline` instead")
            locked = "--offline"
            subprocess.run([c if c != "--locked" else "--offline" for c in cmd], cwd=self.src,
                           env=env, check=True)
        elif r.returncode:
            raise SystemExit(f"cargo build failed (exit {r.returncode})")
        r = subprocess.run(["cargo", "build", "--release", locked, "-p", "canary-gate"],
                           cwd=self.src, capture_output=True, text=True, env=env)
        if r.returncode != 0:
            self.notes.append("canary-gate did not build; its binary size is not reported")


def fmt_seconds(s):
    if s is None:
        return "—"
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.2f} s"


def table(records: list[dict]) -> str:
    lines = ["| scenario | case | size | tool | median wall | median CPU | peak RSS | × hub (wall) | × hub (CPU) | status |",
             "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in records:
        if r.get("kind") in ("info", "check"):
            continue
        rss = f"{r['peak_rss_kb'] / 1024:.0f} MiB" if r.get("peak_rss_kb") else "—"
        ratio = f"{r['ratio_to_hub']:.2f}" if r.get("ratio_to_hub") is not None else "—"
        ratio += " | " + (f"{r['cpu_ratio_to_hub']:.2f}" if r.get("cpu_ratio_to_hub") is not None else "—")
        status = r["status"] if r["status"] == "ok" else f"{r['status']}: {r.get('reason', '')}"
        size = r["size"] if r["size"] is not None else ""
        lines.append(f"| {r['scenario']} | {r['case']} | {size} | {r['tool']} | "
                     f"{fmt_seconds(r.get('median_seconds'))} | {fmt_seconds(r.get('median_cpu_seconds'))} | "
                     f"{rss} | {ratio} | "
                     f"{status.replace('|', '/')} |")
    return "\n".join(lines)


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release(),
            "loadavg_at_start": os.getloadavg()}


def main(argv=None):
    ap = argparse.ArgumentParser(prog="bench/run", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenarios", nargs="*", help=f"default: {' '.join(DEFAULT_SCENARIOS)}")
    ap.add_argument("--sizes", default="10000,100000",
                    help="history sizes for bump/changelog (default 10000,100000; add 1000000)")
    ap.add_argument("--reps", type=int, default=3, help="runs per tool, alternated (default 3)")
    ap.add_argument("--timeout", type=float, default=60,
                    help="seconds per run before a tool is called timed out (default 60)")
    ap.add_argument("--peers", default=None, help="only these peers (comma-separated)")
    ap.add_argument("--no-build", action="store_true", help="use the binaries already built")
    ap.add_argument("--from-head", action="store_true",
                    help="build the committed HEAD (git archive) instead of the working tree")
    ap.add_argument("--no-install", action="store_true", help="use only peers already installed")
    ap.add_argument("--install-cog", action="store_true",
                    help="also build cocogitto from crates.io (slow: compiles ~300 crates)")
    ap.add_argument("--no-readme", action="store_true", help="do not rewrite bench/README.md")
    args = ap.parse_args(argv)
    scenarios = args.scenarios or DEFAULT_SCENARIOS
    for s in scenarios:
        if s not in SCENARIOS:
            ap.error(f"unknown scenario {s!r} (know: {', '.join(SCENARIOS)})")
    args.sizes = [int(s) for s in args.sizes.split(",") if s]
    started = time.time()
    b = Bench(args)
    b.machine = machine()
    b.build()
    b.tools = peer_tools.ensure(scenarios, install=not args.no_install, log=log,
                                only=args.peers.split(",") if args.peers else None,
                                install_cog=args.install_cog)
    b.tools.update(peer_tools.hub_tools(b))
    for s in scenarios:
        log(f"scenario {s}")
        t0 = time.time()
        try:
            SCENARIOS[s](b)
        except Exception as e:  # a scenario that cannot run says so, the others go on
            import traceback
            traceback.print_exc()
            b.notes.append(f"scenario {s} failed: {e}")
            b.records.append({"scenario": s, "case": "", "size": None, "tool": "hub-actions",
                              "status": "failed", "reason": str(e)[:300],
                              "median_seconds": None, "peak_rss_kb": None, "ratio_to_hub": None})
        log(f"scenario {s} took {time.time() - t0:.0f}s")
        save(b, args, argv, started)
    result = save(b, args, argv, started)
    md = render_markdown(result)
    print(md)
    if not args.no_readme:
        update_readme(md)
    return 0


def save(b, args, argv, started) -> dict:
    """Writes bench/results.json (after every scenario, so a cut-short run keeps its data)."""
    b.machine["loadavg_at_end"] = os.getloadavg()
    result = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": "bench/run " + " ".join(argv if argv is not None else sys.argv[1:]),
        "wall_seconds": round(time.time() - started, 1),
        "machine": b.machine,
        "reps": args.reps, "timeout_seconds": args.timeout, "sizes": args.sizes,
        "tools": {k: {"version": t.version, "skipped": t.reason} for k, t in b.tools.items()},
        "records": b.records,
        "disagreements": b.disagreements,
        "notes": b.notes,
        "extra": getattr(b, "extra", {}),
    }
    (BENCH / "results.json").write_text(json.dumps(result, indent=1) + "\n")
    return result


def render_markdown(result: dict) -> str:
    m = result["machine"]
    out = [f"Run `{result['command'].strip()}` on {result['date']} "
           f"({result['wall_seconds']:.0f} s wall).",
           f"Machine: {m['nproc']} CPUs, {m['cpu']}, Linux {m['kernel']}; load average "
           f"{m['loadavg_at_start'][0]:.1f} at start, {m['loadavg_at_end'][0]:.1f} at end"
           + (" — **a loaded machine: absolute times are noisy, ratios less so**."
              if max(m['loadavg_at_start'][0], m['loadavg_at_end'][0]) > 0.5 * m['nproc'] else "."),
           f"Each tool ran {result['reps']} times, alternated with the others, each run under a second "
           "after one untimed warm-up run of the same command; medians shown; "
           "`× hub` is the tool's median over hub-actions' (above 1: hub-actions is faster); CPU is user+system time of the process tree, less sensitive to load than wall time.",
           "", "Tools: " + ", ".join(f"{k} {v['version']}" if v["version"] else f"{k} (skipped: {v['skipped']})"
                                     for k, v in sorted(result["tools"].items())), "",
           table(result["records"]) if any(r.get("kind") not in ("info", "check")
                                            for r in result["records"]) else "", ""]
    extra = result.get("extra", {})
    for key in ("canary", "install", "rollback", "release-pr"):
        if key in extra and extra[key].get("markdown"):
            out += [extra[key]["markdown"], ""]
    out.append(f"Disagreements: {len(result['disagreements'])}")
    for d in result["disagreements"]:
        where = f"{d['scenario']}/{d['case']}" + (f" at {d['size']}" if d["size"] else "")
        if "expected" in d:
            out.append(f"- {where}: **{d['tool']}** answered `{d['got']}`, expected `{d['expected']}` — {d['verdict']}")
        else:
            out.append(f"- {where}, hub-actions vs {d['tool']}: hub `{d['hub']}`, "
                       f"{d['tool']} `{d['peer']}` — {d['verdict']}")
    for n in result["notes"]:
        out.append(f"- note: {n}")
    return "\n".join(out) + "\n"


def update_readme(md: str):
    readme = BENCH / "README.md"
    begin, end = "<!-- bench:results -->", "<!-- /bench:results -->"
    text = readme.read_text() if readme.exists() else f"# bench\n\n{begin}\n{end}\n"
    if begin not in text:
        text += f"\n{begin}\n{end}\n"
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    readme.write_text(f"{head}{begin}\n{md}{end}{tail}")


if __name__ == "__main__":
    sys.exit(main())
