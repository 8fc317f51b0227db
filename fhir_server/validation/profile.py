"""Validation against a profile: the constraints a StructureDefinition's snapshot adds to the base R4 structure.

Runs after the structural validation (``structure.py``), so the JSON has R4's shape. A profile is compiled once
into a tree of ``Constraint`` nodes (by element id, slices under the element they slice) and applied by a walk:

- cardinality within each present parent, slices counted apart (``identifier:FNR 0..1``);
- ``fixed[x]`` (exactly equal) and ``pattern[x]`` (contains);
- slicing by ``value``/``pattern`` discriminators on a path (``system``, ``url``, ``code.coding.system``) and by
  ``exists``; extension slices by the extension's URL; closed slicing rejects unmatched items;
- reference targets (``Reference(RegistryPatient)``: the reference must point at a Patient);
- bindings: ``required`` → error, ``extensible`` → warning, against ValueSets the server can enumerate;
- extensions against their own definitions (``value[x]`` types, cardinality, nested extensions);
- the profile's own invariants (FHIRPath, compiled once; the core ones are the structural layer's business);
- Norwegian person numbers (FNR, D-nummer) in identifiers: their check digits.

Each issue names the element by its FHIRPath-style location and, where there is one, the invariant's key.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from fhir_server.definitions.registry import CORE_BASE, Definitions
from fhir_server.definitions.snapshot import SnapshotError, generate_snapshot
from fhir_server.errors import Issue
from fhir_server.norway.identifiers import DNR_SYSTEM, FNR_SYSTEM, is_valid_dnr, is_valid_fnr

_CODED = frozenset({"code", "Coding", "CodeableConcept"})
_MATCHES = re.compile(r"(?:\$this\.)?matches\('((?:[^'\\]|\\.)*)'\)")
#: Core definitions whose own invariants are checked here too: a Questionnaire's (que-1 … que-13) decide
#: whether the forms the registry serves can be filled in at all.
CORE_INVARIANTS_CHECKED = {CORE_BASE + "Questionnaire": "que-"}  # definition → the key prefix of its own


@dataclass(frozen=True, slots=True)
class Invariant:
    key: str
    severity: str
    human: str
    check: Callable[[Any, Any], list[Any]]


@dataclass(slots=True, eq=False)
class Constraint:
    """One element of a profile: what its values must satisfy, and its children and slices."""

    name: str  # the JSON name, ``value[x]`` kept as is
    path: str
    slice_name: str | None = None
    min: int = 0
    max: int | None = None
    fixed: Any = None
    pattern: Any = None
    type_codes: tuple[str, ...] = ()
    targets: frozenset[str] = frozenset()  # resource types a Reference may point at (empty: any)
    profiles: tuple[str, ...] = ()  # type profiles (an extension's definition)
    binding: tuple[str, str] | None = None  # (strength, ValueSet url)
    invariants: tuple[Invariant, ...] = ()
    children: dict[str, Constraint] = field(default_factory=dict)
    slices: list[Constraint] = field(default_factory=list)
    discriminators: tuple[tuple[str, str], ...] = ()  # (type, path)
    closed: bool = False
    ordered: bool = False  # the slices' items come in the order of the slices
    own: bool = False  # constrains more than the base R4 element does (else only its descendants may)


_ESCAPE = re.compile(r"\\(.)")
_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "`": "`", "/": "/", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _unescape(found: re.Match[str]) -> str:
    """A FHIRPath string escape (``\\\\`` is one backslash); an unknown one is kept for the regex (``\\d``)."""
    return _ESCAPES.get(found.group(1), "\\" + found.group(1))


def _quiet(label: str, value: Any) -> None:
    """A FHIRPath ``trace()`` sink: nothing of a resource reaches stdout or the logs."""


def _prune(node: Constraint) -> bool:
    """Drop the children that constrain nothing beyond R4, down the tree; whether anything is left to check."""
    kept: dict[str, Constraint] = {}
    for name, child in node.children.items():
        if _prune(child) or child.own or child.slices:
            kept[name] = child
    node.children = kept
    for slice_node in node.slices:
        _prune(slice_node)
    return bool(kept) or bool(node.slices)


def _segments(element_id: str) -> list[tuple[str, str | None]]:
    """``Patient.identifier:FNR.value`` → [(Patient, None), (identifier, FNR), (value, None)]."""
    out: list[tuple[str, str | None]] = []
    for part in element_id.split("."):
        name, _, slice_name = part.partition(":")
        out.append((name, slice_name or None))
    return out


def _max(value: Any) -> int | None:
    return None if value in (None, "*") else int(value)


def _choice_value(element: dict[str, Any], prefix: str) -> Any:
    for key, value in element.items():
        if key.startswith(prefix) and key != prefix:
            return value
    return None


class ProfileCompiler:
    """Compiles profiles (by canonical URL) into ``Constraint`` trees; thread-safe, each once."""

    def __init__(self, definitions: Definitions) -> None:
        self.definitions = definitions
        self._compiled: dict[str, Constraint | None] = {}
        self._lock = threading.RLock()
        self._core_elements: dict[str, dict[str, Any] | None] = {}

    def compile(self, url: str) -> Constraint | None:
        url = url.partition("|")[0]
        if url in self._compiled:
            return self._compiled[url]
        with self._lock:
            if url not in self._compiled:
                sd = self.definitions.structure_definition(url)
                if sd is not None and not (sd.get("snapshot") or {}).get("element") and sd.get("differential"):
                    try:  # a differential-only profile: its snapshot generated here
                        sd = {**sd, "snapshot": {"element": generate_snapshot(sd, self.definitions)}}
                    except SnapshotError:
                        sd = None
                ok = sd is not None and sd.get("snapshot", {}).get("element")
                self._compiled[url] = self._build(sd) if ok else None  # type: ignore[arg-type]
            return self._compiled[url]

    def _build(self, sd: dict[str, Any]) -> Constraint:
        elements = sd["snapshot"]["element"]
        own_source = sd.get("url")
        root: Constraint | None = None
        by_id: dict[str, Constraint] = {}
        for element in elements:
            element_id = element.get("id") or element["path"]
            segments = _segments(element_id)
            node = self._node(element, segments[-1], own_source)
            by_id[element_id] = node
            if root is None:
                root = node
                continue
            parent_id, _, _last = element_id.rpartition(".")
            parent = by_id.get(parent_id)
            if parent is None:
                continue
            name, slice_name = segments[-1]
            if slice_name is None:
                parent.children[name] = node
            else:
                base = parent.children.get(name)
                if base is not None and "/" not in slice_name:
                    base.slices.append(node)
        assert root is not None
        _prune(root)
        return root

    def _core_element(self, base_path: str) -> dict[str, Any] | None:
        """The element of the core definition a profile's element constrains (by its ``base.path``)."""
        if base_path not in self._core_elements:
            type_name = base_path.partition(".")[0]
            sd = self.definitions.structure_definition(CORE_BASE + type_name)
            for element in (sd or {}).get("snapshot", {}).get("element", ()):
                self._core_elements.setdefault(element["path"], element)
            self._core_elements.setdefault(base_path, None)
        return self._core_elements[base_path]

    def _is_own(self, element: dict[str, Any], node: Constraint) -> bool:
        """Whether the element says more than R4 itself (so the walk must visit it)."""
        base = element.get("base") or {}
        if node.fixed is not None or node.pattern is not None or node.invariants or node.profiles:
            return True
        if element.get("slicing") or node.slice_name is not None:
            return True
        if node.min > int(base.get("min", 0)):
            return True
        base_max = _max(base.get("max"))
        if node.max is not None and (base_max is None or node.max < base_max):
            return True
        core = self._core_element(str(base.get("path", element["path"])))
        if core is None:
            return bool(node.binding or node.targets)
        core_types = {str(t.get("code")) for t in core.get("type") or () if isinstance(t, dict)}
        if node.type_codes and core_types and set(node.type_codes) != core_types:
            return True  # fewer types allowed (an extension's value[x])
        core_binding = core.get("binding") or {}
        if node.binding and node.binding != (core_binding.get("strength"), core_binding.get("valueSet")):
            return True
        if node.targets:
            core_targets = {
                str(t).rpartition("/")[2] for ref in core.get("type") or () for t in ref.get("targetProfile") or ()
            }
            return node.targets != core_targets and "Resource" not in core_targets
        return False

    def _node(self, element: dict[str, Any], segment: tuple[str, str | None], own_source: str | None) -> Constraint:
        name, slice_name = segment
        types = [t for t in element.get("type") or () if isinstance(t, dict)]
        targets: set[str] = set()
        profiles: list[str] = []
        for type_ref in types:
            for target in type_ref.get("targetProfile") or ():
                target_sd = self.definitions.structure_definition(target)
                kind = target_sd.get("type") if target_sd else None
                if kind and kind != "Resource":
                    targets.add(kind)
                elif kind == "Resource":
                    targets.clear()
                    break
            profiles += [p for p in type_ref.get("profile") or () if isinstance(p, str)]
        slicing = element.get("slicing") or {}
        binding = element.get("binding")
        node = Constraint(
            name=name,
            path=element["path"],
            slice_name=slice_name,
            min=int(element.get("min", 0)),
            max=_max(element.get("max")),
            fixed=_choice_value(element, "fixed"),
            pattern=_choice_value(element, "pattern"),
            type_codes=tuple(str(t.get("code")) for t in types),
            targets=frozenset(targets),
            profiles=tuple(p for p in profiles if not p.startswith(CORE_BASE)),
            binding=(binding["strength"], binding["valueSet"])
            if isinstance(binding, dict)
            and binding.get("strength") in ("required", "extensible")
            and isinstance(binding.get("valueSet"), str)
            else None,
            invariants=tuple(self._invariants(element, own_source)),
            discriminators=tuple((str(d.get("type")), str(d.get("path"))) for d in slicing.get("discriminator") or ()),
            closed=slicing.get("rules") == "closed",
            ordered=bool(slicing.get("ordered")),
        )
        node.own = self._is_own(element, node)
        return node

    def _invariants(self, element: dict[str, Any], own_source: str | None) -> Iterator[Invariant]:
        for constraint in element.get("constraint") or ():
            source = constraint.get("source") or ""
            expression = constraint.get("expression")
            core = not source or (source.startswith(CORE_BASE) and source != own_source)
            prefix = CORE_INVARIANTS_CHECKED.get(str(own_source))
            if not expression or (core and not (prefix and str(constraint.get("key", "")).startswith(prefix))):
                continue  # the core's invariants (with a core source, or none) are the structural layer's
            yield Invariant(
                str(constraint.get("key")),
                "warning" if constraint.get("severity") == "warning" else "error",
                str(constraint.get("human") or ""),
                self._compile_fhirpath(expression),
            )

    def _compile_fhirpath(self, expression: str) -> Callable[[Any, Any], list[Any]]:
        """FHIRPath compiled once; the common ``matches('regex')`` on a primitive runs as a Python regex (the same
        result, a hundred times faster than the interpreter)."""
        simple = _MATCHES.fullmatch(expression.strip())
        if simple is not None:
            pattern = re.compile(_ESCAPE.sub(_unescape, simple.group(1)))

            def run_regex(value: Any, resource: Any) -> list[Any]:
                return [pattern.search(value) is not None] if isinstance(value, str) else []

            return run_regex
        import fhirpathpy
        from fhirpathpy.models import models

        compiled = fhirpathpy.compile(expression, models["r4"], {"traceFn": _quiet})  # core trace() prints

        def run(value: Any, resource: Any) -> list[Any]:
            return compiled(value, {"resource": resource, "rootResource": resource})

        return run


