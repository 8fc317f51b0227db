"""Optional second opinion from the ``fhir.resources.R4B`` pydantic models, with R4B-vs-R4 differences removed.

The models are FHIR R4B (4.3), not R4 (4.0.1). Compared element by element with the R4 core snapshots
(``tests/validation/test_r4b_compat.py`` keeps this list honest), they reject valid R4 content only here:

* resource types that R4B removed: EffectEvidenceSynthesis, MedicinalProduct and its nine companions
  (MedicinalProductAuthorization, ...Contraindication, ...Indication, ...Ingredient, ...Interaction,
  ...Manufactured, ...Packaged, ...Pharmaceutical, ...UndesirableEffect), RiskEvidenceSynthesis,
  SubstanceNucleicAcid, SubstancePolymer, SubstanceProtein, SubstanceReferenceInformation,
  SubstanceSourceMaterial, SubstanceSpecification: no model, not checked here;
* resource types R4B redesigned incompatibly: Evidence and EvidenceVariable (R4 elements such as
  ``Evidence.exposureBackground`` are gone, R4B requires ``Evidence.variableDefinition``): not checked here;
* the ``Meta`` type in open-type choices, dropped in R4B: ``Extension.valueMeta`` and
  ``ElementDefinition.defaultValueMeta`` / ``fixedMeta`` / ``patternMeta`` / ``example.valueMeta``: errors at
  or under these properties are dropped;
* regex semantics: pydantic's regex engine treats non-ASCII spaces (no-break space, em space) as ``\\s``, so a
  string made only of them fails ``[ \\r\\n\\t\\S]+``; FHIR regexes use ASCII classes (as Java and XML Schema
  do), so such pattern errors are re-checked with ``re.ASCII`` and dropped when the value matches.

The models also accept some content that is not R4 (R4B-only elements such as ``Extension.valueCodeableReference``
or ``ActivityDefinition.subjectCanonical``, codes outside required bindings, ``"true"`` for a boolean): the R4 rules
layer rejects those. Nested resources (``contained``, ``Bundle.entry.resource``, ``Bundle.entry.response.outcome``,
``Parameters.parameter.resource``) are taken out and checked on their own, each as its own type.

Diagnostics are generic per pydantic error type and never contain the input value.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from pydantic import ValidationError

from fhir_server.errors import Issue

log = logging.getLogger(__name__)

R4_ONLY_TYPES = frozenset(
    {
        "EffectEvidenceSynthesis",
        "MedicinalProduct",
        "MedicinalProductAuthorization",
        "MedicinalProductContraindication",
        "MedicinalProductIndication",
        "MedicinalProductIngredient",
        "MedicinalProductInteraction",
        "MedicinalProductManufactured",
        "MedicinalProductPackaged",
        "MedicinalProductPharmaceutical",
        "MedicinalProductUndesirableEffect",
        "RiskEvidenceSynthesis",
        "SubstanceNucleicAcid",
        "SubstancePolymer",
        "SubstanceProtein",
        "SubstanceReferenceInformation",
        "SubstanceSourceMaterial",
        "SubstanceSpecification",
    }
)
R4B_REDESIGNED_TYPES = frozenset({"Evidence", "EvidenceVariable"})
# Properties valid in R4 that the R4B models reject: errors at or below them are not reported.
R4B_MISSING_PROPERTIES = frozenset({"valueMeta", "defaultValueMeta", "fixedMeta", "patternMeta"})

_MESSAGES = {
    "extra_forbidden": ("structure", "Unknown element"),
    "missing": ("required", "Missing required element"),
    "model_field_validation.missing": ("required", "Missing required element"),
    "string_type": ("value", "Expected a JSON string"),
    "bool_type": ("value", "Expected a JSON boolean"),
    "bool_parsing": ("value", "Expected a JSON boolean"),
    "int_type": ("value", "Expected a JSON integer"),
    "int_parsing": ("value", "Expected a JSON integer"),
    "int_from_float": ("value", "Expected a JSON integer"),
    "float_type": ("value", "Expected a JSON number"),
    "float_parsing": ("value", "Expected a JSON number"),
    "decimal_type": ("value", "Expected a JSON number"),
    "decimal_parsing": ("value", "Expected a JSON number"),
    "list_type": ("structure", "Expected a JSON array"),
    "dict_type": ("structure", "Expected a JSON object"),
    "model_type": ("structure", "Expected a JSON object"),
    "model_attributes_type": ("structure", "Expected a JSON object"),
    "model_validation_format": ("structure", "Invalid element content"),
    "string_pattern_mismatch": ("value", "Invalid format"),
    "string_too_long": ("value", "Value too long"),
    "string_too_short": ("value", "Value too short"),
    "greater_than": ("value", "Value out of range"),
    "greater_than_equal": ("value", "Value out of range"),
    "less_than": ("value", "Value out of range"),
    "less_than_equal": ("value", "Value out of range"),
}
_PREFIX_MESSAGES = (
    ("date_", "Invalid date format"),
    ("datetime_", "Invalid dateTime format"),
    ("time_", "Invalid time format"),
    ("timezone_", "Invalid time zone"),
    ("url_", "Invalid URL"),
    ("uuid_", "Invalid UUID"),
)
_SPEC_REGEX_MESSAGE = re.compile(r"(\w+) value string does not match spec regex")


def _expression(prefix: str, loc: tuple[Any, ...]) -> str:
    parts = [prefix]
    for step in loc:
        if isinstance(step, int):
            parts.append(f"[{step}]")
        elif isinstance(step, str):
            parts.append("." + (step[1:] if step[:1] == "_" else step))  # ``_given`` → the primitive's extension
    return "".join(parts)


def _diagnostics(error: dict[str, Any]) -> tuple[str, str]:
    """(issue code, message) for one pydantic error, never echoing the input value."""
    error_type = str(error.get("type", ""))
    if error_type in _MESSAGES:
        return _MESSAGES[error_type]
    for prefix, message in _PREFIX_MESSAGES:
        if error_type.startswith(prefix):
            return "value", message
    if error_type == "value_error":
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        spec = _SPEC_REGEX_MESSAGE.search(message)
        if spec:
            name = spec.group(1)
            return "value", f"Invalid {name[:1].lower()}{name[1:]} format"
        value = error.get("input")
        if isinstance(value, str | int | float) and str(value) and str(value) in message:
            return "value", "Invalid value"
        if "but got multiple" in message:
            return "structure", "Only one type may be given for a choice element"
        return "value", message or "Invalid value"
    return "value", f"Invalid value ({error_type})"


def _matches_with_ascii_classes(error: dict[str, Any]) -> bool:
    """A pattern error that disappears when ``\\s``/``\\S`` mean ASCII whitespace only, as in FHIR (see above)."""
    if error.get("type") != "string_pattern_mismatch":
        return False
    pattern, value = (error.get("ctx") or {}).get("pattern"), error.get("input")
    if not isinstance(pattern, str) or not isinstance(value, str):
        return False
    try:
        return re.search(pattern, value, re.ASCII) is not None  # pydantic patterns match anywhere (search)
    except re.error:
        return False


def _strip_nested(resource: dict[str, Any], prefix: str, nested: list[tuple[Any, str]]) -> dict[str, Any]:
    """A shallow copy of ``resource`` without nested resources, which are appended to ``nested`` (with paths)."""
    copy = dict(resource)
    contained = copy.pop("contained", None)
    if isinstance(contained, list):
        nested.extend((item, f"{prefix}.contained[{i}]") for i, item in enumerate(contained))
    resource_type = copy.get("resourceType")
    if resource_type == "Bundle" and isinstance(copy.get("entry"), list):
        entries = []
        for i, entry in enumerate(copy["entry"]):
            if isinstance(entry, dict):
                entry = dict(entry)
                if "resource" in entry:
                    nested.append((entry.pop("resource"), f"{prefix}.entry[{i}].resource"))
                response = entry.get("response")
                if isinstance(response, dict) and "outcome" in response:
                    response = dict(response)
                    nested.append((response.pop("outcome"), f"{prefix}.entry[{i}].response.outcome"))
                    entry["response"] = response
            entries.append(entry)
        copy["entry"] = entries
    elif resource_type == "Parameters" and isinstance(copy.get("parameter"), list):
        copy["parameter"] = _strip_parameters(copy["parameter"], f"{prefix}.parameter", nested)
    return copy


def _strip_parameters(parameters: list[Any], path: str, nested: list[tuple[Any, str]]) -> list[Any]:
    stripped = []
    for i, parameter in enumerate(parameters):
        if isinstance(parameter, dict):
            parameter = dict(parameter)
            if "resource" in parameter:
                nested.append((parameter.pop("resource"), f"{path}[{i}].resource"))
            if isinstance(parameter.get("part"), list):
                parameter["part"] = _strip_parameters(parameter["part"], f"{path}[{i}].part", nested)
        stripped.append(parameter)
    return stripped


class ModelChecker:
    """Validates resources with the R4B pydantic models, reporting only differences that matter for R4."""

    def __init__(self) -> None:
        from fhir.resources.R4B import get_fhir_model_class  # imported lazily: ~0.5 s and ~60 MB

        self._model_class = get_fhir_model_class
        self._classes: dict[str, Any] = {}

    def _class_for(self, resource_type: str) -> Any:
        if resource_type in R4_ONLY_TYPES or resource_type in R4B_REDESIGNED_TYPES:
            return None
        if resource_type not in self._classes:
            try:
                self._classes[resource_type] = self._model_class(resource_type)
            except ValueError:
                self._classes[resource_type] = None
        return self._classes[resource_type]

    def warm_up(self, resource_types: frozenset[str]) -> None:
        """Import every model class now (~1.7 s, ~65 MB) instead of during the first requests that use them."""
        for resource_type in sorted(resource_types):
            self._class_for(resource_type)

    def check(self, resource: Any, prefix: str | None = None) -> list[Issue]:
        issues: list[Issue] = []
        self._check(resource, prefix, issues)
        return issues

    def _check(self, resource: Any, prefix: str | None, issues: list[Issue]) -> None:
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            return  # reported by the rules layer
        resource_type = resource["resourceType"]
        prefix = prefix or resource_type
        nested: list[tuple[Any, str]] = []
        stripped = _strip_nested(resource, prefix, nested)
        model = self._class_for(resource_type)
        if model is not None:
            try:
                model.model_validate(stripped)
            except ValidationError as exc:
                for error in exc.errors(include_url=False):
                    loc = tuple(error.get("loc", ()))
                    if any(step in R4B_MISSING_PROPERTIES for step in loc if isinstance(step, str)):
                        continue
                    if _matches_with_ascii_classes(error):
                        continue
                    code, message = _diagnostics(error)
                    issues.append(Issue(code, message, "error", (_expression(prefix, loc),)))
            except Exception as exc:  # a model bug must not turn a valid resource away: the rules layer decides
                log.warning("R4B model check of a %s failed internally: %s", resource_type, type(exc).__name__)
        for item, path in nested:
            self._check(item, path, issues)
