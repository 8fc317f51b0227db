"""Score distributions for a unit's report: ODI and pain at rest (NRS) before the consultation and at 6 months, for
the unit's episodes whose 6-month follow-up falls in the period (visit date + 6 months, as the follow-up indicators
count). Read with the NNRR facts Library's own SQL over the materialized views, brought up to date first, so the
distributions describe the same episodes the indicators count."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text

from fhir_server.indicators.facts import library_of, refresh_views, sql_of
from fhir_server.indicators.periods import Period, shifted
from workers.reports.formatting import DASH

FOLLOW_UP_MONTHS = 6
#: (score, its facts before and at 6 months, its range, the histogram's bin width)
SCORES = (
    (f"ODI (Oswestry funksjonsindeks, 0{DASH}100)", "odi_pre", "odi_6m", (0, 100), 10),
    (f"Smerte i hvile (NRS, 0{DASH}10)", "pain_rest_pre", "pain_rest_6m", (0, 10), 1),
)


@dataclass(frozen=True)
class Distribution:
    title: str
    lowest: int
    highest: int
    width: int  # of a histogram bin
    before: list[float]  # the unit's episodes with the score both before and at 6 months
    after: list[float]


def _facts_sql(server: Any, measures: list[dict[str, Any]]) -> str:
    library = library_of(server, measures[0])
    refresh_views(server, library)
    return sql_of(library)


def gather_scores(server: Any, measures: list[dict[str, Any]], unit: str, period: Period) -> list[Distribution]:
    """The unit's score distributions over ``period`` (``measures``: the NNRR Measures, whose Library holds the
    facts)."""
    columns = ", ".join(column for _, before, after, _, _ in SCORES for column in (before, after))
    query = f"WITH facts AS (\n{_facts_sql(server, measures)}\n)\nSELECT visit_date, {columns} FROM facts "
    query += "WHERE unit = :unit AND visit_date IS NOT NULL"
    with server.db.reading() as conn:
        rows = conn.execute(text(query), {"unit": unit}).all()
    counted = [row for row in rows if shifted(date.fromisoformat(str(row[0])[:10]), FOLLOW_UP_MONTHS) in period]
    distributions = []
    for n, (title, _, _, (lowest, highest), width) in enumerate(SCORES):
        pairs = [(row[1 + 2 * n], row[2 + 2 * n]) for row in counted]
        pairs = [(float(a), float(b)) for a, b in pairs if a is not None and b is not None]
        distributions.append(Distribution(title, lowest, highest, width, [a for a, _ in pairs], [b for _, b in pairs]))
    return distributions


def bins(distribution: Distribution) -> list[tuple[str, int, int]]:
    """The histogram's bins: (label, episodes before, episodes at 6 months). Width 1: one bin a value; wider bins
    are half-open, the last one closed (ODI 90-100 holds 100)."""
    d = distribution
    count = (d.highest - d.lowest) // d.width + (1 if d.width == 1 else 0)
    before, after = [0] * count, [0] * count

    def index(value: float) -> int:
        return max(0, min(count - 1, int((value - d.lowest) // d.width)))

    for value in d.before:
        before[index(value)] += 1
    for value in d.after:
        after[index(value)] += 1
    labels = [
        str(d.lowest + i) if d.width == 1 else f"{d.lowest + i * d.width}{DASH}{d.lowest + (i + 1) * d.width}"
        for i in range(count)
    ]
    return list(zip(labels, before, after, strict=True))
