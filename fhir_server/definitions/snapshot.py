"""Snapshots for profiles that come with a differential only (a registry may load such a profile).

The base definition's snapshot is copied and the differential applied to it, element by element, in order:

- an element the snapshot has (by id) takes the differential's constraints (cardinality, types, fixed and pattern
  values, bindings, slicing; invariants are added to the base's);
- a slice (``Patient.identifier:FNR``) is inserted after the element it slices and that element's other slices,
  as a copy of the sliced element named by the slice;
- an element inside a complex datatype the snapshot does not spell out (``Patient.identifier:FNR.system``) brings in
  the datatype's own elements under its parent first.

Enough for the profiles the validator reads (``validation/profile.py``): the ids, paths, bases, types,
cardinalities, values, bindings, slicing and invariants it uses. Not a replacement for the IG Publisher's
generator (no narrative, no mapping merge, no re-slicing).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fhir_server.definitions.registry import Definitions

CORE_BASE = "http://hl7.org/fhir/StructureDefinition/"
_MERGED = ("min", "max", "type", "binding", "slicing", "mustSupport", "short", "definition", "sliceName")
_PREFIXES = ("fixed", "pattern", "defaultValue", "minValue", "maxValue")


class SnapshotError(Exception):
    """The differential cannot be applied to its base (a path the base does not have)."""


def generate_snapshot(sd: dict[str, Any], definitions: Definitions) -> list[dict[str, Any]]:
    """The snapshot elements of ``sd`` from its base's snapshot and its differential."""
    base_url = sd.get("baseDefinition")
    base = definitions.structure_definition(base_url) if isinstance(base_url, str) else None
    if base is None:
        raise SnapshotError(f"the base definition {base_url} is not known")
    base_elements = (base.get("snapshot") or {}).get("element")
    if not base_elements:
        base_elements = generate_snapshot(base, definitions)
    elements = [copy.deepcopy(e) for e in base_elements]
    for diff in (sd.get("differential") or {}).get("element") or ():
        element_id = diff.get("id") or diff["path"]
        index = _find(elements, element_id)
        if index is None:
            index = _insert(elements, element_id, definitions)
        _merge(elements[index], diff)
    return elements


def _find(elements: list[dict[str, Any]], element_id: str) -> int | None:
    return next((i for i, e in enumerate(elements) if (e.get("id") or e["path"]) == element_id), None)


def _subtree_end(elements: list[dict[str, Any]], index: int) -> int:
    """The index after the element at ``index`` and everything below it (children and its slices)."""
    element_id = elements[index].get("id") or elements[index]["path"]
    end = index + 1
    while end < len(elements):
        other = elements[end].get("id") or elements[end]["path"]
        if other.startswith(element_id + ".") or other.startswith(element_id + ":"):
            end += 1
        else:
            break
    return end


def _insert(elements: list[dict[str, Any]], element_id: str, definitions: Definitions) -> int:
    parent_id, _, last = element_id.rpartition(".")
    name, _, slice_name = last.partition(":")
    if slice_name:
        sliced_id = f"{parent_id}.{name}" if parent_id else name
        sliced = _find(elements, sliced_id)
        if sliced is None:
            sliced = _insert(elements, sliced_id, definitions)
        at = _subtree_end(elements, sliced)
        copies = [copy.deepcopy(elements[sliced])]
        for child in elements[sliced + 1 : at]:  # the sliced element's own children (not its other slices)
            child_id = child.get("id") or child["path"]
            if child_id.startswith(sliced_id + ".") and ":" not in child_id[len(sliced_id) :].split(".")[0]:
                copies.append(copy.deepcopy(child))
        for item in copies:
            item["id"] = element_id + (item.get("id") or item["path"])[len(sliced_id) :]
        copies[0].pop("slicing", None)  # a slice does not slice again unless the differential says so
        copies[0]["sliceName"] = slice_name
        elements[at:at] = copies
        return at
    parent = _find(elements, parent_id)
    if parent is None:
        raise SnapshotError(f"no element {parent_id} to put {element_id} under")
    _expand(elements, parent, definitions)
    found = _find(elements, element_id)
    if found is None:
        raise SnapshotError(f"{element_id} is not an element of its parent's type")
    return found


def _expand(elements: list[dict[str, Any]], index: int, definitions: Definitions) -> None:
    """Spell out the children of a complex-typed element from its datatype's definition (once)."""
    parent = elements[index]
    parent_id = parent.get("id") or parent["path"]
    if index + 1 < len(elements) and (elements[index + 1].get("id") or "").startswith(parent_id + "."):
        return  # already spelled out
    reference = parent.get("contentReference")
    if isinstance(reference, str) and reference.startswith("#"):  # Consent.provision.provision: as Consent.provision
        source = reference[1:]
        copies = []
        for element in elements:
            element_id = element.get("id") or element["path"]
            if element_id.startswith(source + ".") and ":" not in element_id:
                item = copy.deepcopy(element)
                item["id"] = parent_id + element_id[len(source) :]
                item["path"] = parent["path"] + element["path"][len(source) :]
                copies.append(item)
        elements[index + 1 : index + 1] = copies
        return
    types = [t for t in parent.get("type") or () if isinstance(t, dict)]
    if len(types) != 1:
        raise SnapshotError(f"{parent_id} has not exactly one type to expand")
    type_ref = types[0]
    profiles = type_ref.get("profile") or []
    definition = definitions.structure_definition(profiles[0] if profiles else CORE_BASE + type_ref["code"])
    children = ((definition or {}).get("snapshot") or {}).get("element") or []
    if not children:
        raise SnapshotError(f"the type {type_ref.get('code')} of {parent_id} has no snapshot")
    root_path = children[0]["path"]
    copies = []
    for child in children[1:]:
        item = copy.deepcopy(child)
        item["id"] = parent_id + (child.get("id") or child["path"])[len(root_path) :]
        item["path"] = parent["path"] + child["path"][len(root_path) :]
        copies.append(item)
    elements[index + 1 : index + 1] = copies


def _merge(element: dict[str, Any], diff: dict[str, Any]) -> None:
    for key, value in diff.items():
        if key in ("id", "path"):
            continue
        if key == "constraint":
            keys = {c.get("key") for c in element.get("constraint") or ()}
            element["constraint"] = [
                *(element.get("constraint") or ()),
                *(c for c in value if c.get("key") not in keys),
            ]
        elif key in _MERGED or key.startswith(_PREFIXES) or key not in element:
            element[key] = copy.deepcopy(value)
