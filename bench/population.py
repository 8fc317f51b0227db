"""A synthetic registry population, reproducible from a seed, as a stream of FHIR transaction Bundles.

First one Bundle of shared resources (health trusts, units with RESH ids, their locations and practitioners, the PROM
Questionnaires); then Bundles of about 1,000 entries, each holding whole patients: the Patient (synthetic FNR, a
name with æ/ø/å now and then, birth date, gender, address), one or two EpisodeOfCare, their Appointments
(booked/fulfilled/cancelled/noshow over two years, with the ``nnrr-potential`` flag), PROM Tasks
(requested/ready/completed/cancelled), a QuestionnaireResponse per completed Task and the score Observations derived
from it. Entries refer to each other by ``urn:uuid:`` and to the shared resources by the ``Type/id`` the server gave
them (``patient_bundles(refs)``). Only one Bundle is in memory at a time.

``python -m bench.population --size 10k`` generates without loading and prints the counts per resource type.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bench import population_resources as r
from bench.population_catalogue import (
    DESCRIPTIONS,
    FAMILIES,
    FEMALE_GIVEN,
    MALE_GIVEN,
    PLACES,
    PROMS,
    STREETS,
    TRUSTS,
    UNIT_KINDS,
)
from fhir_server.norway.identifiers import orgnr_control_digit, synthetic_fnr

DEFAULT_SEED = 2026
SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
BUNDLE_ENTRIES = 1_000
RESOURCES_PER_PATIENT = 11  # about; sizes the units and staff

OSLO = ZoneInfo("Europe/Oslo")
SPAN_START = date(2024, 7, 1)  # appointments fall in these two years
SPAN_DAYS = 730
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=OSLO)  # a fixed "now": past appointments are fulfilled, later ones booked
TODAY = NOW.date()
SEND_DAYS_BEFORE = 16  # PROM tasks are sent 16 days before the appointment, at 09:00


def parse_size(text: str) -> int:
    """``10k``, ``100k``, ``1m`` or a plain number of resources (at least 100)."""
    key = text.strip().lower()
    if key in SIZES:
        return SIZES[key]
    multiplier = {"k": 1_000, "m": 1_000_000}.get(key[-1:], 1)
    digits = key[:-1] if multiplier > 1 else key
    if not digits.isdigit() or int(digits) * multiplier < 100:
        raise ValueError(f"size must be 10k, 100k, 1m or a number of resources >= 100, not {text!r}")
    return int(digits) * multiplier


def size_label(size: int) -> str:
    return next((k for k, v in SIZES.items() if v == size), str(size))


@dataclass
class GeneratedBundle:
    body: dict[str, Any]
    types: Counter[str] = field(default_factory=Counter)

    @property
    def resources(self) -> int:
        return len(self.body["entry"])


@dataclass(frozen=True)
class Unit:
    name: str
    registry: str
    weight: int
    org: str  # urn:uuid of the Organization in the shared bundle
    location: str
    practitioners: tuple[str, ...]


class _Entries:
    """The entries of the Bundle being built."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.entries: list[dict[str, Any]] = []
        self.types: Counter[str] = Counter()

    def new_urn(self) -> str:
        return f"urn:uuid:{uuid.UUID(int=self.rng.getrandbits(128), version=4)}"

    def add(self, resource: dict[str, Any], urn: str | None = None) -> str:
        urn = urn or self.new_urn()
        kind = resource["resourceType"]
        self.entries.append({"fullUrl": urn, "resource": resource, "request": {"method": "POST", "url": kind}})
        self.types[kind] += 1
        return urn

    def bundle(self) -> GeneratedBundle:
        return GeneratedBundle({"resourceType": "Bundle", "type": "transaction", "entry": self.entries}, self.types)


