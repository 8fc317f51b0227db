"""A DIPS Arena stand-in on 127.0.0.1: a FHIR R4 endpoint holding DIPS Appointments (the shape of
``tests/fixtures/dips/``: ``meta.versionId``, ``meta.lastUpdated``, the permissions tag, a contained Schedule and
Slot, participants with national identifiers) that tests book, move and cancel as DIPS would.

- ``GET /Appointment/[id]`` and ``GET /Appointment?_lastUpdated=ge<instant>&_sort=_lastUpdated&_count=N`` (also
  ``gt``/``le``/``lt``; ``_sort`` ``_lastUpdated``, ``-_lastUpdated`` or none: by id), a ``searchset`` Bundle with
  ``total`` and a ``next`` link. Paging is by keyset (the next page starts after the last one's (lastUpdated, id)
  in the current data), so an appointment changed while a client pages is met again later, never skipped.
- Every change bumps ``versionId`` and stamps ``lastUpdated`` from the stand-in's own clock, which then moves on by
  ``tick`` (1 s unless a test sets it; ``timedelta(0)`` makes changes share an instant); ``advance()`` moves it.
- With a HelseID stand-in, each request needs its DPoP-bound token (signature by the stand-in's JWKS, issuer,
  ``audience``, ``scope``, ``cnf.jkt``) and a DPoP proof for it (``htm``/``htu``/``ath``, once); else 401 with an
  OperationOutcome. Without one, it is open.
- ``fail_next(n)``: the next ``n`` requests are answered 503 (fault injection).
- ``push(intake_url, id, …)``: DIPS's own ``PUT {intake}/Appointment/{id}`` of the current version, with a HelseID
  client's auth, a header (a development bearer token) or through a given client (a Starlette ``TestClient``).
"""

from __future__ import annotations

import copy
import json
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt

from fhir_server.auth.dpop import verify_proof
from fhir_server.auth.replay import MemoryReplayCache
from fhir_server.auth.tokens import ALGORITHMS, InvalidToken
from tests.standins.helseid import HelseIdStandIn
from tests.standins.loopback import LoopbackServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "dips"
AUDIENCE = "nhn:dips"
SCOPE = "nhn:dips/system/Appointment.read"
PERMISSIONS = "http://dips.no/fhir/appointment/permissions"
CANCELLATION = "http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason"
OSLO_WINTER = timezone(timedelta(hours=1))
DEFAULT_COUNT, MAX_COUNT = 20, 100
_PREFIXES = ("ge", "gt", "le", "lt", "eq")


class Refused(Exception):
    """A request the stand-in answers with an error: status, OperationOutcome issue code, diagnostics."""

    def __init__(self, status: int, code: str, diagnostics: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(diagnostics)
        self.status, self.code, self.diagnostics = status, code, diagnostics
        self.headers = headers or {}


def outcome(code: str, diagnostics: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}],
    }


def instant(value: datetime) -> str:
    """DIPS's form of an instant: milliseconds and the offset."""
    return value.isoformat(timespec="milliseconds")


