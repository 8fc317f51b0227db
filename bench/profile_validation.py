"""Validation cost per resource, on one core: the checks a write makes, beside parsing the same JSON with the
``fhir.resources`` R4B models alone. Not a test.

    .venv/bin/python -m bench.profile_validation [--repeat 2000] [--output bench/results]

Inputs: the Implementation Guide's registry examples (Patient, Appointment), and a registry-sized
QuestionnaireResponse — 60 answers in 6 groups (choices with options, integers, dates, strings, an enableWhen) —
against its Questionnaire. Targets (issue 5): median < 5 ms per QuestionnaireResponse, < 2 ms per Appointment.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from bench import REPO_ROOT
from bench.machine import describe
from bench.report import record
from fhir_server.definitions.registry import default_definitions
from fhir_server.validation.profile import ProfileValidator
from fhir_server.validation.questionnaire_response import QuestionnaireResponseValidator
from fhir_server.validation.structure import ResourceValidator

EXAMPLES = REPO_ROOT / "ig" / "examples" / "valid"
QR_PROFILE = "https://ryggrad.no/fhir/StructureDefinition/registry-questionnaire-response"
OPTIONS = [{"valueCoding": {"system": "urn:bench:scale", "code": str(n), "display": f"Level {n}"}} for n in range(5)]


def questionnaire_and_response() -> tuple[dict[str, Any], dict[str, Any]]:
    """A 60-question form in 6 groups and a completed response answering every question."""
    url = "https://ryggrad.no/fhir/Questionnaire/bench-form"
    groups, answers = [], []
    for g in range(6):
        items, given = [], []
        for q in range(10):
            link = f"g{g}.q{q}"
            kind = ("choice", "integer", "date", "string", "choice")[q % 5]
            item: dict[str, Any] = {"linkId": link, "text": f"Question {link}", "type": kind, "required": True}
            if kind == "choice":
                item["answerOption"] = OPTIONS
                value: dict[str, Any] = {"valueCoding": OPTIONS[q % 5]["valueCoding"]}
            elif kind == "integer":
                item["extension"] = [
                    {"url": "http://hl7.org/fhir/StructureDefinition/minValue", "valueInteger": 0},
                    {"url": "http://hl7.org/fhir/StructureDefinition/maxValue", "valueInteger": 10},
                ]
                value = {"valueInteger": q % 10}
            elif kind == "date":
                value = {"valueDate": date(2026, 1, 1 + q).isoformat()}
            else:
                item["maxLength"] = 200
                value = {"valueString": f"answer {link}"}
            if q == 9:
                item["enableWhen"] = [{"question": f"g{g}.q0", "operator": "exists", "answerBoolean": True}]
            items.append(item)
            given.append({"linkId": link, "answer": [value]})
        groups.append({"linkId": f"g{g}", "type": "group", "text": f"Part {g}", "item": items})
        answers.append({"linkId": f"g{g}", "item": given})
    questionnaire = {"resourceType": "Questionnaire", "url": url, "version": "1", "status": "active", "item": groups}
    response = {
        "resourceType": "QuestionnaireResponse",
        "meta": {"profile": [QR_PROFILE]},
        "questionnaire": f"{url}|1",
        "status": "completed",
        "subject": {"reference": "Patient/example-patient"},
        "authored": "2026-02-01T18:30:00+01:00",
        "item": answers,
    }
    return questionnaire, response


def median_us(run: Callable[[], Any], repeat: int) -> float:
    for _ in range(min(50, repeat)):
        run()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e6


def _model(resource_type: str) -> Any:
    module = __import__(f"fhir.resources.R4B.{resource_type.lower()}", fromlist=[resource_type])
    return getattr(module, resource_type)


def measure(repeat: int) -> list[dict[str, Any]]:
    definitions = default_definitions()
    structure, profiles = ResourceValidator(definitions), ProfileValidator(definitions)
    responses = QuestionnaireResponseValidator(definitions)
    questionnaire, response = questionnaire_and_response()
    inputs = [
        ("Patient", json.loads((EXAMPLES / "Patient-example-patient.json").read_text()), None),
        ("Appointment", json.loads((EXAMPLES / "Appointment-example-appointment.json").read_text()), None),
        ("QuestionnaireResponse (60 answers)", response, questionnaire),
    ]
    rows = []
    for label, resource, form in inputs:
        profile = resource["meta"]["profile"][0]
        model = _model(resource["resourceType"])
        for check in (structure.validate(resource), profiles.validate(resource, profile)):
            assert not [i for i in check if i.severity == "error"], (label, check)
        if form is not None:
            assert not responses.validate(resource, form)

        def full(resource: dict = resource, profile: str = profile, form: dict | None = form) -> None:
            structure.validate(resource)
            profiles.validate(resource, profile)
            if form is not None:
                responses.validate(resource, form)

        rows.append(
            {
                "input": label,
                "fhir_resources_parse_us": median_us(lambda r=resource, m=model: m.parse_obj(r), repeat),
                "r4_rules_us": median_us(lambda r=resource: structure.validate(r), repeat),
                "with_profile_us": median_us(full, repeat),
            }
        )
    return rows


def markdown(rows: list[dict[str, Any]], machine: dict[str, Any], repeat: int) -> str:
    lines = [
        "# Validation cost per resource (one core)",
        "",
        f"- Machine: {machine['cpu']}, {machine['cores']} cores; Python {machine['python']}; "
        f"commit {machine['commit']}; {machine['date']}",
        f"- Median of {repeat:,} runs each, after a warm-up; `python -m bench.profile_validation`",
        "- With profile = R4 rules + the registry profile (+ the Questionnaire, for the response): what a write checks",
        "",
        "| Input | fhir.resources R4B parse µs | R4 rules µs | With profile µs | Target | Met |",
        "|---|---:|---:|---:|---|---|",
    ]
    targets = {"Appointment": 2000.0, "QuestionnaireResponse (60 answers)": 5000.0}
    for row in rows:
        target = targets.get(row["input"])
        met = "n/a" if target is None else ("yes" if row["with_profile_us"] < target else "**no**")
        lines.append(
            f"| {row['input']} | {row['fhir_resources_parse_us']:,.0f} | {row['r4_rules_us']:,.0f} | "
            f"{row['with_profile_us']:,.0f} | {'< ' + format(target / 1000, 'g') + ' ms' if target else '-'} | {met} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=2000)
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "bench" / "results")
    args = parser.parse_args()
    rows = measure(args.repeat)
    machine = describe()
    text = markdown(rows, machine, args.repeat)
    print(text)
    record("validation", text, {"machine": machine, "rows": rows}, args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
