"""The report as one HTML document (Jinja2, ``templates/unit_report.html.j2``): headings for each indicator, each
chart with a table holding the same numbers, ``lang="nb"``, print styles for the PDF. The charts are inline SVG from
``charts``; everything else is escaped by the template."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from fhir_server.indicators.periods import Period
from workers.reports import charts, formatting
from workers.reports.indicators import Indicator
from workers.reports.scores import Distribution, bins


@dataclass(frozen=True)
class Report:
    unit_name: str
    resh: str | None
    period: Period
    created: date
    indicators: list[Indicator]
    distributions: list[Distribution]
    minimum_denominator: int
    low_coverage: bool | None = None  # the unit's coverage below ``coverage_limit`` in the period
    coverage_limit: float = 0.6

    @property
    def annual(self) -> bool:
        return "Q" not in self.period.label

    @property
    def kind(self) -> str:
        return "Årsrapport" if self.annual else "Kvartalsrapport"


def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("workers.reports", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["percent"] = formatting.percent
    environment.filters["interval"] = formatting.interval
    environment.filters["share_text"] = formatting.share_text
    environment.filters["quarter_name"] = formatting.quarter_name
    environment.filters["number"] = formatting.number
    environment.globals["SUPPRESSED"] = formatting.SUPPRESSED
    return environment


ENVIRONMENT = _environment()


def render_html(report: Report) -> str:
    def bar_chart(indicator: Indicator) -> Markup:
        return Markup(charts.indicator_bars(indicator, report.unit_name, f"bar-{indicator.key}"))

    def line_chart(indicator: Indicator) -> Markup:
        return Markup(charts.quarter_lines(indicator, report.unit_name, f"line-{indicator.key}"))

    def histogram(distribution: Distribution, n: int) -> Markup:
        return Markup(charts.histogram(distribution, f"hist-{n}"))

    return ENVIRONMENT.get_template("unit_report.html.j2").render(
        report=report,
        period_name=formatting.period_name(report.period.label),
        main=[i for i in report.indicators if i.main],
        others=[i for i in report.indicators if not i.main],
        bar_chart=bar_chart,
        line_chart=line_chart,
        histogram=histogram,
        bins=bins,
    )
