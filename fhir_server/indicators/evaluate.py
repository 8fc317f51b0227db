"""Counting a Measure's populations per unit and period.

One SQL query per Library: its facts, and for each Measure a 0/1 column for the denominator and one for the
numerator (the Measure's own conditions), summed per unit and visit month (per visit day when a period does not
consist of whole months). Python then files each group under its unit and the whole country, in each requested
period that holds its attribution date (visit date + the Measure's offset: whole months, so that for periods of
whole months the visit's month decides).
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import text

from fhir_server.indicators.coverage import apply_entered_denominators
from fhir_server.indicators.facts import attribution_months, criteria, library_of, refresh_views, sql_of
from fhir_server.indicators.periods import Period, shifted
from fhir_server.indicators.tally import NATIONAL, Key, Tally

__all__ = ["NATIONAL", "Key", "Tally", "evaluate"]


def _query(sql: str, measures: list[dict[str, Any]], by_month: bool = False) -> str:
    """Per unit and visit day (or month: ``YYYY-MM``), each Measure's denominator and numerator counts."""
    columns = []
    for i, measure in enumerate(measures):
        denominator, numerator = criteria(measure, "denominator"), criteria(measure, "numerator")
        columns.append(f"SUM(CASE WHEN ({denominator}) THEN 1 ELSE 0 END) AS d{i}")
        columns.append(f"SUM(CASE WHEN ({denominator}) AND ({numerator}) THEN 1 ELSE 0 END) AS n{i}")
    visit = f"substr(visit_date, 1, {7 if by_month else 10})"
    selected = ", ".join(["unit", f"{visit} AS visit", *columns])
    return (
        f"WITH facts AS (\n{sql}\n)\nSELECT {selected} FROM facts WHERE visit_date IS NOT NULL GROUP BY unit, {visit}"
    )


def _whole_months(period: Period) -> bool:
    return period.start.day == 1 and period.end.day == calendar.monthrange(period.end.year, period.end.month)[1]


def _visit_day(visit: str) -> date:
    """The visit's date, or for a month (``YYYY-MM``) its first day."""
    return date.fromisoformat(visit[:10] if len(visit) > 7 else f"{visit}-01")


def evaluate(server: Any, measures: list[dict[str, Any]], periods: list[Period]) -> dict[Key, Tally]:
    """The counts of each Measure, per (Measure url, period label, unit) — the unit ``NATIONAL`` for the country —
    from the views brought up to date first. Every unit with an episode counted in a period gets its counts."""
    tallies: dict[Key, Tally] = defaultdict(Tally)
    by_library: dict[str, list[dict[str, Any]]] = defaultdict(list)
    libraries: dict[str, dict[str, Any]] = {}
    for measure in measures:
        library = library_of(server, measure)
        libraries[library["url"]] = library
        by_library[library["url"]].append(measure)
    found: dict[tuple[str, int], list[str]] = {}
    by_month = all(_whole_months(p) for p in periods)

    def labels(visit: str, months: int) -> list[str]:
        """The periods a group with this visit date (or month) counts in, for this offset."""
        key = (visit, months)
        if key not in found:
            day = shifted(_visit_day(visit), months)
            found[key] = [p.label for p in periods if day in p]
        return found[key]

    for library in libraries.values():
        refresh_views(server, library)
    for url, grouped in by_library.items():
        offsets = [attribution_months(m) for m in grouped]
        with server.db.reading() as conn:
            rows = conn.execute(text(_query(sql_of(libraries[url]), grouped, by_month))).all()
        for row in rows:
            unit, visit = row[0], row[1]
            for i, measure in enumerate(grouped):
                for label in labels(str(visit), offsets[i]):
                    for where in (unit, NATIONAL):
                        tally = tallies[(measure["url"], label, where)]
                        tally.denominator += int(row[2 + 2 * i])
                        tally.numerator += int(row[3 + 2 * i])
    return apply_entered_denominators(server, measures, periods, dict(tallies))
