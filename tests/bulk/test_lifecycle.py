"""An export's life besides the happy path: cancelled (and gone), expired (and gone), hidden from every other
caller, refused when asked wrongly, resumed without duplicates after its worker died, and audited."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from fhir_server.audit.events import audit_event
from fhir_server.auth.principal import Principal
from fhir_server.bulk import files as bulk_files
from fhir_server.bulk import runner as bulk_runner
from fhir_server.bulk.sweep import remove_expired, resume_stalled
from fhir_server.storage.schema import resource
from tests.bulk.conftest import Exporter, fresh_unit, job_id, keyed
from tests.rest.helpers import unique


def _observations(exporter: Exporter, auth: dict[str, str], n: int) -> str:
    tag = unique("life")
    for _ in range(n):
        exporter.made(
            {
                "resourceType": "Observation",
                "meta": {"tag": [{"system": "urn:test", "code": tag}]},
                "status": "final",
                "code": {"text": "x"},
            },
            auth,
        )
    return tag


def _outcome(response) -> dict:
    assert response.headers["content-type"].startswith("application/fhir+json")
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    return body


def test_delete_cancels_and_later_polls_are_404(exporter: Exporter):
    admin = exporter.token()
    tag = _observations(exporter, admin, 12)
    status = exporter.start(
        "$export", admin, {"_typeFilter": f"Observation?_tag=urn:test|{tag}", "_type": "Observation"}
    )
    manifest = exporter.wait(status, admin)
    folder = bulk_files.job_dir(exporter.server.settings, job_id(status))
    assert folder.is_dir()
    deleted = exporter.http.delete(status, headers=admin)
    assert deleted.status_code == 202
    assert exporter.http.get(status, headers=admin).status_code == 404
    assert exporter.http.get(manifest["output"][0]["url"], headers=admin).status_code == 404
    assert exporter.http.delete(status, headers=admin).status_code == 404
    assert not folder.exists()


def test_delete_stops_a_running_export(exporter: Exporter, monkeypatch):
    admin = exporter.token()
    _observations(exporter, admin, 12)
    status = exporter.start("$export", admin, {"_type": "Observation"})
    fetch = bulk_runner.ExportRun._fetch

    def fetch_then_cancel(self, query, patient):
        found = fetch(self, query, patient)
        assert exporter.http.delete(status, headers=admin).status_code == 202
        return found

    monkeypatch.setattr(bulk_runner.ExportRun, "_fetch", fetch_then_cancel)
    assert exporter.run_worker(status) == "stopped"
    assert exporter.http.get(status, headers=admin).status_code == 404
    assert not bulk_files.job_dir(exporter.server.settings, job_id(status)).exists()
    # a cancelled job is not run again, and the sweep removes its row once its worker has had time to stop
    monkeypatch.setattr(exporter.server.settings, "bulk_stale_after_s", 0.0)
    assert exporter.run_worker(status) == "skipped"
    assert job_id(status) in remove_expired(exporter.server)


def test_retention_removes_the_files_and_the_job(exporter: Exporter, monkeypatch):
    admin = exporter.token()
    _observations(exporter, admin, 1)  # something to export, whatever else this database holds
    status = exporter.start("$export", admin, {"_type": "Observation"})
    manifest = exporter.wait(status, admin)
    folder = bulk_files.job_dir(exporter.server.settings, job_id(status))
    assert folder.is_dir() and manifest["output"]
    assert job_id(status) not in remove_expired(exporter.server)  # within retention: kept
    monkeypatch.setattr(exporter.server.settings, "bulk_retention_s", 0.0)
    assert job_id(status) in remove_expired(exporter.server)
    assert not folder.exists()
    assert exporter.http.get(status, headers=admin).status_code == 404
    assert exporter.http.get(manifest["output"][0]["url"], headers=admin).status_code == 404


def test_only_the_caller_who_started_it_sees_the_export(exporter: Exporter):
    unit = fresh_unit()
    mine = exporter.token("local-lead", org=unit, client_id="bulk-client-a")
    _observations(exporter, mine, 3)
    status = exporter.start("$export", mine, {"_type": "Observation"})
    manifest = exporter.wait(status, mine)
    url = manifest["output"][0]["url"]
    others = [
        exporter.token("local-lead", org=unit, client_id="bulk-client-b"),  # another client of the same unit
        exporter.token("local-lead", org=fresh_unit(), client_id="bulk-client-a"),  # the same client, another unit
        exporter.token("clinician", org=unit, client_id="bulk-client-a"),  # another role
        exporter.token(),  # even the registry's administration
    ]
    for other in others:
        assert exporter.http.get(status, headers=other).status_code == 404
        assert exporter.http.get(url, headers=other).status_code == 404
        assert exporter.http.delete(status, headers=other).status_code == 404
    assert exporter.http.get(url).status_code == 401  # the files need a token
    assert exporter.http.get(status).status_code == 401
    again = exporter.token("local-lead", org=unit, client_id="bulk-client-a")  # a new token of the same caller
    assert exporter.http.get(url, headers=again).status_code == 200
    assert exporter.http.get(f"{url[:-8]}9.ndjson", headers=again).status_code == 404
    assert exporter.http.get(url.replace("Observation-1", "..%2F..%2Fryggrad"), headers=again).status_code == 404


@pytest.mark.parametrize(
    ("path", "params", "prefer", "status", "says"),
    [
        ("$export", {"_type": "Observation"}, None, 400, "respond-async"),
        ("$export", {"_outputFormat": "text/csv"}, "respond-async", 400, "_outputFormat"),
        ("$export", {"_type": "Observation,Nonsense"}, "respond-async", 400, "Nonsense"),
        ("$export", {"_since": "yesterday"}, "respond-async", 400, "_since"),
        ("$export", {"_since": "2026-01-01T00:00:00"}, "respond-async", 400, "time zone"),
        ("$export", {"_typeFilter": "Observation?_sort=date"}, "respond-async", 400, "_sort"),
        ("$export", {"_typeFilter": "Observation?nonsense=1"}, "respond-async", 400, "nonsense"),
        ("$export", {"_typeFilter": "status=final"}, "respond-async", 400, "_typeFilter"),
        ("$export", {"_elements": "id"}, "respond-async", 400, "_elements"),
        ("$export", {"includeAssociatedData": "LatestProvenanceResources"}, "respond-async", 400, "includeAsso"),
        ("$export", {"_until": "2026-01-01T00:00:00Z"}, "respond-async", 400, "_until"),
        ("Patient/$export", {"_type": "Organization"}, "respond-async", 400, "Patient compartment"),
        ("Group/no-such-group/$export", None, "respond-async", 404, "Group/no-such-group"),
    ],
)
def test_bad_requests_get_an_operation_outcome(exporter: Exporter, path, params, prefer, status, says):
    response = exporter.kick_off(path, exporter.token(), params, prefer=prefer)
    assert response.status_code == status, response.text
    assert says in str(_outcome(response))


def test_lenient_handling_ignores_what_it_does_not_support(exporter: Exporter):
    admin = exporter.token()
    response = exporter.kick_off(
        "$export", admin, {"_type": "Patient", "_elements": "id"}, prefer="respond-async, handling=lenient"
    )
    assert response.status_code == 202, response.text
    assert "_elements" in str(_outcome(response))
    exporter.wait(response.headers["content-location"], admin)


def test_who_may_export_what(exporter: Exporter, monkeypatch):
    unit = fresh_unit()
    clinician = exporter.token("clinician", org=unit)
    refused = exporter.kick_off("$export", clinician, {"_type": "AuditEvent"})
    assert refused.status_code == 403 and "AuditEvent" in str(_outcome(refused))
    clerk = exporter.token("clerk", org=unit)
    assert exporter.kick_off("$export", clerk, {"_type": "Observation"}).status_code == 403  # its role forbids it
    assert exporter.kick_off("$export", exporter.token("patient", patient="01010112345")).status_code == 403
    no_unit = exporter.token("local-lead")
    assert exporter.kick_off("$export", no_unit).status_code == 403
    # a client may have so many exports under way at once
    monkeypatch.setattr(exporter.server.settings, "bulk_max_jobs_per_client", 1)
    lead = exporter.token("local-lead", org=unit, client_id=unique("busy"))
    first = exporter.start("$export", lead, {"_type": "Observation"})
    busy = exporter.kick_off("$export", lead, {"_type": "Observation"})
    assert busy.status_code == 429 and busy.headers["retry-after"]
    exporter.wait(first, lead)
    exporter.start("$export", lead, {"_type": "Observation"})


class _Killed(BaseException):
    """The worker process dying mid-page (no handler runs)."""


def test_a_job_whose_worker_died_is_resumed_without_duplicates(exporter: Exporter, monkeypatch):
    admin = exporter.token()
    tag = _observations(exporter, admin, 23)
    params = {"_type": "Observation", "_typeFilter": f"Observation?_tag=urn:test|{tag}"}
    status = exporter.start("$export", admin, params)
    append = bulk_files.ExportFiles.append
    calls = {"n": 0}

    def append_then_die(self, resources, *, error=False):
        written = append(self, resources, error=error)
        calls["n"] += 1
        if calls["n"] == 3:  # written to disk, not yet recorded in the checkpoint
            raise _Killed
        return written

    with monkeypatch.context() as patched:
        patched.setattr(bulk_files.ExportFiles, "append", append_then_die)
        with pytest.raises(_Killed):
            exporter.run_worker(status, worker="first")
    running = exporter.http.get(status, headers=admin)
    assert running.status_code == 202 and "%" in running.headers["x-progress"]
    assert exporter.run_worker(status, worker="second") == "skipped"  # the first still holds it
    assert resume_stalled(exporter.server) == []  # not stale yet
    monkeypatch.setattr(exporter.server.settings, "bulk_stale_after_s", 0.0)
    assert job_id(status) in resume_stalled(exporter.server)
    assert exporter.run_worker(status, worker="second") == "completed"
    manifest = exporter.wait(status, admin)
    found = exporter.download(manifest, admin)["Observation"]
    assert len(found) == 23 and keyed(found) == keyed(
        exporter.search("Observation", admin, [("_tag", f"urn:test|{tag}")])
    )
    folder = bulk_files.job_dir(exporter.server.settings, job_id(status))
    assert sorted(p.name for p in folder.glob("*.ndjson")) == sorted(
        i["url"].rsplit("/", 1)[1] for i in manifest["output"]
    )


def test_kick_off_download_and_delete_are_audited(exporter: Exporter):
    client = unique("audited")
    auth = exporter.token(client_id=client)
    tag = unique("audited-tag")
    exporter.made(
        {"resourceType": "Patient", "gender": "male", "meta": {"tag": [{"system": "urn:test", "code": tag}]}}, auth
    )
    status = exporter.start("$export", auth, {"_type": "Patient", "_typeFilter": f"Patient?_tag=urn:test|{tag}"})
    manifest = exporter.wait(status, auth)  # one poll answered 202, one 200
    assert len(exporter.download(manifest, auth)) == 1 and len(manifest["output"]) == 1
    assert exporter.http.delete(status, headers=auth).status_code == 202
    exporter.server.audit.flush()
    with exporter.server.db.reading() as conn:
        rows = conn.execute(select(resource.c.content).where(resource.c.resource_type == "AuditEvent")).all()
    events = [r.content for r in rows if f"'{client}'" in str(r.content["agent"][0])]
    kick_offs = [e for e in events if e["subtype"][0]["code"] == "operation-system"]
    assert len(kick_offs) == 1 and kick_offs[0]["entity"][0]["type"]["code"] == "$export"
    assert kick_offs[0]["outcome"] == "0"
    bulk = [e for e in events if e["subtype"][0]["code"] == "operation"]
    assert len(bulk) == 4  # two polls, the download, the deletion
    assert all(e["entity"] == [{"type": {"code": "bulk"}}] and e["outcome"] == "0" for e in bulk)


def test_a_callers_study_is_named_in_every_audit_event():
    researcher = Principal(role="researcher", client_id="r", study="release-7")
    event = audit_event(
        principal=researcher, method="GET", path="$export", query=[], status=202, recorded=datetime(2026, 1, 1)
    )
    assert {
        "what": {"reference": "ResearchStudy/release-7"},
        "type": {"system": "http://hl7.org/fhir/resource-types", "code": "ResearchStudy"},
    } in event["entity"]
    staff = audit_event(
        principal=Principal(role="clinician", org="1"),
        method="GET",
        path="Patient",
        query=[],
        status=200,
        recorded=datetime(2026, 1, 1),
    )
    assert not any("ResearchStudy" in str(e) for e in staff.get("entity", []))
