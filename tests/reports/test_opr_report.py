"""OPR's annual tables as a report: ``ryggrad report --registry opr`` writes them for a clinic (by RESH id) and a
year, in HTML with the tables' numbers, or as a PDF whose pages render."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fhir_server.cli import app
from fhir_server.norway.identifiers import RESH_SYSTEM
from tests.indicators.test_opr_tables import YEAR, write_opr_year
from tests.reports.printed import PDF_UNAVAILABLE, printed
from tests.rest.helpers import unique
from workers.reports.opr_report import build_opr_report, render_opr


@pytest.fixture(scope="module")
def clinic(server, client) -> tuple[str, str]:
    """One OPR clinic's year of data; (its Organization reference, its RESH id)."""
    unit = write_opr_year(client)
    resh = str(abs(hash(unique("resh"))) % 10**6 + 10**6)
    organization = {
        "resourceType": "Organization",
        "id": unit,
        "name": "Smerteklinikken",
        "identifier": [{"system": RESH_SYSTEM, "value": resh}],
    }
    assert client.put(f"/fhir/Organization/{unit}", json=organization).is_success
    return f"Organization/{unit}", resh


def test_the_cli_writes_the_opr_tables(clinic, same_database, tmp_path: Path):
    _, resh = clinic
    result = CliRunner().invoke(
        app,
        ["report", "--registry", "opr", "--unit", resh, "--period", str(YEAR), "--output", str(tmp_path)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    html = (tmp_path / f"opr-tabeller-{YEAR}.html").read_text(encoding="utf-8")
    assert "Smerteklinikken" in html and f"tabeller for {YEAR}" in html
    for text in ("Tabell 10", "Tabell 11a", "Tabell 14", "Tabell 15", "04:28:05", "00:07:26", "3 (25 %)"):
        assert text in html, text
    refused = CliRunner().invoke(app, ["report", "--registry", "opr", "--period", f"{YEAR}Q1"])
    assert refused.exit_code == 2 and "annual" in refused.output


@pytest.mark.skipif(PDF_UNAVAILABLE is not None, reason=PDF_UNAVAILABLE or "")
def test_the_opr_tables_as_pdf(server, clinic, tmp_path: Path):
    unit, _ = clinic
    document = render_opr(build_opr_report(server, YEAR, date(YEAR + 1, 2, 1), unit, "Smerteklinikken"), "pdf")
    assert document.media_type == "application/pdf" and document.content.startswith(b"%PDF")
    shown = printed(document, tmp_path)
    assert shown.pages
    assert "04:28:05" in shown.words and "Tabell 12" in shown.words
