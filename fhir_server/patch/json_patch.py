"""JSON Patch (RFC 6902) applied to a resource, with the ``jsonpatch`` library.

Operations run one by one on a copy, so a failure names its operation and the input is never touched.
Errors: a malformed patch document → 400; an operation this resource cannot take (a missing path, a failed
``test``) → 422. Messages name the operation and its pointer, never a value of the resource or of the patch.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch
from jsonpointer import JsonPointer, JsonPointerException

from fhir_server.errors import bad_request, unprocessable


def apply_json_patch(resource: dict[str, Any], operations: Any) -> dict[str, Any]:
    """Apply the JSON Patch document ``operations`` to ``resource``; return the patched copy."""
    if not isinstance(operations, list):
        raise bad_request("a JSON Patch document must be an array of operations")
    patches = [_parse(operation, f"operation {i}") for i, operation in enumerate(operations)]
    document: Any = copy.deepcopy(resource)
    for i, (operation, patch) in enumerate(zip(operations, patches, strict=True)):
        document = _apply(patch, document, _describe(operation, i))
    if not isinstance(document, dict):
        raise unprocessable("the patched document is not a JSON object")
    return document


def _parse(operation: Any, at: str) -> jsonpatch.JsonPatch:
    if not isinstance(operation, dict):
        raise bad_request(f"{at}: an operation must be a JSON object")
    op = operation.get("op")
    if op not in jsonpatch.JsonPatch.operations:
        raise bad_request(f"{at}: 'op' must be one of {', '.join(sorted(jsonpatch.JsonPatch.operations))}")
    at = f"{at} ({op})"
    for member in ("path", "from") if op in ("move", "copy") else ("path",):
        if not isinstance(operation.get(member), str):
            raise bad_request(f"{at}: '{member}' must be a JSON Pointer string")
        try:
            JsonPointer(operation[member])
        except JsonPointerException:
            raise bad_request(f"{at}: '{member}' is not a valid JSON Pointer") from None
    if op in ("add", "replace", "test") and "value" not in operation:
        raise bad_request(f"{at}: a {op} operation needs a 'value'")
    try:
        return jsonpatch.JsonPatch([operation])
    except (jsonpatch.JsonPatchException, JsonPointerException):
        raise bad_request(f"{at}: the operation is malformed") from None


def _apply(patch: jsonpatch.JsonPatch, document: Any, at: str) -> Any:
    try:
        return patch.apply(document, in_place=True)
    except jsonpatch.JsonPatchTestFailed:
        raise unprocessable(f"{at}: the test failed") from None
    except jsonpatch.InvalidJsonPatch:
        raise bad_request(f"{at}: the operation is malformed") from None
    except (jsonpatch.JsonPatchException, JsonPointerException, LookupError, TypeError, ValueError):
        raise unprocessable(f"{at}: the path does not exist in this resource or cannot take this change") from None


def _describe(operation: dict[str, Any], i: int) -> str:
    pointers = " from ".join(repr(operation[m]) for m in ("path", "from") if m in operation)
    return f"operation {i} ({operation['op']} {pointers})"
