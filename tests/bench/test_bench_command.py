"""`ryggrad bench` hands its arguments to the benchmark suite's parser (no benchmark runs here)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from bench.run import _parse
from bench.suite_options import CORE, SECTIONS
from fhir_server.cli import app


def test_ryggrad_bench_help_is_the_suites():
    result = CliRunner().invoke(app, ["bench", "--help"])
    assert result.exit_code == 0
    assert "usage: ryggrad bench" in result.output
    assert "--only" in result.output and "--backend" in result.output


def test_sections_sizes_and_backend_are_parsed():
    args = _parse(["--backend", "sqlite", "--only", "core,memory", "--quick"])
    assert args.sections == (*CORE, "memory")
    assert (args.backend, args.size, args.repetitions) == ("sqlite", 10_000, 10)
    args = _parse(["--backend", "postgresql", "--size", "1m"])
    assert args.sections == SECTIONS and args.size == 1_000_000 and args.repetitions == 30


def test_an_unknown_section_is_refused():
    with pytest.raises(SystemExit):
        _parse(["--backend", "sqlite", "--only", "read,nonsense"])
