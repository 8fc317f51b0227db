"""The official SQL-on-FHIR v2 test suite, read in place from ../shared, run through `run_view`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fhir_server.views.errors import ViewDefinitionError
from fhir_server.views.runner import run_view, view_columns

SUITE_DIR = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "fhir-test-cases" / "sql-on-fhir"
MANIFEST = SUITE_DIR / "manifest.json"

# Cases fhirpathpy cannot pass, with the reason (none at present).
XFAIL: dict[str, str] = {}


def _cases() -> list[Any]:
    if not MANIFEST.is_file():
        return [pytest.param(None, None, id="suite-absent", marks=pytest.mark.skip(reason=f"no suite at {SUITE_DIR}"))]
    params = []
    for file_name in json.loads(MANIFEST.read_text(encoding="utf-8")):
        suite = json.loads((SUITE_DIR / file_name).read_text(encoding="utf-8"))
        for case in suite["tests"]:
            case_id = f"{file_name.removesuffix('.json')}::{case['title']}"
            marks = [pytest.mark.xfail(reason=XFAIL[case_id], strict=True)] if case_id in XFAIL else []
            params.append(pytest.param(suite["resources"], case, id=case_id, marks=marks))
    return params


def _canonical(value: Any) -> Any:
    """Rows compared by value: floats rounded (0.95000000 == 0.95), dicts and lists as sorted JSON."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float | int):
        return round(float(value), 9)
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    return value


def _row_key(row: dict[str, Any]) -> str:
    return json.dumps(_canonical(row), sort_keys=True)


@pytest.mark.parametrize(("resources", "case"), _cases())
def test_official_case(resources: list[dict[str, Any]], case: dict[str, Any]) -> None:
    view = case["view"]
    if case.get("expectError"):
        with pytest.raises(ViewDefinitionError):
            list(run_view(view, resources))
        return
    rows = list(run_view(view, resources))
    if "expectColumns" in case:
        assert view_columns(view) == case["expectColumns"]
        for row in rows:
            assert list(row) == case["expectColumns"]
    if "expect" in case:
        assert sorted(map(_row_key, rows)) == sorted(map(_row_key, case["expect"]))
