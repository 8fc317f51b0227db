"""Index rows of hand-made resources: every parameter type and its edges."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson

from fhir_server.search.index import ResourceIndexer
from fhir_server.search.index.date_spans import MULTI, OPEN_SPAN
from fhir_server.search.index.rows import DATE_MAX, DATE_MIN, ReferenceRow, TokenRow
from fhir_server.search.index.values import NUMBER_MAX, NUMBER_MIN
from tests.paths import FIXTURES, requires_shared
from tests.search_index.helpers import hull, of

V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
FNR = "urn:oid:2.16.578.1.12.4.1.4.1"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"

PATIENT: dict[str, Any] = {
    "resourceType": "Patient",
    "id": "p1",
    "meta": {
        "tag": [{"system": "http://example.org/tags", "code": "test"}],
        "profile": ["http://hl7.no/fhir/StructureDefinition/no-basis-Patient"],
        "source": "http://example.org/source#1",
    },
    "identifier": [
        {
            "system": FNR,
            "value": "13031353453",
            "type": {"coding": [{"system": V2_0203, "code": "NI"}], "text": "Fødselsnummer"},
        },
        {"system": "http://example.org/mrn", "value": "MRN-1"},
    ],
    "active": True,
    "name": [
        {
            "family": "Nordmann",
            "given": ["Kari", "Ås"],
            "prefix": ["Dr."],
            "suffix": ["Jr."],
            "text": "Dr. Kari Ås Nordmann Jr.",
        }
    ],
    "telecom": [{"system": "phone", "value": "+47 12345678", "use": "mobile"}, {"system": "email", "value": "k@x.no"}],
    "gender": "female",
    "birthDate": "1980-05",
    "deceasedDateTime": "2020-01-01T12:00:00+01:00",
    "address": [
        {
            "use": "home",
            "line": ["Storgata 1", "Leilighet 2"],
            "city": "Tromsø",
            "district": "Tromsø",
            "state": "Troms",
            "postalCode": "9008",
            "country": "NO",
        }
    ],
    "generalPractitioner": [{"reference": "Practitioner/gp1"}],
    "managingOrganization": {"identifier": {"system": "urn:oid:2.16.578.1.12.4.1.4.101", "value": "974589095"}},
    "link": [{"other": {"reference": "Patient/p0"}, "type": "seealso"}],
}


def test_patient_strings(indexer: ResourceIndexer) -> None:
    rows = indexer.rows(PATIENT)
    assert [(r.value, r.exact) for r in of(rows, "strings", "family")] == [("nordmann", "Nordmann")]
    assert [(r.value, r.exact) for r in of(rows, "strings", "given")] == [("kari", "Kari"), ("as", "Ås")]
    assert {r.value for r in of(rows, "strings", "name")} == {
        "kari",
        "as",
        "dr.",
        "jr.",
        "nordmann",
        "dr. kari as nordmann jr.",
    }
    assert [r.value for r in of(rows, "strings", "address-city")] == ["tromso"]
    assert [r.exact for r in of(rows, "strings", "address-postalcode")] == ["9008"]
    assert {r.value for r in of(rows, "strings", "address")} == {
        "storgata 1",
        "leilighet 2",
        "tromso",
        "troms",
        "9008",
        "no",
    }
    assert all(r.grp is None for r in rows.strings)


def test_patient_tokens(indexer: ResourceIndexer) -> None:
    rows = indexer.rows(PATIENT)
    assert of(rows, "tokens", "identifier") == [
        TokenRow("identifier", FNR, "13031353453", "fodselsnummer", V2_0203, "NI"),
        TokenRow("identifier", "http://example.org/mrn", "MRN-1"),
    ]
    assert [(r.system, r.code) for r in of(rows, "tokens", "phone")] == [("phone", "+47 12345678")]
    assert [(r.system, r.code) for r in of(rows, "tokens", "email")] == [("email", "k@x.no")]
    assert len(of(rows, "tokens", "telecom")) == 2
    assert [r.code for r in of(rows, "tokens", "gender")] == ["female"]
    assert [r.code for r in of(rows, "tokens", "active")] == ["true"]
    assert [r.code for r in of(rows, "tokens", "deceased")] == ["true"]
    assert [r.code for r in of(rows, "tokens", "address-use")] == ["home"]
    assert [(r.system, r.code) for r in of(rows, "tokens", "_tag")] == [("http://example.org/tags", "test")]


def test_patient_deceased_token_variants(indexer: ResourceIndexer) -> None:
    def deceased(patient: dict[str, Any]) -> list[str | None]:
        return [r.code for r in of(indexer.rows({"resourceType": "Patient", **patient}), "tokens", "deceased")]

    assert deceased({"deceasedBoolean": True}) == ["true"]
    assert deceased({"deceasedBoolean": False}) == ["false"]
    assert deceased({}) == ["false"]  # the expression is false for a living patient


def test_patient_dates_references_and_uris(indexer: ResourceIndexer) -> None:
    rows = indexer.rows(PATIENT)
    assert [(r.low, r.high) for r in of(rows, "dates", "birthdate")] == [(datetime(1980, 5, 1), datetime(1980, 6, 1))]
    assert [(r.low, r.high) for r in of(rows, "dates", "death-date")] == [
        (datetime(2020, 1, 1, 11), datetime(2020, 1, 1, 11, 0, 1))
    ]
    assert of(rows, "references", "general-practitioner") == [
        ReferenceRow("general-practitioner", "Practitioner", "gp1")
    ]
    assert of(rows, "references", "organization") == [
        ReferenceRow("organization", None, None, None, None, "urn:oid:2.16.578.1.12.4.1.4.101", "974589095")
    ]
    assert of(rows, "references", "link") == [ReferenceRow("link", "Patient", "p0")]
    assert [r.value for r in of(rows, "uris", "_profile")] == [
        "http://hl7.no/fhir/StructureDefinition/no-basis-Patient"
    ]
    assert [r.value for r in of(rows, "uris", "_source")] == ["http://example.org/source#1"]


def _observation(**fields: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": "o1", "status": "final", **fields}


BP_CODE = {"coding": [{"system": LOINC, "code": "85354-9", "display": "Blood pressure panel"}], "text": "BP"}


def _component(code: str, value: float) -> dict[str, Any]:
    return {
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "valueQuantity": {"value": value, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"},
    }


def test_observation_code_subject_and_period(indexer: ResourceIndexer) -> None:
    rows = indexer.rows(
        _observation(
            code=BP_CODE,
            category=[
                {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}
                    ]
                }
            ],
            subject={"reference": "Patient/p1"},
            effectivePeriod={"start": "2021-03-01T08:00:00Z"},
        )
    )
    assert of(rows, "tokens", "code") == [
        TokenRow("code", LOINC, "85354-9", "blood pressure panel"),
        TokenRow("code", None, None, "bp"),  # CodeableConcept.text, for :text
    ]
    assert [r.code for r in of(rows, "tokens", "category")] == ["vital-signs"]
    assert [r.code for r in of(rows, "tokens", "status")] == ["final"]
    assert of(rows, "references", "subject") == [ReferenceRow("subject", "Patient", "p1")]
    assert of(rows, "references", "patient") == [ReferenceRow("patient", "Patient", "p1")]
    assert [(r.low, r.high) for r in of(rows, "dates", "date")] == [(datetime(2021, 3, 1, 8), DATE_MAX)]


def test_observation_subject_of_another_type_is_not_a_patient(indexer: ResourceIndexer) -> None:
    rows = indexer.rows(_observation(subject={"reference": "Group/g1"}))
    assert of(rows, "references", "subject") == [ReferenceRow("subject", "Group", "g1")]
    assert of(rows, "references", "patient") == []


def test_observation_value_quantity_and_concept(indexer: ResourceIndexer) -> None:
    rows = indexer.rows(
        _observation(
            code={"coding": [{"system": LOINC, "code": "2339-0"}]},
            valueQuantity={"value": 5.40, "unit": "mmol/L", "system": UCUM, "code": "mmol/L"},
        )
    )
    [quantity] = of(rows, "quantities", "value-quantity")
    assert (quantity.system, quantity.code, quantity.unit) == (UCUM, "mmol/L", "mmol/L")
    assert (quantity.low, quantity.high) == (Decimal("5.35"), Decimal("5.45"))  # 5.40 arrives as the float 5.4
    assert [r.grp for r in of(rows, "tokens", "code-value-quantity$0")] == [0]
    assert [r.grp for r in of(rows, "quantities", "code-value-quantity$1")] == [0]

    rows = indexer.rows(
        _observation(valueCodeableConcept={"coding": [{"system": "http://snomed.info/sct", "code": "260385009"}]})
    )
    assert [(r.system, r.code) for r in of(rows, "tokens", "value-concept")] == [
        ("http://snomed.info/sct", "260385009")
    ]
    assert of(rows, "quantities", "value-quantity") == []


def test_observation_quantity_comparator(indexer: ResourceIndexer) -> None:
    rows = indexer.rows(_observation(valueQuantity={"value": 5, "comparator": "<", "unit": "mg"}))
    [quantity] = of(rows, "quantities", "value-quantity")
    assert (quantity.low, quantity.high, quantity.unit) == (NUMBER_MIN, Decimal(5), "mg")


def test_observation_component_composites(indexer: ResourceIndexer) -> None:
    rows = indexer.rows(_observation(code=BP_CODE, component=[_component("8480-6", 120), _component("8462-4", 80)]))
    codes = of(rows, "tokens", "component-code-value-quantity$0")
    values = of(rows, "quantities", "component-code-value-quantity$1")
    assert [(r.code, r.grp) for r in codes] == [("8480-6", 0), ("8462-4", 1)]
    assert [(r.low, r.high, r.grp) for r in values] == [
        (Decimal("119.5"), Decimal("120.5"), 0),
        (Decimal("79.5"), Decimal("80.5"), 1),
    ]
    # combo: the Observation itself has no value, so only the components form groups
    assert [(r.code, r.grp) for r in of(rows, "tokens", "combo-code-value-quantity$0")] == [
        ("8480-6", 0),
        ("8462-4", 1),
    ]
    assert of(rows, "tokens", "code-value-quantity$0") == []
    assert {r.code for r in of(rows, "tokens", "combo-code")} == {"85354-9", "8480-6", "8462-4", None}
    assert [r.code for r in of(rows, "tokens", "component-code")] == ["8480-6", "8462-4"]
    assert len(of(rows, "quantities", "component-value-quantity")) == 2
    assert all(r.grp is None for r in of(rows, "quantities", "component-value-quantity"))


def test_appointment(indexer: ResourceIndexer) -> None:
    rows = indexer.rows(
        {
            "resourceType": "Appointment",
            "status": "booked",
            "start": "2024-06-01T09:00:00+02:00",
            "end": "2024-06-01T09:30:00+02:00",
            "participant": [
                {"actor": {"reference": "Patient/p1"}, "status": "accepted"},
                {"actor": {"reference": "Practitioner/d1"}, "status": "accepted"},
                {"actor": {"reference": "Location/l1"}, "status": "accepted"},
            ],
        }
    )
    assert [r.code for r in of(rows, "tokens", "status")] == ["booked"]
    assert [(r.low, r.high) for r in of(rows, "dates", "date")] == [
        (datetime(2024, 6, 1, 7), datetime(2024, 6, 1, 7, 0, 1))
    ]
    assert [(r.target_type, r.target_id) for r in of(rows, "references", "actor")] == [
        ("Patient", "p1"),
        ("Practitioner", "d1"),
        ("Location", "l1"),
    ]
    assert [r.target_id for r in of(rows, "references", "patient")] == ["p1"]
    assert [r.target_id for r in of(rows, "references", "practitioner")] == ["d1"]
    assert [r.target_id for r in of(rows, "references", "location")] == ["l1"]
    assert [r.code for r in of(rows, "tokens", "part-status")] == ["accepted"] * 3


def test_questionnaire_and_response_canonicals(indexer: ResourceIndexer) -> None:
    url = "http://example.org/fhir/Questionnaire/phq9"
    rows = indexer.rows(
        {
            "resourceType": "Questionnaire",
            "url": url,
            "version": "2.0",
            "name": "PHQ9",
            "title": "Pasientens helsespørreskjema",
            "status": "active",
            "useContext": [
                {
                    "code": {"system": "http://terminology.hl7.org/CodeSystem/usage-context-type", "code": "focus"},
                    "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": "35489007"}]},
                }
            ],
        }
    )
    assert [r.value for r in of(rows, "uris", "url")] == [url]
    assert [r.code for r in of(rows, "tokens", "version")] == ["2.0"]
    assert [r.value for r in of(rows, "strings", "title")] == ["pasientens helsesporreskjema"]
    assert [(r.code, r.grp) for r in of(rows, "tokens", "context-type-value$0")] == [("focus", 0)]
    assert [(r.code, r.grp) for r in of(rows, "tokens", "context-type-value$1")] == [("35489007", 0)]

    rows = indexer.rows(
        {
            "resourceType": "QuestionnaireResponse",
            "status": "completed",
            "questionnaire": f"{url}|2.0",
            "subject": {"reference": "Patient/p1"},
            "authored": "2024-02-03T10:11:12Z",
        }
    )
    assert of(rows, "references", "questionnaire") == [ReferenceRow("questionnaire", None, None, url, "2.0")]
    assert [r.target_id for r in of(rows, "references", "patient")] == ["p1"]
    assert [r.low for r in of(rows, "dates", "authored")] == [datetime(2024, 2, 3, 10, 11, 12)]


def test_task(indexer: ResourceIndexer) -> None:
    rows = indexer.rows(
        {
            "resourceType": "Task",
            "status": "requested",
            "intent": "order",
            "owner": {"reference": "Practitioner/d1"},
            "focus": {"reference": "QuestionnaireResponse/qr1/_history/3"},
            "for": {"reference": "Patient/p1"},
            "executionPeriod": {"start": "2024-01-01", "end": "2024-01-31"},
        }
    )
    assert of(rows, "references", "owner") == [ReferenceRow("owner", "Practitioner", "d1")]
    assert of(rows, "references", "focus") == [ReferenceRow("focus", "QuestionnaireResponse", "qr1", None, "3")]
    assert [r.target_id for r in of(rows, "references", "patient")] == ["p1"]
    assert [r.target_id for r in of(rows, "references", "subject")] == ["p1"]
    assert [(r.low, r.high) for r in of(rows, "dates", "period")] == [(datetime(2024, 1, 1), datetime(2024, 2, 1))]
    assert [r.code for r in of(rows, "tokens", "status")] == ["requested"]


def test_reference_shapes(indexer: ResourceIndexer) -> None:
    def subject(reference: dict[str, Any]) -> list[ReferenceRow]:
        rows = indexer.rows({"resourceType": "Observation", "subject": reference})
        return of(rows, "references", "subject")

    absolute = "https://fhir.example.org/fhir/Patient/123"  # another server's: never the local Patient/123
    assert subject({"reference": f"{absolute}/_history/2"}) == [ReferenceRow("subject", "Patient", None, absolute, "2")]
    assert subject({"reference": "urn:uuid:0f6a"}) == [ReferenceRow("subject", None, None, "urn:uuid:0f6a")]
    # this server's own absolute URLs are indexed as the relative reference they mean
    own = ResourceIndexer(indexer.definitions, base_url="https://registry.example/fhir/")
    rows = own.rows(
        {"resourceType": "Observation", "subject": {"reference": "https://registry.example/fhir/Patient/9"}}
    )
    assert of(rows, "references", "subject") == [ReferenceRow("subject", "Patient", "9")]
    rows = own.rows({"resourceType": "Observation", "subject": {"reference": absolute}})
    assert of(rows, "references", "subject") == [ReferenceRow("subject", "Patient", None, absolute)]
    assert subject({"reference": "#contained"}) == [ReferenceRow("subject", None, None, "#contained")]
    assert subject({"reference": "https://x.org/not/a/fhir/url"}) == [
        ReferenceRow("subject", None, None, "https://x.org/not/a/fhir/url")
    ]
    assert subject({"type": "Patient", "identifier": {"system": FNR, "value": "1"}}) == [
        ReferenceRow("subject", "Patient", None, None, None, FNR, "1")
    ]
    assert subject({"display": "only a display"}) == []


def test_number_range_money_and_timing(indexer: ResourceIndexer) -> None:
    rows = indexer.rows(
        {
            "resourceType": "RiskAssessment",
            "prediction": [
                {"probabilityDecimal": 0.02},
                {"probabilityRange": {"low": {"value": 1}, "high": {"value": 5}}},
            ],
        }
    )
    assert [(r.low, r.high) for r in of(rows, "numbers", "probability")] == [
        (Decimal("0.015"), Decimal("0.025")),
        (Decimal("0.5"), Decimal("5.5")),
    ]
    rows = indexer.rows({"resourceType": "ChargeItem", "priceOverride": {"value": 100.50, "currency": "NOK"}})
    [money] = of(rows, "quantities", "price-override")
    assert (money.system, money.code, money.low, money.high) == (
        "urn:iso:std:iso:4217",
        "NOK",
        Decimal("100.45"),
        Decimal("100.55"),
    )
    rows = indexer.rows(
        {
            "resourceType": "Condition",
            "onsetRange": {"low": {"value": 10, "unit": "a", "system": UCUM, "code": "a"}},
        }
    )
    [age] = of(rows, "quantities", "onset-age")
    assert (age.code, age.low, age.high) == ("a", Decimal("9.5"), NUMBER_MAX)
    rows = indexer.rows(
        {
            "resourceType": "CarePlan",
            "activity": [
                {
                    "detail": {
                        "status": "scheduled",
                        "scheduledTiming": {
                            "event": ["2024-03-01", "2024-03-08"],
                            "repeat": {"boundsPeriod": {"end": "2024-06-30"}},
                        },
                    }
                }
            ],
        }
    )
    assert [(r.low, r.high, r.span, r.role) for r in of(rows, "dates", "activity-date")] == [
        (datetime(2024, 3, 1), datetime(2024, 3, 2), 0, MULTI),
        (datetime(2024, 3, 8), datetime(2024, 3, 9), 0, MULTI),
        (DATE_MIN, datetime(2024, 7, 1), OPEN_SPAN, MULTI),
    ]
    # the sort key of several values: from the lowest low to the highest high
    assert [(r.low, r.high, r.span, r.grp) for r in hull(rows, "activity-date")] == [
        (DATE_MIN, datetime(2024, 7, 1), OPEN_SPAN, None)
    ]


def test_bundle_composition_and_long_strings(indexer: ResourceIndexer) -> None:
    rows = indexer.rows(
        {
            "resourceType": "Bundle",
            "type": "document",
            "entry": [{"resource": {"resourceType": "Composition", "id": "c1"}}, {"resource": {"resourceType": "X"}}],
        }
    )
    assert of(rows, "references", "composition") == [ReferenceRow("composition", "Composition", "c1")]
    long = "Å" + "x" * 400
    rows = indexer.rows({"resourceType": "Patient", "name": [{"family": long}]})
    [family] = of(rows, "strings", "family")
    assert family.exact == long[:255] and family.value == ("a" + "x" * 400)[:255]


def test_malformed_values_are_skipped(indexer: ResourceIndexer) -> None:
    rows = indexer.rows(
        {
            "resourceType": "Patient",
            "birthDate": "not a date",
            "name": "not a list",
            "gender": 7,
            "telecom": [None, 3, {"system": "phone"}],
            "identifier": {"value": "single object"},
        }
    )
    assert of(rows, "dates", "birthdate") == []
    assert of(rows, "tokens", "gender") == []
    assert of(rows, "tokens", "telecom") == []
    assert [r.code for r in of(rows, "tokens", "identifier")] == ["single object"]
    assert indexer.rows({"resourceType": "NoSuchType"}).tokens == []
    assert indexer.rows({}).tokens == []


@requires_shared
def test_no_basis_patient_sorens(indexer: ResourceIndexer) -> None:
    path = FIXTURES / "no-basis" / "no-basis-Patient-Jannice-Søreng.json"
    rows = indexer.rows(orjson.loads(path.read_bytes()))
    assert [(r.value, r.exact) for r in of(rows, "strings", "family")] == [("soreng", "Søreng")]
    assert ("soreng", "Søreng") in [(r.value, r.exact) for r in of(rows, "strings", "name")]
    assert [r.value for r in of(rows, "strings", "address-city")] == ["oslo"]
    assert ("urn:oid:2.16.578.1.12.4.1.4.1", "21030550231") in [
        (r.system, r.code) for r in of(rows, "tokens", "identifier")
    ]
    assert of(rows, "references", "general-practitioner") == [
        ReferenceRow("general-practitioner", None, None, None, None, "urn:oid:2.16.578.1.12.4.1.2", "720")
    ]
    assert [r.code for r in of(rows, "tokens", "phone")] == ["+4733445566"]
