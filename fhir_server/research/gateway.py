"""Every request of a researcher passes here (``FhirServer.execute``): the release is checked; only reads and
searches of released and shared types (and the operations released to researchers) go on; a search may not use
parameters that could single someone out (identifiers, names, addresses, exact dates where dates are shifted —
``searchBlocked`` in the release rules, chains and ``_has`` included); the pseudonyms in the request become the
ids they stand for; and what comes back — resources, Bundles (includes, links, full URLs), OperationOutcomes,
headers — is de-identified (``deidentify.py``), the pseudonyms handed out recorded for later requests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fhir_server.errors import FhirError, Issue
from fhir_server.research import pseudonyms, scope
from fhir_server.research.access import research_access
from fhir_server.research.deidentify import Deidentifier
from fhir_server.research.release import Release
from fhir_server.research.rules import ReleaseRules, release_rules
from fhir_server.rest.messages import FhirRequest, FhirResponse

#: Operations researchers may use (their handlers see the researcher and go through this layer for their data).
RESEARCH_OPERATIONS = frozenset({"$export", "$run"})
#: Search controls, checked separately.
CONTROLS = frozenset(
    {"_count", "_sort", "_include", "_revinclude", "_elements", "_summary", "_total", "_page", "_format", "_pretty"}
)
UNKNOWN = "unknown-pseudonym"  # stands in for a pseudonym nobody was given: it matches nothing
#: A header only the server's own in-process requests carry (HTTP passes on a fixed set of headers, never this):
#: the ids in the request are real ones, worked out by the server on the researcher's behalf.
REAL_IDS = "x-ryggrad-real-ids"


def _denied(message: str) -> FhirError:
    return FhirError(403, [Issue("forbidden", f"Access denied: {message}")])


def execute(server: Any, req: FhirRequest, run: Callable[[FhirRequest], FhirResponse]) -> FhirResponse:
    """``run`` (the server's own execution) for a researcher's ``req``, de-identified."""
    assert req.principal is not None
    with server.db.reading() as conn:  # the release, the checks and the pseudonyms of the request: one read
        release = research_access(server, conn, req.principal.study).release
        assert release is not None
        request = _ResearchRequest(server, req, release, release_rules())
        request.check_interaction()
        request.check_search()
        shown = Deidentifier(release, request.rules, lambda ids: scope.covered_among(server, release, ids))
        real_ids = req.header(REAL_IDS) == "yes"  # the server's own request for a researcher (a bulk export's worker)
        translated = req if real_ids else request.translated(conn, shown)
    scope.ensure_fresh(server, release)
    try:
        response = run(translated)
    except FhirError as error:
        issues = [Issue(i.code, shown.text(i.diagnostics), i.severity, i.expression) for i in error.issues]
        raise FhirError(error.status, issues, _headers(error.headers, shown)) from None
    if response.resource is not None:
        response.resource = shown.body(response.resource)
    response.headers = _headers(response.headers, shown)
    pseudonyms.remember(server, release.id, shown.issued)
    return response


def _headers(headers: dict[str, str], shown: Deidentifier) -> dict[str, str]:
    kept = {k: v for k, v in headers.items() if k not in ("Last-Modified",)}
    for name in ("Location", "Content-Location"):
        if name in kept:
            kept[name] = shown.text(kept[name])
    return kept


class _ResearchRequest:
    """One researcher request under its release: the checks, and its pseudonyms translated."""

    def __init__(self, server: Any, req: FhirRequest, release: Release, rules: ReleaseRules) -> None:
        self.server, self.req, self.release, self.rules = server, req, release, rules
        self.parts = [p for p in req.path.strip("/").split("/") if p]
        self.resource_type = self.parts[0] if self.parts and self.parts[0][:1].isupper() else None

    def check_interaction(self) -> None:
        parts, req = self.parts, self.req
        if any(p == "_history" for p in parts):
            raise _denied("researchers see the current data only (no history)")
        if parts[:1] == ["bulk"]:
            return  # their own exports' status and files (the exports are made through this layer)
        operation = next((p for p in parts if p.startswith("$")), None)
        if operation is not None:
            if operation not in RESEARCH_OPERATIONS:
                raise _denied(f"the operation {operation} is not open to researchers")
            if parts[:1] == ["ViewDefinition"]:
                return  # the views run over what this layer shows
        elif req.method not in ("GET", "HEAD") and not (req.method == "POST" and parts[-1:] == ["_search"]):
            raise _denied("researchers read and search only")
        if parts and parts[0] != "metadata" and not parts[0].startswith("$"):
            self._check_visible(parts[0])

    def _check_visible(self, kind: str) -> None:
        if not self.rules.visible(kind):
            raise _denied(f"{kind} is not released to researchers")

    def check_search(self) -> None:
        for name, value in self.req.query:
            base = name.split(":")[0]
            if name.startswith("_has:"):
                self._check_has(name)
            elif base == "_sort":
                for key in value.split(","):
                    self._check_param(self.resource_type, key.strip().lstrip("-"))
            elif base in ("_include", "_revinclude"):
                if value.split(":")[0] != "*":
                    self._check_visible(value.split(":")[0])
            elif base == "_type":
                for kind in filter(None, value.split(",")):
                    self._check_visible(kind)
            elif base not in CONTROLS:
                chain = name.split(".")
                self._check_param(self.resource_type, chain[0].split(":")[0])
                target = chain[0].split(":")[1] if ":" in chain[0] else None
                for link in chain[1:]:
                    self._check_param(target, link.split(":")[0])

    def _check_has(self, name: str) -> None:
        """``_has:Type:reference:param`` (possibly nested): every type released, every parameter allowed."""
        pieces = name.split(":")
        while len(pieces) >= 4 and pieces[0] == "_has":
            kind, param = pieces[1], pieces[3]
            self._check_visible(kind)
            if param != "_has":
                self._check_param(kind, param)
            pieces = pieces[3:]

    def _check_param(self, resource_type: str | None, param: str) -> None:
        if param in self.rules.search_blocked:
            raise _denied(f"researchers may not search by {param}")
        shifted = self.release.shift_dates and resource_type
        if shifted and self.server.param_types(resource_type).get(param) == "date":
            raise _denied(f"the dates of this release are shifted: researchers may not search or sort by {param}")

    def translated(self, conn: Any, shown: Deidentifier) -> FhirRequest:
        """The request with the release's pseudonyms replaced by the ids they stand for."""
        req, parts, rules, resource_type = self.req, self.parts, self.rules, self.resource_type

        def real(kind: str, alias: str) -> str | None:
            found = pseudonyms.real_id(conn, self.release.id, kind, alias)
            if found is not None:
                shown.real_to_pseudo[f"{kind}/{found}"] = f"{kind}/{alias}"
            return found

        path = req.path
        if len(parts) >= 2 and parts[0] in rules.released and not parts[1].startswith("$") and parts[1] != "_search":
            found = real(parts[0], parts[1])
            if found is None:
                raise FhirError(404, [Issue("not-found", f"{parts[0]}/{parts[1]} is not known")])
            path = "/".join([parts[0], found, *parts[2:]])
        types = self.server.param_types(resource_type) if resource_type else {}
        query = []
        for name, value in req.query:
            base = name.split(":")[0]
            if base == "_id" or (types.get(base) == "reference" and "." not in name):
                value = ",".join(_real_reference(v, base, name, resource_type, rules, real) for v in value.split(","))
            query.append((name, value))
        return FhirRequest(req.method, path, query, req.headers, req.body, req.content_type, principal=req.principal)


def _real_reference(
    value: str,
    base: str,
    name: str,
    resource_type: str | None,
    rules: ReleaseRules,
    real: Callable[[str, str], str | None],
) -> str:
    if base == "_id":
        if resource_type is None or resource_type in rules.shared:
            return value
        return real(resource_type, value) or UNKNOWN
    if "/" in value:
        kind, _, alias = value.rpartition("/")
        kind = kind.rsplit("/", 1)[-1]
        if kind in rules.shared:
            return value
        found = real(kind, alias) if kind in rules.released else None
        return f"{kind}/{found or UNKNOWN}"
    kinds = [name.split(":")[1]] if ":" in name else sorted(rules.released)
    for kind in kinds:
        found = real(kind, value) if kind in rules.released else None
        if found is not None:
            return f"{kind}/{found}"
    return UNKNOWN
