"""Responses against their Questionnaire over HTTP: a draft may be partial, a submitted form must be complete and
right; each refusal (422) names the item and carries its Helsenorge validation text."""

from __future__ import annotations

import pytest

from tests.rest.helpers import unique

VALIDATION_TEXT = "http://ehelse.no/fhir/StructureDefinition/validationtext"
EXT = "http://hl7.org/fhir/StructureDefinition/"


@pytest.fixture
def form(client) -> str:
    """A stored Questionnaire (two versions); its canonical with the version the responses use."""
    url = f"https://ryggrad.no/fhir/Questionnaire/{unique('form')}"
    items = [
        {
            "linkId": "name",
            "text": "Navn",
            "type": "string",
            "required": True,
            "extension": [{"url": VALIDATION_TEXT, "valueString": "Skriv inn navnet ditt"}],
        },
        {
            "linkId": "side",
            "text": "Side",
            "type": "choice",
            "answerOption": [{"valueCoding": {"system": "urn:test:side", "code": c}} for c in ("left", "right")],
        },
        {
            "linkId": "pain",
            "text": "Smerte",
            "type": "integer",
            "extension": [{"url": EXT + "minValue", "valueInteger": 0}, {"url": EXT + "maxValue", "valueInteger": 10}],
        },
        {"linkId": "worked", "text": "I arbeid", "type": "boolean"},
        {
            "linkId": "percent",
            "text": "Stillingsprosent",
            "type": "integer",
            "enableWhen": [{"question": "worked", "operator": "=", "answerBoolean": True}],
        },
    ]
    for version, questions in (("1", items[:1]), ("2", items)):
        made = client.post(
            "/fhir/Questionnaire",
            json={
                "resourceType": "Questionnaire",
                "url": url,
                "version": version,
                "status": "active",
                "item": questions,
            },
        )
        assert made.status_code == 201, made.text
    return f"{url}|2"


def _response(canonical: str, status: str, **answers) -> dict:
    items = []
    for link, value in answers.items():
        key = {bool: "valueBoolean", int: "valueInteger", str: "valueString"}.get(type(value), "valueCoding")
        items.append({"linkId": link, "answer": [{key: value}]})
    return {"resourceType": "QuestionnaireResponse", "questionnaire": canonical, "status": status, "item": items}


def _refused(client, body: dict) -> list[dict]:
    answer = client.post("/fhir/QuestionnaireResponse", json=body)
    assert answer.status_code == 422, answer.text
    return answer.json()["issue"]


def test_a_draft_may_be_partial_a_submitted_form_may_not(client, form):
    assert client.post("/fhir/QuestionnaireResponse", json=_response(form, "in-progress", pain=4)).status_code == 201
    issues = _refused(client, _response(form, "completed", pain=4))
    assert issues[0]["expression"] == ["QuestionnaireResponse"]
    assert "required item 'name'" in issues[0]["diagnostics"]
    assert "Skriv inn navnet ditt" in issues[0]["diagnostics"]  # the form's own words for the patient
    done = _response(form, "completed", name="Kari", side={"system": "urn:test:side", "code": "left"}, pain=4)
    assert client.post("/fhir/QuestionnaireResponse", json=done).status_code == 201


def test_answers_must_fit_their_items(client, form):
    wrong_option = _response(form, "in-progress", side={"system": "urn:test:side", "code": "both"})
    issue = _refused(client, wrong_option)[0]
    assert "not in the set of permitted values" in issue["diagnostics"]
    assert issue["expression"] == ["QuestionnaireResponse.item[0].answer[0].value"]
    assert (
        "greater than the allowed maximum"
        in _refused(client, _response(form, "in-progress", pain=11))[0]["diagnostics"]
    )
    assert "must be of the type integer" in _refused(client, _response(form, "in-progress", pain="4"))[0]["diagnostics"]
    assert "not found" in _refused(client, _response(form, "in-progress", unknown="x"))[0]["diagnostics"]
    hidden = _response(form, "in-progress", worked=False, percent=50)  # percent is asked only of those who work
    assert "not enabled" in _refused(client, hidden)[0]["diagnostics"]
    shown = _response(form, "in-progress", worked=True, percent=50)
    assert client.post("/fhir/QuestionnaireResponse", json=shown).status_code == 201


def test_the_version_named_is_the_one_checked_and_unknown_forms_are_not_judged(client, form):
    first = form.replace("|2", "|1")
    assert "not found" in _refused(client, _response(first, "in-progress", pain=4))[0]["diagnostics"]  # v1 has no pain
    unknown = _response(f"https://ryggrad.no/fhir/Questionnaire/{unique('none')}", "completed", anything="x")
    assert client.post("/fhir/QuestionnaireResponse", json=unknown).status_code == 201


def test_a_questionnaire_breaking_its_own_rules_is_refused(client):
    broken = {
        "resourceType": "Questionnaire",
        "status": "active",
        "item": [{"linkId": "g", "type": "group"}],  # que-1: a group needs items
    }
    answer = client.post("/fhir/Questionnaire", json=broken)
    assert answer.status_code == 422, answer.text
    assert "que-1" in answer.json()["issue"][0]["diagnostics"]
