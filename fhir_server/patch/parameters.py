"""Read a FHIRPath Patch ``Parameters`` resource into operations (https://hl7.org/fhir/R4/fhirpatch.html).

Every problem here is the patch document's own, answered 400; messages name the parameter, never a value.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from fhir_server.errors import bad_request
from fhir_server.patch.definitions import ElementDefinitions
from fhir_server.patch.elements import JsonObject, Value

OPERATION_TYPES = ("add", "insert", "delete", "replace", "move")
_REQUIRED = {
    "add": ("path", "name", "value"),
    "insert": ("path", "value", "index"),
    "delete": ("path",),
    "replace": ("path", "value"),
    "move": ("path", "source", "destination"),
}
_PARTS = frozenset({"type", "path", "name", "value", "index", "source", "destination"})
_ELEMENT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*")


@dataclass(frozen=True)
class Operation:
    at: str  # "Parameters.parameter[2]", for messages and OperationOutcome.issue.expression
    type: str
    path: str
    name: str | None = None
    value: JsonObject | None = None  # the raw "value" part; built by ``build_value`` where it goes
    index: int | None = None
    source: int | None = None
    destination: int | None = None


def read_operations(parameters: Any) -> list[Operation]:
    if not isinstance(parameters, dict) or parameters.get("resourceType") != "Parameters":
        raise bad_request("a FHIRPath Patch must be a Parameters resource")
    entries = parameters.get("parameter", [])
    if not isinstance(entries, list):
        raise bad_request("Parameters.parameter must be an array", "Parameters.parameter")
    return [_operation(entry, f"Parameters.parameter[{i}]") for i, entry in enumerate(entries)]


def _operation(entry: Any, at: str) -> Operation:
    if not isinstance(entry, dict) or entry.get("name") != "operation":
        raise bad_request(f"{at}: every parameter of a FHIRPath Patch must be named 'operation'", at)
    parts = _parts(entry, at)
    kind = _primitive(parts, "type", ("valueCode", "valueString"), str, at)
    if kind not in OPERATION_TYPES:
        raise bad_request(f"{at}: the operation type must be one of {', '.join(OPERATION_TYPES)}", at)
    missing = [name for name in _REQUIRED[kind] if name not in parts]
    if missing:
        raise bad_request(f"{at}: a {kind} operation needs the part(s) {', '.join(missing)}", at)
    name = _primitive(parts, "name", ("valueString", "valueCode"), str, at) if kind == "add" else None
    if name is not None and not _ELEMENT_NAME.fullmatch(name):
        raise bad_request(f"{at}: the name part must be an element name", at)
    value = parts.get("value") if kind in ("add", "insert", "replace") else None
    if value is not None:
        build_value(value, None, None, at)  # a malformed value is the document's fault, whatever the resource
    return Operation(
        at=at,
        type=kind,
        path=_primitive(parts, "path", ("valueString",), str, at),
        name=name,
        value=value,
        index=_index(parts, "index", at) if kind == "insert" else None,
        source=_index(parts, "source", at) if kind == "move" else None,
        destination=_index(parts, "destination", at) if kind == "move" else None,
    )


def _parts(entry: JsonObject, at: str) -> dict[str, JsonObject]:
    parts: dict[str, JsonObject] = {}
    raw = entry.get("part", [])
    if not isinstance(raw, list):
        raise bad_request(f"{at}: part must be an array", at)
    for part in raw:
        name = part.get("name") if isinstance(part, dict) else None
        if name not in _PARTS:
            raise bad_request(f"{at}: unknown or unnamed part (allowed: {', '.join(sorted(_PARTS))})", at)
        if name in parts:
            raise bad_request(f"{at}: the part '{name}' is given more than once", at)
        parts[name] = part
    return parts


def _primitive(parts: dict[str, JsonObject], name: str, keys: tuple[str, ...], kind: type, at: str) -> Any:
    part = parts.get(name, {})
    found = [part[key] for key in keys if key in part]
    if len(found) != 1 or not isinstance(found[0], kind) or isinstance(found[0], bool) or found[0] == "":
        raise bad_request(f"{at}: the {name} part must have a {' or '.join(keys)}", at)
    return found[0]


def _index(parts: dict[str, JsonObject], name: str, at: str) -> int:
    value = _primitive(parts, name, ("valueInteger",), int, at)
    if value < 0:
        raise bad_request(f"{at}: the {name} part must not be negative", at)
    return value


def build_value(part: JsonObject, definitions: ElementDefinitions | None, type_path: str | None, at: str) -> Value:
    """The JSON of a value part: a ``value[x]`` (with its ``_value[x]``), a ``resource``, or nested parts.

    Nested parts make the object of an anonymous type (a backbone element such as Patient.contact); with
    the definitions, ``type_path`` tells which of its children repeat and which are choices.
    """
    typed = [key for key in part if key.startswith(("value", "_value")) and key.lstrip("_") != "value"]
    suffixes = {key.lstrip("_")[len("value") :] for key in typed}
    given = len(suffixes) + ("resource" in part) + ("part" in part)
    if given != 1:
        raise bad_request(f"{at}: a value needs exactly one of value[x], resource or part", at)
    if "resource" in part:
        resource = part["resource"]
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            raise bad_request(f"{at}: a value resource must be a resource", at)
        return Value(copy.deepcopy(resource))
    if suffixes:
        suffix = suffixes.pop()
        if not suffix[:1].isupper():
            raise bad_request(f"{at}: unknown value member", at)
        companion = part.get("_value" + suffix)
        if companion is not None and not isinstance(companion, dict):
            raise bad_request(f"{at}: _value{suffix} must be an object", at)
        if part.get("value" + suffix) is None and companion is None:
            raise bad_request(f"{at}: value{suffix} must not be null", at)
        return Value(copy.deepcopy(part.get("value" + suffix)), copy.deepcopy(companion), suffix)
    return Value(_anonymous(part["part"], definitions, type_path, at))


def _anonymous(parts: Any, definitions: ElementDefinitions | None, type_path: str | None, at: str) -> JsonObject:
    if not isinstance(parts, list) or not parts:
        raise bad_request(f"{at}: a value given as parts needs at least one part", at)
    built: JsonObject = {}
    counts: dict[str, int] = {}
    children: list[tuple[str, bool | None, Value]] = []
    for part in parts:
        name = part.get("name") if isinstance(part, dict) else None
        if not isinstance(name, str) or not _ELEMENT_NAME.fullmatch(name):
            raise bad_request(f"{at}: every part of a value needs an element name", at)
        element = definitions.child(type_path, name) if definitions else None
        child_path = definitions.value_type_path(element) if definitions and element else None
        value = build_value(part, definitions, child_path, at)
        key = name
        if element is not None and element.is_choice:
            if not value.type_suffix:
                raise bad_request(f"{at}: the choice element '{name}' needs a value[x]", at)
            key = name + value.type_suffix
        counts[key] = counts.get(key, 0) + 1
        children.append((key, element.repeats if element else None, value))
    for key, repeats, value in children:
        if repeats or (repeats is None and counts[key] > 1):
            _append(built, key, value)
        elif key in built or "_" + key in built:
            raise bad_request(f"{at}: the part '{key}' of a value does not repeat", at)
        else:
            if value.json is not None:
                built[key] = value.json
            if value.companion is not None:
                built["_" + key] = value.companion
    return built


def _append(built: JsonObject, key: str, value: Value) -> None:
    items = built.setdefault(key, [])
    if value.companion is not None or "_" + key in built:
        companions = built.setdefault("_" + key, [None] * (len(items)))
        companions.append(value.companion)
    items.append(value.json)
