"""Deterministic config-file sets for the `validate` scenario.

One JSON Schema (draft-07) for a service config, N JSON files of which a known share is
invalid (each invalid file breaks exactly one rule, rotating through the kinds below), a
few spec edge cases whose verdict the JSON Schema specification settles, and one large
file. `truth.json` records the expected verdict of every file, so a disagreement between
tools can be settled against the specification rather than by majority.
"""
import json
import random
from pathlib import Path

SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "$id": "https://example.com/bench/service.schema.json",
    "title": "service",
    "type": "object",
    "required": ["name", "replicas", "image", "ports"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z][a-z0-9-]*$", "maxLength": 40},
        "replicas": {"type": "integer", "minimum": 1, "maximum": 100},
        "image": {"type": "string", "minLength": 3},
        "tier": {"enum": ["web", "worker", "batch"]},
        "ports": {
            "type": "array", "minItems": 1, "uniqueItems": True,
            "items": {"type": "integer", "minimum": 1, "maximum": 65535},
        },
        "env": {"type": "object", "additionalProperties": {"type": "string"}},
        "labels": {"type": "array", "items": {"type": "string", "maxLength": 8}},
        "resources": {
            "type": "object",
            "properties": {
                "cpu": {"type": "number", "exclusiveMinimum": 0},
                "memory": {"type": "string", "pattern": "^[0-9]+(Mi|Gi)$"},
            },
            "required": ["cpu"],
        },
        "routes": {"type": "array", "items": {"$ref": "#/definitions/route"}},
    },
    "definitions": {
        "route": {
            "type": "object", "required": ["path"],
            "properties": {"path": {"type": "string", "pattern": "^/"},
                           "weight": {"type": "integer", "minimum": 0, "maximum": 100}},
        }
    },
}

# Each breaks one rule of a valid document.
BREAKERS = [
    ("missing required", lambda d: d.pop("image")),
    ("wrong type", lambda d: d.__setitem__("replicas", "three")),
    ("above maximum", lambda d: d.__setitem__("replicas", 1000)),
    ("pattern", lambda d: d.__setitem__("name", "Bad_Name")),
    ("enum", lambda d: d.__setitem__("tier", "gpu")),
    ("additional property", lambda d: d.__setitem__("replica", 2)),
    ("duplicate items", lambda d: d.__setitem__("ports", [80, 80])),
    ("nested $ref", lambda d: d.__setitem__("routes", [{"path": "api"}])),
    ("exclusiveMinimum", lambda d: d.__setitem__("resources", {"cpu": 0})),
    ("additionalProperties schema", lambda d: d.__setitem__("env", {"DEBUG": True})),
]

# Spec edge cases: (description, raw JSON text, valid?)
EDGES = [
    # draft-06+: a number with a zero fractional part is an integer.
    ("1.0 is an integer", '{"name": "svc", "replicas": 2.0, "image": "nginx", "ports": [80]}', True),
    # maxLength counts code points: one emoji is one character.
    ("maxLength counts code points", '{"name": "svc", "replicas": 1, "image": "nginx", "ports": [80], "labels": ["\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600"]}', True),
    # uniqueItems compares numbers mathematically: 80 and 80.0 are equal.
    ("uniqueItems 80 vs 80.0", '{"name": "svc", "replicas": 1, "image": "nginx", "ports": [80, 80.0]}', False),
    # pattern is not anchored implicitly; "^/" only needs a leading slash.
    ("pattern is a search", '{"name": "svc", "replicas": 1, "image": "nginx", "ports": [443], "routes": [{"path": "/a b"}]}', True),
]


def valid_doc(rng: random.Random, i: int) -> dict:
    doc = {
        "name": f"svc-{i}",
        "replicas": rng.randint(1, 100),
        "image": f"registry.example.com/team/app-{i}:{rng.randint(1, 999)}",
        "ports": sorted(rng.sample(range(1, 65536), rng.randint(1, 4))),
    }
    if rng.random() < 0.7:
        doc["tier"] = rng.choice(["web", "worker", "batch"])
    if rng.random() < 0.6:
        doc["env"] = {f"VAR_{k}": f"value-{rng.randint(0, 10**6)}" for k in range(rng.randint(1, 12))}
    if rng.random() < 0.5:
        doc["resources"] = {"cpu": round(rng.uniform(0.1, 8), 2), "memory": f"{rng.randint(64, 4096)}Mi"}
    if rng.random() < 0.5:
        doc["routes"] = [{"path": f"/r{k}", "weight": rng.randint(0, 100)} for k in range(rng.randint(1, 6))]
    if rng.random() < 0.4:
        doc["labels"] = [f"l{k}" for k in range(rng.randint(1, 5))]
    return doc


def generate(out: Path, n: int = 2000, invalid_share: float = 0.10, large_items: int = 25000,
             seed: int = 7):
    rng = random.Random(seed)
    files = out / "files"
    files.mkdir(parents=True, exist_ok=True)
    (out / "schema.json").write_text(json.dumps(SCHEMA, indent=2))
    truth = {}
    n_invalid = round(n * invalid_share)
    invalid_at = set(rng.sample(range(n), n_invalid))
    k = 0
    for i in range(n):
        doc = valid_doc(rng, i)
        name = f"svc-{i:05d}.json"
        if i in invalid_at:
            kind, breaker = BREAKERS[k % len(BREAKERS)]
            k += 1
            breaker(doc)
            truth["files/" + name] = {"valid": False, "why": kind}
        else:
            truth["files/" + name] = {"valid": True, "why": "valid"}
        (files / name).write_text(json.dumps(doc, indent=2) + "\n")
    edges = out / "edges"
    edges.mkdir(exist_ok=True)
    for j, (why, text, valid) in enumerate(EDGES):
        name = f"edge-{j}.json"
        (edges / name).write_text(text + "\n")
        truth["edges/" + name] = {"valid": valid, "why": why}
    # The large file: an object with one huge array, checked against an array schema.
    large_schema = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
                    "required": ["services"],
                    "properties": {"services": {"type": "array", "items": {"$ref": "#/definitions/service"}}},
                    "definitions": {"service": {k: v for k, v in SCHEMA.items() if k not in ("$schema", "$id", "definitions")}
                                    | {"definitions": SCHEMA["definitions"]}}}
    # $ref inside the embedded service points at #/definitions/route of the root document.
    large_schema["definitions"]["route"] = SCHEMA["definitions"]["route"]
    del large_schema["definitions"]["service"]["definitions"]
    (out / "large-schema.json").write_text(json.dumps(large_schema, indent=2))
    (out / "large").mkdir(exist_ok=True)
    with open(out / "large" / "large.json", "w") as f:
        json.dump({"services": [valid_doc(rng, i) for i in range(large_items)]}, f, indent=1)
    truth["large/large.json"] = {"valid": True, "why": "valid"}
    (out / "truth.json").write_text(json.dumps(truth, indent=1, sort_keys=True))
    return truth


if __name__ == "__main__":
    import sys
    generate(Path(sys.argv[1]))
