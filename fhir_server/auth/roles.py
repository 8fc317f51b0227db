"""What each role may do at most, whatever its token's scopes grant: the scopes and the role must both allow an
interaction (operations as in ``scopes``: c r u d s). Staff roles act for their own unit (``ownership``);
``registry-admin`` for all of them. Patients are governed by ``patient_scope``, researchers by the research
access rules (denied until then).

=================  ==========================================================================================
``ehr``            an EHR system pushing for its organisation: appointments and what they refer to (patients,
                   practitioners, locations, schedules); reads the episodes and tasks that follow
``clerk``          clerical staff: patients, appointments, episodes, tasks, consents, and paper forms keyed in
                   on a patient's behalf (N4) — no clinical findings
``clinician``      the unit's clinical data; deletes only an episode (the patient declined, N19)
``local-lead``     the unit's registry lead: all of the unit's data, its reports included
``registry-admin`` everything, every unit (each access audited); the only writer of conformance resources
=================  ==========================================================================================

Every staff role reads the shared conformance resources and the directory.
"""

from __future__ import annotations

from fhir_server.auth.ownership import CONFORMANCE_TYPES, DIRECTORY_TYPES

#: role → resource type (``*``: any other type) → the operations allowed.
ROLE_GRANTS: dict[str, dict[str, str]] = {  # registry-admin, patient, researcher: not bounded here
    "local-lead": {"*": "cruds"},
    "clinician": {"*": "crus", "EpisodeOfCare": "cruds", "MeasureReport": "rs"},
    "clerk": {
        **dict.fromkeys(("Patient", "Appointment", "EpisodeOfCare", "Task", "Consent"), "crus"),
        "QuestionnaireResponse": "crus",
    },
    "ehr": {
        **dict.fromkeys(("Appointment", "Schedule", "Slot"), "cruds"),
        **dict.fromkeys(("Patient", "Practitioner", "PractitionerRole", "Location"), "crus"),
        **dict.fromkeys(("EpisodeOfCare", "Task"), "rs"),
        "Subscription": "cruds",  # notifications of what follows its appointments
    },
}

_SHARED_READ = {kind: "rs" for kind in CONFORMANCE_TYPES | DIRECTORY_TYPES}


def role_allows(role: str, resource_type: str, operation: str) -> bool:
    """Whether ``role`` may ever make ``operation`` on ``resource_type`` (``*``: on every type)."""
    grants = ROLE_GRANTS.get(role)
    if grants is None:
        return True  # the registry administration may do anything; patients and researchers have their own rules
    if resource_type == "*":
        return operation in grants.get("*", "")
    allowed = grants.get(resource_type)
    if allowed is None:
        allowed = _SHARED_READ.get(resource_type) or grants.get("*", "")
        if resource_type in CONFORMANCE_TYPES:
            allowed = "rs"  # written by the registry administration only
    return operation in allowed
