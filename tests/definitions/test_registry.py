"""The definitions registry: lazy loading, lookups, overrides by canonical URL, SearchParameters, expansions."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest

from fhir_server.definitions.package_cache import PackageUnavailable
from fhir_server.definitions.registry import Definitions, default_definitions, load_definitions
from fhir_server.settings import Settings

GENDER = "http://hl7.org/fhir/ValueSet/administrative-gender"
GENDER_CS = "http://hl7.org/fhir/administrative-gender"


def _write(folder: Path, *resources: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for resource in resources:
        name = f"{resource['resourceType']}-{resource['id']}.json"
        (folder / name).write_bytes(orjson.dumps(resource))
    return folder


# -- loading ----------------------------------------------------------------------------------------------------


def test_loading_reads_only_the_index(core_dir: Path) -> None:
    started = time.perf_counter()
    definitions = load_definitions([core_dir])
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0
    assert definitions._cache._items == {}  # nothing parsed yet
    assert definitions.count_of_type("StructureDefinition") == 655
    assert definitions.count_of_type("SearchParameter") == 1400


def test_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_definitions([tmp_path / "absent"])


def test_resource_types_are_the_concrete_r4_resources(core: Definitions) -> None:
    types = core.resource_types
    assert {"Patient", "Observation", "Bundle", "Parameters", "Binary", "Questionnaire"} <= types
    assert not {"Resource", "DomainResource", "vitalsigns", "Quantity", "Extension", "string"} & types
    # the same list as the R4 resource-types code system, minus the two abstract bases
    codes = core.code_system_codes("http://hl7.org/fhir/resource-types")
    assert codes is not None
    assert types == codes - {"Resource", "DomainResource"}
    assert len(types) == 146
    assert core.is_domain_resource("Patient")
    assert not core.is_domain_resource("Bundle")


# -- lookups ----------------------------------------------------------------------------------------------------


def test_structure_definition_by_type_url_and_versioned_url(core: Definitions) -> None:
    by_type = core.structure_definition("Patient")
    assert by_type is not None and by_type["type"] == "Patient" and "snapshot" in by_type
    assert core.structure_definition("http://hl7.org/fhir/StructureDefinition/Patient") is by_type
    assert core.structure_definition("http://hl7.org/fhir/StructureDefinition/Patient|4.0.1") is by_type
    profile = core.structure_definition("http://hl7.org/fhir/StructureDefinition/vitalsigns")
    assert profile is not None and profile["derivation"] == "constraint"
    assert core.structure_definition("NoSuchType") is None


def test_value_set_and_code_system_lookups(core: Definitions) -> None:
    value_set = core.value_set(GENDER + "|4.0.1")
    assert value_set is not None and value_set["resourceType"] == "ValueSet"
    code_system = core.code_system(GENDER_CS)
    assert code_system is not None and code_system["resourceType"] == "CodeSystem"
    assert core.value_set(GENDER_CS) is None  # lookups are per resource type
    snomed = core.code_system("http://snomed.info/sct")
    assert snomed is not None and snomed["content"] == "not-present"  # described, not enumerated
    assert core.code_system_codes("http://snomed.info/sct") is None
    assert core.code_system("http://example.org/no-such-system") is None


def test_resources_of_type(core: Definitions) -> None:
    parameters = list(core.resources_of_type("SearchParameter"))
    assert len(parameters) == 1400
    assert all(p["resourceType"] == "SearchParameter" for p in parameters)
    assert list(core.resources_of_type("NoSuchType")) == []


# -- search parameters ------------------------------------------------------------------------------------------


def _codes(parameters: list[dict]) -> list[str]:
    return sorted(p["code"] for p in parameters)


def test_search_parameters_of_a_type_include_resource_and_domain_resource(core: Definitions) -> None:
    patient = core.search_parameters("Patient")
    codes = _codes(patient)
    assert {"gender", "birthdate", "name", "identifier", "_id", "_lastUpdated", "_tag", "_text"} <= set(codes)
    assert len(codes) == len(set(codes))  # one parameter per code
    ids = [p for p in patient if p["code"] == "_id"]
    assert ids[0]["url"] == "http://hl7.org/fhir/SearchParameter/Resource-id"  # not the experimental example
    birthdate = next(p for p in patient if p["code"] == "birthdate")
    assert "Person" in birthdate["base"]  # shared parameter with several bases
    bundle = _codes(core.search_parameters("Bundle"))
    assert "_text" not in bundle and "_id" in bundle and "composition" in bundle


def test_experimental_example_does_not_replace_the_real_parameter(core: Definitions) -> None:
    subject = next(p for p in core.search_parameters("Condition") if p["code"] == "subject")
    assert subject["id"] == "Condition-subject"


# -- value set expansion ----------------------------------------------------------------------------------------


def test_expand_administrative_gender(core: Definitions) -> None:
    assert core.expand_value_set(GENDER) == frozenset(
        {(GENDER_CS, "male"), (GENDER_CS, "female"), (GENDER_CS, "other"), (GENDER_CS, "unknown")}
    )


def test_expand_observation_status_with_version_suffix(core: Definitions) -> None:
    expansion = core.expand_value_set("http://hl7.org/fhir/ValueSet/observation-status|4.0.1")
    assert expansion is not None
    assert {code for _, code in expansion} == {
        "registered",
        "preliminary",
        "final",
        "amended",
        "corrected",
        "cancelled",
        "entered-in-error",
        "unknown",
    }
    assert {system for system, _ in expansion} == {"http://hl7.org/fhir/observation-status"}


def test_expand_walks_nested_concepts(core: Definitions) -> None:
    expansion = core.expand_value_set("http://hl7.org/fhir/ValueSet/condition-clinical")
    assert expansion is not None
    assert {code for _, code in expansion} == {"active", "recurrence", "relapse", "inactive", "remission", "resolved"}


def test_expand_explicit_concepts_of_an_external_system(core: Definitions) -> None:
    expansion = core.expand_value_set("http://hl7.org/fhir/ValueSet/units-of-time")
    assert expansion == frozenset(("http://unitsofmeasure.org", c) for c in ("s", "min", "h", "d", "wk", "mo", "a"))


def test_expand_value_set_imports(core: Definitions) -> None:
    expansion = core.expand_value_set("http://hl7.org/fhir/ValueSet/event-or-request-resource-types")
    assert expansion is not None
    assert ("http://hl7.org/fhir/event-resource-types", "Observation") in expansion  # from the imported set
    assert ("http://hl7.org/fhir/request-resource-types", "ServiceRequest") in expansion


@pytest.mark.parametrize(
    "url",
    [
        "http://hl7.org/fhir/ValueSet/observation-codes",  # all of LOINC
        "http://hl7.org/fhir/ValueSet/mimetypes",  # urn:ietf:bcp:13
        "http://hl7.org/fhir/ValueSet/all-languages",  # urn:ietf:bcp:47
        "http://hl7.org/fhir/ValueSet/ucum-units",  # UCUM
        "http://hl7.org/fhir/ValueSet/v3-ActEncounterCode",  # is-a filter
        "http://example.org/no-such-value-set",
    ],
)
def test_non_enumerable_value_sets_are_none(core: Definitions, url: str) -> None:
    assert core.expand_value_set(url) is None


def test_expansions_are_cached(core: Definitions) -> None:
    assert core.expand_value_set(GENDER) is core.expand_value_set(GENDER + "|4.0.1")


# -- a project package: scanning, include/exclude, overrides ------------------------------------------------------

LOCAL_CS = "http://example.org/CodeSystem/colours"


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    return _write(
        tmp_path / "profiles",
        {
            "resourceType": "CodeSystem",
            "id": "colours",
            "url": LOCAL_CS,
            "status": "active",
            "content": "complete",
            "concept": [
                {"code": "warm", "concept": [{"code": "red"}, {"code": "orange", "concept": [{"code": "amber"}]}]},
                {"code": "cold", "concept": [{"code": "blue"}]},
            ],
        },
        {
            "resourceType": "ValueSet",
            "id": "colours-no-warm",
            "url": "http://example.org/ValueSet/colours-no-warm",
            "status": "active",
            "compose": {
                "include": [{"system": LOCAL_CS}],
                "exclude": [{"system": LOCAL_CS, "concept": [{"code": "warm"}, {"code": "cold"}]}],
            },
        },
        {
            "resourceType": "ValueSet",
            "id": "colours-and-gender",
            "url": "http://example.org/ValueSet/colours-and-gender",
            "status": "active",
            "compose": {
                "include": [
                    {"valueSet": ["http://example.org/ValueSet/colours-no-warm|1.0"]},
                    {"valueSet": [GENDER]},
                ]
            },
        },
        {
            "resourceType": "ValueSet",
            "id": "filtered",
            "url": "http://example.org/ValueSet/filtered",
            "status": "active",
            "compose": {
                "include": [{"system": LOCAL_CS, "filter": [{"property": "concept", "op": "is-a", "value": "warm"}]}]
            },
        },
        # overrides the core administrative-gender ValueSet by canonical URL
        {
            "resourceType": "ValueSet",
            "id": "administrative-gender",
            "url": GENDER,
            "status": "active",
            "compose": {"include": [{"system": GENDER_CS, "concept": [{"code": "female"}, {"code": "male"}]}]},
        },
        {
            "resourceType": "SearchParameter",
            "id": "patient-gender",
            "url": "http://example.org/SearchParameter/patient-gender",
            "name": "gender",
            "status": "active",
            "description": "project override",
            "code": "gender",
            "base": ["Patient"],
            "type": "token",
            "expression": "Patient.gender",
        },
    )


def test_project_package_without_index_is_scanned_and_overrides(core_dir: Path, project_dir: Path) -> None:
    definitions = load_definitions([core_dir, project_dir])
    assert definitions.expand_value_set("http://example.org/ValueSet/colours-no-warm") == frozenset(
        {(LOCAL_CS, "red"), (LOCAL_CS, "orange"), (LOCAL_CS, "amber"), (LOCAL_CS, "blue")}
    )
    assert definitions.expand_value_set(GENDER) == frozenset({(GENDER_CS, "female"), (GENDER_CS, "male")})
    both = definitions.expand_value_set("http://example.org/ValueSet/colours-and-gender")
    assert both is not None and len(both) == 6
    assert definitions.expand_value_set("http://example.org/ValueSet/filtered") is None
    gender = [p for p in definitions.search_parameters("Patient") if p["code"] == "gender"]
    assert [p["url"] for p in gender] == ["http://example.org/SearchParameter/patient-gender"]
    value_sets = [v for v in definitions.resources_of_type("ValueSet") if v["url"] == GENDER]
    assert len(value_sets) == 1 and value_sets[0]["compose"]["include"][0]["concept"]


def test_files_missing_from_a_stale_index_are_still_found(core_dir: Path, project_dir: Path) -> None:
    listed = {"filename": "CodeSystem-colours.json", "resourceType": "CodeSystem", "id": "colours", "url": LOCAL_CS}
    (project_dir / ".index.json").write_bytes(orjson.dumps({"index-version": 1, "files": [listed]}))
    definitions = load_definitions([core_dir, project_dir])
    assert definitions.code_system(LOCAL_CS) is not None
    assert definitions.value_set("http://example.org/ValueSet/colours-no-warm") is not None  # not in the index


def test_default_definitions_uses_settings_and_is_cached(core_dir: Path, project_dir: Path) -> None:
    cache = core_dir.parent.parent
    settings = Settings(fhir_package_cache=cache, profiles_dir=project_dir)
    definitions = default_definitions(settings)
    assert definitions is default_definitions(settings)
    assert definitions.package_dirs == (core_dir.resolve(), project_dir.resolve())
    without_profiles = default_definitions(Settings(fhir_package_cache=cache, profiles_dir=project_dir / "none"))
    assert without_profiles.package_dirs == (core_dir.resolve(),)


def test_default_definitions_without_core_package(tmp_path: Path) -> None:
    with pytest.raises(PackageUnavailable):
        default_definitions(Settings(fhir_package_cache=tmp_path, profiles_dir=tmp_path / "profiles"))
