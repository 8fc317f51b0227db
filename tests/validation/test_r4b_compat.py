"""Keeps ``model_check``'s list of R4B-vs-R4 differences honest by comparing the R4B models with R4 snapshots.

For every concrete R4 resource type and complex datatype, every element of the R4 snapshot is looked up in the
R4B pydantic model: a property the model lacks, a different array-ness, or a requirement the model adds would make
the models reject valid R4. Each such difference must be covered by the table in ``model_check``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from fhir_server.definitions.registry import Definitions
from fhir_server.validation.model_check import R4_ONLY_TYPES, R4B_MISSING_PROPERTIES, R4B_REDESIGNED_TYPES

# R4 datatypes without an R4B model, used only by the R4-only Substance* resources
R4_ONLY_DATATYPES = frozenset({"SubstanceAmount"})
PRIMITIVE_OR_BACKBONE = re.compile(r"abc\.(\w+)Type")


def _model_of_field(field: Any) -> Any:
    from fhir.resources.R4B import fhirtypes

    found = PRIMITIVE_OR_BACKBONE.findall(str(field.annotation))
    if not found or found[0] == "FHIRPrimitiveExtension":
        return None
    try:
        return getattr(fhirtypes, found[0] + "Type").get_model_klass()
    except AttributeError:
        return None


def _is_required(field: Any) -> bool:
    return bool((field.json_schema_extra or {}).get("element_required")) or field.is_required()


def _differences(sd: dict[str, Any], model: Any) -> list[tuple[str, str, str]]:
    """(type, JSON property, what) for each R4 element the R4B model would reject or require differently."""
    elements = [e for e in sd["snapshot"]["element"] if "sliceName" not in e]
    root = elements[0]["path"]
    classes = {root: model}
    found: list[tuple[str, str, str]] = []
    parents = {e["path"].rpartition(".")[0] for e in elements}
    for element in elements[1:]:
        path = element["path"]
        parent, _, name = path.rpartition(".")
        owner = classes.get(parent)
        if owner is None:
            continue
        fields = {(f.alias or n): f for n, f in owner.model_fields.items()}
        codes = [t["code"] for t in element.get("type", ())]
        keys = [name[:-3] + c[:1].upper() + c[1:] for c in codes] if name.endswith("[x]") else [name]
        for key in keys:
            field = fields.get(key)
            if field is None:
                found.append((sd["type"], key, "missing in R4B"))
                continue
            if not name.endswith("[x]"):
                r4_array = element.get("base", {}).get("max", element["max"]) != "1"
                if r4_array != ("List[" in str(field.annotation)):
                    found.append((sd["type"], key, "array-ness differs"))
                if element["min"] == 0 and _is_required(field):
                    found.append((sd["type"], key, "required in R4B only"))
                if path in parents:
                    classes[path] = _model_of_field(field)
    for path, owner in classes.items():
        if owner is None or path not in parents:
            continue
        r4_keys = set()
        for element in elements:
            parent, _, name = element["path"].rpartition(".")
            if parent == path:
                codes = [t["code"] for t in element.get("type", ())]
                r4_keys |= {name[:-3] + c[:1].upper() + c[1:] for c in codes} if name.endswith("[x]") else {name}
        for field_name, field in owner.model_fields.items():
            key = field.alias or field_name
            if key.startswith("_") or key in ("fhir_comments", "resourceType") or key in r4_keys:
                continue
            if _is_required(field):
                found.append((sd["type"], key, "R4B-only required element"))
    return found


@pytest.fixture(scope="module")
def structures(core_definitions: Definitions) -> list[dict[str, Any]]:
    types = sorted(core_definitions.resource_types | core_definitions.base_types_of_kind("complex-type"))
    found = []
    for type_name in types:
        sd = core_definitions.structure_definition(type_name)
        if sd and sd.get("derivation") == "specialization" and not sd.get("abstract") and "snapshot" in sd:
            found.append(sd)
    return found


def test_every_r4b_incompatibility_is_documented(structures: list[dict[str, Any]]) -> None:
    from fhir.resources.R4B import get_fhir_model_class

    without_model, undocumented = [], []
    for sd in structures:
        try:
            model = get_fhir_model_class(sd["type"])
        except ValueError:
            without_model.append(sd["type"])
            continue
        if sd["type"] in R4B_REDESIGNED_TYPES:
            assert _differences(sd, model), f"{sd['type']} no longer differs: remove it from R4B_REDESIGNED_TYPES"
            continue
        undocumented += [d for d in _differences(sd, model) if d[1] not in R4B_MISSING_PROPERTIES]
    assert set(without_model) == R4_ONLY_TYPES | R4_ONLY_DATATYPES
    assert undocumented == []


def test_documented_missing_properties_are_real(structures: list[dict[str, Any]]) -> None:
    from fhir.resources.R4B import get_fhir_model_class

    seen = set()
    for sd in structures:
        if sd["type"] in ("Extension", "ElementDefinition"):
            seen |= {d[1] for d in _differences(sd, get_fhir_model_class(sd["type"]))}
    assert seen == R4B_MISSING_PROPERTIES | {"valueMeta"}
