"""A synthetic NNRR cohort for the indicator tests, written once per backend (see ``cohort.py``)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from fhir_server.subscriptions.delivery import deliver
from tests.indicators.cohort import Case, random_cases, write
from tests.rest.helpers import unique
from workers.registry.subscriptions import INTERNAL, ensure_subscriptions

YEAR = 2019  # no other test's episodes have visits then: the national counts are this cohort's


@pytest.fixture(scope="package")
def measures(server) -> dict[str, dict[str, Any]]:
    prefix = "https://ryggrad.no/fhir/Measure/nnrr-"
    return {
        m["url"].removeprefix(prefix): m
        for m in server.definitions.resources_of_type("Measure")
        if m["url"].startswith(prefix)
    }


@pytest.fixture(scope="package")
def cohort(server, client) -> tuple[list[Case], list[str]]:
    ensure_subscriptions(server)  # the scoring worker scores the forms
    try:
        units = [unique("unit-a"), unique("unit-b")]
        for unit in units:
            assert client.put(
                f"/fhir/Organization/{unit}", json={"resourceType": "Organization", "id": unit}
            ).is_success
        cases = random_cases(20191, units, 70, YEAR)
        cases += [
            Case(units[0], date(YEAR, 3, 1), odi=(40, 28), rest=(7, 5), gpe=2, satisfaction=1),
            Case(units[1], date(YEAR, 9, 30), odi=(40, 30), rest=(0, 0), gpe=5, form_12m=True),
        ]
        write(client, cases, unique("cohort"))
        while deliver(server, "registry-scores") != "done":
            pass
        return cases, [f"Organization/{u}" for u in units]
    finally:
        for sid, *_ in INTERNAL:
            client.delete(f"/fhir/Subscription/{sid}")
