"""Owner labels and role bounds as pure functions (the HTTP behaviour is in test_institutions.py)."""

from __future__ import annotations

from fhir_server.auth.ownership import OWNER_SYSTEM, Ownership, owners, with_owners
from fhir_server.auth.roles import role_allows
from fhir_server.norway.identifiers import DNR_SYSTEM, FNR_SYSTEM


def _label(unit: str) -> dict[str, str]:
    return {"system": OWNER_SYSTEM, "code": unit}


def test_a_unit_writes_its_own_label_and_keeps_the_owners_a_resource_has():
    mine = Ownership("111111111")
    other_label = {"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"}
    sent = {"resourceType": "Task", "meta": {"security": [other_label, _label("222222222")]}}
    created = mine.stamp("Task", sent, None)
    assert owners(created) == {"111111111"}
    assert other_label in created["meta"]["security"]  # other labels stay
    shared_before = with_owners({"resourceType": "Patient"}, ["222222222", "111111111"])
    assert owners(mine.stamp("Patient", {"resourceType": "Patient"}, shared_before)) == {"111111111", "222222222"}
    assert mine.stamp("Task", created, created) == created  # stable: stamping twice changes nothing
    # shared types carry no owner; the administration writes labels as given, or keeps the current ones
    assert "meta" not in mine.stamp(
        "Questionnaire", {"resourceType": "Questionnaire", "meta": {"security": [_label("1")]}}, None
    )
    admin = Ownership(None)
    assert owners(admin.stamp("Task", {"resourceType": "Task"}, created)) == {"111111111"}
    assert owners(admin.stamp("Task", with_owners({"resourceType": "Task"}, ["3"]), created)) == {"3"}


def test_what_a_unit_sees_and_may_claim():
    mine = Ownership("111111111")
    assert mine.sees("Task", with_owners({}, ["111111111", "2"])) and not mine.sees("Task", with_owners({}, ["2"]))
    assert mine.sees("Organization", None) and not mine.sees("Task", None)
    assert Ownership(None).sees("Task", None) and Ownership(None).condition("Task") is None
    assert mine.condition("Questionnaire") is None and mine.condition("Task") is not None
    assert mine.claimable("Patient", [("identifier", f"{FNR_SYSTEM}|01010112345")])
    assert mine.claimable("Patient", [("identifier", f"{DNR_SYSTEM}|41010112345")])
    assert not mine.claimable("Patient", [("identifier", "urn:mrn|1")])  # only national identity numbers
    assert not mine.claimable("Patient", [("identifier", "01010112345")])  # with their system
    assert not mine.claimable("Patient", [("identifier", f"{FNR_SYSTEM}|1"), ("name", "x")])
    assert not mine.claimable("Task", [("identifier", f"{FNR_SYSTEM}|1")])


def test_roles_bound_operations_per_type():
    assert role_allows("registry-admin", "Questionnaire", "c")
    for role in ("ehr", "clerk", "clinician", "local-lead"):
        assert role_allows(role, "Questionnaire", "r") and not role_allows(role, "Questionnaire", "u"), role
        assert role_allows(role, "Organization", "s") and not role_allows(role, "Organization", "c"), role
    assert role_allows("ehr", "Appointment", "c") and role_allows("ehr", "Location", "u")
    assert not role_allows("ehr", "QuestionnaireResponse", "r") and not role_allows("ehr", "*", "s")
    assert role_allows("clerk", "QuestionnaireResponse", "c") and not role_allows("clerk", "Observation", "r")
    assert role_allows("clinician", "EpisodeOfCare", "d") and not role_allows("clinician", "Task", "d")
    assert not role_allows("clinician", "MeasureReport", "c") and role_allows("local-lead", "MeasureReport", "c")
    assert role_allows("patient", "Task", "r")  # patients: patient_scope decides
