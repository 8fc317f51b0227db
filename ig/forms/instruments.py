"""Instruments as data: each item's link id, placeholder text and answer scale, and the scores its options carry
(``ordinalValue``). Codes (``https://ryggrad.no/fhir/CodeSystem/instrument``) let the scoring workers find an
instrument's items whatever the wording of the version a registry loaded.

No instrument text is reproduced here: licensed wording (ODI, NDI, EQ-5D …) comes with the registry's own version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

INSTRUMENT_SYSTEM = "https://ryggrad.no/fhir/CodeSystem/instrument"
ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
ITEM_CONTROL_SYSTEM = "http://hl7.org/fhir/questionnaire-item-control"
VALIDATION_TEXT = "http://ehelse.no/fhir/StructureDefinition/validationtext"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
SCORE = {"system": "http://ehelse.no/Score", "code": "score", "display": "score"}
SCORING = "http://ehelse.no/scoringFormulas"
QUESTION_SCORE = {"system": SCORING, "code": "QS", "display": "QuestionScore"}
SECTION_SCORE = {"system": SCORING, "code": "SS", "display": "Sectionscore"}
UNIT = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit"


@dataclass(frozen=True)
class Scale:
    """An answer scale: option codes with their scores, and the placeholder label of each."""

    key: str
    points: tuple[tuple[str, int, str], ...]  # (code, score, label)

    def options(self) -> list[dict[str, Any]]:
        """The answer options, each scored by an ``ordinalValue`` on its coding (where refero reads it)."""
        system = f"https://ryggrad.no/fhir/CodeSystem/scale-{self.key}"
        return [
            {
                "valueCoding": {
                    "extension": [{"url": ORDINAL, "valueDecimal": score}],
                    "system": system,
                    "code": code,
                    "display": label,
                }
            }
            for code, score, label in self.points
        ]


def numbered(key: str, low: int, high: int, low_label: str, high_label: str) -> Scale:
    points = []
    for n in range(low, high + 1):
        label = f"{n} - {low_label}" if n == low else f"{n} - {high_label}" if n == high else str(n)
        points.append((str(n), n, label))
    return Scale(key, tuple(points))


SCALES = {
    "0-3": numbered("0-3", 0, 3, "ingen plager", "alvorlige plager"),
    "0-5": numbered("0-5", 0, 5, "minst plager", "mest plager"),
    "0-6": numbered("0-6", 0, 6, "helt uenig", "helt enig"),
    "1-4": numbered("1-4", 1, 4, "ikke i det hele tatt", "svært mye"),
    "1-5": numbered("1-5", 1, 5, "ingen problemer", "ekstreme problemer"),
    "0-10": numbered("0-10", 0, 10, "ingen smerte", "verst tenkelige smerte"),
    "gpe": numbered("gpe", 1, 7, "helt bra", "verre enn noen gang"),
    "satisfaction": numbered("satisfaction", 1, 5, "fornøyd", "misfornøyd"),
    "pgic": numbered("pgic", 1, 7, "svært mye bedre", "svært mye verre"),
    "yes-no": Scale("yes-no", (("yes", 1, "Ja"), ("no", 0, "Nei"))),
}


@dataclass(frozen=True)
class Instrument:
    """A scored instrument: ``count`` items on one scale, coded ``<code>-<n>``; ``extra`` items after them."""

    code: str
    title: str
    count: int
    scale: str
    extra: tuple[dict[str, Any], ...] = field(default=())

    def items(self, required: bool = False) -> list[dict[str, Any]]:
        scale = SCALES[self.scale]
        items = [
            {
                "linkId": f"{self.code}-{n}",
                "code": [
                    {"system": INSTRUMENT_SYSTEM, "code": f"{self.code}-{n}", "display": f"{self.title} item {n}"},
                    QUESTION_SCORE,
                ],
                "text": f"{self.title}, spørsmål {n} (registerets lisensierte tekst erstatter denne)",
                "type": "choice",
                "required": required,
                "answerOption": scale.options(),
                "extension": [_control("radio-button")],
            }
            for n in range(1, self.count + 1)
        ]
        section_score = {
            "linkId": f"{self.code}-sum",
            "code": [SECTION_SCORE],
            "text": "Sum",
            "type": "quantity",
            "extension": [{"url": UNIT, "valueCoding": SCORE}],
        }
        return items + [section_score] + [dict(e) for e in self.extra]

    def group(self, required: bool = False) -> dict[str, Any]:
        return {
            "linkId": self.code,
            "code": [{"system": INSTRUMENT_SYSTEM, "code": self.code, "display": self.title}],
            "text": self.title,
            "type": "group",
            "item": self.items(required),
        }


def _control(code: str) -> dict[str, Any]:
    return {"url": ITEM_CONTROL, "valueCodeableConcept": {"coding": [{"system": ITEM_CONTROL_SYSTEM, "code": code}]}}


def integer_item(link: str, text: str, low: int, high: int, *, required: bool = False, code: str | None = None) -> dict:
    item: dict[str, Any] = {
        "linkId": link,
        "text": text,
        "type": "integer",
        "required": required,
        "extension": [
            {"url": MIN_VALUE, "valueInteger": low},
            {"url": MAX_VALUE, "valueInteger": high},
            {"url": VALIDATION_TEXT, "valueString": f"Oppgi et tall fra {low} til {high}"},
        ],
    }
    if code:
        item["code"] = [{"system": INSTRUMENT_SYSTEM, "code": code}]
    return item


def choice_item(
    link: str, text: str, options: list[tuple[str, str]], *, repeats: bool = False, required: bool = False
) -> dict:
    return {
        "linkId": link,
        "text": text,
        "type": "choice",
        "required": required,
        "repeats": repeats,
        "answerOption": [
            {"valueCoding": {"system": f"https://ryggrad.no/fhir/CodeSystem/{link}", "code": code, "display": label}}
            for code, label in options
        ],
        "extension": [_control("check-box" if repeats else "radio-button")],
    }


def scale_item(link: str, text: str, scale: str, *, code: str | None = None, required: bool = False) -> dict:
    item = {
        "linkId": link,
        "text": text,
        "type": "choice",
        "required": required,
        "answerOption": SCALES[scale].options(),
        "extension": [_control("radio-button")],
    }
    item["code"] = ([{"system": INSTRUMENT_SYSTEM, "code": code}] if code else []) + [QUESTION_SCORE]
    return item


ODI = Instrument("odi", "Funksjon, rygg (ODI)", 10, "0-5")
NDI = Instrument("ndi", "Funksjon, nakke (NDI)", 10, "0-5")
FABQ = Instrument("fabq", "Tanker om aktivitet og arbeid (FABQ)", 11, "0-6")
HSCL10 = Instrument("hscl10", "Psykiske plager (HSCL-10)", 10, "1-4")
UHI = Instrument("uhi", "Subjektive helseplager (UHI)", 33, "0-3")
EQ5D = Instrument(
    "eq5d",
    "Helsetilstand i dag (EQ-5D-5L)",
    5,
    "1-5",
    extra=(integer_item("eq5d-vas", "Helsen din i dag, fra 0 (verst) til 100 (best)", 0, 100, code="eq5d-vas"),),
)
LPFS = Instrument("lpfs", "Personlighetsfungering (LPFS-BF)", 12, "1-4")
