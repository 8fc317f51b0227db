"""The Helsenorge channel: the form as a skjemaoppgave — a FHIR Task POSTed to the portal's task endpoint
(``…/oppgave/v1/Task``), with the citizen named by national identity number, the form by its blankett number,
the GUID business identifier (by which the receiver recognises a repeat) and the service-area label. Its
authentication (HelseID) comes with the integrations."""

from __future__ import annotations

from typing import Any

import httpx

from fhir_server.norway.identifiers import DNR_SYSTEM, FNR_SYSTEM
from workers.registry.channels import Dispatch, Permanent, Transient

BLANKETT = "http://helsenorge.no/fhir/blankett-nummer"
TASK_INPUT = "http://helsenorge.no/fhir/task-input"


def skjemaoppgave(dispatch: Dispatch) -> dict[str, Any]:
    """The Task as Helsenorge takes it."""
    task = dispatch.task
    person = next(
        (
            i
            for i in (dispatch.patient or {}).get("identifier") or []
            if i.get("system") in (FNR_SYSTEM, DNR_SYSTEM) and i.get("value")
        ),
        None,
    )
    if person is None:
        raise Permanent("the patient has no national identity number")
    questionnaire = dispatch.questionnaire or {}
    form_id = questionnaire.get("id") or str(task.get("focus", {}).get("reference", "")).rsplit("/", 1)[-1]
    period = (task.get("restriction") or {}).get("period") or {}
    return {
        "resourceType": "Task",
        "meta": {
            "security": [s for s in (task.get("meta") or {}).get("security") or [] if "7618" in s.get("system", "")]
        },
        "identifier": task.get("identifier"),
        "status": "ready",
        "intent": "order",
        "priority": task.get("priority", "routine"),
        "description": task.get("description"),
        "focus": {"identifier": {"system": BLANKETT, "value": form_id}, "display": questionnaire.get("title")},
        "for": {"identifier": {"system": person["system"], "value": person["value"]}},
        "authoredOn": task.get("authoredOn"),
        "restriction": {"period": {"end": period.get("end")}},
        "input": [
            {
                "type": {"coding": [{"system": TASK_INPUT, "code": "questionnaire"}]},
                "valueCanonical": str(task.get("focus", {}).get("reference")),
            }
        ],
    }


class HelsenorgeChannel:
    name = "helsenorge"
    medium = "ELECTRONIC"

    def __init__(self, url: str | None, timeout_s: float = 10.0) -> None:
        self.url = url
        self.timeout_s = timeout_s

    def applies(self, dispatch: Dispatch) -> bool:
        return bool(self.url)

    def send(self, dispatch: Dispatch) -> None:
        body = skjemaoppgave(dispatch)
        try:
            response = httpx.post(
                str(self.url), json=body, headers={"Content-Type": "application/fhir+json"}, timeout=self.timeout_s
            )
        except httpx.HTTPError as exc:
            raise Transient(f"Helsenorge could not be reached ({type(exc).__name__})") from None
        if response.status_code in (408, 429) or response.status_code >= 500:
            raise Transient(f"Helsenorge answered HTTP {response.status_code}")
        if not 200 <= response.status_code < 300:
            raise Permanent(f"Helsenorge refused the task: HTTP {response.status_code}")
