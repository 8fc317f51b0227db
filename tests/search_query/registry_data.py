"""Registry-shaped data written as index rows: Organization ← Patient ← Appointment / EpisodeOfCare ← Task,
Observations about the patients, a Questionnaire with responses referring to it by canonical URL."""

from __future__ import annotations

from fhir_server.search.index.normalize import normalize_string
from fhir_server.search.index.references import ReferenceParser
from fhir_server.search.index.rows import ReferenceRow, StringRow, TokenRow, UriRow
from tests.conftest import BASE_URL

FNR = "urn:oid:2.16.578.1.12.4.1.4.1"
PROMS = "http://ryggrad.no/Questionnaire/proms"


def text(param: str, value: str) -> StringRow:
    return StringRow(param, normalize_string(value), value)


def code(param: str, value: str, system: str | None = None) -> TokenRow:
    return TokenRow(param, system, value)


def load(seed) -> None:
    s = seed
    s.add("Organization", "o1", text("name", "Sykehuset Østfold"))
    s.add("Organization", "o2", text("name", "Haukeland universitetssjukehus"))
    s.add("Patient", "p1", text("name", "Kari Søreng"), s.ref("organization", "Organization", "o1"))
    s.add("Patient", "p2", text("name", "Ola Nordmann"), s.ref("organization", "Organization", "o2"))
    s.add("Patient", "p3", text("name", "Kari Deleted"), deleted=True)
    s.add("Group", "g1", code("code", "cohort"))
    s.add("Appointment", "a1", s.ref("patient", "Patient", "p1"), code("status", "booked"))
    s.add("Appointment", "a2", s.ref("patient", "Patient", "p2"), code("status", "cancelled"))
    s.add("Appointment", "a3", s.ref("patient", "Patient", "p3"), code("status", "booked"))
    s.add("EpisodeOfCare", "e1", s.ref("patient", "Patient", "p1"))
    s.add("EpisodeOfCare", "e2", s.ref("patient", "Patient", "p2"))
    s.add("Task", "t1", s.ref("focus", "EpisodeOfCare", "e1"), code("status", "ready"))
    s.add("Task", "t2", s.ref("focus", "EpisodeOfCare", "e2"), code("status", "completed"))
    p1, p2 = s.id("p1"), s.id("p2")
    s.add(
        "Observation",
        "obs1",
        s.ref("subject", "Patient", "p1"),
        s.ref("patient", "Patient", "p1"),
        code("code", "1234"),
    )
    s.add(  # this server's absolute URL
        "Observation",
        "obs2",
        _as_indexed("subject", f"{BASE_URL}/Patient/{p2}"),
        code("code", "1234"),
    )
    s.add(  # another server's Patient with the same id
        "Observation",
        "obs3",
        _as_indexed("subject", f"http://other.org/fhir/Patient/{p1}"),
        code("code", "1234"),
    )
    s.add("Observation", "obs4", ReferenceRow("subject", None, None, None, None, FNR, "12345678901"))
    s.add("Observation", "obs5", s.ref("subject", "Group", "g1"))
    s.add("Observation", "obs6", s.ref("subject", "Patient", "p1", version="2"), code("code", "5678"))
    s.add("Observation", "obs7", code("code", "1234"))
    s.add("Questionnaire", "q1", UriRow("url", PROMS), text("name", "PROMs"))
    s.add("Questionnaire", "q2", UriRow("url", "http://ryggrad.no/Questionnaire/other"), text("name", "Other"))
    s.add(
        "QuestionnaireResponse",
        "qr1",
        ReferenceRow("questionnaire", None, None, PROMS, "2.0"),
        code("status", "completed"),
        s.ref("subject", "Patient", "p1"),
    )
    s.add(
        "QuestionnaireResponse",
        "qr2",
        ReferenceRow("questionnaire", None, None, "http://ryggrad.no/Questionnaire/other", None),
        code("status", "in-progress"),
    )
    s.add("QuestionnaireResponse", "qr3", ReferenceRow("questionnaire", None, None, PROMS, "1.0"))
    s.add("List", "l1", s.ref("item", "Patient", "p1"), s.ref("item", "Observation", "obs2"))


def _as_indexed(param: str, reference: str) -> ReferenceRow:
    """The row the indexer writes for ``reference`` on this server (``BASE_URL``)."""
    parts = ReferenceParser(frozenset({"Patient"}), BASE_URL).row_parts({"reference": reference})
    assert parts is not None
    return ReferenceRow(param, *parts)
