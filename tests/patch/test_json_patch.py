"""JSON Patch: malformed documents are 400, patches this resource cannot take are 422, the input is untouched."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from fhir_server.errors import FhirError
from fhir_server.patch import apply_json_patch

SECRET = "01017012345"  # a made-up national identity number: must never appear in a message


def _patient() -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": "p1",
        "identifier": [{"system": "urn:oid:2.16.578.1.12.4.1.4.1", "value": SECRET}],
        "name": [{"family": "Nordmann", "given": ["Kari"]}],
    }


def _error(operations: Any, resource: dict[str, Any] | None = None) -> FhirError:
    with pytest.raises(FhirError) as caught:
        apply_json_patch(resource or _patient(), operations)
    return caught.value


@pytest.mark.parametrize(
    "operations",
    [
        pytest.param({"op": "add", "path": "/active", "value": True}, id="object-not-array"),
        pytest.param('[{"op": "add"}]', id="string"),
        pytest.param(None, id="null"),
        pytest.param(["add"], id="array-of-strings"),
        pytest.param([{"path": "/active", "value": True}], id="no-op"),
        pytest.param([{"op": "upsert", "path": "/active", "value": True}], id="unknown-op"),
        pytest.param([{"op": "add", "value": True}], id="no-path"),
        pytest.param([{"op": "add", "path": 3, "value": True}], id="path-not-string"),
        pytest.param([{"op": "add", "path": "active", "value": True}], id="pointer-without-slash"),
        pytest.param([{"op": "add", "path": "/name/~2", "value": True}], id="bad-escape"),
        pytest.param([{"op": "add", "path": "/active"}], id="add-without-value"),
        pytest.param([{"op": "test", "path": "/id"}], id="test-without-value"),
        pytest.param([{"op": "move", "path": "/x"}], id="move-without-from"),
        pytest.param([{"op": "copy", "from": "id", "path": "/x"}], id="bad-from"),
    ],
)
def test_malformed_patch_documents_are_400(operations: Any) -> None:
    error = _error(operations)
    assert error.status == 400
    assert error.issues[0].code == "invalid"


@pytest.mark.parametrize(
    "operations",
    [
        pytest.param([{"op": "remove", "path": "/birthDate"}], id="remove-missing"),
        pytest.param([{"op": "replace", "path": "/birthDate", "value": "2000"}], id="replace-missing"),
        pytest.param([{"op": "add", "path": "/contact/0/name", "value": {}}], id="add-under-missing"),
        pytest.param([{"op": "add", "path": "/name/5", "value": {}}], id="index-beyond-end"),
        pytest.param([{"op": "remove", "path": "/name/x"}], id="index-not-number"),
        pytest.param([{"op": "move", "from": "/birthDate", "path": "/x"}], id="move-from-missing"),
        pytest.param([{"op": "move", "from": "/name", "path": "/name/0/x"}], id="move-into-itself"),
        pytest.param([{"op": "test", "path": "/identifier/0/value", "value": "x"}], id="test-fails"),
        pytest.param([{"op": "test", "path": "/birthDate", "value": "x"}], id="test-missing-path"),
        pytest.param([{"op": "replace", "path": "", "value": [1]}], id="result-not-object"),
    ],
)
def test_patches_this_resource_cannot_take_are_422(operations: Any) -> None:
    assert _error(operations).status == 422


def test_messages_name_the_operation_and_never_a_value() -> None:
    error = _error(
        [
            {"op": "add", "path": "/active", "value": True},
            {"op": "test", "path": "/identifier/0/value", "value": SECRET + "9"},
        ]
    )
    text = str(error.outcome)
    assert "operation 1 (test '/identifier/0/value')" in text
    assert SECRET not in text


def test_the_input_is_never_modified() -> None:
    patient = _patient()
    before = copy.deepcopy(patient)
    patched = apply_json_patch(patient, [{"op": "remove", "path": "/name/0/given/0"}])
    assert patched["name"][0] == {"family": "Nordmann", "given": []}
    assert patient == before
    failing = [{"op": "remove", "path": "/name"}, {"op": "remove", "path": "/nowhere"}]
    assert _error(failing, patient).status == 422
    assert patient == before


def test_all_operations() -> None:
    patched = apply_json_patch(
        _patient(),
        [
            {"op": "add", "path": "/name/0/given/-", "value": "Marie"},
            {"op": "copy", "from": "/name/0", "path": "/name/-"},
            {"op": "replace", "path": "/name/1/family", "value": "Hansen"},
            {"op": "move", "from": "/name/1", "path": "/name/0"},
            {"op": "test", "path": "/name/1/given", "value": ["Kari", "Marie"]},
            {"op": "remove", "path": "/identifier"},
        ],
    )
    assert patched == {
        "resourceType": "Patient",
        "id": "p1",
        "name": [
            {"family": "Hansen", "given": ["Kari", "Marie"]},
            {"family": "Nordmann", "given": ["Kari", "Marie"]},
        ],
    }
