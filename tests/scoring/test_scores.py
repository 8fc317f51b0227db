"""Scores through the server: a completed response to a registry form is scored by the worker, each score an
Observation derived from the response (registry rules, section 4; the worked examples are these tests)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from fhir_server.server import FhirServer
from fhir_server.subscriptions.delivery import deliver
from tests.rest.helpers import unique
from workers.registry.subscriptions import INTERNAL, ensure_subscriptions

PROFILES = Path(__file__).resolve().parents[2] / "profiles"
INSTRUMENT = "https://ryggrad.no/fhir/CodeSystem/instrument"
SCORE = "https://ryggrad.no/fhir/CodeSystem/score"
ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"


def _form(name: str) -> dict[str, Any]:
    return json.loads((PROFILES / f"Questionnaire-{name}.json").read_text())


def _walk(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for item in items:
        yield item
        yield from _walk(item.get("item", []))


def _code(item: dict[str, Any]) -> str | None:
    return next((c["code"] for c in item.get("code", []) if c["system"] == INSTRUMENT), None)


def _without_ordinal(coding: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in coding.items() if k != "extension"}


def _answer(item: dict[str, Any], value: int) -> dict[str, Any]:
    if item["type"] == "integer":
        return {"valueInteger": value}
    for option in item["answerOption"]:
        coding = option["valueCoding"]
        if any(e["url"] == ORDINAL and e["valueDecimal"] == value for e in coding.get("extension", [])):
            return {"valueCoding": _without_ordinal(coding)}
    raise AssertionError(f"{item['linkId']} has no option scored {value}")


def response(form: dict[str, Any], patient: str, answers: dict[str, int]) -> dict[str, Any]:
    """A completed response answering the items with these instrument codes (by their options' scores), and any
    other required item with its first option."""

    def answered(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for item in items:
            if item["type"] == "group":
                inner = answered(item["item"])
                if inner:
                    out.append({"linkId": item["linkId"], "item": inner})
            elif _code(item) in answers:
                out.append({"linkId": item["linkId"], "answer": [_answer(item, answers[_code(item)])]})
            elif item.get("required"):  # e.g. the consent item: its first option
                first = item["answerOption"][0]["valueCoding"]
                out.append({"linkId": item["linkId"], "answer": [{"valueCoding": _without_ordinal(first)}]})
        return out

    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"{form['url']}|{form['version']}",
        "status": "completed",
        "subject": {"reference": f"Patient/{patient}"},
        "authored": "2026-11-02T10:00:00+01:00",
        "item": answered(form["item"]),
    }


@pytest.fixture
def scoring(server: FhirServer, client: TestClient) -> Iterator[str]:
    ensure_subscriptions(server)
    patient = unique("scored")
    assert client.put(f"/fhir/Patient/{patient}", json={"resourceType": "Patient", "id": patient}).status_code < 300
    try:
        yield patient
    finally:
        for sid, *_ in INTERNAL:
            client.delete(f"/fhir/Subscription/{sid}")


def _post(client: TestClient, body: dict[str, Any]) -> str:
    posted = client.post("/fhir/QuestionnaireResponse", json=body)
    assert posted.status_code == 201, posted.text
    return posted.json()["id"]


def scores(server: FhirServer, client: TestClient, response_id: str) -> dict[str, dict[str, Any]]:
    """The scores derived from the response once the worker has run, by score code (withdrawn ones left out)."""
    assert deliver(server, "registry-scores") == "done"
    found = client.get("/fhir/Observation", params={"derived-from": f"QuestionnaireResponse/{response_id}"}).json()
    out = {}
    for entry in found.get("entry", []):
        observation = entry["resource"]
        if observation["status"] == "entered-in-error":
            continue
        (key,) = [c["code"] for c in observation["code"]["coding"] if c["system"] == SCORE]
        out[key] = observation
    return out


def value(observation: dict[str, Any]) -> Any:
    return observation["valueQuantity"]["value"] if "valueQuantity" in observation else observation["valueString"]


def _items(prefix: str, values: list[int | None]) -> dict[str, int]:
    return {f"{prefix}-{n}": v for n, v in enumerate(values, start=1) if v is not None}


@pytest.mark.parametrize(
    ("sections", "expected"),
    [([2, 1, 3, 2, 1, 2, 1, 0, 2, 2], 32), ([2, 1, 3, 2, 1, 2, 1, None, 2, 2], 35.56)],
    ids=["all-answered", "section-8-missing"],
)
def test_odi_worked_examples(server, client, scoring, sections, expected):
    form = _form("nnrr-pre-consultation")
    scored = scores(server, client, _post(client, response(form, scoring, _items("odi", sections))))
    assert value(scored["odi-percent"]) == expected
    assert scored["odi-percent"]["valueQuantity"]["code"] == "%"


def test_odi_with_too_many_sections_missing_is_not_scored(server, client, scoring):
    form = _form("nnrr-pre-consultation")
    scored = scores(server, client, _post(client, response(form, scoring, _items("odi", [2, 1, 3, 2, 1, 2, 1]))))
    assert "odi-percent" not in scored
    server.settings.scoring_odi_max_missing = 3  # the limit is a setting
    try:
        scored = scores(server, client, _post(client, response(form, scoring, _items("odi", [2, 1, 3, 2, 1, 2, 1]))))
        assert value(scored["odi-percent"]) == 34.29  # 12 / 35
    finally:
        server.settings.scoring_odi_max_missing = 2


def test_ndi_raw_and_percent(server, client, scoring):
    form = _form("nnrr-pre-consultation")
    scored = scores(
        server, client, _post(client, response(form, scoring, _items("ndi", [2, 1, 2, 2, 3, 2, 2, 2, 2, 2])))
    )
    assert value(scored["ndi-raw"]) == 20 and value(scored["ndi-percent"]) == 40
    assert {"system": "http://loinc.org", "code": "82237-9", "display": "Neck Disability Index total"} in scored[
        "ndi-raw"
    ]["code"]["coding"]


@pytest.mark.parametrize(
    ("items", "expected", "case"),
    [
        ([2, 3, 1, 2, 2, 3, 1, 2, 2, 1], 1.9, "POS"),
        ([2, 2, 1, 2, 2, 2, 1, 2, 2, 2], 1.8, "NEG"),
        ([2, 3, 1, 2, 2, 3, 1, 2, None, None], 2, "POS"),
        ([2, 3, 1, 2, 2, 3, None, None, None, None], None, None),
    ],
    ids=["case", "not-a-case", "eight-answered", "six-answered"],
)
def test_hscl10_worked_examples(server, client, scoring, items, expected, case):
    form = _form("nnrr-pre-consultation")
    scored = scores(server, client, _post(client, response(form, scoring, _items("hscl10", items))))
    if expected is None:
        assert "hscl10-mean" not in scored
        return
    assert value(scored["hscl10-mean"]) == expected
    assert scored["hscl10-mean"]["interpretation"][0]["coding"][0]["code"] == case


def test_fabq_subscales_and_bands(server, client, scoring):
    form = _form("nnrr-pre-consultation")
    items = _items("fabq", [4, 4, 3, 3, 6, 6, 5, 4, 2, 1, 0])  # physical 14 (moderate), work 24 (moderate)
    scored = scores(server, client, _post(client, response(form, scoring, items)))
    assert value(scored["fabq-physical"]) == 14 and scored["fabq-physical"]["interpretation"][0]["text"] == "moderat"
    assert value(scored["fabq-work"]) == 24 and scored["fabq-work"]["interpretation"][0]["text"] == "moderat"
    low_high = _items("fabq", [1, 2, 3, 4, 6, 6, 6, 6, 1, None, 0])  # physical 10; work misses an item
    scored = scores(server, client, _post(client, response(form, scoring, low_high)))
    assert value(scored["fabq-physical"]) == 10 and scored["fabq-physical"]["interpretation"][0]["text"] == "lav"
    assert "fabq-work" not in scored


def test_uhi_complaint_count_leaves_out_items_5_to_7(server, client, scoring):
    form = _form("nnrr-pre-consultation")
    answers = {f"uhi-{n}": 0 for n in range(1, 34)} | {"uhi-1": 2, "uhi-5": 3, "uhi-6": 3, "uhi-7": 2, "uhi-20": 3}
    scored = scores(server, client, _post(client, response(form, scoring, answers)))
    assert value(scored["uhi-complaints"]) == 2
    assert scored["uhi-complaints"]["interpretation"][0]["coding"][0]["code"] == "NEG"
    answers["uhi-33"] = 2
    scored = scores(server, client, _post(client, response(form, scoring, answers)))
    assert value(scored["uhi-complaints"]) == 3
    assert scored["uhi-complaints"]["interpretation"][0]["coding"][0]["code"] == "POS"
    too_few = scores(server, client, _post(client, response(form, scoring, {"uhi-1": 3, "uhi-2": 3})))
    assert "uhi-complaints" not in too_few


@pytest.mark.parametrize(("profile", "index"), [("11123", 0.761), ("55555", -0.758), ("11111", 1)])
def test_eq5d_profile_vas_and_danish_index(server, client, scoring, profile, index):
    form = _form("opr-follow-up")
    answers = {f"eq5d-{n}": int(level) for n, level in enumerate(profile, start=1)} | {"eq5d-vas": 0}
    scored = scores(server, client, _post(client, response(form, scoring, answers)))
    assert value(scored["eq5d-profile"]) == profile
    assert value(scored["eq5d-index"]) == index
    assert {"system": "http://snomed.info/sct", "code": "736534008"}.items() <= scored["eq5d-index"]["code"]["coding"][
        0
    ].items()
    assert "dk-2021" in scored["eq5d-index"]["method"]["text"]
    assert value(scored["eq5d-vas"]) == 0  # 0 is an answer


def test_single_items_keep_a_zero_and_leave_out_a_missing_answer(server, client, scoring):
    form = _form("nnrr-follow-up-6m")
    scored = scores(server, client, _post(client, response(form, scoring, {"pain-nrs-activity": 0, "gpe": 2})))
    assert value(scored["pain-nrs-activity"]) == 0 and value(scored["gpe"]) == 2
    assert scored["pain-nrs-activity"]["code"]["coding"][0]["code"] == "72514-3"
    assert "satisfaction" not in scored


def test_scores_follow_the_response_and_conform(server, client, scoring):
    """Scored again when the response changes; withdrawn when it is no longer completed; valid registry-score
    Observations for the response's patient, owned like it, written once however often the event comes."""
    form = _form("nnrr-follow-up-6m")
    body = response(form, scoring, _items("odi", [2, 1, 3, 2, 1, 2, 1, 0, 2, 2]) | {"satisfaction": 1})
    response_id = _post(client, body)
    first = scores(server, client, response_id)
    assert set(first) == {"odi-percent", "satisfaction", "gpe"}  # (gpe: the form requires it)
    odi = first["odi-percent"]
    assert odi["subject"] == {"reference": f"Patient/{scoring}"}
    assert odi["effectiveDateTime"] == "2026-11-02T10:00:00+01:00"
    assert odi["meta"]["profile"] == ["https://ryggrad.no/fhir/StructureDefinition/registry-score"]
    for observation in first.values():
        checked = client.post("/fhir/Observation/$validate", json=observation).json()
        assert [i for i in checked.get("issue", []) if i["severity"] in ("error", "fatal")] == []

    changed = response(form, scoring, _items("odi", [4, 1, 3, 2, 1, 2, 1, 0, 2, 2]))
    assert client.put(f"/fhir/QuestionnaireResponse/{response_id}", json={**changed, "id": response_id}).is_success
    again = scores(server, client, response_id)
    assert set(again) == {"odi-percent", "gpe"} and value(again["odi-percent"]) == 36
    assert again["odi-percent"]["id"] == odi["id"]  # the same Observation, a new version
    withdrawn = client.get(f"/fhir/Observation/{first['satisfaction']['id']}").json()
    assert withdrawn["status"] == "entered-in-error"

    errored = {**changed, "id": response_id, "status": "entered-in-error"}
    assert client.put(f"/fhir/QuestionnaireResponse/{response_id}", json=errored).is_success
    assert scores(server, client, response_id) == {}
    everything = client.get("/fhir/Observation", params={"derived-from": f"QuestionnaireResponse/{response_id}"})
    assert len(everything.json()["entry"]) == 3  # nothing created twice
