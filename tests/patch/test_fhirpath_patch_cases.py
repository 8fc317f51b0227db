"""The official FHIRPath Patch cases (fhir-test-cases ``r4-patch/fhir-patch-tests.xml``), applied to FHIR JSON.

Each case holds an input resource, a diff (the Parameters) and either the output or an ``error``. The
server speaks JSON, so the test turns the XML into FHIR JSON (``fhir_xml``) and compares the JSON exactly
(typed primitives, arrays, ``_`` companions and the narrative's markup included). A case's
``mode`` is ``both`` when it can also check diff *generation* (output → diff), which Ryggrad does not do;
every case, ``forwards`` or ``both``, is applied forwards here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from fhir_server.errors import FhirError
from fhir_server.patch import apply_fhirpath_patch
from tests.patch.fhir_xml import StructureDefinitions, resource_to_json
from tests.paths import FIXTURES, requires_shared

CASES = FIXTURES / "fhir-test-cases" / "r4-patch" / "fhir-patch-tests.xml"


def _cases() -> list[Any]:
    if not CASES.is_file():  # skipped by requires_shared when ../shared is absent; fails if only the file is
        return [pytest.param(None, id="cases-file")]
    root = etree.parse(str(CASES)).getroot()
    return [pytest.param(case, id=case.get("name")) for case in root.iter("case")]


@pytest.fixture(scope="module")
def xml_definitions(r4_package: Path) -> StructureDefinitions:
    return StructureDefinitions(r4_package)


def _resource(case: etree._Element, part: str, sds: StructureDefinitions) -> dict[str, Any]:
    holder = case.find(part)
    assert holder is not None, f"the case has no <{part}>"
    (resource,) = [child for child in holder if isinstance(child.tag, str)]
    return resource_to_json(resource, sds)


@requires_shared
@pytest.mark.parametrize("case", _cases())
def test_official_case(case: etree._Element | None, xml_definitions, elements) -> None:
    assert case is not None, f"{CASES} is missing"
    resource = _resource(case, "input", xml_definitions)
    diff = _resource(case, "diff", xml_definitions)
    if case.find("error") is not None:
        with pytest.raises(FhirError) as caught:
            apply_fhirpath_patch(resource, diff, definitions=elements)
        assert caught.value.status == 422
        return
    expected = _resource(case, "output", xml_definitions)
    assert apply_fhirpath_patch(resource, diff, definitions=elements) == expected
