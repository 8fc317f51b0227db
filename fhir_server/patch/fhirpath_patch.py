"""FHIRPath Patch (https://hl7.org/fhir/R4/fhirpatch.html) applied to a resource in FHIR JSON.

Operations run in order on a copy; the first failure fails the whole patch and the input is never touched.
Paths are evaluated afresh for each operation, so list indexes see the edits made before. A path must select
exactly one element, except that ``delete`` of nothing does nothing and ``insert``/``move`` name a whole list.
Errors: a malformed Parameters → 400; a path that does not resolve as the operation requires → 422.
Whether a value's type fits its element is left to the validation of the resulting resource.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from fhir_server.errors import unprocessable
from fhir_server.patch import elements as el
from fhir_server.patch.definitions import ElementDefinitions, default_element_definitions
from fhir_server.patch.elements import JsonObject, Node
from fhir_server.patch.locate import select
from fhir_server.patch.parameters import Operation, build_value, read_operations

_LAST_MEMBER = re.compile(r"(.+)\.([A-Za-z][A-Za-z0-9]*)")


def apply_fhirpath_patch(
    resource: dict[str, Any], parameters: dict[str, Any], *, definitions: ElementDefinitions | None = None
) -> dict[str, Any]:
    """Apply a FHIRPath Patch ``Parameters`` resource to ``resource``; return the patched copy.

    ``definitions`` (default: hl7.fhir.r4.core from the configured package cache) tells which elements repeat
    and which are choices; without them an absent element is added as a single value.
    """
    if not isinstance(resource, dict):
        raise TypeError("resource must be a JSON object")
    operations = read_operations(parameters)
    definitions = definitions if definitions is not None else default_element_definitions()
    result = copy.deepcopy(resource)
    for operation in operations:
        _APPLY[operation.type](result, operation, definitions)
    el.prune(result)
    return result


def _add(resource: JsonObject, op: Operation, defs: ElementDefinitions | None) -> None:
    target = _one(resource, op, defs)
    container, type_path = _container(resource, target, op)
    assert op.name is not None and op.value is not None
    element = defs.child(type_path, op.name) if defs else None
    value = build_value(op.value, defs, defs.value_type_path(element) if defs and element else None, op.at)
    key = op.name
    if element is not None and element.is_choice:
        key = op.name + _choice_suffix(value, op)
        if any(_is_choice_of(member, op.name) for member in container):
            raise unprocessable(f"{op.at}: the element '{op.name}' already has a value; use replace", op.at)
    if (element is not None and element.repeats) or isinstance(container.get(key), list):
        el.insert_item(container, key, el.list_length(container, key), value)
    elif key in container or "_" + key in container:
        raise unprocessable(f"{op.at}: the element '{key}' already has a value; use replace", op.at)
    else:
        el.set_single(container, key, value)


def _insert(resource: JsonObject, op: Operation, defs: ElementDefinitions | None) -> None:
    parent, key, length, type_path = _collection(resource, op, defs)
    assert op.index is not None and op.value is not None
    if op.index > length:
        raise unprocessable(f"{op.at}: index {op.index} is beyond the end of the list ({length} items)", op.at)
    el.insert_item(parent, key, op.index, build_value(op.value, defs, type_path, op.at))


def _delete(resource: JsonObject, op: Operation, defs: ElementDefinitions | None) -> None:
    nodes = select(resource, op.path, defs, op.at)
    if not nodes:
        return
    node = _single(nodes, op)
    parent = _parent(node, op)
    if node.index is None:
        el.delete_single(parent, node.key)
    else:
        el.delete_item(parent, node.key, node.index)


def _replace(resource: JsonObject, op: Operation, defs: ElementDefinitions | None) -> None:
    node = _one(resource, op, defs)
    parent = _parent(node, op)
    assert op.value is not None
    value = build_value(op.value, defs, node.type_path, op.at)
    if node.index is not None:
        el.set_item(parent, node.key, node.index, value)
        return
    key = node.key
    if key != node.name:  # a choice: the new value's type names the member
        key = node.name + _choice_suffix(value, op)
        if key != node.key:
            el.delete_single(parent, node.key)
    el.set_single(parent, key, value)


def _move(resource: JsonObject, op: Operation, defs: ElementDefinitions | None) -> None:
    parent, key, length, _ = _collection(resource, op, defs)
    assert op.source is not None and op.destination is not None
    if op.source >= length or op.destination >= length:
        raise unprocessable(f"{op.at}: source and destination must be below the list's length ({length})", op.at)
    el.move_item(parent, key, op.source, op.destination)


_APPLY: dict[str, Callable[[JsonObject, Operation, ElementDefinitions | None], None]] = {
    "add": _add,
    "insert": _insert,
    "delete": _delete,
    "replace": _replace,
    "move": _move,
}


def _one(resource: JsonObject, op: Operation, defs: ElementDefinitions | None) -> Node:
    nodes = select(resource, op.path, defs, op.at)
    if not nodes:
        raise unprocessable(f"{op.at}: the path matches no element ({op.type} needs exactly one)", op.at)
    return _single(nodes, op)


def _single(nodes: list[Node], op: Operation) -> Node:
    if len(nodes) > 1:
        raise unprocessable(f"{op.at}: the path matches {len(nodes)} elements ({op.type} needs one)", op.at)
    return nodes[0]


def _parent(node: Node, op: Operation) -> JsonObject:
    if node.parent is None:
        raise unprocessable(f"{op.at}: the path selects the resource itself, which cannot be {op.type}d", op.at)
    return node.parent


def _container(resource: JsonObject, target: Node, op: Operation) -> tuple[JsonObject, str | None]:
    """Where an added child goes: the target's object, or the id/extension holder of a primitive."""
    value = el.value_of(target, resource)
    if isinstance(value, dict):
        return value, target.type_path
    if op.name not in ("id", "extension") or target.parent is None or isinstance(value, list):
        raise unprocessable(f"{op.at}: a primitive element takes only an id or extensions", op.at)
    return el.ensure_companion(target), target.type_path


