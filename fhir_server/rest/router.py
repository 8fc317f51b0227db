"""Route a FHIR request to its interaction by method and path shape."""

from __future__ import annotations

from collections.abc import Callable

from fhir_server.auth import patient_scope
from fhir_server.auth.authorize import authorize
from fhir_server.bulk import endpoints as bulk
from fhir_server.errors import FhirError, bad_request, conflict, fhir_error, not_found
from fhir_server.operations import registry as operations
from fhir_server.rest.context import Context
from fhir_server.rest.form_responses import prepared_response
from fhir_server.rest.interactions import create, delete, history, patch, read, search, update
from fhir_server.rest.interactions.capabilities import metadata
from fhir_server.rest.messages import FhirRequest, FhirResponse
from fhir_server.rest.resources import check_type
from fhir_server.storage.store import IdTaken, VersionConflict

Handler = Callable[..., FhirResponse]


def _method_not_allowed(method: str, path: str) -> FhirError:
    return fhir_error(405, "not-supported", f"{method} is not supported on '{path or '/'}'")


def _nested_bundle(ctx: Context, req: FhirRequest) -> FhirResponse:
    """Batches and transactions are run by the server itself (``FhirServer.execute``), never nested."""
    raise bad_request("A batch or transaction cannot be posted from inside another one")


def route(req: FhirRequest) -> tuple[Handler, tuple[str, ...], str | None]:
    """(handler, path arguments, resource type to check)."""
    parts = tuple(p for p in req.path.strip("/").split("/") if p)
    method = req.method
    n = len(parts)
    table: dict[tuple[str, int], Handler] = {}
    if n == 0:
        table = {("POST", 0): _nested_bundle, ("GET", 0): search.search_system}
        args = ()
    elif n == 1 and parts[0] == "metadata":
        table = {("GET", 1): metadata}
        args: tuple[str, ...] = ()
    elif n == 1 and parts[0] == "_history":
        table = {("GET", 1): history.history}
        args = ()
    elif n >= 2 and parts[0] == "bulk":
        return _bulk_route(req, parts)
    elif (n >= 1 and parts[0].startswith("$")) or (n >= 2 and parts[-1].startswith("$")):
        found = operations.find(parts)
        if found is None:
            raise fhir_error(404, "not-supported", f"The operation '{parts[-1]}' is not known to this server")
        operation, args = found
        table = {(m, n): operation.handler for m in operation.methods}
    elif n == 1:
        table = {
            ("GET", 1): search.search_type,
            ("POST", 1): create.create,
            ("PUT", 1): update.conditional_update,
            ("DELETE", 1): delete.conditional_delete,
            ("PATCH", 1): patch.conditional_patch,
        }
        args = parts
    elif n == 2 and parts[1] == "_search":
        table = {("POST", 2): search.search_type}
        args = parts[:1]
    elif n == 2 and parts[1] == "_history":
        table = {("GET", 2): history.history}
        args = parts[:1]
    elif n == 2:
        table = {
            ("GET", 2): read.read,
            ("PUT", 2): update.update,
            ("DELETE", 2): delete.delete,
            ("PATCH", 2): patch.patch,
        }
        args = parts
    elif n == 3 and parts[2] == "_history":
        table = {("GET", 3): history.history}
        args = parts[:2]
    elif n == 3:
        table = {("GET", 3): search.search_compartment}
        args = parts
    elif n == 4 and parts[2] == "_history":
        table = {("GET", 4): read.vread}
        args = (parts[0], parts[1], parts[3])
    else:
        raise fhir_error(404, "not-found", f"No FHIR endpoint at '{req.path}'")
    handler = table.get((method, n))
    if handler is None:
        raise _method_not_allowed(method, req.path)
    resource_type = args[0] if args else None
    return handler, args, resource_type


#: Bulk Data status and file URLs (``bulk/status/<job>``, ``bulk/files/<job>/<file>``): handler by method and kind.
_BULK: dict[tuple[str, str, int], Handler] = {
    ("GET", "status", 3): bulk.status,
    ("DELETE", "status", 3): bulk.cancel,
    ("GET", "files", 4): bulk.download,
}


def _bulk_route(req: FhirRequest, parts: tuple[str, ...]) -> tuple[Handler, tuple[str, ...], str | None]:
    if not any(kind == parts[1] and n == len(parts) for _, kind, n in _BULK):
        raise fhir_error(404, "not-found", f"No FHIR endpoint at '{req.path}'")
    handler = _BULK.get((req.method, parts[1], len(parts)))
    if handler is None:
        raise _method_not_allowed(req.method, req.path)
    return handler, parts[2:], None


