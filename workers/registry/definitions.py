"""Each registry's workflow as data: a PlanDefinition in ``profiles/`` (authored in ``ig/input/resources/``) with
the registry's code, its consent rule, and one action per form — its Questionnaire, its kind (baseline or
follow-up), when it is due (an anchor and a signed offset, a repeat interval, a reminder) and the conditions under
which it applies. A third registry is a third PlanDefinition; nothing here names NNRR or OPR."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fhir_server.definitions.registry import Definitions

SD = "https://ryggrad.no/fhir/StructureDefinition/"
REGISTRY_EXTENSION = SD + "registry"
CONSENT_RULE = SD + "registry-consent-rule"
TIMEPOINT = SD + "registry-timepoint"
REGISTRY_SYSTEM = "https://ryggrad.no/fhir/CodeSystem/registry"
TIMEPOINT_SYSTEM = "https://ryggrad.no/fhir/CodeSystem/registry-timepoint"


@dataclass(frozen=True)
class Offset:
    """A signed calendar offset: days, months or years (UCUM d, mo, a)."""

    value: int
    unit: str

    @classmethod
    def parse(cls, duration: dict[str, Any] | None) -> Offset | None:
        if not isinstance(duration, dict):
            return None
        unit = duration.get("code") or duration.get("unit")
        if unit not in ("d", "wk", "mo", "a"):
            raise ValueError(f"unsupported duration unit {unit!r}")
        value = int(duration.get("value", 0))
        return cls(value * 7, "d") if unit == "wk" else cls(value, str(unit))


@dataclass(frozen=True)
class Condition:
    """An applicability condition: a FHIRPath over %age (on the due date), %exclusions (the episode's follow-up
    exclusion codes), %patient and %episode; ``name`` is the reason recorded when it fails."""

    name: str
    description: str
    expression: str


@dataclass(frozen=True)
class FormAction:
    id: str
    title: str
    kind: str  # baseline | follow-up (patient forms, as Tasks) | clinician (the clinician's form, a draft)
    questionnaire: str  # canonical, with |version
    anchor: str  # appointment-start | booking | visit-date | procedure-date | episode-start | episode-end
    offset: Offset
    repeat: Offset | None
    reminder: Offset | None
    conditions: tuple[Condition, ...]  # all must hold for the form to be sent


@dataclass(frozen=True)
class RegistryDefinition:
    code: str
    url: str
    title: str
    consent_required: bool
    actions: tuple[FormAction, ...]

    def baseline(self) -> FormAction | None:
        return next((a for a in self.actions if a.kind == "baseline"), None)

    def clinician_form(self) -> FormAction | None:
        return next((a for a in self.actions if a.kind == "clinician"), None)


def _extension(element: dict[str, Any], url: str) -> dict[str, Any] | None:
    return next((e for e in element.get("extension") or [] if e.get("url") == url), None)


def _part(extension: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((e for e in extension.get("extension") or [] if e.get("url") == name), None)


def _action(raw: dict[str, Any]) -> FormAction | None:
    timepoint = _extension(raw, TIMEPOINT)
    if timepoint is None or not raw.get("definitionCanonical"):
        return None
    kinds = [c.get("code") for concept in raw.get("code") or [] for c in concept.get("coding") or []]
    anchor = (_part(timepoint, "anchor") or {}).get("valueCode")
    offset = Offset.parse((_part(timepoint, "offset") or {}).get("valueDuration"))
    if not anchor or offset is None:
        return None
    conditions = tuple(
        Condition(
            str(c["expression"].get("name") or "excluded"),
            str(c["expression"].get("description", "")),
            str(c["expression"]["expression"]),
        )
        for c in raw.get("condition") or []
        if c.get("kind") == "applicability" and isinstance(c.get("expression"), dict)
    )
    return FormAction(
        id=str(raw.get("id")),
        title=str(raw.get("title") or raw.get("id")),
        kind=str(kinds[0]) if kinds else "baseline",
        questionnaire=str(raw["definitionCanonical"]),
        anchor=str(anchor),
        offset=offset,
        repeat=Offset.parse((_part(timepoint, "repeat") or {}).get("valueDuration")),
        reminder=Offset.parse((_part(timepoint, "reminder") or {}).get("valueDuration")),
        conditions=conditions,
    )


def registry_definition(plan: dict[str, Any]) -> RegistryDefinition | None:
    registry = _extension(plan, REGISTRY_EXTENSION)
    coding = (registry or {}).get("valueCoding") or {}
    if coding.get("system") != REGISTRY_SYSTEM or not coding.get("code"):
        return None
    rule = (_extension(plan, CONSENT_RULE) or {}).get("valueCode", "required")
    actions = tuple(a for a in (_action(raw) for raw in plan.get("action") or []) if a is not None)
    return RegistryDefinition(
        code=str(coding["code"]),
        url=str(plan.get("url")),
        title=str(plan.get("title") or coding["code"]),
        consent_required=rule != "exempt",
        actions=actions,
    )


def registry_definitions(definitions: Definitions) -> dict[str, RegistryDefinition]:
    """The registries the conformance package defines, by code."""
    found = {}
    for plan in definitions.resources_of_type("PlanDefinition"):
        if plan.get("status") == "retired":
            continue
        definition = registry_definition(plan)
        if definition is not None:
            found[definition.code] = definition
    return found
