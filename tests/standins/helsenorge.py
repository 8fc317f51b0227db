"""A Helsenorge-like task endpoint on 127.0.0.1: ``POST …/oppgave/v1/Task`` takes a skjemaoppgave and checks its
shape (400 with an OperationOutcome naming what is wrong), a repeat of the same GUID identifier answers 200 and is
not kept twice; ``PUT …/oppgave/v1/Task/{id}`` updates or cancels; ``GET …/oppgave/v1/Task?identifier=system|value``
reads it back. ``open`` marks a task in progress (the citizen opened it), ``complete`` completed (answered).

Given HelseID's issuer and JWKS, it requires what the real API does: every request with a DPoP-bound access token
for its audience (``Authorization: DPoP …``, ``cnf.jkt``) and a fresh proof by that key for this method, URL and
token (``htm``, ``htu``, ``ath``), verified by the server's own code; anything else is refused with 401 and an
OperationOutcome. Each request records the client id that made it."""

from __future__ import annotations

import re
import threading
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from fhir_server.auth.dpop import verify_proof
from fhir_server.auth.replay import MemoryReplayCache
from fhir_server.auth.tokens import InvalidToken, TokenVerifier
from fhir_server.settings import Settings
from tests.standins.loopback import LoopbackServer

PATH = "/oppgave/v1/Task"
AUDIENCE = "nhn:helsenorge"
SCOPE = "nhn:helsenorge/oppgave"
LEEWAY_S = 30
BLANKETT = "http://helsenorge.no/fhir/blankett-nummer"
TASK_INPUT = "http://helsenorge.no/fhir/task-input"
PERSON_SYSTEMS = ("urn:oid:2.16.578.1.12.4.1.4.1", "urn:oid:2.16.578.1.12.4.1.4.2")  # FNR, DNR
STATUSES = ("ready", "in-progress", "completed", "cancelled")
GUID = re.compile(r"^(urn:uuid:)?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _guid(task: dict[str, Any]) -> str | None:
    """The task's GUID business identifier as ``system|value``."""
    for identifier in task.get("identifier") or []:
        if isinstance(identifier, dict) and GUID.match(str(identifier.get("value") or "")):
            return f"{identifier.get('system') or ''}|{identifier['value']}"
    return None


def problems(task: Any) -> list[str]:
    """What is wrong with a skjemaoppgave (nothing: it is taken)."""
    if not isinstance(task, dict) or task.get("resourceType") != "Task":
        return ["resourceType: not a Task"]
    found = []
    if _guid(task) is None:
        found.append("identifier: no GUID business identifier")
    focus = ((task.get("focus") or {}).get("identifier")) or {}
    if focus.get("system") != BLANKETT or not focus.get("value"):
        found.append(f"focus.identifier: no blankett number ({BLANKETT})")
    security = (task.get("meta") or {}).get("security") or []
    if not any("7618" in str(s.get("system", "")) for s in security if isinstance(s, dict)):
        found.append("meta.security: no tjenesteområde (7618)")
    if task.get("intent") != "order":
        found.append("intent: must be order")
    if task.get("status") not in STATUSES:
        found.append(f"status: must be one of {', '.join(STATUSES)}")
    person = ((task.get("for") or {}).get("identifier")) or {}
    if person.get("system") not in PERSON_SYSTEMS or not re.fullmatch(r"\d{11}", str(person.get("value") or "")):
        found.append("for.identifier: no national identity number")
    if not task.get("description"):
        found.append("description: missing")
    if not ((task.get("restriction") or {}).get("period") or {}).get("end"):
        found.append("restriction.period.end: no deadline")
    inputs = task.get("input") or []
    if not inputs:
        found.append("input: missing")
    for n, entry in enumerate(inputs):
        codings = ((entry or {}).get("type") or {}).get("coding") or []
        if not any(c.get("system") == TASK_INPUT and c.get("code") for c in codings):
            found.append(f"input[{n}].type: not typed with {TASK_INPUT}")
    return found


def outcome(diagnostics: list[str], code: str = "invalid") -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": d} for d in diagnostics],
    }


@dataclass
class Request:
    method: str
    path: str
    body: Any
    status: int
    client_id: str | None = None  # the HelseID client that called (when tokens are required)


