"""A response's answers as numbers, by instrument item code.

The Questionnaire codes each scored item in the instrument CodeSystem (``odi-3``, ``eq5d-vas`` …) whatever the
wording of the version a registry loaded; a coded answer is worth its option's ``ordinalValue``, an integer or
decimal answer its own value. Several answers to one item (ticks on a paper form, keyed in) are all kept: the
instruments decide (ODI takes the highest).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

INSTRUMENT_SYSTEM = "https://ryggrad.no/fhir/CodeSystem/instrument"
ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"

Answers = dict[str, list[Decimal]]


def _walk(items: list[Any]) -> Iterator[dict[str, Any]]:
    for item in items or []:
        if not isinstance(item, dict):
            continue
        yield item
        yield from _walk(item.get("item") or [])
        for answer in item.get("answer") or []:
            if isinstance(answer, dict):
                yield from _walk(answer.get("item") or [])


def _ordinal(coding: dict[str, Any]) -> Decimal | None:
    for extension in coding.get("extension") or []:
        if isinstance(extension, dict) and extension.get("url") == ORDINAL:
            value = extension.get("valueDecimal", extension.get("valueInteger"))
            if isinstance(value, int | float) and not isinstance(value, bool):
                return Decimal(str(value))
    return None


class ScoredItems:
    """The scored items of one Questionnaire: link id → (instrument code, option scores by system and code)."""

    def __init__(self, questionnaire: dict[str, Any]) -> None:
        self.items: dict[str, tuple[str, dict[tuple[Any, Any], Decimal]]] = {}
        for item in _walk(questionnaire.get("item") or []):
            code = next((c.get("code") for c in item.get("code") or [] if c.get("system") == INSTRUMENT_SYSTEM), None)
            if not code or item.get("type") == "group":
                continue
            options = {}
            for option in item.get("answerOption") or []:
                coding = option.get("valueCoding") if isinstance(option, dict) else None
                if isinstance(coding, dict) and (score := _ordinal(coding)) is not None:
                    options[(coding.get("system"), coding.get("code"))] = score
            self.items[item["linkId"]] = (code, options)

    def answers(self, response: dict[str, Any]) -> Answers:
        """The numbers answered to each instrument item code in ``response``."""
        found: Answers = {}
        for item in _walk(response.get("item") or []):
            scored = self.items.get(item.get("linkId"))
            if scored is None:
                continue
            code, options = scored
            for answer in item.get("answer") or []:
                value = _value(answer, options) if isinstance(answer, dict) else None
                if value is not None:
                    found.setdefault(code, []).append(value)
        return found


def _value(answer: dict[str, Any], options: dict[tuple[Any, Any], Decimal]) -> Decimal | None:
    coding = answer.get("valueCoding")
    if isinstance(coding, dict):
        return options.get((coding.get("system"), coding.get("code")), _ordinal(coding))
    for key in ("valueInteger", "valueDecimal"):
        value = answer.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return Decimal(str(value))
    return None
