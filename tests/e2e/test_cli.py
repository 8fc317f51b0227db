"""The ``ryggrad`` command as a user runs it: migrate, load, demo — each in its own data dir."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

from fhir_server.demo.history import EPISODES
from tests.paths import FIXTURES, requires_shared

BIN = Path(sys.executable).parent


def _ryggrad(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RYGGRAD_DATA_DIR": str(data_dir), "COLUMNS": "400"}
    env.pop("RYGGRAD_DATABASE_URL", None)
    return subprocess.run([BIN / "ryggrad", *args], env=env, capture_output=True, text=True, timeout=300)


def _count(data_dir: Path, resource_type: str) -> int:
    engine = create_engine(f"sqlite:///{data_dir / 'ryggrad.db'}")
    with engine.connect() as conn:
        sql = "SELECT count(*) FROM resource WHERE resource_type = :t AND NOT deleted"
        count = conn.execute(text(sql), {"t": resource_type}).scalar_one()
    engine.dispose()
    return count


def test_demo_is_idempotent_and_data_dirs_are_separate(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    assert _ryggrad(first, "migrate").returncode == 0
    made = _ryggrad(first, "demo", "--patients", "5")
    assert made.returncode == 0, made.stderr
    patients = _count(first, "Patient")
    assert patients == 5 + sum(EPISODES.values())  # and one for each episode of the registry history
    assert _count(first, "EpisodeOfCare") == sum(EPISODES.values())
    assert _count(first, "Organization") >= 3
    assert _count(first, "Appointment") == 5
    again = _ryggrad(first, "demo", "--patients", "5")
    assert "0 created" in again.stderr
    assert _count(first, "Patient") == patients
    assert not (second / "ryggrad.db").exists()
    assert _ryggrad(second, "migrate").returncode == 0
    assert _count(second, "Patient") == 0


def test_load_files_and_report_failures(tmp_path):
    data = tmp_path / "data"
    assert _ryggrad(data, "migrate").returncode == 0
    folder = tmp_path / "conformance"
    folder.mkdir()
    (folder / "vs.json").write_text(
        json.dumps({"resourceType": "ValueSet", "id": "demo-vs", "status": "draft", "url": "https://ryggrad.no/vs"})
    )
    (folder / "bad.json").write_text(json.dumps({"resourceType": "Patient", "id": "x", "gender": "nope"}))
    result = _ryggrad(data, "load", str(folder))
    assert result.returncode == 1
    assert "loaded 1 resources from 2 files" in result.stderr
    assert "bad.json: 400" in result.stderr
    assert _count(data, "ValueSet") == 1


@requires_shared
def test_load_a_bundle(tmp_path):
    data = tmp_path / "data"
    assert _ryggrad(data, "migrate").returncode == 0
    hospitals = FIXTURES / "synthea" / "0-hospitalInformation1625911868739.json.bz2"
    result = _ryggrad(data, "load", str(hospitals))
    assert result.returncode == 0, result.stderr
    assert _count(data, "Organization") > 0


def test_reindex_rebuilds_the_index(tmp_path):
    data = tmp_path / "data"
    assert _ryggrad(data, "migrate").returncode == 0
    assert _ryggrad(data, "demo", "--patients", "4").returncode == 0
    engine = create_engine(f"sqlite:///{data / 'ryggrad.db'}")
    with engine.begin() as conn:
        before = conn.execute(text("SELECT count(*) FROM search_token")).scalar_one()
        assert before > 0
        conn.execute(text("DELETE FROM search_token"))
    result = _ryggrad(data, "reindex")
    assert result.returncode == 0, result.stderr
    assert "reindexed" in result.stderr
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM search_token")).scalar_one() == before
    engine.dispose()
    assert _ryggrad(data, "reindex", "NoSuchType").returncode == 2


def test_token_comes_from_the_development_issuer_only(tmp_path, monkeypatch):
    """``ryggrad token`` prints a token the dev-mode server accepts; without RYGGRAD_AUTH=dev it refuses, and
    the development issuer never serves beyond 127.0.0.1."""
    import jwt as pyjwt

    from fhir_server.auth.dev_issuer import DEV_ISSUER
    from fhir_server.auth.principal import ORGNR_CHILD, PID

    monkeypatch.setenv("RYGGRAD_AUTH", "dev")
    made = _ryggrad(tmp_path, "token", "--role", "patient", "--patient", "01010012345", "--scope", "patient/Task.rs")
    assert made.returncode == 0, made.stderr
    claims = pyjwt.decode(made.stdout.strip(), options={"verify_signature": False})
    assert claims["iss"] == DEV_ISSUER and claims[PID] == "01010012345" and claims["scope"] == "patient/Task.rs"
    assert ORGNR_CHILD not in claims
    assert (tmp_path / "dev-issuer-key.pem").stat().st_mode & 0o077 == 0  # the key is the owner's alone
    assert _ryggrad(tmp_path, "token", "--role", "nobody").returncode == 2
    refused = _ryggrad(tmp_path, "serve", "--host", "0.0.0.0", "--port", "1")
    assert refused.returncode == 2 and "127.0.0.1 only" in refused.stderr
    monkeypatch.setenv("RYGGRAD_AUTH", "jwt")
    assert _ryggrad(tmp_path, "token", "--role", "clinician").returncode == 2


def test_a_token_for_a_unit_named_by_its_resh_id(tmp_path, monkeypatch):
    """The demo's units are Organizations with a RESH id and their own orgnr; ``ryggrad token --resh`` finds the
    orgnr the token must name (organisations map to registry units through Organization resources)."""
    import jwt as pyjwt

    from fhir_server.auth.principal import ORGNR_CHILD
    from fhir_server.norway.identifiers import ORGNR_SYSTEM, RESH_SYSTEM

    monkeypatch.setenv("RYGGRAD_AUTH", "dev")
    assert _ryggrad(tmp_path, "migrate").returncode == 0
    assert _ryggrad(tmp_path, "demo", "--patients", "2").returncode == 0
    engine = create_engine(f"sqlite:///{tmp_path / 'ryggrad.db'}")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT content FROM resource WHERE resource_type = 'Organization'")).all()
    engine.dispose()
    units = []
    for (content,) in rows:
        ids = {i["system"]: i["value"] for i in json.loads(content)["identifier"]}
        if RESH_SYSTEM in ids:
            units.append((ids[RESH_SYSTEM], ids[ORGNR_SYSTEM]))
    assert units, "the demo has registry units"
    resh, orgnr = units[0]
    made = _ryggrad(tmp_path, "token", "--role", "clinician", "--resh", resh)
    assert made.returncode == 0, made.stderr
    assert pyjwt.decode(made.stdout.strip(), options={"verify_signature": False})[ORGNR_CHILD] == orgnr
    unknown = _ryggrad(tmp_path, "token", "--role", "clinician", "--resh", "1")
    assert unknown.returncode == 2 and "RESH" in unknown.stdout + unknown.stderr


def test_make_run_loads_the_whole_conformance_package(tmp_path):
    """`make run` loads profiles/ whole: every R4 resource in it, and the subscription topics (R5 definitions the
    server reads from profiles/topics) skipped, not failed."""
    data = tmp_path / "data"
    assert _ryggrad(data, "migrate").returncode == 0
    profiles = Path(__file__).resolve().parents[2] / "profiles"
    result = _ryggrad(data, "load", str(profiles))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "skipped 5 files of no R4 resource type" in result.stderr
    assert _count(data, "PlanDefinition") == 2 and _count(data, "Questionnaire") == 7
