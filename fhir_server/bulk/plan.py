"""The searches an export is made of, in a fixed order so that a step number and a paging token say where a job
stands. A system-level export searches each type (once per ``_typeFilter`` query of it); a patient- or group-level
one searches each patient's compartment: one search over every type when the caller may (types with filters left
to their own searches), else one per type."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

EVERY_TYPE = "*"
_PATIENT_REF = re.compile(r"(?:^|/)Patient/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")


@dataclass(frozen=True)
class Query:
    """One search: ``kind`` a type or ``*`` (a compartment's every type), its parameters, and the types its
    results leave out (those searched with filters of their own)."""

    kind: str
    params: tuple[tuple[str, str], ...] = ()
    exclude: frozenset[str] = frozenset()

    def path(self, patient: str | None) -> str:
        return self.kind if patient is None else f"Patient/{patient}/{self.kind}"


def queries(parameters: dict[str, Any], patient_level: bool) -> list[Query]:
    """The searches of one system-level export, or those run for each patient of a patient-level one."""
    since = parameters.get("since")
    common: tuple[tuple[str, str], ...] = (("_lastUpdated", f"ge{since}"),) if since else ()
    filters: dict[str, list[list[list[str]]]] = parameters.get("typeFilters") or {}
    found: list[Query] = []
    if patient_level and parameters.get("everyType"):
        found.append(Query(EVERY_TYPE, common, frozenset(filters)))
        kinds = sorted(filters)
    else:
        kinds = list(parameters.get("types") or [])
    for kind in kinds:
        for query in filters.get(kind) or [[]]:
            found.append(Query(kind, tuple((name, value) for name, value in query) + common))
    return found


def multi_filtered(parameters: dict[str, Any]) -> frozenset[str]:
    """Types searched with several filters, whose results may overlap."""
    filters: dict[str, list[Any]] = parameters.get("typeFilters") or {}
    return frozenset(kind for kind, found in filters.items() if len(found) > 1)


def patients_referenced(item: dict[str, Any]) -> set[str]:
    """The Patients a resource refers to (itself, for a Patient): a resource is in a patient's compartment only
    if it refers to that patient, so one that refers to a single patient is found in one compartment only."""
    found: set[str] = set()
    if item.get("resourceType") == "Patient" and isinstance(item.get("id"), str):
        found.add(item["id"])
    for value in _references(item):
        match = _PATIENT_REF.search(value)
        if match:
            found.add(match.group(1))
    return found


def _references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "reference" and isinstance(inner, str):
                yield inner
            else:
                yield from _references(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _references(inner)
