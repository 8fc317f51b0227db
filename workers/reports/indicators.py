"""The numbers of a unit's report: for each NNRR Measure the unit's count, the rest of the country's (national minus
the unit) and the national count over the report's period, and the unit and the rest over the last eight quarters —
all from one ``evaluate`` run. Shares and 95 % Wilson intervals are withheld below the registry's minimum
denominator (N < 30), as in the MeasureReports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fhir_server.indicators.coverage import low_coverage
from fhir_server.indicators.evaluate import NATIONAL, Tally, evaluate
from fhir_server.indicators.periods import Period, quarter
from fhir_server.indicators.wilson import wilson

MEASURE_PREFIX = "https://ryggrad.no/fhir/Measure/nnrr-"
SD = "https://ryggrad.no/fhir/StructureDefinition/"
DEFAULT_MINIMUM = 30  # registry rules section 5: N < 30 shows "N<30" and no share
DEFAULT_LOW_COVERAGE = 0.6  # and a unit whose coverage is below 60 % is flagged
#: The registry's main indicators (the rules' table), in the table's order; the other Measures follow by title.
MAIN = (
    "interdisciplinary-treatment",
    "odi-improved",
    "odi-minimal",
    "pain-rest-improved",
    "pain-activity-improved",
    "back-to-work",
    "back-to-work-or-less-sick-leave",
    "perceived-benefit",
    "satisfied-or-neutral",
    "response-6m",
    "response-12m",
)
QUARTERS_SHOWN = 8


@dataclass(frozen=True)
class Share:
    """A count with its share and interval; ``share`` None when suppressed (N below the minimum)."""

    denominator: int
    numerator: int
    share: float | None
    low: float | None
    high: float | None

    @property
    def suppressed(self) -> bool:
        return self.share is None


@dataclass(frozen=True)
class Indicator:
    key: str  # the Measure's id without "nnrr-"
    url: str
    title: str
    main: bool
    target: float | None
    minimum: float | None
    unit: Share
    rest: Share
    national: Share
    quarters: list[tuple[str, Share, Share]]  # (quarter label, unit, rest), oldest first


def share_of(tally: Tally, minimum_denominator: int) -> Share:
    if tally.denominator < minimum_denominator or tally.denominator == 0:
        return Share(tally.denominator, tally.numerator, None, None, None)
    low, high = wilson(tally.numerator, tally.denominator) or (0.0, 0.0)
    return Share(tally.denominator, tally.numerator, tally.numerator / tally.denominator, low, high)


def nnrr_measures(server: Any) -> list[dict[str, Any]]:
    """The NNRR Measures, the main indicators first in the rules' order, then the others by title."""
    found = [m for m in server.definitions.resources_of_type("Measure") if m["url"].startswith(MEASURE_PREFIX)]

    def order(measure: dict[str, Any]) -> tuple[int, str]:
        key = measure["url"].removeprefix(MEASURE_PREFIX)
        return (MAIN.index(key), "") if key in MAIN else (len(MAIN), str(measure.get("title") or key))

    return sorted(found, key=order)


def _level(measure: dict[str, Any], name: str) -> float | None:
    for extension in measure.get("extension") or []:
        if extension.get("url") == SD + name and extension.get("valueDecimal") is not None:
            return float(extension["valueDecimal"])
    return None


def quarters_ending(period: Period, count: int = QUARTERS_SHOWN) -> list[Period]:
    """The ``count`` quarters ending with the one the period ends in, oldest first."""
    index = period.end.year * 4 + (period.end.month - 1) // 3
    return [quarter(i // 4, i % 4 + 1) for i in range(index - count + 1, index + 1)]


def minimum_denominator(server: Any) -> int:
    return int(getattr(server.settings, "indicator_minimum_denominator", DEFAULT_MINIMUM))


@dataclass(frozen=True)
class Numbers:
    indicators: list[Indicator]
    low_coverage: bool | None  # the unit's coverage below the registry's limit (None: not known)
    coverage_limit: float


def gather_indicators(server: Any, unit: str, period: Period) -> Numbers:
    """Each NNRR indicator for ``unit`` (``Organization/<id>``) over ``period``, against the rest and the nation,
    and whether the unit's coverage is too low for the period."""
    measures = nnrr_measures(server)
    series = quarters_ending(period)
    periods = [period, *(q for q in series if q != period)]
    tallies = evaluate(server, measures, periods)
    least = minimum_denominator(server)

    def counted(url: str, label: str, where: str | None) -> Tally:
        return tallies.get((url, label, where)) or Tally()

    def rest_of(url: str, label: str) -> Tally:
        national, own = counted(url, label, NATIONAL), counted(url, label, unit)
        return Tally(national.denominator - own.denominator, national.numerator - own.numerator)

    indicators = []
    for measure in measures:
        url = measure["url"]
        indicators.append(
            Indicator(
                key=url.removeprefix(MEASURE_PREFIX),
                url=url,
                title=str(measure.get("title") or measure.get("name") or url),
                main=url.removeprefix(MEASURE_PREFIX) in MAIN,
                target=_level(measure, "target-level"),
                minimum=_level(measure, "minimum-level"),
                unit=share_of(counted(url, period.label, unit), least),
                rest=share_of(rest_of(url, period.label), least),
                national=share_of(counted(url, period.label, NATIONAL), least),
                quarters=[
                    (q.label, share_of(counted(url, q.label, unit), least), share_of(rest_of(url, q.label), least))
                    for q in series
                ],
            )
        )
    limit = float(getattr(server.settings, "indicator_low_coverage", DEFAULT_LOW_COVERAGE))
    return Numbers(indicators, low_coverage(tallies, period.label, unit, limit), limit)
