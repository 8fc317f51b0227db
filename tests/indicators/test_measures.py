"""The NNRR quality indicators as Measures (registry rules, section 5): each one the server holds, valid against the
registry-measure profile, with the registry's targets, minimum levels and attribution."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from fhir_server.server import FhirServer

TARGETS = {  # id: (target, minimum), from the rules' table
    "interdisciplinary-treatment": (0.30, None),
    "odi-improved": (0.30, 0.25),
    "odi-minimal": (0.30, 0.25),
    "pain-rest-improved": (0.30, 0.25),
    "pain-activity-improved": (0.30, 0.25),
    "back-to-work": (0.30, 0.25),
    "back-to-work-or-less-sick-leave": (0.30, 0.25),
    "perceived-benefit": (0.30, 0.25),
    "satisfied-or-neutral": (0.90, 0.80),
    "coping-talk": (0.95, 0.85),
    "response-6m": (None, None),
    "response-12m": (None, None),
}
SD = "https://ryggrad.no/fhir/StructureDefinition/"


def _extension(measure: dict, name: str) -> object:
    return next((e for e in measure.get("extension", []) if e["url"] == SD + name), None)


def _value(measure: dict, name: str) -> float | None:
    found = _extension(measure, name)
    return found["valueDecimal"] if found else None


@pytest.fixture(scope="module")
def measures(server: FhirServer) -> dict[str, dict]:
    """The NNRR Measures of the conformance package the server loaded."""
    found = server.definitions.resources_of_type("Measure")
    return {
        m["id"].removeprefix("nnrr-"): m for m in found if m["url"].startswith("https://ryggrad.no/fhir/Measure/nnrr-")
    }


def test_every_indicator_of_the_rules_is_a_measure_with_its_levels(measures):
    assert set(TARGETS) <= set(measures)
    for key, (target, minimum) in TARGETS.items():
        assert (_value(measures[key], "target-level"), _value(measures[key], "minimum-level")) == (target, minimum), key


def test_follow_up_indicators_are_attributed_to_visit_date_plus_six_months(measures):
    offsets = {k: _extension(m, "attribution-offset")["valueDuration"]["value"] for k, m in measures.items()}
    assert offsets["odi-improved"] == offsets["satisfied-or-neutral"] == offsets["response-6m"] == 6
    assert offsets["response-12m"] == 12 and offsets["interdisciplinary-treatment"] == 0


def test_the_measures_conform_to_the_registry_measure_profile(client: TestClient, measures):
    for key, measure in measures.items():
        outcome = client.post("/fhir/Measure/$validate", json=measure).json()
        errors = [i["diagnostics"] for i in outcome.get("issue", []) if i["severity"] in ("error", "fatal")]
        assert errors == [], key
        codes = [p["code"]["coding"][0]["code"] for p in measure["group"][0]["population"]]
        assert codes == ["denominator", "numerator"]
        assert all(p["criteria"]["language"] == "application/sql" for p in measure["group"][0]["population"])
