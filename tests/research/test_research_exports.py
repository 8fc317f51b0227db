"""Researchers' exports come out of the same de-identifying layer as their searches: a Bulk Data ``$export`` over
real HTTP (system and Patient level), ``ViewDefinition/$run`` and ``ryggrad export``'s code path — each holds no
person number, name, street or real id of any patient, only the release's patients under its pseudonyms — and
every export is audited with the study it served."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from starlette.testclient import TestClient

from fhir_server.auth.principal import Principal
from fhir_server.datasets.export import export, study_views
from fhir_server.server import FhirServer
from tests.bulk.conftest import Exporter
from tests.conftest import bearer
from tests.research.test_researcher_access import World

PRE_FORM_VIEW = "https://ryggrad.no/fhir/ViewDefinition/form_nnrr_pre_consultation"


def _leaks(known: World, text: str) -> list[str]:
    return [secret for secret in known.secrets() if secret and secret in text]


def test_a_researchers_bulk_export_is_de_identified(exporter: Exporter, world: World):
    auth = exporter.token("researcher", study=world.studies["nnrr"])
    wanted = {"_type": "Patient,EpisodeOfCare,QuestionnaireResponse,Observation"}
    manifest, found = exporter.export("$export", auth, wanted)
    assert manifest["error"] == [], manifest
    text = json.dumps(found)
    assert _leaks(world, text) == []
    (patient,) = found["Patient"]
    assert set(patient) <= {"resourceType", "id", "meta", "gender", "birthDate"} and len(patient["birthDate"]) == 4
    (response,) = found["QuestionnaireResponse"]
    assert response["subject"]["reference"] == f"Patient/{patient['id']}"
    assert len(found["EpisodeOfCare"]) == 1 and len(found["Observation"]) == 1
    # the same pseudonyms as the researcher's searches on this server
    searched = exporter.search("Patient", auth)
    assert [p["id"] for p in searched] == [patient["id"]]


def test_a_researchers_patient_level_export_is_de_identified(exporter: Exporter, world: World):
    auth = exporter.token("researcher", study=world.studies["opr"])
    manifest, found = exporter.export("Patient/$export", auth)
    assert manifest["error"] == [], manifest
    assert _leaks(world, json.dumps(found)) == []
    assert {kind for kind, lines in found.items() if lines} >= {"Patient", "EpisodeOfCare", "QuestionnaireResponse"}
    assert not found.get("Consent") and not found.get("AuditEvent") and not found.get("Task")


def test_a_researchers_group_export_covers_only_the_released_members(exporter: Exporter, client, world: World):
    members = [world.people[k].id for k in ("consenting", "registry-only", "no-consent")]
    group = {
        "resourceType": "Group",
        "type": "person",
        "actual": True,
        "name": "Cohort of Forskerveien",
        "member": [{"entity": {"reference": f"Patient/{m}"}} for m in members],
    }
    assert client.post("/fhir/Group", json=group).status_code == 201
    auth = exporter.token("researcher", study=world.studies["nnrr"])
    (shown,) = exporter.search("Group", auth)
    assert len(shown["member"]) == 1 and "name" not in shown  # only the covered member, not even counted
    (patient,) = exporter.search("Patient", auth)
    assert shown["member"][0]["entity"]["reference"] == f"Patient/{patient['id']}"
    manifest, found = exporter.export(f"Group/{shown['id']}/$export", auth)
    assert manifest["error"] == [], manifest
    assert [p["id"] for p in found["Patient"]] == [patient["id"]]
    assert found["QuestionnaireResponse"] and _leaks(world, json.dumps(found)) == []


def test_the_servers_real_id_header_means_nothing_over_http(client, server: FhirServer, world: World):
    person = world.people["consenting"]
    headers = {**bearer(server, "researcher", study=world.studies["nnrr"]), "X-Ryggrad-Real-Ids": "yes"}
    assert client.get(f"/fhir/Patient/{person.id}", headers=headers).status_code == 404


def test_views_run_for_a_researcher_over_the_de_identified_data(
    client: TestClient,
    server: FhirServer,
    world: World,
):
    headers = bearer(server, "researcher", study=world.studies["nnrr"])
    parameters = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "viewReference", "valueReference": {"reference": PRE_FORM_VIEW}},
            {"name": "_format", "valueCode": "csv"},
        ],
    }
    response = client.post("/fhir/ViewDefinition/$run", json=parameters, headers=headers)
    assert response.status_code == 200, response.text
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 1 and _leaks(world, response.text) == []
    patients = client.get("/fhir/Patient", headers=headers).json()["entry"]
    assert rows[0]["patient"] == f"Patient/{patients[0]['resource']['id']}"


def test_the_export_command_writes_de_identified_files(server: FhirServer, world: World, tmp_path: Path):
    researcher = Principal(
        role="researcher", client_id="ryggrad-cli", study=world.studies["nnrr"], permissions=_read_scopes()
    )
    written = export(server, researcher, study_views(server, researcher, world.studies["nnrr"]), "csv", tmp_path)
    text = "\n".join(p.read_text() for p in tmp_path.rglob("*") if p.is_file() and p.suffix in (".csv", ".md"))
    assert written and _leaks(world, text) == []
    assert "form_nnrr_pre_consultation" in " ".join(p.name for p in tmp_path.rglob("*"))


def test_every_export_is_audited_with_its_study(client: TestClient, server: FhirServer, world: World):
    headers = bearer(server, "researcher", study=world.studies["nnrr"])
    assert client.get("/fhir/QuestionnaireResponse", headers=headers).status_code == 200
    server.audit.flush()  # reads are audited in short batches
    study = f"ResearchStudy/{world.studies['nnrr']}"
    events = client.get("/fhir/AuditEvent", params={"entity": study, "_count": "200"}).json().get("entry", [])
    assert events, "no AuditEvent names the study"
    subtypes = {c["code"] for e in events for c in e["resource"].get("subtype", [])}
    assert subtypes & {"search-type", "read", "export", "operation"}


def _read_scopes():  # the scopes a researcher's token carries
    from fhir_server.auth.scopes import parse_scopes

    return parse_scopes("user/*.rs")
