"""A QuestionnaireResponse against its Questionnaire.

- Every item's ``linkId`` exists at its place in the Questionnaire's item tree; a non-repeating item appears once
  and has at most one answer; display items and groups have no answers.
- Answers have the item's type (``integer`` → ``valueInteger`` …; the options' types where ``answerOption`` gives
  them; ``open-choice`` also takes a string), are among ``answerOption`` or in ``answerValueSet`` (contained or
  one the server can enumerate), respect exclusive options, ``minValue``/``maxValue``, ``maxLength``/``minLength``,
  ``regex``, ``maxDecimalPlaces``, attachment ``mimeType``/``maxSize``, ``referenceResource``, quantity units
  (``unitOption``) and ``minOccurs``/``maxOccurs``.
- ``enableWhen`` decides which items are enabled: a disabled item must have no answers.
- Only when the response is ``completed`` (or ``amended``): ``required`` items (enabled ones) are answered and
  ``minOccurs`` is met. A draft (``in-progress``) may be partial: that is how "save draft" differs from "submit".
- The Questionnaire's own rules (SDC ``questionnaire-constraint`` on the Questionnaire: a FHIRPath over the
  response that must be true, with the message to show; severity ``error`` refuses, ``warning`` does not). A rule
  for drafts and final responses alike says so itself (``status = 'in-progress' or …``).

Each issue names its place (``QuestionnaireResponse.item[0].answer[1]``) and carries the item's Helsenorge
``validationtext`` when the Questionnaire gives one.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from fhir_server.definitions.registry import Definitions
from fhir_server.errors import Issue

EXT = "http://hl7.org/fhir/StructureDefinition/"
SDC = "http://hl7.org/fhir/uv/sdc/StructureDefinition/"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
VALIDATION_TEXT = "http://ehelse.no/fhir/StructureDefinition/validationtext"
EXCLUSIVE = EXT + "questionnaire-optionExclusive"
FINAL = frozenset({"completed", "amended"})

#: item.type → the answer value keys it takes (``answerOption`` may narrow choice items to its own types).
ANSWER_KEYS: dict[str, tuple[str, ...]] = {
    "boolean": ("valueBoolean",),
    "decimal": ("valueDecimal",),
    "integer": ("valueInteger",),
    "date": ("valueDate",),
    "dateTime": ("valueDateTime",),
    "time": ("valueTime",),
    "string": ("valueString",),
    "text": ("valueString",),
    "url": ("valueUri",),
    "choice": ("valueCoding",),
    "open-choice": ("valueCoding", "valueString"),
    "attachment": ("valueAttachment",),
    "reference": ("valueReference",),
    "quantity": ("valueQuantity",),
}
_TYPE_NAMES = {"valueUri": "uri", "valueString": "string"}


CONSTRAINT = SDC + "questionnaire-constraint"
_compiled_constraints: dict[str, Any] = {}


def constraint_issues(response: dict[str, Any], questionnaire: dict[str, Any]) -> list[Issue]:
    """The Questionnaire's ``questionnaire-constraint`` rules the response breaks (each with its message)."""
    import fhirpathpy  # only Questionnaires with rules need it
    from fhirpathpy.models import models

    issues: list[Issue] = []
    for extension in questionnaire.get("extension") or ():
        if not isinstance(extension, dict) or extension.get("url") != CONSTRAINT:
            continue
        parts = {e.get("url"): next((v for k, v in e.items() if k.startswith("value")), None)
                 for e in extension.get("extension") or () if isinstance(e, dict)}  # fmt: skip
        expression, human = parts.get("expression"), parts.get("human")
        if not isinstance(expression, str) or not isinstance(human, str):
            continue
        compiled = _compiled_constraints.get(expression)
        if compiled is None:
            compiled = _compiled_constraints[expression] = fhirpathpy.compile(expression, models["r4"])
        result = compiled(response)
        if result != [True]:
            severity = "warning" if parts.get("severity") == "warning" else "error"
            key = parts.get("key")
            message = f"{human} ({key})" if isinstance(key, str) else human
            issues.append(Issue("invariant", message, severity, ("QuestionnaireResponse",)))
    return issues


def _extension(element: dict[str, Any], url: str) -> Any:
    for extension in element.get("extension") or ():
        if isinstance(extension, dict) and extension.get("url") == url:
            return next((v for k, v in extension.items() if k.startswith("value")), None)
    return None


def _answer_value(answer: dict[str, Any]) -> tuple[str, Any] | None:
    for key, value in answer.items():
        if key.startswith("value"):
            return key, value
    return None


