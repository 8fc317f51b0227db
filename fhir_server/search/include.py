"""``_include`` and ``_revinclude`` (with ``:iterate`` and ``*``), resolved through the reference index.

``_include=Observation:subject[:Patient]`` adds what the page's Observations reference by ``subject``;
``_revinclude=Provenance:target`` adds the Provenances that reference the page's resources. ``:iterate`` repeats
on what was just added until nothing new comes in (bounded by ``limit``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, and_, not_, or_, select

from fhir_server.errors import bad_request
from fhir_server.storage.schema import resource, search_reference
from fhir_server.storage.store import CURRENT_COLUMNS, StoredVersion, current_version


@dataclass(frozen=True)
class IncludeSpec:
    source_type: str
    param: str  # "*" for every reference parameter
    target_type: str | None
    iterate: bool
    reverse: bool


def parse_include(name: str, value: str) -> IncludeSpec:
    """``_include[:iterate]=Source:param[:Target]`` (also ``_revinclude``; ``*`` for all parameters)."""
    base, _, modifier = name.partition(":")
    if modifier not in ("", "iterate", "recurse"):
        raise bad_request(f"{base} does not take the modifier ':{modifier}'", base)
    parts = value.split(":")
    if value == "*":
        parts = ["*", "*"]
    if len(parts) not in (2, 3) or not all(parts):
        raise bad_request(f"{base} takes Type:parameter or Type:parameter:TargetType", base)
    target = parts[2] if len(parts) == 3 else None
    return IncludeSpec(parts[0], parts[1], target, modifier in ("iterate", "recurse"), base == "_revinclude")


def _key(version: StoredVersion) -> tuple[str, str]:
    return version.resource_type, version.id


def _forward(
    conn: Connection,
    spec: IncludeSpec,
    sources: list[StoredVersion],
    hidden: frozenset[str],
    visible: ColumnElement[bool] | None,
) -> list[StoredVersion]:
    rids = [s.rid for s in sources if s.rid is not None and (spec.source_type in ("*", s.resource_type))]
    if not rids:
        return []
    ref = search_reference.c
    conditions = [ref.rid.in_(rids), ref.target_id.is_not(None)]  # local references only
    if hidden:
        conditions.append(ref.target_type.not_in(sorted(hidden)))
    if spec.param != "*":
        conditions.append(ref.param == spec.param)
    if spec.target_type:
        conditions.append(ref.target_type == spec.target_type)
    targets = select(ref.target_type, ref.target_id).where(*conditions).distinct().subquery()
    rows = conn.execute(
        select(*CURRENT_COLUMNS)
        .join(targets, and_(resource.c.resource_type == targets.c.target_type, resource.c.id == targets.c.target_id))
        .where(not_(resource.c.deleted), *([visible] if visible is not None else []))
    ).all()
    return [current_version(r) for r in rows]


def _reverse(
    conn: Connection,
    spec: IncludeSpec,
    targets: list[StoredVersion],
    hidden: frozenset[str],
    visible: ColumnElement[bool] | None,
) -> list[StoredVersion]:
    if not targets:
        return []
    ref = search_reference.c
    by_type: dict[str, list[str]] = {}
    for target in targets:
        if spec.target_type in (None, target.resource_type):
            by_type.setdefault(target.resource_type, []).append(target.id)
    if not by_type:
        return []
    matches_target = or_(*[and_(ref.target_type == t, ref.target_id.in_(ids)) for t, ids in by_type.items()])
    conditions = [matches_target]
    if hidden:
        conditions.append(ref.resource_type.not_in(sorted(hidden)))
    if spec.source_type != "*":
        conditions.append(ref.resource_type == spec.source_type)
    if spec.param != "*":
        conditions.append(ref.param == spec.param)
    sources = select(ref.rid).where(*conditions)
    restrict = [visible] if visible is not None else []
    rows = conn.execute(
        select(*CURRENT_COLUMNS).where(resource.c.rid.in_(sources), not_(resource.c.deleted), *restrict)
    ).all()
    return [current_version(r) for r in rows]


def resolve_includes(
    conn: Connection,
    matches: list[StoredVersion],
    specs: Iterable[IncludeSpec],
    limit: int = 1000,
    hidden: frozenset[str] = frozenset(),
    visible: ColumnElement[bool] | None = None,
) -> list[StoredVersion]:
    """The resources the includes add to a page (none of the matches themselves, no duplicates); never of the
    ``hidden`` types, and only rows meeting ``visible`` (a condition on ``resource``: the caller's unit's and
    shared resources), both in the query."""
    specs = list(specs)
    seen = {_key(m) for m in matches}
    included: list[StoredVersion] = []
    frontier = list(matches)
    first_round = True
    while frontier and len(included) < limit:
        added: list[StoredVersion] = []
        for spec in specs:
            if not first_round and not spec.iterate:
                continue
            step = _reverse if spec.reverse else _forward
            found = step(conn, spec, frontier, hidden, visible)
            for version in found:
                if _key(version) not in seen and len(included) + len(added) < limit:
                    seen.add(_key(version))
                    added.append(version)
        included += added
        frontier = added
        first_round = False
        if not any(s.iterate for s in specs):
            break
    return included
