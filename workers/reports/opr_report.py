"""The OPR annual tables (T10-T15 and the follow-up response rates) as a document: the numbers from
``fhir_server.indicators.opr_tables``, laid out as the registry's annual report prints them, in HTML or PDF."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fhir_server.indicators.opr_tables import LEVELS, OprTables, opr_tables
from workers.reports.document import HTML, PDF, Document
from workers.reports.pdf import html_to_pdf
from workers.reports.rendering import ENVIRONMENT

LEVEL_NAMES = {"local": "Lokal", "regional": "Regional", "national": "Nasjonal"}
SHORT_REASONS = "https://ryggrad.no/fhir/CodeSystem/short-reason"  # why the short baseline was used (P6)
DURATION_NAMES = ("Minimum", "1. kvartil", "Median", "3. kvartil", "Maksimum")


@dataclass(frozen=True)
class OprReport:
    tables: OprTables
    clinic: str
    created: date
    reasons: dict[str, str]  # the short baseline's reasons, code: text, in the form's order


def _reasons(server: Any) -> dict[str, str]:
    """The short baseline's reasons as the form offers them (its CodeSystem)."""
    system = server.definitions.resource("CodeSystem", SHORT_REASONS) or {}
    return {c["code"]: c.get("display") or c["code"] for c in system.get("concept") or []}


def build_opr_report(server: Any, year: int, today: date, unit: str | None = None, clinic: str = "") -> OprReport:
    tables = opr_tables(server, year, unit)
    return OprReport(tables, clinic or "Alle klinikker i OPR", today, _reasons(server))


def render_opr(report: OprReport, form: str) -> Document:
    html = ENVIRONMENT.get_template("opr_tables.html.j2").render(
        report=report,
        t=report.tables,
        levels=LEVELS,
        level_names=LEVEL_NAMES,
        reasons=report.reasons,
        duration_names=DURATION_NAMES,
    )
    name = f"opr-tabeller-{report.tables.year}.{form}"
    if form == "pdf":
        return Document(html_to_pdf(html), PDF, name)
    if form != "html":
        raise ValueError(f"the format is html or pdf, not {form!r}")
    return Document(html.encode("utf-8"), HTML, name)
