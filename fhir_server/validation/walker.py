"""The JSON walk applying compiled ``TypeRules`` to a resource: R4 structure, cardinality, primitives, bindings.

Expressions are FHIRPath-style (``Observation.component[0].code``, ``Observation.value.ofType(Quantity)``,
``Bundle.entry[2].resource.status``); an unknown property is named as written (``Patient.foo``). Diagnostics
name elements and ValueSets, never the offending values.
"""

from __future__ import annotations

from typing import Any

from fhir_server.errors import Issue
from fhir_server.validation.rules import (
    BIND_CODE,
    BIND_CODING,
    BIND_CONCEPT,
    PRIMITIVE,
    RESOURCE,
    ElementRule,
    RuleCompiler,
    TypeRules,
)


def _issue(code: str, diagnostics: str, expression: str) -> Issue:
    return Issue(code, diagnostics, "error", (expression,))


class StructureWalker:
    """Validates resources (and the resources nested in them) against rules from a ``RuleCompiler``."""

    def __init__(self, compiler: RuleCompiler) -> None:
        self.compiler = compiler

    def resource(self, value: Any, expression: str | None, issues: list[Issue]) -> None:
        """Validate one resource; ``expression`` is where it sits (``None`` at the top level)."""
        if type(value) is not dict:
            issues.append(
                Issue("structure", "A resource must be a JSON object", "error", (expression,) if expression else ())
            )
            return
        resource_type = value.get("resourceType")
        if type(resource_type) is not str:
            issues.append(Issue("structure", "Missing resourceType", "error", (expression,) if expression else ()))
            return
        rules = self.compiler.resource_rules(resource_type)
        if rules is None:
            issues.append(
                Issue(
                    "not-supported",
                    "Unknown resource type (not an R4 resource)",
                    "error",
                    (expression or "resourceType",),
                )
            )
            return
        self.object(value, rules, expression or resource_type, issues)

    def object(self, obj: dict[str, Any], rules: TypeRules, path: str, issues: list[Issue]) -> None:
        elements = rules.elements
        choices: dict[str, str] | None = None
        for key, value in obj.items():
            rule = elements.get(key)
            if rule is None:
                self._other_property(obj, key, value, rules, path, issues)
                continue
            if rule.choice is not None:
                if choices is None:
                    choices = {}
                if rule.choice in choices:
                    issues.append(
                        _issue(
                            "structure", f"Only one type may be given for '{rule.choice}[x]'", f"{path}.{rule.choice}"
                        )
                    )
                    continue
                choices[rule.choice] = key
            if rule.is_array:
                if type(value) is not list:
                    issues.append(_issue("structure", f"'{key}' must be a JSON array", f"{path}.{rule.step}"))
                    continue
                if not value:
                    issues.append(_issue("structure", f"'{key}' must not be an empty array", f"{path}.{rule.step}"))
                    continue
                if rule.max is not None and len(value) > rule.max:
                    issues.append(
                        _issue("structure", f"'{key}' allows at most {rule.max} item(s)", f"{path}.{rule.step}")
                    )
                step = f"{path}.{rule.step}"
                if rule.kind == PRIMITIVE:
                    self._primitive_array(obj, key, value, rule, step, issues)
                else:
                    for index, item in enumerate(value):
                        self._value(rule, item, f"{step}[{index}]", issues)
            else:
                if type(value) is list:
                    issues.append(
                        _issue("structure", f"'{key}' must be a single value, not an array", f"{path}.{rule.step}")
                    )
                    continue
                if rule.max == 0:
                    issues.append(_issue("structure", f"'{key}' is not allowed here", f"{path}.{rule.step}"))
                    continue
                self._value(rule, value, f"{path}.{rule.step}", issues)
        for keys, step in rules.required:
            for key in keys:
                if key in obj:
                    break
            else:
                issues.append(_issue("required", f"Missing required element '{step}'", f"{path}.{step}"))

    def _value(self, rule: ElementRule, value: Any, path: str, issues: list[Issue]) -> None:
        kind = rule.kind
        if kind == PRIMITIVE:
            message = rule.check(value)  # type: ignore[misc]
            if message is not None:
                issues.append(_issue("value", message, path))
            elif rule.bind == BIND_CODE and value not in rule.codes:  # type: ignore[operator]
                issues.append(_issue("code-invalid", f"Code is not in the required ValueSet {rule.value_set}", path))
            return
        if kind == RESOURCE:
            self.resource(value, path, issues)
            return
        if type(value) is not dict:
            issues.append(_issue("structure", f"Expected a JSON object for a {rule.type_code}", path))
            return
        if not value:
            issues.append(_issue("structure", "An object must have content (empty objects are not allowed)", path))
            return
        if rule.children is not None:
            self.object(value, rule.children, path, issues)
        if rule.bind:
            self._coded(rule, value, path, issues)

    def _coded(self, rule: ElementRule, value: dict[str, Any], path: str, issues: list[Issue]) -> None:
        """Required binding on a Coding or CodeableConcept: codings from the ValueSet's systems must be in it."""
        systems, pairs = rule.systems, rule.pairs
        assert systems is not None and pairs is not None
        if rule.bind == BIND_CODING:
            codings: list[tuple[Any, str]] = [(value, path)]
        elif rule.bind == BIND_CONCEPT and type(value.get("coding")) is list:
            codings = [(c, f"{path}.coding[{i}]") for i, c in enumerate(value["coding"])]
        else:
            return
        for coding, coding_path in codings:
            if type(coding) is not dict:
                continue
            system, code = coding.get("system"), coding.get("code")
            if type(system) is str and system in systems and (system, code if type(code) is str else None) not in pairs:
                issues.append(
                    _issue("code-invalid", f"Code is not in the required ValueSet {rule.value_set}", coding_path)
                )

    def _primitive_array(
        self, obj: dict[str, Any], key: str, value: list[Any], rule: ElementRule, path: str, issues: list[Issue]
    ) -> None:
        check = rule.check
        assert check is not None
        for index, item in enumerate(value):
            if item is None:  # a placeholder is allowed only where ``_key`` carries that item's extension
                extensions = obj.get("_" + key)
                if type(extensions) is not list or index >= len(extensions) or extensions[index] is None:
                    issues.append(_issue("structure", "null is not allowed here", f"{path}[{index}]"))
                continue
            message = check(item)
            if message is not None:
                issues.append(_issue("value", message, f"{path}[{index}]"))
            elif rule.bind == BIND_CODE and item not in rule.codes:  # type: ignore[operator]
                issues.append(
                    _issue("code-invalid", f"Code is not in the required ValueSet {rule.value_set}", f"{path}[{index}]")
                )

    def _other_property(
        self, obj: dict[str, Any], key: str, value: Any, rules: TypeRules, path: str, issues: list[Issue]
    ) -> None:
        if key == "resourceType" and rules.is_resource:
            return
        if key[:1] == "_":
            base = rules.elements.get(key[1:])
            if base is not None and base.kind == PRIMITIVE:
                self._primitive_extension(obj, key[1:], value, base, f"{path}.{base.step}", issues)
                return
        name = key if len(key) <= 64 else key[:64] + "..."
        issues.append(_issue("structure", f"Unknown element '{name}'", f"{path}.{name}"))

    def _primitive_extension(
        self, obj: dict[str, Any], key: str, value: Any, rule: ElementRule, path: str, issues: list[Issue]
    ) -> None:
        """``_key``: the id/extensions of a primitive (an array of them, aligned by index, for repeating ones)."""
        element_rules = self.compiler.element_rules()
        if not rule.is_array:
            if type(value) is list:
                issues.append(_issue("structure", f"'_{key}' must be a single object, not an array", path))
            else:
                self._element_object(value, element_rules, path, issues)
            return
        if type(value) is not list:
            issues.append(_issue("structure", f"'_{key}' must be a JSON array", path))
            return
        values = obj.get(key)
        if values is not None and (type(values) is not list or len(values) != len(value)):
            issues.append(_issue("structure", f"'_{key}' must have as many items as '{key}'", path))
            return
        for index, item in enumerate(value):
            if item is None:
                if values is None or values[index] is None:
                    issues.append(_issue("structure", "null is not allowed here", f"{path}[{index}]"))
                continue
            self._element_object(item, element_rules, f"{path}[{index}]", issues)

    def _element_object(self, value: Any, rules: TypeRules, path: str, issues: list[Issue]) -> None:
        if type(value) is not dict:
            issues.append(_issue("structure", "Expected a JSON object for a primitive's extensions", path))
        elif not value:
            issues.append(_issue("structure", "An object must have content (empty objects are not allowed)", path))
        else:
            self.object(value, rules, path, issues)
