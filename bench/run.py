"""The benchmark suite (``make bench``, ``ryggrad bench``): every section on one backend, one report per run.

    python -m bench.run [--backend postgresql|sqlite|both] [--quick] [--only ingest,read,...] [--size 100k|1m]

Sections: ingest, read, create, qr-write, validation, search, flow, notifications, indicators, views, portal,
memory (``--only`` takes a comma-separated subset; ``core`` = ingest,read,create). Each figure is printed beside its
limit measured in the same run, as a ratio, and beside the issue's target; the report goes to
``bench/results/<date>-suite-<backend>[-quick].json|.md``. Default backend: PostgreSQL when reachable.

``python -m bench.run --search [--size 10k|100k|1m]``: the search benchmark alone, with its own detailed report
(the query plans, the server's SQL, the profiles of slow queries)."""

from __future__ import annotations

import argparse
import os
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
from bench.search_suite import run_search
from bench.suite_options import CORE, SECTIONS, SuiteOptions


def _parse(argv: list[str] | None, prog: str = "python -m bench.run") -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--backend", choices=[*BACKENDS, "both"], help="default: postgresql when reachable, else sqlite"
    )
    parser.add_argument("--only", help=f"comma-separated sections (default all): {', '.join(SECTIONS)}; core")
    parser.add_argument("--quick", action="store_true", help="small sizes, 3 s load runs: a smoke run (minutes)")
    parser.add_argument("--duration", type=int, help="seconds per throughput run (default 10; quick 3)")
    parser.add_argument("--connections", type=int, default=4, help="keep-alive connections (default 4)")
    parser.add_argument(
        "--api-processes",
        type=int,
        default=os.cpu_count() or 1,
        help="API processes of the server for ingest, read and create (ryggrad serve --workers; default: the cores)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS_DIR, help=f"report folder (default {RESULTS_DIR})")
    search = parser.add_argument_group("search benchmark")
    search.add_argument("--search", action="store_true", help="run the search benchmark alone (its own report)")
    search.add_argument(
        "--size", help="search population: 10k, 100k, 1m or a number (default 100k; --quick and --search 10k)"
    )
    search.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"population seed (default {DEFAULT_SEED})")
    search.add_argument("--repetitions", type=int, help="per query (default 30; --quick 10)")
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
        args.size = parse_size(args.size or ("10k" if args.quick or args.search else "100k"))
    except ValueError as exc:
        parser.error(str(exc))
    args.repetitions = args.repetitions or (10 if args.quick else 30)
    try:
        args.sections = _sections(args.only)
    except ValueError as exc:
        parser.error(str(exc))
    if args.tag is not None and not re.fullmatch(r"[A-Za-z0-9-]{1,40}", args.tag):
        parser.error("--tag: 1 to 40 letters, digits and hyphens")
    if not 1 <= args.repetitions <= 1000:
        parser.error("--repetitions must be 1..1000")
    args.backend = args.backend or ("postgresql" if args.search or postgres_version() else "sqlite")
    if args.database_url:
        url = make_url(args.database_url)
        if url.host not in (None, "", "127.0.0.1", "localhost", "::1"):
            parser.error("--database-url: the bench uses loopback addresses only")
        args.backend = url.get_backend_name()
    if args.duration is not None and not 1 <= args.duration <= 120:
        parser.error("--duration must be 1..120 seconds")
    if not 1 <= args.api_processes <= 16:
        parser.error("--api-processes must be 1..16")
    if not 1 <= args.connections <= 64:
        parser.error("--connections must be 1..64")
    return args


def _sections(only: str | None) -> tuple[str, ...]:
    if not only:
        return SECTIONS
    asked = {name.strip() for name in only.split(",") if name.strip()}
    if "core" in asked:
        asked = (asked - {"core"}) | set(CORE)
    unknown = asked - set(SECTIONS)
    if unknown:
        raise ValueError(f"--only: unknown sections {', '.join(sorted(unknown))} (known: {', '.join(SECTIONS)})")
    return tuple(name for name in SECTIONS if name in asked)


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


def main(argv: list[str] | None = None, prog: str = "python -m bench.run") -> int:
    args = _parse(argv, prog)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    backends = list(BACKENDS) if args.backend == "both" else [args.backend]
    if args.search:
        return _main_search(args, backends)
    from bench import suite_report
    from bench.suite_runner import run_suite

    wrk = ensure_wrk()
    if wrk is None:
        print(f"wrk not found: falling back to the Python load generator; {WRK_INSTALL_HINT}", flush=True)
    command = " ".join([prog, *(sys.argv[1:] if argv is None else argv)])
    failed = 0
    for backend in backends:
        if _postgres_missing(backend):
            failed += 1
            continue
        machine = describe()
        machine["load_generator"] = wrk_version(wrk) or "python (wrk missing)"
        opts = SuiteOptions(
            backend=backend,
            sections=args.sections,
            quick=args.quick,
            duration_s=args.duration or (3 if args.quick else 10),
            connections=args.connections,
            api_processes=args.api_processes,
            size=args.size,
            seed=args.seed,
            repetitions=args.repetitions,
            database_url=args.database_url,
            output=args.output,
            wrk=wrk,
        )
        result = run_suite(opts, machine, command)
        json_path, md_path = suite_report.write(result, args.output)
        print("\n" + suite_report.markdown(result), flush=True)
        print(f"written: {json_path} and {md_path}\n", flush=True)
        failed += any("error" in s for s in result["sections"].values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
