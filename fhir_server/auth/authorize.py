"""What each interaction needs of the caller's scopes: ``r`` to read one resource (and its history), ``s`` to
search (and read a type's history), ``c`` to create, ``u`` to update or patch, ``d`` to delete. Checked for every
request and every entry of a batch or transaction; a missing permission is a 403."""

from __future__ import annotations

from fhir_server.auth.principal import UNIT_ROLES, Principal
from fhir_server.auth.roles import role_allows
from fhir_server.errors import FhirError, Issue
from fhir_server.rest.context import AUDIT_ONLY_TYPES
from fhir_server.rest.messages import FhirRequest

_NAMES = {"c": "create", "r": "read", "u": "update", "d": "delete", "s": "search"}


#: The permission each interaction needs.
_OPERATION = {
    **dict.fromkeys(("read", "vread", "history-instance"), "r"),
    **dict.fromkeys(("search-type", "search-system", "history-type", "history-system"), "s"),
    **{"create": "c", "update": "u", "patch": "u", "delete": "d"},
    "operation-type": "c",  # $validate of new content: what one may create
    "operation-instance": "r",  # … of a stored resource: what one may read
}


def required(req: FhirRequest) -> list[tuple[str, str]]:
    """(resource type or ``*``, operation) pairs the request needs; none for ``metadata`` and Bundles (each entry
    is checked as it runs)."""
    from fhir_server.operations import registry as operations  # operations call the router, which calls this
    from fhir_server.rest.router import interaction  # the router names interactions; it also calls this module

    code, args = interaction(req if req.method != "HEAD" else FhirRequest("GET", req.path, req.query))
    if code == "operation-system":
        return []
    operation = _OPERATION.get(code)
    if code in ("operation-type", "operation-instance"):
        found = operations.find(tuple(p for p in req.path.strip("/").split("/") if p))
        operation = (found[0].permission if found else None) or operation
    if operation is None:
        return []
    if code == "search-system":
        types = [t for value in req.params("_type") for t in value.split(",") if t]
        return [(t, "s") for t in types] or [("*", "s")]
    if code == "history-system":
        return [("*", "s")]
    kind = args[2] if code == "search-type" and len(args) == 3 else args[0]  # compartment: Patient/123/Observation
    return [(kind, operation)]


def _included_types(req: FhirRequest) -> set[str]:
    """The types ``_include``/``_revinclude`` name (``Observation:subject:Patient``, ``AuditEvent:patient``)."""
    found: set[str] = set()
    for name, value in req.query:
        if name.split(":")[0] in ("_include", "_revinclude"):
            parts = value.split(":")
            found.add(parts[0])
            if len(parts) > 2:
                found.add(parts[2])
    return found


def authorize(principal: Principal | None, req: FhirRequest) -> None:
    """Raise a 403 unless ``principal`` may make ``req`` (None: the server itself, in-process). The audit trail
    is the server's alone to write (405 for everyone) and the registry administration's alone to read."""
    needs = required(req)
    if any(kind in AUDIT_ONLY_TYPES and op in "cud" for kind, op in needs):
        raise FhirError(405, [Issue("not-supported", "The audit trail cannot be changed")])
    if principal is None:
        return
    if principal.role == "researcher" and any(op in "cud" for _, op in needs):
        # what researchers may read, and how, is the research gateway's (fhir_server/research/)
        raise FhirError(403, [Issue("forbidden", "Access denied: researchers read and search only")])
    if principal.role != "registry-admin":
        touched = {kind for kind, _ in needs} | _included_types(req)
        if touched & AUDIT_ONLY_TYPES:
            raise FhirError(403, [Issue("forbidden", "Access denied: the audit trail is for the registry admin")])
    if principal.role in UNIT_ROLES and not principal.org:
        raise FhirError(
            403, [Issue("forbidden", f"Access denied: a {principal.role} acts for a unit, and the token names none")]
        )
    for kind, operation in needs:
        allowed = principal.permissions.allows(kind, operation) if kind != "*" else _all_types(principal, operation)
        if not allowed:
            what = "all resource types" if kind == "*" else kind
            message = f"Access denied: the token does not grant {_NAMES[operation]} on {what}"
            raise FhirError(403, [Issue("forbidden", message)])
        if not role_allows(principal.role, kind, operation):
            what = "every resource type" if kind == "*" else kind
            message = f"Access denied: a {principal.role} may not {_NAMES[operation]} {what}"
            raise FhirError(403, [Issue("forbidden", message)])
    for kind in _included_types(req) - {"*"}:
        if not role_allows(principal.role, kind, "r"):
            raise FhirError(403, [Issue("forbidden", f"Access denied: a {principal.role} may not read {kind}")])


def _all_types(principal: Principal, operation: str) -> bool:
    return any(kind == "*" and op == operation for _, kind, op in principal.permissions.grants)
