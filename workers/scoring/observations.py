"""A score as the Observation the registry stores (profile ``registry-score``): for the response's patient and
episode, derived from the response, identified by the response and the score so that scoring again finds it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from workers.scoring.instruments import Score

PROFILE = "https://ryggrad.no/fhir/StructureDefinition/registry-score"
SCORE_SYSTEM = "https://ryggrad.no/fhir/CodeSystem/score"
IDENTIFIER_SYSTEM = "https://ryggrad.no/fhir/NamingSystem/registry-score"
UCUM = "http://unitsofmeasure.org"
SURVEY = {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey"}
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
INTERPRETATIONS = {
    "positive": {"coding": [{"system": INTERPRETATION, "code": "POS", "display": "Positive"}], "text": "positiv"},
    "negative": {"coding": [{"system": INTERPRETATION, "code": "NEG", "display": "Negative"}], "text": "negativ"},
    "low": {"text": "lav"},
    "moderate": {"text": "moderat"},
    "high": {"text": "høy"},
}
CARRIED = (
    "https://ryggrad.no/fhir/StructureDefinition/registry",
    "https://ryggrad.no/fhir/StructureDefinition/episode",
)


def identifier(response_id: str, key: str) -> str:
    return f"QuestionnaireResponse/{response_id}/{key}"


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def observation(score: Score, response_id: str, response: dict[str, Any], effective: str) -> dict[str, Any]:
    content: dict[str, Any] = {
        "resourceType": "Observation",
        "meta": {"profile": [PROFILE]},
        "extension": [e for e in response.get("extension") or [] if isinstance(e, dict) and e.get("url") in CARRIED],
        "identifier": [{"system": IDENTIFIER_SYSTEM, "value": identifier(response_id, score.key)}],
        "status": "final",
        "category": [{"coding": [SURVEY]}],
        "code": {"coding": [*score.codings, {"system": SCORE_SYSTEM, "code": score.key}]},
        "subject": response["subject"],
        "effectiveDateTime": effective,
        "derivedFrom": [{"reference": f"QuestionnaireResponse/{response_id}"}],
    }
    if isinstance(score.value, str):
        content["valueString"] = score.value
    else:
        quantity: dict[str, Any] = {"value": _number(score.value)}
        if score.unit:
            quantity |= {"unit": score.unit, "system": UCUM, "code": score.unit}
        content["valueQuantity"] = quantity
    if score.interpretation:
        content["interpretation"] = [INTERPRETATIONS[score.interpretation]]
    if score.method:
        content["method"] = {"text": score.method}
    if not content["extension"]:
        del content["extension"]
    return content
