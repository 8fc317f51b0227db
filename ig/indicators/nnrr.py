"""NNRR's quality indicators (registry rules, section 5) as FHIR Measures: one table row an indicator.

Each Measure is a proportion over NNRR episodes. Its populations are SQL conditions (``application/sql``) over one
row of facts per episode — the relation its Library (``Library/nnrr-indicator-facts``) builds from the registry's
SQL-on-FHIR views; the evaluator counts, per unit and period, the episodes meeting the denominator and those also
meeting the numerator. An episode counts in the period of its visit date moved by the Measure's
``attribution-offset`` (follow-up indicators: the year of visit date + 6 months). Targets and minimum levels are the
registry's; without them an indicator is reported only.

Improvements are compared without division, so that the spec's boundary cases hold exactly: ODI 40 → 28 is a 30 %
improvement (counted), 40 → 29 is not.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CANONICAL = "https://ryggrad.no/fhir/"
SD = CANONICAL + "StructureDefinition/"
VERSION = "1.0.0"
LIBRARY = CANONICAL + "Library/nnrr-indicator-facts"
POPULATION = "http://terminology.hl7.org/CodeSystem/measure-population"


def _improved(pre: str, after: str, share: int = 30) -> str:
    """``after`` at least ``share`` % below a non-zero ``pre`` (compared in whole numbers, no division)."""
    return f"ROUND(CAST(100 * ({pre} - {after}) AS NUMERIC), 6) >= ROUND(CAST({share} * {pre} AS NUMERIC), 6)"


def _both(pre: str, after: str) -> str:
    return f"{pre} IS NOT NULL AND {after} IS NOT NULL"


BACK_TO_WORK = "working_6m = 1 AND sick_leave_6m = 0 AND aap_6m = 0"


@dataclass(frozen=True)
class Indicator:
    key: str
    title: str  # bokmål, as the reports show it
    description: str
    denominator: str
    numerator: str
    target: float | None = None
    minimum: float | None = None
    offset_months: int = 0  # attribution: the period of visit date + this many months
    entered_denominator: bool = False  # a unit's entered denominator for a period wins over the counted one


INDICATORS = (
    Indicator(
        "interdisciplinary-treatment",
        "Tverrfaglig behandling",
        "Share of finalised clinician forms where the patient was given interdisciplinary treatment, individually "
        "or in a group.",
        "clinician_final = 1",
        "interdisciplinary_treatment = 1",
        target=0.30,
    ),
    Indicator(
        "odi-improved",
        "Bedre funksjon (ODI) etter 6 måneder",
        "Share of episodes with ODI before and at 6 months (ODI before above 0) whose ODI fell by 30 % or more.",
        f"{_both('odi_pre', 'odi_6m')} AND odi_pre > 0",
        _improved("odi_pre", "odi_6m"),
        0.30,
        0.25,
        6,
    ),
    Indicator(
        "odi-minimal",
        "Minimal funksjonsnedsettelse (ODI ≤ 23) etter 6 måneder",
        "Share of episodes with ODI before and at 6 months whose ODI at 6 months is 23 or lower.",
        _both("odi_pre", "odi_6m"),
        "odi_6m <= 23",
        0.30,
        0.25,
        6,
    ),
    Indicator(
        "pain-rest-improved",
        "Mindre smerte i hvile etter 6 måneder",
        "Share of episodes with pain at rest before (above 0) and at 6 months whose pain fell by 30 % or more.",
        f"{_both('pain_rest_pre', 'pain_rest_6m')} AND pain_rest_pre <> 0",
        _improved("pain_rest_pre", "pain_rest_6m"),
        0.30,
        0.25,
        6,
    ),
    Indicator(
        "pain-activity-improved",
        "Mindre smerte i aktivitet etter 6 måneder",
        "Share of episodes with pain in activity before (above 0) and at 6 months whose pain fell by 30 % or more.",
        f"{_both('pain_activity_pre', 'pain_activity_6m')} AND pain_activity_pre <> 0",
        _improved("pain_activity_pre", "pain_activity_6m"),
        0.30,
        0.25,
        6,
    ),
    Indicator(
        "back-to-work",
        "Tilbake i arbeid etter 6 måneder",
        "Share of patients employed and on sick leave before the consultation, with a 6-month form, who at 6 months "
        "work and are neither on sick leave nor on work assessment allowance (AAP).",
        "working_pre = 1 AND sick_leave_pre = 1 AND form_6m = 1",
        BACK_TO_WORK,
        0.30,
        0.25,
        6,
    ),
    Indicator(
        "back-to-work-or-less-sick-leave",
        "Tilbake i arbeid eller lavere sykmeldingsgrad etter 6 måneder",
        "As back-to-work, or on a lower sick-leave percentage at 6 months than before.",
        "working_pre = 1 AND sick_leave_pre = 1 AND form_6m = 1",
        f"({BACK_TO_WORK}) OR (sick_leave_6m = 1 AND sick_leave_percent_6m < sick_leave_percent_pre)",
        0.30,
        0.25,
        6,
    ),
    Indicator(
        "perceived-benefit",
        "Opplevd nytte etter 6 måneder",
        "Share of 6-month forms with global perceived effect answered (1-7) that answer 1-3 (better).",
        "gpe_6m BETWEEN 1 AND 7",
        "gpe_6m <= 3",
        0.30,
        0.25,
        6,
    ),
    Indicator(
        "satisfied-or-neutral",
        "Fornøyd eller nøytral etter 6 måneder",
        "Share of 6-month forms with satisfaction answered (1-5) that answer 1-3.",
        "satisfaction_6m BETWEEN 1 AND 5",
        "satisfaction_6m <= 3",
        0.90,
        0.80,
        6,
    ),
    Indicator(
        "response-6m",
        "Svarprosent 6 måneder",
        "Share of finalised clinician forms with the visit date from 1 July the year before to 30 June whose "
        "6-month form was received (follow-ups excluded by the rules not counted).",
        "clinician_final = 1 AND excluded_6m = 0",
        "form_6m = 1",
        offset_months=6,
    ),
    Indicator(
        "response-12m",
        "Svarprosent 12 måneder",
        "Share of finalised clinician forms with the visit date in the year before whose 12-month form was received "
        "(follow-ups excluded by the rules not counted).",
        "clinician_final = 1 AND excluded_12m = 0",
        "form_12m = 1",
        offset_months=12,
    ),
    Indicator(
        "response-both",
        "Svarprosent 6 og 12 måneder",
        "Share of finalised clinician forms with the visit date in the year before whose 6- and 12-month forms "
        "were both received.",
        "clinician_final = 1 AND excluded_6m = 0 AND excluded_12m = 0",
        "form_6m = 1 AND form_12m = 1",
        offset_months=12,
    ),
    Indicator(
        "coverage",
        "Dekningsgrad",
        "Patients registered in NNRR (a finalised clinician form) among the patients referred to the unit who "
        "attended (N23): the denominator is the unit's own count for the period where the unit has entered one (a "
        "data-collection MeasureReport), else the episodes whose patient attended a flagged appointment. Units "
        "below 60 % are flagged in every report.",
        "visit_date IS NOT NULL",
        "clinician_final = 1",
        entered_denominator=True,
    ),
    Indicator(
        "waiting-time",
        "Ventetid fra henvisning til time inntil 50 dager",
        "Share of finalised clinician forms with a known wait above 0 days whose wait from referral to the visit "
        "was 50 days or less.",
        "clinician_final = 1 AND waiting_days > 0",
        "waiting_days <= 50",
    ),
    Indicator(
        "coping-talk",
        "Mestringssamtale",
        "Share of finalised clinician forms where the patient was given a talk on coping.",
        "clinician_final = 1",
        "coping_talk = 1",
        0.95,
        0.85,
    ),
    Indicator(
        "interdisciplinary-assessment",
        "Tverrfaglig vurdering",
        "Share of finalised clinician forms where two or more professions assessed the patient.",
        "clinician_final = 1",
        "professions >= 2",
    ),
    Indicator(
        "yellow-flags",
        "Gule flagg (2-3)",
        "Share of finalised clinician forms with yellow flags graded 2 or 3.",
        "clinician_final = 1 AND yellow_flags IS NOT NULL",
        "yellow_flags >= 2",
    ),
    Indicator(
        "psychological-distress",
        "Psykiske plager (HSCL-10 ≥ 1,85)",
        "Share of pre-consultation forms with a valid HSCL-10 score of 1.85 or more.",
        "clinician_final = 1 AND hscl10_pre IS NOT NULL",
        "hscl10_pre >= 1.85",
    ),
    Indicator(
        "long-pain-duration",
        "Smertevarighet over 2 år",
        "Share of pre-consultation forms with pain duration answered where the pain has lasted more than 2 years.",
        "clinician_final = 1 AND pain_duration_pre IS NOT NULL",
        "pain_duration_pre = 'gt2y'",
    ),
    Indicator(
        "odi-improved-10",
        "Bedre funksjon (ODI ned 10 poeng) etter 6 måneder",
        "Alternative definition: ODI at 6 months at least 10 points below ODI before.",
        _both("odi_pre", "odi_6m"),
        "odi_pre - odi_6m >= 10",
        offset_months=6,
    ),
    Indicator(
        "ndi-improved-10",
        "Bedre funksjon (NDI ned 10 poeng) etter 6 måneder",
        "Alternative definition: NDI (%) at 6 months at least 10 points below NDI before.",
        _both("ndi_pre", "ndi_6m"),
        "ndi_pre - ndi_6m >= 10",
        offset_months=6,
    ),
    Indicator(
        "pain-rest-improved-2",
        "Mindre smerte i hvile (2 poeng) etter 6 måneder",
        "Alternative definition: pain at rest at 6 months at least 2 points below before.",
        _both("pain_rest_pre", "pain_rest_6m"),
        "pain_rest_pre - pain_rest_6m >= 2",
        offset_months=6,
    ),
    Indicator(
        "pain-activity-improved-2",
        "Mindre smerte i aktivitet (2 poeng) etter 6 måneder",
        "Alternative definition: pain in activity at 6 months at least 2 points below before.",
        _both("pain_activity_pre", "pain_activity_6m"),
        "pain_activity_pre - pain_activity_6m >= 2",
        offset_months=6,
    ),
)


def _population(code: str, expression: str) -> dict[str, Any]:
    return {
        "code": {"coding": [{"system": POPULATION, "code": code}]},
        "criteria": {"language": "application/sql", "expression": expression},
    }


def measure(indicator: Indicator) -> dict[str, Any]:
    extension: list[dict[str, Any]] = [
        {"url": SD + "registry", "valueCoding": {"system": CANONICAL + "CodeSystem/registry", "code": "nnrr"}}
    ]
    if indicator.target is not None:
        extension.append({"url": SD + "target-level", "valueDecimal": indicator.target})
    if indicator.minimum is not None:
        extension.append({"url": SD + "minimum-level", "valueDecimal": indicator.minimum})
    if indicator.entered_denominator:
        extension.append({"url": SD + "entered-denominator", "valueBoolean": True})
    extension.append(
        {
            "url": SD + "attribution-offset",
            "valueDuration": {
                "value": indicator.offset_months,
                "unit": "months",
                "system": "http://unitsofmeasure.org",
                "code": "mo",
            },
        }
    )
    key = f"nnrr-{indicator.key}"
    return {
        "resourceType": "Measure",
        "id": key,
        "meta": {"profile": [SD + "registry-measure"]},
        "extension": extension,
        "url": CANONICAL + "Measure/" + key,
        "version": VERSION,
        "name": "".join(part.capitalize() for part in key.split("-")),
        "title": indicator.title,
        "status": "active",
        "description": indicator.description,
        "library": [LIBRARY],
        "scoring": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-scoring", "code": "proportion"}]
        },
        "improvementNotation": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/measure-improvement-notation", "code": "increase"}
            ]
        },
        "group": [
            {
                "population": [
                    _population("denominator", indicator.denominator),
                    _population("numerator", indicator.numerator),
                ]
            }
        ],
    }


#: The views the facts are built from (mappings/views/), each materialized as a table ``view_<name>``.
VIEWS = ("registry_episode", "registry_form_task", "nnrr_clinician_form", "nnrr_patient_form", "registry_score")
FACTS_SQL = Path(__file__).with_name("nnrr_facts.sql")


def library() -> dict[str, Any]:
    """The facts the NNRR Measures count: an SQL query over the registry's views, one row per episode."""
    sql = FACTS_SQL.read_text(encoding="utf-8")
    return {
        "resourceType": "Library",
        "id": "nnrr-indicator-facts",
        "url": LIBRARY,
        "version": VERSION,
        "name": "NnrrIndicatorFacts",
        "title": "NNRR: fakta per forløp for kvalitetsindikatorene",
        "status": "active",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/library-type", "code": "logic-library"}]},
        "description": "One row per NNRR episode (not entered in error): the unit, the visit date, the finalised "
        "clinician form's variables, and the newest finalised patient form before the consultation, at 6 and at 12 "
        "months with their scores; the columns the NNRR Measures' population criteria name.",
        "relatedArtifact": [
            {"type": "depends-on", "resource": f"https://ryggrad.no/fhir/ViewDefinition/{name}"} for name in VIEWS
        ],
        "content": [
            {
                "contentType": "application/sql",
                "title": "NNRR indicator facts",
                "data": base64.b64encode(sql.encode("utf-8")).decode("ascii"),
            }
        ],
    }


def build() -> list[dict[str, Any]]:
    return [measure(indicator) for indicator in INDICATORS]
