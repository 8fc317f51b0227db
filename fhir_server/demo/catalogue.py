"""Invented building blocks for demo data: names, streets, places, the demo health trust and its clinics.

Given names are common Norwegian first names; family names are made by joining two place-name parts, so the
people are invented. Postal codes and towns are real places so addresses look right.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Registry = Literal["NNRR", "OPR"]

FEMALE_GIVEN = (
    "Ingrid", "Kari", "Marit", "Anne", "Silje", "Ida", "Nora", "Emma", "Hanne", "Randi",
    "Solveig", "Tone", "Kristin", "Line", "Mari", "Astrid", "Guro", "Sigrid", "Eli", "Thea",
)  # fmt: skip
MALE_GIVEN = (
    "Ola", "Per", "Lars", "Knut", "Jon", "Magnus", "Henrik", "Eirik", "Trond", "Geir",
    "Arne", "Bjørn", "Sindre", "Even", "Odd", "Steinar", "Håkon", "Tor", "Vegard", "Jonas",
)  # fmt: skip
FAMILY_FIRST = (
    "Berg", "Lyng", "Fjell", "Nord", "Vest", "Strand", "Haug", "Lund", "Sol", "Elve",
    "Bjørke", "Skog", "Rogn", "Furu", "Li", "Myr", "Stein", "Ås", "Holm", "Kvern",
)  # fmt: skip
FAMILY_LAST = ("heim", "dal", "vik", "rud", "stad", "set", "bakken", "lien", "nes", "tveit", "mo", "haug")
STREETS = (
    "Bjørkeveien", "Storgata", "Skolegata", "Granlia", "Kirkeveien", "Fjordgata", "Solbakken",
    "Rognebærstien", "Elvebakken", "Torggata", "Lindealleen", "Furulia",
)  # fmt: skip
# (postal code, poststed, kommune)
PLACES = (
    ("0150", "Oslo", "Oslo"),
    ("0574", "Oslo", "Oslo"),
    ("1337", "Sandvika", "Bærum"),
    ("1440", "Drøbak", "Frogn"),
    ("2317", "Hamar", "Hamar"),
    ("3015", "Drammen", "Drammen"),
    ("3510", "Hønefoss", "Ringerike"),
    ("4006", "Stavanger", "Stavanger"),
    ("5003", "Bergen", "Bergen"),
    ("7010", "Trondheim", "Trondheim"),
    ("9008", "Tromsø", "Tromsø"),
    ("2815", "Gjøvik", "Gjøvik"),
)

HEALTH_TRUST_NAME = "Demo HF"


@dataclass(frozen=True)
class Clinic:
    key: str
    name: str
    registry: Registry
    location_name: str


CLINICS = (
    Clinic("nnrr-a", "Demo HF, Nakke- og ryggpoliklinikk", "NNRR", "Demo sykehus, bygg A, 2. etasje"),
    Clinic("nnrr-b", "Demo HF, Fysikalsk medisin, ryggpoliklinikk Nord", "NNRR", "Demo sykehus Nord, inngang C"),
    Clinic("opr", "Demo HF, Smerteklinikken", "OPR", "Demo sykehus, bygg B, 1. etasje"),
)


@dataclass(frozen=True)
class Profession:
    code: str  # Volven 9060 (kategori helsepersonell)
    display: str
    role_text: str


DOCTOR = Profession("LE", "Lege", "Lege")
PHYSIOTHERAPIST = Profession("FT", "Fysioterapeut", "Fysioterapeut")
NURSE = Profession("SP", "Sykepleier", "Sykepleier")
PSYCHOLOGIST = Profession("PS", "Psykolog", "Psykolog")

# Who works where: doctor and physiotherapists at the NNRR clinics, an interdisciplinary pain-clinic team.
STAFFING: dict[str, tuple[Profession, ...]] = {
    "nnrr-a": (DOCTOR, PHYSIOTHERAPIST, PHYSIOTHERAPIST),
    "nnrr-b": (DOCTOR, PHYSIOTHERAPIST),
    "opr": (DOCTOR, NURSE, PSYCHOLOGIST),
}

APPOINTMENT_DESCRIPTIONS: dict[Registry, tuple[str, ...]] = {
    "NNRR": ("Ny pasient, nakke", "Ny pasient, rygg", "Tverrfaglig vurdering, rygg", "Kontroll, rygg"),
    "OPR": ("Ny pasient, smerteklinikken", "Tverrfaglig smerteutredning"),
}
