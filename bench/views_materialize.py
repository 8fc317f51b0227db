"""Materialized views (``fhir_server.views.materialize``): a full refresh over many resources, then an
incremental one after a batch of updates, on SQLite and (when reachable) PostgreSQL. Not a test.

    .venv/bin/python -m bench.views_materialize [--resources 50000] [--updates 1000] [--backend sqlite ...]

Each backend gets a fresh database (``bench.databases.temp_database``, dropped afterwards) migrated to head.
Synthetic EpisodeOfCare resources shaped as the registry writes them are inserted straight into ``resource`` and
``resource_history`` (executemany, as ``bench.direct_insert`` does), then ``mappings/views/registry_episode.json``
is refreshed: first in full, then with nothing written (the cost of a refresh that finds no work), then after
``--updates`` episodes got a new version. Records ``bench/results/<date>-views-materialize.{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, func, insert, select, text, update

from bench import REPO_ROOT, RESULTS_DIR
from bench.databases import BACKENDS, postgres_version, temp_database
from bench.machine import describe
from bench.report import record
from fhir_server.storage.engine import Database
from fhir_server.storage.migrate import upgrade
from fhir_server.storage.schema import resource, resource_history
from fhir_server.views.materialize import Refreshed, refresh
from fhir_server.views.view_files import load_views

SD = "https://ryggrad.no/fhir/StructureDefinition"
VIEW = "registry_episode"
BATCH = 2000


class _Server:
    """What refresh needs of a FhirServer: its database (no definitions, no workers)."""

    def __init__(self, db: Database) -> None:
        self.db = db


def synthetic_episode(number: int, rng: random.Random, version: int = 1) -> dict[str, Any]:
    referral = date(2025, 1, 1) + timedelta(days=rng.randrange(600))
    visit = referral + timedelta(days=rng.randrange(10, 90))
    finished = rng.random() < 0.4
    period: dict[str, str] = {"start": f"{referral.isoformat()}T08:00:00+01:00"}
    if finished:
        period["end"] = f"{(visit + timedelta(days=365)).isoformat()}T08:00:00+01:00"
    return {
        "resourceType": "EpisodeOfCare",
        "id": f"ep{number}",
        "meta": {"versionId": str(version), "lastUpdated": "2026-12-07T10:00:00Z"},
        "extension": [
            {"url": f"{SD}/registry", "valueCoding": {"code": rng.choice(["nnrr", "opr"])}},
            {"url": f"{SD}/referral-date", "valueDate": referral.isoformat()},
            {"url": f"{SD}/visit-date", "valueDate": visit.isoformat()},
            {"url": f"{SD}/planned-consultation", "valueDateTime": f"{visit.isoformat()}T09:30:00+01:00"},
        ],
        "status": "finished" if finished else rng.choice(["active", "waitlist"]),
        "patient": {"reference": f"Patient/p{rng.randrange(number // 2 + 1)}"},
        "managingOrganization": {"reference": f"Organization/{rng.choice(['974589095', '974633574', '874716782'])}"},
        "period": period,
    }


def seed(db: Database, count: int, rng: random.Random) -> float:
    """Insert `count` episodes (current row and history row each); seconds taken."""
    started = time.perf_counter()
    now = datetime.now(UTC).replace(tzinfo=None)
    for start in range(0, count, BATCH):
        rows = [
            {
                "resource_type": "EpisodeOfCare",
                "id": f"ep{number}",
                "version_id": 1,
                "last_updated": now,
                "deleted": False,
                "content": synthetic_episode(number, rng),
            }
            for number in range(start, min(count, start + BATCH))
        ]
        with db.writing() as conn:
            conn.execute(insert(resource), rows)
            conn.execute(insert(resource_history), [{**row, "method": "POST"} for row in rows])
    return time.perf_counter() - started


def update_some(db: Database, count: int, total: int, rng: random.Random) -> float:
    """Give `count` random episodes a second version (current row replaced, history row added); seconds taken."""
    started = time.perf_counter()
    now = datetime.now(UTC).replace(tzinfo=None)
    chosen = rng.sample(range(total), count)
    rows = [
        {"b_id": f"ep{number}", "version_id": 2, "last_updated": now, "content": synthetic_episode(number, rng, 2)}
        for number in chosen
    ]
    statement = (
        update(resource)
        .where(resource.c.resource_type == "EpisodeOfCare", resource.c.id == bindparam("b_id"))
        .values(
            version_id=bindparam("version_id"), last_updated=bindparam("last_updated"), content=bindparam("content")
        )
    )
    history = [
        {
            "resource_type": "EpisodeOfCare",
            "id": row["b_id"],
            "version_id": 2,
            "last_updated": now,
            "method": "PUT",
            "deleted": False,
            "content": row["content"],
        }
        for row in rows
    ]
    with db.writing() as conn:
        conn.execute(statement, rows)
        conn.execute(insert(resource_history), history)
    return time.perf_counter() - started


def indicator_query_seconds(db: Database) -> tuple[float, int]:
    """A typical indicator over the table: finished episodes per unit and registry with a visit in 2025."""
    query = text(
        f"SELECT unit, registry, count(*) FROM view_{VIEW}"
        " WHERE status = 'finished' AND visit_date >= '2025-01-01' AND visit_date < '2026-01-01'"
        " GROUP BY unit, registry"
    )
    started = time.perf_counter()
    with db.reading() as conn:
        groups = len(conn.execute(query).all())
    return time.perf_counter() - started, groups


def run_backend(backend: str, resources: int, updates: int, folder: Path) -> dict[str, Any]:
    view = load_views(REPO_ROOT / "mappings" / "views")[VIEW]
    rng = random.Random(11)
    with temp_database(backend, folder) as url:
        db = Database(url)
        try:
            upgrade(db)
            seeded = seed(db, resources, rng)
            server: Any = _Server(db)
            full = refresh(server, view)
            idle = refresh(server, view)
            updated = update_some(db, updates, resources, rng)
            incremental = refresh(server, view)
            with db.reading() as conn:
                rows = conn.execute(select(func.count()).select_from(text(f"view_{VIEW}"))).scalar_one()
            query_s, groups = indicator_query_seconds(db)
        finally:
            db.dispose()
    return {
        "backend": backend,
        "resources": resources,
        "updates": updates,
        "seed_seconds": seeded,
        "update_seconds": updated,
        "table_rows": rows,
        "full": _figures(full),
        "idle": _figures(idle),
        "incremental": _figures(incremental),
        "indicator_query_seconds": query_s,
        "indicator_groups": groups,
    }


def _figures(refreshed: Refreshed) -> dict[str, Any]:
    figures = asdict(refreshed)
    figures["rows_per_s"] = refreshed.rows / refreshed.seconds if refreshed.seconds else 0.0
    return figures


def markdown(results: list[dict[str, Any]], machine: dict[str, Any]) -> str:
    lines = [
        "# Materialized views: full and incremental refresh",
        "",
        f"- Machine: {machine['cpu']}, {machine['cores']} cores; Python {machine['python']}; SQLite "
        f"{machine['sqlite']}; PostgreSQL {machine['postgresql']}; commit {machine['commit']}; {machine['date']}",
        f"- View `{VIEW}` (mappings/views, 10 columns, one row per EpisodeOfCare) over synthetic episodes inserted "
        "directly; `python -m bench.views_materialize`",
        "- full: first refresh (table built from every episode); idle: a refresh with nothing written; "
        "incremental: after the updates (each episode a new version)",
        "",
        "| Backend | Episodes | Full s | Full rows/s | Idle s | Updates | Incremental s | Recomputed | "
        "Indicator query s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['backend']} | {r['resources']:,} | {r['full']['seconds']:.2f} | {r['full']['rows_per_s']:,.0f} | "
            f"{r['idle']['seconds']:.3f} | {r['updates']:,} | {r['incremental']['seconds']:.3f} | "
            f"{r['incremental']['resources']:,} | {r['indicator_query_seconds']:.3f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resources", type=int, default=50_000)
    parser.add_argument("--updates", type=int, default=1_000)
    parser.add_argument("--backend", action="append", choices=BACKENDS, help="default: sqlite, and postgresql if up")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR)
    parser.add_argument("--no-record", action="store_true", help="print only")
    args = parser.parse_args()
    backends = args.backend or ["sqlite", *(["postgresql"] if postgres_version() else [])]
    results = []
    with tempfile.TemporaryDirectory(prefix="ryggrad-views-") as tmp:
        for backend in backends:
            results.append(run_backend(backend, args.resources, args.updates, Path(tmp) / backend))
            print(json.dumps(results[-1], indent=2, default=str))
    machine = describe()
    report = markdown(results, machine)
    print(report)
    if not args.no_record:
        record("views-materialize", report, {"machine": machine, "results": results}, args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
