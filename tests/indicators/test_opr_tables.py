"""The OPR annual tables computed from registry data written through the API: referrals by decision and level
(T10, T11), baseline response (T12, T13), the time to complete the baseline with the rules' own figures (T14),
short baselines by reason (T15) and follow-up response rates with P4 exclusions left out."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fhir_server.indicators.opr_tables import clock_time, opr_tables
from tests.indicators.cohort import form, response
from tests.rest.helpers import unique

SD = "https://ryggrad.no/fhir/StructureDefinition/"
CS = "https://ryggrad.no/fhir/CodeSystem/"
YEAR = 2022
T14_MS = [446387, 1364144, 1889351, 2733331, 16085636]  # the rules' table: min, Q1, median, Q3, max


def _referral(rid: str, unit: str, patient: str, decision: str | None, day: str | None, level: str | None) -> dict:
    extension: list[dict[str, Any]] = []
    if level:
        extension.append(
            {"url": SD + "referral-level", "valueCoding": {"system": CS + "referral-level", "code": level}}
        )
    if decision:
        extension.append(
            {
                "url": SD + "referral-decision",
                "extension": [
                    {"url": "decision", "valueCoding": {"system": CS + "referral-decision", "code": decision}},
                    {"url": "date", "valueDate": day},
                ],
            }
        )
    return {
        "resourceType": "ServiceRequest",
        "id": rid,
        "meta": {"profile": [SD + "registry-referral"]},
        "extension": extension,
        "status": "completed" if decision else "active",
        "intent": "order",
        "subject": {"reference": f"Patient/{patient}"},
        "authoredOn": f"{YEAR}-01-02",
        "performer": [{"reference": f"Organization/{unit}"}],
    }


def _task(tid: str, episode: str, patient: str, questionnaire: str, action: str, **fields: Any) -> dict:
    return {
        "resourceType": "Task",
        "id": tid,
        "extension": [{"url": SD + "episode", "valueReference": {"reference": f"EpisodeOfCare/{episode}"}}],
        "status": fields.pop("status", "completed"),
        "intent": "order",
        "code": {
            "coding": [
                {"system": CS + "registry-timepoint", "code": "baseline" if action == "baseline" else "follow-up"}
            ],
            "text": action,
        },
        "focus": {"reference": questionnaire},
        "for": {"reference": f"Patient/{patient}"},
        **fields,
    }


def write_opr_year(client) -> str:
    """A year of one OPR clinic's data (referrals, episodes, baseline and follow-up forms, short baselines),
    written through the API; the clinic's Organization id."""
    unit, prefix = unique("opr-unit"), unique("opr")
    entries: list[dict[str, Any]] = []

    def put(resource: dict[str, Any]) -> None:
        entries.append(
            {"resource": resource, "request": {"method": "PUT", "url": f"{resource['resourceType']}/{resource['id']}"}}
        )

    put({"resourceType": "Organization", "id": unit})
    decisions = [("accepted", "local")] * 3 + [("accepted", "regional")] * 4 + [("accepted", "national")]
    decisions += [("accepted", None), ("rejected", "local"), ("rejected", "local"), ("rejected", "regional")]
    for n, (decision, level) in enumerate(decisions):
        put({"resourceType": "Patient", "id": f"{prefix}-r{n}"})
        put(_referral(f"{prefix}-r{n}", unit, f"{prefix}-r{n}", decision, f"{YEAR}-03-0{1 + n % 9}", level))
    put(_referral(f"{prefix}-old", unit, f"{prefix}-r0", "rejected", f"{YEAR - 1}-12-30", "local"))  # another year
    put(_referral(f"{prefix}-open", unit, f"{prefix}-r1", None, None, "local"))  # not assessed yet

    baseline = "https://ryggrad.no/fhir/Questionnaire/opr-baseline"
    follow_up = "https://ryggrad.no/fhir/Questionnaire/opr-follow-up"
    start = datetime(YEAR, 5, 2, 8, 0, 0)
    for n, ms in enumerate(T14_MS):
        patient, episode = f"{prefix}-p{n}", f"{prefix}-e{n}"
        put({"resourceType": "Patient", "id": patient})
        visit = f"{YEAR}-05-{10 + n}" if n < 4 else f"{YEAR - 1}-11-20"  # the fifth patient is not new this year
        put(
            {
                "resourceType": "EpisodeOfCare",
                "id": episode,
                "extension": [
                    {"url": SD + "registry", "valueCoding": {"system": CS + "registry", "code": "opr"}},
                    {"url": SD + "visit-date", "valueDate": visit},
                ],
                "status": "active",
                "patient": {"reference": f"Patient/{patient}"},
                "managingOrganization": {"reference": f"Organization/{unit}"},
            }
        )
        period = {"start": start.isoformat() + "Z", "end": (start + timedelta(milliseconds=ms)).isoformat() + "Z"}
        put(_task(f"{episode}-baseline", episode, patient, baseline, "baseline", executionPeriod=period))
    put(
        {
            **_task(f"{prefix}-e0-rf3", f"{prefix}-e0", f"{prefix}-p0", follow_up, "rf-3m"),
            "restriction": {"period": {"start": f"{YEAR}-08-01T09:00:00Z"}},
        }
    )
    put(
        {
            **_task(f"{prefix}-e1-rf3", f"{prefix}-e1", f"{prefix}-p1", follow_up, "rf-3m"),
            "restriction": {"period": {"start": f"{YEAR}-08-02T09:00:00Z"}},
        }
    )
    put(
        {
            **_task(f"{prefix}-e2-rf3", f"{prefix}-e2", f"{prefix}-p2", follow_up, "rf-3m", status="ready"),
            "restriction": {"period": {"start": f"{YEAR}-08-03T09:00:00Z"}},
        }
    )
    excluded = _task(f"{prefix}-e3-rf3", f"{prefix}-e3", f"{prefix}-p3", follow_up, "rf-3m", status="cancelled")
    excluded["statusReason"] = {"coding": [{"system": CS + "registry-exclusion", "code": "interpreter"}]}
    put({**excluded, "restriction": {"period": {"start": f"{YEAR}-08-04T09:00:00Z"}}})
    put(
        {
            **_task(f"{prefix}-e4-yearly", f"{prefix}-e4", f"{prefix}-p4", follow_up, "yearly"),
            "restriction": {"period": {"start": f"{YEAR}-11-01T09:00:00Z"}},
        }
    )
    for n, reason in enumerate(["no-device", "no-device", "forgot"]):
        short = response(form("opr-short-baseline"), {"short-reason": [reason]})
        put(
            {
                **short,
                "id": f"{prefix}-s{n}",
                "subject": {"reference": f"Patient/{prefix}-p{n}"},
                "authored": f"{YEAR}-06-0{n + 1}T10:00:00Z",
            }
        )
    answer = client.post("/fhir", json={"resourceType": "Bundle", "type": "transaction", "entry": entries})
    assert answer.status_code == 200, answer.text[:3000]

    return unit