class Helsenorge:
    """The stand-in: ``tasks`` by their Helsenorge id, ``requests`` as they came (with the answer's status)."""

    def __init__(self, issuer: str | None = None, jwks_url: str | None = None, audience: str = AUDIENCE) -> None:
        self.tasks: dict[str, dict[str, Any]] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._tokens: TokenVerifier | None = None
        self._replay = MemoryReplayCache()
        if issuer or jwks_url:
            settings = Settings(
                auth="jwt", auth_issuer=issuer, auth_jwks_url=jwks_url, auth_audience=audience, auth_leeway_s=LEEWAY_S
            )
            self._tokens = TokenVerifier(settings)
        self._http = LoopbackServer(self._handler())
        self.port = self._http.port

    @property
    def url(self) -> str:
        """The task endpoint, ``…/oppgave/v1/Task``."""
        return f"http://127.0.0.1:{self.port}{PATH}"

    def stop(self) -> None:
        self._http.stop()

    def find(self, identifier: str) -> dict[str, Any] | None:
        """The task whose GUID identifier is ``system|value``, or ``value`` alone."""
        with self._lock:
            for task in self.tasks.values():
                key = _guid(task) or ""
                if identifier in (key, key.split("|", 1)[-1]):
                    return task
        return None

    def open(self, identifier: str) -> None:
        """The citizen opened the form."""
        self._mark(identifier, "in-progress")

    def complete(self, identifier: str) -> None:
        """The citizen answered."""
        self._mark(identifier, "completed")

    def _mark(self, identifier: str, status: str) -> None:
        task = self.find(identifier)
        assert task is not None, f"no task {identifier}"
        with self._lock:
            task["status"] = status

    def authorise(self, method: str, target: str, authorization: str, proofs: list[str]) -> tuple[str | None, str]:
        """(the calling client's id, why the request is refused — empty: it is not)."""
        if self._tokens is None:
            return None, ""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "dpop" or not token:
            return None, "a DPoP-bound HelseID access token is required (Authorization: DPoP …)"
        if len(proofs) != 1:
            return None, "exactly one DPoP proof is required"
        try:
            claims = self._tokens.verify(token)
            jkt = (claims.get("cnf") or {}).get("jkt")
            if not isinstance(jkt, str):
                raise InvalidToken("the access token is not DPoP-bound (no cnf.jkt)")
            url = f"http://127.0.0.1:{self.port}{urlsplit(target).path}"
            verify_proof(
                proofs[0], method=method, url=url, access_token=token, jkt=jkt, replay=self._replay, leeway_s=LEEWAY_S
            )
        except InvalidToken as exc:
            return None, str(exc)
        return str(claims.get("client_id")), ""

    def handle(self, method: str, target: str, body: Any) -> tuple[int, Any]:
        split = urlsplit(target)
        path = split.path.rstrip("/")
        if method == "GET" and path == PATH:
            wanted = (parse_qs(split.query).get("identifier") or [""])[0]
            task = self.find(wanted) if wanted else None
            entries = [{"resource": task}] if task is not None else []
            return 200, {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries}
        if method == "POST" and path == PATH:
            wrong = problems(body)
            if wrong:
                return 400, outcome(wrong)
            existing = self.find(_guid(body) or "")
            if existing is not None:
                return 200, existing  # a repeat: recognised by its GUID, not kept twice
            with self._lock:
                task = {**body, "id": str(uuid.uuid4())}
                self.tasks[task["id"]] = task
            return 201, task
        if method == "PUT" and path.startswith(PATH + "/"):
            task_id = path.rsplit("/", 1)[1]
            with self._lock:
                existing = self.tasks.get(task_id)
            if existing is None:
                return 404, outcome([f"no Task {task_id}"], "not-found")
            wrong = problems(body)
            if isinstance(body, dict) and body.get("id") not in (None, task_id):
                wrong.append("id: does not match the URL")
            if isinstance(body, dict) and _guid(body) != _guid(existing):
                wrong.append("identifier: the GUID business identifier cannot change")
            if wrong:
                return 400, outcome(wrong)
            with self._lock:
                self.tasks[task_id] = {**body, "id": task_id}
            return 200, self.tasks[task_id]
        return 404, outcome([f"no such endpoint: {method} {path}"], "not-found")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = orjson.loads(raw) if raw else None
                except orjson.JSONDecodeError:
                    body, client_id = None, None
                    status, answer = 400, outcome(["the body is not JSON"], "structure")
                else:
                    authorization = self.headers.get("Authorization") or ""
                    client_id, refused = standin.authorise(
                        self.command, self.path, authorization, self.headers.get_all("DPoP") or []
                    )
                    if refused:
                        status, answer = 401, outcome([refused], "login")
                    else:
                        status, answer = standin.handle(self.command, self.path, body)
                with standin._lock:
                    standin.requests.append(Request(self.command, self.path, body, status, client_id))
                data = orjson.dumps(answer)
                self.send_response(status)
                if status == 401:
                    self.send_header("WWW-Authenticate", 'DPoP error="invalid_token"')
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = _handle

            def log_message(self, *args: Any) -> None:
                pass

        return Handler
