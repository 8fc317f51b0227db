"""Materialized ViewDefinitions: each view kept as a flat table `view_<name>` that plain SQL can read.

    refreshed = refresh(server, view)        # Refreshed(resources=…, rows=…, full=…)
    refresh_all(server)                      # every view in settings.views_dir (`load_views`)

The table has a column `_resource` (the resource's id, indexed) and one column per view column, typed as
`tables.py` says. `view_state` keeps, per view, the hash of the definition the table was built from and
the watermark: the last `resource_history.seq` the table reflects.

A refresh is one write transaction, so readers see the table before or after it, never halfway:

- first refresh, or the definition changed (or the table is missing): the table is dropped, recreated and
  filled from every current resource of the view's type;
- otherwise only the resources of that type written since the watermark are recomputed: their rows are
  deleted and made again from their current content (a deleted resource gets none). Rows of resources
  that were erased for good (`storage/erasure.py`, which leaves no history) are removed as well.

The watermark moves to the settled seq (`horizon.py`): every write at or below it is visible. Two
refreshers of one view take turns on its `view_state` row (SELECT … FOR UPDATE on PostgreSQL; SQLite has
one writer at a time); the second then finds the work done, or only what was written in between.
"""

from __future__ import annotations

import gc
import hashlib
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Connection, Table, delete, exists, false, insert, inspect, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from fhir_server.storage.schema import resource, resource_history, view_state
from fhir_server.views.errors import ViewDefinitionError
from fhir_server.views.horizon import newest_seq, settled_seq
from fhir_server.views.over_store import current_rows
from fhir_server.views.plan import CompiledView, compile_view
from fhir_server.views.runner import run_compiled
from fhir_server.views.tables import RESOURCE_COLUMN, row_converter, table_name, view_name, view_table
from fhir_server.views.view_files import configured_views, load_views

if TYPE_CHECKING:
    from fhir_server.server import FhirServer

__all__ = ["Refreshed", "drop_view", "load_views", "refresh", "refresh_all", "refresh_named"]

# Part of every definition hash: a change in how tables are made (types, columns) rebuilds them all.
TABLE_FORMAT = "1"
BATCH = 1000
COPY_BATCH = 10_000  # rows per COPY of a full rebuild on PostgreSQL


@dataclass(frozen=True)
class Refreshed:
    """What one refresh did."""

    view: str
    resources: int  # resources whose rows were (re)computed
    rows: int  # rows written
    full: bool  # the table was rebuilt from scratch
    removed: int  # rows of erased resources removed
    watermark: int  # the resource_history seq the table now reflects
    seconds: float


def definition_hash(view: dict[str, Any]) -> str:
    """The hash of what decides a view's rows and columns (not its title, description or status)."""
    decisive = {key: view.get(key) for key in ("name", "resource", "constant", "where", "select")}
    data = orjson.dumps(decisive, option=orjson.OPT_SORT_KEYS) + TABLE_FORMAT.encode()
    return hashlib.sha256(data).hexdigest()


_COMPILED: dict[str, CompiledView] = {}  # by definition hash: parsing a view's FHIRPaths takes ~50 ms


def _compiled(digest: str, view: dict[str, Any]) -> CompiledView:
    compiled = _COMPILED.get(digest)
    if compiled is None:
        compiled = compile_view(view)
        if len(_COMPILED) >= 64:
            _COMPILED.clear()
        _COMPILED[digest] = compiled
    return compiled


def refresh(server: FhirServer, view: dict[str, Any], *, batch: int = BATCH) -> Refreshed:
    """Bring the table of `view` up to date (ViewDefinitionError for a bad view, before anything is written)."""
    started = time.perf_counter()
    name = view_name(view)
    digest = definition_hash(view)
    compiled = _compiled(digest, view)
    table = view_table(view, compiled.column_names)
    convert = row_converter(view, compiled.column_names)
    db = server.db
    settled = settled_seq(db) if db.is_postgres else None
    with db.writing() as conn, _collector_paused():
        watermark, built_from = _lock_state(conn, name)
        horizon = settled if settled is not None else newest_seq(conn)
        producer = _Rows(compiled, convert)
        removed = 0
        full = built_from != digest or not inspect(conn).has_table(table.name)
        if full:
            _rebuild(conn, table, producer, batch)
            watermark = horizon
        else:
            if horizon > watermark:
                _recompute_changed(conn, table, producer, compiled.resource_type, watermark, horizon, batch)
                watermark = horizon
            removed = _remove_erased(conn, table, compiled.resource_type)
        conn.execute(
            update(view_state)
            .where(view_state.c.name == name)
            .values(definition_hash=digest, watermark=watermark, refreshed_at=datetime.now(UTC).replace(tzinfo=None))
        )
    return Refreshed(name, producer.resources, producer.rows, full, removed, watermark, time.perf_counter() - started)


def refresh_all(server: FhirServer, views: dict[str, dict[str, Any]] | None = None) -> dict[str, Refreshed]:
    """Refresh every view (default: those in `settings.views_dir`), each in its own transaction."""
    if views is None:
        views = load_views(server.settings.views_dir)
    return {name: refresh(server, view) for name, view in views.items()}


