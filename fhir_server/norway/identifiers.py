"""Norwegian identifiers: systems, and checks for person numbers, HPR numbers and organisation numbers.

Person numbers (fødselsnummer, D-nummer, felles hjelpenummer) are 11 digits ``DDMMYY III K1 K2``: a date of
birth, three individual digits and two modulus-11 control digits. Variants this module understands:

* D-nummer: 4 is added to the first digit (day + 40).
* Synthetic test numbers: month + 80 (Skatteetaten's synthetic population) and the older month + 40
  (NAV test numbers and internal H-numbers). Synthetic numbers are accepted unless ``allow_synthetic=False``.
* Felles hjelpenummer (FH): first digit 8 or 9, the rest carries no meaning, same control digits.

The individual digits tell the century; the ninth digit's parity tells the legal sex (odd = male).

Identifier values are personal data: nothing here logs them or puts them into exception messages.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date
from typing import Literal, NamedTuple, TypeGuard

# Identifier.system values (urn:oid form), see spec/norway.md.
FNR_SYSTEM = "urn:oid:2.16.578.1.12.4.1.4.1"
DNR_SYSTEM = "urn:oid:2.16.578.1.12.4.1.4.2"
FH_SYSTEM = "urn:oid:2.16.578.1.12.4.1.4.3"
HPR_SYSTEM = "urn:oid:2.16.578.1.12.4.1.4.4"
ORGNR_SYSTEM = "urn:oid:2.16.578.1.12.4.1.4.101"
RESH_SYSTEM = "urn:oid:2.16.578.1.12.4.1.4.102"
HER_SYSTEM = "urn:oid:2.16.578.1.12.4.1.2"

PersonIdKind = Literal["fnr", "dnr", "fh"]
Sex = Literal["female", "male"]

SYSTEM_BY_KIND: dict[PersonIdKind, str] = {"fnr": FNR_SYSTEM, "dnr": DNR_SYSTEM, "fh": FH_SYSTEM}
# Systems whose values identify a person: keep them out of URLs, logs and error messages.
PERSON_ID_SYSTEMS: frozenset[str] = frozenset(SYSTEM_BY_KIND.values())

_K1_WEIGHTS = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_K2_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
_ORGNR_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)

_DNR_DAY_OFFSET = 40
_SKATTEETATEN_SYNTHETIC_MONTH_OFFSET = 80
_TEST_MONTH_OFFSET = 40

_HPR_MIN_DIGITS = 4
_HPR_MAX_DIGITS = 9


class _PersonNumber(NamedTuple):
    kind: PersonIdKind
    birth: date | None  # None for FH numbers, which carry no date
    synthetic: bool


def _is_digits(value: object, length: int | None = None) -> TypeGuard[str]:
    """``value`` is a str of ASCII digits (``str.isdigit`` alone accepts e.g. superscripts)."""
    if not isinstance(value, str) or not value.isascii() or not value.isdigit():
        return False
    return length is None or len(value) == length


def _mod11(digits: str, weights: Sequence[int]) -> int | None:
    """The modulus-11 control digit for ``digits``, or None when it would be 10 (remainder 1)."""
    remainder = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    if remainder == 0:
        return 0
    if remainder == 1:
        return None
    return 11 - remainder


def person_control_digits(first_nine: str) -> str | None:
    """The two control digits K1 K2 for the first nine digits of a person number, or None if none exist."""
    if not _is_digits(first_nine, 9):
        raise ValueError("expected nine digits")
    k1 = _mod11(first_nine, _K1_WEIGHTS)
    if k1 is None:
        return None
    k2 = _mod11(first_nine + str(k1), _K2_WEIGHTS)
    if k2 is None:
        return None
    return f"{k1}{k2}"


def _birth_year(two_digit_year: int, individual: int) -> int | None:
    """The full year of birth from the individual number series, or None if no series fits."""
    if individual <= 499:
        return 1900 + two_digit_year
    if individual <= 749 and two_digit_year >= 54:
        return 1800 + two_digit_year
    if individual >= 500 and two_digit_year <= 39:
        return 2000 + two_digit_year
    if individual >= 900 and two_digit_year >= 40:
        return 1900 + two_digit_year
    return None


def _decode(value: object) -> _PersonNumber | None:
    """What ``value`` is as a person number, or None if it is not a well-formed one."""
    if not _is_digits(value, 11):
        return None
    if person_control_digits(value[:9]) != value[9:]:
        return None
    first = int(value[0])
    if first >= 8:
        return _PersonNumber("fh", None, False)
    kind: PersonIdKind = "dnr" if first >= 4 else "fnr"
    day = int(value[0:2]) - (_DNR_DAY_OFFSET if kind == "dnr" else 0)
    month = int(value[2:4])
    synthetic = False
    for offset in (_SKATTEETATEN_SYNTHETIC_MONTH_OFFSET, _TEST_MONTH_OFFSET):
        if month > offset:
            month -= offset
            synthetic = True
            break
    year = _birth_year(int(value[4:6]), int(value[6:9]))
    if year is None or not 1 <= month <= 12:
        return None
    try:
        birth = date(year, month, day)
    except ValueError:
        return None
    return _PersonNumber(kind, birth, synthetic)


def is_valid_fnr(value: str, *, allow_synthetic: bool = True) -> bool:
    """``value`` is a fødselsnummer: control digits, a real date of birth and a matching century series."""
    decoded = _decode(value)
    return decoded is not None and decoded.kind == "fnr" and (allow_synthetic or not decoded.synthetic)


def is_valid_dnr(value: str, *, allow_synthetic: bool = True) -> bool:
    """``value`` is a D-nummer (first digit + 4) with valid control digits and date of birth."""
    decoded = _decode(value)
    return decoded is not None and decoded.kind == "dnr" and (allow_synthetic or not decoded.synthetic)


def is_valid_fh(value: str) -> bool:
    """``value`` is a felles hjelpenummer: 11 digits, first digit 8 or 9, valid control digits."""
    decoded = _decode(value)
    return decoded is not None and decoded.kind == "fh"


def kind_of(value: str) -> PersonIdKind | None:
    """Which kind of valid person number ``value`` is, or None if it is none of them."""
    decoded = _decode(value)
    return decoded.kind if decoded is not None else None


def is_synthetic(value: str) -> bool:
    """``value`` is a valid FNR or D-nummer from a synthetic/test series (month + 80 or month + 40)."""
    decoded = _decode(value)
    return decoded is not None and decoded.synthetic


def birth_date_of(fnr_or_dnr: str) -> date:
    """The date of birth in a valid FNR or D-nummer; ValueError (never naming the value) otherwise."""
    decoded = _decode(fnr_or_dnr)
    if decoded is None or decoded.birth is None:
        raise ValueError("not a valid fødselsnummer or D-nummer")
    return decoded.birth


def sex_of(fnr_or_dnr: str) -> Sex:
    """Legal sex from the ninth digit (odd = male) of a valid FNR or D-nummer; ValueError otherwise."""
    decoded = _decode(fnr_or_dnr)
    if decoded is None or decoded.birth is None:
        raise ValueError("not a valid fødselsnummer or D-nummer")
    return "male" if int(fnr_or_dnr[8]) % 2 else "female"


def _individual_series(year: int) -> list[range]:
    """The individual-number ranges that encode ``year`` (see ``_birth_year``)."""
    if 1854 <= year <= 1899:
        return [range(500, 750)]
    if 1900 <= year <= 1999:
        return [range(0, 500), range(900, 1000)] if year >= 1940 else [range(0, 500)]
    if 2000 <= year <= 2039:
        return [range(500, 1000)]
    raise ValueError("person numbers cover birth years 1854-2039 only")


def synthetic_fnr(birth: date, rng: random.Random, female: bool | None = None) -> str:
    """A valid synthetic fødselsnummer (Skatteetaten style, month + 80) for ``birth``.

    The individual number fits the century and the sex (odd ninth digit = male; random when ``female`` is
    None). The result depends only on the arguments and the state of ``rng``.
    """
    if female is None:
        female = rng.random() < 0.5
    candidates = [n for series in _individual_series(birth.year) for n in series if (n % 2 == 0) == female]
    prefix = f"{birth.day:02d}{birth.month + _SKATTEETATEN_SYNTHETIC_MONTH_OFFSET:02d}{birth.year % 100:02d}"
    rng.shuffle(candidates)
    for individual in candidates:
        first_nine = f"{prefix}{individual:03d}"
        control = person_control_digits(first_nine)
        if control is not None:
            return first_nine + control
    raise ValueError("no synthetic number exists for this date and sex")  # pragma: no cover - never seen


def is_valid_hpr(value: str) -> bool:
    """``value`` looks like an HPR number: 4 to 9 ASCII digits without a leading zero.

    HPR numbers carry no public check digit, so this is a plausibility check only.
    """
    return _is_digits(value) and _HPR_MIN_DIGITS <= len(value) <= _HPR_MAX_DIGITS and value[0] != "0"


def orgnr_control_digit(first_eight: str) -> int | None:
    """The control digit for the first eight digits of an organisasjonsnummer, or None if none exists."""
    if not _is_digits(first_eight, 8):
        raise ValueError("expected eight digits")
    return _mod11(first_eight, _ORGNR_WEIGHTS)


def is_valid_orgnr(value: str) -> bool:
    """``value`` is an organisasjonsnummer: 9 digits, the last a mod-11 control digit (weights 32765432)."""
    if not _is_digits(value, 9):
        return False
    control = orgnr_control_digit(value[:8])
    return control is not None and control == int(value[8])
