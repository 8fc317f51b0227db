"""``python -m bench.run [--backend sqlite|postgresql|both] [--quick]``: measure, write and print the reports.

``python -m bench.run --search [--size 10k|100k|1m] [--backend postgresql]``: the search benchmark instead (a
synthetic registry population loaded in-process, typical searches over HTTP beside hand-written SQL)."""

from __future__ import annotations

import argparse
import re
import signal
import sys
from pathlib import Path
from types import FrameType

from sqlalchemy.engine import make_url

from bench import RESULTS_DIR, search_report
from bench.databases import BACKENDS, postgres_version
from bench.http_load import WRK_INSTALL_HINT, ensure_wrk, wrk_version
from bench.machine import describe
from bench.population import DEFAULT_SEED, parse_size
from bench.report import markdown, write
from bench.search_suite import run_search
from bench.suite import Options, run_backend
from bench.synthea import load_bundles


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--backend", choices=[*BACKENDS, "both"], help="default: both; postgresql with --search")
    parser.add_argument("--quick", action="store_true", help="6 bundles, 3 s load runs: a smoke run")
    parser.add_argument("--duration", type=int, help="seconds per throughput run (default 10; quick 3)")
    parser.add_argument("--connections", type=int, default=4, help="keep-alive connections (default 4)")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR, help=f"report folder (default {RESULTS_DIR})")
    search = parser.add_argument_group("search benchmark")
    search.add_argument("--search", action="store_true", help="run the search benchmark instead")
    search.add_argument("--size", default="10k", help="resources: 10k, 100k, 1m or a number (default 10k)")
    search.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"population seed (default {DEFAULT_SEED})")
    search.add_argument("--repetitions", type=int, default=30, help="per query (default 30)")
    search.add_argument("--load-only", action="store_true", help="generate and load, report the load rate, no queries")
    search.add_argument(
        "--database-url",
        help="query a database this --size/--seed was loaded into before (no load; kept); "
        "with --load-only, load into this empty database and keep it",
    )
    search.add_argument("--tag", help="a name for the run in the report's file names (letters, digits, -)")
    search.add_argument(
        "--prewarm",
        action="store_true",
        help="PostgreSQL: read the indexes and tables into shared buffers before the queries (pg_prewarm)",
    )
    args = parser.parse_args(argv)
    try:
        args.size = parse_size(args.size)
    except ValueError as exc:
        parser.error(str(exc))
    if args.tag is not None and not re.fullmatch(r"[A-Za-z0-9-]{1,40}", args.tag):
        parser.error("--tag: 1 to 40 letters, digits and hyphens")
    if not 1 <= args.repetitions <= 1000:
        parser.error("--repetitions must be 1..1000")
    args.backend = args.backend or ("postgresql" if args.search else "both")
    if args.database_url:
        url = make_url(args.database_url)
        if url.host not in (None, "", "127.0.0.1", "localhost", "::1"):
            parser.error("--database-url: the bench uses loopback addresses only")
        args.backend = url.get_backend_name()
    if args.duration is not None and not 1 <= args.duration <= 120:
        parser.error("--duration must be 1..120 seconds")
    if not 1 <= args.connections <= 64:
        parser.error("--connections must be 1..64")
    return args


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds: servers stopped, databases dropped, temp dirs removed


def _postgres_missing(backend: str) -> bool:
    if backend == "postgresql" and postgres_version() is None:
        print("PostgreSQL is not reachable (RYGGRAD_BENCH_POSTGRES_URL): skipped", flush=True)
        return True
    return False


def _main_search(args: argparse.Namespace, backends: list[str]) -> int:
    machine = describe()
    failed = 0
    for backend in backends:
        if _postgres_missing(backend):
            failed += 1
            continue
        result = run_search(
            backend, args.size, args.seed, args.repetitions, machine, args.load_only, args.database_url, args.prewarm
        )
        json_path, md_path = search_report.write(result, args.output, args.tag)
        print("\n" + search_report.markdown(result), flush=True)
        print(f"written: {json_path} and {md_path}\n", flush=True)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    backends = list(BACKENDS) if args.backend == "both" else [args.backend]
    if args.search:
        return _main_search(args, backends)
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
        if _postgres_missing(backend):
            failed += 1
            continue
        result = run_backend(backend, bundles, opts, wrk, args.quick, machine)
        json_path, md_path = write(result, args.output)
        print("\n" + markdown(result), flush=True)
        print(f"written: {json_path} and {md_path}\n", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
