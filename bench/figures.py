"""One figure of the suite's report: what was measured, its value, the limit measured beside it in the same run, the
ratio of the two, and the issue's target with whether it is met."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Figure:
    measure: str
    value: float | None
    unit: str  # "resources/s", "ms", "MB", ...
    limit: float | None = None
    limit_name: str = ""  # what the limit is, briefly (the legend explains it)
    higher_is_better: bool = True  # throughput: ratio as a share of the limit; latency: as a multiple of it
    target: str | None = None  # "< 2 ms", "≥ 1,500 resources/s"
    met: bool | None = None

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.limit:
            return None
        return round(self.value / self.limit, 4)

    def as_json(self) -> dict[str, Any]:
        return {
            "measure": self.measure,
            "value": None if self.value is None else round(self.value, 4),
            "unit": self.unit,
            "limit": None if self.limit is None else round(self.limit, 4),
            "limit_name": self.limit_name,
            "ratio": self.ratio,
            "ratio_kind": "share" if self.higher_is_better else "multiple",
            "target": self.target,
            "met": self.met,
        }


def below(value: float | None, bound: float) -> bool | None:
    return None if value is None else value < bound


def at_least(value: float | None, bound: float) -> bool | None:
    return None if value is None else value >= bound