_PRIMITIVES = frozenset({"Boolean", "Decimal", "Integer", "Date", "DateTime", "Time", "String", "Uri", "Code"})


def _type_name(key: str) -> str:
    """``valueDateTime`` → ``dateTime``, ``valueCoding`` → ``Coding``."""
    name = key[len("value") :]
    return name[:1].lower() + name[1:] if name in _PRIMITIVES else name


def _comparable(key: str, value: Any) -> Any:
    """A value that orders like the FHIR value (numbers as Decimal, dates as ISO text of equal precision)."""
    if key in ("valueInteger", "valueDecimal"):
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return None
    if key in ("valueDate", "valueDateTime", "valueTime"):
        return str(value)
    return None


class QuestionnaireResponseValidator:
    def __init__(self, definitions: Definitions) -> None:
        self.definitions = definitions
        self._display_cache: dict[str, dict[str, frozenset[str]]] = {}

    def validate(self, response: dict[str, Any], questionnaire: dict[str, Any]) -> list[Issue]:
        walk = _Walk(self, response, questionnaire)
        walk.items(response.get("item") or [], questionnaire.get("item") or [], "QuestionnaireResponse")
        return walk.issues + constraint_issues(response, questionnaire)

    def display_fits(self, coding: dict[str, Any]) -> bool:
        """Whether a coding's display (if any) is one its code system gives the code (designations count)."""
        display, system, code = coding.get("display"), coding.get("system"), coding.get("code")
        if not isinstance(display, str) or not isinstance(system, str) or not isinstance(code, str):
            return True
        names = self._displays(system).get(code)
        return names is None or display.strip().lower() in names

    def _displays(self, system: str) -> dict[str, frozenset[str]]:
        if system not in self._display_cache:
            found: dict[str, frozenset[str]] = {}
            code_system = self.definitions.code_system(system)

            def walk(concepts: Any) -> None:
                for concept in concepts or ():
                    if not isinstance(concept, dict) or not isinstance(concept.get("code"), str):
                        continue
                    names = [concept.get("display")] + [d.get("value") for d in concept.get("designation") or ()]
                    found[concept["code"]] = frozenset(n.strip().lower() for n in names if isinstance(n, str))
                    walk(concept.get("concept"))

            walk((code_system or {}).get("concept"))
            self._display_cache[system] = {k: v for k, v in found.items() if v}
        return self._display_cache[system]

    def expand(self, reference: str, questionnaire: dict[str, Any]) -> set[tuple[Any, Any]] | None:
        """The (system, code) pairs of an ``answerValueSet``: a contained ValueSet (``#id``) with enumerated
        concepts, or a ValueSet the server can enumerate; None when it cannot tell."""
        if reference.startswith("#"):
            contained = next(
                (
                    r
                    for r in questionnaire.get("contained") or ()
                    if isinstance(r, dict) and r.get("resourceType") == "ValueSet" and r.get("id") == reference[1:]
                ),
                None,
            )
            return _enumerate(contained, self.definitions) if contained else None
        found = self.definitions.expand_value_set(reference)
        return set(found) if found is not None else None


def _enumerate(value_set: dict[str, Any], definitions: Definitions) -> set[tuple[Any, Any]] | None:
    expansion = (value_set.get("expansion") or {}).get("contains")
    if isinstance(expansion, list):
        return {(c.get("system"), c.get("code")) for c in expansion if isinstance(c, dict)}
    pairs: set[tuple[Any, Any]] = set()
    for include in (value_set.get("compose") or {}).get("include") or ():
        system = include.get("system")
        if include.get("filter") or include.get("valueSet"):
            return None
        concepts = include.get("concept")
        if concepts:
            pairs |= {(system, c.get("code")) for c in concepts if isinstance(c, dict)}
            continue
        codes = definitions.code_system_codes(system) if isinstance(system, str) else None
        if codes is None:
            return None
        pairs |= {(system, code) for code in codes}
    return pairs


