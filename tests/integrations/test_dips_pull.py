"""Pull mode (fhir_server/integrations/dips/pull.py) over real HTTP: the DIPS stand-in serves appointments behind
the HelseID stand-in's DPoP-bound tokens, the pull brings them into the registry page by page. The latest state
lands once; a second pull writes nothing; a run that breaks off is finished by the next; a refused token moves
nothing; an unmappable appointment is skipped and reported while the others land."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.testclient import TestClient

from fhir_server.integrations.dips.pull import PullRun, pull, read_state, watermark_of
from fhir_server.integrations.helseid import HelseIdClient, SigningKey
from fhir_server.server import FhirServer
from tests.standins.dips import OSLO_WINTER, SCOPE, DipsStandIn
from tests.standins.helseid import HelseIdStandIn, RegisteredClient

OWNER = "974589095"


def make_client(helseid: HelseIdStandIn, *, register: bool = True) -> HelseIdClient:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    client_id = f"ryggrad-pull-{uuid.uuid4().hex[:8]}"
    if register:
        public = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        helseid.register(RegisteredClient(client_id, public, {SCOPE}, orgnr_parent=OWNER))
    return HelseIdClient(
        token_endpoint=helseid.token_endpoint,
        client_id=client_id,
        signing_key=SigningKey(key, "RS256"),
        scopes=[SCOPE],
    )


@pytest.fixture
def helseid_client(helseid: HelseIdStandIn) -> HelseIdClient:
    return make_client(helseid)


@pytest.fixture
def name() -> str:
    """A watermark of the test's own (the session's server is shared)."""
    return f"test-{uuid.uuid4().hex[:12]}"


def run(server: FhirServer, dips: DipsStandIn, helseid_client: HelseIdClient, name: str, **options: Any) -> PullRun:
    options.setdefault("page_size", 2)
    return pull(
        server,
        url=dips.base,
        owner=OWNER,
        auth=helseid_client.auth(),
        name=name,
        client_id=helseid_client.client_id,
        **options,
    )


def held(client: TestClient, dips_id: str) -> dict[str, Any]:
    response = client.get(f"/fhir/Appointment/dips-{dips_id}")
    assert response.status_code == 200, response.text
    return response.json()


def versions(client: TestClient, dips_id: str) -> int:
    return len(client.get(f"/fhir/Appointment/dips-{dips_id}/_history").json()["entry"])


def counts(result: PullRun) -> dict[str, int]:
    return {outcome: n for outcome, n in result.counts.items() if n}


def test_a_pull_brings_the_latest_state_and_a_second_writes_nothing(server, client, dips, helseid_client, name):
    booked, moved, cancelled = dips.book(), dips.book(), dips.book()
    new_start = datetime(2027, 1, 12, 14, 0, tzinfo=OSLO_WINTER)
    dips.move(moved, new_start)
    dips.move(cancelled, new_start)
    dips.cancel(cancelled)

    first = run(server, dips, helseid_client, name)
    assert first.ok, first.error
    assert counts(first) == {"created": 3} and first.pages == 2
    assert held(client, booked)["status"] == "booked"
    assert held(client, moved)["start"] == "2027-01-12T14:00:00+01:00"
    assert held(client, moved)["meta"]["source"].endswith(f"/dips-appointment/{moved}/_history/2")
    assert held(client, cancelled)["status"] == "cancelled"
    last = watermark_of(dips.current(cancelled)["meta"]["lastUpdated"])
    assert first.watermark == last and read_state(server, name).watermark == last

    again = run(server, dips, helseid_client, name)
    assert again.ok and counts(again) == {"unchanged": 1}  # ge: the watermark's own appointment, again
    assert [versions(client, i) for i in (booked, moved, cancelled)] == [1, 1, 1]
    assert again.watermark == last

    dips.cancel(booked)
    later = run(server, dips, helseid_client, name)
    assert counts(later) == {"unchanged": 1, "updated": 1}
    assert held(client, booked)["status"] == "cancelled" and versions(client, booked) == 2
    assert any(line[1].startswith("/Appointment?") and "_lastUpdated=ge" in line[1] for line in dips.requests)


def test_a_run_broken_off_by_the_endpoint_is_finished_by_the_next(server, client, dips, helseid_client, name):
    ids = [dips.book() for _ in range(5)]
    broken = run(server, dips, helseid_client, name, after_page=lambda _: dips.fail_next(1))
    assert not broken.ok and "503" in broken.error and broken.pages == 1
    assert broken.watermark == watermark_of(dips.current(ids[1])["meta"]["lastUpdated"])
    state = read_state(server, name)
    assert state.watermark == broken.watermark and "503" in state.last_error
    assert client.get(f"/fhir/Appointment/dips-{ids[2]}").status_code == 404

    finished = run(server, dips, helseid_client, name)
    assert finished.ok and counts(finished) == {"unchanged": 1, "created": 3}
    assert [versions(client, i) for i in ids] == [1] * 5
    assert finished.watermark == watermark_of(dips.current(ids[-1])["meta"]["lastUpdated"])
    assert read_state(server, name).last_error is None


def test_a_crash_after_a_page_repeats_at_most_that_page(server, client, dips, helseid_client, name):
    ids = [dips.book() for _ in range(4)]

    def crash(result: PullRun) -> None:
        raise RuntimeError("the worker died")

    with pytest.raises(RuntimeError):
        run(server, dips, helseid_client, name, after_page=crash)
    assert read_state(server, name).watermark == watermark_of(dips.current(ids[1])["meta"]["lastUpdated"])
    dips.move(ids[0], datetime(2027, 3, 1, 8, 0, tzinfo=OSLO_WINTER))  # changed meanwhile: behind the rest now

    resumed = run(server, dips, helseid_client, name)
    assert resumed.ok and counts(resumed) == {"unchanged": 1, "created": 2, "updated": 1}
    assert [versions(client, i) for i in ids] == [2, 1, 1, 1]
    assert held(client, ids[0])["start"] == "2027-03-01T08:00:00+01:00"
    assert resumed.watermark == watermark_of(dips.current(ids[0])["meta"]["lastUpdated"])


def test_a_refused_token_fails_the_run_and_moves_nothing(server, client, dips, helseid, name):
    dips_id = dips.book()
    stranger = make_client(helseid, register=False)
    result = run(server, dips, stranger, name)
    assert not result.ok and "invalid_client" in result.error and result.pages == 0
    assert result.watermark is None and read_state(server, name).watermark is None
    assert "invalid_client" in read_state(server, name).last_error
    assert not any(path.startswith("/Appointment") for _, path in dips.requests)  # no token, no request
    assert client.get(f"/fhir/Appointment/dips-{dips_id}").status_code == 404
    outcome = result.operation_outcome()
    assert outcome["issue"][-1]["code"] == "transient" and "invalid_client" in outcome["issue"][-1]["diagnostics"]


def test_an_unmappable_appointment_is_reported_and_skipped(server, client, dips, helseid_client, name):
    before = dips.book()
    mystery = dips.book(appointment_type="mystery-visit")
    bad_fnr = dips.book(patient="14836808276")  # a check digit off
    after = dips.book()
    result = run(server, dips, helseid_client, name, page_size=3)
    assert result.ok and counts(result) == {"created": 2, "failed": 2}
    assert held(client, before)["status"] == held(client, after)["status"] == "booked"
    for skipped in (mystery, bad_fnr):
        assert client.get(f"/fhir/Appointment/dips-{skipped}").status_code == 404
    assert any(mystery in f and "mystery-visit" in f for f in result.failures)
    assert any(bad_fnr in f for f in result.failures)
    assert not any("14836808276" in f for f in result.failures)  # no person number in what is kept
    assert result.watermark == watermark_of(dips.current(after)["meta"]["lastUpdated"])
    state = read_state(server, name)
    assert state.failed == 2 and bad_fnr in state.last_failure and "14836808276" not in state.last_failure
    warnings = [i for i in result.operation_outcome()["issue"] if i["severity"] == "warning"]
    assert len(warnings) == 2

    dips.edit(mystery, lambda a: a["appointmentType"]["coding"][0].update(code="nnrr-first"))  # put right in DIPS
    again = run(server, dips, helseid_client, name)
    assert again.ok and counts(again) == {"unchanged": 1, "created": 1}
    assert held(client, mystery)["meta"]["source"].endswith(f"/dips-appointment/{mystery}/_history/2")


def test_the_command_runs_one_round_and_prints_the_counts(server, client, monkeypatch):
    from typer.testing import CliRunner

    from fhir_server.cli import app
    from fhir_server.settings import get_settings

    open_dips = DipsStandIn()  # no HelseID: RYGGRAD_DIPS_PULL_SCOPES unset calls without a token
    try:
        dips_id = open_dips.book()
        environment = {
            "RYGGRAD_DATA_DIR": str(server.settings.data_dir),
            "RYGGRAD_DATABASE_URL": server.settings.database_url,
            "RYGGRAD_BASE_URL": server.settings.base_url,
            "RYGGRAD_DIPS_PULL_URL": open_dips.base,
            "RYGGRAD_DIPS_PULL_OWNER": OWNER,
        }
        for variable, value in environment.items():
            monkeypatch.setenv(variable, value)
        get_settings.cache_clear()
        name = f"cli-{uuid.uuid4().hex[:8]}"
        ran = CliRunner().invoke(app, ["dips-pull", "--name", name])
        assert ran.exit_code == 0, ran.output
        assert "1 created, 0 updated, 0 unchanged, 0 stale, 0 failed (1 pages)" in ran.output
        assert held(client, dips_id)["status"] == "booked"
        open_dips.fail_next(1)
        failed = CliRunner().invoke(app, ["dips-pull", "--name", name])
        assert failed.exit_code == 1 and "503" in failed.output
        shown = CliRunner().invoke(app, ["dips-pull", "--name", name, "--status"])
        assert shown.exit_code == 0 and "stopped early" in shown.output and "watermark 20" in shown.output
    finally:
        get_settings.cache_clear()
        open_dips.close()
