"""The DIPS → registry Appointment mapping, as data (``mappings/dips/``) and the engine that applies it.

``appointment.map.json`` holds rules: a FHIRPath ``source`` (evaluated with fhirpathpy against the DIPS resource,
variables ``%resource``, ``%owner`` and those the map declares), a ``target`` path (``a.b``; ``a[]`` appends), and
optionally a ``conceptMap`` to translate through, a ``when`` condition, a ``template`` the value is put into, a
constant ``value``, ``required``, ``reference`` (the actor by national identifier) and ``each`` (sub-rules for every
element of a list). A rule without a target checks its codes and writes nothing (a dropped element).

Mapping is a pure function of its input: the same DIPS resource gives the same registry Appointment. Codes the
ConceptMaps do not list and values that cannot be mapped are collected and raised together as ``MappingError``.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fhirpathpy

from fhir_server.integrations.dips.conceptmaps import ConceptMap, Translated, Unmapped
from fhir_server.integrations.dips.references import IdentifierSystems

MAPPING_DIR = Path(__file__).resolve().parents[3] / "mappings" / "dips"


class MappingError(ValueError):
    """The DIPS resource could not be mapped: ``unmapped`` codes and other ``problems``, all of them."""

    def __init__(self, unmapped: list[Unmapped], problems: list[str]) -> None:
        self.unmapped, self.problems = unmapped, problems
        lines = [str(u) for u in unmapped] + problems
        super().__init__("cannot map the DIPS appointment:\n- " + "\n- ".join(lines))


@dataclass
class _Run:
    """One mapping's findings."""

    unmapped: list[Unmapped] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _plain(value: Any) -> Any:
    """fhirpathpy results as JSON values (its date/time and quantity objects as their string form)."""
    if value is None or isinstance(value, (str, bool, int, float, dict, list)):
        return value
    return str(value)


def _fill(template: Any, value: Any) -> Any:
    if template == "{value}":
        return value
    if isinstance(template, str):
        return template.replace("{value}", str(value))
    if isinstance(template, list):
        return [_fill(t, value) for t in template]
    if isinstance(template, dict):
        return {k: _fill(v, value) for k, v in template.items()}
    return template


def _put(target: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        target = target.setdefault(part.removesuffix("[]"), {})
    if last.endswith("[]"):
        target.setdefault(last[:-2], []).append(value)
    else:
        target[last] = value


class AppointmentMapping:
    """``appointment.map.json`` and the ConceptMaps beside it, loaded from ``folder``."""

    def __init__(self, folder: Path = MAPPING_DIR) -> None:
        self.spec: dict[str, Any] = json.loads((folder / "appointment.map.json").read_text("utf-8"))
        self.concept_maps = {
            cm.id: cm for cm in (ConceptMap(json.loads(p.read_text("utf-8"))) for p in folder.glob("ConceptMap-*.json"))
        }
        self.identifiers = IdentifierSystems(self.spec["identifierSystems"], self.spec["references"])
        for rule in self._all_rules(self.spec["rules"]):
            if rule.get("conceptMap") and rule["conceptMap"] not in self.concept_maps:
                raise ValueError(f"rule {rule['name']}: no ConceptMap {rule['conceptMap']} in {folder}")

    def _all_rules(self, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [r for rule in rules for r in [rule, *self._all_rules(rule.get("each", []))]]

    def apply(self, dips: dict[str, Any], owner: str | None = None) -> dict[str, Any]:
        """The registry Appointment for one DIPS Appointment; ``owner``: the sending unit's orgnr, if known."""
        if dips.get("resourceType") != self.spec["source"]:
            raise MappingError([], [f"expected a {self.spec['source']}, got {dips.get('resourceType')!r}"])
        source = copy.deepcopy(dips)  # fhirpathpy must not touch the caller's resource
        env: dict[str, Any] = {"resource": source, "owner": [owner] if owner else []}
        for name, expression in self.spec.get("variables", {}).items():
            env[name] = fhirpathpy.evaluate(source, expression, env)
        run = _Run()
        result: dict[str, Any] = {"resourceType": self.spec["target"]["resourceType"]}
        self._rules(self.spec["rules"], source, env, result, run)
        if run.unmapped or run.problems:
            raise MappingError(run.unmapped, run.problems)
        return result

    def _rules(
        self, rules: list[dict[str, Any]], node: dict[str, Any], env: dict[str, Any], out: dict[str, Any], run: _Run
    ) -> None:
        for rule in rules:
            if "when" in rule and fhirpathpy.evaluate(node, rule["when"], env) != [True]:
                continue
            values = [rule["value"]] if "value" in rule else fhirpathpy.evaluate(node, rule["source"], env)
            written = 0
            for value in (_plain(v) for v in values):
                mapped = self._value(rule, value, env, run)
                if mapped is None or "target" not in rule:
                    continue
                _put(out, rule["target"], _fill(rule["template"], mapped) if "template" in rule else mapped)
                written += 1
            if rule.get("required") and not written and not any(u.rule == rule["name"] for u in run.unmapped):
                run.problems.append(f"{rule['name']}: nothing to map from {rule.get('source')!r} (required)")

    def _value(self, rule: dict[str, Any], value: Any, env: dict[str, Any], run: _Run) -> Any:
        if "each" in rule:
            element: dict[str, Any] = {}
            self._rules(rule["each"], value, env, element, run)
            return element
        if rule.get("reference"):
            reference, problem = self.identifiers.conditional(value)
            if problem:
                run.problems.append(f"{rule['name']}: {problem}")
            return reference
        if rule.get("conceptMap"):
            translated = self.concept_maps[rule["conceptMap"]].translate(value, rule["name"])
            if isinstance(translated, Unmapped):
                run.unmapped.append(translated)
                return None
            assert isinstance(translated, Translated)
            return translated.target
        return value


_default: AppointmentMapping | None = None


def map_appointment(dips: dict[str, Any], owner: str | None = None) -> dict[str, Any]:
    """The registry Appointment for a DIPS Appointment, by the mapping in ``mappings/dips/``."""
    global _default
    if _default is None:
        _default = AppointmentMapping()
    return _default.apply(dips, owner)
