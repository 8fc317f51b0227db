"""Plain-dict FHIR R4 resources for the demo data, one small function per resource type."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fhir_server.demo.catalogue import Clinic, Profession
from fhir_server.norway.identifiers import FNR_SYSTEM, HPR_SYSTEM, ORGNR_SYSTEM, RESH_SYSTEM

Resource = dict[str, Any]

CANONICAL_BASE = "https://ryggrad.no/fhir"
REGISTRY_POTENTIAL_URL = f"{CANONICAL_BASE}/StructureDefinition/registry-potential"
REGISTRY_SYSTEM = f"{CANONICAL_BASE}/CodeSystem/registry"
OWNER_SYSTEM = f"{CANONICAL_BASE}/CodeSystem/owner"


def owned_by(resource: Resource, orgnr: str) -> Resource:
    """``resource`` labelled as the unit's (as the unit's EHR would write it, N20)."""
    return {**resource, "meta": {"security": [{"system": OWNER_SYSTEM, "code": orgnr}]}}


APPOINTMENT_ID_SYSTEM = f"{CANONICAL_BASE}/sid/demo-appointment-id"
LOCATION_ID_SYSTEM = f"{CANONICAL_BASE}/sid/demo-location-id"
PRACTITIONER_ROLE_ID_SYSTEM = f"{CANONICAL_BASE}/sid/demo-practitionerrole-id"
HEALTH_PERSONNEL_CATEGORY_SYSTEM = "urn:oid:2.16.578.1.12.4.1.1.9060"


def _ref(full_url: str) -> dict[str, str]:
    return {"reference": full_url}


def _name(family: str, given: str) -> dict[str, Any]:
    return {"use": "official", "text": f"{given} {family}", "family": family, "given": [given]}


def health_trust(name: str, orgnr: str) -> Resource:
    return {
        "resourceType": "Organization",
        "identifier": [{"system": ORGNR_SYSTEM, "value": orgnr}],
        "active": True,
        "name": name,
    }


def clinic_organization(clinic: Clinic, resh: str, orgnr: str, trust_url: str) -> Resource:
    """A registry unit: its RESH id (what the registry counts by) and its own organisasjonsnummer (what its
    users' HelseID tokens name)."""
    return {
        "resourceType": "Organization",
        "identifier": [{"system": RESH_SYSTEM, "value": resh}, {"system": ORGNR_SYSTEM, "value": orgnr}],
        "active": True,
        "name": clinic.name,
        "partOf": _ref(trust_url),
    }


def clinic_location(clinic: Clinic, location_id: str, clinic_url: str) -> Resource:
    return {
        "resourceType": "Location",
        "identifier": [{"system": LOCATION_ID_SYSTEM, "value": location_id}],
        "status": "active",
        "name": clinic.location_name,
        "mode": "instance",
        "managingOrganization": _ref(clinic_url),
    }


def practitioner(hpr: str, family: str, given: str, female: bool, profession: Profession) -> Resource:
    category = {
        "system": HEALTH_PERSONNEL_CATEGORY_SYSTEM,
        "code": profession.code,
        "display": profession.display,
    }
    return {
        "resourceType": "Practitioner",
        "identifier": [{"system": HPR_SYSTEM, "value": hpr}],
        "active": True,
        "name": [_name(family, given)],
        "gender": "female" if female else "male",
        "qualification": [{"code": {"coding": [category], "text": profession.display}}],
    }


def practitioner_role(
    role_id: str, practitioner_url: str, clinic_url: str, location_url: str, profession: Profession
) -> Resource:
    return {
        "resourceType": "PractitionerRole",
        "identifier": [{"system": PRACTITIONER_ROLE_ID_SYSTEM, "value": role_id}],
        "active": True,
        "practitioner": _ref(practitioner_url),
        "organization": _ref(clinic_url),
        "location": [_ref(location_url)],
        "code": [{"text": profession.role_text}],
    }


def patient(fnr: str, family: str, given: str, female: bool, birth: date, address: dict[str, Any]) -> Resource:
    return {
        "resourceType": "Patient",
        "identifier": [{"use": "official", "system": FNR_SYSTEM, "value": fnr}],
        "active": True,
        "name": [_name(family, given)],
        "gender": "female" if female else "male",
        "birthDate": birth.isoformat(),
        "address": [address],
    }


def home_address(street: str, number: int, postal_code: str, city: str, municipality: str) -> dict[str, Any]:
    return {
        "use": "home",
        "type": "physical",
        "line": [f"{street} {number}"],
        "postalCode": postal_code,
        "city": city,
        "district": municipality,
        "country": "NO",
    }


def appointment(
    *,
    appointment_id: str,
    status: str,
    registry: str | None,
    description: str,
    start: datetime,
    end: datetime,
    created: date,
    patient_url: str,
    practitioner_url: str,
    location_url: str,
) -> Resource:
    def participant(url: str) -> dict[str, Any]:
        return {"actor": _ref(url), "required": "required", "status": "accepted"}

    return {
        "resourceType": "Appointment",
        **(
            {
                "extension": [
                    {"url": REGISTRY_POTENTIAL_URL, "valueCoding": {"system": REGISTRY_SYSTEM, "code": registry}}
                ]
            }
            if registry
            else {}
        ),
        "identifier": [{"system": APPOINTMENT_ID_SYSTEM, "value": appointment_id}],
        "status": status,
        "description": description,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "minutesDuration": int((end - start).total_seconds() // 60),
        "created": created.isoformat(),
        "participant": [participant(patient_url), participant(practitioner_url), participant(location_url)],
    }