class _Walk:
    def __init__(self, validator: QuestionnaireResponseValidator, response: dict, questionnaire: dict) -> None:
        self.validator = validator
        self.response = response
        self.questionnaire = questionnaire
        self.final = response.get("status") in FINAL
        self.issues: list[Issue] = []
        self.answers = _answers_by_link(response.get("item") or [])

    def add(self, code: str, message: str, path: str, item: dict[str, Any] | None = None) -> None:
        """``item``: the Questionnaire item concerned, whose text (what the person filling in sees) and validation
        text are named, so a form can show the message where it belongs."""
        question = item.get("text") if item else None
        if code == "required" and isinstance(question, str) and question:
            message = f"{message} ({question})"
        text = _extension(item, VALIDATION_TEXT) if item else None
        if isinstance(text, str) and text:
            message = f"{message}: {text}"
        self.issues.append(Issue(code, message, "error", (path,)))

    def items(self, given: list[Any], defined: list[Any], path: str) -> None:
        by_link = {d.get("linkId"): d for d in defined if isinstance(d, dict)}
        seen: dict[str, int] = {}
        for index, item in enumerate(given):
            if not isinstance(item, dict):
                continue
            here = f"{path}.item[{index}]"
            link = item.get("linkId")
            definition = by_link.get(link)
            if definition is None:
                self.add("structure", f"LinkId '{link}' not found in questionnaire", here)
                continue
            seen[link] = seen.get(link, 0) + 1
            if seen[link] > 1 and not definition.get("repeats"):
                self.add("structure", "Only one response answer item with this linkId allowed", here, definition)
                continue
            self.item(item, definition, here)
        for definition in defined:
            if isinstance(definition, dict) and definition.get("linkId") not in seen:
                self.absent(definition, path)

    def item(self, item: dict[str, Any], definition: dict[str, Any], path: str) -> None:
        kind = definition.get("type")
        answers = [a for a in item.get("answer") or () if isinstance(a, dict)]
        enabled = self.enabled(definition)
        if not enabled and (answers or item.get("item")):
            self.add("business-rule", f"Item '{definition.get('linkId')}' has answers but is not enabled", path)
            return
        if kind in ("display", "group", "question") and answers:
            self.add("structure", f"Items of type '{kind}' cannot have answers", path, definition)
            return
        if kind == "group":
            children = item.get("item") or []
            if self.final and definition.get("required") and not children:
                self.add("required", "No sub-items found for required group", path, definition)
            self.items(children, definition.get("item") or [], path)
            return
        self.occurrences(answers, definition, path, enabled)
        self.exclusive(answers, definition, path)
        for index, answer in enumerate(answers):
            self.answer(answer, definition, f"{path}.answer[{index}]")
            if answer.get("item"):
                self.items(answer["item"], definition.get("item") or [], f"{path}.answer[{index}]")

    def absent(self, definition: dict[str, Any], path: str) -> None:
        """An item the response does not have: a required (and enabled) one is missing from a final response."""
        if not self.final or not definition.get("required") or not self.enabled(definition):
            return
        kind = "group" if definition.get("type") == "group" else "item"
        self.add(
            "required", f"No response answer found for required {kind} '{definition.get('linkId')}'", path, definition
        )

    def occurrences(self, answers: list[dict], definition: dict[str, Any], path: str, enabled: bool) -> None:
        repeats = bool(definition.get("repeats"))
        maximum = _extension(definition, EXT + "questionnaire-maxOccurs")
        minimum = _extension(definition, EXT + "questionnaire-minOccurs")
        if not repeats and len(answers) > 1:
            self.add("structure", "Only one response answer item with this linkId allowed", path, definition)
        elif isinstance(maximum, int) and len(answers) > maximum:
            self.add("structure", f"The maximum number of answers is {maximum} but this has {len(answers)}", path)
        if self.final and isinstance(minimum, int) and len(answers) < minimum:
            self.add("required", f"The minimum number of answers is {minimum} but this has {len(answers)}", path)
        if self.final and definition.get("required") and not answers and enabled:
            self.add(
                "required", f"No response answer found for required item '{definition.get('linkId')}'", path, definition
            )

    def exclusive(self, answers: list[dict], definition: dict[str, Any], path: str) -> None:
        if len(answers) < 2:
            return
        for option in definition.get("answerOption") or ():
            if isinstance(option, dict) and _extension(option, EXCLUSIVE) is True:
                chosen = _answer_value(option)
                if chosen and any(_answer_value(a) == chosen for a in answers):
                    self.add("business-rule", "An exclusive option is selected together with other answers", path)

    def answer(self, answer: dict[str, Any], definition: dict[str, Any], path: str) -> None:
        found = _answer_value(answer)
        if found is None:
            self.add("required", "An answer has no value", path)
            return
        key, value = found
        options = [o for o in definition.get("answerOption") or () if isinstance(o, dict)]
        allowed = ANSWER_KEYS.get(str(definition.get("type")), ())
        option_keys = {k for o in options for k in o if k.startswith("value")}
        if option_keys and definition.get("type") in ("choice", "open-choice"):
            allowed = tuple(option_keys) + (("valueString",) if definition.get("type") == "open-choice" else ())
        elif definition.get("type") == "choice" and not definition.get("answerValueSet"):
            allowed = ("valueCoding", "valueString")  # no options to choose from: as the reference validator
        if allowed and key not in allowed:
            wanted = " or ".join(_type_name(k) for k in allowed)
            self.add("value", f"Answer value must be of the type {wanted} not {_type_name(key)}", path, definition)
            return
        value_path = f"{path}.value"
        free_text = definition.get("type") == "open-choice" and key == "valueString"
        if options and not free_text and not any(_same(key, value, o) for o in options):
            self.add("code-invalid", "The answer is not in the set of permitted values", value_path, definition)
        value_set = definition.get("answerValueSet")
        if isinstance(value_set, str) and key == "valueCoding" and isinstance(value, dict):
            pairs = self.validator.expand(value_set, self.questionnaire)
            if pairs is not None and (value.get("system"), value.get("code")) not in pairs:
                message = f"The code is not in the options value set {value_set}"
                self.add("code-invalid", message, value_path, definition)
            elif pairs is not None and not self.validator.display_fits(value):
                self.add("code-invalid", "The display does not match the code's display", value_path, definition)
        for message in _limits(key, value, definition, self.validator.definitions.resource_types):
            self.add("value", message, value_path, definition)

    def enabled(self, definition: dict[str, Any]) -> bool:
        conditions = [c for c in definition.get("enableWhen") or () if isinstance(c, dict)]
        if not conditions:
            return True
        results = [self.condition(c) for c in conditions]
        return all(results) if definition.get("enableBehavior") == "all" else any(results)

    def condition(self, condition: dict[str, Any]) -> bool:
        answers = self.answers.get(condition.get("question"), [])
        operator = condition.get("operator")
        expected = next(
            (("value" + k[len("answer") :], v) for k, v in condition.items() if k.startswith("answer")), None
        )
        if operator == "exists":
            return bool(answers) == (expected[1] is True if expected else True)
        if expected is None:
            return False
        key, wanted = expected
        for answer in answers:
            got = _answer_value(answer)
            if got is None:
                continue
            if operator == "=" and _equal(got[1], wanted):
                return True
            if operator == "!=" and not _equal(got[1], wanted):
                return True
            if operator in (">", "<", ">=", "<="):
                left, right = _comparable(got[0], got[1]), _comparable(key, wanted)
                if left is not None and right is not None and _ordered(operator, left, right):
                    return True
        return operator == "!=" and not answers


