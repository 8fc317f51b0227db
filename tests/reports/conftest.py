"""A synthetic NNRR cohort for the report tests, written through the API and scored by the worker: two named units
with RESH ids and organisation numbers, episodes with visits in 2016 and 2017 (no other test's), two thirds of them
at the reporting unit so that its annual numbers pass the N<30 rule while its quarters often do not."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from fhir_server.norway.identifiers import ORGNR_SYSTEM, RESH_SYSTEM, orgnr_control_digit
from fhir_server.subscriptions.delivery import deliver
from tests.indicators.cohort import random_cases, write
from tests.rest.helpers import unique
from workers.registry.subscriptions import INTERNAL, ensure_subscriptions

YEARS = (2016, 2017)


@dataclass(frozen=True)
class Unit:
    id: str
    name: str
    resh: str
    orgnr: str

    @property
    def reference(self) -> str:
        return f"Organization/{self.id}"

    def resource(self) -> dict:
        return {
            "resourceType": "Organization",
            "id": self.id,
            "name": self.name,
            "identifier": [{"system": RESH_SYSTEM, "value": self.resh}, {"system": ORGNR_SYSTEM, "value": self.orgnr}],
        }


def _orgnr(first_eight: str) -> str:
    for start in range(int(first_eight), int(first_eight) + 50):
        digit = orgnr_control_digit(str(start))
        if digit is not None:
            return f"{start}{digit}"
    raise AssertionError("no valid organisation number")


@dataclass(frozen=True)
class ReportWorld:
    unit: Unit
    other: Unit


@pytest.fixture(scope="session")
def report_world(server, client) -> ReportWorld:
    digits = f"{random.randrange(10_000):04d}"  # tests share databases: RESH ids and orgnrs of their own
    unit = Unit(unique("report-unit"), "Ryggpoliklinikken Fjellby", f"98{digits}1", _orgnr(f"9{digits}111"))
    other = Unit(unique("report-other"), "Nakkesenteret Strandvik", f"98{digits}2", _orgnr(f"9{digits}222"))
    for organization in (unit, other):
        answer = client.put(f"/fhir/Organization/{organization.id}", json=organization.resource())
        assert answer.is_success, answer.text
    ensure_subscriptions(server)  # the scoring worker scores the forms
    try:
        for n, year in enumerate(YEARS):
            cases = random_cases(7000 + year, [unit.id, unit.id, other.id], 150, year)
            write(client, cases, unique(f"report-cohort-{n}"))
        while deliver(server, "registry-scores") != "done":
            pass
    finally:
        for sid, *_ in INTERNAL:
            client.delete(f"/fhir/Subscription/{sid}")
    return ReportWorld(unit, other)
