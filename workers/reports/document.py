"""A unit's report from start to end: which unit and period, the numbers (``indicators``, ``scores``), and the
document as HTML or PDF. The CLI and the ``$quality-report`` operation both come here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fhir_server.indicators.periods import Period, last_completed_quarter, parse_period
from workers.reports.indicators import gather_indicators, minimum_denominator, nnrr_measures
from workers.reports.pdf import html_to_pdf
from workers.reports.rendering import Report, render_html
from workers.reports.scores import gather_scores

HTML = "text/html"
PDF = "application/pdf"
FORMATS = {"html": HTML, "pdf": PDF}


@dataclass(frozen=True)
class Document:
    content: bytes
    media_type: str
    filename: str


OSLO = ZoneInfo("Europe/Oslo")


def oslo_today(moment: datetime) -> date:
    """The date in Norway at ``moment`` (naive: UTC, as the server's clock gives it): a quarter ends at midnight in
    Oslo, not in UTC."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(OSLO).date()


def report_period(text: str | None, today: date) -> Period:
    """The period asked for (``2026Q3``, ``2026``), by default the last completed quarter."""
    return parse_period(text) if text else last_completed_quarter(today)


def unit_name(organization: dict[str, Any]) -> str:
    return str(organization.get("name") or "Enheten")


def build_report(server: Any, organization: dict[str, Any], resh: str | None, period: Period, today: date) -> Report:
    unit = f"Organization/{organization['id']}"
    numbers = gather_indicators(server, unit, period)
    return Report(
        unit_name=unit_name(organization),
        resh=resh,
        period=period,
        created=today,
        indicators=numbers.indicators,
        distributions=gather_scores(server, nnrr_measures(server), unit, period),
        minimum_denominator=minimum_denominator(server),
        low_coverage=numbers.low_coverage,
        coverage_limit=numbers.coverage_limit,
    )


def render(report: Report, form: str) -> Document:
    """The report as ``html`` or ``pdf``."""
    if form not in FORMATS:
        raise ValueError(f"the format is html or pdf, not {form!r}")
    html = render_html(report)
    name = f"nnrr-{report.resh or 'enhet'}-{report.period.label}.{form}"
    if form == "pdf":
        return Document(html_to_pdf(html), PDF, name)
    return Document(html.encode("utf-8"), HTML, name)