def _collection(
    resource: JsonObject, op: Operation, defs: ElementDefinitions | None
) -> tuple[JsonObject, str, int, str | None]:
    """The list a path names (all its items, and nothing else): parent object, key, length, items' type path."""
    nodes = select(resource, op.path, defs, op.at)
    if nodes:
        first = nodes[0]
        same_list = all(n.parent is first.parent and n.key == first.key for n in nodes)
        if first.parent is None or first.index is None or not same_list:
            raise unprocessable(f"{op.at}: the path must select the items of one list", op.at)
        length = el.list_length(first.parent, first.key)
        if sorted(n.index for n in nodes if n.index is not None) != list(range(length)):
            raise unprocessable(f"{op.at}: the path must select a whole list, not some of its items", op.at)
        return first.parent, first.key, length, first.type_path
    # An absent list: the path must end with its name, after a path to the one object that would hold it.
    match = _LAST_MEMBER.fullmatch(op.path.strip())
    if match is None:
        raise unprocessable(f"{op.at}: the path matches no list", op.at)
    owner = select(resource, match.group(1), defs, op.at)
    holder = el.value_of(owner[0], resource) if len(owner) == 1 else None
    name = match.group(2)
    element = defs.child(owner[0].type_path, name) if defs and isinstance(holder, dict) else None
    if not isinstance(holder, dict) or holder.get(name) is not None or (element and not element.repeats):
        raise unprocessable(f"{op.at}: the path matches no list", op.at)
    return holder, name, 0, defs.value_type_path(element) if defs and element else None


def _choice_suffix(value: el.Value, op: Operation) -> str:
    if not value.type_suffix:
        raise unprocessable(f"{op.at}: a choice element needs a typed value[x]", op.at)
    return value.type_suffix


def _is_choice_of(member: str, name: str) -> bool:
    member = member.lstrip("_")
    return member.startswith(name) and member[len(name) : len(name) + 1].isupper()
