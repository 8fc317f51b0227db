"""The issue's indicator benchmark: every NNRR indicator for all units and the quarters of one year over a
100k-episode synthetic registry (target: under 30 s on PostgreSQL). Not a test.

    .venv/bin/python -m bench.indicators [--episodes 100000] [--units 40] [--changes 1000] [--backend postgresql ...]

Each backend gets a fresh database (``bench.databases.temp_database``, dropped afterwards) migrated to head. The
registry (``bench.nnrr_registry``: per episode the EpisodeOfCare, the clinician form, the patient's forms and their
score Observations, the follow-up Tasks; visits over the two years before and in the measured year) is inserted
straight into ``resource`` and ``resource_history`` (PostgreSQL: COPY; SQLite: executemany). Then, timed:

a. the first full materialization of the Library's five views (``views.materialize.refresh``);
b. ``indicators.evaluate`` of the 22 NNRR Measures for the year and its four quarters, views already fresh (the
   target; it includes evaluate's own idle refresh of the views);
c. after ``--changes`` episodes got new versions (EpisodeOfCare and clinician form), evaluate again: incremental
   refresh + counting.

PostgreSQL is required (skipped with a message when unreachable); SQLite is informative. Records
``bench/results/<date>-indicators.{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, insert, text, update

from bench import RESULTS_DIR
from bench.databases import BACKENDS, postgres_version, temp_database
from bench.machine import describe
from bench.nnrr_registry import episode_resources, unit_ids
from bench.report import record
from fhir_server.indicators.evaluate import evaluate
from fhir_server.indicators.facts import library_of, views_of
from fhir_server.indicators.periods import year_and_quarters
from fhir_server.server import FhirServer
from fhir_server.settings import Settings
from fhir_server.storage.engine import Database
from fhir_server.storage.migrate import upgrade
from fhir_server.storage.schema import resource, resource_history
from fhir_server.views.materialize import refresh
from fhir_server.views.view_files import load_views

YEAR = 2025
FIRST_VISIT = date(YEAR - 2, 7, 1)  # follow-up indicators count visits of the year before too
VISIT_DAYS = (date(YEAR, 12, 31) - FIRST_VISIT).days + 1
BATCH = 1_000  # episodes per insert transaction
TARGET_S = 30.0
COLUMNS = ("resource_type", "id", "version_id", "last_updated", "deleted", "content")
MEASURE_PREFIX = "https://ryggrad.no/fhir/Measure/nnrr-"


def _copy(conn: Connection, table: str, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> None:
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _write(conn: Connection, resources: list[dict[str, Any]], version: int, now: datetime) -> None:
    if conn.dialect.name == "postgresql":
        rows = [(r["resourceType"], r["id"], version, now, False, orjson.dumps(r).decode()) for r in resources]
        if version == 1:
            _copy(conn, "resource", COLUMNS, rows)
        else:
            conn.exec_driver_sql("CREATE TEMP TABLE IF NOT EXISTS changed (id text, content jsonb)")
            conn.exec_driver_sql("TRUNCATE changed")
            _copy(conn, "changed", ("id", "content"), ((row[1], row[5]) for row in rows))
            types = sorted({r["resourceType"] for r in resources})
            conn.execute(
                text(
                    "UPDATE resource SET version_id = :v, last_updated = :now, content = changed.content"
                    " FROM changed WHERE resource.id = changed.id AND resource.resource_type = ANY(:types)"
                ),
                {"v": version, "now": now, "types": types},
            )
        _copy(
            conn, "resource_history", (*COLUMNS, "method"), ((*row, "POST" if version == 1 else "PUT") for row in rows)
        )
        return
    current = [
        {
            "resource_type": r["resourceType"],
            "id": r["id"],
            "version_id": version,
            "last_updated": now,
            "deleted": False,
            "content": r,
        }
        for r in resources
    ]
    if version == 1:
        conn.execute(insert(resource), current)
    else:
        statement = (
            update(resource)
            .where(resource.c.resource_type == bindparam("b_type"), resource.c.id == bindparam("b_id"))
            .values(version_id=version, last_updated=now, content=bindparam("b_content"))
        )
        conn.execute(
            statement, [{"b_type": r["resource_type"], "b_id": r["id"], "b_content": r["content"]} for r in current]
        )
    conn.execute(insert(resource_history), [{**r, "method": "POST" if version == 1 else "PUT"} for r in current])


def seed(db: Database, episodes: int, units: list[str], seed_value: int) -> tuple[float, int]:
    """Insert the registry; (seconds, resources)."""
    rng = random.Random(seed_value)
    started, count = time.perf_counter(), 0
    now = datetime.now(UTC).replace(tzinfo=None)
    for start in range(0, episodes, BATCH):
        made: list[dict[str, Any]] = []
        for number in range(start, min(episodes, start + BATCH)):
            made.extend(episode_resources(number, rng, units, FIRST_VISIT, VISIT_DAYS))
        with db.writing() as conn:
            _write(conn, made, 1, now)
        count += len(made)
    if db.is_postgres:
        with db.writing() as conn:
            conn.exec_driver_sql("ANALYZE resource")
            conn.exec_driver_sql("ANALYZE resource_history")
    return time.perf_counter() - started, count


def change(db: Database, episodes: int, changes: int, units: list[str]) -> float:
    """Give `changes` episodes a second version of their EpisodeOfCare and clinician form; seconds taken."""
    rng = random.Random(99)
    started = time.perf_counter()
    changed: list[dict[str, Any]] = []
    for number in rng.sample(range(episodes), changes):
        made = episode_resources(number, rng, units, FIRST_VISIT, VISIT_DAYS, version=2)
        changed.extend(r for r in made if r["resourceType"] == "EpisodeOfCare" or r["id"].endswith("-c"))
    with db.writing() as conn:
        _write(conn, changed, 2, datetime.now(UTC).replace(tzinfo=None))
    return time.perf_counter() - started


def _evaluate(server: FhirServer, measures: list[dict[str, Any]]) -> tuple[float, int]:
    started = time.perf_counter()
    tallies = evaluate(server, measures, year_and_quarters(YEAR))
    return time.perf_counter() - started, len(tallies)


def run_backend(backend: str, episodes: int, units: int, changes: int, folder: Path) -> dict[str, Any]:
    unit_list = unit_ids(units)
    with temp_database(backend, folder) as url:
        db = Database(url)
        try:
            upgrade(db)
            settings = Settings(data_dir=folder / "data", database_url=url)
            server = FhirServer(settings, db=db)
            measures = [
                m for m in server.definitions.resources_of_type("Measure") if m["url"].startswith(MEASURE_PREFIX)
            ]
            seeded, resources = seed(db, episodes, unit_list, 7)
            print(f"{backend}: {resources:,} resources seeded in {seeded:.1f} s", flush=True)
            views = load_views(settings.views_dir)
            names = sorted({name for m in measures for name in views_of(library_of(server, m))})
            full = {name: refresh(server, views[name]) for name in names}
            full_s = sum(r.seconds for r in full.values())
            print(f"{backend}: full materialization {full_s:.1f} s", flush=True)
            fresh_s, groups = _evaluate(server, measures)
            again_s, _ = _evaluate(server, measures)
            print(f"{backend}: evaluate {fresh_s:.2f} s, again {again_s:.2f} s", flush=True)
            changed_s = change(db, episodes, changes, unit_list)
            incremental_s, _ = _evaluate(server, measures)
            print(f"{backend}: after {changes} changes, evaluate {incremental_s:.2f} s", flush=True)
        finally:
            db.dispose()
    return {
        "backend": backend,
        "episodes": episodes,
        "units": units,
        "resources": resources,
        "measures": len(measures),
        "periods": [p.label for p in year_and_quarters(YEAR)],
        "seed_seconds": seeded,
        "full_materialization_seconds": full_s,
        "full_materialization": {
            name: {"rows": r.rows, "resources": r.resources, "seconds": r.seconds} for name, r in full.items()
        },
        "evaluate_seconds": fresh_s,
        "evaluate_again_seconds": again_s,
        "tallies": groups,
        "changes": changes,
        "change_seconds": changed_s,
        "incremental_evaluate_seconds": incremental_s,
    }


def markdown(results: list[dict[str, Any]], machine: dict[str, Any]) -> str:
    lines = [
        "# NNRR indicators over a synthetic registry",
        "",
        f"- Machine: {machine['cpu']}, {machine['cores']} cores; Python {machine['python']}; SQLite "
        f"{machine['sqlite']}; PostgreSQL {machine['postgresql']}; commit {machine['commit']}; {machine['date']}",
        "- Episodes inserted directly with their forms, scores and Tasks (`bench/nnrr_registry.py`); "
        "`python -m bench.indicators`",
        f"- a: first full materialization of the five views; b: `evaluate()` of every NNRR Measure for {YEAR} and its "
        f"quarters, views fresh (target < {TARGET_S:.0f} s on PostgreSQL; best of two); c: the same after the changes "
        "(incremental refresh + counting)",
        "",
        "| Backend | Episodes | Resources | Measures | a: full views s | b: evaluate s | Changes | c: evaluate s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        best = min(r["evaluate_seconds"], r["evaluate_again_seconds"])
        lines.append(
            f"| {r['backend']} | {r['episodes']:,} | {r['resources']:,} | {r['measures']} | "
            f"{r['full_materialization_seconds']:.1f} | {best:.2f} | {r['changes']:,} | "
            f"{r['incremental_evaluate_seconds']:.2f} |"
        )
    lines += ["", "Full materialization per view (rows, seconds):", ""]
    for r in results:
        parts = [f"{name} {v['rows']:,} rows {v['seconds']:.1f} s" for name, v in r["full_materialization"].items()]
        lines.append(f"- {r['backend']}: " + "; ".join(parts))
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, default=100_000)
    parser.add_argument("--units", type=int, default=40)
    parser.add_argument("--changes", type=int, default=1_000)
    parser.add_argument("--backend", action="append", choices=BACKENDS, help="default: postgresql, then sqlite")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR)
    parser.add_argument("--no-record", action="store_true", help="print only")
    args = parser.parse_args()
    backends = args.backend or ["postgresql", "sqlite"]
    if "postgresql" in backends and not postgres_version():
        print("PostgreSQL is not reachable: skipping it (the target is a PostgreSQL figure)")
        backends = [b for b in backends if b != "postgresql"]
    results = []
    with tempfile.TemporaryDirectory(prefix="ryggrad-indicators-") as tmp:
        for backend in backends:
            results.append(run_backend(backend, args.episodes, args.units, args.changes, Path(tmp) / backend))
            print(json.dumps(results[-1], indent=2, default=str), flush=True)
    machine = describe()
    report = markdown(results, machine)
    print(report)
    if not args.no_record and results:
        record("indicators", report, {"machine": machine, "results": results}, args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
