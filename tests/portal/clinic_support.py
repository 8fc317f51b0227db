"""What the clinic pages' browser tests stand on: a clinician in the directory (a Practitioner with an HPR number),
an appointment today at the test unit as the EHR pushes it (flagged for a registry, with a named patient), the
episode and clinician draft the workers open for it (N5), and the staff sign-in in the page."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fhir_server.norway.identifiers import HPR_SYSTEM, synthetic_fnr
from tests.portal.support import ORGNR, REGISTRY_SYSTEM, ROOT, SD, PortalServer, wait_for

OPENED_BY = "https://ryggrad.no/fhir/sid/opening-appointment"
EPISODE = SD + "episode"


@dataclass(frozen=True)
class Booked:
    """An appointment today and what the workers opened for it."""

    appointment: str
    patient: str  # Patient/<id>
    episode: dict[str, Any]
    clinician_draft: dict[str, Any] | None
    baseline: dict[str, Any] | None


def add_clinician(portal: PortalServer, hpr: str, family: str = "Lege", given: str = "Test") -> str:
    """A Practitioner with the HPR number (the directory is shared); its id."""
    practitioner = {
        "resourceType": "Practitioner",
        "id": f"hpr-{hpr}",
        "identifier": [{"system": HPR_SYSTEM, "value": hpr}],
        "name": [{"family": family, "given": [given]}],
    }
    admin = portal.token("registry-admin")
    answer = portal.http.put(f"{portal.base}/Practitioner/hpr-{hpr}", json=practitioner, headers=admin)
    assert answer.status_code in (200, 201), answer.text
    return practitioner["id"]


def book_today(portal: PortalServer, fnr: str, name: tuple[str, str], registry: str = "nnrr") -> Booked:
    """A booked appointment a few minutes ago (today, so the consultation has passed) for a named patient."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=3)
    appointment, patient = portal.push_appointment(
        fnr, start, registry=registry, name=name, minutes=45, prefix="clinic"
    )

    def episode() -> dict[str, Any] | None:
        found = portal.search("EpisodeOfCare", identifier=f"{OPENED_BY}|Appointment/{appointment}")
        return found[0] if found else None

    opened = wait_for(episode, "the worker to open the episode")
    reference = f"EpisodeOfCare/{opened['id']}"
    responses = portal.search("QuestionnaireResponse", episode=reference)
    tasks = portal.search("Task", episode=reference)
    return Booked(
        appointment=appointment,
        patient=patient,
        episode=opened,
        clinician_draft=next((r for r in responses if not r.get("basedOn")), None),
        baseline=next(iter(tasks), None),
    )


def read(portal: PortalServer, path: str) -> dict[str, Any]:
    answer = portal.http.get(f"{portal.base}/{path}", headers=portal.token("registry-admin"))
    assert answer.status_code == 200, answer.text
    return answer.json()


def sign_in(page: Any, hpr: str, role: str = "Behandler", org: str = ORGNR) -> None:
    """The development sign-in at /clinic, as a clinician (or ``Merkantil``) of the unit."""
    page.goto("/clinic/")
    page.get_by_label(role, exact=True).check()
    page.get_by_label("HPR-nummer").fill(hpr)
    page.get_by_label("Enhetens organisasjonsnummer (9 siffer)").fill(org)
    page.get_by_role("button", name="Logg inn").click()


def new_fnr(seed: int) -> str:
    """A synthetic FNR of an adult no other portal test uses (the server is shared by the session's tests)."""
    return synthetic_fnr(date(1960, 1, 1) + timedelta(days=seed % 9000), random.Random(seed))


def _first_option(questionnaire: dict[str, Any], link_id: str) -> dict[str, Any]:
    def find(items: list[dict[str, Any]]) -> dict[str, Any] | None:
        for item in items:
            if item["linkId"] == link_id:
                return item
            found = find(item.get("item") or [])
            if found:
                return found
        return None

    item = find(questionnaire["item"])
    assert item is not None, link_id
    return item["answerOption"][0]["valueCoding"]


def answer_pre_consultation(portal: PortalServer, booked: Booked, fnr: str) -> dict[str, Any]:
    """The patient consents (N2) and answers the pre-consultation form (its education and its consent only), as
    the portal sends them; the response."""
    assert booked.baseline is not None
    admin = portal.token("registry-admin")
    sent = portal.http.post(f"{portal.base}/Task/{booked.baseline['id']}/$dispatch-now", headers=admin)
    assert sent.status_code == 200, sent.text
    patient = portal.token("patient", patient=fnr)
    consent = {
        "resourceType": "Consent",
        "meta": {"profile": [SD + "registry-consent"]},
        "extension": [
            {"url": SD + "registry", "valueCoding": {"system": REGISTRY_SYSTEM, "code": "nnrr"}},
            {
                "url": SD + "consent-channel",
                "valueCoding": {"system": "https://ryggrad.no/fhir/CodeSystem/consent-channel", "code": "digital"},
            },
        ],
        "status": "active",
        "scope": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]
        },
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": booked.patient},
        "dateTime": datetime.now(UTC).isoformat(),
        "provision": {"type": "permit"},
    }
    given = portal.http.post(f"{portal.base}/Consent", json=consent, headers=patient)
    assert given.status_code == 201, given.text
    form = (ROOT / "profiles" / "Questionnaire-nnrr-pre-consultation.json").read_text()
    questionnaire = json.loads(form)
    education = {"linkId": "education", "answer": [{"valueCoding": _first_option(questionnaire, "education")}]}
    response = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"{questionnaire['url']}|{questionnaire['version']}",
        "basedOn": [{"reference": f"Task/{booked.baseline['id']}"}],
        "subject": {"reference": booked.patient},
        "status": "completed",
        "item": [
            {"linkId": "background", "item": [education]},
            {"linkId": "consent", "answer": [{"valueCoding": _first_option(questionnaire, "consent")}]},
        ],
    }
    answered = portal.http.post(f"{portal.base}/QuestionnaireResponse", json=response, headers=patient)
    assert answered.status_code == 201, answered.text
    return answered.json()
