"""The registry's patient forms (``profiles/Questionnaire-*``, built from ``ig/forms``): valid Questionnaires in
Helsenorge's conventions, scored and coded for the scoring workers, and enforced by the server when responses
arrive — a draft may be partial, a submitted NNRR form needs the consent box (N2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fhir_server.definitions.registry import CORE_BASE
from fhir_server.validation.profile import ProfileValidator
from fhir_server.validation.questionnaire_response import QuestionnaireResponseValidator
from fhir_server.validation.structure import ResourceValidator
from tests.rest.helpers import unique

PROFILES = Path(__file__).resolve().parents[2] / "profiles"
FORMS = sorted(PROFILES.glob("Questionnaire-*.json"))
ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
INSTRUMENT = "https://ryggrad.no/fhir/CodeSystem/instrument"


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


def _walk(items: list[dict]):
    for item in items:
        yield item
        yield from _walk(item.get("item", []))


def _first_answer(item: dict) -> dict:
    if item.get("answerOption"):
        option = item["answerOption"][0]
        return {k: v for k, v in option.items() if k.startswith("value")}
    return {
        "integer": {"valueInteger": 5},
        "string": {"valueString": "M54.4"},  # also a valid ICD-10 code, for the clinician form
        "boolean": {"valueBoolean": True},
        "date": {"valueDate": "2026-02-10"},
    }[item["type"]]


def answered_response(form: dict, status: str, skip: tuple[str, ...] = ()) -> dict:
    """Every enabled item answered with its first option (so enableWhen conditions on another first option hold)."""
    firsts = {i["linkId"]: _first_answer(i) for i in _walk(form["item"]) if i["type"] not in ("group", "quantity")}

    def enabled(item: dict) -> bool:
        return all(
            firsts.get(c["question"])
            == {k.replace("answer", "value"): v for k, v in c.items() if k.startswith("answer")}
            for c in item.get("enableWhen", [])
            if c["operator"] == "="
        )

    def answered(items: list[dict]) -> list[dict]:
        out = []
        for item in items:
            if item["linkId"] in skip or not enabled(item) or item["type"] == "quantity":
                continue  # (sums are the renderer's to compute)
            if item["type"] == "group":
                out.append({"linkId": item["linkId"], "item": answered(item["item"])})
            else:
                out.append({"linkId": item["linkId"], "answer": [_first_answer(item)]})
        return out

    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"{form['url']}|{form['version']}",
        "status": status,
        "item": answered(form["item"]),
    }


def test_the_registry_forms_are_there():
    assert {p.stem.removeprefix("Questionnaire-") for p in FORMS} == {
        "nnrr-clinician",
        "nnrr-pre-consultation",
        "nnrr-follow-up-6m",
        "nnrr-follow-up-12m",
        "opr-baseline",
        "opr-short-baseline",
        "opr-follow-up",
    }


@pytest.mark.parametrize("path", FORMS, ids=[p.stem for p in FORMS])
def test_each_form_is_a_valid_helsenorge_questionnaire(definitions, path):
    form = _load(path)
    issues = ResourceValidator(definitions).validate(form)
    issues += ProfileValidator(definitions).validate(form, CORE_BASE + "Questionnaire")
    assert [i for i in issues if i.severity == "error"] == []
    assert form["meta"]["security"][0]["system"] == "urn:oid:2.16.578.1.12.4.1.1.7618"
    assert form["language"] == "nb-NO" and form["version"] and form["url"].endswith(form["id"])
    links = [item["linkId"] for item in _walk(form["item"])]
    assert len(links) == len(set(links)), "link ids are unique in a form"
    scored = [i for i in _walk(form["item"]) if any(c.get("system") == INSTRUMENT for c in i.get("code", []))]
    assert scored or form["id"] == "nnrr-clinician", "patient forms' instrument items are coded for scoring"
    for item in _walk(form["item"]):
        for option in item.get("answerOption", []):
            coding = option.get("valueCoding", {})
            if coding.get("system", "").startswith("https://ryggrad.no/fhir/CodeSystem/scale-"):
                assert any(e["url"] == ORDINAL for e in coding.get("extension", [])), item["linkId"]  # its score
                assert any(c.get("code") == "QS" for c in item["code"]), item["linkId"]  # refero's question score


def test_instrument_sizes_follow_the_registry_rules():
    form = _load(PROFILES / "Questionnaire-nnrr-pre-consultation.json")
    groups = {item["linkId"]: item for item in form["item"] if item["type"] == "group"}
    sizes = {
        key: len([i for i in groups[key]["item"] if i["type"] == "choice"]) for key in groups if key != "background"
    }
    assert sizes == {"odi": 10, "ndi": 10, "fabq": 11, "hscl10": 10, "uhi": 33, "eq5d": 5}
    assert all(any(i["type"] == "quantity" for i in groups[key]["item"]) for key in sizes)  # a section score each
    drawing = next(i for i in form["item"] if i["linkId"] == "pain-drawing")
    assert len(drawing["answerOption"]) == 32 and drawing["repeats"]
    short = _load(PROFILES / "Questionnaire-opr-short-baseline.json")
    assert len(short["item"][0]["answerOption"]) == 9 and short["item"][0]["required"]  # P6's reasons


@pytest.mark.parametrize("path", FORMS, ids=[p.stem for p in FORMS])
def test_a_complete_response_passes(definitions, path):
    form = _load(path)
    assert QuestionnaireResponseValidator(definitions).validate(answered_response(form, "completed"), form) == []


def test_the_server_holds_the_consent_gate(client):
    form = _load(PROFILES / "Questionnaire-nnrr-pre-consultation.json")
    draft = answered_response(form, "in-progress", skip=("consent",))
    assert client.post("/fhir/QuestionnaireResponse", json=draft).status_code == 201
    refused = client.post("/fhir/QuestionnaireResponse", json={**draft, "status": "completed"})
    assert refused.status_code == 422, refused.text
    said = refused.json()["issue"][0]["diagnostics"]
    assert "'consent'" in said and "Du må samtykke" in said
    assert client.post("/fhir/QuestionnaireResponse", json=answered_response(form, "completed")).status_code == 201


def test_the_clinician_form_drafts_with_a_visit_date_and_finalises_complete(client):
    form = _load(PROFILES / "Questionnaire-nnrr-clinician.json")
    canonical = f"{form['url']}|{form['version']}"
    draft = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": canonical,
        "status": "in-progress",
        "item": [{"linkId": "visit-date", "answer": [{"valueDate": "2026-02-10"}]}],
    }
    assert client.post("/fhir/QuestionnaireResponse", json=draft).status_code == 201  # N14
    refused = client.post("/fhir/QuestionnaireResponse", json={**draft, "status": "completed"})
    assert refused.status_code == 422
    missing = " ".join(i["diagnostics"] for i in refused.json()["issue"])
    assert "'diagnoses'" in missing and "'professions'" in missing  # N15: the user is told which
    wrong_code = answered_response(form, "completed")
    for group in wrong_code["item"]:
        if group["linkId"] == "diagnoses":
            next(i for i in group["item"] if i["linkId"] == "icd10")["answer"] = [{"valueString": "back pain"}]
    bad = client.post("/fhir/QuestionnaireResponse", json=wrong_code)
    assert bad.status_code == 422 and "ICD-10" in bad.json()["issue"][0]["diagnostics"]
    assert client.post("/fhir/QuestionnaireResponse", json=answered_response(form, "completed")).status_code == 201


def test_a_registry_loads_its_licensed_wording_as_a_new_version(client):
    """``ryggrad load`` PUTs a Questionnaire by id: a registry's licensed version replaces the stored one, while
    responses keep the version they answered (P9) — the packaged 1.0.0 still checks the old ones."""
    form = _load(PROFILES / "Questionnaire-opr-follow-up.json")
    licensed = json.loads(json.dumps(form))
    licensed["id"] = f"opr-follow-up-{unique('licensed')}"
    licensed["version"] = "2.0.0"
    licensed["item"][0]["text"] = "The registry's licensed wording"
    assert client.put(f"/fhir/Questionnaire/{licensed['id']}", json=licensed).status_code == 201
    answered = answered_response(licensed, "completed")
    assert answered["questionnaire"].endswith("|2.0.0")
    assert client.post("/fhir/QuestionnaireResponse", json=answered).status_code == 201
    old = answered_response(form, "completed", skip=("pgic",))  # 1.0.0 requires pgic: still enforced for 1.0.0
    assert client.post("/fhir/QuestionnaireResponse", json=old).status_code == 422
