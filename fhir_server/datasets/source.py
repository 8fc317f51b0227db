"""A view run over what its caller may see: the resources come through the server's own search, page by page, with
the caller's principal, so that whatever the query layer does for that caller (a unit's rows only; for a researcher,
the study's de-identified, pseudonymised resources) the rows inherit. Never from the tables directly.

    rows = view_rows(server, principal, view, Selection(patients=("Patient/1",), since="2026-01-01", limit=100))

A view may carry search parameters that narrow what it needs read (the extension ``SEARCH``: a query string, as the
generated form views name their Questionnaire and statuses); its ``where`` still decides which resources give rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from fhir_server.errors import FhirError, Issue, bad_request
from fhir_server.rest.bundles import matches
from fhir_server.rest.messages import FhirRequest
from fhir_server.views.plan import compile_view
from fhir_server.views.runner import run_compiled

if TYPE_CHECKING:
    from fhir_server.auth.principal import Principal
    from fhir_server.server import FhirServer

SEARCH = "https://ryggrad.no/fhir/StructureDefinition/view-search"
PAGE = 1000  # resources per search page (the server's maximum page size if lower)
#: who gets flat datasets: the registry administration, and researchers (within their study, de-identified)
ROLES = frozenset({"registry-admin", "researcher"})


@dataclass(frozen=True)
class Selection:
    """What to run a view over: only these patients' resources, only those changed since, at most ``limit`` rows."""

    patients: tuple[str, ...] = ()
    since: str | None = None
    limit: int | None = None


def check_caller(principal: Principal | None) -> None:
    """403 unless the caller is one flat datasets are for (None: the server itself)."""
    if principal is not None and principal.role not in ROLES:
        who = f"a {principal.role}"
        message = f"Access denied: flat datasets are for the registry administration and researchers, not {who}"
        raise FhirError(403, [Issue("forbidden", message)])


def view_rows(
    server: FhirServer,
    principal: Principal | None,
    view: dict[str, Any],
    selection: Selection = Selection(),
    resources: Iterable[dict[str, Any]] | None = None,
) -> tuple[list[str], Iterator[dict[str, Any]]]:
    """(the view's columns, its rows) over what ``principal`` may search — or over ``resources`` when given (the
    caller's own, as ``$run`` takes them). The view is checked before anything is read (ViewDefinitionError)."""
    compiled = compile_view(view)
    if resources is None:
        params = [*hinted_parameters(view), *selection_parameters(server, compiled.resource_type, selection)]
        resources = searched(server, principal, compiled.resource_type, params)
    rows = run_compiled(compiled, resources)
    if selection.limit is not None:
        rows = islice(rows, selection.limit)
    return compiled.column_names, rows


def hinted_parameters(view: dict[str, Any]) -> list[tuple[str, str]]:
    """The search parameters a view names in its ``SEARCH`` extension."""
    found: list[tuple[str, str]] = []
    for extension in view.get("extension") or ():
        if isinstance(extension, dict) and extension.get("url") == SEARCH:
            found += parse_qsl(str(extension.get("valueString") or ""))
    return found


def selection_parameters(server: FhirServer, resource_type: str, selection: Selection) -> list[tuple[str, str]]:
    """The search parameters of a selection: the patients (by ``_id`` on Patient, else the type's ``patient``
    parameter; 400 for a type without one) and ``_since`` as ``_lastUpdated=ge…``."""
    params: list[tuple[str, str]] = []
    if selection.patients:
        ids = [_patient_id(value) for value in selection.patients]
        if resource_type == "Patient":
            params.append(("_id", ",".join(ids)))
        elif "patient" in server.searchable(resource_type):
            params.append(("patient", ",".join(f"Patient/{i}" for i in ids)))
        else:
            raise bad_request(f"A {resource_type} has no patient to select by", "patient")
    if selection.since:
        params.append(("_lastUpdated", f"ge{selection.since}"))
    return params


def _patient_id(value: str) -> str:
    parts = value.strip().split("/")
    if len(parts) == 1 and parts[0]:
        return parts[0]
    if len(parts) >= 2 and parts[-2] == "Patient" and parts[-1]:
        return parts[-1]
    raise bad_request(f"patient must name a Patient (Patient/[id]), not {value!r}", "patient")


def searched(
    server: FhirServer, principal: Principal | None, resource_type: str, params: list[tuple[str, str]]
) -> Iterator[dict[str, Any]]:
    """Every resource a search finds, following its ``next`` links; run as ``principal`` (its errors raised)."""
    count = min(PAGE, server.settings.max_page_size)
    query = [*params, ("_count", str(count))]
    while True:
        response = server.execute(FhirRequest("GET", resource_type, query, principal=principal))
        yield from matches(response.resource)
        following = next(
            (link["url"] for link in (response.resource or {}).get("link") or () if link.get("relation") == "next"),
            None,
        )
        if following is None:
            return
        token = dict(parse_qsl(urlsplit(following).query)).get("_page")
        if not token:
            return
        query = [("_page", token)]