def _ordered(operator: str, left: Any, right: Any) -> bool:
    return {">": left > right, "<": left < right, ">=": left >= right, "<=": left <= right}[operator]


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):  # Codings: by system and code
        return (a.get("system"), a.get("code")) == (b.get("system"), b.get("code"))
    return a == b


def _same(key: str, value: Any, option: dict[str, Any]) -> bool:
    option_value = option.get(key)
    return option_value is not None and _equal(value, option_value)


def _answers_by_link(items: list[Any]) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}

    def walk(level: list[Any]) -> None:
        for item in level:
            if not isinstance(item, dict):
                continue
            answers = [a for a in item.get("answer") or () if isinstance(a, dict)]
            found.setdefault(item.get("linkId"), []).extend(answers)
            walk(item.get("item") or [])
            for answer in answers:
                walk(answer.get("item") or [])

    walk(items)
    return found


def _limits(key: str, value: Any, definition: dict[str, Any], resource_types: frozenset[str]) -> Iterator[str]:
    """Messages for the item's value limits the answer breaks."""
    comparable = _comparable(key, value)
    if comparable is not None:
        for url, word, broken in (
            ("minValue", "less than the allowed minimum", "<"),
            ("maxValue", "greater than the allowed maximum", ">"),
        ):
            limit = _extension(definition, EXT + url)
            bound = _comparable(key, limit) if limit is not None else None
            if bound is not None and _ordered(broken, comparable, bound):
                yield f"The value is {word} of {limit}"
    places = _extension(definition, EXT + "maxDecimalPlaces")
    if key == "valueDecimal" and isinstance(places, int):
        text = str(value)
        if "." in text and len(text.split(".", 1)[1]) > places:
            yield f"The value has too many decimal places (limit = {places})"
    if key == "valueString" and isinstance(value, str):
        maximum = definition.get("maxLength")
        minimum = _extension(definition, EXT + "minLength")
        if isinstance(maximum, int) and len(value) > maximum:
            yield f"The answer is longer than the allowed maximum length of {maximum}"
        if isinstance(minimum, int) and len(value) < minimum:
            yield f"The answer is shorter than the required minimum length of {minimum}"
        pattern = _extension(definition, EXT + "regex")
        if isinstance(pattern, str):
            try:
                if re.fullmatch(pattern, value) is None:
                    yield "The answer does not conform to the expected form"
            except re.error:
                pass
    if key == "valueAttachment" and isinstance(value, dict):
        yield from _attachment(value, definition)
    if key == "valueReference" and isinstance(value, dict):
        yield from _reference(value, definition, resource_types)
    if (
        key == "valueUri"
        and isinstance(value, str)
        and value.startswith("urn:uuid:")
        and not _UUID.fullmatch(value[9:])
    ):
        yield "A UUID must be valid and in lower case"
    if key == "valueQuantity" and isinstance(value, dict):
        yield from _quantity(value, definition)


