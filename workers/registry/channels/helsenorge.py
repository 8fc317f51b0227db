"""The Helsenorge channel: the form as a skjemaoppgave — a FHIR Task POSTed to the portal's task endpoint
(``…/oppgave/v1/Task``), with the citizen named by national identity number, the form by its blankett number,
the GUID business identifier (by which the receiver recognises a repeat) and the service-area label. A form the
registry later moves or cancels is updated there (``update``: the task found by its identifier, then PUT), and
``status`` reads back where the citizen is with it. A reminder (P1) is an update too: the same task, PUT with
priority ``asap`` (Helsenorge reminds the citizen of it); a second POST would be taken as a repeat and ignored.

With a HelseID client configured (``RYGGRAD_HELSEID_*``), every request carries a DPoP-bound access token for
Helsenorge's scopes (``RYGGRAD_REGISTRY_HELSENORGE_SCOPES``) and a fresh proof; one client per configuration and
process, so its token is reused across sendings. HelseID refusing or being away is a ``Transient`` failure, as is
Helsenorge refusing the token (401/403): the form is not at fault, and the delivery machinery tries again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from fhir_server.integrations.helseid import HelseIdAuth, HelseIdError, shared_auth
from fhir_server.norway.identifiers import DNR_SYSTEM, FNR_SYSTEM
from fhir_server.settings import Settings
from workers.registry.channels import Dispatch, Permanent, Transient

BLANKETT = "http://helsenorge.no/fhir/blankett-nummer"
TASK_INPUT = "http://helsenorge.no/fhir/task-input"
GUID_SYSTEM = "urn:ietf:rfc:3986"
#: the registry Task's status → the skjemaoppgave's (an expired or withdrawn form is cancelled there)
REMOTE_STATUS = {
    "ready": "ready",
    "in-progress": "in-progress",
    "completed": "completed",
    "cancelled": "cancelled",
    "entered-in-error": "cancelled",
    "failed": "cancelled",
}
#: Helsenorge's task statuses a reminder can still reach the citizen in
OPEN = ("ready", "in-progress")
#: the registry Task's ``businessStatus`` text once Helsenorge says the citizen answered (the readback)
ANSWERED = "answered at Helsenorge, response awaited"


def remote_status(task: dict[str, Any]) -> str | None:
    return REMOTE_STATUS.get(str(task.get("status")))


def deadline(task: dict[str, Any]) -> str | None:
    return ((task.get("restriction") or {}).get("period") or {}).get("end")


def state(task: dict[str, Any], status: str = "ready") -> str:
    """What Helsenorge holds of a form once it has this Task: its status and deadline."""
    return f"{status} {deadline(task) or ''}".strip()


def guid(task: dict[str, Any]) -> str | None:
    """The Task's GUID business identifier as ``system|value``."""
    for identifier in task.get("identifier") or []:
        if identifier.get("system") == GUID_SYSTEM and identifier.get("value"):
            return f"{GUID_SYSTEM}|{identifier['value']}"
    return None


def skjemaoppgave(dispatch: Dispatch, status: str = "ready") -> dict[str, Any]:
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
        "status": status,
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


def answered_there(task: dict[str, Any]) -> bool:
    """Whether Helsenorge says the citizen answered the form while the registry still awaits the response."""
    return (task.get("businessStatus") or {}).get("text") == ANSWERED


def helseid_auth(settings: Settings) -> HelseIdAuth | None:
    """The HelseID authentication of requests to Helsenorge, for its own scopes (None: no HelseID client is
    configured); kept for the process, so the cached token serves every sending (``shared_auth``)."""
    return shared_auth(settings, settings.registry_helsenorge_scopes or settings.helseid_scopes)


