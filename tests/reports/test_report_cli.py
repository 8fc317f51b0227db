"""``ryggrad report``: the unit found by its RESH id, the report written to the folder asked for, bad input refused."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from fhir_server.cli import app


def test_the_cli_writes_the_units_report(report_world, same_database, tmp_path: Path):
    unit = report_world.unit
    result = CliRunner().invoke(
        app, ["report", "--unit", unit.resh, "--period", "2017Q4", "--output", str(tmp_path)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    written = tmp_path / f"nnrr-{unit.resh}-2017Q4.html"
    document = written.read_text(encoding="utf-8")
    assert "Kvartalsrapport for " + unit.name in document
    assert "4. kvartal 2017" in document
    assert report_world.other.name not in document


def test_the_cli_refuses_what_it_cannot_report(report_world, same_database, tmp_path: Path):
    runner = CliRunner()
    unknown = runner.invoke(app, ["report", "--unit", "1", "--output", str(tmp_path)])
    assert unknown.exit_code == 2 and "RESH" in unknown.output
    bad = runner.invoke(app, ["report", "--unit", report_world.unit.resh, "--period", "2017-4"])
    assert bad.exit_code == 2
    assert runner.invoke(app, ["report", "--unit", report_world.unit.resh, "--format", "docx"]).exit_code == 2
    assert not list(tmp_path.iterdir())
