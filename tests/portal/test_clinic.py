"""The clinic's pages in headless Chromium against ``ryggrad serve``: a clinician signs in (development mode), sees
today's appointment with its episode in the unit's work list, opens the patient, saves the clinician form as a draft
(the booking-time draft of N5, not a second one; N14: not without the visit date), is told which mandatory fields
are missing when finalising too early (N15), fills them and finalises; the form leaves the unfinished lists (N13).
The office gives OPR's short baseline on site (P6)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.portal.clinic_support import add_clinician, answer_pre_consultation, book_today, new_fnr, read, sign_in
from tests.portal.support import PortalServer, wait_for

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (the test extra)")
expect = sync_api.expect

HPR = "7654321"
CLINICIAN_FORM = "https://ryggrad.no/fhir/Questionnaire/nnrr-clinician|1.0.0"
#: a required question's first option, by the name refero gives it (the question's text and the option's)
FIRST_OPTIONS = [
    ("radio", "Tolk brukt Ja"),
    ("radio", "HelseIArbeid-poliklinikk Ja"),
    ("radio", "Deltar i forsknings- eller behandlingsstudie Ja"),
    ("checkbox", "Yrkesgrupper i vurderingen Lege"),
    ("radio", "Tidligere operert i nakke, rygg eller bekken Ja"),
    ("radio", "Gule flagg som kompliserer forløpet 1"),
    ("radio", "Mestringsorientert samtale Ja"),
    ("radio", "Råd om livsstil og/eller medisinering Ja"),
    ("radio", "Arbeids- eller utdanningsfunksjon vurdert Ja"),
    ("checkbox", "Modalitet Ingen"),
    ("radio", "Smertelokalisasjon Nakke"),
    ("radio", "Kategori Uspesifikke smerter"),
    ("checkbox", "Status I arbeid"),
    ("radio", "Behandling i spesialisthelsetjenesten? Ja"),
]


def _answers(response: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}

    def walk(items: list[dict[str, Any]]) -> None:
        for item in items:
            if item.get("answer"):
                found[item["linkId"]] = item["answer"]
            walk(item.get("item") or [])

    walk(response.get("item") or [])
    return found


def _unfinished(page: Any, title: str) -> Any:
    return page.get_by_role("region", name=title)


def test_a_clinician_saves_a_draft_is_told_what_is_missing_and_finalises(page: Any, portal: PortalServer):
    practitioner = add_clinician(portal, HPR)
    booked = book_today(portal, new_fnr(1), ("Kari", "Nordseth"))
    draft = booked.clinician_draft
    assert draft is not None and draft["status"] == "in-progress"

    sign_in(page, HPR)
    expect(page.get_by_role("heading", name="Arbeidsliste for enheten", level=1)).to_be_focused()
    assert "token" not in page.url and "eyJ" not in page.url and HPR not in page.url
    today = page.get_by_role("region", name="Dagens timer")
    row = today.get_by_role("row").filter(has=page.get_by_role("link", name="Kari Nordseth"))
    expect(row).to_contain_text("Norsk nakke- og ryggregister")
    expect(row).to_contain_text("Ikke sendt ennå")
    # the booking-time draft counts once the consultation has passed (N13), nobody's own yet
    unit_list = _unfinished(page, "Enhetens uferdige skjema")
    expect(unit_list.get_by_role("row").filter(has_text="Kari Nordseth")).to_contain_text("0 dager")
    expect(_unfinished(page, "Mine uferdige skjema")).to_contain_text("Du har ingen uferdige behandlerskjema.")

    row.get_by_role("link", name="Kari Nordseth").click()
    expect(page.get_by_role("heading", name="Forløp: Kari Nordseth", level=1)).to_be_focused()
    assert booked.episode["id"] in page.url
    expect(page.get_by_text("Pasienten har ikke svart på skjemaet før konsultasjonen")).to_be_visible()
    visit_date = page.get_by_role("textbox", name="Dato for konsultasjonen")

    # N14: a draft someone writes has the visit date
    page.get_by_role("button", name="Lagre kladd").click()
    alert = page.get_by_role("alert", name="Kladden ble ikke lagret")
    expect(alert).to_be_focused()
    expect(alert).to_contain_text("dato for konsultasjonen (N14)")

    day = datetime.now(ZoneInfo("Europe/Oslo")).date()
    visit_date.fill(day.strftime("%d.%m.%Y"))
    visit_date.press("Tab")
    page.get_by_role("button", name="Lagre kladd").click()
    expect(page.get_by_text("Kladden ble lagret")).to_be_visible()
    expect(alert).to_have_count(0)
    saved = read(portal, f"QuestionnaireResponse/{draft['id']}")  # the N5 draft, not a second response
    assert saved["status"] == "in-progress" and saved["questionnaire"] == CLINICIAN_FORM
    assert _answers(saved)["visit-date"] == [{"valueDate": day.isoformat()}]
    assert saved["author"] == {"reference": f"Practitioner/{practitioner}"}
    responses = portal.search("QuestionnaireResponse", episode=f"EpisodeOfCare/{booked.episode['id']}")
    assert [r["id"] for r in responses] == [draft["id"]]

    # now the clinician's own unfinished form; the draft opens again where it stopped
    page.get_by_role("link", name="Tilbake til arbeidslisten").click()
    mine = _unfinished(page, "Mine uferdige skjema")
    mine.get_by_role("link", name="Kari Nordseth").click()
    expect(page.get_by_role("heading", name="Forløp: Kari Nordseth", level=1)).to_be_visible()
    expect(visit_date).to_have_value(day.strftime("%d.%m.%Y"))

    # N15: finalising too early names every missing mandatory field
    page.get_by_role("button", name="Ferdigstill").click()
    alert = page.get_by_role("alert", name="Skjemaet ble ikke ferdigstilt")
    expect(alert).to_be_focused()
    for question in ("Tolk brukt", "Yrkesgrupper i vurderingen", "Smertelokalisasjon", "ICD-10-kode"):
        expect(alert).to_contain_text(question)
    assert read(portal, f"QuestionnaireResponse/{draft['id']}")["status"] == "in-progress"

    for role, name in FIRST_OPTIONS:
        option = page.get_by_role(role, name=name, exact=True)
        if role == "checkbox":
            option.press("Space")  # by keyboard: the design system's label covers the box itself
            expect(option).to_be_checked()
        else:
            option.check()
    page.get_by_role("textbox", name="ICD-10-kode").fill("M54.2")
    page.get_by_role("button", name="Ferdigstill").click()
    expect(page.get_by_role("status").filter(has_text="Behandlerskjemaet er ferdigstilt")).to_be_visible()
    expect(page.get_by_text("M54.2")).to_be_visible()  # the finalised form, read-only
    final = read(portal, f"QuestionnaireResponse/{draft['id']}")
    assert final["status"] == "completed"
    assert _answers(final)["icd10"] == [{"valueString": "M54.2"}]

    page.get_by_role("link", name="Tilbake til arbeidslisten").click()
    expect(_unfinished(page, "Mine uferdige skjema")).to_contain_text("Du har ingen uferdige behandlerskjema.")
    expect(_unfinished(page, "Enhetens uferdige skjema").get_by_role("link", name="Kari Nordseth")).to_have_count(0)


def test_the_office_gives_the_short_baseline_on_site(page: Any, portal: PortalServer):
    booked = book_today(portal, new_fnr(2), ("Ola", "Smertesen"), registry="opr")
    assert booked.baseline is not None and booked.baseline["status"] in ("requested", "ready")

    sign_in(page, "8765432", role="Merkantil")
    page.get_by_role("region", name="Dagens timer").get_by_role("link", name="Ola Smertesen").click()
    expect(page.get_by_role("heading", name="Forløp: Ola Smertesen", level=1)).to_be_visible()
    expect(page.get_by_role("button", name="Slett forløp")).to_have_count(0)  # the clinician deletes (N19)
    page.get_by_role("link", name="Kort kartlegging (P6)").click()
    expect(page.get_by_role("heading", name="Kort kartlegging (P6): Ola Smertesen", level=1)).to_be_visible()
    page.get_by_role("radio", name="Hvorfor ble det korte skjemaet brukt? Har ikke PC, telefon eller nettbrett").check()
    for n in range(1, 6):
        page.get_by_role("radio", name=f"Helsetilstand i dag (EQ-5D-5L), spørsmål {n}", exact=False).first.check()
    page.get_by_role("button", name="Send inn").click()
    expect(page.get_by_role("heading", name="Kort kartlegging er sendt", level=1)).to_be_visible()

    def sent() -> dict[str, Any] | None:
        found = portal.search("QuestionnaireResponse", episode=f"EpisodeOfCare/{booked.episode['id']}")
        return next((r for r in found if r.get("basedOn")), None)

    response = wait_for(sent, "the short baseline")
    assert response["status"] == "completed"
    assert response["questionnaire"].startswith("https://ryggrad.no/fhir/Questionnaire/opr-short-baseline")
    assert response["basedOn"] == [{"reference": f"Task/{booked.baseline['id']}"}]
    assert _answers(response)["short-reason"][0]["valueCoding"]["code"]


def test_clinic_pages_are_served_with_their_own_fallback(portal: PortalServer):
    for path in ("/clinic", "/clinic/", "/clinic/arbeidsliste", "/clinic/forlop/some-id/kort-kartlegging"):
        answer = portal.http.get(portal.url + path, follow_redirects=True)
        assert answer.status_code == 200, path
        assert "/src/clinic/" not in answer.text and "/portal/assets/clinic-" in answer.text, path
        assert answer.headers["cache-control"] == "no-cache"
        assert "script-src 'self'" in answer.headers["content-security-policy"]
    patient_page = portal.http.get(f"{portal.url}/portal/oppgaver")
    assert patient_page.status_code == 200 and "/portal/assets/clinic-" not in patient_page.text
    assert portal.http.get(f"{portal.url}/clinic/config.json").json() == {"devLogin": True}
    assert portal.http.get(f"{portal.url}/clinic/assets/missing.js").status_code == 404


def test_the_patients_answers_and_deleting_the_episode(page: Any, portal: PortalServer):
    fnr = new_fnr(3)
    booked = book_today(portal, fnr, ("Per", "Avslutt"))
    answer_pre_consultation(portal, booked, fnr)
    sign_in(page, "6543210")
    page.get_by_role("region", name="Dagens timer").get_by_role("link", name="Per Avslutt").click()
    answers = page.get_by_role("region", name="Pasientens svar før konsultasjonen")
    expect(answers).to_contain_text("NNRR - skjema før første konsultasjon")
    education = answers.get_by_role("term").filter(has_text="Høyeste fullførte utdanning")
    expect(education).to_be_visible()
    expect(answers.get_by_text("Grunnskole", exact=True)).to_be_visible()

    # N19: the patient declines at the consultation; the clinician deletes the episode, after a confirmation
    page.get_by_role("button", name="Slett forløp").click()
    question = page.get_by_text("Vil du slette forløpet?")
    expect(question).to_be_focused()
    page.get_by_role("button", name="Avbryt").click()
    expect(page.get_by_role("button", name="Slett forløp")).to_be_focused()
    assert read(portal, f"EpisodeOfCare/{booked.episode['id']}")["status"] == "planned"
    page.get_by_role("button", name="Slett forløp").click()
    page.get_by_role("button", name="Ja, slett forløpet").click()
    expect(page.get_by_role("status").filter(has_text="Forløpet er slettet")).to_be_visible()
    assert read(portal, f"EpisodeOfCare/{booked.episode['id']}")["status"] == "entered-in-error"
    draft = booked.clinician_draft
    assert draft is not None
    wait_for(
        lambda: read(portal, f"QuestionnaireResponse/{draft['id']}")["status"] == "entered-in-error",
        "the workers to withdraw the clinician draft",
    )
    page.get_by_role("link", name="Tilbake til arbeidslisten").click()
    expect(_unfinished(page, "Enhetens uferdige skjema").get_by_role("link", name="Per Avslutt")).to_have_count(0)


def test_the_office_keys_in_a_paper_form_with_the_consent_on_it(page: Any, portal: PortalServer):
    """N4: the patient's paper form keyed in by staff, marked as paper with the staff member as its author; NNRR's
    consent on the paper is recorded first (N2, channel paper), and the form cannot be sent without it."""
    booked = book_today(portal, new_fnr(4), ("Kari", "Papir"))
    assert booked.baseline is not None
    clerk = add_clinician(portal, "7654321", family="Kontor", given="Kari")

    sign_in(page, "7654321", role="Merkantil")
    page.get_by_role("region", name="Dagens timer").get_by_role("link", name="Kari Papir").click()
    page.get_by_role("link", name="Registrer papirskjema").click()
    expect(page.get_by_role("heading", name="Registrer papirskjema: Kari Papir", level=1)).to_be_visible()
    send = page.get_by_role("button", name="Send inn")
    expect(send).to_be_disabled()  # the consent on the paper comes first
    page.get_by_label("Pasienten har samtykket på papirskjemaet").check()
    page.get_by_label("Jeg samtykker").check()
    send.click()
    expect(page.get_by_role("heading", name="Papirskjemaet er registrert", level=1)).to_be_visible()

    def sent() -> dict[str, Any] | None:
        found = portal.search("QuestionnaireResponse", episode=f"EpisodeOfCare/{booked.episode['id']}")
        return next((r for r in found if r.get("basedOn") and r["status"] == "completed"), None)

    response = wait_for(sent, "the paper form")
    assert response["basedOn"] == [{"reference": f"Task/{booked.baseline['id']}"}]
    channel = next(e for e in response["extension"] if e["url"].endswith("/response-channel"))
    assert channel["valueCoding"]["code"] == "paper"
    assert response["author"] == {"reference": f"Practitioner/{clerk}"}
    assert response["source"] == booked.baseline["for"]
    (consent,) = portal.search("Consent", patient=booked.baseline["for"]["reference"])
    consent_channel = next(e for e in consent["extension"] if e["url"].endswith("/consent-channel"))
    assert consent["status"] == "active" and consent_channel["valueCoding"]["code"] == "paper"
