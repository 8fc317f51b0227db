"""The instruments' scores (registry rules, section 4), as pure functions of the answers by item code.

Each missing-item limit is a setting (``Limits``). Scores are exact decimals, rounded for storage: percentages and
means to two decimals, the EQ-5D index to three; thresholds are judged on the unrounded value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from workers.scoring.answers import Answers
from workers.scoring.value_sets import ValueSet

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
NDI_TOTAL = {"system": LOINC, "code": "82237-9", "display": "Neck Disability Index total"}
PAIN_0_10 = {"system": LOINC, "code": "72514-3", "display": "Pain severity - 0-10 verbal numeric rating"}
EQ5D_INDEX = {"system": SNOMED, "code": "736534008", "display": "EuroQol five dimension five level index value"}
HSCL10_CASE = Decimal("1.85")
UHI_NOT_COUNTED = frozenset({5, 6, 7})
UHI_POSITIVE = 3
FABQ_BANDS = {"fabq-physical": (14, 17), "fabq-work": (20, 25)}  # low below the first, high from the second


@dataclass(frozen=True)
class Limits:
    odi_max_missing: int = 2
    ndi_max_missing: int = 2
    hscl10_min_answered: int = 7
    fabq_max_missing: int = 0
    uhi_min_answered: int = 3

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        return cls(
            odi_max_missing=settings.scoring_odi_max_missing,
            ndi_max_missing=settings.scoring_ndi_max_missing,
            hscl10_min_answered=settings.scoring_hscl10_min_answered,
            fabq_max_missing=settings.scoring_fabq_max_missing,
            uhi_min_answered=settings.scoring_uhi_min_answered,
        )


@dataclass(frozen=True)
class Score:
    """One score: its code in the registry's score CodeSystem, the standard codes beside it, the value."""

    key: str
    value: Decimal | str
    unit: str | None = None  # UCUM
    codings: tuple[dict[str, str], ...] = ()
    interpretation: str | None = None  # positive | negative | low | moderate | high
    method: str | None = None


def _round(value: Decimal, places: str = "0.01") -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def _items(answers: Answers, instrument: str, numbers: range) -> dict[int, Decimal]:
    """Each answered item of ``instrument`` among ``numbers``, by number: several ticks count as the highest."""
    return {n: max(answers[f"{instrument}-{n}"]) for n in numbers if answers.get(f"{instrument}-{n}")}


def odi(answers: Answers, limits: Limits) -> list[Score]:
    items = _items(answers, "odi", range(1, 11))
    if not items or 10 - len(items) > limits.odi_max_missing:
        return []
    return [Score("odi-percent", _round(100 * sum(items.values()) / (5 * len(items))), "%")]


def ndi(answers: Answers, limits: Limits) -> list[Score]:
    items = _items(answers, "ndi", range(1, 11))
    if not items or 10 - len(items) > limits.ndi_max_missing:
        return []
    total = sum(items.values(), Decimal(0))
    return [
        Score("ndi-raw", total, "{score}", (NDI_TOTAL,)),
        Score("ndi-percent", _round(100 * total / (5 * len(items))), "%"),
    ]


def hscl10(answers: Answers, limits: Limits) -> list[Score]:
    items = _items(answers, "hscl10", range(1, 11))
    if not items or len(items) < limits.hscl10_min_answered:
        return []
    mean = sum(items.values(), Decimal(0)) / len(items)
    case = "positive" if mean >= HSCL10_CASE else "negative"
    return [Score("hscl10-mean", _round(mean), "{score}", interpretation=case)]


def fabq(answers: Answers, limits: Limits) -> list[Score]:
    scores = []
    for key, numbers in (("fabq-physical", range(1, 5)), ("fabq-work", range(5, 12))):
        items = _items(answers, "fabq", numbers)
        if not items or len(numbers) - len(items) > limits.fabq_max_missing:
            continue
        total = sum(items.values(), Decimal(0))
        moderate, high = FABQ_BANDS[key]
        band = "low" if total < moderate else "moderate" if total < high else "high"
        scores.append(Score(key, total, "{score}", interpretation=band))
    return scores


def uhi(answers: Answers, limits: Limits) -> list[Score]:
    items = _items(answers, "uhi", range(1, 34))
    if len(items) < limits.uhi_min_answered:
        return []
    count = sum(1 for n, value in items.items() if n not in UHI_NOT_COUNTED and value >= 2)
    positive = "positive" if count >= UHI_POSITIVE else "negative"
    return [Score("uhi-complaints", Decimal(count), "{count}", interpretation=positive)]


def eq5d(answers: Answers, value_set: ValueSet) -> list[Score]:
    scores = []
    items = _items(answers, "eq5d", range(1, 6))
    if len(items) == 5 and all(v == v.to_integral_value() and 1 <= v <= 5 for v in items.values()):
        profile = "".join(str(int(items[n])) for n in range(1, 6))
        scores.append(Score("eq5d-profile", profile))
        method = f"EQ-5D-5L value set: {value_set.title} ({value_set.id})"
        scores.append(Score("eq5d-index", value_set.index(profile), "1", (EQ5D_INDEX,), method=method))
    if answers.get("eq5d-vas"):
        scores.append(Score("eq5d-vas", answers["eq5d-vas"][0], "{score}"))
    return scores


#: Single items stored as they were answered (0 on an NRS is an answer; a missing one is absent).
SINGLE_ITEMS: dict[str, tuple[dict[str, str], ...]] = {
    "pain-nrs-rest": (PAIN_0_10,),
    "pain-nrs-activity": (PAIN_0_10,),
    "pain-nrs-average": (PAIN_0_10,),
    "gpe": (),
    "satisfaction": (),
    "pgic": (),
}


def single_items(answers: Answers) -> list[Score]:
    return [
        Score(key, answers[key][0], "{score}", codings) for key, codings in SINGLE_ITEMS.items() if answers.get(key)
    ]


def score_all(answers: Answers, limits: Limits, value_set: ValueSet) -> list[Score]:
    """Every score the answers allow."""
    scorers: list[Callable[[Answers, Limits], list[Score]]] = [odi, ndi, hscl10, fabq, uhi]
    scores = [score for scorer in scorers for score in scorer(answers, limits)]
    return scores + eq5d(answers, value_set) + single_items(answers)
