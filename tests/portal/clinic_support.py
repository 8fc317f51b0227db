"""What the clinic pages' browser tests stand on: a clinician in the directory (a Practitioner with an HPR number),
an appointment today at the test unit as the EHR pushes it (flagged for a registry, with a named patient), the
episode and clinician draft the workers open for it (N5), and the staff sign-in in the page."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fhir_server.norway.identifiers import FNR_SYSTEM, HPR_SYSTEM, synthetic_fnr
from tests.portal.support import ORGNR, REGISTRY_SYSTEM, SD, PortalServer, wait_for

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


def _search(portal: PortalServer, path: str, **params: str) -> list[dict[str, Any]]:
    return portal.search(path, **params)


def book_today(portal: PortalServer, fnr: str, name: tuple[str, str], registry: str = "nnrr") -> Booked:
    """A booked appointment a few minutes ago (today, so the consultation has passed) for a named patient."""
    appointment = f"clinic-{uuid.uuid4().hex[:12]}"
    patient_url = f"urn:uuid:{uuid.uuid4()}"
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=3)
    given, family = name
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": patient_url,
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [{"system": FNR_SYSTEM, "value": fnr, "use": "official"}],
                    "name": [{"family": family, "given": [given]}],
                },
                "request": {"method": "POST", "url": "Patient", "ifNoneExist": f"identifier={FNR_SYSTEM}|{fnr}"},
            },
            {
                "resource": {
                    "resourceType": "Appointment",
                    "id": appointment,
                    "extension": [
                        {
                            "url": SD + "registry-potential",
                            "valueCoding": {"system": REGISTRY_SYSTEM, "code": registry},
                        }
                    ],
                    "identifier": [{"system": "urn:oid:2.16.578.1.12.4.1.2.1234.9", "value": appointment}],
                    "status": "booked",
                    "start": start.isoformat(),
                    "end": (start + timedelta(minutes=45)).isoformat(),
                    "participant": [{"status": "accepted", "actor": {"reference": patient_url}}],
                },
                "request": {"method": "PUT", "url": f"Appointment/{appointment}"},
            },
        ],
    }
    pushed = portal.http.post(portal.base, json=bundle, headers=portal.token("ehr", org=ORGNR))
    assert pushed.status_code == 200, pushed.text
    location = pushed.json()["entry"][0]["response"]["location"]
    patient = "/".join(location.split("/_history")[0].split("/")[-2:])

    def episode() -> dict[str, Any] | None:
        found = _search(portal, "EpisodeOfCare", identifier=f"{OPENED_BY}|Appointment/{appointment}")
        return found[0] if found else None

    opened = wait_for(episode, "the worker to open the episode")
    reference = f"EpisodeOfCare/{opened['id']}"
    responses = _search(portal, "QuestionnaireResponse", episode=reference)
    tasks = _search(portal, "Task", episode=reference)
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
