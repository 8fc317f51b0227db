"""What an evaluation counts: a Measure's populations for one unit (or the country) in one period."""

from __future__ import annotations

from dataclasses import dataclass

NATIONAL = None  # the unit key of the whole country


@dataclass
class Tally:
    denominator: int = 0
    numerator: int = 0


Key = tuple[str, str, str | None]  # (Measure url, period label, unit reference or NATIONAL)
