"""FHIRPath Patch beyond the official cases: error statuses, choices, primitive companions, lists, nesting."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from fhir_server.errors import FhirError
from fhir_server.patch import apply_fhirpath_patch
from fhir_server.patch.definitions import ElementDefinitions

SECRET = "01017012345"  # a made-up national identity number: must never appear in a message
EXTENSION = {"url": "http://example.org/ext", "valueString": "x"}


def op(kind: str, path: str, value: dict[str, Any] | None = None, **parts: Any) -> dict[str, Any]:
    """One operation; ``value`` is the value part without its name ({"valueDate": ...}, {"part": [...]})."""
    part = [{"name": "type", "valueCode": kind}, {"name": "path", "valueString": path}]
    if value is not None:
        part.append({"name": "value", **value})
    for name, given in parts.items():
        part.append({"name": name, "valueString" if name == "name" else "valueInteger": given})
    return {"name": "operation", "part": part}


def params(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Parameters", "parameter": list(operations)}


def patient() -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": "p1",
        "identifier": [
            {"system": "urn:oid:2.16.578.1.12.4.1.4.1", "value": SECRET},
            {"system": "urn:mrn", "value": "M-1"},
        ],
        "name": [{"family": "Nordmann", "given": ["Kari", "Marie"], "_given": [None, {"extension": [EXTENSION]}]}],
        "deceasedBoolean": False,
        "birthDate": "1970-01-01",
    }


@pytest.fixture
def apply(elements: ElementDefinitions):
    def run(resource: dict[str, Any], *operations: dict[str, Any]) -> dict[str, Any]:
        return apply_fhirpath_patch(resource, params(*operations), definitions=elements)

    return run


@pytest.fixture
def error(apply):
    def run(*operations: dict[str, Any], resource: dict[str, Any] | None = None) -> FhirError:
        with pytest.raises(FhirError) as caught:
            apply(resource or patient(), *operations)
        assert SECRET not in str(caught.value.outcome), "messages never echo resource content"
        return caught.value

    return run


@pytest.mark.parametrize(
    "parameters",
    [
        pytest.param({"resourceType": "Patient"}, id="not-parameters"),
        pytest.param([op("delete", "Patient.active")], id="not-an-object"),
        pytest.param(params({"name": "op", "part": []}), id="parameter-not-operation"),
        pytest.param(params(op("upsert", "Patient.active")), id="unknown-type"),
        pytest.param(params(op("replace", "Patient.active")), id="replace-without-value"),
        pytest.param(params(op("add", "Patient", {"valueBoolean": True})), id="add-without-name"),
        pytest.param(params(op("insert", "Patient.name", {"valueString": "x"})), id="insert-without-index"),
        pytest.param(params(op("move", "Patient.name", source=0)), id="move-without-destination"),
        pytest.param(params(op("insert", "Patient.name", {"valueString": "x"}, index=-1)), id="negative-index"),
        pytest.param(params(op("add", "Patient", {"valueBoolean": True}, name="a.b")), id="bad-name"),
        pytest.param(
            params(op("replace", "Patient.active", {"valueBoolean": True, "valueString": "x"})), id="2-values"
        ),
        pytest.param(params(op("replace", "Patient.active", {"part": []})), id="empty-parts"),
        pytest.param(params(op("replace", "Patient.active", {})), id="no-value"),
        pytest.param(params(op("replace", "Patient.active", {"valueBoolean": None})), id="null-value"),
        pytest.param(params(op("delete", "Patient.name.")), id="trailing-dot"),
        pytest.param(params(op("delete", "Patient.name.where(")), id="unclosed"),
        pytest.param(params(op("delete", "Patient..name")), id="double-dot"),
        pytest.param(
            params({"name": "operation", "part": [{"name": "type", "valueCode": "delete"}, {"name": "zap"}]}),
            id="unknown-part",
        ),
    ],
)
def test_malformed_parameters_are_400(elements: ElementDefinitions, parameters: Any) -> None:
    with pytest.raises(FhirError) as caught:
        apply_fhirpath_patch(patient(), parameters, definitions=elements)
    assert caught.value.status == 400


@pytest.mark.parametrize(
    "operation",
    [
        pytest.param(op("replace", "Patient.gender", {"valueCode": "male"}), id="replace-nothing"),
        pytest.param(op("add", "Patient.contact[0]", {"valueCode": "male"}, name="gender"), id="add-to-nothing"),
        pytest.param(op("replace", "Patient.identifier.value", {"valueString": "x"}), id="replace-two"),
        pytest.param(op("delete", "Patient.identifier"), id="delete-two"),
        pytest.param(op("add", "Patient.identifier", {"valueString": "x"}, name="value"), id="add-to-two"),
        pytest.param(op("add", "Patient", {"valueDate": "1980-01-01"}, name="birthDate"), id="add-existing-single"),
        pytest.param(op("add", "Patient", {"valueDateTime": "2020"}, name="deceased"), id="add-existing-choice"),
        pytest.param(op("add", "Patient.birthDate", {"valueString": "x"}, name="value"), id="add-to-primitive"),
        pytest.param(op("replace", "'literal'", {"valueString": "x"}), id="literal"),
        pytest.param(op("replace", "Patient.name.family + 'x'", {"valueString": "x"}), id="computed"),
        pytest.param(op("delete", "Patient"), id="delete-resource"),
        pytest.param(op("delete", "Patient.resourceType"), id="delete-resourceType"),
        pytest.param(op("insert", "Patient.identifier", {"valueString": "x"}, index=3), id="insert-beyond"),
        pytest.param(op("insert", "Patient.birthDate", {"valueString": "x"}, index=0), id="insert-not-list"),
        pytest.param(op("insert", "Patient.gender", {"valueString": "x"}, index=0), id="insert-no-list"),
        pytest.param(
            op("insert", "Patient.identifier.where(system = 'urn:mrn')", {"valueString": "x"}, index=0),
            id="insert-part-of-list",
        ),
        pytest.param(op("move", "Patient.identifier", source=2, destination=0), id="move-source-beyond"),
        pytest.param(op("move", "Patient.identifier", source=0, destination=2), id="move-destination-beyond"),
        pytest.param(op("replace", "Patient.name.zork()", {"valueString": "x"}), id="unknown-function"),
    ],
)
def test_paths_that_do_not_resolve_as_required_are_422(error, operation: dict[str, Any]) -> None:
    assert error(operation).status == 422


def test_errors_name_the_operation_not_the_path(error) -> None:
    failure = error(
        op("delete", "Patient.birthDate"),
        op("replace", f"Patient.identifier.where(value = '{SECRET}').period", {"valueString": "x"}),
    )
    assert failure.issues[0].expression == ("Parameters.parameter[1]",)
    assert "Parameters.parameter[1]" in failure.issues[0].diagnostics


def test_the_input_is_never_modified(apply, error) -> None:
    resource = patient()
    before = copy.deepcopy(resource)
    apply(resource, op("delete", "Patient.name"), op("replace", "Patient.birthDate", {"valueDate": "1980"}))
    assert resource == before
    error(op("delete", "Patient.name"), op("replace", "Patient.gender", {"valueCode": "x"}), resource=resource)
    assert resource == before


def test_delete_of_nothing_does_nothing(apply) -> None:
    assert apply(patient(), op("delete", "Patient.contact"), op("delete", "Patient.name.where(use = 'old')")) == (
        patient()
    )


def test_where_first_last_and_indexes(apply) -> None:
    patched = apply(
        patient(),
        op("replace", "Patient.identifier.where(system = 'urn:mrn').value", {"valueString": "M-2"}),
        op("replace", "Patient.identifier.first().system", {"valueUri": "urn:fnr"}),
        op("delete", "Patient.name.given.first()"),
    )
    assert patched["identifier"] == [{"system": "urn:fnr", "value": SECRET}, {"system": "urn:mrn", "value": "M-2"}]
    assert patched["name"][0]["given"] == ["Marie"]
    assert patched["name"][0]["_given"] == [{"extension": [EXTENSION]}], "companions stay aligned"


def test_choice_elements_take_their_type_from_the_value(apply, error) -> None:
    patched = apply(patient(), op("replace", "Patient.deceased", {"valueDateTime": "2020-02-02"}))
    assert patched["deceasedDateTime"] == "2020-02-02" and "deceasedBoolean" not in patched
    added = apply({"resourceType": "Patient"}, op("add", "Patient", {"valueBoolean": True}, name="deceased"))
    assert added == {"resourceType": "Patient", "deceasedBoolean": True}
    untyped = op("add", "Patient", {"part": [{"name": "x", "valueString": "y"}]}, name="deceased")
    assert error(untyped, resource={"resourceType": "Patient"}).status == 422


def test_primitives_keep_their_id_and_extensions_together(apply) -> None:
    patched = apply(
        patient(),
        op("add", "Patient.birthDate", {"valueExtension": EXTENSION}, name="extension"),
        op("add", "Patient.name.given[0]", {"valueString": "g0"}, name="id"),
        op("move", "Patient.name.given", source=1, destination=0),
    )
    assert patched["_birthDate"] == {"extension": [EXTENSION]}
    assert patched["name"][0]["given"] == ["Marie", "Kari"]
    assert patched["name"][0]["_given"] == [{"extension": [EXTENSION]}, {"id": "g0"}]
    cleared = apply(patched, op("delete", "Patient.birthDate.extension[0]"))
    assert "_birthDate" not in cleared and cleared["birthDate"] == "1970-01-01"
    replaced = apply(patched, op("replace", "Patient.name.given[0]", {"valueString": "Ada"}))
    assert replaced["name"][0]["given"] == ["Ada", "Kari"] and replaced["name"][0]["_given"] == [None, {"id": "g0"}]
    deleted = apply(patched, op("delete", "Patient.name.given[1]"))
    assert deleted["name"][0]["given"] == ["Marie"] and deleted["name"][0]["_given"] == [{"extension": [EXTENSION]}]
    with_companion = {"valueString": "Bo", "_valueString": {"extension": [EXTENSION]}}
    inserted = apply(patient(), op("insert", "Patient.name[0].given", with_companion, index=0))
    assert inserted["name"][0]["given"] == ["Bo", "Kari", "Marie"]
    assert inserted["name"][0]["_given"] == [{"extension": [EXTENSION]}, None, {"extension": [EXTENSION]}]


def test_positions_in_repeating_primitives_ignore_their_companions(apply) -> None:
    resource = {"resourceType": "Patient", "name": [{"given": ["a", "b"], "_given": [{"id": "x"}, None]}]}
    assert apply(resource, op("delete", "Patient.name.given[2]")) == resource  # fhirpathpy alone: given[0]
    assert apply(resource, op("delete", "Patient.name.given.last()"))["name"] == [
        {"given": ["a"], "_given": [{"id": "x"}]}
    ]


def test_insert_into_an_absent_list(apply) -> None:
    patched = apply(
        {"resourceType": "Patient"}, op("insert", "Patient.identifier", {"valueIdentifier": {"value": "1"}}, index=0)
    )
    assert patched == {"resourceType": "Patient", "identifier": [{"value": "1"}]}


def test_values_given_as_parts_follow_the_definitions(apply) -> None:
    contact = {
        "part": [
            {"name": "telecom", "valueContactPoint": {"system": "phone", "value": "+47 1"}},
            {
                "name": "name",
                "part": [{"name": "family", "valueString": "Hansen"}, {"name": "given", "valueString": "Ola"}],
            },
            {"name": "gender", "valueCode": "male"},
        ]
    }
    patched = apply(patient(), op("add", "Patient", contact, name="contact"))
    assert patched["contact"] == [
        {
            "telecom": [{"system": "phone", "value": "+47 1"}],
            "name": {"family": "Hansen", "given": ["Ola"]},
            "gender": "male",
        }
    ]
    component = {
        "part": [{"name": "code", "valueCodeableConcept": {"text": "c"}}, {"name": "value", "valueInteger": 3}]
    }
    observation = {"resourceType": "Observation", "status": "final", "code": {"text": "o"}}
    patched = apply(observation, op("add", "Observation", component, name="component"))
    assert patched["component"] == [{"code": {"text": "c"}, "valueInteger": 3}]


def test_contained_resources_and_resource_values(apply) -> None:
    organization = {"resourceType": "Organization", "id": "o1", "name": "Registry"}
    patched = apply(patient(), op("add", "Patient", {"resource": organization}, name="contained"))
    assert patched["contained"] == [organization]
    patched = apply(patched, op("add", "Patient.contained[0]", {"valueString": "Reg"}, name="alias"))
    assert patched["contained"][0]["alias"] == ["Reg"]
    patched = apply(patched, op("replace", "Patient.contained.ofType(Organization).name", {"valueString": "R"}))
    assert patched["contained"][0]["name"] == "R"


def test_narrative_div(apply) -> None:
    resource = {"resourceType": "Patient", "text": {"status": "generated", "div": "<div>a</div>"}}
    new = '<div xmlns="http://www.w3.org/1999/xhtml">b</div>'
    assert apply(resource, op("replace", "Patient.text.div", {"valueString": new}))["text"]["div"] == new


def test_emptied_elements_are_removed(apply) -> None:
    resource = {"resourceType": "Patient", "contact": [{"name": {"text": "n"}}], "name": [{"given": ["a"]}]}
    assert apply(resource, op("delete", "Patient.contact.name.text"), op("delete", "Patient.name.given")) == {
        "resourceType": "Patient"
    }


def test_a_single_value_where_an_array_belongs_becomes_its_first_item(apply) -> None:
    stored = {"resourceType": "Patient", "identifier": {"value": "1"}}  # invalid, but must not crash a patch
    patched = apply(stored, op("add", "Patient", {"valueIdentifier": {"value": "2"}}, name="identifier"))
    assert patched["identifier"] == [{"value": "1"}, {"value": "2"}]


def test_without_definitions_lists_are_kept_and_absent_elements_added_single() -> None:
    bare = ElementDefinitions({})
    patched = apply_fhirpath_patch(
        patient(),
        params(
            op("add", "Patient", {"valueIdentifier": {"value": "3"}}, name="identifier"),
            op("add", "Patient", {"valueCode": "female"}, name="gender"),
        ),
        definitions=bare,
    )
    assert patched["identifier"][-1] == {"value": "3"} and patched["gender"] == "female"


def test_default_definitions_come_from_the_configured_package_cache(r4_package) -> None:
    from fhir_server.definitions.package_cache import is_installed
    from fhir_server.settings import get_settings

    if not is_installed(get_settings().fhir_package_cache):
        pytest.skip("the configured package cache has no hl7.fhir.r4.core#4.0.1")
    patched = apply_fhirpath_patch(
        {"resourceType": "Patient"},
        params(op("add", "Patient", {"valueIdentifier": {"value": "1"}}, name="identifier")),
    )
    assert patched["identifier"] == [{"value": "1"}]
