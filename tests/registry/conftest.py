"""Fixtures of the registry tests: a local SMTP server, and the dispatch channels pointed at local stand-ins."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from starlette.testclient import TestClient

import workers.registry.dispatch  # noqa: F401 - registers the subscriber in this process
from fhir_server.norway.identifiers import FNR_SYSTEM
from fhir_server.server import FhirServer
from tests.profiles.test_registry_forms import PROFILES, answered_response
from tests.registry.test_appointment_workflow import World
from tests.standins.helsenorge import Helsenorge
from tests.subscriptions.receiver import Receiver
from workers.registry.subscriptions import INTERNAL, ensure_subscriptions

FNR = "13097248022"
EXCLUSIONS = "https://ryggrad.no/fhir/CodeSystem/registry-exclusion"


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def dispatching(
    client: TestClient, server: FhirServer, mailbox: tuple[Mailbox, int]
) -> Iterator[tuple[World, Receiver, Mailbox]]:
    box, port = mailbox
    helsenorge = Receiver()
    settings = server.settings
    saved = {
        k: getattr(settings, k)
        for k in ("registry_helsenorge_task_url", "registry_smtp_host", "registry_smtp_port", "registry_smtp_starttls")
    }
    settings.registry_helsenorge_task_url = helsenorge.url + "/oppgave/v1/Task"
    settings.registry_smtp_host, settings.registry_smtp_port, settings.registry_smtp_starttls = "127.0.0.1", port, False
    ensure_subscriptions(server)
    world = World(client, server)
    patient = {
        "resourceType": "Patient",
        "id": world.patient,
        "identifier": [{"system": FNR_SYSTEM, "value": FNR, "use": "official"}],
        "name": [{"family": "Nordmann", "given": ["Kari"]}],
        "telecom": [{"system": "email", "value": f"{world.patient}@example.no"}],
    }
    assert client.put(f"/fhir/Patient/{world.patient}", json=patient, headers=world.ehr).status_code == 200
    try:
        yield world, helsenorge, box
    finally:
        helsenorge.stop()
        for key, value in saved.items():
            setattr(settings, key, value)
        for sid, *_ in INTERNAL:
            client.delete(f"/fhir/Subscription/{sid}")


def consent(client: TestClient, patient: str, registry: str = "nnrr", headers: dict[str, str] | None = None) -> None:
    """The patient's consent to the registry (N2), as the portal records it."""
    body: dict[str, Any] = {
        "resourceType": "Consent",
        "meta": {"profile": ["https://ryggrad.no/fhir/StructureDefinition/registry-consent"]},
        "extension": [
            {
                "url": "https://ryggrad.no/fhir/StructureDefinition/registry",
                "valueCoding": {"system": "https://ryggrad.no/fhir/CodeSystem/registry", "code": registry},
            },
            {
                "url": "https://ryggrad.no/fhir/StructureDefinition/consent-channel",
                "valueCoding": {"system": "https://ryggrad.no/fhir/CodeSystem/consent-channel", "code": "digital"},
            },
        ],
        "status": "active",
        "scope": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]
        },
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": patient},
        "dateTime": "2026-11-01T12:00:00+01:00",
        "provision": {"type": "permit"},
    }
    response = client.post("/fhir/Consent", json=body, headers=headers or {})
    assert response.status_code == 201, response.json()


def reservation(patient: str) -> dict[str, Any]:
    """R4: the patient opts out of further questionnaires (an active Consent denying them)."""
    return {
        "resourceType": "Consent",
        "status": "active",
        "scope": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]
        },
        "category": [
            {"coding": [{"system": "https://ryggrad.no/fhir/CodeSystem/registry-exclusion", "code": "reservation"}]}
        ],
        "patient": {"reference": patient},
        "provision": {"type": "deny"},
    }


def pre_consultation_answers() -> dict[str, Any]:
    """The NNRR pre-consultation form answered in full (every item its first option)."""
    form = json.loads((PROFILES / "Questionnaire-nnrr-pre-consultation.json").read_text())
    return answered_response(form, "completed")


@pytest.fixture
def helsenorge(
    dispatching: tuple[World, Receiver, Mailbox], server: FhirServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[World, Helsenorge]]:
    """The Helsenorge stand-in as the only dispatch channel."""
    world, _, _ = dispatching
    standin = Helsenorge()
    monkeypatch.setattr(server.settings, "registry_helsenorge_task_url", standin.url)
    monkeypatch.setattr(server.settings, "registry_dispatch_channels", ["helsenorge"])
    try:
        yield world, standin
    finally:
        standin.stop()
