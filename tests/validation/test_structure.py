"""Structural R4 validation: every rule has a failing case with its expression; real R4 data passes."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from fhir_server.errors import Issue
from fhir_server.validation import ResourceValidator
from fhir_server.validation.model_check import ModelChecker
from tests.paths import FIXTURES, requires_shared

CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
DAR = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"


def errors(validator: ResourceValidator, resource: Any) -> list[Issue]:
    return [i for i in validator.validate(resource) if i.severity in ("error", "fatal")]


def where(validator: ResourceValidator, resource: Any) -> list[tuple[str, str]]:
    """(issue code, expression) of each error, sorted."""
    return sorted((i.code, i.expression[0] if i.expression else "") for i in errors(validator, resource))


def observation(**elements: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "status": "final", "code": {"text": "weight"}, **elements}


# -- valid content ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "resource",
    [
        {"resourceType": "Patient"},
        {
            "resourceType": "Patient",
            "id": "p-1.a",
            "meta": {"versionId": "1", "lastUpdated": "2024-01-01T10:00:00.123+01:00"},
            "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">x</div>'},
            "identifier": [{"system": "urn:oid:2.16.578.1.12.4.1.4.1", "value": "13116900216"}],
            "name": [{"family": "Søreng\u00a0Hansen", "given": ["Jannice", "Å"]}],  # no-break space is text
            "gender": "female",
            "birthDate": "2000-02-29",
            "deceasedBoolean": False,
            "multipleBirthInteger": 2,
            "extension": [{"url": "http://example.org/x", "valueMeta": {"versionId": "1"}}],  # R4 allows Meta
        },
        observation(valueQuantity={"value": 72.5, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}),
        observation(
            status=None,
            _status={"extension": [{"url": DAR, "valueCode": "unknown"}]},  # required primitive as extension only
        ),
        {
            "resourceType": "Patient",
            "name": [{"given": ["A", None], "_given": [None, {"extension": [{"url": DAR, "valueCode": "masked"}]}]}],
            "_birthDate": {"extension": [{"url": DAR, "valueCode": "unknown"}]},
        },
        {
            "resourceType": "Condition",
            "subject": {"reference": "Patient/1"},
            "clinicalStatus": {
                "coding": [{"system": CLINICAL, "code": "relapse"}, {"system": "http://x", "code": "?"}]
            },
        },
        {"resourceType": "MedicinalProduct", "name": [{"productName": "Paracetamol"}]},  # R4-only type
        {"resourceType": "Evidence", "status": "draft", "exposureBackground": {"reference": "EvidenceVariable/1"}},
        {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "Patient"}}]},
    ],
    ids=[
        "empty-patient",
        "rich-patient",
        "observation",
        "status-as-extension",
        "primitive-extensions",
        "nested-code",
        "r4-only-type",
        "r4-evidence",
        "bundle",
    ],
)
def test_valid_resources_pass(validator: ResourceValidator, model_validator: ResourceValidator, resource: dict) -> None:
    resource = {k: v for k, v in resource.items() if v is not None}
    assert errors(validator, resource) == []
    assert errors(model_validator, resource) == []


# -- unknown elements (including R4B-only ones) -----------------------------------------------------------------


def test_unknown_element(validator: ResourceValidator) -> None:
    assert where(validator, {"resourceType": "Patient", "foo": 1}) == [("structure", "Patient.foo")]
    nested = {"resourceType": "Patient", "name": [{"family": "X", "nickname": "Y"}]}
    assert where(validator, nested) == [("structure", "Patient.name[0].nickname")]


@pytest.mark.parametrize(
    ("resource", "expression"),
    [
        (
            {"resourceType": "ActivityDefinition", "status": "draft", "subjectCanonical": "http://x"},
            "ActivityDefinition.subjectCanonical",
        ),
        (
            {
                "resourceType": "Patient",
                "extension": [{"url": "http://x", "valueCodeableReference": {"concept": {"text": "x"}}}],
            },
            "Patient.extension[0].valueCodeableReference",
        ),
        (
            {
                "resourceType": "Patient",
                "extension": [{"url": "http://x", "valueRatioRange": {"denominator": {"value": 1}}}],
            },
            "Patient.extension[0].valueRatioRange",
        ),
        (
            {
                "resourceType": "Evidence",
                "status": "draft",
                "exposureBackground": {"reference": "EvidenceVariable/1"},
                "statistic": [{"description": "x"}],
            },
            "Evidence.statistic",
        ),
    ],
    ids=["subjectCanonical", "valueCodeableReference", "valueRatioRange", "Evidence.statistic"],
)
def test_r4b_only_elements_are_rejected(
    validator: ResourceValidator, model_validator: ResourceValidator, resource: dict, expression: str
) -> None:
    assert where(validator, resource) == [("structure", expression)]
    assert where(model_validator, resource) == [("structure", expression)]


def test_unknown_choice_type(validator: ResourceValidator) -> None:
    assert where(validator, {"resourceType": "Patient", "deceasedString": "yes"}) == [
        ("structure", "Patient.deceasedString")
    ]


# -- cardinality ------------------------------------------------------------------------------------------------


def test_missing_required_element(validator: ResourceValidator) -> None:
    resource = observation()
    del resource["status"]
    assert where(validator, resource) == [("required", "Observation.status")]


def test_required_elements_only_inside_present_parents(validator: ResourceValidator) -> None:
    assert where(validator, {"resourceType": "Patient"}) == []  # Patient.link.other is required only in a link
    linked = {"resourceType": "Patient", "link": [{"type": "seealso"}]}
    assert where(validator, linked) == [("required", "Patient.link[0].other")]


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        (observation(component=[{"valueString": "x"}]), "Observation.component[0].code"),  # backbone element
        ({"resourceType": "Patient", "extension": [{"valueString": "x"}]}, "Patient.extension[0].url"),  # datatype
        (
            {"resourceType": "Patient", "name": [{"extension": [{"valueString": "x"}]}]},
            "Patient.name[0].extension[0].url",
        ),
        (
            {
                "resourceType": "Questionnaire",
                "status": "draft",
                "item": [{"linkId": "1", "type": "group", "item": [{"type": "string"}]}],
            },
            "Questionnaire.item[0].item[0].linkId",
        ),  # contentReference (#Questionnaire.item)
        (
            {
                "resourceType": "MedicationRequest",
                "status": "active",
                "intent": "order",
                "subject": {"reference": "Patient/1"},
            },
            "MedicationRequest.medication",
        ),  # required choice medication[x]
        ({"resourceType": "Patient", "text": {"status": "generated"}}, "Patient.text.div"),
    ],
    ids=["backbone", "datatype", "nested-datatype", "content-reference", "choice", "narrative"],
)
def test_missing_required_nested(validator: ResourceValidator, resource: dict, expected: str) -> None:
    assert where(validator, resource) == [("required", expected)]


def test_array_where_single_value_expected(validator: ResourceValidator) -> None:
    assert where(validator, {"resourceType": "Patient", "gender": ["male"]}) == [("structure", "Patient.gender")]
    assert where(validator, {"resourceType": "Patient", "managingOrganization": [{"reference": "Organization/1"}]}) == [
        ("structure", "Patient.managingOrganization")
    ]


def test_single_value_where_array_expected(validator: ResourceValidator) -> None:
    assert where(validator, {"resourceType": "Patient", "name": {"family": "X"}}) == [("structure", "Patient.name")]
    assert where(validator, {"resourceType": "Patient", "name": [{"given": "X"}]}) == [
        ("structure", "Patient.name[0].given")
    ]


def test_max_cardinality_of_a_profiled_datatype(validator: ResourceValidator) -> None:
    # referenceRange.low is a SimpleQuantity: comparator has max 0
    resource = observation(referenceRange=[{"low": {"value": 1, "comparator": "<"}}])
    assert where(validator, resource) == [("structure", "Observation.referenceRange[0].low.comparator")]


def test_only_one_choice_type(validator: ResourceValidator) -> None:
    resource = {"resourceType": "Patient", "deceasedBoolean": True, "deceasedDateTime": "2020"}
    assert where(validator, resource) == [("structure", "Patient.deceased")]


# -- JSON shape -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        ({"resourceType": "Patient", "telecom": []}, "Patient.telecom"),
        ({"resourceType": "Patient", "meta": {}}, "Patient.meta"),
        ({"resourceType": "Patient", "name": [None]}, "Patient.name[0]"),
        ({"resourceType": "Patient", "gender": None}, "Patient.gender"),
        ({"resourceType": "Patient", "name": [{"given": ["A", None]}]}, "Patient.name[0].given[1]"),
        ({"resourceType": "Patient", "name": [{"given": ["A"], "_given": [None, None]}]}, "Patient.name[0].given"),
        ({"resourceType": "Patient", "_birthDate": [{"id": "x"}]}, "Patient.birthDate"),
        ({"resourceType": "Patient", "_birthDate": {"foo": 1}}, "Patient.birthDate.foo"),
        ({"resourceType": "Patient", "_foo": {"id": "x"}}, "Patient._foo"),
        ({"resourceType": "Patient", "managingOrganization": "Organization/1"}, "Patient.managingOrganization"),
    ],
    ids=[
        "empty-array",
        "empty-object",
        "null-in-array",
        "null",
        "null-without-extension",
        "misaligned-extensions",
        "extension-shape",
        "extension-content",
        "extension-of-nothing",
        "string-for-object",
    ],
)
def test_json_shape_errors(validator: ResourceValidator, resource: dict, expected: str) -> None:
    found = where(validator, resource)
    assert len(found) == 1 and found[0][1] == expected, found


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        ([1, 2], ""),
        ({"id": "x"}, ""),
        ({"resourceType": "NotAResource"}, "resourceType"),
        ({"resourceType": "Quantity"}, "resourceType"),
    ],
)
def test_not_a_resource(validator: ResourceValidator, resource: Any, expected: str) -> None:
    found = where(validator, resource)
    assert len(found) == 1 and found[0][1] == expected


# -- primitives -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "expected", "message"),
    [
        ({"resourceType": "Patient", "birthDate": "1980-13-01"}, "Patient.birthDate", "Invalid date format"),
        ({"resourceType": "Patient", "birthDate": "2021-02-29"}, "Patient.birthDate", "day does not exist"),
        ({"resourceType": "Patient", "birthDate": "1980-01-01T10:00:00Z"}, "Patient.birthDate", "Invalid date format"),
        ({"resourceType": "Patient", "birthDate": 1980}, "Patient.birthDate", "Expected a JSON string"),
        ({"resourceType": "Patient", "active": "true"}, "Patient.active", "JSON boolean"),
        ({"resourceType": "Patient", "id": "a_b"}, "Patient.id", "Invalid id format"),
        ({"resourceType": "Patient", "id": "x" * 65}, "Patient.id", "Invalid id format"),
        (
            {"resourceType": "Patient", "multipleBirthInteger": 2**31},
            "Patient.multipleBirth.ofType(integer)",
            "out of range",
        ),
        (
            {"resourceType": "Patient", "multipleBirthInteger": 1.5},
            "Patient.multipleBirth.ofType(integer)",
            "JSON integer",
        ),
        ({"resourceType": "Patient", "name": [{"family": ""}]}, "Patient.name[0].family", "Empty string"),
        ({"resourceType": "Patient", "telecom": [{"rank": 0}]}, "Patient.telecom[0].rank", "out of range"),
        ({"resourceType": "Patient", "text": {"status": "generated", "div": "plain"}}, "Patient.text.div", "XHTML"),
        ({"resourceType": "Patient", "photo": [{"data": "not base64!"}]}, "Patient.photo[0].data", "base64Binary"),
        ({"resourceType": "Patient", "identifier": [{"system": "http://x "}]}, "Patient.identifier[0].system", "uri"),
        (
            {"resourceType": "Patient", "communication": [{"language": {"coding": [{"code": "a  b"}]}}]},
            "Patient.communication[0].language.coding[0].code",
            "Invalid code format",
        ),
        (observation(issued="2020-01-01T10:00:00"), "Observation.issued", "Invalid instant format"),
        (observation(effectiveDateTime="2020-01-01T10:00"), "Observation.effective.ofType(dateTime)", "dateTime"),
        (observation(valueQuantity={"value": "72.5"}), "Observation.value.ofType(Quantity).value", "JSON number"),
    ],
)
def test_invalid_primitive(validator: ResourceValidator, resource: dict, expected: str, message: str) -> None:
    found = errors(validator, resource)
    assert [(i.code, i.expression) for i in found] == [("value", (expected,))]
    assert message in found[0].diagnostics


def test_diagnostics_never_echo_values(validator: ResourceValidator, model_validator: ResourceValidator) -> None:
    secret = "13116900216-Jannice"
    resource = {
        "resourceType": "Patient",
        "birthDate": secret,
        "gender": secret,
        "active": secret,
        "id": secret + "_",
        "name": [{"family": 123, "given": [secret, 7]}],
        "telecom": [{"system": secret, "value": 5}],
    }
    for checker in (validator, model_validator):
        found = errors(checker, resource)
        assert len(found) >= 6
        for issue in found:
            assert secret not in issue.diagnostics and "123" not in issue.diagnostics


# -- required bindings ------------------------------------------------------------------------------------------


def test_bad_required_code(validator: ResourceValidator) -> None:
    found = errors(validator, {"resourceType": "Patient", "gender": "xyz"})
    assert [(i.code, i.expression) for i in found] == [("code-invalid", ("Patient.gender",))]
    assert "http://hl7.org/fhir/ValueSet/administrative-gender" in found[0].diagnostics
    assert where(validator, observation(status="done")) == [("code-invalid", "Observation.status")]


def test_bad_required_code_in_nested_elements(validator: ResourceValidator) -> None:
    questionnaire = {
        "resourceType": "Questionnaire",
        "status": "draft",
        "item": [{"linkId": "1", "type": "group", "item": [{"linkId": "2", "type": "bogus"}]}],
    }
    assert where(validator, questionnaire) == [("code-invalid", "Questionnaire.item[0].item[0].type")]
    timing = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"text": "x"},
        "subject": {"reference": "Patient/1"},
        "dosageInstruction": [{"timing": {"repeat": {"dayOfWeek": ["mon", "xyz"], "periodUnit": "wk"}}}],
    }
    assert where(validator, timing) == [
        ("code-invalid", "MedicationRequest.dosageInstruction[0].timing.repeat.dayOfWeek[1]")
    ]


def test_bad_required_coding_in_codeable_concept(validator: ResourceValidator) -> None:
    condition = {
        "resourceType": "Condition",
        "subject": {"reference": "Patient/1"},
        "clinicalStatus": {"coding": [{"system": "http://x", "code": "?"}, {"system": CLINICAL, "code": "gone"}]},
    }
    assert where(validator, condition) == [("code-invalid", "Condition.clinicalStatus.coding[1]")]


def test_codes_of_non_enumerable_value_sets_are_not_judged(validator: ResourceValidator) -> None:
    # Attachment.contentType is bound (required) to mime types: not enumerable, so not checked
    assert where(validator, {"resourceType": "Patient", "photo": [{"contentType": "image/x-anything"}]}) == []


# -- nested resources -------------------------------------------------------------------------------------------


def test_contained_resources_are_validated_as_their_type(validator: ResourceValidator) -> None:
    resource = {
        "resourceType": "Patient",
        "contained": [{"resourceType": "Observation", "id": "o1", "code": {"text": "x"}, "valueString": "x", "foo": 1}],
    }
    assert where(validator, resource) == [
        ("required", "Patient.contained[0].status"),
        ("structure", "Patient.contained[0].foo"),
    ]
    unknown = {"resourceType": "Patient", "contained": [{"resourceType": "Nope"}, "x"]}
    assert where(validator, unknown) == [
        ("not-supported", "Patient.contained[0]"),
        ("structure", "Patient.contained[1]"),
    ]


def test_bundle_entries_are_validated_as_their_type(validator: ResourceValidator) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": {"resourceType": "Patient"}, "request": {"method": "POST", "url": "Patient"}},
            {"resource": {"resourceType": "Patient", "gender": "xyz"}, "request": {"method": "POST", "url": "Patient"}},
            {"resource": {"resourceType": "Observation"}, "request": {"method": "GET"}},
        ],
    }
    assert where(validator, bundle) == [
        ("code-invalid", "Bundle.entry[1].resource.gender"),
        ("required", "Bundle.entry[2].request.url"),
        ("required", "Bundle.entry[2].resource.code"),
        ("required", "Bundle.entry[2].resource.status"),
    ]


def test_parameters_resources_are_validated(validator: ResourceValidator, model_validator: ResourceValidator) -> None:
    parameters = {
        "resourceType": "Parameters",
        "parameter": [{"name": "a", "part": [{"name": "b", "resource": {"resourceType": "Patient", "gender": "xyz"}}]}],
    }
    expected = [("code-invalid", "Parameters.parameter[0].part[0].resource.gender")]
    assert where(validator, parameters) == expected
    assert where(model_validator, parameters) == expected


# -- the R4B model layer ----------------------------------------------------------------------------------------


def test_model_layer_translates_errors_without_values() -> None:
    checker = ModelChecker()
    found = checker.check(
        {
            "resourceType": "Patient",
            "birthDate": "1980-13-01",
            "name": [{"given": [5]}],
            "contained": [{"resourceType": "Observation", "status": "final"}],
        }
    )
    assert sorted((i.code, i.expression[0], i.diagnostics) for i in found) == [
        ("required", "Patient.contained[0].code", "Missing required element"),
        ("value", "Patient.birthDate", "Invalid date format"),
        ("value", "Patient.name[0].given[0]", "Expected a JSON string"),
    ]


def test_model_layer_skips_known_r4b_differences() -> None:
    checker = ModelChecker()
    assert (
        checker.check({"resourceType": "Patient", "extension": [{"url": "http://x", "valueMeta": {"versionId": "1"}}]})
        == []
    )
    assert checker.check({"resourceType": "SubstancePolymer", "foo": 1}) == []  # no R4B model: rules decide
    assert checker.check({"resourceType": "Patient", "name": [{"family": "\u00a0"}]}) == []  # ASCII regex classes


def test_both_layers_report_one_issue_per_expression(model_validator: ResourceValidator) -> None:
    found = errors(model_validator, {"resourceType": "Patient", "birthDate": "1980-13-01"})
    assert [i.expression for i in found] == [("Patient.birthDate",)]


def test_warm_up_compiles_every_resource_type(core_definitions: Any) -> None:
    assert ResourceValidator(core_definitions).warm_up() == 146


# -- real data --------------------------------------------------------------------------------------------------


@requires_shared
def test_all_synthea_resources_are_valid(validator: ResourceValidator, synthea_resources: list[dict]) -> None:
    assert len(synthea_resources) == 7876
    invalid = {}
    for resource in synthea_resources:
        found = errors(validator, resource)
        if found:
            invalid[f"{resource['resourceType']}/{resource.get('id')}"] = [i.to_fhir() for i in found]
    assert invalid == {}


@requires_shared
def test_all_synthea_resources_are_valid_with_models(
    model_validator: ResourceValidator, synthea_resources: list[dict]
) -> None:
    invalid = [r.get("id") for r in synthea_resources if errors(model_validator, r)]
    assert invalid == []


def _fixture(*parts: str) -> dict[str, Any]:
    return orjson.loads(FIXTURES.joinpath(*parts).read_bytes())


@requires_shared
@pytest.mark.parametrize(
    "name",
    [
        "no-basis/no-basis-Patient-Jannice-Søreng.json",
        "no-basis/no-basis-Patient.structuredefinition-profile.json",
        "helsenorge/refero-preview-all-components.q.json",
        "helsenorge/refero-section-score.q.json",
        "helsenorge/refero-slv-adverse-reaction.bundle.json",
        "helsenorge/structor-Hdir_mental_abc-nb-NO-v0.08.json",
    ],
)
def test_norwegian_fixtures_are_valid(
    validator: ResourceValidator, model_validator: ResourceValidator, name: str
) -> None:
    resource = _fixture(*name.split("/"))
    assert errors(validator, resource) == []
    assert errors(model_validator, resource) == []


@requires_shared
def test_helsenorge_fixtures_with_real_r4_errors(validator: ResourceValidator) -> None:
    """Real Helsenorge content that is not valid R4 (the HL7 Java validator rejects it too)."""
    structor = _fixture("helsenorge", "structor-HSO_pakjenning-v2.0.7.bundle.json")
    found = where(validator, structor)
    # a Coding.system URI with a trailing space, and a code containing runs of spaces, in each of 3 languages
    assert found == sorted(
        [
            ("value", f"Bundle.entry[{i}].resource.extension[3].value.ofType(CodeableConcept).coding[0].system")
            for i in range(3)
        ]
        + [("value", f"Bundle.entry[{i}].resource.item[3].item[0].code[0].code") for i in range(3)]
    )
    response = _fixture("helsenorge", "refero-slv-adverse-reaction.generated-qr.json")
    assert where(validator, response) == [  # refero writes "answer": [] (empty arrays are not allowed in FHIR JSON)
        ("structure", "QuestionnaireResponse.item[4].item[0].answer[0].item[0].item[0].answer"),
        ("structure", "QuestionnaireResponse.item[4].item[2].item[1].answer"),
    ]
