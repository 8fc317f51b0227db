"""Norwegian person numbers, HPR numbers and organisation numbers."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta

import pytest

from fhir_server.norway import identifiers as ids
from fhir_server.norway.identifiers import (
    birth_date_of,
    is_synthetic,
    is_valid_dnr,
    is_valid_fh,
    is_valid_fnr,
    is_valid_hpr,
    is_valid_orgnr,
    kind_of,
    orgnr_control_digit,
    person_control_digits,
    sex_of,
    synthetic_fnr,
)
from tests.paths import FIXTURES, requires_shared


def fullwidth(digits: str) -> str:
    """The same digits as FULLWIDTH DIGIT characters: ``isdigit()`` is true, but they are not ASCII."""
    return digits.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})


# Hand-computed numbers. K1 = 11 - (sum of digits 1-9 times 3,7,6,1,8,9,4,5,2) mod 11,
# K2 = 11 - (sum of digits 1-10 times 5,4,3,2,7,6,5,4,3,2) mod 11; remainder 0 gives 0, remainder 1 no digit.
#
# 010190 124: K1 sum 0+7+0+1+72+0+4+10+8 = 102, 102 % 11 = 3 -> 8;
#             K2 sum 0+4+0+2+63+0+5+8+12+16 = 110, 110 % 11 = 0 -> 0.  1990-01-01, 124 even -> female.
FNR_1990_FEMALE = "01019012480"
# 150812 503: K1 3+35+0+8+8+18+20+0+6 = 98 -> 98 % 11 = 10 -> 1;
#             K2 5+20+0+16+7+12+25+0+9+2 = 96 -> 8 -> 3.
#             Series 500-999 with year 00-39 -> 2012; 503 odd -> male.
FNR_2012_MALE = "15081250313"
# 311299 600: K1 9+7+6+2+72+81+24+0+0 = 201 -> 3 -> 8;
#             K2 15+4+3+4+63+54+30+0+0+16 = 189 -> 2 -> 9.  Series 500-749 with year 54-99 -> 1899.
FNR_1899_FEMALE = "31129960089"
# 070755 901: K1 0+49+0+7+40+45+36+0+2 = 179 -> 3 -> 8;
#             K2 0+28+0+14+35+30+45+0+3+16 = 171 -> 6 -> 5.  Series 900-999 with year 40-99 -> 1955.
FNR_1955_MALE = "07075590185"
# D-nummer for 1990-01-01: first digit 0 + 4. 410190 124: K1 12+7+0+1+72+0+4+10+8 = 114 -> 4 -> 7;
#             K2 20+4+0+2+63+0+5+8+12+14 = 128 -> 7 -> 4.
DNR_1990 = "41019012474"
# Synthetic (Skatteetaten, month + 80) for 1990-01-01. 018190 124: K1 0+7+48+1+72+0+4+10+8 = 150 -> 7 -> 4;
#             K2 0+4+24+2+63+0+5+8+12+8 = 126 -> 5 -> 6.
SYNTHETIC_1990 = "01819012446"
# Felles hjelpenummer, first digit 8. 812345678: K1 24+7+12+3+32+45+24+35+16 = 198 -> 0 -> 0;
#             K2 40+4+6+6+28+30+30+28+24+0 = 196 -> 9 -> 2.
FH_NUMBER = "81234567802"

# Control digits right, but 30 February: 300290 124: K1 9+0+0+2+72+0+4+10+8 = 105 -> 6 -> 5;
#             K2 15+0+0+4+63+0+5+8+12+10 = 117 -> 7 -> 4.
FNR_30_FEBRUARY = "30029012454"
# Control digits right, but series 750-899 is not used for years 40-99.
# 010190 800: K1 0+7+0+1+72+0+32+0+0 = 112 -> 2 -> 9; K2 0+4+0+2+63+0+40+0+0+18 = 127 -> 6 -> 5.
FNR_NO_CENTURY = "01019080095"
# 010190 123: K1 sum 0+7+0+1+72+0+4+10+6 = 100, 100 % 11 = 1: no control digit exists.
NO_CONTROL_DIGIT_PREFIX = "010190123"


class TestKnownPersonNumbers:
    def test_hand_computed_control_digits(self) -> None:
        known = (
            FNR_1990_FEMALE,
            FNR_2012_MALE,
            FNR_1899_FEMALE,
            FNR_1955_MALE,
            DNR_1990,
            SYNTHETIC_1990,
            FH_NUMBER,
        )
        for number in known:
            assert person_control_digits(number[:9]) == number[9:]
        assert person_control_digits(NO_CONTROL_DIGIT_PREFIX) is None

    @pytest.mark.parametrize(
        ("number", "birth", "sex"),
        [
            (FNR_1990_FEMALE, date(1990, 1, 1), "female"),
            (FNR_2012_MALE, date(2012, 8, 15), "male"),
            (FNR_1899_FEMALE, date(1899, 12, 31), "female"),
            (FNR_1955_MALE, date(1955, 7, 7), "male"),
        ],
    )
    def test_valid_fnr(self, number: str, birth: date, sex: str) -> None:
        assert is_valid_fnr(number)
        assert is_valid_fnr(number, allow_synthetic=False)
        assert not is_valid_dnr(number)
        assert not is_synthetic(number)
        assert kind_of(number) == "fnr"
        assert birth_date_of(number) == birth
        assert sex_of(number) == sex

    def test_dnr(self) -> None:
        assert is_valid_dnr(DNR_1990)
        assert not is_valid_fnr(DNR_1990)
        assert kind_of(DNR_1990) == "dnr"
        assert birth_date_of(DNR_1990) == date(1990, 1, 1)
        assert sex_of(DNR_1990) == "female"

    def test_synthetic(self) -> None:
        assert is_valid_fnr(SYNTHETIC_1990)
        assert is_synthetic(SYNTHETIC_1990)
        assert not is_valid_fnr(SYNTHETIC_1990, allow_synthetic=False)
        assert birth_date_of(SYNTHETIC_1990) == date(1990, 1, 1)

    def test_older_test_series_month_plus_40(self) -> None:
        number = "01419012463"
        assert person_control_digits(number[:9]) == number[9:]
        assert is_valid_fnr(number)
        assert is_synthetic(number)
        assert birth_date_of(number) == date(1990, 1, 1)

    def test_synthetic_dnr(self) -> None:
        # Day + 40 and month + 80; individual 128 (124 and 126 have no control digits with this prefix).
        number = "41819012863"
        assert person_control_digits(number[:9]) == number[9:]
        assert is_valid_dnr(number)
        assert not is_valid_dnr(number, allow_synthetic=False)
        assert birth_date_of(number) == date(1990, 1, 1)

    def test_fh_number(self) -> None:
        assert is_valid_fh(FH_NUMBER)
        assert kind_of(FH_NUMBER) == "fh"
        assert not is_valid_fnr(FH_NUMBER)
        assert not is_valid_dnr(FH_NUMBER)
        with pytest.raises(ValueError):
            birth_date_of(FH_NUMBER)

    @pytest.mark.parametrize(
        "number",
        [
            FNR_30_FEBRUARY,
            FNR_NO_CENTURY,
            "01019012481",  # K2 wrong
            "01019012490",  # K1 wrong
            "0101901248",  # 10 digits
            "010190124800",  # 12 digits
            "0101901248a",
            "0101901248\u0660",  # Arabic-Indic zero: isdigit() but not ASCII
            " 1019012480",
            "",
            "00000000000",  # day 0, control digits right (00)
            "01139012409",  # month 13, control digits right
        ],
    )
    def test_invalid(self, number: str) -> None:
        assert not is_valid_fnr(number)
        assert not is_valid_dnr(number)
        assert kind_of(number) is None
        with pytest.raises(ValueError) as caught:
            birth_date_of(number)
        if number:
            assert number not in str(caught.value)

    def test_non_strings_are_invalid(self) -> None:
        for value in (None, 1019012480, ["01019012480"]):
            assert not is_valid_fnr(value)  # type: ignore[arg-type]
            assert kind_of(value) is None  # type: ignore[arg-type]

    def test_control_digit_checks_are_exact(self) -> None:
        assert FNR_30_FEBRUARY[9:] == person_control_digits(FNR_30_FEBRUARY[:9])
        assert FNR_NO_CENTURY[9:] == person_control_digits(FNR_NO_CENTURY[:9])

    def test_bad_input_to_control_digits(self) -> None:
        with pytest.raises(ValueError):
            person_control_digits("12345678")


@requires_shared
@pytest.mark.shared
def test_no_basis_example_patient_fnr() -> None:
    path = FIXTURES / "no-basis" / "no-basis-Patient-Jannice-Søreng.json"
    if not path.is_file():
        pytest.skip(f"{path.name} not present")
    patient = json.loads(path.read_text(encoding="utf-8"))
    (fnr,) = [i["value"] for i in patient["identifier"] if i["system"] == ids.FNR_SYSTEM]
    # 210305 502: K1 6+7+0+3+0+45+20+0+4 = 85 -> 8 -> 3; K2 10+4+0+6+0+30+25+0+6+6 = 87 -> 10 -> 1.
    # Series 500-999 with year 00-39 -> 2005-03-21; 502 even -> female, as the resource says.
    assert is_valid_fnr(fnr)
    assert birth_date_of(fnr) == date(2005, 3, 21)
    assert sex_of(fnr) == patient["gender"]


class TestSyntheticFnrProperties:
    def _random_birth(self, rng: random.Random) -> date:
        start, end = date(1854, 1, 1), date(2039, 12, 31)
        return start + timedelta(days=rng.randrange((end - start).days + 1))

    def test_round_trip(self) -> None:
        rng = random.Random(4711)
        for _ in range(3000):
            birth = self._random_birth(rng)
            female = rng.choice((True, False, None))
            fnr = synthetic_fnr(birth, rng, female)
            assert is_valid_fnr(fnr)
            assert is_synthetic(fnr)
            assert not is_valid_fnr(fnr, allow_synthetic=False)
            assert kind_of(fnr) == "fnr"
            assert birth_date_of(fnr) == birth
            assert 81 <= int(fnr[2:4]) <= 92
            if female is not None:
                assert sex_of(fnr) == ("female" if female else "male")

    def test_every_single_digit_change_is_caught(self) -> None:
        rng = random.Random(99)
        for _ in range(200):
            fnr = synthetic_fnr(self._random_birth(rng), rng)
            for position in range(11):
                for digit in "0123456789":
                    if digit != fnr[position]:
                        changed = fnr[:position] + digit + fnr[position + 1 :]
                        assert kind_of(changed) is None

    def test_deterministic(self) -> None:
        birth = date(1975, 6, 30)
        assert synthetic_fnr(birth, random.Random(1)) == synthetic_fnr(birth, random.Random(1))

    def test_sex_is_spread(self) -> None:
        rng = random.Random(7)
        sexes = {sex_of(synthetic_fnr(date(1980, 1, 1), rng)) for _ in range(50)}
        assert sexes == {"female", "male"}

    @pytest.mark.parametrize("birth", [date(1853, 12, 31), date(2040, 1, 1)])
    def test_out_of_range(self, birth: date) -> None:
        with pytest.raises(ValueError):
            synthetic_fnr(birth, random.Random(0))


class TestHpr:
    @pytest.mark.parametrize("value", ["1234", "9144889", "565501872"])
    def test_valid(self, value: str) -> None:
        assert is_valid_hpr(value)

    @pytest.mark.parametrize("value", ["", "123", "0123456", "1234567890", "12a4567", fullwidth("9144889"), " 9144889"])
    def test_invalid(self, value: str) -> None:
        assert not is_valid_hpr(value)


class TestOrgnr:
    # 98765432?: 9*3+8*2+7*7+6*6+5*5+4*4+3*3+2*2 = 27+16+49+36+25+16+9+4 = 182, 182 % 11 = 6 -> 11-6 = 5.
    VALID = "987654325"
    # 98765404?: 27+16+49+36+25+16+0+8 = 177, 177 % 11 = 1 -> no control digit exists.
    NO_CONTROL = "98765404"

    def test_known(self) -> None:
        assert orgnr_control_digit(self.VALID[:8]) == 5
        assert is_valid_orgnr(self.VALID)
        assert orgnr_control_digit(self.NO_CONTROL) is None
        for last in "0123456789":
            assert not is_valid_orgnr(self.NO_CONTROL + last)

    @pytest.mark.parametrize("value", ["987654326", "98765432", "9876543250", "98765432a", "", fullwidth("987654325")])
    def test_invalid(self, value: str) -> None:
        assert not is_valid_orgnr(value)

    def test_generated_and_single_digit_changes(self) -> None:
        rng = random.Random(2026)
        made = 0
        while made < 300:
            prefix = "".join(str(rng.randrange(10)) for _ in range(8))
            control = orgnr_control_digit(prefix)
            if control is None:
                continue
            made += 1
            orgnr = f"{prefix}{control}"
            assert is_valid_orgnr(orgnr)
            for position in range(9):
                for digit in "0123456789":
                    if digit != orgnr[position]:
                        assert not is_valid_orgnr(orgnr[:position] + digit + orgnr[position + 1 :])

    def test_bad_input_to_control_digit(self) -> None:
        with pytest.raises(ValueError):
            orgnr_control_digit("1234567")


def test_systems() -> None:
    assert ids.FNR_SYSTEM == "urn:oid:2.16.578.1.12.4.1.4.1"
    assert ids.DNR_SYSTEM == "urn:oid:2.16.578.1.12.4.1.4.2"
    assert ids.FH_SYSTEM == "urn:oid:2.16.578.1.12.4.1.4.3"
    assert ids.HPR_SYSTEM == "urn:oid:2.16.578.1.12.4.1.4.4"
    assert ids.ORGNR_SYSTEM == "urn:oid:2.16.578.1.12.4.1.4.101"
    assert ids.RESH_SYSTEM == "urn:oid:2.16.578.1.12.4.1.4.102"
    assert ids.HER_SYSTEM == "urn:oid:2.16.578.1.12.4.1.2"
    assert {ids.SYSTEM_BY_KIND[k] for k in ("fnr", "dnr", "fh")} == ids.PERSON_ID_SYSTEMS
