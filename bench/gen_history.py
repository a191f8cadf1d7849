"""Deterministic Conventional-Commit history, written as a `git fast-import` stream.

    python3 gen_history.py N | git fast-import --quiet

N commits on one branch (`main`), from a fixed seed: typed and scoped subjects, bodies,
footers, a few breaking changes (`!` and `BREAKING CHANGE:` footers), a few upper-case
types, ~10% non-conventional messages, and an annotated semver tag every 200 commits
(the version follows the commits' own bump rules from v1.0.0, so it never relies on the
0.y.z rule where tools differ). The last tag is below HEAD, so there is always an
unreleased tail. Every subject is unique (no tool folds duplicates).
"""
import random
import sys

TYPES = [("feat", 20), ("fix", 25), ("docs", 8), ("chore", 10), ("refactor", 8),
         ("test", 6), ("perf", 4), ("ci", 3), ("build", 3), ("style", 3)]
SCOPES = ["api", "cli", "core", "parser", "db", "auth", "ui", "config", "deps", "docs"]
VERBS = ["add", "remove", "handle", "support", "rework", "speed up", "document", "guard",
         "simplify", "validate", "cache", "retry", "rename", "split", "merge settings of"]
NOUNS = ["token refresh", "pagination", "the session store", "empty input", "unicode names",
         "timeouts", "the export job", "config reload", "rate limits", "the build matrix",
         "log rotation", "the search index", "webhooks", "feature flags", "the scheduler"]
NONCONV = ["Update README", "WIP", "fixed stuff", "Tweak build script", "more tests",
           "Bump version", "cleanup", "Fix typo in docs", "address review comments",
           "try again"]
WORDS = ("the of and to in is that for it as with was on be by this are from at or an "
         "which when will can data value request response user cache file error").split()
EPOCH = 1_600_000_000
LEVEL = {"major": 3, "minor": 2, "patch": 1, None: 0}


def message(rng: random.Random, i: int):
    """Returns (message, bump level) for commit number i (1-based)."""
    if rng.random() < 0.10:
        return f"{rng.choice(NONCONV)} {i}\n", None
    types, weights = zip(*TYPES)
    typ = rng.choices(types, weights)[0]
    level = {"feat": "minor", "fix": "patch", "perf": "patch"}.get(typ)
    if rng.random() < 0.005:
        typ = typ.upper()
    scope = f"({rng.choice(SCOPES)})" if rng.random() < 0.6 else ""
    breaking = rng.random() < 0.003
    bang = "!" if breaking and rng.random() < 0.5 else ""
    subject = f"{typ}{scope}{bang}: {rng.choice(VERBS)} {rng.choice(NOUNS)} {i}"
    parts = [subject]
    if rng.random() < 0.4:
        for _ in range(rng.randint(1, 2)):
            parts.append(" ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 30))) + ".")
    footers = []
    if breaking and not bang:
        footers.append(f"BREAKING CHANGE: {rng.choice(NOUNS)} {i} changed shape")
    if rng.random() < 0.1:
        footers.append(f"Refs: #{rng.randint(1, 5000)}")
    if footers:
        parts.append("\n".join(footers))
    return "\n\n".join(parts) + "\n", ("major" if breaking else level)


def bump(version, level):
    major, minor, patch = version
    if level == "major":
        return (major + 1, 0, 0)
    if level == "minor":
        return (major, minor + 1, 0)
    return (major, minor, patch + 1)


def data(text: str) -> bytes:
    raw = text.encode()
    return b"data %d\n%s\n" % (len(raw), raw)


def generate(n: int, out, seed: int = 20261123, tag_every: int = 200):
    rng = random.Random(seed)
    version = None
    pending = 0  # highest bump level since the last tag
    w = out.write
    for i in range(1, n + 1):
        msg, level = message(rng, i)
        pending = max(pending, LEVEL[level])
        when = EPOCH + i * 60
        who = b"Dev %d <dev%d@example.com> %d +0000" % (i % 7, i % 7, when)
        w(b"commit refs/heads/main\nmark :%d\nauthor %s\ncommitter %s\n" % (i, who, who))
        w(data(msg))
        if i > 1:
            w(b"from :%d\n" % (i - 1))
        w(b"M 100644 inline src/%s.txt\n" % SCOPES[i % len(SCOPES)].encode())
        w(data(f"revision {i}"))
        if i % tag_every == 0 and i < n:
            if version is None:
                version = (1, 0, 0)
            else:
                name = {3: "major", 2: "minor", 1: "patch", 0: "patch"}[pending]
                version = bump(version, name)
            pending = 0
            tag = "v%d.%d.%d" % version
            w(b"tag %s\nfrom :%d\ntagger Release Bot <bot@example.com> %d +0000\n"
              % (tag.encode(), i, when))
            w(data(f"release {tag}"))
    w(b"reset refs/heads/main\nfrom :%d\n" % n)


if __name__ == "__main__":
    generate(int(sys.argv[1]), sys.stdout.buffer)
