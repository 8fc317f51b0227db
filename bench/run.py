"""``python -m bench.run [--backend sqlite|postgresql|both] [--quick]``: measure, write and print the reports."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from types import FrameType

from bench import RESULTS_DIR
from bench.databases import BACKENDS, postgres_version
from bench.http_load import WRK_INSTALL_HINT, ensure_wrk, wrk_version
from bench.machine import describe
from bench.report import markdown, write
from bench.suite import Options, run_backend
from bench.synthea import load_bundles


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--backend", choices=[*BACKENDS, "both"], default="both")
    parser.add_argument("--quick", action="store_true", help="6 bundles, 3 s load runs: a smoke run")
    parser.add_argument("--duration", type=int, help="seconds per throughput run (default 10; quick 3)")
    parser.add_argument("--connections", type=int, default=4, help="keep-alive connections (default 4)")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR, help=f"report folder (default {RESULTS_DIR})")
    args = parser.parse_args(argv)
    if args.duration is not None and not 1 <= args.duration <= 120:
        parser.error("--duration must be 1..120 seconds")
    if not 1 <= args.connections <= 64:
        parser.error("--connections must be 1..64")
    return args


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds: servers stopped, databases dropped, temp dirs removed


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    backends = list(BACKENDS) if args.backend == "both" else [args.backend]
    duration = args.duration or (3 if args.quick else 10)
    opts = Options(duration_s=duration, latency_duration_s=max(2, duration // 2), connections=args.connections)
    wrk = ensure_wrk()
    if wrk is None:
        print(f"wrk not found: falling back to the Python load generator; {WRK_INSTALL_HINT}", flush=True)
    bundles = load_bundles(args.quick)
    machine = describe()
    machine["load_generator"] = wrk_version(wrk) or "python (wrk missing)"
    failed = 0
    for backend in backends:
        if backend == "postgresql" and postgres_version() is None:
            print("PostgreSQL is not reachable (RYGGRAD_BENCH_POSTGRES_URL): skipped", flush=True)
            failed += 1
            continue
        result = run_backend(backend, bundles, opts, wrk, args.quick, machine)
        json_path, md_path = write(result, args.output)
        print("\n" + markdown(result), flush=True)
        print(f"written: {json_path} and {md_path}\n", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
