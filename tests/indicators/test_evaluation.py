"""Evaluating the NNRR Measures over a synthetic cohort written through the API: for each indicator the test counts
the expected denominator and numerator from the cohort's own values, per unit and period (with the attribution
offset), and compares them with the evaluator's counts over the materialized views."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date
from fractions import Fraction

import pytest
from sqlalchemy import text

from fhir_server.indicators.evaluate import NATIONAL, evaluate
from fhir_server.indicators.facts import criteria
from fhir_server.indicators.periods import shifted, year_and_quarters
from tests.indicators.cohort import Case, write
from tests.indicators.conftest import YEAR
from tests.rest.helpers import unique

Rule = tuple[int, Callable[[Case], bool], Callable[[Case], bool]]  # offset, denominator, numerator


def _both(pair: tuple[int | None, int | None]) -> bool:
    return pair[0] is not None and pair[1] is not None


def _improved(pair: tuple[int | None, int | None]) -> bool:
    before, after = pair
    return Fraction(before - after, before) >= Fraction(3, 10)  # type: ignore[operator]


def _back_to_work(c: Case) -> bool:
    return "working" in c.work[1] and "sick-leave" not in c.work[1] and "aap" not in c.work[1]


def _less_sick(c: Case) -> bool:
    before, after = c.sick_percent
    return "sick-leave" in c.work[1] and before is not None and after is not None and after < before


def _wait(c: Case) -> int | None:
    return (c.visit - c.referral).days if c.referral else None


EXPECTED: dict[str, Rule] = {  # each rule written from the registry rules' table, independently of the Measures
    "interdisciplinary-treatment": (0, lambda c: c.final, lambda c: c.interdisciplinary),
    "odi-improved": (6, lambda c: _both(c.odi) and c.odi[0] > 0, lambda c: _improved(c.odi)),
    "odi-minimal": (6, lambda c: _both(c.odi), lambda c: c.odi[1] <= 23),
    "pain-rest-improved": (6, lambda c: _both(c.rest) and c.rest[0] != 0, lambda c: _improved(c.rest)),
    "pain-activity-improved": (6, lambda c: _both(c.activity) and c.activity[0] != 0, lambda c: _improved(c.activity)),
    "back-to-work": (6, lambda c: {"working", "sick-leave"} <= c.work[0] and c.gpe is not None, _back_to_work),
    "back-to-work-or-less-sick-leave": (
        6,
        lambda c: {"working", "sick-leave"} <= c.work[0] and c.gpe is not None,
        lambda c: _back_to_work(c) or _less_sick(c),
    ),
    "perceived-benefit": (6, lambda c: c.gpe is not None, lambda c: c.gpe <= 3),
    "satisfied-or-neutral": (6, lambda c: c.satisfaction is not None, lambda c: c.satisfaction <= 3),
    "response-6m": (6, lambda c: c.final, lambda c: c.gpe is not None),
    "response-12m": (12, lambda c: c.final, lambda c: c.form_12m),
    "response-both": (12, lambda c: c.final, lambda c: c.gpe is not None and c.form_12m),
    "waiting-time": (0, lambda c: c.final and (_wait(c) or 0) > 0, lambda c: _wait(c) <= 50),
    "coping-talk": (0, lambda c: c.final, lambda c: c.coping),
    "interdisciplinary-assessment": (0, lambda c: c.final, lambda c: c.professions >= 2),
    "odi-improved-10": (6, lambda c: _both(c.odi), lambda c: c.odi[0] - c.odi[1] >= 10),
    "pain-rest-improved-2": (6, lambda c: _both(c.rest), lambda c: c.rest[0] - c.rest[1] >= 2),
}
WORKED = [  # the rules' worked checks, on the Measures' own conditions
    ("odi-improved", {"odi_pre": 40, "odi_6m": 28}, True),
    ("odi-improved", {"odi_pre": 40, "odi_6m": 29}, False),
    ("pain-rest-improved", {"pain_rest_pre": 7, "pain_rest_6m": 5}, False),
    ("pain-rest-improved-2", {"pain_rest_pre": 7, "pain_rest_6m": 5}, True),
    ("odi-improved", {"odi_pre": 0, "odi_6m": 0}, None),  # pre = 0: not in the denominator
]


def _expected(cases: list[Case], units: list[str], rule: Rule) -> Counter:
    offset, denominator, numerator = rule
    counts: Counter = Counter()
    for case in cases:
        if not denominator(case):
            continue
        unit = units[0] if case.unit in units[0] else units[1]
        day = shifted(case.visit, offset)
        for period in [*year_and_quarters(YEAR), *year_and_quarters(YEAR + 1)]:
            if day in period:
                for where in (unit, NATIONAL):
                    counts[(period.label, where, "d")] += 1
                    counts[(period.label, where, "n")] += int(numerator(case))
    return counts


def test_the_evaluator_counts_what_the_rules_say(server, measures, cohort):
    cases, units = cohort
    periods = [*year_and_quarters(YEAR), *year_and_quarters(YEAR + 1)]
    tallies = evaluate(server, [measures[key] for key in EXPECTED], periods)
    for key, rule in EXPECTED.items():
        expected = _expected(cases, units, rule)
        url = measures[key]["url"]
        for period in periods:
            for where in (*units, NATIONAL):
                tally = tallies.get((url, period.label, where))
                got = (tally.denominator, tally.numerator) if tally else (0, 0)
                want = (expected[(period.label, where, "d")], expected[(period.label, where, "n")])
                assert got == want, (key, period.label, where)
    assert any(t.denominator >= 30 for t in tallies.values())  # the cohort is big enough to show a share


def test_evaluating_again_after_a_change_sees_it(server, client, measures, cohort):
    cases, units = cohort
    measure = measures["coping-talk"]
    before = evaluate(server, [measure], year_and_quarters(YEAR))[(measure["url"], str(YEAR), NATIONAL)]
    late = Case(units[0].removeprefix("Organization/"), date(YEAR, 12, 31), coping=True)
    write(client, [late], unique("late"))
    after = evaluate(server, [measure], year_and_quarters(YEAR))[(measure["url"], str(YEAR), NATIONAL)]
    assert (after.denominator, after.numerator) == (before.denominator + 1, before.numerator + 1)
    cases.append(late)


@pytest.mark.parametrize(("key", "facts", "counted"), WORKED)
def test_the_worked_checks(server, measures, key, facts, counted):
    measure = measures[key]
    row = ", ".join(f"{value} AS {name}" for name, value in facts.items())
    denominator, numerator = criteria(measure, "denominator"), criteria(measure, "numerator")
    sql = (
        f"SELECT CASE WHEN ({denominator}) THEN 1 ELSE 0 END, "
        f"CASE WHEN ({denominator}) AND ({numerator}) THEN 1 ELSE 0 END FROM (SELECT {row}) AS facts"
    )
    with server.db.reading() as conn:
        counts = tuple(conn.execute(text(sql)).one())
    assert counts == ((0, 0) if counted is None else (1, int(counted)))
