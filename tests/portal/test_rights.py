"""The rights page in headless Chromium against ``ryggrad serve`` (R1 to R4): a patient who has consented and answered
sees their record in plain Norwegian, downloads it as a FHIR Bundle, asks for a correction (and sees the server's
error when it fails), withdraws the consent, asks for erasure and opts out of questionnaires — each checked through
the API. A clinic tablet's session and a signed-out visitor get the texts only, and no data is fetched for them."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.portal.support import ORGNR, PortalServer, wait_for

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (the test extra)")
expect = sync_api.expect

FNR = "15038012379"
TABLET_FNR = "22079145649"
FORM = "Skjema før første konsultasjon"
NNRR = "Norsk nakke- og ryggregister"
REQUESTS = "https://ryggrad.no/fhir/CodeSystem/patient-request"
EXCLUSION = "https://ryggrad.no/fhir/CodeSystem/registry-exclusion"
LOINC_CONSENT = "http://loinc.org|59284-0"
DATA_CALLS = re.compile(r"/fhir/(Patient|Consent|EpisodeOfCare|QuestionnaireResponse)\b")
OUTCOME = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "error", "code": "business-rule", "diagnostics": "Nobody can take this request now"}],
}


def _sign_in_and_answer(page: Any, task: dict[str, Any]) -> None:
    """The patient signs in, consents to NNRR and sends the form (as in test_patient_flow)."""
    page.goto("/portal/")
    page.get_by_label("Fødselsnummer (11 siffer)").fill(FNR)
    page.get_by_role("button", name="Logg inn").click()
    page.get_by_role("link", name=FORM).click()
    page.get_by_label("Jeg har lest informasjonen og samtykker", exact=False).check()
    page.get_by_role("button", name="Gå videre til skjemaet").click()
    expect(page.get_by_role("heading", name=FORM, level=1)).to_be_visible()
    page.get_by_label("Grunnskole").check()
    page.get_by_label("Jeg samtykker").check()
    page.get_by_role("button", name="Send inn").click()
    expect(page.get_by_role("heading", name="Takk! Skjemaet er sendt inn")).to_be_visible()


def _requests(portal: PortalServer, patient: str, kind: str) -> list[dict[str, Any]]:
    return portal.search("Task", patient=patient, code=f"{REQUESTS}|{kind}")


def _row(page: Any, table: str, first_cell: str) -> Any:
    return page.get_by_role("table", name=table).get_by_role("row").filter(has_text=first_cell)


def test_a_patient_sees_downloads_corrects_withdraws_and_opts_out(page: Any, portal: PortalServer):
    task = portal.nnrr_form(FNR)
    patient = task["for"]["reference"]
    _sign_in_and_answer(page, task)
    assert wait_for(lambda: portal.task(task["id"])["status"] == "completed", "the Task to be completed")
    responses = portal.search("QuestionnaireResponse", subject=patient)
    (response,) = [r for r in responses if r.get("author")]
    (consent,) = portal.search("Consent", patient=patient, category=LOINC_CONSENT)

    # R1: the record, readable
    page.get_by_role("link", name="Dine rettigheter").click()
    expect(page.get_by_role("heading", name="Dine rettigheter", level=1)).to_be_focused()
    expect(_row(page, "Registreringer", NNRR)).to_have_count(1)
    expect(_row(page, "Skjema sendt til deg", FORM)).to_contain_text("Besvart")
    expect(_row(page, "Svar du har gitt", "NNRR - skjema før første konsultasjon")).to_contain_text("Sendt inn")
    expect(page.get_by_role("table", name="Svar du har gitt")).not_to_contain_text("behandlerskjema")
    expect(_row(page, "Skjema behandlingsstedet fyller ut om deg", "NNRR - behandlerskjema")).to_contain_text("Utkast")
    expect(_row(page, "Samtykker og reservasjoner", NNRR)).to_contain_text("Gjelder")
    expect(page.get_by_text("Ukjent status")).to_have_count(0)
    expect(page.get_by_text("Du har ikke sendt noen henvendelser.")).to_be_visible()
    expect(page.get_by_text('"resourceType"')).to_have_count(0)  # no raw JSON on the page

    # R1: the whole record as a FHIR Bundle, with no identifier in the file name
    with page.expect_download() as started:
        page.get_by_role("button", name="Last ned alle opplysningene (FHIR)").click()
    download = started.value
    assert download.suggested_filename == "mine-opplysninger.json"
    with open(download.path(), encoding="utf-8") as saved:
        bundle = json.load(saved)
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "searchset"
    held = {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"]}
    expected = {patient, f"Task/{task['id']}", f"QuestionnaireResponse/{response['id']}", f"Consent/{consent['id']}"}
    assert expected <= held
    assert any(name.startswith("EpisodeOfCare/") for name in held)
    assert all(e["resource"].get("resourceType") != "AuditEvent" for e in bundle["entry"])

    # R2: a correction request — the text is required, the server's error is shown, then it is sent
    correction = page.get_by_label("Hva er feil, og hva skal det være?", exact=False)
    send = page.get_by_role("button", name="Send forespørsel om retting")
    send.click()
    expect(page.get_by_text("Skriv hva som er feil, og hva det skal være.")).to_be_visible()
    expect(correction).to_be_focused()
    assert _requests(portal, patient, "correction") == []
    fail = re.compile(r".*/\$request-correction$")
    page.route(
        fail, lambda route: route.fulfill(status=409, content_type="application/fhir+json", body=json.dumps(OUTCOME))
    )
    correction.fill("Jeg gikk på videregående, ikke grunnskole.")
    send.click()
    alert = page.get_by_role("alert", name="Henvendelsen ble ikke sendt")
    expect(alert).to_contain_text("Nobody can take this request now")
    expect(alert).to_be_focused()
    page.unroute(fail)
    send.click()
    expect(page.get_by_role("status").filter(has_text="Forespørselen om retting er sendt.")).to_be_visible()
    (asked,) = _requests(portal, patient, "correction")
    assert asked["description"] == "Jeg gikk på videregående, ikke grunnskole."
    assert asked["status"] == "requested" and asked["for"] == {"reference": patient}
    expect(_row(page, "Dine henvendelser", "Be om retting")).to_contain_text("Mottatt")

    # R3: withdrawing the consent asks first; cancelling changes nothing
    item = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=NNRR, level=3))
    item.get_by_role("button", name="Trekk samtykket").click()
    expect(page.get_by_text(f"Vil du trekke samtykket til {NNRR}", exact=False)).to_be_focused()
    item.get_by_role("button", name="Avbryt").click()
    expect(item.get_by_role("button", name="Trekk samtykket")).to_be_focused()
    assert portal.search("Consent", _id=consent["id"])[0]["status"] == "active"
    item.get_by_role("button", name="Trekk samtykket").click()
    page.get_by_role("button", name="Ja, trekk samtykket").click()
    expect(page.get_by_role("status").filter(has_text=f"Samtykket til {NNRR}")).to_contain_text("er trukket")
    expect(page.get_by_text("Du har ingen samtykker som gjelder nå.")).to_be_visible()
    expect(_row(page, "Samtykker og reservasjoner", NNRR)).to_contain_text("Trukket tilbake")
    (withdrawn,) = portal.search("Consent", _id=consent["id"])
    assert withdrawn["status"] == "inactive" and withdrawn["meta"]["versionId"] == "2"

    # R3: an erasure request, the text optional
    page.get_by_role("button", name="Be om sletting").click()
    expect(page.get_by_role("status").filter(has_text="Forespørselen om sletting er sendt.")).to_be_visible()
    (erasure,) = _requests(portal, patient, "erasure")
    assert erasure["for"] == {"reference": patient} and "description" not in erasure

    # R4: opting out of questionnaires, and cancelling it
    expect(page.get_by_text("Du har ikke reservert deg.")).to_be_visible()
    page.get_by_role("button", name="Reserver meg mot spørreskjema").click()
    expect(page.get_by_role("status").filter(has_text="Reservasjonen er registrert.")).to_contain_text(
        "Du har reservert deg"
    )
    (reservation,) = portal.search("Consent", patient=patient, category=f"{EXCLUSION}|reservation")
    assert reservation["status"] == "active" and reservation["provision"] == {"type": "deny"}
    assert reservation["patient"] == {"reference": patient}
    assert reservation["scope"]["coding"][0]["code"] == "patient-privacy"
    page.reload()  # the reservation is read back from the server
    expect(page.get_by_text("Du har reservert deg", exact=False)).to_be_visible()
    page.get_by_role("button", name="Opphev reservasjonen").click()
    expect(page.get_by_role("status").filter(has_text="Reservasjonen er opphevet.")).to_be_visible()
    assert portal.search("Consent", _id=reservation["id"])[0]["status"] == "inactive"
    expect(page.get_by_role("button", name="Reserver meg mot spørreskjema")).to_be_visible()
    assert FNR not in page.url and "Patient" not in page.url


def test_a_clinic_tablet_and_a_visitor_get_the_texts_and_no_data(page: Any, portal: PortalServer):
    task = portal.nnrr_form(TABLET_FNR)
    clerk = portal.token("clerk", org=ORGNR)
    issued = portal.http.post(f"{portal.base}/Task/{task['id']}/$issue-code", headers=clerk)
    assert issued.status_code == 200, issued.text
    code = next(p["valueString"] for p in issued.json()["parameter"] if p["name"] == "code")
    calls: list[str] = []
    page.on("request", lambda request: calls.append(request.url))

    page.goto("/portal/rettigheter")  # signed out: the texts and the way in
    expect(page.get_by_role("heading", name="Be om retting", level=2)).to_be_visible()
    expect(page.get_by_role("link", name="Logg inn")).to_be_visible()
    expect(page.get_by_role("button")).to_have_count(0)

    page.goto("/portal/")
    page.get_by_label("Engangskode").fill(code)
    page.get_by_role("button", name="Åpne skjemaet").click()
    expect(page.get_by_role("heading", name="Samtykke til registrering")).to_be_visible()
    calls.clear()
    page.get_by_role("navigation", name="Om dine opplysninger").get_by_role("link", name="Dine rettigheter").click()
    expect(page.get_by_role("heading", name="Dine rettigheter", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Se opplysningene om deg", level=2)).to_be_visible()
    expect(page.get_by_text("På et nettbrett i klinikken vises ingen opplysninger om deg.")).to_be_visible()
    for function in ("Last ned alle opplysningene (FHIR)", "Send forespørsel om retting", "Trekk samtykket"):
        expect(page.get_by_role("button", name=function)).to_have_count(0)
    expect(page.get_by_role("table")).to_have_count(0)
    expect(page.get_by_role("textbox")).to_have_count(0)
    assert not [url for url in calls if DATA_CALLS.search(url)], calls
    page.get_by_role("link", name="Tilbake til skjemaet").click()
    expect(page.get_by_role("heading", name="Samtykke til registrering")).to_be_visible()
