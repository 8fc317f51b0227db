"""The OPR annual tables (T10-T15 and the follow-up response rates) as a document: the numbers from
``fhir_server.indicators.opr_tables``, laid out as the registry's annual report prints them, in HTML or PDF."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from fhir_server.indicators.opr_tables import LEVELS, OprTables, opr_tables
from workers.reports import formatting
from workers.reports.document import HTML, PDF, Document
from workers.reports.pdf import html_to_pdf

LEVEL_NAMES = {"local": "Lokal", "regional": "Regional", "national": "Nasjonal"}
REASONS = {  # the short baseline's reasons (P6), as the form lists them
    "no-device": "Har ikke PC, telefon eller nettbrett",
    "login-problems": "Tekniske problemer med å logge inn",
    "own-equipment": "Tekniske problemer med eget utstyr",
    "did-not-understand": "Forsto ikke at skjemaet skulle fylles ut før timen",
    "declined": "Ønsket ikke å delta",
    "could-not-answer": "Kunne ikke svare selv",
    "no-id-device": "Har ikke elektronisk ID",
    "forgot": "Hadde glemt det",
    "other": "Annet",
}
DURATION_NAMES = ("Minimum", "1. kvartil", "Median", "3. kvartil", "Maksimum")


@dataclass(frozen=True)
class OprReport:
    tables: OprTables
    clinic: str
    created: date


def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("workers.reports", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["percent"] = formatting.percent
    return environment


ENVIRONMENT = _environment()


def build_opr_report(server: Any, year: int, today: date, unit: str | None = None, clinic: str = "") -> OprReport:
    return OprReport(opr_tables(server, year, unit), clinic or "Alle klinikker i OPR", today)


def render_opr(report: OprReport, form: str) -> Document:
    html = ENVIRONMENT.get_template("opr_tables.html.j2").render(
        report=report,
        t=report.tables,
        levels=LEVELS,
        level_names=LEVEL_NAMES,
        reasons=REASONS,
        duration_names=DURATION_NAMES,
    )
    name = f"opr-tabeller-{report.tables.year}.{form}"
    if form == "pdf":
        return Document(html_to_pdf(html), PDF, name)
    if form != "html":
        raise ValueError(f"the format is html or pdf, not {form!r}")
    return Document(html.encode("utf-8"), HTML, name)
