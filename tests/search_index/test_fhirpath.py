"""The FHIRPath parser and the compiler on real R4 SearchParameter expressions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fhir_server.definitions.registry import Definitions, load_definitions
from fhir_server.search.index import ResourceIndexer
from fhir_server.search.index.fhirpath_compile import CompileError, PathCompiler, Stream
from fhir_server.search.index.fhirpath_parse import (
    Binary,
    Call,
    FhirPathSyntaxError,
    Ident,
    Indexer,
    Literal,
    Member,
    TypeOp,
    Variable,
    parse_fhirpath,
    union_branches,
)
from fhir_server.search.index.plan import BOOLEAN, COMPILED, EMPTY, FALLBACK, SKIPPED
from tests.search_index.helpers import of

# -- parser ------------------------------------------------------------------------------------------------------


def test_parse_path_union_and_type_operators() -> None:
    node = parse_fhirpath("(Observation.value as Quantity) | Observation.component.value.as(Range)")
    left, right = union_branches(node)
    assert left == TypeOp("as", Member(Ident("Observation"), "value"), "Quantity")
    assert right == Call(Member(Member(Ident("Observation"), "component"), "value"), "as", (Ident("Range"),))


def test_parse_where_resolve_is() -> None:
    node = parse_fhirpath("Account.subject.where(resolve() is Patient)")
    assert node == Call(
        Member(Ident("Account"), "subject"), "where", (TypeOp("is", Call(None, "resolve", ()), "Patient"),)
    )


def test_parse_precedence_as_binds_tighter_than_union() -> None:
    node = parse_fhirpath("A.b | A.c as X")
    assert isinstance(node, Binary) and node.op == "|"
    assert node.right == TypeOp("as", Member(Ident("A"), "c"), "X")


def test_parse_boolean_expression_literals_indexer_and_variables() -> None:
    node = parse_fhirpath("Patient.deceased.exists() and Patient.deceased != false")
    assert node == Binary(
        "and",
        Call(Member(Ident("Patient"), "deceased"), "exists", ()),
        Binary("!=", Member(Ident("Patient"), "deceased"), Literal(False)),
    )
    assert parse_fhirpath("Bundle.entry[0].resource") == Member(
        Indexer(Member(Ident("Bundle"), "entry"), Literal(0)), "resource"
    )
    assert parse_fhirpath("%resource.referenceSeq.chromosome") == Member(
        Member(Variable("resource"), "referenceSeq"), "chromosome"
    )
    assert parse_fhirpath(r"Patient.telecom.where(system='e\'mail')").args[0].right == Literal("e'mail")  # type: ignore[union-attr]


@pytest.mark.parametrize("text", ["Patient.", "Patient.name.where(", "(Patient.name", "Patient.name ]", "Patient ! x"])
def test_parse_errors(text: str) -> None:
    with pytest.raises(FhirPathSyntaxError):
        parse_fhirpath(text)


# -- compiler ----------------------------------------------------------------------------------------------------


def _describe(streams: list[Stream]) -> list[tuple[tuple[str, ...], str]]:
    """Each stream as (the operations, compact) and the type it yields."""
    out = []
    for stream in streams:
        steps = []
        for op in stream.ops:
            steps.append(op[0] if op[0] in ("filter", "root") else f"{op[0]}:{op[1]}")
        out.append((tuple(steps), stream.type))
    return out


def _compile(indexer: ResourceIndexer, expression: str, resource_type: str) -> list[tuple[tuple[str, ...], str]]:
    compiler = PathCompiler(indexer.model, indexer.parser)
    streams: list[Stream] = []
    for branch in union_branches(parse_fhirpath(expression)):
        streams += compiler.streams(branch, [Stream((), resource_type)], resource_type)
    return _describe(streams)


CASES: list[tuple[str, str, list[tuple[tuple[str, ...], str]]]] = [
    ("Patient.name.family | Practitioner.name.family", "Patient", [(("get:name", "get:family"), "string")]),
    ("Patient.name.family | Practitioner.name.family", "Practitioner", [(("get:name", "get:family"), "string")]),
    ("Patient.birthDate | Person.birthDate | RelatedPerson.birthDate", "Patient", [(("get:birthDate",), "date")]),
    ("Resource.meta.tag", "Observation", [(("get:meta", "get:tag"), "Coding")]),
    ("Patient.address", "Patient", [(("get:address",), "Address")]),
    (
        "(Observation.value as Quantity) | (Observation.value as SampledData)",
        "Observation",
        [(("get:valueQuantity",), "Quantity"), (("get:valueSampledData",), "SampledData")],
    ),
    (
        "Condition.onset.as(Age) | Condition.onset.as(Range)",
        "Condition",
        [
            (("get:onsetAge",), "Age"),
            (("get:onsetRange",), "Range"),
        ],
    ),
    (
        "Observation.effective",
        "Observation",
        [
            (("get:effectiveDateTime",), "dateTime"),
            (("get:effectivePeriod",), "Period"),
            (("get:effectiveTiming",), "Timing"),
            (("get:effectiveInstant",), "instant"),
        ],
    ),
    (
        "AllergyIntolerance.patient | CarePlan.subject.where(resolve() is Patient) | Observation.subject.where("
        "resolve() is Patient)",
        "Observation",
        [(("get:subject", "filter"), "Reference")],
    ),
    (
        "AllergyIntolerance.patient | CarePlan.subject.where(resolve() is Patient)",
        "AllergyIntolerance",
        [(("get:patient",), "Reference")],
    ),
    ("Patient.telecom.where(system='email')", "Patient", [(("get:telecom", "filter"), "ContactPoint")]),
    (
        "Library.relatedArtifact.where(type='successor').resource",
        "Library",
        [(("get:relatedArtifact", "filter", "get:resource"), "canonical")],
    ),
    (
        "Patient.extension('http://hl7.org/fhir/StructureDefinition/patient-extensions-Patient-mothersMaidenName')",
        "Patient",
        [
            (
                (
                    "get:extension",
                    "extension:http://hl7.org/fhir/StructureDefinition/patient-extensions-Patient-mothersMaidenName",
                ),
                "Extension",
            )
        ],
    ),
    ("Bundle.entry[0].resource", "Bundle", [(("get:entry", "index:0", "get:resource"), "Resource")]),
    (
        "QuestionnaireResponse.item.where(hasExtension('http://hl7.org/fhir/StructureDefinition/questionnaireresponse-"
        "isSubject')).answer.value.ofType(Reference)",
        "QuestionnaireResponse",
        [(("get:item", "filter", "get:answer", "get:valueReference"), "Reference")],
    ),
    (
        "(Observation.value as CodeableConcept).text",
        "Observation",
        [(("get:valueCodeableConcept", "get:text"), "string")],
    ),
    ("(ConceptMap.source as uri)", "ConceptMap", [(("get:sourceUri",), "uri")]),
    ("Questionnaire.item.item.code", "Questionnaire", [(("get:item", "get:item", "get:code"), "Coding")]),
    (
        "%resource.referenceSeq.chromosome",
        "MolecularSequence",
        [(("root", "get:referenceSeq", "get:chromosome"), "CodeableConcept")],
    ),
    ("Task.owner", "Task", [(("get:owner",), "Reference")]),
    ("Patient.name.family | Practitioner.name.family", "Observation", []),
]


@pytest.mark.parametrize(("expression", "resource_type", "expected"), CASES)
def test_compile_core_expressions(
    indexer: ResourceIndexer, expression: str, resource_type: str, expected: list[tuple[tuple[str, ...], str]]
) -> None:
    assert _compile(indexer, expression, resource_type) == expected


def test_component_expressions_compile_against_the_base_element(indexer: ResourceIndexer) -> None:
    compiler = PathCompiler(indexer.model, indexer.parser)
    context = [Stream((), "Observation.component")]
    streams = compiler.streams(parse_fhirpath("value.as(Quantity)"), context, "Observation")
    assert _describe(streams) == [(("get:valueQuantity",), "Quantity")]
    dates = compiler.streams(parse_fhirpath("value.as(DateTime) | value.as(Period)"), [Stream((), "Observation")], "X")
    assert _describe(dates) == [(("get:valueDateTime",), "dateTime"), (("get:valuePeriod",), "Period")]


@pytest.mark.parametrize(
    "expression",
    ["Patient.name.select(given)", "Patient.name.given.count()", "Patient.name.where(given.substring(0, 1) = 'A')"],
)
def test_unsupported_forms_raise_compile_error(indexer: ResourceIndexer, expression: str) -> None:
    with pytest.raises(CompileError):
        _compile(indexer, expression, "Patient")


def test_every_core_search_parameter_compiles(indexer: ResourceIndexer) -> None:
    statuses = indexer.compile_all()
    assert len(statuses) > 3000
    modes = {status.mode for status in statuses}
    assert modes <= {COMPILED, BOOLEAN, SKIPPED, EMPTY, FALLBACK}
    fallbacks = [(s.code, s.expression) for s in statuses if s.mode == FALLBACK]
    assert fallbacks == []  # every core expression compiles to Python
    assert [s.code for s in statuses if s.mode == BOOLEAN] == ["deceased"]
    skipped = {s.code for s in statuses if s.mode == SKIPPED}
    # no expression: pseudo-parameters, and two extension examples on Patient (age, birthOrderBoolean)
    assert skipped == {
        "_id",
        "_lastUpdated",
        "_text",
        "_content",
        "_query",
        "_filter",
        "near",
        "age",
        "birthOrderBoolean",
    }
    # Known R4 errata: DocumentReference-relationship's components are swapped (a code under a reference
    # definition); the example SearchParameter part-agree is declared on Patient with a DocumentReference path.
    assert {(s.code, s.type) for s in statuses if s.mode == EMPTY} == {
        ("relationship", "composite"),
        ("part-agree", "reference"),
    }
    compiled = [s for s in statuses if s.mode == COMPILED]
    assert {s.type for s in compiled} == {
        "string",
        "token",
        "reference",
        "date",
        "number",
        "quantity",
        "uri",
        "composite",
    }


# -- custom SearchParameters (as profiles/ would add them) --------------------------------------------------------


def _search_parameter(code: str, param_type: str, expression: str) -> dict[str, Any]:
    return {
        "resourceType": "SearchParameter",
        "id": f"test-{code}",
        "url": f"http://example.org/fhir/SearchParameter/test-{code}",
        "name": code,
        "status": "active",
        "code": code,
        "base": ["Patient"],
        "type": param_type,
        "expression": expression,
    }


@pytest.fixture(scope="module")
def custom_indexer(core_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> ResourceIndexer:
    folder = tmp_path_factory.mktemp("profiles")
    parameters = [
        _search_parameter("first-given", "string", "Patient.name.select(given)"),
        _search_parameter("middle-name", "string", "Patient.name.extension('http://example.org/middlename').value"),
        _search_parameter("consent-date", "date", "Patient.extension('http://example.org/consent').value"),
        _search_parameter("has-phone", "token", "Patient.telecom.where(system = 'phone').exists()"),
    ]
    for parameter in parameters:
        (folder / f"SearchParameter-{parameter['id']}.json").write_text(json.dumps(parameter))
    definitions: Definitions = load_definitions([core_dir, folder])
    return ResourceIndexer(definitions)


PATIENT = {
    "resourceType": "Patient",
    "id": "p1",
    "extension": [{"url": "http://example.org/consent", "valueDateTime": "2024-05-01"}],
    "name": [
        {
            "family": "Nordmann",
            "given": ["Kari", "Ås"],
            "extension": [{"url": "http://example.org/middlename", "valueString": "Østby"}],
        }
    ],
    "telecom": [{"system": "phone", "value": "+4712345678"}],
}


def test_custom_parameters_compile_or_fall_back(custom_indexer: ResourceIndexer) -> None:
    statuses = {s.code: s for s in custom_indexer.plan("Patient").status}
    assert statuses["first-given"].mode == FALLBACK
    assert statuses["middle-name"].mode == COMPILED
    assert statuses["consent-date"].mode == COMPILED
    assert statuses["has-phone"].mode == BOOLEAN
    assert [s.code for s in custom_indexer.fallbacks()] == ["first-given"]


def test_custom_parameter_rows(custom_indexer: ResourceIndexer) -> None:
    original = json.dumps(PATIENT, sort_keys=True)
    rows = custom_indexer.rows(PATIENT)
    assert json.dumps(PATIENT, sort_keys=True) == original  # fhirpathpy and the compiled code leave it untouched
    assert [(r.value, r.exact) for r in of(rows, "strings", "first-given")] == [("kari", "Kari"), ("as", "Ås")]
    assert [(r.value, r.exact) for r in of(rows, "strings", "middle-name")] == [("ostby", "Østby")]
    assert [(r.low.isoformat(), r.high.isoformat()) for r in of(rows, "dates", "consent-date")] == [
        ("2024-05-01T00:00:00", "2024-05-02T00:00:00")
    ]
    assert [r.code for r in of(rows, "tokens", "has-phone")] == ["true"]
    assert [r.code for r in of(custom_indexer.rows({"resourceType": "Patient"}), "tokens", "has-phone")] == ["false"]
