"""Result files of the standalone benches (``record``) and the ratio of a figure to its limit."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from bench import RESULTS_DIR

BACKEND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def ratio(value: float, limit: float) -> float | None:
    return round(value / limit, 4) if limit else None


def record(name: str, text: str, payload: dict[str, Any], folder: Path = RESULTS_DIR) -> tuple[Path, Path]:
    """A bench's dated result files in ``folder``: ``<date>-<name>.md`` (the readable report) and ``.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{date.today().isoformat()}-{name}"
    md_path, json_path = folder / f"{stem}.md", folder / f"{stem}.json"
    md_path.write_text(text)
    json_path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return md_path, json_path
