"""A patient in the portal, in headless Chromium against ``ryggrad serve``: signs in (development mode) with an FNR,
sees the NNRR form the EHR's appointment made, must consent before the form opens, saves a draft that is there
again after a reload, sees the server's errors listed, sends, gets a receipt; the Task is completed and the
consent and response are stored as the profiles say."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.portal.support import PortalServer, wait_for

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (the test extra)")
expect = sync_api.expect

FNR = "13097248022"
FORM = "Skjema før første konsultasjon"
OUTCOME = {
    "resourceType": "OperationOutcome",
    "issue": [
        {"severity": "error", "code": "invariant", "diagnostics": "First problem", "expression": ["item[0]"]},
        {"severity": "error", "code": "business-rule", "diagnostics": "Second problem"},
    ],
}


def _contains_key(value: Any, key: str) -> bool:
    if isinstance(value, dict):
        return key in value or any(_contains_key(v, key) for v in value.values())
    return isinstance(value, list) and any(_contains_key(v, key) for v in value)


def test_a_patient_consents_saves_a_draft_and_sends_the_form(page: Any, portal: PortalServer):
    task = portal.nnrr_form(FNR)
    patient = task["for"]["reference"]

    page.goto("/portal/")
    expect(page.get_by_role("link", name="Dine rettigheter")).to_be_visible()
    page.get_by_label("Fødselsnummer (11 siffer)").fill(FNR)
    page.get_by_role("button", name="Logg inn").click()
    expect(page.get_by_role("heading", name="Skjema du kan fylle ut", level=1)).to_be_focused()
    card = page.get_by_role("listitem").filter(has=page.get_by_role("link", name=FORM))
    expect(card).to_contain_text("Norsk nakke- og ryggregister")
    expect(card).to_contain_text("Frist:")
    assert "token" not in page.url and "eyJ" not in page.url

    card.get_by_role("link", name=FORM).click()
    expect(page.get_by_role("heading", name="Samtykke til registrering")).to_be_visible()
    page.get_by_role("button", name="Gå videre til skjemaet").click()  # not without the checkbox
    expect(page.get_by_role("alert")).to_contain_text("Du må krysse av for samtykke")
    expect(page.get_by_role("heading", name="Samtykke til registrering")).to_be_visible()
    assert portal.search("Consent", patient=patient) == []
    page.get_by_label("Jeg har lest informasjonen og samtykker", exact=False).check()
    page.get_by_role("button", name="Gå videre til skjemaet").click()
    expect(page.get_by_role("heading", name=FORM, level=1)).to_be_visible()
    (consent,) = portal.search("Consent", patient=patient)
    assert consent["status"] == "active" and consent["patient"] == {"reference": patient}
    assert consent["provision"]["type"] == "permit"
    assert {e["url"].rsplit("/", 1)[-1]: e["valueCoding"]["code"] for e in consent["extension"]} == {
        "registry": "nnrr",
        "consent-channel": "digital",
    }

    page.get_by_label("Videregående").check()
    page.get_by_label("1-2 år").check()
    # the server's OperationOutcome, each issue listed in a labelled alert above the form
    page.route(
        "**/fhir/QuestionnaireResponse",
        lambda route: route.fulfill(status=422, content_type="application/fhir+json", body=json.dumps(OUTCOME)),
    )
    page.get_by_role("button", name="Lagre").click()
    alert = page.get_by_role("alert", name="Utkastet ble ikke lagret")
    expect(alert).to_be_focused()
    expect(alert.get_by_role("listitem")).to_have_text(["First problem (item[0])", "Second problem"])
    page.unroute("**/fhir/QuestionnaireResponse")
    page.get_by_role("button", name="Lagre").click()
    expect(page.get_by_text("Utkastet ble lagret")).to_be_visible()
    expect(alert).to_have_count(0)

    page.reload()  # the draft is there again, and the consent given is not asked for twice
    expect(page.get_by_label("Videregående")).to_be_checked()
    expect(page.get_by_label("1-2 år")).to_be_checked()
    (draft,) = [r for r in portal.search("QuestionnaireResponse", subject=patient) if r.get("author")]
    assert draft["status"] == "in-progress"

    page.get_by_label("Jeg samtykker").check()
    page.get_by_role("button", name="Send inn").click()
    expect(page.get_by_role("heading", name="Takk! Skjemaet er sendt inn")).to_be_visible()
    completed = wait_for(lambda: portal.task(task["id"])["status"] == "completed", "the Task to be completed")
    assert completed
    (sent,) = [r for r in portal.search("QuestionnaireResponse", subject=patient) if r.get("author")]
    assert sent["id"] == draft["id"] and sent["status"] == "completed"
    assert sent["questionnaire"] == "https://ryggrad.no/fhir/Questionnaire/nnrr-pre-consultation|1.0.0"
    assert sent["basedOn"] == [{"reference": f"Task/{task['id']}"}] and sent["subject"] == {"reference": patient}
    assert not _contains_key(sent["item"], "initialSelected")

    page.goto(f"/portal/oppgave/{task['id']}")  # a sent form opens read-only, as its receipt
    expect(page.get_by_role("heading", name="Skjemaet er sendt inn")).to_be_visible()
    expect(page.get_by_role("heading", name="Dine svar")).to_be_visible()
    expect(page.get_by_text("Videregående")).to_be_visible()
    expect(page.get_by_role("button", name="Send inn")).to_have_count(0)
    expect(page.get_by_role("radio")).to_have_count(0)


def test_the_rights_page_is_reachable_from_every_page(page: Any, portal: PortalServer):
    page.goto("/portal/")
    page.get_by_role("link", name="Dine rettigheter").click()
    expect(page.get_by_role("heading", name="Dine rettigheter", level=1)).to_be_focused()
    for right in ("Se opplysningene om deg", "Be om retting", "Trekke samtykket", "Reservere deg mot spørreskjema"):
        expect(page.get_by_role("heading", name=right)).to_be_visible()
    page.goto("/portal/rettigheter")  # the address the e-mails link to, loaded directly
    expect(page.get_by_role("heading", name="Dine rettigheter", level=1)).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Hopp til hovedinnholdet")).to_be_focused()