def refresh_named(server: FhirServer, names: Iterable[str]) -> dict[str, Refreshed]:
    """Refresh the views of `settings.views_dir` named (ViewDefinitionError when one is not there)."""
    views = configured_views(server.settings.views_dir)
    missing = [name for name in names if name not in views]
    if missing:
        raise ViewDefinitionError(f"no view named {', '.join(missing)} in {server.settings.views_dir}")
    return {name: refresh(server, views[name]) for name in names}


def drop_view(server: FhirServer, name: str) -> None:
    """Drop a view's table and forget its state (the next refresh rebuilds it)."""
    with server.db.writing() as conn:
        conn.execute(delete(view_state).where(view_state.c.name == name))
        conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{table_name(name)}"')


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while pages of resources are parsed and run: the JSON trees hold no cycles (they
    are freed as soon as a page is done), but their many containers would trigger collections over the whole heap
    that make parsing several times slower. Process-wide while a refresh runs; on again afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _lock_state(conn: Connection, name: str) -> tuple[int, str]:
    """(watermark, definition hash) of the view's state row, made if missing and locked until commit."""
    dialect_insert = postgresql_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(
        dialect_insert(view_state)
        .values(name=name, definition_hash="", watermark=0)
        .on_conflict_do_nothing(index_elements=[view_state.c.name])
    )
    row = conn.execute(
        select(view_state.c.watermark, view_state.c.definition_hash).where(view_state.c.name == name).with_for_update()
    ).one()
    return int(row.watermark), row.definition_hash


class _Rows:
    """Turns (id, content) pairs into table rows, counting resources and rows."""

    def __init__(self, compiled: CompiledView, convert: Any) -> None:
        self.compiled = compiled
        self.convert = convert
        self.resources = 0
        self.rows = 0

    def of(self, resources: Iterable[tuple[str, dict[str, Any]]]) -> Iterator[dict[str, Any]]:
        for resource_id, content in resources:
            self.resources += 1
            for row in run_compiled(self.compiled, (content,)):
                self.rows += 1
                yield self.convert(resource_id, row)


def _insert(conn: Connection, table: Table, rows: Iterable[dict[str, Any]], batch: int) -> None:
    pending: list[dict[str, Any]] = []
    for row in rows:
        pending.append(row)
        if len(pending) >= batch:
            conn.execute(insert(table), pending)
            pending = []
    if pending:
        conn.execute(insert(table), pending)


def _current(conn: Connection, resource_type: str, batch: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every current, not deleted resource of a type, read in pages of `batch` by rid."""
    for row in current_rows(lambda: nullcontext(conn), resource_type, batch):
        yield row.id, row.content


def _copy(conn: Connection, table: Table, rows: Iterable[dict[str, Any]]) -> None:
    """PostgreSQL: the rows streamed in with COPY (one statement, no per-row parameters)."""
    names = [column.name for column in table.columns]
    quoted = ", ".join(f'"{name}"' for name in names)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([row[name] for name in names])


def _rebuild(conn: Connection, table: Table, producer: _Rows, batch: int) -> None:
    conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{table.name}"')
    table.create(conn)
    rows = producer.of(_current(conn, producer.compiled.resource_type, batch))
    if conn.dialect.name != "postgresql":
        _insert(conn, table, rows, batch)
        return
    pending: list[dict[str, Any]] = []  # the connection reads the next page only once a COPY is over
    for row in rows:
        pending.append(row)
        if len(pending) >= COPY_BATCH:
            _copy(conn, table, pending)
            pending = []
    if pending:
        _copy(conn, table, pending)


def _recompute_changed(
    conn: Connection, table: Table, producer: _Rows, resource_type: str, after: int, upto: int, batch: int
) -> None:
    h = resource_history.c
    changed = (
        conn.execute(select(h.id).where(h.resource_type == resource_type, h.seq > after, h.seq <= upto).distinct())
        .scalars()
        .all()
    )
    key = table.c[RESOURCE_COLUMN]
    for start in range(0, len(changed), batch):
        ids = changed[start : start + batch]
        conn.execute(delete(table).where(key.in_(ids)))
        current = conn.execute(
            select(resource.c.id, resource.c.content).where(
                resource.c.resource_type == resource_type, resource.c.id.in_(ids), resource.c.deleted == false()
            )
        ).all()
        live = [(row.id, row.content) for row in current if row.content is not None]
        producer.resources += len(ids) - len(live)  # deleted since: recomputed to no rows
        _insert(conn, table, producer.of(live), batch)


def _remove_erased(conn: Connection, table: Table, resource_type: str) -> int:
    """Delete the rows of resources that no longer exist at all (erased: no history row says so)."""
    key = table.c[RESOURCE_COLUMN]
    gone = ~exists().where(resource.c.resource_type == resource_type, resource.c.id == key)
    return conn.execute(delete(table).where(gone)).rowcount or 0
