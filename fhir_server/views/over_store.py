"""Run a ViewDefinition over the current resources in the server's database, streaming.

`run_view_over_store(server, view)` validates and compiles the view first (a bad view fails before
any read), then reads the current, not deleted versions of the view's resource type in pages of
`batch` rows ordered by `rid` (keyset paging: `rid > last seen`), each page in its own short read
transaction, so a long export never holds a transaction open while its consumer works. A resource
written during the run is seen if its row lies ahead of the cursor; each resource is read at most
once.

There is no per-unit restriction here: this is for the registry's own exports (registry-admin,
research extracts). Callers serving a unit's user must filter the resources themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Row, bindparam, false, select

from fhir_server.storage.schema import resource
from fhir_server.views.plan import compile_view
from fhir_server.views.runner import run_compiled

if TYPE_CHECKING:
    from fhir_server.server import FhirServer
    from fhir_server.storage.engine import Database

_PAGE = (
    select(resource.c.rid, resource.c.id, resource.c.content)
    .where(
        resource.c.resource_type == bindparam("b_type"),
        resource.c.deleted == false(),
        resource.c.rid > bindparam("b_after"),
    )
    .order_by(resource.c.rid)
    .limit(bindparam("b_limit"))
)


def current_rows(
    connect: Callable[[], AbstractContextManager[Connection]], resource_type: str, batch: int
) -> Iterator[Row]:
    """The current, not deleted rows (rid, id, content) of one type, `batch` at a time in `rid` order, each page
    read on a connection from `connect` (its own short transaction, or one the caller holds)."""
    after = 0
    while True:
        with connect() as conn:
            page = conn.execute(_PAGE, {"b_type": resource_type, "b_after": after, "b_limit": batch}).all()
        yield from (row for row in page if row.content is not None)
        if len(page) < batch:
            return
        after = page[-1].rid


def current_resources(db: Database, resource_type: str, *, batch: int = 1000) -> Iterator[dict[str, Any]]:
    """The current, not deleted resources of one type, read `batch` at a time in `rid` order."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    return (row.content for row in current_rows(db.reading, resource_type, batch))


def run_view_over_store(server: FhirServer, view: dict[str, Any], *, batch: int = 1000) -> Iterator[dict[str, Any]]:
    """The rows of `view` over the server's current resources of the view's type.

    The view is checked when this is called (ViewDefinitionError), not when the first row is asked for.
    """
    compiled = compile_view(view)
    return run_compiled(compiled, current_resources(server.db, compiled.resource_type, batch=batch))