def test_the_opr_tables_for_a_year(server, client):
    unit = write_opr_year(client)
    tables = opr_tables(server, YEAR, unit=f"Organization/{unit}")
    assert (tables.assessed, tables.rejected) == (12, 3)  # T10: the 2021 decision and the open referral left out
    assert tables.rejected_share == 3 / 12
    accepted = tables.accepted_by_level  # T11: shares over local, regional and national; blank to the total
    assert accepted.counts == {"local": 3, "regional": 4, "national": 1} and accepted.other == 1
    assert (accepted.base, accepted.total, accepted.share("regional")) == (8, 9, 0.5)
    assert tables.rejected_by_level.counts == {"local": 2, "regional": 1, "national": 0}
    assert tables.rejected_by_level.total == 3
    assert (tables.baselines_received, tables.given_right) == (5, 9)  # T12
    assert (tables.baseline_patients, tables.new_patients) == (5, 4)  # T13
    assert tables.durations is not None and tables.durations.milliseconds == T14_MS  # T14
    assert tables.durations.clock == ["00:07:26", "00:22:44", "00:31:29", "00:45:33", "04:28:05"]
    assert tables.short_reasons == {"no-device": 2, "forgot": 1}  # T15
    assert tables.follow_up == {"rf-3m": (2, 3), "yearly": (1, 1)}  # the excluded form is not due


def test_clock_time_truncates():
    assert clock_time(16085636) == "04:28:05" and clock_time(999) == "00:00:00" and clock_time(3_599_999) == "00:59:59"
