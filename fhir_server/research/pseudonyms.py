"""The pseudonyms a data release has handed out, kept so that a researcher can use them in requests (read by id,
search by reference or ``_id``): a pseudonym is a keyed hash, so the way back is this table. A pseudonym nobody
was given finds nothing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from fhir_server.storage.schema import research_pseudonym


def remember(server: Any, study: str, issued: Iterable[tuple[str, str, str]]) -> None:
    """Record (type, id, pseudonym) handed out under ``study`` that are not recorded yet; a write only when some
    are new."""
    wanted = {(kind, alias): real for kind, real, alias in issued}
    if not wanted:
        return
    t = research_pseudonym.c
    keys = list(wanted)
    known: set[tuple[str, str]] = set()
    with server.db.reading() as conn:
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            match = or_(*(and_(t.resource_type == kind, t.pseudonym == alias) for kind, alias in chunk))
            rows = conn.execute(select(t.resource_type, t.pseudonym).where(t.study == study, match))
            known.update((row.resource_type, row.pseudonym) for row in rows)
    new = [
        {"study": study, "resource_type": kind, "pseudonym": alias, "id": wanted[(kind, alias)]}
        for kind, alias in keys
        if (kind, alias) not in known
    ]
    if not new:
        return
    dialect_insert = postgresql.insert if server.db.is_postgres else sqlite.insert
    with server.db.writing() as conn:  # a racing request may record the same rows: the same values, kept once
        conn.execute(dialect_insert(research_pseudonym).on_conflict_do_nothing(), new)


def real_id(conn: Any, study: str, resource_type: str, alias: str) -> str | None:
    """The resource id behind a pseudonym the study handed out (None: never handed out)."""
    t = research_pseudonym.c
    row = conn.execute(
        select(t.id).where(t.study == study, t.resource_type == resource_type, t.pseudonym == alias)
    ).first()
    return row.id if row else None
