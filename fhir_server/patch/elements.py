"""FHIR JSON elements as places in a resource, and the edits FHIRPath Patch makes to them.

A primitive element may carry an ``id``/extensions in a companion member named with ``_``
(``"birthDate"`` / ``"_birthDate"``; for repeating primitives two aligned arrays). Every edit here keeps a
primitive and its companion together, so an element is moved, replaced or deleted whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JsonObject = dict[str, Any]


@dataclass(frozen=True)
class Node:
    """One element: ``parent[key]``, or ``parent[key][index]`` in a repeating element; the resource if no parent."""

    parent: JsonObject | None
    key: str  # the JSON member name, with a choice type suffix: "deceasedBoolean"
    name: str  # the element name as FHIRPath writes it: "deceased"
    index: int | None
    type_path: str | None  # what names the children of its value: "HumanName", "Patient.contact", "date"


@dataclass(frozen=True)
class Value:
    """A value to put in a resource: its JSON, the ``_`` companion of a primitive, the type a suffix named."""

    json: Any
    companion: JsonObject | None = None
    type_suffix: str | None = None  # "Quantity" for valueQuantity; None for parts and resources


def value_of(node: Node, resource: JsonObject) -> Any:
    if node.parent is None:
        return resource
    return _item(node.parent.get(node.key), node.index)


def companion_of(node: Node) -> Any:
    if node.parent is None:
        return None
    return _item(node.parent.get("_" + node.key), node.index)


def _item(member: Any, index: int | None) -> Any:
    if index is None:
        return member
    if isinstance(member, list) and 0 <= index < len(member):
        return member[index]
    return None


def set_single(parent: JsonObject, key: str, value: Value) -> None:
    """Set a non-repeating element, dropping whatever it held (its companion included); keeps member order."""
    if value.json is None:
        parent.pop(key, None)
    else:
        parent[key] = value.json
    if value.companion is None:
        parent.pop("_" + key, None)
    else:
        parent["_" + key] = value.companion


def delete_single(parent: JsonObject, key: str) -> None:
    parent.pop(key, None)
    parent.pop("_" + key, None)


def list_length(parent: JsonObject, key: str) -> int:
    return max(len(_as_list(parent.get(key))), len(_as_list(parent.get("_" + key))))


def set_item(parent: JsonObject, key: str, index: int, value: Value) -> None:
    items, companions = _lists(parent, key, value.companion is not None)
    items[index] = value.json
    if companions is not None:
        companions[index] = value.companion


def insert_item(parent: JsonObject, key: str, index: int, value: Value) -> None:
    items, companions = _lists(parent, key, value.companion is not None)
    items.insert(index, value.json)
    if companions is not None:
        companions.insert(index, value.companion)


def delete_item(parent: JsonObject, key: str, index: int) -> None:
    items, companions = _lists(parent, key, False)
    del items[index]
    if companions is not None:
        del companions[index]


def move_item(parent: JsonObject, key: str, source: int, destination: int) -> None:
    items, companions = _lists(parent, key, False)
    for column in (items, companions):
        if column is not None:
            column.insert(destination, column.pop(source))


def ensure_companion(node: Node) -> JsonObject:
    """The object holding a primitive element's id and extensions, made if it has none yet."""
    assert node.parent is not None
    if node.index is None:
        companion = node.parent.get("_" + node.key)
        if not isinstance(companion, dict):
            companion = node.parent["_" + node.key] = {}
        return companion
    _, companions = _lists(node.parent, node.key, True)
    assert companions is not None
    if not isinstance(companions[node.index], dict):
        companions[node.index] = {}
    return companions[node.index]


def _as_list(member: Any) -> list[Any]:
    if isinstance(member, list):
        return member
    return [] if member is None else [member]


def _lists(parent: JsonObject, key: str, want_companions: bool) -> tuple[list[Any], list[Any] | None]:
    """A repeating element's array and its companion array, both present or padded to the same length."""
    for member in (key, "_" + key):  # a single value where an array belongs becomes its only item
        if member in parent and not isinstance(parent[member], list):
            parent[member] = [parent[member]]
    length = list_length(parent, key)
    items = parent.setdefault(key, [])
    items.extend([None] * (length - len(items)))
    companions = parent.get("_" + key)
    if companions is None and want_companions:
        companions = parent["_" + key] = []
    if companions is not None:
        companions.extend([None] * (length - len(companions)))
    return items, companions


def prune(value: Any) -> None:
    """Drop what FHIR JSON forbids and edits leave behind: empty objects and arrays, null members."""
    if isinstance(value, list):
        for item in value:
            prune(item)
        value[:] = [item for item in value if not _empty(item)]
        return
    if not isinstance(value, dict):
        return
    for key in [k for k in value if k.startswith("_")]:
        companion = value[key]
        if isinstance(companion, list):
            _prune_companions(companion)
        else:
            prune(companion)
        if companion is None or _empty(companion) or _all_none(companion):
            del value[key]
    for key in [k for k in value if not k.startswith("_")]:
        member = value[key]
        if isinstance(member, list) and "_" + key not in value:
            member[:] = [item for item in member if item is not None]  # nulls only hold places for companions
        prune(member)
        if member is None or _empty(member):
            del value[key]


def _prune_companions(companions: list[Any]) -> None:
    for position, companion in enumerate(companions):
        prune(companion)
        if _empty(companion):
            companions[position] = None


def _all_none(value: Any) -> bool:
    return isinstance(value, list) and all(item is None for item in value)


def _empty(value: Any) -> bool:
    return isinstance(value, dict | list) and not value