def parse_instant(value: str) -> datetime:
    """An instant with its offset (``Z`` too); a value without one is refused."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone")
    return parsed


def sample(name: str = "booked") -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text("utf-8"))


def _slot(appointment: dict[str, Any]) -> dict[str, Any]:
    return next(r for r in appointment["contained"] if r["resourceType"] == "Slot")


class DipsStandIn:
    def __init__(
        self,
        helseid: HelseIdStandIn | None = None,
        *,
        audience: str = AUDIENCE,
        scope: str = SCOPE,
        clock: datetime = datetime(2026, 11, 2, 8, 0, tzinfo=OSLO_WINTER),
        tick: timedelta = timedelta(seconds=1),
    ) -> None:
        self.helseid = helseid
        self.audience = audience
        self.scope = scope
        self.clock = clock
        self.tick = tick
        self.appointments: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path with query) of every request served
        self._failures: list[int] = []  # statuses the next requests are answered with
        self._replay = MemoryReplayCache()
        self._jwks = jwt.PyJWKClient(helseid.jwks_uri) if helseid is not None else None
        self._lock = threading.RLock()
        self._http = LoopbackServer(self._handler())
        self.port = self._http.port

    @property
    def base(self) -> str:
        """The FHIR base URL (``{base}/Appointment``)."""
        return self._http.base

    def close(self) -> None:
        self._http.stop()

    # -- the clock and faults ------------------------------------------------------------------------------------
    def advance(self, **delta: float) -> datetime:
        """Move the clock on (``timedelta`` arguments); the new time."""
        with self._lock:
            self.clock += timedelta(**delta)
            return self.clock

    def fail_next(self, count: int = 1, status: int = 503) -> None:
        """Answer the next ``count`` requests with ``status`` (an OperationOutcome), whatever they ask."""
        with self._lock:
            self._failures.extend([status] * count)

    def _stamp(self, appointment: dict[str, Any], version: int) -> dict[str, Any]:
        appointment["meta"]["versionId"] = str(version)
        appointment["meta"]["lastUpdated"] = instant(self.clock)
        self.clock += self.tick
        return appointment

    # -- what DIPS users do --------------------------------------------------------------------------------------
    def book(
        self,
        dips_id: str | None = None,
        *,
        start: datetime | None = None,
        minutes: int = 45,
        template: str = "booked",
        patient: str | None = None,
        appointment_type: str | None = None,
    ) -> str:
        """A new booked appointment (version 1) like the ``template`` sample; its id. ``patient``: another FNR;
        ``appointment_type``: another DIPS appointment type code (an unknown one cannot be mapped)."""
        dips_id = dips_id or str(uuid.uuid4().int)[:12]
        appointment = sample(template)
        appointment["id"] = dips_id
        appointment["status"] = "booked"
        if start is not None:
            self._times(appointment, start, minutes)
        if patient is not None:
            appointment["participant"][0]["actor"]["identifier"]["value"] = patient
        if appointment_type is not None:
            appointment["appointmentType"]["coding"][0]["code"] = appointment_type
        with self._lock:
            if dips_id in self.appointments:
                raise ValueError(f"DIPS appointment {dips_id} exists")
            self.appointments[dips_id] = self._stamp(appointment, 1)
        return dips_id

    def move(self, dips_id: str, new_start: datetime, minutes: int | None = None) -> dict[str, Any]:
        """Rescheduled to ``new_start`` (the same length unless ``minutes``)."""

        def moved(appointment: dict[str, Any]) -> None:
            slot = _slot(appointment)
            length = parse_instant(slot["end"]) - parse_instant(slot["start"])
            self._times(appointment, new_start, minutes if minutes is not None else length.total_seconds() / 60)

        return self.edit(dips_id, moved)

    def cancel(self, dips_id: str, reason: str = "pat") -> dict[str, Any]:
        """Cancelled (by the patient unless ``reason``); no longer bookable online."""

        def cancelled(appointment: dict[str, Any]) -> None:
            appointment["status"] = "cancelled"
            appointment["meta"]["tag"] = [{"system": PERMISSIONS, "code": "NotOnlineBookable"}]
            appointment["cancelationReason"] = {"coding": [{"system": CANCELLATION, "code": reason}]}

        return self.edit(dips_id, cancelled)

    def edit(self, dips_id: str, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """Any change: ``change`` edits a copy of the appointment, which becomes its next version."""
        with self._lock:
            current = self.appointments[dips_id]
            appointment = copy.deepcopy(current)
            change(appointment)
            appointment["id"] = dips_id
            self.appointments[dips_id] = self._stamp(appointment, int(current["meta"]["versionId"]) + 1)
            return copy.deepcopy(self.appointments[dips_id])

    def current(self, dips_id: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self.appointments[dips_id])

    @staticmethod
    def _times(appointment: dict[str, Any], start: datetime, minutes: float) -> None:
        end = start + timedelta(minutes=minutes)
        slot = _slot(appointment)
        slot["start"], slot["end"] = start.isoformat(), end.isoformat()
        appointment["start"], appointment["end"] = start.isoformat(), end.isoformat()

    # -- pushing, as DIPS does -----------------------------------------------------------------------------------
    def push(
        self,
        intake_url: str,
        dips_id: str,
        auth: httpx.Auth | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        http: httpx.Client | None = None,
    ) -> httpx.Response:
        """``PUT {intake_url}/Appointment/{dips_id}`` with the current version. ``auth``: e.g. a HelseID client's
        ``auth()``; ``headers``: e.g. a development bearer token; ``http``: a client to send with (a Starlette
        ``TestClient`` pushes into an app in-process)."""
        url = f"{intake_url.rstrip('/')}/Appointment/{dips_id}"
        sent = {"Content-Type": "application/fhir+json", **(headers or {})}
        body = self.current(dips_id)
        if http is not None:
            return http.put(url, json=body, headers=sent, auth=auth) if auth else http.put(url, json=body, headers=sent)
        with httpx.Client(timeout=10.0, auth=auth) as client:
            return client.put(url, json=body, headers=sent)

    # -- the FHIR API --------------------------------------------------------------------------------------------
    def answer(self, method: str, target: str, headers: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        """(status, body) for a request; ``Refused`` for the errors."""
        with self._lock:
            self.requests.append((method, target))
            if self._failures:
                status = self._failures.pop(0)
                raise Refused(status, "transient", f"DIPS stand-in: injected failure ({status})")
        parts = urlsplit(target)
        self._authorise(method, f"{self.base}{parts.path}", headers)
        if method != "GET":
            raise Refused(405, "not-supported", f"{method} is not supported")
        path = parts.path.strip("/").split("/")
        if path == ["Appointment"]:
            return 200, self.search(parse_qs(parts.query, keep_blank_values=True))
        if len(path) == 2 and path[0] == "Appointment":
            with self._lock:
                found = self.appointments.get(path[1])
            if found is None:
                raise Refused(404, "not-found", f"Appointment/{path[1]} is not known")
            return 200, copy.deepcopy(found)
        raise Refused(404, "not-found", f"no such resource: {parts.path}")

    def search(self, params: dict[str, list[str]]) -> dict[str, Any]:
        unknown = set(params) - {"_lastUpdated", "_count", "_sort", "_cursor", "_format"}
        if unknown:
            raise Refused(400, "not-supported", f"unknown search parameters: {', '.join(sorted(unknown))}")
        tests = [self._condition(value) for value in params.get("_lastUpdated", [])]
        sort = (params.get("_sort") or [""])[-1]
        if sort not in ("", "_lastUpdated", "-_lastUpdated"):
            raise Refused(400, "not-supported", f"_sort={sort} is not supported")
        try:
            count = min(int((params.get("_count") or [str(DEFAULT_COUNT)])[-1]), MAX_COUNT)
        except ValueError as exc:
            raise Refused(400, "invalid", "_count must be a number") from exc
        if count < 0:
            raise Refused(400, "invalid", "_count must not be negative")

        def key(appointment: dict[str, Any]) -> tuple[Any, ...]:
            if sort:
                return (parse_instant(appointment["meta"]["lastUpdated"]), appointment["id"])
            return (appointment["id"],)

        with self._lock:
            matches = [
                copy.deepcopy(a)
                for a in self.appointments.values()
                if all(test(parse_instant(a["meta"]["lastUpdated"])) for test in tests)
            ]
        descending = sort.startswith("-")
        matches.sort(key=key, reverse=descending)
        cursor = (params.get("_cursor") or [None])[-1]
        page = matches
        if cursor is not None:
            after = self._cursor(cursor, bool(sort))
            page = [a for a in matches if (key(a) < after if descending else key(a) > after)]
        shown, rest = page[:count], page[count:]
        query = {name: values for name, values in params.items() if name != "_cursor"}
        links = [{"relation": "self", "url": self._url(query, cursor)}]
        if rest and shown:
            last = key(shown[-1])
            links.append({"relation": "next", "url": self._url(query, "|".join(_text(part) for part in last))})
        return {
            "resourceType": "Bundle",
            "id": uuid.uuid4().hex,
            "meta": {"lastUpdated": instant(datetime.now(OSLO_WINTER))},
            "type": "searchset",
            "total": len(matches),
            "link": links,
            "entry": [
                {"fullUrl": f"{self.base}/Appointment/{a['id']}", "resource": a, "search": {"mode": "match"}}
                for a in shown
            ],
        }

    def _url(self, query: dict[str, list[str]], cursor: str | None) -> str:
        pairs = [(name, value) for name, values in query.items() for value in values]
        if cursor is not None:
            pairs.append(("_cursor", cursor))
        return f"{self.base}/Appointment?{urlencode(pairs)}"

    @staticmethod
    def _cursor(value: str, sorted_by_time: bool) -> tuple[Any, ...]:
        try:
            if sorted_by_time:
                moment, dips_id = value.split("|", 1)
                return (parse_instant(moment), dips_id)
            return (value,)
        except ValueError as exc:
            raise Refused(400, "invalid", "the paging cursor is not valid") from exc

    @staticmethod
    def _condition(value: str) -> Callable[[datetime], bool]:
        prefix = value[:2] if value[:2] in _PREFIXES else "eq"
        try:
            moment = parse_instant(value[2:] if value[:2] in _PREFIXES else value)
        except ValueError as exc:
            raise Refused(400, "invalid", f"_lastUpdated={value} is not an instant with a time zone") from exc
        tests: dict[str, Callable[[datetime], bool]] = {
            "ge": lambda t: t >= moment,
            "gt": lambda t: t > moment,
            "le": lambda t: t <= moment,
            "lt": lambda t: t < moment,
            "eq": lambda t: t == moment,
        }
        return tests[prefix]

    # -- HelseID ---------------------------------------------------------------------------------------------------
    def _authorise(self, method: str, url: str, headers: Mapping[str, str]) -> None:
        """Nothing without a HelseID stand-in; else a DPoP-bound token of it with a proof for this request."""
        if self.helseid is None or self._jwks is None:
            return
        scheme, _, token = (headers.get("authorization") or "").partition(" ")
        if scheme.lower() != "dpop" or not token:
            raise Refused(401, "login", "a DPoP-bound access token is required", {"WWW-Authenticate": "DPoP"})
        proof = headers.get("dpop")
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") not in ALGORITHMS:
                raise InvalidToken("the token's algorithm is not accepted")
            claims = jwt.decode(
                token,
                self._jwks.get_signing_key_from_jwt(token).key,
                algorithms=ALGORITHMS,
                audience=self.audience,
                issuer=self.helseid.issuer,
                options={"require": ["exp", "iat", "iss", "aud"]},
            )
            jkt = (claims.get("cnf") or {}).get("jkt")
            if not isinstance(jkt, str):
                raise InvalidToken("the token is not DPoP-bound (no cnf.jkt)")
            if not proof:
                raise InvalidToken("a DPoP proof is required")
            verify_proof(proof, method=method, url=url, access_token=token, jkt=jkt, replay=self._replay, leeway_s=30)
        except (jwt.PyJWTError, InvalidToken) as exc:
            raise Refused(401, "login", f"the access token is refused: {exc}", _challenge("invalid_token")) from exc
        if self.scope not in str(claims.get("scope") or "").split():
            raise Refused(403, "forbidden", f"the token lacks the scope {self.scope}", _challenge("insufficient_scope"))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def _respond(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                if length:
                    self.rfile.read(length)
                headers = {name.lower(): value for name, value in self.headers.items()}
                try:
                    status, body = stand_in.answer(self.command, self.path, headers)
                except Refused as refused:
                    self._respond(refused.status, outcome(refused.code, refused.diagnostics), refused.headers)
                    return
                extra = {"ETag": f'W/"{body["meta"]["versionId"]}"'} if body["resourceType"] == "Appointment" else {}
                self._respond(status, body, extra)

            do_GET = do_PUT = do_POST = do_DELETE = _serve

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


def _challenge(error: str) -> dict[str, str]:
    return {"WWW-Authenticate": f'DPoP error="{error}"'}


def _text(value: Any) -> str:
    return instant(value) if isinstance(value, datetime) else str(value)
