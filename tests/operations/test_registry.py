"""Every operation the router offers agrees with the OperationDefinition that declares it, and the
CapabilityStatement lists each where it is invoked."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from fhir_server.definitions.registry import Definitions
from fhir_server.operations.registry import ANY_TYPE, OPERATIONS, find


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.code)
def test_each_operation_is_as_its_definition_declares(operation, definitions: Definitions):
    declared = definitions.resource("OperationDefinition", operation.definition)
    assert declared is not None, operation.definition
    assert declared["code"] == operation.code
    if operation.logical:  # R4 knows no such resource type: declared at the system level, without one
        assert declared["system"] and not declared["type"] and "resource" not in declared
    else:
        assert declared["system"] == operation.system
        assert declared["type"] == operation.type_level
        assert declared["instance"] == operation.instance
    if operation.resource not in (None, ANY_TYPE) and not operation.logical:
        assert declared["resource"] == [operation.resource]
    if declared.get("affectsState"):
        assert operation.methods == ("POST",)  # what changes state is never a GET
    else:
        assert "GET" in operation.methods


def test_paths_find_their_operations():
    assert find(("$redeem-code",))[0].code == "redeem-code"
    assert find(("Task", "1", "$issue-code"))[0].code == "issue-code"
    assert find(("Task", "$issue-code")) is None  # an instance operation
    assert find(("Patient", "1", "$issue-code")) is None
    assert find(("Patient", "$validate"))[0].code == "validate"
    assert find(("$validate",)) is None


def test_the_capability_statement_lists_them(client: TestClient):
    rest = client.get("/fhir/metadata").json()["rest"][0]
    assert {"name": "redeem-code", "definition": "https://ryggrad.no/fhir/OperationDefinition/redeem-code"} in rest[
        "operation"
    ]
    task = next(r for r in rest["resource"] if r["type"] == "Task")
    assert {op["name"] for op in task["operation"]} == {"validate", "dispatch-now", "issue-code", "call-list"}
    patient = next(r for r in rest["resource"] if r["type"] == "Patient")
    assert [op["name"] for op in patient["operation"]] == [
        "validate",
        "everything",
        "request-correction",
        "request-erasure",
        "erase",
        "export",
    ]
    group = next(r for r in rest["resource"] if r["type"] == "Group")
    assert {"name": "export", "definition": "https://ryggrad.no/fhir/OperationDefinition/group-export"} in group[
        "operation"
    ]
    assert {"name": "export", "definition": "https://ryggrad.no/fhir/OperationDefinition/export"} in rest["operation"]
    observation = next(r for r in rest["resource"] if r["type"] == "Observation")
    assert [op["name"] for op in observation["operation"]] == ["validate"]
