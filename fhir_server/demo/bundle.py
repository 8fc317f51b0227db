"""The demo data as one FHIR transaction Bundle, loaded through the server's ordinary transaction endpoint.

Every entry is a conditional create (``POST`` with ``ifNoneExist`` on the resource's business identifier),
so loading the bundle again creates nothing new. ``fullUrl`` values are ``urn:uuid:`` UUIDs derived from the
seed, and entries refer to each other by them.

Two random streams keep the data stable: people and organisations depend on the seed only (ages count from a
fixed anchor date, not from ``today``); appointment dates are offsets from ``today``. Appointment identifiers
depend on the seed only, so a reload on a later day does not duplicate appointments either.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fhir_server.demo import resources as r
from fhir_server.demo.catalogue import (
    APPOINTMENT_DESCRIPTIONS,
    CLINICS,
    FAMILY_FIRST,
    FAMILY_LAST,
    FEMALE_GIVEN,
    HEALTH_TRUST_NAME,
    MALE_GIVEN,
    PLACES,
    STAFFING,
    STREETS,
    Clinic,
)
from fhir_server.demo.history import add_history
from fhir_server.norway.identifiers import (
    FNR_SYSTEM,
    HPR_SYSTEM,
    ORGNR_SYSTEM,
    RESH_SYSTEM,
    orgnr_control_digit,
    synthetic_fnr,
)
from fhir_server.research.release import DEMO_STUDY

OSLO = ZoneInfo("Europe/Oslo")
AGE_ANCHOR = date(2026, 1, 1)  # patients are 18-85 years old on this date
MIN_AGE, MAX_AGE = 18, 85
FUTURE_DAYS = 60  # booked appointments fall 1..60 days after today
PAST_DAYS = 120  # fulfilled appointments fall 1..120 days before today
PAST_SHARE = 0.25
NNRR_POTENTIAL_SHARE = 0.8
CLINIC_WEIGHTS = (3, 2, 2)  # follows CLINICS
_UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, f"{r.CANONICAL_BASE}/demo")


def build_demo_bundle(
    seed: int = 2026, *, today: date | None = None, patients: int = 40, history: bool = True
) -> dict[str, Any]:
    """A FHIR R4 transaction Bundle with the demo units, staff, patients and appointments, and (``history``) the
    NNRR clinics' finalised episodes of the last years with their forms (``fhir_server.demo.history``).

    Deterministic for a given ``seed`` and ``today`` (default: today in Europe/Oslo).
    """
    if patients < 0:
        raise ValueError("patients must not be negative")
    today = today or datetime.now(OSLO).date()
    builder = _DemoBuilder(seed, today)
    builder.add_units()
    builder.add_staff()
    if history:
        add_history(builder)
    builder.add_data_release()
    for index in range(patients):
        builder.add_patient_with_appointment(index)
    return {"resourceType": "Bundle", "type": "transaction", "entry": builder.entries}


class _DemoBuilder:
    def __init__(self, seed: int, today: date) -> None:
        self.seed = seed
        self.today = today
        self.people = random.Random(f"ryggrad-demo:{seed}:people")
        self.schedule = random.Random(f"ryggrad-demo:{seed}:schedule")
        self.entries: list[dict[str, Any]] = []
        self.used: set[str] = set()
        self.clinic_urls: dict[str, str] = {}
        self.location_urls: dict[str, str] = {}
        self.clinic_orgnrs: dict[str, str] = {}  # the unit that owns its patients and appointments
        self.staff_urls: dict[str, list[str]] = {}
        self.trust_url = ""

    # -- entries -----------------------------------------------------------------------------------------

    def add(self, key: str, resource: r.Resource, system: str, value: str) -> str:
        full_url = f"urn:uuid:{uuid.uuid5(_UUID_NAMESPACE, f'{self.seed}/{key}')}"
        request = {
            "method": "POST",
            "url": resource["resourceType"],
            "ifNoneExist": f"identifier={system}|{value}",
        }
        self.entries.append({"fullUrl": full_url, "resource": resource, "request": request})
        return full_url

    def unique(self, make: Callable[[], str]) -> str:
        """A value from ``make`` not handed out before in this bundle."""
        while (value := make()) in self.used:
            pass
        self.used.add(value)
        return value

    def add_data_release(self) -> None:
        """The demo's approved data release (ResearchStudy ``demo-study``), for researchers' development tokens."""
        start = date(self.today.year - 2, 1, 1)
        study = {
            "resourceType": "ResearchStudy",
            "id": DEMO_STUDY,
            "meta": {"profile": ["https://ryggrad.no/fhir/StructureDefinition/registry-data-release"]},
            "extension": [
                {
                    "url": "https://ryggrad.no/fhir/StructureDefinition/registry",
                    "valueCoding": {"system": "https://ryggrad.no/fhir/CodeSystem/registry", "code": "nnrr"},
                },
                {"url": "https://ryggrad.no/fhir/StructureDefinition/release-date-handling", "valueCode": "shift"},
            ],
            "identifier": [{"system": "https://ryggrad.no/fhir/sid/release-decision", "value": "demo-2026-001"}],
            "title": "Demo: disability before and after treatment at the demo clinics",
            "status": "active",
            "objective": [{"name": "Does disability (ODI) improve more after treatment for younger patients?"}],
            "period": {"start": start.isoformat(), "end": date(self.today.year + 2, 12, 31).isoformat()},
            "sponsor": {"reference": self.trust_url},
        }
        request = {"method": "PUT", "url": f"ResearchStudy/{DEMO_STUDY}"}
        full_url = f"urn:uuid:{uuid.uuid5(_UUID_NAMESPACE, f'{self.seed}/data-release')}"
        self.entries.append({"fullUrl": full_url, "resource": study, "request": request})

    # -- organisations, staff -----------------------------------------------------------------------------

    def _orgnr(self) -> str:
        while True:
            first_eight = "9" + "".join(str(self.people.randrange(10)) for _ in range(7))
            control = orgnr_control_digit(first_eight)
            if control is not None:
                return f"{first_eight}{control}"

    def add_units(self) -> None:
        orgnr = self.unique(self._orgnr)
        trust_url = self.add("trust", r.health_trust(HEALTH_TRUST_NAME, orgnr), ORGNR_SYSTEM, orgnr)
        self.trust_url = trust_url
        for clinic in CLINICS:
            resh = self.unique(lambda: str(self.people.randint(4_000_000, 4_999_999)))
            unit_orgnr = self.unique(self._orgnr)
            clinic_url = self.add(
                f"clinic/{clinic.key}", r.clinic_organization(clinic, resh, unit_orgnr, trust_url), RESH_SYSTEM, resh
            )
            self.clinic_orgnrs[clinic.key] = unit_orgnr
            location_id = f"{self.seed}-{clinic.key}"
            location = r.clinic_location(clinic, location_id, clinic_url)
            self.location_urls[clinic.key] = self.add(
                f"location/{clinic.key}", location, r.LOCATION_ID_SYSTEM, location_id
            )
            self.clinic_urls[clinic.key] = clinic_url

    def _person(self, rng: random.Random | None = None) -> tuple[str, str, bool]:
        rng = rng or self.people
        female = rng.random() < 0.55
        given = rng.choice(FEMALE_GIVEN if female else MALE_GIVEN)
        first = rng.choice(FAMILY_FIRST)
        last = rng.choice([s for s in FAMILY_LAST if not first.lower().endswith(s)])
        family = re.sub(r"(.)\1\1", r"\1\1", first + last)  # Fjell + lien -> Fjellien
        return family, given, female

    def add_staff(self) -> None:
        for clinic in CLINICS:
            urls = self.staff_urls.setdefault(clinic.key, [])
            for number, profession in enumerate(STAFFING[clinic.key], start=1):
                family, given, female = self._person()
                hpr = self.unique(lambda: str(self.people.randint(9_000_000, 9_999_999)))
                resource = r.practitioner(hpr, family, given, female, profession)
                practitioner_url = self.add(f"practitioner/{clinic.key}/{number}", resource, HPR_SYSTEM, hpr)
                role_id = f"{self.seed}-{clinic.key}-{number}"
                clinic_url, location_url = self.clinic_urls[clinic.key], self.location_urls[clinic.key]
                role = r.practitioner_role(role_id, practitioner_url, clinic_url, location_url, profession)
                self.add(f"role/{clinic.key}/{number}", role, r.PRACTITIONER_ROLE_ID_SYSTEM, role_id)
                urls.append(practitioner_url)

    # -- patients, appointments ---------------------------------------------------------------------------

    def add_patient(self, key: str, clinic: Clinic, rng: random.Random, min_age: int = MIN_AGE) -> str:
        """A new patient of ``clinic`` (drawn from ``rng``); its full URL."""
        family, given, female = self._person(rng)
        age = rng.randint(min_age, MAX_AGE)
        birth = date(AGE_ANCHOR.year - age - 1, 1, 1) + timedelta(days=rng.randrange(365))
        fnr = self.unique(lambda: synthetic_fnr(birth, rng, female))
        street = rng.choice(STREETS)
        postal_code, city, municipality = rng.choice(PLACES)
        address = r.home_address(street, rng.randint(1, 120), postal_code, city, municipality)
        resource = r.owned_by(r.patient(fnr, family, given, female, birth, address), self.clinic_orgnrs[clinic.key])
        return self.add(key, resource, FNR_SYSTEM, fnr)

    def add_patient_with_appointment(self, index: int) -> None:
        clinic: Clinic = self.schedule.choices(CLINICS, weights=CLINIC_WEIGHTS)[0]
        patient_url = self.add_patient(f"patient/{index}", clinic, self.people)
        self._add_appointment(index, patient_url, clinic)

    def _add_appointment(self, index: int, patient_url: str, clinic: Clinic) -> None:
        rng = self.schedule
        past = rng.random() < PAST_SHARE
        offsets = range(-PAST_DAYS, 0) if past else range(1, FUTURE_DAYS + 1)
        days = [d for d in (self.today + timedelta(days=o) for o in offsets) if d.weekday() < 5]
        day = rng.choice(days)
        hour, minute = rng.randint(8, 14), rng.choice((0, 15, 30, 45))
        start = datetime(day.year, day.month, day.day, hour, minute, tzinfo=OSLO)
        end = start + timedelta(minutes=rng.choice((45, 60)))
        booked_days_before = rng.randint(14, 60) if past else rng.randint(0, 30)
        created = (day if past else self.today) - timedelta(days=booked_days_before)
        appointment_id = f"{self.seed}-{index:04d}"
        resource = r.appointment(
            appointment_id=appointment_id,
            status="fulfilled" if past else "booked",
            registry=_registry_flag(clinic, rng.random()),
            description=rng.choice(APPOINTMENT_DESCRIPTIONS[clinic.registry]),
            start=start,
            end=end,
            created=created,
            patient_url=patient_url,
            practitioner_url=rng.choice(self.staff_urls[clinic.key]),
            location_url=self.location_urls[clinic.key],
        )
        resource = r.owned_by(resource, self.clinic_orgnrs[clinic.key])
        self.add(f"appointment/{index}", resource, r.APPOINTMENT_ID_SYSTEM, appointment_id)


def _registry_flag(clinic: Clinic, draw: float) -> str | None:
    """The EHR's registry-potential flag: most NNRR clinic referrals are flagged at triage (N5); every new patient
    of the pain clinic is OPR's (P1)."""
    if clinic.registry == "NNRR":
        return "nnrr" if draw < NNRR_POTENTIAL_SHARE else None
    return clinic.registry.lower()