class Population:
    def __init__(self, size: int, seed: int = DEFAULT_SEED, bundle_entries: int = BUNDLE_ENTRIES) -> None:
        self.size = size
        self.seed = seed
        self.bundle_entries = bundle_entries
        self._shared = _Entries(random.Random(f"ryggrad-bench:{seed}:shared"))
        self.units = self._build_shared()

    # -- shared resources --------------------------------------------------------------------------------------

    def _orgnr(self, rng: random.Random) -> str:
        while True:
            first_eight = "9" + "".join(str(rng.randrange(10)) for _ in range(7))
            control = orgnr_control_digit(first_eight)
            if control is not None:
                return f"{first_eight}{control}"

    def _build_shared(self) -> list[Unit]:
        rng, out = self._shared.rng, self._shared
        for prom in PROMS:
            out.add(r.questionnaire(prom))
        patients = max(1, self.size // RESOURCES_PER_PATIENT)
        unit_count = max(3, round(math.sqrt(self.size) / 25))
        staff_per_unit = max(4, patients // unit_count // 200)
        resh_numbers = rng.sample(range(4_000_000, 5_000_000), unit_count)
        hpr_numbers = iter(rng.sample(range(9_000_000, 10_000_000), unit_count * staff_per_unit))
        units: list[Unit] = []
        trust = ""
        for n in range(unit_count):
            kind, registry, weight = UNIT_KINDS[n % len(UNIT_KINDS)]
            trust_name = TRUSTS[(n // len(UNIT_KINDS)) % len(TRUSTS)]
            if n % len(UNIT_KINDS) == 0:
                suffix = f" {n // (len(UNIT_KINDS) * len(TRUSTS)) + 1}" if n >= len(UNIT_KINDS) * len(TRUSTS) else ""
                trust = out.add(r.health_trust(f"{trust_name}{suffix}", self._orgnr(rng)))
            name = f"{trust_name}, {kind}"
            org = out.add(r.unit(name, str(resh_numbers[n]), registry, trust))
            location = out.add(r.location(f"{name}, poliklinikk", f"{self.seed}-{n}", org))
            staff = []
            for _ in range(staff_per_unit):
                female = rng.random() < 0.6
                given = rng.choice(FEMALE_GIVEN if female else MALE_GIVEN)
                staff.append(out.add(r.practitioner(str(next(hpr_numbers)), rng.choice(FAMILIES), given, female)))
            units.append(Unit(name, registry, weight, org, location, tuple(staff)))
        return units

    def shared_bundle(self) -> GeneratedBundle:
        return self._shared.bundle()

    # -- patients ----------------------------------------------------------------------------------------------

    def patient_bundles(self, refs: Mapping[str, str]) -> Iterator[GeneratedBundle]:
        """The patient Bundles; ``refs`` maps the shared bundle's ``fullUrl`` values to ``Type/id``."""
        rng = random.Random(f"ryggrad-bench:{self.seed}:patients")
        writer = _PatientWriter(rng, self.seed, self.units, refs)
        produced = self._shared.bundle().resources
        index = 0
        while produced < self.size:
            out = _Entries(rng)
            while len(out.entries) < self.bundle_entries and produced + len(out.entries) < self.size:
                writer.patient(out, index)
                index += 1
            produced += len(out.entries)
            yield out.bundle()


class _PatientWriter:
    def __init__(self, rng: random.Random, seed: int, units: list[Unit], refs: Mapping[str, str]) -> None:
        self.rng = rng
        self.seed = seed
        self.units = units
        self.weights = [u.weight for u in units]
        self.refs = refs
        self.fnrs: set[str] = set()

    def patient(self, out: _Entries, index: int) -> None:
        rng = self.rng
        female = rng.random() < 0.55
        birth = date(rng.randint(1940, 2005), 1, 1) + timedelta(days=rng.randrange(365))
        while (fnr := synthetic_fnr(birth, rng, female)) in self.fnrs:
            pass
        self.fnrs.add(fnr)
        given = rng.choice(FEMALE_GIVEN if female else MALE_GIVEN)
        postal_code, city, municipality = rng.choice(PLACES)
        address = r.home_address(rng.choice(STREETS), rng.randint(1, 120), postal_code, city, municipality)
        unit = rng.choices(self.units, weights=self.weights)[0]
        family = rng.choice(FAMILIES)
        patient = out.add(r.patient(fnr, family, given, female, birth, address, self.refs[unit.org]))
        for episode in range(1 if rng.random() < 0.8 else 2):
            self._episode(out, f"{self.seed}-{index}-{episode}", patient, unit)

    def _episode(self, out: _Entries, episode_id: str, patient: str, unit: Unit) -> None:
        rng = self.rng
        day = SPAN_START + timedelta(days=rng.randrange(SPAN_DAYS - 30))
        days = [day]
        for _ in range(rng.choices((0, 1, 2), weights=(4, 4, 2))[0]):
            day += timedelta(days=rng.randint(30, 120))
            if day < SPAN_START + timedelta(days=SPAN_DAYS):
                days.append(day)
        days = [d + timedelta(days=max(0, 7 - d.weekday()) if d.weekday() >= 5 else 0) for d in days]
        episode_urn = out.new_urn()
        if days[0] > TODAY:
            status, end = "planned", None
        elif days[-1] < TODAY - timedelta(days=60):
            status, end = "finished", days[-1]
        else:
            status, end = "active", None
        if rng.random() < 0.02:
            status = "entered-in-error"
        manager = self.refs[rng.choice(unit.practitioners)]
        out.add(
            r.episode_of_care(
                episode_id=episode_id, status=status, registry=unit.registry, patient_ref=patient,
                unit_ref=self.refs[unit.org], manager_ref=manager, start=days[0], end=end,
            ),
            episode_urn,
        )  # fmt: skip
        primary = PROMS[2] if unit.registry == "OPR" else PROMS[0] if rng.random() < 0.7 else PROMS[1]
        for n, visit in enumerate(days):
            self._appointment(out, f"{episode_id}-{n}", visit, patient, unit, episode_urn, primary)

    def _appointment(
        self, out: _Entries, appointment_id: str, day: date, patient: str, unit: Unit, episode: str, primary: r.Prom
    ) -> None:
        rng = self.rng
        start = datetime(day.year, day.month, day.day, rng.randint(8, 14), rng.choice((0, 15, 30, 45)), tzinfo=OSLO)
        past = day < TODAY
        roll = rng.random()
        if past:
            status = "fulfilled" if roll < 0.85 else "cancelled" if roll < 0.95 else "noshow"
        else:
            status = "booked" if roll < 0.9 else "cancelled"
        practitioner = self.refs[rng.choice(unit.practitioners)]
        out.add(
            r.appointment(
                appointment_id=appointment_id, status=status,
                nnrr_potential=unit.registry == "NNRR" and rng.random() < 0.8,
                description=rng.choice(DESCRIPTIONS[unit.registry]), start=start, minutes=rng.choice((30, 45, 60)),
                created=day - timedelta(days=rng.randint(14, 60)), patient_ref=patient,
                practitioner_ref=practitioner, location_ref=self.refs[unit.location], episode_ref=episode,
            )
        )  # fmt: skip
        proms = [primary] + ([PROMS[2]] if primary is not PROMS[2] and rng.random() < 0.5 else [])
        sent = datetime(day.year, day.month, day.day, 9, tzinfo=OSLO) - timedelta(days=SEND_DAYS_BEFORE)
        for prom in proms:
            self._task(out, prom, status, sent, start, patient, unit, practitioner, episode)

    def _task(
        self, out: _Entries, prom: r.Prom, visit_status: str, sent: datetime, deadline: datetime,
        patient: str, unit: Unit, practitioner: str, episode: str,
    ) -> None:  # fmt: skip
        rng = self.rng
        if visit_status in ("cancelled", "noshow"):
            status = "cancelled" if sent < NOW else "requested"
        elif sent >= NOW:
            status = "requested"
        elif visit_status == "fulfilled":
            status = "completed" if rng.random() < 0.8 else "ready"
        else:
            status = "completed" if rng.random() < 0.35 else "ready"
        completed = response = None
        if status == "completed":
            window = (min(deadline, NOW) - sent).total_seconds()
            completed = sent + timedelta(seconds=rng.uniform(3600, max(3601.0, window)))
            response = self._response(out, prom, patient, completed)
        task_uuid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        out.add(
            r.task(
                task_uuid=task_uuid, status=status, prom=prom, patient_ref=patient, owner_ref=self.refs[unit.org],
                requester_ref=practitioner, episode_ref=episode, sent=sent, deadline=deadline, completed=completed,
                response_ref=response,
            )
        )  # fmt: skip

    def _response(self, out: _Entries, prom: r.Prom, patient: str, authored: datetime) -> str:
        rng = self.rng
        answers = {item.link_id: rng.randint(item.low, item.high) for item in prom.items}
        response = out.add(r.questionnaire_response(prom=prom, patient_ref=patient, authored=authored, answers=answers))
        summed = [item for item in prom.items if item.summed]
        total = round(100 * sum(answers[i.link_id] - i.low for i in summed) / sum(i.high - i.low for i in summed))
        for score in prom.scores:
            value = answers[score.link_id] if score.link_id else total
            out.add(
                r.observation(score=score, value=value, patient_ref=patient, effective=authored, response_ref=response)
            )
        return response


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.population", description=__doc__)
    parser.add_argument("--size", default="10k", help="10k, 100k, 1m or a number of resources (default 10k)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    population = Population(parse_size(args.size), args.seed)
    started = time.perf_counter()
    shared = population.shared_bundle()
    refs = {e["fullUrl"]: f"{e['resource']['resourceType']}/shared-{n}" for n, e in enumerate(shared.body["entry"])}
    types, bundles = Counter(shared.types), 1
    for bundle in population.patient_bundles(refs):
        types.update(bundle.types)
        bundles += 1
    seconds = time.perf_counter() - started
    total = sum(types.values())
    for kind, count in sorted(types.items(), key=lambda kv: -kv[1]):
        print(f"{kind:24} {count:>10,}")
    print(f"{'total':24} {total:>10,} in {bundles:,} bundles, generated in {seconds:.1f} s ({total / seconds:,.0f}/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