def _attachment(value: dict[str, Any], definition: dict[str, Any]) -> Iterator[str]:
    allowed = [e.get("valueCode") for e in definition.get("extension") or () if e.get("url") == EXT + "mimeType"]
    if allowed and value.get("contentType") not in allowed:
        yield f"The mime type is not valid for this answer (allowed = {', '.join(map(str, allowed))})"
    maximum = _extension(definition, EXT + "maxSize")
    size = value.get("size")
    if isinstance(maximum, int | Decimal | float) and isinstance(size, int) and size > maximum:
        yield f"The attachment is too large (allowed = {maximum})"
    data = value.get("data")
    if isinstance(size, int) and isinstance(data, str):
        try:
            actual = len(base64.b64decode(data, validate=True))
        except (binascii.Error, ValueError):
            return
        if actual != size:
            yield "The stated attachment size does not match the size of its data"


def _reference(value: dict[str, Any], definition: dict[str, Any], resource_types: frozenset[str]) -> Iterator[str]:
    reference = value.get("reference")
    if not isinstance(reference, str):
        return
    if " " in reference:
        yield "The reference is not a valid URL or relative reference"
        return
    allowed = [
        e.get("valueCode")
        for e in definition.get("extension") or ()
        if e.get("url") == EXT + "questionnaire-referenceResource"
    ]
    parts = reference.split("/_history/")[0].rstrip("/").split("/")
    kind = parts[-2] if len(parts) >= 2 else None
    if kind is not None and kind not in resource_types:
        yield f"{kind} is not a resource type"
    elif allowed and kind is not None and kind not in allowed:
        yield f"The resource type {kind} in the reference is not one of {', '.join(map(str, allowed))}"


def _quantity(value: dict[str, Any], definition: dict[str, Any]) -> Iterator[str]:
    units = [
        e.get("valueCoding")
        for e in definition.get("extension") or ()
        if e.get("url") == EXT + "questionnaire-unitOption" and isinstance(e.get("valueCoding"), dict)
    ]
    if units and not any(u.get("code") == value.get("code") and u.get("system") == value.get("system") for u in units):
        yield "The quantity's unit is not one of the allowed units"
    for url, word, broken in (
        ("minQuantity", "less than the allowed minimum", "<"),
        ("maxQuantity", "greater than the allowed maximum", ">"),
    ):
        limit = _extension(definition, SDC + "sdc-questionnaire-" + url)
        if not isinstance(limit, dict) or value.get("value") is None or limit.get("value") is None:
            continue
        same_unit = (limit.get("system"), limit.get("code")) == (value.get("system"), value.get("code"))
        if not same_unit or limit.get("code") is None:
            yield f"The quantity cannot be compared to the allowed {url[:3]}imum (different or missing units)"
        elif _ordered(broken, Decimal(str(value["value"])), Decimal(str(limit["value"]))):
            yield f"The quantity is {word}"


def resolve_questionnaire(canonical: str, candidates: Callable[[str], list[dict[str, Any]]]) -> dict[str, Any] | None:
    """The Questionnaire a response names (``url|version``): that version, or the only/latest one of the url."""
    url, _, version = canonical.partition("|")
    found = candidates(url)
    if version:
        found = [q for q in found if q.get("version") == version]
    if not found:
        return None
    return max(found, key=lambda q: (str(q.get("version") or ""), str(q.get("date") or "")))
