"""Loading a population in-process through ``FhirServer.execute`` — the real write path (validation, reference
resolution, indexing), without HTTP — with a progress bar; then ``ANALYZE`` so the planner knows the tables."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from sqlalchemy import text

from bench import REPO_ROOT
from bench.population import GeneratedBundle, Population
from fhir_server.rest.messages import FhirRequest
from fhir_server.server import FhirServer
from fhir_server.settings import Settings
from fhir_server.storage.engine import Database
from fhir_server.storage.migrate import upgrade

console = Console(stderr=True)


@dataclass
class LoadReport:
    resources: int = 0
    bundles: int = 0
    execute_s: float = 0.0  # inside FhirServer.execute
    generate_s: float = 0.0  # building the bundles
    analyze_s: float = 0.0
    types: Counter[str] = field(default_factory=Counter)
    database_bytes: int | None = None
    timeline: list[tuple[int, float]] = field(default_factory=list)  # (resources, execute seconds) per bundle

    def rate_by_tenth(self) -> list[float]:
        """Resources/s in each tenth of the load (by bundles): does ingest slow down as the tables grow?"""
        tenths: list[float] = []
        n = len(self.timeline)
        for k in range(10):
            part = self.timeline[k * n // 10 : (k + 1) * n // 10]
            seconds = sum(s for _, s in part)
            if part and seconds:
                tenths.append(round(sum(r for r, _ in part) / seconds, 1))
        return tenths

    @property
    def per_s(self) -> float:
        return self.resources / self.execute_s if self.execute_s else 0.0

    def as_json(self) -> dict[str, Any]:
        wall = self.execute_s + self.generate_s
        return {
            "resources": self.resources,
            "bundles": self.bundles,
            "execute_s": round(self.execute_s, 2),
            "generate_s": round(self.generate_s, 2),
            "analyze_s": round(self.analyze_s, 2),
            "resources_per_s": round(self.per_s, 1),
            "resources_per_s_with_generation": round(self.resources / wall, 1) if wall else 0.0,
            "resources_per_s_by_tenth": self.rate_by_tenth(),
            "types": dict(self.types.most_common()),
            "database_bytes": self.database_bytes,
        }


def _location_reference(location: str) -> str:
    """``…/Type/id/_history/1`` → ``Type/id``."""
    parts = location.rstrip("/").split("/")
    return "/".join(parts[-4:-2]) if len(parts) >= 4 and parts[-2] == "_history" else "/".join(parts[-2:])


def _execute(server: FhirServer, bundle: GeneratedBundle) -> list[dict[str, Any]]:
    response = server.execute(FhirRequest("POST", "", body=bundle.body, headers={"prefer": "return=minimal"}))
    entries = (response.resource or {}).get("entry", [])
    if response.status != 200 or len(entries) != bundle.resources:
        detail = orjson.dumps(response.resource, option=orjson.OPT_INDENT_2).decode()[:3000]
        raise RuntimeError(f"the transaction failed with HTTP {response.status}:\n{detail}")
    return [e["response"] for e in entries]


def bench_server(database_url: str, data_dir: Path, **overrides: Any) -> FhirServer:
    """An in-process server on ``database_url`` (migrated first); ``overrides``: more settings."""
    db = Database(database_url)
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        profiles_dir=REPO_ROOT / "profiles",
        base_url="http://bench/fhir",
        **overrides,
    )
    upgrade(db, base_url=settings.base_url)
    return FhirServer(settings, db=db)


@contextmanager
def _progress(total: int, label: str) -> Iterator[Any]:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:>7} resources/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(label, total=total, rate="")

        def advance(done: int, rate: float) -> None:
            progress.update(task, advance=done, rate=f"{rate:,.0f}")

        yield advance


def load_population(server: FhirServer, population: Population, label: str = "loading") -> LoadReport:
    """Every Bundle of ``population`` through ``server.execute``, one transaction each."""
    report = LoadReport()
    with _progress(population.size, label) as advance:
        started = time.perf_counter()
        shared = population.shared_bundle()
        report.generate_s += time.perf_counter() - started
        started = time.perf_counter()
        responses = _execute(server, shared)
        report.execute_s += time.perf_counter() - started
        refs = {
            entry["fullUrl"]: _location_reference(resp["location"])
            for entry, resp in zip(shared.body["entry"], responses, strict=True)
        }
        _count(report, shared)
        advance(shared.resources, report.per_s)
        bundles = population.patient_bundles(refs)
        while True:
            started = time.perf_counter()
            bundle = next(bundles, None)
            report.generate_s += time.perf_counter() - started
            if bundle is None:
                break
            started = time.perf_counter()
            _execute(server, bundle)
            seconds = time.perf_counter() - started
            report.execute_s += seconds
            report.timeline.append((bundle.resources, seconds))
            _count(report, bundle)
            advance(bundle.resources, report.per_s)
    return report


def _count(report: LoadReport, bundle: GeneratedBundle) -> None:
    report.resources += bundle.resources
    report.bundles += 1
    report.types.update(bundle.types)


def analyze(db: Database) -> float:
    """``VACUUM ANALYZE`` (PostgreSQL) or ``ANALYZE`` (SQLite): the state a database is in some time after a load."""
    started = time.perf_counter()
    if db.is_postgres:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
    return time.perf_counter() - started


def database_bytes(db: Database) -> int | None:
    if db.is_postgres:
        with db.engine.connect() as conn:
            return int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
    path = db.url.database
    return Path(path).stat().st_size if path and Path(path).exists() else None
