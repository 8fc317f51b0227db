"""The one clock: the system clock in production; moved forward for every process when travel is allowed."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from fhir_server.clock import parse_duration
from fhir_server.rest.context import utc_now
from fhir_server.server import FhirServer
from fhir_server.settings import Settings
from fhir_server.storage.engine import Database
from fhir_server.storage.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]


def _server(tmp: Path, travel: bool) -> FhirServer:
    url = f"sqlite:///{tmp / 'clock.db'}"
    db = Database(url)
    upgrade(db)
    return FhirServer(Settings(data_dir=tmp, database_url=url, clock_travel=travel), db=db)


def test_travel_moves_every_process_forward(tmp_path: Path, definitions):
    one, other = _server(tmp_path, True), _server(tmp_path, True)
    try:
        before = other.clock()
        one.time.travel(parse_duration("16d"))
        assert one.clock() - utc_now() > timedelta(days=15, hours=23)
        other.time._read_at = float("-inf")  # its cache is at most half a second old
        assert other.clock() - before >= timedelta(days=16)
        with pytest.raises(ValueError):
            one.time.travel(-1)  # never backwards
        from fhir_server.rest.messages import FhirRequest

        created = one.execute(FhirRequest("POST", "Basic", body={"resourceType": "Basic", "code": {"text": "x"}}))
        assert created.resource["meta"]["lastUpdated"] > (utc_now() + timedelta(days=15)).isoformat()  # same clock
    finally:
        one.close()
        other.close()


def test_production_clock_does_not_travel(tmp_path: Path):
    server = _server(tmp_path, False)
    try:
        with pytest.raises(RuntimeError):
            server.time.travel(60)
        assert abs((server.clock() - utc_now()).total_seconds()) < 1
    finally:
        server.close()


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("15m", 900), ("6h", 21600), ("16d", 1382400), ("1.5d", 129600)]
)
def test_durations(text: str, seconds: float):
    assert parse_duration(text) == seconds


def test_the_cli_travels(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RYGGRAD_")}
    env.update(RYGGRAD_DATA_DIR=str(tmp_path), RYGGRAD_CLOCK_TRAVEL="true")
    run = [sys.executable, "-m", "fhir_server.cli"]
    subprocess.run([*run, "migrate"], env=env, cwd=ROOT, check=True, capture_output=True, timeout=120)
    moved = subprocess.run(
        [*run, "clock", "--travel", "2d"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.strip() > (utc_now() + timedelta(days=1, hours=23)).isoformat()
    refused = subprocess.run(
        [*run, "clock", "--travel", "2d"],
        env={**env, "RYGGRAD_CLOCK_TRAVEL": "false"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2