#: The restful interaction each handler is (the history handler serves three: see ``interaction``).
_INTERACTIONS: dict[Handler, str] = {
    _nested_bundle: "batch",
    search.search_system: "search-system",
    search.search_type: "search-type",
    search.search_compartment: "search-type",
    metadata: "capabilities",
    create.create: "create",
    update.conditional_update: "update",
    update.update: "update",
    delete.conditional_delete: "delete",
    delete.delete: "delete",
    patch.conditional_patch: "patch",
    patch.patch: "patch",
    read.read: "read",
    read.vread: "vread",
    **dict.fromkeys(_BULK.values(), "operation"),  # an export's status and files: its caller's alone
}
#: Handlers serving several interactions, told apart by how many path arguments they get.
_BY_ARITY: dict[Handler, dict[int, str]] = {
    history.history: {0: "history-system", 1: "history-type", 2: "history-instance"},
    **{
        op.handler: {0: "operation-system", 1: "operation-type", 2: "operation-instance"}
        for op in operations.OPERATIONS
    },
}


def interaction(req: FhirRequest) -> tuple[str, tuple[str, ...]]:
    """(the restful interaction code — ``read``, ``search-type``, ``history-instance`` … — and the path
    arguments) of a request; 404/405 as ``route`` for none."""
    handler, args, _ = route(req)
    return _code(handler, args), args


def _code(handler: Handler, args: tuple[str, ...]) -> str:
    by_arity = _BY_ARITY.get(handler)
    return by_arity[len(args)] if by_arity else _INTERACTIONS[handler]


def dispatch(ctx: Context, req: FhirRequest) -> FhirResponse:
    handler, args, resource_type = route(req)
    authorize(ctx.principal, req)
    code = _code(handler, args)
    if ctx.is_patient:
        _patient_checks(ctx, req, code, args)
    if resource_type is not None:
        check_type(ctx, resource_type)
    if not ctx.ownership.sees_all:
        _unit_checks(ctx, code, args)
    try:
        return handler(ctx, req, *args)
    except (VersionConflict, IdTaken) as exc:
        raise conflict("The resource was changed by another request at the same time; try again") from exc


def _patient_checks(ctx: Context, req: FhirRequest, code: str, args: tuple[str, ...]) -> None:
    """A patient's request touches only their own data (searches are restricted in ``search.py``)."""
    patient_scope.check_request(code, args, req)
    ids = ctx.patient_ids()
    task = ctx.principal.task if ctx.principal is not None else None
    reads = ("read", "vread", "history-instance", "operation-instance")
    if code in reads or (code == "update" and ctx.store.current(*args[:2])):
        patient_scope.check_readable(ctx.conn, args[0], args[1], ids, task)
    if code in ("create", "update"):
        body = req.body if isinstance(req.body, dict) else {}
        if args[0] == "QuestionnaireResponse":  # judged as it will be stored: the subject from its Task
            body = prepared_response(ctx, body)
        patient_scope.check_content(args[0], body, ctx.server.indexer.rows(body), ids, task)
        if task is not None:
            patient_scope.check_task_open(ctx.store, task)


_ONE_RESOURCE = frozenset({"read", "vread", "history-instance", "update", "patch", "delete", "operation-instance"})


def _unit_checks(ctx: Context, code: str, args: tuple[str, ...]) -> None:
    """One resource of another unit is not found (404), whatever the interaction: its existence never leaks.
    Searches, histories and conditional interactions are restricted in their queries."""
    if code not in _ONE_RESOURCE or len(args) < 2:
        return
    resource_type, resource_id = args[0], args[1]
    exists, content = ctx.store.latest_content(resource_type, resource_id)
    if exists and not ctx.ownership.sees(resource_type, content):
        raise not_found(f"{resource_type}/{resource_id} is not known")


def is_read_only(req: FhirRequest) -> bool:
    if req.method in ("GET", "HEAD"):
        return True
    path = req.path.strip("/")
    # a Bulk Data kick-off writes no resource (its job is stored in a transaction of its own), nor does running a
    # view (its searches read in transactions of their own)
    return req.method == "POST" and (path.endswith("/_search") or path.rsplit("/", 1)[-1] in ("$export", "$run"))
