"""Index extraction speed on the Synthea resources of ../shared (7,876 R4 resources, read in place). Not a test.

    .venv/bin/python bench/index_bench.py [--passes 5]

Prints the plan compile time and the average µs per resource of ``ResourceIndexer.rows`` (target: ≤ 60 µs),
per pass and per resource type (best pass).
"""

from __future__ import annotations

import argparse
import bz2
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from fhir_server.definitions.registry import default_definitions  # noqa: E402
from fhir_server.search.index import ResourceIndexer  # noqa: E402

SYNTHEA = REPO_ROOT.parent / "shared" / "fixtures" / "synthea"
TARGET_US = 60.0


def load_resources(folder: Path) -> list[dict[str, Any]]:
    resources: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.json.bz2")):
        bundle = orjson.loads(bz2.decompress(path.read_bytes()))
        resources.extend(entry["resource"] for entry in bundle.get("entry", ()) if "resource" in entry)
    return resources


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args()
    resources = load_resources(SYNTHEA)
    if not resources:
        raise SystemExit(f"no Synthea bundles in {SYNTHEA}")
    indexer = ResourceIndexer(default_definitions())
    started = time.perf_counter()
    statuses = indexer.compile_all()
    fallbacks = [s for s in statuses if s.mode == "fallback"]
    print(
        f"compiled {len(statuses)} (type, parameter) pairs in {time.perf_counter() - started:.2f} s; "
        f"{len(fallbacks)} use fhirpathpy"
    )
    rows_total = 0
    best = float("inf")
    for number in range(1, args.passes + 1):
        started = time.perf_counter()
        for resource in resources:
            indexer.rows(resource)
        elapsed = time.perf_counter() - started
        best = min(best, elapsed)
        print(f"pass {number}: {elapsed * 1e6 / len(resources):.1f} µs/resource")
    for resource in resources:
        rows = indexer.rows(resource)
        rows_total += sum(len(getattr(rows, kind)) for kind in rows.__slots__)
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for resource in resources:
        by_type[resource["resourceType"]].append(resource)
    print("per type (µs/resource):")
    for resource_type, items in sorted(by_type.items(), key=lambda item: -len(item[1])):
        started = time.perf_counter()
        for resource in items:
            indexer.rows(resource)
        print(f"  {resource_type:<26} {len(items):>5}  {(time.perf_counter() - started) * 1e6 / len(items):6.1f}")
    average = best * 1e6 / len(resources)
    verdict = "OK" if average <= TARGET_US else "over target"
    print(
        f"{len(resources)} resources, {rows_total / len(resources):.1f} rows/resource: "
        f"best {average:.1f} µs/resource (target ≤ {TARGET_US:.0f}: {verdict})"
    )


if __name__ == "__main__":
    main()
