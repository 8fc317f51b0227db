"""Throughput of the SQL-on-FHIR ViewDefinition runner (``fhir_server.views``) on one core. Not a test.

    .venv/bin/python -m bench.views_runner [--responses 20000] [--items 12] [--passes 3] [--output bench/results]

Synthetic QuestionnaireResponses (a PROM form: integer, coded, decimal and free-text answers) are run
through two views of 10 columns each: one row per response, and one row per answered item (forEach).
Prints and records rows/s and responses/s (best of the passes) in ``bench/results/<date>-views-runner.{md,json}``.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path
from typing import Any

from bench import RESULTS_DIR
from bench.machine import describe
from bench.report import record
from fhir_server.views.plan import compile_view
from fhir_server.views.runner import run_compiled

QUESTIONNAIRE = "https://ryggrad.no/fhir/Questionnaire/odi"


def synthetic_responses(count: int, items: int, seed: int = 7) -> list[dict[str, Any]]:
    """`count` completed responses with `items` answers each, deterministic for a seed."""
    rng = random.Random(seed)
    responses = []
    for number in range(count):
        answers = []
        for index in range(items):
            kind = index % 4
            if kind == 0:
                answer: dict[str, Any] = {"valueInteger": rng.randint(0, 10)}
            elif kind == 1:
                code = str(rng.randint(0, 5))
                answer = {"valueCoding": {"system": "https://ryggrad.no/fhir/CodeSystem/odi", "code": code}}
            elif kind == 2:
                answer = {"valueDecimal": round(rng.uniform(0, 100), 1)}
            else:
                answer = {"valueString": rng.choice(["", "vondt om morgenen", "bedre", "uendret"])}
            answers.append({"linkId": f"q{index + 1}", "text": f"Spørsmål {index + 1}", "answer": [answer]})
        responses.append(
            {
                "resourceType": "QuestionnaireResponse",
                "id": f"qr{number}",
                "meta": {"versionId": "1", "lastUpdated": "2026-11-01T10:00:00Z"},
                "questionnaire": QUESTIONNAIRE,
                "status": rng.choice(["completed", "completed", "completed", "in-progress"]),
                "subject": {"reference": f"Patient/p{rng.randint(1, count // 4 + 1)}"},
                "encounter": {"reference": f"Encounter/e{number}"},
                "authored": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T10:{number % 60:02d}:00+01:00",
                "author": {"reference": "Organization/974589095"},
                "item": answers,
            }
        )
    return responses


PER_RESPONSE_VIEW: dict[str, Any] = {
    "resourceType": "ViewDefinition",
    "resource": "QuestionnaireResponse",
    "name": "response",
    "where": [{"path": "status = 'completed'"}],
    "select": [
        {
            "column": [
                {"name": "response_key", "path": "getResourceKey()"},
                {"name": "questionnaire", "path": "questionnaire"},
                {"name": "status", "path": "status"},
                {"name": "authored", "path": "authored"},
                {"name": "patient_key", "path": "subject.getReferenceKey(Patient)"},
                {"name": "encounter", "path": "encounter.reference"},
                {"name": "q1", "path": "item.where(linkId = 'q1').answer.value.ofType(integer).first()"},
                {"name": "q2", "path": "item.where(linkId = 'q2').answer.value.ofType(Coding).code.first()"},
                {"name": "q3", "path": "item.where(linkId = 'q3').answer.value.ofType(decimal).first()"},
                {"name": "answered", "path": "item.answer.count()"},
            ]
        }
    ],
}

PER_ANSWER_VIEW: dict[str, Any] = {
    "resourceType": "ViewDefinition",
    "resource": "QuestionnaireResponse",
    "name": "answer",
    "select": [
        {
            "column": [
                {"name": "response_key", "path": "getResourceKey()"},
                {"name": "questionnaire", "path": "questionnaire"},
                {"name": "status", "path": "status"},
                {"name": "authored", "path": "authored"},
                {"name": "patient_key", "path": "subject.getReferenceKey(Patient)"},
            ]
        },
        {
            "forEach": "item",
            "column": [
                {"name": "link_id", "path": "linkId"},
                {"name": "value_integer", "path": "answer.value.ofType(integer).first()"},
                {"name": "value_code", "path": "answer.value.ofType(Coding).code.first()"},
                {"name": "value_decimal", "path": "answer.value.ofType(decimal).first()"},
                {"name": "value_string", "path": "answer.value.ofType(string).first()"},
            ],
        },
    ],
}


def measure(view: dict[str, Any], responses: list[dict[str, Any]], passes: int) -> dict[str, Any]:
    compiled = compile_view(view)
    best, rows = float("inf"), 0
    for _ in range(passes):
        started = time.perf_counter()
        rows = sum(1 for _ in run_compiled(compiled, responses))
        best = min(best, time.perf_counter() - started)
    return {
        "view": view["name"],
        "columns": len(compiled.column_names),
        "responses": len(responses),
        "rows": rows,
        "seconds": best,
        "rows_per_s": rows / best,
        "responses_per_s": len(responses) / best,
    }


def markdown(results: list[dict[str, Any]], machine: dict[str, Any], items: int, passes: int) -> str:
    lines = [
        "# ViewDefinition runner throughput (one core, in memory)",
        "",
        f"- Machine: {machine['cpu']}, {machine['cores']} cores; Python {machine['python']}; "
        f"commit {machine['commit']}; {machine['date']}",
        f"- Synthetic QuestionnaireResponses with {items} answers each; best of {passes} passes; "
        "`python -m bench.views_runner`",
        "- `response`: one row per completed response (where + 10 columns, 3 of them `item.where(linkId=…)`); "
        "`answer`: one row per item (forEach, 10 columns)",
        "",
        "| View | Columns | Responses | Rows | Seconds | Rows/s | Responses/s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['view']} | {r['columns']} | {r['responses']:,} | {r['rows']:,} | {r['seconds']:.2f} | "
            f"{r['rows_per_s']:,.0f} | {r['responses_per_s']:,.0f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--responses", type=int, default=20_000)
    parser.add_argument("--items", type=int, default=12)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--output", type=Path, default=RESULTS_DIR)
    parser.add_argument("--no-record", action="store_true", help="print only")
    args = parser.parse_args()
    responses = synthetic_responses(args.responses, args.items)
    results = [measure(view, responses, args.passes) for view in (PER_RESPONSE_VIEW, PER_ANSWER_VIEW)]
    machine = describe()
    text = markdown(results, machine, args.items, args.passes)
    print(text)
    if not args.no_record:
        record("views-runner", text, {"machine": machine, "results": results}, args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
