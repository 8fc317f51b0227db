"""The release rules (``mappings/research/release-rules.json``): which resource types a researcher may see and how
each is de-identified, which search parameters are closed to researchers, how far dates are shifted. Data, read
once per process."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

RULES_FILE = Path(__file__).resolve().parents[2] / "mappings" / "research" / "release-rules.json"


@dataclass(frozen=True)
class Released:
    """A resource type released to researchers: the reference parameters that tie it to a patient ("" = the
    Patient itself) and the top-level elements it keeps."""

    patient_params: tuple[str, ...]
    keep: frozenset[str]


@dataclass(frozen=True)
class ReleaseRules:
    released: dict[str, Released]
    shared: frozenset[str]
    drop_everywhere: frozenset[str]
    date_keys: frozenset[str]
    search_blocked: frozenset[str]
    date_shift_days: int

    def visible(self, resource_type: str) -> bool:
        return resource_type in self.released or resource_type in self.shared

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> ReleaseRules:
        return cls(
            released={
                kind: Released(tuple(spec["patientParams"]), frozenset(spec["keep"]))
                for kind, spec in document["released"].items()
            },
            shared=frozenset(document["shared"]),
            drop_everywhere=frozenset(document["dropEverywhere"]),
            date_keys=frozenset(document["dateKeys"]),
            search_blocked=frozenset(document["searchBlocked"]),
            date_shift_days=int(document["dateShiftDays"]),
        )


@cache
def release_rules() -> ReleaseRules:
    return ReleaseRules.from_json(json.loads(RULES_FILE.read_text("utf-8")))


@cache
def hidden_types(all_types: frozenset[str]) -> frozenset[str]:
    """The resource types among ``all_types`` researchers never see (through searches, includes, compartments)."""
    rules = release_rules()
    return frozenset(t for t in all_types if not rules.visible(t))
