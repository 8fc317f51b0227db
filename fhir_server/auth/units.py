"""Registry units as the Organization resources describe them: the organisasjonsnummer a HelseID token names
(``orgnr_child``/``orgnr_parent``) and the RESH id the registry counts by, on one Organization. Ownership labels
carry the orgnr (what a caller's token says); reports and workers that start from a RESH id find the orgnr here,
and the other way round."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from fhir_server.norway.identifiers import ORGNR_SYSTEM, RESH_SYSTEM
from fhir_server.storage.schema import resource, search_token


@dataclass(frozen=True)
class Unit:
    organization_id: str
    orgnr: str | None
    resh: str | None
    name: str | None


def _identifier(content: dict, system: str) -> str | None:
    for identifier in content.get("identifier") or []:
        if isinstance(identifier, dict) and identifier.get("system") == system and identifier.get("value"):
            return str(identifier["value"])
    return None


def _find(conn: Connection, system: str, value: str) -> Unit | None:
    t = search_token.c
    rids = select(t.rid).where(
        t.resource_type == "Organization", t.param == "identifier", t.code == value, t.system == system
    )
    row = conn.execute(
        select(resource.c.id, resource.c.content)
        .where(resource.c.rid.in_(rids), resource.c.resource_type == "Organization", ~resource.c.deleted)
        .order_by(resource.c.rid)
        .limit(1)
    ).first()
    if row is None:
        return None
    content = row.content or {}
    return Unit(row.id, _identifier(content, ORGNR_SYSTEM), _identifier(content, RESH_SYSTEM), content.get("name"))


def unit_by_orgnr(conn: Connection, orgnr: str) -> Unit | None:
    """The Organization with this organisasjonsnummer (and its RESH id, where it has one)."""
    return _find(conn, ORGNR_SYSTEM, orgnr)


def unit_by_resh(conn: Connection, resh: str) -> Unit | None:
    """The Organization with this RESH id (and its organisasjonsnummer, where it has one)."""
    return _find(conn, RESH_SYSTEM, resh)
