"""``ViewDefinition/$run``: a registry view (by reference, by name in the URL, or inline) run over what the caller
may search, answered as the file itself — JSON, NDJSON, CSV or Parquet — and errors as OperationOutcomes."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import orjson
import pyarrow.parquet as pq
import pytest

from fhir_server.operations.registry import find
from fhir_server.rest.messages import FhirRequest
from tests.conftest import bearer
from tests.profiles.test_registry_forms import answered_response
from tests.rest.helpers import patient, unique
from tests.views.test_form_datasets import PROFILES

RUN = "/fhir/ViewDefinition/$run"
VIEW = "ViewDefinition/form_opr_follow_up"


def _form(key: str) -> dict[str, Any]:
    return json.loads((PROFILES / f"Questionnaire-{key}.json").read_text(encoding="utf-8"))


@pytest.fixture
def two_patients(client) -> list[str]:
    """Two patients, each with a completed OPR follow-up (pgic 2 and 3)."""
    form = _form("opr-follow-up")
    ids = []
    for pgic in ("2", "3"):
        pid = unique("run")
        assert client.put(f"/fhir/Patient/{pid}", json=patient(id=pid)).status_code in (200, 201)
        response = answered_response(form, "completed")
        response["subject"] = {"reference": f"Patient/{pid}"}
        response["item"][0]["answer"] = [
            {"valueCoding": {"system": "https://ryggrad.no/fhir/CodeSystem/scale-pgic", "code": pgic}}
        ]
        assert client.post("/fhir/QuestionnaireResponse", json=response).status_code == 201
        ids.append(pid)
    return ids


def _parameters(*parameters: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Parameters", "parameter": list(parameters)}


def _run(client, form: str, patients: list[str], *extra: dict[str, Any], headers: dict | None = None) -> Any:
    body = _parameters(
        {"name": "viewReference", "valueReference": {"reference": VIEW}},
        {"name": "_format", "valueCode": form},
        *({"name": "patient", "valueReference": {"reference": f"Patient/{p}"}} for p in patients),
        *extra,
    )
    return client.post(RUN, json=body, headers=headers or {})


def test_csv(client, two_patients):
    answer = _run(client, "csv", two_patients)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(answer.text)))
    assert {line["patient"]: line["pgic"] for line in lines} == {
        f"Patient/{two_patients[0]}": "2",
        f"Patient/{two_patients[1]}": "3",
    }
    assert next(iter(lines))["eq5d_1"] == "1" and next(iter(lines))["status"] == "completed"
    headless = _run(client, "csv", two_patients[:1], {"name": "header", "valueBoolean": False})
    assert headless.text.count("\n") == 1 and not headless.text.startswith("response,")


def test_ndjson_and_json(client, two_patients):
    answer = _run(client, "ndjson", two_patients)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/x-ndjson")
    rows = [orjson.loads(line) for line in answer.content.splitlines()]
    assert sorted(row["pgic"] for row in rows) == [2, 3]
    as_json = _run(client, "json", two_patients[:1])
    assert as_json.headers["content-type"].startswith("application/json")
    (row,) = as_json.json()
    assert row["patient"] == f"Patient/{two_patients[0]}" and row["pgic"] == 2 and row["form_version"] == "1.0.0"


def test_parquet_reads_back_typed(client, two_patients):
    answer = _run(client, "parquet", two_patients)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/vnd.apache.parquet"
    table = pq.read_table(io.BytesIO(answer.content))
    assert table.num_rows == 2
    assert str(table.schema.field("pgic").type) == "int64" and str(table.schema.field("patient").type) == "string"
    assert sorted(table.column("pgic").to_pylist()) == [2, 3]
    assert table.column_names[:6] == ["response", "patient", "episode", "status", "authored", "form_version"]


def test_limit_name_in_the_url_and_inline_views(client, two_patients):
    limited = _run(client, "ndjson", two_patients, {"name": "_limit", "valueInteger": 1})
    assert len(limited.content.splitlines()) == 1
    by_name = client.get(f"/fhir/{VIEW}/$run", params={"patient": f"Patient/{two_patients[0]}"})
    assert by_name.status_code == 200, by_name.text  # GET: json over HTTP (the URL's _format is JSON's alone)
    inline = {
        "resourceType": "ViewDefinition",
        "name": "mine",
        "resource": "Patient",
        "select": [{"column": [{"name": "id", "path": "id"}, {"name": "gender", "path": "gender"}]}],
    }
    body = _parameters(
        {"name": "viewResource", "resource": inline},
        {"name": "_format", "valueCode": "json"},
        {"name": "patient", "valueReference": {"reference": f"Patient/{two_patients[1]}"}},
    )
    answer = client.post(RUN, json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json() == [{"id": two_patients[1], "gender": None}]
    given = _parameters(
        {"name": "viewResource", "resource": inline},
        {"name": "_format", "valueCode": "csv"},
        {"name": "resource", "resource": {"resourceType": "Patient", "id": "brought", "gender": "female"}},
    )
    assert client.post(RUN, json=given).text == "id,gender\nbrought,female\n"


def _outcome(answer: Any, status: int) -> str:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["resourceType"] == "OperationOutcome"
    return body["issue"][0]["diagnostics"]


def test_errors_are_operation_outcomes(client, two_patients):
    unknown = _parameters({"name": "viewReference", "valueReference": {"reference": "ViewDefinition/nothing"}})
    assert "nothing" in _outcome(client.post(RUN, json=unknown), 404)
    assert "nothing" in _outcome(client.get("/fhir/ViewDefinition/nothing/$run"), 404)
    assert "_format" in _outcome(_run(client, "xlsx", two_patients), 400)
    assert "one view" in _outcome(client.post(RUN, json=_parameters()), 400)
    assert "_limit" in _outcome(_run(client, "csv", two_patients, {"name": "_limit", "valueInteger": 0}), 400)
    broken = {"resourceType": "ViewDefinition", "resource": "Patient", "select": [{"column": [{"name": "1x"}]}]}
    body = _parameters({"name": "viewResource", "resource": broken}, {"name": "_format", "valueCode": "csv"})
    assert "cannot be run" in _outcome(client.post(RUN, json=body), 400)
    no_patient = _parameters(
        {"name": "viewReference", "valueReference": {"reference": "ViewDefinition/registry_referral"}},
        {"name": "patient", "valueReference": {"reference": "Organization/1"}},
    )
    assert "patient" in _outcome(client.post(RUN, json=no_patient), 400)


def test_only_the_registry_and_researchers(server, client, two_patients):
    clinician = bearer(server, "clinician", org="974589095")
    assert "registry administration" in _outcome(_run(client, "csv", two_patients, headers=clinician), 403)
    researcher = bearer(server, "researcher", study="example-data-release")
    answer = _run(client, "csv", two_patients, headers=researcher)
    # the operation lets researchers in; what they see is the research layer's (which refuses them until it lands)
    assert answer.status_code in (200, 403) and "flat datasets are for" not in answer.text


def test_in_process_with_the_servers_own_rights(server, two_patients):
    body = _parameters(
        {"name": "viewReference", "valueReference": {"reference": VIEW}},
        {"name": "_format", "valueCode": "csv"},
        {"name": "patient", "valueReference": {"reference": f"Patient/{two_patients[0]}"}},
    )
    answer = server.execute(FhirRequest("POST", "ViewDefinition/$run", body=body))
    assert answer.status == 200 and answer.media_type.startswith("text/csv")
    assert answer.content.decode().count("\n") == 2


def test_the_router_finds_it_without_a_resource_type():
    assert find(("ViewDefinition", "$run"))[1] == ()
    assert find(("ViewDefinition", "form_opr_follow_up", "$run"))[1] == ()


def test_the_capability_statement_announces_it(client):
    rest = client.get("/fhir/metadata").json()["rest"][0]
    assert {"name": "run", "definition": "https://ryggrad.no/fhir/OperationDefinition/viewdefinition-run"} in rest[
        "operation"
    ]
