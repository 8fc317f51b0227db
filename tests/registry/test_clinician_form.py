"""The clinician form through the API: a draft needs the visit date (N14); finalising names every missing mandatory
field (N15) and needs a neck- or back-related first diagnosis (N16). The rules are the Questionnaire's own
(``required`` items and SDC ``questionnaire-constraint``), checked on every save."""

from __future__ import annotations

import copy
import json
from typing import Any

from starlette.testclient import TestClient

from fhir_server.server import FhirServer
from tests.conftest import bearer
from tests.paths import REPO_ROOT

FORM = json.loads((REPO_ROOT / "profiles" / "Questionnaire-nnrr-clinician.json").read_text())
CANONICAL = f"{FORM['url']}|{FORM['version']}"
UNIT = "974589095"


def _answer(item: dict[str, Any]) -> dict[str, Any]:
    kind = item["type"]
    if kind == "date":
        return {"valueDate": "2026-12-01"}
    if kind == "string":
        return {"valueString": "M54.4"}
    if kind == "integer":
        return {"valueInteger": 50}
    option = item["answerOption"][0]
    return {k: v for k, v in option.items() if k.startswith("value")}


def _filled(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every required item answered (the first option of each choice), groups with their required items."""
    answered = []
    for item in items:
        if not item.get("required"):
            continue
        if item["type"] == "group":
            answered.append({"linkId": item["linkId"], "item": _filled(item.get("item", []))})
        else:
            answered.append({"linkId": item["linkId"], "answer": [_answer(item)]})
    return answered


def _response(patient: str, author: str, status: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": CANONICAL,
        "status": status,
        "subject": {"reference": f"Patient/{patient}"},
        "author": {"reference": f"Practitioner/{author}"},
        **({"item": items} if items else {}),
    }


def _messages(response: Any) -> list[str]:
    return [i["diagnostics"] for i in response.json()["issue"] if i["severity"] == "error"]


def test_draft_then_finalise(client: TestClient, server: FhirServer):
    clinician = bearer(server, "clinician", org=UNIT)
    patient = client.post("/fhir/Patient", json={"resourceType": "Patient"}, headers=clinician).json()["id"]
    author = client.post("/fhir/Practitioner", json={"resourceType": "Practitioner"}).json()["id"]
    complete = _filled(FORM["item"])
    visit = [i for i in complete if i["linkId"] == "visit-date"]

    empty = client.post(
        "/fhir/QuestionnaireResponse", json=_response(patient, author, "in-progress", []), headers=clinician
    )
    assert empty.status_code == 422 and any("(nnrr-n14)" in m for m in _messages(empty))
    draft = client.post(
        "/fhir/QuestionnaireResponse", json=_response(patient, author, "in-progress", visit), headers=clinician
    )
    assert draft.status_code == 201, draft.json()  # "lagre kladd" with just the visit date

    finalising = {**draft.json(), "status": "completed"}
    missing = client.put(f"/fhir/QuestionnaireResponse/{draft.json()['id']}", json=finalising, headers=clinician)
    assert missing.status_code == 422
    named = " ".join(_messages(missing))
    for required in (i for i in FORM["item"] if i.get("required") and i["linkId"] != "visit-date"):
        assert required["text"] in named, required["linkId"]  # N15: every missing field, by its text

    other_first = copy.deepcopy(complete)
    diagnoses = next(i for i in other_first if i["linkId"] == "diagnoses")
    localisation = next(i for i in diagnoses["item"] if i["linkId"] == "localisation")
    localisation["answer"][0]["valueCoding"] = next(
        o["valueCoding"]
        for o in next(i for i in FORM["item"] if i["linkId"] == "diagnoses")["item"][0]["answerOption"]
        if o["valueCoding"]["code"] == "other"
    )
    unrelated = client.put(
        f"/fhir/QuestionnaireResponse/{draft.json()['id']}",
        json={**finalising, "item": other_first},
        headers=clinician,
    )
    assert unrelated.status_code == 422 and any("(nnrr-n16)" in m for m in _messages(unrelated))

    done = client.put(
        f"/fhir/QuestionnaireResponse/{draft.json()['id']}", json={**finalising, "item": complete}, headers=clinician
    )
    assert done.status_code == 200, done.json()
    assert done.json()["status"] == "completed"