def _values(obj: dict[str, Any], node: Constraint) -> list[tuple[str, Any]]:
    """(JSON key, value) of each item ``obj`` holds for ``node`` (``value[x]`` matches ``valueString`` …)."""
    if node.name.endswith("[x]"):
        base = node.name[:-3]
        found = [(k, v) for k, v in obj.items() if k.startswith(base) and k[len(base) : len(base) + 1].isupper()]
    else:
        found = [(node.name, obj[node.name])] if node.name in obj else []
    out: list[tuple[str, Any]] = []
    for key, value in found:
        out += [(key, v) for v in value] if isinstance(value, list) else [(key, value)]
    return out


def _at(value: Any, path: str) -> list[Any]:
    """The values at a simple dotted path (``system``, ``code.coding.system``; ``$this`` is the value)."""
    current = [value]
    if path in ("", "$this"):
        return current
    for step in path.split("."):
        nxt: list[Any] = []
        for item in current:
            if isinstance(item, dict) and step in item:
                got = item[step]
                nxt += got if isinstance(got, list) else [got]
        current = nxt
    return current


def _contains(value: Any, pattern: Any) -> bool:
    """FHIR pattern matching: every property of the pattern is in the value (lists: each pattern item matches
    some item)."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(k in value and _contains(value[k], p) for k, p in pattern.items())
    if isinstance(pattern, list):
        items = value if isinstance(value, list) else [value]
        return all(any(_contains(v, p) for v in items) for p in pattern)
    return value == pattern


def _of_types(suffix: str, node: Constraint) -> bool:
    """Whether a choice's JSON key suffix (``Date`` of ``valueDate``) names one of the element's types."""
    return any(suffix.lower() == code.lower() for code in node.type_codes)


def _expected(node: Constraint, steps: list[str]) -> list[Any]:
    """The fixed or pattern values a slice sets at a discriminator path, looking through the slices along it
    (``code.coding.code`` is fixed on ``code.coding:SBPCode.code``) and into a pattern set higher up."""
    own = node.fixed if node.fixed is not None else node.pattern
    if own is not None:
        return _at(own, ".".join(steps)) if steps else [own]
    if not steps:
        return []
    child = node.children.get(steps[0])
    if child is None:
        return []
    found: list[Any] = []
    for candidate in (child, *child.slices):
        found += _expected(candidate, steps[1:])
    return found


def _descend(node: Constraint, path: str) -> Constraint | None:
    for step in path.split(".") if path not in ("", "$this") else ():
        child = node.children.get(step)
        if child is None:
            return None
        node = child
    return node


def _reference_type(reference: Any) -> str | None:
    if not isinstance(reference, str) or reference.startswith("#") or reference.startswith("urn:"):
        return None
    parts = reference.split("/_history/")[0].rstrip("/").split("/")
    return parts[-2] if len(parts) >= 2 else None


class ProfileValidator:
    """Validates resources against profiles (``validate(resource, url)``)."""

    def __init__(self, definitions: Definitions) -> None:
        self.definitions = definitions
        self.compiler = ProfileCompiler(definitions)

    def knows(self, url: str) -> bool:
        return self.compiler.compile(url) is not None

    def validate(self, resource: dict[str, Any], url: str) -> list[Issue]:
        root = self.compiler.compile(url)
        name = url.partition("|")[0]
        if root is None:
            return [Issue("not-supported", f"The profile {name} is not known to this server", "error", ())]
        if root.path != resource.get("resourceType"):
            return [Issue("structure", f"The profile {name} is for {root.path}, not a {resource.get('resourceType')}")]
        issues: list[Issue] = []
        _Walk(self, resource, name, issues).node(root, resource, root.path)
        return issues


class _Walk:
    def __init__(self, validator: ProfileValidator, resource: dict[str, Any], profile: str, issues: list[Issue]):
        self.validator = validator
        self.resource = resource
        self.profile = profile
        self.issues = issues

    def add(self, code: str, message: str, path: str, severity: str = "error") -> None:
        self.issues.append(Issue(code, f"{message} (profile {self.profile})", severity, (path,)))

    def node(self, node: Constraint, value: Any, path: str) -> None:
        """``value`` (one item) against ``node``'s own constraints, then its children."""
        self.value_constraints(node, value, path)
        if not isinstance(value, dict):
            return
        for child in node.children.values():
            self.child(child, value, path)

    def child(self, child: Constraint, obj: dict[str, Any], path: str) -> None:
        items = _values(obj, child)
        label = child.name[:-3] if child.name.endswith("[x]") else child.name
        where = f"{path}.{label}"
        self.cardinality(child, len(items), where, label)
        matched: dict[int, Constraint] = {}
        if child.slices:
            for index, (key, item) in enumerate(items):
                found = next((s for s in child.slices if self.matches(s, child, key, item)), None)
                if found is not None:
                    matched[index] = found
                elif child.closed:
                    self.add("structure", f"'{label}' item matches none of the profile's slices", f"{where}[{index}]")
            for slice_node in child.slices:
                count = sum(1 for s in matched.values() if s is slice_node)
                self.cardinality(slice_node, count, where, f"{label}:{slice_node.slice_name}")
            if child.ordered:
                positions = [child.slices.index(matched[i]) for i in sorted(matched)]
                if positions != sorted(positions):
                    self.add("structure", f"'{label}' items must come in the order of the profile's slices", where)
        for index, (key, item) in enumerate(items):
            item_path = f"{where}[{index}]" if len(items) > 1 or isinstance(obj.get(child.name), list) else where
            if child.name.endswith("[x]") and child.type_codes and not _of_types(key[len(label) :], child):
                allowed = ", ".join(child.type_codes)
                self.add("structure", f"'{label}' must be of type {allowed}, not '{key}'", item_path)
                continue
            self.node(child, item, item_path)
            if index in matched:
                self.node(matched[index], item, item_path)
            if isinstance(item, dict) and item.get("system") in (FNR_SYSTEM, DNR_SYSTEM):
                self.person_number(item, item_path)

    def cardinality(self, node: Constraint, count: int, where: str, label: str) -> None:
        if count < node.min:
            self.add("required", f"'{label}' is required: at least {node.min}", where)
        if node.max is not None and count > node.max:
            message = f"'{label}' is not allowed" if node.max == 0 else f"'{label}' allows at most {node.max}"
            self.add("structure", message, where)

    def matches(self, slice_node: Constraint, base: Constraint, key: str, item: Any) -> bool:
        if not base.discriminators:
            return False
        for kind, disc_path in base.discriminators:
            if kind == "type" and disc_path == "$this":  # choice slicing: valueQuantity is the Quantity slice
                suffix = key[len(base.name) - 3 :] if base.name.endswith("[x]") else ""
                if not (suffix and _of_types(suffix, slice_node)) and not (
                    not suffix and isinstance(item, dict) and item.get("resourceType") in slice_node.type_codes
                ):
                    return False
                continue
            values = _at(item, disc_path)
            if kind in ("value", "pattern"):
                expected = _expected(slice_node, disc_path.split(".") if disc_path not in ("", "$this") else [])
                if not expected and disc_path == "url" and slice_node.profiles:
                    expected = [slice_node.profiles[0]]  # an extension slice: its definition's URL
                if not expected or not all(any(_contains(v, e) for v in values) for e in expected):
                    return False
            elif kind == "exists":
                target = _descend(slice_node, disc_path)
                if target is None or (target.min > 0) != bool(values):
                    return False
            elif kind == "profile":
                target = _descend(slice_node, disc_path)
                urls = target.profiles if target is not None else ()
                if not urls or not values or not all(self.conforms(url, v) for url in urls for v in values):
                    return False
            else:
                return False  # a discriminator kind R4 does not define
        return True

    def conforms(self, url: str, value: Any) -> bool:
        """Whether ``value`` meets the profile ``url`` (a ``profile`` discriminator's question); nothing is
        reported."""
        if not isinstance(value, dict):
            return False
        if "url" in value and value.get("url") != url.partition("|")[0]:
            return False  # an extension conforms only to its own definition
        trial = _Walk(self.validator, self.resource, self.profile, [])
        trial.typed_profile(url, value, "", is_extension=value.get("url") is not None)
        return not any(i.severity == "error" for i in trial.issues)

    def value_constraints(self, node: Constraint, value: Any, path: str) -> None:
        if node.fixed is not None and value != node.fixed:
            self.add("value", f"'{node.name}' must be exactly the profile's fixed value", path)
        if node.pattern is not None and not _contains(value, node.pattern):
            self.add("value", f"'{node.name}' does not match the profile's required pattern", path)
        if node.targets and isinstance(value, dict):
            kind = _reference_type(value.get("reference")) or value.get("type")
            if isinstance(kind, str) and kind not in node.targets:
                allowed = ", ".join(sorted(node.targets))
                self.add("value", f"'{node.name}' must refer to a {allowed}, not a {kind}", path)
        if node.binding is not None:
            self.binding(node, value, path)
        for url in node.profiles:
            if isinstance(value, dict):
                self.typed_profile(url, value, path, is_extension="Extension" in node.type_codes)
        for invariant in node.invariants:
            self.invariant(invariant, value, path)

    def person_number(self, identifier: dict[str, Any], path: str) -> None:
        """A fødselsnummer or D-nummer: eleven digits whose two check digits are right."""
        number = identifier.get("value")
        valid = is_valid_fnr if identifier["system"] == FNR_SYSTEM else is_valid_dnr
        if isinstance(number, str) and not valid(number):
            kind = "fødselsnummer" if identifier["system"] == FNR_SYSTEM else "D-nummer"
            self.add("value", f"The {kind} is not valid (eleven digits with the right check digits)", f"{path}.value")

    def binding(self, node: Constraint, value: Any, path: str) -> None:
        assert node.binding is not None
        strength, value_set = node.binding
        if not _CODED & set(node.type_codes):
            return
        expansion = self.validator.definitions.expand_value_set(value_set)
        if expansion is None:
            return  # not enumerable here: not judged
        if isinstance(value, str):
            ok = any(code == value for _system, code in expansion)
        elif isinstance(value, dict) and "coding" in value:
            codings = [c for c in value.get("coding") or () if isinstance(c, dict)]
            ok = any((c.get("system"), c.get("code")) in expansion for c in codings)
        elif isinstance(value, dict):
            ok = (value.get("system"), value.get("code")) in expansion
        else:
            return
        if not ok:
            severity = "error" if strength == "required" else "warning"
            self.add("code-invalid", f"The code is not in the {strength} ValueSet {value_set}", path, severity)

    def typed_profile(self, url: str, value: dict[str, Any], path: str, *, is_extension: bool) -> None:
        """A value against its type's profile: an extension against its definition (``value[x]`` types, nested
        extensions), a datatype against a datatype profile (an Address against no-basis-Address)."""
        definition = self.validator.compiler.compile(url)
        if definition is None or (is_extension and value.get("url") != url.partition("|")[0]):
            return
        for child in definition.children.values():
            if child.name not in ("id", "url"):
                self.child(child, value, path)

    def invariant(self, invariant: Invariant, value: Any, path: str) -> None:
        try:
            result = invariant.check(value, self.resource)
        except Exception:  # an expression fhirpathpy cannot run is reported, not fatal
            self.add("invariant", f"Invariant {invariant.key} could not be evaluated", path, "warning")
            return
        if False in result:  # empty counts as satisfied, as the reference validator has it
            self.add("invariant", f"{invariant.key}: {invariant.human}", path, invariant.severity)
