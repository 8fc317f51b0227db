"""What one suite run was asked for: backend, sections, sizes and durations (``python -m bench.run``)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from bench import RESULTS_DIR

#: The sections, in the order they run and are reported.
SECTIONS = (
    "ingest",
    "read",
    "create",
    "qr-write",
    "validation",
    "search",
    "flow",
    "notifications",
    "indicators",
    "views",
    "portal",
    "memory",
)
#: ingest, read and create share one server and one database (reads are of the ingested Patients).
CORE = ("ingest", "read", "create")


@dataclass
class SuiteOptions:
    backend: str
    sections: tuple[str, ...] = SECTIONS
    quick: bool = False
    duration_s: int = 10  # each wrk throughput run
    connections: int = 4
    api_processes: int = field(default_factory=lambda: os.cpu_count() or 1)  # ryggrad serve --workers, core section
    size: int = 100_000  # the search population
    seed: int = 2026
    repetitions: int = 30  # per search query
    database_url: str | None = None  # a search population loaded before (kept)
    output: Path = RESULTS_DIR
    wrk: str | None = None
    extra: dict[str, int] = field(default_factory=dict)

    @property
    def latency_duration_s(self) -> int:
        return max(2, self.duration_s // 2)

    def wants(self, section: str) -> bool:
        return section in self.sections
