"""Pull mode: for an EHR that cannot push, Ryggrad polls its FHIR endpoint for the Appointments changed since the
last run — ``Appointment?_lastUpdated=ge<watermark>&_sort=_lastUpdated&_count=N``, following ``next`` links — with
a HelseID token (client credentials, DPoP) and hands each page to the intake (``intake.receive``) as the unit's EHR.

The watermark is the ``lastUpdated`` of the last appointment applied, kept in ``pull_state`` and moved on only after
its page is committed. A crash repeats at most that page, harmlessly: the intake orders by DIPS version, so an
appointment received again changes nothing. ``ge`` rather than ``gt`` fetches the appointments of the watermark's
own instant again, so one changed in the same millisecond as the last one applied is not missed.

An appointment that cannot be mapped is skipped (logged and counted without patient data) and the pull moves past
it; its next version in DIPS is pulled like any other. A transport failure — the endpoint down or answering an
error, HelseID refusing — ends the run where it is: the watermark stays, and the next run tries again.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from fhir_server.audit.events import audit_event
from fhir_server.auth.principal import Principal
from fhir_server.auth.scopes import parse_scopes
from fhir_server.errors import FhirError, Issue, operation_outcome
from fhir_server.integrations.dips.intake import Received, mapping_error, receive
from fhir_server.integrations.dips.mapping import MappingError, map_appointment
from fhir_server.integrations.helseid import HelseIdAuth, HelseIdError, shared_auth
from fhir_server.storage.schema import pull_state

if TYPE_CHECKING:
    from fhir_server.server import FhirServer

log = logging.getLogger("ryggrad.dips.pull")

DEFAULT_NAME = "dips"
OUTCOMES = ("created", "updated", "unchanged", "stale", "failed")
#: What the pull may do in the registry, bounded further by the role ``ehr`` (``auth/roles.py``).
SCOPES = "system/*.cruds"
_PERSON_NUMBER = re.compile(r"\b\d{6}\s?\d{5}\b")  # an FNR/DNR in a message: never logged or stored


class PullError(Exception):
    """The run could not go on: the endpoint unreachable or answering an error, or HelseID refusing. The message
    names what and why, never a token or patient data."""


@dataclass
class PullRun:
    """What one run did: ``counts`` by intake outcome (and ``failed``: skipped as unmappable), the ``failures``
    (a DIPS id and why each), the watermark before and after, and ``error`` when it stopped early."""

    name: str
    watermark_before: str | None
    watermark: str | None
    pages: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    failures: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def operation_outcome(self) -> dict[str, Any]:
        """The run as an OperationOutcome: the counts, each skipped appointment, and the error if it stopped."""
        counts = ", ".join(f"{n} {outcome}" for outcome, n in self.counts.items())
        issues = [Issue("informational", f"DIPS pull {self.name}: {counts}; {self.pages} pages", "information")]
        issues += [Issue("processing", failure, "warning") for failure in self.failures]
        if self.error:
            issues.append(Issue("transient", f"the run stopped: {self.error}"))
        return operation_outcome(issues)


@dataclass(frozen=True)
class PullState:
    """A pull's row in ``pull_state``."""

    name: str
    watermark: str | None
    last_run_at: datetime | None
    last_error: str | None
    failed: int
    last_failure: str | None
    last_failure_at: datetime | None


def redacted(text: str) -> str:
    """``text`` without person numbers (11 digits, a blank allowed after the date part)."""
    return _PERSON_NUMBER.sub("***********", text)


