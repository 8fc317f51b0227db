"""Print the demo transaction Bundle as JSON:
``python -m fhir_server.demo [--seed N] [--patients N] [--today DATE] [--no-history]``."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from fhir_server.demo.bundle import build_demo_bundle


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m fhir_server.demo", description=__doc__)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--patients", type=int, default=40)
    parser.add_argument("--today", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default: today)")
    parser.add_argument("--no-history", action="store_true", help="leave out the NNRR clinics' registry history")
    args = parser.parse_args(argv)
    bundle = build_demo_bundle(args.seed, today=args.today, patients=args.patients, history=not args.no_history)
    json.dump(bundle, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
