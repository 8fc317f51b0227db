"""The official JSON Patch cases (fhir-test-cases ``r4-patch/json-patch-tests.json``, from RFC 6902)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from fhir_server.errors import FhirError
from fhir_server.patch import apply_json_patch
from tests.paths import FIXTURES, requires_shared

CASES = FIXTURES / "fhir-test-cases" / "r4-patch" / "json-patch-tests.json"


def _cases() -> list[Any]:
    if not CASES.is_file():  # skipped by requires_shared when ../shared is absent; fails if only the file is
        return [pytest.param(None, id="cases-file")]
    cases = json.loads(CASES.read_text(encoding="utf-8"))
    return [
        pytest.param(case, id=case["comment"], marks=pytest.mark.skip(reason="disabled in the official suite"))
        if case.get("disabled")
        else pytest.param(case, id=case["comment"])
        for case in cases
    ]


@requires_shared
@pytest.mark.parametrize("case", _cases())
def test_official_case(case: dict[str, Any] | None) -> None:
    assert case is not None, f"{CASES} is missing"
    assert "expected" in case or "error" in case, "a case states its outcome"
    document = copy.deepcopy(case["doc"])
    if "error" in case:
        with pytest.raises(FhirError) as caught:
            apply_json_patch(document, case["patch"])
        assert caught.value.status in (400, 422)
    else:
        assert apply_json_patch(document, case["patch"]) == case["expected"]
    assert document == case["doc"], "the input is never modified"