def watermark_of(value: Any) -> str | None:
    """A ``lastUpdated`` as a watermark: UTC with microseconds, fixed width (text order is time order); None when
    it is not an instant with a time zone."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# -- the state ---------------------------------------------------------------------------------------------------------
def read_state(server: FhirServer, name: str = DEFAULT_NAME) -> PullState | None:
    with server.db.reading() as conn:
        row = conn.execute(select(pull_state).where(pull_state.c.name == name)).mappings().first()
    return PullState(**dict(row)) if row is not None else None


def _ensure_state(server: FhirServer, name: str) -> PullState:
    found = read_state(server, name)
    if found is not None:
        return found
    try:
        with server.db.writing() as conn:
            conn.execute(insert(pull_state).values(name=name, failed=0))
    except IntegrityError:  # another run made it first
        pass
    found = read_state(server, name)
    assert found is not None
    return found


def _advance(server: FhirServer, name: str, watermark: str | None, failures: list[str]) -> str | None:
    """After a committed page: the watermark moved on to ``watermark`` (never back) and the page's skipped
    appointments counted; the watermark now."""
    with server.db.writing() as conn:
        query = select(pull_state.c.watermark).where(pull_state.c.name == name)
        if server.db.is_postgres:
            query = query.with_for_update()
        held = conn.execute(query).scalar_one()
        values: dict[str, Any] = {}
        if watermark is not None and (held is None or watermark > held):
            values["watermark"] = held = watermark
        if failures:
            values.update(
                failed=pull_state.c.failed + len(failures),
                last_failure=failures[-1][:1000],
                last_failure_at=server.clock(),
            )
        if values:
            conn.execute(update(pull_state).where(pull_state.c.name == name).values(**values))
    return held


def _finish(server: FhirServer, name: str, error: str | None) -> None:
    with server.db.writing() as conn:
        conn.execute(
            update(pull_state)
            .where(pull_state.c.name == name)
            .values(last_run_at=server.clock(), last_error=error[:1000] if error else None)
        )


# -- the endpoint ------------------------------------------------------------------------------------------------------
def _origin(url: str | httpx.URL) -> tuple[str, str, int | None]:
    parsed = httpx.URL(str(url))
    return parsed.scheme, parsed.host, parsed.port


def _get(http: httpx.Client, url: str, params: dict[str, Any] | None, auth: httpx.Auth | None) -> dict[str, Any]:
    """One searchset page (``params`` only on the first: a next link is used as it is), or ``PullError``."""
    chosen: Any = auth if auth is not None else httpx.USE_CLIENT_DEFAULT
    try:
        response = http.get(url, params=params, auth=chosen) if params else http.get(url, auth=chosen)
    except HelseIdError as exc:
        raise PullError(f"no access token: {exc}") from exc
    except httpx.HTTPError as exc:
        raise PullError(f"the endpoint could not be reached ({type(exc).__name__})") from exc
    if response.status_code != 200:
        raise PullError(f"the endpoint answered HTTP {response.status_code}{_diagnostics(response)}")
    try:
        body = response.json()
    except ValueError as exc:
        raise PullError("the endpoint's answer is not JSON") from exc
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle" or body.get("type") != "searchset":
        raise PullError("the endpoint's answer is not a searchset Bundle")
    return body


def _diagnostics(response: httpx.Response) -> str:
    try:
        issue = (response.json().get("issue") or [{}])[0]
        text = str(issue.get("diagnostics") or issue.get("code") or "")
    except (ValueError, AttributeError, IndexError, TypeError):
        return ""
    return f": {redacted(text)[:200]}" if text else ""


def _next(page: dict[str, Any], base: str) -> str | None:
    """The page's ``next`` link; one to another server than ``base``'s is refused (it would get the token)."""
    for link in page.get("link") or []:
        if isinstance(link, dict) and link.get("relation") == "next" and link.get("url"):
            url = str(link["url"])
            if _origin(url) != _origin(base):
                raise PullError("the endpoint's next link leads to another server")
            return url
    return None


def _appointments(page: dict[str, Any]) -> list[dict[str, Any]]:
    """The page's matches (not included resources or OperationOutcomes), each id once (its last occurrence)."""
    found: dict[str, dict[str, Any]] = {}
    for entry in page.get("entry") or []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        mode = ((entry.get("search") or {}) if isinstance(entry, dict) else {}).get("mode", "match")
        if isinstance(resource, dict) and resource.get("resourceType") == "Appointment" and mode == "match":
            found.pop(str(resource.get("id")), None)
            found[str(resource.get("id"))] = resource
    return list(found.values())


# -- applying a page ---------------------------------------------------------------------------------------------------
def _why(error: MappingError | FhirError) -> str:
    if isinstance(error, MappingError):
        error = mapping_error(error)
    return redacted("; ".join(issue.diagnostics or issue.code for issue in error.issues))


def _apply(
    server: FhirServer, principal: Principal, owner: str, appointments: list[dict[str, Any]]
) -> tuple[list[Received], list[str]]:
    """The page received in one transaction (those that cannot be mapped left out); when the intake refuses it
    still, each on its own. What was received, and the skipped ones (DIPS id: why)."""
    failures: list[str] = []
    mappable = []
    for dips in appointments:
        dips_id = str(dips.get("id") or "")
        if not dips_id or dips_id == "None":
            failures.append("an Appointment without an id")
            continue
        try:
            map_appointment(dips, owner=owner)
        except MappingError as error:
            failures.append(f"DIPS Appointment {dips_id}: {_why(error)}")
            continue
        mappable.append(dips)
    if not mappable:
        return [], failures
    try:
        return receive(server, principal, mappable, owner=owner), failures
    except FhirError:
        pass
    received = []
    for dips in mappable:
        try:
            received += receive(server, principal, [dips], owner=owner)
        except FhirError as error:
            failures.append(f"DIPS Appointment {dips['id']}: {_why(error)}")
    return received, failures


