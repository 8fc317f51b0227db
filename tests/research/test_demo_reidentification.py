"""The re-identification check over the demo data (issue 11): the demo loaded into a database of its own, then
everything a researcher of the demo release can take out — a Bulk Data export of every released type (the
Patient-level export, the same searches per patient, is checked on the smaller world of test_research_exports),
every form view as CSV and parquet through ``ryggrad export``'s code, every page of every
search — holds no person number, name, street address, full birth date or real patient id of any demo patient."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from starlette.testclient import TestClient

from fhir_server.auth.principal import Principal
from fhir_server.auth.scopes import parse_scopes
from fhir_server.datasets.export import export, study_views
from fhir_server.definitions.registry import Definitions
from fhir_server.demo import build_demo_bundle
from fhir_server.http.app import create_app
from fhir_server.norway.identifiers import is_valid_dnr, is_valid_fnr
from fhir_server.research.release import DEMO_STUDY
from fhir_server.rest.messages import FhirRequest
from fhir_server.server import FhirServer
from tests.bulk.conftest import running_exporter
from tests.conftest import bearer
from tests.research.conftest import fresh_server

RELEASED = ("Patient", "EpisodeOfCare", "QuestionnaireResponse", "Observation", "Condition", "Procedure")
TODAY = date(2026, 12, 7)


@pytest.fixture(scope="module")
def demo(backend: str, definitions: Definitions, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirServer]:
    with fresh_server(backend, definitions, tmp_path_factory.mktemp(f"demo-{backend}")) as server:
        bundle = build_demo_bundle(2026, today=TODAY, patients=20)
        loaded = server.execute(FhirRequest("POST", "", body=bundle))
        assert loaded.status == 200
        yield server


def _secrets(server: FhirServer) -> list[str]:
    """What would identify a demo patient: person numbers, names, streets with house numbers, birth dates, ids."""
    found: set[str] = set()
    page = server.execute(FhirRequest("GET", "Patient", [("_count", "1000")]))
    patients = [e["resource"] for e in (page.resource or {}).get("entry", [])]
    assert len(patients) > 50
    for patient in patients:
        found.add(patient["id"])
        found.update(i["value"] for i in patient.get("identifier", []))
        found.add(patient.get("birthDate", ""))
        for name in patient.get("name", []):
            found.add(name.get("family", ""))
            found.update(f"{given} {name.get('family', '')}" for given in name.get("given", []))
        for address in patient.get("address", []):
            found.update(address.get("line", []))
    return sorted(s for s in found if len(s) >= 5)


def _person_numbers(text: str) -> list[str]:
    return [n for n in re.findall(r"(?<!\d)\d{11}(?!\d)", text) if is_valid_fnr(n) or is_valid_dnr(n)]


def test_nothing_a_demo_researcher_takes_out_identifies_anyone(demo: FhirServer, tmp_path: Path):
    secrets = _secrets(demo)
    texts: list[str] = []
    researcher = {"Authorization": bearer(demo, "researcher")["Authorization"]}  # no study: the demo release
    with running_exporter(demo, tmp_path / "bulk", bulk_page_size=500, bulk_file_max_resources=10_000) as exporter:
        researcher_there = exporter.token("researcher")  # that server's own development issuer
        manifest, found = exporter.export("$export", researcher_there, {"_type": ",".join(RELEASED)})
        assert manifest["error"] == [], manifest
        texts.append(json.dumps(found))
        exported_patients = len(found.get("Patient", []))
    principal = Principal(
        role="researcher", client_id="ryggrad-cli", study=DEMO_STUDY, permissions=parse_scopes("user/*.rs")
    )
    views = study_views(demo, principal, DEMO_STUDY)
    assert views
    for form in ("csv", "parquet"):
        for written in export(demo, principal, views, form, tmp_path / form):
            path = written.path
            if path.suffix == ".parquet":
                texts.append(json.dumps(pq.read_table(path).to_pylist(), default=str))
            else:
                texts.append(path.read_text("utf-8"))
    with TestClient(create_app(server=demo), headers=researcher) as client:
        for kind in RELEASED:
            url: str | None = f"/fhir/{kind}?_count=200"
            while url:
                page = client.get(url)
                assert page.status_code == 200, page.text
                texts.append(page.text)
                url = next((link["url"] for link in page.json().get("link", []) if link["relation"] == "next"), None)
    everything = "\n".join(texts)
    assert len(everything) > 100_000
    assert [s for s in secrets if s in everything] == []
    assert _person_numbers(everything) == []
    total = len([s for s in secrets if len(s) == 36])  # the real Patient ids (UUIDs)
    assert 0 < exported_patients < total  # those whose consent covers research, not all
