"""batch and transaction Bundles.

A transaction runs in one database transaction, in the spec's order — DELETE, POST, PUT/PATCH, GET/HEAD — after
every POST has its id (or its ``ifNoneExist`` match) so that ``urn:uuid`` references and conditional references
(``Patient?identifier=…``) can be rewritten before anything is written. Any failure rolls back everything and names
the failing entry. A batch runs each entry in a transaction of its own; each entry answers for itself.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import orjson

from fhir_server.auth.authorize import authorize
from fhir_server.errors import FhirError, Issue, bad_request, fhir_error
from fhir_server.rest.bundles import bundle
from fhir_server.rest.context import Context
from fhir_server.rest.interactions.conditional import (
    criteria_params,
    resolve_conditional_reference,
    single_match,
)
from fhir_server.rest.messages import FhirRequest, FhirResponse
from fhir_server.rest.resources import (
    check_type,
    checked_resource,
    create_resource,
    new_id,
    written_response,
)
from fhir_server.rest.router import dispatch
from fhir_server.subscriptions.outbox import record

if TYPE_CHECKING:
    from fhir_server.auth.principal import Principal
    from fhir_server.server import FhirServer

METHOD_ORDER = {"DELETE": 0, "POST": 1, "PUT": 2, "PATCH": 2, "GET": 3, "HEAD": 3}
_HEADER_FIELDS = {
    "ifNoneMatch": "if-none-match",
    "ifModifiedSince": "if-modified-since",
    "ifMatch": "if-match",
    "ifNoneExist": "if-none-exist",
}
_CONDITIONAL_REFERENCE = re.compile(r"^[A-Z][A-Za-z]+\?.")


@dataclass
class Entry:
    index: int
    full_url: str | None
    request: FhirRequest
    resource_type: str | None


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _entry_error(error: FhirError, index: int) -> FhirError:
    """The same error, its issues placed at ``Bundle.entry[index]``."""
    where = f"Bundle.entry[{index}]"
    issues = []
    for issue in error.issues:
        expressions = tuple(
            f"{where}.resource.{e.split('.', 1)[1]}" if "." in e and e[0].isupper() else f"{where}.{e}"
            for e in issue.expression
        ) or (where,)
        issues.append(Issue(issue.code, f"Entry {index}: {issue.diagnostics}", issue.severity, expressions))
    return FhirError(error.status, issues, error.headers)


def _relative_url(url: str, base: str) -> str:
    if url.startswith(base + "/"):
        return url[len(base) + 1 :]
    if "://" in url:
        raise bad_request("An entry's request.url must be relative to this server's base")
    return url.lstrip("/")


def _patch_body(resource: Any) -> tuple[Any, str]:
    """A PATCH entry carries a Binary (JSON Patch) or Parameters (FHIRPath Patch)."""
    if isinstance(resource, dict) and resource.get("resourceType") == "Binary":
        try:
            return orjson.loads(base64.b64decode(resource.get("data", ""))), "application/json-patch+json"
        except (ValueError, orjson.JSONDecodeError) as exc:
            raise bad_request("The PATCH entry's Binary does not hold a JSON Patch document") from exc
    return resource, "application/fhir+json"


def parse_entry(index: int, raw: Any, base: str) -> Entry:
    if not isinstance(raw, dict) or not isinstance(raw.get("request"), dict):
        raise bad_request("Every entry needs a request", "request")
    request = raw["request"]
    method = request.get("method")
    url = request.get("url")
    if method not in METHOD_ORDER:
        raise bad_request("request.method must be GET, HEAD, POST, PUT, PATCH or DELETE", "request.method")
    if not isinstance(url, str) or not url:
        raise bad_request("request.url is required", "request.url")
    relative = _relative_url(url, base)
    path, _, query_string = relative.partition("?")
    if not path or (path.startswith("$") and method != "POST"):
        raise bad_request("request.url must name a resource type", "request.url")
    if path.strip("/") == "":
        raise bad_request("A Bundle entry cannot post another batch or transaction", "request.url")
    headers = {h: request[f] for f, h in _HEADER_FIELDS.items() if isinstance(request.get(f), str)}
    body, content_type = raw.get("resource"), "application/fhir+json"
    if method == "PATCH":
        body, content_type = _patch_body(body)
    elif method in ("POST", "PUT") and not isinstance(body, dict):
        raise bad_request(f"A {method} entry needs a resource", "resource")
    fhir_request = FhirRequest(
        method=method,
        path=path,
        query=parse_qsl(query_string, keep_blank_values=True),
        headers=headers,
        body=body,
        content_type=content_type,
    )
    full_url = raw.get("fullUrl") if isinstance(raw.get("fullUrl"), str) else None
    return Entry(index, full_url, fhir_request, path.split("/")[0])


def response_entry(response: FhirResponse) -> dict[str, Any]:
    result: dict[str, Any] = {"status": _status_line(response.status)}
    if "Location" in response.headers:
        result["location"] = response.headers["Location"]
    if "ETag" in response.headers:
        result["etag"] = response.headers["ETag"]
    if response.resource is not None and response.resource.get("meta", {}).get("lastUpdated"):
        result["lastModified"] = response.resource["meta"]["lastUpdated"]
    entry: dict[str, Any] = {}
    if response.resource is not None:
        if response.status >= 400:
            result["outcome"] = response.resource
        else:
            entry["resource"] = response.resource
    entry["response"] = result
    return entry


# A Reference.reference in serialized JSON. Rewriting on the bytes (C-speed JSON, one regex) is several times
# faster than walking every node in Python, and transactions are the main write path of an EHR integration.
_REFERENCE_JSON = re.compile(rb'"reference":("(?:[^"\\]|\\.)*")')


def _rewrite_references(resource: dict[str, Any], resolve: Callable[[str], str]) -> dict[str, Any]:
    data = orjson.dumps(resource)
    if b'"reference":' not in data:
        return resource
    changed = False

    def replace(match: re.Match[bytes]) -> bytes:
        nonlocal changed
        reference = orjson.loads(match.group(1))
        resolved = resolve(reference)
        if resolved == reference:
            return match.group(0)
        changed = True
        return b'"reference":' + orjson.dumps(resolved)

    rewritten = _REFERENCE_JSON.sub(replace, data)
    return orjson.loads(rewritten) if changed else resource


class TransactionRun:
    def __init__(self, ctx: Context, entries: list[Entry]) -> None:
        self.ctx = ctx
        self.entries = entries
        self.ids: dict[str, str] = {}  # fullUrl -> Type/id
        self.responses: dict[int, FhirResponse] = {}
        self.assigned: dict[int, str] = {}  # POST entry index -> new id

    def run(self) -> list[FhirResponse]:
        self._check_identities()
        ordered = sorted(self.entries, key=lambda e: (METHOD_ORDER[e.request.method], e.index))
        for entry in ordered:
            if entry.request.method == "DELETE":
                self._execute(entry)
        for entry in ordered:
            self._identify(entry)
        for entry in ordered:
            if entry.request.method in ("POST", "PUT", "PATCH") and entry.index not in self.responses:
                entry.request.body = self._resolved(entry.request.body)
        for entry in ordered:
            if METHOD_ORDER[entry.request.method] > METHOD_ORDER["POST"] and not _plain_put(entry):
                self.ctx.store.flush()  # the creates are written before anything that could search them
            if entry.index not in self.responses:
                self._execute(entry)
        self.ctx.store.flush()
        return [self.responses[e.index] for e in self.entries]

    def _check_identities(self) -> None:
        seen: dict[str, int] = {}
        for entry in self.entries:
            req = entry.request
            keys = []
            if req.method in ("PUT", "DELETE", "PATCH") and "/" in req.path and not req.query:
                keys.append(req.path.strip("/"))
            if entry.full_url and req.method in ("POST", "PUT"):
                keys.append(entry.full_url)
            for key in keys:
                if key in seen:
                    raise _entry_error(
                        bad_request(f"Entries {seen[key]} and {entry.index} act on the same resource"),
                        entry.index,
                    )
                seen[key] = entry.index

    def _guard(self, entry: Entry, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except FhirError as error:
            raise _entry_error(error, entry.index) from None

    def _identify(self, entry: Entry) -> None:
        req = entry.request

        def identify() -> None:
            authorize(self.ctx.principal, req)  # every entry before any is run: a forbidden one stops them all
            if entry.resource_type:
                check_type(self.ctx, entry.resource_type)
            if req.method == "POST" and "/" not in req.path.strip("/") and not req.path.startswith("$"):
                criteria = req.header("if-none-exist")
                existing = None
                if criteria:
                    existing = single_match(self.ctx, entry.resource_type or "", criteria_params(criteria))
                if existing is not None:
                    self.responses[entry.index] = written_response(
                        self.ctx, req, existing, 200, "An existing resource matches ifNoneExist"
                    )
                    target = f"{existing.resource_type}/{existing.id}"
                else:
                    self.assigned[entry.index] = new_id()
                    target = f"{entry.resource_type}/{self.assigned[entry.index]}"
                if entry.full_url:
                    self.ids[entry.full_url] = target
            elif req.method == "PUT" and entry.full_url:
                path = req.path.strip("/")
                if "/" in path:
                    self.ids[entry.full_url] = path
                elif req.query:
                    match = single_match(self.ctx, path, req.query)
                    target_id = match.id if match is not None else new_id()
                    # from here on the entry is a plain update of the matched (or a new) resource
                    req.path, req.query = f"{path}/{target_id}", []
                    if isinstance(req.body, dict):
                        req.body = {**req.body, "id": target_id}
                    self.ids[entry.full_url] = f"{path}/{target_id}"

        self._guard(entry, identify)

    def _resolve_reference(self, reference: str) -> str:
        if reference in self.ids:
            return self.ids[reference]
        if reference.startswith("urn:uuid:") or reference.startswith("urn:oid:"):
            raise bad_request("A reference to a fullUrl that is not in the Bundle cannot be resolved")
        if _CONDITIONAL_REFERENCE.match(reference):
            resolved = resolve_conditional_reference(self.ctx, reference)
            self.ids[reference] = resolved
            return resolved
        return reference

    def _resolved(self, body: Any) -> Any:
        if not isinstance(body, dict):
            return body
        rewritten = _rewrite_references(body, self._resolve_reference)
        text = rewritten.get("text")
        if isinstance(text, dict) and isinstance(text.get("div"), str):
            div = text["div"]
            for full_url, target in self.ids.items():
                if full_url.startswith("urn:") and full_url in div:
                    div = div.replace(full_url, target)
            rewritten["text"] = {**text, "div": div}
        return rewritten

    def _execute(self, entry: Entry) -> None:
        req = entry.request

        def execute() -> FhirResponse:
            if entry.index in self.assigned:
                resource_type = entry.resource_type or ""
                content = {k: v for k, v in checked_resource(self.ctx, req.body, resource_type).items() if k != "id"}
                version = create_resource(
                    self.ctx, resource_type, content, "POST", self.assigned[entry.index], deferred=True
                )
                return written_response(self.ctx, req, version, 201, f"Created {resource_type}/{version.id}")
            return dispatch(self.ctx, req)

        self.responses[entry.index] = self._guard(entry, execute)


def _plain_put(entry: Entry) -> bool:
    """A PUT by id: it reads through the store only (which writes queued creates first where it reads one), so
    the creates can stay queued past it — and its own create by id joins them (``update``)."""
    return entry.request.method == "PUT" and not entry.request.query


def _entries(server: FhirServer, body: dict[str, Any]) -> list[Any]:
    raw_entries = body.get("entry") or []
    if not isinstance(raw_entries, list):
        raise bad_request("Bundle.entry must be a list", "Bundle.entry")
    if len(raw_entries) > server.settings.max_bundle_entries:
        raise fhir_error(413, "too-costly", f"A Bundle may hold at most {server.settings.max_bundle_entries} entries")
    return raw_entries


def process_bundle(
    server: FhirServer, body: Any, prefer: str | None, principal: Principal | None = None
) -> FhirResponse:
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        raise bad_request("POST to the base takes a Bundle of type batch or transaction", "resourceType")
    kind = body.get("type")
    if kind not in ("batch", "transaction"):
        raise bad_request("Bundle.type must be batch or transaction", "Bundle.type")
    raw_entries = _entries(server, body)
    base = server.settings.base_url.rstrip("/")
    prefer_headers = {"prefer": prefer} if prefer else {}
    if kind == "transaction":
        entries = []
        for index, raw in enumerate(raw_entries):
            try:
                entry = parse_entry(index, raw, base)
            except FhirError as error:
                raise _entry_error(error, index) from None
            entry.request.headers.update(prefer_headers)
            entries.append(entry)
        with server.db.writing() as conn:
            ctx = Context(server, conn, in_bundle=True, principal=principal)
            responses = TransactionRun(ctx, entries).run()
            wake = record(ctx)
            now = ctx.now
        server.wake(wake)
        result = bundle("transaction-response", [response_entry(r) for r in responses], [], now)
        return FhirResponse(200, result)
    return _batch(server, raw_entries, base, prefer_headers, principal)


def _batch(
    server: FhirServer,
    raw_entries: list[Any],
    base: str,
    prefer_headers: dict[str, str],
    principal: Principal | None,
) -> FhirResponse:
    """Each entry succeeds or fails on its own (a savepoint each), and the batch commits once."""
    responses = []
    wake: list[str] = []
    active = None  # the live Subscriptions, read once unless an entry writes a Subscription
    with server.db.writing() as conn:
        for index, raw in enumerate(raw_entries):
            try:
                entry = parse_entry(index, raw, base)
                entry.request.headers.update(prefer_headers)
                with conn.begin_nested():
                    ctx = Context(server, conn, in_bundle=True, principal=principal)
                    ctx.active_subscriptions = active
                    response = dispatch(ctx, entry.request)
                    wake += record(ctx)
                active = None if entry.request.path.startswith("Subscription") else ctx.active_subscriptions
                responses.append(response)
            except FhirError as error:
                located = _entry_error(error, index)
                responses.append(FhirResponse(located.status, located.outcome))
    server.wake(sorted(set(wake)))
    result = bundle("batch-response", [response_entry(r) for r in responses], [], server.clock())
    return FhirResponse(200, result)