def _audit(server: FhirServer, principal: Principal, received: list[Received]) -> None:
    """An AuditEvent for a page that changed registry Appointments (a page of repeats leaves none)."""
    targets = [
        f"Appointment/{(r.response.resource or {}).get('id')}"
        for r in received
        if r.outcome in ("created", "updated") and r.response.resource
    ]
    if targets:
        event = audit_event(
            principal=principal,
            method="GET",
            path="intake/dips/pull",
            query=[],
            status=200,
            recorded=server.clock(),
            targets=targets,
            kind="update",
        )
        server.audit.record(event)


# -- a run -------------------------------------------------------------------------------------------------------------
def pull(
    server: FhirServer,
    *,
    url: str,
    owner: str,
    auth: httpx.Auth | None = None,
    name: str = DEFAULT_NAME,
    page_size: int = 100,
    client_id: str | None = None,
    timeout_s: float = 30.0,
    http: httpx.Client | None = None,
    after_page: Callable[[PullRun], None] | None = None,
) -> PullRun:
    """One run of the pull ``name`` from the FHIR base ``url`` for the unit ``owner`` (orgnr), with ``auth`` (a
    HelseID client's ``auth()``) on every request; what it did. ``after_page`` is called after each committed page
    (tests stop a run there)."""
    state = _ensure_state(server, name)
    run = PullRun(name, state.watermark, state.watermark)
    principal = Principal(
        role="ehr", client_id=client_id or f"ryggrad-pull:{name}", org=owner, permissions=parse_scopes(SCOPES)
    )
    first = f"{url.rstrip('/')}/Appointment"
    params: dict[str, Any] = {"_sort": "_lastUpdated", "_count": page_size}
    if state.watermark:
        params["_lastUpdated"] = f"ge{state.watermark}"
    own = http is None
    client = http or httpx.Client(timeout=timeout_s)
    try:
        page_url: str | None = first
        while page_url is not None:
            page = _get(client, page_url, params if page_url == first else None, auth)
            following = _next(page, url)
            appointments = _appointments(page)
            received, failures = _apply(server, principal, owner, appointments)
            for r in received:
                run.counts[r.outcome] = run.counts.get(r.outcome, 0) + 1
            run.counts["failed"] += len(failures)
            for failure in failures:
                log.warning("DIPS pull %s skipped an appointment: %s", name, failure)
            run.failures += failures
            stamps = [w for w in (watermark_of((a.get("meta") or {}).get("lastUpdated")) for a in appointments) if w]
            run.watermark = _advance(server, name, max(stamps) if stamps else None, failures)
            run.pages += 1
            _audit(server, principal, received)
            if after_page is not None:
                after_page(run)
            page_url = following if following != page_url else None
    except PullError as exc:
        run.error = str(exc)
        log.warning("DIPS pull %s stopped after %d pages: %s", name, run.pages, run.error)
    finally:
        if own:
            client.close()
    _finish(server, name, run.error)
    return run


def configured(server: FhirServer) -> bool:
    """Whether the settings turn pull mode on (an endpoint and the unit it is for)."""
    return bool(server.settings.dips_pull_url and server.settings.dips_pull_owner)


def pull_configured(server: FhirServer, *, name: str = DEFAULT_NAME, http: httpx.Client | None = None) -> PullRun:
    """One run as ``RYGGRAD_DIPS_PULL_*`` configure it (a HelseID token when scopes are set); ``ValueError`` when
    pull mode is off or misconfigured."""
    settings = server.settings
    if not configured(server):
        raise ValueError("pull mode needs RYGGRAD_DIPS_PULL_URL and RYGGRAD_DIPS_PULL_OWNER")
    assert settings.dips_pull_url is not None and settings.dips_pull_owner is not None
    client = http or httpx.Client(timeout=settings.dips_pull_timeout_s)
    auth: HelseIdAuth | None = None
    try:
        if settings.dips_pull_scopes:
            try:  # the process's client for the EHR API's scopes: its token lasts across runs until due for refresh
                auth = shared_auth(settings, settings.dips_pull_scopes)
            except (HelseIdError, ValueError, OSError) as exc:
                state = _ensure_state(server, name)
                run = PullRun(name, state.watermark, state.watermark, error=f"no access token: {exc}")
                _finish(server, name, run.error)
                return run
        return pull(
            server,
            url=settings.dips_pull_url,
            owner=settings.dips_pull_owner,
            auth=auth,
            name=name,
            page_size=settings.dips_pull_page_size,
            client_id=settings.helseid_client_id if auth else None,
            http=client,
        )
    finally:
        if http is None:
            client.close()
