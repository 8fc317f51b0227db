"""Validation throughput on the Synthea resources of ../shared (7,876 valid R4 resources). Not a test.

    .venv/bin/python bench/validation_bench.py [--passes 3] [--no-models]

Prints resources/s for the R4 rules alone (the server's default) and with the R4B pydantic models added.
"""

from __future__ import annotations

import argparse
import bz2
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from fhir_server.definitions.registry import default_definitions  # noqa: E402
from fhir_server.validation import ResourceValidator  # noqa: E402

SYNTHEA = REPO_ROOT.parent / "shared" / "fixtures" / "synthea"


def load_resources(folder: Path) -> list[dict[str, Any]]:
    resources: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.json.bz2")):
        bundle = orjson.loads(bz2.decompress(path.read_bytes()))
        resources.extend(entry["resource"] for entry in bundle.get("entry", ()) if "resource" in entry)
    return resources


def run(label: str, validator: ResourceValidator, resources: list[dict[str, Any]], passes: int) -> None:
    started = time.perf_counter()
    compiled = validator.warm_up()
    print(f"{label}: compiled rules of {compiled} resource types in {time.perf_counter() - started:.2f} s")
    best = float("inf")
    errors: Counter[str] = Counter()
    for number in range(passes):
        started = time.perf_counter()
        for resource in resources:
            for issue in validator.validate(resource):
                if number == 0 and issue.severity == "error":
                    errors[resource["resourceType"]] += 1
        elapsed = time.perf_counter() - started
        best = min(best, elapsed)
        rate, each = len(resources) / elapsed, elapsed * 1e6 / len(resources)
        print(f"  pass {number + 1}: {rate:,.0f} resources/s ({each:.0f} µs each)")
    print(f"  best: {len(resources) / best:,.0f} resources/s; errors: {sum(errors.values())}", dict(errors) or "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--no-models", action="store_true", help="skip the run with the R4B models")
    parser.add_argument("--fixtures", type=Path, default=SYNTHEA)
    args = parser.parse_args()
    if not args.fixtures.is_dir():
        sys.exit(f"no Synthea fixtures at {args.fixtures}")
    resources = load_resources(args.fixtures)
    print(f"{len(resources):,} resources from {args.fixtures}")
    definitions = default_definitions()
    run("R4 rules (default)", ResourceValidator(definitions), resources, args.passes)
    if not args.no_models:
        run("R4 rules + R4B models", ResourceValidator(definitions, check_models=True), resources, args.passes)


if __name__ == "__main__":
    main()