class HelsenorgeChannel:
    name = "helsenorge"
    medium = "ELECTRONIC"

    def __init__(
        self, url: str | None, timeout_s: float = 10.0, auth: Callable[[], httpx.Auth | None] | None = None
    ) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.auth = auth  # called at each request: its authentication, or None

    @classmethod
    def from_settings(cls, settings: Settings) -> HelsenorgeChannel:
        """The channel as configured, with HelseID when a client is configured."""
        return cls(
            settings.registry_helsenorge_task_url, settings.subscription_timeout_s, lambda: helseid_auth(settings)
        )

    def applies(self, dispatch: Dispatch) -> bool:
        return bool(self.url)

    def send(self, dispatch: Dispatch) -> None:
        if dispatch.kind == "reminder":
            self.remind(dispatch)
        else:
            self._call("POST", str(self.url), skjemaoppgave(dispatch))

    def remind(self, dispatch: Dispatch) -> None:
        """P1: the task Helsenorge holds, PUT again with priority ``asap`` and its status as it is there (a form the
        citizen has opened stays in progress); one Helsenorge does not hold (any more) is sent anew, as a reminder.
        One the citizen has answered or that was withdrawn is not reminded of (``Permanent``)."""
        identifier = guid(dispatch.task)
        held = self.find(identifier) if identifier else None
        if held is None or not held.get("id"):
            self._call("POST", str(self.url), {**skjemaoppgave(dispatch), "priority": "asap"})
            return
        status = str(held.get("status"))
        if status not in OPEN:
            raise Permanent(f"Helsenorge holds the form as {status}: there is nothing to remind of")
        self._put(held["id"], {**skjemaoppgave(dispatch, status), "priority": "asap"})

    def find(self, identifier: str) -> dict[str, Any] | None:
        """The task Helsenorge holds under the GUID identifier ``system|value``, or None."""
        response = self._call("GET", str(self.url), params={"identifier": identifier})
        try:
            entries = (response.json() or {}).get("entry") or []
        except ValueError:
            raise Transient("Helsenorge answered a search with no JSON Bundle") from None
        return entries[0].get("resource") if entries else None

    def status(self, identifier: str) -> str | None:
        """Where the citizen is with the form (ready, in-progress, completed, cancelled); None: Helsenorge has no
        such task."""
        task = self.find(identifier)
        return str(task.get("status")) if task else None

    def update(self, dispatch: Dispatch, status: str) -> bool:
        """Bring Helsenorge's task in step with the Task (moved deadline, ``cancelled``); False: it holds no such
        task (there is nothing to update)."""
        body = skjemaoppgave(dispatch, status)
        identifier = guid(dispatch.task)
        held = self.find(identifier) if identifier else None
        if held is None or not held.get("id"):
            return False
        self._put(held["id"], body)
        return True

    def _put(self, task_id: str, body: dict[str, Any]) -> None:
        self._call("PUT", f"{str(self.url).rstrip('/')}/{task_id}", {**body, "id": task_id})

    def _authentication(self) -> httpx.Auth | None:
        if self.auth is None:
            return None
        try:
            return self.auth()
        except HelseIdError as exc:
            raise Transient(f"no HelseID token for Helsenorge ({exc})") from None
        except (ValueError, OSError) as exc:
            raise Transient(f"the HelseID client for Helsenorge cannot be made ({exc})") from None

    def _call(
        self, method: str, url: str, body: dict[str, Any] | None = None, params: dict[str, str] | None = None
    ) -> httpx.Response:
        auth = self._authentication()
        try:
            response = httpx.request(
                method,
                url,
                json=body,
                params=params,
                headers={"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"},
                timeout=self.timeout_s,
                auth=auth,
            )
        except HelseIdError as exc:
            raise Transient(f"no HelseID token for Helsenorge ({exc})") from None
        except httpx.HTTPError as exc:
            raise Transient(f"Helsenorge could not be reached ({type(exc).__name__})") from None
        if response.status_code in (401, 403):
            if response.status_code == 401 and isinstance(auth, HelseIdAuth):
                auth.client.forget_token()  # the next try fetches a new one
            raise Transient(
                f"Helsenorge did not accept Ryggrad's HelseID token: HTTP {response.status_code}"
                f"{_diagnostics(response)}"
            )
        if response.status_code in (408, 429) or response.status_code >= 500:
            raise Transient(f"Helsenorge answered HTTP {response.status_code}")
        if not 200 <= response.status_code < 300:
            raise Permanent(f"Helsenorge refused the task: HTTP {response.status_code}{_diagnostics(response)}")
        return response


def _diagnostics(response: httpx.Response) -> str:
    """What an OperationOutcome in the answer says was wrong."""
    try:
        issues = (response.json() or {}).get("issue") or []
    except ValueError:
        return ""
    said = [str(i.get("diagnostics")) for i in issues if isinstance(i, dict) and i.get("diagnostics")]
    return f" ({'; '.join(said)})" if said else ""
