"""Building blocks of the synthetic registry population: family names (with æ, ø and å), invented health trusts and
their units, descriptions, and the PROM questionnaires with the scores derived from them. Given names, streets and
places come from the demo catalogue (``fhir_server/demo/catalogue.py``)."""

from __future__ import annotations

from bench.population_resources import Item, Prom, Score
from fhir_server.demo.catalogue import FAMILY_FIRST, FAMILY_LAST, FEMALE_GIVEN, MALE_GIVEN, PLACES, STREETS

__all__ = ["FAMILIES", "FEMALE_GIVEN", "MALE_GIVEN", "PLACES", "PROMS", "STREETS", "TRUSTS", "UNIT_KINDS"]

_COMMON_FAMILIES = (
    "Søreng", "Ødegård", "Bjørnstad", "Kvåle", "Sæther", "Lønning", "Håland", "Grønvold", "Aasen", "Dæhlie",
    "Løkken", "Bråten", "Nævdal", "Strøm", "Rønning", "Sørensen", "Jørgensen", "Nygård", "Næss", "Brække",
    "Vågen", "Åsheim", "Sætre", "Kjær", "Hægeland", "Østby", "Ærvik", "Kløvstad", "Tønnesen", "Mæland",
    "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen", "Jensen", "Karlsen",
    "Johnsen", "Pettersen", "Eriksen", "Berg", "Dahl", "Halvorsen", "Lie", "Moen", "Solberg", "Bakken",
)  # fmt: skip

# Place-name compounds as in the demo data (Bjørke + lien = Bjørkelien), then the common names above.
FAMILIES: tuple[str, ...] = (
    *(first + last for first in FAMILY_FIRST for last in FAMILY_LAST if not first.lower().endswith(last)),
    *_COMMON_FAMILIES,
)

TRUSTS = (
    "Fjordheim HF", "Nordlys HF", "Vestvik HF", "Østdal HF", "Sørli HF", "Midtfjell HF", "Innlandsbygd HF",
    "Kystlia HF", "Trollheim HF", "Havbrynet HF",
)  # fmt: skip

# (unit name, registry, weight when patients choose a unit)
UNIT_KINDS = (
    ("Nakke- og ryggpoliklinikk", "NNRR", 3),
    ("Fysikalsk medisin, ryggpoliklinikk", "NNRR", 2),
    ("Smerteklinikken", "OPR", 2),
    ("Tverrfaglig ryggteam", "NNRR", 1),
)

DESCRIPTIONS = {
    "NNRR": ("Ny pasient, nakke", "Ny pasient, rygg", "Tverrfaglig vurdering, rygg", "Kontroll, rygg"),
    "OPR": ("Ny pasient, smerteklinikken", "Tverrfaglig smerteutredning", "Kontroll, smerteklinikken"),
}

_PAIN = Item("nrs-pain", "Smerte siste uke (0-10)", 0, 10, summed=False)
_PAIN_SCORE = Score("nrs-pain", "Smerteintensitet, NRS", "nrs-pain")


def _items(prefix: str, count: int, low: int, high: int) -> tuple[Item, ...]:
    return tuple(Item(f"{prefix}-{n}", f"{prefix.upper()} spørsmål {n}", low, high) for n in range(1, count + 1))


ODI = Prom(
    "odi", "Oswestry Disability Index", "2.1",
    (*_items("odi", 10, 0, 5), _PAIN), (Score("odi-total", "ODI totalskår", None), _PAIN_SCORE),
)  # fmt: skip
NDI = Prom(
    "ndi", "Neck Disability Index", "1.0",
    (*_items("ndi", 10, 0, 5), _PAIN), (Score("ndi-total", "NDI totalskår", None), _PAIN_SCORE),
)  # fmt: skip
EQ5D = Prom(
    "eq-5d-5l", "EQ-5D-5L", "1.0",
    (*_items("eq5d", 5, 1, 5), Item("eq5d-vas", "Helsetilstand i dag (0-100)", 0, 100, summed=False)),
    (Score("eq5d-vas", "EQ VAS", "eq5d-vas"),),
)  # fmt: skip
PROMS = (ODI, NDI, EQ5D)
