"""EQ-5D-5L value sets: a country's weights that turn a five-digit health state into an index (1 = full health).

A value set is a JSON file: ``start`` (the value of 11111) and, per dimension in the instrument's order (mobility,
self-care, usual activities, pain/discomfort, anxiety/depression), the decrement of each level 1-5 (additive
model). The Danish set ships (``value_sets/dk-2021.json``); a registry adds another by dropping its file into the
folder the ``scoring_value_set_dir`` setting names and choosing it with ``scoring_eq5d_value_set``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

SHIPPED = Path(__file__).with_name("value_sets")
DIMENSIONS = ("mobility", "self-care", "usual-activities", "pain-discomfort", "anxiety-depression")


@dataclass(frozen=True)
class ValueSet:
    id: str
    title: str
    start: Decimal
    decrements: tuple[tuple[Decimal, ...], ...]  # per dimension, per level 1-5

    def index(self, profile: str) -> Decimal:
        """The index of a five-digit profile such as ``11123``."""
        if len(profile) != len(DIMENSIONS) or any(c not in "12345" for c in profile):
            raise ValueError(f"not an EQ-5D-5L health state: {profile!r}")
        value = self.start + sum(
            (levels[int(level) - 1] for levels, level in zip(self.decrements, profile, strict=True)), Decimal(0)
        )
        return value.quantize(Decimal("0.001"))


def parse(data: dict) -> ValueSet:
    if data.get("model") != "additive":
        raise ValueError(f"value set {data.get('id')}: only the additive model is supported")
    decrements = []
    for dimension in DIMENSIONS:
        levels = data["decrements"][dimension]
        if len(levels) != 5:
            raise ValueError(f"value set {data.get('id')}: {dimension} needs five levels")
        decrements.append(tuple(Decimal(str(v)) for v in levels))
    return ValueSet(
        str(data["id"]), str(data.get("title") or data["id"]), Decimal(str(data["start"])), tuple(decrements)
    )


@lru_cache(maxsize=16)
def load(name: str, extra_dir: Path | None = None) -> ValueSet:
    """The value set ``name`` from ``extra_dir`` (a registry's own) or the shipped ones."""
    for folder in (extra_dir, SHIPPED):
        if folder is not None and (path := Path(folder) / f"{name}.json").is_file():
            return parse(json.loads(path.read_text(encoding="utf-8")))
    raise LookupError(f"no EQ-5D-5L value set named {name!r}")
